//! The syntax tree the grammar builds: every node borrows its text from the source and keeps its span.
//!
//! The tree is deliberately loose where the text is (a type and an op head look alike:
//! `tensor<fp16, [1]>` and `tensor_buffer_to_tensor<ios17>`); lowering gives it meaning.

use crate::lexer::{Item, ItemRange, Value};
use mil_ir::Span;
use smallvec::SmallVec;

/// A piece of source text: an identifier, a number or a string with its quotes.
#[derive(Clone, Copy, Debug)]
pub struct Word<'a> {
    /// The text.
    pub text: &'a str,
    /// Where it is.
    pub span: Span,
}

/// `func NAME<OPSET>(params) [attrs]`: the header of a function. (The program header, the function
/// bodies and their top-level statements are handed to lowering as they are read and have no node.)
#[derive(Debug)]
pub struct FuncHeader<'a> {
    /// The name.
    pub name: Word<'a>,
    /// The opset, when written.
    pub opset: Option<Word<'a>>,
    /// Parameters.
    pub params: Vec<Param<'a>>,
    /// Function attributes.
    pub attrs: Option<(Span, Vec<Attr<'a>>)>,
}

/// `TYPE name`: a parameter or an output of a statement.
#[derive(Debug)]
pub struct Param<'a> {
    /// The declared type.
    pub ty: TypeExpr<'a>,
    /// The name.
    pub name: Word<'a>,
}

/// `{ statements } -> (outputs)` of a nested block.
#[derive(Debug)]
pub struct Body<'a> {
    /// From `{` to the closing `)`.
    pub span: Span,
    /// Statements, including the ones that failed to parse.
    pub stmts: Vec<Stmt<'a>>,
    /// Returned names.
    pub outputs: Vec<Word<'a>>,
}

/// One statement.
#[derive(Debug)]
pub enum Stmt<'a> {
    /// A well-formed operation.
    Op(Box<OpStmt<'a>>),
    /// A statement with a syntax error, skipped up to its `;` (already reported).
    Error(Span),
}

/// The outputs of a statement: nearly always one, kept inline.
pub type Outputs<'a> = SmallVec<[Param<'a>; 1]>;

/// `outputs = head(args)[attrs] blocks;`.
#[derive(Debug)]
pub struct OpStmt<'a> {
    /// The statement without its `;`.
    pub span: Span,
    /// Declared outputs.
    pub outputs: Outputs<'a>,
    /// The op kind with an optional `<opset>`.
    pub head: TypeExpr<'a>,
    /// Arguments.
    pub args: Listed<Arg<'a>>,
    /// The attribute block, if written.
    pub attrs: Option<(Span, Listed<Attr<'a>>)>,
    /// Nested blocks.
    pub blocks: Vec<Box<BlockDef<'a>>>,
}

/// `block(params) { statements } -> (outputs)` of a control-flow op.
#[derive(Debug)]
pub struct BlockDef<'a> {
    /// From the label to the closing `)`.
    pub span: Span,
    /// The word before the parameters (must be `block`).
    pub label: Word<'a>,
    /// Block parameters.
    pub params: Vec<Param<'a>>,
    /// The body.
    pub body: Body<'a>,
}

/// A name with optional `<...>` parameters: a type (`tensor<fp16, [1]>`, `fp16`) or an op head
/// (`relu`, `tensor_buffer_to_tensor<ios17>`).
#[derive(Debug)]
pub struct TypeExpr<'a> {
    /// The whole expression.
    pub span: Span,
    /// The leading name — or, when the lexer read a plain `tensor<DTYPE, [dims]>` as one token, that
    /// whole token (the only case in which the text holds a `<`).
    pub name: Word<'a>,
    /// The `<...>` parameters, if written (and not part of a one-token tensor type).
    pub args: Option<Vec<TypeArg<'a>>>,
}

impl<'a> TypedLit<'a> {
    /// The syntax tree of a `DTYPE(value)` token (see [`crate::lexer::Lexeme::ScalarLit`]) at `start`.
    pub fn from_scalar_token(text: &'a str, start: usize) -> TypedLit<'a> {
        let bytes = text.as_bytes();
        let open = bytes
            .iter()
            .position(|&b| b == b'(')
            .expect("the token has a `(`");
        let (mut from, mut to) = (open + 1, text.len() - 1);
        while bytes[from] == b' ' || bytes[from] == b'\t' {
            from += 1;
        }
        while bytes[to - 1] == b' ' || bytes[to - 1] == b'\t' {
            to -= 1;
        }
        TypedLit::with_type(
            text,
            start,
            open,
            LitBody::Lit(leaf(&text[from..to], start + from)),
        )
    }

    /// The syntax tree of a `tensor<...>([a, b, ...])` token (see [`crate::lexer::Lexeme::TensorLit`])
    /// at `start`: the list is read when it is lowered.
    pub fn from_tensor_token(text: &'a str, start: usize) -> TypedLit<'a> {
        let (ty_end, body) = typed_token_parts(text, start, '[');
        TypedLit::with_type(text, start, ty_end, LitBody::Items(body))
    }

    /// The syntax tree of a `tensor<...>(BLOBFILE(...))` token (see [`crate::lexer::Lexeme::BlobLit`])
    /// at `start`: its parameters are read when it is lowered.
    pub fn from_blob_token(text: &'a str, start: usize) -> TypedLit<'a> {
        let (ty_end, body) = typed_token_parts(text, start, 'B');
        TypedLit::with_type(text, start, ty_end, LitBody::Blobfile(body))
    }

    /// The syntax tree of a typed literal the lexer read as one lexeme of kind `value`.
    pub fn of_lexeme(lexeme: Word<'a>, value: Value) -> TypedLit<'a> {
        let (text, start) = (lexeme.text, lexeme.span.start as usize);
        match value {
            Value::Scalar => TypedLit::from_scalar_token(text, start),
            Value::Tensor => TypedLit::from_tensor_token(text, start),
            Value::Blob => TypedLit::from_blob_token(text, start),
            Value::Name => unreachable!("a name is not a literal; `keyed` keeps it a name"),
        }
    }

    /// A typed literal token at `start` whose type is `text[..ty_end]`.
    fn with_type(text: &'a str, start: usize, ty_end: usize, body: LitBody<'a>) -> TypedLit<'a> {
        let ty = Word {
            text: &text[..ty_end],
            span: Span::new(start, start + ty_end),
        };
        TypedLit {
            span: Span::new(start, start + text.len()),
            ty: TypeExpr {
                span: ty.span,
                name: ty,
                args: None,
            },
            body,
        }
    }
}

/// Where the type of a one-token `tensor<...>(body)` literal at `start` ends (an offset into
/// `text`), and the span of its body: from its first character, `first`, to the last one before the
/// closing parenthesis and its blanks.
fn typed_token_parts(text: &str, start: usize, first: char) -> (usize, Span) {
    let ty_end = text.find('>').expect("the token has a tensor type") + 1;
    let open = ty_end + text[ty_end..].find(first).expect("the token has a body");
    let close = text[..text.len() - 1].trim_end().len();
    (ty_end, Span::new(start + open, start + close))
}

/// A one-lexeme literal `text` at `at`, told apart as the grammar would: a string, a negated word
/// (`-inf`), a number or a word.
pub fn leaf(text: &str, at: usize) -> Lit<'_> {
    let word = |text, at: usize| Word {
        text,
        span: Span::new(at, at + text.len()),
    };
    match text.as_bytes()[0] {
        b'"' => Lit::Str(word(text, at)),
        b'-' if text[1..].starts_with(|c: char| c.is_ascii_alphabetic()) => {
            Lit::Negated(Span::new(at, at + text.len()), word(&text[1..], at + 1))
        }
        c if c == b'-' || c == b'.' || c.is_ascii_digit() => Lit::Number(word(text, at)),
        _ => Lit::Word(word(text, at)),
    }
}

/// The name of a `key =` or `key = value` token starting at `start`.
pub fn key_word(src: &str, start: usize) -> Word<'_> {
    let len = src.as_bytes()[start..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    Word {
        text: &src[start..start + len],
        span: Span::new(start, start + len),
    }
}

/// The key and the value of a `key = value` token spanning `start..end` (see [`crate::lexer::Tok::Keyed`]).
pub fn keyed(src: &str, start: usize, end: usize, value: Value) -> (Word<'_>, ArgValue<'_>) {
    let key = key_word(src, start);
    let bytes = src.as_bytes();
    let mut at = key.span.end as usize;
    while bytes[at] != b'=' {
        at += 1;
    }
    at += 1;
    while bytes[at] == b' ' || bytes[at] == b'\t' {
        at += 1;
    }
    let word = Word {
        text: &src[at..end],
        span: Span::new(at, end),
    };
    let value = match value {
        Value::Name => ArgValue::Name(word),
        literal => ArgValue::Literal(word, literal),
    };
    (key, value)
}

/// The arguments or the attributes of a statement: parsed one by one, or read by the lexer as
/// one list token whose items lie beside the tokens (see [`crate::lexer::Items`]).
#[derive(Debug)]
pub enum Listed<T> {
    /// Parsed by the grammar.
    Parsed(Vec<T>),
    /// Read as one token.
    Fused(ItemRange),
}

impl<'a, T: FromItem<'a>> Listed<T> {
    /// The list: the parsed one, or the one `fused` is filled with from the token's `items` of
    /// `src`.
    pub fn read<'s>(&'s self, src: &'a str, items: &[Item], fused: &'s mut SmallVec<[T; 8]>) -> &'s [T] {
        match self {
            Listed::Parsed(list) => list,
            Listed::Fused(range) => {
                fused.extend(range.of(items).iter().map(|&item| T::from_item(src, item)));
                fused
            }
        }
    }
}

/// What an item of a fused list spells.
pub trait FromItem<'a> {
    /// The node `item` of `src` spells, as the grammar would have built it from the unfused text.
    fn from_item(src: &'a str, item: Item) -> Self;
}

impl<'a> FromItem<'a> for Arg<'a> {
    fn from_item(src: &'a str, item: Item) -> Self {
        let (key, value) = item_parts(src, item);
        Arg {
            span: item.key.cover(item.value),
            key: Some(key),
            value,
        }
    }
}

impl<'a> FromItem<'a> for Attr<'a> {
    fn from_item(src: &'a str, item: Item) -> Self {
        let (key, value) = item_parts(src, item);
        Attr {
            span: item.key.cover(item.value),
            key,
            value,
        }
    }
}

/// The key and the value of an item of a fused list, as [`keyed`] gives them for a
/// `key = value` token.
fn item_parts(src: &str, item: Item) -> (Word<'_>, ArgValue<'_>) {
    let word = |span: Span| Word {
        text: &src[span.range()],
        span,
    };
    let value = match item.kind {
        Value::Name => ArgValue::Name(word(item.value)),
        literal => ArgValue::Literal(word(item.value), literal),
    };
    (word(item.key), value)
}

/// One parameter inside `<...>`.
#[derive(Debug)]
pub enum TypeArg<'a> {
    /// A nested type or dtype.
    Type(TypeExpr<'a>),
    /// A shape `[d, ...]`.
    Dims(Span, Vec<Dim<'a>>),
    /// A single dimension (a list length).
    Dim(Dim<'a>),
    /// `key=[d, ...]` (tensor_buffer).
    Keyed(Word<'a>, Span, Vec<Dim<'a>>),
}

/// A dimension: an integer or `?`.
#[derive(Clone, Copy, Debug)]
pub enum Dim<'a> {
    /// An integer.
    Size(Word<'a>),
    /// `?`.
    Unknown(Span),
}

/// `key = value`, or just `value` (positional).
#[derive(Debug)]
pub struct Arg<'a> {
    /// The whole argument.
    pub span: Span,
    /// The key, if written.
    pub key: Option<Word<'a>>,
    /// The value.
    pub value: ArgValue<'a>,
}

/// `key = value` in an attribute block.
#[derive(Debug)]
pub struct Attr<'a> {
    /// The whole attribute.
    pub span: Span,
    /// The key.
    pub key: Word<'a>,
    /// The value.
    pub value: ArgValue<'a>,
}

/// What an argument or attribute is given.
#[derive(Debug)]
pub enum ArgValue<'a> {
    /// A name (a value, or a bare `true`/`false`).
    Name(Word<'a>),
    /// `TYPE(body)`.
    Typed(Box<TypedLit<'a>>),
    /// `TYPE(body)` read as one lexeme of the given kind (a scalar, a flat tensor or a BLOBFILE
    /// reference), whose tree [`TypedLit::of_lexeme`] builds when it is lowered.
    Literal(Word<'a>, Value),
    /// `(a, b, ...)`.
    Tuple(Span, Vec<ArgValue<'a>>),
    /// A literal without its type (`[0, 2]`, `1e-6`, `"x"`).
    Bare(Lit<'a>),
}

/// `TYPE(body)`.
#[derive(Debug)]
pub struct TypedLit<'a> {
    /// The whole value.
    pub span: Span,
    /// The type.
    pub ty: TypeExpr<'a>,
    /// What is inside the parentheses.
    pub body: LitBody<'a>,
}

/// The inside of `TYPE(...)`.
#[derive(Debug)]
pub enum LitBody<'a> {
    /// A literal.
    Lit(Lit<'a>),
    /// `BLOBFILE(key = value, ...)`.
    Blob(Span, Vec<(Word<'a>, ArgValue<'a>)>),
    /// A flat list `[a, b, ...]` of one-lexeme elements, read as part of one token: its elements
    /// are read when it is lowered.
    Items(Span),
    /// `BLOBFILE(path = string("..."), offset = uint64(N))`, read as part of one token: its
    /// parameters are read when it is lowered.
    Blobfile(Span),
    /// Nothing.
    Empty(Span),
}

/// A raw literal.
#[derive(Debug)]
pub enum Lit<'a> {
    /// A number lexeme.
    Number(Word<'a>),
    /// A string lexeme with its quotes.
    Str(Word<'a>),
    /// An identifier (`true`, `false`, `inf`, `nan`).
    Word(Word<'a>),
    /// `-inf`, `-nan`: the span covers the sign.
    Negated(Span, Word<'a>),
    /// `[...]`.
    List(Span, Vec<Lit<'a>>),
    /// `{...}` (dicts are `{{k, v}, ...}`).
    Braces(Span, Vec<Lit<'a>>),
    /// `(...)`.
    Tuple(Span, Vec<Lit<'a>>),
}

impl Lit<'_> {
    /// Where the literal is.
    pub fn span(&self) -> Span {
        match self {
            Lit::Number(w) | Lit::Str(w) | Lit::Word(w) => w.span,
            Lit::Negated(s, _) | Lit::List(s, _) | Lit::Braces(s, _) | Lit::Tuple(s, _) => *s,
        }
    }
}

impl ArgValue<'_> {
    /// Where the value is.
    pub fn span(&self) -> Span {
        match self {
            ArgValue::Name(w) => w.span,
            ArgValue::Typed(t) => t.span,
            ArgValue::Literal(w, _) => w.span,
            ArgValue::Tuple(s, _) => *s,
            ArgValue::Bare(l) => l.span(),
        }
    }
}
