"""Per-call cost of gpujit's eager dispatch on small tensors, against PyTorch.

Each case is one eager call on 4x4 float32 tensors (where the op itself costs next to
nothing, so what is timed is the dispatch: Tensor method -> registry op -> NumPy ->
result wrapping, and with `_grad` the recording of the backward node too): `a + b`,
`a * 2.0`, `a.tanh()`, `a @ b`, `a.sum()`, `a.view(16)`, `a[0]`, `a[:, 1]`,
`a[1:3, 0]`, `zeros(4, 4)`, and `+`, `*`, `tanh`, `sum`, `@`, `a[0]`, `* 2.0`, `** 2`,
`/ 2.0` and F.linear (with a bias) on tensors that require grad, a recorded view then an
op, and small model pieces (_model_cases: nn.Linear on 2-D / 3-D input, cross_entropy, an
MLP training step with SGD / Adam). gpujit and PyTorch (when installed) run in the same process, interleaved: each
number is the best over `--repeats` rounds of the mean µs per call in a batch of at least
10 ms (the best, not the median: the dev machine is shared, and load only adds); the
ratio is gpujit's over PyTorch's (over NumPy's equivalent call where PyTorch is absent).

    python benchmarks/eager_dispatch.py [--repeats 15] [--out DIR] [--clock wall|cpu]

Writes benchmarks/results/eager_dispatch-cpu.json and prints a table.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from eager import _machine, _version  # noqa: E402

import gpujit  # noqa: E402


def _cases(lib):
    """(name, zero-argument call) on lib (gpujit or torch); for NumPy, lib is None."""
    if lib is None:
        a = np.ones((4, 4), np.float32)
        b = np.ones((4, 4), np.float32)
        return {"add": lambda: a + b, "mul_scalar": lambda: a * 2.0,
                "tanh": lambda: np.tanh(a), "matmul": lambda: a @ b, "sum": lambda: a.sum(),
                "view": lambda: a.reshape(16), "index_int": lambda: a[0],
                "index_col": lambda: a[:, 1], "index_mixed": lambda: a[1:3, 0],
                "zeros": lambda: np.zeros((4, 4), np.float32)}
    g = lib.Generator().manual_seed(0)
    a, b = lib.randn(4, 4, generator=g), lib.randn(4, 4, generator=g)
    ag = lib.randn(4, 4, generator=g).requires_grad_()
    bg = lib.randn(4, 4, generator=g).requires_grad_()
    cg = lib.randn(4, generator=g).requires_grad_()
    return {"add": lambda: a + b, "mul_scalar": lambda: a * 2.0, "tanh": lambda: a.tanh(),
            "matmul": lambda: a @ b, "sum": lambda: a.sum(), "view": lambda: a.view(16),
            "index_int": lambda: a[0], "index_col": lambda: a[:, 1],
            "index_mixed": lambda: a[1:3, 0], "zeros": lambda: lib.zeros(4, 4),
            "add_grad": lambda: ag + bg, "mul_grad": lambda: ag * bg,
            "tanh_grad": lambda: ag.tanh(), "sum_grad": lambda: ag.sum(),
            "matmul_grad": lambda: ag @ bg, "index_int_grad": lambda: ag[0],
            "mul_scalar_grad": lambda: ag * 2.0, "pow_scalar_grad": lambda: ag ** 2,
            "div_scalar_grad": lambda: ag / 2.0,
            "linear_grad": lambda: lib.nn.functional.linear(ag, bg, cg),
            "view_mul_grad": lambda: ag.view(16) * 2.0, "t_mul_grad": lambda: ag.t() * 2.0,
            **_model_cases(lib, g)}


def _model_cases(lib, g):
    """Small model pieces with grad (session 51): nn.Linear(16, 16) on (8, 16) and on
    (2, 4, 16) (torch's _flatten_nd_linear chain), its fwd + sum + backward, F.cross_entropy
    of (8, 10) logits, and a training step of an MLP 16-32-10 (zero_grad, forward,
    cross_entropy, backward, SGD with momentum / Adam step)."""
    nn = lib.nn
    lin = nn.Linear(16, 16)
    x2 = lib.randn(8, 16, generator=g)
    x3 = lib.randn(2, 4, 16, generator=g).requires_grad_()
    logits = lib.randn(8, 10, generator=g).requires_grad_()
    tgt = lib.randint(0, 10, (8,), generator=g)
    net = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 10))
    sgd = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    adam = lib.optim.Adam(net.parameters(), lr=1e-3)
    ce = nn.functional.cross_entropy

    def step(opt):
        def f():
            opt.zero_grad()
            ce(net(x2), tgt).backward()
            opt.step()
        return f
    return {"module_linear_grad": lambda: lin(x2),
            "module_linear3d_grad": lambda: lin(x3),
            "linear3d_fwd_bwd": lambda: lin(x3).sum().backward(),
            "cross_entropy_grad": lambda: ce(logits, tgt),
            "mlp_step_sgd": step(sgd), "mlp_step_adam": step(adam)}


# the clock timed by: wall time (perf_counter), or this process's CPU time (process_time:
# on a shared machine the other processes' work is not counted; --clock cpu)
_CLOCK = [time.perf_counter]


def _batch_size(fn, min_batch_s=0.01):
    n = 1
    while True:
        t0 = _CLOCK[0]()
        for _ in range(n):
            fn()
        if _CLOCK[0]() - t0 >= min_batch_s or n >= 1 << 20:
            return n
        n *= 4


def _time(fn, n):
    t0 = _CLOCK[0]()
    for _ in range(n):
        fn()
    return (_CLOCK[0]() - t0) / n * 1e6


def run(repeats, clock="wall"):
    _CLOCK[0] = time.process_time if clock == "cpu" else time.perf_counter
    try:
        import torch
        torch.set_num_threads(1)
        peer, plib = "torch", torch
    except ImportError:
        peer, plib = "numpy", None
    load_before = os.getloadavg()
    mine, theirs = _cases(gpujit), _cases(plib)
    results = []
    for name, fn in mine.items():
        other = theirs.get(name)
        fn()
        n = _batch_size(fn)
        m = other and _batch_size(other)
        gs, ps = [], []
        for _ in range(repeats):       # (interleaved: both see the same machine load)
            gs.append(_time(fn, n))
            if other:
                ps.append(_time(other, m))
        row = {"case": name, "gpujit_us": round(min(gs), 3)}
        if other:
            row[f"{peer}_us"] = round(min(ps), 3)
            row["ratio"] = round(row["gpujit_us"] / row[f"{peer}_us"], 3)
        results.append(row)
    return {
        "benchmark": "eager dispatch per-call cost, 4x4 float32", "peer": peer,
        "repeats": repeats,
        "statistic": "best over repeats of the mean µs per call in a batch (>= 10 ms)",
        "clock": "process CPU time" if clock == "cpu" else "wall time",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(gpujit.device("cpu")),
        # (1-minute load averages before and after: a shared machine's other work)
        "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                     "torch": _version("torch")},
        "results": results,
    }


def print_table(report):
    peer = report["peer"]
    print(f"\neager dispatch, 4x4 float32, µs per call, best of {report['repeats']}:")
    print(f"  {'case':<16}{'gpujit':>9}{peer:>9}{'ratio':>8}")
    for r in report["results"]:
        p = r.get(f"{peer}_us")
        print(f"  {r['case']:<16}{r['gpujit_us']:>9.2f}" +
              (f"{p:>9.2f}{r['ratio']:>8.2f}" if p is not None else f"{'-':>9}{'-':>8}"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="cpu: this process's CPU time (a shared machine's other load aside)")
    args = p.parse_args(argv)
    report = run(args.repeats, args.clock)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "eager_dispatch-cpu.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print_table(report)
    print(f"  written to {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
