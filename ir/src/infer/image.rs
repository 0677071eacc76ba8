//! Image ops on the last two dims: upsampling, resizing, cropping, affine warps and resampling.

use super::context::Ctx;
use super::shape::{Size, dim, known, map, show};
use super::{Inferred, Problem, tensor};
use crate::catalogue::Opset;
use crate::types::{DType, Dim};

/// The dtype and shape of x, which must have rank `min` or more.
fn image(cx: &Ctx, min: usize) -> Result<(DType, Vec<Dim>), Problem> {
    let (dtype, x) = cx.tensor("x")?;
    if x.len() < min {
        return Err(Problem::incompatible(
            "x",
            format!("{} needs x of rank {min} or more, not {}", cx.op.kind, x.len()),
        ));
    }
    Ok((dtype, x.to_vec()))
}

/// `upsample_nearest_neighbor`, `upsample_bilinear`: height and width times their scale
/// factors, rounded down.
pub(crate) fn upsample(cx: &Ctx) -> Inferred {
    let (dtype, mut x) = image(cx, 3)?;
    let n = x.len();
    for (i, key) in [(n - 2, "scale_factor_height"), (n - 1, "scale_factor_width")] {
        let f = cx.float_or(key, 1.0)?;
        if f <= 0.0 {
            return Err(Problem::invalid(key, format!("{key} must be positive, not {f}")));
        }
        x[i] = map(x[i], |d| d.scaled_down(f));
    }
    Ok(vec![tensor(dtype, x)])
}

/// `resize_nearest_neighbor`, `resize_bilinear`: height and width set to the targets.
pub(crate) fn resize_to(cx: &Ctx) -> Inferred {
    let (dtype, mut x) = image(cx, 3)?;
    if cx.op.kind == "resize_bilinear" {
        let mode = cx.string_or("sampling_mode", "DEFAULT")?;
        let modes = [
            "STRICT_ALIGN_CORNERS",
            "ALIGN_CORNERS",
            "UNALIGN_CORNERS",
            "DEFAULT",
            "OFFSET_CORNERS",
        ];
        if !modes.contains(&mode.as_str()) {
            return Err(Problem::invalid(
                "sampling_mode",
                format!("unknown sampling_mode \"{mode}\" ({})", modes.join(", ")),
            ));
        }
    }
    let n = x.len();
    x[n - 2] = dim(cx.int_or("target_size_height", 1)?);
    x[n - 1] = dim(cx.int_or("target_size_width", 1)?);
    Ok(vec![tensor(dtype, x)])
}

/// `resize` (iOS17): the last `resized_dims` dims set from the end of `shape`; a 0 keeps x's size.
pub(crate) fn resize(cx: &Ctx) -> Inferred {
    let (dtype, mut x) = image(cx, 1)?;
    let k = cx.int("resized_dims")?;
    let len = match cx.shape("shape")? {
        [Dim::Known(n)] => *n as usize,
        _ => return Err(Problem::Unknown),
    };
    if k < 0 || k as usize > len || k as usize > x.len() {
        return Err(Problem::invalid(
            "resized_dims",
            format!(
                "resized_dims {k} must be at most the length of shape ({len}) and the rank of x ({})",
                x.len()
            ),
        ));
    }
    let k = k as usize;
    let target = cx.sym_ints("shape").ok();
    let rank = x.len();
    for i in 0..k {
        let value = target.as_ref().and_then(|t| t[len - k + i]);
        x[rank - k + i] = match value {
            Some(0) => x[rank - k + i],
            Some(v) => dim(v),
            None => Dim::Unknown,
        };
    }
    Ok(vec![tensor(dtype, x)])
}

/// `crop`: height and width less their before and after crops.
pub(crate) fn crop(cx: &Ctx) -> Inferred {
    let (dtype, mut x) = image(cx, 3)?;
    let n = x.len();
    for (i, key) in [(n - 2, "crop_height"), (n - 1, "crop_width")] {
        let c = cx.ints(key)?;
        let [a, b] = c[..] else {
            return Err(Problem::invalid(
                key,
                format!("{key} needs 2 values, not {}", c.len()),
            ));
        };
        if let Some(d) = known(x[i])
            && (Size::from(d) - a - b).get().is_none_or(|left| left <= 0)
        {
            return Err(Problem::invalid(
                key,
                format!("cropping {a} and {b} leaves nothing of a dimension of {d}"),
            ));
        }
        x[i] = map(x[i], |d| d - a - b);
    }
    Ok(vec![tensor(dtype, x)])
}

/// `crop_resize`: `[N, B, C, h, w]` from `roi` before iOS17, `[N, C, h, w]` from `boxes` after.
pub(crate) fn crop_resize(cx: &Ctx) -> Inferred {
    let (dtype, x) = image(cx, 4)?;
    let (h, w) = (
        dim(cx.int_or("target_height", 1)?),
        dim(cx.int_or("target_width", 1)?),
    );
    if cx.opset >= Opset::Ios17 {
        let boxes = cx.shape("boxes")?;
        let n = *boxes.first().ok_or(Problem::Unknown)?;
        return Ok(vec![tensor(dtype, vec![n, x[1], h, w])]);
    }
    let roi = cx.shape("roi")?;
    let n = *roi.first().ok_or(Problem::Unknown)?;
    Ok(vec![tensor(dtype, vec![n, x[0], x[1], h, w])])
}

/// `affine`: `[N, C, output_height, output_width]`.
pub(crate) fn affine(cx: &Ctx) -> Inferred {
    let (dtype, mut x) = image(cx, 4)?;
    if x.len() != 4 {
        return Err(Problem::incompatible(
            "x",
            format!("affine needs x of rank 4, not {}", x.len()),
        ));
    }
    x[2] = dim(cx.int("output_height")?);
    x[3] = dim(cx.int("output_width")?);
    Ok(vec![tensor(dtype, x)])
}

/// `resample`: `[N, C, H_out, W_out]` from the coordinates' `[N, H_out, W_out, 2]`.
pub(crate) fn resample(cx: &Ctx) -> Inferred {
    let (dtype, mut x) = image(cx, 4)?;
    let c = cx.shape("coordinates")?;
    if x.len() != 4 || c.len() != 4 {
        return Err(Problem::incompatible(
            "coordinates",
            format!(
                "resample needs x and coordinates of rank 4, not {} and {}",
                show(&x),
                show(c)
            ),
        ));
    }
    x[2] = c[1];
    x[3] = c[2];
    Ok(vec![tensor(dtype, x)])
}
