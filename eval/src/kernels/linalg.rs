//! Linear algebra: `matmul` (batched, numpy broadcasting of the batch dims) and `linear`, through
//! `matrixmultiply`'s GEMM, which [`gemm`] splits across rayon's threads when a product is large
//! (rayon's pool is the interpreter's only one: `RAYON_NUM_THREADS` sets how many threads run).

use super::Kernel;
use crate::bail;
use crate::cx::Cx;
use crate::error::Result;
use crate::tensor::{Tensor, broadcast_index, broadcast_shapes, numel};
use rayon::prelude::*;

/// The kernels of this family.
pub(super) const KERNELS: &[(&str, Kernel)] = &[("matmul", matmul), ("linear", linear)];

/// A row-major `m × k` (or, with `trans`, stored `k × m`) matrix view.
pub struct Mat<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Whether the stored matrix is the transpose of the one multiplied.
    pub trans: bool,
}

/// The least `m·k·n` worth splitting across threads (about 50 µs of one core's work).
const PARALLEL_WORK: usize = 1 << 21;

/// The fewest rows or columns of `c` a thread computes.
const MIN_PART: usize = 32;

/// `c = a · b` for an `m × k` `a` and a `k × n` `b`, into the row-major `m × n` `c`. A large product
/// is cut along the longer side of `c` into parts that rayon's threads compute side by side.
pub fn gemm(m: usize, k: usize, n: usize, a: Mat, b: Mat, c: &mut [f32]) {
    let (rsa, csa) = if a.trans { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if b.trans { (1, k as isize) } else { (n as isize, 1) };
    assert!(a.data.len() >= m * k && b.data.len() >= k * n && c.len() >= m * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c[..m * n].fill(0.0);
        return;
    }
    let threads = rayon::current_num_threads();
    let side = m.max(n);
    // Two parts per thread, so that a thread the system takes away for a moment delays little.
    let parts = if threads == 1 || m * k * n < PARALLEL_WORK {
        1
    } else {
        (2 * threads).min(side / MIN_PART).max(1)
    };
    let step = side.div_ceil(parts);
    let (a, b, out) = (a.data.as_ptr(), b.data.as_ptr(), SharedOut(c.as_mut_ptr()));
    let (a, b) = (SharedIn(a), SharedIn(b));
    (0..side.div_ceil(step)).into_par_iter().for_each(|i| {
        let (start, len) = (i * step, step.min(side - i * step));
        // SAFETY: the slices hold at least m·k, k·n and m·n elements (asserted above) and the
        // strides describe row-major (or transposed row-major) layouts of exactly those sizes; part
        // `i` covers rows (or columns) `start..start + len` of `c`, which no other part writes.
        unsafe {
            if n >= m {
                let (a, b, c) = (
                    a.get(),
                    b.get().offset(start as isize * csb),
                    out.get().add(start),
                );
                matrixmultiply::sgemm(m, k, len, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, n as isize, 1);
            } else {
                let (a, b, c) = (
                    a.get().offset(start as isize * rsa),
                    b.get(),
                    out.get().add(start * n),
                );
                matrixmultiply::sgemm(len, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, n as isize, 1);
            }
        }
    });
}

/// A GEMM operand shared by the threads computing parts of one product (read only).
#[derive(Clone, Copy)]
struct SharedIn(*const f32);

/// The result of a GEMM, of which each thread writes a part no other writes.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);

// SAFETY: the pointers outlive the parallel loop in `gemm` (it borrows their slices), the operands
// are only read, and the threads write disjoint parts of the result.
unsafe impl Send for SharedIn {}
unsafe impl Sync for SharedIn {}
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedIn {
    fn get(self) -> *const f32 {
        self.0
    }
}

impl SharedOut {
    fn get(self) -> *mut f32 {
        self.0
    }
}

fn matmul(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, y) = (cx.x()?, cx.get("y")?);
    let (tx, ty) = (cx.bool("transpose_x")?, cx.bool("transpose_y")?);
    let (mut xs, mut ys) = (x.shape.clone(), y.shape.clone());
    let (x1, y1) = (xs.len() == 1, ys.len() == 1);
    if x1 {
        xs.insert(0, 1);
    }
    if y1 {
        ys.push(1);
    }
    let (xr, yr) = (xs.len(), ys.len());
    let (m, kx) = if tx {
        (xs[xr - 1], xs[xr - 2])
    } else {
        (xs[xr - 2], xs[xr - 1])
    };
    let (ky, n) = if ty {
        (ys[yr - 1], ys[yr - 2])
    } else {
        (ys[yr - 2], ys[yr - 1])
    };
    if kx != ky {
        bail!("inner dims differ: x gives {kx}, y gives {ky}");
    }
    let batch = broadcast_shapes(&xs[..xr - 2], &ys[..yr - 2])?;
    let nb = numel(&batch);
    let (bx, by) = (
        broadcast_index(&xs[..xr - 2], &batch),
        broadcast_index(&ys[..yr - 2], &batch),
    );
    let (xv, yv) = (x.f32s()?, y.f32s()?);
    let mut out = vec![0.0; nb * m * n];
    out.par_chunks_mut((m * n).max(1))
        .enumerate()
        .for_each(|(b, out)| {
            let a = &xv[bx[b] * m * kx..][..m * kx];
            let bm = &yv[by[b] * kx * n..][..kx * n];
            gemm(
                m,
                kx,
                n,
                Mat { data: a, trans: tx },
                Mat { data: bm, trans: ty },
                out,
            );
        });
    let mut shape = batch;
    if !x1 {
        shape.push(m);
    }
    if !y1 {
        shape.push(n);
    }
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, x.dtype), shape, out)])
}

fn linear(cx: &Cx) -> Result<Vec<Tensor>> {
    let (x, w) = (cx.x()?, cx.get("weight")?);
    if w.rank() != 2 || x.rank() == 0 {
        bail!("`weight` must be [out, in] and `x` at least 1-D");
    }
    let (n, k) = (w.shape[0], w.shape[1]);
    if x.shape[x.rank() - 1] != k {
        bail!(
            "x's last dim {} differs from weight's in dim {k}",
            x.shape[x.rank() - 1]
        );
    }
    let m = x.len() / k.max(1);
    let mut out = vec![0.0; m * n];
    let xv = x.f32s()?;
    let a = Mat {
        data: &xv,
        trans: false,
    };
    // A weight from a weight file is transposed once per program, to the layout GEMM packs fastest.
    match cx.transposed_weight(&w, n, k) {
        Some(wt) => gemm(
            m,
            k,
            n,
            a,
            Mat {
                data: &wt,
                trans: false,
            },
            &mut out,
        ),
        None => gemm(
            m,
            k,
            n,
            a,
            Mat {
                data: &w.f32s()?,
                trans: true,
            },
            &mut out,
        ),
    }
    if let Some(b) = cx.opt("bias")? {
        let b = b.f32s()?;
        if b.len() != n {
            bail!("`bias` has {} values for {n} outputs", b.len());
        }
        for row in out.chunks_mut(n) {
            row.iter_mut().zip(b.iter()).for_each(|(o, b)| *o += b);
        }
    }
    let mut shape = x.shape.clone();
    *shape.last_mut().unwrap() = n;
    Ok(vec![Tensor::from_f32(cx.out_dtype(0, x.dtype), shape, out)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_multiplies_plain_and_transposed() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2×3
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3×2
        let mut c = [0.0; 4];
        gemm(
            2,
            3,
            2,
            Mat {
                data: &a,
                trans: false,
            },
            Mat {
                data: &b,
                trans: false,
            },
            &mut c,
        );
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        let bt = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0]; // b stored transposed (2×3)
        gemm(
            2,
            3,
            2,
            Mat {
                data: &a,
                trans: false,
            },
            Mat {
                data: &bt,
                trans: true,
            },
            &mut c,
        );
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
    }
}
