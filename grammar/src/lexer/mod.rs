//! The tokens of MIL text: a logos lexer reads the lexemes, and a small fusion step joins the
//! commonest sequences into single tokens for the grammar.
//!
//! Comments and characters that form no token are taken out of the stream here: comments are
//! kept aside for the formatter, and bad characters become diagnostics, so the grammar only ever
//! sees well-formed tokens. The fusion step turns `key =` into one [`Tok::Key`], and `key = value`
//! into one [`Tok::Keyed`] when the value is a single lexeme (a name before `,`, `)` or `]`, a
//! scalar, flat tensor or BLOBFILE literal) and only blanks on one line separate the parts. A
//! statement's whole argument list and attribute block, as Core ML writes them
//! (`y = op(x = a, w = b)[name = string("y")]`), become one [`Tok::Args`] and one [`Tok::Attrs`],
//! whose `key = value` items go to the grammar beside the tokens (see [`Items`]): a statement
//! then takes about six grammar steps instead of dozens. The grammar accepts the unfused spelling
//! too, so fusing never changes what a text means.

mod lists;
mod scan;

pub use lists::{Item, ItemRange, Items};
use logos::Logos;
use mil_ir::{Diagnostic, Span, codes};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

/// A lexeme kind. Lexemes carry no text; the grammar slices it from the source by span.
#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Lexeme {
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
    /// `bool(true)`), read as one token for speed; one whose value is a string is read by
    /// [`scan::complete`] after its dtype.
    #[regex(r#"(bool|string|fp16|fp32|fp64|bf16|int4|int8|int16|int32|int64|uint1|uint2|uint3|uint4|uint6|uint8|uint16|uint32|uint64|fp8e4m3fn|fp8e5m2)\([ \t]*-?[0-9A-Za-z_.+\-]+[ \t]*\)"#)]
    ScalarLit,
    /// A whole `tensor<DTYPE, [dims]>([a, b, ...])` literal whose elements form one flat list of
    /// numbers or words, read as one token for speed (nested and string lists go through the
    /// grammar); read by [`scan::complete`] after its type.
    TensorLit,
    /// A whole `tensor<DTYPE, [dims]>(BLOBFILE(path = string("..."), offset = uint64(N)))`, as Core ML
    /// writes it, read as one token for speed (other spellings go through the grammar); read by
    /// [`scan::complete`] after its type.
    BlobLit,
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
    /// A string with its quotes (logos reads the `"`, [`scan::complete`] the rest).
    #[token("\"")]
    Str,
    /// A string missing its closing quote (up to the end of the line), made by [`scan::complete`].
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

/// What the value of a [`Tok::Keyed`] token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A value name.
    Name,
    /// A [`Lexeme::ScalarLit`].
    Scalar,
    /// A [`Lexeme::TensorLit`].
    Tensor,
    /// A [`Lexeme::BlobLit`].
    Blob,
}

/// A token the grammar sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A lexeme as read.
    Plain(Lexeme),
    /// A name and its `=`: `key =`, with the length of the name.
    Key(u32),
    /// A name, `=` and a one-lexeme value: `key = value`.
    Keyed(Value),
    /// A call's whole argument list `(key = value, ...)`, every value one lexeme, on one line,
    /// with where its items are.
    Args(ItemRange),
    /// The attribute block `[key = value, ...]` right after a [`Tok::Args`], every value one
    /// lexeme, on one line, with where its items are.
    Attrs(ItemRange),
}

/// Where the lexer stands in the statement shape `TYPE name = op(args)[attrs]`, whose argument
/// list and attribute block it reads as single tokens. (In a block's body, `name = op(` starts
/// nothing but a call.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Anywhere else.
    Other,
    /// Right after `name =`.
    Defined,
    /// Right after `name = op`.
    Head,
    /// Right after the argument list read as one token.
    Called,
}

/// The spans of the comments read so far, shared by the lexer that finds them and the lowering
/// that attaches them (possibly on another thread).
pub type Comments = Arc<Mutex<Vec<Span>>>;

/// A token with its byte range, as lalrpop's external-lexer interface wants it.
pub type Spanned = (usize, Tok, usize);

/// A lexeme with its byte range.
type RawSpanned = (usize, Lexeme, usize);

/// A streaming lexer: yields the tokens the grammar sees and sets aside comments and problems,
/// which stay available after the tokens are consumed.
pub struct Lexer<'a> {
    inner: logos::Lexer<'a, Lexeme>,
    text: &'a str,
    /// The comments met so far, in order (shared with whoever attaches them as parsing goes).
    pub comments: Comments,
    /// Bad characters and unterminated strings met so far.
    pub diagnostics: Vec<Diagnostic>,
    bad: Option<Span>,
    /// How many brackets are open, up to [`MAX_NESTING`].
    depth: usize,
    /// Which of the open brackets are braces: bit `i` for the `i`th (from the outermost).
    braces: u128,
    /// How many opening brackets past [`MAX_NESTING`] were skipped and not yet closed.
    skipped: usize,
    /// Lexemes read ahead by the fusion step and not yet handed out, oldest first: the first
    /// `ahead_len` of these.
    ahead: [RawSpanned; 3],
    ahead_len: usize,
    shape: Shape,
    items: Items,
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
            inner: Lexeme::lexer(text),
            text,
            comments: Comments::default(),
            diagnostics: Vec::new(),
            bad: None,
            depth: 0,
            braces: 0,
            skipped: 0,
            ahead: [(0, Lexeme::Eq, 0); 3],
            ahead_len: 0,
            shape: Shape::Other,
            items: Items::default(),
        }
    }

    /// The items of the lists this lexer reads as single tokens, shared with the grammar.
    pub fn items(&self) -> Items {
        Rc::clone(&self.items)
    }

    #[inline]
    fn flush_bad(&mut self) {
        if let Some(b) = self.bad.take() {
            self.diagnostics.push(invalid_chars(self.text, b));
        }
    }

    /// The next lexeme the grammar may see: comments, bad characters and over-deep brackets are
    /// set aside.
    fn lexeme(&mut self) -> Option<RawSpanned> {
        loop {
            let Some(lexeme) = self.inner.next() else {
                self.flush_bad();
                return None;
            };
            let span = self.inner.span();
            let Ok(lexeme) = lexeme else {
                let s = Span::from(span);
                self.bad = Some(self.bad.map_or(s, |b| b.cover(s)));
                continue;
            };
            let (lexeme, end) = scan::complete(self.text, lexeme, span.start, span.end);
            self.inner.bump(end - span.end);
            let span = span.start..end;
            self.flush_bad();
            use Lexeme::*;
            match lexeme {
                Comment => self
                    .comments
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(span.into()),
                UnterminatedStr => {
                    self.diagnostics.push(Diagnostic::new(
                        codes::UNTERMINATED_STRING,
                        span.clone().into(),
                        "this string has no closing `\"` on its line",
                    ));
                    return Some((span.start, Str, span.end));
                }
                LParen | LBracket | LBrace | Lt if self.depth == MAX_NESTING => {
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
                RParen | RBracket | RBrace | Gt if self.skipped > 0 => self.skipped -= 1,
                t => {
                    match t {
                        LParen | LBracket | LBrace | Lt => {
                            let bit = 1u128 << self.depth;
                            self.braces = if t == LBrace {
                                self.braces | bit
                            } else {
                                self.braces & !bit
                            };
                            self.depth += 1;
                        }
                        RParen | RBracket | RBrace | Gt => self.depth = self.depth.saturating_sub(1),
                        _ => {}
                    }
                    return Some((span.start, t, span.end));
                }
            }
        }
    }

    /// The `n`th lexeme not yet handed out.
    fn peek(&mut self, n: usize) -> Option<RawSpanned> {
        while self.ahead_len <= n {
            self.ahead[self.ahead_len] = self.lexeme()?;
            self.ahead_len += 1;
        }
        Some(self.ahead[n])
    }

    /// Forgets the first `n` lexemes read ahead.
    fn consume(&mut self, n: usize) {
        self.ahead.copy_within(n..self.ahead_len, 0);
        self.ahead_len -= n;
    }

    /// Whether only blanks, and no line break, lie between two lexemes.
    fn adjacent(&self, end: usize, start: usize) -> bool {
        self.text.as_bytes()[end..start]
            .iter()
            .all(|&b| b == b' ' || b == b'\t')
    }

    /// The token starting with `first`, a name: `key =` or `key = value` when they can be fused.
    fn after_name(&mut self, first: RawSpanned) -> Spanned {
        let plain = (first.0, Tok::Plain(first.1), first.2);
        let Some(eq) = self.peek(0) else { return plain };
        if eq.1 != Lexeme::Eq || !self.adjacent(first.2, eq.0) {
            return plain;
        }
        let value = self.peek(1).filter(|v| self.adjacent(eq.2, v.0));
        let kind = match value.map(|v| v.1) {
            Some(Lexeme::ScalarLit) => Some(Value::Scalar),
            Some(Lexeme::TensorLit) => Some(Value::Tensor),
            Some(Lexeme::BlobLit) => Some(Value::Blob),
            Some(Lexeme::Ident) => self
                .peek(2)
                .filter(|t| matches!(t.1, Lexeme::Comma | Lexeme::RParen | Lexeme::RBracket))
                .map(|_| Value::Name),
            _ => None,
        };
        match (kind, value) {
            (Some(kind), Some(v)) => {
                self.consume(2);
                (first.0, Tok::Keyed(kind), v.2)
            }
            _ => {
                self.consume(1);
                (first.0, Tok::Key((first.2 - first.0) as u32), eq.2)
            }
        }
    }

    /// Whether the bracket just opened, the last lexeme read, stands in a block's body: the
    /// bracket around it is a brace.
    fn opened_in_body(&self) -> bool {
        self.depth >= 2 && self.braces >> (self.depth - 2) & 1 == 1
    }

    /// The token starting with `open`, the last lexeme read: the whole list it opens as one `token`
    /// when it is a list of `key = value` items on one line closed by `close`, else `open` alone.
    fn list(&mut self, open: RawSpanned, close: u8, token: fn(ItemRange) -> Tok) -> Spanned {
        match lists::read_list(self.text, open.2, close, &mut self.items.borrow_mut()) {
            Some((end, items)) => {
                self.inner.bump(end - open.2);
                self.depth -= 1;
                (open.0, token(items), end)
            }
            None => (open.0, Tok::Plain(open.1), open.2),
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Spanned, ()>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = if self.ahead_len > 0 {
            let first = self.ahead[0];
            self.consume(1);
            first
        } else {
            self.lexeme()?
        };
        let fresh = self.ahead_len == 0;
        let token = match (first.1, self.shape) {
            (Lexeme::LParen, Shape::Head) if fresh && self.opened_in_body() => {
                self.list(first, b')', Tok::Args)
            }
            (Lexeme::LBracket, Shape::Called) if fresh => self.list(first, b']', Tok::Attrs),
            (Lexeme::Ident | Lexeme::Program | Lexeme::Func, _) => self.after_name(first),
            (other, _) => (first.0, Tok::Plain(other), first.2),
        };
        self.shape = match (token.1, self.shape) {
            (Tok::Key(_), _) => Shape::Defined,
            (Tok::Plain(Lexeme::Ident), Shape::Defined) => Shape::Head,
            (Tok::Args(_), _) => Shape::Called,
            _ => Shape::Other,
        };
        Some(Ok(token))
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

    fn plain(lexemes: &[Lexeme]) -> Vec<Tok> {
        lexemes.iter().map(|&l| Tok::Plain(l)).collect()
    }

    #[test]
    fn numbers_and_arrows() {
        use Lexeme::*;
        assert_eq!(
            kinds("-0x1.48p-1 -3 1e-6 0.5 -> -inf"),
            plain(&[Float, Int, Float, Float, Arrow, Minus, Ident])
        );
        assert_eq!(
            kinds("dict<a, b>>"),
            plain(&[Ident, Lt, Ident, Comma, Ident, Gt, Gt])
        );
        assert_eq!(
            kinds("tensor<fp16, [1, ?]> tensor<fp16, [-1]>"),
            plain(&[TensorType, Ident, Lt, Ident, Comma, LBracket, Int, RBracket, Gt])
        );
        assert_eq!(
            kinds(r#"string("a\")") uint64(64) fp16(-0x1p-3) bool(true) relu(x)"#),
            plain(&[
                ScalarLit, ScalarLit, ScalarLit, ScalarLit, Ident, LParen, Ident, RParen
            ])
        );
    }

    #[test]
    fn whole_literals() {
        use Lexeme::*;
        let blob = r#"tensor<fp16, [2]>(BLOBFILE(path = string("@model_path/w.bin"), offset = uint64(64)))"#;
        assert_eq!(kinds(blob), plain(&[BlobLit]));
        assert_eq!(
            kinds(
                "tensor<int32, [3]>([1, -2,\n 0x1p-3]) tensor<bool, [2]>([true, false]) tensor<int32, [0]>([])"
            ),
            plain(&[TensorLit, TensorLit, TensorLit])
        );
        // Nested, string and malformed lists are left to the grammar, from the type on.
        assert_eq!(
            kinds("tensor<int32, [1, 1]>([[1]])"),
            plain(&[
                TensorType, LParen, LBracket, LBracket, Int, RBracket, RBracket, RParen
            ])
        );
        assert_eq!(
            kinds(r#"tensor<string, [1]>(["a"]) tensor<int32, [2]>([1 2])"#),
            plain(&[
                TensorType, LParen, LBracket, Str, RBracket, RParen, TensorType, LParen, LBracket, Int, Int,
                RBracket, RParen
            ])
        );
    }

    #[test]
    fn keys_and_values_are_fused() {
        use Lexeme::*;
        use Tok::{Key, Keyed, Plain};
        assert_eq!(
            kinds(r#"t y = conv(x = a, w = b)[name = string("y")]"#),
            [
                Plain(Ident),
                Key(1),
                Plain(Ident),
                Plain(LParen),
                Keyed(Value::Name),
                Plain(Comma),
                Keyed(Value::Name),
                Plain(RParen),
                Plain(LBracket),
                Keyed(Value::Scalar),
                Plain(RBracket)
            ]
        );
        assert_eq!(
            kinds(
                "val = tensor<int32, [1]>([1]) c = tensor<fp16, [1]>(BLOBFILE(path = string(\"p\"), offset = uint64(0)))"
            ),
            [Keyed(Value::Tensor), Keyed(Value::Blob)]
        );
        // Not across a comment, and a name value only when the argument ends there.
        assert_eq!(
            kinds("x // c\n= a, y = // c\n b, z = a b"),
            [
                Plain(Ident),
                Plain(Eq),
                Plain(Ident),
                Plain(Comma),
                Key(1),
                Plain(Ident),
                Plain(Comma),
                Key(1),
                Plain(Ident),
                Plain(Ident)
            ]
        );
    }

    #[test]
    fn a_statements_lists_are_read_whole() {
        use Lexeme::*;
        let text = r#"{ t y = conv(x = a, w = tensor<int32, [1]>([1]))[name = string("y")]; z = c()[]; }"#;
        let mut lexer = Lexer::new(text);
        let tokens: Vec<Spanned> = lexer.by_ref().map(Result::unwrap).collect();
        let kinds: Vec<Tok> = tokens.iter().map(|t| t.1).collect();
        let range = |first, len| ItemRange { first, len };
        assert_eq!(
            kinds,
            [
                Tok::Plain(LBrace),
                Tok::Plain(Ident),
                Tok::Key(1),
                Tok::Plain(Ident),
                Tok::Args(range(0, 2)),
                Tok::Attrs(range(2, 1)),
                Tok::Plain(Semi),
                Tok::Key(1),
                Tok::Plain(Ident),
                Tok::Args(range(3, 0)),
                Tok::Attrs(range(3, 0)),
                Tok::Plain(Semi),
                Tok::Plain(RBrace)
            ]
        );
        assert_eq!(
            &text[tokens[4].0..tokens[4].2],
            "(x = a, w = tensor<int32, [1]>([1]))"
        );
        let items = lexer.items.borrow();
        let shown: Vec<(&str, &str, Value)> = items
            .iter()
            .map(|i| (&text[i.key.range()], &text[i.value.range()], i.kind))
            .collect();
        assert_eq!(
            shown,
            [
                ("x", "a", Value::Name),
                ("w", "tensor<int32, [1]>([1])", Value::Tensor),
                ("name", r#"string("y")"#, Value::Scalar)
            ]
        );
        // Not inside brackets, not across lines, not with a value of several lexemes.
        for text in [
            "( y = op(x = a) )",
            "{ y = op(x =\n a) }",
            "{ y = op(x = (a, b)) }",
            "{ y = op(x = a)[n = m] }",
        ] {
            let kinds: Vec<Tok> = Lexer::new(text).map(|t| t.unwrap().1).collect();
            assert!(!kinds.contains(&Tok::Attrs(range(0, 1))), "{text}: {kinds:?}");
            if text != "{ y = op(x = a)[n = m] }" {
                assert!(
                    !kinds.iter().any(|k| matches!(k, Tok::Args(_))),
                    "{text}: {kinds:?}"
                );
            }
        }
    }

    #[test]
    fn comments_and_garbage_are_set_aside() {
        let mut l = Lexer::new("a // hi\n$$ b \"open");
        assert_eq!(l.by_ref().count(), 3);
        assert_eq!(*l.comments.lock().unwrap(), vec![Span::new(2, 7)]);
        let codes: Vec<_> = l.diagnostics.iter().map(|d| d.code.id).collect();
        assert_eq!(codes, ["MIL0002", "MIL0003"]);
    }
}
