"""Checks of a written .mlpackage: coremltools' milproto loader (which re-runs every op's validation and
type inference and reads every blob) plus the checks that loader skips (shared/docs/mlpackage.md):
the manifest's form, const output types, description vs program, unique names, blob file names,
alignment and count, and the specificationVersion / opset table.
"""

import json
import pathlib
import shutil
import struct
import tempfile
import uuid

from coremltools.converters.mil.frontend.milproto.load import load as milproto_load
from coremltools.proto import FeatureTypes_pb2, MIL_pb2, Model_pb2

OPSET_OF_SPEC_VERSION = {6: "CoreML5", 7: "CoreML6", 8: "CoreML7", 9: "CoreML8", 10: "CoreML9"}
ARRAY_DTYPE = {
    MIL_pb2.FLOAT32: FeatureTypes_pb2.ArrayFeatureType.FLOAT32,
    MIL_pb2.FLOAT16: FeatureTypes_pb2.ArrayFeatureType.FLOAT16,
    MIL_pb2.FLOAT64: FeatureTypes_pb2.ArrayFeatureType.DOUBLE,
    MIL_pb2.INT32: FeatureTypes_pb2.ArrayFeatureType.INT32,
    MIL_pb2.INT8: FeatureTypes_pb2.ArrayFeatureType.INT8,
}
WEIGHT_FILE = "@model_path/weights/weight.bin"


def read_model(package):
    path = pathlib.Path(package) / "Data" / "com.apple.CoreML" / "model.mlmodel"
    return Model_pb2.Model.FromString(path.read_bytes())


def load_with_coremltools(package):
    """coremltools' milproto loader on a copy of the package (it may rewrite what it opens)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = pathlib.Path(tmp) / pathlib.Path(package).name
        shutil.copytree(package, copy)
        spec = read_model(copy)
        weights = copy / "Data" / "com.apple.CoreML" / "weights"
        return milproto_load(spec, spec.specificationVersion, str(weights))


def manifest_problems(package):
    package = pathlib.Path(package)
    text = (package / "Manifest.json").read_text()
    manifest = json.loads(text)
    problems = []
    if text != json.dumps(manifest, indent=4, sort_keys=True) + "\n":
        problems.append("Manifest.json is not json.dumps(indent=4, sort_keys=True) + newline")
    if manifest.get("fileFormatVersion") != "1.0.0":
        problems.append(f"fileFormatVersion {manifest.get('fileFormatVersion')!r}")
    entries = manifest.get("itemInfoEntries", {})
    for key, entry in entries.items():
        if uuid.UUID(key).version != 4 or str(uuid.UUID(key)) != key:
            problems.append(f"identifier {key} is not a lower-case uuid4")
        for field in ("path", "name", "author", "description"):
            if not isinstance(entry.get(field), str):
                problems.append(f"entry {key} lacks {field}")
        if not (package / "Data" / entry.get("path", "")).exists():
            problems.append(f"entry {key}: Data/{entry.get('path')} does not exist")
    root = entries.get(manifest.get("rootModelIdentifier"), {})
    if root.get("path") != "com.apple.CoreML/model.mlmodel":
        problems.append("the root model is not com.apple.CoreML/model.mlmodel")
    return problems


def value_type_problems(value_type, declared, where):
    return [] if value_type == declared else [f"{where}: value type {value_type} differs from {declared}"]


def blocks_of(block):
    yield block
    for op in block.operations:
        for nested in op.blocks:
            yield from blocks_of(nested)


def program_problems(spec):
    problems = []
    program = spec.mlProgram
    expected_opset = OPSET_OF_SPEC_VERSION.get(spec.specificationVersion)
    if expected_opset is None:
        problems.append(f"specificationVersion {spec.specificationVersion} is not 6..10")
    for fname, function in program.functions.items():
        if function.opset != expected_opset:
            problems.append(f"{fname}: opset {function.opset} with specificationVersion {spec.specificationVersion}")
        if list(function.block_specializations) != [function.opset]:
            problems.append(f"{fname}: block specializations {list(function.block_specializations)}")
        names = [i.name for i in function.inputs]
        op_names = []
        for block in blocks_of(function.block_specializations[function.opset]):
            for op in block.operations:
                names += [o.name for o in op.outputs]
                # The blocks of one op may name their parameters alike (coremltools' while_loop does).
                names += list(dict.fromkeys(i.name for nested in op.blocks for i in nested.inputs))
                if "name" not in op.attributes:
                    problems.append(f"{fname}: a {op.type} op has no name attribute")
                else:
                    op_names.append(op.attributes["name"].immediateValue.tensor.strings.values[0])
                if op.type == "const":
                    if op.inputs or set(op.attributes) != {"name", "val"} or len(op.outputs) != 1:
                        problems.append(f"{fname}: const {op.outputs[0].name} is not {{name, val}} -> one output")
                    else:
                        problems += value_type_problems(op.attributes["val"].type, op.outputs[0].type, op.outputs[0].name)
        for dup in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{fname}: value name {dup} defined twice")
        for dup in sorted({n for n in op_names if op_names.count(n) > 1}):
            problems.append(f"{fname}: op name {dup} used twice")
    return problems


def feature_problems(features, named_types, where):
    problems = []
    if [f.name for f in features] != [n for n, _ in named_types]:
        return [f"{where}: names {[f.name for f in features]} vs program {[n for n, _ in named_types]}"]
    for feature, (name, value_type) in zip(features, named_types):
        tensor = value_type.tensorType
        array = feature.type.multiArrayType
        if value_type.WhichOneof("type") == "stateType":
            tensor = value_type.stateType.wrappedType.tensorType
            array = feature.type.stateType.arrayType
        shape = [d.constant.size for d in tensor.dimensions]
        if list(array.shape) != shape or array.dataType != ARRAY_DTYPE.get(tensor.dataType):
            problems.append(f"{where} {name}: {list(array.shape)} {array.dataType} vs {shape} {tensor.dataType}")
    return problems


def function_features(function):
    """The (inputs, states, outputs) a function's description must list, as (name, ValueType) pairs."""
    block = function.block_specializations[function.opset]
    types = {i.name: i.type for i in function.inputs}
    for op in block.operations:
        for o in op.outputs:
            types[o.name] = o.type
    inputs = [(i.name, i.type) for i in function.inputs if i.type.WhichOneof("type") != "stateType"]
    states = [(i.name, i.type) for i in function.inputs if i.type.WhichOneof("type") == "stateType"]
    outputs = [(name, types[name]) for name in block.outputs]
    return inputs, states, outputs


def features_problems(described, function, where):
    inputs, states, outputs = function_features(function)
    return (
        feature_problems(described.input, inputs, f"{where}input")
        + feature_problems(described.state, states, f"{where}state")
        + feature_problems(described.output, outputs, f"{where}output")
    )


def description_problems(spec):
    program = spec.mlProgram
    description = spec.description
    if len(program.functions) == 1:
        (function,) = program.functions.values()
        return features_problems(description, function, "")
    problems = []
    if description.input or description.output or description.state:
        problems.append("a multi-function description lists top-level features")
    if description.defaultFunctionName not in program.functions:
        problems.append(f"default function {description.defaultFunctionName!r} is not a function")
    if sorted(f.name for f in description.functions) != sorted(program.functions):
        problems.append("the description's functions are not the program's")
    for described in description.functions:
        if described.name in program.functions:
            problems += features_problems(described, program.functions[described.name], f"{described.name} ")
    return problems


def blob_offsets(value, found):
    if value.WhichOneof("value") == "blobFileValue":
        found.append((value.blobFileValue.fileName, value.blobFileValue.offset))


def weight_file_problems(package, spec):
    refs = []
    for function in spec.mlProgram.functions.values():
        for block in blocks_of(function.block_specializations[function.opset]):
            for op in block.operations:
                for value in op.attributes.values():
                    blob_offsets(value, refs)
                for argument in op.inputs.values():
                    for binding in argument.arguments:
                        if binding.WhichOneof("binding") == "value":
                            blob_offsets(binding.value, refs)
    problems = [f"blob file name {name}" for name, _ in refs if name != WEIGHT_FILE]
    path = pathlib.Path(package) / "Data" / "com.apple.CoreML" / "weights" / "weight.bin"
    if not refs:
        return problems + (["weight.bin without references"] if path.exists() else [])
    data = path.read_bytes()
    count, version = struct.unpack_from("<II", data, 0)
    if version != 2:
        problems.append(f"weight.bin version {version}")
    records, offset = [], 64
    while offset < len(data):
        sentinel, _, size, data_offset = struct.unpack_from("<IIQQ", data, offset)
        if sentinel != 0xDEADBEEF or data_offset != offset + 64:
            problems.append(f"no record at {offset}")
            break
        records.append(offset)
        end = data_offset + size
        if end != len(data) and any(data[end : (end + 63) // 64 * 64]):
            problems.append(f"gap after the blob at {offset} is not zero")
        offset = (end + 63) // 64 * 64
    if count != len(records):
        problems.append(f"header counts {count} blobs, the file has {len(records)}")
    problems += [f"offset {o} is not a record" for _, o in refs if o not in records]
    return problems


def package_problems(package):
    """Everything the milproto loader does not check, as a list of sentences (empty when fine)."""
    spec = read_model(package)
    return (
        manifest_problems(package)
        + program_problems(spec)
        + description_problems(spec)
        + weight_file_problems(package, spec)
    )
