//! Normalizations: `batch_norm`, `instance_norm`, `layer_norm`, `l2_norm` and
//! `local_response_norm` (coremltools' formulas; LRN's channel window as PyTorch's).

use super::Kernel;
use super::reduce::reduction_index;
use crate::bail;
use crate::cx::Cx;
use crate::error::Result;
use crate::tensor::{Tensor, numel};

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("batch_norm", batch_norm),
    ("instance_norm", instance_norm),
    ("layer_norm", layer_norm),
    ("l2_norm", l2_norm),
    ("local_response_norm", local_response_norm),
];

/// A per-channel (axis 1) parameter, or `fill` for each of `c` channels when absent.
fn per_channel(cx: &Cx, key: &str, c: usize, fill: f32) -> Result<Vec<f32>> {
    match cx.opt(key)? {
        Some(t) if t.len() == c => t.to_f32(),
        Some(t) if t.len() == 1 => Ok(vec![t.scalar()?; c]),
        Some(t) => bail!("`{key}` has {} values for {c} channels", t.len()),
        None => Ok(vec![fill; c]),
    }
}

fn batch_norm(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let c = if x.rank() > 1 { x.shape[1] } else { 1 };
    let inner = numel(x.shape.get(2..).unwrap_or(&[]));
    let (mean, var) = (
        per_channel(cx, "mean", c, 0.0)?,
        per_channel(cx, "variance", c, 1.0)?,
    );
    let (gamma, beta) = (
        per_channel(cx, "gamma", c, 1.0)?,
        per_channel(cx, "beta", c, 0.0)?,
    );
    let eps = cx.float_or("epsilon", 1e-5)?;
    let v = x
        .to_f32()?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let ch = (i / inner.max(1)) % c;
            (v - mean[ch]) / (var[ch] + eps).sqrt() * gamma[ch] + beta[ch]
        })
        .collect();
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        v,
    )])
}

/// When `axes` are the innermost axes of `shape` (each once, in any order), how many elements
/// they span.
fn trailing_len(shape: &[usize], axes: &[usize]) -> Option<usize> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    let first = shape.len().checked_sub(sorted.len())?;
    (sorted.iter().enumerate().all(|(i, &a)| a == first + i)).then(|| numel(&shape[first..]))
}

/// `x` normalized to zero mean and unit variance over `axes` (biased variance, `eps` added).
fn standardize(x: &Tensor, axes: &[usize], eps: f32) -> Result<Vec<f32>> {
    if let Some(len) = trailing_len(&x.shape, axes) {
        // The normalized elements are the rows of `len` values: the same sums, row by row.
        let mut v = x.to_f32()?;
        for row in v.chunks_mut(len.max(1)) {
            let count = row.len() as f32;
            let mean = row.iter().sum::<f32>() / count;
            let var = row.iter().map(|e| (e - mean) * (e - mean)).sum::<f32>() / count;
            let sd = (var + eps).sqrt();
            row.iter_mut().for_each(|e| *e = (*e - mean) / sd);
        }
        return Ok(v);
    }
    let (idx, kept) = reduction_index(&x.shape, axes);
    let n_out = numel(&kept);
    let count = (x.len() / n_out.max(1)).max(1) as f32;
    let v = x.to_f32()?;
    let mut mean = vec![0.0f32; n_out];
    for (&o, &e) in idx.iter().zip(&v) {
        mean[o] += e;
    }
    mean.iter_mut().for_each(|m| *m /= count);
    let mut var = vec![0.0f32; n_out];
    for (&o, &e) in idx.iter().zip(&v) {
        var[o] += (e - mean[o]) * (e - mean[o]);
    }
    var.iter_mut().for_each(|s| *s /= count);
    Ok(idx
        .iter()
        .zip(&v)
        .map(|(&o, &e)| (e - mean[o]) / (var[o] + eps).sqrt())
        .collect())
}

fn instance_norm(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    if x.rank() < 3 {
        bail!("`x` must be [N, C, *spatial]");
    }
    let c = x.shape[1];
    let inner = numel(&x.shape[2..]);
    let axes: Vec<usize> = (2..x.rank()).collect();
    let (gamma, beta) = (
        per_channel(cx, "gamma", c, 1.0)?,
        per_channel(cx, "beta", c, 0.0)?,
    );
    let mut v = standardize(&x, &axes, cx.float_or("epsilon", 1e-5)?)?;
    for (i, e) in v.iter_mut().enumerate() {
        let ch = (i / inner) % c;
        *e = *e * gamma[ch] + beta[ch];
    }
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        v,
    )])
}

fn layer_norm(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let axes = match cx.axes("axes", x.rank())? {
        Some(a) => a,
        None => (0..x.rank()).collect(),
    };
    let mut v = standardize(&x, &axes, cx.float_or("epsilon", 1e-5)?)?;
    // gamma and beta have the shape of the normalized axes: broadcast them over the rest.
    let param_shape: Vec<usize> = (0..x.rank())
        .map(|a| if axes.contains(&a) { x.shape[a] } else { 1 })
        .collect();
    for (key, add) in [("gamma", false), ("beta", true)] {
        if let Some(p) = cx.opt(key)? {
            let p = p.to_f32()?;
            if p.len() != numel(&param_shape) {
                bail!("`{key}` has {} values for the normalized shape", p.len());
            }
            if trailing_len(&x.shape, &axes).is_some() {
                for row in v.chunks_mut(p.len().max(1)) {
                    for (e, p) in row.iter_mut().zip(&p) {
                        *e = if add { *e + p } else { *e * p };
                    }
                }
                continue;
            }
            let t = Tensor::from_f32(mil_ir::DType::Fp32, param_shape.clone(), p).broadcast_to(&x.shape);
            for (e, p) in v.iter_mut().zip(t.to_f32()?) {
                *e = if add { *e + p } else { *e * p };
            }
        }
    }
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        v,
    )])
}

fn l2_norm(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let rank = x.rank();
    let axes: Vec<usize> = match cx.axes("axes", rank)? {
        Some(a) => a,
        None if rank >= 3 => (rank - 3..rank).collect(),
        None => (0..rank).collect(),
    };
    let eps = cx.float_or("epsilon", 1e-6)?;
    let (idx, kept) = reduction_index(&x.shape, &axes);
    let v = x.to_f32()?;
    let mut sum = vec![0.0f32; numel(&kept)];
    for (&o, &e) in idx.iter().zip(&v) {
        sum[o] += e * e;
    }
    let out = idx
        .iter()
        .zip(&v)
        .map(|(&o, &e)| e / (sum[o] + eps).sqrt())
        .collect();
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        out,
    )])
}

fn local_response_norm(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    if x.rank() < 3 {
        bail!("`x` must be [*B, C, H, W] (rank >= 3)");
    }
    let size = cx.int("size")? as usize;
    let (alpha, beta, k) = (
        cx.float_or("alpha", 1e-4)?,
        cx.float_or("beta", 0.75)?,
        cx.float_or("k", 1.0)?,
    );
    // The channel axis is the first of the last three (`[*B, C, *D]`, two spatial dims).
    let ca = x.rank() - 3;
    let (c, inner) = (x.shape[ca], numel(&x.shape[ca + 1..]));
    let v = x.to_f32()?;
    let out = (0..v.len())
        .map(|i| {
            let ch = (i / inner) % c;
            let base = i - ch * inner;
            let lo = ch.saturating_sub(size / 2);
            let hi = (ch + (size - 1) / 2).min(c - 1);
            let s: f32 = (lo..=hi).map(|j| v[base + j * inner].powi(2)).sum();
            v[i] / (k + alpha / size as f32 * s).powf(beta)
        })
        .collect();
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        out,
    )])
}
