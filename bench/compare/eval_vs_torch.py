"""`mil run` (the reference interpreter) against PyTorch on the CPU, on the same two models.

The models, batch 1, fp32, random weights from a fixed seed:

- ResNet-18 (torchvision's layout, written out here so torchvision is not needed), input
  [1, 3, 224, 224];
- a transformer encoder layer (`torch.nn.TransformerEncoderLayer`, d_model 512, 8 heads,
  feed-forward 2048, batch first, ReLU), input [1, 128, 512].

Each is traced, converted with coremltools to an ML program (fp32 compute precision) and saved as
an .mlpackage, which `mil decompile` turns into MIL text. Then, for each thread count, PyTorch (in a
child process, `torch.set_num_threads`, inference mode, the encoder layer on its fused fast path as
PyTorch runs it by default) and `mil run --repeat` (RAYON_NUM_THREADS) run on the same input; the
script checks the outputs agree — |mil − torch| ≤ ATOL + RTOL·|torch| elementwise, with the
tolerances below — and prints the median time of each and the peak resident memory of each process
(/usr/bin/time's; PyTorch's includes the ~300 MB its libraries take, so the script also prints
its resident memory before the model is built). "default" leaves the thread count to each.
Beside the ratio of the medians it prints the ratio of the best runs ("min ratio", the least
disturbed by other load on the machine) and the one-minute load average after each row.

Usage (the venv comes from bench/compare/setup_torch_venv.sh):
  target/bench-venv/bin/python bench/compare/eval_vs_torch.py [--repeat N] [--threads 1,2,default]
"""

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
RTOL, ATOL = 1e-3, 1e-4
MODELS = {"resnet18": [1, 3, 224, 224], "encoder": [1, 128, 512]}


def build(name):
    """The model `name` with the weights of seed 0, in eval mode."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if name == "encoder":
        layer = nn.TransformerEncoderLayer(512, 8, dim_feedforward=2048, dropout=0.1, batch_first=True)
        return layer.eval()

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000)]
    model = nn.Sequential(*layers)
    # Running statistics other than 0 and 1, so that folding batch norm into the convs matters.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    return model.eval()


def convert(name, package):
    """Traces model `name` and saves coremltools' fp32 ML program of it as `package`."""
    import coremltools as ct
    import torch

    model = build(name)
    example = torch.zeros(MODELS[name])
    # The fused encoder-layer kernel is one op coremltools cannot convert: trace the plain ops.
    torch.backends.mha.set_fastpath_enabled(False)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    torch.backends.mha.set_fastpath_enabled(True)
    mlmodel = ct.convert(traced, inputs=[ct.TensorType(name="x", shape=example.shape)],
                         convert_to="mlprogram", compute_precision=ct.precision.FLOAT32)
    mlmodel.save(str(package))


def torch_worker(name, threads, repeat, x_path, out_path):
    """Runs in the child: times `repeat` runs of model `name` and prints them as JSON."""
    import psutil
    import torch

    base_rss = psutil.Process().memory_info().rss
    if threads != "default":
        torch.set_num_threads(int(threads))
    model = build(name)
    x = torch.from_numpy(np.load(x_path))
    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        for _ in range(repeat):
            start = time.perf_counter()
            y = model(x)
            times.append(time.perf_counter() - start)
    np.save(out_path, y.numpy())
    print(json.dumps({"times": times, "threads": torch.get_num_threads(), "base_rss": base_rss}))


def measured(argv, env=None):
    """Runs a child process; returns its standard output and its peak resident memory in bytes, as
    /usr/bin/time measures it (a child forked from this process would start with its resident set,
    torch and coremltools included, as its high-water mark)."""
    with tempfile.NamedTemporaryFile("r") as peak:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *map(str, argv)],
                              capture_output=True, env=env, text=True)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(map(str, argv))} failed:\n{proc.stderr}")
        return proc.stdout, int(peak.read().split()[-1]) * 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threads", default="1,2,default")
    parser.add_argument("--models", default="resnet18,encoder")
    parser.add_argument("--mil", default=str(ROOT / "target" / "release" / "mil"))
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, threads, repeat, x_path, out_path = args.worker
        torch_worker(name, threads, int(repeat), x_path, out_path)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for name in args.models.split(","):
            package, text = tmp / f"{name}.mlpackage", tmp / name / f"{name}.mil"
            text.parent.mkdir()
            convert(name, package)
            subprocess.run([args.mil, "decompile", str(package), "-o", str(text)], check=True)
            weights = sum(f.stat().st_size for f in text.parent.rglob("*.bin"))
            x = np.random.default_rng(0).standard_normal(MODELS[name]).astype(np.float32)
            x_path = tmp / f"{name}.x.npy"
            np.save(x_path, x)
            print(f"\n{name}: input {MODELS[name]}, {weights / 1e6:.1f} MB of fp32 weights, "
                  f"median of {args.repeat} runs")
            print(f"{'threads':>8} {'torch ms':>9} {'mil ms':>8} {'mil/torch':>9} {'min ratio':>9} "
                  f"{'torch peak MB':>13} {'(libs)':>7} {'mil peak MB':>11} {'max |diff|':>10} {'load':>5}")
            for threads in args.threads.split(","):
                torch_out = tmp / f"{name}.torch.npy"
                out, torch_peak = measured([sys.executable, __file__, "--worker", name, threads,
                                            str(args.repeat), str(x_path), str(torch_out)])
                report = json.loads(out)
                torch_ms = float(np.median(report["times"])) * 1e3
                env = dict(os.environ)
                env.pop("RAYON_NUM_THREADS", None)
                if threads != "default":
                    env["RAYON_NUM_THREADS"] = threads
                out_dir = tmp / f"{name}.out"
                out, mil_peak = measured([args.mil, "run", str(text), "--input", f"x={x_path}",
                                          "--output-dir", str(out_dir), "--repeat", str(args.repeat)], env)
                mil_min, mil_ms = map(float, re.search(r"min ([0-9.]+) ms, median ([0-9.]+) ms", out).groups())
                torch_min = min(report["times"]) * 1e3
                [ours] = [np.load(p) for p in out_dir.glob("*.npy")]
                theirs = np.load(torch_out)
                if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=RTOL, atol=ATOL):
                    sys.exit(f"{name}: the outputs differ (max |diff| "
                             f"{np.max(np.abs(ours.reshape(theirs.shape) - theirs)):.3g})")
                diff = float(np.max(np.abs(ours - theirs)))
                label = threads if threads != "default" else f"def({report['threads']})"
                print(f"{label:>8} {torch_ms:9.2f} {mil_ms:8.2f} {mil_ms / torch_ms:9.2f} "
                      f"{mil_min / torch_min:9.2f} "
                      f"{torch_peak / 1e6:13.0f} {report['base_rss'] / 1e6:7.0f} {mil_peak / 1e6:11.0f} "
                      f"{diff:10.2g} {os.getloadavg()[0]:5.1f}")


if __name__ == "__main__":
    main()
