//! FP16 compute precision, as coremltools 9.0 writes it with `compute_precision=FLOAT16`.
//!
//! coremltools' `FP16ComputePrecision` pass (`common::add_fp16_cast`,
//! `converters/mil/mil/passes/defs/quantization.py`) gives every op it can an fp16 twin: each fp32
//! input is cast to fp16 (`VAR_to_fp16`), the op is rebuilt as `NAME_cast_fp16`, and each fp32
//! result is cast back (`RESULT_to_fp32`). The pipeline then folds casts of consts into fp16 consts
//! (`const_elimination`), cancels the fp16 → fp32 → fp16 pairs between two fp16 ops and fuses a
//! cast back into a following `cast` (`cast_optimization`), and drops what is left unread. This
//! module writes that end result directly:
//!
//! - **Skipped ops** stay in fp32: `cast`, `while_loop`, `cond`, the list ops, `read_state`,
//!   `coreml_update_state`, ops not in the catalogue for the opset, and an op with an fp32 const
//!   input holding a finite value above 65504 (values of 1e38 or more count as infinities, which
//!   fp16 keeps).
//! - **Inputs** cast: those whose type domain has fp16; from iOS17 not `alpha` of `elu`,
//!   `leaky_relu`, `prelu`, `thresholded_relu`, nor `alpha`/`beta` of `clamped_relu`,
//!   `linear_activation`, `scaled_tanh`, `sigmoid_hard`, `softplus_parametric`, nor `epsilon` of
//!   `inverse`, `log`, `rsqrt` (Core ML computes those in mixed precision).
//! - **Consts** read by an fp16 op become fp16 consts `VAR_to_fp16` (values of 1e38 or more become
//!   infinities); in a const of fewer than 400 elements, a non-zero value that rounds to zero or to
//!   the smallest subnormal becomes the smallest subnormal of its sign (`_check_underflow_to_zero`).
//!   The fp32 const goes when nothing else reads it.
//! - **Results** read by an fp32 op or returned get one cast back to fp32; a returned value keeps
//!   its name. A `cast` reading a result reads the fp16 value itself (a cast to fp16 then is
//!   dropped).
//!
//! - **Blocks** of `cond` and `while_loop` are converted like the body, each before the op that
//!   owns it (`apply_block` recurses first), while the op itself stays fp32: an fp32 value a nested
//!   op reads (a block parameter, a value or const from outside) gets a twin of its own inside the
//!   block (coremltools caches casts per block), and a result the block returns is cast back to
//!   fp32. A converted result from an enclosing block is read in fp16 directly: its cast back and
//!   the block's cast to fp16 are the pair `cast_optimization` cancels.

use std::collections::HashMap;

use half::f16;
use mil_ir::catalogue::{self, Input, Opset};
use mil_ir::weights::{MemoryWeights, Weights};
use mil_ir::{
    BlockId, ConstData, DType, Elements, Function, NewOp, OpId, Operand, Place, Program, Type, TypedValue,
    Use, ValueDef, ValueId, ValueRef,
};

use crate::weights::{ValueMaker, read_floats};
use crate::{QuantError, Quantized, WeightError};

/// Ops coremltools never computes in fp16 (`_UNSUPPORTED_FP16_OPS`).
const UNSUPPORTED: [&str; 12] = [
    "cast",
    "while_loop",
    "cond",
    "make_list",
    "list_gather",
    "list_scatter",
    "list_read",
    "list_write",
    "list_length",
    "read_state",
    "coreml_update_state",
    "const",
];

/// The largest finite fp16.
const FP16_MAX: f32 = 65504.0;

/// From this magnitude on, an fp32 value counts as an infinity (`fp16_overflow`).
const INFINITE_FROM: f32 = 1e38;

/// Consts of this many elements or more keep values that underflow to zero.
const UNDERFLOW_CHECK_BELOW: usize = 400;

/// What moving a program to fp16 did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fp16Summary {
    /// How many ops now compute in fp16.
    pub ops: usize,
    /// The ops left in fp32 because a const input overflows fp16: (function, op name).
    pub overflowing: Vec<(String, String)>,
    /// The fp32 consts that got an fp16 twin, with their sizes and rounding error.
    pub consts: Vec<Quantized>,
}

/// Moves every function of `program` to fp16 compute precision, reading weights through `weights`
/// and putting new fp16 weights in `memory`. Nothing is changed on error.
pub fn compute_in_fp16(
    program: &mut Program,
    weights: &mut dyn Weights,
    memory: &mut MemoryWeights,
) -> Result<Fp16Summary, QuantError> {
    let mut summary = Fp16Summary::default();
    let rank0 = program.version == "1.0";
    let mut edited = program.clone();
    for f in &mut edited.functions {
        let mut values = ValueMaker { memory, rank0 };
        Converter {
            f,
            weights,
            values: &mut values,
            summary: &mut summary,
            twins: Vec::new(),
            fp16_of_back: HashMap::new(),
            const_twins: Vec::new(),
            casts_back: Vec::new(),
        }
        .run()?;
    }
    *program = edited;
    Ok(summary)
}

/// One function's conversion.
struct Converter<'a, 'm> {
    f: &'a mut Function,
    weights: &'a mut dyn Weights,
    values: &'a mut ValueMaker<'m>,
    summary: &'a mut Fp16Summary,
    /// For each block being converted, innermost last: the fp16 value standing in it for each
    /// fp32 value an fp16 op of the block reads.
    twins: Vec<HashMap<ValueId, ValueId>>,
    /// The fp16 result each cast back to fp32 reads.
    fp16_of_back: HashMap<ValueId, ValueId>,
    /// The fp32 consts that got a twin.
    const_twins: Vec<OpId>,
    /// The casts back to fp32 after converted ops.
    casts_back: Vec<OpId>,
}

impl Converter<'_, '_> {
    fn run(mut self) -> Result<(), QuantError> {
        let opset = Opset::parse(&self.f.opset);
        self.convert_block(self.f.body, opset)?;
        self.finish();
        Ok(())
    }

    /// Converts the ops of `block`, each after the blocks it owns.
    fn convert_block(&mut self, block: BlockId, opset: Option<Opset>) -> Result<(), QuantError> {
        self.twins.push(HashMap::new());
        for op in self.f.block(block).ops.clone() {
            for inner in self.f.op(op).blocks.clone() {
                self.convert_block(inner, opset)?;
            }
            let o = self.f.op(op);
            if UNSUPPORTED.contains(&o.kind.as_str()) || !o.blocks.is_empty() {
                continue;
            }
            let op_opset = o.opset.as_deref().map_or(opset, Opset::parse);
            let Some((version, op_opset)) =
                op_opset.and_then(|s| catalogue::lookup_in(&o.kind, s).ok().map(|v| (v, s)))
            else {
                continue;
            };
            if self.overflows(op)? {
                let name = self.f.op(op).name().unwrap_or_default().to_string();
                self.summary.overflowing.push((self.f.name.clone(), name));
                continue;
            }
            let mixed = op_opset >= Opset::Ios17;
            let castable: Vec<bool> = (self.f.op(op).args.iter())
                .map(|a| {
                    let key = a.key.as_deref().unwrap_or_default();
                    version
                        .input(key)
                        .is_some_and(|input| casts(input, &self.f.op(op).kind, key, mixed))
                })
                .collect();
            self.convert(op, &castable)?;
        }
        self.twins.pop();
        Ok(())
    }

    /// Whether an fp32 const input of `op` holds a finite value fp16 cannot hold.
    fn overflows(&mut self, op: OpId) -> Result<bool, QuantError> {
        let o = self.f.op(op);
        let mut consts: Vec<TypedValue> = Vec::new();
        for a in &o.args {
            if let Operand::Const(v) = &a.value {
                consts.push(v.clone());
            }
            for (_, r) in a.value.values() {
                if let Some((_, v)) = r.id.and_then(|id| self.const_of(id)) {
                    consts.push(v.clone());
                }
            }
        }
        for v in consts {
            if v.ty.dtype() == Some(DType::Fp32)
                && self
                    .floats(&v, "")?
                    .iter()
                    .any(|x| x.abs() > FP16_MAX && x.abs() < INFINITE_FROM)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The const op defining `value` and its value, when it is one.
    fn const_of(&self, value: ValueId) -> Option<(OpId, &TypedValue)> {
        match self.f.value(value).def {
            ValueDef::Result(op, 0) if self.f.op(op).kind == "const" => {
                Some((op, self.f.op(op).attribute("val")?))
            }
            _ => None,
        }
    }

    /// The floats of a float value (inline or in a weight file).
    fn floats(&mut self, v: &TypedValue, name: &str) -> Result<Vec<f32>, QuantError> {
        match read_floats(v, self.weights) {
            Ok(w) => Ok(w.map(|w| w.values).unwrap_or_default()),
            Err(message) => Err(QuantError::Unreadable {
                name: name.to_string(),
                message,
            }),
        }
    }

    /// Rebuilds `op` in fp16 when it reads an fp32 value through an input that `castable` marks.
    fn convert(&mut self, op: OpId, castable: &[bool]) -> Result<(), QuantError> {
        let mut args = self.f.op(op).args.clone();
        let mut changed = false;
        for (a, &cast) in args.iter_mut().zip(castable) {
            if !cast {
                continue;
            }
            let refs: Vec<(Option<u32>, ValueId)> = (a.value.values())
                .filter_map(|(item, r)| Some((item, r.id?)))
                .filter(|&(_, id)| is_fp32(&self.f.value(id).ty))
                .collect();
            for (item, id) in refs {
                let twin = self.twin(id, op)?;
                let name = self.f.value(twin).name.clone();
                *a.value.value_at_mut(item).expect("a value operand") = ValueRef { name, id: Some(twin) };
                changed = true;
            }
            changed |= to_fp16_inline(&mut a.value);
        }
        if !changed {
            return Ok(());
        }
        let o = self.f.op(op);
        let name = format!("{}_cast_fp16", o.name().unwrap_or(&o.kind));
        let mut new = NewOp::new(&o.kind).named(&name);
        if let Some(opset) = &o.opset {
            new = new.opset(opset);
        }
        for a in args {
            new = new.arg(a.key.as_deref().unwrap_or_default(), a.value);
        }
        for a in o.attributes.iter().filter(|a| a.key != "name") {
            new = new.attr(&a.key, a.value.clone());
        }
        let results = o.results.clone();
        for (i, &r) in results.iter().enumerate() {
            let result = if results.len() == 1 {
                name.clone()
            } else {
                format!("{name}_{i}")
            };
            new = new.result(&result, fp16_of(&self.f.value(r).ty));
        }
        let mut edit = self.f.edit();
        let new_op = edit
            .insert(Place::Before(op), new)
            .expect("the operands are live");
        let new_results = edit.function().op(new_op).results.clone();
        let mut replacements = Vec::with_capacity(results.len());
        for (&old, &new) in results.iter().zip(&new_results) {
            if !is_fp32(&edit.function().value(old).ty) {
                replacements.push(new);
                continue;
            }
            let back = format!("{}_to_fp32", edit.function().value(new).name);
            let cast = NewOp::new("cast")
                .arg("x", edit.operand(new))
                .arg("dtype", Operand::Const(TypedValue::string("fp32")))
                .result(&back, edit.function().value(old).ty.clone());
            let cast = edit
                .insert(Place::After(new_op), cast)
                .expect("the result is live");
            let back = edit.function().op(cast).results[0];
            self.casts_back.push(cast);
            self.fp16_of_back.insert(back, new);
            replacements.push(back);
        }
        edit.replace_op_with(op, &replacements)
            .expect("the new values do not read the old op");
        self.summary.ops += 1;
        Ok(())
    }

    /// The fp16 twin of the fp32 value `id`, made before `reader` the first time in the block
    /// being converted: the value itself before a cast back, an fp16 const for a const, else a
    /// cast.
    fn twin(&mut self, id: ValueId, reader: OpId) -> Result<ValueId, QuantError> {
        let in_block = self.twins.last().and_then(|twins| twins.get(&id));
        if let Some(&twin) = self.fp16_of_back.get(&id).or(in_block) {
            return Ok(twin);
        }
        let name = format!("{}_to_fp16", self.f.value(id).name);
        let new = match self.const_of(id) {
            Some((const_op, v)) => {
                let v = v.clone();
                let values = self.floats(&v, &name)?;
                let fp16 = rounded(&values);
                let shape: Vec<u64> = (v.ty.shape().unwrap_or(&[]).iter())
                    .map(|d| match d {
                        mil_ir::Dim::Known(n) => *n,
                        mil_ir::Dim::Unknown => 0,
                    })
                    .collect();
                let mut value = self.values.floats(DType::Fp16, &shape, &fp16);
                if matches!(v.ty, Type::Scalar(_)) {
                    value.ty = Type::Scalar(DType::Fp16);
                }
                self.summary.consts.push(Quantized {
                    function: self.f.name.clone(),
                    name: self.f.op(const_op).name().unwrap_or(&name).to_string(),
                    bytes_before: values.len() as u64 * 4,
                    bytes_after: values.len() as u64 * 2,
                    error: WeightError::between(&values, &fp16),
                    shape,
                });
                self.const_twins.push(const_op);
                NewOp::new("const")
                    .attr("val", value)
                    .result(&name, fp16_of(&v.ty))
            }
            None => NewOp::new("cast")
                .arg("x", self.f.edit().operand(id))
                .arg("dtype", Operand::Const(TypedValue::string("fp16")))
                .result(&name, fp16_of(&self.f.value(id).ty)),
        };
        let mut edit = self.f.edit();
        let op = edit
            .insert(Place::Before(reader), new)
            .expect("the value is live");
        let twin = edit.function().op(op).results[0];
        self.block_twins().insert(id, twin);
        Ok(twin)
    }

    /// The twins made in the block being converted.
    fn block_twins(&mut self) -> &mut HashMap<ValueId, ValueId> {
        self.twins.last_mut().expect("inside a block")
    }

    /// Lets `cast` ops read fp16 results directly, and erases the casts back and fp32 consts
    /// nothing reads any more.
    fn finish(self) {
        let mut edit = self.f.edit();
        for &cast in &self.casts_back {
            let back = edit.function().op(cast).results[0];
            let fp16 = self.fp16_of_back[&back];
            let readers: Vec<OpId> = (edit.function().value(back).uses.iter())
                .filter_map(|u| match u {
                    Use::Operand { op, .. } if edit.function().op(*op).kind == "cast" => Some(*op),
                    _ => None,
                })
                .collect();
            for reader in readers {
                let to_fp16 = edit
                    .function()
                    .op(reader)
                    .arg("dtype")
                    .is_some_and(|d| is_fp16_name(edit.function(), d));
                if to_fp16 {
                    edit.replace_op_with(reader, &[fp16])
                        .expect("the fp16 value is live");
                } else {
                    edit.edit_args(reader, |args| {
                        for a in args.iter_mut().filter(|a| a.key.as_deref() == Some("x")) {
                            a.value = Operand::Value(ValueRef {
                                name: "".into(),
                                id: Some(fp16),
                            });
                        }
                    })
                    .expect("the fp16 value is live");
                }
            }
        }
        for &op in self.casts_back.iter().chain(&self.const_twins) {
            if edit.is_live(op)
                && edit
                    .function()
                    .value(edit.function().op(op).results[0])
                    .uses
                    .is_empty()
            {
                edit.erase(op).expect("nothing reads it");
            }
        }
    }
}

/// Whether coremltools casts input `key` of `kind` to fp16 (`should_cast_parameter`): its dtypes
/// include fp16, and from iOS17 (`mixed`) it is not one of the parameters kept in fp32.
fn casts(input: &Input, kind: &str, key: &str, mixed: bool) -> bool {
    const ALPHA: [&str; 4] = ["elu", "leaky_relu", "prelu", "thresholded_relu"];
    const ALPHA_BETA: [&str; 5] = [
        "clamped_relu",
        "linear_activation",
        "scaled_tanh",
        "sigmoid_hard",
        "softplus_parametric",
    ];
    const EPSILON: [&str; 3] = ["inverse", "log", "rsqrt"];
    let kept = mixed
        && ((key == "alpha" && ALPHA.contains(&kind))
            || (matches!(key, "alpha" | "beta") && ALPHA_BETA.contains(&kind))
            || (key == "epsilon" && EPSILON.contains(&kind)));
    (input.dtypes.is_empty() || input.dtypes.contains(&DType::Fp16)) && !kept
}

/// Whether `ty` is an fp32 tensor or scalar.
fn is_fp32(ty: &Type) -> bool {
    matches!(
        ty,
        Type::Tensor {
            dtype: DType::Fp32,
            ..
        } | Type::Scalar(DType::Fp32)
    )
}

/// `ty` with fp16 for fp32.
fn fp16_of(ty: &Type) -> Type {
    match ty {
        Type::Tensor {
            dtype: DType::Fp32,
            shape,
        } => Type::Tensor {
            dtype: DType::Fp16,
            shape: shape.clone(),
        },
        Type::Scalar(DType::Fp32) => Type::Scalar(DType::Fp16),
        other => other.clone(),
    }
}

/// Whether a cast's `dtype` operand says `fp16`, inline or through a const.
fn is_fp16_name(f: &Function, operand: &Operand) -> bool {
    let value = match operand {
        Operand::Const(v) => Some(v),
        Operand::Value(r) => r.id.and_then(|id| match f.value(id).def {
            ValueDef::Result(op, 0) if f.op(op).kind == "const" => f.op(op).attribute("val"),
            _ => None,
        }),
        Operand::Tuple(_) => None,
    };
    matches!(value.map(|v| &v.data), Some(ConstData::Tensor(Elements::Str(s))) if s.first().is_some_and(|s| s == "fp16"))
}

/// Turns inline fp32 constants of `operand` into fp16 ones; whether there was one.
fn to_fp16_inline(operand: &mut Operand) -> bool {
    match operand {
        Operand::Const(v) if is_fp32(&v.ty) => {
            let ConstData::Tensor(Elements::F32(values)) = &v.data else {
                return false;
            };
            let fp16 = rounded(values).into_iter().map(f16::from_f32).collect();
            *v = TypedValue {
                ty: fp16_of(&v.ty),
                data: ConstData::Tensor(Elements::F16(fp16)),
            };
            true
        }
        Operand::Tuple(items) => items.iter_mut().fold(false, |any, o| to_fp16_inline(o) | any),
        _ => false,
    }
}

/// The fp16 values (as floats) of fp32 `values`: rounded to nearest, and in a const of fewer than
/// 400 elements a non-zero value that lands on zero or the smallest subnormal gets the smallest
/// subnormal of its sign (`_check_underflow_to_zero`).
pub fn rounded(values: &[f32]) -> Vec<f32> {
    let smallest = f16::from_bits(1).to_f32();
    let check = values.len() < UNDERFLOW_CHECK_BELOW;
    values
        .iter()
        .map(|&x| {
            let h = f16::from_f32(x).to_f32();
            // np.isclose(v, 0, atol=smallest subnormal, rtol=eps): |v| <= smallest subnormal.
            let zero32 = x.abs() <= f32::from_bits(1);
            if check && !zero32 && h.abs() <= smallest {
                smallest.copysign(x)
            } else {
                h
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_consts_keep_tiny_values_off_zero() {
        let smallest = f16::from_bits(1).to_f32();
        // 1e-9 and -1e-9 round to ±0 in fp16; 3e-8 to the smallest subnormal (5.96e-8); 0 and
        // fp32's smallest subnormal count as zero and stay 0; 1.0 and 7e4 round as usual.
        let got = rounded(&[1e-9, -1e-9, 3e-8, 0.0, f32::from_bits(1), 1.0, 7e4]);
        assert_eq!(
            got,
            vec![smallest, -smallest, smallest, 0.0, 0.0, 1.0, f32::INFINITY]
        );
    }

    #[test]
    fn large_consts_may_underflow() {
        let got = rounded(&[1e-9; UNDERFLOW_CHECK_BELOW]);
        assert!(got.iter().all(|&x| x == 0.0));
    }
}
