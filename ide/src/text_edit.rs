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
