"""`mil quantize --mode w8` equals coremltools' `linear_quantize_weights` op by op, bit for bit.

Each program below is built with coremltools' builder (conv, conv_transpose, linear and matmul
weights of several shapes, fp32 and fp16, with all-zero, constant and half-way channels, weights
below the threshold, 1-D biases, a const read along two different axes, a const only returned) and
saved by coremltools for iOS16, iOS17 and iOS18. For every setting (int8/uint8 × symmetric/affine ×
per-tensor/per-channel, per-block of 16 and 32 on iOS18 — some weights not divisible, so left
alone — and thresholds), coremltools quantises the package, and `mil decompile` →
`mil quantize` → `mil compile` quantises it on our side. The two packages must have the same
functions op by op — op types, output names and types, every input and attribute — with every
weight-file value (quantised data, scales, zero points) equal byte for byte with the same dtype.

Needs the `mil` binary: target/release/mil or $MIL_BIN.
"""

import itertools
import subprocess

import coremltools as ct
import coremltools.optimize as cto
import numpy as np
import pytest
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import types

from package_checks import read_model
from test_decompile_round_trip import Side, compare_blocks

from mil_cli import MIL, mil

RNG = np.random.default_rng(17)
TARGETS = {"ios16": ct.target.iOS16, "ios17": ct.target.iOS17, "ios18": ct.target.iOS18}


def weight(*shape, dtype=np.float32, scale=1.0):
    """Random values with the awkward channels: all zero, constant, and exact half-way points."""
    w = ((RNG.random(shape) - 0.5) * scale).astype(dtype)
    w[1] = 0
    w[2] = dtype(0.25 * scale)
    w[3].flat[:4] = np.array([1.0, -1.0, 0.5 / 127, 1.5 / 127], dtype=dtype) * dtype(scale)
    return w


def conv_net(dtype):
    np_dtype = np.float16 if dtype == types.fp16 else np.float32

    def body(x):
        x = mb.conv(x=x, weight=weight(32, 16, 3, 3, dtype=np_dtype), bias=weight(32, dtype=np_dtype), pad_type="same")
        x = mb.relu(x=x)
        x = mb.conv(x=x, weight=weight(8, 32, 1, 1, dtype=np_dtype), pad_type="valid")  # 256 elements: kept
        x = mb.conv_transpose(x=x, weight=weight(8, 24, 4, 4, dtype=np_dtype) * np_dtype(3), pad_type="valid")
        return x

    return [mb.TensorSpec(shape=(1, 16, 8, 8), dtype=dtype)], body


def dense(dtype):
    np_dtype = np.float16 if dtype == types.fp16 else np.float32

    def body(x):
        y = mb.linear(x=x, weight=weight(64, 48, dtype=np_dtype), bias=weight(64, dtype=np_dtype))
        a = mb.matmul(x=y, y=weight(64, 80, dtype=np_dtype, scale=40.0))
        b = mb.matmul(x=a, y=weight(96, 80, dtype=np_dtype, scale=0.01), transpose_y=True)
        batched = mb.reshape(x=b, shape=[4, 2, 48])
        c = mb.matmul(x=weight(4, 600, 2, dtype=np_dtype), y=batched)  # a weight as x
        return c

    return [mb.TensorSpec(shape=(4, 48), dtype=dtype)], body


def shared_and_returned(dtype):
    np_dtype = np.float16 if dtype == types.fp16 else np.float32

    def body(x):
        shared = mb.const(val=weight(64, 64, dtype=np_dtype))
        y = mb.linear(x=x, weight=shared)  # output axis 0 ...
        z = mb.matmul(x=y, y=shared)  # ... and 1: coremltools leaves it alone
        kept = mb.linear(x=z, weight=weight(64, 64, dtype=np_dtype))
        returned = mb.const(val=weight(64, 64, dtype=np_dtype))
        return kept, returned

    return [mb.TensorSpec(shape=(2, 64), dtype=dtype)], body


PROGRAMS = {"conv": conv_net, "dense": dense, "shared": shared_and_returned}
SETTINGS = [
    dict(dtype=d, mode=m, granularity=g)
    for d, m, g in itertools.product(("int8", "uint8"), ("linear_symmetric", "linear"), ("per_tensor", "per_channel"))
]


BLOCKED = [
    dict(dtype=d, mode=m, granularity="per_block", block_size=b)
    for d, m, b in itertools.product(("int8", "uint8"), ("linear_symmetric", "linear"), (16, 32))
]


FOUR_BITS = [
    dict(dtype=d, mode=m, granularity=g, **({"block_size": 16} if g == "per_block" else {}))
    for d, m, g in itertools.product(("int4", "uint4"), ("linear_symmetric", "linear"), ("per_tensor", "per_channel", "per_block"))
]


def flags(setting, threshold):
    granularity = setting["granularity"].replace("_", "-")
    if "block_size" in setting:
        granularity += f":{setting['block_size']}"
    out = ["--mode", "w4" if "4" in setting["dtype"] else "w8", "--granularity", granularity, "--threshold", threshold]
    out.append("--affine" if setting["mode"] == "linear" else "--symmetric")
    if setting["dtype"].startswith("u"):
        out.append("--unsigned")
    return out


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """(program, dtype, target) → (coremltools' package, its decompiled text)."""
    folder = tmp_path_factory.mktemp("quantize_originals")
    found = {}

    def get(name, dtype, target):
        key = (name, dtype, target)
        if key not in found:
            inputs, body = PROGRAMS[name](types.fp16 if dtype == "fp16" else types.fp32)
            prog = mb.program(input_specs=inputs, opset_version=TARGETS[target])(body)
            model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=TARGETS[target],
                               compute_precision=ct.precision.FLOAT32, skip_model_load=True)
            package = folder / f"{name}_{dtype}_{target}.mlpackage"
            model.save(str(package))
            text = folder / f"{name}_{dtype}_{target}" / "model.mil"
            text.parent.mkdir()
            mil("decompile", package, "-o", text)
            found[key] = (package, text)
        return found[key]

    return get


def compare(reference, ours):
    a, b = Side(reference), Side(ours)
    assert a.spec.specificationVersion == b.spec.specificationVersion
    fa_all, fb_all = a.spec.mlProgram.functions, b.spec.mlProgram.functions
    assert sorted(fa_all) == sorted(fb_all)
    for name, fa in fa_all.items():
        fb = fb_all[name]
        assert fa.opset == fb.opset
        compare_blocks(fa.block_specializations[fa.opset], fb.block_specializations[fb.opset], a, b, name)


def quantized_weights(package, kind):
    """The names of the consts coremltools replaced by a `kind` op (its output is NAME_quantized)."""
    spec = read_model(package)
    main = spec.mlProgram.functions["main"]
    ops = main.block_specializations[main.opset].operations
    return sorted(op.outputs[0].name.removesuffix("_quantized") for op in ops if op.type == kind)


def reported_weights(report):
    """The weight names of the size table `mil quantize` prints (between its header and total)."""
    lines = report.splitlines()
    return sorted(line.split()[0] for line in lines[1 : lines.index(next(l for l in lines if l.startswith("total")))])


CASES = [
    (name, dtype, target, setting, 2048)
    for name in PROGRAMS
    for dtype in ("fp32", "fp16")
    for target in ("ios16", "ios18")
    for setting in SETTINGS
] + [
    (name, dtype, "ios18", setting, 2048)
    for name in ("conv", "dense")
    for dtype in ("fp32", "fp16")
    for setting in BLOCKED
    if name == "dense" or setting["block_size"] == 16  # no conv weight has 32 | C_in
] + [
    (name, dtype, "ios18", setting, 2048)
    for name in ("conv", "dense")
    for dtype in ("fp32", "fp16")
    for setting in FOUR_BITS
] + [
    ("conv", "fp32", "ios17", SETTINGS[0], 2048),
    ("conv", "fp16", "ios17", SETTINGS[3], 2048),
    ("conv", "fp32", "ios16", SETTINGS[1], 255),  # the 256-element 1x1 conv now qualifies
    ("conv", "fp32", "ios18", SETTINGS[6], 256),  # ... but not at exactly its size
    ("dense", "fp16", "ios18", SETTINGS[2], 4608),
]


@pytest.mark.parametrize(
    "name,dtype,target,setting,threshold",
    CASES,
    ids=lambda v: "-".join(map(str, v.values())) if isinstance(v, dict) else str(v),
)
def test_quantize_equals_coremltools(originals, tmp_path, name, dtype, target, setting, threshold):
    package, text = originals(name, dtype, target)
    config = cto.coreml.OptimizationConfig(
        global_config=cto.coreml.OpLinearQuantizerConfig(weight_threshold=threshold, **setting)
    )
    reference = tmp_path / "reference.mlpackage"
    cto.coreml.linear_quantize_weights(ct.models.MLModel(str(package), skip_model_load=True), config).save(
        str(reference)
    )
    ours_text = tmp_path / "ours" / "model.mil"
    ours_text.parent.mkdir()
    report = mil("quantize", text, *flags(setting, threshold), "-o", ours_text)
    ours = tmp_path / "ours.mlpackage"
    mil("compile", ours_text, "-o", ours)
    quantized = "constexpr_blockwise_shift_scale" if target == "ios18" else "constexpr_affine_dequantize"
    replaced = quantized_weights(reference, quantized)
    assert replaced, "coremltools quantised nothing: the case tests nothing"
    compare(reference, ours)
    assert reported_weights(report) == replaced


def test_per_block_below_ios18_is_refused_as_coremltools_refuses_it(originals, tmp_path):
    package, text = originals("conv", "fp32", "ios16")
    config = cto.coreml.OptimizationConfig(global_config=cto.coreml.OpLinearQuantizerConfig(**BLOCKED[0]))
    with pytest.raises(ValueError, match="iOS18"):
        cto.coreml.linear_quantize_weights(ct.models.MLModel(str(package), skip_model_load=True), config)
    out = tmp_path / "q.mil"
    args = ["quantize", text, *flags(BLOCKED[0], 2048), "-o", out]
    run = subprocess.run([MIL, *map(str, args)], capture_output=True, text=True)
    assert run.returncode == 1
    assert "ios18 or later" in run.stderr
    assert not out.exists()


def test_an_ios15_program_is_refused_and_nothing_is_written(originals, tmp_path):
    inputs, body = conv_net(types.fp32)
    prog = mb.program(input_specs=inputs, opset_version=ct.target.iOS15)(body)
    package = tmp_path / "old.mlpackage"
    ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS15,
               compute_precision=ct.precision.FLOAT32, skip_model_load=True).save(str(package))
    text = tmp_path / "old" / "model.mil"
    text.parent.mkdir()
    mil("decompile", package, "-o", text)
    out = tmp_path / "q.mil"
    run = subprocess.run([MIL, "quantize", text, "--mode", "w8", "-o", out], capture_output=True, text=True)
    assert run.returncode == 1
    assert "ios16 or later" in run.stderr
    assert not out.exists() and not (tmp_path / "q.weights").exists()
