//! The kernels, one module per op family (as `mil_ir::infer` groups its rules), and the table
//! that finds an op kind's kernel.

mod activation;
mod compress;
mod conv;
mod create;
mod elementwise;
mod gather;
mod image;
mod linalg;
mod list;
mod misc;
mod norm;
mod recurrent;
mod reduce;
mod shape;

use crate::cx::Cx;
use crate::error::Result;
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::sync::OnceLock;

/// A kernel: computes an op's results from its inputs.
pub type Kernel = fn(&Cx) -> Result<Vec<Tensor>>;

/// Every family's kernel table.
const FAMILIES: &[&[(&str, Kernel)]] = &[
    elementwise::KERNELS,
    activation::KERNELS,
    reduce::KERNELS,
    linalg::KERNELS,
    shape::KERNELS,
    conv::KERNELS,
    norm::KERNELS,
    gather::KERNELS,
    create::KERNELS,
    compress::KERNELS,
    image::KERNELS,
    misc::KERNELS,
    recurrent::KERNELS,
    list::KERNELS,
];

/// The op kinds the interpreter runs itself rather than through a kernel (blocks and state).
pub const BUILT_IN: &[&str] = &["cond", "while_loop", "write_state"];

fn table() -> &'static HashMap<&'static str, Kernel> {
    static TABLE: OnceLock<HashMap<&'static str, Kernel>> = OnceLock::new();
    TABLE.get_or_init(|| FAMILIES.iter().flat_map(|f| f.iter().copied()).collect())
}

/// The kernel of op `kind`.
pub fn kernel(kind: &str) -> Option<Kernel> {
    table().get(kind).copied()
}

/// Every op kind the interpreter runs, sorted.
pub fn supported() -> Vec<&'static str> {
    let mut all: Vec<&str> = table().keys().copied().chain(BUILT_IN.iter().copied()).collect();
    all.sort_unstable();
    all
}
