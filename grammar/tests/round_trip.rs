//! Printing is the inverse of parsing: compiler-written files print back to their exact bytes, and
//! for every file parse(print(ir)) == ir.

use mil_grammar::parse;
use mil_ir::printer::print_program;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// (file, expectation, kind) rows of MANIFEST.tsv.
fn manifest() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).expect("shared corpus manifest");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.len() >= 3).then(|| (c[0].to_string(), c[1].to_string(), c[2].to_string()))
        })
        .collect()
}

fn written_by_core_ml(kind: &str) -> bool {
    kind.contains("Apple's compiler") || kind.contains("written by Core ML")
}

#[test]
fn compiler_written_files_print_back_byte_for_byte() {
    let mut checked = 0;
    for (file, _, kind) in manifest() {
        if !written_by_core_ml(&kind) {
            continue;
        }
        let text = std::fs::read_to_string(corpus().join(&file)).unwrap();
        let printed = print_program(&parse(&text).program);
        let original = text.strip_suffix('\n').unwrap_or(&text);
        if printed != original {
            let line = printed
                .lines()
                .zip(original.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{file}: first difference at line {}\n  printed:  {}\n  original: {}",
                line + 1,
                printed.lines().nth(line).unwrap_or(""),
                original.lines().nth(line).unwrap_or("")
            );
        }
        checked += 1;
    }
    assert!(checked >= 100, "only {checked} compiler-written files");
}

#[test]
fn every_valid_file_reparses_to_the_same_ir() {
    for (file, expect, _) in manifest() {
        if expect == "invalid" {
            continue;
        }
        let text = std::fs::read_to_string(corpus().join(&file)).unwrap();
        let first = parse(&text).program;
        let printed = print_program(&first);
        let second = parse(&printed);
        assert!(
            !mil_ir::diagnostic::has_errors(&second.diagnostics),
            "{file}: printed text has errors: {:?}",
            second.diagnostics
        );
        assert!(
            second.program == first,
            "{file}: parse(print(ir)) differs from ir"
        );
        assert_eq!(
            print_program(&second.program),
            printed,
            "{file}: printing is not stable"
        );
    }
}

#[test]
fn formatting_hand_written_files_leaves_only_comments_to_report() {
    for (file, expect, kind) in manifest() {
        if expect == "invalid" || written_by_core_ml(&kind) {
            continue;
        }
        let text = std::fs::read_to_string(corpus().join(&file)).unwrap();
        let mut program = parse(&text).program;
        mil_ir::canonical::canonicalize(&mut program);
        let formatted = print_program(&program);
        let again = parse(&formatted);
        let left: Vec<_> = again
            .diagnostics
            .iter()
            .filter(|d| d.code != mil_ir::codes::COMMENT)
            .collect();
        assert!(left.is_empty(), "{file}: after formatting: {left:?}");
        let mut twice = again.program;
        mil_ir::canonical::canonicalize(&mut twice);
        assert_eq!(
            print_program(&twice),
            formatted,
            "{file}: formatting is not idempotent"
        );
    }
}

/// Forms the corpus lacks (control flow, states, several functions, sub-byte literals, list ops,
/// escapes and special floats), written in canonical layout by us: each parses without any
/// diagnostic and prints back to its exact bytes.
#[test]
fn our_own_canonical_files_parse_cleanly_and_print_back() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/forms");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = parse(&text);
        assert!(
            parsed.diagnostics.is_empty(),
            "{}: {:?}",
            path.display(),
            parsed.diagnostics
        );
        let printed = print_program(&parsed.program);
        assert_eq!(printed, text, "{}", path.display());
        assert!(parse(&printed).program == parsed.program);
    }
}
