//! The analysed state of one document version: its text, program, source map and diagnostics.
//!
//! A model is built from scratch by the shared pipeline ([`crate::analysis`]) and then kept up to
//! date edit by edit: an edit inside one statement re-parses only that statement
//! ([`crate::incremental`]) and, when it changed what the op means, the program-wide checks
//! run again for the ops it can affect ([`crate::recheck`]); anything else rebuilds.

use crate::documents::Edit;
use crate::incremental::{self, DeferredShift, Edited, OpNames, Reparsed};
use crate::placement::Placement;
use crate::recheck::{self, Facts, Recheck};
use mil_ane::Target;
use mil_ir::{Diagnostic, Program, SourceMap};
use ropey::Rope;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// One analysed version of a document.
pub struct Model {
    /// The document version analysed (`i32::MIN` before the first analysis).
    pub version: i32,
    /// The text analysed.
    pub rope: Rope,
    /// The program read from it.
    pub program: Program,
    /// Where its parts are.
    pub map: SourceMap,
    /// What reading the text and the statement checks found, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// What the program-wide checks (op and type checks, ANE placement) found, sorted.
    pub program_diagnostics: Vec<Diagnostic>,
    /// The folder BLOBFILE paths resolve against.
    pub model_dir: Option<PathBuf>,
    /// The chip and compute units the ANE diagnostics are for (from the settings).
    pub target: Target,
    /// How the model was last brought up to date.
    pub last_update: Update,
    /// Per function, how many ops carry each `name` attribute (built when an edit first changes an
    /// op's name).
    pub op_names: OnceLock<Vec<OpNames>>,
    /// Span moves the last patch still owes the source map; see [`Model::finish`].
    pub deferred_shift: Option<DeferredShift>,
    /// Where the ops run, once a feature asked ([`crate::placement::of`]).
    pub placement: Mutex<Option<Arc<Placement>>>,
    /// What the inferencer knows of each value (built on the first re-check).
    pub facts: Option<Facts>,
    /// How the last edit that changed an op's meaning was re-checked.
    pub last_recheck: Option<Recheck>,
}

/// How a model was brought up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// Analysed from scratch.
    Full,
    /// Patched statement by statement, this many edits.
    Incremental(usize),
}

impl Model {
    /// The model of a document not analysed yet.
    pub fn empty(model_dir: Option<PathBuf>, target: Target) -> Model {
        Model {
            version: i32::MIN,
            rope: Rope::new(),
            program: Program::default(),
            map: SourceMap::default(),
            diagnostics: Vec::new(),
            program_diagnostics: Vec::new(),
            model_dir,
            target,
            last_update: Update::Full,
            op_names: OnceLock::new(),
            deferred_shift: None,
            placement: Mutex::new(None),
            facts: None,
            last_recheck: None,
        }
    }

    /// Analyses `text`, which `rope` holds, from scratch, with ANE diagnostics for `target`.
    pub fn build(version: i32, text: &str, rope: Rope, model_dir: Option<&Path>, target: Target) -> Model {
        let a = crate::analysis::read(text, model_dir);
        Model {
            version,
            rope,
            program_diagnostics: crate::analysis::program_checks(&a.program, &a.source_map, target),
            program: a.program,
            map: a.source_map,
            diagnostics: a.diagnostics,
            ..Model::empty(model_dir.map(Path::to_path_buf), target)
        }
    }

    /// Brings the model to `version`, whose text is `rope`, by replaying `edits` one statement at a
    /// time where it can; returns `false` when it must be rebuilt from scratch instead. The
    /// diagnostics are then up to date; the source map is once [`Model::finish`] has run.
    pub fn patch(&mut self, edits: &[Edit], version: i32, rope: &Rope) -> bool {
        // The ops whose meaning changed, each as it was before the first edit of the batch.
        let mut edited: Vec<Edited> = Vec::new();
        for edit in edits {
            let Edit::Replace { span, text } = edit else {
                return false;
            };
            match incremental::reparse_statement(self, *span, text) {
                Reparsed::Declined => return false,
                Reparsed::SameMeaning => {}
                Reparsed::NewMeaning(e) => {
                    if !edited.iter().any(|x| (x.function, x.op) == (e.function, e.op)) {
                        edited.push(*e);
                    }
                }
            }
        }
        debug_assert!(self.rope == *rope, "replayed edits must give the client's text");
        match edited.as_slice() {
            [] => {}
            [one] => {
                let mut targets = vec![self.target];
                let cached = self.placement.get_mut().unwrap_or_else(|e| e.into_inner());
                targets.extend(cached.as_ref().map(|p| p.target()));
                let how = recheck::recheck(self, one, &targets);
                if how != Recheck::Local {
                    self.placement = Mutex::new(None);
                }
                self.last_recheck = Some(how);
            }
            _ => {
                self.finish();
                self.program_diagnostics =
                    crate::analysis::program_checks(&self.program, &self.map, self.target);
                self.placement = Mutex::new(None);
                self.facts = None;
                self.last_recheck = Some(Recheck::Full);
            }
        }
        self.version = version;
        self.last_update = Update::Incremental(edits.len());
        true
    }

    /// Moves the spans the last patch left for later (so the diagnostics could go out first); edits
    /// that add up to no change in length (an edit and its undo) leave nothing to move.
    pub fn finish(&mut self) {
        if let Some(shift) = self.deferred_shift.take()
            && shift.delta() != 0
        {
            shift.apply(&self.program, &mut self.map);
        }
    }

    /// Every diagnostic, sorted by position.
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        let (mut a, mut b) = (
            self.diagnostics.iter().peekable(),
            self.program_diagnostics.iter().peekable(),
        );
        std::iter::from_fn(move || match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if (y.span.start, y.span.end) < (x.span.start, x.span.end) => b.next(),
            (Some(_), _) => a.next(),
            (None, _) => b.next(),
        })
    }

    /// The text of a byte span.
    pub fn slice(&self, span: mil_ir::Span) -> String {
        let end = self
            .rope
            .byte_to_char((span.end as usize).min(self.rope.len_bytes()));
        let start = self.rope.byte_to_char(span.start as usize).min(end);
        self.rope.slice(start..end).to_string()
    }
}
