//! `io-to-fp16`: a function's fp32 inputs and outputs declared fp16, an explicit change of the
//! model's interface (ANE010).
//!
//! The Neural Engine computes in fp16; for an fp32 input or output Core ML inserts a cast at the
//! edge, and coremltools' fp16 conversion writes those casts into the program itself
//! (`x_to_fp16 = cast(x = x, dtype = "fp16")` after each input, a cast back to fp32 before each
//! output). Declared fp16, an input replaces its casts to fp16; its other readers get one cast to
//! fp32 inserted for them. An output computed in fp16 and cast to fp32 is returned before the cast
//! (the cast goes); any other fp32 output gets a cast to fp16. Outputs keep their names.
//!
//! Unlike every other rewrite it takes a function, not an op, and it is never applied unasked: the
//! callers pass fp16 arrays and get fp16 arrays back, the program computes what the original
//! computes on the fp16-rounded inputs, and its outputs are rounded to fp16. The quick fix on the
//! finding says so in its title; the fix-all action and `mil fix` apply it only when named.
//! Core ML takes fp16 inputs and outputs from iOS16 on (specification version 7).

use crate::build::{const_str, string, value_arg};
use crate::helps::ms;
use crate::{NotApplicable, Refused};
use mil_ane::Target;
use mil_ane::placement::{Source, place_function};
use mil_ir::catalogue::Opset;
use mil_ir::mutate::{EditError, Editor, NewOp, Place, RewriteId};
use mil_ir::{DType, Function, FunctionSpans, OpId, Program, Type, Use, ValueDef, ValueId};

/// The rewrite's id.
pub const ID: RewriteId = RewriteId::IO_TO_FP16;

/// What `mil fix --list` says it does.
pub const TITLE: &str = "Change fp32 inputs and outputs to fp16 (interface change)";

/// The inputs and outputs of a function the rewrite declares fp16, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// The fp32 parameters.
    pub inputs: Vec<String>,
    /// The fp32 outputs.
    pub outputs: Vec<String>,
}

impl Interface {
    /// "Change input x and outputs y, z to fp16 (interface change)".
    pub fn title(&self) -> String {
        let list = |role: &str, names: &[String]| match names {
            [] => None,
            [one] => Some(format!("{role} {one}")),
            many => Some(format!("{role}s {}", many.join(", "))),
        };
        let parts: Vec<String> = [list("input", &self.inputs), list("output", &self.outputs)]
            .into_iter()
            .flatten()
            .collect();
        format!("Change {} to fp16 (interface change)", parts.join(" and "))
    }
}

/// Whether the rewrite takes `f`, and which inputs and outputs it changes; if not, why.
pub fn check(f: &Function) -> Result<Interface, NotApplicable> {
    NotApplicable::unless(Opset::parse(&f.opset).is_none_or(|o| o >= Opset::Ios16), || {
        format!(
            "Core ML takes fp16 inputs and outputs from iOS16 on (specification version 7); `{}` is written for {}",
            f.name, f.opset
        )
    })?;
    let inputs: Vec<ValueId> = f
        .params
        .iter()
        .copied()
        .filter(|&p| is_fp32_tensor(f, p))
        .collect();
    let outputs: Vec<ValueId> = outputs(f).filter(|&v| is_fp32_tensor(f, v)).collect();
    NotApplicable::unless(!inputs.is_empty() || !outputs.is_empty(), || {
        format!("`{}` has no fp32 input or output", f.name)
    })?;
    for &p in &inputs {
        for cast in casts_of(f, p, "fp16") {
            let result = f.op(cast).results[0];
            NotApplicable::unless(!f.value(result).uses.iter().any(|&u| returned(f, u)), || {
                format!(
                    "output `{}` is input `{}` cast to fp16: declared fp16, it would be the input itself",
                    f.value(result).name,
                    f.value(p).name
                )
            })?;
        }
    }
    let names = |values: &[ValueId]| values.iter().map(|&v| f.value(v).name.to_string()).collect();
    Ok(Interface {
        inputs: names(&inputs),
        outputs: names(&outputs),
    })
}

/// Declares the fp32 inputs and outputs of `f` fp16, recording the rewrite as the provenance of the
/// casts it makes; `f` and `spans` are left as they were when it does not apply.
pub fn apply(f: &mut Function, spans: &mut FunctionSpans) -> Result<Interface, Refused> {
    let interface = check(f).map_err(Refused::NotApplicable)?;
    let (f_before, spans_before) = (f.clone(), spans.clone());
    let mut e = f.edit().rewriting(spans, ID);
    let edited = edit(&mut e);
    drop(e);
    edited.map_err(|err| {
        *f = f_before;
        *spans = spans_before;
        Refused::Edit(err)
    })?;
    Ok(interface)
}

/// The edit, for a function [`check`] takes.
fn edit(e: &mut Editor<'_>) -> Result<(), EditError> {
    let f = e.function();
    let inputs: Vec<(usize, ValueId)> = (f.params.iter().copied().enumerate())
        .filter(|&(_, p)| is_fp32_tensor(f, p))
        .collect();
    for (index, p) in inputs {
        declare_input(e, index, p)?;
    }
    let f = e.function();
    let mut outputs: Vec<ValueId> = outputs(f).filter(|&v| is_fp32_tensor(f, v)).collect();
    outputs.sort();
    outputs.dedup();
    for v in outputs {
        declare_output(e, v)?;
    }
    Ok(())
}

/// Declares parameter `index`, `p`, fp16: its casts to fp16 read it instead, its other readers a
/// cast to fp32 of it.
fn declare_input(e: &mut Editor<'_>, index: usize, p: ValueId) -> Result<(), EditError> {
    let f = e.function();
    let fp32 = f.value(p).ty.clone();
    let casts = casts_of(f, p, "fp16");
    let others =
        (f.value(p).uses.iter()).any(|u| matches!(u, Use::Operand { op, .. } if !casts.contains(op)));
    e.set_param_type(index, with_dtype(&fp32, DType::Fp16))?;
    if others {
        let f = e.function();
        let name = format!("{}_fp32", f.value(p).name);
        let place = f
            .block(f.body)
            .ops
            .first()
            .map_or(Place::End(f.body), |&op| Place::Before(op));
        let cast = NewOp::new("cast")
            .arg("x", e.operand(p))
            .arg("dtype", string("fp32"))
            .result(&name, fp32);
        let cast = e.insert(place, cast)?;
        let widened = e.function().op(cast).results[0];
        e.replace_uses_where(
            p,
            widened,
            |u| matches!(u, Use::Operand { op, .. } if op != cast && !casts.contains(&op)),
        )?;
    }
    for cast in casts {
        let dtype = dtype_const(e.function(), cast);
        e.replace_op_with(cast, &[p])?;
        erase_if_unread(e, dtype)?;
    }
    Ok(())
}

/// Returns output `v` in fp16: the fp16 value it is a cast of, or a cast of it to fp16.
fn declare_output(e: &mut Editor<'_>, v: ValueId) -> Result<(), EditError> {
    let f = e.function();
    let narrow = match f.value(v).def {
        ValueDef::Result(cast, 0) if is_cast_to(f, cast, "fp32") => value_arg(f, cast, "x")
            .filter(|&x| {
                matches!(f.value(x).def, ValueDef::Result(..))
                    && f.value(x).ty.dtype() == Some(DType::Fp16)
                    && !outputs(f).any(|o| o == x)
            })
            .map(|x| (x, Some(cast))),
        _ => None,
    };
    let (narrow, cast) = match narrow {
        Some(found) => found,
        None => {
            let ty = with_dtype(&f.value(v).ty, DType::Fp16);
            let place = match f.value(v).def {
                ValueDef::Result(op, _) => Place::After(op),
                _ => f
                    .block(f.body)
                    .ops
                    .first()
                    .map_or(Place::End(f.body), |&op| Place::Before(op)),
            };
            let name = format!("{}_fp16", f.value(v).name);
            let new = NewOp::new("cast")
                .arg("x", e.operand(v))
                .arg("dtype", string("fp16"))
                .result(&name, ty);
            let op = e.insert(place, new)?;
            (e.function().op(op).results[0], None)
        }
    };
    let body = e.function().body;
    e.replace_uses_where(
        v,
        narrow,
        |u| matches!(u, Use::Output { block, .. } if block == body),
    )?;
    if let Some(cast) = cast.filter(|&c| e.function().value(e.function().op(c).results[0]).uses.is_empty()) {
        let dtype = dtype_const(e.function(), cast);
        e.erase(cast)?;
        erase_if_unread(e, dtype)?;
    }
    Ok(())
}

/// The rewrite of function `function` of `program`, titled with what it changes and the planner's
/// estimate before and after on `target`.
pub fn assess(
    program: &Program,
    spans: &FunctionSpans,
    function: usize,
    target: Target,
) -> Result<(Program, String), Refused> {
    let mut rewritten = program.clone();
    let mut spans = spans.clone();
    let interface = apply(&mut rewritten.functions[function], &mut spans)?;
    let before = place_function(&program.functions[function], target, Source::Ours);
    let after = place_function(&rewritten.functions[function], target, Source::Ours);
    let title = format!(
        "{} — est. {} → {} ms",
        interface.title(),
        ms(before.latency_ms),
        ms(after.latency_ms)
    );
    Ok((rewritten, title))
}

/// Whether `v` is an fp32 tensor.
fn is_fp32_tensor(f: &Function, v: ValueId) -> bool {
    matches!(
        f.value(v).ty,
        Type::Tensor {
            dtype: DType::Fp32,
            ..
        }
    )
}

/// `ty` with elements of `dtype`.
fn with_dtype(ty: &Type, dtype: DType) -> Type {
    match ty {
        Type::Tensor { shape, .. } => Type::Tensor {
            dtype,
            shape: shape.clone(),
        },
        other => other.clone(),
    }
}

/// The values the function returns, in order (a value returned twice comes twice).
fn outputs(f: &Function) -> impl Iterator<Item = ValueId> + '_ {
    f.block(f.body).outputs.iter().filter_map(|r| r.id)
}

/// Whether `u` is one of the function's outputs.
fn returned(f: &Function, u: Use) -> bool {
    matches!(u, Use::Output { block, .. } if block == f.body)
}

/// Whether `op` is a `cast` to `dtype`.
fn is_cast_to(f: &Function, op: OpId, dtype: &str) -> bool {
    f.op(op).kind == "cast" && const_str(f, op, "dtype", "").as_deref() == Some(dtype)
}

/// The casts to `dtype` that read `v` as their `x`.
fn casts_of(f: &Function, v: ValueId, dtype: &str) -> Vec<OpId> {
    let mut casts: Vec<OpId> = (f.value(v).uses.iter())
        .filter_map(|u| match *u {
            Use::Operand { op, .. } if is_cast_to(f, op, dtype) && value_arg(f, op, "x") == Some(v) => {
                Some(op)
            }
            _ => None,
        })
        .collect();
    casts.sort();
    casts.dedup();
    casts
}

/// The `const` op a cast reads its `dtype` from, if it does.
fn dtype_const(f: &Function, cast: OpId) -> Option<OpId> {
    match f.value(value_arg(f, cast, "dtype")?).def {
        ValueDef::Result(op, 0) if f.op(op).kind == "const" => Some(op),
        _ => None,
    }
}

/// Erases the `const` op `op` when nothing reads it any more.
fn erase_if_unread(e: &mut Editor<'_>, op: Option<OpId>) -> Result<(), EditError> {
    let Some(op) = op else { return Ok(()) };
    let f = e.function();
    if e.is_live(op) && f.value(f.op(op).results[0]).uses.is_empty() {
        e.erase(op)?;
    }
    Ok(())
}
