//! `mil fmt [--check] FILE...` and `mil fmt -`: rewrite MIL files in the canonical layout of
//! Apple's compiler, normalising the lenient forms of hand-written files.

use crate::analysis::{SHOWN_PER_CODE, shown};
use crate::cli::{ExitCode, read_source, write_atomically};
use crate::report::{self, ColorWhen, Stream};
use codespan_reporting::term::termcolor::StandardStream;
use mil_ide::formatting::format_text;
use std::path::{Path, PathBuf};

/// Formats `files` in place, or only reports those that would change (`check`); `-` formats
/// standard input to standard output; syntax errors are reported coloured as `color` says.
pub fn run(files: &[PathBuf], check: bool, color: ColorWhen) -> ExitCode {
    let mut worst = ExitCode::Clean;
    for path in files {
        let code = format_file(path, check, color);
        if code as i32 > worst as i32 {
            worst = code;
        }
    }
    worst
}

fn format_file(path: &Path, check: bool, color: ColorWhen) -> ExitCode {
    let Some(source) = read_source(path) else {
        return ExitCode::Usage;
    };
    let name = path.display().to_string();
    let formatted = match format_text(&source.text) {
        Ok(t) => t,
        Err(diagnostics) => {
            eprintln!("mil: not formatting {name}: it has syntax errors");
            let mut err = StandardStream::stderr(color.choice(Stream::Stderr));
            let shown = shown(&diagnostics, SHOWN_PER_CODE);
            let _ = report::human(&mut err, &name, &source.text, &shown);
            return ExitCode::Errors;
        }
    };
    if path == Path::new("-") {
        print!("{formatted}");
        return ExitCode::Clean;
    }
    if formatted == source.text {
        return ExitCode::Clean;
    }
    if check {
        eprintln!("{name} is not formatted");
        return ExitCode::Errors;
    }
    match write_atomically(path, formatted.as_bytes()) {
        Ok(()) => ExitCode::Clean,
        Err(e) => {
            eprintln!("mil: cannot write {name}: {e}");
            ExitCode::Usage
        }
    }
}
