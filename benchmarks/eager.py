"""Per-call cost of gpujit's eager ops against the raw array call they wrap.

For each op: the median over repeats of the µs per call of the gpujit call (on Tensors)
and of the same computation written directly in NumPy (CPU) or CuPy (GPU, when present),
on 1K (2^10) float32 elements (matmul: 32x32). The difference is what the Tensor wrapper,
argument binding, type promotion and dispatch cost. Target (issue 3): at most 2 µs per op
over raw NumPy on the CPU.

    python benchmarks/eager.py [--device cpu|cuda|all] [--repeats 15] [--out DIR]

Writes benchmarks/results/eager-<device>.json (machine, versions, date, per-op numbers)
and prints a table.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import gpujit

TARGET_US = 2.0
N = 1 << 10


def _ops(xp):
    """(name, gpujit call on namespace T, raw call on namespace A). T and A hold the same
    data as Tensors and as arrays; the raw call is the computation gpujit's op performs."""
    g = gpujit
    return [
        ("add", lambda T: T.x + T.y, lambda A: A.x + A.y),
        ("mul_scalar", lambda T: T.x * 0.5, lambda A: A.x * 0.5),
        ("sub", lambda T: T.x - T.y, lambda A: A.x - A.y),
        ("div", lambda T: T.x / T.y, lambda A: A.x / A.y),
        ("exp", lambda T: g.exp(T.x), lambda A: xp.exp(A.x)),
        ("tanh", lambda T: g.tanh(T.x), lambda A: xp.tanh(A.x)),
        ("sigmoid", lambda T: g.sigmoid(T.x), lambda A: 1 / (1 + xp.exp(-A.x))),
        ("relu", lambda T: g.relu(T.x), lambda A: xp.maximum(A.x, 0)),
        ("lt", lambda T: T.x < T.y, lambda A: A.x < A.y),
        ("where", lambda T: g.where(T.c, T.x, T.y), lambda A: xp.where(A.c, A.x, A.y)),
        ("sum", lambda T: T.x.sum(), lambda A: A.x.sum()),
        ("mean", lambda T: T.x.mean(), lambda A: A.x.mean()),
        ("matmul_32x32", lambda T: T.m @ T.n, lambda A: A.m @ A.n),
        ("view", lambda T: T.x.view(32, 32), lambda A: A.x.reshape(32, 32)),
        ("reshape", lambda T: T.x.reshape(32, 32), lambda A: A.x.reshape(32, 32)),
        ("transpose", lambda T: T.m.transpose(0, 1), lambda A: A.m.swapaxes(0, 1)),
        ("index_slice", lambda T: T.x[1:], lambda A: A.x[1:]),
        ("cat", lambda T: g.cat([T.x, T.y]), lambda A: xp.concatenate([A.x, A.y])),
    ]


class _NS:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _inputs(xp, dev):
    rng = np.random.default_rng(0)
    host = dict(x=rng.standard_normal(N, dtype=np.float32),
                y=rng.random(N, dtype=np.float32) + 0.5,
                m=rng.standard_normal((32, 32), dtype=np.float32),
                n=rng.standard_normal((32, 32), dtype=np.float32))
    host["c"] = host["x"] > 0
    arrays = {k: xp.asarray(v) for k, v in host.items()}
    tensors = {k: gpujit.tensor(v, device=dev) for k, v in host.items()}
    return _NS(**tensors), _NS(**arrays)


def _per_call_us(fn, arg, sync, repeats, min_batch_s=0.01):
    """Median over `repeats` batches of µs per call; each batch runs long enough
    (min_batch_s) that the clock and the final sync do not matter."""
    fn(arg)
    sync()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn(arg)
        sync()
        if time.perf_counter() - t0 >= min_batch_s or number >= 1 << 20:
            break
        number *= 4
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn(arg)
        sync()
        samples.append((time.perf_counter() - t0) / number * 1e6)
    return statistics.median(samples), number


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _machine(dev):
    info = {"platform": platform.platform(), "processor": _cpu_name(),
            "cpu_count": os.cpu_count(), "python": platform.python_version()}
    if dev.type == "cuda":
        info["gpu"] = gpujit.cuda.get_device_name(dev)
        info["gpu_capability"] = "sm_%d%d" % gpujit.cuda.get_device_capability(dev)
    return info


def run(device_name, repeats):
    dev = gpujit.device(device_name)
    if dev.type == "cuda":
        import cupy as xp
        dev = gpujit.device("cuda", gpujit.cuda.current_device())
        sync, peer = gpujit.cuda.synchronize, "cupy"
    else:
        xp, sync, peer = np, (lambda: None), "numpy"
    T, A = _inputs(xp, dev)
    results = []
    for name, gfn, rfn in _ops(xp):
        try:
            out = gfn(T)
        except Exception as e:   # an op not written yet: note it and go on
            results.append({"op": name, "skipped": f"{type(e).__name__}: {e}"})
            continue
        raw = rfn(A)
        got = out if not isinstance(out, gpujit.Tensor) else out._data
        if not np.allclose(np.asarray(got.get() if hasattr(got, "get") else got),
                           np.asarray(raw.get() if hasattr(raw, "get") else raw),
                           rtol=1e-5, atol=1e-6):
            results.append({"op": name, "skipped": "result differs from the raw call"})
            continue
        g_us, g_n = _per_call_us(gfn, T, sync, repeats)
        r_us, r_n = _per_call_us(rfn, A, sync, repeats)
        row = {"op": name, "gpujit_us": round(g_us, 3), f"{peer}_us": round(r_us, 3),
               "overhead_us": round(g_us - r_us, 3), "ratio": round(g_us / r_us, 3),
               "calls_per_batch": [g_n, r_n]}
        if dev.type == "cpu":
            row["meets_target"] = g_us - r_us <= TARGET_US
        results.append(row)
    return {
        "benchmark": "eager per-call cost", "device": str(dev), "peer": peer,
        "n_elements": N, "dtype": "float32", "repeats": repeats,
        "statistic": "median over repeats of the mean µs per call in a batch",
        "target_overhead_us_cpu": TARGET_US,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(dev),
        "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                     "numba": _version("numba"), "numba-cuda": _version("numba-cuda"),
                     "cupy": xp.__version__ if peer == "cupy" else None},
        "results": results,
    }


def print_table(report):
    peer = report["peer"]
    where = report["machine"].get("gpu") or report["machine"]["processor"]
    print(f"\neager per-call cost on {report['device']} ({where}), {report['n_elements']} "
          f"float32 elements, median of {report['repeats']}:")
    cpu = report["device"] == "cpu"
    head = f"  {'op':<14}{'gpujit µs':>11}{peer + ' µs':>11}{'diff µs':>10}{'ratio':>8}"
    print(head + (f"  ≤{TARGET_US:g} µs" if cpu else ""))
    met = total = 0
    for r in report["results"]:
        if "skipped" in r:
            print(f"  {r['op']:<14}skipped ({r['skipped']})")
            continue
        line = (f"  {r['op']:<14}{r['gpujit_us']:>11.2f}{r[peer + '_us']:>11.2f}"
                f"{r['overhead_us']:>+10.2f}{r['ratio']:>8.2f}")
        if cpu:
            total += 1
            met += r["meets_target"]
            line += "  yes" if r["meets_target"] else "  no"
        print(line)
    if cpu:
        print(f"  {met} of {total} ops add at most {TARGET_US:g} µs over the raw NumPy call")


def cli(doc, run, print_table, name, default_device="all", argv=None):
    """The command line the benchmarks share: --device, --repeats, --out; one JSON report
    per device, results/<name>-<device>.json, and a printed table."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("--device", default=default_device, choices=["cpu", "cuda", "all"])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = p.parse_args(argv)
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not gpujit.cuda.is_available():
        if args.device == "cuda":
            sys.exit("no CUDA GPU found; the CUDA run needs CuPy and a GPU")
        devices.remove("cuda")
    os.makedirs(args.out, exist_ok=True)
    for d in devices:
        report = run(d, args.repeats)
        path = os.path.join(args.out, f"{name}-{d}.json")
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        print_table(report)
        print(f"  written to {os.path.relpath(path)}")


def main(argv=None):
    cli(__doc__, run, print_table, "eager", "all", argv)


if __name__ == "__main__":
    main()
