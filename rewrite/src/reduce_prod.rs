//! `reduce-prod-to-mul`: `reduce_prod(x, axes, keep_dims)` → a tree of `mul` over halves of `x`
//! sliced along each reduced axis.
//!
//! Core ML refuses `reduce_prod` on the Neural Engine and runs `slice_by_index` (with `begin` and
//! `end`, as here: `slice_c.mil`), `mul` and `reshape` there (`../shared/docs/ane.md`; `ane` in
//! their `BackendSupport` in the analytics corpus). The product along an axis of length L is taken by
//! halving: the first ⌊L/2⌋ elements times the next ⌊L/2⌋, again until one is left, an odd
//! element out at some level kept aside and multiplied in at the end. That is ⌈log₂ L⌉ levels of
//! two slices and a `mul` (one slice more at an odd length), for every length, so the rewrite has
//! no limit but the known shape. The axes are reduced one after the other, keeping their dims as
//! 1; a `reshape` drops them when `keep_dims` is false.
//!
//! The result is exact up to rounding: the same factors multiplied in another order. In fp16
//! every partial product is rounded to fp16, and one can overflow to ∞ or underflow to 0 where
//! the product of all factors, which the interpreter takes in fp32, is in range (as it can for
//! any order of the products on a device that computes in fp16).

use crate::build::{Chain, const_int, const_ints, float_result, ints, known_shape, shape_operand, value_arg};
use crate::{NotApplicable, Rewrite};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{DType, Function, OpId, Type, ValueId};

/// Rewrites `reduce_prod` as a tree of products of slices.
pub const REDUCE_PROD_TO_MUL: Rewrite = Rewrite {
    id: RewriteId::REDUCE_PROD_TO_MUL,
    kinds: &["reduce_prod"],
    title: "Rewrite reduce_prod as a tree of products of slices",
    precondition: |f, op| Product::read(f, op).map(drop),
    edit,
};

/// What the rewrite reads from a `reduce_prod`.
struct Product {
    x: ValueId,
    dtype: DType,
    shape: Vec<u64>,
    /// The reduced axes, ascending, each once.
    axes: Vec<usize>,
    keep_dims: bool,
    /// The result's shape.
    result: Vec<u64>,
}

impl Product {
    /// Reads `op`, or says why it cannot be rewritten.
    fn read(f: &Function, op: OpId) -> Result<Product, NotApplicable> {
        let ty = float_result(f, op)?;
        let dtype = ty.dtype().unwrap_or(DType::Fp32);
        let x =
            value_arg(f, op, "x").ok_or_else(|| NotApplicable("`x` is not a value of the program".into()))?;
        NotApplicable::unless(f.value(x).ty.dtype() == Some(dtype), || {
            "`x` has another dtype than the result".into()
        })?;
        let shape = known_shape(&f.value(x).ty)?;
        let result = known_shape(&ty)?;
        NotApplicable::unless(!result.is_empty(), || "the result is a scalar".into())?;
        let rank = shape.len() as i64;
        let mut axes = match f.op(op).arg("axes") {
            None => (0..shape.len()).collect(),
            Some(_) => {
                let given = const_ints(f, op, "axes")
                    .ok_or_else(|| NotApplicable("`axes` is not a constant".into()))?;
                let mut axes = Vec::new();
                for a in given {
                    NotApplicable::unless((-rank..rank).contains(&a), || {
                        format!("axis {a} is out of range for rank {rank}")
                    })?;
                    axes.push(a.rem_euclid(rank) as usize);
                }
                axes
            }
        };
        axes.sort_unstable();
        axes.dedup();
        let keep_dims = const_int(f, op, "keep_dims", 0)
            .ok_or_else(|| NotApplicable("`keep_dims` is not a constant".into()))?
            != 0;
        Ok(Product {
            x,
            dtype,
            shape,
            axes,
            keep_dims,
            result,
        })
    }
}

/// The tree of products along each axis, then the reshape that drops the reduced axes.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as one is not the op it was.
    let p = Product::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let mut c = Chain::new(e, op);
    let mut shape = p.shape.clone();
    let mut value = p.x;
    let mut made = false;
    for &axis in &p.axes {
        let mut odd = Vec::new();
        let mut level = 0;
        while shape[axis] > 1 {
            let half = shape[axis] / 2;
            let n = format!("a{axis}_{level}");
            let part = |c: &mut Chain<'_, '_>, suffix: &str, begin: u64, len: u64| {
                let mut at = vec![0; shape.len()];
                at[axis] = begin as i64;
                let mut end: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                end[axis] = (begin + len) as i64;
                let mut size: Vec<u64> = shape.clone();
                size[axis] = len;
                let args = vec![("begin", ints(&at)), ("end", ints(&end)), ("x", c.operand(value))];
                c.typed_op(
                    "slice_by_index",
                    &format!("{n}_{suffix}"),
                    args,
                    Type::tensor(p.dtype, &size),
                )
            };
            let low = part(&mut c, "lo", 0, half)?;
            let high = part(&mut c, "hi", half, half)?;
            if shape[axis] % 2 == 1 {
                odd.push(part(&mut c, "odd", 2 * half, 1)?);
            }
            shape[axis] = half;
            let args = vec![("x", c.operand(low)), ("y", c.operand(high))];
            value = c.typed_op("mul", &n, args, Type::tensor(p.dtype, &shape))?;
            level += 1;
            made = true;
        }
        // The odd elements out, each of the product's shape, from the last level to the first.
        for (k, o) in odd.into_iter().rev().enumerate() {
            let args = vec![("x", c.operand(value)), ("y", c.operand(o))];
            value = c.typed_op(
                "mul",
                &format!("a{axis}_odd{k}"),
                args,
                Type::tensor(p.dtype, &shape),
            )?;
        }
    }
    // A reshape drops the reduced axes, or stands for the op when every reduced axis was 1 long.
    if !p.keep_dims || !made {
        let args = vec![("shape", shape_operand(&p.result)), ("x", c.operand(value))];
        value = c.typed_op("reshape", "shape", args, Type::tensor(p.dtype, &p.result))?;
    }
    c.finish(value)
}
