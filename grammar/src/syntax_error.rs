//! Turning the grammar's errors into diagnostics that say what was found and what was expected.

use crate::lexer::Tok;
use lalrpop_util::{ErrorRecovery, ParseError};
use mil_ir::{Diagnostic, Span, codes};

/// An error the grammar recovered from, as a diagnostic.
pub(crate) fn recovered(src: &str, e: &ErrorRecovery<usize, Tok, ()>) -> Diagnostic {
    diagnostic(src, &e.error)
}

/// An error the grammar met right after a whole statement that ends at `end`, when the statement
/// lacks its `;`. When the next token is on a later line (usually the next statement), the missing
/// `;` is reported at the statement's last character rather than there; on the same line, the
/// token is reported. `None` when the error happened inside the statement and the grammar backed
/// out of it (an unclosed attribute block read as a statement without one): that statement is not
/// whole.
pub(crate) fn missing_semicolon(
    src: &str,
    end: usize,
    e: &ErrorRecovery<usize, Tok, ()>,
) -> Option<Diagnostic> {
    const MESSAGE: &str = "expected `;` after the statement";
    let (token, expected) = match &e.error {
        ParseError::UnrecognizedToken {
            token: (l, _, r),
            expected,
        } => (Some((*l, *r)), expected),
        ParseError::UnrecognizedEof { expected, .. } => (None, expected),
        _ => return None,
    };
    if !expected.iter().any(|t| t == "\";\"") {
        return None;
    }
    Some(match token {
        Some((l, r)) if src.get(end..l).is_some_and(|between| !between.contains('\n')) => Diagnostic::new(
            codes::SYNTAX,
            Span::new(l, r),
            format!("unexpected `{}`; {MESSAGE}", shorten(&src[l..r])),
        ),
        _ => {
            let last = src[..end].chars().next_back().map_or(0, char::len_utf8);
            Diagnostic::new(codes::SYNTAX, Span::new(end - last, end), MESSAGE)
        }
    })
}

/// A syntax error as a diagnostic.
pub(crate) fn diagnostic(src: &str, e: &ParseError<usize, Tok, ()>) -> Diagnostic {
    let (span, message) = match e {
        ParseError::UnrecognizedToken {
            token: (l, _, r),
            expected,
        } => (
            Span::new(*l, *r),
            format!("unexpected `{}`{}", shorten(&src[*l..*r]), expectation(expected)),
        ),
        ParseError::UnrecognizedEof { location, expected } => (
            Span::new(*location, *location),
            format!("unexpected end of file{}", expectation(expected)),
        ),
        ParseError::ExtraToken { token: (l, _, r) } => (
            Span::new(*l, *r),
            format!(
                "unexpected `{}` after the end of the program",
                shorten(&src[*l..*r])
            ),
        ),
        ParseError::InvalidToken { location } => {
            (Span::new(*location, *location), "invalid token".to_string())
        }
        ParseError::User { .. } => (Span::new(0, 0), "syntax error".to_string()),
    };
    Diagnostic::new(codes::SYNTAX, span, message)
}

fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// `; expected one of `a`, `b`` with the grammar's terminal names made readable.
fn expectation(expected: &[String]) -> String {
    let mut words: Vec<String> = expected
        .iter()
        .map(|t| match t.as_str() {
            "Ident" => "a name".to_string(),
            "Int" => "an integer".to_string(),
            "Float" => "a number".to_string(),
            "Str" => "a string".to_string(),
            "TensorType" => "a type".to_string(),
            "ScalarLit" | "TensorLit" | "BlobLit" => "a typed literal".to_string(),
            "Key" | "Keyed" => "`key = value`".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"')),
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(w.clone()));
    // Keywords are names too where a name is expected; listing them would only confuse.
    if words.iter().any(|w| w == "a name") {
        words.retain(|w| w != "`program`" && w != "`func`");
    }
    match words.len() {
        0 => String::new(),
        1 => format!("; expected {}", words[0]),
        n if n <= 8 => format!("; expected one of {}", words.join(", ")),
        _ => format!("; expected one of {}, …", words[..8].join(", ")),
    }
}
