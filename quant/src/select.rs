//! Which consts coremltools' `linear_quantize_weights` quantises, and along which axis.
//!
//! coremltools 9.0, `optimize/coreml/_quantization_passes.py` (`AbstractCompressionPass.is_valid_op`,
//! `need_compress_const`, `linear_quantize_weights.transform_op`), `optimize/coreml/_config.py`
//! (`_get_const_op_config`) and `optimize/_utils.py` (`select_input_output_channel_axis`,
//! `infer_block_sizes`), and `converters/mil/backend/mil/load.py` (`should_use_weight_file`).

use crate::Granularity;
use mil_ir::{ConstData, Elements, Function, OpId, Operand, Use, ValueId};

/// A const of fewer elements stays inline in a package (`should_use_weight_file`), and is never
/// quantised; the parameters coremltools writes go to the weight file from this size on.
pub const WEIGHT_FILE_FROM: u64 = 10;

/// The kinds of op whose consts are left alone because they already are compressed weights.
const CONSTEXPR_PREFIX: &str = "constexpr_";

/// The ops that read `value`, once each, in the order of its uses.
pub fn readers(f: &Function, value: ValueId) -> Vec<OpId> {
    let mut ops: Vec<OpId> = Vec::new();
    for u in &f.value(value).uses {
        if let Use::Operand { op, .. } = u
            && !ops.contains(op)
        {
            ops.push(*op);
        }
    }
    ops.sort_by_key(|op| op.0);
    ops
}

/// Whether a const of `rank` and `elements` read by `readers` is one coremltools quantises with
/// `threshold`: read by some op (a const only returned is left alone), not by a `constexpr_` op,
/// of rank 2 or more (1-D consts are left alone) and more than `threshold` elements.
pub fn is_candidate(f: &Function, readers: &[OpId], rank: usize, elements: u64, threshold: u64) -> bool {
    !readers.is_empty()
        && !readers
            .iter()
            .any(|&op| f.op(op).kind.starts_with(CONSTEXPR_PREFIX))
        && rank >= 2
        && elements >= WEIGHT_FILE_FROM
        && elements > threshold
}

/// The output- and input-channel axes of a weight of `rank` that `readers` read
/// (`select_input_output_channel_axis`): output 1 and input 0 for `conv_transpose`; for `matmul`,
/// its `y` has output −1 and input −2 (swapped by `transpose_y`), its `x` output −2 and input −1
/// (swapped by `transpose_x`); output 0 and input 1 for every other op. `None` when the readers
/// disagree on either axis: coremltools then leaves the const alone, whatever the granularity.
pub fn channel_axes(f: &Function, value: ValueId, readers: &[OpId], rank: usize) -> Option<(usize, usize)> {
    let rank = rank as i64;
    let mut found: Option<(i64, i64)> = None;
    for &op in readers {
        let o = f.op(op);
        let (output, input) = match o.kind.as_str() {
            "conv_transpose" => (1, 0),
            "matmul" if reads(o.arg("y"), value) => {
                if flag(f, o.arg("transpose_y")) {
                    (-2, -1)
                } else {
                    (-1, -2)
                }
            }
            "matmul" => {
                if flag(f, o.arg("transpose_x")) {
                    (-1, -2)
                } else {
                    (-2, -1)
                }
            }
            _ => (0, 1),
        };
        let axes = (
            output + if output < 0 { rank } else { 0 },
            input + if input < 0 { rank } else { 0 },
        );
        match found {
            None => found = Some(axes),
            Some(seen) if seen != axes => return None,
            Some(_) => {}
        }
    }
    let (output, input) = found.unwrap_or((0, 1));
    Some((usize::try_from(output).ok()?, usize::try_from(input).ok()?))
}

/// The block size along each axis of a weight of `shape` (0: the whole axis) for `granularity`
/// with channel axes `(output, input)` (`infer_block_sizes`): per tensor none, per channel 1 on the
/// output axis, per block `n` on the input axis and 1 on the output axis. `None` when a dimension is
/// not a multiple of its block size: coremltools then leaves the const alone.
pub fn block_sizes(
    granularity: Granularity,
    shape: &[u64],
    (output, input): (usize, usize),
) -> Option<Vec<u64>> {
    let mut sizes = vec![0; shape.len()];
    let (input_block, output_block) = match granularity {
        Granularity::PerTensor => (0, 0),
        Granularity::PerChannel => (0, 1),
        Granularity::PerBlock(n) => (n, 1),
    };
    if let Some(s) = sizes.get_mut(input) {
        *s = input_block;
    }
    if let Some(s) = sizes.get_mut(output) {
        *s = output_block;
    }
    let divisible = shape
        .iter()
        .zip(&sizes)
        .all(|(&dim, &size)| size == 0 || dim % size == 0);
    divisible.then_some(sizes)
}

/// Whether `operand` is a use of `value`.
fn reads(operand: Option<&Operand>, value: ValueId) -> bool {
    operand.is_some_and(|o| o.values().any(|(_, r)| r.id == Some(value)))
}

/// The boolean an argument holds, inline or through a const; `false` when absent.
fn flag(f: &Function, operand: Option<&Operand>) -> bool {
    let value = match operand {
        Some(Operand::Const(v)) => Some(v),
        Some(Operand::Value(r)) => r.id.and_then(|id| match f.value(id).def {
            mil_ir::ValueDef::Result(op, 0) if f.op(op).kind == "const" => f.op(op).attribute("val"),
            _ => None,
        }),
        _ => None,
    };
    matches!(value.map(|v| &v.data), Some(ConstData::Tensor(Elements::Bool(b))) if b.first() == Some(&true))
}
