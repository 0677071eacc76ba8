//! One analysis of a MIL text, shared by every command: parse, verify, and check weight references
//! against the files beside the text.

use mil_ir::Diagnostic;
use std::path::Path;

/// Every diagnostic about `text`, sorted by position; `model_dir` is the folder BLOBFILE paths
/// resolve against (`@model_path`), when the text has a location on disk.
pub fn diagnostics(text: &str, model_dir: Option<&Path>) -> Vec<Diagnostic> {
    let parse = mil_grammar::parse(text);
    let mut diagnostics = parse.diagnostics;
    diagnostics.extend(mil_ir::verify::verify(&parse.program, &parse.source_map));
    diagnostics.extend(mil_ane::diagnostics::check(&parse.program, &parse.source_map));
    diagnostics.extend(mil_ir::typecheck::check(&parse.program, &parse.source_map));
    if let Some(dir) = model_dir {
        diagnostics.extend(mil_proto::blob_check::check_blobs(
            &parse.program,
            &parse.source_map,
            dir,
        ));
    }
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
    diagnostics
}
