//! Random byte edits of real files never make the parser panic or hang, and every diagnostic
//! points inside the text.

use mil_grammar::parse;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// A small deterministic generator, so that a failure can be replayed from its seed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to MIL's syntax, so that edits hit the grammar rather than only names.
const INTERESTING: &[u8] = b"()[]{}<>,;=-?\"\\/.0123456789xpe \n\tBLOBFILEtensorfuncprogram\xff\xc3";

fn mutate(rng: &mut XorShift, text: &[u8]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if at < bytes.len() => {
                bytes.remove(at);
            }
            1 => bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            2 if at < bytes.len() => bytes[at] = INTERESTING[rng.below(INTERESTING.len())],
            _ => {
                let end = (at + rng.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
    }
    bytes
}

#[test]
fn random_edits_of_corpus_files_never_panic_or_hang() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("shared corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mil"))
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|b| b.len() < 40_000)
        .collect();
    files.sort();
    assert!(files.len() >= 15, "corpus files: {}", files.len());

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..3000 {
            let file = &files[round % files.len()];
            let edited = mutate(&mut rng, file);
            let text = String::from_utf8_lossy(&edited);
            let parsed = parse(&text);
            for d in &parsed.diagnostics {
                assert!(
                    d.span.start <= d.span.end && d.span.end as usize <= text.len(),
                    "round {round}: {d:?}"
                );
            }
            let _ = mil_ir::verify::verify(&parsed.program, &parsed.source_map);
        }
        done.send(()).unwrap();
    });
    finished
        .recv_timeout(Duration::from_secs(120))
        .expect("3000 parses of edited files did not finish in 120 s (a hang, or a panic in the worker)");
}
