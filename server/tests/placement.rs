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
