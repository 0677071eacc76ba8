"""`mil fix` over the corpus: every op a rewrite covers leaves the CPU, and the result computes the same.

For every program of `shared/corpus/analytics/` (Core ML's one-op models between convs, written by
Core ML itself) and of `samples/`, in a scratch folder:

- weight files the corpus does not carry (the analytics models name `weights/weights.bin`, which is not
  published) are made with coremltools' own blob writer, random fp16 values (zero for integer
  tensors, which are gather indices), and must land at the offsets the text names;
- `mil fix -o fixed.mil` applies every rewrite that helps on the default chip;
- in the result, every op the planner finds ineligible whose finding names a rewrite of
  `mil fix --list` is one that rewrite does not help on this chip (`mil fix --rewrite ID` declines
  it; the table says so), and `mil fix` on the result changes nothing;
- the original and the result run in the interpreter on the same random inputs and agree: PSNR ≥ 60 dB
  for fp16 outputs, max relative error ≤ 1e-5 for fp32 ones, integer outputs equal;
- where the original compiles (the analytics models do not: their inputs and outputs are Core ML's
  runtime buffers, which a package cannot hold), the result compiles and coremltools' milproto
  loader reads the package;
- the count of refused ops before and after, per file, is the table in docs/rewrites.md
  (`MIL_UPDATE_DOCS=1` rewrites that table from this run).

Needs the `mil` binary: target/release/mil or $MIL_BIN.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest
from coremltools.libmilstoragepython import _BlobStorageWriter

from package_checks import load_with_coremltools

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))
ANALYTICS = ROOT.parent / "shared" / "corpus" / "analytics"
DOC = ROOT / "docs" / "rewrites.md"
TABLE_START, TABLE_END = "<!-- fix-corpus:start -->", "<!-- fix-corpus:end -->"
BLOB = re.compile(
    r'tensor<(\w+), \[([\d, ]*)\]>\(BLOBFILE\(path = string\("([^"]+)"\), offset = uint64\((\d+)\)\)\)'
)
FIX_ID = re.compile(r"`([a-z0-9-]+)`")
# What only a package cannot hold (MIL05xx): Core ML's analytics files declare runtime buffers as
# inputs and outputs, which run and rewrite but do not compile.
PACKAGE_CODES = "MIL05"


def mil(*args, ok=True):
    run = subprocess.run([MIL, "--color", "never", *map(str, args)], capture_output=True, text=True)
    if ok:
        assert run.returncode == 0, f"mil {' '.join(map(str, args))} exited {run.returncode}:\n{run.stdout[-2000:]}\n{run.stderr[-4000:]}"
    return run


def programs():
    paths = sorted(ANALYTICS.glob("*.mil")) + sorted((ROOT / "samples").glob("*.mil"))
    assert len(paths) > 80, f"the corpus is missing: {ANALYTICS}"
    return paths


def rewrite_ids():
    """The ids of the rewrites `mil fix` applies unasked (`mil fix --list` without "only when named")."""
    lines = mil("fix", "--list").stdout.splitlines()
    return {line.split()[0] for line in lines if line.strip() and "(only when named)" not in line}


def write_missing_weights(text, folder):
    """Writes each weight file `text` names that `folder` lacks, with coremltools' writer, blob by blob
    in offset order; the writer must put each blob where the text says."""
    blobs = {}
    for dtype, shape, path, offset in BLOB.findall(text):
        count = int(np.prod([int(d) for d in shape.split(",") if d.strip()] or [1]))
        blobs.setdefault(path, {})[int(offset)] = (dtype, count)
    rng = np.random.default_rng(3)
    for path, at in blobs.items():
        file = folder / path.removeprefix("@model_path/")
        if file.exists():
            continue
        file.parent.mkdir(parents=True, exist_ok=True)
        writer = _BlobStorageWriter(str(file))
        for offset in sorted(at):
            dtype, count = at[offset]
            if dtype == "fp16":
                values = (rng.standard_normal(count) * 0.05).astype(np.float16)
                written = writer.write_fp16_data(values.view(np.uint16))
            elif dtype == "fp32":
                written = writer.write_float_data(rng.standard_normal(count).astype(np.float32) * 0.05)
            else:
                written = getattr(writer, f"write_{dtype}_data")(np.zeros(count, dtype=getattr(np, dtype)))
            assert written == offset, f"{file.name}: coremltools wrote the blob at {written}, the text names {offset}"
        del writer


def errors_by_code(path):
    """The codes of the errors `mil check` finds in `path`."""
    found = json.loads(mil("check", "--format", "json", path, ok=False).stdout)
    return sorted({d["code"] for d in found if d["severity"] == "error"})


def placement(path):
    return json.loads(mil("placement", "--format", "json", path).stdout)


def refused(report):
    """The ineligible ops of every function: (function, var, kind, rule)."""
    return [
        (f["name"], op["var"], op["op"], op["rule"])
        for f in report["functions"]
        for op in f["ops"]
        if not op["ane_eligible"] and op["op"] != "const"
    ]


def fixes_named(report, ids):
    """Each ineligible op whose finding names a fix that `ids` has: (var, kind, fix)."""
    ineligible = {(name, var): rule for name, var, _, rule in refused(report)}
    named = []
    for f in report["functions"]:
        kinds = {op["var"]: op["op"] for op in f["ops"]}
        for finding in f["findings"]:
            if ineligible.get((f["name"], finding["at"])) != finding["code"]:
                continue
            for fix in FIX_ID.findall(finding.get("fix") or ""):
                if fix in ids:
                    named.append((finding["at"], kinds.get(finding["at"]), fix))
    return named


def outputs(folder):
    return {p.stem: np.load(p) for p in sorted(folder.glob("*.npy"))}


def assert_same_outputs(want, got, name):
    assert want.keys() == got.keys(), f"{name}: outputs {sorted(got)} against {sorted(want)}"
    for key, w in want.items():
        g = got[key]
        assert g.shape == w.shape and g.dtype == w.dtype, f"{name}: {key} is {g.dtype}{g.shape}, was {w.dtype}{w.shape}"
        if w.dtype.kind in "iub":
            assert np.array_equal(w, g), f"{name}: {key} differs"
            continue
        w64, g64 = w.astype(np.float64), g.astype(np.float64)
        assert np.array_equal(np.isfinite(w64), np.isfinite(g64)), f"{name}: {key}: non-finite values differ"
        finite = np.isfinite(w64)
        error = np.abs(g64[finite] - w64[finite])
        if w.dtype == np.float16:
            peak = np.abs(w64[finite]).max(initial=0.0)
            mse = float(np.mean(error**2)) if error.size else 0.0
            psnr = np.inf if mse == 0 else 10 * np.log10(peak * peak / mse)
            assert psnr >= 60, f"{name}: {key}: PSNR {psnr:.1f} dB < 60 dB"
        else:
            relative = error / np.maximum(np.abs(w64[finite]), 1e-6)
            assert relative.max(initial=0.0) <= 1e-5, f"{name}: {key}: relative error {relative.max():.3g}"


def fix_one(source, scratch, ids):
    """Runs the whole check on one program; returns its row of the table, or None when nothing was
    refused and nothing rewritten."""
    name = source.name
    folder = scratch / source.stem
    folder.mkdir()
    original = folder / name
    shutil.copy(source, original)
    weights = source.with_suffix(".weights")
    if weights.is_dir():
        shutil.copytree(weights, folder / weights.name)
    write_missing_weights(original.read_text(), folder)
    errors = errors_by_code(original)
    assert not [c for c in errors if not c.startswith(PACKAGE_CODES)], f"{name}: errors {errors}"
    packageable = not errors

    before = placement(original)
    fixed = folder / "fixed.mil"
    applied = mil("fix", "-o", fixed, original).stdout
    if not fixed.exists():
        assert "no rewrite helps" in applied, applied
        shutil.copy(original, fixed)
    after = placement(fixed)
    left = fixes_named(after, ids)
    declined = []
    for var, kind, fix in left:
        # A rewrite that takes the op but does not help on this chip is not applied (issue 16:
        # offered only when it helps); anything else left is a rewrite `mil fix` failed to apply.
        alone = mil("fix", "--dry-run", "--rewrite", fix, fixed).stdout
        assert "no rewrite helps" in alone, f"{name}: `{var}` ({kind}) is still ineligible though `{fix}` applies:\n{alone}"
        declined.append(f"`{fix}` on {kind} does not help")
    again = mil("fix", "--dry-run", fixed).stdout
    assert "no rewrite helps" in again, f"{name}: a second `mil fix` still changes it:\n{again}"

    changed = fixed.read_text() != original.read_text()
    proof = "—"
    if changed:
        runs = {}
        for side in (original, fixed):
            out = folder / f"{side.stem}.out"
            run = mil("run", side, "--random-inputs", "--seed", "7", "--output-dir", out, ok=side == fixed)
            if run.returncode != 0:
                # Random inputs do not suit every model (indices out of range): then the result
                # must fail the same way, and the proof is left to the rewrites' own tests.
                proof = "not run: " + run.stderr.strip().splitlines()[-1].removeprefix("mil: ")
                break
            runs[side.stem] = outputs(out)
        else:
            assert_same_outputs(runs[original.stem], runs[fixed.stem], name)
            proof = "equal"
        if packageable:
            package = folder / "fixed.mlpackage"
            mil("compile", fixed, "-o", package)
            load_with_coremltools(package)

    was, now = refused(before), refused(after)
    rewrites = sorted({fix for _, _, fix in fixes_named(before, ids)} - {fix for _, _, fix in left})
    still_named = "; ".join(dict.fromkeys(declined))  # each rewrite and kind once
    if not was and not rewrites:
        return None
    still = ", ".join(sorted(f"{kind} ({rule})" for _, _, kind, rule in now)) or "—"
    if still_named:
        still += f" — {still_named}"
    done = (", ".join(f"`{r}`" for r in rewrites) or "eligible ops only (layout)") if changed else "—"
    return f"| {name} | {len(was)} → {len(now)} | {done} | {still} | {proof} |"


def test_fix_covers_every_refused_op_it_can_and_keeps_the_result(tmp_path):
    ids = rewrite_ids()
    rows = [row for path in programs() if (row := fix_one(path, tmp_path, ids))]
    table = "\n".join(
        [
            "| file | refused ops before → after | rewrites applied | still refused (rule) | in the interpreter |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )
    text = DOC.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    if os.environ.get("MIL_UPDATE_DOCS"):
        DOC.write_text(text[:start] + "\n" + table + "\n" + text[end:])
        return
    assert text[start:end].strip() == table, (
        "docs/rewrites.md's corpus table is not this run's (MIL_UPDATE_DOCS=1 rewrites it):\n" + table
    )
