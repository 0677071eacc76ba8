//! How many results each op version has. coremltools' registry does not record outputs, so this
//! table is written by hand from the `type_inference` methods of coremltools 9.0's op definitions
//! (`coremltools/converters/mil/mil/ops/defs/`) and, for `write_state`, from its MIL backend.

use super::{OpVersion, Opset};

/// The number of results of an op version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputCount {
    /// Always this many (`lstm` 3, `write_state` 0, most ops 1).
    Exactly(usize),
    /// Two, or one when the named const bool input is given as `false` (`topk`'s
    /// `return_indices`).
    TwoUnlessFalse(&'static str),
    /// `split`: `num_splits`, or the length of `split_sizes`.
    PerSplit,
    /// `while_loop`: one per entry of `loop_vars`.
    PerLoopVar,
    /// `cond`: as many as each branch block returns.
    PerBranchOutput,
}

use Opset::{Ios15, Ios16, Ios17, Ios18};
use OutputCount::{Exactly, PerBranchOutput, PerLoopVar, PerSplit, TwoUnlessFalse};

/// Every op with its output count from an opset on, sorted by name and opset. Each op has a row
/// for its first opset, and one more for each later version whose count differs.
static OUTPUTS: &[(&str, Opset, OutputCount)] = &[
    ("_const_symbolic", Ios15, Exactly(1)),
    ("abs", Ios15, Exactly(1)),
    ("acos", Ios15, Exactly(1)),
    ("add", Ios15, Exactly(1)),
    ("affine", Ios15, Exactly(1)),
    ("argsort", Ios15, Exactly(1)),
    ("asin", Ios15, Exactly(1)),
    ("atan", Ios15, Exactly(1)),
    ("atanh", Ios15, Exactly(1)),
    ("avg_pool", Ios15, Exactly(1)),
    ("band_part", Ios15, Exactly(1)),
    ("batch_norm", Ios15, Exactly(1)),
    ("batch_to_space", Ios15, Exactly(1)),
    ("cast", Ios15, Exactly(1)),
    ("ceil", Ios15, Exactly(1)),
    ("clamped_relu", Ios15, Exactly(1)),
    ("classify", Ios15, Exactly(2)),
    ("clip", Ios15, Exactly(1)),
    ("concat", Ios15, Exactly(1)),
    ("cond", Ios15, PerBranchOutput),
    ("const", Ios15, Exactly(1)),
    ("constexpr_affine_dequantize", Ios16, Exactly(1)),
    ("constexpr_blockwise_shift_scale", Ios18, Exactly(1)),
    ("constexpr_cast", Ios16, Exactly(1)),
    ("constexpr_lut_to_dense", Ios16, Exactly(1)),
    ("constexpr_lut_to_sparse", Ios18, Exactly(2)),
    ("constexpr_sparse_blockwise_shift_scale", Ios18, Exactly(2)),
    ("constexpr_sparse_to_dense", Ios16, Exactly(1)),
    ("conv", Ios15, Exactly(1)),
    ("conv_quantized", Ios15, Exactly(1)),
    ("conv_transpose", Ios15, Exactly(1)),
    ("cos", Ios15, Exactly(1)),
    ("cosh", Ios15, Exactly(1)),
    ("crop", Ios15, Exactly(1)),
    ("crop_resize", Ios15, Exactly(1)),
    ("cumsum", Ios15, Exactly(1)),
    ("depth_to_space", Ios15, Exactly(1)),
    ("dequantize", Ios17, Exactly(1)),
    ("einsum", Ios15, Exactly(1)),
    ("elu", Ios15, Exactly(1)),
    ("equal", Ios15, Exactly(1)),
    ("erf", Ios15, Exactly(1)),
    ("exp", Ios15, Exactly(1)),
    ("exp2", Ios15, Exactly(1)),
    ("expand_dims", Ios15, Exactly(1)),
    ("fill", Ios15, Exactly(1)),
    ("fill_like", Ios16, Exactly(1)),
    ("flatten2d", Ios15, Exactly(1)),
    ("floor", Ios15, Exactly(1)),
    ("floor_div", Ios15, Exactly(1)),
    ("gather", Ios15, Exactly(1)),
    ("gather_along_axis", Ios15, Exactly(1)),
    ("gather_nd", Ios15, Exactly(1)),
    ("gelu", Ios15, Exactly(1)),
    ("greater", Ios15, Exactly(1)),
    ("greater_equal", Ios15, Exactly(1)),
    ("gru", Ios15, Exactly(2)),
    ("identity", Ios15, Exactly(1)),
    ("instance_norm", Ios15, Exactly(1)),
    ("inverse", Ios15, Exactly(1)),
    ("l2_norm", Ios15, Exactly(1)),
    ("l2_pool", Ios15, Exactly(1)),
    ("layer_norm", Ios15, Exactly(1)),
    ("leaky_relu", Ios15, Exactly(1)),
    ("less", Ios15, Exactly(1)),
    ("less_equal", Ios15, Exactly(1)),
    ("linear", Ios15, Exactly(1)),
    ("linear_activation", Ios15, Exactly(1)),
    ("list_gather", Ios15, Exactly(1)),
    ("list_length", Ios15, Exactly(1)),
    ("list_read", Ios15, Exactly(1)),
    ("list_scatter", Ios15, Exactly(1)),
    ("list_write", Ios15, Exactly(1)),
    ("local_response_norm", Ios15, Exactly(1)),
    ("log", Ios15, Exactly(1)),
    ("logical_and", Ios15, Exactly(1)),
    ("logical_not", Ios15, Exactly(1)),
    ("logical_or", Ios15, Exactly(1)),
    ("logical_xor", Ios15, Exactly(1)),
    ("lstm", Ios15, Exactly(3)),
    ("make_list", Ios15, Exactly(1)),
    ("matmul", Ios15, Exactly(1)),
    ("max_pool", Ios15, Exactly(1)),
    ("maximum", Ios15, Exactly(1)),
    ("minimum", Ios15, Exactly(1)),
    ("mod", Ios15, Exactly(1)),
    ("mul", Ios15, Exactly(1)),
    ("non_maximum_suppression", Ios15, Exactly(4)),
    ("non_maximum_suppression", Ios17, Exactly(3)),
    ("non_zero", Ios15, Exactly(1)),
    ("not_equal", Ios15, Exactly(1)),
    ("one_hot", Ios15, Exactly(1)),
    ("pad", Ios15, Exactly(1)),
    ("pixel_shuffle", Ios15, Exactly(1)),
    ("pixel_unshuffle", Ios16, Exactly(1)),
    ("pow", Ios15, Exactly(1)),
    ("prelu", Ios15, Exactly(1)),
    ("quantize", Ios17, Exactly(1)),
    ("random_bernoulli", Ios15, Exactly(1)),
    ("random_categorical", Ios15, Exactly(1)),
    ("random_normal", Ios15, Exactly(1)),
    ("random_uniform", Ios15, Exactly(1)),
    ("range_1d", Ios15, Exactly(1)),
    ("read_state", Ios18, Exactly(1)),
    ("real_div", Ios15, Exactly(1)),
    ("reduce_argmax", Ios15, Exactly(1)),
    ("reduce_argmin", Ios15, Exactly(1)),
    ("reduce_l1_norm", Ios15, Exactly(1)),
    ("reduce_l2_norm", Ios15, Exactly(1)),
    ("reduce_log_sum", Ios15, Exactly(1)),
    ("reduce_log_sum_exp", Ios15, Exactly(1)),
    ("reduce_max", Ios15, Exactly(1)),
    ("reduce_mean", Ios15, Exactly(1)),
    ("reduce_min", Ios15, Exactly(1)),
    ("reduce_prod", Ios15, Exactly(1)),
    ("reduce_sum", Ios15, Exactly(1)),
    ("reduce_sum_square", Ios15, Exactly(1)),
    ("relu", Ios15, Exactly(1)),
    ("relu6", Ios15, Exactly(1)),
    ("resample", Ios15, Exactly(1)),
    ("reshape", Ios15, Exactly(1)),
    ("reshape_like", Ios16, Exactly(1)),
    ("resize", Ios17, Exactly(1)),
    ("resize_bilinear", Ios15, Exactly(1)),
    ("resize_nearest_neighbor", Ios15, Exactly(1)),
    ("reverse", Ios15, Exactly(1)),
    ("reverse_sequence", Ios15, Exactly(1)),
    ("rnn", Ios15, Exactly(2)),
    ("round", Ios15, Exactly(1)),
    ("rsqrt", Ios15, Exactly(1)),
    ("scaled_dot_product_attention", Ios18, Exactly(1)),
    ("scaled_tanh", Ios15, Exactly(1)),
    ("scatter", Ios15, Exactly(1)),
    ("scatter_along_axis", Ios15, Exactly(1)),
    ("scatter_nd", Ios15, Exactly(1)),
    ("select", Ios15, Exactly(1)),
    ("shape", Ios15, Exactly(1)),
    ("sigmoid", Ios15, Exactly(1)),
    ("sigmoid_hard", Ios15, Exactly(1)),
    ("sign", Ios15, Exactly(1)),
    ("silu", Ios15, Exactly(1)),
    ("sin", Ios15, Exactly(1)),
    ("sinh", Ios15, Exactly(1)),
    ("slice_by_index", Ios15, Exactly(1)),
    ("slice_by_size", Ios15, Exactly(1)),
    ("slice_update", Ios18, Exactly(1)),
    ("sliding_windows", Ios15, Exactly(1)),
    ("softmax", Ios15, Exactly(1)),
    ("softplus", Ios15, Exactly(1)),
    ("softplus_parametric", Ios15, Exactly(1)),
    ("softsign", Ios15, Exactly(1)),
    ("space_to_batch", Ios15, Exactly(1)),
    ("space_to_depth", Ios15, Exactly(1)),
    ("split", Ios15, PerSplit),
    ("sqrt", Ios15, Exactly(1)),
    ("square", Ios15, Exactly(1)),
    ("squeeze", Ios15, Exactly(1)),
    ("stack", Ios15, Exactly(1)),
    ("sub", Ios15, Exactly(1)),
    ("tan", Ios15, Exactly(1)),
    ("tanh", Ios15, Exactly(1)),
    ("tensor_buffer_to_tensor", Ios17, Exactly(1)),
    ("tensor_to_tensor_buffer", Ios17, Exactly(1)),
    ("threshold", Ios15, Exactly(1)),
    ("thresholded_relu", Ios15, Exactly(1)),
    ("tile", Ios15, Exactly(1)),
    ("topk", Ios15, Exactly(2)),
    ("topk", Ios16, TwoUnlessFalse("return_indices")),
    ("transpose", Ios15, Exactly(1)),
    ("upsample_bilinear", Ios15, Exactly(1)),
    ("upsample_nearest_neighbor", Ios15, Exactly(1)),
    ("while_loop", Ios15, PerLoopVar),
    ("write_state", Ios18, Exactly(0)),
];

/// The output count of `version`: the last row of its op that starts no later than the version.
/// Every version has one (tested), so the fallback of one result is never taken.
pub(super) fn output_count(version: &OpVersion) -> OutputCount {
    OUTPUTS
        .iter()
        .rev()
        .find(|(op, since, _)| *op == version.name && *since <= version.since())
        .map_or(Exactly(1), |row| row.2)
}

#[cfg(test)]
mod tests {
    use super::super::ops;
    use super::*;

    #[test]
    fn rows_are_sorted_and_start_versions_of_catalogue_ops() {
        assert!(OUTPUTS.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        for &(name, since, _) in OUTPUTS {
            let op = super::super::op(name).unwrap_or_else(|| panic!("{name} is not in the catalogue"));
            assert!(
                op.versions.iter().any(|v| v.since() == since),
                "{name} has no version from {since}"
            );
        }
    }

    #[test]
    fn every_op_has_a_row_for_its_first_opset() {
        for op in ops() {
            let first = op.first_opset();
            assert!(
                OUTPUTS
                    .iter()
                    .any(|&(name, since, _)| name == op.name && since == first),
                "{}",
                op.name
            );
        }
    }

    #[test]
    fn flags_named_by_the_table_are_inputs_of_the_version() {
        for version in ops().iter().flat_map(|op| op.versions) {
            if let TwoUnlessFalse(flag) = version.outputs() {
                assert!(version.input(flag).is_some(), "{}", version.name);
            }
        }
    }
}
