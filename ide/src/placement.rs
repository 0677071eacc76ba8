//! Where each op runs (Neural Engine, GPU, CPU), from the ANE analysis (`mil_ane::placement`) for
//! the chip and compute units in the settings: computed when a feature first asks after a change,
//! then kept with the model.

use crate::config::Config;
use crate::model::Model;
use mil_ane::placement::{self, FunctionPlacement, Source};
use mil_ane::{Device, Target};
use mil_ir::{OpId, Program};
use std::sync::Arc;

/// Where one op runs and why.
#[derive(Clone, Debug, PartialEq)]
pub struct OpPlace {
    /// The chosen device.
    pub device: Device,
    /// Why it is there.
    pub reason: String,
    /// The estimate per device (by [`Device::index`]), `None` where the op cannot run.
    pub estimates_ms: [Option<f64>; 3],
    /// Whether it is planned (not a constant or a runtime boundary).
    pub planned: bool,
}

/// The placement of one function.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionPlace {
    /// By [`OpId`].
    pub ops: Vec<Option<OpPlace>>,
    /// Estimated latency, in ms.
    pub latency_ms: f64,
    /// Planned ops on the Neural Engine, and planned ops in all.
    pub ane_ops: (usize, usize),
}

impl Placement {
    /// The target it is for.
    pub fn target(&self) -> Target {
        self.target
    }
}

impl FunctionPlace {
    /// Where op `id` runs.
    pub fn op(&self, id: OpId) -> Option<&OpPlace> {
        self.ops.get(id.index())?.as_ref()
    }
}

/// The placement of every function of a model, for one target.
#[derive(Debug)]
pub struct Placement {
    target: Target,
    /// By function index.
    pub functions: Vec<FunctionPlace>,
}

/// The target the settings describe ([`Config::target`]).
pub fn target(config: &Config) -> Target {
    config.target()
}

/// The placement of `m` for the configured target (computed on first use after a change).
pub fn of(m: &Model, config: &Config) -> Arc<Placement> {
    let target = target(config);
    let mut cache = m.placement.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = cache.as_ref().filter(|p| p.target == target) {
        return p.clone();
    }
    let functions = m
        .program
        .functions
        .iter()
        .map(|f| {
            let placed = placement::place_function(f, target, Source::Ours);
            let mut ops = vec![None; f.ops.len()];
            for o in &placed.ops {
                if let Some(slot) = ops.get_mut(o.op.index()) {
                    *slot = Some(OpPlace {
                        device: o.device,
                        reason: o.reason.text(o.device, o.segment),
                        estimates_ms: o.estimates_ms,
                        planned: o.segment.is_some(),
                    });
                }
            }
            let planned = placed.planned().count();
            let on_ane = placed.planned().filter(|o| o.device == Device::Ane).count();
            FunctionPlace {
                ops,
                latency_ms: placed.latency_ms,
                ane_ops: (on_ane, planned),
            }
        })
        .collect();
    let p = Arc::new(Placement { target, functions });
    *cache = Some(p.clone());
    p
}

/// Where every op of `program` runs on the configured target, function by function (what the
/// placement reports show).
pub fn plan<'a>(program: &'a Program, config: &Config) -> Vec<FunctionPlacement<'a>> {
    placement::place(program, config.target(), Source::Ours)
}

/// What `report` makes of the [`plan`] of the program read from `text`, and whether reading it
/// found errors (the plan then covers what could be read): what `mil placement` prints.
pub fn plan_text<R>(
    text: &str,
    config: &Config,
    report: impl FnOnce(&[FunctionPlacement]) -> R,
) -> (R, bool) {
    let parse = mil_grammar::parse(text);
    (
        report(&plan(&parse.program, config)),
        mil_ir::diagnostic::has_errors(&parse.diagnostics),
    )
}

/// `ANE`, `GPU`, `CPU`.
pub fn device_label(d: Device) -> String {
    d.name().to_uppercase()
}
