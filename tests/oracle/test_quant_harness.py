"""Every quantisation mode against coremltools over the programs of coremltools' own op tests.

coremltools ships its op unit tests in the wheel; tests/optests/record.py turns each into a recorded
package (the program the test builds, converted by coremltools; docs/op-tests.md). We record the
weight-bearing families (conv, conv_transpose, linear, matmul, pools) at a few parametrizations each,
add the coremltools-builder programs of builder_programs.py (conv nets, transformer blocks,
recurrent layers, control flow, states, ios15–ios18), move each program to iOS18 (so that every mode applies: per-block and 4-bit need it, W8A8 iOS17) by
its function's opset, and save it with `mil compile`. Then for each mode in MODES, coremltools
compresses that package and `mil quantize` the text:

- the linear weight modes and W8A8: coremltools' pass (quant_reference.py); the two programs must be
  equal op by op with bit-identical constants;
- fp16: coremltools converts the package again with `compute_precision=FLOAT16` and only the precision
  passes of its pipeline (`FP16_PASSES`); the graphs must be equal as test_fp16_and_palettize.py's
  `compare_graphs` compares them (nested blocks included), or, for a program with ops whose optional
  inputs coremltools writes at their defaults, as coremltools reads the two packages;
- lut4 and lut8 per tensor: coremltools' `palettize_weights` pass (k-means); the same consts must become
  constexpr_lut_to_dense ops of the same form, our tables no further from the weights than coremltools'
  (test_fp16_and_palettize.py's `compare_palettes`).

A run may be skipped only for a reason in SKIP_KINDS (each documented where it is defined); any other
difference fails. At least 30 programs must have something quantised, and each palettisation mode must
change 30 (fp16: 15; it has something to convert in only ~40).

Adding a mode is one line in MODES: a `Weights` with our flags and coremltools'
`OpLinearQuantizerConfig` arguments, an `Activations` (W8A8 with fixed ranges), a `Palettize(bits)`, or
another `Weights` subclass with `flags`, `applies(case)`, `skip(case, text)`, `reference(package,
ranges)` and `compare(reference, ours, package, unquantized)`. HARNESS_MODES=a,b runs only those modes
(for debugging; the counts are then not asserted).

Needs the `mil` binary (target/release/mil or $MIL_BIN), scipy + pillow (the op tests import them)
and scikit-learn (coremltools' k-means).
"""

import json
import os
import pathlib
import re
import shutil
import sys
import zlib

import coremltools.optimize as cto
import numpy as np
import pytest
from coremltools.converters.mil.mil import types
from coremltools.converters.mil.mil.passes.graph_pass import PassOption
from coremltools.converters.mil.mil.passes.pass_registry import PASS_REGISTRY

import coremltools as ct
from quant_reference import activation_names, normal_form, assert_same_program, pymil, w8a8_reference
from test_fp16_and_palettize import FP16_PASSES, compare_graphs, compare_palettes, fp16_reference
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
# Programs each new mode must change: the palettisations as many as the linear modes; fp16 has something
# to convert in the ~35 fp32 programs and a few fp16 ones with fp32 parts (the op tests' fp16 cases have
# nothing), of which it skips 15.
MIN_CHANGED = {"lut4-per-tensor": MIN_PROGRAMS, "lut8-per-tensor": MIN_PROGRAMS, "fp16": 15}
# Op test weights are small: quantise every const coremltools would at all (10 elements or more).
THRESHOLD = 0


def load_ours(ours):
    """Our saved package as a pymil program."""
    try:
        return pymil(ours)
    except ValueError as e:
        # coremltools' pass also compresses the fp32 `y` of an ios17 mixed-precision matmul (int32 `x`):
        # the result reads two non-const inputs of different dtypes, which its loader refuses.
        raise Skip("mixed-precision matmul", f"our package does not load: {str(e)[:200]}") from e


class Weights:
    """`mil quantize FLAGS` against `linear_quantize_weights` with `OpLinearQuantizerConfig(**config)`."""

    def __init__(self, *flags, **config):
        self.flags, self.config = list(flags), config

    def applies(self, case):
        return True

    def skip(self, case, text):
        return None

    def compare(self, reference, ours, package, unquantized):
        """Asserts `ours` (our saved package) equals `reference`; True if something was quantised."""
        assert_same_program(reference, load_ours(ours))
        return normal_form(reference) != unquantized

    def reference(self, package, ranges):
        config = cto.coreml.OptimizationConfig(global_config=cto.coreml.OpLinearQuantizerConfig(
            weight_threshold=THRESHOLD, **self.config))
        weights = PASS_REGISTRY["compression::linear_quantize_weights"]
        weights.set_options([PassOption("config", config), PassOption("joint_compression", False)])
        return pymil(package, [weights])


class Activations(Weights):
    """`mil quantize --mode w8a8 --statistics RANGES FLAGS` against coremltools' W8A8 passes with the
    same ranges. fp16 programs only: coremltools' suffix pass writes fp16 scales, which an fp32
    activation refuses (docs/quantisation.md)."""

    def __init__(self, *flags, **config):
        self.flags, self.config = ["--mode", "w8a8", *flags], config

    def applies(self, case):
        return case["precision"] == "fp16"

    def reference(self, package, ranges):
        return w8a8_reference(package, ranges, weight_threshold=THRESHOLD, **self.config)


# fp16 runs skipped, by the op in the program's text that makes the difference.
FP16_SKIPS = {
    # coremltools' `const_elimination` folds `fill`/`range_1d` of constants, which the compiled program
    # still has (coremltools' save folded them in the fp32 packages the fp16 test compares); we convert,
    # we do not fold.
    "fp16 const folding": r"= (fill|range_1d)\(",
    # coremltools' backend names the `write_state` it makes of `coreml_update_state` by pymil's op
    # counter, which its loading and fp16 pass move on (coreml_update_state_39_write_state vs _1_): a
    # name only.
    "fp16 state op names": r"\bwrite_state\(|= coreml_update_state\(",
}
# coremltools' `add_int16_cast` (in the fp16 passes from ios16) moves the indices of gather-like ops and
# topk to 16-bit integers; `mil quantize --mode fp16` does not (docs/quantisation.md, FP16 compute
# precision, Differences). Found in coremltools' result: a run whose reference holds an int16/uint16
# value is skipped.
FP16_INT16 = "fp16 int16 indices"
# Ops whose optional inputs coremltools writes at their defaults (`output_dtype` of reduce_argmax/topk,
# `validate_indices` of gather...) where our compile leaves out what the text leaves out: for a program
# with one, the two packages are compared as coremltools reads them (its loader fills the defaults in),
# op by op (quant_reference.py's `assert_same_program`).
DEFAULT_INPUT_OPS = {"reduce_argmax", "reduce_argmin", "topk", "gather", "gather_along_axis", "gather_nd"}


class Fp16(Weights):
    """`mil quantize --mode fp16` against coremltools converting the package again with
    `compute_precision=FLOAT16` (test_fp16_and_palettize.py's `fp16_reference`), compared graph by
    graph with its `compare_graphs`. Every program: an fp16 one must come out as coremltools leaves it."""

    flags = ["--mode", "fp16"]

    def __init__(self):
        pass

    def applies(self, case):
        return True

    def skip(self, case, text):
        for kind, pattern in FP16_SKIPS.items():
            if re.search(pattern, text):
                return kind
        return None

    def reference(self, package, ranges):
        return fp16_reference(package, ct.target.iOS18, package.parent / "fp16_reference.mlpackage", FP16_PASSES)

    def compare(self, reference, ours, package, unquantized):
        ops = pymil(reference).functions["main"].operations
        if any(types.is_int(v.dtype) and types.builtin_to_string(v.dtype) in ("int16", "uint16")
               for op in ops for v in op.outputs if types.is_tensor(v.sym_type) or types.is_scalar(v.sym_type)):
            raise Skip(FP16_INT16, "")
        if DEFAULT_INPUT_OPS & {op.op_type for op in ops}:
            assert_same_program(pymil(reference), pymil(ours))
        else:
            compare_graphs(reference, ours, require_change=False)
        return any(op.op_type == "cast" for op in ops) and normal_form(pymil(reference)) != unquantized


class Palettize(Weights):
    """`mil quantize --mode lutN` (per tensor) against `palettize_weights` with k-means
    `OpPalettizerConfig(nbits=N)`: the same consts become constexpr_lut_to_dense ops of the same form,
    and our tables are no further from the weights than coremltools' (test_fp16_and_palettize.py's
    `compare_palettes`)."""

    def __init__(self, bits):
        self.flags, self.bits = ["--mode", f"lut{bits}"], bits

    def reference(self, package, ranges):
        config = cto.coreml.OptimizationConfig(global_config=cto.coreml.OpPalettizerConfig(
            mode="kmeans", nbits=self.bits, granularity="per_tensor", weight_threshold=THRESHOLD))
        palettize = PASS_REGISTRY["compression::palettize_weights"]
        palettize.set_options([PassOption("config", config), PassOption("joint_compression", False)])
        return pymil(package, [palettize])

    def compare(self, reference, ours, package, unquantized):
        return compare_palettes(pymil(package), reference, load_ours(ours)) > 0


class Skip(Exception):
    """A run whose difference from coremltools is one of SKIP_KINDS."""

    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind = kind


# The only reasons a run may be skipped; any other difference fails the test.
SKIP_KINDS = {
    # coremltools' own pass raises ValueError on the program: nothing to compare (builder programs, and
    # fp16 of the mixed-precision matmuls: its fp16 `y` then differs from the int32 `x`).
    "coremltools refuses",
    # coremltools' pass (and ours) quantises the fp32 `y` of an ios17 matmul whose `x` is int32; the
    # result reads two non-const inputs of different dtypes, which coremltools' loader refuses.
    "mixed-precision matmul",
    *FP16_SKIPS,
    FP16_INT16,
}

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
    "fp16": Fp16(),
    "lut4-per-tensor": Palettize(4),
    "lut8-per-tensor": Palettize(8),
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
    changed = {name: set() for name in MODES}
    failures, skipped, compared = [], {}, 0
    only = os.environ.get("HARNESS_MODES")  # a comma-separated subset of MODES, when debugging
    for case, package, text, ranges in programs:
        unquantized = normal_form(pymil(package))
        source = text.read_text()
        for name, mode in MODES.items():
            if not mode.applies(case) or (only and name not in only.split(",")):
                continue
            try:
                kind = mode.skip(case, source)
                if kind:
                    raise Skip(kind, "")
                try:
                    reference = mode.reference(package, json.loads(ranges.read_text()))
                except ValueError as e:
                    raise Skip("coremltools refuses", f"{type(e).__name__}: {str(e)[:200]}") from e
                out = tmp_path / case["id"] / name / "model.mil"
                out.parent.mkdir(parents=True)
                extra = ["--statistics", ranges] if isinstance(mode, Activations) else []
                run = mil("quantize", text, *mode.flags, *extra, "--threshold", THRESHOLD, "-o", out, ok=False)
                if run.returncode != 0:
                    failures.append(f"{case['id']} {name}: mil quantize: {run.stderr.strip()[:300]}")
                    continue
                ours = out.parent / "ours.mlpackage"
                mil("compile", out, "-o", ours)
                compared += 1
                if mode.compare(reference, ours, package, unquantized):
                    changed[name].add(case["id"])
            except Skip as e:
                assert e.kind in SKIP_KINDS, e.kind
                skipped.setdefault(e.kind, []).append(f"{case['id']} {name}: {e}")
            except AssertionError as e:
                failures.append(f"{case['id']} {name}: {str(e)[:600]}")
    print(f"{len(programs)} programs, {compared} runs compared, {len(set().union(*changed.values()))} programs "
          "with something quantised; by mode: "
          + ", ".join(f"{n} {len(c)}" for n, c in changed.items())
          + "; skipped: " + (", ".join(f"{k} {len(v)}" for k, v in skipped.items()) or "none"))
    for kind, runs in skipped.items():
        print(f"skipped ({kind}):\n  " + "\n  ".join(runs))
    assert failures == [], "\n".join(failures)
    # The mixed-precision matmuls are op tests.
    assert all("mixed_precision" in r for r in skipped.get("mixed-precision matmul", [])), skipped
    # coremltools refuses builder programs, and fp16 of the mixed-precision matmuls (its fp16 `y` then
    # differs from the int32 `x`).
    assert all("builder_" in r or "mixed_precision" in r and " fp16:" in r
               for r in skipped.get("coremltools refuses", [])), skipped
    assert len(set().union(*changed.values())) >= MIN_PROGRAMS or only, f"fewer than {MIN_PROGRAMS} programs changed"
    for name, least in MIN_CHANGED.items():
        assert only or len(changed[name]) >= least, f"{name}: only {len(changed[name])} programs had something to change"
