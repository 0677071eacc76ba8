#!/usr/bin/env bash
# Makes the bench venv of eval_vs_torch.py: PyTorch (CPU use only), coremltools, numpy and psutil,
# apart from the test venv (torch is no test dependency and CI never installs it).
#
# PyTorch's CPU-only wheels come from its own index; where that index cannot be reached the
# default registry's wheel is installed (it brings the CUDA libraries, a few GB, which the
# benchmark never uses). torch 2.7 is the newest release coremltools 9.0 is tested with.
#
# Usage: bench/compare/setup_torch_venv.sh [VENV]   (default: target/bench-venv)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/target/bench-venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip="$venv/bin/python -m pip"
$pip install --quiet --index-url https://download.pytorch.org/whl/cpu torch==2.7.1 ||
    $pip install --quiet torch==2.7.1
# coremltools 9.0's torch frontend calls int() on 1-element arrays, which numpy 2.4 refuses.
$pip install --quiet coremltools==9.0 "numpy<2.4" psutil
"$venv/bin/python" -c 'import torch, coremltools; print("torch", torch.__version__, "coremltools", coremltools.__version__)'
