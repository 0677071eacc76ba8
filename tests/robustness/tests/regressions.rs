//! Replays every kept fuzz input, the seed corpora (`fuzz/corpus/<target>`), the corpora long runs
//! grew (`fuzz/grown/<target>`, see `scripts/fuzz-long`) and the inputs that once crashed a target
//! (`fuzz/regressions/<target>`), through the target's checks.

use std::path::Path;

#[test]
fn every_kept_input_passes_its_target() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let (mut replayed, mut failures) = (0, Vec::new());
    for (target, check) in mil_robustness::TARGETS {
        for kind in ["corpus", "grown", "regressions"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("directory entry").path();
                let data = std::fs::read(&path).expect("kept input");
                let outcome = std::panic::catch_unwind(|| check(&data));
                if outcome.is_err() {
                    failures.push(format!("{target}: {}", path.display()));
                }
                replayed += 1;
            }
        }
    }
    assert!(failures.is_empty(), "failing inputs:\n{}", failures.join("\n"));
    // Every target has a committed seed corpus.
    assert!(
        replayed >= 5 * 3,
        "only {replayed} kept inputs found under {}",
        fuzz.display()
    );
}
