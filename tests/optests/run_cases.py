"""Runs recorded op-test cases through `mil run` and summarises how many agree.

    python tests/optests/run_cases.py OUT [--summary OUT/summary.md]

For every case folder under `OUT/cases` (written by record.py) whose MIL decompiled cleanly:
`mil run model.mil --input NAME=inputs/NAME.npy ... --output-dir run/`, then each `run/<output>.npy` is
compared with `expected/<output>.npy` under the test's own tolerances (compare.py). A case is

- `agree`: every output within tolerance;
- `disagree`: an output out of tolerance or of another shape (the reason names it);
- `error`: `mil run` failed or wrote no such output (the reason is its first error line);
- `not run`: no expected outputs, a stateful model recorded without its states, a package our
  decompile/check rejects, or a test
  that wraps the comparison in `pytest.raises` (it expects Core ML to fail or to mismatch: under the
  recorder it fails with "DID NOT RAISE", which tests.jsonl shows).

The result of each case goes to `case.json` under `"result"`; the summary (counts, per op type, every
disagreement and error with its reason, and why tests left no case) is printed and written as Markdown.
"""

import argparse
import collections
import json
import pathlib
import subprocess
import tempfile

import numpy as np

from compare import compare_output, tolerances
from record import MIL

TIMEOUT_SECONDS = 120


def not_run_reason(case):
    """Why `case` cannot be run, or None."""
    if case.get("decompile", "ok") != "ok":
        return case["decompile"]
    if not case["outputs"]:
        return "the test gives no expected outputs"
    if case.get("expects_failure"):
        return "the test expects Core ML to fail or mismatch (pytest.raises)"
    if case["stateful"] and not case.get("states"):
        return "stateful model whose states were not recorded"
    return None


def run_case(folder, case):
    """Run one case; returns {"status", "reason"}."""
    reason = not_run_reason(case)
    if reason:
        return {"status": "not run", "reason": reason}
    with tempfile.TemporaryDirectory() as out_dir:
        # A stateful case runs as many times as the test had predicted with its state, each run starting
        # from the states the previous one wrote; the outputs compared are the last run's.
        states = {name: folder / path for name, path in case.get("states", {}).items()}
        for run in range(case.get("runs", 1)):
            run_dir = pathlib.Path(out_dir) / str(run)
            command = [MIL, "run", str(folder / "model.mil"), "--output-dir", str(run_dir)]
            for name, path in [*case["inputs"].items(), *states.items()]:
                command += ["--input", f"{name}={folder / path}"]
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                return {"status": "error", "reason": f"mil run took over {TIMEOUT_SECONDS} s"}
            if result.returncode != 0:
                lines = [line for line in result.stderr.splitlines() if line.strip()]
                errors = [line for line in lines if "error" in line.lower()] or lines or [f"exit {result.returncode}"]
                return {"status": "error", "reason": "mil run: " + errors[0].strip()[:300]}
            states = {name: run_dir / f"{name}.npy" for name in states}
        atol, rtol = tolerances(case)
        problems = []
        for name, path in case["outputs"].items():
            produced = run_dir / f"{name}.npy"
            if not produced.exists():
                return {"status": "error", "reason": f"mil run wrote no output {name}"}
            problem = compare_output(np.load(produced), np.load(folder / path), atol, rtol,
                                     case["allow_mismatch_ratio"], case["compare_shapes"])
            if problem:
                problems.append(f"{name}: {problem}")
    if problems:
        return {"status": "disagree", "reason": "; ".join(problems)}
    return {"status": "agree", "reason": ""}


def test_log(out):
    """The rows of `out/tests.jsonl` (one per test the recorder ran)."""
    log = out / "tests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def run_all(out):
    """Run every case of `out` and store its result; returns the case dicts."""
    expecting_failure = {case_id for row in test_log(out) if "DID NOT RAISE" in row["reason"]
                         for case_id in row["cases"]}
    cases = []
    for case_file in sorted((out / "cases").glob("*/case.json")):
        case = json.loads(case_file.read_text())
        case["expects_failure"] = case["id"] in expecting_failure
        case["result"] = run_case(case_file.parent, case)
        case_file.write_text(json.dumps(case, indent=1))
        cases.append(case)
    return cases


def summarise(out, cases):
    """The counts as a dict: overall, per op type, reasons, and the tests that left no case."""
    status = collections.Counter(c["result"]["status"] for c in cases)
    per_op = collections.defaultdict(collections.Counter)
    for case in cases:
        for op in set(case["ops"] or case["built_ops"]) - {"const"}:
            per_op[op][case["result"]["status"]] += 1
    tests = collections.Counter()
    no_case = collections.Counter()
    for row in test_log(out):
        tests[row["outcome"]] += 1
        if not row["cases"]:
            no_case[f"{row['outcome']}: {row['reason'] or 'finished without a comparison'}"] += 1
    ran = status["agree"] + status["disagree"] + status["error"]
    return {
        "tests": dict(tests),
        "tests_without_case": dict(no_case.most_common()),
        "cases": len(cases),
        "status": dict(status),
        "agree_ratio_of_run": status["agree"] / ran if ran else 0.0,
        "agree_ratio_of_recorded": status["agree"] / len(cases) if cases else 0.0,
        "op_types": len(per_op),
        "op_types_all_agree": sorted(op for op, c in per_op.items() if set(c) == {"agree"}),
        "per_op": {op: dict(c) for op, c in sorted(per_op.items())},
        "problems": [
            {"id": c["id"], "test": c["test"], "ops": c["ops"], **c["result"]}
            for c in cases if c["result"]["status"] != "agree"
        ],
    }


def markdown(summary):
    """The summary as Markdown tables."""
    lines = ["| status | cases |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(summary["status"].items())]
    lines += ["", f"{summary['cases']} cases, {summary['op_types']} op types; agree "
              f"{summary['agree_ratio_of_recorded']:.1%} of recorded, {summary['agree_ratio_of_run']:.1%} of run; "
              f"{len(summary['op_types_all_agree'])} op types agree on every case.", ""]
    lines += ["| op | agree | disagree | error | not run |", "|---|---:|---:|---:|---:|"]
    for op, c in summary["per_op"].items():
        lines.append(f"| {op} | {c.get('agree', 0)} | {c.get('disagree', 0)} | {c.get('error', 0)} "
                     f"| {c.get('not run', 0)} |")
    lines += ["", "| tests without a case | count |", "|---|---:|"]
    lines += [f"| {reason.replace('|', '/')} | {n} |" for reason, n in summary["tests_without_case"].items()]
    lines += ["", "| case | ops | status | reason |", "|---|---|---|---|"]
    for p in summary["problems"]:
        lines.append(f"| {p['test'].split('::', 1)[-1][:90]} | {' '.join(p['ops'])} | {p['status']} "
                     f"| {p['reason'].replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=pathlib.Path, help="the folder record.py wrote")
    parser.add_argument("--summary", type=pathlib.Path, help="Markdown file (default OUT/summary.md)")
    args = parser.parse_args()
    summary = summarise(args.out, run_all(args.out))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    (args.summary or args.out / "summary.md").write_text(markdown(summary))
    print(json.dumps({k: summary[k] for k in ("tests", "cases", "status", "op_types",
                                              "agree_ratio_of_recorded", "agree_ratio_of_run")}, indent=1))


if __name__ == "__main__":
    main()
