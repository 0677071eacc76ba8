//! `.mlpackage` folders: writing one atomically, and reading one back.
//!
//! ```text
//! X.mlpackage/
//!   Manifest.json
//!   Data/com.apple.CoreML/model.mlmodel        the Model proto
//!   Data/com.apple.CoreML/weights/weight.bin   only when some constant lives in the weight file
//! ```
//!
//! A package is built in a temporary folder beside its target, synced to disk, and only then renamed
//! into place, so a failure never leaves a partial package and an existing package is replaced only
//! by a complete one.

use crate::blob::{BlobError, BlobWriter};
use crate::manifest::{DATA_DIR, MANIFEST_FILE, MODEL_PATH, Manifest, ManifestError, WEIGHTS_PATH};
use crate::spec::Model;
use prost::Message;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Component, Path, PathBuf};

/// The weight file's name inside the weights folder.
pub const WEIGHT_FILE: &str = "weight.bin";

/// What can go wrong reading or writing a package.
#[derive(Debug)]
pub enum PackageError {
    /// A file system operation failed.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What failed.
        error: io::Error,
    },
    /// The manifest is malformed or lists a missing item.
    Manifest(ManifestError),
    /// The model file is not a Model proto.
    Decode {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        error: prost::DecodeError,
    },
    /// Writing the weight file failed.
    Blob(BlobError),
    /// The target exists and is not a package, so it is not replaced.
    NotAPackage(PathBuf),
    /// A file the package must have is missing, lies outside the package (through `..`, an
    /// absolute path or a symbolic link), or cannot be what it should be.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            PackageError::Manifest(e) => write!(f, "{e}"),
            PackageError::Decode { path, error } => {
                write!(f, "{} is not a Core ML model: {error}", path.display())
            }
            PackageError::Blob(e) => write!(f, "writing the weight file: {e}"),
            PackageError::NotAPackage(path) => write!(
                f,
                "{} exists and is not an .mlpackage (it has no {MANIFEST_FILE}); not replacing it",
                path.display()
            ),
            PackageError::Malformed { path, why } => write!(f, "{} {why}", path.display()),
        }
    }
}

impl std::error::Error for PackageError {}

impl From<ManifestError> for PackageError {
    fn from(e: ManifestError) -> PackageError {
        PackageError::Manifest(e)
    }
}

impl From<BlobError> for PackageError {
    fn from(e: BlobError) -> PackageError {
        PackageError::Blob(e)
    }
}

/// Attaches the path to an I/O error.
trait AtPath<T> {
    fn at(self, path: &Path) -> Result<T, PackageError>;
}

impl<T> AtPath<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T, PackageError> {
        self.map_err(|error| PackageError::Io {
            path: path.to_path_buf(),
            error,
        })
    }
}

/// A package being written into a temporary folder beside its target. Dropping it without
/// [`PackageWriter::commit`] removes the folder and leaves the target untouched.
#[derive(Debug)]
pub struct PackageWriter {
    target: PathBuf,
    dir: tempfile::TempDir,
    blobs: Option<BlobWriter<BufWriter<File>>>,
}

impl PackageWriter {
    /// Starts a package that [`PackageWriter::commit`] will move to `target`. Fails at once when
    /// `target` exists and is not a package.
    pub fn create(target: &Path) -> Result<PackageWriter, PackageError> {
        check_replaceable(target)?;
        let dir = staging_dir(target)?;
        let weights = dir.path().join(DATA_DIR).join(WEIGHTS_PATH);
        fs::create_dir_all(&weights).at(&weights)?;
        Ok(PackageWriter {
            target: target.to_path_buf(),
            dir,
            blobs: None,
        })
    }

    /// The writer of the package's weight file, created on first use. A weight file that gets no
    /// blob is not kept.
    pub fn blobs(&mut self) -> Result<&mut BlobWriter<BufWriter<File>>, PackageError> {
        if self.blobs.is_none() {
            let path = self
                .dir
                .path()
                .join(DATA_DIR)
                .join(WEIGHTS_PATH)
                .join(WEIGHT_FILE);
            let file = File::create(&path).at(&path)?;
            self.blobs = Some(BlobWriter::new(BufWriter::with_capacity(1 << 20, file)).at(&path)?);
        }
        Ok(self.blobs.as_mut().expect("just created"))
    }

    /// Writes `model` and the manifest, syncs everything to disk, and moves the package to its
    /// target, replacing an existing package there.
    pub fn commit(self, model: &Model) -> Result<(), PackageError> {
        self.commit_encoded(&model.encode_to_vec())
    }

    /// [`PackageWriter::commit`] with the model already encoded (`model.mlmodel`'s bytes).
    pub fn commit_encoded(mut self, model: &[u8]) -> Result<(), PackageError> {
        let data = self.dir.path().join(DATA_DIR);
        if let Some(blobs) = self.blobs.take() {
            let path = data.join(WEIGHTS_PATH).join(WEIGHT_FILE);
            let empty = blobs.count() == 0;
            blobs.finish().at(&path)?;
            if empty {
                fs::remove_file(&path).at(&path)?;
            }
        }
        let model_path = data.join(MODEL_PATH);
        fs::write(&model_path, model).at(&model_path)?;
        let manifest_path = self.dir.path().join(MANIFEST_FILE);
        fs::write(&manifest_path, Manifest::for_model().to_json()).at(&manifest_path)?;
        sync_tree(self.dir.path())?;
        check_replaceable(&self.target)?;
        let staged = self.dir.path().to_path_buf();
        if fs::symlink_metadata(&self.target).is_ok() {
            replace(&staged, &self.target)?;
        } else {
            fs::rename(&staged, &self.target).at(&self.target)?;
        }
        // The folder now lives at the target: keep the temporary folder from deleting it.
        let _ = self.dir.keep();
        let parent = staged.parent().unwrap_or(Path::new("."));
        sync_dir(parent)
    }
}

/// A new temporary folder `.NAME.XXXX.tmp` beside `target` (on the same file system, so that what
/// is built in it can be renamed to `target`). A missing folder to write into is reported by its
/// own name.
pub(crate) fn staging_dir(target: &Path) -> Result<tempfile::TempDir, PackageError> {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        let missing = io::Error::new(io::ErrorKind::NotFound, "no such folder to write into");
        return Err(missing).at(parent);
    }
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let created = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempdir_in(parent);
    created
        .map_err(|e| io::Error::new(e.kind(), "cannot create a temporary folder here"))
        .at(parent)
}

/// Writes `model` as a package at `target` with no weight file.
pub fn write_package(target: &Path, model: &Model) -> Result<(), PackageError> {
    PackageWriter::create(target)?.commit(model)
}

/// A package may only replace nothing or another package.
fn check_replaceable(target: &Path) -> Result<(), PackageError> {
    match fs::symlink_metadata(target) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() && target.join(MANIFEST_FILE).is_file() => Ok(()),
        Ok(_) => Err(PackageError::NotAPackage(target.to_path_buf())),
    }
}

/// Swaps the complete package at `staged` in for the one at `target`: the old one is moved aside,
/// the new one moved in (or the old one moved back if that fails), then the old one deleted.
fn replace(staged: &Path, target: &Path) -> Result<(), PackageError> {
    let parent = staged.parent().unwrap_or(Path::new("."));
    let aside = parent.join(format!(
        "{}.old-{}",
        staged.file_name().unwrap_or_default().to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    fs::rename(target, &aside).at(target)?;
    if let Err(error) = fs::rename(staged, target) {
        let _ = fs::rename(&aside, target);
        return Err(PackageError::Io {
            path: target.to_path_buf(),
            error,
        });
    }
    fs::remove_dir_all(&aside).at(&aside)
}

/// Syncs every file and folder under `dir` (and `dir` itself) to disk.
fn sync_tree(dir: &Path) -> Result<(), PackageError> {
    for entry in fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path).and_then(|f| f.sync_all()).at(&path)?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), PackageError> {
    File::open(dir).and_then(|f| f.sync_all()).at(dir)
}

/// A package read from disk.
#[derive(Clone, Debug, PartialEq)]
pub struct Package {
    /// Its manifest.
    pub manifest: Manifest,
    /// The root model.
    pub model: Model,
    /// The weights folder (`Data/com.apple.CoreML/weights`, where `@model_path/weights/...` points),
    /// when the manifest lists one that exists.
    pub weights_dir: Option<PathBuf>,
}

/// Reads the package at `path`: the manifest (validated, every item present), the root model, and
/// where its weights are.
pub fn read_package(path: &Path) -> Result<Package, PackageError> {
    let manifest_path = path.join(MANIFEST_FILE);
    let text = fs::read_to_string(&manifest_path).at(&manifest_path)?;
    let manifest = Manifest::parse(&text)?;
    manifest.check_items(path)?;
    let data = path.join(DATA_DIR);
    let root = manifest
        .root_model()
        .expect("parse checks the root model is an item");
    let model = read_model(&contained_file(path, &root.path)?)?;
    let weights_dir = manifest
        .item_named("weights")
        .map(|item| data.join(&item.path))
        .filter(|dir| dir.is_dir());
    Ok(Package {
        manifest,
        model,
        weights_dir,
    })
}

/// The largest Model proto: protobuf messages are limited to 2 GiB.
const MAX_MODEL_BYTES: u64 = 2 << 30;

/// The file `Data/<item>` of the package at `package`, once checked to stay inside the package: no
/// `..` or absolute path in `item`, and no symbolic link leading out.
fn contained_file(package: &Path, item: &str) -> Result<PathBuf, PackageError> {
    let path = package.join(DATA_DIR).join(item);
    let malformed = |why: String| PackageError::Malformed {
        path: path.clone(),
        why,
    };
    if Path::new(item)
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(malformed(format!(
            "is named `{item}` in {MANIFEST_FILE}, a path that may lead outside the package"
        )));
    }
    let root = package.canonicalize().at(package)?;
    let real = path.canonicalize().at(&path)?;
    if !real.starts_with(&root) {
        return Err(malformed(format!(
            "resolves to {}, outside the package",
            real.display()
        )));
    }
    Ok(real)
}

/// Reads a Model proto file (`model.mlmodel`): a regular file of at most 2 GiB.
pub fn read_model(path: &Path) -> Result<Model, PackageError> {
    let malformed = |why: &str| PackageError::Malformed {
        path: path.to_path_buf(),
        why: why.into(),
    };
    let metadata = fs::metadata(path).at(path)?;
    if !metadata.is_file() {
        return Err(malformed("is not a file, so it cannot be a Core ML model"));
    }
    if metadata.len() > MAX_MODEL_BYTES {
        return Err(malformed(
            "is larger than 2 GiB, more than a Core ML model (a protobuf message) can be",
        ));
    }
    let bytes = fs::read(path).at(path)?;
    Model::decode(bytes.as_slice()).map_err(|error| PackageError::Decode {
        path: path.to_path_buf(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::BlobReader;
    use crate::mil;
    use mil_ir::DType;

    fn model(version: i32) -> Model {
        Model {
            specification_version: version,
            r#type: Some(crate::spec::model::Type::MlProgram(mil::Program {
                version: 1,
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_written_package_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("m.mlpackage");
        let mut writer = PackageWriter::create(&target).unwrap();
        let offset = writer
            .blobs()
            .unwrap()
            .append_bytes(DType::Fp16, 2, &[1, 2, 3, 4])
            .unwrap();
        writer.commit(&model(8)).unwrap();

        let package = read_package(&target).unwrap();
        assert_eq!(package.model, model(8));
        let text = fs::read_to_string(target.join(MANIFEST_FILE)).unwrap();
        assert_eq!(package.manifest.to_json(), text);
        let weights = package.weights_dir.unwrap();
        assert_eq!(weights, target.join("Data/com.apple.CoreML/weights"));
        let mut blobs = BlobReader::open(&weights.join(WEIGHT_FILE)).unwrap();
        assert_eq!(blobs.count(), 1);
        let record = blobs.record(offset).unwrap();
        assert_eq!(blobs.read_payload(&record).unwrap(), [1, 2, 3, 4]);
        assert_eq!(names(tmp.path()), ["m.mlpackage"]);
    }

    #[test]
    fn without_blobs_the_weights_folder_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("m.mlpackage");
        write_package(&target, &model(6)).unwrap();
        let package = read_package(&target).unwrap();
        assert_eq!(names(&package.weights_dir.unwrap()), Vec::<String>::new());
        assert_eq!(names(&target), ["Data", "Manifest.json"]);
    }

    #[test]
    fn a_weight_file_without_blobs_is_not_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("m.mlpackage");
        let mut writer = PackageWriter::create(&target).unwrap();
        writer.blobs().unwrap();
        writer.commit(&model(8)).unwrap();
        assert_eq!(
            names(&read_package(&target).unwrap().weights_dir.unwrap()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_package_replaces_an_older_one_completely() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("m.mlpackage");
        let mut first = PackageWriter::create(&target).unwrap();
        first
            .blobs()
            .unwrap()
            .append_bytes(DType::UInt8, 1, &[9])
            .unwrap();
        first.commit(&model(7)).unwrap();
        write_package(&target, &model(9)).unwrap();
        let package = read_package(&target).unwrap();
        assert_eq!(package.model, model(9));
        assert!(
            !package.weights_dir.unwrap().join(WEIGHT_FILE).exists(),
            "nothing of the old package is left"
        );
        assert_eq!(names(tmp.path()), ["m.mlpackage"]);
    }

    #[test]
    fn an_abandoned_package_leaves_no_trace() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("m.mlpackage");
        let mut writer = PackageWriter::create(&target).unwrap();
        writer
            .blobs()
            .unwrap()
            .append_bytes(DType::UInt8, 1, &[9])
            .unwrap();
        drop(writer);
        assert_eq!(names(tmp.path()), Vec::<String>::new());

        write_package(&target, &model(7)).unwrap();
        let before = fs::read(target.join("Data").join(MODEL_PATH)).unwrap();
        drop(PackageWriter::create(&target).unwrap());
        assert_eq!(fs::read(target.join("Data").join(MODEL_PATH)).unwrap(), before);
        assert_eq!(names(tmp.path()), ["m.mlpackage"]);
    }

    #[test]
    fn only_a_package_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("folder");
        fs::create_dir(&folder).unwrap();
        fs::write(folder.join("keep.txt"), "x").unwrap();
        let file = tmp.path().join("model.mil");
        fs::write(&file, "program").unwrap();
        for target in [&folder, &file] {
            let err = write_package(target, &model(8)).unwrap_err();
            assert!(
                matches!(&err, PackageError::NotAPackage(p) if p == target),
                "{err}"
            );
        }
        assert_eq!(fs::read_to_string(folder.join("keep.txt")).unwrap(), "x");
        assert_eq!(fs::read_to_string(&file).unwrap(), "program");
        assert_eq!(names(tmp.path()), ["folder", "model.mil"]);
    }

    #[test]
    fn broken_packages_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("m.mlpackage");
        assert!(
            matches!(read_package(&target), Err(PackageError::Io { path, .. }) if path == target.join(MANIFEST_FILE))
        );

        write_package(&target, &model(8)).unwrap();
        let model_path = target.join(DATA_DIR).join(MODEL_PATH);
        fs::write(&model_path, [0xff, 0xff, 0xff]).unwrap();
        assert!(
            matches!(read_package(&target), Err(PackageError::Decode { path, .. }) if path == model_path)
        );

        fs::remove_file(&model_path).unwrap();
        assert!(matches!(
            read_package(&target),
            Err(PackageError::Manifest(ManifestError::MissingItem(path))) if path == model_path
        ));
    }
}
