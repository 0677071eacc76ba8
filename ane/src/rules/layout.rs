//! Layouts and precisions that run, but slower (ANE101–ANE105, ANE107, ANE114).

use super::{
    AXIS_ABOVE_16384, Cx, FP32_COMPUTE, Finding, LAST_AXIS_ALIGNMENT, LAST_AXIS_ONE, NOT_BC1S,
    RANK_ABOVE_FIVE, Site, TOPK_UNDERPRICED,
};
use crate::rule::Rule;
use crate::tensor::{dims, is_constant, known_dims, output_types};
use mil_ir::{DType, Dim, OpId, Operation};

/// The widest axis lore allows.
const LORE_MAX_AXIS: u64 = 16_384;

/// Fires on the layout of an op's results.
pub(super) fn check(cx: &Cx, op: &Operation, site: Site, out: &mut Vec<Finding>) {
    let Some(ty) = output_types(cx.f, op).next() else {
        return;
    };
    if let Some(d) = dims(ty)
        && d.len() > 5
    {
        let what = format!(
            "may run on CPU: its result has rank {}; lore says rank > 4 falls back, and Core ML's size check names only five axes (N, D, C, H, W)",
            d.len()
        );
        out.push(Finding::new(&RANK_ABOVE_FIVE, site, what));
    }
    if let Some(shape) = known_dims(ty) {
        let widest = shape.iter().copied().max().unwrap_or(0);
        if widest > LORE_MAX_AXIS && widest <= super::limits::MAX_DIM {
            let what = format!(
                "an axis of {widest} is above lore's 16,384 limit; Core ML's plan on M4 keeps a 16,385-wide axis eligible, so expect it to run, maybe tiled"
            );
            out.push(Finding::new(&AXIS_ABOVE_16384, site, what));
        }
    }
    match op.kind.as_str() {
        "linear" => out.push(Finding::new(
            &NOT_BC1S,
            site,
            "linear works on channels-last tensors; on the ANE a 1×1 conv on (B, C, 1, S) is about 3× faster",
        )),
        "matmul" if op.arg("y").is_some_and(|y| is_constant(cx.f, y)) => out.push(Finding::new(
            &NOT_BC1S,
            site,
            "matmul by constant weights; on the ANE a 1×1 conv on (B, C, 1, S) is about 3× faster",
        )),
        "topk" => out.push(Finding::new(
            &TOPK_UNDERPRICED,
            site,
            "Core ML's planner prices topk on the ANE at ~2 µs, about 200× below its measured cost, so placing it there is slow",
        )),
        _ => {}
    }
}

/// What is wrong with a last axis, if anything: the ANE pads the last axis to 64 bytes.
fn last_axis_waste(dtype: Option<DType>, shape: &[u64]) -> Option<(&'static Rule, u64)> {
    let (Some(&last), Some(bits)) = (shape.last(), dtype.and_then(|d| d.bits())) else {
        return None;
    };
    let total: u64 = shape.iter().product();
    let bytes = (last * u64::from(bits)).div_ceil(8);
    if shape.len() < 2 || total <= 1 {
        None
    } else if last == 1 {
        Some((&LAST_AXIS_ONE, bytes))
    } else if bytes % 64 != 0 {
        Some((&LAST_AXIS_ALIGNMENT, bytes))
    } else {
        None
    }
}

/// Fires once per function and rule on results whose last axis wastes lanes, at the first such op,
/// with the count (per op it would flag most of a real model).
fn check_last_axes(cx: &Cx, out: &mut Vec<Finding>) {
    let mut first: [Option<(OpId, u64)>; 2] = [None, None];
    let mut count = [0usize; 2];
    for id in cx.f.walk_ops() {
        let op = cx.f.op(id);
        if op.kind == "const" || op.is_runtime_boundary() {
            continue;
        }
        let Some(ty) = output_types(cx.f, op).next() else {
            continue;
        };
        let Some((rule, bytes)) = known_dims(ty).and_then(|s| last_axis_waste(ty.dtype(), &s)) else {
            continue;
        };
        let i = usize::from(std::ptr::eq(rule, &LAST_AXIS_ALIGNMENT));
        count[i] += 1;
        first[i].get_or_insert((id, bytes));
    }
    let others = |n: usize| match n {
        1 => String::new(),
        n => format!(" ({} more ops like it in this function)", n - 1),
    };
    if let Some((id, _)) = first[0] {
        let what = format!(
            "its last axis has size 1: the ANE pads the last axis to 64 bytes, so most of every row is padding{}",
            others(count[0])
        );
        out.push(Finding::new(&LAST_AXIS_ONE, Site::Op(id), what));
    }
    if let Some((id, bytes)) = first[1] {
        let what = format!(
            "its last axis is {bytes} bytes, not a multiple of 64: the ANE pads every row{}",
            others(count[1])
        );
        out.push(Finding::new(&LAST_AXIS_ALIGNMENT, Site::Op(id), what));
    }
}

/// Fires once per function on wasted last axes and on the ops that compute in fp32.
pub(super) fn check_function(cx: &Cx, out: &mut Vec<Finding>) {
    check_last_axes(cx, out);
    let fp32: Vec<_> =
        cx.f.walk_ops()
            .into_iter()
            .filter(|&id| {
                let op = cx.f.op(id);
                !matches!(op.kind.as_str(), "const" | "cast")
                    && !op.kind.starts_with("constexpr_")
                    && !op.is_runtime_boundary()
                    && output_types(cx.f, op)
                        .any(|t| t.dtype() == Some(DType::Fp32) && dims(t).is_some_and(has_data))
            })
            .collect();
    if let Some(&first) = fp32.first() {
        let what = format!(
            "{} compute{} in fp32: the ANE computes in fp16, so Core ML inserts casts around them",
            if fp32.len() == 1 {
                "this op".to_string()
            } else {
                format!("{} ops", fp32.len())
            },
            if fp32.len() == 1 { "s" } else { "" }
        );
        out.push(Finding::new(&FP32_COMPUTE, Site::Op(first), what));
    }
}

/// Whether a shape is more than a scalar.
fn has_data(d: &[Dim]) -> bool {
    !d.is_empty()
}
