"""The VS Code extension's tests that need no editor: the TextMate grammar checked by
vscode-tmgrammar-test against the scope assertions in editors/vscode/test/grammar/*.mil, and the
unit tests of the extension's own logic (node's test runner, editors/vscode/test/unit)."""

import subprocess

from editor_checks import ROOT

EXTENSION = ROOT / "editors" / "vscode"


def npm_run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["npm", "run", "--silent", script], cwd=EXTENSION, capture_output=True, text=True, timeout=120
    )


def test_textmate_grammar():
    proc = npm_run("test:grammar")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "run successfuly" in proc.stdout, proc.stdout


def test_extension_unit_tests():
    proc = npm_run("test:unit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "# fail 0" in proc.stdout and "# pass 0" not in proc.stdout, proc.stdout
