"""`mil lsp` driven over raw JSON-RPC (pytest-lsp's client is too polite for abuse, and too slow to
time requests on a 25 MB document): a reader thread collects every message the server sends, and
the server's peak resident memory is read from /proc. Used by test_abuse.py, test_budget.py and
bench/lsp_requests.py."""

import json
import subprocess
import threading
import time

from conftest import mil_binary


class Raw:
    """`mil lsp` with a reader thread collecting every message it sends."""

    def __init__(self, binary: str | None = None):
        self.proc = subprocess.Popen(
            [binary or mil_binary(), "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.messages = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.next_id = 1
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
            # When the header arrives the server has built and serialised the whole answer: what
            # follows is the client's own reading and decoding.
            header_at = time.monotonic()
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(out.read(length))
            message["header_at"] = header_at
            with self.arrived:
                self.messages.append(message)
                self.arrived.notify_all()

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

    def wait_for(self, matches, timeout=60) -> dict:
        """The first message `matches` accepts (taking it out of the list)."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for i, m in enumerate(self.messages):
                    if matches(m):
                        return self.messages.pop(i)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no answer in {timeout} s")
                self.arrived.wait(left)

    def response(self, id: int, timeout=60) -> dict:
        return self.wait_for(lambda m: m.get("id") == id and "method" not in m, timeout)

    def call(self, method: str, params, timeout=600) -> tuple[dict, float]:
        """Sends a request and waits for its response: (the response, seconds from sending the
        request to the arrival of the response's header, so without the client's decoding)."""
        id = self.next_id = self.next_id + 1
        start = time.monotonic()
        self.request(id, method, params)
        answer = self.response(id, timeout)
        return answer, answer["header_at"] - start

    def diagnostics(self, uri: str, version: int, timeout=600) -> list:
        """The diagnostics published for `version` of `uri`."""
        m = self.wait_for(
            lambda m: m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"].get("version") == version,
            timeout,
        )
        return m["params"]["diagnostics"]

    def initialize(self, root=None, capabilities=None):
        self.request(
            0,
            "initialize",
            {"processId": None, "rootUri": root.as_uri() if root else None, "capabilities": capabilities or {}},
        )
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

    def stop(self) -> int:
        """`shutdown`, then `exit`; the exit code."""
        self.call("shutdown", None)
        self.notify("exit", None)
        return self.wait_exit()
