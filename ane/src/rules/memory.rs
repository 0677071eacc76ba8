//! The on-chip memory budget (ANE110, ANE111).

use super::{Finding, Site, TENSOR_OVER_BUDGET, WEIGHTS_OVER_BUDGET};
use crate::facts::OpFacts;
use crate::kind::Kind;
use mil_ir::OpId;

/// About 32 MB of on-chip memory (probes).
pub const ON_CHIP_BYTES: u64 = 32 << 20;
/// Weights beyond this per compiled program failed in probes.
pub const PROGRAM_WEIGHT_BYTES: u64 = 8 << 20;

/// The weights of a function, counted op by op.
#[derive(Default)]
pub(super) struct Budget {
    weights: u64,
    first_weight: Option<OpId>,
}

impl Budget {
    /// Counts the op's weights and fires on a result larger than the on-chip memory.
    pub(super) fn visit(&mut self, facts: &OpFacts, out: &mut Vec<Finding>) {
        let (id, size) = (facts.id, facts.out_bytes);
        if matches!(facts.kind, Kind::Const | Kind::Constexpr) {
            self.weights += size;
            self.first_weight.get_or_insert(id);
            return;
        }
        let inline = facts.inline_bytes;
        if inline > 0 {
            self.weights += inline;
            self.first_weight.get_or_insert(id);
        }
        if size > ON_CHIP_BYTES && facts.kind != Kind::Boundary {
            let what = format!(
                "its result is {:.1} MB, more than the ≈32 MB of on-chip memory: it streams through DRAM",
                mb(size)
            );
            out.push(Finding::new(&TENSOR_OVER_BUDGET, Site::Op(id), what));
        }
    }

    /// Adds what was counted over the ops right after these.
    pub(super) fn append(&mut self, later: Budget) {
        self.weights += later.weights;
        self.first_weight = self.first_weight.or(later.first_weight);
    }

    /// Fires when the function holds more weights than a program held in probes.
    pub(super) fn finish(self, out: &mut Vec<Finding>) {
        if self.weights > PROGRAM_WEIGHT_BYTES {
            let what = format!(
                "the function holds {:.1} MB of weights; probes of the private compiler failed beyond ~8 MB per program and the chip has ≈32 MB, so weights stream from DRAM",
                mb(self.weights)
            );
            let site = self.first_weight.map_or(Site::Param(0), Site::Op);
            out.push(Finding::new(&WEIGHTS_OVER_BUDGET, site, what));
        }
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}
