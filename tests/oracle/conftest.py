"""Shared fixtures of the oracle tests: Python (coremltools 9, numpy, pytest in /work/main/.venv or any
venv with them) checks what mil-proto writes.

`rust_packages` runs `cargo run -p mil-proto --example oracle_packages -- DIR` once per session (honouring
CARGO_TARGET_DIR) and yields DIR, which holds the packages that example writes.
"""

import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def rust_packages(tmp_path_factory):
    out = tmp_path_factory.mktemp("rust_packages")
    subprocess.run(
        ["cargo", "run", "--quiet", "-p", "mil-proto", "--example", "oracle_packages", "--", str(out)],
        cwd=ROOT,
        check=True,
    )
    return out
