"""`mil quantize --mode w8a8` equals coremltools' W8A8 passes op by op, given the same activation ranges.

Each program below is built with coremltools' builder and saved by coremltools with fp16 compute
precision (as models are converted by default) for iOS17 and iOS18. We calibrate it on random samples
with the interpreter (`--calibration`) and save the ranges we used (`--save-statistics`); coremltools'
passes then get those ranges (quant_reference.py) — its own calibration needs Core ML predictions, so
a Mac — and the two programs must be equal op by op: op types, inputs (scales and zero points by dtype
and value), output types, and the weights quantised with them bit for bit.

Needs the `mil` binary: target/release/mil or $MIL_BIN.
"""

import json
import os
import pathlib
import subprocess

import coremltools as ct
import numpy as np
import pytest
from coremltools.converters.mil import Builder as mb

from quant_reference import activation_names, assert_same_program, pymil, w8a8_reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))
RNG = np.random.default_rng(88)
TARGETS = {"ios17": ct.target.iOS17, "ios18": ct.target.iOS18}


def mil(*args, ok=True):
    run = subprocess.run([MIL, *map(str, args)], capture_output=True, text=True)
    if ok:
        assert run.returncode == 0, f"mil {' '.join(map(str, args))} exited {run.returncode}:\n{run.stderr[:4000]}"
    return run


def w(*shape, scale=0.2):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def resnet(x):
    """conv-relu, a residual add of two live inputs, a pool, a concat (ranges unified), a linear."""
    a = mb.relu(x=mb.conv(x=x, weight=w(16, 8, 3, 3), bias=w(16), pad_type="same", name="c1"), name="r1")
    b = mb.conv(x=a, weight=w(16, 16, 3, 3), pad_type="same", name="c2")
    s = mb.relu(x=mb.add(x=a, y=b, name="add1"), name="r2")
    p = mb.avg_pool(x=s, kernel_sizes=[2, 2], strides=[2, 2], pad_type="valid", name="pool")
    m = mb.max_pool(x=s, kernel_sizes=[2, 2], strides=[2, 2], pad_type="valid", name="mpool")
    c = mb.concat(values=[p, m], axis=1, name="cat")
    return mb.linear(x=mb.reshape(x=c, shape=[1, 32 * 64]), weight=w(10, 32 * 64, scale=0.02), name="fc")


def activations(x):
    """Each activation the suffix pass looks through, an activation read twice and one only returned,
    an add of a const, a linear ending in tanh."""
    a = mb.leaky_relu(x=mb.conv(x=x, weight=w(8, 8, 1, 1), pad_type="valid"), alpha=0.1, name="leaky")
    b = mb.sigmoid(x=mb.conv(x=a, weight=w(8, 8, 3, 3), pad_type="same"), name="sig")
    c = mb.conv(x=b, weight=w(8, 8, 3, 3), pad_type="same", name="c3")
    d = mb.add(x=c, y=w(1, 8, 1, 1), name="add_const")
    e = mb.relu6(x=mb.add(x=d, y=a), name="r6")
    f = mb.mul(x=e, y=b)
    g = mb.tanh(x=mb.linear(x=mb.reshape(x=f, shape=[8, 256]), weight=w(16, 256, scale=0.05)), name="t")
    h = mb.sigmoid(x=mb.conv(x=e, weight=w(4, 8, 1, 1), pad_type="valid"), name="only_returned")
    return g, h


PROGRAMS = {"resnet": (resnet, (1, 8, 16, 16)), "activations": (activations, (1, 8, 16, 16))}
SETTINGS = {
    "int8-symmetric": ("linear_symmetric", "int8", []),
    "uint8-symmetric": ("linear_symmetric", "uint8", ["--unsigned"]),
    "int8-affine": ("linear", "int8", ["--affine"]),
    "uint8-affine": ("linear", "uint8", ["--affine", "--unsigned"]),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(program, target) → (package, decompiled text, calibration folder)."""
    folder = tmp_path_factory.mktemp("w8a8")
    found = {}

    def get(name, target):
        if (name, target) not in found:
            body, shape = PROGRAMS[name]
            prog = mb.program(input_specs=[mb.TensorSpec(shape=shape)], opset_version=TARGETS[target])(body)
            model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=TARGETS[target],
                               compute_precision=ct.precision.FLOAT16, skip_model_load=True)
            package = folder / f"{name}_{target}.mlpackage"
            model.save(str(package))
            text = folder / f"{name}_{target}" / "model.mil"
            text.parent.mkdir()
            mil("decompile", package, "-o", text)
            calibration = folder / f"{name}_{target}_samples"
            calibration.mkdir()
            for i in range(3):
                np.save(calibration / f"sample{i}.npy", (RNG.standard_normal(shape) * (i + 1)).astype(np.float32))
            found[(name, target)] = (package, text, calibration)
        return found[(name, target)]

    return get


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", PROGRAMS)
def test_w8a8_equals_coremltools_passes_given_our_ranges(saved, tmp_path, name, target, setting):
    package, text, calibration = saved(name, target)
    mode, dtype, flags = SETTINGS[setting]
    out = tmp_path / "ours" / "model.mil"
    out.parent.mkdir()
    stats = tmp_path / "stats.json"
    run = mil("quantize", text, "--mode", "w8a8", "--calibration", calibration, "--save-statistics", stats,
              "--threshold", 100, *flags, "-o", out)
    ours = tmp_path / "ours.mlpackage"
    mil("compile", out, "-o", ours)
    ranges = json.loads(stats.read_text())
    # We calibrate exactly the tensors coremltools calibrates ...
    assert sorted(ranges) == sorted(activation_names(package))
    # ... over all the samples (the input's range is the union of the three).
    samples = [np.load(p) for p in sorted(calibration.glob("*.npy"))]
    assert ranges["x"] == {"rmin": float(min(s.min() for s in samples)), "rmax": float(max(s.max() for s in samples))}
    # ... and a concat's inputs and output share one range, the union of theirs.
    for op in pymil(package).functions["main"].operations:
        if op.op_type == "concat":
            group = [v.name for v in op.values] + [op.outputs[0].name]
            assert len({json.dumps(ranges[n]) for n in group}) == 1, group
    reference = w8a8_reference(package, ranges, mode=mode, dtype=dtype, weight_threshold=100)
    assert sum(op.op_type == "quantize" for op in reference.functions["main"].operations) >= 5
    assert_same_program(reference, pymil(ours))
    assert "PSNR" in run.stdout
