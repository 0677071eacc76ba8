//! The command-line interface: one module per subcommand.

pub mod check;
pub mod compile;
pub mod decompile;
pub mod fmt;
pub mod placement;
pub mod run;

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

/// Reads a MIL file (`-` is standard input), reporting failures on stderr.
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

/// The folder holding `path`, which `@model_path` stands for.
fn model_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Replaces the file at `path` with `bytes` so that it is never seen half-written: the bytes go to
/// a temporary file beside it, which is synced and then renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
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
