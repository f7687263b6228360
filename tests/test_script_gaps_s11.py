"""Scripting gaps TorchScript users hit (session 11): a bool used as a number, tuple * int,
nn.utils.rnn.pad_sequence / pack_padded_sequence / pad_packed_sequence in scripted code,
scripted RNN layers fed a PackedSequence (TorchScript's forward overloads), and small
tutorial models scripted against eager and torch.jit.script."""
import sys
from typing import List, Tuple

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit import nn
from gpujit.nn.utils.rnn import PackedSequence

script = gpujit.jit.script


# ---------------------------------------------------------------- a bool as a number

def test_tensor_op_bool_converts_to_int():
    def sub(x: torch.Tensor, flag: bool):
        return x - flag

    def mul(x: torch.Tensor, flag: bool):
        return x * flag

    def add(x: torch.Tensor, flag: bool):
        return x + flag

    def mul_lit(x: torch.Tensor):
        return x * True

    b = torch.tensor([True, False])
    i = torch.tensor([1, 2])
    f = torch.tensor([1.0, 2.0])
    r = script(mul)(b, True)                      # TorchScript: mul(x, Int(flag)): int64
    assert r.dtype == torch.int64 and r.tolist() == [1, 0]
    r = script(mul_lit)(b)
    assert r.dtype == torch.int64 and r.tolist() == [1, 0]
    r = script(add)(b, True)
    assert r.dtype == torch.int64 and r.tolist() == [2, 1]
    r = script(sub)(i, True)
    assert r.dtype == torch.int64 and r.tolist() == [0, 1]
    r = script(sub)(f, True)
    assert r.dtype == torch.float32 and r.tolist() == [0.0, 1.0]
    assert (b * True).dtype == torch.bool         # eager keeps bool, as PyTorch's eager


def test_function_scalar_argument_bool_converts():
    def full(flag: bool):
        return torch.full([2], flag)

    def where(x: torch.Tensor, flag: bool):
        return torch.where(x > 0, x, flag)

    def fill(x: torch.Tensor, flag: bool):
        return x.masked_fill(x > 1, flag)

    r = script(full)(True)
    assert r.dtype == torch.int64 and r.tolist() == [1, 1]
    r = script(where)(torch.tensor([-1, 2]), True)
    assert r.dtype == torch.int64 and r.tolist() == [1, 2]
    r = script(fill)(torch.tensor([1.0, 2.0]), True)
    assert r.dtype == torch.float32 and r.tolist() == [1.0, 1.0]


def test_python_number_ops_with_bools():
    def f(a: bool, b: bool, n: int, x: float) -> Tuple[int, int, int, float, int, float,
                                                        bool, bool, int]:
        return (a + b, n - a, n // a, x * a, -a, a / x, a & b, a | b, n ^ a)

    assert script(f)(True, False, 7, 2.5) == (1, 6, 7, 2.5, -1, 0.4, False, True, 6)


def test_bool_stays_bool_where_a_bool_overload_exists():
    def f(flag: bool):
        return torch.tensor(flag)

    assert script(f)(True).dtype == torch.bool


# ---------------------------------------------------------------- tuple * int

def test_tuple_times_int_is_a_list():
    def f(t: Tuple[int, int], n: int) -> List[int]:
        return t * n

    def g(t: Tuple[int]) -> List[int]:
        return 2 * t

    def h(t: Tuple[torch.Tensor, torch.Tensor]) -> List[torch.Tensor]:
        return t * 2

    def lst(xs: List[int], flag: bool) -> List[int]:
        return xs * flag

    assert script(f)((3, 4), 2) == [3, 4, 3, 4]
    assert script(f)((3, 4), 0) == []
    assert script(g)((3,)) == [3, 3]
    out = script(h)((torch.ones(1), torch.zeros(1)))
    assert [float(v) for v in out] == [1.0, 0.0, 1.0, 0.0]
    assert script(lst)([5], True) == [5] and script(lst)([5], False) == []


def test_mixed_tuple_times_int_is_refused():
    def f(t: Tuple[int, float]):
        return t * 2

    with pytest.raises(gpujit.jit.FrontendError, match="one type"):
        script(f)


# ---------------------------------------------------------------- nn.utils.rnn in scripts

def _pad_ref(seqs, batch_first, value, side):
    T = max(len(s) for s in seqs)
    out = np.full((len(seqs), T) + seqs[0].shape[1:], value, dtype=seqs[0].dtype)
    for k, s in enumerate(seqs):
        if side == "right":
            out[k, :len(s)] = s
        else:
            out[k, T - len(s):] = s
    return out if batch_first else out.swapaxes(0, 1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_scripted_pad_sequence(batch_first, side):
    def f(seqs: List[torch.Tensor], batch_first: bool, side: str) -> torch.Tensor:
        return torch.nn.utils.rnn.pad_sequence(seqs, batch_first=batch_first,
                                               padding_value=-1.5, padding_side=side)

    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal((n, 2)).astype(np.float32) for n in (3, 1, 4)]
    out = script(f)([torch.tensor(a) for a in arrs], batch_first, side)
    np.testing.assert_array_equal(out.numpy(), _pad_ref(arrs, batch_first, -1.5, side))


def test_scripted_pad_sequence_errors():
    def f(seqs: List[torch.Tensor]) -> torch.Tensor:
        return torch.nn.utils.rnn.pad_sequence(seqs)

    def g(x: torch.Tensor) -> torch.Tensor:
        return torch.nn.utils.rnn.pad_sequence(x, padding_side="middle")

    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        script(f)([])
    with pytest.raises(ValueError, match="one of left or right, but got middle"):
        script(g)(torch.ones(2, 3))
    x = torch.arange(6.0).reshape(2, 3)            # a Tensor: its rows are the sequences
    assert torch.nn.utils.rnn.pad_sequence(x).tolist() == [[0.0, 3.0], [1.0, 4.0],
                                                           [2.0, 5.0]]


def test_scripted_pack_and_pad_roundtrip():
    def f(x: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor,
                                                           torch.Tensor]:
        p = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                    enforce_sorted=False)
        y, lens = torch.nn.utils.rnn.pad_packed_sequence(p, batch_first=True,
                                                         total_length=6)
        return p.data, y, lens

    x = torch.tensor(np.arange(24, dtype=np.float32).reshape(3, 4, 2))
    lengths = torch.tensor([2, 4, 1])
    data, y, lens = script(f)(x, lengths)
    ref = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                  enforce_sorted=False)
    np.testing.assert_array_equal(data.numpy(), ref.data.numpy())
    want = np.zeros((3, 6, 2), np.float32)
    for k, n in enumerate([2, 4, 1]):
        want[k, :n] = x.numpy()[k, :n]
    np.testing.assert_array_equal(y.numpy(), want)
    assert lens.tolist() == [2, 4, 1]


def test_scripted_function_returns_packed_sequence():
    def f(x: torch.Tensor, lengths: List[int]):
        return torch.nn.utils.rnn.pack_padded_sequence(x, lengths)

    p = script(f)(torch.ones(3, 2, 1), [3, 2])
    assert isinstance(p, PackedSequence)
    assert p.batch_sizes.tolist() == [2, 2, 1] and p.sorted_indices is None


def test_scripted_pack_errors():
    def f(x: torch.Tensor, lengths: List[int]):
        return torch.nn.utils.rnn.pack_padded_sequence(x, lengths)

    s = script(f)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        s(torch.ones(3, 2, 1), [2, 3])
    with pytest.raises(RuntimeError, match="Expected `len\\(lengths\\)` to be equal"):
        s(torch.ones(3, 2, 1), [3])


# ---------------------------------------------------------------- packed input to layers

class _Packed(nn.Module):
    def __init__(self, kind, bidirectional, num_layers):
        super().__init__()
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        self.kind = kind
        self.rnn = cls(3, 4, num_layers=num_layers, batch_first=True,
                       bidirectional=bidirectional)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor,
                                                                       torch.Tensor]:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                         enforce_sorted=False)
        out, h = self.rnn(packed)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        return y, h[0] if isinstance(h, tuple) else h


class _LSTMState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, proj_size=2)

    def forward(self, x: torch.Tensor, lengths: List[int], h0: torch.Tensor,
                c0: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths)
        out, (h, c) = self.lstm(packed, (h0, c0))
        return out.data, h, c


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional,num_layers", [(False, 1), (True, 2)])
def test_scripted_layer_takes_packed_sequence(kind, bidirectional, num_layers):
    gpujit.manual_seed(0)
    m = _Packed(kind, bidirectional, num_layers)
    s = script(m)
    x = torch.randn(3, 5, 3)
    lengths = torch.tensor([2, 5, 3])
    ey, eh = m(x, lengths)
    sy, sh = s(x, lengths)
    np.testing.assert_allclose(sy.detach().numpy(), ey.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(sh.detach().numpy(), eh.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert np.all(sy.detach().numpy()[0, 2:] == 0)     # padded past each length
    assert s.rnn(x)[0].shape[:2] == (3, 5)             # the Tensor forward still works


def test_scripted_lstm_packed_with_initial_state():
    gpujit.manual_seed(1)
    m = _LSTMState()
    s = script(m)
    x, h0, c0 = torch.randn(4, 2, 3), torch.randn(1, 2, 2), torch.randn(1, 2, 4)
    for a, b in zip(m(x, [4, 3], h0, c0), s(x, [4, 3], h0, c0)):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_scripted_packed_backward():
    gpujit.manual_seed(2)
    m = _Packed("gru", False, 1)
    s = script(m)
    x = torch.randn(2, 4, 3, requires_grad=True)
    y, h = s(x, torch.tensor([4, 2]))
    (y.sum() + h.sum()).backward()
    g = x.grad.numpy()
    assert np.all(g[1, 2:] == 0) and np.any(g[1, :2] != 0)


# ---------------------------------------------------------------- the torch oracle

def _to_torch(torch_, v):
    return torch_.tensor(v.detach().numpy()) if isinstance(v, gpujit.Tensor) else v


def _from_torch(v):
    import torch as torch_
    return gpujit.tensor(v.detach().numpy()) if isinstance(v, torch_.Tensor) else v


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [y for x in o for y in _flat(x)]
    return [o]


def _torch_version_of(kind, bidirectional, num_layers):
    import torch as torch_

    class P(torch_.nn.Module):
        def __init__(self):
            super().__init__()
            cls = {"lstm": torch_.nn.LSTM, "gru": torch_.nn.GRU, "rnn": torch_.nn.RNN}[kind]
            self.rnn = cls(3, 4, num_layers=num_layers, batch_first=True,
                           bidirectional=bidirectional)

        def forward(self, x: torch_.Tensor, lengths: torch_.Tensor):
            packed = torch_.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                              enforce_sorted=False)
            out, h = self.rnn(packed)
            y, _ = torch_.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
            return y, h[0] if isinstance(h, tuple) else h
    return P()


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_packed_layers_match_torch_jit_script(kind):
    torch_ = pytest.importorskip("torch")
    tm = _torch_version_of(kind, True, 2)
    gm = _Packed(kind, True, 2)
    gm.load_state_dict({k: _from_torch(v) for k, v in tm.state_dict().items()})
    x = torch_.randn(3, 5, 3)
    lengths = torch_.tensor([2, 5, 3])
    want = torch_.jit.script(tm)(x, lengths)
    got = script(gm)(_from_torch(x), _from_torch(lengths))
    for a, b in zip(_flat(want), _flat(got)):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_bool_arithmetic_matches_torch_jit_script():
    torch_ = pytest.importorskip("torch")
    import importlib.util
    import pathlib
    import tempfile
    src = "def f(x: torch.Tensor, flag: bool, n: int):\n" \
          "    return x * flag, x + flag, n // flag, -flag, torch.full([2], flag), 2.5 * flag\n"
    outs = []
    for mod, name in ((torch_, "torch"), (gpujit, "gpujit")):
        d = tempfile.mkdtemp()
        path = pathlib.Path(d) / f"s11_bool_{name}.py"
        path.write_text(f"import {name} as torch\n" + src)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        m = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = m
        spec.loader.exec_module(m)
        x = mod.tensor([True, False]) if name == "torch" else gpujit.tensor([True, False])
        outs.append(mod.jit.script(m.f)(x, True, 5))
    for a, b in zip(*outs):
        if isinstance(a, (int, float)):
            assert a == b and type(a) is type(b)
        else:
            assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
            assert a.tolist() == b.tolist()


_MODELS_SRC = 'import math\nfrom typing import Optional\n' + """\

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.gru = nn.GRU(8, 8)

    def forward(self, input: torch.Tensor, hidden: torch.Tensor):
        output = self.embedding(input).view(1, 1, -1)
        output, hidden = self.gru(output, hidden)
        return output, hidden

class AttnDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.attn = nn.Linear(16, 10)
        self.attn_combine = nn.Linear(16, 8)
        self.dropout = nn.Dropout(0.1)
        self.gru = nn.GRU(8, 8)
        self.out = nn.Linear(8, 20)

    def forward(self, input: torch.Tensor, hidden: torch.Tensor, encoder_outputs: torch.Tensor):
        embedded = self.dropout(self.embedding(input).view(1, 1, -1))
        attn_weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        attn_applied = torch.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))
        output = torch.cat((embedded[0], attn_applied[0]), 1)
        output = F.relu(self.attn_combine(output).unsqueeze(0))
        output, hidden = self.gru(output, hidden)
        return F.log_softmax(self.out(output[0]), dim=1), hidden, attn_weights

class LSTMClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(30, 6, padding_idx=0)
        self.lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True,
                             dropout=0.2)
        self.fc = nn.Linear(10, 3)
        self.dropout = nn.Dropout(0.5)

    def forward(self, text: torch.Tensor, lengths: torch.Tensor):
        embedded = self.dropout(self.embedding(text))
        packed = torch.nn.utils.rnn.pack_padded_sequence(embedded, lengths,
                                                     batch_first=True,
                                                     enforce_sorted=False)
        _, (hidden, cell) = self.lstm(packed)
        hidden = self.dropout(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1))
        return self.fc(hidden)

class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3)
        self.bn2 = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.25)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.drop(F.relu(self.fc1(torch.flatten(x, 1))))
        return F.log_softmax(self.fc2(x), dim=1)

class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, max_len: int = 50):
        super().__init__()
        self.dropout = nn.Dropout(p=0.1)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.pe[:x.size(0)])

class TransformerClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.d_model = 8
        self.embedding = nn.Embedding(30, 8)
        self.pos_encoder = PositionalEncoding(8)
        layer = nn.TransformerEncoderLayer(8, 2, 16, 0.1)
        self.transformer_encoder = nn.TransformerEncoder(layer, 2,
                                                          enable_nested_tensor=False)
        self.classifier = nn.Linear(8, 3)

    def forward(self, src: torch.Tensor, src_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        src = self.pos_encoder(self.embedding(src) * math.sqrt(self.d_model))
        output = self.transformer_encoder(src, src_mask)
        return self.classifier(output.mean(dim=0))

MODELS = {"Encoder": Encoder, "AttnDecoder": AttnDecoder,
        "LSTMClassifier": LSTMClassifier, "CNN": CNN,
        "TransformerClassifier": TransformerClassifier}
"""


def _tutorial_models(name, tmp_path):
    """The models' source written to a module that imports `name` as torch (TorchScript
    resolves annotations by the module's globals)."""
    import importlib.util
    path = tmp_path / f"s11_models_{name}.py"
    path.write_text(f"import {name} as torch\nfrom {name} import nn\n"
                    f"import {name}.nn.functional as F\n" + _MODELS_SRC)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    m = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = m
    spec.loader.exec_module(m)
    return m.MODELS


def _tutorial_inputs(t, name):
    g = t.Generator().manual_seed(3)
    return {
        "Encoder": lambda: (t.tensor([3]), t.randn(1, 1, 8, generator=g)),
        "AttnDecoder": lambda: (t.tensor([[4]]), t.randn(1, 1, 8, generator=g),
                                t.randn(10, 8, generator=g)),
        "LSTMClassifier": lambda: (t.randint(1, 30, (4, 7), generator=g),
                                   t.tensor([7, 3, 5, 1])),
        "CNN": lambda: (t.randn(3, 1, 12, 12, generator=g),),
        "TransformerClassifier": lambda: (t.randint(0, 30, (6, 2), generator=g),),
    }[name]()


@pytest.mark.parametrize("name", ["Encoder", "AttnDecoder", "LSTMClassifier", "CNN",
                                  "TransformerClassifier"])
def test_tutorial_models_script_like_torch(name, tmp_path):
    torch_ = pytest.importorskip("torch")
    tm = _tutorial_models("torch", tmp_path)[name]()
    gm = _tutorial_models("gpujit", tmp_path)[name]()
    gm.load_state_dict({k: _from_torch(v) for k, v in tm.state_dict().items()})
    tm.eval()
    gm.eval()
    args = _tutorial_inputs(torch_, name)
    want_eager = tm(*args)
    want_script = torch_.jit.script(tm)(*args)
    sm = script(gm)
    got = sm(*[_from_torch(a) for a in args])
    eager = gm(*[_from_torch(a) for a in args])
    for w, ws, g, e in zip(_flat(want_eager), _flat(want_script), _flat(got), _flat(eager)):
        np.testing.assert_allclose(ws.detach().numpy(), w.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-4,
                                   atol=1e-5)
        np.testing.assert_allclose(e.detach().numpy(), w.detach().numpy(), rtol=1e-4,
                                   atol=1e-5)
    sm.train()                                     # dropout paths compile and run
    out = _flat(sm(*[_from_torch(a) for a in args]))
    assert all(np.isfinite(o.detach().numpy()).all() for o in out)
