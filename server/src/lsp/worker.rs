//! The analysis worker of one document: it waits for edits, brings the model up to date off the
//! request path (patching statement by statement, or rebuilding), and publishes diagnostics only
//! for the version the client has then. Edits that arrive while it works are taken together on
//! its next round, so a burst of typing costs one analysis, and results that are stale by the time
//! they are ready are kept as the base for the next round but never published.
//!
//! Diagnostics leave through one channel per document, in order, as soon as they are ready: a
//! patch sends them before it moves the spans after the edit ([`Model::finish`]). Those moves are
//! made once typing pauses for [`SPAN_MOVE_DELAY`] (or at once when a request needs the source
//! map, [`mil_ide::documents::Document::whole_model`]): edits typed in one statement until then add up to one move, and
//! an edit and its undo to none.

use crate::lsp::config::Config;
use crate::lsp::model::Model;
use crate::lsp::open_documents::OpenDocument;
use crate::lsp::server::Shared;
use crate::lsp::to_proto;
use mil_ide::documents::Edit;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tower_lsp_server::ls_types::{Diagnostic, MessageType};

/// How long the worker waits for more edits before it makes the span moves a patch left owed.
const SPAN_MOVE_DELAY: std::time::Duration = std::time::Duration::from_millis(150);

/// Diagnostics ready to publish, with the version they belong to.
type Publication = (Vec<Diagnostic>, i32);

/// Runs the worker of `doc` until the document is closed.
pub async fn run(doc: Arc<OpenDocument>, shared: Arc<Shared>) {
    let (tx, mut rx) = unbounded_channel::<Publication>();
    let (client, uri) = (shared.client.clone(), doc.uri.clone());
    tokio::spawn(async move {
        while let Some((list, version)) = rx.recv().await {
            client.publish_diagnostics(uri.clone(), list, Some(version)).await;
        }
    });
    let mut woken = doc.changed.subscribe();
    woken.mark_changed();
    loop {
        let owed = doc.model().deferred_shift.is_some();
        let changed = if owed {
            match tokio::time::timeout(SPAN_MOVE_DELAY, woken.changed()).await {
                Ok(changed) => changed,
                Err(_) => {
                    // Typing paused: pay the span moves off the request path.
                    let d = doc.clone();
                    let _ = tokio::task::spawn_blocking(move || d.whole_model().version).await;
                    continue;
                }
            }
        } else {
            woken.changed().await
        };
        if changed.is_err() || doc.closed.load(Ordering::Acquire) {
            return;
        }
        let (edits, rope, version) = {
            let mut t = doc.text.lock().unwrap_or_else(|e| e.into_inner());
            (std::mem::take(&mut t.pending), t.rope.clone(), t.version)
        };
        let (d, s, tx) = (doc.clone(), shared.clone(), tx.clone());
        let started = std::time::Instant::now();
        let outcome = tokio::task::spawn_blocking(move || update(&d, &s, &tx, edits, rope, version)).await;
        match outcome {
            Ok(how) => shared.log(
                MessageType::LOG,
                format!(
                    "analysed {} v{version} ({how}) in {:.1} ms",
                    doc.uri.as_str(),
                    started.elapsed().as_secs_f64() * 1e3
                ),
            ),
            Err(e) => shared.log(
                MessageType::ERROR,
                format!("analysis of {} v{version} failed: {e}", doc.uri.as_str()),
            ),
        }
        doc.analysed.send_replace(version);
    }
}

/// Brings the model of `doc` to `version` and sends its diagnostics if the client is still at
/// that version: patched in place under the write lock when every edit stays inside one
/// statement, else rebuilt without holding the lock and swapped in.
fn update(
    doc: &OpenDocument,
    shared: &Shared,
    tx: &UnboundedSender<Publication>,
    edits: Vec<Edit>,
    rope: ropey::Rope,
    version: i32,
) -> &'static str {
    let config = shared.config_for(doc);
    let (max_bytes, target) = (config.max_document_bytes, config.target());
    {
        let mut model = doc.model.write().unwrap_or_else(|e| e.into_inner());
        // A model analysed for another chip or other compute units is analysed again.
        let same_target = model.target == target;
        if same_target && model.version == version && edits.is_empty() {
            model.finish();
            publish(doc, &config, shared, tx, &model);
            return "unchanged";
        }
        if same_target
            && model.version != i32::MIN
            && rope.len_bytes() <= max_bytes
            && model.patch(&edits, version, &rope)
        {
            // The span moves add up while edits keep coming; they are paid once typing pauses.
            publish(doc, &config, shared, tx, &model);
            return "statements re-parsed";
        }
        // A patch that gave up half-way leaves nothing owed to readers of the old model.
        model.finish();
    }
    let fresh = if rope.len_bytes() > max_bytes {
        shared.log(
            MessageType::WARNING,
            format!(
                "{} is larger than maxDocumentBytes: not analysed",
                doc.uri.as_str()
            ),
        );
        let mut m = Model::empty(doc.model_dir.clone(), target);
        m.version = version;
        m.rope = rope;
        m
    } else {
        let text = whole_text(edits, &rope);
        Model::build(version, &text, rope, doc.model_dir.as_deref(), target)
    };
    publish(doc, &config, shared, tx, &fresh);
    *doc.model.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    "full analysis"
}

/// The text `rope` holds, as one string: the client's own when the last edit sent the whole text
/// (on open, a 25 MB document is then not copied out of the rope again), else a copy of the rope.
fn whole_text(edits: Vec<Edit>, rope: &ropey::Rope) -> String {
    match edits.into_iter().last() {
        Some(Edit::Full(text)) => text,
        _ => rope.to_string(),
    }
}

/// Queues the model's diagnostics, as `config` shows them, if it is the version the client has.
fn publish(
    doc: &OpenDocument,
    config: &Config,
    shared: &Shared,
    tx: &UnboundedSender<Publication>,
    model: &Model,
) {
    if model.version != doc.snapshot_version() {
        return;
    }
    let list = to_proto::diagnostics(model, &doc.uri, config, shared.encoding());
    let _ = tx.send((list, model.version));
}
