//! `--color auto|always|never` end to end: escape codes reach a terminal (unless `NO_COLOR` is set)
//! or anything when asked for, and never a pipe by default.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A program with a syntax error, so that `check`, `fmt` and `compile` all report.
const BROKEN: &str = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1]> x) {\n        tensor<fp16, [1]> y = relu(x = = x)[name = string(\"y\")];\n    } -> (y);\n}\n";

/// The escape sequence that starts every colour change.
const ESCAPE: &str = "\u{1b}[";

fn broken(dir: &Path) -> PathBuf {
    let path = dir.join("broken.mil");
    std::fs::write(&path, BROKEN).unwrap();
    path
}

/// Runs `mil` with `NO_COLOR` unset, whatever the test's environment says.
fn mil(args: &[&str]) -> Output {
    common::command()
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("run mil")
}

/// What the report of each reporting subcommand says, given `color` (`None`: the default).
fn reports(file: &Path, color: Option<&str>) -> Vec<(String, String)> {
    let file = file.to_str().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let package = out_dir.path().join("m.mlpackage");
    let runs: [(&str, Vec<&str>, bool); 3] = [
        ("check", vec!["check", file], true),
        ("fmt", vec!["fmt", file], false),
        (
            "compile",
            vec!["compile", file, "-o", package.to_str().unwrap()],
            false,
        ),
    ];
    runs.into_iter()
        .map(|(name, mut args, on_stdout)| {
            if let Some(c) = color {
                // The flag is global: it may come after the subcommand.
                args.extend(["--color", c]);
            }
            let out = mil(&args);
            assert_eq!(out.status.code(), Some(1), "{name}: {out:?}");
            let report = if on_stdout { out.stdout } else { out.stderr };
            let report = String::from_utf8(report).unwrap();
            assert!(report.contains("MIL0001"), "{name}: {report}");
            (name.to_string(), report)
        })
        .collect()
}

#[test]
fn pipes_get_no_escape_codes_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let file = broken(dir.path());
    for color in [None, Some("auto"), Some("never")] {
        for (name, report) in reports(&file, color) {
            assert!(!report.contains(ESCAPE), "{name} {color:?}: {report:?}");
        }
    }
    for (name, report) in reports(&file, Some("always")) {
        assert!(report.contains(ESCAPE), "{name} always: {report:?}");
    }
    // The flag also goes before the subcommand.
    let out = mil(&["--color", "always", "check", file.to_str().unwrap()]);
    assert!(String::from_utf8(out.stdout).unwrap().contains(ESCAPE));
    let out = mil(&["check", "--color", "sometimes", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

/// On a terminal (a pseudo-terminal made by util-linux's `script`, whose flags are Linux's), `auto`
/// colours unless `NO_COLOR` is set.
#[cfg(target_os = "linux")]
#[test]
fn a_terminal_gets_colour_unless_no_color_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let file = broken(dir.path());
    let on_terminal = |no_color: Option<&str>| {
        let command = format!("{} check {}", env!("CARGO_BIN_EXE_mil"), file.display());
        let mut script = Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm-256color");
        if let Some(v) = no_color {
            script.env("NO_COLOR", v);
        }
        let out = script.output().expect("run util-linux `script`");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("MIL0001"), "{text}");
        text
    };
    assert!(on_terminal(None).contains(ESCAPE));
    assert!(!on_terminal(Some("1")).contains(ESCAPE));
}
