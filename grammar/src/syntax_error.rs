//! Turning the grammar's errors into diagnostics that say what was found and what was expected.

use crate::lexer::Tok;
use lalrpop_util::ParseError;
use mil_ir::{Diagnostic, Span, codes};

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
