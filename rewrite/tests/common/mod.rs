//! What the tests share: reading a program and finding its op.

#![allow(
    dead_code,
    reason = "each test binary is compiled with this module and uses a part of it"
)]

use mil_ir::{OpId, Program, Severity, SourceMap};

/// Parses `text`, requiring no error.
pub fn parse(text: &str) -> (Program, SourceMap) {
    let parsed = mil_grammar::parse(text);
    let errors: Vec<_> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    (parsed.program, parsed.source_map)
}

/// The first op of `kind` in `p`'s first function.
pub fn find(p: &Program, kind: &str) -> OpId {
    let f = &p.functions[0];
    f.walk_ops()
        .into_iter()
        .find(|&op| f.op(op).kind == kind)
        .expect("the op is in the program")
}
