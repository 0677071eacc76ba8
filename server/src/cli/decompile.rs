//! `mil decompile PKG [-o OUT.mil]`: turn a Core ML package (or a bare `model.mlmodel` beside its
//! `weights/` folder) into MIL text, with its weights in `weights/weight.bin` beside the text.
//!
//! The output defaults to the input's name with `.mil`, beside it. Nothing is written unless the
//! whole model could be read.

use crate::cli::ExitCode;
use mil_proto::decompile::{DecompileError, decompile};
use mil_proto::package::PackageError;
use std::path::PathBuf;

/// The arguments of `mil decompile`.
#[derive(clap::Args)]
pub struct Args {
    /// The MIL file to write (default: the input's name with `.mil`, beside it); its weights go to
    /// `weights/weight.bin` in the same folder.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The `.mlpackage` folder or `model.mlmodel` file.
    package: PathBuf,
}

/// Decompiles the package; exit 0 when the text was written, 1 when the model is malformed, 2 when
/// a file cannot be read or written.
pub fn run(args: &Args) -> ExitCode {
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| args.package.with_extension("mil"));
    let name = args.package.display();
    match decompile(&args.package, &target) {
        Ok(()) => ExitCode::Clean,
        Err(DecompileError::Model(diagnostics)) => {
            eprintln!("mil: cannot decompile {name}: {} problem(s)", diagnostics.len());
            for d in diagnostics {
                eprintln!("{}[{}]: {}", d.severity.name(), d.code.id, d.message);
            }
            ExitCode::Errors
        }
        Err(DecompileError::Package(e @ PackageError::Io { .. })) => {
            eprintln!("mil: cannot decompile {name}: {e}");
            ExitCode::Usage
        }
        Err(DecompileError::Package(e)) => {
            eprintln!("mil: cannot decompile {name}: {e}");
            ExitCode::Errors
        }
    }
}
