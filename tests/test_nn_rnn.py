"""nn.RNN / nn.LSTM / nn.GRU and nn.utils.rnn (packed sequences): PyTorch's equations
checked against a NumPy reference (layers, directions, proj_size, batch_first, unbatched),
parameters, checks and messages, dropout between layers, gradients (finite differences in
float64), scripting and tracing; with torch installed, torch 2.13 is the oracle for
state_dict loading, packed input and error messages."""
import warnings
from typing import Optional, Tuple

import numpy as np
import pytest

import gpujit as torch
from gpujit.nn.utils import rnn as rnn_utils

nn = torch.nn


def _np(t):
    return t.detach().numpy().astype(np.float64)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _ref(m, x, h0=None, c0=None):
    """NumPy forward of an RNN / GRU / LSTM module m on time-major x (L, N, H_in)."""
    D = 2 if m.bidirectional else 1
    H, P = m.hidden_size, m.proj_size or m.hidden_size
    N = x.shape[1]
    h0 = np.zeros((m.num_layers * D, N, P)) if h0 is None else h0
    c0 = np.zeros((m.num_layers * D, N, H)) if c0 is None else c0
    hn, cn = [], []
    for layer in range(m.num_layers):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = _np(getattr(m, "weight_ih" + sfx)), _np(getattr(m, "weight_hh" + sfx))
            b_ih = _np(getattr(m, "bias_ih" + sfx)) if m.bias else 0
            b_hh = _np(getattr(m, "bias_hh" + sfx)) if m.bias else 0
            h, c = h0[layer * D + d], c0[layer * D + d]
            out = [None] * x.shape[0]
            for t in (range(x.shape[0]) if d == 0 else reversed(range(x.shape[0]))):
                gi, gh = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
                if m.mode == "LSTM":
                    i, f, g, o = np.split(gi + gh, 4, -1)
                    c = _sig(f) * c + _sig(i) * np.tanh(g)
                    h = _sig(o) * np.tanh(c)
                    if m.proj_size:
                        h = h @ _np(getattr(m, "weight_hr" + sfx)).T
                elif m.mode == "GRU":
                    (ir, iz, i_n), (hr, hz, h_n) = np.split(gi, 3, -1), np.split(gh, 3, -1)
                    r, z = _sig(ir + hr), _sig(iz + hz)
                    h = (1 - z) * np.tanh(i_n + r * h_n) + z * h
                else:
                    h = np.tanh(gi + gh) if m.mode == "RNN_TANH" else np.maximum(gi + gh, 0)
                out[t] = h
            outs.append(np.stack(out))
            hn.append(h)
            cn.append(c)
        x = np.concatenate(outs, -1)
    return x, np.stack(hn), np.stack(cn)


CONFIGS = [
    (nn.RNN, {}),
    (nn.RNN, dict(nonlinearity="relu", num_layers=2, bidirectional=True, bias=False)),
    (nn.GRU, dict(num_layers=2, bidirectional=True)),
    (nn.GRU, dict(batch_first=True)),
    (nn.LSTM, dict(num_layers=2, bidirectional=True)),
    (nn.LSTM, dict(proj_size=2, num_layers=2, batch_first=True, bias=False)),
    (nn.LSTM, dict(proj_size=3, bidirectional=True)),
]


@pytest.mark.parametrize("cls,kw", CONFIGS)
def test_layers_match_numpy(cls, kw):
    torch.manual_seed(0)
    m = cls(4, 5, **kw)
    x = torch.rand(6, 3, 4)
    X = _np(x)
    bf = m.batch_first
    D = 2 if m.bidirectional else 1
    P = m.proj_size or 5
    h0 = torch.rand(m.num_layers * D, 3, P)
    c0 = torch.rand(m.num_layers * D, 3, 5)
    inp = x.transpose(0, 1) if bf else x
    if cls is nn.LSTM:
        out, (hn, cn) = m(inp, (h0, c0))
        ro, rh, rc = _ref(m, X, _np(h0), _np(c0))
        np.testing.assert_allclose(_np(cn), rc, rtol=1e-5, atol=1e-6)
    else:
        out, hn = m(inp, h0)
        ro, rh, _ = _ref(m, X, _np(h0))
    if bf:
        out = out.transpose(0, 1)
    assert out.shape == (6, 3, D * P) and hn.shape == (m.num_layers * D, 3, P)
    np.testing.assert_allclose(_np(out), ro, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(hn), rh, rtol=1e-5, atol=1e-6)
    # no initial state: zeros
    res = m(inp)
    ro, rh, _ = _ref(m, X)
    out = res[0].transpose(0, 1) if bf else res[0]
    np.testing.assert_allclose(_np(out), ro, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(batch_first):
    torch.manual_seed(1)
    lstm = nn.LSTM(3, 4, num_layers=2, batch_first=batch_first, proj_size=2)
    x, h0, c0 = torch.rand(5, 3), torch.rand(2, 2), torch.rand(2, 4)
    out, (h, c) = lstm(x, (h0, c0))
    ro, rh, rc = _ref(lstm, _np(x)[:, None], _np(h0)[:, None], _np(c0)[:, None])
    assert out.shape == (5, 2) and h.shape == (2, 2) and c.shape == (2, 4)
    np.testing.assert_allclose(_np(out), ro[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(c), rc[:, 0], rtol=1e-5, atol=1e-6)
    gru = nn.GRU(3, 4, batch_first=batch_first)
    out, h = gru(x)
    assert out.shape == (5, 4) and h.shape == (1, 4)
    np.testing.assert_allclose(_np(out), _ref(gru, _np(x)[:, None])[0][:, 0], rtol=1e-5,
                               atol=1e-6)


def test_parameters_names_shapes_init():
    torch.manual_seed(2)
    m = nn.LSTM(3, 16, num_layers=2, bidirectional=True, proj_size=4)
    names = [n for n, _ in m.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                         "weight_hr_l0"]
    assert names[5] == "weight_ih_l0_reverse" and len(names) == 20
    assert m.weight_ih_l0.shape == (64, 3) and m.weight_hh_l0.shape == (64, 4)
    assert m.weight_ih_l1.shape == (64, 8) and m.weight_hr_l1_reverse.shape == (4, 16)
    assert m._flat_weights_names == names
    assert all(a is b for a, b in zip(m._flat_weights, m.parameters()))
    assert [len(ws) for ws in m.all_weights] == [5] * 4
    assert m.all_weights[1][0] is m.weight_ih_l0_reverse
    for p in m.parameters():
        assert float(p.abs().max()) <= 0.25 and float(p.abs().max()) > 0.2
    g = nn.GRU(2, 3, bias=False)
    assert [n for n, _ in g.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert g.weight_ih_l0.shape == (9, 2)
    assert repr(m) == "LSTM(3, 16, proj_size=4, num_layers=2, bidirectional=True)"
    assert repr(nn.RNN(2, 3, nonlinearity="relu", dropout=0.5, num_layers=2, bias=False,
                       batch_first=True)) == \
        "RNN(2, 3, num_layers=2, bias=False, batch_first=True, dropout=0.5)"
    # reassigning a weight, and .double(), keep _flat_weights current
    g.weight_hh_l0 = nn.Parameter(torch.zeros(9, 3))
    assert g._flat_weights[1] is g.weight_hh_l0
    g.double()
    assert g._flat_weights[0].dtype == torch.float64
    out, h = g(torch.rand(2, 1, 2, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_constructor_checks():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(2, 3, proj_size=1)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(2, 3, proj_size=3)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(2, 3, dropout=1.5)
    with pytest.raises(TypeError, match="hidden_size should be of type int, got: float"):
        nn.GRU(2, 3.0)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.RNN(2, 3, 0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than "
                                         "1, but got dropout=0.3 and num_layers=1"):
        nn.GRU(2, 3, dropout=0.3)


def test_forward_checks():
    lstm, rnn = nn.LSTM(4, 5, num_layers=2), nn.RNN(4, 5)
    x = torch.rand(3, 2, 4)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D"):
        lstm(torch.rand(1, 3, 2, 4))
    with pytest.raises(RuntimeError, match=r"input.size\(-1\) must be equal to input_size. "
                                           r"Expected 4, got 3"):
        rnn(torch.rand(3, 2, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 5\), got \[1, 3, 5\]"):
        rnn(x, torch.zeros(1, 3, 5))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D"):
        rnn(x, torch.zeros(2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(2, 2, 5\), got "
                                           r"\[1, 2, 5\]"):
        lstm(x, (torch.zeros(2, 2, 5), torch.zeros(1, 2, 5)))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx and cx should also "
                                           r"be 2-D but got \(3-D, 2-D\) tensors"):
        lstm(torch.rand(3, 4), (torch.zeros(2, 1, 5), torch.zeros(2, 5)))
    with pytest.raises(ValueError, match=r"RNN input dtype \(\w+.float64\) does not match "
                                         r"weight dtype \(\w+.float32\)"):
        rnn(x.double())


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(3)
    m = nn.GRU(3, 4, num_layers=2, dropout=1.0)
    x = torch.rand(4, 2, 3)
    m.eval()
    np.testing.assert_allclose(_np(m(x)[0]), _ref(m, _np(x))[0], rtol=1e-5, atol=1e-6)
    m.train()
    out = m(x)[0]
    # dropout=1 zeroes the first layer's output: layer 2 sees zeros
    m2 = nn.GRU(4, 4)
    with torch.no_grad():
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(m2, n + "_l0").copy_(getattr(m, n + "_l1"))
    ref2 = _ref(m2, np.zeros((4, 2, 4)))[0]
    np.testing.assert_allclose(_np(out), ref2, rtol=1e-5, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.2)


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_gradients_match_finite_differences(cls):
    torch.manual_seed(4)
    kw = dict(proj_size=2) if cls is nn.LSTM else {}
    m = cls(2, 3, bidirectional=True, dtype=torch.float64, **kw)
    x = torch.rand(3, 2, 2, dtype=torch.float64, requires_grad=True)
    out = m(x)[0]
    w = np.random.RandomState(0).rand(*out.shape)
    (out * torch.tensor(w)).sum().backward()
    X, eps = _np(x), 1e-6

    def f(Xv):
        return float((_ref(m, Xv)[0] * w).sum())
    num = np.zeros_like(X)
    for idx in np.ndindex(*X.shape):
        d = np.zeros_like(X)
        d[idx] = eps
        num[idx] = (f(X + d) - f(X - d)) / (2 * eps)
    np.testing.assert_allclose(_np(x.grad), num, rtol=1e-5, atol=1e-8)
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in m.parameters())


def test_packed_sequence_utils():
    seqs = [torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[4.0]]),
            torch.tensor([[5.0], [6.0]])]
    padded = rnn_utils.pad_sequence(seqs)
    assert padded.shape == (3, 3, 1)
    np.testing.assert_array_equal(_np(padded)[:, :, 0], [[1, 4, 5], [2, 0, 6], [3, 0, 0]])
    left = rnn_utils.pad_sequence(seqs, batch_first=True, padding_value=-1,
                                  padding_side="left")
    np.testing.assert_array_equal(_np(left)[:, :, 0], [[1, 2, 3], [-1, -1, 4], [-1, 5, 6]])
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn_utils.pack_sequence(seqs)
    p = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    assert isinstance(p, rnn_utils.PackedSequence) and isinstance(p, tuple)
    np.testing.assert_array_equal(_np(p.data)[:, 0], [1, 5, 4, 2, 6, 3])
    assert p.batch_sizes.tolist() == [3, 2, 1] and p.batch_sizes.dtype == torch.int64
    assert p.sorted_indices.tolist() == [0, 2, 1] and p.unsorted_indices.tolist() == [0, 2, 1]
    pad, lengths = rnn_utils.pad_packed_sequence(p, batch_first=True, total_length=4)
    assert lengths.tolist() == [3, 1, 2] and pad.shape == (3, 4, 1)
    np.testing.assert_array_equal(_np(pad)[:, :, 0], [[1, 2, 3, 0], [4, 0, 0, 0],
                                                      [5, 6, 0, 0]])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        rnn_utils.pad_packed_sequence(p, total_length=2)
    assert [s.shape[0] for s in rnn_utils.unpack_sequence(p)] == [3, 1, 2]
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        rnn_utils.pack_padded_sequence(padded, [3, 1, 0])
    assert nn.utils.rnn.PackedSequence is rnn_utils.PackedSequence


@pytest.mark.parametrize("cls", [nn.RNN, nn.GRU, nn.LSTM])
def test_packed_input_matches_per_sequence_runs(cls):
    torch.manual_seed(5)
    m = cls(2, 3, num_layers=2, bidirectional=True)
    lens = [2, 4, 1]
    x = torch.rand(4, 3, 2, requires_grad=True)
    p = rnn_utils.pack_padded_sequence(x, torch.tensor(lens), enforce_sorted=False)
    out, h = m(p)
    assert isinstance(out, rnn_utils.PackedSequence)
    pad, got_lens = rnn_utils.pad_packed_sequence(out)
    assert got_lens.tolist() == lens
    hn = h[0] if cls is nn.LSTM else h
    for b, n in enumerate(lens):     # each sequence alone, unpadded
        ro, rh, rc = _ref(m, _np(x)[:n, b:b + 1])
        np.testing.assert_allclose(_np(pad)[:n, b], ro[:, 0], rtol=1e-5, atol=1e-6)
        assert not _np(pad)[n:, b].any()
        np.testing.assert_allclose(_np(hn)[:, b], rh[:, 0], rtol=1e-5, atol=1e-6)
        if cls is nn.LSTM:
            np.testing.assert_allclose(_np(h[1])[:, b], rc[:, 0], rtol=1e-5, atol=1e-6)
    pad.sum().backward()
    assert x.grad is not None and not _np(x.grad)[lens[0]:, 0].any()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
        self.gru = nn.GRU(6, 5, batch_first=True)
        self.rnn = nn.RNN(4, 2, nonlinearity="relu")

    def forward(self, x, state: Optional[Tuple[torch.Tensor, torch.Tensor]] = None):
        y, (h, c) = self.lstm(x, state)
        z, hg = self.gru(y.transpose(0, 1))
        r, hr = self.rnn(x[0])
        return z.sum(2) + hg.sum() + c.sum() + h.mean() + r.sum()


def test_scripted_and_traced_match_eager_and_train():
    torch.manual_seed(6)
    m = Net()
    x = torch.rand(5, 2, 4)
    st = (torch.rand(4, 2, 3), torch.rand(4, 2, 6))
    s = torch.jit.script(m)
    for args in ((x,), (x, st)):
        np.testing.assert_allclose(_np(s(*args)), _np(m(*args)), rtol=1e-5, atol=1e-6)
    s(x, st).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size"):
        s(x, (torch.rand(4, 3, 3), torch.rand(4, 2, 6)))
    t = torch.jit.trace(m, (x,))
    np.testing.assert_allclose(_np(t(x)), _np(m(x)), rtol=1e-5, atol=1e-6)


def _torch_copy(tm):
    m = getattr(nn, type(tm).__name__)(tm.input_size, tm.hidden_size, num_layers=tm.num_layers,
                                       bias=tm.bias, batch_first=tm.batch_first,
                                       bidirectional=tm.bidirectional,
                                       **({"proj_size": tm.proj_size}
                                          if type(tm).__name__ == "LSTM" else
                                          {"nonlinearity": tm.nonlinearity}
                                          if type(tm).__name__ == "RNN" else {}))
    m.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return m


@pytest.mark.parametrize("name,kw", [
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    ("GRU", dict(num_layers=3, batch_first=True, bidirectional=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
    ("LSTM", dict(bias=False, batch_first=True)),
])
def test_torch_state_dict_outputs_and_grads(name, kw):
    T = pytest.importorskip("torch")
    T.manual_seed(0)
    tm = getattr(T.nn, name)(3, 4, **kw).double()
    m = _torch_copy(tm).double()
    xs = np.random.RandomState(1).rand(*((2, 5, 3) if tm.batch_first else (5, 2, 3)))
    tx, gx = T.tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
    lens = [5, 3]
    for packed in (False, True):
        if packed:
            ti = T.nn.utils.rnn.pack_padded_sequence(tx, lens, batch_first=tm.batch_first)
            gi = rnn_utils.pack_padded_sequence(gx, lens, batch_first=m.batch_first)
        else:
            ti, gi = tx, gx
        to, th = tm(ti)
        go, gh = m(gi)
        if packed:
            to, go = to.data, go.data
        np.testing.assert_allclose(_np(go), to.detach().numpy(), rtol=1e-10, atol=1e-12)
        ths = th if isinstance(th, tuple) else (th,)
        ghs = gh if isinstance(gh, tuple) else (gh,)
        for a, b in zip(ghs, ths):
            np.testing.assert_allclose(_np(a), b.detach().numpy(), rtol=1e-10, atol=1e-12)
        (to.sum() + ths[0].sum()).backward()
        (go.sum() + ghs[0].sum()).backward()
        np.testing.assert_allclose(_np(gx.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        for (n, p), (tn, tp) in zip(m.named_parameters(), tm.named_parameters()):
            assert n == tn
            np.testing.assert_allclose(_np(p.grad), tp.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_torch_error_messages_agree():
    T = pytest.importorskip("torch")
    cases = [
        lambda M: M.nn.RNN(3, 4)(M.zeros(2, 5)),
        lambda M: M.nn.GRU(3, 4)(M.zeros(2, 1, 3), M.zeros(1, 2, 4)),
        lambda M: M.nn.LSTM(3, 4, proj_size=2)(M.zeros(2, 1, 3),
                                               (M.zeros(1, 1, 4), M.zeros(1, 1, 4))),
        lambda M: M.nn.GRU(3, 4)(M.zeros(2, 3), M.zeros(1, 1, 4)),
        lambda M: M.nn.LSTM(3, 4, proj_size=5),
        lambda M: M.nn.RNN(3, 4, nonlinearity="gelu"),
        lambda M: M.nn.GRU(3, 4)(M.zeros(0, 2, 3)),
    ]
    for case in cases:
        with pytest.raises(Exception) as te:
            case(T)
        with pytest.raises(type(te.value)) as ge:
            case(torch)
        assert str(ge.value) == str(te.value)
