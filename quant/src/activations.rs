//! Activation quantisation (the A8 of W8A8): `quantize` → `dequantize` pairs where coremltools
//! 9.0's `linear_quantize_activations` puts them, with scales and zero points from calibrated
//! ranges ([`crate::calibrate`]).
//!
//! Three passes, as coremltools runs them:
//!
//! 1. **Prefix** (`optimize/coreml/_quantization_passes.py`, `insert_prefix_quantize_dequantize_pair`):
//!    a pair before the non-const `x` of every `conv`, `avg_pool`, `max_pool` and `linear`, and
//!    before both inputs of an `add` whose inputs are both non-const. Scale and zero point come from
//!    `quantize_weight_by_dtype` over the input's `[rmin, rmax]` taken as fp16
//!    (`get_min_and_max_values`), the scale stored at the input's dtype; a symmetric int8 scale of 0
//!    becomes 1.
//! 2. **Suffix** (`mil/passes/defs/optimize_activation_quantization.py`,
//!    `insert_suffix_quantize_dequantize_pair`): for each `dequantize` (of those the prefix pass
//!    made, in program order) whose only reader is a `conv`, `add` (both inputs dequantized),
//!    `avg_pool`, `max_pool` or `linear` not already followed by a lone `quantize`: a pair after that
//!    op, or after the activation that is its first reader (`relu`, `relu6`, `leaky_relu`,
//!    `sigmoid`, `hard_sigmoid`, `tanh`, `scaled_tanh`), when the result is read at all. Its zero
//!    point is always written (0 when symmetric), its scale computed at fp16.
//! 3. **Pair elimination** (`mil/passes/defs/optimize_quantization.py`,
//!    `dequantize_quantize_pair_elimination`): a `quantize` reading a `dequantize` with the same
//!    scale, zero point (both present or both absent) and axis reads the dequantize's input instead.
//!
//! Pairs are named `NAME_quantize` / `NAME_dequantize` after the tensor they quantise.

use crate::QuantError;
use crate::calibrate::{Range, Statistics};
use crate::linear::{BlockParams, IntType, Mode, Precision, block_params};
use crate::weights::ValueMaker;
use mil_ir::catalogue::Opset;
use mil_ir::weights::MemoryWeights;
use mil_ir::{
    ConstData, DType, Dim, Elements, Function, NewOp, OpId, Operand, Place, Program, Type, TypedValue, Use,
    ValueDef, ValueId,
};

/// The ops whose `x` gets a pair before it (and `add`'s `y`).
const PREFIXED: [&str; 5] = ["conv", "avg_pool", "max_pool", "linear", "add"];

/// The activations a pattern may end with.
const ACTIVATIONS: [&str; 7] = [
    "leaky_relu",
    "tanh",
    "scaled_tanh",
    "sigmoid",
    "hard_sigmoid",
    "relu",
    "relu6",
];

/// The settings of activation quantisation (coremltools' `OpLinearQuantizerConfig` for
/// activations: only the integer type and the mode count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationConfig {
    /// int8 or uint8.
    pub int: IntType,
    /// Symmetric or affine.
    pub mode: Mode,
}

/// One activation quantised: a tensor some `quantize` reads.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantizedActivation {
    /// The function holding it.
    pub function: String,
    /// The tensor's name.
    pub name: String,
    /// Its shape (empty when not known).
    pub shape: Vec<u64>,
    /// Its bytes as a float tensor.
    pub bytes_before: u64,
    /// Its bytes as int8/uint8.
    pub bytes_after: u64,
    /// The range its scale and zero point come from.
    pub range: Range,
}

/// What [`quantize_activations`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivationReport {
    /// Each tensor read by a `quantize` after pair elimination, in program order.
    pub tensors: Vec<QuantizedActivation>,
    /// The `quantize` ops (pairs) left after pair elimination.
    pub pairs: usize,
}

/// Inserts the quantize/dequantize pairs into every function of `program` with the scales
/// `stats` give. Needs ios17 (the `quantize` op); on error nothing is changed.
pub fn quantize_activations(
    program: &mut Program,
    stats: &Statistics,
    config: ActivationConfig,
) -> Result<ActivationReport, QuantError> {
    check_opsets(program)?;
    let rank0 = program.version == "1.0";
    let mut staged = program.clone();
    let mut report = ActivationReport::default();
    let mut memory = MemoryWeights::default();
    for f in &mut staged.functions {
        let mut pass = Pass {
            f,
            stats,
            config,
            values: ValueMaker {
                memory: &mut memory,
                rank0,
            },
            rank0,
        };
        let prefixed = pass.prefix()?;
        pass.suffix(&prefixed)?;
        pass.eliminate_pairs();
        pass.report(&mut report);
    }
    *program = staged;
    Ok(report)
}

/// Whether every function's opset has the `quantize` op (iOS17).
pub fn check_opsets(program: &Program) -> Result<(), QuantError> {
    match (program.functions.iter()).find(|f| Opset::parse(&f.opset).is_some_and(|o| o < Opset::Ios17)) {
        Some(f) => Err(QuantError::NeedsIos17 {
            function: f.name.clone(),
            opset: f.opset.clone(),
        }),
        None => Ok(()),
    }
}

/// One function being rewritten.
struct Pass<'a, 'm> {
    f: &'a mut Function,
    stats: &'a Statistics,
    config: ActivationConfig,
    values: ValueMaker<'m>,
    rank0: bool,
}

/// A pair's parameters: the scale (in the quantised tensor's dtype) and the zero point, if any.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PairParams {
    scale: f32,
    zero_point: Option<i32>,
}

impl Pass<'_, '_> {
    /// Pass 1: pairs before the inputs of the prefixed ops; returns the dequantize ops made.
    fn prefix(&mut self) -> Result<Vec<OpId>, QuantError> {
        let mut made = Vec::new();
        for op in self.f.walk_ops() {
            let o = self.f.op(op);
            if !PREFIXED.contains(&o.kind.as_str()) {
                continue;
            }
            let keys: &[&str] = if o.kind == "add" { &["x", "y"] } else { &["x"] };
            let inputs: Option<Vec<ValueId>> = keys.iter().map(|k| self.non_const(o.arg(k))).collect();
            let Some(inputs) = inputs else { continue };
            if inputs.iter().any(|&v| !is_float(&self.f.value(v).ty)) {
                continue;
            }
            for (key, v) in keys.iter().zip(inputs) {
                let params = self.prefix_params(v)?;
                let (_, dq) = self.insert_pair(v, params, Place::Before(op))?;
                let dq_value = self.f.op(dq).results[0];
                let operand = self.f.edit().operand(dq_value);
                self.f
                    .edit()
                    .edit_args(op, |args| {
                        if let Some(a) = args.iter_mut().find(|a| a.key.as_deref() == Some(key)) {
                            a.value = operand;
                        }
                    })
                    .map_err(edit_error)?;
                made.push(dq);
            }
        }
        Ok(made)
    }

    /// Pass 2: pairs after the patterns the prefix pairs start.
    fn suffix(&mut self, dequantizes: &[OpId]) -> Result<(), QuantError> {
        for &dq in dequantizes {
            let Some(last) = self.pattern_end(dq) else {
                continue;
            };
            let v = self.f.op(last).results[0];
            let params = self.suffix_params(v)?;
            let (q, dq) = self.insert_pair(v, params, Place::After(last))?;
            let dq_value = self.f.op(dq).results[0];
            self.f
                .edit()
                .replace_uses_except(v, dq_value, Some(q))
                .map_err(edit_error)?;
        }
        Ok(())
    }

    /// Adds the `quantize` ops left and the tensors they read to `report`.
    fn report(&self, report: &mut ActivationReport) {
        let f = &*self.f;
        let mut seen: Vec<ValueId> = Vec::new();
        for op in f.walk_ops() {
            if f.op(op).kind != "quantize" {
                continue;
            }
            report.pairs += 1;
            let Some(Operand::Value(r)) = f.op(op).arg("input") else {
                continue;
            };
            let Some(v) = r.id else { continue };
            // A tensor re-quantised after a suffix pair is a dequantize's result, which has no range
            // of its own: the tensor before it is the one listed.
            let Ok(range) = self.range(v) else { continue };
            if seen.contains(&v) {
                continue;
            }
            seen.push(v);
            let value = f.value(v);
            let shape: Vec<u64> = (value.ty.shape().unwrap_or_default().iter())
                .map(|d| match d {
                    Dim::Known(k) => *k,
                    Dim::Unknown => 0,
                })
                .collect();
            let elements: u64 = shape.iter().product();
            let float_bytes = u64::from(value.ty.dtype().and_then(DType::bits).unwrap_or(32) / 8);
            report.tensors.push(QuantizedActivation {
                function: f.name.clone(),
                name: value.name.to_string(),
                shape,
                bytes_before: elements * float_bytes,
                bytes_after: elements,
                range,
            });
        }
    }

    /// The last op of the pattern `dq` starts, when it gets a suffix pair
    /// (`_try_match_and_transform_pattern`).
    fn pattern_end(&self, dq: OpId) -> Option<OpId> {
        let f = &*self.f;
        let core = only_reader(f, f.op(dq).results[0])?;
        let kind = f.op(core).kind.as_str();
        if !PREFIXED.contains(&kind) {
            return None;
        }
        if kind == "add"
            && !["x", "y"]
                .iter()
                .all(|k| producer_kind(f, f.op(core).arg(k)) == Some("dequantize"))
        {
            return None;
        }
        let core_value = *f.op(core).results.first()?;
        if only_reader(f, core_value).is_some_and(|r| f.op(r).kind == "quantize") {
            return None;
        }
        let mut last = core;
        let mut child = children(f, core_value).first().copied();
        if let Some(act) = child
            && ACTIVATIONS.contains(&f.op(act).kind.as_str())
        {
            let act_value = f.op(act).results[0];
            let readers = children(f, act_value);
            if !readers.is_empty() {
                if readers.len() == 1 && f.op(readers[0]).kind == "quantize" {
                    return None;
                }
                last = act;
                child = readers.first().copied();
            }
        }
        child.map(|_| last)
    }

    /// Pass 3: removes `dequantize` → `quantize` pairs of the same parameters, until none is left.
    fn eliminate_pairs(&mut self) {
        let outputs: Vec<ValueId> = self
            .f
            .block(self.f.body)
            .outputs
            .iter()
            .filter_map(|r| r.id)
            .collect();
        loop {
            let mut changed = false;
            for dq in self.f.walk_ops() {
                if !self.f.edit().is_live(dq) || self.f.op(dq).kind != "dequantize" {
                    continue;
                }
                let dq_value = self.f.op(dq).results[0];
                let Some(Operand::Value(input)) = self.f.op(dq).arg("input") else {
                    continue;
                };
                let Some(input) = input.id else { continue };
                if outputs.contains(&dq_value) {
                    continue;
                }
                let mut removed = false;
                for q in children(self.f, dq_value) {
                    if self.f.op(q).kind != "quantize" || !self.same_params(dq, q) {
                        continue;
                    }
                    let q_value = self.f.op(q).results[0];
                    let mut e = self.f.edit();
                    if e.replace_all_uses(q_value, input).is_ok() && e.erase(q).is_ok() {
                        removed = true;
                    }
                }
                if removed && children(self.f, dq_value).is_empty() {
                    let _ = self.f.edit().erase(dq);
                }
                changed |= removed;
            }
            if !changed {
                return;
            }
        }
    }

    /// Whether the `dequantize` and the `quantize` have the same scale, zero point and axis.
    fn same_params(&self, dq: OpId, q: OpId) -> bool {
        ["scale", "zero_point", "axis"].iter().all(|k| {
            let a = self.const_of(self.f.op(dq).arg(k));
            let b = self.const_of(self.f.op(q).arg(k));
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => a.data == b.data,
                _ => false,
            }
        })
    }

    /// The value an argument holds when it is a constant (inline or a `const` op's result).
    fn const_of<'v>(&'v self, operand: Option<&'v Operand>) -> Option<&'v TypedValue> {
        match operand? {
            Operand::Const(v) => Some(v),
            Operand::Value(r) => match self.f.value(r.id?).def {
                ValueDef::Result(op, 0) if self.f.op(op).kind == "const" => self.f.op(op).attribute("val"),
                _ => None,
            },
            Operand::Tuple(_) => None,
        }
    }

    /// The value `operand` names when it is not a constant (a function input or an op's result).
    fn non_const(&self, operand: Option<&Operand>) -> Option<ValueId> {
        let Some(Operand::Value(r)) = operand else {
            return None;
        };
        let id = r.id?;
        match self.f.value(id).def {
            ValueDef::Result(op, _) if self.f.op(op).kind == "const" => None,
            _ => Some(id),
        }
    }

    /// The range calibrated for `v`.
    fn range(&self, v: ValueId) -> Result<Range, QuantError> {
        let name = &self.f.value(v).name;
        self.stats
            .get(name.as_str())
            .copied()
            .ok_or_else(|| QuantError::NoStatistics {
                name: name.to_string(),
            })
    }

    /// The prefix pair's parameters for `v` (`_construct_quant_dequant_op`).
    fn prefix_params(&self, v: ValueId) -> Result<PairParams, QuantError> {
        let p = self.params(self.range(v)?);
        let zero_point = p.zero_point.map(|_| p.stored_zero_point());
        let scale = if p.scale == 0.0 && zero_point.is_none() {
            1.0
        } else {
            p.scale
        };
        Ok(PairParams { scale, zero_point })
    }

    /// The suffix pair's parameters for `v` (`_try_apply_transform`): a zero point always.
    fn suffix_params(&self, v: ValueId) -> Result<PairParams, QuantError> {
        let p = self.params(self.range(v)?);
        Ok(PairParams {
            scale: p.scale,
            zero_point: Some(p.stored_zero_point()),
        })
    }

    /// `quantize_weight_by_dtype` over the range as an fp16 pair `[rmin, rmax]`.
    fn params(&self, range: Range) -> BlockParams {
        let a = Precision::Fp16.round(range.min);
        let b = Precision::Fp16.round(range.max);
        block_params(
            a.min(b),
            a.max(b),
            self.config.int,
            self.config.mode,
            Precision::Fp16,
        )
    }

    /// Inserts `quantize(v)` and `dequantize` of it at `place`; returns both ops.
    fn insert_pair(
        &mut self,
        v: ValueId,
        params: PairParams,
        place: Place,
    ) -> Result<(OpId, OpId), QuantError> {
        let value = self.f.value(v);
        let name = value.name.to_string();
        let ty = value.ty.clone();
        let float = ty.dtype().unwrap_or(DType::Fp32);
        let int = match self.config.int {
            IntType::UInt8 | IntType::UInt4 => DType::UInt8,
            IntType::Int8 | IntType::Int4 => DType::Int8,
        };
        let int_ty = Type::Tensor {
            dtype: int,
            shape: ty.shape().unwrap_or_default().to_vec(),
        };
        let scale = self.values.floats(float, &[], &[params.scale]);
        let zero_point = params.zero_point.map(|z| self.values.ints(int, &[], &[z]));
        let mut quantize = NewOp::new("quantize")
            .arg("input", self.f.edit().operand(v))
            .arg("scale", Operand::Const(scale.clone()));
        if let Some(z) = &zero_point {
            quantize = quantize.arg("zero_point", Operand::Const(z.clone()));
        }
        let quantize = quantize
            .arg(
                "output_dtype",
                Operand::Const(self.string(if int == DType::UInt8 { "uint8" } else { "int8" })),
            )
            .named(&format!("{name}_quantize"))
            .result(&format!("{name}_quantize"), int_ty);
        let mut e = self.f.edit();
        let q = e.insert(place, quantize).map_err(edit_error)?;
        let q_value = e.function().op(q).results[0];
        let mut dequantize = NewOp::new("dequantize")
            .arg("input", e.operand(q_value))
            .arg("scale", Operand::Const(scale));
        if let Some(z) = zero_point {
            dequantize = dequantize.arg("zero_point", Operand::Const(z));
        }
        let dequantize = dequantize
            .named(&format!("{name}_dequantize"))
            .result(&format!("{name}_dequantize"), ty);
        let dq = e.insert(Place::After(q), dequantize).map_err(edit_error)?;
        Ok((q, dq))
    }

    /// A string constant spelled as the program spells scalars.
    fn string(&self, s: &str) -> TypedValue {
        TypedValue {
            ty: if self.rank0 {
                Type::tensor(DType::String, &[])
            } else {
                Type::Scalar(DType::String)
            },
            data: ConstData::Tensor(Elements::Str(vec![s.to_string()])),
        }
    }
}

/// The ops reading `v`, once per use, in the order they were made (pymil's `child_ops`).
fn children(f: &Function, v: ValueId) -> Vec<OpId> {
    let mut ops: Vec<OpId> = f
        .value(v)
        .uses
        .iter()
        .filter_map(|u| match u {
            Use::Operand { op, .. } => Some(*op),
            _ => None,
        })
        .collect();
    ops.sort_by_key(|op| op.0);
    ops
}

/// The one op reading `v` once (`_check_child_op_type`'s condition).
fn only_reader(f: &Function, v: ValueId) -> Option<OpId> {
    match children(f, v).as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// The kind of the op whose result `operand` names.
fn producer_kind<'f>(f: &'f Function, operand: Option<&Operand>) -> Option<&'f str> {
    let Some(Operand::Value(r)) = operand else {
        return None;
    };
    match f.value(r.id?).def {
        ValueDef::Result(op, _) => Some(f.op(op).kind.as_str()),
        _ => None,
    }
}

/// Whether `ty` is an fp16 or fp32 tensor.
fn is_float(ty: &Type) -> bool {
    matches!(ty.dtype(), Some(DType::Fp16 | DType::Fp32))
}

/// The passes edit live values only, before the ops that read them, so the editor accepts them.
fn edit_error(e: mil_ir::EditError) -> QuantError {
    unreachable!("a quantize/dequantize pair is inserted between live values: {e:?}")
}
