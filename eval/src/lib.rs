//! A reference interpreter for MIL programs.
//!
//! [`Interpreter`] runs a function of a [`mil_ir::Program`] on [`Tensor`]s: each op goes through the
//! kernel of its kind ([`kernels`], one module per op family), `cond`/`while_loop` run their blocks,
//! constants come from literals or the weight files beside the program. Floats are computed in
//! `f32` and rounded to each result's dtype (fp16 as Core ML's CPU path does); integers are exact.
//! [`npy`] reads and writes numpy's files; [`inputs`] checks a function's inputs or makes them up.
//! The numerics and the list of supported ops are described in `docs/eval.md`.

pub mod cx;
pub mod error;
pub mod floats;
pub mod inputs;
pub mod interp;
pub mod kernels;
pub mod npy;
pub mod tensor;
pub mod weights;

pub use error::EvalError;
pub use interp::{Interpreter, Named};
pub use tensor::{Data, Tensor};
