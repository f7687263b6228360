"""torch.* window functions, lazy modules, torch-level nn functions and the low-level RNN
functions (session 18, helper L18), compared with NumPy references or literal values (a
few torch-oracle tests importorskip torch)."""
import copy
import math

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn as nn
import gpujit.nn.functional as F


def _np(t):
    return t.detach().numpy()


# ---------------------------------------------------------------------- windows

_NP_WINDOWS = {"hann_window": np.hanning, "hamming_window": np.hamming,
               "blackman_window": np.blackman, "bartlett_window": np.bartlett,
               "kaiser_window": lambda n: np.kaiser(n, 12.0)}


@pytest.mark.parametrize("name", sorted(_NP_WINDOWS))
@pytest.mark.parametrize("n", [0, 1, 2, 5, 8])
@pytest.mark.parametrize("periodic", [True, False])
def test_window_values(name, n, periodic):
    w = getattr(torch, name)(n, periodic, dtype=torch.float64)
    ref = _NP_WINDOWS[name]
    if n <= 1:
        expected = np.ones(n)
    elif periodic:
        expected = ref(n + 1)[:-1]
    else:
        expected = ref(n)
    assert w.dtype == torch.float64 and tuple(w.shape) == (n,)
    np.testing.assert_allclose(_np(w), expected, atol=1e-12)


def test_window_defaults_and_options():
    w = torch.hann_window(4)
    assert w.dtype == torch.float32 and not w.requires_grad
    np.testing.assert_allclose(_np(w), [0.0, 0.5, 1.0, 0.5], atol=1e-7)
    assert torch.hann_window(4, requires_grad=True).requires_grad
    np.testing.assert_allclose(_np(torch.hamming_window(5, False, 0.5, 0.3)),
                               [0.2, 0.5, 0.8, 0.5, 0.2], atol=1e-6)
    k = torch.kaiser_window(6, True, 5.0, dtype=torch.float64)
    np.testing.assert_allclose(_np(k), np.kaiser(7, 5.0)[:-1], atol=1e-12)
    assert torch.blackman_window(3, dtype=torch.float16).dtype == torch.float16


def test_window_errors():
    with pytest.raises(RuntimeError, match="hann_window expects floating point dtypes"):
        torch.hann_window(3, dtype=torch.int64)
    with pytest.raises(RuntimeError, match="requires non-negative window_length, got "
                                           "window_length=-1"):
        torch.kaiser_window(-1)


def test_window_scripted():
    f = torch.jit.script(_windows_fn)
    assert "aten::hann_window" in str(f.graph)
    np.testing.assert_allclose(_np(f(5)), _np(_windows_fn(5)))


def _windows_fn(n: int):
    return torch.hann_window(n) + torch.kaiser_window(n, False, beta=3.0) * \
        torch.bartlett_window(n, periodic=False)


# ---------------------------------------------------------------------- lazy modules

def test_lazy_linear_lifecycle():
    m = nn.LazyLinear(3)
    assert isinstance(m.weight, nn.UninitializedParameter)
    assert nn.parameter.is_lazy(m.bias) and m.has_uninitialized_params()
    assert repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert repr(m.weight) == "<UninitializedParameter>"
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        m.weight.shape
    y = m(torch.randn(2, 5))
    assert type(m) is nn.Linear and m.in_features == 5
    assert tuple(y.shape) == (2, 3) and type(m.weight) is nn.Parameter
    assert tuple(m.weight.shape) == (3, 5) and m.weight.requires_grad
    bound = 1 / math.sqrt(5)
    assert float(m.weight.abs().max()) <= bound
    assert not m._forward_pre_hooks


def test_lazy_modules_become_regular():
    cases = [
        (nn.LazyConv1d(4, 3), torch.randn(2, 6, 8), nn.Conv1d, (4, 6, 3)),
        (nn.LazyConv2d(4, 3, groups=2), torch.randn(2, 6, 5, 5), nn.Conv2d, (4, 3, 3, 3)),
        (nn.LazyConv3d(2, 1), torch.randn(1, 3, 2, 2, 2), nn.Conv3d, (2, 3, 1, 1, 1)),
        (nn.LazyConvTranspose1d(4, 3), torch.randn(6, 8), nn.ConvTranspose1d, (6, 4, 3)),
        (nn.LazyConvTranspose2d(4, 3, groups=2), torch.randn(1, 6, 5, 5),
         nn.ConvTranspose2d, (6, 2, 3, 3)),
        (nn.LazyConvTranspose3d(2, 1), torch.randn(1, 3, 2, 2, 2), nn.ConvTranspose3d,
         (3, 2, 1, 1, 1)),
    ]
    for m, x, cls, wshape in cases:
        m(x)
        assert type(m) is cls and tuple(m.weight.shape) == wshape
        assert m.in_channels == wshape[0 if m.transposed else 1] * (
            1 if m.transposed else m.groups)
        ref = cls(m.in_channels, m.out_channels, m.kernel_size, groups=m.groups)
        ref.load_state_dict(m.state_dict())
        np.testing.assert_allclose(_np(ref(x)), _np(m(x)), atol=1e-6)


def test_lazy_conv_errors():
    with pytest.raises(RuntimeError, match="Expected 2D \\(unbatched\\) or 3D \\(batched\\) "
                                           "input to LazyConv1d"):
        nn.LazyConv1d(4, 3)(torch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv2d(4, 3, groups=2)(torch.randn(1, 3, 5, 5))


def test_lazy_norms():
    b = nn.LazyBatchNorm1d()
    sd = b.state_dict()
    assert nn.parameter.is_lazy(sd["running_mean"]) and int(sd["num_batches_tracked"]) == 0
    x = torch.randn(8, 3)
    y = b(x)
    assert type(b) is nn.BatchNorm1d and b.num_features == 3
    assert int(b.num_batches_tracked) == 1
    xn = _np(x)
    np.testing.assert_allclose(_np(y), (xn - xn.mean(0)) / np.sqrt(xn.var(0) + 1e-5),
                               atol=1e-5)
    np.testing.assert_allclose(_np(b.running_mean), 0.1 * xn.mean(0), atol=1e-6)
    i = nn.LazyInstanceNorm2d()
    assert i.affine and i.track_running_stats        # PyTorch's lazy defaults
    i(torch.randn(2, 4, 3, 3))
    assert type(i) is nn.InstanceNorm2d and tuple(i.weight.shape) == (4,)
    b3 = nn.LazyBatchNorm3d(affine=False, track_running_stats=False)
    b3(torch.randn(2, 2, 2, 2, 2))
    assert type(b3) is nn.BatchNorm3d and b3.weight is None and b3.running_mean is None
    with pytest.raises(ValueError, match="expected 4D input \\(got 3D input\\)"):
        nn.LazyBatchNorm2d()(torch.randn(2, 3, 4))


def test_lazy_state_dict_and_to():
    m = nn.LazyLinear(3)
    m.load_state_dict(nn.Linear(4, 3).state_dict())
    assert tuple(m.weight.shape) == (3, 4) and type(m) is nn.LazyLinear
    m(torch.randn(1, 4))
    assert type(m) is nn.Linear
    m2 = nn.LazyLinear(2)
    m2.load_state_dict(nn.LazyLinear(2).state_dict())      # lazy into lazy
    assert m2.has_uninitialized_params()
    b = nn.LazyBatchNorm2d().double()
    assert nn.parameter.is_lazy(b.running_mean) and b.running_mean.dtype == torch.float64
    b(torch.randn(2, 3, 2, 2, dtype=torch.float64))
    assert b.weight.dtype == torch.float64 and b.running_var.dtype == torch.float64
    c = copy.deepcopy(nn.LazyConv1d(2, 2))
    assert nn.parameter.is_lazy(c.weight)


def test_lazy_optimizer_after_dry_run():
    net = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(1))
    x = torch.randn(6, 3)
    net(x)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    before = _np(net[0].weight).copy()
    net(x).sum().backward()
    opt.step()
    assert not np.allclose(before, _np(net[0].weight))
    assert [type(m) for m in net] == [nn.Linear, nn.ReLU, nn.Linear]


def test_lazy_scripting():
    m = nn.LazyLinear(3)
    with pytest.raises(RuntimeError, match="'gpujit.nn.modules.lazy.LazyLinear' has "
                                           "uninitialized parameters weight. Did you forget "
                                           "to run a forward pass\\?"):
        torch.jit.script(m)
    x = torch.randn(2, 4)
    m(x)
    sm = torch.jit.script(m)
    np.testing.assert_allclose(_np(sm(x)), _np(m(x)), atol=1e-6)
    bn = nn.LazyBatchNorm1d()
    with pytest.raises(RuntimeError, match="has uninitialized parameters"):
        torch.jit.script(nn.Sequential(nn.Linear(2, 2), bn))


def test_uninitialized_classes():
    p = nn.UninitializedParameter(dtype=torch.float64)
    assert p.requires_grad and p.dtype == torch.float64 and repr(p) == "<UninitializedParameter>"
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3)
    b = nn.UninitializedBuffer()
    assert not b.requires_grad and repr(b) == "<UninitializedBuffer>"
    b.materialize(4)
    assert type(b) is torch.Tensor and tuple(b.shape) == (4,)


# ---------------------------------------------------------------------- torch-level nn ops

def _rand(*shape, seed=0):
    return np.random.RandomState(seed).randn(*shape).astype(np.float32)


def test_channel_shuffle():
    x = np.arange(2 * 6 * 2, dtype=np.float32).reshape(2, 6, 2)
    expected = x.reshape(2, 3, 2, 2).transpose(0, 2, 1, 3).reshape(2, 6, 2)
    for got in (torch.channel_shuffle(torch.tensor(x), 3),
                F.channel_shuffle(torch.tensor(x), 3), nn.ChannelShuffle(3)(torch.tensor(x))):
        np.testing.assert_array_equal(_np(got), expected)
    assert repr(nn.ChannelShuffle(3)) == "ChannelShuffle(groups=3)"
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. "
                                           "Got 6 channels and 4 groups."):
        torch.channel_shuffle(torch.tensor(x), 4)
    with pytest.raises(RuntimeError, match="channel_shuffle expects input with > 2 dims, but "
                                           "got input with sizes \\[5\\]"):
        torch.channel_shuffle(torch.ones(5), 1)
    sm = torch.jit.script(nn.ChannelShuffle(2))
    np.testing.assert_array_equal(_np(sm(torch.tensor(x))),
                                  x.reshape(2, 2, 3, 2).transpose(0, 2, 1, 3).reshape(2, 6, 2))


def test_native_layer_norm():
    x = _rand(2, 3, 4)
    w, b = _rand(4, seed=1), _rand(4, seed=2)
    out, mean, rstd = torch.native_layer_norm(torch.tensor(x), [4], torch.tensor(w),
                                              torch.tensor(b), 1e-5)
    m = x.mean(-1, keepdims=True)
    r = 1 / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    assert tuple(mean.shape) == (2, 3, 1) and tuple(rstd.shape) == (2, 3, 1)
    np.testing.assert_allclose(_np(mean), m, atol=1e-6)
    np.testing.assert_allclose(_np(rstd), r, rtol=1e-5)
    np.testing.assert_allclose(_np(out), (x - m) * r * w + b, atol=1e-5)
    ref = F.layer_norm(torch.tensor(x), [4], torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(_np(out), _np(ref), atol=1e-5)
    with pytest.raises(RuntimeError, match="Given normalized_shape=\\[5\\], expected input "
                                           "with shape \\[\\*, 5\\], but got input of "
                                           "size\\[2, 3, 4\\]"):
        torch.native_layer_norm(torch.tensor(x), [5], None, None, 1e-5)
    xr = torch.tensor(x, requires_grad=True)
    torch.native_layer_norm(xr, [3, 4], None, None, 1e-5)[0].pow(2).sum().backward()
    assert tuple(xr.grad.shape) == (2, 3, 4)


def test_native_batch_norm():
    x = _rand(4, 3, 5)
    rm, rv = torch.zeros(3), torch.ones(3)
    out, sm, si = torch.native_batch_norm(torch.tensor(x), torch.ones(3) * 2, None, rm, rv,
                                          True, 0.1, 1e-5)
    mean, var = x.mean((0, 2)), x.var((0, 2))
    np.testing.assert_allclose(_np(sm), mean, atol=1e-6)
    np.testing.assert_allclose(_np(si), 1 / np.sqrt(var + 1e-5), rtol=1e-5)
    np.testing.assert_allclose(
        _np(out), 2 * (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5), atol=1e-5)
    np.testing.assert_allclose(_np(rm), 0.1 * mean, atol=1e-6)
    np.testing.assert_allclose(_np(rv), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-5)
    out, sm, si = torch.native_batch_norm(torch.tensor(x), None, torch.ones(3), rm, rv,
                                          False, 0.1, 1e-5)
    assert tuple(sm.shape) == (0,) and tuple(si.shape) == (0,)
    np.testing.assert_allclose(
        _np(out), (x - _np(rm)[:, None]) / np.sqrt(_np(rv)[:, None] + 1e-5) + 1, atol=1e-5)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        torch.native_batch_norm(torch.tensor(x), None, None, None, None, False, 0.1, 1e-5)


def test_native_dropout_and_dropouts():
    x = torch.randn(50, 40)
    out, mask = torch.native_dropout(x, 0.25, True)
    assert mask.dtype == torch.bool
    np.testing.assert_allclose(_np(out), _np(x) * _np(mask) / 0.75, rtol=1e-6)
    out, mask = torch.native_dropout(x, 0.25, False)
    assert bool(mask.all()) and bool((out == x).all()) and out is not x
    y = torch.feature_dropout(torch.ones(8, 30, 3), 0.5, True)
    per_channel = _np(y)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()     # whole channels
    z = torch.ones(3, 4, 2)
    assert torch.feature_dropout_(z, 1.0, True) is z and float(z.sum()) == 0.0
    assert torch.alpha_dropout(x, 0.5, False) is x
    assert torch.feature_alpha_dropout(x, 0.5, False) is x
    a = torch.alpha_dropout(torch.zeros(2000), 0.5, True)
    assert len(np.unique(np.round(_np(a), 5))) == 2
    w = torch.ones(4, 5)
    assert torch.alpha_dropout_(w, 0.2, True) is w


def test_convolution():
    x, w1 = _rand(2, 4, 7), _rand(3, 4, 2, seed=1)
    got = torch.convolution(torch.tensor(x), torch.tensor(w1), torch.ones(3), [2], [1], [1],
                            False, [0], 1)
    ref = F.conv1d(torch.tensor(x), torch.tensor(w1), torch.ones(3), 2, 1)
    np.testing.assert_allclose(_np(got), _np(ref), atol=1e-6)
    w2 = _rand(4, 1, 3, 3, seed=2)
    x2 = _rand(1, 4, 5, 5, seed=3)
    got = torch.convolution(torch.tensor(x2), torch.tensor(w2), None, [2, 2], [1, 1],
                            [1, 1], True, [1, 1], 2)
    ref = F.conv_transpose2d(torch.tensor(x2), torch.tensor(w2), None, 2, 1, 1, 2)
    assert tuple(got.shape) == (1, 2, 10, 10)
    np.testing.assert_allclose(_np(got), _np(ref), atol=1e-6)


def test_torch_level_losses_int_reduction():
    x, x2 = torch.tensor(_rand(4, 3)), torch.tensor(_rand(4, 3, seed=1))
    y = torch.tensor(np.sign(_rand(4, 3, seed=2)))
    t = torch.tensor([1.0, -1.0, 1.0, -1.0])
    names = {0: "none", 1: "mean", 2: "sum"}
    for r, name in names.items():
        pairs = [
            (torch.hinge_embedding_loss(x, y, 0.5, r),
             F.hinge_embedding_loss(x, y, 0.5, reduction=name)),
            (torch.margin_ranking_loss(x, x2, y, 0.1, r),
             F.margin_ranking_loss(x, x2, y, 0.1, reduction=name)),
            (torch.cosine_embedding_loss(x, x2, t, 0.2, r),
             F.cosine_embedding_loss(x, x2, t, 0.2, reduction=name)),
            (torch.triplet_margin_loss(x, x2, x * 2, 1.0, 2.0, 1e-6, True, r),
             F.triplet_margin_loss(x, x2, x * 2, 1.0, 2.0, 1e-6, True, reduction=name)),
            (torch.poisson_nll_loss(x, y.abs(), True, True, 1e-8, r),
             F.poisson_nll_loss(x, y.abs(), True, True, eps=1e-8, reduction=name)),
        ]
        for got, ref in pairs:
            assert tuple(got.shape) == tuple(ref.shape)
            np.testing.assert_allclose(_np(got), _np(ref), atol=1e-6)
    hinge = torch.hinge_embedding_loss(torch.tensor([0.3, 2.0]), torch.tensor([1.0, -1.0]))
    # (torch 2.13's binding reads the default reduction=Mean as 0: unreduced)
    np.testing.assert_allclose(_np(hinge), [0.3, 0.0], atol=1e-6)   # [0.3, max(0, 1 - 2)]
    with pytest.raises(ValueError, match="5 is not a valid value for reduction"):
        torch.hinge_embedding_loss(x, y, 1.0, 5)


def test_torch_ctc_loss_lists():
    lp = torch.tensor(np.log(np.random.RandomState(0).dirichlet(np.ones(5), size=(7, 2)))
                      .astype(np.float32))
    tg = torch.tensor([[1, 2, 3], [2, 2, 0]])
    for r, name in ((0, "none"), (1, "mean"), (2, "sum")):
        got = torch.ctc_loss(lp, tg, [7, 6], [3, 2], 0, r)
        ref = F.ctc_loss(lp, tg, torch.tensor([7, 6]), torch.tensor([3, 2]), reduction=name)
        np.testing.assert_allclose(_np(got), _np(ref), rtol=1e-5)


def test_rms_norm_torch_level():
    x = _rand(3, 4)
    got = torch.rms_norm(torch.tensor(x), [4], None, 1e-6)
    np.testing.assert_allclose(_np(got), x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6),
                               rtol=1e-5)


def _torch_level_fn(x, w, rm, rv):
    a = torch.channel_shuffle(x, 2)
    o, m, r = torch.native_layer_norm(a, [5], None, None, 1e-5)
    b, sm, si = torch.native_batch_norm(o, w, None, rm, rv, False, 0.1, 1e-5)
    loss = torch.hinge_embedding_loss(b, torch.ones_like(b), 1.0, 2) + \
        torch.margin_ranking_loss(b, a, torch.ones_like(b), 0.0, 1)
    c = torch.convolution(x, torch.ones(3, 4, 2), None, [1], [0], [1], False, [0], 1)
    d, mask = torch.native_dropout(x, 0.0, False)
    return loss + c.sum() + torch.feature_dropout(d, 0.5, False).sum() + \
        torch.rms_norm(x, [5]).sum()


def test_torch_level_scripted_and_traced():
    x = torch.randn(2, 4, 5)
    args = (x, torch.ones(4), torch.zeros(4), torch.ones(4))
    expected = float(_torch_level_fn(*args))
    f = torch.jit.script(_torch_level_fn)
    assert abs(float(f(*args)) - expected) < 1e-4
    tr = torch.jit.trace(_torch_level_fn, args)
    assert abs(float(tr(*args)) - expected) < 1e-4


# ---------------------------------------------------------------------- RNN functions

def _sig(v):
    return 1 / (1 + np.exp(-v))


def test_rnn_cells_numpy():
    x, h, c = _rand(3, 4), _rand(3, 5, seed=1), _rand(3, 5, seed=2)
    w1 = [_rand(5, 4, seed=3), _rand(5, 5, seed=4), _rand(5, seed=5), _rand(5, seed=6)]
    pre = x @ w1[0].T + w1[2] + h @ w1[1].T + w1[3]
    T = [torch.tensor(v) for v in w1]
    np.testing.assert_allclose(_np(torch.rnn_tanh_cell(torch.tensor(x), torch.tensor(h), *T)),
                               np.tanh(pre), atol=1e-5)
    np.testing.assert_allclose(_np(torch.rnn_relu_cell(torch.tensor(x), torch.tensor(h), *T)),
                               np.maximum(pre, 0), atol=1e-5)
    np.testing.assert_allclose(
        _np(torch.rnn_tanh_cell(torch.tensor(x), torch.tensor(h), T[0], T[1])),
        np.tanh(x @ w1[0].T + h @ w1[1].T), atol=1e-5)
    w4 = [_rand(20, 4, seed=7), _rand(20, 5, seed=8)]
    g = x @ w4[0].T + h @ w4[1].T
    i, f, gg, o = np.split(g, 4, 1)
    c2 = _sig(f) * c + _sig(i) * np.tanh(gg)
    h2, c2g = torch.lstm_cell(torch.tensor(x), [torch.tensor(h), torch.tensor(c)],
                              torch.tensor(w4[0]), torch.tensor(w4[1]))
    np.testing.assert_allclose(_np(c2g), c2, atol=1e-5)
    np.testing.assert_allclose(_np(h2), _sig(o) * np.tanh(c2), atol=1e-5)
    w3 = [_rand(15, 4, seed=9), _rand(15, 5, seed=10)]
    gi, gh = np.split(x @ w3[0].T, 3, 1), np.split(h @ w3[1].T, 3, 1)
    r, z = _sig(gi[0] + gh[0]), _sig(gi[1] + gh[1])
    n = np.tanh(gi[2] + r * gh[2])
    np.testing.assert_allclose(
        _np(torch.gru_cell(torch.tensor(x), torch.tensor(h), *map(torch.tensor, w3))),
        (1 - z) * n + z * h, atol=1e-5)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_flat_rnn_matches_modules(mode, bidirectional, batch_first):
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=bidirectional, batch_first=batch_first,
              bias=not (mode == "GRU" and bidirectional))
    if mode.startswith("RNN"):
        m = nn.RNN(4, 5, nonlinearity=mode[4:].lower(), **kw)
    else:
        m = getattr(nn, mode)(4, 5, **kw)
    params = list(m.parameters())
    x = torch.randn(6, 3, 4) if batch_first else torch.randn(3, 6, 4)
    d = 2 if bidirectional else 1
    h0 = torch.randn(2 * d, 6, 5)
    if mode == "LSTM":
        c0 = torch.randn(2 * d, 6, 5)
        out, hn, cn = torch.lstm(x, [h0, c0], params, kw["bias"], 2, 0.0, False,
                                 bidirectional, batch_first)
        ref, (rh, rc) = m(x, (h0, c0))
        np.testing.assert_allclose(_np(cn), _np(rc), atol=1e-5)
    else:
        out, hn = getattr(torch, mode.lower())(x, h0, params, kw["bias"], 2, 0.0, False,
                                               bidirectional, batch_first)
        ref, rh = m(x, h0)
    np.testing.assert_allclose(_np(out), _np(ref), atol=1e-5)
    np.testing.assert_allclose(_np(hn), _np(rh), atol=1e-5)


def test_flat_rnn_errors_and_grad():
    w = [torch.randn(15, 4, requires_grad=True), torch.randn(15, 5)]
    with pytest.raises(RuntimeError, match="input must have 3 dimensions"):
        torch.gru(torch.randn(3, 4), torch.zeros(1, 3, 5), w, False, 1, 0.0, False, False,
                  False)
    out, hn = torch.gru(torch.randn(2, 3, 4), torch.zeros(1, 3, 5), w, False, 1, 0.0, False,
                        False, False)
    out.sum().backward()
    assert tuple(w[0].grad.shape) == (15, 4)


def _rnn_script_fn(x, h, c, w_ih, w_hh, params: list[torch.Tensor]):
    h1, c1 = torch.lstm_cell(x[0], [h[0], c[0]], w_ih, w_hh)
    out, hn, cn = torch.lstm(x, [h, c], params, False, 1, 0.0, False, False, False)
    return out, hn, h1 + torch.rnn_relu_cell(x[0], h[0], w_ih[:5], w_hh[:5])


def test_rnn_functions_scripted():
    x, h, c = torch.randn(3, 2, 4), torch.randn(1, 2, 5), torch.randn(1, 2, 5)
    w_ih, w_hh = torch.randn(20, 4), torch.randn(20, 5)
    f = torch.jit.script(_rnn_script_fn)
    for got, ref in zip(f(x, h, c, w_ih, w_hh, [w_ih, w_hh]),
                        _rnn_script_fn(x, h, c, w_ih, w_hh, [w_ih, w_hh])):
        np.testing.assert_allclose(_np(got), _np(ref), atol=1e-6)


def test_rnn_cell_base():
    for cell in (nn.RNNCell(2, 3), nn.LSTMCell(2, 3), nn.GRUCell(2, 3, bias=False)):
        assert isinstance(cell, nn.RNNCellBase)
    assert nn.GRUCell(2, 3, bias=False).bias is False and nn.LSTMCell(2, 3).bias is True


def test_flat_rnn_torch_oracle():
    pt = pytest.importorskip("torch")
    m = pt.nn.LSTM(4, 5, proj_size=3, bidirectional=True)
    params = [p.detach() for p in m._flat_weights]
    x, h0, c0 = _rand(2, 6, 4), _rand(2, 6, 3, seed=1), _rand(2, 6, 5, seed=2)
    ref = pt.lstm(pt.tensor(x), [pt.tensor(h0), pt.tensor(c0)], params, True, 1, 0.0, False,
                  True, False)
    got = torch.lstm(torch.tensor(x), [torch.tensor(h0), torch.tensor(c0)],
                     [torch.tensor(p.numpy()) for p in params], True, 1, 0.0, False, True,
                     False)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(_np(a), b.numpy(), atol=1e-5)
    for name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window",
                 "kaiser_window"):
        np.testing.assert_allclose(_np(getattr(torch, name)(7)),
                                   getattr(pt, name)(7).numpy(), atol=1e-6)


# ---------------------------------------------------------------------- SyncBatchNorm

def test_sync_batch_norm_single_process():
    # PyTorch 2.13 without an initialized process group normalizes by the local batch
    m = nn.SyncBatchNorm(3)
    assert repr(m) == ("SyncBatchNorm(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                       "track_running_stats=True)")
    x = torch.tensor(_rand(4, 3, 2))
    ref = nn.BatchNorm1d(3)
    np.testing.assert_allclose(_np(m(x)), _np(ref(x)), atol=1e-6)
    np.testing.assert_allclose(_np(m.running_var), _np(ref.running_var), atol=1e-6)
    assert int(m.num_batches_tracked) == 1
    m.eval()
    ref.eval()
    np.testing.assert_allclose(_np(m(x)), _np(ref(x)), atol=1e-6)
    with pytest.raises(ValueError, match="expected at least 2D input \\(got 1D input\\)"):
        m(torch.ones(3))
    with pytest.raises(ValueError, match="number of input channels should be non-zero"):
        nn.SyncBatchNorm(0)(torch.ones(2, 0))
    sm = torch.jit.script(nn.SyncBatchNorm(3).eval())
    np.testing.assert_allclose(_np(sm(x)), _np(nn.BatchNorm1d(3).eval()(x)), atol=1e-6)


def test_convert_sync_batchnorm():
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4),
                        nn.Sequential(nn.BatchNorm1d(4, affine=False)))
    net[1].running_mean.add_(1)
    net[2].eval()
    w = net[1].weight
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert out is net and type(out[0]) is nn.Conv2d
    assert type(out[1]) is nn.SyncBatchNorm and out[1].weight is w
    np.testing.assert_array_equal(_np(out[1].running_mean), np.ones(4))
    assert type(out[2][0]) is nn.SyncBatchNorm and not out[2][0].training
    assert out[2][0].weight is None
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm3d(2))
    assert type(single) is nn.SyncBatchNorm and single.num_features == 2


# ---------------------------------------------------------------------- embedding_bag

def test_torch_embedding_bag_numpy():
    w = _rand(10, 3)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    offs = np.array([0, 4, 4])
    W, I, O = torch.tensor(w), torch.tensor(idx), torch.tensor(offs)
    out, o2b, size, maxi = torch.embedding_bag(W, I, O, False, 0)
    np.testing.assert_allclose(_np(out), [w[idx[:4]].sum(0), np.zeros(3), w[idx[4:]].sum(0)],
                               atol=1e-6)
    assert tuple(o2b.shape) == (0,) and o2b.dtype == torch.int64
    assert _np(size).tolist() == [0, 0, 0] and _np(maxi).tolist() == [0, 0, 0]
    out, o2b, size, maxi = torch.embedding_bag(W, I, O, False, 1, False, None, False, 4)
    np.testing.assert_allclose(
        _np(out), [w[[1, 2, 5]].mean(0), np.zeros(3), w[[3, 2, 9]].mean(0)], atol=1e-6)
    assert _np(o2b).tolist() == [0, 0, 0, 0, 2, 2, 2, 2]
    assert _np(size).tolist() == [3, 0, 3] and _np(maxi).tolist() == [3, 0, 3]
    out, o2b, size, maxi = torch.embedding_bag(W, I, O, False, 2)
    np.testing.assert_allclose(_np(out)[2], w[idx[4:]].max(0), atol=1e-6)
    assert _np(maxi)[2].tolist() == idx[4:][w[idx[4:]].argmax(0)].tolist()
    assert _np(maxi)[1].tolist() == [0, 0, 0] and _np(out)[1].tolist() == [0, 0, 0]
    psw = _rand(8, seed=3)
    out = torch.embedding_bag(W, I, O, False, 0, False, torch.tensor(psw))[0]
    np.testing.assert_allclose(_np(out)[0], (w[idx[:4]] * psw[:4, None]).sum(0), atol=1e-5)
    with pytest.raises(RuntimeError, match="`mode` must be sum, mean, or max."):
        torch.embedding_bag(W, I, O, False, 3)
    Wg = torch.tensor(w, requires_grad=True)
    torch.embedding_bag(Wg, I, O, False, 1)[0].sum().backward()
    g = np.zeros_like(w)
    for k in idx[:4]:
        g[k] += 0.25
    for k in idx[4:]:
        g[k] += 0.25
    np.testing.assert_allclose(_np(Wg.grad), g, atol=1e-6)


def _embedding_bag_script_fn(w, i, o):
    out, o2b, size, maxi = torch.embedding_bag(w, i, o, False, 2, False, None, True, 4)
    return out, maxi


def test_torch_embedding_bag_scripted():
    args = (torch.randn(10, 3), torch.tensor([1, 2, 4, 5, 4, 3, 2, 9]),
            torch.tensor([0, 2, 5]))
    f = torch.jit.script(_embedding_bag_script_fn)
    for got, ref in zip(f(*args), _embedding_bag_script_fn(*args)):
        np.testing.assert_array_equal(_np(got), _np(ref))


def test_torch_embedding_bag_torch_oracle():
    pt = pytest.importorskip("torch")
    w = _rand(10, 3)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    for offs in ([0, 4, 4], [0, 2, 5], [0, 0, 8]):
        for mode in range(3):
            for last in (False, True):
                for pad in (None, 4, -1):
                    ref = pt.embedding_bag(pt.tensor(w), pt.tensor(idx), pt.tensor(offs),
                                           False, mode, False, None, last, pad)
                    got = torch.embedding_bag(torch.tensor(w), torch.tensor(idx),
                                              torch.tensor(offs), False, mode, False, None,
                                              last, pad)
                    for a, b in zip(got, ref):
                        assert tuple(a.shape) == tuple(b.shape), (offs, mode, last, pad)
                        np.testing.assert_allclose(_np(a), b.numpy(), atol=1e-6)
