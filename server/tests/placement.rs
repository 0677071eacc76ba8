//! `mil placement` and the ANE diagnostics of `mil check`, end to end on a Core ML analytics file.

mod common;

use common::{command, mil, stderr};
use std::path::PathBuf;

fn analytics(file: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus/analytics")
        .join(file);
    p.display().to_string()
}

#[test]
fn placement_json_agrees_with_core_ml_on_mod() {
    let out = mil(&[
        "placement",
        &analytics("mod.mil"),
        "--format",
        "json",
        "--chip",
        "M4",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["compute_units"], "cpu_and_ne");
    for o in doc["functions"][0]["ops"].as_array().unwrap() {
        if let Some(apple) = o["coreml"]["device"].as_str()
            && o["var"] != "wrap_in1_1_relu"
        {
            assert_eq!(o["device"].as_str(), Some(apple), "{}", o["var"]);
        }
    }
}

#[test]
fn placement_table_html_and_bad_arguments() {
    let table = mil(&["placement", &analytics("lstm.mil")]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("lstm") && text.contains("ANE001"), "{text}");
    let html = mil(&[
        "placement",
        &analytics("relu.mil"),
        "--format",
        "html",
        "--compute-units",
        "cpu_only",
    ]);
    let page = String::from_utf8(html.stdout).unwrap();
    assert!(page.contains("<svg") && page.contains("0.0% on the ANE"));
    assert_eq!(
        mil(&["placement", &analytics("relu.mil"), "--chip", "m9"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(mil(&["placement", "/no/such/file.mil"]).status.code(), Some(2));
}

#[test]
fn check_reports_the_ane_rules() {
    let out = mil(&["check", "--format", "json", &analytics("gather_dyn.mil")]);
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = diags
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    for code in ["ANE005", "ANE006", "ANE011", "ANE012"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

#[test]
fn placement_of_a_file_with_syntax_errors_covers_what_could_be_read() {
    // `b` lacks its `;`, `c` has a stray `=`: the table still lists `a`, `b` and `d`, and says
    // on stderr that the file has errors (exit 1).
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 64, 1, 128]> x) {\n            tensor<fp16, [1, 64, 1, 128]> a = relu(x = x)[name = string(\"a\")];\n            tensor<fp16, [1, 64, 1, 128]> b = relu(x = a)[name = string(\"b\")]\n            tensor<fp16, [1, 64, 1, 128]> c = relu(x = = b)[name = string(\"c\")];\n            tensor<fp16, [1, 64, 1, 128]> d = sigmoid(x = b)[name = string(\"d\")];\n        } -> (d);\n}\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.mil");
    std::fs::write(&file, text).unwrap();
    let out = mil(&["placement", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8(out.stdout).unwrap();
    let vars: Vec<&str> = table
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(vars[..3], ["a", "b", "d"], "{table}");
    assert!(table.contains("\n3 ops: "), "{table}");
    let note = String::from_utf8(out.stderr).unwrap();
    assert!(note.contains("has syntax errors"), "{note}");
    // A function whose header cannot be read is still placed, and says so.
    let headless = text.replace(
        "func main<ios18>(tensor<fp16, [1, 64, 1, 128]> x)",
        "func main<ios18>(tensor<fp16, [1, 64, 1, 128] x)",
    );
    std::fs::write(&file, headless).unwrap();
    let table = String::from_utf8(mil(&["placement", file.to_str().unwrap()]).stdout).unwrap();
    assert!(table.starts_with("func (header unreadable)\n"), "{table}");
    assert!(table.contains("\n3 ops: "), "{table}");
}

/// The samples written for the Neural Engine are predicted on it: every op that is not a constant,
/// in one segment (the planner's charges make a lone cheap op stay on the CPU, docs/ane.md, so
/// these samples are sized to pay for a launch).
#[test]
fn the_ane_samples_are_placed_on_the_neural_engine() {
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples");
    for (name, ops) in [
        ("ane_mlp.mil", 3),
        ("transformer_block.mil", 19),
        ("mobilenet.mil", 26),
    ] {
        let file = samples.join(name);
        let out = mil(&["placement", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let totals = &doc["functions"][0]["totals"];
        assert_eq!(totals["ops"], ops, "{name}: {totals}");
        assert_eq!(totals["ane_op_share"], 1.0, "{name}: {totals}");
        assert_eq!(totals["segments"], 1, "{name}: {totals}");
        // And `mil check` finds no error or warning in them.
        let check = mil(&["check", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(check.status.code(), Some(0), "{name}");
        let diags: Vec<serde_json::Value> = serde_json::from_slice(&check.stdout).unwrap();
        let loud: Vec<_> = diags
            .iter()
            .filter(|d| d["severity"] == "error" || d["severity"] == "warning")
            .collect();
        assert!(loud.is_empty(), "{name}: {loud:?}");
    }
}

/// The chip and compute units `mil placement` of standard input uses, given `args`, with a
/// `mil.toml` saying `chip = "m1"` in the folder of `--stdin-path`.
fn stdin_target(args: &[&str]) -> (String, String) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mil.toml"), "chip = \"m1\"\n").unwrap();
    let file = dir.path().join("m.mil");
    let mut child = command()
        .args(["placement", "--format", "json", "--stdin-path"])
        .arg(&file)
        .args(args)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run mil");
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];\n    } -> (y);\n}\n";
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let field = |k: &str| doc[k].as_str().unwrap().to_string();
    (field("chip"), field("compute_units"))
}

#[test]
fn an_editors_settings_yield_to_the_mil_toml_and_flags_override_both() {
    let editor = r#"{"chip": "a17pro", "computeUnits": "all"}"#;
    // The editor's chip gives way to the file's; its compute units, which the file leaves, stay.
    assert_eq!(stdin_target(&["--settings", editor]), ("m1".into(), "all".into()));
    assert_eq!(stdin_target(&[]), ("m1".into(), "cpu_and_ne".into()));
    assert_eq!(
        stdin_target(&["--settings", editor, "--chip", "a14"]),
        ("a14".into(), "all".into())
    );
}
