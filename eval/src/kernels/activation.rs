//! Activations: the pointwise ones, the per-channel ones (`prelu`, `softplus_parametric`) and
//! `softmax`.

use super::Kernel;
use super::elementwise::{erf, map_f32};
use crate::bail;
use crate::cx::{Cx, axis};
use crate::error::Result;
use crate::tensor::{Tensor, numel};

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("relu", pointwise),
    ("relu6", pointwise),
    ("sigmoid", pointwise),
    ("sigmoid_hard", pointwise),
    ("softplus", pointwise),
    ("softsign", pointwise),
    ("elu", pointwise),
    ("leaky_relu", pointwise),
    ("gelu", pointwise),
    ("silu", pointwise),
    ("clamped_relu", pointwise),
    ("linear_activation", pointwise),
    ("scaled_tanh", pointwise),
    ("thresholded_relu", pointwise),
    ("prelu", per_channel),
    ("softplus_parametric", per_channel),
    ("softmax", softmax),
];

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

fn softplus(v: f32) -> f32 {
    v.max(0.0) + (-v.abs()).exp().ln_1p()
}

fn pointwise(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let dtype = cx.out_dtype(0, x.dtype);
    let alpha = || cx.float("alpha");
    let beta = || cx.float("beta");
    let out = match cx.op.kind.as_str() {
        "relu" => map_f32(&x, dtype, |v| v.max(0.0)),
        "relu6" => map_f32(&x, dtype, |v| v.clamp(0.0, 6.0)),
        "sigmoid" => map_f32(&x, dtype, sigmoid),
        "softplus" => map_f32(&x, dtype, softplus),
        "softsign" => map_f32(&x, dtype, |v| v / (1.0 + v.abs())),
        "silu" => map_f32(&x, dtype, |v| v * sigmoid(v)),
        "sigmoid_hard" => {
            let (a, b) = (alpha()?, beta()?);
            map_f32(&x, dtype, |v| (a * v + b).clamp(0.0, 1.0))
        }
        "elu" => {
            let a = alpha()?;
            map_f32(&x, dtype, |v| if v > 0.0 { v } else { a * v.exp_m1() })
        }
        "leaky_relu" => {
            let a = alpha()?;
            map_f32(&x, dtype, |v| if v >= 0.0 { v } else { a * v })
        }
        "clamped_relu" => {
            let (a, b) = (alpha()?, beta()?);
            map_f32(&x, dtype, |v| if v >= 0.0 { v.min(b) } else { (a * v).min(b) })
        }
        "linear_activation" => {
            let (a, b) = (alpha()?, beta()?);
            map_f32(&x, dtype, |v| a * v + b)
        }
        "scaled_tanh" => {
            let (a, b) = (alpha()?, beta()?);
            map_f32(&x, dtype, |v| a * (b * v).tanh())
        }
        "thresholded_relu" => {
            let a = alpha()?;
            map_f32(&x, dtype, |v| if v >= a { v } else { 0.0 })
        }
        "gelu" => match cx.string("mode")?.as_str() {
            "EXACT" => map_f32(&x, dtype, |v| 0.5 * v * (1.0 + erf(v / std::f32::consts::SQRT_2))),
            "TANH_APPROXIMATION" => map_f32(&x, dtype, |v| {
                let k = (2.0 / std::f32::consts::PI).sqrt();
                0.5 * v * (1.0 + (k * (v + 0.044715 * v * v * v)).tanh())
            }),
            "SIGMOID_APPROXIMATION" => map_f32(&x, dtype, |v| v * sigmoid(1.702 * v)),
            m => bail!("unknown gelu mode `{m}`"),
        },
        other => bail!("`{other}` is not a pointwise activation"),
    }?;
    Ok(vec![out])
}

/// `prelu` (`alpha` per channel, axis 1) and `softplus_parametric` (`alpha`, `beta` per channel).
fn per_channel(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    if x.rank() < 2 {
        bail!(
            "`x` must have a channel axis (rank >= 2), it has rank {}",
            x.rank()
        );
    }
    let c = x.shape[1];
    let inner = numel(&x.shape[2..]);
    let alpha = cx.get("alpha")?.to_f32()?;
    let beta = match cx.op.kind.as_str() {
        "softplus_parametric" => cx.get("beta")?.to_f32()?,
        _ => vec![0.0; c],
    };
    if alpha.len() != c || beta.len() != c {
        bail!("`alpha` must have one value per channel ({c})");
    }
    let parametric = cx.op.kind == "softplus_parametric";
    let v: Vec<f32> = x
        .to_f32()?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let ch = (i / inner) % c;
            if parametric {
                alpha[ch] * softplus(beta[ch] * v)
            } else if v >= 0.0 {
                v
            } else {
                alpha[ch] * v
            }
        })
        .collect();
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        v,
    )])
}

/// Softmax of `v` (outer × len × inner layout) along the middle axis, in place.
pub fn softmax_in_place(v: &mut [f32], len: usize, inner: usize) {
    let outer = v.len() / (len * inner).max(1);
    for o in 0..outer {
        for i in 0..inner {
            let at = |k: usize| o * len * inner + k * inner + i;
            let max = (0..len).map(|k| v[at(k)]).fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for k in 0..len {
                let e = (v[at(k)] - max).exp();
                v[at(k)] = e;
                sum += e;
            }
            for k in 0..len {
                v[at(k)] /= sum;
            }
        }
    }
}

fn softmax(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let a = axis(cx.int("axis")?, x.rank())?;
    let mut v = x.to_f32()?;
    softmax_in_place(
        &mut v,
        x.shape.get(a).copied().unwrap_or(1),
        numel(&x.shape[a + 1..]),
    );
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        x.shape.clone(),
        v,
    )])
}
