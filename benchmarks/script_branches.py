"""Scripted models whose code branches on things a call does not change (an Optional
mask given or not, `if self.flash:`, `if self.training:`, the input's rank): gpujit eager
against its traced and scripted forms on the CPU (and PyTorch's eager, `torch.jit.trace`
and `torch.jit.script` when PyTorch is installed).

The branch the profiling run did not take used to leave everything after it untyped in
the scripted form (generic, boxed op calls, no fusion): a scripted
nn.TransformerEncoderLayer ran slower than eager (session 45). Session 46: what the
specialization key fixes is folded (runtime/key_facts.py) and an If's untaken branch
checks its outputs at its end instead (runtime/resume.py).

Models (eval mode, float32, batch_first):
- `encoder_layer`: nn.TransformerEncoderLayer(64, 4, 128), input (4, 32, 64);
- `causal_encoder`: nn.TransformerEncoder of two such layers called with a causal
  float mask (a buffer), which its forward detects as causal;
- `self_attention`: nn.MultiheadAttention(64, 4) called as mha(x, x, x,
  need_weights=False), input (4, 32, 64);
- `nanogpt_attention`: nanoGPT's CausalSelfAttention (karpathy/nanoGPT model.py) with
  its `if self.flash:` branch and `dropout_p=self.dropout if self.training else 0`,
  flash True, input (4, 32, 64);
- `nanogpt_attention_manual`: the same with flash False (the masked-softmax path).

All forms of one model run interleaved: each round times a batch of calls (at least
20 ms) of every form in turn, and a form's number is the median over `--repeats` rounds
of µs per call. Ratios are against gpujit eager in the same run. Before timing, each
form's output is compared with gpujit eager's (PyTorch's with the same weights).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/script_branches.py

Writes benchmarks/results/script_branches-cpu.json and prints a table.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager import cli  # noqa: E402
from nanogpt_block import compare, libraries, print_rows, report  # noqa: E402

MODELS = '''
import math
import {lib} as torch
import {lib}.nn as nn
from {lib}.nn import functional as F


class SelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.mha = nn.MultiheadAttention(n_embd, n_head, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int, flash: bool):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.attn_dropout = nn.Dropout(0.1)
        self.resid_dropout = nn.Dropout(0.1)
        self.n_head = n_head
        self.n_embd = n_embd
        self.dropout = 0.1
        self.flash = flash
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0.0,
                is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class CausalEncoder(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        layer = nn.TransformerEncoderLayer(n_embd, n_head, 2 * n_embd, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(
            block_size))

    def forward(self, x):
        return self.enc(x, mask=self.mask)


def make(name):
    if name == "encoder_layer":
        return nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
    if name == "causal_encoder":
        return CausalEncoder(64, 4, 32)
    if name == "self_attention":
        return SelfAttention(64, 4)
    return CausalSelfAttention(64, 4, 32, flash=name == "nanogpt_attention")
'''

NAMES = ("encoder_layer", "causal_encoder", "self_attention", "nanogpt_attention",
         "nanogpt_attention_manual")
SHAPE = (4, 32, 64)


def _import(folder, lib):
    name = f"script_branches_{lib}"
    path = os.path.join(folder, name + ".py")      # (in a file: scripting reads the source)
    with open(path, "w") as f:
        f.write(MODELS.format(lib=lib))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _forms(lib, mod, name, state=None):
    m = mod.make(name).eval()
    if state is not None:
        m.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in state.items()})
    x = lib.from_numpy(np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32))
    forms = {"eager": m}
    with lib.no_grad():
        forms["traced"] = lib.jit.trace(m, (x,))
        forms["scripted"] = lib.jit.script(m)
        for f in forms.values():          # profiling runs, then the optimized code
            for _ in range(3):
                f(x)
    return m, x, forms


def run(device, repeats):
    import warnings
    import gpujit
    warnings.simplefilter("ignore")     # the tracer's warnings
    libs = libraries()
    results = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        mods = {lib: _import(folder, lib) for lib in libs}
        for name in NAMES:
            m, x, forms = _forms(gpujit, mods["gpujit"], name)
            state = {k: v.detach().numpy() for k, v in m.state_dict().items()}
            with gpujit.no_grad():
                ref = m(x).numpy()
            row = compare(libs, forms, x, ref, lambda: _forms(
                libs["torch"], mods["torch"], name, state), repeats)
            results.append({"model": name, "shape": list(SHAPE), **row})
    return report("script_branches", device, libs, load, repeats, results)


def print_table(report):
    print_rows(report, "scripted models with untaken branches", "model")


def main(argv=None):
    cli(__doc__, run, print_table, "script_branches", "cpu", argv)


if __name__ == "__main__":
    main()
