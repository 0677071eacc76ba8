//! Linear algebra: `matmul` with transposes and batch broadcasting, `linear`, `einsum` and
//! `scaled_dot_product_attention`.

use super::context::{Ctx, tensor_of};
use super::shape::{broadcast, known, may_equal, show};
use super::{Inferred, Problem, tensor};
use crate::catalogue::Opset;
use crate::types::Dim;

/// `matmul`: batch dims broadcast, then `[.., M, K] × [.., K, N] = [.., M, N]`.
pub(crate) fn matmul(cx: &Ctx) -> Inferred {
    let (x_dtype, x) = cx.tensor("x")?;
    let (y_dtype, y) = cx.tensor("y")?;
    if x.is_empty() || y.is_empty() {
        return Err(Problem::incompatible(
            "x",
            "matmul needs tensors of rank 1 or more",
        ));
    }
    let (tx, ty) = (
        cx.bool_or("transpose_x", false)?,
        cx.bool_or("transpose_y", false)?,
    );
    if x.len() == 1 && tx {
        return Err(Problem::invalid("transpose_x", "a rank-1 x cannot be transposed"));
    }
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    let (x_vector, y_vector) = (xs.len() == 1, ys.len() == 1);
    if x_vector {
        xs.insert(0, Dim::Known(1));
    }
    if y_vector {
        ys.push(Dim::Known(1));
    }
    if tx {
        let n = xs.len();
        xs.swap(n - 1, n - 2);
    }
    if ty && !y_vector {
        let n = ys.len();
        ys.swap(n - 1, n - 2);
    }
    let (m, k) = (xs[xs.len() - 2], xs[xs.len() - 1]);
    let (k2, n) = (ys[ys.len() - 2], ys[ys.len() - 1]);
    if !may_equal(k, k2) {
        return Err(Problem::incompatible(
            "y",
            format!(
                "x {} and y {} do not multiply: {k} columns against {k2} rows",
                show(x),
                show(y)
            ),
        ));
    }
    let mut out = broadcast(&xs[..xs.len() - 2], &ys[..ys.len() - 2], "y")?;
    out.push(m);
    if !y_vector {
        out.push(n);
    }
    if x_vector {
        // coremltools drops the first dim, not the 1 it added: with batch dims in y, it is the
        // batch that goes (`[4] × [2, 4, 3]` gives `[1, 3]`). Core ML's files carry that type.
        out.remove(0);
    }
    let mut dtype = x_dtype;
    if cx.opset >= Opset::Ios17 {
        let (x_const, y_const) = (cx.is_const_op("x"), cx.is_const_op("y"));
        if x_const != y_const {
            dtype = if y_const { x_dtype } else { y_dtype };
        } else if x_dtype != y_dtype {
            return Err(Problem::Unknown);
        }
    }
    Ok(vec![tensor(dtype, out)])
}

/// `linear`: x's last dim becomes weight's first.
pub(crate) fn linear(cx: &Ctx) -> Inferred {
    let (dtype, x) = cx.tensor("x")?;
    let w = cx.shape("weight")?;
    let (&d_in, lead) = x
        .split_last()
        .ok_or_else(|| Problem::incompatible("x", "linear needs x of rank 1 or more"))?;
    let &[d_out, w_in] = w else {
        return Err(Problem::incompatible(
            "weight",
            format!("weight must have rank 2, not {}", w.len()),
        ));
    };
    if !may_equal(d_in, w_in) {
        return Err(Problem::incompatible(
            "weight",
            format!(
                "weight {} takes {w_in} inputs but x {} has {d_in}",
                show(w),
                show(x)
            ),
        ));
    }
    if cx.has("bias") {
        let b = cx.shape("bias")?;
        if b.len() != 1 || !may_equal(b[0], d_out) {
            return Err(Problem::incompatible(
                "bias",
                format!("bias {} must have shape [{d_out}]", show(b)),
            ));
        }
    }
    let mut out = lead.to_vec();
    out.push(d_out);
    Ok(vec![tensor(dtype, out)])
}

/// `einsum` of two operands, `equation` like `"nchw,nwhu->nchu"`: each output letter takes its
/// size from the operands (the larger of two, which broadcast).
pub(crate) fn einsum(cx: &Ctx) -> Inferred {
    let values = cx.tuple("values")?;
    let [a, b] = values.as_slice() else {
        return Err(Problem::invalid(
            "values",
            format!("einsum takes two values, not {}", values.len()),
        ));
    };
    let ((dtype, a), (_, b)) = (tensor_of(a)?, tensor_of(b)?);
    let equation = cx.string_or("equation", "")?;
    let bad = || {
        Problem::invalid(
            "equation",
            format!("cannot read the einsum equation \"{equation}\""),
        )
    };
    let (inputs, output) = equation.split_once("->").ok_or_else(bad)?;
    let (ia, ib) = inputs.split_once(',').ok_or_else(bad)?;
    let (ia, ib, output) = (ia.trim(), ib.trim(), output.trim());
    if ia.len() != a.len() || ib.len() != b.len() {
        return Err(Problem::incompatible(
            "values",
            format!(
                "equation \"{equation}\" does not match the operand ranks {} and {}",
                a.len(),
                b.len()
            ),
        ));
    }
    let size_of = |letter: char| -> Result<Dim, Problem> {
        let dims: Vec<Dim> = [(ia, a), (ib, b)]
            .iter()
            .filter_map(|(s, shape)| s.chars().position(|c| c == letter).map(|i| shape[i]))
            .collect();
        match dims.as_slice() {
            [] => Err(bad()),
            [d] => Ok(*d),
            [x, y] => match (known(*x), known(*y)) {
                (Some(p), Some(q)) if p == q || p == 1 || q == 1 => Ok(super::shape::dim(p.max(q))),
                (Some(_), Some(_)) => Err(Problem::incompatible(
                    "values",
                    format!("index {letter} has size {x} in one operand and {y} in the other"),
                )),
                _ => Ok(Dim::Unknown),
            },
            _ => Err(bad()),
        }
    };
    let out = output.chars().map(size_of).collect::<Result<Vec<_>, _>>()?;
    Ok(vec![tensor(dtype, out)])
}

/// `scaled_dot_product_attention`: `query[:-1] + [value[-1]]`.
pub(crate) fn attention(cx: &Ctx) -> Inferred {
    let (dtype, q) = cx.tensor("query")?;
    let (k, v) = (cx.shape("key")?, cx.shape("value")?);
    if q.len() < 3 || k.len() != q.len() || v.len() != q.len() {
        return Err(Problem::incompatible(
            "key",
            format!(
                "query {}, key {} and value {} must have one rank, 3 or more",
                show(q),
                show(k),
                show(v)
            ),
        ));
    }
    let r = q.len();
    if !may_equal(q[r - 1], k[r - 1]) || !may_equal(k[r - 2], v[r - 2]) {
        return Err(Problem::incompatible(
            "key",
            format!(
                "query {}, key {} and value {} do not fit: query and key must share their last dimension, key and value their sequence length",
                show(q),
                show(k),
                show(v)
            ),
        ));
    }
    let mut out = q[..r - 1].to_vec();
    out.push(v[r - 1]);
    Ok(vec![tensor(dtype, out)])
}
