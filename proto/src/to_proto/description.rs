//! The model description: inputs, outputs and states mirroring the program's functions, as Core ML
//! (not coremltools) requires.

use crate::spec::{self, array_feature_type as aft, feature_type, state_feature_type};
use mil_ir::{ConstData, DType, Dim, Function, Literal, Program, Type};
use std::collections::HashMap;

/// The multi-array element type of a tensor dtype; fp16 needs iOS16 (specification version 7).
pub fn array_data_type(dtype: DType, specification_version: i32) -> Result<aft::ArrayDataType, String> {
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

/// The function attribute in which Apple's compiler records the flexible input shapes of the
/// description (`FlexibleShapeInformation`): a tuple of `("DefaultShapes", {{name, shape}})` and
/// `("RangeDims", {{name, [[lower, upper], ...]}})`.
pub const FLEXIBLE_SHAPES: &str = "FlexibleShapeInformation";

/// What a function's [`FLEXIBLE_SHAPES`] attribute says about its inputs.
#[derive(Default)]
pub struct FlexibleShapes {
    /// Input name → its default shape.
    defaults: HashMap<String, Vec<i64>>,
    /// Input name → `(lower, upper)` per dimension; an upper bound of -1 is unbounded.
    ranges: HashMap<String, Vec<(u64, i64)>>,
}

impl FlexibleShapes {
    /// The flexible shapes `f`'s [`FLEXIBLE_SHAPES`] attribute records; `None` when it has none or
    /// one of another form (which is then kept as an attribute, as written).
    pub fn of(f: &Function) -> Option<FlexibleShapes> {
        let attribute = f.attributes.iter().find(|a| &*a.key == FLEXIBLE_SHAPES)?;
        let ConstData::Literal(Literal::Tuple(entries)) = &attribute.value.data else {
            return None;
        };
        let mut shapes = FlexibleShapes::default();
        for entry in entries {
            let Literal::Tuple(pair) = entry else {
                return None;
            };
            let [Literal::Str(kind), Literal::Dict(inputs)] = pair.as_slice() else {
                return None;
            };
            for (name, value) in inputs {
                let Literal::Str(name) = name else {
                    return None;
                };
                match kind.as_str() {
                    "DefaultShapes" => {
                        let shape = numbers(value)?
                            .into_iter()
                            .map(i64::try_from)
                            .collect::<Result<_, _>>()
                            .ok()?;
                        shapes.defaults.insert(name.clone(), shape);
                    }
                    "RangeDims" => {
                        let Literal::List(dims) = value else {
                            return None;
                        };
                        let ranges = dims
                            .iter()
                            .map(|d| match numbers(d)?.as_slice() {
                                &[lower, upper] => {
                                    Some((u64::try_from(lower).ok()?, i64::try_from(upper).ok()?))
                                }
                                _ => None,
                            })
                            .collect::<Option<_>>()?;
                        shapes.ranges.insert(name.clone(), ranges);
                    }
                    _ => return None,
                }
            }
        }
        Some(shapes)
    }
}

/// The integers of a list literal.
fn numbers(literal: &Literal) -> Option<Vec<i128>> {
    let Literal::List(items) = literal else {
        return None;
    };
    items
        .iter()
        .map(|item| match item {
            Literal::Number(n) => n.parse().ok(),
            _ => None,
        })
        .collect()
}

/// A multi-array feature of a tensor type. An input's unknown dims get the default and range that
/// `flexible` records for it (when they have its rank), else a default of 1 and an unbounded range;
/// an output with unknown dims is described by its dtype alone.
fn array(
    ty: &Type,
    input: Option<(&str, Option<&FlexibleShapes>)>,
    specification_version: i32,
) -> Result<spec::ArrayFeatureType, String> {
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
    if known || input.is_some() {
        array.shape = shape.iter().map(size).collect();
    }
    if let (false, Some((name, flexible))) = (known, input) {
        let rank = |v: &&Vec<_>| v.len() == shape.len();
        let recorded = flexible.and_then(|f| f.ranges.get(name)).filter(rank);
        let ranges: Vec<(u64, i64)> = recorded.cloned().unwrap_or_else(|| {
            shape
                .iter()
                .map(|d| match d {
                    Dim::Known(n) => (*n, *n as i64),
                    Dim::Unknown => (1, -1),
                })
                .collect()
        });
        if let Some(default) = flexible
            .and_then(|f| f.defaults.get(name))
            .filter(|d| d.len() == shape.len())
        {
            array.shape.clone_from(default);
        }
        let ranges = ranges
            .into_iter()
            .map(|(lower_bound, upper_bound)| spec::SizeRange {
                lower_bound,
                upper_bound,
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
    let flexible = FlexibleShapes::of(f);
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
                let input = Some((&*value.name, flexible.as_ref()));
                let array = array(inner, input, specification_version).map_err(why)?;
                let state = spec::StateFeatureType {
                    r#type: Some(state_feature_type::Type::ArrayType(array)),
                };
                out.states
                    .push(feature(&value.name, feature_type::Type::StateType(state)));
            }
            ty => {
                let input = Some((&*value.name, flexible.as_ref()));
                let array = array(ty, input, specification_version).map_err(why)?;
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
        let array = array(ty, None, specification_version).map_err(why)?;
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
