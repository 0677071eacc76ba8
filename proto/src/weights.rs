//! The weight files a program's BLOBFILE references name, found inside the model folder and opened
//! once each; with the weights a rewrite made in memory, the store every analysis, compile and
//! decompile reads weights through ([`mil_ir::weights::Weights`]).

use crate::blob::{BlobError, BlobReader, BlobRecord, BlobWriter};
use mil_ir::weights::{BlobInfo, MEMORY_PATH, MemoryWeights, Weights};
use mil_ir::{BlobRef, ConstData, Operand, Program, TypedValue, codes};
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Component, Path, PathBuf};

/// The prefix Core ML replaces by the model's folder.
pub const MODEL_PATH_PREFIX: &str = "@model_path/";

/// Why a BLOBFILE path names no usable weight file: the diagnostic code and message to report.
pub type WeightFileProblem = mil_ir::weights::WeightProblem;

/// What a path turned out to name.
enum Resolved {
    /// An open weight file (index into `WeightFiles::files`).
    File(usize),
    /// Why there is none.
    Problem(WeightFileProblem),
}

/// The weight files under one model folder (`@model_path`), each resolved and opened on first use
/// and each record read once, and the weights made in memory.
#[derive(Default)]
pub struct WeightFiles {
    model_dir: PathBuf,
    canonical_dir: Option<PathBuf>,
    paths: HashMap<String, Resolved>,
    files: Vec<BlobReader<File>>,
    /// (path, offset) → the record there, or why there is none.
    records: HashMap<(String, u64), Result<BlobRecord, WeightFileProblem>>,
    memory: MemoryWeights,
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

    /// The weights made in memory, which BLOBFILE references to [`MEMORY_PATH`] name.
    pub fn memory(&mut self) -> &mut MemoryWeights {
        &mut self.memory
    }

    /// The record `blob` names in a weight file, read on the first call only.
    fn file_record(&mut self, blob: &BlobRef) -> Result<BlobRecord, WeightFileProblem> {
        let key = (blob.path.clone(), blob.offset);
        if let Some(known) = self.records.get(&key) {
            return known.clone();
        }
        let offset = blob.offset;
        let record = self.open(&blob.path)?.record(offset).map_err(|e| match e {
            BlobError::UnknownDType { code, .. } => (
                codes::BLOB_DTYPE,
                format!("the blob at offset {offset} has unknown dtype code {code}"),
            ),
            e => (codes::BLOB_BAD_RECORD, format!("BLOBFILE offset {offset}: {e}")),
        });
        self.records.insert(key, record.clone());
        record
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

impl Weights for WeightFiles {
    fn store(&mut self, path: &str) -> Result<(), WeightFileProblem> {
        match path {
            MEMORY_PATH => Ok(()),
            _ => self.open(path).map(|_| ()),
        }
    }

    fn record(&mut self, blob: &BlobRef) -> Result<BlobInfo, WeightFileProblem> {
        if blob.path == MEMORY_PATH {
            return self.memory.record(blob);
        }
        self.file_record(blob).map(|r| BlobInfo {
            dtype: r.dtype,
            size: r.size,
            padding_bits: r.padding_bits,
        })
    }

    fn payload(&mut self, blob: &BlobRef) -> Result<Box<dyn Read + '_>, WeightFileProblem> {
        if blob.path == MEMORY_PATH {
            return self.memory.payload(blob);
        }
        let record = self.file_record(blob)?;
        let offset = blob.offset;
        let file = self.open(&blob.path)?;
        match file.payload(&record) {
            Ok(reader) => Ok(Box::new(reader)),
            Err(e) => Err((codes::BLOB_BAD_RECORD, format!("BLOBFILE offset {offset}: {e}"))),
        }
    }
}

fn not_a_weight_file(path: &str, why: String) -> Resolved {
    Resolved::Problem((
        codes::BLOB_BAD_RECORD,
        format!("`{path}` is not a weight file: {why}"),
    ))
}

/// Writes out the weights held in `memory` that `program` references: a weight of at most
/// `inline_up_to` bytes becomes an inline tensor literal, the others are appended to `out`, the
/// weight file BLOBFILE references will name by `path` (`@model_path/weights/weight.bin`), and
/// their references now name it. A weight referenced twice is written once. Afterwards no
/// reference of `program` names [`MEMORY_PATH`], so the printed text stands on its own.
pub fn write_memory_weights<W: Write + Seek>(
    program: &mut Program,
    memory: &MemoryWeights,
    inline_up_to: u64,
    path: &str,
    out: &mut BlobWriter<W>,
) -> Result<(), WeightFileProblem> {
    let mut written: HashMap<u64, u64> = HashMap::new();
    let mut result = Ok(());
    each_value_mut(program, |value| {
        let ConstData::Blob(blob) = &value.data else {
            return;
        };
        let Some((info, bytes)) = memory.get(blob) else {
            return;
        };
        let elements = info.elements();
        if info.size <= inline_up_to {
            match crate::raw::decode(bytes, info.dtype, elements) {
                Some(e) => value.data = ConstData::Tensor(e),
                None => {
                    result = Err(not_storable(format!(
                        "weight {} cannot be read as {}",
                        blob.offset, value.ty
                    )))
                }
            }
            return;
        }
        let offset = match written.get(&blob.offset) {
            Some(&offset) => offset,
            None => match out.append_bytes(info.dtype, elements, bytes) {
                Ok(offset) => *written.entry(blob.offset).or_insert(offset),
                Err(e) => {
                    result = Err(not_storable(format!("writing the weight file: {e}")));
                    return;
                }
            },
        };
        value.data = ConstData::Blob(BlobRef {
            path: path.into(),
            offset,
            rank0_spelling: blob.rank0_spelling,
        });
    });
    result
}

fn not_storable(message: String) -> WeightFileProblem {
    (crate::codes::NOT_STORABLE, message)
}

/// Reads every weight that `program` references in a weight file into `memory` and points the
/// reference at it there, so that [`write_memory_weights`] then writes a program that stands on its
/// own wherever it is saved. A weight referenced twice is read once.
pub fn hold_in_memory(
    program: &mut Program,
    weights: &mut dyn Weights,
    memory: &mut MemoryWeights,
) -> Result<(), WeightFileProblem> {
    let mut held: HashMap<(String, u64), BlobRef> = HashMap::new();
    let mut result = Ok(());
    each_value_mut(program, |value| {
        let ConstData::Blob(blob) = &value.data else {
            return;
        };
        if blob.path == MEMORY_PATH || result.is_err() {
            return;
        }
        let key = (blob.path.clone(), blob.offset);
        if let Some(found) = held.get(&key) {
            value.data = ConstData::Blob(found.clone());
            return;
        }
        let read = weights.record(blob).and_then(|info| {
            let mut bytes = Vec::with_capacity(info.size as usize);
            weights
                .payload(blob)?
                .read_to_end(&mut bytes)
                .map_err(|e| not_storable(format!("reading weight {}: {e}", blob.offset)))?;
            memory
                .add(info.dtype, info.elements(), bytes)
                .ok_or_else(|| not_storable(format!("weight {} has a bad size", blob.offset)))
        });
        match read {
            Ok(mut held_ref) => {
                held_ref.rank0_spelling = blob.rank0_spelling;
                held.insert(key, held_ref.clone());
                value.data = ConstData::Blob(held_ref);
            }
            Err(problem) => result = Err(problem),
        }
    });
    result
}

/// Calls `f` with every typed value of `program`: program, function and op attributes, and
/// constant arguments and tuple items (of live ops: an erased op's values are never printed).
fn each_value_mut(program: &mut Program, mut f: impl FnMut(&mut TypedValue)) {
    program.attributes.iter_mut().for_each(|a| f(&mut a.value));
    for function in &mut program.functions {
        function.attributes.iter_mut().for_each(|a| f(&mut a.value));
        for op in function.ops.iter_mut().filter(|op| !op.is_erased()) {
            op.attributes.iter_mut().for_each(|a| f(&mut a.value));
            for arg in &mut op.args {
                match &mut arg.value {
                    Operand::Const(v) => f(v),
                    Operand::Tuple(items) => items.iter_mut().for_each(|item| {
                        if let Operand::Const(v) = item {
                            f(v)
                        }
                    }),
                    Operand::Value(_) => {}
                }
            }
        }
    }
}
