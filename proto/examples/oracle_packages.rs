//! Writes the packages that `tests/oracle/test_packages.py` loads with coremltools:
//! `cargo run -p mil-proto --example oracle_packages -- OUT_DIR`.
//!
//! Two are built by hand as Model protos:
//! - `relu.mlpackage`: iOS17, `main(x: fp32[1, 3]) -> relu(x)`, no weights.
//! - `const_weight.mlpackage`: iOS16, `main(x: fp16[12]) -> add(x, w)` with `w = 0, 1, ..., 11` in
//!   weight.bin.
//!
//! The others are compiled from `tests/oracle/programs/NAME.mil` into `NAME.mlpackage`, each from a
//! copy at `OUT_DIR/src/NAME/model.mil` beside `weights/weight.bin`, a copy of the weight file
//! coremltools wrote (`proto/tests/data/coremltools_weight.bin`). A program that does not compile
//! leaves `NAME.errors.txt` with its diagnostics instead.

use half::f16;
use mil_ir::DType;
use mil_proto::compile::{CompileError, compile};
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

/// Compiles every program of `tests/oracle/programs` into `out`.
fn compile_programs(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let weights = root.join("proto/tests/data/coremltools_weight.bin");
    for entry in std::fs::read_dir(root.join("tests/oracle/programs"))? {
        let path = entry?.path();
        let Some(stem) = path
            .file_stem()
            .filter(|_| path.extension() == Some("mil".as_ref()))
        else {
            continue;
        };
        let stem = stem.to_string_lossy();
        let model_dir = out.join("src").join(&*stem);
        std::fs::create_dir_all(model_dir.join("weights"))?;
        std::fs::copy(&weights, model_dir.join("weights/weight.bin"))?;
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(model_dir.join("model.mil"), &text)?;
        let parsed = mil_grammar::parse(&text);
        let result = if mil_ir::diagnostic::has_errors(&parsed.diagnostics) {
            Err(CompileError::Program(parsed.diagnostics))
        } else {
            compile(
                &parsed.program,
                &parsed.source_map,
                &model_dir,
                &out.join(format!("{stem}.mlpackage")),
            )
        };
        let report = match result {
            Ok(_) => continue,
            Err(CompileError::Program(diagnostics)) => diagnostics
                .iter()
                .map(|d| {
                    format!(
                        "{} {} at {:?}: {}\n",
                        d.code.id,
                        d.severity.name(),
                        d.span,
                        d.message
                    )
                })
                .collect(),
            Err(e) => e.to_string(),
        };
        std::fs::write(out.join(format!("{stem}.errors.txt")), report)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os()
        .nth(1)
        .ok_or("usage: oracle_packages OUT_DIR")?;
    let out = Path::new(&out);
    relu(out)?;
    const_weight(out)?;
    compile_programs(out)
}
