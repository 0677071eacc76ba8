//! `split-matmul-inner`: a `matmul` whose inner dimension is above 32,768 → the sum of matmuls
//! over slices of it.
//!
//! `x·y = Σₖ x[…, Kₖ]·y[Kₖ, …]` for any partition of the inner dimension into ranges Kₖ. Each
//! range is at most 32,768 long (the fewest, as equal as can be); `x` is sliced along its inner
//! axis (the last, or the second last with `transpose_x`) and `y` along its own (the second last,
//! or the last with `transpose_y`); the products keep the flags and are added. Both operands have
//! rank 2 or more (a rank-1 operand is a vector product that the planner does not split).
//!
//! The sum rounds differently from one product: the proof measures its error relative to the sum
//! of the magnitudes of its terms.

use crate::build::{Chain, arg_shape, const_int, float_result, operand_arg, same_dtype};
use crate::window::pieces;
use crate::{NotApplicable, Rewrite};
use mil_ane::rules::MAX_MATMUL_INNER;
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{Function, OpId, ValueId};

/// Splits a matmul's inner dimension.
pub const SPLIT_MATMUL_INNER: Rewrite = Rewrite {
    id: RewriteId::SPLIT_MATMUL_INNER,
    kinds: &["matmul"],
    title: "Split the {kind}'s inner dimension into parts of at most 32,768 and add them",
    precondition: |f, op| Inner::read(f, op).map(drop),
    edit,
};

/// What the rewrite reads from a matmul.
struct Inner {
    x: Vec<u64>,
    y: Vec<u64>,
    /// The inner axis of `x` and of `y`.
    x_axis: usize,
    y_axis: usize,
    transpose_x: bool,
    transpose_y: bool,
}

impl Inner {
    /// Reads `op`, or says why its inner dimension is not split.
    fn read(f: &Function, op: OpId) -> Result<Inner, NotApplicable> {
        let dtype = float_result(f, op)?.dtype().unwrap_or(mil_ir::DType::Fp32);
        same_dtype(f, op, dtype, &["x", "y"])?;
        let shape = |key: &str| {
            arg_shape(f, op, key).ok_or_else(|| NotApplicable(format!("the shape of `{key}` is not known")))
        };
        let (x, y) = (shape("x")?, shape("y")?);
        NotApplicable::unless(x.len() >= 2 && y.len() >= 2, || {
            "an operand has rank below 2".into()
        })?;
        let flag = |key: &str| {
            const_int(f, op, key, 0)
                .map(|v| v != 0)
                .ok_or_else(|| NotApplicable(format!("`{key}` is not a constant")))
        };
        let (transpose_x, transpose_y) = (flag("transpose_x")?, flag("transpose_y")?);
        let x_axis = x.len() - 1 - usize::from(transpose_x);
        let y_axis = y.len() - 2 + usize::from(transpose_y);
        NotApplicable::unless(x[x_axis] == y[y_axis], || "the inner dimensions differ".into())?;
        NotApplicable::unless(x[x_axis] > MAX_MATMUL_INNER, || {
            format!("an inner dimension of {} fits the Neural Engine", x[x_axis])
        })?;
        Ok(Inner {
            x,
            y,
            x_axis,
            y_axis,
            transpose_x,
            transpose_y,
        })
    }
}

/// One product per range of the inner dimension, added up.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as such a matmul is not the op it was.
    let inner = Inner::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let f = e.function();
    let operand = |key: &str| operand_arg(f, op, key).ok_or_else(|| EditError::Unresolved(key.into()));
    let (x, y) = (operand("x")?, operand("y")?);
    let mut c = Chain::new(e, op);
    let mut sum: Option<ValueId> = None;
    for (k, (offset, len)) in pieces(inner.x[inner.x_axis], MAX_MATMUL_INNER)
        .into_iter()
        .enumerate()
    {
        let mut slice = |name: &str, operand: &mil_ir::Operand, shape: &[u64], axis: usize| {
            let (mut begin, mut size) = (vec![0; shape.len()], shape.to_vec());
            (begin[axis], size[axis]) = (offset, len);
            c.slice(&format!("{name}{k}"), operand.clone(), &begin, &size)
        };
        let xs = slice("x", &x, &inner.x, inner.x_axis)?;
        let ys = slice("y", &y, &inner.y, inner.y_axis)?;
        let args = vec![
            ("transpose_x", crate::build::boolean(inner.transpose_x)),
            ("transpose_y", crate::build::boolean(inner.transpose_y)),
            ("x", c.operand(xs)),
            ("y", c.operand(ys)),
        ];
        let part = c.op("matmul", &format!("part{k}"), args)?;
        sum = Some(c.accumulate(sum, part, &format!("sum{k}"))?);
    }
    c.finish(sum.expect("the inner dimension has a part"))
}
