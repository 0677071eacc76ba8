"""The rewrites that replace whole layers (`unroll-recurrent` on lstm, gru and rnn; `reduce-prod-to-mul`)
write programs that compile and that coremltools reads, and the compiled package computes the layer.

For each op, a one-op fp32 program with random weights goes through `mil fix --rewrite ID`, `mil compile`
and coremltools' milproto loader (which runs coremltools' own type inference on every op): the loaded
program has none of the refused op left and the outputs' shapes we declared. Then `mil run` runs the
compiled package on random inputs, and its outputs are compared with the layer computed here in numpy
from coremltools' definitions (`ops/defs/iOS15/recurrent.py`: lstm gates `[i, f, o, z]`, gru gates
`[r, o, z]` with the reset applied to the hidden state before its product; `reduction.py`), an account
independent of our interpreter's kernels: relative error ≤ 1e-5, relative to the sum of magnitudes
of the terms where the output is a sum (floor 1 for the states, sums of products of O(1) terms; the
second conv's terms for the product).

Needs the `mil` binary: target/release/mil or $MIL_BIN.
"""

import os
import pathlib
import subprocess

import numpy as np
import pytest

from package_checks import load_with_coremltools

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))
S, B, I, H = 8, 1, 64, 64


def mil(*args):
    run = subprocess.run([MIL, "--color", "never", *map(str, args)], capture_output=True, text=True)
    assert run.returncode == 0, f"mil {' '.join(map(str, args))} exited {run.returncode}:\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}"
    return run.stdout


def const(name, values):
    """A `const` op holding `values`, as coremltools writes weights (its loader takes a weight in a
    file only in a `const`)."""
    shape = ", ".join(map(str, values.shape))
    ty = f"tensor<fp32, [{shape}]>"
    flat = ", ".join(repr(float(v)) for v in values.flat)
    return f'        {ty} {name} = const()[name = string("{name}"), val = {ty}([{flat}])];\n'


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def recurrent(kind, w_ih, w_hh, bias, x, h0, c0):
    """coremltools' forward lstm, gru or rnn with the default activations: the sequence and the last
    states."""
    h, c, states = h0, c0, []
    for t in range(x.shape[0]):
        gx, gh = x[t] @ w_ih.T + bias, h @ w_hh.T
        if kind == "rnn":
            h = np.tanh(gx + gh)
        elif kind == "gru":
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, 2 * H :] + gh[:, 2 * H :])
            o = np.tanh(gx[:, H : 2 * H] + (r * h) @ w_hh[H : 2 * H].T)
            h = (1 - z) * o + z * h
        else:
            g = gx + gh
            i, f, o, z = (g[:, k * H : (k + 1) * H] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(z)
            h = sigmoid(o) * np.tanh(c)
        states.append(h)
    outs = [np.stack(states), h]
    return outs + [c] if kind == "lstm" else outs


def recurrent_case(kind, rng):
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    w_ih = rng.uniform(-0.2, 0.2, (gates * H, I)).astype(np.float32)
    w_hh = rng.uniform(-0.2, 0.2, (gates * H, H)).astype(np.float32)
    bias = rng.uniform(-0.2, 0.2, (gates * H,)).astype(np.float32)
    state = f"tensor<fp32, [{B}, {H}]>"
    seq = f"tensor<fp32, [{S}, {B}, {H}]>"
    results = [f"{seq} out", f"{state} h"] + ([f"{state} c"] if kind == "lstm" else [])
    params = [f"tensor<fp32, [{S}, {B}, {I}]> x", f"{state} h0"] + ([f"{state} c0"] if kind == "lstm" else [])
    c0 = ", initial_c = c0" if kind == "lstm" else ""
    text = (
        f"program(1.3)\n{{\n    func main<ios18>({', '.join(params)}) {{\n"
        + const("bias", bias)
        + const("w_hh", w_hh)
        + const("w_ih", w_ih)
        + f"        {', '.join(results)} = {kind}(bias = bias, direction = string(\"forward\"){c0}, "
        f"initial_h = h0, output_sequence = true, weight_hh = w_hh, weight_ih = w_ih, "
        f"x = x)[name = string(\"out\")];\n"
        f"    }} -> ({', '.join(r.split()[-1] for r in results)});\n}}\n"
    )
    inputs = {
        "x": rng.uniform(-2, 2, (S, B, I)).astype(np.float32),
        "h0": rng.uniform(-1, 1, (B, H)).astype(np.float32),
    }
    if kind == "lstm":
        inputs["c0"] = rng.uniform(-1, 1, (B, H)).astype(np.float32)
    want = recurrent(kind, w_ih, w_hh, bias, inputs["x"], inputs["h0"], inputs.get("c0"))
    names = [r.split()[-1] for r in results]
    return text, inputs, {name: (w, 1.0) for name, w in zip(names, want)}


def conv3x3(x, w):
    """MIL's conv with a 3×3 kernel, `same` padding, stride 1 (a cross-correlation), in float64."""
    h, wd = x.shape[2:]
    pad = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    return sum(
        np.einsum("oi,nihw->nohw", w[:, :, ky, kx], pad[:, :, ky : ky + h, kx : kx + wd])
        for ky in range(3)
        for kx in range(3)
    )


def reduce_prod_case(rng):
    """`conv 3×3 → reduce_prod over the 64 channels → conv 3×3` at 1×64×64×64, where the rewrite moves the
    product onto the Neural Engine with the convs (a lone reduce_prod stays on the CPU, where the tree is
    dearer). The first conv is near the identity, so the 64 factors have magnitudes near 1."""
    c, n = 64, 64
    x = (rng.uniform(0.85, 1.15, (1, c, n, n)) * rng.choice([-1, 1], (1, c, n, n))).astype(np.float32)
    w = (rng.uniform(-0.01, 0.01, (c, c, 3, 3))).astype(np.float32)
    w[np.arange(c), np.arange(c), 1, 1] += 1
    v = rng.uniform(-1, 1, (c, 1, 3, 3)).astype(np.float32)
    conv = 'strides = [1, 1], pad_type = "same", dilations = [1, 1], groups = 1'
    big, one = f"tensor<fp32, [1, {c}, {n}, {n}]>", f"tensor<fp32, [1, 1, {n}, {n}]>"
    text = (
        f"program(1.3)\n{{\n    func main<ios18>({big} x, tensor<fp32, [{c}, {c}, 3, 3]> w, tensor<fp32, [{c}, 1, 3, 3]> v) {{\n"
        f'        {big} a = conv(x = x, weight = w, {conv})[name = string("a")];\n'
        f'        {one} p = reduce_prod(x = a, axes = [1], keep_dims = true)[name = string("p")];\n'
        f'        {big} out = conv(x = p, weight = v, {conv})[name = string("out")];\n'
        "    } -> (out);\n}\n"
    )
    product = np.prod(conv3x3(x, w.astype(np.float64)), axis=1, keepdims=True)
    # The error of the sums is relative to the sums of magnitudes of their terms.
    magnitude = conv3x3(np.abs(product), np.abs(v).astype(np.float64))
    return text, {"x": x, "w": w, "v": v}, {"out": (conv3x3(product, v.astype(np.float64)), magnitude)}


CASES = {
    "lstm": ("unroll-recurrent", lambda rng: recurrent_case("lstm", rng)),
    "gru": ("unroll-recurrent", lambda rng: recurrent_case("gru", rng)),
    "rnn": ("unroll-recurrent", lambda rng: recurrent_case("rnn", rng)),
    "reduce_prod": ("reduce-prod-to-mul", reduce_prod_case),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_the_rewritten_layer_compiles_loads_and_computes_the_layer(kind, tmp_path):
    rewrite, case = CASES[kind]
    text, inputs, want = case(np.random.default_rng(11))
    src = tmp_path / f"{kind}.mil"
    src.write_text(text)
    fixed = tmp_path / "fixed.mil"
    mil("fix", src, "-o", fixed, "--rewrite", rewrite)
    package = tmp_path / "fixed.mlpackage"
    mil("compile", fixed, "-o", package)

    prog = load_with_coremltools(package)
    main = prog.functions["main"]
    kinds = {op.op_type for op in main.operations}
    assert kind not in kinds, sorted(kinds)
    assert [(o.name, tuple(o.shape)) for o in main.outputs] == [(n, w.shape) for n, (w, _) in want.items()]

    args = []
    for name, value in inputs.items():
        np.save(tmp_path / f"{name}.npy", value)
        args += ["--input", f"{name}={tmp_path / f'{name}.npy'}"]
    mil("run", package, *args, "--output-dir", tmp_path / "out")
    for name, (w, floor) in want.items():
        got = np.load(tmp_path / "out" / f"{name}.npy").astype(np.float64)
        error = np.abs(got - w) / np.maximum(np.abs(w), floor)
        assert error.max() <= 1e-5, f"{kind}: {name}: relative error {error.max():.3g}"
