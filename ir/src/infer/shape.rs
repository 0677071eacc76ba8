//! Arithmetic on dimensions that may be `?`, and the shape rules many ops share: broadcasting and
//! axis normalisation.

use super::Problem;
use crate::types::Dim;

/// A known dimension as a signed number (so that differences may be checked for sign).
pub(crate) fn known(d: Dim) -> Option<i64> {
    match d {
        Dim::Known(n) => i64::try_from(n).ok(),
        Dim::Unknown => None,
    }
}

/// The dimension `n`; `?` when negative, which only a wrong input produces and which the caller
/// reports when it can.
pub(crate) fn dim(n: i64) -> Dim {
    u64::try_from(n).map_or(Dim::Unknown, Dim::Known)
}

/// A size in the middle of dimension arithmetic: a number, or nothing once a step overflowed
/// (a declared shape or a constant can be any `i64`, so `d * f * f` may not fit). Every operator
/// is checked; an overflowed size becomes the dimension `?`, never a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Size(Option<i64>);

impl Size {
    /// The number, if no step overflowed.
    pub(crate) fn get(self) -> Option<i64> {
        self.0
    }

    /// Euclidean division (`div_euclid`); nothing when `by` is 0 or the quotient overflows.
    pub(crate) fn div_euclid(self, by: i64) -> Size {
        Size(self.0.and_then(|a| a.checked_div_euclid(by)))
    }

    /// The larger of the size and `floor`.
    pub(crate) fn max(self, floor: i64) -> Size {
        Size(self.0.map(|a| a.max(floor)))
    }

    /// The size times `factor`, rounded down; nothing when that is not a finite `i64`.
    pub(crate) fn scaled_down(self, factor: f64) -> Size {
        Size(self.0.and_then(|a| {
            let v = (factor * a as f64).floor();
            // `i64::MAX as f64` rounds up to 2^63, which is out of range.
            (v.is_finite() && v >= i64::MIN as f64 && v < i64::MAX as f64).then_some(v as i64)
        }))
    }
}

impl From<i64> for Size {
    fn from(n: i64) -> Size {
        Size(Some(n))
    }
}

/// Checked `Size op Size`, `Size op i64` and `i64 op Size` for one operator.
macro_rules! checked_op {
    ($trait:ident, $method:ident, $checked:ident) => {
        impl std::ops::$trait<Size> for Size {
            type Output = Size;
            fn $method(self, rhs: Size) -> Size {
                Size(self.0.zip(rhs.0).and_then(|(a, b)| a.$checked(b)))
            }
        }
        impl std::ops::$trait<i64> for Size {
            type Output = Size;
            fn $method(self, rhs: i64) -> Size {
                self.$method(Size::from(rhs))
            }
        }
        impl std::ops::$trait<Size> for i64 {
            type Output = Size;
            fn $method(self, rhs: Size) -> Size {
                Size::from(self).$method(rhs)
            }
        }
    };
}

checked_op!(Add, add, checked_add);
checked_op!(Sub, sub, checked_sub);
checked_op!(Mul, mul, checked_mul);
checked_op!(Div, div, checked_div);
checked_op!(Rem, rem, checked_rem);

/// The dimension a size gives: `?` when it overflowed or is negative.
pub(crate) fn dim_of(size: Size) -> Dim {
    size.get().map_or(Dim::Unknown, dim)
}

/// Applies `f` to two dimensions, `?` when either is or when the arithmetic overflows.
pub(crate) fn combine(a: Dim, b: Dim, f: impl Fn(Size, Size) -> Size) -> Dim {
    match (known(a), known(b)) {
        (Some(a), Some(b)) => dim_of(f(a.into(), b.into())),
        _ => Dim::Unknown,
    }
}

/// Applies `f` to a dimension; `?` stays `?`, and so does arithmetic that overflows.
pub(crate) fn map(a: Dim, f: impl Fn(Size) -> Size) -> Dim {
    known(a).map_or(Dim::Unknown, |a| dim_of(f(a.into())))
}

/// The product of some dimensions, `?` when any is or when it overflows.
pub(crate) fn product(dims: &[Dim]) -> Dim {
    dims.iter()
        .fold(Dim::Known(1), |acc, &d| combine(acc, d, |a, b| a * b))
}

/// Turns a possibly negative `axis` of a tensor of rank `rank` into an index, or says why not.
/// `input` names the input holding the axis, for the diagnostic.
pub(crate) fn axis(axis: i64, rank: usize, input: &str) -> Result<usize, Problem> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        return Err(Problem::invalid(
            input,
            format!("axis {axis} is out of range for a tensor of rank {rank}"),
        ));
    }
    Ok(if axis < 0 { axis + r } else { axis } as usize)
}

/// Broadcasts two shapes numpy-style, aligning them at the right. A `?` against a known size > 1
/// takes that size; a `?` against a `?` stays `?`.
pub(crate) fn broadcast(x: &[Dim], y: &[Dim], input: &str) -> Result<Vec<Dim>, Problem> {
    let rank = x.len().max(y.len());
    let at = |s: &[Dim], i: usize| (i + s.len()).checked_sub(rank).map_or(Dim::Known(1), |j| s[j]);
    (0..rank)
        .map(|i| {
            let (a, b) = (at(x, i), at(y, i));
            match (a, b) {
                _ if a == b => Ok(a),
                (Dim::Known(1), _) => Ok(b),
                (_, Dim::Known(1)) => Ok(a),
                (Dim::Known(_), Dim::Known(_)) => Err(Problem::incompatible(
                    input,
                    format!(
                        "shapes {} and {} do not broadcast: {a} against {b}",
                        show(x),
                        show(y)
                    ),
                )),
                (Dim::Known(_), Dim::Unknown) => Ok(a),
                (Dim::Unknown, _) => Ok(b),
            }
        })
        .collect()
}

/// `[d0, d1, ...]` as MIL text writes a shape.
pub(crate) fn show(shape: &[Dim]) -> String {
    let dims: Vec<String> = shape.iter().map(Dim::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// Whether two dims may be the same size (either is `?`, or they are equal).
pub(crate) fn may_equal(a: Dim, b: Dim) -> bool {
    a == b || a == Dim::Unknown || b == Dim::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dim::{Known as K, Unknown as U};

    #[test]
    fn broadcasting_aligns_right_and_keeps_unknowns() {
        assert_eq!(
            broadcast(&[K(2), K(1), K(3)], &[K(4), K(1)], "y"),
            Ok(vec![K(2), K(4), K(3)])
        );
        assert_eq!(broadcast(&[U, K(3)], &[K(5), K(1)], "y"), Ok(vec![K(5), K(3)]));
        assert_eq!(broadcast(&[U], &[U], "y"), Ok(vec![U]));
        assert_eq!(broadcast(&[], &[K(2)], "y"), Ok(vec![K(2)]));
        assert!(broadcast(&[K(2)], &[K(3)], "y").is_err());
    }

    #[test]
    fn axes_count_from_either_end() {
        assert_eq!(axis(-1, 3, "axis"), Ok(2));
        assert_eq!(axis(0, 3, "axis"), Ok(0));
        assert!(axis(3, 3, "axis").is_err());
        assert!(axis(-4, 3, "axis").is_err());
    }

    #[test]
    fn arithmetic_that_overflows_gives_an_unknown_dim() {
        let huge = K(i64::MAX as u64);
        assert_eq!(product(&[huge, K(2)]), U);
        assert_eq!(product(&[K(1 << 40), K(1 << 40)]), U);
        assert_eq!(product(&[K(3), K(4)]), K(12));
        assert_eq!(map(huge, |d| d + 1), U);
        assert_eq!(map(K(7), |d| (d - 1).div_euclid(0)), U);
        assert_eq!(map(K(7), |d| d.scaled_down(1e300)), U);
        assert_eq!(map(K(7), |d| d.scaled_down(1.5)), K(10));
        assert_eq!(combine(K(u64::MAX), K(1), |a, b| a * b), U);
        assert_eq!(map(K(5), |d| i64::MIN / (d - 6)), U);
    }
}
