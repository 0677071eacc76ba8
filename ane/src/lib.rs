//! Where each op of a MIL program runs on Apple hardware, and why.
//!
//! - [`rules`]: one small rule per fact of `docs/ane.md` (codes `ANE001`…, catalogued in
//!   `docs/ane-rules.md`), each citing its evidence (Core ML verdict, hardware probe or lore) and
//!   naming the rewrite that avoids it. They depend on the function's opset and on the [`Chip`].
//! - [`facts`]: what the rules and the cost model read of an op (sizes of what it reads and
//!   writes, inputs looked up by name), read once per op; [`kind`]: the op kinds they tell apart.
//! - [`cost`]: an estimate per op per device, calibrated on Core ML's own `EstimatedRuntime` figures.
//! - [`plan`]: the segmentation Core ML's planner performs, as a shortest path with launch, switch
//!   and output charges.
//! - [`placement`]: all of it per function: device, estimates and reason per op, segments, totals.
//! - [`analytics`]: Core ML's own verdicts read from an `analytics.mil`, and [`compare`] to score
//!   ours against them.
//! - [`json`] and [`html`]: the reports, with ms figures written by [`decimal`].
//!
//! ```
//! use mil_ane::{Chip, ComputeUnits, Target, placement::{self, Source}};
//!
//! let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 64, 32, 32]> x) {\n            tensor<fp16, [1, 64, 32, 32]> y = tan(x = x)[name = string(\"y\")];\n        } -> (y);\n}\n";
//! let program = mil_grammar::parse(text).program;
//! let target = Target { chip: Chip::M4, compute_units: ComputeUnits::CpuAndNeuralEngine };
//! let placed = &placement::place(&program, target, Source::Ours)[0];
//! assert_eq!(placed.ops[0].device, mil_ane::Device::Cpu);
//! assert_eq!(placed.ops[0].reason.code(), Some("ANE001"));
//! ```

pub mod analytics;
pub mod compare;
pub mod cost;
pub mod decimal;
pub mod device;
pub mod diagnostics;
pub mod facts;
pub mod html;
pub mod json;
pub mod kind;
pub mod placement;
pub mod plan;
pub mod rule;
pub mod rules;
pub mod target;
pub mod tensor;

pub use device::Device;
pub use target::{Chip, ChipProfile, ComputeUnits, Target};
