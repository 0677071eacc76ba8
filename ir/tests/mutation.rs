//! The mutation API keeps a function consistent after every edit: use lists equal those computed
//! from scratch, references carry their value's name, the symbols name live definitions, op names
//! stay unique, and the printed program parses back to the same text. Typical rewrites are
//! pinned as printed programs; random edit sequences over the repository's MIL files check the
//! invariants after each step.

use expect_test::expect;
use mil_ir::printer::print_program;
use mil_ir::{
    ConstData, DType, EditError, Editor, Elements, Function, NewOp, OpId, Operand, Place, Program, RewriteId,
    Severity, SourceMap, Type, TypedValue, Use, ValueId, codes,
};
use proptest::prelude::*;
use rustc_hash::FxHashMap;
use std::path::PathBuf;

/// Parses `text`, which must have no errors.
fn parse(text: &str) -> (Program, SourceMap) {
    let parse = mil_grammar::parse(text);
    let errors: Vec<_> = parse
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    (parse.program, parse.source_map)
}

/// Asserts every invariant the editor keeps (see `mil_ir::mutate`).
fn check(f: &Function) {
    let mut fresh = f.clone();
    fresh.recompute_uses();
    for (i, (v, w)) in f.values.iter().zip(&fresh.values).enumerate() {
        let (mut kept, mut computed) = (v.uses.clone(), w.uses.clone());
        let key = |u: &Use| format!("{u:?}");
        kept.sort_by_key(key);
        computed.sort_by_key(key);
        assert_eq!(kept, computed, "uses of value {i} `{}`", v.name);
    }
    let live = live_values(f);
    let reference = |r: &mil_ir::ValueRef| {
        if let Some(v) = r.id {
            assert!(live.contains_key(&v), "`{}` refers to a dead value", r.name);
            assert_eq!(r.name, f.value(v).name, "a reference keeps its value's name");
        }
    };
    let mut op_names: FxHashMap<String, OpId> = FxHashMap::default();
    for op in f.walk_ops() {
        let o = f.op(op);
        assert!(!o.is_erased(), "an erased op is reachable");
        assert!(f.block(o.parent).ops.contains(&op), "an op's parent holds it");
        o.operands().for_each(|(_, r)| reference(r));
        for &b in &o.blocks {
            f.block(b).outputs.iter().for_each(reference);
        }
        if let Some(name) = o.name()
            && let Some(first) = op_names.insert(name.to_owned(), op)
        {
            panic!("ops {first:?} and {op:?} are both named {name}");
        }
    }
    f.block(f.body).outputs.iter().for_each(reference);
    for (name, &v) in &f.symbols {
        assert!(live.contains_key(&v), "the symbol `{name}` names a dead value");
        assert_eq!(f.value(v).name, *name);
    }
    for &v in live.keys() {
        assert!(
            f.symbols.contains_key(&f.value(v).name),
            "`{}` is in the symbols",
            f.value(v).name
        );
    }
}

/// The values of `f` defined by a parameter or a reachable op or block.
fn live_values(f: &Function) -> FxHashMap<ValueId, ()> {
    let mut live: FxHashMap<ValueId, ()> = f.params.iter().map(|&p| (p, ())).collect();
    for op in f.walk_ops() {
        let o = f.op(op);
        live.extend(o.results.iter().map(|&r| (r, ())));
        for &b in &o.blocks {
            live.extend(f.block(b).params.iter().map(|&p| (p, ())));
        }
    }
    live
}

/// Asserts that `p` prints to text that parses back and prints the same.
fn round_trip(p: &Program) -> String {
    let text = print_program(p);
    let (again, _) = parse(&text);
    assert_eq!(
        print_program(&again),
        text,
        "the printed program parses to itself"
    );
    text
}

/// The statements of a printed [`LINEAR`] program after its two constants, and its outputs,
/// unindented.
fn after_constants(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .position(|l| l.contains("= const()[name = string(\"b\")"))
        .expect("b")
        + 1;
    let body = &lines[from..lines.len() - 1];
    let indent = body
        .iter()
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter().map(|l| &l[indent..]).collect::<Vec<_>>().join("\n")
}

/// A constant op of `ty` holding `values`.
fn int_const(name: &str, values: &[i64]) -> NewOp {
    let ty = Type::tensor(DType::Int32, &[values.len() as u64]);
    let val = TypedValue {
        ty: ty.clone(),
        data: ConstData::Tensor(Elements::Int(values.to_vec())),
    };
    NewOp::new("const").attr("val", val).result(name, ty)
}

const LINEAR: &str = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 4]> x) {
            tensor<fp16, [2, 4]> w = const()[name = string("w"), val = tensor<fp16, [2, 4]>([[0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0], [0x1p-1, 0x1p-1, 0x1p-1, 0x1p-1]])];
            tensor<fp16, [2]> b = const()[name = string("b"), val = tensor<fp16, [2]>([0x0p+0, 0x1p+0])];
            tensor<fp16, [1, 2]> y = linear(bias = b, weight = w, x = x)[name = string("y")];
            tensor<fp16, [1, 2]> r = relu(x = y)[name = string("r")];
        } -> (r, y);
}
"#;

/// The ops of the body named by their first result, for tests to find them.
fn op_named(f: &Function, name: &str) -> OpId {
    let v = f.lookup(name).expect("the value");
    match f.value(v).def {
        mil_ir::ValueDef::Result(op, _) => op,
        _ => panic!("`{name}` is not an op result"),
    }
}

const SPLIT: RewriteId = RewriteId("linear-to-conv");

#[test]
fn linear_becomes_conv_between_reshapes() {
    let (mut p, mut map) = parse(LINEAR);
    let linear_span = map.functions[0].statement(op_named(&p.functions[0], "y"));
    let f = &mut p.functions[0];
    let linear = op_named(f, "y");
    let (x, w, b) = (
        f.lookup("x").unwrap(),
        f.lookup("w").unwrap(),
        f.lookup("b").unwrap(),
    );
    let fp16 = |shape: &[u64]| Type::tensor(DType::Fp16, shape);
    let mut e = f.edit().rewriting(&mut map.functions[0], SPLIT);
    let at = Place::Before(linear);
    let shape_x = e.insert(at, int_const("shape", &[1, 4, 1, 1])).unwrap();
    let shape_x = e.function().op(shape_x).results[0];
    let x4 = NewOp::new("reshape")
        .arg("shape", e.operand(shape_x))
        .arg("x", e.operand(x));
    let x4 = e.insert(at, x4.result("x", fp16(&[1, 4, 1, 1]))).unwrap();
    let x4 = e.function().op(x4).results[0];
    let shape_w = e.insert(at, int_const("shape", &[2, 4, 1, 1])).unwrap();
    let shape_w = e.function().op(shape_w).results[0];
    let w4 = NewOp::new("reshape")
        .arg("shape", e.operand(shape_w))
        .arg("x", e.operand(w));
    let w4 = e.insert(at, w4.result("w", fp16(&[2, 4, 1, 1]))).unwrap();
    let w4 = e.function().op(w4).results[0];
    let conv = NewOp::new("conv")
        .arg("bias", e.operand(b))
        .arg("weight", e.operand(w4))
        .arg("x", e.operand(x4));
    let conv = e.insert(at, conv.result("y", fp16(&[1, 2, 1, 1]))).unwrap();
    let conv_out = e.function().op(conv).results[0];
    let shape_y = e.insert(at, int_const("shape", &[1, 2])).unwrap();
    let shape_y = e.function().op(shape_y).results[0];
    let y2 = NewOp::new("reshape")
        .arg("shape", e.operand(shape_y))
        .arg("x", e.operand(conv_out));
    let y2 = e.insert(at, y2.result("y", fp16(&[1, 2]))).unwrap();
    let y2_out = e.function().op(y2).results[0];
    e.replace_op_with(linear, &[y2_out]).unwrap();
    drop(e);
    check(f);
    // The function's output `y` keeps its name; the relu reads the new value.
    expect![[r#"
        program(1.3)
        {
            func main<ios18>(tensor<fp16, [1, 4]> x) {
                    tensor<fp16, [2, 4]> w = const()[name = string("w"), val = tensor<fp16, [2, 4]>([[0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0], [0x1p-1, 0x1p-1, 0x1p-1, 0x1p-1]])];
                    tensor<fp16, [2]> b = const()[name = string("b"), val = tensor<fp16, [2]>([0x0p+0, 0x1p+0])];
                    tensor<int32, [4]> shape = const()[name = string("shape"), val = tensor<int32, [4]>([1, 4, 1, 1])];
                    tensor<fp16, [1, 4, 1, 1]> x_1 = reshape(shape = shape, x = x)[name = string("x_1")];
                    tensor<int32, [4]> shape_1 = const()[name = string("shape_1"), val = tensor<int32, [4]>([2, 4, 1, 1])];
                    tensor<fp16, [2, 4, 1, 1]> w_1 = reshape(shape = shape_1, x = w)[name = string("w_1")];
                    tensor<fp16, [1, 2, 1, 1]> y_1 = conv(bias = b, weight = w_1, x = x_1)[name = string("y_1")];
                    tensor<int32, [2]> shape_2 = const()[name = string("shape_2"), val = tensor<int32, [2]>([1, 2])];
                    tensor<fp16, [1, 2]> y = reshape(shape = shape_2, x = y_1)[name = string("y_2")];
                    tensor<fp16, [1, 2]> r = relu(x = y)[name = string("r")];
                } -> (r, y);
        }"#]]
    .assert_eq(&round_trip(&p));
    // Each new op points back at the linear statement it replaced.
    let spans = &map.functions[0];
    let provenance = spans.provenance[&conv];
    assert_eq!((provenance.rewrite, provenance.replaced), (SPLIT, linear));
    assert_eq!(spans.statement(conv), linear_span);
    assert_eq!(spans.statement(y2), linear_span);
    assert_eq!(
        &LINEAR[linear_span.unwrap().range()],
        "tensor<fp16, [1, 2]> y = linear(bias = b, weight = w, x = x)[name = string(\"y\")]"
    );
}

#[test]
fn diagnostics_on_a_rewritten_op_point_at_the_statement_it_came_from() {
    let (mut p, mut map) = parse(LINEAR);
    let f = &mut p.functions[0];
    let relu = op_named(f, "r");
    let y = f.lookup("y").unwrap();
    let mut e = f.edit().rewriting(&mut map.functions[0], RewriteId("test"));
    let unknown = NewOp::new("frobnicate").arg("x", e.operand(y));
    let unknown = unknown.result("r", Type::tensor(DType::Fp16, &[1, 2]));
    let new = e.replace(relu, unknown).unwrap();
    drop(e);
    let statement = map.functions[0].statement(new).unwrap();
    assert_eq!(
        &LINEAR[statement.range()],
        r#"tensor<fp16, [1, 2]> r = relu(x = y)[name = string("r")]"#
    );
    let found = mil_ir::typecheck::check(&p, &map);
    assert!(
        found.iter().any(|d| d.message.contains("frobnicate")),
        "{found:?}"
    );
    for d in &found {
        assert_eq!(d.span, statement, "{d:?}");
    }
}

#[test]
fn a_cast_goes_before_an_op_and_takes_over_its_input() {
    let (mut p, _) = parse(LINEAR);
    let f = &mut p.functions[0];
    let relu = op_named(f, "r");
    let y = f.lookup("y").unwrap();
    let mut e = f.edit();
    let cast = NewOp::new("cast")
        .arg("dtype", Operand::Const(TypedValue::string("fp32")))
        .arg("x", e.operand(y))
        .result("y_fp32", Type::tensor(DType::Fp32, &[1, 2]));
    let cast = e.insert(Place::Before(relu), cast).unwrap();
    let y32 = e.function().op(cast).results[0];
    // The relu reads the cast; the output `y` stays. The editor writes the reference's name.
    let cast_out = Operand::Value(mil_ir::ValueRef {
        name: "".into(),
        id: Some(y32),
    });
    e.edit_args(relu, |args| args[0].value = cast_out).unwrap();
    drop(e);
    check(f);
    expect![[r#"
            tensor<fp16, [1, 2]> y = linear(bias = b, weight = w, x = x)[name = string("y")];
            tensor<fp32, [1, 2]> y_fp32 = cast(dtype = string("fp32"), x = y)[name = string("y_fp32")];
            tensor<fp16, [1, 2]> r = relu(x = y_fp32)[name = string("r")];
        } -> (r, y);"#]]
    .assert_eq(&after_constants(&round_trip(&p)));
}

#[test]
fn a_cast_after_a_definition_takes_over_every_other_use() {
    let (mut p, _) = parse(LINEAR);
    let f = &mut p.functions[0];
    let linear = op_named(f, "y");
    let y = f.lookup("y").unwrap();
    let mut e = f.edit();
    let cast = NewOp::new("cast")
        .arg("dtype", Operand::Const(TypedValue::string("fp16")))
        .arg("x", e.operand(y))
        .result("y", Type::tensor(DType::Fp16, &[1, 2]));
    let cast = e.insert(Place::After(linear), cast).unwrap();
    let y_cast = e.function().op(cast).results[0];
    assert_eq!(e.replace_uses_except(y, y_cast, Some(cast)), Ok(2));
    assert_eq!(e.replace_all_uses(y, y), Err(EditError::SelfReplacement(y)));
    drop(e);
    check(f);
    expect![[r#"
            tensor<fp16, [1, 2]> y_2 = linear(bias = b, weight = w, x = x)[name = string("y")];
            tensor<fp16, [1, 2]> y = cast(dtype = string("fp16"), x = y_2)[name = string("y_1")];
            tensor<fp16, [1, 2]> r = relu(x = y)[name = string("r")];
        } -> (r, y);"#]]
    .assert_eq(&after_constants(&round_trip(&p)));
}

#[test]
fn substitution_reaches_tuple_items_and_nested_block_outputs() {
    let text = r#"program(1.3)
{
    func main<ios17>(bool p, tensor<fp32, [2]> a, tensor<fp32, [2]> b) {
            tensor<fp32, [2]> c = relu(x = a)[name = string("c")];
            int32 axis = const()[name = string("axis"), val = int32(0)];
            bool interleave = const()[name = string("interleave"), val = bool(false)];
            tensor<fp32, [6]> d = concat(axis = axis, interleave = interleave, values = (a, b, a))[name = string("d")];
            tensor<fp32, [2]> e = cond(pred = p)[name = string("e")]
                block() {
                    } -> (a)
                block() {
                    } -> (b);
        } -> (d, e);
}
"#;
    let (mut p, _) = parse(text);
    let f = &mut p.functions[0];
    let (a, c) = (f.lookup("a").unwrap(), f.lookup("c").unwrap());
    let relu = op_named(f, "c");
    let mut e = f.edit();
    // Every use of `a` but the relu's own: two tuple items and a nested block's output.
    assert_eq!(e.replace_uses_except(a, c, Some(relu)), Ok(3));
    drop(e);
    check(f);
    expect![[r#"
        program(1.3)
        {
            func main<ios17>(bool p, tensor<fp32, [2]> a, tensor<fp32, [2]> b) {
                    tensor<fp32, [2]> c = relu(x = a)[name = string("c")];
                    int32 axis = const()[name = string("axis"), val = int32(0)];
                    bool interleave = const()[name = string("interleave"), val = bool(false)];
                    tensor<fp32, [6]> d = concat(axis = axis, interleave = interleave, values = (c, b, c))[name = string("d")];
                    tensor<fp32, [2]> e = cond(pred = p)[name = string("e")]
                        block() {
                            } -> (c)
                        block() {
                            } -> (b);
                } -> (d, e);
        }"#]]
    .assert_eq(&round_trip(&p));
}

#[test]
fn erasing_refuses_read_results_and_dead_code_goes_in_chains() {
    let text = r#"program(1.3)
{
    func main<ios18>(tensor<fp32, [2]> x) {
            tensor<fp32, [2]> a = relu(x = x)[name = string("a")];
            tensor<fp32, [2]> b = relu(x = a)[name = string("b")];
            tensor<fp32, [2]> c = relu(x = b)[name = string("c")];
            tensor<fp32, [2]> d = relu(x = x)[name = string("d")];
        } -> (d);
}
"#;
    let (mut p, _) = parse(text);
    let f = &mut p.functions[0];
    let (a, b) = (op_named(f, "a"), op_named(f, "b"));
    let before = f.clone();
    let mut e = f.edit();
    let a_value = e.function().op(a).results[0];
    assert_eq!(
        e.erase(a),
        Err(EditError::StillUsed {
            op: a,
            value: a_value,
            uses: 1
        })
    );
    assert_eq!(*e.function(), before, "a refused edit changes nothing");
    assert_eq!(e.erase_dead_ops(), 3);
    assert_eq!(e.erase(b), Err(EditError::NoSuchOp(b)));
    drop(e);
    check(f);
    assert!(f.lookup("a").is_none() && f.lookup("c").is_none());
    expect![[r#"
        program(1.3)
        {
            func main<ios18>(tensor<fp32, [2]> x) {
                    tensor<fp32, [2]> d = relu(x = x)[name = string("d")];
                } -> (d);
        }"#]]
    .assert_eq(&round_trip(&p));
}

#[test]
fn fresh_names_avoid_names_in_nested_blocks_and_op_names() {
    let text = r#"program(1.3)
{
    func main<ios17>(bool p, tensor<fp32, [2]> x) {
            tensor<fp32, [2]> y = cond(pred = p)[name = string("t")]
                block() {
                        tensor<fp32, [2]> t_1 = relu(x = x)[name = string("inner")];
                    } -> (t_1)
                block() {
                        tensor<fp32, [2]> t_2 = relu(x = x)[name = string("t_3")];
                    } -> (t_2);
        } -> (y);
}
"#;
    let (mut p, _) = parse(text);
    let f = &mut p.functions[0];
    let e = f.edit();
    assert_eq!(e.fresh_value_name("t"), "t_4");
    assert_eq!(e.fresh_value_name("inner"), "inner_1");
    assert_eq!(e.fresh_op_name("t_1"), "t_1", "op names and SSA names are apart");
    assert_eq!(e.fresh_value_name("z"), "z");
}

#[test]
fn erasing_a_control_flow_op_erases_its_blocks_and_repoints_shadowed_names() {
    let text = r#"program(1.3)
{
    func main<ios17>(bool p, tensor<fp32, [2]> x) {
            tensor<fp32, [2]> y = cond(pred = p)[name = string("c")]
                block() {
                        tensor<fp32, [2]> y = relu(x = x)[name = string("y_1")];
                    } -> (y)
                block() {
                        tensor<fp32, [2]> z = relu(x = x)[name = string("z")];
                    } -> (z);
            tensor<fp32, [2]> y = relu(x = x)[name = string("y_2")];
        } -> (x);
}
"#;
    let parse = mil_grammar::parse(text);
    let mut p = parse.program;
    let f = &mut p.functions[0];
    let cond = OpId(0);
    assert_eq!(f.op(cond).kind, "cond");
    let mut e = f.edit();
    e.erase(cond).unwrap();
    drop(e);
    check(f);
    let y = f.lookup("y").expect("the last `y` is left");
    assert!(matches!(f.value(y).def, mil_ir::ValueDef::Result(op, 0) if f.op(op).name() == Some("y_2")));
    assert!(f.lookup("z").is_none());
    let x = f.lookup("x").unwrap();
    assert_eq!(
        f.value(x).uses.len(),
        2,
        "only the last relu and the output read `x`"
    );
}

#[test]
fn replacing_an_op_moves_its_uses_to_the_new_results() {
    let (mut p, _) = parse(LINEAR);
    let f = &mut p.functions[0];
    let relu = op_named(f, "r");
    let y = f.lookup("y").unwrap();
    let mut e = f.edit();
    let sigmoid = NewOp::new("sigmoid").arg("x", e.operand(y));
    let wrong = sigmoid.clone();
    assert_eq!(
        e.replace(relu, wrong),
        Err(EditError::ResultCount {
            op: relu,
            expected: 1,
            found: 0
        })
    );
    let new = e
        .replace(relu, sigmoid.result("r", Type::tensor(DType::Fp16, &[1, 2])))
        .unwrap();
    assert!(!e.is_live(relu));
    assert_eq!(e.edit_args(relu, |_| ()), Err(EditError::NoSuchOp(relu)));
    drop(e);
    check(f);
    assert_eq!(f.op(new).kind, "sigmoid");
    expect![[r#"
            tensor<fp16, [1, 2]> y = linear(bias = b, weight = w, x = x)[name = string("y")];
            tensor<fp16, [1, 2]> r = sigmoid(x = y)[name = string("r_1")];
        } -> (r, y);"#]]
    .assert_eq(&after_constants(&round_trip(&p)));
}

#[test]
fn operands_with_erased_or_unresolved_values_are_refused() {
    let (mut p, _) = parse(LINEAR);
    let f = &mut p.functions[0];
    let relu = op_named(f, "r");
    let r = f.lookup("r").unwrap();
    let mut e = f.edit();
    let unresolved = Operand::Value(mil_ir::ValueRef {
        name: "nowhere".into(),
        id: None,
    });
    let op = NewOp::new("relu")
        .arg("x", unresolved)
        .result("s", Type::tensor(DType::Fp16, &[1, 2]));
    assert_eq!(
        e.insert(Place::After(relu), op),
        Err(EditError::Unresolved("nowhere".into()))
    );
    assert_eq!(e.erase_dead_ops(), 0, "outputs are read");
    let reads_r = NewOp::new("relu").arg("x", e.operand(r));
    let reads_r = reads_r.result("s", Type::tensor(DType::Fp16, &[1, 2]));
    let s = e.insert(Place::End(e.function().body), reads_r).unwrap();
    assert_eq!(e.erase_dead_ops(), 1, "the new relu is read by nothing");
    assert!(!e.is_live(s));
    let erased_value = e.function().op(s).results[0];
    let op = NewOp::new("relu").arg("x", e.operand(erased_value));
    assert_eq!(
        e.insert(Place::After(relu), op),
        Err(EditError::NoSuchValue(erased_value))
    );
    // Ids that never existed are refused, not indexed.
    let (nowhere, no_value) = (OpId(9999), ValueId(9999));
    assert_eq!(e.erase(nowhere), Err(EditError::NoSuchOp(nowhere)));
    let at_nowhere = NewOp::new("relu").result("t", Type::tensor(DType::Fp16, &[1, 2]));
    assert_eq!(
        e.insert(Place::Before(nowhere), at_nowhere.clone()),
        Err(EditError::NoSuchOp(nowhere))
    );
    let block = mil_ir::BlockId(9999);
    assert_eq!(
        e.insert(Place::End(block), at_nowhere),
        Err(EditError::NoSuchBlock(block))
    );
    assert_eq!(
        e.replace_all_uses(no_value, r),
        Err(EditError::NoSuchValue(no_value))
    );
    let bad = Operand::Value(mil_ir::ValueRef {
        name: "v".into(),
        id: Some(no_value),
    });
    assert_eq!(
        e.edit_args(relu, |args| args[0].value = bad),
        Err(EditError::NoSuchValue(no_value))
    );
    drop(e);
    check(f);
}

#[test]
fn names_made_in_a_program_1_0_are_rank_0_strings() {
    let text = r#"program(1.0)
{
    func main<ios15>(tensor<fp32, [2]> x) {
            tensor<fp32, [2]> a = relu(x = x)[name = tensor<string, []>("a")];
        } -> (a);
}
"#;
    let (mut p, _) = parse(text);
    let f = &mut p.functions[0];
    let a = op_named(f, "a");
    let mut e: Editor = f.edit();
    let x = e.function().lookup("x").unwrap();
    let op = NewOp::new("relu")
        .arg("x", e.operand(x))
        .result("a", Type::tensor(DType::Fp32, &[2]));
    e.insert(Place::Before(a), op).unwrap();
    drop(e);
    check(f);
    expect![[r#"
        program(1.0)
        {
            func main<ios15>(tensor<fp32, [2]> x) {
                    tensor<fp32, [2]> a_1 = relu(x = x)[name = tensor<string, []>("a_1")];
                    tensor<fp32, [2]> a = relu(x = x)[name = tensor<string, []>("a")];
                } -> (a);
        }"#]]
    .assert_eq(&round_trip(&p));
}

/// The repository's MIL files the random edits run over: the print round-trip fuzz corpus (all
/// op forms, control flow, states) and the samples.
fn programs() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["fuzz/corpus/print_roundtrip", "samples"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("the directory")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "mil"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("the file");
            let parse = mil_grammar::parse(&text);
            if parse.diagnostics.iter().all(|d| d.severity != Severity::Error) {
                out.push((file.display().to_string(), text));
            }
        }
    }
    assert!(out.len() >= 10, "too few programs: {}", out.len());
    out
}

/// A chain of `n` adds that all read the parameter `x`, whose use list is long enough for the
/// editor to index it.
fn hub(n: usize) -> String {
    let mut text = String::from("program(1.3)\n{\n    func main<ios18>(tensor<fp32, [2]> x) {\n");
    let mut previous = "x".to_string();
    for i in 0..n {
        text += &format!(
            "            tensor<fp32, [2]> a{i} = add(x = {previous}, y = x)[name = string(\"a{i}\")];\n"
        );
        previous = format!("a{i}");
    }
    text + &format!("        }} -> ({previous});\n}}\n")
}

/// One random edit: which, and the numbers that pick its target.
#[derive(Clone, Debug)]
enum Edit {
    /// An identity after an op with results, taking over the other uses of its first result.
    IdentityAfter(usize),
    /// A copy of an op without nested blocks in its place.
    ReplaceWithCopy(usize),
    /// Erase an op (refused when its results are read).
    Erase(usize),
    /// Reverse an op's arguments.
    ReverseArgs(usize),
    /// A constant nobody reads at the start of the body.
    UnusedConst,
    /// Erase the dead ops.
    EraseDead,
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::IdentityAfter),
        any::<usize>().prop_map(Edit::ReplaceWithCopy),
        any::<usize>().prop_map(Edit::Erase),
        any::<usize>().prop_map(Edit::ReverseArgs),
        Just(Edit::UnusedConst),
        Just(Edit::EraseDead),
    ]
}

/// Applies `edit` to the function `e` edits.
fn apply(e: &mut Editor, edit: &Edit) {
    let ops = e.function().walk_ops();
    let pick = |n: usize| ops[n % ops.len()];
    match *edit {
        _ if ops.is_empty() => {}
        Edit::IdentityAfter(n) => {
            let op = pick(n);
            let Some(&r) = e.function().op(op).results.first() else {
                return;
            };
            let ty = e.function().value(r).ty.clone();
            let base = e.function().value(r).name.clone();
            let identity = NewOp::new("identity").arg("x", e.operand(r)).result(&base, ty);
            let id = e.insert(Place::After(op), identity).unwrap();
            let out = e.function().op(id).results[0];
            let uses = e.function().value(r).uses.len();
            assert_eq!(e.replace_uses_except(r, out, Some(id)), Ok(uses - 1));
        }
        Edit::ReplaceWithCopy(n) => {
            let op = pick(n);
            let o = e.function().op(op).clone();
            if !o.blocks.is_empty() || o.results.is_empty() {
                return;
            }
            let mut copy = NewOp::new(&o.kind);
            for a in &o.args {
                copy = copy.arg(a.key.as_deref().unwrap_or("x"), a.value.clone());
            }
            for at in &o.attributes {
                copy = copy.attr(&at.key, at.value.clone());
            }
            for &r in &o.results {
                let v = e.function().value(r);
                copy = copy.result(&v.name, v.ty.clone());
            }
            if o.args.iter().all(|a| a.key.is_some()) {
                e.replace(op, copy).unwrap();
            }
        }
        Edit::Erase(n) => {
            let op = pick(n);
            let read = e
                .function()
                .op(op)
                .results
                .iter()
                .any(|&r| !e.function().value(r).uses.is_empty());
            let before = e.function().clone();
            match e.erase(op) {
                Ok(()) => assert!(!read),
                Err(EditError::StillUsed { .. }) => {
                    assert!(read);
                    assert_eq!(*e.function(), before);
                }
                Err(other) => panic!("{other}"),
            }
        }
        Edit::ReverseArgs(n) => e.edit_args(pick(n), |args| args.reverse()).unwrap(),
        Edit::UnusedConst => {
            let first = Place::Before(ops[0]);
            e.insert(first, int_const("unused", &[1, 2])).unwrap();
        }
        Edit::EraseDead => {
            e.erase_dead_ops();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_edits_keep_every_function_consistent(
        which in any::<usize>(),
        edits in proptest::collection::vec(edit_strategy(), 1..12),
    ) {
        let programs = programs();
        let (file, text) = &programs[which % programs.len()];
        let (mut p, _) = parse(text);
        let diagnostics_before = mil_ir::verify::verify(&p, &SourceMap::default()).len();
        for f in &mut p.functions {
            let mut e = f.edit();
            for edit in &edits {
                apply(&mut e, edit);
                check(e.function());
            }
        }
        let duplicate_names = mil_ir::verify::verify(&p, &SourceMap::default())
            .iter()
            .filter(|d| d.code == codes::DUPLICATE_OP_NAME)
            .count();
        prop_assert!(duplicate_names == 0 || diagnostics_before > 0, "{file}: names stay unique");
        round_trip(&p);
    }

    #[test]
    fn random_edits_of_the_readers_of_a_value_read_everywhere(
        edits in proptest::collection::vec(edit_strategy(), 1..40),
    ) {
        let (mut p, _) = parse(&hub(80));
        let mut e = p.functions[0].edit();
        for edit in &edits {
            apply(&mut e, edit);
            check(e.function());
        }
        drop(e);
        round_trip(&p);
    }
}

#[test]
fn a_retired_op_is_a_tombstone_out_of_its_readers_use_lists() {
    let (mut p, _) = parse(
        "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n            tensor<fp16, [1, 4]> a = relu(x = x)[name = string(\"a\")];\n            tensor<fp16, [1, 4]> b = mul(x = x, y = x)[name = string(\"b\")];\n        } -> (b);\n}\n",
    );
    let f = &mut p.functions[0];
    let a = op_named(f, "a");
    let x = f.params[0];
    assert_eq!(f.value(x).uses.len(), 3);
    let body = f.body;
    f.blocks[body.index()].ops.retain(|&o| o != a);
    f.retire_op(a);
    // Names and symbols are the caller's to keep.
    f.symbols.remove("a");
    assert!(f.op(a).is_erased());
    // `x` is read by `b` alone now, as the use lists recomputed from the blocks say.
    assert_eq!(f.value(x).uses.len(), 2);
    assert!(
        f.value(x)
            .uses
            .iter()
            .all(|u| !matches!(u, Use::Operand { op, .. } if *op == a))
    );
    check(f);
}
