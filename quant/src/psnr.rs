//! How far a quantised model's outputs are from the float model's: the peak signal-to-noise ratio
//! people gate on (coremltools' `compute_snr_and_psnr`, ml-stable-diffusion's 35 dB floor).

use std::path::Path;

use mil_eval::{Interpreter, Named};
use mil_ir::Program;
use mil_ir::weights::MemoryWeights;

/// The PSNR of `test` against `reference` in dB, as coremltools' `compute_snr_and_psnr`
/// (`converters/mil/testing_utils.py`) computes it: `10 log10((max(ref²) + 1e-5) / (mean((test −
/// ref)²) + 1e-10))`, in f64.
pub fn psnr(reference: &[f32], test: &[f32]) -> f64 {
    let n = reference.len().max(1) as f64;
    let noise: f64 = (reference.iter().zip(test))
        .map(|(&r, &t)| (f64::from(t) - f64::from(r)).powi(2))
        .sum::<f64>()
        / n;
    let peak = reference
        .iter()
        .map(|&r| f64::from(r).powi(2))
        .fold(0.0, f64::max);
    10.0 * ((peak + 1e-5) / (noise + 1e-10)).log10()
}

/// One output's PSNR over all samples.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputPsnr {
    /// The output's name.
    pub name: String,
    /// Its PSNR in dB, over the values of every sample together.
    pub psnr: f64,
}

/// A program to run: the program and the folder its weights resolve against.
pub struct Model<'p> {
    /// The program.
    pub program: &'p Program,
    /// Its `@model_path` folder.
    pub model_dir: Option<&'p Path>,
    /// The weights its references to `@memory` name (a quantisation not written out yet).
    pub memory: Option<&'p MemoryWeights>,
}

/// The PSNR of each output of `function` (or the only/`main` one) of `quantized` against
/// `reference`, both run by the interpreter on every input set of `samples`.
pub fn output_psnr(
    reference: &Model,
    quantized: &Model,
    function: Option<&str>,
    samples: &[Named],
) -> Result<Vec<OutputPsnr>, String> {
    let outputs = |model: &Model| -> Result<Vec<(String, Vec<f32>)>, String> {
        let memory = model.memory.cloned().unwrap_or_default();
        let interp = Interpreter::with_memory(model.program, model.model_dir, memory);
        let f = interp.function(function).map_err(|e| e.to_string())?;
        let mut all: Vec<(String, Vec<f32>)> = Vec::new();
        for sample in samples {
            let out = interp.run(f, sample.clone()).map_err(|e| e.to_string())?;
            for (i, (name, t)) in out.into_iter().enumerate() {
                if !t.is_float() {
                    continue;
                }
                let values = t.to_f32().map_err(|e| e.to_string())?;
                match all.get_mut(i) {
                    Some((_, v)) => v.extend(values),
                    None => all.push((name, values)),
                }
            }
        }
        Ok(all)
    };
    let (a, b) = (outputs(reference)?, outputs(quantized)?);
    Ok(a.iter()
        .zip(&b)
        .map(|((name, r), (_, t))| OutputPsnr {
            name: name.clone(),
            psnr: psnr(r, t),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::psnr;

    #[test]
    fn psnr_is_peak_over_mean_squared_noise() {
        // peak 4 (2²), noise mean (0.1² + 0 + 0.1²) / 3 = 0.02 / 3.
        let db = psnr(&[2.0, -1.0, 0.5], &[2.1, -1.0, 0.4]);
        let expected = 10.0 * ((4.0f64 + 1e-5) / (0.02 / 3.0 + 1e-10)).log10();
        assert!((db - expected).abs() < 1e-4, "{db} vs {expected}");
        // Equal signals: only the epsilons are left (10 log10(4 / 1e-10) ≈ 106 dB).
        assert!(psnr(&[2.0, 1.0], &[2.0, 1.0]) > 100.0);
    }
}
