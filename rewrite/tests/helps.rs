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
