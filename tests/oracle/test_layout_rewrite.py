"""`mil fix` rewrites a chain of linear layers as 1×1 convs in (B, C, 1, S) (`linear-to-conv1x1`), and
coremltools reads the compiled result: its MIL loader (`milproto.load`, which runs coremltools' own type
inference on every op) gives the ops with the shapes we declared, and the layout changes the rewrite made
are left only at the function's two edges. The numbers are proven in our interpreter
(rewrite/tests/layout.rs); this checks that coremltools accepts what we write.

Needs the `mil` binary: target/release/mil or $MIL_BIN.
"""

import coremltools as ct
import numpy as np
from coremltools.converters.mil.frontend.milproto.load import load

from mil_cli import mil


def const(name, values):
    shape = ", ".join(map(str, values.shape))
    ty = f"tensor<fp16, [{shape}]>"
    flat = ", ".join(f"{v:.4f}" for v in values.flat)
    return f'        {ty} {name} = const()[name = string("{name}"), val = {ty}([{flat}])];\n'


def chain(c=64, s=64):
    """`linear → relu → linear → gelu → linear` on (1, s, c), fp16, with biases."""
    rng = np.random.default_rng(5)
    body = ""
    for i in range(3):
        body += const(f"w{i}", rng.uniform(-1, 1, (c, c)).astype(np.float16))
        body += const(f"b{i}", rng.uniform(-1, 1, (c,)).astype(np.float16))
    t = f"tensor<fp16, [1, {s}, {c}]>"
    lines = [
        f'{t} h0 = linear(x = x, weight = w0, bias = b0)[name = string("h0")];',
        f'{t} a0 = relu(x = h0)[name = string("a0")];',
        f'{t} h1 = linear(x = a0, weight = w1, bias = b1)[name = string("h1")];',
        f'{t} a1 = gelu(mode = string("EXACT"), x = h1)[name = string("a1")];',
        f'{t} out = linear(x = a1, weight = w2, bias = b2)[name = string("out")];',
    ]
    body += "".join(f"        {line}\n" for line in lines)
    return f"program(1.3)\n{{\n    func main<ios18>({t} x) {{\n{body}    }} -> (out);\n}}\n"


def test_a_fixed_linear_chain_loads_in_coremltools_with_layout_changes_at_the_edges(tmp_path):
    src = tmp_path / "chain.mil"
    src.write_text(chain())
    fixed = tmp_path / "fixed.mil"
    out = mil("fix", src, "-o", fixed, "--rewrite", "linear-to-conv1x1")
    assert out.count("Rewrite linear as a 1×1 conv in (B, C, 1, S)") == 3, out
    package = tmp_path / "fixed.mlpackage"
    mil("compile", fixed, "-o", package)
    model = ct.models.MLModel(str(package), skip_model_load=True)
    spec = model.get_spec()
    prog = load(spec, specification_version=spec.specificationVersion, file_weights_dir=model.weights_dir)
    ops = [(op.op_type, tuple(op.outputs[0].shape)) for op in prog.functions["main"].operations if op.op_type != "const"]
    assert ops == [
        ("transpose", (1, 64, 64)),
        ("reshape", (1, 64, 1, 64)),
        ("conv", (1, 64, 1, 64)),
        ("relu", (1, 64, 1, 64)),
        ("conv", (1, 64, 1, 64)),
        ("gelu", (1, 64, 1, 64)),
        ("conv", (1, 64, 1, 64)),
        ("reshape", (1, 64, 64)),
        ("transpose", (1, 64, 64)),
    ]
    assert [o.name for o in prog.functions["main"].outputs] == ["out"]
