"""Compile time of generated code: what the first call of a scripted function (or of an
eager op backed by a numba helper) costs, cold (an empty kernel cache) and warm (the
kernels in the disk cache, a fresh process).

    python benchmarks/compile_time.py [--repeats 3] [--cases a5_static,b30] [--no-torch]

Cases (float32 1-D inputs of 4096 elements unless said):

- a5_static / a5_dynamic: a 5-op chain `((x * y + 1.5).tanh() - x) * 0.5` scripted, under
  set_fusion_strategy([("STATIC", 4)]) / ([("DYNAMIC", 4)]);
- b30: a 30-op chain of adds, muls, subs and a few sigmoid / relu / exp;
- c_norm: a softmax / layernorm-like group (mean and max over the last dim of a 64 x 64
  input: reductions, which end a fusion group, with the pointwise work around them);
- d_<op>: a group calling each staged NumPy-loop op (tanh, log2, expm1, asin, sin, sinh):
  `op(x * 0.75 + y) * y`;
- e_int: an int32 / bool group (`(a * 3 + b) // 2`, comparisons, `&`, `where`);
- f_softmax, f_i0, f_bessel_j0: eager ops whose CPU bodies are numba helpers compiled at
  first use (softmax over the last dim of a float32 matrix; special.i0 and
  special.bessel_j0 of float32): the first call's time minus a later call's.

Each case's time is the CPU time (time.process_time: the machine may be shared) of its
first calls (3 calls: the profiling run, the compile and one optimized run) in a process
that has already compiled one unrelated group (numba's one-off start, reported apart as
`process_first_group`), the min over --repeats processes, each with a fresh
GPUJIT_CACHE_DIR; `warm` is the same in a fresh process that finds the kernels on disk.
The peer, when torch is installed: the same scripted functions under torch.jit.script with
the TE (NNC) fuser on the CPU (`torch._C._jit_override_can_fuse_on_cpu(True)`), cold
(NNC keeps no disk cache; `torch_llvm` says whether NNC had its LLVM backend: torch's CPU
wheels lack it, and NNC then builds its kernels for its IR evaluator, no code
generation: the number is NNC's fusion and lowering without LLVM's share). Results: results/compile_time-cpu.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# each case: (source of `fn`, arguments as code (with T = the module), strategy or None
# for an eager case)
_X = "T.rand(4096) * 2 - 1"
CASES = {
    "a5_static": ("def fn(x, y):\n    return ((x * y + 1.5).tanh() - x) * 0.5\n",
                  f"({_X}, {_X})", "STATIC"),
    "a5_dynamic": ("def fn(x, y):\n    return ((x * y + 1.5).tanh() - x) * 0.5\n",
                   f"({_X}, {_X})", "DYNAMIC"),
    "b30": ("def fn(x, y):\n"
            "    a = x * y + 0.5\n    b = a - x * 2.0\n    c = T.sigmoid(b) * y\n"
            "    d = c + a * 0.25\n    e = T.relu(d - 0.1) + b\n    f = e * e - c\n"
            "    g = T.exp(f * 0.01) + d\n    h = g * 0.5 - e * 0.3\n"
            "    i = T.sigmoid(h + a) * x\n    j = i - g * 0.2 + f\n"
            "    return j * 1.5 + h\n", f"({_X}, {_X})", "STATIC"),
    "c_norm": ("def fn(x, w):\n"
               "    m = x.amax(dim=-1, keepdim=True)\n    e = T.exp(x - m)\n"
               "    s = e.sum(dim=-1, keepdim=True)\n    p = e / s\n"
               "    mu = p.mean(dim=-1, keepdim=True)\n    d = p - mu\n"
               "    v = (d * d).mean(dim=-1, keepdim=True)\n"
               "    return d * T.rsqrt(v + 1e-5) * w + 0.1\n",
               "(T.rand(64, 64), T.rand(64))", "STATIC"),
    "e_int": ("def fn(a, b):\n"
              "    q = (a * 3 + b) // 2\n    m = (q > 5) & (b < 40)\n"
              "    return T.where(m, q - b, a * 2), m | (a == b)\n",
              "(T.randint(0, 50, (4096,), dtype=T.int32), "
              "T.randint(1, 50, (4096,), dtype=T.int32))", "STATIC"),
    "f_softmax": ("def fn(x):\n    return T.softmax(x, -1)\n", "(T.rand(64, 256),)", None),
    "f_i0": ("def fn(x):\n    return T.special.i0(x)\n", f"({_X},)", None),
    "f_bessel_j0": ("def fn(x):\n    return T.special.bessel_j0(x)\n", f"({_X},)", None),
}
for _op in ("tanh", "log2", "expm1", "asin", "sin", "sinh"):
    _arg = "(x * 0.75 + y).abs() + 0.5" if _op == "log2" else "x * 0.375 + y * 0.25"
    CASES[f"d_{_op}"] = (f"def fn(x, y):\n    return T.{_op}({_arg}) * y\n",
                         f"({_X}, {_X})", "STATIC")
NNC_CASES = ("a5_static", "b30", "c_norm")

_WARMUP = ("def fn(x, y):\n    return (x - y) * 3.0 + x\n", f"({_X}, {_X})", "STATIC")

_CHILD = r'''
import json, sys, time
lib, names = sys.argv[1], sys.argv[2].split(",")
if lib == "torch":
    import torch as T
    T._C._jit_override_can_fuse_on_cpu(True)
    T._C._jit_set_texpr_fuser_enabled(True)
    # a torch built without LLVM (the CPU wheels) lowers NNC's kernels to its IR
    # interpreter instead of refusing ("LLVM Backend not found")
    T._C._jit_set_te_must_use_llvm_cpu(False)
    compiles = lambda: 0
else:
    import gpujit as T
    compiles = lambda: T.kernels.cache_info().compiles
cases = json.loads(sys.argv[3])
out = {}
import importlib.util, os, tempfile
src_dir = tempfile.mkdtemp()
def run(name, src, args, strategy):
    path = os.path.join(src_dir, f"case_{name}.py")      # (scripting reads the source)
    with open(path, "w") as fh:
        fh.write(src)
    spec = importlib.util.spec_from_file_location(f"case_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    mod.T = T
    spec.loader.exec_module(mod)
    ns = vars(mod)
    T.manual_seed(0)
    a = eval(args, ns)
    c0, t0 = compiles(), time.process_time()
    if strategy is None:                       # eager: first call minus a later one
        ns["fn"](*a)
        t1 = time.process_time()
        ns["fn"](*a)
        t2 = time.process_time()
        ns["fn"](*a)
        dt = (t1 - t0) - min(t2 - t1, time.process_time() - t2)
    else:
        T.jit.set_fusion_strategy([(strategy, 4)])
        f = T.jit.script(ns["fn"])
        for _ in range(3):
            f(*a)
        dt = time.process_time() - t0
    out[name] = {"ms": dt * 1e3, "compiles": compiles() - c0}
t0 = time.process_time()
run("process_first_group", *cases.pop("__warmup__"))
for name in names:
    run(name, *cases[name])
print(json.dumps(out))
'''


def _child(lib, names, cache):
    cases = {n: CASES[n] for n in names}
    cases["__warmup__"] = _WARMUP
    env = dict(os.environ, GPUJIT_CACHE_DIR=cache)
    r = subprocess.run([sys.executable, "-c", _CHILD, lib, ",".join(names), json.dumps(cases)],
                       capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"{lib} child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _min(runs):
    out = {}
    for run in runs:
        for k, v in run.items():
            if k not in out or v["ms"] < out[k]["ms"]:
                out[k] = v
    return {k: {"ms": round(v["ms"], 1), "compiles": v["compiles"]} for k, v in out.items()}


def _have_torch():
    try:
        import importlib.util
        return importlib.util.find_spec("torch") is not None
    except ValueError:
        return False


def _torch_llvm():
    r = subprocess.run([sys.executable, "-c", "import torch; print(torch._C._llvm_enabled())"],
                       capture_output=True, text=True)
    return r.stdout.strip() == "True"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--out", default=os.path.join(HERE, "results", "compile_time-cpu.json"))
    a = p.parse_args(argv)
    names = [n for n in a.cases.split(",") if n]
    bad = [n for n in names if n not in CASES]
    if bad:
        p.error(f"unknown cases {bad}; known: {', '.join(CASES)}")
    cold, warm, nnc = [], [], []
    for _ in range(a.repeats):
        with tempfile.TemporaryDirectory(prefix="gpujit-compile-time-") as d:
            cold.append(_child("gpujit", names, d))
            warm.append(_child("gpujit", names, d))
        if not a.no_torch and _have_torch():
            nn = [n for n in names if n in NNC_CASES]
            if nn:
                with tempfile.TemporaryDirectory() as d:
                    nnc.append(_child("torch", nn, d))
    cold, warm, nnc = _min(cold), _min(warm), _min(nnc)
    sys.path.insert(0, HERE)
    import gpujit
    from eager import _machine, _version
    report = {"benchmark": "compile_time", "device": "cpu",
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": _machine(gpujit.device("cpu")), "numba": _version("numba"), "torch": _version("torch"),
              "torch_llvm": _torch_llvm() if nnc else None,
              "repeats": a.repeats, "unit": "ms of CPU time, min over repeats",
              "cases": {n: {"cold_ms": cold[n]["ms"], "cold_compiles": cold[n]["compiles"],
                            "warm_ms": warm[n]["ms"], "warm_compiles": warm[n]["compiles"],
                            **({"torch_nnc_cold_ms": nnc[n]["ms"]} if n in nnc else {})}
                        for n in names},
              "process_first_group": {"cold_ms": cold["process_first_group"]["ms"],
                                      "warm_ms": warm["process_first_group"]["ms"],
                                      **({"torch_nnc_cold_ms": nnc["process_first_group"]["ms"]}
                                         if nnc else {})}}
    print(f"{'case':<16}{'cold ms':>10}{'warm ms':>10}{'nnc ms':>10}  compiles cold/warm")
    for n, r in [("process_first", report["process_first_group"])] + list(report["cases"].items()):
        print(f"{n:<16}{r['cold_ms']:>10.1f}{r['warm_ms']:>10.1f}"
              f"{r.get('torch_nnc_cold_ms', float('nan')):>10.1f}  "
              f"{r.get('cold_compiles', '')}/{r.get('warm_compiles', '')}")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    return report


if __name__ == "__main__":
    main()
