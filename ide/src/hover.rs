//! Hover: for an op, its catalogue signature, summary and result types; for a value, its type and
//! where it comes from; for an argument key, the input's type, default and note; for a BLOBFILE,
//! the weight record it points at; for a quantised weight (a `constexpr_*` op), its scheme, size
//! and error bound.
//!
//! An op's hover is a list of sections, each from one provider in [`OP_SECTIONS`]; analyses that
//! know more about an op (inferred types, ANE placement with its reason and cost per backend) add
//! a provider there.

use crate::config::Config;
use crate::locate::{self, Hit};
use crate::model::Model;
use crate::placement;
use crate::signature_help::{input_label, opset_of, signature_label};
use mil_ane::Device;
use mil_ir::catalogue::{self, LookupError, docs};
use mil_ir::{ConstData, Function, OpId, Span};

/// Something that can say more about op `OpId` of function `usize` in its hover.
type OpSection = fn(&Model, &Config, usize, OpId) -> Option<String>;

/// The sections of an op's hover, in order.
const OP_SECTIONS: &[OpSection] = &[
    signature_section,
    results_section,
    quantized_weight_section,
    placement_section,
];

/// What a hover shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverResult {
    /// The text, in Markdown.
    pub markdown: String,
    /// What it is about.
    pub span: Span,
}

/// The hover at `offset`.
pub fn hover(m: &Model, config: &Config, offset: u32) -> Option<HoverResult> {
    let found = locate::at(m, offset)?;
    let f = &m.program.functions[found.function];
    let spans = &m.map.functions[found.function];
    let (text, span) = match found.hit? {
        Hit::OpKind(op) => {
            let sections: Vec<String> = OP_SECTIONS
                .iter()
                .filter_map(|s| s(m, config, found.function, op))
                .collect();
            (sections.join("\n\n---\n\n"), spans.ops[op.index()].kind)
        }
        Hit::Value { id, span } => (value_text(m, found.function, id), span),
        Hit::Unresolved { span } => (
            format!("`{}` is not defined in `{}`", m.slice(span), f.name),
            span,
        ),
        Hit::ArgKey { op, arg } => {
            let o = f.op(op);
            let key = o.args[arg].key.as_deref()?;
            let input = catalogue::lookup(&o.kind, opset_of(f, o)).ok()?.input(key)?;
            let note = docs::input_note(&o.kind, key).unwrap_or_default();
            let span = spans.ops[op.index()].args[arg].key?;
            (format!("```mil\n{}\n```\n{note}", input_label(input)), span)
        }
        Hit::Attribute { op, attr } => {
            let a = &f.op(op).attributes[attr];
            let span = spans.ops[op.index()].attributes[attr].whole;
            match &a.value.data {
                ConstData::Blob(blob) => (blob_text(m, blob, &a.value.ty), span),
                _ => (format!("```mil\n{} : {}\n```", a.key, a.value.ty), span),
            }
        }
        Hit::FunctionName => (function_text(f), spans.name),
        Hit::Statement(_) => return None,
    };
    Some(HoverResult { markdown: text, span })
}

fn signature_section(m: &Model, _: &Config, fi: usize, op: OpId) -> Option<String> {
    let f = &m.program.functions[fi];
    let o = f.op(op);
    let opset = opset_of(f, o);
    Some(match catalogue::lookup(&o.kind, opset) {
        Ok(v) => {
            let summary = docs::summary(&o.kind).unwrap_or_default();
            format!(
                "```mil\n{}\n```\n{summary}\n\n`{}` since {} (function opset {opset})",
                signature_label(v).0,
                o.kind,
                v.since()
            )
        }
        Err(LookupError::NotInOpset { first }) => {
            format!("`{}` is not in {opset}: it first appears in {first}", o.kind)
        }
        Err(LookupError::UnknownOpset) => format!("`{opset}` is not an opset this catalogue knows"),
        Err(LookupError::UnknownOp) => match catalogue::suggest(&o.kind) {
            Some(s) => format!("`{}` is not a MIL op (did you mean `{s}`?)", o.kind),
            None => format!("`{}` is not a MIL op", o.kind),
        },
    })
}

fn results_section(m: &Model, _: &Config, fi: usize, op: OpId) -> Option<String> {
    let f = &m.program.functions[fi];
    let o = f.op(op);
    let mut lines: Vec<String> = o
        .results
        .iter()
        .map(|&v| format!("- `{} {}` (declared)", f.value(v).ty, f.value(v).name))
        .collect();
    if let Some(name) = o.name() {
        lines.insert(0, format!("op name `{name}`"));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A quantised weight's scheme, size and error bound ([`mil_quant::describe`]).
fn quantized_weight_section(m: &Model, _: &Config, fi: usize, op: OpId) -> Option<String> {
    let f = &m.program.functions[fi];
    if !f.op(op).kind.starts_with("constexpr_") {
        return None;
    }
    // A document not on disk has only its inline values.
    let s = match &m.model_dir {
        Some(dir) => mil_quant::describe::describe(f, op, &mut mil_proto::weights::WeightFiles::new(dir)),
        None => mil_quant::describe::describe(f, op, &mut mil_ir::weights::MemoryWeights::default()),
    }?;
    Some(format!(
        "**Quantised weight**: {}\n\n{} bytes for {} dense ({:.1}× smaller); error {}",
        s.scheme,
        s.bytes,
        s.dense_bytes,
        s.dense_bytes as f64 / s.bytes.max(1) as f64,
        s.error
    ))
}

/// Where the op runs, why, and what it would cost on each device.
fn placement_section(m: &Model, config: &Config, fi: usize, op: OpId) -> Option<String> {
    let p = placement::of(m, config);
    let place = p.functions.get(fi)?.op(op)?;
    let target = placement::target(config);
    let mut text = format!(
        "**Placement** ({}, {}): **{}**, {}",
        target.chip.name(),
        target.compute_units.name(),
        placement::device_label(place.device),
        place.reason
    );
    if place.planned {
        let costs: Vec<String> = Device::ALL
            .iter()
            .rev()
            .map(|&d| match place.estimates_ms[d.index()] {
                Some(ms) => format!("{} {ms:.3} ms", placement::device_label(d)),
                None => format!("{} —", placement::device_label(d)),
            })
            .collect();
        text.push_str(&format!("\n\nestimated: {}", costs.join(" · ")));
    }
    Some(text)
}

fn value_text(m: &Model, function: usize, id: mil_ir::ValueId) -> String {
    let f = &m.program.functions[function];
    let spans = &m.map.functions[function];
    let v = f.value(id);
    let line = spans
        .values
        .get(id.index())
        .map(|s| {
            m.rope
                .byte_to_line((s.name.start as usize).min(m.rope.len_bytes()))
                + 1
        })
        .unwrap_or(0);
    let uses = match v.uses.len() {
        0 => "never used".to_string(),
        1 => "used once".to_string(),
        n => format!("used {n} times"),
    };
    format!(
        "```mil\n{} {}\n```\n{}, defined on line {line}; {uses}",
        v.ty,
        v.name,
        locate::origin(f, id)
    )
}

fn blob_text(m: &Model, blob: &mil_ir::BlobRef, ty: &mil_ir::Type) -> String {
    let mut text = format!(
        "**BLOBFILE** `{}` at offset {}\n\ndeclared `{ty}`",
        blob.path, blob.offset
    );
    if m.model_dir.is_none() {
        text.push_str("\n\n(the document is not on disk: the weight file is not read)");
        return text;
    }
    // Through the model's store of weights, which reads each record once.
    let mut weights = m.weights.lock().unwrap_or_else(|e| e.into_inner());
    match mil_ir::weights::Weights::record(&mut *weights, blob) {
        Ok(r) => text.push_str(&format!("\n\nrecord: `{}`, {} bytes of data", r.dtype, r.size)),
        Err((_, why)) => text.push_str(&format!("\n\n{why}")),
    }
    text
}

fn function_text(f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|&p| format!("{} {}", f.value(p).ty, f.value(p).name))
        .collect();
    let outputs: Vec<&str> = f.block(f.body).outputs.iter().map(|r| r.name.as_str()).collect();
    format!(
        "```mil\nfunc {}<{}>({}) -> ({})\n```\n{} operations",
        f.name,
        f.opset,
        params.join(", "),
        outputs.join(", "),
        f.ops.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, excerpts, model};
    use expect_test::expect;

    /// The hover at the first `needle` (plus `offset`) on `chip`, with the span it is about.
    fn at(text: &str, needle: &str, offset: u32, chip: Option<&str>) -> String {
        let config = Config {
            chip: chip.map(String::from),
            ..Config::default()
        };
        let m = model(text);
        let h = hover(&m, &config, text.find(needle).unwrap() as u32 + offset).unwrap();
        format!("{}{}", excerpts(text, &[h.span]), h.markdown)
    }

    #[test]
    fn a_blobfile_shows_its_record_read_through_the_models_weights() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
        let text = std::fs::read_to_string(root.join("ane_mlp.mil")).unwrap();
        let m = Model::build(
            1,
            &text,
            ropey::Rope::from_str(&text),
            Some(&root),
            Default::default(),
        );
        let at = text.find("BLOBFILE").unwrap() as u32 + 2;
        let h = hover(&m, &Config::default(), at).unwrap();
        let blob = h.markdown.split("**BLOBFILE**").nth(1).unwrap_or(&h.markdown);
        expect![[r#"
             `@model_path/ane_mlp.weights/weight.bin` at offset 64

            declared `tensor<fp16, [512, 128, 1, 1]>`

            record: `fp16`, 131072 bytes of data"#]]
        .assert_eq(blob);
        // Another blob of the same file: read through the same store.
        let at = text.rfind("BLOBFILE").unwrap() as u32 + 2;
        assert!(
            hover(&m, &Config::default(), at)
                .unwrap()
                .markdown
                .contains("bytes of data")
        );
    }

    #[test]
    fn an_op_shows_its_signature_results_and_placement_on_the_configured_chip() {
        expect![[r#"
            4:37 "mul"
            ```mil
            mul(x: tensor<fp16|fp32|int32>, y: tensor<fp16|fp32|int32>) -> 1 output
            ```
            Product x * y, element by element with broadcasting.

            `mul` since ios15 (function opset ios18)

            ---

            op name `b`
            - `tensor<fp16, [1, 4]> b` (declared)

            ---

            **Placement** (m4, cpu_and_ne): **CPU**, moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving)

            estimated: ANE 0.000 ms · GPU — · CPU 0.000 ms"#]]
        .assert_eq(&at(TEXT, "mul", 0, None));
        // On another chip only the placement section changes.
        let a14 = at(TEXT, "mul", 0, Some("a14"));
        let before_placement = |h: &str| h.rsplit_once("---").unwrap().0.to_string();
        assert_eq!(
            before_placement(&a14),
            before_placement(&at(TEXT, "mul", 0, None))
        );
        expect![[r#"


            **Placement** (a14, cpu_and_ne): **CPU**, moved to cpu (segment 1): ANE-eligible, but the best plan with it on the ANE costs 0.2500 ms more (launch and switch charges outweigh its saving)

            estimated: ANE 0.000 ms · GPU — · CPU 0.000 ms"#]]
        .assert_eq(a14.rsplit("---").next().unwrap());
    }

    #[test]
    fn a_quantised_weight_shows_its_scheme_size_and_error_bound() {
        let text = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 3]> x) {\n            \
            tensor<fp16, [4, 3]> w = constexpr_blockwise_shift_scale(data = tensor<int8, [4, 3]>([[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, -2, -3]]), scale = tensor<fp16, [4, 1]>([[0.5], [0.25], [1.0], [2.0]]))[name = string(\"w\")];\n            \
            tensor<fp16, [4, 3]> p = constexpr_lut_to_dense(indices = tensor<uint2, [4, 3]>([[0, 1, 2], [3, 0, 1], [2, 3, 0], [1, 2, 3]]), lut = tensor<fp16, [1, 1, 4, 1]>([[[[-1.0], [0.0], [0.5], [2.0]]]]))[name = string(\"p\")];\n            \
            tensor<fp16, [1, 4]> y = linear(weight = w, x = x)[name = string(\"y\")];\n            \
            tensor<fp16, [1, 4]> z = linear(weight = p, x = x)[name = string(\"z\")];\n        \
            } -> (y, z);\n}\n";
        let section = |needle: &str| {
            let h = at(text, needle, 0, None);
            let quantised = h
                .split("---")
                .find(|s| s.contains("Quantised weight"))
                .unwrap()
                .trim()
                .to_string();
            format!("{}\n{quantised}", h.lines().next().unwrap())
        };
        expect![[r#"
            3:37 "constexpr_blockwise_shift_scale"
            **Quantised weight**: int8, per channel (4 scales along axis 0), symmetric

            20 bytes for 24 dense (1.2× smaller); error at most half a step: ≤ 1.000e0 (largest scale 2.000e0 / 2)"#]]
        .assert_eq(&section("constexpr_blockwise"));
        expect![[r#"
            4:37 "constexpr_lut_to_dense"
            **Quantised weight**: 4-entry look-up table (2-bit indices), one table

            11 bytes for 24 dense (2.2× smaller); error between neighbouring entries at most half their gap: ≤ 7.500e-1 (values beyond the outermost entries can be further)"#]]
        .assert_eq(&section("constexpr_lut"));
        // Other ops have no such section.
        assert!(!at(text, "linear", 0, None).contains("Quantised weight"));
    }

    #[test]
    fn values_keys_functions_and_undefined_names() {
        expect![[r#"
            4:45 "a"
            ```mil
            tensor<fp16, [1, 4]> a
            ```
            result of `relu` `a`, defined on line 4; used 2 times"#]]
        .assert_eq(&at(TEXT, "x = a", 4, None));
        expect![[r#"
            4:48 "y"
            ```mil
            y: tensor<fp16|fp32|int32>
            ```
            The second operand; broadcast against `x`."#]]
        .assert_eq(&at(TEXT, "y = x)", 0, None));
        expect![[r#"
            2:9 "main"
            ```mil
            func main<ios18>(tensor<fp16, [1, 4]> x) -> (c)
            ```
            3 operations"#]]
        .assert_eq(&at(TEXT, "main", 0, None));
        let undefined = TEXT.replace("y = a)", "y = q)");
        expect![[r#"
            5:52 "q"
            `q` is not defined in `main`"#]]
        .assert_eq(&at(&undefined, "q)", 0, None));
    }
}
