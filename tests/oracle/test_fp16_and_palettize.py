"""`mil quantize --mode fp16` and `--mode lutN` against coremltools 9.0.

fp16: each program below is built in fp32 with coremltools' builder, converted and saved by
coremltools (fp32, its default passes), and decompiled. coremltools then converts that same
program again with `compute_precision=FLOAT16` (its `FP16ComputePrecision` pass and the clean-up
after it), and we run `mil quantize --mode fp16` on the text and compile it. The two functions must
be the same graph: for every op (keyed by its output names) the same type, output types, inputs
(values by name, consts by dtype and bytes) and attributes; the op `name` of casts is ignored
(coremltools numbers them). The programs cover the skipped ops (`cast`, a const above 65504),
the iOS17 mixed-precision parameters (`alpha`, `epsilon`), an underflowing small const, a const
read by two fp16 ops and by an fp32 one, multi-result and tuple-input ops, integer results and
returned values.

Palettisation: coremltools' `palettize_weights` (k-means, per tensor and per grouped channel) and
`mil quantize --mode lutN` on the same package must replace the same consts by
`constexpr_lut_to_dense` ops of the same form (op and output names, types, table shape, index
dtype), and our tables must be no further from the weights than coremltools' (sum of squared
errors, per weight).

Needs the `mil` binary: target/release/mil or $MIL_BIN, and scikit-learn (coremltools' k-means).
"""

import pathlib
import re

import coremltools as ct
import coremltools.optimize as cto
import numpy as np
import pytest
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import types

from package_checks import load_with_coremltools, read_model
from test_decompile_round_trip import Side
from test_quantize import TARGETS, mil

RNG = np.random.default_rng(1717)


def rand(*shape, scale=1.0):
    return ((RNG.random(shape) - 0.5) * scale).astype(np.float32)


def convs():
    def body(x):
        big = rand(8)
        big[3] = 1e5  # above 65504: this conv stays fp32
        a = mb.conv(x=x, weight=rand(8, 4, 3, 3), bias=big, pad_type="same", name="big_conv")
        b = mb.leaky_relu(x=a, alpha=0.1, name="lrelu")
        c = mb.conv(x=b, weight=rand(8, 8, 1, 1), bias=rand(8), name="small_conv")
        tiny = np.array([1e-9, -1e-9, 0.0, 1.0, 3e-8, 1e-30], dtype=np.float32).reshape(1, 6, 1, 1)
        d = mb.mul(x=mb.slice_by_size(x=c, begin=[0, 0, 0, 0], size=[1, 6, 8, 8]), y=tiny, name="tiny_mul")
        e = mb.cast(x=d, dtype="int32", name="to_int")
        f = mb.cast(x=c, dtype="fp16", name="to_half")
        g = mb.relu(x=f, name="half_relu")
        return d, e, g

    return [mb.TensorSpec(shape=(1, 4, 8, 8))], body


def mixed():
    def body(x, y):
        shared = mb.const(val=rand(16, 16), name="shared")
        a = mb.matmul(x=x, y=shared, name="mm")
        b = mb.add(x=a, y=shared, name="plus")
        big = mb.const(val=np.full((16,), 70000.0, dtype=np.float32), name="huge")
        c = mb.add(x=b, y=big, name="over")  # stays fp32, and reads `shared`'s fp32 twin path
        parts = mb.split(x=c, num_splits=2, axis=1, name="halves")
        joined = mb.concat(values=[parts[1], parts[0], y], axis=1, name="joined")
        s = mb.softmax(x=joined, axis=-1, name="soft")
        n = mb.layer_norm(x=s, axes=[-1], epsilon=1e-5, name="norm")
        r = mb.rsqrt(x=mb.abs(x=n), epsilon=1e-6, name="root")
        e = mb.elu(x=r, alpha=0.5, name="elu_out")
        shape = mb.shape(x=e, name="shape_of")
        m = mb.reduce_mean(x=e, axes=[1], keep_dims=True, name="mean")
        return e, shape, m, x

    return [mb.TensorSpec(shape=(16, 16)), mb.TensorSpec(shape=(16, 8))], body


def control_flow():
    def body(x, t):
        shared = mb.const(val=rand(4, 4), name="shared")
        a = mb.matmul(x=x, y=shared, name="before")
        pred = mb.squeeze(x=mb.greater(x=t, y=np.float32(0), name="gt"), name="pred")
        # The branches read an outer fp16 result, an outer const and an input the body also reads.
        c = mb.cond(pred=pred, _true_fn=lambda: mb.add(x=mb.mul(x=a, y=shared, name="t_mul"), y=x, name="t_add"),
                    _false_fn=lambda: mb.sub(x=x, y=np.float32(1), name="f_sub"), name="branch")

        def loop_cond(i, v):
            return mb.less(x=i, y=np.int32(3), name="lt")

        def loop_body(i, v):
            w = mb.add(x=mb.matmul(x=v, y=shared, name="l_mm"), y=a, name="l_add")
            big = mb.const(val=np.full((4,), 7e4, dtype=np.float32), name="l_big")
            w = mb.cond(pred=mb.less(x=i, y=np.int32(1), name="first"),
                        _true_fn=lambda: mb.tanh(x=w, name="inner_tanh"),
                        _false_fn=lambda: mb.sub(x=mb.add(x=w, y=big, name="inner_over"), y=big, name="inner_back"),
                        name="inner")
            return mb.add(x=i, y=np.int32(1), name="inc"), mb.mul(x=w, y=np.float32(0.5), name="l_half")

        _, out = mb.while_loop(_cond=loop_cond, _body=loop_body, loop_vars=(np.int32(0), c), name="loop")
        return mb.relu(x=out, name="after"), c

    return [mb.TensorSpec(shape=(4, 4)), mb.TensorSpec(shape=(1,))], body


FP16_PROGRAMS = {"convs": convs, "mixed": mixed, "control_flow": control_flow}
# The programs whose values fit fp16 (`convs` and `mixed` push values above 65504 through fp16 on
# purpose, so their outputs hold infinities in either model and have no PSNR).
FINITE_IN_FP16 = {"control_flow"}


# The precision passes of coremltools' default pipeline, in its order (pass_pipeline.py, `_COMMON_PASSES`
# from the `dedup_op_and_var_names` that must precede `add_fp16_cast` to the last `const_elimination`
# before the state passes, ~lines 103–117), and the `dedup_op_and_var_names` its clean-up ends with
# (`_CLEANUP_PASSES`), which numbers the casts a value gets in each block. The rest of the pipeline
# optimises (fusions, `add_conv_transpose_output_shape`, ...), which `mil quantize` does not
# (docs/quantisation.md, FP16 compute precision).
FP16_PASSES = ["common::dedup_op_and_var_names", "common::add_fp16_cast", "common::add_int16_cast",
               "common::update_output_dtypes", "common::guard_negative_gather_indices",
               "common::const_elimination", "common::dead_code_elimination", "common::cast_optimization",
               "common::dead_code_elimination", "common::add_int16_cast", "common::const_elimination",
               "common::dead_code_elimination", "common::cast_optimization", "common::dead_code_elimination",
               "common::const_elimination", "common::dedup_op_and_var_names"]


def fp16_reference(package, target, out, passes=None):
    """coremltools' fp16 conversion of the program saved in `package`: its whole default pipeline, or
    only `passes` (e.g. FP16_PASSES, for a program that pipeline has not run on already)."""
    prog = load_with_coremltools(package)
    pipeline = {} if passes is None else {"pass_pipeline": ct.PassPipeline(passes, "fp16 only")}
    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=target,
                       compute_precision=ct.precision.FLOAT16, skip_model_load=True, **pipeline)
    model.save(str(out))
    return out


def save_fp32(prog, target, out):
    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=target,
                       compute_precision=ct.precision.FLOAT32, skip_model_load=True)
    model.save(str(out))
    return out


def graph(side, block, outer=None, params=None, depth=0):
    """The block as {output names: (type, outputs, inputs, attributes, nested blocks)}, consts folded
    into values (those of enclosing blocks too); a nested block is its parameters, graph and
    outputs. Block parameters are named by position (`param<depth>_<i>`, and their casts
    `…_to_fp16` after them): coremltools' pipeline renames the parameters the blocks of a
    `while_loop` share (`dedup_op_and_var_names`, not a precision pass)."""
    consts = dict(outer or {})
    params = dict(params or {})

    def canon(name):
        stem = name.removesuffix("_to_fp16")
        return params[stem] + name[len(stem):] if stem in params else name

    for op in block.operations:
        if op.type == "const":
            consts[op.outputs[0].name] = side.value(op.attributes["val"])
    ops = {}
    for op in block.operations:
        if op.type == "const":
            continue
        inputs = {
            key: [consts.get(b.name, ("name", canon(b.name))) if b.WhichOneof("binding") == "name" else side.binding(b)
                  for b in arg.arguments]
            for key, arg in op.inputs.items()
        }
        attributes = {k: side.value(v) for k, v in op.attributes.items() if not (k == "name" and op.type == "cast")}
        outputs = tuple((canon(o.name), o.type.SerializeToString(deterministic=True)) for o in op.outputs)
        blocks = []
        for b in op.blocks:
            inner = {**params, **{p.name: f"param{depth}_{i}" for i, p in enumerate(b.inputs)}}
            blocks.append((tuple((inner[p.name], p.type.SerializeToString(deterministic=True)) for p in b.inputs),
                           graph(side, b, consts, inner, depth + 1)))
        ops[tuple(o[0] for o in outputs)] = (op.type, outputs, inputs, attributes, blocks)
    return ops, [canon(o) for o in block.outputs]


def compare_graphs(reference, ours, require_change=True):
    """The two saved packages hold the same graphs (see `graph`); with `require_change`, something
    moved to fp16 and something stayed fp32 (the harness's programs need not have either)."""
    a, b = Side(reference), Side(ours)
    for name, fa in a.spec.mlProgram.functions.items():
        fb = b.spec.mlProgram.functions[name]
        assert fa.opset == fb.opset
        ga, outs_a = graph(a, fa.block_specializations[fa.opset])
        gb, outs_b = graph(b, fb.block_specializations[fb.opset])
        assert outs_a == outs_b, f"{name}: outputs"
        assert sorted(ga) == sorted(gb), f"{name}: ops\nonly coremltools: {sorted(set(ga) - set(gb))}\nonly ours: {sorted(set(gb) - set(ga))}"
        for key in ga:
            assert ga[key] == gb[key], f"{name}/{key}:\ncoremltools {ga[key]}\nours {gb[key]}"
        if not require_change:
            continue
        kinds = {op[0] for op in ga.values()}
        assert any(key[0].endswith("_cast_fp16") for key in ga) and "cast" in kinds, "nothing moved to fp16"
        assert any(not key[0].endswith("_cast_fp16") and op[0] not in ("cast",) for key, op in ga.items()), "nothing kept fp32"


@pytest.mark.parametrize("target", ["ios16", "ios17", "ios18"])
@pytest.mark.parametrize("name", sorted(FP16_PROGRAMS))
def test_fp16_equals_coremltools(name, target, tmp_path):
    inputs, body = FP16_PROGRAMS[name]()
    prog = mb.program(input_specs=inputs, opset_version=TARGETS[target])(body)
    original = save_fp32(prog, TARGETS[target], tmp_path / "fp32.mlpackage")
    reference = fp16_reference(original, TARGETS[target], tmp_path / "reference.mlpackage")
    text = tmp_path / "fp32" / "model.mil"
    text.parent.mkdir()
    mil("decompile", original, "-o", text)
    ours_text = tmp_path / "ours" / "model.mil"
    ours_text.parent.mkdir()
    report = mil("quantize", text, "--mode", "fp16", "-o", ours_text)
    assert "ops compute in fp16" in report
    if name in FINITE_IN_FP16:
        # The interpreter ran the fp32 and our fp16 program on the same random inputs: every float
        # output (through the blocks of `cond`/`while_loop` too) is the fp32 one up to fp16 rounding.
        psnrs = [float(p) for p in re.findall(r"^output \S+: PSNR (\S+) dB", report, re.M)]
        assert psnrs and min(psnrs) >= 40, report
    ours = tmp_path / "ours.mlpackage"
    mil("compile", ours_text, "-o", ours)
    compare_graphs(reference, ours)


# ---- palettisation -------------------------------------------------------------------------------

def palette_net(dtype):
    np_dtype = np.float16 if dtype == types.fp16 else np.float32

    def w(*shape, scale=1.0):
        values = RNG.standard_normal(shape) * scale
        values.flat[::7] *= 4  # a heavier tail than a normal's
        return values.astype(np_dtype)

    def body(x):
        y = mb.conv(x=x, weight=w(32, 16, 3, 3), pad_type="same")
        y = mb.relu(x=y)
        y = mb.conv(x=y, weight=w(8, 32, 1, 1), pad_type="valid")  # 256 elements: kept
        y = mb.reshape(x=y, shape=[1, 512])
        y = mb.linear(x=y, weight=w(64, 512, scale=0.05), bias=w(64))
        return mb.matmul(x=y, y=w(64, 96, scale=30.0))

    return [mb.TensorSpec(shape=(1, 16, 8, 8), dtype=dtype)], body


def _program(package_or_program):
    if isinstance(package_or_program, (str, pathlib.Path)):
        return load_with_coremltools(package_or_program)
    return package_or_program  # a pymil program already


def dense_weights(package):
    """Each constexpr_lut_to_dense op's output name → (op, the dense weight it stands for); `package`
    may also be a pymil program."""
    prog = _program(package)
    found = {}
    for op in prog.functions["main"].operations:
        if op.op_type == "constexpr_lut_to_dense":
            found[op.outputs[0].name] = (op, op.outputs[0].val if op.outputs[0].val is not None else op.materialized_val_inference())
    return found


def original_weights(package):
    prog = _program(package)
    return {op.name: op.outputs[0].val for op in prog.functions["main"].operations if op.op_type == "const"}


def op_form(op):
    inputs = {k: (v.dtype.__name__ if hasattr(v.dtype, "__name__") else str(v.dtype), v.shape) for k, v in op.inputs.items()}
    return op.op_type, op.name, op.outputs[0].dtype, op.outputs[0].shape, inputs


PALETTE_CASES = [
    (dtype, target, bits, granularity)
    for dtype in ("fp32", "fp16")
    for target in ("ios16", "ios18")
    for bits in (2, 4, 6, 8)
    for granularity in ("per_tensor", "per_grouped_channel")
    if not (target == "ios16" and granularity != "per_tensor")
]


@pytest.mark.parametrize("dtype,target,bits,granularity", PALETTE_CASES)
def test_palettize_has_coremltools_form_and_no_worse_error(dtype, target, bits, granularity, tmp_path):
    inputs, body = palette_net(types.fp16 if dtype == "fp16" else types.fp32)
    prog = mb.program(input_specs=inputs, opset_version=TARGETS[target])(body)
    original = save_fp32(prog, TARGETS[target], tmp_path / "original.mlpackage")
    group = {"group_size": 8} if granularity == "per_grouped_channel" else {}
    config = cto.coreml.OptimizationConfig(
        global_config=cto.coreml.OpPalettizerConfig(mode="kmeans", nbits=bits, granularity=granularity, **group))
    reference = tmp_path / "reference.mlpackage"
    cto.coreml.palettize_weights(ct.models.MLModel(str(original), skip_model_load=True), config).save(str(reference))

    text = tmp_path / "original" / "model.mil"
    text.parent.mkdir()
    mil("decompile", original, "-o", text)
    ours_text = tmp_path / "ours" / "model.mil"
    ours_text.parent.mkdir()
    flags = ["--granularity", "per-block:8"] if group else []
    report = mil("quantize", text, "--mode", f"lut{bits}", *flags, "-o", ours_text)
    assert "PSNR" in report
    ours = tmp_path / "ours.mlpackage"
    mil("compile", ours_text, "-o", ours)

    assert compare_palettes(original, reference, ours)


def compare_palettes(original, reference, ours):
    """coremltools' palettisation `reference` and ours replace the same consts of `original` by
    constexpr_lut_to_dense ops of the same form, and each of our tables has no larger sum of squared
    errors than coremltools'. Each argument is a package or a pymil program. Returns how many
    consts were palettised."""
    weights, before = original_weights(original), dense_weights(original)  # a program may have tables already
    theirs, mine = ({k: v for k, v in dense_weights(p).items() if k not in before} for p in (reference, ours))
    assert sorted(theirs) == sorted(mine), f"palettised: coremltools {sorted(theirs)}, ours {sorted(mine)}"
    for name, (op, dense) in theirs.items():
        my_op, my_dense = mine[name]
        assert op_form(op) == op_form(my_op), name
        w = weights[name.removesuffix("_palettized")].astype(np.float64)
        their_error = np.sum((dense.astype(np.float64) - w) ** 2)
        my_error = np.sum((my_dense.astype(np.float64) - w) ** 2)
        assert my_error <= their_error * (1 + 1e-6) + 1e-12, f"{name}: {my_error} > coremltools' {their_error}"
    return len(theirs)
