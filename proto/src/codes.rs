//! Diagnostic codes of compiling a program into a package and reading one back (MIL05xx), beside
//! the front end's in [`mil_ir::codes`].

use mil_ir::{Code, Severity};

/// A function opset with no Core ML specification version.
pub const UNSUPPORTED_OPSET: Code = Code {
    id: "MIL0501",
    title: "opset without a Core ML version",
    severity: Severity::Error,
};

/// A type or value the package format cannot hold (`tensor_buffer`, a literal its type cannot read).
pub const NOT_STORABLE: Code = Code {
    id: "MIL0502",
    title: "type or value a package cannot hold",
    severity: Severity::Error,
};

/// A function input or output that Core ML's model description cannot express.
pub const NOT_A_FEATURE: Code = Code {
    id: "MIL0503",
    title: "input or output Core ML cannot describe",
    severity: Severity::Error,
};

/// A positional argument whose input name the op catalogue does not know.
pub const UNKEYED_ARGUMENT: Code = Code {
    id: "MIL0504",
    title: "argument without an input name",
    severity: Severity::Error,
};

/// An op that the function's opset does not have yet (`scaled_dot_product_attention` in ios17).
pub const OP_NOT_IN_OPSET: Code = Code {
    id: "MIL0505",
    title: "op newer than the function's opset",
    severity: Severity::Error,
};

/// A Model proto the decompiler cannot turn into MIL text (not an ML program, an unknown type, an
/// immediate value whose data does not match its type, a name that is not an identifier).
pub const MALFORMED_MODEL: Code = Code {
    id: "MIL0506",
    title: "package the decompiler cannot read",
    severity: Severity::Error,
};

/// Every code of this crate, in order.
pub const ALL: &[Code] = &[
    UNSUPPORTED_OPSET,
    NOT_STORABLE,
    NOT_A_FEATURE,
    UNKEYED_ARGUMENT,
    OP_NOT_IN_OPSET,
    MALFORMED_MODEL,
];
