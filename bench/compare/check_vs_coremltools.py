"""`mil check` against coremltools loading the same program.

Builds a chain of conv + ReLU layers with coremltools' builder (about 16k ops by default: each layer
is a conv, a relu and the seven consts of the conv's weight, bias, strides, pad_type, pad, dilations
and groups), saves it as an .mlpackage without optimisation passes, and writes the same program as
MIL text beside the package's weight file (the weights as BLOBFILE references into it). Then it
times, best of RUNS:

- coremltools: `coremltools.converters.mil.frontend.milproto.load` of the package's Model proto,
  in this process (coremltools already imported);
- ours: the `mil check --format json` process on the text (parse, verify, op checks with type
  inference, weight-file checks), start-up included.

Usage: python bench/compare/check_vs_coremltools.py [--ops N] [--runs R] [--mil PATH] [--keep DIR]
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile
import time

import coremltools as ct
from coremltools.converters.mil.frontend.milproto.load import load as milproto_load

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from conv_chain import OPS_PER_LAYER, conv_chain  # noqa: E402
sys.path.insert(0, str(ROOT / "tests" / "oracle"))
from mil_text import print_program  # noqa: E402


def blob_offsets(spec):
    """Const name → (path, offset) for every const the package keeps in its weight file."""
    out = {}
    for block in spec.mlProgram.functions["main"].block_specializations.values():
        for op in block.operations:
            if op.type != "const" or "val" not in op.attributes:
                continue
            value = op.attributes["val"]
            if value.WhichOneof("value") == "blobFileValue":
                out[op.outputs[0].name] = (value.blobFileValue.fileName, value.blobFileValue.offset)
    return out


def best(runs, f):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=16_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mil", default=str(ROOT / "target" / "release" / "mil"))
    parser.add_argument("--keep", help="write the package and text into this folder and keep them")
    args = parser.parse_args()
    layers = args.ops // OPS_PER_LAYER
    with tempfile.TemporaryDirectory() as tmp:
        if args.keep:
            tmp = args.keep
            pathlib.Path(tmp).mkdir(parents=True, exist_ok=True)
        prog = conv_chain(layers)
        model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS18,
                           pass_pipeline=ct.PassPipeline.EMPTY, compute_precision=ct.precision.FLOAT16)
        package = pathlib.Path(tmp) / "chain.mlpackage"
        model.save(str(package))
        model = ct.models.MLModel(str(package), skip_model_load=True)
        spec, weights = model.get_spec(), model.weights_dir
        ops = sum(len(b.operations) for b in spec.mlProgram.functions["main"].block_specializations.values())

        loaded = milproto_load(spec, spec.specificationVersion, weights)
        text = print_program(loaded, blob_offsets(spec)).text
        mil_file = pathlib.Path(weights).parent / "model.mil"
        mil_file.write_text(text)
        check = [args.mil, "check", "--format", "json", str(mil_file)]
        result = subprocess.run(check, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"mil check found errors in the benchmark program:\n{result.stdout[:2000]}")

        theirs = best(args.runs, lambda: milproto_load(spec, spec.specificationVersion, weights))
        ours = best(args.runs, lambda: subprocess.run(check, capture_output=True, check=True))
        print(f"program: {ops} ops, {len(text) / 1e6:.1f} MB of MIL text")
        print(f"coremltools milproto.load: {theirs * 1000:.0f} ms")
        print(f"mil check:                 {ours * 1000:.0f} ms")
        print(f"mil check is {theirs / ours:.0f}x faster")


if __name__ == "__main__":
    main()
