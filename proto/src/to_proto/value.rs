//! Types and inline values in MIL.proto's encoding, as coremltools writes them.

use crate::mil::{self, dimension, tensor_value as tv, value, value_type};
use crate::raw;
use half::{bf16, f16};
use mil_ir::{DType, DTypeKind, Dim, Elements, Literal, Type, TypedValue, float::parse_float};
use std::collections::BTreeMap;

/// MIL.proto's `DataType` of a dtype.
pub fn data_type(dtype: DType) -> mil::DataType {
    use mil::DataType as P;
    match dtype {
        DType::Bool => P::Bool,
        DType::String => P::String,
        DType::Fp8E4M3Fn => P::Float8e4m3fn,
        DType::Fp8E5M2 => P::Float8e5m2,
        DType::Fp16 => P::Float16,
        DType::Fp32 => P::Float32,
        DType::Fp64 => P::Float64,
        DType::Bf16 => P::Bfloat16,
        DType::Int4 => P::Int4,
        DType::Int8 => P::Int8,
        DType::Int16 => P::Int16,
        DType::Int32 => P::Int32,
        DType::Int64 => P::Int64,
        DType::UInt1 => P::Uint1,
        DType::UInt2 => P::Uint2,
        DType::UInt3 => P::Uint3,
        DType::UInt4 => P::Uint4,
        DType::UInt6 => P::Uint6,
        DType::UInt8 => P::Uint8,
        DType::UInt16 => P::Uint16,
        DType::UInt32 => P::Uint32,
        DType::UInt64 => P::Uint64,
    }
}

fn dimension(d: &Dim) -> mil::Dimension {
    mil::Dimension {
        dimension: Some(match d {
            Dim::Known(size) => dimension::Dimension::Constant(dimension::ConstantDimension { size: *size }),
            Dim::Unknown => dimension::Dimension::Unknown(dimension::UnknownDimension { variadic: false }),
        }),
    }
}

/// A tensor type; a scalar is a rank-0 tensor.
pub fn tensor_type(dtype: DType, shape: &[Dim]) -> mil::ValueType {
    mil::ValueType {
        r#type: Some(value_type::Type::TensorType(mil::TensorType {
            data_type: data_type(dtype) as i32,
            rank: shape.len() as i64,
            dimensions: shape.iter().map(dimension).collect(),
            attributes: BTreeMap::new(),
        })),
    }
}

/// The proto of a type; `tensor_buffer` types have none.
pub fn value_type(ty: &Type) -> Result<mil::ValueType, String> {
    let kind = match ty {
        Type::Tensor { dtype, shape } => return Ok(tensor_type(*dtype, shape)),
        Type::Scalar(dtype) => return Ok(tensor_type(*dtype, &[])),
        Type::State(inner) => value_type::Type::StateType(Box::new(mil::StateType {
            wrapped_type: Some(Box::new(value_type(inner)?)),
        })),
        Type::List(elem, len) => value_type::Type::ListType(Box::new(mil::ListType {
            r#type: Some(Box::new(value_type(elem)?)),
            length: Some(dimension(len)),
        })),
        Type::Tuple(items) => value_type::Type::TupleType(mil::TupleType {
            types: items.iter().map(value_type).collect::<Result<_, _>>()?,
        }),
        Type::Dict(k, v) => value_type::Type::DictionaryType(Box::new(mil::DictionaryType {
            key_type: Some(Box::new(value_type(k)?)),
            value_type: Some(Box::new(value_type(v)?)),
        })),
        Type::TensorBuffer { .. } => {
            return Err(format!(
                "{ty} is a runtime buffer type, which a package cannot hold"
            ));
        }
        Type::Invalid(text) => return Err(format!("`{text}` is not a type")),
    };
    Ok(mil::ValueType { r#type: Some(kind) })
}

/// A value of type `ty` held inline.
pub fn immediate(ty: mil::ValueType, contents: value::immediate_value::Value) -> mil::Value {
    mil::Value {
        doc_string: String::new(),
        r#type: Some(ty),
        value: Some(value::Value::ImmediateValue(value::ImmediateValue {
            value: Some(contents),
        })),
    }
}

/// The `TensorValue` field coremltools uses for each dtype: floats for fp32, doubles for fp64,
/// ints for int32/int16/uint16, longInts for int64/uint64, bools, strings, and raw bytes for the rest.
pub fn tensor_value(elements: &Elements, dtype: DType) -> Option<mil::TensorValue> {
    let value = match (elements, dtype) {
        (Elements::F32(v), DType::Fp32) => tv::Value::Floats(tv::RepeatedFloats { values: v.clone() }),
        (Elements::F64(v), DType::Fp64) => tv::Value::Doubles(tv::RepeatedDoubles { values: v.clone() }),
        (Elements::Int(v), DType::Int32 | DType::Int16) => tv::Value::Ints(tv::RepeatedInts {
            values: v.iter().map(|&x| x as i32).collect(),
        }),
        (Elements::UInt(v), DType::UInt16) => tv::Value::Ints(tv::RepeatedInts {
            values: v.iter().map(|&x| x as i32).collect(),
        }),
        (Elements::Int(v), DType::Int64) => tv::Value::LongInts(tv::RepeatedLongInts { values: v.clone() }),
        (Elements::UInt(v), DType::UInt64) => tv::Value::LongInts(tv::RepeatedLongInts {
            values: v.iter().map(|&x| x as i64).collect(),
        }),
        (Elements::Bool(v), DType::Bool) => tv::Value::Bools(tv::RepeatedBools { values: v.clone() }),
        (Elements::Str(v), DType::String) => tv::Value::Strings(tv::RepeatedStrings { values: v.clone() }),
        _ => tv::Value::Bytes(tv::RepeatedBytes {
            values: raw::encode(elements, dtype)?,
        }),
    };
    Some(mil::TensorValue { value: Some(value) })
}

/// An inline tensor or scalar value.
pub fn tensor(ty: &Type, elements: &Elements) -> Result<mil::Value, String> {
    let dtype = ty
        .dtype()
        .ok_or_else(|| format!("tensor elements for the non-tensor type {ty}"))?;
    let contents =
        tensor_value(elements, dtype).ok_or_else(|| format!("the elements do not match the type {ty}"))?;
    Ok(immediate(
        value_type(ty)?,
        value::immediate_value::Value::Tensor(contents),
    ))
}

/// A list, tuple or dict literal (or a tensor written as a raw literal inside one) as a value of
/// type `ty`, every nested value with its own type.
pub fn literal(ty: &Type, lit: &Literal) -> Result<mil::Value, String> {
    use value::immediate_value::Value as V;
    let contents = match (ty, lit) {
        (Type::List(elem, _), Literal::List(items)) => V::List(mil::ListValue {
            values: items.iter().map(|l| literal(elem, l)).collect::<Result<_, _>>()?,
        }),
        (Type::Tuple(types), Literal::Tuple(items)) if types.len() == items.len() => {
            V::Tuple(mil::TupleValue {
                values: types
                    .iter()
                    .zip(items)
                    .map(|(t, l)| literal(t, l))
                    .collect::<Result<_, _>>()?,
            })
        }
        (Type::Dict(k, v), Literal::Dict(pairs)) => V::Dictionary(mil::DictionaryValue {
            values: pairs
                .iter()
                .map(|(key, val)| {
                    Ok(mil::dictionary_value::KeyValuePair {
                        key: Some(literal(k, key)?),
                        value: Some(literal(v, val)?),
                    })
                })
                .collect::<Result<_, String>>()?,
        }),
        (Type::Tensor { dtype, .. } | Type::Scalar(dtype), _) => {
            return tensor(ty, &elements(*dtype, lit)?);
        }
        _ => return Err(format!("this literal cannot be read as {ty}")),
    };
    Ok(immediate(value_type(ty)?, contents))
}

/// The elements of a raw literal (a leaf, or nested lists of leaves) read as `dtype`.
fn elements(dtype: DType, lit: &Literal) -> Result<Elements, String> {
    fn leaves<'a>(lit: &'a Literal, out: &mut Vec<&'a Literal>) {
        match lit {
            Literal::List(items) => items.iter().for_each(|l| leaves(l, out)),
            leaf => out.push(leaf),
        }
    }
    let mut flat = Vec::new();
    leaves(lit, &mut flat);
    let bad = |l: &Literal| format!("`{}` is not a {dtype}", mil_ir::printer::print_literal(l));
    let number = |l: &Literal| match l {
        Literal::Number(text) => parse_float(text).ok_or_else(|| bad(l)),
        _ => Err(bad(l)),
    };
    let integer = |l: &Literal| -> Result<i128, String> {
        let Literal::Number(text) = l else {
            return Err(bad(l));
        };
        let value = text
            .parse::<i128>()
            .ok()
            .or_else(|| parse_float(text).filter(|x| x.fract() == 0.0).map(|x| x as i128));
        value
            .filter(|v| dtype.int_range().is_some_and(|(lo, hi)| (lo..=hi).contains(v)))
            .ok_or_else(|| bad(l))
    };
    Ok(match dtype {
        DType::Fp16 => Elements::F16(
            flat.iter()
                .map(|l| number(l).map(f16::from_f64))
                .collect::<Result<_, _>>()?,
        ),
        DType::Bf16 => Elements::Bf16(
            flat.iter()
                .map(|l| number(l).map(bf16::from_f64))
                .collect::<Result<_, _>>()?,
        ),
        DType::Fp32 | DType::Fp8E4M3Fn | DType::Fp8E5M2 => Elements::F32(
            flat.iter()
                .map(|l| number(l).map(|x| x as f32))
                .collect::<Result<_, _>>()?,
        ),
        DType::Fp64 => Elements::F64(flat.iter().map(|l| number(l)).collect::<Result<_, _>>()?),
        DType::Bool => Elements::Bool(
            flat.iter()
                .map(|l| match l {
                    Literal::Bool(b) => Ok(*b),
                    _ => Err(bad(l)),
                })
                .collect::<Result<_, _>>()?,
        ),
        DType::String => Elements::Str(
            flat.iter()
                .map(|l| match l {
                    Literal::Str(s) => Ok(s.clone()),
                    _ => Err(bad(l)),
                })
                .collect::<Result<_, _>>()?,
        ),
        d if d.kind() == DTypeKind::Int => Elements::Int(
            flat.iter()
                .map(|l| integer(l).map(|v| v as i64))
                .collect::<Result<_, _>>()?,
        ),
        _ => Elements::UInt(
            flat.iter()
                .map(|l| integer(l).map(|v| v as u64))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Whether coremltools would put a constant of `elements` values of `dtype` in the weight file for a
/// model of `specification_version`: from 10 elements, for fp16, fp32, int8 and uint8 (and the
/// sub-byte types, which coremltools holds as uint8/int8), and from iOS18 (version 9) also int16,
/// uint16, int32 and uint32.
pub fn goes_to_weight_file(dtype: DType, elements: usize, specification_version: i32) -> bool {
    let always = matches!(
        dtype,
        DType::Fp16
            | DType::Fp32
            | DType::Int8
            | DType::UInt8
            | DType::Int4
            | DType::UInt1
            | DType::UInt2
            | DType::UInt3
            | DType::UInt4
            | DType::UInt6
    );
    let from_ios18 = matches!(dtype, DType::Int16 | DType::UInt16 | DType::Int32 | DType::UInt32);
    elements >= 10 && (always || (from_ios18 && specification_version >= 9))
}

/// The proto of an inline `TypedValue` whose data is tensor elements or a literal.
pub fn inline(value: &TypedValue) -> Result<mil::Value, String> {
    match &value.data {
        mil_ir::ConstData::Tensor(e) => tensor(&value.ty, e),
        mil_ir::ConstData::Literal(l) => literal(&value.ty, l),
        mil_ir::ConstData::Blob(_) => Err("a weight-file value is not inline".into()),
    }
}
