//! The lexer reads `key = value`, a statement's argument list and attribute block, flat tensor
//! literals and BLOBFILE references as single tokens for speed, and the grammar reads the same text
//! token by token when a line break stands inside them. Both readings must mean the same: the same program and the same diagnostics.

use mil_grammar::parse;
use mil_ir::printer::print_program;

/// Statements whose parts the lexer fuses, right and wrong.
const STATEMENTS: &[&str] = &[
    r#"tensor<int32, [2]> a = const()[name = string("a"), val = tensor<int32, [2]>([1, -2])]"#,
    r#"tensor<int32, [3]> b = const()[name = string("b"), val = tensor<int32, [3]>([1, 2])]"#,
    r#"tensor<int32, [2, 2]> c = const()[name = string("c"), val = tensor<int32, [2, 2]>([1, 2, 3, 4])]"#,
    r#"tensor<int8, [2]> d = const()[name = string("d"), val = tensor<int8, [2]>([1, 300])]"#,
    r#"tensor<fp32, [4]> e = const()[name = string("e"), val = tensor<fp32, [4]>([0x1p-3, 0.1, -inf, nan])]"#,
    r#"tensor<fp16, [2]> f = const()[name = string("f"), val = tensor<fp16, [2]>([0x1.0000000001p0, 1e9])]"#,
    r#"tensor<bool, [3]> g = const()[name = string("g"), val = tensor<bool, [3]>([true, false, 1, ])]"#,
    r#"tensor<int32, [0]> h = const()[name = string("h"), val = tensor<int32, [0]>([])]"#,
    r#"tensor<int32, [1]> i = const()[name = string("i"), val = tensor<int32, [1]>([x])]"#,
    r#"tensor<fp16, [2]> j = const()[name = string("j"), val = tensor<fp16, [2]>(BLOBFILE(path = string("@model_path/weights/w\"x.bin"), offset = uint64(64)))]"#,
    r#"tensor<fp16, [2]> k = const()[name = string("k"), val = tensor<fp16, [2]>(BLOBFILE(path = string("p"), offset = uint64(99999999999999999999)))]"#,
    r#"tensor<foo, [2]> l = const()[name = string("l"), val = tensor<foo, [2]>([1, 2])]"#,
    r#"tensor<int32, [2]> m = add(x = a, y = a)[name = string("m")]"#,
    r#"tensor<int32, [2]> n = add(x = a, x = undefined_value, z = missing)[name = string("n"), name = string("n2")]"#,
    r#"tensor<int32, [2]> o = add(x = a, y = tensor<int32, [2]>([3, 4]), w = bool(true))[name = string("o")]"#,
    r#"tensor<int32, [2]> p = relu(x = a)[name = q]"#,
    r#"tensor<int32, [2]> q = add(x = program,	y = func)[name = string("q\"1"), val = bool(true)]"#,
    r#"tensor<int32, [2]> r = add(x = BLOBFILE, y = a)[name = string("r")]"#,
    r#"tensor<int32, [2]> s, tensor<int32, [2]> t = split(x = a, num_splits = int32(2))[name = string("s")]"#,
    r#"tensor<int32, [2]> u = cond(pred = a)[name = string("u")] block() { tensor<int32, [2]> v = relu(x = a)[name = string("v")]; } -> (v) block() { } -> (a)"#,
    r#"tensor<int32, [2]> w = add(x = a, y = a)[name = string("w")] stray"#,
    r#"tensor<int32, [2]> x = add(x = a, y = a)[name = string("x")]"#,
];

fn program(statements: &[String]) -> String {
    let body: String = statements.iter().map(|s| format!("        {s};\n")).collect();
    format!("program(1.3)\n{{\n    func main<ios18>() {{\n{body}    }} -> (a);\n}}\n")
}

/// The statement with a line break after every `=` and after every `(` that opens a literal's
/// value, which keeps the lexer from fusing anything.
fn unfused(statement: &str) -> String {
    statement
        .replace("= ", "=\n")
        .replace(">([", ">(\n[")
        .replace(">(BLOBFILE", ">(\nBLOBFILE")
}

/// What a parse means, apart from where things are: the canonical text and each diagnostic's code
/// and message.
fn meaning(text: &str) -> (String, Vec<(String, String)>) {
    let parsed = parse(text);
    let printed = print_program(&parsed.program);
    let diagnostics = parsed
        .diagnostics
        .iter()
        .map(|d| (d.code.id.to_string(), d.message.clone()))
        .collect();
    (printed, diagnostics)
}

#[test]
fn fused_and_unfused_spellings_mean_the_same() {
    let fused: Vec<String> = STATEMENTS.iter().map(|s| s.to_string()).collect();
    let split: Vec<String> = STATEMENTS.iter().map(|s| unfused(s)).collect();
    for (f, s) in fused.iter().zip(&split) {
        assert_ne!(f, s, "the unfused spelling differs");
        assert_eq!(
            meaning(&program(std::slice::from_ref(f))),
            meaning(&program(std::slice::from_ref(s))),
            "{f}"
        );
    }
    let (_, diagnostics) = meaning(&program(&fused));
    let codes: Vec<&str> = diagnostics.iter().map(|(c, _)| c.as_str()).collect();
    let expected = [
        "MIL0004", "MIL0005", "MIL0105", "MIL0107", "MIL0108", "MIL0201", "MIL0205", "MIL0206", "MIL0207",
        "MIL0210",
    ];
    for expected in expected {
        assert!(codes.contains(&expected), "{expected} not among {codes:?}");
    }
}

/// The text with a line break for the blank after every comma that precedes a `key =`: the same
/// length, but no list of `key = value` items is on one line.
fn lists_broken(text: &str) -> String {
    let mut out = text.as_bytes().to_vec();
    for (at, _) in text.match_indices(", ") {
        let rest = &text[at + 2..];
        let key = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_alphanumeric() || c == '_')
                .len();
        if key > 0 && rest[key..].starts_with(" = ") {
            out[at + 1] = b'\n';
        }
    }
    String::from_utf8(out).expect("a blank became a line break")
}

/// Breaking the lines of its lists keeps the lexer from reading them whole without moving
/// anything: the parse must be the same to the byte, source map and diagnostics included.
#[test]
fn lists_read_whole_keep_every_span() {
    let fused = program(&STATEMENTS.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let split = lists_broken(&fused);
    let breaks = split.matches('\n').count() - fused.matches('\n').count();
    assert!(breaks > STATEMENTS.len(), "{breaks} line breaks added");
    let (a, b) = (parse(&fused), parse(&split));
    assert_eq!(a.program, b.program);
    assert_eq!(format!("{:?}", a.source_map), format!("{:?}", b.source_map));
    let where_and_what = |p: &mil_grammar::Parse| -> Vec<(mil_ir::Span, &str)> {
        p.diagnostics.iter().map(|d| (d.span, d.code.id)).collect()
    };
    assert_eq!(where_and_what(&a), where_and_what(&b));
    assert!(a.diagnostics.len() > 10, "{:?}", a.diagnostics);
}

#[test]
fn fused_tokens_keep_the_spans_of_their_parts() {
    let statement =
        r#"tensor<int32, [2]> m = add(x = a, y = tensor<int32, [2]>([3, 4]))[name = string("m")]"#;
    let text = program(&[STATEMENTS[0].to_string(), statement.to_string()]);
    let parsed = parse(&text);
    let spans = &parsed.source_map.functions[0].ops[1];
    let slice = |s: mil_ir::Span| &text[s.range()];
    assert_eq!(slice(spans.args[0].key.unwrap()), "x");
    assert_eq!(slice(spans.args[0].value), "a");
    assert_eq!(slice(spans.args[1].whole), "y = tensor<int32, [2]>([3, 4])");
    assert_eq!(slice(spans.args[1].value), "tensor<int32, [2]>([3, 4])");
    assert_eq!(slice(spans.attributes[0].key), "name");
    assert_eq!(slice(spans.attributes[0].value), r#"string("m")"#);
    assert_eq!(slice(spans.attributes[0].ty), "string");
    let values = &parsed.source_map.functions[0].values;
    assert_eq!(slice(values[1].name), "m");
    assert_eq!(slice(values[1].ty), "tensor<int32, [2]>");
}
