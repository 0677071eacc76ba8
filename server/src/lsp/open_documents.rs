//! The documents the client has open: each an [`mil_ide::documents::Document`] with the channels
//! its analysis worker and the requests waiting for it use.
//!
//! `didChange` applies its edits synchronously, under the document's lock and before the handler
//! first yields, so edits land in the order the client sent them. The worker takes the queued edits
//! and replays them on its own copy of the program.

use crate::lsp::from_proto;
use dashmap::DashMap;
use mil_ide::documents::{Change, ChangeError, Document};
use mil_ide::position::Encoding;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::watch;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

/// An open document.
pub struct OpenDocument {
    /// Its URI.
    pub uri: Uri,
    /// Its text and analysis.
    pub doc: Document,
    /// The version of the newest analysis, for requests that wait for their version.
    pub analysed: watch::Sender<i32>,
    /// The newest text version, for the worker to wake on.
    pub changed: watch::Sender<i32>,
    /// Set when the client closes the document; the worker stops.
    pub closed: AtomicBool,
}

impl std::ops::Deref for OpenDocument {
    type Target = Document;

    fn deref(&self) -> &Document {
        &self.doc
    }
}

impl OpenDocument {
    /// A document opened at `version` with `text`; its worker analyses it from scratch.
    pub fn open(uri: Uri, version: i32, text: String) -> OpenDocument {
        let path = uri.to_file_path().map(|p| p.into_owned());
        OpenDocument {
            doc: Document::open(path.as_deref(), version, text),
            uri,
            analysed: watch::channel(i32::MIN).0,
            changed: watch::channel(version).0,
            closed: AtomicBool::new(false),
        }
    }

    /// Applies the changes of one `didChange` notification, in order, and wakes the worker.
    pub fn change(
        &self,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
        enc: Encoding,
    ) -> Result<(), ChangeError> {
        let changes = changes
            .into_iter()
            .map(|c| Change {
                range: c.range.map(from_proto::range),
                text: c.text,
            })
            .collect();
        self.doc.change(version, changes, enc)?;
        self.changed.send_replace(version);
        Ok(())
    }

    /// Waits until the analysis covers the client's current version (at most `timeout`).
    pub async fn settle(&self, timeout: std::time::Duration) {
        let version = self.snapshot_version();
        let mut rx = self.analysed.subscribe();
        let _ = tokio::time::timeout(timeout, rx.wait_for(|v| *v >= version)).await;
    }
}

/// Every open document by URI.
#[derive(Default)]
pub struct Documents {
    map: DashMap<Uri, Arc<OpenDocument>>,
}

impl Documents {
    /// Adds (or replaces) a document.
    pub fn insert(&self, doc: Arc<OpenDocument>) {
        self.map.insert(doc.uri.clone(), doc);
    }

    /// The document at `uri`.
    pub fn get(&self, uri: &Uri) -> Option<Arc<OpenDocument>> {
        self.map.get(uri).map(|d| d.clone())
    }

    /// Closes a document.
    pub fn remove(&self, uri: &Uri) -> Option<Arc<OpenDocument>> {
        self.map.remove(uri).map(|(_, d)| d)
    }

    /// Every open document.
    pub fn all(&self) -> Vec<Arc<OpenDocument>> {
        self.map.iter().map(|d| d.clone()).collect()
    }
}
