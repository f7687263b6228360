"""Fused elementwise functions against their peers, side by side in one run.

Two float32 workloads, traced with gpujit.trace so the fuser turns each into one kernel:

- chain: tanh(x * 0.5 + y) * sigmoid(x - y) + relu(x)
- gelu:  tanh-GELU(x) + y

Peers: gpujit eager, NumPy (CPU) / CuPy (GPU), and when installed on the machine CuPy
`fuse`, torch eager, `torch.jit.script` (NNC) and `torch.compile`. Sizes 2^10 ... 2^24 on the
CPU, ... 2^26 on a GPU. Reported: µs per call (median of batches) and effective GB/s
(inputs read once + output written once; a copy's counts what it reads and writes, so
`bandwidth_vs_copy` compares like with like). Also: cold compile time of a group, and the
first call of the traced chain in a fresh process with a warm disk cache.

    python benchmarks/fusion.py [--device cpu|cuda|all] [--repeats 7] [--max-log2 24]

Targets (issue 5): CPU 2^24 >= 3x NumPy eager; GPU 2^26 >= 0.97x a device-to-device copy
and >= 1.0x torch.compile; GPU 2^10 <= 0.8x NNC's time per call; compile <= 1 s cold per
group, first call with a warm disk cache <= 50 ms.
"""
from __future__ import annotations

import datetime
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

import gpujit
from gpujit.__main__ import _time_us

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager import _machine, _version, cli  # noqa: E402

_C = math.sqrt(2 / math.pi)


def chain(x, y):
    return gpujit.tanh(x * 0.5 + y) * gpujit.sigmoid(x - y) + gpujit.relu(x)


def gelu(x, y):
    return gpujit.nn.functional.gelu(x, approximate="tanh") + y


def chain_xp(xp):
    def f(x, y):
        return xp.tanh(x * np.float32(0.5) + y) * (1 / (1 + xp.exp(y - x))) + \
            xp.maximum(x, np.float32(0))
    return f


def gelu_xp(xp):
    def f(x, y):
        return np.float32(0.5) * x * (1 + xp.tanh(np.float32(_C) * (
            x + np.float32(0.044715) * x * x * x))) + y
    return f


def _torch_fns():
    try:
        import torch
    except ImportError:
        return None, {}
    tf = torch.nn.functional

    def t_chain(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)

    def t_gelu(x, y):
        return tf.gelu(x, approximate="tanh") + y
    return torch, {"chain": t_chain, "gelu": t_gelu}


def _median_us(fn, sync, budget_s):
    return _time_us(fn, budget_s, sync, batches=7, max_number=20000)


def _scripted_us(fn, X, Y, sync, budget):
    s = gpujit.script(fn)
    for _ in range(3):                   # profile, optimize
        s(X, Y)
    return _median_us(lambda: s(X, Y), sync, budget)


def _call_breakdown(dev, xp, sync):
    """Where one call of the traced chain at 2^10 goes, outside in (µs, medians): the
    whole call, the executor's dispatcher (the Tensors in), the fusion group (its guard and
    the launch, raw arrays in), the launcher alone, and on a GPU what a launch cannot
    avoid: cuLaunchKernel of the same kernel and parameter block, the current stream, and
    the allocation of an output (which STATIC launchers recycle)."""
    n = 1 << 10
    rng = np.random.default_rng(0)
    X = gpujit.tensor(rng.standard_normal(n, dtype=np.float32), device=dev)
    Y = gpujit.tensor(rng.standard_normal(n, dtype=np.float32), device=dev)
    traced = gpujit.trace(chain, (X, Y), check_trace=False)
    for _ in range(3):
        traced(X, Y)
    exe = traced._executable
    (group,) = exe.specializations[-1].groups
    kernel = group.specializations[-1].kernel
    A, B = X._data, Y._data
    t = {"call": lambda: traced(X, Y), "executor": lambda: exe._dispatch(X, Y),
         "group": lambda: group.call(A, B), "launcher": lambda: kernel.launch(A, B)}
    g = kernel.launch.__globals__
    if dev.type == "cuda" and "_pp" in g:
        t["cuLaunchKernel"] = lambda: g["_launch"](g["_fp"], 1, 1, 1, 256, 1, 1, 0,
                                                   xp.cuda.get_current_stream().ptr,
                                                   g["_pp"], 0)
        t["current_stream"] = lambda: xp.cuda.get_current_stream().ptr
        t["allocation"] = lambda: xp.ndarray((n,), np.float32)
    out = {k: round(_median_us(f, sync, 0.2), 3) for k, f in t.items()}
    out["recycles_outputs"] = "_rc(" in kernel.launcher_source
    return out


def _cold_and_warm(tmp, device="cpu"):
    """The first two calls of the traced chain in a fresh process with an empty kernel
    cache (the compiler's imports and first-use costs included), then those of a second,
    different group in the same process (what one more group costs); then both again in a
    fresh process that finds the kernels in the disk cache (ms), on `device`."""
    sync = "gpujit.cuda.synchronize()" if device != "cpu" else "None"
    code = (
        "import time, gpujit\n"
        f"x = gpujit.rand(1024, device={device!r}); y = gpujit.rand(1024, device={device!r})\n"
        "def chain(x, y):\n"
        "    return gpujit.tanh(x * 0.5 + y) * gpujit.sigmoid(x - y) + gpujit.relu(x)\n"
        "def other(x, y):\n"
        "    return gpujit.sigmoid(x * y - 1.5) * y + x.abs()\n"
        "for f in (chain, other):\n"
        "    t = gpujit.trace(f, (x, y), check_trace=False)\n"
        f"    t1 = time.perf_counter(); t(x, y); t(x, y); {sync}; t2 = time.perf_counter()\n"
        "    print((t2 - t1) * 1e3, end=' ')\n"
        "print(gpujit.kernels.cache_info().compiles)\n")
    env = dict(os.environ, GPUJIT_CACHE_DIR=tmp)
    out = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, timeout=600)
        if r.returncode != 0:
            return {"error": r.stderr.strip().splitlines()[-1:]}
        first, second, compiles = r.stdout.split()
        out.append((float(first), float(second), int(compiles)))
    return {"cold_first_calls_ms": round(out[0][0], 1),
            "cold_next_group_first_calls_ms": round(out[0][1], 1), "cold_compiles": out[0][2],
            "warm_disk_first_calls_ms": round(out[1][0], 1),
            "warm_disk_next_group_first_calls_ms": round(out[1][1], 1),
            "warm_disk_compiles": out[1][2]}


def run(device_name, repeats, max_log2=None):
    dev = gpujit.device("cuda", gpujit.cuda.current_device()) if device_name == "cuda" \
        else gpujit.device("cpu")
    if dev.type == "cuda":
        import cupy as xp
        sync, peer = gpujit.cuda.synchronize, "cupy"
        top = max_log2 or 26
    else:
        xp, sync, peer = np, (lambda: None), "numpy"
        top = max_log2 or 24
    torch, tfns = _torch_fns()
    rows = []
    for name, fn, raw_of in (("chain", chain, chain_xp), ("gelu", gelu, gelu_xp)):
        raw = raw_of(xp)
        for k in range(10, top + 1, 2):
            n = 1 << k
            rng = np.random.default_rng(k)
            hx = rng.standard_normal(n, dtype=np.float32)
            hy = rng.standard_normal(n, dtype=np.float32)
            X, Y = gpujit.tensor(hx, device=dev), gpujit.tensor(hy, device=dev)
            A, B = xp.asarray(hx), xp.asarray(hy)
            traced = gpujit.trace(fn, (X, Y), check_trace=False)
            traced(X, Y)
            out = traced(X, Y)
            want = raw(A, B)
            ok = bool(np.allclose(np.asarray(out.cpu().numpy()),
                                  np.asarray(want.get() if hasattr(want, "get") else want),
                                  rtol=1e-4, atol=1e-5))
            budget = 0.2 if n <= 1 << 16 else 1.0
            row = {"function": name, "log2_n": k, "correct": ok,
                   "fused_us": _median_us(lambda: traced(X, Y), sync, budget),
                   # the latency target names the scripted function: same executor
                   **({"scripted_us": _scripted_us(fn, X, Y, sync, budget)} if k <= 16 else {}),
                   "eager_us": _median_us(lambda: fn(X, Y), sync, budget),
                   f"{peer}_us": _median_us(lambda: raw(A, B), sync, budget)}
            if dev.type == "cuda":
                cfused = xp.fuse()(raw)
                row["cupy_fuse_us"] = _median_us(lambda: cfused(A, B), sync, budget)
                copy_dst = xp.empty(3 * n, dtype=np.float32)
                copy_src = xp.zeros(3 * n, dtype=np.float32)
                row["copy_us"] = _median_us(lambda: copy_dst.__setitem__(slice(None), copy_src),
                                            sync, budget)
            td = "cuda" if dev.type == "cuda" else "cpu"
            if torch is not None and (td == "cpu" or torch.cuda.is_available()):
                tx, ty = torch.from_numpy(hx).to(td), torch.from_numpy(hy).to(td)
                tsync = torch.cuda.synchronize if td == "cuda" else (lambda: None)
                tf = tfns[name]
                row["torch_eager_us"] = _median_us(lambda: tf(tx, ty), tsync, budget)
                try:
                    ts = torch.jit.script(tf)
                    for _ in range(3):
                        ts(tx, ty)
                    row["torch_script_nnc_us"] = _median_us(lambda: ts(tx, ty), tsync, budget)
                except Exception as e:        # noqa: BLE001 - a peer that cannot run
                    row["torch_script_nnc_error"] = str(e)[:200]
                if td == "cuda":
                    try:
                        tc = torch.compile(tf)
                        for _ in range(3):
                            tc(tx, ty)
                        row["torch_compile_us"] = _median_us(lambda: tc(tx, ty), tsync, budget)
                    except Exception as e:    # noqa: BLE001
                        row["torch_compile_error"] = str(e)[:200]
            bytes_moved = 3 * 4 * n
            row["fused_GBps"] = bytes_moved / row["fused_us"] / 1e3
            if "copy_us" in row:        # a copy of the same bytes reads and writes them
                row["copy_GBps"] = 2 * bytes_moved / row["copy_us"] / 1e3
                row["bandwidth_vs_copy"] = row["fused_GBps"] / row["copy_GBps"]
            if "torch_compile_us" in row:
                row["speedup_vs_torch_compile"] = row["torch_compile_us"] / row["fused_us"]
            if "torch_script_nnc_us" in row:
                row["time_vs_nnc"] = row["fused_us"] / row["torch_script_nnc_us"]
            row[f"speedup_vs_{peer}"] = row[f"{peer}_us"] / row["fused_us"]
            row["speedup_vs_eager"] = row["eager_us"] / row["fused_us"]
            rows.append({k2: (round(v, 3) if isinstance(v, float) else v)
                         for k2, v in row.items()})
            # each row as it is measured: a run stopped part-way still leaves its figures
            print("  measured", rows[-1], file=sys.stderr, flush=True)
    try:
        breakdown = _call_breakdown(dev, xp, sync)
    except Exception as e:          # noqa: BLE001 - a probe must not lose the run
        breakdown = {"error": f"{type(e).__name__}: {e}"[:300]}
    print("  call breakdown (2^10 chain, µs):", breakdown, file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        compile_times = _cold_and_warm(tmp, str(dev))
    return {
        "benchmark": "fused elementwise functions (traced) vs peers",
        "device": str(dev), "peer": peer, "dtype": "float32",
        "statistic": "median of 7 batches, µs per call",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(dev),
        "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                     "numba": _version("numba"), "torch": getattr(torch, "__version__", None)},
        "kernel_cache": gpujit.kernels.cache_info()._asdict(),
        "compile": compile_times,
        "call_breakdown_us": breakdown,
        "results": rows,
    }


def print_table(report):
    peer = report["peer"]
    print(f"\nfused vs peers on {report['device']} ({report['machine'].get('gpu') or report['machine']['processor']}), float32:")
    head = f"  {'fn':<6}{'n':>6}{'fused µs':>11}{'eager µs':>11}{peer + ' µs':>11}{'vs ' + peer:>9}"
    has_torch = any("torch_eager_us" in r for r in report["results"])
    if has_torch:
        head += f"{'torch µs':>11}{'NNC µs':>10}"
    has_copy = any("copy_GBps" in r for r in report["results"])
    if has_copy:
        head += f"{'GB/s':>8}{'vs copy':>9}{'t.compile µs':>13}"
    print(head)
    for r in report["results"]:
        line = (f"  {r['function']:<6}{'2^' + str(r['log2_n']):>6}{r['fused_us']:>11.1f}"
                f"{r['eager_us']:>11.1f}{r[peer + '_us']:>11.1f}"
                f"{r['speedup_vs_' + peer]:>8.2f}x")
        if has_torch:
            line += f"{r.get('torch_eager_us', float('nan')):>11.1f}"
            line += f"{r.get('torch_script_nnc_us', float('nan')):>10.1f}"
        if has_copy:
            line += (f"{r['fused_GBps']:>8.0f}{r['bandwidth_vs_copy']:>8.2f}x"
                     f"{r.get('torch_compile_us', float('nan')):>13.1f}")
        if not r["correct"]:
            line += "  WRONG RESULT"
        print(line)
    print(f"  compile: {report['compile']}")


def main(argv=None):
    cli(__doc__, run, print_table, "fusion", "cpu", argv)


if __name__ == "__main__":
    main()
