"""Whole training steps (forward, loss, backward, optimizer.step) of small models, eager,
traced and scripted, gpujit against PyTorch 2.13 (eager, torch.jit.trace and
torch.jit.script) in one run.

Models: the MLP of examples/train_mlp.py (2 -> 64 -> 64 -> 64 -> 2, tanh; and the same
with relu; batch 128, cross_entropy, Adam), the TorchScript tutorial's MyCell (its
decision gate's `if`, batch 3 x 4, mse_loss, SGD), a 2-layer LSTM-like cell looped
over 8 time steps inside forward (batch 16, hidden 32, mse_loss on the last state, SGD),
nanoGPT's Block (benchmarks/nanogpt_block.py; attention through
F.scaled_dot_product_attention and the masked form; (B, T, C, H) = (4, 32, 64, 4),
mse_loss, AdamW) and nn.TransformerEncoderLayer(64, 4, 128, dropout=0, batch_first=True)
(same input, mse_loss, AdamW). Small models: the step's time is per-op overhead, which
is what compiling should cut. (A traced MyCell keeps the branch its example took.)

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=2 python benchmarks/script_training.py \
        [--repeats 9] [--out DIR] [--only gpujit] [--model NAME ...]

Timing: time.process_time (CPU time of this process: the machine may be shared). All
forms of one model run interleaved: each round times a batch (at least 20 ms) of steps of
every form in turn, and a form's number is the median over --repeats rounds of the CPU
µs per step, so load falls on all forms alike; `vs_eager` is the ratio to gpujit eager.
BLAS and torch on one thread. Before timing, each scripted model's loss and gradients are
checked against its eager twin (`correct`). Writes
benchmarks/results/script_training-cpu.json (with the load average) and prints a table.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import gpujit  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nanogpt_block  # noqa: E402

_BLOCKS: dict = {}          # lib name -> nanoGPT's Block module, imported from source
_FOLDER = tempfile.mkdtemp(prefix="script_training_")
BLOCK_SHAPE = (4, 32, 64, 4)


def _block_module(lib):
    name = lib.__name__
    if name not in _BLOCKS:
        _BLOCKS[name] = nanogpt_block._import(_FOLDER, name)
    return _BLOCKS[name]


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
    B, S, C, H = BLOCK_SHAPE
    bx = rng.standard_normal((B, S, C)).astype(np.float32)
    bt = rng.standard_normal((B, S, C)).astype(np.float32)
    T = lib.from_numpy

    def block(attention):
        return lambda: _block_module(lib).Block(attention, C, H, S)

    def encoder_layer():
        return nn.TransformerEncoderLayer(C, H, 2 * C, dropout=0.0, batch_first=True)

    def adamw(ps):
        return lib.optim.AdamW(ps, lr=1e-3)

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
        "block_sdpa": (block("sdpa"), lambda: (T(bx.copy()),),
                       lambda out, _t=T(bt.copy()): F.mse_loss(out, _t), adamw),
        "block_masked": (block("masked"), lambda: (T(bx.copy()),),
                         lambda out, _t=T(bt.copy()): F.mse_loss(out, _t), adamw),
        "encoder_layer": (encoder_layer, lambda: (T(bx.copy()),),
                          lambda out, _t=T(bt.copy()): F.mse_loss(out, _t), adamw),
    }

FORMS = ("eager", "traced", "scripted")


def _copy_params(lib, src, dst):
    with lib.no_grad():
        for a, b in zip(src.parameters(), dst.parameters()):
            b.copy_(a)


def make_step(lib, name, form, seed=0):
    make, inputs, loss_fn, make_opt = models(lib)[name]
    lib.manual_seed(seed)
    model = make()
    args = inputs()
    net = lib.jit.script(model) if form == "scripted" else \
        lib.jit.trace(model, args) if form == "traced" else model
    opt = make_opt(net.parameters())

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


def _batch(step, min_batch_s=0.02):
    n = 1
    while True:
        t0 = time.process_time()
        for _ in range(n):
            step()
        if time.process_time() - t0 >= min_batch_s or n >= 1 << 12:
            return n
        n *= 2


def time_steps(steps, repeats):
    """{form: median CPU µs per step}, every round timing a batch of each form in turn."""
    for step in steps.values():
        for _ in range(5):
            step()
    numbers = {k: _batch(step) for k, step in steps.items()}
    samples = {k: [] for k in steps}
    for _ in range(repeats):
        for k, step in steps.items():
            n = numbers[k]
            t0 = time.process_time()
            for _ in range(n):
                step()
            samples[k].append((time.process_time() - t0) / n * 1e6)
    return {k: statistics.median(v) for k, v in samples.items()}


def run(repeats, only=None, names=None):
    warnings.simplefilter("ignore")     # (the tracers' warnings; torch.jit's deprecation)
    torch = None
    if only != "gpujit":
        try:
            import torch
            torch.set_num_threads(1)
        except ImportError:
            torch = None
    libs = {"gpujit": gpujit} if torch is None else {"gpujit": gpujit, "torch": torch}
    load = os.getloadavg()[0]
    rows = []
    for name in names or models(gpujit):
        row = {"model": name, "correct": check(gpujit, name)}
        steps = {f"{ln}_{form}": make_step(lib, name, form)[0]
                 for ln, lib in libs.items() for form in FORMS}
        us = time_steps(steps, repeats)
        row["us"] = {k: round(v, 1) for k, v in us.items()}
        row["vs_eager"] = {k: round(v / us["gpujit_eager"], 3) for k, v in us.items()}
        rows.append(row)
    return {"benchmark": "training step, eager / traced / scripted", "device": "cpu",
            "repeats": repeats,
            "statistic": "median over interleaved rounds of the process_time us per step",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                         "torch": torch.__version__ if torch is not None else None},
            "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS",
                                                       "NUMBA_NUM_THREADS")},
            "load_average_1min": {"start": round(load, 2),
                                  "end": round(os.getloadavg()[0], 2)},
            "results": rows}


def print_table(report):
    forms = list(report["results"][0]["us"])
    print(f"{'model':14s} " + " ".join(f"{c:>15s}" for c in forms) + "  ok")
    for r in report["results"]:
        vals = " ".join(f"{r['us'][c]:8.1f} x{r['vs_eager'][c]:5.2f}" for c in forms)
        print(f"{r['model']:14s} {vals}  {r['correct']}")
    print(f"(CPU µs per step and ratio to gpujit eager; load "
          f"{report['load_average_1min']['start']} -> {report['load_average_1min']['end']})")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    p.add_argument("--only", default=None, help="'gpujit': no torch peer, no JSON written")
    p.add_argument("--model", action="append", default=None,
                   help="run only this model (repeatable); no JSON written")
    args = p.parse_args(argv)
    report = run(args.repeats, args.only, args.model)
    print_table(report)
    if args.only is None and args.model is None:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "script_training-cpu.json")
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print(f"  written to {os.path.relpath(path)}")


if __name__ == "__main__":
    sys.exit(main())
