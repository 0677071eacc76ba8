//! What only the private ANE compiler needs: every input spelled out (ANE115).

use super::{Cx, Finding, IMPLICIT_DEFAULTS, Site};
use mil_ir::Operation;

/// The inputs hand-written MIL must spell out for the private compiler, by op.
const REQUIRED: &[(&str, &str)] = &[
    ("rsqrt", "epsilon"),
    ("log", "epsilon"),
    ("inverse", "epsilon"),
    ("concat", "interleave"),
];

/// Fires on ops that leave one of those inputs to its default.
pub(super) fn check(_cx: &Cx, op: &Operation, site: Site, out: &mut Vec<Finding>) {
    for (kind, input) in REQUIRED {
        if op.kind == *kind && op.arg(input).is_none() {
            let what = format!(
                "`{input}` is left to its default: Core ML fills it in, but the private ANE compiler applies no defaults and rejects the op"
            );
            out.push(Finding::new(&IMPLICIT_DEFAULTS, site, what));
        }
    }
}
