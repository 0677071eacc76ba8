//! MIL text: lexer, grammar and lowering into the shared IR.
//!
//! [`parse`] never fails: it returns the program it could read, its source map, and every
//! problem found on the way as a diagnostic. Syntax errors are recovered from at statement
//! boundaries, so one pass reports all of them and still analyses the statements around them.

pub mod ast;
pub mod lexer;
mod lower;
mod sink;
mod suggest;
mod syntax_error;

pub use suggest::{NameIndex, suggestion};

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

/// Texts at least this long are lowered on a second thread while they are parsed; below it,
/// starting a thread costs more than it saves.
const PIPELINE_FROM: usize = 256 * 1024;

/// Parses MIL text into the IR.
pub fn parse(text: &str) -> Parse {
    parse_with(text, text.len() >= PIPELINE_FROM, true)
}

/// Parses MIL text as [`parse`] does, but the diagnostic of an undefined name says nothing of the
/// names it may have meant: for a caller that reads a few statements of a larger program on their
/// own and resolves their names itself (finding a suggestion for every name defined elsewhere
/// would be most of the work).
pub fn parse_fragment(text: &str) -> Parse {
    parse_with(text, text.len() >= PIPELINE_FROM, false)
}

/// Parses MIL text into the IR, lowering it on a second thread when `pipelined`, with "did you
/// mean" suggestions for undefined names when `suggest`.
fn parse_with(text: &str, pipelined: bool, suggest: bool) -> Parse {
    let mut lexer = lexer::Lexer::new(text);
    let mut recovered = Vec::new();
    let comments = std::sync::Arc::clone(&lexer.comments);
    let parser = grammar::ProgramParser::new();
    let (result, (program, source_map, lowered)) = if !pipelined {
        let lowerer = lower::Lowerer::new(text, comments, suggest);
        let mut sink = sink::Sink::direct(lowerer, lexer.items());
        let result = parser.parse(text, &mut recovered, &mut sink, &mut lexer);
        let lowerer = sink.into_lowerer().expect("the sink stays direct");
        (result, lowerer.finish(text.len()))
    } else {
        std::thread::scope(|scope| {
            let (to, from) = std::sync::mpsc::sync_channel::<sink::Batch>(16);
            let lowering = scope.spawn(move || {
                let mut lowerer = lower::Lowerer::new(text, comments, suggest);
                for batch in from {
                    for event in batch.events {
                        lowerer.apply(event, &batch.items);
                    }
                }
                lowerer.finish(text.len())
            });
            let mut sink = sink::Sink::channel(to, lexer.items());
            let result = parser.parse(text, &mut recovered, &mut sink, &mut lexer);
            sink.flush();
            drop(sink);
            match lowering.join() {
                Ok(lowered) => (result, lowered),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    };
    let mut diagnostics = lexer.diagnostics;
    let comments = lexer
        .comments
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
    diagnostics.extend(recovered);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowering on a second thread changes nothing: the same program, source map and diagnostics,
    /// on a text with comments, syntax and lowering errors, several functions and nested blocks.
    #[test]
    fn the_pipelined_parse_equals_the_direct_one() {
        let mut text =
            String::from("program(1.3)\n// header\n{\n    func main<ios18>(tensor<fp16, [1]> x) {\n");
        for i in 0..600 {
            text.push_str(&format!(
                "        // layer {i}\n        tensor<fp16, [1]> r{i} = relu(x = x)[name = string(\"r{i}\")];\n"
            ));
            match i % 100 {
                7 => text.push_str("        tensor<fp16, [1]> bad = relu(x = x))[name = string(\"b\")];\n"),
                8 => text.push_str("        tensor<int32, [2]> c = const()[name = string(\"c\"), val = tensor<int32, [2]>([1, 2, 3])];\n"),
                9 => text.push_str(
                    "        tensor<fp16, [1]> w = cond(pred = p)[name = string(\"w\")] block() {\n            tensor<fp16, [1]> t = relu(x = x)[name = string(\"t\")];\n        } -> (t) block() {\n        } -> (x);\n",
                ),
                _ => {}
            }
        }
        text.push_str("    } -> (r599);\n    func other<ios17>() {\n        tensor<fp16, [1]> y = relu(x = nothing)[name = string(\"y\")];\n    } -> (y);\n}\n");
        let direct = parse_with(&text, false, true);
        let pipelined = parse_with(&text, true, true);
        assert!(direct.diagnostics.len() > 10, "{:?}", direct.diagnostics);
        assert_eq!(direct.program, pipelined.program);
        assert_eq!(
            format!("{:?}", direct.source_map),
            format!("{:?}", pipelined.source_map)
        );
        assert_eq!(
            format!("{:?}", direct.diagnostics),
            format!("{:?}", pipelined.diagnostics)
        );
    }
}
