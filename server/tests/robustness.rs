//! The `mil` binary on hostile input: damaged packages and texts give a message and exit 1 (2 for
//! a file that is not text), never a panic, a hang or partial output. The damage itself is covered
//! kind by kind in tests/robustness/tests/corrupted_packages.rs; this checks the exit codes.

mod common;

use common::{stderr, stdout};

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// Runs `mil` and checks it neither panicked nor took more than 30 s (debug build).
fn mil(args: &[&Path]) -> Output {
    let start = Instant::now();
    let out = common::mil(args);
    let stderr = stderr(&out);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflow"),
        "{stderr}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "took {:?}",
        start.elapsed()
    );
    out
}

const PROGRAM: &str = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];\n    } -> (y);\n}\n";

/// One kind of damage done to the package.
type Damage<'a> = Box<dyn Fn() + 'a>;

#[test]
fn damaged_packages_exit_1_without_output() {
    let dir = common::temp_dir();
    let source = dir.path().join("m.mil");
    fs::write(&source, PROGRAM).unwrap();
    let pkg = dir.path().join("m.mlpackage");
    assert_eq!(
        mil(&[Path::new("compile"), &source, Path::new("-o"), &pkg])
            .status
            .code(),
        Some(0)
    );
    let model = pkg.join("Data/com.apple.CoreML/model.mlmodel");
    let bytes = fs::read(&model).unwrap();
    let damages: [(&str, Damage); 4] = [
        (
            "truncated model",
            Box::new(|| fs::write(&model, &bytes[..bytes.len() / 2]).unwrap()),
        ),
        (
            "garbage model",
            Box::new(|| fs::write(&model, [0xff; 300]).unwrap()),
        ),
        (
            "manifest escaping the package",
            Box::new(|| {
                let manifest = pkg.join("Manifest.json");
                let text = fs::read_to_string(&manifest).unwrap();
                fs::write(
                    &manifest,
                    text.replace("com.apple.CoreML/model.mlmodel", "/dev/zero"),
                )
                .unwrap();
            }),
        ),
        (
            "no manifest",
            Box::new(|| fs::remove_file(pkg.join("Manifest.json")).unwrap()),
        ),
    ];
    for (what, damage) in damages {
        damage();
        let target = dir.path().join("out/m.mil");
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        let out = mil(&[Path::new("decompile"), &pkg, Path::new("-o"), &target]);
        assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot decompile"), "{what}");
        assert_eq!(
            fs::read_dir(target.parent().unwrap()).unwrap().count(),
            0,
            "{what}: partial output"
        );
    }
}

#[test]
fn hostile_texts_get_a_diagnostic() {
    let dir = common::temp_dir();
    let binary = dir.path().join("binary.mil");
    fs::write(
        &binary,
        (0..65536u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let out = mil(&[Path::new("check"), &binary]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not UTF-8"));

    let n = 200_000;
    let deep = dir.path().join("deep.mil");
    fs::write(
        &deep,
        PROGRAM.replace(
            "relu(x = x)",
            &format!("relu(x = {}x{})", "(".repeat(n), ")".repeat(n)),
        ),
    )
    .unwrap();
    let out = mil(&[
        Path::new("check"),
        Path::new("--format"),
        Path::new("json"),
        &deep,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("nested more than"));
}

/// `mil check --format json` on `text`, as parsed JSON diagnostics, with the exit code.
fn check_json(dir: &Path, text: &str) -> (Option<i32>, Vec<serde_json::Value>) {
    let file = dir.join("many.mil");
    fs::write(&file, text).unwrap();
    let out = mil(&[
        Path::new("check"),
        Path::new("--format"),
        Path::new("json"),
        &file,
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    (out.status.code(), json.as_array().unwrap().clone())
}

#[test]
fn repeated_findings_are_summed_up_per_code() {
    let dir = common::temp_dir();
    // 1000 unnamed statements (MIL0102, a warning each) and 300 uses of an undefined name
    // (MIL0201, an error each).
    let mut body = String::new();
    for i in 0..1000 {
        body += &format!("        tensor<fp16, [1, 4]> v{i} = relu(x = x);\n");
    }
    for i in 0..300 {
        body += &format!("        tensor<fp16, [1, 4]> e{i} = relu(x = nope)[name = string(\"e{i}\")];\n");
    }
    let text = PROGRAM.replace(
        "        tensor<fp16, [1, 4]> y = relu(x = x)[name = string(\"y\")];\n",
        &body,
    );
    let (code, diagnostics) = check_json(dir.path(), &text);
    assert_eq!(code, Some(1), "the hidden errors still fail the check");
    let of = |code: &str| -> Vec<&serde_json::Value> {
        diagnostics.iter().filter(|d| d["code"] == code).collect()
    };
    for (code, total, severity) in [("MIL0102", 1000, "warning"), ("MIL0201", 300, "error")] {
        let found = of(code);
        assert_eq!(found.len(), 101, "{code}: the first 100 and a summary");
        let summary = found.last().unwrap();
        assert_eq!(summary["severity"], severity);
        let message = summary["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{} more {code} diagnostics not shown", total - 100)),
            "{message}"
        );
        // The summary stands at the first one left out: the 101st statement of its kind.
        let line = summary["range"]["start"]["line"].as_u64().unwrap();
        let first_line = found[0]["range"]["start"]["line"].as_u64().unwrap();
        assert_eq!(line, first_line + 100);
    }
}
