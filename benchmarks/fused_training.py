"""Forward + backward of fused elementwise functions (inputs that require grad), side by
side in one run: what a training step spends in its pointwise work.

The functions of benchmarks/fusion.py (chain: tanh(x * 0.5 + y) * sigmoid(x - y) +
relu(x); gelu: tanh-GELU(x) + y), float32, one step = `f(x, y).backward(g)` with the
gradients cleared. Peers: gpujit eager (op by op, recording), and when installed PyTorch
eager and `torch.jit.script` (NNC fuses the forward and, through its autodiff, the
backward); on a GPU also `torch.compile`. The scripted gpujit function runs its fusion
group's kernel forward and one traced, fused backward graph (gpujit/jit/autodiff.py).

    python benchmarks/fused_training.py [--device cpu|cuda|all] [--repeats 7]

No issue target yet; reported: µs per step, speedup over gpujit eager, time vs NNC.
Writes benchmarks/results/fused_training-<device>.json and prints a table.
"""
from __future__ import annotations

import datetime
import os
import sys

import numpy as np

import gpujit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager import _machine, _version, cli  # noqa: E402
from fusion import _median_us, _torch_fns, chain, gelu  # noqa: E402


def _step(fn, x, y, g):
    def step():
        x.grad = None
        y.grad = None
        fn(x, y).backward(g)
    return step


def run(device_name, repeats):
    dev = "cuda" if device_name == "cuda" else "cpu"
    sync = gpujit.cuda.synchronize if dev == "cuda" else (lambda: None)
    top = 26 if dev == "cuda" else 22
    torch, tfns = _torch_fns()
    rows = []
    for name, fn in (("chain", chain), ("gelu", gelu)):
        scripted = gpujit.jit.script(fn)
        for k in range(10, top + 1, 4):
            n = 1 << k
            rng = np.random.default_rng(k)
            hx = rng.standard_normal(n, dtype=np.float32)
            hy = rng.standard_normal(n, dtype=np.float32)
            hg = rng.standard_normal(n, dtype=np.float32)
            X = gpujit.tensor(hx, device=dev, requires_grad=True)
            Y = gpujit.tensor(hy, device=dev, requires_grad=True)
            G = gpujit.tensor(hg, device=dev)
            budget = 0.3 if n <= 1 << 16 else 1.5
            eager = _step(fn, X, Y, G)
            eager()
            want = (X.grad.cpu().numpy().copy(), Y.grad.cpu().numpy().copy())
            fused = _step(scripted, X, Y, G)
            for _ in range(3):          # profile, optimize; trace and compile the backward
                fused()
            ok = all(np.allclose(a.grad.cpu().numpy(), w, rtol=1e-4, atol=1e-5)
                     for a, w in zip((X, Y), want))
            row = {"function": name, "log2_n": k, "correct": ok,
                   "fused_us": _median_us(fused, sync, budget),
                   "eager_us": _median_us(eager, sync, budget)}
            if torch is not None and (dev == "cpu" or torch.cuda.is_available()):
                tx = torch.from_numpy(hx).to(dev).requires_grad_(True)
                ty = torch.from_numpy(hy).to(dev).requires_grad_(True)
                tg = torch.from_numpy(hg).to(dev)
                tsync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
                tf = tfns[name]
                row["torch_eager_us"] = _median_us(_step(tf, tx, ty, tg), tsync, budget)
                try:
                    ts = torch.jit.script(tf)
                    st = _step(ts, tx, ty, tg)
                    for _ in range(3):
                        st()
                    row["torch_script_nnc_us"] = _median_us(st, tsync, budget)
                except Exception as e:        # noqa: BLE001 - a peer that cannot run
                    row["torch_script_nnc_error"] = str(e)[:200]
                if dev == "cuda":
                    try:
                        tc = torch.compile(tf)
                        st = _step(tc, tx, ty, tg)
                        for _ in range(3):
                            st()
                        row["torch_compile_us"] = _median_us(st, tsync, budget)
                    except Exception as e:    # noqa: BLE001
                        row["torch_compile_error"] = str(e)[:200]
            row["speedup_vs_eager"] = row["eager_us"] / row["fused_us"]
            if "torch_script_nnc_us" in row:
                row["time_vs_nnc"] = row["fused_us"] / row["torch_script_nnc_us"]
            if "torch_compile_us" in row:
                row["time_vs_torch_compile"] = row["fused_us"] / row["torch_compile_us"]
            rows.append({k2: (round(v, 3) if isinstance(v, float) else v)
                         for k2, v in row.items()})
            print("  measured", rows[-1], file=sys.stderr, flush=True)
    return {
        "benchmark": "forward + backward of fused elementwise functions vs peers",
        "device": dev, "dtype": "float32", "repeats": repeats,
        "statistic": "median of 7 batches, µs per step (forward + backward)",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(gpujit.device(dev)),
        "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                     "numba": _version("numba"), "torch": getattr(torch, "__version__", None)},
        "results": rows,
    }


def print_table(report):
    print(f"\nforward + backward on {report['device']}, float32 (µs per step):")
    print(f"  {'fn':<6}{'n':>6}{'fused':>10}{'eager':>10}{'vs eager':>10}"
          f"{'torch':>10}{'NNC':>10}{'vs NNC':>8}")
    for r in report["results"]:
        line = (f"  {r['function']:<6}{'2^' + str(r['log2_n']):>6}{r['fused_us']:>10.1f}"
                f"{r['eager_us']:>10.1f}{r['speedup_vs_eager']:>9.2f}x"
                f"{r.get('torch_eager_us', float('nan')):>10.1f}"
                f"{r.get('torch_script_nnc_us', float('nan')):>10.1f}"
                f"{r.get('time_vs_nnc', float('nan')):>7.2f}x")
        if not r["correct"]:
            line += "  WRONG GRADIENTS"
        print(line)


def main(argv=None):
    cli(__doc__, run, print_table, "fused_training", "cpu", argv)


if __name__ == "__main__":
    main()
