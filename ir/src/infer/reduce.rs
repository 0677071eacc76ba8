//! Reductions (`reduce_*` with `keep_dims`), arg-reductions, `topk` and `argsort`.

use super::context::Ctx;
use super::shape::{axis, dim, known, show};
use super::{Inferred, Problem, tensor};
use crate::catalogue::Opset;
use crate::types::{DType, Dim};

/// x's shape with the dims at `axes` set to 1 (`keep_dims`) or removed.
fn reduced(x: &[Dim], axes: &[usize], keep_dims: bool) -> Vec<Dim> {
    x.iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keep_dims) {
            (false, _) => Some(d),
            (true, true) => Some(Dim::Known(1)),
            (true, false) => None,
        })
        .collect()
}

/// `reduce_*`: over `axes`, or every axis when it is absent.
pub(crate) fn reduce(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let axes: Vec<usize> = if cx.has("axes") {
        cx.ints("axes")?
            .into_iter()
            .map(|a| axis(a, x.len(), "axes"))
            .collect::<Result<_, _>>()?
    } else {
        (0..x.len()).collect()
    };
    Ok(vec![tensor(
        dtype,
        reduced(x, &axes, cx.bool_or("keep_dims", false)?),
    )])
}

/// Reads an indices dtype input (`output_dtype`, `output_indices_dtype`): int32 or uint16.
fn index_dtype(cx: &Ctx, key: &str) -> Result<DType, Problem> {
    match cx.string_or(key, "int32")?.to_lowercase().as_str() {
        "int32" => Ok(DType::Int32),
        "uint16" => Ok(DType::UInt16),
        other => Err(Problem::invalid(
            key,
            format!("{key} must be \"int32\" or \"uint16\", not \"{other}\""),
        )),
    }
}

/// `reduce_argmax`, `reduce_argmin`: indices along `axis`.
pub(crate) fn reduce_arg(cx: &Ctx) -> Inferred {
    let x = cx.shape("x")?;
    let a = axis(cx.int_or("axis", -1)?, x.len(), "axis")?;
    let dtype = index_dtype(cx, "output_dtype")?;
    Ok(vec![tensor(
        dtype,
        reduced(x, &[a], cx.bool_or("keep_dims", false)?),
    )])
}

/// `topk`: the k largest (or smallest) along `axis`, and their indices unless
/// `return_indices = false`.
pub(crate) fn topk(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let a = axis(cx.int_or("axis", -1)?, x.len(), "axis")?;
    let k = cx.int_or("k", 1)?;
    if let Some(d) = known(x[a])
        && k > d
    {
        return Err(Problem::invalid(
            "k",
            format!(
                "k = {k} is more than the {d} values along axis {a} of x {}",
                show(x)
            ),
        ));
    }
    let mut shape = x.to_vec();
    shape[a] = dim(k);
    let values = tensor(dtype, shape.clone());
    if cx.opset >= Opset::Ios16 && !cx.bool_or("return_indices", true)? {
        return Ok(vec![values]);
    }
    let indices = index_dtype(cx, "output_indices_dtype")?;
    Ok(vec![values, tensor(indices, shape)])
}

/// `argsort`: int32 indices of x's shape.
pub(crate) fn argsort(cx: &Ctx) -> Inferred {
    let x = cx.shape("x")?;
    axis(cx.int_or("axis", -1)?, x.len(), "axis")?;
    Ok(vec![tensor(DType::Int32, x.to_vec())])
}
