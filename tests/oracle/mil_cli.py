"""The `mil` binary the oracle tests drive: target/release/mil, or $MIL_BIN."""

import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))


def mil(*args):
    """Runs `mil ARGS...`, requires exit 0, and returns its standard output."""
    run = subprocess.run([MIL, *map(str, args)], capture_output=True, text=True)
    assert run.returncode == 0, f"mil {' '.join(map(str, args))} exited {run.returncode}:\n{run.stderr[:4000]}"
    return run.stdout
