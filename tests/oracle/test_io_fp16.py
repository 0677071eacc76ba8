"""`mil fix --rewrite io-to-fp16` declares a function's fp32 inputs and outputs fp16, and coremltools
reads what `mil compile` makes of the result: the model's input and output are fp16 multi-arrays
(which needs specification version 7, iOS16), and its MIL program, loaded by coremltools' milproto
loader (its own type inference on every op), computes in fp16 with no cast left. The numbers are
proven in our interpreter (rewrite/tests/io_fp16.rs); this checks that coremltools accepts the
interface. Before iOS16 the rewrite is refused with the reason and nothing is written.

Needs the `mil` binary: target/release/mil or $MIL_BIN.
"""

import coremltools as ct
from coremltools.converters.mil.frontend.milproto.load import load
from coremltools.converters.mil.mil import types
from coremltools.proto import FeatureTypes_pb2 as ft

from mil_cli import mil


def converted(opset):
    """As coremltools writes an fp16 model with fp32 inputs and outputs: casts at the edges."""
    t32, t16 = "tensor<fp32, [1, 8, 64]>", "tensor<fp16, [1, 8, 64]>"
    return (
        "program(1.3)\n{\n"
        f"    func main<{opset}>({t32} x, {t32} y) {{\n"
        '        tensor<string, []> x_dtype = const()[name = string("x_dtype"), val = string("fp16")];\n'
        f'        {t16} x_to_fp16 = cast(dtype = x_dtype, x = x)[name = string("cast_1")];\n'
        f'        {t16} y_to_fp16 = cast(dtype = x_dtype, x = y)[name = string("cast_2")];\n'
        f'        {t16} s = add(x = x_to_fp16, y = y_to_fp16)[name = string("s")];\n'
        f'        {t16} r = relu(x = s)[name = string("r")];\n'
        f'        {t32} out = cast(dtype = string("fp32"), x = r)[name = string("cast_3")];\n'
        "    } -> (out);\n}\n"
    )


def test_the_fixed_interface_is_fp16_in_coremltools(tmp_path):
    src = tmp_path / "model.mil"
    src.write_text(converted("ios16"))
    out = mil("fix", src, "--rewrite", "io-to-fp16")
    assert "Change inputs x, y and output out to fp16 (interface change) — est." in out, out
    package = tmp_path / "model.mlpackage"
    mil("compile", src, "-o", package)
    model = ct.models.MLModel(str(package), skip_model_load=True)
    spec = model.get_spec()
    assert spec.specificationVersion >= 7
    described = [(f.name, f.type.multiArrayType.dataType) for f in [*spec.description.input, *spec.description.output]]
    fp16 = ft.ArrayFeatureType.FLOAT16
    assert described == [("x", fp16), ("y", fp16), ("out", fp16)], described
    prog = load(spec, specification_version=spec.specificationVersion, file_weights_dir=model.weights_dir)
    main = prog.functions["main"]
    ops = [op.op_type for op in main.operations if op.op_type != "const"]
    assert ops == ["add", "relu"], ops
    dtypes = [types.builtin_to_string(v.dtype) for v in [*main.inputs.values(), *main.outputs]]
    assert dtypes == ["fp16", "fp16", "fp16"], dtypes
    assert [o.name for o in main.outputs] == ["out"]

def test_before_ios16_it_is_refused_and_nothing_is_written(tmp_path):
    src = tmp_path / "model.mil"
    text = converted("ios15")
    src.write_text(text)
    out = mil("fix", src, "--rewrite", "io-to-fp16")
    assert "io-to-fp16 does not apply to `main`: Core ML takes fp16 inputs and outputs from iOS16 on" in out, out
    assert src.read_text() == text
