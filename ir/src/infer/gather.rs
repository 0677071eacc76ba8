//! Indexing: the gather family (with `batch_dims`) and the scatter family.

use super::context::Ctx;
use super::shape::{axis, known, may_equal, show};
use super::{Inferred, Problem, tensor};
use crate::types::Dim;

/// `gather`: `x[:axis] + indices[batch_dims:] + x[axis + 1:]`.
pub(crate) fn gather(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let indices = cx.shape("indices")?;
    let a = axis(cx.int_or("axis", 0)?, x.len(), "axis")?;
    let batch = cx.int_or("batch_dims", 0)?;
    if batch < 0 || batch as usize >= x.len().max(1) || batch as usize > indices.len() {
        return Err(Problem::invalid(
            "batch_dims",
            format!(
                "batch_dims {batch} must be less than rank(x) = {} and at most rank(indices) = {}",
                x.len(),
                indices.len()
            ),
        ));
    }
    let mut out = x[..a].to_vec();
    out.extend_from_slice(&indices[batch as usize..]);
    out.extend_from_slice(&x[a + 1..]);
    Ok(vec![tensor(dtype, out)])
}

/// `gather_along_axis`: the shape of `indices`, which must match x off the axis.
pub(crate) fn gather_along_axis(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let indices = cx.shape("indices")?;
    same_off_axis(cx, x, indices, "indices")?;
    Ok(vec![tensor(dtype, indices.to_vec())])
}

/// Checks that `other` has the rank of `x` and its dims off `axis`.
fn same_off_axis(cx: &Ctx, x: &[Dim], other: &[Dim], key: &str) -> Result<(), Problem> {
    if x.len() != other.len() {
        return Err(Problem::incompatible(
            key,
            format!("{key} {} must have the rank of {}", show(other), show(x)),
        ));
    }
    let a = axis(cx.int_or("axis", 0)?, x.len(), "axis")?;
    if let Some(i) = (0..x.len()).find(|&i| i != a && !may_equal(x[i], other[i])) {
        return Err(Problem::incompatible(
            key,
            format!(
                "{key} {} and {} differ in dimension {i}, which is not the axis",
                show(other),
                show(x)
            ),
        ));
    }
    Ok(())
}

/// `gather_nd`: `indices[:-1] + x[batch_dims + indices[-1]:]`.
pub(crate) fn gather_nd(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let indices = cx.shape("indices")?;
    let batch = cx.int_or("batch_dims", 0)?.max(0) as usize;
    let (&last, lead) = indices.split_last().ok_or(Problem::Unknown)?;
    let depth = known(last).ok_or(Problem::Unknown)? as usize;
    if batch + depth > x.len() {
        return Err(Problem::incompatible(
            "indices",
            format!(
                "indices index {depth} dimensions after {batch} batch dimensions, but x {} has rank {}",
                show(x),
                x.len()
            ),
        ));
    }
    let mut out = lead.to_vec();
    out.extend_from_slice(&x[batch + depth..]);
    Ok(vec![tensor(dtype, out)])
}

/// The scatter ops: the type of `data`, once `updates` is checked against the scattered slots.
pub(crate) fn scatter(cx: &Ctx) -> Inferred {
    let data = cx.shape("data")?;
    let mode = cx.string_or("mode", "add")?;
    if !matches!(
        mode.as_str(),
        "add" | "update" | "sub" | "mul" | "div" | "max" | "min"
    ) {
        return Err(Problem::invalid(
            "mode",
            format!("unknown scatter mode \"{mode}\" (add, update, sub, mul, div, max or min)"),
        ));
    }
    let (indices, updates) = (cx.shape("indices")?, cx.shape("updates")?);
    let expected = match cx.op.kind.as_str() {
        "scatter" => {
            let a = axis(cx.int_or("axis", 0)?, data.len(), "axis")?;
            [&data[..a], indices, &data[a + 1..]].concat()
        }
        "scatter_along_axis" => {
            same_off_axis(cx, data, indices, "indices")?;
            indices.to_vec()
        }
        _ => {
            let (&last, lead) = indices.split_last().ok_or(Problem::Unknown)?;
            let depth = known(last).ok_or(Problem::Unknown)? as usize;
            if depth > data.len() {
                return Err(Problem::incompatible(
                    "indices",
                    format!("indices index {depth} dimensions of a rank-{} data", data.len()),
                ));
            }
            [lead, &data[depth..]].concat()
        }
    };
    if updates.len() != expected.len() || !updates.iter().zip(&expected).all(|(&a, &b)| may_equal(a, b)) {
        return Err(Problem::incompatible(
            "updates",
            format!("updates {} should have shape {}", show(updates), show(&expected)),
        ));
    }
    Ok(vec![cx.ty("data")?.clone()])
}
