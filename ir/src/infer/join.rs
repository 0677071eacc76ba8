//! Joining and splitting: `concat`, `stack` and `split`.

use super::context::{Ctx, tensor_of};
use super::shape::{axis, combine, dim, known, may_equal, show};
use super::{Inferred, Problem, tensor};
use crate::types::{DType, Dim};

/// The dtype and shapes of the items of tuple input `values`, which must share their dtype.
fn items<'a>(cx: &Ctx<'_, 'a>) -> Result<(DType, Vec<&'a [Dim]>), Problem> {
    let types = cx.tuple("values")?;
    let mut shapes = Vec::with_capacity(types.len());
    let mut dtype = None;
    for t in types {
        let (d, s) = tensor_of(t)?;
        if dtype.is_some_and(|first| first != d) {
            return Err(Problem::Unknown);
        }
        dtype = Some(d);
        shapes.push(s);
    }
    let dtype = dtype.ok_or_else(|| Problem::invalid("values", "values needs at least one tensor"))?;
    Ok((dtype, shapes))
}

/// `concat`: the values' dims summed along `axis`; every other dim must agree.
pub(crate) fn concat(cx: &Ctx) -> Inferred {
    let (dtype, shapes) = items(cx)?;
    let rank = shapes[0].len();
    if let Some(s) = shapes.iter().find(|s| s.len() != rank) {
        return Err(Problem::incompatible(
            "values",
            format!("values of rank {rank} and {} cannot be concatenated", s.len()),
        ));
    }
    if rank == 0 {
        return Ok(vec![tensor(dtype, vec![dim(shapes.len() as i64)])]);
    }
    let a = axis(cx.int("axis")?, rank, "axis")?;
    let interleave = cx.bool_or("interleave", false)?;
    let mut out = shapes[0].to_vec();
    for s in &shapes[1..] {
        for i in 0..rank {
            if (i != a || interleave) && !may_equal(out[i], s[i]) {
                return Err(Problem::incompatible(
                    "values",
                    format!(
                        "{} and {} differ in dimension {i}, which is not the concatenation axis",
                        show(shapes[0]),
                        show(s)
                    ),
                ));
            }
        }
    }
    out[a] = shapes
        .iter()
        .fold(Dim::Known(0), |acc, s| combine(acc, s[a], |x, y| x + y));
    Ok(vec![tensor(dtype, out)])
}

/// `stack`: a new dim of the number of values, inserted at `axis`.
pub(crate) fn stack(cx: &Ctx) -> Inferred {
    let (dtype, shapes) = items(cx)?;
    let first = shapes
        .iter()
        .find(|s| s.iter().all(|d| known(*d).is_some()))
        .unwrap_or(&shapes[0]);
    if let Some(s) = shapes
        .iter()
        .find(|s| s.len() != first.len() || !s.iter().zip(first.iter()).all(|(&a, &b)| may_equal(a, b)))
    {
        return Err(Problem::incompatible(
            "values",
            format!(
                "stacked values must have one shape, not {} and {}",
                show(first),
                show(s)
            ),
        ));
    }
    let a = axis(cx.int("axis")?, first.len() + 1, "axis")?;
    let mut out = first.to_vec();
    out.insert(a, dim(shapes.len() as i64));
    Ok(vec![tensor(dtype, out)])
}

/// The most parts a split is inferred to make: a count beyond it is reported rather than
/// allocated (a wrong count below it is the output-count check's to report).
const MAX_PARTS: u64 = 1 << 16;

/// `split`: `num_splits` equal parts, or parts of `split_sizes`, along `axis`.
pub(crate) fn split(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let a = axis(cx.int("axis")?, x.len(), "axis")?;
    let count = if cx.has("num_splits") {
        Some(cx.int("num_splits")?)
    } else {
        None
    };
    let sizes: Vec<Dim> = match (count, cx.has("split_sizes")) {
        (None, false) => {
            return Err(Problem::invalid(
                "num_splits",
                "split needs num_splits or split_sizes",
            ));
        }
        (Some(n), false) => {
            if n < 1 {
                return Err(Problem::invalid(
                    "num_splits",
                    format!("num_splits must be positive, not {n}"),
                ));
            }
            if n as u64 > MAX_PARTS {
                return Err(Problem::invalid(
                    "num_splits",
                    format!("num_splits is {n}; split makes at most {MAX_PARTS} parts"),
                ));
            }
            if let Some(d) = known(x[a])
                && d % n != 0
            {
                return Err(Problem::invalid(
                    "num_splits",
                    format!(
                        "dimension {a} of x {} does not split into {n} equal parts",
                        show(x)
                    ),
                ));
            }
            vec![super::shape::map(x[a], |d| d / n); n as usize]
        }
        (_, true) => match cx.sym_ints("split_sizes") {
            Ok(sizes) => {
                if count.is_some_and(|n| n as usize != sizes.len()) {
                    return Err(Problem::invalid(
                        "num_splits",
                        format!(
                            "num_splits is {} but split_sizes has {}",
                            count.unwrap_or(0),
                            crate::diagnostic::count(sizes.len(), "value")
                        ),
                    ));
                }
                let total = sizes
                    .iter()
                    .try_fold(0i64, |acc, s| s.and_then(|s| acc.checked_add(s)));
                if let (Some(total), Some(d)) = (total, known(x[a]))
                    && total != d
                {
                    return Err(Problem::invalid(
                        "split_sizes",
                        format!(
                            "split_sizes add up to {total}, not to dimension {a} of x {}",
                            show(x)
                        ),
                    ));
                }
                sizes.iter().map(|s| s.map_or(Dim::Unknown, dim)).collect()
            }
            Err(Problem::Unknown) => {
                let n = count.or_else(|| match cx.shape("split_sizes") {
                    Ok([Dim::Known(n)]) => Some(*n as i64),
                    _ => None,
                });
                let n = n.ok_or(Problem::Unknown)?;
                if n as u64 > MAX_PARTS {
                    return Err(Problem::invalid(
                        "split_sizes",
                        format!("split_sizes has {n} parts; split makes at most {MAX_PARTS}"),
                    ));
                }
                vec![Dim::Unknown; n as usize]
            }
            Err(e) => return Err(e),
        },
    };
    Ok(sizes
        .into_iter()
        .map(|s| {
            let mut shape = x.to_vec();
            shape[a] = s;
            tensor(dtype, shape)
        })
        .collect())
}
