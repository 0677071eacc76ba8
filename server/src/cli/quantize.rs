//! `mil quantize FILE.mil --mode fp16|w8|w4|lut2|lut4|lut6|lut8 [--granularity
//! per-tensor|per-channel|per-block:N] [--symmetric|--affine] [--unsigned] [--threshold N] [-o OUT.mil]
//! [--force]`: move a MIL file to fp16 compute precision as coremltools' `FP16ComputePrecision`
//! does, quantise its weights as `linear_quantize_weights` does, or palettise them as
//! `palettize_weights` (k-means) does ([`mil_ide::quant`]); print each changed tensor's size before
//! and after and its error.
//!
//! The program is checked first, as `mil compile` checks it; a program with errors, or one the
//! mode cannot be expressed in, gets its errors and nothing is written. The output (default:
//! `NAME.w8.mil` or `NAME.w4.mil` beside the input) gets all its weights in `OUT.weights/weight.bin`, so it stands on
//! its own; both files are written whole or not at all, and an existing one is replaced only with
//! `--force`.

use crate::analysis;
use crate::cli::settings::SettingsArgs;
use crate::cli::{ExitCode, read_file_for, refuse, write_atomically};
use crate::report::ColorWhen;
use mil_ide::eval::{Interpreter, Named};
use mil_ide::quant::activations::{self, ActivationConfig, ActivationReport, quantize_activations};
use mil_ide::quant::calibrate::{Range, Statistics, calibrate, read_samples};
use mil_ide::quant::fp16::compute_in_fp16;
use mil_ide::quant::linear::{IntType, Mode};
use mil_ide::quant::psnr::{Model, output_psnr};
use mil_ide::quant::{
    Config, Granularity, PaletteConfig, QuantError, Quantized, palettize_weights, quantize_weights,
};
use mil_ir::Program;
use mil_ir::diagnostic::has_errors;
use mil_ir::weights::MemoryWeights;
use mil_proto::decompile::weights_dir;
use mil_proto::package::WEIGHT_FILE;
use mil_proto::weights::{WeightFiles, hold_in_memory};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// What to quantise to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum QuantMode {
    /// fp16 compute precision: fp16 consts and ops, casts at the edges.
    Fp16,
    /// 8-bit linear weights (int8, or uint8 with `--unsigned`).
    W8,
    /// 4-bit linear weights (int4, or uint4 with `--unsigned`; iOS18).
    W4,
    /// 8-bit weights and 8-bit activations, calibrated on `--calibration DIR` (iOS17).
    W8a8,
    /// A 4-entry k-means table per tensor (or per group of channels) and 2-bit indices.
    Lut2,
    /// A 16-entry k-means table and 4-bit indices.
    Lut4,
    /// A 64-entry k-means table and 6-bit indices.
    Lut6,
    /// A 256-entry k-means table and 8-bit indices.
    Lut8,
}

/// Reads `per-tensor`, `per-channel`, `per-block` (blocks of 32, coremltools' default) or
/// `per-block:N`.
fn parse_granularity(text: &str) -> Result<Granularity, String> {
    match text {
        "per-tensor" => Ok(Granularity::PerTensor),
        "per-channel" => Ok(Granularity::PerChannel),
        "per-block" => Ok(Granularity::PerBlock(32)),
        _ => match text.strip_prefix("per-block:").map(str::parse::<u64>) {
            Some(Ok(n)) if n > 0 => Ok(Granularity::PerBlock(n)),
            _ => Err("expected per-tensor, per-channel, per-block or per-block:N (N > 0)".into()),
        },
    }
}

/// The arguments of `mil quantize`.
#[derive(clap::Args)]
pub struct Args {
    /// What to quantise to.
    #[arg(long, value_enum)]
    mode: QuantMode,
    /// One scale per tensor, per output channel, or per block of N input channels in each output
    /// channel (iOS18): per-tensor, per-channel (the default), per-block (N = 32) or per-block:N.
    /// For lut modes: one table per tensor (the default), per output channel, or per group of N
    /// output channels (per-block:N; iOS18).
    #[arg(long, value_parser = parse_granularity)]
    granularity: Option<Granularity>,
    /// A range symmetric around zero (coremltools' `linear_symmetric`; the default).
    #[arg(long, conflicts_with = "affine")]
    symmetric: bool,
    /// A range from min to max with a zero point (coremltools' `linear`).
    #[arg(long)]
    affine: bool,
    /// Unsigned integers (uint8) instead of signed (int8).
    #[arg(long)]
    unsigned: bool,
    /// Weights of this many elements or fewer are left alone (coremltools' `weight_threshold`).
    #[arg(long, default_value_t = 2048)]
    threshold: u64,
    /// W8A8: the folder of calibration samples (each `.npz` one sample with an array per input,
    /// each `.npy` one sample of a one-input function).
    #[arg(long, value_name = "DIR")]
    calibration: Option<PathBuf>,
    /// W8A8: the activation ranges to use instead of calibrating, as JSON
    /// `{"tensor": {"rmin": MIN, "rmax": MAX}, ...}` (coremltools' `activation_stats`).
    #[arg(long, value_name = "FILE.json", conflicts_with = "calibration")]
    statistics: Option<PathBuf>,
    /// W8A8: also write the activation ranges used to this JSON file.
    #[arg(long, value_name = "FILE.json")]
    save_statistics: Option<PathBuf>,
    /// The MIL file to write (default: `NAME.w8.mil` or `NAME.w4.mil` beside the input); its weights go to
    /// `OUT.weights/weight.bin`.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace the output and its weight file when they exist.
    #[arg(long)]
    force: bool,
    /// The chip, the compute units and the settings file the check is for.
    #[command(flatten)]
    settings: SettingsArgs,
    /// The MIL file.
    file: PathBuf,
}

impl QuantMode {
    /// The mode as spelled on the command line.
    fn name(self) -> &'static str {
        match self {
            QuantMode::Fp16 => "fp16",
            QuantMode::W8 => "w8",
            QuantMode::W4 => "w4",
            QuantMode::W8a8 => "w8a8",
            QuantMode::Lut2 => "lut2",
            QuantMode::Lut4 => "lut4",
            QuantMode::Lut6 => "lut6",
            QuantMode::Lut8 => "lut8",
        }
    }

    /// The index width of a lut mode.
    fn lut_bits(self) -> Option<u32> {
        match self {
            QuantMode::Lut2 => Some(2),
            QuantMode::Lut4 => Some(4),
            QuantMode::Lut6 => Some(6),
            QuantMode::Lut8 => Some(8),
            QuantMode::Fp16 | QuantMode::W8 | QuantMode::W4 | QuantMode::W8a8 => None,
        }
    }
}

impl Args {
    fn config(&self) -> Config {
        Config {
            int: match (self.mode, self.unsigned) {
                (QuantMode::W8 | QuantMode::W8a8, false) => IntType::Int8,
                (QuantMode::W8 | QuantMode::W8a8, true) => IntType::UInt8,
                (QuantMode::W4, false) => IntType::Int4,
                (QuantMode::W4, true) => IntType::UInt4,
                (_, false) => IntType::Int8,
                (_, true) => IntType::UInt8,
            },
            mode: if self.affine {
                Mode::Affine
            } else {
                Mode::Symmetric
            },
            granularity: self.granularity.unwrap_or(Granularity::PerChannel),
            threshold: self.threshold,
        }
    }

    /// The palettisation settings of a lut mode.
    fn palette_config(&self, bits: u32) -> PaletteConfig {
        PaletteConfig {
            bits,
            group: match self.granularity {
                None | Some(Granularity::PerTensor) => None,
                Some(Granularity::PerChannel) => Some(1),
                Some(Granularity::PerBlock(n)) => Some(n),
            },
            threshold: self.threshold,
        }
    }

    /// Changes `program` as the mode says; what changed, for the report.
    fn apply(
        &self,
        program: &mut Program,
        files: &mut WeightFiles,
        memory: &mut MemoryWeights,
    ) -> Result<Vec<Quantized>, QuantError> {
        match (self.mode, self.mode.lut_bits()) {
            (QuantMode::Fp16, _) => compute_in_fp16(program, files, memory).map(|s| {
                for (function, op) in &s.overflowing {
                    println!("{function}: `{op}` stays fp32 (a const input overflows fp16)");
                }
                println!("{} ops compute in fp16", s.ops);
                s.consts
            }),
            (_, Some(bits)) => palettize_weights(program, files, memory, &self.palette_config(bits)),
            _ => quantize_weights(program, files, memory, &self.config()),
        }
    }
}

/// Quantises the file; exit 0 when the output was written, 1 when the program has errors or
/// cannot be quantised (or a calibration sample is wrong), 2 when a file cannot be read or written
/// (or exists, without `--force`).
pub fn run(args: &Args, color: ColorWhen) -> ExitCode {
    let path = &args.file;
    let Some((config, text, model_dir)) = read_file_for("quantize", path, &args.settings) else {
        return ExitCode::Usage;
    };
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| path.with_extension(format!("{}.mil", args.mode.name())));
    let weight_file = weights_dir(&target).join(WEIGHT_FILE);
    let outputs = [Some(&target), Some(&weight_file), args.save_statistics.as_ref()];
    if !args.force
        && let Some(existing) = outputs.into_iter().flatten().find(|p| p.exists())
    {
        eprintln!(
            "mil: {} exists; not replacing it (--force replaces it)",
            existing.display()
        );
        return ExitCode::Usage;
    }
    let w8a8 = args.mode == QuantMode::W8a8;
    if !w8a8 && (args.calibration.is_some() || args.statistics.is_some()) {
        eprintln!("mil: --calibration and --statistics are for --mode w8a8");
        return ExitCode::Usage;
    }
    let name = path.display().to_string();
    let analysed = analysis::analyse(&text, Some(&model_dir), &config);
    if has_errors(&analysed.diagnostics) {
        return refuse("quantizing", &name, &text, &analysed.diagnostics, color);
    }
    let float = analysed.program.clone();
    let mut program = analysed.program;
    let activations = if w8a8 {
        match quantize_activations_of(args, &mut program, &model_dir) {
            Ok(a) => Some(a),
            Err(code) => return code,
        }
    } else {
        None
    };
    let mut files = WeightFiles::new(&model_dir);
    let mut memory = MemoryWeights::default();
    let done = match args.apply(&mut program, &mut files, &mut memory) {
        Ok(done) => done,
        Err(e) => {
            eprintln!("mil: not quantizing {name}: {e}");
            return ExitCode::Errors;
        }
    };
    if let Err((_, message)) = hold_in_memory(&mut program, &mut files, &mut memory) {
        eprintln!("mil: not quantizing {name}: {message}");
        return ExitCode::Errors;
    }
    if let Err(e) = mil_ide::w8a8::write_quantized(&mut program, &memory, &target) {
        eprintln!("mil: cannot write {}: {e}", target.display());
        return ExitCode::Usage;
    }
    print_report(&done);
    if let Some(a) = &activations {
        if let Some(file) = &args.save_statistics
            && let Err(e) = write_atomically(file, statistics_json(&a.statistics).as_bytes())
        {
            eprintln!("mil: cannot write {}: {e}", file.display());
            return ExitCode::Usage;
        }
        print_activations(a);
    }
    println!("wrote {}", target.display());
    let reference = Model {
        program: &float,
        model_dir: Some(&model_dir),
        memory: None,
    };
    let samples = activations.map(|a| a.samples);
    if let Err(e) = print_psnr(&reference, &program, &target, samples) {
        println!("no output PSNR: {e}");
    }
    ExitCode::Clean
}

/// The activation ranges used and what was quantised with them.
struct Activations {
    statistics: Statistics,
    /// The samples they came from (random inputs with `--statistics`), for the PSNR.
    samples: Vec<Named>,
    /// Whether the samples are the calibration set.
    calibrated: bool,
    report: ActivationReport,
}

/// Gets the activation ranges (calibrated on `--calibration`, or read from `--statistics`) and
/// puts the quantize/dequantize pairs into `program`; prints why not and gives the exit code when
/// it cannot.
fn quantize_activations_of(
    args: &Args,
    program: &mut Program,
    model_dir: &Path,
) -> Result<Activations, ExitCode> {
    let name = args.file.display();
    if let Err(e) = activations::check_opsets(program) {
        eprintln!("mil: not quantizing {name}: {e}");
        return Err(ExitCode::Errors);
    }
    let interp = Interpreter::new(program, Some(model_dir));
    let f = interp.function(None).map_err(|e| {
        eprintln!("mil: not quantizing {name}: {e}");
        ExitCode::Errors
    })?;
    let (statistics, samples, calibrated) = match (&args.calibration, &args.statistics) {
        (Some(dir), _) => {
            let samples = read_samples(dir, f).map_err(|e| {
                eprintln!("mil: not quantizing {name}: {e}");
                ExitCode::Errors
            })?;
            let mut bar = Progress::new(samples.len());
            let stats = calibrate(program, Some(model_dir), f, &samples, &mut |done| bar.show(done));
            bar.finish();
            let stats = stats.map_err(|e| {
                eprintln!("mil: not quantizing {name}: {e}");
                ExitCode::Errors
            })?;
            (stats, samples.into_iter().map(|s| s.inputs).collect(), true)
        }
        (None, Some(file)) => {
            let stats = read_statistics(file).map_err(|e| {
                eprintln!("mil: cannot read the statistics {}: {e}", file.display());
                ExitCode::Usage
            })?;
            let random = mil_ide::eval::inputs::random(f, 0).map_err(|e| {
                eprintln!("mil: not quantizing {name}: {e}");
                ExitCode::Errors
            })?;
            (stats, vec![random], false)
        }
        (None, None) => {
            eprintln!("mil: --mode w8a8 needs --calibration DIR (or --statistics FILE.json)");
            return Err(ExitCode::Usage);
        }
    };
    let config = ActivationConfig {
        int: args.config().int,
        mode: args.config().mode,
    };
    let report = quantize_activations(program, &statistics, config).map_err(|e| {
        eprintln!("mil: not quantizing {name}: {e}");
        ExitCode::Errors
    })?;
    Ok(Activations {
        statistics,
        samples,
        calibrated,
        report,
    })
}

/// A progress bar on standard error while calibrating, drawn only when it is a terminal.
struct Progress {
    total: usize,
    shown: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            shown: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, done: usize) {
        if !self.shown {
            return;
        }
        const WIDTH: usize = 30;
        let filled = done * WIDTH / self.total.max(1);
        eprint!(
            "\rcalibrating [{}{}] {done}/{} samples",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
            self.total
        );
    }

    fn finish(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

/// Reads `{"tensor": {"rmin": MIN, "rmax": MAX}, ...}`.
fn read_statistics(file: &Path) -> Result<Statistics, String> {
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

/// The ranges as `read_statistics` reads them, one tensor a line.
fn statistics_json(stats: &Statistics) -> String {
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

/// Prints one line per quantised activation (name, shape, range, bytes as floats and as 8-bit
/// integers) and the totals.
fn print_activations(a: &Activations) {
    let tensors = &a.report.tensors;
    let width = tensors.iter().map(|t| t.name.len()).max().unwrap_or(0).max(10);
    println!();
    println!(
        "{:<width$}  {:<20}  {:>21}  {:>12}  {:>12}",
        "activation", "shape", "range", "before", "after"
    );
    for t in tensors {
        let range = format!("[{:.4}, {:.4}]", t.range.min, t.range.max);
        let shape = format!("{:?}", t.shape);
        println!(
            "{:<width$}  {shape:<20}  {range:>21}  {:>12}  {:>12}",
            t.name, t.bytes_before, t.bytes_after
        );
    }
    let before: u64 = tensors.iter().map(|t| t.bytes_before).sum();
    let after: u64 = tensors.iter().map(|t| t.bytes_after).sum();
    println!(
        "{:<width$}  {:<20}  {:>21}  {before:>12}  {after:>12}",
        "total",
        format!("{} activations", tensors.len()),
        format!("{} quantize ops", a.report.pairs)
    );
    println!(
        "ranges from {}",
        if a.calibrated {
            format!("{} calibration samples", a.samples.len())
        } else {
            "--statistics".to_string()
        }
    );
}

/// Runs the written program and the float one on `samples` (by default random inputs: floats in
/// [-1, 1), seed 0) and prints each output's PSNR.
fn print_psnr(
    reference: &Model,
    quantized: &Program,
    target: &Path,
    samples: Option<Vec<Named>>,
) -> Result<(), String> {
    let target_dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let samples = match samples {
        Some(samples) => samples,
        None => {
            let f = mil_ide::eval::Interpreter::new(reference.program, reference.model_dir)
                .function(None)
                .map_err(|e| e.to_string())?;
            vec![mil_ide::eval::inputs::random(f, 0)?]
        }
    };
    let quantized = Model {
        program: quantized,
        model_dir: Some(target_dir),
        memory: None,
    };
    for out in output_psnr(reference, &quantized, None, &samples)? {
        println!(
            "output {}: PSNR {:.1} dB against the float model",
            out.name, out.psnr
        );
    }
    Ok(())
}

/// Prints one line per quantised weight (name, shape, bytes before and after) and the totals.
fn print_report(done: &[Quantized]) {
    if done.is_empty() {
        println!("no weight is large enough to quantise (see --threshold)");
        return;
    }
    let width = done.iter().map(|q| q.name.len()).max().unwrap_or(0).max(6);
    println!(
        "{:<width$}  {:<20}  {:>12}  {:>12}  {:>10}  {:>7}",
        "weight", "shape", "before", "after", "max error", "SNR dB"
    );
    for q in done {
        let shape = format!("{:?}", q.shape);
        println!(
            "{:<width$}  {shape:<20}  {:>12}  {:>12}  {:>10.3e}  {:>7.1}",
            q.name, q.bytes_before, q.bytes_after, q.error.max_abs, q.error.snr_db
        );
    }
    let before: u64 = done.iter().map(|q| q.bytes_before).sum();
    let after: u64 = done.iter().map(|q| q.bytes_after).sum();
    println!(
        "{:<width$}  {:<20}  {before:>12}  {after:>12}",
        "total",
        format!("{} weights", done.len())
    );
}
