//! `.mlpackage` (or a bare `model.mlmodel` beside its `weights/` folder) → MIL text and a weights
//! folder: the model is read, converted ([`crate::from_proto`]) while its blobs are copied into a new
//! weight file, printed, and only when all of that succeeded moved into place.
//!
//! The text goes to `OUT.mil`; its weights to `weights/weight.bin` beside it, where the text's
//! `@model_path/weights/weight.bin` references point, so `mil compile OUT.mil` finds them.

use crate::blob::BlobWriter;
use crate::from_proto::from_proto;
use crate::manifest::{DATA_DIR, MANIFEST_FILE};
use crate::package::{PackageError, WEIGHT_FILE, read_model, read_package};
use crate::spec::Model;
use crate::weights::WeightFiles;
use mil_ir::{Diagnostic, Program};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The folder beside the text that holds its weight file.
pub const WEIGHTS_DIR: &str = "weights";

/// Why nothing was written.
#[derive(Debug)]
pub enum DecompileError {
    /// The model cannot be turned into MIL text: every problem found.
    Model(Vec<Diagnostic>),
    /// Reading the input or writing the output failed.
    Package(PackageError),
}

impl fmt::Display for DecompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecompileError::Model(d) => write!(f, "the model has {} problem(s)", d.len()),
            DecompileError::Package(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DecompileError {}

impl From<PackageError> for DecompileError {
    fn from(e: PackageError) -> DecompileError {
        DecompileError::Package(e)
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PackageError + '_ {
    move |error| PackageError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Reads the model at `input`: an `.mlpackage` folder, or a `model.mlmodel` file. Returns it with
/// the folder its weight references resolve against (`@model_path`: the folder holding the model
/// file).
pub fn read_input(input: &Path) -> Result<(Model, PathBuf), PackageError> {
    if input.join(MANIFEST_FILE).is_file() {
        let package = read_package(input)?;
        let root = package
            .manifest
            .root_model()
            .expect("read_package checks the root model is an item");
        let model_file = input.join(DATA_DIR).join(&root.path);
        let model_dir = model_file.parent().unwrap_or(input).to_path_buf();
        return Ok((package.model, model_dir));
    }
    if input.is_dir() {
        return Err(PackageError::Malformed {
            path: input.join(MANIFEST_FILE),
            why: "is missing, so the folder is not an .mlpackage".into(),
        });
    }
    let model = read_model(input)?;
    let model_dir = match input.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((model, model_dir))
}

/// Converts `model` (weights under `model_dir`) into a program whose weights go to `weight_file`.
/// Returns the program and the number of blobs written; on failure `weight_file` is incomplete.
pub fn decompile_model(
    model: &Model,
    model_dir: &Path,
    weight_file: &Path,
) -> Result<(Program, u32), DecompileError> {
    let file = File::create(weight_file).map_err(io_error(weight_file))?;
    let mut blobs =
        BlobWriter::new(BufWriter::with_capacity(1 << 20, file)).map_err(io_error(weight_file))?;
    let mut weights = WeightFiles::new(model_dir);
    let program = from_proto(model, &mut weights, &mut blobs).map_err(DecompileError::Model)?;
    let count = blobs.count();
    let file = blobs.finish().map_err(io_error(weight_file))?;
    file.into_inner()
        .map_err(|e| io_error(weight_file)(e.into_error()))?
        .sync_all()
        .map_err(io_error(weight_file))?;
    Ok((program, count))
}

/// Decompiles the model at `input` (see [`read_input`]) into the MIL file `target` and
/// `weights/weight.bin` beside it (replacing both; the weight file only when the model has
/// weights). Everything is written into a temporary folder beside `target` first, so on failure
/// nothing is written and existing files are left as they were.
pub fn decompile(input: &Path, target: &Path) -> Result<(), DecompileError> {
    let (model, model_dir) = read_input(input)?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempdir_in(parent)
        .map_err(io_error(parent))?;
    let staged_weights = staging.path().join(WEIGHT_FILE);
    let (program, blobs) = decompile_model(&model, &model_dir, &staged_weights)?;
    let staged_text = staging.path().join("model.mil");
    let text = mil_ir::printer::print_program(&program);
    let mut file = File::create(&staged_text).map_err(io_error(&staged_text))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(&staged_text))?;
    if blobs > 0 {
        let weights_dir = parent.join(WEIGHTS_DIR);
        fs::create_dir_all(&weights_dir).map_err(io_error(&weights_dir))?;
        let weight_file = weights_dir.join(WEIGHT_FILE);
        fs::rename(&staged_weights, &weight_file).map_err(io_error(&weight_file))?;
    }
    fs::rename(&staged_text, target).map_err(io_error(target))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let not_a_model = tmp.path().join("model.mlmodel");
        fs::write(&not_a_model, [0xff, 0xff, 0xff]).unwrap();
        let out = tmp.path().join("out").join("model.mil");
        fs::create_dir_all(out.parent().unwrap()).unwrap();
        let err = decompile(&not_a_model, &out).unwrap_err();
        assert!(err.to_string().contains("is not a Core ML model"), "{err}");
        assert_eq!(fs::read_dir(out.parent().unwrap()).unwrap().count(), 0);
    }
}
