//! ANE surgery: rewrites that replace an op the Neural Engine refuses by ops it runs.
//!
//! Each rewrite lives in its own module as a [`Rewrite`]: an id (the `fix` an ANE finding names),
//! the op kinds it takes, a precondition on one op ([`Rewrite::check`], saying why not), and the
//! edit, made only through the IR's mutation API ([`mil_ir::mutate::Editor`]). [`apply`] checks and
//! edits one op with provenance; [`helps::assess`] asks the planner whether the result is better;
//! [`proof`] compares an original and a rewritten program in the interpreter. `docs/rewrites.md`
//! describes every rewrite and its proof.

pub mod band_part;
pub mod build;
pub mod cumsum;
pub mod helps;
pub mod hyperbolic;
pub mod inverse_trig;
pub mod io_fp16;
pub mod large_kernel;
pub mod layout;
pub mod linear_to_conv;
pub mod matmul_inner;
pub mod modulo;
pub mod pool_cascade;
pub mod proof;
pub mod recurrent;
pub mod reduce_prod;
pub mod spell_out_defaults;
pub mod split_axis;
pub mod tan;
pub mod window;

use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{Function, FunctionSpans, OpId};
use std::fmt;

/// One rewrite: which ops it takes, and how it replaces them.
pub struct Rewrite {
    /// Its id, the `fix` the ANE rules name.
    pub id: RewriteId,
    /// The op kinds it replaces.
    pub kinds: &'static [&'static str],
    /// What it does, the start of an action's title; `{kind}` stands for the op's kind.
    pub title: &'static str,
    /// Its precondition on an op of one of its kinds.
    pub precondition: fn(&Function, OpId) -> Result<(), NotApplicable>,
    /// The edit, for an op that meets the precondition.
    pub edit: fn(&mut Editor<'_>, OpId) -> Result<(), EditError>,
}

impl Rewrite {
    /// What it does to `op` ("Rewrite tan as sin/cos").
    pub fn title(&self, f: &Function, op: OpId) -> String {
        self.title.replace("{kind}", &f.op(op).kind)
    }

    /// Whether it can replace `op`, and if not why.
    pub fn check(&self, f: &Function, op: OpId) -> Result<(), NotApplicable> {
        let kind = f.op(op).kind.as_str();
        NotApplicable::unless(self.kinds.contains(&kind), || {
            format!("the op is `{kind}`, not `{}`", self.kinds.join("` or `"))
        })?;
        (self.precondition)(f, op)
    }
}

/// Every rewrite, in the order the ANE rules list their ids.
pub const ALL: &[&Rewrite] = &[
    &tan::TAN_TO_SIN_COS,
    &inverse_trig::ARC_TO_ATAN,
    &inverse_trig::ATANH_TO_LOG,
    &hyperbolic::HYPERBOLIC_TO_EXP,
    &modulo::MOD_TO_FLOOR_DIV,
    &band_part::BAND_PART_TO_MASK,
    &cumsum::CUMSUM_TO_MATMUL,
    &reduce_prod::REDUCE_PROD_TO_MUL,
    &recurrent::UNROLL_RECURRENT,
    &large_kernel::SPLIT_LARGE_KERNEL,
    &pool_cascade::CASCADE_MAX_POOL,
    &matmul_inner::SPLIT_MATMUL_INNER,
    &linear_to_conv::LINEAR_TO_CONV1X1,
    &spell_out_defaults::SPELL_OUT_DEFAULTS,
    &split_axis::SPLIT_AXIS,
];

/// The rewrites that the fix-all action and `mil fix` apply only when named (`--rewrite`), and
/// that are offered when the op stays where it ran: what they change is outside Core ML's plan
/// (the private compiler's needs).
pub const OPT_IN: &[RewriteId] = &[RewriteId::SPELL_OUT_DEFAULTS, RewriteId::IO_TO_FP16];

/// Whether `rewrite` is applied only when named ([`OPT_IN`]).
pub fn is_opt_in(rewrite: &Rewrite) -> bool {
    OPT_IN.contains(&rewrite.id)
}

/// The rewrite called `id`.
pub fn by_id(id: &str) -> Option<&'static Rewrite> {
    ALL.iter().copied().find(|r| r.id.0 == id)
}

/// The rewrites that can replace `op`.
pub fn applicable(f: &Function, op: OpId) -> impl Iterator<Item = &'static Rewrite> + '_ {
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
    rewrite: &Rewrite,
    f: &mut Function,
    spans: &mut FunctionSpans,
    op: OpId,
) -> Result<(), Refused> {
    rewrite.check(f, op).map_err(Refused::NotApplicable)?;
    let (f_before, spans_before) = (f.clone(), spans.clone());
    let mut e = f.edit().rewriting(spans, rewrite.id);
    let applied = (rewrite.edit)(&mut e, op);
    drop(e);
    applied.map_err(|err| {
        *f = f_before;
        *spans = spans_before;
        Refused::Edit(err)
    })
}
