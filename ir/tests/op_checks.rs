//! Every op check (MIL04xx) on small programs written to break one rule each, and the cases that
//! must stay quiet: `?` dims, unknown opsets, unreadable types and unknown ops cause no follow-on
//! errors.

use expect_test::{Expect, expect};
use mil_ir::typecheck;

/// The op-check diagnostics of a `main` function of `opset` with `body`, one line each:
/// `line code "spanned text": message`.
fn check(opset: &str, params: &str, body: &str) -> String {
    let version = if opset == "ios18" { "1.3" } else { "1.0" };
    let text = format!(
        "program({version})\n{{\n    func main<{opset}>({params}) {{\n{body}\n        }} -> ();\n}}\n"
    );
    let parsed = mil_grammar::parse(&text);
    let mut lines: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == mil_ir::Severity::Error)
        .map(|d| format!("parse error: {}", d.message))
        .collect();
    lines.extend(
        typecheck::check(&parsed.program, &parsed.source_map)
            .iter()
            .map(|d| {
                let line = text[..d.span.start as usize].matches('\n').count() + 1;
                format!("{line} {} {:?}: {}", d.code.id, &text[d.span.range()], d.message)
            }),
    );
    lines.join("\n")
}

fn assert_check(opset: &str, params: &str, body: &str, expected: Expect) {
    expected.assert_eq(&check(opset, params, body));
}

#[test]
fn unknown_ops_suggest_the_op_meant() {
    assert_check(
        "ios17",
        "tensor<fp32, [1, 4]> x",
        r#"tensor<fp32, [1, 4]> y = relu6x(x = x)[name = string("y")];
           tensor<fp32, [1, 4]> z = softmx(x = y)[name = string("z")];"#,
        expect![[r#"
            4 MIL0401 "relu6x": unknown operation `relu6x`; did you mean `relu6`?
            5 MIL0401 "softmx": unknown operation `softmx`; did you mean `softmax`?"#]],
    );
}

#[test]
fn ops_newer_than_the_opset_name_their_first_opset() {
    assert_check(
        "ios17",
        "tensor<fp16, [1, 2, 4, 8]> q",
        r#"tensor<fp16, [1, 2, 4, 8]> a = scaled_dot_product_attention(key = q, query = q, value = q)[name = string("a")];
           tensor<fp16, [2, 4, 8]> b = gather(batch_dims = int32(1), indices = tensor<int32, [2]>([0, 1]), x = q)[name = string("b")];"#,
        expect![[
            r#"4 MIL0402 "scaled_dot_product_attention": `scaled_dot_product_attention` is available from ios18 on, not in ios17"#
        ]],
    );
    assert_check(
        "ios15",
        "tensor<fp16, [2, 4, 8]> x",
        r#"tensor<fp16, [2, 8]> b = gather(axis = int32(1), batch_dims = int32(1), indices = tensor<int32, [2]>([0, 1]), x = x)[name = string("b")];"#,
        expect![[r#"
            4 MIL0404 "batch_dims": `gather` has input `batch_dims` only from ios16 on; this is its ios15 version"#]],
    );
}

#[test]
fn a_pinned_opset_overrides_the_functions() {
    assert_check(
        "ios18",
        "tensor<fp16, [1, 4]> x",
        r#"tensor<fp16, [1, 4]> y = relu<ios15>(x = x)[name = string("y")];
           tensor<fp16, [1, 4]> z = slice_update<ios17>(begin = tensor<int32, [2]>([0, 0]), end = tensor<int32, [2]>([1, 4]), update = y, x = y)[name = string("z")];
           tensor<fp16, [1, 4]> w = relu<ios99>(x = x)[name = string("w")];"#,
        expect![[r#"
            5 MIL0402 "slice_update": `slice_update` is available from ios18 on, not in ios17
            6 MIL0403 "ios99": unknown opset `ios99` (ios15, ios16, ios17, ios18 or ios26); its ops are not checked"#]],
    );
}

#[test]
fn inputs_are_checked_against_the_catalogue() {
    assert_check(
        "ios17",
        "tensor<fp32, [1, 4]> x, tensor<int32, [1, 4]> i, tensor<int32, [4]> p",
        r#"tensor<fp32, [1, 4]> a = relu(x = x, alpha = fp32(1))[name = string("a")];
           tensor<fp32, [1, 4]> b = add(x = x)[name = string("b")];
           tensor<int32, [1, 4]> c = relu(x = i)[name = string("c")];
           tensor<fp32, [1, 4]> d = add(x = x, y = i)[name = string("d")];
           tensor<fp32, [4, 1]> e = transpose(perm = p, x = x)[name = string("e")];
           tensor<fp32, [2, 4]> f = concat(axis = int32(0), values = x)[name = string("f")];"#,
        expect![[r#"
            4 MIL0404 "alpha": `relu` has no input `alpha` (its inputs: x)
            5 MIL0405 "add": `add` needs input `y`
            6 MIL0406 "i": input `x` of `relu` takes a tensor of fp16, fp32, not `tensor<int32, [1, 4]>`
            7 MIL0407 "i": input `y` of `add` is int32 but `x` is fp32; both have dtype T, so they must match
            8 MIL0408 "p": input `perm` of `transpose` must be known when the model is compiled: a const or a literal, not a run-time value
            9 MIL0406 "x": input `values` of `concat` takes a tuple `(a, b, ...)`"#]],
    );
}

#[test]
fn values_folded_from_shapes_are_constant_and_checked() {
    assert_check(
        "ios17",
        "tensor<fp32, [2, 3, 4]> x",
        r#"tensor<int32, [3]> s = shape(x = x)[name = string("s")];
           tensor<int32, [3]> p = sub(x = s, y = tensor<int32, [3]>([0, 2, 4]))[name = string("p")];
           tensor<fp32, [4, 3, 2]> t = transpose(perm = p, x = x)[name = string("t")];
           tensor<int32, [3]> q = sub(x = s, y = tensor<int32, [3]>([2, 2, 1]))[name = string("q")];
           tensor<fp32, [2, 1, 3]> r = reshape(shape = q, x = x)[name = string("r")];"#,
        expect![[r#"8 MIL0411 "q": `reshape`: x [2, 3, 4] has 24 elements but shape [2, 1, 3] has 6"#]],
    );
}

#[test]
fn declared_types_are_compared_with_the_inferred_ones() {
    assert_check(
        "ios18",
        "tensor<fp16, [1, 3, 8, 8]> x",
        r#"tensor<fp16, [1, 4, 8, 8]> y = conv(pad_type = string("same"), strides = tensor<int32, [2]>([2, 2]), weight = tensor<fp16, [4, 3, 3, 3]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64))), x = x)[name = string("y")];
           fp32 m = reduce_mean(x = x)[name = string("m")];
           tensor<fp16, [1, 3, 8, 8]> a, tensor<int32, [1, 3, 8, 8]> b = topk(k = int32(8), x = x)[name = string("t")];
           tensor<fp16, [1, 3, 8, 8]> c = topk(k = int32(8), x = x)[name = string("c")];"#,
        expect![[r#"
            4 MIL0409 "tensor<fp16, [1, 4, 8, 8]>": `y` is declared `tensor<fp16, [1, 4, 8, 8]>` but `conv` gives `tensor<fp16, [1, 4, 4, 4]>`
            5 MIL0409 "fp32": `m` is declared `fp32` but `reduce_mean` gives `fp16`
            7 MIL0410 "tensor<fp16, [1, 3, 8, 8]> c": `topk` has 2 results here, but 1 is declared"#]],
    );
}

#[test]
fn a_wrong_declared_type_is_reported_once_at_its_statement() {
    // `y` says fp32 where relu gives fp16: that is the one error. `z` and `w` read `y`, so what
    // they are told about it is wrong and they are not blamed for it (neither `z`'s relu "giving
    // fp32" nor `w`'s add mixing fp32 and fp16). `u` reads only good values and is still checked.
    assert_check(
        "ios17",
        "tensor<fp16, [1, 4]> x",
        r#"tensor<fp32, [1, 4]> y = relu(x = x)[name = string("y")];
           tensor<fp16, [1, 4]> z = relu(x = y)[name = string("z")];
           tensor<fp16, [1, 4]> w = add(x = y, y = x)[name = string("w")];
           tensor<fp16, [1, 8]> u = relu(x = x)[name = string("u")];"#,
        expect![[r#"
            4 MIL0409 "tensor<fp32, [1, 4]>": `y` is declared `tensor<fp32, [1, 4]>` but `relu` gives `tensor<fp16, [1, 4]>`
            7 MIL0409 "tensor<fp16, [1, 8]>": `u` is declared `tensor<fp16, [1, 8]>` but `relu` gives `tensor<fp16, [1, 4]>`"#]],
    );
}

#[test]
fn counts_in_messages_agree_in_number() {
    assert_check(
        "ios17",
        "tensor<fp16, [1, 4]> x",
        r#"tensor<fp16, [4, 1]> y = transpose(perm = tensor<int32, [1]>([0]), x = x)[name = string("y")];
           tensor<fp16, [1, 4]> z = tile(reps = tensor<int32, [1]>([1]), x = x)[name = string("z")];"#,
        expect![[r#"
            4 MIL0411 "tensor<int32, [1]>([0])": `transpose`: perm has 1 value but x [1, 4] has rank 2
            5 MIL0411 "tensor<int32, [1]>([1])": `tile`: reps has 1 value but x [1, 4] has rank 2"#]],
    );
}

#[test]
fn invalid_values_point_at_their_input() {
    assert_check(
        "ios16",
        "tensor<fp32, [1, 3, 8, 8]> x",
        r#"tensor<fp32, [1, 3, 8, 8]> a = max_pool(kernel_sizes = tensor<int32, [2]>([2, 2]), pad_type = string("sme"), x = x)[name = string("a")];
           tensor<fp32, [1, 3, 8]> b = reduce_sum(axes = tensor<int32, [1]>([4]), x = x)[name = string("b")];
           tensor<fp32, [5, 40]> c = reshape(shape = tensor<int32, [2]>([5, 40]), x = x)[name = string("c")];
           tensor<fp32, [8, 8, 3, 1]> d = transpose(perm = tensor<int32, [4]>([3, 2, 1, 3]), x = x)[name = string("d")];
           tensor<fp32, [1, 3, 8, 8]> e = add(x = x, y = tensor<fp32, [2]>([1, 2]))[name = string("e")];"#,
        expect![[r#"
            4 MIL0411 "string(\"sme\")": `max_pool`: unknown pad_type "sme" (valid, same, same_lower or custom)
            5 MIL0411 "tensor<int32, [1]>([4])": `reduce_sum`: axis 4 is out of range for a tensor of rank 4
            6 MIL0411 "tensor<int32, [2]>([5, 40])": `reshape`: x [1, 3, 8, 8] has 192 elements but shape [5, 40] has 200
            7 MIL0411 "tensor<int32, [4]>([3, 2, 1, 3])": `transpose`: perm names axis 3 twice
            8 MIL0412 "tensor<fp32, [2]>([1, 2])": `add`: shapes [1, 3, 8, 8] and [2] do not broadcast: 8 against 2"#]],
    );
}

#[test]
fn unknown_dims_match_any_size_in_either_direction() {
    assert_check(
        "ios17",
        "tensor<fp32, [1, ?]> x",
        r#"tensor<int32, [2]> s = shape(x = x)[name = string("s")];
           tensor<int32, [1]> n = slice_by_index(begin = tensor<int32, [1]>([1]), end = tensor<int32, [1]>([2]), x = s)[name = string("n")];
           tensor<int32, [3]> t = concat(axis = int32(0), values = (n, tensor<int32, [2]>([2, 1])))[name = string("t")];
           tensor<fp32, [?, 2, 1]> r = reshape(shape = t, x = x)[name = string("r")];
           tensor<fp32, [3, ?]> a = add(x = x, y = tensor<fp32, [3, 1]>([[1], [2], [3]]))[name = string("a")];
           tensor<fp32, [3, 5]> b = add(x = x, y = tensor<fp32, [3, 1]>([[1], [2], [3]]))[name = string("b")];
           tensor<int32, [?, 2]> z = non_zero(x = x)[name = string("z")];"#,
        expect![[r#""#]],
    );
}

#[test]
fn nothing_follows_from_what_cannot_be_checked() {
    assert_check(
        "ios42",
        "tensor<fp32, [1, 4]> x",
        r#"tensor<fp32, [9]> y = relu(x = x)[name = string("y")];"#,
        expect![[r#"
            3 MIL0403 "ios42": unknown opset `ios42` (ios15, ios16, ios17, ios18 or ios26); its ops are not checked"#]],
    );
    assert_check(
        "ios17",
        "tensor<fp32, [1, 4]> x",
        r#"tensor<fp32, [1, 4]> y = my_custom_op(x = x)[name = string("y")];
           tensor<fp32, [1, 4]> z = relu(x = y)[name = string("z")];
           tensor<fp32, [1, 4]> w = relu(x = undefined)[name = string("w")];"#,
        expect![[r#"
            parse error: `undefined` is not defined
            4 MIL0401 "my_custom_op": unknown operation `my_custom_op`"#]],
    );
}

#[test]
fn constexpr_operands_may_be_attributes() {
    assert_check(
        "ios16",
        "tensor<fp16, [1, 4]> x",
        r#"tensor<fp16, [4, 2]> w = constexpr_affine_dequantize()[axis = int32(0), name = string("w"), quantized_data = tensor<int8, [4, 2]>([[1, 2], [3, 4], [5, 6], [7, 8]]), scale = fp16(0x1p-3), zero_point = int8(0)];
           tensor<fp16, [1, 2]> y = matmul(x = x, y = w)[name = string("y")];
           tensor<fp16, [3, 2]> v = constexpr_affine_dequantize()[axis = int32(0), name = string("v"), quantized_data = tensor<int8, [4, 2]>([[1, 2], [3, 4], [5, 6], [7, 8]]), zero_point = int8(0)];"#,
        expect![[r#"
            6 MIL0405 "constexpr_affine_dequantize": `constexpr_affine_dequantize` needs input `scale`"#]],
    );
}

#[test]
fn control_flow_ops_give_their_blocks_types() {
    assert_check(
        "ios18",
        "tensor<fp32, [2]> x, bool p, int32 n",
        r#"tensor<fp32, [2]> y = cond(pred = p)[name = string("y")]
                block() {
                        tensor<fp32, [2]> a = relu(x = x)[name = string("a")];
                    } -> (a)
                block() {
                    } -> (x);
            int32 i_out, tensor<fp32, [2]> v_out = while_loop(loop_vars = (n, y))[name = string("loop")]
                block(int32 i, tensor<fp32, [2]> v) {
                        bool more = greater(x = i, y = int32(0))[name = string("more")];
                    } -> (more)
                block(int32 j, tensor<fp32, [2]> w) {
                        int32 j_next = sub(x = j, y = int32(1))[name = string("j_next")];
                    } -> (j_next, w);
            tensor<fp32, [3]> z = cond(pred = p)[name = string("z")]
                block() {
                    } -> (x)
                block() {
                    } -> (x);
            fp32 k = while_loop(loop_vars = (n, y))[name = string("k")]
                block(int32 i2, tensor<fp32, [2]> v2) {
                        bool more2 = less(x = i2, y = int32(0))[name = string("more2")];
                    } -> (more2)
                block(int32 j2, tensor<fp32, [2]> w2) {
                    } -> (j2, w2);"#,
        expect![[r#"
            17 MIL0409 "tensor<fp32, [3]>": `z` is declared `tensor<fp32, [3]>` but `cond` gives `tensor<fp32, [2]>`
            22 MIL0410 "fp32 k": `while_loop` has 2 results here, but 1 is declared"#]],
    );
}

#[test]
fn ios26_functions_use_the_ios18_ops() {
    assert_check(
        "ios26",
        "tensor<fp16, [1, 2, 4, 8]> q",
        r#"tensor<fp16, [1, 2, 4, 8]> a = scaled_dot_product_attention(key = q, query = q, value = q)[name = string("a")];
           tensor<fp16, [1, 2, 4, 4]> b = scaled_dot_product_attention(key = q, query = q, value = q)[name = string("b")];"#,
        expect![[
            r#"5 MIL0409 "tensor<fp16, [1, 2, 4, 4]>": `b` is declared `tensor<fp16, [1, 2, 4, 4]>` but `scaled_dot_product_attention` gives `tensor<fp16, [1, 2, 4, 8]>`"#
        ]],
    );
}
