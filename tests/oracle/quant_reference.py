"""coremltools as the oracle of quantisation: its passes applied to a saved package, and the op-by-op
comparison of two pymil programs.

`w8a8_reference` runs what `coremltools.optimize.coreml.linear_quantize_activations` runs —
`insert_prefix_quantize_dequantize_pair`, `insert_suffix_quantize_dequantize_pair`,
`dequantize_quantize_pair_elimination` — with the activation ranges given (the calibration it would do
needs Core ML, so a Mac), then dead-code elimination (the prefix pass leaves the pair it made for an
`add` whose other input is a const unread) and `linear_quantize_weights`, and returns the pymil program
*before* coremltools' save runs its whole default pipeline again (which rewrites the pairs further, e.g.
`distributive_quantized_binary_op_scale_normalization`; docs/quantisation.md).
"""

import coremltools as ct
import coremltools.optimize as cto
import numpy as np
from coremltools.converters.mil.frontend.milproto.load import load as milproto_load
from coremltools.converters.mil.mil import types
from coremltools.converters.mil.mil.passes.graph_pass import PassOption
from coremltools.converters.mil.mil.passes.pass_registry import PASS_REGISTRY
from coremltools.models.utils import _apply_graph_pass


def pymil(package, passes=()):
    """The pymil program of a saved package, after `passes`."""
    model = ct.models.MLModel(str(package), skip_model_load=True)
    spec_version = max(model.get_spec().specificationVersion, ct.target.iOS17)
    return _apply_graph_pass(model, list(passes), spec_version=spec_version, skip_model_load=True,
                             pymil_load_func=milproto_load, return_pymil_prog=True)


def stats_for_coremltools(ranges):
    """{"name": {"rmin": a, "rmax": b}} as coremltools' calibration leaves it (numpy float32 values)."""
    return {name: {"rmin": np.float32(r["rmin"]), "rmax": np.float32(r["rmax"])} for name, r in ranges.items()}


def w8a8_reference(package, ranges, mode="linear_symmetric", dtype="int8", weight_threshold=2048):
    """coremltools' W8A8 of `package` with the activation ranges `ranges`, as a pymil program."""
    config = cto.coreml.OptimizationConfig(global_config=cto.coreml.OpLinearQuantizerConfig(mode=mode, dtype=dtype))
    stats = stats_for_coremltools(ranges)
    prefix = PASS_REGISTRY["compression::insert_prefix_quantize_dequantize_pair"]
    prefix.set_options([PassOption("config", config)])
    prefix.set_options([PassOption("activation_stats", stats)])
    suffix = PASS_REGISTRY["compression::insert_suffix_quantize_dequantize_pair"]
    suffix.set_options([PassOption("config", config)])
    suffix.set_options([PassOption("activation_stats", stats)])
    weights = PASS_REGISTRY["compression::linear_quantize_weights"]
    weights.set_options([
        PassOption("config", cto.coreml.OptimizationConfig(global_config=cto.coreml.OpLinearQuantizerConfig(
            mode=mode, dtype=dtype, weight_threshold=weight_threshold))),
        PassOption("joint_compression", False),
    ])
    return pymil(package, [prefix, suffix, PASS_REGISTRY["common::dequantize_quantize_pair_elimination"],
                           PASS_REGISTRY["common::dead_code_elimination"], weights])


def activation_names(package):
    """The tensors coremltools calibrates: the inputs and every non-const op's outputs but the model's."""
    prog = pymil(package)
    main = prog.functions["main"]
    outputs = {v.name for v in main.outputs}
    names = [v.name for v in main.inputs.values()]
    for op in main.operations:
        if op.op_type != "const":
            names += [v.name for v in op.outputs if v.name not in outputs]
    return names


def _value(var, index):
    """A var as the op reading it sees it: a constant by dtype and value, else where it comes from."""
    if var.op is None:
        return ("input", var.name)
    if var.op.op_type == "const":
        val = np.asarray(var.val)
        shape = val.shape if val.size > 1 else ()  # a one-element scale is a scalar once saved
        return ("const", types.builtin_to_string(var.dtype), shape, val.reshape(-1).tobytes())
    return ("op", index[id(var.op)], var.op.outputs.index(var))


def normal_form(prog, function="main"):
    """Every non-const op of the function in order: its type, inputs (constants by value, other vars by
    the position of the op that makes them), and output types; then the function's outputs."""
    f = prog.functions[function]
    ops = [op for op in f.operations if op.op_type != "const"]
    index = {id(op): i for i, op in enumerate(ops)}
    form = []
    for op in ops:
        inputs = {}
        for key, var in op.inputs.items():
            if isinstance(var, (list, tuple)):
                inputs[key] = tuple(_value(v, index) for v in var)
            else:
                inputs[key] = _value(var, index)
        outputs = [(types.builtin_to_string(v.dtype), tuple(v.shape)) for v in op.outputs]
        form.append((op.op_type, inputs, outputs))
    return form, [_value(v, index) for v in f.outputs]


def describe(entry):
    op_type, inputs, outputs = entry
    shown = {k: (v[:2] + (np.frombuffer(v[3], dtype=np.uint8)[:16].tolist(),) if v[0] == "const" else v)
             for k, v in inputs.items() if not isinstance(v, tuple) or v[0] != "const" or len(v[3]) <= 64}
    return f"{op_type} {shown} -> {outputs}"


def assert_same_program(reference, ours):
    """The two pymil programs are equal op by op (see `normal_form`)."""
    (a, a_out), (b, b_out) = normal_form(reference), normal_form(ours)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x == y, f"op {i} differs:\n coremltools: {describe(x)}\n ours:        {describe(y)}"
    assert len(a) == len(b), f"coremltools has {len(a)} ops, we have {len(b)}: " + "\n".join(
        describe(e) for e in (a[len(b):] or b[len(a):]))
    assert a_out == b_out
