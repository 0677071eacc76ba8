//! Output type inference: the types each op's results have, computed from the declared types of
//! its operands and the values of those known before run time, following the `type_inference`
//! methods of coremltools 9.0's op definitions.
//!
//! Dimensions coremltools tracks as symbols are `?` here. Values that shape computations derive
//! from constants (`shape`, `gather`, `concat`, integer arithmetic, ...) are folded as the ops are
//! visited, so `reshape(shape = concat(values = (shape(x)[0], -1)))` is inferred exactly.
//!
//! ```
//! # use mil_ir::{Function, Program};
//! # fn f(program: &Program) {
//! for f in &program.functions {
//!     let types = mil_ir::infer::infer_function(f);
//!     for op in f.walk_ops() {
//!         if let Some(Ok(outputs)) = types.outputs(op) {
//!             println!("{} gives {:?}", f.op(op).kind, outputs);
//!         }
//!     }
//! }
//! # }
//! ```

mod bind;
mod compress;
mod context;
mod conv;
mod create;
mod elementwise;
mod fold;
mod gather;
mod image;
mod join;
mod known;
mod linalg;
mod recurrent;
mod reduce;
mod shape;
mod slice;
mod state;
mod transform;

pub use bind::{Binding, Source};
pub use known::Known;

use crate::catalogue::{self, OpVersion, Opset};
use crate::program::{Function, OpId, Operand, ValueDef, ValueId};
use crate::types::{DType, Dim, Type};
use context::Ctx;
use rustc_hash::FxHashMap;

/// Why an op's output types were not inferred.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not enough is known: an input is missing, undefined, unreadable, or its value is needed but
    /// only known at run time. Nothing is wrong that inference could tell.
    Unknown,
    /// An input has a value the op rejects (an axis out of range, a `pad_type` that does not
    /// exist, a shape with another element count).
    Invalid {
        /// The input.
        input: String,
        /// What is wrong.
        message: String,
    },
    /// The shapes of the inputs do not fit together (operands that do not broadcast, a matmul
    /// whose inner dimensions differ).
    Incompatible {
        /// The input whose shape is reported.
        input: String,
        /// What is wrong.
        message: String,
    },
}

impl Problem {
    /// An invalid value of `input`.
    pub fn invalid(input: &str, message: impl Into<String>) -> Problem {
        Problem::Invalid {
            input: input.to_string(),
            message: message.into(),
        }
    }

    /// An input shape that does not fit the others.
    pub fn incompatible(input: &str, message: impl Into<String>) -> Problem {
        Problem::Incompatible {
            input: input.to_string(),
            message: message.into(),
        }
    }
}

/// The result of inferring one op: its output types, or why there are none.
pub type Inferred = Result<Vec<Type>, Problem>;

/// A tensor type.
pub(crate) fn tensor(dtype: DType, shape: Vec<Dim>) -> Type {
    Type::Tensor { dtype, shape }
}

/// Infers ops of one function in program order, keeping what each makes known before run time.
pub struct Inferencer<'a> {
    f: &'a Function,
    known: Vec<Option<Known<'a>>>,
    constant: Vec<bool>,
    /// The rule of each op version met so far, by the version's address (looking a rule up by
    /// name compares strings; programs use few versions many times).
    rules: FxHashMap<usize, Option<Rule>>,
}

impl<'a> Inferencer<'a> {
    /// Starts on function `f`; its parameters are run-time values.
    pub fn new(f: &'a Function) -> Inferencer<'a> {
        Inferencer {
            f,
            known: vec![None; f.values.len()],
            constant: vec![false; f.values.len()],
            rules: FxHashMap::default(),
        }
    }

    /// Infers op `id` of version `version` used in `opset`, whose inputs are bound by `binding`,
    /// and records what its results make known. Ops must be visited in program order.
    pub fn infer(
        &mut self,
        id: OpId,
        version: &'static OpVersion,
        opset: Opset,
        binding: &Binding<'a>,
    ) -> Inferred {
        let op = self.f.op(id);
        let rule = *self
            .rules
            .entry(version as *const OpVersion as usize)
            .or_insert_with(|| rule(&op.kind));
        let cx = Ctx {
            f: self.f,
            op,
            version,
            opset,
            binding,
            known: &self.known,
        };
        let result = rule.map_or(Err(Problem::Unknown), |rule| rule(&cx));
        let constant = op.kind == "const"
            || op.kind.starts_with("constexpr_")
            || (!op.kind.starts_with("random_")
                && op.blocks.is_empty()
                && binding
                    .inputs
                    .iter()
                    .flatten()
                    .all(|s| self.source_is_known_constant(*s)));
        let folded = result.as_ref().ok().and_then(|types| fold::fold(&cx, types));
        for (i, &r) in op.results.iter().enumerate() {
            let complete = folded.as_ref().is_some_and(|k| i == 0 && k.is_complete());
            self.constant[r.index()] = constant || complete;
            if i == 0 {
                self.known[r.index()] = folded.clone();
            }
        }
        result
    }

    /// Records that op `id` could not be looked up: its results are run-time values.
    pub fn skip(&mut self, id: OpId) {
        for &r in &self.f.op(id).results {
            self.known[r.index()] = None;
            self.constant[r.index()] = false;
        }
    }

    /// Whether an operand may be taken for one known when the model is compiled (a literal, a
    /// constant, or computed from constants only). A name that is not defined counts, so that an
    /// op reading one raises no error of its own besides the undefined name.
    pub fn is_constant(&self, operand: &Operand) -> bool {
        operand
            .values()
            .all(|(_, r)| r.id.is_none_or(|id| self.constant[id.index()]))
    }

    /// Whether an input's value is known when the model is compiled. Unlike [`Self::is_constant`],
    /// an undefined name is not: the results of an op reading one are run-time values, so that a
    /// name taken away changes what is known of its readers alone, not of every op after them.
    fn source_is_known_constant(&self, source: Source<'_>) -> bool {
        match source {
            Source::Arg(_, operand) => operand
                .values()
                .all(|(_, r)| r.id.is_some_and(|id| self.constant[id.index()])),
            Source::Attr(..) => true,
        }
    }
}

/// The inferred outputs of every op of a function.
#[derive(Clone, Debug, Default)]
pub struct FunctionTypes {
    by_op: Vec<Option<Inferred>>,
}

impl FunctionTypes {
    /// What was inferred for op `id`; `None` when the op is not in the catalogue for its opset.
    pub fn outputs(&self, id: OpId) -> Option<&Inferred> {
        self.by_op.get(id.index())?.as_ref()
    }

    /// The inferred type of value `id` of `f`, when it is an op result that was inferred
    /// (parameters have only their declared type).
    pub fn value_type<'t>(&'t self, f: &Function, id: ValueId) -> Option<&'t Type> {
        match f.values.get(id.index())?.def {
            ValueDef::Result(op, i) => self.outputs(op)?.as_ref().ok()?.get(i as usize),
            _ => None,
        }
    }
}

/// Infers the output types of every op of `f` (for hover and other editor features; the checker
/// in [`crate::typecheck`] does the same while it checks).
pub fn infer_function(f: &Function) -> FunctionTypes {
    let mut by_op = vec![None; f.ops.len()];
    let mut inferencer = Inferencer::new(f);
    let function_opset = Opset::parse(&f.opset);
    for id in f.walk_ops() {
        let op = f.op(id);
        let opset = op.opset.as_deref().map_or(function_opset, Opset::parse);
        let version = opset.and_then(|o| catalogue::lookup_in(&op.kind, o).ok().map(|v| (v, o)));
        match version {
            Some((version, opset)) => {
                let binding = Binding::new(op, version);
                by_op[id.index()] = Some(inferencer.infer(id, version, opset, &binding));
            }
            None => inferencer.skip(id),
        }
    }
    FunctionTypes { by_op }
}

/// An inference rule.
type Rule = fn(&Ctx<'_, '_>) -> Inferred;

/// The inference rule of op `kind`.
fn rule(kind: &str) -> Option<Rule> {
    use {
        compress as q, conv as c, create as n, elementwise as e, gather as g, image as i, join as j,
        linalg as l, recurrent as r, reduce as d, slice as s, state as st, transform as t,
    };
    Some(match kind {
        "const" | "_const_symbolic" => n::constant,
        "abs"
        | "acos"
        | "asin"
        | "atan"
        | "atanh"
        | "ceil"
        | "cos"
        | "cosh"
        | "erf"
        | "exp"
        | "exp2"
        | "floor"
        | "inverse"
        | "log"
        | "logical_not"
        | "round"
        | "rsqrt"
        | "sign"
        | "sin"
        | "sinh"
        | "sqrt"
        | "square"
        | "tan"
        | "tanh"
        | "threshold"
        | "clip"
        | "relu"
        | "relu6"
        | "sigmoid"
        | "silu"
        | "softplus"
        | "softsign"
        | "elu"
        | "leaky_relu"
        | "linear_activation"
        | "thresholded_relu"
        | "clamped_relu"
        | "scaled_tanh"
        | "sigmoid_hard"
        | "softmax"
        | "band_part"
        | "cumsum"
        | "reverse"
        | "reverse_sequence"
        | "batch_norm"
        | "instance_norm"
        | "local_response_norm"
        | "identity" => e::same_as_x,
        "gelu" => e::gelu,
        "prelu" => e::prelu,
        "softplus_parametric" => e::softplus_parametric,
        "l2_norm" => e::l2_norm,
        "layer_norm" => e::layer_norm,
        "add" | "sub" | "mul" | "real_div" | "floor_div" | "mod" | "pow" | "maximum" | "minimum" => {
            e::arithmetic
        }
        "equal" | "not_equal" | "greater" | "greater_equal" | "less" | "less_equal" | "logical_and"
        | "logical_or" | "logical_xor" => e::comparison,
        "select" => e::select,
        "cast" => e::cast,
        "conv" | "conv_quantized" => c::conv,
        "conv_transpose" => c::conv_transpose,
        "avg_pool" | "max_pool" | "l2_pool" => c::pool,
        "reshape" => t::reshape,
        "reshape_like" => t::reshape_like,
        "transpose" => t::transpose,
        "expand_dims" => t::expand_dims,
        "squeeze" => t::squeeze,
        "flatten2d" => t::flatten2d,
        "depth_to_space" => t::depth_to_space,
        "space_to_depth" => t::space_to_depth,
        "pixel_shuffle" => t::pixel_shuffle,
        "pixel_unshuffle" => t::pixel_unshuffle,
        "space_to_batch" => t::space_to_batch,
        "batch_to_space" => t::batch_to_space,
        "tile" => t::tile,
        "pad" => t::pad,
        "sliding_windows" => t::sliding_windows,
        "slice_by_index" => s::slice_by_index,
        "slice_by_size" => s::slice_by_size,
        "slice_update" => s::slice_update,
        "concat" => j::concat,
        "stack" => j::stack,
        "split" => j::split,
        "gather" => g::gather,
        "gather_along_axis" => g::gather_along_axis,
        "gather_nd" => g::gather_nd,
        "scatter" | "scatter_along_axis" | "scatter_nd" => g::scatter,
        "reduce_l1_norm" | "reduce_l2_norm" | "reduce_log_sum" | "reduce_log_sum_exp" | "reduce_max"
        | "reduce_mean" | "reduce_min" | "reduce_prod" | "reduce_sum" | "reduce_sum_square" => d::reduce,
        "reduce_argmax" | "reduce_argmin" => d::reduce_arg,
        "topk" => d::topk,
        "argsort" => d::argsort,
        "matmul" => l::matmul,
        "linear" => l::linear,
        "einsum" => l::einsum,
        "scaled_dot_product_attention" => l::attention,
        "lstm" => r::lstm,
        "gru" => r::gru,
        "rnn" => r::rnn,
        "upsample_nearest_neighbor" | "upsample_bilinear" => i::upsample,
        "resize_nearest_neighbor" | "resize_bilinear" => i::resize_to,
        "resize" => i::resize,
        "crop" => i::crop,
        "crop_resize" => i::crop_resize,
        "affine" => i::affine,
        "resample" => i::resample,
        "constexpr_affine_dequantize" | "constexpr_blockwise_shift_scale" => q::dequantize_const,
        "constexpr_cast" => q::constexpr_cast,
        "constexpr_lut_to_dense" => q::lut_to_dense,
        "constexpr_sparse_to_dense" => q::sparse_to_dense,
        "constexpr_lut_to_sparse" => q::lut_to_sparse,
        "constexpr_sparse_blockwise_shift_scale" => q::sparse_shift_scale,
        "quantize" => q::quantize,
        "dequantize" => q::dequantize,
        "shape" => n::shape,
        "fill" => n::fill,
        "fill_like" => n::fill_like,
        "range_1d" => n::range_1d,
        "random_bernoulli" | "random_normal" | "random_uniform" => n::random,
        "random_categorical" => n::random_categorical,
        "one_hot" => n::one_hot,
        "non_zero" => n::non_zero,
        "non_maximum_suppression" => n::non_maximum_suppression,
        "classify" => n::classify,
        "read_state" => st::read_state,
        "write_state" => st::write_state,
        "tensor_buffer_to_tensor" => st::buffer_to_tensor,
        "tensor_to_tensor_buffer" => st::tensor_to_buffer,
        "cond" => st::cond,
        "while_loop" => st::while_loop,
        "make_list" => st::make_list,
        "list_length" => st::list_length,
        "list_read" | "list_gather" | "list_write" | "list_scatter" => st::list_access,
        _ => return None,
    })
}
