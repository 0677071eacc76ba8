//! The op checks find nothing wrong in the shared corpus: its types were written by Apple's
//! compiler (or by people whose files Core ML ran), so every error there would be ours. The one
//! exception is `037_rustane_layer_0_fwd.mil`, which the manifest calls likely invalid: its
//! errors are real, and are pinned below.

use mil_ir::{Severity, typecheck};
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
}

/// The hand-written file whose shapes are wrong (see the module documentation).
const WRONG_SHAPES: &str = "037_rustane_layer_0_fwd.mil";

/// The files MANIFEST.tsv does not mark `invalid`.
fn valid_files() -> Vec<String> {
    let text = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("the shared corpus");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let (file, expect) = (cols.next()?, cols.next()?);
            (expect != "invalid").then(|| file.to_string())
        })
        .collect()
}

#[test]
fn valid_corpus_files_have_no_op_errors() {
    let files = valid_files();
    assert!(files.len() >= 100, "only {} valid files", files.len());
    let mut failures = Vec::new();
    let mut ops = 0;
    for file in files.iter().filter(|f| *f != WRONG_SHAPES) {
        let text = std::fs::read_to_string(corpus_dir().join(file)).unwrap();
        let parsed = mil_grammar::parse(&text);
        ops += parsed
            .program
            .functions
            .iter()
            .map(|f| f.ops.len())
            .sum::<usize>();
        failures.extend(errors(file, &text));
    }
    assert!(ops > 5000, "only {ops} ops checked");
    assert!(
        failures.is_empty(),
        "{} errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The errors the op checks find in `text`, one line each.
fn errors(file: &str, text: &str) -> Vec<String> {
    let parsed = mil_grammar::parse(text);
    typecheck::check(&parsed.program, &parsed.source_map)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let line = text[..d.span.start as usize].matches('\n').count() + 1;
            format!(
                "{file}:{line} {} {}: {}",
                d.code.id,
                &text[d.span.range()],
                d.message
            )
        })
        .collect()
}

#[test]
fn the_hand_written_layer_with_wrong_shapes_is_caught() {
    let text = std::fs::read_to_string(corpus_dir().join(WRONG_SHAPES)).unwrap();
    expect_test::expect![[r#"
        037_rustane_layer_0_fwd.mil:35 MIL0409 tensor<fp16, [1, 512, 1, 1024]>: `mix_0_expanded` is declared `tensor<fp16, [1, 512, 1, 1024]>` but `expand_dims` gives `tensor<fp16, [1, 512, 1, 1]>`
        037_rustane_layer_0_fwd.mil:36 MIL0409 tensor<fp16, [1, 512, 1, 1024]>: `mix_1_expanded` is declared `tensor<fp16, [1, 512, 1, 1024]>` but `expand_dims` gives `tensor<fp16, [1, 512, 1, 1]>`
        037_rustane_layer_0_fwd.mil:37 MIL0409 tensor<fp16, [1, 512, 1, 1024]>: `x0_expanded` is declared `tensor<fp16, [1, 512, 1, 1024]>` but `expand_dims` gives `tensor<fp16, [1, 1, 1, 1, 512, 1, 1024]>`
        037_rustane_layer_0_fwd.mil:114 MIL0409 tensor<fp16, [1, 8, 1024, 64]>: `vt_expanded` is declared `tensor<fp16, [1, 8, 1024, 64]>` but `tile` gives `tensor<fp16, [1, 8, 64, 1024]>`
        037_rustane_layer_0_fwd.mil:151 MIL0409 tensor<fp16, [1, 512, 1, 1024]>: `attn_scale_expanded` is declared `tensor<fp16, [1, 512, 1, 1024]>` but `expand_dims` gives `tensor<fp16, [1, 512, 1, 1]>`
        037_rustane_layer_0_fwd.mil:198 MIL0409 tensor<fp16, [1, 512, 1, 1024]>: `mlp_scale_expanded` is declared `tensor<fp16, [1, 512, 1, 1024]>` but `expand_dims` gives `tensor<fp16, [1, 512, 1, 1]>`"#]]
    .assert_eq(&errors(WRONG_SHAPES, &text).join("\n"));
}
