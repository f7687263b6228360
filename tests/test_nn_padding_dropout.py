"""Padding layers (over F.pad's modes), channel-wise and alpha dropouts, RMSNorm,
LocalResponseNorm and Softmax2d: values against NumPy references, gradients, PyTorch's
checks and messages, scripting; and against torch when it is installed."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F
from gpujit.testing import assert_close

rng = np.random.default_rng(5)


def T(a, grad=False):
    t = gpujit.from_numpy(np.ascontiguousarray(a))
    return t.requires_grad_() if grad else t


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------------- padding

_NP_MODE = {"Reflection": "reflect", "Replication": "edge", "Circular": "wrap"}


def _np_widths(pad, nd):
    k = len(pad) // 2
    return [(0, 0)] * (nd - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]


@pytest.mark.parametrize("kind", ["Zero", "Constant", "Reflection", "Replication", "Circular"])
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("batched", [True, False])
def test_padding_modules_match_numpy(kind, d, batched):
    shape = ((2,) if batched else ()) + (3,) + (4,) * d
    x = randn(*shape)
    pad = tuple(int(v) for v in rng.integers(0, 4, 2 * d))
    cls = getattr(nn, f"{kind}Pad{d}d")
    m = cls(pad, 1.5) if kind == "Constant" else cls(pad)
    widths = _np_widths(pad, x.ndim)
    if kind == "Zero":
        ref = np.pad(x, widths)
    elif kind == "Constant":
        ref = np.pad(x, widths, constant_values=1.5)
    else:
        ref = np.pad(x, widths, mode=_NP_MODE[kind])
    xt = T(x, grad=True)
    out = m(xt)
    assert_close(out, ref)
    w = randn(*ref.shape)
    (out * T(w)).sum().backward()
    # the gradient: each output position's weight added back to the input it came from
    idx = np.arange(x.size).reshape(x.shape)
    src = (np.pad(idx, widths, mode=_NP_MODE[kind]) if kind in _NP_MODE
           else np.pad(idx, widths, constant_values=-1))
    g = np.zeros(x.size, np.float64)
    np.add.at(g, src[src >= 0], w[src >= 0])
    assert_close(xt.grad, g.reshape(x.shape).astype(np.float32), rtol=1e-5, atol=1e-5)
    sm = gpujit.jit.script(m)
    assert_close(sm(T(x)), ref)


def test_padding_module_args_repr_and_checks():
    assert nn.ZeroPad2d(1).padding == (1, 1, 1, 1)
    assert nn.ReflectionPad3d((1, 0, 2, 1, 0, 1)).padding == (1, 0, 2, 1, 0, 1)
    assert repr(nn.ZeroPad1d(2)) == "ZeroPad1d((2, 2))"
    assert repr(nn.ConstantPad2d(1, 3.5)) == "ConstantPad2d(padding=(1, 1, 1, 1), value=3.5)"
    assert repr(nn.CircularPad1d(1)) == "CircularPad1d((1, 1))"
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(T(randn(3, 3)))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        nn.ReflectionPad1d(4)(T(randn(1, 2, 4)))
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        nn.CircularPad1d(5)(T(randn(1, 2, 4)))
    crop = nn.ConstantPad1d((-1, 2), 0.0)(T(np.arange(4, dtype=np.float32)[None]))
    assert_close(crop, np.array([[1, 2, 3, 0, 0]], np.float32))


# ---------------------------------------------------------------------- channel dropout

@pytest.mark.parametrize("fn,shape", [(F.dropout1d, (16, 32, 5)), (F.dropout1d, (32, 5)),
                                      (F.dropout2d, (16, 32, 3, 2)),
                                      (F.dropout3d, (16, 32, 2, 2, 2)),
                                      (F.dropout3d, (32, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(fn, shape):
    # (seeded: with 32 channels the dropped fraction leaves (0.2, 0.6) ~1% of the time, and
    # the global generator's state depended on which tests ran before on the worker)
    gpujit.manual_seed(0)
    x = T(np.ones(shape, np.float32), grad=True)
    y = fn(x, 0.4, True)
    assert tuple(y.shape) == shape
    nb = len(shape) - ({F.dropout1d: 1, F.dropout2d: 2, F.dropout3d: 3}[fn])
    ch = y.detach().numpy().reshape(shape[:nb] + (-1,))
    assert np.all(ch.min(-1) == ch.max(-1))           # a channel is all kept or all dropped
    assert set(np.unique(ch)) <= {0.0, np.float32(1 / 0.6)}
    assert 0.2 < (ch[..., 0] == 0).mean() < 0.6
    y.sum().backward()
    assert_close(x.grad, y.detach())                  # the same mask, scaled
    ev = fn(x, 0.4, False)         # evaluation: the input itself (unbatched: a view of it)
    if nb == 2:
        assert ev is x
    else:
        assert np.shares_memory(ev.detach().numpy(), x.detach().numpy())


def test_channel_dropout_checks_inplace_and_modules():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received "
                                           "a 4D"):
        F.dropout1d(T(randn(2, 3, 4, 5)))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout2d(T(randn(2, 3, 4, 5)), 1.5)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(T(randn(2, 3, 4)), 0.5)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        F.dropout3d(T(randn(2, 3)), 0.5, False)
    x = T(np.ones((4, 8, 3), np.float32))
    y = F.dropout1d(x, 0.5, True, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}
    assert_close(F.dropout2d(T(np.ones((2, 3, 2, 2), np.float32)), 1.0),
                 np.zeros((2, 3, 2, 2)))
    for cls in (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                nn.FeatureAlphaDropout):
        m = cls(0.3)
        assert repr(m) == f"{cls.__name__}(p=0.3, inplace=False)"
        x = T(randn(2, 3, 2, 2, 2) if cls is nn.Dropout3d else randn(2, 3, 4))
        sm = gpujit.jit.script(m.train())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # dropout2d of a 3-D input
            assert m.eval()(x) is x
            assert tuple(sm(x).shape) == tuple(x.shape)


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_formula_and_moments(feature):
    p, alpha = 0.2, 1.7580993408473766
    a = (1.0 / ((alpha * alpha * p + 1) * (1 - p))) ** 0.5
    b = alpha * a * p
    x = randn(200, 50, 20)
    x[np.abs(x + alpha) < 1e-3] = 0.0      # a kept -alpha would look dropped
    fn = F.feature_alpha_dropout if feature else F.alpha_dropout
    xt = T(x, grad=True)
    y = fn(xt, p, True)
    yn = y.detach().numpy()
    kept = np.isclose(yn, a * x + b, atol=1e-5)
    dropped = np.isclose(yn, b - alpha * a, atol=1e-5)
    assert np.all(kept | dropped)
    if feature:
        k = kept.reshape(200, 50, -1)
        assert np.all(k.all(-1) | ~k.any(-1))
    assert abs(yn.mean()) < 0.05 and abs(yn.std() - 1) < 0.05
    y.sum().backward()
    assert_close(xt.grad, np.where(kept, a, 0.0).astype(np.float32), rtol=1e-5, atol=1e-6)
    assert fn(xt, p, False) is xt


# ---------------------------------------------------------------------- normalization

def test_rms_norm_values_grad_and_checks():
    x, w = randn(2, 3, 4), randn(3, 4)
    ref = x / np.sqrt((x ** 2).mean((1, 2), keepdims=True) + np.finfo(np.float32).eps) * w
    xt = T(x, grad=True)
    out = F.rms_norm(xt, [3, 4], T(w))
    assert_close(out, ref, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    m = nn.RMSNorm([4], eps=1e-3)
    assert repr(m) == "RMSNorm((4,), eps=0.001, elementwise_affine=True)"
    ref2 = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-3)
    assert_close(m(T(x)), ref2, rtol=1e-5, atol=1e-6)
    assert_close(gpujit.jit.script(m)(T(x)), ref2, rtol=1e-5, atol=1e-6)
    x64 = rng.standard_normal((2, 5))
    ref64 = x64 / np.sqrt((x64 ** 2).mean(-1, keepdims=True) + np.finfo(np.float64).eps)
    assert_close(F.rms_norm(T(x64), [5]), ref64, rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*5\]"):  # torch 2.13
        F.rms_norm(T(x), [5])
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape"):
        F.rms_norm(T(x), [4], T(w))


def test_rms_norm_gradient_finite_differences():
    x, w = rng.standard_normal((2, 4)), rng.standard_normal(4)
    xt = T(x, grad=True)
    F.rms_norm(xt, [4], T(w), 1e-5).pow(2).sum().backward()
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = 1e-6
        f = lambda v: F.rms_norm(T(v), [4], T(w), 1e-5).pow(2).sum().item()  # noqa: E731
        num[i] = (f(x + d) - f(x - d)) / 2e-6
    assert_close(xt.grad, num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape", [(2, 6, 5), (2, 6, 3, 4), (1, 5, 2, 3, 2)])
@pytest.mark.parametrize("size", [1, 3, 4])
def test_local_response_norm(shape, size):
    x = randn(*shape)
    c = shape[1]
    sq = np.concatenate([np.zeros((shape[0], size // 2) + shape[2:], np.float32), x * x,
                         np.zeros((shape[0], (size - 1) // 2) + shape[2:], np.float32)], 1)
    win = sum(sq[:, j:j + c] for j in range(size)) / size
    ref = x / (2.0 + 0.1 * win) ** 0.6
    m = nn.LocalResponseNorm(size, alpha=0.1, beta=0.6, k=2.0)
    assert_close(m(T(x)), ref, rtol=1e-5, atol=1e-6)
    assert_close(gpujit.jit.script(m)(T(x)), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality .*got 2"):
        F.local_response_norm(T(randn(2, 3)), 2)


def test_softmax2d():
    x = randn(2, 3, 4, 5)
    e = np.exp(x - x.max(1, keepdims=True))
    ref = e / e.sum(1, keepdims=True)
    assert_close(nn.Softmax2d()(T(x)), ref, rtol=1e-5, atol=1e-6)
    assert_close(gpujit.jit.script(nn.Softmax2d())(T(x[0])), ref[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(T(randn(2, 3)))


# ---------------------------------------------------------------------- against torch

def test_against_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    for shape, ns in (((2, 3, 4), [3, 4]), ((5, 6), [6])):
        x, w = randn(*shape), randn(*ns)
        xt, tt = T(x, grad=True), torch.tensor(x, requires_grad=True)
        r, e = F.rms_norm(xt, ns, T(w)), TF.rms_norm(tt, ns, torch.tensor(w))
        assert_close(r, e.detach().numpy(), rtol=1e-5, atol=1e-6)
        r.sum().backward()
        e.sum().backward()
        assert_close(xt.grad, tt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for shape in ((2, 6, 5), (2, 6, 3, 4), (2, 6, 2, 3, 2)):
        x = randn(*shape)
        xt, tt = T(x, grad=True), torch.tensor(x, requires_grad=True)
        r, e = F.local_response_norm(xt, 3), TF.local_response_norm(tt, 3)
        assert_close(r, e.detach().numpy(), rtol=1e-5, atol=1e-6)
        r.sum().backward()
        e.sum().backward()
        assert_close(xt.grad, tt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name in ("ZeroPad2d", "ReflectionPad2d", "ReplicationPad3d", "CircularPad1d"):
        d = int(name[-2])
        x = randn(2, 3, *(4,) * d)
        pad = tuple(int(v) for v in rng.integers(0, 3, 2 * d))
        assert_close(getattr(nn, name)(pad)(T(x)),
                     getattr(torch.nn, name)(pad)(torch.tensor(x)).numpy())
        assert repr(getattr(nn, name)(pad)) == repr(getattr(torch.nn, name)(pad))
