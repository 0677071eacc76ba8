//! The proof of `split-axis`: for random chains of convs and elementwise ops along an axis longer
//! than 65,536 (batch, channels with depthwise convs, height or width with convs of random
//! kernels, strides, dilations and padding), and random inputs with edge values, the program and
//! its rewrite give the same output in the reference interpreter — fp32 within a relative error of
//! 1e-5 (floor 1: a conv output is a sum of O(1) terms), fp16 at a PSNR of at least 60 dB. The
//! rewritten program passes the verifier and the type checker, prints to text that parses back to
//! the same text, and our planner finds the axis above 65,536 (ANE014) only on the slices of the
//! chain's input and the concat of its output, where it names no rewrite. Then the planner's verdicts: offered on a chain
//! heavy enough to pay for the Neural Engine's launch and switches, not on the corpus's chain of
//! one channel.

mod common;

use common::{find, parse, random_values, tensor_type, well_formed};
use mil_ane::Target;
use mil_ane::placement::{Source, place_function};
use mil_ane::rule::Fix;
use mil_ane::rules::Site;
use mil_eval::inputs::SplitMix;
use mil_eval::{Named, Tensor};
use mil_ir::{DType, Program};
use mil_rewrite::helps::assess;
use mil_rewrite::proof::compare;
use mil_rewrite::split_axis::SPLIT_AXIS;
use mil_rewrite::{applicable, apply};
use proptest::prelude::*;

/// A chain under test: its text, its inputs' names and shapes (`x`, then the convs' weights and
/// biases), and the kind of the op the rewrite is asked to take.
///
/// The weights are function inputs rather than constants, as a kernel in a weight file is to the
/// rewrite (it slices the weight where it is).
struct Case {
    text: String,
    inputs: Vec<Input>,
    anchor: &'static str,
}

fn list(v: &[usize]) -> String {
    let items: Vec<String> = v.iter().map(usize::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// A random chain of 1–4 ops along `axis`, 65,537 to 85,536 long, drawn from `seed`.
fn chain(dtype: DType, axis: usize, seed: u64) -> Case {
    let mut rng = SplitMix::new(seed);
    let mut pick = |n: u64| (rng.next_u64() % n) as usize;
    let long = 65_537 + pick(20_000);
    let mut shape = match axis {
        0 => vec![long, 1, 1, 1 + pick(3)],
        1 => vec![1, long, 1 + pick(2), 1 + pick(2)],
        2 => vec![1, 1 + pick(2), long, 1 + pick(2)],
        _ => vec![1 + pick(2), 1 + pick(2), 1 + pick(2), long],
    };
    let mut inputs = vec![("x".to_string(), shape.clone())];
    let mut body = String::new();
    let mut x = "x".to_string();
    let stages = 1 + pick(4);
    let mut anchor = "";
    for i in 0..stages {
        let name = if i + 1 == stages {
            "out".to_string()
        } else {
            format!("v{i}")
        };
        let kind = pick(6);
        let (statement, out, op) = if kind < 2 {
            let (statement, out, weight, bias) = conv(&mut pick, axis, &shape, &x, i);
            inputs.extend([weight, bias]);
            (statement, out, "conv")
        } else {
            let d = dtype.name();
            let s = match kind {
                2 => format!("relu(x = {x})"),
                3 => format!("sigmoid(x = {x})"),
                4 => format!("clip(alpha = {d}(-0.5), beta = {d}(0.5), x = {x})"),
                _ => format!("mul(x = {d}(0.75), y = {x})"),
            };
            (s, shape.clone(), ["relu", "sigmoid", "clip", "mul"][kind - 2])
        };
        if i == 0 {
            anchor = op;
        }
        body += &format!(
            "        {} {name} = {statement}[name = string(\"{name}\")];\n",
            tensor_type(dtype, &out)
        );
        shape = out;
        x = name;
    }
    let params: Vec<String> = inputs
        .iter()
        .map(|(n, s)| format!("{} {n}", tensor_type(dtype, s)))
        .collect();
    let text = format!(
        "program(1.3)\n{{\n    func main<ios18>({}) {{\n{body}    }} -> (out);\n}}\n",
        params.join(", ")
    );
    Case { text, inputs, anchor }
}

/// A function input: its name and shape.
type Input = (String, Vec<usize>);

/// The conv number `i` on `x` of `shape`, keeping `axis` long: depthwise along the channels,
/// with random 1–3 kernels, strides, dilations and custom or `same` padding otherwise. Returns the
/// statement, the output's shape, and its weight and bias inputs.
fn conv(
    pick: &mut impl FnMut(u64) -> usize,
    axis: usize,
    shape: &[usize],
    x: &str,
    i: usize,
) -> (String, Vec<usize>, Input, Input) {
    let (cin, depthwise) = (shape[1], axis == 1);
    let cout = if depthwise { cin } else { 1 + pick(2) };
    let groups = if depthwise { cin } else { 1 };
    let kernel = [1 + pick(3), 1 + pick(3)];
    let dilations = [1, 1].map(|_| 1 + usize::from(pick(4) == 0));
    let spans: Vec<usize> = (0..2).map(|d| (kernel[d] - 1) * dilations[d] + 1).collect();
    // Padding at least what the kernel needs on a short axis.
    let pads: Vec<usize> = (0..2)
        .flat_map(|d| {
            let need = spans[d].saturating_sub(shape[d + 2]);
            [need / 2 + pick(2), need - need / 2 + pick(2)]
        })
        .collect();
    // `same` padding a third of the time (the rewrite works its pads out as MIL defines them).
    let same = pick(3) == 0;
    let outputs = |strides: [usize; 2]| -> Vec<usize> {
        let spatial = (0..2).map(|d| match same {
            true => shape[d + 2].div_ceil(strides[d]),
            false => (shape[d + 2] + pads[2 * d] + pads[2 * d + 1] - spans[d]) / strides[d] + 1,
        });
        [shape[0], cout].into_iter().chain(spatial).collect()
    };
    // Strides of 2 now and then, unless they take the long axis below the limit.
    let strides = [1, 1].map(|_| 1 + usize::from(pick(4) == 0));
    let strides = if outputs(strides)[axis] > 65_536 {
        strides
    } else {
        [1, 1]
    };
    let out = outputs(strides);
    let (weight, bias) = (format!("w{i}"), format!("b{i}"));
    let padding = match same {
        true => "pad_type = string(\"same\")".to_string(),
        false => format!("pad = {}, pad_type = string(\"custom\")", list(&pads)),
    };
    let statement = format!(
        "conv(bias = {bias}, dilations = {}, groups = {groups}, {padding}, strides = {}, weight = {weight}, x = {x})",
        list(&dilations),
        list(&strides),
    );
    let w_shape = vec![cout, cin / groups, kernel[0], kernel[1]];
    (statement, out, (weight, w_shape), (bias, vec![cout]))
}

/// Random inputs in [−2, 2], with edge values (0, ±1) first.
fn inputs(case: &Case, dtype: DType, seed: u64) -> Named {
    let mut rng = SplitMix::new(seed);
    case.inputs
        .iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let values = random_values(&mut rng, n, -2.0, 2.0, &[0.0, 1.0, -1.0]);
            (name.clone(), Tensor::from_f32(dtype, shape.clone(), values))
        })
        .collect()
}

/// The rules our planner finds in `p`, with the kind of the op each is on and whether it names a
/// rewrite.
fn findings(p: &Program) -> Vec<(&'static str, String, bool)> {
    let f = &p.functions[0];
    let placed = place_function(f, Target::default(), Source::Ours);
    placed
        .findings
        .iter()
        .map(|x| {
            let kind = match x.site {
                Site::Op(op) => f.op(op).kind.to_string(),
                _ => String::new(),
            };
            (x.rule.code.id, kind, matches!(x.fix, Some(Fix::Rewrite(..))))
        })
        .collect()
}

fn prove(case: &Case, dtype: DType, seed: u64) {
    let text = &case.text;
    let (original, map) = parse(text);
    let op = find(&original, case.anchor);
    let (mut rewritten, mut map_after) = (original.clone(), map.clone());
    apply(
        &SPLIT_AXIS,
        &mut rewritten.functions[0],
        &mut map_after.functions[0],
        op,
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let (_, reparsed) = well_formed(&rewritten, &map_after);
    let long: Vec<(String, bool)> = findings(&reparsed)
        .into_iter()
        .filter(|(rule, ..)| *rule == "ANE014")
        .map(|(_, kind, rewrite)| (kind, rewrite))
        .collect();
    // The slices and the concat name no rewrite: split-axis does not take them.
    let long: Vec<String> = long
        .into_iter()
        .inspect(|(kind, rewrite)| assert!(!rewrite, "ANE014 on {kind} names a rewrite"))
        .map(|(kind, _)| kind)
        .collect();
    assert!(
        long.iter().all(|k| k == "slice_by_size" || k == "concat"),
        "{long:?}\n{text}"
    );
    assert!(long.iter().any(|k| k == "concat"), "{long:?}");
    for k in 0..2 {
        let inputs = inputs(case, dtype, seed.wrapping_mul(31).wrapping_add(k));
        for a in compare(&original, &reparsed, &inputs, 1.0).unwrap() {
            match dtype {
                DType::Fp16 => assert!(a.psnr_db >= 60.0, "{a:?}\n{text}"),
                _ => assert!(a.max_rel_error <= 1e-5, "{a:?}\n{text}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn fp32_split_axis_agrees(axis in 0..4usize, seed in any::<u64>()) {
        prove(&chain(DType::Fp32, axis, seed), DType::Fp32, seed);
    }

    #[test]
    fn fp16_split_axis_agrees(axis in 0..4usize, seed in any::<u64>()) {
        prove(&chain(DType::Fp16, axis, seed), DType::Fp16, seed);
    }
}

/// Every axis on two fixed seeds in both precisions, so that each is proven on every run.
#[test]
fn split_axis_agrees_on_fixed_seeds() {
    for axis in 0..4 {
        for seed in 0..2 {
            for dtype in [DType::Fp32, DType::Fp16] {
                prove(&chain(dtype, axis, seed), dtype, seed);
            }
        }
    }
}

/// `conv 3×3 → relu` four times over `[1, c, 1, w]` in fp16, the weights an input (as in the
/// corpus's `relu_w65537.mil` for `c` = 1).
fn conv_chain(c: usize, w: usize) -> Program {
    let t = tensor_type(DType::Fp16, &[1, c, 1, w]);
    let mut body = String::new();
    let mut x = "x".to_string();
    for i in 0..4 {
        let (a, r) = (
            format!("c{i}"),
            if i == 3 { "out".into() } else { format!("r{i}") },
        );
        body += &format!(
            "        {t} {a} = conv(dilations = [1, 1], groups = 1, pad_type = string(\"same\"), strides = [1, 1], weight = k, x = {x})[name = string(\"{a}\")];\n        {t} {r} = relu(x = {a})[name = string(\"{r}\")];\n"
        );
        x = r;
    }
    let text = format!(
        "program(1.3)\n{{\n    func main<ios18>({t} x, tensor<fp16, [{c}, {c}, 3, 3]> k) {{\n{body}    }} -> (out);\n}}\n"
    );
    parse(&text).0
}

/// Whether the planner runs every conv and relu of `p` on the Neural Engine.
fn chain_on_the_ane(p: &Program) -> bool {
    let placed = place_function(&p.functions[0], Target::default(), Source::Ours);
    placed
        .planned()
        .filter(|o| ["conv", "relu"].contains(&o.kind))
        .all(|o| o.device == mil_ane::Device::Ane)
}

#[test]
fn a_heavy_chain_is_split_onto_the_ane() {
    let p = conv_chain(16, 70_000);
    let (_, map) = parse(&mil_ir::printer::print_program(&p));
    let f = &p.functions[0];
    let op = find(&p, "relu");
    assert_eq!(
        applicable(f, op).map(|r| r.id).collect::<Vec<_>>(),
        [SPLIT_AXIS.id]
    );
    let a = assess(&p, &map.functions[0], 0, op, &SPLIT_AXIS, Target::default()).unwrap();
    assert!(a.helps(), "{}", a.title);
    assert!(a.after_ms < a.before_ms / 1.5, "{}", a.title);
    assert!(chain_on_the_ane(&a.rewritten));
    // The whole chain is one region: two pieces of each of the eight ops, their slices and one concat.
    let g = &a.rewritten.functions[0];
    let kinds: Vec<&str> = g.walk_ops().iter().map(|&o| g.op(o).kind.as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "conv").count(), 8);
    assert_eq!(kinds.iter().filter(|k| **k == "concat").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "slice_by_size").count(), 2);
}

#[test]
fn the_corpus_chain_of_one_channel_is_not_offered() {
    let p = conv_chain(1, 65_537);
    let (_, map) = parse(&mil_ir::printer::print_program(&p));
    let op = find(&p, "conv");
    let a = assess(&p, &map.functions[0], 0, op, &SPLIT_AXIS, Target::default()).unwrap();
    // Four tiny convs cost less on the CPU than the Neural Engine's launch and two switches.
    assert!(!a.helps(), "{}", a.title);
}

#[test]
fn what_is_not_split_says_why() {
    let why = |text: &str, kind: &str| {
        let (p, _) = parse(text);
        SPLIT_AXIS.check(&p.functions[0], find(&p, kind)).unwrap_err().0
    };
    let program = |x: &str, statement: &str, out: &str| {
        format!(
            "program(1.3)\n{{\n    func main<ios18>({x} x) {{\n        {out} out = {statement}[name = string(\"out\")];\n    }} -> (out);\n}}\n"
        )
    };
    let short = "tensor<fp32, [1, 4, 1, 65536]>";
    assert_eq!(
        why(&program(short, "relu(x = x)", short), "relu"),
        "no axis is above 65,536"
    );
    let two = "tensor<fp32, [1, 65537, 1, 65537]>";
    assert_eq!(
        why(&program(two, "relu(x = x)", two), "relu"),
        "more than one axis is above 65,536"
    );
    let (x, y) = ("tensor<fp32, [1, 65537, 1, 1]>", "tensor<fp32, [1, 2, 1, 1]>");
    let mixing = "conv(weight = tensor<fp32, [2, 65537, 1, 1]>(BLOBFILE(path = string(\"@model_path/weights/weights.bin\"), offset = uint64(64))), x = x)";
    assert_eq!(
        why(&program(x, mixing, y), "conv"),
        "the conv mixes channels (only a depthwise conv is split along them)"
    );
}
