//! `workspace/executeCommand`: `mil.compile` writes the document's .mlpackage into the output
//! folder (with progress and a message) and `mil.placementReport` writes the HTML placement report
//! there and returns its path. Both take the document's URI as their argument. Compile-on-save
//! runs `mil.compile` too. `mil.quantize` (`{uri, mode, weight}`, from a quantisation code action)
//! writes the new weights beside the document and asks the client to apply the edit.

use crate::lsp::config::Config;
use crate::lsp::open_documents::{Documents, OpenDocument};
use crate::lsp::placement;
use crate::lsp::server::Shared;
use std::path::PathBuf;
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, LSPAny, NumberOrString, ProgressToken, Uri};

/// Compile the document to an .mlpackage in the output folder.
pub const COMPILE: &str = "mil.compile";
/// Write the placement report of the document and return its path.
pub const PLACEMENT_REPORT: &str = "mil.placementReport";
/// Quantise the document (or one weight) as a code action chose.
pub const QUANTIZE: &str = "mil.quantize";

/// The commands the server runs.
pub fn available() -> Vec<String> {
    vec![COMPILE.into(), PLACEMENT_REPORT.into(), QUANTIZE.into()]
}

fn failure(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: message.into().into(),
        data: None,
    }
}

/// Runs a command.
pub async fn execute(
    params: &ExecuteCommandParams,
    docs: &Documents,
    shared: &Arc<Shared>,
) -> Result<Option<LSPAny>> {
    let uri: Option<Uri> = params
        .arguments
        .first()
        .and_then(|a| a.as_str().or_else(|| a.get("uri")?.as_str()))
        .and_then(|s| s.parse().ok());
    let doc = uri
        .as_ref()
        .and_then(|u| docs.get(u))
        .ok_or_else(|| failure(format!("{}: pass the URI of an open document", params.command)))?;
    match params.command.as_str() {
        COMPILE => {
            let (path, message) = compile(&doc, shared).await?;
            Ok(Some(serde_json::json!({ "path": path, "message": message })))
        }
        PLACEMENT_REPORT => placement_report(&doc, shared).map(|p| Some(serde_json::json!(p))),
        QUANTIZE => quantize(&doc, params.arguments.first(), shared).await.map(Some),
        other => Err(Error {
            code: ErrorCode::MethodNotFound,
            message: format!("unknown command `{other}`").into(),
            data: None,
        }),
    }
}

/// The folder outputs of `doc` go to: the configured folder, relative to the workspace (or to the
/// document's folder without one), created if need be.
fn output_dir(doc: &OpenDocument, config: &Config, shared: &Shared) -> Result<PathBuf> {
    let base = shared
        .root()
        .or_else(|| doc.model_dir.clone())
        .ok_or_else(|| failure("the document is not on disk: save it first"))?;
    let dir = base.join(&config.output_folder);
    std::fs::create_dir_all(&dir).map_err(|e| failure(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

fn stem(doc: &OpenDocument) -> String {
    doc.uri
        .to_file_path()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "model".into())
}

/// Compiles `doc`'s current text into `<output folder>/<name>.mlpackage`, reporting progress;
/// returns the package's path and a message.
pub async fn compile(doc: &Arc<OpenDocument>, shared: &Arc<Shared>) -> Result<(String, String)> {
    let config = shared.config_for(doc);
    let model_dir = doc
        .model_dir
        .clone()
        .ok_or_else(|| failure("the document is not on disk: BLOBFILE paths need its folder"))?;
    let target = output_dir(doc, &config, shared)?.join(format!("{}.mlpackage", stem(doc)));
    let token = ProgressToken::from(NumberOrString::String(format!(
        "mil.compile/{}",
        doc.uri.as_str()
    )));
    let progress = if shared
        .client
        .create_work_done_progress(token.clone())
        .await
        .is_ok()
    {
        Some(
            shared
                .client
                .progress(token, "Compiling")
                .with_message(stem(doc))
                .begin()
                .await,
        )
    } else {
        None
    };
    let text = doc.snapshot().0.to_string();
    let out = target.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        crate::analysis::compile(&text, &model_dir, &out, &config).map_err(|e| match e {
            mil_proto::compile::CompileError::Program(errors) => errors.len(),
            mil_proto::compile::CompileError::Package(_) => 0,
        })
    })
    .await
    .map_err(|e| failure(format!("compiling failed: {e}")))?;
    let message = match &outcome {
        Ok(_) => format!("compiled {}", target.display()),
        Err(0) => format!("cannot write {}", target.display()),
        Err(n) => format!("not compiled: the program has {n} error(s)"),
    };
    if let Some(p) = progress {
        p.finish_with_message(message.clone()).await;
    }
    let kind = if outcome.is_ok() {
        tower_lsp_server::ls_types::MessageType::INFO
    } else {
        tower_lsp_server::ls_types::MessageType::ERROR
    };
    shared.client.show_message(kind, &message).await;
    match outcome {
        Ok(_) => Ok((target.display().to_string(), message)),
        Err(_) => Err(failure(message)),
    }
}

/// Writes the HTML placement report of `doc` into the output folder; returns its path.
fn placement_report(doc: &OpenDocument, shared: &Shared) -> Result<String> {
    let config = shared.config_for(doc);
    let path = output_dir(doc, &config, shared)?.join(format!("{}.placement.html", stem(doc)));
    let model = doc.model();
    let placed = placement::plan(&model.program, &config);
    let page = mil_ane::html::page(doc.uri.as_str(), config.target(), &placed);
    std::fs::write(&path, page).map_err(|e| failure(format!("cannot write {}: {e}", path.display())))?;
    Ok(path.display().to_string())
}

/// Quantises `doc` as `argument` (`{mode, weight}`) says: the new weights go to a new folder
/// `NAME.MODE[.N].weights/weight.bin` beside the document, written through a temporary file renamed
/// into place, and then the client is asked to apply the edit (the folder is removed if it does
/// not). Returns what was quantised.
async fn quantize(
    doc: &Arc<OpenDocument>,
    argument: Option<&LSPAny>,
    shared: &Arc<Shared>,
) -> Result<LSPAny> {
    use mil_ide::quant_actions::{Mode, QuantizeCommand, quantize};
    let mode = argument
        .and_then(|a| a.get("mode")?.as_str())
        .and_then(Mode::parse)
        .ok_or_else(|| failure("mil.quantize: pass {uri, mode, weight}"))?;
    let weight = argument.and_then(|a| a.get("weight")?.as_str()).map(String::from);
    let folder = doc
        .model_dir
        .clone()
        .ok_or_else(|| failure("the document is not on disk: save it first"))?;
    let name = (0..)
        .map(|n| match n {
            0 => format!("{}.{}.weights", stem(doc), mode.name()),
            n => format!("{}.{}.{n}.weights", stem(doc), mode.name()),
        })
        .find(|name| !folder.join(name).exists())
        .expect("some name is free");
    let reference = format!(
        "{}{name}/{}",
        mil_proto::weights::MODEL_PATH_PREFIX,
        mil_proto::package::WEIGHT_FILE
    );
    let dir = folder.join(&name);
    let (edit, q) = {
        let model = doc.whole_model();
        let q = quantize(&model, &QuantizeCommand { mode, weight }, &reference).map_err(failure)?;
        if let Some(bytes) = &q.weight_file {
            write_weights(&dir, bytes)
                .map_err(|e| failure(format!("cannot write {}: {e}", dir.display())))?;
        }
        let config = shared.config_for(doc);
        let caps = shared.caps();
        let cx = crate::lsp::server::Ctx {
            uri: &doc.uri,
            enc: shared.encoding(),
            config: &config,
            caps: &caps,
        };
        let edits = q.edits.clone();
        (crate::lsp::to_proto::workspace_edit(&model, &cx, edits), q)
    };
    let applied = shared
        .client
        .apply_edit(edit)
        .await
        .map(|r| r.applied)
        .unwrap_or(false);
    if !applied {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(failure("the client did not apply the edit; nothing was written"));
    }
    let weights: Vec<LSPAny> = (q.done.iter())
        .map(|w| {
            serde_json::json!({
                "name": w.name,
                "bytesBefore": w.bytes_before,
                "bytesAfter": w.bytes_after,
                "snrDb": w.error.snr_db.is_finite().then_some(w.error.snr_db),
            })
        })
        .collect();
    Ok(
        serde_json::json!({ "weights": weights, "weightFile": q.weight_file.map(|_| dir.join(mil_proto::package::WEIGHT_FILE)) }),
    )
}

/// Writes `bytes` to `dir/weight.bin` (a new folder) through a temporary file renamed into place.
fn write_weights(dir: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut staged = tempfile::NamedTempFile::new_in(dir)?;
    staged.write_all(bytes)?;
    staged.as_file().sync_all()?;
    staged
        .persist(dir.join(mil_proto::package::WEIGHT_FILE))
        .map_err(|e| e.error)?;
    Ok(())
}
