//! Hover and completion texts: a one-line summary of every op and a note on every input.
//!
//! Written for this project; the facts come from the docstrings of coremltools 9.0's op
//! definitions (`coremltools/converters/mil/mil/ops/defs/`), the wording does not. Defaults,
//! dtypes and opsets are not repeated here: the catalogue tables have them.

/// A one-line summary of op `op`.
pub fn summary(op: &str) -> Option<&'static str> {
    SUMMARIES
        .binary_search_by(|(name, _)| name.cmp(&op))
        .ok()
        .map(|i| SUMMARIES[i].1)
}

/// A note on input `input` of op `op`: the op's own note, else the meaning the input name has for
/// every op that uses it (`x`, `axis`, `keep_dims`, ...).
pub fn input_note(op: &str, input: &str) -> Option<&'static str> {
    INPUT_NOTES
        .iter()
        .find(|(o, i, _)| *o == op && *i == input)
        .map(|(_, _, note)| *note)
        .or_else(|| {
            COMMON_NOTES
                .iter()
                .find(|(i, _)| *i == input)
                .map(|(_, note)| *note)
        })
}

/// Every op, sorted by name, with its summary.
static SUMMARIES: &[(&str, &str)] = &[
    (
        "_const_symbolic",
        "A coremltools-internal constant that may hold symbolic dimensions.",
    ),
    ("abs", "Absolute value of each element."),
    ("acos", "Arc cosine of each element."),
    ("add", "Sum x + y, element by element, with broadcasting."),
    (
        "affine",
        "Warps each image of a [B, C, H, W] batch by a 2-D affine transform, sampling bilinearly.",
    ),
    (
        "argsort",
        "Indices (int32) that would sort x along an axis, largest first unless ascending.",
    ),
    ("asin", "Arc sine of each element."),
    ("atan", "Arc tangent of each element."),
    ("atanh", "Inverse hyperbolic tangent of each element."),
    (
        "avg_pool",
        "Average pooling over 1 to 3 spatial dimensions of [N, C, *D].",
    ),
    (
        "band_part",
        "Keeps a band of diagonals of the innermost two dimensions and zeroes the rest.",
    ),
    (
        "batch_norm",
        "Normalizes each channel of [N, C, *D] with a given mean and variance, then scales and shifts.",
    ),
    (
        "batch_to_space",
        "Moves blocks of the batch dimension into the height and width of [N, C, H, W], then crops.",
    ),
    ("cast", "Converts x to another dtype, keeping its shape."),
    ("ceil", "Rounds each element up to an integer value."),
    ("clamped_relu", "Leaky ReLU whose result is capped at beta."),
    (
        "classify",
        "Marks a classifier: yields the predicted label and a label-to-probability dict (2 outputs).",
    ),
    ("clip", "Limits each element to the range [alpha, beta]."),
    (
        "concat",
        "Joins a tuple of tensors along an existing axis, one after another or interleaved.",
    ),
    (
        "cond",
        "Runs one of two nested blocks, chosen by a scalar bool, and returns that block's outputs.",
    ),
    ("const", "A constant, given by its `val` attribute."),
    (
        "constexpr_affine_dequantize",
        "Weights stored as int8/uint8, expanded as scale * (data - zero_point) when loaded.",
    ),
    (
        "constexpr_blockwise_shift_scale",
        "Weights quantized block by block, expanded as scale * (data - offset) when loaded.",
    ),
    ("constexpr_cast", "An fp16 constant widened to fp32 when loaded."),
    (
        "constexpr_lut_to_dense",
        "Palettized weights: packed indices into a lookup table, expanded when loaded.",
    ),
    (
        "constexpr_lut_to_sparse",
        "Palettized weights of a sparse tensor; yields the mask and the looked-up values (2 outputs).",
    ),
    (
        "constexpr_sparse_blockwise_shift_scale",
        "Block-quantized weights of a sparse tensor; yields the mask and the dequantized values (2 outputs).",
    ),
    (
        "constexpr_sparse_to_dense",
        "Sparse weights: non-zero values placed by a bit mask, expanded when loaded.",
    ),
    (
        "conv",
        "Convolution over 1 to 3 spatial dimensions, with strides, dilations, padding and groups.",
    ),
    (
        "conv_quantized",
        "Experimental convolution whose weights are stored quantized (linear or lookup table).",
    ),
    (
        "conv_transpose",
        "Transposed convolution (the gradient of conv), enlarging 1 to 3 spatial dimensions.",
    ),
    ("cos", "Cosine of each element."),
    ("cosh", "Hyperbolic cosine of each element."),
    (
        "crop",
        "Removes rows and columns at the edges of the last two dimensions.",
    ),
    (
        "crop_resize",
        "Cuts boxes out of a batch of images and resizes each to a fixed size, bilinearly.",
    ),
    (
        "cumsum",
        "Running sum along an axis, optionally exclusive or from the end.",
    ),
    (
        "depth_to_space",
        "Moves channel blocks into space: [N, C, H, W] becomes [N, C/b², H·b, W·b].",
    ),
    (
        "dequantize",
        "Turns int8/uint8 data into floats as scale * (input - zero_point).",
    ),
    (
        "einsum",
        "Product of two tensors written in Einstein notation; only batched matmul forms.",
    ),
    ("elu", "x where positive, alpha * (exp(x) - 1) elsewhere."),
    ("equal", "Whether x == y, element by element with broadcasting."),
    ("erf", "Gauss error function of each element."),
    ("exp", "e raised to each element."),
    ("exp2", "2 raised to each element."),
    ("expand_dims", "Inserts dimensions of size 1."),
    ("fill", "A tensor of a given shape holding one value everywhere."),
    (
        "fill_like",
        "A tensor shaped like another, holding one value everywhere.",
    ),
    (
        "flatten2d",
        "Reshapes x to 2-D: the dimensions before axis, then those from axis on.",
    ),
    ("floor", "Rounds each element down to an integer value."),
    (
        "floor_div",
        "x / y rounded towards negative infinity, with broadcasting.",
    ),
    ("gather", "Takes slices of x along an axis at the given indices."),
    (
        "gather_along_axis",
        "Takes one element of x along an axis for each entry of an index tensor of x's rank.",
    ),
    ("gather_nd", "Takes the slices of x addressed by index tuples."),
    (
        "gelu",
        "Gaussian error linear unit, exact or approximated with tanh or sigmoid.",
    ),
    ("greater", "Whether x > y, element by element with broadcasting."),
    (
        "greater_equal",
        "Whether x >= y, element by element with broadcasting.",
    ),
    (
        "gru",
        "Gated recurrent unit over a sequence; yields the outputs and the final hidden state (2 outputs).",
    ),
    ("identity", "Returns its input unchanged."),
    (
        "instance_norm",
        "Normalizes each channel of each sample over its spatial dimensions, then scales and shifts.",
    ),
    ("inverse", "Reciprocal 1 / (x + epsilon) of each element."),
    (
        "l2_norm",
        "Divides x by the L2 norm of its last three dimensions.",
    ),
    ("l2_pool", "L2-norm pooling over 1 or 2 spatial dimensions."),
    (
        "layer_norm",
        "Normalizes over the given axes to zero mean and unit variance, then scales and shifts.",
    ),
    ("leaky_relu", "x where non-negative, alpha * x elsewhere."),
    ("less", "Whether x < y, element by element with broadcasting."),
    (
        "less_equal",
        "Whether x <= y, element by element with broadcasting.",
    ),
    (
        "linear",
        "Fully connected layer: x times the transposed weight, plus bias.",
    ),
    ("linear_activation", "alpha * x + beta for each element."),
    (
        "list_gather",
        "Stacks the list elements at the given positions into one tensor.",
    ),
    ("list_length", "The number of elements of a list."),
    ("list_read", "The list element at a position."),
    (
        "list_scatter",
        "Writes tensors into a list at several positions; returns the new list.",
    ),
    (
        "list_write",
        "Writes a tensor into a list at one position; returns the new list.",
    ),
    (
        "local_response_norm",
        "Divides each element by a power of the sum of squares of neighbouring channels.",
    ),
    ("log", "Natural logarithm of x + epsilon."),
    ("logical_and", "Boolean AND of x and y, with broadcasting."),
    ("logical_not", "Boolean NOT of each element."),
    ("logical_or", "Boolean OR of x and y, with broadcasting."),
    ("logical_xor", "Boolean XOR of x and y, with broadcasting."),
    (
        "lstm",
        "Long short-term memory over a sequence; yields the outputs, final hidden and final cell state (3 \
        outputs).",
    ),
    (
        "make_list",
        "Creates a list of tensors sharing one element shape and dtype.",
    ),
    (
        "matmul",
        "Matrix product with broadcast batch dimensions and optional transposes.",
    ),
    (
        "max_pool",
        "Max pooling over 1 to 3 spatial dimensions of [N, C, *D].",
    ),
    (
        "maximum",
        "The larger of x and y, element by element with broadcasting.",
    ),
    (
        "minimum",
        "The smaller of x and y, element by element with broadcasting.",
    ),
    ("mod", "Remainder of x / y, element by element with broadcasting."),
    ("mul", "Product x * y, element by element with broadcasting."),
    (
        "non_maximum_suppression",
        "Keeps the best-scoring boxes and drops those overlapping them; boxes, scores, indices, counts (3 \
        outputs from iOS17).",
    ),
    (
        "non_zero",
        "The indices of the non-zero elements of x, one row each; the row count is known only at run time.",
    ),
    (
        "not_equal",
        "Whether x != y, element by element with broadcasting.",
    ),
    (
        "one_hot",
        "Turns indices into one-hot vectors along a new dimension.",
    ),
    (
        "pad",
        "Pads the trailing dimensions of x with a constant, a reflection or a copy of the edge.",
    ),
    (
        "pixel_shuffle",
        "Moves channel blocks into space: [N, C·f², H, W] becomes [N, C, H·f, W·f].",
    ),
    (
        "pixel_unshuffle",
        "Moves space into channels: [N, C, H, W] becomes [N, C·f², H/f, W/f].",
    ),
    (
        "pow",
        "x raised to the power y, element by element with broadcasting.",
    ),
    ("prelu", "Leaky ReLU with a learned slope per channel."),
    (
        "quantize",
        "Turns floats into int8/uint8 as round(input / scale) + zero_point, clipped.",
    ),
    (
        "random_bernoulli",
        "A tensor of random 0s and 1s, 1 with a given probability.",
    ),
    (
        "random_categorical",
        "Draws samples from categorical distributions given as logits or probabilities.",
    ),
    ("random_normal", "A tensor of normally distributed random values."),
    (
        "random_uniform",
        "A tensor of uniformly distributed random values in [low, high).",
    ),
    (
        "range_1d",
        "The 1-D sequence start, start + step, ... up to end (exclusive).",
    ),
    ("read_state", "A copy of the current value of a state."),
    (
        "real_div",
        "Quotient x / y, element by element with broadcasting.",
    ),
    ("reduce_argmax", "Index of the largest value along an axis."),
    ("reduce_argmin", "Index of the smallest value along an axis."),
    ("reduce_l1_norm", "Sum of absolute values over the given axes."),
    (
        "reduce_l2_norm",
        "Square root of the sum of squares over the given axes.",
    ),
    (
        "reduce_log_sum",
        "Natural logarithm of the sum over the given axes.",
    ),
    (
        "reduce_log_sum_exp",
        "Logarithm of the sum of exponentials over the given axes, computed stably.",
    ),
    ("reduce_max", "Largest value over the given axes."),
    ("reduce_mean", "Mean over the given axes."),
    ("reduce_min", "Smallest value over the given axes."),
    ("reduce_prod", "Product over the given axes."),
    ("reduce_sum", "Sum over the given axes."),
    ("reduce_sum_square", "Sum of squares over the given axes."),
    ("relu", "max(x, 0) for each element."),
    ("relu6", "min(max(x, 0), 6) for each element."),
    (
        "resample",
        "Samples a batch of images at given coordinates, bilinearly or by nearest neighbour.",
    ),
    ("reshape", "The same elements in a new shape."),
    (
        "reshape_like",
        "Reshapes x to dimensions taken from the shapes of reference tensors.",
    ),
    (
        "resize",
        "Resizes the trailing dimensions of x to a shape given by a tensor, linearly or by nearest \
        neighbour.",
    ),
    (
        "resize_bilinear",
        "Resizes the last two dimensions to a target size, bilinearly.",
    ),
    (
        "resize_nearest_neighbor",
        "Resizes the last two dimensions to a target size by nearest neighbour.",
    ),
    ("reverse", "Reverses the order of elements along the given axes."),
    (
        "reverse_sequence",
        "Reverses the first lengths[i] elements along one axis, separately for each batch entry.",
    ),
    (
        "rnn",
        "Simple recurrent network over a sequence; yields the outputs and the final hidden state (2 \
        outputs).",
    ),
    ("round", "Rounds each element to the nearest integer value."),
    ("rsqrt", "1 / sqrt(x + epsilon) for each element."),
    (
        "scaled_dot_product_attention",
        "softmax(query · keyᵀ / sqrt(E) + mask) · value.",
    ),
    ("scaled_tanh", "alpha * tanh(beta * x) for each element."),
    (
        "scatter",
        "Writes slices of updates into data along an axis at the given indices.",
    ),
    (
        "scatter_along_axis",
        "Writes each element of updates into data along an axis at the matching index.",
    ),
    (
        "scatter_nd",
        "Writes slices of updates into data at positions given by index tuples.",
    ),
    (
        "select",
        "Takes elements of a where cond is true and of b elsewhere, with broadcasting.",
    ),
    ("shape", "The shape of x as a 1-D int32 tensor."),
    ("sigmoid", "Logistic function 1 / (1 + exp(-x)) of each element."),
    (
        "sigmoid_hard",
        "min(max(alpha * x + beta, 0), 1) for each element.",
    ),
    ("sign", "-1, 0 or 1 by the sign of each element."),
    ("silu", "x * sigmoid(x) for each element (also called swish)."),
    ("sin", "Sine of each element."),
    ("sinh", "Hyperbolic sine of each element."),
    (
        "slice_by_index",
        "A strided slice of x, like Python's x[begin:end:stride] in every dimension.",
    ),
    (
        "slice_by_size",
        "The block of x that starts at begin and has the given size.",
    ),
    (
        "slice_update",
        "x with a strided slice replaced by another tensor.",
    ),
    (
        "sliding_windows",
        "All windows of a given size along an axis, stacked in a new dimension.",
    ),
    ("softmax", "exp(x) divided by its sum along an axis."),
    ("softplus", "log(1 + exp(x)) for each element."),
    (
        "softplus_parametric",
        "alpha * log(1 + exp(beta * x)) with a pair of parameters per channel.",
    ),
    ("softsign", "x / (1 + |x|) for each element."),
    (
        "space_to_batch",
        "Pads the height and width of [N, C, H, W] and moves blocks of them into the batch.",
    ),
    (
        "space_to_depth",
        "Moves space into channels: [N, C, H, W] becomes [N, C·b², H/b, W/b].",
    ),
    ("split", "Cuts x along an axis into parts, one output each."),
    ("sqrt", "Square root of each element."),
    ("square", "x * x for each element."),
    ("squeeze", "Removes dimensions of size 1."),
    ("stack", "Joins tensors of one shape along a new axis."),
    ("sub", "Difference x - y, element by element with broadcasting."),
    ("tan", "Tangent of each element."),
    ("tanh", "Hyperbolic tangent of each element."),
    (
        "tensor_buffer_to_tensor",
        "Core ML runtime: reads a tensor out of a strided tensor_buffer.",
    ),
    (
        "tensor_to_tensor_buffer",
        "Core ML runtime: stores a tensor into a strided tensor_buffer.",
    ),
    ("threshold", "max(x, alpha) for each element."),
    ("thresholded_relu", "x where x >= alpha, 0 elsewhere."),
    ("tile", "Repeats x a given number of times along each dimension."),
    (
        "topk",
        "The k largest (or smallest) values along an axis and their indices (2 outputs, or 1 without \
        indices).",
    ),
    ("transpose", "Permutes the dimensions of x."),
    (
        "upsample_bilinear",
        "Enlarges the last two dimensions by scale factors, bilinearly.",
    ),
    (
        "upsample_nearest_neighbor",
        "Enlarges the last two dimensions by scale factors by nearest neighbour.",
    ),
    (
        "while_loop",
        "Runs a body block while a condition block holds; returns the final loop variables.",
    ),
    ("write_state", "Overwrites a state with a new value (no outputs)."),
];

/// Inputs whose meaning is the same for every op that has them and no note of its own.
static COMMON_NOTES: &[(&str, &str)] = &[
    ("x", "The input tensor."),
    ("y", "The second operand; broadcast against `x`."),
    (
        "axis",
        "The dimension to work along; negative values count from the end.",
    ),
    (
        "axes",
        "The dimensions to work along; negative values count from the end.",
    ),
    (
        "keep_dims",
        "Keep each reduced dimension with size 1 instead of dropping it.",
    ),
    (
        "epsilon",
        "A small constant that keeps the computation away from division by zero.",
    ),
    (
        "validate_indices",
        "iOS17 on: fail on an index out of range; otherwise such an index gives an undefined (but \
        memory-safe) \
         result. From iOS17, negative indices are out of range.",
    ),
    ("kernel_sizes", "The window size along each spatial dimension."),
    (
        "strides",
        "The step between windows along each spatial dimension (1 for each when absent).",
    ),
    (
        "dilations",
        "The spacing between kernel taps along each spatial dimension (1 for each when absent).",
    ),
    (
        "pad_type",
        "How to pad: `valid` (not at all), `same` (output size is input size / stride, rounded up), \
         `same_lower` (as `same`, an odd extra row or column goes first) or `custom` (from `pad`).",
    ),
    (
        "pad",
        "Padding before and after each spatial dimension, two numbers per dimension; \
         for pad_type `custom` (zeros when absent).",
    ),
    (
        "groups",
        "The number of groups the channels are split into; the channel counts must divide by it \
         (1 when absent; C_in gives a depthwise convolution).",
    ),
    (
        "ceil_mode",
        "Round output sizes up instead of down; only with pad_type `valid` or `custom`, and the padding must \
         then be the same on both sides.",
    ),
    (
        "bias",
        "A bias added to each output channel, [C_out] (zeros when absent).",
    ),
    (
        "seed",
        "A seed that makes the random values the same on every run.",
    ),
    (
        "direction",
        "`forward` or `reverse`: which end of the sequence the recurrence starts from.",
    ),
    (
        "output_sequence",
        "Return the hidden state of every step (true) or of the last step only (false).",
    ),
    ("initial_h", "The hidden state before the first step, [B, H]."),
    (
        "recurrent_activation",
        "The activation of the gates (`sigmoid`, `tanh`, `relu`, ...).",
    ),
    (
        "activation",
        "The activation of the new hidden value (`tanh`, `sigmoid`, `relu`, ...).",
    ),
    ("ls", "The list, as made by `make_list`."),
    ("begin", "The start index in each dimension."),
    ("end", "The end index in each dimension (exclusive)."),
    ("stride", "The step in each dimension (1 for each when absent)."),
    ("begin_mask", "Per dimension: ignore `begin` and start at 0."),
    (
        "end_mask",
        "Per dimension: ignore `end` and run to the end of the dimension.",
    ),
    (
        "squeeze_mask",
        "Per dimension: take only the element at `begin` and drop the dimension.",
    ),
    (
        "data",
        "The tensor to write into; the result has its shape and dtype.",
    ),
    ("updates", "The values to write."),
    (
        "mode",
        "How a written value combines with the old one: `update`, `add`, `sub`, `mul`, `div`, `max` or \
        `min`.",
    ),
    (
        "sampling_mode",
        "Where the samples fall on the input grid: `DEFAULT`, `STRICT_ALIGN_CORNERS`, `ALIGN_CORNERS`, \
         `OFFSET_CORNERS` or `UNALIGN_CORNERS`.",
    ),
    (
        "padding_mode",
        "What a sample outside the image reads: `constant` (padding_value), `border` (the nearest edge), \
         `reflection` (mirrored without the edge) or `symmetric` (mirrored with it).",
    ),
    (
        "padding_value",
        "The value read outside the image when padding_mode is `constant`.",
    ),
    (
        "coordinates_mode",
        "How coordinates are measured: `unnormalized` (pixels), `normalized_minus_one_to_one` or \
         `normalized_zero_to_one` (the image spans the range).",
    ),
    (
        "align_corners",
        "Whether the extreme coordinates are the centres (true) or the outer edges (false) of the corner \
        pixels.",
    ),
    (
        "scale_factor_height",
        "The factor for the height (dimension -2); may be fractional.",
    ),
    (
        "scale_factor_width",
        "The factor for the width (dimension -1); may be fractional.",
    ),
    ("target_size_height", "The height of the result (dimension -2)."),
    ("target_size_width", "The width of the result (dimension -1)."),
];

/// Notes on inputs of one op, by op and input.
static INPUT_NOTES: &[(&str, &str, &str)] = &[
    (
        "_const_symbolic",
        "val",
        "The value, whose dimensions may be symbols.",
    ),
    (
        "affine",
        "transform_matrix",
        "[D, 6] rows (a0, a1, a2, b0, b1, b2): output point (x, y) reads input point \
         (a0·x + a1·y + a2, b0·x + b1·y + b2). D is B, or 1 for one transform for all images.",
    ),
    ("affine", "x", "Images [B, C, H, W]."),
    ("affine", "output_height", "The height of the result."),
    ("affine", "output_width", "The width of the result."),
    ("affine", "sampling_mode", "Only `bilinear`."),
    ("affine", "padding_mode", "Only `constant`."),
    (
        "affine",
        "padding_value",
        "The value read outside the image; only zero is supported.",
    ),
    (
        "affine",
        "coordinates_mode",
        "Only `normalized_minus_one_to_one`: -1 and 1 are the edges of the image.",
    ),
    (
        "affine",
        "align_corners",
        "Only true: -1 and 1 are the centres of the corner pixels.",
    ),
    (
        "argsort",
        "ascending",
        "Sort from the smallest value instead of the largest.",
    ),
    (
        "avg_pool",
        "x",
        "Input [N, C, *D] with 1 to 3 spatial dimensions.",
    ),
    (
        "avg_pool",
        "exclude_padding_from_average",
        "Leave the padded zeros out of the count each sum is divided by.",
    ),
    (
        "band_part",
        "lower",
        "How many diagonals below the main one to keep; negative keeps the whole lower triangle.",
    ),
    (
        "band_part",
        "upper",
        "How many diagonals above the main one to keep; negative keeps the whole upper triangle.",
    ),
    ("batch_norm", "x", "Input [N, C, *D] of rank 3 to 5."),
    ("batch_norm", "mean", "The mean of each channel, [C]."),
    ("batch_norm", "variance", "The variance of each channel, [C]."),
    (
        "batch_norm",
        "gamma",
        "The scale of each channel, [C] (ones when absent).",
    ),
    (
        "batch_norm",
        "beta",
        "The offset of each channel, [C] (zeros when absent).",
    ),
    (
        "batch_to_space",
        "x",
        "Input [N, C, H, W]; N must divide by the product of block_shape.",
    ),
    (
        "batch_to_space",
        "block_shape",
        "The block height and width, [2].",
    ),
    (
        "batch_to_space",
        "crops",
        "Rows and columns removed afterwards: [[top, bottom], [left, right]].",
    ),
    (
        "cast",
        "dtype",
        "The dtype to convert to: `int32`, `fp16`, `fp32` or `bool`; from iOS17 also `int8`, `uint8`, \
        `int16` \
         and `uint16`.",
    ),
    ("clamped_relu", "alpha", "The slope for negative inputs."),
    ("clamped_relu", "beta", "The largest value the result may take."),
    (
        "classify",
        "probabilities",
        "The scores that map to the class labels.",
    ),
    ("classify", "classes", "The class labels, integers or strings."),
    ("clip", "alpha", "The lower limit."),
    (
        "clip",
        "beta",
        "The upper limit; from iOS17 it must exceed alpha.",
    ),
    (
        "concat",
        "values",
        "The tensors to join: same rank, and equal in every dimension but `axis`.",
    ),
    (
        "concat",
        "interleave",
        "Alternate the slices of the inputs instead of placing the inputs one after another.",
    ),
    (
        "cond",
        "pred",
        "A scalar bool choosing the first block (true) or the second (false).",
    ),
    (
        "cond",
        "_true_fn",
        "The block run when `pred` is true: the op's first nested block.",
    ),
    (
        "cond",
        "_false_fn",
        "The block run when `pred` is false: the second nested block, returning the same types.",
    ),
    ("const", "val", "The value, written as the `val` attribute."),
    (
        "constexpr_affine_dequantize",
        "quantized_data",
        "The stored int8 or uint8 values.",
    ),
    (
        "constexpr_affine_dequantize",
        "zero_point",
        "A scalar, or one value per index of `axis`, subtracted first.",
    ),
    (
        "constexpr_affine_dequantize",
        "scale",
        "A scalar, or one value per index of `axis`, multiplied after; its dtype is the result's.",
    ),
    (
        "constexpr_affine_dequantize",
        "axis",
        "The dimension a vector scale and zero_point run along.",
    ),
    ("constexpr_blockwise_shift_scale", "data", "The stored values."),
    (
        "constexpr_blockwise_shift_scale",
        "scale",
        "One scale per block, of data's rank; each dimension of data must be a multiple of scale's, which \
        gives \
         the block size. Its dtype is the result's.",
    ),
    (
        "constexpr_blockwise_shift_scale",
        "offset",
        "One offset per block, shaped like scale, subtracted before scaling.",
    ),
    ("constexpr_cast", "source_val", "The fp16 constant."),
    (
        "constexpr_cast",
        "output_dtype",
        "The dtype to widen to; only `fp32`.",
    ),
    (
        "constexpr_lut_to_dense",
        "indices",
        "The table indices: bytes packed from the least significant bit up (iOS16), or a uint1 to uint8 \
        tensor \
         shaped like the result (iOS18).",
    ),
    (
        "constexpr_lut_to_dense",
        "lut",
        "The lookup table: 2^bits entries (iOS16), or per group of the result with a vector of values per \
        entry \
         (iOS18).",
    ),
    (
        "constexpr_lut_to_dense",
        "shape",
        "iOS16: the shape of the result.",
    ),
    (
        "constexpr_lut_to_dense",
        "vector_axis",
        "iOS18: the result dimension the values of a table entry are laid along; needed when an entry \
        holds more \
         than one value.",
    ),
    (
        "constexpr_lut_to_sparse",
        "indices_mask",
        "A uint1 mask of the entries that are present.",
    ),
    (
        "constexpr_lut_to_sparse",
        "indices_nonzero_data",
        "The table index of each present entry.",
    ),
    (
        "constexpr_lut_to_sparse",
        "lut",
        "The lookup table, per group, with a vector of values per entry.",
    ),
    (
        "constexpr_lut_to_sparse",
        "vector_axis",
        "The dimension the values of a table entry are laid along; needed when an entry holds more than \
        one value.",
    ),
    (
        "constexpr_sparse_blockwise_shift_scale",
        "data_mask",
        "A uint1 mask of the entries that are present.",
    ),
    (
        "constexpr_sparse_blockwise_shift_scale",
        "nonzero_data",
        "The stored value of each present entry.",
    ),
    (
        "constexpr_sparse_blockwise_shift_scale",
        "scale",
        "One scale per block, as for constexpr_blockwise_shift_scale.",
    ),
    (
        "constexpr_sparse_blockwise_shift_scale",
        "offset",
        "One offset per block, shaped like scale.",
    ),
    (
        "constexpr_sparse_to_dense",
        "nonzero_data",
        "The non-zero values, in row-major order.",
    ),
    (
        "constexpr_sparse_to_dense",
        "mask",
        "Where the non-zero values go: bits packed from the least significant bit up (iOS16), or a uint1 \
        tensor \
         shaped like the result (iOS18).",
    ),
    (
        "constexpr_sparse_to_dense",
        "shape",
        "iOS16: the shape of the result.",
    ),
    ("conv", "x", "Input [N, C_in, *D] with 1 to 3 spatial dimensions."),
    (
        "conv",
        "weight",
        "The kernel [C_out, C_in / groups, *K]; const when dilations are not all 1. From iOS17 its dtype \
        may differ \
         from x's.",
    ),
    (
        "conv_quantized",
        "x",
        "Input [N, C_in, *D] with 1 to 3 spatial dimensions.",
    ),
    (
        "conv_quantized",
        "weight",
        "The quantized kernel [C_out, C_in / groups, *K].",
    ),
    ("conv_quantized", "quantization_type", "`linear` or `lut`."),
    (
        "conv_quantized",
        "nbits",
        "The bit width of the stored weights, 1 to 8.",
    ),
    (
        "conv_quantized",
        "quant_scale",
        "The scale that turns stored weights back into values.",
    ),
    (
        "conv_quantized",
        "quant_bias",
        "The offset that turns stored weights back into values.",
    ),
    (
        "conv_transpose",
        "x",
        "Input [N, C_in, *D] with 1 to 3 spatial dimensions.",
    ),
    (
        "conv_transpose",
        "weight",
        "The kernel [C_in, C_out / groups, *K]; const before iOS17.",
    ),
    (
        "conv_transpose",
        "output_shape",
        "The exact shape of the result, starting [N, C_out]; settles sizes that padding leaves open.",
    ),
    (
        "conv_transpose",
        "pad_type",
        "`valid`, `same` or `custom` (from `pad`).",
    ),
    ("crop", "x", "Input of rank 3 or more."),
    (
        "crop",
        "crop_height",
        "Rows removed at the top and the bottom of dimension -2, [2].",
    ),
    (
        "crop",
        "crop_width",
        "Columns removed at the left and the right of dimension -1, [2].",
    ),
    ("crop_resize", "x", "Images [B, C, H, W]."),
    (
        "crop_resize",
        "roi",
        "Before iOS17: boxes [N, 1, 4, 1, 1] applied to every image, or [N, 1, 5, 1, 1] led by an image \
        index.",
    ),
    (
        "crop_resize",
        "boxes",
        "iOS17 on: boxes [N, 4], ordered as box_coordinate_mode says.",
    ),
    (
        "crop_resize",
        "box_indices",
        "iOS17 on: the image each box is cut from, [N] (0, 1, ... when absent).",
    ),
    (
        "crop_resize",
        "target_height",
        "The height each box is resized to.",
    ),
    ("crop_resize", "target_width", "The width each box is resized to."),
    (
        "crop_resize",
        "normalized_coordinates",
        "Box coordinates run from 0 to 1 instead of over pixels.",
    ),
    (
        "crop_resize",
        "spatial_scale",
        "A factor applied to every box coordinate.",
    ),
    (
        "crop_resize",
        "box_coordinate_mode",
        "The order of the four box numbers: `CORNERS_HEIGHT_FIRST`, `CORNERS_WIDTH_FIRST`, \
         `CENTER_SIZE_HEIGHT_FIRST` or `CENTER_SIZE_WIDTH_FIRST`.",
    ),
    (
        "crop_resize",
        "pad_value",
        "iOS16 on: the value read where a box reaches outside the image.",
    ),
    (
        "cumsum",
        "exclusive",
        "Leave each element out of its own sum, so the first result is 0.",
    ),
    ("cumsum", "reverse", "Sum from the end of the axis backwards."),
    ("depth_to_space", "x", "Input [N, C, H, W]."),
    (
        "depth_to_space",
        "block_size",
        "The edge b of each spatial block; C must divide by b².",
    ),
    ("dequantize", "input", "The stored int8 or uint8 values."),
    (
        "dequantize",
        "zero_point",
        "A scalar, or one value per index of `axis`, subtracted first (0 when absent).",
    ),
    (
        "dequantize",
        "scale",
        "A scalar, or one value per index of `axis`; its dtype is the result's.",
    ),
    (
        "dequantize",
        "axis",
        "The dimension a vector scale and zero_point run along.",
    ),
    ("einsum", "values", "The two operands, of rank 3 or 4."),
    (
        "einsum",
        "equation",
        "The equation: `nchw,nwhu->nchu`, `chw,whr->chr` or an equivalent spelling.",
    ),
    ("elu", "alpha", "The scale of the negative branch."),
    (
        "expand_dims",
        "axes",
        "Where the new dimensions go, counted in the result.",
    ),
    ("fill", "shape", "The shape of the result."),
    ("fill", "value", "The value every element takes."),
    (
        "fill_like",
        "ref_tensor",
        "The tensor whose shape the result takes.",
    ),
    ("fill_like", "value", "The value every element takes."),
    (
        "flatten2d",
        "axis",
        "Dimensions before it form the first dimension of the result, the rest the second.",
    ),
    (
        "gather",
        "indices",
        "Positions along `axis`; from iOS17 they must not be negative.",
    ),
    (
        "gather",
        "batch_dims",
        "iOS16 on: how many leading dimensions x and indices share.",
    ),
    (
        "gather_along_axis",
        "indices",
        "Positions along `axis`, of x's rank; the result has their shape.",
    ),
    (
        "gather_nd",
        "indices",
        "Index tuples in the last dimension, each addressing a slice of x.",
    ),
    (
        "gather_nd",
        "batch_dims",
        "iOS16 on: how many leading dimensions x and indices share.",
    ),
    (
        "gelu",
        "mode",
        "`EXACT`, `TANH_APPROXIMATION` or `SIGMOID_APPROXIMATION`.",
    ),
    ("gru", "x", "The sequence [S, B, I]."),
    (
        "gru",
        "weight_ih",
        "Input weights [3·H, I] of the reset, output and update gates.",
    ),
    (
        "gru",
        "weight_hh",
        "Hidden-state weights [3·H, H], gates in the same order.",
    ),
    (
        "gru",
        "bias",
        "Bias [3·H], gates in the same order (zeros when absent).",
    ),
    (
        "gru",
        "reset_after",
        "iOS18: apply the reset gate after the product with the hidden state.",
    ),
    (
        "gru",
        "input_bias",
        "iOS18: a separate bias [3·H] for the product with the input.",
    ),
    ("identity", "x", "A tensor, list or dict."),
    ("instance_norm", "x", "Input [N, C, *D] of rank 3 or 4."),
    (
        "instance_norm",
        "gamma",
        "The scale of each channel, [C] (ones when absent).",
    ),
    (
        "instance_norm",
        "beta",
        "The offset of each channel, [C] (zeros when absent).",
    ),
    (
        "l2_norm",
        "x",
        "Input of rank 3 or more; its last three dimensions are normalized together.",
    ),
    ("l2_pool", "x", "Input [N, C, *D] with 1 or 2 spatial dimensions."),
    (
        "layer_norm",
        "axes",
        "The dimensions normalized together (all when absent).",
    ),
    (
        "layer_norm",
        "gamma",
        "The scale, shaped like x over `axes` (ones when absent).",
    ),
    (
        "layer_norm",
        "beta",
        "The offset, shaped like gamma (zeros when absent).",
    ),
    ("leaky_relu", "alpha", "The slope for negative inputs."),
    ("linear", "x", "Input [*D, D_in] of rank 1 to 3."),
    ("linear", "weight", "The weight [D_out, D_in]."),
    ("linear", "bias", "The bias [D_out] (zeros when absent)."),
    ("linear_activation", "alpha", "The factor."),
    ("linear_activation", "beta", "The addend."),
    ("list_gather", "indices", "The list positions to stack."),
    ("list_read", "index", "The position to read."),
    (
        "list_scatter",
        "indices",
        "The positions to write; the list grows when one is past its end.",
    ),
    (
        "list_scatter",
        "value",
        "The elements to write, stacked, one per index.",
    ),
    ("list_write", "index", "The position to write."),
    ("list_write", "value", "The element, of the list's element shape."),
    ("local_response_norm", "x", "Input [N, C, *D] of rank 3 or 4."),
    (
        "local_response_norm",
        "size",
        "How many neighbouring channels the sum covers.",
    ),
    (
        "local_response_norm",
        "alpha",
        "The factor on the sum of squares.",
    ),
    ("local_response_norm", "beta", "The exponent."),
    (
        "local_response_norm",
        "k",
        "The constant added to the scaled sum.",
    ),
    ("lstm", "x", "The sequence [S, B, I]."),
    (
        "lstm",
        "initial_h",
        "The hidden state before the first step, [B, D·H] with D = 2 when bidirectional.",
    ),
    (
        "lstm",
        "initial_c",
        "The cell state before the first step, shaped like initial_h.",
    ),
    (
        "lstm",
        "weight_ih",
        "Input weights [4·H, I] of the input, forget, output and cell gates.",
    ),
    (
        "lstm",
        "weight_hh",
        "Hidden-state weights [4·H, H], gates in the same order.",
    ),
    (
        "lstm",
        "bias",
        "Bias [4·H], input and hidden biases summed (zeros when absent).",
    ),
    (
        "lstm",
        "peephole",
        "Peephole weights [3·H] of the input, forget and output gates (zeros when absent).",
    ),
    (
        "lstm",
        "weight_ih_back",
        "Input weights of the backward pass, for `bidirectional` only.",
    ),
    (
        "lstm",
        "weight_hh_back",
        "Hidden-state weights of the backward pass, for `bidirectional` only.",
    ),
    (
        "lstm",
        "bias_back",
        "Bias of the backward pass, for `bidirectional` only.",
    ),
    (
        "lstm",
        "peephole_back",
        "Peephole weights of the backward pass, for `bidirectional` only.",
    ),
    ("lstm", "direction", "`forward`, `reverse` or `bidirectional`."),
    (
        "lstm",
        "recurrent_activation",
        "The activation of the input, forget and output gates.",
    ),
    ("lstm", "cell_activation", "The activation of the cell gate."),
    (
        "lstm",
        "activation",
        "The activation applied to the cell state to give the output.",
    ),
    (
        "lstm",
        "clip",
        "Clip the cell gate to [-clip, clip] (no clipping when absent).",
    ),
    (
        "make_list",
        "init_length",
        "The initial length; the length for good when dynamic_length is false.",
    ),
    ("make_list", "dynamic_length", "Whether the list may grow."),
    (
        "make_list",
        "elem_shape",
        "The shape of each element: int32 constants, or strings for sizes known at run time.",
    ),
    (
        "make_list",
        "dtype",
        "The element dtype: `bool`, `fp16`, `fp32` or `int32`.",
    ),
    ("matmul", "x", "The left operand, of rank 1 or more."),
    (
        "matmul",
        "y",
        "The right operand, of rank 1 or more; its batch dimensions broadcast against x's.",
    ),
    (
        "matmul",
        "transpose_x",
        "Swap the last two dimensions of x first.",
    ),
    (
        "matmul",
        "transpose_y",
        "Swap the last two dimensions of y first.",
    ),
    (
        "max_pool",
        "x",
        "Input [N, C, *D] with 1 to 3 spatial dimensions.",
    ),
    (
        "non_maximum_suppression",
        "boxes",
        "Boxes as centre and size (x, y, w, h): [N, B, 4], from iOS17 [N, 4, B].",
    ),
    (
        "non_maximum_suppression",
        "scores",
        "The score of each box for each class: [N, B, K], from iOS17 [N, K, B].",
    ),
    (
        "non_maximum_suppression",
        "iou_threshold",
        "The overlap (IoU) above which the lower-scoring box is dropped.",
    ),
    (
        "non_maximum_suppression",
        "score_threshold",
        "Before iOS17: boxes scoring below it are dropped first.",
    ),
    (
        "non_maximum_suppression",
        "max_boxes",
        "How many boxes to return; missing ones are padding.",
    ),
    (
        "non_maximum_suppression",
        "per_class_suppression",
        "Compare only boxes of the same class.",
    ),
    ("non_zero", "x", "The tensor whose non-zero elements are listed."),
    (
        "one_hot",
        "indices",
        "The position of the on value in each vector.",
    ),
    ("one_hot", "one_hot_vector_size", "The length of each vector."),
    ("one_hot", "axis", "Where the new dimension goes (last when -1)."),
    ("one_hot", "on_value", "The value at the indexed position."),
    ("one_hot", "off_value", "The value everywhere else."),
    (
        "pad",
        "pad",
        "Amounts before and after each of the last N dimensions, [2·N]; all dimensions when not a constant.",
    ),
    (
        "pad",
        "mode",
        "`constant`, `reflect` (mirror without the edge) or `replicate` (repeat the edge).",
    ),
    ("pad", "constant_val", "The padding value for mode `constant`."),
    ("pixel_shuffle", "x", "Input [N, C·f², H, W]."),
    (
        "pixel_shuffle",
        "upscale_factor",
        "The factor f the height and width grow by.",
    ),
    (
        "pixel_unshuffle",
        "x",
        "Input [N, C, H, W] with H and W divisible by f.",
    ),
    (
        "pixel_unshuffle",
        "downscale_factor",
        "The factor f the height and width shrink by.",
    ),
    ("prelu", "x", "Input [B, C, *D] of rank 3 to 5."),
    (
        "prelu",
        "alpha",
        "The slope for negative inputs of each channel, [C].",
    ),
    ("quantize", "input", "The fp16 or fp32 values."),
    (
        "quantize",
        "zero_point",
        "A scalar, or one value per index of `axis`, added after scaling (0 when absent); of output_dtype.",
    ),
    (
        "quantize",
        "scale",
        "A scalar, or one value per index of `axis`, the input is divided by.",
    ),
    (
        "quantize",
        "axis",
        "The dimension a vector scale and zero_point run along.",
    ),
    ("quantize", "output_dtype", "`int8` or `uint8`."),
    ("random_bernoulli", "shape", "The shape of the result."),
    ("random_bernoulli", "prob", "The probability of a 1."),
    (
        "random_categorical",
        "x",
        "Logits or probabilities; the last dimension holds each distribution.",
    ),
    ("random_categorical", "mode", "`logits` or `probs`: what x holds."),
    (
        "random_categorical",
        "size",
        "How many samples to draw from each distribution, with replacement.",
    ),
    ("random_normal", "shape", "The shape of the result."),
    ("random_normal", "mean", "The mean of the distribution."),
    (
        "random_normal",
        "stddev",
        "The standard deviation of the distribution.",
    ),
    ("random_uniform", "shape", "The shape of the result."),
    ("random_uniform", "low", "The smallest value (inclusive)."),
    ("random_uniform", "high", "The upper limit (exclusive)."),
    ("range_1d", "start", "The first value."),
    ("range_1d", "end", "The limit, not included."),
    ("range_1d", "step", "The increment."),
    ("read_state", "input", "The state to read."),
    (
        "reduce_argmax",
        "output_dtype",
        "iOS17 on: the dtype of the result, `int32` or `uint16`.",
    ),
    (
        "reduce_argmin",
        "output_dtype",
        "iOS17 on: the dtype of the result, `int32` or `uint16`.",
    ),
    ("resample", "x", "Images [B, C, H, W]."),
    (
        "resample",
        "coordinates",
        "Where to sample, [B, H_out, W_out, 2], each point as (x, y) in the units of coordinates_mode.",
    ),
    ("resample", "sampling_mode", "`bilinear` or `nearest`."),
    (
        "reshape",
        "shape",
        "The new shape, with x's element count: -1 is the one size inferred, 0 copies a size of x \
         (from iOS17 matched from the right).",
    ),
    (
        "reshape_like",
        "ref_tensors",
        "The tensors whose shapes give the dimensions.",
    ),
    (
        "reshape_like",
        "begins",
        "Where the dimensions taken from each reference start.",
    ),
    ("reshape_like", "ends", "Where they end (exclusive)."),
    (
        "reshape_like",
        "end_masks",
        "Take each reference's dimensions through its last one, ignoring `ends`.",
    ),
    (
        "resize",
        "shape",
        "Sizes for the trailing dimensions of x, aligned from the right; 0 keeps x's size.",
    ),
    (
        "resize",
        "resized_dims",
        "How many trailing dimensions are resized.",
    ),
    ("resize", "interpolation_mode", "`LINEAR` or `NEAREST_NEIGHBOR`."),
    ("resize_bilinear", "x", "Input of rank 3 or more."),
    ("resize_nearest_neighbor", "x", "Input of rank 3 or more."),
    ("reverse", "axes", "The dimensions to reverse (all when absent)."),
    (
        "reverse_sequence",
        "lengths",
        "For each batch entry, how many leading elements along seq_axis to reverse.",
    ),
    (
        "reverse_sequence",
        "seq_axis",
        "The dimension holding the sequence.",
    ),
    (
        "reverse_sequence",
        "batch_axis",
        "The dimension holding the batch.",
    ),
    ("rnn", "x", "The sequence [S, B, I]."),
    ("rnn", "weight_ih", "Input weights [H, I]."),
    ("rnn", "weight_hh", "Hidden-state weights [H, H]."),
    (
        "rnn",
        "bias",
        "Bias [H], input and hidden biases summed (zeros when absent).",
    ),
    ("scaled_dot_product_attention", "query", "Queries [B, *, L, E]."),
    ("scaled_dot_product_attention", "key", "Keys [B, *, S, E]."),
    ("scaled_dot_product_attention", "value", "Values [B, *, S, EV]."),
    (
        "scaled_dot_product_attention",
        "attn_mask",
        "Broadcasts to [B, *, L, S]: a bool mask leaves out false positions, a float mask is added to the \
        scores.",
    ),
    ("scaled_tanh", "alpha", "The factor on the result."),
    ("scaled_tanh", "beta", "The factor on the input."),
    (
        "scatter",
        "indices",
        "Positions along `axis`, 1-D; from iOS17 they must not be negative.",
    ),
    (
        "scatter",
        "updates",
        "The slices to write, with data's shape except len(indices) along `axis`.",
    ),
    (
        "scatter_along_axis",
        "indices",
        "Positions along `axis`, shaped like updates and of data's rank.",
    ),
    (
        "scatter_nd",
        "indices",
        "Index tuples in the last dimension, each addressing a slice of data.",
    ),
    (
        "select",
        "cond",
        "Chooses a (true) or b (false); broadcasts against both.",
    ),
    ("select", "a", "The values taken where cond is true."),
    ("select", "b", "The values taken where cond is false."),
    ("shape", "x", "The tensor whose shape is returned."),
    ("sigmoid_hard", "alpha", "The slope."),
    ("sigmoid_hard", "beta", "The offset."),
    ("slice_by_size", "begin", "The start index in each dimension."),
    (
        "slice_by_size",
        "size",
        "The length in each dimension; -1 takes everything from begin on.",
    ),
    (
        "slice_update",
        "update",
        "The values written into the slice, shaped like the slice.",
    ),
    ("sliding_windows", "size", "The length of each window."),
    (
        "sliding_windows",
        "stride",
        "The step between the starts of windows.",
    ),
    ("softplus_parametric", "x", "Input [B, C, *D]."),
    (
        "softplus_parametric",
        "alpha",
        "The factor on the result of each channel, [C].",
    ),
    (
        "softplus_parametric",
        "beta",
        "The factor on the input of each channel, [C].",
    ),
    ("space_to_batch", "x", "Input [N, C, H, W]."),
    (
        "space_to_batch",
        "block_shape",
        "The block height and width, [2].",
    ),
    (
        "space_to_batch",
        "paddings",
        "Rows and columns added first: [[top, bottom], [left, right]].",
    ),
    ("space_to_depth", "x", "Input [N, C, H, W]."),
    (
        "space_to_depth",
        "block_size",
        "The edge b of each spatial block; H and W must divide by b.",
    ),
    (
        "split",
        "num_splits",
        "How many equal parts (or the length of split_sizes); this or split_sizes is needed.",
    ),
    (
        "split",
        "split_sizes",
        "The size of each part along `axis`; they add up to its size.",
    ),
    (
        "squeeze",
        "axes",
        "Dimensions of size 1 to drop (all of them when absent); listed larger ones stay.",
    ),
    ("stack", "values", "Tensors of one shape."),
    ("stack", "axis", "Where the new dimension goes."),
    ("tensor_buffer_to_tensor", "input", "The tensor_buffer to read."),
    ("tensor_to_tensor_buffer", "input", "The tensor to store."),
    (
        "tensor_to_tensor_buffer",
        "interleave_factors",
        "The interleave factor of each dimension of the buffer.",
    ),
    (
        "tensor_to_tensor_buffer",
        "strides",
        "The stride of each dimension of the buffer, in elements.",
    ),
    ("threshold", "alpha", "The smallest value the result may take."),
    ("thresholded_relu", "alpha", "Inputs below it give 0."),
    ("tile", "reps", "How many copies along each dimension, [rank(x)]."),
    ("topk", "k", "How many values to take; from iOS17, -1 takes all."),
    (
        "topk",
        "ascending",
        "Take the smallest values instead of the largest.",
    ),
    ("topk", "sort", "iOS16 on: return the values in order."),
    (
        "topk",
        "return_indices",
        "iOS16 on: also return the indices, as a second output.",
    ),
    (
        "topk",
        "output_indices_dtype",
        "iOS17 on: the dtype of the indices, `int32` or `uint16`.",
    ),
    (
        "transpose",
        "perm",
        "The new order of the dimensions: a permutation of 0 .. rank(x) - 1.",
    ),
    ("upsample_bilinear", "x", "Input of rank 3 or more."),
    (
        "upsample_bilinear",
        "align_corners",
        "Whether the corner pixels of input and result line up (true) or sit half a pixel apart (false).",
    ),
    (
        "upsample_bilinear",
        "half_pixel_centers",
        "iOS16 on: sample at pixel centres (the opposite of align_corners when absent).",
    ),
    ("upsample_nearest_neighbor", "x", "Input of rank 3 or more."),
    (
        "while_loop",
        "_cond",
        "The block computing, from the loop variables, whether to run the body again.",
    ),
    (
        "while_loop",
        "_body",
        "The block computing the next values of the loop variables.",
    ),
    (
        "while_loop",
        "loop_vars",
        "The initial values of the loop variables.",
    ),
    ("write_state", "input", "The state to overwrite."),
    ("write_state", "data", "The new value, of the state's type."),
];

#[cfg(test)]
mod tests {
    use super::super::{InputKind, ops};
    use super::*;

    #[test]
    fn every_op_has_a_summary_and_no_summary_is_stale() {
        let summarized: Vec<&str> = SUMMARIES.iter().map(|(name, _)| *name).collect();
        let catalogue: Vec<&str> = ops().iter().map(|op| op.name).collect();
        assert_eq!(summarized, catalogue);
        assert_eq!(
            summary("conv"),
            Some(SUMMARIES.iter().find(|s| s.0 == "conv").unwrap().1)
        );
        assert_eq!(summary("conv2d"), None);
    }

    #[test]
    fn every_input_written_in_mil_text_has_a_note() {
        for version in ops().iter().flat_map(|op| op.versions) {
            for input in version.inputs {
                let internal = input.kind == InputKind::Internal && input.name.starts_with('_');
                assert!(
                    internal || input_note(version.name, input.name).is_some(),
                    "{}.{}",
                    version.name,
                    input.name
                );
            }
        }
    }

    #[test]
    fn notes_name_real_inputs_and_each_once() {
        for (i, &(op, input, _)) in INPUT_NOTES.iter().enumerate() {
            let op_def = super::super::op(op).unwrap_or_else(|| panic!("{op} is not an op"));
            assert!(
                op_def.versions.iter().any(|v| v.input(input).is_some()),
                "{op}.{input}"
            );
            assert!(
                !INPUT_NOTES[..i].iter().any(|&(o, n, _)| (o, n) == (op, input)),
                "{op}.{input} twice"
            );
        }
    }

    #[test]
    fn every_common_note_serves_some_op_without_its_own() {
        for &(input, _) in COMMON_NOTES {
            let used = ops().iter().flat_map(|op| op.versions).any(|v| {
                v.input(input).is_some() && !INPUT_NOTES.iter().any(|&(o, i, _)| o == v.name && i == input)
            });
            assert!(used, "common note {input} is never used");
        }
    }

    #[test]
    fn op_notes_come_before_common_ones() {
        assert_eq!(
            input_note("lstm", "direction"),
            Some("`forward`, `reverse` or `bidirectional`.")
        );
        assert_eq!(
            input_note("gru", "direction"),
            COMMON_NOTES.iter().find(|n| n.0 == "direction").map(|n| n.1)
        );
        assert_eq!(input_note("conv", "no_such_input"), None);
    }
}
