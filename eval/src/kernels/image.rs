//! Image ops on `[..., H, W]` (or `[N, C, H, W]`): nearest and bilinear resizing, `crop`, and the
//! block rearrangements (`depth_to_space` as TensorFlow's DCR order, `pixel_shuffle` as PyTorch's).

use super::Kernel;
use super::shape::{map_index, permute};
use crate::bail;
use crate::cx::Cx;
use crate::error::Result;
use crate::tensor::{Tensor, numel};

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("upsample_nearest_neighbor", resize),
    ("resize_nearest_neighbor", resize),
    ("upsample_bilinear", resize),
    ("resize_bilinear", resize),
    ("crop", crop),
    ("depth_to_space", blocks),
    ("space_to_depth", blocks),
    ("pixel_shuffle", blocks),
    ("pixel_unshuffle", blocks),
];

/// Where output row `o` of `out` reads in an axis of `len`: the two neighbours and the weight of
/// the second.
type Taps = Vec<(usize, usize, f32)>;

/// Linear-interpolation taps for source coordinates `src(o)`, clamped to the axis.
fn linear_taps(out: usize, len: usize, src: impl Fn(f32) -> f32) -> Taps {
    (0..out)
        .map(|o| {
            let s = src(o as f32).clamp(0.0, (len - 1) as f32);
            let i0 = s.floor() as usize;
            let i1 = (i0 + 1).min(len - 1);
            (i0, i1, s - i0 as f32)
        })
        .collect()
}

/// Nearest taps: `floor(o / scale)`, clamped.
fn nearest_taps(out: usize, len: usize, scale: f32) -> Taps {
    (0..out)
        .map(|o| (((o as f32 / scale).floor() as usize).min(len - 1), 0, 0.0))
        .collect()
}

/// `x` resampled on its last two axes through row and column taps.
fn resample(x: &Tensor, ty: &Taps, tx: &Taps, dtype: mil_ir::DType) -> Result<Tensor> {
    let r = x.rank();
    let (h, w) = (x.shape[r - 2], x.shape[r - 1]);
    let v = x.to_f32()?;
    let (oh, ow) = (ty.len(), tx.len());
    let planes = numel(&x.shape[..r - 2]);
    let mut out = Vec::with_capacity(planes * oh * ow);
    for p in 0..planes {
        let at = |i: usize, j: usize| v[p * h * w + i * w + j];
        for &(y0, y1, fy) in ty {
            for &(x0, x1, fx) in tx {
                let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
                let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
                out.push(top * (1.0 - fy) + bottom * fy);
            }
        }
    }
    let mut shape = x.shape[..r - 2].to_vec();
    shape.extend([oh, ow]);
    Ok(Tensor::from_f32(dtype, shape, out))
}

fn resize(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let r = x.rank();
    if r < 2 {
        bail!("`x` must have rank >= 2");
    }
    let (h, w) = (x.shape[r - 2], x.shape[r - 1]);
    let kind = cx.op.kind.as_str();
    let (oh, ow, sy, sx) = if kind.starts_with("upsample") {
        let (sy, sx) = (cx.float("scale_factor_height")?, cx.float("scale_factor_width")?);
        ((h as f32 * sy).floor() as usize, (w as f32 * sx).floor() as usize, sy, sx)
    } else {
        let (oh, ow) = (cx.int("target_size_height")? as usize, cx.int("target_size_width")? as usize);
        (oh, ow, oh as f32 / h as f32, ow as f32 / w as f32)
    };
    let dtype = cx.out_dtype(0, x.dtype);
    let (ty, tx) = match kind {
        "upsample_nearest_neighbor" | "resize_nearest_neighbor" => (nearest_taps(oh, h, sy), nearest_taps(ow, w, sx)),
        _ => {
            let mode = if kind == "upsample_bilinear" {
                let align = cx.bool("align_corners")?;
                // iOS16's half_pixel_centers defaults to the opposite of align_corners.
                let half = cx.opt("half_pixel_centers")?.map(|t| t.scalar()).transpose()?.map_or(!align, |v| v != 0.0);
                match (align, half) {
                    (true, _) => "ALIGN_CORNERS",
                    (false, true) => "UNALIGN_CORNERS",
                    (false, false) => "DEFAULT",
                }
                .to_string()
            } else {
                cx.string("sampling_mode")?
            };
            let taps = |out: usize, len: usize, scale: f32| -> Result<Taps> {
                let ratio = |o: usize, l: usize| if o > 1 { (l - 1) as f32 / (o - 1) as f32 } else { 0.0 };
                Ok(match mode.as_str() {
                    "ALIGN_CORNERS" | "STRICT_ALIGN_CORNERS" => {
                        let k = ratio(out, len);
                        linear_taps(out, len, |o| o * k)
                    }
                    "DEFAULT" => linear_taps(out, len, |o| o / scale),
                    "UNALIGN_CORNERS" | "OFFSET_CORNERS" => linear_taps(out, len, |o| (o + 0.5) / scale - 0.5),
                    m => bail!("unknown sampling_mode `{m}`"),
                })
            };
            (taps(oh, h, sy)?, taps(ow, w, sx)?)
        }
    };
    Ok(vec![resample(&x, &ty, &tx, dtype)?])
}

fn crop(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let r = x.rank();
    let (ch, cw) = (cx.ints("crop_height")?, cx.ints("crop_width")?);
    let (h, w) = (x.shape[r - 2] as i64, x.shape[r - 1] as i64);
    let (oh, ow) = (h - ch[0] - ch[1], w - cw[0] - cw[1]);
    if oh < 0 || ow < 0 {
        bail!("the crop removes more than the image");
    }
    let mut shape = x.shape.clone();
    shape[r - 2] = oh as usize;
    shape[r - 1] = ow as usize;
    let st = crate::tensor::strides(&x.shape);
    Ok(vec![map_index(&x, shape, None, |c| {
        let mut at = 0;
        for (a, &i) in c.iter().enumerate() {
            let off = if a == r - 2 { ch[0] as usize } else if a == r - 1 { cw[0] as usize } else { 0 };
            at += (i + off) * st[a];
        }
        Some(at)
    })?])
}

/// `depth_to_space`, `space_to_depth`, `pixel_shuffle` and `pixel_unshuffle` as a reshape, a
/// transpose and a reshape.
fn blocks(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let key = match cx.op.kind.as_str() {
        "pixel_shuffle" => "upscale_factor",
        "pixel_unshuffle" => "downscale_factor",
        _ => "block_size",
    };
    let b = cx.int(key)? as usize;
    if x.rank() != 4 || b == 0 {
        bail!("`x` must be [N, C, H, W] and `{key}` positive");
    }
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (split, perm, out) = match cx.op.kind.as_str() {
        "depth_to_space" => (vec![n, b, b, c / (b * b), h, w], [0, 3, 4, 1, 5, 2], vec![n, c / (b * b), h * b, w * b]),
        "pixel_shuffle" => (vec![n, c / (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3], vec![n, c / (b * b), h * b, w * b]),
        "space_to_depth" => (vec![n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4], vec![n, c * b * b, h / b, w / b]),
        _ => (vec![n, c, h / b, b, w / b, b], [0, 1, 3, 5, 2, 4], vec![n, c * b * b, h / b, w / b]),
    };
    if numel(&split) != x.len() {
        bail!("shape {:?} does not divide into blocks of {b}", x.shape);
    }
    let t = permute(&(*x).clone().reshaped(split), &perm)?;
    Ok(vec![t.reshaped(out)])
}
