//! Model proto → IR: what decompiling a package produces, the inverse of [`crate::to_proto`].
//!
//! - `program(1.3)` when some function is ios18 or newer (bare scalar types, `string("...")`),
//!   `program(1.0)` otherwise (`tensor<string, []>("...")`), as Apple's compiler writes them.
//! - Functions in the proto's order (by name); each function's opset from its `Function.opset`
//!   (`CoreML7` → ios17), its body from the block specialisation of that opset.
//! - Every op keeps its type, inputs (in key order; a tuple for several bindings, or for one binding
//!   of an input the catalogue knows as variadic), outputs, nested blocks and attributes (in key
//!   order): the order [`mil_ir::canonical::canonicalize`] gives them.
//! - Inline values become typed values (tensor elements, or literals for lists, tuples and dicts);
//!   weight-file values are copied blob by blob, in the order of their source file (so a package
//!   coremltools wrote keeps its offsets), into a new weight file, each checked against its declared
//!   type first (the MIL030x codes).
//! - Anything the text cannot say, or a proto that contradicts itself, is a [`codes::MALFORMED_MODEL`]
//!   error naming the function and op; an op newer than its function's opset is
//!   [`codes::OP_NOT_IN_OPSET`].

mod names;
pub mod value;

use crate::blob::BlobWriter;
use crate::blob_check::check_record;
use crate::codes;
use crate::mil::{self, argument::binding::Binding};
use crate::spec::{Model, model};
use crate::to_proto::{WEIGHT_FILE_NAME, copy_record, opset_of};
use mil_ir::catalogue::{self, InputKind, LookupError, Opset};
use mil_ir::program::is_identifier;
use mil_ir::weights::Weights;
use mil_ir::{
    Argument, Attribute, BlobRef, Block, BlockId, Code, ConstData, Diagnostic, Function, OpId, Operand,
    Operation, Program, Severity, Span, TypedValue, Value, ValueDef, ValueId, ValueRef,
};
use names::Names;
use std::collections::{BTreeMap, HashMap};
use std::io::{Seek, Write};

/// Converts `model` into a program. Weight-file values are resolved through `weights` (the folder
/// `@model_path` stands for) and copied into `blobs`; the program's BLOBFILE references name
/// `@model_path/weights/weight.bin` with the offsets in `blobs`. Returns every problem found when the
/// model cannot be converted; they are all errors.
pub fn from_proto<W: Write + Seek>(
    model: &Model,
    weights: &mut dyn Weights,
    blobs: &mut BlobWriter<W>,
) -> Result<Program, Vec<Diagnostic>> {
    from_proto_with_weights_at(model, weights, blobs, WEIGHT_FILE_NAME)
}

/// [`from_proto`], with the program's BLOBFILE references naming `weight_path` (a path relative to
/// the text's folder, `@model_path/NAME.weights/weight.bin`).
pub fn from_proto_with_weights_at<W: Write + Seek>(
    model: &Model,
    weights: &mut dyn Weights,
    blobs: &mut BlobWriter<W>,
    weight_path: &str,
) -> Result<Program, Vec<Diagnostic>> {
    let Some(model::Type::MlProgram(program)) = &model.r#type else {
        return Err(vec![malformed(
            "the model is not an ML program (mlProgram)".into(),
        )]);
    };
    let mut opsets = Vec::new();
    let mut diagnostics = Vec::new();
    for (name, f) in &program.functions {
        match opset_of(&f.opset) {
            Some(opset) => opsets.push(opset),
            None => diagnostics.push(malformed(format!(
                "function `{name}`: opset `{}` is not one of CoreML5..CoreML9",
                f.opset
            ))),
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let scalars = opsets.iter().any(|o| *o >= Opset::Ios18);
    let mut reader = Reader {
        scalars,
        weights,
        blobs,
        weight_path,
        copied: HashMap::new(),
        diagnostics,
        place: String::new(),
    };
    reader.copy_in_source_order(program);
    let functions = program
        .functions
        .iter()
        .zip(opsets)
        .map(|((name, f), opset)| reader.function(name, f, opset))
        .collect();
    reader.place = "the program".into();
    let attributes = reader.attributes(&program.attributes);
    if !reader.diagnostics.is_empty() {
        return Err(reader.diagnostics);
    }
    Ok(Program {
        version: if scalars { "1.3" } else { "1.0" }.into(),
        attributes,
        functions,
        comments: Vec::new(),
    })
}

fn malformed(message: String) -> Diagnostic {
    Diagnostic::new(codes::MALFORMED_MODEL, Span::default(), message)
}

/// The string of an op's `name` attribute, read before the attributes are converted.
fn op_name(op: &mil::Operation) -> Option<&str> {
    use mil::{tensor_value::Value as T, value::Value as V, value::immediate_value::Value as I};
    let Some(V::ImmediateValue(i)) = &op.attributes.get("name")?.value else {
        return None;
    };
    let Some(I::Tensor(t)) = &i.value else {
        return None;
    };
    let Some(T::Strings(s)) = &t.value else {
        return None;
    };
    s.values.first().map(String::as_str)
}

struct Reader<'a, W: Write + Seek> {
    /// Rank-0 types are bare dtypes (program(1.3)).
    scalars: bool,
    weights: &'a mut dyn Weights,
    blobs: &'a mut BlobWriter<W>,
    /// What the program's BLOBFILE references name.
    weight_path: &'a str,
    /// Source blob (file name, offset) → its offset in the new weight file.
    copied: HashMap<(String, u64), u64>,
    diagnostics: Vec<Diagnostic>,
    /// Where the reader is, for messages: "function `main`, op `conv_0`".
    place: String,
}

/// A function under construction: the arenas and the names defined so far.
struct Builder {
    f: Function,
    /// The proto's name → its latest value (whose name in the text may differ).
    scope: HashMap<String, ValueId>,
    names: Names,
}

impl<W: Write + Seek> Reader<'_, W> {
    fn error(&mut self, code: Code, message: impl std::fmt::Display) {
        self.diagnostics.push(Diagnostic {
            severity: Severity::Error,
            ..Diagnostic::new(code, Span::default(), format!("{}: {message}", self.place))
        });
    }

    fn function(&mut self, name: &str, proto: &mil::Function, opset: Opset) -> Function {
        self.place = format!("function `{name}`");
        if !is_identifier(name) {
            self.error(codes::MALFORMED_MODEL, "the name is not a MIL identifier");
        }
        let mut b = Builder {
            f: Function {
                name: name.into(),
                opset: opset.name().into(),
                ..Function::default()
            },
            scope: HashMap::new(),
            names: Names::new(proto),
        };
        for (i, input) in proto.inputs.iter().enumerate() {
            let id = self.define(&mut b, input, ValueDef::Param(i as u32));
            b.f.params.push(id);
        }
        let body = match proto.block_specializations.get(&proto.opset) {
            Some(body) if proto.block_specializations.len() == 1 => body.clone(),
            _ => {
                self.error(
                    codes::MALFORMED_MODEL,
                    format!(
                        "expected one block specialization, for {}; found {:?}",
                        proto.opset,
                        proto.block_specializations.keys().collect::<Vec<_>>()
                    ),
                );
                mil::Block::default()
            }
        };
        b.f.body = self.block(&mut b, &body, None);
        self.place = format!("function `{name}`");
        b.f.attributes = self.attributes(&proto.attributes);
        b.f.recompute_uses();
        b.f
    }

    /// Adds a value the proto calls `named.name` with its type to the function and the scope; its
    /// name in the text is unique in the function ([`names`]).
    fn define(&mut self, b: &mut Builder, named: &mil::NamedValueType, def: ValueDef) -> ValueId {
        if !is_identifier(&named.name) {
            self.error(
                codes::MALFORMED_MODEL,
                format!("value name `{}` is not a MIL identifier", named.name),
            );
        }
        let ty = self.value_type(named.r#type.as_ref(), &named.name);
        let name = b.names.text_name(&b.f, &named.name, def);
        let id = b.f.push_value(Value {
            name: name.as_str().into(),
            ty,
            def,
            uses: Vec::new(),
        });
        b.scope.insert(named.name.clone(), id);
        b.f.symbols.insert(name.into(), id);
        id
    }

    fn value_type(&mut self, ty: Option<&mil::ValueType>, what: &str) -> mil_ir::Type {
        ty.ok_or_else(|| "no type".to_string())
            .and_then(|ty| value::value_type(ty, self.scalars))
            .unwrap_or_else(|e| {
                self.error(codes::MALFORMED_MODEL, format!("`{what}`: {e}"));
                mil_ir::Type::Invalid(String::new())
            })
    }

    fn reference(&mut self, b: &Builder, name: &str) -> ValueRef {
        let id = b.scope.get(name).copied();
        if id.is_none() {
            self.error(
                codes::MALFORMED_MODEL,
                format!("`{name}` is used but not defined before"),
            );
        }
        ValueRef {
            name: id.map_or(name, |id| &b.f.value(id).name).into(),
            id,
        }
    }

    fn block(&mut self, b: &mut Builder, proto: &mil::Block, parent: Option<OpId>) -> BlockId {
        let place = self.place.clone();
        let id = b.f.push_block(Block {
            parent,
            ..Block::default()
        });
        if !proto.attributes.is_empty() {
            self.error(codes::MALFORMED_MODEL, "block attributes have no MIL text form");
        }
        for (i, input) in proto.inputs.iter().enumerate() {
            let param = self.define(b, input, ValueDef::BlockParam(id, i as u32));
            b.f.blocks[id.index()].params.push(param);
        }
        for op in &proto.operations {
            let op = self.operation(b, op, id);
            b.f.blocks[id.index()].ops.push(op);
        }
        self.place = place;
        let outputs = proto.outputs.iter().map(|name| self.reference(b, name)).collect();
        b.f.blocks[id.index()].outputs = outputs;
        id
    }

    fn operation(&mut self, b: &mut Builder, proto: &mil::Operation, parent: BlockId) -> OpId {
        let function_place = format!("function `{}`", b.f.name);
        let name = op_name(proto).map_or_else(|| format!("#{}", b.f.ops.len()), str::to_string);
        self.place = format!("{function_place}, op `{name}` ({})", proto.r#type);
        if !is_identifier(&proto.r#type) {
            self.error(codes::MALFORMED_MODEL, "the op type is not a MIL identifier");
        }
        if let Err(LookupError::NotInOpset { first }) = catalogue::lookup(&proto.r#type, &b.f.opset) {
            self.error(
                codes::OP_NOT_IN_OPSET,
                format!(
                    "`{}` needs {first} or later; this function is {}",
                    proto.r#type, b.f.opset
                ),
            );
        }
        let variadic: Vec<&str> = catalogue::lookup(&proto.r#type, &b.f.opset)
            .map(|v| {
                v.inputs
                    .iter()
                    .filter(|i| i.kind == InputKind::Tuple)
                    .map(|i| i.name)
                    .collect()
            })
            .unwrap_or_default();
        let mut args = Vec::with_capacity(proto.inputs.len());
        for (key, argument) in &proto.inputs {
            if !is_identifier(key) {
                self.error(
                    codes::MALFORMED_MODEL,
                    format!("input key `{key}` is not a MIL identifier"),
                );
            }
            let mut items: Vec<Operand> = argument.arguments.iter().map(|a| self.binding(b, a)).collect();
            let value = match items.len() {
                1 if !variadic.contains(&key.as_str()) => items.pop().expect("one item"),
                0 => {
                    self.error(
                        codes::MALFORMED_MODEL,
                        format!("input `{key}` is bound to nothing"),
                    );
                    Operand::Tuple(items)
                }
                _ => Operand::Tuple(items),
            };
            args.push(Argument {
                key: Some(key.as_str().into()),
                value,
            });
        }
        let id = OpId(b.f.ops.len() as u32);
        let results = proto
            .outputs
            .iter()
            .enumerate()
            .map(|(i, o)| self.define(b, o, ValueDef::Result(id, i as u32)))
            .collect();
        b.f.push_op(Operation {
            kind: proto.r#type.as_str().into(),
            opset: None,
            args,
            attributes: Vec::new(),
            results,
            blocks: Vec::new(),
            parent,
            comments: Vec::new(),
        });
        let blocks = proto
            .blocks
            .iter()
            .map(|block| self.block(b, block, Some(id)))
            .collect();
        let attributes = self.attributes(&proto.attributes);
        let op = &mut b.f.ops[id.index()];
        op.blocks = blocks;
        op.attributes = attributes;
        id
    }

    fn binding(&mut self, b: &Builder, binding: &mil::argument::Binding) -> Operand {
        match &binding.binding {
            Some(Binding::Name(name)) => Operand::Value(self.reference(b, name)),
            Some(Binding::Value(value)) => Operand::Const(self.value(value, "an inline argument")),
            None => {
                self.error(
                    codes::MALFORMED_MODEL,
                    "an input binding that is neither a name nor a value",
                );
                Operand::Tuple(Vec::new())
            }
        }
    }

    fn attributes(&mut self, attributes: &BTreeMap<String, mil::Value>) -> Vec<Attribute> {
        attributes
            .iter()
            .map(|(key, value)| {
                if !is_identifier(key) {
                    self.error(
                        codes::MALFORMED_MODEL,
                        format!("attribute key `{key}` is not a MIL identifier"),
                    );
                }
                Attribute {
                    key: key.as_str().into(),
                    value: self.value(value, key),
                }
            })
            .collect()
    }

    /// A typed value: inline contents, or a blob copied into the new weight file.
    fn value(&mut self, value: &mil::Value, what: &str) -> TypedValue {
        let ty = self.value_type(value.r#type.as_ref(), what);
        let data = match &value.value {
            Some(mil::value::Value::ImmediateValue(i)) => value::immediate(&ty, i).unwrap_or_else(|e| {
                self.error(codes::MALFORMED_MODEL, format!("`{what}`: {e}"));
                ConstData::Literal(mil_ir::Literal::List(Vec::new()))
            }),
            Some(mil::value::Value::BlobFileValue(blob)) => self.copy_blob(&ty, blob),
            None => {
                self.error(codes::MALFORMED_MODEL, format!("`{what}` has no contents"));
                ConstData::Literal(mil_ir::Literal::List(Vec::new()))
            }
        };
        TypedValue { ty, data }
    }

    /// Copies every blob the program's values name into the new weight file before anything else,
    /// ordered by source file and offset, so that a weight file written in one piece (as coremltools
    /// writes it) keeps its layout and offsets. A blob that cannot be copied is left to
    /// [`Reader::copy_blob`], which reports it where it is used.
    fn copy_in_source_order(&mut self, program: &mil::Program) {
        let mut found = Vec::new();
        for f in program.functions.values() {
            for body in f.block_specializations.values() {
                block_blobs(body, &mut found);
            }
            values_blobs(f.attributes.values(), &mut found);
        }
        values_blobs(program.attributes.values(), &mut found);
        found.sort_by(|a, b| (&a.1.file_name, a.1.offset).cmp(&(&b.1.file_name, b.1.offset)));
        found.dedup_by(|a, b| a.1 == b.1);
        for (ty, blob) in found {
            if let Ok(ty) = value::value_type(ty, self.scalars) {
                let _ = self.copy_once(&ty, blob);
            }
        }
    }

    /// The offset in the new weight file of the blob `blob` names, copied there on first use after
    /// its record is checked against `ty`.
    fn copy_once(
        &mut self,
        ty: &mil_ir::Type,
        blob: &mil::value::BlobFileValue,
    ) -> Result<u64, (Code, String)> {
        let key = (blob.file_name.clone(), blob.offset);
        if let Some(&offset) = self.copied.get(&key) {
            return Ok(offset);
        }
        let source = BlobRef {
            path: blob.file_name.clone(),
            offset: blob.offset,
            rank0_spelling: false,
        };
        let declared = TypedValue {
            ty: ty.clone(),
            data: ConstData::Blob(source.clone()),
        };
        check_record(self.weights, &declared, &source)?;
        let offset = copy_record(self.weights, &source, self.blobs)?;
        self.copied.insert(key, offset);
        Ok(offset)
    }

    /// Checks the blob a weight-file value names against its type and copies it (once per source
    /// blob) into the new weight file.
    fn copy_blob(&mut self, ty: &mil_ir::Type, blob: &mil::value::BlobFileValue) -> ConstData {
        let offset = self.copy_once(ty, blob).unwrap_or_else(|(code, message)| {
            self.error(code, message);
            0
        });
        ConstData::Blob(BlobRef {
            path: self.weight_path.into(),
            offset,
            rank0_spelling: !self.scalars,
        })
    }
}

/// The weight-file values of `block` and the blocks nested in it, with their types.
fn block_blobs<'a>(
    block: &'a mil::Block,
    found: &mut Vec<(&'a mil::ValueType, &'a mil::value::BlobFileValue)>,
) {
    for op in &block.operations {
        let bound = op
            .inputs
            .values()
            .flat_map(|a| &a.arguments)
            .filter_map(|b| match &b.binding {
                Some(Binding::Value(v)) => Some(v),
                _ => None,
            });
        values_blobs(bound.chain(op.attributes.values()), found);
        for nested in &op.blocks {
            block_blobs(nested, found);
        }
    }
}

/// The weight-file values among `values`, with their types.
fn values_blobs<'a>(
    values: impl Iterator<Item = &'a mil::Value>,
    found: &mut Vec<(&'a mil::ValueType, &'a mil::value::BlobFileValue)>,
) {
    for v in values {
        if let (Some(ty), Some(mil::value::Value::BlobFileValue(blob))) = (&v.r#type, &v.value) {
            found.push((ty, blob));
        }
    }
}

#[cfg(test)]
mod tests;
