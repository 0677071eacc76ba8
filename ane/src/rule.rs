//! What a rule is: a stable code, the consequence it predicts, the kind of evidence behind it, and the
//! rewrite that avoids it.

use mil_ir::{Code, RewriteId, Severity};
use std::fmt;

/// How much to trust a rule, strongest first (`docs/ane.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// Core ML's own dispatch verdicts (`analytics.mil` of one-op models, M4, macOS 27).
    CoreMlVerdict,
    /// Probes of the private ANE compiler with hand-written MIL (M3 Pro); they speak for that path.
    HardwareProbe,
    /// The field manual and blog posts: often right, sometimes wrong on current chips.
    Lore,
    /// Our own planner's estimate (`plan.rs`): a model of Core ML's cost-based choice built on its
    /// charges, which reproduced the study's placements for 440 of 482 models (`docs/ane.md`). A
    /// prediction, not something Core ML said about this program.
    PlannerEstimate,
}

impl Evidence {
    /// How messages cite it.
    pub fn citation(self) -> &'static str {
        match self {
            Evidence::CoreMlVerdict => "Core ML verdict",
            Evidence::HardwareProbe => "hardware probe",
            Evidence::Lore => "lore",
            Evidence::PlannerEstimate => "our planner's estimate",
        }
    }
}

/// What happens to an op a rule fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Consequence {
    /// The Neural Engine refuses the op: it runs on the CPU (or GPU). A warning.
    Fallback,
    /// The op stays eligible, but something Core ML inserts next to it is not, and the planner's
    /// switch charges pull neighbours off the Neural Engine with it. A warning.
    DragsOff,
    /// The op runs, but slower than it could. Information.
    Slowdown,
    /// Nothing goes wrong today; a better form exists. A hint.
    Advice,
}

impl Consequence {
    /// The severity of its diagnostics.
    pub const fn severity(self) -> Severity {
        match self {
            Consequence::Fallback | Consequence::DragsOff => Severity::Warning,
            Consequence::Slowdown => Severity::Information,
            Consequence::Advice => Severity::Hint,
        }
    }

    /// Whether the op itself is ineligible for the Neural Engine.
    pub fn refuses_op(self) -> bool {
        self == Consequence::Fallback
    }

    /// How the rules catalogue names it.
    pub fn name(self) -> &'static str {
        match self {
            Consequence::Fallback => "fallback",
            Consequence::DragsOff => "drags neighbours off",
            Consequence::Slowdown => "slowdown",
            Consequence::Advice => "advice",
        }
    }
}

/// One rule: a fact of `docs/ane.md` turned into a check.
#[derive(Debug, PartialEq)]
pub struct Rule {
    /// The diagnostic code (`ANE001`), its title and severity.
    pub code: Code,
    /// What the rule predicts.
    pub consequence: Consequence,
    /// Why we believe it.
    pub evidence: Evidence,
    /// The fact, in a sentence, for the catalogue.
    pub fact: &'static str,
    /// What avoids it: a rewrite of `mil-rewrite`, advice, or `None` when nothing does.
    pub fix: Option<Fix>,
}

/// What avoids a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// A rewrite of `mil-rewrite` (named by its [`RewriteId`] constant, so that it exists), and
    /// what it does, or `""`.
    Rewrite(RewriteId, &'static str),
    /// What to do by hand, where no rewrite does it: it names no rewrite.
    Advice(&'static str),
}

impl Fix {
    /// The rewrite it names, if any.
    pub fn rewrite(self) -> Option<RewriteId> {
        match self {
            Fix::Rewrite(id, _) => Some(id),
            Fix::Advice(_) => None,
        }
    }

    /// How a message introduces it: `fix` for a rewrite, `advice` for advice.
    pub fn label(self) -> &'static str {
        match self {
            Fix::Rewrite(..) => "fix",
            Fix::Advice(_) => "advice",
        }
    }
}

/// ``"`tan-to-sin-cos`: sin(x)/cos(x)"``, or the advice as written.
impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fix::Rewrite(id, "") => write!(f, "`{id}`"),
            Fix::Rewrite(id, how) => write!(f, "`{id}`: {how}"),
            Fix::Advice(how) => f.write_str(how),
        }
    }
}

/// Defines the rules as statics and lists them in [`ALL`](crate::rules::ALL).
macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $cons:ident, $ev:ident, $title:literal,
        fix: $fix:expr, $fact:literal;)*) => {
        $(
            $(#[$doc])*
            pub static $name: Rule = Rule {
                code: Code { id: $id, title: $title, severity: Consequence::$cons.severity() },
                consequence: Consequence::$cons,
                evidence: Evidence::$ev,
                fact: $fact,
                fix: $fix,
            };
        )*
        /// Every rule, in code order.
        pub static ALL: &[&Rule] = &[$(&$name),*];
    };
}

pub(crate) use rules;
