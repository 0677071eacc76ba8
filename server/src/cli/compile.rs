//! `mil compile FILE.mil [-o OUT.mlpackage]`: compile a MIL file into a Core ML package.
//!
//! The text is checked first, exactly as `mil check` checks it (syntax, structure, weight
//! references, op and type checks, and what a package cannot hold); any error is reported and
//! nothing is written. The package goes next to the file with the same stem unless
//! `-o` names it, and replaces an existing package only once it is complete.

use crate::analysis;
use crate::cli::settings::SettingsArgs;
use crate::cli::{ExitCode, read_file_for, refuse};
use crate::report::{self, ColorWhen, Stream};
use codespan_reporting::term::termcolor::StandardStream;
use mil_proto::compile::CompileError;
use std::path::PathBuf;

/// The arguments of `mil compile`.
#[derive(clap::Args)]
pub struct Args {
    /// The package to write (default: the file's name with `.mlpackage`, beside it).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The chip, the compute units and the settings file the warnings are for
    /// (docs/configuration.md).
    #[command(flatten)]
    settings: SettingsArgs,
    /// The MIL file.
    file: PathBuf,
}

/// Compiles the file and prints the package's path, with the warnings (reported coloured as `color`
/// says); exit 0 when the package was written, 1 when the program has errors (reported), 2 when a
/// file cannot be read or written.
pub fn run(args: &Args, color: ColorWhen) -> ExitCode {
    let path = &args.file;
    let Some((config, text, model_dir)) = read_file_for("compile", path, &args.settings) else {
        return ExitCode::Usage;
    };
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| path.with_extension("mlpackage"));
    let name = path.display().to_string();
    let mut err = StandardStream::stderr(color.choice(Stream::Stderr));
    let found = match analysis::compile(&text, &model_dir, &target, &config) {
        Ok(warnings) => {
            let shown = analysis::shown(&warnings, analysis::SHOWN_PER_CODE);
            let _ = report::human(&mut err, &name, &text, &shown);
            println!("wrote {}", target.display());
            return ExitCode::Clean;
        }
        Err(CompileError::Program(found)) => found,
        Err(CompileError::Package(e)) => {
            eprintln!("mil: cannot write {}: {e}", target.display());
            return ExitCode::Usage;
        }
    };
    refuse("compiling", &name, &text, &found, color)
}
