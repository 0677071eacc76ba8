//! Ops whose result has the shape of their input or of their broadcast inputs: unary math,
//! activations, normalisations, binary arithmetic and comparisons, `select` and `cast`.

use super::context::Ctx;
use super::shape::{axis, broadcast, may_equal, show};
use super::{Inferred, Problem, tensor};
use crate::types::DType;

/// The type of `x`, checking the axis inputs some of these ops have.
pub(crate) fn same_as_x(cx: &Ctx) -> Inferred {
    let ty = cx.ty("x")?;
    if let Ok(shape) = cx.shape("x") {
        check_axes(cx, shape.len())?;
    }
    if cx.op.kind == "clip" && cx.opset >= crate::catalogue::Opset::Ios17 {
        let (alpha, beta) = (cx.float_or("alpha", 0.0)?, cx.float_or("beta", 0.0)?);
        if alpha >= beta {
            return Err(Problem::invalid(
                "beta",
                format!("beta ({beta}) must be greater than alpha ({alpha})"),
            ));
        }
    }
    Ok(vec![ty.clone()])
}

/// Checks that the `axis` or `axes` input of ops that take one (softmax, cumsum, reverse) is in range.
fn check_axes(cx: &Ctx, rank: usize) -> Result<(), Problem> {
    match cx.op.kind.as_str() {
        "softmax" | "cumsum" if cx.has("axis") => {
            axis(cx.int("axis")?, rank, "axis")?;
        }
        "reverse" if cx.has("axes") => {
            for a in cx.ints("axes")? {
                axis(a, rank, "axes")?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `gelu`: the type of `x`; `mode` must be one of the three approximations.
pub(crate) fn gelu(cx: &Ctx) -> Inferred {
    let mode = cx.string_or("mode", "EXACT")?;
    if !matches!(
        mode.as_str(),
        "EXACT" | "TANH_APPROXIMATION" | "SIGMOID_APPROXIMATION"
    ) {
        return Err(Problem::invalid(
            "mode",
            format!("unknown gelu mode \"{mode}\" (EXACT, TANH_APPROXIMATION or SIGMOID_APPROXIMATION)"),
        ));
    }
    Ok(vec![cx.ty("x")?.clone()])
}

/// Checks that `x` has a rank in `ranks` and that `input` is a vector with one value per channel.
fn per_channel(cx: &Ctx, ranks: std::ops::RangeInclusive<usize>, input: &str) -> Result<(), Problem> {
    let x = cx.shape("x")?;
    if !ranks.contains(&x.len()) {
        return Err(Problem::incompatible(
            "x",
            format!(
                "{} needs x of rank {} to {}, not {}",
                cx.op.kind,
                ranks.start(),
                ranks.end(),
                x.len()
            ),
        ));
    }
    let p = cx.shape(input)?;
    if p.len() != 1 || !may_equal(p[0], x[1]) {
        return Err(Problem::incompatible(
            input,
            format!(
                "{input} must have shape [{}] (the channels of x), not {}",
                x[1],
                show(p)
            ),
        ));
    }
    Ok(())
}

/// `prelu`: x of rank 3 to 5 and one alpha per channel.
pub(crate) fn prelu(cx: &Ctx) -> Inferred {
    per_channel(cx, 3..=5, "alpha")?;
    Ok(vec![cx.ty("x")?.clone()])
}

/// `softplus_parametric`: x of rank 3 or more, one alpha and one beta per channel.
pub(crate) fn softplus_parametric(cx: &Ctx) -> Inferred {
    per_channel(cx, 3..=usize::MAX, "alpha")?;
    per_channel(cx, 3..=usize::MAX, "beta")?;
    Ok(vec![cx.ty("x")?.clone()])
}

/// `l2_norm`: x of rank 3 or more.
pub(crate) fn l2_norm(cx: &Ctx) -> Inferred {
    let rank = cx.shape("x")?.len();
    if rank < 3 {
        return Err(Problem::incompatible(
            "x",
            format!("l2_norm needs x of rank 3 or more, not {rank}"),
        ));
    }
    Ok(vec![cx.ty("x")?.clone()])
}

/// `layer_norm`: the type of `x`; every axis in range.
pub(crate) fn layer_norm(cx: &Ctx) -> Inferred {
    let rank = cx.shape("x")?.len();
    if cx.has("axes") {
        for a in cx.ints("axes")? {
            axis(a, rank, "axes")?;
        }
    }
    Ok(vec![cx.ty("x")?.clone()])
}

/// Binary arithmetic: `x` and `y` broadcast; the dtype is theirs.
pub(crate) fn arithmetic(cx: &Ctx) -> Inferred {
    let dtype = common_dtype(cx, "x", "y")?;
    Ok(vec![tensor(
        dtype,
        broadcast(cx.shape("x")?, cx.shape("y")?, "y")?,
    )])
}

/// Comparisons and logical ops: `x` and `y` broadcast into a bool tensor.
pub(crate) fn comparison(cx: &Ctx) -> Inferred {
    common_dtype(cx, "x", "y")?;
    Ok(vec![tensor(
        DType::Bool,
        broadcast(cx.shape("x")?, cx.shape("y")?, "y")?,
    )])
}

/// `select`: `a` and `b` broadcast (coremltools does not widen the result by `cond`).
pub(crate) fn select(cx: &Ctx) -> Inferred {
    let dtype = common_dtype(cx, "a", "b")?;
    Ok(vec![tensor(
        dtype,
        broadcast(cx.shape("a")?, cx.shape("b")?, "b")?,
    )])
}

/// The dtype two inputs share; unknown when they differ (the type-variable check reports that).
fn common_dtype(cx: &Ctx, x: &str, y: &str) -> Result<DType, Problem> {
    let (a, b) = (cx.dtype(x)?, cx.dtype(y)?);
    if a == b { Ok(a) } else { Err(Problem::Unknown) }
}

/// `cast`: the shape of `x` with the dtype named by `dtype`, one of the op's own dtypes.
pub(crate) fn cast(cx: &Ctx) -> Inferred {
    let name = cx.string_or("dtype", "")?;
    let allowed = cx.version.type_domain("T").unwrap_or_default();
    let dtype = DType::from_name(&name)
        .filter(|d| allowed.contains(d))
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|d| d.name()).collect();
            Problem::invalid(
                "dtype",
                format!("cast cannot make \"{name}\" here (it makes {})", names.join(", ")),
            )
        })?;
    Ok(vec![tensor(dtype, cx.shape("x")?.to_vec())])
}
