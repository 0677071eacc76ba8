//! Tensors: a shape and typed storage.
//!
//! Floats are held at their dtype's width (`fp32` as `f32`, `fp16` as [`f16`]); kernels read them as
//! `f32`, compute in `f32` and round the result back to the tensor's dtype, which is what Core ML's
//! CPU path does for fp16. Integers of every width are held as `i64` and wrapped to their dtype's
//! width when a tensor is made, so integer arithmetic is exact. Strings only come from constants.

use crate::error::{EvalError, Result};
use crate::floats::Floats;
use half::f16;
use mil_ir::{DType, DTypeKind, Elements};
use std::borrow::Cow;

/// The elements of a tensor, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// `fp32` (and the wider or narrower float types, held exactly in an `f32` where they fit),
    /// owned or read in place from a weight file.
    F32(Floats),
    /// `fp16`.
    F16(Vec<f16>),
    /// Every integer dtype, wrapped to its width.
    Int(Vec<i64>),
    /// `bool`.
    Bool(Vec<bool>),
    /// `string`.
    Str(Vec<String>),
}

/// A value of a MIL program that is a tensor (a scalar is a tensor of rank 0).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The element type as the program declares it.
    pub dtype: DType,
    /// The dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The elements.
    pub data: Data,
}

/// The number of elements of `shape`.
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Wraps `v` to the range of the integer dtype `dtype` (two's complement, as a cast in C does).
pub fn wrap_int(v: i64, dtype: DType) -> i64 {
    match dtype {
        DType::Int8 => v as i8 as i64,
        DType::Int16 => v as i16 as i64,
        DType::Int32 => v as i32 as i64,
        DType::UInt8 => v as u8 as i64,
        DType::UInt16 => v as u16 as i64,
        DType::UInt32 => v as u32 as i64,
        DType::Int4 => (v << 60) >> 60,
        DType::UInt1 | DType::UInt2 | DType::UInt3 | DType::UInt4 | DType::UInt6 => {
            let bits = dtype.bits().unwrap_or(8);
            v & ((1 << bits) - 1)
        }
        _ => v,
    }
}

impl Tensor {
    /// A float tensor of `dtype` from `f32` values, rounded to the dtype (fp16 rounds to nearest
    /// even; an integer or bool dtype truncates toward zero, as `cast` does).
    pub fn from_f32(dtype: DType, shape: Vec<usize>, values: Vec<f32>) -> Tensor {
        let data = match dtype.kind() {
            DTypeKind::Float if dtype == DType::Fp16 => {
                Data::F16(values.into_iter().map(f16::from_f32).collect())
            }
            DTypeKind::Float => Data::F32(values.into()),
            DTypeKind::Bool => Data::Bool(values.into_iter().map(|v| v != 0.0).collect()),
            DTypeKind::Int | DTypeKind::UInt => {
                Data::Int(values.into_iter().map(|v| wrap_int(v as i64, dtype)).collect())
            }
            DTypeKind::String => Data::Str(values.iter().map(f32::to_string).collect()),
        };
        Tensor { dtype, shape, data }
    }

    /// An integer (or bool, or float) tensor of `dtype` from `i64` values, wrapped to the dtype.
    pub fn from_i64(dtype: DType, shape: Vec<usize>, values: Vec<i64>) -> Tensor {
        match dtype.kind() {
            DTypeKind::Int | DTypeKind::UInt => Tensor {
                dtype,
                shape,
                data: Data::Int(values.into_iter().map(|v| wrap_int(v, dtype)).collect()),
            },
            DTypeKind::Bool => Tensor {
                dtype,
                shape,
                data: Data::Bool(values.into_iter().map(|v| v != 0).collect()),
            },
            _ => Tensor::from_f32(dtype, shape, values.into_iter().map(|v| v as f32).collect()),
        }
    }

    /// A bool tensor.
    pub fn from_bool(shape: Vec<usize>, values: Vec<bool>) -> Tensor {
        Tensor {
            dtype: DType::Bool,
            shape,
            data: Data::Bool(values),
        }
    }

    /// A rank-0 tensor.
    pub fn scalar_f32(dtype: DType, v: f32) -> Tensor {
        Tensor::from_f32(dtype, vec![], vec![v])
    }

    /// A 1-D int32 tensor.
    pub fn int_vector(values: Vec<i64>) -> Tensor {
        Tensor::from_i64(DType::Int32, vec![values.len()], values)
    }

    /// The tensor's elements from a constant's, checked against `shape`.
    pub fn from_elements(dtype: DType, shape: Vec<usize>, elements: &Elements) -> Result<Tensor> {
        let n = numel(&shape);
        let t = match elements {
            Elements::F16(v) => Tensor::from_f32(dtype, shape, v.iter().map(|x| x.to_f32()).collect()),
            Elements::Bf16(v) => Tensor::from_f32(dtype, shape, v.iter().map(|x| x.to_f32()).collect()),
            Elements::F32(v) => Tensor::from_f32(dtype, shape, v.clone()),
            Elements::F64(v) => Tensor::from_f32(dtype, shape, v.iter().map(|&x| x as f32).collect()),
            Elements::Int(v) => Tensor::from_i64(dtype, shape, v.clone()),
            Elements::UInt(v) => Tensor::from_i64(dtype, shape, v.iter().map(|&x| x as i64).collect()),
            Elements::Bool(v) => match dtype.kind() {
                DTypeKind::Bool => Tensor::from_bool(shape, v.clone()),
                _ => Tensor::from_i64(dtype, shape, v.iter().map(|&b| b as i64).collect()),
            },
            Elements::Str(v) => Tensor {
                dtype: DType::String,
                shape,
                data: Data::Str(v.clone()),
            },
        };
        if t.len() == n {
            Ok(t)
        } else if t.len() == 1 {
            let shape = t.shape.clone();
            Ok(t.take(&vec![0; n]).reshaped(shape))
        } else {
            Err(EvalError::msg(format!(
                "a constant has {} elements where its type has {n}",
                t.len()
            )))
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::F16(v) => v.len(),
            Data::Int(v) => v.len(),
            Data::Bool(v) => v.len(),
            Data::Str(v) => v.len(),
        }
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rank.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Whether the dtype is a float type.
    pub fn is_float(&self) -> bool {
        self.dtype.kind() == DTypeKind::Float
    }

    /// The elements as `f32` (bools as 0/1; strings are an error).
    pub fn to_f32(&self) -> Result<Vec<f32>> {
        Ok(match &self.data {
            Data::F32(v) => v.to_vec(),
            Data::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
            Data::Int(v) => v.iter().map(|&x| x as f32).collect(),
            Data::Bool(v) => v.iter().map(|&x| x as u8 as f32).collect(),
            Data::Str(_) => return Err(EvalError::msg("a string tensor where a number was expected")),
        })
    }

    /// The elements as `f32`, borrowed when they are `fp32` already (as GEMM kernels read their
    /// operands, without copying weights).
    pub fn f32s(&self) -> Result<Cow<'_, [f32]>> {
        Ok(match &self.data {
            Data::F32(v) => Cow::Borrowed(v),
            _ => Cow::Owned(self.to_f32()?),
        })
    }

    /// The elements as `i64` (floats truncated toward zero).
    pub fn to_i64(&self) -> Result<Vec<i64>> {
        Ok(match &self.data {
            Data::Int(v) => v.clone(),
            Data::Bool(v) => v.iter().map(|&x| x as i64).collect(),
            Data::F32(v) => v.iter().map(|&x| x as i64).collect(),
            Data::F16(v) => v.iter().map(|x| x.to_f32() as i64).collect(),
            Data::Str(_) => return Err(EvalError::msg("a string tensor where an integer was expected")),
        })
    }

    /// The elements as bools (non-zero is true).
    pub fn to_bool(&self) -> Result<Vec<bool>> {
        Ok(match &self.data {
            Data::Bool(v) => v.clone(),
            _ => self.to_f32()?.into_iter().map(|x| x != 0.0).collect(),
        })
    }

    /// The tensor whose element `i` is element `idx[i]` of `self`, as a 1-D tensor (callers set the
    /// shape). Every layout op (transpose, slice, tile, gather, ...) is an index map through this.
    pub fn take(&self, idx: &[usize]) -> Tensor {
        fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
            idx.iter().map(|&i| v[i].clone()).collect()
        }
        let data = match &self.data {
            Data::F32(v) => Data::F32(pick(v, idx).into()),
            Data::F16(v) => Data::F16(pick(v, idx)),
            Data::Int(v) => Data::Int(pick(v, idx)),
            Data::Bool(v) => Data::Bool(pick(v, idx)),
            Data::Str(v) => Data::Str(pick(v, idx)),
        };
        Tensor {
            dtype: self.dtype,
            shape: vec![idx.len()],
            data,
        }
    }

    /// The tensor of `shape` whose element at coordinates `c` is element `offset + Σ c[a]·steps[a]`
    /// of `self`: a strided view copied out (transposes, slices, splits). Runs along innermost
    /// axes that are contiguous in `self` are copied whole rather than element by element.
    pub fn strided_copy(&self, offset: usize, shape: &[usize], steps: &[isize]) -> Tensor {
        let (shape, steps) = merged_axes(shape, steps);
        let data = match &self.data {
            Data::F32(v) => Data::F32(gather_strided(v, offset, &shape, &steps).into()),
            Data::F16(v) => Data::F16(gather_strided(v, offset, &shape, &steps)),
            Data::Int(v) => Data::Int(gather_strided(v, offset, &shape, &steps)),
            Data::Bool(v) => Data::Bool(gather_strided(v, offset, &shape, &steps)),
            Data::Str(v) => Data::Str(gather_strided(v, offset, &shape, &steps)),
        };
        Tensor {
            dtype: self.dtype,
            shape: vec![numel(&shape)],
            data,
        }
    }

    /// The same elements under another shape of the same size.
    pub fn reshaped(mut self, shape: Vec<usize>) -> Tensor {
        self.shape = shape;
        self
    }

    /// The tensor broadcast (numpy rules) to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        if self.shape == shape {
            return self.clone();
        }
        let idx = broadcast_index(&self.shape, shape);
        self.take(&idx).reshaped(shape.to_vec())
    }

    /// Concatenates tensors of one dtype along their outermost dimension of storage, in order.
    pub fn concat_data(parts: &[&Tensor], dtype: DType, shape: Vec<usize>) -> Result<Tensor> {
        let mut data = match parts.first().map(|t| &t.data) {
            Some(Data::F32(_)) => Data::F32(Vec::new().into()),
            Some(Data::F16(_)) => Data::F16(Vec::new()),
            Some(Data::Bool(_)) => Data::Bool(Vec::new()),
            Some(Data::Str(_)) => Data::Str(Vec::new()),
            _ => Data::Int(Vec::new()),
        };
        for p in parts {
            match (&mut data, &p.data) {
                (Data::F32(Floats::Owned(a)), Data::F32(b)) => a.extend_from_slice(b),
                (Data::F16(a), Data::F16(b)) => a.extend_from_slice(b),
                (Data::Int(a), Data::Int(b)) => a.extend_from_slice(b),
                (Data::Bool(a), Data::Bool(b)) => a.extend_from_slice(b),
                (Data::Str(a), Data::Str(b)) => a.extend_from_slice(b),
                _ => return Err(EvalError::msg("joined tensors have different dtypes")),
            }
        }
        Ok(Tensor { dtype, shape, data })
    }

    /// The tensor converted to `dtype` (floats to ints truncate toward zero, as `cast` does).
    pub fn cast(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype {
            return Ok(self.clone());
        }
        let shape = self.shape.clone();
        Ok(match dtype.kind() {
            DTypeKind::Float => Tensor::from_f32(dtype, shape, self.to_f32()?),
            DTypeKind::Bool => Tensor::from_bool(shape, self.to_bool()?),
            DTypeKind::Int | DTypeKind::UInt => Tensor::from_i64(dtype, shape, self.to_i64()?),
            DTypeKind::String => return Err(EvalError::msg("cannot cast to string")),
        })
    }

    /// The single element as `f32`.
    pub fn scalar(&self) -> Result<f32> {
        match self.to_f32()?.as_slice() {
            [v] => Ok(*v),
            _ => Err(EvalError::msg(format!(
                "expected a single value, found shape {:?}",
                self.shape
            ))),
        }
    }
}

/// `shape` and `steps` without size-1 axes, with each axis merged into the one outside it when
/// stepping through the inner one's whole length lands on the outer one's next element.
fn merged_axes(shape: &[usize], steps: &[isize]) -> (Vec<usize>, Vec<isize>) {
    if shape.contains(&0) {
        return (vec![0], vec![1]);
    }
    let (mut dims, mut st): (Vec<usize>, Vec<isize>) = (Vec::new(), Vec::new());
    for (&d, &s) in shape.iter().zip(steps).rev() {
        match (dims.last_mut(), st.last_mut()) {
            _ if d == 1 => {}
            (Some(inner), Some(step)) if *step * *inner as isize == s => *inner *= d,
            _ => {
                dims.push(d);
                st.push(s);
            }
        }
    }
    dims.reverse();
    st.reverse();
    (dims, st)
}

/// The elements of `v` at `offset + Σ c[a]·steps[a]` for every coordinate `c` of `shape`, in
/// row-major order; a unit-step innermost axis is copied as one slice.
fn gather_strided<T: Clone>(v: &[T], offset: usize, shape: &[usize], steps: &[isize]) -> Vec<T> {
    let n = numel(shape);
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let Some((&run, outer)) = shape.split_last() else {
        out.push(v[offset].clone());
        return out;
    };
    let step = steps[outer.len()];
    let mut counter = vec![0usize; outer.len()];
    let mut at = offset as isize;
    for _ in 0..n / run {
        if step == 1 {
            out.extend_from_slice(&v[at as usize..at as usize + run]);
        } else {
            out.extend((0..run as isize).map(|i| v[(at + i * step) as usize].clone()));
        }
        for a in (0..outer.len()).rev() {
            counter[a] += 1;
            at += steps[a];
            if counter[a] < outer[a] {
                break;
            }
            at -= steps[a] * counter[a] as isize;
            counter[a] = 0;
        }
    }
    out
}

/// For every element of `out_shape` (row-major), the index into a tensor of `in_shape` that
/// broadcasts to it under numpy's rules (dims aligned on the right, size-1 dims repeated).
pub fn broadcast_index(in_shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let n = numel(out_shape);
    let offset = out_shape.len() - in_shape.len();
    let in_strides = strides(in_shape);
    let mut step = vec![0usize; out_shape.len()];
    for (i, &d) in in_shape.iter().enumerate() {
        if d != 1 {
            step[offset + i] = in_strides[i];
        }
    }
    let mut idx = Vec::with_capacity(n);
    let mut counter = vec![0usize; out_shape.len()];
    let mut at = 0usize;
    for _ in 0..n {
        idx.push(at);
        for axis in (0..out_shape.len()).rev() {
            counter[axis] += 1;
            at += step[axis];
            if counter[axis] < out_shape[axis] {
                break;
            }
            at -= step[axis] * counter[axis];
            counter[axis] = 0;
        }
    }
    idx
}

/// The numpy broadcast of two shapes, or why they do not broadcast.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(EvalError::msg(format!("shapes {a:?} and {b:?} do not broadcast")));
            }
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_repeats_size_one_dims() {
        assert_eq!(broadcast_index(&[2, 1], &[2, 3]), [0, 0, 0, 1, 1, 1]);
        assert_eq!(broadcast_index(&[3], &[2, 3]), [0, 1, 2, 0, 1, 2]);
        assert_eq!(broadcast_shapes(&[4, 1, 3], &[2, 1]).unwrap(), [4, 2, 3]);
        assert!(broadcast_shapes(&[2], &[3]).is_err());
    }

    #[test]
    fn strided_copies_match_an_index_map() {
        // A [2, 3, 4] tensor read transposed (perm [2, 0, 1]), sliced with a negative step, and
        // through size-1 and mergeable axes, against the element-by-element index.
        let x = Tensor::from_i64(DType::Int32, vec![24], (0..24).collect());
        let read = |offset: usize, shape: &[usize], steps: &[isize]| {
            let mut want = Vec::new();
            for c in 0..numel(shape) {
                let (mut rest, mut at) = (c, offset as isize);
                for (&d, &s) in shape.iter().zip(steps).rev() {
                    at += (rest % d) as isize * s;
                    rest /= d;
                }
                want.push(at as i64);
            }
            assert_eq!(x.strided_copy(offset, shape, steps).to_i64().unwrap(), want);
        };
        read(0, &[4, 2, 3], &[1, 12, 4]);
        read(23, &[2, 3, 4], &[-12, -4, -1]);
        read(1, &[2, 1, 3, 2], &[12, 0, 4, 2]);
        read(0, &[2, 3, 4], &[12, 4, 1]);
        read(5, &[], &[]);
        read(0, &[0, 3], &[3, 1]);
    }

    #[test]
    fn fp16_rounds_and_ints_wrap() {
        let t = Tensor::from_f32(DType::Fp16, vec![1], vec![1.0 + 1.0 / 4096.0]);
        assert_eq!(t.to_f32().unwrap(), [1.0]);
        let t = Tensor::from_i64(DType::Int8, vec![2], vec![127 + 1, -129]);
        assert_eq!(t.to_i64().unwrap(), [-128, 127]);
        assert_eq!(wrap_int(17, DType::UInt4), 1);
    }
}
