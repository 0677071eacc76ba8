//! The on-chip memory budget (ANE110, ANE111).

use super::{Cx, Finding, Site, TENSOR_OVER_BUDGET, WEIGHTS_OVER_BUDGET};
use crate::tensor::{bytes, output_types};

/// About 32 MB of on-chip memory (probes).
pub const ON_CHIP_BYTES: u64 = 32 << 20;
/// Weights beyond this per compiled program failed in probes.
pub const PROGRAM_WEIGHT_BYTES: u64 = 8 << 20;

/// Fires on results larger than the on-chip memory and on functions with more weights than a
/// program held in probes.
pub(super) fn check(cx: &Cx, out: &mut Vec<Finding>) {
    let f = cx.f;
    let mut weights = 0u64;
    let mut first_const = None;
    for id in f.walk_ops() {
        let op = f.op(id);
        let size: u64 = output_types(f, op).filter_map(bytes).sum();
        if op.kind == "const" || op.kind.starts_with("constexpr_") {
            weights += size;
            first_const.get_or_insert(id);
            continue;
        }
        if size > ON_CHIP_BYTES && !op.is_runtime_boundary() {
            let what = format!(
                "its result is {:.1} MB, more than the ≈32 MB of on-chip memory: it streams through DRAM",
                mb(size)
            );
            out.push(Finding::new(&TENSOR_OVER_BUDGET, Site::Op(id), what));
        }
    }
    weights += inline_weights(cx);
    if weights > PROGRAM_WEIGHT_BYTES {
        let what = format!(
            "the function holds {:.1} MB of weights; probes of the private compiler failed beyond ~8 MB per program and the chip has ≈32 MB, so weights stream from DRAM",
            mb(weights)
        );
        let site = first_const.map(Site::Op).unwrap_or(Site::Param(0));
        out.push(Finding::new(&WEIGHTS_OVER_BUDGET, site, what));
    }
}

/// Bytes of weights written inline as operands (`weight = tensor<..>(BLOBFILE(..))`).
fn inline_weights(cx: &Cx) -> u64 {
    cx.f.ops
        .iter()
        .flat_map(|op| op.args.iter())
        .filter_map(|a| match &a.value {
            mil_ir::Operand::Const(tv) => bytes(&tv.ty),
            _ => None,
        })
        .sum()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}
