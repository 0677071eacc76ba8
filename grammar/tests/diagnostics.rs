//! Snapshots of the diagnostics for broken and lenient inputs: code, range and message.

use expect_test::{Expect, expect};
use mil_grammar::parse;
use mil_ir::{ColumnUnit, LineIndex};

fn check(text: &str, expected: Expect) {
    let parsed = parse(text);
    let mut diags = parsed.diagnostics;
    diags.extend(mil_ir::verify::verify(&parsed.program, &parsed.source_map));
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    let index = LineIndex::new(text);
    let rendered: Vec<String> = diags
        .iter()
        .map(|d| {
            let s = index.position(text, d.span.start, ColumnUnit::Utf8);
            let e = index.position(text, d.span.end, ColumnUnit::Utf8);
            format!(
                "{} {} {}:{}-{}:{} `{}` {}",
                d.code.id,
                d.severity.name(),
                s.line + 1,
                s.character + 1,
                e.line + 1,
                e.character + 1,
                &text[d.span.range()],
                d.message
            )
        })
        .collect();
    expected.assert_eq(&rendered.join("\n"));
}

/// Wraps statements into a program(1.3) main function with one fp16 input `x`.
fn main_with(stmts: &str) -> String {
    format!(
        "program(1.3)\n{{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {{\n{stmts}\n        }} -> (y);\n}}"
    )
}

#[test]
fn every_syntax_error_is_reported_and_the_rest_still_analysed() {
    check(
        &main_with(
            "            tensor<fp16, [1, 4]> a = relu(x = x)[name = string(\"a\")\n\
             \x20           tensor<fp16, [1, 4]> b = relu(x = x)[name = string(\"b\")];\n\
             \x20           tensor<fp16, [1, 4]> c = relu(x = x))[name = string(\"c\")];\n\
             \x20           tensor<fp16, [1, 4]> d = relu(x = c)[name = string(\"d\")];\n\
             \x20           tensor<fp16, [1, 4]> y = relu(x = undefined_thing)[name = string(\"y\")];",
        ),
        expect![[r#"
            MIL0001 error 5:13-5:33 `tensor<fp16, [1, 4]>` unexpected `tensor<fp16, [1, 4]>`; expected one of `]`, `,`
            MIL0001 error 6:49-6:50 `)` unexpected `)`; expected one of a name, `[`, `;`
            MIL0201 error 7:47-7:48 `c` `c` is not defined; did you mean `b`?
            MIL0201 error 8:47-8:62 `undefined_thing` `undefined_thing` is not defined"#]],
    );
}

#[test]
fn names_are_resolved_per_function() {
    check(
        &main_with(
            "            tensor<fp16, [1, 4]> y = add(x = a, y = x)[name = string(\"y\")];\n\
             \x20           tensor<fp16, [1, 4]> a = relu(x = x)[name = string(\"y\")];\n\
             \x20           tensor<fp16, [1, 4]> a = relu(x = x, x = x)[name = string(\"a\")];",
        ),
        expect![[r#"
            MIL0203 error 4:46-4:47 `a` `a` is used before it is defined
            MIL0208 error 5:57-5:68 `string("y")` another operation of `main` is already named "y"
            MIL0202 error 6:34-6:35 `a` `a` is already defined in this function
            MIL0207 error 6:50-6:51 `x` argument `x` is given twice"#]],
    );
}

#[test]
fn literals_are_checked_against_their_type() {
    check(
        &main_with(
            "            tensor<int32, [2, 2]> p = const()[name = string(\"p\"), val = tensor<int32, [2, 2]>([1, 2, 3])];\n\
             \x20           tensor<int8, [2]> q = const()[name = string(\"q\"), val = tensor<int8, [2]>([1, 300])];\n\
             \x20           tensor<bool, [1]> r = const()[name = string(\"r\"), val = tensor<bool, [1]>([0x1p+0])];\n\
             \x20           tensor<fp16, [2]> s = const()[name = string(\"s\"), val = tensor<fp32, [2]>([0x1p+0, 0x1p+1])];\n\
             \x20           tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];",
        ),
        expect![[r#"
            MIL0205 error 4:95-4:104 `[1, 2, 3]` 3 elements for shape [2, 2], which holds 4
            MIL0206 error 5:91-5:94 `300` `300` is out of range for int8 (-128..=127)
            MIL0206 error 6:88-6:94 `0x1p+0` expected a bool element, found `0x1p+0`
            MIL0209 error 7:13-7:30 `tensor<fp16, [2]>` the constant is declared `tensor<fp16, [2]>` but its value is `tensor<fp32, [2]>`"#]],
    );
}

#[test]
fn hand_written_forms_are_accepted_with_warnings() {
    check(
        "// a model\nprogram(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 2, 1, 2]> x) {\n\
         \x20       tensor<fp16, [1, 1, 1, 1]> eps = const()[name = string(\"eps\"), val = fp16(1e-3)];\n\
         \x20       tensor<fp16, [2, 2]> w = const()[name = string(\"w\"), val = tensor<fp16, [2, 2]>([0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0])];\n\
         \x20       tensor<fp16, [1, 1, 1, 2]> m = reduce_mean(x, axes = [1], keep_dims = true);\n\
         \x20       tensor<fp16, [1, 2, 1, 2]> y = add(x = x, y = eps)[name = string(\"y\")];\n\
         \x20   } -> (y);\n}",
        expect![[r#"
            MIL0101 warning 1:1-1:11 `// a model` this file has 1 comment: Core ML's MIL text has none; mil fmt keeps them, compiling drops them
            MIL0106 warning 5:78-5:88 `fp16(1e-3)` a single fp16 value for a constant declared `tensor<fp16, [1, 1, 1, 1]>`; mil fmt writes it out in full
            MIL0107 warning 5:83-5:87 `1e-3` decimal float in a fp16 literal; Core ML's files write hex floats (mil fmt converts)
            MIL0105 warning 6:89-6:121 `[0x1p+0, 0x1p+0, 0x1p+0, 0x1p+0]` flat list for shape [2, 2]; Core ML's files nest one list per dimension
            MIL0102 warning 7:40-7:51 `reduce_mean` operation without `[name = ...]`; Core ML's files name every operation (mil fmt adds one)
            MIL0103 warning 7:52-7:53 `x` argument without its key; Core ML's files write `key = value`
            MIL0104 warning 7:62-7:65 `[1]` literal without a type: read as `tensor<int32, [1]>`; Core ML's files always write the type
            MIL0104 warning 7:79-7:83 `true` literal without a type: read as `bool`; Core ML's files always write the type"#]],
    );
}

#[test]
fn types_and_headers() {
    check(
        "program(one)\n{\n    func main(tensor<fp61, [1]> x, tensr<fp16, [1]> z, tensor<fp16, [-1]> w) {\n        } -> (x, nope);\n    func (x) {\n        tensor<fp16, [1]> y = relu(x = q)[name = string(\"y\")];\n    } -> (y);\n}",
        expect![[r#"
            MIL0006 error 1:9-1:12 `one` `one` is not a program version (Core ML writes 1.0 to 1.3)
            MIL0006 error 3:10-3:14 `main` function `main` needs an opset: `func main<ios18>(...)`
            MIL0004 error 3:22-3:26 `fp61` `fp61` is not a dtype; expected one of bool, string, fp8e4m3fn, fp8e5m2, fp16, fp32, fp64, bf16, int4, int8, int16, int32, int64, uint1, uint2, uint3, uint4, uint6, uint8, uint16, uint32, uint64
            MIL0004 error 3:36-3:41 `tensr` unknown type `tensr`: expected tensor<...>, state<...>, list<...>, tuple<...>, dict<...> or a dtype
            MIL0004 error 3:70-3:72 `-1` `-1` is not a dimension (a size ≥ 0 or `?`)
            MIL0204 error 4:18-4:22 `nope` cannot return `nope`: it is not defined
            MIL0001 error 5:10-5:11 `(` unexpected `(`; expected a name
            MIL0201 error 6:40-6:41 `q` `q` is not defined; did you mean `y`?"#]],
    );
}

#[test]
fn a_missing_last_semicolon_keeps_the_function() {
    check(
        &main_with(
            "            tensor<fp16, [1, 4]> a = relu(x = x)[name = string(\"a\")];\n\
             \x20           tensor<fp16, [1, 4]> y = relu(x = a)[name = string(\"y\")]",
        ),
        expect!["MIL0001 error 5:68-5:69 `]` expected `;` after the statement"],
    );
}

#[test]
fn expected_tokens_are_named_for_people() {
    check(
        &main_with(
            "            tensor<fp16, [1, 4]> a = relu(, x = x)[name = string(\"a\")];\n\
             \x20           tensor<fp16, [1, 4]> y = relu(x = a)[;",
        ),
        expect![[r#"
            MIL0001 error 4:43-4:44 `,` unexpected `,`; expected one of a name, a type, a typed literal, `key = value`, an integer, a number, a string, `(`, …
            MIL0001 error 5:50-5:51 `;` unexpected `;`; expected one of a name, `key = value`, `]`
            MIL0204 error 6:15-6:16 `y` cannot return `y`: it is not defined; did you mean `x`?"#]],
    );
}

#[test]
fn a_missing_semicolon_is_reported_after_its_statement_and_the_next_is_kept() {
    // `b` lacks its `;`: the error is at its end, not at `c`'s type on the next line, and `c` is
    // still read (no false "cannot return" for the output that uses it). Inside a nested block the
    // same; a stray token on the same line is reported where it is.
    check(
        &main_with(
            "            tensor<fp16, [1, 4]> b = relu(x = x)[name = string(\"b\")]\n\
             \x20           tensor<fp16, [1, 4]> c = relu(x = b)[name = string(\"c\")];\n\
             \x20           tensor<fp16, [1, 4]> d = cond(pred = p)[name = string(\"d\")] block() {\n\
             \x20               tensor<fp16, [1, 4]> t = relu(x = c)[name = string(\"t\")]  // no `;`\n\
             \x20               tensor<fp16, [1, 4]> u = relu(x = t)[name = string(\"u\")];\n\
             \x20           } -> (u) block() {\n\
             \x20           } -> (c);\n\
             \x20           tensor<fp16, [1, 4]> y = relu(x = d)[name = string(\"y\")])\n",
        ),
        expect![[r#"
            MIL0001 error 4:68-4:69 `]` expected `;` after the statement
            MIL0201 error 6:50-6:51 `p` `p` is not defined; did you mean `b`?
            MIL0001 error 7:72-7:73 `]` expected `;` after the statement
            MIL0101 warning 7:75-7:84 `// no `;`` this file has 1 comment: Core ML's MIL text has none; mil fmt keeps them, compiling drops them
            MIL0001 error 11:69-11:70 `)` unexpected `)`; expected `;` after the statement"#]],
    );
}

#[test]
fn dtype_names_from_elsewhere_suggest_the_mil_name() {
    // Names other frameworks and languages use, in tensor types (one lexer token or read by the
    // grammar) and as bare scalar types; a name like no dtype gets the list instead.
    check(
        "program(1.3)\n{\n    func main<ios18>(tensor<float16, [1, 4]> a, tensor<half, [?]> b, \
         float32 c, float d, int e, double f, boolean g, FP16 h, tensor<fp61, [2]> i) {\n    } -> (a);\n}\n",
        expect![[r#"
            MIL0004 error 3:29-3:36 `float16` `float16` is not a dtype; did you mean `fp16`?
            MIL0004 error 3:56-3:60 `half` `half` is not a dtype; did you mean `fp16`?
            MIL0004 error 3:70-3:77 `float32` unknown type `float32`; did you mean `fp32`?
            MIL0004 error 3:81-3:86 `float` unknown type `float`; did you mean `fp32`?
            MIL0004 error 3:90-3:93 `int` unknown type `int`; did you mean `int32`?
            MIL0004 error 3:97-3:103 `double` unknown type `double`; did you mean `fp64`?
            MIL0004 error 3:107-3:114 `boolean` unknown type `boolean`; did you mean `bool`?
            MIL0004 error 3:118-3:122 `FP16` unknown type `FP16`; did you mean `fp16`?
            MIL0004 error 3:133-3:137 `fp61` `fp61` is not a dtype; expected one of bool, string, fp8e4m3fn, fp8e5m2, fp16, fp32, fp64, bf16, int4, int8, int16, int32, int64, uint1, uint2, uint3, uint4, uint6, uint8, uint16, uint32, uint64"#]],
    );
}
