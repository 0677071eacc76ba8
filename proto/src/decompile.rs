//! `.mlpackage` (or a bare `model.mlmodel` beside its `weights/` folder) → MIL text and a weights
//! folder: the model is read, converted ([`crate::from_proto`]) while its blobs are copied into a new
//! weight file, printed, and only when all of that succeeded moved into place.
//!
//! The text goes to `OUT.mil`; its weights to `OUT.weights/weight.bin` beside it, where the text's
//! `@model_path/OUT.weights/weight.bin` references point, so `mil compile OUT.mil` finds them and
//! two programs decompiled into one folder do not share a weight file.

use crate::blob::BlobWriter;
use crate::from_proto::from_proto_with_weights_at;
use crate::kept_description;
use crate::manifest::{DATA_DIR, MANIFEST_FILE};
use crate::package::{PackageError, WEIGHT_FILE, read_model, read_package, staging_dir};
use crate::spec::Model;
use crate::weights::{MODEL_PATH_PREFIX, WeightFiles};
use mil_ir::{Diagnostic, Program, SourceMap};
use prost::Message;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// What `NAME.mil`'s weights folder adds to `NAME`: `NAME.weights/weight.bin`.
pub const WEIGHTS_DIR_SUFFIX: &str = ".weights";

/// Why nothing was written.
#[derive(Debug)]
pub enum DecompileError {
    /// The model cannot be turned into MIL text: every problem found.
    Model(Vec<Diagnostic>),
    /// Reading the input or writing the output failed (an output that exists and may not be
    /// replaced is an I/O error of kind `AlreadyExists`).
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

/// A model read for decompiling.
pub struct Input {
    /// The model.
    pub model: Model,
    /// The folder its weight references resolve against (`@model_path`: the folder holding the
    /// model file).
    pub model_dir: PathBuf,
    /// The `model.mlmodel` file.
    pub model_file: PathBuf,
}

/// Reads the model at `input`: an `.mlpackage` folder, or a `model.mlmodel` file.
pub fn read_input(input: &Path) -> Result<Input, PackageError> {
    if input.join(MANIFEST_FILE).is_file() {
        let package = read_package(input)?;
        let root = package
            .manifest
            .root_model()
            .expect("read_package checks the root model is an item");
        let model_file = input.join(DATA_DIR).join(&root.path);
        let model_dir = model_file.parent().unwrap_or(input).to_path_buf();
        return Ok(Input {
            model: package.model,
            model_dir,
            model_file,
        });
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
    Ok(Input {
        model,
        model_dir,
        model_file: input.to_path_buf(),
    })
}

/// Converts `model` (weights under `model_dir`) into a program whose weights go to `weight_file`,
/// which its BLOBFILE references name as `weight_path`. Returns the program and the number of
/// blobs written; on failure `weight_file` is incomplete.
pub fn decompile_model(
    model: &Model,
    model_dir: &Path,
    weight_file: &Path,
    weight_path: &str,
) -> Result<(Program, u32), DecompileError> {
    let file = File::create(weight_file).map_err(io_error(weight_file))?;
    let mut blobs =
        BlobWriter::new(BufWriter::with_capacity(1 << 20, file)).map_err(io_error(weight_file))?;
    let mut weights = WeightFiles::new(model_dir);
    let program = from_proto_with_weights_at(model, &mut weights, &mut blobs, weight_path)
        .map_err(DecompileError::Model)?;
    let count = blobs.count();
    let file = blobs.finish().map_err(io_error(weight_file))?;
    file.into_inner()
        .map_err(|e| io_error(weight_file)(e.into_error()))?
        .sync_all()
        .map_err(io_error(weight_file))?;
    Ok((program, count))
}

/// The folder beside `NAME.mil` that holds its weight file: `NAME.weights`.
pub fn weights_dir(target: &Path) -> PathBuf {
    let stem = target.file_stem().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!("{stem}{WEIGHTS_DIR_SUFFIX}"))
}

/// What [`decompile`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The MIL file.
    pub text: PathBuf,
    /// Its weight file, when the model has weights.
    pub weights: Option<PathBuf>,
}

/// Decompiles the model at `input` (see [`read_input`]) into the MIL file `target` and
/// `NAME.weights/weight.bin` beside it (the weight file only when the model has weights), so that
/// every decompiled program has its own weights. Existing files are replaced only when `replace`
/// is set; otherwise an existing one is an I/O error of kind `AlreadyExists` and
/// nothing is written.
/// Everything is written into a temporary folder beside `target` first and then moved into place,
/// so on failure nothing is written and existing files are left as they were.
pub fn decompile(input: &Path, target: &Path, replace: bool) -> Result<Written, DecompileError> {
    let weights_dir = weights_dir(target);
    let weight_file = weights_dir.join(WEIGHT_FILE);
    if !replace {
        for path in [target, &weight_file] {
            if fs::symlink_metadata(path).is_ok() {
                return Err(exists(path));
            }
        }
    }
    let Input {
        model,
        model_dir,
        model_file,
    } = read_input(input)?;
    let staging = staging_dir(target)?;
    let staged_weights = staging.path().join(WEIGHT_FILE);
    let dir_name = weights_dir.file_name().unwrap_or_default().to_string_lossy();
    let weight_path = format!("{MODEL_PATH_PREFIX}{dir_name}/{WEIGHT_FILE}");
    let (mut program, blobs) = decompile_model(&model, &model_dir, &staged_weights, &weight_path)?;
    keep_description(&mut program, &model_file)?;
    let staged_text = staging.path().join("model.mil");
    let mut text = mil_ir::printer::print_program(&program);
    text.push('\n');
    let mut file = File::create(&staged_text).map_err(io_error(&staged_text))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(&staged_text))?;
    let mut written = Written {
        text: target.to_path_buf(),
        weights: None,
    };
    let mut created_dir = false;
    if blobs > 0 {
        if !weights_dir.is_dir() {
            fs::create_dir(&weights_dir).map_err(io_error(&weights_dir))?;
            created_dir = true;
        }
        move_into_place(&staged_weights, &weight_file, replace)?;
        written.weights = Some(weight_file.clone());
    }
    if let Err(e) = move_into_place(&staged_text, target, replace) {
        if written.weights.is_some() && !replace {
            let _ = fs::remove_file(&weight_file);
        }
        if created_dir {
            let _ = fs::remove_dir(&weights_dir);
        }
        return Err(e);
    }
    Ok(written)
}

/// Adds the description of the model in `model_file` to `program` ([`crate::kept_description`])
/// unless compiling the program derives the same description anyway.
fn keep_description(program: &mut Program, model_file: &Path) -> Result<(), DecompileError> {
    let bytes = fs::read(model_file).map_err(io_error(model_file))?;
    let Some(raw) = kept_description::raw_description(&bytes) else {
        return Ok(());
    };
    let derived = crate::to_proto::description(program, &SourceMap::default());
    if derived.is_some_and(|d| d.encode_to_vec() == raw) {
        return Ok(());
    }
    let attribute = kept_description::attribute(&raw, &program.version);
    program.attributes.push(attribute);
    Ok(())
}

/// The error of an output file that exists and may not be replaced.
fn exists(path: &Path) -> DecompileError {
    let error = io::Error::new(
        io::ErrorKind::AlreadyExists,
        "exists; not replacing it (--force replaces it)",
    );
    io_error(path)(error).into()
}

/// Moves the finished file `staged` to `target`: a rename when `replace` is set, else a hard link
/// (which fails when `target` exists, so a file that appeared meanwhile is not replaced either).
fn move_into_place(staged: &Path, target: &Path, replace: bool) -> Result<(), DecompileError> {
    if replace {
        return fs::rename(staged, target).map_err(|e| io_error(target)(e).into());
    }
    match fs::hard_link(staged, target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists(target)),
        // A file system without hard links: check, then rename.
        Err(_) if fs::symlink_metadata(target).is_err() => {
            fs::rename(staged, target).map_err(|e| io_error(target)(e).into())
        }
        Err(e) => Err(io_error(target)(e).into()),
    }
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
        let err = decompile(&not_a_model, &out, false).unwrap_err();
        assert!(err.to_string().contains("is not a Core ML model"), "{err}");
        assert_eq!(fs::read_dir(out.parent().unwrap()).unwrap().count(), 0);
    }
}
