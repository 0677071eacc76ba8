//! What a quantised weight is: the scheme of a `constexpr_affine_dequantize`,
//! `constexpr_blockwise_shift_scale` or `constexpr_lut_to_dense` op, its size against the dense
//! weight, and the error its scheme allows (for the editor's hover).
//!
//! The original weight is not in the program any more, so the error is a bound read from the op's
//! own parameters: a linear scheme rounds each value in its block's range to the nearest step, off
//! by at most half the block's scale; a table maps a value between two neighbouring entries to the
//! nearer, off by at most half their gap (values beyond the outermost entries can be further).

use mil_ir::weights::{Weights, payload_size};
use mil_ir::{Function, OpId, Operand, TypedValue, ValueDef};

use crate::weights::read_floats;

/// A quantised weight's description.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheme {
    /// What it is, as a phrase ("int8, per channel (64 scales along axis 0), symmetric").
    pub scheme: String,
    /// Bytes of its quantised data and parameters.
    pub bytes: u64,
    /// Bytes of the dense weight it stands for.
    pub dense_bytes: u64,
    /// The error bound, as a phrase.
    pub error: String,
}

/// The description of op `op` of `f` when it is a quantised weight, its parameters read through
/// `weights`; `None` for any other op or one whose operands cannot be read.
pub fn describe(f: &Function, op: OpId, weights: &mut dyn Weights) -> Option<Scheme> {
    let o = f.op(op);
    let result = f.value(*o.results.first()?);
    let dense_bytes = payload_size(result.ty.dtype()?, result.ty.element_count()?)?;
    let input = |key: &str| -> Option<&TypedValue> {
        match o.arg(key) {
            Some(Operand::Const(v)) => Some(v),
            Some(Operand::Value(r)) => match f.value(r.id?).def {
                ValueDef::Result(c, 0) if f.op(c).kind == "const" => f.op(c).attribute("val"),
                _ => None,
            },
            Some(Operand::Tuple(_)) => None,
            None => o.attribute(key),
        }
    };
    let size = |v: &TypedValue| payload_size(v.ty.dtype()?, v.ty.element_count()?);
    let shape = |v: &TypedValue| -> Vec<u64> { v.known_shape().unwrap_or_default() };
    match o.kind.as_str() {
        "constexpr_affine_dequantize" | "constexpr_blockwise_shift_scale" => {
            let blockwise = o.kind == "constexpr_blockwise_shift_scale";
            let data = input(if blockwise { "data" } else { "quantized_data" })?;
            let scale = input("scale")?;
            let offset = input(if blockwise { "offset" } else { "zero_point" });
            let scales = read_floats(scale, weights).ok()??.values;
            let largest = scales.iter().fold(0f32, |m, &s| m.max(s.abs()));
            let granularity = if blockwise {
                blocks(&shape(data), &shape(scale))
            } else {
                let axis = match input("axis").map(|v| &v.data) {
                    Some(mil_ir::ConstData::Tensor(mil_ir::Elements::Int(a))) => {
                        a.first().copied().unwrap_or(0)
                    }
                    _ => 0,
                };
                match scales.len() {
                    1 => "per tensor".to_string(),
                    n => format!("per channel ({n} scales along axis {axis})"),
                }
            };
            let offsets = if offset.is_some() {
                "with zero points"
            } else {
                "symmetric"
            };
            Some(Scheme {
                scheme: format!("{}, {granularity}, {offsets}", data.ty.dtype()?.name()),
                bytes: size(data)? + size(scale)? + offset.and_then(size).unwrap_or(0),
                dense_bytes,
                error: format!(
                    "at most half a step: ≤ {:.3e} (largest scale {largest:.3e} / 2)",
                    largest / 2.0
                ),
            })
        }
        "constexpr_lut_to_dense" => {
            let indices = input("indices")?;
            let lut = input("lut")?;
            let entries_flat = read_floats(lut, weights).ok()??.values;
            let lut_shape = shape(lut);
            let (tables, entries, bits) = match o.attribute("shape").or(input("shape")) {
                // iOS16: lut [2ⁿ], indices packed into uint8.
                Some(_) if o.arg("indices").is_none() => {
                    let n = entries_flat.len();
                    (1, n, n.trailing_zeros())
                }
                _ => {
                    let rank = lut_shape.len().checked_sub(2)?;
                    let n = *lut_shape.get(rank)? as usize;
                    (
                        lut_shape[..rank].iter().product::<u64>() as usize,
                        n,
                        indices.ty.dtype()?.bits()?,
                    )
                }
            };
            let widest = (entries_flat.chunks(entries.max(1)))
                .map(|t| {
                    let mut t = t.to_vec();
                    t.sort_by(f32::total_cmp);
                    t.windows(2).fold(0f32, |m, w| m.max(w[1] - w[0]))
                })
                .fold(0f32, f32::max);
            let granularity = if tables == 1 {
                "one table".to_string()
            } else {
                format!("{tables} tables (per channel group)")
            };
            Some(Scheme {
                scheme: format!("{entries}-entry look-up table ({bits}-bit indices), {granularity}"),
                bytes: size(indices)? + size(lut)?,
                dense_bytes,
                error: format!(
                    "between neighbouring entries at most half their gap: ≤ {:.3e} (values beyond the outermost entries can be further)",
                    widest / 2.0
                ),
            })
        }
        _ => None,
    }
}

/// The granularity of `constexpr_blockwise_shift_scale` scales of `scale` shape over data of `data`
/// shape.
fn blocks(data: &[u64], scale: &[u64]) -> String {
    let split: Vec<(usize, u64, u64)> = (data.iter().zip(scale).enumerate())
        .filter(|(_, (_, s))| **s > 1)
        .map(|(a, (&d, &s))| (a, d, s))
        .collect();
    match split.as_slice() {
        [] => "per tensor".into(),
        [(axis, d, s)] if d == s => format!("per channel ({s} scales along axis {axis})"),
        _ => {
            let sizes: Vec<String> = (split.iter())
                .map(|(a, d, s)| format!("{} along axis {a}", d / s))
                .collect();
            format!("per block ({})", sizes.join(", "))
        }
    }
}
