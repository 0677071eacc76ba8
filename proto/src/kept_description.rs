//! The model description a decompiled program keeps, so that compiling it again gives back the
//! package's description: metadata (author, license, version, short description, user-defined
//! entries), feature descriptions, image inputs (size, colour layout, flexible sizes), a
//! classifier's string or int64 label and probability dictionary outputs, shape ranges and
//! defaults.
//!
//! MIL text has no syntax for these, and our schema does not describe image, dictionary or string
//! features (the reference schema does not), so the description is kept as the bytes the package
//! held: decompiling adds the program attribute [`ATTRIBUTE`] (`string("…")`, the encoded
//! `ModelDescription` in hex), and compiling takes it out again (it never reaches
//! `Program.attributes`) and writes those bytes as the model's description, as long as it still
//! fits the program: the same functions, inputs, states and outputs in the same order, each of a
//! kind the text's type can be passed as. When it no longer fits, the description is derived from
//! the text as for any program, and a warning ([`crate::codes::DESCRIPTION_NOT_KEPT`]) says what is
//! lost.

use crate::spec::{self, FeatureType, Model, ModelDescription, feature_type};
use crate::to_proto::description::array_data_type;
use mil_ir::{Attribute, DType, Dim, Function, Program, Type, TypedValue};
use prost::Message;

/// The program attribute holding the kept description.
pub const ATTRIBUTE: &str = "coreml_model_description";

/// The field number of `Model.description`.
const DESCRIPTION_FIELD: u64 = 2;

/// The encoded description in `model_bytes` (a `model.mlmodel`'s bytes), as it is there: the
/// payloads of every `description` field, in order (which protobuf merges into one message).
/// `None` when the bytes have none or are not a well-formed message.
pub fn raw_description(model_bytes: &[u8]) -> Option<Vec<u8>> {
    let mut rest = model_bytes;
    let mut found: Option<Vec<u8>> = None;
    while !rest.is_empty() {
        let key = varint(&mut rest)?;
        let len = match key & 7 {
            0 => {
                varint(&mut rest)?;
                0
            }
            1 => 8,
            2 => usize::try_from(varint(&mut rest)?).ok()?,
            5 => 4,
            _ => return None,
        };
        let payload = rest.get(..len)?;
        if key >> 3 == DESCRIPTION_FIELD && key & 7 == 2 {
            found.get_or_insert_with(Vec::new).extend_from_slice(payload);
        }
        rest = &rest[len..];
    }
    found
}

/// Reads one base-128 varint from the front of `bytes`.
fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The program attribute that keeps `raw` (an encoded description) in a program of `version`
/// (`1.0` spells a string `tensor<string, []>`, `1.3` `string`).
pub fn attribute(raw: &[u8], version: &str) -> Attribute {
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut value = TypedValue::string(&hex);
    if version == "1.0" {
        value.ty = Type::tensor(DType::String, &[]);
    }
    Attribute {
        key: ATTRIBUTE.into(),
        value,
    }
}

/// A description kept in a program.
pub struct Kept {
    /// The bytes, as the package held them.
    pub raw: Vec<u8>,
    /// The same, decoded (without the contents of the feature kinds our schema leaves undescribed).
    pub decoded: ModelDescription,
}

/// Takes the kept description out of `program`'s attributes: `None` when it has none, else the
/// description or why it cannot be read.
pub fn take(program: &mut Program) -> Option<Result<Kept, String>> {
    let at = program.attributes.iter().position(|a| &*a.key == ATTRIBUTE)?;
    let attribute = program.attributes.remove(at);
    Some(read(&attribute.value))
}

fn read(value: &TypedValue) -> Result<Kept, String> {
    let hex = value.as_str().ok_or("it is not a string")?;
    if hex.len() % 2 != 0 {
        return Err("its hex digits come in an odd number".into());
    }
    let raw = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or("it is not hex digits")?;
    let decoded = ModelDescription::decode(raw.as_slice())
        .map_err(|e| format!("it is not a Core ML model description: {e}"))?;
    Ok(Kept { raw, decoded })
}

/// Why `description` no longer fits `program`, or `None` when it does: each function must have the
/// inputs, states and outputs the description lists, in its order, each of a kind its type can
/// be passed as.
pub fn mismatch(description: &ModelDescription, program: &Program) -> Option<String> {
    if let [f] = program.functions.as_slice()
        && description.functions.is_empty()
    {
        let lists = [&description.input, &description.state, &description.output];
        return function_mismatch(f, lists).map(|why| format!("function `{}`: {why}", f.name));
    }
    if description.functions.len() != program.functions.len() {
        return Some(format!(
            "it describes {} function(s), the program has {}",
            description.functions.len().max(1),
            program.functions.len()
        ));
    }
    for d in &description.functions {
        let Some(f) = program.function(&d.name) else {
            return Some(format!(
                "it describes a function `{}` the program does not have",
                d.name
            ));
        };
        if let Some(why) = function_mismatch(f, [&d.input, &d.state, &d.output]) {
            return Some(format!("function `{}`: {why}", f.name));
        }
    }
    None
}

/// Why the features `[inputs, states, outputs]` do not fit `f`.
fn function_mismatch(
    f: &Function,
    [inputs, states, outputs]: [&Vec<spec::FeatureDescription>; 3],
) -> Option<String> {
    let params: Vec<(&str, &Type)> = f
        .params
        .iter()
        .map(|&id| (&*f.value(id).name, &f.value(id).ty))
        .collect();
    let (state_params, input_params): (Vec<_>, Vec<_>) = params
        .into_iter()
        .partition(|(_, ty)| matches!(ty, Type::State(_)));
    let output_values: Vec<(&str, Option<&Type>)> = f
        .block(f.body)
        .outputs
        .iter()
        .map(|o| (&*o.name, o.id.map(|id| &f.value(id).ty)))
        .collect();
    let with_types = |v: Vec<(&'_ str, &'_ Type)>| -> Vec<(String, Option<Type>)> {
        v.into_iter()
            .map(|(n, t)| (n.to_string(), Some(t.clone())))
            .collect()
    };
    let outputs_typed = output_values
        .into_iter()
        .map(|(n, t)| (n.to_string(), t.cloned()))
        .collect();
    for (what, features, values) in [
        ("input", inputs, with_types(input_params)),
        ("state", states, with_types(state_params)),
        ("output", outputs, outputs_typed),
    ] {
        let names: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
        let described: Vec<&str> = features.iter().map(|d| d.name.as_str()).collect();
        if names != described {
            return Some(format!(
                "the description's {what}s are {described:?}, the text's {names:?}"
            ));
        }
        for (feature, (name, ty)) in features.iter().zip(&values) {
            let passes = match (feature.r#type.as_ref().and_then(|t| t.r#type.as_ref()), ty) {
                (Some(kind), Some(ty)) => passes_as(kind, ty),
                _ => false,
            };
            if !passes {
                let kind = feature.r#type.as_ref().map_or("no type", kind_name);
                let ty = ty
                    .as_ref()
                    .map_or_else(|| "undefined".to_string(), Type::to_string);
                return Some(format!(
                    "{what} `{name}` is described as {kind}, but its type is {ty}"
                ));
            }
        }
    }
    None
}

/// What a feature type is called in messages.
fn kind_name(ty: &FeatureType) -> &'static str {
    match &ty.r#type {
        Some(feature_type::Type::Int64Type(_)) => "an int64",
        Some(feature_type::Type::DoubleType(_)) => "a double",
        Some(feature_type::Type::StringType(_)) => "a string",
        Some(feature_type::Type::ImageType(_)) => "an image",
        Some(feature_type::Type::MultiArrayType(_)) => "a multi-array",
        Some(feature_type::Type::DictionaryType(_)) => "a dictionary",
        Some(feature_type::Type::SequenceType(_)) => "a sequence",
        Some(feature_type::Type::StateType(_)) => "a state",
        None => "a kind of feature Core ML does not define",
    }
}

/// Whether a value of type `ty` can be passed as a feature of kind `kind`.
fn passes_as(kind: &feature_type::Type, ty: &Type) -> bool {
    let tensor = |want: &[DType]| ty.dtype().is_some_and(|d| want.contains(&d));
    match (kind, ty) {
        (feature_type::Type::MultiArrayType(array), _) => array_fits(array, ty),
        (feature_type::Type::StateType(state), Type::State(inner)) => match &state.r#type {
            Some(spec::state_feature_type::Type::ArrayType(array)) => array_fits(array, inner),
            None => false,
        },
        (feature_type::Type::ImageType(_), _) => {
            tensor(&[DType::Fp32, DType::Fp16]) && ty.shape().is_some_and(|s| s.len() == 4)
        }
        (feature_type::Type::StringType(_), _) => tensor(&[DType::String]),
        (feature_type::Type::Int64Type(_), _) => tensor(&[DType::Int64]),
        (feature_type::Type::DoubleType(_), _) => tensor(&[DType::Fp64]),
        (feature_type::Type::DictionaryType(_), Type::Dict(..)) => true,
        (feature_type::Type::SequenceType(_), Type::List(..)) => true,
        _ => false,
    }
}

/// Whether `ty` is a tensor of `array`'s element type whose known dims are `array`'s default
/// shape's (any shape when the description gives none).
fn array_fits(array: &spec::ArrayFeatureType, ty: &Type) -> bool {
    let (Some(dtype), Some(shape)) = (ty.dtype(), ty.shape()) else {
        return false;
    };
    let same_dtype = array_data_type(dtype, i32::MAX).is_ok_and(|d| d as i32 == array.data_type);
    let same_shape = array.shape.is_empty()
        || (array.shape.len() == shape.len()
            && shape.iter().zip(&array.shape).all(|(d, &n)| match d {
                Dim::Known(k) => i64::try_from(*k) == Ok(n),
                Dim::Unknown => true,
            }));
    same_dtype && same_shape
}

/// The bytes of `model` with `raw` as its description (in place of `model.description`), fields in
/// field-number order as protobuf encoders write them.
pub fn encode_with_description(model: &Model, raw: &[u8]) -> Vec<u8> {
    let version = Model {
        specification_version: model.specification_version,
        ..Model::default()
    };
    let rest = Model {
        specification_version: 0,
        description: None,
        ..model.clone()
    };
    let mut out = version.encode_to_vec();
    prost::encoding::encode_key(
        DESCRIPTION_FIELD as u32,
        prost::encoding::WireType::LengthDelimited,
        &mut out,
    );
    prost::encoding::encode_varint(raw.len() as u64, &mut out);
    out.extend_from_slice(raw);
    rest.encode(&mut out).expect("a Vec grows");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_bytes_are_found_and_put_back_in_place() {
        let model = Model {
            specification_version: 7,
            description: Some(ModelDescription {
                predicted_feature_name: "label".into(),
                ..ModelDescription::default()
            }),
            is_updatable: true,
            r#type: None,
        };
        let bytes = model.encode_to_vec();
        let raw = raw_description(&bytes).unwrap();
        assert_eq!(raw, model.description.clone().unwrap().encode_to_vec());
        let without = Model {
            description: None,
            ..model.clone()
        };
        assert_eq!(encode_with_description(&without, &raw), bytes);
        assert_eq!(raw_description(&without.encode_to_vec()), None);
        assert_eq!(
            raw_description(&[0x12, 0x05, 0x01]),
            None,
            "a payload past the end"
        );
    }

    #[test]
    fn the_attribute_reads_back_and_a_spoiled_one_says_why() {
        let raw = [0x5a, 0x05, b'l', b'a', b'b', b'e', b'l'];
        let mut program = Program {
            version: "1.3".into(),
            attributes: vec![attribute(&raw, "1.3")],
            ..Program::default()
        };
        let kept = take(&mut program).unwrap().unwrap();
        assert!(program.attributes.is_empty());
        assert_eq!(kept.raw, raw);
        assert_eq!(kept.decoded.predicted_feature_name, "label");
        for (hex, why) in [
            ("5a0", "odd"),
            ("zz", "not hex"),
            ("5a05", "not a Core ML model description"),
        ] {
            let mut program = Program::default();
            program.attributes.push(Attribute {
                key: ATTRIBUTE.into(),
                value: TypedValue::string(hex),
            });
            let error = take(&mut program).unwrap().err().unwrap();
            assert!(error.contains(why), "{hex}: {error}");
        }
    }
}
