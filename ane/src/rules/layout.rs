//! Layouts and precisions that run, but slower (ANE101–ANE105, ANE107, ANE114).

use super::{
    AXIS_ABOVE_16384, Cx, FP32_COMPUTE, Finding, LAST_AXIS_ALIGNMENT, LAST_AXIS_ONE, NOT_BC1S,
    RANK_ABOVE_FIVE, Site, TOPK_UNDERPRICED,
};
use crate::facts::{Input, OpFacts, Size};
use crate::kind::Kind;
use crate::rule::Rule;
use crate::tensor::{dims, is_constant};
use mil_ir::diagnostic::count;
use mil_ir::{DType, Dim, OpId, Type};

/// The widest axis lore allows.
const LORE_MAX_AXIS: u64 = 16_384;

/// Fires on the layout of an op's results.
pub(super) fn check(cx: &Cx, facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    let Some((_, size)) = facts.first_out else {
        return;
    };
    if let Some(rank) = size.rank
        && rank > 5
    {
        let what = format!(
            "may run on CPU: its result has rank {rank}; lore says rank > 4 falls back, and Core ML's size check names only five axes (N, D, C, H, W)"
        );
        out.push(Finding::new(&RANK_ABOVE_FIVE, site, what));
    }
    {
        let widest = size.widest;
        if widest > LORE_MAX_AXIS && widest <= super::limits::MAX_DIM {
            let what = format!(
                "an axis of {widest} is above lore's 16,384 limit; Core ML's plan on M4 keeps a 16,385-wide axis eligible, so expect it to run, maybe tiled"
            );
            out.push(Finding::new(&AXIS_ABOVE_16384, site, what));
        }
    }
    match facts.kind {
        Kind::Linear => out.push(Finding::new(
            &NOT_BC1S,
            site,
            "linear works on channels-last tensors; on the ANE a 1×1 conv on (B, C, 1, S) is about 3× faster",
        )),
        Kind::Matmul if facts.arg(Input::Y).is_some_and(|y| is_constant(cx.f, y)) => out.push(Finding::new(
            &NOT_BC1S,
            site,
            "matmul by constant weights; on the ANE a 1×1 conv on (B, C, 1, S) is about 3× faster",
        )),
        Kind::Topk => out.push(Finding::new(
            &TOPK_UNDERPRICED,
            site,
            "Core ML's planner prices topk on the ANE at ~2 µs, about 200× below its measured cost, so placing it there is slow",
        )),
        _ => {}
    }
}

/// What is wrong with the last axis of a type of size `size`, if anything: the ANE pads the last
/// axis to 64 bytes. `ty` is walked again only when its element count overflows.
fn last_axis_waste(ty: &Type, size: &Size) -> Option<(&'static Rule, u64)> {
    let (Some(last), Some(bits), Some(rank)) = (size.last, size.dtype.and_then(|d| d.bits()), size.rank)
    else {
        return None;
    };
    let total = match size.elements {
        Some(n) => n,
        None => dims(ty)?.iter().try_fold(1u64, |acc, d| match d {
            Dim::Known(n) => Some(acc.saturating_mul(*n)),
            Dim::Unknown => None,
        })?,
    };
    let bytes = last.checked_mul(u64::from(bits))?.div_ceil(8);
    if rank < 2 || total <= 1 {
        None
    } else if last == 1 {
        Some((&LAST_AXIS_ONE, bytes))
    } else if bytes % 64 != 0 {
        Some((&LAST_AXIS_ALIGNMENT, bytes))
    } else {
        None
    }
}

/// Results whose last axis wastes lanes and ops computing in fp32, gathered op by op and reported
/// once per function at the first such op with the count (per op they would flag most of a model).
#[derive(Default)]
pub(super) struct Waste {
    /// First op and its last-axis bytes, and count: size-1 last axes, then unaligned ones.
    axes: [(Option<(OpId, u64)>, usize); 2],
    fp32: (Option<OpId>, usize),
}

impl Waste {
    /// Notes the op's first result.
    pub(super) fn visit(&mut self, facts: &OpFacts) {
        let Some((ty, size)) = facts.first_out else {
            return;
        };
        let id = facts.id;
        if let Some((rule, bytes)) = last_axis_waste(ty, &size) {
            let slot = &mut self.axes[usize::from(std::ptr::eq(rule, &LAST_AXIS_ALIGNMENT))];
            slot.0.get_or_insert((id, bytes));
            slot.1 += 1;
        }
        let fp32 = size.dtype == Some(DType::Fp32) && size.rank.is_some_and(|r| r > 0);
        if fp32 && !matches!(facts.kind, Kind::Cast | Kind::Constexpr) {
            self.fp32.0.get_or_insert(id);
            self.fp32.1 += 1;
        }
    }

    /// Adds what was gathered over the ops right after these.
    pub(super) fn append(&mut self, later: Waste) {
        for (slot, more) in self.axes.iter_mut().zip(later.axes) {
            slot.0 = slot.0.or(more.0);
            slot.1 += more.1;
        }
        self.fp32.0 = self.fp32.0.or(later.fp32.0);
        self.fp32.1 += later.fp32.1;
    }

    /// Reports what was gathered.
    pub(super) fn finish(self, out: &mut Vec<Finding>) {
        let others = |n: usize| match n {
            1 => String::new(),
            n => format!(" ({} like it in this function)", count(n - 1, "more op")),
        };
        if let (Some((id, _)), n) = self.axes[0] {
            let what = format!(
                "its last axis has size 1: the ANE pads the last axis to 64 bytes, so most of every row is padding{}",
                others(n)
            );
            out.push(Finding::new(&LAST_AXIS_ONE, Site::Op(id), what));
        }
        if let (Some((id, bytes)), n) = self.axes[1] {
            let what = format!(
                "its last axis is {bytes} bytes, not a multiple of 64: the ANE pads every row{}",
                others(n)
            );
            out.push(Finding::new(&LAST_AXIS_ALIGNMENT, Site::Op(id), what));
        }
        if let (Some(id), n) = self.fp32 {
            let (who, them) = if n == 1 {
                ("this op computes".to_string(), "it")
            } else {
                (format!("{n} ops compute"), "them")
            };
            let what =
                format!("{who} in fp32: the ANE computes in fp16, so Core ML inserts casts around {them}");
            out.push(Finding::new(&FP32_COMPUTE, Site::Op(id), what));
        }
    }
}
