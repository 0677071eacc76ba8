//! Diagnostics: what analysis reports instead of failing, each with a stable code.

use crate::span::Span;

/// How serious a diagnostic is (LSP's four levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The program is wrong: Core ML would reject it.
    Error,
    /// Accepted, but probably not what was meant, or not portable.
    Warning,
    /// Worth knowing.
    Information,
    /// A suggestion.
    Hint,
}

impl Severity {
    /// The lower-case name (`error`, `warning`, `information`, `hint`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
}

/// A stable diagnostic code, documented in docs/diagnostics.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    /// The code as users see it (`MIL0001`).
    pub id: &'static str,
    /// A short title for the code's documentation.
    pub title: &'static str,
    /// The severity diagnostics with this code have unless configured otherwise.
    pub severity: Severity,
}

/// One finding about a source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where, in bytes of the source.
    pub span: Span,
    /// How serious.
    pub severity: Severity,
    /// Which rule.
    pub code: Code,
    /// What is wrong, in a sentence.
    pub message: String,
    /// Other places that explain it (the first definition of a duplicate, ...).
    pub related: Vec<Related>,
}

/// A secondary location of a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub span: Span,
    /// What is there.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            severity: code.severity,
            code,
            message: message.into(),
            related: Vec::new(),
        }
    }

    /// Adds a related location.
    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            span,
            message: message.into(),
        });
        self
    }
}

/// `n` and `noun`, in the plural unless `n` is 1: "1 constant", "3 constants", "0 ops". For the
/// regular nouns messages count (ops, constants, segments, errors, values).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Whether any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// Declares diagnostic codes as `pub const`s plus `ALL`, the list of them in order; every crate with
/// codes of its own declares them with it.
#[macro_export]
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $id:literal, $sev:ident, $title:literal;)*) => {
        $( $(#[$doc])* pub const $name: $crate::Code =
            $crate::Code { id: $id, title: $title, severity: $crate::Severity::$sev }; )*
        /// Every code declared here, in order.
        pub const ALL: &[$crate::Code] = &[$($name),*];
    };
}

/// The codes of the parser and the op-independent checks.
pub mod codes {
    codes! {
        /// A token the grammar does not expect here.
        SYNTAX = "MIL0001", Error, "syntax error";
        /// Characters that form no token.
        INVALID_TOKEN = "MIL0002", Error, "invalid character";
        /// A string literal without its closing quote.
        UNTERMINATED_STRING = "MIL0003", Error, "unterminated string";
        /// A type that MIL does not have, or malformed type parameters.
        BAD_TYPE = "MIL0004", Error, "unknown or malformed type";
        /// A literal that cannot be read as its type (bad number, out of range, wrong form).
        BAD_LITERAL = "MIL0005", Error, "invalid literal";
        /// A program header MIL does not have.
        BAD_HEADER = "MIL0006", Error, "invalid program or function header";
        /// A `//` comment: not part of Core ML's format.
        COMMENT = "MIL0101", Warning, "comment";
        /// An operation without a `[name = ...]` attribute.
        MISSING_NAME = "MIL0102", Warning, "operation without a name";
        /// An argument without its `key =`.
        POSITIONAL_ARGUMENT = "MIL0103", Warning, "positional argument";
        /// A literal argument or attribute without its type (`keep_dims = true`).
        BARE_LITERAL = "MIL0104", Warning, "literal without a type";
        /// A flat list for a tensor of rank 2 or more.
        FLAT_TENSOR_LITERAL = "MIL0105", Warning, "flat list for a nested tensor";
        /// A scalar constant where the declared type is a larger tensor.
        SCALAR_FOR_TENSOR = "MIL0106", Warning, "scalar literal for a tensor constant";
        /// A decimal float where compiler output writes a hex float.
        DECIMAL_FLOAT = "MIL0107", Warning, "decimal float literal";
        /// A float literal that its dtype cannot hold exactly and that is rounded.
        INEXACT_FLOAT = "MIL0108", Warning, "float literal rounded to its dtype";
        /// A name that no parameter or operation defines.
        UNDEFINED_VALUE = "MIL0201", Error, "undefined value";
        /// A name defined twice in one function.
        DUPLICATE_DEFINITION = "MIL0202", Error, "duplicate definition";
        /// A value used before the statement that defines it.
        USE_BEFORE_DEFINITION = "MIL0203", Error, "use before definition";
        /// A returned name that is not defined.
        UNKNOWN_OUTPUT = "MIL0204", Error, "return of an unknown value";
        /// A literal whose element count differs from its declared shape.
        ELEMENT_COUNT = "MIL0205", Error, "literal element count does not match the shape";
        /// A literal whose elements do not fit its declared dtype.
        LITERAL_DTYPE = "MIL0206", Error, "literal does not match its dtype";
        /// An argument key given twice.
        DUPLICATE_ARGUMENT = "MIL0207", Error, "duplicate argument";
        /// Two operations of one function with the same `name` attribute.
        DUPLICATE_OP_NAME = "MIL0208", Error, "duplicate operation name";
        /// A constant whose declared output type differs from the type of its value.
        CONST_TYPE = "MIL0209", Error, "constant type differs from its value";
        /// An attribute key given twice.
        DUPLICATE_ATTRIBUTE = "MIL0210", Error, "duplicate attribute";
        /// A BLOBFILE path that leaves the model folder.
        BLOB_PATH_ESCAPES = "MIL0301", Error, "weight path outside the model folder";
        /// A BLOBFILE whose weight file is not there.
        BLOB_FILE_MISSING = "MIL0302", Error, "weight file not found";
        /// A BLOBFILE offset that does not point at a blob metadata record.
        BLOB_BAD_RECORD = "MIL0303", Error, "offset is not a blob record";
        /// A blob whose dtype differs from the declared type.
        BLOB_DTYPE = "MIL0304", Error, "blob dtype differs from the declared type";
        /// A blob whose size differs from what the declared type needs.
        BLOB_SIZE = "MIL0305", Error, "blob size differs from the declared type";
        /// An op type no opset has.
        UNKNOWN_OP = "MIL0401", Error, "unknown operation";
        /// An op, or the version of it used, that the function's (or the op's pinned) opset lacks.
        OP_NOT_IN_OPSET = "MIL0402", Error, "operation not available in the opset";
        /// An opset name that is not ios15..ios18 or ios26; the ops under it are not checked.
        UNKNOWN_OPSET = "MIL0403", Warning, "unknown opset";
        /// An argument key the op does not have.
        UNKNOWN_INPUT = "MIL0404", Error, "unknown input";
        /// A required input that is not given.
        MISSING_INPUT = "MIL0405", Error, "missing required input";
        /// An operand whose dtype or kind the input does not accept.
        INPUT_TYPE = "MIL0406", Error, "input type not accepted";
        /// Two inputs that share a type variable but have different dtypes.
        TYPE_VARIABLE = "MIL0407", Error, "inputs of one type variable differ";
        /// A run-time value where the op needs a value known at compile time.
        NOT_CONSTANT = "MIL0408", Error, "input must be constant";
        /// A declared output type that differs from the type the op gives.
        OUTPUT_TYPE = "MIL0409", Error, "declared type differs from the inferred type";
        /// A statement that declares more or fewer results than the op has.
        OUTPUT_COUNT = "MIL0410", Error, "wrong number of outputs";
        /// An input value the op rejects (pad_type, axes, reshape element count, ...).
        INVALID_VALUE = "MIL0411", Error, "invalid input value";
        /// Input shapes that do not fit together (broadcasting, inner dimensions, channels, ...).
        INCOMPATIBLE_SHAPES = "MIL0412", Error, "incompatible input shapes";
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_are_singular_only_for_one() {
        assert_eq!(count(0, "op"), "0 ops");
        assert_eq!(count(1, "constant"), "1 constant");
        assert_eq!(count(2, "segment"), "2 segments");
    }
}
