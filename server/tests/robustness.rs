//! The `mil` binary on hostile input: damaged packages and texts give a message and exit 1 (2 for
//! a file that is not text), never a panic, a hang or partial output. The damage itself is covered
//! kind by kind in tests/robustness/tests/corrupted_packages.rs; this checks the exit codes.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Runs `mil` and checks it neither panicked nor took more than 30 s (debug build).
fn mil(args: &[&Path]) -> Output {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_mil"))
        .args(args)
        .output()
        .expect("run mil");
    let stderr = String::from_utf8_lossy(&out.stderr);
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
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
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
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot decompile"),
            "{what}"
        );
        assert_eq!(
            fs::read_dir(target.parent().unwrap()).unwrap().count(),
            0,
            "{what}: partial output"
        );
    }
}

#[test]
fn hostile_texts_get_a_diagnostic() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));

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
    assert!(String::from_utf8_lossy(&out.stdout).contains("nested more than"));
}
