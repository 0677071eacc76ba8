//! Indexing: `gather`, `gather_along_axis`, `gather_nd` and the `scatter` ops (every `mode`).
//! Negative indices count from the end of their axis, as coremltools' numpy references do.

use super::Kernel;
use super::shape::map_index;
use crate::bail;
use crate::cx::{Cx, axis};
use crate::error::{EvalError, Result};
use crate::tensor::{Tensor, numel, strides};

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("gather", gather),
    ("gather_along_axis", gather_along_axis),
    ("gather_nd", gather_nd),
    ("scatter", scatter),
    ("scatter_along_axis", scatter),
    ("scatter_nd", scatter),
];

/// Index `i` into an axis of length `d`, negative counting from the end (as constant folding
/// wraps it: `mil_ir::semantics::wrap_index`).
fn wrap(i: i64, d: usize) -> Result<usize> {
    match mil_ir::semantics::wrap_index(i, d) {
        Some(j) => Ok(j),
        None => bail!("index {i} is out of range for an axis of length {d}"),
    }
}

fn gather(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, ind) = (cx.x()?, cx.get("indices")?);
    let a = axis(cx.int("axis")?, x.rank())?;
    let bd = cx.opt_float("batch_dims")?.unwrap_or(0.0) as usize;
    let iv = ind.to_i64()?;
    let d = x.shape[a];
    let iv: Vec<usize> = iv.iter().map(|&i| wrap(i, d)).collect::<Result<_>>()?;
    let mut shape = x.shape[..a].to_vec();
    shape.extend(&ind.shape[bd.min(ind.rank())..]);
    shape.extend(&x.shape[a + 1..]);
    let (xs, is) = (strides(&x.shape), strides(&ind.shape));
    let ni = ind.rank() - bd.min(ind.rank());
    Ok(vec![map_index(&x, shape, None, |c| {
        let (outer, rest) = c.split_at(a);
        let (ic, inner) = rest.split_at(ni);
        let at: usize = outer[..bd].iter().chain(ic).zip(&is).map(|(c, s)| c * s).sum();
        let mut flat = 0;
        for (k, &o) in outer.iter().enumerate() {
            flat += o * xs[k];
        }
        flat += iv[at] * xs[a];
        for (k, &i) in inner.iter().enumerate() {
            flat += i * xs[a + 1 + k];
        }
        Some(flat)
    })?])
}

fn gather_along_axis(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, ind) = (cx.x()?, cx.get("indices")?);
    let a = axis(cx.int("axis")?, x.rank())?;
    let iv = ind.to_i64()?;
    let xs = strides(&x.shape);
    let is = strides(&ind.shape);
    let d = x.shape[a];
    let idx: Vec<usize> = iv.iter().map(|&i| wrap(i, d)).collect::<Result<_>>()?;
    Ok(vec![map_index(&x, ind.shape.clone(), None, |c| {
        let at: usize = c.iter().zip(&is).map(|(c, s)| c * s).sum();
        Some(
            c.iter()
                .enumerate()
                .map(|(k, &ck)| if k == a { idx[at] } else { ck } * xs[k])
                .sum(),
        )
    })?])
}

fn gather_nd(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, ind) = (cx.x()?, cx.get("indices")?);
    let bd = cx.opt_float("batch_dims")?.unwrap_or(0.0) as usize;
    let k = *ind
        .shape
        .last()
        .ok_or_else(|| EvalError::msg("`indices` must have rank >= 1"))?;
    if bd + k > x.rank() {
        bail!(
            "indices of depth {k} after {bd} batch dims do not fit rank {}",
            x.rank()
        );
    }
    let iv = ind.to_i64()?;
    let xs = strides(&x.shape);
    let lead = &ind.shape[..ind.rank() - 1];
    let mut shape = lead.to_vec();
    shape.extend(&x.shape[bd + k..]);
    let inner = numel(&x.shape[bd + k..]);
    let batch_inner = numel(&lead[bd..]);
    let mut idx = Vec::with_capacity(numel(&shape));
    for (row, tuple) in iv.chunks(k.max(1)).enumerate().take(numel(lead)) {
        let b = row / batch_inner.max(1);
        let mut base = b * numel(&x.shape[bd..]);
        for (j, &i) in tuple.iter().enumerate().take(k) {
            base += wrap(i, x.shape[bd + j])? * xs[bd + j];
        }
        idx.extend(base..base + inner);
    }
    Ok(vec![x.take(&idx).reshaped(shape)])
}

/// For each element of `updates`, the flat index of `data` it goes to.
fn scatter_targets(cx: &Cx, data: &Tensor, ind: &Tensor, upd: &Tensor) -> Result<Vec<usize>> {
    let iv = ind.to_i64()?;
    let ds = strides(&data.shape);
    let us = strides(&upd.shape);
    let n = upd.len();
    let coords = |f: usize| -> Vec<usize> { us.iter().zip(&upd.shape).map(|(s, d)| f / s % d).collect() };
    match cx.op.kind.as_str() {
        "scatter" => {
            let a = axis(cx.int("axis")?, data.rank())?;
            let ni = ind.rank();
            (0..n)
                .map(|f| {
                    let c = coords(f);
                    let at: usize = c[a..a + ni]
                        .iter()
                        .zip(strides(&ind.shape))
                        .map(|(c, s)| c * s)
                        .sum();
                    let mut flat = wrap(iv[at], data.shape[a])? * ds[a];
                    for k in 0..a {
                        flat += c[k] * ds[k];
                    }
                    for k in a + 1..data.rank() {
                        flat += c[k + ni - 1] * ds[k];
                    }
                    Ok(flat)
                })
                .collect()
        }
        "scatter_along_axis" => {
            let a = axis(cx.int("axis")?, data.rank())?;
            (0..n)
                .map(|f| {
                    let c = coords(f);
                    let mut flat = 0;
                    for k in 0..data.rank() {
                        flat += if k == a { wrap(iv[f], data.shape[a])? } else { c[k] } * ds[k];
                    }
                    Ok(flat)
                })
                .collect()
        }
        _ => {
            let k = *ind.shape.last().unwrap_or(&0);
            let inner = numel(&data.shape[k..]);
            let mut out = Vec::with_capacity(n);
            for tuple in iv.chunks(k.max(1)) {
                let mut base = 0;
                for (j, &i) in tuple.iter().enumerate() {
                    base += wrap(i, data.shape[j])? * ds[j];
                }
                out.extend(base..base + inner);
            }
            Ok(out)
        }
    }
}

fn scatter(cx: &Cx) -> Result<Vec<Tensor>> {
    let (data, ind, upd) = (cx.get("data")?, cx.get("indices")?, cx.get("updates")?);
    let mode = cx.string("mode")?;
    let targets = scatter_targets(cx, &data, &ind, &upd)?;
    let mut v = data.to_f32()?;
    let u = upd.to_f32()?;
    if targets.len() != u.len() {
        bail!(
            "`updates` has {} elements where the indices address {}",
            u.len(),
            targets.len()
        );
    }
    for (&t, &e) in targets.iter().zip(&u) {
        let d = &mut v[t];
        *d = match mode.as_str() {
            "update" => e,
            "add" => *d + e,
            "sub" => *d - e,
            "mul" => *d * e,
            "div" => *d / e,
            "max" => d.max(e),
            "min" => d.min(e),
            m => bail!("unknown scatter mode `{m}`"),
        };
    }
    Ok(vec![Tensor::from_f32(data.dtype, data.shape.clone(), v)])
}
