//! Signature help inside an op's argument list, and the catalogue labels hover and completion
//! share: `conv(x: tensor<fp16|fp32>, …, pad_type?: const string = "valid") -> 1 output`.

use crate::config::Config;
use crate::context;
use crate::model::Model;
use mil_ir::catalogue::{self, DefaultValue, Input, InputKind, OpVersion, OutputCount, docs};
use mil_ir::{DType, Function, Operation};

/// The signature of the op being called, with the argument under the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `conv(x: tensor<fp16|fp32>, …) -> 1 output`.
    pub label: String,
    /// What the op does, in plain text.
    pub documentation: Option<String>,
    /// Its inputs, in order.
    pub parameters: Vec<Parameter>,
    /// The index of the input under the cursor, if known.
    pub active_parameter: Option<u32>,
}

/// One input of a [`Signature`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    /// Where it is in the signature's label, in bytes (the label is ASCII).
    pub label: [u32; 2],
    /// Its note, in plain text.
    pub documentation: Option<String>,
}

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

/// What an absent optional input means, written after its type: ` = value` for a fixed default,
/// ` (default: computed from the other inputs)` for one the op derives (conv's strides from
/// x's rank, its bias from the weight's shape; the input's note says how), or nothing.
pub fn default_text(d: DefaultValue) -> Option<String> {
    match d {
        DefaultValue::Bool(b) => Some(format!(" = {b}")),
        DefaultValue::Int(n) => Some(format!(" = {n}")),
        DefaultValue::Float(x) => Some(format!(" = {x:?}")),
        DefaultValue::Str(s) => Some(format!(" = {s:?}")),
        DefaultValue::DependsOnInputs => Some(" (default: computed from the other inputs)".into()),
        DefaultValue::Absent | DefaultValue::HandledByOp => None,
    }
}

/// `key?: type = default`.
pub fn input_label(i: &Input) -> String {
    let default = i.default.and_then(default_text).unwrap_or_default();
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
pub fn opset_at<'a>(m: &'a Model, config: &'a Config, offset: u32, pinned: Option<&'a str>) -> &'a str {
    pinned
        .or_else(|| {
            let i = m.map.functions.iter().position(|s| s.whole.contains(offset))?;
            Some(m.program.functions.get(i)?.opset.as_str()).filter(|o| !o.is_empty())
        })
        .unwrap_or(&config.deployment_target)
}

/// Signature help for the op call whose argument list holds `offset` (parsed or not).
pub fn signature_help(m: &Model, config: &Config, offset: u32) -> Option<Signature> {
    let call = context::call_at(&context::statement_prefix(m, offset))?;
    let version = catalogue::lookup(&call.kind, opset_at(m, config, offset, call.opset.as_deref())).ok()?;
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
        .map(|(i, r)| Parameter {
            label: r,
            documentation: docs::input_note(&call.kind, i.name).map(String::from),
        })
        .collect();
    Some(Signature {
        label,
        documentation: docs::summary(&call.kind).map(String::from),
        parameters,
        active_parameter: active.map(|a| a as u32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, model};
    use expect_test::expect;

    fn help(text: &str, at: u32) -> String {
        let Some(s) = signature_help(&model(text), &Config::default(), at) else {
            return "none".into();
        };
        let params: Vec<String> = s
            .parameters
            .iter()
            .map(|p| {
                let [a, b] = p.label;
                format!(
                    "{} — {}",
                    &s.label[a as usize..b as usize],
                    p.documentation.as_deref().unwrap_or("")
                )
            })
            .collect();
        format!(
            "{}\n{}\nactive: {:?}\n{}",
            s.label,
            s.documentation.unwrap_or_default(),
            s.active_parameter,
            params.join("\n")
        )
    }

    #[test]
    fn the_argument_under_the_cursor_is_marked() {
        let at = TEXT.find("y = x").unwrap() as u32 + 1;
        expect![[r#"
            mul(x: tensor<fp16|fp32|int32>, y: tensor<fp16|fp32|int32>) -> 1 output
            Product x * y, element by element with broadcasting.
            active: Some(1)
            x: tensor<fp16|fp32|int32> — The input tensor.
            y: tensor<fp16|fp32|int32> — The second operand; broadcast against `x`."#]]
        .assert_eq(&help(TEXT, at));
    }

    #[test]
    fn a_call_being_typed_gets_help_by_position_and_by_key() {
        let typing = TEXT.replace("relu(x = x)[name = string(\"a\")];", "conv(x, ");
        let at = typing.find("conv(x, ").unwrap() as u32 + 8;
        expect![[r#"
            conv(x: tensor<fp16|fp32>, weight: tensor<fp16|fp32>, bias?: tensor<fp16|fp32> (default: computed from the other inputs), strides?: const int32 (default: computed from the other inputs), pad_type?: const string (default: computed from the other inputs), pad?: const int32 (default: computed from the other inputs), dilations?: const int32 (default: computed from the other inputs), groups?: const int32 (default: computed from the other inputs)) -> 1 output
            Convolution over 1 to 3 spatial dimensions, with strides, dilations, padding and groups.
            active: Some(1)
            x: tensor<fp16|fp32> — Input [N, C_in, *D] with 1 to 3 spatial dimensions.
            weight: tensor<fp16|fp32> — The kernel [C_out, C_in / groups, *K]; const when dilations are not all 1. From iOS17 its dtype may differ from x's.
            bias?: tensor<fp16|fp32> (default: computed from the other inputs) — A bias added to each output channel, [C_out] (zeros when absent).
            strides?: const int32 (default: computed from the other inputs) — The step between windows along each spatial dimension (1 for each when absent).
            pad_type?: const string (default: computed from the other inputs) — How to pad: `valid` (not at all), `same` (output size is input size / stride, rounded up), `same_lower` (as `same`, an odd extra row or column goes first) or `custom` (from `pad`).
            pad?: const int32 (default: computed from the other inputs) — Padding before and after each spatial dimension, two numbers per dimension; for pad_type `custom` (zeros when absent).
            dilations?: const int32 (default: computed from the other inputs) — The spacing between kernel taps along each spatial dimension (1 for each when absent).
            groups?: const int32 (default: computed from the other inputs) — The number of groups the channels are split into; the channel counts must divide by it (1 when absent; C_in gives a depthwise convolution)."#]]
        .assert_eq(&help(&typing, at));
        assert_eq!(help(TEXT, TEXT.find("main").unwrap() as u32), "none");
    }
}
