//! `mil placement` and the ANE diagnostics of `mil check`, end to end on a Core ML analytics file.

use std::path::PathBuf;
use std::process::{Command, Output};

fn mil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mil"))
        .args(args)
        .output()
        .expect("run mil")
}

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
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// The chip and compute units `mil placement` of standard input uses, given `args`, with a
/// `mil.toml` saying `chip = "m1"` in the folder of `--stdin-path`.
fn stdin_target(args: &[&str]) -> (String, String) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mil.toml"), "chip = \"m1\"\n").unwrap();
    let file = dir.path().join("m.mil");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mil"))
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
