//! The proof of `io-to-fp16`: with its fp32 inputs and outputs declared fp16, a function computes
//! in the reference interpreter what the original computes on the same inputs rounded to fp16
//! (exactly, where the original cast them to fp16 at once and its outputs from fp16; at fp16
//! PSNR ≥ 60 dB where it computed in fp32), its outputs keep their names, it passes the verifier
//! and the type checker and prints to text that reads back the same, and our rules no longer find
//! an fp32 input or output (ANE010). Before iOS16 it is refused.

mod common;

use common::{parse, well_formed};
use mil_eval::inputs::SplitMix;
use mil_eval::{Named, Tensor};
use mil_ir::{DType, Program};
use mil_rewrite::io_fp16::{self, Interface};
use mil_rewrite::proof::{agreement, run};
use mil_rewrite::{NotApplicable, Refused};

/// As coremltools writes an fp16 model with fp32 inputs and outputs: each input cast to fp16 (one
/// through a `const` dtype), the compute in fp16, the output cast back to fp32.
fn converted(shape: &str, opset: &str) -> String {
    let (t32, t16) = (format!("tensor<fp32, {shape}>"), format!("tensor<fp16, {shape}>"));
    format!(
        "program(1.3)
{{
    func main<{opset}>({t32} x, {t32} y) {{
        tensor<string, []> x_dtype = const()[name = string(\"x_dtype\"), val = string(\"fp16\")];
        {t16} x_to_fp16 = cast(dtype = x_dtype, x = x)[name = string(\"cast_1\")];
        {t16} y_to_fp16 = cast(dtype = string(\"fp16\"), x = y)[name = string(\"cast_2\")];
        {t16} s = add(x = x_to_fp16, y = y_to_fp16)[name = string(\"s\")];
        {t16} r = relu(x = s)[name = string(\"r\")];
        {t32} out = cast(dtype = string(\"fp32\"), x = r)[name = string(\"cast_3\")];
    }} -> (out);
}}
"
    )
}

/// Written by hand in fp32: `x` read by an fp32 op and by a cast to fp16, one output computed in
/// fp32, one in fp16 and cast back, and one that the function also reads further.
fn mixed(shape: &str) -> String {
    let (t32, t16) = (format!("tensor<fp32, {shape}>"), format!("tensor<fp16, {shape}>"));
    format!(
        "program(1.3)
{{
    func main<ios18>({t32} x) {{
        {t32} a = sigmoid(x = x)[name = string(\"a\")];
        {t16} h = cast(dtype = string(\"fp16\"), x = x)[name = string(\"h\")];
        {t16} g = tanh(x = h)[name = string(\"g\")];
        {t32} b = cast(dtype = string(\"fp32\"), x = g)[name = string(\"b\")];
        {t32} c = mul(x = a, y = b)[name = string(\"c\")];
    }} -> (a, b, c);
}}
"
    )
}

/// Whether our rules find an fp32 input or output (ANE010).
fn fp32_io(p: &Program) -> bool {
    let placed = mil_ane::placement::place_function(
        &p.functions[0],
        mil_ane::Target::default(),
        mil_ane::placement::Source::Ours,
    );
    placed.findings.iter().any(|f| f.rule.code.id == "ANE010")
}

/// Random inputs of `shape` in [−4, 4), fp16 values (edge values first), as tensors of `dtype`.
fn inputs(p: &Program, shape: &[usize], dtype: DType, seed: u64) -> Named {
    let f = &p.functions[0];
    let n: usize = shape.iter().product();
    let edges = [0.0, -0.0, 1.0, -4.0, 6.1e-5, 65504.0 / 32768.0];
    f.params
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let mut rng = SplitMix::new(seed * 31 + i as u64);
            let values = (0..n)
                .map(|k| edges.get(k).copied().unwrap_or_else(|| 8.0 * rng.unit() - 4.0))
                .collect();
            let fp16 = Tensor::from_f32(DType::Fp16, shape.to_vec(), values);
            let values = fp16.to_f32().unwrap();
            (
                f.value(v).name.to_string(),
                Tensor::from_f32(dtype, shape.to_vec(), values),
            )
        })
        .collect()
}

/// Rewrites `text`'s function and checks the result's form; returns the original, the rewritten
/// program (as read back from its text) and what changed.
fn rewritten(text: &str) -> (Program, Program, Interface) {
    let (original, map) = parse(text);
    assert!(fp32_io(&original));
    let (mut p, mut spans) = (original.clone(), map.functions[0].clone());
    let interface = io_fp16::apply(&mut p.functions[0], &mut spans).unwrap();
    let mut map_after = map.clone();
    map_after.functions[0] = spans;
    let (printed, reparsed) = well_formed(&p, &map_after);
    assert!(!fp32_io(&reparsed), "{printed}");
    (original, reparsed, interface)
}

/// Runs both on the same fp16 values (fp32 tensors for the original, fp16 for the rewritten one)
/// and checks the outputs' names and dtypes; returns each output's agreement.
fn agreements(
    original: &Program,
    rewritten: &Program,
    shape: &[usize],
    seed: u64,
) -> Vec<mil_rewrite::proof::Agreement> {
    let want = run(original, inputs(original, shape, DType::Fp32, seed)).unwrap();
    let got = run(rewritten, inputs(rewritten, shape, DType::Fp16, seed)).unwrap();
    let names = |outputs: &Named| outputs.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want));
    want.iter()
        .zip(&got)
        .map(|((_, w), (_, g))| {
            assert_eq!(g.dtype, DType::Fp16);
            agreement(&w.to_f32().unwrap(), &g.to_f32().unwrap(), 1.0)
        })
        .collect()
}

/// Shapes from the seed: rank 1–4, dims 1–6.
fn shape(seed: u64) -> Vec<usize> {
    let mut rng = SplitMix::new(seed + 1000);
    let rank = 1 + (rng.unit() * 4.0) as usize;
    (0..rank).map(|_| 1 + (rng.unit() * 6.0) as usize).collect()
}

fn spelled(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("[{}]", dims.join(", "))
}

#[test]
fn converted_casts_go_and_the_outputs_are_exactly_the_same() {
    for seed in 0..12 {
        let shape = shape(seed);
        let (original, p, interface) = rewritten(&converted(&spelled(&shape), "ios16"));
        assert_eq!(
            interface.title(),
            "Change inputs x, y and output out to fp16 (interface change)"
        );
        let kinds: Vec<&str> = p.functions[0].ops.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(kinds, ["add", "relu"], "{}", mil_ir::printer::print_program(&p));
        for a in agreements(&original, &p, &shape, seed) {
            assert_eq!(a.max_rel_error, 0.0, "{a:?}");
        }
    }
}

#[test]
fn fp32_compute_keeps_its_casts_and_agrees_at_fp16_precision() {
    for seed in 0..12 {
        let shape = shape(seed);
        let (original, p, interface) = rewritten(&mixed(&spelled(&shape)));
        assert_eq!(
            interface.title(),
            "Change input x and outputs a, b, c to fp16 (interface change)"
        );
        let printed = mil_ir::printer::print_program(&p);
        // x is widened once for sigmoid; `b`, a cast of fp16 `g` that `c` also reads, keeps its
        // cast for `c` and returns `g`; `a` and `c` are narrowed.
        let casts = p.functions[0].ops.iter().filter(|o| o.kind == "cast").count();
        assert_eq!(casts, 4, "{printed}");
        for a in agreements(&original, &p, &shape, seed) {
            assert!(a.psnr_db >= 60.0, "{a:?}\n{printed}");
        }
    }
}

#[test]
fn the_edit_reads_as_the_interface_change() {
    let (_, p, _) = rewritten(&converted("[1, 4]", "ios16"));
    expect_test::expect![[r#"
        program(1.3)
        {
            func main<ios16>(tensor<fp16, [1, 4]> x, tensor<fp16, [1, 4]> y) {
                    tensor<fp16, [1, 4]> s = add(x = x, y = y)[name = string("s")];
                    tensor<fp16, [1, 4]> out = relu(x = s)[name = string("r")];
                } -> (out);
        }"#]]
    .assert_eq(&mil_ir::printer::print_program(&p));
}

#[test]
fn before_ios16_and_without_fp32_io_it_is_refused_with_the_reason() {
    let refused = |text: &str| {
        let (mut p, mut map) = parse(text);
        let before = mil_ir::printer::print_program(&p);
        let Err(Refused::NotApplicable(NotApplicable(why))) =
            io_fp16::apply(&mut p.functions[0], &mut map.functions[0])
        else {
            panic!("applied to {text}")
        };
        assert_eq!(mil_ir::printer::print_program(&p), before);
        why
    };
    assert_eq!(
        refused(&converted("[2]", "ios15")),
        "Core ML takes fp16 inputs and outputs from iOS16 on (specification version 7); `main` is written for ios15"
    );
    let fp16 = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [2]> x) {\n        tensor<fp16, [2]> out = relu(x = x)[name = string(\"out\")];\n    } -> (out);\n}\n";
    assert_eq!(refused(fp16), "`main` has no fp32 input or output");
    let cast_out = "program(1.3)\n{\n    func main<ios18>(tensor<fp32, [2]> x) {\n        tensor<fp16, [2]> out = cast(dtype = string(\"fp16\"), x = x)[name = string(\"out\")];\n    } -> (out);\n}\n";
    assert_eq!(
        refused(cast_out),
        "output `out` is input `x` cast to fp16: declared fp16, it would be the input itself"
    );
}
