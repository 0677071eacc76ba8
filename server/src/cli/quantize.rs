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

use crate::cli::settings::SettingsArgs;
use crate::cli::{ExitCode, read_file_for, refuse, write_atomically};
use crate::report::ColorWhen;
use mil_ide::quant::linear::{IntType, Mode};
use mil_ide::quant::{Config, Granularity, PaletteConfig, Quantized};
use mil_ide::quantize::{
    Activations, Quantization, QuantizeError, Ranges, Scheme, quantize, read_statistics, statistics_json,
};
use mil_proto::decompile::weights_dir;
use mil_proto::package::WEIGHT_FILE;
use std::io::IsTerminal;
use std::path::PathBuf;

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
    /// Skip the outputs' PSNR against the float model (it runs both programs in the interpreter,
    /// which on a large program takes longer than quantising it).
    #[arg(long)]
    no_psnr: bool,
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

    /// What the mode does, with the activation ranges `ranges` for W8A8.
    fn scheme<'a>(&self, ranges: Option<Ranges<'a>>) -> Scheme<'a> {
        match (self.mode, self.mode.lut_bits(), ranges) {
            (QuantMode::Fp16, _, _) => Scheme::Fp16,
            (_, Some(bits), _) => Scheme::Palette(self.palette_config(bits)),
            (_, _, Some(ranges)) => Scheme::W8a8 {
                weights: self.config(),
                ranges,
            },
            _ => Scheme::Weights(self.config()),
        }
    }

    /// Where W8A8's activation ranges come from: `--calibration`, or `--statistics` read here;
    /// prints why not and gives the exit code when neither is usable.
    fn ranges(&self) -> Result<Ranges<'_>, ExitCode> {
        match (&self.calibration, &self.statistics) {
            (Some(dir), _) => Ok(Ranges::Calibration(dir)),
            (None, Some(file)) => read_statistics(file).map(Ranges::Given).map_err(|e| {
                eprintln!("mil: cannot read the statistics {}: {e}", file.display());
                ExitCode::Usage
            }),
            (None, None) => {
                eprintln!("mil: --mode w8a8 needs --calibration DIR (or --statistics FILE.json)");
                Err(ExitCode::Usage)
            }
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
    let ranges = if w8a8 {
        match args.ranges() {
            Ok(ranges) => Some(ranges),
            Err(code) => return code,
        }
    } else {
        None
    };
    let name = path.display().to_string();
    let mut bar = None;
    let mut progress = |done, total| bar.get_or_insert_with(|| Progress::new(total)).show(done);
    let quantized = quantize(
        &text,
        &model_dir,
        &config,
        args.scheme(ranges),
        &target,
        !args.no_psnr,
        &mut progress,
    );
    if let Some(bar) = bar {
        bar.finish();
    }
    let done = match quantized {
        Ok(done) => done,
        Err(QuantizeError::Program(diagnostics)) => {
            return refuse("quantizing", &name, &text, &diagnostics, color);
        }
        Err(QuantizeError::Refused(e)) => {
            eprintln!("mil: not quantizing {name}: {e}");
            return ExitCode::Errors;
        }
        Err(QuantizeError::Write(e)) => {
            eprintln!("mil: cannot write {}: {e}", target.display());
            return ExitCode::Usage;
        }
    };
    print_report(&done);
    if let Some(a) = &done.activations {
        if let Some(file) = &args.save_statistics
            && let Err(e) = write_atomically(file, statistics_json(&a.statistics).as_bytes())
        {
            eprintln!("mil: cannot write {}: {e}", file.display());
            return ExitCode::Usage;
        }
        print_activations(a);
    }
    println!("wrote {}", target.display());
    match &done.psnr {
        Some(Ok(outputs)) => {
            for out in outputs {
                match out.psnr.is_nan() {
                    true => println!("output {}: no PSNR: its values are not all finite", out.name),
                    false => println!(
                        "output {}: PSNR {:.1} dB against the float model",
                        out.name, out.psnr
                    ),
                }
            }
        }
        Some(Err(e)) => println!("no output PSNR: {e}"),
        None => {}
    }
    ExitCode::Clean
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

/// Prints, for fp16, the ops left in fp32 and the count of fp16 ops; then one line per changed
/// weight (name, shape, bytes before and after, error) and the totals.
fn print_report(quantization: &Quantization) {
    if let Some(fp16) = &quantization.fp16 {
        for (function, op) in &fp16.overflowing {
            println!("{function}: `{op}` stays fp32 (a const input overflows fp16)");
        }
        println!("{} ops compute in fp16", fp16.ops);
    }
    let done: &[Quantized] = &quantization.weights;
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
