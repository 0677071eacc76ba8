//! `linear-to-conv1x1`: a projection of the channels-last activations (B, S, C) — `linear`, or
//! `matmul` by a constant matrix — → a 1×1 `conv` in the Neural Engine's layout (B, C, 1, S).
//!
//! On the Neural Engine a 1×1 conv on (B, C, 1, S) is about 3× faster than the same product as
//! linear or matmul (`../shared/docs/ane.md`, private-compiler probes; Apple's ml-ane-transformers
//! writes every projection so), and our cost model, fitted on Core ML's estimates, prices conv per
//! MAC well below linear. The rewrite puts the input into (B, C, 1, S) (a `transpose` and a
//! `reshape`), convolves with the weights as a (C_out, C_in, 1, 1) kernel and the same bias, and
//! puts the result back (a `reshape` and a `transpose`); then [`layout::tidy`] cancels the layout
//! changes it meets, across elementwise ops, so that a chain of projections rewritten one by one
//! keeps a single change at each end.
//!
//! Taken: `linear(x, weight, bias)` with a constant `weight` (inline, a `const` op, or a weight
//! file: the kernel has the same elements in the same order) and a constant or absent `bias`;
//! `matmul(x, y)` with a constant rank-2 `y` of `x`'s type, `transpose_x` false, and `y` inline
//! or in a `const` op unless `transpose_y` (its elements are transposed into the kernel). `x` is
//! an fp16 or fp32 value of known shape (S, C) or (B, S, C).

use crate::build::{
    Chain, MAX_CONSTANT, const_arg, const_int, float_elements, float_result, int32, ints, known_shape,
    shape_operand, value_arg,
};
use crate::{NotApplicable, Rewrite, layout};
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{ConstData, DType, Elements, Function, OpId, Operand, Type, TypedValue, ValueId};

/// Rewrites a projection as a 1×1 conv in (B, C, 1, S).
pub const LINEAR_TO_CONV1X1: Rewrite = Rewrite {
    id: RewriteId::LINEAR_TO_CONV1X1,
    kinds: &["linear", "matmul"],
    title: "Rewrite {kind} as a 1×1 conv in (B, C, 1, S)",
    precondition: |f, op| Projection::read(f, op).map(drop),
    edit,
};

/// What the rewrite reads from a projection.
struct Projection {
    /// The activations.
    x: ValueId,
    /// Their shape: (S, C) or (B, S, C).
    shape: Vec<u64>,
    /// The kernel, (C_out, C_in, 1, 1).
    kernel: TypedValue,
    /// C_out.
    cout: u64,
    /// The bias, if any.
    bias: Option<Operand>,
}

impl Projection {
    /// Reads `op`, or says why it cannot be rewritten.
    fn read(f: &Function, op: OpId) -> Result<Projection, NotApplicable> {
        let dtype = float_result(f, op)?.dtype().expect("a float tensor");
        let x =
            value_arg(f, op, "x").ok_or_else(|| NotApplicable("`x` is not a value of the program".into()))?;
        let x_ty = &f.value(x).ty;
        let shape = known_shape(x_ty)?;
        NotApplicable::unless(x_ty.dtype() == Some(dtype), || {
            "`x` has another type than the result".into()
        })?;
        NotApplicable::unless(matches!(shape.len(), 2 | 3), || {
            format!("`x` has rank {}, not 2 (S, C) or 3 (B, S, C)", shape.len())
        })?;
        let cin = shape[shape.len() - 1];
        let (kernel, bias) = if f.op(op).kind == "linear" {
            (linear_kernel(f, op, cin)?, f.op(op).arg("bias").cloned())
        } else {
            (matmul_kernel(f, op, dtype, cin)?, None)
        };
        if let Some(Operand::Value(_)) = &bias {
            NotApplicable::unless(const_arg(f, op, "bias").is_some(), || {
                "`bias` is not a constant".into()
            })?;
        }
        let cout = known_shape(&kernel.ty)?[0];
        Ok(Projection {
            x,
            shape,
            kernel,
            cout,
            bias,
        })
    }
}

/// `linear`'s constant (C_out, C_in) weight as a (C_out, C_in, 1, 1) kernel.
fn linear_kernel(f: &Function, op: OpId, cin: u64) -> Result<TypedValue, NotApplicable> {
    let w = const_arg(f, op, "weight").ok_or_else(|| NotApplicable("`weight` is not a constant".into()))?;
    let dims = known_shape(&w.ty)?;
    let [cout, k] = dims[..] else {
        return Err(NotApplicable(format!("`weight` has rank {}, not 2", dims.len())));
    };
    NotApplicable::unless(k == cin, || format!("`weight` takes {k} channels, `x` has {cin}"))?;
    Ok(TypedValue {
        ty: Type::tensor(w.ty.dtype().unwrap_or(DType::Fp32), &[cout, cin, 1, 1]),
        data: w.data.clone(),
    })
}

/// `matmul`'s constant rank-2 `y` as a (C_out, C_in, 1, 1) kernel: as it is when `transpose_y`,
/// transposed otherwise.
fn matmul_kernel(f: &Function, op: OpId, dtype: DType, cin: u64) -> Result<TypedValue, NotApplicable> {
    let flag =
        |key| const_int(f, op, key, 0).ok_or_else(|| NotApplicable(format!("`{key}` is not a constant")));
    NotApplicable::unless(flag("transpose_x")? == 0, || "`x` is transposed".into())?;
    let transposed = flag("transpose_y")? != 0;
    let y = const_arg(f, op, "y").ok_or_else(|| NotApplicable("`y` is not a constant".into()))?;
    NotApplicable::unless(y.ty.dtype() == Some(dtype), || {
        "`y` has another element type than `x`".into()
    })?;
    let dims = known_shape(&y.ty)?;
    let [rows, cols] = dims[..] else {
        return Err(NotApplicable(format!("`y` has rank {}, not 2", dims.len())));
    };
    let (k, cout) = if transposed { (cols, rows) } else { (rows, cols) };
    NotApplicable::unless(k == cin, || format!("`y` takes {k} channels, `x` has {cin}"))?;
    let ty = Type::tensor(dtype, &[cout, cin, 1, 1]);
    if transposed {
        return Ok(TypedValue {
            ty,
            data: y.data.clone(),
        });
    }
    let elements = match &y.data {
        ConstData::Tensor(e) if rows * cols <= MAX_CONSTANT => e,
        _ => {
            return Err(NotApplicable(
                "`y` would have to be transposed, and is not inline".into(),
            ));
        }
    };
    Ok(TypedValue {
        ty,
        data: ConstData::Tensor(transposed_elements(elements, dtype, rows, cols)),
    })
}

/// A rows×cols matrix's elements, transposed.
fn transposed_elements(e: &Elements, dtype: DType, rows: u64, cols: u64) -> Elements {
    let (rows, cols) = (rows as usize, cols as usize);
    let values = (0..rows * cols)
        .map(|i| e.get_f64((i % rows) * cols + i / rows).unwrap_or(0.0))
        .collect();
    float_elements(dtype, values)
}

/// transpose → reshape to (B, C, 1, S) → conv → reshape → transpose, then the layout pass.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    let first_new = e.function().ops.len();
    // The precondition held; an op that no longer reads as a projection is not the op it was.
    let p = Projection::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let mut c = Chain::new(e, op);
    let dtype = c.dtype();
    let rank = p.shape.len();
    let (b, s, cin) = match p.shape[..] {
        [b, s, cin] => (b, s, cin),
        [s, cin] => (1, s, cin),
        _ => return Err(EditError::NoSuchOp(op)),
    };
    let cout = p.cout;
    let swap: &[i64] = if rank == 3 { &[0, 2, 1] } else { &[1, 0] };
    // (…, C, S), the leading axis kept when there is one.
    let channels_first = |ch: u64| -> Vec<u64> { [&[b][..rank - 2], &[ch, s][..]].concat() };
    let xt = c.typed_op(
        "transpose",
        "channels_first",
        vec![("perm", ints(swap)), ("x", c.operand(p.x))],
        Type::tensor(dtype, &channels_first(cin)),
    )?;
    let x4 = c.typed_op(
        "reshape",
        "bc1s",
        vec![("shape", shape_operand(&[b, cin, 1, s])), ("x", c.operand(xt))],
        Type::tensor(dtype, &[b, cin, 1, s]),
    )?;
    let kernel = c.constant("kernel", p.kernel)?;
    let mut args = vec![
        ("dilations", ints(&[1, 1])),
        ("groups", int32(1)),
        ("pad", ints(&[0, 0, 0, 0])),
        ("pad_type", Operand::Const(TypedValue::string("valid"))),
        ("strides", ints(&[1, 1])),
        ("weight", c.operand(kernel)),
        ("x", c.operand(x4)),
    ];
    if let Some(bias) = p.bias {
        args.insert(0, ("bias", bias));
    }
    let y4 = c.typed_op("conv", "conv", args, Type::tensor(dtype, &[b, cout, 1, s]))?;
    let y3 = c.typed_op(
        "reshape",
        "channels_first_out",
        vec![
            ("shape", shape_operand(&channels_first(cout))),
            ("x", c.operand(y4)),
        ],
        Type::tensor(dtype, &channels_first(cout)),
    )?;
    let y = c.op(
        "transpose",
        "channels_last",
        vec![("perm", ints(swap)), ("x", c.operand(y3))],
    )?;
    c.finish(y)?;
    layout::tidy(e, first_new)
}
