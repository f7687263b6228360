"""`python -m gpujit`: versions, the device gpujit will use, two small models run eagerly on
it, what an eager op costs next to the raw NumPy/CuPy call, MyCell traced, scripted, saved
and loaded, and a scripted elementwise chain fused into one kernel and timed against eager."""
from __future__ import annotations

import importlib.metadata
import os
import time

import numpy as np

import gpujit as torch   # the point of gpujit: PyTorch code runs with this one change
from gpujit.runtime.fusion import cpu_target as fusion_cpu_target, fusion_off_reason


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions_line():
    parts = [f"gpujit {torch.version.gpujit_version} (PyTorch {torch.torch_version.TORCH_API_VERSION} API)"]
    for name, dists in (("numpy", ["numpy"]), ("numba", ["numba"]),
                        ("numba-cuda", ["numba-cuda"]),
                        ("cupy", ["cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x"])):
        v = next((v for v in map(_version, dists) if v), None)
        parts.append(f"{name} {v}" if v else f"{name} not installed")
    return " · ".join(parts)


def choose_device():
    """(device, description line)."""
    if torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability()
        dev = torch.device("cuda", torch.cuda.current_device())
        return dev, f"device: {dev} ({torch.cuda.get_device_name()}, sm_{major}{minor})"
    return torch.device("cpu"), 'device: cpu (no CUDA GPU found; pip install "gpujit[cuda12]")'


class MyCell(torch.nn.Module):
    """The cell of PyTorch's "Introduction to TorchScript" tutorial."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


def run_models(dev):
    torch.manual_seed(0)
    cell = MyCell().to(dev)
    x, h = torch.rand(3, 4, device=dev), torch.rand(3, 4, device=dev)
    print(f"MyCell from PyTorch's TorchScript tutorial, eager on {dev}:")
    print(cell)
    print(cell(x, h))
    print()
    mlp = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(),
                              torch.nn.Linear(32, 4)).to(dev)
    print(f"an MLP, eager on {dev}, logits for a batch of 8:")
    print(mlp)
    print(mlp(torch.randn(8, 16, device=dev)))


def _time_us(fn, budget_s, sync, batches=5, max_number=10000):
    """Median µs per call of fn over `batches` timed batches, spending about budget_s
    (benchmarks/fusion.py times with it too)."""
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, min(max_number, int(budget_s / batches / once)))
    samples = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        samples.append((time.perf_counter() - t0) / number)
    return 1e6 * float(np.median(samples))


def timing_table(dev):
    if dev.type == "cuda":
        import cupy as xp
        sync = torch.cuda.synchronize
        peer = "cupy"
    else:
        xp, sync, peer = np, (lambda: None), "numpy"
    cases = [
        ("x + y", lambda t: t[0] + t[1], lambda a: a[0] + a[1]),
        ("x * 0.5", lambda t: t[0] * 0.5, lambda a: a[0] * 0.5),
        ("tanh(x)", lambda t: torch.tanh(t[0]), lambda a: xp.tanh(a[0])),
        ("x.sum()", lambda t: t[0].sum(), lambda a: a[0].sum()),
    ]
    rows = []
    for n in (1 << 10, 1 << 20):
        arrays = [xp.asarray(np.random.default_rng(i).random(n, dtype=np.float32))
                  for i in range(2)]
        tensors = [torch.as_tensor(a) for a in arrays]
        budget = 0.05 if n <= 1 << 10 else 0.25
        for name, gfn, rfn in cases:
            g = _time_us(lambda: gfn(tensors), budget, sync)
            r = _time_us(lambda: rfn(arrays), budget, sync)
            rows.append((name, n, g, r))
    print(f"eager op cost on {dev}, float32, µs per call (median of 5 batches):")
    print(f"  {'op':<10}{'n':>8}{'gpujit':>11}{peer:>11}{'overhead':>11}")
    for name, n, g, r in rows:
        print(f"  {name:<10}{'2^' + str(n.bit_length() - 1):>8}{g:>11.1f}{r:>11.1f}"
              f"{g - r:>+11.1f}")


def chain(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y) + torch.relu(x)


def compile_demo(dev):
    """MyCell traced and scripted, saved and loaded back; the chain scripted and fused."""
    import io
    torch.manual_seed(0)
    cell = MyCell().to(dev)
    x, h = torch.rand(3, 4, device=dev), torch.rand(3, 4, device=dev)
    traced = torch.jit.trace(cell, (x, h))
    print(f"torch.jit.trace(MyCell(), (x, h)) on {dev}:")
    print(traced)
    print(traced.graph)
    scripted = torch.jit.script(cell)
    print(f"torch.jit.script(MyCell()): {scripted!r}; its .code:")
    print(scripted.code)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    loaded = torch.jit.load(io.BytesIO(buf.getvalue()), map_location=dev)
    same = bool((loaded(x, h)[0] == scripted(x, h)[0]).all())
    print(f"torch.jit.save / load: a {len(buf.getvalue())}-byte zip of code and arrays, "
          f"compiled back: {'same' if same else 'DIFFERENT'} output\n")
    if dev.type == "cuda":
        import cupy as xp
        sync = torch.cuda.synchronize
    else:
        xp, sync = np, (lambda: None)
    print("scripted chain: def chain(x, y): return torch.tanh(x * 0.5 + y) * "
          "torch.sigmoid(x - y) + torch.relu(x)")
    n = 1 << 24 if dev.type == "cuda" else 1 << 20
    x = torch.rand(n, device=dev)
    y = torch.rand(n, device=dev)
    s = torch.jit.script(chain)
    s(x, y)
    print(f"optimized graph for Float({n}) inputs (s.graph_for(x, y)):")
    print(s.graph_for(x, y))
    print(s.fusion_report(x, y))
    # (GPUJIT_FUSION=0, an empty strategy...: the scripted column then runs unfused)
    off = fusion_off_reason()
    if off is not None:
        print(f"{off}: the scripted chain runs op by op")
    print(f"  {'n':>6}{'eager µs':>11}{'fused µs' if off is None else 'script µs':>11}"
          f"{'speed-up':>10}")
    for k in (10, 16, 20, 24 if dev.type == "cuda" else 22):
        n = 1 << k
        x = torch.as_tensor(xp.asarray(np.random.default_rng(1).random(n, dtype=np.float32)))
        y = torch.as_tensor(xp.asarray(np.random.default_rng(2).random(n, dtype=np.float32)))
        for _ in range(2):
            s(x, y)                     # profile, then compile (or load) this size's kernel
        budget = 0.05 if n <= 1 << 10 else 0.25
        e = _time_us(lambda: chain(x, y), budget, sync)
        c = _time_us(lambda: s(x, y), budget, sync)
        print(f"  {'2^' + str(k):>6}{e:>11.1f}{c:>11.1f}{e / c:>9.1f}x")
    n = 1 << (22 if dev.type == "cuda" else 20)
    x = torch.rand(n, device=dev, requires_grad=True)
    y = torch.rand(n, device=dev, requires_grad=True)
    g = torch.rand(n, device=dev)

    def step(fn):
        x.grad = y.grad = None
        fn(x, y).backward(g)
    for _ in range(3):
        step(s)                 # profile; trace and compile the group's backward
    e = _time_us(lambda: step(chain), 0.25, sync)
    c = _time_us(lambda: step(s), 0.25, sync)
    print(f"forward + backward (x, y require grad), 2^{n.bit_length() - 1}: eager {e:.1f} µs, "
          + (f"fused {c:.1f} µs ({e / c:.1f}x: the group's backward is fused too)"
             if off is None else f"scripted, unfused {c:.1f} µs ({e / c:.1f}x)"))
    info = torch.kernels.cache_info()
    print(f"kernel cache: {info}")


def parse_args(argv=None):
    import argparse
    ap = argparse.ArgumentParser(
        prog="python -m gpujit",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # (the --version line unwrapped)
        description="Show what gpujit does on this machine: versions and the device it\n"
                    "uses, two small models run eagerly, the cost of an eager op next to the\n"
                    "raw NumPy/CuPy call, MyCell traced, scripted, saved and loaded, and a\n"
                    "scripted elementwise chain fused into one kernel (its optimized graph\n"
                    "with the prim::TensorExprGroup, and eager vs fused time).",
        epilog="GPUJIT_DUMP=fusion,kernels prints partitioned graphs and generated kernel\n"
               "source; GPUJIT_CACHE_DIR sets the kernel cache (default ~/.cache/gpujit).")
    ap.add_argument("--version", action="version", version=versions_line())
    ap.add_argument("--device", metavar="DEVICE",
                    help="run on this device (cpu, cuda or cuda:N) instead of the best one "
                         "present")
    ap.add_argument("--only", choices=("models", "ops", "fusion"),
                    help="show one part: the eager models, the eager op cost table, or "
                         "the compiled (traced, scripted, fused) demo")
    args = ap.parse_args(argv)
    if args.device is not None:
        try:
            dev = torch.device(args.device)
        except (RuntimeError, ValueError) as e:
            ap.error(f"--device {args.device}: {e}")
        if dev.type not in ("cpu", "cuda"):
            ap.error(f"--device {args.device}: gpujit runs on cpu or cuda")
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                ap.error(f"--device {args.device}: no CUDA GPU found "
                         f'(pip install "gpujit[cuda12]")')
            if dev.index is not None and dev.index >= torch.cuda.device_count():
                ap.error(f"--device {args.device}: this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s)")
        args.device = dev
    return args


def main(argv=None):
    args = parse_args(argv)
    print(versions_line())
    dev, line = choose_device()
    if args.device is not None and args.device != dev:
        dev = args.device
        if dev.type == "cuda":
            if dev.index is None:
                dev = torch.device("cuda", torch.cuda.current_device())
            major, minor = torch.cuda.get_device_capability(dev)
            line = f"device: {dev} ({torch.cuda.get_device_name(dev)}, sm_{major}{minor})"
        else:
            line = "device: cpu (--device cpu)"
    print(line)
    if dev.type == "cpu" and fusion_cpu_target() == "sim":
        # the demo times kernels: under the simulator every element costs Python
        os.environ["GPUJIT_FUSION_TARGET"] = "cpu"
        print("numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1): the demo times the "
              "CPU kernels (other programs run small fused calls on the simulator)")
    print()
    if args.only in (None, "models"):
        run_models(dev)
        print()
    if args.only in (None, "ops"):
        timing_table(dev)
        print()
    if args.only in (None, "fusion"):
        compile_demo(dev)
        print()
    print("training: python examples/train_mlp.py [--device cuda] [--script | --trace]  (an MLP "
          "on two spirals: autograd, Adam, a cosine schedule)")


if __name__ == "__main__":
    main()
