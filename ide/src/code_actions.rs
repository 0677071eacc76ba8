//! Code actions: quick fixes that rewrite a statement written in a lenient form (MIL0102–MIL0107)
//! into the compiler's form, and a fix-all that formats the document.
//!
//! Actions come from the providers in [`PROVIDERS`]; ANE rewrites add theirs there.

use crate::lsp::diagnostics;
use crate::lsp::formatting::{self, Indentation};
use crate::lsp::locate;
use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use mil_ir::{Span, codes};
use std::collections::HashMap;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, TextEdit, Uri, WorkspaceEdit,
};

/// Something that offers code actions for a range.
type Provider = fn(&Model, &Ctx, Span) -> Vec<CodeAction>;

/// The providers, in the order their actions are listed.
const PROVIDERS: &[Provider] = &[lenient_form_fixes, fix_all];

/// The lenient-form codes and what their fix does.
const FIXES: &[(mil_ir::Code, &str)] = &[
    (codes::MISSING_NAME, "Name the operation"),
    (codes::POSITIONAL_ARGUMENT, "Write the argument keys"),
    (codes::BARE_LITERAL, "Write the literal's type"),
    (codes::FLAT_TENSOR_LITERAL, "Nest the tensor literal by its shape"),
    (codes::SCALAR_FOR_TENSOR, "Write the constant out in full"),
    (codes::DECIMAL_FLOAT, "Write the floats as hex floats"),
];

/// The actions for `range`, limited to the kinds in `only` when given.
pub fn code_actions(
    m: &Model,
    cx: &Ctx,
    range: Span,
    only: Option<&[CodeActionKind]>,
) -> Vec<CodeActionOrCommand> {
    PROVIDERS
        .iter()
        .flat_map(|p| p(m, cx, range))
        .filter(|a| {
            only.is_none_or(|kinds| {
                let kind = a.kind.as_ref().map_or("", |k| k.as_str());
                kinds
                    .iter()
                    .any(|k| kind == k.as_str() || kind.starts_with(&format!("{}.", k.as_str())))
            })
        })
        .map(CodeActionOrCommand::CodeAction)
        .collect()
}

fn edit(uri: &Uri, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

/// One quick fix per lenient-form diagnostic overlapping `range`: the statement in canonical form.
fn lenient_form_fixes(m: &Model, cx: &Ctx, range: Span) -> Vec<CodeAction> {
    let first = m.diagnostics.partition_point(|d| d.span.end < range.start);
    m.diagnostics[first..]
        .iter()
        .take_while(|d| d.span.start <= range.end)
        .filter(|d| d.span.end >= range.start)
        .filter_map(|d| {
            let title = FIXES.iter().find(|(c, _)| *c == d.code)?.1;
            let fi = m
                .map
                .functions
                .iter()
                .position(|s| s.whole.contains(d.span.start))?;
            let (f, spans) = (&m.program.functions[fi], &m.map.functions[fi]);
            let op = locate::innermost(f, spans, d.span.start).1?;
            let (span, text) = formatting::canonical_statement(m, fi, op, Indentation::Keep)?;
            let diagnostic = diagnostics::one(m, d, cx.uri, cx.config, cx.enc);
            Some(CodeAction {
                title: format!("{title} ({})", d.code.id),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: diagnostic.map(|d| vec![d]),
                edit: Some(edit(cx.uri, vec![TextEdit::new(cx.range(m, span), text)])),
                is_preferred: Some(true),
                ..CodeAction::default()
            })
        })
        .collect()
}

/// Formats the whole document when it has any lenient form.
fn fix_all(m: &Model, cx: &Ctx, _: Span) -> Vec<CodeAction> {
    if !m
        .diagnostics
        .iter()
        .any(|d| FIXES.iter().any(|(c, _)| *c == d.code))
    {
        return Vec::new();
    }
    let Some(edits) = formatting::format(m, cx, None) else {
        return Vec::new();
    };
    vec![CodeAction {
        title: "Rewrite every lenient form in compiler form (mil fmt)".into(),
        kind: Some(CodeActionKind::SOURCE_FIX_ALL),
        edit: Some(edit(cx.uri, edits)),
        ..CodeAction::default()
    }]
}
