"""Training steps of a small GPT (nanoGPT-like, written here), gpujit eager against
PyTorch eager in one run, both on one CPU thread.

The model: token + position embeddings, dropout, n_layer pre-LayerNorm blocks (causal
self-attention through F.scaled_dot_product_attention(is_causal=True), as nanoGPT uses it
on PyTorch 2, or the manual form: q @ k^T, masked_fill of a tril mask, softmax, dropout,
@ v; then an MLP with GELU), a final LayerNorm and an lm_head tied to the token embedding,
cross_entropy. One step is zero_grad(set_to_none=True), forward, backward and
AdamW(betas 0.9/0.95, weight decay on 2-D weights only, as nanoGPT's configure_optimizers)
.step(), float32.

    python benchmarks/train_gpt.py [--repeats 15] [--out DIR] [--only gpujit]

Timing: gpujit's and PyTorch's steps alternate (interleaved repeats), after 3 warm-up
steps each; reported are the median wall time (perf_counter) and the median CPU time of
the process (process_time: the machine may be shared) per step in ms, and their ratios.
BLAS and torch run on one thread (OMP/OPENBLAS/MKL_NUM_THREADS=1, torch.set_num_threads(1))
so that the two are compared on equal terms on a loaded machine; the 1-minute load
average before and after the run is in the JSON. Before timing, both start from the same
weights and the same seed, and their first 3 losses are compared (dropout included: gpujit
draws torch's CPU dropout stream). Writes benchmarks/results/train_gpt-cpu.json.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import gpujit  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eager import _machine, _version  # noqa: E402

VOCAB, BLOCK = 65, 64
# name -> n_layer, n_head, n_embd, batch, dropout, attention
CONFIGS = {
    "L2-E64-B8-p0": (2, 2, 64, 8, 0.0, "sdpa"),
    "L4-E128-B12-p0": (4, 4, 128, 12, 0.0, "sdpa"),
    "L4-E128-B12-p0.1": (4, 4, 128, 12, 0.1, "sdpa"),
    "L4-E128-B12-p0.1-manual": (4, 4, 128, 12, 0.1, "manual"),
}


def make_model(lib, n_layer, n_head, n_embd, dropout, attention):
    nn, F = lib.nn, lib.nn.functional

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(n_embd, 3 * n_embd)
            self.proj = nn.Linear(n_embd, n_embd)
            self.attn_drop = nn.Dropout(dropout)
            self.resid_drop = nn.Dropout(dropout)
            self.register_buffer("mask", lib.tril(lib.ones(BLOCK, BLOCK)).view(1, 1, BLOCK, BLOCK))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.qkv(x).split(n_embd, dim=2)
            q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
            k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
            v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
            if attention == "sdpa":
                y = F.scaled_dot_product_attention(
                    q, k, v, dropout_p=dropout if self.training else 0.0, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
                att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
                att = self.attn_drop(F.softmax(att, dim=-1))
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.resid_drop(self.proj(y))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(n_embd)
            self.attn = SelfAttention()
            self.ln2 = nn.LayerNorm(n_embd)
            self.fc = nn.Linear(n_embd, 4 * n_embd)
            self.act = nn.GELU()
            self.fc_out = nn.Linear(4 * n_embd, n_embd)
            self.drop = nn.Dropout(dropout)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.drop(self.fc_out(self.act(self.fc(self.ln2(x)))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, n_embd)
            self.pos = nn.Embedding(BLOCK, n_embd)
            self.drop = nn.Dropout(dropout)
            self.blocks = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.head = nn.Linear(n_embd, VOCAB, bias=False)
            self.tok.weight = self.head.weight

        def forward(self, idx, targets):
            T = idx.size(1)
            pos = lib.arange(0, T, dtype=lib.long)
            x = self.drop(self.tok(idx) + self.pos(pos))
            for b in self.blocks:
                x = b(x)
            logits = self.head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    return GPT()


def _init_weights(model, seed):
    """Weights drawn with NumPy (normal(0, 0.02) for matrices, zeros for biases, ones for
    LayerNorm weights): the same arrays go into gpujit's and PyTorch's models."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, p in model.named_parameters():
        shape = tuple(p.shape)
        if name.endswith("bias"):
            out[name] = np.zeros(shape, np.float32)
        elif len(shape) == 1:
            out[name] = np.ones(shape, np.float32)
        else:
            out[name] = (0.02 * rng.standard_normal(shape)).astype(np.float32)
    return out


def make_step(lib, cfg, weights, batches):
    n_layer, n_head, n_embd, batch, dropout, attention = cfg
    model = make_model(lib, n_layer, n_head, n_embd, dropout, attention)
    with lib.no_grad():
        for name, p in model.named_parameters():
            p.copy_(lib.from_numpy(weights[name].copy()))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = lib.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.95))
    data = [(lib.from_numpy(x), lib.from_numpy(y)) for x, y in batches]
    it = [0]

    def step():
        x, y = data[it[0] % len(data)]
        it[0] += 1
        loss = model(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss
    step.model = model
    return step


def _batches(batch, seed, n=4):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.integers(0, VOCAB, (batch, BLOCK + 1))
        out.append((x[:, :-1].copy(), x[:, 1:].copy()))
    return out


def _timed(step):
    t0, c0 = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - t0, time.process_time() - c0


def run_config(name, cfg, repeats, torch):
    weights = _init_weights(make_model(gpujit, *cfg[:3], cfg[4], cfg[5]), seed=0)
    batches = _batches(cfg[3], seed=1)
    row = {"config": name, "n_layer": cfg[0], "n_head": cfg[1], "n_embd": cfg[2],
           "batch": cfg[3], "block": BLOCK, "vocab": VOCAB, "dropout": cfg[4],
           "attention": cfg[5]}
    libs = {"gpujit": gpujit} if torch is None else {"gpujit": gpujit, "torch": torch}
    steps, losses = {}, {}
    for lname, lib in libs.items():
        lib.manual_seed(0)
        steps[lname] = make_step(lib, cfg, weights, batches)
        losses[lname] = [float(steps[lname]().item()) for _ in range(3)]
    row["gpujit_first_losses"] = losses["gpujit"]
    if torch is not None:
        row["torch_first_losses"] = losses["torch"]
        row["same_losses"] = bool(np.allclose(losses["gpujit"], losses["torch"],
                                              rtol=1e-4, atol=1e-5))
    wall = {k: [] for k in libs}
    cpu = {k: [] for k in libs}
    for _ in range(repeats):
        for lname in libs:
            w, c = _timed(steps[lname])
            wall[lname].append(w)
            cpu[lname].append(c)
    for lname in libs:
        row[f"{lname}_ms"] = round(1e3 * float(np.median(wall[lname])), 2)
        row[f"{lname}_cpu_ms"] = round(1e3 * float(np.median(cpu[lname])), 2)
    if torch is not None:
        row["ratio_vs_torch"] = round(row["gpujit_ms"] / row["torch_ms"], 2)
        row["cpu_ratio_vs_torch"] = round(row["gpujit_cpu_ms"] / row["torch_cpu_ms"], 2)
    return row


def run(repeats, only, configs):
    torch = None
    if only != "gpujit":
        try:
            import torch
            torch.set_num_threads(1)
        except ImportError:
            torch = None
    load0 = os.getloadavg()[0]
    rows = [run_config(n, CONFIGS[n], repeats, torch) for n in configs]
    return {"benchmark": "small GPT training step (forward, backward, AdamW)",
            "device": "cpu", "repeats": repeats, "threads": 1,
            "statistic": "median of interleaved repeats, ms per step (wall and process CPU)",
            "loadavg_1min": [round(load0, 2), round(os.getloadavg()[0], 2)],
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": _machine(gpujit.device("cpu")),
            "versions": {"gpujit": gpujit.__version__, "numpy": np.__version__,
                         "torch": getattr(torch, "__version__", None),
                         "numba": _version("numba")},
            "results": rows}


def print_table(report):
    print(f"\nsmall GPT step, 1 thread, median of {report['repeats']} interleaved "
          f"(load {report['loadavg_1min']}):")
    for r in report["results"]:
        line = f"  {r['config']:<26} gpujit {r['gpujit_ms']:8.2f} ms (cpu {r['gpujit_cpu_ms']:.2f})"
        if "torch_ms" in r:
            line += (f"   torch {r['torch_ms']:7.2f} ms (cpu {r['torch_cpu_ms']:.2f})"
                     f"   ratio {r['ratio_vs_torch']:.2f}x (cpu {r['cpu_ratio_vs_torch']:.2f}x)"
                     f"   losses {'same' if r['same_losses'] else 'DIFFER'}")
        print(line)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    p.add_argument("--only", choices=["gpujit"], default=None)
    p.add_argument("--config", action="append", choices=sorted(CONFIGS),
                   help="run only these configs (repeatable); all by default")
    args = p.parse_args(argv)
    report = run(args.repeats, args.only, args.config or list(CONFIGS))
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "train_gpt-cpu.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print_table(report)
    print(f"  written to {os.path.relpath(path)}")


if __name__ == "__main__":
    main()
