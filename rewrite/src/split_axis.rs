//! `split-axis`: ops refused because an axis is longer than 65,536 (ANE014) → the same ops on
//! pieces of that axis, each at most 65,536 long, and one `concat` of the pieces.
//!
//! Splitting one op alone would not help: the slices read, and the concat writes, a tensor with
//! the long axis, which the Neural Engine refuses in turn. So the rewrite takes the op's *region*:
//! the chain of ops through it that act independently along the long axis (each reading the one
//! before it, which nothing else reads), and moves the slices to the region's input and the concat
//! to its output. Only those two ops are left with the long axis; every op between them runs on
//! pieces the Neural Engine takes.
//!
//! The ops a region holds, for the long axis `a` of their result:
//!
//! - elementwise ops of one tensor (`relu`, `sigmoid`, `clip`, …) and binary ones (`add`, `mul`,
//!   …) whose other operand is a one-element constant: a piece of the output is the op on the
//!   same piece of the input;
//! - `conv` along the batch; along the channels when depthwise (`groups` = C_in = C_out), with
//!   each piece's weight and bias sliced from the original (`slice_by_size`, so a weight in a
//!   weight file is sliced where it is) and `groups` the piece's channels; along a spatial axis
//!   with a halo: output positions `[o₀, o₁)` read the input from `o₀·s − p` to
//!   `(o₁ − 1)·s − p + (k − 1)·d + 1` (stride `s`, padding before `p`, kernel `k`, dilation `d`),
//!   clipped to the input, and what the clip cuts off is zero padding of the piece's conv
//!   (`pad_type = custom`).
//!
//! The pieces are cut on the region's output (the fewest equal pieces for which every piece of
//! every op's input is at most 65,536 long, halos included) and carried back op by op.
//! Elementwise pieces compute exactly what the original does; a conv piece sums the same terms in
//! the same order, its padding zeros included.

use crate::build::{
    arg_shape, const_arg, const_int, float_result, int32, ints, known_shape, operand_arg, same_dtype, string,
    value_arg,
};
use crate::window::{Window, pieces};
use crate::{NotApplicable, Rewrite};
use mil_ane::rules::MAX_DIM;
use mil_ir::mutate::{EditError, Editor, NewOp, Place, RewriteId};
use mil_ir::{DType, Dim, Function, OpId, Operand, Type, Use, ValueDef, ValueId};

/// Splits an op's long axis, with the ops chained to it along that axis.
pub const SPLIT_AXIS: Rewrite = Rewrite {
    id: RewriteId::SPLIT_AXIS,
    kinds: KINDS,
    title: "Split the ops along an axis above 65,536 into pieces of at most 65,536",
    precondition: |f, op| Region::read(f, op).map(drop),
    edit,
};

/// `conv`, then the elementwise ops a region takes.
const KINDS: &[&str] = &[
    "conv",
    "relu",
    "relu6",
    "sigmoid",
    "sigmoid_hard",
    "tanh",
    "silu",
    "gelu",
    "elu",
    "leaky_relu",
    "softplus",
    "softsign",
    "clip",
    "thresholded_relu",
    "scaled_tanh",
    "linear_activation",
    "abs",
    "exp",
    "sqrt",
    "sin",
    "cos",
    "erf",
    "floor",
    "ceil",
    "round",
    "sign",
    "add",
    "sub",
    "mul",
    "real_div",
    "maximum",
    "minimum",
    "pow",
];

/// The most pieces one split makes.
pub const MAX_PIECES: u64 = 16;

/// One op of a region.
struct Stage {
    op: OpId,
    /// The argument that holds the split tensor.
    key: &'static str,
    /// Its window, for a conv.
    conv: Option<Window>,
    /// The shape of its result.
    shape: Vec<u64>,
    dtype: DType,
}

/// The axes of `shape` above [`MAX_DIM`].
fn long_axes(shape: &[u64]) -> impl Iterator<Item = usize> + '_ {
    shape
        .iter()
        .enumerate()
        .filter(|&(_, &d)| d > MAX_DIM)
        .map(|(a, _)| a)
}

/// Whether a constant holds one element (a scalar, or a tensor of ones).
fn one_element(f: &Function, op: OpId, key: &str) -> bool {
    const_arg(f, op, key).is_some_and(|v| {
        v.ty.shape()
            .is_some_and(|s| s.iter().all(|d| *d == Dim::Known(1)))
    })
}

impl Stage {
    /// Reads `op` as a stage along `axis` (the only long axis of its input or result; when
    /// `None`, whichever that is), or says why it is not one.
    fn read(f: &Function, op: OpId, axis: Option<usize>) -> Result<(Stage, usize), NotApplicable> {
        let o = f.op(op);
        let kind = o.kind.as_str();
        NotApplicable::unless(KINDS.contains(&kind), || format!("`{kind}` is not split"))?;
        let ty = float_result(f, op)?;
        let dtype = ty.dtype().unwrap_or(DType::Fp32);
        let shape = known_shape(&ty)?;
        let key = if kind == "conv" {
            "x"
        } else {
            ["x", "y"]
                .into_iter()
                .find(|k| value_arg(f, op, k).is_some_and(|v| f.value(v).ty == ty))
                .ok_or_else(|| NotApplicable("no operand has the result's type".into()))?
        };
        let x = value_arg(f, op, key)
            .ok_or_else(|| NotApplicable(format!("`{key}` is not a value of the program")))?;
        let input = known_shape(&f.value(x).ty)?;
        NotApplicable::unless(input.len() == shape.len(), || {
            format!("`{key}` and the result differ in rank")
        })?;
        let mut long: Vec<usize> = long_axes(&input).chain(long_axes(&shape)).collect();
        long.sort_unstable();
        long.dedup();
        let a = match (&long[..], axis) {
            ([a], None) => *a,
            ([a], Some(b)) if *a == b => b,
            ([], _) => return Err(NotApplicable("no axis is above 65,536".into())),
            ([_], Some(_)) => return Err(NotApplicable("another axis is above 65,536".into())),
            _ => return Err(NotApplicable("more than one axis is above 65,536".into())),
        };
        let conv = if kind == "conv" {
            Some(Self::read_conv(f, op, dtype, a, &input, &shape)?)
        } else {
            for arg in &o.args {
                let k = arg.key.as_deref().unwrap_or_default();
                NotApplicable::unless(k == key || one_element(f, op, k), || {
                    format!("`{k}` is not a constant of one element")
                })?;
            }
            None
        };
        let stage = Stage {
            op,
            key,
            conv,
            shape,
            dtype,
        };
        Ok((stage, a))
    }

    /// A conv's window, if its pieces along `axis` are convs the Neural Engine takes.
    fn read_conv(
        f: &Function,
        op: OpId,
        dtype: DType,
        axis: usize,
        input: &[u64],
        shape: &[u64],
    ) -> Result<Window, NotApplicable> {
        same_dtype(f, op, dtype, &["x", "weight", "bias"])?;
        let weight = arg_shape(f, op, "weight")
            .ok_or_else(|| NotApplicable("the weight's shape is not known".into()))?;
        NotApplicable::unless(matches!(weight.len(), 3 | 4), || {
            "only 1-d and 2-d convs are split".into()
        })?;
        let groups = const_int(f, op, "groups", 1)
            .ok_or_else(|| NotApplicable("`groups` is not a constant".into()))?;
        let window = Window::read(f, op, weight[2..].to_vec())?;
        if axis == 1 {
            NotApplicable::unless(
                groups as u64 == input[1] && shape[1] == input[1] && weight[1] == 1,
                || "the conv mixes channels (only a depthwise conv is split along them)".into(),
            )?;
        } else {
            NotApplicable::unless(groups as u64 <= MAX_DIM, || {
                format!("`groups` is {groups}, above 65,536")
            })?;
        }
        Ok(window)
    }

    /// The input range `[lo, hi)` along `axis` that output range `out` reads, and the zero
    /// padding before and after it that the piece's conv adds.
    fn input_range(&self, axis: usize, (o0, o1): (u64, u64)) -> ((u64, u64), (u64, u64)) {
        let Some(w) = self.conv.as_ref().filter(|_| axis >= 2) else {
            return ((o0, o1), (0, 0));
        };
        let i = axis - 2;
        let span = (w.kernel[i] - 1) * w.dilations[i] + 1;
        let (lo, hi) = (
            (o0 * w.strides[i]) as i64 - w.pads[i].0 as i64,
            ((o1 - 1) * w.strides[i] + span) as i64 - w.pads[i].0 as i64,
        );
        let len = w.input[axis] as i64;
        let (a, b) = (lo.clamp(0, len), hi.clamp(0, len));
        ((a as u64, b as u64), ((a - lo) as u64, (hi - b) as u64))
    }
}

/// The chain of stages an op belongs to, and how it is cut.
struct Region {
    stages: Vec<Stage>,
    axis: usize,
    /// Per piece, per stage: its input range along the axis, the padding its conv adds, and its
    /// output range.
    pieces: Vec<Vec<Piece>>,
}

/// One stage's share of one piece.
#[derive(Clone, Copy)]
struct Piece {
    input: (u64, u64),
    pad: (u64, u64),
    output: (u64, u64),
}

/// The one op that reads `v` (not in a tuple), if nothing else reads it.
fn sole_reader(f: &Function, v: ValueId) -> Option<OpId> {
    match f.value(v).uses[..] {
        [Use::Operand { op, item: None, .. }] => Some(op),
        _ => None,
    }
}

impl Region {
    /// Reads the region around `op`, or says why it is not split.
    fn read(f: &Function, op: OpId) -> Result<Region, NotApplicable> {
        let (anchor, axis) = Stage::read(f, op, None)?;
        let mut stages = vec![anchor];
        // Back to the first op, through results only the next stage reads.
        loop {
            let first = &stages[0];
            let x = value_arg(f, first.op, first.key).expect("a stage reads a value");
            let ValueDef::Result(p, 0) = f.value(x).def else {
                break;
            };
            if f.op(p).results.len() != 1 || sole_reader(f, x) != Some(first.op) {
                break;
            }
            match Stage::read(f, p, Some(axis)) {
                Ok((s, _)) => stages.insert(0, s),
                Err(_) => break,
            }
        }
        // On to the last, while one stage reads the result of the one before, and only it.
        loop {
            let last = stages.last().expect("a region has its op");
            let r = f.op(last.op).results[0];
            let Some(next) = sole_reader(f, r) else {
                break;
            };
            match Stage::read(f, next, Some(axis)) {
                Ok((s, _)) if value_arg(f, next, s.key) == Some(r) => stages.push(s),
                _ => break,
            }
        }
        let pieces = cut(&stages, axis)?;
        Ok(Region { stages, axis, pieces })
    }
}

/// The fewest equal pieces of the last stage's output for which every stage's input piece is at
/// most [`MAX_DIM`] long along `axis`.
fn cut(stages: &[Stage], axis: usize) -> Result<Vec<Vec<Piece>>, NotApplicable> {
    let len = stages.last().expect("a region has its op").shape[axis];
    for n in len.div_ceil(MAX_DIM)..=MAX_PIECES {
        let plan: Vec<Vec<Piece>> = pieces(len, len.div_ceil(n))
            .into_iter()
            .map(|(offset, size)| {
                let mut output = (offset, offset + size);
                let mut shares: Vec<Piece> = stages
                    .iter()
                    .rev()
                    .map(|s| {
                        let (input, pad) = s.input_range(axis, output);
                        let share = Piece { input, pad, output };
                        output = input;
                        share
                    })
                    .collect();
                shares.reverse();
                shares
            })
            .collect();
        let fits = plan.iter().flatten().all(|p| p.input.1 - p.input.0 <= MAX_DIM);
        if fits {
            return Ok(plan);
        }
    }
    Err(NotApplicable(format!(
        "more than {MAX_PIECES} pieces would be needed"
    )))
}

/// `x` sliced to `[lo, hi)` along `axis`.
fn slice(
    e: &mut Editor<'_>,
    at: OpId,
    x: Operand,
    shape: &[u64],
    axis: usize,
    (lo, hi): (u64, u64),
    name: &str,
) -> Result<ValueId, EditError> {
    let dtype = match &x {
        Operand::Value(r) => r.id.and_then(|v| e.function().value(v).ty.dtype()),
        Operand::Const(c) => c.ty.dtype(),
        Operand::Tuple(_) => None,
    }
    .unwrap_or(DType::Fp32);
    let mut begin = vec![0; shape.len()];
    let mut size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    begin[axis] = lo as i64;
    size[axis] = (hi - lo) as i64;
    let sized: Vec<u64> = size.iter().map(|&d| d as u64).collect();
    let new = NewOp::new("slice_by_size")
        .arg("begin", ints(&begin))
        .arg("size", ints(&size))
        .arg("x", x)
        .result(name, Type::tensor(dtype, &sized))
        .made_for(at);
    let id = e.insert(Place::Before(at), new)?;
    Ok(e.function().op(id).results[0])
}

/// Each piece through every stage, and the concat of the pieces in place of the last one's result.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as such is not the op it was.
    let region = Region::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let axis = region.axis;
    let (first, last) = (&region.stages[0], region.stages.last().expect("a stage"));
    let source = value_arg(e.function(), first.op, first.key).expect("a stage reads a value");
    let source_shape = known_shape(&e.function().value(source).ty).expect("checked");
    let source_name = e.function().value(source).name.to_string();
    // The slices first (of the input, and of depthwise weights and biases), so that the pieces'
    // ops make one run the planner can keep on one device.
    let mut outs = Vec::new();
    let mut kernels = Vec::new();
    for (k, shares) in region.pieces.iter().enumerate() {
        let x = e.operand(source);
        let name = format!("{source_name}_{k}");
        outs.push(slice(e, last.op, x, &source_shape, axis, shares[0].input, &name)?);
        let mut per_stage = Vec::new();
        for (stage, share) in region.stages.iter().zip(shares) {
            per_stage.push(match (&stage.conv, axis) {
                (Some(_), 1) => Some(kernel_piece(e, last.op, stage.op, share.output, k)?),
                _ => None,
            });
        }
        kernels.push(per_stage);
    }
    for (k, shares) in region.pieces.iter().enumerate() {
        for ((stage, share), kernel) in region.stages.iter().zip(shares).zip(&kernels[k]) {
            outs[k] = piece_of(e, last.op, stage, axis, share, k, outs[k], *kernel)?;
        }
    }
    let f = e.function();
    let result = f.value(f.op(last.op).results[0]);
    let (name, ty) = (result.name.to_string(), result.ty.clone());
    let values = outs.iter().map(|&v| e.operand(v)).collect();
    let concat = NewOp::new("concat")
        .arg("axis", int32(axis as i64))
        .arg("interleave", crate::build::boolean(false))
        .arg("values", Operand::Tuple(values))
        .result(&name, ty)
        .made_for(last.op);
    let id = e.insert(Place::Before(last.op), concat)?;
    let joined = e.function().op(id).results[0];
    e.replace_op_with(last.op, &[joined])?;
    for stage in region.stages.iter().rev().skip(1) {
        e.erase(stage.op)?;
    }
    Ok(())
}

/// A depthwise conv's weight and bias for the channels `range`, sliced before `at`.
fn kernel_piece(
    e: &mut Editor<'_>,
    at: OpId,
    conv: OpId,
    range: (u64, u64),
    k: usize,
) -> Result<(ValueId, Option<ValueId>), EditError> {
    let f = e.function();
    let result = f.value(f.op(conv).results[0]).name.to_string();
    let weight_shape = arg_shape(f, conv, "weight").ok_or(EditError::Unresolved("weight".into()))?;
    let weight = operand_arg(f, conv, "weight").ok_or(EditError::Unresolved("weight".into()))?;
    let bias = operand_arg(f, conv, "bias").zip(arg_shape(f, conv, "bias"));
    let w = slice(e, at, weight, &weight_shape, 0, range, &format!("{result}_w{k}"))?;
    let b = match bias {
        Some((bias, shape)) => Some(slice(e, at, bias, &shape, 0, range, &format!("{result}_b{k}"))?),
        None => None,
    };
    Ok((w, b))
}

/// `stage` on piece `k` (`x`, its share of the input; `kernel`, a depthwise conv's sliced weight
/// and bias), inserted before `at`.
#[allow(clippy::too_many_arguments)]
fn piece_of(
    e: &mut Editor<'_>,
    at: OpId,
    stage: &Stage,
    axis: usize,
    share: &Piece,
    k: usize,
    x: ValueId,
    kernel: Option<(ValueId, Option<ValueId>)>,
) -> Result<ValueId, EditError> {
    let f = e.function();
    let o = f.op(stage.op);
    let mut shape = stage.shape.clone();
    shape[axis] = share.output.1 - share.output.0;
    let result = f.value(o.results[0]).name.to_string();
    let mut args: Vec<(String, Operand)> = o
        .args
        .iter()
        .filter_map(|a| Some((a.key.as_deref()?.to_string(), a.value.clone())))
        .collect();
    let (kind, opset) = (o.kind.to_string(), o.opset.as_deref().map(str::to_string));
    let mut set = |key: &str, value: Operand| {
        args.retain(|(k, _)| k != key);
        args.push((key.to_string(), value));
    };
    set(stage.key, e.operand(x));
    if let Some((weight, bias)) = kernel {
        set("weight", e.operand(weight));
        if let Some(bias) = bias {
            set("bias", e.operand(bias));
        }
        set("groups", int32((share.output.1 - share.output.0) as i64));
    } else if let (Some(w), 2..) = (&stage.conv, axis) {
        let mut pads = w.pads.clone();
        pads[axis - 2] = share.pad;
        let pad: Vec<i64> = pads.iter().flat_map(|&(b, a)| [b as i64, a as i64]).collect();
        set("pad", ints(&pad));
        set("pad_type", string("custom"));
    }
    args.sort_by(|a, b| a.0.cmp(&b.0));
    let mut new = args
        .into_iter()
        .fold(NewOp::new(&kind), |new, (key, operand)| new.arg(&key, operand))
        .result(&format!("{result}_{k}"), Type::tensor(stage.dtype, &shape))
        .made_for(stage.op);
    if let Some(opset) = opset {
        new = new.opset(&opset);
    }
    let id = e.insert(Place::Before(at), new)?;
    Ok(e.function().op(id).results[0])
}
