//! What an op's inference rule may ask about its inputs: their declared types and, for inputs
//! known before run time, their values.

use super::Problem;
use super::bind::{Binding, Source};
use super::known::Known;
use crate::catalogue::{OpVersion, Opset};
use crate::program::{Function, Operand, Operation};
use crate::types::{DType, Dim, Type};

/// One op under inference, with access to its inputs.
pub(crate) struct Ctx<'c, 'a> {
    /// The function holding the op.
    pub f: &'a Function,
    /// The op.
    pub op: &'a Operation,
    /// Its catalogue version.
    pub version: &'static OpVersion,
    /// The opset it is used in (its pin, or its function's).
    pub opset: Opset,
    /// Its inputs' sources.
    pub binding: &'c Binding<'a>,
    /// What is known about the function's values so far, by value id.
    pub known: &'c [Option<Known<'a>>],
}

impl<'c, 'a> Ctx<'c, 'a> {
    /// The source of input `key`, if the op is given one.
    pub fn source(&self, key: &str) -> Option<Source<'a>> {
        let i = self.version.input_index(key)?;
        self.binding.inputs[i]
    }

    /// Whether input `key` is given.
    pub fn has(&self, key: &str) -> bool {
        self.source(key).is_some()
    }

    /// The declared type of input `key`; unknown when it is absent, a tuple, names an undefined
    /// value, or has a type that could not be read.
    pub fn ty(&self, key: &str) -> Result<&'a Type, Problem> {
        match self.source(key).ok_or(Problem::Unknown)? {
            Source::Arg(_, operand) => self.operand_type(operand),
            Source::Attr(_, value) => readable(&value.ty),
        }
    }

    /// The type of an operand (not a tuple).
    pub fn operand_type(&self, operand: &'a Operand) -> Result<&'a Type, Problem> {
        match operand {
            Operand::Value(r) => readable(&self.f.value(r.id.ok_or(Problem::Unknown)?).ty),
            Operand::Const(v) => readable(&v.ty),
            Operand::Tuple(_) => Err(Problem::Unknown),
        }
    }

    /// The dtype and shape of tensor input `key` (a bare scalar has shape `[]`).
    pub fn tensor(&self, key: &str) -> Result<(DType, &'a [Dim]), Problem> {
        tensor_of(self.ty(key)?)
    }

    /// The shape of tensor input `key`.
    pub fn shape(&self, key: &str) -> Result<&'a [Dim], Problem> {
        Ok(self.tensor(key)?.1)
    }

    /// The dtype of tensor input `key`.
    pub fn dtype(&self, key: &str) -> Result<DType, Problem> {
        Ok(self.tensor(key)?.0)
    }

    /// The types of the items of tuple input `key`.
    pub fn tuple(&self, key: &str) -> Result<Vec<&'a Type>, Problem> {
        self.tuple_operands(key)?
            .iter()
            .map(|o| self.operand_type(o))
            .collect()
    }

    /// The items of tuple input `key`.
    pub fn tuple_operands(&self, key: &str) -> Result<&'a [Operand], Problem> {
        match self.source(key).ok_or(Problem::Unknown)? {
            Source::Arg(_, Operand::Tuple(items)) => Ok(items),
            _ => Err(Problem::Unknown),
        }
    }

    /// What is known about an operand's value.
    pub fn operand_value(&self, operand: &'a Operand) -> Option<Known<'a>> {
        match operand {
            Operand::Value(r) => self.known.get(r.id?.index())?.clone(),
            Operand::Const(v) => Some(Known::Literal(v)),
            Operand::Tuple(_) => None,
        }
    }

    /// What is known about the value of input `key`.
    pub fn value(&self, key: &str) -> Option<Known<'a>> {
        match self.source(key)? {
            Source::Arg(_, operand) => self.operand_value(operand),
            Source::Attr(_, value) => Some(Known::Literal(value)),
        }
    }

    /// The integer elements of input `key`, `None` for those that depend on a `?`; unknown when the
    /// input is absent or not known before run time.
    pub fn sym_ints(&self, key: &str) -> Result<Vec<Option<i64>>, Problem> {
        self.value(key).and_then(|k| k.ints()).ok_or(Problem::Unknown)
    }

    /// The integer elements of input `key`, every one known.
    pub fn ints(&self, key: &str) -> Result<Vec<i64>, Problem> {
        self.sym_ints(key)?
            .into_iter()
            .collect::<Option<_>>()
            .ok_or(Problem::Unknown)
    }

    /// The single integer of input `key`.
    pub fn int(&self, key: &str) -> Result<i64, Problem> {
        match self.ints(key)?.as_slice() {
            [v] => Ok(*v),
            _ => Err(Problem::invalid(key, "must be a single integer")),
        }
    }

    /// The integer of input `key`, or `default` when it is not given.
    pub fn int_or(&self, key: &str, default: i64) -> Result<i64, Problem> {
        if self.has(key) { self.int(key) } else { Ok(default) }
    }

    /// The integers of input `key`, or `default` when it is not given.
    pub fn ints_or(&self, key: &str, default: impl FnOnce() -> Vec<i64>) -> Result<Vec<i64>, Problem> {
        if self.has(key) {
            self.ints(key)
        } else {
            Ok(default())
        }
    }

    /// The bool of input `key`, or `default` when it is not given.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, Problem> {
        if self.has(key) {
            Ok(self.int(key)? != 0)
        } else {
            Ok(default)
        }
    }

    /// The bools of input `key` (a mask), `None` when it is not given.
    pub fn bools(&self, key: &str) -> Result<Option<Vec<bool>>, Problem> {
        if !self.has(key) {
            return Ok(None);
        }
        Ok(Some(self.ints(key)?.into_iter().map(|v| v != 0).collect()))
    }

    /// The single float of input `key`, or `default` when it is not given.
    pub fn float_or(&self, key: &str, default: f64) -> Result<f64, Problem> {
        if !self.has(key) {
            return Ok(default);
        }
        match self
            .value(key)
            .and_then(|k| k.floats())
            .ok_or(Problem::Unknown)?
            .as_slice()
        {
            [v] => Ok(*v),
            _ => Err(Problem::invalid(key, "must be a single number")),
        }
    }

    /// The string of input `key`, or `default` when it is not given.
    pub fn string_or(&self, key: &str, default: &'static str) -> Result<String, Problem> {
        if !self.has(key) {
            return Ok(default.to_string());
        }
        let known = self.value(key).ok_or(Problem::Unknown)?;
        known.string().map(str::to_string).ok_or(Problem::Unknown)
    }
}

/// A type that was read (not [`Type::Invalid`]).
fn readable(ty: &Type) -> Result<&Type, Problem> {
    match ty {
        Type::Invalid(_) => Err(Problem::Unknown),
        t => Ok(t),
    }
}

/// The dtype and shape of a tensor or scalar type.
pub(crate) fn tensor_of(ty: &Type) -> Result<(DType, &[Dim]), Problem> {
    match ty {
        Type::Tensor { dtype, shape } => Ok((*dtype, shape)),
        Type::Scalar(dtype) => Ok((*dtype, &[])),
        _ => Err(Problem::Unknown),
    }
}

impl Ctx<'_, '_> {
    /// Whether input `key` is a literal or the result of a `const` op (coremltools' test for a
    /// "const" matmul operand).
    pub fn is_const_op(&self, key: &str) -> bool {
        match self.source(key) {
            Some(Source::Attr(..)) | Some(Source::Arg(_, Operand::Const(_))) => true,
            Some(Source::Arg(_, Operand::Value(r))) => r.id.is_some_and(|id| {
                matches!(self.f.value(id).def, crate::program::ValueDef::Result(op, _) if self.f.op(op).kind == "const")
            }),
            _ => false,
        }
    }
}
