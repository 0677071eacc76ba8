//! Layout ops: each computes, for every element of its result, which element of its input it is
//! (an index map through [`Tensor::take`], or for transposes and slices a strided copy through
//! [`Tensor::strided_copy`]), so one kernel serves every dtype.

use super::Kernel;
use crate::bail;
use crate::cx::{Cx, axis};
use crate::error::Result;
use crate::tensor::{Tensor, numel, strides};
use mil_ir::DType;
use mil_ir::semantics::{SliceSpec, slice_axis};

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("const", constant),
    ("identity", identity),
    ("cast", cast),
    ("reshape", reshape),
    ("reshape_like", reshape_like),
    ("flatten2d", flatten2d),
    ("transpose", transpose),
    ("squeeze", squeeze),
    ("expand_dims", expand_dims),
    ("concat", concat),
    ("stack", stack),
    ("split", split),
    ("slice_by_index", slice_by_index),
    ("slice_by_size", slice_by_size),
    ("tile", tile),
    ("reverse", reverse),
    ("pad", pad),
    ("shape", shape),
    ("slice_update", slice_update),
    ("sliding_windows", sliding_windows),
    ("reverse_sequence", reverse_sequence),
    ("read_state", pass_input),
    ("tensor_buffer_to_tensor", pass_input),
    ("tensor_to_tensor_buffer", pass_input),
];

/// The tensor of `out_shape` whose element at each coordinate is the element of `x` that `f`
/// names (`None`: element `x.len()` of `with`, a one-element fill).
pub fn map_index(
    x: &Tensor,
    out_shape: Vec<usize>,
    fill: Option<&Tensor>,
    f: impl Fn(&[usize]) -> Option<usize>,
) -> Result<Tensor> {
    let n = numel(&out_shape);
    let mut coords = vec![0usize; out_shape.len()];
    let mut idx = Vec::with_capacity(n);
    for _ in 0..n {
        idx.push(f(&coords).unwrap_or(x.len()));
        for a in (0..coords.len()).rev() {
            coords[a] += 1;
            if coords[a] < out_shape[a] {
                break;
            }
            coords[a] = 0;
        }
    }
    let source = match fill {
        Some(v) => Tensor::concat_data(&[x, &v.cast(x.dtype)?], x.dtype, vec![x.len() + 1])?,
        None => x.clone(),
    };
    Ok(source.take(&idx).reshaped(out_shape))
}

/// `const`: its value; a single value declared with a larger shape (as hand-written files write
/// `fp16(1e-5)` for a `[1, 1, 1, 32]` constant) fills that shape.
fn constant(cx: &Cx) -> Result<Vec<Tensor>> {
    let val = cx.get("val")?;
    let declared = cx.out_type(0).and_then(|t| t.shape()).and_then(|dims| {
        dims.iter()
            .map(|d| match d {
                mil_ir::Dim::Known(n) => Some(*n as usize),
                mil_ir::Dim::Unknown => None,
            })
            .collect::<Option<Vec<_>>>()
    });
    match declared {
        Some(shape) if val.len() == 1 && shape != val.shape => {
            Ok(vec![val.take(&vec![0; numel(&shape)]).reshaped(shape)])
        }
        _ => Ok(vec![(*val).clone()]),
    }
}

fn identity(cx: &Cx) -> Result<Vec<Tensor>> {
    Ok(vec![(*cx.x()?).clone()])
}

fn cast(cx: &Cx) -> Result<Vec<Tensor>> {
    let name = cx.string("dtype")?;
    let dtype = DType::from_name(&name)
        .ok_or_else(|| crate::error::EvalError::msg(format!("unknown dtype `{name}`")))?;
    Ok(vec![cx.x()?.cast(dtype)?])
}

/// The shape `spec` asks for a tensor of shape `input`: `-1` takes what is left, `0` copies the
/// input's dim at that position counted from the right, or is 1 where the input has no such dim
/// (iOS17's rule; before iOS17 a `0` needs `spec` as long as the input's rank, where both rules agree).
pub fn resolve_shape(input: &[usize], spec: &[i64]) -> Result<Vec<usize>> {
    let total = numel(input);
    let mut out: Vec<usize> = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 => out.push((input.len() + i).checked_sub(spec.len()).map_or(1, |j| input[j])),
            d if d >= 0 => out.push(d as usize),
            _ => bail!("bad reshape dim {d} in {spec:?}"),
        }
    }
    if let Some(i) = infer {
        let rest = numel(&out);
        if rest == 0 || !total.is_multiple_of(rest) {
            bail!("cannot reshape {input:?} to {spec:?}");
        }
        out[i] = total / rest;
    }
    if numel(&out) != total {
        bail!("cannot reshape {input:?} ({total} elements) to {spec:?}");
    }
    Ok(out)
}

fn reshape(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let shape = resolve_shape(&x.shape, &cx.ints("shape")?)?;
    Ok(vec![(*x).clone().reshaped(shape)])
}

fn reshape_like(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let refs = cx.tuple("ref_tensors")?;
    let scalars =
        |key: &str| -> Result<Vec<i64>> { cx.tuple(key)?.iter().map(|t| Ok(t.scalar()? as i64)).collect() };
    let (begins, ends, masks) = (scalars("begins")?, scalars("ends")?, scalars("end_masks")?);
    let mut shape = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let end_mask = masks.get(i).copied().unwrap_or(0) != 0;
        let b = axis(begins[i], r.rank())?;
        let e = if end_mask {
            r.rank()
        } else if ends[i] < 0 {
            (ends[i] + r.rank() as i64) as usize
        } else {
            ends[i] as usize
        };
        shape.extend_from_slice(&r.shape[b..e]);
    }
    if numel(&shape) != x.len() {
        bail!(
            "reshape_like gives {shape:?}, which does not hold {} elements",
            x.len()
        );
    }
    Ok(vec![(*x).clone().reshaped(shape)])
}

fn flatten2d(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = cx.int("axis")?;
    let a = if a < 0 { a + x.rank() as i64 } else { a };
    if a < 0 || a > x.rank() as i64 {
        bail!("axis {a} is out of range for rank {}", x.rank());
    }
    let a = a as usize;
    let shape = vec![numel(&x.shape[..a]), numel(&x.shape[a..])];
    Ok(vec![(*x).clone().reshaped(shape)])
}

/// `x` with its axes permuted by `perm`.
pub fn permute(x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    let st = strides(&x.shape);
    let out: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
    let steps: Vec<isize> = perm.iter().map(|&p| st[p] as isize).collect();
    Ok(x.strided_copy(0, &out, &steps).reshaped(out))
}

fn transpose(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let perm = cx
        .ints("perm")?
        .into_iter()
        .map(|p| axis(p, x.rank()))
        .collect::<Result<Vec<_>>>()?;
    if perm.len() != x.rank() {
        bail!("perm {perm:?} does not list the {} axes", x.rank());
    }
    Ok(vec![permute(&x, &perm)?])
}

fn squeeze(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let axes = match cx.axes("axes", x.rank())? {
        Some(a) => a,
        None => (0..x.rank()).filter(|&i| x.shape[i] == 1).collect(),
    };
    let shape = x
        .shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect();
    Ok(vec![(*x).clone().reshaped(shape)])
}

fn expand_dims(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let raw = cx.ints("axes")?;
    let rank = x.rank() + raw.len();
    let mut axes = raw
        .into_iter()
        .map(|a| axis(a, rank))
        .collect::<Result<Vec<_>>>()?;
    axes.sort_unstable();
    let mut shape = x.shape.clone();
    for a in axes {
        shape.insert(a.min(shape.len()), 1);
    }
    Ok(vec![(*x).clone().reshaped(shape)])
}

/// `parts` joined along axis `a` (each may differ only there).
pub fn join(parts: &[&Tensor], a: usize) -> Result<Tensor> {
    let first = parts
        .first()
        .ok_or_else(|| crate::error::EvalError::msg("nothing to join"))?;
    let outer = numel(&first.shape[..a]);
    let mut shape = first.shape.clone();
    shape[a] = parts.iter().map(|p| p.shape[a]).sum();
    let dtype = first.dtype;
    let parts: Vec<Tensor> = parts.iter().map(|p| p.cast(dtype)).collect::<Result<_>>()?;
    let refs: Vec<&Tensor> = parts.iter().collect();
    let all = Tensor::concat_data(&refs, dtype, vec![])?;
    let mut starts = Vec::new();
    let mut at = 0;
    for p in &parts {
        starts.push(at);
        at += p.len();
    }
    let mut idx = Vec::with_capacity(all.len());
    for o in 0..outer {
        for (p, &s) in parts.iter().zip(&starts) {
            let block = numel(&p.shape[a..]);
            idx.extend(s + o * block..s + (o + 1) * block);
        }
    }
    Ok(all.take(&idx).reshaped(shape))
}

fn concat(cx: &Cx) -> Result<Vec<Tensor>> {
    let values = cx.tuple("values")?;
    let rank = values.first().map_or(0, |v| v.rank());
    let a = axis(cx.int("axis")?, rank)?;
    if cx.opt_float("interleave")?.unwrap_or(0.0) != 0.0 {
        // Row k of the result along the axis is row k / n of value k % n (all of one length).
        let n = values.len();
        let parts: Vec<Tensor> = values
            .iter()
            .map(|v| {
                let mut s = v.shape.clone();
                s.insert(a + 1, 1);
                (**v).clone().reshaped(s)
            })
            .collect();
        let joined = join(&parts.iter().collect::<Vec<_>>(), a + 1)?;
        let mut shape = values[0].shape.clone();
        shape[a] *= n;
        return Ok(vec![joined.reshaped(shape)]);
    }
    let refs: Vec<&Tensor> = values
        .iter()
        .map(|v| &**v)
        .filter(|v| !v.is_empty() || values.len() == 1)
        .collect();
    Ok(vec![join(&refs, a)?])
}

fn stack(cx: &Cx) -> Result<Vec<Tensor>> {
    let values = cx.tuple("values")?;
    let rank = values.first().map_or(0, |v| v.rank()) + 1;
    let a = axis(cx.int("axis")?, rank)?;
    let expanded: Vec<Tensor> = values
        .iter()
        .map(|v| {
            let mut s = v.shape.clone();
            s.insert(a, 1);
            (**v).clone().reshaped(s)
        })
        .collect();
    Ok(vec![join(&expanded.iter().collect::<Vec<_>>(), a)?])
}

/// The slice of `x` from `begin` with `step` for `size` elements along each axis.
pub fn strided(x: &Tensor, begin: &[i64], step: &[i64], size: &[usize]) -> Result<Tensor> {
    let st = strides(&x.shape);
    let offset: i64 = (0..x.rank())
        .filter(|&a| size[a] > 0)
        .map(|a| begin[a] * st[a] as i64)
        .sum();
    let steps: Vec<isize> = (0..x.rank()).map(|a| (step[a] * st[a] as i64) as isize).collect();
    Ok(x.strided_copy(offset as usize, size, &steps)
        .reshaped(size.to_vec()))
}

fn split(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = axis(cx.int("axis")?, x.rank())?;
    let len = x.shape[a];
    let sizes: Vec<usize> = match cx.opt_ints("split_sizes")? {
        Some(s) => s.into_iter().map(|s| s as usize).collect(),
        None => {
            let n = cx.int("num_splits")? as usize;
            if n == 0 {
                bail!("`num_splits` must be positive");
            }
            let each = len.div_ceil(n);
            (0..n).map(|i| each.min(len.saturating_sub(i * each))).collect()
        }
    };
    if sizes.iter().sum::<usize>() != len {
        bail!("split sizes {sizes:?} do not add up to the axis length {len}");
    }
    let mut out = Vec::new();
    let mut at = 0;
    for s in sizes {
        let mut begin = vec![0i64; x.rank()];
        begin[a] = at as i64;
        let mut size = x.shape.clone();
        size[a] = s;
        out.push(strided(&x, &begin, &vec![1; x.rank()], &size)?);
        at += s;
    }
    Ok(out)
}

/// A mask input as bools, `false` for each axis when absent.
fn mask(cx: &Cx, key: &str, rank: usize) -> Result<Vec<bool>> {
    Ok(match cx.opt(key)? {
        Some(t) => t.to_bool()?,
        None => vec![false; rank],
    })
}

/// Where `slice_by_index` (and `slice_update`) reads in `x`: the begin and stride of each axis,
/// the number of elements taken, and which axes are squeezed away.
pub(super) struct Slice {
    pub begin: Vec<i64>,
    pub stride: Vec<i64>,
    pub size: Vec<usize>,
    pub squeeze: Vec<bool>,
}

/// The slice `cx`'s `begin`/`end`/`stride` and masks describe in `x`, axis by axis as
/// `mil_ir::semantics::slice_axis` (and so constant folding) reads them.
pub(super) fn slice_of(cx: &Cx, x: &Tensor) -> Result<Slice> {
    let r = x.rank();
    let (begin, end) = (cx.ints("begin")?, cx.ints("end")?);
    let stride = cx.opt_ints("stride")?.unwrap_or_else(|| vec![1; r]);
    let (bm, em, sm) = (
        mask(cx, "begin_mask", r)?,
        mask(cx, "end_mask", r)?,
        mask(cx, "squeeze_mask", r)?,
    );
    if begin.len() != r || end.len() != r || stride.len() != r {
        bail!("begin, end and stride must have one value per axis ({r})");
    }
    let (mut b, mut size) = (vec![0i64; r], vec![0usize; r]);
    for a in 0..r {
        let spec = SliceSpec {
            begin: begin[a],
            end: end[a],
            stride: stride[a],
            begin_mask: bm[a],
            end_mask: em[a],
            squeeze: sm[a],
        };
        let Some((start, count)) = slice_axis(x.shape[a], spec) else {
            bail!(
                "cannot slice axis {a} of length {} from {} by stride {}",
                x.shape[a],
                begin[a],
                stride[a]
            );
        };
        b[a] = start as i64;
        size[a] = count;
    }
    Ok(Slice {
        begin: b,
        stride,
        size,
        squeeze: sm,
    })
}

fn slice_by_index(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let s = slice_of(cx, &x)?;
    let t = strided(&x, &s.begin, &s.stride, &s.size)?;
    let shape = s
        .size
        .iter()
        .zip(&s.squeeze)
        .filter(|(_, q)| !**q)
        .map(|(&d, _)| d)
        .collect();
    Ok(vec![t.reshaped(shape)])
}

fn slice_by_size(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let (begin, size) = (cx.ints("begin")?, cx.ints("size")?);
    let mut sizes = Vec::new();
    for a in 0..x.rank() {
        let b = if begin[a] < 0 {
            begin[a] + x.shape[a] as i64
        } else {
            begin[a]
        };
        let s = if size[a] == -1 {
            x.shape[a] as i64 - b
        } else {
            size[a]
        };
        if b < 0 || s < 0 || b + s > x.shape[a] as i64 {
            bail!(
                "slice of {s} from {b} does not fit axis {a} of size {}",
                x.shape[a]
            );
        }
        sizes.push(s as usize);
    }
    let begin: Vec<i64> = (0..x.rank())
        .map(|a| {
            if begin[a] < 0 {
                begin[a] + x.shape[a] as i64
            } else {
                begin[a]
            }
        })
        .collect();
    Ok(vec![strided(&x, &begin, &vec![1; x.rank()], &sizes)?])
}

fn tile(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let reps = cx.ints("reps")?;
    if reps.len() != x.rank() {
        bail!("`reps` has {} values for rank {}", reps.len(), x.rank());
    }
    let st = strides(&x.shape);
    let out = x.shape.iter().zip(&reps).map(|(&d, &r)| d * r as usize).collect();
    Ok(vec![map_index(&x, out, None, |c| {
        Some(c.iter().enumerate().map(|(a, &i)| (i % x.shape[a]) * st[a]).sum())
    })?])
}

fn reverse(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let axes = match cx.axes("axes", x.rank())? {
        Some(a) => a,
        None => (0..x.rank()).collect(),
    };
    let st = strides(&x.shape);
    Ok(vec![map_index(&x, x.shape.clone(), None, |c| {
        Some(
            c.iter()
                .enumerate()
                .map(|(a, &i)| if axes.contains(&a) { x.shape[a] - 1 - i } else { i } * st[a])
                .sum(),
        )
    })?])
}

/// The source coordinate of `i` in an axis of length `d` padded by `before`, under `mode`;
/// `None` for a constant fill.
pub fn pad_source(i: usize, before: usize, d: usize, mode: &str) -> Option<usize> {
    let p = i as i64 - before as i64;
    let d = d as i64;
    if (0..d).contains(&p) {
        return Some(p as usize);
    }
    Some(match mode {
        "reflect" => {
            let period = 2 * (d - 1).max(1);
            let m = p.rem_euclid(period);
            (if m < d { m } else { period - m }) as usize
        }
        "replicate" => p.clamp(0, d - 1) as usize,
        "symmetric" => {
            let period = 2 * d;
            let m = p.rem_euclid(period);
            (if m < d { m } else { period - 1 - m }) as usize
        }
        _ => return None,
    })
}

fn pad(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let pads = cx.ints("pad")?;
    let mode = cx.string("mode")?;
    let fill = Tensor::scalar_f32(DType::Fp32, cx.float("constant_val")?);
    let r = x.rank();
    if pads.len() % 2 != 0 || pads.len() / 2 > r {
        bail!("`pad` must hold a (before, after) pair for up to {r} trailing axes");
    }
    let first = r - pads.len() / 2;
    let mut before = vec![0usize; r];
    let mut out = x.shape.clone();
    for (k, pair) in pads.chunks(2).enumerate() {
        if pair[0] < 0 || pair[1] < 0 {
            bail!("negative padding {pair:?}");
        }
        before[first + k] = pair[0] as usize;
        out[first + k] += (pair[0] + pair[1]) as usize;
    }
    let st = strides(&x.shape);
    Ok(vec![map_index(&x, out, Some(&fill), |c| {
        let mut at = 0;
        for (a, &i) in c.iter().enumerate() {
            at += pad_source(i, before[a], x.shape[a], &mode)? * st[a];
        }
        Some(at)
    })?])
}

/// `read_state` and the runtime's buffer wrappers: the value of `input`.
fn pass_input(cx: &Cx) -> Result<Vec<Tensor>> {
    Ok(vec![(*cx.get("input")?).clone()])
}

fn slice_update(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, update) = (cx.x()?, cx.get("update")?);
    let s = slice_of(cx, &x)?;
    if numel(&s.size) != update.len() {
        bail!(
            "`update` has {} elements for a slice of {:?}",
            update.len(),
            s.size
        );
    }
    let st = strides(&x.shape);
    // Element i of x comes from x itself, or (at x.len() + j) from element j of the update.
    let mut idx: Vec<usize> = (0..x.len()).collect();
    let mut coords = vec![0usize; s.size.len()];
    for j in 0..update.len() {
        let at: usize = coords
            .iter()
            .enumerate()
            .map(|(a, &c)| (s.begin[a] + c as i64 * s.stride[a]) as usize * st[a])
            .sum();
        idx[at] = x.len() + j;
        for a in (0..coords.len()).rev() {
            coords[a] += 1;
            if coords[a] < s.size[a] {
                break;
            }
            coords[a] = 0;
        }
    }
    let both = Tensor::concat_data(&[&x, &update.cast(x.dtype)?], x.dtype, vec![])?;
    Ok(vec![both.take(&idx).reshaped(x.shape.clone())])
}

fn sliding_windows(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = axis(cx.int("axis")?, x.rank())?;
    let (size, stride) = (cx.int("size")? as usize, cx.int("stride")?.max(1) as usize);
    if size == 0 || size > x.shape[a] {
        bail!(
            "window size {size} does not fit axis {a} of length {}",
            x.shape[a]
        );
    }
    let n = (x.shape[a] - size) / stride + 1;
    let mut shape = x.shape[..a].to_vec();
    shape.extend([n, size]);
    shape.extend(&x.shape[a + 1..]);
    let st = strides(&x.shape);
    Ok(vec![map_index(&x, shape, None, |c| {
        let mut at = (c[a] * stride + c[a + 1]) * st[a];
        for k in 0..a {
            at += c[k] * st[k];
        }
        for k in a + 1..x.rank() {
            at += c[k + 1] * st[k];
        }
        Some(at)
    })?])
}

fn reverse_sequence(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let lengths = cx.ints("lengths")?;
    let (sa, ba) = (
        axis(cx.int("seq_axis")?, x.rank())?,
        axis(cx.int("batch_axis")?, x.rank())?,
    );
    let st = strides(&x.shape);
    Ok(vec![map_index(&x, x.shape.clone(), None, |c| {
        let len = lengths.get(c[ba]).copied().unwrap_or(0).max(0) as usize;
        Some(
            c.iter()
                .enumerate()
                .map(|(k, &i)| if k == sa && i < len { len - 1 - i } else { i } * st[k])
                .sum(),
        )
    })?])
}

fn shape(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let dims = x.shape.iter().map(|&d| d as i64).collect();
    Ok(vec![Tensor::from_i64(
        cx.out_dtype(0, DType::Int32),
        vec![x.rank()],
        dims,
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_modes_match_numpy() {
        // np.pad([0, 1, 2, 3], 3, mode=...) for reflect, edge and symmetric.
        let src = |mode| {
            (0..10)
                .map(|i| pad_source(i, 3, 4, mode).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(src("reflect"), [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
        assert_eq!(src("replicate"), [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]);
        assert_eq!(src("symmetric"), [2, 1, 0, 0, 1, 2, 3, 3, 2, 1]);
        assert_eq!(pad_source(0, 1, 4, "constant"), None);
    }

    #[test]
    fn reshape_infers_and_copies_dims() {
        assert_eq!(resolve_shape(&[2, 3, 4], &[0, 0, -1]).unwrap(), [2, 3, 4]);
        assert!(resolve_shape(&[2, 3], &[4, -1]).is_err());
        // iOS17: zeros right-aligned with the input, 1 beyond its rank (coremltools' reshape doc and
        // `replace_zeros_in_shape`); iOS15/16 refuse a `0` when the ranks differ.
        assert_eq!(resolve_shape(&[2, 3, 4], &[0, -1]).unwrap(), [3, 8]);
        assert_eq!(resolve_shape(&[2, 50], &[1, 0, -1, 0]).unwrap(), [1, 1, 2, 50]);
    }
}
