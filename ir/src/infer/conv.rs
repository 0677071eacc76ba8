//! Convolutions and pooling: output sizes for every `pad_type`, strides, dilations and groups.

use super::context::Ctx;
use super::shape::{Size, dim, known, may_equal, show};
use super::{Inferred, Problem, tensor};
use crate::catalogue::Opset;
use crate::diagnostic::count;
use crate::types::{DType, Dim};

/// How the spatial dims of a window op are padded.
struct Window {
    pad_type: String,
    strides: Vec<i64>,
    dilations: Vec<i64>,
    /// Before/after padding per spatial dim (only used for `custom`).
    pad: Vec<i64>,
    ceil_mode: bool,
}

impl Window {
    /// Reads the window inputs of an op over `n` spatial dims, with coremltools' defaults.
    fn read(cx: &Ctx, n: usize, default_pad_type: &'static str) -> Result<Window, Problem> {
        let pad_type = cx.string_or("pad_type", default_pad_type)?.to_lowercase();
        let allowed = ["valid", "same", "custom", "same_lower"];
        if !allowed.contains(&pad_type.as_str()) {
            return Err(Problem::invalid(
                "pad_type",
                format!("unknown pad_type \"{pad_type}\" (valid, same, same_lower or custom)"),
            ));
        }
        if pad_type == "same_lower" && cx.opset == Opset::Ios15 && cx.op.kind != "conv_transpose" {
            return Err(Problem::invalid(
                "pad_type",
                "pad_type \"same_lower\" needs ios16 or later",
            ));
        }
        let window = Window {
            strides: cx.ints_or("strides", || vec![1; n])?,
            dilations: cx.ints_or("dilations", || vec![1; n])?,
            pad: cx.ints_or("pad", || vec![0; 2 * n])?,
            ceil_mode: cx.bool_or("ceil_mode", false)?,
            pad_type,
        };
        for (key, values, len) in [
            ("strides", &window.strides, n),
            ("dilations", &window.dilations, n),
            ("pad", &window.pad, 2 * n),
        ] {
            if values.len() != len {
                return Err(Problem::invalid(
                    key,
                    format!(
                        "{key} needs {} for {}, not {}",
                        count(len, "value"),
                        count(n, "spatial dimension"),
                        values.len()
                    ),
                ));
            }
            let least = if key == "pad" { 0 } else { 1 };
            if let Some(bad) = values.iter().find(|&&v| v < least) {
                return Err(Problem::invalid(
                    key,
                    format!("{key} must be at least {least}, not {bad}"),
                ));
            }
        }
        Ok(window)
    }

    /// The output size of spatial dim `r` of size `input` under a kernel of size `kernel`.
    fn out(&self, r: usize, input: Dim, kernel: i64) -> Result<Dim, Problem> {
        let Some(i) = known(input) else {
            return Ok(Dim::Unknown);
        };
        let (s, size) = (self.strides[r], Size::from(i));
        let overflow = || {
            Problem::invalid(
                "x",
                format!("spatial dimension {r} of size {i}: the window arithmetic overflows"),
            )
        };
        let k = ((Size::from(kernel) - 1) * self.dilations[r] + 1)
            .get()
            .ok_or_else(overflow)?;
        let pad = match self.pad_type.as_str() {
            "same" | "same_lower" => (s * (size + s - 1).div_euclid(s) - i + k - s).max(0),
            "custom" => Size::from(self.pad[2 * r]) + self.pad[2 * r + 1],
            _ => Size::from(0),
        };
        let pad = pad.get().ok_or_else(overflow)?;
        let reach = if self.ceil_mode {
            size + pad - k + s - 1
        } else {
            size + pad - k
        };
        let mut out = (reach.div_euclid(s) + 1).get().ok_or_else(overflow)?;
        if self.ceil_mode && pad > 0 && ((out - 1) as f64 * s as f64) >= i as f64 + pad as f64 / 2.0 {
            out -= 1;
        }
        if out <= 0 {
            return Err(Problem::incompatible(
                "x",
                format!(
                    "spatial dimension {r} of size {i} is too small for a kernel of {k}: the output would have size {out}"
                ),
            ));
        }
        Ok(dim(out))
    }
}

/// The dtype and shape of `x` and the shape of `weight` of a convolution, which must have the same
/// rank, 3 or more.
fn conv_operands<'a>(cx: &Ctx<'_, 'a>) -> Result<(DType, &'a [Dim], &'a [Dim]), Problem> {
    let (dtype, x) = cx.tensor("x")?;
    let w = cx.shape("weight")?;
    if x.len() < 3 || w.len() != x.len() {
        return Err(Problem::incompatible(
            "weight",
            format!(
                "x {} and weight {} must both have rank 3 or more, and the same rank",
                show(x),
                show(w)
            ),
        ));
    }
    Ok((dtype, x, w))
}

/// `conv` (and `conv_quantized`): `[N, C_out, spatial...]`.
pub(crate) fn conv(cx: &Ctx) -> Inferred {
    let (dtype, x, w) = conv_operands(cx)?;
    let n = x.len() - 2;
    let groups = cx.int_or("groups", 1)?;
    if groups < 1 {
        return Err(Problem::invalid(
            "groups",
            format!("groups must be at least 1, not {groups}"),
        ));
    }
    if let Some(c_in) = known(x[1]) {
        if c_in % groups != 0 {
            return Err(Problem::invalid(
                "groups",
                format!("{c_in} input channels do not divide into {groups} groups"),
            ));
        }
        if !may_equal(w[1], dim(c_in / groups)) {
            return Err(Problem::incompatible(
                "weight",
                format!(
                    "weight {} needs {} channels per group in dimension 1 ({c_in} input channels / {groups} groups)",
                    show(w),
                    c_in / groups
                ),
            ));
        }
    }
    if cx.has("bias") {
        let b = cx.shape("bias")?;
        if b.len() != 1 || !may_equal(b[0], w[0]) {
            return Err(Problem::incompatible(
                "bias",
                format!(
                    "bias {} must have one value per output channel ({})",
                    show(b),
                    w[0]
                ),
            ));
        }
    }
    let window = Window::read(cx, n, "valid")?;
    let mut out = vec![x[0], w[0]];
    for r in 0..n {
        let k = known(w[2 + r]).ok_or(Problem::Unknown)?;
        out.push(window.out(r, x[2 + r], k)?);
    }
    Ok(vec![tensor(dtype, out)])
}

/// `conv_transpose`: `output_shape` when given, else the transposed window sizes.
pub(crate) fn conv_transpose(cx: &Ctx) -> Inferred {
    let (dtype, x, w) = conv_operands(cx)?;
    let n = x.len() - 2;
    let groups = cx.int_or("groups", 1)?;
    let c_out = super::shape::map(w[1], |c| c * groups);
    if cx.has("output_shape") {
        let shape = cx.ints("output_shape")?;
        return Ok(vec![tensor(dtype, shape.into_iter().map(dim).collect())]);
    }
    let window = Window::read(cx, n, "valid")?;
    let mut out = vec![x[0], c_out];
    for r in 0..n {
        let k = (Size::from(known(w[2 + r]).ok_or(Problem::Unknown)?) - 1) * window.dilations[r] + 1;
        let s = window.strides[r];
        out.push(super::shape::map(x[2 + r], |d| match window.pad_type.as_str() {
            "same" | "same_lower" => d * s,
            "custom" => s * (d - 1) + k - window.pad[2 * r] - window.pad[2 * r + 1],
            _ => s * (d - 1) + k,
        }));
    }
    Ok(vec![tensor(dtype, out)])
}

/// `avg_pool`, `max_pool`, `l2_pool`: `[N, C, spatial...]`.
pub(crate) fn pool(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    if x.len() < 3 {
        return Err(Problem::incompatible(
            "x",
            format!("pooling needs x of rank 3 or more, not {}", x.len()),
        ));
    }
    let n = x.len() - 2;
    let kernel = cx.ints("kernel_sizes")?;
    if kernel.len() != n {
        return Err(Problem::invalid(
            "kernel_sizes",
            format!(
                "kernel_sizes needs {} for {}, not {}",
                count(n, "value"),
                count(n, "spatial dimension"),
                kernel.len()
            ),
        ));
    }
    let window = Window::read(cx, n, "valid")?;
    if window.ceil_mode && window.pad_type == "same" {
        return Err(Problem::invalid(
            "ceil_mode",
            "ceil_mode must be false when pad_type is \"same\"",
        ));
    }
    let mut out = x[..2].to_vec();
    for (r, &k) in kernel.iter().enumerate() {
        out.push(window.out(r, x[2 + r], k)?);
    }
    Ok(vec![tensor(dtype, out)])
}
