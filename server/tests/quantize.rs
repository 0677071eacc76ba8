//! `mil quantize` end to end: what it writes stands on its own wherever it goes, it prints the size
//! table, and a program with errors, an opset without quantised weights or an existing output
//! (without `--force`) gets an error and nothing written. The numbers themselves are checked
//! against coremltools by tests/oracle/test_quantize.py.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn mil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mil"))
        .args(args)
        .output()
        .expect("run mil")
}

/// A linear layer with a 64×48 inline weight (3072 elements, above the default threshold) and an
/// fp16 bias read from `weights/weight.bin` (the proto tests' fixture, fp16 ×5 at offset 64).
fn program(opset: &str) -> String {
    let values: Vec<String> = (0..64 * 48)
        .map(|i| format!("{}", (i % 97) as f32 / 97.0 - 0.5))
        .collect();
    format!(
        "program(1.3)\n{{\n    func main<{opset}>(tensor<fp16, [1, 48]> x) {{\n            \
         tensor<fp16, [64, 48]> w = const()[name = string(\"w\"), val = tensor<fp16, [64, 48]>([{}])];\n            \
         tensor<fp16, [5]> b = const()[name = string(\"b\"), val = tensor<fp16, [5]>(BLOBFILE(path = string(\"@model_path/weights/weight.bin\"), offset = uint64(64)))];\n            \
         tensor<fp16, [1, 64]> y = linear(weight = w, x = x)[name = string(\"y\")];\n        }} -> (y, b);\n}}\n",
        values.join(", ")
    )
}

/// A folder holding `model.mil` (`text`) and the weight fixture.
fn model_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    fs::create_dir(dir.path().join("weights")).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/tests/data/coremltools_weight.bin");
    fs::copy(fixture, dir.path().join("weights/weight.bin")).unwrap();
    fs::write(dir.path().join("model.mil"), text).unwrap();
    dir
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

/// `mil quantize DIR/model.mil --mode w8 -o OUT`.
fn quantize_into(dir: &Path, out: &str) -> Output {
    mil(&["quantize", &path(dir, "model.mil"), "--mode", "w8", "-o", out])
}

#[test]
fn the_output_stands_on_its_own_in_another_folder_and_the_input_is_untouched() {
    let text = program("ios18");
    let dir = model_dir(&text);
    fs::create_dir(dir.path().join("elsewhere")).unwrap();
    let out = path(dir.path(), "elsewhere/q.mil");
    let run = quantize_into(dir.path(), &out);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = String::from_utf8_lossy(&run.stdout);
    // 3072 fp16 values (6144 bytes) → 3072 int8 values and 64 fp16 scales (128 bytes).
    assert!(
        report
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["w", "[64,", "48]", "6144", "3200"]),
        "{report}"
    );
    let written = fs::read_to_string(&out).unwrap();
    assert!(
        written.contains("constexpr_blockwise_shift_scale(data = tensor<int8, [64, 48]>"),
        "{written}"
    );
    assert!(written.contains("@model_path/q.weights/weight.bin"), "{written}");
    assert!(
        !written.contains("@model_path/weights/"),
        "the bias was copied beside the output"
    );
    assert_eq!(fs::read_to_string(dir.path().join("model.mil")).unwrap(), text);
    let check = mil(&["check", &out]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = model_dir(&program("ios18"));
    let input = path(dir.path(), "model.mil");
    let out = path(dir.path(), "model.w8.mil");
    fs::write(&out, "mine").unwrap();
    let refused = mil(&["quantize", &input, "--mode", "w8"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--force"));
    assert_eq!(fs::read_to_string(&out).unwrap(), "mine");
    let forced = mil(&["quantize", &input, "--mode", "w8", "--force"]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert!(
        fs::read_to_string(&out)
            .unwrap()
            .contains("constexpr_blockwise_shift_scale")
    );
}

#[test]
fn errors_and_old_opsets_write_nothing() {
    for (text, expected) in [
        (
            program("ios18").replace("linear(weight = w", "linear(weight = nowhere"),
            "has 1 error",
        ),
        (program("ios15"), "ios16 or later"),
    ] {
        let dir = model_dir(&text);
        let out = path(dir.path(), "q.mil");
        let run = quantize_into(dir.path(), &out);
        assert_eq!(
            run.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            String::from_utf8_lossy(&run.stderr).contains(expected),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(!Path::new(&out).exists() && !dir.path().join("q.weights").exists());
    }
}
