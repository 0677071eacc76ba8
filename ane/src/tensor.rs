//! Reading the tensors an op touches: operand types, known shapes, sizes and constant values.

use crate::facts::Size;
use mil_ir::{Dim, Elements, Function, OpId, Operand, Operation, Type, ValueDef, ValueId};

/// The dims of a tensor, scalar or runtime buffer type (a buffer's `shape=[..]` parameter).
pub fn dims(ty: &Type) -> Option<&[Dim]> {
    match ty {
        Type::TensorBuffer { params, .. } => params
            .iter()
            .find(|(k, _)| k == "shape")
            .map(|(_, d)| d.as_slice()),
        Type::State(inner) => dims(inner),
        other => other.shape(),
    }
}

/// A shape whose dims are all known, held inline (no allocation on the per-op paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    len: usize,
    dims: [u64; Shape::MAX_RANK],
}

impl Shape {
    /// The highest rank held; MIL tensors go up to rank 6 in practice.
    pub const MAX_RANK: usize = 8;
}

impl std::ops::Deref for Shape {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        &self.dims[..self.len]
    }
}

/// The dims when all are known (and the rank is at most [`Shape::MAX_RANK`]).
pub fn known_dims(ty: &Type) -> Option<Shape> {
    let d = dims(ty)?;
    if d.len() > Shape::MAX_RANK {
        return None;
    }
    let mut shape = Shape {
        len: d.len(),
        dims: [0; Shape::MAX_RANK],
    };
    for (slot, dim) in shape.dims.iter_mut().zip(d) {
        *slot = match dim {
            Dim::Known(n) => *n,
            Dim::Unknown => return None,
        };
    }
    Some(shape)
}

/// The number of elements, when every dim is known (and their product fits in 64 bits).
pub fn elements(ty: &Type) -> Option<u64> {
    Size::of(ty).elements
}

/// The size in bytes, when every dim is known (sub-byte types round up per element).
pub fn bytes(ty: &Type) -> Option<u64> {
    Size::of(ty).bytes
}

/// The type an operand has (the first item's for a tuple).
pub fn operand_type<'a>(f: &'a Function, operand: &'a Operand) -> Option<&'a Type> {
    match operand {
        Operand::Value(r) => r.id.map(|id| &f.value(id).ty),
        Operand::Const(tv) => Some(&tv.ty),
        Operand::Tuple(items) => items.first().and_then(|o| operand_type(f, o)),
    }
}

/// Every tensor an op reads, each item of a tuple separately, with the input's key.
pub fn input_types<'a>(f: &'a Function, op: &'a Operation) -> impl Iterator<Item = (&'a str, &'a Type)> {
    op.args.iter().flat_map(move |a| {
        let key = a.key.as_deref().unwrap_or("");
        let items: &[Operand] = match &a.value {
            Operand::Tuple(items) => items,
            other => std::slice::from_ref(other),
        };
        items
            .iter()
            .filter_map(move |o| operand_type(f, o).map(|t| (key, t)))
    })
}

/// Every type an op produces.
pub fn output_types<'a>(f: &'a Function, op: &'a Operation) -> impl Iterator<Item = &'a Type> {
    op.results.iter().map(|&v| &f.value(v).ty)
}

/// The op that defines a value, if an op does.
pub fn defining_op(f: &Function, v: ValueId) -> Option<OpId> {
    match f.value(v).def {
        ValueDef::Result(op, _) => Some(op),
        _ => None,
    }
}

/// Whether an operand is known when the model is compiled: an inline literal or a `const` op's result.
pub fn is_constant(f: &Function, operand: &Operand) -> bool {
    operand.values().all(|(_, r)| {
        r.id.and_then(|v| defining_op(f, v))
            .is_some_and(|op| f.op(op).kind == "const")
    })
}

/// The elements an operand holds when it is a constant (an inline literal or a `const` op's `val`).
pub fn const_elements<'a>(f: &'a Function, operand: &'a Operand) -> Option<&'a Elements> {
    match operand {
        Operand::Const(tv) => tv.elements(),
        Operand::Value(r) => {
            let op = f.op(defining_op(f, r.id?)?);
            (op.kind == "const")
                .then(|| op.attribute("val")?.elements())
                .flatten()
        }
        Operand::Tuple(_) => None,
    }
}

/// The integers an operand holds when it is a constant.
pub fn const_ints(f: &Function, operand: &Operand) -> Option<Vec<i64>> {
    let e = const_elements(f, operand)?;
    (0..e.len()).map(|i| e.get_i64(i)).collect()
}

/// Whether an operand is a constant with an integer element above `n` (dilations, strides).
pub fn const_any_above(f: &Function, operand: &Operand, n: i64) -> bool {
    const_elements(f, operand).is_some_and(|e| (0..e.len()).any(|i| e.get_i64(i).is_some_and(|x| x > n)))
}

/// The integer an operand holds when it is a constant scalar (or its first element).
pub fn const_int(f: &Function, operand: &Operand) -> Option<i64> {
    const_elements(f, operand)?.get_i64(0)
}
