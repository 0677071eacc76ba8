//! `mil run FILE.mil|PKG.mlpackage --input NAME=PATH.npy ... [--output-dir DIR]`: run a function
//! with the reference interpreter (`mil-eval`) and report its outputs.
//!
//! Everything that can be wrong with the request is found before anything runs or is written: a
//! program with errors (its diagnostics), an unreadable `.npy`/`.npz`, missing or extra inputs, a
//! wrong shape or dtype. Outputs go to `DIR/<output>.npy`, each written atomically, only after the
//! whole run succeeded.

use crate::cli::{ExitCode, print_model_problems, read_source, refuse, write_atomically};
use crate::report::ColorWhen;
use mil_ide::eval::Interpreter;
use mil_ide::run::{LoadError, Loaded, Stats, encode_outputs, inputs_for, is_package, run_timed, table};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    let (outputs, times) = match run_timed(&interp, f, &given, args.repeat) {
        Ok(run) => run,
        Err(e) => return fail(&e),
    };
    if let Some(dir) = &args.output_dir
        && let Err(code) = write_outputs(dir, &outputs)
    {
        return code;
    }
    let stats: Vec<Stats> = outputs.iter().map(|(n, t)| Stats::of(n, t)).collect();
    print!("{}", table(&stats));
    if args.repeat > 1 {
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
    if is_package(path) {
        return Loaded::package(path).map_err(|e| match e {
            LoadError::Staging(e) => {
                eprintln!("mil: cannot make a temporary folder: {e}");
                ExitCode::Usage
            }
            LoadError::Decompile(e) => {
                eprintln!("mil: cannot read {}: {e}", path.display());
                if let mil_proto::decompile::DecompileError::Model(ds) = e {
                    print_model_problems(&ds);
                }
                ExitCode::Errors
            }
        });
    }
    let source = read_source(path).ok_or(ExitCode::Usage)?;
    Loaded::text(&source.text, source.model_dir).map_err(|diagnostics| {
        let name = path.display().to_string();
        refuse("running", &name, &source.text, &diagnostics, color)
    })
}

/// Writes each output to `dir/<name>.npy`; every file is encoded before the first is written.
fn write_outputs(dir: &Path, outputs: &mil_ide::eval::Named) -> Result<(), ExitCode> {
    let encoded = encode_outputs(dir, outputs).map_err(|e| fail(&e))?;
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
