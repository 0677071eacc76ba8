//! The analysis worker of one document: it waits for edits, brings the model up to date off the
//! request path (patching statement by statement, or rebuilding), and publishes diagnostics only
//! for the version the client has now. Edits that arrive while it works are taken together on its
//! next round, so a burst of typing costs one analysis, and results that are stale by the time
//! they are ready are kept as the base for the next round but never published.

use crate::lsp::diagnostics;
use crate::lsp::documents::{Document, Edit};
use crate::lsp::model::Model;
use crate::lsp::server::Shared;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tower_lsp_server::ls_types::MessageType;

/// Runs the worker of `doc` until the document is closed.
pub async fn run(doc: Arc<Document>, shared: Arc<Shared>) {
    let mut woken = doc.changed.subscribe();
    woken.mark_changed();
    while woken.changed().await.is_ok() {
        if doc.closed.load(Ordering::Acquire) {
            return;
        }
        let (edits, rope, version) = {
            let mut t = doc.text.lock().unwrap_or_else(|e| e.into_inner());
            (std::mem::take(&mut t.pending), t.rope.clone(), t.version)
        };
        if !edits.is_empty() || doc.model().version != version {
            let max = shared.config().max_document_bytes;
            let d = doc.clone();
            let started = std::time::Instant::now();
            let outcome = tokio::task::spawn_blocking(move || update(&d, &edits, rope, version, max)).await;
            match outcome {
                Ok(how) => shared.log(
                    MessageType::LOG,
                    format!(
                        "analysed {} v{version} ({how}) in {:.1} ms",
                        doc.uri.as_str(),
                        started.elapsed().as_secs_f64() * 1e3
                    ),
                ),
                Err(e) => {
                    shared.log(
                        MessageType::ERROR,
                        format!("analysis of {} v{version} failed: {e}", doc.uri.as_str()),
                    );
                    continue;
                }
            }
            doc.analysed.send_replace(version);
        }
        publish(&doc, &shared).await;
    }
}

/// Brings the model of `doc` to `version`: patched in place under the write lock when every edit
/// stays inside one statement, else rebuilt without holding the lock and swapped in.
fn update(doc: &Document, edits: &[Edit], rope: ropey::Rope, version: i32, max_bytes: usize) -> &'static str {
    {
        let mut model = doc.model.write().unwrap_or_else(|e| e.into_inner());
        if model.version != i32::MIN && rope.len_bytes() <= max_bytes && model.patch(edits, version, &rope) {
            return "statements re-parsed";
        }
    }
    let fresh = if rope.len_bytes() > max_bytes {
        let mut m = Model::empty(doc.model_dir.clone());
        m.version = version;
        m.rope = rope;
        m
    } else {
        Model::build(version, rope, doc.model_dir.as_deref())
    };
    *doc.model.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    "full analysis"
}

/// Publishes the model's diagnostics if it is the version the client has.
async fn publish(doc: &Document, shared: &Shared) {
    let current = doc.snapshot_version();
    let list = {
        let model = doc.model();
        if model.version != current {
            return;
        }
        if model.rope.len_bytes() > shared.config().max_document_bytes {
            shared.log(
                MessageType::WARNING,
                format!(
                    "{} is larger than maxDocumentBytes: not analysed",
                    doc.uri.as_str()
                ),
            );
        }
        diagnostics::to_lsp(&model, &doc.uri, &shared.config(), shared.encoding())
    };
    shared
        .client
        .publish_diagnostics(doc.uri.clone(), list, Some(current))
        .await;
}
