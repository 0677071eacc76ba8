//! "Offered only when it helps": the planner's view of a program before and after a rewrite.
//!
//! A rewrite helps when, in the rewritten program's predicted plan (our planner, the configured
//! chip and compute units), every op that replaced the original runs on the Neural Engine while
//! the original did not, or the function's estimated latency goes down. The title says what
//! changes: "Rewrite tan as sin/cos — CPU → ANE, est. 0.201 → 0.05 ms".

use crate::{Refused, Rewrite, apply};
use mil_ane::placement::{Source, place_function};
use mil_ane::{Device, Target};
use mil_ir::{FunctionSpans, OpId, Program};

/// What a rewrite of one op changes in the plan.
#[derive(Clone, Debug)]
pub struct Assessment {
    /// The program with the op rewritten.
    pub rewritten: Program,
    /// Where the original op runs.
    pub before: Device,
    /// Where the ops that replaced it run, each device once, in the order of [`Device::ALL`].
    pub after: Vec<Device>,
    /// The function's estimated latency before, in ms.
    pub before_ms: f64,
    /// The function's estimated latency after, in ms.
    pub after_ms: f64,
    /// The action's title.
    pub title: String,
    /// Whether the rewrite is opt-in ([`crate::OPT_IN`]): it helps when the op stays where it ran.
    pub opt_in: bool,
}

impl Assessment {
    /// Whether the replacement lands on the Neural Engine where the original did not, or the
    /// estimated latency goes down; for an opt-in rewrite, whether the op stays where it ran
    /// (its own benefit is outside the plan; a spelled-out input adds a few bytes to the estimate).
    pub fn helps(&self) -> bool {
        let onto_ane = self.before != Device::Ane && self.after == [Device::Ane];
        let faster = self.after_ms < self.before_ms;
        onto_ane || faster || (self.opt_in && self.after == [self.before])
    }
}

/// Rewrites `op` of function `function` in a copy of `program` and compares the plans for `target`.
pub fn assess(
    program: &Program,
    spans: &FunctionSpans,
    function: usize,
    op: OpId,
    rewrite: &Rewrite,
    target: Target,
) -> Result<Assessment, Refused> {
    let f = &program.functions[function];
    let mut rewritten = program.clone();
    let mut spans = spans.clone();
    apply(rewrite, &mut rewritten.functions[function], &mut spans, op)?;
    let old = place_function(f, target, Source::Ours);
    let new = place_function(&rewritten.functions[function], target, Source::Ours);
    let before = old
        .ops
        .iter()
        .find(|o| o.op == op)
        .map_or(Device::Cpu, |o| o.device);
    // The ops it made, or the op itself when it was edited in place.
    let made = |o: &&mil_ane::placement::OpPlacement<'_>| o.op.index() >= f.ops.len() || o.op == op;
    let after: Vec<Device> = Device::ALL
        .into_iter()
        .filter(|&d| new.planned().filter(made).any(|o| o.device == d))
        .collect();
    let title = format!(
        "{} — {} → {}, est. {} → {} ms",
        rewrite.title(f, op),
        label(&[before]),
        label(&after),
        ms(old.latency_ms),
        ms(new.latency_ms),
    );
    Ok(Assessment {
        before,
        after,
        before_ms: old.latency_ms,
        after_ms: new.latency_ms,
        title,
        rewritten,
        opt_in: crate::is_opt_in(rewrite),
    })
}

/// `CPU`, `ANE`, or `CPU+ANE` for ops split between devices.
fn label(devices: &[Device]) -> String {
    let names: Vec<String> = devices.iter().map(|d| d.name().to_uppercase()).collect();
    names.join("+")
}

/// Milliseconds to three significant digits, at least three decimals, no trailing zeros (`0.201`,
/// `0.05`, `0.000312`), so that a small estimate that changes does not read as `0 → 0`.
pub fn ms(v: f64) -> String {
    let decimals = if v > 0.0 && v.is_finite() {
        (2 - v.log10().floor() as i64).clamp(3, 12) as usize
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() { "0".into() } else { s.into() }
}

#[cfg(test)]
mod tests {
    use super::ms;

    #[test]
    fn milliseconds_keep_three_significant_digits() {
        let shown: Vec<String> = [0.0, 0.201, 0.05, 0.000_312_4, 1.091, 12.5, 0.0001]
            .map(ms)
            .into();
        assert_eq!(
            shown,
            ["0", "0.201", "0.05", "0.000312", "1.091", "12.5", "0.0001"]
        );
    }
}
