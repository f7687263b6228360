"""One training step of an MLP (4 layers x 1024 wide, batch 256: forward, backward, SGD
update), gpujit eager against PyTorch eager on the same device when PyTorch is installed.

    python benchmarks/training.py [--device cpu|cuda|all] [--repeats 15] [--out DIR]

Targets (issue 7): CPU step <= 1.3x PyTorch's (both are BLAS-bound); GPU step <= 2x
PyTorch eager. Writes benchmarks/results/training-<device>.json and prints a table.
"""
from __future__ import annotations

import datetime
import os
import sys
import time

import numpy as np

import gpujit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager import _machine, _version, cli  # noqa: E402

WIDTH, DEPTH, BATCH, CLASSES = 1024, 4, 256, 10
TARGET = {"cpu": 1.3, "cuda": 2.0}


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    dims = [WIDTH] * DEPTH + [CLASSES]
    ws = []
    for i in range(DEPTH):
        fan_in = dims[i]
        bound = 1 / np.sqrt(fan_in)
        ws.append((rng.uniform(-bound, bound, (dims[i + 1], fan_in)).astype(np.float32),
                   rng.uniform(-bound, bound, dims[i + 1]).astype(np.float32)))
    x = rng.standard_normal((BATCH, WIDTH), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    return ws, x, y


def _make_step(lib, dev, ws, x, y):
    """The same model and step for gpujit and torch (same API)."""
    nn, F = lib.nn, lib.nn.functional
    layers = []
    for w, b in ws:
        lin = nn.Linear(w.shape[1], w.shape[0])
        with lib.no_grad():
            lin.weight.copy_(lib.from_numpy(w.copy()))
            lin.bias.copy_(lib.from_numpy(b.copy()))
        layers += [lin, nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(dev)
    opt = lib.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    xt = lib.from_numpy(x).to(dev)
    yt = lib.from_numpy(y).to(dev)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        return loss
    return step


def _time(step, sync, repeats):
    for _ in range(3):
        step()
    sync()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync()
        samples.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(samples))


def run(device_name, repeats):
    ws, x, y = _weights()
    dev = "cuda" if device_name == "cuda" else "cpu"
    g_sync = gpujit.cuda.synchronize if dev == "cuda" else (lambda: None)
    g_step = _make_step(gpujit, dev, ws, x, y)
    first = float(g_step().item())
    g_ms = _time(g_step, g_sync, repeats)
    row = {"step": f"MLP {DEPTH}x{WIDTH}, batch {BATCH}, forward+backward+SGD(momentum)",
           "gpujit_ms": round(g_ms, 3), "gpujit_first_loss": first}
    try:
        import torch
        if dev == "cuda" and not torch.cuda.is_available():
            raise ImportError("this torch has no CUDA")       # no peer to compare with
        torch.set_num_threads(os.cpu_count() or 1)
        t_sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
        t_step = _make_step(torch, dev, ws, x, y)
        t_first = float(t_step().item())
        t_ms = _time(t_step, t_sync, repeats)
        row.update(torch_ms=round(t_ms, 3), torch_first_loss=t_first,
                   ratio_vs_torch=round(g_ms / t_ms, 3),
                   meets_target=g_ms / t_ms <= TARGET[dev],
                   same_first_loss=abs(first - t_first) < 1e-4 * max(1, abs(t_first)))
        torch_version = torch.__version__
    except ImportError:
        row["torch_ms"] = None
        torch_version = None
    return {"benchmark": "one training step", "device": dev, "repeats": repeats,
            "statistic": "median ms per step", "target_ratio_vs_torch": TARGET[dev],
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": _machine(gpujit.device(dev)),
            "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                         "torch": torch_version, "numba": _version("numba")},
            "results": [row]}


def print_table(report):
    r = report["results"][0]
    print(f"\n{r['step']} on {report['device']}, median of {report['repeats']}:")
    print(f"  gpujit {r['gpujit_ms']:.2f} ms", end="")
    if r.get("torch_ms"):
        print(f"   torch {r['torch_ms']:.2f} ms   ratio {r['ratio_vs_torch']:.2f}x "
              f"(target <= {report['target_ratio_vs_torch']}x: "
              f"{'met' if r['meets_target'] else 'NOT met'})")
    else:
        print("   (PyTorch not installed: no peer)")


def main(argv=None):
    cli(__doc__, run, print_table, "training", "cpu", argv)


if __name__ == "__main__":
    main()
