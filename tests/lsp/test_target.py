"""The chip and compute units are an input of every analysis (docs/configuration.md): with
`chip = "m1"` in the mil.toml above a file, nothing the server publishes, hovers or reports speaks of
another chip, and `mil check` prints the same diagnostics the server publishes for that file."""

import json
import re
import subprocess

import pytest
import pytest_lsp
from conftest import CLIENTS, mil_binary, server_config, start
from lsprotocol import types
from pytest_lsp import LanguageClient
from util import diagnostics_of, open_doc, position

pytestmark = pytest.mark.asyncio

# A 3×3 conv on iOS 18: on the M4 (the default chip) ANE113 advises W8A8 "on the m4"; the M1 has no
# int8 compute, so there it is not advised at all. The ops after it give placement and estimates.
CONV = """program(1.3)
{
    func main<ios18>(tensor<fp16, [1, 64, 32, 32]> x) {
            tensor<fp16, [1, 64, 32, 32]> y = conv(x = x, weight = tensor<fp16, [64, 64, 3, 3]>(BLOBFILE(path = string("@model_path/weights/weight.bin"), offset = uint64(64))), pad_type = string("same"))[name = string("y")];
            tensor<fp16, [1, 64, 32, 32]> r = relu(x = y)[name = string("r")];
            tensor<int32, [1, 32, 32]> i = reduce_argmax(x = r, axis = int32(1))[name = string("i")];
        } -> (i);
}
"""

CHIPS = ["a14", "a15", "a16", "a17pro", "a18", "a18pro", "m1", "m2", "m3", "m4"]


def chips_named(text: str) -> set:
    """The chips a text speaks of (by the names the tools print)."""
    return {m.lower() for m in re.findall(r"\b(" + "|".join(CHIPS) + r")\b", text, re.IGNORECASE)}


@pytest_lsp.fixture(config=server_config(), params=CLIENTS)
async def on_m1(request, lsp_client: LanguageClient, tmp_path):
    # The settings file is in the workspace folder, the program one folder below: both the server
    # and `mil check` look for the nearest mil.toml above the file.
    (tmp_path / "mil.toml").write_text('chip = "m1"\n[severity]\nANE109 = "hint"\n')
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "conv.mil").write_text(CONV)
    lsp_client.root = tmp_path
    await start(lsp_client, request.param, tmp_path)
    yield
    await lsp_client.shutdown_session()


def mil_check(*args):
    out = subprocess.run([mil_binary(), "check", "--format", "json", *args], capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


SEVERITY = {
    types.DiagnosticSeverity.Error: "error",
    types.DiagnosticSeverity.Warning: "warning",
    types.DiagnosticSeverity.Information: "information",
    types.DiagnosticSeverity.Hint: "hint",
}


def published_set(diags):
    return {
        (d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
         SEVERITY[d.severity], d.message)
        for d in diags
    }


def checked_set(found):
    return {
        (d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"], d["range"]["end"]["line"],
         d["range"]["end"]["character"], d["severity"], d["message"])
        for d in found
    }


async def test_the_default_chip_is_named_without_a_settings_file(tmp_path):
    """The control of the tests below: the same program on the default chip speaks of the m4."""
    path = tmp_path / "conv.mil"
    path.write_text(CONV)
    (tmp_path / "empty.toml").write_text("")
    found = mil_check("--config", str(tmp_path / "empty.toml"), str(path))
    assert "ANE113" in {d["code"] for d in found}
    assert chips_named(" ".join(d["message"] for d in found)) == {"m4"}


async def test_nothing_published_hovered_or_reported_names_another_chip(on_m1):
    client = on_m1
    path = client.root / "models" / "conv.mil"
    uri = path.as_uri()
    await open_doc(client, uri, CONV)
    diags = await diagnostics_of(client, uri, 1)
    assert "ANE113" not in {d.code for d in diags}, "the m1 has no int8 compute"
    assert any(d.code.startswith("ANE") for d in diags)
    said = [d.message for d in diags]
    doc = types.TextDocumentIdentifier(uri=uri)
    for needle in ("conv(", "relu(", "reduce_argmax("):
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=position(CONV, CONV.index(needle), client.encoding))
        )
        assert hover is not None
        said.append(hover.contents.value)
    assert any("m1" in s for s in said[-3:]), said[-3:]
    whole = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=99, character=0))
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(text_document=doc, range=whole))
    said += [h.label if isinstance(h.label, str) else "".join(p.value for p in h.label) for h in hints or []]
    said += [str(h.tooltip) for h in hints or [] if h.tooltip]
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
    said += [lens.command.title for lens in lenses]
    report = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="mil.placementReport", arguments=[uri])
    )
    page = open(report).read()
    assert "<b>m1</b>" in page
    said.append(page)
    assert chips_named("\n".join(said)) == {"m1"}


async def test_mil_check_prints_what_the_server_publishes(on_m1):
    client = on_m1
    path = client.root / "models" / "conv.mil"
    await open_doc(client, path.as_uri(), CONV)
    published = published_set(await diagnostics_of(client, path.as_uri(), 1))
    # The settings file sets a severity too: the set is the configured one, not the defaults.
    assert any(d[0] == "ANE109" and d[5] == "hint" for d in published), published
    assert checked_set(mil_check("--chip", "m1", str(path))) == published
    # Found by looking upward from the file, as the server does.
    assert checked_set(mil_check(str(path))) == published
    # A flag overrides the file: on the m4 the set differs (ANE113 advises W8A8).
    assert "ANE113" in {d[0] for d in checked_set(mil_check("--chip", "m4", str(path)))}
