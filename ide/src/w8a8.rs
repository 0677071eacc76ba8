//! W8A8 of a document for the editor's `mil.w8a8` command: calibrate on the samples of a folder
//! with the interpreter, put in coremltools' quantize/dequantize pairs, quantise the weights to
//! int8 per channel, write the result beside its weights, and measure its output PSNR against the
//! float program on the same samples ([`crate::quantize`], which `mil quantize --mode w8a8` also
//! runs).

use crate::config::Config;
use crate::quantize::{QuantizeError, Ranges, Scheme, quantize};
use mil_quant::activations::ActivationReport;
use mil_quant::psnr::OutputPsnr;
use mil_quant::{Config as WeightConfig, Quantized};
use std::path::{Path, PathBuf};

/// What [`w8a8`] wrote and measured.
#[derive(Clone, Debug)]
pub struct W8a8Outcome {
    /// The MIL text written (its weights in `NAME.weights/weight.bin` beside it).
    pub target: PathBuf,
    /// The weights quantised.
    pub weights: Vec<Quantized>,
    /// The activations quantised.
    pub activations: ActivationReport,
    /// Each output's PSNR against the float program on the calibration samples.
    pub psnr: Vec<OutputPsnr>,
    /// How many samples calibrated it.
    pub samples: usize,
}

impl W8a8Outcome {
    /// One line for the editor: sizes, pairs and the worst output PSNR.
    pub fn summary(&self) -> String {
        let before: u64 = self.weights.iter().map(|q| q.bytes_before).sum();
        let after: u64 = self.weights.iter().map(|q| q.bytes_after).sum();
        let worst = self.psnr.iter().map(|p| p.psnr).fold(f64::INFINITY, f64::min);
        format!(
            "W8A8: {} weights {} → {} bytes, {} activations quantised; output PSNR {worst:.1} dB on {} calibration samples; wrote {}",
            self.weights.len(),
            before,
            after,
            self.activations.tensors.len(),
            self.samples,
            self.target.display()
        )
    }
}

/// Quantises `text` (its BLOBFILEs under `model_dir`) to W8A8 with ranges calibrated on the samples
/// in `calibration`, its weights to int8 per channel, and writes it to `target`; `progress` is told
/// `(done, total)` after each sample. Nothing is written when the program has errors, a sample does
/// not fit, or the opset is too old.
pub fn w8a8(
    text: &str,
    model_dir: &Path,
    calibration: &Path,
    target: &Path,
    config: &Config,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<W8a8Outcome, String> {
    let scheme = Scheme::W8a8 {
        weights: WeightConfig::default(),
        ranges: Ranges::Calibration(calibration),
    };
    let done = quantize(text, model_dir, config, scheme, target, true, progress).map_err(|e| match e {
        QuantizeError::Program(diagnostics) => {
            let n = diagnostics
                .iter()
                .filter(|d| d.severity == mil_ir::Severity::Error)
                .count();
            format!("the program has {n} error(s)")
        }
        QuantizeError::Refused(message) => message,
        QuantizeError::Write(e) => format!("cannot write {}: {e}", target.display()),
    })?;
    let activations = done.activations.expect("W8A8 quantises activations");
    Ok(W8a8Outcome {
        target: target.to_path_buf(),
        weights: done.weights,
        psnr: done
            .psnr
            .unwrap_or_else(|| Err("the output PSNR was not measured".into()))?,
        samples: activations.samples.len(),
        activations: activations.report,
    })
}
