"""Shared by the editor tests: where the `mil` binary is, the samples, and the checks that wait for a
server feature that has not landed yet.

The binary is `$MIL_BIN`, else `$CARGO_TARGET_DIR/release/mil`, else `target/release/mil` (what
scripts/test builds), as in tests/lsp.
"""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "hand_written.mil"

# Checks whose feature the server does not have yet, with what they wait for. Such a check that
# fails is reported as an expected failure; once the feature lands it passes, and the entry goes.
PENDING = {
    "hover-device": "placement in the op hover (issue 6: device, reason, cost per backend) is not in mil lsp yet",
}


def mil_binary() -> pathlib.Path:
    if os.environ.get("MIL_BIN"):
        return pathlib.Path(os.environ["MIL_BIN"])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "mil"


def judge(check: dict):
    """Passes, fails or expects the failure of one check {name, ok, detail} an editor run reported."""
    if check["ok"]:
        return
    if check["name"] in PENDING:
        pytest.xfail(f"{PENDING[check['name']]}: {check['detail']}")
    pytest.fail(f"{check['name']}: {check['detail']}")
