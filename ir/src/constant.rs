//! Constant values: typed literals, compact tensor data and weight-file references.

use crate::types::{DType, Dim, Type};
use half::{bf16, f16};

/// A raw literal as written inside a value body, before its type gives it meaning.
/// Used for the contents of lists, dicts and tuples, whose element types vary.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A number, kept as its lexeme (`-0x1.48p-1`, `4.0960000000000001e-05`, `-inf`) so it prints back
    /// exactly as written.
    Number(String),
    /// A string, unescaped.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `[a, b, ...]`.
    List(Vec<Literal>),
    /// `{{k, v}, ...}`.
    Dict(Vec<(Literal, Literal)>),
    /// `(a, b, ...)`.
    Tuple(Vec<Literal>),
}

/// The elements of a tensor constant, flattened in row-major order and stored at their dtype's width.
#[derive(Clone, Debug)]
pub enum Elements {
    /// fp16.
    F16(Vec<f16>),
    /// bf16.
    Bf16(Vec<bf16>),
    /// fp32, and the fp8 types (held exactly in an `f32`).
    F32(Vec<f32>),
    /// fp64.
    F64(Vec<f64>),
    /// Signed integers of every width.
    Int(Vec<i64>),
    /// Unsigned integers of every width.
    UInt(Vec<u64>),
    /// bool.
    Bool(Vec<bool>),
    /// string.
    Str(Vec<String>),
}

impl Elements {
    /// An empty element vector of the storage class of `dtype`.
    pub fn empty(dtype: DType) -> Elements {
        Elements::with_capacity(dtype, 0)
    }

    /// An empty element vector of the storage class of `dtype`, with room for `n` elements.
    pub fn with_capacity(dtype: DType, n: usize) -> Elements {
        match dtype {
            DType::Fp16 => Elements::F16(Vec::with_capacity(n)),
            DType::Bf16 => Elements::Bf16(Vec::with_capacity(n)),
            DType::Fp32 | DType::Fp8E4M3Fn | DType::Fp8E5M2 => Elements::F32(Vec::with_capacity(n)),
            DType::Fp64 => Elements::F64(Vec::with_capacity(n)),
            DType::Bool => Elements::Bool(Vec::with_capacity(n)),
            DType::String => Elements::Str(Vec::with_capacity(n)),
            d if d.kind() == crate::types::DTypeKind::Int => Elements::Int(Vec::with_capacity(n)),
            _ => Elements::UInt(Vec::with_capacity(n)),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Elements::F16(v) => v.len(),
            Elements::Bf16(v) => v.len(),
            Elements::F32(v) => v.len(),
            Elements::F64(v) => v.len(),
            Elements::Int(v) => v.len(),
            Elements::UInt(v) => v.len(),
            Elements::Bool(v) => v.len(),
            Elements::Str(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` as an `f64`, for floats, ints and bools.
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        Some(match self {
            Elements::F16(v) => f64::from(*v.get(i)?),
            Elements::Bf16(v) => f64::from(*v.get(i)?),
            Elements::F32(v) => f64::from(*v.get(i)?),
            Elements::F64(v) => *v.get(i)?,
            Elements::Int(v) => *v.get(i)? as f64,
            Elements::UInt(v) => *v.get(i)? as f64,
            Elements::Bool(v) => *v.get(i)? as u8 as f64,
            Elements::Str(_) => return None,
        })
    }

    /// Element `i` as an integer, for integer and bool elements.
    pub fn get_i64(&self, i: usize) -> Option<i64> {
        match self {
            Elements::Int(v) => v.get(i).copied(),
            Elements::UInt(v) => v.get(i).and_then(|&x| i64::try_from(x).ok()),
            Elements::Bool(v) => v.get(i).map(|&b| b as i64),
            _ => None,
        }
    }

    /// Repeats a single element `n` times (used to spell a scalar literal as a full tensor).
    pub fn broadcast(&self, n: usize) -> Option<Elements> {
        fn rep<T: Clone>(v: &[T], n: usize) -> Option<Vec<T>> {
            (v.len() == 1).then(|| vec![v[0].clone(); n])
        }
        Some(match self {
            Elements::F16(v) => Elements::F16(rep(v, n)?),
            Elements::Bf16(v) => Elements::Bf16(rep(v, n)?),
            Elements::F32(v) => Elements::F32(rep(v, n)?),
            Elements::F64(v) => Elements::F64(rep(v, n)?),
            Elements::Int(v) => Elements::Int(rep(v, n)?),
            Elements::UInt(v) => Elements::UInt(rep(v, n)?),
            Elements::Bool(v) => Elements::Bool(rep(v, n)?),
            Elements::Str(v) => Elements::Str(rep(v, n)?),
        })
    }
}

impl PartialEq for Elements {
    /// Floats compare by bits, so `nan == nan` and `-0 != 0`: equality means "prints the same".
    fn eq(&self, other: &Elements) -> bool {
        match (self, other) {
            (Elements::F16(a), Elements::F16(b)) => {
                a.iter().map(|x| x.to_bits()).eq(b.iter().map(|x| x.to_bits()))
            }
            (Elements::Bf16(a), Elements::Bf16(b)) => {
                a.iter().map(|x| x.to_bits()).eq(b.iter().map(|x| x.to_bits()))
            }
            (Elements::F32(a), Elements::F32(b)) => {
                a.iter().map(|x| x.to_bits()).eq(b.iter().map(|x| x.to_bits()))
            }
            (Elements::F64(a), Elements::F64(b)) => {
                a.iter().map(|x| x.to_bits()).eq(b.iter().map(|x| x.to_bits()))
            }
            (Elements::Int(a), Elements::Int(b)) => a == b,
            (Elements::UInt(a), Elements::UInt(b)) => a == b,
            (Elements::Bool(a), Elements::Bool(b)) => a == b,
            (Elements::Str(a), Elements::Str(b)) => a == b,
            _ => false,
        }
    }
}

/// A reference to a blob in a weight file: `BLOBFILE(path = string("@model_path/..."), offset = uint64(64))`.
/// The data is read lazily, by whoever needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobRef {
    /// The file, usually `@model_path/weights/weight.bin`.
    pub path: String,
    /// Offset of the blob's 64-byte metadata record in the file.
    pub offset: u64,
    /// Whether the path and offset were spelled as rank-0 tensors (`tensor<string, []>("...")`, the
    /// program(1.0) spelling) rather than bare scalars (`string("...")`).
    pub rank0_spelling: bool,
}

/// What a typed value holds.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstData {
    /// Tensor or scalar elements, compactly stored.
    Tensor(Elements),
    /// Elements that live in a weight file.
    Blob(BlobRef),
    /// A list, dict or tuple literal.
    Literal(Literal),
}

/// A value with its type: `tensor<int32, [2]>([1, 1])`, `string("valid")`, `dict<string, fp64>({...})`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedValue {
    /// The declared type.
    pub ty: Type,
    /// The contents.
    pub data: ConstData,
}

impl TypedValue {
    /// A bare scalar string value (`string("...")`).
    pub fn string(s: &str) -> TypedValue {
        TypedValue {
            ty: Type::Scalar(DType::String),
            data: ConstData::Tensor(Elements::Str(vec![s.to_string()])),
        }
    }

    /// The string held by a scalar string value.
    pub fn as_str(&self) -> Option<&str> {
        match &self.data {
            ConstData::Tensor(Elements::Str(v)) if v.len() == 1 => Some(&v[0]),
            _ => None,
        }
    }

    /// The elements held inline, if any.
    pub fn elements(&self) -> Option<&Elements> {
        match &self.data {
            ConstData::Tensor(e) => Some(e),
            _ => None,
        }
    }

    /// The shape the value's type declares, when it is a tensor or scalar with known dims.
    pub fn known_shape(&self) -> Option<Vec<u64>> {
        self.ty
            .shape()?
            .iter()
            .map(|d| match d {
                Dim::Known(n) => Some(*n),
                Dim::Unknown => None,
            })
            .collect()
    }
}
