//! `mil fix` end to end: it rewrites in place or to `-o`, only the rewrites `--rewrite` names,
//! writes nothing with `--dry-run` (it prints the diff) or when the program has errors, and what it
//! writes passes `mil check`. That the rewritten program computes what the original did is
//! checked in the interpreter by mil-ide's `ane_fixes` tests, on the same program.

mod common;

use common::{mil, stderr, stdout, temp_dir};
use std::fs;
use std::path::Path;

/// `x → conv 3×3 → tan → conv 3×3 → cumsum (last axis) → conv 3×3 → out`, fp16, `c` channels of
/// `s`×`s`; `out` is declared `out_type` (a wrong one makes an error).
fn program(c: usize, s: usize, out_type: &str) -> String {
    let t = format!("tensor<fp16, [1, {c}, {s}, {s}]>");
    let conv = |name: &str, x: &str, ty: &str| {
        format!(
            "        {ty} {name} = conv(x = {x}, weight = w, strides = tensor<int32, [2]>([1, 1]), pad_type = string(\"same\"), dilations = tensor<int32, [2]>([1, 1]), groups = int32(1))[name = string(\"{name}\")];\n"
        )
    };
    format!(
        "program(1.3)\n{{\n    func main<ios18>({t} x, tensor<fp16, [{c}, {c}, 3, 3]> w) {{\n{}        {t} b = tan(x = a)[name = string(\"b\")];\n{}        {t} d = cumsum(x = c, axis = int32(3))[name = string(\"d\")];\n{}    }} -> (out);\n}}\n",
        conv("a", "x", &t),
        conv("c", "b", &t),
        conv("out", "d", out_type),
    )
}

/// A folder holding `model.mil` with `text`.
fn model_dir(text: &str) -> tempfile::TempDir {
    let dir = temp_dir();
    fs::write(dir.path().join("model.mil"), text).unwrap();
    dir
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether the text has a statement of op `kind`.
fn has_op(text: &str, kind: &str) -> bool {
    text.contains(&format!(" = {kind}("))
}

#[test]
fn fixes_in_place_with_a_table_and_the_result_checks() {
    let text = program(64, 64, "tensor<fp16, [1, 64, 64, 64]>");
    let dir = model_dir(&text);
    let file = dir.path().join("model.mil");
    let out = mil(&["fix", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let shown = stdout(&out);
    assert!(shown.starts_with("Rewrite tan as sin/cos — CPU → ANE"), "{shown}");
    assert!(
        shown.contains("Rewrite cumsum as a matmul with a triangular matrix — CPU → ANE"),
        "{shown}"
    );
    // Five planned ops (3 convs, tan, cumsum), three on the ANE, become seven, all on it.
    assert!(shown.contains("3/5 → 7/7"), "{shown}");
    let fixed = fs::read_to_string(&file).unwrap();
    assert!(!has_op(&fixed, "tan") && !has_op(&fixed, "cumsum"), "{fixed}");
    assert!(has_op(&fixed, "sin") && has_op(&fixed, "matmul"), "{fixed}");
    assert_eq!(files(dir.path()), ["model.mil"], "no temporary file is left");
    let check = mil(&["check", file.to_str().unwrap()]);
    assert!(check.status.success(), "{check:?}");
}

#[test]
fn with_o_writes_the_output_and_leaves_the_input() {
    let text = program(64, 64, "tensor<fp16, [1, 64, 64, 64]>");
    let dir = model_dir(&text);
    let (file, to) = (dir.path().join("model.mil"), dir.path().join("fixed.mil"));
    let out = mil(&["fix", file.to_str().unwrap(), "-o", to.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
    let fixed = fs::read_to_string(&to).unwrap();
    assert!(!has_op(&fixed, "tan") && !has_op(&fixed, "cumsum"), "{fixed}");
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let text = program(64, 64, "tensor<fp16, [1, 64, 64, 64]>");
    let dir = model_dir(&text);
    let file = dir.path().join("model.mil");
    let out = mil(&["fix", "--dry-run", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
    assert_eq!(files(dir.path()), ["model.mil"]);
    let shown = stdout(&out);
    let removed: Vec<&str> = shown.lines().filter(|l| l.starts_with("-  ")).collect();
    let added = shown.lines().filter(|l| l.starts_with("+  ")).count();
    // tan, cumsum and the two convs that read them go; sin, cos, real_div, the triangle, matmul
    // and the two convs come; the first conv is context.
    assert_eq!(removed.len(), 4, "{shown}");
    assert_eq!(added, 7, "{shown}");
    assert!(removed.iter().any(|l| has_op(l, "tan")), "{shown}");
    assert!(shown.contains("@@ -2,9 +2,12 @@"), "{shown}");
}

#[test]
fn rewrite_applies_only_the_named_rewrites() {
    let text = program(64, 64, "tensor<fp16, [1, 64, 64, 64]>");
    let dir = model_dir(&text);
    let file = dir.path().join("model.mil");
    let out = mil(&["fix", "--rewrite", "tan-to-sin-cos", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let fixed = fs::read_to_string(&file).unwrap();
    assert!(!has_op(&fixed, "tan") && has_op(&fixed, "cumsum"), "{fixed}");
    let unknown = mil(&["fix", "--rewrite", "no-such-rewrite", file.to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown rewrite `no-such-rewrite`"));
}

#[test]
fn a_program_with_errors_gets_them_and_nothing_is_written() {
    // `out` declared with the wrong shape: a type error.
    let text = program(64, 64, "tensor<fp16, [1, 64, 64, 63]>");
    let dir = model_dir(&text);
    let (file, to) = (dir.path().join("model.mil"), dir.path().join("fixed.mil"));
    let out = mil(&["fix", file.to_str().unwrap(), "-o", to.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stderr(&out).contains("not fixing"), "{out:?}");
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
    assert_eq!(files(dir.path()), ["model.mil"]);
}

#[test]
fn nothing_is_written_when_no_rewrite_helps() {
    let text = program(16, 32, "tensor<fp16, [1, 16, 32, 32]>");
    let dir = model_dir(&text);
    let file = dir.path().join("model.mil");
    let out = mil(&["fix", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("no rewrite helps on m4, cpu_and_ne"),
        "{out:?}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
}

/// coremltools' fp16 model with an fp32 interface, written for `opset`.
fn fp32_interface(opset: &str) -> String {
    format!(
        "program(1.3)\n{{\n    func main<{opset}>(tensor<fp32, [1, 64]> x) {{\n        tensor<fp16, [1, 64]> h = cast(dtype = string(\"fp16\"), x = x)[name = string(\"h\")];\n        tensor<fp16, [1, 64]> r = relu(x = h)[name = string(\"r\")];\n        tensor<fp32, [1, 64]> out = cast(dtype = string(\"fp32\"), x = r)[name = string(\"out\")];\n    }} -> (out);\n}}\n"
    )
}

#[test]
fn the_interface_change_is_made_only_when_named_and_refused_before_ios16_with_the_reason() {
    let list = stdout(&mil(&["fix", "--list"]));
    let io = list
        .lines()
        .find(|l| l.starts_with("io-to-fp16 "))
        .unwrap_or_default();
    assert!(io.ends_with("(interface change) (only when named)"), "{list}");
    let text = fp32_interface("ios16");
    let dir = model_dir(&text);
    let file = dir.path().join("model.mil");
    let unasked = mil(&["fix", file.to_str().unwrap()]);
    assert!(stdout(&unasked).contains("no rewrite helps"), "{unasked:?}");
    assert_eq!(fs::read_to_string(&file).unwrap(), text);
    let named = mil(&["fix", "--rewrite", "io-to-fp16", file.to_str().unwrap()]);
    assert!(
        stdout(&named).contains("Change input x and output out to fp16 (interface change) — est."),
        "{named:?}"
    );
    let fixed = fs::read_to_string(&file).unwrap();
    assert!(
        fixed.contains("main<ios16>(tensor<fp16, [1, 64]> x)") && !has_op(&fixed, "cast"),
        "{fixed}"
    );
    let check = mil(&["check", file.to_str().unwrap()]);
    assert!(check.status.success(), "{check:?}");

    let old = fp32_interface("ios15");
    fs::write(&file, &old).unwrap();
    let refused = mil(&["fix", "--rewrite", "io-to-fp16", file.to_str().unwrap()]);
    assert!(
        stdout(&refused).contains(
            "io-to-fp16 does not apply to `main`: Core ML takes fp16 inputs and outputs from iOS16 on"
        ),
        "{refused:?}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), old);
}
