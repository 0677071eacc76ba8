//! `hyperbolic-to-exp`: `cosh(x)` → `(exp(x) + exp(−x))·½`, `sinh(x)` → `tanh(x)·cosh(x)`.
//!
//! Core ML refuses `sinh` and `cosh` on the Neural Engine; `exp`, `add` and `mul` run there (Core
//! ML's verdicts in the analytics corpus), `tanh` by our rules (`../shared/docs/ane.md`). `sinh`
//! goes through `tanh` rather than `(exp(x) − exp(−x))·½`, whose difference cancels near 0 (in fp16
//! `exp(x)` is 1 for |x| < 2⁻¹¹, so the difference would be 0); the sum in `cosh` never cancels, so
//! both stay within a few ulps of the op. `exp` overflows before `sinh` and `cosh` do only within a
//! factor of two of the largest float (|x| > 88.7 in fp32, > 11.1 in fp16).

use crate::Rewrite;
use crate::build::{Chain, input, unary};
use mil_ir::OpId;
use mil_ir::mutate::{EditError, Editor, RewriteId};

/// Rewrites `sinh` and `cosh` with `exp`.
pub const HYPERBOLIC_TO_EXP: Rewrite = Rewrite {
    id: RewriteId::HYPERBOLIC_TO_EXP,
    kinds: &["sinh", "cosh"],
    title: "Rewrite {kind} with exp",
    precondition: unary,
    edit,
};

/// `cosh(x) = (exp(x) + exp(x·−1))·½`, and `sinh(x) = tanh(x)·cosh(x)`.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    let sinh = e.function().op(op).kind == "sinh";
    let x = input(e.function(), op, "x")?;
    let mut c = Chain::new(e, op);
    let neg = c.op("mul", "neg", vec![("x", c.operand(x)), ("y", c.scalar(-1.0))])?;
    let up = c.op("exp", "exp", vec![("x", c.operand(x))])?;
    let down = c.op("exp", "exp_neg", vec![("x", c.operand(neg))])?;
    let sum = c.op("add", "sum", vec![("x", c.operand(up)), ("y", c.operand(down))])?;
    let cosh = c.op("mul", "cosh", vec![("x", c.operand(sum)), ("y", c.scalar(0.5))])?;
    let last = if sinh {
        let tanh = c.op("tanh", "tanh", vec![("x", c.operand(x))])?;
        c.op(
            "mul",
            "sinh",
            vec![("x", c.operand(tanh)), ("y", c.operand(cosh))],
        )?
    } else {
        cosh
    };
    c.finish(last)
}
