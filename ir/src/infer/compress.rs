//! Compressed weights and quantisation: the `constexpr_*` ops (whose operands iOS16/17 files
//! write as attributes), `quantize` and `dequantize`.

use super::context::Ctx;
use super::shape::{axis, dim, known};
use super::{Inferred, Problem, tensor};
use crate::types::{DType, Dim};

/// `constexpr_affine_dequantize`, `constexpr_blockwise_shift_scale`: the data's shape with the
/// scale's dtype.
pub(crate) fn dequantize_const(cx: &Ctx) -> Inferred {
    let key = if cx.version.input("quantized_data").is_some() {
        "quantized_data"
    } else {
        "data"
    };
    let data = cx.shape(key)?;
    if cx.has("axis") {
        axis(cx.int("axis")?, data.len(), "axis")?;
    }
    Ok(vec![tensor(cx.dtype("scale")?, data.to_vec())])
}

/// The dtype named by string input `key`.
fn named_dtype(cx: &Ctx, key: &str, allowed: &[DType]) -> Result<DType, Problem> {
    let name = cx.string_or(key, "")?;
    DType::from_name(&name)
        .filter(|d| allowed.contains(d))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|d| d.name()).collect();
            Problem::invalid(
                key,
                format!("{key} \"{name}\" is not one of {}", names.join(", ")),
            )
        })
}

/// `constexpr_cast`: the source's shape in `output_dtype`.
pub(crate) fn constexpr_cast(cx: &Ctx) -> Inferred {
    let dtype = named_dtype(cx, "output_dtype", &[DType::Fp16, DType::Fp32])?;
    Ok(vec![tensor(dtype, cx.shape("source_val")?.to_vec())])
}

/// The shape of `indices`-like input `key` with the `vector_axis` dim widened `by` times.
fn widened(cx: &Ctx, key: &str, by: Dim) -> Result<Vec<Dim>, Problem> {
    let mut shape = cx.shape(key)?.to_vec();
    if known(by).is_none_or(|v| v > 1) {
        let a = axis(cx.int("vector_axis")?, shape.len(), "vector_axis")?;
        shape[a] = super::shape::combine(shape[a], by, |d, v| d * v);
    }
    Ok(shape)
}

/// The size of the vectors a lookup table holds (its last dim, iOS18).
fn lut_vector(cx: &Ctx) -> Result<Dim, Problem> {
    cx.shape("lut")?.last().copied().ok_or(Problem::Unknown)
}

/// `constexpr_lut_to_dense`: `shape` (iOS16) or the indices' shape widened by the vector size.
pub(crate) fn lut_to_dense(cx: &Ctx) -> Inferred {
    let dtype = cx.dtype("lut")?;
    if cx.version.input("shape").is_some() {
        return Ok(vec![tensor(
            dtype,
            cx.ints("shape")?.into_iter().map(dim).collect(),
        )]);
    }
    Ok(vec![tensor(dtype, widened(cx, "indices", lut_vector(cx)?)?)])
}

/// `constexpr_sparse_to_dense`: `shape` (iOS16) or the mask's shape.
pub(crate) fn sparse_to_dense(cx: &Ctx) -> Inferred {
    let dtype = cx.dtype("nonzero_data")?;
    if cx.version.input("shape").is_some() {
        return Ok(vec![tensor(
            dtype,
            cx.ints("shape")?.into_iter().map(dim).collect(),
        )]);
    }
    Ok(vec![tensor(dtype, cx.shape("mask")?.to_vec())])
}

/// `constexpr_lut_to_sparse`: the widened mask, and the looked-up non-zero values.
pub(crate) fn lut_to_sparse(cx: &Ctx) -> Inferred {
    let vector = lut_vector(cx)?;
    let mask = widened(cx, "indices_mask", vector)?;
    let values = cx
        .shape("indices_nonzero_data")?
        .iter()
        .map(|&d| super::shape::combine(d, vector, |d, v| d * v))
        .collect();
    Ok(vec![
        tensor(cx.dtype("indices_mask")?, mask),
        tensor(cx.dtype("lut")?, values),
    ])
}

/// `constexpr_sparse_blockwise_shift_scale`: the mask, and the dequantised non-zero values.
pub(crate) fn sparse_shift_scale(cx: &Ctx) -> Inferred {
    let (mask_dtype, mask) = cx.tensor("data_mask")?;
    Ok(vec![
        tensor(mask_dtype, mask.to_vec()),
        tensor(cx.dtype("scale")?, cx.shape("nonzero_data")?.to_vec()),
    ])
}

/// `quantize`: the input's shape in `output_dtype` (int8 or uint8).
pub(crate) fn quantize(cx: &Ctx) -> Inferred {
    let allowed = cx
        .version
        .type_domain("DstT")
        .unwrap_or(&[DType::Int8, DType::UInt8]);
    let dtype = named_dtype(cx, "output_dtype", allowed)?;
    if cx.has("zero_point") && cx.dtype("zero_point")? != dtype {
        return Err(Problem::incompatible(
            "zero_point",
            format!("zero_point must have the output dtype {dtype}"),
        ));
    }
    let input = cx.shape("input")?;
    if cx.has("axis") {
        axis(cx.int("axis")?, input.len(), "axis")?;
    }
    Ok(vec![tensor(dtype, input.to_vec())])
}

/// `dequantize`: the input's shape in the scale's dtype.
pub(crate) fn dequantize(cx: &Ctx) -> Inferred {
    let input = cx.shape("input")?;
    if cx.has("axis") {
        axis(cx.int("axis")?, input.len(), "axis")?;
    }
    Ok(vec![tensor(cx.dtype("scale")?, input.to_vec())])
}
