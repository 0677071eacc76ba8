"""`mil fix` splits chains along an axis above 65,536 (`split-axis`), and coremltools reads the compiled
result: its MIL loader (`milproto.load`, which runs coremltools' own type inference on every op) gives the
slices, the pieces' ops and the concat with the shapes we declared. The numbers are proven in our
interpreter (rewrite/tests/split_axis.rs); this checks that coremltools accepts what we write.

Needs the `mil` binary: target/release/mil or $MIL_BIN.
"""

import coremltools as ct
import numpy as np
from coremltools.converters.mil.frontend.milproto.load import load

from mil_cli import mil


def width_chain(c=16, w=70_000):
    """`conv 3×3 → relu` four times over (1, c, 1, w) in fp16, the kernel a constant."""
    rng = np.random.default_rng(3)
    k = rng.uniform(-1, 1, (c, c, 3, 3)).astype(np.float16)
    kt = f"tensor<fp16, [{c}, {c}, 3, 3]>"
    flat = ", ".join(f"{v:.4f}" for v in k.flat)
    body = f'        {kt} k = const()[name = string("k"), val = {kt}([{flat}])];\n'
    t = f"tensor<fp16, [1, {c}, 1, {w}]>"
    x = "x"
    for i in range(4):
        r = "out" if i == 3 else f"r{i}"
        body += (
            f'        {t} c{i} = conv(dilations = [1, 1], groups = 1, pad_type = string("same"), strides = [1, 1], '
            f'weight = k, x = {x})[name = string("c{i}")];\n'
            f'        {t} {r} = relu(x = c{i})[name = string("{r}")];\n'
        )
        x = r
    return f"program(1.3)\n{{\n    func main<ios18>({t} x) {{\n{body}    }} -> (out);\n}}\n"


def depthwise_chain(c=70_000):
    """A depthwise `conv 3×3 (bias) → relu → conv 3×3 → sigmoid` over (1, c, 8, 8), kernels as inputs."""
    t = f"tensor<fp16, [1, {c}, 8, 8]>"
    conv = 'conv({bias}dilations = [1, 1], groups = {c}, pad_type = string("same"), strides = [1, 1], weight = k, x = {x})'
    lines = [
        f'{t} c0 = {conv.format(bias="bias = b, ", c=c, x="x")}[name = string("c0")];',
        f'{t} r0 = relu(x = c0)[name = string("r0")];',
        f'{t} c1 = {conv.format(bias="", c=c, x="r0")}[name = string("c1")];',
        f'{t} out = sigmoid(x = c1)[name = string("out")];',
    ]
    body = "".join(f"        {line}\n" for line in lines)
    params = f"{t} x, tensor<fp16, [{c}, 1, 3, 3]> k, tensor<fp16, [{c}]> b"
    return f"program(1.3)\n{{\n    func main<ios18>({params}) {{\n{body}    }} -> (out);\n}}\n"


def fixed_ops(tmp_path, text):
    """`mil fix` on `text`, compiled and read back by coremltools: (op type, output shape) of each op."""
    src = tmp_path / "chain.mil"
    src.write_text(text)
    fixed = tmp_path / "fixed.mil"
    out = mil("fix", src, "-o", fixed)
    assert "Split the ops along an axis above 65,536" in out, out
    package = tmp_path / "fixed.mlpackage"
    mil("compile", fixed, "-o", package)
    model = ct.models.MLModel(str(package), skip_model_load=True)
    spec = model.get_spec()
    prog = load(spec, specification_version=spec.specificationVersion, file_weights_dir=model.weights_dir)
    main = prog.functions["main"]
    assert [o.name for o in main.outputs] == ["out"]
    return [(op.op_type, tuple(op.outputs[0].shape)) for op in main.operations if op.op_type != "const"]


def test_a_width_chain_is_split_in_two_and_loads_in_coremltools(tmp_path):
    ops = fixed_ops(tmp_path, width_chain())
    # Each piece's first conv reads one column of halo past the cut; each conv after it one less.
    slices = [("slice_by_size", (1, 16, 1, 35_004))] * 2
    piece = [(kind, (1, 16, 1, 35_003 - i)) for i in range(4) for kind in ("conv", "relu")]
    assert ops == slices + piece + piece + [("concat", (1, 16, 1, 70_000))]


def test_a_depthwise_chain_is_split_along_the_channels_and_loads_in_coremltools(tmp_path):
    ops = fixed_ops(tmp_path, depthwise_chain())
    kernels = lambda n: [  # noqa: E731
        ("slice_by_size", (1, n, 8, 8)),
        ("slice_by_size", (n, 1, 3, 3)),
        ("slice_by_size", (n,)),
        ("slice_by_size", (n, 1, 3, 3)),
    ]
    piece = [("conv", (1, 35_000, 8, 8)), ("relu", (1, 35_000, 8, 8)), ("conv", (1, 35_000, 8, 8)), ("sigmoid", (1, 35_000, 8, 8))]
    assert ops == kernels(35_000) + kernels(35_000) + piece + piece + [("concat", (1, 70_000, 8, 8))]
