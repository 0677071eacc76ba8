//! Ops that make new tensors: `const`, `shape`, `fill`, `range_1d`, the random ops, `one_hot`,
//! `non_zero` (data-dependent), `non_maximum_suppression` and `classify`.

use super::context::Ctx;
use super::shape::dim;
use super::{Inferred, Problem, tensor};
use crate::catalogue::Opset;
use crate::types::{DType, Dim, Type};

/// `const`: the type of its value.
pub(crate) fn constant(cx: &Ctx) -> Inferred {
    Ok(vec![cx.ty("val")?.clone()])
}

/// `shape`: one int32 per dim of x.
pub(crate) fn shape(cx: &Ctx) -> Inferred {
    Ok(vec![tensor(DType::Int32, vec![dim(cx.shape("x")?.len() as i64)])])
}

/// The dims a shape input (`fill`, the random ops) asks for; `?` where its value is not known.
fn dims_from(cx: &Ctx, key: &str) -> Result<Vec<Dim>, Problem> {
    let len = match cx.shape(key)? {
        [Dim::Known(n)] => *n as usize,
        _ => return Err(Problem::Unknown),
    };
    match cx.sym_ints(key) {
        Ok(values) => {
            if let Some(bad) = values.iter().flatten().find(|&&v| v < 0) {
                return Err(Problem::invalid(key, format!("{bad} is not a dimension")));
            }
            Ok(values.into_iter().map(|v| v.map_or(Dim::Unknown, dim)).collect())
        }
        Err(_) => Ok(vec![Dim::Unknown; len]),
    }
}

/// The dtype of input `key`, fp32 when it is absent (its default is a float).
fn dtype_or_fp32(cx: &Ctx, key: &str) -> Result<DType, Problem> {
    if cx.has(key) {
        cx.dtype(key)
    } else {
        Ok(DType::Fp32)
    }
}

/// `fill`: `shape` filled with `value`.
pub(crate) fn fill(cx: &Ctx) -> Inferred {
    Ok(vec![tensor(dtype_or_fp32(cx, "value")?, dims_from(cx, "shape")?)])
}

/// `fill_like`: the reference tensor's shape filled with `value`.
pub(crate) fn fill_like(cx: &Ctx) -> Inferred {
    Ok(vec![tensor(
        dtype_or_fp32(cx, "value")?,
        cx.shape("ref_tensor")?.to_vec(),
    )])
}

/// `range_1d`: `ceil((end - start) / step)` values, when the three are known.
pub(crate) fn range_1d(cx: &Ctx) -> Inferred {
    let dtype = cx.dtype("start")?;
    let number = |key: &str| {
        cx.value(key)
            .and_then(|k| k.floats())
            .and_then(|v| v.first().copied())
    };
    let len = match (number("start"), number("end"), number("step")) {
        (Some(_), Some(_), Some(0.0)) => {
            return Err(Problem::invalid("step", "step must not be 0"));
        }
        (Some(start), Some(end), Some(step)) => dim(((end - start) / step).ceil().max(0.0) as i64),
        _ => Dim::Unknown,
    };
    Ok(vec![tensor(dtype, vec![len])])
}

/// `random_bernoulli`, `random_normal`, `random_uniform`: `shape`, in the dtype of the
/// distribution's parameter.
pub(crate) fn random(cx: &Ctx) -> Inferred {
    let parameter = match cx.op.kind.as_str() {
        "random_bernoulli" => "prob",
        "random_normal" => "mean",
        _ => "low",
    };
    Ok(vec![tensor(
        dtype_or_fp32(cx, parameter)?,
        dims_from(cx, "shape")?,
    )])
}

/// `random_categorical`: x's last dim replaced by the number of samples.
pub(crate) fn random_categorical(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let (_, lead) = x
        .split_last()
        .ok_or_else(|| Problem::incompatible("x", "x must have rank 1 or more"))?;
    let mut out = lead.to_vec();
    out.push(dim(cx.int_or("size", 1)?));
    Ok(vec![tensor(dtype, out)])
}

/// `one_hot`: a dim of `one_hot_vector_size` inserted into the indices' shape at `axis`.
pub(crate) fn one_hot(cx: &Ctx) -> Inferred {
    let indices = cx.shape("indices")?;
    let r = indices.len() as i64;
    let a = cx.int_or("axis", -1)?;
    if a < -r - 1 || a > r {
        return Err(Problem::invalid(
            "axis",
            format!("axis {a} is out of range for indices of rank {r}"),
        ));
    }
    let depth = match cx.ints("one_hot_vector_size") {
        Ok(v) if v.len() == 1 && v[0] < 0 => {
            return Err(Problem::invalid(
                "one_hot_vector_size",
                "one_hot_vector_size must not be negative",
            ));
        }
        Ok(v) if v.len() == 1 => dim(v[0]),
        _ => Dim::Unknown,
    };
    let cut = if a < 0 { r + a + 1 } else { a } as usize;
    let mut out = indices.to_vec();
    out.insert(cut, depth);
    let dtype = if cx.has("on_value") {
        cx.dtype("on_value")?
    } else {
        DType::Int32
    };
    Ok(vec![tensor(dtype, out)])
}

/// `non_zero`: `[count, rank]` int32 coordinates; the count is only known for a constant x.
pub(crate) fn non_zero(cx: &Ctx) -> Inferred {
    let rank = cx.shape("x")?.len();
    let count = cx.value("x").and_then(|k| k.floats()).map_or(Dim::Unknown, |v| {
        dim(v.iter().filter(|&&e| e != 0.0).count() as i64)
    });
    Ok(vec![tensor(DType::Int32, vec![count, dim(rank as i64)])])
}

/// `non_maximum_suppression`: boxes, scores, indices (and, before iOS17, counts) of the kept boxes.
pub(crate) fn non_maximum_suppression(cx: &Ctx) -> Inferred {
    let (boxes_dtype, _) = cx.tensor("boxes")?;
    let (scores_dtype, scores) = cx.tensor("scores")?;
    let &[batch, a, b] = scores else {
        return Err(Problem::incompatible(
            "scores",
            format!("scores must have rank 3, not {}", scores.len()),
        ));
    };
    let max = dim(cx.int("max_boxes")?);
    if cx.opset >= Opset::Ios17 {
        return Ok(vec![
            tensor(boxes_dtype, vec![batch, Dim::Known(4), max]),
            tensor(scores_dtype, vec![batch, a, max]),
            tensor(DType::Int32, vec![batch, max]),
        ]);
    }
    Ok(vec![
        tensor(boxes_dtype, vec![batch, max, Dim::Known(4)]),
        tensor(scores_dtype, vec![batch, max, b]),
        tensor(DType::Int32, vec![batch, max]),
        tensor(DType::Int32, vec![batch]),
    ])
}

/// `classify`: the top class (a scalar of the classes' dtype) and a dict from class to probability.
pub(crate) fn classify(cx: &Ctx) -> Inferred {
    let class = match cx.ty("classes")? {
        Type::List(elem, _) => elem.dtype().ok_or(Problem::Unknown)?,
        _ => return Err(Problem::invalid("classes", "classes must be a list")),
    };
    if !matches!(class, DType::String | DType::Int64) {
        return Err(Problem::invalid(
            "classes",
            format!("classes must be strings or int64, not {class}"),
        ));
    }
    Ok(vec![
        tensor(class, Vec::new()),
        Type::Dict(Box::new(Type::Scalar(class)), Box::new(Type::Scalar(DType::Fp64))),
    ])
}
