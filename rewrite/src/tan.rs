//! `tan-to-sin-cos`: `tan(x)` → `real_div(sin(x), cos(x))`.
//!
//! Core ML refuses `tan` on the Neural Engine and runs `sin`, `cos` and `real_div` there
//! (`../shared/docs/ane.md`, "Ops the ANE refuses"). The quotient is the definition of the tangent;
//! each of the three ops rounds once, so the result is within a few ulps of `tan` in fp32.

use crate::build::{Chain, float_result, input, same_typed_inputs};
use crate::{NotApplicable, Rewrite};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{Function, OpId};

/// Rewrites `tan` as `sin / cos`.
pub struct TanToSinCos;

impl TanToSinCos {
    /// Its id.
    pub const ID: RewriteId = RewriteId("tan-to-sin-cos");
}

impl Rewrite for TanToSinCos {
    fn id(&self) -> RewriteId {
        Self::ID
    }

    fn title(&self, _: &Function, _: OpId) -> String {
        "Rewrite tan as sin/cos".into()
    }

    fn check(&self, f: &Function, op: OpId) -> Result<(), NotApplicable> {
        let ty = float_result(f, op, "tan")?;
        same_typed_inputs(f, op, &ty, &["x"])
    }

    fn apply(&self, e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
        let x = input(e.function(), op, "x")?;
        let mut c = Chain::new(e, op);
        let sin = c.op("sin", "sin", vec![("x", c.operand(x))])?;
        let cos = c.op("cos", "cos", vec![("x", c.operand(x))])?;
        let tan = c.op(
            "real_div",
            "tan",
            vec![("x", c.operand(sin)), ("y", c.operand(cos))],
        )?;
        c.finish(tan)
    }
}
