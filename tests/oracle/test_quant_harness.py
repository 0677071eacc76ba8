"""Every quantisation mode against coremltools over the programs of coremltools' own op tests.

coremltools ships its op unit tests in the wheel; tests/optests/record.py turns each into a recorded
package (the program the test builds, converted by coremltools; docs/op-tests.md). We record the
weight-bearing families (conv, conv_transpose, linear, matmul, pools) at a few parametrizations each,
add the coremltools-builder programs of builder_programs.py (conv nets, transformer blocks,
recurrent layers, control flow, states, ios15–ios18), move each program to iOS18 (so that every mode applies: per-block and 4-bit need it, W8A8 iOS17) by
its function's opset, and save it with `mil compile`. Then for each mode in MODES, coremltools'
pass quantises that package (quant_reference.py) and `mil quantize` the text, and the two programs
must be equal op by op with bit-identical constants.

Adding a mode is one line in MODES: a `Weights` with our flags and coremltools'
`OpLinearQuantizerConfig` arguments, an `Activations` (W8A8 with fixed ranges), or another class
with `flags`, `applies(case)` and `reference(package, ranges)`.

Needs the `mil` binary (target/release/mil or $MIL_BIN) and scipy + pillow (the op tests import them).
"""

import json
import pathlib
import re
import shutil
import sys
import zlib

import coremltools.optimize as cto
import numpy as np
import pytest
from coremltools.converters.mil.mil.passes.graph_pass import PassOption
from coremltools.converters.mil.mil.passes.pass_registry import PASS_REGISTRY

from quant_reference import activation_names, normal_form, assert_same_program, pymil, w8a8_reference
from test_w8a8 import mil

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "optests"))
import builder_programs  # noqa: E402
import record  # noqa: E402

# Op test modules holding the weight-bearing ops (and pools, which W8A8 quantises around).
MODULES = ["iOS14/test_conv.py", "iOS14/test_linear.py", "iOS14/test_pool.py", "iOS16/test_conv.py",
           "iOS17/test_conv.py", "iOS17/test_linear.py"]
PER_TEST = 4
# What W8A8 puts pairs around.
ACTIVATION_OPS = {"conv", "avg_pool", "max_pool", "linear", "add"}
MIN_PROGRAMS = 30
# Op test weights are small: quantise every const coremltools would at all (10 elements or more).
THRESHOLD = 0


class Weights:
    """`mil quantize FLAGS` against `linear_quantize_weights` with `OpLinearQuantizerConfig(**config)`."""

    def __init__(self, *flags, **config):
        self.flags, self.config = list(flags), config

    def applies(self, case):
        return True

    def reference(self, package, ranges):
        config = cto.coreml.OptimizationConfig(global_config=cto.coreml.OpLinearQuantizerConfig(
            weight_threshold=THRESHOLD, **self.config))
        weights = PASS_REGISTRY["compression::linear_quantize_weights"]
        weights.set_options([PassOption("config", config), PassOption("joint_compression", False)])
        return pymil(package, [weights])


class Activations:
    """`mil quantize --mode w8a8 --statistics RANGES FLAGS` against coremltools' W8A8 passes with the
    same ranges. fp16 programs only: coremltools' suffix pass writes fp16 scales, which an fp32
    activation refuses (docs/quantisation.md)."""

    def __init__(self, *flags, **config):
        self.flags, self.config = ["--mode", "w8a8", *flags], config

    def applies(self, case):
        return case["precision"] == "fp16"

    def reference(self, package, ranges):
        return w8a8_reference(package, ranges, weight_threshold=THRESHOLD, **self.config)


MODES = {
    "w8-symmetric-per-tensor": Weights("--mode", "w8", "--granularity", "per-tensor", granularity="per_tensor"),
    "w8-symmetric-per-channel": Weights("--mode", "w8", granularity="per_channel"),
    "w8-affine-per-channel": Weights("--mode", "w8", "--affine", mode="linear"),
    "uint8-affine-per-tensor": Weights("--mode", "w8", "--affine", "--unsigned", "--granularity", "per-tensor",
                                       mode="linear", dtype="uint8", granularity="per_tensor"),
    "uint8-symmetric-per-channel": Weights("--mode", "w8", "--unsigned", dtype="uint8"),
    "w8-per-block-4": Weights("--mode", "w8", "--granularity", "per-block:4", granularity="per_block", block_size=4),
    "w4-symmetric-per-channel": Weights("--mode", "w4", dtype="int4"),
    "w4-affine-per-block-4": Weights("--mode", "w4", "--affine", "--granularity", "per-block:4", dtype="int4",
                                     mode="linear", granularity="per_block", block_size=4),
    "uint4-symmetric-per-tensor": Weights("--mode", "w4", "--unsigned", "--granularity", "per-tensor",
                                          dtype="uint4", granularity="per_tensor"),
    "w8a8-int8-symmetric": Activations(),
    "w8a8-uint8-affine": Activations("--affine", "--unsigned", mode="linear", dtype="uint8"),
}


def fixed_ranges(package):
    """A range for every tensor coremltools would calibrate, made up from its name (so the same every run)."""
    ranges = {}
    for name in activation_names(package):
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        low, high = rng.uniform(0.0, 4.0, size=2)
        ranges[name] = {"rmin": float(np.float32(-low if rng.random() < 0.7 else low / 8)), "rmax": float(np.float32(high))}
    return ranges


def prepare(case, folder, source, has_weights):
    """The program of `folder/model.mil` moved to iOS18 and compiled: (case, package, text, ranges)."""
    text = folder / "ios18" / "model.mil"
    text.parent.mkdir()
    text.write_text(re.sub(r"(func \w+)<ios1[5-8]>", r"\1<ios18>", source.read_text()))
    if has_weights:
        shutil.copytree(folder / "model.weights", text.parent / "model.weights")  # a link would point outside
    package = folder / "ios18.mlpackage"
    if mil("compile", text, "-o", package, ok=False).returncode != 0:
        return None  # an op whose iOS18 form we refuse
    try:
        made_up = fixed_ranges(package)
    except ValueError:
        return None  # coremltools cannot load it at iOS18 (an iOS16 constexpr op whose inputs changed)
    ranges = folder / "ranges.json"
    ranges.write_text(json.dumps(made_up))
    return case, package, text, ranges


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """The recorded op-test programs and the builder programs, moved to iOS18."""
    out = tmp_path_factory.mktemp("quant_harness")
    record.run_pytest(out, MODULES, max_per_test=PER_TEST)
    record.decompile_all(out)
    found = []
    for case_file in sorted((out / "cases").glob("*/case.json")):
        case = json.loads(case_file.read_text())
        folder = case_file.parent
        has_weights = (folder / "model.weights").exists()
        has_activations = case["precision"] == "fp16" and ACTIVATION_OPS & set(case["ops"])
        if case["decompile"] != "ok" or not (has_weights or has_activations):
            continue
        found.append(prepare(case, folder, folder / "model.mil", has_weights))
    for name in builder_programs.NAMES:
        folder = out / "builder" / name
        folder.mkdir(parents=True)
        package = builder_programs.save(name, folder)
        mil("decompile", package, "-o", folder / "model.mil")
        source = (folder / "model.mil").read_text()
        precision = "fp16" if re.search(r"func main<\w+>\(tensor<fp16", source) else "fp32"
        case = {"id": f"builder_{name}", "precision": precision}
        found.append(prepare(case, folder, folder / "model.mil", (folder / "model.weights").exists()))
    return [p for p in found if p is not None]


def test_every_mode_equals_coremltools_on_every_program(programs, tmp_path):
    changed = set()
    failures, refused = [], []
    for case, package, text, ranges in programs:
        unquantized = normal_form(pymil(package))
        for name, mode in MODES.items():
            if not mode.applies(case):
                continue
            try:
                reference = mode.reference(package, json.loads(ranges.read_text()))
            except ValueError as e:  # coremltools' own passes fail on this program: nothing to compare
                refused.append(f"{case['id']} {name}: {str(e)[:200]}")
                continue
            out = tmp_path / case["id"] / name / "model.mil"
            out.parent.mkdir(parents=True)
            extra = ["--statistics", ranges] if isinstance(mode, Activations) else []
            run = mil("quantize", text, *mode.flags, *extra, "--threshold", THRESHOLD, "-o", out, ok=False)
            if run.returncode != 0:
                failures.append(f"{case['id']} {name}: mil quantize: {run.stderr.strip()[:300]}")
                continue
            ours = out.parent / "ours.mlpackage"
            mil("compile", out, "-o", ours)
            try:
                ours_program = pymil(ours)
            except ValueError as e:
                # coremltools' pass also quantises the fp32 `y` of an ios17 mixed-precision matmul (int32 `x`):
                # the result reads two non-const inputs of different dtypes, which its loader refuses.
                refused.append(f"{case['id']} {name}: our package does not load: {str(e)[:200]}")
                continue
            try:
                assert_same_program(reference, ours_program)
            except AssertionError as e:
                failures.append(f"{case['id']} {name}: {str(e)[:600]}")
            if normal_form(reference) != unquantized:
                changed.add(case["id"])
    print(f"{len(programs)} programs, {len(changed)} with something quantised, {len(refused)} runs skipped")
    assert failures == [], "\n".join(failures)
    assert all("mixed_precision" in r or "builder_" in r for r in refused), "\n".join(refused)
    assert len(changed) >= MIN_PROGRAMS, f"only {len(changed)} programs had something to quantise"
