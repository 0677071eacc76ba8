//! The eligibility and layout rules, one small rule per fact of `docs/ane.md` (catalogued in
//! `docs/ane-rules.md`), and the pass that runs them over a function.

mod dtypes;
mod gather;
mod io;
mod layout;
mod limits;
mod memory;
mod private_compiler;
mod quantization;
pub(crate) mod unsupported;

pub use limits::{MAX_DIM, MAX_MATMUL_INNER, kernel_fits, pool_width_fits};
pub use unsupported::refused_kinds;

use crate::facts::{OpFacts, Sizes};
use crate::rule::{Consequence, Evidence, Fix, Rule, rules};
use crate::target::{ChipProfile, Target};
use mil_ir::catalogue::Opset;
use mil_ir::{Code, Function, OpId, RewriteId};
use std::borrow::Cow;

rules! {
    /// An op the Neural Engine does not implement.
    UNSUPPORTED_OP = "ANE001", Fallback, CoreMlVerdict, "op not implemented on the Neural Engine",
    fix: None,
    "Core ML answers `Unsupported MIL operation` for acos, asin, atanh, cosh, sinh, tan, band_part, cumsum, reduce_prod, mod, one_hot, non_zero, random_normal, scatter_along_axis, lstm, gru and rnn.";
    /// `scatter`, refused on the big Neural Engines.
    SCATTER = "ANE002", Fallback, CoreMlVerdict, "scatter only on uANE targets",
    fix: Some(Fix::Advice("with constant indices, a constant mask and `select`")),
    "`scatter MIL op is currently only supported on uANE targets (u1-u4)`.";
    /// `sliding_windows`, which has no Neural Engine converter.
    SLIDING_WINDOWS = "ANE003", Fallback, CoreMlVerdict, "sliding_windows not converted",
    fix: Some(Fix::Advice("slices stacked along a new axis")),
    "`sliding_windows`: `MIL converter not implemented.`";
    /// `range_1d`, whose parameters the Neural Engine cannot read.
    RANGE_1D = "ANE004", Fallback, CoreMlVerdict, "range_1d refused",
    fix: Some(Fix::Advice("compute the range at compile time when its inputs are constants")),
    "`range_1d`: `Failed to retrieve parameter start`.";
    /// An op that reads or writes an int32 tensor.
    INT32_TENSOR = "ANE005", Fallback, CoreMlVerdict, "int32 tensor",
    fix: Some(Fix::Advice("carry integer values in fp16 (exact up to 2048) or int16")),
    "Any int32 tensor blocks the ANE: `Unsupported tensor data type: int32`, for ops, casts and ops reading an int32 input.";
    /// An int32 function input or output.
    INT32_IO = "ANE006", Fallback, CoreMlVerdict, "int32 function input or output",
    fix: Some(Fix::Advice("declare the input or output fp16 (or int16) and cast inside")),
    "An int32 graph input: `Tensor buffer live-in not created: Unsupported tensor data type: int32`; every op reading it is refused.";
    /// An op whose result can only be int32.
    INT32_RESULT = "ANE007", Fallback, CoreMlVerdict, "op whose result is int32",
    fix: Some(Fix::Advice("topk: `output_indices_dtype = \"uint16\"` (iOS17 and later); none for reduce_argmax and argsort")),
    "`Output type int32 is not supported.` (reduce_argmax, argsort's indices; topk's indices before iOS17, by inference).";
    /// crop_resize with int32 box indices.
    CROP_RESIZE_INDICES = "ANE008", Fallback, CoreMlVerdict, "crop_resize box indices not uint16",
    fix: Some(Fix::Advice("give `box_indices` as uint16")),
    "crop_resize: `type int32 for \"box_indices\" is not supported. only support UInt16.`";
    /// An int8 function output, for which Core ML inserts a CPU-only cast to int32.
    INT8_OUTPUT = "ANE009", DragsOff, CoreMlVerdict, "int8 function output",
    fix: Some(Fix::Advice("return fp16: dequantize before the output")),
    "An int8 graph output makes Core ML insert a cast to int32 (`..._pre__output__int32__cast`), which is CPU-only.";
    /// An fp32 function input or output, for which Core ML inserts casts.
    FP32_IO = "ANE010", Slowdown, CoreMlVerdict, "fp32 function input or output",
    fix: Some(Fix::Rewrite(
        RewriteId::IO_TO_FP16,
        "declare the inputs and outputs fp16, a change of the model's interface (iOS16 and later)",
    )),
    "fp32 inputs and outputs get fp32↔fp16 casts inserted; the casts and the op are eligible (compute is fp16).";
    /// A comparison with an int32 scalar.
    INT32_SCALAR_COMPARE = "ANE011", Fallback, CoreMlVerdict, "comparison with an int32 scalar",
    fix: Some(Fix::Advice("compare in fp16")),
    "Scalar int32 operands of comparisons fail to resolve: `Unable to resolve operation input \"y\".`";
    /// gather with an index computed at run time.
    DYNAMIC_GATHER_INDEX = "ANE012", Fallback, CoreMlVerdict, "gather with a dynamic index",
    fix: Some(Fix::Advice("a one-hot matrix times the table (embeddings)")),
    "A dynamic int32 gather index fails (`Unsupported gather index type`) and the index normalisation Core ML inserts (casts, greater_equal, add, select) is CPU-only; constant indices are rewritten to uint16 and eligible.";
    /// gather_nd / gather_along_axis with int32 indices, cast on the CPU first.
    INDEX_CAST_ON_CPU = "ANE013", Slowdown, CoreMlVerdict, "int32 indices cast on the CPU",
    fix: Some(Fix::Advice("give int16 or uint16 indices")),
    "gather_nd and gather_along_axis are eligible, but their int32 indices are cast to int16 on the CPU first.";
    /// A dimension (or group count) above 65,536.
    DIM_ABOVE_65536 = "ANE014", Fallback, CoreMlVerdict, "dimension above 65,536",
    fix: Some(Fix::Rewrite(
        RewriteId::SPLIT_AXIS,
        "the ops chained along the axis on pieces of at most 65,536, concatenated",
    )),
    "`Tensor dimensions ... are not within supported range, N[1-65536]D[1-65536]C[1-65536]H[1-65536]W[1-65536]`; groups > 65,536 likewise.";
    /// A conv kernel beyond what the Neural Engine decomposes.
    CONV_KERNEL = "ANE015", Fallback, CoreMlVerdict, "conv kernel too large",
    fix: Some(Fix::Rewrite(
        RewriteId::SPLIT_LARGE_KERNEL,
        "a sum of convs with tiles of the kernel on shifted slices of the input",
    )),
    "conv kernels: square up to 16×16, 1×K up to 15, K×1 up to 31; beyond, `conv with large kernel does not meet decomposition preconditions`.";
    /// max_pool with a kernel width other than 1–8 or 32.
    MAX_POOL_WIDTH = "ANE016", Fallback, CoreMlVerdict, "max_pool kernel width",
    fix: Some(Fix::Rewrite(
        RewriteId::CASCADE_MAX_POOL,
        "max_pools of width at most 8 whose windows compose to the same one",
    )),
    "max_pool kernel width must be 1–8 or exactly 32: `Invalid Pool kernel width (9), must be [1-8] or 32.`";
    /// matmul with an inner dimension above 32,768.
    MATMUL_INNER = "ANE017", Fallback, CoreMlVerdict, "matmul inner dimension above 32,768",
    fix: Some(Fix::Rewrite(
        RewriteId::SPLIT_MATMUL_INNER,
        "split the inner dimension and add the partial products",
    )),
    "matmul's inner dimension up to 32,768; above, `the output channel of input A ... can not fit the Kmem`.";
    /// Control flow, which Core ML runs on the CPU.
    CONTROL_FLOW = "ANE018", Fallback, Lore, "control flow on the CPU",
    fix: None,
    "cond and while_loop run on the CPU; only their bodies' ops can use the Neural Engine.";
    /// Ops whose older-opset form has int32 indices that Core ML cannot narrow.
    OLD_OPSET_INDICES = "ANE019", Fallback, CoreMlVerdict, "int32-only indices in an older opset",
    fix: Some(Fix::Advice("target iOS17 or later, where uint16 indices exist")),
    "Inferred from ANE005/ANE012: before iOS16 gather takes only int32 indices, so Core ML cannot rewrite constant indices to uint16.";
    /// A linear or matmul path not in `(B, C, 1, S)`.
    NOT_BC1S = "ANE101", Slowdown, HardwareProbe, "not in (B, C, 1, S) layout",
    fix: Some(Fix::Rewrite(RewriteId::LINEAR_TO_CONV1X1, "a 1×1 conv on (B, C, 1, S)")),
    "Layout (B, C, 1, S) for conv/linear paths; a 1×1 conv is ≈3× faster than matmul (ironmill probes; Apple's ml-ane-transformers).";
    /// A tensor of rank 6 or more.
    RANK_ABOVE_FIVE = "ANE102", Fallback, Lore, "rank above 5",
    fix: Some(Fix::Advice("merge adjacent axes down to rank 4")),
    "Lore says rank > 4 falls back; Core ML's verdict accepts ranks 1, 2 and 5 and its size check names five axes (N, D, C, H, W), so only rank ≥ 6 is flagged.";
    /// A last axis of size 1.
    LAST_AXIS_ONE = "ANE103", Slowdown, HardwareProbe, "last axis of size 1",
    fix: Some(Fix::Advice("put a long axis last")),
    "The last axis is padded to 64 bytes: a last axis of size 1 wastes 31 of every 32 lanes (probes).";
    /// A last axis whose bytes are not a multiple of 64.
    LAST_AXIS_ALIGNMENT = "ANE104", Slowdown, HardwareProbe, "last axis not a multiple of 64 bytes",
    fix: Some(Fix::Advice("pad the last axis to a multiple of 32 fp16 elements")),
    "The last axis' byte size should be a multiple of 64 (probes).";
    /// Ops that compute in fp32.
    FP32_COMPUTE = "ANE105", Slowdown, CoreMlVerdict, "fp32 compute",
    fix: Some(Fix::Advice("convert with compute_precision=FLOAT16")),
    "The ANE computes in fp16: fp32 ops get casts around them rather than a fallback.";
    /// A function input with a `?` dimension.
    DYNAMIC_SHAPE = "ANE106", Fallback, Lore, "dynamic shape",
    fix: Some(Fix::Advice("EnumeratedShapes instead of a range")),
    "Lore: inputs with unbounded (`?`) dimensions are planned off the ANE; enumerated shapes compile one ANE program per shape.";
    /// An axis above 16,384.
    AXIS_ABOVE_16384 = "ANE107", Slowdown, Lore, "axis above 16,384",
    fix: Some(Fix::Advice("split the axis")),
    "Lore says an axis above 16,384 falls back; Core ML's plan on M4 keeps a 16,385-wide relu eligible (plan_ctx_cpune.tsv), so it is information only.";
    /// A wide input or output with a short last axis.
    WIDE_SHORT_IO = "ANE108", Fallback, HardwareProbe, "wide input or output with a short last axis",
    fix: Some(Fix::Advice("make the sequence axis last and at least 32 long")),
    "Inputs/outputs [1, C, 1, S] with C > ~768 and S < 32 were rejected by the private compiler (ironmill probes).";
    /// A small or short-axis input or output buffer.
    SMALL_IO = "ANE109", Slowdown, HardwareProbe, "small input or output buffer",
    fix: Some(Fix::Advice("pad the last axis")),
    "Input/output last axis should be ≥ 32, and buffers at least 16 KB (probes).";
    /// A tensor larger than the on-chip memory.
    TENSOR_OVER_BUDGET = "ANE110", Slowdown, HardwareProbe, "tensor larger than on-chip memory",
    fix: Some(Fix::Advice("split the op along an outer axis")),
    "About 32 MB of on-chip memory; larger tensors stream from DRAM.";
    /// A function whose weights overflow what one compiled program held in probes.
    WEIGHTS_OVER_BUDGET = "ANE111", Slowdown, HardwareProbe, "weights beyond the per-program budget",
    fix: Some(Fix::Advice("several functions, or int8/palettized weights")),
    "Weights beyond ~8 MB per compiled program failed in probes of the private compiler (≈32 MB on chip).";
    /// int8 weights with fp16 activations.
    WEIGHT_ONLY_INT8 = "ANE112", Advice, HardwareProbe, "weight-only int8 gives no speed-up",
    fix: None,
    "int8 weights save bandwidth, not compute: weight-only int8 gives no speed-up.";
    /// 3×3 convs that W8A8 would double on chips with int8 compute.
    W8A8_CANDIDATE = "ANE113", Advice, CoreMlVerdict, "3×3 conv could run W8A8",
    fix: Some(Fix::Advice("W8A8 (quantize → conv → dequantize)")),
    "W8A8 on M4 runs 3×3 conv at 2.0× the fp16 throughput; 1×1 chains see no gain (study INDEX.md). Only chips with int8 compute (A17 Pro, A18, M4).";
    /// topk, which Core ML's planner underprices on the Neural Engine.
    TOPK_UNDERPRICED = "ANE114", Slowdown, CoreMlVerdict, "topk underpriced on the ANE",
    fix: None,
    "topk's ANE estimate (~2 µs) is ~200× below its measured cost: if the planner puts it on the ANE it is slow there.";
    /// Inputs left to their defaults, which only Core ML fills in.
    IMPLICIT_DEFAULTS = "ANE115", Advice, HardwareProbe, "default left implicit",
    fix: Some(Fix::Rewrite(RewriteId::SPELL_OUT_DEFAULTS, "")),
    "The private ANE compiler applies no defaults: rsqrt, log and inverse need `epsilon`, concat needs `interleave` (Core ML fills them in).";
    /// An eligible op that the planner keeps off the Neural Engine.
    MOVED_OFF_ANE = "ANE201", Slowdown, PlannerEstimate, "eligible op placed off the Neural Engine",
    fix: None,
    "Eligibility is not placement: the planner charges 0.125 ms per ANE launch, per backend switch and per ANE-produced output, so a cheap op next to CPU ops stays on the CPU.";
}

/// The rule with code `id`.
pub fn by_code(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.code.id == id)
}

/// Every code, for documentation and for clients that list codes.
pub fn codes() -> impl Iterator<Item = Code> {
    ALL.iter().map(|r| r.code)
}

/// Where a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Site {
    /// An operation.
    Op(OpId),
    /// The function's parameter at this index.
    Param(u32),
    /// The function's output at this index.
    Output(u32),
}

/// One rule firing.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// Where.
    pub site: Site,
    /// What happens, citing the evidence.
    pub message: String,
    /// What avoids it in this case (the rule's, or one of its own).
    pub fix: Option<Fix>,
}

impl Finding {
    /// A finding with the rule's own fix; `what` says what happens, the evidence is cited after it.
    pub fn new(rule: &'static Rule, site: Site, what: impl Into<String>) -> Finding {
        Finding {
            rule,
            site,
            message: cite(rule.evidence, what.into()),
            fix: rule.fix,
        }
    }

    /// The fix for this case.
    pub fn with_fix(mut self, fix: Option<Fix>) -> Finding {
        self.fix = fix;
        self
    }
}

/// `what (evidence)`, in `what`'s own buffer.
fn cite(evidence: Evidence, mut what: String) -> String {
    what.push_str(" (");
    what.push_str(evidence.citation());
    what.push(')');
    what
}

/// What the rules look at: the function, its deployment target and the chip.
pub struct Cx<'a> {
    /// The function.
    pub f: &'a Function,
    /// Its opset (the deployment target).
    pub opset: Opset,
    /// The chip and compute units.
    pub target: Target,
    /// The chip's figures.
    pub chip: ChipProfile,
    /// The function's ops in program order.
    pub order: Cow<'a, [OpId]>,
}

impl<'a> Cx<'a> {
    /// What the rules read of op `id`, the ops before it in program order having noted their
    /// results in `sizes`.
    pub fn facts(&self, id: OpId, sizes: &mut Sizes) -> OpFacts<'a> {
        OpFacts::new(self.f, id, sizes)
    }

    /// The context for `f`; an unknown opset is read as iOS18.
    pub fn new(f: &'a Function, target: Target) -> Cx<'a> {
        Cx {
            f,
            opset: Opset::parse(&f.opset).unwrap_or(Opset::Ios18),
            target,
            chip: target.chip.profile(),
            order: program_order(f),
        }
    }
}

/// The ops of `f` in program order: the body's own list when every op is in it (no nested blocks
/// hold any), which spares walking 160k ops before the pass that reads them anyway.
fn program_order(f: &Function) -> Cow<'_, [OpId]> {
    let body = &f.block(f.body).ops;
    if body.len() == f.ops.len() {
        Cow::Borrowed(body)
    } else {
        Cow::Owned(f.walk_ops())
    }
}

/// Every finding for a function: per-op rules in program order, then the function-level ones.
pub fn check(cx: &Cx) -> Vec<Finding> {
    let mut checker = Checker::new(cx);
    let mut sizes = Sizes::new(cx.f);
    for &id in cx.order.iter() {
        checker.visit(&cx.facts(id, &mut sizes));
    }
    checker.finish()
}

/// The rules run op by op, so that a caller walking the ops anyway (the planner) needs one pass.
pub struct Checker<'c, 'a> {
    cx: &'c Cx<'a>,
    out: Vec<Finding>,
    budget: memory::Budget,
    quantization: quantization::Quantization,
    waste: layout::Waste,
}

impl<'c, 'a> Checker<'c, 'a> {
    /// A checker for the function of `cx`.
    pub fn new(cx: &'c Cx<'a>) -> Checker<'c, 'a> {
        Checker {
            cx,
            out: Vec::new(),
            budget: memory::Budget::default(),
            quantization: quantization::Quantization::default(),
            waste: layout::Waste::default(),
        }
    }

    /// Runs the per-op rules on an op (ops in program order); returns the finding that refuses it
    /// on the Neural Engine, if any.
    pub fn visit(&mut self, facts: &OpFacts) -> Option<&Finding> {
        let (cx, out) = (self.cx, &mut self.out);
        let id = facts.id;
        self.budget.visit(facts, out);
        if facts.kind.is_unplanned() {
            return None;
        }
        self.quantization.visit(cx, facts);
        self.waste.visit(facts);
        let site = Site::Op(id);
        let before = out.len();
        // One refusal reason per op, the most specific first: by kind, by gather index, by dtype.
        unsupported::check(facts, site, out);
        if !refused_since(out, before) {
            gather::check(cx, facts, site, out);
        }
        if !refused_since(out, before) {
            dtypes::check(cx, facts, site, out);
        }
        limits::check(cx, facts, site, out);
        layout::check(cx, facts, site, out);
        private_compiler::check(facts, site, out);
        out[before..].iter().find(|f| f.rule.consequence.refuses_op())
    }

    /// Takes in what a checker of the ops right after these found, as if this one had gone on to
    /// visit them: their findings follow, and what is gathered across ops adds up.
    pub fn append(&mut self, later: Checker) {
        self.out.extend(later.out);
        self.budget.append(later.budget);
        self.quantization.append(later.quantization);
        self.waste.append(later.waste);
    }

    /// The function-level rules; every finding.
    pub fn finish(mut self) -> Vec<Finding> {
        let (cx, out) = (self.cx, &mut self.out);
        io::check(cx, out);
        self.budget.finish(out);
        self.quantization.finish(cx, out);
        self.waste.finish(out);
        self.out
    }
}

/// Whether a finding pushed after `from` refuses its op.
fn refused_since(out: &[Finding], from: usize) -> bool {
    out[from..].iter().any(|f| f.rule.consequence.refuses_op())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_ordered_and_severities_follow_consequences() {
        let ids: Vec<&str> = codes().map(|c| c.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
        for r in ALL {
            assert_eq!(r.code.severity, r.consequence.severity());
            assert!(by_code(r.code.id).is_some());
        }
        assert_eq!(UNSUPPORTED_OP.consequence, Consequence::Fallback);
    }
}
