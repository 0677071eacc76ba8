//! `band-part-to-mask`: `band_part(x, lower, upper)` → `mul(x, mask)` with a constant 0/1 mask.
//!
//! Core ML refuses `band_part` on the Neural Engine and runs `mul` there (`../shared/docs/ane.md`;
//! `mul` with `ane` in its `BackendSupport` in the analytics corpus). `band_part` keeps element
//! (m, n) of the last two axes when `lower < 0 or m − n ≤ lower` and `upper < 0 or n − m ≤ upper`,
//! and zeroes the rest; the mask is 1 where it keeps, and broadcasts over the leading axes.
//!
//! One difference: outside the band a non-finite input times 0 is NaN where `band_part` gives 0
//! (and a negative input gives −0). For finite inputs the rewrite is exact.

use crate::build::{
    Chain, MAX_CONSTANT, const_int, float_elements, float_result, input, known_shape, same_typed_inputs,
};
use crate::{NotApplicable, Rewrite};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{ConstData, Function, OpId, Type, TypedValue};

/// Rewrites `band_part` as a product with a constant mask.
pub const BAND_PART_TO_MASK: Rewrite = Rewrite {
    id: RewriteId::BAND_PART_TO_MASK,
    kinds: &["band_part"],
    title: "Rewrite band_part as a product with a mask",
    precondition: |f, op| Band::read(f, op).map(drop),
    edit,
};

/// What the rewrite reads from a `band_part`.
struct Band {
    rows: u64,
    cols: u64,
    lower: i64,
    upper: i64,
}

impl Band {
    /// Reads `op`, or says why it cannot be rewritten.
    fn read(f: &Function, op: OpId) -> Result<Band, NotApplicable> {
        let ty = float_result(f, op)?;
        same_typed_inputs(f, op, &ty, &["x"])?;
        let shape = known_shape(&ty)?;
        let [.., rows, cols] = shape[..] else {
            return Err(NotApplicable(format!("`x` has rank {}, below 2", shape.len())));
        };
        NotApplicable::unless(rows * cols <= MAX_CONSTANT, || {
            format!(
                "the mask would have {} elements, above {MAX_CONSTANT}",
                rows * cols
            )
        })?;
        let bound = |key| {
            const_int(f, op, key, -1).ok_or_else(|| NotApplicable(format!("`{key}` is not a constant")))
        };
        Ok(Band {
            rows,
            cols,
            lower: bound("lower")?,
            upper: bound("upper")?,
        })
    }

    /// The rows×cols mask in `ty`'s element type.
    fn mask(&self, ty: &Type) -> TypedValue {
        let dtype = ty.dtype().unwrap_or(mil_ir::DType::Fp32);
        let values = (0..self.rows * self.cols)
            .map(|i| {
                let (m, n) = ((i / self.cols) as i64, (i % self.cols) as i64);
                let keep = (self.lower < 0 || m - n <= self.lower) && (self.upper < 0 || n - m <= self.upper);
                if keep { 1.0 } else { 0.0 }
            })
            .collect();
        TypedValue {
            ty: Type::tensor(dtype, &[self.rows, self.cols]),
            data: ConstData::Tensor(float_elements(dtype, values)),
        }
    }
}

/// `mul(x, mask)`.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as a band_part is not the op it was.
    let band = Band::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let x = input(e.function(), op, "x")?;
    let mut c = Chain::new(e, op);
    let mask = c.constant("mask", band.mask(c.ty()))?;
    let product = c.op("mul", "band", vec![("x", c.operand(x)), ("y", c.operand(mask))])?;
    c.finish(product)
}
