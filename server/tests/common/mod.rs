//! What the command-line tests share: running the `mil` binary, reading what it printed, and a
//! temporary folder holding coremltools' weight file as `weights/weight.bin`.

#![allow(
    dead_code,
    reason = "each test binary is compiled with this module and uses a part of it"
)]

use std::ffi::OsStr;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// The `mil` binary built for these tests, as a command to add arguments to.
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mil"))
}

/// Runs `mil` with `args` (strings, or paths with `mil::<&Path>`) and waits for it.
pub fn mil<A: AsRef<OsStr>>(args: &[A]) -> Output {
    command().args(args).output().expect("run mil")
}

/// What `mil` printed on standard output.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What `mil` printed on standard error.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temporary folder under the target directory.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// A temporary folder with coremltools' weight fixture as `weights/weight.bin`, where the test
/// programs' BLOBFILEs point.
pub fn with_weights() -> tempfile::TempDir {
    let dir = temp_dir();
    fs::create_dir(dir.path().join("weights")).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/tests/data/coremltools_weight.bin");
    fs::copy(fixture, dir.path().join("weights/weight.bin")).unwrap();
    dir
}
