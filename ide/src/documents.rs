//! Open documents: their text, version and the edits not yet analysed.
//!
//! `didChange` applies its edits here synchronously, under the document's lock and before the
//! handler first yields, so edits land in the order the client sent them; a change whose version
//! is not newer than the document's is refused. The analysis worker takes the queued edits and
//! replays them on its own copy of the program (see [`crate::lsp::model`]).

use crate::lsp::model::Model;
use crate::lsp::position::{self, Encoding};
use dashmap::DashMap;
use mil_ir::Span;
use ropey::Rope;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use tokio::sync::watch;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

/// One edit in bytes of the text it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// `span` of the old text becomes `text`.
    Replace {
        /// The replaced bytes.
        span: Span,
        /// The new text.
        text: String,
    },
    /// The whole text was replaced by this one.
    Full(String),
}

/// The text as the client has it, with the edits the worker has not taken yet.
#[derive(Debug)]
pub struct Text {
    /// The document's text.
    pub rope: Rope,
    /// The client's version of it.
    pub version: i32,
    /// Edits since the worker last took them, in order.
    pub pending: Vec<Edit>,
}

/// An open document.
pub struct Document {
    /// Its URI.
    pub uri: Uri,
    /// The folder BLOBFILE paths resolve against, for documents on disk.
    pub model_dir: Option<PathBuf>,
    /// The live text.
    pub text: Mutex<Text>,
    /// The newest analysis; replaced or patched by the worker. Readers hold the lock only while
    /// they compute an answer, never across an `await`.
    pub model: RwLock<Model>,
    /// The version of the newest analysis, for requests that wait for their version.
    pub analysed: watch::Sender<i32>,
    /// The newest text version, for the worker to wake on.
    pub changed: watch::Sender<i32>,
    /// Set when the client closes the document; the worker stops.
    pub closed: AtomicBool,
}

/// Why an edit was not applied.
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeError {
    /// The change's version is not newer than the document's.
    Stale {
        /// The document's version.
        have: i32,
        /// The change's version.
        got: i32,
    },
}

impl Document {
    /// A document opened at `version` with `text`; its worker analyses it from scratch.
    pub fn open(uri: Uri, version: i32, text: String) -> Document {
        let model_dir = uri
            .to_file_path()
            .and_then(|p| p.parent().map(|d| d.to_path_buf()))
            .filter(|d| !d.as_os_str().is_empty());
        Document {
            uri,
            text: Mutex::new(Text {
                rope: Rope::from_str(&text),
                version,
                pending: vec![Edit::Full(text)],
            }),
            model: RwLock::new(Model::empty(model_dir.clone(), mil_ane::Target::default())),
            model_dir,
            analysed: watch::channel(i32::MIN).0,
            changed: watch::channel(version).0,
            closed: AtomicBool::new(false),
        }
    }

    /// Applies the changes of one `didChange` notification, in order.
    pub fn change(
        &self,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
        enc: Encoding,
    ) -> Result<(), ChangeError> {
        let mut t = self.text.lock().unwrap_or_else(|e| e.into_inner());
        if version <= t.version {
            return Err(ChangeError::Stale {
                have: t.version,
                got: version,
            });
        }
        for change in changes {
            match change.range {
                Some(range) => {
                    let span = position::span(&t.rope, range, enc);
                    let (start, end) = (
                        t.rope.byte_to_char(span.start as usize),
                        t.rope.byte_to_char(span.end as usize),
                    );
                    t.rope.remove(start..end);
                    t.rope.insert(start, &change.text);
                    t.pending.push(Edit::Replace {
                        span,
                        text: change.text,
                    });
                }
                None => {
                    t.rope = Rope::from_str(&change.text);
                    t.pending.push(Edit::Full(change.text));
                }
            }
        }
        t.version = version;
        drop(t);
        self.changed.send_replace(version);
        Ok(())
    }

    /// The current text and version.
    pub fn snapshot(&self) -> (Rope, i32) {
        let t = self.text.lock().unwrap_or_else(|e| e.into_inner());
        (t.rope.clone(), t.version)
    }

    /// The client's current version.
    pub fn snapshot_version(&self) -> i32 {
        self.text.lock().unwrap_or_else(|e| e.into_inner()).version
    }

    /// The newest analysis, locked for reading.
    pub fn model(&self) -> RwLockReadGuard<'_, Model> {
        self.model.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The analysed model with its source map whole: the span moves a patch left owed are made
    /// first (features read spans; diagnostics do not need them).
    pub fn whole_model(&self) -> RwLockReadGuard<'_, Model> {
        loop {
            let model = self.model();
            if model.deferred_shift.is_none() {
                return model;
            }
            drop(model);
            self.model.write().unwrap_or_else(|e| e.into_inner()).finish();
        }
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
    map: DashMap<Uri, Arc<Document>>,
}

impl Documents {
    /// Adds (or replaces) a document.
    pub fn insert(&self, doc: Arc<Document>) {
        self.map.insert(doc.uri.clone(), doc);
    }

    /// The document at `uri`.
    pub fn get(&self, uri: &Uri) -> Option<Arc<Document>> {
        self.map.get(uri).map(|d| d.clone())
    }

    /// Closes a document.
    pub fn remove(&self, uri: &Uri) -> Option<Arc<Document>> {
        self.map.remove(uri).map(|(_, d)| d)
    }

    /// Every open document.
    pub fn all(&self) -> Vec<Arc<Document>> {
        self.map.iter().map(|d| d.clone()).collect()
    }
}
