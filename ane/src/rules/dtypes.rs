//! Data types the Neural Engine refuses (ANE005, ANE007, ANE008, ANE011).

use super::{CROP_RESIZE_INDICES, Cx, Finding, INT32_RESULT, INT32_SCALAR_COMPARE, INT32_TENSOR, Site};
use crate::facts::OpFacts;
use crate::kind::Kind;
use crate::rule::Fix;
use crate::tensor::{is_constant, operand_type};
use mil_ir::{DType, Operand};

/// Fires once per op, with the most specific of the int32 verdicts.
pub(super) fn check(cx: &Cx, facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    let (f, op, int32_out) = (cx.f, facts.op, facts.int32_out);
    // Ops whose integer result Core ML reports as `Output type int32 is not supported.`
    if int32_out && matches!(facts.kind, Kind::Int32Result | Kind::Topk) {
        let topk = facts.kind == Kind::Topk;
        let fix = if topk && cx.opset >= mil_ir::catalogue::Opset::Ios17 {
            INT32_RESULT.fix
        } else if topk {
            Some(Fix::Advice(
                "target iOS17 or later, whose topk can return uint16 indices",
            ))
        } else {
            None
        };
        let what = format!(
            "runs on CPU: Core ML reports 'Output type int32 is not supported.' for {}",
            op.kind
        );
        out.push(Finding::new(&INT32_RESULT, site, what).with_fix(fix));
        return;
    }
    if facts.kind == Kind::CropResize
        && op
            .arg("box_indices")
            .and_then(|o| operand_type(f, o))
            .is_some_and(|t| t.dtype() == Some(DType::Int32))
    {
        let what = "runs on CPU: Core ML reports 'type int32 for \"box_indices\" is not supported. only support UInt16.'";
        out.push(Finding::new(&CROP_RESIZE_INDICES, site, what));
        return;
    }
    // Comparisons, whose int32 scalar operands Core ML fails to resolve.
    if facts.kind == Kind::Comparison && facts.int32_scalar_in {
        let what = "runs on CPU: Core ML reports 'Unable to resolve operation input \"y\".' for an int32 scalar operand";
        out.push(Finding::new(&INT32_SCALAR_COMPARE, site, what));
        return;
    }
    let int32_in = facts.int32_in && op.args.iter().any(|a| reads_int32(cx, &a.value));
    if int32_in || int32_out {
        let which = if int32_in { "reads" } else { "produces" };
        let what = format!(
            "runs on CPU: it {which} an int32 tensor and Core ML reports 'Unsupported tensor data type: int32'"
        );
        out.push(Finding::new(&INT32_TENSOR, site, what));
    }
}

/// Whether a computed (non-constant) operand is an int32 tensor; constant int32 parameters (axes,
/// shapes, constant gather indices) are folded or narrowed by Core ML.
fn reads_int32(cx: &Cx, operand: &Operand) -> bool {
    match operand {
        Operand::Tuple(items) => items.iter().any(|o| reads_int32(cx, o)),
        o => operand_type(cx.f, o).is_some_and(|t| t.dtype() == Some(DType::Int32)) && !is_constant(cx.f, o),
    }
}
