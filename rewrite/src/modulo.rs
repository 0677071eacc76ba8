//! `mod-to-floor-div`: `mod(x, y)` → `x − floor_div(x, y)·y`.
//!
//! Core ML refuses `mod` on the Neural Engine and runs `floor_div`, `mul` and `sub` there
//! (`../shared/docs/ane.md`). MIL defines `mod` as this floored remainder (the sign of `y`), so
//! the rewrite is its definition; for floats the three roundings stay within an ulp of `|x|`.

use crate::build::{Chain, float_result, input, same_typed_inputs};
use crate::{NotApplicable, Rewrite};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{Function, OpId};

/// Rewrites `mod` with `floor_div`.
pub struct ModToFloorDiv;

impl ModToFloorDiv {
    /// Its id.
    pub const ID: RewriteId = RewriteId("mod-to-floor-div");
}

impl Rewrite for ModToFloorDiv {
    fn id(&self) -> RewriteId {
        Self::ID
    }

    fn title(&self, _: &Function, _: OpId) -> String {
        "Rewrite mod with floor_div".into()
    }

    fn check(&self, f: &Function, op: OpId) -> Result<(), NotApplicable> {
        let ty = float_result(f, op, "mod")?;
        same_typed_inputs(f, op, &ty, &["x", "y"])
    }

    fn apply(&self, e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
        let (x, y) = (input(e.function(), op, "x")?, input(e.function(), op, "y")?);
        let mut c = Chain::new(e, op);
        let q = c.op(
            "floor_div",
            "quotient",
            vec![("x", c.operand(x)), ("y", c.operand(y))],
        )?;
        let qy = c.op("mul", "multiple", vec![("x", c.operand(q)), ("y", c.operand(y))])?;
        let r = c.op("sub", "mod", vec![("x", c.operand(x)), ("y", c.operand(qy))])?;
        c.finish(r)
    }
}
