//! The op catalogue: every MIL op of the iOS15–iOS18 opsets, with its inputs, their dtypes,
//! const-ness and defaults, the opsets each version of the op belongs to, and its number of outputs.
//!
//! The tables in `generated.rs` are written by `tools/gen_catalogue.py` from coremltools' op
//! registry (`shared/reference/op_registry.json`); the output counts ([`outputs`]) and the hover
//! texts ([`docs`]) are written by hand. `ios26` functions use the iOS18 ops.
//!
//! ```
//! use mil_ir::catalogue::{self, LookupError, Opset};
//!
//! let conv = catalogue::lookup("conv", "ios17").unwrap();
//! assert!(conv.input("pad_type").unwrap().constant);
//! assert_eq!(
//!     catalogue::lookup("scaled_dot_product_attention", "ios17"),
//!     Err(LookupError::NotInOpset { first: Opset::Ios18 })
//! );
//! assert_eq!(catalogue::suggest("conv2d"), Some("conv"));
//! ```

pub mod docs;
#[rustfmt::skip]
mod generated;
pub mod outputs;
mod suggest;

pub use outputs::OutputCount;
pub use suggest::suggest;

use crate::types::DType;
use std::fmt;

/// An opset a MIL function is written against (`func main<ios17>`), in release order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Opset {
    /// iOS 15 / macOS 12 (Core ML 5).
    Ios15,
    /// iOS 16 / macOS 13 (Core ML 6).
    Ios16,
    /// iOS 17 / macOS 14 (Core ML 7).
    Ios17,
    /// iOS 18 / macOS 15 (Core ML 8).
    Ios18,
    /// iOS 26 / macOS 26: seen in hand-written files; it has the iOS18 ops.
    Ios26,
}

impl Opset {
    /// Every opset, oldest first.
    pub const ALL: [Opset; 5] = [
        Opset::Ios15,
        Opset::Ios16,
        Opset::Ios17,
        Opset::Ios18,
        Opset::Ios26,
    ];

    /// The name MIL text uses (`ios17`).
    pub fn name(self) -> &'static str {
        match self {
            Opset::Ios15 => "ios15",
            Opset::Ios16 => "ios16",
            Opset::Ios17 => "ios17",
            Opset::Ios18 => "ios18",
            Opset::Ios26 => "ios26",
        }
    }

    /// The opset spelled `name`, ignoring ASCII case (`ios17`, coremltools' `iOS17`).
    pub fn parse(name: &str) -> Option<Opset> {
        Opset::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
    }

    /// The opset whose op set this one uses: itself, except `ios26`, which uses iOS18's ops.
    pub fn ops_from(self) -> Opset {
        match self {
            Opset::Ios26 => Opset::Ios18,
            other => other,
        }
    }
}

impl fmt::Display for Opset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An op and all of its versions.
#[derive(Debug, PartialEq)]
pub struct Op {
    /// The op type as written in MIL text (`conv`).
    pub name: &'static str,
    /// Its versions, oldest first; each covers a run of consecutive opsets.
    pub versions: &'static [OpVersion],
}

impl Op {
    /// The version available in `opset`, if any.
    pub fn version_in(&self, opset: Opset) -> Option<&'static OpVersion> {
        self.versions.iter().find(|v| v.available_in(opset))
    }

    /// The oldest opset that has the op.
    pub fn first_opset(&self) -> Opset {
        self.versions[0].opsets[0]
    }
}

/// One definition of an op, valid in the opsets listed in `opsets`.
#[derive(Debug, PartialEq)]
pub struct OpVersion {
    /// The op type (`conv`).
    pub name: &'static str,
    /// The coremltools class defining this version, below `coremltools.converters.mil.mil.ops.defs`
    /// (`iOS17.conv.conv`); `None` for ops Core ML writes that coremltools does not register.
    pub class: Option<&'static str>,
    /// The opsets with this version, oldest first and consecutive; never `ios26`, which
    /// [uses](Opset::ops_from) the iOS18 ops.
    pub opsets: &'static [Opset],
    /// The inputs, in coremltools' order.
    pub inputs: &'static [Input],
    /// The type variables the inputs (and outputs) share, with the dtypes each may take.
    pub type_domains: &'static [TypeDomain],
}

impl OpVersion {
    /// Whether a function of `opset` may use this version.
    pub fn available_in(&self, opset: Opset) -> bool {
        self.opsets.contains(&opset.ops_from())
    }

    /// The opset that introduced this version.
    pub fn since(&self) -> Opset {
        self.opsets[0]
    }

    /// The input called `key`.
    pub fn input(&self, key: &str) -> Option<&'static Input> {
        self.inputs.iter().find(|i| i.name == key)
    }

    /// The position of input `key` in [`OpVersion::inputs`].
    pub fn input_index(&self, key: &str) -> Option<usize> {
        self.inputs.iter().position(|i| i.name == key)
    }

    /// The inputs that must be given.
    pub fn required_inputs(&self) -> impl Iterator<Item = &'static Input> + use<> {
        self.inputs.iter().filter(|i| !i.optional)
    }

    /// The dtypes type variable `id` may take.
    pub fn type_domain(&self, id: &str) -> Option<&'static [DType]> {
        self.type_domains.iter().find(|d| d.id == id).map(|d| d.dtypes)
    }

    /// How many results the op has.
    pub fn outputs(&self) -> OutputCount {
        outputs::output_count(self)
    }
}

/// One input of an op version.
#[derive(Debug, PartialEq)]
pub struct Input {
    /// The key in MIL text (`x`, `pad_type`).
    pub name: &'static str,
    /// What kind of value it takes.
    pub kind: InputKind,
    /// Whether it may be left out.
    pub optional: bool,
    /// Whether its value must be known when the model is compiled (a const or an inline literal).
    pub constant: bool,
    /// The type variable (`T`) tying its dtype to other inputs and outputs, if any.
    pub type_var: Option<&'static str>,
    /// The dtypes it accepts: the domain of `type_var` when there is one. Empty for inputs that
    /// are not tensors (lists, states, blocks).
    pub dtypes: &'static [DType],
    /// What an absent optional input means; `None` for required inputs.
    pub default: Option<DefaultValue>,
}

/// What kind of value an input takes (coremltools' input-type classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A tensor, or a scalar (`TensorInputType`); coremltools does not tell them apart.
    Tensor,
    /// A `list<T, N>` made by `make_list` (`ListInputType`), or a const list for `classify`.
    List,
    /// A variadic tuple of values, `values = (a, b, c)` (`TupleInputType`).
    Tuple,
    /// A tensor, list or dict (`ListOrTensorOrDictInputType`, only `identity.x`).
    ListOrTensorOrDict,
    /// A `state<T>` function input (`StateInputType`).
    State,
    /// A `tensor_buffer<...>` of Core ML's runtime analytics files.
    TensorBuffer,
    /// A nested block of `cond` or `while_loop` (`PyFunctionInputType`): written as `{ ... }` after
    /// the arguments, never as an argument.
    Block,
    /// coremltools bookkeeping (`InternalInputType`): `const`'s `val`, which MIL text writes as an
    /// attribute, and `_existing_blocks`, which never appears in MIL text.
    Internal,
}

/// A type variable of an op version and its dtypes.
#[derive(Debug, PartialEq)]
pub struct TypeDomain {
    /// Its name in coremltools (`T`, `SrcT`).
    pub id: &'static str,
    /// The dtypes it may stand for.
    pub dtypes: &'static [DType],
}

/// What an absent optional input means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DefaultValue {
    /// This bool.
    Bool(bool),
    /// This integer.
    Int(i64),
    /// This float.
    Float(f64),
    /// This string (`"valid"`, `"tanh"`).
    Str(&'static str),
    /// No value: the op has a documented behaviour without it (reduce over all axes, no bias, ...).
    Absent,
    /// Computed from other inputs (conv's strides are 1 for every spatial dim of `x`, ...).
    DependsOnInputs,
    /// coremltools lists no default; the op decides what absence means (`split` needs one of
    /// `num_splits` and `split_sizes`).
    HandledByOp,
}

/// The dtypes of an input that takes a tensor of any dtype.
const ANY_DTYPE: &[DType] = &DType::ALL;

/// Why [`lookup`] found no op version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// The opset is not one of `ios15`..`ios18`, `ios26`.
    UnknownOpset,
    /// No opset has an op of this name.
    UnknownOp,
    /// The op exists, but only from opset `first` on.
    NotInOpset {
        /// The oldest opset that has the op.
        first: Opset,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::UnknownOpset => f.write_str("unknown opset"),
            LookupError::UnknownOp => f.write_str("unknown op"),
            LookupError::NotInOpset { first } => write!(f, "op not available before {first}"),
        }
    }
}

impl std::error::Error for LookupError {}

/// Every op, sorted by name.
pub fn ops() -> &'static [Op] {
    generated::OPS
}

/// The op called `name`, in any opset.
pub fn op(name: &str) -> Option<&'static Op> {
    let ops = ops();
    ops.binary_search_by(|op| op.name.cmp(name)).ok().map(|i| &ops[i])
}

/// The version of op `name` that a function of `opset` (`"ios17"`) uses.
pub fn lookup(name: &str, opset: &str) -> Result<&'static OpVersion, LookupError> {
    lookup_in(name, Opset::parse(opset).ok_or(LookupError::UnknownOpset)?)
}

/// The version of op `name` that a function of `opset` uses.
pub fn lookup_in(name: &str, opset: Opset) -> Result<&'static OpVersion, LookupError> {
    let op = op(name).ok_or(LookupError::UnknownOp)?;
    op.version_in(opset).ok_or(LookupError::NotInOpset {
        first: op.first_opset(),
    })
}

/// The versions available in `opset`, sorted by op name (for completion).
pub fn ops_in(opset: Opset) -> impl Iterator<Item = &'static OpVersion> {
    ops().iter().filter_map(move |op| op.version_in(opset))
}

#[cfg(test)]
mod tests;
