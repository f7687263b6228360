"""torch.special's ndtri, log_ndtr, erfcx, Bessel / modified Bessel / spherical Bessel
functions, airy_ai, zeta and the orthogonal polynomials (gpujit/ops/special_more.py):
values against NumPy references computed here by other means (series, continued
fractions, quadrature, recurrences in float64), PyTorch's special values, dtypes,
broadcasting of the polynomials' degree, scripting, gradients, and a differential test
against PyTorch on a grid (skipped without torch)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor

from opinfo.special_more_s25 import (bessel_i_ref, bessel_j_ref, bessel_k_ref, bessel_y_ref,
                                     log_ndtr_ref)

INF, NAN = math.inf, math.nan


def _t(vals, dtype=torch.float64):
    return torch.tensor(vals, dtype=dtype)


def _same(got, want, rtol=1e-13, atol=0.0):
    got = got.numpy().astype(np.float64)
    np.testing.assert_allclose(got, np.asarray(want, np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


# ---------------------------------------------------------------- ndtri, log_ndtr, erfcx

def _erfcx_cf(x):
    """erfcx(x) for x > 0 by the Laplace continued fraction
    sqrt(pi) erfcx(x) = 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), evaluated
    backwards from 4000 levels (converges for x >~ 1)."""
    x = np.asarray(x, np.float64)
    f = x.copy()
    for k in range(4000, 0, -1):
        f = x + (k / 2) / f
    return 1 / (f * math.sqrt(math.pi))


def test_erfcx_values():
    x = np.array([0.0, 1e-10, 0.3, 1.0, 2.5, 5.0])
    _same(torch.special.erfcx(_t(x)), np.exp(x * x) * _erfc(x), rtol=1e-13)
    xl = np.array([3.0, 8.0, 9.99, 10.0, 10.5, 20.0, 49.0, 51.0, 1e3, 1e6, 1e9, 1e300])
    _same(torch.special.erfcx(_t(xl)), _erfcx_cf(xl), rtol=2e-15)
    # erfcx(-x) = 2 exp(x^2) - erfcx(x)
    xn = np.array([0.5, 2.0, 6.0, 6.2, 20.0, 26.0])
    _same(torch.special.erfcx(_t(-xn)), 2 * np.exp(xn * xn) - _erfcx_cf(np.maximum(xn, 3))
          * (xn >= 3) - np.exp(xn * xn) * _erfc(xn) * (xn < 3), rtol=1e-12)
    _same(torch.special.erfcx(_t([INF, -INF, -26.8, -1e300, NAN])), [0.0, INF, INF, INF, NAN])


def test_ndtri_values():
    p = np.concatenate([np.linspace(0.001, 0.999, 97), [1e-300, 1e-20, 1e-10, 0.1, 0.135,
                                                         0.136, 0.5, 0.864, 0.865,
                                                         1 - 1e-10]])
    x = torch.special.ndtri(_t(p)).numpy()
    # the standard normal CDF of the result gives p back (erfc: the tails keep relative
    # precision)
    back = 0.5 * _erfc(-x / math.sqrt(2))
    np.testing.assert_allclose(back, p, rtol=1e-13)
    assert abs(torch.special.ndtri(_t([0.975])).item() - 1.959963984540054) < 1e-15
    _same(torch.special.ndtri(_t([0.0, 1.0, -0.0, -1e-300, 1.0000001, INF, -INF, NAN])),
          [-INF, INF, -INF, NAN, NAN, NAN, NAN, NAN])


def test_log_ndtr_values():
    x = np.linspace(-20, 8, 113)
    # log Phi(x), Phi(x) = 1 - Phi(-x) on the right (no cancellation in the reference)
    _same(torch.special.log_ndtr(_t(x)), log_ndtr_ref(x), rtol=1e-12)
    # the far left tail: -x^2/2 - log(-x sqrt(2 pi)) + log(1 - 1/x^2 + 3/x^4 - 15/x^6)
    xl = np.array([-40.0, -100.0, -1e4, -1e10])
    want = (-xl * xl / 2 - np.log(-xl * math.sqrt(2 * math.pi))
            + np.log1p(-1 / xl**2 + 3 / xl**4 - 15 / xl**6))
    _same(torch.special.log_ndtr(_t(xl)), want, rtol=1e-13)
    _same(torch.special.log_ndtr(_t([INF, -INF, NAN, 40.0])), [0.0, -INF, NAN, -0.0])


UNARY_NAMES = ["ndtri", "log_ndtr", "erfcx", "bessel_j0", "bessel_j1", "bessel_y0",
               "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
               "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
               "spherical_bessel_j0"]


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_dtypes(name):
    f = getattr(torch.special, name)
    r = f(torch.tensor([0, 1, 1]))
    assert r.dtype is torch.float32
    r = f(torch.tensor([True, False]))
    assert r.dtype is torch.float32
    x32 = _t([0.25, 0.5, 0.75], torch.float32)
    r32 = f(x32)
    assert r32.dtype is torch.float32
    _same(r32, f(x32.double()).numpy().astype(np.float32), rtol=0)   # float64, rounded
    with pytest.raises(NotImplementedError):
        f(_t([0.5], torch.float16))
    assert not hasattr(torch, name) and not hasattr(Tensor, name)


def ndtr_family(x: Tensor):
    return torch.special.ndtri(torch.special.ndtr(x)) + torch.special.log_ndtr(x) \
        + torch.special.erfcx(x)


def test_ndtr_family_scripted():
    x = _t([-3.0, -0.5, 0.0, 0.7, 2.0])
    f = torch.jit.script(ndtr_family)
    g = str(f.graph)
    for n in ("special_ndtri", "special_log_ndtr", "special_erfcx"):
        assert f"aten::{n}" in g
    want = ndtr_family(x)
    for _ in range(3):
        _same(f(x), want.numpy(), rtol=1e-13)


def _fd_check(f, x, rtol=1e-6):
    x = _t(x)
    x.requires_grad_(True)
    y = f(x)
    (g,) = torch.autograd.grad(y.sum(), [x])
    h = 1e-6
    xn = x.detach().numpy()
    num = (f(_t(xn + h)).numpy() - f(_t(xn - h)).numpy()) / (2 * h)
    np.testing.assert_allclose(g.numpy(), num, rtol=rtol, atol=1e-9)


def test_ndtr_family_gradients():
    _fd_check(torch.special.ndtri, [0.01, 0.3, 0.5, 0.9])
    _fd_check(torch.special.log_ndtr, [-30.0, -3.0, -0.5, 0.0, 2.0])
    _fd_check(torch.special.erfcx, [-2.0, -0.1, 0.0, 1.5, 12.0])


# ---------------------------------------------------------------- Bessel functions

def test_bessel_values():
    # PyTorch's j0 / j1 / y0 / y1 (the spec, which gpujit computes as it does) read
    # Cephes' RQ / QQ tables without their implicit leading 1 (polevl for p1evl): ~1e-8 off
    # (3e-7 for y0 / y1) up to |x| = 5, ~1e-6 above; exact below 1e-5 (1 - x^2/4)
    x = np.concatenate([np.linspace(-5, 5, 41), [1e-3, -1e-3]])
    _same(torch.special.bessel_j0(_t(x)), bessel_j_ref(0, x), atol=5e-8)
    _same(torch.special.bessel_j1(_t(x)), bessel_j_ref(1, x), atol=5e-8)
    _same(torch.special.bessel_j0(_t([1e-6, -1e-6])), [1 - 0.25e-12] * 2, rtol=1e-16)
    xp = np.linspace(0.25, 5, 20)
    _same(torch.special.bessel_y0(_t(xp)), bessel_y_ref(0, xp), atol=5e-7)
    _same(torch.special.bessel_y1(_t(xp)), bessel_y_ref(1, xp), atol=5e-7)
    xl = np.array([5.5, 7.0, 13.0, 30.0, 100.0, 1000.0])
    for n in (0, 1):
        _same(getattr(torch.special, f"bessel_j{n}")(_t(xl)), bessel_j_ref(n, xl), atol=2e-6)
        _same(getattr(torch.special, f"bessel_y{n}")(_t(xl)), bessel_y_ref(n, xl), atol=2e-6)
    xs = np.array([-30.0, -3.0, -0.4, -1e-5, 0.3, 0.6, 2.0, 40.0])
    _same(torch.special.spherical_bessel_j0(_t(xs)), np.sin(xs) / xs, rtol=1e-15)


def test_bessel_special_values():
    e = _t([INF, -INF, NAN, 0.0, -0.0, -1.0])
    _same(torch.special.bessel_j0(e), [NAN, NAN, NAN, 1.0, 1.0, bessel_j_ref(0, 1.0)])
    j1 = torch.special.bessel_j1(e)
    _same(j1, [NAN, NAN, NAN, 0.0, 0.0, -bessel_j_ref(1, 1.0)])
    assert list(np.signbit(j1.numpy()[3:5])) == [False, True]      # odd: J1(-0) = -0
    for n in (0, 1):
        _same(getattr(torch.special, f"bessel_y{n}")(e), [NAN, NAN, NAN, -INF, -INF, NAN])
    _same(torch.special.spherical_bessel_j0(e), [0.0, 0.0, NAN, 1.0, 1.0, math.sin(1.0)])


def test_modified_bessel_values():
    x = np.concatenate([np.linspace(-30, 30, 61), [1e-6, 7.99, 8.01]])
    _same(torch.special.modified_bessel_i0(_t(x)), bessel_i_ref(0, x), rtol=1e-13)
    _same(torch.special.modified_bessel_i1(_t(x)), bessel_i_ref(1, x), rtol=1e-13,
          atol=1e-20)
    xp = np.array([1e-3, 0.1, 0.7, 1.99, 2.0, 2.01, 5.0, 20.0, 100.0, 600.0])
    for n in (0, 1):
        _same(getattr(torch.special, f"modified_bessel_k{n}")(_t(xp)), bessel_k_ref(n, xp),
              rtol=1e-13)
        _same(getattr(torch.special, f"scaled_modified_bessel_k{n}")(_t(xp)),
              bessel_k_ref(n, xp, scaled=True), rtol=1e-13)
    e = _t([INF, -INF, NAN, 0.0, -0.0, -1.0])
    _same(torch.special.modified_bessel_i0(e), [NAN, NAN, NAN, 1.0, 1.0, bessel_i_ref(0, 1.0)])
    _same(torch.special.modified_bessel_i1(e),
          [NAN, NAN, NAN, 0.0, 0.0, -bessel_i_ref(1, 1.0)])
    for name in ("modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
                 "scaled_modified_bessel_k1"):
        _same(getattr(torch.special, name)(e), [0.0, NAN, NAN, INF, INF, NAN])


BESSEL_NAMES = UNARY_NAMES[3:]


@pytest.mark.parametrize("name", BESSEL_NAMES)
def test_bessel_outputs_carry_no_gradient(name):
    x = _t([0.5, 1.5, 3.0]).requires_grad_(True)
    y = getattr(torch.special, name)(x)
    assert not y.requires_grad and y.grad_fn is None


def bessel_calls(x: Tensor):
    return torch.special.bessel_j0(x) + torch.special.bessel_j1(x) \
        + torch.special.bessel_y0(x) + torch.special.bessel_y1(x) \
        + torch.special.modified_bessel_i0(x) + torch.special.modified_bessel_i1(x) \
        + torch.special.modified_bessel_k0(x) + torch.special.modified_bessel_k1(x) \
        + torch.special.scaled_modified_bessel_k0(x) \
        + torch.special.scaled_modified_bessel_k1(x) + torch.special.spherical_bessel_j0(x)


def test_bessel_scripted():
    x = _t([0.3, 1.0, 4.0, 9.0])
    f = torch.jit.script(bessel_calls)
    g = str(f.graph)
    for n in BESSEL_NAMES:
        assert f"aten::special_{n}(" in g, n
    want = bessel_calls(x)
    for _ in range(3):
        _same(f(x), want.numpy(), rtol=1e-14)


# ---------------------------------------------------------------- against PyTorch

_GRID = np.concatenate([
    [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 5.0, -5.0, 8.0, -8.0, 1e-8, -1e-8, 1e-300,
     26.6, -26.6, -26.8, 6.0, -6.1, 50.0, 51.0, 1e8, -1e8, 1e300, -1e300, 2.09, -2.09,
     103.0, 104.0, 0.1353, 0.8647, 1 - 1e-12, INF, -INF, NAN],
    np.linspace(-40, 40, 801), np.linspace(0, 1, 201), np.logspace(-300, 300, 61),
    -np.logspace(-300, 300, 61)])
# float64: PyTorch's algorithm in float64 (the same up to rounding); float32: gpujit
# computes in float64 and rounds once, PyTorch in float32 (a few float32 ulps apart, more
# where PyTorch's float32 exp(x^2) or erfc loses digits)
UNARY = {"ndtri": 1e-6, "log_ndtr": 5e-5, "erfcx": 5e-5, "modified_bessel_i0": 1e-5,
         "modified_bessel_i1": 1e-5, "modified_bessel_k0": 1e-5, "modified_bessel_k1": 1e-5,
         "scaled_modified_bessel_k0": 1e-5, "scaled_modified_bessel_k1": 1e-5,
         "spherical_bessel_j0": 1e-6,
         # PyTorch's float32 sin / cos of x - pi/4 lose the phase for large x: only
         # |x| <= 40 is compared, to an absolute 1e-5
         "bessel_j0": 0.0, "bessel_j1": 0.0, "bessel_y0": 0.0, "bessel_y1": 0.0}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_matches_torch(name, dtype):
    tt = pytest.importorskip("torch")
    with np.errstate(all="ignore"):
        x = _GRID.astype(dtype)
    want = getattr(tt.special, name)(tt.from_numpy(x)).numpy()
    got = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
    assert got.dtype == want.dtype
    rtol = 1e-13 if dtype == "float64" else UNARY[name]
    tiny = np.finfo(dtype).tiny
    if rtol == 0.0:
        keep = ~(np.abs(x) > 40)
        got, want, rtol, tiny = got[keep], want[keep], 1e-5, 1e-5
    np.testing.assert_allclose(got, want, rtol=rtol, atol=tiny, equal_nan=True)
