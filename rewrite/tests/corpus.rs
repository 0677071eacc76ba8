//! Every rewrite that applies, applied to every op of the programs in `../shared/corpus/analytics/`
//! (Core ML's one-op models between convs) and `samples/`: what remains refused by kind (ANE001)
//! is only ops no rewrite covers (by kind, ANE001; no size-limit finding remains but on the edges of a `split-axis` region), and each rewritten program has no verifier or type-checker error
//! it did not have and prints to text that parses back to the same text. Where the original runs in
//! the interpreter on random inputs (the analytics models' weight files are not in the corpus), the
//! rewritten program gives the same outputs: PSNR ≥ 60 dB (the models compute in fp16).

mod common;

use common::{errors, reprinted};
use mil_ane::placement::{Source, place_function};
use mil_ir::Program;
use mil_rewrite::{ALL, applicable, apply};
use std::path::{Path, PathBuf};

/// The rules that refuse an op by its kind (ANE001) or its size (an axis above 65,536, a conv
/// kernel, a max_pool width, a matmul inner dimension: ANE014–ANE017, which the size-limit
/// rewrites cover wherever they fire).
const REFUSING: [&str; 5] = ["ANE001", "ANE014", "ANE015", "ANE016", "ANE017"];

/// What `split-axis` leaves with the long axis: the slices of its region's input (and of a
/// depthwise conv's weight and bias) and the concat of its output, which the Neural Engine
/// refuses as it refused the ops between them.
const REGION_EDGES: [&str; 2] = ["slice_by_size", "concat"];

/// The kinds of the ops our planner finds refused by [`REFUSING`] rules in `p`, with the rule.
fn refused(p: &Program) -> Vec<(String, &'static str)> {
    let f = &p.functions[0];
    let placed = place_function(f, mil_ane::Target::default(), Source::Ours);
    placed
        .findings
        .iter()
        .filter(|x| REFUSING.contains(&x.rule.code.id))
        .filter_map(|x| match x.site {
            mil_ane::rules::Site::Op(op) => Some((f.op(op).kind.to_string(), x.rule.code.id)),
            _ => None,
        })
        .collect()
}

/// The `.mil` files of `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mil"))
        .collect();
    files.sort();
    files
}

#[test]
fn rewriting_the_corpus_leaves_only_uncovered_ops_refused() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths = files(&root.join("../../shared/corpus/analytics"));
    paths.extend(files(&root.join("../samples")));
    let covered: Vec<&str> = ALL.iter().flat_map(|r| r.kinds.iter().copied()).collect();
    let mut rewritten_files = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let parsed = mil_grammar::parse(&text);
        let (mut p, mut map) = (parsed.program, parsed.source_map);
        if p.functions.is_empty() {
            continue;
        }
        let original = p.clone();
        let (before, errors_before) = (refused(&p), errors(&p, &map).len());
        let mut count = 0;
        for op in p.functions[0].walk_ops() {
            let rewrite = applicable(&p.functions[0], op).next();
            if let Some(rewrite) = rewrite {
                apply(rewrite, &mut p.functions[0], &mut map.functions[0], op).unwrap();
                count += 1;
            }
        }
        if count == 0 {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let after = refused(&p);
        assert!(
            after.iter().all(|(k, code)| match *code {
                "ANE001" => !covered.contains(&k.as_str()),
                "ANE014" => REGION_EDGES.contains(&k.as_str()),
                _ => false,
            }),
            "{name}: still refused {after:?}"
        );
        assert!(errors(&p, &map).len() <= errors_before, "{name}: new errors");
        let (_, reparsed) = reprinted(&p);
        let proof = match mil_eval::inputs::random(&original.functions[0], 7) {
            Ok(inputs) if mil_rewrite::proof::run(&original, inputs.clone()).is_ok() => {
                let agreement = mil_rewrite::proof::compare(&original, &reparsed, &inputs, 1.0).unwrap();
                assert!(
                    agreement.iter().all(|a| a.psnr_db >= 60.0),
                    "{name}: {agreement:?}"
                );
                "equal in the interpreter"
            }
            _ => "not run (weights absent)",
        };
        rewritten_files.push(format!(
            "{name}: {} → {} refused, {proof}",
            before.len(),
            after.len()
        ));
    }
    // The corpus has one model each of asin, band_part, cumsum, mod, reduce_prod, gru, lstm, rnn, a
    // 17×17 and a 1×31 conv and a max_pool of width 15, and two chains of four conv + relu along an
    // axis of 65,537 (channels, depthwise: its weights' slices count; width); samples/off_ane.mil has
    // a cumsum. Counts are of ops refused by kind or size (ANE001, ANE014–ANE017). Files listed with none refused have a
    // projection (`linear-to-conv1x1`) or, hand_written.mil, defaults left implicit
    // (`spell-out-defaults`).
    expect_test::expect![[r#"
        asin.mil: 1 → 0 refused, not run (weights absent)
        band_part.mil: 1 → 0 refused, not run (weights absent)
        conv1d.mil: 0 → 0 refused, not run (weights absent)
        conv_k17.mil: 1 → 0 refused, not run (weights absent)
        conv_k1x31.mil: 1 → 0 refused, not run (weights absent)
        cumsum_c.mil: 1 → 0 refused, not run (weights absent)
        embedding.mil: 0 → 0 refused, not run (weights absent)
        gather_dyn.mil: 0 → 0 refused, not run (weights absent)
        gather_nd.mil: 0 → 0 refused, not run (weights absent)
        gru.mil: 1 → 0 refused, not run (weights absent)
        linear.mil: 0 → 0 refused, not run (weights absent)
        lstm.mil: 1 → 0 refused, not run (weights absent)
        matmul_const.mil: 0 → 0 refused, not run (weights absent)
        matmul_dyn.mil: 0 → 0 refused, not run (weights absent)
        max_pool_k15.mil: 1 → 0 refused, not run (weights absent)
        mod.mil: 1 → 0 refused, not run (weights absent)
        reduce_prod_c.mil: 1 → 0 refused, not run (weights absent)
        relu_c65537.mil: 8 → 11 refused, not run (weights absent)
        relu_w65537.mil: 8 → 3 refused, equal in the interpreter
        reshape.mil: 0 → 0 refused, not run (weights absent)
        rnn.mil: 1 → 0 refused, not run (weights absent)
        sliding_windows.mil: 0 → 0 refused, not run (weights absent)
        hand_written.mil: 0 → 0 refused, equal in the interpreter
        off_ane.mil: 1 → 0 refused, equal in the interpreter
        resnet_w8a8.mil: 0 → 0 refused, not run (weights absent)"#]]
    .assert_eq(&rewritten_files.join("\n"));
}
