"""Programs built with coremltools' builder (`mb.program`) across ios15–ios18, saved by coremltools as
.mlpackage: the inputs of the decompile → compile round trip (test_decompile_round_trip.py).

`PROGRAMS` maps a name to a function that builds the program; `save(name, folder)` converts it with
coremltools (no optimisation passes, so every op stays as built) and saves the package. The
multi-function package is assembled by coremltools' own `save_multifunction`.
"""

import pathlib

import coremltools as ct
import numpy as np
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import types

IOS15, IOS16, IOS17, IOS18 = ct.target.iOS15, ct.target.iOS16, ct.target.iOS17, ct.target.iOS18
RNG = np.random.default_rng(7)


def rand(*shape, dtype=np.float32):
    return (RNG.random(shape) - 0.5).astype(dtype)


def spec(*shape, dtype=types.fp32):
    return mb.TensorSpec(shape=shape, dtype=dtype)


PROGRAMS = {}


def program(name, opset, *inputs, **bound):
    """Registers the decorated body as the program `name` of `opset` with `inputs` (TensorSpecs). A
    body with keyword arguments `bound` takes one input, `x`."""

    def register(body):
        def build():
            inputs_only = (lambda x: body(x, **bound)) if bound else body
            return mb.program(input_specs=list(inputs), opset_version=opset)(inputs_only)

        PROGRAMS[name] = (opset, build)
        return body

    return register


# ---- conv nets -----------------------------------------------------------------------------------

for opset, tag, dtype, np_dtype in [
    (IOS15, "ios15", types.fp32, np.float32),
    (IOS16, "ios16", types.fp16, np.float16),
    (IOS17, "ios17", types.fp16, np.float16),
    (IOS18, "ios18", types.fp16, np.float16),
]:

    @program(f"conv_relu_{tag}", opset, spec(1, 3, 16, 16, dtype=dtype), np_dtype=np_dtype)
    def _(x, np_dtype):
        x = mb.conv(x=x, weight=rand(8, 3, 3, 3, dtype=np_dtype), bias=rand(8, dtype=np_dtype), pad_type="same")
        x = mb.relu(x=x)
        x = mb.conv(x=x, weight=rand(8, 8, 1, 1, dtype=np_dtype), strides=[2, 2], pad_type="valid")
        return mb.relu(x=x)

    @program(f"conv_bn_pool_{tag}", opset, spec(1, 4, 8, 8, dtype=dtype), np_dtype=np_dtype)
    def _(x, np_dtype):
        x = mb.conv(x=x, weight=rand(6, 4, 3, 3, dtype=np_dtype), pad_type="custom", pad=[1, 1, 1, 1], dilations=[1, 1])
        x = mb.batch_norm(x=x, mean=rand(6, dtype=np_dtype), variance=np.abs(rand(6, dtype=np_dtype)) + np_dtype(1),
                          gamma=rand(6, dtype=np_dtype), beta=rand(6, dtype=np_dtype), epsilon=np_dtype(1e-3))
        a = mb.max_pool(x=x, kernel_sizes=[2, 2], strides=[2, 2], pad_type="valid")
        b = mb.avg_pool(x=x, kernel_sizes=[2, 2], strides=[2, 2], pad_type="valid", exclude_padding_from_average=True)
        return mb.concat(values=[a, b], axis=1)

    @program(f"depthwise_upsample_{tag}", opset, spec(1, 4, 6, 6, dtype=dtype), np_dtype=np_dtype)
    def _(x, np_dtype):
        x = mb.conv(x=x, weight=rand(4, 1, 3, 3, dtype=np_dtype), groups=4, pad_type="same")
        x = mb.upsample_nearest_neighbor(x=x, scale_factor_height=2, scale_factor_width=2)
        x = mb.conv_transpose(x=x, weight=rand(4, 2, 2, 2, dtype=np_dtype), strides=[2, 2], pad_type="valid")
        return mb.sigmoid(x=x)


# ---- transformer blocks ----------------------------------------------------------------------------

for opset, tag, dtype, np_dtype in [
    (IOS15, "ios15", types.fp32, np.float32),
    (IOS16, "ios16", types.fp16, np.float16),
    (IOS17, "ios17", types.fp16, np.float16),
    (IOS18, "ios18", types.fp16, np.float16),
]:

    @program(f"transformer_block_{tag}", opset, spec(1, 8, 16, dtype=dtype), np_dtype=np_dtype)
    def _(x, np_dtype):
        h = mb.layer_norm(x=x, axes=[-1], gamma=rand(16, dtype=np_dtype), beta=rand(16, dtype=np_dtype), epsilon=np_dtype(1e-5))
        q = mb.linear(x=h, weight=rand(16, 16, dtype=np_dtype), bias=rand(16, dtype=np_dtype))
        k = mb.linear(x=h, weight=rand(16, 16, dtype=np_dtype))
        v = mb.linear(x=h, weight=rand(16, 16, dtype=np_dtype))
        q = mb.transpose(x=mb.reshape(x=q, shape=[1, 8, 2, 8]), perm=[0, 2, 1, 3])
        k = mb.transpose(x=mb.reshape(x=k, shape=[1, 8, 2, 8]), perm=[0, 2, 1, 3])
        v = mb.transpose(x=mb.reshape(x=v, shape=[1, 8, 2, 8]), perm=[0, 2, 1, 3])
        s = mb.matmul(x=q, y=k, transpose_y=True)
        s = mb.mul(x=s, y=np_dtype(0.35355339))
        a = mb.matmul(x=mb.softmax(x=s, axis=-1), y=v)
        a = mb.reshape(x=mb.transpose(x=a, perm=[0, 2, 1, 3]), shape=[1, 8, 16])
        x = mb.add(x=x, y=mb.linear(x=a, weight=rand(16, 16, dtype=np_dtype)))
        f = mb.gelu(x=mb.linear(x=x, weight=rand(32, 16, dtype=np_dtype)), mode="TANH_APPROXIMATION")
        return mb.add(x=x, y=mb.linear(x=f, weight=rand(16, 32, dtype=np_dtype)))


@program("sdpa_ios18", IOS18, spec(1, 2, 8, 16, dtype=types.fp16), spec(1, 2, 8, 16, dtype=types.fp16))
def _(q, kv):
    mask = np.tril(np.ones((8, 8), dtype=bool))
    a = mb.scaled_dot_product_attention(query=q, key=kv, value=kv, attn_mask=mask)
    return mb.reshape(x=mb.transpose(x=a, perm=[0, 2, 1, 3]), shape=[1, 8, 32])


@program("sdpa_float_mask_ios18", IOS18, spec(2, 4, 16, dtype=types.fp16))
def _(q):
    mask = rand(4, 4, dtype=np.float16)
    return mb.scaled_dot_product_attention(query=q, key=q, value=q, attn_mask=mask)


# ---- recurrent ----------------------------------------------------------------------------------

for opset, tag in [(IOS15, "ios15"), (IOS17, "ios17"), (IOS18, "ios18")]:

    @program(f"lstm_{tag}", opset, spec(5, 1, 4))
    def _(x):
        h0, c0 = np.zeros((1, 8), np.float32), np.zeros((1, 8), np.float32)
        y, h, c = mb.lstm(x=x, initial_h=h0, initial_c=c0, weight_ih=rand(32, 4), weight_hh=rand(32, 8),
                          bias=rand(32), direction="forward", output_sequence=True)
        return y, h, c


@program("gru_rnn_ios16", IOS16, spec(4, 1, 3))
def _(x):
    y, h = mb.gru(x=x, initial_h=np.zeros((1, 5), np.float32), weight_ih=rand(15, 3), weight_hh=rand(15, 5),
                  bias=rand(15), output_sequence=True)
    r, _ = mb.rnn(x=y, initial_h=np.zeros((1, 6), np.float32), weight_ih=rand(6, 5), weight_hh=rand(6, 6),
                  bias=rand(6), output_sequence=False, activation="tanh")
    return r, h


@program("bidirectional_lstm_ios16", IOS16, spec(3, 2, 4))
def _(x):
    z = np.zeros((2, 12), np.float32)
    y, h, c = mb.lstm(x=x, initial_h=z, initial_c=z, weight_ih=rand(24, 4), weight_hh=rand(24, 6), bias=rand(24),
                      weight_ih_back=rand(24, 4), weight_hh_back=rand(24, 6), bias_back=rand(24),
                      direction="bidirectional", output_sequence=True)
    return y


# ---- quantised constexpr weights ---------------------------------------------------------------------

for opset, tag in [(IOS16, "ios16"), (IOS17, "ios17")]:

    @program(f"constexpr_affine_{tag}", opset, spec(4, 6, dtype=types.fp16))
    def _(x):
        w = mb.constexpr_affine_dequantize(quantized_data=RNG.integers(-128, 127, (6, 6), dtype=np.int8),
                                           zero_point=np.int8(3), scale=np.float16(0.01), axis=0)
        return mb.matmul(x=x, y=w)

    @program(f"constexpr_lut_{tag}", opset, spec(4, 8, dtype=types.fp16))
    def _(x):
        w = mb.constexpr_lut_to_dense(lut=rand(4, dtype=np.float16), indices=RNG.integers(0, 255, 16, dtype=np.uint8),
                                      shape=np.array([8, 8], np.uint32))
        return mb.matmul(x=x, y=w)

    @program(f"constexpr_sparse_{tag}", opset, spec(2, 8, dtype=types.fp16))
    def _(x):
        mask = np.array([0b10110101, 0b01101110], np.uint8)
        ones = sum(bin(b).count("1") for b in mask)
        w = mb.constexpr_sparse_to_dense(nonzero_data=rand(ones, dtype=np.float16), mask=mask,
                                         shape=np.array([8, 2], np.uint32))
        return mb.matmul(x=x, y=w)

    @program(f"constexpr_cast_{tag}", opset, spec(3, 12))
    def _(x):
        w = mb.constexpr_cast(source_val=rand(12, 12, dtype=np.float16), output_dtype="fp32")
        return mb.matmul(x=x, y=w)


@program("blockwise_int4_ios18", IOS18, spec(2, 16, dtype=types.fp16))
def _(x):
    data = RNG.integers(-8, 7, (16, 16)).astype(types.np_int4_dtype)
    w = mb.constexpr_blockwise_shift_scale(data=data, scale=rand(16, 2, dtype=np.float16),
                                           offset=RNG.integers(-8, 7, (16, 2)).astype(types.np_int4_dtype))
    return mb.matmul(x=x, y=w, transpose_y=True)


@program("blockwise_uint8_ios18", IOS18, spec(2, 12, dtype=types.fp16))
def _(x):
    w = mb.constexpr_blockwise_shift_scale(data=RNG.integers(0, 255, (12, 12), dtype=np.uint8),
                                           scale=rand(12, 1, dtype=np.float16))
    return mb.linear(x=x, weight=w)


@program("blockwise_int8_conv_ios18", IOS18, spec(1, 4, 6, 6, dtype=types.fp16))
def _(x):
    w = mb.constexpr_blockwise_shift_scale(data=RNG.integers(-128, 127, (8, 4, 3, 3), dtype=np.int8),
                                           scale=rand(8, 1, 1, 1, dtype=np.float16),
                                           offset=RNG.integers(-4, 4, (8, 1, 1, 1), dtype=np.int8))
    return mb.relu(x=mb.conv(x=x, weight=w, pad_type="same"))


for nbits, np_dtype in [(2, types.np_uint2_dtype), (4, types.np_uint4_dtype), (3, types.np_uint3_dtype),
                        (6, types.np_uint6_dtype), (1, types.np_uint1_dtype), (8, np.uint8)]:

    @program(f"lut_uint{nbits}_ios18", IOS18, spec(2, 8, dtype=types.fp16), nbits=nbits, np_dtype=np_dtype)
    def _(x, nbits, np_dtype):
        indices = RNG.integers(0, 2**nbits, (8, 8)).astype(np_dtype)
        w = mb.constexpr_lut_to_dense(indices=indices, lut=rand(2, 1, 2**nbits, 1, dtype=np.float16))
        return mb.matmul(x=x, y=w)


@program("sparse_ios18", IOS18, spec(2, 8, dtype=types.fp16))
def _(x):
    mask = (RNG.random((8, 4)) > 0.5).astype(types.np_uint1_dtype)
    w = mb.constexpr_sparse_to_dense(nonzero_data=rand(int(mask.astype(np.int32).sum()), dtype=np.float16), mask=mask)
    return mb.matmul(x=x, y=w)


@program("sparse_lut_ios18", IOS18, spec(2, 8, dtype=types.fp16))
def _(x):
    mask = (RNG.random((8, 4)) > 0.4).astype(types.np_uint1_dtype)
    n = int(mask.astype(np.int32).sum())
    m, nz = mb.constexpr_lut_to_sparse(indices_mask=mask, indices_nonzero_data=RNG.integers(0, 4, n).astype(types.np_uint2_dtype),
                                       lut=rand(1, 1, 4, 1, dtype=np.float16))
    w = mb.constexpr_sparse_to_dense(nonzero_data=nz, mask=m)
    return mb.matmul(x=x, y=w)


@program("sparse_blockwise_ios18", IOS18, spec(2, 8, dtype=types.fp16))
def _(x):
    mask = (RNG.random((8, 4)) > 0.4).astype(types.np_uint1_dtype)
    n = int(mask.astype(np.int32).sum())
    m, nz = mb.constexpr_sparse_blockwise_shift_scale(data_mask=mask, nonzero_data=RNG.integers(-8, 7, n, dtype=np.int8),
                                                      scale=rand(1, 4, dtype=np.float16))
    w = mb.constexpr_sparse_to_dense(nonzero_data=nz, mask=m)
    return mb.matmul(x=x, y=w)


# ---- states -------------------------------------------------------------------------------------

@program("state_accumulate_ios18", IOS18, mb.StateTensorSpec((2, 3), dtype=types.fp16), spec(2, 3, dtype=types.fp16))
def _(acc, x):
    total = mb.add(x=mb.read_state(input=acc), y=x)
    mb.coreml_update_state(state=acc, value=total)
    return mb.mul(x=total, y=np.float16(2))


@program("kv_cache_ios18", IOS18, mb.StateTensorSpec((1, 2, 4, 8), dtype=types.fp16),
         mb.StateTensorSpec((1, 2, 4, 8), dtype=types.fp16), spec(1, 2, 1, 8, dtype=types.fp16))
def _(k_cache, v_cache, q):
    k = mb.read_state(input=k_cache)
    v = mb.read_state(input=v_cache)
    k = mb.concat(values=[mb.slice_by_index(x=k, begin=[0, 0, 1, 0], end=[1, 2, 4, 8]), q], axis=2)
    v = mb.concat(values=[mb.slice_by_index(x=v, begin=[0, 0, 1, 0], end=[1, 2, 4, 8]), q], axis=2)
    mb.coreml_update_state(state=k_cache, value=k)
    mb.coreml_update_state(state=v_cache, value=v)
    return mb.scaled_dot_product_attention(query=q, key=k, value=v)


# ---- control flow -----------------------------------------------------------------------------------

for opset, tag in [(IOS15, "ios15"), (IOS17, "ios17"), (IOS18, "ios18")]:

    @program(f"cond_{tag}", opset, spec(3), spec(1))
    def _(x, t):
        pred = mb.squeeze(x=mb.greater(x=t, y=np.float32(0)))
        return mb.cond(pred=pred, _true_fn=lambda: mb.mul(x=x, y=np.float32(2)),
                       _false_fn=lambda: mb.sub(x=x, y=np.float32(1)))

    @program(f"while_loop_{tag}", opset, spec(2))
    def _(x):
        def cond(i, v):
            return mb.less(x=i, y=np.int32(5))

        def body(i, v):
            return mb.add(x=i, y=np.int32(1)), mb.mul(x=v, y=np.float32(1.5))

        _, out = mb.while_loop(_cond=cond, _body=body, loop_vars=(np.int32(0), x))
        return out


# ---- assorted ops ----------------------------------------------------------------------------------

@program("reductions_ios15", IOS15, spec(2, 3, 4))
def _(x):
    m = mb.reduce_mean(x=x, axes=[1], keep_dims=True)
    s = mb.reduce_sum(x=x, axes=[2], keep_dims=False)
    a = mb.reduce_argmax(x=x, axis=-1)
    return m, s, a


@program("split_gather_ios16", IOS16, spec(4, 6), mb.TensorSpec(shape=(3,), dtype=types.int32))
def _(x, idx):
    a, b, c = mb.split(x=x, num_splits=3, axis=1)
    g = mb.gather(x=x, indices=idx, axis=0)
    v, i = mb.topk(x=g, k=2, axis=-1)
    return mb.concat(values=[a, b, c], axis=0), v, i


@program("casts_and_literals_ios17", IOS17, spec(2, 5))
def _(x):
    y = mb.cast(x=x, dtype="fp16")
    i = mb.cast(x=x, dtype="int32")
    b = mb.logical_not(x=mb.greater(x=x, y=np.zeros((2, 5), np.float32)))
    f = mb.fill(shape=np.array([2, 2], np.int32), value=np.float32(-np.inf))
    r = mb.range_1d(start=np.int32(0), end=np.int32(6), step=np.int32(2))
    return y, i, b, f, r


@program("einsum_pad_ios17", IOS17, spec(1, 2, 3, 4), spec(1, 4, 3, 5))
def _(a, b):
    e = mb.einsum(values=(a, b), equation="nchw,nwhu->nchu")
    return mb.pad(x=e, pad=np.array([0, 0, 0, 0, 1, 1, 2, 2], np.int32), mode="constant", constant_val=np.float32(0.5))


@program("quantize_dequantize_ios17", IOS17, spec(2, 4))
def _(x):
    q = mb.quantize(input=x, scale=np.float32(0.1), zero_point=np.int8(2), output_dtype="int8")
    return mb.dequantize(input=q, scale=np.float32(0.1), zero_point=np.int8(2))


@program("int_ops_ios18", IOS18, mb.TensorSpec(shape=(2, 3), dtype=types.int32))
def _(x):
    y = mb.add(x=x, y=np.arange(6, dtype=np.int32).reshape(2, 3) * 7 + np.int32(11) * np.ones((2, 3), np.int32))
    z = mb.mul(x=y, y=np.arange(30, dtype=np.int32).reshape(2, 3, 5)[:, :, 0])
    return mb.clip(x=mb.cast(x=z, dtype="fp16"), alpha=np.float16(-100), beta=np.float16(100))


def multifunction(folder):
    """Two functions (`main`, `gate`) in one package, merged by coremltools' save_multifunction."""
    parts = []
    for name, body in [("main", lambda x: mb.relu(x=mb.linear(x=x, weight=rand(4, 4, dtype=np.float16)))),
                       ("gate", lambda x: mb.sigmoid(x=mb.linear(x=x, weight=rand(4, 4, dtype=np.float16))))]:
        prog = mb.program(input_specs=[spec(2, 4, dtype=types.fp16)], opset_version=IOS18)(body)
        path = folder / f"multifunction_{name}.mlpackage"
        convert(prog, IOS18).save(str(path))
        parts.append((path, name))
    desc = ct.utils.MultiFunctionDescriptor()
    for path, name in parts:
        desc.add_function(str(path), src_function_name="main", target_function_name=name)
    desc.default_function_name = "main"
    target = folder / "multifunction_ios18.mlpackage"
    ct.utils.save_multifunction(desc, str(target))
    return target


def convert(prog, opset):
    return ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=opset,
                      pass_pipeline=ct.PassPipeline.EMPTY, compute_precision=ct.precision.FLOAT32)


NAMES = sorted(PROGRAMS) + ["multifunction_ios18"]


def save(name, folder):
    """Builds program `name`, saves it with coremltools into `folder`, and returns the package path."""
    folder = pathlib.Path(folder)
    if name == "multifunction_ios18":
        return multifunction(folder)
    opset, build = PROGRAMS[name]
    target = folder / f"{name}.mlpackage"
    convert(build(), opset).save(str(target))
    return target
