"""Per-call cost of a compiled 10-op function: gpujit's executor against the same ops
called directly in NumPy (CuPy on a GPU) and against gpujit eager.

Two functions of 10 ops on 16-element float32 tensors (x, y):

- `cell`: mul, add, tanh, sub, sigmoid, mul by 0.5, relu, add, div, exp: a typical
  elementwise cell, where sigmoid and relu are several NumPy calls each;
- `arith`: mul, add, tanh, sub, mul by 0.5, exp, add, div, neg, abs: ops that are one
  NumPy call each.

Each is written once with gpujit ops (run eagerly), once in NumPy (the raw calls gpujit's
ops make), and traced with `gpujit.trace`; the traced function (its graph run by the
executor) is timed as a user calls it. Targets (issue 4):
the executor at most 1.5x the direct NumPy time, and at least 3x faster than eager.
Timing: timeit, the best of `--repeats` batches, µs per call.

    python benchmarks/executor.py [--device cpu|cuda|all] [--repeats 15] [--out DIR]

Writes benchmarks/results/executor-<device>.json and prints a table.
"""
from __future__ import annotations

import datetime
import os
import sys
import timeit

import numpy as np

import gpujit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager import _machine, _version, cli  # noqa: E402

MAX_RATIO_VS_RAW = 1.5
MIN_SPEEDUP_VS_EAGER = 3.0
N = 16


# ------------------------------------------------------------------ the functions

def cell(x, y):
    a = x * y
    b = a + x
    t = gpujit.tanh(b)
    d = t - y
    e = gpujit.sigmoid(d)
    f = e * 0.5
    r = gpujit.relu(f)
    i = r + x
    j = i / y
    return gpujit.exp(j)


def cell_raw(xp):
    def f(x, y):
        d = xp.tanh(x * y + x) - y
        f = (1 / (1 + xp.exp(-d))) * 0.5
        return xp.exp((xp.maximum(f, 0) + x) / y)
    return f


def arith(x, y):
    a = x * y
    b = a + x
    t = gpujit.tanh(b)
    d = t - y
    e = d * 0.5
    f = gpujit.exp(e)
    i = f + x
    j = i / y
    n = -j
    return gpujit.abs(n)


def arith_raw(xp):
    def f(x, y):
        e = (xp.tanh(x * y + x) - y) * 0.5
        return xp.abs(-((xp.exp(e) + x) / y))
    return f


# (name, eager function, raw twin on a namespace)
FUNCTIONS = [("cell", cell, cell_raw), ("arith", arith, arith_raw)]


# ------------------------------------------------------------------ timing

def _best_us(fn, args, sync, repeats):
    """Best over `repeats` batches of the µs per call; a batch runs >= 20 ms."""
    def run():
        fn(*args)
        sync()
    run()
    timer = timeit.Timer(lambda: fn(*args))
    number = 1
    while True:
        t = timer.timeit(number)
        sync()
        if t >= 0.02 or number >= 1 << 20:
            break
        number *= 4
    best = min(timer.repeat(repeat=repeats, number=number))
    sync()
    return best / number * 1e6, number


def _host(a):
    a = a._data if isinstance(a, gpujit.Tensor) else a
    return np.asarray(a.get() if hasattr(a, "get") else a)


def run(device_name, repeats):
    dev = gpujit.device(device_name)
    if dev.type == "cuda":
        import cupy as xp
        dev = gpujit.device("cuda", gpujit.cuda.current_device())
        sync, peer = gpujit.cuda.synchronize, "cupy"
    else:
        xp, sync, peer = np, (lambda: None), "numpy"
    rng = np.random.default_rng(0)
    hx = rng.standard_normal(N, dtype=np.float32)
    hy = rng.random(N, dtype=np.float32) + 0.5
    X, Y = gpujit.tensor(hx, device=dev), gpujit.tensor(hy, device=dev)
    A, B = xp.asarray(hx), xp.asarray(hy)
    results = []
    for name, fn, raw_of in FUNCTIONS:
        traced = gpujit.trace(fn, (X, Y))       # what a user calls: the ScriptFunction
        exe = traced._get_executable()
        raw = raw_of(xp)
        want = _host(raw(A, B))
        for label, out in (("executor", traced(X, Y)), ("executor", traced(X, Y)),
                           ("eager", fn(X, Y))):
            if not np.allclose(_host(out), want, rtol=1e-5, atol=1e-6):
                raise AssertionError(f"{name}: the {label} result differs from {peer}")
        exe_us, n1 = _best_us(traced, (X, Y), sync, repeats)
        raw_us, n2 = _best_us(raw, (A, B), sync, repeats)
        eager_us, n3 = _best_us(fn, (X, Y), sync, repeats)
        row = {"function": name, "executor_us": round(exe_us, 3),
               f"{peer}_us": round(raw_us, 3), "eager_us": round(eager_us, 3),
               f"ratio_vs_{peer}": round(exe_us / raw_us, 3),
               "speedup_vs_eager": round(eager_us / exe_us, 3),
               "calls_per_batch": [n1, n2, n3], "specializations": len(exe.specializations),
               "generated_source": exe.source}
        if dev.type == "cpu":
            row["meets_ratio_target"] = exe_us / raw_us <= MAX_RATIO_VS_RAW
            row["meets_speedup_target"] = eager_us / exe_us >= MIN_SPEEDUP_VS_EAGER
        results.append(row)
    return {
        "benchmark": "executor per-call cost, 10-op elementwise functions",
        "device": str(dev), "peer": peer, "n_elements": N, "dtype": "float32",
        "repeats": repeats, "statistic": "best over repeats of the mean µs per call in a batch",
        "targets_cpu": {f"max_ratio_vs_{peer}": MAX_RATIO_VS_RAW,
                        "min_speedup_vs_eager": MIN_SPEEDUP_VS_EAGER},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(dev),
        "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                     "cupy": xp.__version__ if peer == "cupy" else None,
                     "numba": _version("numba")},
        "results": results,
    }


def print_table(report):
    peer = report["peer"]
    where = report["machine"].get("gpu") or report["machine"]["processor"]
    cpu = report["device"] == "cpu"
    print(f"\nexecutor per-call cost on {report['device']} ({where}), 10 ops on "
          f"{report['n_elements']} float32 elements, best of {report['repeats']}:")
    head = (f"  {'function':<10}{'executor µs':>13}{peer + ' µs':>11}{'eager µs':>10}"
            f"{'vs ' + peer:>10}{'vs eager':>10}")
    if cpu:
        head += f"  ≤{MAX_RATIO_VS_RAW:g}x {peer}  ≥{MIN_SPEEDUP_VS_EAGER:g}x eager"
    print(head)
    for r in report["results"]:
        line = (f"  {r['function']:<10}{r['executor_us']:>13.2f}{r[peer + '_us']:>11.2f}"
                f"{r['eager_us']:>10.2f}{r['ratio_vs_' + peer]:>9.2f}x"
                f"{r['speedup_vs_eager']:>9.2f}x")
        if cpu:
            line += (f"  {'yes' if r['meets_ratio_target'] else 'no':>9}"
                     f"  {'yes' if r['meets_speedup_target'] else 'no':>10}")
        print(line)


def main(argv=None):
    cli(__doc__, run, print_table, "executor", "cpu", argv)


if __name__ == "__main__":
    main()
