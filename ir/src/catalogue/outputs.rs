//! How many results each op has. coremltools' registry does not record outputs, so this table is
//! written by hand from the `type_inference` methods of coremltools 9.0's op definitions
//! (`coremltools/converters/mil/mil/ops/defs/`) and, for `write_state`, from its MIL backend.

/// The number of results of an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputCount {
    /// Always this many (`lstm` 3, `write_state` 0, most ops 1).
    Exactly(usize),
    /// Two, or one when the named const bool input is given as `false` (`topk`'s `return_indices`,
    /// iOS16 on; older versions have no such input and always return two).
    TwoUnlessFalse(&'static str),
    /// `split`: `num_splits`, or the length of `split_sizes`.
    PerSplit,
    /// `while_loop`: one per entry of `loop_vars`.
    PerLoopVar,
    /// `cond`: as many as each branch block returns.
    PerBranchOutput,
}

const ONE: OutputCount = OutputCount::Exactly(1);

/// Every op of the catalogue with its output count, sorted by name.
static OUTPUTS: &[(&str, OutputCount)] = &[
    ("_const_symbolic", ONE),
    ("abs", ONE),
    ("acos", ONE),
    ("add", ONE),
    ("affine", ONE),
    ("argsort", ONE),
    ("asin", ONE),
    ("atan", ONE),
    ("atanh", ONE),
    ("avg_pool", ONE),
    ("band_part", ONE),
    ("batch_norm", ONE),
    ("batch_to_space", ONE),
    ("cast", ONE),
    ("ceil", ONE),
    ("clamped_relu", ONE),
    ("classify", OutputCount::Exactly(2)),
    ("clip", ONE),
    ("concat", ONE),
    ("cond", OutputCount::PerBranchOutput),
    ("const", ONE),
    ("constexpr_affine_dequantize", ONE),
    ("constexpr_blockwise_shift_scale", ONE),
    ("constexpr_cast", ONE),
    ("constexpr_lut_to_dense", ONE),
    ("constexpr_lut_to_sparse", OutputCount::Exactly(2)),
    ("constexpr_sparse_blockwise_shift_scale", OutputCount::Exactly(2)),
    ("constexpr_sparse_to_dense", ONE),
    ("conv", ONE),
    ("conv_quantized", ONE),
    ("conv_transpose", ONE),
    ("cos", ONE),
    ("cosh", ONE),
    ("crop", ONE),
    ("crop_resize", ONE),
    ("cumsum", ONE),
    ("depth_to_space", ONE),
    ("dequantize", ONE),
    ("einsum", ONE),
    ("elu", ONE),
    ("equal", ONE),
    ("erf", ONE),
    ("exp", ONE),
    ("exp2", ONE),
    ("expand_dims", ONE),
    ("fill", ONE),
    ("fill_like", ONE),
    ("flatten2d", ONE),
    ("floor", ONE),
    ("floor_div", ONE),
    ("gather", ONE),
    ("gather_along_axis", ONE),
    ("gather_nd", ONE),
    ("gelu", ONE),
    ("greater", ONE),
    ("greater_equal", ONE),
    ("gru", OutputCount::Exactly(2)),
    ("identity", ONE),
    ("instance_norm", ONE),
    ("inverse", ONE),
    ("l2_norm", ONE),
    ("l2_pool", ONE),
    ("layer_norm", ONE),
    ("leaky_relu", ONE),
    ("less", ONE),
    ("less_equal", ONE),
    ("linear", ONE),
    ("linear_activation", ONE),
    ("list_gather", ONE),
    ("list_length", ONE),
    ("list_read", ONE),
    ("list_scatter", ONE),
    ("list_write", ONE),
    ("local_response_norm", ONE),
    ("log", ONE),
    ("logical_and", ONE),
    ("logical_not", ONE),
    ("logical_or", ONE),
    ("logical_xor", ONE),
    ("lstm", OutputCount::Exactly(3)),
    ("make_list", ONE),
    ("matmul", ONE),
    ("max_pool", ONE),
    ("maximum", ONE),
    ("minimum", ONE),
    ("mod", ONE),
    ("mul", ONE),
    ("non_maximum_suppression", OutputCount::Exactly(4)),
    ("non_zero", ONE),
    ("not_equal", ONE),
    ("one_hot", ONE),
    ("pad", ONE),
    ("pixel_shuffle", ONE),
    ("pixel_unshuffle", ONE),
    ("pow", ONE),
    ("prelu", ONE),
    ("quantize", ONE),
    ("random_bernoulli", ONE),
    ("random_categorical", ONE),
    ("random_normal", ONE),
    ("random_uniform", ONE),
    ("range_1d", ONE),
    ("read_state", ONE),
    ("real_div", ONE),
    ("reduce_argmax", ONE),
    ("reduce_argmin", ONE),
    ("reduce_l1_norm", ONE),
    ("reduce_l2_norm", ONE),
    ("reduce_log_sum", ONE),
    ("reduce_log_sum_exp", ONE),
    ("reduce_max", ONE),
    ("reduce_mean", ONE),
    ("reduce_min", ONE),
    ("reduce_prod", ONE),
    ("reduce_sum", ONE),
    ("reduce_sum_square", ONE),
    ("relu", ONE),
    ("relu6", ONE),
    ("resample", ONE),
    ("reshape", ONE),
    ("reshape_like", ONE),
    ("resize", ONE),
    ("resize_bilinear", ONE),
    ("resize_nearest_neighbor", ONE),
    ("reverse", ONE),
    ("reverse_sequence", ONE),
    ("rnn", OutputCount::Exactly(2)),
    ("round", ONE),
    ("rsqrt", ONE),
    ("scaled_dot_product_attention", ONE),
    ("scaled_tanh", ONE),
    ("scatter", ONE),
    ("scatter_along_axis", ONE),
    ("scatter_nd", ONE),
    ("select", ONE),
    ("shape", ONE),
    ("sigmoid", ONE),
    ("sigmoid_hard", ONE),
    ("sign", ONE),
    ("silu", ONE),
    ("sin", ONE),
    ("sinh", ONE),
    ("slice_by_index", ONE),
    ("slice_by_size", ONE),
    ("slice_update", ONE),
    ("sliding_windows", ONE),
    ("softmax", ONE),
    ("softplus", ONE),
    ("softplus_parametric", ONE),
    ("softsign", ONE),
    ("space_to_batch", ONE),
    ("space_to_depth", ONE),
    ("split", OutputCount::PerSplit),
    ("sqrt", ONE),
    ("square", ONE),
    ("squeeze", ONE),
    ("stack", ONE),
    ("sub", ONE),
    ("tan", ONE),
    ("tanh", ONE),
    ("tensor_buffer_to_tensor", ONE),
    ("tensor_to_tensor_buffer", ONE),
    ("threshold", ONE),
    ("thresholded_relu", ONE),
    ("tile", ONE),
    ("topk", OutputCount::TwoUnlessFalse("return_indices")),
    ("transpose", ONE),
    ("upsample_bilinear", ONE),
    ("upsample_nearest_neighbor", ONE),
    ("while_loop", OutputCount::PerLoopVar),
    ("write_state", OutputCount::Exactly(0)),
];

/// The output count of op `name`; every op of the catalogue has one (a test makes sure), so the
/// fallback of one result is never used for a catalogue op.
pub(super) fn output_count(name: &str) -> OutputCount {
    OUTPUTS
        .binary_search_by(|(op, _)| op.cmp(&name))
        .map_or(ONE, |i| OUTPUTS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_op_has_exactly_one_entry() {
        let table: Vec<&str> = OUTPUTS.iter().map(|(name, _)| *name).collect();
        let catalogue: Vec<&str> = super::super::ops().iter().map(|op| op.name).collect();
        assert_eq!(table, catalogue);
    }

    #[test]
    fn flags_named_by_the_table_are_inputs_of_the_op() {
        for op in super::super::ops() {
            if let OutputCount::TwoUnlessFalse(flag) = op.outputs() {
                assert!(op.versions.iter().any(|v| v.input(flag).is_some()), "{}", op.name);
            }
        }
    }
}
