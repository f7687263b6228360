"""Writes the TorchScript archives tests/test_torch_archive_s45.py loads: run with PyTorch
(`python tests/data/torch_archives/make_archives.py`, torch 2.13 made the committed files).
Each case is saved with torch.jit.save (the `.debug_pkl` entries dropped: gpujit does not
read them and torch.jit.load does not need them) and its inputs, outputs and, for the
`grad` cases, the gradients of out.sum() w.r.t. every parameter go to io.pt (the nested-tensor
cases' to io_nested.pt: `python make_archives.py nested` writes those only)."""
import enum
import os
import zipfile
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


def helper(x: torch.Tensor, k: int = 2) -> torch.Tensor:
    return x * k + 1


@torch.jit.script
class Acc:
    def __init__(self, v: float):
        self.v = v

    def add(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.v


class NT(NamedTuple):
    a: torch.Tensor
    b: int


class Sub(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.bn = nn.BatchNorm2d(2)
        self.register_buffer("mask", torch.tril(torch.ones(3, 3)))

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Tree(nn.Module):
    """Submodules, containers, a script class, a NamedTuple, a free function, list / dict /
    float / Optional attributes, an exported method, an int argument with a default."""
    scale: float
    names: List[str]

    def __init__(self):
        super().__init__()
        self.sub = Sub()
        self.lin = nn.Linear(8, 4)
        self.seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        self.ml = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.scale = 0.5
        self.names = ["a", "b"]
        self.d = {"x": 3}
        self.opt: Optional[torch.Tensor] = None

    def forward(self, x, n: int = 3) -> Tuple[torch.Tensor, NT]:
        y = self.lin(self.sub(x).flatten(1))
        y = self.seq(y)
        for m in self.ml:
            y = m(y)
        y = Acc(self.scale).add(helper(y, n))
        if self.opt is not None:
            y = y + self.opt
        return y * self.d["x"], NT(y, len(self.names))

    @torch.jit.export
    def other(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [x, x.sum(dim=0)]


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@torch.jit.interface
class Act(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        pass


@torch.jit.script
class Box:
    def __init__(self, lo: float, hi: float):
        self.lo = lo
        self.hi = hi

    def clip(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(self.lo, self.hi)


class Misc(nn.Module):
    """An enum attribute, an interface-typed submodule, a script-class object attribute,
    tied weights, a frozen parameter, a non-persistent buffer, a dict of lists, an
    f-string raise, a dict result."""
    act: Act

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.emb.weight
        self.act = nn.GELU()
        self.box = Box(-0.5, 0.5)
        self.shape = (2, 3)
        self.color = Color.GREEN
        self.register_buffer("idx", torch.arange(4), persistent=False)
        self.frozen = nn.Parameter(torch.ones(4) * 1.5, requires_grad=False)
        self.table: Dict[int, List[float]] = {1: [1.0, 2.0]}

    def forward(self, tokens: torch.Tensor, scale: float = 1.0) -> Dict[str, torch.Tensor]:
        h = self.emb(tokens) * self.frozen
        h = self.box.clip(self.act(h))
        if self.color == Color.GREEN:
            h = h * scale
        out: Dict[str, torch.Tensor] = {}
        logits = self.head(h)
        if tokens.dim() != 2:
            raise ValueError(f"expected 2D tokens, got {tokens.dim()}D")
        out["logits"] = logits
        out["loss"] = F.cross_entropy(logits.view(-1, 10), tokens.view(-1))
        acc = 0
        for i in range(self.shape[0]):
            acc += i
        out["acc"] = torch.tensor(acc + len(self.table[1]))
        return out


class Block(nn.Module):
    """nanoGPT's causal self-attention with a LayerNorm."""

    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(8)
        self.attn = nn.Linear(8, 24)
        self.register_buffer("bias", torch.tril(torch.ones(5, 5)).view(1, 1, 5, 5))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.attn(self.ln(x)).split(8, dim=2)
        q = q.view(B, T, 2, 4).transpose(1, 2)
        k = k.view(B, T, 2, 4).transpose(1, 2)
        v = v.view(B, T, 2, 4).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / 2.0)
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return x + y


class Conv(nn.Module):
    def __init__(self, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 4, 3, stride=2, padding=1, bias=False), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(4, 3))

    def forward(self, x):
        return self.net(x)


class SelfAttn(nn.Module):
    """nn.MultiheadAttention called as self-attention (its fast path in eval without
    gradients: aten::_native_multi_head_attention) with a key padding mask."""

    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x, pad: torch.Tensor):
        y, w = self.mha(x, x, x, key_padding_mask=pad)
        return y, w


@torch.jit.script
def fn_loop(x: torch.Tensor, n: int) -> List[torch.Tensor]:
    out: List[torch.Tensor] = []
    for i in range(n):
        x = torch.sigmoid(x) * 2 - 1
        out.append(x)
    return out


@torch.jit.script
def fn_default(x: torch.Tensor, y: int = 3) -> torch.Tensor:
    return helper(x, y).relu()


def traced_fn(x, y):
    return torch.where(x > y, x, y).sum(0), x.int() * 3


class Const(nn.Module):
    def forward(self, x):
        return x * torch.tensor([2.0, 3.0]) + x.size(0)


class Fork(nn.Module):
    """torch.jit.fork / wait of a method."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)

    def helper(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x).relu()

    def forward(self, x):
        fut = torch.jit.fork(self.helper, x)
        return torch.jit.wait(fut) + x * 2


class Unused(nn.Module):
    """An @unused method (its body raises when called)."""

    @torch.jit.unused
    def debug(self, x):
        import pdb  # noqa: F401
        return x

    def forward(self, x, flag: bool = False):
        if flag:
            return self.debug(x)
        return x + 1


class Features(nn.Module):
    """Optional / Union refinement, strings, dicts, list methods, while, sorted, indexing
    assignment, a ModuleDict and an enumerated ModuleList."""

    def __init__(self):
        super().__init__()
        self.d = nn.ModuleDict({"a": nn.Linear(3, 3), "b": nn.Tanh()})
        self.l = nn.ModuleList([nn.Linear(3, 3), nn.Linear(3, 3)])

    def forward(self, x: torch.Tensor, y: Optional[torch.Tensor] = None,
                u: Union[int, float] = 2, s: str = "ab"
                ) -> Tuple[torch.Tensor, List[int], str, Dict[str, float]]:
        if y is not None:
            x = x + y
        if isinstance(u, int):
            x = x * u
        else:
            x = x / u
        for k, m in self.d.items():
            x = m(x)
        for i, m in enumerate(self.l):
            x = m(x) * (i + 1)
        sizes = [d * 2 for d in x.shape]
        parts = s.split("b") + [s.upper(), s[::-1]]
        d: Dict[str, float] = {}
        for i, p in enumerate(parts):
            d[p] = float(i) + 0.5
        t = torch.zeros(3, dtype=torch.int64)
        t[1] = 5
        z = torch.where(x > 0, x, torch.zeros_like(x)).sum() + t.sum()
        while len(sizes) < 4:
            sizes.append(-1)
        return z * max(sizes), sorted(sizes), "-".join(parts), d


class Counter(nn.Module):
    """A buffer mutated in forward; a loop with continue; a constant."""
    __constants__ = ["k"]

    def __init__(self):
        super().__init__()
        self.k = 3
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor, n: int):
        self.count += 1
        outs: List[torch.Tensor] = []
        h = torch.zeros_like(x[0])
        for i in range(n + self.k):
            h = torch.tanh(h + x[i % x.size(0)])
            if i % 2 == 0:
                continue
            outs.append(h)
        return torch.stack(outs), len(outs), self.count.clone()


def cases():
    x4 = torch.randn(2, 1, 4, 4)
    img = torch.randn(2, 3, 8, 8)
    seq = torch.randn(2, 5, 8)
    pad = torch.tensor([[False, False, False, True, True], [False] * 5])
    enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                     batch_first=True).eval()
    enc_nf = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                        batch_first=True, norm_first=True,
                                        activation="gelu").eval()
    yield "tree", torch.jit.script(Tree().eval()), (x4,), False
    yield "tree_sub_traced", torch.jit.trace(Sub().eval(), x4), (x4,), False
    yield "const_traced", torch.jit.trace(Const(), torch.randn(3, 2)), (torch.randn(3, 2),), False
    yield "fn_default", fn_default, (torch.randn(4), 3), False
    yield "misc", torch.jit.script(Misc()), (torch.randint(0, 10, (2, 5)),), False
    yield "lstm_traced", torch.jit.trace(nn.LSTM(4, 6, num_layers=2, batch_first=True),
                                         torch.randn(2, 3, 4)), (torch.randn(2, 3, 4),), False
    yield "gru_traced", torch.jit.trace(nn.GRU(4, 5), torch.randn(3, 2, 4)), \
        (torch.randn(3, 2, 4),), False
    yield "encoder", torch.jit.script(enc), (seq,), False
    yield "encoder_norm_first_pad", torch.jit.script(enc_nf), (seq, None, pad), False
    yield "mha_fast", torch.jit.script(SelfAttn().eval()), (seq, pad), False
    yield "mha_train", torch.jit.script(SelfAttn()), (seq, pad), True
    yield "block_traced", torch.jit.trace(Block(), seq), (seq,), True
    yield "block_scripted", torch.jit.script(Block()), (seq,), True
    yield "conv_eval", torch.jit.script(Conv().eval()), (img,), False
    yield "conv_train", torch.jit.script(Conv(0.0)), (img,), True
    yield "conv_traced", torch.jit.trace(Conv().eval(), img), (img,), False
    yield "fn_loop", fn_loop, (torch.randn(3), 4), False
    yield "fork", torch.jit.script(Fork()), (torch.randn(2, 4),), False
    yield "unused", torch.jit.script(Unused()), (torch.randn(3),), False
    yield "features", torch.jit.script(Features()), (torch.randn(2, 3), torch.randn(2, 3)), \
        False
    yield "counter", torch.jit.script(Counter()), (torch.randn(4, 3), 3), False
    yield "traced_fn", torch.jit.trace(traced_fn, (torch.randn(3, 2), torch.randn(3, 2))), \
        (torch.randn(3, 2), torch.randn(3, 2)), False


def nested_cases():
    """Archives whose PyTorch run takes the nested-tensor fast path (their inputs and
    outputs go to io_nested.pt, so that io.pt stays as it was; a seed of their own, so
    they come out the same written alone or after cases())."""
    torch.manual_seed(46)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       batch_first=True)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=True).eval()
    seq = torch.randn(3, 5, 8)
    pad = torch.tensor([[False, False, False, True, True], [False] * 5,
                        [False, True, True, True, True]])
    yield "encoder_nested", torch.jit.script(enc), (seq, None, pad), False
    # (a nested batch as the input: the layer's fast path takes it; io_nested.pt holds
    # nested tensors, as torch.save writes them)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       batch_first=True, activation="gelu").eval()
    x = torch.nested.nested_tensor([torch.randn(3, 8), torch.randn(1, 8), torch.randn(4, 8)])
    yield "layer_nested_input", torch.jit.script(layer), (x,), False


def strip_debug(path):
    with zipfile.ZipFile(path) as z:
        entries = [(i, z.read(i.filename)) for i in z.infolist()
                   if not i.filename.endswith(".debug_pkl")]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for info, data in entries:
            z.writestr(info, data)


def plain(o):
    """Outputs without the script's NamedTuple classes (torch.save cannot pickle them)."""
    if isinstance(o, tuple):
        return tuple(plain(e) for e in o)
    if isinstance(o, list):
        return [plain(e) for e in o]
    if isinstance(o, dict):
        return {k: plain(e) for k, e in o.items()}
    return o.detach() if isinstance(o, torch.Tensor) else o


def main(which=None):
    if which is None:
        write(cases(), "io.pt")
    if which in (None, "nested"):
        write(nested_cases(), "io_nested.pt")


def write(cases, io_name):
    io_all = {}
    for name, m, args, grad in cases:
        path = os.path.join(HERE, f"{name}.pt")
        extra = {"meta.txt": f"case {name}"} if name == "tree" else None
        torch.jit.save(m, path, _extra_files=extra) if extra else m.save(path)
        strip_debug(path)
        m = torch.jit.load(path)             # (still loads without the debug entries)
        rec = {"args": args}
        if grad:
            out = m(*args)
            first = out[0] if isinstance(out, tuple) else out
            first.sum().backward()
            rec["grads"] = {k: p.grad.clone() for k, p in m.named_parameters()
                            if p.grad is not None}
            rec["out"] = plain(out)
        else:
            with torch.no_grad():
                rec["out"] = plain(m(*args))
        if name == "tree":
            with torch.no_grad():
                rec["other"] = m.other(args[0])
        io_all[name] = rec
    torch.save(io_all, os.path.join(HERE, io_name))


if __name__ == "__main__":
    import sys
    main(sys.argv[1] if len(sys.argv) > 1 else None)     # ("nested": those cases only)
