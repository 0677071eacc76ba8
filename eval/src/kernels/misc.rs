//! `einsum` (any equation of two operands, summed naively) and the random ops, which draw from
//! [`SplitMix`] with the op's `seed` — their values are reproducible here but cannot match Core ML's.

use super::Kernel;
use super::activation::softmax_in_place;
use crate::bail;
use crate::cx::Cx;
use crate::error::Result;
use crate::inputs::SplitMix;
use crate::tensor::{Tensor, numel, strides};
use mil_ir::DType;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("einsum", einsum),
    ("random_uniform", random),
    ("random_normal", random),
    ("random_bernoulli", random),
    ("random_categorical", random_categorical),
];

fn einsum(cx: &Cx) -> Result<Vec<Tensor>> {
    let values = cx.tuple("values")?;
    let eq = cx.string("equation")?.replace(' ', "");
    let Some((ins, out)) = eq.split_once("->") else {
        bail!("equation `{eq}` has no `->`");
    };
    let ins: Vec<&str> = ins.split(',').collect();
    if ins.len() != values.len() || ins.iter().zip(&values).any(|(s, v)| s.len() != v.rank()) {
        bail!(
            "equation `{eq}` does not fit {} operands of ranks {:?}",
            values.len(),
            values.iter().map(|v| v.rank()).collect::<Vec<_>>()
        );
    }
    let mut letters: Vec<char> = out.chars().collect();
    let n_out = letters.len();
    for s in &ins {
        for c in s.chars() {
            if !letters.contains(&c) {
                letters.push(c);
            }
        }
    }
    let mut dims = vec![0usize; letters.len()];
    for (s, v) in ins.iter().zip(&values) {
        for (c, &d) in s.chars().zip(&v.shape) {
            let slot = &mut dims[letters.iter().position(|&l| l == c).unwrap()];
            if *slot > 1 && d > 1 && *slot != d {
                bail!("`{c}` is {} in one operand and {d} in another", *slot);
            }
            *slot = (*slot).max(d);
        }
    }
    // For each operand, its stride for each letter (0 where absent or broadcast).
    let steps: Vec<Vec<usize>> = ins
        .iter()
        .zip(&values)
        .map(|(s, v)| {
            let st = strides(&v.shape);
            letters
                .iter()
                .map(|&l| {
                    s.chars()
                        .position(|c| c == l)
                        .map_or(0, |i| if v.shape[i] == 1 { 0 } else { st[i] })
                })
                .collect()
        })
        .collect();
    let data: Vec<Vec<f32>> = values.iter().map(|v| v.to_f32()).collect::<Result<_>>()?;
    let out_shape = dims[..n_out].to_vec();
    let inner = numel(&dims[n_out..]);
    let mut result = vec![0.0f32; numel(&out_shape)];
    let mut coords = vec![0usize; letters.len()];
    for r in result.iter_mut() {
        let mut acc = 0.0;
        for _ in 0..inner {
            let mut prod = 1.0;
            for (d, st) in data.iter().zip(&steps) {
                prod *= d[coords.iter().zip(st).map(|(c, s)| c * s).sum::<usize>()];
            }
            acc += prod;
            advance(&mut coords[n_out..], &dims[n_out..]);
        }
        *r = acc;
        advance(&mut coords[..n_out], &dims[..n_out]);
    }
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, values[0].dtype),
        out_shape,
        result,
    )])
}

/// Steps row-major coordinates `c` within `dims`, wrapping to zero at the end.
fn advance(c: &mut [usize], dims: &[usize]) {
    for a in (0..c.len()).rev() {
        c[a] += 1;
        if c[a] < dims[a] {
            return;
        }
        c[a] = 0;
    }
}

/// The op's generator: its `seed`, where -1 (no seed) is 0.
fn generator(cx: &Cx) -> Result<SplitMix> {
    Ok(SplitMix::new(cx.int("seed")?.max(0) as u64))
}

fn random(cx: &Cx) -> Result<Vec<Tensor>> {
    let shape: Vec<usize> = cx.ints("shape")?.into_iter().map(|d| d as usize).collect();
    let mut rng = generator(cx)?;
    let n = numel(&shape);
    let v: Vec<f32> = match cx.op.kind.as_str() {
        "random_uniform" => {
            let (lo, hi) = (cx.float("low")?, cx.float("high")?);
            (0..n).map(|_| lo + (hi - lo) * rng.unit()).collect()
        }
        "random_normal" => {
            let (mean, sd) = (cx.float("mean")?, cx.float("stddev")?);
            // Box–Muller.
            (0..n)
                .map(|_| {
                    let (u1, u2) = (rng.unit().max(f32::MIN_POSITIVE), rng.unit());
                    mean + sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
                })
                .collect()
        }
        _ => {
            let p = cx.float("prob")?;
            (0..n).map(|_| (rng.unit() < p) as u8 as f32).collect()
        }
    };
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, DType::Fp32), shape, v)])
}

fn random_categorical(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let size = cx.int("size")? as usize;
    let mut rng = generator(cx)?;
    let k = *x.shape.last().unwrap_or(&1);
    let mut p = x.to_f32()?;
    if cx.string("mode")? == "logits" {
        softmax_in_place(&mut p, k, 1);
    }
    let mut out = Vec::new();
    for row in p.chunks(k.max(1)) {
        for _ in 0..size {
            let u = rng.unit() * row.iter().sum::<f32>();
            let mut acc = 0.0;
            let pick = row.iter().position(|&q| {
                acc += q;
                u < acc
            });
            out.push(pick.unwrap_or(k - 1) as f32);
        }
    }
    let mut shape = x.shape.clone();
    *shape.last_mut().unwrap() = size;
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, DType::Int32), shape, out)])
}
