//! `cumsum-to-matmul`: `cumsum(x, axis, exclusive, reverse)` → a `matmul` with a constant 0/1
//! triangular matrix.
//!
//! Core ML refuses `cumsum` on the Neural Engine and runs `matmul` and `reshape` there
//! (`../shared/docs/ane.md`). Along an axis of length L, output j is the sum of the inputs k with
//! k ≤ j (k < j when `exclusive`; k ≥ j, k > j when `reverse`), which is row j of an L×L 0/1
//! matrix C times the input along that axis:
//!
//! - along the last axis, `matmul(x, Cᵀ)`;
//! - along the second last, `matmul(C, x)` (C broadcast over the leading axes);
//! - along another axis, the input is reshaped to (outer, L, inner) around `matmul(C, x)`.
//!
//! The matrix has L² elements, so axes longer than 2048 are left alone ([`MAX_CONSTANT`]).

use crate::build::{
    Chain, MAX_CONSTANT, boolean, const_int, float_elements, float_result, input, known_shape,
    same_typed_inputs, shape_operand,
};
use crate::{NotApplicable, Rewrite};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{ConstData, DType, Function, OpId, Type, TypedValue, ValueId};

/// Rewrites `cumsum` as a `matmul` with a triangular constant.
pub const CUMSUM_TO_MATMUL: Rewrite = Rewrite {
    id: RewriteId::CUMSUM_TO_MATMUL,
    kinds: &["cumsum"],
    title: "Rewrite cumsum as a matmul with a triangular matrix",
    precondition: |f, op| Cumsum::read(f, op).map(drop),
    edit,
};

/// What the rewrite reads from a `cumsum`.
struct Cumsum {
    shape: Vec<u64>,
    axis: usize,
    exclusive: bool,
    reverse: bool,
}

impl Cumsum {
    /// Reads `op`, or says why it cannot be rewritten.
    fn read(f: &Function, op: OpId) -> Result<Cumsum, NotApplicable> {
        let ty = float_result(f, op)?;
        same_typed_inputs(f, op, &ty, &["x"])?;
        let shape = known_shape(&ty)?;
        let rank = shape.len() as i64;
        let axis =
            const_int(f, op, "axis", 0).ok_or_else(|| NotApplicable("`axis` is not a constant".into()))?;
        NotApplicable::unless(rank > 0 && (-rank..rank).contains(&axis), || {
            format!("axis {axis} is out of range for rank {rank}")
        })?;
        let axis = axis.rem_euclid(rank.max(1)) as usize;
        NotApplicable::unless(shape[axis] * shape[axis] <= MAX_CONSTANT, || {
            format!(
                "the axis is {} long; its matrix would exceed {MAX_CONSTANT} elements",
                shape[axis]
            )
        })?;
        let flag = |key| {
            const_int(f, op, key, 0)
                .map(|v| v != 0)
                .ok_or_else(|| NotApplicable(format!("`{key}` is not a constant")))
        };
        Ok(Cumsum {
            axis,
            exclusive: flag("exclusive")?,
            reverse: flag("reverse")?,
            shape,
        })
    }

    /// Whether output `j` sums input `k`.
    fn sums(&self, j: u64, k: u64) -> bool {
        match (self.reverse, self.exclusive) {
            (false, false) => k <= j,
            (false, true) => k < j,
            (true, false) => k >= j,
            (true, true) => k > j,
        }
    }

    /// The L×L matrix, `C[j][k]` (output j, input k), or its transpose.
    fn matrix(&self, dtype: DType, transposed: bool) -> TypedValue {
        let len = self.shape[self.axis];
        let values = (0..len * len)
            .map(|i| {
                let (row, col) = (i / len, i % len);
                let (j, k) = if transposed { (col, row) } else { (row, col) };
                if self.sums(j, k) { 1.0 } else { 0.0 }
            })
            .collect();
        TypedValue {
            ty: Type::tensor(dtype, &[len, len]),
            data: ConstData::Tensor(float_elements(dtype, values)),
        }
    }
}

/// Inserts `matmul(x = a, y = b)` with a result of type `ty`.
fn matmul(c: &mut Chain<'_, '_>, a: ValueId, b: ValueId, ty: Type) -> Result<ValueId, EditError> {
    let args = vec![
        ("transpose_x", boolean(false)),
        ("transpose_y", boolean(false)),
        ("x", c.operand(a)),
        ("y", c.operand(b)),
    ];
    c.typed_op("matmul", "matmul", args, ty)
}

/// The matmul, between reshapes when the axis is neither of the last two.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as a cumsum is not the op it was.
    let cumsum = Cumsum::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let x = input(e.function(), op, "x")?;
    let mut c = Chain::new(e, op);
    let (dtype, ty, rank) = (c.dtype(), c.ty().clone(), cumsum.shape.len());
    let last = if cumsum.axis + 1 == rank {
        let m = c.constant("triangle", cumsum.matrix(dtype, true))?;
        matmul(&mut c, x, m, ty)?
    } else if cumsum.axis + 2 == rank {
        let m = c.constant("triangle", cumsum.matrix(dtype, false))?;
        matmul(&mut c, m, x, ty)?
    } else {
        let (a, s) = (cumsum.axis, &cumsum.shape);
        let folded = [s[..a].iter().product(), s[a], s[a + 1..].iter().product()];
        let folded_ty = Type::tensor(dtype, &folded);
        let args = vec![("shape", shape_operand(&folded)), ("x", c.operand(x))];
        let x3 = c.typed_op("reshape", "folded", args, folded_ty.clone())?;
        let m = c.constant("triangle", cumsum.matrix(dtype, false))?;
        let y3 = matmul(&mut c, m, x3, folded_ty)?;
        c.op(
            "reshape",
            "cumsum",
            vec![("shape", shape_operand(s)), ("x", c.operand(y3))],
        )?
    };
    c.finish(last)
}
