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

/// Applies `f` to two dimensions, `?` when either is.
pub(crate) fn combine(a: Dim, b: Dim, f: impl Fn(i64, i64) -> i64) -> Dim {
    match (known(a), known(b)) {
        (Some(a), Some(b)) => dim(f(a, b)),
        _ => Dim::Unknown,
    }
}

/// Applies `f` to a dimension, `?` stays `?`.
pub(crate) fn map(a: Dim, f: impl Fn(i64) -> i64) -> Dim {
    known(a).map_or(Dim::Unknown, |a| dim(f(a)))
}

/// The product of some dimensions, `?` when any is.
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
}
