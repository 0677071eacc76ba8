//! Each rule on a small hand-written program, at the boundaries ane.md gives (the analytics files
//! cover the rest, in tests/agreement.rs).

use mil_ane::placement::{self, Source};
use mil_ane::{Chip, ComputeUnits, Device, Target};

const M4_NE: Target = Target {
    chip: Chip::M4,
    compute_units: ComputeUnits::CpuAndNeuralEngine,
};

/// `(result name or input/output, code)` of every finding, in order.
fn findings(text: &str, target: Target) -> Vec<(String, &'static str)> {
    let parse = mil_grammar::parse(text);
    assert!(
        !mil_ir::diagnostic::has_errors(&parse.diagnostics),
        "{:?}",
        parse.diagnostics
    );
    let placed = placement::place(&parse.program, target, Source::Ours);
    let p = &placed[0];
    let vars = mil_ane::json::Vars::new(p);
    p.findings
        .iter()
        .map(|f| (vars.site(f.site), f.rule.code.id))
        .collect()
}

fn has(text: &str, target: Target, var: &str, code: &str) -> bool {
    findings(text, target).iter().any(|(v, c)| v == var && *c == code)
}

/// A program around one statement reading `x: tensor<fp16, shape>`.
fn program(opset: &str, input: &str, body: &str, out: &str) -> String {
    format!(
        "program(1.3)\n{{\n    func main<{opset}>({input} x) {{\n            {body}\n        }} -> ({out});\n}}\n"
    )
}

#[test]
fn max_pool_width_is_limited_to_1_8_or_32() {
    let pool = |w: u32| {
        program(
            "ios18",
            "tensor<fp16, [1, 64, 32, 64]>",
            &format!(
                "tensor<fp16, [1, 64, 32, 64]> y = max_pool(x = x, kernel_sizes = tensor<int32, [2]>([9, {w}]), strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"same\"))[name = string(\"y\")];"
            ),
            "y",
        )
    };
    assert!(!has(&pool(8), M4_NE, "y", "ANE016"));
    assert!(
        !has(&pool(32), M4_NE, "y", "ANE016"),
        "width 32 passes, and height 9 is not limited"
    );
    assert!(has(&pool(9), M4_NE, "y", "ANE016"));
    assert!(has(&pool(15), M4_NE, "y", "ANE016"));
}

#[test]
fn conv_kernels_follow_the_boundary_sweeps() {
    let conv = |kh: u32, kw: u32| {
        program(
            "ios18",
            "tensor<fp16, [1, 8, 64, 64]>",
            &format!(
                "tensor<fp16, [1, 8, 64, 64]> y = conv(x = x, weight = tensor<fp16, [8, 8, {kh}, {kw}]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64))), pad_type = string(\"same\"))[name = string(\"y\")];"
            ),
            "y",
        )
    };
    assert!(!has(&conv(16, 16), M4_NE, "y", "ANE015"));
    assert!(has(&conv(17, 17), M4_NE, "y", "ANE015"));
    assert!(!has(&conv(1, 15), M4_NE, "y", "ANE015"));
    assert!(has(&conv(1, 16), M4_NE, "y", "ANE015"));
    assert!(!has(&conv(31, 1), M4_NE, "y", "ANE015"));
    assert!(has(&conv(32, 1), M4_NE, "y", "ANE015"));
}

#[test]
fn matmul_inner_dimension_above_32768_is_refused() {
    let mm = |k: u32| {
        program(
            "ios18",
            &format!("tensor<fp16, [1, 64, {k}]>"),
            &format!(
                "tensor<fp16, [1, 64, 64]> y = matmul(x = x, y = tensor<fp16, [{k}, 64]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64))))[name = string(\"y\")];"
            ),
            "y",
        )
    };
    assert!(!has(&mm(32768), M4_NE, "y", "ANE017"));
    assert!(has(&mm(32769), M4_NE, "y", "ANE017"));
}

#[test]
fn int8_outputs_drag_int32_and_fp32_io_only_slow_down() {
    let q = program(
        "ios18",
        "tensor<fp16, [1, 64, 32, 32]>",
        "tensor<int8, [1, 64, 32, 32]> y = quantize(input = x, scale = fp16(0x1p-4), output_dtype = string(\"int8\"))[name = string(\"y\")];",
        "y",
    );
    let f = findings(&q, M4_NE);
    assert!(f.contains(&("output 0".into(), "ANE009")), "{f:?}");
    assert!(
        !f.iter().any(|(v, c)| v == "y" && *c == "ANE005"),
        "quantize itself stays eligible"
    );
    let r = program(
        "ios18",
        "tensor<fp32, [1, 64, 32, 32]>",
        "tensor<fp32, [1, 64, 32, 32]> y = relu(x = x)[name = string(\"y\")];",
        "y",
    );
    let f = findings(&r, M4_NE);
    assert!(f.contains(&("input 0".into(), "ANE010")) && f.contains(&("y".into(), "ANE105")));
    assert!(
        !f.iter().any(|(_, c)| c.starts_with("ANE00") && *c != "ANE010"),
        "{f:?}"
    );
}

#[test]
fn topk_indices_depend_on_the_opset() {
    let topk = |opset: &str, dtype: &str, extra: &str| {
        program(
            opset,
            "tensor<fp16, [1, 64, 32, 32]>",
            &format!(
                "tensor<fp16, [1, 4, 32, 32]> v, tensor<{dtype}, [1, 4, 32, 32]> i = topk(x = x, k = int32(4), axis = int32(1){extra})[name = string(\"t\")];"
            ),
            "v",
        )
    };
    assert!(has(&topk("ios16", "int32", ""), M4_NE, "v", "ANE007"));
    assert!(has(&topk("ios18", "int32", ""), M4_NE, "v", "ANE007"));
    let uint16 = topk("ios18", "uint16", ", output_indices_dtype = string(\"uint16\")");
    assert!(!has(&uint16, M4_NE, "v", "ANE007"));
    assert!(
        has(&uint16, M4_NE, "v", "ANE114"),
        "topk is underpriced on the ANE"
    );
}

#[test]
fn gather_indices_constant_dynamic_and_old_opsets() {
    let gather = |opset: &str, indices: &str| {
        program(
            opset,
            "tensor<fp16, [1000, 256]>",
            &format!(
                "tensor<fp16, [4, 256]> y = gather(x = x, indices = {indices}, axis = int32(0))[name = string(\"y\")];"
            ),
            "y",
        )
    };
    let constant = "tensor<int32, [4]>([1, 2, 3, 4])";
    assert!(
        findings(&gather("ios18", constant), M4_NE)
            .iter()
            .all(|(v, _)| v != "y")
    );
    assert!(has(&gather("ios15", constant), M4_NE, "y", "ANE019"));
    let dynamic = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1000, 256]> x, tensor<int32, [4]> ids) {\n            tensor<fp16, [4, 256]> y = gather(x = x, indices = ids, axis = int32(0))[name = string(\"y\")];\n        } -> (y);\n}\n";
    let f = findings(dynamic, M4_NE);
    assert!(
        f.contains(&("y".into(), "ANE012")) && f.contains(&("input 1".into(), "ANE006")),
        "{f:?}"
    );
    assert!(
        !f.contains(&("y".into(), "ANE005")),
        "one refusal per op, the most specific"
    );
}

#[test]
fn w8a8_advice_depends_on_the_chip() {
    let conv = program(
        "ios18",
        "tensor<fp16, [1, 64, 32, 32]>",
        "tensor<fp16, [1, 64, 32, 32]> y = conv(x = x, weight = tensor<fp16, [64, 64, 3, 3]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64))), pad_type = string(\"same\"))[name = string(\"y\")];",
        "y",
    );
    let on = |chip| {
        has(
            &conv,
            Target {
                chip,
                compute_units: ComputeUnits::All,
            },
            "y",
            "ANE113",
        )
    };
    assert!(on(Chip::M4) && on(Chip::A17Pro));
    assert!(!on(Chip::M1) && !on(Chip::A16));
}

#[test]
fn io_shapes_and_dynamic_dims() {
    let wide = program(
        "ios18",
        "tensor<fp16, [1, 1024, 1, 16]>",
        "tensor<fp16, [1, 1024, 1, 16]> y = relu(x = x)[name = string(\"y\")];",
        "y",
    );
    assert!(has(&wide, M4_NE, "input 0", "ANE108"));
    let dynamic = program(
        "ios18",
        "tensor<fp16, [1, 64, ?]>",
        "tensor<fp16, [1, 64, ?]> y = relu(x = x)[name = string(\"y\")];",
        "y",
    );
    assert!(has(&dynamic, M4_NE, "input 0", "ANE106"));
    let rank6 = program(
        "ios18",
        "tensor<fp16, [1, 2, 2, 2, 2, 64]>",
        "tensor<fp16, [1, 2, 2, 2, 2, 64]> y = relu(x = x)[name = string(\"y\")];",
        "y",
    );
    assert!(has(&rank6, M4_NE, "y", "ANE102"));
}

#[test]
fn compute_units_and_chips_change_the_plan_not_the_verdicts() {
    let conv = program(
        "ios18",
        "tensor<fp16, [1, 64, 64, 64]>",
        "tensor<fp16, [1, 64, 64, 64]> y = conv(x = x, weight = tensor<fp16, [64, 64, 3, 3]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64))), pad_type = string(\"same\"))[name = string(\"y\")];",
        "y",
    );
    let parse = mil_grammar::parse(&conv);
    let device = |compute_units, chip| {
        let p = &placement::place(&parse.program, Target { chip, compute_units }, Source::Ours)[0];
        (p.ops[0].device, p.ops[0].ane_eligible, p.latency_ms)
    };
    let (d, eligible, m4) = device(ComputeUnits::CpuAndNeuralEngine, Chip::M4);
    assert_eq!((d, eligible), (Device::Ane, true));
    assert_eq!(device(ComputeUnits::CpuOnly, Chip::M4).0, Device::Cpu);
    assert_eq!(device(ComputeUnits::CpuAndGpu, Chip::M4).0, Device::Gpu);
    let (_, _, m1) = device(ComputeUnits::CpuAndNeuralEngine, Chip::M1);
    assert!(m1 > m4, "the M1's Neural Engine is slower");
}

/// The message of each finding with `code`.
fn messages(text: &str, code: &str) -> Vec<String> {
    let parse = mil_grammar::parse(text);
    let placed = placement::place(&parse.program, M4_NE, Source::Ours);
    placed[0]
        .findings
        .iter()
        .filter(|f| f.rule.code.id == code)
        .map(|f| f.message.clone())
        .collect()
}

#[test]
fn small_io_says_only_what_falls_short() {
    let relu = |shape: &str| {
        program(
            "ios18",
            &format!("tensor<fp16, {shape}>"),
            &format!("tensor<fp16, {shape}> y = relu(x = x)[name = string(\"y\")];"),
            "y",
        )
    };
    // A last axis of 32 is what the probes want; only the 8 KB buffer (128 × 32 × 2 bytes) is short.
    let long_enough = messages(&relu("[1, 128, 1, 32]"), "ANE109");
    assert_eq!(
        long_enough[0],
        "this input is small for the ANE: its buffer is 8 KB (probes want ≥ 16 KB) (hardware probe)"
    );
    assert!(!long_enough[0].contains("last axis"));
    // 1024 × 16 × 2 = 32 KB is enough; the last axis of 16 is not.
    let short = messages(&relu("[1, 2, 1024, 16]"), "ANE109");
    assert_eq!(
        short[0],
        "this input is small for the ANE: its last axis is 16 long (probes want ≥ 32) (hardware probe)"
    );
    // Both, with the byte count below 1 KB in bytes.
    let both = messages(&relu("[1, 4]"), "ANE109");
    assert_eq!(
        both[0],
        "this input is small for the ANE: its last axis is 4 long (probes want ≥ 32) and its buffer is 8 bytes (probes want ≥ 16 KB) (hardware probe)"
    );
    // Neither: nothing to say.
    assert!(messages(&relu("[1, 64, 1, 128]"), "ANE109").is_empty());
}

#[test]
fn ops_moved_off_the_ane_cite_our_planner_not_core_ml() {
    // Cheap relus are eligible, and the planner keeps them on the CPU (ane.md: launch charges).
    let relus = |n: usize| {
        let mut body = String::from("tensor<fp16, [1, 64, 1, 128]> y0 = relu(x = x)[name = string(\"y0\")];");
        for i in 1..n {
            body += &format!(
                "\n            tensor<fp16, [1, 64, 1, 128]> y{i} = relu(x = y{})[name = string(\"y{i}\")];",
                i - 1
            );
        }
        let text = program(
            "ios18",
            "tensor<fp16, [1, 64, 1, 128]>",
            &body,
            &format!("y{}", n - 1),
        );
        let parse = mil_grammar::parse(&text);
        let moved: Vec<String> = mil_ane::diagnostics::check(&parse.program, &parse.source_map)
            .into_iter()
            .filter(|d| d.code.id == "ANE201")
            .map(|d| d.message)
            .collect();
        assert_eq!(moved.len(), 1, "{moved:?}");
        moved[0].clone()
    };
    let one = relus(1);
    assert!(one.ends_with("(our planner's estimate)"), "{one}");
    assert!(!one.contains("Core ML verdict"), "{one}");
    assert!(!one.contains("share"), "{one}");
    let two = relus(2);
    assert!(
        two.contains("; 1 more ANE-eligible op of this segment shares its fate (our planner's estimate)"),
        "{two}"
    );
    let three = relus(3);
    assert!(
        three.contains("; 2 more ANE-eligible ops of this segment share its fate"),
        "{three}"
    );
}

#[test]
fn counts_of_ops_like_it_agree_in_number() {
    // Two relus whose last axis of 20 fp16 values is 40 bytes, not a multiple of 64 (ANE104).
    let text = program(
        "ios18",
        "tensor<fp16, [1, 64, 1, 20]>",
        "tensor<fp16, [1, 64, 1, 20]> a = relu(x = x)[name = string(\"a\")];\n            tensor<fp16, [1, 64, 1, 20]> y = relu(x = a)[name = string(\"y\")];",
        "y",
    );
    let aligned = messages(&text, "ANE104");
    assert_eq!(aligned.len(), 1, "{aligned:?}");
    assert!(
        aligned[0].contains("(1 more op like it in this function)"),
        "{}",
        aligned[0]
    );
}
