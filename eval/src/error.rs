//! What can go wrong while running a program.

use std::fmt;

/// A failure to run a program: which op (by its `name` or kind) failed and why.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError {
    /// What went wrong.
    pub message: String,
    /// The op that failed (`conv "conv_0"`), when one did.
    pub op: Option<String>,
}

/// The result of a step of evaluation.
pub type Result<T> = std::result::Result<T, EvalError>;

impl EvalError {
    /// An error with this message, not yet tied to an op.
    pub fn msg(message: impl Into<String>) -> EvalError {
        EvalError {
            message: message.into(),
            op: None,
        }
    }

    /// The same error, said to come from `op` unless it already names one.
    pub fn in_op(mut self, op: impl FnOnce() -> String) -> EvalError {
        if self.op.is_none() {
            self.op = Some(op());
        }
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            Some(op) => write!(f, "{op}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EvalError {}

/// Returns early with an [`EvalError`] built from a format string.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::EvalError::msg(format!($($arg)*)))
    };
}
