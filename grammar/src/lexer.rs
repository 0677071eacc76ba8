//! The tokens of MIL text, produced by a logos lexer.
//!
//! Comments and characters that form no token are taken out of the stream here: comments are
//! kept aside for the formatter, and bad characters become diagnostics, so the grammar only ever
//! sees well-formed tokens.

use logos::Logos;
use mil_ir::{Diagnostic, Span, codes};

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

/// The result of lexing a whole text.
pub struct Lexed {
    /// The tokens the grammar sees.
    pub tokens: Vec<Spanned>,
    /// The comments, in order.
    pub comments: Vec<Span>,
    /// Bad characters and unterminated strings.
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes `text`. Never fails: problems become diagnostics.
pub fn lex(text: &str) -> Lexed {
    let mut tokens = Vec::with_capacity(text.len() / 5);
    let mut comments = Vec::new();
    let mut diagnostics = Vec::new();
    let mut bad: Option<Span> = None;
    let mut lexer = Tok::lexer(text);
    while let Some(tok) = lexer.next() {
        let span = lexer.span();
        if tok.is_err() {
            bad = Some(bad.map_or(Span::from(span.clone()), |b| b.cover(span.into())));
            continue;
        }
        if let Some(b) = bad.take() {
            diagnostics.push(invalid_chars(text, b));
        }
        match tok {
            Ok(Tok::Comment) => comments.push(span.into()),
            Ok(Tok::UnterminatedStr) => {
                diagnostics.push(Diagnostic::new(
                    codes::UNTERMINATED_STRING,
                    span.clone().into(),
                    "this string has no closing `\"` on its line",
                ));
                tokens.push((span.start, Tok::Str, span.end));
            }
            Ok(t) => tokens.push((span.start, t, span.end)),
            Err(()) => unreachable!("handled above"),
        }
    }
    if let Some(b) = bad {
        diagnostics.push(invalid_chars(text, b));
    }
    Lexed {
        tokens,
        comments,
        diagnostics,
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
        lex(text).tokens.into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn numbers_and_arrows() {
        use Tok::*;
        assert_eq!(
            kinds("-0x1.48p-1 -3 1e-6 0.5 -> -inf"),
            [Float, Int, Float, Float, Arrow, Minus, Ident]
        );
        assert_eq!(kinds("dict<a, b>>"), [Ident, Lt, Ident, Comma, Ident, Gt, Gt]);
    }

    #[test]
    fn comments_and_garbage_are_set_aside() {
        let l = lex("a // hi\n$$ b \"open");
        assert_eq!(l.comments, vec![Span::new(2, 7)]);
        assert_eq!(l.tokens.len(), 3);
        let codes: Vec<_> = l.diagnostics.iter().map(|d| d.code.id).collect();
        assert_eq!(codes, ["MIL0002", "MIL0003"]);
    }
}
