//! Gather and its indices (ANE012, ANE013, ANE019).

use super::{Cx, DYNAMIC_GATHER_INDEX, Finding, INDEX_CAST_ON_CPU, OLD_OPSET_INDICES, Site};
use crate::facts::OpFacts;
use crate::kind::Kind;
use crate::tensor::{is_constant, operand_type};
use mil_ir::DType;
use mil_ir::catalogue::Opset;

/// Fires on gathers whose indices keep them (or a cast before them) off the Neural Engine.
pub(super) fn check(cx: &Cx, facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    if !matches!(facts.kind, Kind::Gather | Kind::GatherByIndexTensor) {
        return;
    }
    let Some(indices) = facts.op.arg("indices") else {
        return;
    };
    let constant = is_constant(cx.f, indices);
    let int32 = operand_type(cx.f, indices).is_some_and(|t| t.dtype() == Some(DType::Int32));
    match facts.kind {
        Kind::Gather if !constant => {
            let what = "runs on CPU: its indices are computed at run time and Core ML reports 'Unsupported gather index type'; the index normalisation it inserts (casts, greater_equal, add, select) is CPU-only too";
            out.push(Finding::new(&DYNAMIC_GATHER_INDEX, site, what));
        }
        Kind::Gather if int32 && cx.opset < Opset::Ios16 => {
            let what = format!(
                "runs on CPU: {}'s gather takes only int32 indices, so Core ML cannot narrow the constant indices to uint16",
                cx.opset
            );
            out.push(Finding::new(&OLD_OPSET_INDICES, site, what));
        }
        Kind::GatherByIndexTensor if int32 && !constant => {
            let what = "eligible, but Core ML first casts its int32 indices to int16 on the CPU, adding a CPU segment before it";
            out.push(Finding::new(&INDEX_CAST_ON_CPU, site, what));
        }
        _ => {}
    }
}
