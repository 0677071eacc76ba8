//! Checks of an op's declared results against what it gives: their number and their types.

use super::inputs::source_span;
use super::kind_span;
use crate::Span;
use crate::catalogue::{OpVersion, OutputCount};
use crate::diagnostic::{Diagnostic, codes};
use crate::infer::{Binding, Inferred, Problem};
use crate::program::{Function, OpId};
use crate::source_map::FunctionSpans;
use crate::types::{Dim, Type};

/// Whether a declared type admits an inferred one: the same type, where a `?` on either side
/// matches any size, a bare scalar equals a rank-0 tensor, and an unreadable type matches all.
pub fn compatible(declared: &Type, inferred: &Type) -> bool {
    let dims = |a: &[Dim], b: &[Dim]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(&x, &y)| x == y || x == Dim::Unknown || y == Dim::Unknown)
    };
    match (declared, inferred) {
        (Type::Invalid(_), _) | (_, Type::Invalid(_)) => true,
        (Type::Tensor { .. } | Type::Scalar(_), Type::Tensor { .. } | Type::Scalar(_)) => {
            declared.dtype() == inferred.dtype()
                && dims(declared.shape().unwrap_or(&[]), inferred.shape().unwrap_or(&[]))
        }
        (Type::State(a), Type::State(b)) => compatible(a, b),
        (Type::List(a, n), Type::List(b, m)) => compatible(a, b) && dims(&[*n], &[*m]),
        (Type::TensorBuffer { dtype: a, params: p }, Type::TensorBuffer { dtype: b, params: q }) => {
            a == b
                && p.iter()
                    .all(|(k, v)| q.iter().find(|(l, _)| l == k).is_none_or(|(_, w)| dims(v, w)))
        }
        (Type::Dict(k, v), Type::Dict(l, w)) => compatible(k, l) && compatible(v, w),
        (Type::Tuple(a), Type::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| compatible(x, y))
        }
        _ => declared == inferred,
    }
}

/// An inferred type spelled the way the declared one is (a bare scalar for a rank-0 tensor when
/// the program writes bare scalars), for messages.
fn spelled_like(declared: &Type, inferred: &Type) -> Type {
    match (declared, inferred) {
        (Type::Scalar(_), Type::Tensor { dtype, shape }) if shape.is_empty() => Type::Scalar(*dtype),
        _ => inferred.clone(),
    }
}

/// Reports a wrong number of results, declared types that differ from the inferred ones, and the
/// input values inference rejected. Inference problems are reported only when the inputs were
/// `clean` (otherwise they follow from a problem already reported).
#[allow(clippy::too_many_arguments)]
pub(super) fn check(
    f: &Function,
    spans: &FunctionSpans,
    id: OpId,
    version: &OpVersion,
    binding: &Binding<'_>,
    inferred: &Inferred,
    clean: bool,
    out: &mut Vec<Diagnostic>,
) {
    let op = f.op(id);
    let expected = match inferred {
        Ok(types) => Some(types.len()),
        Err(_) => match version.outputs() {
            OutputCount::Exactly(n) => Some(n),
            _ => None,
        },
    };
    if let Some(n) = expected
        && n != op.results.len()
        && (clean || matches!(version.outputs(), OutputCount::Exactly(_)))
    {
        out.push(Diagnostic::new(
            codes::OUTPUT_COUNT,
            results_span(spans, op.results.as_slice()).unwrap_or_else(|| kind_span(spans, id)),
            format!(
                "`{}` has {n} result{} here, but {} {} declared",
                version.name,
                if n == 1 { "" } else { "s" },
                op.results.len(),
                if op.results.len() == 1 { "is" } else { "are" }
            ),
        ));
        return;
    }
    if !clean {
        return;
    }
    match inferred {
        Ok(types) => {
            for (&r, ty) in op.results.iter().zip(types) {
                let declared = &f.value(r).ty;
                if compatible(declared, ty) {
                    continue;
                }
                let at = spans.values.get(r.index()).map(|s| s.ty).unwrap_or_default();
                out.push(Diagnostic::new(
                    codes::OUTPUT_TYPE,
                    at,
                    format!(
                        "`{}` is declared `{declared}` but `{}` gives `{}`",
                        f.value(r).name,
                        version.name,
                        spelled_like(declared, ty)
                    ),
                ));
            }
        }
        Err(Problem::Unknown) => {}
        Err(Problem::Invalid { input, message }) | Err(Problem::Incompatible { input, message }) => {
            let code = if matches!(inferred, Err(Problem::Invalid { .. })) {
                codes::INVALID_VALUE
            } else {
                codes::INCOMPATIBLE_SHAPES
            };
            let at = version
                .input_index(input)
                .and_then(|i| binding.inputs[i])
                .map_or_else(|| kind_span(spans, id), |s| source_span(spans, id, s, None));
            out.push(Diagnostic::new(
                code,
                at,
                format!("`{}`: {message}", version.name),
            ));
        }
    }
}

/// The span covering the declared results of a statement.
fn results_span(spans: &FunctionSpans, results: &[crate::ValueId]) -> Option<Span> {
    let first = spans.values.get(results.first()?.index())?;
    let last = spans.values.get(results.last()?.index())?;
    Some(first.ty.cover(first.name).cover(last.ty).cover(last.name))
}
