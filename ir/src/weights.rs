//! Weights behind one interface, wherever they are: in weight files beside a program (the store
//! `mil_proto::weights::WeightFiles` implements), or in memory, made by a rewrite
//! ([`MemoryWeights`]).
//!
//! A program names a weight by a [`BlobRef`]: a path and the offset of the blob's record. Analyses
//! read weights only through [`Weights`], so they do no file I/O of their own, and a store can read
//! each record once however many analyses ask. Weights a rewrite makes live in a [`MemoryWeights`]
//! under the path [`MEMORY_PATH`] until they are written out (into a weight file beside the text,
//! or into a compiled package's).

use std::io::Read;
use std::sync::Arc;

use crate::constant::BlobRef;
use crate::diagnostic::{Code, codes};
use crate::types::DType;

/// The path of every [`BlobRef`] to a weight held in memory; its offset is the weight's index.
pub const MEMORY_PATH: &str = "@memory";

/// Why a weight cannot be read: the diagnostic code and message to report.
pub type WeightProblem = (Code, String);

/// What a blob's record says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    /// The element type.
    pub dtype: DType,
    /// Payload size in bytes.
    pub size: u64,
    /// Unused bits in the payload's last byte (sub-byte types; 0 otherwise).
    pub padding_bits: u64,
}

impl BlobInfo {
    /// The number of elements the payload holds.
    pub fn elements(&self) -> u64 {
        let bits = u64::from(self.dtype.bits().unwrap_or(8));
        (self.size * 8).saturating_sub(self.padding_bits) / bits
    }
}

/// Where a program's weights are read from.
pub trait Weights {
    /// Whether `path` names a store of weights that can be read (a weight file inside the model
    /// folder, or [`MEMORY_PATH`]); its problem otherwise, the same for every blob in it.
    fn store(&mut self, path: &str) -> Result<(), WeightProblem>;

    /// The record of the blob `blob` names.
    fn record(&mut self, blob: &BlobRef) -> Result<BlobInfo, WeightProblem>;

    /// The payload of the blob `blob` names, as a reader of exactly its bytes.
    fn payload(&mut self, blob: &BlobRef) -> Result<Box<dyn Read + '_>, WeightProblem>;
}

/// The payload size of `elements` values of `dtype` in bytes: `ceil(elements * bits / 8)`, sub-byte
/// types packed; `None` for a dtype without a width or a size beyond `u64`.
pub fn payload_size(dtype: DType, elements: u64) -> Option<u64> {
    let bits = elements.checked_mul(u64::from(dtype.bits()?))?;
    Some(bits.div_ceil(8))
}

/// Weights made in memory (by a rewrite), each named by a [`BlobRef`] to [`MEMORY_PATH`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemoryWeights {
    blobs: Vec<(BlobInfo, Arc<[u8]>)>,
}

impl MemoryWeights {
    /// Holds `bytes`, the payload of `elements` values of `dtype` as a weight file stores them
    /// (little-endian, sub-byte types packed), and returns the reference that names it; `None` when
    /// the bytes are not that many values of that dtype.
    pub fn add(&mut self, dtype: DType, elements: u64, bytes: Vec<u8>) -> Option<BlobRef> {
        let size = payload_size(dtype, elements)?;
        if size != bytes.len() as u64 {
            return None;
        }
        let bits = u64::from(dtype.bits()?);
        let info = BlobInfo {
            dtype,
            size,
            padding_bits: size * 8 - elements * bits,
        };
        self.blobs.push((info, bytes.into()));
        Some(BlobRef {
            path: MEMORY_PATH.into(),
            offset: self.blobs.len() as u64 - 1,
            rank0_spelling: false,
        })
    }

    /// The record and payload `blob` names, if it is one of these weights.
    pub fn get(&self, blob: &BlobRef) -> Option<(BlobInfo, &[u8])> {
        if blob.path != MEMORY_PATH {
            return None;
        }
        let (info, bytes) = self.blobs.get(usize::try_from(blob.offset).ok()?)?;
        Some((*info, bytes))
    }

    fn found(&self, blob: &BlobRef) -> Result<(BlobInfo, &[u8]), WeightProblem> {
        self.get(blob).ok_or_else(|| {
            (
                codes::BLOB_BAD_RECORD,
                format!("no weight {} is held in memory", blob.offset),
            )
        })
    }
}

impl Weights for MemoryWeights {
    fn store(&mut self, path: &str) -> Result<(), WeightProblem> {
        if path == MEMORY_PATH {
            Ok(())
        } else {
            Err((
                codes::BLOB_FILE_MISSING,
                format!("weight file `{path}` not found: only weights in memory are at hand"),
            ))
        }
    }

    fn record(&mut self, blob: &BlobRef) -> Result<BlobInfo, WeightProblem> {
        self.store(&blob.path)?;
        self.found(blob).map(|(info, _)| info)
    }

    fn payload(&mut self, blob: &BlobRef) -> Result<Box<dyn Read + '_>, WeightProblem> {
        self.store(&blob.path)?;
        self.found(blob)
            .map(|(_, bytes)| Box::new(bytes) as Box<dyn Read>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_weights_hold_payloads_of_the_declared_size() {
        let mut m = MemoryWeights::default();
        assert_eq!(
            m.add(DType::Fp16, 3, vec![0; 5]),
            None,
            "3 fp16 values are 6 bytes"
        );
        let w = m.add(DType::Fp16, 3, vec![1, 2, 3, 4, 5, 6]).unwrap();
        // 5 uint4 values are 20 bits: 3 bytes, the last with 4 unused bits.
        let q = m.add(DType::UInt4, 5, vec![0x21, 0x43, 0x05]).unwrap();
        assert_eq!((w.path.as_str(), w.offset, q.offset), (MEMORY_PATH, 0, 1));
        let info = m.record(&q).unwrap();
        assert_eq!(
            (info.dtype, info.size, info.padding_bits, info.elements()),
            (DType::UInt4, 3, 4, 5)
        );
        let mut bytes = Vec::new();
        m.payload(&w).unwrap().read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes, [1, 2, 3, 4, 5, 6]);
        let missing = BlobRef {
            offset: 2,
            ..w.clone()
        };
        assert_eq!(m.record(&missing).unwrap_err().0, codes::BLOB_BAD_RECORD);
        let file = BlobRef {
            path: "@model_path/weights/weight.bin".into(),
            ..w
        };
        assert_eq!(m.record(&file).unwrap_err().0, codes::BLOB_FILE_MISSING);
    }
}
