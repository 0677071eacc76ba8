"""The VS Code extension in a real VS Code: code-server with the packaged .vsix installed, driven
by playwright-core in Debian's Chromium (tests/editors/vscode/e2e.mjs), all on 127.0.0.1. One test
per check the run reports; screenshots are left in target/editors/vscode/screenshots."""

import json
import subprocess

import pytest

from editor_checks import ROOT, SAMPLE, judge, mil_binary

CHECKS = [
    "install-vsix", "open", "diagnostics", "status-bar-ane", "hover", "hover-device", "quick-fix",
    "compile", "decompile", "placement-report",
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
