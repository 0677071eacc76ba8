//! Writes the packages that `tests/oracle/test_packages.py` loads with coremltools:
//! `cargo run -p mil-proto --example oracle_packages -- OUT_DIR`.
//!
//! - `relu.mlpackage`: iOS17, `main(x: fp32[1, 3]) -> relu(x)`, no weights.
//! - `const_weight.mlpackage`: iOS16, `main(x: fp16[12]) -> add(x, w)` with `w = 0, 1, ..., 11` in
//!   weight.bin.

use half::f16;
use mil_ir::DType;
use mil_proto::mil::{self, argument, dimension, value, value_type};
use mil_proto::package::{PackageError, PackageWriter};
use mil_proto::spec::{self, array_feature_type::ArrayDataType, feature_type};
use std::collections::BTreeMap;
use std::path::Path;

fn tensor(dtype: mil::DataType, shape: &[u64]) -> mil::ValueType {
    let dimensions = shape
        .iter()
        .map(|&size| mil::Dimension {
            dimension: Some(dimension::Dimension::Constant(dimension::ConstantDimension {
                size,
            })),
        })
        .collect();
    mil::ValueType {
        r#type: Some(value_type::Type::TensorType(mil::TensorType {
            data_type: dtype as i32,
            rank: shape.len() as i64,
            dimensions,
            attributes: BTreeMap::new(),
        })),
    }
}

fn named(name: &str, ty: mil::ValueType) -> mil::NamedValueType {
    mil::NamedValueType {
        name: name.into(),
        r#type: Some(ty),
    }
}

fn string_value(s: &str) -> mil::Value {
    mil::Value {
        doc_string: String::new(),
        r#type: Some(tensor(mil::DataType::String, &[])),
        value: Some(value::Value::ImmediateValue(value::ImmediateValue {
            value: Some(value::immediate_value::Value::Tensor(mil::TensorValue {
                value: Some(mil::tensor_value::Value::Strings(
                    mil::tensor_value::RepeatedStrings {
                        values: vec![s.into()],
                    },
                )),
            })),
        })),
    }
}

fn op(kind: &str, name: &str, inputs: &[(&str, &str)], output: mil::NamedValueType) -> mil::Operation {
    let inputs = inputs
        .iter()
        .map(|(key, bound)| {
            let binding = argument::Binding {
                binding: Some(argument::binding::Binding::Name(bound.to_string())),
            };
            (
                key.to_string(),
                mil::Argument {
                    arguments: vec![binding],
                },
            )
        })
        .collect();
    mil::Operation {
        r#type: kind.into(),
        inputs,
        outputs: vec![output],
        blocks: vec![],
        attributes: BTreeMap::from([("name".into(), string_value(name))]),
    }
}

fn feature(name: &str, dtype: ArrayDataType, shape: &[i64]) -> spec::FeatureDescription {
    spec::FeatureDescription {
        name: name.into(),
        short_description: String::new(),
        r#type: Some(spec::FeatureType {
            r#type: Some(feature_type::Type::MultiArrayType(spec::ArrayFeatureType {
                shape: shape.to_vec(),
                data_type: dtype as i32,
                ..Default::default()
            })),
            is_optional: false,
        }),
    }
}

/// A model whose `main` takes `x`, runs `ops` and returns `output`.
fn model(
    version: i32,
    opset: &str,
    x: (mil::ValueType, spec::FeatureDescription),
    ops: Vec<mil::Operation>,
    output: spec::FeatureDescription,
) -> spec::Model {
    let block = mil::Block {
        inputs: vec![],
        outputs: vec![output.name.clone()],
        operations: ops,
        attributes: BTreeMap::new(),
    };
    let main = mil::Function {
        inputs: vec![named("x", x.0)],
        opset: opset.into(),
        block_specializations: BTreeMap::from([(opset.into(), block)]),
        attributes: BTreeMap::new(),
    };
    spec::Model {
        specification_version: version,
        description: Some(spec::ModelDescription {
            input: vec![x.1],
            output: vec![output],
            ..Default::default()
        }),
        is_updatable: false,
        r#type: Some(spec::model::Type::MlProgram(mil::Program {
            version: 1,
            functions: BTreeMap::from([("main".into(), main)]),
            doc_string: String::new(),
            attributes: BTreeMap::new(),
        })),
    }
}

fn relu(out: &Path) -> Result<(), PackageError> {
    let ty = tensor(mil::DataType::Float32, &[1, 3]);
    let relu = op("relu", "y", &[("x", "x")], named("y", ty.clone()));
    let model = model(
        8,
        "CoreML7",
        (ty, feature("x", ArrayDataType::Float32, &[1, 3])),
        vec![relu],
        feature("y", ArrayDataType::Float32, &[1, 3]),
    );
    PackageWriter::create(&out.join("relu.mlpackage"))?.commit(&model)
}

fn const_weight(out: &Path) -> Result<(), PackageError> {
    let ty = tensor(mil::DataType::Float16, &[12]);
    let mut package = PackageWriter::create(&out.join("const_weight.mlpackage"))?;
    let weights: Vec<u8> = (0..12)
        .flat_map(|i| f16::from_f32(i as f32).to_le_bytes())
        .collect();
    let offset = package.blobs()?.append_bytes(DType::Fp16, 12, &weights)?;
    let val = mil::Value {
        doc_string: String::new(),
        r#type: Some(ty.clone()),
        value: Some(value::Value::BlobFileValue(value::BlobFileValue {
            file_name: "@model_path/weights/weight.bin".into(),
            offset,
        })),
    };
    let mut w = op("const", "w", &[], named("w", ty.clone()));
    w.attributes.insert("val".into(), val);
    let add = op("add", "z", &[("x", "x"), ("y", "w")], named("z", ty.clone()));
    let model = model(
        7,
        "CoreML6",
        (ty, feature("x", ArrayDataType::Float16, &[12])),
        vec![w, add],
        feature("z", ArrayDataType::Float16, &[12]),
    );
    package.commit(&model)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os()
        .nth(1)
        .ok_or("usage: oracle_packages OUT_DIR")?;
    let out = Path::new(&out);
    relu(out)?;
    const_weight(out)?;
    Ok(())
}
