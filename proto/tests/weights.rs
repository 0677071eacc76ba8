//! Weights behind one interface: weights a rewrite makes in memory reach a compiled package (read
//! back by decompiling it) and a weight file beside the text (read back by our reader and checked
//! by the blob check); checks read only through the store; a record is read once.

use half::f16;
use mil_ir::weights::{MEMORY_PATH, MemoryWeights, Weights};
use mil_ir::{BlobRef, ConstData, Elements, Program, codes};
use mil_proto::blob::{BlobReader, BlobWriter};
use mil_proto::blob_check::{check_blobs, check_blobs_in};
use mil_proto::weights::{WeightFiles, write_memory_weights};
use std::fs;
use std::io::Read;

const TEXT: &str = r#"program(1.3)
{
    func main<ios18>(tensor<fp16, [4]> x) {
            tensor<fp16, [4]> w = const()[name = string("w"), val = tensor<fp16, [4]>([0x0p+0, 0x0p+0, 0x0p+0, 0x0p+0])];
            tensor<fp32, [2]> s = const()[name = string("s"), val = tensor<fp32, [2]>([0x0p+0, 0x0p+0])];
            tensor<fp16, [4]> y = add(x = x, y = w)[name = string("y")];
        } -> (y);
}
"#;

fn read(text: &str) -> mil_grammar::Parse {
    let parse = mil_grammar::parse(text);
    assert!(
        !mil_ir::diagnostic::has_errors(&parse.diagnostics),
        "{:?}",
        parse.diagnostics
    );
    parse
}

fn fp16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| f16::from_f32(v).to_le_bytes())
        .collect()
}

/// Points the `val` of the const `name` at `blob`.
fn set_val(p: &mut Program, name: &str, blob: BlobRef) {
    let f = &mut p.functions[0];
    let op = f
        .ops
        .iter_mut()
        .find(|o| o.name() == Some(name))
        .expect("the const");
    let val = op
        .attributes
        .iter_mut()
        .find(|a| a.key == "val")
        .expect("its val");
    val.value.data = ConstData::Blob(blob);
}

/// `TEXT` with `w` = [1.5, -2, 3, 0.25] and `s` = [7, 8] made in memory by a "rewrite".
fn rewritten(weights: &mut MemoryWeights) -> mil_grammar::Parse {
    let mut parse = read(TEXT);
    let w = weights
        .add(mil_ir::DType::Fp16, 4, fp16_bytes(&[1.5, -2.0, 3.0, 0.25]))
        .unwrap();
    let s_bytes: Vec<u8> = [7f32, 8.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let s = weights.add(mil_ir::DType::Fp32, 2, s_bytes).unwrap();
    set_val(&mut parse.program, "w", w);
    set_val(&mut parse.program, "s", s);
    parse
}

#[test]
fn a_compile_writes_weights_made_in_memory_into_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let mut weights = WeightFiles::new(tmp.path());
    let parse = rewritten(weights.memory());
    let package = tmp.path().join("m.mlpackage");
    let warnings =
        mil_proto::compile::compile_with(&parse.program, &parse.source_map, &mut weights, &package).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    // Decompiling the package (from_proto, our reader of what the compiler wrote) gives the values.
    let out = tmp.path().join("back.mil");
    mil_proto::decompile::decompile(&package, &out, false).unwrap();
    let back = read(&fs::read_to_string(&out).unwrap());
    let f = &back.program.functions[0];
    let val = |name: &str| {
        let op = f.ops.iter().find(|o| o.name() == Some(name)).unwrap();
        let ConstData::Blob(blob) = &op.attribute("val").unwrap().data else {
            panic!("`{name}` is stored in the weight file");
        };
        let mut files = WeightFiles::new(tmp.path());
        let mut bytes = Vec::new();
        files.payload(blob).unwrap().read_to_end(&mut bytes).unwrap();
        bytes
    };
    assert_eq!(val("w"), fp16_bytes(&[1.5, -2.0, 3.0, 0.25]));
    assert_eq!(val("s"), [7f32.to_le_bytes(), 8f32.to_le_bytes()].concat());
}

#[test]
fn memory_weights_are_written_beside_the_text_or_inline() {
    let tmp = tempfile::tempdir().unwrap();
    let mut memory = MemoryWeights::default();
    let mut parse = rewritten(&mut memory);
    fs::create_dir(tmp.path().join("weights")).unwrap();
    let file = fs::File::create(tmp.path().join("weights/weight.bin")).unwrap();
    let mut out = BlobWriter::new(file).unwrap();
    // `w` is 8 bytes and goes to the weight file; `s` is 8 bytes too: the threshold is 7.
    let path = "@model_path/weights/weight.bin";
    write_memory_weights(&mut parse.program, &memory, 7, path, &mut out).unwrap();
    out.finish().unwrap();
    let text = mil_ir::printer::print_program(&parse.program);
    assert!(!text.contains(MEMORY_PATH), "{text}");
    assert!(text.contains(r#"val = tensor<fp16, [4]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64)))"#), "{text}");
    assert!(text.contains(r#"val = tensor<fp32, [2]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(192)))"#), "{text}");
    let reparsed = read(&text);
    assert_eq!(
        check_blobs(&reparsed.program, &reparsed.source_map, tmp.path()),
        vec![]
    );
    let mut reader = BlobReader::open(&tmp.path().join("weights/weight.bin")).unwrap();
    let record = reader.record(64).unwrap();
    assert_eq!(
        reader.read_payload(&record).unwrap(),
        fp16_bytes(&[1.5, -2.0, 3.0, 0.25])
    );

    // With a threshold of 8 bytes both are written inline, as the values they hold.
    let mut memory = MemoryWeights::default();
    let mut parse = rewritten(&mut memory);
    let mut unused = BlobWriter::new(std::io::Cursor::new(Vec::new())).unwrap();
    write_memory_weights(&mut parse.program, &memory, 8, path, &mut unused).unwrap();
    assert_eq!(unused.count(), 0);
    let text = mil_ir::printer::print_program(&parse.program);
    assert!(
        text.contains("val = tensor<fp16, [4]>([0x1.8p+0, -0x1p+1, 0x1.8p+1, 0x1p-2])"),
        "{text}"
    );
    assert!(
        text.contains("val = tensor<fp32, [2]>([0x1.cp+2, 0x1p+3])"),
        "{text}"
    );
    let f = &parse.program.functions[0];
    let s = f.ops.iter().find(|o| o.name() == Some("s")).unwrap();
    assert_eq!(
        s.attribute("val").unwrap().data,
        ConstData::Tensor(Elements::F32(vec![7.0, 8.0]))
    );
}

#[test]
fn checks_read_weights_only_through_the_store() {
    let mut memory = MemoryWeights::default();
    let mut parse = rewritten(&mut memory);
    assert_eq!(
        check_blobs_in(&parse.program, &parse.source_map, &mut memory),
        vec![]
    );
    // A weight of the wrong size for its declared type, and a file the store does not have.
    let short = memory
        .add(mil_ir::DType::Fp16, 2, fp16_bytes(&[1.0, 2.0]))
        .unwrap();
    set_val(&mut parse.program, "w", short);
    let file = BlobRef {
        path: "@model_path/weights/weight.bin".into(),
        offset: 64,
        rank0_spelling: false,
    };
    set_val(&mut parse.program, "s", file);
    let found = check_blobs_in(&parse.program, &parse.source_map, &mut memory);
    let codes: Vec<_> = found.iter().map(|d| d.code).collect();
    assert_eq!(codes, [codes::BLOB_SIZE, codes::BLOB_FILE_MISSING], "{found:?}");
    assert!(
        found[0]
            .message
            .contains("holds 4 bytes; tensor<fp16, [4]> needs 8"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_record_is_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("weights")).unwrap();
    let path = tmp.path().join("weights/weight.bin");
    let mut out = BlobWriter::new(fs::File::create(&path).unwrap()).unwrap();
    let offset = out
        .append_bytes(mil_ir::DType::Fp16, 2, &fp16_bytes(&[1.0, 2.0]))
        .unwrap();
    out.finish().unwrap();
    let mut files = WeightFiles::new(tmp.path());
    let blob = BlobRef {
        path: "@model_path/weights/weight.bin".into(),
        offset,
        rank0_spelling: false,
    };
    let first = files.record(&blob).unwrap();
    assert_eq!(
        (first.dtype, first.size, first.elements()),
        (mil_ir::DType::Fp16, 4, 2)
    );
    // The record is not read again: breaking it in the open file changes nothing for the store.
    let mut bytes = fs::read(&path).unwrap();
    bytes[offset as usize..offset as usize + 4].fill(0);
    fs::write(&path, &bytes).unwrap();
    assert!(BlobReader::open(&path).unwrap().record(offset).is_err());
    assert_eq!(files.record(&blob).unwrap(), first);
}
