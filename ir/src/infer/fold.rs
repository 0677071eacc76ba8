//! Constant folding of the integer computations that feed shape inputs: `shape`, casts, integer
//! arithmetic, `concat`, `stack`, `gather`, slicing, reshapes and `range_1d`. Folding follows
//! coremltools' value inference, keeping elements that depend on a `?` dim as unknown. The
//! integer arithmetic, index wrapping and slice bounds are [`crate::semantics`]'s, which the
//! interpreter's kernels use too: a folded value is what running the op gives.

use super::context::Ctx;
use super::known::{Known, dims_as_ints};
use crate::semantics::{SliceSpec, int_binary, slice_axis, wrap_index};
use crate::types::{DTypeKind, Dim, Type};

/// The most elements a folded tensor may have: shape computations are small, and larger tensors
/// are not worth the time.
const MAX_ELEMENTS: usize = 4096;

/// An integer tensor: its shape and its elements (`None` where unknown).
type Ints = (Vec<u64>, Vec<Option<i64>>);

/// What op `cx` makes known about its first result, whose inferred types are `outputs`.
pub(crate) fn fold<'a>(cx: &Ctx<'_, 'a>, outputs: &[Type]) -> Option<Known<'a>> {
    if cx.op.kind == "const" {
        return match cx.source("val")? {
            super::Source::Attr(_, v) => Some(Known::Literal(v)),
            super::Source::Arg(..) => None,
        };
    }
    let out = outputs.first()?;
    let dtype = out.dtype()?;
    if !matches!(dtype.kind(), DTypeKind::Int | DTypeKind::UInt | DTypeKind::Bool) {
        return None;
    }
    let shape: Vec<u64> = out
        .shape()?
        .iter()
        .map(|d| match d {
            Dim::Known(n) => Some(*n),
            Dim::Unknown => None,
        })
        .collect::<Option<_>>()?;
    let count = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
    if count > MAX_ELEMENTS as u64 {
        return None;
    }
    let values = values(cx, dtype.kind() == DTypeKind::Bool)?;
    (values.len() as u64 == count).then_some(Known::Ints { shape, values })
}

/// The elements of the first result of `cx`, if this op folds.
fn values(cx: &Ctx, to_bool: bool) -> Option<Vec<Option<i64>>> {
    let op = cx.op.kind.as_str();
    Some(match op {
        "shape" => dims_as_ints(cx.shape("x").ok()?),
        "identity" | "squeeze" | "expand_dims" | "reshape" => ints(cx, "x")?.1,
        "cast" => {
            let v = match ints(cx, "x") {
                Some((_, v)) => v,
                None => cx
                    .value("x")?
                    .floats()?
                    .into_iter()
                    .map(|f| Some(f.trunc() as i64))
                    .collect(),
            };
            if to_bool {
                v.into_iter().map(|e| e.map(|e| (e != 0) as i64)).collect()
            } else {
                v
            }
        }
        "add" | "sub" | "mul" | "floor_div" | "mod" | "maximum" | "minimum" => {
            let ((_, x), (_, y)) = (ints(cx, "x")?, ints(cx, "y")?);
            let n = x.len().max(y.len());
            if (x.len() != n && x.len() != 1) || (y.len() != n && y.len() != 1) {
                return None;
            }
            let at = |v: &[Option<i64>], i: usize| if v.len() == 1 { v[0] } else { v[i] };
            (0..n).map(|i| int_binary(op, at(&x, i)?, at(&y, i)?)).collect()
        }
        "concat" => {
            let mut all = Vec::new();
            for o in cx.tuple_operands("values").ok()? {
                let k = cx.operand_value(o)?;
                if k.shape()?.len() != 1 {
                    return None;
                }
                all.extend(k.ints()?);
            }
            all
        }
        "stack" => {
            let mut all = Vec::new();
            for o in cx.tuple_operands("values").ok()? {
                let k = cx.operand_value(o)?;
                if !k.shape()?.is_empty() {
                    return None;
                }
                all.extend(k.ints()?);
            }
            all
        }
        "gather" => {
            let (shape, x) = ints(cx, "x")?;
            let (_, indices) = ints(cx, "indices")?;
            if shape.len() != 1 || !matches!(cx.int_or("axis", 0).ok()?, 0 | -1) {
                return None;
            }
            indices
                .iter()
                .map(|i| x.get(wrap_index((*i)?, x.len())?).copied().flatten())
                .collect()
        }
        "slice_by_index" => slice(cx)?,
        "slice_by_size" => {
            let (shape, x) = ints(cx, "x")?;
            let (b, s) = (cx.ints("begin").ok()?, cx.ints("size").ok()?);
            if shape.len() != 1 || b.len() != 1 || s.len() != 1 {
                return None;
            }
            let begin = usize::try_from(b[0]).ok()?;
            let end = if s[0] == -1 {
                x.len()
            } else {
                begin.checked_add(usize::try_from(s[0]).ok()?)?
            };
            x.get(begin..end)?.to_vec()
        }
        "reduce_prod" | "reduce_sum" => {
            let (shape, x) = ints(cx, "x")?;
            if shape.len() != 1 {
                return None;
            }
            let product = op == "reduce_prod";
            let start = if product { 1 } else { 0 };
            let total = x.iter().try_fold(start, |acc: i64, v| {
                let v = (*v)?;
                if product {
                    acc.checked_mul(v)
                } else {
                    acc.checked_add(v)
                }
            });
            vec![total]
        }
        "range_1d" => {
            let (start, end, step) = (cx.int("start").ok()?, cx.int("end").ok()?, cx.int("step").ok()?);
            if step == 0 {
                return None;
            }
            let mut out = Vec::new();
            let mut v = start;
            while (step > 0 && v < end) || (step < 0 && v > end) {
                out.push(Some(v));
                v += step;
                if out.len() > MAX_ELEMENTS {
                    return None;
                }
            }
            out
        }
        _ => return None,
    })
}

/// The shape and elements of input `key`, when it is an integer tensor with known shape.
fn ints(cx: &Ctx, key: &str) -> Option<Ints> {
    let k = cx.value(key)?;
    Some((k.shape()?, k.ints()?))
}

/// `slice_by_index` of a vector.
fn slice(cx: &Ctx) -> Option<Vec<Option<i64>>> {
    let (shape, x) = ints(cx, "x")?;
    if shape.len() != 1 {
        return None;
    }
    let (b, e) = (cx.ints("begin").ok()?, cx.ints("end").ok()?);
    let s = cx.ints_or("stride", || vec![1]).ok()?;
    let mask = |key: &str| cx.bools(key).ok().map(|m| m.is_some_and(|m| m[0]));
    let spec = SliceSpec {
        begin: *b.first()?,
        end: *e.first()?,
        stride: *s.first()?,
        begin_mask: mask("begin_mask")?,
        end_mask: mask("end_mask")?,
        squeeze: mask("squeeze_mask")?,
    };
    let (start, count) = slice_axis(x.len(), spec)?;
    (0..count)
        .map(|k| {
            let i = i64::try_from(start).ok()? + spec.stride * i64::try_from(k).ok()?;
            x.get(usize::try_from(i).ok()?).copied()
        })
        .collect()
}
