"""A fourth mode of the program generator: small nn.Module programs as PyTorch users write
them (tests/test_program_fuzz_s24.py runs them). The first three modes generate functions;
this one generates the source of a `class M(torch.nn.Module)` with __init__ and forward:

- layers: nn.Linear, Conv1d/Conv2d, BatchNorm1d/2d, LayerNorm, GroupNorm, Embedding,
  Dropout, activations (ReLU, GELU, SiLU, Tanh, LeakyReLU, Softmax), max/avg/adaptive
  pooling, Flatten, Identity, and their functional forms;
- containers: nn.Sequential, nn.ModuleList iterated in forward (plain or residual),
  nn.ModuleDict indexed by constant keys;
- residual adds, torch.cat of branches, chunk of features (a GLU);
- buffers (register_buffer), plain tensor attributes, int/float/bool attributes and Final
  constants, `if` on a bool attribute, a helper method called from forward, an
  @torch.jit.export method, an Optional[Tensor] forward argument, tuple or dict outputs.

program_d(seed) -> Program: the source (the names torch, nn, F, Final, Optional, Dict,
List, Tuple are the header's), the input kind and shape, what the program holds (dropout
with p > 0: train-mode calls are not compared), the output form and the exported
methods. The generator keeps track of each feature's shape (without the batch dimension),
so every program runs for any batch size >= 2."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

HEAD = ("from typing import Dict, List, Optional, Tuple\n"
        "from typing_extensions import Final\n"
        "import {lib} as torch\nimport {lib}.nn as nn\nimport {lib}.nn.functional as F\n\n\n")


@dataclass
class Program:
    src: str
    kind: str                 # "v" (N, F), "s" (N, C, L), "i" (N, C, H, W), "t" tokens (N, L)
    shape: tuple              # the input's shape without the batch dimension
    vocab: int = 0            # tokens: the embedding's size
    mask: bool = False        # forward(x, mask: Optional[Tensor] = None), mask of x's shape
    dropout: bool = False     # a dropout with p > 0 (only eval-mode calls are compared)
    out: str = "tensor"       # "tensor", "tuple", "dict"
    classes: int = 0          # the main output is (N, classes): cross_entropy can train it
    exports: list = field(default_factory=list)   # [(name, takes)] exported methods
    batchnorm: bool = False


_ACTS = ["nn.ReLU()", "nn.GELU()", "nn.SiLU()", "nn.Tanh()", "nn.LeakyReLU(0.1)",
         "nn.GELU(approximate='tanh')", "nn.Sigmoid()", "nn.ReLU(inplace=True)",
         "nn.Softmax(dim=-1)", "nn.Identity()", "nn.ELU()", "nn.Hardswish()"]
_FACTS = ["torch.relu({h})", "F.gelu({h})", "F.silu({h})", "torch.tanh({h})",
          "F.leaky_relu({h}, 0.2)", "{h}.sigmoid()", "F.softmax({h}, dim=-1)", "{h}.relu()",
          "F.relu({h}) * 0.5", "F.elu({h})", "F.hardtanh({h})", "{h}.clamp(min=-1.0, max=1.0)"]


class ProgramGenD:
    def __init__(self, seed, *, max_steps=6, ext=None):
        self.seed = seed
        self.r = random.Random(seed * 7919 + 24)
        self.max_steps = max_steps
        self.init = []          # __init__ lines (after super().__init__())
        self.fwd = []           # forward lines
        self.methods = []       # extra method sources
        self.finals = []        # class-level Final annotations
        self.n = 0
        self.p = None
        # the session-25 sub-mode (seeds of GPUJIT_PROGRAM_FUZZ_SEED runs only, from its
        # own random stream: the fixed seeds' programs are unchanged): attention,
        # recurrent layers, dilated / grouped / 'same' / transposed convolutions,
        # upsampling, nn.Parameter attributes, tied weights
        self.x = random.Random(seed * 104729 + 25)
        self.ext = ext if ext is not None else (seed > 100000 and self.x.random() < 0.7)

    def fresh(self, stem):
        self.n += 1
        return f"{stem}{self.n}"

    # -------------------------------------------------------------- shape helpers
    def fdim(self, shape, kind):
        """The feature (channel) dim index in the batched tensor and its size."""
        if kind == "t":
            return 2, shape[1]
        return 1, shape[0]

    def layer(self, shape, kind, *, keep=False):
        """One layer's constructor text for a feature of `shape`, and the new (shape, kind).
        keep: the layer keeps the shape."""
        r = self.r
        c = shape[0] if kind != "t" else shape[1]
        opts = ["act", "act", "norm", "drop", "id"]
        if kind == "v":
            opts += ["linear", "linear"] if not keep else ["linear_same"]
        elif kind in ("s", "i"):
            opts += ["conv_same"] if keep else ["conv", "conv", "pool", "flatten", "apool"]
        elif kind == "t":
            opts += ["linear", "lnorm"] if not keep else ["linear_same", "lnorm"]
        what = r.choice(opts)
        if what == "act":
            return r.choice(_ACTS), shape, kind
        if what == "id":
            return "nn.Identity()", shape, kind
        if what == "drop":
            if r.random() < 0.25:
                self.p.dropout = True
                return f"nn.Dropout({r.choice([0.1, 0.5])})", shape, kind
            return "nn.Dropout(0.0)", shape, kind
        if what in ("norm", "lnorm"):
            # (no normalization over fewer than 3 values: its output is +-1 or 0 whatever
            # the input, and the gradient flowing back is rounding noise, which an
            # optimizer turns into different steps)
            if kind == "t" or what == "lnorm":
                return (f"nn.LayerNorm({c})" if c >= 3 else "nn.Identity()"), shape, kind
            choices = ["bn", "gn", "ln"] if kind == "v" else ["bn", "gn"]
            k = r.choice(choices)
            if k == "bn":
                self.p.batchnorm = True
                bn = {"v": "BatchNorm1d", "s": "BatchNorm1d", "i": "BatchNorm2d"}[kind]
                extra = r.choice(["", ", momentum=0.2", ", affine=False", ", eps=1e-3"])
                return f"nn.{bn}({c}{extra})", shape, kind
            if k == "gn":
                spatial = 1
                for d in shape[1:]:
                    spatial *= d
                gs = [d for d in (1, 2, c) if c % d == 0 and c // d * spatial >= 3]
                if not gs:
                    return "nn.Identity()", shape, kind
                g = r.choice(gs)
                return f"nn.GroupNorm({g}, {c})", shape, kind
            n = shape[-1] if kind != "v" else c
            return (f"nn.LayerNorm({n})" if n >= 3 else "nn.Identity()"), shape, kind
        if what in ("linear", "linear_same"):
            c2 = c if what == "linear_same" else r.choice([2, 3, 4, 6, 8])
            bias = r.choice(["", "", ", bias=False"])
            new = (c2,) if kind == "v" else (shape[0], c2)
            return f"nn.Linear({c}, {c2}{bias})", new, kind
        if what in ("conv", "conv_same"):
            c2 = c if what == "conv_same" else r.choice([2, 3, 4, 6])
            k = r.choice([1, 3, 3]) if what == "conv_same" or r.random() < 0.6 else 2
            pad = k // 2 if k % 2 else 0
            d = "1d" if kind == "s" else "2d"
            bias = r.choice(["", "", ", bias=False"])
            new = (c2,) + tuple(s + 2 * pad - k + 1 for s in shape[1:])
            if min(new[1:]) < 1:
                return "nn.Identity()", shape, kind
            return f"nn.Conv{d}({c}, {c2}, {k}, padding={pad}{bias})", new, kind
        if what == "pool":
            if min(shape[1:]) < 2:
                return "nn.Identity()", shape, kind
            d = "1d" if kind == "s" else "2d"
            p = r.choice(["Max", "Avg"])
            return f"nn.{p}Pool{d}(2)", (shape[0],) + tuple(s // 2 for s in shape[1:]), kind
        if what == "apool":
            d = "1d" if kind == "s" else "2d"
            o = r.choice([1, 2])
            p = r.choice(["Avg", "Max"])
            if p == "Max" and any(s % o for s in shape[1:]):
                p = "Avg"
            return f"nn.Adaptive{p}Pool{d}({o})", (shape[0],) + (o,) * (len(shape) - 1), kind
        if what == "flatten":
            n = 1
            for s in shape:
                n *= s
            return "nn.Flatten()", (n,), "v"
        raise AssertionError(what)

    def layers(self, shape, kind, n, *, keep=False):
        out = []
        for _ in range(n):
            t, shape, kind = self.layer(shape, kind, keep=keep)
            out.append(t)
        return out, shape, kind

    # -------------------------------------------------------------- statements
    def step(self, h, shape, kind, body):
        """One forward step on feature h; appends to body; returns (shape, kind)."""
        r = self.r
        if self.ext and self.x.random() < 0.45:
            out = self.step_ext(h, shape, kind, body)
            if out is not None:
                return out
        w = r.choice(["layer", "layer", "seq", "mlist", "mdict", "res", "cat", "chunk",
                      "buffer", "tattr", "scalar", "flag", "helper", "func", "final"])
        c_dim, c = self.fdim(shape, kind)
        if w == "layer":
            name = self.fresh("l")
            t, shape, kind = self.layer(shape, kind)
            self.init.append(f"self.{name} = {t}")
            body.append(f"{h} = self.{name}({h})")
        elif w == "seq":
            name = self.fresh("seq")
            ls, shape, kind = self.layers(shape, kind, r.randint(2, 3))
            self.init.append(f"self.{name} = nn.Sequential({', '.join(ls)})")
            body.append(f"{h} = self.{name}({h})")
        elif w == "mlist":
            name = self.fresh("blocks")
            k = r.randint(1, 3)
            blocks = []
            for _ in range(k):
                ls, _, _ = self.layers(shape, kind, r.randint(1, 2), keep=True)
                blocks.append(f"nn.Sequential({', '.join(ls)})" if len(ls) > 1 else ls[0])
            self.init.append(f"self.{name} = nn.ModuleList([{', '.join(blocks)}])")
            if r.random() < 0.5:
                body += [f"for blk in self.{name}:", f"    {h} = {h} + blk({h})"]
            elif r.random() < 0.5:
                body += [f"for i, blk in enumerate(self.{name}):",
                         f"    {h} = blk({h}) * (1.0 / (i + 1)) + {h}"]
            else:
                body += [f"for blk in self.{name}:", f"    {h} = blk({h})"]
        elif w == "mdict":
            name = self.fresh("md")
            la, _, _ = self.layers(shape, kind, 1, keep=True)
            lb, _, _ = self.layers(shape, kind, 1, keep=True)
            self.init.append(f"self.{name} = nn.ModuleDict({{'a': {la[0]}, 'b': {lb[0]}}})")
            form = r.choice(["sum", "chain", "one"])
            if form == "sum":
                body.append(f"{h} = self.{name}['a']({h}) + self.{name}['b']({h})")
            elif form == "chain":
                body.append(f"{h} = self.{name}['b'](self.{name}['a']({h}))")
            else:
                body.append(f"{h} = self.{name}['{r.choice('ab')}']({h})")
        elif w == "res":
            name = self.fresh("res")
            ls, _, _ = self.layers(shape, kind, r.randint(1, 3), keep=True)
            self.init.append(f"self.{name} = nn.Sequential({', '.join(ls)})")
            if r.random() < 0.5:
                flag = self.fresh("use_res")
                self.init.append(f"self.{flag} = {r.choice(['True', 'False'])}")
                body += [f"r = self.{name}({h})", f"if self.{flag}:", f"    {h} = {h} + r",
                         "else:", f"    {h} = r"]
            else:
                body.append(f"{h} = {h} + self.{name}({h})")
        elif w == "cat":
            a, b = self.fresh("ba"), self.fresh("bb")
            la, sa, ka = self.layer(shape, kind, keep=True)
            lb, sb, kb = self.layer(shape, kind, keep=True)
            self.init += [f"self.{a} = {la}", f"self.{b} = {lb}"]
            dim = r.choice([c_dim, -len(shape)] if kind != "t" else [c_dim, -1])
            if r.random() < 0.5:
                body.append(f"{h} = torch.cat([self.{a}({h}), self.{b}({h})], dim={dim})")
            else:
                body.append(f"{h} = torch.cat((self.{a}({h}), {h}), {dim})")
            if kind == "t":
                shape = (shape[0], 2 * shape[1])
            else:
                shape = (2 * shape[0],) + tuple(shape[1:])
        elif w == "chunk":
            if c % 2:
                return self.step(h, shape, kind, body)
            dim = c_dim if r.random() < 0.7 else -len(shape) if kind != "t" else -1
            form = r.choice(["chunk", "fchunk", "list"])
            if form == "chunk":
                body += [f"a, b = {h}.chunk(2, dim={dim})", f"{h} = a * torch.sigmoid(b)"]
            elif form == "fchunk":
                body += [f"a, b = torch.chunk({h}, 2, {dim})", f"{h} = torch.tanh(a) + b"]
            else:
                body += [f"parts = torch.chunk({h}, 2, dim={dim})",
                         f"{h} = parts[0] - parts[1] * 0.5"]
            shape = (shape[0], shape[1] // 2) if kind == "t" else (c // 2,) + tuple(shape[1:])
        elif w == "buffer":
            name = self.fresh("buf")
            bshape = {"v": f"{c}", "s": f"{c}, 1", "i": f"{c}, 1, 1", "t": f"{c}"}[kind]
            lo = r.choice(["0.5", "-1.0"])
            self.init.append(f"self.register_buffer('{name}', "
                             f"torch.linspace({lo}, 1.5, {c}).reshape({bshape}))")
            body.append(r.choice([f"{h} = {h} * self.{name}", f"{h} = {h} + self.{name}",
                                  f"{h} = torch.addcmul({h}, {h}, self.{name}, value=0.1)"]))
        elif w == "tattr":
            name = self.fresh("t")
            bshape = {"v": f"{c}", "s": f"{c}, 1", "i": f"{c}, 1, 1", "t": f"{c}"}[kind]
            self.init.append(f"self.{name} = torch.arange({c}).float().reshape({bshape}) * 0.1")
            body.append(f"{h} = {h} - self.{name}")
        elif w == "scalar":
            a = self.fresh("alpha")
            v = r.choice(["0.5", "2.0", "-1.5"])
            self.init.append(f"self.{a} = {v}")
            if r.random() < 0.5:
                k = self.fresh("reps")
                self.init.append(f"self.{k} = {r.randint(1, 2)}")
                body += [f"for _ in range(self.{k}):", f"    {h} = {h} * self.{a} + 0.1"]
            else:
                body.append(f"{h} = {h} * self.{a}")
        elif w == "flag":
            f = self.fresh("flag")
            self.init.append(f"self.{f} = {r.choice(['True', 'False'])}")
            a1 = r.choice(_FACTS).format(h=h)
            a2 = r.choice(_FACTS).format(h=h)
            body += [f"if self.{f}:", f"    {h} = {a1}", "else:", f"    {h} = {a2}"]
        elif w == "helper":
            name = self.fresh("_block")
            sub = []
            shape, kind = self.step("y", shape, kind, sub)
            self.methods.append([f"def {name}(self, y):"] + ["    " + s for s in sub]
                                + ["    return y"])
            body.append(f"{h} = self.{name}({h})")
        elif w == "func":
            body.append(f"{h} = {r.choice(_FACTS).format(h=h)}")
        elif w == "final":
            k = self.fresh("K")
            kind_ = r.choice(["int", "float"])
            if kind_ == "int":
                self.finals.append(f"{k}: Final[int]")
                self.init.append(f"self.{k} = {r.randint(1, 3)}")
                body += [f"for _ in range(self.{k}):", f"    {h} = {h} * 0.75 + 0.25"]
            else:
                self.finals.append(f"{k}: Final[float]")
                self.init.append(f"self.{k} = {r.choice(['0.5', '1.5'])}")
                body.append(f"{h} = {h}.clamp(min=-self.{k}, max=self.{k})")
        return shape, kind

    def step_ext(self, h, shape, kind, body):
        """A step of the session-25 sub-mode, or None where none fits the feature."""
        x = self.x
        c_dim, c = self.fdim(shape, kind)
        opts = ["param", "param"]
        if kind == "t":
            opts += ["mha", "encoder", "rnn", "rnn"]
        if kind == "v":
            opts += ["tied"]
        if kind == "i":
            opts += ["conv_same", "conv_group", "conv_dil", "upsample", "convt", "apool2"]
        if kind == "s":
            opts += ["conv_same", "conv_group"]
        w = x.choice(opts)
        bshape = {"v": f"{c}", "s": f"{c}, 1", "i": f"{c}, 1, 1", "t": f"{c}"}[kind]
        if w == "param":
            name = self.fresh("w")
            self.init.append(f"self.{name} = nn.Parameter(torch.linspace(-0.5, 1.0, {c})"
                             f".reshape({bshape}))")
            body.append(x.choice([f"{h} = {h} * self.{name}",
                                  f"{h} = {h} + self.{name}.tanh()",
                                  f"{h} = torch.addcmul({h}, {h}, self.{name})"]))
            return shape, kind
        if w == "mha":
            heads = [k for k in (1, 2, 3) if c % k == 0]
            name = self.fresh("att")
            bias = x.choice(["", ", bias=False"])
            self.init.append(f"self.{name} = nn.MultiheadAttention({c}, {x.choice(heads)}, "
                             f"batch_first=True{bias})")
            if x.random() < 0.5:
                body.append(f"{h} = self.{name}({h}, {h}, {h}, need_weights=False)[0]")
            else:
                # (the weights are Optional[Tensor] in MultiheadAttention's signature:
                # TorchScript, and gpujit's script, refuse aw.sum() unrefined; seed
                # 30001*100003+2401+29)
                body += [f"a, aw = self.{name}({h}, {h}, {h})",
                         "assert aw is not None",
                         f"{h} = a + aw.sum(dim=-1, keepdim=True)"]
            return shape, kind
        if w == "encoder":
            heads = [k for k in (1, 2) if c % k == 0]
            name = self.fresh("enc")
            first = x.choice(["", ", norm_first=True"])
            act = x.choice(["", ", activation='gelu'"])
            self.init.append(f"self.{name} = nn.TransformerEncoderLayer({c}, "
                             f"{x.choice(heads)}, dim_feedforward={x.choice([4, 8])}, "
                             f"dropout=0.0, batch_first=True{first}{act})")
            body.append(f"{h} = self.{name}({h})")
            return shape, kind
        if w == "rnn":
            name = self.fresh("rnn")
            cell = x.choice(["LSTM", "GRU", "RNN"])
            hid = x.choice([2, 3, 4])
            layers = x.choice([1, 2])
            bi = x.random() < 0.5
            self.init.append(f"self.{name} = nn.{cell}({c}, {hid}, num_layers={layers}, "
                             f"batch_first=True{', bidirectional=True' if bi else ''})")
            if x.random() < 0.5 or cell != "LSTM":
                body.append(f"{h} = self.{name}({h})[0]")
            else:
                body += [f"o, (hn, cn) = self.{name}({h})",
                         f"{h} = o + hn.sum(0).unsqueeze(1) * 0.5"
                         if not bi else f"{h} = o"]
            return (shape[0], hid * (2 if bi else 1)), kind
        d = "1d" if kind == "s" else "2d"
        if w == "conv_same":
            c2 = x.choice([c, 2, 4])
            k, dil = x.choice([(3, 1), (3, 2), (2, 1), (1, 1)])
            name = self.fresh("cs")
            self.init.append(f"self.{name} = nn.Conv{d}({c}, {c2}, {k}, padding='same', "
                             f"dilation={dil})")
            body.append(f"{h} = self.{name}({h})")
            return (c2,) + tuple(shape[1:]), kind
        if w == "conv_group":
            gs = [g for g in (2, 3) if c % g == 0]
            if not gs:
                return None
            g = x.choice(gs)
            c2 = g * x.choice([1, 2])
            name = self.fresh("cg")
            self.init.append(f"self.{name} = nn.Conv{d}({c}, {c2}, 3, padding=1, groups={g}"
                             f"{x.choice(['', ', bias=False'])})")
            body.append(f"{h} = self.{name}({h})")
            return (c2,) + tuple(shape[1:]), kind
        if w == "conv_dil":
            new = (shape[0],) + tuple(s_ + 2 - 4 for s_ in shape[1:])
            if min(new[1:]) < 2:
                return None
            name = self.fresh("cd")
            self.init.append(f"self.{name} = nn.Conv2d({c}, {c}, 3, padding=1, dilation=2, "
                             f"stride={x.choice([1, 1, 2])})")
            st = int(self.init[-1].split("stride=")[1][0])
            new = (c,) + tuple((s_ - 3) // st + 1 for s_ in shape[1:])
            body.append(f"{h} = self.{name}({h})")
            return new, kind
        if w == "upsample":
            if max(shape[1:]) > 6:
                return None
            mode = x.choice(["'nearest'", "'bilinear', align_corners=False",
                             "'bilinear', align_corners=True"])
            name = self.fresh("up")
            self.init.append(f"self.{name} = nn.Upsample(scale_factor=2, mode={mode})")
            body.append(f"{h} = self.{name}({h})")
            return (c,) + tuple(2 * s_ for s_ in shape[1:]), kind
        if w == "convt":
            if max(shape[1:]) > 6:
                return None
            c2 = x.choice([2, 3])
            k, st, pad = x.choice([(2, 2, 0), (3, 1, 1), (3, 2, 1)])
            name = self.fresh("ct")
            self.init.append(f"self.{name} = nn.ConvTranspose2d({c}, {c2}, {k}, stride={st}, "
                             f"padding={pad})")
            body.append(f"{h} = self.{name}({h})")
            return (c2,) + tuple((s_ - 1) * st - 2 * pad + k for s_ in shape[1:]), kind
        if w == "apool2":
            o = (x.choice([1, 2, 3]), x.choice([1, 2]))
            name = self.fresh("ap")
            self.init.append(f"self.{name} = nn.AdaptiveAvgPool2d({o})")
            body.append(f"{h} = self.{name}({h})")
            return (c,) + o, kind
        if w == "tied":
            a, b = self.fresh("enc"), self.fresh("dec")
            k = x.choice([2, 3])
            self.init += [f"self.{a} = nn.Linear({c}, {k})",
                          f"self.{b} = nn.Linear({k}, {c}, bias=False)"]
            if x.random() < 0.5:
                self.init.append(f"self.{b}.weight = nn.Parameter(self.{a}.weight.t()"
                                 f".contiguous())")
                body.append(f"{h} = {h} + self.{b}(torch.tanh(self.{a}({h})))")
            else:
                body.append(f"{h} = {h} + F.linear(torch.tanh(self.{a}({h})), "
                            f"self.{a}.weight.t())")
            return shape, kind
        raise AssertionError(w)

    def head(self, h, shape, kind, body):
        """Bring the feature to (N, K): flatten/pool then a Linear."""
        r = self.r
        if kind == "t":
            body.append(r.choice([f"{h} = {h}.mean(1)", f"{h} = {h}.sum(dim=1) * 0.25",
                                  f"{h} = {h}[:, 0]", f"{h} = {h}.amax(1)"]))
            shape, kind = (shape[1],), "v"
        elif kind in ("s", "i"):
            if r.random() < 0.5:
                body.append(f"{h} = torch.flatten({h}, 1)")
            else:
                body.append(f"{h} = {h}.mean(dim={[-1] if kind == 's' else [-2, -1]})")
                shape = shape[:1]
            n = 1
            for s in shape:
                n *= s
            shape, kind = (n,), "v"
        k = r.choice([2, 3, 5])
        name = self.fresh("fc")
        self.init.append(f"self.{name} = nn.Linear({shape[0]}, {k})")
        body.append(f"{h} = self.{name}({h})")
        return (k,), "v"

    def build(self):
        r = self.r
        kind = r.choice(["v", "v", "s", "i", "t"])
        if kind == "v":
            shape = (r.choice([3, 4, 6, 8]),)
        elif kind == "s":
            shape = (r.choice([2, 3, 4]), r.choice([4, 5, 8]))
        elif kind == "i":
            shape = (r.choice([2, 3]), r.choice([4, 5]), r.choice([4, 6]))
        else:
            shape = (r.choice([3, 5]),)
        p = self.p = Program("", kind, shape)
        body = []
        h = "h"
        if kind == "t":
            p.vocab = r.choice([7, 11])
            d = r.choice([4, 6])
            pad = r.choice(["", "", ", padding_idx=0"])
            self.init.append(f"self.emb = nn.Embedding({p.vocab}, {d}{pad})")
            body.append("h = self.emb(x)")
            cur, ck = (shape[0], d), "t"
        else:
            body.append("h = x")
            cur, ck = shape, kind
            p.mask = r.random() < 0.3
            if p.mask:
                body += ["if mask is not None:", "    h = h * mask"]
        for _ in range(r.randint(1, self.max_steps)):
            cur, ck = self.step(h, cur, ck, body)
        feat_shape, feat_kind = cur, ck
        export = r.random() < 0.4
        out_body = []
        if export:
            self.methods.insert(0, ["@torch.jit.export",
                                    "def features(self, x: torch.Tensor, "
                                    "mask: Optional[torch.Tensor] = None) -> torch.Tensor:"]
                                + ["    " + s for s in body] + ["    return h"])
            p.exports.append("features")
            out_body.append("h = self.features(x, mask)")
            body = out_body
        feat = r.random() < 0.5
        if feat:
            body.append("f = h")
        cur, ck = self.head(h, feat_shape, feat_kind, body)
        p.classes = cur[0]
        out = r.choice(["tensor", "tensor", "tuple", "dict"])
        aux = "f" if feat else "h"
        if out == "tensor":
            body.append("return h")
            ret = "torch.Tensor"
        elif out == "tuple":
            body.append(f"return h, {aux}.sum(dim=1)" if r.random() < 0.5 else f"return h, {aux}")
            ret = "Tuple[torch.Tensor, torch.Tensor]"
        else:
            body.append(f"return {{'out': h, 'aux': {aux}.mean()}}")
            ret = "Dict[str, torch.Tensor]"
        p.out = out
        lines = ["class M(nn.Module):"]
        lines += ["    " + f for f in self.finals]
        if self.finals:
            lines.append("")
        lines += ["    def __init__(self):", "        super().__init__()"]
        lines += ["        " + s for s in self.init]
        lines.append("")
        args = "self, x: torch.Tensor" + (", mask: Optional[torch.Tensor] = None"
                                          if p.mask or export else "")
        lines.append(f"    def forward({args}) -> {ret}:")
        lines += ["        " + s for s in body]
        for m in self.methods:
            lines.append("")
            lines += ["    " + s for s in m]
        p.src = "\n".join(lines) + "\n"
        return p


def program_d(seed, **kw) -> Program:
    return ProgramGenD(seed, **kw).build()


if __name__ == "__main__":      # print a few programs
    import sys
    for s in (sys.argv[1:] or ["1", "2", "3"]):
        print(f"# seed {s}")
        print(program_d(int(s)).src)
