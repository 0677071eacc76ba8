//! Types and inline values read back from MIL.proto: the inverse of [`crate::to_proto::value`].
//!
//! Every function here checks what a value claims against what it holds before allocating for it: a
//! tensor's element count (from its type) must equal the number of items present, or for raw bytes
//! the byte length must be exactly `ceil(count × bits / 8)`.

use crate::mil::{self, dimension, tensor_value as tv, value, value_type};
use crate::raw;
use crate::to_proto::value::data_type;
use half::{bf16, f16};
use mil_ir::float::{format_g17, format_hex};
use mil_ir::{ConstData, DType, DTypeKind, Dim, Elements, Literal, Type};

/// The dtype of MIL.proto's `DataType` code `code`.
pub fn dtype(code: i32) -> Result<DType, String> {
    DType::ALL
        .into_iter()
        .find(|d| data_type(*d) as i32 == code)
        .ok_or_else(|| format!("data type code {code} is not one MIL.proto defines"))
}

fn dim(d: &mil::Dimension) -> Result<Dim, String> {
    match &d.dimension {
        Some(dimension::Dimension::Constant(c)) => Ok(Dim::Known(c.size)),
        Some(dimension::Dimension::Unknown(u)) if !u.variadic => Ok(Dim::Unknown),
        Some(dimension::Dimension::Unknown(_)) => {
            Err("a variadic dimension (a tensor of unknown rank) has no MIL text form".into())
        }
        None => Err("a dimension that is neither known nor unknown".into()),
    }
}

/// The type `ty` describes. A rank-0 tensor is a bare dtype (`fp16`) when `scalars` (program(1.3)
/// spelling) and `tensor<fp16, []>` otherwise (program(1.0)).
pub fn value_type(ty: &mil::ValueType, scalars: bool) -> Result<Type, String> {
    let missing = |what: &str| format!("a {what} type without its parts");
    Ok(match &ty.r#type {
        Some(value_type::Type::TensorType(t)) => {
            let dtype = dtype(t.data_type)?;
            if t.rank != t.dimensions.len() as i64 {
                return Err(format!(
                    "a tensor type of rank {} with {} dimensions",
                    t.rank,
                    t.dimensions.len()
                ));
            }
            if t.dimensions.is_empty() && scalars {
                Type::Scalar(dtype)
            } else {
                Type::Tensor {
                    dtype,
                    shape: t.dimensions.iter().map(dim).collect::<Result<_, _>>()?,
                }
            }
        }
        Some(value_type::Type::ListType(l)) => Type::List(
            Box::new(value_type(
                l.r#type.as_deref().ok_or_else(|| missing("list"))?,
                scalars,
            )?),
            dim(l.length.as_ref().ok_or_else(|| missing("list"))?)?,
        ),
        Some(value_type::Type::TupleType(t)) => Type::Tuple(
            t.types
                .iter()
                .map(|t| value_type(t, scalars))
                .collect::<Result<_, _>>()?,
        ),
        Some(value_type::Type::DictionaryType(d)) => Type::Dict(
            Box::new(value_type(
                d.key_type.as_deref().ok_or_else(|| missing("dict"))?,
                scalars,
            )?),
            Box::new(value_type(
                d.value_type.as_deref().ok_or_else(|| missing("dict"))?,
                scalars,
            )?),
        ),
        Some(value_type::Type::StateType(s)) => Type::State(Box::new(value_type(
            s.wrapped_type.as_deref().ok_or_else(|| missing("state"))?,
            scalars,
        )?)),
        None => return Err("a value without a type".into()),
    })
}

/// The elements of `tensor` as `dtype`, `count` of them when the type's shape is known. Accepts
/// each dtype in the field coremltools writes it in ([`crate::to_proto::value::tensor_value`]) and
/// in any other field that holds its values exactly (fp16 as floats, int8 as ints, ...).
pub fn tensor_elements(
    tensor: &mil::TensorValue,
    dtype: DType,
    count: Option<u64>,
) -> Result<Elements, String> {
    let field_len = |n: usize| -> Result<(), String> {
        match count {
            Some(c) if c != n as u64 => Err(format!("the type holds {c} elements, the value has {n}")),
            _ => Ok(()),
        }
    };
    let wrong = |field: &str| format!("{field} cannot hold {dtype} elements");
    let kind = dtype.kind();
    Ok(match &tensor.value {
        Some(tv::Value::Floats(v)) => {
            field_len(v.values.len())?;
            floats(v.values.iter().map(|&x| f64::from(x)), dtype).ok_or_else(|| wrong("floats"))?
        }
        Some(tv::Value::Doubles(v)) => {
            field_len(v.values.len())?;
            floats(v.values.iter().copied(), dtype).ok_or_else(|| wrong("doubles"))?
        }
        Some(tv::Value::Ints(v)) => {
            field_len(v.values.len())?;
            integers(v.values.iter().map(|&x| i128::from(x)), dtype)?
        }
        Some(tv::Value::LongInts(v)) if dtype == DType::UInt64 => {
            // coremltools writes uint64 into the signed field, bit for bit.
            field_len(v.values.len())?;
            integers(v.values.iter().map(|&x| i128::from(x as u64)), dtype)?
        }
        Some(tv::Value::LongInts(v)) => {
            field_len(v.values.len())?;
            integers(v.values.iter().map(|&x| i128::from(x)), dtype)?
        }
        Some(tv::Value::Bools(v)) if kind == DTypeKind::Bool => {
            field_len(v.values.len())?;
            Elements::Bool(v.values.clone())
        }
        Some(tv::Value::Strings(v)) if kind == DTypeKind::String => {
            field_len(v.values.len())?;
            Elements::Str(v.values.clone())
        }
        Some(tv::Value::Bytes(b)) => {
            let bytes = &b.values;
            let count = match count {
                Some(c) => c,
                None => dtype
                    .bits()
                    .filter(|bits| bits % 8 == 0)
                    .map(|bits| (bytes.len() / (bits as usize / 8)) as u64)
                    .ok_or_else(|| format!("raw {dtype} bytes of a tensor with unknown dims"))?,
            };
            raw::decode(bytes, dtype, count).ok_or_else(|| match crate::blob::payload_size(dtype, count) {
                Some(size) if dtype != DType::Bool => format!(
                    "{} bytes hold {count} {dtype} elements; there are {}",
                    size,
                    bytes.len()
                ),
                _ => wrong("bytes"),
            })?
        }
        Some(tv::Value::Bools(_)) => return Err(wrong("bools")),
        Some(tv::Value::Strings(_)) => return Err(wrong("strings")),
        None => return Err("a tensor value without elements".into()),
    })
}

/// Float elements of a float dtype, rounded to its width (exact for values written at that width).
fn floats(values: impl ExactSizeIterator<Item = f64>, dtype: DType) -> Option<Elements> {
    Some(match dtype {
        DType::Fp16 => Elements::F16(values.map(f16::from_f64).collect()),
        DType::Bf16 => Elements::Bf16(values.map(bf16::from_f64).collect()),
        DType::Fp32 | DType::Fp8E4M3Fn | DType::Fp8E5M2 => Elements::F32(values.map(|x| x as f32).collect()),
        DType::Fp64 => Elements::F64(values.collect()),
        _ => return None,
    })
}

/// Integer elements of an integer dtype, each checked against its range.
fn integers(values: impl ExactSizeIterator<Item = i128> + Clone, dtype: DType) -> Result<Elements, String> {
    let Some((lo, hi)) = dtype.int_range() else {
        return Err(format!("integers cannot hold {dtype} elements"));
    };
    if let Some(bad) = values.clone().find(|v| !(lo..=hi).contains(v)) {
        return Err(format!("{bad} is not a {dtype}"));
    }
    Ok(match dtype.kind() {
        DTypeKind::Int => Elements::Int(values.map(|v| v as i64).collect()),
        _ => Elements::UInt(values.map(|v| v as u64).collect()),
    })
}

/// The contents of an inline value of type `ty`: tensor elements, or a literal for a list, tuple or
/// dict (whose nested values take their types from `ty`).
pub fn immediate(ty: &Type, value: &value::ImmediateValue) -> Result<ConstData, String> {
    use value::immediate_value::Value as V;
    match (ty, &value.value) {
        (Type::Tensor { .. } | Type::Scalar(_), Some(V::Tensor(t))) => {
            let dtype = ty.dtype().expect("tensor types have a dtype");
            Ok(ConstData::Tensor(tensor_elements(t, dtype, ty.element_count())?))
        }
        (Type::List(..) | Type::Tuple(_) | Type::Dict(..), Some(_)) => {
            Ok(ConstData::Literal(literal(ty, value)?))
        }
        (_, None) => Err("an inline value without contents".into()),
        _ => Err(format!("an inline value whose contents do not fit its type {ty}")),
    }
}

/// The literal an inline value of type `ty` is written as inside a list, tuple or dict.
fn literal(ty: &Type, value: &value::ImmediateValue) -> Result<Literal, String> {
    use value::immediate_value::Value as V;
    let nested = |ty: &Type, v: &mil::Value| match &v.value {
        Some(value::Value::ImmediateValue(i)) => literal(ty, i),
        _ => Err(format!("an item of a {ty} value that is not inline")),
    };
    Ok(match (ty, &value.value) {
        (Type::List(elem, _), Some(V::List(l))) => Literal::List(
            l.values
                .iter()
                .map(|v| nested(elem, v))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Tuple(types), Some(V::Tuple(t))) if types.len() == t.values.len() => Literal::Tuple(
            types
                .iter()
                .zip(&t.values)
                .map(|(ty, v)| nested(ty, v))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Dict(k, v), Some(V::Dictionary(d))) => Literal::Dict(
            d.values
                .iter()
                .map(|pair| {
                    let key = pair.key.as_ref().ok_or("a dict entry without a key")?;
                    let value = pair.value.as_ref().ok_or("a dict entry without a value")?;
                    Ok((nested(k, key)?, nested(v, value)?))
                })
                .collect::<Result<_, String>>()?,
        ),
        (Type::Tensor { .. } | Type::Scalar(_), Some(V::Tensor(_))) => match immediate(ty, value)? {
            ConstData::Tensor(e) => tensor_literal(ty, &e),
            _ => unreachable!("a tensor type reads as elements"),
        },
        _ => return Err(format!("an inline value whose contents do not fit its type {ty}")),
    })
}

/// Tensor elements as a literal: one number for a rank-0 value, lists nested by a known shape, or one
/// flat list. Floats print in hex except fp64, which Core ML writes as `%.17g` (`4.0960000000000001e-05`).
fn tensor_literal(ty: &Type, elements: &Elements) -> Literal {
    let leaf = |i: usize| match elements {
        Elements::F16(v) => Literal::Number(format_hex(f64::from(v[i]))),
        Elements::Bf16(v) => Literal::Number(format_hex(f64::from(v[i]))),
        Elements::F32(v) => Literal::Number(format_hex(f64::from(v[i]))),
        Elements::F64(v) => Literal::Number(format_g17(v[i])),
        Elements::Int(v) => Literal::Number(v[i].to_string()),
        Elements::UInt(v) => Literal::Number(v[i].to_string()),
        Elements::Bool(v) => Literal::Bool(v[i]),
        Elements::Str(v) => Literal::Str(v[i].clone()),
    };
    let shape: Option<Vec<usize>> = ty
        .shape()
        .filter(|_| ty.element_count() == Some(elements.len() as u64))
        .map(|dims| {
            dims.iter()
                .map(|d| if let Dim::Known(n) = d { *n as usize } else { 0 })
                .collect()
        });
    fn nest(dims: &[usize], start: usize, leaf: &dyn Fn(usize) -> Literal) -> Literal {
        match dims.split_first() {
            None => leaf(start),
            Some((&n, rest)) => {
                let stride: usize = rest.iter().product();
                Literal::List((0..n).map(|i| nest(rest, start + i * stride, leaf)).collect())
            }
        }
    }
    match shape {
        Some(dims) => nest(&dims, 0, &leaf),
        None => Literal::List((0..elements.len()).map(leaf).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::to_proto::value as out;
    use mil_ir::TypedValue;

    /// Parses `text` (a typed value) with the grammar, converts it with `to_proto`'s inline encoding
    /// and reads it back.
    fn round_trip(ty_text: &str, body: &str, scalars: bool) -> (TypedValue, ConstData, Type) {
        let version = if scalars { "1.3" } else { "1.0" };
        let text = format!(
            "program({version})\n{{\n    func main<ios18>() {{\n            {ty_text} c = const()[name = string(\"c\"), val = {ty_text}({body})];\n        }} -> (c);\n}}"
        );
        let parsed = mil_grammar::parse(&text);
        assert!(parsed.diagnostics.is_empty(), "{text}: {:?}", parsed.diagnostics);
        let f = &parsed.program.functions[0];
        let value = f.ops[0].attribute("val").unwrap().clone();
        let proto = out::inline(&value).unwrap();
        let ty = value_type(proto.r#type.as_ref().unwrap(), scalars).unwrap();
        let Some(value::Value::ImmediateValue(imm)) = &proto.value else {
            panic!("not inline")
        };
        (value, immediate(&ty, imm).unwrap(), ty)
    }

    #[test]
    fn inline_values_read_back_as_written() {
        for (ty, body, scalars) in [
            ("tensor<fp16, [2]>", "[0x1p-1, -inf]", true),
            ("tensor<int8, [3]>", "[-128, 0, 127]", true),
            ("tensor<uint4, [3]>", "[15, 0, 9]", true),
            ("tensor<int4, [3]>", "[-8, 7, -1]", true),
            ("tensor<uint3, [2]>", "[7, 5]", true),
            ("tensor<bf16, [1]>", "[0x1.8p+0]", true),
            ("tensor<fp8e4m3fn, [2]>", "[0x1p+0, -0x1.cp+8]", true),
            ("tensor<uint16, [2]>", "[65535, 0]", true),
            ("tensor<int64, [2]>", "[-9223372036854775808, 1]", true),
            ("tensor<uint64, [1]>", "[18446744073709551615]", true),
            ("tensor<fp64, [2]>", "[0x1.999999999999ap-4, 0x0p+0]", true),
            ("tensor<bool, [2]>", "[true, false]", true),
            ("tensor<string, [2]>", "[\"a\", \"\\\"b\\\"\"]", true),
            ("fp16", "0x1p-3", true),
            ("tensor<fp32, []>", "0x1p-3", false),
            (
                "dict<string, fp64>",
                "{{\"ane\", 4.0960000000000001e-05}, {\"bnns\", 0}}",
                true,
            ),
            (
                "dict<tensor<string, []>, tensor<string, []>>",
                "{{\"k\", \"v\"}}",
                false,
            ),
            ("list<string, 2>", "[\"a\", \"b\"]", true),
            (
                "tuple<tuple<tensor<string, []>, dict<tensor<string, []>, list<tensor<int32, [2]>, ?>>>>",
                "((\"RangeDims\", {{\"x\", [[1, 1], [1, 2048]]}}))",
                false,
            ),
            (
                "list<tensor<fp32, [2, 2]>, 1>",
                "[[[0x1p+0, 0x1p+1], [0x1p+2, -0x1p+0]]]",
                true,
            ),
        ] {
            let (written, read, read_ty) = round_trip(ty, body, scalars);
            assert_eq!(read_ty, written.ty, "{ty}");
            assert_eq!(read, written.data, "{ty}({body})");
        }
    }

    #[test]
    fn claims_are_checked_against_the_data_present() {
        let ty = Type::tensor(DType::Fp16, &[1_000_000_000, 1_000_000]);
        let bytes = tv::Value::Bytes(tv::RepeatedBytes { values: vec![0; 4] });
        let tensor = mil::TensorValue { value: Some(bytes) };
        let err = tensor_elements(&tensor, DType::Fp16, ty.element_count()).unwrap_err();
        assert_eq!(
            err,
            "2000000000000000 bytes hold 1000000000000000 fp16 elements; there are 4"
        );
        let ints = mil::TensorValue {
            value: Some(tv::Value::Ints(tv::RepeatedInts { values: vec![1, 300] })),
        };
        assert_eq!(
            tensor_elements(&ints, DType::Int32, Some(3)).unwrap_err(),
            "the type holds 3 elements, the value has 2"
        );
        assert_eq!(
            tensor_elements(&ints, DType::Int8, Some(2)).unwrap_err(),
            "300 is not a int8"
        );
        assert_eq!(
            tensor_elements(&ints, DType::Fp16, Some(2)).unwrap_err(),
            "integers cannot hold fp16 elements"
        );
        let variadic = mil::ValueType {
            r#type: Some(value_type::Type::TensorType(mil::TensorType {
                data_type: mil::DataType::Float32 as i32,
                rank: 1,
                dimensions: vec![mil::Dimension {
                    dimension: Some(dimension::Dimension::Unknown(dimension::UnknownDimension {
                        variadic: true,
                    })),
                }],
                attributes: Default::default(),
            })),
        };
        assert!(value_type(&variadic, true).unwrap_err().contains("variadic"));
        assert_eq!(
            dtype(99).unwrap_err(),
            "data type code 99 is not one MIL.proto defines"
        );
    }
}
