//! `mil run` end to end: outputs written as `.npy` and summed up in a table, and every kind of bad
//! request refused with exit 1, a message saying what is wrong, and nothing written.

mod common;

use common::{mil, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Output;

const PROGRAM: &str = r#"program(1.3)
{
    func main<ios18>(tensor<fp32, [2, 2]> x, tensor<int32, [2]> k) {
            tensor<fp32, [2, 2]> y = mul(x = x, y = fp32(2))[name = string("y")];
            tensor<int32, [2]> z = add(x = k, y = int32(1))[name = string("z")];
        } -> (y, z);
}
"#;

/// The bytes of a `.npy` file as numpy writes it (format 1.0, header padded to 64 bytes).
fn npy(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A folder with the program, a good `x` and `k`, and bad inputs beside them.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("model.mil"), PROGRAM).unwrap();
        std::fs::write(
            p.join("x.npy"),
            npy("<f4", "(2, 2)", &f32_bytes(&[1.0, -2.0, 0.5, 4.0])),
        )
        .unwrap();
        let k: Vec<u8> = [5i32, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(p.join("k.npy"), npy("<i4", "(2,)", &k)).unwrap();
        std::fs::write(p.join("x16.npy"), npy("<f2", "(2, 2)", &[0; 8])).unwrap();
        std::fs::write(p.join("x3.npy"), npy("<f4", "(3,)", &f32_bytes(&[1.0, 2.0, 3.0]))).unwrap();
        std::fs::write(p.join("junk.npy"), b"not numpy").unwrap();
        Setup { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Runs `mil run model.mil --output-dir out` with `extra` arguments.
    fn run(&self, extra: &[String]) -> Output {
        let mut args = vec![
            "run".to_string(),
            self.path("model.mil"),
            "--output-dir".into(),
            self.out().to_str().unwrap().into(),
        ];
        args.extend_from_slice(extra);
        mil(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    fn input(&self, name: &str, file: &str) -> [String; 2] {
        ["--input".into(), format!("{name}={}", self.path(file))]
    }
}

/// Asserts that `mil` exited 0, showing its errors otherwise.
fn assert_ran(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
}

fn read_npy_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    bytes[10 + header_len..]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn run_writes_each_output_and_prints_a_table() {
    let s = Setup::new();
    let out = s.run(&[s.input("x", "x.npy"), s.input("k", "k.npy")].concat());
    let stdout = stdout(&out);
    assert_ran(&out);
    assert_eq!(read_npy_f32(&s.out().join("y.npy")), [2.0, -4.0, 1.0, 8.0]);
    let z = std::fs::read(s.out().join("z.npy")).unwrap();
    assert!(String::from_utf8_lossy(&z).contains("'descr': '<i4'"));
    assert_eq!(&z[z.len() - 8..], [6, 0, 0, 0, 0, 0, 0, 0]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["output", "shape", "dtype", "min", "max", "mean", "non-finite"]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["y", "[2,", "2]", "fp32", "-4.000000", "8.000000", "1.750000", "0"]
    );
}

#[test]
fn random_inputs_and_repeat_report_times() {
    let s = Setup::new();
    let out = mil(&[
        "run",
        &s.path("model.mil"),
        "--random-inputs",
        "--seed",
        "3",
        "--repeat",
        "3",
    ]);
    let stdout = stdout(&out);
    assert_ran(&out);
    assert!(stdout.contains("3 runs: min "), "{stdout}");
    assert!(!s.out().exists());
}

/// Each bad request: exit 1, the message, and no output folder.
#[test]
fn bad_requests_are_refused_and_write_nothing() {
    let s = Setup::new();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            s.input("x", "x.npy").to_vec(),
            "input `k` (tensor<int32, [2]>) is missing",
        ),
        (
            [
                s.input("x", "x.npy"),
                s.input("k", "k.npy"),
                s.input("w", "x.npy"),
            ]
            .concat(),
            "`w` is not an input of `main` (its inputs: x, k)",
        ),
        (
            [s.input("x", "x3.npy"), s.input("k", "k.npy")].concat(),
            "input `x` has shape [3] but the function takes tensor<fp32, [2, 2]>",
        ),
        (
            [s.input("x", "x16.npy"), s.input("k", "k.npy")].concat(),
            "input `x` is fp16 but the function takes fp32",
        ),
        (
            [s.input("x", "junk.npy"), s.input("k", "k.npy")].concat(),
            "not a .npy file",
        ),
        (
            [s.input("x", "missing.npy"), s.input("k", "k.npy")].concat(),
            "cannot read",
        ),
        (
            [s.input("x", "x.npy"), s.input("x", "x.npy")].concat(),
            "input `x` is given twice",
        ),
    ];
    for (args, message) in cases {
        let out = s.run(&args);
        let stderr = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!s.out().exists(), "{args:?} wrote outputs");
    }
}

#[test]
fn a_program_with_errors_gets_its_diagnostics() {
    let s = Setup::new();
    std::fs::write(
        s.dir.path().join("model.mil"),
        PROGRAM.replace("x = x, y = fp32(2)", "x = nope, y = fp32(2)"),
    )
    .unwrap();
    let out = s.run(&[s.input("x", "x.npy"), s.input("k", "k.npy")].concat());
    let stderr = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not running") && stderr.contains("nope"),
        "{stderr}"
    );
    assert!(!s.out().exists());
}

#[test]
fn a_failing_op_is_named_and_nothing_is_written() {
    let s = Setup::new();
    let text = PROGRAM.replace(
        "tensor<int32, [2]> z = add(x = k, y = int32(1))",
        "int32 z = gather(x = k, indices = int32(9), axis = 0)",
    );
    std::fs::write(s.dir.path().join("model.mil"), text).unwrap();
    let out = s.run(&[s.input("x", "x.npy"), s.input("k", "k.npy")].concat());
    let stderr = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("gather \"z\": index 9 is out of range"),
        "{stderr}"
    );
    assert!(!s.out().exists());
}

#[test]
fn a_compiled_package_runs_like_its_text() {
    let s = Setup::new();
    let pkg = s.path("model.mlpackage");
    let compiled = mil(&["compile", &s.path("model.mil"), "-o", &pkg]);
    assert_ran(&compiled);
    let out = mil(&[
        "run",
        &pkg,
        "--input",
        &format!("x={}", s.path("x.npy")),
        "--input",
        &format!("k={}", s.path("k.npy")),
        "--output-dir",
        s.out().to_str().unwrap(),
    ]);
    assert_ran(&out);
    assert_eq!(read_npy_f32(&s.out().join("y.npy")), [2.0, -4.0, 1.0, 8.0]);
}
