"""A client that misbehaves at the protocol level, driven over raw JSON-RPC (pytest-lsp's client is
too polite for this): requests cancelled as soon as they are sent, a client that vanishes in the middle
of a request, `exit` with and without `shutdown`. The server answers every request it got (a result
or RequestCancelled), never panics, and exits promptly. See docs/robustness.md."""

import json
import subprocess
import threading
import time

from conftest import mil_binary

STATEMENT = '            tensor<fp16, [1, 4]> v{0} = relu(x = x)[name = string("v{0}")];\n'


def program(n: int) -> str:
    body = "".join(STATEMENT.format(i) for i in range(n))
    return "program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n" + body + "        } -> (x);\n}\n"


class Raw:
    """`mil lsp` with a reader thread collecting every message it sends."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [mil_binary(), "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.messages = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.stderr = b""
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = out.read(1)
                if not byte:
                    return
                header += byte
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(out.read(length))
            with self.lock:
                self.messages.append(message)

    def _read_stderr(self):
        self.stderr = self.proc.stderr.read()

    def send(self, message: dict):
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, id: int, method: str, params):
        self.send({"id": id, "method": method, "params": params})

    def notify(self, method: str, params):
        self.send({"method": method, "params": params})

    def response(self, id: int, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for m in self.messages:
                    if m.get("id") == id and "method" not in m:
                        return m
            time.sleep(0.01)
        raise AssertionError(f"no response to request {id} in {timeout} s")

    def initialize(self, root):
        self.request(0, "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}})
        self.response(0)
        self.notify("initialized", {})

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory so far (Linux)."""
        with open(f"/proc/{self.proc.pid}/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def wait_exit(self, timeout=10) -> int:
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.1)
        assert b"panicked" not in self.stderr, self.stderr.decode(errors="replace")
        return code


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
