//! One analysis of a MIL text, shared by every command: parse, verify, check weight references
//! against the files beside the text, then the checks that look across statements (op and type
//! checks, ANE placement).
//!
//! The language server keeps the two halves apart: what [`read`] finds is kept up to date
//! statement by statement, and [`program_checks`] runs again over the patched program.

use mil_ir::{Diagnostic, Program, SourceMap};
use std::path::Path;

/// A text's program with diagnostics about it.
pub struct Analysis {
    /// The program read from the text.
    pub program: Program,
    /// Where its parts are in the text.
    pub source_map: SourceMap,
    /// The diagnostics, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses `text` and runs the checks that look at one statement at a time (plus unique op names);
/// `model_dir` is the folder BLOBFILE paths resolve against (`@model_path`), when the text has a
/// location on disk.
pub fn read(text: &str, model_dir: Option<&Path>) -> Analysis {
    let parse = mil_grammar::parse(text);
    let mut diagnostics = parse.diagnostics;
    diagnostics.extend(mil_ir::verify::verify(&parse.program, &parse.source_map));
    if let Some(dir) = model_dir {
        diagnostics.extend(mil_proto::blob_check::check_blobs(
            &parse.program,
            &parse.source_map,
            dir,
        ));
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    Analysis {
        program: parse.program,
        source_map: parse.source_map,
        diagnostics,
    }
}

/// The checks whose findings depend on more than one statement: op and type checks, ANE placement.
pub fn program_checks(program: &Program, map: &SourceMap) -> Vec<Diagnostic> {
    let mut diagnostics = mil_ane::diagnostics::check(program, map);
    diagnostics.extend(mil_ir::typecheck::check(program, map));
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    diagnostics
}

/// Analyses `text` completely: [`read`], then [`program_checks`].
pub fn analyse(text: &str, model_dir: Option<&Path>) -> Analysis {
    let mut a = read(text, model_dir);
    a.diagnostics.extend(program_checks(&a.program, &a.source_map));
    a.diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    a
}

/// Every diagnostic about `text`, sorted by position (see [`analyse`]).
pub fn diagnostics(text: &str, model_dir: Option<&Path>) -> Vec<Diagnostic> {
    analyse(text, model_dir).diagnostics
}

/// Checks `text` and, when it has no error, compiles it to the package `target`; on failure the
/// error diagnostics (sorted) or the packaging error. Shared by `mil compile` and the language
/// server's `mil.compile`.
pub fn compile(text: &str, model_dir: &Path, target: &Path) -> Result<(), mil_proto::compile::CompileError> {
    use mil_proto::compile::CompileError;
    let read = read(text, Some(model_dir));
    let mut found = read.diagnostics;
    if !mil_ir::diagnostic::has_errors(&found) {
        found.extend(mil_ir::typecheck::check(&read.program, &read.source_map));
    }
    if !mil_ir::diagnostic::has_errors(&found) {
        found = match mil_proto::compile::compile(&read.program, &read.source_map, model_dir, target) {
            Ok(_) => return Ok(()),
            Err(CompileError::Program(found)) => found,
            Err(e) => return Err(e),
        };
    }
    found.retain(|d| d.severity == mil_ir::Severity::Error);
    found.sort_by_key(|d| (d.span.start, d.span.end));
    Err(CompileError::Program(found))
}
