//! `workspace/executeCommand`: `mil.compile` writes the document's .mlpackage into the output
//! folder (with progress and a message) and `mil.placementReport` writes the HTML placement report
//! there and returns its path. Both take the document's URI as their argument. Compile-on-save
//! runs `mil.compile` too. `mil.run` runs the document with the reference interpreter (with
//! progress) and returns each output's statistics and the table `mil run` prints; its options
//! follow the URI: `{ "function": NAME, "inputs": ["NAME=PATH.npy", "PATH.npz"], "seed": N }`.
//! `mil.w8a8` quantises the document to W8A8 with the samples of the `mil.calibrationFolder`
//! setting (progress per sample) and writes `NAME.w8a8.mil` into the output folder. `mil.quantize`
//! (`{uri, mode, weight}`, from a quantisation code action) writes the new weights beside the
//! document and asks the client to apply the edit.

use crate::lsp::config::Config;
use crate::lsp::open_documents::{Documents, OpenDocument};
use crate::lsp::placement;
use crate::lsp::progress::Work;
use crate::lsp::server::Shared;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, LSPAny, Uri};

/// Compile the document to an .mlpackage in the output folder.
pub const COMPILE: &str = "mil.compile";
/// Write the placement report of the document and return its path.
pub const PLACEMENT_REPORT: &str = "mil.placementReport";
/// Run the document's function with the reference interpreter and report its outputs.
pub const RUN: &str = "mil.run";

/// Quantise the document to W8A8, calibrated on the samples of `mil.calibrationFolder`.
pub const W8A8: &str = "mil.w8a8";

/// Quantise the document (or one weight) as a code action chose.
pub const QUANTIZE: &str = "mil.quantize";

/// The commands the server runs.
pub fn available() -> Vec<String> {
    vec![
        COMPILE.into(),
        PLACEMENT_REPORT.into(),
        RUN.into(),
        W8A8.into(),
        QUANTIZE.into(),
    ]
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
        RUN => run(&doc, run_request(params.arguments.get(1)), shared)
            .await
            .map(Some),
        QUANTIZE => quantize(&doc, params.arguments.first(), shared).await.map(Some),
        W8A8 => {
            let (path, message) = w8a8(&doc, shared).await?;
            Ok(Some(serde_json::json!({ "path": path, "message": message })))
        }
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

/// Shows `message` to the user (as an error when the command failed) and returns it with
/// `target`'s path, or as the command's failure.
async fn conclude(shared: &Shared, ok: bool, target: &Path, message: String) -> Result<(String, String)> {
    let kind = if ok {
        tower_lsp_server::ls_types::MessageType::INFO
    } else {
        tower_lsp_server::ls_types::MessageType::ERROR
    };
    shared.client.show_message(kind, &message).await;
    if ok {
        Ok((target.display().to_string(), message))
    } else {
        Err(failure(message))
    }
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
    let token = format!("mil.compile/{}", doc.uri.as_str());
    let work = Work::begin(&shared.client, token, "Compiling", stem(doc)).await;
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
    work.finish(&message).await;
    conclude(shared, outcome.is_ok(), &target, message).await
}

/// The run options of `mil.run`'s second argument (all optional).
fn run_request(options: Option<&LSPAny>) -> mil_ide::run::Request {
    let get = |key: &str| options.and_then(|o| o.get(key));
    mil_ide::run::Request {
        function: get("function").and_then(|f| f.as_str()).map(String::from),
        inputs: get("inputs")
            .and_then(|i| i.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        seed: get("seed").and_then(|s| s.as_u64()).unwrap_or(0),
    }
}

/// Runs `doc`'s current text as `request` asks, reporting progress; returns the function run, the
/// inputs made up, each output's statistics, the table and the time taken.
async fn run(
    doc: &Arc<OpenDocument>,
    request: mil_ide::run::Request,
    shared: &Arc<Shared>,
) -> Result<LSPAny> {
    // A token per run: a client may still hold the last one's.
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let token = format!("mil.run/{n}/{}", doc.uri.as_str());
    let work = Work::begin(&shared.client, token, "Running", stem(doc)).await;
    let text = doc.snapshot().0.to_string();
    let model_dir = doc.model_dir.clone();
    let outcome =
        tokio::task::spawn_blocking(move || mil_ide::run::run(&text, model_dir.as_deref(), &request))
            .await
            .map_err(|e| failure(format!("the run failed: {e}")))?;
    let message = match &outcome {
        Ok(o) => format!(
            "ran {} in {:.1} ms: {} output(s)",
            o.function,
            o.elapsed.as_secs_f64() * 1e3,
            o.outputs.len()
        ),
        Err(e) => e.clone(),
    };
    work.finish(&message).await;
    let outcome = outcome.map_err(failure)?;
    let table = mil_ide::run::table(&outcome.outputs);
    shared
        .client
        .log_message(
            tower_lsp_server::ls_types::MessageType::INFO,
            format!("{message}\n{table}"),
        )
        .await;
    let outputs: Vec<LSPAny> = outcome
        .outputs
        .iter()
        .map(|s| {
            let (min, max, mean) = s
                .min_max_mean
                .map_or((None, None, None), |(a, b, c)| (Some(a), Some(b), Some(c)));
            serde_json::json!({
                "name": s.name, "shape": s.shape, "dtype": s.dtype,
                "min": min, "max": max, "mean": mean, "nonFinite": s.non_finite,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "function": outcome.function,
        "madeUp": outcome.made_up,
        "outputs": outputs,
        "table": table,
        "milliseconds": outcome.elapsed.as_secs_f64() * 1e3,
        "message": message,
    }))
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

/// Quantises `doc`'s current text to W8A8 ([`mil_ide::w8a8`]) into
/// `<output folder>/<name>.w8a8.mil`, calibrated on the samples of `mil.calibrationFolder` (relative
/// to the workspace), reporting progress per sample; returns the path and a summary.
pub async fn w8a8(doc: &Arc<OpenDocument>, shared: &Arc<Shared>) -> Result<(String, String)> {
    let config = shared.config_for(doc);
    let Some(folder) = config.calibration_folder.clone() else {
        return Err(failure(
            "set mil.calibrationFolder to a folder of calibration samples (.npz with an array per input, or .npy for a one-input model)",
        ));
    };
    let model_dir = doc
        .model_dir
        .clone()
        .ok_or_else(|| failure("the document is not on disk: BLOBFILE paths need its folder"))?;
    let calibration = shared
        .root()
        .or_else(|| doc.model_dir.clone())
        .unwrap_or_default()
        .join(folder);
    let target = output_dir(doc, &config, shared)?.join(format!("{}.w8a8.mil", stem(doc)));
    let token = format!("mil.w8a8/{}", doc.uri.as_str());
    let work = Work::begin_bounded(&shared.client, token, "Quantizing to W8A8", "calibrating").await;
    let text = doc.snapshot().0.to_string();
    let out = target.clone();
    let (sender, mut done) = tokio::sync::mpsc::unbounded_channel();
    let job = tokio::task::spawn_blocking(move || {
        mil_ide::w8a8::w8a8(&text, &model_dir, &calibration, &out, &config, &mut |n, total| {
            let _ = sender.send((n, total));
        })
    });
    while let Some((n, total)) = done.recv().await {
        let percent = (n * 100 / total.max(1)) as u32;
        work.report(format!("calibrated on {n}/{total} samples"), percent)
            .await;
    }
    let outcome = job
        .await
        .map_err(|e| failure(format!("quantizing failed: {e}")))?;
    let message = match &outcome {
        Ok(o) => o.summary(),
        Err(e) => format!("not quantized: {e}"),
    };
    work.finish(&message).await;
    conclude(shared, outcome.is_ok(), &target, message).await
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
