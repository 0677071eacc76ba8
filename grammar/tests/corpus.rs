//! Every real MIL file of the shared corpus parses as its manifest says: `clean` files with no
//! error, `lenient` ones with warnings but no error, `invalid` ones with errors.

use mil_grammar::parse;
use mil_ir::{Diagnostic, Severity};
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    assert!(
        root.join("MANIFEST.tsv").exists(),
        "the shared corpus is missing at {}",
        root.display()
    );
    root
}

/// (file, expectation) for every row of MANIFEST.tsv.
fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            (cols.next().unwrap().to_string(), cols.next().unwrap().to_string())
        })
        .collect()
}

fn show(file: &str, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            format!(
                "{file}:{}..{} {} {}",
                d.span.start, d.span.end, d.code.id, d.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_corpus_file_parses_as_its_manifest_says() {
    let rows = manifest();
    assert!(rows.len() >= 100, "manifest lists {} files", rows.len());
    let mut failures = Vec::new();
    for (file, expect) in &rows {
        let text = std::fs::read_to_string(corpus_dir().join(file)).unwrap();
        let parsed = parse(&text);
        let errors: Vec<_> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        let ok = match expect.as_str() {
            "clean" => errors.is_empty(),
            "lenient" => errors.is_empty() && !parsed.diagnostics.is_empty(),
            "invalid" => !errors.is_empty(),
            other => panic!("unknown expectation {other}"),
        };
        if !ok {
            failures.push(format!("{file} ({expect}):\n{}", show(file, &parsed.diagnostics)));
        }
        if expect != "invalid" {
            assert!(!parsed.program.functions.is_empty(), "{file}: no function read");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
