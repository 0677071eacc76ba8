//! "Offered only when it helps": the planner's verdict before and after a rewrite, checked against
//! the planner run by hand on both programs.

mod common;

use common::{find, parse};
use mil_ane::placement::{Source, place_function};
use mil_ane::{Device, Target};
use mil_ir::{Program, SourceMap};
use mil_rewrite::helps::assess;
use mil_rewrite::tan::TAN_TO_SIN_COS;

/// `x → conv 3×3 → relu → tan → conv 3×3 → out` in fp16 on 1×64×64×64 (the weight `w` an input,
/// which the ANE takes), or the lone `tan` when `alone`.
fn program(alone: bool) -> (Program, SourceMap) {
    let t = "tensor<fp16, [1, 64, 64, 64]>";
    let conv = |name: &str, x: &str| {
        format!(
            "        {t} {name} = conv(x = {x}, weight = w, strides = [1, 1], pad_type = \"same\", dilations = [1, 1], groups = 1)[name = string(\"{name}\")];\n"
        )
    };
    let body = if alone {
        format!("        {t} out = tan(x = x)[name = string(\"out\")];\n")
    } else {
        format!(
            "{}        {t} r = relu(x = a)[name = string(\"r\")];\n        {t} b = tan(x = r)[name = string(\"b\")];\n{}",
            conv("a", "x"),
            conv("out", "b"),
        )
    };
    let text = format!(
        "program(1.3)\n{{\n    func main<ios18>({t} x, tensor<fp16, [64, 64, 3, 3]> w) {{\n{body}    }} -> (out);\n}}\n"
    );
    parse(&text)
}

#[test]
fn tan_between_convs_moves_onto_the_ane_and_says_so() {
    let (p, map) = program(false);
    let op = find(&p, "tan");
    let a = assess(&p, &map.functions[0], 0, op, &TAN_TO_SIN_COS, Target::default()).unwrap();

    let before = place_function(&p.functions[0], Target::default(), Source::Ours);
    let after = place_function(&a.rewritten.functions[0], Target::default(), Source::Ours);
    let tan = before.ops.iter().find(|o| o.op == op).unwrap();
    assert_eq!(tan.device, Device::Cpu, "Core ML runs tan on the CPU");
    let f = &a.rewritten.functions[0];
    let kinds: Vec<&str> = after
        .planned()
        .filter(|o| ["sin", "cos", "real_div"].contains(&o.kind))
        .map(|o| o.device.name())
        .collect();
    assert_eq!(
        kinds,
        ["ane", "ane", "ane"],
        "{}",
        mil_ir::printer::print_program(&a.rewritten)
    );
    assert!(f.walk_ops().iter().all(|&o| f.op(o).kind != "tan"));

    assert_eq!((a.before, a.after.as_slice()), (Device::Cpu, &[Device::Ane][..]));
    assert_eq!((a.before_ms, a.after_ms), (before.latency_ms, after.latency_ms));
    assert!(a.after_ms < a.before_ms, "{}", a.title);
    assert!(a.helps());
    let expected = format!(
        "Rewrite tan as sin/cos — CPU → ANE, est. {} → {} ms",
        trimmed(before.latency_ms),
        trimmed(after.latency_ms)
    );
    assert_eq!(a.title, expected);
}

/// `{:.3}` without trailing zeros, worked out independently of the crate's formatter.
fn trimmed(ms: f64) -> String {
    let thousandths = (ms * 1000.0).round() as i64;
    let mut s = format!("{}.{:03}", thousandths / 1000, thousandths % 1000);
    while s.ends_with('0') {
        s.pop();
    }
    s.trim_end_matches('.').to_string()
}

#[test]
fn a_lone_tan_is_not_offered() {
    let (p, map) = program(true);
    let op = find(&p, "tan");
    let a = assess(&p, &map.functions[0], 0, op, &TAN_TO_SIN_COS, Target::default()).unwrap();
    // A lone cheap op stays on the CPU (the ANE's launch charge outweighs it), and three ops
    // cost more there than one: not offered.
    assert_eq!((a.before, a.after.as_slice()), (Device::Cpu, &[Device::Cpu][..]));
    assert!(a.after_ms > a.before_ms);
    assert!(!a.helps(), "{}", a.title);
}

#[test]
fn without_the_neural_engine_nothing_lands_on_it() {
    let (p, map) = program(false);
    let target = Target {
        compute_units: mil_ane::ComputeUnits::CpuOnly,
        ..Target::default()
    };
    let a = assess(&p, &map.functions[0], 0, find(&p, "tan"), &TAN_TO_SIN_COS, target).unwrap();
    assert_eq!((a.before, a.after.as_slice()), (Device::Cpu, &[Device::Cpu][..]));
    assert!(
        a.title.starts_with("Rewrite tan as sin/cos — CPU → CPU, est. "),
        "{}",
        a.title
    );
}

/// The new rewrites on Core ML's one-op models of the analytics corpus (each op between linear
/// layers or convs): the planner's verdict before and after, as the action's title says it, and
/// whether it is offered.
#[test]
fn recurrent_and_size_limit_rewrites_on_the_corpus_models() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/analytics");
    let mut lines = Vec::new();
    for (file, kind) in [
        ("lstm.mil", "lstm"),
        ("gru.mil", "gru"),
        ("rnn.mil", "rnn"),
        ("conv_k17.mil", "conv"),
        ("conv_k1x31.mil", "conv"),
        ("max_pool_k15.mil", "max_pool"),
        ("reduce_prod_c.mil", "reduce_prod"),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let (p, map) = parse(&text);
        let f = &p.functions[0];
        let op = f
            .walk_ops()
            .into_iter()
            .find(|&o| f.op(o).kind == kind && mil_rewrite::applicable(f, o).next().is_some())
            .expect("a rewrite takes the op");
        let rewrite = mil_rewrite::applicable(f, op).next().unwrap();
        let a = assess(&p, &map.functions[0], 0, op, rewrite, Target::default()).unwrap();
        lines.push(format!("{file}: {} (offered: {})", a.title, a.helps()));
    }
    expect_test::expect![[r#"
        lstm.mil: Unroll lstm into per-step matmuls and activations — CPU → CPU, est. 0.0685 → 0.0304 ms (offered: true)
        gru.mil: Unroll gru into per-step matmuls and activations — CPU → CPU, est. 0.0572 → 0.0301 ms (offered: true)
        rnn.mil: Unroll rnn into per-step matmuls and activations — CPU → CPU, est. 0.0347 → 0.0248 ms (offered: true)
        conv_k17.mil: Split the conv's large kernel into tiles the Neural Engine takes — CPU → ANE, est. 3.624 → 0.646 ms (offered: true)
        conv_k1x31.mil: Split the conv's large kernel into tiles the Neural Engine takes — CPU → ANE, est. 0.755 → 0.346 ms (offered: true)
        max_pool_k15.mil: Cascade the max_pool's wide window into pools of width at most 8 — CPU → ANE, est. 0.415 → 0.287 ms (offered: true)
        reduce_prod_c.mil: Rewrite reduce_prod as a tree of products of slices — CPU → CPU, est. 0.209 → 0.242 ms (offered: false)"#]].assert_eq(&lines.join("\n"));
}

/// An lstm of Silero's size (hidden 128) and a larger one (hidden 512), fp16, weights in a file:
/// the planner's verdict on the unrolled form, as the action's title says it.
#[test]
fn unrolled_lstms_by_size() {
    let mut lines = Vec::new();
    for (steps, hidden) in [(8, 128), (8, 512), (64, 512)] {
        let blob = |shape: &str, offset: u64| {
            format!(
                "tensor<fp16, [{shape}]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64({offset})))"
            )
        };
        let (g, h) = (4 * hidden, hidden);
        let state = format!("tensor<fp16, [1, {h}]>");
        let text = format!(
            "program(1.3)\n{{\n    func main<ios18>(tensor<fp16, [{steps}, 1, {h}]> x, {state} h0, {state} c0) {{\n        tensor<fp16, [{steps}, 1, {h}]> out, {state} h, {state} c = lstm(bias = {}, direction = string(\"forward\"), initial_c = c0, initial_h = h0, output_sequence = true, weight_hh = {}, weight_ih = {}, x = x)[name = string(\"out\")];\n    }} -> (out, h, c);\n}}\n",
            blob(&g.to_string(), 64),
            blob(&format!("{g}, {h}"), 64),
            blob(&format!("{g}, {h}"), 64),
        );
        let (p, map) = parse(&text);
        let op = find(&p, "lstm");
        let rewrite = &mil_rewrite::recurrent::UNROLL_RECURRENT;
        let a = assess(&p, &map.functions[0], 0, op, rewrite, Target::default()).unwrap();
        lines.push(format!(
            "{steps} steps, hidden {hidden}: {} (offered: {})",
            a.title,
            a.helps()
        ));
    }
    expect_test::expect![[r#"
        8 steps, hidden 128: Unroll lstm into per-step matmuls and activations — CPU → CPU, est. 0.0902 → 0.0077 ms (offered: true)
        8 steps, hidden 512: Unroll lstm into per-step matmuls and activations — CPU → CPU, est. 1.443 → 0.0641 ms (offered: true)
        64 steps, hidden 512: Unroll lstm into per-step matmuls and activations — CPU → CPU, est. 11.543 → 0.752 ms (offered: true)"#]].assert_eq(&lines.join("\n"));
}
