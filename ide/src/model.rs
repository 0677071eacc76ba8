//! The analysed state of one document version: its text, program, source map and diagnostics.
//!
//! A model is built from scratch by the shared pipeline ([`crate::analysis`]) and then kept up to
//! date edit by edit: an edit inside one statement re-parses only that statement
//! ([`crate::incremental`]), an edit that adds, removes or reshapes statements reads the
//! statements it touches again ([`crate::reread`]), and when ops changed meaning the op and type
//! checks run again for the ops they can affect ([`crate::recheck`]); anything else rebuilds.
//!
//! What is published when: the diagnostics of reading the text, the statement checks and the op
//! and type checks are up to date as soon as an edit is patched. The ANE diagnostics are too after
//! an edit inside one statement; after statements were added or taken away they are those of the
//! untouched statements until [`Model::settle`] runs the ANE analysis again, once typing pauses.
//! The package checks ([`mil_proto::compile::package_problems`], which `mil check` also reports)
//! are found by [`Model::settle`] as well, after the first analysis and after every edit.

use crate::documents::Edit;
use crate::incremental::{self, DeferredShift, Edited, OpNames, Reparsed};
use crate::placement::Placement;
use crate::recheck::{self, Facts, Recheck};
use mil_ane::Target;
use mil_grammar::NameIndex;
use mil_ir::{Diagnostic, OpId, Program, SourceMap};
use mil_proto::weights::WeightFiles;
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
    /// What the package checks found, when nothing else is an error, sorted (see [`Model::settle`]).
    pub package_diagnostics: Vec<Diagnostic>,
    /// What [`Model::settle`] still has to bring up to date.
    pub unsettled: Unsettled,
    /// The folder BLOBFILE paths resolve against.
    pub model_dir: Option<PathBuf>,
    /// The weights the program names, read through one store (the weight files under
    /// `model_dir`, each record read once): features read weights through it, never from files
    /// of their own.
    pub weights: Mutex<WeightFiles>,
    /// The chip and compute units the ANE diagnostics are for (from the settings).
    pub target: Target,
    /// How the model was last brought up to date.
    pub last_update: Update,
    /// Per function, how many ops carry each `name` attribute (built when an edit first changes an
    /// op's name).
    pub op_names: OnceLock<Vec<OpNames>>,
    /// Per function, its names for "did you mean" (built when an edit first defines or takes away
    /// a name, or when the model settles; it may hold names taken away since).
    pub name_index: OnceLock<Vec<NameIndex>>,
    /// Span moves the last patch still owes the source map; see [`Model::finish`].
    pub deferred_shift: Option<DeferredShift>,
    /// Where the ops run, once a feature asked ([`crate::placement::of`]).
    pub placement: Mutex<Option<Arc<Placement>>>,
    /// What the inferencer knows of each value (built on the first re-check).
    pub facts: Option<Facts>,
    /// How the last edit that changed an op's meaning was re-checked.
    pub last_recheck: Option<Recheck>,
}

/// An op of a function: the function's index and the op.
type FunctionOp = (usize, OpId);

/// The program-wide results an edit left out of date, for [`Model::settle`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unsettled {
    /// The ANE analysis (statements were added or taken away).
    pub ane: bool,
    /// The package checks.
    pub package: bool,
}

impl Unsettled {
    /// Whether anything is out of date.
    pub fn any(self) -> bool {
        self.ane || self.package
    }
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
            package_diagnostics: Vec::new(),
            unsettled: Unsettled::default(),
            weights: Mutex::new(model_dir.as_deref().map(WeightFiles::new).unwrap_or_default()),
            model_dir,
            target,
            last_update: Update::Full,
            op_names: OnceLock::new(),
            name_index: OnceLock::new(),
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
            unsettled: Unsettled {
                ane: false,
                package: true,
            },
            ..Model::empty(model_dir.map(Path::to_path_buf), target)
        }
    }

    /// [`Model::build`], settled: every diagnostic [`crate::analysis::analyse`] gives.
    pub fn build_settled(
        version: i32,
        text: &str,
        rope: Rope,
        model_dir: Option<&Path>,
        target: Target,
    ) -> Model {
        let mut m = Model::build(version, text, rope, model_dir, target);
        m.settle();
        m
    }

    /// Brings the model to `version`, whose text is `rope`, by replaying `edits` one statement at a
    /// time where it can; returns `false` when it must be rebuilt from scratch instead. The
    /// diagnostics are then up to date; the source map is once [`Model::finish`] has run.
    pub fn patch(&mut self, edits: &[Edit], version: i32, rope: &Rope) -> bool {
        // The ops whose meaning changed, each as it was before the first edit of the batch, and
        // the ops of statements read anew (with the readers of names they changed).
        let mut edited: Vec<Edited> = Vec::new();
        let mut reread: Option<(Vec<FunctionOp>, Vec<OpId>)> = None;
        for edit in edits {
            let Edit::Replace { span, text } = edit else {
                return false;
            };
            match incremental::reparse_statement(self, *span, text) {
                Reparsed::Declined => match crate::reread::reread_statements(self, *span, text)
                    .or_else(|| crate::reread::reread_header(self, *span, text))
                {
                    Some(r) => {
                        let (seeds, new) = reread.get_or_insert_default();
                        seeds.extend(r.recheck.into_iter().map(|o| (r.function, o)));
                        new.extend(r.new);
                    }
                    None => return false,
                },
                Reparsed::SameMeaning => {}
                Reparsed::NewMeaning(e) => {
                    if !edited.iter().any(|x| (x.function, x.op) == (e.function, e.op)) {
                        edited.push(*e);
                    }
                }
            }
        }
        debug_assert!(self.rope == *rope, "replayed edits must give the client's text");
        self.unsettled.package = true;
        if let Some((reread, new)) = reread {
            self.recheck_reread(reread, &new, edited);
            self.version = version;
            self.last_update = Update::Incremental(edits.len());
            return true;
        }
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

    /// The op and type checks after statements were read anew: of the ops in `reread` and `edited`
    /// that are still there (`new`: the ops read anew); the ANE analysis is left for
    /// [`Model::settle`].
    fn recheck_reread(&mut self, reread: Vec<FunctionOp>, new: &[OpId], edited: Vec<Edited>) {
        let mut by_function: Vec<Vec<OpId>> = vec![Vec::new(); self.program.functions.len()];
        for (fi, op) in reread
            .into_iter()
            .chain(edited.iter().map(|e| (e.function, e.op)))
        {
            if !self.program.functions[fi].op(op).is_erased() {
                by_function[fi].push(op);
            }
        }
        let mut how = Recheck::LocalTypesAneLater;
        for (fi, seeds) in by_function.iter().enumerate() {
            if !seeds.is_empty() && recheck::recheck_types(self, fi, seeds, new) == Recheck::Full {
                how = Recheck::Full;
            }
        }
        // The placement features show stays the last one planned (new statements have none)
        // until the model settles: planning the whole function at every key would hold up the
        // requests asking for it.
        self.unsettled.ane = true;
        self.last_recheck = Some(how);
    }

    /// Brings up to date what edits left for later: the span moves ([`Model::finish`]), the ANE
    /// analysis after statements were added or taken away, and the package checks; then what the
    /// next edits need is made ready (what is known of each value, the op-name and name indexes).
    /// Returns whether the diagnostics changed.
    pub fn settle(&mut self) -> bool {
        self.finish();
        let mut changed = false;
        if self.unsettled.ane {
            let is_ane = |d: &Diagnostic| d.code.id.starts_with("ANE");
            let mut ane = mil_ane::diagnostics::for_target(&self.program, &self.map, self.target);
            let old: Vec<&Diagnostic> = self.program_diagnostics.iter().filter(|d| is_ane(d)).collect();
            changed |= old.len() != ane.len() || old.iter().zip(&ane).any(|(a, b)| *a != b);
            // In the order the program-wide checks give: the ANE analysis first, then the op checks.
            ane.extend(self.program_diagnostics.drain(..).filter(|d| !is_ane(d)));
            ane.sort_by_key(|d| (d.span.start, d.span.end));
            self.program_diagnostics = ane;
            self.placement = Mutex::new(None);
        }
        if self.unsettled.package {
            let errors = mil_ir::diagnostic::has_errors(&self.diagnostics)
                || mil_ir::diagnostic::has_errors(&self.program_diagnostics);
            let mut found = match errors {
                true => Vec::new(),
                false => mil_proto::compile::package_problems(&self.program, &self.map),
            };
            found.sort_by_key(|d| (d.span.start, d.span.end));
            changed |= found != self.package_diagnostics;
            self.package_diagnostics = found;
        }
        self.unsettled = Unsettled::default();
        if self.facts.is_none() {
            self.facts = Some(recheck::facts_of(&self.program));
        }
        self.op_names.get_or_init(|| {
            self.program
                .functions
                .iter()
                .map(incremental::op_name_counts)
                .collect()
        });
        // Names taken away stay in the index until it holds twice the names defined.
        let stale = (self.name_index.get()).is_some_and(|all| {
            (all.iter().zip(&self.program.functions)).any(|(ix, f)| ix.len() > 2 * f.symbols.len() + 1024)
        });
        if stale {
            self.name_index = OnceLock::new();
        }
        self.names();
        changed
    }

    /// Per function, its names for "did you mean" (see [`Model::name_index`]).
    pub fn names(&self) -> &[NameIndex] {
        self.name_index
            .get_or_init(|| self.program.functions.iter().map(NameIndex::of).collect())
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

    /// Every diagnostic, sorted by position (for equal positions: reading, program-wide checks,
    /// package checks, as [`crate::analysis::analyse`] orders them).
    pub fn all_diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        merged(
            merged(self.diagnostics.iter(), self.program_diagnostics.iter()),
            self.package_diagnostics.iter(),
        )
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

/// Two sorted runs of diagnostics as one, the first's first where positions are equal.
fn merged<'a>(
    a: impl Iterator<Item = &'a Diagnostic>,
    b: impl Iterator<Item = &'a Diagnostic>,
) -> impl Iterator<Item = &'a Diagnostic> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if (y.span.start, y.span.end) < (x.span.start, x.span.end) => b.next(),
        (Some(_), _) => a.next(),
        (None, _) => b.next(),
    })
}
