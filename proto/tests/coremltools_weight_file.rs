//! A weight file written by coremltools' own blob writer (`tests/oracle/make_blob_fixture.py`) is read
//! by [`BlobReader`] as coremltools described it, and [`BlobWriter`] re-writes it byte for byte.

use mil_ir::DType;
use mil_proto::blob::{BlobReader, BlobWriter, RECORD_SIZE};
use std::io::Cursor;

const FILE: &[u8] = include_bytes!("data/coremltools_weight.bin");
const CONTENTS: &str = include_str!("data/coremltools_weight.json");

struct Entry {
    dtype: DType,
    offset: u64,
    elements: u64,
}

fn entries() -> Vec<Entry> {
    let json: serde_json::Value = serde_json::from_str(CONTENTS).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|e| Entry {
            dtype: DType::from_name(e["dtype"].as_str().unwrap()).unwrap(),
            offset: e["offset"].as_u64().unwrap(),
            elements: e["values"].as_array().unwrap().len() as u64,
        })
        .collect()
}

#[test]
fn records_read_as_coremltools_wrote_them() {
    let entries = entries();
    let mut reader = BlobReader::new(Cursor::new(FILE)).unwrap();
    assert_eq!(reader.count() as usize, entries.len());
    for e in &entries {
        let record = reader.record(e.offset).unwrap();
        let bits = u64::from(e.dtype.bits().unwrap()) * e.elements;
        assert_eq!(record.dtype, e.dtype);
        assert_eq!(record.size, bits.div_ceil(8), "{}", e.dtype);
        assert_eq!(record.data_offset, e.offset + RECORD_SIZE);
        assert_eq!(record.padding_bits, record.size * 8 - bits, "{}", e.dtype);
    }
}

#[test]
fn rewriting_every_blob_reproduces_the_file() {
    let mut reader = BlobReader::new(Cursor::new(FILE)).unwrap();
    let mut writer = BlobWriter::new(Cursor::new(Vec::new())).unwrap();
    for e in entries() {
        let record = reader.record(e.offset).unwrap();
        let offset = writer
            .append(e.dtype, e.elements, reader.payload(&record).unwrap())
            .unwrap();
        assert_eq!(offset, e.offset);
    }
    assert_eq!(writer.finish().unwrap().into_inner(), FILE);
}
