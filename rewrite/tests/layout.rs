//! The proof of `linear-to-conv1x1`: for random shapes, weights and inputs, a projection (`linear`
//! with and without bias, `matmul` by a constant with and without `transpose_y`, on (S, C) and
//! (B, S, C)) and its rewrite give the same outputs in the reference interpreter — fp32 within a
//! relative error of 1e-5, fp16 at a PSNR of at least 60 dB — and the rewritten program passes the
//! verifier and the type checker and prints to text that parses back to the same text. A chain of
//! projections with elementwise ops between them, rewritten one projection at a time, ends with
//! one layout change at each end and the same outputs.
//!
//! The relative error's floor is 1: the outputs are sums of C products of O(1) values, whose
//! rounding error is relative to the sum of their magnitudes, not to the sum.

mod common;

use common::{agrees, find, input_seeds, parse, random_inputs, rewrite_first, tensor_type, well_formed};
use mil_eval::Named;
use mil_eval::inputs::SplitMix;
use mil_ir::{DType, Program};
use mil_rewrite::apply;
use mil_rewrite::linear_to_conv::LINEAR_TO_CONV1X1;
use mil_rewrite::proof::compare;
use proptest::prelude::*;

/// A constant of `shape` with values in [−1, 1) drawn from `rng`.
fn constant(rng: &mut SplitMix, dtype: DType, name: &str, shape: &[u64]) -> String {
    let n: u64 = shape.iter().product();
    let values: Vec<String> = (0..n).map(|_| format!("{:?}", 2.0 * rng.unit() - 1.0)).collect();
    let t = tensor_type(dtype, shape);
    format!(
        "        {t} {name} = const()[name = string(\"{name}\"), val = {t}([{}])];\n",
        values.join(", ")
    )
}

/// How the projection is written.
#[derive(Clone, Copy, Debug)]
enum Form {
    Linear { bias: bool },
    Matmul { transpose_y: bool },
}

/// The program `out = projection(x)` of `x: shape` to `cout` channels.
fn program_text(form: Form, dtype: DType, shape: &[u64], cout: u64, seed: u64) -> String {
    let mut rng = SplitMix::new(seed);
    let cin = *shape.last().unwrap();
    let mut out_shape = shape.to_vec();
    *out_shape.last_mut().unwrap() = cout;
    let mut body = String::new();
    let call = match form {
        Form::Linear { bias } => {
            body += &constant(&mut rng, dtype, "w", &[cout, cin]);
            if bias {
                body += &constant(&mut rng, dtype, "b", &[cout]);
            }
            format!(
                "linear(x = x, weight = w{})",
                if bias { ", bias = b" } else { "" }
            )
        }
        Form::Matmul { transpose_y } => {
            let dims = if transpose_y { [cout, cin] } else { [cin, cout] };
            body += &constant(&mut rng, dtype, "w", &dims);
            format!("matmul(transpose_x = false, transpose_y = {transpose_y}, x = x, y = w)")
        }
    };
    format!(
        "program(1.3)\n{{\n    func main<ios18>({} x) {{\n{body}        {} out = {call}[name = string(\"out\")];\n    }} -> (out);\n}}\n",
        tensor_type(dtype, shape),
        tensor_type(dtype, &out_shape),
    )
}

/// Random inputs in [−1, 1), with 0 and ±1 first.
fn inputs(p: &Program, seed: u64) -> Named {
    random_inputs(p, seed, -1.0, 1.0, &[0.0, 1.0, -1.0])
}

/// Checks `rewritten` against `original` as the module's documentation says; returns its text.
fn check(
    original: &Program,
    rewritten: &Program,
    map: &mil_ir::SourceMap,
    dtype: DType,
    seed: u64,
) -> String {
    let (printed, reparsed) = well_formed(rewritten, map);
    for seed in input_seeds(seed) {
        let inputs = inputs(original, seed);
        for a in compare(original, &reparsed, &inputs, 1.0).unwrap() {
            assert!(agrees(dtype, &a, a.max_rel_error, 0.0), "{a:?}\n{printed}");
        }
    }
    printed
}

/// Rewrites the projection and checks the result.
fn prove(form: Form, dtype: DType, shape: &[u64], cout: u64, seed: u64) {
    let text = program_text(form, dtype, shape, cout, seed);
    let (original, map) = parse(&text);
    let kind = match form {
        Form::Linear { .. } => "linear",
        Form::Matmul { .. } => "matmul",
    };
    let (rewritten, map_after) = rewrite_first(&LINEAR_TO_CONV1X1, &original, &map, kind);
    let printed = check(&original, &rewritten, &map_after, dtype, seed);
    assert!(
        printed.contains("conv(") && !printed.contains(&format!("{kind}(")),
        "{printed}"
    );
}

/// `text` with every `linear` rewritten one at a time, checked against the original (see [`check`]):
/// the printed result and its op kinds but the consts.
fn every_linear_rewritten(text: &str, dtype: DType, seed: u64) -> (String, Vec<String>) {
    let (original, map) = parse(text);
    let (mut rewritten, mut map_after) = (original.clone(), map.clone());
    while let Some(op) = {
        let f = &rewritten.functions[0];
        f.walk_ops().into_iter().find(|&op| f.op(op).kind == "linear")
    } {
        apply(
            &LINEAR_TO_CONV1X1,
            &mut rewritten.functions[0],
            &mut map_after.functions[0],
            op,
        )
        .unwrap();
    }
    let printed = check(&original, &rewritten, &map_after, dtype, seed);
    let f = &rewritten.functions[0];
    let kinds = (f.walk_ops().into_iter())
        .map(|op| f.op(op).kind.to_string())
        .filter(|k| k != "const")
        .collect();
    (printed, kinds)
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        any::<bool>().prop_map(|bias| Form::Linear { bias }),
        any::<bool>().prop_map(|transpose_y| Form::Matmul { transpose_y }),
    ]
}

fn shape() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(1u64..9, 2..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fp32_projections_agree(form in form(), shape in shape(), cout in 1u64..9, seed in any::<u64>()) {
        prove(form, DType::Fp32, &shape, cout, seed);
    }

    #[test]
    fn fp16_projections_agree(form in form(), shape in shape(), cout in 1u64..9, seed in any::<u64>()) {
        prove(form, DType::Fp16, &shape, cout, seed);
    }
}

/// Every form, rank and dtype on fixed shapes, so that each is proven on every run.
#[test]
fn every_form_agrees_on_fixed_shapes() {
    let forms = [
        Form::Linear { bias: true },
        Form::Linear { bias: false },
        Form::Matmul { transpose_y: true },
        Form::Matmul { transpose_y: false },
    ];
    for form in forms {
        for dtype in [DType::Fp32, DType::Fp16] {
            for (seed, shape) in [&[2u64, 5, 3][..], &[7, 4]].into_iter().enumerate() {
                prove(form, dtype, shape, 6, seed as u64);
            }
        }
    }
}

/// `linear → relu → linear → gelu → linear` (B, S, C), rewritten one linear at a time in program
/// order: between the convs no layout op is left, one transpose and one reshape at each end.
#[test]
fn a_chain_keeps_one_layout_change_at_each_end() {
    for dtype in [DType::Fp32, DType::Fp16] {
        let mut rng = SplitMix::new(7);
        let mut body = String::new();
        for (i, (cout, cin)) in [(8u64, 4u64), (6, 8), (4, 6)].into_iter().enumerate() {
            body += &constant(&mut rng, dtype, &format!("w{i}"), &[cout, cin]);
            body += &constant(&mut rng, dtype, &format!("b{i}"), &[cout]);
        }
        let t = |c: u64| tensor_type(dtype, &[2, 5, c]);
        let text = format!(
            "program(1.3)\n{{\n    func main<ios18>({} x) {{\n{body}\
             \x20       {} h0 = linear(x = x, weight = w0, bias = b0)[name = string(\"h0\")];\n\
             \x20       {} a0 = relu(x = h0)[name = string(\"a0\")];\n\
             \x20       {} h1 = linear(x = a0, weight = w1, bias = b1)[name = string(\"h1\")];\n\
             \x20       {} a1 = gelu(mode = string(\"EXACT\"), x = h1)[name = string(\"a1\")];\n\
             \x20       {} out = linear(x = a1, weight = w2, bias = b2)[name = string(\"out\")];\n\
             \x20   }} -> (out);\n}}\n",
            t(4),
            t(8),
            t(8),
            t(6),
            t(6),
            t(4)
        );
        let (printed, kinds) = every_linear_rewritten(&text, dtype, 11);
        assert_eq!(
            kinds,
            [
                "transpose",
                "reshape",
                "conv",
                "relu",
                "conv",
                "gelu",
                "conv",
                "reshape",
                "transpose"
            ],
            "{printed}"
        );
        assert!(
            printed.contains("} -> (out);"),
            "the output keeps its name:\n{printed}"
        );
    }
}

/// At a transformer's sizes the planner finds the conv cheaper: a (1, 128, 144) fp16 projection
/// between two relus is offered, its title saying so (the planner runs this small graph on the
/// CPU before and after; the conv is priced well below the linear there too).
#[test]
fn the_rewrite_helps_at_a_transformers_sizes() {
    let mut rng = SplitMix::new(3);
    let t = tensor_type(DType::Fp16, &[1, 128, 144]);
    let text = format!(
        "program(1.3)\n{{\n    func main<ios18>({t} x) {{\n{}\
         \x20       {t} a = relu(x = x)[name = string(\"a\")];\n\
         \x20       {t} h = linear(x = a, weight = w)[name = string(\"h\")];\n\
         \x20       {t} out = relu(x = h)[name = string(\"out\")];\n\
         \x20   }} -> (out);\n}}\n",
        constant(&mut rng, DType::Fp16, "w", &[144, 144])
    );
    let (p, map) = parse(&text);
    let op = find(&p, "linear");
    let target = mil_ane::Target::default();
    let a = mil_rewrite::helps::assess(&p, &map.functions[0], 0, op, &LINEAR_TO_CONV1X1, target).unwrap();
    assert!(a.helps() && a.after_ms < a.before_ms, "{}", a.title);
    assert!(
        a.title
            .starts_with("Rewrite linear as a 1×1 conv in (B, C, 1, S) — CPU → CPU, est. "),
        "{}",
        a.title
    );
}

/// Two residual blocks, `y = x + linear(relu(linear(x)))` and `out = y + linear(relu(linear(y)))`
/// on (B, S, C), rewritten one linear at a time in program order: the residual `add`s stay in
/// (B, C, 1, S) with the convs, so one transpose and one reshape are left at each end and none
/// between the blocks, and the outputs are the same.
#[test]
fn residual_blocks_keep_one_layout_change_at_each_end() {
    // (B, S, C, hidden widths): a batch, a sequence of one, one channel.
    let shapes = [
        (2u64, 5u64, 4u64, [8u64, 6]),
        (1, 1, 3, [2, 5]),
        (3, 4, 1, [3, 1]),
    ];
    for ((b, s, c, [h0, h1]), dtype) in shapes
        .into_iter()
        .flat_map(|shape| [DType::Fp32, DType::Fp16].map(|d| (shape, d)))
    {
        let mut rng = SplitMix::new(9);
        let mut body = String::new();
        for (i, (cout, cin)) in [(h0, c), (c, h0), (h1, c), (c, h1)].into_iter().enumerate() {
            body += &constant(&mut rng, dtype, &format!("w{i}"), &[cout, cin]);
            body += &constant(&mut rng, dtype, &format!("b{i}"), &[cout]);
        }
        let t = |c: u64| tensor_type(dtype, &[b, s, c]);
        let text = format!(
            "program(1.3)\n{{\n    func main<ios18>({} x) {{\n{body}\
             \x20       {} h0 = linear(x = x, weight = w0, bias = b0)[name = string(\"h0\")];\n\
             \x20       {} a0 = relu(x = h0)[name = string(\"a0\")];\n\
             \x20       {} h1 = linear(x = a0, weight = w1, bias = b1)[name = string(\"h1\")];\n\
             \x20       {} y = add(x = x, y = h1)[name = string(\"y\")];\n\
             \x20       {} h2 = linear(x = y, weight = w2, bias = b2)[name = string(\"h2\")];\n\
             \x20       {} a2 = relu(x = h2)[name = string(\"a2\")];\n\
             \x20       {} h3 = linear(x = a2, weight = w3, bias = b3)[name = string(\"h3\")];\n\
             \x20       {} out = add(x = h3, y = y)[name = string(\"out\")];\n\
             \x20   }} -> (out);\n}}\n",
            t(c),
            t(h0),
            t(h0),
            t(c),
            t(c),
            t(h1),
            t(h1),
            t(c),
            t(c)
        );
        let (printed, kinds) = every_linear_rewritten(&text, dtype, 13);
        assert_eq!(
            kinds,
            [
                "transpose",
                "reshape",
                "conv",
                "relu",
                "conv",
                "add",
                "conv",
                "relu",
                "conv",
                "add",
                "reshape",
                "transpose"
            ],
            "{printed}"
        );
        assert!(printed.contains("} -> (out);"), "{printed}");
    }
}
