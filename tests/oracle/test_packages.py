"""Packages written by mil-proto (proto/examples/oracle_packages.rs) load in coremltools and pass the
checks its loader skips."""

import numpy as np
import pytest
from coremltools.converters.mil.mil import types

from package_checks import load_with_coremltools, package_problems


@pytest.mark.parametrize("name", ["relu", "const_weight"])
def test_package_passes_the_checks_the_loader_skips(rust_packages, name):
    assert package_problems(rust_packages / f"{name}.mlpackage") == []


def test_relu_loads(rust_packages):
    prog = load_with_coremltools(rust_packages / "relu.mlpackage")
    main = prog.functions["main"]
    assert main.opset_version.name == "iOS17"
    assert [op.op_type for op in main.operations] == ["relu"]
    assert main.outputs[0].name == "y"
    assert main.outputs[0].shape == (1, 3) and main.outputs[0].dtype == types.fp32


def test_const_weight_reads_the_blob(rust_packages):
    prog = load_with_coremltools(rust_packages / "const_weight.mlpackage")
    main = prog.functions["main"]
    assert main.opset_version.name == "iOS16"
    assert [op.op_type for op in main.operations] == ["const", "add"]
    weight = main.operations[0].outputs[0].val
    assert weight.dtype == np.float16
    np.testing.assert_array_equal(weight, np.arange(12, dtype=np.float16))
