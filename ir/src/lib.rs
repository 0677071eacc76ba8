//! The shared IR of MIL tools.
//!
//! A [`Program`] holds functions; each [`Function`] owns arenas of values, operations and blocks
//! addressed by stable ids. Source positions live in a separate [`SourceMap`]. Analyses return
//! their result together with a list of [`Diagnostic`]s instead of failing.

pub mod canonical;
pub mod catalogue;
pub mod constant;
pub mod diagnostic;
pub mod float;
pub mod infer;
pub mod mutate;
pub mod printer;
pub mod program;
pub mod rewrite_id;
pub mod semantics;
pub mod source_map;
pub mod span;
pub mod typecheck;
pub mod types;
pub mod verify;
pub mod weights;

pub use constant::{BlobRef, ConstData, Elements, Literal, TypedValue};
pub use diagnostic::{Code, Diagnostic, Related, Severity, codes};
pub use mutate::{EditError, Editor, NewOp, Place, RewriteId};
pub use program::{
    Argument, Attribute, Block, BlockId, Function, Name, OpId, Operand, Operation, Program, Results, Slot,
    Use, Value, ValueDef, ValueId, ValueRef,
};
pub use source_map::{
    ArgSpans, AttrSpans, BlockSpans, FunctionSpans, OpSpans, Provenance, SourceMap, ValueSpans,
};
pub use span::{ColumnUnit, LineIndex, Position, Span};
pub use types::{DType, DTypeKind, Dim, Type};
