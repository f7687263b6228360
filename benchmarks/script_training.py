"""Whole training steps (forward, loss, backward, optimizer.step) of small models, eager
and scripted, gpujit against PyTorch 2.13 (eager and torch.jit.script) in one run.

Models: the MLP of examples/train_mlp.py (2 -> 64 -> 64 -> 64 -> 2, tanh; and the same
with relu; batch 128, cross_entropy, Adam), the TorchScript tutorial's MyCell (its
decision gate's `if`, batch 3 x 4, mse_loss, SGD) and a 2-layer LSTM-like cell looped
over 8 time steps inside forward (batch 16, hidden 32, mse_loss on the last state, SGD).
Small models: the step's time is per-op overhead, which is what scripting should cut.

    python benchmarks/script_training.py [--repeats 7] [--out DIR] [--only gpujit]

Timing: time.process_time (CPU time of this process: the machine may be shared), best of
--repeats batches of the mean per step, BLAS and torch on one thread. Before timing, each
scripted model's loss and gradients are checked against its eager twin.
Writes benchmarks/results/script_training-cpu.json and prints a table.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import gpujit  # noqa: E402


def models(lib):
    """name -> (make_module(), make_inputs(), loss_fn(out, target), make_opt(params))"""
    nn, F = lib.nn, lib.nn.functional

    class MLP(nn.Module):
        def __init__(self, act, width=64, depth=3):
            super().__init__()
            layers, d = [], 2
            for _ in range(depth):
                layers += [nn.Linear(d, width), act()]
                d = width
            self.body = nn.Sequential(*layers)
            self.head = nn.Linear(d, 2)

        def forward(self, x):
            return self.head(self.body(x))

    class MyDecisionGate(nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x
            else:
                return -x

    class MyCell(nn.Module):
        def __init__(self):
            super().__init__()
            self.dg = MyDecisionGate()
            self.linear = nn.Linear(4, 4)

        def forward(self, x, h):
            new_h = lib.tanh(self.dg(self.linear(x)) + h)
            return new_h, new_h

    class LSTMish(nn.Module):
        def __init__(self, inp=8, hidden=32):
            super().__init__()
            self.hidden = hidden
            self.ih0 = nn.Linear(inp, 4 * hidden)
            self.hh0 = nn.Linear(hidden, 4 * hidden)
            self.ih1 = nn.Linear(hidden, 4 * hidden)
            self.hh1 = nn.Linear(hidden, 4 * hidden)

        def forward(self, xs):
            b = xs.size(1)
            h0 = lib.zeros(b, self.hidden)
            c0 = lib.zeros(b, self.hidden)
            h1 = lib.zeros(b, self.hidden)
            c1 = lib.zeros(b, self.hidden)
            for t in range(xs.size(0)):
                g = self.ih0(xs[t]) + self.hh0(h0)
                i, f, gg, o = g.chunk(4, 1)
                c0 = lib.sigmoid(f) * c0 + lib.sigmoid(i) * lib.tanh(gg)
                h0 = lib.sigmoid(o) * lib.tanh(c0)
                g = self.ih1(h0) + self.hh1(h1)
                i, f, gg, o = g.chunk(4, 1)
                c1 = lib.sigmoid(f) * c1 + lib.sigmoid(i) * lib.tanh(gg)
                h1 = lib.sigmoid(o) * lib.tanh(c1)
            return h1

    rng = np.random.default_rng(0)
    spir = rng.standard_normal((128, 2)).astype(np.float32)
    cls = rng.integers(0, 2, 128)
    cx = rng.random((3, 4)).astype(np.float32)
    ch = rng.random((3, 4)).astype(np.float32)
    ct = rng.random((3, 4)).astype(np.float32)
    lx = rng.standard_normal((8, 16, 8)).astype(np.float32)
    lt = rng.standard_normal((16, 32)).astype(np.float32)
    T = lib.from_numpy

    def adam(ps):
        return lib.optim.Adam(ps, lr=1e-2)

    def sgd(ps):
        return lib.optim.SGD(ps, lr=1e-2, momentum=0.9)

    return {
        "mlp_tanh": (lambda: MLP(nn.Tanh), lambda: (T(spir.copy()),),
                     lambda out, _y=T(cls.copy()): F.cross_entropy(out, _y), adam),
        "mlp_relu": (lambda: MLP(nn.ReLU), lambda: (T(spir.copy()),),
                     lambda out, _y=T(cls.copy()): F.cross_entropy(out, _y), adam),
        "mycell": (MyCell, lambda: (T(cx.copy()), T(ch.copy())),
                   lambda out, _t=T(ct.copy()): F.mse_loss(out[0], _t), sgd),
        "lstmish": (LSTMish, lambda: (T(lx.copy()),),
                    lambda out, _t=T(lt.copy()): F.mse_loss(out, _t), sgd),
    }


def _copy_params(lib, src, dst):
    with lib.no_grad():
        for a, b in zip(src.parameters(), dst.parameters()):
            b.copy_(a)


def make_step(lib, name, scripted, seed=0):
    make, inputs, loss_fn, make_opt = models(lib)[name]
    lib.manual_seed(seed)
    model = make()
    net = lib.jit.script(model) if scripted else model
    opt = make_opt(model.parameters() if not scripted else net.parameters())
    args = inputs()

    def step():
        opt.zero_grad()
        loss = loss_fn(net(*args))
        loss.backward()
        opt.step()
        return loss
    return step, net


def check(lib, name):
    """Scripted vs eager: one step's loss and gradients agree (same parameters)."""
    make, inputs, loss_fn, _ = models(lib)[name]
    lib.manual_seed(0)
    m = make()
    s = lib.jit.script(make())
    _copy_params(lib, m, s)
    args = inputs()
    for _ in range(3):                  # profiling runs, then the optimized plan
        for p in list(m.parameters()) + list(s.parameters()):
            p.grad = None
        le = loss_fn(m(*args))
        le.backward()
        ls = loss_fn(s(*args))
        ls.backward()
        if abs(le.item() - ls.item()) > 1e-5 * max(1.0, abs(le.item())):
            return False
        for a, b in zip(m.parameters(), s.parameters()):
            if not np.allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-6):
                return False
    return True


def time_step(step, repeats, min_batch_s=0.05):
    for _ in range(5):
        step()
    n, t = 1, 0.0
    while True:
        t0 = time.process_time()
        for _ in range(n):
            step()
        t = time.process_time() - t0
        if t >= min_batch_s:
            break
        n *= 2
    best = t / n
    for _ in range(repeats - 1):
        t0 = time.process_time()
        for _ in range(n):
            step()
        best = min(best, (time.process_time() - t0) / n)
    return 1e6 * best


def run(repeats, only=None):
    torch = None
    if only != "gpujit":
        try:
            import torch
            torch.set_num_threads(1)
        except ImportError:
            torch = None
    rows = []
    for name in models(gpujit):
        row = {"model": name}
        row["correct"] = check(gpujit, name)
        row["gpujit_eager_us"] = round(time_step(make_step(gpujit, name, False)[0], repeats), 1)
        row["gpujit_script_us"] = round(time_step(make_step(gpujit, name, True)[0], repeats), 1)
        if torch is not None:
            row["torch_eager_us"] = round(time_step(make_step(torch, name, False)[0], repeats), 1)
            row["torch_script_us"] = round(time_step(make_step(torch, name, True)[0], repeats), 1)
        rows.append(row)
    return {"benchmark": "scripted training step", "device": "cpu", "repeats": repeats,
            "statistic": "best of repeats, mean process_time us per step",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                         "torch": torch.__version__ if torch is not None else None},
            "results": rows}


def print_table(report):
    cols = ["gpujit_eager_us", "gpujit_script_us", "torch_eager_us", "torch_script_us"]
    print(f"{'model':10s} " + " ".join(f"{c[:-3]:>14s}" for c in cols) + "  script/eager  ok")
    for r in report["results"]:
        vals = " ".join(f"{r[c]:14.1f}" if r.get(c) is not None else f"{'-':>14s}"
                        for c in cols)
        print(f"{r['model']:10s} {vals}  {r['gpujit_script_us'] / r['gpujit_eager_us']:12.2f}"
              f"  {r['correct']}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    p.add_argument("--only", default=None, help="'gpujit': no torch peer, no JSON written")
    args = p.parse_args(argv)
    report = run(args.repeats, args.only)
    print_table(report)
    if args.only is None:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "script_training-cpu.json")
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print(f"  written to {os.path.relpath(path)}")


if __name__ == "__main__":
    sys.exit(main())
