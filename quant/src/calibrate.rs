//! Calibration for activation quantisation: the range of every activation over the user's samples.
//!
//! coremltools 9.0 (`optimize/coreml/experimental/_post_training_quantization.py`,
//! `_get_activation_calibration_stats`) runs the model on each sample with every non-const op's
//! result exposed as an output, and keeps each tensor's min and max (`rmin`, `rmax`): the inputs'
//! and the intermediate values', not the model outputs'. The ranges of a `concat`'s inputs and
//! output are then unified (`_adjust_concat_surrounding_activation_stats`), so the quantised
//! concat keeps one scale. Ranges accumulate over all samples (coremltools' fix of 2026-06; before
//! it, only the last sample counted). We run the samples through the interpreter ([`mil_eval`]),
//! which needs no Core ML and so works on any OS.
//!
//! Samples live in a folder ([`read_samples`]): each `.npz` file is one sample whose arrays are
//! named by input; for a function of one input, each `.npy` file is one sample of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mil_eval::{Interpreter, Named, Tensor, inputs, npy};
use mil_ir::{Function, Program, ValueDef};

/// The range an activation took over the calibration samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// The smallest value (`rmin`).
    pub min: f32,
    /// The largest value (`rmax`).
    pub max: f32,
}

/// Ranges by tensor name (coremltools' `activation_stats`).
pub type Statistics = BTreeMap<String, Range>;

/// One calibration sample: the file it came from and the function's inputs.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The `.npy` or `.npz` file.
    pub path: PathBuf,
    /// The inputs, by name.
    pub inputs: Named,
}

/// Why calibration could not run; nothing was quantised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalibrationError {
    /// The folder cannot be listed, or holds no sample.
    Folder(String),
    /// A sample cannot be read, or does not fit the function's inputs.
    Sample {
        /// The file.
        path: PathBuf,
        /// What is wrong (which input, and its name, shape or dtype).
        message: String,
    },
    /// The interpreter failed on a sample.
    Run {
        /// The sample's file.
        path: PathBuf,
        /// The interpreter's message.
        message: String,
    },
}

impl std::fmt::Display for CalibrationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalibrationError::Folder(m) => f.write_str(m),
            CalibrationError::Sample { path, message } => {
                write!(f, "calibration sample {}: {message}", path.display())
            }
            CalibrationError::Run { path, message } => {
                write!(f, "running calibration sample {}: {message}", path.display())
            }
        }
    }
}

/// The samples in `dir` for `f`, in file-name order: each `.npz` is a sample with an array per
/// input (named as the input), each `.npy` a sample of `f`'s only input. Every sample is checked
/// against `f`'s inputs (names, shapes, dtypes); other files are ignored.
pub fn read_samples(dir: &Path, f: &Function) -> Result<Vec<Sample>, CalibrationError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CalibrationError::Folder(format!(
            "cannot read the calibration folder {}: {e}",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("npy" | "npz")))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(CalibrationError::Folder(format!(
            "the calibration folder {} holds no .npy or .npz sample",
            dir.display()
        )));
    }
    paths.into_iter().map(|path| read_sample(path, f)).collect()
}

/// One sample file, checked against `f`'s inputs.
fn read_sample(path: PathBuf, f: &Function) -> Result<Sample, CalibrationError> {
    let fail = |message: String| CalibrationError::Sample {
        path: path.clone(),
        message,
    };
    let bytes = std::fs::read(&path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let named = if path.extension().is_some_and(|e| e == "npz") {
        npy::read_npz(&bytes).map_err(|e| fail(e.to_string()))?
    } else {
        let tensor = npy::read_npy(&bytes).map_err(|e| fail(e.to_string()))?;
        let [only] = f.params.as_slice() else {
            return Err(fail(format!(
                "a .npy sample is for a function of one input, and `{}` has {}; give an .npz with an array per input",
                f.name,
                f.params.len()
            )));
        };
        vec![(f.value(*only).name.to_string(), tensor)]
    };
    let problems = inputs::check(f, &named);
    if !problems.is_empty() {
        return Err(fail(problems.join("; ")));
    }
    Ok(Sample { path, inputs: named })
}

/// The range of every input and of every float result of a non-const op in `f`'s body, but the
/// function's outputs, over `samples`; then the ranges around each `concat` unified. `progress`
/// is told after each sample how many are done.
pub fn calibrate(
    program: &Program,
    model_dir: Option<&Path>,
    f: &Function,
    samples: &[Sample],
    progress: &mut dyn FnMut(usize),
) -> Result<Statistics, CalibrationError> {
    let interp = Interpreter::new(program, model_dir);
    let outputs: Vec<_> = f.block(f.body).outputs.iter().filter_map(|r| r.id).collect();
    let mut stats = Statistics::new();
    for (done, sample) in samples.iter().enumerate() {
        for (name, t) in &sample.inputs {
            widen(&mut stats, name, t);
        }
        let mut observe = |v, t: &Tensor| {
            let value = f.value(v);
            let from_const = matches!(value.def, ValueDef::Result(op, _) if f.op(op).kind == "const");
            if !from_const && !outputs.contains(&v) {
                widen(&mut stats, &value.name, t);
            }
        };
        interp
            .run_observed(f, sample.inputs.clone(), &mut observe)
            .map_err(|e| CalibrationError::Run {
                path: sample.path.clone(),
                message: e.to_string(),
            })?;
        progress(done + 1);
    }
    unify_concats(f, &mut stats);
    Ok(stats)
}

/// Widens the range of `name` to hold the values of `t` (when they are floats).
fn widen(stats: &mut Statistics, name: &str, t: &Tensor) {
    if !t.is_float() || t.is_empty() {
        return;
    }
    let Ok(values) = t.to_f32() else { return };
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let range = stats
        .entry(name.to_string())
        .or_insert(Range { min: lo, max: hi });
    range.min = range.min.min(lo);
    range.max = range.max.max(hi);
}

/// Gives the inputs and output of every `concat` of the body one range, the union of theirs;
/// concats that share a tensor share the range (coremltools' `_combine_lists_with_common_elements`).
fn unify_concats(f: &Function, stats: &mut Statistics) {
    let mut groups: Vec<Vec<String>> = Vec::new();
    for &op in &f.block(f.body).ops {
        let o = f.op(op);
        if o.kind != "concat" {
            continue;
        }
        let mut names: Vec<String> = o
            .arg("values")
            .into_iter()
            .flat_map(|a| a.values())
            .filter_map(|(_, r)| r.id.map(|id| f.value(id).name.to_string()))
            .collect();
        names.extend(o.results.iter().map(|&v| f.value(v).name.to_string()));
        let (joined, rest): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .partition(|g| g.iter().any(|n| names.contains(n)));
        for n in joined.into_iter().flatten() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        groups = rest;
        groups.push(names);
    }
    for group in groups {
        let ranges: Vec<Range> = group.iter().filter_map(|n| stats.get(n).copied()).collect();
        let Some(first) = ranges.first() else { continue };
        let union = ranges.iter().fold(*first, |u, r| Range {
            min: u.min.min(r.min),
            max: u.max.max(r.max),
        });
        for name in &group {
            if let Some(r) = stats.get_mut(name) {
                *r = union;
            }
        }
    }
}
