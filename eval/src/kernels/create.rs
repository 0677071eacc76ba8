//! Tensors made from scratch or from orderings: `fill`, `fill_like`, `range_1d`, `one_hot`,
//! `band_part`, `cumsum`, `topk`, `argsort`, `non_zero`; and `scaled_dot_product_attention`.

use super::Kernel;
use super::activation::softmax_in_place;
use super::linalg::{Mat, gemm};
use super::shape::map_index;
use crate::bail;
use crate::cx::{Cx, axis};
use crate::error::Result;
use crate::tensor::{Tensor, broadcast_shapes, numel, strides};
use mil_ir::DType;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("fill", fill),
    ("fill_like", fill),
    ("range_1d", range_1d),
    ("one_hot", one_hot),
    ("band_part", band_part),
    ("cumsum", cumsum),
    ("topk", topk),
    ("argsort", argsort),
    ("non_zero", non_zero),
    ("scaled_dot_product_attention", attention),
];

fn fill(cx: &Cx) -> Result<Vec<Tensor>> {
    let shape: Vec<usize> = match cx.op.kind.as_str() {
        "fill_like" => cx.get("ref_tensor")?.shape.clone(),
        _ => cx.ints("shape")?.into_iter().map(|d| d as usize).collect(),
    };
    let value = cx.get("value")?;
    let dtype = cx.out_dtype(0, value.dtype);
    Ok(vec![
        value.cast(dtype)?.take(&vec![0; numel(&shape)]).reshaped(shape),
    ])
}

fn range_1d(cx: &Cx) -> Result<Vec<Tensor>> {
    let (start, end, step) = (cx.get("start")?, cx.get("end")?, cx.get("step")?);
    let dtype = cx.out_dtype(0, start.dtype);
    let (s, e, st) = (
        start.scalar()? as f64,
        end.scalar()? as f64,
        step.scalar()? as f64,
    );
    if st == 0.0 {
        bail!("`step` is 0");
    }
    let n = ((e - s) / st).ceil().max(0.0) as usize;
    let v = (0..n).map(|i| (s + i as f64 * st) as f32).collect();
    Ok(vec![Tensor::from_f32(dtype, vec![n], v)])
}

fn one_hot(cx: &Cx) -> Result<Vec<Tensor>> {
    let ind = cx.get("indices")?;
    let depth = cx.int("one_hot_vector_size")? as usize;
    let a = axis(cx.int("axis")?, ind.rank() + 1)?;
    let (on, off) = (cx.float("on_value")?, cx.float("off_value")?);
    let iv = ind.to_i64()?;
    let mut shape = ind.shape.clone();
    shape.insert(a, depth);
    let is = strides(&ind.shape);
    let n = numel(&shape);
    let os = strides(&shape);
    let v = (0..n)
        .map(|f| {
            let c: Vec<usize> = os.iter().zip(&shape).map(|(s, d)| f / s % d).collect();
            let at: usize = c
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != a)
                .map(|(_, &x)| x)
                .zip(&is)
                .map(|(c, s)| c * s)
                .sum();
            if iv[at] == c[a] as i64 { on } else { off }
        })
        .collect();
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, DType::Fp32), shape, v)])
}

fn band_part(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let (lower, upper) = (cx.int("lower")?, cx.int("upper")?);
    let r = x.rank();
    if r < 2 {
        bail!("`x` must have rank >= 2");
    }
    let zero = Tensor::scalar_f32(DType::Fp32, 0.0);
    let st = strides(&x.shape);
    Ok(vec![map_index(&x, x.shape.clone(), Some(&zero), |c| {
        let (i, j) = (c[r - 2] as i64, c[r - 1] as i64);
        let keep = (lower < 0 || i - j <= lower) && (upper < 0 || j - i <= upper);
        keep.then(|| c.iter().zip(&st).map(|(c, s)| c * s).sum())
    })?])
}

fn cumsum(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = axis(cx.int("axis")?, x.rank())?;
    let (exclusive, reverse) = (cx.bool("exclusive")?, cx.bool("reverse")?);
    let (len, inner) = (x.shape[a], numel(&x.shape[a + 1..]));
    let mut v = x.to_f32()?;
    for o in 0..numel(&x.shape[..a]) {
        for i in 0..inner {
            let mut acc = 0.0f32;
            for step in 0..len {
                let k = if reverse { len - 1 - step } else { step };
                let at = o * len * inner + k * inner + i;
                let e = v[at];
                if exclusive {
                    v[at] = acc;
                    acc += e;
                } else {
                    acc += e;
                    v[at] = acc;
                }
            }
        }
    }
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        v,
    )])
}

/// For each line of `x` along axis `a`, its positions in sorted order (stable; descending puts the
/// larger first, equal values in their order).
fn sorted_positions(x: &Tensor, a: usize, ascending: bool) -> Result<Vec<Vec<usize>>> {
    let v = x.to_f32()?;
    let (len, inner) = (x.shape[a], numel(&x.shape[a + 1..]));
    let mut out = Vec::new();
    for o in 0..numel(&x.shape[..a]) {
        for i in 0..inner {
            let at = |k: usize| v[o * len * inner + k * inner + i];
            let mut order: Vec<usize> = (0..len).collect();
            order.sort_by(|&p, &q| {
                let c = at(p).total_cmp(&at(q));
                if ascending { c } else { c.reverse() }
            });
            out.push(order);
        }
    }
    Ok(out)
}

/// The tensor of `x`'s shape with axis `a` of length `k` whose lines are `lines` (outer × inner
/// order), values from `f`.
fn from_lines(
    shape: &[usize],
    a: usize,
    k: usize,
    lines: &[Vec<usize>],
    f: impl Fn(usize, usize, usize) -> usize,
) -> (Vec<usize>, Vec<usize>) {
    let inner = numel(&shape[a + 1..]);
    let mut out_shape = shape.to_vec();
    out_shape[a] = k;
    let mut idx = vec![0; numel(&out_shape)];
    for (l, line) in lines.iter().enumerate() {
        let (o, i) = (l / inner.max(1), l % inner.max(1));
        for (j, &p) in line.iter().take(k).enumerate() {
            idx[o * k * inner + j * inner + i] = f(o, p, i);
        }
    }
    (out_shape, idx)
}

fn topk(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = axis(cx.int("axis")?, x.rank())?;
    let k = cx.int("k")?;
    let k = if k < 0 {
        x.shape[a]
    } else {
        (k as usize).min(x.shape[a])
    };
    let ascending = cx.bool("ascending")?;
    let lines = sorted_positions(&x, a, ascending)?;
    let (len, inner) = (x.shape[a], numel(&x.shape[a + 1..]));
    let (shape, idx) = from_lines(&x.shape, a, k, &lines, |o, p, i| o * len * inner + p * inner + i);
    let values = x.take(&idx).reshaped(shape.clone());
    let (_, pos) = from_lines(&x.shape, a, k, &lines, |_, p, _| p);
    let indices = Tensor::from_i64(
        cx.out_dtype(1, DType::Int32),
        shape,
        pos.into_iter().map(|p| p as i64).collect(),
    );
    Ok(vec![values, indices])
}

fn argsort(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = axis(cx.int("axis")?, x.rank())?;
    let lines = sorted_positions(&x, a, cx.bool("ascending")?)?;
    let (shape, pos) = from_lines(&x.shape, a, x.shape[a], &lines, |_, p, _| p);
    Ok(vec![Tensor::from_i64(
        cx.out_dtype(0, DType::Int32),
        shape,
        pos.into_iter().map(|p| p as i64).collect(),
    )])
}

fn non_zero(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let v = x.to_bool()?;
    let st = strides(&x.shape);
    let mut out = Vec::new();
    for (f, _) in v.iter().enumerate().filter(|(_, b)| **b) {
        out.extend(st.iter().zip(&x.shape).map(|(s, d)| (f / s % d) as i64));
    }
    let n = out.len() / x.rank().max(1);
    Ok(vec![Tensor::from_i64(
        cx.out_dtype(0, DType::Int32),
        vec![n, x.rank()],
        out,
    )])
}

/// `softmax(Q Kᵀ / sqrt(d) + mask) V` over batched `[..., L, d]` and `[..., S, d]` inputs; a bool
/// mask keeps the positions that are true.
fn attention(cx: &Cx) -> Result<Vec<Tensor>> {
    let (q, k, v) = (cx.get("query")?, cx.get("key")?, cx.get("value")?);
    let r = q.rank();
    if r < 2 || k.rank() != r || v.rank() != r {
        bail!("query, key and value must have the same rank (>= 2)");
    }
    let (l, d, s, ev) = (q.shape[r - 2], q.shape[r - 1], k.shape[r - 2], v.shape[r - 1]);
    let batch = broadcast_shapes(
        &broadcast_shapes(&q.shape[..r - 2], &k.shape[..r - 2])?,
        &v.shape[..r - 2],
    )?;
    let bshape = |t: &Tensor, m: usize, n: usize| {
        let mut s = batch.clone();
        s.extend([m, n]);
        t.broadcast_to(&s).to_f32()
    };
    let (qv, kv, vv) = (bshape(&q, l, d)?, bshape(&k, s, d)?, bshape(&v, s, ev)?);
    let nb = numel(&batch);
    let mut mask_shape = batch.clone();
    mask_shape.extend([l, s]);
    let mask = match cx.opt("attn_mask")? {
        Some(m) if m.dtype == DType::Bool => Some(
            m.broadcast_to(&mask_shape)
                .to_bool()?
                .into_iter()
                .map(|b| if b { 0.0 } else { f32::NEG_INFINITY })
                .collect::<Vec<_>>(),
        ),
        Some(m) => Some(m.broadcast_to(&mask_shape).to_f32()?),
        None => None,
    };
    let scale = 1.0 / (d as f32).sqrt();
    let mut out = vec![0.0f32; nb * l * ev];
    let mut scores = vec![0.0f32; l * s];
    for b in 0..nb {
        gemm(
            l,
            d,
            s,
            Mat {
                data: &qv[b * l * d..][..l * d],
                trans: false,
            },
            Mat {
                data: &kv[b * s * d..][..s * d],
                trans: true,
            },
            &mut scores,
        );
        for (j, e) in scores.iter_mut().enumerate() {
            *e = *e * scale + mask.as_ref().map_or(0.0, |m| m[b * l * s + j]);
        }
        softmax_in_place(&mut scores, s, 1);
        gemm(
            l,
            s,
            ev,
            Mat {
                data: &scores,
                trans: false,
            },
            Mat {
                data: &vv[b * s * ev..][..s * ev],
                trans: false,
            },
            &mut out[b * l * ev..][..l * ev],
        );
    }
    let mut shape = batch;
    shape.extend([l, ev]);
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, q.dtype), shape, out)])
}
