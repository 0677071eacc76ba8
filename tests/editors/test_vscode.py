"""The VS Code extension in a real VS Code: code-server with the packaged .vsix installed, driven
by playwright-core in Debian's Chromium (tests/editors/vscode/e2e.mjs), all on 127.0.0.1. One test
per check the run reports; screenshots are left in target/editors/vscode/screenshots. The table
MIL: Run shows is checked against numpy's statistics of the outputs `mil run` writes for the same
file and seed."""

import json
import re
import subprocess

import numpy as np
import pytest

from editor_checks import ROOT, SAMPLE, judge, mil_binary

CHECKS = [
    "install-vsix", "open", "diagnostics", "status-bar-ane", "hover", "hover-device", "quick-fix",
    "run", "compile", "decompile", "placement-report",
]  # fmt: skip
E2E = ROOT / "tests" / "editors" / "vscode"
VSIX = ROOT / "editors" / "vscode" / "mil.vsix"
OUT = ROOT / "target" / "editors" / "vscode"


@pytest.fixture(scope="module")
def vscode_run():
    assert (E2E / "node_modules" / "code-server").exists(), "run scripts/setup-editors first"
    assert VSIX.exists(), "run scripts/setup-editors first (it packages the extension)"
    results = OUT / "results.json"
    results.unlink(missing_ok=True)
    command = [
        "node", str(E2E / "e2e.mjs"),
        "--mil-bin", str(mil_binary()), "--vsix", str(VSIX), "--sample", str(SAMPLE), "--out", str(OUT),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=420)
    assert results.exists(), f"the e2e run wrote no results (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return {c["name"]: c for c in json.loads(results.read_text())}


@pytest.mark.parametrize("name", CHECKS)
def test_vscode(vscode_run, name):
    if "harness" in vscode_run:
        pytest.fail(vscode_run["harness"]["detail"])
    assert name in vscode_run, f"the run stopped before `{name}`: {sorted(vscode_run)}"
    judge(vscode_run[name])


def test_vscode_run_shows_the_statistics_of_mil_runs_outputs(vscode_run, tmp_path):
    """Each row of the table MIL: Run shows in the editor (seeded random inputs) is numpy's shape,
    dtype, min/max/mean of the finite values and non-finite count of the output `mil run` writes for
    the sample with the same seed (the editor's copy differs only by the quick fix's argument key)."""
    run = vscode_run.get("run")
    if run is None or not run["ok"]:
        pytest.fail(f"the editor showed no run table: {run and run['detail']}")
    header, *rows = run["table"]
    assert re.split(r"\s{2,}", header) == ["output", "shape", "dtype", "min", "max", "mean", "non-finite"]
    command = [
        str(mil_binary()), "run", str(SAMPLE), "--random-inputs", "--seed", str(run["seed"]),
        "--output-dir", str(tmp_path),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)
    written = sorted(p.stem for p in tmp_path.glob("*.npy"))
    shown = {}
    for row in rows:
        name, shape, dtype, low, high, mean, non_finite = re.split(r"\s{2,}", row.strip())
        shown[name] = (json.loads(shape), dtype, low, high, mean, int(non_finite))
    assert sorted(shown) == written
    for name, (shape, dtype, low, high, mean, non_finite) in shown.items():
        y = np.load(tmp_path / f"{name}.npy")
        assert shape == list(y.shape), name
        assert dtype == {"float16": "fp16", "float32": "fp32"}.get(str(y.dtype), str(y.dtype)), name
        values = y.astype(np.float64)
        finite = values[np.isfinite(values)]
        assert non_finite == values.size - finite.size, name
        if finite.size == 0:
            assert (low, high, mean) == ("-", "-", "-"), name
            continue
        for text, truth in [(low, finite.min()), (high, finite.max()), (mean, finite.mean())]:
            assert abs(float(text) - truth) <= 1e-6, (name, text, truth)
