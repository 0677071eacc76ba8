//! A proto that names values alike in every way the text cannot say decompiles to text that
//! parses without errors, and every reference in it reaches the value the proto's scoping means.

use crate::blob::BlobWriter;
use crate::mil::{self, argument::binding::Binding};
use crate::spec::{Model, model};
use crate::weights::WeightFiles;
use expect_test::expect;
use mil_ir::printer::print_program;
use mil_ir::{BlockId, Function, OpId, Operand, ValueDef, ValueId};
use std::collections::HashMap;
use std::io::Cursor;

const PROGRAM: &str = r#"program(1.3)
{
    func main<ios18>(tensor<fp32, [2]> x, int32 n) {
            tensor<fp32, [2]> a = relu(x = x)[name = string("a")];
            tensor<fp32, [2]> b = mul(x = a, y = x)[name = string("b")];
            int32 i0 = const()[name = string("i0"), val = int32(0)];
            int32 m, tensor<fp32, [2]> out = while_loop(loop_vars = (i0, b))[name = string("loop")]
                block(int32 i, tensor<fp32, [2]> v) {
                        bool more = less(x = i, y = n)[name = string("more")];
                    } -> (more)
                block(int32 j, tensor<fp32, [2]> w) {
                        int32 j_next = add(x = j, y = int32(1))[name = string("j_next")];
                        tensor<fp32, [2]> w_next = mul(x = w, y = a)[name = string("w_next")];
                    } -> (j_next, w_next);
            tensor<fp32, [2]> c = add(x = out, y = b)[name = string("c")];
        } -> (c, m);
}"#;

/// The model `PROGRAM` compiles to.
fn model() -> Model {
    let parsed = mil_grammar::parse(PROGRAM);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let dir = tempfile::tempdir().unwrap();
    let mut blobs = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
    crate::to_proto::to_proto(
        &parsed.program,
        &parsed.source_map,
        &mut WeightFiles::new(dir.path()),
        &mut blobs,
    )
    .unwrap()
    .model
}

fn main_function(model: &mut Model) -> &mut mil::Function {
    let Some(model::Type::MlProgram(p)) = &mut model.r#type else {
        unreachable!()
    };
    p.functions.get_mut("main").unwrap()
}

/// Renames the value called `from` (its definition and every reference) to `to`.
fn rename(f: &mut mil::Function, from: &str, to: &str) {
    fn in_block(b: &mut mil::Block, from: &str, to: &str) {
        let fix = |name: &mut String| {
            if name == from {
                *name = to.into();
            }
        };
        b.inputs.iter_mut().for_each(|v| fix(&mut v.name));
        b.outputs.iter_mut().for_each(fix);
        for op in &mut b.operations {
            op.outputs.iter_mut().for_each(|v| fix(&mut v.name));
            for arg in op.inputs.values_mut() {
                for binding in &mut arg.arguments {
                    if let Some(Binding::Name(name)) = &mut binding.binding {
                        fix(name);
                    }
                }
            }
            op.blocks.iter_mut().for_each(|b| in_block(b, from, to));
        }
    }
    f.inputs
        .iter_mut()
        .filter(|v| v.name == from)
        .for_each(|v| v.name = to.into());
    f.block_specializations
        .values_mut()
        .for_each(|b| in_block(b, from, to));
}

/// Where a value is defined, in terms both sides share: a function input, a result of the op
/// that comes `n`th in pre-order, or a parameter of the block that comes `n`th in pre-order.
#[derive(Debug, PartialEq)]
enum Def {
    Input(usize),
    Result(usize, usize),
    Param(usize, usize),
}

/// For each op in pre-order, the definitions its named inputs reach under the proto's scoping: a
/// name means the latest value of that name defined before (an op's results before its blocks);
/// then each block's outputs.
fn proto_references(f: &mil::Function) -> Vec<Vec<Def>> {
    struct Walk {
        scope: HashMap<String, (char, usize, usize)>,
        ops: usize,
        blocks: usize,
        refs: Vec<Vec<Def>>,
    }
    fn def((kind, a, b): (char, usize, usize)) -> Def {
        match kind {
            'i' => Def::Input(b),
            'r' => Def::Result(a, b),
            _ => Def::Param(a, b),
        }
    }
    impl Walk {
        fn block(&mut self, block: &mil::Block) {
            let id = self.blocks;
            self.blocks += 1;
            for (i, v) in block.inputs.iter().enumerate() {
                self.scope.insert(v.name.clone(), ('p', id, i));
            }
            for op in &block.operations {
                let id = self.ops;
                self.ops += 1;
                let mut refs = Vec::new();
                for arg in op.inputs.values() {
                    for binding in &arg.arguments {
                        if let Some(Binding::Name(name)) = &binding.binding {
                            refs.push(def(self.scope[name]));
                        }
                    }
                }
                self.refs.push(refs);
                for (i, v) in op.outputs.iter().enumerate() {
                    self.scope.insert(v.name.clone(), ('r', id, i));
                }
                op.blocks.iter().for_each(|b| self.block(b));
            }
            let outputs = block.outputs.iter().map(|name| def(self.scope[name])).collect();
            self.refs.push(outputs);
        }
    }
    let mut walk = Walk {
        scope: HashMap::new(),
        ops: 0,
        blocks: 0,
        refs: Vec::new(),
    };
    for (i, v) in f.inputs.iter().enumerate() {
        walk.scope.insert(v.name.clone(), ('i', 0, i));
    }
    walk.block(&f.block_specializations["CoreML8"]);
    walk.refs
}

/// The same for a parsed function: the definitions its ops' named inputs resolve to, in pre-order.
fn text_references(f: &Function) -> Vec<Vec<Def>> {
    let mut op_order: HashMap<OpId, usize> = HashMap::new();
    let mut block_order: HashMap<BlockId, usize> = HashMap::new();
    fn order(f: &Function, b: BlockId, ops: &mut HashMap<OpId, usize>, blocks: &mut HashMap<BlockId, usize>) {
        blocks.insert(b, blocks.len());
        for &op in &f.block(b).ops {
            ops.insert(op, ops.len());
            for &nested in &f.op(op).blocks {
                order(f, nested, ops, blocks);
            }
        }
    }
    order(f, f.body, &mut op_order, &mut block_order);
    let def = |id: Option<ValueId>| match f.value(id.expect("resolved")).def {
        ValueDef::Param(i) => Def::Input(i as usize),
        ValueDef::Result(op, i) => Def::Result(op_order[&op], i as usize),
        ValueDef::BlockParam(b, i) => Def::Param(block_order[&b], i as usize),
    };
    fn operands(o: &Operand, out: &mut Vec<Option<ValueId>>) {
        match o {
            Operand::Value(r) => out.push(r.id),
            Operand::Tuple(items) => items.iter().for_each(|i| operands(i, out)),
            Operand::Const(_) => {}
        }
    }
    let mut refs = Vec::new();
    fn walk(f: &Function, b: BlockId, refs: &mut Vec<Vec<Def>>, def: &dyn Fn(Option<ValueId>) -> Def) {
        for &op in &f.block(b).ops {
            let mut ids = Vec::new();
            // The proto keeps inputs in key order, and so does the canonical text.
            f.op(op).args.iter().for_each(|a| operands(&a.value, &mut ids));
            refs.push(ids.into_iter().map(def).collect());
            for &nested in &f.op(op).blocks {
                walk(f, nested, refs, def);
            }
        }
        refs.push(f.block(b).outputs.iter().map(|r| def(r.id)).collect());
    }
    walk(f, f.body, &mut refs, &def);
    refs
}

fn decompile(model: &Model) -> Result<String, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let mut blobs = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
    super::super::from_proto(model, &mut WeightFiles::new(dir.path()), &mut blobs)
        .map(|p| print_program(&p))
        .map_err(|d| d.into_iter().map(|d| d.message).collect())
}

#[test]
fn values_named_alike_get_unique_names_and_keep_their_references() {
    let mut model = model();
    let f = main_function(&mut model);
    // An op output named like a function input, and one named like the name the first would get.
    rename(f, "a", "x");
    rename(f, "b", "x_1");
    // The loop's first result named like a value inside its body block (results come first).
    rename(f, "m", "j_next");
    // A sibling block's parameters may share names (kept); two of one block may not.
    rename(f, "j", "i");
    rename(f, "w", "i");
    // An op output named like its block's parameter; one named like a function input.
    rename(f, "more", "v");
    rename(f, "w_next", "n");
    let expected = proto_references(f);
    let text = decompile(&model).unwrap();
    expect![[r#"
        program(1.3)
        {
            func main<ios18>(tensor<fp32, [2]> x, int32 n) {
                    tensor<fp32, [2]> x_2 = relu(x = x)[name = string("a")];
                    tensor<fp32, [2]> x_1 = mul(x = x_2, y = x_2)[name = string("b")];
                    int32 i0 = const()[name = string("i0"), val = int32(0)];
                    int32 j_next, tensor<fp32, [2]> out = while_loop(loop_vars = (i0, x_1))[name = string("loop")]
                        block(int32 i, tensor<fp32, [2]> v) {
                                bool v_1 = less(x = i, y = n)[name = string("more")];
                            } -> (v_1)
                        block(int32 i, tensor<fp32, [2]> i_1) {
                                int32 j_next_1 = add(x = i_1, y = int32(1))[name = string("j_next")];
                                tensor<fp32, [2]> n_1 = mul(x = i_1, y = x_2)[name = string("w_next")];
                            } -> (j_next_1, n_1);
                    tensor<fp32, [2]> c = add(x = out, y = x_1)[name = string("c")];
                } -> (c, j_next_1);
        }"#]]
    .assert_eq(&text);
    let parsed = mil_grammar::parse(&text);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(text_references(&parsed.program.functions[0]), expected);
}

#[test]
fn two_function_inputs_named_alike_and_a_name_that_is_a_keyword() {
    let mut model = model();
    rename(main_function(&mut model), "n", "x");
    let text = decompile(&model).unwrap();
    assert!(
        text.contains("func main<ios18>(tensor<fp32, [2]> x, int32 x_1)"),
        "{text}"
    );
    assert!(mil_grammar::parse(&text).diagnostics.is_empty(), "{text}");

    let mut model = self::model();
    rename(main_function(&mut model), "c", "BLOBFILE");
    assert_eq!(
        decompile(&model).unwrap_err(),
        ["function `main`, op `c` (add): value name `BLOBFILE` is not a MIL identifier"]
    );
}
