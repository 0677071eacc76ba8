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

use rustc_hash::{FxHashMap, FxHashSet};

use crate::constant::{ConstData, Elements, TypedValue};
use crate::program::{Attribute, Function, OpId, Operation, Program};
use crate::types::{DType, Type};

/// The largest tensor a single-element `const` is broadcast to (in elements); a larger declared
/// shape is left for the verifier to report rather than allocated.
const MAX_BROADCAST: u64 = 1 << 24;

/// Rewrites `p` into compiler form; see the module documentation for what changes.
pub fn canonicalize(p: &mut Program) {
    sort_attributes(&mut p.attributes);
    for f in &mut p.functions {
        sort_attributes(&mut f.attributes);
        let rank0_names = p.version == "1.0" || uses_rank0_names(f);
        name_unnamed_ops(f, rank0_names);
        for op in &mut f.ops {
            key_positional_arguments(op, &f.opset);
            op.args.sort_by(|a, b| a.key.cmp(&b.key));
            sort_attributes(&mut op.attributes);
        }
        for i in 0..f.ops.len() {
            broadcast_scalar_const(f, OpId(i as u32));
        }
        f.recompute_uses();
    }
}

/// Gives each positional argument the key of the catalogue input at its position, when the op is
/// known in its opset and that key is not given elsewhere.
fn key_positional_arguments(op: &mut Operation, function_opset: &str) {
    let opset = op.opset.as_deref().unwrap_or(function_opset);
    let Ok(version) = crate::catalogue::lookup(&op.kind, opset) else {
        return;
    };
    for i in 0..op.args.len() {
        if op.args[i].key.is_some() {
            continue;
        }
        let Some(input) = version.inputs.get(i) else {
            continue;
        };
        if op.args.iter().all(|a| a.key.as_deref() != Some(input.name)) {
            op.args[i].key = Some(input.name.into());
        }
    }
}

/// Sorts attributes by key; the sort is stable, so duplicate keys keep their order.
fn sort_attributes(attributes: &mut [Attribute]) {
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
}

/// Whether some op of `f` spells its name the program(1.0) way, `tensor<string, []>("...")`.
fn uses_rank0_names(f: &Function) -> bool {
    f.ops.iter().any(|op| {
        op.attribute("name").is_some_and(
            |v| matches!(&v.ty, Type::Tensor { dtype: DType::String, shape } if shape.is_empty()),
        )
    })
}

/// Gives every op without a `name` attribute a name unique within the function.
fn name_unnamed_ops(f: &mut Function, rank0: bool) {
    let mut taken: FxHashSet<String> = f
        .ops
        .iter()
        .filter_map(|op| op.name())
        .map(str::to_owned)
        .collect();
    // The next number to try for `<kind>_<n>`, per kind, so naming stays linear.
    let mut next_by_kind: FxHashMap<crate::Name, usize> = FxHashMap::default();
    for id in f.walk_ops() {
        let op = f.op(id);
        if op.attribute("name").is_some() || op.is_runtime_boundary() {
            continue;
        }
        let name = match op.results.first() {
            Some(&first) => unique(&taken, &f.value(first).name),
            None => {
                let next = next_by_kind.entry(op.kind.clone()).or_insert(0);
                let (name, n) = numbered(&taken, &op.kind, *next);
                *next = n + 1;
                name
            }
        };
        taken.insert(name.clone());
        let value = if rank0 {
            TypedValue {
                ty: Type::tensor(DType::String, &[]),
                data: ConstData::Tensor(Elements::Str(vec![name])),
            }
        } else {
            TypedValue::string(&name)
        };
        f.ops[id.index()].attributes.push(Attribute {
            key: "name".into(),
            value,
        });
    }
}

/// `base` itself if it is free, else the first free `base_<n>` for n = 1, 2, ...
fn unique(taken: &FxHashSet<String>, base: &str) -> String {
    if taken.contains(base) {
        numbered(taken, base, 1).0
    } else {
        base.to_owned()
    }
}

/// The first free `stem_<n>` counting n up from `from`, with the n it took.
fn numbered(taken: &FxHashSet<String>, stem: &str, from: usize) -> (String, usize) {
    let mut n = from;
    loop {
        let candidate = format!("{stem}_{n}");
        if !taken.contains(&candidate) {
            return (candidate, n);
        }
        n += 1;
    }
}

/// Spells a single-element `val` of a `const` as the full tensor its result declares.
fn broadcast_scalar_const(f: &mut Function, id: OpId) {
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
    if let Some(a) = f.ops[id.index()].attributes.iter_mut().find(|a| a.key == "val") {
        a.value = full;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Use;
    use crate::printer::print_program;
    use crate::printer::testing::*;
    use crate::program::Operand;
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
        let two_args: Vec<u32> = f
            .value(two)
            .uses
            .iter()
            .filter_map(|u| match u {
                Use::Operand { arg, .. } => Some(*arg),
                Use::Output { .. } => None,
            })
            .collect();
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
