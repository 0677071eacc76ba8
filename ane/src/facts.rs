//! What the rules and the cost model read of an op, read once: its kind, and the sizes (dtype,
//! rank, elements, bytes, widest dim) of what it reads and writes, with their totals.
//!
//! Every rule and the cost model used to walk an op's operands and types again for itself; reading
//! the IR (each op's arguments, results and dims live in separate heap blocks) was most of the
//! placement's time. Now one walk of each op's operands and results feeds them all. An op notes
//! what its results' sizes add to a reader ([`Sizes`]) as it is walked, and the ops reading them a
//! few ops later take that instead of walking the type again (26 M fewer instructions on 160k ops).
//! The table is filled during the walk, not by a pass of its own: a separate pass over the values
//! costs a second miss per value (measured: 5–10 ms slower on 160k ops).

use crate::kind::Kind;
use crate::tensor::{dims, operand_type};
use mil_ir::{DType, Dim, Function, OpId, Operand, Operation, Type};

/// What is known of one type's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// The element type.
    pub dtype: Option<DType>,
    /// The rank, when the type has dims ([`dims`]).
    pub rank: Option<usize>,
    /// The number of elements, when every dim is known ([`elements`](crate::tensor::elements)).
    pub elements: Option<u64>,
    /// The size in bytes, when every dim is known ([`bytes`](crate::tensor::bytes)).
    pub bytes: Option<u64>,
    /// The largest known dim (0 when none is known).
    pub widest: u64,
    /// The last dim, when the type has dims and the last is known.
    pub last: Option<u64>,
}

impl Size {
    /// The size of `ty`, from one walk of its dims.
    pub fn of(ty: &Type) -> Size {
        let dtype = ty.dtype();
        let Some(d) = dims(ty) else {
            return Size {
                dtype,
                ..Size::default()
            };
        };
        // The product and whether it is exact: every dim known and no overflow.
        let (mut product, mut exact, mut widest) = (1u64, true, 0);
        for dim in d {
            match *dim {
                Dim::Known(n) => {
                    widest = widest.max(n);
                    let (p, overflow) = product.overflowing_mul(n);
                    product = p;
                    exact &= !overflow;
                }
                Dim::Unknown => exact = false,
            }
        }
        let elements = exact.then_some(product);
        let bits = dtype.and_then(DType::bits).map(u64::from);
        Size {
            dtype,
            rank: Some(d.len()),
            elements,
            bytes: bits.zip(elements).map(|(b, e)| e.saturating_mul(b.div_ceil(8))),
            widest,
            last: match d.last() {
                Some(Dim::Known(n)) => Some(*n),
                _ => None,
            },
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
    /// Whether an input may be int32, constant or not: an input (or tuple item) is int32, or a
    /// tuple nests in another (only files with errors hold one), whose items are not read here.
    pub int32_in: bool,
    /// Whether a result is int32.
    pub int32_out: bool,
    /// The first result's type and size.
    pub first_out: Option<(&'a Type, Size)>,
    /// The operands bound to the [`Input`]s, by [`Input`] index (the first, like [`Operation::arg`]).
    inputs: [Option<&'a Operand>; 6],
}

impl<'a> OpFacts<'a> {
    /// Walks the operands and results of op `id` of `f` once; `sizes` holds what earlier ops noted of
    /// their results, and gets this op's.
    pub fn new(f: &'a Function, id: OpId, sizes: &mut Sizes) -> OpFacts<'a> {
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
            int32_in: false,
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
                    facts.read(Read::of(&s));
                }
                Operand::Tuple(items) => {
                    for o in items {
                        facts.int32_in |= matches!(o, Operand::Tuple(_));
                        facts.read_operand(f, sizes, o);
                    }
                }
                one => facts.read_operand(f, sizes, one),
            }
        }
        for &v in &op.results {
            let ty = &f.value(v).ty;
            let s = Size::of(ty);
            sizes.0[v.index()] = Some(Read::of(&s));
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

    /// Reads one operand (not a tuple): a value an earlier op noted, or the operand's type.
    fn read_operand(&mut self, f: &Function, sizes: &Sizes, o: &Operand) {
        let noted = match o {
            Operand::Value(r) => r.id.and_then(|v| sizes.0[v.index()]),
            _ => None,
        };
        if let Some(read) = noted.or_else(|| operand_type(f, o).map(|ty| Read::of(&Size::of(ty)))) {
            self.read(read);
        }
    }

    fn read(&mut self, read: Read) {
        self.in_bytes += read.bytes;
        self.widest = self.widest.max(read.widest);
        self.int32_scalar_in |= read.int32 && read.scalar;
        self.int32_in |= read.int32;
    }
}

/// What reading a tensor as an input adds to an op's facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Read {
    /// Its bytes (0 when unknown).
    bytes: u64,
    /// Its widest known dim.
    widest: u64,
    /// Whether it is int32.
    int32: bool,
    /// Whether it has rank 0.
    scalar: bool,
}

impl Read {
    /// What reading a tensor of size `s` adds.
    fn of(s: &Size) -> Read {
        Read {
            bytes: s.bytes.unwrap_or(0),
            widest: s.widest,
            int32: s.is_int32(),
            scalar: s.rank == Some(0),
        }
    }
}

/// What the ops walked so far noted of their results' sizes, by value: the ops reading a value (a
/// few ops later) take it from here instead of walking its type again.
pub struct Sizes(Vec<Option<Read>>);

impl Sizes {
    /// Nothing noted yet, for the values of `f`.
    pub fn new(f: &Function) -> Sizes {
        Sizes(vec![None; f.values.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::Size;
    use mil_ir::{DType, Dim, Type};

    fn size(dtype: DType, rank: usize, elements: Option<u64>, bytes: Option<u64>, widest: u64) -> Size {
        Size {
            dtype: Some(dtype),
            rank: Some(rank),
            elements,
            bytes,
            widest,
            last: None,
        }
    }

    #[test]
    fn a_types_size_from_one_walk_of_its_dims() {
        let big = Dim::Known(1 << 40);
        let tensor = |dtype, dims: &[Dim]| Type::Tensor {
            dtype,
            shape: dims.to_vec(),
        };
        let cases = [
            (
                Type::tensor(DType::Fp16, &[1, 32, 16, 16]),
                Size {
                    last: Some(16),
                    ..size(DType::Fp16, 4, Some(8192), Some(16384), 32)
                },
            ),
            (
                Type::tensor(DType::Int32, &[]),
                size(DType::Int32, 0, Some(1), Some(4), 0),
            ),
            // A sub-byte element takes a whole byte.
            (
                Type::Scalar(DType::UInt4),
                size(DType::UInt4, 0, Some(1), Some(1), 0),
            ),
            // A `?` leaves the count unknown but not the widest or last known dim.
            (
                tensor(DType::Fp32, &[Dim::Known(7), Dim::Unknown, Dim::Known(9)]),
                Size {
                    last: Some(9),
                    ..size(DType::Fp32, 3, None, None, 9)
                },
            ),
            // A product past 64 bits is not a count.
            (
                tensor(DType::Fp16, &[big, big, Dim::Known(3)]),
                Size {
                    last: Some(3),
                    ..size(DType::Fp16, 3, None, None, 1 << 40)
                },
            ),
            (
                Type::State(Box::new(Type::tensor(DType::Int8, &[2, 3]))),
                Size {
                    last: Some(3),
                    ..size(DType::Int8, 2, Some(6), Some(6), 3)
                },
            ),
            // A runtime buffer's size is its `shape=[..]` parameter's.
            (
                Type::TensorBuffer {
                    dtype: DType::Fp16,
                    params: vec![("shape".into(), vec![Dim::Known(4), Dim::Known(64)])],
                },
                Size {
                    last: Some(64),
                    ..size(DType::Fp16, 2, Some(256), Some(512), 64)
                },
            ),
            // Strings have no byte size.
            (
                tensor(DType::String, &[Dim::Known(5)]),
                Size {
                    last: Some(5),
                    ..size(DType::String, 1, Some(5), None, 5)
                },
            ),
            (Type::Tuple(vec![]), Size::default()),
        ];
        for (ty, expected) in cases {
            assert_eq!(Size::of(&ty), expected, "{ty:?}");
        }
    }
}
