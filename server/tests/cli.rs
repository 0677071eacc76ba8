//! The `mil` binary end to end: exit codes, JSON diagnostics with LSP positions, and formatting in
//! place, to standard output and as a check.

mod common;

use common::{command, mil, stderr, stdout};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn corpus(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpus")
        .join(file)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const BROKEN: &str = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1]> x) {\n            // é𝄞\n            tensor<fp16, [1]> y = relu(x = é_unknown)[name = string(\"y\")];\n        } -> (y);\n}\n";

#[test]
fn check_exits_zero_on_compiler_output() {
    let out = mil(&[
        "check",
        "--format",
        "json",
        corpus("004_fa_transpose.mil").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let diags: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(diags.iter().all(|d| d["severity"] != "error"), "{diags:?}");
    assert!(
        diags
            .iter()
            .all(|d| !d["code"].as_str().unwrap().starts_with("MIL")),
        "{diags:?}"
    );
}

#[test]
fn check_reports_json_with_utf16_positions() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.mil", BROKEN);
    let out = mil(&["check", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = diags.as_array().unwrap();
    let bad = diags
        .iter()
        .find(|d| d["code"] == "MIL0002")
        .expect("the invalid character");
    assert_eq!(bad["severity"], "error");
    assert_eq!(bad["file"], file.to_str().unwrap());
    // `é` is at byte 71 of line 4 (0-based), UTF-16 column 43.
    let start = BROKEN.find("é_unknown").unwrap();
    assert_eq!(bad["bytes"][0], start);
    assert_eq!(bad["range"]["start"]["line"], 4);
    assert_eq!(bad["range"]["start"]["character"], 43);
    let comment = diags.iter().find(|d| d["code"] == "MIL0101").unwrap();
    // `// é𝄞` spans 2 + 1 + 1 + 2 UTF-16 units (𝄞 is a surrogate pair): columns 12..18.
    assert_eq!(comment["range"]["start"]["character"], 12);
    assert_eq!(comment["range"]["end"]["character"], 18);
}

#[test]
fn check_exits_two_on_unreadable_input_and_bad_usage() {
    assert_eq!(mil(&["check", "/nonexistent/model.mil"]).status.code(), Some(2));
    assert_eq!(mil(&["check"]).status.code(), Some(2));
    assert_eq!(mil(&["frobnicate"]).status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("bin.mil");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    assert_eq!(mil(&["check", binary.to_str().unwrap()]).status.code(), Some(2));
}

#[test]
fn fmt_rewrites_lenient_files_in_place_and_check_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(corpus("037_rustane_layer_0_fwd.mil")).unwrap();
    let file = write(dir.path(), "model.mil", &text);
    let f = file.to_str().unwrap();
    assert_eq!(mil(&["fmt", "--check", f]).status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "--check must not write"
    );
    assert_eq!(mil(&["fmt", f]).status.code(), Some(0));
    let formatted = std::fs::read_to_string(&file).unwrap();
    assert_ne!(formatted, text);
    assert_eq!(mil(&["fmt", "--check", f]).status.code(), Some(0));
    let json = mil(&["check", "--format", "json", f]);
    let codes: Vec<String> = serde_json::from_slice::<Vec<serde_json::Value>>(&json.stdout)
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .filter(|c| c.starts_with("MIL01"))
        .collect();
    assert_eq!(codes, ["MIL0101"], "only the comment note is left after fmt");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn fmt_reads_stdin_and_keeps_compiler_output_unchanged() {
    let text = std::fs::read_to_string(corpus("015_m6_hwx_model.mil")).unwrap();
    let mut child = command()
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}

#[test]
fn fmt_refuses_files_with_syntax_errors_and_leaves_them_alone() {
    let dir = tempfile::tempdir().unwrap();
    let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1]> x) {\n        tensor<fp16, [1]> y = relu(x = x)[name = string(\"y\")\n    } -> (y);\n}\n";
    let file = write(dir.path(), "bad.mil", text);
    let out = mil(&["fmt", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("syntax errors"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[cfg(unix)]
#[test]
fn fmt_writes_through_a_symbolic_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let target = write(
        &real_dir,
        "model.mil",
        "program(1.3)\n{\nfunc main<ios18>(tensor<fp16, [1]> x) {\n} -> (x);\n}\n",
    );
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.mil");
    std::os::unix::fs::symlink("real/model.mil", &link).unwrap();
    let out = mil(&["fmt", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        PathBuf::from("real/model.mil")
    );
    let formatted = std::fs::read_to_string(&target).unwrap();
    assert!(formatted.contains("    func main<ios18>"), "{formatted}");
    assert_eq!(
        mil(&["fmt", "--check", target.to_str().unwrap()]).status.code(),
        Some(0)
    );
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // Nothing else appeared in either folder.
    let names = |d: &Path| -> Vec<_> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect()
    };
    assert_eq!(names(&real_dir), ["model.mil"]);
    assert_eq!(names(dir.path()).len(), 2);
}
