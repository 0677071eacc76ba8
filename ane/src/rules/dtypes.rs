//! Data types the Neural Engine refuses (ANE005, ANE007, ANE008, ANE011).

use super::{CROP_RESIZE_INDICES, Cx, Finding, INT32_RESULT, INT32_SCALAR_COMPARE, INT32_TENSOR, Site};
use crate::tensor::{dims, input_types, is_constant, operand_type, output_types};
use mil_ir::{DType, Operand, Operation};

/// Ops whose integer result Core ML reports as `Output type int32 is not supported.`
const INT32_RESULT_OPS: &[&str] = &["reduce_argmax", "reduce_argmin", "argsort", "topk"];

/// Comparisons, whose int32 scalar operands Core ML fails to resolve.
const COMPARISONS: &[&str] = &[
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
];

/// Fires once per op, with the most specific of the int32 verdicts.
pub(super) fn check(cx: &Cx, op: &Operation, site: Site, out: &mut Vec<Finding>) {
    let f = cx.f;
    let int32_out = output_types(f, op).any(|t| t.dtype() == Some(DType::Int32));
    if int32_out && INT32_RESULT_OPS.contains(&op.kind.as_str()) {
        let fix = if op.kind == "topk" && cx.opset >= mil_ir::catalogue::Opset::Ios17 {
            INT32_RESULT.fix
        } else if op.kind == "topk" {
            Some("`raise-deployment-target`: iOS17's topk can return uint16 indices")
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
    if op.kind == "crop_resize"
        && op
            .arg("box_indices")
            .and_then(|o| operand_type(f, o))
            .is_some_and(|t| t.dtype() == Some(DType::Int32))
    {
        let what = "runs on CPU: Core ML reports 'type int32 for \"box_indices\" is not supported. only support UInt16.'";
        out.push(Finding::new(&CROP_RESIZE_INDICES, site, what));
        return;
    }
    if COMPARISONS.contains(&op.kind.as_str()) && has_int32_scalar(cx, op) {
        let what = "runs on CPU: Core ML reports 'Unable to resolve operation input \"y\".' for an int32 scalar operand";
        out.push(Finding::new(&INT32_SCALAR_COMPARE, site, what));
        return;
    }
    let int32_in = op.args.iter().any(|a| reads_int32(cx, &a.value));
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
        o => !is_constant(cx.f, o) && operand_type(cx.f, o).is_some_and(|t| t.dtype() == Some(DType::Int32)),
    }
}

/// Whether a comparison has an int32 operand of rank 0.
fn has_int32_scalar(cx: &Cx, op: &Operation) -> bool {
    input_types(cx.f, op)
        .any(|(_, t)| t.dtype() == Some(DType::Int32) && dims(t).is_some_and(|d| d.is_empty()))
}
