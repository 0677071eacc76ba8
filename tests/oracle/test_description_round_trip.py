"""What the MIL text alone cannot say survives `mil decompile` → `mil compile`: the model description's
metadata (author, license, version, short description, user-defined entries), feature descriptions,
an ImageType input (colour layout, size, flexible sizes), a classifier's outputs (string or int64
labels, the probability dictionary, predictedFeatureName / predictedProbabilitiesName), input shape
ranges; and a quantised model's weight file keeps coremltools' blob order and offsets.

Each model is built by coremltools (`ct.convert` of a MIL builder program, then metadata set on the
MLModel), saved, decompiled and compiled back with the `mil` binary; the recompiled Model proto must
equal coremltools' (`==` on the protobuf messages, every field), the weight file must be the same
bytes, and the package must load in coremltools (MLModel without the runtime, and the milproto
loader). Compiler output with `FlexibleShapeInformation` (shared/corpus/004_fa_transpose.mil)
compiles to a package whose shape ranges have the text's bounds and that coremltools loads.

Needs the `mil` binary: target/release/mil (scripts/test builds it) or $MIL_BIN.
"""

import os
import pathlib
import subprocess

import coremltools as ct
import numpy as np
import pytest
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import get_new_symbol, types

from package_checks import load_with_coremltools, read_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))
SHARED = pathlib.Path(os.environ.get("MIL_SHARED_DIR", ROOT.parent / "shared"))
RNG = np.random.default_rng(18)


def mil(*args, expect=0):
    run = subprocess.run([MIL, *map(str, args)], capture_output=True, text=True)
    assert run.returncode == expect, f"mil {' '.join(map(str, args))} exited {run.returncode}:\n{run.stderr[:4000]}"
    return run


def weight_bytes(package):
    path = pathlib.Path(package) / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    return path.read_bytes() if path.exists() else b""


def round_trip(original, tmp_path):
    """Decompiles `original` and compiles the text back; returns (text, recompiled package)."""
    text = tmp_path / "out" / "model.mil"
    text.parent.mkdir()
    mil("decompile", original, "-o", text)
    ours = tmp_path / "ours.mlpackage"
    mil("check", text)
    mil("compile", text, "-o", ours)
    return text, ours


def assert_same_package(original, ours):
    assert read_model(ours) == read_model(original)
    assert weight_bytes(ours) == weight_bytes(original)
    ct.models.MLModel(str(ours), skip_model_load=True)
    load_with_coremltools(ours)


def pooled_linear(opset):
    """x: (1, 3, 8, 8) → mean over H, W → linear to 4 scores."""

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 3, 8, 8))], opset_version=opset)
    def prog(x):
        m = mb.reduce_mean(x=x, axes=[2, 3])
        return mb.linear(x=m, weight=RNG.random((4, 3)).astype(np.float32), bias=RNG.random(4).astype(np.float32))

    return prog


def with_metadata(model):
    model.author = "MIL tools"
    model.license = "MIT"
    model.short_description = "four scores of an 8×8 image"
    model.version = "1.2.3"
    model.user_defined_metadata["dataset"] = "none"
    model.input_description["x"] = "an RGB image"
    return model


@pytest.mark.parametrize("labels", [["cat", "dog", "owl", "yak"], [3, 1, 4, 15]], ids=["string_labels", "int64_labels"])
def test_image_classifier_with_metadata(tmp_path, labels):
    model = ct.convert(
        pooled_linear(ct.target.iOS16),
        inputs=[ct.ImageType(name="x", shape=(1, 3, 8, 8), color_layout=ct.colorlayout.BGR, scale=1 / 255.0)],
        classifier_config=ct.ClassifierConfig(labels),
        minimum_deployment_target=ct.target.iOS16,
        convert_to="mlprogram",
    )
    original = tmp_path / "classifier.mlpackage"
    with_metadata(model).save(str(original))
    spec = read_model(original)
    assert spec.description.input[0].type.WhichOneof("Type") == "imageType"
    assert spec.description.predictedFeatureName == "classLabel"
    text, ours = round_trip(original, tmp_path)
    assert "coreml_model_description" in text.read_text()
    assert_same_package(original, ours)
    back = read_model(ours).description
    assert back.metadata.author == "MIL tools" and back.metadata.userDefined["dataset"] == "none"
    assert back.input[0].type.imageType.colorSpace == ct.proto.FeatureTypes_pb2.ImageFeatureType.BGR
    assert back.input[0].shortDescription == "an RGB image"
    label_kind = back.output[0].type.WhichOneof("Type")
    assert label_kind == ("stringType" if isinstance(labels[0], str) else "int64Type")


def test_flexible_image_sizes_and_shape_ranges(tmp_path):
    @mb.program(
        input_specs=[
            mb.TensorSpec(shape=(1, 3, get_new_symbol(), get_new_symbol())),
            mb.TensorSpec(shape=(1, get_new_symbol())),
        ],
        opset_version=ct.target.iOS17,
    )
    def prog(image, tokens):
        return mb.reduce_mean(x=image, axes=[2, 3]), mb.relu(x=tokens)

    height, width = ct.RangeDim(8, 64, default=16), ct.RangeDim(8, 128, default=16)
    model = ct.convert(
        prog,
        inputs=[
            ct.ImageType(name="image", shape=(1, 3, height, width), color_layout=ct.colorlayout.RGB),
            ct.TensorType(name="tokens", shape=(1, ct.RangeDim(1, 512, default=5))),
        ],
        minimum_deployment_target=ct.target.iOS17,
        convert_to="mlprogram",
    )
    original = tmp_path / "flexible.mlpackage"
    model.save(str(original))
    tokens = read_model(original).description.input[1].type.multiArrayType
    assert [(r.lowerBound, r.upperBound) for r in tokens.shapeRange.sizeRanges] == [(1, 1), (1, 512)]
    _, ours = round_trip(original, tmp_path)
    assert_same_package(original, ours)


def test_quantised_weights_keep_coremltools_blob_order(tmp_path):
    """coremltools writes constexpr_blockwise_shift_scale's data, scale, offset in that order; the keys
    sorted would give data, offset, scale: the recompiled weight file has coremltools' offsets."""

    @mb.program(input_specs=[mb.TensorSpec(shape=(2, 16), dtype=types.fp16)], opset_version=ct.target.iOS18)
    def prog(x):
        w = mb.constexpr_blockwise_shift_scale(
            data=RNG.integers(-128, 127, (16, 16), dtype=np.int8),
            scale=RNG.random((16, 2)).astype(np.float16),
            offset=RNG.integers(-8, 8, (16, 2), dtype=np.int8),
        )
        return mb.linear(x=x, weight=w)

    model = ct.convert(prog, minimum_deployment_target=ct.target.iOS18, convert_to="mlprogram")
    original = tmp_path / "int8.mlpackage"
    model.save(str(original))
    op = next(
        op
        for op in read_model(original).mlProgram.functions["main"].block_specializations["CoreML8"].operations
        if op.type == "constexpr_blockwise_shift_scale"
    )
    offsets = [op.inputs[k].arguments[0].value.blobFileValue.offset for k in ("data", "scale", "offset")]
    assert 0 < offsets[0] < offsets[1] < offsets[2], f"not the order this test is about: {offsets}"
    text, ours = round_trip(original, tmp_path)
    assert_same_package(original, ours)
    weights = text.parent / "model.weights" / "weight.bin"
    assert weights.read_bytes() == weight_bytes(original)


def test_compiler_output_with_flexible_shapes_keeps_its_bounds(tmp_path):
    source = SHARED / "corpus" / "004_fa_transpose.mil"
    assert source.exists(), f"the shared corpus is not at {source} (set MIL_SHARED_DIR)"
    package = tmp_path / "fa.mlpackage"
    mil("compile", source, "-o", package)
    load_with_coremltools(package)
    ct.models.MLModel(str(package), skip_model_load=True)
    x = read_model(package).description.input[0].type.multiArrayType
    assert [(r.lowerBound, r.upperBound) for r in x.shapeRange.sizeRanges] == [(1, 1), (1, 2048), (1, 2048)]
    assert list(x.shape) == [1, 1, 1]
