//! `tan-to-sin-cos`: `tan(x)` → `real_div(sin(x), cos(x))`.
//!
//! Core ML refuses `tan` on the Neural Engine and runs `sin`, `cos` and `real_div` there
//! (`../shared/docs/ane.md`, "Ops the ANE refuses"). The quotient is the definition of the tangent;
//! each of the three ops rounds once, so the result is within a few ulps of `tan` in fp32.

use crate::Rewrite;
use crate::build::{Chain, input, unary};
use mil_ir::OpId;
use mil_ir::mutate::{EditError, Editor, RewriteId};

/// Rewrites `tan` as `sin / cos`.
pub const TAN_TO_SIN_COS: Rewrite = Rewrite {
    id: RewriteId::TAN_TO_SIN_COS,
    kinds: &["tan"],
    title: "Rewrite tan as sin/cos",
    precondition: unary,
    edit,
};

/// `real_div(sin(x), cos(x))`.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
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
