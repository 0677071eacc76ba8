//! The integer semantics shared by constant folding ([`crate::infer`]) and the interpreter
//! (`mil-eval`), so that a shape computation folds to exactly what running it gives: arithmetic
//! (`floor_div` and `mod` as numpy's, towards minus infinity), index wrapping (`gather`) and the
//! bounds of one axis of `slice_by_index` (numpy's slice rules). Folding applies them element by
//! element to values that may be partially unknown (a `?` dim); the interpreter to whole tensors.

/// `x <kind> y` for the integer arithmetic ops `add`, `sub`, `mul`, `floor_div`, `mod`, `maximum`
/// and `minimum`; `None` for another kind, a division by zero or an `i64` overflow.
pub fn int_binary(kind: &str, x: i64, y: i64) -> Option<i64> {
    match kind {
        "add" => x.checked_add(y),
        "sub" => x.checked_sub(y),
        "mul" => x.checked_mul(y),
        "floor_div" => floor_div(x, y),
        "mod" => x.checked_sub(y.checked_mul(floor_div(x, y)?)?),
        "maximum" => Some(x.max(y)),
        "minimum" => Some(x.min(y)),
        _ => None,
    }
}

/// `x / y` rounded towards minus infinity; `None` for a zero `y` or `i64::MIN / -1`.
fn floor_div(x: i64, y: i64) -> Option<i64> {
    let q = x.checked_div_euclid(y)?;
    q.checked_sub(i64::from(y < 0 && x.rem_euclid(y) != 0))
}

/// Index `i` of an axis of length `len`, negative counting from the end; `None` when out of range.
pub fn wrap_index(i: i64, len: usize) -> Option<usize> {
    let j = if i < 0 {
        i.checked_add(i64::try_from(len).ok()?)?
    } else {
        i
    };
    usize::try_from(j).ok().filter(|&j| j < len)
}

/// What `slice_by_index` asks of one axis: `begin`, `end` and `stride` (negative indices count
/// from the end) and the axis's `begin_mask`, `end_mask` and `squeeze_mask`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceSpec {
    /// The first index (ignored under `begin_mask`).
    pub begin: i64,
    /// The end, exclusive (ignored under `end_mask`).
    pub end: i64,
    /// The step; never 0.
    pub stride: i64,
    /// Start at the axis's first element (its last for a negative stride).
    pub begin_mask: bool,
    /// Run to the axis's end (its start for a negative stride).
    pub end_mask: bool,
    /// Take the one element at `begin` (the first under `begin_mask`, whatever the stride) and drop
    /// the axis.
    pub squeeze: bool,
}

/// The elements one axis of length `len` gives under `spec`: the first index and how many, each
/// `spec.stride` after the previous (numpy's rules: bounds clamped to the axis), as coremltools'
/// `solve_slice_by_index_slice` asks numpy. `None` for a zero stride, or a squeezed axis whose
/// `begin` is past its end.
pub fn slice_axis(len: usize, spec: SliceSpec) -> Option<(usize, usize)> {
    let d = i64::try_from(len).ok()?;
    let s = spec.stride;
    if s == 0 {
        return None;
    }
    let wrap = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
    if spec.squeeze {
        // coremltools' `x[begin::INT32_MAX]`: the element at `begin` (0 under `begin_mask`).
        let at = if spec.begin_mask {
            0
        } else {
            wrap(spec.begin).max(0)
        };
        return (at < d).then_some((usize::try_from(at).ok()?, 1));
    }
    let (lo, hi) = if s > 0 { (0, d) } else { (-1, d - 1) };
    let start = if spec.begin_mask {
        if s > 0 { lo } else { hi }
    } else {
        wrap(spec.begin).clamp(lo, hi)
    };
    let stop = if spec.end_mask {
        if s > 0 { hi } else { lo }
    } else {
        wrap(spec.end).clamp(lo, hi)
    };
    // The span is at most 2^63 and the step at least 1, so neither sum overflows.
    let (span, step) = if s > 0 {
        (stop - start, s)
    } else {
        (start - stop, s.checked_neg()?)
    };
    let count = if span <= 0 { 0 } else { (span - 1) / step + 1 };
    // A non-empty slice starts inside the axis; an empty one may start at -1 (negative stride).
    Some((usize::try_from(start.max(0)).ok()?, usize::try_from(count).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(begin: i64, end: i64, stride: i64) -> SliceSpec {
        SliceSpec {
            begin,
            end,
            stride,
            begin_mask: false,
            end_mask: false,
            squeeze: false,
        }
    }

    #[test]
    fn integer_division_floors_like_numpy() {
        // numpy: np.floor_divide([7, -7, 7, -7], [2, 2, -2, -2]) and np.mod of the same.
        let pairs = [(7, 2), (-7, 2), (7, -2), (-7, -2)];
        let div: Vec<_> = pairs
            .iter()
            .map(|&(a, b)| int_binary("floor_div", a, b))
            .collect();
        let rem: Vec<_> = pairs.iter().map(|&(a, b)| int_binary("mod", a, b)).collect();
        assert_eq!(div, [Some(3), Some(-4), Some(-4), Some(3)]);
        assert_eq!(rem, [Some(1), Some(1), Some(-1), Some(-1)]);
        assert_eq!(int_binary("floor_div", 1, 0), None);
        assert_eq!(int_binary("add", i64::MAX, 1), None);
        assert_eq!(int_binary("pow", 2, 2), None);
    }

    #[test]
    fn indices_wrap_from_the_end() {
        assert_eq!(wrap_index(-1, 3), Some(2));
        assert_eq!(wrap_index(2, 3), Some(2));
        assert_eq!(wrap_index(3, 3), None);
        assert_eq!(wrap_index(-4, 3), None);
    }

    #[test]
    fn slices_follow_python() {
        // Python: list(range(5))[1:4:2], [::-1], [-2:], [4:1:-2], [3:1], [10:]
        assert_eq!(slice_axis(5, spec(1, 4, 2)), Some((1, 2)));
        let reverse = SliceSpec {
            begin_mask: true,
            end_mask: true,
            ..spec(0, 0, -1)
        };
        assert_eq!(slice_axis(5, reverse), Some((4, 5)));
        assert_eq!(slice_axis(5, spec(-2, 5, 1)), Some((3, 2)));
        assert_eq!(slice_axis(5, spec(4, 1, -2)), Some((4, 2)));
        assert_eq!(slice_axis(5, spec(3, 1, 1)), Some((3, 0)));
        assert_eq!(slice_axis(5, spec(10, 20, 1)), Some((5, 0)));
        assert_eq!(slice_axis(5, spec(0, 5, 0)), None);
        let squeeze = SliceSpec {
            squeeze: true,
            ..spec(-1, 0, 1)
        };
        assert_eq!(slice_axis(5, squeeze), Some((4, 1)));
        assert_eq!(slice_axis(5, SliceSpec { begin: 5, ..squeeze }), None);
    }
}
