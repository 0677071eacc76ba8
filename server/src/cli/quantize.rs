//! `mil quantize FILE.mil --mode fp16|w8|w4|lut2|lut4|lut6|lut8 [--granularity
//! per-tensor|per-channel|per-block:N] [--symmetric|--affine] [--unsigned] [--threshold N] [-o OUT.mil]
//! [--force]`: move a MIL file to fp16 compute precision as coremltools' `FP16ComputePrecision`
//! does, quantise its weights as `linear_quantize_weights` does, or palettise them as
//! `palettize_weights` (k-means) does ([`mil_quant`]); print each changed tensor's size before
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
use mil_ir::Program;
use mil_ir::diagnostic::has_errors;
use mil_ir::weights::MemoryWeights;
use mil_proto::blob::BlobWriter;
use mil_proto::decompile::weights_dir;
use mil_proto::package::WEIGHT_FILE;
use mil_proto::weights::{MODEL_PATH_PREFIX, WeightFiles, hold_in_memory, write_memory_weights};
use mil_quant::fp16::compute_in_fp16;
use mil_quant::linear::{IntType, Mode};
use mil_quant::psnr::{Model, output_psnr};
use mil_quant::{
    Config, Granularity, PaletteConfig, QuantError, Quantized, palettize_weights, quantize_weights,
};
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
            QuantMode::Fp16 | QuantMode::W8 | QuantMode::W4 => None,
        }
    }
}

impl Args {
    fn config(&self) -> Config {
        Config {
            int: match (self.mode, self.unsigned) {
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
/// cannot be quantised, 2 when a file cannot be read or written (or exists, without `--force`).
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
    if !args.force
        && let Some(existing) = [&target, &weight_file].into_iter().find(|p| p.exists())
    {
        eprintln!(
            "mil: {} exists; not replacing it (--force replaces it)",
            existing.display()
        );
        return ExitCode::Usage;
    }
    let name = path.display().to_string();
    let analysed = analysis::analyse(&text, Some(&model_dir), &config);
    if has_errors(&analysed.diagnostics) {
        return refuse("quantizing", &name, &text, &analysed.diagnostics, color);
    }
    let float = analysed.program.clone();
    let mut program = analysed.program;
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
    if let Err(e) = write_output(&mut program, &memory, &target, &weight_file) {
        eprintln!("mil: cannot write {}: {e}", target.display());
        return ExitCode::Usage;
    }
    print_report(&done);
    println!("wrote {}", target.display());
    if let Err(e) = print_psnr(&float, &model_dir, &program, &target) {
        println!("no output PSNR: {e}");
    }
    ExitCode::Clean
}

/// Writes the weights of `program` (all in `memory`) to `weight_file`, then its text to `target`,
/// each through a temporary file renamed into place.
fn write_output(
    program: &mut Program,
    memory: &MemoryWeights,
    target: &Path,
    weight_file: &Path,
) -> std::io::Result<()> {
    let dir = weight_file.parent().expect("a weight file is inside its folder");
    let dir_name = dir.file_name().unwrap_or_default().to_string_lossy();
    let reference = format!("{MODEL_PATH_PREFIX}{dir_name}/{WEIGHT_FILE}");
    std::fs::create_dir_all(dir)?;
    let staged = tempfile::NamedTempFile::new_in(dir)?;
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
        staged.persist(weight_file).map_err(|e| e.error)?;
    }
    let mut text = mil_ir::printer::print_program(program);
    text.push('\n');
    write_atomically(target, text.as_bytes())
}

/// Runs the written program and the float one on random inputs (floats in [-1, 1), seed 0) and
/// prints each output's PSNR.
fn print_psnr(float: &Program, model_dir: &Path, quantized: &Program, target: &Path) -> Result<(), String> {
    let target_dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let reference = Model {
        program: float,
        model_dir: Some(model_dir),
    };
    let f = mil_eval::Interpreter::new(float, Some(model_dir))
        .function(None)
        .map_err(|e| e.to_string())?;
    let samples = [mil_eval::inputs::random(f, 0)?];
    let quantized = Model {
        program: quantized,
        model_dir: Some(target_dir),
    };
    for out in output_psnr(&reference, &quantized, None, &samples)? {
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
