//! Ops the Neural Engine does not run at all (ANE001–ANE004, ANE018).

use super::{CONTROL_FLOW, Finding, RANGE_1D, SCATTER, SLIDING_WINDOWS, Site, UNSUPPORTED_OP};
use crate::facts::OpFacts;
use crate::kind::Kind;

/// The ops Core ML answers `Unsupported MIL operation` for, with the rewrite that avoids each.
const REFUSED: &[(&str, Option<&str>)] = &[
    ("acos", Some("`arc-to-atan`: 2·atan(sqrt((1−x)/(1+x)))")),
    ("asin", Some("`arc-to-atan`: atan(x/sqrt((1−x)(1+x)))")),
    ("atanh", Some("`atanh-to-log`: 0.5·log((1+x)/(1−x))")),
    ("cosh", Some("`hyperbolic-to-exp`: (exp(x)+exp(−x))/2")),
    ("sinh", Some("`hyperbolic-to-exp`: (exp(x)−exp(−x))/2")),
    ("tan", Some("`tan-to-sin-cos`: sin(x)/cos(x)")),
    (
        "band_part",
        Some("`band-part-to-mask`: multiply by a constant band mask"),
    ),
    (
        "cumsum",
        Some("`cumsum-to-matmul`: matmul with a constant triangular matrix"),
    ),
    (
        "reduce_prod",
        Some("`reduce-prod-to-log-sum`: exp(reduce_sum(log(x))) for positive x"),
    ),
    ("mod", Some("`mod-to-floor-div`: x − floor_div(x, y)·y")),
    (
        "one_hot",
        Some("`one-hot-to-equal`: equal against a constant range, cast to fp16"),
    ),
    ("non_zero", None),
    ("random_normal", None),
    ("scatter_along_axis", None),
    (
        "lstm",
        Some("`unroll-recurrent`: one cell per step of linear, sigmoid/tanh, mul and add"),
    ),
    (
        "gru",
        Some("`unroll-recurrent`: one cell per step of linear, sigmoid/tanh, mul and add"),
    ),
    (
        "rnn",
        Some("`unroll-recurrent`: one cell per step of linear, activation and add"),
    ),
];

/// Whether Core ML answers `Unsupported MIL operation` for `kind`, and if so the rewrite.
pub(crate) fn refused(kind: &str) -> Option<Option<&'static str>> {
    REFUSED.iter().find(|(k, _)| *k == kind).map(|(_, fix)| *fix)
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
