//! Size limits of the Neural Engine (ANE014–ANE017).

use super::{CONV_KERNEL, Cx, DIM_ABOVE_65536, Finding, MATMUL_INNER, MAX_POOL_WIDTH, Site};
use crate::facts::{Input, OpFacts};
use crate::kind::Kind;
use crate::rule::Fix;
use crate::tensor::{const_any_above, const_int, const_ints, known_dims, operand_type};
use mil_ir::Operation;

/// The largest size of any axis, and of `groups` (Core ML's verdict).
pub const MAX_DIM: u64 = 65_536;
/// The largest inner dimension of a matmul (Core ML's verdict).
pub const MAX_MATMUL_INNER: u64 = 32_768;

/// Ops that only cut or join tensors, which `split-axis` does not take: it leaves them with the
/// long axis at the edges of the chains it splits.
const CUTS_AND_JOINS: [&str; 4] = ["slice_by_size", "slice_by_index", "split", "concat"];

/// ANE014's fix on [`CUTS_AND_JOINS`].
const SPLIT_AT_THE_INTERFACE: Fix = Fix::Advice(
    "give the function the axis already split (inputs or outputs of at most 65,536), which changes its interface",
);

/// Fires on ops beyond a size limit.
pub(super) fn check(cx: &Cx, facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    let (f, op, widest) = (cx.f, facts.op, facts.widest);
    let groups = facts
        .arg(Input::Groups)
        .and_then(|o| const_int(f, o))
        .unwrap_or(1)
        .max(1) as u64;
    if widest > MAX_DIM || groups > MAX_DIM {
        let n = widest.max(groups);
        let what = format!(
            "runs on CPU: a dimension of {n} is above 65,536 and Core ML reports 'Tensor dimensions ... are not within supported range, N[1-65536]D[1-65536]C[1-65536]H[1-65536]W[1-65536]'"
        );
        let finding = Finding::new(&DIM_ABOVE_65536, site, what);
        out.push(match CUTS_AND_JOINS.contains(&op.kind.as_str()) {
            true => finding.with_fix(Some(SPLIT_AT_THE_INTERFACE)),
            false => finding,
        });
    }
    match facts.kind {
        Kind::Conv => check_conv_kernel(cx, facts, site, out),
        Kind::MaxPool => check_pool_width(cx, op, site, out),
        Kind::Matmul => check_matmul_inner(cx, facts, site, out),
        _ => {}
    }
}

/// Square kernels up to 16, 1×K up to 15, K×1 up to 31 (other rectangles: both sides up to 16).
pub fn kernel_fits(kh: u64, kw: u64) -> bool {
    match (kh, kw) {
        (h, w) if h == w => h <= 16,
        (1, w) => w <= 15,
        (h, 1) => h <= 31,
        (h, w) => h <= 16 && w <= 16,
    }
}

fn check_conv_kernel(cx: &Cx, facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    let Some(w) = facts
        .arg(Input::Weight)
        .and_then(|o| operand_type(cx.f, o))
        .and_then(known_dims)
    else {
        return;
    };
    let (kh, kw) = match &w[..] {
        [_, _, k] => (1, *k),
        [_, _, h, w] => (*h, *w),
        _ => return,
    };
    if !kernel_fits(kh, kw) {
        let what = format!(
            "runs on CPU: a {kh}×{kw} kernel is beyond the ANE's (square ≤ 16, 1×K ≤ 15, K×1 ≤ 31) and Core ML reports 'conv with large kernel does not meet decomposition preconditions'"
        );
        out.push(Finding::new(&CONV_KERNEL, site, what));
    }
}

fn check_pool_width(cx: &Cx, op: &Operation, site: Site, out: &mut Vec<Finding>) {
    let Some(k) = op.arg("kernel_sizes").and_then(|o| const_ints(cx.f, o)) else {
        return;
    };
    let Some(&width) = k.last() else {
        return;
    };
    if !pool_width_fits(width) {
        let what = format!(
            "runs on CPU: Core ML reports 'Invalid Pool kernel width ({width}), must be [1-8] or 32.'"
        );
        out.push(Finding::new(&MAX_POOL_WIDTH, site, what));
    }
}

/// max_pool kernel widths the Neural Engine takes: 1 to 8, or 32.
pub fn pool_width_fits(width: i64) -> bool {
    (1..=8).contains(&width) || width == 32
}

fn check_matmul_inner(cx: &Cx, facts: &OpFacts, site: Site, out: &mut Vec<Finding>) {
    let Some(x) = facts
        .arg(Input::X)
        .and_then(|o| operand_type(cx.f, o))
        .and_then(known_dims)
    else {
        return;
    };
    let transposed = facts
        .arg(Input::TransposeX)
        .is_some_and(|o| const_any_above(cx.f, o, 0));
    let inner = match (x.len(), transposed) {
        (0, _) => return,
        (1, _) | (_, false) => x[x.len() - 1],
        (n, true) => x[n - 2],
    };
    if inner > MAX_MATMUL_INNER {
        let what = format!(
            "runs on CPU: an inner dimension of {inner} is above 32,768 and Core ML reports 'the output channel of input A ... can not fit the Kmem'"
        );
        out.push(Finding::new(&MATMUL_INNER, site, what));
    }
}

#[cfg(test)]
mod tests {
    use super::kernel_fits;

    #[test]
    fn kernel_limits_match_the_boundary_sweeps() {
        assert!(kernel_fits(16, 16) && !kernel_fits(17, 17));
        assert!(kernel_fits(1, 15) && !kernel_fits(1, 31));
        assert!(kernel_fits(31, 1) && !kernel_fits(32, 1));
    }
}
