//! `hyperbolic-to-exp`: `sinh(x)` → `(exp(x) − exp(−x))·½`, `cosh(x)` → `(exp(x) + exp(−x))·½`.
//!
//! Core ML refuses `sinh` and `cosh` on the Neural Engine and runs `exp`, `mul`, `sub` and `add`
//! there (`../shared/docs/ane.md`). These are the definitions. `exp` overflows before `sinh` and
//! `cosh` do only within a factor of two of the largest float (|x| > 88.7 in fp32, > 11.1 in fp16);
//! near 0, `sinh`'s difference keeps an absolute error of about one ulp of 1 rather than a
//! relative one.

use crate::Rewrite;
use crate::build::{Chain, input, unary};
use mil_ir::OpId;
use mil_ir::mutate::{EditError, Editor, RewriteId};

/// Rewrites `sinh` and `cosh` with `exp`.
pub const HYPERBOLIC_TO_EXP: Rewrite = Rewrite {
    id: RewriteId("hyperbolic-to-exp"),
    kinds: &["sinh", "cosh"],
    title: "Rewrite {kind} with exp",
    precondition: unary,
    edit,
};

/// `(exp(x) ∓ exp(x·−1))·½`.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    let combine = if e.function().op(op).kind == "sinh" {
        "sub"
    } else {
        "add"
    };
    let x = input(e.function(), op, "x")?;
    let mut c = Chain::new(e, op);
    let neg = c.op("mul", "neg", vec![("x", c.operand(x)), ("y", c.scalar(-1.0))])?;
    let up = c.op("exp", "exp", vec![("x", c.operand(x))])?;
    let down = c.op("exp", "exp_neg", vec![("x", c.operand(neg))])?;
    let both = c.op(
        combine,
        combine,
        vec![("x", c.operand(up)), ("y", c.operand(down))],
    )?;
    let half = c.op("mul", "half", vec![("x", c.operand(both)), ("y", c.scalar(0.5))])?;
    c.finish(half)
}
