"""The comparison benchmarks' program, built with coremltools' builder: a chain of 3×3 conv + ReLU
layers, 30 channels of 64×64, fp16, each conv with its own random weight and bias and custom pad 1
(coremltools adds the consts of strides, pad_type, pad, dilations and groups: 9 ops per layer)."""

import coremltools as ct
import numpy as np
from coremltools.converters.mil import Builder as mb
from coremltools.converters.mil.mil import types

CHANNELS, SIZE = 30, 64
OPS_PER_LAYER = 9


def conv_chain(layers):
    """A pymil program of `layers` conv + ReLU layers (weights from a fixed seed)."""
    rng = np.random.default_rng(0)

    @mb.program(input_specs=[mb.TensorSpec(shape=(1, CHANNELS, SIZE, SIZE), dtype=types.fp16)],
                opset_version=ct.target.iOS18)
    def prog(x):
        for _ in range(layers):
            w = (rng.random((CHANNELS, CHANNELS, 3, 3)) / 8).astype(np.float16)
            b = (rng.random((CHANNELS,)) / 8).astype(np.float16)
            x = mb.relu(x=mb.conv(x=x, weight=w, bias=b, pad_type="custom", pad=[1, 1, 1, 1]))
        return x

    return prog
