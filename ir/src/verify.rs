//! Checks that need no knowledge of individual ops beyond `const`: unique op names and constants
//! whose declared type matches their value.

use crate::constant::{ConstData, TypedValue};
use crate::diagnostic::{Diagnostic, codes};
use crate::program::Function;
use crate::source_map::{FunctionSpans, SourceMap};
use crate::{Program, Span, Type};
use rustc_hash::FxHashMap;

/// Verifies every function of `program`; `map` gives the locations (an empty map gives empty spans).
pub fn verify(program: &Program, map: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let empty = FunctionSpans::default();
    for (i, f) in program.functions.iter().enumerate() {
        let spans = map.functions.get(i).unwrap_or(&empty);
        unique_op_names(f, spans, &mut out);
        const_types(f, spans, &mut out);
    }
    out
}

/// The span of attribute `key` of an op, if known; for an op made by a rewrite, the statement it
/// came from.
fn attr_value_span(f: &Function, spans: &FunctionSpans, op: usize, key: &str) -> Span {
    let Some(op_spans) = spans.ops.get(op) else {
        return spans
            .statement(crate::program::OpId(op as u32))
            .unwrap_or_default();
    };
    let idx = f.ops[op].attributes.iter().position(|a| a.key == key);
    idx.and_then(|i| op_spans.attributes.get(i).map(|a| a.value))
        .unwrap_or_default()
}

fn unique_op_names(f: &Function, spans: &FunctionSpans, out: &mut Vec<Diagnostic>) {
    let mut seen: FxHashMap<&str, usize> =
        FxHashMap::with_capacity_and_hasher(f.ops.len(), Default::default());
    for id in f.walk_ops() {
        let Some(name) = f.op(id).name() else { continue };
        match seen.get(name) {
            Some(&first) => out.push(
                Diagnostic::new(
                    codes::DUPLICATE_OP_NAME,
                    attr_value_span(f, spans, id.index(), "name"),
                    format!("another operation of `{}` is already named \"{name}\"", f.name),
                )
                .with_related(attr_value_span(f, spans, first, "name"), "first named here"),
            ),
            None => {
                seen.insert(name, id.index());
            }
        }
    }
}

fn const_types(f: &Function, spans: &FunctionSpans, out: &mut Vec<Diagnostic>) {
    for id in f.walk_ops() {
        let op = f.op(id);
        let (Some(val), [result]) = (op.attribute("val"), op.results.as_slice()) else {
            continue;
        };
        if op.kind != "const" {
            continue;
        }
        let declared = &f.value(*result).ty;
        if declared.same_as(&val.ty)
            || matches!(declared, Type::Invalid(_))
            || matches!(val.ty, Type::Invalid(_))
        {
            continue;
        }
        let at = spans.values.get(result.index()).map(|s| s.ty).unwrap_or_default();
        let val_span = attr_value_span(f, spans, id.index(), "val");
        let diag = if is_single_element(val) && declared.dtype() == val.ty.dtype() {
            Diagnostic::new(
                codes::SCALAR_FOR_TENSOR,
                val_span,
                format!(
                    "a single {} value for a constant declared `{declared}`; mil fmt writes it out in full",
                    val.ty
                ),
            )
        } else {
            Diagnostic::new(
                codes::CONST_TYPE,
                at,
                format!(
                    "the constant is declared `{declared}` but its value is `{}`",
                    val.ty
                ),
            )
            .with_related(val_span, "the value")
        };
        out.push(diag);
    }
}

fn is_single_element(v: &TypedValue) -> bool {
    matches!(&v.data, ConstData::Tensor(e) if e.len() == 1) && v.ty.element_count() == Some(1)
}
