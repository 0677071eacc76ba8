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
//! an edit and its undo to none. A longer pause ([`SETTLE_DELAY`]) settles the model
//! ([`mil_ide::model::Model::settle`]): the package checks, and the ANE analysis after statements
//! were added or taken away, whose diagnostics go out then, in a second publication.

use crate::lsp::config::Config;
use crate::lsp::model::Model;
use crate::lsp::open_documents::OpenDocument;
use crate::lsp::server::Shared;
use crate::lsp::to_proto;
use mil_ide::documents::Analysed;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tower_lsp_server::ls_types::{Diagnostic, MessageType};

/// How long the worker waits for more edits before it makes the span moves a patch left owed.
const SPAN_MOVE_DELAY: std::time::Duration = std::time::Duration::from_millis(150);

/// How long the worker waits for more edits before it settles the model (the ANE analysis after
/// statements were added or taken away, the package checks): long enough that a pause between keys
/// does not start it, as an edit arriving meanwhile waits for it.
const SETTLE_DELAY: std::time::Duration = std::time::Duration::from_millis(600);

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
        let (moves_owed, unsettled) = {
            let m = doc.model();
            (m.deferred_shift.is_some(), m.unsettled.any())
        };
        let changed = if moves_owed || unsettled {
            let delay = if moves_owed { SPAN_MOVE_DELAY } else { SETTLE_DELAY };
            match tokio::time::timeout(delay, woken.changed()).await {
                Ok(changed) => changed,
                Err(_) if moves_owed => {
                    // Typing paused: pay the span moves off the request path.
                    let d = doc.clone();
                    let _ = tokio::task::spawn_blocking(move || d.whole_model().version).await;
                    continue;
                }
                Err(_) => {
                    // Typing stopped: settle off the request path.
                    let (d, s, tx) = (doc.clone(), shared.clone(), tx.clone());
                    let _ = tokio::task::spawn_blocking(move || {
                        let config = s.config_for(&d);
                        d.doc.settle(|model| publish(&d, &config, &s, &tx, model))
                    })
                    .await;
                    continue;
                }
            }
        } else {
            woken.changed().await
        };
        if changed.is_err() || doc.closed.load(Ordering::Acquire) {
            return;
        }
        let (d, s, tx) = (doc.clone(), shared.clone(), tx.clone());
        let started = std::time::Instant::now();
        let asked = doc.snapshot_version();
        let outcome = tokio::task::spawn_blocking(move || {
            let config = s.config_for(&d);
            d.analyse(&config, |model| publish(&d, &config, &s, &tx, model))
        })
        .await;
        let version = match outcome {
            Ok((how, version)) => {
                let level = match how {
                    Analysed::TooLarge => MessageType::WARNING,
                    _ => MessageType::LOG,
                };
                shared.log(
                    level,
                    format!(
                        "analysed {} v{version} ({}) in {:.1} ms",
                        doc.uri.as_str(),
                        how.describe(),
                        started.elapsed().as_secs_f64() * 1e3
                    ),
                );
                version
            }
            Err(e) => {
                shared.log(
                    MessageType::ERROR,
                    format!("analysis of {} v{asked} failed: {e}", doc.uri.as_str()),
                );
                asked
            }
        };
        doc.analysed.send_replace(version);
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
