//! Running a program with the reference interpreter (`mil-eval`), for `mil run` and the language
//! server's `mil.run`: reading the program as a run needs it, reading the inputs named as
//! `NAME=PATH.npy` or `PATH.npz`, making up the others from a seed, and the statistics of the
//! outputs (shape, dtype, min/max/mean of the finite values, non-finite count) with the table both
//! print; for `mil run` also a package decompiled to run, repeated runs' times, and the outputs
//! encoded as `.npy`.

use crate::analysis;
use mil_eval::{Interpreter, Named, Tensor, inputs, npy};
use mil_ir::diagnostic::Diagnostic;
use mil_ir::{Function, Program};
use mil_proto::decompile::{self, DecompileError};
use mil_proto::package::{PackageError, WEIGHT_FILE};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Reads `text` for a run: a well-formed, well-typed program, or the diagnostics that say why not
/// (what only a package cannot hold, which `mil check` also reports, does not stop the
/// interpreter).
pub fn read(text: &str, model_dir: Option<&Path>) -> Result<Program, Vec<Diagnostic>> {
    let a = analysis::analyse_text(text, model_dir, &crate::config::Config::default());
    if mil_ir::diagnostic::has_errors(&a.diagnostics) {
        Err(a.diagnostics)
    } else {
        Ok(a.program)
    }
}

/// A program to run with the folder its weights resolve against; a package's lives in a temporary
/// folder that is removed when this is dropped.
pub struct Loaded {
    /// The program.
    pub program: Program,
    /// The folder `@model_path` stands for.
    pub model_dir: Option<PathBuf>,
    _staging: Option<tempfile::TempDir>,
}

/// Why a package cannot be run.
#[derive(Debug)]
pub enum LoadError {
    /// No temporary folder for its weights.
    Staging(std::io::Error),
    /// It cannot be read or turned into MIL.
    Decompile(DecompileError),
}

impl Loaded {
    /// Reads the program `text` for a run ([`read`]).
    pub fn text(text: &str, model_dir: Option<PathBuf>) -> Result<Loaded, Vec<Diagnostic>> {
        Ok(Loaded {
            program: read(text, model_dir.as_deref())?,
            model_dir,
            _staging: None,
        })
    }

    /// Decompiles the `.mlpackage` (or `model.mlmodel`) at `path`, its weights into a temporary
    /// folder.
    pub fn package(path: &Path) -> Result<Loaded, LoadError> {
        let staging = tempfile::tempdir().map_err(LoadError::Staging)?;
        let weights = decompile::weights_dir(&staging.path().join("model.mil"));
        let input =
            decompile::read_input(path).map_err(|e| LoadError::Decompile(DecompileError::Package(e)))?;
        std::fs::create_dir_all(&weights).map_err(|error| {
            LoadError::Decompile(DecompileError::Package(PackageError::Io {
                path: weights.clone(),
                error,
            }))
        })?;
        let file = weights.join(WEIGHT_FILE);
        let weight_path = "@model_path/model.weights/weight.bin";
        let (program, _) = decompile::decompile_model(&input.model, &input.model_dir, &file, weight_path)
            .map_err(LoadError::Decompile)?;
        Ok(Loaded {
            program,
            model_dir: Some(staging.path().to_path_buf()),
            _staging: Some(staging),
        })
    }
}

/// Whether `path` names a model `mil run` decompiles first: a folder (an `.mlpackage`) or an
/// `.mlmodel`.
pub fn is_package(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e == "mlmodel")
}

/// Runs `f` on `given` `repeat` times (at least once); gives the last run's outputs and each
/// run's time, fastest first.
pub fn run_timed(
    interp: &Interpreter,
    f: &Function,
    given: &Named,
    repeat: usize,
) -> Result<(Named, Vec<Duration>), String> {
    let mut times = Vec::new();
    let mut outputs = Vec::new();
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        outputs = interp
            .run(f, given.clone())
            .map_err(|e| format!("the run failed: {e}"))?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok((outputs, times))
}

/// Each output encoded as `.npy`, with the file `dir/<name>.npy` it goes to; all are encoded
/// before any is written.
pub fn encode_outputs(dir: &Path, outputs: &Named) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    outputs
        .iter()
        .map(|(name, t)| {
            npy::write_npy(t)
                .map(|bytes| (dir.join(format!("{name}.npy")), bytes))
                .map_err(|e| format!("output `{name}`: {e}"))
        })
        .collect()
}

/// The tensors that `specs` name: `NAME=PATH.npy`, `NAME=PATH.npz` (an archive of one array) or
/// `PATH.npz` (every array of it, by its name). Relative paths are read under `base` when given.
pub fn read_inputs(specs: &[String], base: Option<&Path>) -> Result<Named, String> {
    let mut out: Named = Vec::new();
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
        let path = match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path,
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

/// Adds to `given` a random tensor (from `seed`, as [`inputs::random`] makes them) for each input
/// of `f` it lacks; returns the names of those made up.
pub fn add_random(f: &Function, given: &mut Named, seed: u64) -> Result<Vec<String>, String> {
    let mut made_up = Vec::new();
    for (name, t) in inputs::random(f, seed)? {
        if !given.iter().any(|(n, _)| *n == name) {
            made_up.push(name.clone());
            given.push((name, t));
        }
    }
    Ok(made_up)
}

/// The inputs of a run of `f`: those `specs` name ([`read_inputs`], relative to `base`) and, with a
/// `seed`, the others made up from it ([`add_random`]), checked against `f`'s parameters. Returns
/// them with the names of those made up; the error lists what is wrong, a problem an item.
pub fn inputs_for(
    f: &Function,
    specs: &[String],
    base: Option<&Path>,
    seed: Option<u64>,
) -> Result<(Named, Vec<String>), Vec<String>> {
    let mut given = read_inputs(specs, base).map_err(|e| vec![e])?;
    let made_up = match seed {
        Some(seed) => add_random(f, &mut given, seed).map_err(|e| vec![e])?,
        None => Vec::new(),
    };
    let problems = inputs::check(f, &given);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((given, made_up))
}

/// What a run reports of one output.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// The output's name.
    pub name: String,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// Its dtype, as MIL spells it.
    pub dtype: String,
    /// The least, greatest and mean of its finite values; `None` when it has none (or holds
    /// strings).
    pub min_max_mean: Option<(f64, f64, f64)>,
    /// How many of its values are infinite or NaN.
    pub non_finite: usize,
}

impl Stats {
    /// The statistics of output `name`.
    pub fn of(name: &str, t: &Tensor) -> Stats {
        let (min_max_mean, non_finite) = match t.f32s() {
            Ok(v) => {
                let (mut min, mut max, mut sum, mut finite) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
                for &x in v.iter().filter(|x| x.is_finite()) {
                    let x = x as f64;
                    (min, max, sum, finite) = (min.min(x), max.max(x), sum + x, finite + 1);
                }
                (
                    (finite > 0).then(|| (min, max, sum / finite as f64)),
                    v.len() - finite,
                )
            }
            Err(_) => (None, 0),
        };
        Stats {
            name: name.to_string(),
            shape: t.shape.clone(),
            dtype: t.dtype.to_string(),
            min_max_mean,
            non_finite,
        }
    }
}

/// The statistics as a table: a header, then one line per output (name, shape, dtype, min, max,
/// mean, non-finite count), columns aligned.
pub fn table(stats: &[Stats]) -> String {
    let rows: Vec<[String; 7]> = stats
        .iter()
        .map(|s| {
            let [min, max, mean] = match s.min_max_mean {
                Some((min, max, mean)) => [min, max, mean].map(|v| format!("{v:.6}")),
                None => ["-", "-", "-"].map(String::from),
            };
            let shape = format!("{:?}", s.shape);
            [
                s.name.clone(),
                shape,
                s.dtype.clone(),
                min,
                max,
                mean,
                s.non_finite.to_string(),
            ]
        })
        .collect();
    let header = ["output", "shape", "dtype", "min", "max", "mean", "non-finite"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = r.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// What the editor asks to run.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The function (default: `main`, or the only one).
    pub function: Option<String>,
    /// Inputs as `NAME=PATH.npy` or `PATH.npz`, relative to the document's folder.
    pub inputs: Vec<String>,
    /// The seed the inputs not given are made up from.
    pub seed: u64,
}

/// What a run gave.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The function that ran.
    pub function: String,
    /// The inputs made up from the seed.
    pub made_up: Vec<String>,
    /// The statistics of each output (then of each state's final value).
    pub outputs: Vec<Stats>,
    /// How long the interpreter ran.
    pub elapsed: Duration,
}

/// Runs the program `text` (its weights under `model_dir`) as the editor asks: the inputs given,
/// the others made up from the seed. The error says what is wrong: the program's error count, an
/// unreadable input, inputs that do not fit the function (each problem on its own line), or where
/// the run failed.
pub fn run(text: &str, model_dir: Option<&Path>, request: &Request) -> Result<Outcome, String> {
    let program = read(text, model_dir).map_err(|ds| {
        let n = ds
            .iter()
            .filter(|d| d.severity == mil_ir::Severity::Error)
            .count();
        format!(
            "not run: the program has {n} error{}",
            if n == 1 { "" } else { "s" }
        )
    })?;
    let interp = Interpreter::new(&program, model_dir);
    let f = interp
        .function(request.function.as_deref())
        .map_err(|e| e.to_string())?;
    let (given, made_up) = inputs_for(f, &request.inputs, model_dir, Some(request.seed))
        .map_err(|problems| problems.join("\n"))?;
    let (out, times) = run_timed(&interp, f, &given, 1)?;
    Ok(Outcome {
        function: f.name.to_string(),
        made_up,
        outputs: out.iter().map(|(n, t)| Stats::of(n, t)).collect(),
        elapsed: times[0],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    const PROGRAM: &str = "program(1.3)
{
    func main<ios18>(tensor<fp32, [2, 3]> x) {
        tensor<fp32, [2, 3]> y = relu(x = x);
        tensor<fp32, [2, 3]> z = real_div(x = y, y = y);
    } -> (y, z);
}
";

    #[test]
    fn a_run_on_given_inputs_reports_each_outputs_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let x = Tensor::from_f32(
            mil_ir::DType::Fp32,
            vec![2, 3],
            vec![-1.0, 0.0, 1.0, 2.0, 3.0, -4.0],
        );
        std::fs::write(dir.path().join("x.npy"), npy::write_npy(&x).unwrap()).unwrap();
        let request = Request {
            inputs: vec!["x=x.npy".into()],
            ..Request::default()
        };
        let outcome = run(PROGRAM, Some(dir.path()), &request).unwrap();
        assert!(outcome.made_up.is_empty());
        // relu gives 0, 0, 1, 2, 3, 0; dividing it by itself gives 0/0 = NaN three times.
        expect![[r#"
            output  shape   dtype  min       max       mean      non-finite
            y       [2, 3]  fp32   0.000000  3.000000  1.000000  0
            z       [2, 3]  fp32   1.000000  1.000000  1.000000  3
        "#]]
        .assert_eq(&table(&outcome.outputs));
    }

    #[test]
    fn inputs_not_given_are_made_up_from_the_seed() {
        let a = run(PROGRAM, None, &Request::default()).unwrap();
        let b = run(PROGRAM, None, &Request::default()).unwrap();
        let c = run(
            PROGRAM,
            None,
            &Request {
                seed: 1,
                ..Request::default()
            },
        )
        .unwrap();
        assert_eq!(a.made_up, ["x"]);
        assert_eq!(a.outputs, b.outputs);
        assert_ne!(a.outputs, c.outputs);
    }

    #[test]
    fn a_wrong_program_or_input_is_an_error_that_says_what() {
        let broken = PROGRAM.replace("relu(x = x)", "relu(x = nowhere)");
        assert_eq!(
            run(&broken, None, &Request::default()).unwrap_err(),
            "not run: the program has 1 error"
        );
        let dir = tempfile::tempdir().unwrap();
        let x = Tensor::from_f32(mil_ir::DType::Fp32, vec![3], vec![1.0, 2.0, 3.0]);
        std::fs::write(dir.path().join("x.npy"), npy::write_npy(&x).unwrap()).unwrap();
        let request = Request {
            inputs: vec!["x=x.npy".into()],
            ..Request::default()
        };
        assert_eq!(
            run(PROGRAM, Some(dir.path()), &request).unwrap_err(),
            "input `x` has shape [3] but the function takes tensor<fp32, [2, 3]>"
        );
        let request = Request {
            function: Some("other".into()),
            ..Request::default()
        };
        assert!(
            run(PROGRAM, None, &request)
                .unwrap_err()
                .contains("no function `other`")
        );
    }
}
