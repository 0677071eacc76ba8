//! Reductions over axes (`reduce_*`), and `reduce_argmax`/`reduce_argmin` over one axis.

use super::Kernel;
use crate::bail;
use crate::cx::{Cx, axis};
use crate::error::Result;
use crate::tensor::{Tensor, numel, strides};
use mil_ir::DType;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("reduce_sum", reduce),
    ("reduce_mean", reduce),
    ("reduce_max", reduce),
    ("reduce_min", reduce),
    ("reduce_prod", reduce),
    ("reduce_l1_norm", reduce),
    ("reduce_l2_norm", reduce),
    ("reduce_log_sum", reduce),
    ("reduce_log_sum_exp", reduce),
    ("reduce_sum_square", reduce),
    ("reduce_argmax", arg_reduce),
    ("reduce_argmin", arg_reduce),
];

/// The axes an op reduces: its `axes` input, or every axis when absent.
fn reduced_axes(cx: &Cx, rank: usize) -> Result<Vec<usize>> {
    match cx.axes("axes", rank)? {
        Some(mut axes) => {
            axes.sort_unstable();
            axes.dedup();
            Ok(axes)
        }
        None => Ok((0..rank).collect()),
    }
}

/// For each element of a tensor of `shape`, the index of the output element it reduces into when
/// `axes` are reduced; and the output's shape with the reduced dims kept as 1.
pub fn reduction_index(shape: &[usize], axes: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let kept: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let ks = strides(&kept);
    let is = strides(shape);
    let idx = (0..numel(shape))
        .map(|flat| {
            (0..shape.len())
                .filter(|a| !axes.contains(a))
                .map(|a| (flat / is[a] % shape[a]) * ks[a])
                .sum()
        })
        .collect();
    (idx, kept)
}

fn reduce(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let axes = reduced_axes(cx, x.rank())?;
    let keep = cx.bool("keep_dims")?;
    let (idx, kept) = reduction_index(&x.shape, &axes);
    let n_out = numel(&kept);
    let count = (numel(&x.shape) / n_out.max(1)) as f32;
    let kind = cx.op.kind.as_str();
    let init = match kind {
        "reduce_max" => f32::NEG_INFINITY,
        "reduce_min" => f32::INFINITY,
        "reduce_prod" => 1.0,
        _ => 0.0,
    };
    let v = x.to_f32()?;
    let mut acc = vec![init; n_out];
    let max = if kind == "reduce_log_sum_exp" {
        let mut m = vec![f32::NEG_INFINITY; n_out];
        for (&o, &e) in idx.iter().zip(&v) {
            m[o] = m[o].max(e);
        }
        m
    } else {
        Vec::new()
    };
    for (&o, &e) in idx.iter().zip(&v) {
        let a = &mut acc[o];
        *a = match kind {
            "reduce_max" => a.max(e),
            "reduce_min" => a.min(e),
            "reduce_prod" => *a * e,
            "reduce_l1_norm" => *a + e.abs(),
            "reduce_l2_norm" | "reduce_sum_square" => *a + e * e,
            "reduce_log_sum_exp" => *a + (e - max[o]).exp(),
            _ => *a + e,
        };
    }
    for (o, a) in acc.iter_mut().enumerate() {
        *a = match kind {
            "reduce_mean" => *a / count,
            "reduce_l2_norm" => a.sqrt(),
            "reduce_log_sum" => a.ln(),
            "reduce_log_sum_exp" => a.ln() + max[o],
            _ => *a,
        };
    }
    let shape = if keep {
        kept
    } else {
        x.shape
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect()
    };
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, x.dtype), shape, acc)])
}

fn arg_reduce(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = axis(cx.int("axis")?, x.rank())?;
    let keep = cx.bool("keep_dims")?;
    let len = x.shape[a];
    if len == 0 {
        bail!("cannot take an argmax over an empty axis");
    }
    let inner = numel(&x.shape[a + 1..]);
    let outer = numel(&x.shape[..a]);
    let v = x.to_f32()?;
    let max = cx.op.kind == "reduce_argmax";
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| v[o * len * inner + k * inner + i];
            let mut best = 0;
            for k in 1..len {
                if (max && at(k) > at(best)) || (!max && at(k) < at(best)) {
                    best = k;
                }
            }
            out.push(best as i64);
        }
    }
    let mut shape = x.shape.clone();
    if keep {
        shape[a] = 1;
    } else {
        shape.remove(a);
    }
    Ok(vec![Tensor::from_i64(cx.out_dtype(0, DType::Int32), shape, out)])
}
