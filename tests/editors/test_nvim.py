"""The Neovim plugin in Debian's Neovim (0.7.2 on bookworm), headless, against the real `mil lsp`:
tests/editors/nvim/run.lua does what a user does and reports each check; one test per check here."""

import json
import os
import subprocess

import pytest

from editor_checks import ROOT, SAMPLE, judge, mil_binary

CHECKS = ["filetype", "attach", "diagnostics", "hover", "hover-device", "code-action", "placement", "compile", "compile-message", "run", "decompile"]


@pytest.fixture(scope="module")
def nvim_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("nvim")
    results = work / "results.json"
    env = dict(
        os.environ,
        MIL_BIN=str(mil_binary()),
        MIL_SAMPLE=str(SAMPLE),
        MIL_WORK=str(work),
        MIL_RESULTS=str(results),
    )
    command = [
        "nvim", "--headless", "--clean", "-u", "NONE",
        "--cmd", f"set rtp^={ROOT / 'editors' / 'nvim'}",
        "-c", "filetype plugin on",
        "-c", f"luafile {ROOT / 'tests' / 'editors' / 'nvim' / 'run.lua'}",
    ]  # fmt: skip
    proc = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, timeout=180)
    assert results.exists(), f"nvim wrote no results (exit {proc.returncode}): {proc.stderr[-2000:]}"
    checks = {c["name"]: c for c in json.loads(results.read_text())}
    return checks


@pytest.mark.parametrize("name", CHECKS)
def test_nvim(nvim_run, name):
    if "harness" in nvim_run:
        pytest.fail(nvim_run["harness"]["detail"])
    assert name in nvim_run, f"the run stopped before `{name}`: {sorted(nvim_run)}"
    judge(nvim_run[name])


def test_nvim_version_is_the_one_ci_has():
    """The plugin's 0.7 path (vim.lsp.start_client) is what Debian bookworm's Neovim exercises."""
    out = subprocess.run(["nvim", "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("NVIM v0."), out
