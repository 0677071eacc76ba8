"""The TextMate grammar of the VS Code extension, checked by vscode-tmgrammar-test against the scope
assertions in editors/vscode/test/grammar/*.mil."""

import subprocess

from editor_checks import ROOT


def test_textmate_grammar():
    proc = subprocess.run(
        ["npm", "run", "--silent", "test:grammar"],
        cwd=ROOT / "editors" / "vscode",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "run successfuly" in proc.stdout, proc.stdout
