//! MIL text: lexer, grammar and lowering into the shared IR.
//!
//! [`parse`] never fails: it returns the program it could read, its source map, and every
//! problem found on the way as a diagnostic. Syntax errors are recovered from at statement
//! boundaries, so one pass reports all of them and still analyses the statements around them.

pub mod ast;
pub mod lexer;
mod lower;
mod syntax_error;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens, unused_imports, missing_docs)]
    grammar,
    "/mil.rs"
);

use mil_ir::{Diagnostic, Program, SourceMap, codes};

/// What parsing a text yields.
#[derive(Debug)]
pub struct Parse {
    /// The program (empty when not even its outline could be read).
    pub program: Program,
    /// Where each part of the program is in the text.
    pub source_map: SourceMap,
    /// Every lexical, syntax and lowering problem, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses MIL text into the IR.
pub fn parse(text: &str) -> Parse {
    let mut lexer = lexer::Lexer::new(text);
    let mut lowerer = lower::Lowerer::new(text, std::rc::Rc::clone(&lexer.comments));
    let mut recovered = Vec::new();
    let result = grammar::ProgramParser::new().parse(text, &mut recovered, &mut lowerer, &mut lexer);
    let (program, source_map, lowered) = lowerer.finish(text.len());
    let mut diagnostics = lexer.diagnostics;
    let comments = lexer.comments.borrow();
    if let Some(&first) = comments.first() {
        let n = comments.len();
        diagnostics.push(Diagnostic::new(
            codes::COMMENT,
            first,
            format!(
                "this file has {n} comment{}: Core ML's MIL text has none; mil fmt keeps them, compiling drops them",
                if n == 1 { "" } else { "s" }
            ),
        ));
    }
    diagnostics.extend(recovered.iter().map(|r| syntax_error::diagnostic(text, &r.error)));
    if let Err(e) = &result {
        diagnostics.push(syntax_error::diagnostic(text, e));
    }
    diagnostics.extend(lowered);
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Parse {
        program,
        source_map,
        diagnostics,
    }
}
