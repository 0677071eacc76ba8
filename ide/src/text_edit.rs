//! A replacement of a byte span of a document's text, as rename, formatting and code actions
//! answer.

use mil_ir::Span;

/// `span` of the text becomes `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    /// The bytes replaced.
    pub span: Span,
    /// What replaces them.
    pub text: String,
}

impl TextEdit {
    /// Replaces `span` with `text`.
    pub fn new(span: Span, text: impl Into<String>) -> TextEdit {
        TextEdit {
            span,
            text: text.into(),
        }
    }
}

/// `text` with `edits` (which do not overlap) made.
pub fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = text.to_string();
    for e in edits {
        out.replace_range(e.span.range(), &e.text);
    }
    out
}
