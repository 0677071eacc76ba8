//! What each fuzz target checks on one input. The libFuzzer targets in `fuzz/` call these
//! functions, and `tests/regressions.rs` replays every kept input (the seed corpora and the inputs
//! that once crashed) through them in `cargo test`, so a fixed crash stays fixed.
//!
//! Each function panics exactly when the code under test misbehaves: a panic inside the parser,
//! the checks or the readers, or a broken invariant asserted here.

pub mod programs;

use mil_ane::placement::{Source, place};
use mil_ir::printer::print_program;
use mil_ir::{DType, Diagnostic, Severity};
use mil_proto::blob::{BlobReader, BlobWriter};
use mil_proto::spec::Model;
use mil_proto::weights::WeightFiles;
use prost::Message;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What a fuzz target does with one input; it panics when the code under test misbehaves.
pub type Check = fn(&[u8]);

/// The fuzz targets, by the name of their folder under `fuzz/corpus` and `fuzz/regressions`.
pub const TARGETS: [(&str, Check); 6] = [
    ("parse", parse),
    ("print_roundtrip", print_roundtrip),
    ("analyse", analyse),
    ("decompile", decompile),
    ("blob_reader", blob_reader),
    ("rewrite", rewrite),
];

/// Lexer, grammar and lowering: `mil_grammar::parse` returns for any text.
pub fn parse(data: &[u8]) {
    let _ = mil_grammar::parse(&String::from_utf8_lossy(data));
}

/// The printer round trip: a text that parses without errors prints to a text that parses without
/// errors, and printing that again gives the same text (parse ∘ print ∘ parse).
pub fn print_roundtrip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = mil_grammar::parse(text);
    if has_errors(&first.diagnostics) {
        return;
    }
    let printed = print_program(&first.program);
    let second = mil_grammar::parse(&printed);
    assert!(
        !has_errors(&second.diagnostics),
        "printed text does not parse: {:?}\n{printed}",
        second.diagnostics
    );
    assert_eq!(print_program(&second.program), printed, "printing is not stable");
}

/// What `mil check` and the language server run on a text (`mil_ide::analysis::analyse`: parsing,
/// verification, type inference and the op checks, the ANE rules), then the placement planner's
/// totals.
pub fn analyse(data: &[u8]) {
    let config = mil_ide::config::Config::default();
    let analysis = mil_ide::analysis::analyse(&String::from_utf8_lossy(data), None, &config);
    for f in place(&analysis.program, config.target(), Source::Ours) {
        let _ = (f.ane_op_share(), f.ane_flop_share());
        let _: f64 = f.planned().map(|op| op.estimated_ms()).sum();
    }
}

/// The proto decoder and the decompiler: bytes that decode as a `Model` convert to a program or to
/// diagnostics, and a program prints to text that parses. BLOBFILE values resolve against
/// [`model_dir`], so references into a real weight file (and past it) are exercised too.
pub fn decompile(data: &[u8]) {
    let Ok(model) = Model::decode(data) else { return };
    let mut weights = WeightFiles::new(model_dir());
    let mut blobs = BlobWriter::new(Cursor::new(Vec::new())).expect("in-memory blobs");
    if let Ok(program) = mil_proto::from_proto::from_proto(&model, &mut weights, &mut blobs) {
        let text = print_program(&program);
        let reparsed = mil_grammar::parse(&text);
        assert!(
            !has_errors(&reparsed.diagnostics),
            "decompiled text does not parse: {:?}\n{text}",
            reparsed.diagnostics
        );
    }
}

/// The weight-blob reader: the header, the records the header's count and the input's own 8-byte
/// words point at, their payloads, and the decoding of those payloads. A record is only returned
/// when its payload lies inside the file, so nothing allocates more than the input holds.
pub fn blob_reader(data: &[u8]) {
    let Ok(mut reader) = BlobReader::new(Cursor::new(data)) else {
        return;
    };
    let declared = (0..u64::from(reader.count()).min(64)).map(|i| 64 + 64 * i);
    let claimed = data
        .chunks_exact(8)
        .take(32)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")));
    for offset in declared.chain(claimed) {
        let Ok(record) = reader.record(offset) else {
            continue;
        };
        assert!(record.data_offset + record.size <= reader.file_len());
        let payload = reader.read_payload(&record).expect("payload inside the file");
        assert_eq!(payload.len() as u64, record.size);
        for count in [
            record.padding_bits,
            record.size,
            record.size.saturating_mul(8),
            u64::MAX,
        ] {
            let _ = mil_proto::raw::decode(&payload, record.dtype, count);
        }
    }
}

/// ANE surgery (`mil_rewrite`): a program — the input as MIL text when it parses without errors,
/// else a one-op program built from its bytes ([`programs::one_op`]) — with the rewrites that take
/// its ops applied, each chosen or skipped by the input's bytes, to the program rewritten so far.
///
/// A rewrite whose precondition holds must make its edit; the result must have no error `mil check`
/// finds (`mil_ide::analysis::analyse`) that the original did not have, and print to text that
/// parses without errors and prints the same. Where the original runs in the interpreter on random inputs (known shapes,
/// at most [`MAX_INPUT_ELEMENTS`]), the rewritten program must give the same outputs: PSNR ≥ 100 dB
/// in fp32 and ≥ 40 dB in fp16, or within 1e-4 (fp32) or 3e-2 (fp16) relative above 1 — bounds
/// that catch a wrong rewrite, not the precision proofs of `rewrite/tests`. `mod` is left out of
/// the comparison: near a multiple of the divisor, the remainder jumps by the divisor with a
/// rounding, in both forms.
pub fn rewrite(data: &[u8]) {
    let mut bytes = programs::Bytes::new(data);
    let text = std::str::from_utf8(data).ok().filter(|t| t.contains("program"));
    let parsed = match text.map(mil_grammar::parse) {
        Some(p) if !has_errors(&p.diagnostics) => p,
        Some(_) => return,
        None => {
            let text = programs::one_op(&mut bytes);
            let p = mil_grammar::parse(&text);
            assert!(
                !has_errors(&p.diagnostics),
                "a generated program does not parse: {:?}\n{text}",
                p.diagnostics
            );
            p
        }
    };
    let original = parsed.program;
    let (mut p, mut after_map) = (original.clone(), parsed.source_map);
    let mut compared = true;
    for (i, spans) in after_map.functions.iter_mut().enumerate().take(p.functions.len()) {
        for op in p.functions[i].walk_ops() {
            let Some(r) = mil_rewrite::applicable(&p.functions[i], op).find(|_| bytes.pick(4) != 3) else {
                continue;
            };
            compared &= r.id.0 != "mod-to-floor-div";
            if let Err(e) = mil_rewrite::apply(r, &mut p.functions[i], spans, op) {
                panic!(
                    "`{}` refused an op its precondition took: {e}\n{}",
                    r.id,
                    print_program(&original)
                );
            }
        }
    }
    // What `mil check` finds (parsing, verification, types, op and package checks).
    let errors = |text: &str| {
        let config = mil_ide::config::Config::default();
        let found = mil_ide::analysis::analyse(text, None, &config).diagnostics;
        found
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    };
    let printed = print_program(&p);
    let before = errors(&print_program(&original));
    assert!(errors(&printed) <= before, "the rewrites made errors:\n{printed}");
    let reparsed = mil_grammar::parse(&printed);
    assert!(
        !has_errors(&reparsed.diagnostics),
        "the rewritten text does not parse: {:?}\n{printed}",
        reparsed.diagnostics
    );
    assert_eq!(
        print_program(&reparsed.program),
        printed,
        "printing is not stable"
    );
    if compared && p != original {
        same_outputs(&original, &reparsed.program, &printed);
    }
}

/// The most input elements [`rewrite`] runs the interpreter on.
pub const MAX_INPUT_ELEMENTS: usize = 1 << 18;

/// Runs `original` and `rewritten` on random inputs, when the original runs, and compares.
fn same_outputs(original: &mil_ir::Program, rewritten: &mil_ir::Program, printed: &str) {
    let Some(f) = original
        .functions
        .iter()
        .find(|f| f.name == "main")
        .or(original.functions.first())
    else {
        return;
    };
    let Ok(inputs) = mil_eval::inputs::random(f, 7) else {
        return;
    };
    let elements: usize = inputs
        .iter()
        .map(|(_, t)| t.shape.iter().product::<usize>())
        .sum();
    if elements > MAX_INPUT_ELEMENTS || mil_rewrite::proof::run(original, inputs.clone()).is_err() {
        return;
    }
    let fp16 = inputs.iter().any(|(_, t)| t.dtype == DType::Fp16);
    let near =
        mil_rewrite::proof::compare(original, rewritten, &inputs, 1.0).expect("the rewritten program runs");
    for a in near {
        let ok = if fp16 {
            a.psnr_db >= 40.0 || a.max_rel_error <= 3e-2
        } else {
            a.psnr_db >= 100.0 || a.max_rel_error <= 1e-4
        };
        assert!(ok, "the rewritten program computes otherwise: {a:?}\n{printed}");
    }
}

/// A model folder whose `weights/weight.bin` holds two blobs, at offsets 64 (four fp16) and 192
/// (three uint8), created once per process.
pub fn model_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir").keep();
        std::fs::create_dir_all(dir.join("weights")).expect("weights dir");
        let file = std::fs::File::create(dir.join("weights/weight.bin")).expect("weight file");
        let mut blobs = BlobWriter::new(file).expect("header");
        blobs
            .append_bytes(DType::Fp16, 4, &[0, 0x3c, 0, 0x40, 0, 0x42, 0, 0x44])
            .expect("blob");
        blobs.append_bytes(DType::UInt8, 3, &[1, 2, 3]).expect("blob");
        blobs.finish().expect("finish");
        dir
    })
}

fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}
