//! Semantic tokens from the source map: functions, op kinds, values (parameters and results, with
//! their definitions marked), argument and attribute keys, types and opsets. Literals and
//! punctuation are left to the editor's syntax grammar.

use crate::model::Model;
use mil_ir::{Span, ValueDef};

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A function's name.
    Function,
    /// An op kind (`relu`).
    OpKind,
    /// A function's or block's parameter.
    Parameter,
    /// An op's result.
    Variable,
    /// An argument or attribute key.
    Key,
    /// A type.
    Type,
    /// An opset (`ios18`).
    Opset,
}

impl TokenKind {
    /// Every kind.
    pub const ALL: [TokenKind; 7] = [FUNCTION, OP_KIND, PARAMETER, VARIABLE, KEY, TYPE, OPSET];
}

const FUNCTION: TokenKind = TokenKind::Function;
const OP_KIND: TokenKind = TokenKind::OpKind;
const PARAMETER: TokenKind = TokenKind::Parameter;
const VARIABLE: TokenKind = TokenKind::Variable;
const KEY: TokenKind = TokenKind::Key;
const TYPE: TokenKind = TokenKind::Type;
const OPSET: TokenKind = TokenKind::Opset;
/// The modifier bit of a token that defines what it names.
pub const DECLARATION: u32 = 1;
/// The modifier bit of an op kind the op catalogue knows.
pub const DEFAULT_LIBRARY: u32 = 2;

/// One token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    /// Its text.
    pub span: Span,
    /// What it is.
    pub kind: TokenKind,
    /// Its modifiers: [`DECLARATION`], [`DEFAULT_LIBRARY`].
    pub modifiers: u32,
}

/// The tokens of the document, or of those inside `range`, in text order, no two at one offset.
pub fn tokens(m: &Model, range: Option<Span>) -> Vec<SemanticToken> {
    let mut raw: Vec<(Span, TokenKind, u32)> = Vec::new();
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
                for (item, r) in a.value.values() {
                    let span = match item {
                        Some(i) => sa.items.get(i as usize).copied(),
                        None => Some(sa.value),
                    };
                    if let Some(span) = span {
                        raw.push((span, r.id.map_or(VARIABLE, value_type), 0));
                    }
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
    raw.into_iter()
        .map(|(span, kind, modifiers)| SemanticToken {
            span,
            kind,
            modifiers,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{TEXT, excerpts, model};
    use expect_test::expect;

    fn listed(text: &str, range: Option<Span>) -> String {
        tokens(&model(text), range)
            .iter()
            .map(|t| {
                format!(
                    "{} {:?} {}\n",
                    excerpts(text, &[t.span]).trim_end(),
                    t.kind,
                    t.modifiers
                )
            })
            .collect()
    }

    #[test]
    fn names_ops_keys_types_and_opsets_are_classified() {
        expect![[r#"
            2:9 "main" Function 1
            2:14 "ios18" Opset 0
            2:21 "tensor<fp16, [1, 4]>" Type 0
            2:42 "x" Parameter 1
            3:12 "tensor<fp16, [1, 4]>" Type 0
            3:33 "a" Variable 1
            3:37 "relu" OpKind 2
            3:42 "x" Key 0
            3:46 "x" Parameter 0
            3:49 "name" Key 0
            4:12 "tensor<fp16, [1, 4]>" Type 0
            4:33 "b" Variable 1
            4:37 "mul" OpKind 2
            4:41 "x" Key 0
            4:45 "a" Variable 0
            4:48 "y" Key 0
            4:52 "x" Parameter 0
            4:55 "name" Key 0
            5:12 "tensor<fp16, [1, 4]>" Type 0
            5:33 "c" Variable 1
            5:37 "add" OpKind 2
            5:41 "x" Key 0
            5:45 "b" Variable 0
            5:48 "y" Key 0
            5:52 "a" Variable 0
            5:55 "name" Key 0
            6:14 "c" Variable 0
        "#]]
        .assert_eq(&listed(TEXT, None));
        let line = TEXT.find("b = mul").unwrap();
        expect![[r#"
            4:33 "b" Variable 1
            4:37 "mul" OpKind 2
            4:41 "x" Key 0
        "#]]
        .assert_eq(&listed(TEXT, Some(Span::new(line, line + 10))));
    }
}
