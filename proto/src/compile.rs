//! MIL program → `.mlpackage`: the weight references are checked, the program converted, its
//! weights streamed into the new package's weight file, and the package moved into place only
//! when all of it succeeded. The check and the conversion read weights through one store, so each
//! weight file is opened once, each record read once and each payload once.

use crate::blob_check::check_blobs_in;
use crate::package::{PackageError, PackageWriter};
use crate::to_proto::to_proto;
use crate::weights::WeightFiles;
use mil_ir::weights::Weights;
use mil_ir::{Diagnostic, Program, Severity, SourceMap};
use std::fmt;
use std::path::Path;

/// Why no package was written.
#[derive(Debug)]
pub enum CompileError {
    /// The program cannot be compiled: every diagnostic found (errors, and the warnings beside them).
    Program(Vec<Diagnostic>),
    /// Writing the package failed.
    Package(PackageError),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Program(d) => {
                let errors = d.iter().filter(|d| d.severity == Severity::Error).count();
                write!(f, "the program has {errors} error(s)")
            }
            CompileError::Package(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CompileError {}

impl From<PackageError> for CompileError {
    fn from(e: PackageError) -> CompileError {
        CompileError::Package(e)
    }
}

/// What stops [`compile`] that the text's own checks do not see: what a package cannot hold (an
/// opset without a Core ML version, a value or feature a package cannot describe, a positional
/// argument of an unknown op, an op newer than its opset). No weight file is read.
pub fn package_problems(program: &Program, map: &SourceMap) -> Vec<Diagnostic> {
    crate::to_proto::problems(program, map)
}

/// Compiles `program` (parsed without errors, spans in `map`) into the package `target`. BLOBFILE
/// paths resolve against `model_dir`, the folder holding the `.mil` file; a missing weight file is
/// an error here. Returns the warnings on success; on failure nothing is written and an existing
/// package at `target` is left as it was.
pub fn compile(
    program: &Program,
    map: &SourceMap,
    model_dir: &Path,
    target: &Path,
) -> Result<Vec<Diagnostic>, CompileError> {
    compile_with(program, map, &mut WeightFiles::new(model_dir), target)
}

/// [`compile`] with the weights of `weights` (the weight files of the model folder and the
/// weights a rewrite made in memory), which is all it reads.
pub fn compile_with(
    program: &Program,
    map: &SourceMap,
    weights: &mut dyn Weights,
    target: &Path,
) -> Result<Vec<Diagnostic>, CompileError> {
    let mut diagnostics = check_blobs_in(program, map, weights);
    if mil_ir::diagnostic::has_errors(&diagnostics) {
        return Err(CompileError::Program(diagnostics));
    }
    let mut package = PackageWriter::create(target)?;
    match to_proto(program, map, weights, package.blobs()?) {
        Ok(converted) => {
            package.commit_encoded(&converted.encode())?;
            diagnostics.extend(converted.warnings);
            Ok(diagnostics)
        }
        Err(errors) => {
            diagnostics.extend(errors);
            Err(CompileError::Program(diagnostics))
        }
    }
}
