//! `spell-out-defaults`: the inputs Core ML fills in, written out — `epsilon` of `rsqrt`, `log`
//! and `inverse`, `interleave` of `concat` — for hand-written MIL aimed at the private ANE
//! compiler, which applies no defaults and rejects the op without them (ANE115;
//! `../shared/docs/ane.md`, private-compiler probes).
//!
//! The values are coremltools' defaults (`default_inputs` of the iOS15 ops), the ones Core ML and
//! our interpreter use: `epsilon` 1e-12 for rsqrt, 1e-45 for log, 1e-4 for inverse, and
//! `interleave = false`. `epsilon` is written as an fp32 scalar, which iOS17 and later take for
//! fp16 ops too; before iOS17 it must have `x`'s type, and in fp16 the defaults of log and rsqrt
//! round to 0 (changing log(0) and rsqrt(0)), so an fp16 op of an older opset is left alone.
//!
//! Core ML's plan does not change (it fills the same values in), so this rewrite is opt-in
//! ([`crate::OPT_IN`]): offered as a quick fix on its finding, applied by `mil fix` only when named.

use crate::build::scalar;
use crate::{NotApplicable, Rewrite};
use mil_ir::catalogue::Opset;
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::program::Argument;
use mil_ir::{ConstData, DType, Elements, Function, OpId, Operand, Type, TypedValue};

/// Writes out the defaults the private compiler needs.
pub const SPELL_OUT_DEFAULTS: Rewrite = Rewrite {
    id: RewriteId::SPELL_OUT_DEFAULTS,
    kinds: &["rsqrt", "log", "inverse", "concat"],
    title: "Spell out {kind}'s default for the private ANE compiler",
    precondition: |f, op| default_of(f, op).map(drop),
    edit,
};

/// The input `op` leaves to its default, and the value to write.
fn default_of(f: &Function, op: OpId) -> Result<(&'static str, Operand), NotApplicable> {
    let o = f.op(op);
    let (key, value) = match o.kind.as_str() {
        "concat" => ("interleave", None),
        "inverse" => ("epsilon", Some(1e-4)),
        "log" => ("epsilon", Some(1e-45)),
        _ => ("epsilon", Some(1e-12)),
    };
    NotApplicable::unless(o.arg(key).is_none(), || format!("`{key}` is already written"))?;
    let Some(value) = value else {
        let no = TypedValue {
            ty: Type::Scalar(DType::Bool),
            data: ConstData::Tensor(Elements::Bool(vec![false])),
        };
        return Ok((key, Operand::Const(no)));
    };
    let dtype = o.results.first().and_then(|&r| f.value(r).ty.dtype());
    let from_ios17 = Opset::parse(&f.opset).is_none_or(|o| o >= Opset::Ios17);
    NotApplicable::unless(from_ios17 || dtype == Some(DType::Fp32), || {
        format!("before iOS17 `epsilon` has `x`'s type, and {value:e} rounds to 0 in fp16")
    })?;
    Ok((key, scalar(DType::Fp32, value)))
}

/// Adds the input, keeping the arguments in key order when they are.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    let (key, value) = default_of(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    e.edit_args(op, |args| {
        let at = args
            .iter()
            .position(|a| a.key.as_deref().is_some_and(|k| k > key))
            .unwrap_or(args.len());
        args.insert(
            at,
            Argument {
                key: Some(key.into()),
                value,
            },
        );
    })
}
