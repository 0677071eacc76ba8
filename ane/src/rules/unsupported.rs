//! Ops the Neural Engine does not run at all (ANE001–ANE004, ANE018).

use super::{CONTROL_FLOW, Finding, RANGE_1D, SCATTER, SLIDING_WINDOWS, Site, UNSUPPORTED_OP};
use crate::facts::OpFacts;
use crate::kind::Kind;
use crate::rule::Fix;
use mil_ir::RewriteId;

/// The ops Core ML answers `Unsupported MIL operation` for, with what avoids each.
const REFUSED: &[(&str, Option<Fix>)] = &[
    (
        "acos",
        Some(Fix::Rewrite(RewriteId::ARC_TO_ATAN, "2·atan(sqrt((1−x)/(1+x)))")),
    ),
    (
        "asin",
        Some(Fix::Rewrite(RewriteId::ARC_TO_ATAN, "atan(x/sqrt((1−x)(1+x)))")),
    ),
    (
        "atanh",
        Some(Fix::Rewrite(RewriteId::ATANH_TO_LOG, "0.5·log((1+x)/(1−x))")),
    ),
    (
        "cosh",
        Some(Fix::Rewrite(RewriteId::HYPERBOLIC_TO_EXP, "(exp(x)+exp(−x))/2")),
    ),
    (
        "sinh",
        Some(Fix::Rewrite(RewriteId::HYPERBOLIC_TO_EXP, "(exp(x)−exp(−x))/2")),
    ),
    (
        "tan",
        Some(Fix::Rewrite(RewriteId::TAN_TO_SIN_COS, "sin(x)/cos(x)")),
    ),
    (
        "band_part",
        Some(Fix::Rewrite(
            RewriteId::BAND_PART_TO_MASK,
            "multiply by a constant band mask",
        )),
    ),
    (
        "cumsum",
        Some(Fix::Rewrite(
            RewriteId::CUMSUM_TO_MATMUL,
            "matmul with a constant triangular matrix",
        )),
    ),
    (
        "reduce_prod",
        Some(Fix::Rewrite(
            RewriteId::REDUCE_PROD_TO_MUL,
            "a tree of mul over halves sliced along each reduced axis",
        )),
    ),
    (
        "mod",
        Some(Fix::Rewrite(RewriteId::MOD_TO_FLOOR_DIV, "x − floor_div(x, y)·y")),
    ),
    (
        "one_hot",
        Some(Fix::Advice(
            "none eligible: its indices are int32 only, and every op reading them is refused (ANE005); compare fp16 indices with a constant range upstream, if the model has them",
        )),
    ),
    ("non_zero", None),
    ("random_normal", None),
    ("scatter_along_axis", None),
    (
        "lstm",
        Some(Fix::Rewrite(
            RewriteId::UNROLL_RECURRENT,
            "one cell per step of matmul, sigmoid/tanh, mul and add",
        )),
    ),
    (
        "gru",
        Some(Fix::Rewrite(
            RewriteId::UNROLL_RECURRENT,
            "one cell per step of matmul, sigmoid/tanh, mul and add",
        )),
    ),
    (
        "rnn",
        Some(Fix::Rewrite(
            RewriteId::UNROLL_RECURRENT,
            "one cell per step of matmul, activation and add",
        )),
    ),
];

/// Whether Core ML answers `Unsupported MIL operation` for `kind`, and if so what avoids it.
pub(crate) fn refused(kind: &str) -> Option<Option<Fix>> {
    REFUSED.iter().find(|(k, _)| *k == kind).map(|(_, fix)| *fix)
}

/// Every op kind Core ML refuses by kind (ANE001), with what avoids it, for the rules catalogue.
pub fn refused_kinds() -> impl Iterator<Item = (&'static str, Option<Fix>)> {
    REFUSED.iter().copied()
}

/// Fires on ops the Neural Engine refuses by kind.
pub(super) fn check(facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    let (rule, what) = match facts.kind {
        Kind::Unsupported { fix } => {
            let kind = &facts.op.kind;
            out.push(
                Finding::new(
                    &UNSUPPORTED_OP,
                    site,
                    format!("runs on CPU: Core ML reports 'Unsupported MIL operation \"{kind}\"'"),
                )
                .with_fix(fix),
            );
            return;
        }
        Kind::Scatter => (
            &SCATTER,
            "runs on CPU: Core ML reports 'scatter MIL op is currently only supported on uANE targets (u1-u4)'",
        ),
        Kind::SlidingWindows => (
            &SLIDING_WINDOWS,
            "runs on CPU: Core ML reports 'MIL converter not implemented.'",
        ),
        Kind::Range1d => (
            &RANGE_1D,
            "runs on CPU: Core ML reports 'Failed to retrieve parameter start'",
        ),
        Kind::ControlFlow => (
            &CONTROL_FLOW,
            "runs on CPU: control flow is executed by the CPU; only the ops of its blocks can use the ANE",
        ),
        _ => return,
    };
    out.push(Finding::new(rule, site, what));
}
