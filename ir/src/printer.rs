//! The canonical MIL printer: programs in exactly the layout Apple's compiler writes into `model.mil`.
//!
//! ```text
//! program(1.3)
//! [buildInfo = dict<string, string>({{"coremlc-version", "3505.4.1"}})]
//! {
//!     func main<ios18>(tensor<fp32, [2]> x) {
//!             tensor<fp32, [2]> y = relu(x = x)[name = string("y")];
//!         } -> (y);
//! }
//! ```
//!
//! - `func` is indented 4 spaces, statements 12 and the closing `} -> (...);` 8; one statement per
//!   line; no newline after the final `}`. Each function starts on its own line.
//! - A statement is `TYPE name, ... = kind<opset>(key = operand, ...)[key = value, ...]` and `;`;
//!   without outputs it starts at the op, and the attribute block is left out when there are no
//!   attributes. Arguments and attributes print in the order the IR holds them; putting them in
//!   compiler order is [`crate::canonical::canonicalize`]'s job.
//! - Tensor elements nest by the declared shape when their count matches it (a rank-0 tensor or a
//!   bare scalar prints its one element without brackets) and print as one flat list otherwise.
//!   Floats of every width print as C99 hex floats ([`crate::float::format_hex`]), integers in decimal.
//! - Strings are quoted; `"` and `\` are escaped with a backslash, newline, tab and carriage return
//!   as `\n`, `\t` and `\r`, and every other ASCII control character (U+0000–U+001F, U+007F) as
//!   `\xHH` with two lower-case hex digits. Everything else, including non-ASCII text, is written
//!   as it is.
//! - `//` comments kept in the IR print on their own lines, indented like what follows them.
//! - Nested blocks of control-flow ops print after the op's attribute block, one `block(...) {`
//!   header per block; see `docs/control-flow.md`.

use std::fmt::{Display, Write};

use crate::constant::{BlobRef, ConstData, Elements, Literal, TypedValue};
use crate::float::write_hex;
use crate::program::{Attribute, BlockId, Function, OpId, Operand, Program, ValueId};
use crate::types::Dim;

/// How far `func` is indented.
const FUNC_INDENT: usize = 4;
/// How far a block's statements sit right of its header line (`func ...` or `block(...)`).
const STATEMENT_STEP: usize = 8;
/// How far a block's closing `} -> (...)` sits right of its header line.
const CLOSING_STEP: usize = 4;
/// How far a nested block's header sits right of the statement of its op.
const NESTED_BLOCK_STEP: usize = 4;

/// Prints a whole program in canonical layout.
pub fn print_program(p: &Program) -> String {
    let ops: usize = p.functions.iter().map(|f| f.ops.len()).sum();
    let mut out = String::with_capacity(256 + ops * 160);
    write_program(&mut out, p);
    out
}

/// Prints one statement, from its outputs (or op kind) to its closing `;`, without its comments.
///
/// `indent` is the indentation of the line the statement starts on; the statement itself starts
/// without it (so the text can replace the statement's span), while the lines of nested blocks
/// are indented relative to it.
pub fn print_operation(f: &Function, op: OpId, indent: usize) -> String {
    let mut out = String::new();
    write_statement(&mut out, f, op, indent);
    out
}

/// Prints a typed value: `tensor<int32, [2]>([1, 1])`, `string("valid")`.
pub fn print_typed_value(v: &TypedValue) -> String {
    let mut out = String::new();
    write_typed_value(&mut out, v);
    out
}

/// Prints a raw literal as it appears inside a value body: `[1, 2]`, `{{"k", 0}}`, `("a", 1)`.
pub fn print_literal(l: &Literal) -> String {
    let mut out = String::new();
    write_literal(&mut out, l);
    out
}

fn write_program(out: &mut String, p: &Program) {
    write_comments(out, &p.comments, 0);
    out.push_str("program(");
    out.push_str(&p.version);
    out.push_str(")\n");
    if !p.attributes.is_empty() {
        write_attribute_block(out, &p.attributes);
        out.push('\n');
    }
    out.push_str("{\n");
    for f in &p.functions {
        write_function(out, f);
        out.push('\n');
    }
    out.push('}');
}

fn write_function(out: &mut String, f: &Function) {
    write_comments(out, &f.comments, FUNC_INDENT);
    push_indent(out, FUNC_INDENT);
    out.push_str("func ");
    out.push_str(&f.name);
    out.push('<');
    out.push_str(&f.opset);
    out.push('>');
    write_params(out, f, &f.params);
    if !f.attributes.is_empty() {
        out.push(' ');
        write_attribute_block(out, &f.attributes);
    }
    out.push_str(" {\n");
    write_block_rest(out, f, f.body, FUNC_INDENT);
    out.push(';');
}

/// Writes `(TYPE a, TYPE b)`.
fn write_params(out: &mut String, f: &Function, params: &[ValueId]) {
    out.push('(');
    write_joined(out, params, |out, &id| {
        let v = f.value(id);
        push_display(out, &v.ty);
        out.push(' ');
        out.push_str(&v.name);
    });
    out.push(')');
}

/// Writes a block after its header's `{`: its statements, its trailing comments and the closing
/// `} -> (outputs)`, without anything after the `)`. `header` is the header line's indentation.
fn write_block_rest(out: &mut String, f: &Function, block: BlockId, header: usize) {
    let b = f.block(block);
    let indent = header + STATEMENT_STEP;
    for &op in &b.ops {
        write_comments(out, &f.op(op).comments, indent);
        push_indent(out, indent);
        write_statement(out, f, op, indent);
        out.push('\n');
    }
    write_comments(out, &b.trailing_comments, indent);
    push_indent(out, header + CLOSING_STEP);
    out.push_str("} -> (");
    write_joined(out, &b.outputs, |out, r| out.push_str(&r.name));
    out.push(')');
}

fn write_statement(out: &mut String, f: &Function, op_id: OpId, indent: usize) {
    let op = f.op(op_id);
    if !op.results.is_empty() {
        write_joined(out, &op.results, |out, &id| {
            let v = f.value(id);
            push_display(out, &v.ty);
            out.push(' ');
            out.push_str(&v.name);
        });
        out.push_str(" = ");
    }
    out.push_str(&op.kind);
    if let Some(opset) = &op.opset {
        out.push('<');
        out.push_str(opset);
        out.push('>');
    }
    out.push('(');
    write_joined(out, &op.args, |out, a| {
        if let Some(key) = &a.key {
            out.push_str(key);
            out.push_str(" = ");
        }
        write_operand(out, &a.value);
    });
    out.push(')');
    if !op.attributes.is_empty() {
        write_attribute_block(out, &op.attributes);
    }
    let header = indent + NESTED_BLOCK_STEP;
    for &block in &op.blocks {
        out.push('\n');
        push_indent(out, header);
        out.push_str("block");
        write_params(out, f, &f.block(block).params);
        out.push_str(" {\n");
        write_block_rest(out, f, block, header);
    }
    out.push(';');
}

fn write_operand(out: &mut String, operand: &Operand) {
    match operand {
        Operand::Value(r) => out.push_str(&r.name),
        Operand::Const(v) => write_typed_value(out, v),
        Operand::Tuple(items) => {
            out.push('(');
            write_joined(out, items, write_operand);
            out.push(')');
        }
    }
}

/// Writes `[key = value, ...]`.
fn write_attribute_block(out: &mut String, attributes: &[Attribute]) {
    out.push('[');
    write_joined(out, attributes, |out, a| {
        out.push_str(&a.key);
        out.push_str(" = ");
        write_typed_value(out, &a.value);
    });
    out.push(']');
}

fn write_typed_value(out: &mut String, v: &TypedValue) {
    push_display(out, &v.ty);
    out.push('(');
    match &v.data {
        ConstData::Tensor(elements) => {
            let shape =
                v.ty.shape()
                    .filter(|_| v.ty.element_count() == Some(elements.len() as u64));
            write_elements(out, elements, shape);
        }
        ConstData::Blob(blob) => write_blob(out, blob),
        ConstData::Literal(l) => write_literal(out, l),
    }
    out.push(')');
}

/// Writes tensor elements nested by `shape` (whose dims are all known and multiply to the element
/// count), or as one flat list when there is no such shape.
fn write_elements(out: &mut String, elements: &Elements, shape: Option<&[Dim]>) {
    match elements {
        Elements::F16(v) => write_tensor_body(out, v, shape, |out, x| write_float(out, f64::from(*x))),
        Elements::Bf16(v) => write_tensor_body(out, v, shape, |out, x| write_float(out, f64::from(*x))),
        Elements::F32(v) => write_tensor_body(out, v, shape, |out, x| write_float(out, f64::from(*x))),
        Elements::F64(v) => write_tensor_body(out, v, shape, |out, x| write_float(out, *x)),
        Elements::Int(v) => write_tensor_body(out, v, shape, |out, x| push_display(out, x)),
        Elements::UInt(v) => write_tensor_body(out, v, shape, |out, x| push_display(out, x)),
        Elements::Bool(v) => write_tensor_body(out, v, shape, |out, x| write_bool(out, *x)),
        Elements::Str(v) => write_tensor_body(out, v, shape, |out, x| write_quoted(out, x)),
    }
}

fn write_tensor_body<T>(
    out: &mut String,
    items: &[T],
    shape: Option<&[Dim]>,
    each: impl Fn(&mut String, &T) + Copy,
) {
    match shape {
        Some(dims) => write_nested(out, items, dims, each),
        None => {
            out.push('[');
            write_joined(out, items, each);
            out.push(']');
        }
    }
}

/// Writes `items` as nested lists of `dims`; a rank-0 shape writes the single element bare.
fn write_nested<T>(out: &mut String, items: &[T], dims: &[Dim], each: impl Fn(&mut String, &T) + Copy) {
    let Some((first, rest)) = dims.split_first() else {
        each(out, &items[0]);
        return;
    };
    out.push('[');
    if rest.is_empty() {
        write_joined(out, items, each);
    } else {
        let stride: usize = rest.iter().map(|&d| known(d)).product();
        for row in 0..known(*first) {
            if row > 0 {
                out.push_str(", ");
            }
            write_nested(out, &items[row * stride..(row + 1) * stride], rest, each);
        }
    }
    out.push(']');
}

/// The size of a dim that [`write_typed_value`] has already found to be known.
fn known(d: Dim) -> usize {
    match d {
        Dim::Known(n) => n as usize,
        Dim::Unknown => unreachable!("a shape with an unknown dim has no element count"),
    }
}

fn write_blob(out: &mut String, blob: &BlobRef) {
    let (path_ty, offset_ty) = if blob.rank0_spelling {
        ("tensor<string, []>", "tensor<uint64, []>")
    } else {
        ("string", "uint64")
    };
    out.push_str("BLOBFILE(path = ");
    out.push_str(path_ty);
    out.push('(');
    write_quoted(out, &blob.path);
    out.push_str("), offset = ");
    out.push_str(offset_ty);
    out.push('(');
    push_display(out, blob.offset);
    out.push_str("))");
}

fn write_literal(out: &mut String, l: &Literal) {
    match l {
        Literal::Number(lexeme) => out.push_str(lexeme),
        Literal::Str(s) => write_quoted(out, s),
        Literal::Bool(b) => write_bool(out, *b),
        Literal::List(items) => {
            out.push('[');
            write_joined(out, items, write_literal);
            out.push(']');
        }
        Literal::Dict(entries) => {
            out.push('{');
            write_joined(out, entries, |out, (k, v)| {
                out.push('{');
                write_literal(out, k);
                out.push_str(", ");
                write_literal(out, v);
                out.push('}');
            });
            out.push('}');
        }
        Literal::Tuple(items) => {
            out.push('(');
            write_joined(out, items, write_literal);
            out.push(')');
        }
    }
}

fn write_float(out: &mut String, x: f64) {
    write_hex(out, x).expect("writing to a String cannot fail");
}

fn write_bool(out: &mut String, b: bool) {
    out.push_str(if b { "true" } else { "false" });
}

/// Writes `s` in double quotes with the escapes described in the module documentation.
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[plain..i]);
        if escape.is_empty() {
            push_display(out, format_args!("\\x{b:02x}"));
        } else {
            out.push_str(escape);
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// Writes the items separated by `, `.
fn write_joined<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        each(out, item);
    }
}

fn write_comments(out: &mut String, comments: &[String], indent: usize) {
    for c in comments {
        push_indent(out, indent);
        out.push_str(c);
        out.push('\n');
    }
}

fn push_indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

fn push_display(out: &mut String, x: impl Display) {
    // Writing into a `String` cannot fail.
    let _ = write!(out, "{x}");
}

/// Builds functions and programs by hand for the tests of the printer and the canonicaliser.
#[cfg(test)]
pub(crate) mod testing {
    use crate::constant::{ConstData, Elements, Literal, TypedValue};
    use crate::program::{
        Argument, Attribute, Block, BlockId, Function, OpId, Operand, Operation, Program, Value, ValueDef,
        ValueId, ValueRef,
    };
    use crate::types::{DType, Type};

    /// A function under construction; names resolve to the values defined so far.
    pub(crate) struct Builder {
        f: Function,
    }

    impl Builder {
        /// `func name<opset>` with an empty body.
        pub(crate) fn new(name: &str, opset: &str) -> Builder {
            let mut f = Function {
                name: name.into(),
                opset: opset.into(),
                ..Function::default()
            };
            f.body = f.push_block(Block::default());
            Builder { f }
        }

        /// The function body.
        pub(crate) fn body(&self) -> BlockId {
            self.f.body
        }

        /// The function under construction, for setting attributes and comments.
        pub(crate) fn function(&mut self) -> &mut Function {
            &mut self.f
        }

        /// Adds a parameter.
        pub(crate) fn param(&mut self, ty: Type, name: &str) -> ValueId {
            let id = self.define(ty, name, ValueDef::Param(self.f.params.len() as u32));
            self.f.params.push(id);
            id
        }

        /// Appends `outputs = kind(args)[attributes];` to `block`.
        pub(crate) fn op(
            &mut self,
            block: BlockId,
            outputs: &[(Type, &str)],
            kind: &str,
            args: Vec<Argument>,
            attributes: Vec<Attribute>,
        ) -> OpId {
            let id = OpId(self.f.ops.len() as u32);
            let results = outputs
                .iter()
                .enumerate()
                .map(|(i, (ty, name))| self.define(ty.clone(), name, ValueDef::Result(id, i as u32)))
                .collect();
            self.f
                .push_op(Operation::new(kind.into(), args, attributes, results, block));
            self.f.blocks[block.index()].ops.push(id);
            id
        }

        /// The operation `id`, for setting its opset and comments.
        pub(crate) fn op_mut(&mut self, id: OpId) -> &mut Operation {
            &mut self.f.ops[id.index()]
        }

        /// Adds a nested block with parameters to `op`.
        pub(crate) fn block(&mut self, op: OpId, params: &[(Type, &str)]) -> BlockId {
            let id = self.f.push_block(Block {
                parent: Some(op),
                ..Block::default()
            });
            for (i, (ty, name)) in params.iter().enumerate() {
                let v = self.define(ty.clone(), name, ValueDef::BlockParam(id, i as u32));
                self.f.blocks[id.index()].params.push(v);
            }
            self.f.ops[op.index()].blocks.push(id);
            id
        }

        /// Sets the outputs of `block`.
        pub(crate) fn outputs(&mut self, block: BlockId, names: &[&str]) {
            self.f.blocks[block.index()].outputs = names.iter().map(|n| self.reference(n)).collect();
        }

        /// The argument `key = name`.
        pub(crate) fn arg(&self, key: &str, name: &str) -> Argument {
            keyed(key, self.var(name))
        }

        /// The value called `name` as an operand.
        pub(crate) fn var(&self, name: &str) -> Operand {
            Operand::Value(self.reference(name))
        }

        /// The finished function, with its use lists.
        pub(crate) fn finish(mut self) -> Function {
            self.f.recompute_uses();
            self.f
        }

        fn reference(&self, name: &str) -> ValueRef {
            ValueRef {
                name: name.into(),
                id: self.f.lookup(name),
            }
        }

        fn define(&mut self, ty: Type, name: &str, def: ValueDef) -> ValueId {
            let id = self.f.push_value(Value {
                name: name.into(),
                ty,
                def,
                uses: Vec::new(),
            });
            self.f.symbols.entry(name.into()).or_insert(id);
            id
        }
    }

    /// A program of the given version.
    pub(crate) fn program(version: &str, attributes: Vec<Attribute>, functions: Vec<Function>) -> Program {
        Program {
            version: version.into(),
            attributes,
            functions,
            comments: Vec::new(),
        }
    }

    /// `key = operand`.
    pub(crate) fn keyed(key: &str, value: Operand) -> Argument {
        Argument {
            key: Some(key.into()),
            value,
        }
    }

    /// A positional argument.
    pub(crate) fn positional(value: Operand) -> Argument {
        Argument { key: None, value }
    }

    /// `key = value` in an attribute block.
    pub(crate) fn attr(key: &str, value: TypedValue) -> Attribute {
        Attribute {
            key: key.into(),
            value,
        }
    }

    /// `name = string("name")`.
    pub(crate) fn name(name: &str) -> Attribute {
        attr("name", TypedValue::string(name))
    }

    /// `name = tensor<string, []>("name")`, the program(1.0) spelling.
    pub(crate) fn name_rank0(name: &str) -> Attribute {
        attr(
            "name",
            tensor(DType::String, &[], Elements::Str(vec![name.into()])),
        )
    }

    /// `tensor<dtype, shape>(elements)`.
    pub(crate) fn tensor(dtype: DType, shape: &[u64], elements: Elements) -> TypedValue {
        TypedValue {
            ty: Type::tensor(dtype, shape),
            data: ConstData::Tensor(elements),
        }
    }

    /// A bare scalar `dtype(element)`.
    pub(crate) fn scalar(dtype: DType, elements: Elements) -> TypedValue {
        TypedValue {
            ty: Type::Scalar(dtype),
            data: ConstData::Tensor(elements),
        }
    }

    /// `ty(literal)`.
    pub(crate) fn literal(ty: Type, literal: Literal) -> TypedValue {
        TypedValue {
            ty,
            data: ConstData::Literal(literal),
        }
    }

    /// A number literal.
    pub(crate) fn num(lexeme: &str) -> Literal {
        Literal::Number(lexeme.into())
    }

    /// A string literal.
    pub(crate) fn text(s: &str) -> Literal {
        Literal::Str(s.into())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::program::Argument;
    use crate::types::{DType, Type};
    use expect_test::expect;
    use half::{bf16, f16};

    fn rank0(dtype: DType) -> Type {
        Type::tensor(dtype, &[])
    }

    fn strings(items: &[(&str, &str)]) -> Literal {
        Literal::Dict(items.iter().map(|(k, v)| (text(k), text(v))).collect())
    }

    /// corpus/004_fa_transpose.mil rebuilt by hand: program(1.0) spellings, `?` dims and the
    /// FlexibleShapeInformation tuple literal.
    #[test]
    fn prints_program_1_0_with_flexible_shapes() {
        let s = rank0(DType::String);
        let build_info = literal(
            Type::Dict(Box::new(s.clone()), Box::new(s.clone())),
            strings(&[
                ("coremlc-component-MIL", "3405.2.1"),
                ("coremlc-version", "3404.23.1"),
                ("coremltools-component-torch", "2.7.1"),
                ("coremltools-source-dialect", "TorchScript"),
                ("coremltools-version", "8.3.0"),
            ]),
        );
        let flexible_ty = Type::Tuple(vec![
            Type::Tuple(vec![
                s.clone(),
                Type::Dict(
                    Box::new(s.clone()),
                    Box::new(Type::Tensor {
                        dtype: DType::Int32,
                        shape: vec![Dim::Unknown],
                    }),
                ),
            ]),
            Type::Tuple(vec![
                s.clone(),
                Type::Dict(
                    Box::new(s.clone()),
                    Box::new(Type::List(
                        Box::new(Type::tensor(DType::Int32, &[2])),
                        Dim::Unknown,
                    )),
                ),
            ]),
        ]);
        let ints = |xs: &[&str]| Literal::List(xs.iter().map(|x| num(x)).collect());
        let flexible = Literal::Tuple(vec![
            Literal::Tuple(vec![
                text("DefaultShapes"),
                Literal::Dict(vec![(text("x"), ints(&["1", "1", "1"]))]),
            ]),
            Literal::Tuple(vec![
                text("RangeDims"),
                Literal::Dict(vec![(
                    text("x"),
                    Literal::List(vec![
                        ints(&["1", "1"]),
                        ints(&["1", "2048"]),
                        ints(&["1", "2048"]),
                    ]),
                )]),
            ]),
        ]);
        let flexible_x = Type::Tensor {
            dtype: DType::Fp16,
            shape: vec![Dim::Known(1), Dim::Unknown, Dim::Unknown],
        };
        let mut b = Builder::new("main", "ios16");
        b.param(flexible_x.clone(), "x");
        b.function().attributes = vec![attr("FlexibleShapeInformation", literal(flexible_ty, flexible))];
        let body = b.body();
        let perm = tensor(DType::Int32, &[3], Elements::Int(vec![0, 2, 1]));
        b.op(
            body,
            &[(Type::tensor(DType::Int32, &[3]), "var_4_perm_0")],
            "const",
            vec![],
            vec![name_rank0("op_4_perm_0"), attr("val", perm)],
        );
        let args = vec![b.arg("perm", "var_4_perm_0"), b.arg("x", "x")];
        b.op(
            body,
            &[(flexible_x, "var_4")],
            "transpose",
            args,
            vec![name_rank0("transpose_0")],
        );
        b.outputs(body, &["var_4"]);
        let p = program("1.0", vec![attr("buildInfo", build_info)], vec![b.finish()]);
        expect![[r#"
            program(1.0)
            [buildInfo = dict<tensor<string, []>, tensor<string, []>>({{"coremlc-component-MIL", "3405.2.1"}, {"coremlc-version", "3404.23.1"}, {"coremltools-component-torch", "2.7.1"}, {"coremltools-source-dialect", "TorchScript"}, {"coremltools-version", "8.3.0"}})]
            {
                func main<ios16>(tensor<fp16, [1, ?, ?]> x) [FlexibleShapeInformation = tuple<tuple<tensor<string, []>, dict<tensor<string, []>, tensor<int32, [?]>>>, tuple<tensor<string, []>, dict<tensor<string, []>, list<tensor<int32, [2]>, ?>>>>((("DefaultShapes", {{"x", [1, 1, 1]}}), ("RangeDims", {{"x", [[1, 1], [1, 2048], [1, 2048]]}})))] {
                        tensor<int32, [3]> var_4_perm_0 = const()[name = tensor<string, []>("op_4_perm_0"), val = tensor<int32, [3]>([0, 2, 1])];
                        tensor<fp16, [1, ?, ?]> var_4 = transpose(perm = var_4_perm_0, x = x)[name = tensor<string, []>("transpose_0")];
                    } -> (var_4);
            }"#]]
        .assert_eq(&print_program(&p));
    }

    fn blob(path: &str, offset: u64, rank0_spelling: bool) -> ConstData {
        ConstData::Blob(BlobRef {
            path: path.into(),
            offset,
            rank0_spelling,
        })
    }

    fn blob_tensor(dtype: DType, shape: &[u64], offset: u64) -> TypedValue {
        TypedValue {
            ty: Type::tensor(dtype, shape),
            data: blob("@model_path/weights/weight.bin", offset, false),
        }
    }

    fn build_info_1_3(version: &str) -> Attribute {
        let s = Type::Scalar(DType::String);
        attr(
            "buildInfo",
            literal(
                Type::Dict(Box::new(s.clone()), Box::new(s)),
                strings(&[
                    ("coremlc-component-MIL", "3600.16.1"),
                    ("coremlc-version", version),
                    ("coremltools-component-milinternal", ""),
                    ("coremltools-version", "9.0"),
                ]),
            ),
        )
    }

    /// corpus/015_m6_hwx_model.mil rebuilt by hand: program(1.3) bare scalar types and weights.
    #[test]
    fn prints_program_1_3_with_weights() {
        let mut b = Builder::new("main", "ios18");
        let act = Type::tensor(DType::Fp16, &[1, 64, 64, 64]);
        b.param(act.clone(), "x");
        let body = b.body();
        let ints = |xs: &[i64]| tensor(DType::Int32, &[xs.len() as u64], Elements::Int(xs.to_vec()));
        let mut input = "x".to_string();
        for (i, [w, bias]) in [[64, 8320], [8512, 16768], [16960, 25216]]
            .into_iter()
            .enumerate()
        {
            let c = format!("conv{i}");
            let mut konst = |suffix: &str, ty: Type, val: TypedValue| {
                let n = format!("{c}_{suffix}_0");
                b.op(
                    body,
                    &[(ty, &n)],
                    "const",
                    vec![],
                    vec![name(&n), attr("val", val)],
                );
            };
            let w_ty = Type::tensor(DType::Fp16, &[64, 64, 1, 1]);
            konst("weight", w_ty, blob_tensor(DType::Fp16, &[64, 64, 1, 1], w));
            konst(
                "bias",
                Type::tensor(DType::Fp16, &[64]),
                blob_tensor(DType::Fp16, &[64], bias),
            );
            konst("strides", Type::tensor(DType::Int32, &[2]), ints(&[1, 1]));
            let valid = TypedValue::string("valid");
            konst("pad_type", Type::Scalar(DType::String), valid);
            konst("pad", Type::tensor(DType::Int32, &[4]), ints(&[0, 0, 0, 0]));
            konst("dilations", Type::tensor(DType::Int32, &[2]), ints(&[1, 1]));
            let one = scalar(DType::Int32, Elements::Int(vec![1]));
            konst("groups", Type::Scalar(DType::Int32), one);
            let mut args: Vec<Argument> = [
                "bias",
                "dilations",
                "groups",
                "pad",
                "pad_type",
                "strides",
                "weight",
            ]
            .iter()
            .map(|k| b.arg(k, &format!("{c}_{k}_0")))
            .collect();
            args.push(b.arg("x", &input));
            b.op(body, &[(act.clone(), &c)], "conv", args, vec![name(&c)]);
            input = format!("relu{i}");
            let args = vec![b.arg("x", &c)];
            b.op(body, &[(act.clone(), &input)], "relu", args, vec![name(&input)]);
        }
        b.outputs(body, &["relu2"]);
        let p = program("1.3", vec![build_info_1_3("3600.25.1")], vec![b.finish()]);
        expect![[r#"
            program(1.3)
            [buildInfo = dict<string, string>({{"coremlc-component-MIL", "3600.16.1"}, {"coremlc-version", "3600.25.1"}, {"coremltools-component-milinternal", ""}, {"coremltools-version", "9.0"}})]
            {
                func main<ios18>(tensor<fp16, [1, 64, 64, 64]> x) {
                        tensor<fp16, [64, 64, 1, 1]> conv0_weight_0 = const()[name = string("conv0_weight_0"), val = tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];
                        tensor<fp16, [64]> conv0_bias_0 = const()[name = string("conv0_bias_0"), val = tensor<fp16, [64]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(8320)))];
                        tensor<int32, [2]> conv0_strides_0 = const()[name = string("conv0_strides_0"), val = tensor<int32, [2]>([1, 1])];
                        string conv0_pad_type_0 = const()[name = string("conv0_pad_type_0"), val = string("valid")];
                        tensor<int32, [4]> conv0_pad_0 = const()[name = string("conv0_pad_0"), val = tensor<int32, [4]>([0, 0, 0, 0])];
                        tensor<int32, [2]> conv0_dilations_0 = const()[name = string("conv0_dilations_0"), val = tensor<int32, [2]>([1, 1])];
                        int32 conv0_groups_0 = const()[name = string("conv0_groups_0"), val = int32(1)];
                        tensor<fp16, [1, 64, 64, 64]> conv0 = conv(bias = conv0_bias_0, dilations = conv0_dilations_0, groups = conv0_groups_0, pad = conv0_pad_0, pad_type = conv0_pad_type_0, strides = conv0_strides_0, weight = conv0_weight_0, x = x)[name = string("conv0")];
                        tensor<fp16, [1, 64, 64, 64]> relu0 = relu(x = conv0)[name = string("relu0")];
                        tensor<fp16, [64, 64, 1, 1]> conv1_weight_0 = const()[name = string("conv1_weight_0"), val = tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(8512)))];
                        tensor<fp16, [64]> conv1_bias_0 = const()[name = string("conv1_bias_0"), val = tensor<fp16, [64]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(16768)))];
                        tensor<int32, [2]> conv1_strides_0 = const()[name = string("conv1_strides_0"), val = tensor<int32, [2]>([1, 1])];
                        string conv1_pad_type_0 = const()[name = string("conv1_pad_type_0"), val = string("valid")];
                        tensor<int32, [4]> conv1_pad_0 = const()[name = string("conv1_pad_0"), val = tensor<int32, [4]>([0, 0, 0, 0])];
                        tensor<int32, [2]> conv1_dilations_0 = const()[name = string("conv1_dilations_0"), val = tensor<int32, [2]>([1, 1])];
                        int32 conv1_groups_0 = const()[name = string("conv1_groups_0"), val = int32(1)];
                        tensor<fp16, [1, 64, 64, 64]> conv1 = conv(bias = conv1_bias_0, dilations = conv1_dilations_0, groups = conv1_groups_0, pad = conv1_pad_0, pad_type = conv1_pad_type_0, strides = conv1_strides_0, weight = conv1_weight_0, x = relu0)[name = string("conv1")];
                        tensor<fp16, [1, 64, 64, 64]> relu1 = relu(x = conv1)[name = string("relu1")];
                        tensor<fp16, [64, 64, 1, 1]> conv2_weight_0 = const()[name = string("conv2_weight_0"), val = tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(16960)))];
                        tensor<fp16, [64]> conv2_bias_0 = const()[name = string("conv2_bias_0"), val = tensor<fp16, [64]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(25216)))];
                        tensor<int32, [2]> conv2_strides_0 = const()[name = string("conv2_strides_0"), val = tensor<int32, [2]>([1, 1])];
                        string conv2_pad_type_0 = const()[name = string("conv2_pad_type_0"), val = string("valid")];
                        tensor<int32, [4]> conv2_pad_0 = const()[name = string("conv2_pad_0"), val = tensor<int32, [4]>([0, 0, 0, 0])];
                        tensor<int32, [2]> conv2_dilations_0 = const()[name = string("conv2_dilations_0"), val = tensor<int32, [2]>([1, 1])];
                        int32 conv2_groups_0 = const()[name = string("conv2_groups_0"), val = int32(1)];
                        tensor<fp16, [1, 64, 64, 64]> conv2 = conv(bias = conv2_bias_0, dilations = conv2_dilations_0, groups = conv2_groups_0, pad = conv2_pad_0, pad_type = conv2_pad_type_0, strides = conv2_strides_0, weight = conv2_weight_0, x = relu1)[name = string("conv2")];
                        tensor<fp16, [1, 64, 64, 64]> relu2 = relu(x = conv2)[name = string("relu2")];
                    } -> (relu2);
            }"#]]
        .assert_eq(&print_program(&p));
    }

    /// corpus/016_m6_ctx_lstm.mil rebuilt by hand: a runtime analytics file with tensor_buffer
    /// types, pinned op opsets, inline weights, three outputs and list/dict attributes.
    #[test]
    fn prints_analytics_file() {
        const ANE: [&str; 5] = ["unsupported", "unsupported", "bnns", "classic_cpu", "ane"];
        const CPU: [&str; 5] = ["unsupported", "unsupported", "bnns", "classic_cpu", "unsupported"];
        let buffer = Type::TensorBuffer {
            dtype: DType::Fp16,
            params: [
                ("shape", [16, 1, 64]),
                ("strides", [64, 64, 1]),
                ("interleave_factors", [1, 1, 1]),
            ]
            .iter()
            .map(|(k, dims)| (k.to_string(), dims.iter().map(|&d| Dim::Known(d)).collect()))
            .collect(),
        };
        let seq = Type::tensor(DType::Fp16, &[16, 1, 64]);
        let state = Type::tensor(DType::Fp16, &[1, 64]);
        let mut b = Builder::new("main", "ios18");
        b.param(buffer.clone(), "x0");
        let backends = ["ane", "bnns", "classic_cpu", "e5_minimal_cpu", "jit_call"];
        let mut costs = Vec::new();
        for from in backends {
            costs.push((
                format!("Launch_{from}_ms"),
                if from == "ane" { 0.125 } else { 0.0 },
            ));
        }
        for from in backends {
            for to in backends.iter().filter(|&&to| to != from) {
                costs.push((format!("Src_{from}_Dest_{to}_ms"), 0.125));
            }
        }
        b.function().attributes = costs
            .iter()
            .map(|(k, v)| attr(k, scalar(DType::Fp64, Elements::F64(vec![*v]))))
            .collect();
        let support = |items: [&str; 5]| {
            let ty = Type::List(Box::new(Type::Scalar(DType::String)), Dim::Known(5));
            attr(
                "BackendSupport",
                literal(ty, Literal::List(items.iter().map(|s| text(s)).collect())),
            )
        };
        let runtime = |costs: &[(&str, &str)]| {
            let ty = Type::Dict(
                Box::new(Type::Scalar(DType::String)),
                Box::new(Type::Scalar(DType::Fp64)),
            );
            let entries = costs.iter().map(|(k, v)| (text(k), num(v))).collect();
            attr("EstimatedRuntime", literal(ty, Literal::Dict(entries)))
        };
        let selected = || attr("SelectedBackend", TypedValue::string("bnns"));
        let mil_id = |n: u64| attr("milId", scalar(DType::UInt64, Elements::UInt(vec![n])));
        let weights = |dtype: DType, shape: &[u64], offset: u64| {
            Operand::Const(TypedValue {
                ty: Type::tensor(dtype, shape),
                data: blob("@model_path/weights/weights.bin", offset, false),
            })
        };
        let body = b.body();
        let input = b.arg("input", "x0");
        let zero = [("ane", "0"), ("bnns", "0"), ("classic_cpu", "0")];
        let attrs = vec![support(ANE), runtime(&zero), selected(), mil_id(0)];
        let first = b.op(
            body,
            &[(seq.clone(), "x0_4D454D5F4F5054")],
            "tensor_buffer_to_tensor",
            vec![input],
            attrs,
        );
        b.op_mut(first).opset = Some("ios17".into());
        let linear_costs = [
            ("ane", "0.0012258781209570095"),
            ("bnns", "0.0019040930842510889"),
            ("classic_cpu", "0.0021901232113136493"),
        ];
        let relu_costs = [
            ("ane", "4.0960000000000001e-05"),
            ("bnns", "4.0960000000000001e-05"),
            ("classic_cpu", "4.0960000000000001e-05"),
        ];
        let layer = |b: &mut Builder, prefix: &str, input: &str, offsets: [u64; 2], id: u64, relu: &str| {
            let lin = format!("{prefix}_lin");
            let args = vec![
                keyed("bias", weights(DType::Fp16, &[64], offsets[0])),
                keyed("weight", weights(DType::Fp16, &[64, 64], offsets[1])),
                b.arg("x", input),
            ];
            let attrs = vec![
                support(ANE),
                runtime(&linear_costs),
                selected(),
                mil_id(id),
                name(&lin),
            ];
            b.op(body, &[(seq.clone(), &lin)], "linear", args, attrs);
            let args = vec![b.arg("x", &lin)];
            let relu_name = format!("{prefix}_relu");
            let attrs = vec![
                support(ANE),
                runtime(&relu_costs),
                selected(),
                mil_id(id + 1),
                name(&relu_name),
            ];
            b.op(body, &[(seq.clone(), relu)], "relu", args, attrs);
        };
        layer(
            &mut b,
            "wrap_in0_0",
            "x0_4D454D5F4F5054",
            [64, 256],
            1,
            "wrap_in0_0_relu",
        );
        layer(
            &mut b,
            "wrap_in0_1",
            "wrap_in0_0_relu",
            [8512, 8704],
            3,
            "wrap_in0_1_relu",
        );
        let string = |s: &str| Operand::Const(TypedValue::string(s));
        let args = vec![
            keyed("activation", string("tanh")),
            keyed("cell_activation", string("tanh")),
            keyed("direction", string("forward")),
            keyed("initial_c", weights(DType::Fp16, &[1, 64], 16960)),
            keyed("initial_h", weights(DType::Fp16, &[1, 64], 17152)),
            keyed(
                "output_sequence",
                Operand::Const(scalar(DType::Bool, Elements::Bool(vec![true]))),
            ),
            keyed("recurrent_activation", string("sigmoid")),
            keyed("weight_hh", weights(DType::Fp16, &[256, 64], 17344)),
            keyed("weight_ih", weights(DType::Fp16, &[256, 64], 50176)),
            b.arg("x", "wrap_in0_1_relu"),
        ];
        let strings_ty = Type::Dict(
            Box::new(Type::Scalar(DType::String)),
            Box::new(Type::Scalar(DType::String)),
        );
        let message = strings(&[("ane", "Unsupported MIL operation \"lstm\".")]);
        let attrs = vec![
            support(CPU),
            runtime(&[
                ("bnns", "476.80945305249844"),
                ("classic_cpu", "548.43507929840905"),
            ]),
            selected(),
            attr("ValidationMessage", literal(strings_ty, message)),
            mil_id(5),
            name("lstm_0"),
        ];
        let outputs = [
            (seq.clone(), "lstm_0_0"),
            (state.clone(), "lstm_0_1"),
            (state, "lstm_0_2"),
        ];
        b.op(body, &outputs, "lstm", args, attrs);
        layer(
            &mut b,
            "wrap_out_0",
            "lstm_0_0",
            [83008, 83200],
            6,
            "wrap_out_0_relu",
        );
        layer(
            &mut b,
            "wrap_out_1",
            "wrap_out_0_relu",
            [91456, 91648],
            8,
            "wrap_out_1_relu_4D454D5F4F5054",
        );
        let args = vec![
            b.arg("input", "wrap_out_1_relu_4D454D5F4F5054"),
            keyed(
                "interleave_factors",
                Operand::Const(tensor(DType::UInt8, &[3], Elements::UInt(vec![1, 1, 1]))),
            ),
            keyed(
                "strides",
                Operand::Const(tensor(DType::Int64, &[3], Elements::Int(vec![64, 64, 1]))),
            ),
        ];
        let attrs = vec![support(["unsupported"; 5]), selected(), mil_id(10)];
        let last = b.op(
            body,
            &[(buffer, "wrap_out_1_relu")],
            "tensor_to_tensor_buffer",
            args,
            attrs,
        );
        b.op_mut(last).opset = Some("ios17".into());
        b.outputs(body, &["wrap_out_1_relu"]);
        let p = program("1.3", vec![build_info_1_3("3600.25.2")], vec![b.finish()]);
        expect![[r#"
            program(1.3)
            [buildInfo = dict<string, string>({{"coremlc-component-MIL", "3600.16.1"}, {"coremlc-version", "3600.25.2"}, {"coremltools-component-milinternal", ""}, {"coremltools-version", "9.0"}})]
            {
                func main<ios18>(tensor_buffer<fp16, shape=[16, 1, 64], strides=[64, 64, 1], interleave_factors=[1, 1, 1]> x0) [Launch_ane_ms = fp64(0x1p-3), Launch_bnns_ms = fp64(0x0p+0), Launch_classic_cpu_ms = fp64(0x0p+0), Launch_e5_minimal_cpu_ms = fp64(0x0p+0), Launch_jit_call_ms = fp64(0x0p+0), Src_ane_Dest_bnns_ms = fp64(0x1p-3), Src_ane_Dest_classic_cpu_ms = fp64(0x1p-3), Src_ane_Dest_e5_minimal_cpu_ms = fp64(0x1p-3), Src_ane_Dest_jit_call_ms = fp64(0x1p-3), Src_bnns_Dest_ane_ms = fp64(0x1p-3), Src_bnns_Dest_classic_cpu_ms = fp64(0x1p-3), Src_bnns_Dest_e5_minimal_cpu_ms = fp64(0x1p-3), Src_bnns_Dest_jit_call_ms = fp64(0x1p-3), Src_classic_cpu_Dest_ane_ms = fp64(0x1p-3), Src_classic_cpu_Dest_bnns_ms = fp64(0x1p-3), Src_classic_cpu_Dest_e5_minimal_cpu_ms = fp64(0x1p-3), Src_classic_cpu_Dest_jit_call_ms = fp64(0x1p-3), Src_e5_minimal_cpu_Dest_ane_ms = fp64(0x1p-3), Src_e5_minimal_cpu_Dest_bnns_ms = fp64(0x1p-3), Src_e5_minimal_cpu_Dest_classic_cpu_ms = fp64(0x1p-3), Src_e5_minimal_cpu_Dest_jit_call_ms = fp64(0x1p-3), Src_jit_call_Dest_ane_ms = fp64(0x1p-3), Src_jit_call_Dest_bnns_ms = fp64(0x1p-3), Src_jit_call_Dest_classic_cpu_ms = fp64(0x1p-3), Src_jit_call_Dest_e5_minimal_cpu_ms = fp64(0x1p-3)] {
                        tensor<fp16, [16, 1, 64]> x0_4D454D5F4F5054 = tensor_buffer_to_tensor<ios17>(input = x0)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 0}, {"bnns", 0}, {"classic_cpu", 0}}), SelectedBackend = string("bnns"), milId = uint64(0)];
                        tensor<fp16, [16, 1, 64]> wrap_in0_0_lin = linear(bias = tensor<fp16, [64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(64))), weight = tensor<fp16, [64, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(256))), x = x0_4D454D5F4F5054)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 0.0012258781209570095}, {"bnns", 0.0019040930842510889}, {"classic_cpu", 0.0021901232113136493}}), SelectedBackend = string("bnns"), milId = uint64(1), name = string("wrap_in0_0_lin")];
                        tensor<fp16, [16, 1, 64]> wrap_in0_0_relu = relu(x = wrap_in0_0_lin)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 4.0960000000000001e-05}, {"bnns", 4.0960000000000001e-05}, {"classic_cpu", 4.0960000000000001e-05}}), SelectedBackend = string("bnns"), milId = uint64(2), name = string("wrap_in0_0_relu")];
                        tensor<fp16, [16, 1, 64]> wrap_in0_1_lin = linear(bias = tensor<fp16, [64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(8512))), weight = tensor<fp16, [64, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(8704))), x = wrap_in0_0_relu)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 0.0012258781209570095}, {"bnns", 0.0019040930842510889}, {"classic_cpu", 0.0021901232113136493}}), SelectedBackend = string("bnns"), milId = uint64(3), name = string("wrap_in0_1_lin")];
                        tensor<fp16, [16, 1, 64]> wrap_in0_1_relu = relu(x = wrap_in0_1_lin)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 4.0960000000000001e-05}, {"bnns", 4.0960000000000001e-05}, {"classic_cpu", 4.0960000000000001e-05}}), SelectedBackend = string("bnns"), milId = uint64(4), name = string("wrap_in0_1_relu")];
                        tensor<fp16, [16, 1, 64]> lstm_0_0, tensor<fp16, [1, 64]> lstm_0_1, tensor<fp16, [1, 64]> lstm_0_2 = lstm(activation = string("tanh"), cell_activation = string("tanh"), direction = string("forward"), initial_c = tensor<fp16, [1, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(16960))), initial_h = tensor<fp16, [1, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(17152))), output_sequence = bool(true), recurrent_activation = string("sigmoid"), weight_hh = tensor<fp16, [256, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(17344))), weight_ih = tensor<fp16, [256, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(50176))), x = wrap_in0_1_relu)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "unsupported"]), EstimatedRuntime = dict<string, fp64>({{"bnns", 476.80945305249844}, {"classic_cpu", 548.43507929840905}}), SelectedBackend = string("bnns"), ValidationMessage = dict<string, string>({{"ane", "Unsupported MIL operation \"lstm\"."}}), milId = uint64(5), name = string("lstm_0")];
                        tensor<fp16, [16, 1, 64]> wrap_out_0_lin = linear(bias = tensor<fp16, [64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(83008))), weight = tensor<fp16, [64, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(83200))), x = lstm_0_0)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 0.0012258781209570095}, {"bnns", 0.0019040930842510889}, {"classic_cpu", 0.0021901232113136493}}), SelectedBackend = string("bnns"), milId = uint64(6), name = string("wrap_out_0_lin")];
                        tensor<fp16, [16, 1, 64]> wrap_out_0_relu = relu(x = wrap_out_0_lin)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 4.0960000000000001e-05}, {"bnns", 4.0960000000000001e-05}, {"classic_cpu", 4.0960000000000001e-05}}), SelectedBackend = string("bnns"), milId = uint64(7), name = string("wrap_out_0_relu")];
                        tensor<fp16, [16, 1, 64]> wrap_out_1_lin = linear(bias = tensor<fp16, [64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(91456))), weight = tensor<fp16, [64, 64]>(BLOBFILE(path = string("@model_path/weights/weights.bin"), offset = uint64(91648))), x = wrap_out_0_relu)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 0.0012258781209570095}, {"bnns", 0.0019040930842510889}, {"classic_cpu", 0.0021901232113136493}}), SelectedBackend = string("bnns"), milId = uint64(8), name = string("wrap_out_1_lin")];
                        tensor<fp16, [16, 1, 64]> wrap_out_1_relu_4D454D5F4F5054 = relu(x = wrap_out_1_lin)[BackendSupport = list<string, 5>(["unsupported", "unsupported", "bnns", "classic_cpu", "ane"]), EstimatedRuntime = dict<string, fp64>({{"ane", 4.0960000000000001e-05}, {"bnns", 4.0960000000000001e-05}, {"classic_cpu", 4.0960000000000001e-05}}), SelectedBackend = string("bnns"), milId = uint64(9), name = string("wrap_out_1_relu")];
                        tensor_buffer<fp16, shape=[16, 1, 64], strides=[64, 64, 1], interleave_factors=[1, 1, 1]> wrap_out_1_relu = tensor_to_tensor_buffer<ios17>(input = wrap_out_1_relu_4D454D5F4F5054, interleave_factors = tensor<uint8, [3]>([1, 1, 1]), strides = tensor<int64, [3]>([64, 64, 1]))[BackendSupport = list<string, 5>(["unsupported", "unsupported", "unsupported", "unsupported", "unsupported"]), SelectedBackend = string("bnns"), milId = uint64(10)];
                    } -> (wrap_out_1_relu);
            }"#]]
        .assert_eq(&print_program(&p));
    }

    #[test]
    fn prints_tensor_elements_nested_by_shape_or_flat() {
        let values = [
            // Rank 0 and bare scalars: the element alone.
            tensor(DType::Int32, &[], Elements::Int(vec![2])),
            scalar(DType::Int32, Elements::Int(vec![-1])),
            // Rank 1 with one element keeps its brackets.
            tensor(DType::Int32, &[1], Elements::Int(vec![-1])),
            tensor(DType::UInt8, &[2, 3], Elements::UInt(vec![1, 2, 3, 4, 5, 255])),
            tensor(
                DType::Bool,
                &[1, 2, 2],
                Elements::Bool(vec![true, false, false, true]),
            ),
            // Empty dims.
            tensor(DType::Int32, &[0], Elements::Int(vec![])),
            tensor(DType::Int32, &[2, 0], Elements::Int(vec![])),
            // Count does not match the shape (hand-written): one flat list.
            tensor(DType::Int32, &[2, 2], Elements::Int(vec![1, 2, 3])),
            scalar(DType::Int32, Elements::Int(vec![1, 2])),
            // Unknown dims: no element count, so flat.
            TypedValue {
                ty: Type::Tensor {
                    dtype: DType::Int32,
                    shape: vec![Dim::Known(1), Dim::Unknown],
                },
                data: ConstData::Tensor(Elements::Int(vec![7, 8])),
            },
            tensor(DType::String, &[2], Elements::Str(vec!["a".into(), "b".into()])),
        ];
        let printed: Vec<String> = values.iter().map(print_typed_value).collect();
        expect![[r#"
            tensor<int32, []>(2)
            int32(-1)
            tensor<int32, [1]>([-1])
            tensor<uint8, [2, 3]>([[1, 2, 3], [4, 5, 255]])
            tensor<bool, [1, 2, 2]>([[[true, false], [false, true]]])
            tensor<int32, [0]>([])
            tensor<int32, [2, 0]>([[], []])
            tensor<int32, [2, 2]>([1, 2, 3])
            int32([1, 2])
            tensor<int32, [1, ?]>([7, 8])
            tensor<string, [2]>(["a", "b"])"#]]
        .assert_eq(&printed.join("\n"));
    }

    #[test]
    fn prints_floats_of_every_width_in_hex() {
        let values = [
            scalar(DType::Fp16, Elements::F16(vec![f16::from_f32(0.1)])),
            tensor(DType::Fp16, &[], Elements::F16(vec![f16::NEG_INFINITY])),
            tensor(
                DType::Fp16,
                &[3],
                Elements::F16(vec![f16::INFINITY, f16::NAN, f16::NEG_ZERO]),
            ),
            tensor(
                DType::Bf16,
                &[2],
                Elements::Bf16(vec![bf16::from_f32(1.5), bf16::from_f32(-2.0)]),
            ),
            tensor(DType::Fp32, &[1, 2], Elements::F32(vec![1.0, 2.0])),
            scalar(DType::Fp32, Elements::F32(vec![0.0])),
            scalar(DType::Fp64, Elements::F64(vec![0.125])),
            scalar(DType::Fp64, Elements::F64(vec![f64::from_bits(1)])),
        ];
        let printed: Vec<String> = values.iter().map(print_typed_value).collect();
        expect![[r#"
            fp16(0x1.998p-4)
            tensor<fp16, []>(-inf)
            tensor<fp16, [3]>([inf, nan, -0x0p+0])
            tensor<bf16, [2]>([0x1.8p+0, -0x1p+1])
            tensor<fp32, [1, 2]>([[0x1p+0, 0x1p+1]])
            fp32(0x0p+0)
            fp64(0x1p-3)
            fp64(0x0.0000000000001p-1022)"#]]
        .assert_eq(&printed.join("\n"));
    }

    #[test]
    fn escapes_strings() {
        let s = "say \"hi\"\\ \n\t\r\u{1}\u{1b}\u{7f} é";
        expect![[r#"string("say \"hi\"\\ \n\t\r\x01\x1b\x7f é")"#]]
            .assert_eq(&print_typed_value(&TypedValue::string(s)));
    }

    #[test]
    fn prints_weight_references_in_both_spellings() {
        let values = [
            TypedValue {
                ty: Type::tensor(DType::Fp16, &[64, 64, 1, 1]),
                data: blob("@model_path/weights/weight.bin", 64, false),
            },
            TypedValue {
                ty: Type::tensor(DType::UInt8, &[16512]),
                data: blob("@model_path/weights/weight.bin", 64, true),
            },
        ];
        let printed: Vec<String> = values.iter().map(print_typed_value).collect();
        expect![[r#"
            tensor<fp16, [64, 64, 1, 1]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))
            tensor<uint8, [16512]>(BLOBFILE(path = tensor<string, []>("@model_path/weights/weight.bin"), offset = tensor<uint64, []>(64)))"#]]
        .assert_eq(&printed.join("\n"));
    }

    #[test]
    fn prints_literals() {
        let literals = [
            Literal::Dict(vec![(text("ane"), num("0")), (text("bnns"), num("4.1e-05"))]),
            Literal::Dict(vec![]),
            Literal::List(vec![]),
            Literal::List(vec![
                Literal::List(vec![num("1"), num("-0x1.48p-1")]),
                Literal::Bool(false),
            ]),
            Literal::Tuple(vec![text("a"), Literal::Tuple(vec![num("-inf")])]),
            Literal::Dict(vec![(
                text("k"),
                Literal::Dict(vec![(Literal::Bool(true), text("\"v\""))]),
            )]),
        ];
        let printed: Vec<String> = literals.iter().map(print_literal).collect();
        expect![[r#"
            {{"ane", 0}, {"bnns", 4.1e-05}}
            {}
            []
            [[1, -0x1.48p-1], false]
            ("a", (-inf))
            {{"k", {{true, "\"v\""}}}}"#]]
        .assert_eq(&printed.join("\n"));
    }

    #[test]
    fn prints_statement_forms() {
        let x_ty = Type::tensor(DType::Fp16, &[1, 4]);
        let state_ty = Type::State(Box::new(x_ty.clone()));
        let mut b = Builder::new("main", "ios18");
        b.param(x_ty.clone(), "x");
        b.param(state_ty, "s");
        let body = b.body();
        // Positional argument, no attribute block.
        b.op(
            body,
            &[(x_ty.clone(), "y")],
            "identity",
            vec![positional(b.var("x"))],
            vec![],
        );
        // Tuple argument with an inline constant inside.
        let axis = keyed(
            "axis",
            Operand::Const(scalar(DType::Int32, Elements::Int(vec![0]))),
        );
        let one = Operand::Const(tensor(DType::Fp16, &[1, 4], Elements::F16(vec![f16::ONE; 4])));
        let values = keyed("values", Operand::Tuple(vec![b.var("x"), b.var("y"), one]));
        let cat_ty = Type::tensor(DType::Fp16, &[3, 4]);
        b.op(
            body,
            &[(cat_ty, "cat")],
            "concat",
            vec![axis, values],
            vec![name("cat")],
        );
        // Several outputs.
        let split_args = vec![
            b.arg("x", "x"),
            keyed(
                "num_splits",
                Operand::Const(scalar(DType::Int32, Elements::Int(vec![2]))),
            ),
        ];
        let half = Type::tensor(DType::Fp16, &[1, 2]);
        b.op(
            body,
            &[(half.clone(), "lo"), (half, "hi")],
            "split",
            split_args,
            vec![name("split_0")],
        );
        // No outputs, pinned opset.
        let write = b.op(
            body,
            &[],
            "write_state",
            vec![b.arg("data", "y"), b.arg("input", "s")],
            vec![name("write_state_0")],
        );
        b.op_mut(write).opset = Some("ios18".into());
        b.outputs(body, &["cat", "lo", "hi"]);
        let main = b.finish();
        // A second function with no parameters, no statements and no outputs.
        let empty = Builder::new("empty", "ios18").finish();
        let p = program("1.3", vec![], vec![main, empty]);
        expect![[r#"
            program(1.3)
            {
                func main<ios18>(tensor<fp16, [1, 4]> x, state<tensor<fp16, [1, 4]>> s) {
                        tensor<fp16, [1, 4]> y = identity(x);
                        tensor<fp16, [3, 4]> cat = concat(axis = int32(0), values = (x, y, tensor<fp16, [1, 4]>([[0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0]])))[name = string("cat")];
                        tensor<fp16, [1, 2]> lo, tensor<fp16, [1, 2]> hi = split(x = x, num_splits = int32(2))[name = string("split_0")];
                        write_state<ios18>(data = y, input = s)[name = string("write_state_0")];
                    } -> (cat, lo, hi);
                func empty<ios18>() {
                    } -> ();
            }"#]]
        .assert_eq(&print_program(&p));
    }

    #[test]
    fn prints_comments_indented_like_what_follows() {
        let ty = Type::tensor(DType::Fp32, &[2]);
        let mut b = Builder::new("main", "ios17");
        b.param(ty.clone(), "x");
        b.function().comments = vec!["// the model".into()];
        let body = b.body();
        let relu = b.op(body, &[(ty, "y")], "relu", vec![b.arg("x", "x")], vec![name("y")]);
        b.op_mut(relu).comments = vec!["// first".into(), "//second".into()];
        b.outputs(body, &["y"]);
        let mut f = b.finish();
        f.blocks[body.index()].trailing_comments = vec!["// done".into()];
        let mut p = program("1.0", vec![], vec![f]);
        p.comments = vec!["// Minimal test".into(), "// two lines".into()];
        expect![[r#"
            // Minimal test
            // two lines
            program(1.0)
            {
                // the model
                func main<ios17>(tensor<fp32, [2]> x) {
                        // first
                        //second
                        tensor<fp32, [2]> y = relu(x = x)[name = string("y")];
                        // done
                    } -> (y);
            }"#]]
        .assert_eq(&print_program(&p));
    }

    #[test]
    fn prints_nested_blocks_of_control_flow() {
        let ty = Type::tensor(DType::Fp32, &[2]);
        let int = Type::Scalar(DType::Int32);
        let mut b = Builder::new("main", "ios17");
        b.param(Type::Scalar(DType::Bool), "p");
        b.param(ty.clone(), "x");
        b.param(int.clone(), "n");
        let body = b.body();
        let cond = b.op(
            body,
            &[(ty.clone(), "y")],
            "cond",
            vec![b.arg("pred", "p")],
            vec![name("y")],
        );
        let then = b.block(cond, &[]);
        b.op(
            then,
            &[(ty.clone(), "a")],
            "relu",
            vec![b.arg("x", "x")],
            vec![name("a")],
        );
        b.outputs(then, &["a"]);
        let otherwise = b.block(cond, &[]);
        b.outputs(otherwise, &["x"]);
        let args = vec![keyed("loop_vars", Operand::Tuple(vec![b.var("n"), b.var("y")]))];
        let outputs = [(int.clone(), "i_out"), (ty.clone(), "v_out")];
        let lp = b.op(body, &outputs, "while_loop", args, vec![name("loop")]);
        let check = b.block(lp, &[(int.clone(), "i"), (ty.clone(), "v")]);
        let zero = Operand::Const(scalar(DType::Int32, Elements::Int(vec![0])));
        let more = vec![b.arg("x", "i"), keyed("y", zero)];
        b.op(
            check,
            &[(Type::Scalar(DType::Bool), "more")],
            "greater",
            more,
            vec![name("more")],
        );
        b.outputs(check, &["more"]);
        let step = b.block(lp, &[(int.clone(), "j"), (ty.clone(), "w")]);
        let one = Operand::Const(scalar(DType::Int32, Elements::Int(vec![1])));
        b.op(
            step,
            &[(int, "j_next")],
            "sub",
            vec![b.arg("x", "j"), keyed("y", one)],
            vec![name("j_next")],
        );
        let inner = b.op(
            step,
            &[(ty.clone(), "w_next")],
            "cond",
            vec![b.arg("pred", "p")],
            vec![],
        );
        let inner_then = b.block(inner, &[]);
        b.op(
            inner_then,
            &[(ty, "t")],
            "sigmoid",
            vec![b.arg("x", "w")],
            vec![name("t")],
        );
        b.outputs(inner_then, &["t"]);
        let inner_else = b.block(inner, &[]);
        b.outputs(inner_else, &["w"]);
        b.outputs(step, &["j_next", "w_next"]);
        b.outputs(body, &["v_out"]);
        let f = b.finish();
        let whole = print_program(&program("1.3", vec![], vec![f.clone()]));
        expect![[r#"
            program(1.3)
            {
                func main<ios17>(bool p, tensor<fp32, [2]> x, int32 n) {
                        tensor<fp32, [2]> y = cond(pred = p)[name = string("y")]
                            block() {
                                    tensor<fp32, [2]> a = relu(x = x)[name = string("a")];
                                } -> (a)
                            block() {
                                } -> (x);
                        int32 i_out, tensor<fp32, [2]> v_out = while_loop(loop_vars = (n, y))[name = string("loop")]
                            block(int32 i, tensor<fp32, [2]> v) {
                                    bool more = greater(x = i, y = int32(0))[name = string("more")];
                                } -> (more)
                            block(int32 j, tensor<fp32, [2]> w) {
                                    int32 j_next = sub(x = j, y = int32(1))[name = string("j_next")];
                                    tensor<fp32, [2]> w_next = cond(pred = p)
                                        block() {
                                                tensor<fp32, [2]> t = sigmoid(x = w)[name = string("t")];
                                            } -> (t)
                                        block() {
                                            } -> (w);
                                } -> (j_next, w_next);
                    } -> (v_out);
            }"#]]
        .assert_eq(&whole);
        // One statement printed alone starts without its indentation; its blocks are indented
        // relative to the given one, exactly as inside the whole program.
        let alone = print_operation(&f, inner, 24);
        expect![[r#"
            tensor<fp32, [2]> w_next = cond(pred = p)
                                        block() {
                                                tensor<fp32, [2]> t = sigmoid(x = w)[name = string("t")];
                                            } -> (t)
                                        block() {
                                            } -> (w);"#]]
        .assert_eq(&alone);
        assert!(whole.contains(&format!("{:24}{alone}\n", "")));
    }
}
