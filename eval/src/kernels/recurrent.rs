//! Recurrent layers over `x: [seq, batch, input]`: `rnn`, `gru` (gates `[r, o, z]`, the reset
//! applied to the hidden state before its product unless `reset_after`) and `lstm` (gates
//! `[i, f, o, z]`, optional peepholes, cell clipping and a bidirectional form), as coremltools
//! defines them. A `reverse` layer reads the sequence backwards and emits its steps in the order it
//! ran them, as coremltools' numpy references do; a bidirectional one puts the backward steps back
//! in time order beside the forward ones.

use super::Kernel;
use crate::bail;
use crate::cx::Cx;
use crate::error::{EvalError, Result};
use crate::tensor::Tensor;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[("rnn", recurrent), ("gru", recurrent), ("lstm", recurrent)];

/// An activation by the name recurrent layers take, with its default parameters (so
/// `scaled_tanh` is `tanh`, as coremltools' references compute it).
fn activation(name: &str) -> Result<fn(f32) -> f32> {
    Ok(match name {
        "sigmoid" => |v| 1.0 / (1.0 + (-v).exp()),
        "tanh" | "scaled_tanh" => f32::tanh,
        "relu" => |v| v.max(0.0),
        "linear" => |v| v,
        "sigmoid_hard" | "hard_sigmoid" => |v| (0.2 * v + 0.5).clamp(0.0, 1.0),
        other => bail!("unknown activation `{other}`"),
    })
}

/// `w · v` for a row-major `w` of `rows × v.len()`.
fn matvec(w: &[f32], v: &[f32]) -> Vec<f32> {
    w.chunks(v.len().max(1))
        .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
        .collect()
}

/// The weights of one direction.
struct Direction {
    wih: Vec<f32>,
    whh: Vec<f32>,
    bias: Vec<f32>,
    input_bias: Vec<f32>,
    peephole: Vec<f32>,
}

/// Reads one direction's weights (`suffix` is `""` or `"_back"`).
fn direction(cx: &Cx, suffix: &str, gates: usize, h: usize) -> Result<Direction> {
    let vec_or_zero = |key: &str, n: usize| -> Result<Vec<f32>> {
        Ok(cx
            .opt(key)?
            .map(|t| t.to_f32())
            .transpose()?
            .unwrap_or_else(|| vec![0.0; n]))
    };
    Ok(Direction {
        wih: cx.get(&format!("weight_ih{suffix}"))?.to_f32()?,
        whh: cx.get(&format!("weight_hh{suffix}"))?.to_f32()?,
        bias: vec_or_zero(&format!("bias{suffix}"), gates * h)?,
        input_bias: vec_or_zero("input_bias", gates * h)?,
        peephole: vec_or_zero(&format!("peephole{suffix}"), 3 * h)?,
    })
}

/// The activations and options of a layer.
struct Cell {
    kind: String,
    h: usize,
    rec: fn(f32) -> f32,
    cell: fn(f32) -> f32,
    out: fn(f32) -> f32,
    clip: Option<f32>,
    reset_after: bool,
}

impl Cell {
    /// One step from hidden state `hs` (and cell state `cs` for LSTM) on input `x`.
    fn step(&self, d: &Direction, x: &[f32], hs: &mut Vec<f32>, cs: &mut [f32]) {
        let h = self.h;
        let gx = matvec(&d.wih, x);
        match self.kind.as_str() {
            "rnn" => {
                let gh = matvec(&d.whh, hs);
                *hs = (0..h).map(|k| (self.out)(gx[k] + gh[k] + d.bias[k])).collect();
            }
            "gru" => {
                let gh = matvec(&d.whh, hs);
                let pre = |g: usize, k: usize| gx[g * h + k] + d.input_bias[g * h + k] + d.bias[g * h + k];
                let r: Vec<f32> = (0..h).map(|k| (self.rec)(pre(0, k) + gh[k])).collect();
                let z: Vec<f32> = (0..h).map(|k| (self.rec)(pre(2, k) + gh[2 * h + k])).collect();
                let candidate: Vec<f32> = if self.reset_after {
                    (0..h).map(|k| r[k] * gh[h + k]).collect()
                } else {
                    let reset: Vec<f32> = hs.iter().zip(&r).map(|(a, b)| a * b).collect();
                    matvec(&d.whh[h * h..2 * h * h], &reset)
                };
                let o: Vec<f32> = (0..h).map(|k| (self.out)(pre(1, k) + candidate[k])).collect();
                *hs = (0..h).map(|k| (1.0 - z[k]) * o[k] + z[k] * hs[k]).collect();
            }
            _ => {
                let gh = matvec(&d.whh, hs);
                let g = |n: usize, k: usize| gx[n * h + k] + gh[n * h + k] + d.bias[n * h + k];
                let p = &d.peephole;
                let mut next = vec![0.0; h];
                for k in 0..h {
                    let i = (self.rec)(g(0, k) + cs[k] * p[k]);
                    let f = (self.rec)(g(1, k) + cs[k] * p[h + k]);
                    let z = (self.cell)(g(3, k));
                    let mut c = f * cs[k] + i * z;
                    if let Some(t) = self.clip {
                        c = c.clamp(-t, t);
                    }
                    cs[k] = c;
                    let o = (self.rec)(g(2, k) + c * p[2 * h + k]);
                    next[k] = o * (self.out)(c);
                }
                *hs = next;
            }
        }
    }
}

fn recurrent(cx: &Cx) -> Result<Vec<Tensor>> {
    let kind = cx.op.kind.to_string();
    let x = cx.x()?;
    if x.rank() != 3 {
        bail!("`x` must be [seq, batch, input]");
    }
    let (seq, batch, input) = (x.shape[0], x.shape[1], x.shape[2]);
    let h0 = cx.get("initial_h")?;
    let dir = cx.string("direction")?;
    let dirs = if dir == "bidirectional" { 2 } else { 1 };
    let h = *h0
        .shape
        .last()
        .ok_or_else(|| EvalError::msg("`initial_h` must be [batch, H]"))?
        / dirs;
    let gates = match kind.as_str() {
        "rnn" => 1,
        "gru" => 3,
        _ => 4,
    };
    let name = |key: &str, default: &str| -> Result<String> {
        Ok(cx
            .opt(key)?
            .map(|_| cx.string(key))
            .transpose()?
            .unwrap_or_else(|| default.to_string()))
    };
    let cell = Cell {
        rec: activation(&name("recurrent_activation", "sigmoid")?)?,
        cell: activation(&name("cell_activation", "tanh")?)?,
        out: activation(&name("activation", "tanh")?)?,
        clip: cx.opt_float("clip")?,
        reset_after: cx.opt_float("reset_after")?.unwrap_or(0.0) != 0.0,
        kind,
        h,
    };
    let mut weights = vec![direction(cx, "", gates, h)?];
    if dirs == 2 {
        weights.push(direction(cx, "_back", gates, h)?);
    }
    for d in &weights {
        if d.wih.len() != gates * h * input || d.whh.len() != gates * h * h {
            bail!("weights do not fit {gates} gates of hidden size {h} and input size {input}");
        }
    }
    let xv = x.to_f32()?;
    let h_init = h0.to_f32()?;
    let c_init = match cx.opt("initial_c")? {
        Some(c) => c.to_f32()?,
        None => vec![0.0; batch * h * dirs],
    };
    let mut seq_out = vec![0.0f32; seq * batch * h * dirs];
    let mut h_last = vec![0.0f32; batch * h * dirs];
    let mut c_last = vec![0.0f32; batch * h * dirs];
    for (di, d) in weights.iter().enumerate() {
        let backward = di == 1 || dir == "reverse";
        for b in 0..batch {
            let at = |v: &[f32]| v[b * h * dirs + di * h..][..h].to_vec();
            let (mut hs, mut cs) = (at(&h_init), at(&c_init));
            for step in 0..seq {
                let t = if backward { seq - 1 - step } else { step };
                cell.step(d, &xv[(t * batch + b) * input..][..input], &mut hs, &mut cs);
                let slot = if di == 1 { t } else { step };
                seq_out[(slot * batch + b) * h * dirs + di * h..][..h].copy_from_slice(&hs);
            }
            h_last[b * h * dirs + di * h..][..h].copy_from_slice(&hs);
            c_last[b * h * dirs + di * h..][..h].copy_from_slice(&cs);
        }
    }
    let dtype = cx.out_dtype(0, x.dtype);
    let out = if cx.bool("output_sequence")? {
        Tensor::from_f32(dtype, vec![seq, batch, h * dirs], seq_out)
    } else {
        Tensor::from_f32(dtype, vec![1, batch, h * dirs], h_last.clone())
    };
    let mut results = vec![out, Tensor::from_f32(dtype, vec![batch, h * dirs], h_last)];
    if cell.kind == "lstm" {
        results.push(Tensor::from_f32(dtype, vec![batch, h * dirs], c_last));
    }
    Ok(results)
}
