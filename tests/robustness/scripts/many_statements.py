#!/usr/bin/env python3
"""Prints a MIL program of N tiny statements (default one million, 49 MB), each an unnamed
`relu` of the function's input, so every statement draws the same warnings: the input of the
"millions of tiny statements" resource-limit measurement in docs/robustness.md.

Usage: tests/robustness/scripts/many_statements.py [N] > many.mil
"""

import sys


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    out = sys.stdout
    out.write("program(1.3)\n{\n    func main<ios18>(tensor<fp16, [1, 4]> x) {\n")
    for i in range(n):
        out.write(f"        tensor<fp16, [1, 4]> v{i} = relu(x = x);\n")
    out.write("    } -> (x);\n}\n")


if __name__ == "__main__":
    main()
