//! A document being edited: its text, version and the edits not yet analysed, and its newest
//! analysis.
//!
//! [`Document::change`] applies edits in the order they come; a change whose version is not newer
//! than the document's is refused. Whoever analyses the document takes the queued edits and
//! replays them on the model ([`crate::model`]), or rebuilds it.

use crate::model::Model;
use crate::position::{self, Encoding, Range};
use mil_ir::Span;
use ropey::Rope;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

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

/// The text as the editor has it, with the edits not analysed yet.
#[derive(Debug)]
pub struct Text {
    /// The document's text.
    pub rope: Rope,
    /// The editor's version of it.
    pub version: i32,
    /// Edits since the analysis last took them, in order.
    pub pending: Vec<Edit>,
}

/// A document.
pub struct Document {
    /// The folder BLOBFILE paths resolve against, for documents on disk.
    pub model_dir: Option<PathBuf>,
    /// The live text.
    pub text: Mutex<Text>,
    /// The newest analysis; replaced or patched by whoever analyses the document. Readers hold the
    /// lock only while they compute an answer.
    pub model: RwLock<Model>,
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

/// One change as an editor sends it: a range of the text (in the editor's column [`Encoding`])
/// replaced, or the whole text when there is no range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The range replaced; `None`: the whole text.
    pub range: Option<Range>,
    /// The new text.
    pub text: String,
}

impl Document {
    /// A document at `path` (`None`: not on disk) opened at `version` with `text`; it is analysed
    /// from scratch first.
    pub fn open(path: Option<&Path>, version: i32, text: String) -> Document {
        let model_dir = path
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .filter(|d| !d.as_os_str().is_empty());
        Document {
            text: Mutex::new(Text {
                rope: Rope::from_str(&text),
                version,
                pending: vec![Edit::Full(text)],
            }),
            model: RwLock::new(Model::empty(model_dir.clone(), mil_ane::Target::default())),
            model_dir,
        }
    }

    /// Applies the changes of one edit of the editor's, in order, bringing the text to `version`.
    pub fn change(&self, version: i32, changes: Vec<Change>, enc: Encoding) -> Result<(), ChangeError> {
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
        Ok(())
    }

    /// The current text and version.
    pub fn snapshot(&self) -> (Rope, i32) {
        let t = self.text.lock().unwrap_or_else(|e| e.into_inner());
        (t.rope.clone(), t.version)
    }

    /// The editor's current version.
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::Position;

    #[test]
    fn changes_apply_in_order_and_stale_ones_are_refused() {
        let doc = Document::open(Some(Path::new("/m/a.mil")), 1, "ab\n𝄞x\n".into());
        assert_eq!(doc.model_dir.as_deref(), Some(Path::new("/m")));
        let at = |line, character| Position::new(line, character);
        let changes = vec![
            Change {
                range: Some(Range::new(at(1, 2), at(1, 3))),
                text: "yz".into(),
            },
            Change {
                range: Some(Range::new(at(0, 0), at(0, 1))),
                text: String::new(),
            },
        ];
        assert_eq!(doc.change(2, changes, Encoding::Utf16), Ok(()));
        let (rope, version) = doc.snapshot();
        assert_eq!((rope.to_string().as_str(), version), ("b\n𝄞yz\n", 2));
        assert_eq!(
            doc.text.lock().unwrap().pending[1..],
            [
                Edit::Replace {
                    span: Span::new(7, 8),
                    text: "yz".into()
                },
                Edit::Replace {
                    span: Span::new(0, 1),
                    text: String::new()
                }
            ]
        );
        assert_eq!(
            doc.change(2, Vec::new(), Encoding::Utf16),
            Err(ChangeError::Stale { have: 2, got: 2 })
        );
    }
}
