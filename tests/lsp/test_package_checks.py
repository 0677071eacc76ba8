"""The server publishes the package checks `mil check` reports (what a package cannot hold, found
by a dry run of the compiler): the set it publishes for a file with such a problem is the set `mil
check --format json` prints, before and after edits. They are found once the analysis settles
(once typing pauses), so they may come in a second publication of the same version."""

import asyncio

import pytest
import pytest_lsp
from conftest import CLIENTS, server_config, start
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_target import checked_set, mil_check, published_set
from util import diagnostics_of, open_doc, position

pytestmark = pytest.mark.asyncio

# `ios14` is an opset the checks do not know (a warning) and a package cannot hold (MIL0501, an
# error found only by the package checks).
TEXT = """program(1.3)
{
    func main<ios14>(tensor<fp16, [1, 4]> x) {
            tensor<fp16, [1, 4]> y = relu(x = x)[name = string("y")];
        } -> (y);
}
"""


@pytest_lsp.fixture(config=server_config(), params=CLIENTS)
async def client(request, lsp_client: LanguageClient, tmp_path):
    (tmp_path / "mil.toml").write_text("")
    (tmp_path / "old.mil").write_text(TEXT)
    lsp_client.root = tmp_path
    await start(lsp_client, request.param, tmp_path)
    yield lsp_client
    await lsp_client.shutdown_session()


async def settled(client, uri: str, version: int, expected: set, timeout: float = 30.0):
    """The diagnostics published for `version` once they are `expected` (the last ones seen if
    they never are within `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    got = published_set(await diagnostics_of(client, uri, version))
    while got != expected and loop.time() < deadline:
        try:
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 1.0)
        except asyncio.TimeoutError:
            pass
        got = published_set(await diagnostics_of(client, uri, version))
    return got


async def test_the_server_publishes_the_package_checks_mil_check_reports(client, tmp_path):
    path = tmp_path / "old.mil"
    uri = path.as_uri()
    expected = checked_set(mil_check(str(path)))
    assert "MIL0501" in {d[0] for d in expected}, expected
    await open_doc(client, uri, TEXT)
    assert await settled(client, uri, 1, expected) == expected

    # Edited to a known opset the problem goes; edited back, it comes back.
    at = position(TEXT, TEXT.index("ios14") + 4, client.encoding)
    end = types.Position(line=at.line, character=at.character + 1)
    doc = types.VersionedTextDocumentIdentifier(uri=uri, version=2)
    for version, digit in ((2, "8"), (3, "4")):
        doc = types.VersionedTextDocumentIdentifier(uri=uri, version=version)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=doc,
                content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=at, end=end), text=digit)],
            )
        )
        now = tmp_path / f"v{version}.mil"
        now.write_text(TEXT.replace("ios14", f"ios1{digit}"))
        expected = checked_set(mil_check(str(now)))
        assert await settled(client, uri, version, expected) == expected
    assert "MIL0501" in {d[0] for d in expected}
