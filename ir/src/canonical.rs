//! Canonicalisation: rewriting the lenient forms people write into the form Apple's compiler writes,
//! as `mil fmt` does before printing.
//!
//! - Positional arguments (hand-written `identity(x)`) get the key of the op's input at their
//!   position, from the op catalogue; keyed arguments are then sorted by key (positional ones the
//!   catalogue cannot name keep their order and come first).
//! - Op, function and program attributes are sorted by key, in ASCII order.
//! - Every op gets a `name` attribute if it has none: the name of its first output, or
//!   `<kind>_<n>` for an op without outputs, made unique within the function.
//! - A `const` whose `val` is a single element but whose declared result is a tensor of another
//!   shape gets the element repeated to the full tensor (`val = fp16(0x0p+0)` for
//!   `tensor<fp16, [1, 2]>` becomes `val = tensor<fp16, [1, 2]>([[0x0p+0, 0x0p+0]])`).
//!
//! Floats need no rewriting here: the IR holds their values, which the printer writes in hex.
//!
//! Every change goes through the IR's [`Editor`], so use lists, symbols and op names stay
//! consistent without recomputing them.

use crate::constant::{ConstData, TypedValue};
use crate::mutate::Editor;
use crate::program::{Argument, Attribute, OpId, Program};

/// The largest tensor a single-element `const` is broadcast to (in elements); a larger declared
/// shape is left for the verifier to report rather than allocated.
const MAX_BROADCAST: u64 = 1 << 24;

/// Rewrites `p` into compiler form; see the module documentation for what changes.
pub fn canonicalize(p: &mut Program) {
    sort_attributes(&mut p.attributes);
    for f in &mut p.functions {
        sort_attributes(&mut f.attributes);
        let opset = f.opset.clone();
        let mut editor = f.edit();
        if p.version == "1.0" {
            editor.spell_names_as_rank0(true);
        }
        let order = editor.function().walk_ops();
        name_unnamed_ops(&mut editor, &order);
        for &op in &order {
            let o = editor.function().op(op);
            let keys = positional_keys(&o.kind, o.opset.as_deref().unwrap_or(&opset), &o.args);
            let sorted = o.args.is_sorted_by(|a, b| a.key <= b.key);
            if !keys.is_empty() || !sorted {
                edit(editor.edit_args(op, |args| {
                    for (i, key) in keys {
                        args[i].key = Some(key.into());
                    }
                    args.sort_by(|a, b| a.key.cmp(&b.key));
                }));
            }
            if !editor
                .function()
                .op(op)
                .attributes
                .is_sorted_by(|a, b| a.key <= b.key)
            {
                edit(editor.edit_attributes(op, |a| sort_attributes(a)));
            }
            broadcast_scalar_const(&mut editor, op);
        }
    }
}

/// Unwraps an edit of an op taken from the function's own walk, which is live.
fn edit<T>(result: Result<T, crate::mutate::EditError>) -> T {
    result.expect("the op was walked to, so it is live")
}

/// The keys of the catalogue inputs at the positions of positional arguments, when the op is
/// known in its opset and that key is not given elsewhere.
fn positional_keys(kind: &str, opset: &str, args: &[Argument]) -> Vec<(usize, &'static str)> {
    let Ok(version) = crate::catalogue::lookup(kind, opset) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let Some(input) = version.inputs.get(i).filter(|_| a.key.is_none()) else {
            continue;
        };
        let given = |k: &str| args.iter().any(|a| a.key.as_deref() == Some(k));
        if !given(input.name) && keys.iter().all(|&(_, k)| k != input.name) {
            keys.push((i, input.name));
        }
    }
    keys
}

/// Sorts attributes by key; the sort is stable, so duplicate keys keep their order.
fn sort_attributes(attributes: &mut [Attribute]) {
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
}

/// Gives every op without a `name` attribute a name unique within the function: its first
/// output's, or `<kind>_<n>` for an op without outputs.
fn name_unnamed_ops(editor: &mut Editor, order: &[OpId]) {
    for &id in order {
        let op = editor.function().op(id);
        if op.attribute("name").is_some() || op.is_runtime_boundary() {
            continue;
        }
        let named = match op.results.first() {
            Some(&first) => {
                let base = editor.function().value(first).name.clone();
                editor.set_op_name(id, &base)
            }
            None => {
                let kind = op.kind.clone();
                editor.set_numbered_op_name(id, &kind)
            }
        };
        edit(named);
    }
}

/// Spells a single-element `val` of a `const` as the full tensor its result declares.
fn broadcast_scalar_const(editor: &mut Editor, id: OpId) {
    let f = editor.function();
    let op = f.op(id);
    let [result] = op.results[..] else {
        return;
    };
    if op.kind != "const" {
        return;
    }
    let declared = &f.value(result).ty;
    let (Some(val), Some(shape), Some(count)) =
        (op.attribute("val"), declared.shape(), declared.element_count())
    else {
        return;
    };
    let (Some(elements), Some(val_shape)) = (val.elements(), val.ty.shape()) else {
        return;
    };
    let same_layout = count == 1 && val_shape.len() == shape.len();
    if elements.len() != 1 || same_layout || count > MAX_BROADCAST || val.ty.dtype() != declared.dtype() {
        return;
    }
    let Some(full) = elements.broadcast(count as usize) else {
        return;
    };
    let full = TypedValue {
        ty: declared.clone(),
        data: ConstData::Tensor(full),
    };
    edit(editor.edit_attributes(id, |attributes| {
        if let Some(a) = attributes.iter_mut().find(|a| a.key == "val") {
            a.value = full;
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Use;
    use crate::constant::Elements;
    use crate::printer::print_program;
    use crate::printer::testing::*;
    use crate::program::Operand;
    use crate::types::{DType, Type};
    use expect_test::expect;
    use half::f16;

    fn fp16(x: f32) -> Elements {
        Elements::F16(vec![f16::from_f32(x)])
    }

    #[test]
    fn sorts_names_and_broadcasts_lenient_forms() {
        let x_ty = Type::tensor(DType::Fp16, &[1, 4]);
        let mut b = Builder::new("main", "ios18");
        let x = b.param(x_ty.clone(), "x");
        b.param(Type::State(Box::new(x_ty.clone())), "s");
        b.function().attributes = vec![
            attr("b_cost", scalar(DType::Int32, Elements::Int(vec![1]))),
            attr("A_cost", scalar(DType::Int32, Elements::Int(vec![0]))),
        ];
        let body = b.body();
        let konst = |b: &mut Builder, ty: Type, out: &str, attrs: Vec<Attribute>| {
            b.op(body, &[(ty, out)], "const", vec![], attrs);
        };
        // A bare scalar for a rank-2 tensor: broadcast, and named after its output.
        let eps = scalar(DType::Fp16, fp16(1e-6));
        konst(
            &mut b,
            Type::tensor(DType::Fp16, &[2, 2]),
            "eps",
            vec![attr("val", eps)],
        );
        // One element of another rank: broadcast; attributes sorted.
        let one = tensor(DType::Fp16, &[1], fp16(1.0));
        konst(
            &mut b,
            Type::tensor(DType::Fp16, &[1, 1, 1, 1]),
            "one",
            vec![attr("val", one), name("z")],
        );
        // Same count and rank (a rank-0 tensor for a bare scalar): left alone.
        let two = tensor(DType::Fp16, &[], fp16(2.0));
        konst(
            &mut b,
            Type::Scalar(DType::Fp16),
            "two",
            vec![attr("val", two), name("two")],
        );
        // Another dtype: left for the verifier.
        let wrong = scalar(DType::Int32, Elements::Int(vec![1]));
        let wrong_ty = Type::tensor(DType::Fp16, &[2]);
        konst(
            &mut b,
            wrong_ty,
            "wrong",
            vec![attr("val", wrong), name("write_state_0")],
        );
        // Positional arguments first, in their order; keyed ones sorted; the name `z` is taken.
        let args = vec![
            keyed("y", b.var("one")),
            positional(b.var("x")),
            keyed("alpha", b.var("two")),
            positional(b.var("two")),
        ];
        b.op(body, &[(x_ty.clone(), "z")], "mul", args, vec![]);
        // Ops without outputs: `<kind>_<n>`, skipping taken names.
        for _ in 0..2 {
            let args = vec![b.arg("input", "s"), b.arg("data", "z")];
            b.op(body, &[], "write_state", args, vec![]);
        }
        b.outputs(body, &["z"]);
        let mut p = program("1.3", vec![], vec![b.finish()]);
        p.attributes = vec![
            attr("zeta", TypedValue::string("z")),
            attr("buildInfo", TypedValue::string("b")),
        ];
        canonicalize(&mut p);
        expect![[r#"
            program(1.3)
            [buildInfo = string("b"), zeta = string("z")]
            {
                func main<ios18>(tensor<fp16, [1, 4]> x, state<tensor<fp16, [1, 4]>> s) [A_cost = int32(0), b_cost = int32(1)] {
                        tensor<fp16, [2, 2]> eps = const()[name = string("eps"), val = tensor<fp16, [2, 2]>([[0x1.1p-20, 0x1.1p-20], [0x1.1p-20, 0x1.1p-20]])];
                        tensor<fp16, [1, 1, 1, 1]> one = const()[name = string("z"), val = tensor<fp16, [1, 1, 1, 1]>([[[[0x1p+0]]]])];
                        fp16 two = const()[name = string("two"), val = tensor<fp16, []>(0x1p+1)];
                        tensor<fp16, [2]> wrong = const()[name = string("write_state_0"), val = int32(1)];
                        tensor<fp16, [1, 4]> z = mul(x, two, alpha = two, y = one)[name = string("z_1")];
                        write_state(data = z, input = s)[name = string("write_state_1")];
                        write_state(data = z, input = s)[name = string("write_state_2")];
                    } -> (z);
            }"#]]
        .assert_eq(&print_program(&p));
        // Use lists follow the arguments to their new places.
        let f = &p.functions[0];
        let mul = OpId(4);
        assert_eq!(
            f.value(x).uses,
            vec![Use::Operand {
                op: mul,
                arg: 0,
                item: None
            }]
        );
        let two = f.lookup("two").unwrap();
        let mut two_args: Vec<u32> = f
            .value(two)
            .uses
            .iter()
            .filter_map(|u| match u {
                Use::Operand { arg, .. } => Some(*arg),
                Use::Output { .. } => None,
            })
            .collect();
        two_args.sort();
        assert_eq!(two_args, vec![1, 2]);
        assert!(matches!(&f.op(mul).args[1].value, Operand::Value(r) if r.name == "two"));
    }

    #[test]
    fn names_in_the_spelling_of_the_program() {
        let ty = Type::tensor(DType::Fp32, &[2]);
        let relu = |rank0_neighbour: bool| {
            let mut b = Builder::new("main", "ios17");
            b.param(ty.clone(), "x");
            let body = b.body();
            let named = if rank0_neighbour {
                name_rank0("a")
            } else {
                name("a")
            };
            b.op(
                body,
                &[(ty.clone(), "a")],
                "relu",
                vec![b.arg("x", "x")],
                vec![named],
            );
            b.op(body, &[(ty.clone(), "b")], "relu", vec![b.arg("x", "a")], vec![]);
            b.outputs(body, &["b"]);
            b.finish()
        };
        let mut p = program("1.0", vec![], vec![relu(false)]);
        canonicalize(&mut p);
        let mut q = program("1.3", vec![], vec![relu(true), relu(false)]);
        canonicalize(&mut q);
        expect![[r#"
            program(1.0)
            {
                func main<ios17>(tensor<fp32, [2]> x) {
                        tensor<fp32, [2]> a = relu(x = x)[name = string("a")];
                        tensor<fp32, [2]> b = relu(x = a)[name = tensor<string, []>("b")];
                    } -> (b);
            }
            program(1.3)
            {
                func main<ios17>(tensor<fp32, [2]> x) {
                        tensor<fp32, [2]> a = relu(x = x)[name = tensor<string, []>("a")];
                        tensor<fp32, [2]> b = relu(x = a)[name = tensor<string, []>("b")];
                    } -> (b);
                func main<ios17>(tensor<fp32, [2]> x) {
                        tensor<fp32, [2]> a = relu(x = x)[name = string("a")];
                        tensor<fp32, [2]> b = relu(x = a)[name = string("b")];
                    } -> (b);
            }"#]]
        .assert_eq(&format!("{}\n{}", print_program(&p), print_program(&q)));
    }

    #[test]
    fn names_ops_inside_nested_blocks_uniquely() {
        let ty = Type::tensor(DType::Fp32, &[2]);
        let mut b = Builder::new("main", "ios17");
        b.param(Type::Scalar(DType::Bool), "p");
        b.param(ty.clone(), "x");
        let body = b.body();
        let cond = b.op(
            body,
            &[(ty.clone(), "y")],
            "cond",
            vec![b.arg("pred", "p")],
            vec![],
        );
        for _ in 0..2 {
            let block = b.block(cond, &[]);
            b.op(block, &[(ty.clone(), "y")], "relu", vec![b.arg("x", "x")], vec![]);
            b.outputs(block, &["y"]);
        }
        b.outputs(body, &["y"]);
        let mut p = program("1.3", vec![], vec![b.finish()]);
        canonicalize(&mut p);
        expect![[r#"
            program(1.3)
            {
                func main<ios17>(bool p, tensor<fp32, [2]> x) {
                        tensor<fp32, [2]> y = cond(pred = p)[name = string("y")]
                            block() {
                                    tensor<fp32, [2]> y = relu(x = x)[name = string("y_1")];
                                } -> (y)
                            block() {
                                    tensor<fp32, [2]> y = relu(x = x)[name = string("y_2")];
                                } -> (y);
                    } -> (y);
            }"#]]
        .assert_eq(&print_program(&p));
    }
}
