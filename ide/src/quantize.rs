//! Quantising a whole file, for `mil quantize` and the editor's `mil.w8a8`: check the program,
//! move it to fp16 compute precision, quantise or palettise its weights, or quantise it to W8A8
//! (activation ranges calibrated by the interpreter on samples, or given), write the result beside
//! its weights, and measure its outputs' PSNR against the float program ([`mil_quant`]).

use crate::analysis::analyse;
use crate::config::Config;
use mil_eval::{Interpreter, Named};
use mil_ir::Program;
use mil_ir::diagnostic::{Diagnostic, has_errors};
use mil_ir::weights::MemoryWeights;
use mil_proto::blob::BlobWriter;
use mil_proto::decompile::weights_dir;
use mil_proto::package::WEIGHT_FILE;
use mil_proto::weights::{MODEL_PATH_PREFIX, WeightFiles, hold_in_memory, write_memory_weights};
use mil_quant::activations::{ActivationConfig, ActivationReport, check_opsets, quantize_activations};
use mil_quant::calibrate::{Range, Statistics, calibrate, read_samples};
use mil_quant::fp16::{Fp16Summary, compute_in_fp16};
use mil_quant::psnr::{Model, OutputPsnr, output_psnr};
use mil_quant::{Config as WeightConfig, PaletteConfig, Quantized, palettize_weights, quantize_weights};
use std::path::Path;

/// What to do to the program.
#[derive(Clone, Debug)]
pub enum Scheme<'a> {
    /// fp16 compute precision (coremltools' `FP16ComputePrecision`).
    Fp16,
    /// Linear weights (`linear_quantize_weights`).
    Weights(WeightConfig),
    /// k-means palettes (`palettize_weights`).
    Palette(PaletteConfig),
    /// Activations quantised with the ranges of `ranges` (their integer type and mode those of
    /// `weights`), then the weights as [`Scheme::Weights`] does.
    W8a8 {
        /// How the weights (and the activations' integers) are quantised.
        weights: WeightConfig,
        /// Where the activation ranges come from.
        ranges: Ranges<'a>,
    },
}

/// Where W8A8's activation ranges come from.
#[derive(Clone, Debug)]
pub enum Ranges<'a> {
    /// Calibrated by the interpreter on the samples of this folder (each `.npz` one sample with
    /// an array per input, each `.npy` one sample of a one-input function).
    Calibration(&'a Path),
    /// Given (coremltools' `activation_stats`); the PSNR is then measured on random inputs.
    Given(Statistics),
}

/// Why nothing was written.
#[derive(Debug)]
pub enum QuantizeError {
    /// The program has errors: its diagnostics.
    Program(Vec<Diagnostic>),
    /// The program cannot be quantised so, or a calibration sample is wrong.
    Refused(String),
    /// The output cannot be written.
    Write(std::io::Error),
}

/// The activation ranges W8A8 used and what was quantised with them.
#[derive(Clone, Debug)]
pub struct Activations {
    /// The ranges, by tensor.
    pub statistics: Statistics,
    /// The samples the PSNR is measured on: the calibration set, or random inputs (seed 0).
    pub samples: Vec<Named>,
    /// Whether the samples are the calibration set.
    pub calibrated: bool,
    /// The activations quantised.
    pub report: ActivationReport,
}

/// What [`quantize`] changed, wrote and measured.
#[derive(Clone, Debug)]
pub struct Quantization {
    /// The weights (or, for fp16, the consts) changed.
    pub weights: Vec<Quantized>,
    /// For fp16: which ops stay fp32 and how many compute in fp16.
    pub fp16: Option<Fp16Summary>,
    /// For W8A8: the activations.
    pub activations: Option<Activations>,
    /// Each output's PSNR against the float program (on the W8A8 samples, else on random inputs),
    /// or why it could not be measured; `None` when it was not asked for.
    pub psnr: Option<Result<Vec<OutputPsnr>, String>>,
}

/// Quantises `text` (its BLOBFILEs under `model_dir`) as `scheme` says and writes it to `target`
/// with its weights in `TARGET.weights/weight.bin`; `progress` is told `(done, total)` after each
/// calibration sample. With `measure_psnr`, both programs are then run in the interpreter for the
/// outputs' PSNR (on a large program that takes longer than the quantisation). Nothing is written
/// when the program has errors, a sample does not fit, or the scheme cannot be expressed in the
/// program's opset.
pub fn quantize(
    text: &str,
    model_dir: &Path,
    config: &Config,
    scheme: Scheme,
    target: &Path,
    measure_psnr: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Quantization, QuantizeError> {
    let analysed = analyse(text, Some(model_dir), config);
    if has_errors(&analysed.diagnostics) {
        return Err(QuantizeError::Program(analysed.diagnostics));
    }
    let float = analysed.program;
    let mut program = float.clone();
    let activations = match &scheme {
        Scheme::W8a8 { weights, ranges } => {
            let config = ActivationConfig {
                int: weights.int,
                mode: weights.mode,
            };
            Some(
                activations_of(&mut program, model_dir, ranges.clone(), config, progress)
                    .map_err(QuantizeError::Refused)?,
            )
        }
        _ => None,
    };
    let mut files = WeightFiles::new(model_dir);
    let mut memory = MemoryWeights::default();
    let (weights, fp16) = match &scheme {
        Scheme::Fp16 => compute_in_fp16(&mut program, &mut files, &mut memory)
            .map(|mut s| (std::mem::take(&mut s.consts), Some(s))),
        Scheme::Palette(palette) => {
            palettize_weights(&mut program, &mut files, &mut memory, palette).map(|w| (w, None))
        }
        Scheme::Weights(weights) | Scheme::W8a8 { weights, .. } => {
            quantize_weights(&mut program, &mut files, &mut memory, weights).map(|w| (w, None))
        }
    }
    .map_err(|e| QuantizeError::Refused(e.to_string()))?;
    hold_in_memory(&mut program, &mut files, &mut memory)
        .map_err(|(_, message)| QuantizeError::Refused(message))?;
    write_quantized(&mut program, &memory, target).map_err(QuantizeError::Write)?;
    let reference = Model {
        program: &float,
        model_dir: Some(model_dir),
        memory: None,
    };
    let samples = activations.as_ref().map(|a| a.samples.as_slice());
    let psnr = measure_psnr.then(|| psnr_of(&reference, &program, target, samples));
    Ok(Quantization {
        weights,
        fp16,
        activations,
        psnr,
    })
}

/// Gets the activation ranges (calibrated, or given) and puts the quantize/dequantize pairs into
/// `program`.
fn activations_of(
    program: &mut Program,
    model_dir: &Path,
    ranges: Ranges,
    config: ActivationConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Activations, String> {
    check_opsets(program).map_err(|e| e.to_string())?;
    let interp = Interpreter::new(program, Some(model_dir));
    let f = interp.function(None).map_err(|e| e.to_string())?;
    let (statistics, samples, calibrated) = match ranges {
        Ranges::Calibration(dir) => {
            let samples = read_samples(dir, f).map_err(|e| e.to_string())?;
            let total = samples.len();
            let stats = calibrate(program, Some(model_dir), f, &samples, &mut |done| {
                progress(done, total)
            })
            .map_err(|e| e.to_string())?;
            (stats, samples.into_iter().map(|s| s.inputs).collect(), true)
        }
        Ranges::Given(stats) => (stats, vec![mil_eval::inputs::random(f, 0)?], false),
    };
    let report = quantize_activations(program, &statistics, config).map_err(|e| e.to_string())?;
    Ok(Activations {
        statistics,
        samples,
        calibrated,
        report,
    })
}

/// Runs the written program (its weights under `target`'s folder) and the float one on `samples`
/// (by default random inputs: floats in [-1, 1), seed 0) and gives each output's PSNR.
fn psnr_of(
    reference: &Model,
    quantized: &Program,
    target: &Path,
    samples: Option<&[Named]>,
) -> Result<Vec<OutputPsnr>, String> {
    let target_dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let random;
    let samples = match samples {
        Some(samples) => samples,
        None => {
            let f = Interpreter::new(reference.program, reference.model_dir)
                .function(None)
                .map_err(|e| e.to_string())?;
            random = [mil_eval::inputs::random(f, 0)?];
            &random
        }
    };
    let quantized = Model {
        program: quantized,
        model_dir: Some(target_dir),
        memory: None,
    };
    output_psnr(reference, &quantized, None, samples)
}

/// Reads activation ranges written as `{"tensor": {"rmin": MIN, "rmax": MAX}, ...}`
/// (coremltools' `activation_stats`).
pub fn read_statistics(file: &Path) -> Result<Statistics, String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let object = json
        .as_object()
        .ok_or("expected an object of {\"rmin\": MIN, \"rmax\": MAX} by tensor name")?;
    object
        .iter()
        .map(|(tensor, range)| {
            let bound = |key: &str| {
                range
                    .get(key)
                    .and_then(serde_json::Value::as_f64)
                    .ok_or_else(|| format!("`{tensor}` has no number `{key}`"))
            };
            Ok((
                tensor.clone(),
                Range {
                    min: bound("rmin")? as f32,
                    max: bound("rmax")? as f32,
                },
            ))
        })
        .collect()
}

/// The ranges as [`read_statistics`] reads them, one tensor a line.
pub fn statistics_json(stats: &Statistics) -> String {
    let lines: Vec<String> = stats
        .iter()
        .map(|(name, r)| {
            format!(
                "  {}: {{\"rmin\": {}, \"rmax\": {}}}",
                serde_json::Value::from(name.as_str()),
                serde_json::Value::from(f64::from(r.min)),
                serde_json::Value::from(f64::from(r.max))
            )
        })
        .collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_statistics_read_back_as_coremltools_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stats.json");
        let stats: Statistics = [
            ("x".to_string(), Range { min: -1.5, max: 2.25 }),
            ("conv \"out\"".to_string(), Range { min: 0.0, max: 6.0 }),
        ]
        .into_iter()
        .collect();
        std::fs::write(&file, statistics_json(&stats)).unwrap();
        assert_eq!(read_statistics(&file).unwrap(), stats);
        // coremltools' `activation_stats` as json.dumps writes it.
        std::fs::write(&file, r#"{"x": {"rmin": -1.5, "rmax": 2.25}}"#).unwrap();
        assert_eq!(
            read_statistics(&file).unwrap()["x"],
            Range { min: -1.5, max: 2.25 }
        );
        std::fs::write(&file, r#"{"x": {"rmin": -1.5}}"#).unwrap();
        assert_eq!(read_statistics(&file).unwrap_err(), "`x` has no number `rmax`");
    }
}
