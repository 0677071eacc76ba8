"""Fixtures of the language-server tests: the real `mil lsp` binary driven over stdio by pytest-lsp,
once with Visual Studio Code's client capabilities (UTF-16 positions) and once with Neovim's (which
offers UTF-8, so the server counts in bytes).

The binary is `$MIL_BIN`, else `$CARGO_TARGET_DIR/release/mil`, else `target/release/mil` (what
scripts/test builds).
"""

import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pygls.protocol import default_converter

ROOT = pathlib.Path(__file__).resolve().parents[2]


def mil_binary() -> str:
    if os.environ.get("MIL_BIN"):
        return os.environ["MIL_BIN"]
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return str(target / "release" / "mil")


CLIENTS = ["visual-studio-code", "neovim@v0.11.0"]


def record_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams):
    """Keeps the diagnostics of each document with the version they were published for."""
    client.diagnostics[params.uri] = params.diagnostics
    client.versions[params.uri] = (params.version, params.diagnostics)
    client.publish_count = getattr(client, "publish_count", 0) + 1


def make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.versions = {}
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record_diagnostics
    register_lsp_features(client, features)
    return client


def server_config() -> ClientServerConfig:
    return ClientServerConfig(server_command=[mil_binary(), "lsp"], client_factory=make_client)


def encoding_of(client: LanguageClient) -> str:
    """The position encoding the server picked, as it said in its capabilities."""
    return client.encoding


async def start(lsp_client: LanguageClient, spec: str, root: pathlib.Path, options=None):
    params = types.InitializeParams(
        capabilities=client_capabilities(spec),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        initialization_options=options,
    )
    result = await lsp_client.initialize_session(params)
    lsp_client.encoding = result.capabilities.position_encoding or "utf-16"
    lsp_client.spec = spec
    return result


@pytest_lsp.fixture(config=server_config(), params=CLIENTS)
async def client(request, lsp_client: LanguageClient, tmp_path):
    lsp_client.root = tmp_path
    await start(lsp_client, request.param, tmp_path)
    yield
    await lsp_client.shutdown_session()
