//! What the rewrites share: reading an op's operands and type, and a builder that inserts a chain
//! of ops before the op it replaces and then hands its uses to the chain's last value.

use crate::NotApplicable;
use half::f16;
use mil_ir::mutate::{EditError, Editor, NewOp, Place};
use mil_ir::{ConstData, DType, Dim, Elements, Function, OpId, Operand, Type, TypedValue, ValueDef, ValueId};

/// The value bound to `key` of `op`, if it is a plain value.
pub fn value_arg(f: &Function, op: OpId, key: &str) -> Option<ValueId> {
    match f.op(op).arg(key)? {
        Operand::Value(r) => r.id,
        _ => None,
    }
}

/// The constant bound to `key` of `op`: inline, or the `val` of the `const` op the value comes from.
pub fn const_arg<'f>(f: &'f Function, op: OpId, key: &str) -> Option<&'f TypedValue> {
    match f.op(op).arg(key)? {
        Operand::Const(v) => Some(v),
        Operand::Value(r) => match f.value(r.id?).def {
            ValueDef::Result(def, 0) if f.op(def).kind == "const" => f.op(def).attribute("val"),
            _ => None,
        },
        Operand::Tuple(_) => None,
    }
}

/// The operand bound to `key` of `op`, to be read by a new op (a value or an inline constant).
pub fn operand_arg(f: &Function, op: OpId, key: &str) -> Option<Operand> {
    match f.op(op).arg(key)? {
        Operand::Tuple(_) => None,
        operand => Some(operand.clone()),
    }
}

/// The known shape of the value or constant bound to `key` of `op`.
pub fn arg_shape(f: &Function, op: OpId, key: &str) -> Option<Vec<u64>> {
    let ty = match f.op(op).arg(key)? {
        Operand::Value(r) => f.value(r.id?).ty.clone(),
        Operand::Const(v) => v.ty.clone(),
        Operand::Tuple(_) => return None,
    };
    known_shape(&ty).ok()
}

/// Checks that those of `keys` that `op` binds hold elements of `dtype` (an op mixing dtypes is
/// already an error, which the rewritten ops would multiply).
pub fn same_dtype(f: &Function, op: OpId, dtype: DType, keys: &[&str]) -> Result<(), NotApplicable> {
    for key in keys {
        let ty = match f.op(op).arg(key) {
            None => continue,
            Some(Operand::Value(r)) => r.id.map(|v| f.value(v).ty.dtype()),
            Some(Operand::Const(v)) => Some(v.ty.dtype()),
            Some(Operand::Tuple(_)) => None,
        };
        NotApplicable::unless(ty == Some(Some(dtype)), || {
            format!("`{key}` is not {}", dtype.name())
        })?;
    }
    Ok(())
}

/// The string constant bound to `key` of `op`; `default` when `key` is absent.
pub fn const_str(f: &Function, op: OpId, key: &str, default: &str) -> Option<String> {
    if f.op(op).arg(key).is_none() {
        return Some(default.into());
    }
    const_arg(f, op, key)?.as_str().map(str::to_string)
}

/// The integer constants bound to `key` of `op` (a scalar or a vector).
pub fn const_ints(f: &Function, op: OpId, key: &str) -> Option<Vec<i64>> {
    let e = const_arg(f, op, key)?.elements()?;
    (0..e.len()).map(|i| e.get_i64(i)).collect()
}

/// The single integer or bool constant bound to `key` of `op`; `default` when `key` is absent.
pub fn const_int(f: &Function, op: OpId, key: &str, default: i64) -> Option<i64> {
    if f.op(op).arg(key).is_none() {
        return Some(default);
    }
    match const_arg(f, op, key)?.elements()? {
        e if e.len() == 1 => e.get_i64(0),
        _ => None,
    }
}

/// The value bound to `key` of `op`, which the precondition has checked.
pub fn input(f: &Function, op: OpId, key: &str) -> Result<ValueId, EditError> {
    value_arg(f, op, key).ok_or_else(|| EditError::Unresolved(key.into()))
}

/// The type of `op`'s single result, which must be a float tensor (fp16 or fp32).
pub fn float_result(f: &Function, op: OpId) -> Result<Type, NotApplicable> {
    let o = f.op(op);
    let kind = &o.kind;
    NotApplicable::unless(o.results.len() == 1, || "the op has no single result".into())?;
    let ty = f.value(o.results[0]).ty.clone();
    let dtype = ty.dtype();
    NotApplicable::unless(matches!(dtype, Some(DType::Fp16 | DType::Fp32)), || {
        format!(
            "`{kind}` computes in {}, not fp16 or fp32",
            dtype.map_or("?", |d| d.name())
        )
    })?;
    Ok(ty)
}

/// Checks that `op`'s `keys` are values of the result's type (no inline constants or broadcasting,
/// which the rewritten ops would have to spell out).
pub fn same_typed_inputs(f: &Function, op: OpId, ty: &Type, keys: &[&str]) -> Result<(), NotApplicable> {
    for key in keys {
        let v = value_arg(f, op, key)
            .ok_or_else(|| NotApplicable(format!("`{key}` is not a value of the program")))?;
        NotApplicable::unless(&f.value(v).ty == ty, || {
            format!("`{key}` has another type than the result (broadcasting)")
        })?;
    }
    Ok(())
}

/// The precondition of an elementwise rewrite of `x`: a float result, and `x` of its type.
pub fn unary(f: &Function, op: OpId) -> Result<(), NotApplicable> {
    same_typed_inputs(f, op, &float_result(f, op)?, &["x"])
}

/// The precondition of an elementwise rewrite of `x` and `y`: a float result, both of its type.
pub fn binary(f: &Function, op: OpId) -> Result<(), NotApplicable> {
    same_typed_inputs(f, op, &float_result(f, op)?, &["x", "y"])
}

/// The most elements a rewrite puts in one constant it makes: 4 Mi (8 MiB in fp16).
pub const MAX_CONSTANT: u64 = 1 << 22;

/// The dims of `ty`, when all are known.
pub fn known_shape(ty: &Type) -> Result<Vec<u64>, NotApplicable> {
    let dims = ty.shape().unwrap_or_default().iter();
    dims.map(|d| match d {
        Dim::Known(n) => Some(*n),
        Dim::Unknown => None,
    })
    .collect::<Option<_>>()
    .ok_or_else(|| NotApplicable("the shape is not known".into()))
}

/// A scalar constant of `dtype` holding `v`, as an inline operand.
pub fn scalar(dtype: DType, v: f64) -> Operand {
    Operand::Const(TypedValue {
        ty: Type::Scalar(dtype),
        data: ConstData::Tensor(float_elements(dtype, vec![v])),
    })
}

/// A list of integers (a shape, a permutation) as an inline `tensor<int32, [n]>` operand.
pub fn ints(values: &[i64]) -> Operand {
    Operand::Const(TypedValue {
        ty: Type::tensor(DType::Int32, &[values.len() as u64]),
        data: ConstData::Tensor(Elements::Int(values.to_vec())),
    })
}

/// A shape, or other dims (a slice's begin, strides, pads), as an inline `tensor<int32, [n]>`
/// operand.
pub fn shape_operand(shape: &[u64]) -> Operand {
    ints(&shape.iter().map(|&d| d as i64).collect::<Vec<_>>())
}

/// An int32 scalar as an inline operand.
pub fn int32(v: i64) -> Operand {
    Operand::Const(TypedValue {
        ty: Type::Scalar(DType::Int32),
        data: ConstData::Tensor(Elements::Int(vec![v])),
    })
}

/// A string scalar as an inline operand.
pub fn string(s: &str) -> Operand {
    Operand::Const(TypedValue::string(s))
}

/// A bool scalar as an inline operand.
pub fn boolean(b: bool) -> Operand {
    Operand::Const(TypedValue {
        ty: Type::Scalar(DType::Bool),
        data: ConstData::Tensor(Elements::Bool(vec![b])),
    })
}

/// `values` as elements of the float `dtype` (fp16 or fp32).
pub fn float_elements(dtype: DType, values: Vec<f64>) -> Elements {
    match dtype {
        DType::Fp16 => Elements::F16(values.into_iter().map(f16::from_f64).collect()),
        _ => Elements::F32(values.into_iter().map(|v| v as f32).collect()),
    }
}

/// Inserts ops before the op it replaces, each giving one result of the replaced op's type.
pub struct Chain<'a, 'f> {
    e: &'a mut Editor<'f>,
    at: OpId,
    ty: Type,
    base: String,
}

impl<'a, 'f> Chain<'a, 'f> {
    /// A chain replacing `at`, whose results are named after `at`'s first result.
    pub fn new(e: &'a mut Editor<'f>, at: OpId) -> Chain<'a, 'f> {
        let f = e.function();
        let result = f.value(f.op(at).results[0]);
        let (ty, base) = (result.ty.clone(), result.name.to_string());
        Chain { e, at, ty, base }
    }

    /// The function being edited.
    pub fn function(&self) -> &Function {
        self.e.function()
    }

    /// The type of the replaced op's result.
    pub fn ty(&self) -> &Type {
        &self.ty
    }

    /// The element type of the replaced op's result.
    pub fn dtype(&self) -> DType {
        self.ty.dtype().unwrap_or(DType::Fp32)
    }

    /// A value as an operand.
    pub fn operand(&self, v: ValueId) -> Operand {
        self.e.operand(v)
    }

    /// A scalar constant of the result's element type.
    pub fn scalar(&self, v: f64) -> Operand {
        scalar(self.dtype(), v)
    }

    /// Inserts `kind(args)` with one result of the replaced op's type, named `<result>_<suffix>`.
    pub fn op(&mut self, kind: &str, suffix: &str, args: Vec<(&str, Operand)>) -> Result<ValueId, EditError> {
        let ty = self.ty.clone();
        self.typed_op(kind, suffix, args, ty)
    }

    /// [`Chain::op`] with a result of type `ty`.
    pub fn typed_op(
        &mut self,
        kind: &str,
        suffix: &str,
        args: Vec<(&str, Operand)>,
        ty: Type,
    ) -> Result<ValueId, EditError> {
        let name = format!("{}_{suffix}", self.base);
        let new = args
            .into_iter()
            .fold(NewOp::new(kind), |new, (key, operand)| new.arg(key, operand))
            .result(&name, ty);
        self.insert(new)
    }

    /// Inserts `slice_by_size(x, begin, size)` with a result of the replaced op's element type and
    /// shape `size`, named `<result>_<suffix>`.
    pub fn slice(
        &mut self,
        suffix: &str,
        x: Operand,
        begin: &[u64],
        size: &[u64],
    ) -> Result<ValueId, EditError> {
        let args = vec![
            ("begin", shape_operand(begin)),
            ("size", shape_operand(size)),
            ("x", x),
        ];
        let ty = Type::tensor(self.dtype(), size);
        self.typed_op("slice_by_size", suffix, args, ty)
    }

    /// Adds `part` to the running `sum` with an `add` named `<result>_<suffix>`, or starts the
    /// sum with `part`; returns the new sum.
    pub fn accumulate(
        &mut self,
        sum: Option<ValueId>,
        part: ValueId,
        suffix: &str,
    ) -> Result<ValueId, EditError> {
        match sum {
            None => Ok(part),
            Some(s) => {
                let args = vec![("x", self.operand(s)), ("y", self.operand(part))];
                self.op("add", suffix, args)
            }
        }
    }

    /// Inserts a `const` holding `val`, named `<result>_<suffix>`.
    pub fn constant(&mut self, suffix: &str, val: TypedValue) -> Result<ValueId, EditError> {
        let name = format!("{}_{suffix}", self.base);
        let ty = val.ty.clone();
        self.insert(NewOp::new("const").attr("val", val).result(&name, ty))
    }

    /// Inserts `new` before the replaced op and returns its first result.
    fn insert(&mut self, new: NewOp) -> Result<ValueId, EditError> {
        let id = self.e.insert(Place::Before(self.at), new.made_for(self.at))?;
        Ok(self.e.function().op(id).results[0])
    }

    /// Makes `last` take over every use of the replaced op's result and erases the op.
    pub fn finish(self, last: ValueId) -> Result<(), EditError> {
        self.finish_all(&[last])
    }

    /// Makes `values[i]` take over every use of the replaced op's result `i` and erases the op.
    pub fn finish_all(self, values: &[ValueId]) -> Result<(), EditError> {
        self.e.replace_op_with(self.at, values)
    }
}
