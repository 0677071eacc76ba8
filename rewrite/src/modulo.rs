//! `mod-to-floor-div`: `mod(x, y)` → `x − floor_div(x, y)·y`.
//!
//! Core ML refuses `mod` on the Neural Engine and runs `floor_div`, `mul` and `sub` there
//! (`../shared/docs/ane.md`). MIL defines `mod` as this floored remainder (the sign of `y`), so
//! the rewrite is its definition; for floats the three roundings stay within an ulp of `|x|`.

use crate::Rewrite;
use crate::build::{Chain, binary, input};
use mil_ir::OpId;
use mil_ir::mutate::{EditError, Editor, RewriteId};

/// Rewrites `mod` with `floor_div`.
pub const MOD_TO_FLOOR_DIV: Rewrite = Rewrite {
    id: RewriteId::MOD_TO_FLOOR_DIV,
    kinds: &["mod"],
    title: "Rewrite mod with floor_div",
    precondition: binary,
    edit,
};

/// `x − floor_div(x, y)·y`.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
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
