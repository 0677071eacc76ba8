//! ANE surgery: rewrites that replace an op the Neural Engine refuses by ops it runs.
//!
//! Each rewrite lives in its own module and implements [`Rewrite`]: an id (the `fix` an ANE
//! finding names), a precondition on one op ([`Rewrite::check`], saying why not), and the edit,
//! made only through the IR's mutation API ([`mil_ir::mutate::Editor`]). [`apply`] checks and
//! edits one op with provenance; [`helps::assess`] asks the planner whether the result is better;
//! [`proof`] compares an original and a rewritten program in the interpreter. `docs/rewrites.md`
//! describes every rewrite and its proof.

pub mod build;
pub mod cumsum;
pub mod helps;
pub mod hyperbolic;
pub mod inverse_trig;
pub mod modulo;
pub mod proof;
pub mod tan;

use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{Function, FunctionSpans, OpId};
use std::fmt;

/// One rewrite: which ops it takes, and how it replaces them.
pub trait Rewrite: Sync {
    /// Its id, the `fix` the ANE rules name.
    fn id(&self) -> RewriteId;

    /// What it does to `op`, as the start of an action's title ("Rewrite tan as sin/cos").
    fn title(&self, f: &Function, op: OpId) -> String;

    /// Whether it can replace `op`, and if not why.
    fn check(&self, f: &Function, op: OpId) -> Result<(), NotApplicable>;

    /// Replaces `op` (for which [`Rewrite::check`] holds) through `e`.
    fn apply(&self, e: &mut Editor<'_>, op: OpId) -> Result<(), EditError>;
}

/// Every rewrite, in the order the ANE rules list their ids.
pub const ALL: &[&dyn Rewrite] = &[
    &tan::TanToSinCos,
    &hyperbolic::HyperbolicToExp,
    &inverse_trig::AtanhToLog,
    &inverse_trig::ArcToAtan,
    &modulo::ModToFloorDiv,
    &cumsum::CumsumToMatmul,
];

/// The rewrite called `id`.
pub fn by_id(id: &str) -> Option<&'static dyn Rewrite> {
    ALL.iter().copied().find(|r| r.id().0 == id)
}

/// The rewrites that can replace `op`.
pub fn applicable(f: &Function, op: OpId) -> impl Iterator<Item = &'static dyn Rewrite> + '_ {
    ALL.iter().copied().filter(move |r| r.check(f, op).is_ok())
}

/// Why a rewrite does not take an op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotApplicable(pub String);

impl NotApplicable {
    /// `Err(NotApplicable(why))` unless `ok`.
    pub fn unless(ok: bool, why: impl FnOnce() -> String) -> Result<(), NotApplicable> {
        if ok { Ok(()) } else { Err(NotApplicable(why())) }
    }
}

impl fmt::Display for NotApplicable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why [`apply`] left the function as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The precondition does not hold.
    NotApplicable(NotApplicable),
    /// The editor refused an edit.
    Edit(EditError),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::NotApplicable(why) => write!(f, "the rewrite does not apply: {why}"),
            Refused::Edit(e) => write!(f, "the edit was refused: {e}"),
        }
    }
}

impl std::error::Error for Refused {}

/// Replaces `op` of `f` by `rewrite`, recording the rewrite as the new ops' provenance in `spans`.
///
/// The precondition is checked first; if an edit fails part-way, `f` is restored.
pub fn apply(
    rewrite: &dyn Rewrite,
    f: &mut Function,
    spans: &mut FunctionSpans,
    op: OpId,
) -> Result<(), Refused> {
    rewrite.check(f, op).map_err(Refused::NotApplicable)?;
    let (f_before, spans_before) = (f.clone(), spans.clone());
    let mut e = f.edit().rewriting(spans, rewrite.id());
    let applied = rewrite.apply(&mut e, op);
    drop(e);
    applied.map_err(|err| {
        *f = f_before;
        *spans = spans_before;
        Refused::Edit(err)
    })
}
