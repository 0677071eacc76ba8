#!/usr/bin/env python3
"""Generate ir/src/catalogue/generated.rs, the op tables of mil-ir, from coremltools' op registry.

Usage (from anywhere):
    python3 tools/gen_catalogue.py [REGISTRY] [--check]

REGISTRY defaults to ../shared/reference/op_registry.json relative to the repository root; it is the
JSON written by shared/reference/dump_ops.py from coremltools' SSAOpRegistry. With --check the script
writes nothing: it exits 1 when generated.rs differs from what it would write.

Every op of the iOS15..iOS18 opsets is emitted with each of its versions. A version is one coremltools
class: consecutive opsets that register the same class share it, and an op whose class changes in a
later opset (conv in iOS17, gru in iOS18, ...) gets a new version from that opset on. Ops that Core ML
writes but coremltools does not register (RUNTIME_OPS below) are added by hand. Output is sorted and
free of timestamps and paths, so regeneration is byte-identical. Python standard library only.
"""

import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_REGISTRY = os.path.join(REPO, "..", "shared", "reference", "op_registry.json")
OUTPUT = os.path.join(REPO, "ir", "src", "catalogue", "generated.rs")

# Registry opset key -> Rust `Opset` variant. ios26 has no ops of its own: it uses iOS18's.
OPSETS = {"iOS15": "Ios15", "iOS16": "Ios16", "iOS17": "Ios17", "iOS18": "Ios18"}

# coremltools input-type class -> Rust `InputKind` variant.
KINDS = {
    "TensorInputType": "Tensor",
    "ListInputType": "List",
    "TupleInputType": "Tuple",
    "ListOrTensorOrDictInputType": "ListOrTensorOrDict",
    "StateInputType": "State",
    "PyFunctionInputType": "Block",
    "InternalInputType": "Internal",
    "TensorBufferInputType": "TensorBuffer",
}

# Registry dtype names -> Rust `DType` variants (the names are MIL text's dtype names).
DTYPES = {
    "bool": "Bool", "string": "String", "fp16": "Fp16", "fp32": "Fp32", "fp64": "Fp64", "bf16": "Bf16",
    "int4": "Int4", "int8": "Int8", "int16": "Int16", "int32": "Int32", "int64": "Int64",
    "uint1": "UInt1", "uint2": "UInt2", "uint3": "UInt3", "uint4": "UInt4", "uint6": "UInt6",
    "uint8": "UInt8", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
}

# Placeholders dump_ops.py writes instead of a default value.
DEPENDS_ON_INPUTS = "<depends on other inputs, see defaults_depend_on_inputs>"
HANDLED_BY_OP = "<not in default_inputs(); handled in op>"

CLASS_PREFIX = "coremltools.converters.mil.mil.ops.defs."

# Ops of Core ML's own output that coremltools' registry lacks, in the registry's per-opset format.
#  - tensor_buffer_to_tensor / tensor_to_tensor_buffer: runtime analytics files
#    (shared/corpus/016_m6_ctx_lstm.mil, shared/corpus/analytics/*.mil) always pin them `<ios17>`,
#    inside ios18 functions, with exactly these inputs: `input`, and for tensor_to_tensor_buffer the
#    const `strides` (int64) and `interleave_factors` (uint8) that reappear in the tensor_buffer type.
#  - write_state: coremltools' MIL backend (backend/mil/load.py, translate_coreml_update_state_op)
#    writes the iOS18 dialect op coreml_update_state(state, value) as write_state(input, data); its
#    data domain is coreml_update_state's `T` (dialect_ops in the registry).
RUNTIME_OPS = {
    "tensor_buffer_to_tensor": {
        "opsets": ["iOS17", "iOS18"],
        "inputs": [
            {"name": "input", "kind": "TensorBufferInputType", "const": False, "optional": False},
        ],
        "type_domains": {},
    },
    "tensor_to_tensor_buffer": {
        "opsets": ["iOS17", "iOS18"],
        "inputs": [
            {"name": "input", "kind": "TensorInputType", "const": False, "optional": False,
             "dtypes": "@any"},
            {"name": "interleave_factors", "kind": "TensorInputType", "const": True,
             "optional": False, "dtypes": ["uint8"]},
            {"name": "strides", "kind": "TensorInputType", "const": True, "optional": False,
             "dtypes": ["int64"]},
        ],
        "type_domains": {},
    },
    "write_state": {
        "opsets": ["iOS18"],
        "from_dialect": "coreml_update_state",
        "rename": {"state": "input", "value": "data"},
        "order": ["input", "data"],
    },
}


def rust_str(s):
    return json.dumps(s)  # a JSON string literal is a valid Rust string literal for these names


def rust_dtypes(names):
    if names == "@any":
        return "ANY_DTYPE"
    return "&[" + ", ".join("D::" + DTYPES[n] for n in names) + "]"


def rust_default(inp):
    if not inp["optional"]:
        assert "default" not in inp, inp
        return "None"
    value = inp.get("default", HANDLED_BY_OP)
    if value == DEPENDS_ON_INPUTS:
        return "Some(V::DependsOnInputs)"
    if value == HANDLED_BY_OP:
        return "Some(V::HandledByOp)"
    if value is None:
        return "Some(V::Absent)"
    if isinstance(value, bool):
        return f"Some(V::Bool({'true' if value else 'false'}))"
    if isinstance(value, int):
        return f"Some(V::Int({value}))"
    if isinstance(value, float):
        text = repr(value)
        assert all(c in "0123456789.e-+" for c in text), text
        return f"Some(V::Float({text}))"
    if isinstance(value, str):
        return f"Some(V::Str({rust_str(value)}))"
    raise ValueError(f"unsupported default {value!r}")


def versions_of(per_opset):
    """Groups consecutive opsets that register the same class into one version."""
    versions = []
    for opset in OPSETS:
        spec = per_opset.get(opset)
        if spec is None:
            assert not versions, "an op never leaves a later opset"
            continue
        if versions and versions[-1]["class"] == spec["class"]:
            assert versions[-1]["spec"] == spec
            versions[-1]["opsets"].append(opset)
        else:
            assert spec["defined_in"] == opset, (spec["class"], opset)
            versions.append({"class": spec["class"], "opsets": [opset], "spec": spec})
    return versions


def runtime_versions(name, entry, registry):
    if "from_dialect" in entry:
        source = registry["dialect_ops"][entry["from_dialect"]]
        renamed = {entry["rename"][i["name"]]: dict(i, name=entry["rename"][i["name"]])
                   for i in source["inputs"]}
        spec = {"inputs": [renamed[n] for n in entry["order"]], "type_domains": source["type_domains"]}
    else:
        spec = {"inputs": entry["inputs"], "type_domains": entry["type_domains"]}
    return [{"class": None, "opsets": entry["opsets"], "spec": spec}]


def emit_input(inp, domains):
    kind = KINDS[inp["kind"]]
    var = inp.get("type_domain_id")
    if var is not None:
        assert inp["dtypes"] == domains[var], inp
    dtypes = rust_dtypes(inp.get("dtypes", []))
    return (
        f"Input {{ name: {rust_str(inp['name'])}, kind: K::{kind}, optional: {str(inp['optional']).lower()}, "
        f"constant: {str(inp['const']).lower()}, type_var: {'Some(' + rust_str(var) + ')' if var else 'None'}, "
        f"dtypes: {dtypes}, default: {rust_default(inp)} }},"
    )


def emit_version(name, version):
    spec = version["spec"]
    cls = version["class"]
    cls_text = f"Some({rust_str(cls[len(CLASS_PREFIX):])})" if cls else "None"
    assert cls is None or cls.startswith(CLASS_PREFIX), cls
    lines = [
        "            OpVersion {",
        f"                name: {rust_str(name)},",
        f"                class: {cls_text},",
        "                opsets: &[" + ", ".join("O::" + OPSETS[o] for o in version["opsets"]) + "],",
    ]
    domains = spec["type_domains"]
    if spec["inputs"]:
        lines.append("                inputs: &[")
        lines += ["                    " + emit_input(i, domains) for i in spec["inputs"]]
        lines.append("                ],")
    else:
        lines.append("                inputs: &[],")
    if domains:
        lines.append("                type_domains: &[")
        lines += [f"                    TypeDomain {{ id: {rust_str(k)}, dtypes: {rust_dtypes(v)} }},"
                  for k, v in domains.items()]
        lines.append("                ],")
    else:
        lines.append("                type_domains: &[],")
    lines.append("            },")
    return lines


def generate(registry):
    ops = {}
    for name, per_opset in registry["ops"].items():
        ops[name] = versions_of(per_opset)
    for name, entry in RUNTIME_OPS.items():
        if name not in ops:
            ops[name] = runtime_versions(name, entry, registry)
    out = [
        "// @generated by tools/gen_catalogue.py from shared/reference/op_registry.json",
        f"// (coremltools {registry['coremltools_version']}). Do not edit: run `python3 tools/gen_catalogue.py`.",
        "",
        "use super::Opset as O;",
        "use super::{ANY_DTYPE, DefaultValue as V, Input, InputKind as K, Op, OpVersion, TypeDomain};",
        "use crate::types::DType as D;",
        "",
        "/// Every op, sorted by name, each with its versions in opset order.",
        "pub(super) static OPS: &[Op] = &[",
    ]
    for name in sorted(ops):
        out.append("    Op {")
        out.append(f"        name: {rust_str(name)},")
        out.append("        versions: &[")
        for version in ops[name]:
            out += emit_version(name, version)
        out.append("        ],")
        out.append("    },")
    out.append("];")
    return "\n".join(out) + "\n"


def main(argv):
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    if len(paths) > 1 or any(p.startswith("-") for p in paths):
        sys.stderr.write(__doc__)
        return 2
    registry_path = paths[0] if paths else DEFAULT_REGISTRY
    with open(registry_path, encoding="utf-8") as f:
        text = generate(json.load(f))
    if check:
        try:
            with open(OUTPUT, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            sys.stderr.write(f"{OUTPUT} is out of date: run python3 tools/gen_catalogue.py\n")
            return 1
        return 0
    with open(OUTPUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
