//! The command-line interface: one module per subcommand.

pub mod check;
pub mod compile;
pub mod decompile;
pub mod fix;
pub mod fmt;
pub mod placement;
pub mod quantize;
pub mod run;
pub mod settings;

use std::path::{Path, PathBuf};

/// The process exit codes shared by every subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Nothing wrong.
    Clean = 0,
    /// The input has errors (or, for `fmt --check`, is not formatted).
    Errors = 1,
    /// Bad usage or an input/output failure.
    Usage = 2,
}

/// A source file with the folder its weight references resolve against.
pub struct Source {
    /// The text.
    pub text: String,
    /// The folder holding the file (`@model_path`).
    pub model_dir: Option<PathBuf>,
}

/// Reads a MIL file (`-` is standard input), reporting failures on stderr (a Core ML model given
/// instead gets the hint to decompile it).
pub fn read_source(path: &Path) -> Option<Source> {
    if path == Path::new("-") {
        let mut text = String::new();
        return match std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
            Ok(_) => Some(Source {
                text,
                model_dir: None,
            }),
            Err(e) => {
                eprintln!("mil: cannot read standard input: {e}");
                None
            }
        };
    }
    if is_model(path) {
        let name = path.display();
        eprintln!("mil: {name} is a Core ML model, not MIL text; use `mil decompile {name}` to get its text");
        return None;
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Some(Source {
                text,
                model_dir: Some(model_dir(path)),
            }),
            Err(e) => {
                eprintln!(
                    "mil: {} is not UTF-8 text (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                );
                None
            }
        },
        Err(e) => {
            eprintln!("mil: cannot read {}: {e}", path.display());
            None
        }
    }
}

/// A MIL file that a command makes something from (`compile`, `quantize`): its settings, its text
/// and its folder (where BLOBFILE paths resolve). `None`, reported on stderr, for standard input,
/// settings that cannot be read, or a file that cannot.
pub fn read_file_for(
    command: &str,
    path: &Path,
    settings: &settings::SettingsArgs,
) -> Option<(mil_ide::config::Config, String, PathBuf)> {
    if path == Path::new("-") {
        eprintln!("mil: {command} needs a file: its folder is where BLOBFILE paths resolve");
        return None;
    }
    let config = match settings.config_for(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mil: {e}");
            return None;
        }
    };
    let source = read_source(path)?;
    let model_dir = source.model_dir.expect("a file has a folder");
    Some((config, source.text, model_dir))
}

/// Whether `path` names MIL text by its extension (`.mil`), which `mil decompile` does not read.
pub fn is_mil_text(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("mil"))
}

/// Whether `path` names a Core ML model rather than MIL text: a name ending `.mlpackage`, `.mlmodel`
/// or `.mlmodelc`, or a folder with a package manifest.
fn is_model(path: &Path) -> bool {
    let model_extension = path.extension().is_some_and(|e| {
        ["mlpackage", "mlmodel", "mlmodelc"]
            .iter()
            .any(|m| e.eq_ignore_ascii_case(m))
    });
    model_extension || path.join(mil_proto::manifest::MANIFEST_FILE).is_file()
}

/// The folder holding `path`, which `@model_path` stands for.
fn model_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Replaces the file at `path` with `bytes` so that it is never seen half-written: the bytes go to
/// a temporary file beside it, which is synced and then renamed over it. A symbolic link is written
/// through: the file it points to is replaced (keeping its permissions) and the link stays.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let resolved = std::fs::canonicalize(path);
    let path = resolved.as_deref().unwrap_or(path);
    let dir = model_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.mil-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Reports that `doing` (`compiling`, `running`, …) the file `name` stops at the errors among
/// `diagnostics` (the first of each code, [`crate::analysis::shown`]), coloured as `color` says;
/// gives exit 1.
pub fn refuse(
    doing: &str,
    name: &str,
    text: &str,
    diagnostics: &[mil_ir::Diagnostic],
    color: crate::report::ColorWhen,
) -> ExitCode {
    use crate::analysis;
    let errors: Vec<&mil_ir::Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.severity == mil_ir::Severity::Error)
        .collect();
    let count = mil_ir::diagnostic::count(errors.len(), "error");
    eprintln!("mil: not {doing} {name}: it has {count}");
    let mut err = codespan_reporting::term::termcolor::StandardStream::stderr(
        color.choice(crate::report::Stream::Stderr),
    );
    let shown = analysis::shown(&errors, analysis::SHOWN_PER_CODE);
    let _ = crate::report::human(&mut err, name, text, &shown);
    ExitCode::Errors
}

/// Prints a model's problems (what keeps it from being read or decompiled), one a line:
/// `error[CODE]: message`.
pub fn print_model_problems(diagnostics: &[mil_ir::Diagnostic]) {
    for d in diagnostics {
        eprintln!("{}[{}]: {}", d.severity.name(), d.code.id, d.message);
    }
}
