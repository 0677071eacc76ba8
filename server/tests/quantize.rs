//! `mil quantize` end to end: what it writes stands on its own wherever it goes, it prints the size
//! and error table and the output PSNR, fp16 and lut modes write checkable programs, and a program
//! with errors, an opset without quantised weights or an existing output (without `--force`) gets
//! an error and nothing written. The numbers themselves are checked against coremltools by
//! tests/oracle/test_quantize.py and tests/oracle/test_fp16_and_palettize.py.

mod common;

use common::{mil, stderr, stdout, temp_dir, with_weights};
use std::fs;
use std::path::Path;
use std::process::Output;

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
    let dir = with_weights();
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
    assert!(run.status.success(), "{}", stderr(&run));
    let report = stdout(&run);
    // 3072 fp16 values (6144 bytes) → 3072 int8 values and 64 fp16 scales (128 bytes).
    assert!(
        report
            .lines()
            .any(|l| l.split_whitespace().take(5).collect::<Vec<_>>() == ["w", "[64,", "48]", "6144", "3200"]),
        "{report}"
    );
    // Its error, and the output's against the float program, in the interpreter.
    assert!(
        report.contains("max error") && report.contains("output y: PSNR"),
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
    assert!(check.status.success(), "{}", stdout(&check));
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = model_dir(&program("ios18"));
    let input = path(dir.path(), "model.mil");
    let out = path(dir.path(), "model.w8.mil");
    fs::write(&out, "mine").unwrap();
    let refused = mil(&["quantize", &input, "--mode", "w8"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--force"));
    assert_eq!(fs::read_to_string(&out).unwrap(), "mine");
    let forced = mil(&["quantize", &input, "--mode", "w8", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
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
        assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
        assert!(stderr(&run).contains(expected), "{}", stderr(&run));
        assert!(!Path::new(&out).exists() && !dir.path().join("q.weights").exists());
    }
}

// ---- W8A8 -------------------------------------------------------------------------------------------

/// `samples/resnet_w8a8.mil` and its calibration set.
fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The PSNR line's value (`output y: PSNR 41.6 dB ...`).
fn psnr(report: &str) -> f64 {
    let line = report.lines().find(|l| l.contains("PSNR")).expect("a PSNR line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "PSNR").unwrap();
    words[at + 1].parse().unwrap()
}

#[test]
fn the_resnet_sample_keeps_30_db_under_w8a8_on_its_calibration_set() {
    let dir = temp_dir();
    let out = path(dir.path(), "q.mil");
    let stats = path(dir.path(), "stats.json");
    let run = mil(&[
        "quantize",
        &sample("resnet_w8a8.mil"),
        "--mode",
        "w8a8",
        "--calibration",
        &sample("resnet_w8a8.calibration"),
        "--save-statistics",
        &stats,
        "-o",
        &out,
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let report = stdout(&run);
    assert!(psnr(&report) >= 30.0, "{report}");
    assert!(report.contains("ranges from 8 calibration samples"), "{report}");
    // The pairs are there and the result reads back clean.
    let written = fs::read_to_string(&out).unwrap();
    assert!(written.matches(" = quantize(").count() >= 10, "{written}");
    assert!(written.contains("constexpr_blockwise_shift_scale"), "{written}");
    assert!(mil(&["check", &out]).status.success());
    // Not a terminal: no progress bar on standard error.
    assert!(!stderr(&run).contains("calibrating"));
    // The ranges used, as JSON coremltools' passes take.
    let json = fs::read_to_string(&stats).unwrap();
    assert!(
        json.contains("\"stem_relu\": {\"rmin\": 0.0, \"rmax\": "),
        "{json}"
    );
}

/// A folder with `model.mil` (a linear layer on an fp16 [1, 48] input, `opset`) and `calibration/`.
fn w8a8_model(opset: &str) -> tempfile::TempDir {
    let dir = model_dir(&program(opset));
    fs::create_dir(dir.path().join("calibration")).unwrap();
    dir
}

/// Writes `tensor` as `DIR/calibration/NAME`.
fn sample_file(dir: &Path, name: &str, tensor: &mil_ide::eval::Tensor) {
    let bytes = mil_ide::eval::npy::write_npy(tensor).unwrap();
    fs::write(dir.join("calibration").join(name), bytes).unwrap();
}

fn input(dtype: mil_ir::DType, shape: &[usize]) -> mil_ide::eval::Tensor {
    let n = shape.iter().product();
    mil_ide::eval::Tensor::from_f32(
        dtype,
        shape.to_vec(),
        (0..n).map(|i| i as f32 / n as f32).collect(),
    )
}

/// `mil quantize DIR/model.mil --mode w8a8 --calibration DIR/calibration -o DIR/out/q.mil`: exit 1,
/// the error, and nothing written.
fn refused(dir: &Path) -> String {
    let out = path(dir, "out/q.mil");
    let calibration = path(dir, "calibration");
    let model = path(dir, "model.mil");
    let run = mil(&[
        "quantize",
        &model,
        "--mode",
        "w8a8",
        "--calibration",
        &calibration,
        "-o",
        &out,
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stdout(&run));
    assert!(!dir.join("out").exists(), "nothing is written");
    stderr(&run)
}

#[test]
fn a_calibration_sample_that_does_not_fit_is_named_with_what_is_wrong() {
    use mil_ir::DType::{Fp16, Fp32};
    let dir = w8a8_model("ios17");
    sample_file(dir.path(), "a.npy", &input(Fp16, &[1, 48]));
    sample_file(dir.path(), "b.npy", &input(Fp16, &[1, 47]));
    let error = refused(dir.path());
    assert!(
        error.contains("b.npy") && error.contains("shape [1, 47]"),
        "{error}"
    );

    let dir = w8a8_model("ios17");
    sample_file(dir.path(), "a.npy", &input(Fp32, &[1, 48]));
    let error = refused(dir.path());
    assert!(
        error.contains("a.npy") && error.contains("is fp32 but the function takes fp16"),
        "{error}"
    );

    let dir = w8a8_model("ios17");
    fs::write(dir.path().join("calibration/c.npy"), b"not numpy").unwrap();
    let error = refused(dir.path());
    assert!(
        error.contains("calibration sample") && error.contains("c.npy"),
        "{error}"
    );
}

#[test]
fn an_npz_sample_must_name_the_inputs() {
    let dir = w8a8_model("ios17");
    let npy = mil_ide::eval::npy::write_npy(&input(mil_ir::DType::Fp16, &[1, 48])).unwrap();
    let file = fs::File::create(dir.path().join("calibration/s.npz")).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file("image.npy", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, &npy).unwrap();
    zip.finish().unwrap();
    let error = refused(dir.path());
    assert!(
        error.contains("s.npz") && error.contains("input `x`") && error.contains("`image` is not an input"),
        "{error}"
    );
}

#[test]
fn w8a8_below_ios17_an_empty_folder_and_no_calibration_are_refused() {
    let dir = w8a8_model("ios16");
    sample_file(dir.path(), "a.npy", &input(mil_ir::DType::Fp16, &[1, 48]));
    let error = refused(dir.path());
    assert!(error.contains("ios17 or later"), "{error}");

    let dir = w8a8_model("ios17");
    let error = refused(dir.path());
    assert!(error.contains("holds no .npy or .npz sample"), "{error}");

    let run = mil(&["quantize", &path(dir.path(), "model.mil"), "--mode", "w8a8"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("needs --calibration DIR"));
}

/// `program` with an fp32 input, weight and output (the returned bias stays fp16).
fn fp32_program(opset: &str) -> String {
    program(opset)
        .replace("fp16, [1, 48]", "fp32, [1, 48]")
        .replace("fp16, [64, 48]", "fp32, [64, 48]")
        .replace("fp16, [1, 64]", "fp32, [1, 64]")
}

/// Runs `mil quantize` on `text` with `args`; the report and the written text.
fn quantize_text(text: &str, args: &[&str]) -> (String, String) {
    let dir = model_dir(text);
    let out = path(dir.path(), "q.mil");
    let input = path(dir.path(), "model.mil");
    let mut full = vec!["quantize", input.as_str()];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", &out]);
    let run = mil(&full);
    assert!(run.status.success(), "{}", stderr(&run));
    let check = mil(&["check", &out]);
    assert!(check.status.success(), "{}", stdout(&check));
    (stdout(&run), fs::read_to_string(&out).unwrap())
}

#[test]
fn fp16_mode_casts_at_the_edges_and_keeps_the_output_name() {
    let (report, written) = quantize_text(&fp32_program("ios17"), &["--mode", "fp16"]);
    assert!(
        report.contains("1 ops compute in fp16") && report.contains("output y: PSNR"),
        "{report}"
    );
    for expected in [
        "tensor<fp16, [1, 48]> x_to_fp16 = cast(",
        "tensor<fp16, [64, 48]> w_to_fp16 = const()",
        "tensor<fp16, [1, 64]> y_cast_fp16 = linear(weight = w_to_fp16, x = x_to_fp16)",
        "tensor<fp32, [1, 64]> y = cast(",
    ] {
        assert!(written.contains(expected), "{expected} in\n{written}");
    }
}

#[test]
fn no_psnr_leaves_the_output_psnr_out() {
    let (report, written) = quantize_text(&program("ios18"), &["--mode", "w8", "--no-psnr"]);
    assert!(!report.contains("PSNR"), "{report}");
    assert!(written.contains("constexpr_blockwise_shift_scale"), "{written}");
}

#[test]
fn lut_modes_write_a_table_and_indices() {
    let (report, written) = quantize_text(&program("ios18"), &["--mode", "lut4"]);
    assert!(report.contains("output y: PSNR"), "{report}");
    assert!(
        written.contains("w_palettized = constexpr_lut_to_dense(indices = tensor<uint4, [64, 48]>"),
        "{written}"
    );
    let (_, written) = quantize_text(&program("ios16"), &["--mode", "lut6"]);
    assert!(
        written.contains("w_palettized = constexpr_lut_to_dense()[indices = tensor<uint8, [2304]>"),
        "{written}"
    );
    // One table per 8 output channels needs iOS18.
    let dir = model_dir(&program("ios17"));
    let out = path(dir.path(), "q.mil");
    let run = mil(&[
        "quantize",
        &path(dir.path(), "model.mil"),
        "--mode",
        "lut4",
        "--granularity",
        "per-block:8",
        "-o",
        &out,
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("ios18 or later"));
    assert!(!Path::new(&out).exists());
}
