//! Semantic tokens from the source map: functions, op kinds, values (parameters and results, with
//! their definitions marked), argument and attribute keys, types and opsets. Literals and
//! punctuation are left to the editor's syntax grammar.

use crate::lsp::model::Model;
use crate::lsp::position;
use crate::lsp::server::Ctx;
use mil_ir::{Operand, Span, ValueDef};
use tower_lsp_server::ls_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensLegend,
};

/// Token types, in legend order.
const TYPES: [SemanticTokenType; 7] = [
    SemanticTokenType::FUNCTION,
    SemanticTokenType::METHOD,
    SemanticTokenType::PARAMETER,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::TYPE,
    SemanticTokenType::NAMESPACE,
];
const FUNCTION: u32 = 0;
const OP_KIND: u32 = 1;
const PARAMETER: u32 = 2;
const VARIABLE: u32 = 3;
const KEY: u32 = 4;
const TYPE: u32 = 5;
const OPSET: u32 = 6;
/// Modifier bits, in legend order.
const DECLARATION: u32 = 1;
const DEFAULT_LIBRARY: u32 = 2;

/// The legend announced in the capabilities.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: vec![
            SemanticTokenModifier::DECLARATION,
            SemanticTokenModifier::DEFAULT_LIBRARY,
        ],
    }
}

/// The tokens of the document, or of those inside `range`.
pub fn tokens(m: &Model, cx: &Ctx, range: Option<Span>) -> SemanticTokens {
    let mut raw: Vec<(Span, u32, u32)> = Vec::new();
    for (f, spans) in m.program.functions.iter().zip(&m.map.functions) {
        if range.is_some_and(|r| spans.whole.end < r.start || spans.whole.start > r.end) {
            continue;
        }
        raw.push((spans.name, FUNCTION, DECLARATION));
        raw.push((spans.opset, OPSET, 0));
        let value_type = |id: mil_ir::ValueId| match f.value(id).def {
            ValueDef::Param(_) | ValueDef::BlockParam(..) => PARAMETER,
            ValueDef::Result(..) => VARIABLE,
        };
        for (i, v) in spans.values.iter().enumerate() {
            let id = mil_ir::ValueId(i as u32);
            raw.push((v.ty, TYPE, 0));
            raw.push((v.name, value_type(id), DECLARATION));
        }
        for (op, s) in f.ops.iter().zip(&spans.ops) {
            if range.is_some_and(|r| s.whole.end < r.start || s.whole.start > r.end) {
                continue;
            }
            let known = mil_ir::catalogue::op(&op.kind).is_some();
            raw.push((s.kind, OP_KIND, if known { DEFAULT_LIBRARY } else { 0 }));
            if let Some(o) = s.opset {
                raw.push((o, OPSET, 0));
            }
            for (a, sa) in op.args.iter().zip(&s.args) {
                if let Some(k) = sa.key {
                    raw.push((k, KEY, 0));
                }
                let values: Vec<(Option<mil_ir::ValueId>, Span)> = match &a.value {
                    Operand::Value(r) => vec![(r.id, sa.value)],
                    Operand::Tuple(items) => items
                        .iter()
                        .zip(&sa.items)
                        .filter_map(|(o, s)| match o {
                            Operand::Value(r) => Some((r.id, *s)),
                            _ => None,
                        })
                        .collect(),
                    Operand::Const(_) => Vec::new(),
                };
                for (id, span) in values {
                    raw.push((span, id.map_or(VARIABLE, value_type), 0));
                }
            }
            for a in &s.attributes {
                raw.push((a.key, KEY, 0));
            }
        }
        for (b, bs) in f.blocks.iter().zip(&spans.blocks) {
            for (r, span) in b.outputs.iter().zip(&bs.outputs) {
                raw.push((*span, r.id.map_or(VARIABLE, value_type), 0));
            }
        }
    }
    raw.retain(|(s, _, _)| s.end > s.start && range.is_none_or(|r| s.end >= r.start && s.start <= r.end));
    raw.sort_by_key(|(s, _, _)| (s.start, s.end));
    raw.dedup_by_key(|(s, _, _)| s.start);
    let mut data = Vec::with_capacity(raw.len());
    let (mut line, mut col) = (0u32, 0u32);
    let mut last_end = 0u32;
    // The tokens come in order, so their positions are found line by line.
    let mut cursor = position::LineCursor::new(&m.rope, cx.enc);
    for (span, kind, mods) in raw {
        if span.start < last_end {
            continue;
        }
        let start = cursor.position(span.start as usize);
        let end = cursor.position(span.end as usize);
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
            token_type: kind,
            token_modifiers_bitset: mods,
        });
        (line, col, last_end) = (start.line, start.character, span.end);
    }
    SemanticTokens {
        result_id: None,
        data,
    }
}
