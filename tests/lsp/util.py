"""Helpers shared by the language-server tests: positions in the negotiated encoding, opening
documents, waiting for the diagnostics of a version, and applying edits the way a client does."""

import asyncio

from lsprotocol import types


def units(text: str, encoding: str) -> int:
    """Length of `text` in the encoding's code units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def position(text: str, index: int, encoding: str) -> types.Position:
    """The LSP position of character `index` of `text`."""
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return types.Position(line=line, character=units(text[start:index], encoding))


def index(text: str, pos: types.Position, encoding: str) -> int:
    """The character index of an LSP position (clamped to its line)."""
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    count = 0
    for i, ch in enumerate(line):
        if count >= pos.character:
            return start + i
        count += units(ch, encoding)
    return start + len(line)


def at(text: str, needle: str, encoding: str, nth: int = 0, offset: int = 0) -> types.Position:
    """The position of the `nth` occurrence of `needle` (plus `offset` characters)."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    return position(text, i + offset, encoding)


def apply_edits(text: str, edits, encoding: str) -> str:
    """`text` with LSP text edits applied (last first, as they do not overlap)."""
    spans = [(index(text, e.range.start, encoding), index(text, e.range.end, encoding), e.new_text) for e in edits]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


async def open_doc(client, uri: str, text: str, version: int = 1):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="mil", version=version, text=text)
        )
    )


async def diagnostics_of(client, uri: str, version: int, timeout: float = 30.0):
    """Waits for the diagnostics published for `version` of `uri`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = client.versions.get(uri)
        if got is not None and got[0] == version:
            return got[1]
        if loop.time() > deadline:
            raise TimeoutError(f"no diagnostics for {uri} version {version} (last: {got and got[0]})")
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


async def document_text(client, uri: str, analysed: bool = False):
    return await client.protocol.send_request_async(
        "mil/documentText", {"textDocument": {"uri": uri}, "analysed": analysed}
    )
