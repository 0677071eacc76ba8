//! int8 weights and activations (ANE112, ANE113); the second depends on the chip.

use super::{Cx, Finding, Site, W8A8_CANDIDATE, WEIGHT_ONLY_INT8};
use crate::facts::{Input, OpFacts};
use crate::kind::Kind;
use crate::tensor::{defining_op, known_dims, operand_type};
use mil_ir::catalogue::Opset;
use mil_ir::{DType, Function, OpId, Operand, Operation};

/// What a function does with int8, gathered op by op.
#[derive(Default)]
pub(super) struct Quantization {
    activations_quantized: bool,
    first_int8_weight: Option<OpId>,
    first_conv: Option<OpId>,
    convs: usize,
}

impl Quantization {
    /// Notes the op's part in int8 weights, int8 activations and fp16 3×3 convs.
    pub(super) fn visit(&mut self, cx: &Cx, facts: &OpFacts) {
        let (f, id, op) = (cx.f, facts.id, facts.op);
        match facts.kind {
            Kind::Quantize => self.activations_quantized = true,
            Kind::Conv if is_fp16_3x3_conv(f, facts) => {
                self.convs += 1;
                self.first_conv.get_or_insert(id);
            }
            Kind::Constexpr if is_int8_weight(f, op) => {
                self.first_int8_weight.get_or_insert(id);
            }
            _ => {}
        }
    }

    /// Adds what was gathered over the ops right after these.
    pub(super) fn append(&mut self, later: Quantization) {
        self.activations_quantized |= later.activations_quantized;
        self.first_int8_weight = self.first_int8_weight.or(later.first_int8_weight);
        self.first_conv = self.first_conv.or(later.first_conv);
        self.convs += later.convs;
    }

    /// Fires once per function on weight-only int8 and on 3×3 convs that W8A8 would speed up.
    pub(super) fn finish(self, cx: &Cx, out: &mut Vec<Finding>) {
        if !self.activations_quantized
            && let Some(first) = self.first_int8_weight
        {
            let what = "int8 weights dequantized to fp16 save memory bandwidth, not compute: weight-only int8 gives no speed-up on the ANE";
            out.push(Finding::new(&WEIGHT_ONLY_INT8, Site::Op(first), what));
        }
        if !cx.chip.int8_compute || cx.opset < Opset::Ios17 {
            return;
        }
        if let Some(first) = self.first_conv {
            let what = format!(
                "{} fp16 3×3 conv{} could run at 2× throughput on the {} with int8 activations (W8A8); 1×1 chains see no gain",
                self.convs,
                if self.convs == 1 { "" } else { "s" },
                cx.target.chip
            );
            out.push(Finding::new(&W8A8_CANDIDATE, Site::Op(first), what));
        }
    }
}

/// A `constexpr_*` op that expands int8 data into float weights.
fn is_int8_weight(f: &Function, op: &Operation) -> bool {
    let data = op
        .attribute("quantized_data")
        .map(|tv| tv.ty.dtype())
        .or_else(|| op.arg("data").and_then(|o| operand_type(f, o)).map(|t| t.dtype()));
    matches!(data.flatten(), Some(DType::Int8 | DType::UInt8))
}

/// An fp16 conv with a 3×3 kernel whose input is not already dequantized int8.
fn is_fp16_3x3_conv(f: &Function, facts: &OpFacts) -> bool {
    let kernel_3x3 = facts
        .arg(Input::Weight)
        .and_then(|o| operand_type(f, o))
        .and_then(known_dims)
        .is_some_and(|w| w.len() == 4 && w[2] == 3 && w[3] == 3);
    let x = facts.arg(Input::X);
    let fp16 = x.and_then(|o| operand_type(f, o)).and_then(|t| t.dtype()) == Some(DType::Fp16);
    let from_dequantize = matches!(x, Some(Operand::Value(r))
        if r.id.and_then(|v| defining_op(f, v)).is_some_and(|d| f.op(d).kind == "dequantize"));
    kernel_3x3 && fp16 && !from_dequantize
}
