"""The issue's budget on the generated 160k-op program (docs/robustness.md): under every kind of
request the editors send, with edits between them, the answers are right and `mil lsp` never holds
more than 1 GB. The latencies are printed, not asserted (a timed assertion fails on a loaded
machine, not on a slow server); bench/lsp_requests.py measures them."""

from raw import Raw
from request_mix import METHODS, Mix, convchain_text

OPS = 160_000
BUDGET_MB = 1024
SYMBOLS = "textDocument/documentSymbol"


def run(skip: frozenset, rounds: list) -> float:
    """Runs the mix on the 160k-op program; the server's peak memory in MB."""
    server = Raw()
    server.initialize(capabilities={"general": {"positionEncodings": ["utf-16"]}})
    mix = Mix(server, OPS, convchain_text(OPS), skip)
    mix.open()
    for layer, edited in rounds:
        mix.round(layer if layer >= 0 else mix.layers + layer, edited)
    peak = server.peak_rss_mb()
    for what, seconds in mix.latency.items():
        print(f"{what}: max {max(seconds) * 1e3:.0f} ms over {len(seconds)}")
    print(f"peak RSS {peak:.0f} MB")
    assert server.stop() == 0
    return peak


def test_every_request_on_the_160k_op_program_within_1_gb():
    assert run(frozenset({SYMBOLS}), [(5, 9), (OPS // 16, 17), (-1, 3)]) < BUDGET_MB


def test_document_symbols_on_the_160k_op_program_within_1_gb():
    assert run(frozenset(m for m in METHODS if m != SYMBOLS), [(5, 9)]) < BUDGET_MB
