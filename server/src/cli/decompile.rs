//! `mil decompile PKG [-o OUT.mil] [--force]`: turn a Core ML package (or a bare `model.mlmodel`
//! beside its `weights/` folder) into MIL text, with its weights in `OUT.weights/weight.bin` beside
//! the text.
//!
//! The output defaults to the input's name with `.mil`, beside it. Nothing is written unless the
//! whole model could be read, and no existing file is replaced without `--force`.

use crate::cli::{ExitCode, is_mil_text, print_model_problems};
use mil_proto::decompile::{DecompileError, decompile};
use mil_proto::package::PackageError;
use std::path::PathBuf;

/// The arguments of `mil decompile`.
#[derive(clap::Args)]
pub struct Args {
    /// The MIL file to write (default: the input's name with `.mil`, beside it); its weights go to
    /// `NAME.weights/weight.bin` in the same folder.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace the MIL file and its weight file when they exist.
    #[arg(long)]
    force: bool,
    /// The `.mlpackage` folder or `model.mlmodel` file.
    package: PathBuf,
}

/// Decompiles the package; exit 0 when the text was written, 1 when the model is malformed, 2 when
/// a file cannot be read or written (or exists, without `--force`).
pub fn run(args: &Args) -> ExitCode {
    let name = args.package.display();
    if is_mil_text(&args.package) {
        eprintln!("mil: {name} is MIL text, not a Core ML model; use `mil compile {name}` to make one");
        return ExitCode::Usage;
    }
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| args.package.with_extension("mil"));
    match decompile(&args.package, &target, args.force) {
        Ok(written) => {
            println!("wrote {}", written.text.display());
            if let Some(weights) = written.weights {
                println!("wrote {}", weights.display());
            }
            ExitCode::Clean
        }
        Err(DecompileError::Model(diagnostics)) => {
            eprintln!("mil: cannot decompile {name}: {} problem(s)", diagnostics.len());
            print_model_problems(&diagnostics);
            ExitCode::Errors
        }
        Err(DecompileError::Package(e @ PackageError::Io { .. })) => {
            eprintln!("mil: cannot decompile {name}: {e}");
            ExitCode::Usage
        }
        Err(e) => {
            eprintln!("mil: cannot decompile {name}: {e}");
            ExitCode::Errors
        }
    }
}
