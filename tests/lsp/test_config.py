"""Settings from initializationOptions, workspace/didChangeConfiguration and the workspace's mil.toml
(later sources override earlier ones; see docs/configuration.md)."""

import pytest
import pytest_lsp
from conftest import CLIENTS, ROOT, server_config, start
from lsprotocol import types
from pytest_lsp import LanguageClient
from util import diagnostics_of, open_doc

pytestmark = pytest.mark.asyncio

HAND_WRITTEN = (ROOT / "samples" / "hand_written.mil").read_text()


@pytest_lsp.fixture(config=server_config(), params=CLIENTS)
async def configured(request, lsp_client: LanguageClient, tmp_path):
    (tmp_path / "mil.toml").write_text('[severity]\nMIL0102 = "off"\nmil0104 = "error"\n')
    lsp_client.root = tmp_path
    await start(lsp_client, request.param, tmp_path, options={"mil": {"severity": {"MIL0103": "hint", "MIL0104": "hint"}}})
    yield
    await lsp_client.shutdown_session()


def codes(diags):
    return {d.code: d.severity for d in diags}


async def test_settings_layer_client_then_workspace_file(configured):
    client = configured
    uri = (client.root / "hw.mil").as_uri()
    await open_doc(client, uri, HAND_WRITTEN)
    got = codes(await diagnostics_of(client, uri, 1))
    assert "MIL0102" not in got  # off in mil.toml
    assert got["MIL0103"] == types.DiagnosticSeverity.Hint  # from initializationOptions
    assert got["MIL0104"] == types.DiagnosticSeverity.Error  # mil.toml wins over the client
    assert got["MIL0107"] == types.DiagnosticSeverity.Warning  # default
    # didChangeConfiguration layers over initializationOptions (replacing the previous change) and
    # republishes.
    before = client.publish_count
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"mil": {"severity": {"MIL0107": "off"}}})
    )
    while client.publish_count == before:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    got = codes(client.diagnostics[uri])
    assert "MIL0107" not in got and got["MIL0103"] == types.DiagnosticSeverity.Hint
    # Editing mil.toml and saving it is picked up too.
    (client.root / "mil.toml").write_text('[severity]\nMIL0101 = "information"\n')
    before = client.publish_count
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=(client.root / "mil.toml").as_uri()))
    )
    while client.publish_count == before:
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    got = codes(client.diagnostics[uri])
    assert got["MIL0101"] == types.DiagnosticSeverity.Information and "MIL0102" in got


async def test_bad_settings_are_reported_not_fatal(configured):
    client = configured
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"mil": {"severity": {"MIL0001": "loud"}, "logLevel": "log"}})
    )
    uri = (client.root / "x.mil").as_uri()
    await open_doc(client, uri, HAND_WRITTEN)
    await diagnostics_of(client, uri, 1)
    assert any("severity `loud`" in m.message for m in client.log_messages)
