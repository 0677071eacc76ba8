//! The inverse functions Core ML refuses on the Neural Engine, spelled with `atan`, `sqrt` and
//! `log`, which it runs there (`../shared/docs/ane.md`):
//!
//! - `arc-to-atan`: `asin(x)` → `atan(x / sqrt((1 − x)(1 + x)))` and
//!   `acos(x)` → `2·atan(sqrt((1 − x) / (1 + x)))`;
//! - `atanh-to-log`: `atanh(x)` → `½·log((1 + x) / (1 − x))`.
//!
//! `1 − x²` is spelled `(1 − x)(1 + x)`: for |x| near 1, `1 − x` is exact, where `1 − x·x` would
//! lose the digits that the steep ends of `asin` magnify. `acos` uses the half-angle form rather
//! than `π/2 − asin(x)`, which would cancel near x = 1. At x = ±1 the quotients are ±∞ and `atan`
//! gives ±π/2 exactly as `asin`/`acos` do; `atanh(±1)` is ±∞ both ways, as `log` is given
//! `epsilon = 0` (its default, 1e-45, would make `log(0)` −103 rather than −∞ in fp32).

use crate::Rewrite;
use crate::build::{Chain, input, unary};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{OpId, ValueId};

/// Rewrites `asin` and `acos` with `atan` and `sqrt`.
pub const ARC_TO_ATAN: Rewrite = Rewrite {
    id: RewriteId::ARC_TO_ATAN,
    kinds: &["asin", "acos"],
    title: "Rewrite {kind} with atan and sqrt",
    precondition: unary,
    edit: arc_to_atan,
};

/// Rewrites `atanh` with `log`.
pub const ATANH_TO_LOG: Rewrite = Rewrite {
    id: RewriteId::ATANH_TO_LOG,
    kinds: &["atanh"],
    title: "Rewrite atanh with log",
    precondition: unary,
    edit: atanh_to_log,
};

/// Inserts `1 − x` and `1 + x`.
fn one_minus_and_plus(c: &mut Chain<'_, '_>, x: ValueId) -> Result<(ValueId, ValueId), EditError> {
    let minus = c.op(
        "sub",
        "one_minus",
        vec![("x", c.scalar(1.0)), ("y", c.operand(x))],
    )?;
    let plus = c.op("add", "one_plus", vec![("x", c.operand(x)), ("y", c.scalar(1.0))])?;
    Ok((minus, plus))
}

/// `atan(x / sqrt((1 − x)(1 + x)))` or `2·atan(sqrt((1 − x) / (1 + x)))`.
fn arc_to_atan(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    let asin = e.function().op(op).kind == "asin";
    let x = input(e.function(), op, "x")?;
    let mut c = Chain::new(e, op);
    let (minus, plus) = one_minus_and_plus(&mut c, x)?;
    let last = if asin {
        let square = c.op(
            "mul",
            "one_minus_square",
            vec![("x", c.operand(minus)), ("y", c.operand(plus))],
        )?;
        let root = c.op("sqrt", "cos", vec![("x", c.operand(square))])?;
        let ratio = c.op(
            "real_div",
            "tan",
            vec![("x", c.operand(x)), ("y", c.operand(root))],
        )?;
        c.op("atan", "asin", vec![("x", c.operand(ratio))])?
    } else {
        let ratio = c.op(
            "real_div",
            "ratio",
            vec![("x", c.operand(minus)), ("y", c.operand(plus))],
        )?;
        let root = c.op("sqrt", "half_tan", vec![("x", c.operand(ratio))])?;
        let half = c.op("atan", "half", vec![("x", c.operand(root))])?;
        c.op("mul", "acos", vec![("x", c.operand(half)), ("y", c.scalar(2.0))])?
    };
    c.finish(last)
}

/// `½·log((1 + x) / (1 − x))`, with `epsilon = 0`.
fn atanh_to_log(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    let x = input(e.function(), op, "x")?;
    let mut c = Chain::new(e, op);
    let (minus, plus) = one_minus_and_plus(&mut c, x)?;
    let ratio = c.op(
        "real_div",
        "ratio",
        vec![("x", c.operand(plus)), ("y", c.operand(minus))],
    )?;
    let log = c.op(
        "log",
        "log",
        vec![("epsilon", c.scalar(0.0)), ("x", c.operand(ratio))],
    )?;
    let half = c.op("mul", "atanh", vec![("x", c.operand(log)), ("y", c.scalar(0.5))])?;
    c.finish(half)
}
