//! The cost model: an estimate per op per backend, from multiply-accumulates and bytes moved.
//!
//! The constants are fitted on the `EstimatedRuntime` figures of Core ML's analytics files (M4,
//! `../shared/corpus/analytics/`), so the model prices ops the way Core ML's planner does rather
//! than the way they really run (topk is the known gap, ANE114). What the fit found:
//!
//! - Most ops are priced by bytes moved (inputs + results): 13.695 ps per byte on the ANE and 1.2×
//!   that on the CPU, with a factor per op kind (relu costs the same everywhere; binary ops are
//!   priced on their inputs; concat and upsample_bilinear are far dearer on the CPU).
//! - conv is priced per multiply-accumulate in four tiers: dilated; depthwise-like (one input
//!   channel per group, or a single output position); large (reduction ≥ 144 and ≥ 128 output
//!   positions); small (the rest). conv_transpose has its own rate.
//! - linear is priced per MAC, much dearer on the CPU when it has fewer than 512 outputs; matmul is
//!   priced by bytes on the ANE and per MAC on the CPU; recurrent layers per MAC on the CPU.
//!
//! The GPU has no calibration data (the study ran with `cpuAndNeuralEngine`): its estimate is a
//! roofline on the chip's published peak and an assumed 100 GB/s, and says so in the docs.

use crate::facts::{Input, OpFacts};
use crate::kind::Kind;
use crate::target::ChipProfile;
use crate::tensor::{const_any_above, elements, known_dims, operand_type, output_types};
use mil_ir::Function;

/// ANE milliseconds per byte moved (M4): 3.59 µs for a 1×64×32×32 fp16 sigmoid.
const ANE_MS_PER_BYTE: f64 = 1.3695e-8;
/// CPU (BNNS) price of a byte relative to the ANE's, for most ops.
const CPU_BYTE_FACTOR: f64 = 1.2;
/// ms per picosecond.
const PS: f64 = 1e-9;

/// What one op costs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OpCost {
    /// Multiply-accumulates (0 for data movement).
    pub macs: f64,
    /// Bytes read and written.
    pub bytes: f64,
    /// Estimated ms on the Neural Engine (as if eligible).
    pub ane_ms: f64,
    /// Estimated ms on the GPU.
    pub gpu_ms: f64,
    /// Estimated ms on the CPU.
    pub cpu_ms: f64,
}

impl OpCost {
    /// Floating-point operations (two per MAC).
    pub fn flops(&self) -> f64 {
        2.0 * self.macs
    }
}

/// The M4 price of a conv per MAC (ANE ps, CPU ps), by tier.
fn conv_rates(cin_per_group: u64, reduction: u64, positions: u64, dilated: bool) -> (f64, f64) {
    if dilated {
        (0.0698, 1.2885)
    } else if cin_per_group == 1 || positions == 1 {
        (4.245, 73.84)
    } else if reduction >= 144 && positions >= 128 {
        (0.1238, 2.651)
    } else {
        (0.2792, 5.154)
    }
}

/// Per-kind byte-price factors (ANE, CPU) relative to [`ANE_MS_PER_BYTE`], and whether the price
/// counts the inputs only.
fn byte_factors(kind: &str) -> (f64, f64, bool) {
    match kind {
        "relu" => (0.7302, 0.7302, false),
        "add" | "sub" | "maximum" | "minimum" => (2.030, 3.456, true),
        "mul" | "real_div" | "pow" | "floor_div" => (1.698, 6.345, true),
        "concat" => (0.365, 3.174, false),
        "gather" => (1.0, 2.117, false),
        "gelu" => (1.0, 1.887, false),
        "transpose" => (1.06, 0.835, false),
        "upsample_bilinear" => (0.368, 55.7, false),
        _ => (1.0, CPU_BYTE_FACTOR, false),
    }
}

/// Estimates an op of `f` on every backend for `chip`.
pub fn estimate(f: &Function, facts: &OpFacts, chip: &ChipProfile) -> OpCost {
    let op = facts.op;
    if facts.kind.is_unplanned() {
        return OpCost::default();
    }
    let in_bytes = facts.in_bytes as f64;
    let out_bytes = facts.out_bytes as f64;
    let out_elems = facts.first_out.and_then(|(_, s)| s.elements).unwrap_or(0) as f64;
    let moved = in_bytes + out_bytes;
    let (ane_k, cpu_k, inputs_only) = byte_factors(&op.kind);
    let basis = if inputs_only { in_bytes } else { moved };
    let mut cost = OpCost {
        macs: 0.0,
        bytes: moved,
        ane_ms: basis * ANE_MS_PER_BYTE * ane_k,
        gpu_ms: 0.0,
        cpu_ms: basis * ANE_MS_PER_BYTE * cpu_k,
    };
    match facts.kind {
        Kind::Conv => price_conv(f, facts, out_elems, &mut cost),
        Kind::ConvTranspose => {
            if let Some(w) = weight_dims(f, facts) {
                let x_elems = facts
                    .arg(Input::X)
                    .and_then(|o| operand_type(f, o))
                    .and_then(elements);
                let cin = w[0].max(1);
                cost.macs = x_elems.unwrap_or(0) as f64 / cin as f64 * w.iter().product::<u64>() as f64;
                cost.ane_ms = cost.macs * 0.526 * PS;
                cost.cpu_ms = cost.macs * 126.7 * PS;
            }
        }
        Kind::Linear => {
            if let Some(w) = weight_dims(f, facts).filter(|w| w.len() == 2) {
                let (outs, ins) = (w[0], w[1]);
                cost.macs = out_elems * ins as f64;
                let (ane, cpu) = if outs < 512 {
                    (3.445, 88.7)
                } else {
                    let k = ins.min(512) as f64 / 512.0;
                    (0.378 * k, 11.92 * k)
                };
                cost.ane_ms = cost.macs * ane * PS;
                cost.cpu_ms = cost.macs * cpu * PS;
            }
        }
        Kind::Matmul => {
            cost.macs = out_elems * matmul_inner(f, facts) as f64;
            cost.cpu_ms = cost.macs * 2.651 * PS;
        }
        // Recurrent layers, which the Neural Engine refuses, priced per MAC on the CPU.
        Kind::Unsupported { .. } => {
            if let Some(gates) = recurrent_gates(&op.kind) {
                let hidden = output_types(f, op)
                    .nth(1)
                    .and_then(known_dims)
                    .and_then(|d| d.last().copied());
                let h = hidden.unwrap_or(0) as f64;
                cost.macs = out_elems * gates * 2.0 * h;
                cost.cpu_ms = cost.macs * 86.0 * PS;
            }
        }
        _ => {}
    }
    cost.gpu_ms = gpu_roofline(cost.macs, moved, chip);
    cost.ane_ms /= chip.ane_speed;
    cost.cpu_ms /= chip.cpu_speed;
    cost
}

/// The gates of a recurrent layer.
fn recurrent_gates(kind: &str) -> Option<f64> {
    match kind {
        "lstm" => Some(4.0),
        "gru" => Some(3.0),
        "rnn" => Some(1.0),
        _ => None,
    }
}

fn price_conv(f: &Function, facts: &OpFacts, out_elems: f64, cost: &mut OpCost) {
    let Some(w) = weight_dims(f, facts).filter(|w| w.len() >= 3) else {
        return;
    };
    let cout = w[0].max(1);
    let reduction: u64 = w[1..].iter().product();
    let positions = (out_elems as u64 / cout).max(1);
    let dilated = facts
        .arg(Input::Dilations)
        .is_some_and(|o| const_any_above(f, o, 1));
    let (ane, cpu) = conv_rates(w[1], reduction, positions, dilated);
    cost.macs = (reduction * cout) as f64 * positions as f64;
    cost.ane_ms = cost.macs * ane * PS;
    cost.cpu_ms = cost.macs * cpu * PS;
}

fn weight_dims(f: &Function, facts: &OpFacts) -> Option<crate::tensor::Shape> {
    known_dims(operand_type(f, facts.arg(Input::Weight)?)?)
}

/// The inner dimension of a matmul (x's last axis, or its second-to-last when transposed).
fn matmul_inner(f: &Function, facts: &OpFacts) -> u64 {
    let Some(x) = facts
        .arg(Input::X)
        .and_then(|o| operand_type(f, o))
        .and_then(known_dims)
    else {
        return 0;
    };
    let transposed = facts
        .arg(Input::TransposeX)
        .is_some_and(|o| const_any_above(f, o, 0));
    match (x.len(), transposed) {
        (0, _) => 0,
        (n, true) if n >= 2 => x[n - 2],
        (n, _) => x[n - 1],
    }
}

/// An uncalibrated GPU roofline: half the chip's peak, 100 GB/s, 5 µs per kernel.
fn gpu_roofline(macs: f64, bytes: f64, chip: &ChipProfile) -> f64 {
    let compute_ms = 2.0 * macs / (chip.gpu_tflops * 0.5e12) * 1e3;
    let memory_ms = bytes / 100e9 * 1e3;
    compute_ms.max(memory_ms) + 0.005
}

#[cfg(test)]
mod tests {
    use super::conv_rates;

    #[test]
    fn conv_tiers_follow_the_fitted_boundaries() {
        assert_eq!(conv_rates(64, 576, 1024, false).1, 2.651);
        assert_eq!(conv_rates(64, 64, 1024, false).1, 5.154);
        assert_eq!(conv_rates(64, 576, 36, false).1, 5.154);
        assert_eq!(conv_rates(1, 9, 1024, false).1, 73.84);
        assert_eq!(conv_rates(64, 576, 1, false).1, 73.84);
        assert!(conv_rates(64, 576, 1024, true).1 < 2.651);
    }
}
