//! The model description: inputs, outputs and states mirroring the program's functions, as Core ML
//! (not coremltools) requires.

use crate::spec::{self, array_feature_type as aft, feature_type, state_feature_type};
use mil_ir::{DType, Dim, Function, Program, Type};

/// The multi-array element type of a tensor dtype; fp16 needs iOS16 (specification version 7).
fn array_data_type(dtype: DType, specification_version: i32) -> Result<aft::ArrayDataType, String> {
    Ok(match dtype {
        DType::Fp32 => aft::ArrayDataType::Float32,
        DType::Fp64 => aft::ArrayDataType::Double,
        DType::Int32 => aft::ArrayDataType::Int32,
        DType::Int8 => aft::ArrayDataType::Int8,
        DType::Fp16 if specification_version >= 7 => aft::ArrayDataType::Float16,
        DType::Fp16 => return Err("fp16 inputs and outputs need ios16 or later".into()),
        other => {
            return Err(format!(
                "Core ML passes fp16, fp32, fp64, int32 and int8 arrays in and out, not {other}"
            ));
        }
    })
}

/// A multi-array feature of a tensor type. An input's unknown dims get a default of 1 and an
/// unbounded range; an output with unknown dims is described by its dtype alone.
fn array(ty: &Type, input: bool, specification_version: i32) -> Result<spec::ArrayFeatureType, String> {
    let (Some(dtype), Some(shape)) = (ty.dtype(), ty.shape()) else {
        return Err(format!("{ty} is not a tensor"));
    };
    let data_type = array_data_type(dtype, specification_version)? as i32;
    let known = shape.iter().all(|d| matches!(d, Dim::Known(_)));
    let size = |d: &Dim| match d {
        Dim::Known(n) => *n as i64,
        Dim::Unknown => 1,
    };
    let mut array = spec::ArrayFeatureType {
        data_type,
        ..Default::default()
    };
    if known || input {
        array.shape = shape.iter().map(size).collect();
    }
    if !known && input {
        let ranges = shape
            .iter()
            .map(|d| match d {
                Dim::Known(n) => spec::SizeRange {
                    lower_bound: *n,
                    upper_bound: *n as i64,
                },
                Dim::Unknown => spec::SizeRange {
                    lower_bound: 1,
                    upper_bound: -1,
                },
            })
            .collect();
        array.shape_flexibility = Some(aft::ShapeFlexibility::ShapeRange(aft::ShapeRange {
            size_ranges: ranges,
        }));
    }
    Ok(array)
}

fn feature(name: &str, kind: feature_type::Type) -> spec::FeatureDescription {
    spec::FeatureDescription {
        name: name.into(),
        short_description: String::new(),
        r#type: Some(spec::FeatureType {
            r#type: Some(kind),
            is_optional: false,
        }),
    }
}

/// What one function takes and returns, as features.
pub struct Features {
    /// Non-state parameters.
    pub inputs: Vec<spec::FeatureDescription>,
    /// Outputs of the body.
    pub outputs: Vec<spec::FeatureDescription>,
    /// State parameters.
    pub states: Vec<spec::FeatureDescription>,
}

/// Where a description problem is.
pub enum Culprit {
    /// The function's parameter at this index.
    Param(usize),
    /// The body's output at this index.
    Output(usize),
}

/// The features of `f`, or the first value that cannot be one and why.
pub fn features(f: &Function, specification_version: i32) -> Result<Features, (Culprit, String)> {
    let mut out = Features {
        inputs: Vec::new(),
        outputs: Vec::new(),
        states: Vec::new(),
    };
    for (i, &id) in f.params.iter().enumerate() {
        let value = f.value(id);
        let why = |e: String| (Culprit::Param(i), format!("input `{}`: {e}", value.name));
        match &value.ty {
            Type::State(inner) => {
                let array = array(inner, true, specification_version).map_err(why)?;
                let state = spec::StateFeatureType {
                    r#type: Some(state_feature_type::Type::ArrayType(array)),
                };
                out.states
                    .push(feature(&value.name, feature_type::Type::StateType(state)));
            }
            ty => {
                let array = array(ty, true, specification_version).map_err(why)?;
                out.inputs
                    .push(feature(&value.name, feature_type::Type::MultiArrayType(array)));
            }
        }
    }
    for (i, output) in f.block(f.body).outputs.iter().enumerate() {
        let why = |e: String| (Culprit::Output(i), format!("output `{}`: {e}", output.name));
        let ty = output
            .id
            .map(|id| &f.value(id).ty)
            .ok_or_else(|| why("undefined".into()))?;
        let array = array(ty, false, specification_version).map_err(why)?;
        out.outputs
            .push(feature(&output.name, feature_type::Type::MultiArrayType(array)));
    }
    Ok(out)
}

/// The name of the function Core ML runs when none is named: `main` when there is one, else the first.
pub fn default_function(program: &Program) -> Option<&str> {
    program
        .function("main")
        .or(program.functions.first())
        .map(|f| f.name.as_str())
}
