//! W8A8 of a document for the editor's `mil.w8a8` command: calibrate on the samples of a folder
//! with the interpreter, put in coremltools' quantize/dequantize pairs, quantise the weights to
//! int8 per channel, write the result beside its weights, and measure its output PSNR against the
//! float program on the same samples ([`mil_quant`]; `mil quantize --mode w8a8` on the command line).

use crate::analysis::analyse;
use crate::config::Config;
use mil_eval::Interpreter;
use mil_ir::Program;
use mil_ir::diagnostic::has_errors;
use mil_ir::weights::MemoryWeights;
use mil_proto::blob::BlobWriter;
use mil_proto::decompile::weights_dir;
use mil_proto::package::WEIGHT_FILE;
use mil_proto::weights::{MODEL_PATH_PREFIX, WeightFiles, hold_in_memory, write_memory_weights};
use mil_quant::activations::{ActivationConfig, ActivationReport, check_opsets, quantize_activations};
use mil_quant::calibrate::{calibrate, read_samples};
use mil_quant::psnr::{Model, OutputPsnr, output_psnr};
use mil_quant::{Config as WeightConfig, Quantized, quantize_weights};
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
/// in `calibration`, and writes it to `target`; `progress` is told `(done, total)` after each sample.
/// Nothing is written when the program has errors, a sample does not fit, or the opset is too old.
pub fn w8a8(
    text: &str,
    model_dir: &Path,
    calibration: &Path,
    target: &Path,
    config: &Config,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<W8a8Outcome, String> {
    let analysed = analyse(text, Some(model_dir), config);
    if has_errors(&analysed.diagnostics) {
        let n = analysed
            .diagnostics
            .iter()
            .filter(|d| d.severity == mil_ir::Severity::Error)
            .count();
        return Err(format!("the program has {n} error(s)"));
    }
    let float = analysed.program;
    check_opsets(&float).map_err(|e| e.to_string())?;
    let interp = Interpreter::new(&float, Some(model_dir));
    let f = interp.function(None).map_err(|e| e.to_string())?;
    let samples = read_samples(calibration, f).map_err(|e| e.to_string())?;
    let total = samples.len();
    let stats = calibrate(&float, Some(model_dir), f, &samples, &mut |done| {
        progress(done, total)
    })
    .map_err(|e| e.to_string())?;
    let mut program = float.clone();
    let weight_config = WeightConfig::default();
    let activations = quantize_activations(
        &mut program,
        &stats,
        ActivationConfig {
            int: weight_config.int,
            mode: weight_config.mode,
        },
    )
    .map_err(|e| e.to_string())?;
    let mut files = WeightFiles::new(model_dir);
    let mut memory = MemoryWeights::default();
    let weights =
        quantize_weights(&mut program, &mut files, &mut memory, &weight_config).map_err(|e| e.to_string())?;
    hold_in_memory(&mut program, &mut files, &mut memory).map_err(|(_, m)| m)?;
    write_quantized(&mut program, &memory, target)
        .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    let out_dir = target.parent().unwrap_or(Path::new("."));
    let written = std::fs::read_to_string(target).map_err(|e| e.to_string())?;
    let quantized = analyse(&written, Some(out_dir), config).program;
    let inputs: Vec<_> = samples.into_iter().map(|s| s.inputs).collect();
    let psnr = output_psnr(
        &Model {
            program: &float,
            model_dir: Some(model_dir),
            memory: None,
        },
        &Model {
            program: &quantized,
            model_dir: Some(out_dir),
            memory: None,
        },
        None,
        &inputs,
    )?;
    Ok(W8a8Outcome {
        target: target.to_path_buf(),
        weights,
        activations,
        psnr,
        samples: total,
    })
}

/// Writes `program`, whose weights are all in `memory`, to `target` and its weights to
/// `TARGET.weights/weight.bin`, each through a temporary file renamed into place (the weights
/// first, so the text never names a missing file).
pub fn write_quantized(program: &mut Program, memory: &MemoryWeights, target: &Path) -> std::io::Result<()> {
    let dir = weights_dir(target);
    let weight_file = dir.join(WEIGHT_FILE);
    let dir_name = dir.file_name().unwrap_or_default().to_string_lossy();
    let reference = format!("{MODEL_PATH_PREFIX}{dir_name}/{WEIGHT_FILE}");
    std::fs::create_dir_all(&dir)?;
    let staged = tempfile::NamedTempFile::new_in(&dir)?;
    let mut blobs = BlobWriter::new(std::io::BufWriter::new(staged.as_file()))?;
    write_memory_weights(program, memory, 0, &reference, &mut blobs)
        .map_err(|(_, message)| std::io::Error::other(message))?;
    let count = blobs.count();
    blobs
        .finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    if count > 0 {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            staged
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))?;
        }
        staged.persist(&weight_file).map_err(|e| e.error)?;
    }
    let mut text = mil_ir::printer::print_program(program);
    text.push('\n');
    let text_dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut staged = tempfile::NamedTempFile::new_in(text_dir)?;
    std::io::Write::write_all(&mut staged, text.as_bytes())?;
    staged.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        staged
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    staged.persist(target).map_err(|e| e.error)?;
    Ok(())
}
