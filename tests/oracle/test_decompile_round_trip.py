"""Packages saved by coremltools survive `mil decompile` → `mil compile`.

Every program of builder_programs.py (ios15–ios18: conv nets, transformer blocks, LSTM/GRU/RNN,
quantised constexpr weights of each kind, sdpa, states, several functions, cond/while_loop) is saved by
coremltools, decompiled by `mil decompile`, and compiled back by `mil compile`. The package we write
then (a) loads with coremltools' milproto loader, (b) passes the checks that loader skips
(package_checks.py), (c) equals the original op by op — types, inputs, outputs, attributes, nested
blocks — with bit-identical constants (inline values equal as messages, weight-file values equal byte
for byte with the same dtype code), and (d) decompiles to the same text, so text → package → text is
the identity. Every sample in samples/ compiles and loads too.

Needs the `mil` binary: target/release/mil (scripts/test builds it) or $MIL_BIN.
"""

import os
import pathlib
import struct
import subprocess

import pytest

import builder_programs
from package_checks import load_with_coremltools, package_problems, read_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))
SAMPLES = sorted((ROOT / "samples").glob("*.mil"))


def mil(*args):
    run = subprocess.run([MIL, *map(str, args)], capture_output=True, text=True)
    assert run.returncode == 0, f"mil {' '.join(map(str, args))} exited {run.returncode}:\n{run.stderr[:4000]}"


@pytest.fixture(scope="session")
def originals(tmp_path_factory):
    """Folder holding every builder program, saved by coremltools."""
    folder = tmp_path_factory.mktemp("coremltools_packages")
    for name in builder_programs.NAMES:
        builder_programs.save(name, folder)
    return folder


@pytest.fixture(scope="session")
def round_trips(originals, tmp_path_factory):
    """name → (original package, decompiled text, our package, text decompiled from our package)."""
    work = tmp_path_factory.mktemp("round_trips")
    found = {}

    def run(name):
        if name not in found:
            text = work / name / "model.mil"
            text.parent.mkdir()
            mil("decompile", originals / f"{name}.mlpackage", "-o", text)
            ours = work / f"{name}.mlpackage"
            mil("compile", text, "-o", ours)
            again = work / f"{name}_again" / "model.mil"
            again.parent.mkdir()
            mil("decompile", ours, "-o", again)
            found[name] = (originals / f"{name}.mlpackage", text, ours, again)
        return found[name]

    return run


def weight_bytes(package):
    path = pathlib.Path(package) / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    return path.read_bytes() if path.exists() else b""


class Side:
    """One package's model and weight file, with its values resolved for comparison."""

    def __init__(self, package):
        self.spec = read_model(package)
        self.weights = weight_bytes(package)

    def value(self, value):
        if value.WhichOneof("value") == "blobFileValue":
            offset = value.blobFileValue.offset
            sentinel, dtype, size, data = struct.unpack_from("<IIQQ", self.weights, offset)
            assert sentinel == 0xDEADBEEF, f"no blob record at {offset}"
            return ("blob", value.type.SerializeToString(), dtype, self.weights[data : data + size])
        return ("inline", value.SerializeToString(deterministic=True))

    def binding(self, binding):
        if binding.WhichOneof("binding") == "name":
            return ("name", binding.name)
        return self.value(binding.value)


def compare_values(a, b, side_a, side_b, where):
    assert sorted(a) == sorted(b), f"{where}: keys {sorted(a)} vs {sorted(b)}"
    for key in a:
        assert side_a.value(a[key]) == side_b.value(b[key]), f"{where}: {key} differs"


def compare_blocks(a, b, side_a, side_b, where):
    assert list(a.inputs) == list(b.inputs), f"{where}: block inputs"
    assert list(a.outputs) == list(b.outputs), f"{where}: block outputs"
    assert [op.type for op in a.operations] == [op.type for op in b.operations], f"{where}: op types"
    for op_a, op_b in zip(a.operations, b.operations):
        here = f"{where}/{op_a.outputs[0].name if op_a.outputs else op_a.type}"
        assert list(op_a.outputs) == list(op_b.outputs), f"{here}: outputs"
        assert sorted(op_a.inputs) == sorted(op_b.inputs), f"{here}: input keys"
        for key in op_a.inputs:
            bindings_a = [side_a.binding(x) for x in op_a.inputs[key].arguments]
            bindings_b = [side_b.binding(x) for x in op_b.inputs[key].arguments]
            assert bindings_a == bindings_b, f"{here}: input {key} differs"
        compare_values(op_a.attributes, op_b.attributes, side_a, side_b, f"{here} attributes")
        assert len(op_a.blocks) == len(op_b.blocks), f"{here}: nested blocks"
        for i, (block_a, block_b) in enumerate(zip(op_a.blocks, op_b.blocks)):
            compare_blocks(block_a, block_b, side_a, side_b, f"{here}/block{i}")


def compare_programs(original, ours):
    a, b = Side(original), Side(ours)
    assert a.spec.specificationVersion == b.spec.specificationVersion
    program_a, program_b = a.spec.mlProgram, b.spec.mlProgram
    compare_values(program_a.attributes, program_b.attributes, a, b, "program attributes")
    assert sorted(program_a.functions) == sorted(program_b.functions)
    for name, fa in program_a.functions.items():
        fb = program_b.functions[name]
        assert fa.opset == fb.opset, name
        assert list(fa.inputs) == list(fb.inputs), f"{name}: inputs"
        compare_values(fa.attributes, fb.attributes, a, b, f"{name} attributes")
        compare_blocks(fa.block_specializations[fa.opset], fb.block_specializations[fb.opset], a, b, name)


def test_the_suite_is_broad():
    names = builder_programs.NAMES
    assert len(names) >= 40
    for opset in ("ios15", "ios16", "ios17", "ios18"):
        assert sum(n.endswith(opset) for n in names) >= 4, opset


@pytest.mark.parametrize("name", builder_programs.NAMES)
def test_decompiled_package_compiles_back_to_the_same_model_and_weight_file(round_trips, name):
    """The whole Model proto (description with coremltools' metadata, specification version,
    program) is equal, and the weight file is the same byte for byte: every blob at its offset."""
    original, _, ours, _ = round_trips(name)
    assert read_model(ours) == read_model(original)
    assert weight_bytes(ours) == weight_bytes(original)


@pytest.mark.parametrize("name", builder_programs.NAMES)
def test_decompiled_package_compiles_back_to_the_same_program(round_trips, name):
    original, text, ours, again = round_trips(name)
    load_with_coremltools(ours)
    assert package_problems(ours) == []
    compare_programs(original, ours)
    assert again.read_text() == text.read_text()


def test_multifunction_description_names_every_function(round_trips):
    _, text, ours, _ = round_trips("multifunction_ios18")
    spec = read_model(ours)
    assert spec.description.defaultFunctionName == "main"
    assert sorted(f.name for f in spec.description.functions) == ["gate", "main"]
    assert "func gate<ios18>" in text.read_text()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_compiles_and_loads(sample, tmp_path):
    package = tmp_path / f"{sample.stem}.mlpackage"
    mil("compile", sample, "-o", package)
    assert package_problems(package) == []
    load_with_coremltools(package)
