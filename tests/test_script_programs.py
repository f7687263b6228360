"""Programs PyTorch users script every day, written as they write them under
`import gpujit as torch`, scripted, and compared (values, dtypes, container types) with
the same Python run eagerly. Programs that must be rejected assert a clean FrontendError
that marks the culprit with `<--- HERE`."""
import math
from dataclasses import dataclass
from typing import Dict, Final, List, NamedTuple, Optional, Tuple, Union

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F
from gpujit.frontend.script import FrontendError

nn = torch.nn
Tensor = torch.Tensor


def same(got, want):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, torch.Tensor), got
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        assert tuple(got.shape) == tuple(want.shape), (got.shape, want.shape)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            same(g, w)
    elif isinstance(want, dict):
        assert type(got) is dict and list(got) == list(want), (got, want)
        for k in want:
            same(got[k], want[k])
    elif isinstance(want, float):
        assert type(got) is float and math.isclose(got, want, rel_tol=1e-6), (got, want)
    else:
        assert type(got) is type(want) and got == want, (got, want)


def check(fn, *args):
    """Script `fn` (a function or module), run it twice, compare with eager Python."""
    scripted = torch.jit.script(fn)
    want = fn(*args)
    for _ in range(2):
        same(scripted(*args), want)
    return scripted


def rejects(fn, *needles):
    with pytest.raises(FrontendError) as e:
        torch.jit.script(fn)
    msg = str(e.value)
    assert "<--- HERE" in msg, msg
    for n in needles:
        assert n in msg, msg
    return msg


torch.manual_seed(0)
X = torch.randn(2, 5, 8)


# ============================================================ attention / transformer

class SelfAttention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.d_head = d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, mask: Optional[Tensor] = None):
        b, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q = q.view(b, t, self.heads, self.d_head).transpose(1, 2)
        k = k.view(b, t, self.heads, self.d_head).transpose(1, 2)
        v = v.view(b, t, self.heads, self.d_head).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.d_head)
        if mask is not None:
            scores = scores.masked_fill(mask == 0, float("-inf"))
        attn = self.drop(F.softmax(scores, dim=-1))
        y = torch.matmul(attn, v).transpose(1, 2).contiguous().view(b, t, d)
        return self.out(y)


class EncoderLayer(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.attn = SelfAttention(d, heads)
        self.ln1 = nn.LayerNorm(d)
        self.ln2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 4 * d), nn.ReLU(), nn.Linear(4 * d, d))

    def forward(self, x, mask: Optional[Tensor] = None):
        x = x + self.attn(self.ln1(x), mask)
        x = x + self.ff(self.ln2(x))
        return x


def test_attention_with_and_without_mask():
    layer = SelfAttention(8, 2).eval()
    mask = torch.tril(torch.ones(5, 5))
    s = check(layer, X)
    same(s(X, mask), layer(X, mask))


def test_transformer_encoder_layer_eval():
    layer = EncoderLayer(8, 2).eval()
    mask = torch.tril(torch.ones(5, 5))
    s = check(layer, X, mask)
    same(s(X), layer(X))


# ============================================================ MLP / CNN blocks

class ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class ResNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = ConvBlock(3, 4)
        self.blocks = nn.ModuleList([ConvBlock(4, 4) for _ in range(2)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "reg": nn.Linear(4, 1)})

    def forward(self, x) -> Dict[str, Tensor]:
        x = self.stem(x)
        for block in self.blocks:
            x = x + block(x)            # residual
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        out: Dict[str, Tensor] = {}
        for name, head in self.heads.items():
            out[name] = head(x)
        return out


def test_cnn_residual_batchnorm_eval_moduledict():
    m = ResNetish().eval()
    check(m, torch.randn(2, 3, 6, 6))


class MLP(nn.Module):
    def __init__(self, sizes: List[int]):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.norm = nn.LayerNorm(sizes[-1])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.gelu(x)
        return self.norm(x)


def test_mlp_modulelist_enumerate():
    check(MLP([8, 16, 16, 4]).eval(), torch.randn(3, 8))


def test_sequential_with_dropout_in_eval():
    m = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 2)).eval()
    check(m, torch.randn(4, 8))


# ============================================================ recurrent loops

class LSTMish(nn.Module):
    def __init__(self, i: int, h: int):
        super().__init__()
        self.h = h
        self.ih = nn.Linear(i, 4 * h)
        self.hh = nn.Linear(h, 4 * h)

    def forward(self, xs, state: Optional[Tuple[Tensor, Tensor]] = None
                ) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        if state is None:
            hx = torch.zeros(xs.size(1), self.h)
            cx = torch.zeros(xs.size(1), self.h)
        else:
            hx, cx = state
        outs: List[Tensor] = []
        for t in range(xs.size(0)):
            gates = self.ih(xs[t]) + self.hh(hx)
            i, f, g, o = gates.chunk(4, 1)
            cx = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
            hx = torch.sigmoid(o) * torch.tanh(cx)
            outs.append(hx)
        return torch.stack(outs), (hx, cx)


def test_lstm_loop_over_time_with_optional_state():
    m = LSTMish(3, 4)
    xs = torch.randn(5, 2, 3)
    s = check(m, xs)
    st = (torch.randn(2, 4), torch.randn(2, 4))
    same(s(xs, st), m(xs, st))


class GRUish(nn.Module):
    def __init__(self, i: int, h: int):
        super().__init__()
        self.cell = nn.GRUCell(i, h) if hasattr(nn, "GRUCell") else nn.Linear(i + h, h)
        self.h = h

    def forward(self, xs):
        states = [torch.zeros(xs.size(1), self.h)]
        for x in xs.unbind(0):
            states.append(torch.tanh(self.cell(torch.cat([x, states[-1]], 1))))
        return torch.stack(states[1:], dim=0)


def test_rnn_list_of_states_unbind_stack():
    m = GRUish(3, 4)
    m.cell = nn.Linear(7, 4)
    check(m, torch.randn(4, 2, 3))


# ============================================================ search

def greedy_decode(logits: Tensor, eos: int, max_len: int) -> List[int]:
    out: List[int] = []
    step = 0
    while step < max_len:
        tok = int(logits[step].argmax())
        if tok == eos:
            break
        out.append(tok)
        step += 1
    return out


def test_greedy_decode_while_break():
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.0, 0.0, 1.0],
                           [0.9, 0.0, 0.1]])
    check(greedy_decode, logits, 2, 4)
    check(greedy_decode, logits, 5, 3)


def beam_search(logp: Tensor, k: int) -> List[Tuple[float, List[int]]]:
    beams: List[Tuple[float, List[int]]] = [(0.0, [])]
    for t in range(logp.size(0)):
        cand: List[Tuple[float, List[int]]] = []
        for score, seq in beams:
            vals, idx = torch.topk(logp[t], k)
            for j in range(k):
                cand.append((score + float(vals[j]), seq + [int(idx[j])]))
        scores = [c[0] for c in cand]
        best: List[Tuple[float, List[int]]] = []
        while len(best) < k and len(scores) > 0:
            i = scores.index(max(scores))
            best.append(cand.pop(i))
            scores.pop(i)
        beams = best
    return beams


def test_beam_search_lists_of_tuples():
    logp = torch.log_softmax(torch.tensor([[1.0, 2.0, 0.5], [0.2, 0.1, 3.0],
                                           [1.5, 1.0, 0.0]]), dim=-1)
    check(beam_search, logp, 2)


def first_above(xs: List[float], thr: float) -> int:
    for i, v in enumerate(xs):
        if v > thr:
            return i
    return -1


def test_early_return_in_loop():
    check(first_above, [0.1, 0.5, 0.9], 0.4)
    check(first_above, [0.1, 0.2], 0.4)


def sort_hypotheses(hyps: List[Tuple[float, int]]) -> List[int]:
    scores = [h[0] for h in hyps]
    scores.sort(reverse=True)
    out: List[int] = []
    for s in scores:
        for sc, tok in hyps:
            if sc == s:
                out.append(tok)
                break
    return out


def test_lists_of_tuples_and_sort():
    check(sort_hypotheses, [(0.5, 1), (0.9, 2), (0.1, 3)])


# ============================================================ strings

def tokenize(text: str, vocab: Dict[str, int]) -> List[int]:
    ids: List[int] = []
    for word in text.strip().lower().split(" "):
        if word == "":
            continue
        ids.append(vocab.get(word, 0))
    return ids


def detokenize(ids: List[int], inv: Dict[int, str]) -> str:
    words = [inv.get(i, "<unk>") for i in ids]
    return " ".join(words)


def describe(x: Tensor, name: str) -> str:
    n = x.numel()
    return f"{name}: {n} elements, dim={x.dim()}"


def test_tokenizer_split_strip_get_join_fstring():
    vocab = {"hello": 1, "world": 2}
    check(tokenize, "  Hello  WORLD foo ", vocab)
    check(detokenize, [1, 2, 7], {1: "hello", 2: "world"})
    check(describe, torch.zeros(2, 3), "w")


# ============================================================ metrics

def accuracy(logits: Tensor, target: Tensor) -> float:
    pred = logits.argmax(dim=1)
    return (pred == target).float().mean().item()


def topk_accuracy(logits: Tensor, target: Tensor, k: int) -> Tensor:
    _, idx = torch.topk(logits, k, dim=1)
    hit = (idx == target.unsqueeze(1)).any(dim=1)
    return hit.float().mean()


def confusion(pred: Tensor, target: Tensor) -> Dict[int, int]:
    counts: Dict[int, int] = {}
    for i in range(pred.size(0)):
        key = int(target[i]) * 10 + int(pred[i])
        counts[key] = counts.get(key, 0) + 1
    return counts


def loss_and_stats(x: Tensor) -> Tuple[float, int]:
    # Tensor.item() is a Scalar: TorchScript converts it where a float is declared
    return (x.abs().sum().item() + float(x.max()), int((x > 0).sum()))


class Stats(NamedTuple):
    mean: float
    total: Tuple[float, int]


def named_stats(x: Tensor) -> Stats:
    return Stats(x.mean().item(), (x.sum().item(), 3))


def test_metrics():
    logits = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6],
                           [0.3, 0.4, 0.3]])
    target = torch.tensor([1, 2, 2, 0])
    check(accuracy, logits, target)
    check(topk_accuracy, logits, target, 2)
    check(confusion, logits.argmax(1), target)
    check(loss_and_stats, logits)
    check(named_stats, logits)


# ============================================================ losses

def smoothed_ce(logits: Tensor, target: Tensor, eps: float = 0.1) -> Tensor:
    n = logits.size(-1)
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(1, target.unsqueeze(1)).squeeze(1)
    smooth = -logp.sum(dim=-1) / n
    return ((1.0 - eps) * nll + eps * smooth).mean()


def losses(logits: Tensor, target: Tensor, y: Tensor,
           yhat: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    return (F.cross_entropy(logits, target), F.mse_loss(yhat, y, reduction="sum"),
            F.cross_entropy(logits, target, reduction="none"))


def test_losses():
    logits = torch.randn(4, 3)
    target = torch.tensor([0, 2, 1, 1])
    check(smoothed_ce, logits, target)
    check(smoothed_ce, logits, target, 0.2)
    check(losses, logits, target, torch.randn(4), torch.randn(4))


# ============================================================ modules: outputs, inheritance, attrs

class Output(NamedTuple):
    logits: Tensor
    loss: Optional[Tensor]


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(4, 6)
        self.head = nn.Linear(6, 3)

    def forward(self, x, target: Optional[Tensor] = None) -> Output:
        logits = self.head(F.relu(self.enc(x)))
        loss: Optional[Tensor] = None
        if target is not None:
            loss = F.cross_entropy(logits, target)
        return Output(logits, loss)


def test_module_returns_namedtuple_with_optional_loss():
    m = Classifier()
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 1, 0])
    s = torch.jit.script(m)
    got, want = s(x, y), m(x, y)
    same(got.logits, want.logits)
    same(got.loss, want.loss)
    assert s(x).loss is None
    same(s(x).logits, want.logits)


class Wrapper(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Classifier()

    def forward(self, x, y: Optional[Tensor] = None) -> Tuple[Tensor, Dict[str, Tensor]]:
        out = self.inner(x, target=y)
        stats: Dict[str, Tensor] = {"mean": out.logits.mean()}
        if out.loss is not None:
            stats["loss"] = out.loss
        return out.logits, stats


def test_submodule_passed_optional_args_returns_tuple_and_dict():
    m = Wrapper()
    x, y = torch.randn(5, 4), torch.tensor([0, 1, 2, 1, 0])
    s = check(m, x, y)
    same(s(x), m(x))


class Base(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def normalize(self, x: Tensor) -> Tensor:
        return x / (x.norm(dim=-1, keepdim=True) + 1e-6) * self.scale


class Child(Base):
    def __init__(self):
        super().__init__(2.0)
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.normalize(self.lin(x))


def test_subclass_forward_calls_base_helper():
    check(Child(), torch.randn(2, 3))


class Counter(nn.Module):
    sizes: List[int]
    weights: Dict[str, float]

    def __init__(self):
        super().__init__()
        self.sizes = [1, 2]
        self.weights = {"a": 0.5}
        self.calls = 0

    def forward(self, x):
        self.sizes.append(x.size(0))
        self.weights["b"] = float(x.sum())
        self.calls += 1
        total = 0.0
        for k, w in self.weights.items():
            total += w
        return x * total + len(self.sizes) + self.calls


def test_module_dict_and_int_attributes_read_and_mutated():
    x = torch.ones(2)
    e, s = Counter(), torch.jit.script(Counter())
    same(s(x), e(x))
    assert s.sizes == e.sizes and s.weights == e.weights and s.calls == e.calls
    e(x), s(x)
    assert s.weights == e.weights and s.calls == e.calls


def test_module_list_attribute_appended_on_every_call():
    x = torch.ones(2)
    e, s = Counter(), torch.jit.script(Counter())
    for _ in range(3):
        same(s(x), e(x))
    assert s.sizes == e.sizes


# ============================================================ ints, while, creation

def index_math(n: int, i: int) -> Tuple[int, int, int, int, int]:
    row = i // n
    col = i % n
    lo = min(row, col)
    hi = max(row, col, 1)
    neg = -7 // 2 + (-7 % 3)
    return row, col, lo, hi, neg


def negative_indices(xs: List[int]) -> Tuple[int, int, List[int], List[int]]:
    return xs[-1], xs[-2], xs[-3:], xs[::-1]


def count_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def test_integer_arithmetic_and_while_counter():
    check(index_math, 4, 11)
    check(negative_indices, [1, 2, 3, 4])
    check(count_steps, 27)


def creation(n: int) -> List[Tensor]:
    return [torch.zeros(n, 2, dtype=torch.float64), torch.ones(n, dtype=torch.int64),
            torch.full((2, n), 3.5), torch.arange(n), torch.arange(0, n, 2, dtype=torch.float32),
            torch.eye(n), torch.linspace(0.0, 1.0, steps=n), torch.tensor([1, 2, 3]),
            torch.tensor([1.0, 2.0], dtype=torch.float64), torch.zeros_like(torch.eye(n)),
            torch.empty(n, device=torch.device("cpu")).fill_(2.0), torch.ones(n, device="cpu")]


def test_tensor_creation_with_dtype_and_device():
    check(creation, 4)


def inplace(x: Tensor, i: int) -> Tensor:
    y = x.clone()
    y.add_(1.0)
    y.mul_(2)
    y.clamp_(min=0.0, max=5.0)
    y[i] = 7.0
    y[0, 1] = -1.0
    y[1:, :] += 0.5
    y[y > 6.0] = 6.0
    return y


def test_inplace_ops_and_item_assignment():
    check(inplace, torch.randn(3, 4), 2)


# ============================================================ shape and indexing ops

def shape_ops(x: Tensor, idx: Tensor) -> List[Tensor]:
    a, b = x.split(2, dim=1)
    c = torch.split(x, [1, 3], dim=1)
    rows = x.unbind(0)
    out = [torch.where(x > 0, x, torch.zeros_like(x)), x.masked_fill(x < 0, -1.0),
           x.gather(1, idx), torch.zeros(3, 4).scatter(1, idx, 1.0),
           x.index_select(0, torch.tensor([2, 0])), torch.cat([a, b], dim=0),
           torch.stack(rows, dim=1), c[1], x.t(), x.transpose(0, 1),
           x.unsqueeze(0).permute(2, 0, 1), x.view(-1), x.reshape(2, 6), x.flatten(),
           x.unsqueeze(1).squeeze(1), x[:, :1].expand(3, 4), x.repeat(2, 1),
           x[-1], x[:, -2:], x[1:, ::2], x[..., 0], x[None, 0]]
    return out


def test_tensor_shape_and_indexing_ops():
    x = torch.randn(3, 4)
    idx = torch.tensor([[0, 1], [2, 3], [1, 1]])
    check(shape_ops, x, idx)


def pad_and_pool(x: Tensor) -> Tensor:
    y = F.pad(x, [1, 1, 1, 1], value=0.0)
    y = F.max_pool2d(y, 2)
    return F.avg_pool2d(y, kernel_size=2, stride=1).flatten(1)


def test_pad_and_pool():
    check(pad_and_pool, torch.randn(2, 1, 6, 6))


# ============================================================ calling Python helpers

def _scaled(x: Tensor, scale: float = 2.0, shift: float = 0.0) -> Tensor:
    return x * scale + shift


def _clip(x: Tensor, lo: float = -1.0, hi: float = 1.0) -> Tensor:
    return x.clamp(min=lo, max=hi)


def calls_helpers(x: Tensor) -> Tensor:
    a = _scaled(x)
    b = _scaled(x, 3.0)
    c = _scaled(x, shift=1.0)
    d = _clip(_scaled(x, scale=0.5, shift=-0.25), hi=0.5)
    return a + b + c + d


def test_calls_python_function_with_defaults_and_kwargs():
    check(calls_helpers, torch.randn(5))


# ============================================================ strings and dicts

def count_words(lines: List[str]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for line in lines:
        for w in line.split():
            w = w.strip(".,!").lower()
            if w:
                counts[w] = counts.get(w, 0) + 1
    return counts


def format_report(metrics: Dict[str, float]) -> str:
    parts: List[str] = []
    for k in sorted(metrics.keys()):
        parts.append(f"{k}={metrics[k]}")     # (no spec: TorchScript refuses one)
    return ", ".join(parts)


def parse_config(text: str) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for item in text.split(";"):
        if "=" not in item:
            continue
        key, value = item.split("=")
        out[key.strip()] = int(value.strip())   # (TorchScript refuses trailing spaces)
    return out


def test_string_programs():
    check(count_words, ["Hello world.", "hello, again!"])
    check(format_report, {"loss": 0.25, "acc": 0.5})
    check(parse_config, "a = 1; b=22 ;junk")


# ============================================================ misc control flow

def bucketize(values: List[float], edges: List[float]) -> List[int]:
    out: List[int] = []
    for v in values:
        i = 0
        while i < len(edges) and v >= edges[i]:
            i += 1
        out.append(i)
    return out


def nearest_power(n: int) -> int:
    p = 1
    while True:
        if p >= n:
            return p
        p *= 2
    return p        # (torch 2.13 asks for it: `while True:` is no special case there)


def running_stats(x: Tensor) -> Tuple[float, float]:
    mean = 0.0
    m2 = 0.0
    count = 0
    for v in x:
        count += 1
        d = float(v) - mean
        mean += d / count
        m2 += d * (float(v) - mean)
    return mean, m2 / max(count - 1, 1)


def test_loops_counters_and_early_exit():
    check(bucketize, [0.1, 0.5, 2.0, -1.0], [0.0, 0.4, 1.0])
    check(nearest_power, 37)
    check(running_stats, torch.tensor([1.0, 2.0, 4.0, 7.0]))


def normalize_batch(x: Tensor, eps: float = 1e-5) -> Tensor:
    mean = x.mean(dim=0, keepdim=True)
    var = x.var(dim=0, unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def test_batch_normalize_by_hand():
    check(normalize_batch, torch.randn(6, 3))


# ============================================================ rejected programs

def uses_numpy(x):
    return np.sum(x)


def changes_type(flag: bool):
    y = 1
    if flag:
        y = "one"
    return y


def uses_generator(xs: List[int]) -> int:
    return sum(x * 2 for x in xs)


def test_rejected_programs_name_the_problem():
    rejects(uses_numpy, "numpy")
    rejects(changes_type, "'y'")


def test_generator_expression_is_a_list_comprehension():
    # (torch 2.13 builds a generator expression as a list comprehension;
    # tests/test_script_lang_s38.py)
    assert torch.jit.script(uses_generator)([1, 2, 3]) == 12


# ============================================================ more module idioms

class PositionalEmbedding(nn.Module):
    def __init__(self, vocab: int, d: int, max_len: int = 16):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        pos = torch.arange(max_len).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe)
        self.drop = nn.Dropout(0.1)

    def forward(self, ids):
        x = self.tok(ids) * math.sqrt(self.tok.embedding_dim)
        x = x + self.pe[: ids.size(1)].unsqueeze(0)
        return self.drop(x)


def test_embedding_with_positional_buffer():
    m = PositionalEmbedding(10, 6).eval()
    check(m, torch.tensor([[1, 2, 3], [4, 5, 0]]))


class TrainEval(nn.Module):
    __constants__ = ["p"]
    depth: Final[int]

    def __init__(self):
        super().__init__()
        self.p = 0.5
        self.depth = 2
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        for _ in range(self.depth):
            x = self.lin(x)
        if self.training:
            return F.dropout(x, self.p, self.training) * 0.0 + x.sum()
        return x

    @torch.jit.export
    def score(self, x: Tensor) -> float:
        return float(self.forward(x).sum())


def test_training_flag_constants_and_exported_method():
    m = TrainEval()
    s = torch.jit.script(m)
    x = torch.randn(2, 3)
    same(s(x), m(x))                          # training: x.sum() broadcast
    s.eval(), m.eval()
    same(s(x), m(x))
    same(s.score(x), m.score(x))


def require(x: Optional[Tensor], y: Optional[int] = None) -> Tensor:
    assert x is not None, "x is required"
    if y is None:
        return x
    return x * y


def pick(xs: Dict[str, Tensor], name: str) -> Tensor:
    if name in xs:
        return xs[name]
    raise ValueError(f"unknown input {name}")


def test_optional_refinement_assert_and_raise():
    x = torch.ones(2)
    check(require, x)
    check(require, x, 3)
    s = torch.jit.script(require)
    with pytest.raises(Exception, match="x is required"):
        s(None)
    check(pick, {"a": x}, "a")
    with pytest.raises(Exception, match="unknown input b"):
        torch.jit.script(pick)({"a": x}, "b")


def _split_heads(x: Tensor, h: int) -> Tuple[Tensor, int]:
    b, t, d = x.size()
    return x.view(b, t, h, d // h), d // h


def zipped(xs: List[Tensor], ws: List[float]) -> Tensor:
    total = torch.zeros(1)
    for i, (x, w) in enumerate(zip(xs, ws)):
        y, dh = _split_heads(x, 2)
        total = total + y.sum() * w + i + dh
    return total


def comprehensions(xs: List[int]) -> Tuple[List[int], Dict[int, int], List[int]]:
    evens = [x * x for x in xs if x % 2 == 0]
    idx = {x: i for i, x in enumerate(xs)}
    pairs = [a + b for a in xs for b in xs if a < b]
    return evens, idx, pairs


def test_tuple_returning_helper_zip_enumerate_comprehensions():
    check(zipped, [torch.randn(1, 2, 4), torch.randn(1, 2, 4)], [0.5, 2.0])
    check(comprehensions, [1, 2, 3, 4])


def no_grad_update(w: Tensor, g: Tensor, lr: float) -> Tensor:
    with torch.no_grad():
        w.sub_(lr * g)
    return w


def test_no_grad_block():
    w = torch.ones(3)
    got = torch.jit.script(no_grad_update)(w.clone(), torch.ones(3), 0.1)
    same(got, no_grad_update(w.clone(), torch.ones(3), 0.1))


def dtype_moves(x: Tensor, y: Tensor) -> List[Tensor]:
    return [x.to(y.dtype), x.type_as(y), x.new_zeros(2), x.to(torch.float64),
            x.long(), (x > 0).int(), x.double().sum(), x.new_full((2,), 7.0)]


def test_dtype_conversions():
    check(dtype_moves, torch.tensor([1.5, -2.0]), torch.tensor([1], dtype=torch.int32))


def shape_math(x: Tensor) -> Tuple[int, int, List[int], int]:
    n = x.shape[-1]
    sizes = list(x.size())
    flat = 1
    for s in x.shape:
        flat *= s
    return n, x.size(0) * x.dim(), sizes[:-1], flat


def test_shape_arithmetic():
    check(shape_math, torch.zeros(2, 3, 4))


# ============================================================ builtins, named returns, formats

def named_returns(x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    r = torch.topk(x, 2)
    m = x.max(dim=1)
    return r.indices, r.values, m.values, m[1], torch.max(x, 1)[0]


def list_builtins(xs: List[int]) -> Tuple[List[int], List[int], List[int], List[int], int]:
    # (sorted(xs, reverse=True) and reversed(xs) are refused, as torch 2.13 refuses them:
    # tests/test_script_lang_s36.py)
    a = sorted(xs)
    b = list(xs)
    b.sort(reverse=True)
    xs.sort()
    return a, b, xs[::-1], list(range(2, 5)), sum(range(4))


def bool_builtins(xs: List[int]) -> Tuple[bool, bool, bool, int, Tuple[int, int]]:
    return (any([x > 2 for x in xs]), all([x > 0 for x in xs]), all([x > 1 for x in xs]),
            max(xs[0], xs[1], xs[2]), divmod(xs[-1], 2))


def percent_format(s: str, i: int, x: float) -> List[str]:
    # (TorchScript's specifiers only: %d %i %e %f %c %s %%; no flag, width or precision,
    # and no spec or conversion in an f-string, tests/test_script_lang_s35.py)
    return ["%d items" % i, "%f|%s|%s%%|%d|%e|%i" % (x, s, s, i, x, i), "%d" % x,
            "%c" % i, "loss %f" % x, f"{i}|{s}|{x / 4}"]


def string_methods(s: str) -> Tuple[bool, str, bool, str, int, str, List[str]]:
    return (s.startswith("ab"), s.replace("a", "x"), s.isdigit(), s[::-1], s.find("b"),
            s.upper(), s.split(",", 1))


def test_named_returns_and_builtins():
    check(named_returns, torch.randn(3, 4))
    check(list_builtins, [3, 1, 2])
    check(bool_builtins, [1, 2, 3])
    check(percent_format, "ab", 7, 2.75)
    check(string_methods, "ab,cd,a")


def linalg_and_functional(a: Tensor, b: Tensor, w: Tensor) -> List[Tensor]:
    return [a @ b, torch.bmm(a.unsqueeze(0), b.unsqueeze(0)),
            torch.einsum("ij,jk->ik", a, b), torch.einsum("ii", a), F.linear(a, w),
            F.layer_norm(a, [a.size(-1)]), F.normalize(a, dim=-1), F.normalize(a),
            F.one_hot(torch.tensor([0, 2]), 3), torch.cumsum(a, dim=0),
            torch.sort(a, dim=1)[0], torch.clamp(a, 0, 1), F.silu(a),
            a.clone().masked_fill_(a > 1, 1.0), a.norm(), torch.norm(a, dim=0),
            a.norm(p=1, dim=1, keepdim=True)]


def test_linalg_einsum_normalize_norm():
    check(linalg_and_functional, torch.randn(3, 3), torch.randn(3, 3), torch.randn(2, 3))


def optional_numbers(x: Tensor, scale: Optional[float] = None,
                     bias: Optional[Tensor] = None) -> Tensor:
    if scale is not None:
        x = x * scale
    if bias is not None:
        x = x + bias
    return x


def union_arg(x: Union[int, str]) -> int:
    if isinstance(x, int):
        return x + 1
    return len(x)


def test_optional_number_and_optional_tensor_arguments():
    s = check(optional_numbers, torch.ones(2), 2.0, torch.ones(2))
    same(s(torch.ones(2)), optional_numbers(torch.ones(2)))


def test_union_argument_refined_by_isinstance():
    check(union_arg, "abc")
    check(union_arg, 4)


def star_unpack(x: Tensor):
    b, *rest = x.shape
    return b, rest


def test_star_unpacking_of_a_shape():
    # x.shape is a List[int], whose size TorchScript cannot know when compiling (torch
    # 2.13: "cannot statically infer the expected size of a list in this context")
    with pytest.raises(FrontendError, match="cannot statically infer the expected size of "
                       "a list in this context"):
        torch.jit.script(star_unpack)


# ============================================================ module containers, classes, attrs

class Indexed(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(3)])
        self.acts = nn.ModuleDict({"relu": nn.ReLU(), "tanh": nn.Tanh()})
        self.id = nn.Identity()

    def forward(self, x, which: int, act: str):
        x = self.layers[which](x)
        x = self.acts[act](x)
        for i in range(len(self.layers)):
            x = self.layers[i](x)
        return self.id(x)


class WithIgnore(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    @torch.jit.ignore
    def debug(self, x: Tensor) -> int:
        return int(x.numel())

    def forward(self, x):
        return self.lin(x) + self.debug(x)


class TensorAttr(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.tensor(2.0)
        self.offsets: List[float] = [0.5, 1.5]
        self.names = {"a": 1, "b": 2}

    def forward(self, x):
        y = x * self.scale
        for o in self.offsets:
            y = y + o
        return y + self.names["b"]


def test_variable_module_indices_ignore_and_plain_attributes():
    m = Indexed()
    s = check(m, torch.randn(2, 3), 1, "tanh")
    same(s(torch.ones(2, 3), 2, "relu"), m(torch.ones(2, 3), 2, "relu"))
    check(WithIgnore(), torch.randn(2, 2))
    check(TensorAttr(), torch.ones(2))


class Vocab:
    def __init__(self, words: List[str]):
        self.stoi: Dict[str, int] = {}
        self.itos: List[str] = []
        for w in words:
            self.add(w)

    def add(self, w: str) -> int:
        if w not in self.stoi:
            self.stoi[w] = len(self.itos)
            self.itos.append(w)
        return self.stoi[w]

    def encode(self, text: str) -> List[int]:
        return [self.stoi.get(w, -1) for w in text.split()]


def use_vocab(text: str) -> Tuple[List[int], int]:
    v = Vocab(["a", "b"])
    v.add("c")
    return v.encode(text), len(v.itos)


def test_script_class_vocabulary():
    check(use_vocab, "a c d b")


class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4, padding_idx=0)
        self.conv = nn.Conv1d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4, 2)

    def forward(self, ids, lengths: Optional[Tensor] = None):
        x = self.emb(ids).transpose(1, 2)
        x = F.relu(self.conv(x))
        if lengths is not None:
            mask = torch.arange(ids.size(1)).unsqueeze(0) < lengths.unsqueeze(1)
            x = x.masked_fill(~mask.unsqueeze(1), 0.0)
        x = x.max(dim=2)[0]
        return F.log_softmax(self.fc(x), dim=-1)


def test_text_cnn_with_length_mask():
    ids = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    m = TextCNN()
    s = check(m, ids, torch.tensor([3, 2]))
    same(s(ids), m(ids))


class BasicBlock(nn.Module):
    """torchvision's ResNet block: bias-free convs and `self.downsample = None`."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = F.relu(self.bn(self.conv(x)))
        if self.downsample is not None:
            identity = self.downsample(x)
        return F.relu(out + identity)


def test_resnet_block_with_bias_free_convs():
    check(BasicBlock(2, 4, 2).eval(), torch.randn(1, 2, 6, 6))


def test_resnet_block_with_none_downsample():
    m = BasicBlock(4, 4, 1).eval()
    m.conv = nn.Conv2d(4, 4, 3, 1, 1)
    check(m, torch.randn(1, 4, 6, 6))


# ============================================================ blog post 003's model

@dataclass
class EmbeddingConfig:
    name: str
    vocab: int
    dim: int = 2


class AttentionPool(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.q = nn.Linear(d, 1)

    def forward(self, x):
        w = torch.softmax(self.q(x).squeeze(-1), dim=-1)
        return (w.unsqueeze(-1) * x).sum(1)


class Recommender(nn.Module):
    """What blog 003 had to rewrite for TorchScript: a list of dataclass configs (no
    source for their __init__), set and filtered comprehensions,
    ModuleDicts indexed by a variable key, called through .forward()."""

    def __init__(self, configs: List[EmbeddingConfig]):
        super().__init__()
        self.configs = configs
        self.names = [c.name for c in configs]
        self.embs = nn.ModuleDict({c.name: nn.Embedding(c.vocab, c.dim) for c in configs})
        self.pools = nn.ModuleDict({c.name: AttentionPool(c.dim) for c in configs})
        self.skip = ["b"]

    def forward(self, feats: Dict[str, Tensor]) -> Tensor:
        outs = []
        for cfg in self.configs:
            if cfg.name in self.skip:
                continue
            e = self.embs[cfg.name](feats[cfg.name]) * cfg.dim
            outs.append(self.pools[cfg.name].forward(e))
        seen = {n for n in self.names if n in feats}
        kept = [n for n in self.names if n in seen and n not in self.skip]
        return torch.cat(outs, dim=-1) * len(kept)


def test_blog_003_recommender():
    cfgs = [EmbeddingConfig("a", 5, 3), EmbeddingConfig("b", 6), EmbeddingConfig("c", 4)]
    feats = {"a": torch.tensor([[1, 2]]), "b": torch.tensor([[0, 5]]),
             "c": torch.tensor([[3, 3]])}
    check(Recommender(cfgs), feats)


def make_config(name: str) -> Tuple[str, int, int]:
    c = EmbeddingConfig(name, 7)
    return c.name, c.vocab, c.dim


def test_dataclass_constructed_in_scripted_code():
    check(make_config, "q")


# ============================================================ mistakes users make

def forgot_refinement(x: Optional[Tensor]) -> Tensor:
    return x + 1


def uses_try(x):
    try:
        y = x + 1
    except RuntimeError:
        y = x
    return y


def wrong_return(x: str) -> int:
    return x        # (a Tensor x is converted, aten::IntImplicit, as TorchScript's)


def mixed_list(x):
    xs = [1, "a"]       # (a List[Union[int, str]], as TorchScript types it)
    return xs[0] + 1


def unknown_method(x):
    return x.frobnicate()


class HoldsObject(nn.Module):
    def __init__(self):
        super().__init__()
        self.obj = object()

    def forward(self, x):
        return x + self.obj


def test_mistakes_get_clear_errors_with_fixes():
    rejects(forgot_refinement, "Optional[Tensor]", "if x is not None:")
    rejects(uses_try, "`try` is not supported", "Hint:")
    rejects(wrong_return, "declared to return an int but returns a str")
    rejects(mixed_list, "Union[int, str]")
    rejects(unknown_method, "no Tensor method 'frobnicate'")
    rejects(uses_numpy, "numpy")
    rejects(HoldsObject(), "'obj'")


# ============================================================ detection, decoding, padding

def box_iou(a: Tensor, b: Tensor) -> Tensor:
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.max(a[:, None, :2], b[:, :2])
    rb = torch.min(a[:, None, 2:], b[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    return inter / (area_a[:, None] + area_b - inter)

def nms(boxes: Tensor, scores: Tensor, thr: float) -> List[int]:
    order = scores.argsort(descending=True)
    keep: List[int] = []
    while order.numel() > 0:
        i = int(order[0])
        keep.append(i)
        if order.numel() == 1:
            break
        ious = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]])[0]
        order = order[1:][ious <= thr]
    return keep

def ctc_greedy(logits: Tensor, blank: int) -> List[int]:
    best = [int(v) for v in logits.argmax(dim=-1)]
    out: List[int] = []
    prev = -1
    for t in best:
        if t != prev and t != blank:
            out.append(t)
        prev = t
    return out

def top_p_filter(logits: Tensor, p: float) -> Tensor:
    sorted_logits, idx = torch.sort(logits, descending=True)
    probs = F.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
    remove = probs > p
    remove[..., 1:] = remove[..., :-1].clone()
    remove[..., 0] = False
    mask = remove.scatter(-1, idx, remove)
    return logits.masked_fill(mask, -float("inf"))

class GreedyDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(6, 4)
        self.cell = nn.Linear(8, 4)
        self.out = nn.Linear(4, 6)
    def forward(self, h: Tensor, bos: int, eos: int, max_len: int) -> Tuple[Tensor, List[int]]:
        tok = torch.tensor([bos])
        toks: List[int] = []
        for _ in range(max_len):
            h = torch.tanh(self.cell(torch.cat([self.emb(tok), h], dim=-1)))
            tok = self.out(h).argmax(dim=-1)
            if bool((tok == eos).all()):
                break
            toks.append(int(tok.item()))
        return h, toks

def mask_index(x: Tensor, m: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    y = x.clone()
    y[m] = 0.0
    return x[m], y, x[x > 0.5]

def seq_lengths(lengths: List[int]) -> Tensor:
    max_len = max(lengths)
    mask = torch.zeros(len(lengths), max_len, dtype=torch.bool)
    for i, n in enumerate(lengths):
        mask[i, :n] = True
    return mask

def pad_sequences(seqs: List[Tensor], value: float = 0.0) -> Tensor:
    n = max([s.size(0) for s in seqs])
    out = torch.full((len(seqs), n), value)
    for i, s in enumerate(seqs):
        out[i, : s.size(0)] = s
    return out


def test_detection_and_decoding_programs():
    boxes = torch.tensor([[0., 0., 2., 2.], [0.1, 0.1, 2., 2.], [3., 3., 4., 4.],
                          [0., 0., 1., 1.]])
    check(box_iou, boxes, boxes)
    check(nms, boxes, torch.tensor([0.9, 0.8, 0.7, 0.6]), 0.5)
    check(ctc_greedy, torch.randn(8, 4), 0)
    check(top_p_filter, torch.randn(2, 6), 0.8)
    check(GreedyDecoder(), torch.zeros(1, 4), 1, 2, 5)


def test_masks_and_padding_programs():
    check(mask_index, torch.rand(5), torch.tensor([True, False, True, False, False]))
    check(seq_lengths, [2, 4, 1])
    check(pad_sequences, [torch.ones(2), torch.ones(3) * 2])


def ranges(n: int, a: int) -> List[List[int]]:
    return [[i for i in range(0, n, 2)], [i for i in range(n, a, -3)], [i for i in range(a, n)],
            [i * 2 for i in range(n)], list(range(n, 0, -1)), [i for i in range(5, 2)],
            [i for i in range(a, n, 4)]]


def row_sums(x: Tensor) -> List[float]:
    return [float(r.sum()) for r in x]


def test_comprehensions_over_stepped_ranges_and_tensor_rows():
    check(ranges, 10, -4)
    check(ranges, 0, 3)
    check(row_sums, torch.ones(3, 2))


# ============================================================ tensor facts and comparisons

def tensor_facts(x: Tensor) -> Tuple[bool, bool, bool, bool, bool, bool, bool, str]:
    return (x.dtype == torch.float32, x.is_cuda, x.is_floating_point(),
            x.long().dtype == torch.int64, x.dtype != torch.int64, list(x.shape) == [4, 3],
            x.device == torch.device("cpu"), str(x.device))


def int_powers(n: int) -> Tuple[float, float, float, float]:
    return n ** 2, n ** 0, n ** -1, 2.0 ** n       # int ** int: a float, as TorchScript's


def test_dtype_device_list_comparisons_and_int_powers():
    check(tensor_facts, torch.zeros(4, 3))
    check(tensor_facts, torch.zeros(2, dtype=torch.int64))
    f = torch.jit.script(int_powers)
    for n, want in ((3, (9.0, 1.0, 1 / 3, 8.0)), (-2, (4.0, 1.0, -0.5, 0.25))):
        got = f(n)
        assert got == want and all(type(v) is float for v in got), got


# ============================================================ a GPT with a KV cache

class GPTBlock(nn.Module):
    def __init__(self, d: int, h: int):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: Tensor, cache: Optional[Tuple[Tensor, Tensor]] = None
                ) -> Tuple[Tensor, Tuple[Tensor, Tensor]]:
        B, T_, C = x.size()
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T_, self.h, C // self.h).transpose(1, 2)
        k = k.view(B, T_, self.h, C // self.h).transpose(1, 2)
        v = v.view(B, T_, self.h, C // self.h).transpose(1, 2)
        if cache is not None:
            pk, pv = cache
            k = torch.cat([pk, k], dim=2)
            v = torch.cat([pv, v], dim=2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        S = k.size(2)
        mask = torch.ones(T_, S).tril(diagonal=S - T_).to(torch.bool)
        att = att.masked_fill(~mask, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T_, C)
        x = x + self.proj(y)
        x = x + self.mlp(self.ln2(x))
        return x, (k, v)

class GPT(nn.Module):
    def __init__(self, vocab: int = 11, d: int = 8, h: int = 2, n: int = 2, ctx: int = 16):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([GPTBlock(d, h) for _ in range(n)])
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx: Tensor, past: Optional[List[Tuple[Tensor, Tensor]]] = None,
                start: int = 0):
        pos = torch.arange(start, start + idx.size(1), dtype=torch.long).unsqueeze(0)
        x = self.wte(idx) + self.wpe(pos)
        new: List[Tuple[Tensor, Tensor]] = []
        for i, blk in enumerate(self.blocks):
            c: Optional[Tuple[Tensor, Tensor]] = None
            if past is not None:
                c = past[i]
            x, kv = blk(x, c)
            new.append(kv)
        return self.head(self.ln(x)), new

    @torch.jit.export
    def generate(self, idx: Tensor, steps: int) -> Tensor:
        logits, past = self.forward(idx)
        out = idx
        for s in range(steps):
            nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            out = torch.cat([out, nxt], dim=1)
            logits, past = self.forward(nxt, past, out.size(1) - 1)
        return out


class Generator(nn.Module):
    def __init__(self, m: GPT):
        super().__init__()
        self.m = m

    def forward(self, idx):
        return self.m.generate(idx, 4)


class OptionalArgs(nn.Module):
    def forward(self, x, mask: Optional[Tensor] = None, scale: float = 2.0):
        if mask is not None:
            x = x * mask
        return x * scale


class CallsWithDefaults(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = OptionalArgs()

    def forward(self, x):
        return self.a(x) + self.a(x, scale=3.0) + self.a.forward(x, x)



def test_submodule_call_uses_parameter_defaults():
    check(CallsWithDefaults(), torch.ones(2))


def test_gpt_with_kv_cache_and_exported_generate():
    m = GPT().eval()
    idx = torch.tensor([[1, 2, 3]])
    check(m, idx)
    check(Generator(m), idx)


# ============================================================ everyday Python in scripted code

def fib_and_list_updates(n: int) -> Tuple[int, int, List[int]]:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    xs = [0] * 3
    xs[1] += 5
    xs[-1] -= 2
    return a, b, xs


def positions(words: List[str]) -> Dict[str, List[int]]:
    pos: Dict[str, List[int]] = {}
    for i, w in enumerate(words):
        pos.setdefault(w, []).append(i)
    return pos


def pop_and_sort_items(d: Dict[str, int]) -> Tuple[int, int, List[Tuple[str, int]]]:
    a = d.pop("a", -1)
    b = d.pop("zz", -1)
    return a, b, sorted(d.items())


def sort_pairs(xs: List[Tuple[int, str]]) -> List[str]:
    xs.sort()
    return [s for _, s in xs]


def sum_sorted_dict(m: Dict[str, Tensor]) -> Dict[str, Tensor]:
    items = list(m.items())
    items.sort(reverse=True)
    return {k: v.sum() for k, v in items}


def nested_defaults(groups: List[List[int]]) -> List[List[int]]:
    out: List[List[int]] = []
    for g in groups:
        out.append([])
        for x in g:
            if x % 2 == 0:
                out[-1].append(x)
    return out


def test_everyday_python_idioms():
    check(fib_and_list_updates, 10)
    check(positions, ["a", "b", "a"])
    got = torch.jit.script(pop_and_sort_items)({"a": 1, "c": 3, "b": 2})
    same(got, pop_and_sort_items({"a": 1, "c": 3, "b": 2}))
    same(torch.jit.script(sort_pairs)([(2, "b"), (1, "a")]), ["a", "b"])
    check(sum_sorted_dict, {"b": torch.ones(2), "a": torch.ones(3)})
    check(nested_defaults, [[1, 2, 4], [3]])


def for_else(xs: List[int]) -> int:
    for x in xs:
        if x < 0:
            break
    else:
        return -1
    return 1


def test_for_else_is_rejected_cleanly():
    rejects(for_else, "`for ... else`")


# ============================================================ torch.nn.functional calls

class FunctionalDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.p = 0.3

    def forward(self, x):
        return F.dropout(x, p=self.p, training=self.training) + F.dropout(x, self.p, False)


def activations(x: Tensor) -> List[Tensor]:
    return [F.gelu(x, approximate="tanh"), x.softmax(-1), torch.softmax(x, -1),
            F.softmax(x, dim=-1, dtype=torch.float64), F.leaky_relu(x, 0.1), F.elu(x),
            F.hardtanh(x), F.softplus(x), F.relu6(x), F.log_softmax(x, -1)]


def functional_calls(x: Tensor, w: Tensor, b: Tensor) -> List[Tensor]:
    return [F.embedding(torch.tensor([0, 2]), w), F.embedding(torch.tensor([1]), w, 0),
            torch.baddbmm(b, b, b), F.cosine_similarity(x, x.flip(0), dim=-1),
            F.linear(x, x), F.layer_norm(x, [4], eps=1e-3), F.mse_loss(x, x * 2),
            F.smooth_l1_loss(x, x * 0.5), F.l1_loss(x, x.flip(0), reduction="sum"),
            F.binary_cross_entropy_with_logits(x, torch.sigmoid(x)),
            F.nll_loss(F.log_softmax(x, 1), torch.tensor([0, 1, 3]))]


def test_functional_calls_bound_like_python():
    check(FunctionalDropout().eval(), torch.ones(3))
    check(activations, torch.randn(2, 3))
    check(functional_calls, torch.randn(3, 4), torch.randn(3, 4), torch.randn(2, 2, 2))


def dict_builtin(names: List[str], vals: List[int], pairs: List[Tuple[str, int]],
                 d: Dict[str, int]) -> Tuple[Dict[str, int], Dict[str, int], Dict[str, int], int]:
    a = dict(zip(names, vals))
    b = dict(pairs)
    c = dict(d)
    c["new"] = 1
    return a, b, c, len(d)


def test_dict_builtin_from_pairs_zip_and_dict():
    check(dict_builtin, ["a", "b"], [1, 2], [("x", 3), ("x", 4)], {"q": 1})


# ============================================================ LLaMA-style layers

class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))
    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * self.weight

class Rotary(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
        self.register_buffer("inv_freq", inv, persistent=False)
        self.register_buffer("cache", None)
    def forward(self, x):
        t = torch.arange(x.size(-2), dtype=self.inv_freq.dtype)
        freqs = torch.outer(t, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        x1, x2 = x[..., : x.size(-1) // 2], x[..., x.size(-1) // 2 :]
        rot = torch.cat((-x2, x1), dim=-1)
        return x * emb.cos() + rot * emb.sin()

class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.alpha = nn.Parameter(torch.tensor(0.5))
        self.layers = nn.ModuleList([RMSNorm(4), RMSNorm(4)])
    def forward(self, x):
        for l in self.layers:
            x = l(x) * self.alpha
        return x

class Swiglu(nn.Module):
    def __init__(self, d: int, h: int):
        super().__init__()
        self.w1 = nn.Linear(d, h, bias=False)
        self.w2 = nn.Linear(h, d, bias=False)
        self.w3 = nn.Linear(d, h, bias=False)
    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def test_llama_style_rmsnorm_rotary_swiglu():
    check(RMSNorm(4), torch.randn(2, 4))
    check(Rotary(4), torch.randn(1, 3, 4))
    check(Scale(), torch.randn(2, 4))
    check(Swiglu(4, 6), torch.randn(2, 4))


# ============================================================ character-level text

def char_ids(s: str) -> List[int]:
    return [ord(c) - ord("a") for c in s.lower() if c.isalpha()]


def from_ids(ids: List[int]) -> str:
    return "".join([chr(i + ord("a")) for i in ids])


def str_methods_more(s: str) -> Tuple[int, str, str, int, bool, bool, str, str, str, bool]:
    return (s.count("a"), s.title(), s.capitalize(), s.rfind("a"), s.isupper(),
            s.islower(), s.zfill(12), s.center(12, "*"), s.rjust(10), s.isalnum())


def test_char_level_tokenizer_and_str_methods():
    check(char_ids, "Hi, there!")
    check(from_ids, [7, 8])
    check(str_methods_more, "aab Cd a")


# ============================================================ globals and closures

LABELS = ["neg", "neu", "pos"]
THRESHOLDS = {"low": 0.2, "high": 0.8}
SHAPE = (2, 3)


def label_of(scores: Tensor) -> Tuple[str, float, int]:
    return LABELS[int(scores.argmax())], THRESHOLDS["high"], SHAPE[0] * SHAPE[1]


def make_scaler(k: int, names: List[str]):
    def scaler(x: Tensor) -> Tensor:
        return x * k + len(names)
    return scaler


def test_global_tables_and_closure_values_are_refused():
    # torch 2.13 resolves a global / closed-over name to functions, classes and modules
    # only: "python value of type 'list' cannot be used as a value. Perhaps it is a
    # closed over global variable? ..." (session 35)
    rejects(label_of, "python value of type 'list' cannot be used as a value",
            "closed over global variable")
    rejects(make_scaler(3, ["a", "b"]), "python value of type 'int' cannot be used")


class DoubledLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x) * 2


def test_subclass_of_a_layer_calls_super_forward():
    check(DoubledLinear(2, 2), torch.ones(1, 2))


def _checked_double(x):
    torch._assert(x.dim() == 2, "expected a 2-D input")
    torch._assert(x.sum() > 0, "expected a positive sum")
    return x * 2


def test_torch_assert_eager_and_scripted():
    """torch._assert (torchvision's shape checks): a bool or a Tensor condition, eager and
    scripted ('gpujit has no function _assert' before)."""
    import pytest
    s = torch.jit.script(_checked_double)
    for f in (_checked_double, s):
        assert f(torch.ones(2, 2)).tolist() == [[2.0, 2.0], [2.0, 2.0]]
        with pytest.raises(AssertionError, match="expected a 2-D input"):
            f(torch.ones(3))
        with pytest.raises(AssertionError, match="expected a positive sum"):
            f(-torch.ones(2, 2))
