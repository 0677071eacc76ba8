//! Checks a program's BLOBFILE references against the weight files beside it.
//!
//! A reference `BLOBFILE(path = "@model_path/weights/weight.bin", offset = 64)` names a file relative
//! to the folder holding the `.mil` file (`@model_path`; a path without it is relative to that folder
//! too) and the offset of a blob's metadata record. Only the 64-byte records are read, never payloads.

use crate::blob::{dtype_code, payload_size};
use crate::weights::{WeightFileProblem, WeightFiles};
use mil_ir::weights::Weights;
use mil_ir::{
    Attribute, BlobRef, ConstData, Diagnostic, Dim, Operand, Program, SourceMap, Span, TypedValue, codes,
};
use std::collections::HashMap;
use std::path::Path;

/// Checks every BLOBFILE reference of `program` (in op attributes, inline arguments, tuple items, and
/// function and program attributes) against the files under `model_dir`, the folder holding the
/// `.mil` file. Spans come from `map`; parts it does not cover get an empty span.
///
/// Reports paths that leave `model_dir` ([`codes::BLOB_PATH_ESCAPES`]), missing files
/// ([`codes::BLOB_FILE_MISSING`]), offsets that are not a blob record
/// ([`codes::BLOB_BAD_RECORD`]), and records whose dtype ([`codes::BLOB_DTYPE`]) or size
/// ([`codes::BLOB_SIZE`]) differ from the declared type.
pub fn check_blobs(program: &Program, map: &SourceMap, model_dir: &Path) -> Vec<Diagnostic> {
    check_blobs_in(program, map, &mut WeightFiles::new(model_dir))
}

/// [`check_blobs`] against the weights of `weights` (the weight files of a model folder, weights
/// made in memory), which is all it reads.
pub fn check_blobs_in(program: &Program, map: &SourceMap, weights: &mut dyn Weights) -> Vec<Diagnostic> {
    let mut checker = Checker::new(weights);
    checker.attributes(&program.attributes, &map.attributes);
    for (i, f) in program.functions.iter().enumerate() {
        let spans = map.functions.get(i);
        checker.attributes(&f.attributes, spans.map_or(&[], |s| &s.attributes));
        for op_id in f.walk_ops() {
            let op = f.op(op_id);
            let op_spans = spans.and_then(|s| s.ops.get(op_id.index()));
            checker.attributes(&op.attributes, op_spans.map_or(&[], |s| &s.attributes));
            for (a, arg) in op.args.iter().enumerate() {
                let arg_spans = op_spans.and_then(|s| s.args.get(a));
                let span = arg_spans.map(|s| s.value).unwrap_or_default();
                match &arg.value {
                    Operand::Const(value) => checker.value(value, span),
                    Operand::Tuple(items) => {
                        for (j, item) in items.iter().enumerate() {
                            if let Operand::Const(value) = item {
                                let span = arg_spans.and_then(|s| s.items.get(j).copied());
                                checker.value(value, span.unwrap_or_default());
                            }
                        }
                    }
                    Operand::Value(_) => {}
                }
            }
        }
    }
    checker.finish()
}

struct Checker<'w> {
    files: &'w mut dyn Weights,
    diagnostics: Vec<Diagnostic>,
    /// Weight path that names no usable file → (its diagnostic's index, how many references name it).
    bad_files: HashMap<String, (usize, usize)>,
}

impl<'w> Checker<'w> {
    fn new(files: &'w mut dyn Weights) -> Checker<'w> {
        Checker {
            files,
            diagnostics: Vec::new(),
            bad_files: HashMap::new(),
        }
    }

    fn attributes(&mut self, attrs: &[Attribute], spans: &[mil_ir::AttrSpans]) {
        for (i, attr) in attrs.iter().enumerate() {
            self.value(&attr.value, spans.get(i).map(|s| s.value).unwrap_or_default());
        }
    }

    fn value(&mut self, value: &TypedValue, span: Span) {
        let ConstData::Blob(blob) = &value.data else {
            return;
        };
        if let Some((_, count)) = self.bad_files.get_mut(&blob.path) {
            *count += 1;
            return;
        }
        let checked = match self.files.store(&blob.path) {
            Ok(()) => check_record(self.files, value, blob),
            Err(problem) => {
                self.bad_files
                    .insert(blob.path.clone(), (self.diagnostics.len(), 1));
                Err(problem)
            }
        };
        if let Err((code, message)) = checked {
            self.diagnostics.push(Diagnostic::new(code, span, message));
        }
    }

    /// The diagnostics, a file's problem reported once, at its first reference, with the number
    /// of references that name it.
    fn finish(mut self) -> Vec<Diagnostic> {
        for (index, count) in self.bad_files.into_values() {
            if count > 1 {
                self.diagnostics[index].message.push_str(&format!(
                    " ({count} references name this file; reported at the first)"
                ));
            }
        }
        self.diagnostics
    }
}

/// Reads the record a reference names and compares it with the declared type.
pub(crate) fn check_record(
    weights: &mut dyn Weights,
    value: &TypedValue,
    blob: &BlobRef,
) -> Result<(), WeightFileProblem> {
    let offset = blob.offset;
    let ty = &value.ty;
    let Some(declared) = ty.dtype() else {
        return Err((
            codes::BLOB_DTYPE,
            format!("a weight blob cannot hold a value of type {ty}"),
        ));
    };
    let expected_code = match dtype_code(declared) {
        Some(code) => format!("{declared} (code {code})"),
        None => format!("{declared}, which a weight file cannot hold"),
    };
    let record = weights.record(blob).map_err(|(code, message)| match code {
        codes::BLOB_DTYPE => (code, format!("{message}; {ty} needs {expected_code}")),
        _ => (code, message),
    })?;
    if record.dtype != declared {
        return Err((
            codes::BLOB_DTYPE,
            format!(
                "the blob at offset {offset} holds {} data; {ty} needs {expected_code}",
                record.dtype
            ),
        ));
    }
    let Some(elements) = ty.element_count() else {
        if ty
            .shape()
            .is_some_and(|s| s.iter().all(|d| matches!(d, Dim::Known(_))))
        {
            return Err((
                codes::BLOB_SIZE,
                format!(
                    "the blob at offset {offset} holds {} bytes; {ty} has more elements than a 64-bit count",
                    record.size
                ),
            ));
        }
        return Ok(());
    };
    let bits = u64::from(declared.bits().expect("blob dtypes have a width"));
    let size = payload_size(declared, elements);
    if size != Some(record.size) {
        let needs = size.map_or("more than fits in a file".to_string(), |n| format!("{n}"));
        return Err((
            codes::BLOB_SIZE,
            format!(
                "the blob at offset {offset} holds {} bytes; {ty} needs {needs} ({elements} × {bits} bits)",
                record.size
            ),
        ));
    }
    let padding = record.size * 8 - elements * bits;
    if record.padding_bits != padding {
        return Err((
            codes::BLOB_SIZE,
            format!(
                "the blob at offset {offset} leaves {} unused bits in its last byte; {ty} leaves {padding}",
                record.padding_bits
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::BlobWriter;
    use mil_ir::DType;
    use std::fs;

    /// A model folder `model/` inside a temporary folder, with `weights/weight.bin` holding
    /// fp16 x6 at 64, uint4 x3 at 192 and fp32 x32 at 320 (payload 384..512), a file with an unknown
    /// dtype code, a file too short for a header, a folder, and a symlink to a weight file outside.
    fn model_dir() -> (tempfile::TempDir, std::path::PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let model = tmp.path().join("model");
        let weights = model.join("weights");
        fs::create_dir_all(weights.join("folder.bin")).unwrap();
        let mut w = BlobWriter::new(fs::File::create(weights.join("weight.bin")).unwrap()).unwrap();
        assert_eq!(w.append_bytes(DType::Fp16, 6, &[0; 12]).unwrap(), 64);
        assert_eq!(w.append_bytes(DType::UInt4, 3, &[0; 2]).unwrap(), 192);
        assert_eq!(w.append_bytes(DType::Fp32, 32, &[0; 128]).unwrap(), 320);
        w.finish().unwrap();
        let mut bytes = fs::read(weights.join("weight.bin")).unwrap();
        bytes[64 + 4] = 42;
        fs::write(weights.join("unknown.bin"), &bytes).unwrap();
        fs::write(weights.join("short.bin"), [0; 10]).unwrap();
        fs::write(
            tmp.path().join("outside.bin"),
            fs::read(weights.join("weight.bin")).unwrap(),
        )
        .unwrap();
        std::os::unix::fs::symlink("../../outside.bin", weights.join("link.bin")).unwrap();
        (tmp, model)
    }

    /// Parses a program whose `main` holds `body` and checks it against [`model_dir`].
    fn diagnostics(body: &str) -> (String, Vec<Diagnostic>) {
        let text = format!(
            "program(1.3)\n{{\n    func main<ios18>(tensor<fp16, [6]> x) {{\n{body}\n    }} -> (x);\n}}\n"
        );
        let parsed = mil_grammar::parse(&text);
        assert!(
            !mil_ir::diagnostic::has_errors(&parsed.diagnostics),
            "{:?}",
            parsed.diagnostics
        );
        let (_tmp, model) = model_dir();
        let found = check_blobs(&parsed.program, &parsed.source_map, &model);
        (text, found)
    }

    /// Each diagnostic's code, the text it points at, and its message.
    fn check(body: &str) -> Vec<(&'static str, String, String)> {
        let (text, found) = diagnostics(body);
        found
            .into_iter()
            .map(|d| (d.code.id, text[d.span.range()].to_string(), d.message))
            .collect()
    }

    fn blob(ty: &str, path: &str, offset: u64) -> String {
        format!("{ty}(BLOBFILE(path = string(\"{path}\"), offset = uint64({offset})))")
    }

    /// One const statement per case: `tensor c = const()[name, val = BLOB]`.
    fn consts(cases: &[(&str, &str, u64)]) -> String {
        cases
            .iter()
            .enumerate()
            .map(|(i, (ty, path, offset))| {
                let val = blob(ty, path, *offset);
                format!("        {ty} c{i} = const()[name = string(\"c{i}\"), val = {val}];\n")
            })
            .collect()
    }

    const W: &str = "@model_path/weights/weight.bin";

    #[test]
    fn matching_records_pass() {
        let body = consts(&[
            ("tensor<fp16, [2, 3]>", W, 64),
            ("tensor<uint4, [3]>", W, 192),
            ("tensor<fp32, [4, 8]>", W, 320),
            ("tensor<fp16, [6]>", "weights/weight.bin", 64),
            ("tensor<fp16, [6]>", "@model_path/./weights/weight.bin", 64),
        ]);
        assert_eq!(check(&body), []);
    }

    #[test]
    fn bad_records() {
        let body = consts(&[
            ("tensor<fp16, [6]>", W, 100),
            ("tensor<fp16, [6]>", W, 448),
            ("tensor<fp16, [6]>", W, 512),
            ("tensor<fp16, [6]>", "@model_path/weights/short.bin", 64),
            ("tensor<fp16, [6]>", "@model_path/weights/folder.bin", 64),
        ]);
        let found = check(&body);
        let codes: Vec<_> = found.iter().map(|f| f.0).collect();
        assert_eq!(codes, ["MIL0303"; 5], "{found:#?}");
        assert_eq!(found[0].1, blob("tensor<fp16, [6]>", W, 100));
        assert_eq!(
            found[0].2,
            "BLOBFILE offset 100: offset 100 is not a multiple of 64"
        );
        assert_eq!(
            found[1].2,
            "BLOBFILE offset 448: no blob record at offset 448: expected sentinel 0xDEADBEEF, found 0x00000000"
        );
        assert_eq!(
            found[2].2,
            "BLOBFILE offset 512: a 64-byte record at offset 512 does not fit in the 512-byte file"
        );
        assert_eq!(
            found[3].2,
            "`@model_path/weights/short.bin` is not a weight file: the file is 10 bytes long, shorter than its 64-byte header"
        );
        assert_eq!(
            found[4].2,
            "`@model_path/weights/folder.bin` is not a weight file: it is not a file"
        );
    }

    #[test]
    fn dtype_and_size_mismatches() {
        let body = consts(&[
            ("tensor<fp32, [6]>", W, 64),
            ("tensor<fp16, [7]>", W, 64),
            ("tensor<uint4, [4]>", W, 192),
            ("tensor<fp16, [6]>", "@model_path/weights/unknown.bin", 64),
            ("tensor<int64, [6]>", W, 64),
        ]);
        let found: Vec<_> = check(&body).into_iter().map(|(c, _, m)| (c, m)).collect();
        assert_eq!(
            found,
            [
                ("MIL0304", "the blob at offset 64 holds fp16 data; tensor<fp32, [6]> needs fp32 (code 2)".into()),
                ("MIL0305", "the blob at offset 64 holds 12 bytes; tensor<fp16, [7]> needs 14 (7 × 16 bits)".into()),
                (
                    "MIL0305",
                    "the blob at offset 192 leaves 4 unused bits in its last byte; tensor<uint4, [4]> leaves 0".into()
                ),
                (
                    "MIL0304",
                    "the blob at offset 64 has unknown dtype code 42; tensor<fp16, [6]> needs fp16 (code 1)".into()
                ),
                (
                    "MIL0304",
                    "the blob at offset 64 holds fp16 data; tensor<int64, [6]> needs int64, which a weight file cannot hold"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn paths_must_stay_inside_the_model_folder() {
        let body = consts(&[
            ("tensor<fp16, [6]>", "@model_path/../outside.bin", 64),
            (
                "tensor<fp16, [6]>",
                "@model_path/weights/../weights/weight.bin",
                64,
            ),
            ("tensor<fp16, [6]>", "/etc/passwd", 64),
            ("tensor<fp16, [6]>", "@model_path/weights/link.bin", 64),
        ]);
        let found = check(&body);
        let codes: Vec<_> = found.iter().map(|f| f.0).collect();
        assert_eq!(codes, ["MIL0301"; 4], "{found:#?}");
        assert!(found[0].2.contains("goes up with `..`"), "{}", found[0].2);
        assert!(found[2].2.contains("is absolute"), "{}", found[2].2);
        assert!(
            found[3].2.contains("outside.bin, outside the model folder"),
            "{}",
            found[3].2
        );
    }

    #[test]
    fn a_missing_file_is_an_error_and_nothing_more() {
        let (_, found) = diagnostics(&consts(&[(
            "tensor<fp32, [6]>",
            "@model_path/weights/other.bin",
            100,
        )]));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, codes::BLOB_FILE_MISSING);
        assert_eq!(found[0].severity, mil_ir::Severity::Error);
        assert!(
            found[0]
                .message
                .starts_with("weight file `@model_path/weights/other.bin` not found: no /")
        );
    }

    #[test]
    fn a_file_problem_is_reported_once_at_its_first_reference() {
        let missing = "@model_path/weights/other.bin";
        let escaping = "@model_path/../outside.bin";
        let body = consts(&[
            ("tensor<fp32, [6]>", missing, 64),
            ("tensor<fp16, [6]>", W, 64),
            ("tensor<fp32, [6]>", escaping, 64),
            ("tensor<fp32, [6]>", missing, 128),
            ("tensor<fp32, [6]>", missing, 192),
            ("tensor<fp32, [6]>", escaping, 64),
        ]);
        let found = check(&body);
        let got: Vec<_> = found.iter().map(|(c, t, _)| (*c, t.clone())).collect();
        assert_eq!(
            got,
            [
                ("MIL0302", blob("tensor<fp32, [6]>", missing, 64)),
                ("MIL0301", blob("tensor<fp32, [6]>", escaping, 64)),
            ]
        );
        assert!(
            found[0]
                .2
                .ends_with(" (3 references name this file; reported at the first)"),
            "{}",
            found[0].2
        );
        assert!(
            found[1]
                .2
                .ends_with(" (2 references name this file; reported at the first)")
        );
    }

    #[test]
    fn arguments_tuple_items_and_constexpr_attributes_are_checked() {
        let bad = blob("tensor<fp16, [6]>", W, 100);
        let good = blob("tensor<fp16, [6]>", W, 64);
        let wrong = blob("tensor<int8, [6]>", W, 64);
        let body = format!(
            "        tensor<fp16, [6]> a = add(x = x, y = {bad})[name = string(\"a\")];\n\
             \x20       tensor<fp16, [12]> b = concat(values = (x, {good}), axis = int32(0), interleave = bool(false))[name = string(\"b\")];\n\
             \x20       tensor<fp16, [6]> c = concat(values = ({wrong}, x), axis = int32(0), interleave = bool(false))[name = string(\"c\")];\n\
             \x20       tensor<fp16, [6]> d = constexpr_affine_dequantize()[axis = int32(0), name = string(\"d\"), quantized_data = {wrong}, scale = fp16(1), zero_point = int8(0)];\n"
        );
        let found = check(&body);
        let got: Vec<_> = found.iter().map(|(c, t, _)| (*c, t.as_str())).collect();
        assert_eq!(
            got,
            [
                ("MIL0303", bad.as_str()),
                ("MIL0304", wrong.as_str()),
                ("MIL0304", wrong.as_str())
            ]
        );
    }
}
