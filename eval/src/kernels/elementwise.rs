//! Elementwise ops: unary math, binary arithmetic and comparisons with numpy broadcasting, and
//! `select`. Floats are computed in `f32` and rounded to the result's dtype; integers exactly in
//! `i64`.

use super::Kernel;
use crate::bail;
use crate::cx::Cx;
use crate::error::Result;
use crate::tensor::{Tensor, broadcast_index, broadcast_shapes, numel};
use mil_ir::DType;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[
    ("abs", unary),
    ("acos", unary),
    ("asin", unary),
    ("atan", unary),
    ("atanh", unary),
    ("ceil", unary),
    ("clip", unary),
    ("cos", unary),
    ("cosh", unary),
    ("erf", unary),
    ("exp", unary),
    ("exp2", unary),
    ("floor", unary),
    ("inverse", unary),
    ("log", unary),
    ("round", unary),
    ("rsqrt", unary),
    ("sign", unary),
    ("sin", unary),
    ("sinh", unary),
    ("sqrt", unary),
    ("square", unary),
    ("tan", unary),
    ("tanh", unary),
    ("threshold", unary),
    ("logical_not", logical_not),
    ("add", binary),
    ("sub", binary),
    ("mul", binary),
    ("real_div", binary),
    ("floor_div", binary),
    ("mod", binary),
    ("pow", binary),
    ("maximum", binary),
    ("minimum", binary),
    ("equal", compare),
    ("not_equal", compare),
    ("less", compare),
    ("less_equal", compare),
    ("greater", compare),
    ("greater_equal", compare),
    ("logical_and", logical),
    ("logical_or", logical),
    ("logical_xor", logical),
    ("select", select),
];

/// The error function, to about 1e-7 relative error (the Chebyshev fit of erfc in Numerical
/// Recipes, 3rd ed., §6.2, evaluated in `f64`).
pub fn erf(x: f32) -> f32 {
    let x = x as f64;
    let z = x.abs();
    let t = 2.0 / (2.0 + z);
    let ty = 4.0 * t - 2.0;
    const COF: [f64; 28] = [
        -1.3026537197817094,
        6.419_697_923_564_902e-1,
        1.9476473204185836e-2,
        -9.561_514_786_808_63e-3,
        -9.46595344482036e-4,
        3.66839497852761e-4,
        4.2523324806907e-5,
        -2.0278578112534e-5,
        -1.624290004647e-6,
        1.303655835580e-6,
        1.5626441722e-8,
        -8.5238095915e-8,
        6.529054439e-9,
        5.059343495e-9,
        -9.91364156e-10,
        -2.27365122e-10,
        9.6467911e-11,
        2.394038e-12,
        -6.886027e-12,
        8.94487e-13,
        3.13092e-13,
        -1.12708e-13,
        3.81e-16,
        7.106e-15,
        -1.523e-15,
        -9.4e-17,
        1.21e-16,
        -2.8e-17,
    ];
    let (mut d, mut dd) = (0.0f64, 0.0f64);
    for &c in COF[1..].iter().rev() {
        let tmp = d;
        d = ty * d - dd + c;
        dd = tmp;
    }
    let erfc = t * (-z * z + 0.5 * (COF[0] + ty * d) - dd).exp();
    (if x >= 0.0 { 1.0 - erfc } else { erfc - 1.0 }) as f32
}

/// Applies `f` to every element of `x` in `f32`, giving a tensor of `dtype`.
pub fn map_f32(x: &Tensor, dtype: DType, f: impl Fn(f32) -> f32 + Sync) -> Result<Tensor> {
    let v: Vec<f32> = x.to_f32()?.into_iter().map(f).collect();
    Ok(Tensor::from_f32(dtype, x.shape.clone(), v))
}

fn unary(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let kind = cx.op.kind.as_str();
    if !x.is_float() && matches!(kind, "abs" | "sign" | "square" | "clip" | "threshold") {
        let v = x.to_i64()?;
        let out: Vec<i64> = match kind {
            "abs" => v.iter().map(|a| a.abs()).collect(),
            "sign" => v.iter().map(|a| a.signum()).collect(),
            "square" => v.iter().map(|a| a.wrapping_mul(*a)).collect(),
            "threshold" => {
                let alpha = cx.float("alpha")? as i64;
                v.iter().map(|&a| a.max(alpha)).collect()
            }
            _ => {
                let (lo, hi) = (cx.float("alpha")? as i64, cx.float("beta")? as i64);
                v.iter().map(|&a| a.max(lo).min(hi)).collect()
            }
        };
        return Ok(vec![Tensor::from_i64(x.dtype, x.shape.clone(), out)]);
    }
    let dtype = cx.out_dtype(0, x.dtype);
    // coremltools' defaults (`default_inputs` of iOS15 inverse, log and rsqrt).
    let eps = || {
        let default = match kind {
            "inverse" => 1e-4,
            "log" => 1e-45,
            _ => 1e-12,
        };
        cx.float_or("epsilon", default)
    };
    let out = match kind {
        "abs" => map_f32(&x, dtype, f32::abs),
        "acos" => map_f32(&x, dtype, f32::acos),
        "asin" => map_f32(&x, dtype, f32::asin),
        "atan" => map_f32(&x, dtype, f32::atan),
        // Rust's `f32::atanh` (a `ln_1p` of 2x/(1−x)) is 0.4% off at x = −0.999999; in f64 it is accurate to fp32.
        "atanh" => map_f32(&x, dtype, |v| f64::from(v).atanh() as f32),
        "ceil" => map_f32(&x, dtype, f32::ceil),
        "cos" => map_f32(&x, dtype, f32::cos),
        "cosh" => map_f32(&x, dtype, f32::cosh),
        "erf" => map_f32(&x, dtype, erf),
        "exp" => map_f32(&x, dtype, f32::exp),
        "exp2" => map_f32(&x, dtype, f32::exp2),
        "floor" => map_f32(&x, dtype, f32::floor),
        "round" => map_f32(&x, dtype, f32::round_ties_even),
        "sign" => map_f32(&x, dtype, |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        }),
        "sin" => map_f32(&x, dtype, f32::sin),
        "sinh" => map_f32(&x, dtype, f32::sinh),
        "sqrt" => map_f32(&x, dtype, f32::sqrt),
        "square" => map_f32(&x, dtype, |v| v * v),
        "tan" => map_f32(&x, dtype, f32::tan),
        "tanh" => map_f32(&x, dtype, f32::tanh),
        "inverse" => {
            let e = eps()?;
            map_f32(&x, dtype, |v| 1.0 / (v + e))
        }
        "log" => {
            let e = eps()?;
            map_f32(&x, dtype, |v| (v + e).ln())
        }
        "rsqrt" => {
            let e = eps()?;
            map_f32(&x, dtype, |v| 1.0 / (v + e).sqrt())
        }
        "threshold" => {
            let a = cx.float("alpha")?;
            map_f32(&x, dtype, |v| v.max(a))
        }
        "clip" => {
            let (lo, hi) = (cx.float("alpha")?, cx.float("beta")?);
            map_f32(&x, dtype, |v| v.max(lo).min(hi))
        }
        other => bail!("`{other}` is not a unary op"),
    }?;
    Ok(vec![out])
}

fn logical_not(cx: &Cx) -> Result<Vec<Tensor>> {
    let x = cx.x()?;
    let v = x.to_bool()?.into_iter().map(|b| !b).collect();
    Ok(vec![Tensor::from_bool(x.shape.clone(), v)])
}

/// The elements of `x` and `y` (read by `read`) broadcast to their common shape.
#[allow(clippy::type_complexity)]
fn broadcast_pair<T: Copy>(
    x: &Tensor,
    y: &Tensor,
    read: fn(&Tensor) -> Result<Vec<T>>,
) -> Result<(Vec<usize>, Vec<T>, Vec<T>)> {
    let shape = broadcast_shapes(&x.shape, &y.shape)?;
    let (a, b) = (read(x)?, read(y)?);
    let (ia, ib) = (
        broadcast_index(&x.shape, &shape),
        broadcast_index(&y.shape, &shape),
    );
    Ok((
        shape,
        ia.iter().map(|&i| a[i]).collect(),
        ib.iter().map(|&i| b[i]).collect(),
    ))
}

/// `x` and `y` broadcast to their common shape, as element lists of `f32`.
fn broadcast_f32(x: &Tensor, y: &Tensor) -> Result<(Vec<usize>, Vec<f32>, Vec<f32>)> {
    broadcast_pair(x, y, Tensor::to_f32)
}

/// `x` and `y` broadcast to their common shape, as element lists of `i64`.
fn broadcast_i64(x: &Tensor, y: &Tensor) -> Result<(Vec<usize>, Vec<i64>, Vec<i64>)> {
    broadcast_pair(x, y, Tensor::to_i64)
}

/// Whether a binary op on `x` and `y` is computed on integers.
fn integral(x: &Tensor, y: &Tensor) -> bool {
    !x.is_float() && !y.is_float()
}

/// The result dtype of arithmetic on `x` and `y`: the float one's if either is a float.
fn promoted(x: &Tensor, y: &Tensor) -> DType {
    if x.is_float() || !y.is_float() {
        x.dtype
    } else {
        y.dtype
    }
}

/// One binary arithmetic op in `f32`.
pub fn arith_f32(kind: &str) -> fn(f32, f32) -> f32 {
    match kind {
        "add" => |a, b| a + b,
        "sub" => |a, b| a - b,
        "mul" => |a, b| a * b,
        "real_div" => |a, b| a / b,
        "floor_div" => |a, b| (a / b).floor(),
        "mod" => |a, b| a - (a / b).floor() * b,
        "pow" => f32::powf,
        "maximum" => f32::max,
        _ => f32::min,
    }
}

/// Whether the elements of a tensor of `part` repeat, in order, every `numel(part)` elements of
/// one of `whole` (its dims, leading 1s aside, are `whole`'s innermost ones).
fn repeats_within(part: &[usize], whole: &[usize]) -> bool {
    let dims = &part[part.iter().take_while(|&&d| d == 1).count()..];
    whole.ends_with(dims)
}

/// `f` of `x` and `y` broadcast to `shape`: equal shapes, a scalar or an operand repeating along
/// the outer axes run without an index map.
fn combine_f32(x: &Tensor, y: &Tensor, shape: &[usize], f: fn(f32, f32) -> f32) -> Result<Vec<f32>> {
    let (a, b) = (x.f32s()?, y.f32s()?);
    let n = numel(shape);
    Ok(
        if a.len() == n && repeats_within(&y.shape, shape) && !b.is_empty() {
            a.chunks(b.len())
                .flat_map(|a| a.iter().zip(b.iter()).map(|(&a, &b)| f(a, b)))
                .collect()
        } else if b.len() == n && repeats_within(&x.shape, shape) && !a.is_empty() {
            b.chunks(a.len())
                .flat_map(|b| a.iter().zip(b).map(|(&a, &b)| f(a, b)))
                .collect()
        } else {
            let (ia, ib) = (broadcast_index(&x.shape, shape), broadcast_index(&y.shape, shape));
            ia.iter().zip(&ib).map(|(&i, &j)| f(a[i], b[j])).collect()
        },
    )
}

/// One binary arithmetic op on integers: `mil_ir::semantics::int_binary` (numpy's floor division
/// and modulo, as constant folding computes them) and `pow`.
fn arith_i64(kind: &str, a: i64, b: i64) -> Result<i64> {
    if kind == "pow" {
        return Ok(a.wrapping_pow(b.clamp(0, u32::MAX as i64) as u32));
    }
    match mil_ir::semantics::int_binary(kind, a, b) {
        Some(v) => Ok(v),
        None if b == 0 && matches!(kind, "floor_div" | "mod") => bail!("integer division by zero"),
        None => bail!("`{kind}` of {a} and {b} overflows"),
    }
}

fn binary(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, y) = (cx.x()?, cx.get("y")?);
    let kind = cx.op.kind.as_str();
    if integral(&x, &y) && kind != "real_div" {
        let (shape, a, b) = broadcast_i64(&x, &y)?;
        let v = a
            .iter()
            .zip(&b)
            .map(|(&a, &b)| arith_i64(kind, a, b))
            .collect::<Result<_>>()?;
        return Ok(vec![Tensor::from_i64(
            cx.out_dtype(0, promoted(&x, &y)),
            shape,
            v,
        )]);
    }
    let shape = broadcast_shapes(&x.shape, &y.shape)?;
    let v = combine_f32(&x, &y, &shape, arith_f32(kind))?;
    Ok(vec![Tensor::from_f32(
        cx.out_dtype(0, promoted(&x, &y)),
        shape,
        v,
    )])
}

fn compare(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, y) = (cx.x()?, cx.get("y")?);
    let kind = cx.op.kind.as_str();
    fn test<T: PartialOrd>(kind: &str, a: T, b: T) -> bool {
        match kind {
            "equal" => a == b,
            "not_equal" => a != b,
            "less" => a < b,
            "less_equal" => a <= b,
            "greater" => a > b,
            _ => a >= b,
        }
    }
    let (shape, v) = if integral(&x, &y) {
        let (shape, a, b) = broadcast_i64(&x, &y)?;
        (shape, a.iter().zip(&b).map(|(&a, &b)| test(kind, a, b)).collect())
    } else {
        let (shape, a, b) = broadcast_f32(&x, &y)?;
        (shape, a.iter().zip(&b).map(|(&a, &b)| test(kind, a, b)).collect())
    };
    Ok(vec![Tensor::from_bool(shape, v)])
}

fn logical(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, y) = (cx.x()?, cx.get("y")?);
    let (shape, a, b) = broadcast_i64(&x, &y)?;
    let v = a
        .iter()
        .zip(&b)
        .map(|(&a, &b)| {
            let (a, b) = (a != 0, b != 0);
            match cx.op.kind.as_str() {
                "logical_and" => a && b,
                "logical_or" => a || b,
                _ => a ^ b,
            }
        })
        .collect();
    Ok(vec![Tensor::from_bool(shape, v)])
}

fn select(cx: &Cx) -> Result<Vec<Tensor>> {
    let (c, a, b) = (cx.get("cond")?, cx.get("a")?, cx.get("b")?);
    let shape = broadcast_shapes(&broadcast_shapes(&c.shape, &a.shape)?, &b.shape)?;
    let cond = c.broadcast_to(&shape).to_bool()?;
    let (a, b) = (a.broadcast_to(&shape), b.broadcast_to(&shape).cast(a.dtype)?);
    let idx: Vec<usize> = cond
        .iter()
        .enumerate()
        .map(|(i, &t)| if t { i } else { i + cond.len() })
        .collect();
    let both = Tensor::concat_data(&[&a, &b], a.dtype, vec![2 * cond.len()])?;
    Ok(vec![both.take(&idx).reshaped(shape)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        // erf(0.5), erf(1), erf(2) to 9 digits (Abramowitz & Stegun, table 7.1).
        for (x, want) in [
            (0.5f32, 0.520499878f64),
            (1.0, 0.842700793),
            (2.0, 0.995322265),
            (-1.0, -0.842700793),
        ] {
            assert!((f64::from(erf(x)) - want).abs() < 1e-6, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn integer_division_floors_like_numpy() {
        // numpy: np.floor_divide([7, -7, 7, -7], [2, 2, -2, -2]) and np.mod of the same.
        let pairs = [(7, 2), (-7, 2), (7, -2), (-7, -2)];
        let q: Vec<i64> = pairs
            .iter()
            .map(|&(a, b)| arith_i64("floor_div", a, b).unwrap())
            .collect();
        let r: Vec<i64> = pairs
            .iter()
            .map(|&(a, b)| arith_i64("mod", a, b).unwrap())
            .collect();
        assert_eq!(q, [3, -4, -4, 3]);
        assert_eq!(r, [1, 1, -1, -1]);
        assert_eq!(arith_f32("mod")(-7.0, 2.0), 1.0);
    }
}
