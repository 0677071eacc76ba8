//! Element types and value types of MIL.

use std::fmt;

/// An element type. Every data type of MIL.proto's `DataType` is here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum DType {
    Bool,
    String,
    Fp8E4M3Fn,
    Fp8E5M2,
    Fp16,
    Fp32,
    Fp64,
    Bf16,
    Int4,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt1,
    UInt2,
    UInt3,
    UInt4,
    UInt6,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
}

/// The broad family a dtype belongs to, which decides how its literals are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DTypeKind {
    /// `bool`.
    Bool,
    /// `string`.
    String,
    /// Floating point of any width.
    Float,
    /// Signed integers.
    Int,
    /// Unsigned integers.
    UInt,
}

impl DType {
    /// Every dtype, in MIL.proto order.
    pub const ALL: [DType; 22] = [
        DType::Bool,
        DType::String,
        DType::Fp8E4M3Fn,
        DType::Fp8E5M2,
        DType::Fp16,
        DType::Fp32,
        DType::Fp64,
        DType::Bf16,
        DType::Int4,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::UInt1,
        DType::UInt2,
        DType::UInt3,
        DType::UInt4,
        DType::UInt6,
        DType::UInt8,
        DType::UInt16,
        DType::UInt32,
        DType::UInt64,
    ];

    /// The name MIL text uses (`fp16`, `int32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::String => "string",
            DType::Fp8E4M3Fn => "fp8e4m3fn",
            DType::Fp8E5M2 => "fp8e5m2",
            DType::Fp16 => "fp16",
            DType::Fp32 => "fp32",
            DType::Fp64 => "fp64",
            DType::Bf16 => "bf16",
            DType::Int4 => "int4",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::UInt1 => "uint1",
            DType::UInt2 => "uint2",
            DType::UInt3 => "uint3",
            DType::UInt4 => "uint4",
            DType::UInt6 => "uint6",
            DType::UInt8 => "uint8",
            DType::UInt16 => "uint16",
            DType::UInt32 => "uint32",
            DType::UInt64 => "uint64",
        }
    }

    /// The dtype spelled `name` in MIL text, if any: the inverse of [`DType::name`], written out as
    /// a `match` (rather than a search of [`DType::ALL`]) because lowering reads a dtype name for
    /// nearly every value.
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" => DType::Bool,
            "string" => DType::String,
            "fp8e4m3fn" => DType::Fp8E4M3Fn,
            "fp8e5m2" => DType::Fp8E5M2,
            "fp16" => DType::Fp16,
            "fp32" => DType::Fp32,
            "fp64" => DType::Fp64,
            "bf16" => DType::Bf16,
            "int4" => DType::Int4,
            "int8" => DType::Int8,
            "int16" => DType::Int16,
            "int32" => DType::Int32,
            "int64" => DType::Int64,
            "uint1" => DType::UInt1,
            "uint2" => DType::UInt2,
            "uint3" => DType::UInt3,
            "uint4" => DType::UInt4,
            "uint6" => DType::UInt6,
            "uint8" => DType::UInt8,
            "uint16" => DType::UInt16,
            "uint32" => DType::UInt32,
            "uint64" => DType::UInt64,
            _ => return None,
        })
    }

    /// The dtype someone writing `name` most likely meant, for "did you mean" hints: the other
    /// names frameworks and languages give the same type (`float16`, `half` → fp16; `float`,
    /// `float32` → fp32; `double` → fp64; `int` → int32; `long` → int64; `boolean` → bool; Rust's `f16`, `i8`, `u32`…),
    /// and MIL's own names in another case (`FP16`). `None` for a name
    /// that is already a dtype or that suggests none.
    pub fn suggest(name: &str) -> Option<DType> {
        if DType::from_name(name).is_some() {
            return None;
        }
        let lower = name.to_ascii_lowercase();
        if let Some(d) = DType::from_name(&lower) {
            return Some(d);
        }
        Some(match lower.as_str() {
            "float16" | "half" | "f16" | "float16_t" => DType::Fp16,
            "float32" | "float" | "single" | "f32" => DType::Fp32,
            "float64" | "double" | "f64" => DType::Fp64,
            "bfloat16" | "bfloat" => DType::Bf16,
            "int" | "i32" | "int32_t" => DType::Int32,
            "long" | "i64" | "int64_t" => DType::Int64,
            "short" | "i16" | "int16_t" => DType::Int16,
            "char" | "byte" | "i8" | "int8_t" => DType::Int8,
            "uint" | "u32" | "uint32_t" => DType::UInt32,
            "u64" | "uint64_t" => DType::UInt64,
            "u16" | "uint16_t" => DType::UInt16,
            "uchar" | "ubyte" | "u8" | "uint8_t" => DType::UInt8,
            "boolean" | "bool_" => DType::Bool,
            "str" | "text" => DType::String,
            _ => return None,
        })
    }

    /// Which family the dtype belongs to.
    pub fn kind(self) -> DTypeKind {
        match self {
            DType::Bool => DTypeKind::Bool,
            DType::String => DTypeKind::String,
            DType::Fp8E4M3Fn | DType::Fp8E5M2 | DType::Fp16 | DType::Fp32 | DType::Fp64 | DType::Bf16 => {
                DTypeKind::Float
            }
            DType::Int4 | DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => DTypeKind::Int,
            _ => DTypeKind::UInt,
        }
    }

    /// Width of one element in bits (`None` for strings).
    pub fn bits(self) -> Option<u32> {
        Some(match self {
            DType::String => return None,
            DType::Bool | DType::Fp8E4M3Fn | DType::Fp8E5M2 | DType::Int8 | DType::UInt8 => 8,
            DType::Fp16 | DType::Bf16 | DType::Int16 | DType::UInt16 => 16,
            DType::Fp32 | DType::Int32 | DType::UInt32 => 32,
            DType::Fp64 | DType::Int64 | DType::UInt64 => 64,
            DType::Int4 | DType::UInt4 => 4,
            DType::UInt1 => 1,
            DType::UInt2 => 2,
            DType::UInt3 => 3,
            DType::UInt6 => 6,
        })
    }

    /// The inclusive range of an integer dtype, as `i128` so every width fits.
    pub fn int_range(self) -> Option<(i128, i128)> {
        let bits = self.bits()? as i128;
        match self.kind() {
            DTypeKind::Int => Some((-(1 << (bits - 1)), (1 << (bits - 1)) - 1)),
            DTypeKind::UInt => Some((0, (1 << bits) - 1)),
            _ => None,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One dimension of a shape: a known size or `?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A known size.
    Known(u64),
    /// `?`: decided at run time.
    Unknown,
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Known(n) => write!(f, "{n}"),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// The type of a value, as MIL text spells it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `tensor<DTYPE, [dims]>`; `[]` is rank 0.
    Tensor {
        /// Element type.
        dtype: DType,
        /// Dimensions, outermost first.
        shape: Vec<Dim>,
    },
    /// A bare dtype (`fp16`, `string`): program(1.3)'s spelling of a scalar. It means the same as a
    /// rank-0 tensor and is kept apart only to print back as written.
    Scalar(DType),
    /// `state<T>`: a stateful function input (iOS18).
    State(Box<Type>),
    /// `tensor_buffer<DTYPE, key=[..], ...>`: a runtime buffer in Core ML's analytics files.
    TensorBuffer {
        /// Element type.
        dtype: DType,
        /// The `key=[..]` parameters in order (`shape`, `strides`, `interleave_factors`).
        params: Vec<(String, Vec<Dim>)>,
    },
    /// `list<T, N>`; the length may be `?`.
    List(Box<Type>, Dim),
    /// `tuple<T, ...>`.
    Tuple(Vec<Type>),
    /// `dict<K, V>`.
    Dict(Box<Type>, Box<Type>),
    /// A type that could not be read, kept as written so that nothing is lost; only parsing
    /// a file with errors produces it.
    Invalid(String),
}

impl Type {
    /// A tensor type with known dims.
    pub fn tensor(dtype: DType, shape: &[u64]) -> Type {
        Type::Tensor {
            dtype,
            shape: shape.iter().map(|&d| Dim::Known(d)).collect(),
        }
    }

    /// The element type of a tensor, scalar, state or buffer type.
    pub fn dtype(&self) -> Option<DType> {
        match self {
            Type::Tensor { dtype, .. } | Type::Scalar(dtype) | Type::TensorBuffer { dtype, .. } => {
                Some(*dtype)
            }
            Type::State(inner) => inner.dtype(),
            _ => None,
        }
    }

    /// The shape of a tensor or scalar type (`[]` for a scalar).
    pub fn shape(&self) -> Option<&[Dim]> {
        match self {
            Type::Tensor { shape, .. } => Some(shape),
            Type::Scalar(_) => Some(&[]),
            _ => None,
        }
    }

    /// The shape of the data a value of this type holds: a tensor's or scalar's shape, or a tensor
    /// buffer's `shape` parameter (its strides and interleaving say only how it is laid out).
    pub fn data_shape(&self) -> Option<&[Dim]> {
        match self {
            Type::TensorBuffer { params, .. } => params
                .iter()
                .find(|(key, _)| key == "shape")
                .map(|(_, dims)| &dims[..]),
            _ => self.shape(),
        }
    }

    /// The number of elements a tensor or scalar type holds, when every dim is known and the
    /// product does not overflow.
    pub fn element_count(&self) -> Option<u64> {
        self.shape()?.iter().try_fold(1u64, |acc, d| match d {
            Dim::Known(n) => acc.checked_mul(*n),
            Dim::Unknown => None,
        })
    }

    /// Whether two types describe the same values: a bare scalar equals a rank-0 tensor.
    pub fn same_as(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::Scalar(a), Type::Tensor { dtype, shape })
            | (Type::Tensor { dtype, shape }, Type::Scalar(a)) => a == dtype && shape.is_empty(),
            _ => self == other,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn dims(f: &mut fmt::Formatter<'_>, dims: &[Dim]) -> fmt::Result {
            f.write_str("[")?;
            for (i, d) in dims.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{d}")?;
            }
            f.write_str("]")
        }
        match self {
            Type::Tensor { dtype, shape } => {
                write!(f, "tensor<{dtype}, ")?;
                dims(f, shape)?;
                f.write_str(">")
            }
            Type::Scalar(dtype) => write!(f, "{dtype}"),
            Type::State(inner) => write!(f, "state<{inner}>"),
            Type::TensorBuffer { dtype, params } => {
                write!(f, "tensor_buffer<{dtype}")?;
                for (key, values) in params {
                    write!(f, ", {key}=")?;
                    dims(f, values)?;
                }
                f.write_str(">")
            }
            Type::List(elem, len) => write!(f, "list<{elem}, {len}>"),
            Type::Tuple(items) => {
                f.write_str("tuple<")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(">")
            }
            Type::Dict(k, v) => write!(f, "dict<{k}, {v}>"),
            Type::Invalid(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtype_names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
        }
        assert_eq!(DType::Int4.int_range(), Some((-8, 7)));
        assert_eq!(DType::UInt6.int_range(), Some((0, 63)));
    }

    #[test]
    fn other_names_suggest_the_dtype_and_dtypes_suggest_nothing() {
        for (name, meant) in [
            ("float16", DType::Fp16),
            ("half", DType::Fp16),
            ("float", DType::Fp32),
            ("float32", DType::Fp32),
            ("double", DType::Fp64),
            ("int", DType::Int32),
            ("i8", DType::Int8),
            ("Boolean", DType::Bool),
            ("UINT8", DType::UInt8),
        ] {
            assert_eq!(DType::suggest(name), Some(meant), "{name}");
        }
        for d in DType::ALL {
            assert_eq!(DType::suggest(d.name()), None, "{d}");
        }
        assert_eq!(DType::suggest("tensor"), None);
    }

    #[test]
    fn types_print_as_mil() {
        let t = Type::Dict(
            Box::new(Type::Tensor {
                dtype: DType::String,
                shape: vec![],
            }),
            Box::new(Type::List(
                Box::new(Type::tensor(DType::Int32, &[2])),
                Dim::Unknown,
            )),
        );
        assert_eq!(
            t.to_string(),
            "dict<tensor<string, []>, list<tensor<int32, [2]>, ?>>"
        );
    }
}
