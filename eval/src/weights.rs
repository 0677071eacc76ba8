//! Constants as tensors: inline literals and BLOBFILE references read from the weight files beside
//! the program. Each file is validated once (`mil-proto`'s `WeightFiles`) and memory-mapped; an
//! `fp32` blob is read in place from the mapping (no copy: the page cache holds the weights once,
//! for every run), any other is decoded from it when the op that names it runs.

use crate::bail;
use crate::error::{EvalError, Result};
use crate::floats::Floats;
use crate::tensor::{Data, Tensor, numel};
use memmap2::Mmap;
use mil_ir::weights::{MEMORY_PATH, MemoryWeights};
use mil_ir::{ConstData, DType, Literal, TypedValue};
use mil_proto::weights::WeightFiles;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Transposed weight matrices by where they lie in the mappings (`Floats::mapped_at`) and their
/// number of rows.
type TransposedCache = HashMap<(usize, usize, usize), Arc<Vec<f32>>>;

/// The weight files of one model folder (`@model_path`), and the weights a rewrite made in memory.
pub struct Weights {
    files: Option<RefCell<WeightFiles>>,
    memory: MemoryWeights,
    model_dir: PathBuf,
    maps: RefCell<HashMap<String, Arc<Mmap>>>,
    /// Matrices read in place from the mappings, transposed once for GEMM, by where they lie.
    transposed: RefCell<TransposedCache>,
}

impl Weights {
    /// The weight files under `model_dir`; `None` when the program has no folder (standard input),
    /// so that a BLOBFILE reference is an error.
    pub fn new(model_dir: Option<&Path>) -> Weights {
        Weights {
            files: model_dir.map(|d| RefCell::new(WeightFiles::new(d))),
            memory: MemoryWeights::default(),
            model_dir: model_dir.map(Path::to_path_buf).unwrap_or_default(),
            maps: RefCell::new(HashMap::new()),
            transposed: RefCell::new(HashMap::new()),
        }
    }

    /// These weights, and `memory` for the references to [`MEMORY_PATH`] (a program a rewrite made
    /// and did not write out yet).
    pub fn with_memory(self, memory: MemoryWeights) -> Weights {
        Weights { memory, ..self }
    }

    /// The `[cols, rows]` row-major transpose of the `[rows, cols]` fp32 matrix `t`, when `t` is
    /// read in place from a weight file; `None` for any other tensor. It is made on first use and
    /// kept as long as the interpreter (a GEMM whose weight operand is laid out this way copies
    /// it into its panels without gathering); the mapped pages it came from are then released,
    /// so that the weights stay in memory once.
    pub fn transposed(&self, t: &Tensor, rows: usize, cols: usize) -> Option<Arc<Vec<f32>>> {
        let Data::F32(floats) = &t.data else { return None };
        let (map, start) = floats.mapped_at()?;
        let key = (map, start, rows);
        if floats.len() != rows * cols {
            return None;
        }
        let mut cache = self.transposed.borrow_mut();
        if let Some(done) = cache.get(&key) {
            return Some(done.clone());
        }
        let done = Arc::new(transpose(floats, rows, cols));
        floats.release();
        cache.insert(key, done.clone());
        Some(done)
    }

    /// The tensor a typed constant holds.
    pub fn tensor(&self, value: &TypedValue) -> Result<Tensor> {
        let dtype = value.ty.dtype().unwrap_or(DType::Fp32);
        let shape: Vec<usize> = match value.known_shape() {
            Some(s) => s.iter().map(|&d| d as usize).collect(),
            None => match &value.data {
                ConstData::Literal(l) => return literal(l, dtype),
                _ => bail!("a constant of type {} has no known shape", value.ty),
            },
        };
        match &value.data {
            ConstData::Tensor(elements) => Tensor::from_elements(dtype, shape, elements),
            ConstData::Blob(blob) if blob.path == MEMORY_PATH => {
                let Some((info, bytes)) = self.memory.get(blob) else {
                    bail!("no weight {} is held in memory", blob.offset);
                };
                let count = numel(&shape) as u64;
                let Some(elements) = mil_proto::raw::decode(bytes, info.dtype, count) else {
                    bail!(
                        "weight {} in memory does not hold {count} {} values",
                        blob.offset,
                        info.dtype
                    );
                };
                Tensor::from_elements(dtype, shape, &elements)
            }
            ConstData::Blob(blob) => {
                let Some(files) = &self.files else {
                    bail!(
                        "`{}` names a weight file, but the program has no folder to find it in",
                        blob.path
                    );
                };
                let mut files = files.borrow_mut();
                let reader = files.open(&blob.path).map_err(|(_, why)| EvalError::msg(why))?;
                let record = reader
                    .record(blob.offset)
                    .map_err(|e| EvalError::msg(format!("{}: {e}", blob.path)))?;
                let mut maps = self.maps.borrow_mut();
                if !maps.contains_key(&blob.path) {
                    maps.insert(blob.path.clone(), Arc::new(self.map(&blob.path)?));
                }
                let map = &maps[&blob.path];
                let range = record.data_offset as usize..(record.data_offset + record.size) as usize;
                let Some(bytes) = map.get(range) else {
                    bail!(
                        "{} is shorter than its blob at offset {} says",
                        blob.path,
                        blob.offset
                    );
                };
                let count = numel(&shape);
                if record.dtype == DType::Fp32
                    && dtype == DType::Fp32
                    && record.size == 4 * count as u64
                    && let Some(floats) = Floats::mapped(map, record.data_offset as usize, count)
                {
                    return Ok(Tensor {
                        dtype,
                        shape,
                        data: Data::F32(floats),
                    });
                }
                let count = count as u64;
                let Some(elements) = mil_proto::raw::decode(bytes, record.dtype, count) else {
                    bail!(
                        "blob at offset {} of {} does not hold {count} {} values",
                        blob.offset,
                        blob.path,
                        record.dtype
                    );
                };
                Tensor::from_elements(dtype, shape, &elements)
            }
            ConstData::Literal(l) => literal(l, dtype),
        }
    }
}

impl Weights {
    /// The mapping of the weight file `path` names, which `WeightFiles::open` has validated (it
    /// stays inside the model folder and is a weight file).
    fn map(&self, path: &str) -> Result<Mmap> {
        let relative = path
            .strip_prefix(mil_proto::weights::MODEL_PATH_PREFIX)
            .unwrap_or(path);
        let full = self.model_dir.join(relative);
        let file =
            std::fs::File::open(&full).map_err(|e| EvalError::msg(format!("{}: {e}", full.display())))?;
        // SAFETY: the mapping is read-only; a weight file changed by another process while a program
        // runs could change the values read, as reading it with read(2) midway would.
        unsafe { Mmap::map(&file) }.map_err(|e| EvalError::msg(format!("cannot map {}: {e}", full.display())))
    }
}

/// The `[cols, rows]` row-major transpose of the row-major `[rows, cols]` matrix `m`, in tiles
/// that stay in cache.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const TILE: usize = 32;
    let mut out = vec![0.0; rows * cols];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = m[r * cols + c];
                }
            }
        }
    }
    out
}

/// A list literal (`[1, 2]`, nested lists for higher ranks) as a tensor of `dtype`.
fn literal(l: &Literal, dtype: DType) -> Result<Tensor> {
    fn walk(l: &Literal, depth: usize, shape: &mut Vec<usize>, out: &mut Vec<f64>) -> Result<()> {
        match l {
            Literal::Number(s) => out.push(
                mil_ir::float::parse_float(s).ok_or_else(|| EvalError::msg(format!("bad number `{s}`")))?,
            ),
            Literal::Bool(b) => out.push(*b as u8 as f64),
            Literal::List(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                }
                for i in items {
                    walk(i, depth + 1, shape, out)?;
                }
            }
            _ => bail!("a string, dict or tuple literal cannot be used as a tensor"),
        }
        Ok(())
    }
    let (mut shape, mut out) = (Vec::new(), Vec::new());
    walk(l, 0, &mut shape, &mut out)?;
    if shape.iter().product::<usize>() != out.len() {
        bail!("a ragged list literal cannot be used as a tensor");
    }
    Ok(if dtype.kind() == mil_ir::DTypeKind::Float {
        Tensor::from_f32(dtype, shape, out.into_iter().map(|v| v as f32).collect())
    } else {
        Tensor::from_i64(dtype, shape, out.into_iter().map(|v| v as i64).collect())
    })
}
