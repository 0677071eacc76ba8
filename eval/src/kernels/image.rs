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
    ("resample", resample_op),
    ("affine", affine),
    ("crop_resize", crop_resize),
    ("resize", resize_dims),
    ("space_to_batch", space_batch),
    ("batch_to_space", space_batch),
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

/// Nearest taps: `floor(o * len / out)`, clamped (Core ML scales by the sizes, not by a
/// fractional `scale_factor`).
fn nearest_taps(out: usize, len: usize) -> Taps {
    (0..out)
        .map(|o| {
            (
                (((o * len) as f32 / out as f32).floor() as usize).min(len - 1),
                0,
                0.0,
            )
        })
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
    let (oh, ow) = if kind.starts_with("upsample") {
        let (sy, sx) = (cx.float("scale_factor_height")?, cx.float("scale_factor_width")?);
        ((h as f32 * sy).floor() as usize, (w as f32 * sx).floor() as usize)
    } else {
        (
            cx.int("target_size_height")? as usize,
            cx.int("target_size_width")? as usize,
        )
    };
    let mode = match kind {
        "upsample_nearest_neighbor" | "resize_nearest_neighbor" => None,
        "upsample_bilinear" => {
            let align = cx.bool("align_corners")?;
            // iOS16's half_pixel_centers defaults to the opposite of align_corners.
            let half = cx.opt_float("half_pixel_centers")?.map_or(!align, |v| v != 0.0);
            Some(
                match (align, half) {
                    (true, _) => "ALIGN_CORNERS",
                    (false, true) => "UNALIGN_CORNERS",
                    (false, false) => "DEFAULT",
                }
                .to_string(),
            )
        }
        _ => Some(cx.string("sampling_mode")?),
    };
    Ok(vec![resize_to(
        &x,
        oh,
        ow,
        mode.as_deref(),
        cx.out_dtype(0, x.dtype),
    )?])
}

/// `x` resized on its last two axes to `oh × ow`: nearest when `mode` is `None` (or
/// `NEAREST_CENTER`, the pixel under each output pixel's centre), else bilinear under that sampling
/// mode. Coordinates scale by the ratio of the sizes (which a fractional
/// scale factor only rounds to).
fn resize_to(x: &Tensor, oh: usize, ow: usize, mode: Option<&str>, dtype: mil_ir::DType) -> Result<Tensor> {
    let r = x.rank();
    let (h, w) = (x.shape[r - 2], x.shape[r - 1]);
    let Some(mode) = mode else {
        return resample(x, &nearest_taps(oh, h), &nearest_taps(ow, w), dtype);
    };
    let taps = |out: usize, len: usize| -> Result<Taps> {
        let scale = out as f32 / len as f32;
        let ratio = if out > 1 {
            (len - 1) as f32 / (out - 1) as f32
        } else {
            0.0
        };
        Ok(match mode {
            "NEAREST_CENTER" => (0..out)
                .map(|o| ((((o as f32 + 0.5) / scale).floor() as usize).min(len - 1), 0, 0.0))
                .collect(),
            "ALIGN_CORNERS" | "STRICT_ALIGN_CORNERS" => linear_taps(out, len, |o| o * ratio),
            "DEFAULT" => linear_taps(out, len, |o| o / scale),
            "UNALIGN_CORNERS" | "OFFSET_CORNERS" => linear_taps(out, len, |o| (o + 0.5) / scale - 0.5),
            m => bail!("unknown sampling_mode `{m}`"),
        })
    };
    resample(x, &taps(oh, h)?, &taps(ow, w)?, dtype)
}

/// iOS17 `resize`: the last `resized_dims` (1 or 2) axes to the sizes at the end of `shape`
/// (0 keeps the input's size).
fn resize_dims(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let shape = cx.ints("shape")?;
    let k = cx.int("resized_dims")? as usize;
    let r = x.rank();
    if k == 0 || k > 2 || k > shape.len() || k > r {
        bail!("`resized_dims` must be 1 or 2 and fit `shape` and `x`");
    }
    let size = |i: usize| {
        let s = shape[shape.len() - k + i];
        if s == 0 { x.shape[r - k + i] } else { s as usize }
    };
    let mode = match cx.string("interpolation_mode")?.as_str() {
        // iOS17 `resize` picks the pixel under each output pixel's centre (coremltools' test
        // resizes [a, b] to [a, b, b]), unlike the older nearest ops.
        "NEAREST_NEIGHBOR" => "NEAREST_CENTER".to_string(),
        _ => cx.string("sampling_mode")?,
    };
    let dtype = cx.out_dtype(0, x.dtype);
    if k == 2 {
        return Ok(vec![resize_to(&x, size(0), size(1), Some(&mode), dtype)?]);
    }
    let mut as_2d = x.shape.clone();
    as_2d.insert(r - 1, 1);
    let t = resize_to(&(*x).clone().reshaped(as_2d), 1, size(0), Some(&mode), dtype)?;
    let mut out = x.shape.clone();
    out[r - 1] = size(0);
    Ok(vec![t.reshaped(out)])
}

/// `space_to_batch` and `batch_to_space` (TensorFlow's order: the block offset is the outer part
/// of the new batch index).
fn space_batch(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let bs = cx.ints("block_shape")?;
    if x.rank() != 4 || bs.len() != 2 || bs.iter().any(|&b| b <= 0) {
        bail!("`x` must be [N, C, H, W] and `block_shape` two positive sizes");
    }
    let (b0, b1) = (bs[0] as usize, bs[1] as usize);
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let st = crate::tensor::strides(&x.shape);
    let zero = Tensor::scalar_f32(mil_ir::DType::Fp32, 0.0);
    if cx.op.kind == "space_to_batch" {
        let p = cx.ints("paddings")?;
        let (top, left) = (p[0] as usize, p[2] as usize);
        let (ph, pw) = (h + top + p[1] as usize, w + left + p[3] as usize);
        if ph % b0 != 0 || pw % b1 != 0 {
            bail!("the padded size {ph}×{pw} does not divide into blocks {b0}×{b1}");
        }
        let shape = vec![n * b0 * b1, c, ph / b0, pw / b1];
        return Ok(vec![map_index(&x, shape, Some(&zero), |k| {
            let (block, ni) = (k[0] / n, k[0] % n);
            let (i0, i1) = (block / b1, block % b1);
            let (y, xx) = (
                (k[2] * b0 + i0).checked_sub(top)?,
                (k[3] * b1 + i1).checked_sub(left)?,
            );
            (y < h && xx < w).then(|| ni * st[0] + k[1] * st[1] + y * st[2] + xx * st[3])
        })?]);
    }
    let crops = cx.ints("crops")?;
    let (top, left) = (crops[0] as usize, crops[2] as usize);
    let on = n / (b0 * b1);
    let shape = vec![
        on,
        c,
        h * b0 - top - crops[1] as usize,
        w * b1 - left - crops[3] as usize,
    ];
    Ok(vec![map_index(&x, shape, None, |k| {
        let (y, xx) = (k[2] + top, k[3] + left);
        let block = (y % b0) * b1 + xx % b1;
        Some((block * on + k[0]) * st[0] + k[1] * st[1] + (y / b0) * st[2] + (xx / b1) * st[3])
    })?])
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
            let off = if a == r - 2 {
                ch[0] as usize
            } else if a == r - 1 {
                cw[0] as usize
            } else {
                0
            };
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
        "depth_to_space" => (
            vec![n, b, b, c / (b * b), h, w],
            [0, 3, 4, 1, 5, 2],
            vec![n, c / (b * b), h * b, w * b],
        ),
        "pixel_shuffle" => (
            vec![n, c / (b * b), b, b, h, w],
            [0, 1, 4, 2, 5, 3],
            vec![n, c / (b * b), h * b, w * b],
        ),
        "space_to_depth" => (
            vec![n, c, h / b, b, w / b, b],
            [0, 3, 5, 1, 2, 4],
            vec![n, c * b * b, h / b, w / b],
        ),
        _ => (
            vec![n, c, h / b, b, w / b, b],
            [0, 1, 3, 5, 2, 4],
            vec![n, c * b * b, h / b, w / b],
        ),
    };
    if numel(&split) != x.len() {
        bail!("shape {:?} does not divide into blocks of {b}", x.shape);
    }
    let t = permute(&(*x).clone().reshaped(split), &perm)?;
    Ok(vec![t.reshaped(out)])
}

/// A `resample` coordinate (`(x, y)` in `coordinates_mode`) in pixels of an axis of `len`.
fn to_pixels(c: f32, len: usize, mode: &str, align: bool) -> f32 {
    let l = len as f32;
    match (mode, align) {
        ("normalized_minus_one_to_one", true) => (c + 1.0) / 2.0 * (l - 1.0),
        ("normalized_minus_one_to_one", false) => ((c + 1.0) * l - 1.0) / 2.0,
        ("normalized_zero_to_one", true) => c * (l - 1.0),
        ("normalized_zero_to_one", false) => c * l - 0.5,
        _ => c,
    }
}

/// `p` reflected into `[lo, hi]` (PyTorch's `reflect_coordinates`).
fn reflect(p: f32, lo: f32, hi: f32) -> f32 {
    let span = hi - lo;
    if span <= 0.0 {
        return lo;
    }
    let d = (p - lo).abs();
    let flips = (d / span).floor();
    let extra = d - flips * span;
    if flips as i64 % 2 == 0 {
        lo + extra
    } else {
        hi - extra
    }
}

/// `resample`: samples each image at the given coordinates.
fn resample_op(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, coords) = (cx.x()?, cx.get("coordinates")?);
    if x.rank() != 4 || coords.rank() != 4 || coords.shape[3] != 2 || coords.shape[0] != x.shape[0] {
        bail!("`x` must be [B, C, H, W] and `coordinates` [B, H2, W2, 2]");
    }
    let (oh, ow) = (coords.shape[1], coords.shape[2]);
    Ok(vec![grid_sample(cx, &x, oh, ow, &coords.to_f32()?)?])
}

/// `affine`: each output pixel's coordinate (in `coordinates_mode`, over the output's size) is
/// mapped by its image's 2×3 `transform_matrix` to where it samples the input, as `resample` does.
fn affine(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, m) = (cx.x()?, cx.get("transform_matrix")?);
    if x.rank() != 4 || m.rank() != 2 || m.shape[1] != 6 || (m.shape[0] != 1 && m.shape[0] != x.shape[0]) {
        bail!("`x` must be [B, C, H, W] and `transform_matrix` [B or 1, 6]");
    }
    let (oh, ow) = (
        cx.int("output_height")? as usize,
        cx.int("output_width")? as usize,
    );
    let (cmode, align) = (cx.string("coordinates_mode")?, cx.bool("align_corners")?);
    // The output pixel `i` of an axis of `n` in the coordinates of `cmode`: the inverse of `to_pixels`.
    let coordinate = |i: usize, n: usize| -> f32 {
        let (i, l) = (i as f32, n as f32);
        let span = if align { (l - 1.0).max(1.0) } else { l };
        let at = if align { i } else { i + 0.5 };
        match cmode.as_str() {
            "normalized_minus_one_to_one" => 2.0 * at / span - 1.0,
            "normalized_zero_to_one" => at / span,
            _ => i,
        }
    };
    let mv = m.to_f32()?;
    let mut coords = Vec::with_capacity(x.shape[0] * oh * ow * 2);
    for b in 0..x.shape[0] {
        let t = &mv[if m.shape[0] == 1 { 0 } else { b * 6 }..][..6];
        for i in 0..oh {
            for j in 0..ow {
                let (u, v) = (coordinate(j, ow), coordinate(i, oh));
                coords.push(t[0] * u + t[1] * v + t[2]);
                coords.push(t[3] * u + t[4] * v + t[5]);
            }
        }
    }
    Ok(vec![grid_sample(cx, &x, oh, ow, &coords)?])
}

/// Samples every image of `x` at `coords` (`[B, oh, ow, (x, y)]` in `coordinates_mode`) under the
/// op's sampling and padding modes (PyTorch's `grid_sample`; reflection mirrors about the edge
/// pixels' centres, symmetric about their outer edges).
fn grid_sample(cx: &Cx, x: &Tensor, oh: usize, ow: usize, cv: &[f32]) -> Result<Tensor> {
    let (sampling, padding) = (cx.string("sampling_mode")?, cx.string("padding_mode")?);
    let (cmode, align) = (cx.string("coordinates_mode")?, cx.bool("align_corners")?);
    let fill = cx.float("padding_value")?;
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let xv = x.to_f32()?;
    let place = |p: f32, len: usize| -> f32 {
        let max = (len - 1) as f32;
        match padding.as_str() {
            "border" => p.clamp(0.0, max),
            "reflection" => reflect(p, 0.0, max).clamp(0.0, max),
            "symmetric" => reflect(p, -0.5, max + 0.5).clamp(0.0, max),
            _ => p,
        }
    };
    let mut out = Vec::with_capacity(b * c * oh * ow);
    for bi in 0..b {
        for ci in 0..c {
            let plane = &xv[(bi * c + ci) * h * w..][..h * w];
            let at = |i: i64, j: i64| {
                if i < 0 || j < 0 || i >= h as i64 || j >= w as i64 {
                    fill
                } else {
                    plane[i as usize * w + j as usize]
                }
            };
            for k in 0..oh * ow {
                let pair = &cv[(bi * oh * ow + k) * 2..][..2];
                let px = place(to_pixels(pair[0], w, &cmode, align), w);
                let py = place(to_pixels(pair[1], h, &cmode, align), h);
                out.push(if sampling == "nearest" {
                    at(py.round_ties_even() as i64, px.round_ties_even() as i64)
                } else {
                    let (x0, y0) = (px.floor(), py.floor());
                    let (fx, fy) = (px - x0, py - y0);
                    let (x0, y0) = (x0 as i64, y0 as i64);
                    let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
                    let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
                    top * (1.0 - fy) + bottom * fy
                });
            }
        }
    }
    Ok(Tensor::from_f32(
        cx.out_dtype(0, x.dtype),
        vec![b, c, oh, ow],
        out,
    ))
}

/// One box of `crop_resize`: the image it crops and its corners `(h0, w0, h1, w1)` in pixels.
struct CropBox {
    image: usize,
    corners: [f32; 4],
}

/// `crop_resize`: each box cut out of its image and resampled bilinearly to the target size
/// (iOS15/16: `roi` boxes, four columns applied to every image or five led by the image index;
/// iOS17: `boxes` with `box_indices`). Samples outside the image take `pad_value`.
fn crop_resize(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    if x.rank() != 4 {
        bail!("`x` must be [B, C, H, W]");
    }
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (th, tw) = (
        cx.int("target_height")? as usize,
        cx.int("target_width")? as usize,
    );
    let normalized = cx.bool("normalized_coordinates")?;
    let scale = cx.float_or("spatial_scale", 1.0)?;
    let mode = cx.string("box_coordinate_mode")?;
    let sampling = cx.string("sampling_mode")?;
    let fill = cx.float_or("pad_value", 0.0)?;
    let corners = |v: &[f32]| -> Result<[f32; 4]> {
        let [a, bb, cc, d] = [v[0], v[1], v[2], v[3]];
        let [h0, w0, h1, w1] = match mode.as_str() {
            "CORNERS_HEIGHT_FIRST" => [a, bb, cc, d],
            "CORNERS_WIDTH_FIRST" => [bb, a, d, cc],
            "CENTER_SIZE_HEIGHT_FIRST" => [a - cc / 2.0, bb - d / 2.0, a + cc / 2.0, bb + d / 2.0],
            "CENTER_SIZE_WIDTH_FIRST" => [bb - d / 2.0, a - cc / 2.0, bb + d / 2.0, a + cc / 2.0],
            m => bail!("unknown box_coordinate_mode `{m}`"),
        };
        let (sy, sx) = if normalized {
            ((h - 1) as f32, (w - 1) as f32)
        } else {
            (scale, scale)
        };
        Ok([h0 * sy, w0 * sx, h1 * sy, w1 * sx])
    };
    let mut boxes = Vec::new();
    let lead;
    if let Some(roi) = cx.opt("roi")? {
        let v = roi.to_f32()?;
        let cols = roi.shape.get(2).copied().unwrap_or(4);
        let n = roi.shape[0];
        for k in 0..n {
            let row = &v[k * cols..][..cols];
            if cols == 5 {
                boxes.push(CropBox {
                    image: row[0] as usize,
                    corners: corners(&row[1..])?,
                });
            } else {
                for image in 0..b {
                    boxes.push(CropBox {
                        image,
                        corners: corners(row)?,
                    });
                }
            }
        }
        lead = vec![n, if cols == 5 { 1 } else { b }];
    } else {
        let bx = cx.get("boxes")?;
        let v = bx.to_f32()?;
        let n = bx.shape[0];
        let idx = cx
            .opt_ints("box_indices")?
            .unwrap_or_else(|| (0..n as i64).collect());
        for k in 0..n {
            boxes.push(CropBox {
                image: idx[k] as usize,
                corners: corners(&v[k * 4..][..4])?,
            });
        }
        lead = vec![n];
    }
    let xv = x.to_f32()?;
    let place = |start: f32, end: f32, i: usize, n: usize| -> f32 {
        match sampling.as_str() {
            "ALIGN_CORNERS" | "STRICT_ALIGN_CORNERS" if n == 1 => (start + end) / 2.0,
            "ALIGN_CORNERS" | "STRICT_ALIGN_CORNERS" => start + i as f32 * (end - start) / (n - 1) as f32,
            "DEFAULT" => start + i as f32 * (end - start) / n as f32,
            _ => start + (i as f32 + 0.5) * (end - start) / n as f32 - 0.5,
        }
    };
    let mut out = Vec::with_capacity(boxes.len() * c * th * tw);
    for bx in &boxes {
        if bx.image >= b {
            bail!("box index {} is out of range for {b} images", bx.image);
        }
        let [h0, w0, h1, w1] = bx.corners;
        for ci in 0..c {
            let plane = &xv[(bx.image * c + ci) * h * w..][..h * w];
            for i in 0..th {
                let py = place(h0, h1, i, th);
                for j in 0..tw {
                    let px = place(w0, w1, j, tw);
                    let inside = (0.0..=(h - 1) as f32).contains(&py) && (0.0..=(w - 1) as f32).contains(&px);
                    out.push(if !inside {
                        fill
                    } else {
                        let (y0, x0) = (py.floor() as usize, px.floor() as usize);
                        let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
                        let (fy, fx) = (py - y0 as f32, px - x0 as f32);
                        let top = plane[y0 * w + x0] * (1.0 - fx) + plane[y0 * w + x1] * fx;
                        let bottom = plane[y1 * w + x0] * (1.0 - fx) + plane[y1 * w + x1] * fx;
                        top * (1.0 - fy) + bottom * fy
                    });
                }
            }
        }
    }
    let mut shape = lead;
    shape.extend([c, th, tw]);
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, x.dtype), shape, out)])
}
