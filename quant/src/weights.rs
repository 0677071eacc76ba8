//! Turning a const's value into floats, and quantised arrays into the values a new op holds.

use std::io::Read;

use half::f16;
use mil_ir::weights::{MemoryWeights, Weights};
use mil_ir::{ConstData, DType, Elements, Type, TypedValue};

use crate::select::WEIGHT_FILE_FROM;

/// A float weight read out of a const, with its dtype.
pub struct FloatWeight {
    /// fp16 or fp32.
    pub dtype: DType,
    /// The values, row-major (fp16 ones widened exactly).
    pub values: Vec<f32>,
}

/// The float values of `value` (inline or in a weight file) when it is an fp16 or fp32 tensor;
/// `Ok(None)` for any other dtype, `Err` with the store's message when its weight cannot be read.
pub fn read_floats(value: &TypedValue, weights: &mut dyn Weights) -> Result<Option<FloatWeight>, String> {
    let dtype = match value.ty.dtype() {
        Some(d @ (DType::Fp16 | DType::Fp32)) => d,
        _ => return Ok(None),
    };
    let values = match &value.data {
        ConstData::Tensor(Elements::F32(v)) => v.clone(),
        ConstData::Tensor(Elements::F16(v)) => v.iter().map(|x| x.to_f32()).collect(),
        ConstData::Blob(blob) => {
            let info = weights.record(blob).map_err(|(_, m)| m)?;
            if info.dtype != dtype {
                return Err(format!(
                    "the weight holds {}, not {}",
                    info.dtype.name(),
                    dtype.name()
                ));
            }
            let mut bytes = Vec::with_capacity(info.size as usize);
            weights
                .payload(blob)
                .map_err(|(_, m)| m)?
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            decode(&bytes, dtype)
        }
        _ => return Ok(None),
    };
    Ok(Some(FloatWeight { dtype, values }))
}

/// Little-endian fp16 or fp32 bytes as floats.
fn decode(bytes: &[u8], dtype: DType) -> Vec<f32> {
    if dtype == DType::Fp16 {
        bytes
            .chunks_exact(2)
            .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()
    } else {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

/// The typed values a rewrite writes, spelled as the program spells them.
pub struct ValueMaker<'m> {
    /// Where weights of [`WEIGHT_FILE_FROM`] elements or more go.
    pub memory: &'m mut MemoryWeights,
    /// Whether the program is `program(1.0)`, which spells scalars and blob fields as rank-0 tensors.
    pub rank0: bool,
}

impl ValueMaker<'_> {
    /// A tensor of `shape` holding `ints` as `dtype` (an 8-bit or narrower integer type; narrower
    /// values are packed into bytes, see [`pack_bits`]).
    pub fn ints(&mut self, dtype: DType, shape: &[u64], ints: &[i32]) -> TypedValue {
        let bytes = match dtype.bits() {
            Some(bits) if bits < 8 => pack_bits(ints, bits),
            _ => ints.iter().map(|&q| q as u8).collect(),
        };
        let inline = || match dtype {
            DType::UInt8 | DType::UInt6 | DType::UInt4 | DType::UInt3 | DType::UInt2 | DType::UInt1 => {
                Elements::UInt(ints.iter().map(|&q| q as u64).collect())
            }
            _ => Elements::Int(ints.iter().map(|&q| i64::from(q)).collect()),
        };
        self.value(dtype, shape, bytes, inline)
    }

    /// A tensor of `shape` holding `floats` as `dtype` (fp16 or fp32; the floats are exact in it).
    pub fn floats(&mut self, dtype: DType, shape: &[u64], floats: &[f32]) -> TypedValue {
        let (bytes, inline): (Vec<u8>, Elements) = if dtype == DType::Fp16 {
            let v: Vec<f16> = floats.iter().map(|&x| f16::from_f32(x)).collect();
            (v.iter().flat_map(|x| x.to_le_bytes()).collect(), Elements::F16(v))
        } else {
            (
                floats.iter().flat_map(|x| x.to_le_bytes()).collect(),
                Elements::F32(floats.to_vec()),
            )
        };
        self.value(dtype, shape, bytes, || inline)
    }

    /// A rank-0 int32 value.
    pub fn int32(&self, x: i32) -> TypedValue {
        TypedValue {
            ty: self.scalar_type(DType::Int32),
            data: ConstData::Tensor(Elements::Int(vec![i64::from(x)])),
        }
    }

    fn scalar_type(&self, dtype: DType) -> Type {
        if self.rank0 {
            Type::tensor(dtype, &[])
        } else {
            Type::Scalar(dtype)
        }
    }

    /// The value in memory when it has [`WEIGHT_FILE_FROM`] elements or more (as coremltools puts
    /// it in the weight file), else inline.
    fn value(
        &mut self,
        dtype: DType,
        shape: &[u64],
        bytes: Vec<u8>,
        inline: impl FnOnce() -> Elements,
    ) -> TypedValue {
        let elements: u64 = shape.iter().product();
        let ty = if shape.is_empty() {
            self.scalar_type(dtype)
        } else {
            Type::tensor(dtype, shape)
        };
        if elements >= WEIGHT_FILE_FROM
            && let Some(mut blob) = self.memory.add(dtype, elements, bytes)
        {
            blob.rank0_spelling = self.rank0;
            return TypedValue {
                ty,
                data: ConstData::Blob(blob),
            };
        }
        TypedValue {
            ty,
            data: ConstData::Tensor(inline()),
        }
    }
}

/// `ints` packed `bits` to a value into bytes, least significant bit first, as Core ML's weight
/// files hold sub-byte types (coremltools' `pack_elements_into_bits`): 4-bit values two to a byte,
/// the first in the low nibble.
pub fn pack_bits(ints: &[i32], bits: u32) -> Vec<u8> {
    let mut bytes = vec![0u8; (ints.len() * bits as usize).div_ceil(8)];
    let mask = (1u32 << bits) - 1;
    for (i, &q) in ints.iter().enumerate() {
        let at = i * bits as usize;
        let word = (q as u32 & mask) << (at % 8);
        bytes[at / 8] |= word as u8;
        if at % 8 + bits as usize > 8 {
            bytes[at / 8 + 1] |= (word >> 8) as u8;
        }
    }
    bytes
}
