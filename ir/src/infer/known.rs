//! What is known about values before run time: constants, and the integer tensors that shape
//! computations (`shape`, `gather`, `concat`, arithmetic, ...) derive from them.

use crate::constant::{ConstData, Elements, TypedValue};
use crate::types::Dim;

/// A value known at compile time.
#[derive(Clone, Debug, PartialEq)]
pub enum Known<'a> {
    /// A literal: a `const`'s `val`, an inline argument, or an operand given as an attribute.
    Literal(&'a TypedValue),
    /// An integer tensor computed from other known values; an element is `None` where it depends
    /// on a `?` dimension (the symbolic values coremltools tracks).
    Ints {
        /// The shape.
        shape: Vec<u64>,
        /// The elements, row-major.
        values: Vec<Option<i64>>,
    },
}

impl Known<'_> {
    /// The elements as integers (bools count as 0 and 1); `None` when they are not integers or
    /// live in a weight file.
    pub fn ints(&self) -> Option<Vec<Option<i64>>> {
        match self {
            Known::Ints { values, .. } => Some(values.clone()),
            Known::Literal(v) => {
                let e = v.elements()?;
                (0..e.len()).map(|i| e.get_i64(i).map(Some)).collect()
            }
        }
    }

    /// The elements as floats (integers and bools converted).
    pub fn floats(&self) -> Option<Vec<f64>> {
        match self {
            Known::Ints { values, .. } => values.iter().map(|v| v.map(|v| v as f64)).collect(),
            Known::Literal(v) => {
                let e = v.elements()?;
                (0..e.len()).map(|i| e.get_f64(i)).collect()
            }
        }
    }

    /// The string of a string scalar.
    pub fn string(&self) -> Option<&str> {
        match self {
            Known::Literal(v) => match &v.data {
                ConstData::Tensor(Elements::Str(s)) if s.len() == 1 => Some(&s[0]),
                _ => None,
            },
            Known::Ints { .. } => None,
        }
    }

    /// The shape, when known.
    pub fn shape(&self) -> Option<Vec<u64>> {
        match self {
            Known::Ints { shape, .. } => Some(shape.clone()),
            Known::Literal(v) => v.known_shape(),
        }
    }

    /// Whether every element is known (none depends on a `?`).
    pub fn is_complete(&self) -> bool {
        match self {
            Known::Ints { values, .. } => values.iter().all(Option::is_some),
            Known::Literal(_) => true,
        }
    }
}

/// The dims of a shape as the integers a `shape` op yields (`None` for `?`).
pub(crate) fn dims_as_ints(shape: &[Dim]) -> Vec<Option<i64>> {
    shape.iter().map(|&d| super::shape::known(d)).collect()
}
