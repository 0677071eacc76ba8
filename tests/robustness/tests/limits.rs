//! Resource limits on hostile MIL text, checked through the whole analysis on a thread with a small
//! stack (the language server's workers and the test harness have 2 MiB): nesting far past
//! [`mil_grammar::lexer::MAX_NESTING`] is a diagnostic, not a stack overflow, and declared sizes
//! whose arithmetic overflows are diagnostics or `?`, not panics.

use mil_ir::Severity;

const HEAD: &str = "program(1.3)\n{\n    func main<ios18>() {\n";
const TAIL: &str = "    } -> (a);\n}\n";

/// Runs every check on `text` on a thread with a 2 MiB stack; the error messages.
fn errors_on_small_stack(text: String) -> Vec<String> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            mil_robustness::analyse(text.as_bytes());
            mil_robustness::print_roundtrip(text.as_bytes());
            let parse = mil_grammar::parse(&text);
            parse
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| d.message.clone())
                .collect()
        })
        .unwrap()
        .join()
        .expect("the analysis panicked or overflowed its stack")
}

fn statement(s: &str) -> String {
    format!("{HEAD}        {s}\n{TAIL}")
}

#[test]
fn nesting_far_past_the_limit_is_a_diagnostic() {
    let n = 100_000;
    let programs = [
        statement(&format!(
            "tensor<int32, [1]> a = const()[name = string(\"a\"), val = {}1{}];",
            "[".repeat(n),
            "]".repeat(n)
        )),
        statement(&format!(
            "tensor<int32, [1]> a = const()[name = string(\"a\"), val = {}1{}];",
            "(".repeat(n),
            ")".repeat(n)
        )),
        statement(&format!(
            "{}int32{} a = const()[name = string(\"a\"), val = int32(1)];",
            "list<".repeat(n),
            ", 1>".repeat(n)
        )),
        statement(&format!(
            "tuple<{}int32{}> a = const()[name = string(\"a\"), val = int32(1)];",
            "tuple<".repeat(n),
            ">".repeat(n)
        )),
        format!("{HEAD}{}{TAIL}", "{".repeat(n)),
        format!("{HEAD}{}{TAIL}", "]".repeat(n)),
    ];
    for text in programs {
        let errors = errors_on_small_stack(text);
        assert!(
            errors
                .iter()
                .any(|e| e.contains("nested more than") || e.contains("expected")),
            "{errors:?}"
        );
    }
}

#[test]
fn nesting_up_to_the_limit_is_read() {
    let n = mil_grammar::lexer::MAX_NESTING - 8;
    let text = statement(&format!(
        "tensor<int32, [{}]> a = const()[name = string(\"a\"), val = {}1{}];",
        vec!["1"; n].join(", "),
        "[".repeat(n),
        "]".repeat(n)
    ));
    assert_eq!(errors_on_small_stack(text), Vec::<String>::new());
}

#[test]
fn declared_sizes_whose_arithmetic_overflows_are_not_panics() {
    let max = i64::MAX;
    let ops = [
        format!("tensor<fp16, [{max}, {max}]> x = const()[name = string(\"x\"), val = fp16(1)];"),
        "tensor<fp16, [?, ?]> a = tile(x = x, reps = [2, 9223372036854775807])[name = string(\"a\")];".into(),
        "tensor<fp16, [?, ?, ?, ?]> r = reshape(x = x, shape = [4611686018427387904, 4, 1, 1])[name = string(\"r\")];".into(),
        "tensor<fp16, [?, ?, ?, ?]> d = depth_to_space(x = r, block_size = 4294967296)[name = string(\"d\")];".into(),
        "tensor<fp16, [?, ?, ?, ?]> s = space_to_depth(x = r, block_size = 4294967296)[name = string(\"s\")];".into(),
        "tensor<fp16, [?, ?, ?, ?]> b = batch_to_space(x = r, block_shape = [4294967296, 4294967296], crops = [[0, 0], [0, 0]])[name = string(\"b\")];".into(),
        "tensor<fp16, [?, ?, ?, ?]> p = pad(x = r, pad = [0, 0, 0, 0, 0, 0, 9223372036854775807, 9223372036854775807])[name = string(\"p\")];".into(),
        "tensor<fp16, [?, ?, ?, ?]> c = conv(x = r, weight = r, strides = [9223372036854775807, 1], pad_type = string(\"same\"))[name = string(\"c\")];".into(),
        "tensor<fp16, [?, ?, ?, ?]> m = max_pool(x = r, kernel_sizes = [9223372036854775807, 1], strides = [1, 1], pad_type = string(\"custom\"), pad = [9223372036854775807, 9223372036854775807, 0, 0])[name = string(\"m\")];".into(),
        "tensor<fp16, [?, ?]> u = upsample_nearest_neighbor(x = x, scale_factor_height = fp32(1e30), scale_factor_width = fp32(2))[name = string(\"u\")];".into(),
        "tensor<fp16, [?]> v = slice_by_index(x = x, begin = [0, 0], end = [9223372036854775807, -9223372036854775807], stride = [9223372036854775807, -9223372036854775808])[name = string(\"v\")];".into(),
        "tensor<fp16, [?]> w = sliding_windows(x = x, axis = 0, size = 9223372036854775807, stride = 1)[name = string(\"w\")];".into(),
        "tensor<fp16, [?, ?]> q0, tensor<fp16, [?, ?]> q1 = split(x = x, axis = 0, num_splits = 4000000000000000000)[name = string(\"q\")];".into(),
        "tensor<fp16, [?, ?]> z = concat(values = (x, x, x), axis = 0, interleave = false)[name = string(\"z\")];".into(),
        "tensor<int64, []> i = const()[name = string(\"i\"), val = int64(-9223372036854775808)];".into(),
        "tensor<int64, []> j = const()[name = string(\"j\"), val = int64(-1)];".into(),
        "tensor<int64, []> k = floor_div(x = i, y = j)[name = string(\"k\")];".into(),
        "tensor<int64, []> a = mod(x = i, y = j)[name = string(\"a\")];".into(),
    ];
    let text = format!("{HEAD}        {}\n{TAIL}", ops.join("\n        "));
    // Errors are expected (wrong declared types, invalid values); what matters is that there is
    // no panic and no stack overflow.
    let _ = errors_on_small_stack(text);
}

#[test]
fn long_literals_and_strings_are_read_on_a_small_stack() {
    // A list's elements and a string's characters are siblings, not nesting: a debug build reads
    // 100,000 elements inline, and strings of 200,000 escapes (bare, in a scalar literal, as a
    // weight file's path), on a 2 MiB stack.
    let n = 100_000;
    let values: Vec<String> = (0..n).map(|i| format!("{}.5", i % 7)).collect();
    let text = statement(&format!(
        "tensor<fp16, [{n}]> a = const()[name = string(\"a\"), val = tensor<fp16, [{n}]>([{}])];",
        values.join(", ")
    ));
    assert_eq!(errors_on_small_stack(text), Vec::<String>::new());
    let escaped = "a\\\"".repeat(200_000);
    for value in [
        format!("string(\"{escaped}\")"),
        format!("tensor<fp16, [2]>(BLOBFILE(path = string(\"{escaped}\"), offset = uint64(64)))"),
    ] {
        let text = statement(&format!(
            "tensor<fp16, [2]> a = const()[name = string(\"a\"), val = {value}];"
        ));
        let _ = errors_on_small_stack(text);
    }
    let text = statement(&format!(
        "tensor<fp16, [2]> a = const()[name = \"{escaped}\", val = fp16(1)];"
    ));
    let _ = errors_on_small_stack(text);
}
