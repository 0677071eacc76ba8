//! Convolutions and pooling over any number of spatial dims (`[N, C, *spatial]`): `conv` and
//! `conv_transpose` through im2col and GEMM, `avg_pool`/`max_pool`/`l2_pool` over the same
//! windows. Padding follows coremltools' `pad_type` (`valid`, `custom`, `same`, `same_lower`).
//!
//! `conv` lays out its columns in one buffer per thread kept from call to call (so a network's
//! convolutions do not ask the system for fresh pages each time), fills it with a thread per input
//! channel, and skips it for a pointwise convolution, whose input is its own column matrix.

use super::Kernel;
use super::linalg::{Mat, gemm};
use crate::bail;
use crate::cx::Cx;
use crate::error::Result;
use crate::tensor::{Tensor, numel};
use rayon::prelude::*;
use std::cell::RefCell;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("conv", conv),
    ("conv_transpose", conv_transpose),
    ("avg_pool", pool),
    ("max_pool", pool),
    ("l2_pool", pool),
];

/// The windows of a convolution or pool over the spatial dims.
struct Windows {
    input: Vec<usize>,
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    before: Vec<usize>,
    output: Vec<usize>,
}

impl Windows {
    /// Reads strides, dilations and padding of `cx` for `input` spatial dims and `kernel`.
    fn new(cx: &Cx, input: &[usize], kernel: &[usize], ceil_mode: bool) -> Result<Windows> {
        let n = input.len();
        let list = |key: &str| -> Result<Vec<usize>> {
            Ok(match cx.opt_ints(key)? {
                Some(v) if v.len() == n => v.into_iter().map(|x| x.max(1) as usize).collect(),
                Some(v) => bail!("`{key}` has {} values for {n} spatial dims", v.len()),
                None => vec![1; n],
            })
        };
        let (strides, dilations) = (list("strides")?, list("dilations")?);
        let pad_type = cx.opt("pad_type")?.map(|_| cx.string("pad_type")).transpose()?;
        let mut before = vec![0; n];
        let mut after = vec![0; n];
        match pad_type.as_deref().unwrap_or("valid") {
            "valid" => {}
            "custom" => {
                let pad = cx.opt_ints("pad")?.unwrap_or_else(|| vec![0; 2 * n]);
                if pad.len() != 2 * n {
                    bail!("`pad` has {} values for {n} spatial dims", pad.len());
                }
                for i in 0..n {
                    (before[i], after[i]) = (pad[2 * i] as usize, pad[2 * i + 1] as usize);
                }
            }
            same @ ("same" | "same_lower") => {
                for i in 0..n {
                    let span = (kernel[i] - 1) * dilations[i] + 1;
                    let out = input[i].div_ceil(strides[i]);
                    let total = ((out - 1) * strides[i] + span).saturating_sub(input[i]);
                    before[i] = if same == "same" {
                        total / 2
                    } else {
                        total.div_ceil(2)
                    };
                    after[i] = total - before[i];
                }
            }
            other => bail!("unknown pad_type `{other}`"),
        }
        let mut output = Vec::with_capacity(n);
        for i in 0..n {
            let span = (kernel[i] - 1) * dilations[i] + 1;
            let padded = input[i] + before[i] + after[i];
            if padded < span {
                bail!("the window ({span}) is larger than the padded input ({padded}) on spatial dim {i}");
            }
            let mut o = if ceil_mode {
                (padded - span).div_ceil(strides[i]) + 1
            } else {
                (padded - span) / strides[i] + 1
            };
            // A window may not start in the padding after the input (PyTorch's ceil_mode rule).
            if ceil_mode && (o - 1) * strides[i] >= input[i] + before[i] {
                o -= 1;
            }
            output.push(o);
        }
        Ok(Windows {
            input: input.to_vec(),
            kernel: kernel.to_vec(),
            strides,
            dilations,
            before,
            output,
        })
    }

    /// For each kernel offset (outer) and output position (inner), the flat spatial index of the
    /// input element it reads, or `None` in the padding.
    fn sources(&self) -> Vec<Option<usize>> {
        let (k, p) = (numel(&self.kernel), numel(&self.output));
        let mut out = Vec::with_capacity(k * p);
        for kk in 0..k {
            let koff = unflatten(kk, &self.kernel);
            for pp in 0..p {
                let opos = unflatten(pp, &self.output);
                let mut at = 0usize;
                let mut inside = true;
                for d in 0..self.input.len() {
                    let i = (opos[d] * self.strides[d] + koff[d] * self.dilations[d]) as i64
                        - self.before[d] as i64;
                    if i < 0 || i >= self.input[d] as i64 {
                        inside = false;
                        break;
                    }
                    at = at * self.input[d] + i as usize;
                }
                out.push(inside.then_some(at));
            }
        }
        out
    }
}

impl Windows {
    /// Whether every window is the one input element at its output position (a 1×…×1 kernel,
    /// stride 1, no padding): the input is then its own column matrix.
    fn pointwise(&self) -> bool {
        self.kernel.iter().all(|&k| k == 1)
            && self.strides.iter().all(|&s| s == 1)
            && self.output == self.input
    }

    /// For each spatial dim, the input coordinate read at kernel offset `kd` and output position
    /// `od` along that dim (at `kd * output + od`), or `None` in the padding.
    fn taps(&self) -> Vec<Vec<Option<usize>>> {
        (0..self.input.len())
            .map(|d| {
                let (k, o) = (self.kernel[d], self.output[d]);
                (0..k * o)
                    .map(|t| {
                        let (kd, od) = (t / o, t % o);
                        let i =
                            (od * self.strides[d] + kd * self.dilations[d]) as i64 - self.before[d] as i64;
                        (0..self.input[d] as i64).contains(&i).then_some(i as usize)
                    })
                    .collect()
            })
            .collect()
    }

    /// Fills `cols` with the column matrix of `channels` input planes: row `c·k + kk` holds, for
    /// each output position, the element of plane `c` at kernel offset `kk` (0 in the padding).
    fn im2col(&self, planes: &[f32], channels: usize, cols: &mut [f32]) {
        let (k, p, sp) = (numel(&self.kernel), numel(&self.output), numel(&self.input));
        let d = self.input.len();
        let taps = self.taps();
        let inner = self.output[d - 1];
        cols[..channels * k * p]
            .par_chunks_mut(k * p)
            .enumerate()
            .for_each(|(c, rows)| {
                let plane = &planes[c * sp..][..sp];
                let mut outer = vec![0usize; d - 1];
                for (kk, row) in rows.chunks_mut(p).enumerate() {
                    let koff = unflatten(kk, &self.kernel);
                    let last = &taps[d - 1][koff[d - 1] * inner..][..inner];
                    outer.fill(0);
                    for segment in row.chunks_mut(inner) {
                        // The flat index of the start of the input row this segment reads, if inside.
                        let start = (0..d - 1).try_fold(0usize, |at, j| {
                            taps[j][koff[j] * self.output[j] + outer[j]].map(|i| at * self.input[j] + i)
                        });
                        match start {
                            Some(start) => {
                                let line = &plane[start * self.input[d - 1]..][..self.input[d - 1]];
                                for (v, t) in segment.iter_mut().zip(last) {
                                    *v = t.map_or(0.0, |i| line[i]);
                                }
                            }
                            None => segment.fill(0.0),
                        }
                        for j in (0..d - 1).rev() {
                            outer[j] += 1;
                            if outer[j] < self.output[j] {
                                break;
                            }
                            outer[j] = 0;
                        }
                    }
                }
            });
    }
}

thread_local! {
    /// The column matrix of the convolution running on this thread, kept for the next one.
    static COLUMNS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// The coordinates of flat index `i` in `shape`.
fn unflatten(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut c = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        c[d] = i % shape[d];
        i /= shape[d];
    }
    c
}

fn conv(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, w) = (cx.x()?, cx.get("weight")?);
    if x.rank() < 3 || w.rank() != x.rank() {
        bail!("`x` must be [N, C, *spatial] and `weight` [C_out, C_in/groups, *kernel] of the same rank");
    }
    let groups = cx.opt_float("groups")?.unwrap_or(1.0) as usize;
    let (n, cin) = (x.shape[0], x.shape[1]);
    let (cout, cin_g) = (w.shape[0], w.shape[1]);
    if groups == 0 || cin != cin_g * groups || cout % groups != 0 {
        bail!(
            "{cin} input channels do not fit weight {:?} in {groups} groups",
            w.shape
        );
    }
    let win = Windows::new(cx, &x.shape[2..], &w.shape[2..], false)?;
    let (k, p, sp) = (numel(&win.kernel), numel(&win.output), numel(&win.input));
    let cout_g = cout / groups;
    let (xv, wv) = (x.f32s()?, w.f32s()?);
    let bias = cx.opt("bias")?;
    let bias = bias.as_ref().map(|b| b.f32s()).transpose()?;
    if let Some(bias) = &bias
        && bias.len() != cout
    {
        bail!("`bias` has {} values for {cout} output channels", bias.len());
    }
    let mut out = vec![0.0f32; n * cout * p];
    let pointwise = win.pointwise();
    COLUMNS.with_borrow_mut(|cols| {
        if !pointwise && cols.len() < cin_g * k * p {
            cols.resize(cin_g * k * p, 0.0);
        }
        for (i, og) in out.chunks_mut(cout_g * p).enumerate() {
            let (b, g) = (i / groups, i % groups);
            let planes = &xv[(b * cin + g * cin_g) * sp..][..cin_g * sp];
            let columns: &[f32] = if pointwise {
                planes
            } else {
                win.im2col(planes, cin_g, cols);
                cols
            };
            let wg = &wv[g * cout_g * cin_g * k..][..cout_g * cin_g * k];
            gemm(
                cout_g,
                cin_g * k,
                p,
                Mat {
                    data: wg,
                    trans: false,
                },
                Mat {
                    data: columns,
                    trans: false,
                },
                og,
            );
        }
    });
    if let Some(bias) = &bias {
        for (row, co) in out.chunks_mut(p).zip((0..cout).cycle()) {
            row.iter_mut().for_each(|v| *v += bias[co]);
        }
    }
    let mut shape = vec![n, cout];
    shape.extend(&win.output);
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, x.dtype), shape, out)])
}

fn conv_transpose(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, w) = (cx.x()?, cx.get("weight")?);
    if x.rank() < 3 || w.rank() != x.rank() {
        bail!("`x` must be [N, C, *spatial] and `weight` [C_in, C_out/groups, *kernel] of the same rank");
    }
    let groups = cx.opt_float("groups")?.unwrap_or(1.0) as usize;
    let (n, cin) = (x.shape[0], x.shape[1]);
    let cout_g = w.shape[1];
    if groups == 0 || w.shape[0] != cin || cin % groups != 0 {
        bail!(
            "weight {:?} does not fit {cin} input channels in {groups} groups",
            w.shape
        );
    }
    let cin_g = cin / groups;
    let cout = cout_g * groups;
    let spatial = &x.shape[2..];
    let kernel = &w.shape[2..];
    let d = spatial.len();
    let list = |key: &str| -> Result<Vec<usize>> {
        Ok(cx
            .opt_ints(key)?
            .map_or(vec![1; d], |v| v.into_iter().map(|x| x as usize).collect()))
    };
    let (strides, dilations) = (list("strides")?, list("dilations")?);
    let pad_type = cx.opt("pad_type")?.map(|_| cx.string("pad_type")).transpose()?;
    let mut before = vec![0usize; d];
    let mut out_sp = vec![0usize; d];
    for i in 0..d {
        let full = (spatial[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1;
        let (b, a) = match pad_type.as_deref().unwrap_or("valid") {
            "custom" => {
                let pad = cx.opt_ints("pad")?.unwrap_or_else(|| vec![0; 2 * d]);
                (pad[2 * i] as usize, pad[2 * i + 1] as usize)
            }
            "same" | "same_lower" => {
                let total = full.saturating_sub(spatial[i] * strides[i]);
                let b = if pad_type.as_deref() == Some("same") {
                    total / 2
                } else {
                    total.div_ceil(2)
                };
                (b, total - b)
            }
            _ => (0, 0),
        };
        before[i] = b;
        out_sp[i] = full - b - a;
    }
    if let Some(shape) = cx.opt_ints("output_shape")? {
        let tail = &shape[shape.len() - d..];
        for i in 0..d {
            out_sp[i] = tail[i] as usize;
        }
    }
    let (k, pin, pout) = (numel(kernel), numel(spatial), numel(&out_sp));
    let (xv, wv) = (x.to_f32()?, w.to_f32()?);
    let mut out = vec![0.0f32; n * cout * pout];
    // Where input position p with kernel offset kk lands in the output, if inside.
    let mut dest = Vec::with_capacity(k * pin);
    for kk in 0..k {
        let ko = unflatten(kk, kernel);
        for pp in 0..pin {
            let ip = unflatten(pp, spatial);
            let mut at = 0usize;
            let mut inside = true;
            for j in 0..d {
                let o = (ip[j] * strides[j] + ko[j] * dilations[j]) as i64 - before[j] as i64;
                if o < 0 || o >= out_sp[j] as i64 {
                    inside = false;
                    break;
                }
                at = at * out_sp[j] + o as usize;
            }
            dest.push(inside.then_some(at));
        }
    }
    out.par_chunks_mut(cout * pout)
        .enumerate()
        .for_each(|(b, out_b)| {
            let mut cols = vec![0.0f32; cout_g * k * pin];
            for g in 0..groups {
                // weight of group g as [cin_g, cout_g*k], transposed: [cout_g*k, cin_g]
                let wg = &wv[g * cin_g * cout_g * k..][..cin_g * cout_g * k];
                let xg = &xv[(b * cin + g * cin_g) * pin..][..cin_g * pin];
                gemm(
                    cout_g * k,
                    cin_g,
                    pin,
                    Mat {
                        data: wg,
                        trans: true,
                    },
                    Mat {
                        data: xg,
                        trans: false,
                    },
                    &mut cols,
                );
                for co in 0..cout_g {
                    let plane = &mut out_b[(g * cout_g + co) * pout..][..pout];
                    for (j, dst) in dest.iter().enumerate() {
                        if let Some(o) = dst {
                            plane[*o] += cols[co * k * pin + j];
                        }
                    }
                }
            }
        });
    if let Some(bias) = cx.opt("bias")? {
        let bias = bias.to_f32()?;
        for (i, row) in out.chunks_mut(pout).enumerate() {
            row.iter_mut().for_each(|v| *v += bias[i % cout]);
        }
    }
    let mut shape = vec![n, cout];
    shape.extend(out_sp);
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, x.dtype), shape, out)])
}

fn pool(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    if x.rank() < 3 {
        bail!("`x` must be [N, C, *spatial]");
    }
    let kernel: Vec<usize> = cx.ints("kernel_sizes")?.into_iter().map(|k| k as usize).collect();
    let ceil_mode = cx.opt_float("ceil_mode")?.unwrap_or(0.0) != 0.0;
    let win = Windows::new(cx, &x.shape[2..], &kernel, ceil_mode)?;
    let src = win.sources();
    let (k, p, sp) = (numel(&kernel), numel(&win.output), numel(&win.input));
    let kind = cx.op.kind.as_str();
    let exclude = kind == "avg_pool" && cx.bool("exclude_padding_from_average")?;
    let xv = x.to_f32()?;
    let planes = x.shape[0] * x.shape[1];
    let mut out = vec![0.0f32; planes * p];
    out.par_chunks_mut(p).enumerate().for_each(|(pl, o)| {
        let plane = &xv[pl * sp..][..sp];
        for (pp, o) in o.iter_mut().enumerate() {
            let (mut acc, mut count) = (
                if kind == "max_pool" {
                    f32::NEG_INFINITY
                } else {
                    0.0
                },
                0usize,
            );
            for kk in 0..k {
                if let Some(s) = src[kk * p + pp] {
                    let v = plane[s];
                    count += 1;
                    acc = match kind {
                        "max_pool" => acc.max(v),
                        "l2_pool" => acc + v * v,
                        _ => acc + v,
                    };
                }
            }
            *o = match kind {
                "max_pool" => acc,
                "l2_pool" => acc.sqrt(),
                _ if exclude => acc / count.max(1) as f32,
                _ => acc / k as f32,
            };
        }
    });
    let mut shape = x.shape[..2].to_vec();
    shape.extend(&win.output);
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, x.dtype), shape, out)])
}
