"""Writes the fixtures of mil-proto's tests into proto/tests/data/, each made by coremltools or Python:

- coremltools_weight.{bin,json}: a weight file written by coremltools' own blob writer (one blob of every
  dtype it can write, odd element counts so sub-byte payloads are padded) and what was written into it.
  mil-proto's tests read the file and re-write it byte for byte.
- coremltools_Manifest.json: the manifest of a package saved by coremltools.
- python_Manifest.json: a manifest with unusual strings, as Python's json.dumps(indent=4, sort_keys=True)
  writes it (the function coremltools' manifests follow).

Run from the repository root: .venv/bin/python tests/oracle/make_fixtures.py
"""

import json
import pathlib
import tempfile

import numpy as np
import coremltools as ct
from coremltools import libmilstoragepython as storage
from coremltools.converters.mil import Builder as mb

OUT = pathlib.Path(__file__).resolve().parents[2] / "proto" / "tests" / "data"

BLOBS = [
    ("fp16", "write_fp16_data", np.array([0.5, -2.0, 65504.0, 1e-7, 3.0], dtype=np.float16)),
    ("fp32", "write_float_data", np.array([1.5, -0.0, 3.4e38, 1e-45, -1e30, 7.25, 2.0], dtype=np.float32)),
    ("int8", "write_int8_data", np.array([-128, -1, 0, 1, 127], dtype=np.int8)),
    ("uint8", "write_uint8_data", np.array([0, 1, 128, 255, 7, 9, 11, 13, 15, 17, 19], dtype=np.uint8)),
    ("int16", "write_int16_data", np.array([-32768, 32767, 5], dtype=np.int16)),
    ("uint16", "write_uint16_data", np.array([65535, 0, 300], dtype=np.uint16)),
    ("int32", "write_int32_data", np.array([-(2**31), 2**31 - 1, 42], dtype=np.int32)),
    ("uint32", "write_uint32_data", np.array([2**32 - 1, 0, 77], dtype=np.uint32)),
    ("int4", "write_int4_data", np.array([-8, 7, -1, 0, 3], dtype=np.int8)),
    ("uint1", "write_uint1_data", np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=np.uint8)),
    ("uint2", "write_uint2_data", np.array([3, 0, 1, 2, 3, 1, 0], dtype=np.uint8)),
    ("uint3", "write_uint3_data", np.array([7, 0, 5, 2, 1], dtype=np.uint8)),
    ("uint4", "write_uint4_data", np.array([15, 0, 9], dtype=np.uint8)),
    ("uint6", "write_uint6_data", np.array([63, 0, 33, 12, 5], dtype=np.uint8)),
]


def write_weight_file():
    path = OUT / "coremltools_weight.bin"
    writer = storage._BlobStorageWriter(str(path))
    entries = []
    for dtype, method, values in BLOBS:
        # coremltools' fp16 writer takes the bit patterns as uint16
        raw = values.view(np.uint16) if dtype == "fp16" else values
        offset = getattr(writer, method)(raw)
        entries.append({"dtype": dtype, "offset": offset, "values": values.tolist()})
    del writer  # the header's count is written when the writer is destroyed
    (OUT / "coremltools_weight.json").write_text("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]" + "\n")


def write_manifests():
    @mb.program(input_specs=[mb.TensorSpec(shape=(3,))], opset_version=ct.target.iOS17)
    def prog(x):
        return mb.relu(x=x)

    model = ct.convert(prog, minimum_deployment_target=ct.target.iOS17, skip_model_load=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "relu.mlpackage"
        model.save(str(path))
        (OUT / "coremltools_Manifest.json").write_bytes((path / "Manifest.json").read_bytes())

    odd = "quote \" backslash \\ tab \t newline \n nul \x00 del \x7f é 😀"
    manifest = {
        "fileFormatVersion": "1.0.0",
        "itemInfoEntries": {
            "B-item": {"path": "x/" + odd, "name": odd, "author": "a", "description": "d"},
            "A-root": {"path": "p", "name": "n", "author": odd, "description": "é"},
        },
        "rootModelIdentifier": "A-root",
    }
    (OUT / "python_Manifest.json").write_text(json.dumps(manifest, indent=4, sort_keys=True) + "\n")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write_weight_file()
    write_manifests()
