//! MIL text: lexer, grammar and lowering into the shared IR.
