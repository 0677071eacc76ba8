//! `mil fmt [--check] FILE...` and `mil fmt -`: rewrite MIL files in the canonical layout of
//! Apple's compiler, normalising the lenient forms of hand-written files.

use crate::analysis::{SHOWN_PER_CODE, shown};
use crate::cli::{ExitCode, read_source, write_atomically};
use crate::report::{self, ColorWhen, Stream};
use codespan_reporting::term::termcolor::StandardStream;
use mil_ir::diagnostic::has_errors;
use mil_ir::{Diagnostic, Program};
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

/// The canonical text of `text`, or the errors that make formatting unsafe (the parse would lose
/// what could not be read). A final newline is kept when the input had one.
pub fn format_text(text: &str) -> Result<String, Vec<Diagnostic>> {
    let mut parse = mil_grammar::parse(text);
    if has_errors(&parse.diagnostics) {
        parse
            .diagnostics
            .retain(|d| d.severity == mil_ir::Severity::Error);
        return Err(parse.diagnostics);
    }
    Ok(canonical_text(parse.program, text.ends_with('\n')))
}

/// The canonical text of a program read without errors, with a final newline when the text it was
/// read from ended with one (`final_newline`).
pub fn canonical_text(mut program: Program, final_newline: bool) -> String {
    mil_ir::canonical::canonicalize(&mut program);
    let mut out = mil_ir::printer::print_program(&program);
    if final_newline {
        out.push('\n');
    }
    out
}
