//! `workspace/executeCommand`. `mil.compile` (write the .mlpackage, with progress) and
//! `mil.placementReport` (write the HTML report, return its path) are named here and answered
//! with an error saying what they wait for until the compiler (IR → Model.proto) and the ANE
//! analysis land; [`available`] lists only the commands that work, so clients do not offer the
//! others.

use crate::lsp::documents::{Document, Documents};
use crate::lsp::server::Shared;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, LSPAny};

/// Compile the document to an .mlpackage in the output folder.
pub const COMPILE: &str = "mil.compile";
/// Write the placement report of the document and return its path.
pub const PLACEMENT_REPORT: &str = "mil.placementReport";

/// The commands the server can run now.
pub fn available() -> Vec<String> {
    Vec::new()
}

fn not_yet(command: &str, waits_for: &str) -> Error {
    Error {
        code: ErrorCode::MethodNotFound,
        message: format!("{command} is not available yet: it needs {waits_for}").into(),
        data: None,
    }
}

/// Runs a command.
pub async fn execute(
    params: &ExecuteCommandParams,
    _docs: &Documents,
    _shared: &Shared,
) -> Result<Option<LSPAny>> {
    match params.command.as_str() {
        COMPILE => Err(not_yet(COMPILE, "the compiler (mil compile)")),
        PLACEMENT_REPORT => Err(not_yet(
            PLACEMENT_REPORT,
            "the ANE placement analysis (mil placement)",
        )),
        other => Err(Error {
            code: ErrorCode::MethodNotFound,
            message: format!("unknown command `{other}`").into(),
            data: None,
        }),
    }
}

/// Compiles `doc` (compile-on-save); the message to log on success.
pub async fn compile(_doc: &Document, _shared: &Shared) -> Result<String> {
    Err(not_yet(COMPILE, "the compiler (mil compile)"))
}
