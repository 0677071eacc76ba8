"""Our type inference against coremltools': every type vector (type_vectors.py) written as MIL text
with coremltools' inferred types declared passes `mil check` without an error, our inference gives
exactly coremltools' types for every op, and each vector with one declared type made wrong is
rejected at that statement with MIL0409 (or MIL0410 for a missing result), and nothing above it is.

Needs target/release/mil (scripts/test builds it; MIL_BIN overrides) and builds the
`infer_types` example of mil-ir with cargo.
"""

import json
import os
import re
import subprocess

import pytest

import type_vectors
from conftest import ROOT

MIL = os.environ.get("MIL_BIN", str(ROOT / "target" / "release" / "mil"))


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    out = tmp_path_factory.mktemp("type_vectors")
    return out, type_vectors.write_vectors(out)


def mil_check(files):
    """Runs `mil check --format json` on `files`; returns its diagnostics."""
    run = subprocess.run([MIL, "check", "--format", "json", *map(str, files)], capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def errors(diagnostics):
    return [d for d in diagnostics if d["severity"] == "error"]


def test_vectors_cover_the_opsets_and_enough_op_types(vectors):
    _, printed = vectors
    ops = {kind for p in printed.values() for _, kind, _ in p.statements}
    opsets = {c.opset for c in type_vectors.CASES}
    assert len(ops) >= 110, sorted(ops)
    assert opsets == {"ios15", "ios16", "ios17", "ios18"}


def test_mil_check_accepts_every_vector(vectors):
    out, printed = vectors
    # `mil check` also reports what `mil compile` would refuse; a vector exercises one op's types,
    # and some (bool or uint16 inputs and outputs) are no model Core ML can pass values in and
    # out of (MIL0503), which is not what this test is about.
    found = [d for d in errors(mil_check(out / f"{name}.mil" for name in printed)) if d["code"] != "MIL0503"]
    assert found == [], "\n".join(f"{d['file']}:{d['range']['start']['line'] + 1} {d['code']} {d['message']}" for d in found)


def normal(ty):
    """A type with rank-0 tensors spelled as bare scalars (the two spellings mean the same)."""
    return re.sub(r"tensor<(\w+), \[\]>", r"\1", ty)


def test_inference_gives_coremltools_types(vectors):
    out, printed = vectors
    subprocess.run(["cargo", "build", "--quiet", "-p", "mil-ir", "--example", "infer_types"], cwd=ROOT, check=True)
    exe = os.path.join(target_dir(), "debug", "examples", "infer_types")
    files = [str(out / f"{name}.mil") for name in printed]
    run = subprocess.run([exe, *files], capture_output=True, text=True, check=True)
    ours = {}
    for line in run.stdout.splitlines():
        row = json.loads(line)
        ours[(os.path.basename(row["file"]), row["line"])] = row
    mismatches = []
    for name, p in printed.items():
        for line, kind, expected in p.statements:
            row = ours.get((f"{name}.mil", line))
            got = row.get("types") if row else None
            if got is None or [normal(t) for t in got] != [normal(t) for t in expected]:
                mismatches.append(f"{name}.mil:{line} {kind}: coremltools {expected}, ours {row}")
    assert mismatches == [], "\n".join(mismatches)


def wrong(ty):
    """`ty` made wrong: its first known dim grown by one, or for a scalar another dtype."""
    m = re.search(r"\[(\d+)", ty)
    if m:
        return ty[: m.start(1)] + str(int(m.group(1)) + 1) + ty[m.end(1):]
    swap = {"fp32": "fp16", "fp16": "fp32", "int32": "int8", "bool": "int32", "uint16": "int32", "int8": "int32"}
    return re.sub(r"\b(fp32|fp16|int32|bool|uint16|int8)\b", lambda m: swap[m.group(1)], ty, count=1)


def test_wrong_declared_types_are_rejected_at_their_statement(vectors, tmp_path):
    out, printed = vectors
    expected = {}
    for name, p in printed.items():
        lines = (out / f"{name}.mil").read_text().split("\n")
        for line, kind, types in p.statements:
            if not types or not re.match(r"(tensor<|\w+ )", types[0]):
                continue
            text = lines[line - 1]
            bad = wrong(types[0])
            assert text.lstrip().startswith(types[0]), (name, text)
            mutated = lines[: line - 1] + [text.replace(types[0], bad, 1)] + lines[line:]
            path = tmp_path / f"{name}_{line}.mil"
            path.write_text("\n".join(mutated))
            expected[str(path)] = (line, "MIL0409")
            if len(types) > 1:
                # Drop the last declared result: the op has more results than the statement declares.
                head, _, rest = text.partition(" = ")
                fewer = head[: head.rindex(f", {types[-1]} ")] + " = " + rest
                path = tmp_path / f"{name}_{line}_count.mil"
                path.write_text("\n".join(lines[: line - 1] + [fewer] + lines[line:]))
                expected[str(path)] = (line, "MIL0410")
    assert len(expected) >= 180
    found = {}
    for d in errors(mil_check(expected)):
        found.setdefault(d["file"], []).append((d["range"]["start"]["line"] + 1, d["code"]))
    # Statements after the wrong one may be reported too: they see the wrong declared type.
    wrongly = {
        f: (want, found.get(f))
        for f, want in expected.items()
        if [e for e in found.get(f, []) if e[0] <= want[0]] != [want]
    }
    assert wrongly == {}, "\n".join(f"{f}: want {w}, found {g}" for f, (w, g) in sorted(wrongly.items()))
