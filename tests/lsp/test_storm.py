"""A storm of random incremental edits: the server's text must stay the client's, and the last
diagnostics published must be those of the last version, equal to what a fresh open of the same
text gives (which checks the statement-by-statement re-analysis against a full one)."""

import random

import pytest
from conftest import ROOT
from lsprotocol import types
from util import diagnostics_of, document_text, open_doc, position

pytestmark = pytest.mark.asyncio

EDITS = 1200
PIECES = ["1", "0", "7", "x", "_", "a", " ", ",", "=", "(", ")", "[", "]", '"', ";", "é", "𝄞", "\n", "fp32", "relu", "y = x"]


def random_edit(rng: random.Random, text: str):
    """A range (as character indexes) and the text replacing it, mostly inside statements."""
    if rng.random() < 0.8:
        # Inside a statement: near a `= ` that starts an op call.
        starts = [i for i in range(len(text)) if text.startswith(" = ", i)] or [0]
        base = rng.choice(starts) + rng.randrange(0, 60)
    else:
        base = rng.randrange(0, len(text) + 1)
    start = min(base, len(text))
    if rng.random() < 0.4 and start < len(text):
        end = min(len(text), start + rng.randrange(1, 4))
        return start, end, rng.choice(["", "", rng.choice(PIECES)])
    return start, start, rng.choice(PIECES)


async def test_random_edits_keep_server_and_client_in_step(client):
    enc = client.encoding
    rng = random.Random(20261126 + len(client.spec))
    text = (ROOT / "samples" / "attention.mil").read_text() + "\n" + "// é𝄞 trailing comment\n"
    uri = (client.root / "storm.mil").as_uri()
    await open_doc(client, uri, text)
    version = 1
    for _ in range(EDITS):
        changes = []
        for _ in range(1 if rng.random() < 0.9 else 2):
            start, end, new = random_edit(rng, text)
            changes.append(
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=position(text, start, enc), end=position(text, end, enc)), text=new
                )
            )
            text = text[:start] + new + text[end:]
        version += 1
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=changes,
            )
        )
        # Now and then ask something while edits are in flight.
        if rng.random() < 0.05:
            pos = position(text, rng.randrange(0, len(text) + 1), enc)
            await client.text_document_hover_async(
                types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos)
            )
    got = await document_text(client, uri, analysed=True)
    assert got.version == version
    assert got.text == text
    assert got.analysedVersion == version and got.analysedText == text
    final = await diagnostics_of(client, uri, version)
    # A fresh document with the same text, analysed from scratch, has the same diagnostics.
    fresh_uri = (client.root / "fresh.mil").as_uri()
    await open_doc(client, fresh_uri, text)
    fresh = await diagnostics_of(client, fresh_uri, 1)

    def key(d):
        return (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.code, d.message)

    assert [key(d) for d in final] == [key(d) for d in fresh]


async def test_stale_changes_are_refused(client):
    uri = (client.root / "stale.mil").as_uri()
    await open_doc(client, uri, "program(1.3)\n{\n}\n", version=5)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=4),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="garbage")],
        )
    )
    got = await document_text(client, uri, analysed=True)
    assert got.version == 5 and got.text == "program(1.3)\n{\n}\n"
