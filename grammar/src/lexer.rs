//! The tokens of MIL text, produced by a logos lexer.
//!
//! Comments and characters that form no token are taken out of the stream here: comments are
//! kept aside for the formatter, and bad characters become diagnostics, so the grammar only ever
//! sees well-formed tokens.

use logos::Logos;
use mil_ir::{Diagnostic, Span, codes};
use std::cell::RefCell;
use std::rc::Rc;

/// A token kind. Tokens carry no text; the grammar slices it from the source by span.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Tok {
    /// `program`.
    #[token("program")]
    Program,
    /// `func`.
    #[token("func")]
    Func,
    /// `BLOBFILE`.
    #[token("BLOBFILE")]
    Blobfile,
    /// A whole `tensor<DTYPE, [d0, ...]>` type with plain dims, read as one token for speed (other
    /// type forms go through the grammar).
    #[regex(r"tensor<[ \t]*[a-z0-9]+[ \t]*,[ \t]*\[[0-9?, \t]*\][ \t]*>")]
    TensorType,
    /// A whole scalar literal `DTYPE(value)` (`string("x")`, `uint64(64)`, `fp16(-0x1p-3)`,
    /// `bool(true)`), read as one token for speed.
    #[regex(r#"(bool|string|fp16|fp32|fp64|bf16|int4|int8|int16|int32|int64|uint1|uint2|uint3|uint4|uint6|uint8|uint16|uint32|uint64|fp8e4m3fn|fp8e5m2)\([ \t]*(-?[0-9A-Za-z_.+\-]+|"([^"\\\n]|\\.)*")[ \t]*\)"#)]
    ScalarLit,
    /// An identifier: names, types, dtypes, op kinds, `true`, `inf`.
    #[regex("[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    /// An integer, possibly negative.
    #[regex("-?[0-9]+")]
    Int,
    /// A hex float (`0x1.8p-3`) or a decimal with a point or exponent, possibly negative.
    #[regex(r"-?0[xX][0-9a-fA-F]*(\.[0-9a-fA-F]*)?[pP][+-]?[0-9]+")]
    #[regex(r"-?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")]
    #[regex(r"-?[0-9]+[eE][+-]?[0-9]+")]
    Float,
    /// A string with its quotes.
    #[regex(r#""([^"\\]|\\.)*""#)]
    Str,
    /// A string missing its closing quote (up to the end of the line).
    #[regex(r#""([^"\\\n]|\\.)*"#, priority = 0)]
    UnterminatedStr,
    /// A `//` comment up to the end of the line.
    #[regex(r"//[^\n]*", allow_greedy = true)]
    Comment,
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `<`
    #[token("<")]
    Lt,
    /// `>` (two of them close `dict<..., tensor<...>>`).
    #[token(">")]
    Gt,
    /// `,`
    #[token(",")]
    Comma,
    /// `=`
    #[token("=")]
    Eq,
    /// `;`
    #[token(";")]
    Semi,
    /// `->`
    #[token("->")]
    Arrow,
    /// `-` (before `inf`).
    #[token("-")]
    Minus,
    /// `?`
    #[token("?")]
    Question,
}

/// A token with its byte range, as lalrpop's external-lexer interface wants it.
pub type Spanned = (usize, Tok, usize);

/// A streaming lexer: yields the tokens the grammar sees and sets aside comments and problems,
/// which stay available after the tokens are consumed.
pub struct Lexer<'a> {
    inner: logos::Lexer<'a, Tok>,
    text: &'a str,
    /// The comments met so far, in order (shared with whoever attaches them as parsing goes).
    pub comments: Rc<RefCell<Vec<Span>>>,
    /// Bad characters and unterminated strings met so far.
    pub diagnostics: Vec<Diagnostic>,
    bad: Option<Span>,
    /// How many brackets are open, up to [`MAX_NESTING`].
    depth: usize,
    /// How many opening brackets past [`MAX_NESTING`] were skipped and not yet closed.
    skipped: usize,
}

/// The deepest bracket nesting passed on to the grammar. Lowering, printing and dropping nested
/// literals and types recurse once per level, so deeper nesting could overflow the stack; real
/// MIL nests a handful of levels. Brackets past it are reported once and skipped with their
/// closing brackets, which leaves the statement malformed but every structure shallow.
pub const MAX_NESTING: usize = 128;

impl<'a> Lexer<'a> {
    /// A lexer over `text`.
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            inner: Tok::lexer(text),
            text,
            comments: Rc::default(),
            diagnostics: Vec::new(),
            bad: None,
            depth: 0,
            skipped: 0,
        }
    }

    #[inline]
    fn flush_bad(&mut self) {
        if self.bad.is_none() {
            return;
        }
        if let Some(b) = self.bad.take() {
            self.diagnostics.push(invalid_chars(self.text, b));
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Spanned, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Some(tok) = self.inner.next() else {
                self.flush_bad();
                return None;
            };
            let span = self.inner.span();
            let Ok(tok) = tok else {
                let s = Span::from(span);
                self.bad = Some(self.bad.map_or(s, |b| b.cover(s)));
                continue;
            };
            self.flush_bad();
            match tok {
                Tok::Comment => self.comments.borrow_mut().push(span.into()),
                Tok::UnterminatedStr => {
                    self.diagnostics.push(Diagnostic::new(
                        codes::UNTERMINATED_STRING,
                        span.clone().into(),
                        "this string has no closing `\"` on its line",
                    ));
                    return Some(Ok((span.start, Tok::Str, span.end)));
                }
                Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::Lt if self.depth == MAX_NESTING => {
                    if self.skipped == 0 {
                        self.diagnostics.push(Diagnostic::new(
                            codes::SYNTAX,
                            span.into(),
                            format!(
                                "brackets nested more than {MAX_NESTING} deep; the deeper ones are skipped"
                            ),
                        ));
                    }
                    self.skipped += 1;
                }
                Tok::RParen | Tok::RBracket | Tok::RBrace | Tok::Gt if self.skipped > 0 => self.skipped -= 1,
                t => {
                    match t {
                        Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::Lt => self.depth += 1,
                        Tok::RParen | Tok::RBracket | Tok::RBrace | Tok::Gt => {
                            self.depth = self.depth.saturating_sub(1)
                        }
                        _ => {}
                    }
                    return Some(Ok((span.start, t, span.end)));
                }
            }
        }
    }
}

fn invalid_chars(text: &str, span: Span) -> Diagnostic {
    let shown: String = text[span.range()].chars().take(20).collect();
    Diagnostic::new(
        codes::INVALID_TOKEN,
        span,
        format!("`{}` is not part of MIL text", shown.escape_debug()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok> {
        Lexer::new(text).map(|t| t.unwrap().1).collect()
    }

    #[test]
    fn numbers_and_arrows() {
        use Tok::*;
        assert_eq!(
            kinds("-0x1.48p-1 -3 1e-6 0.5 -> -inf"),
            [Float, Int, Float, Float, Arrow, Minus, Ident]
        );
        assert_eq!(kinds("dict<a, b>>"), [Ident, Lt, Ident, Comma, Ident, Gt, Gt]);
        assert_eq!(
            kinds("tensor<fp16, [1, ?]> tensor<fp16, [-1]>"),
            [TensorType, Ident, Lt, Ident, Comma, LBracket, Int, RBracket, Gt]
        );
        assert_eq!(
            kinds(r#"string("a\")") uint64(64) fp16(-0x1p-3) bool(true) relu(x)"#),
            [
                ScalarLit, ScalarLit, ScalarLit, ScalarLit, Ident, LParen, Ident, RParen
            ]
        );
    }

    #[test]
    fn comments_and_garbage_are_set_aside() {
        let mut l = Lexer::new("a // hi\n$$ b \"open");
        assert_eq!(l.by_ref().count(), 3);
        assert_eq!(*l.comments.borrow(), vec![Span::new(2, 7)]);
        let codes: Vec<_> = l.diagnostics.iter().map(|d| d.code.id).collect();
        assert_eq!(codes, ["MIL0002", "MIL0003"]);
    }
}
