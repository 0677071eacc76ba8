//! Checks of an op's inputs against its catalogue entry: keys, required inputs, kinds, dtypes,
//! type variables and const-ness.

use super::kind_span;
use crate::Span;
use crate::catalogue::{self, DefaultValue, Input, InputKind, OpVersion};
use crate::diagnostic::{Diagnostic, codes};
use crate::infer::{Binding, Inferencer, Source};
use crate::program::{Function, OpId, Operand};
use crate::source_map::FunctionSpans;
use crate::types::{DType, Type};

/// Where a source (or item `item` of a tuple argument) is written; for an op made by a rewrite,
/// the statement it came from.
pub(super) fn source_span(spans: &FunctionSpans, id: OpId, source: Source<'_>, item: Option<usize>) -> Span {
    let Some(op) = spans.ops.get(id.index()) else {
        return spans.statement(id).unwrap_or_default();
    };
    match source {
        Source::Arg(i, _) => op.args.get(i).map_or(op.kind, |a| match item {
            Some(j) => a.items.get(j).copied().unwrap_or(a.value),
            None => a.value,
        }),
        Source::Attr(i, _) => op.attributes.get(i).map_or(op.kind, |a| a.value),
    }
}

/// Reports every problem with the inputs of op `id`; returns whether there was none.
pub(super) fn check(
    f: &Function,
    spans: &FunctionSpans,
    id: OpId,
    version: &OpVersion,
    binding: &Binding<'_>,
    inferencer: &Inferencer<'_>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    let before = out.len();
    let op = f.op(id);
    for &i in &binding.unknown {
        let arg = &op.args[i];
        let at = spans
            .ops
            .get(id.index())
            .and_then(|s| s.args.get(i))
            .map(|a| a.key.unwrap_or(a.whole));
        let message = match &arg.key {
            Some(key) => unknown_key_message(version, key),
            None => format!("`{}` has no input at position {}", version.name, i + 1),
        };
        out.push(Diagnostic::new(
            codes::UNKNOWN_INPUT,
            at.unwrap_or_default(),
            message,
        ));
    }
    for (input, source) in version.inputs.iter().zip(&binding.inputs) {
        let Some(source) = *source else {
            if !input.optional && !matches!(input.kind, InputKind::Internal | InputKind::Block) {
                out.push(Diagnostic::new(
                    codes::MISSING_INPUT,
                    kind_span(spans, id),
                    format!("`{}` needs input `{}`", version.name, input.name),
                ));
            }
            continue;
        };
        check_source(f, spans, id, version, input, source, inferencer, out);
    }
    type_variables(f, spans, id, version, binding, out);
    out.len() == before
}

/// "no input `k`", naming the opset that added it when a later version of the op has it.
fn unknown_key_message(version: &OpVersion, key: &str) -> String {
    let later = catalogue::op(version.name).and_then(|op| {
        op.versions
            .iter()
            .find(|v| v.since() > version.since() && v.input(key).is_some())
    });
    match later {
        Some(v) => format!(
            "`{}` has input `{key}` only from {} on; this is its {} version",
            version.name,
            v.since(),
            version.since()
        ),
        None => {
            let names: Vec<&str> = version
                .inputs
                .iter()
                .filter(|i| !i.name.starts_with('_'))
                .map(|i| i.name)
                .collect();
            format!(
                "`{}` has no input `{key}` (its inputs: {})",
                version.name,
                names.join(", ")
            )
        }
    }
}

/// Checks one bound input: its kind, its dtype, and its const-ness.
#[allow(clippy::too_many_arguments)]
fn check_source(
    f: &Function,
    spans: &FunctionSpans,
    id: OpId,
    version: &OpVersion,
    input: &Input,
    source: Source<'_>,
    inferencer: &Inferencer<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let at = source_span(spans, id, source, None);
    let operand = match source {
        Source::Arg(_, operand) => Some(operand),
        Source::Attr(..) => None,
    };
    let is_tuple = matches!(operand, Some(Operand::Tuple(_)));
    if (input.kind == InputKind::Tuple) != is_tuple {
        let expected = if is_tuple {
            "a single value, not a tuple"
        } else {
            "a tuple `(a, b, ...)`"
        };
        out.push(Diagnostic::new(
            codes::INPUT_TYPE,
            at,
            format!("input `{}` of `{}` takes {expected}", input.name, version.name),
        ));
        return;
    }
    if input.constant && operand.is_some_and(|o| !inferencer.is_constant(o)) {
        out.push(Diagnostic::new(
            codes::NOT_CONSTANT,
            at,
            format!(
                "input `{}` of `{}` must be known when the model is compiled: a const or a literal, not a run-time value",
                input.name, version.name
            ),
        ));
    }
    for (item, ty) in source_types(f, source) {
        let item_at = source_span(spans, id, source, item);
        if let Some(problem) = kind_problem(input, ty) {
            out.push(Diagnostic::new(
                codes::INPUT_TYPE,
                item_at,
                format!(
                    "input `{}` of `{}` takes {problem}, not `{ty}`",
                    input.name, version.name
                ),
            ));
        }
    }
}

/// The declared types of a source: one, or one per tuple item (with its index).
fn source_types<'a>(
    f: &'a Function,
    source: Source<'a>,
) -> impl Iterator<Item = (Option<usize>, &'a Type)> + 'a {
    let of = move |o: &'a Operand| -> Option<&'a Type> {
        match o {
            Operand::Value(r) => Some(&f.value(r.id?).ty),
            Operand::Const(v) => Some(&v.ty),
            Operand::Tuple(_) => None,
        }
    };
    let (single, items): (Option<&'a Type>, &'a [Operand]) = match source {
        Source::Attr(_, v) => (Some(&v.ty), &[]),
        Source::Arg(_, Operand::Tuple(items)) => (None, items),
        Source::Arg(_, o) => (of(o), &[]),
    };
    let items = items
        .iter()
        .enumerate()
        .filter_map(move |(j, o)| Some((Some(j), of(o)?)));
    single.map(|t| (None, t)).into_iter().chain(items)
}

/// What is wrong with a value of type `ty` for `input`, if anything.
fn kind_problem(input: &Input, ty: &Type) -> Option<String> {
    let dtypes = |ds: &[DType]| ds.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ");
    match (input.kind, ty) {
        (_, Type::Invalid(_)) => None,
        (InputKind::Tensor | InputKind::Tuple, Type::Tensor { dtype, .. } | Type::Scalar(dtype)) => {
            (!input.dtypes.is_empty() && !input.dtypes.contains(dtype))
                .then(|| format!("a tensor of {}", dtypes(input.dtypes)))
        }
        (InputKind::Tensor | InputKind::Tuple, Type::List(..)) if input.dtypes.is_empty() => None,
        (InputKind::Tensor | InputKind::Tuple, _) => Some("a tensor".to_string()),
        (InputKind::State, Type::State(_)) => None,
        (InputKind::State, _) => Some("a state".to_string()),
        (InputKind::TensorBuffer, Type::TensorBuffer { .. }) => None,
        (InputKind::TensorBuffer, _) => Some("a tensor buffer".to_string()),
        (InputKind::List, Type::List(..)) => None,
        (InputKind::List, _) => Some("a list".to_string()),
        _ => None,
    }
}

/// Checks that the inputs sharing a type variable share their dtype.
fn type_variables(
    f: &Function,
    spans: &FunctionSpans,
    id: OpId,
    version: &OpVersion,
    binding: &Binding<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let mut first: Vec<(&str, DType, &str, Span)> = Vec::new();
    for (input, source) in version.inputs.iter().zip(&binding.inputs) {
        let (Some(var), Some(source)) = (input.type_var, source) else {
            continue;
        };
        // coremltools writes the defaults it fills in (an fp32 `epsilon` beside fp16 `gamma`)
        // without checking them against their type variable, and Core ML accepts them.
        if matches!(
            input.default,
            Some(DefaultValue::Float(_) | DefaultValue::Int(_) | DefaultValue::Bool(_))
        ) {
            continue;
        }
        for (item, ty) in source_types(f, *source) {
            let Some(dtype) = ty.dtype().filter(|_| !matches!(ty, Type::Invalid(_))) else {
                continue;
            };
            let at = source_span(spans, id, *source, item);
            match first.iter().find(|(v, ..)| *v == var) {
                None => first.push((var, dtype, input.name, at)),
                Some(&(_, d, name, first_at)) if d != dtype => {
                    out.push(
                        Diagnostic::new(
                            codes::TYPE_VARIABLE,
                            at,
                            format!(
                                "input `{}` of `{}` is {dtype} but `{name}` is {d}; both have dtype {var}, so they must match",
                                input.name, version.name
                            ),
                        )
                        .with_related(first_at, format!("`{name}` is {d} here")),
                    );
                }
                Some(_) => {}
            }
        }
    }
}
