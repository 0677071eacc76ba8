//! Signature help inside an op's argument list, and the catalogue labels hover and completion
//! share: `conv(x: tensor<fp16|fp32>, …, pad_type?: const string = "valid") -> 1 output`.

use crate::lsp::context;
use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use mil_ir::catalogue::{self, DefaultValue, Input, InputKind, OpVersion, OutputCount, docs};
use mil_ir::{DType, Function, Operation};
use tower_lsp_server::ls_types::{
    Documentation, MarkupContent, MarkupKind, ParameterInformation, ParameterLabel, SignatureHelp,
    SignatureInformation,
};

/// The opset an op is looked up in: its pinned one, else its function's.
pub fn opset_of<'a>(f: &'a Function, op: &'a Operation) -> &'a str {
    op.opset.as_deref().unwrap_or(&f.opset)
}

/// What an input takes: `tensor<fp16|fp32>`, `const string`, `tuple`.
pub fn input_type(i: &Input) -> String {
    let base = match i.kind {
        InputKind::Tensor if i.dtypes.is_empty() || i.dtypes.len() == DType::ALL.len() => {
            "tensor".to_string()
        }
        InputKind::Tensor if i.constant && i.dtypes.len() == 1 => i.dtypes[0].name().to_string(),
        InputKind::Tensor => {
            let names: Vec<&str> = i.dtypes.iter().map(|d| d.name()).collect();
            format!("tensor<{}>", names.join("|"))
        }
        InputKind::List => "list".into(),
        InputKind::Tuple => "tuple".into(),
        InputKind::ListOrTensorOrDict => "tensor|list|dict".into(),
        InputKind::State => "state".into(),
        InputKind::TensorBuffer => "tensor_buffer".into(),
        InputKind::Block => "block".into(),
        InputKind::Internal => "internal".into(),
    };
    if i.constant { format!("const {base}") } else { base }
}

/// What an absent optional input means, when it is a value.
pub fn default_text(d: DefaultValue) -> Option<String> {
    match d {
        DefaultValue::Bool(b) => Some(b.to_string()),
        DefaultValue::Int(n) => Some(n.to_string()),
        DefaultValue::Float(x) => Some(format!("{x:?}")),
        DefaultValue::Str(s) => Some(format!("{s:?}")),
        DefaultValue::DependsOnInputs => Some("(from the other inputs)".into()),
        DefaultValue::Absent | DefaultValue::HandledByOp => None,
    }
}

/// `key?: type = default`.
pub fn input_label(i: &Input) -> String {
    let default = i
        .default
        .and_then(default_text)
        .map(|d| format!(" = {d}"))
        .unwrap_or_default();
    format!(
        "{}{}: {}{default}",
        i.name,
        if i.optional { "?" } else { "" },
        input_type(i)
    )
}

/// The inputs MIL text writes as arguments (not `const`'s internal `val`, not nested blocks).
pub fn written_inputs(v: &OpVersion) -> impl Iterator<Item = &'static Input> {
    v.inputs
        .iter()
        .filter(|i| !matches!(i.kind, InputKind::Internal | InputKind::Block))
}

/// `1 output`, `3 outputs`, `one per loop variable`.
pub fn outputs_text(v: &OpVersion) -> String {
    match v.outputs() {
        OutputCount::Exactly(1) => "1 output".into(),
        OutputCount::Exactly(n) => format!("{n} outputs"),
        OutputCount::TwoUnlessFalse(input) => format!("2 outputs (1 when {input} = false)"),
        OutputCount::PerSplit => "one output per split".into(),
        OutputCount::PerLoopVar => "one output per loop variable".into(),
        OutputCount::PerBranchOutput => "as many outputs as each branch returns".into(),
    }
}

/// `kind(inputs) -> outputs`, with the byte range of each input's label inside it.
pub fn signature_label(v: &OpVersion) -> (String, Vec<[u32; 2]>) {
    let mut label = format!("{}(", v.name);
    let mut ranges = Vec::new();
    for (n, i) in written_inputs(v).enumerate() {
        if n > 0 {
            label.push_str(", ");
        }
        let text = input_label(i);
        let start = label.encode_utf16().count() as u32;
        label.push_str(&text);
        ranges.push([start, start + text.encode_utf16().count() as u32]);
    }
    label.push_str(") -> ");
    label.push_str(&outputs_text(v));
    (label, ranges)
}

/// The opset that applies at `offset`: the pinned one, else the function's, else the configured
/// deployment target.
pub fn opset_at<'a>(m: &'a Model, cx: &'a Ctx, offset: u32, pinned: Option<&'a str>) -> &'a str {
    pinned
        .or_else(|| {
            let i = m.map.functions.iter().position(|s| s.whole.contains(offset))?;
            Some(m.program.functions.get(i)?.opset.as_str()).filter(|o| !o.is_empty())
        })
        .unwrap_or(&cx.config.deployment_target)
}

/// Signature help for the op call whose argument list holds `offset` (parsed or not).
pub fn signature_help(m: &Model, cx: &Ctx, offset: u32) -> Option<SignatureHelp> {
    let call = context::call_at(&context::statement_prefix(m, offset))?;
    let version = catalogue::lookup(&call.kind, opset_at(m, cx, offset, call.opset.as_deref())).ok()?;
    let (label, ranges) = signature_label(version);
    let inputs: Vec<&Input> = written_inputs(version).collect();
    let named = call
        .key
        .as_ref()
        .or(call.word.as_ref().filter(|w| version.input(w).is_some()));
    let active = match named {
        Some(key) => inputs.iter().position(|i| i.name == key),
        None if call.keys_before.is_empty() => Some(call.arg_index).filter(|&i| i < inputs.len()),
        None => None,
    };
    let parameters = inputs
        .iter()
        .zip(ranges)
        .map(|(i, r)| ParameterInformation {
            label: ParameterLabel::LabelOffsets(r),
            documentation: docs::input_note(&call.kind, i.name).map(|n| Documentation::String(n.to_string())),
        })
        .collect();
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label,
            documentation: docs::summary(&call.kind).map(|s| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::PlainText,
                    value: s.to_string(),
                })
            }),
            parameters: Some(parameters),
            active_parameter: active.map(|a| a as u32),
        }],
        active_signature: Some(0),
        active_parameter: active.map(|a| a as u32),
    })
}
