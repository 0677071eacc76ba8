#!/usr/bin/env python3
"""Latency of every kind of language-server request on the generated 160k-op program, against the
issue's budget of 2 s per request (docs/robustness.md): opens the program in `mil lsp`, runs
ROUNDS rounds of the request mix of tests/lsp/request_mix.py (hover, completion, definition,
references, rename, formatting, code actions, semantic tokens, document symbols, folding, inlay
hints, code lens, each after an edit and followed by its undo), and prints each request's median
and maximum with the server's peak memory.

Usage: bench/lsp_requests.py [--mil PATH] [--rounds N] [OPS]   (default target/release/mil, 8, 160000)
"""

import argparse
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "lsp"))

from raw import Raw  # noqa: E402
from request_mix import Mix, convchain_text  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mil", default=None)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("ops", type=int, nargs="?", default=160_000)
    args = parser.parse_args()
    server = Raw(args.mil)
    server.initialize(capabilities={"general": {"positionEncodings": ["utf-16"]}})
    mix = Mix(server, args.ops, convchain_text(args.ops))
    mix.open()
    for r in range(args.rounds):
        mix.round(layer=(r * 7919) % mix.layers, edited=(r * 7919 + 1) % mix.layers)
    peak = server.peak_rss_mb()
    server.stop()
    print(f"| request ({args.ops // 1000}k ops, {len(mix.text) / 1e6:.1f} MB) | p50 | max | runs |")
    print("|---|---|---|---|")
    for what, seconds in mix.latency.items():
        print(f"| {what} | {statistics.median(seconds) * 1e3:.0f} ms | {max(seconds) * 1e3:.0f} ms | {len(seconds)} |")
    print(f"\npeak RSS of mil lsp: {peak:.0f} MB")


if __name__ == "__main__":
    main()
