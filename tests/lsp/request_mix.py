"""Every kind of request the editors send, on the generated 160k-op program (`mil_bench::ConvChain`,
printed by `lsp_bench --text OPS`), with an edit before each and its undo after: each answer is
checked against the text, and each request's latency and the server's peak memory are recorded.
test_budget.py asserts the answers and the memory budget; bench/lsp_requests.py reports the
latencies (docs/robustness.md)."""

import os
import pathlib
import subprocess
import time

from conftest import ROOT

OPS_PER_LAYER = 8

#: The requests of a round, in order.
METHODS = [
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/rename",
    "textDocument/formatting",
    "textDocument/codeAction",
    "textDocument/semanticTokens/full",
    "textDocument/documentSymbol",
    "textDocument/foldingRange",
    "textDocument/inlayHint",
    "textDocument/codeLens",
]


def convchain_text(ops: int) -> str:
    """The generated program of `ops` ops, from the bench crate's own generator: `$MIL_LSP_BENCH`,
    else `lsp_bench` built in the cargo target directory."""
    bench = os.environ.get("MIL_LSP_BENCH")
    if not bench:
        target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        subprocess.run(
            ["cargo", "build", "--release", "--quiet", "-p", "mil-bench", "--bin", "lsp_bench"], cwd=ROOT, check=True
        )
        bench = str(target / "release" / "lsp_bench")
    return subprocess.run([bench, "--text", str(ops)], check=True, capture_output=True, text=True).stdout


def layer_line(layer: int, k: int) -> int:
    """The line of the `k`-th statement of layer `layer` (see ConvChain::text)."""
    return 4 + OPS_PER_LAYER * layer + k


def offset(starts: list[int], pos: dict) -> int:
    """The string index of an LSP position, given the line starts (the text is ASCII, so UTF-16
    units are characters)."""
    return starts[pos["line"]] + pos["character"]


def line_starts(text: str) -> list[int]:
    """Where each line of `text` starts."""
    starts = [0]
    i = text.find("\n")
    while i >= 0:
        starts.append(i + 1)
        i = text.find("\n", i + 1)
    return starts


def apply(text: str, edits: list) -> str:
    """`text` with non-overlapping LSP edits applied."""
    starts = line_starts(text)
    spans = sorted(
        ((offset(starts, e["range"]["start"]), offset(starts, e["range"]["end"]), e["newText"]) for e in edits),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def covered(text: str, starts: list[int], r: dict) -> str:
    """The text an LSP range covers."""
    return text[offset(starts, r["start"]) : offset(starts, r["end"])]


class Mix:
    """One open document of the generated program and the requests on it (but the methods in
    `skip`)."""

    def __init__(self, server, ops: int, text: str, skip: frozenset = frozenset()):
        self.server = server
        self.ops = ops
        self.layers = ops // OPS_PER_LAYER
        self.text = text
        self.lines = text.split("\n")
        self.uri = f"untitled:budget-{ops}.mil"
        self.doc = {"uri": self.uri}
        self.version = 1
        self.latency = {}
        self.skip = skip

    def open(self) -> float:
        """Opens the document; the seconds to its first diagnostics."""
        start = time.monotonic()
        self.server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": self.uri, "languageId": "mil", "version": 1, "text": self.text}},
        )
        self.server.diagnostics(self.uri, 1)
        took = time.monotonic() - start
        self.latency.setdefault("open → diagnostics", []).append(took)
        return took

    def _change(self, line: int, start: int, end: int, new: str):
        self.version += 1
        self.server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [
                    {"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}, "text": new}
                ],
            },
        )
        old = self.lines[line]
        self.lines[line] = old[:start] + new + old[end:]

    def _call(self, method: str, params) -> object:
        answer, took = self.server.call(method, params)
        assert "result" in answer, (method, answer)
        self.latency.setdefault(method, []).append(took)
        return answer["result"]

    def _at(self, line: int, needle: str, offset: int = 0) -> dict:
        return {"line": line, "character": self.lines[line].index(needle) + offset}

    def round(self, layer: int, edited: int):
        """Every request about layer `layer`, each after an edit in layer `edited`'s relu name and
        followed by its undo; then waits for the diagnostics of the restored text."""
        assert layer != edited
        name = f"conv{layer}_weight"
        conv = layer_line(layer, 6)
        weight = layer_line(layer, 0)
        use = self._at(conv, f"weight = {name}", len("weight = ") + 2)
        checks = [
            ("textDocument/hover", {"position": self._at(conv, "conv(", 1)}, self._hover),
            ("textDocument/completion", {"position": self._at(conv, "bias = ")}, self._completion),
            ("textDocument/definition", {"position": use}, lambda r: self._definition(r, weight)),
            (
                "textDocument/references",
                {"position": use, "context": {"includeDeclaration": True}},
                lambda r: self._references(r, name, {weight, conv}),
            ),
            ("textDocument/rename", {"position": use, "newName": name + "_r"}, lambda r: self._rename(r, name)),
            ("textDocument/formatting", {"options": {"tabSize": 4, "insertSpaces": True}}, self._formatting),
            (
                "textDocument/codeAction",
                {"range": {"start": {"line": conv, "character": 0}, "end": {"line": conv, "character": 0}}, "context": {"diagnostics": []}},
                lambda r: isinstance(r, list) or r is None,
            ),
            ("textDocument/semanticTokens/full", {}, self._semantic_tokens),
            ("textDocument/documentSymbol", {}, self._symbols),
            ("textDocument/foldingRange", {}, self._folding),
            (
                "textDocument/inlayHint",
                {"range": {"start": {"line": weight, "character": 0}, "end": {"line": weight + 100, "character": 0}}},
                lambda r: isinstance(r, list) and len(r) > 0,
            ),
            ("textDocument/codeLens", {}, lambda r: any(lens["range"]["start"]["line"] == 3 for lens in r)),
        ]
        assert [method for method, _, _ in checks] == METHODS
        relu = layer_line(edited, 7)
        col = self.lines[relu].index(f'string("relu{edited}') + len('string("relu')
        for method, params, check in checks:
            if method in self.skip:
                continue
            self._change(relu, col, col, "x")
            result = self._call(method, {"textDocument": self.doc, **params})
            assert check(result), (method, str(result)[:2000])
            self._change(relu, col, col + 1, "")
        start = time.monotonic()
        self.server.diagnostics(self.uri, self.version)
        self.latency.setdefault("last undo → diagnostics", []).append(time.monotonic() - start)

    def current(self) -> str:
        """The document as the server has it now."""
        return "\n".join(self.lines)

    def _hover(self, r) -> bool:
        return r is not None and "conv" in str(r["contents"])

    def _completion(self, r) -> bool:
        items = r["items"] if isinstance(r, dict) else r
        return len(items) > 0

    def _definition(self, r, line: int) -> bool:
        locations = r if isinstance(r, list) else [r]
        return [loc["range"]["start"]["line"] for loc in locations] == [line]

    def _references(self, r, name: str, lines: set) -> bool:
        text = self.current()
        starts = line_starts(text)
        return (
            {loc["range"]["start"]["line"] for loc in r} == lines
            and all(covered(text, starts, loc["range"]) == name for loc in r)
        )

    def _rename(self, r, name: str) -> bool:
        text = self.current()
        starts = line_starts(text)
        edits = [e for edits in (r.get("changes") or {}).values() for e in edits] or [
            e for change in r.get("documentChanges", []) for e in change["edits"]
        ]
        return len(edits) >= 2 and all(covered(text, starts, e["range"]) == name for e in edits)

    def _formatting(self, r) -> bool:
        # The generated program is laid out as Apple's compiler writes it, which is the canonical
        # layout: formatting leaves it as it is.
        text = self.current()
        return apply(text, r or []) == text

    def _semantic_tokens(self, r) -> bool:
        data = r["data"]
        return len(data) % 5 == 0 and len(data) // 5 >= self.ops

    def _symbols(self, r) -> bool:
        def count(symbols):
            return sum(1 + count(s.get("children") or []) for s in symbols)

        return count(r) >= self.ops

    def _folding(self, r) -> bool:
        return any(f["startLine"] == 3 for f in r)
