//! What the rules and the cost model read of an op, read once: its kind, and the sizes (dtype,
//! rank, elements, bytes, widest dim) of what it reads and writes, with their totals.
//!
//! Every rule and the cost model used to walk an op's operands and types again for itself; reading
//! the IR (each op's arguments, results and dims live in separate heap blocks) was most of the
//! placement's time. Now one walk of each op's operands and results feeds them all. Sizes are read
//! per op rather than cached per value: an op's inputs were produced a few ops earlier and are
//! still in the cache, while a table filled by a separate pass over the values costs a second miss
//! per value (measured: 5–10 ms slower on 160k ops).

use crate::kind::Kind;
use crate::tensor::{bytes, dims, elements, operand_type, widest_dim};
use mil_ir::{DType, Function, OpId, Operand, Operation, Type};

/// What is known of one type's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// The element type.
    pub dtype: Option<DType>,
    /// The rank, when the type has dims ([`dims`]).
    pub rank: Option<usize>,
    /// The number of elements, when every dim is known.
    pub elements: Option<u64>,
    /// The size in bytes, when every dim is known ([`bytes`]).
    pub bytes: Option<u64>,
    /// The largest known dim (0 when none is known).
    pub widest: u64,
}

impl Size {
    /// The size of `ty`.
    pub fn of(ty: &Type) -> Size {
        Size {
            dtype: ty.dtype(),
            rank: dims(ty).map(<[_]>::len),
            elements: elements(ty),
            bytes: bytes(ty),
            widest: widest_dim(ty),
        }
    }

    /// Whether the element type is int32.
    pub fn is_int32(&self) -> bool {
        self.dtype == Some(DType::Int32)
    }
}

/// The inputs the rules and the cost model look up by name on many ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// `x`.
    X,
    /// `y`.
    Y,
    /// `weight`.
    Weight,
    /// `groups`.
    Groups,
    /// `dilations`.
    Dilations,
    /// `transpose_x`.
    TransposeX,
}

impl Input {
    /// The input called `key` of an op of `kind`, if it is one the rules or the cost model look
    /// up: `groups` on any op (limits), the others only on conv, conv_transpose, linear and matmul.
    /// Reading a key's text is a cache miss of its own, so other ops' keys are not read.
    fn of(kind: Kind, key: &str) -> Option<Input> {
        let named = matches!(
            kind,
            Kind::Conv | Kind::ConvTranspose | Kind::Linear | Kind::Matmul
        );
        if !named {
            return (key == "groups").then_some(Input::Groups);
        }
        Some(match key {
            "x" => Input::X,
            "y" => Input::Y,
            "weight" => Input::Weight,
            "groups" => Input::Groups,
            "dilations" => Input::Dilations,
            "transpose_x" => Input::TransposeX,
            _ => return None,
        })
    }
}

/// One op and the totals over the tensors it reads (each item of a tuple separately) and writes.
pub struct OpFacts<'a> {
    /// The op's id.
    pub id: OpId,
    /// The op.
    pub op: &'a Operation,
    /// Its kind.
    pub kind: Kind,
    /// Bytes read, over the inputs whose size is known.
    pub in_bytes: u64,
    /// Bytes written, over the results whose size is known.
    pub out_bytes: u64,
    /// Bytes of the inline constants among its arguments (weights written in the op).
    pub inline_bytes: u64,
    /// The largest known dim of any input or result.
    pub widest: u64,
    /// Whether an input is an int32 scalar (rank 0).
    pub int32_scalar_in: bool,
    /// Whether a result is int32.
    pub int32_out: bool,
    /// The first result's type and size.
    pub first_out: Option<(&'a Type, Size)>,
    /// The operands bound to the [`Input`]s, by [`Input`] index (the first, like [`Operation::arg`]).
    inputs: [Option<&'a Operand>; 6],
}

impl<'a> OpFacts<'a> {
    /// Walks the operands and results of op `id` of `f` once.
    pub fn new(f: &'a Function, id: OpId) -> OpFacts<'a> {
        let op = f.op(id);
        let mut facts = OpFacts {
            id,
            op,
            kind: Kind::of(&op.kind),
            in_bytes: 0,
            out_bytes: 0,
            inline_bytes: 0,
            widest: 0,
            int32_scalar_in: false,
            int32_out: false,
            first_out: None,
            inputs: [None; 6],
        };
        for a in &op.args {
            if let Some(input) = a.key.as_deref().and_then(|k| Input::of(facts.kind, k)) {
                facts.inputs[input as usize].get_or_insert(&a.value);
            }
            match &a.value {
                Operand::Const(tv) => {
                    let s = Size::of(&tv.ty);
                    facts.inline_bytes += s.bytes.unwrap_or(0);
                    facts.read(s);
                }
                Operand::Tuple(items) => items
                    .iter()
                    .filter_map(|o| operand_type(f, o))
                    .map(Size::of)
                    .for_each(|s| facts.read(s)),
                one => operand_type(f, one)
                    .map(Size::of)
                    .into_iter()
                    .for_each(|s| facts.read(s)),
            }
        }
        for &v in &op.results {
            let ty = &f.value(v).ty;
            let s = Size::of(ty);
            facts.out_bytes += s.bytes.unwrap_or(0);
            facts.widest = facts.widest.max(s.widest);
            facts.int32_out |= s.is_int32();
            facts.first_out.get_or_insert((ty, s));
        }
        facts
    }

    /// The operand bound to `input`, like [`Operation::arg`] without comparing names again.
    pub fn arg(&self, input: Input) -> Option<&'a Operand> {
        self.inputs[input as usize]
    }

    fn read(&mut self, s: Size) {
        self.in_bytes += s.bytes.unwrap_or(0);
        self.widest = self.widest.max(s.widest);
        self.int32_scalar_in |= s.is_int32() && s.rank == Some(0);
    }
}
