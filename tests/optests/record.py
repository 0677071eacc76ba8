"""Records coremltools' op unit tests as cases and turns each case's package into our MIL text.

    python tests/optests/record.py OUT [--select iOS14/test_activation.py ...] [-k EXPR] [--max-per-test N]
                                       [--cover]

1. runs pytest on the selected op test modules of the installed coremltools wheel (all of iOS14..iOS18
   by default) with `recorder_plugin` loaded, for the mlprogram backends in fp16 and fp32
   (`PYMIL_TEST_TARGETS=mlprogram`, `INCLUDE_MIL_FP32_UNIT_TESTS=1`), which writes `OUT/cases/*` and
   `OUT/tests.jsonl` (see recorder_plugin.py), keeping N parametrizations of each test function and
   precision when `--max-per-test N` is given (and, with `--cover`, more until every value of every
   parameter is kept once);
2. runs `mil decompile` on every case's `model.mlpackage` (to `model.mil` beside it) and `mil check
   --format json` on the result, and stores in `case.json` under `"decompile"` either `"ok"` or why not
   (the failing command's message or the first error diagnostic).

The `mil` binary is target/release/mil or $MIL_BIN.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))
VERSIONS = ["iOS14", "iOS15", "iOS16", "iOS17", "iOS18"]


def op_tests_dir():
    """The folder of the installed wheel's op tests."""
    import coremltools

    return pathlib.Path(coremltools.__file__).parent / "converters" / "mil" / "mil" / "ops" / "tests"


def run_pytest(out, select, keyword=None, max_per_test=0, cover=False):
    """Run the selected op test files (paths relative to the op tests folder) with the recorder; with
    `cover`, sampling keeps every value of every parameter (recorder_plugin's `OPTESTS_COVER`)."""
    tests = op_tests_dir()
    targets = [str(tests / s) for s in select] if select else [str(tests / v) for v in VERSIONS]
    env = dict(os.environ, OPTESTS_OUT=str(out), PYMIL_TEST_TARGETS="mlprogram",
               INCLUDE_MIL_FP32_UNIT_TESTS="1", OPTESTS_MAX_PER_TEST=str(max_per_test),
               OPTESTS_COVER="1" if cover else "0",
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    # The rootdir is coremltools' converters/mil so that its conftest.py names the parameters
    # (`backend=BackendConfig(... precision='fp16' ...)`), which the plugin's sampling reads.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "recorder_plugin",
               f"--rootdir={tests.parents[2]}",
               "--continue-on-collection-errors", "-W", "ignore", "--tb=line", "--no-header", *targets]
    if keyword:
        command += ["-k", keyword]
    # The op tests' own failures (they predict on macOS only) are data here, not an error of this run.
    result = subprocess.run(command, cwd=out, env=env, capture_output=True, text=True)
    (out / "pytest.log").write_text(result.stdout + result.stderr)
    return result.returncode


def decompile_case(folder):
    """Decompile and check one case folder; returns "ok" or the reason it failed."""
    mil_file = folder / "model.mil"
    result = subprocess.run([MIL, "decompile", str(folder / "model.mlpackage"), "-o", str(mil_file)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["exit %d" % result.returncode]
        return "decompile: " + next((line for line in lines if line.startswith("error")), lines[0])
    result = subprocess.run([MIL, "check", "--format", "json", str(mil_file)], capture_output=True, text=True)
    try:
        diagnostics = json.loads(result.stdout)
    except json.JSONDecodeError:
        return "check: " + (result.stderr.strip().splitlines() or ["no JSON output"])[0]
    errors = [d for d in diagnostics if d["severity"] == "error"]
    if errors:
        first = errors[0]
        return f"check: {first['code']} {first['message']} (line {first['range']['start']['line'] + 1})"
    return "ok"


def decompile_all(out):
    """Decompile every recorded case that has not been decompiled yet."""
    for case_file in sorted((out / "cases").glob("*/case.json")):
        case = json.loads(case_file.read_text())
        if "decompile" in case:
            continue
        case["decompile"] = decompile_case(case_file.parent)
        case_file.write_text(json.dumps(case, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=pathlib.Path, help="folder for cases/ and tests.jsonl")
    parser.add_argument("--select", nargs="*", default=[],
                        help="test files or folders relative to the op tests folder (default: iOS14..iOS18)")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression")
    parser.add_argument("--max-per-test", type=int, default=0,
                        help="keep N parametrizations per test function and precision (0: all)")
    parser.add_argument("--cover", action="store_true",
                        help="with --max-per-test, keep more until every parameter value is kept once")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run_pytest(args.out.resolve(), args.select, args.keyword, args.max_per_test, args.cover)
    decompile_all(args.out)


if __name__ == "__main__":
    main()
