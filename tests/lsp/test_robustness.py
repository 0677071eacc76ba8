"""Garbage, binary, huge and deeply nested documents never kill the server."""

import random

import pytest
from lsprotocol import types
from util import diagnostics_of, document_text, open_doc

pytestmark = pytest.mark.asyncio


async def still_serving(client):
    uri = (client.root / "alive.mil").as_uri()
    text = "program(1.3)\n{\n    func main<ios18>(fp16 x) {\n            fp16 y = relu(x = x)[name = string(\"y\")];\n        } -> (y);\n}\n"
    await open_doc(client, uri, text)
    await diagnostics_of(client, uri, 1)
    h = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=22))
    )
    assert "relu" in h.contents.value


async def poke(client, uri, text):
    """Opens `text`, waits for its diagnostics, and asks every kind of question at a few places."""
    await open_doc(client, uri, text)
    await diagnostics_of(client, uri, 1, timeout=120)
    doc = types.TextDocumentIdentifier(uri=uri)
    lines = text.count("\n") + 1
    for line in [0, lines // 2, lines - 1, lines + 5]:
        pos = types.Position(line=line, character=3)
        await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos))
        await client.text_document_completion_async(types.CompletionParams(text_document=doc, position=pos))
        await client.text_document_signature_help_async(types.SignatureHelpParams(text_document=doc, position=pos))
        await client.text_document_definition_async(types.DefinitionParams(text_document=doc, position=pos))
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=doc))
    await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=doc))
    await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc, options=types.FormattingOptions(tab_size=4, insert_spaces=True))
    )


async def test_garbage_and_binary(client):
    rng = random.Random(7)
    garbage = "".join(rng.choice("{}[]()<>;=,\"-?.0123456789abcfunc program BLOBFILE\n\t") for _ in range(200_000))
    await poke(client, (client.root / "garbage.mil").as_uri(), garbage)
    binary = bytes(rng.randrange(256) for _ in range(100_000)).decode("latin-1")
    await poke(client, (client.root / "binary.mil").as_uri(), binary)
    await poke(client, (client.root / "nul.mil").as_uri(), "\x00" * 10_000 + "program(\x00)")
    await still_serving(client)


async def test_deep_nesting(client):
    deep = "program(1.3)\n{\n    func main<ios18>(fp16 x) {\n            fp16 y = const()[val = fp16(" + "[" * 50_000 + "1" + "]" * 50_000 + ")];\n        } -> (y);\n}\n"
    await poke(client, (client.root / "deep.mil").as_uri(), deep)
    await poke(client, (client.root / "deep2.mil").as_uri(), "(" * 100_000 + "<" * 100_000)
    await still_serving(client)


async def test_huge_documents(client):
    statement = '            tensor<fp16, [1, 4]> v{0} = relu(x = x)[name = string("v{0}")];\n'
    body = "".join(statement.format(i) for i in range(100_000))
    huge = "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n" + body + "        } -> (x);\n}\n"
    uri = (client.root / "huge.mil").as_uri()
    await poke(client, uri, huge)
    one_line = "x" * 20_000_000
    await poke(client, (client.root / "line.mil").as_uri(), one_line)
    got = await document_text(client, (client.root / "line.mil").as_uri())
    assert len(got.text) == len(one_line)
    await still_serving(client)
