//! Completion, from the lexical context of the cursor (so it works while a statement is being
//! typed): inside an op's argument list, the input keys not given yet (with types and defaults) and
//! the values in scope whose dtype the input accepts; after `=`, the ops of the function's opset;
//! inside `<...>`, dtypes; at the start of a statement, a whole-statement snippet and the types.

use crate::lsp::context::{self, Call};
use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use crate::lsp::signature_help::{default_text, input_type, opset_at, outputs_text, written_inputs};
use mil_ir::catalogue::{self, Opset, docs};
use mil_ir::{DType, Span, ValueDef, ValueId};
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionItemLabelDetails, Documentation, InsertTextFormat,
};

/// At most this many values in scope are offered, nearest definitions first.
const MAX_VALUES: usize = 300;

/// The completions at `offset`.
pub fn complete(m: &Model, cx: &Ctx, offset: u32) -> Vec<CompletionItem> {
    let prefix = context::statement_prefix(m, offset);
    if let Some(call) = context::call_at(&prefix) {
        return in_call(m, cx, offset, &call);
    }
    if in_angle_brackets(&prefix) {
        return dtypes();
    }
    let trimmed = prefix.trim_start();
    if let Some((_, after)) = trimmed.split_once('=')
        && !after.contains(['(', '['])
        && after
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return ops(m, cx, offset);
    }
    if trimmed.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        let mut items = statement_snippet(cx);
        items.extend(
            ["tensor", "state", "list", "tuple", "dict"].map(|t| keyword(t, CompletionItemKind::KEYWORD)),
        );
        items.extend(dtypes());
        return items;
    }
    Vec::new()
}

fn keyword(label: &str, kind: CompletionItemKind) -> CompletionItem {
    CompletionItem {
        label: label.into(),
        kind: Some(kind),
        ..CompletionItem::default()
    }
}

fn dtypes() -> Vec<CompletionItem> {
    DType::ALL
        .iter()
        .map(|d| keyword(d.name(), CompletionItemKind::TYPE_PARAMETER))
        .collect()
}

/// Whether the end of `prefix` is inside an unclosed `<`.
fn in_angle_brackets(prefix: &str) -> bool {
    let depth = prefix.chars().fold(0i32, |d, c| match c {
        '<' => d + 1,
        '>' => d - 1,
        _ => d,
    });
    depth > 0
}

fn statement_snippet(cx: &Ctx) -> Vec<CompletionItem> {
    if !cx.caps.snippets {
        return Vec::new();
    }
    vec![CompletionItem {
        label: "statement".into(),
        kind: Some(CompletionItemKind::SNIPPET),
        detail: Some("TYPE name = op(key = value)[name = string(\"name\")];".into()),
        insert_text: Some(
            "${1:tensor<fp16, [1]>} ${2:y} = ${3:relu}(${4:x = x})[name = string(\"${2:y}\")];".into(),
        ),
        insert_text_format: Some(InsertTextFormat::SNIPPET),
        ..CompletionItem::default()
    }]
}

fn ops(m: &Model, cx: &Ctx, offset: u32) -> Vec<CompletionItem> {
    let Some(opset) = Opset::parse(opset_at(m, cx, offset, None)) else {
        return Vec::new();
    };
    catalogue::ops_in(opset)
        .filter(|v| !v.name.starts_with('_'))
        .map(|v| {
            let required: Vec<&str> = written_inputs(v)
                .filter(|i| !i.optional)
                .map(|i| i.name)
                .collect();
            let snippet = required
                .iter()
                .enumerate()
                .map(|(n, k)| format!("{k} = ${{{}}}", n + 1))
                .collect::<Vec<_>>()
                .join(", ");
            CompletionItem {
                label: v.name.into(),
                kind: Some(CompletionItemKind::FUNCTION),
                label_details: Some(CompletionItemLabelDetails {
                    detail: Some(format!("({})", required.join(", "))),
                    description: Some(outputs_text(v)),
                }),
                documentation: docs::summary(v.name).map(|s| Documentation::String(s.into())),
                insert_text: cx.caps.snippets.then(|| format!("{}({snippet})", v.name)),
                insert_text_format: cx.caps.snippets.then_some(InsertTextFormat::SNIPPET),
                ..CompletionItem::default()
            }
        })
        .collect()
}

fn in_call(m: &Model, cx: &Ctx, offset: u32, call: &Call) -> Vec<CompletionItem> {
    let version = catalogue::lookup(&call.kind, opset_at(m, cx, offset, call.opset.as_deref())).ok();
    let input = version.and_then(|v| {
        let key = call.key.as_deref()?;
        v.input(key)
    });
    let accepts = |d: Option<DType>| match (input, d) {
        (Some(i), Some(d)) if !i.dtypes.is_empty() => i.dtypes.contains(&d),
        _ => true,
    };
    let mut items = values_in_scope(m, offset, accepts);
    if call.in_value {
        if input.is_some_and(|i| i.dtypes.contains(&DType::Bool)) {
            items.extend(["true", "false"].map(|w| keyword(w, CompletionItemKind::VALUE)));
        }
        return items;
    }
    let Some(version) = version else {
        return items;
    };
    let keys = written_inputs(version)
        .filter(|i| !call.keys_before.iter().any(|k| k == i.name))
        .map(|i| {
            let default = i
                .default
                .and_then(default_text)
                .map(|d| format!(" = {d}"))
                .unwrap_or_default();
            let note = docs::input_note(&call.kind, i.name).unwrap_or_default();
            CompletionItem {
                label: i.name.into(),
                kind: Some(CompletionItemKind::FIELD),
                detail: Some(format!("{}{default}", input_type(i))),
                label_details: Some(CompletionItemLabelDetails {
                    detail: Some(if i.optional { "?".into() } else { String::new() }),
                    description: Some(input_type(i)),
                }),
                documentation: (!note.is_empty()).then(|| Documentation::String(note.into())),
                insert_text: Some(format!("{} = ", i.name)),
                sort_text: Some(format!("{}{}", u8::from(i.optional), i.name)),
                ..CompletionItem::default()
            }
        });
    let mut out: Vec<CompletionItem> = keys.collect();
    out.append(&mut items);
    out
}

/// Values defined before `offset` in its function whose dtype `accepts`, nearest first.
fn values_in_scope(m: &Model, offset: u32, accepts: impl Fn(Option<DType>) -> bool) -> Vec<CompletionItem> {
    let Some(fi) = m.map.functions.iter().position(|s| s.whole.contains(offset)) else {
        return Vec::new();
    };
    let (f, spans) = (&m.program.functions[fi], &m.map.functions[fi]);
    let whole = |op: mil_ir::OpId| spans.ops.get(op.index()).map_or(Span::default(), |s| s.whole);
    let mut visible: Vec<(u32, ValueId)> = f
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let def = spans.values.get(i)?.name;
            let ok = match v.def {
                ValueDef::Param(_) => true,
                ValueDef::BlockParam(..) => def.start < offset,
                ValueDef::Result(op, _) => whole(op).end < offset,
            };
            (ok && accepts(v.ty.dtype()) && f.lookup(&v.name) == Some(ValueId(i as u32)))
                .then_some((def.start, ValueId(i as u32)))
        })
        .collect();
    visible.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
    visible
        .into_iter()
        .take(MAX_VALUES)
        .enumerate()
        .map(|(rank, (_, id))| {
            let v = f.value(id);
            CompletionItem {
                label: v.name.to_string(),
                kind: Some(CompletionItemKind::VARIABLE),
                detail: Some(v.ty.to_string()),
                sort_text: Some(format!("2{rank:05}")),
                ..CompletionItem::default()
            }
        })
        .collect()
}
