//! Completion, from the lexical context of the cursor (so it works while a statement is being
//! typed): inside an op's argument list, the input keys not given yet (with types and defaults) and
//! the values in scope whose dtype the input accepts; after `=`, the ops of the function's opset;
//! inside `<...>`, dtypes; at the start of a statement, a whole-statement snippet and the types.

use crate::config::Config;
use crate::context::{self, Call};
use crate::model::Model;
use crate::signature_help::{default_text, input_type, opset_at, outputs_text, written_inputs};
use mil_ir::catalogue::{self, Opset, docs};
use mil_ir::{DType, Span, ValueDef, ValueId};

/// One completion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompletionItem {
    /// What is offered.
    pub label: String,
    /// What it is.
    pub kind: CompletionItemKind,
    /// More about it (a value's type, an input's type and default).
    pub detail: Option<String>,
    /// Shown right after the label (an op's required inputs, `?` for an optional input).
    pub label_detail: Option<String>,
    /// Shown at the end of the line (an op's outputs, an input's type).
    pub description: Option<String>,
    /// Its documentation, in plain text.
    pub documentation: Option<String>,
    /// What is inserted, when it is not the label.
    pub insert: Option<Insert>,
    /// The key it is sorted by, when it is not the label.
    pub sort_text: Option<String>,
}

/// What a completion is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CompletionItemKind {
    /// A word of the language (`tensor`).
    #[default]
    Keyword,
    /// A dtype.
    Dtype,
    /// A literal (`true`).
    Literal,
    /// A statement template.
    Snippet,
    /// An op.
    Op,
    /// An input key of an op.
    InputKey,
    /// A value in scope.
    Value,
}

/// The text a completion inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Insert {
    /// Plain text.
    Text(String),
    /// A snippet with `${1:placeholders}`.
    Snippet(String),
}

/// At most this many values in scope are offered, nearest definitions first.
const MAX_VALUES: usize = 300;

/// The completions at `offset`; with `snippets`, ops and a whole statement come as snippets.
pub fn complete(m: &Model, config: &Config, snippets: bool, offset: u32) -> Vec<CompletionItem> {
    let prefix = context::statement_prefix(m, offset);
    if let Some(call) = context::call_at(&prefix) {
        return in_call(m, config, offset, &call);
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
        return ops(m, config, snippets, offset);
    }
    if trimmed.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        let mut items = statement_snippet(snippets);
        items.extend(
            ["tensor", "state", "list", "tuple", "dict"].map(|t| keyword(t, CompletionItemKind::Keyword)),
        );
        items.extend(dtypes());
        return items;
    }
    Vec::new()
}

fn keyword(label: &str, kind: CompletionItemKind) -> CompletionItem {
    CompletionItem {
        label: label.into(),
        kind,
        ..CompletionItem::default()
    }
}

fn dtypes() -> Vec<CompletionItem> {
    DType::ALL
        .iter()
        .map(|d| keyword(d.name(), CompletionItemKind::Dtype))
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

fn statement_snippet(snippets: bool) -> Vec<CompletionItem> {
    if !snippets {
        return Vec::new();
    }
    vec![CompletionItem {
        label: "statement".into(),
        kind: CompletionItemKind::Snippet,
        detail: Some("TYPE name = op(key = value)[name = string(\"name\")];".into()),
        insert: Some(Insert::Snippet(
            "${1:tensor<fp16, [1]>} ${2:y} = ${3:relu}(${4:x = x})[name = string(\"${2:y}\")];".into(),
        )),
        ..CompletionItem::default()
    }]
}

fn ops(m: &Model, config: &Config, snippets: bool, offset: u32) -> Vec<CompletionItem> {
    let Some(opset) = Opset::parse(opset_at(m, config, offset, None)) else {
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
                kind: CompletionItemKind::Op,
                label_detail: Some(format!("({})", required.join(", "))),
                description: Some(outputs_text(v)),
                documentation: docs::summary(v.name).map(String::from),
                insert: snippets.then(|| Insert::Snippet(format!("{}({snippet})", v.name))),
                ..CompletionItem::default()
            }
        })
        .collect()
}

fn in_call(m: &Model, config: &Config, offset: u32, call: &Call) -> Vec<CompletionItem> {
    let version = catalogue::lookup(&call.kind, opset_at(m, config, offset, call.opset.as_deref())).ok();
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
            items.extend(["true", "false"].map(|w| keyword(w, CompletionItemKind::Literal)));
        }
        return items;
    }
    let Some(version) = version else {
        return items;
    };
    let keys = written_inputs(version)
        .filter(|i| !call.keys_before.iter().any(|k| k == i.name))
        .map(|i| {
            let default = i.default.and_then(default_text).unwrap_or_default();
            let note = docs::input_note(&call.kind, i.name).unwrap_or_default();
            CompletionItem {
                label: i.name.into(),
                kind: CompletionItemKind::InputKey,
                detail: Some(format!("{}{default}", input_type(i))),
                label_detail: Some(if i.optional { "?".into() } else { String::new() }),
                description: Some(input_type(i)),
                documentation: (!note.is_empty()).then(|| note.into()),
                insert: Some(Insert::Text(format!("{} = ", i.name))),
                sort_text: Some(format!("{}{}", u8::from(i.optional), i.name)),
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
                kind: CompletionItemKind::Value,
                detail: Some(v.ty.to_string()),
                sort_text: Some(format!("2{rank:05}")),
                ..CompletionItem::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, model};
    use expect_test::expect;

    /// The completions at the end of `typed`, typed in place of statement `a` of [`TEXT`], one a
    /// line: label, kind, detail, label detail, description, insert text, sort key.
    fn offered(typed: &str, snippets: bool, first: usize) -> String {
        let line = "relu(x = x)[name = string(\"a\")];";
        let at = TEXT.find(line).unwrap() - "tensor<fp16, [1, 4]> a = ".len();
        let text = format!(
            "{}{typed}\n{}",
            &TEXT[..at],
            &TEXT[at + TEXT[at..].find('\n').unwrap() + 1..]
        );
        let items = complete(
            &model(&text),
            &Config::default(),
            snippets,
            (at + typed.len()) as u32,
        );
        let mut out: Vec<String> = items
            .iter()
            .take(first)
            .map(|i| {
                let insert = match &i.insert {
                    Some(Insert::Text(t)) => format!("text {t:?}"),
                    Some(Insert::Snippet(t)) => format!("snippet {t:?}"),
                    None => "-".into(),
                };
                format!(
                    "{} {:?} {} {} {} {insert} {}",
                    i.label,
                    i.kind,
                    i.detail.as_deref().unwrap_or("-"),
                    i.label_detail.as_deref().unwrap_or("-"),
                    i.description.as_deref().unwrap_or("-"),
                    i.sort_text.as_deref().unwrap_or("-"),
                )
            })
            .collect();
        out.push(format!("({} in all)", items.len()));
        out.join("\n")
    }

    #[test]
    fn inside_a_call_the_keys_not_given_then_the_values_that_fit() {
        expect![[r#"
            y InputKey tensor<fp16|fp32|int32>  tensor<fp16|fp32|int32> text "y = " 0y
            x Value tensor<fp16, [1, 4]> - - - 200000
            (2 in all)"#]]
        .assert_eq(&offered("tensor<fp16, [1, 4]> a = mul(x = x, ", true, 8));
        expect![[r#"
            true Literal - - - - -
            false Literal - - - - -
            (2 in all)"#]]
        .assert_eq(&offered("tensor<fp16, [1, 4]> a = logical_not(x = ", true, 8));
    }

    #[test]
    fn after_the_equals_sign_the_ops_of_the_opset() {
        expect![[r#"
            abs Op - (x) 1 output snippet "abs(x = ${1})" -
            acos Op - (x) 1 output snippet "acos(x = ${1})" -
            add Op - (x, y) 1 output snippet "add(x = ${1}, y = ${2})" -
            (170 in all)"#]]
        .assert_eq(&offered("tensor<fp16, [1, 4]> a = ", true, 3));
        expect![[r#"
            abs Op - (x) 1 output - -
            (170 in all)"#]]
        .assert_eq(&offered("tensor<fp16, [1, 4]> a = ", false, 1));
    }

    #[test]
    fn at_the_start_of_a_statement_a_template_types_and_dtypes() {
        expect![[r#"
            statement Snippet TYPE name = op(key = value)[name = string("name")]; - - snippet "${1:tensor<fp16, [1]>} ${2:y} = ${3:relu}(${4:x = x})[name = string(\"${2:y}\")];" -
            tensor Keyword - - - - -
            state Keyword - - - - -
            (28 in all)"#]]
        .assert_eq(&offered("", true, 3));
        expect![[r#"
            bool Dtype - - - - -
            string Dtype - - - - -
            (22 in all)"#]]
        .assert_eq(&offered("tensor<", false, 2));
    }
}
