//! What only the private ANE compiler needs: every input spelled out (ANE115).

use super::{Finding, IMPLICIT_DEFAULTS, Site};
use crate::facts::OpFacts;
use crate::kind::Kind;

/// Fires on ops that leave to its default an input hand-written MIL must spell out for the
/// private compiler: `epsilon` of rsqrt, log and inverse, `interleave` of concat.
pub(super) fn check(facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    let input = match facts.kind {
        Kind::WithEpsilon => "epsilon",
        Kind::Concat => "interleave",
        _ => return,
    };
    if facts.op.arg(input).is_none() {
        let what = format!(
            "`{input}` is left to its default: Core ML fills it in, but the private ANE compiler applies no defaults and rejects the op"
        );
        out.push(Finding::new(&IMPLICIT_DEFAULTS, site, what));
    }
}
