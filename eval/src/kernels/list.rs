//! List ops (`make_list`, `list_read`, `list_write`, `list_gather`, `list_scatter`,
//! `list_length`). A list of tensors of one shape is held as one tensor whose first axis is the
//! list's length; a write past the end of a dynamic list grows it with zeros, as coremltools'
//! references do.

use super::Kernel;
use super::shape::join;
use crate::bail;
use crate::cx::Cx;
use crate::error::{EvalError, Result};
use crate::tensor::{Tensor, numel};
use mil_ir::DType;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("make_list", make_list),
    ("list_read", list_read),
    ("list_write", list_write),
    ("list_gather", list_gather),
    ("list_scatter", list_scatter),
    ("list_length", list_length),
];

/// `n` items of zeros shaped like those of `ls`.
fn zeros(ls: &Tensor, n: usize) -> Result<Tensor> {
    let mut shape = ls.shape.clone();
    shape[0] = n;
    let zero = Tensor::scalar_f32(DType::Fp32, 0.0).cast(ls.dtype)?;
    Ok(zero.take(&vec![0; numel(&shape)]).reshaped(shape))
}

fn make_list(cx: &Cx) -> Result<Vec<Tensor>> {
    let len = cx.int("init_length")?.max(0) as usize;
    let mut shape = vec![len];
    for d in cx.tuple("elem_shape")? {
        shape.push(d.scalar()? as usize);
    }
    let name = cx.string("dtype")?;
    let dtype = DType::from_name(&name).ok_or_else(|| EvalError::msg(format!("unknown dtype `{name}`")))?;
    let empty = Tensor::from_f32(dtype, shape.clone(), vec![0.0; numel(&shape)]);
    Ok(vec![empty])
}

/// Row `i` of `ls` (an item), checked against the length.
fn item_index(ls: &Tensor, i: i64) -> Result<usize> {
    if i < 0 || i as usize >= ls.shape[0] {
        bail!("index {i} is out of range for a list of length {}", ls.shape[0]);
    }
    Ok(i as usize)
}

/// The items of `ls` at `indices`, stacked.
fn rows(ls: &Tensor, indices: &[usize]) -> Tensor {
    let item = numel(&ls.shape[1..]);
    let idx: Vec<usize> = indices.iter().flat_map(|&i| i * item..(i + 1) * item).collect();
    let mut shape = ls.shape.clone();
    shape[0] = indices.len();
    ls.take(&idx).reshaped(shape)
}

fn list_read(cx: &Cx) -> Result<Vec<Tensor>> {
    let ls = cx.get("ls")?;
    let i = item_index(&ls, cx.int("index")?)?;
    Ok(vec![rows(&ls, &[i]).reshaped(ls.shape[1..].to_vec())])
}

fn list_gather(cx: &Cx) -> Result<Vec<Tensor>> {
    let ls = cx.get("ls")?;
    let idx = cx
        .ints("indices")?
        .into_iter()
        .map(|i| item_index(&ls, i))
        .collect::<Result<Vec<_>>>()?;
    Ok(vec![rows(&ls, &idx)])
}

fn list_length(cx: &Cx) -> Result<Vec<Tensor>> {
    let ls = cx.get("ls")?;
    Ok(vec![Tensor::from_i64(
        DType::Int32,
        vec![],
        vec![ls.shape[0] as i64],
    )])
}

/// `ls` with the items at `indices` replaced by the rows of `values`, grown with zeros to reach
/// the largest index.
fn write(ls: &Tensor, indices: &[i64], values: &Tensor) -> Result<Tensor> {
    let item = numel(&ls.shape[1..]);
    if values.len() != indices.len() * item {
        bail!(
            "the values do not hold {} items of shape {:?}",
            indices.len(),
            &ls.shape[1..]
        );
    }
    if let Some(&i) = indices.iter().find(|&&i| i < 0) {
        bail!("index {i} is negative");
    }
    let needed = indices.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
    let grown = if needed > ls.shape[0] {
        join(&[ls, &zeros(ls, needed - ls.shape[0])?], 0)?
    } else {
        ls.clone()
    };
    let mut idx: Vec<usize> = (0..grown.len()).collect();
    for (k, &i) in indices.iter().enumerate() {
        for e in 0..item {
            idx[i as usize * item + e] = grown.len() + k * item + e;
        }
    }
    let both = Tensor::concat_data(&[&grown, &values.cast(ls.dtype)?], ls.dtype, vec![])?;
    Ok(both.take(&idx).reshaped(grown.shape.clone()))
}

fn list_write(cx: &Cx) -> Result<Vec<Tensor>> {
    let (ls, value) = (cx.get("ls")?, cx.get("value")?);
    Ok(vec![write(&ls, &[cx.int("index")?], &value)?])
}

fn list_scatter(cx: &Cx) -> Result<Vec<Tensor>> {
    let (ls, value) = (cx.get("ls")?, cx.get("value")?);
    Ok(vec![write(&ls, &cx.ints("indices")?, &value)?])
}
