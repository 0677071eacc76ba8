//! What each fuzz target checks on one input. The libFuzzer targets in `fuzz/` call these
//! functions, and `tests/regressions.rs` replays every kept input (the seed corpora and the inputs
//! that once crashed) through them in `cargo test`, so a fixed crash stays fixed.
//!
//! Each function panics exactly when the code under test misbehaves: a panic inside the parser,
//! the checks or the readers, or a broken invariant asserted here.

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
pub const TARGETS: [(&str, Check); 5] = [
    ("parse", parse),
    ("print_roundtrip", print_roundtrip),
    ("analyse", analyse),
    ("decompile", decompile),
    ("blob_reader", blob_reader),
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
