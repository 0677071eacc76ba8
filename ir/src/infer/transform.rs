//! Ops that rearrange a tensor: reshape, transpose, expand/squeeze, flatten, depth/space and batch
//! moves, tile, pad, sliding windows.

use super::context::Ctx;
use super::shape::{Size, axis, combine, dim, known, map, product, show};
use super::{Inferred, Problem, tensor};
use crate::catalogue::Opset;
use crate::diagnostic::count;
use crate::types::Dim;

/// `reshape`: `shape` with its `0`s (copies of x's dims) and its `-1` (what is left) resolved.
pub(crate) fn reshape(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let len = match cx.shape("shape")? {
        [Dim::Known(n)] => *n as usize,
        _ => return Err(Problem::Unknown),
    };
    let Ok(target) = cx.sym_ints("shape") else {
        return Ok(vec![tensor(dtype, vec![Dim::Unknown; len])]);
    };
    if target.iter().flatten().filter(|&&v| v == -1).count() > 1 {
        return Err(Problem::invalid(
            "shape",
            "only one dimension of a reshape may be -1",
        ));
    }
    if let Some(bad) = target.iter().flatten().find(|&&v| v < -1) {
        return Err(Problem::invalid("shape", format!("{bad} is not a dimension")));
    }
    let zeros_right_aligned = cx.opset >= Opset::Ios17;
    if !zeros_right_aligned && target.contains(&Some(0)) && target.len() != x.len() {
        return Err(Problem::invalid(
            "shape",
            format!(
                "a 0 in shape copies a dimension of x, so shape needs rank({}) = {}",
                show(x),
                count(x.len(), "value")
            ),
        ));
    }
    let mut out: Vec<Option<Dim>> = target
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            None => Some(Dim::Unknown),
            // Right-aligned with x (the same as index-aligned when the ranks agree).
            Some(0) => Some(
                x.len()
                    .checked_sub(target.len() - i)
                    .map_or(Dim::Known(1), |j| x[j]),
            ),
            Some(-1) => None,
            Some(n) => Some(dim(*n)),
        })
        .collect();
    let rest: Vec<Dim> = out.iter().flatten().copied().collect();
    let (volume, rest_volume) = (known(product(x)), known(product(&rest)));
    if let Some(hole) = out.iter().position(Option::is_none) {
        out[hole] = Some(match (volume, rest_volume) {
            (Some(v), Some(r)) if r != 0 && v % r == 0 => dim(v / r),
            (Some(v), Some(r)) => {
                return Err(Problem::invalid(
                    "shape",
                    format!(
                        "x {} has {v} elements, which the other dimensions ({r} elements) do not divide",
                        show(x)
                    ),
                ));
            }
            _ => Dim::Unknown,
        });
    } else if let (Some(v), Some(r)) = (volume, rest_volume)
        && v != r
    {
        return Err(Problem::invalid(
            "shape",
            format!("x {} has {v} elements but shape {} has {r}", show(x), show(&rest)),
        ));
    }
    Ok(vec![tensor(dtype, out.into_iter().flatten().collect())])
}

/// `reshape_like`: the concatenated slices of the reference tensors' shapes.
pub(crate) fn reshape_like(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let refs = cx.tuple("ref_tensors")?;
    let scalars = |key: &str| -> Result<Vec<i64>, Problem> {
        cx.tuple_operands(key)?
            .iter()
            .map(|o| {
                let v = cx
                    .operand_value(o)
                    .and_then(|k| k.ints())
                    .ok_or(Problem::Unknown)?;
                v.first().copied().flatten().ok_or(Problem::Unknown)
            })
            .collect()
    };
    let (begins, ends, masks) = (scalars("begins")?, scalars("ends")?, scalars("end_masks")?);
    if begins.len() != refs.len() || ends.len() != refs.len() || masks.len() != refs.len() {
        return Err(Problem::invalid(
            "begins",
            "begins, ends and end_masks need one value per reference tensor",
        ));
    }
    let mut out = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let shape = super::context::tensor_of(r)?.1;
        let n = shape.len() as i64;
        let clamp = |v: i64| (if v < 0 { v + n } else { v }).clamp(0, n) as usize;
        let (b, e) = (
            clamp(begins[i]),
            if masks[i] != 0 {
                shape.len()
            } else {
                clamp(ends[i])
            },
        );
        out.extend_from_slice(&shape[b..e.max(b)]);
    }
    if let (Some(a), Some(b)) = (known(product(x)), known(product(&out)))
        && a != b
    {
        return Err(Problem::invalid(
            "ref_tensors",
            format!(
                "x {} has {a} elements but the reference shape {} has {b}",
                show(x),
                show(&out)
            ),
        ));
    }
    Ok(vec![tensor(dtype, out)])
}

/// `transpose`: x's dims in the order `perm` gives.
pub(crate) fn transpose(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let perm = cx.ints("perm")?;
    if perm.len() != x.len() {
        return Err(Problem::invalid(
            "perm",
            format!(
                "perm has {} but x {} has rank {}",
                count(perm.len(), "value"),
                show(x),
                x.len()
            ),
        ));
    }
    let mut seen = vec![false; x.len()];
    let mut out = Vec::with_capacity(x.len());
    for &p in &perm {
        let a = axis(p, x.len(), "perm")?;
        if std::mem::replace(&mut seen[a], true) {
            return Err(Problem::invalid("perm", format!("perm names axis {p} twice")));
        }
        out.push(x[a]);
    }
    Ok(vec![tensor(dtype, out)])
}

/// `expand_dims`: a 1 inserted at each of `axes` (counted in the result).
pub(crate) fn expand_dims(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let axes = cx.ints("axes")?;
    let rank = x.len() + axes.len();
    let mut at: Vec<usize> = axes
        .iter()
        .map(|&a| axis(a, rank, "axes"))
        .collect::<Result<_, _>>()?;
    at.sort_unstable();
    if at.windows(2).any(|w| w[0] == w[1]) {
        return Err(Problem::invalid("axes", "axes names one axis twice"));
    }
    let mut out = x.to_vec();
    for a in at {
        out.insert(a, Dim::Known(1));
    }
    Ok(vec![tensor(dtype, out)])
}

/// `squeeze`: the size-1 dims at `axes` removed, or every size-1 dim when `axes` is absent.
pub(crate) fn squeeze(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    if !cx.has("axes") {
        return Ok(vec![tensor(
            dtype,
            x.iter().copied().filter(|&d| d != Dim::Known(1)).collect(),
        )]);
    }
    let mut at: Vec<usize> = cx
        .ints("axes")?
        .into_iter()
        .map(|a| axis(a, x.len(), "axes"))
        .collect::<Result<_, _>>()?;
    at.sort_unstable();
    at.dedup();
    if let Some(&a) = at.iter().find(|&&a| matches!(x[a], Dim::Known(n) if n != 1)) {
        return Err(Problem::invalid(
            "axes",
            format!(
                "axis {a} of x {} has size {}, so it cannot be squeezed",
                show(x),
                x[a]
            ),
        ));
    }
    let out = x
        .iter()
        .enumerate()
        .filter(|(i, _)| !at.contains(i))
        .map(|(_, &d)| d)
        .collect();
    Ok(vec![tensor(dtype, out)])
}

/// `flatten2d`: `[prod(x[..axis]), prod(x[axis..])]`.
pub(crate) fn flatten2d(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let a = cx.int_or("axis", 1)?;
    let r = x.len() as i64;
    if a < -r || a > r {
        return Err(Problem::invalid(
            "axis",
            format!("axis {a} is out of range for a tensor of rank {r}"),
        ));
    }
    let a = if a < 0 { a + r } else { a } as usize;
    Ok(vec![tensor(dtype, vec![product(&x[..a]), product(&x[a..])])])
}

/// The `[n, c, h, w]` of a rank-4 input `x`.
fn nchw(cx: &Ctx) -> Result<(crate::types::DType, [Dim; 4]), Problem> {
    let (dtype, x) = cx.tensor("x")?;
    match x {
        &[n, c, h, w] => Ok((dtype, [n, c, h, w])),
        _ => Err(Problem::incompatible(
            "x",
            format!("{} needs x of rank 4, not {}", cx.op.kind, x.len()),
        )),
    }
}

/// Moves `f × f` blocks between channels and space: `up` moves them into space.
fn block_move(cx: &Ctx, key: &str, up: bool) -> Inferred {
    let (dtype, [n, c, h, w]) = nchw(cx)?;
    let f = cx.int(key)?;
    if f < 1 {
        return Err(Problem::invalid(
            key,
            format!("{key} must be at least 1, not {f}"),
        ));
    }
    let shape = if up {
        vec![n, map(c, |c| c / (f * f)), map(h, |h| h * f), map(w, |w| w * f)]
    } else {
        vec![n, map(c, |c| c * f * f), map(h, |h| h / f), map(w, |w| w / f)]
    };
    Ok(vec![tensor(dtype, shape)])
}

/// `depth_to_space`.
pub(crate) fn depth_to_space(cx: &Ctx) -> Inferred {
    block_move(cx, "block_size", true)
}

/// `space_to_depth`.
pub(crate) fn space_to_depth(cx: &Ctx) -> Inferred {
    block_move(cx, "block_size", false)
}

/// `pixel_shuffle`.
pub(crate) fn pixel_shuffle(cx: &Ctx) -> Inferred {
    block_move(cx, "upscale_factor", true)
}

/// `pixel_unshuffle`.
pub(crate) fn pixel_unshuffle(cx: &Ctx) -> Inferred {
    block_move(cx, "downscale_factor", false)
}

/// The block shape (two values) and the `[2, 2]` paddings or crops of the batch moves.
fn batch_move_inputs(cx: &Ctx, key: &str) -> Result<(Vec<i64>, Vec<i64>), Problem> {
    let block = cx.ints("block_shape")?;
    let pads = cx.ints(key)?;
    if block.len() != 2 || pads.len() != 4 || block.iter().any(|&b| b < 1) {
        return Err(Problem::invalid(
            "block_shape",
            format!("block_shape needs two positive values and {key} a [2, 2] tensor"),
        ));
    }
    Ok((block, pads))
}

/// `space_to_batch`.
pub(crate) fn space_to_batch(cx: &Ctx) -> Inferred {
    let (dtype, [n, c, h, w]) = nchw(cx)?;
    let (b, p) = batch_move_inputs(cx, "paddings")?;
    let shape = vec![
        map(n, |n| n * b[0] * b[1]),
        c,
        map(h, |h| (h + p[0] + p[1]) / b[0]),
        map(w, |w| (w + p[2] + p[3]) / b[1]),
    ];
    Ok(vec![tensor(dtype, shape)])
}

/// `batch_to_space`.
pub(crate) fn batch_to_space(cx: &Ctx) -> Inferred {
    let (dtype, [n, c, h, w]) = nchw(cx)?;
    let (b, p) = batch_move_inputs(cx, "crops")?;
    let block = (Size::from(b[0]) * b[1])
        .get()
        .ok_or_else(|| Problem::invalid("block_shape", "the block size overflows a 64-bit integer"))?;
    if let Some(n) = known(n)
        && n % block != 0
    {
        return Err(Problem::incompatible(
            "block_shape",
            format!("the batch size {n} is not a multiple of the block size {block}"),
        ));
    }
    let shape = vec![
        map(n, |n| n / block),
        c,
        map(h, |h| h * b[0] - p[0] - p[1]),
        map(w, |w| w * b[1] - p[2] - p[3]),
    ];
    Ok(vec![tensor(dtype, shape)])
}

/// `tile`: each dim times its repetition count.
pub(crate) fn tile(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let Ok(reps) = cx.sym_ints("reps") else {
        return Ok(vec![tensor(dtype, vec![Dim::Unknown; x.len()])]);
    };
    if reps.len() != x.len() {
        return Err(Problem::invalid(
            "reps",
            format!(
                "reps has {} but x {} has rank {}",
                count(reps.len(), "value"),
                show(x),
                x.len()
            ),
        ));
    }
    if let Some(bad) = reps.iter().flatten().find(|&&r| r <= 0) {
        return Err(Problem::invalid(
            "reps",
            format!("repetition counts must be positive, not {bad}"),
        ));
    }
    let out = x
        .iter()
        .zip(&reps)
        .map(|(&d, r)| match r {
            Some(1) => d,
            Some(r) => map(d, |d| d * *r),
            None => Dim::Unknown,
        })
        .collect();
    Ok(vec![tensor(dtype, out)])
}

/// `pad`: the last `len(pad) / 2` dims grown by their before and after padding.
pub(crate) fn pad(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let mode = cx.string_or("mode", "constant")?;
    if !matches!(mode.as_str(), "constant" | "reflect" | "replicate") {
        return Err(Problem::invalid(
            "mode",
            format!("unknown pad mode \"{mode}\" (constant, reflect or replicate)"),
        ));
    }
    let len = match cx.shape("pad")? {
        [Dim::Known(n)] => *n as usize,
        [_] => return Err(Problem::Unknown),
        other => {
            return Err(Problem::incompatible(
                "pad",
                format!("pad must be a vector, not {}", show(other)),
            ));
        }
    };
    if len % 2 != 0 || len / 2 > x.len() {
        return Err(Problem::invalid(
            "pad",
            format!(
                "pad needs an even number of values, at most 2 × rank(x) = {}, not {len}",
                2 * x.len()
            ),
        ));
    }
    let first = x.len() - len / 2;
    let mut out = x.to_vec();
    match cx.sym_ints("pad") {
        Ok(p) => {
            if let Some(bad) = p.iter().flatten().find(|&&v| v < 0) {
                return Err(Problem::invalid(
                    "pad",
                    format!("padding must not be negative, not {bad}"),
                ));
            }
            for (i, d) in out[first..].iter_mut().enumerate() {
                *d = match (p[2 * i], p[2 * i + 1]) {
                    (Some(a), Some(b)) => map(*d, |d| d + a + b),
                    _ => Dim::Unknown,
                };
            }
        }
        Err(_) => out[first..].fill(Dim::Unknown),
    }
    Ok(vec![tensor(dtype, out)])
}

/// `sliding_windows`: the axis becomes the number of windows, followed by a dim of `size`.
pub(crate) fn sliding_windows(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let a = axis(cx.int("axis")?, x.len(), "axis")?;
    let size = cx.int("size")?;
    let stride = cx.int_or("stride", 1)?;
    if size < 1 || stride < 1 {
        return Err(Problem::invalid("size", "size and stride must be positive"));
    }
    let mut out = x.to_vec();
    out[a] = combine(x[a], Dim::Known(size as u64), |d, s| {
        (d - s).div_euclid(stride) + 1
    });
    out.insert(a + 1, dim(size));
    Ok(vec![tensor(dtype, out)])
}
