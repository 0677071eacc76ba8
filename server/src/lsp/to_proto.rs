//! The answers of the `ide` features in the protocol's types: byte spans become ranges in the
//! negotiated encoding, the features' own enums become LSP's.

use crate::lsp::commands;
use crate::lsp::config::Config;
use crate::lsp::model::Model;
use crate::lsp::server::Ctx;
use mil_ide::code_actions;
use mil_ide::code_lens::{self, LensCommand};
use mil_ide::completion::{self, Insert};
use mil_ide::folding::{Fold, FoldKind};
use mil_ide::hover::HoverResult;
use mil_ide::inlay_hints;
use mil_ide::position::LineCursor;
use mil_ide::position::{self, Encoding};
use mil_ide::semantic_tokens::{self, TokenKind};
use mil_ide::signature_help::Signature;
use mil_ide::symbols::{Symbol, SymbolKind};
use mil_ide::text_edit;
use mil_ir::Severity;
use mil_ir::Span;
use ropey::Rope;
use serde_json::json;
use std::collections::HashMap;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeDescription, CodeLens, Command, CompletionItem, CompletionItemKind,
    CompletionItemLabelDetails, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag,
    DocumentSymbol, Documentation, FoldingRange, FoldingRangeKind, Hover, HoverContents, InlayHint,
    InlayHintKind, InlayHintLabel, InlayHintTooltip, InsertTextFormat, Location, MarkupContent, MarkupKind,
    NumberOrString, ParameterInformation, ParameterLabel, Position, PositionEncodingKind, Range,
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensLegend,
    SignatureHelp, SignatureInformation, SymbolKind as LspSymbolKind, TextEdit, Uri, WorkspaceEdit,
};

/// A position.
pub fn position(p: position::Position) -> Position {
    Position::new(p.line, p.character)
}

/// The range of a byte span of `rope`.
pub fn range(rope: &Rope, span: Span, enc: Encoding) -> Range {
    let r = position::range(rope, span, enc);
    Range::new(position(r.start), position(r.end))
}

/// How the server counts columns, as its capabilities announce it.
pub fn encoding(enc: Encoding) -> PositionEncodingKind {
    match enc {
        Encoding::Utf16 => PositionEncodingKind::UTF16,
        Encoding::Utf8 => PositionEncodingKind::UTF8,
    }
}

/// A span of the document as a location.
pub fn location(m: &Model, cx: &Ctx, span: Span) -> Location {
    Location::new(cx.uri.clone(), cx.range(m, span))
}

/// An edit of the document.
pub fn text_edit(m: &Model, cx: &Ctx, edit: text_edit::TextEdit) -> TextEdit {
    TextEdit::new(cx.range(m, edit.span), edit.text)
}

/// Edits of the document as a workspace edit.
pub fn workspace_edit(m: &Model, cx: &Ctx, edits: Vec<text_edit::TextEdit>) -> WorkspaceEdit {
    let edits = edits.into_iter().map(|e| text_edit(m, cx, e)).collect();
    WorkspaceEdit {
        changes: Some(HashMap::from([(cx.uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

/// A hover, in Markdown when the client shows it.
pub fn hover(m: &Model, cx: &Ctx, h: HoverResult) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: if cx.caps.markdown {
                MarkupKind::Markdown
            } else {
                MarkupKind::PlainText
            },
            value: h.markdown,
        }),
        range: Some(cx.range(m, h.span)),
    }
}

/// A completion.
pub fn completion_item(item: completion::CompletionItem) -> CompletionItem {
    use completion::CompletionItemKind as K;
    let (insert_text, insert_text_format) = match item.insert {
        Some(Insert::Text(t)) => (Some(t), None),
        Some(Insert::Snippet(t)) => (Some(t), Some(InsertTextFormat::SNIPPET)),
        None => (None, None),
    };
    let label_details =
        (item.label_detail.is_some() || item.description.is_some()).then_some(CompletionItemLabelDetails {
            detail: item.label_detail,
            description: item.description,
        });
    CompletionItem {
        label: item.label,
        kind: Some(match item.kind {
            K::Keyword => CompletionItemKind::KEYWORD,
            K::Dtype => CompletionItemKind::TYPE_PARAMETER,
            K::Literal => CompletionItemKind::VALUE,
            K::Snippet => CompletionItemKind::SNIPPET,
            K::Op => CompletionItemKind::FUNCTION,
            K::InputKey => CompletionItemKind::FIELD,
            K::Value => CompletionItemKind::VARIABLE,
        }),
        detail: item.detail,
        label_details,
        documentation: item.documentation.map(Documentation::String),
        insert_text,
        insert_text_format,
        sort_text: item.sort_text,
        ..CompletionItem::default()
    }
}

/// Signature help with its one signature.
pub fn signature_help(s: Signature) -> SignatureHelp {
    let parameters = s
        .parameters
        .into_iter()
        .map(|p| ParameterInformation {
            label: ParameterLabel::LabelOffsets(p.label),
            documentation: p.documentation.map(Documentation::String),
        })
        .collect();
    SignatureHelp {
        signatures: vec![SignatureInformation {
            label: s.label,
            documentation: s.documentation.map(|value| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::PlainText,
                    value,
                })
            }),
            parameters: Some(parameters),
            active_parameter: s.active_parameter,
        }],
        active_signature: Some(0),
        active_parameter: s.active_parameter,
    }
}

/// An inlay hint: a parameter name is padded on its right, a device on its left.
pub fn inlay_hint(m: &Model, cx: &Ctx, h: inlay_hints::InlayHint) -> InlayHint {
    let parameter = h.kind == inlay_hints::InlayHintKind::Parameter;
    InlayHint {
        position: cx.range(m, Span::new(h.offset as usize, h.offset as usize)).start,
        label: InlayHintLabel::String(h.label),
        kind: parameter.then_some(InlayHintKind::PARAMETER),
        text_edits: None,
        tooltip: h.tooltip.map(InlayHintTooltip::String),
        padding_left: (!parameter).then_some(true),
        padding_right: parameter.then_some(true),
        data: None,
    }
}

/// A code lens; its command, if any, gets the document's URI as its argument.
pub fn code_lens(m: &Model, cx: &Ctx, lens: code_lens::CodeLens) -> CodeLens {
    let (command, arguments) = match lens.command {
        Some(LensCommand::Compile) => (commands::COMPILE, Some(vec![json!(cx.uri.as_str())])),
        Some(LensCommand::PlacementReport) => {
            (commands::PLACEMENT_REPORT, Some(vec![json!(cx.uri.as_str())]))
        }
        None => ("", None),
    };
    CodeLens {
        range: cx.range(m, lens.span),
        command: Some(Command {
            title: lens.title,
            command: command.to_string(),
            arguments,
        }),
        data: None,
    }
}

/// The kind of the action that applies every helpful ANE rewrite.
pub const FIX_ALL_ANE: &str = "source.fixAll.ane";

/// The kind of the actions that quantise the whole document.
pub const SOURCE_QUANTIZE: &str = "source.quantize";

/// A code action with its edits and the diagnostic it fixes.
pub fn code_action(m: &Model, cx: &Ctx, a: code_actions::CodeAction) -> CodeAction {
    let diagnostics = a
        .fixes
        .and_then(|d| diagnostic(&m.rope, cx.uri, cx.config, cx.enc, &d))
        .map(|d| vec![d]);
    // A quantisation is computed, and its weights written, when it is chosen.
    let command = a.command.map(|c| Command {
        title: a.title.clone(),
        command: crate::lsp::commands::QUANTIZE.into(),
        arguments: Some(vec![serde_json::json!({
            "uri": cx.uri.as_str(),
            "mode": c.mode.name(),
            "weight": c.weight,
        })]),
    });
    CodeAction {
        title: a.title,
        kind: Some(action_kind(a.kind)),
        diagnostics,
        edit: command.is_none().then(|| workspace_edit(m, cx, a.edits)),
        command,
        is_preferred: a.preferred.then_some(true),
        ..CodeAction::default()
    }
}

/// The protocol's name of an action kind.
fn action_kind(kind: code_actions::CodeActionKind) -> CodeActionKind {
    match kind {
        code_actions::CodeActionKind::QuickFix => CodeActionKind::QUICKFIX,
        code_actions::CodeActionKind::FixAll => CodeActionKind::SOURCE_FIX_ALL,
        code_actions::CodeActionKind::FixAllAne => CodeActionKind::new(FIX_ALL_ANE),
        code_actions::CodeActionKind::RefactorRewrite => CodeActionKind::REFACTOR_REWRITE,
        code_actions::CodeActionKind::SourceQuantize => CodeActionKind::new(SOURCE_QUANTIZE),
    }
}

/// Whether a client that asks for the kinds `only` wants actions of `kind`: one of those kinds or
/// a sub-kind of one. A request that names no kind (an editor's light bulb, at every cursor move)
/// gets every kind but the whole document's ANE rewrites, which cost a placement per rewritten op,
/// and its quantisations; both are offered when the client asks for source actions.
pub fn wants(only: Option<&[CodeActionKind]>, kind: code_actions::CodeActionKind) -> bool {
    let name = action_kind(kind);
    match only {
        None => !matches!(
            kind,
            code_actions::CodeActionKind::FixAllAne | code_actions::CodeActionKind::SourceQuantize
        ),
        Some(kinds) => kinds
            .iter()
            .any(|k| name.as_str() == k.as_str() || name.as_str().starts_with(&format!("{}.", k.as_str()))),
    }
}

/// The model's diagnostics as the client should show them ([`mil_ide::diagnostics::diagnostics`]).
pub fn diagnostics(model: &Model, uri: &Uri, config: &Config, enc: Encoding) -> Vec<Diagnostic> {
    mil_ide::diagnostics::diagnostics(model, config)
        .iter()
        .filter_map(|d| diagnostic(&model.rope, uri, config, enc, d))
        .collect()
}

/// One diagnostic as the client shows it (`None` when its code is turned off).
pub fn diagnostic(
    rope: &Rope,
    uri: &Uri,
    config: &Config,
    enc: Encoding,
    d: &mil_ir::Diagnostic,
) -> Option<Diagnostic> {
    let severity = config.severity(d.code.id, d.severity)?;
    let related = d
        .related
        .iter()
        .map(|r| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), range(rope, r.span, enc)),
            message: r.message.clone(),
        })
        .collect::<Vec<_>>();
    let href = mil_ide::diagnostics::documentation(d.code, config).parse().ok();
    Some(Diagnostic {
        range: range(rope, d.span, enc),
        severity: Some(match severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Information => DiagnosticSeverity::INFORMATION,
            Severity::Hint => DiagnosticSeverity::HINT,
        }),
        code: Some(NumberOrString::String(d.code.id.to_string())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some("mil".into()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: mil_ide::diagnostics::is_deprecated(d.code).then(|| vec![DiagnosticTag::DEPRECATED]),
        data: None,
    })
}

/// The token types of the legend, in the order of [`TokenKind::ALL`].
const TOKEN_TYPES: [SemanticTokenType; 7] = [
    SemanticTokenType::FUNCTION,
    SemanticTokenType::METHOD,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::TYPE,
    SemanticTokenType::NAMESPACE,
];

/// The legend announced in the capabilities: the token types above, and the modifiers in the
/// order of their bits ([`semantic_tokens::DECLARATION`], [`semantic_tokens::DEFAULT_LIBRARY`]).
pub fn semantic_tokens_legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TOKEN_TYPES.to_vec(),
        token_modifiers: vec![
            SemanticTokenModifier::DECLARATION,
            SemanticTokenModifier::DEFAULT_LIBRARY,
        ],
    }
}

/// Tokens as the protocol encodes them: each relative to the one before. A token over several
/// lines, or starting inside the one before, is left out.
pub fn semantic_tokens(m: &Model, cx: &Ctx, tokens: Vec<semantic_tokens::SemanticToken>) -> SemanticTokens {
    let mut data = Vec::with_capacity(tokens.len());
    let (mut line, mut col) = (0u32, 0u32);
    let mut last_end = 0u32;
    // The tokens come in order, so their positions are found line by line.
    let mut cursor = LineCursor::new(&m.rope, cx.enc);
    for t in tokens {
        if t.span.start < last_end {
            continue;
        }
        let start = position(cursor.position(t.span.start as usize));
        let end = position(cursor.position(t.span.end as usize));
        if end.line != start.line {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 {
            start.character - col
        } else {
            start.character
        };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: TokenKind::ALL.iter().position(|&k| k == t.kind).unwrap_or(0) as u32,
            token_modifiers_bitset: t.modifiers,
        });
        (line, col, last_end) = (start.line, start.character, t.span.end);
    }
    SemanticTokens {
        result_id: None,
        data,
    }
}

/// A fold.
pub fn folding_range(fold: Fold) -> FoldingRange {
    FoldingRange {
        start_line: fold.start_line,
        end_line: fold.end_line,
        kind: match fold.kind {
            FoldKind::Region => Some(FoldingRangeKind::Region),
            FoldKind::Statement => None,
            FoldKind::Comment => Some(FoldingRangeKind::Comment),
        },
        ..FoldingRange::default()
    }
}

/// The outline; positions are found line by line, as the symbols come in text order.
pub fn document_symbols(m: &Model, cx: &Ctx, symbols: Vec<Symbol>) -> Vec<DocumentSymbol> {
    let mut cursor = LineCursor::new(&m.rope, cx.enc);
    symbols
        .into_iter()
        .map(|s| document_symbol(&mut cursor, s))
        .collect()
}

fn document_symbol(cursor: &mut LineCursor, s: Symbol) -> DocumentSymbol {
    let (r, selection) = (cursor.range(s.span), cursor.range(s.selection));
    let range = Range::new(position(r.start), position(r.end));
    let selection_range = Range::new(position(selection.start), position(selection.end));
    let children: Vec<DocumentSymbol> = s
        .children
        .into_iter()
        .map(|c| document_symbol(cursor, c))
        .collect();
    #[allow(deprecated)]
    DocumentSymbol {
        name: s.name,
        detail: Some(s.detail),
        kind: match s.kind {
            SymbolKind::Function => LspSymbolKind::FUNCTION,
            SymbolKind::Constant => LspSymbolKind::CONSTANT,
            SymbolKind::Operator => LspSymbolKind::OPERATOR,
        },
        tags: None,
        deprecated: None,
        range,
        selection_range,
        children: (s.kind == SymbolKind::Function || !children.is_empty()).then_some(children),
    }
}
