//! `mil run FILE.mil|PKG.mlpackage --input NAME=PATH.npy ... [--output-dir DIR]`: run a function
//! with the reference interpreter (`mil-eval`) and report its outputs.
//!
//! Everything that can be wrong with the request is found before anything runs or is written: a
//! program with errors (its diagnostics), an unreadable `.npy`/`.npz`, missing or extra inputs, a
//! wrong shape or dtype. Outputs go to `DIR/<output>.npy`, each written atomically, only after the
//! whole run succeeded.

use crate::analysis;
use crate::cli::{ExitCode, read_source, refuse, write_atomically};
use crate::report::ColorWhen;
use mil_eval::{Interpreter, Tensor, inputs, npy};
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
    let mut given = match read_inputs(&args.inputs) {
        Ok(g) => g,
        Err(e) => return fail(&e),
    };
    if args.random_inputs {
        match inputs::random(f, args.seed) {
            Ok(made) => {
                for (name, t) in made {
                    if !given.iter().any(|(n, _)| *n == name) {
                        given.push((name, t));
                    }
                }
            }
            Err(e) => return fail(&e),
        }
    }
    let problems = inputs::check(f, &given);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("mil: {p}");
        }
        return ExitCode::Errors;
    }
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
    print_table(&outputs);
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
    // What a run needs is a well-formed, well-typed program: what only a package cannot hold
    // (which `mil check` also reports, as `mil compile` refuses it) does not stop the interpreter.
    let mut a = analysis::read(&source.text, source.model_dir.as_deref());
    let target = mil_ide::config::Config::default().target();
    a.diagnostics
        .extend(analysis::program_checks(&a.program, &a.source_map, target));
    if mil_ir::diagnostic::has_errors(&a.diagnostics) {
        let name = path.display().to_string();
        return Err(refuse("running", &name, &source.text, &a.diagnostics, color));
    }
    Ok(Loaded {
        program: a.program,
        model_dir: source.model_dir,
        _staging: None,
    })
}

/// The tensors `--input` arguments name.
fn read_inputs(specs: &[String]) -> Result<Vec<(String, Tensor)>, String> {
    let mut out: Vec<(String, Tensor)> = Vec::new();
    let mut add = |name: String, t: Tensor| {
        if out.iter().any(|(n, _)| *n == name) {
            return Err(format!("input `{name}` is given twice"));
        }
        out.push((name, t));
        Ok(())
    };
    for spec in specs {
        let (name, path) = match spec.split_once('=') {
            Some((n, p)) => (Some(n.to_string()), PathBuf::from(p)),
            None => (None, PathBuf::from(spec)),
        };
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let bad = |e: mil_eval::EvalError| format!("cannot read {}: {e}", path.display());
        if bytes.starts_with(b"PK") {
            let arrays = npy::read_npz(&bytes).map_err(bad)?;
            match name {
                Some(n) if arrays.len() == 1 => add(n, arrays.into_iter().next().unwrap().1)?,
                Some(n) => {
                    return Err(format!(
                        "{} holds {} arrays; give it as `--input {}` to use them by name, not as `{n}=`",
                        path.display(),
                        arrays.len(),
                        path.display()
                    ));
                }
                None => {
                    for (n, t) in arrays {
                        add(n, t)?;
                    }
                }
            }
        } else {
            let Some(name) = name else {
                return Err(format!("`--input {spec}`: give a .npy file as NAME=PATH.npy"));
            };
            add(name, npy::read_npy(&bytes).map_err(bad)?)?;
        }
    }
    Ok(out)
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

/// Prints one line per output: name, shape, dtype, min, max, mean and the number of non-finite
/// values.
fn print_table(outputs: &[(String, Tensor)]) {
    let rows: Vec<[String; 7]> = outputs
        .iter()
        .map(|(name, t)| {
            let shape = format!("{:?}", t.shape);
            let stats = match t.to_f32() {
                Ok(v) => {
                    let finite: Vec<f64> = v.iter().filter(|x| x.is_finite()).map(|&x| x as f64).collect();
                    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
                    if finite.is_empty() {
                        ["-".into(), "-".into(), "-".into(), (v.len()).to_string()]
                    } else {
                        [
                            format!("{min:.6}"),
                            format!("{max:.6}"),
                            format!("{mean:.6}"),
                            (v.len() - finite.len()).to_string(),
                        ]
                    }
                }
                Err(_) => ["-".into(), "-".into(), "-".into(), "0".into()],
            };
            let [min, max, mean, bad] = stats;
            [name.clone(), shape, t.dtype.to_string(), min, max, mean, bad]
        })
        .collect();
    let header = ["output", "shape", "dtype", "min", "max", "mean", "non-finite"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    for r in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = r.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", line.join("  ").trim_end());
    }
}
