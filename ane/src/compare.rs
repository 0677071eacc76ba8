//! Scoring our predictions against Core ML's verdicts: eligibility agreement, and placement as
//! balanced accuracy (the mean of the agreement on the ops Core ML put on the Neural Engine and on
//! those it put on the CPU), so that answering "CPU" everywhere cannot score.

use crate::device::Device;
use crate::placement::FunctionPlacement;

/// Agreements out of a total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases where we agree.
    pub agree: usize,
    /// All cases.
    pub total: usize,
}

impl Tally {
    /// The agreement rate (1 when there are no cases).
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.agree as f64 / self.total as f64
        }
    }

    fn count(&mut self, agree: bool) {
        self.agree += usize::from(agree);
        self.total += 1;
    }
}

/// What a disagreement is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aspect {
    /// Whether the Neural Engine can run the op.
    Eligibility,
    /// Where the op runs.
    Placement,
}

/// One op where we and Core ML differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Disagreement {
    /// The model (file stem).
    pub model: String,
    /// The op's SSA name.
    pub var: String,
    /// The op type.
    pub kind: String,
    /// Eligibility or placement.
    pub aspect: Aspect,
    /// Our answer.
    pub ours: String,
    /// Core ML's answer (with its message for eligibility).
    pub coreml: String,
}

/// The running score over many models.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Agreement {
    /// Our eligibility vs `"ane" in BackendSupport`.
    pub eligibility: Tally,
    /// Our device on the ops Core ML put on the Neural Engine.
    pub on_ane: Tally,
    /// Our device on the ops Core ML put on the CPU.
    pub on_cpu: Tally,
    /// Every disagreement, in the order met.
    pub disagreements: Vec<Disagreement>,
}

impl Agreement {
    /// The mean of the agreement on Core ML's ANE ops and on its CPU ops.
    pub fn balanced_accuracy(&self) -> f64 {
        (self.on_ane.rate() + self.on_cpu.rate()) / 2.0
    }

    /// Scores every planned op of `placed` that carries a Core ML verdict.
    pub fn add(&mut self, model: &str, placed: &FunctionPlacement) {
        for o in placed.planned() {
            let Some(v) = &o.coreml else { continue };
            let apple = v.ane_supported();
            self.eligibility.count(o.ane_eligible == apple);
            if o.ane_eligible != apple {
                self.disagree(model, o, Aspect::Eligibility, o.ane_eligible.to_string(), {
                    let why = v.ane_message().map(|m| format!(" ({m})")).unwrap_or_default();
                    format!("{apple}{why}")
                });
            }
            let Some(device) = v.device() else { continue };
            let tally = match device {
                Device::Ane => &mut self.on_ane,
                Device::Cpu => &mut self.on_cpu,
                Device::Gpu => continue,
            };
            tally.count(o.device == device);
            if o.device != device {
                self.disagree(
                    model,
                    o,
                    Aspect::Placement,
                    o.device.to_string(),
                    device.to_string(),
                );
            }
        }
    }

    fn disagree(
        &mut self,
        model: &str,
        o: &crate::placement::OpPlacement,
        aspect: Aspect,
        ours: String,
        coreml: String,
    ) {
        self.disagreements.push(Disagreement {
            model: model.to_string(),
            var: o.var.to_string(),
            kind: o.kind.to_string(),
            aspect,
            ours,
            coreml,
        });
    }
}
