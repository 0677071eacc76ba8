"""Shared by the editor tests: where the `mil` binary is, the sample, and how a check is judged.

The binary is `$MIL_BIN`, else `$CARGO_TARGET_DIR/release/mil`, else `target/release/mil` (what
scripts/test builds), as in tests/lsp.
"""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "hand_written.mil"


def mil_binary() -> pathlib.Path:
    if os.environ.get("MIL_BIN"):
        return pathlib.Path(os.environ["MIL_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "mil"


def judge(check: dict):
    """Passes or fails one check {name, ok, detail} an editor run reported."""
    if not check["ok"]:
        pytest.fail(f"{check['name']}: {check['detail']}")
