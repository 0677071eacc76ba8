//! The `constexpr_*` decompressions (iOS16 and iOS18 forms), `constexpr_cast`, and the runtime
//! `quantize`/`dequantize` (iOS17), following coremltools' `decompress` references
//! (`coremltools.optimize._utils`).

use super::Kernel;
use super::shape::map_index;
use crate::bail;
use crate::cx::{Cx, axis};
use crate::error::{EvalError, Result};
use crate::tensor::{Tensor, numel, strides};
use mil_ir::DType;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("constexpr_affine_dequantize", affine_dequantize),
    ("constexpr_cast", constexpr_cast),
    ("constexpr_lut_to_dense", lut_to_dense),
    ("constexpr_sparse_to_dense", sparse_to_dense),
    ("constexpr_lut_to_sparse", lut_to_sparse),
    ("constexpr_sparse_blockwise_shift_scale", sparse_shift_scale),
    ("constexpr_blockwise_shift_scale", blockwise_shift_scale),
    ("dequantize", dequantize),
    ("quantize", quantize),
];

/// `param` repeated blockwise to `shape`: a rank-0 or one-element param everywhere, a 1-D param
/// along `along` (when given), or a param of the data's rank whose dim `i` splits dim `i` of the
/// data into equal blocks.
fn expand(param: &Tensor, shape: &[usize], along: Option<usize>) -> Result<Vec<f32>> {
    let v = param.to_f32()?;
    let n = numel(shape);
    if v.len() == 1 {
        return Ok(vec![v[0]; n]);
    }
    let pshape: Vec<usize> = match along {
        Some(a) if param.rank() == 1 => (0..shape.len())
            .map(|i| if i == a { v.len() } else { 1 })
            .collect(),
        _ => param.shape.clone(),
    };
    if pshape.len() != shape.len() || pshape.iter().zip(shape).any(|(&p, &d)| p == 0 || d % p != 0) {
        bail!(
            "a parameter of shape {:?} does not tile data of shape {shape:?}",
            param.shape
        );
    }
    let blocks: Vec<usize> = pshape.iter().zip(shape).map(|(p, d)| d / p).collect();
    let ps = strides(&pshape);
    let flat = Tensor::from_f32(DType::Fp32, vec![v.len()], v);
    map_index(&flat, shape.to_vec(), None, |c| {
        Some(c.iter().enumerate().map(|(i, &ci)| ci / blocks[i] * ps[i]).sum())
    })?
    .to_f32()
}

/// `(data - zero_point) * scale`, the parameters broadcast as [`expand`] does.
fn shift_scale(
    data: &Tensor,
    scale: &Tensor,
    offset: Option<&Tensor>,
    along: Option<usize>,
    dtype: DType,
) -> Result<Tensor> {
    let s = expand(scale, &data.shape, along)?;
    let z = match offset {
        Some(o) => expand(o, &data.shape, along)?,
        None => vec![0.0; data.len()],
    };
    let v = data
        .to_f32()?
        .into_iter()
        .zip(s.iter().zip(&z))
        .map(|(d, (s, z))| (d - z) * s)
        .collect();
    Ok(Tensor::from_f32(dtype, data.shape.clone(), v))
}

fn affine_dequantize(cx: &Cx) -> Result<Vec<Tensor>> {
    let data = cx.get("quantized_data")?;
    let (scale, zp) = (cx.get("scale")?, cx.get("zero_point")?);
    let a = axis(cx.int("axis")?, data.rank())?;
    Ok(vec![shift_scale(
        &data,
        &scale,
        Some(&zp),
        Some(a),
        cx.out_dtype(0, scale.dtype),
    )?])
}

fn blockwise_shift_scale(cx: &Cx) -> Result<Vec<Tensor>> {
    let (data, scale) = (cx.get("data")?, cx.get("scale")?);
    let offset = cx.opt("offset")?;
    Ok(vec![shift_scale(
        &data,
        &scale,
        offset.as_deref(),
        None,
        cx.out_dtype(0, scale.dtype),
    )?])
}

fn constexpr_cast(cx: &Cx) -> Result<Vec<Tensor>> {
    let name = cx.string("output_dtype")?;
    let dtype = DType::from_name(&name).ok_or_else(|| EvalError::msg(format!("unknown dtype `{name}`")))?;
    Ok(vec![cx.get("source_val")?.cast(dtype)?])
}

/// `count` unsigned `nbits`-bit values packed lowest bit first into `bytes`.
pub fn unpack_bits(bytes: &[i64], nbits: usize, count: usize) -> Result<Vec<i64>> {
    if bytes.len() * 8 < nbits * count {
        bail!(
            "{} packed bytes hold fewer than {count} {nbits}-bit values",
            bytes.len()
        );
    }
    Ok((0..count)
        .map(|i| {
            (0..nbits).fold(0i64, |acc, b| {
                let bit = i * nbits + b;
                acc | (((bytes[bit / 8] as u8 >> (bit % 8)) & 1) as i64) << b
            })
        })
        .collect())
}

/// The shape input of the iOS16 forms.
fn shape_input(cx: &Cx) -> Result<Option<Vec<usize>>> {
    Ok(cx
        .opt_ints("shape")?
        .map(|s| s.into_iter().map(|d| d as usize).collect()))
}

fn lut_to_dense(cx: &Cx) -> Result<Vec<Tensor>> {
    let (lut, indices) = (cx.get("lut")?, cx.get("indices")?);
    let dtype = cx.out_dtype(0, lut.dtype);
    if let Some(shape) = shape_input(cx)? {
        // iOS16: a 1-D lut of 2^nbits entries and indices packed into bytes.
        let nbits = lut.len().trailing_zeros() as usize;
        let idx = unpack_bits(&indices.to_i64()?, nbits, numel(&shape))?;
        let picks: Vec<usize> = idx.into_iter().map(|i| i as usize).collect();
        return Ok(vec![lut.take(&picks).reshaped(shape).cast(dtype)?]);
    }
    let va = cx.opt_float("vector_axis")?.map(|a| a as i64);
    Ok(vec![lut_dense(&lut, &indices, va)?.cast(dtype)?])
}

/// iOS18's palette lookup: `lut` is `[*blocks, palette, vector]`; each index picks a vector of its
/// block's palette, laid along `vector_axis` (default 0).
fn lut_dense(lut: &Tensor, indices: &Tensor, vector_axis: Option<i64>) -> Result<Tensor> {
    let r = indices.rank();
    if lut.rank() != r + 2 {
        bail!("`lut` must have rank {} (indices' rank + 2)", r + 2);
    }
    let (palette, vsize) = (lut.shape[r], lut.shape[r + 1]);
    let va = axis(vector_axis.unwrap_or(0), r)?;
    let mut shape = indices.shape.clone();
    shape[va] *= vsize;
    let blocks: Vec<usize> = (0..r).map(|i| indices.shape[i] / lut.shape[i].max(1)).collect();
    let (is, ls) = (strides(&indices.shape), strides(&lut.shape));
    let iv = indices.to_i64()?;
    map_index(lut, shape, None, |c| {
        let mut ic = c.to_vec();
        ic[va] /= vsize;
        let which = iv[ic.iter().zip(&is).map(|(c, s)| c * s).sum::<usize>()] as usize;
        let block: usize = ic
            .iter()
            .enumerate()
            .map(|(i, &x)| x / blocks[i].max(1) * ls[i])
            .sum();
        (which < palette).then(|| block + which * ls[r] + c[va] % vsize)
    })
}

/// The dense tensor of `shape` whose elements where `bits` is set are `data`, in order, and zero
/// elsewhere.
fn scatter_by_mask(data: &Tensor, bits: &[i64], shape: Vec<usize>) -> Result<Tensor> {
    let mut next = 0usize;
    let idx: Vec<usize> = bits
        .iter()
        .map(|&b| {
            if b != 0 {
                next += 1;
                next - 1
            } else {
                data.len()
            }
        })
        .collect();
    if next != data.len() {
        bail!("the mask sets {next} bits for {} values", data.len());
    }
    let zero = Tensor::scalar_f32(DType::Fp32, 0.0).cast(data.dtype)?;
    let all = Tensor::concat_data(&[data, &zero], data.dtype, vec![data.len() + 1])?;
    Ok(all.take(&idx).reshaped(shape))
}

/// The elements of `dense` where `mask` is set, in order (the inverse of [`scatter_by_mask`]).
fn gather_by_mask(dense: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let idx: Vec<usize> = mask
        .to_i64()?
        .iter()
        .enumerate()
        .filter(|(_, b)| **b != 0)
        .map(|(i, _)| i)
        .collect();
    Ok(dense.take(&idx))
}

fn sparse_to_dense(cx: &Cx) -> Result<Vec<Tensor>> {
    let (data, mask) = (cx.get("nonzero_data")?, cx.get("mask")?);
    let (shape, bits) = match shape_input(cx)? {
        Some(shape) => {
            let n = numel(&shape);
            (shape, unpack_bits(&mask.to_i64()?, 1, n)?)
        }
        None => (mask.shape.clone(), mask.to_i64()?),
    };
    let dense = scatter_by_mask(&data, &bits, shape)?;
    Ok(vec![dense.cast(cx.out_dtype(0, data.dtype))?])
}

/// `constexpr_lut_to_sparse`: the palette lookup of the set indices; the mask is repeated along
/// `vector_axis` for vector palettes. Results: the mask, then the values where it is set.
fn lut_to_sparse(cx: &Cx) -> Result<Vec<Tensor>> {
    let (mask, nonzero, lut) = (
        cx.get("indices_mask")?,
        cx.get("indices_nonzero_data")?,
        cx.get("lut")?,
    );
    let va = cx.opt_float("vector_axis")?.map(|a| a as i64);
    let indices = scatter_by_mask(&nonzero, &mask.to_i64()?, mask.shape.clone())?;
    let dense = lut_dense(&lut, &indices, va)?;
    let vsize = lut.shape[lut.rank() - 1];
    let out_mask = if vsize > 1 {
        let a = axis(va.unwrap_or(0), mask.rank())?;
        let st = strides(&mask.shape);
        map_index(&mask, dense.shape.clone(), None, |c| {
            Some(
                c.iter()
                    .enumerate()
                    .map(|(k, &i)| if k == a { i / vsize } else { i } * st[k])
                    .sum(),
            )
        })?
    } else {
        (*mask).clone()
    };
    let values = gather_by_mask(&dense, &out_mask)?.cast(cx.out_dtype(1, lut.dtype))?;
    Ok(vec![out_mask, values])
}

/// `constexpr_sparse_blockwise_shift_scale`: the set values dequantized with the blockwise
/// `scale` and `offset` of their dense positions. Results: the mask, then the values.
fn sparse_shift_scale(cx: &Cx) -> Result<Vec<Tensor>> {
    let (mask, nonzero, scale) = (cx.get("data_mask")?, cx.get("nonzero_data")?, cx.get("scale")?);
    let offset = cx.opt("offset")?;
    let dense = scatter_by_mask(&nonzero, &mask.to_i64()?, mask.shape.clone())?;
    let deq = shift_scale(
        &dense,
        &scale,
        offset.as_deref(),
        None,
        cx.out_dtype(1, scale.dtype),
    )?;
    Ok(vec![(*mask).clone(), gather_by_mask(&deq, &mask)?])
}

fn dequantize(cx: &Cx) -> Result<Vec<Tensor>> {
    let data = cx.get("input")?;
    let scale = cx.get("scale")?;
    let zp = cx.opt("zero_point")?;
    let along = cx.axes("axis", data.rank())?.and_then(|a| a.first().copied());
    Ok(vec![shift_scale(
        &data,
        &scale,
        zp.as_deref(),
        along,
        cx.out_dtype(0, scale.dtype),
    )?])
}

fn quantize(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.get("input")?;
    let scale = cx.get("scale")?;
    let along = cx.axes("axis", x.rank())?.and_then(|a| a.first().copied());
    let s = expand(&scale, &x.shape, along)?;
    let z = match cx.opt("zero_point")? {
        Some(z) => expand(&z, &x.shape, along)?,
        None => vec![0.0; x.len()],
    };
    let dtype = DType::from_name(&cx.string("output_dtype")?).unwrap_or(DType::Int8);
    let (lo, hi) = dtype
        .int_range()
        .map_or((-128.0, 127.0), |(l, h)| (l as f32, h as f32));
    let v = x
        .to_f32()?
        .into_iter()
        .zip(s.iter().zip(&z))
        .map(|(v, (s, z))| ((v / s).round_ties_even() + z).clamp(lo, hi))
        .collect();
    Ok(vec![Tensor::from_f32(dtype, x.shape.clone(), v)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_unpack_lowest_first() {
        // np.unpackbits([0b1110_0100], bitorder="little") read as 2-bit values: 0, 1, 2, 3.
        assert_eq!(unpack_bits(&[0b1110_0100], 2, 4).unwrap(), [0, 1, 2, 3]);
        assert!(unpack_bits(&[0], 4, 3).is_err());
    }

    #[test]
    fn blockwise_parameters_repeat_over_their_blocks() {
        let scale = Tensor::from_f32(DType::Fp32, vec![2, 1], vec![2.0, 3.0]);
        assert_eq!(
            expand(&scale, &[4, 2], None).unwrap(),
            [2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0]
        );
        let per_axis = Tensor::from_f32(DType::Fp32, vec![2], vec![2.0, 3.0]);
        assert_eq!(expand(&per_axis, &[2, 2], Some(1)).unwrap(), [2.0, 3.0, 2.0, 3.0]);
    }
}
