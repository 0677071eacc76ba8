"""`mil quantize --mode w8` against coremltools' `linear_quantize_weights` on the benchmark program.

Builds the benchmark program with coremltools' builder (conv_chain.py: 2,000 3×3 conv + ReLU layers, 30
channels, fp16, 34 MB of weights), saves it with coremltools and decompiles it to MIL text. Then it
times, best of RUNS, quantising every weight to int8 per channel (symmetric, coremltools' defaults):

- coremltools: `linear_quantize_weights(MLModel(package), OpLinearQuantizerConfig())` and `save` of the
  result, in this process (package read, pass, conversion back and package written);
- ours: the `mil quantize --mode w8 --no-psnr` process on the text (start-up, parse, checks, quantisation,
  the text and its weight file written), and apart the same with the report's output PSNR, which runs
  both programs in our interpreter (coremltools measures nothing of the kind).

CPU time is user + system (of this process for coremltools, of the child for ours). The op-by-op equality
of the two results is tested by tests/oracle/test_quantize.py; here the script checks that both replaced
the same number of weights.

Usage: python bench/compare/quantize_vs_coremltools.py [--layers N] [--runs R] [--mil PATH]
"""

import argparse
import pathlib
import sys
import tempfile

import coremltools as ct
import coremltools.optimize as cto

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from compile_vs_coremltools import ROOT, best, run, save_with_coremltools  # noqa: E402
from conv_chain import conv_chain  # noqa: E402


def quantize_with_coremltools(package, out):
    config = cto.coreml.OptimizationConfig(global_config=cto.coreml.OpLinearQuantizerConfig())
    model = ct.models.MLModel(str(package), skip_model_load=True)
    cto.coreml.linear_quantize_weights(model, config).save(str(out))


def quantized_count(package):
    spec = ct.models.MLModel(str(package), skip_model_load=True).get_spec()
    main = spec.mlProgram.functions["main"]
    return sum(op.type == "constexpr_blockwise_shift_scale" for op in main.block_specializations[main.opset].operations)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mil", default=str(ROOT / "target" / "release" / "mil"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        package = tmp / "chain.mlpackage"
        save_with_coremltools(conv_chain(args.layers), package)
        text = tmp / "text" / "chain.mil"
        text.parent.mkdir()
        run(args.mil, "decompile", package, "-o", text)
        theirs = tmp / "theirs.mlpackage"
        coremltools_time = best(args.runs, lambda: quantize_with_coremltools(package, theirs))
        ours = tmp / "ours" / "chain.w8.mil"
        ours.parent.mkdir()
        quantize = [args.mil, "quantize", text, "--mode", "w8", "-o", ours, "--force"]
        ours_time = best(args.runs, lambda: run(*quantize, "--no-psnr"))
        reported_time = best(args.runs, lambda: run(*quantize))
        ours_pkg = tmp / "ours.mlpackage"
        run(args.mil, "compile", ours, "-o", ours_pkg)
        assert quantized_count(theirs) == quantized_count(ours_pkg) > 0
        weights = (package / "Data" / "com.apple.CoreML" / "weights" / "weight.bin").stat().st_size
        print(f"program: {args.layers} conv + ReLU layers, {weights / 1e6:.1f} MB of weights, "
              f"{quantized_count(theirs)} weights quantised to int8 per channel")
        print(f"{'':36} {'wall ms':>8} {'CPU ms':>8}   faster (wall, CPU)")
        for label, (wall, cpu), versus in [("coremltools linear_quantize_weights", coremltools_time, None),
                                           ("mil quantize --mode w8 --no-psnr", ours_time, coremltools_time),
                                           ("  the same with the output PSNR", reported_time, coremltools_time)]:
            faster = f"{versus[0] / wall:6.1f}x {versus[1] / cpu:6.1f}x" if versus else ""
            print(f"{label:36} {wall * 1000:8.0f} {cpu * 1000:8.0f}   {faster}")


if __name__ == "__main__":
    main()
