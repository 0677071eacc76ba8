//! The lists the lexer reads as single tokens: a statement's argument list and attribute block,
//! `key = value` items on one line, whose items go to the grammar beside the tokens.

use super::{Lexeme, Value};
use logos::Logos;
use mil_ir::Span;
use std::cell::RefCell;
use std::rc::Rc;

/// One `key = value` of a list read as one [`super::Tok::Args`] or [`super::Tok::Attrs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// The key.
    pub key: Span,
    /// The value.
    pub value: Span,
    /// What the value is.
    pub kind: Value,
}

/// The items of the lists read as single tokens, in the order read: the lexer adds them, and
/// whoever lowers the statements that hold the lists reads them and then clears them (see
/// `sink.rs`).
pub type Items = Rc<RefCell<Vec<Item>>>;

/// Where the items of one list token lie in [`Items`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemRange {
    pub(super) first: u32,
    pub(super) len: u32,
}

impl ItemRange {
    /// The items of the list among `items`.
    pub fn of(self, items: &[Item]) -> &[Item] {
        &items[self.first as usize..][..self.len as usize]
    }
}

/// Reads the list of `key = value` items on one line from `at`, right after its opening bracket,
/// to its closing `close`, adding its items to `items`; returns where it ends and where its items
/// are, or `None` (adding nothing) when it is not such a list. A value is one lexeme: a name, or a
/// scalar, flat tensor or BLOBFILE literal.
pub(super) fn read_list(
    text: &str,
    at: usize,
    close: u8,
    items: &mut Vec<Item>,
) -> Option<(usize, ItemRange)> {
    let first = items.len();
    let end = read_items(text, at, close, items);
    if end.is_none() {
        items.truncate(first);
    }
    let range = ItemRange {
        first: first as u32,
        len: (items.len() - first) as u32,
    };
    end.map(|end| (end, range))
}

/// The items of a list from `at` to its closing `close`, added to `items`; `None` when it is not a
/// list of `key = value` items on one line.
fn read_items(text: &str, at: usize, close: u8, items: &mut Vec<Item>) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = blanks(bytes, at);
    if bytes.get(at) == Some(&close) {
        return Some(at + 1);
    }
    loop {
        let key_end = name_end(bytes, at)?;
        let eq = blanks(bytes, key_end);
        (bytes.get(eq) == Some(&b'=')).then_some(())?;
        let value = blanks(bytes, eq + 1);
        let (value_end, kind) = value_end(text, value, close)?;
        items.push(Item {
            key: Span::new(at, key_end),
            value: Span::new(value, value_end),
            kind,
        });
        let next = blanks(bytes, value_end);
        match bytes.get(next) {
            Some(&b',') => at = blanks(bytes, next + 1),
            Some(&c) if c == close => return Some(next + 1),
            _ => return None,
        }
    }
}

/// Where the value starting at `at` ends, and what it is: a name (followed by `,` or `close`), or
/// a one-lexeme literal.
fn value_end(text: &str, at: usize, close: u8) -> Option<(usize, Value)> {
    let bytes = text.as_bytes();
    if let Some(end) = plain_string_end(bytes, at) {
        return Some((end, Value::Scalar));
    }
    if let Some(end) = name_end(bytes, at)
        && matches!(bytes.get(blanks(bytes, end)), Some(&c) if c == b',' || c == close)
    {
        return Some((end, Value::Name));
    }
    let mut lexer = Lexeme::lexer(&text[at..]);
    let lexeme = lexer.next()?.ok()?;
    let (lexeme, end) = super::scan::complete(&text[at..], lexeme, lexer.span().start, lexer.span().end);
    let kind = match lexeme {
        Lexeme::ScalarLit => Value::Scalar,
        Lexeme::TensorLit => Value::Tensor,
        Lexeme::BlobLit => Value::Blob,
        _ => return None,
    };
    (lexer.span().start == 0).then_some((at + end, kind))
}

/// Where the `string("...")` starting at `at` ends, when it is written tightly and its text has
/// no escapes (the commonest scalar, read without the lexer).
fn plain_string_end(bytes: &[u8], at: usize) -> Option<usize> {
    let rest = bytes.get(at..)?.strip_prefix(b"string(\"")?;
    let quote = rest.iter().position(|&b| matches!(b, b'"' | b'\\' | b'\n'))?;
    (rest[quote] == b'"' && rest.get(quote + 1) == Some(&b')')).then_some(at + 8 + quote + 2)
}

/// Where the name starting at `at` ends (`BLOBFILE` is a keyword, not a name).
fn name_end(bytes: &[u8], at: usize) -> Option<usize> {
    let first = *bytes.get(at)?;
    (first.is_ascii_alphabetic() || first == b'_').then_some(())?;
    let end = at
        + 1
        + bytes[at + 1..]
            .iter()
            .take_while(|&&b| IN_NAME[usize::from(b)])
            .count();
    (&bytes[at..end] != b"BLOBFILE").then_some(end)
}

/// Which bytes may continue a name: ASCII letters, digits and `_` (one look-up per byte).
static IN_NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    table
};

/// Where the blanks (spaces and tabs) from `at` end.
fn blanks(bytes: &[u8], at: usize) -> usize {
    at + bytes.get(at..).map_or(0, |rest| {
        rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count()
    })
}
