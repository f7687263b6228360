"""F.interpolate, nn.Upsample / UpsamplingNearest2d / UpsamplingBilinear2d: PyTorch's
Python-level argument handling over the aten::upsample_* ops (whose values the OpInfos
check), against torch as the oracle; scripted, traced and saved."""
from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F
from gpujit.autograd import gradcheck

rng = np.random.default_rng(11)

_CASES = []
for _nd, _modes in ((1, ("nearest", "nearest-exact", "linear", "area")),
                    (2, ("nearest", "nearest-exact", "bilinear", "bicubic", "area")),
                    (3, ("nearest", "nearest-exact", "trilinear", "area"))):
    for _mode in _modes:
        for _kw in (dict(size=7), dict(size=[3] * _nd), dict(size=(5,) * _nd),
                    dict(scale_factor=2), dict(scale_factor=0.6),
                    dict(scale_factor=[1.7] * _nd),
                    dict(scale_factor=1.3, recompute_scale_factor=True),
                    dict(scale_factor=2.5, recompute_scale_factor=False)):
            _acs = (None,) if _mode in ("nearest", "nearest-exact", "area") else (None, True)
            for _ac in _acs:
                _k = dict(_kw, mode=_mode)
                if _ac is not None:
                    _k["align_corners"] = _ac
                _CASES.append((_nd, _k))


@pytest.mark.parametrize("nd,kw", _CASES, ids=[f"{n}d-{k}" for n, k in _CASES])
def test_interpolate_values_and_gradients_as_torch(nd, kw):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3) + (4,) * nd)
    tx = torch.tensor(x, requires_grad=True)
    gx = gpujit.tensor(x, requires_grad=True)
    r = torch.nn.functional.interpolate(tx, **kw)
    g = F.interpolate(gx, **kw)
    assert tuple(g.shape) == tuple(r.shape)
    np.testing.assert_allclose(g.detach().numpy(), r.detach().numpy(), atol=1e-12)
    go = rng.standard_normal(tuple(r.shape))
    r.backward(torch.tensor(go))
    g.backward(gpujit.tensor(go))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("kw", [
    dict(), dict(size=2, scale_factor=2.0), dict(size=[2, 2, 2]), dict(scale_factor=[2.0]),
    dict(size=2, align_corners=True), dict(size=2, mode="area", align_corners=False),
    dict(size=2, recompute_scale_factor=True), dict(size=2, mode="linear"),
    dict(size=2, mode="trilinear"), dict(size=0), dict(size=2, mode="bicubic")])
def test_interpolate_errors_as_torch(kw):
    torch = pytest.importorskip("torch")
    x = np.zeros((1, 1, 3, 3))
    try:
        torch.nn.functional.interpolate(torch.tensor(x), **kw)
        expected = None
    except Exception as e:      # noqa: BLE001 (the oracle's exception, whatever it is)
        expected = e
    if expected is None:
        F.interpolate(gpujit.tensor(x), **kw)
        return
    with pytest.raises(type(expected)) as got:
        F.interpolate(gpujit.tensor(x), **kw)
    assert str(got.value) == str(expected)


def test_interpolate_gradcheck_float64():
    x = gpujit.randn(1, 2, 3, 4, dtype=gpujit.float64, requires_grad=True)
    for mode, kw in (("bicubic", dict(align_corners=False)), ("bilinear", {}),
                     ("nearest", {}), ("nearest-exact", {}), ("area", {})):
        assert gradcheck(lambda t: F.interpolate(t, size=(5, 3), mode=mode, **kw), (x,))
    x5 = gpujit.randn(1, 1, 2, 3, 2, dtype=gpujit.float64, requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=1.7, mode="trilinear"), (x5,))


def _f(x):
    a = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    b = F.interpolate(x, size=(5, 7), mode="nearest")
    c = F.interpolate(x, size=[3, 3], mode="bicubic", align_corners=True)
    d = F.interpolate(x, size=6)
    e = F.interpolate(x, scale_factor=(1.5, 2.0), mode="area")
    return a, b, c, d, e


def test_interpolate_scripted_as_eager_without_warnings():
    x = gpujit.randn(1, 2, 4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # no SyntaxWarning from the generated code
        s = gpujit.jit.script(_f)
        for _ in range(3):
            got = s(x)
    for a, b in zip(got, _f(x)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_interpolate_traced_records_the_upsample_op():
    t = gpujit.jit.trace(lambda x: F.interpolate(x, scale_factor=2), gpujit.randn(1, 2, 3, 3))
    assert "aten::upsample_nearest2d" in str(t.graph)
    assert t(gpujit.randn(1, 2, 3, 3)).shape == (1, 2, 6, 6)


@pytest.mark.parametrize("cls,args,kw", [
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(size=(3, 7), mode="bilinear")),
    ("Upsample", (), dict(scale_factor=(1.5, 2), mode="bicubic", align_corners=True)),
    ("Upsample", (6,), {}),
    ("UpsamplingNearest2d", (), dict(scale_factor=2)),
    ("UpsamplingBilinear2d", (), dict(size=(5, 3)))])
def test_upsample_modules_as_torch_eager_scripted_traced_saved(cls, args, kw):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((1, 2, 4, 5)).astype(np.float32)
    gm = getattr(gpujit.nn, cls)(*args, **kw)
    tm = getattr(torch.nn, cls)(*args, **kw)
    assert repr(gm) == repr(tm)
    r = tm(torch.tensor(x)).numpy()
    sm = gpujit.jit.script(gm)
    buf = io.BytesIO()
    gpujit.jit.save(sm, buf)
    buf.seek(0)
    loaded = gpujit.jit.load(buf)
    traced = gpujit.jit.trace(gm, gpujit.tensor(x))
    for m in (gm, sm, loaded, traced):
        for _ in range(2):
            out = m(gpujit.tensor(x)).numpy()
        assert out.shape == r.shape
        np.testing.assert_allclose(out, r, atol=1e-5)


@pytest.mark.cuda
def test_interpolate_on_cuda_matches_cpu():
    if not gpujit.cuda.is_available():
        pytest.skip("no CUDA device")
    x = gpujit.randn(1, 2, 4, 4)
    for mode in ("nearest", "bilinear", "bicubic", "area"):
        want = F.interpolate(x, scale_factor=1.5, mode=mode)
        got = F.interpolate(x.cuda(), scale_factor=1.5, mode=mode)
        assert got.device.type == "cuda"
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), atol=1e-6)


def test_pixel_shuffle_modules_as_torch_scripted_and_differentiable():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 8, 3, 4)).astype(np.float32)
    for cls, r in (("PixelShuffle", 2), ("PixelUnshuffle", 1)):
        gm, tm = getattr(gpujit.nn, cls)(r), getattr(torch.nn, cls)(r)
        assert repr(gm) == repr(tm)
    seq = gpujit.nn.Sequential(gpujit.nn.PixelShuffle(2), gpujit.nn.PixelUnshuffle(2))
    s = gpujit.jit.script(seq)
    want = torch.nn.PixelShuffle(2)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(gpujit.jit.script(gpujit.nn.PixelShuffle(2))(
        gpujit.tensor(x)).numpy(), want)
    for _ in range(3):
        np.testing.assert_array_equal(s(gpujit.tensor(x)).numpy(), x)
    a = gpujit.randn(1, 8, 2, 4, dtype=gpujit.float64, requires_grad=True)
    assert gradcheck(lambda t: F.pixel_shuffle(t, 2), (a,))
    assert gradcheck(lambda t: F.pixel_unshuffle(t, 2), (a,))
