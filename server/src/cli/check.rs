//! `mil check [--format human|json] [--chip ..] [--compute-units ..] [--config FILE] FILE...`: report
//! the diagnostics of each file as its settings show them (at most [`mil_ide::analysis::SHOWN_PER_CODE`] of
//! one code per file, then how many more there are), the same the language server publishes.

use crate::analysis::{diagnostics, reported};
use crate::cli::settings::SettingsArgs;
use crate::cli::{ExitCode, read_source};
use crate::report::{self, ColorWhen, Stream};
use codespan_reporting::term::termcolor::BufferedStandardStream;
use mil_ir::diagnostic::has_errors;
use std::io::Write;
use std::path::PathBuf;

/// Output formats of `mil check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Annotated source snippets.
    Human,
    /// One JSON array of diagnostics.
    Json,
}

/// Checks `files`, colouring the report as `color` says; exit 0 when clean, 1 when any file has
/// errors, 2 when one cannot be read.
pub fn run(files: &[PathBuf], format: Format, settings: &SettingsArgs, color: ColorWhen) -> ExitCode {
    let mut all_json = Vec::new();
    let mut errors = false;
    let mut unreadable = false;
    let mut stdout = BufferedStandardStream::stdout(color.choice(Stream::Stdout));
    for path in files {
        let config = match settings.config_for(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mil: {e}");
                unreadable = true;
                continue;
            }
        };
        let Some(source) = read_source(path) else {
            unreadable = true;
            continue;
        };
        let diagnostics = diagnostics(&source.text, source.model_dir.as_deref(), &config);
        let diagnostics = reported(&diagnostics, &config);
        errors |= has_errors(&diagnostics);
        let name = path.display().to_string();
        match format {
            Format::Human => {
                if let Err(e) = report::human(&mut stdout, &name, &source.text, &diagnostics) {
                    eprintln!("mil: cannot write the report: {e}");
                    return ExitCode::Usage;
                }
            }
            Format::Json => all_json.extend(report::json(&name, &source.text, &diagnostics)),
        }
    }
    if let Err(e) = stdout.flush() {
        eprintln!("mil: cannot write the report: {e}");
        return ExitCode::Usage;
    }
    if format == Format::Json {
        println!("{}", serde_json::Value::Array(all_json));
    }
    if unreadable {
        ExitCode::Usage
    } else if errors {
        ExitCode::Errors
    } else {
        ExitCode::Clean
    }
}
