//! Slicing: `slice_by_index` with its begin, end and squeeze masks, `slice_by_size`, and
//! `slice_update`, which writes into the slice `slice_by_index` would read.

use super::context::Ctx;
use super::shape::{Size, dim, dim_of, known, may_equal, show};
use super::{Inferred, Problem, tensor};
use crate::diagnostic::count;
use crate::types::Dim;

/// The bounds of a `slice_by_index` for each dim of x.
struct Bounds {
    begin: Vec<Option<i64>>,
    end: Vec<Option<i64>>,
    stride: Vec<i64>,
    begin_mask: Vec<bool>,
    end_mask: Vec<bool>,
    squeeze_mask: Vec<bool>,
}

impl Bounds {
    /// Reads the bounds for an x of rank `rank`; begin and end may be run-time values.
    fn read(cx: &Ctx, rank: usize) -> Result<Bounds, Problem> {
        let whole = |key: &str| -> Result<Vec<Option<i64>>, Problem> {
            match cx.ints(key) {
                Ok(v) => Ok(v.into_iter().map(Some).collect()),
                Err(Problem::Unknown) => match cx.shape(key)? {
                    [Dim::Known(n)] if *n == rank as u64 => Ok(vec![None; rank]),
                    [Dim::Known(n)] => Err(Problem::invalid(
                        key,
                        format!("{key} has {} but x has rank {rank}", count(*n as usize, "value")),
                    )),
                    _ => Err(Problem::Unknown),
                },
                Err(e) => Err(e),
            }
        };
        let mask = |key: &str| -> Result<Vec<bool>, Problem> {
            Ok(cx.bools(key)?.unwrap_or_else(|| vec![false; rank]))
        };
        let b = Bounds {
            begin: whole("begin")?,
            end: whole("end")?,
            stride: cx.ints_or("stride", || vec![1; rank])?,
            begin_mask: mask("begin_mask")?,
            end_mask: mask("end_mask")?,
            squeeze_mask: mask("squeeze_mask")?,
        };
        for (key, len) in [
            ("begin", b.begin.len()),
            ("end", b.end.len()),
            ("stride", b.stride.len()),
            ("begin_mask", b.begin_mask.len()),
            ("end_mask", b.end_mask.len()),
            ("squeeze_mask", b.squeeze_mask.len()),
        ] {
            if len != rank {
                return Err(Problem::invalid(
                    key,
                    format!("{key} has {} but x has rank {rank}", count(len, "value")),
                ));
            }
        }
        if b.stride.contains(&0) {
            return Err(Problem::invalid("stride", "a stride must not be 0"));
        }
        if b.stride.contains(&i64::MIN) {
            return Err(Problem::invalid(
                "stride",
                "a stride must be at least -(2^63 - 1)",
            ));
        }
        Ok(b)
    }

    /// The size of dim `i` (of size `x`) after slicing, or `None` when it is squeezed away.
    fn size(&self, i: usize, x: Dim) -> Result<Option<Dim>, Problem> {
        if self.squeeze_mask[i] {
            return Ok(None);
        }
        let (s, bm, em) = (self.stride[i], self.begin_mask[i], self.end_mask[i]);
        let (b, e) = (self.begin[i], self.end[i]);
        if bm && em {
            return Ok(Some(if s.abs() == 1 { x } else { ceil_div(x, s.abs()) }));
        }
        if !bm
            && !em
            && let (Some(b), Some(e)) = (b, e)
        {
            let mut n = None;
            if b >= 0 && e >= 0 && s > 0 {
                if e < b {
                    return Err(Problem::invalid(
                        "end",
                        format!("dimension {i} ends ({e}) before it begins ({b})"),
                    ));
                }
                n = (Size::from(e) - b + s - 1).div_euclid(s).max(0).get();
            }
            if b < 0 && e < 0 && s < 0 {
                if b < e {
                    return Err(Problem::invalid(
                        "end",
                        format!("dimension {i} ends ({e}) before it begins ({b})"),
                    ));
                }
                n = (0 - (Size::from(b) - e - s - 1)).div_euclid(s).max(0).get();
            }
            if let Some(n @ (0 | 1)) = n {
                return Ok(Some(dim(n)));
            }
        }
        if !bm && em && matches!((b, s > 0), (Some(0), false) | (Some(-1), true)) {
            return Ok(Some(Dim::Known(1)));
        }
        let Some(x) = known(x) else {
            return Ok(Some(Dim::Unknown));
        };
        if x == 1 {
            return Ok(Some(Dim::Known(1)));
        }
        let (Some(b), Some(e)) = (b.or(bm.then_some(0)), e.or(em.then_some(0))) else {
            return Ok(Some(Dim::Unknown));
        };
        let wrap = |v: i64| if v < 0 { (v + x).max(0) } else { v };
        let (b, e) = (wrap(b), wrap(e));
        let (low, high) = if s > 0 { (0, x) } else { (-1, x - 1) };
        let (mut from, to, from_mask, to_mask) = if s > 0 { (b, e, bm, em) } else { (e, b, em, bm) };
        if from_mask {
            from = low;
        }
        let to = if to_mask { high } else { to.min(high) };
        Ok(Some(dim_of(ceil_div_i(Size::from(to) - from, s.abs()).max(0))))
    }
}

/// `ceil(a / b)` for a positive `b`.
fn ceil_div_i(a: Size, b: i64) -> Size {
    (a + b - 1).div_euclid(b)
}

/// `ceil(x / b)` of a dim.
fn ceil_div(x: Dim, b: i64) -> Dim {
    super::shape::map(x, |x| ceil_div_i(x, b))
}

/// The shape `slice_by_index` reads from x.
fn sliced(cx: &Ctx, x: &[Dim]) -> Result<Vec<Dim>, Problem> {
    let bounds = Bounds::read(cx, x.len())?;
    let mut out = Vec::with_capacity(x.len());
    for (i, &d) in x.iter().enumerate() {
        out.extend(bounds.size(i, d)?);
    }
    Ok(out)
}

/// `slice_by_index`.
pub(crate) fn slice_by_index(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    Ok(vec![tensor(dtype, sliced(cx, x)?)])
}

/// `slice_update`: the type of x, once `update` is checked against the slice.
pub(crate) fn slice_update(cx: &Ctx) -> Inferred {
    let (_, x) = cx.tensor("x")?;
    let slice = sliced(cx, x)?;
    if let Ok(update) = cx.shape("update")
        && (update.len() != slice.len() || !update.iter().zip(&slice).all(|(&a, &b)| may_equal(a, b)))
    {
        return Err(Problem::incompatible(
            "update",
            format!(
                "update {} does not have the shape of the slice {}",
                show(update),
                show(&slice)
            ),
        ));
    }
    Ok(vec![cx.ty("x")?.clone()])
}

/// `slice_by_size`: `size`, with each -1 meaning "to the end".
pub(crate) fn slice_by_size(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    for key in ["begin", "size"] {
        if let Ok(s) = cx.shape(key)
            && (s.len() != 1 || !may_equal(s[0], dim(x.len() as i64)))
        {
            return Err(Problem::invalid(
                key,
                format!("{key} needs one value per dimension of x ({})", x.len()),
            ));
        }
    }
    let Ok(size) = cx.sym_ints("size") else {
        return Ok(vec![tensor(dtype, vec![Dim::Unknown; x.len()])]);
    };
    let begin = cx.sym_ints("begin").ok();
    let out = size
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Some(-1) => match begin.as_ref().and_then(|b| b[i]) {
                Some(b) => super::shape::map(x[i], |d| d - b),
                None => Dim::Unknown,
            },
            Some(s) => dim(*s),
            None => Dim::Unknown,
        })
        .collect();
    Ok(vec![tensor(dtype, out)])
}
