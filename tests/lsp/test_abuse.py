"""A client that misbehaves at the protocol level, driven over raw JSON-RPC (pytest-lsp's client is
too polite for this): requests cancelled as soon as they are sent, a client that vanishes in the middle
of a request, `exit` with and without `shutdown`. The server answers every request it got (a result
or RequestCancelled), never panics, and exits promptly. See docs/robustness.md."""

from raw import Raw

STATEMENT = '            tensor<fp16, [1, 4]> v{0} = relu(x = x)[name = string("v{0}")];\n'


def program(n: int) -> str:
    body = "".join(STATEMENT.format(i) for i in range(n))
    return "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n" + body + "        } -> (x);\n}\n"


def test_cancelled_requests_are_all_answered(tmp_path):
    server = Raw()
    server.initialize(tmp_path)
    uri = (tmp_path / "big.mil").as_uri()
    text = program(20_000)
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "mil", "version": 1, "text": text}})
    doc = {"uri": uri}
    methods = [
        ("textDocument/hover", {"textDocument": doc, "position": {"line": 500, "character": 40}}),
        ("textDocument/completion", {"textDocument": doc, "position": {"line": 500, "character": 50}}),
        ("textDocument/formatting", {"textDocument": doc, "options": {"tabSize": 4, "insertSpaces": True}}),
        ("textDocument/rename", {"textDocument": doc, "position": {"line": 4, "character": 34}, "newName": "w"}),
        ("textDocument/semanticTokens/full", {"textDocument": doc}),
        ("textDocument/documentSymbol", {"textDocument": doc}),
    ]
    ids = []
    for i in range(1, 61):
        method, params = methods[i % len(methods)]
        server.request(i, method, params)
        if i % 2:
            server.notify("$/cancelRequest", {"id": i})
        # An edit past the end of the document, with a surrogate pair, between the requests.
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": i + 1},
                "contentChanges": [
                    {"range": {"start": {"line": 10**6, "character": 0}, "end": {"line": 10**6, "character": 9}}, "text": "// 𝄞é\n"}
                ],
            },
        )
        ids.append(i)
    for i in ids:
        answer = server.response(i, timeout=120)
        assert "result" in answer or answer["error"]["code"] in (-32800, -32801), answer
    assert server.peak_rss_mb() < 1024
    server.request(999, "shutdown", None)
    server.response(999)
    server.notify("exit", None)
    assert server.wait_exit() == 0


def test_a_client_that_vanishes_mid_request(tmp_path):
    server = Raw()
    server.initialize(tmp_path)
    uri = (tmp_path / "big.mil").as_uri()
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "mil", "version": 1, "text": program(50_000)}})
    server.request(1, "textDocument/formatting", {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}})
    server.proc.stdin.close()
    server.wait_exit(timeout=30)


def test_exit_without_shutdown_ends_the_server(tmp_path):
    server = Raw()
    server.initialize(tmp_path)
    server.notify("exit", None)
    # The specification asks for exit code 1 here; `mil lsp` exits 0 (docs/robustness.md).
    assert server.wait_exit() in (0, 1)
