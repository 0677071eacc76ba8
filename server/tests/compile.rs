//! `mil compile` and `mil decompile` end to end: default and explicit outputs, the round trip
//! text → package → text, and that a failure writes nothing.

mod common;

use common::{mil, stderr, stdout, with_weights};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Writes `text` to `dir/NAME.mil` and runs `mil compile` on it.
fn compile_text(dir: &Path, name: &str, text: &str) -> (PathBuf, Output) {
    let file = dir.join(format!("{name}.mil"));
    fs::write(&file, text).unwrap();
    let out = mil::<&Path>(&["compile".as_ref(), &file]);
    (file, out)
}

/// `net.mil` ([`PROGRAM`]) in a folder with coremltools' weight file (fp16 ×5 at offset 64,
/// fp32 ×7 at 192, int8 ×5 at 320, ...), compiled beside it to `net.mlpackage`.
fn compiled() -> (tempfile::TempDir, PathBuf) {
    let dir = with_weights();
    let (file, out) = compile_text(dir.path(), "net", PROGRAM);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (dir, file)
}

/// Every entry of `dir`, sorted, as paths relative to it.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            found.push(path.strip_prefix(dir).unwrap().to_path_buf());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

const PROGRAM: &str = r#"program(1.3)
[buildInfo = dict<string, string>({{"coremltools-version", "9.0"}})]
{
    func main<ios18>(tensor<fp16, [1, 5]> x) {
            tensor<fp16, [5]> w = const()[name = string("w"), val = tensor<fp16, [5]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))];
            tensor<fp16, [1, 5]> y = add(x = x, y = w)[name = string("y")];
            tensor<fp16, [1, 5]> z = relu(x = y)[name = string("z")];
        } -> (z);
}
"#;

/// A program whose weight is the fixture's int8 blob.
const OTHER_PROGRAM: &str = r#"program(1.3)
{
    func main<ios18>(tensor<int8, [5]> x) {
            tensor<int8, [5]> w = const()[name = string("w"), val = tensor<int8, [5]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(320)))];
            tensor<int8, [5]> z = identity(x = w)[name = string("z")];
        } -> (z);
}
"#;

/// `PROGRAM` as `mil decompile` writes it into `NAME.mil`: its weights in `NAME.weights/`.
fn decompiled(name: &str) -> String {
    PROGRAM.replace("weights/weight.bin", &format!("{name}.weights/weight.bin"))
}

fn model_bytes(package: &Path) -> Vec<u8> {
    fs::read(package.join("Data/com.apple.CoreML/model.mlmodel")).unwrap()
}

#[test]
fn compile_writes_the_package_beside_the_file_and_decompile_gives_the_text_back() {
    let (dir, _) = compiled();
    let package = dir.path().join("net.mlpackage");
    assert!(package.join("Manifest.json").is_file());
    assert!(package.join("Data/com.apple.CoreML/weights/weight.bin").is_file());

    let back = dir.path().join("back");
    fs::create_dir(&back).unwrap();
    let text = back.join("net.mil");
    let out = mil::<&Path>(&["decompile".as_ref(), &package, "-o".as_ref(), &text]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&text).unwrap(), decompiled("net"));
    assert_eq!(
        listing(&back),
        [
            PathBuf::from("net.mil"),
            "net.weights".into(),
            "net.weights/weight.bin".into()
        ]
    );
    assert_eq!(
        stdout(&out),
        format!(
            "wrote {}\nwrote {}\n",
            text.display(),
            back.join("net.weights/weight.bin").display()
        )
    );

    let again = dir.path().join("again.mlpackage");
    let out = mil::<&Path>(&["compile".as_ref(), &text, "-o".as_ref(), &again]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(model_bytes(&package), model_bytes(&again));
    let weights = |p: &Path| fs::read(p.join("Data/com.apple.CoreML/weights/weight.bin")).unwrap();
    assert_eq!(weights(&package), weights(&again));
}

#[test]
fn decompile_defaults_to_the_package_name_and_reads_a_bare_model_file() {
    let (dir, file) = compiled();
    fs::remove_file(&file).unwrap();
    let out = mil::<&Path>(&["decompile".as_ref(), &dir.path().join("net.mlpackage")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), decompiled("net"));

    let inner = dir.path().join("net.mlpackage/Data/com.apple.CoreML");
    let out = mil::<&Path>(&["decompile".as_ref(), &inner.join("model.mlmodel")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(inner.join("model.mil")).unwrap(),
        decompiled("model")
    );
}

#[test]
fn a_program_with_errors_writes_nothing() {
    let dir = with_weights();
    let before = listing(dir.path());
    for (name, text, expected) in [
        (
            "bad",
            PROGRAM.replace("relu(x = y)", "relu(x = nowhere)"),
            "nowhere",
        ),
        (
            "missing",
            PROGRAM.replace("weights/weight.bin", "weights/gone.bin"),
            "MIL0302",
        ),
        ("wrong_dtype", PROGRAM.replace("fp16", "fp32"), "MIL0304"),
    ] {
        let (file, out) = compile_text(dir.path(), name, &text);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        fs::remove_file(file).unwrap();
    }
    assert_eq!(listing(dir.path()), before);
}

#[test]
fn a_malformed_package_writes_nothing() {
    let (dir, _) = compiled();
    let package = dir.path().join("net.mlpackage");
    let weight = package.join("Data/com.apple.CoreML/weights/weight.bin");
    let mut bytes = fs::read(&weight).unwrap();
    bytes[64] = 0; // the sentinel of the only blob record
    fs::write(&weight, bytes).unwrap();
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = mil::<&Path>(&[
        "decompile".as_ref(),
        &package,
        "-o".as_ref(),
        &out_dir.join("net.mil"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("error[MIL0303]"), "{}", stderr(&out));
    fs::write(package.join("Data/com.apple.CoreML/model.mlmodel"), b"\xff\xff").unwrap();
    let out = mil::<&Path>(&[
        "decompile".as_ref(),
        &package,
        "-o".as_ref(),
        &out_dir.join("net.mil"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a Core ML model"),
        "{}",
        stderr(&out)
    );
    assert_eq!(listing(&out_dir), Vec::<PathBuf>::new());
}

#[test]
fn decompile_replaces_nothing_without_force_and_gives_each_program_its_own_weights() {
    let (dir, _) = compiled();
    let package = dir.path().join("net.mlpackage");
    // A second model with other weights (the fixture's int8 blob), so that mixing the two weight
    // files up would show.
    let other = dir.path().join("other.mil");
    fs::write(&other, OTHER_PROGRAM).unwrap();
    assert_eq!(mil::<&Path>(&["compile".as_ref(), &other]).status.code(), Some(0));

    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let a = out_dir.join("a.mil");
    let b = out_dir.join("b.mil");
    assert_eq!(
        mil::<&Path>(&["decompile".as_ref(), &package, "-o".as_ref(), &a])
            .status
            .code(),
        Some(0)
    );
    let a_weights = fs::read(out_dir.join("a.weights/weight.bin")).unwrap();
    let edited = fs::read_to_string(&a).unwrap() + "// my edits\n";
    fs::write(&a, &edited).unwrap();

    // Again into the same file: refused, the edits and weights kept.
    let out = mil::<&Path>(&["decompile".as_ref(), &package, "-o".as_ref(), &a]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("exists") && stderr(&out).contains("--force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), edited);
    // Only the weight file in the way is refused too.
    fs::rename(&a, out_dir.join("kept.mil")).unwrap();
    let out = mil::<&Path>(&["decompile".as_ref(), &package, "-o".as_ref(), &a]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a.weights/weight.bin: exists"),
        "{}",
        stderr(&out)
    );
    assert!(!a.exists());
    fs::rename(out_dir.join("kept.mil"), &a).unwrap();

    // Another program in the same folder does not touch the first one's weights.
    let other_package = dir.path().join("other.mlpackage");
    assert_eq!(
        mil::<&Path>(&["decompile".as_ref(), &other_package, "-o".as_ref(), &b])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(fs::read(out_dir.join("a.weights/weight.bin")).unwrap(), a_weights);
    assert!(
        fs::read_to_string(&b)
            .unwrap()
            .contains("@model_path/b.weights/weight.bin")
    );
    for text in [&a, &b] {
        let out = mil::<&Path>(&["check".as_ref(), text]);
        assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    }

    // --force replaces both.
    let out = mil::<&Path>(&[
        "decompile".as_ref(),
        &package,
        "-o".as_ref(),
        &a,
        "--force".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&a).unwrap(), decompiled("a"));
    assert_eq!(fs::read(out_dir.join("a.weights/weight.bin")).unwrap(), a_weights);
    // No temporary file is left behind.
    assert!(
        listing(&out_dir)
            .iter()
            .all(|p| !p.to_string_lossy().contains(".tmp")),
        "{:?}",
        listing(&out_dir)
    );
}

#[test]
fn compile_prints_the_package_and_its_warnings() {
    let dir = with_weights();
    // A comment is a warning (MIL0101): compiling succeeds and shows it.
    let commented = PROGRAM.replace("{\n    func", "{\n    // a comment\n    func");
    let (_, out) = compile_text(dir.path(), "net", &commented);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("wrote {}\n", dir.path().join("net.mlpackage").display())
    );
    assert!(stderr(&out).contains("warning[MIL0101]"), "{}", stderr(&out));
}

#[test]
fn a_missing_output_folder_is_named() {
    let dir = with_weights();
    let file = dir.path().join("net.mil");
    fs::write(&file, PROGRAM).unwrap();
    let nowhere = dir.path().join("nowhere");
    let refused = |out: Output| {
        assert_eq!(out.status.code(), Some(2));
        let message = stderr(&out);
        assert!(
            message.contains(&format!("{}: no such folder", nowhere.display())),
            "{message}"
        );
        message
    };
    let message = refused(mil::<&Path>(&[
        "compile".as_ref(),
        &file,
        "-o".as_ref(),
        &nowhere.join("net.mlpackage"),
    ]));
    assert!(!message.contains(".net.mlpackage."), "{message}");
    assert_eq!(mil::<&Path>(&["compile".as_ref(), &file]).status.code(), Some(0));
    refused(mil::<&Path>(&[
        "decompile".as_ref(),
        &dir.path().join("net.mlpackage"),
        "-o".as_ref(),
        &nowhere.join("net.mil"),
    ]));
}

#[test]
fn the_wrong_kind_of_input_gets_the_command_that_reads_it() {
    let (dir, file) = compiled();
    let package = dir.path().join("net.mlpackage");
    for command in ["check", "compile", "fmt"] {
        let out = mil::<&Path>(&[command.as_ref(), &package]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(
            stderr(&out).contains("use `mil decompile"),
            "{command}: {}",
            stderr(&out)
        );
    }
    let out = mil::<&Path>(&["decompile".as_ref(), &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("use `mil compile"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), PROGRAM);
}

#[test]
fn check_reports_as_errors_exactly_what_compile_refuses() {
    let dir = with_weights();
    let string_output = PROGRAM.replace(
        "tensor<fp16, [1, 5]> z = relu(x = y)[name = string(\"z\")];",
        "string z = const()[name = string(\"z\"), val = string(\"a\")];",
    );
    let missing_weights = PROGRAM.replace("weights/weight.bin", "weights/gone.bin");
    for (name, text, code) in [
        ("string_output", string_output, "MIL0503"),
        ("missing", missing_weights, "MIL0302"),
    ] {
        let file = dir.path().join(format!("{name}.mil"));
        fs::write(&file, text).unwrap();
        let check = mil::<&Path>(&["check".as_ref(), "--format".as_ref(), "json".as_ref(), &file]);
        assert_eq!(check.status.code(), Some(1), "{name}: {}", stdout(&check));
        let found: Vec<serde_json::Value> = serde_json::from_slice(&check.stdout).unwrap();
        let errors: Vec<&str> = found
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert_eq!(errors, [code], "{name}");
        let compile = mil::<&Path>(&["compile".as_ref(), &file]);
        assert_eq!(compile.status.code(), Some(1), "{name}");
        assert!(
            stderr(&compile).contains(&format!("error[{code}]")),
            "{name}: {}",
            stderr(&compile)
        );
        assert!(!dir.path().join(format!("{name}.mlpackage")).exists());
    }
}
