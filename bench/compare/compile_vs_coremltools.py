"""`mil compile` and `mil decompile` against coremltools saving and loading the same program.

Builds the benchmark program with coremltools' builder: a chain of 2,000 3×3 conv + ReLU layers, 30
channels, fp16 (34 MB of weights; coremltools adds a `groups` const to each conv, so 9 ops per layer).
Then it times, best of RUNS:

- coremltools save: `ct.convert` of the built program (no optimisation passes: the backend turns the
  pymil program into the Model proto and writes the weights) and `MLModel.save` of the package;
- ours, compile: the `mil compile` process on the same program as MIL text (our decompile of the
  package coremltools saved), start-up, parse, checks and package writing included;
- coremltools load: reading the package's spec and `coremltools.converters.mil.frontend.milproto.load`
  (the Model proto → pymil program, weights read from weight.bin);
- ours, decompile: the `mil decompile` process on the package coremltools saved.

Wall-clock and CPU time (user + system, of this process for coremltools and of the child process for
ours) are both reported: on a shared machine the CPU time is the steadier measure.

It checks that our package equals coremltools' op by op (test_decompile_round_trip.compare_programs).

Usage: python bench/compare/compile_vs_coremltools.py [--layers N] [--runs R] [--mil PATH]
"""

import argparse
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import coremltools as ct
from coremltools.converters.mil.frontend.milproto.load import load as milproto_load

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from conv_chain import conv_chain  # noqa: E402
sys.path.insert(0, str(ROOT / "tests" / "oracle"))
from test_decompile_round_trip import compare_programs  # noqa: E402


def save_with_coremltools(prog, package):
    model = ct.convert(prog, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS18,
                       pass_pipeline=ct.PassPipeline.EMPTY, compute_precision=ct.precision.FLOAT16)
    model.save(str(package))


def load_with_coremltools(package):
    model = ct.models.MLModel(str(package), skip_model_load=True)
    spec = model.get_spec()
    return milproto_load(spec, spec.specificationVersion, model.weights_dir)


def cpu_seconds():
    """CPU time (user + system) of this process and of its finished children."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def best(runs, f):
    """The best wall-clock time and the best CPU time of `runs` calls of `f`."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), cpu_seconds()
        f()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return min(walls), min(cpus)


def run(*args):
    subprocess.run([str(a) for a in args], check=True, capture_output=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mil", default=str(ROOT / "target" / "release" / "mil"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        prog = conv_chain(args.layers)
        theirs_pkg = tmp / "coremltools.mlpackage"
        save_theirs = best(args.runs, lambda: save_with_coremltools(prog, theirs_pkg))
        text = tmp / "text" / "chain.mil"
        text.parent.mkdir()
        decompile = best(args.runs, lambda: run(args.mil, "decompile", theirs_pkg, "-o", text))
        ours_pkg = tmp / "ours.mlpackage"
        compile_ = best(args.runs, lambda: run(args.mil, "compile", text, "-o", ours_pkg))
        load_theirs = best(args.runs, lambda: load_with_coremltools(theirs_pkg))
        compare_programs(theirs_pkg, ours_pkg)

        spec = ct.models.MLModel(str(theirs_pkg), skip_model_load=True).get_spec()
        ops = sum(len(b.operations) for b in spec.mlProgram.functions["main"].block_specializations.values())
        weights = (theirs_pkg / "Data" / "com.apple.CoreML" / "weights" / "weight.bin").stat().st_size
        print(f"program: {args.layers} conv + ReLU layers, {ops} ops, {weights / 1e6:.1f} MB of weights, "
              f"{text.stat().st_size / 1e6:.1f} MB of MIL text")
        rows = [("coremltools convert + save", save_theirs, None), ("mil compile", compile_, save_theirs),
                ("coremltools spec + load", load_theirs, None), ("mil decompile", decompile, load_theirs)]
        print(f"{'':28} {'wall ms':>8} {'CPU ms':>8}   faster (wall, CPU)")
        for label, (wall, cpu), versus in rows:
            faster = f"{versus[0] / wall:6.1f}x {versus[1] / cpu:6.1f}x" if versus else ""
            print(f"{label:28} {wall * 1000:8.0f} {cpu * 1000:8.0f}   {faster}")
        shutil.rmtree(theirs_pkg)


if __name__ == "__main__":
    main()
