//! Agreement with Core ML's own verdicts (M4, cpuAndNeuralEngine) on the corpus analytics files.

use mil_ane::compare::Agreement;
use mil_ane::placement::{self, Source};
use mil_ane::{Chip, ComputeUnits, Target};
use std::path::PathBuf;

fn analytics_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/analytics")
}

fn models() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(analytics_dir())
        .expect("analytics corpus")
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "mil").then(|| {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                (stem, std::fs::read_to_string(&p).unwrap())
            })
        })
        .collect();
    out.sort();
    out
}

const STUDY: Target = Target {
    chip: Chip::M4,
    compute_units: ComputeUnits::CpuAndNeuralEngine,
};

fn score(source: Source) -> Agreement {
    let mut a = Agreement::default();
    for (model, text) in models() {
        let parse = mil_grammar::parse(&text);
        for f in placement::place(&parse.program, STUDY, source) {
            a.add(&model, &f);
        }
    }
    a
}

#[test]
fn agreement_with_core_ml() {
    let ours = score(Source::Ours);
    let theirs = score(Source::CoreMl);
    for d in &ours.disagreements {
        println!("{:?} {} {} {} ours={} coreml={}", d.aspect, d.model, d.var, d.kind, d.ours, d.coreml);
    }
    println!(
        "ours: elig {:?} {:.3} ane {:?} cpu {:?} bal {:.3}",
        ours.eligibility,
        ours.eligibility.rate(),
        ours.on_ane,
        ours.on_cpu,
        ours.balanced_accuracy()
    );
    println!(
        "coreml-estimates: ane {:?} cpu {:?} bal {:.3}",
        theirs.on_ane,
        theirs.on_cpu,
        theirs.balanced_accuracy()
    );
    for d in &theirs.disagreements {
        println!("SEG {:?} {} {} {} ours={} coreml={}", d.aspect, d.model, d.var, d.kind, d.ours, d.coreml);
    }
}
