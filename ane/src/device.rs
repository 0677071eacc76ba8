//! The three devices Core ML places ops on.

use std::fmt;

/// A device an op can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The CPU (Core ML's BNNS and classic CPU backends).
    Cpu,
    /// The GPU.
    Gpu,
    /// The Neural Engine.
    Ane,
}

impl Device {
    /// Every device.
    pub const ALL: [Device; 3] = [Device::Cpu, Device::Gpu, Device::Ane];

    /// The lower-case name (`ane`, `gpu`, `cpu`).
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Gpu => "gpu",
            Device::Ane => "ane",
        }
    }

    /// The index into per-device arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
