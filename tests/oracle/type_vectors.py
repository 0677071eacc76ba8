"""Type vectors: small programs built with coremltools' builder (`mb.program`), one per case,
covering more than 110 op types across the ios15-ios18 opsets. coremltools infers every result
type while building; `mil_text.print_program` writes the program as MIL text with those types
declared, and the tests check that `mil check` accepts them and that our inference gives the same.

`python type_vectors.py DIR` writes the vectors to DIR (the tests write them to a temp dir).
"""

import itertools
import pathlib
import sys

import coremltools as ct
import numpy as np
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import get_new_symbol, types

from mil_text import print_program

F, H, I, B = types.fp32, types.fp16, types.int32, types.bool
TARGETS = {"ios15": ct.target.iOS15, "ios16": ct.target.iOS16, "ios17": ct.target.iOS17, "ios18": ct.target.iOS18}
OPSETS = list(TARGETS)


class Case:
    """A program: `build(*inputs)` returns its outputs; `inputs` are (shape, dtype) pairs, or
    ("state", shape, dtype) for a state input."""

    def __init__(self, name, opset, inputs, build):
        self.name, self.opset, self.inputs, self.build = name, opset, inputs, build

    def program(self):
        specs = [
            mb.StateTensorSpec(shape=i[1], dtype=i[2]) if i[0] == "state" else mb.TensorSpec(shape=i[0], dtype=i[1])
            for i in self.inputs
        ]
        return mb.program(input_specs=specs, opset_version=TARGETS[self.opset])(self.build)


CASES = []


def case(opset, *inputs, name=None):
    """Registers the decorated builder as a case."""

    def register(build):
        CASES.append(Case(name or build.__name__, opset, list(inputs), build))
        return build

    return register


def closure(fn, **bound):
    """`fn` with `bound` keyword arguments fixed, keeping only its tensor parameters in the
    signature (mb.program builds one input per parameter)."""
    names = [n for n in fn.__code__.co_varnames[: fn.__code__.co_argcount] if n not in bound]
    if len(names) == 1:
        return lambda x: fn(x, **bound)
    return lambda x, y: fn(x, y, **bound)


def rand(*shape, dtype=np.float32):
    return np.random.default_rng(len(shape)).random(shape).astype(dtype)


# Element-wise ops, spread over the four opsets.
UNARY = ["abs", "acos", "asin", "atan", "atanh", "ceil", "cos", "cosh", "erf", "exp", "exp2", "floor",
         "round", "sign", "sin", "sinh", "sqrt", "square", "tan", "tanh", "relu", "relu6", "sigmoid", "silu",
         "softplus", "softsign", "inverse", "log", "rsqrt", "identity"]
for op, opset in zip(UNARY, itertools.cycle(OPSETS)):
    CASES.append(Case(op, opset, [((2, 3, 4), F)], closure(lambda x, op: getattr(mb, op)(x=x), op=op)))

BINARY = ["add", "sub", "mul", "real_div", "floor_div", "mod", "pow", "maximum", "minimum", "equal",
          "not_equal", "greater", "greater_equal", "less", "less_equal"]
for op, opset in zip(BINARY, itertools.cycle(OPSETS)):
    CASES.append(Case(op, opset, [((2, 1, 4), F), ((3, 1), F)], closure(lambda x, y, op: getattr(mb, op)(x=x, y=y), op=op)))

for op, opset in zip(["logical_and", "logical_or", "logical_xor"], OPSETS):
    CASES.append(Case(op, opset, [((2, 3), B), ((3,), B)], closure(lambda x, y, op: getattr(mb, op)(x=x, y=y), op=op)))

ACTIVATIONS = [("elu", {"alpha": 1.0}), ("leaky_relu", {"alpha": 0.1}), ("thresholded_relu", {"alpha": 0.5}),
               ("linear_activation", {"alpha": 2.0, "beta": 1.0}), ("clamped_relu", {"alpha": 0.1, "beta": 6.0}),
               ("scaled_tanh", {"alpha": 1.0, "beta": 1.0}), ("sigmoid_hard", {"alpha": 0.2, "beta": 0.5}),
               ("threshold", {"alpha": 0.5}), ("clip", {"alpha": 0.0, "beta": 1.0}), ("softmax", {"axis": 1}),
               ("gelu", {"mode": "TANH_APPROXIMATION"})]
for (op, kw), opset in zip(ACTIVATIONS, itertools.cycle(OPSETS)):
    # iOS17 gives alpha and beta their own type variable, so fp16 x may take fp32 parameters.
    dtype = H if opset in ("ios17", "ios18") and op != "threshold" else F
    CASES.append(Case(op, opset, [((1, 3, 4), dtype)], closure(lambda x, op, kw: getattr(mb, op)(x=x, **kw), op=op, kw=kw)))


@case("ios15", ((1, 3, 4, 4), F))
def prelu(x):
    return mb.prelu(x=x, alpha=np.array([0.1, 0.2, 0.3], np.float32))


@case("ios17", ((1, 3, 4), F))
def softplus_parametric(x):
    return mb.softplus_parametric(x=x, alpha=rand(3), beta=rand(3))


@case("ios15", ((1, 2, 4), B), ((1, 2, 4), F), ((4,), F))
def select(c, a, b):
    return mb.select(cond=c, a=a, b=b)


@case("ios15", ((2, 3), F))
def cast_ios15(x):
    return mb.cast(x=x, dtype="int32")


@case("ios17", ((2, 3), H))
def cast_ios17(x):
    return mb.cast(x=x, dtype="int8")


# Normalisations.
@case("ios15", ((2, 3, 4, 4), F))
def batch_norm(x):
    return mb.batch_norm(x=x, mean=rand(3), variance=rand(3), gamma=rand(3), beta=rand(3))


@case("ios17", ((2, 3, 4, 4), H))
def instance_norm(x):
    return mb.instance_norm(x=x, gamma=rand(3).astype(np.float16), beta=rand(3).astype(np.float16))


@case("ios16", ((2, 3, 4), F))
def layer_norm(x):
    return mb.layer_norm(x=x, axes=[-1], gamma=rand(4), beta=rand(4))


@case("ios15", ((2, 3, 4), F))
def l2_norm(x):
    return mb.l2_norm(x=x)


@case("ios18", ((1, 8, 4, 4), F))
def local_response_norm(x):
    return mb.local_response_norm(x=x, size=3)


# Convolutions and pooling: every pad_type, strides, dilations, groups.
@case("ios15", ((1, 4, 9, 7), F))
def conv_valid_strided(x):
    return mb.conv(x=x, weight=rand(6, 4, 3, 2), strides=[2, 3], pad_type="valid")


@case("ios16", ((1, 4, 9, 7), F))
def conv_same_dilated(x):
    return mb.conv(x=x, weight=rand(6, 4, 3, 3), strides=[2, 2], dilations=[2, 1], pad_type="same")


@case("ios17", ((1, 4, 9, 7), F))
def conv_same_lower_grouped(x):
    return mb.conv(x=x, weight=rand(8, 2, 3, 3), strides=[3, 2], groups=2, pad_type="same_lower", bias=rand(8))


@case("ios18", ((1, 4, 10), H))
def conv_custom_1d(x):
    return mb.conv(x=x, weight=rand(5, 4, 4).astype(np.float16), strides=[3], pad_type="custom", pad=[2, 1])


@case("ios17", ((1, 2, 5, 6, 7), F))
def conv_3d(x):
    return mb.conv(x=x, weight=rand(3, 2, 2, 3, 2), pad_type="custom", pad=[1, 0, 0, 1, 2, 2], strides=[1, 2, 3])


@case("ios15", ((1, 4, 5, 6), F))
def conv_transpose_valid(x):
    return mb.conv_transpose(x=x, weight=rand(4, 3, 3, 2), strides=[2, 3], pad_type="valid")


@case("ios17", ((1, 4, 5, 6), F))
def conv_transpose_custom(x):
    return mb.conv_transpose(x=x, weight=rand(4, 2, 3, 3), strides=[2, 2], pad_type="custom", pad=[1, 1, 0, 1],
                             groups=2)


@case("ios16", ((1, 4, 5, 6), F))
def conv_transpose_same(x):
    return mb.conv_transpose(x=x, weight=rand(4, 3, 3, 3), strides=[2, 2], pad_type="same")


@case("ios15", ((1, 3, 9, 8), F))
def max_pool(x):
    return mb.max_pool(x=x, kernel_sizes=[3, 2], strides=[2, 3], pad_type="valid")


@case("ios16", ((1, 3, 9, 8), F))
def avg_pool_ceil(x):
    return mb.avg_pool(x=x, kernel_sizes=[3, 3], strides=[2, 2], pad_type="custom", pad=[1, 1, 1, 1], ceil_mode=True)


@case("ios17", ((1, 3, 9, 8), F))
def l2_pool(x):
    return mb.l2_pool(x=x, kernel_sizes=[2, 2], strides=[2, 2], pad_type="same")


@case("ios18", ((1, 3, 9), F))
def max_pool_same_lower(x):
    return mb.max_pool(x=x, kernel_sizes=[4], strides=[2], pad_type="same_lower")


# Shape manipulation.
@case("ios15", ((2, 3, 4), F))
def reshape_neg_one(x):
    return mb.reshape(x=x, shape=[4, -1])


@case("ios16", ((2, 3, 4), F))
def reshape_zero(x):
    return mb.reshape(x=x, shape=[0, -1, 2])


@case("ios17", ((2, 50), F))
def reshape_zero_right_aligned(x):
    return mb.reshape(x=x, shape=[1, 0, -1, 0])


@case("ios17", ((2, 3, 4), F))
def reshape_from_shape(x):
    s = mb.shape(x=x)
    first = mb.gather(x=s, indices=[0], axis=0)
    return mb.reshape(x=x, shape=mb.concat(values=[first, np.array([-1], np.int32)], axis=0))


@case("ios15", ((2, 3, 4), F))
def transpose(x):
    return mb.transpose(x=x, perm=[2, 0, 1])


@case("ios16", ((2, 3), F))
def expand_dims(x):
    return mb.expand_dims(x=x, axes=[0, -1])


@case("ios17", ((1, 3, 1, 4), F))
def squeeze(x):
    return mb.squeeze(x=x, axes=[0, 2])


@case("ios15", ((1, 3, 1, 4), F))
def squeeze_all(x):
    return mb.squeeze(x=x)


@case("ios15", ((2, 3, 4, 5), F))
def flatten2d(x):
    return mb.flatten2d(x=x, axis=-2)


@case("ios15", ((1, 8, 2, 3), F))
def depth_to_space(x):
    return mb.depth_to_space(x=x, block_size=2)


@case("ios16", ((1, 2, 4, 6), F))
def space_to_depth(x):
    return mb.space_to_depth(x=x, block_size=2)


@case("ios17", ((1, 9, 2, 3), F))
def pixel_shuffle(x):
    return mb.pixel_shuffle(x=x, upscale_factor=3)


@case("ios16", ((1, 2, 4, 6), F))
def pixel_unshuffle(x):
    return mb.pixel_unshuffle(x=x, downscale_factor=np.uint32(2))


@case("ios15", ((2, 3, 4, 6), F))
def space_to_batch(x):
    return mb.space_to_batch(x=x, block_shape=[2, 3], paddings=[[0, 2], [0, 0]])


@case("ios18", ((12, 3, 2, 2), F))
def batch_to_space(x):
    return mb.batch_to_space(x=x, block_shape=[2, 3], crops=[[0, 1], [1, 2]])


@case("ios15", ((2, 3), F))
def tile(x):
    return mb.tile(x=x, reps=[3, 1])


@case("ios16", ((2, 3, 4), F))
def pad(x):
    return mb.pad(x=x, pad=[1, 2, 0, 3], mode="constant")


@case("ios17", ((2, 10, 3), F))
def sliding_windows(x):
    return mb.sliding_windows(x=x, axis=1, size=4, stride=3)


@case("ios15", ((2, 3, 4), F))
def reverse(x):
    return mb.reverse(x=x, axes=[0, 2])


@case("ios17", ((4, 3, 2), F), ((3,), I))
def reverse_sequence(x, lengths):
    return mb.reverse_sequence(x=x, lengths=lengths, seq_axis=0, batch_axis=1)


@case("ios16", ((2, 12), F), ((3, 4), F))
def reshape_like(x, ref):
    return mb.reshape_like(x=x, ref_tensors=(ref, x), begins=(0, 0), ends=(2, 1), end_masks=(True, False))


# Slicing.
@case("ios15", ((5, 6, 7), F))
def slice_by_index_masks(x):
    return mb.slice_by_index(x=x, begin=[1, 0, 2], end=[4, 0, 7], stride=[2, 1, 2],
                             begin_mask=[False, True, False], end_mask=[False, True, False],
                             squeeze_mask=[False, False, False])


@case("ios17", ((5, 6, 7), F))
def slice_by_index_squeeze(x):
    return mb.slice_by_index(x=x, begin=[-1, 0, 0], end=[0, 6, 5], stride=[1, -1, 1],
                             begin_mask=[False, True, False], end_mask=[True, True, False],
                             squeeze_mask=[True, False, False])


@case("ios16", ((5, 6), F))
def slice_by_size(x):
    return mb.slice_by_size(x=x, begin=[1, 2], size=[3, -1])


@case("ios18", ((4, 6), F), ((2, 3), F))
def slice_update(x, u):
    return mb.slice_update(x=x, update=u, begin=[1, 0], end=[3, 6], stride=[1, 2])


# Joining and splitting.
@case("ios15", ((2, 3), F), ((2, 5), F))
def concat(a, b):
    return mb.concat(values=[a, b], axis=1)


@case("ios17", ((2, 3), F), ((2, 3), F))
def concat_interleave(a, b):
    return mb.concat(values=[a, b], axis=0, interleave=True)


@case("ios16", ((2, 3), F), ((2, 3), F), ((2, 3), F))
def stack(a, b, c):
    return mb.stack(values=[a, b, c], axis=-1)


@case("ios15", ((6, 4), F))
def split_even(x):
    return mb.split(x=x, num_splits=3, axis=0)


@case("ios18", ((6, 9), F))
def split_sizes(x):
    return mb.split(x=x, split_sizes=[2, 3, 4], axis=1)


# Gather and scatter.
@case("ios15", ((5, 6, 7), F), ((2, 3), I))
def gather(x, i):
    return mb.gather(x=x, indices=i, axis=1)


@case("ios16", ((2, 5, 6), F), ((2, 3), I))
def gather_batch_dims(x, i):
    return mb.gather(x=x, indices=i, axis=1, batch_dims=1)


@case("ios17", ((3, 4), F), ((3, 2), I))
def gather_along_axis(x, i):
    return mb.gather_along_axis(x=x, indices=i, axis=1)


@case("ios15", ((4, 5, 6), F), ((2, 3, 2), I))
def gather_nd(x, i):
    return mb.gather_nd(x=x, indices=i)


@case("ios16", ((2, 5, 6), F), ((2, 3, 1), I))
def gather_nd_batch_dims(x, i):
    return mb.gather_nd(x=x, indices=i, batch_dims=1)


@case("ios15", ((4, 5), F), ((2,), I), ((4, 2), F))
def scatter(d, i, u):
    return mb.scatter(data=d, indices=i, updates=u, axis=1)


@case("ios17", ((4, 5), F), ((4, 2), I), ((4, 2), F))
def scatter_along_axis(d, i, u):
    return mb.scatter_along_axis(data=d, indices=i, updates=u, axis=1, mode="update")


@case("ios18", ((4, 5, 6), F), ((3, 2), I), ((3, 6), F))
def scatter_nd(d, i, u):
    return mb.scatter_nd(data=d, indices=i, updates=u)


# Reductions.
REDUCTIONS = ["reduce_l1_norm", "reduce_l2_norm", "reduce_log_sum", "reduce_log_sum_exp", "reduce_max",
              "reduce_mean", "reduce_min", "reduce_prod", "reduce_sum", "reduce_sum_square"]
for op, opset, keep in zip(REDUCTIONS, itertools.cycle(OPSETS), itertools.cycle([True, False, False])):
    CASES.append(Case(op, opset, [((2, 3, 4), F)],
                      closure(lambda x, op, keep: getattr(mb, op)(x=x, axes=[0, -1], keep_dims=keep), op=op, keep=keep)))


@case("ios15", ((2, 3, 4), F))
def reduce_all_axes(x):
    return mb.reduce_sum(x=x)


@case("ios15", ((2, 3, 4), F))
def reduce_argmax(x):
    return mb.reduce_argmax(x=x, axis=1, keep_dims=True)


@case("ios17", ((2, 3, 4), F))
def reduce_argmin(x):
    return mb.reduce_argmin(x=x, axis=-1, output_dtype="uint16")


@case("ios15", ((2, 6), F))
def topk(x):
    return mb.topk(x=x, k=3)


@case("ios16", ((2, 6), F))
def topk_values_only(x):
    return mb.topk(x=x, k=2, axis=0, return_indices=False)


@case("ios17", ((2, 6), F))
def topk_uint16(x):
    return mb.topk(x=x, k=4, output_indices_dtype="uint16")


@case("ios15", ((2, 6), F))
def argsort(x):
    return mb.argsort(x=x, axis=0)


@case("ios16", ((2, 6), F))
def cumsum(x):
    return mb.cumsum(x=x, axis=1)


@case("ios17", ((3, 3), F))
def band_part(x):
    return mb.band_part(x=x, lower=1, upper=0)


# Linear algebra.
@case("ios15", ((2, 1, 3, 4), F), ((5, 4, 6), F))
def matmul_broadcast(x, y):
    return mb.matmul(x=x, y=y)


@case("ios16", ((4, 3), F), ((2, 5, 4), F))
def matmul_transposed(x, y):
    return mb.matmul(x=x, y=y, transpose_x=True, transpose_y=True)


@case("ios17", ((3, 4), H))
def matmul_const_dtype(x):
    return mb.matmul(x=x, y=rand(4, 2))


@case("ios18", ((4,), F), ((2, 4, 3), F))
def matmul_vector(x, y):
    return mb.matmul(x=x, y=y)


@case("ios15", ((2, 3, 4), F))
def linear(x):
    return mb.linear(x=x, weight=rand(5, 4), bias=rand(5))


@case("ios15", ((2, 3, 4, 5), F), ((2, 5, 4, 6), F))
def einsum(a, b):
    return mb.einsum(values=(a, b), equation="nchw,nwhu->nchu")


@case("ios18", ((2, 3, 4, 8), F), ((2, 3, 5, 8), F), ((2, 3, 5, 6), F))
def scaled_dot_product_attention(q, k, v):
    return mb.scaled_dot_product_attention(query=q, key=k, value=v)


# Recurrent layers.
@case("ios15", ((5, 2, 3), F), ((2, 4), F), ((2, 4), F))
def lstm(x, h, c):
    return mb.lstm(x=x, initial_h=h, initial_c=c, weight_ih=rand(16, 3), weight_hh=rand(16, 4), output_sequence=True)


@case("ios17", ((5, 2, 3), F), ((2, 8), F), ((2, 8), F))
def lstm_bidirectional(x, h, c):
    return mb.lstm(x=x, initial_h=h, initial_c=c, weight_ih=rand(16, 3), weight_hh=rand(16, 4),
                   weight_ih_back=rand(16, 3), weight_hh_back=rand(16, 4), direction="bidirectional")


@case("ios16", ((5, 2, 3), F), ((2, 4), F))
def gru(x, h):
    return mb.gru(x=x, initial_h=h, weight_ih=rand(12, 3), weight_hh=rand(12, 4), output_sequence=True)


@case("ios18", ((5, 2, 3), F), ((2, 4), F))
def gru_ios18(x, h):
    return mb.gru(x=x, initial_h=h, weight_ih=rand(12, 3), weight_hh=rand(12, 4), reset_after=True)


@case("ios15", ((5, 2, 3), F), ((2, 4), F))
def rnn(x, h):
    return mb.rnn(x=x, initial_h=h, weight_ih=rand(4, 3), weight_hh=rand(4, 4))


# Image resizing.
@case("ios15", ((1, 3, 4, 5), F))
def upsample_nearest_neighbor(x):
    return mb.upsample_nearest_neighbor(x=x, scale_factor_height=2, scale_factor_width=3)


@case("ios16", ((1, 3, 4, 5), F))
def upsample_bilinear(x):
    return mb.upsample_bilinear(x=x, scale_factor_height=1.5, scale_factor_width=2.5, half_pixel_centers=True)


@case("ios15", ((1, 3, 4, 5), F))
def resize_nearest_neighbor(x):
    return mb.resize_nearest_neighbor(x=x, target_size_height=7, target_size_width=9)


@case("ios16", ((1, 3, 4, 5), F))
def resize_bilinear(x):
    return mb.resize_bilinear(x=x, target_size_height=6, target_size_width=2, sampling_mode="ALIGN_CORNERS")


@case("ios17", ((1, 3, 4, 5), F))
def resize(x):
    return mb.resize(x=x, shape=[8, 0], resized_dims=np.uint32(2))


@case("ios15", ((1, 3, 9, 8), F))
def crop(x):
    return mb.crop(x=x, crop_height=[1, 2], crop_width=[3, 0])


@case("ios16", ((2, 3, 8, 8), F), ((4, 1, 5, 1, 1), F))
def crop_resize_roi(x, roi):
    return mb.crop_resize(x=x, roi=roi, target_height=3, target_width=2)


@case("ios17", ((2, 3, 8, 8), F), ((4, 4), F))
def crop_resize_boxes(x, boxes):
    return mb.crop_resize(x=x, boxes=boxes, box_indices=np.array([0, 1, 1, 0], np.int32), target_height=3,
                          target_width=2)


@case("ios15", ((2, 3, 8, 8), F), ((2, 6), F))
def affine(x, m):
    return mb.affine(x=x, transform_matrix=m, output_height=5, output_width=4, sampling_mode="bilinear",
                     padding_mode="constant", padding_value=0.0, coordinates_mode="normalized_minus_one_to_one",
                     align_corners=False)


@case("ios16", ((2, 3, 8, 8), F), ((2, 5, 4, 2), F))
def resample(x, c):
    return mb.resample(x=x, coordinates=c, sampling_mode="bilinear", padding_mode="constant", padding_value=0.0,
                       coordinates_mode="normalized_minus_one_to_one", align_corners=False)


# Tensor creation.
@case("ios15", ((2, 3), F))
def shape_of(x):
    return mb.shape(x=x)


@case("ios15", ((2, 3, 4), F))
def fill_from_shape(x):
    return mb.fill(shape=mb.shape(x=x), value=1.5)


@case("ios16", ((2, 3), I))
def fill_like(x):
    return mb.fill_like(ref_tensor=x, value=2.0)


@case("ios15", ((1,), F))
def range_1d(x):
    return mb.add(x=x, y=mb.range_1d(start=1.0, end=8.0, step=2.0))


@case("ios16", ((2, 3), F))
def random_normal(x):
    return mb.random_normal(shape=np.array([2, 4], np.int32), mean=0.0, stddev=1.0)


@case("ios17", ((2, 3), F))
def random_uniform(x):
    return mb.random_uniform(shape=mb.shape(x=x), low=0.0, high=1.0)


@case("ios15", ((2, 3), F))
def random_bernoulli(x):
    return mb.random_bernoulli(shape=np.array([5], np.int32), prob=0.3)


@case("ios16", ((2, 3), F))
def random_categorical(x):
    return mb.random_categorical(x=x, size=4)


@case("ios15", ((2, 3), I))
def one_hot(i):
    return mb.one_hot(indices=i, one_hot_vector_size=5, axis=1)


@case("ios16", ((2, 3), F))
def non_zero(x):
    return mb.non_zero(x=x)


@case("ios15", ((1, 10, 4), F), ((1, 10, 3), F))
def non_maximum_suppression(boxes, scores):
    return mb.non_maximum_suppression(boxes=boxes, scores=scores, iou_threshold=0.5, score_threshold=0.1, max_boxes=4)


@case("ios17", ((1, 10, 4), F), ((1, 10, 3), F))
def non_maximum_suppression_ios17(boxes, scores):
    return mb.non_maximum_suppression(boxes=boxes, scores=scores, iou_threshold=0.5, max_boxes=4)


# Compression and quantisation.
@case("ios16", ((3, 4), F))
def constexpr_affine_dequantize(x):
    w = mb.constexpr_affine_dequantize(quantized_data=np.ones((4, 5), np.uint8), zero_point=np.uint8(1),
                                       scale=np.float32(0.5), axis=0)
    return mb.matmul(x=x, y=w)


@case("ios17", ((3, 4), F))
def constexpr_cast(x):
    w = mb.constexpr_cast(source_val=np.ones((4, 2), np.float16), output_dtype="fp32")
    return mb.matmul(x=x, y=w)


@case("ios16", ((3, 4), F))
def constexpr_lut_to_dense(x):
    w = mb.constexpr_lut_to_dense(indices=np.zeros((2,), np.uint8), lut=np.arange(4, dtype=np.float32),
                                  shape=np.array([4, 2], np.uint32))
    return mb.matmul(x=x, y=w)


@case("ios16", ((3, 4), F))
def constexpr_sparse_to_dense(x):
    w = mb.constexpr_sparse_to_dense(nonzero_data=np.ones((3,), np.float32), mask=np.array([7], np.uint8),
                                     shape=np.array([4, 2], np.uint32))
    return mb.matmul(x=x, y=w)


@case("ios18", ((3, 4), F))
def constexpr_blockwise_shift_scale(x):
    w = mb.constexpr_blockwise_shift_scale(data=np.ones((4, 6), np.int8), scale=np.ones((2, 3), np.float32))
    return mb.matmul(x=x, y=w)


@case("ios18", ((3, 4), F))
def constexpr_lut_to_dense_ios18(x):
    w = mb.constexpr_lut_to_dense(indices=np.zeros((4, 6), types.np_uint4_dtype),
                                  lut=np.ones((2, 1, 16, 1), np.float32))
    return mb.matmul(x=x, y=w)


@case("ios18", ((3, 4), F))
def constexpr_sparse_to_dense_ios18(x):
    w = mb.constexpr_sparse_to_dense(nonzero_data=np.ones((4,), np.float32),
                                     mask=np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]], types.np_uint1_dtype))
    return mb.matmul(x=x, y=w)


@case("ios18", ((3, 4), F))
def constexpr_lut_to_sparse(x):
    mask, data = mb.constexpr_lut_to_sparse(
        indices_mask=np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0]], types.np_uint1_dtype),
        indices_nonzero_data=np.zeros((4,), types.np_uint1_dtype),
        lut=np.ones((1, 1, 2, 1), np.float32),
    )
    return mb.constexpr_sparse_to_dense(nonzero_data=data, mask=mask)


@case("ios18", ((3, 4), F))
def constexpr_sparse_blockwise_shift_scale(x):
    mask, data = mb.constexpr_sparse_blockwise_shift_scale(
        data_mask=np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0]], types.np_uint1_dtype),
        nonzero_data=np.ones((4,), np.int8),
        scale=np.ones((1, 1), np.float32),
    )
    return mb.constexpr_sparse_to_dense(nonzero_data=data, mask=mask)


@case("ios17", ((2, 3), F))
def quantize(x):
    return mb.quantize(input=x, scale=np.float32(0.1), zero_point=np.int8(1), output_dtype="int8")


@case("ios17", ((2, 3), types.int8))
def dequantize(x):
    return mb.dequantize(input=x, scale=np.array([0.1, 0.2, 0.3], np.float16), axis=1)


# States.
@case("ios18", ("state", (2, 3), H), ((2, 3), H))
def read_and_write_state(s, x):
    mb.coreml_update_state(state=s, value=x)
    return mb.add(x=mb.read_state(input=s), y=x)


# Flexible shapes: `?` dims stay `?`.
@case("ios17", ((1, get_new_symbol()), F))
def flexible_add(x):
    return mb.add(x=x, y=np.ones((3, 1), np.float32))


@case("ios16", ((1, get_new_symbol(), 4), F))
def flexible_reshape(x):
    return mb.reshape(x=x, shape=[-1, 2])


@case("ios15", ((2, get_new_symbol(), 8), F))
def flexible_conv(x):
    return mb.conv(x=mb.expand_dims(x=x, axes=[0]), weight=rand(3, 2, 2, 2), pad_type="valid")


# More shapes of the same ops: negative strides and axes, explicit output shapes, symbolic dims
# flowing through shape computations.
@case("ios16", ((6, 7), F))
def slice_negative_stride(x):
    return mb.slice_by_index(x=x, begin=[-1, 5], end=[-5, 0], stride=[-2, -3])


@case("ios17", ((1, 4, 5, 6), F))
def conv_transpose_output_shape(x):
    return mb.conv_transpose(x=x, weight=rand(4, 3, 3, 3), strides=[2, 2], pad_type="valid",
                             output_shape=[1, 3, 11, 13])


@case("ios15", ((2, 3, 4), F))
def pad_reflect(x):
    return mb.pad(x=x, pad=[1, 1, 2, 2], mode="reflect")


@case("ios18", ((2, 5, 6), F), ((4,), I))
def gather_negative_axis(x, i):
    return mb.gather(x=x, indices=i, axis=-1)


@case("ios16", ((2, 3, 4, 5), F))
def reduce_keep_negative_axes(x):
    return mb.reduce_max(x=x, axes=[-1, 1], keep_dims=True)


@case("ios17", ((2, 9), F))
def split_last_axis(x):
    return mb.split(x=x, num_splits=3, axis=-1)


@case("ios18", ((2, 3), F), ((2, 3), F))
def stack_front(a, b):
    return mb.stack(values=[a, b], axis=0)


@case("ios16", ((2, 5), F))
def topk_ascending(x):
    return mb.topk(x=x, k=2, ascending=True)


@case("ios15", ((1, 2, 5, 7), F))
def upsample_fractional(x):
    return mb.upsample_nearest_neighbor(x=x, scale_factor_height=1.5, scale_factor_width=2.4)


@case("ios17", ((2, 3), I))
def one_hot_last(i):
    return mb.one_hot(indices=i, one_hot_vector_size=4, axis=-1, on_value=1.0, off_value=0.0)


@case("ios16", ((get_new_symbol(), 6), F))
def flexible_shape_arithmetic(x):
    s = mb.shape(x=x)
    half = mb.floor_div(x=mb.gather(x=s, indices=1), y=2)
    target = mb.concat(values=[mb.gather(x=s, indices=[0]), mb.expand_dims(x=half, axes=[0]), np.array([2], np.int32)],
                       axis=0)
    return mb.reshape(x=x, shape=target)


@case("ios17", ((2, get_new_symbol()), F))
def flexible_slice(x):
    return mb.slice_by_index(x=x, begin=[0, 1], end=[2, 0], end_mask=[False, True])


@case("ios18", ((get_new_symbol(), 4), F))
def flexible_matmul(x):
    return mb.matmul(x=x, y=rand(4, 3))


def write_vectors(out_dir):
    """Writes one `NAME.mil` per case into `out_dir`; returns {name: Printed}."""
    out_dir = pathlib.Path(out_dir)
    printed = {}
    for c in CASES:
        p = print_program(c.program())
        (out_dir / f"{c.name}.mil").write_text(p.text)
        printed[c.name] = p
    return printed


if __name__ == "__main__":
    write_vectors(sys.argv[1])
