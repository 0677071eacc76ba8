"""Every program in tests/oracle/programs, compiled by mil-proto (proto/examples/oracle_packages.rs),
loads in coremltools, passes the checks its loader skips, and coremltools infers for every op the types
the text declares."""

import json
import pathlib
import re

import numpy as np
import pytest
from coremltools.converters.mil.mil import types

from package_checks import load_with_coremltools, package_problems

HERE = pathlib.Path(__file__).parent
PROGRAMS = sorted(p.stem for p in (HERE / "programs").glob("*.mil"))
FIXTURE = json.loads((HERE.parents[1] / "proto" / "tests" / "data" / "coremltools_weight.json").read_text())

# `TYPE name` declarations before ` = op(`: tensor types or bare dtypes.
DECLARATION = re.compile(r"(tensor<(\w+), \[([^\]]*)\]>|\b(fp16|fp32|int32|bool|string))\s+(\w+)")
STATEMENT = re.compile(r"^\s*(.*?)\s*=\s*(\w+)(<\w+>)?\(")


def declared_outputs(text):
    """(output name, dtype name, shape or None, op type) for every statement with outputs."""
    found = []
    for line in text.splitlines():
        match = STATEMENT.match(line)
        if not match or "func " in line:
            continue
        for decl in DECLARATION.finditer(match.group(1)):
            dtype = decl.group(2) or decl.group(4)
            shape = None
            if decl.group(3) is not None:
                shape = tuple(int(d) for d in decl.group(3).split(",") if d.strip())
            elif decl.group(4):
                shape = ()
            found.append((decl.group(5), dtype, shape, match.group(2)))
    return found


def all_ops(block):
    for op in block.operations:
        yield op
        for nested in op.blocks:
            yield from all_ops(nested)


def dtype_name(t):
    return types.builtin_to_string(t)


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_compiles_and_loads(rust_packages, name):
    errors = rust_packages / f"{name}.errors.txt"
    assert not errors.exists(), errors.read_text()
    package = rust_packages / f"{name}.mlpackage"
    assert package_problems(package) == []
    prog = load_with_coremltools(package)
    outputs = {}
    for function in prog.functions.values():
        for op in all_ops(function):
            for var in op.outputs:
                outputs[var.name] = (op.op_type, var)
    text = (HERE / "programs" / f"{name}.mil").read_text()
    for var_name, dtype, shape, op_type in declared_outputs(text):
        loaded_type, var = outputs[var_name]
        assert loaded_type == op_type, var_name
        inferred = var.dtype if types.is_tensor(var.sym_type) else var.sym_type
        assert dtype_name(inferred) == dtype, f"{var_name}: coremltools infers {dtype_name(inferred)}"
        assert tuple(var.shape) == shape, f"{var_name}: coremltools infers shape {var.shape}"


def fixture_values(offset):
    return next(e["values"] for e in FIXTURE if e["offset"] == offset)


def loaded_val(name, var_name):
    prog = load_with_coremltools(name)
    for function in prog.functions.values():
        for op in all_ops(function):
            for var in op.outputs:
                if var.name == var_name:
                    return op
    raise KeyError(var_name)


def test_blobs_are_copied_bit_for_bit(rust_packages):
    op = loaded_val(rust_packages / "blobfile_ios17.mlpackage", "w")
    np.testing.assert_array_equal(op.val.val, np.array(fixture_values(64), dtype=np.float16))
    op = loaded_val(rust_packages / "blobfile_ios17.mlpackage", "q")
    np.testing.assert_array_equal(op.val.val, np.array(fixture_values(320), dtype=np.int8))
    op = loaded_val(rust_packages / "lut_ios18.mlpackage", "w")
    np.testing.assert_array_equal(op.indices.val.reshape(-1), fixture_values(1600))


def test_inline_literals_reach_the_weight_file_intact(rust_packages):
    op = loaded_val(rust_packages / "quantized_ios16.mlpackage", "w")
    np.testing.assert_array_equal(op.quantized_data.val, [[-4, -3, -2, -1, 0], [1, 2, 3, 4, 5]])
    assert op.scale.val == np.float16(0.5) and op.zero_point.val == 1
    op = loaded_val(rust_packages / "conv_ios15.mlpackage", "w")
    assert op.val.val.shape == (3, 2, 2, 2) and op.val.val[0, 1, 1, 1] == 1.5 and op.val.val[2, 1, 1, 1] == -1


def test_weights_inline_in_arguments_are_bound_through_consts(rust_packages):
    """An argument holding a weight-file-sized value becomes a `const` (coremltools' loader takes only
    immediate values in bindings), named after its op and input, unique in the function."""
    package = rust_packages / "inline_weights_ios17.mlpackage"
    weight = loaded_val(package, "y_weight_")
    assert weight.op_type == "const"
    np.testing.assert_array_equal(weight.val.val, np.array([[1, 2, 3, 4], [5, 6, 7, 8], [-1, -2, -3, -4]], np.float16))
    blob = loaded_val(package, "s_y")
    np.testing.assert_array_equal(blob.val.val, np.array(fixture_values(64), dtype=np.float16))
    linear = loaded_val(package, "y")
    assert linear.weight.name == "y_weight_" and linear.bias.val.tolist() == [0.5, 0, -0.5]
