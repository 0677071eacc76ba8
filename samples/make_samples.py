"""Writes the samples that carry their weights in a weight file beside them.

    python3 samples/make_samples.py

Each sample is a `.mil` text and a `<stem>.weights/weight.bin` (Core ML's blob storage, version 2:
docs/package-format.md) whose BLOBFILE references the text makes. The weights are random but
deterministic (one seed per sample), so running the script again rewrites the same bytes. Needs numpy.

- `ane_mlp.mil`: a two-layer MLP as 1×1 convs on (B, C, 1, S).
- `transformer_block.mil`: a BERT-base-sized encoder block (768 channels, 12 heads, 3072 hidden)
  in (B, C, 1, S) layout, the way Apple's ml-ane-transformers writes it.
- `mobilenet.mil`: a MobileNet-style classifier of depthwise-separable conv blocks.
- `resnet_w8a8.mil`: a small ResNet-style classifier (residual adds of two live tensors) to quantise
  with `mil quantize --mode w8a8`, and its calibration set `resnet_w8a8.calibration/` (8 images).
"""

import pathlib
import struct

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
FP16_CODE = 1  # the blob storage's dtype code for fp16
INDENT = " " * 12


class Weights:
    """A weight file being written: fp16 blobs, each after a 64-byte record at a 64-aligned offset."""

    def __init__(self, stem, seed):
        self.folder = f"{stem}.weights"
        self.rng = np.random.default_rng(seed)
        self.data = bytearray(struct.pack("<II", 0, 2) + bytes(56))
        self.count = 0

    def add(self, values):
        """Appends a blob; returns the offset of its record, which BLOBFILE references name."""
        payload = np.ascontiguousarray(values, dtype="<f2").tobytes()
        self.data += bytes(-len(self.data) % 64)  # records start at multiples of 64
        offset = len(self.data)
        self.data += struct.pack("<IIQQQ", 0xDEADBEEF, FP16_CODE, len(payload), offset + 64, 0) + bytes(32)
        self.data += payload
        self.count += 1
        return offset

    def random(self, shape, scale):
        return self.add(self.rng.standard_normal(shape) * scale)

    def write(self):
        self.data[0:4] = struct.pack("<I", self.count)
        path = HERE / self.folder / "weight.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes(self.data))


class Program:
    """The statements of one function, written as Core ML writes them."""

    def __init__(self, weights):
        self.weights = weights
        self.lines = []

    def stmt(self, ty, name, op, args):
        listed = ", ".join(f"{k} = {v}" for k, v in sorted(args.items()))
        self.lines.append(f'{INDENT}{ty} {name} = {op}({listed})[name = string("{name}")];')
        return name

    def const(self, ty, name, literal):
        self.lines.append(f'{INDENT}{ty} {name} = const()[name = string("{name}"), val = {literal}];')
        return name

    def ints(self, name, values):
        ty = f"tensor<int32, [{len(values)}]>"
        return self.const(ty, name, f"{ty}([{', '.join(map(str, values))}])")

    def scalar(self, dtype, name, value):
        return self.const(dtype, name, f"{dtype}({value})")

    def blob(self, name, shape, scale):
        ty = f"tensor<fp16, [{', '.join(map(str, shape))}]>"
        offset = self.weights.random(shape, scale)
        path = f"@model_path/{self.weights.folder}/weight.bin"
        return self.const(ty, name, f'{ty}(BLOBFILE(path = string("{path}"), offset = uint64({offset})))')

    def conv(self, name, x, cin, cout, out_shape, kernel=1, stride=1, groups=1):
        fan_in = cin // groups * kernel * kernel
        w = self.blob(f"{name}_weight", [cout, cin // groups, kernel, kernel], fan_in**-0.5)
        b = self.blob(f"{name}_bias", [cout], 0.02)
        args = dict(
            x=x,
            weight=w,
            bias=b,
            strides=self.ints(f"{name}_strides", [stride, stride]),
            pad_type=self.const("string", f"{name}_pad_type", 'string("same")' if kernel > 1 else 'string("valid")'),
            pad=self.ints(f"{name}_pad", [0, 0, 0, 0]),
            dilations=self.ints(f"{name}_dilations", [1, 1]),
            groups=self.scalar("int32", f"{name}_groups", groups),
        )
        return self.stmt(fp16(out_shape), name, "conv", args)

    def text(self, inputs, outputs):
        params = ", ".join(f"{fp16(shape)} {name}" for name, shape in inputs)
        body = "\n".join(self.lines)
        return (
            "program(1.3)\n"
            '[buildInfo = dict<string, string>({{"coremltools-version", "9.0"}})]\n'
            "{\n"
            f"    func main<ios18>({params}) {{\n"
            f"{body}\n"
            f"        }} -> ({', '.join(outputs)});\n"
            "}\n"
        )


def fp16(shape):
    return f"tensor<fp16, [{', '.join(map(str, shape))}]>"


def write(stem, program, inputs, outputs):
    (HERE / f"{stem}.mil").write_text(program.text(inputs, outputs))
    program.weights.write()


def ane_mlp():
    """x (1, 128, 1, 2048) → 1×1 conv to 512 → relu → 1×1 conv to 128."""
    c, hidden, s = 128, 512, 2048
    p = Program(Weights("ane_mlp", seed=1))
    h = p.conv("h", "x", c, hidden, [1, hidden, 1, s])
    a = p.stmt(fp16([1, hidden, 1, s]), "a", "relu", dict(x=h))
    p.conv("y", a, hidden, c, [1, c, 1, s])
    write("ane_mlp", p, [("x", [1, c, 1, s])], ["y"])


def layer_norm(p, name, x, shape):
    """Layer norm over the channels (axis 1) of a (B, C, 1, S) tensor."""
    c = shape[1]
    args = dict(
        x=x,
        axes=p.ints(f"{name}_axes", [1]),
        gamma=p.blob(f"{name}_gamma", [c], 0.02),
        beta=p.blob(f"{name}_beta", [c], 0.02),
        epsilon=p.scalar("fp16", f"{name}_epsilon", "0x1.5p-17"),
    )
    return p.stmt(fp16(shape), name, "layer_norm", args)


def matmul(p, name, x, y, transposed, shape):
    """x · y, each transposed (in its last two axes) as `transposed` says."""
    flags = {
        f"transpose_{side}": p.scalar("bool", f"{name}_transpose_{side}", str(t).lower())
        for side, t in zip("xy", transposed)
    }
    return p.stmt(fp16(shape), name, "matmul", dict(x=x, y=y, **flags))


def transformer_block():
    """A pre-norm encoder block: attention with 12 heads of 64, then a 3072-wide GELU MLP."""
    c, heads, s, hidden = 768, 12, 128, 3072
    d = c // heads
    bc1s = [1, c, 1, s]
    split = [1, heads, d, s]
    p = Program(Weights("transformer_block", seed=2))
    ln1 = layer_norm(p, "ln1", "x", bc1s)
    q, k, v = (p.conv(n, ln1, c, c, bc1s) for n in ("q_proj", "k_proj", "v_proj"))
    to_heads = p.ints("to_heads", split)
    qh, kh, vh = (p.stmt(fp16(split), f"{n}_heads", "reshape", dict(x=n, shape=to_heads)) for n in (q, k, v))
    # scores[h, i, j] = q_i · k_j over the head's 64 channels
    scores = matmul(p, "scores", qh, kh, (True, False), [1, heads, s, s])
    scaled = p.stmt(
        fp16([1, heads, s, s]), "scaled", "mul", dict(x=scores, y=p.scalar("fp16", "scale", "0x1p-3"))
    )
    weights = p.stmt(
        fp16([1, heads, s, s]), "attention", "softmax", dict(x=scaled, axis=p.scalar("int32", "softmax_axis", -1))
    )
    # context[h, c, i] = sum_j v[h, c, j] · weights[h, i, j]
    context = matmul(p, "context", vh, weights, (False, True), split)
    merged = p.stmt(fp16(bc1s), "merged", "reshape", dict(x=context, shape=p.ints("to_channels", bc1s)))
    attended = p.conv("out_proj", merged, c, c, bc1s)
    r1 = p.stmt(fp16(bc1s), "residual1", "add", dict(x="x", y=attended))
    ln2 = layer_norm(p, "ln2", r1, bc1s)
    up = p.conv("fc1", ln2, c, hidden, [1, hidden, 1, s])
    mode = p.const("string", "gelu_mode", 'string("EXACT")')
    act = p.stmt(fp16([1, hidden, 1, s]), "gelu", "gelu", dict(x=up, mode=mode))
    down = p.conv("fc2", act, hidden, c, bc1s)
    p.stmt(fp16(bc1s), "y", "add", dict(x=r1, y=down))
    write("transformer_block", p, [("x", bc1s)], ["y"])


def mobilenet():
    """A 3×3 stride-2 stem, five depthwise-separable blocks, global average pool, 1000 classes."""
    p = Program(Weights("mobilenet", seed=3))
    size = 112
    x = p.conv("stem", "x", 3, 32, [1, 32, size, size], kernel=3, stride=2)
    x = p.stmt(fp16([1, 32, size, size]), "stem_relu", "relu", dict(x=x))
    channels = 32
    for i, (out, stride) in enumerate([(64, 1), (128, 2), (128, 1), (256, 2), (256, 1)], start=1):
        size //= stride
        dw_shape = [1, channels, size, size]
        dw = p.conv(f"block{i}_dw", x, channels, channels, dw_shape, kernel=3, stride=stride, groups=channels)
        dw = p.stmt(fp16([1, channels, size, size]), f"block{i}_dw_relu", "relu", dict(x=dw))
        pw = p.conv(f"block{i}_pw", dw, channels, out, [1, out, size, size])
        x = p.stmt(fp16([1, out, size, size]), f"block{i}_pw_relu", "relu", dict(x=pw))
        channels = out
    pooled = p.stmt(
        fp16([1, channels, 1, 1]),
        "pool",
        "reduce_mean",
        dict(x=x, axes=p.ints("pool_axes", [2, 3]), keep_dims=p.scalar("bool", "pool_keep_dims", "true")),
    )
    logits = p.conv("classifier", pooled, channels, 1000, [1, 1000, 1, 1])
    # Class scores as (1, 1000), as classifiers give them (a [1, 1000, 1, 1] output is the wide,
    # short shape the private compiler rejected in probes, ANE108).
    flat = p.stmt(fp16([1, 1000]), "logits", "reshape", dict(x=logits, shape=p.ints("logits_shape", [1, 1000])))
    p.stmt(fp16([1, 1000]), "y", "softmax", dict(x=flat, axis=p.scalar("int32", "softmax_axis", -1)))
    write("mobilenet", p, [("x", [1, 3, 224, 224])], ["y"])


def resnet_w8a8():
    """A 3×3 stem, two residual blocks at 16 channels, a stride-2 conv to 32 and a third block, an
    average pool over the 16×16 map and a linear classifier to 10 classes; 8 calibration images."""
    p = Program(Weights("resnet_w8a8", seed=4))

    def block(name, x, channels, size):
        shape = [1, channels, size, size]
        a = p.conv(f"{name}_conv1", x, channels, channels, shape, kernel=3)
        a = p.stmt(fp16(shape), f"{name}_relu1", "relu", dict(x=a))
        b = p.conv(f"{name}_conv2", a, channels, channels, shape, kernel=3)
        s = p.stmt(fp16(shape), f"{name}_add", "add", dict(x=x, y=b))
        return p.stmt(fp16(shape), f"{name}_out", "relu", dict(x=s))

    x = p.conv("stem", "x", 3, 16, [1, 16, 32, 32], kernel=3)
    x = p.stmt(fp16([1, 16, 32, 32]), "stem_relu", "relu", dict(x=x))
    x = block("block1", x, 16, 32)
    x = block("block2", x, 16, 32)
    x = p.conv("down", x, 16, 32, [1, 32, 16, 16], kernel=3, stride=2)
    x = p.stmt(fp16([1, 32, 16, 16]), "down_relu", "relu", dict(x=x))
    x = block("block3", x, 32, 16)
    pooled = p.stmt(fp16([1, 32, 1, 1]), "pool", "avg_pool", dict(
        x=x,
        kernel_sizes=p.ints("pool_kernel_sizes", [16, 16]),
        strides=p.ints("pool_strides", [16, 16]),
        pad_type=p.const("string", "pool_pad_type", 'string("valid")'),
        pad=p.ints("pool_pad", [0, 0, 0, 0]),
        ceil_mode=p.scalar("bool", "pool_ceil_mode", "false"),
        exclude_padding_from_average=p.scalar("bool", "pool_exclude_padding", "false"),
    ))
    flat = p.stmt(fp16([1, 32]), "flat", "reshape", dict(x=pooled, shape=p.ints("flat_shape", [1, 32])))
    weight = p.blob("fc_weight", [10, 32], 32**-0.5)
    bias = p.blob("fc_bias", [10], 0.02)
    p.stmt(fp16([1, 10]), "y", "linear", dict(x=flat, weight=weight, bias=bias))
    write("resnet_w8a8", p, [("x", [1, 3, 32, 32])], ["y"])
    calibration = HERE / "resnet_w8a8.calibration"
    calibration.mkdir(exist_ok=True)
    images = np.random.default_rng(5)
    for i in range(8):
        np.save(calibration / f"image{i}.npy", images.standard_normal((1, 3, 32, 32)).astype(np.float16))


if __name__ == "__main__":
    ane_mlp()
    transformer_block()
    mobilenet()
    resnet_w8a8()
