//! `mil run FILE.mil|PKG.mlpackage --input NAME=PATH.npy ... [--output-dir DIR]`: run a function
//! with the reference interpreter (`mil-eval`) and report its outputs.
//!
//! Everything that can be wrong with the request is found before anything runs or is written: a
//! program with errors (its diagnostics), an unreadable `.npy`/`.npz`, missing or extra inputs, a
//! wrong shape or dtype. Outputs go to `DIR/<output>.npy`, each written atomically, only after the
//! whole run succeeded.

use crate::cli::{ExitCode, read_source, refuse, write_atomically};
use crate::report::ColorWhen;
use mil_ide::eval::{Interpreter, Tensor, npy};
use mil_ide::run::{Stats, inputs_for, table};
use mil_ir::Program;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The arguments of `mil run`.
#[derive(clap::Args)]
pub struct Args {
    /// An input: `NAME=PATH.npy`, or `PATH.npz` for every array in the archive (by its name).
    #[arg(long = "input", value_name = "NAME=PATH.npy")]
    inputs: Vec<String>,
    /// Write each output to `DIR/<output>.npy`.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
    /// Make up the inputs not given with `--input` (floats in [-1, 1), integers in [0, 4)).
    #[arg(long)]
    random_inputs: bool,
    /// The seed of `--random-inputs`.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run this many times and print the minimum and median time.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// The function to run (default: `main`, or the only one).
    #[arg(long)]
    function: Option<String>,
    /// The MIL file, or an `.mlpackage` (or `model.mlmodel`).
    file: PathBuf,
}

/// A program to run with the folder its weights resolve against; `_staging` keeps a decompiled
/// package's weights alive.
struct Loaded {
    program: Program,
    model_dir: Option<PathBuf>,
    _staging: Option<tempfile::TempDir>,
}

/// Runs the program; exit 0 when it ran, 1 when the program or the inputs are wrong or the run
/// fails, 2 when the program file cannot be read or an output cannot be written.
pub fn run(args: &Args, color: ColorWhen) -> ExitCode {
    let loaded = match load(&args.file, color) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let interp = Interpreter::new(&loaded.program, loaded.model_dir.as_deref());
    let f = match interp.function(args.function.as_deref()) {
        Ok(f) => f,
        Err(e) => return fail(&e.to_string()),
    };
    let seed = args.random_inputs.then_some(args.seed);
    let given = match inputs_for(f, &args.inputs, None, seed) {
        Ok((given, _)) => given,
        Err(problems) => {
            for p in &problems {
                eprintln!("mil: {p}");
            }
            return ExitCode::Errors;
        }
    };
    let mut times = Vec::new();
    let mut outputs = Vec::new();
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        match interp.run(f, given.clone()) {
            Ok(out) => outputs = out,
            Err(e) => return fail(&format!("the run failed: {e}")),
        }
        times.push(start.elapsed());
    }
    if let Some(dir) = &args.output_dir
        && let Err(code) = write_outputs(dir, &outputs)
    {
        return code;
    }
    let stats: Vec<Stats> = outputs.iter().map(|(n, t)| Stats::of(n, t)).collect();
    print!("{}", table(&stats));
    if args.repeat > 1 {
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{} runs: min {:.3} ms, median {:.3} ms",
            times.len(),
            ms(times[0]),
            ms(times[times.len() / 2])
        );
    }
    ExitCode::Clean
}

/// Prints `message` as mil's error and gives exit 1.
fn fail(message: &str) -> ExitCode {
    eprintln!("mil: {message}");
    ExitCode::Errors
}

/// Reads and checks the program: a MIL file, or a package decompiled into a temporary folder.
fn load(path: &Path, color: ColorWhen) -> Result<Loaded, ExitCode> {
    let is_package = path.is_dir() || path.extension().is_some_and(|e| e == "mlmodel");
    if is_package {
        let staging = tempfile::tempdir().map_err(|e| {
            eprintln!("mil: cannot make a temporary folder: {e}");
            ExitCode::Usage
        })?;
        let weights = mil_proto::decompile::weights_dir(&staging.path().join("model.mil"));
        let read = mil_proto::decompile::read_input(path)
            .map_err(mil_proto::decompile::DecompileError::Package)
            .and_then(|input| {
                std::fs::create_dir_all(&weights).map_err(|error| mil_proto::package::PackageError::Io {
                    path: weights.clone(),
                    error,
                })?;
                let file = weights.join(mil_proto::package::WEIGHT_FILE);
                let weight_path = "@model_path/model.weights/weight.bin";
                mil_proto::decompile::decompile_model(&input.model, &input.model_dir, &file, weight_path)
            });
        return match read {
            Ok((program, _)) => Ok(Loaded {
                program,
                model_dir: Some(staging.path().to_path_buf()),
                _staging: Some(staging),
            }),
            Err(e) => {
                eprintln!("mil: cannot read {}: {e}", path.display());
                if let mil_proto::decompile::DecompileError::Model(ds) = e {
                    for d in ds {
                        eprintln!("{}[{}]: {}", d.severity.name(), d.code.id, d.message);
                    }
                }
                Err(ExitCode::Errors)
            }
        };
    }
    let source = read_source(path).ok_or(ExitCode::Usage)?;
    let program = mil_ide::run::read(&source.text, source.model_dir.as_deref()).map_err(|diagnostics| {
        let name = path.display().to_string();
        refuse("running", &name, &source.text, &diagnostics, color)
    })?;
    Ok(Loaded {
        program,
        model_dir: source.model_dir,
        _staging: None,
    })
}

/// Writes each output to `dir/<name>.npy`; every file is encoded before the first is written.
fn write_outputs(dir: &Path, outputs: &[(String, Tensor)]) -> Result<(), ExitCode> {
    let mut encoded = Vec::new();
    for (name, t) in outputs {
        match npy::write_npy(t) {
            Ok(bytes) => encoded.push((dir.join(format!("{name}.npy")), bytes)),
            Err(e) => {
                eprintln!("mil: output `{name}`: {e}");
                return Err(ExitCode::Errors);
            }
        }
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("mil: cannot make {}: {e}", dir.display());
        return Err(ExitCode::Usage);
    }
    for (path, bytes) in encoded {
        if let Err(e) = write_atomically(&path, &bytes) {
            eprintln!("mil: cannot write {}: {e}", path.display());
            return Err(ExitCode::Usage);
        }
    }
    Ok(())
}
