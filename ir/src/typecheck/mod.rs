//! Op checks: every op is known in its opset, gets the inputs it needs with the dtypes and
//! const-ness it accepts, and declares the results it has with the types it gives.
//!
//! Only what can be told is reported: ops under an unknown opset, ops the catalogue does not
//! know, unreadable types and `?` dims never produce follow-on errors, an op whose inputs are
//! wrong is not also blamed for its outputs, and a value declared with the wrong type is reported
//! once, at its statement, not again at each op that reads it.

mod inputs;
mod outputs;

use crate::catalogue::{self, LookupError, Opset};
use crate::diagnostic::{Diagnostic, codes};
use crate::infer::{Binding, Inferencer, Inferred};
use crate::program::{Function, OpId, Operand, ValueId};
use crate::source_map::{FunctionSpans, SourceMap};
use crate::{Program, Span};

pub use outputs::compatible;

/// Checks every op of every function of `program`; `map` gives the locations (an empty map
/// gives empty spans).
pub fn check(program: &Program, map: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let empty = FunctionSpans::default();
    for (i, f) in program.functions.iter().enumerate() {
        check_function(f, map.functions.get(i).unwrap_or(&empty), &mut out);
    }
    out
}

/// The span of op `id`'s type; for an op made by a rewrite, the statement it came from.
fn kind_span(spans: &FunctionSpans, id: OpId) -> Span {
    match spans.ops.get(id.index()) {
        Some(s) => s.kind,
        None => spans.statement(id).unwrap_or_default(),
    }
}

fn check_function(f: &Function, spans: &FunctionSpans, out: &mut Vec<Diagnostic>) {
    let Some(function_opset) = Opset::parse(&f.opset) else {
        if !f.opset.is_empty() {
            out.push(unknown_opset(&f.opset, spans.opset));
        }
        return;
    };
    let mut inferencer = Inferencer::new(f);
    // Values declared with a type their op does not give (see [`mistyped_results`]).
    let mut mistyped = vec![false; f.values.len()];
    for id in f.walk_ops() {
        let op = f.op(id);
        let opset = match &op.opset {
            None => function_opset,
            Some(pin) => match Opset::parse(pin) {
                Some(o) => o,
                None => {
                    let at = spans
                        .ops
                        .get(id.index())
                        .and_then(|s| s.opset)
                        .unwrap_or_default();
                    out.push(unknown_opset(pin, at));
                    inferencer.skip(id);
                    continue;
                }
            },
        };
        let version = match catalogue::lookup_in(&op.kind, opset) {
            Ok(v) => v,
            Err(e) => {
                out.push(lookup_error(e, &op.kind, opset, kind_span(spans, id)));
                inferencer.skip(id);
                continue;
            }
        };
        let binding = Binding::new(op, version);
        // An op reading a mistyped value is told a type known to be wrong: it is inferred (so that
        // what it makes known reaches later ops) but not checked.
        let checked = !op.args.iter().any(|a| reads_mistyped(&a.value, &mistyped));
        let clean = checked && inputs::check(f, spans, id, version, &binding, &inferencer, out);
        let inferred = inferencer.infer(id, version, opset, &binding);
        if !checked {
            continue;
        }
        if op.kind != "const" {
            outputs::check(f, spans, id, version, &binding, &inferred, clean, out);
        }
        for r in mistyped_results(f, id, &inferred) {
            mistyped[r.index()] = true;
        }
    }
}

/// The results of op `id` declared with a type other than the one inference gives them
/// (`inferred`). Of an op that is checked (one that reads no such value itself), such a
/// declaration is reported at its statement (MIL0409, when the op's inputs are sound) and nowhere
/// else: the ops that read the value are not checked, since what they are told about it is known to
/// be wrong, and their own results are not judged by it. The language server's op-local re-checks
/// use this too, to know which values their slices must compute rather than take as given.
pub fn mistyped_results(f: &Function, id: OpId, inferred: &Inferred) -> Vec<ValueId> {
    let Ok(types) = inferred else {
        return Vec::new();
    };
    f.op(id)
        .results
        .iter()
        .zip(types)
        .filter(|&(&r, ty)| !compatible(&f.value(r).ty, ty))
        .map(|(&r, _)| r)
        .collect()
}

/// Whether `operand` reads a value declared with the wrong type.
fn reads_mistyped(operand: &Operand, mistyped: &[bool]) -> bool {
    match operand {
        Operand::Value(v) => v.id.is_some_and(|id| mistyped[id.index()]),
        Operand::Const(_) => false,
        Operand::Tuple(items) => items.iter().any(|o| reads_mistyped(o, mistyped)),
    }
}

fn unknown_opset(name: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        codes::UNKNOWN_OPSET,
        at,
        format!("unknown opset `{name}` (ios15, ios16, ios17, ios18 or ios26); its ops are not checked"),
    )
}

fn lookup_error(e: LookupError, kind: &str, opset: Opset, at: Span) -> Diagnostic {
    match e {
        LookupError::NotInOpset { first } => Diagnostic::new(
            codes::OP_NOT_IN_OPSET,
            at,
            format!("`{kind}` is available from {first} on, not in {opset}"),
        ),
        _ => {
            let hint = catalogue::suggest(kind).map_or(String::new(), |s| format!("; did you mean `{s}`?"));
            Diagnostic::new(codes::UNKNOWN_OP, at, format!("unknown operation `{kind}`{hint}"))
        }
    }
}
