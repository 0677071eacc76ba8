//! `cascade-max-pool`: a `max_pool` whose kernel width the Neural Engine refuses (not 1–8 or 32)
//! → a cascade of max_pools of width at most 8.
//!
//! Max pools of widths a and b at stride 1 compose to one of width a + b − 1: the maximum over
//! consecutive windows of a is the maximum over their union. So a width K is a chain of widths
//! p₁ … pₘ (each ≤ 8, Σ(pᵢ − 1) = K − 1) along the last axis: the first pools run at stride 1,
//! kernel 1 on the other spatial axes and with the original padding of the last axis (padding is
//! left out of a max, as −∞); the last has the original kernel on the other axes, width pₘ, the
//! original strides and the other axes' padding. Every output is the maximum over the same window
//! of inputs as the original's, so the result is exact.

use crate::build::{Chain, const_int, const_ints, float_result, input, same_dtype, shape_operand, string};
use crate::window::Window;
use crate::{NotApplicable, Rewrite};
use mil_ane::rules::pool_width_fits;
use mil_ir::mutate::{EditError, Editor, RewriteId};
use mil_ir::{Function, OpId, Operand, Type};

/// Cascades a wide max_pool into narrower ones.
pub const CASCADE_MAX_POOL: Rewrite = Rewrite {
    id: RewriteId::CASCADE_MAX_POOL,
    kinds: &["max_pool"],
    title: "Cascade the {kind}'s wide window into pools of width at most 8",
    precondition: |f, op| Cascade::read(f, op).map(drop),
    edit,
};

/// The widest pool the cascade uses.
const WIDTH: u64 = 8;

/// What the rewrite reads from a max_pool.
struct Cascade {
    window: Window,
    /// The widths of the pools, in order.
    widths: Vec<u64>,
}

impl Cascade {
    /// Reads `op`, or says why its window is not cascaded.
    fn read(f: &Function, op: OpId) -> Result<Cascade, NotApplicable> {
        let dtype = float_result(f, op)?.dtype().unwrap_or(mil_ir::DType::Fp32);
        same_dtype(f, op, dtype, &["x"])?;
        NotApplicable::unless(matches!(f.op(op).arg("x"), Some(Operand::Value(_))), || {
            "`x` is not a value of the program".into()
        })?;
        let kernel = const_ints(f, op, "kernel_sizes")
            .ok_or_else(|| NotApplicable("`kernel_sizes` is not a constant".into()))?;
        let &width = kernel
            .last()
            .ok_or_else(|| NotApplicable("`kernel_sizes` is empty".into()))?;
        NotApplicable::unless(!pool_width_fits(width), || {
            format!("a width of {width} fits the Neural Engine")
        })?;
        NotApplicable::unless(kernel.iter().all(|&k| k >= 1), || {
            "a kernel size is not positive".into()
        })?;
        let ceil_mode = const_int(f, op, "ceil_mode", 0)
            .ok_or_else(|| NotApplicable("`ceil_mode` is not a constant".into()))?;
        NotApplicable::unless(ceil_mode == 0, || "`ceil_mode` is set".into())?;
        let kernel: Vec<u64> = kernel.into_iter().map(|k| k as u64).collect();
        let window = Window::read(f, op, kernel)?;
        // Σ(pᵢ − 1) = K − 1 with each pᵢ − 1 ≤ 7, as even as can be.
        let steps = width as u64 - 1;
        let m = steps.div_ceil(WIDTH - 1);
        let widths = (0..m).map(|i| steps / m + u64::from(i < steps % m) + 1).collect();
        Ok(Cascade { window, widths })
    }
}

/// The pools, narrowest last.
fn edit(e: &mut Editor<'_>, op: OpId) -> Result<(), EditError> {
    // The precondition held; an op that no longer reads as such a pool is not the op it was.
    let cascade = Cascade::read(e.function(), op).map_err(|_| EditError::NoSuchOp(op))?;
    let x = input(e.function(), op, "x")?;
    let mut c = Chain::new(e, op);
    let (dtype, w) = (c.dtype(), &cascade.window);
    let n = w.kernel.len();
    let last_axis = n - 1;
    let mut shape = w.input.clone();
    let mut value = x;
    for (k, &p) in cascade.widths.iter().enumerate() {
        let last = k + 1 == cascade.widths.len();
        let (mut kernel, mut strides, mut pad) = (vec![1; n], vec![1; n], vec![0; 2 * n]);
        kernel[last_axis] = p;
        if k == 0 {
            (pad[2 * last_axis], pad[2 * last_axis + 1]) = w.pads[last_axis];
        }
        if last {
            kernel[..last_axis].copy_from_slice(&w.kernel[..last_axis]);
            strides.copy_from_slice(&w.strides);
            for i in 0..last_axis {
                (pad[2 * i], pad[2 * i + 1]) = w.pads[i];
            }
        }
        let result = if last {
            w.output.clone()
        } else {
            let (b, a) = (pad[2 * last_axis], pad[2 * last_axis + 1]);
            let mut next = shape.clone();
            next[last_axis + 2] = shape[last_axis + 2] + b + a + 1 - p;
            next
        };
        let args = vec![
            ("ceil_mode", crate::build::boolean(false)),
            ("kernel_sizes", shape_operand(&kernel)),
            ("pad", shape_operand(&pad)),
            ("pad_type", string("custom")),
            ("strides", shape_operand(&strides)),
            ("x", c.operand(value)),
        ];
        value = c.typed_op(
            "max_pool",
            &format!("pool{k}"),
            args,
            Type::tensor(dtype, &result),
        )?;
        shape = result;
    }
    c.finish(value)
}
