"""A transformer block on the CPU: gpujit eager against its traced and scripted forms
(and PyTorch's eager, `torch.jit.trace` and `torch.jit.script` when PyTorch is installed).

The block is nanoGPT's (karpathy/nanoGPT model.py: LayerNorm with bias, causal
self-attention, a GELU MLP, residuals; eval mode, no dropout), written once as source
that is imported as `import gpujit as torch` and as `import torch`, in two forms:

- `sdpa`: attention through `F.scaled_dot_product_attention(q, k, v, is_causal=True)`
  (nanoGPT's "flash" path; gpujit traces its parts, so the scale and the causal mask
  fuse into one group);
- `masked`: nanoGPT's manual path, `att.masked_fill(self.bias[:, :, :T, :T] == 0,
  float('-inf'))` over a registered tril buffer, then softmax.

Shapes (batch, sequence, embedding, heads): (4, 32, 64, 4) and (8, 128, 128, 4). All
forms of one shape run interleaved: each round times a batch of calls (at least 20 ms)
of every form in turn, and a form's number is the median over `--repeats` rounds of µs
per call, so load on the machine falls on all forms alike. Ratios are against gpujit
eager in the same run (`vs_eager` < 1: faster than eager). Before timing, each form's
output is compared with gpujit eager's (and PyTorch's with gpujit's: the same weights).
Goal (session 45): traced and scripted gpujit at least as fast as gpujit eager.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/nanogpt_block.py [--repeats 15]

(one BLAS thread: on a shared machine BLAS threads make the numbers noise). Writes
benchmarks/results/nanogpt_block-cpu.json and prints a table.
"""
from __future__ import annotations

import datetime
import importlib.util
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager import _machine, _version, cli  # noqa: E402

SHAPES = [(4, 32, 64, 4), (8, 128, 128, 4)]

BLOCK = '''
import math
import {lib} as torch
import {lib}.nn as nn
from {lib}.nn import functional as F


class LayerNorm(nn.Module):
    def __init__(self, ndim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim))

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class SDPAAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.n_embd = n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0,
                                           is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MaskedAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.n_embd = n_embd
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, n_embd: int):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, attention: str, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd)
        cls = SDPAAttention if attention == "sdpa" else MaskedAttention
        self.attn = cls(n_embd, n_head, block_size)
        self.ln_2 = LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x
'''


def _import(folder, lib):
    name = f"nanogpt_block_{lib}"
    path = os.path.join(folder, name + ".py")      # (in a file: scripting reads the source)
    with open(path, "w") as f:
        f.write(BLOCK.format(lib=lib))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _batch(fn, x, min_s=0.02):
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn(x)
        if time.perf_counter() - t0 >= min_s or number >= 1 << 14:
            return number
        number *= 2


def _interleaved_us(forms, x_of, repeats):
    """{form: median µs per call}, every round timing each form once, in turn."""
    numbers = {k: _batch(fn, x_of[k]) for k, fn in forms.items()}
    samples = {k: [] for k in forms}
    for _ in range(repeats):
        for k, fn in forms.items():
            x, n = x_of[k], numbers[k]
            t0 = time.perf_counter()
            for _ in range(n):
                fn(x)
            samples[k].append((time.perf_counter() - t0) / n * 1e6)
    return {k: statistics.median(v) for k, v in samples.items()}


def _forms(lib_mod, mod, attention, shape, state=None):
    B, T, C, H = shape
    blk = mod.Block(attention, C, H, T).eval()
    if state is not None:
        blk.load_state_dict({k: lib_mod.from_numpy(v.copy()) for k, v in state.items()})
    x = lib_mod.from_numpy(np.random.default_rng(0).standard_normal((B, T, C))
                           .astype(np.float32))
    forms = {"eager": blk}
    with lib_mod.no_grad():
        forms["traced"] = lib_mod.jit.trace(blk, (x,))
        forms["scripted"] = lib_mod.jit.script(blk)
        for f in forms.values():          # profiling runs, then the optimized graph
            for _ in range(3):
                f(x)
    return blk, x, forms


def libraries():
    """{"gpujit": gpujit} and "torch" where PyTorch is installed (the peer)."""
    import gpujit
    libs = {"gpujit": gpujit}
    try:
        import torch
        libs["torch"] = torch
    except ImportError:
        pass
    return libs


def compare(libs, forms, x, ref, torch_forms, repeats):
    """(µs per call of each form, max |difference| from ref): gpujit's forms on x, and
    PyTorch's where installed (torch_forms() -> its eager module, input and forms),
    timed interleaved in one process."""
    import gpujit
    with gpujit.no_grad():
        err = {k: float(np.abs(f(x).numpy() - ref).max()) for k, f in forms.items()}
    all_forms = {f"gpujit_{k}": f for k, f in forms.items()}
    x_of = {f"gpujit_{k}": x for k in forms}
    torch = libs.get("torch")
    if torch is not None:
        tm, tx, tforms = torch_forms()
        with torch.no_grad():
            err["torch_eager_vs_gpujit"] = float(np.abs(tm(tx).numpy() - ref).max())
        all_forms.update({f"torch_{k}": f for k, f in tforms.items()})
        x_of.update({f"torch_{k}": tx for k in tforms})
    with gpujit.no_grad(), (torch.no_grad() if torch is not None else gpujit.no_grad()):
        us = _interleaved_us(all_forms, x_of, repeats)
    eager = us["gpujit_eager"]
    return {"us": {k: round(v, 1) for k, v in us.items()},
            "vs_eager": {k: round(v / eager, 3) for k, v in us.items()},
            "max_abs_diff": err}


def report(benchmark, device, libs, load, repeats, results):
    """The JSON report: the machine, versions, threads and load around the run."""
    import gpujit
    return {"benchmark": benchmark, "device": device,
            "machine": _machine(gpujit.device(device)),
            "versions": {"gpujit": _version("gpujit"), "numpy": _version("numpy"),
                         "numba": _version("numba"), "torch": _version("torch")},
            "threads": {"gpujit": gpujit.get_num_threads(),
                        "torch": libs["torch"].get_num_threads() if "torch" in libs else None,
                        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
                        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")},
            "load_average_1min": {"start": round(load, 2),
                                  "end": round(os.getloadavg()[0], 2)},
            "date": datetime.date.today().isoformat(), "repeats": repeats,
            "results": results}


def run(device, repeats):
    import warnings
    import gpujit
    warnings.simplefilter("ignore")     # the tracer's warnings (x.size() read as ints)
    libs = libraries()
    results = []
    load = os.getloadavg()[0]            # (the machine may be shared)
    with tempfile.TemporaryDirectory() as folder:
        mods = {lib: _import(folder, lib) for lib in libs}
        for attention in ("sdpa", "masked"):
            for shape in SHAPES:
                blk, x, forms = _forms(gpujit, mods["gpujit"], attention, shape)
                state = {k: v.detach().numpy() for k, v in blk.state_dict().items()}
                with gpujit.no_grad():
                    ref = blk(x).numpy()
                row = compare(libs, forms, x, ref, lambda: _forms(
                    libs["torch"], mods["torch"], attention, shape, state), repeats)
                results.append({"attention": attention, "shape": list(shape), **row})
    return report("nanogpt_block", device, libs, load, repeats, results)


def print_rows(report, title, label):
    """The table of a compare()/report() run: per result (named by its `label` field and
    shape) each form's µs and its ratio to gpujit eager (script_branches.py shares it)."""
    print(f"{title}, µs per call, median of {report['repeats']} interleaved rounds "
          f"({report['machine']['processor']}, load {report['load_average_1min']['start']}"
          f" -> {report['load_average_1min']['end']})")
    for r in report["results"]:
        print(f"  {r[label]:6} {tuple(r['shape'])}")
        for k, v in r["us"].items():
            print(f"    {k:16} {v:10.1f}  x{r['vs_eager'][k]:.2f} of gpujit eager")


def print_table(report):
    print_rows(report, "nanoGPT block", "attention")


def main(argv=None):
    cli(__doc__, run, print_table, "nanogpt_block", "cpu", argv)


if __name__ == "__main__":
    main()
