//! The lexemes whose length is the input's to choose, read by loops rather than by logos.
//!
//! Logos compiles a pattern whose repetition spans several states (a string with escapes, a list
//! of numbers with separators) into functions that call each other once per repetition; a debug
//! build does not turn those calls into jumps, so a long string or inline tensor overflowed a
//! 2 MiB stack (a few thousand list elements). The strings, and the whole literals that hold a
//! string or a list (`tensor<…>([…])`, `tensor<…>(BLOBFILE(…))`, `string("…")`), are therefore
//! read here, each function matching exactly the language its doc comment gives as a regex, so
//! the lexer's tokens are the same as when logos matched those regexes.

use super::Lexeme;

/// The types a scalar literal `DTYPE(value)` may name.
const SCALAR_DTYPES: [&str; 22] = [
    "bool",
    "string",
    "fp16",
    "fp32",
    "fp64",
    "bf16",
    "int4",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint1",
    "uint2",
    "uint3",
    "uint4",
    "uint6",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "fp8e4m3fn",
    "fp8e5m2",
];

/// The lexeme that logos read as `lexeme` from `start` to `end` of `text` starts, completed by the
/// scans below, and where it ends: a `tensor<…>` type with the value of a whole literal after it
/// ([`Lexeme::TensorLit`], [`Lexeme::BlobLit`]), a `"` with the rest of its string
/// ([`Lexeme::Str`], or [`Lexeme::UnterminatedStr`]), a dtype with a string argument
/// ([`Lexeme::ScalarLit`]); any other lexeme as read.
pub fn complete(text: &str, lexeme: Lexeme, start: usize, end: usize) -> (Lexeme, usize) {
    let bytes = text.as_bytes();
    match lexeme {
        Lexeme::TensorType => match tensor_value(&bytes[end..]) {
            Some((whole, len)) => (whole, end + len),
            None => (lexeme, end),
        },
        Lexeme::Str => match string(&bytes[start..]) {
            Some(len) => (Lexeme::Str, start + len),
            None => (
                Lexeme::UnterminatedStr,
                start + unterminated_string(&bytes[start..]),
            ),
        },
        Lexeme::Ident if SCALAR_DTYPES.contains(&&text[start..end]) => match string_argument(&bytes[end..]) {
            Some(len) => (Lexeme::ScalarLit, end + len),
            None => (lexeme, end),
        },
        _ => (lexeme, end),
    }
}

/// The length of `\([ \t]*"([^"\\\n]|\\.)*"[ \t]*\)` at the start of `s`: a string argument
/// of a scalar literal, after its dtype.
fn string_argument(s: &[u8]) -> Option<usize> {
    let mut c = Cursor { s, i: 0 };
    c.byte(b'(')?;
    c.blanks();
    c.i += quoted(&c.s[c.i..], false)?;
    c.blanks();
    c.byte(b')')?;
    Some(c.i)
}

/// The length of the string at the start of `s` (at a `"`): `"([^"\\]|\\.)*"` (a string may span
/// lines; `.` is any character but a line break). `None` when it is not closed.
fn string(s: &[u8]) -> Option<usize> {
    quoted(s, true)
}

/// The length of the string at the start of `s` missing its closing quote: `"([^"\\\n]|\\.)*`,
/// up to the end of its line (or a backslash before it).
fn unterminated_string(s: &[u8]) -> usize {
    let mut i = 1;
    while i < s.len() {
        match s[i] {
            b'"' | b'\n' => break,
            b'\\' if s.get(i + 1).is_some_and(|&c| c != b'\n') => i += 2,
            b'\\' => break,
            _ => i += 1,
        }
    }
    i.min(s.len())
}

/// The length of the string at the start of `s`, `"([^"\\]|\\.)*"` when `lines`, else
/// `"([^"\\\n]|\\.)*"`; `None` when there is none.
fn quoted(s: &[u8], lines: bool) -> Option<usize> {
    if s.first() != Some(&b'"') {
        return None;
    }
    let mut i = 1;
    loop {
        match *s.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' if s.get(i + 1).is_some_and(|&c| c != b'\n') => i += 2,
            b'\\' => return None,
            b'\n' if !lines => return None,
            _ => i += 1,
        }
    }
}

/// The length of the value of a whole literal after its `tensor<…>` type at the start of `s`, and
/// the lexeme the two make: `[ \t]*\([ \t]*BLOBFILE[ \t]*\([ \t]*path[ \t]*=[ \t]*string\([ \t]*STR[ \t]*\)[ \t]*,[ \t]*offset[ \t]*=[ \t]*uint64\([ \t]*[0-9]+[ \t]*\)[ \t]*\)[ \t]*\)`
/// (a [`super::Lexeme::BlobLit`], `STR` a string on one line) or [`flat_list`] in parentheses (a
/// [`super::Lexeme::TensorLit`]).
fn tensor_value(s: &[u8]) -> Option<(Lexeme, usize)> {
    let mut c = Cursor { s, i: 0 };
    c.blanks();
    c.byte(b'(')?;
    c.blanks();
    let lexeme = if c.s[c.i..].starts_with(b"BLOBFILE") {
        c.word(b"BLOBFILE")?;
        for part in [&b"("[..], b"path", b"=", b"string", b"("] {
            c.blanks();
            c.word(part)?;
        }
        c.blanks();
        c.i += quoted(&c.s[c.i..], false)?;
        for part in [&b")"[..], b",", b"offset", b"=", b"uint64", b"("] {
            c.blanks();
            c.word(part)?;
        }
        c.blanks();
        c.digits()?;
        for part in [b')', b')'] {
            c.blanks();
            c.byte(part)?;
        }
        Lexeme::BlobLit
    } else {
        c.i += flat_list(&c.s[c.i..])?;
        Lexeme::TensorLit
    };
    c.blanks();
    c.byte(b')')?;
    Some((lexeme, c.i))
}

/// The length of the list at the start of `s` whose elements are numbers or words:
/// `\[[ \t\r\n]*(E([ \t\r\n]*,[ \t\r\n]*E)*[ \t\r\n]*,?[ \t\r\n]*)?\]`, each `E` an [`element`].
fn flat_list(s: &[u8]) -> Option<usize> {
    let mut c = Cursor { s, i: 0 };
    c.byte(b'[')?;
    c.spaces();
    if c.peek() == Some(b']') {
        return Some(c.i + 1);
    }
    loop {
        let start = c.i;
        while c
            .peek()
            .is_some_and(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',' | b']'))
        {
            c.i += 1;
        }
        if !element(&c.s[start..c.i]) {
            return None;
        }
        c.spaces();
        match c.peek()? {
            b']' => return Some(c.i + 1),
            b',' => {
                c.i += 1;
                c.spaces();
                if c.peek() == Some(b']') {
                    return Some(c.i + 1);
                }
            }
            _ => return None,
        }
    }
}

/// Whether `e` is one element of a flat list: `-?(INT|HEX|DEC|EXP|WORD)` with `INT` `[0-9]+`,
/// `HEX` `0[xX][0-9a-fA-F]*(\.[0-9a-fA-F]*)?[pP][+-]?[0-9]+`, `DEC`
/// `([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?`, `EXP` `[0-9]+[eE][+-]?[0-9]+` and `WORD`
/// `[A-Za-z_][A-Za-z0-9_]*`.
fn element(e: &[u8]) -> bool {
    let e = e.strip_prefix(b"-").unwrap_or(e);
    let Some(&first) = e.first() else { return false };
    if first.is_ascii_alphabetic() || first == b'_' {
        return e.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
    }
    let mut c = Cursor { s: e, i: 0 };
    if e.len() > 1 && e[0] == b'0' && matches!(e[1], b'x' | b'X') {
        c.i = 2;
        c.skip(|b| b.is_ascii_hexdigit());
        if c.peek() == Some(b'.') {
            c.i += 1;
            c.skip(|b| b.is_ascii_hexdigit());
        }
        if !matches!(c.peek(), Some(b'p' | b'P')) {
            return false;
        }
        c.i += 1;
        return c.exponent_digits() && c.i == e.len();
    }
    let whole = c.skip(|b| b.is_ascii_digit());
    let mut fraction = 0;
    let point = c.peek() == Some(b'.');
    if point {
        c.i += 1;
        fraction = c.skip(|b| b.is_ascii_digit());
    }
    if whole == 0 && fraction == 0 {
        return false;
    }
    if matches!(c.peek(), Some(b'e' | b'E')) {
        c.i += 1;
        if !c.exponent_digits() {
            return false;
        }
    }
    c.i == e.len()
}

/// A position in a byte string.
struct Cursor<'s> {
    s: &'s [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips the bytes `keep` accepts; how many.
    fn skip(&mut self, keep: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.peek().is_some_and(&keep) {
            self.i += 1;
        }
        self.i - start
    }

    /// `[ \t]*`
    fn blanks(&mut self) {
        self.skip(|b| b == b' ' || b == b'\t');
    }

    /// `[ \t\r\n]*`
    fn spaces(&mut self) {
        self.skip(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    }

    fn byte(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.i += 1)
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        self.s[self.i..].starts_with(w).then(|| self.i += w.len())
    }

    /// `[0-9]+`
    fn digits(&mut self) -> Option<()> {
        (self.skip(|b| b.is_ascii_digit()) > 0).then_some(())
    }

    /// `[+-]?[0-9]+`
    fn exponent_digits(&mut self) -> bool {
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.i += 1;
        }
        self.digits().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_the_regexs() {
        for good in [
            "0",
            "-12",
            "1.",
            ".5",
            "-1.5e-3",
            "2E+7",
            "3e4",
            "0x1p-3",
            "-0x1.8p+2",
            "0X.p1",
            "inf",
            "-nan",
            "_a1",
        ] {
            assert!(element(good.as_bytes()), "{good}");
        }
        for bad in [
            "", "-", ".", "1e", "1.5e+", "0x1", "0x1.8", "1a", "1-2", "+1", "--1", "1.2.3", "1e5e",
        ] {
            assert!(!element(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn lists_end_where_the_regex_does() {
        let len = |s: &str| flat_list(s.as_bytes());
        assert_eq!(len("[]x"), Some(2));
        assert_eq!(len("[ 1, 2 ,\n 3, ]x"), Some(14));
        assert_eq!(len("[1 2]"), None);
        assert_eq!(len("[,]"), None);
        assert_eq!(len("[1,,2]"), None);
        assert_eq!(len("[[1]]"), None);
        assert_eq!(len("[1, \"a\"]"), None);
        assert_eq!(len("[1, 2"), None);
    }

    #[test]
    fn strings_end_where_the_regex_does() {
        assert_eq!(string(br#""a\"b" c"#), Some(6));
        assert_eq!(string(b"\"a\nb\""), Some(5));
        assert_eq!(string(b"\"a\\\nb\""), None);
        assert_eq!(string(b"\"ab"), None);
        assert_eq!(unterminated_string(b"\"ab\ncd"), 3);
        assert_eq!(unterminated_string(b"\"a\\\"b"), 5);
        assert_eq!(quoted(b"\"a\nb\"", false), None);
    }
}
