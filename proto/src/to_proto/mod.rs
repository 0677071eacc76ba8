//! IR → Model proto: what compiling a MIL program produces, following coremltools' writer.
//!
//! - `specificationVersion` and each `Function.opset` come from the functions' opsets
//!   ([`target`]); the model's version is the newest its functions need.
//! - The description mirrors the program: for one function its parameters (states apart) and body
//!   outputs; for several, one `FunctionDescription` each and `defaultFunctionName`.
//! - Every op keeps its inputs (bound by name, to inline values, or to tuples of both), outputs,
//!   nested blocks and attributes. The program is canonicalised first
//!   ([`mil_ir::canonical::canonicalize`]), so every op has a `name` and positional arguments get
//!   their keys.
//! - Tensor constants of 10 or more elements of the weight-file dtypes go to the weight file
//!   ([`value::goes_to_weight_file`]); BLOBFILE references are copied blob by blob from the files
//!   they name (each source blob once), streamed, with new offsets.
//! - Everything else is inline, in the `TensorValue` field coremltools uses for its dtype.
//! - An op newer than its function's opset is an error; ops the catalogue does not know pass.

pub mod description;
pub mod value;

use crate::blob::{BlobWriter, payload_size};
use crate::codes;
use crate::kept_description;
use crate::mil::{self, argument};
use crate::spec::{self, Model};
use crate::weights::WeightFiles;
use mil_ir::weights::Weights;
use mil_ir::{
    Attribute, BlobRef, BlockId, ConstData, Diagnostic, Function, FunctionSpans, OpId, Operand, Program,
    Severity, SourceMap, Span, TypedValue,
    catalogue::{self, LookupError, Opset},
};
use std::collections::{BTreeMap, HashMap};
use std::io::{Seek, Write};

/// The file name every weight reference in a package has.
pub const WEIGHT_FILE_NAME: &str = "@model_path/weights/weight.bin";

/// What a function's opset means in a package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// `Model.specificationVersion`.
    pub specification_version: i32,
    /// `Function.opset` (`CoreML7`).
    pub opset: &'static str,
}

/// Each opset with its package version (mlpackage.md): `specificationVersion` and `Function.opset`.
const TARGETS: [(Opset, Target); 5] = [
    (
        Opset::Ios15,
        Target {
            specification_version: 6,
            opset: "CoreML5",
        },
    ),
    (
        Opset::Ios16,
        Target {
            specification_version: 7,
            opset: "CoreML6",
        },
    ),
    (
        Opset::Ios17,
        Target {
            specification_version: 8,
            opset: "CoreML7",
        },
    ),
    (
        Opset::Ios18,
        Target {
            specification_version: 9,
            opset: "CoreML8",
        },
    ),
    (
        Opset::Ios26,
        Target {
            specification_version: 10,
            opset: "CoreML9",
        },
    ),
];

/// The package version of an opset (mlpackage.md): ios15 → 6/CoreML5, ios16 → 7/CoreML6,
/// ios17 → 8/CoreML7, ios18 → 9/CoreML8, ios26 → 10/CoreML9.
pub fn target(opset: &str) -> Option<Target> {
    let opset = Opset::parse(opset)?;
    TARGETS.iter().find(|(o, _)| *o == opset).map(|(_, t)| *t)
}

/// The opset a package's `Function.opset` names (`CoreML7` → ios17): the inverse of [`target`].
pub fn opset_of(function_opset: &str) -> Option<Opset> {
    TARGETS
        .iter()
        .find(|(_, t)| t.opset == function_opset)
        .map(|(o, _)| *o)
}

/// Converts `program` into a Model proto, appending weight-file data to `blobs`. BLOBFILE paths
/// resolve through `weights`; check them first with [`crate::blob_check::check_blobs`], which
/// reports their problems in more detail. Returns every problem found when the program cannot be
/// converted; they are all errors.
pub fn to_proto<W: Write + Seek>(
    program: &Program,
    map: &SourceMap,
    weights: &mut dyn Weights,
    blobs: &mut BlobWriter<W>,
) -> Result<Converted, Vec<Diagnostic>> {
    convert(program, map, weights, blobs, false)
}

/// A program converted into a package's model.
pub struct Converted {
    /// The Model proto; its description is the kept one, decoded, when that was used.
    pub model: Model,
    /// The bytes of the description kept from a decompiled package ([`crate::kept_description`]),
    /// when it still fits the program: they are written in place of `model.description`, whose
    /// decoded form lacks what our schema does not describe (image sizes, dictionary key types).
    pub kept_description: Option<Vec<u8>>,
    /// What was not kept (a kept description that no longer fits).
    pub warnings: Vec<Diagnostic>,
}

impl Converted {
    /// The bytes of `model.mlmodel`.
    pub fn encode(&self) -> Vec<u8> {
        match &self.kept_description {
            Some(raw) => kept_description::encode_with_description(&self.model, raw),
            None => prost::Message::encode_to_vec(&self.model),
        }
    }
}

/// Every problem (errors and warnings) [`to_proto`] would report for `program`, found without
/// reading or writing any weight (BLOBFILE references are for [`crate::blob_check::check_blobs`]).
pub fn problems(program: &Program, map: &SourceMap) -> Vec<Diagnostic> {
    dry_run(program, map).map_or_else(|errors| errors, |c| c.warnings)
}

/// The model description compiling `program` writes, found without reading or writing any weight;
/// `None` when it cannot be compiled.
pub fn description(program: &Program, map: &SourceMap) -> Option<spec::ModelDescription> {
    dry_run(program, map).ok()?.model.description
}

fn dry_run(program: &Program, map: &SourceMap) -> Result<Converted, Vec<Diagnostic>> {
    let mut nowhere = BlobWriter::new(std::io::Cursor::new(Vec::new())).expect("writes to memory");
    convert(program, map, &mut WeightFiles::default(), &mut nowhere, true)
}

/// [`to_proto`]; with `dry_run` no weight is read or written (blob offsets are left 0).
fn convert<W: Write + Seek>(
    program: &Program,
    map: &SourceMap,
    weights: &mut dyn Weights,
    blobs: &mut BlobWriter<W>,
    dry_run: bool,
) -> Result<Converted, Vec<Diagnostic>> {
    let mut program = program.clone();
    let (kept, warnings) = kept_description(&mut program, map);
    mil_ir::canonical::canonicalize(&mut program);
    let mut targets = Vec::new();
    let mut diagnostics = Vec::new();
    for (i, f) in program.functions.iter().enumerate() {
        match target(&f.opset) {
            Some(t) => targets.push(t),
            None => diagnostics.push(error(
                codes::UNSUPPORTED_OPSET,
                map.functions.get(i).map(|s| s.opset).unwrap_or_default(),
                format!(
                    "opset `{}` has no Core ML version; use ios15, ios16, ios17, ios18 or ios26",
                    f.opset
                ),
            )),
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let specification_version = targets.iter().map(|t| t.specification_version).max().unwrap_or(6);
    let mut converter = Converter {
        specification_version,
        weights,
        blobs,
        dry_run,
        copied: HashMap::new(),
        diagnostics,
    };
    converter.copy_in_source_order(&program);
    let description = match &kept {
        Some(k) => k.decoded.clone(),
        None => converter.description(&program, map),
    };
    let mut functions = BTreeMap::new();
    for (i, (f, t)) in program.functions.iter().zip(&targets).enumerate() {
        let function = converter.function(f, map.functions.get(i), *t);
        functions.insert(f.name.clone(), function);
    }
    let attributes = converter.attributes(&program.attributes, map.program);
    if !converter.diagnostics.is_empty() {
        converter.diagnostics.extend(warnings);
        return Err(converter.diagnostics);
    }
    let model = Model {
        specification_version,
        description: Some(description),
        is_updatable: false,
        r#type: Some(spec::model::Type::MlProgram(mil::Program {
            version: 1,
            functions,
            doc_string: String::new(),
            attributes,
        })),
    };
    Ok(Converted {
        model,
        kept_description: kept.map(|k| k.raw),
        warnings,
    })
}

/// Takes the description kept from a decompiled package out of `program`'s attributes; returns it
/// when it still fits the program, else a warning saying why it is not used.
fn kept_description(
    program: &mut Program,
    map: &SourceMap,
) -> (Option<kept_description::Kept>, Vec<Diagnostic>) {
    let at = program
        .attributes
        .iter()
        .position(|a| &*a.key == kept_description::ATTRIBUTE);
    let why = match kept_description::take(program) {
        None => return (None, Vec::new()),
        Some(Ok(kept)) => match kept_description::mismatch(&kept.decoded, program) {
            None => return (Some(kept), Vec::new()),
            Some(why) => format!("it no longer fits the program: {why}"),
        },
        Some(Err(why)) => format!("it cannot be read: {why}"),
    };
    let span = at
        .and_then(|i| map.attributes.get(i))
        .map(|s| s.key)
        .unwrap_or_default();
    let warning = Diagnostic::new(
        codes::DESCRIPTION_NOT_KEPT,
        span,
        format!(
            "the model description kept from the decompiled package is not used ({why}); the \
             package gets one derived from the text, without its metadata, image inputs, \
             classifier outputs and feature descriptions"
        ),
    );
    (None, vec![warning])
}

/// A diagnostic that stops compilation, whatever its code's usual severity.
fn error(code: mil_ir::Code, span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        ..Diagnostic::new(code, span, message)
    }
}

struct Converter<'a, W: Write + Seek> {
    specification_version: i32,
    weights: &'a mut dyn Weights,
    blobs: &'a mut BlobWriter<W>,
    /// Only find the problems: read and write no weight.
    dry_run: bool,
    /// Source blob (path, offset) → its offset in the new weight file.
    copied: HashMap<(String, u64), u64>,
    diagnostics: Vec<Diagnostic>,
}

impl<W: Write + Seek> Converter<'_, W> {
    fn description(&mut self, program: &Program, map: &SourceMap) -> spec::ModelDescription {
        let mut description = spec::ModelDescription::default();
        for (i, f) in program.functions.iter().enumerate() {
            let features = match description::features(f, self.specification_version) {
                Ok(features) => features,
                Err((culprit, message)) => {
                    let spans = map.functions.get(i);
                    let span = match culprit {
                        description::Culprit::Param(p) => f
                            .params
                            .get(p)
                            .and_then(|id| spans?.values.get(id.index()))
                            .map(|s| s.name),
                        description::Culprit::Output(o) => {
                            spans.and_then(|s| s.blocks.get(f.body.index())?.outputs.get(o).copied())
                        }
                    };
                    self.diagnostics
                        .push(error(codes::NOT_A_FEATURE, span.unwrap_or_default(), message));
                    continue;
                }
            };
            if program.functions.len() == 1 {
                description.input = features.inputs;
                description.output = features.outputs;
                description.state = features.states;
            } else {
                description.functions.push(spec::FunctionDescription {
                    name: f.name.clone(),
                    input: features.inputs,
                    output: features.outputs,
                    state: features.states,
                    ..Default::default()
                });
            }
        }
        if program.functions.len() > 1 {
            description.default_function_name = description::default_function(program)
                .unwrap_or_default()
                .to_string();
        }
        description
    }

    fn function(&mut self, f: &Function, spans: Option<&FunctionSpans>, target: Target) -> mil::Function {
        let inputs = f.params.iter().map(|&id| self.named(f, spans, id)).collect();
        let body = self.block(f, spans, f.body);
        // The flexible shapes Apple's compiler recorded are the description's shape ranges.
        let mut attributes = f.attributes.clone();
        if description::FlexibleShapes::of(f).is_some() {
            attributes.retain(|a| &*a.key != description::FLEXIBLE_SHAPES);
        }
        mil::Function {
            inputs,
            opset: target.opset.into(),
            block_specializations: BTreeMap::from([(target.opset.to_string(), body)]),
            attributes: self.attributes(&attributes, spans.map(|s| s.whole).unwrap_or_default()),
        }
    }

    fn named(
        &mut self,
        f: &Function,
        spans: Option<&FunctionSpans>,
        id: mil_ir::ValueId,
    ) -> mil::NamedValueType {
        let value = f.value(id);
        let ty = value::value_type(&value.ty).unwrap_or_else(|message| {
            let span = spans.and_then(|s| s.values.get(id.index())).map(|s| s.ty);
            self.diagnostics
                .push(error(codes::NOT_STORABLE, span.unwrap_or_default(), message));
            mil::ValueType::default()
        });
        mil::NamedValueType {
            name: value.name.to_string(),
            r#type: Some(ty),
        }
    }

    fn block(&mut self, f: &Function, spans: Option<&FunctionSpans>, id: BlockId) -> mil::Block {
        let block = f.block(id);
        mil::Block {
            inputs: block.params.iter().map(|&p| self.named(f, spans, p)).collect(),
            outputs: block.outputs.iter().map(|o| o.name.to_string()).collect(),
            operations: block
                .ops
                .iter()
                .flat_map(|&op| self.operation(f, spans, op))
                .collect(),
            attributes: BTreeMap::new(),
        }
    }

    /// The operation `id`, after a `const` for each of its argument values that belongs in the
    /// weight file, unless it is a constexpr op (see [`Converter::lift`]).
    fn operation(&mut self, f: &Function, spans: Option<&FunctionSpans>, id: OpId) -> Vec<mil::Operation> {
        let op = f.op(id);
        let owner = match op.results.first() {
            Some(&r) => f.value(r).name.to_string(),
            None => op.kind.to_string(),
        };
        let mut operations = Vec::new();
        let op_spans = spans.and_then(|s| s.ops.get(id.index()));
        let span = op_spans.map(|s| s.whole).unwrap_or_default();
        let opset = op.opset.as_deref().unwrap_or(&f.opset);
        if let Err(LookupError::NotInOpset { first }) = catalogue::lookup(&op.kind, opset) {
            self.diagnostics.push(error(
                codes::OP_NOT_IN_OPSET,
                op_spans.map(|s| s.kind).unwrap_or_default(),
                format!("`{}` needs {first} or later; this function is {opset}", op.kind),
            ));
        }
        // coremltools binds a constexpr op's weight-file data directly (its loader takes them so);
        // every other op's, through a `const`.
        let lift = !op.kind.starts_with("constexpr_");
        let mut inputs = BTreeMap::new();
        for arg in &op.args {
            let Some(key) = &arg.key else {
                self.diagnostics.push(error(
                    codes::UNKEYED_ARGUMENT,
                    span,
                    format!(
                        "`{}` has a positional argument whose input name is not known; write `key = value`",
                        op.kind
                    ),
                ));
                continue;
            };
            let arguments = match &arg.value {
                Operand::Tuple(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, o)| self.bind(f, lift, o, format!("{owner}_{key}_{i}"), span, &mut operations))
                    .collect(),
                single => vec![self.bind(f, lift, single, format!("{owner}_{key}"), span, &mut operations)],
            };
            inputs.insert(key.to_string(), mil::Argument { arguments });
        }
        // A constexpr op defined from ios18 on (the version the function's opset uses) takes its
        // parameters as inputs, as coremltools writes them (`translate_constexpr`, by the op's own
        // `opset_version`); a text moved from ios17 may still spell them as attributes. Older
        // definitions (constexpr_affine_dequantize in an ios18 function) keep attributes.
        let defined_from = catalogue::lookup(&op.kind, opset)
            .ok()
            .and_then(|v| v.opsets.first().copied());
        let as_inputs = op.kind.starts_with("constexpr_") && defined_from.is_some_and(|o| o >= Opset::Ios18);
        let mut attributes = Vec::new();
        for attribute in &op.attributes {
            if !as_inputs || &*attribute.key == "name" {
                attributes.push(attribute.clone());
                continue;
            }
            let operand = Operand::Const(attribute.value.clone());
            let binding = self.bind(
                f,
                lift,
                &operand,
                format!("{owner}_{}", attribute.key),
                span,
                &mut operations,
            );
            inputs.insert(
                attribute.key.to_string(),
                mil::Argument {
                    arguments: vec![binding],
                },
            );
        }
        operations.push(mil::Operation {
            r#type: op.kind.to_string(),
            inputs,
            outputs: op.results.iter().map(|&r| self.named(f, spans, r)).collect(),
            blocks: op.blocks.iter().map(|&b| self.block(f, spans, b)).collect(),
            attributes: self.attributes(&attributes, span),
        });
        operations
    }

    /// The binding of `operand`: by the name of a `const` appended to `operations` (named from
    /// `name`, see [`Converter::lift`]) when `lift` and its value belongs in the weight file, else
    /// as it is.
    fn bind(
        &mut self,
        f: &Function,
        lift: bool,
        operand: &Operand,
        name: String,
        span: Span,
        operations: &mut Vec<mil::Operation>,
    ) -> argument::Binding {
        match operand {
            Operand::Const(value) if lift && self.belongs_in_weight_file(value) => argument::Binding {
                binding: Some(argument::binding::Binding::Name(
                    self.lift(f, value, name, span, operations),
                )),
            },
            _ => self.binding(operand, span),
        }
    }

    /// Whether `value` is written to the weight file rather than inline.
    fn belongs_in_weight_file(&self, value: &TypedValue) -> bool {
        match &value.data {
            ConstData::Blob(_) => true,
            ConstData::Tensor(elements) => value
                .ty
                .dtype()
                .is_some_and(|d| value::goes_to_weight_file(d, elements.len(), self.specification_version)),
            ConstData::Literal(_) => false,
        }
    }

    /// Appends to `operations` a `const` holding `value`, named `name` (made unique in `f`), and
    /// returns its name.
    ///
    /// A MIL text argument may hold a weight inline (`weight = tensor<fp16, [64, 64]>(BLOBFILE(…))`),
    /// but a program's argument bindings hold immediate values only: coremltools' loader refuses any
    /// other (`The value_spec should be immediateValue`), and what coremltools writes binds every
    /// weight by the name of a `const`.
    fn lift(
        &mut self,
        f: &Function,
        value: &TypedValue,
        mut name: String,
        span: Span,
        operations: &mut Vec<mil::Operation>,
    ) -> String {
        while f.lookup(&name).is_some() || operations.iter().any(|o| o.outputs[0].name == name) {
            name.push('_');
        }
        let ty = value::value_type(&value.ty).unwrap_or_default();
        let name_value = value::inline(&TypedValue::string(&name)).unwrap_or_default();
        let val = self.value(value, span);
        operations.push(mil::Operation {
            r#type: "const".into(),
            inputs: BTreeMap::new(),
            outputs: vec![mil::NamedValueType {
                name: name.clone(),
                r#type: Some(ty),
            }],
            blocks: Vec::new(),
            attributes: BTreeMap::from([("name".to_string(), name_value), ("val".to_string(), val)]),
        });
        name
    }

    fn binding(&mut self, operand: &Operand, span: Span) -> argument::Binding {
        let binding = match operand {
            Operand::Value(r) => argument::binding::Binding::Name(r.name.to_string()),
            Operand::Const(value) => argument::binding::Binding::Value(self.value(value, span)),
            Operand::Tuple(_) => {
                self.diagnostics.push(error(
                    codes::NOT_STORABLE,
                    span,
                    "a tuple inside a tuple argument cannot be bound",
                ));
                argument::binding::Binding::Name(String::new())
            }
        };
        argument::Binding {
            binding: Some(binding),
        }
    }

    fn attributes(&mut self, attributes: &[Attribute], span: Span) -> BTreeMap<String, mil::Value> {
        attributes
            .iter()
            .map(|a| (a.key.to_string(), self.value(&a.value, span)))
            .collect()
    }

    /// A value: inline, or in the weight file when coremltools would put it there or it already
    /// lives in one.
    fn value(&mut self, value: &TypedValue, span: Span) -> mil::Value {
        let converted = match &value.data {
            ConstData::Blob(blob) => self.copy_blob(value, blob),
            ConstData::Tensor(elements)
                if value.ty.dtype().is_some_and(|d| {
                    value::goes_to_weight_file(d, elements.len(), self.specification_version)
                }) =>
            {
                self.store_tensor(value, elements)
            }
            _ => value::inline(value).map_err(|m| (codes::NOT_STORABLE, m)),
        };
        converted.unwrap_or_else(|(code, message)| {
            self.diagnostics.push(error(code, span, message));
            mil::Value::default()
        })
    }

    fn store_tensor(
        &mut self,
        value: &TypedValue,
        elements: &mil_ir::Elements,
    ) -> Result<mil::Value, (mil_ir::Code, String)> {
        let dtype = value.ty.dtype().expect("checked by the caller");
        let bytes = crate::raw::encode(elements, dtype).ok_or_else(|| {
            (
                codes::NOT_STORABLE,
                format!("the elements do not match the type {}", value.ty),
            )
        })?;
        if self.dry_run {
            return self.blob_value(value, 0);
        }
        let offset = self
            .blobs
            .append_bytes(dtype, elements.len() as u64, &bytes)
            .map_err(|e| (codes::NOT_STORABLE, format!("writing the weight file: {e}")))?;
        self.blob_value(value, offset)
    }

    /// Copies the blob a BLOBFILE reference names into the new weight file (once per source blob).
    fn copy_blob(
        &mut self,
        value: &TypedValue,
        blob: &BlobRef,
    ) -> Result<mil::Value, (mil_ir::Code, String)> {
        let offset = self.copy_once(blob)?;
        self.blob_value(value, offset)
    }

    /// The offset in the new weight file of the blob `blob` names, copied there on first use.
    fn copy_once(&mut self, blob: &BlobRef) -> Result<u64, (mil_ir::Code, String)> {
        if self.dry_run {
            return Ok(0);
        }
        let key = (blob.path.clone(), blob.offset);
        if let Some(&offset) = self.copied.get(&key) {
            return Ok(offset);
        }
        let offset = copy_record(self.weights, blob, self.blobs)?;
        self.copied.insert(key, offset);
        Ok(offset)
    }

    /// Copies every blob the program's BLOBFILE references name before anything else, ordered by
    /// file and offset, so that a weight file written in one piece (a decompiled package's, or
    /// coremltools') keeps its layout and offsets. A blob that cannot be copied is reported where
    /// it is used.
    fn copy_in_source_order(&mut self, program: &Program) {
        let mut found: Vec<BlobRef> = Vec::new();
        let mut add = |v: &TypedValue| {
            if let ConstData::Blob(blob) = &v.data {
                found.push(blob.clone());
            }
        };
        for f in &program.functions {
            for op_id in f.walk_ops() {
                let op = f.op(op_id);
                for arg in &op.args {
                    match &arg.value {
                        Operand::Const(v) => add(v),
                        Operand::Tuple(items) => items.iter().for_each(|item| {
                            if let Operand::Const(v) = item {
                                add(v);
                            }
                        }),
                        Operand::Value(_) => {}
                    }
                }
                op.attributes.iter().for_each(|a| add(&a.value));
            }
            f.attributes.iter().for_each(|a| add(&a.value));
        }
        program.attributes.iter().for_each(|a| add(&a.value));
        found.sort_by(|a, b| (&a.path, a.offset).cmp(&(&b.path, b.offset)));
        found.dedup_by(|a, b| a.path == b.path && a.offset == b.offset);
        for blob in &found {
            let _ = self.copy_once(blob);
        }
    }

    fn blob_value(&self, value: &TypedValue, offset: u64) -> Result<mil::Value, (mil_ir::Code, String)> {
        Ok(mil::Value {
            doc_string: String::new(),
            r#type: Some(value::value_type(&value.ty).map_err(|m| (codes::NOT_STORABLE, m))?),
            value: Some(mil::value::Value::BlobFileValue(mil::value::BlobFileValue {
                file_name: WEIGHT_FILE_NAME.into(),
                offset,
            })),
        })
    }
}

/// Streams the blob `blob` names from `weights` into `blobs`, keeping its dtype, size and padding;
/// returns its new record's offset.
pub(crate) fn copy_record<W: Write + Seek>(
    weights: &mut dyn Weights,
    blob: &BlobRef,
    blobs: &mut BlobWriter<W>,
) -> Result<u64, (mil_ir::Code, String)> {
    let record = weights.record(blob)?;
    let elements = record.elements();
    if payload_size(record.dtype, elements) != Some(record.size) {
        return Err((
            mil_ir::codes::BLOB_BAD_RECORD,
            format!(
                "BLOBFILE offset {}: {} padding bits do not fit a {}-byte payload",
                blob.offset, record.padding_bits, record.size
            ),
        ));
    }
    let payload = weights.payload(blob)?;
    blobs
        .append(record.dtype, elements, payload)
        .map_err(|e| (codes::NOT_STORABLE, format!("writing the weight file: {e}")))
}

#[cfg(test)]
mod tests;
