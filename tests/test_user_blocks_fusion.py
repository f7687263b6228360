"""What PyTorch users script and trace today, end to end under `import gpujit as torch`.

A hand-written transformer encoder block (Linear, LayerNorm, GELU none/tanh, dropout in
eval and train, masked_fill(-inf) softmax attention scaled by 1/sqrt(d)),
nn.TransformerEncoderLayer, a MobileNetV2 inverted residual with a hardswish /
hardsigmoid squeeze-excite, ResNet BasicBlock and bottleneck, hand-written LSTM / GRU cells
(chunk), a SiLU / Mish / softplus / normalize / clamp / where MLP, float16 inputs upcast
with .float(), a Llama-style RMSNorm. Each: eager == scripted == traced over 3 calls, values
against NumPy (or eager gpujit where NumPy would be long), the pointwise work fused where
NNC fuses it, training steps (SGD, Adam) equal to eager's, freeze / optimize_for_inference
and save / load, strict_fusion."""
from __future__ import annotations

import io
import math
from typing import List, Optional

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.functional as F
from fusion_asserts import find_fusion_groups

_R = np.random.default_rng(5)
GROUP = "prim::TensorExprGroup"


def _a(*shape, dtype=np.float32):
    return _R.standard_normal(shape).astype(dtype)


def _groups(graph):
    """The ops inside each fusion group (found recursively: each sits behind its guard, in
    blocks and inside the DifferentiableGraph regions of a call recording gradients)."""
    return [[k.kind() for k in sub.nodes() if k.kind() != "prim::Constant"]
            for sub in find_fusion_groups(graph)]


def _np(t):
    return t.detach().numpy()


def _same(a, b, tol=1e-5):
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(_np(x), _np(y), rtol=tol, atol=tol)


def _three(f, args):
    out = None
    for _ in range(3):
        out = f(*args)
    return out


# ---------------------------------------------------------------- models (module level:
# scripting reads their source)

class AttnBlock(nn.Module):
    def __init__(self, d: int = 16, h: int = 2, approx: str = "none", p: float = 0.1):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        self.h = h
        self.approx = approx
        self.p = p

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        hd = C // self.h
        q = q.view(B, T, self.h, hd).transpose(1, 2)
        k = k.view(B, T, self.h, hd).transpose(1, 2)
        v = v.view(B, T, self.h, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(mask, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = F.dropout(att, self.p, self.training)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + F.dropout(self.proj(y), self.p, self.training)
        h = F.layer_norm(x, (C,), self.ln2.weight, self.ln2.bias, 1e-5)
        h = self.fc2(F.gelu(self.fc1(h), approximate=self.approx))
        return x + F.dropout(h, self.p, self.training)


class InvertedResidual(nn.Module):
    def __init__(self, c: int = 8, e: int = 2):
        super().__init__()
        h = c * e
        self.pw = nn.Conv2d(c, h, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(h)
        self.dw = nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False)
        self.bn2 = nn.BatchNorm2d(h)
        self.se1 = nn.Conv2d(h, 4, 1)
        self.se2 = nn.Conv2d(4, h, 1)
        self.pl = nn.Conv2d(h, c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu6(self.bn1(self.pw(x)))
        y = F.hardswish(self.bn2(self.dw(y)))
        s = F.adaptive_avg_pool2d(y, 1)
        s = F.hardsigmoid(self.se2(F.relu(self.se1(s))))
        y = y * s
        return x + self.bn3(self.pl(y))


class BasicBlock(nn.Module):
    def __init__(self, c: int = 8):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x)


class Bottleneck(nn.Module):
    def __init__(self, c: int = 8, w: int = 4):
        super().__init__()
        self.conv1 = nn.Conv2d(c, w, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.conv2 = nn.Conv2d(w, w, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(w)
        self.conv3 = nn.Conv2d(w, 2 * c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(2 * c)
        self.down = nn.Sequential(nn.Conv2d(c, 2 * c, 1, stride=2, bias=False),
                                  nn.BatchNorm2d(2 * c))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return torch.relu(out + self.down(x))


class LSTMCell(nn.Module):
    def __init__(self, i: int = 6, h: int = 5):
        super().__init__()
        self.ih = nn.Linear(i, 4 * h)
        self.hh = nn.Linear(h, 4 * h)

    def forward(self, x, hx, cx):
        gates = self.ih(x) + self.hh(hx)
        i, f, g, o = gates.chunk(4, 1)
        i = torch.sigmoid(i)
        f = torch.sigmoid(f)
        g = torch.tanh(g)
        o = torch.sigmoid(o)
        cy = f * cx + i * g
        hy = o * torch.tanh(cy)
        return hy, cy


class GRUCell(nn.Module):
    def __init__(self, i: int = 6, h: int = 5):
        super().__init__()
        self.ih = nn.Linear(i, 3 * h)
        self.hh = nn.Linear(h, 3 * h)

    def forward(self, x, hx):
        i_r, i_z, i_n = self.ih(x).chunk(3, 1)
        h_r, h_z, h_n = self.hh(hx).chunk(3, 1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1 - z) * n + z * hx


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(8, 16)
        self.l2 = nn.Linear(16, 16)
        self.l3 = nn.Linear(16, 4)

    def forward(self, x):
        h = F.silu(self.l1(x))
        h = F.mish(self.l2(h)) + F.softplus(h, beta=2.0, threshold=10.0)
        h = F.normalize(h, p=2.0, dim=1)
        h = torch.clamp(h, -0.2, 0.2)
        h = torch.where(h > 0, h, h * 0.1)
        return self.l3(h)


class HalfIn(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)

    def forward(self, x, y):
        z = x.float() * 2.0 + y.float().sigmoid()
        return self.lin(z).relu()


class RMSBlock(nn.Module):
    def __init__(self, d: int = 16):
        super().__init__()
        self.norm = nn.RMSNorm(d, eps=1e-6)
        self.w13 = nn.Linear(d, 4 * d, bias=False)
        self.w2 = nn.Linear(2 * d, d, bias=False)

    def forward(self, x):
        a, b = self.w13(self.norm(x)).chunk(2, dim=-1)
        return x + self.w2(F.silu(a) * b)


def _models():
    """name: (module factory, input shapes, float16 inputs)."""
    return {
        "inverted_residual": (InvertedResidual, [(2, 8, 6, 6)]),
        "basic_block": (BasicBlock, [(2, 8, 6, 6)]),
        "bottleneck": (Bottleneck, [(2, 8, 8, 8)]),
        "lstm_cell": (LSTMCell, [(3, 6), (3, 5), (3, 5)]),
        "gru_cell": (GRUCell, [(3, 6), (3, 5)]),
        "mlp": (MLP, [(4, 8)]),
        "half_inputs": (HalfIn, [(4, 8), (4, 8)]),
        "rms_block": (RMSBlock, [(2, 3, 16)]),
    }


def _make(name, seed=0):
    cls, shapes = _models()[name]
    torch.manual_seed(seed)
    m = cls()
    dt = np.float16 if name == "half_inputs" else np.float32
    arrays = [_a(*s, dtype=dt) for s in shapes]
    return m, arrays


def _fresh_copy(name, m):
    other, _ = _make(name)
    other.load_state_dict({k: v.clone() for k, v in m.state_dict().items()})
    return other


# what fuses in the scripted eval module (batch_norm's `self.training` is not a constant:
# NNC leaves it out too; a frozen module folds it into the conv)
_FUSED = {
    "inverted_residual": [["aten::hardsigmoid", "aten::mul"]],
    "basic_block": [["aten::add", "aten::relu"]],
    "bottleneck": [["aten::add", "aten::relu"]],
    "lstm_cell": [["aten::add", "prim::ConstantChunk", "aten::sigmoid", "aten::sigmoid",
                   "aten::tanh", "aten::sigmoid", "aten::mul", "aten::mul", "aten::add",
                   "aten::tanh", "aten::mul"]],
    "mlp": [["aten::mish", "aten::softplus", "aten::add"],
            ["aten::div", "aten::clamp", "aten::gt", "aten::mul", "aten::where"]],
}


# ---------------------------------------------------------------- NumPy references

def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _lin(x, lin):
    return x @ _np(lin.weight).T.astype(np.float64) + _np(lin.bias)


def _ref_lstm(m, x, h, c):
    i, f, g, o = np.split(_lin(x, m.ih) + _lin(h, m.hh), 4, axis=1)
    cy = _sig(f) * c + _sig(i) * np.tanh(g)
    return _sig(o) * np.tanh(cy), cy


def _ref_gru(m, x, h):
    i_r, i_z, i_n = np.split(_lin(x, m.ih), 3, axis=1)
    h_r, h_z, h_n = np.split(_lin(h, m.hh), 3, axis=1)
    r, z = _sig(i_r + h_r), _sig(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def _ref_mlp(m, x):
    a = _lin(x, m.l1)
    h = a * _sig(a)
    b = _lin(h, m.l2)
    sp = lambda v, beta, th: np.where(v * beta > th, v, np.log1p(np.exp(v * beta)) / beta)  # noqa: E731
    h = b * np.tanh(sp(b, 1.0, 20.0)) + sp(h, 2.0, 10.0)
    h = h / np.maximum(np.sqrt((h * h).sum(1, keepdims=True)), 1e-12)
    h = np.clip(h, -0.2, 0.2)
    h = np.where(h > 0, h, h * 0.1)
    return _lin(h, m.l3)


def _ref_half(m, x, y):
    z = x.astype(np.float32) * 2.0 + _sig(y.astype(np.float32))
    return np.maximum(_lin(z, m.lin), 0)


def _ref_rms(m, x):
    n = x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + 1e-6) \
        * _np(m.norm.weight)
    a, b = np.split(n @ _np(m.w13.weight).T, 2, axis=-1)
    return x + (a * _sig(a) * b) @ _np(m.w2.weight).T


_NP_REFS = {"lstm_cell": _ref_lstm, "gru_cell": _ref_gru, "mlp": _ref_mlp,
            "half_inputs": _ref_half, "rms_block": _ref_rms}


# ---------------------------------------------------------------- the blocks, eval and train

@pytest.mark.parametrize("name", sorted(_models()))
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_block_eager_scripted_traced_agree(name, train):
    m, arrays = _make(name)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    m.train(train)
    args = [torch.tensor(a) for a in arrays]
    with torch.no_grad():
        eager = m(*args)
        m.load_state_dict(state)          # batch_norm in train moved its running stats
        scripted = torch.jit.script(m)
        s_out = _three(scripted, args)
        m.load_state_dict(state)
        traced = torch.jit.trace(m, tuple(args), check_trace=False)
        m.load_state_dict(state)
        t_out = _three(traced, args)
        graph = scripted.graph_for(*args)
    _same(s_out, eager)
    _same(t_out, eager)
    if name in _NP_REFS:
        ref = _NP_REFS[name](m, *[a.astype(np.float64) if a.dtype == np.float32 else a
                                  for a in arrays])
        _same(eager, tuple(torch.tensor(np.asarray(r, np.float32)) for r in ref)
              if isinstance(ref, tuple) else torch.tensor(np.asarray(ref, np.float32)),
              tol=2e-5)
    groups = _groups(graph)
    assert groups, f"{name}: nothing fused"
    if name in _FUSED:
        assert sorted(groups) == sorted(_FUSED[name])
    if name == "half_inputs":
        assert eager.dtype == torch.float32


def _loss(out):
    out = out if isinstance(out, tuple) else (out,)
    total = 0.0
    for o in out:
        total = total + (o * o).mean() + o.sum() * 0.01
    return total


def _train(m, f, args, opt):
    o = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) if opt == "sgd" \
        else torch.optim.Adam(m.parameters(), lr=0.01)
    for _ in range(3):
        o.zero_grad()
        _loss(f(*args)).backward()
        o.step()
    return {k: _np(v).copy() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("name", ["inverted_residual", "basic_block", "bottleneck",
                                  "lstm_cell", "gru_cell", "mlp", "rms_block"])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_training_steps_match_eager(name, opt):
    base, arrays = _make(name)
    ref = None
    for mode in ["eager", "script", "trace"]:
        m = _fresh_copy(name, base).train()
        args = [torch.tensor(a) for a in arrays]
        f = m
        if mode == "script":
            f = torch.jit.script(m)
        elif mode == "trace":
            f = torch.jit.trace(m, tuple(args), check_trace=False)
            m.load_state_dict(base.state_dict())     # tracing ran batch_norm once
        params = _train(m, f, args, opt)
        if ref is None:
            ref = params
            continue
        for k in ref:
            # Adam divides by sqrt(v): a gradient at rounding level (a batch_norm weight
            # right before another batch_norm) moves by lr whatever its size
            tol = 1e-5 if opt == "sgd" else 2e-3
            np.testing.assert_allclose(params[k], ref[k], rtol=tol, atol=tol,
                                       err_msg=f"{mode} {k}")


def test_training_step_fuses_with_gradients():
    m, arrays = _make("lstm_cell")
    s = torch.jit.script(m.train())
    args = [torch.tensor(a) for a in arrays]
    for _ in range(3):
        hy, cy = s(*args)
        (hy.sum() + cy.sum()).backward()
    assert len(_groups(s.graph_for(*args))) == 1
    grads = {k: p.grad.clone() for k, p in m.named_parameters()}
    for p in m.parameters():
        p.grad = None
    hy, cy = m(*args)
    (hy.sum() + cy.sum()).backward()
    for k, p in m.named_parameters():
        np.testing.assert_allclose(_np(p.grad) * 3, _np(grads[k]), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- the transformer block

def _mask(t):
    return torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)


def _erf(x):
    return np.vectorize(math.erf)(x)


def _ref_attn_block(m, x, mask, approx):
    def ln(v, mod):
        mu = v.mean(-1, keepdims=True)
        var = ((v - mu) ** 2).mean(-1, keepdims=True)
        return (v - mu) / np.sqrt(var + 1e-5) * _np(mod.weight) + _np(mod.bias)

    B, T, C = x.shape
    q, k, v = np.split(_lin(ln(x, m.ln1), m.qkv), 3, axis=-1)
    hd = C // m.h
    q, k, v = (t.reshape(B, T, m.h, hd).transpose(0, 2, 1, 3) for t in (q, k, v))
    att = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)
    att = np.where(mask, -np.inf, att)
    att = np.exp(att - att.max(-1, keepdims=True))
    att = att / att.sum(-1, keepdims=True)
    y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
    x = x + _lin(y, m.proj)
    h = _lin(ln(x, m.ln2), m.fc1)
    if approx == "none":
        g = 0.5 * h * (1 + _erf(h / math.sqrt(2)))
    else:
        g = 0.5 * h * (1 + np.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h ** 3)))
    return x + _lin(g, m.fc2)


@pytest.mark.parametrize("approx", ["none", "tanh"])
def test_attention_block_eval(approx):
    torch.manual_seed(0)
    m = AttnBlock(approx=approx).eval()
    xa = _a(2, 5, 16)
    x, mask = torch.tensor(xa), _mask(5)
    with torch.no_grad():
        eager = m(x, mask)
        s = torch.jit.script(m)
        t = torch.jit.trace(m, (x, mask))
        _same(_three(s, (x, mask)), eager)
        _same(_three(t, (x, mask)), eager)
        graph = s.graph_for(x, mask)
    ref = _ref_attn_block(m, xa.astype(np.float64), _np(mask), approx)
    np.testing.assert_allclose(_np(eager), ref, rtol=1e-4, atol=1e-5)
    # the scale and the -inf mask are one group (softmax, layer_norm, dropout: NNC leaves
    # them out); the masked rows are -inf, not NaN
    assert _groups(graph) == [["aten::mul", "aten::masked_fill"]]


def test_attention_block_train_dropout_same_seed_same_values():
    torch.manual_seed(0)
    m = AttnBlock(approx="tanh").train()
    x, mask = torch.randn(2, 5, 16), _mask(5)
    torch.manual_seed(7)
    eager = m(x, mask)
    s = torch.jit.script(m)
    t = torch.jit.trace(m, (x, mask), check_trace=False)
    for f in (s, t, s, t, s, t):
        torch.manual_seed(7)
        _same(f(x, mask), eager)
    torch.manual_seed(8)
    assert not np.allclose(_np(s(x, mask)), _np(eager))      # dropout is live in train


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_attention_block_training_steps(opt):
    torch.manual_seed(0)
    base = AttnBlock(approx="tanh", p=0.0)
    x, mask = torch.randn(2, 5, 16), _mask(5)
    results = []
    for mode in ["eager", "script", "trace"]:
        m = AttnBlock(approx="tanh", p=0.0)
        m.load_state_dict(base.state_dict())
        m.train()
        f = {"eager": m, "script": torch.jit.script(m) if mode == "script" else None,
             "trace": torch.jit.trace(m, (x, mask)) if mode == "trace" else None}[mode]
        results.append(_train(m, f, (x, mask), opt))
    for other in results[1:]:
        for k in results[0]:
            np.testing.assert_allclose(other[k], results[0][k], rtol=1e-5, atol=1e-5)


# (each activation and each norm placement once: the layer's code picks them in separate
# branches, _ff_block's activation and forward's norm_first; the other two pairings
# compiled and ran the same two branches again)
@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_layer(activation, norm_first):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, activation=activation,
                                       batch_first=True, norm_first=norm_first)
    x = torch.randn(2, 5, 16)
    pad = torch.tensor([[False] * 5, [False] * 3 + [True] * 2])
    s = torch.jit.script(layer)        # a copy: its own `training` (shares parameters)
    layer.eval()
    s.eval()
    with torch.no_grad():
        _same(_three(s, (x, None, pad)), layer(x, src_key_padding_mask=pad))
        _same(_three(torch.jit.trace(layer, (x,)), (x,)), layer(x))
    layer.train()
    s.train()
    torch.manual_seed(3)
    eager = layer(x, src_key_padding_mask=pad)
    eager.sum().backward()
    grads = {k: p.grad.clone() for k, p in layer.named_parameters()}
    for _ in range(3):
        for p in layer.parameters():
            p.grad = None
        torch.manual_seed(3)
        out = s(x, None, pad)
        out.sum().backward()
    _same(out, eager)
    for k, p in layer.named_parameters():
        _same(p.grad, grads[k])


# ---------------------------------------------------------------- freeze, save / load

@pytest.mark.parametrize("name", ["inverted_residual", "basic_block", "bottleneck"])
@pytest.mark.parametrize("how", ["freeze", "optimize_for_inference"])
def test_frozen_conv_blocks(name, how):
    m, arrays = _make(name)
    m.train()
    with torch.no_grad():
        m(torch.tensor(_a(*arrays[0].shape)))       # running stats that are not 0 / 1
    m.eval()
    x = torch.tensor(arrays[0])
    with torch.no_grad():
        eager = m(x)
        f = getattr(torch.jit, how)(torch.jit.script(m) if how == "freeze"
                                    else torch.jit.script(m).eval())
        _same(_three(f, (x,)), eager, tol=1e-4)
        graph = f.graph_for(x)
        buf = io.BytesIO()
        torch.jit.save(f, buf)
        buf.seek(0)
        loaded = torch.jit.load(buf)
        _same(_three(loaded, (x,)), eager, tol=1e-4)
    # batch_norm folded into the convolutions; the pointwise tail still fused
    assert not graph.findAllNodes("aten::batch_norm")
    assert sorted(_groups(graph)) == sorted(_FUSED[name])


def test_frozen_batch_norm_not_after_a_conv_fuses_with_its_tail():
    class BnAdd(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x, y):
            return F.relu(self.bn(x) + y)

    m = BnAdd().eval()
    with torch.no_grad():
        m.bn.running_mean.copy_(torch.tensor(_a(4)))
        m.bn.running_var.copy_(torch.tensor(np.abs(_a(4)) + 0.5))
    xa, ya = _a(2, 4, 3, 3), _a(2, 4, 3, 3)
    f = torch.jit.freeze(torch.jit.script(m))
    with torch.no_grad():
        out = _three(f, (torch.tensor(xa), torch.tensor(ya)))
        graph = f.graph_for(torch.tensor(xa), torch.tensor(ya))
    shape = (1, 4, 1, 1)
    ref = np.maximum((xa - _np(m.bn.running_mean).reshape(shape))
                     / np.sqrt(_np(m.bn.running_var).reshape(shape) + 1e-5) + ya, 0)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-5, atol=1e-5)
    assert _groups(graph) == [["aten::batch_norm", "aten::add", "aten::relu"]]


@pytest.mark.parametrize("approx", ["none", "tanh"])
def test_attention_block_save_load_and_freeze(approx):
    torch.manual_seed(0)
    m = AttnBlock(approx=approx).eval()
    x, mask = torch.randn(2, 5, 16), _mask(5)
    with torch.no_grad():
        eager = m(x, mask)
        for f in (torch.jit.script(m), torch.jit.trace(m, (x, mask)),
                  torch.jit.freeze(torch.jit.script(m)),
                  torch.jit.optimize_for_inference(torch.jit.script(m))):
            _same(_three(f, (x, mask)), eager)
            buf = io.BytesIO()
            torch.jit.save(f, buf)
            buf.seek(0)
            _same(_three(torch.jit.load(buf), (x, mask)), eager)


# ---------------------------------------------------------------- strict_fusion

def _tail(x, y):
    with torch.jit.strict_fusion():
        z = F.silu(x) * torch.sigmoid(y) + 1.0
        z = torch.where(z > 0.5, z, z * 0.1).clamp(-1.0, 2.0)
    return z


def _with_conv(x, w):
    with torch.jit.strict_fusion():
        y = F.conv2d(x, w, padding=1)
        z = F.relu(y) + 1.0
    return z


class _ConvTail(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        with torch.jit.strict_fusion():
            return F.hardswish(self.c(x)) * 2.0 + x


def test_strict_fusion_pointwise_tail_passes():
    xa, ya = _a(4, 8), _a(4, 8)
    s = torch.jit.script(_tail)
    out = _three(s, (torch.tensor(xa), torch.tensor(ya)))
    z = xa * _sig(xa) * _sig(ya) + 1.0
    ref = np.clip(np.where(z > 0.5, z, z * 0.1), -1.0, 2.0)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("which", ["function", "module"])
def test_strict_fusion_around_a_conv_raises_naming_it(which):
    if which == "function":
        f, args, line = torch.jit.script(_with_conv), (torch.randn(1, 4, 5, 5),
                                                       torch.randn(4, 4, 3, 3)), "F.conv2d"
    else:
        f, args, line = torch.jit.script(_ConvTail()), (torch.randn(1, 4, 5, 5),), \
            "strict_fusion"
    with pytest.raises(Exception) as e:
        _three(f, args)
    msg = str(e.value)
    assert "aten::conv2d" in msg or "aten::_convolution" in msg
    assert line in msg and "test_user_blocks_fusion.py" in msg


# ---------------------------------------------------------------- `w is not None` of a
# Tensor: folded once inlined, so the weight's multiply joins the group (nn.RMSNorm)

def test_rms_norm_weight_joins_the_group():
    torch.manual_seed(0)
    m = nn.RMSNorm(16, eps=1e-6)
    with torch.no_grad():
        m.weight.copy_(torch.tensor(np.abs(_a(16)) + 0.5))
    xa = _a(3, 16)
    s = torch.jit.script(m)
    for _ in range(3):
        x = torch.tensor(xa, requires_grad=True)
        out = s(x)
        out.sum().backward()
    ref = xa / np.sqrt((xa.astype(np.float64) ** 2).mean(-1, keepdims=True) + 1e-6) \
        * _np(m.weight)
    np.testing.assert_allclose(_np(out), ref, rtol=1e-5, atol=1e-6)
    xe = torch.tensor(xa, requires_grad=True)
    m(xe).sum().backward()
    np.testing.assert_allclose(_np(x.grad), _np(xe.grad), rtol=1e-5, atol=1e-6)
    graph = s.graph_for(x)
    assert not graph.findAllNodes("aten::__isnot__")
    [group] = _groups(graph)
    assert group.count("aten::mul") == 2           # x * rsqrt(...), then * weight


def _opt_weight(x, w: Optional[torch.Tensor]):
    if w is None:
        return x.relu() + 1.0
    return x * w + 1.0


def _call_with_tensor(x, w):
    return _opt_weight(x, w) * 2.0


def _call_with_none(x):
    return _opt_weight(x, None) * 2.0


def test_is_none_of_a_tensor_folds_after_inlining_optional_still_checks():
    xa, wa = _a(5), _a(5)
    st, sn, so = (torch.jit.script(f) for f in (_call_with_tensor, _call_with_none,
                                                 _opt_weight))
    x, w = torch.tensor(xa), torch.tensor(wa)
    np.testing.assert_allclose(_np(_three(st, (x, w))), (xa * wa + 1) * 2, rtol=1e-6)
    np.testing.assert_allclose(_np(_three(sn, (x,))), (np.maximum(xa, 0) + 1) * 2, rtol=1e-6)
    for g in (st.graph_for(x, w), sn.graph_for(x)):
        assert not g.findAllNodes("aten::__is__") and len(_groups(g)) == 1
    # an Optional argument is still decided at run time
    np.testing.assert_allclose(_np(so(x, None)), np.maximum(xa, 0) + 1, rtol=1e-6)
    np.testing.assert_allclose(_np(so(x, w)), xa * wa + 1, rtol=1e-6)
    assert so.graph.findAllNodes("aten::__is__")


# ---------------------------------------------------------------- ConvNeXt with timm's
# drop_path: `(x.shape[0],) + (1,) * (x.ndim - 1)` is a List[int] in TorchScript (the
# tuple becomes a list for aten::add.t when its elements are of the list's type)

def drop_path(x, drop_prob: float = 0.0, training: bool = False, scale_by_keep: bool = True):
    if drop_prob == 0.0 or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training, True)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int = 8, dp: float = 0.5):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-1 * torch.ones(dim))
        self.drop_path = DropPath(dp)

    def forward(self, x):
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        x = (self.gamma * x).permute(0, 3, 1, 2)
        return shortcut + self.drop_path(x)


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
def test_convnext_block_with_drop_path(train):
    torch.manual_seed(0)
    m = ConvNeXtBlock().train(train)
    x = torch.randn(4, 8, 6, 6)
    s = torch.jit.script(m)
    t = torch.jit.trace(m, (x,), check_trace=False)
    torch.manual_seed(1)
    eager = m(x)
    for f in (s, t, s, t, s, t):
        torch.manual_seed(1)
        _same(f(x), eager)
    if train:   # each sample's branch dropped whole, or scaled by 1 / keep = 2
        branch = _np(eager - x).reshape(4, -1)
        with torch.no_grad():
            full = _np(m.eval()(x) - x).reshape(4, -1)
        m.train()
        for b, f in zip(branch, full):
            assert np.all(b == 0) or np.allclose(b, 2 * f, rtol=1e-5, atol=1e-6)
        s(x).sum().backward()
        assert m.gamma.grad is not None


def _tuple_plus_list(x, l: List[int]):
    return x.new_zeros((x.shape[0],) + (1,) * (x.ndim - 1)).sum() + len(l + (x.shape[0],))


def test_tuple_and_list_concatenate_as_torchscript():
    s = torch.jit.script(_tuple_plus_list)
    x = torch.ones(3, 4, 5)
    assert float(s(x, [1, 2])) == 3.0
    mixed = "def f(l: List[float]):\n    return (1,) + l\n"
    with pytest.raises(Exception, match="add"):
        torch.jit.CompilationUnit(mixed)


# ---------------------------------------------------------------- a ViT stem (cat of the
# class token + position embedding fused), an LSTM over a sequence in a scripted loop

class ViTStem(nn.Module):
    def __init__(self, d: int = 16, p: int = 4):
        super().__init__()
        self.proj = nn.Conv2d(3, d, p, stride=p)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, 5, d) * 0.02)
        self.mha = nn.MultiheadAttention(d, 2, batch_first=True)
        self.fc = nn.Linear(d, d)

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls.expand(x.shape[0], -1, -1), x), dim=1) + self.pos
        n = x.shape[1]
        mask = torch.triu(torch.ones(n, n, dtype=torch.bool, device=x.device), 1)
        y, w = self.mha(x, x, x, attn_mask=mask, need_weights=True)
        s = torch.sigmoid(self.fc(y.mean(1, keepdim=True)))
        return y * s + x, w


def test_vit_stem_cat_and_gate_fused():
    torch.manual_seed(0)
    m = ViTStem().eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        eager = m(x)
        for f in (torch.jit.script(m), torch.jit.trace(m, (x,)),
                  torch.jit.freeze(torch.jit.script(m))):
            _same(_three(f, (x,)), eager)
            groups = _groups(f.graph_for(x))
            assert ["aten::sigmoid", "aten::mul", "aten::add"] in groups
            # cat + pos (a group's cat prints as NNC's: prim::ListConstruct + aten::cat)
            assert ["prim::ListConstruct", "aten::cat", "aten::add"] in groups
    w = _np(eager[1])
    assert np.allclose(np.triu(w, 1), 0) and np.allclose(w.sum(-1), 1, atol=1e-6)


def _lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = torch.addmm(b_ih, x, w_ih.t()) + torch.addmm(b_hh, h, w_hh.t())
    i, f, g, o = gates.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm_seq(xs, h, c, w_ih, w_hh, b_ih, b_hh):
    outs: List[torch.Tensor] = []
    for t in range(xs.size(0)):
        h, c = _lstm_step(xs[t], h, c, w_ih, w_hh, b_ih, b_hh)
        outs.append(h)
    return torch.stack(outs), c


def test_scripted_lstm_over_a_sequence():
    H, In, S, B = 5, 6, 7, 3
    ws = [_a(4 * H, In), _a(4 * H, H), _a(4 * H), _a(4 * H)]
    xs = _a(S, B, In)
    s = torch.jit.script(_lstm_seq)
    args = [torch.tensor(xs), torch.zeros(B, H), torch.zeros(B, H)] + \
        [torch.tensor(w) for w in ws]
    out, c = _three(s, args)
    assert len(_groups(s.graph_for(*args))) == 1
    h, cn, ref = np.zeros((B, H)), np.zeros((B, H)), []
    for t in range(S):
        i, f, g, o = np.split(xs[t] @ ws[0].T + ws[2] + h @ ws[1].T + ws[3], 4, 1)
        cn = _sig(f) * cn + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(cn)
        ref.append(h)
    np.testing.assert_allclose(_np(out), np.stack(ref), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_np(c), cn, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["basic_block", "attn_block"])
def test_loaded_scripted_module_trains_as_eager(name):
    torch.manual_seed(0)
    if name == "attn_block":
        m, args = AttnBlock(p=0.0), (torch.randn(2, 5, 16), _mask(5))
        ref = AttnBlock(p=0.0)
    else:
        m, args = BasicBlock(), (torch.randn(2, 8, 6, 6),)
        ref = BasicBlock()
    ref.load_state_dict(m.state_dict())
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(m.train()), buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    out = []
    for mod in (ref.train(), loaded.train()):
        out.append(_train(mod, mod, args, "sgd"))
    assert sorted(out[0]) == sorted(out[1])
    for k in out[0]:
        np.testing.assert_allclose(out[1][k], out[0][k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert len(_groups(loaded.graph_for(*args))) == 1
