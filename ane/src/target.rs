//! What a prediction is for: the chip, the compute units the app allows, and (per function) the
//! deployment target's opset.

use std::fmt;

/// An Apple chip with a Neural Engine that Core ML targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Chip {
    A14,
    A15,
    A16,
    A17Pro,
    A18,
    A18Pro,
    M1,
    M2,
    M3,
    M4,
}

/// What the cost model and the chip-dependent rules need to know about a chip.
///
/// The figures are Apple's published peak numbers (press releases) turned into ratios to the M4,
/// the chip every Core ML verdict in the corpus was measured on; they scale the M4-calibrated
/// estimates and are approximations, not measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChipProfile {
    /// Peak Neural Engine throughput as Apple quotes it, in TOPS (int8 for A17 Pro, A18 and M4).
    pub ane_tops: f64,
    /// Neural Engine fp16 speed relative to the M4's.
    pub ane_speed: f64,
    /// CPU speed relative to the M4's.
    pub cpu_speed: f64,
    /// GPU peak fp32 throughput in TFLOPS.
    pub gpu_tflops: f64,
    /// Whether int8 activations run at twice the fp16 rate (W8A8 on A17 Pro, A18 and M4).
    pub int8_compute: bool,
}

impl Chip {
    /// Every chip, phones first then Macs, oldest first.
    pub const ALL: [Chip; 10] = [
        Chip::A14,
        Chip::A15,
        Chip::A16,
        Chip::A17Pro,
        Chip::A18,
        Chip::A18Pro,
        Chip::M1,
        Chip::M2,
        Chip::M3,
        Chip::M4,
    ];

    /// The chip the corpus verdicts were measured on, used when none is given.
    pub const DEFAULT: Chip = Chip::M4;

    /// The name the command line uses (`a17pro`, `m4`).
    pub fn name(self) -> &'static str {
        match self {
            Chip::A14 => "a14",
            Chip::A15 => "a15",
            Chip::A16 => "a16",
            Chip::A17Pro => "a17pro",
            Chip::A18 => "a18",
            Chip::A18Pro => "a18pro",
            Chip::M1 => "m1",
            Chip::M2 => "m2",
            Chip::M3 => "m3",
            Chip::M4 => "m4",
        }
    }

    /// The chip called `name`, ignoring case, spaces, dashes and underscores (`A17 Pro`, `a17-pro`).
    pub fn parse(name: &str) -> Option<Chip> {
        let key: String = name
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        Chip::ALL.into_iter().find(|c| c.name() == key)
    }

    /// The chip's figures.
    pub fn profile(self) -> ChipProfile {
        // (quoted TOPS, fp16 TOPS, CPU speed vs M4, GPU TFLOPS, W8A8 at 2x)
        let (tops, fp16, cpu, gpu, int8) = match self {
            Chip::A14 => (11.0, 11.0, 0.55, 0.8, false),
            Chip::A15 => (15.8, 15.8, 0.6, 1.4, false),
            Chip::A16 => (17.0, 17.0, 0.65, 1.8, false),
            Chip::A17Pro => (35.0, 17.5, 0.75, 2.1, true),
            Chip::A18 => (35.0, 17.5, 0.8, 1.8, true),
            Chip::A18Pro => (35.0, 17.5, 0.85, 2.2, true),
            Chip::M1 => (11.0, 11.0, 0.6, 2.6, false),
            Chip::M2 => (15.8, 15.8, 0.7, 3.6, false),
            Chip::M3 => (18.0, 18.0, 0.8, 4.1, false),
            Chip::M4 => (38.0, 19.0, 1.0, 4.3, true),
        };
        ChipProfile {
            ane_tops: tops,
            ane_speed: fp16 / 19.0,
            cpu_speed: cpu,
            gpu_tflops: gpu,
            int8_compute: int8,
        }
    }
}

impl fmt::Display for Chip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `MLModelConfiguration.computeUnits`: which devices Core ML may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ComputeUnits {
    /// Neural Engine, GPU and CPU (Core ML's default).
    All,
    /// Neural Engine and CPU.
    CpuAndNeuralEngine,
    /// GPU and CPU.
    CpuAndGpu,
    /// CPU only.
    CpuOnly,
}

impl ComputeUnits {
    /// Every setting.
    pub const ALL: [ComputeUnits; 4] = [
        ComputeUnits::All,
        ComputeUnits::CpuAndNeuralEngine,
        ComputeUnits::CpuAndGpu,
        ComputeUnits::CpuOnly,
    ];

    /// The name the command line uses (`all`, `cpu_and_ne`, `cpu_and_gpu`, `cpu_only`).
    pub fn name(self) -> &'static str {
        match self {
            ComputeUnits::All => "all",
            ComputeUnits::CpuAndNeuralEngine => "cpu_and_ne",
            ComputeUnits::CpuAndGpu => "cpu_and_gpu",
            ComputeUnits::CpuOnly => "cpu_only",
        }
    }

    /// The setting called `name` (also Core ML's spelling, `cpuAndNeuralEngine`).
    pub fn parse(name: &str) -> Option<ComputeUnits> {
        let key = name.replace('_', "").to_ascii_lowercase();
        ComputeUnits::ALL.into_iter().find(|c| {
            c.name().replace('_', "") == key
                || (key == "cpuandneuralengine" && *c == ComputeUnits::CpuAndNeuralEngine)
        })
    }

    /// Whether the Neural Engine may be used.
    pub fn allows_ane(self) -> bool {
        matches!(self, ComputeUnits::All | ComputeUnits::CpuAndNeuralEngine)
    }

    /// Whether the GPU may be used.
    pub fn allows_gpu(self) -> bool {
        matches!(self, ComputeUnits::All | ComputeUnits::CpuAndGpu)
    }
}

impl fmt::Display for ComputeUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The settings of one prediction. The opset is not here: each function's own (`func main<ios18>`)
/// is its deployment target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// The chip.
    pub chip: Chip,
    /// The devices Core ML may use.
    pub compute_units: ComputeUnits,
}

impl Default for Target {
    /// An M4 with `cpuAndNeuralEngine`: the setting of every Core ML verdict we check against. Core
    /// ML's own default is `all`, which adds the GPU, for which the cost model has no calibration.
    fn default() -> Target {
        Target {
            chip: Chip::DEFAULT,
            compute_units: ComputeUnits::CpuAndNeuralEngine,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_common_spellings_parse() {
        for c in Chip::ALL {
            assert_eq!(Chip::parse(c.name()), Some(c));
        }
        assert_eq!(Chip::parse("A17 Pro"), Some(Chip::A17Pro));
        assert_eq!(Chip::parse("M5"), None);
        for u in ComputeUnits::ALL {
            assert_eq!(ComputeUnits::parse(u.name()), Some(u));
        }
        assert_eq!(
            ComputeUnits::parse("cpuAndNeuralEngine"),
            Some(ComputeUnits::CpuAndNeuralEngine)
        );
    }
}
