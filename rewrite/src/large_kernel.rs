//! `split-large-kernel`: a `conv` whose kernel the Neural Engine does not take (square above 16,
//! 1×K above 15, K×1 above 31, other rectangles above 16 on a side) → the sum of convs with the
//! kernel's tiles on shifted slices of the input.
//!
//! With the padding made explicit (a `pad` op with zeros) and `valid` convs after it, output
//! position p sums `W[k]·x[p·s + k·d]` over the kernel positions k. Cut the kernel into tiles
//! starting at `o`: a tile's share is a `valid` conv of the tile over the input sliced from `o·d`,
//! `(out − 1)·s + (len − 1)·d + 1` long, so that it has the original's output size; the shares
//! add up to the original. The bias goes to the first tile's conv; strides, dilations and groups
//! stay. The tiles are the kernel's slices (`slice_by_size` of the weight), so a kernel in a
//! weight file is split as well.
//!
//! The sum rounds differently from one conv: the proof measures its error relative to the sum of
//! the magnitudes of its terms.

use crate::build::{
    Chain, arg_shape, const_int, float_result, input, int32, operand_arg, same_dtype, scalar, shape_operand,
    string,
};
use crate::window::{Window, pieces};
use crate::{NotApplicable, Rewrite};
use mil_ane::rules::kernel_fits;
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{Function, OpId, Operand, Type, ValueId};

/// Splits a conv with a large kernel into convs with tiles of it.
pub const SPLIT_LARGE_KERNEL: Rewrite = Rewrite {
    id: RewriteId::SPLIT_LARGE_KERNEL,
    kinds: &["conv"],
    title: "Split the {kind}'s large kernel into tiles the Neural Engine takes",
    precondition: |f, op| Split::read(f, op).map(drop),
    edit,
};

/// The most convs one split makes.
pub const MAX_TILES: usize = 64;

/// What the rewrite reads from a conv.
struct Split {
    window: Window,
    /// The weight's shape, `[C_out, C_in / groups, *kernel]`.
    weight: Vec<u64>,
    groups: i64,
    /// Each tile's `(offset, length)` per spatial dim.
    tiles: Vec<Vec<(u64, u64)>>,
}

impl Split {
    /// Reads `op`, or says why its kernel is not split.
    fn read(f: &Function, op: OpId) -> Result<Split, NotApplicable> {
        let dtype = float_result(f, op)?.dtype().unwrap_or(mil_ir::DType::Fp32);
        same_dtype(f, op, dtype, &["x", "weight", "bias"])?;
        NotApplicable::unless(matches!(f.op(op).arg("x"), Some(Operand::Value(_))), || {
            "`x` is not a value of the program".into()
        })?;
        let weight = arg_shape(f, op, "weight")
            .ok_or_else(|| NotApplicable("the weight's shape is not known".into()))?;
        let kernel = weight.get(2..).unwrap_or_default().to_vec();
        let (kh, kw) = match kernel[..] {
            [k] => (1, k),
            [h, w] => (h, w),
            _ => return Err(NotApplicable("only 1-d and 2-d convs are split".into())),
        };
        NotApplicable::unless(!kernel_fits(kh, kw), || {
            format!("a {kh}×{kw} kernel fits the Neural Engine")
        })?;
        let groups = const_int(f, op, "groups", 1)
            .ok_or_else(|| NotApplicable("`groups` is not a constant".into()))?;
        let window = Window::read(f, op, kernel.clone())?;
        // The longest side each tile may have, per spatial dim, so that every tile fits.
        let limits: Vec<u64> = match kernel[..] {
            [_] => vec![15],
            [1, _] => vec![1, 15],
            [_, 1] => vec![31, 1],
            _ => vec![16, 16],
        };
        let per_dim: Vec<Vec<(u64, u64)>> = kernel.iter().zip(&limits).map(|(&k, &m)| pieces(k, m)).collect();
        let tiles: Vec<Vec<(u64, u64)>> = per_dim.iter().fold(vec![vec![]], |acc, dim| {
            acc.iter()
                .flat_map(|t| dim.iter().map(move |&p| [&t[..], &[p]].concat()))
                .collect()
        });
        NotApplicable::unless(tiles.len() <= MAX_TILES, || {
            format!(
                "the kernel would be cut into {} tiles, more than {MAX_TILES}",
                tiles.len()
            )
        })?;
        Ok(Split {
            window,
            weight,
            groups,
            tiles,
        })
    }
}

/// The padded input, one conv per tile on its slice, and their sum.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as such a conv is not the op it was.
    let split = Split::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let f = e.function();
    let x = input(f, op, "x")?;
    let weight = operand_arg(f, op, "weight").ok_or_else(|| EditError::Unresolved("weight".into()))?;
    let bias = operand_arg(f, op, "bias");
    let mut c = Chain::new(e, op);
    let (dtype, ty) = (c.dtype(), c.ty().clone());
    let w = &split.window;
    let padded_shape = w.padded_input();
    let padded = if w.padded() {
        let pad: Vec<u64> = w.pads.iter().flat_map(|&(b, a)| [b, a]).collect();
        let args = vec![
            ("constant_val", scalar(dtype, 0.0)),
            ("mode", string("constant")),
            ("pad", shape_operand(&pad)),
            ("x", c.operand(x)),
        ];
        c.typed_op("pad", "padded", args, Type::tensor(dtype, &padded_shape))?
    } else {
        x
    };
    let mut sum: Option<ValueId> = None;
    for (k, tile) in split.tiles.iter().enumerate() {
        let mut begin = vec![0; padded_shape.len()];
        let mut size = padded_shape[..2].to_vec();
        let mut w_begin = vec![0; split.weight.len()];
        let mut w_size = split.weight[..2].to_vec();
        for (i, &(offset, len)) in tile.iter().enumerate() {
            begin[i + 2] = offset * w.dilations[i];
            size.push((w.output[i + 2] - 1) * w.strides[i] + (len - 1) * w.dilations[i] + 1);
            w_begin[i + 2] = offset;
            w_size.push(len);
        }
        let xs = if size == padded_shape {
            padded
        } else {
            let x = c.operand(padded);
            c.slice(&format!("x{k}"), x, &begin, &size)?
        };
        let ws = c.slice(&format!("w{k}"), weight.clone(), &w_begin, &w_size)?;
        let mut args = vec![
            ("dilations", shape_operand(&w.dilations)),
            ("groups", int32(split.groups)),
            ("pad_type", string("valid")),
            ("strides", shape_operand(&w.strides)),
            ("weight", c.operand(ws)),
            ("x", c.operand(xs)),
        ];
        if k == 0 {
            args.extend(bias.clone().map(|b| ("bias", b)));
        }
        let part = c.typed_op("conv", &format!("tile{k}"), args, ty.clone())?;
        sum = Some(c.accumulate(sum, part, &format!("sum{k}"))?);
    }
    c.finish(sum.expect("a kernel has a tile"))
}
