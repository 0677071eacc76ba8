//! A document being edited: its text, version and the edits not yet analysed, and its newest
//! analysis.
//!
//! [`Document::change`] applies edits in the order they come; a change whose version is not newer
//! than the document's is refused. Whoever analyses the document takes the queued edits and
//! replays them on the model ([`crate::model`]), or rebuilds it.

use crate::config::Config;
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

/// How [`Document::analyse`] brought the model up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Analysed {
    /// Nothing had changed (the diagnostics were shown again).
    Unchanged,
    /// The edits were replayed statement by statement.
    Patched,
    /// The text was analysed from scratch.
    Rebuilt,
    /// The text is larger than the settings' `max_document_bytes`: kept, not analysed.
    TooLarge,
}

impl Analysed {
    /// How it reads in a log.
    pub fn describe(self) -> &'static str {
        match self {
            Analysed::Unchanged => "unchanged",
            Analysed::Patched => "statements re-parsed",
            Analysed::Rebuilt => "full analysis",
            Analysed::TooLarge => "larger than maxDocumentBytes: not analysed",
        }
    }
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

    /// Takes the edits not analysed yet and brings the model to the text's version for `config`:
    /// patched in place under the write lock when every edit stays inside one statement, else
    /// rebuilt without holding the lock and swapped in (also when the model was analysed for
    /// another chip or other compute units). `ready` gets the model as soon as its diagnostics are
    /// up to date: a patch's before its span moves are made (they wait for [`Model::finish`], once
    /// typing pauses), a rebuilt model's before it is swapped in. Returns how, and the version.
    pub fn analyse(&self, config: &Config, mut ready: impl FnMut(&Model)) -> (Analysed, i32) {
        let (edits, rope, version) = {
            let mut t = self.text.lock().unwrap_or_else(|e| e.into_inner());
            (std::mem::take(&mut t.pending), t.rope.clone(), t.version)
        };
        let (max_bytes, target) = (config.max_document_bytes, config.target());
        {
            let mut model = self.model.write().unwrap_or_else(|e| e.into_inner());
            let same_target = model.target == target;
            if same_target && model.version == version && edits.is_empty() {
                model.finish();
                ready(&model);
                return (Analysed::Unchanged, version);
            }
            if same_target
                && model.version != i32::MIN
                && rope.len_bytes() <= max_bytes
                && model.patch(&edits, version, &rope)
            {
                ready(&model);
                return (Analysed::Patched, version);
            }
            // A patch that gave up half-way leaves nothing owed to readers of the old model.
            model.finish();
        }
        let (fresh, how) = if rope.len_bytes() > max_bytes {
            let mut m = Model::empty(self.model_dir.clone(), target);
            m.version = version;
            m.rope = rope;
            (m, Analysed::TooLarge)
        } else {
            let text = whole_text(edits, &rope);
            let m = Model::build(version, &text, rope, self.model_dir.as_deref(), target);
            (m, Analysed::Rebuilt)
        };
        ready(&fresh);
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        (how, version)
    }

    /// Settles the model ([`Model::settle`]) when it is the text's version; `ready` gets it when
    /// its diagnostics changed. The language server calls this once typing pauses.
    pub fn settle(&self, mut ready: impl FnMut(&Model)) {
        let version = self.snapshot_version();
        let mut model = self.model.write().unwrap_or_else(|e| e.into_inner());
        if model.version == version && model.settle() {
            ready(&model);
        } else {
            model.finish();
        }
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

/// The text `rope` holds, as one string: the editor's own when the last edit sent the whole text
/// (on open, a 25 MB document is then not copied out of the rope again), else a copy of the rope.
fn whole_text(edits: Vec<Edit>, rope: &Rope) -> String {
    match edits.into_iter().last() {
        Some(Edit::Full(text)) => text,
        _ => rope.to_string(),
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

    #[test]
    fn analysis_patches_rebuilds_for_another_chip_and_skips_large_texts() {
        let text = crate::tests::TEXT;
        let doc = Document::open(None, 1, text.into());
        let config = Config::default();
        let mut seen = Vec::new();
        let mut analyse = |config: &Config| doc.analyse(config, |m| seen.push(m.version));
        assert_eq!(analyse(&config), (Analysed::Rebuilt, 1));
        assert_eq!(analyse(&config), (Analysed::Unchanged, 1));
        let at = text.find("relu").unwrap();
        let rename = Change {
            range: Some(position::range(
                &Rope::from_str(text),
                Span::new(at, at + 4),
                Encoding::Utf8,
            )),
            text: "sigmoid".into(),
        };
        doc.change(2, vec![rename], Encoding::Utf8).unwrap();
        assert_eq!(analyse(&config), (Analysed::Patched, 2));
        let m1 = Config {
            chip: Some("m1".into()),
            ..Config::default()
        };
        assert_eq!(analyse(&m1), (Analysed::Rebuilt, 2));
        assert_eq!(doc.model().target.chip, mil_ane::Chip::M1);
        let small = Config {
            max_document_bytes: 10,
            ..m1
        };
        doc.change(3, Vec::new(), Encoding::Utf8).unwrap();
        assert_eq!(analyse(&small), (Analysed::TooLarge, 3));
        assert!(doc.model().program.functions.is_empty());
        assert_eq!(seen, [1, 1, 2, 2, 3]);
    }
}
