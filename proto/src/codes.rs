//! Diagnostic codes of compiling a program into a package and reading one back (MIL05xx), beside
//! the front end's in [`mil_ir::codes`].

mil_ir::codes! {
    /// A function opset with no Core ML specification version.
    UNSUPPORTED_OPSET = "MIL0501", Error, "opset without a Core ML version";
    /// A type or value the package format cannot hold (`tensor_buffer`, a literal its type cannot read).
    NOT_STORABLE = "MIL0502", Error, "type or value a package cannot hold";
    /// A function input or output that Core ML's model description cannot express.
    NOT_A_FEATURE = "MIL0503", Error, "input or output Core ML cannot describe";
    /// A positional argument whose input name the op catalogue does not know.
    UNKEYED_ARGUMENT = "MIL0504", Error, "argument without an input name";
    /// An op that the function's opset does not have yet (`scaled_dot_product_attention` in ios17).
    OP_NOT_IN_OPSET = "MIL0505", Error, "op newer than the function's opset";
    /// A Model proto the decompiler cannot turn into MIL text (not an ML program, an unknown type, an
    /// immediate value whose data does not match its type, a name that is not an identifier).
    MALFORMED_MODEL = "MIL0506", Error, "package the decompiler cannot read";
    /// A model description kept from a decompiled package (`coreml_model_description`) that no
    /// longer fits the program, or cannot be read: the description is derived from the text instead.
    DESCRIPTION_NOT_KEPT = "MIL0507", Warning, "kept model description not used";
}
