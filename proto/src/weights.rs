//! The weight files a program's BLOBFILE references name, found inside the model folder and opened
//! once each.

use crate::blob::BlobReader;
use mil_ir::{Code, codes};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Component, Path, PathBuf};

/// The prefix Core ML replaces by the model's folder.
pub const MODEL_PATH_PREFIX: &str = "@model_path/";

/// Why a BLOBFILE path names no usable weight file: the diagnostic code and message to report.
pub type WeightFileProblem = (Code, String);

/// What a path turned out to name.
enum Resolved {
    /// An open weight file (index into `WeightFiles::files`).
    File(usize),
    /// Why there is none.
    Problem(WeightFileProblem),
}

/// The weight files under one model folder (`@model_path`), each resolved and opened on first use.
#[derive(Default)]
pub struct WeightFiles {
    model_dir: PathBuf,
    canonical_dir: Option<PathBuf>,
    paths: HashMap<String, Resolved>,
    files: Vec<BlobReader<File>>,
}

impl WeightFiles {
    /// The weight files under `model_dir`, the folder `@model_path` stands for (for a `.mil` file,
    /// its folder).
    pub fn new(model_dir: &Path) -> WeightFiles {
        WeightFiles {
            model_dir: model_dir.to_path_buf(),
            canonical_dir: model_dir.canonicalize().ok(),
            ..WeightFiles::default()
        }
    }

    /// The weight file a BLOBFILE `path` names (`@model_path/weights/weight.bin`, or a path
    /// relative to the model folder), with its header validated. Paths that leave the model folder
    /// ([`codes::BLOB_PATH_ESCAPES`]), missing files ([`codes::BLOB_FILE_MISSING`]) and files that
    /// are not weight files ([`codes::BLOB_BAD_RECORD`]) are problems.
    pub fn open(&mut self, path: &str) -> Result<&mut BlobReader<File>, WeightFileProblem> {
        if !self.paths.contains_key(path) {
            let resolved = self.resolve(path);
            self.paths.insert(path.to_string(), resolved);
        }
        match &self.paths[path] {
            Resolved::Problem(problem) => Err(problem.clone()),
            &Resolved::File(index) => Ok(&mut self.files[index]),
        }
    }

    fn resolve(&mut self, path: &str) -> Resolved {
        let relative = Path::new(path.strip_prefix(MODEL_PATH_PREFIX).unwrap_or(path));
        let escapes = |why: String| Resolved::Problem((codes::BLOB_PATH_ESCAPES, why));
        if let Some(c) = relative
            .components()
            .find(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            let why = match c {
                Component::ParentDir => "goes up with `..`",
                _ => "is absolute",
            };
            return escapes(format!(
                "weight path `{path}` {why}; it must stay inside the model folder"
            ));
        }
        let full = self.model_dir.join(relative);
        let inside = match (full.canonicalize(), &self.canonical_dir) {
            (Ok(real), Some(dir)) => {
                if !real.starts_with(dir) {
                    return escapes(format!(
                        "weight path `{path}` resolves to {}, outside the model folder {}",
                        real.display(),
                        dir.display()
                    ));
                }
                real
            }
            _ => {
                return Resolved::Problem((
                    codes::BLOB_FILE_MISSING,
                    format!("weight file `{path}` not found: no {}", full.display()),
                ));
            }
        };
        if !inside.is_file() {
            return not_a_weight_file(path, "it is not a file".into());
        }
        match BlobReader::open(&inside) {
            Ok(reader) => {
                self.files.push(reader);
                Resolved::File(self.files.len() - 1)
            }
            Err(e) => not_a_weight_file(path, e.to_string()),
        }
    }
}

fn not_a_weight_file(path: &str, why: String) -> Resolved {
    Resolved::Problem((
        codes::BLOB_BAD_RECORD,
        format!("`{path}` is not a weight file: {why}"),
    ))
}
