//! Ops around values that are not plain tensors: states, the runtime's tensor buffers, lists
//! and the control-flow ops, whose results are their blocks' outputs.

use super::context::Ctx;
use super::shape::dim;
use super::{Inferred, Problem, tensor};
use crate::types::{DType, Dim, Type};

/// `read_state`: the tensor the state holds.
pub(crate) fn read_state(cx: &Ctx) -> Inferred {
    match cx.ty("input")? {
        Type::State(inner) => Ok(vec![(**inner).clone()]),
        _ => Err(Problem::Unknown),
    }
}

/// `write_state`: no results, once `data` is checked against the state.
pub(crate) fn write_state(cx: &Ctx) -> Inferred {
    if let (Type::State(inner), Ok(data)) = (cx.ty("input")?, cx.ty("data"))
        && !inner.same_as(data)
    {
        return Err(Problem::incompatible(
            "data",
            format!("data is `{data}` but the state holds `{inner}`"),
        ));
    }
    Ok(Vec::new())
}

/// `tensor_buffer_to_tensor`: a tensor of the buffer's dtype and `shape`.
pub(crate) fn buffer_to_tensor(cx: &Ctx) -> Inferred {
    match cx.ty("input")? {
        Type::TensorBuffer { dtype, params } => {
            let shape = params
                .iter()
                .find(|(k, _)| k == "shape")
                .ok_or(Problem::Unknown)?;
            Ok(vec![tensor(*dtype, shape.1.clone())])
        }
        _ => Err(Problem::Unknown),
    }
}

/// `tensor_to_tensor_buffer`: a buffer of the tensor's dtype and shape, with the given strides
/// and interleave factors.
pub(crate) fn tensor_to_buffer(cx: &Ctx) -> Inferred {
    let (dtype, shape) = cx.tensor("input")?;
    let dims = |key: &str| -> Result<Vec<Dim>, Problem> { Ok(cx.ints(key)?.into_iter().map(dim).collect()) };
    Ok(vec![Type::TensorBuffer {
        dtype,
        params: vec![
            ("shape".to_string(), shape.to_vec()),
            ("strides".to_string(), dims("strides")?),
            ("interleave_factors".to_string(), dims("interleave_factors")?),
        ],
    }])
}

/// `cond`: what its branches return, which must agree.
pub(crate) fn cond(cx: &Ctx) -> Inferred {
    let outputs = |i: usize| -> Result<Vec<Type>, Problem> {
        let block = cx.f.block(*cx.op.blocks.get(i).ok_or(Problem::Unknown)?);
        block
            .outputs
            .iter()
            .map(|r| Ok(cx.f.value(r.id.ok_or(Problem::Unknown)?).ty.clone()))
            .collect()
    };
    let (then, otherwise) = (outputs(0)?, outputs(1)?);
    if then.len() != otherwise.len() || then.iter().zip(&otherwise).any(|(a, b)| !a.same_as(b)) {
        return Err(Problem::incompatible(
            "pred",
            "the two branches return different types",
        ));
    }
    Ok(then)
}

/// `while_loop`: the types of its loop variables.
pub(crate) fn while_loop(cx: &Ctx) -> Inferred {
    Ok(cx.tuple("loop_vars")?.into_iter().cloned().collect())
}

/// `make_list`: a list of tensors of `dtype` and `elem_shape`.
pub(crate) fn make_list(cx: &Ctx) -> Inferred {
    let name = cx.string_or("dtype", "fp32")?;
    let dtype = DType::from_name(&name)
        .ok_or_else(|| Problem::invalid("dtype", format!("unknown dtype \"{name}\"")))?;
    let shape = cx
        .tuple_operands("elem_shape")?
        .iter()
        .map(|o| match cx.operand_value(o).and_then(|k| k.ints()).as_deref() {
            Some([Some(n)]) => dim(*n),
            _ => Dim::Unknown,
        })
        .collect();
    let length = if cx.bool_or("dynamic_length", true)? {
        Dim::Unknown
    } else {
        dim(cx.int_or("init_length", 1)?)
    };
    Ok(vec![Type::List(Box::new(tensor(dtype, shape)), length)])
}

/// `list_length`: an int32 scalar.
pub(crate) fn list_length(_: &Ctx) -> Inferred {
    Ok(vec![tensor(DType::Int32, Vec::new())])
}

/// `list_read`, `list_gather` (a tensor of elements), `list_write`, `list_scatter` (the list).
pub(crate) fn list_access(cx: &Ctx) -> Inferred {
    let list = cx.ty("ls")?;
    let Type::List(elem, _) = list else {
        return Err(Problem::Unknown);
    };
    Ok(vec![match cx.op.kind.as_str() {
        "list_read" => (**elem).clone(),
        "list_gather" => {
            let (dtype, shape) = super::context::tensor_of(elem)?;
            let n = *cx.shape("indices")?.first().ok_or(Problem::Unknown)?;
            tensor(dtype, [&[n], shape].concat())
        }
        _ => list.clone(),
    }])
}
