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

from opinfo.special_more_s25 import (POLYNOMIALS, airy_ref, bessel_i_ref, bessel_j_ref,
                                     bessel_k_ref, bessel_y_ref, log_ndtr_ref, poly_ref,
                                     zeta_ref)

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
               "spherical_bessel_j0", "airy_ai"]


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
    # ATen's float steps (torch 2.13's bits: tests/test_special_s51.py, test_special_s52.py)
    _same(r32, f(x32.double()).numpy().astype(np.float32), rtol=1e-6)
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


BESSEL_NAMES = UNARY_NAMES[3:-1]


@pytest.mark.parametrize("name", BESSEL_NAMES + ["airy_ai"])
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


# ---------------------------------------------------------------- airy_ai

def test_airy_values():
    x = np.concatenate([np.linspace(-2.09, 10, 60), [0.0, 1e-8, 8.32, 8.33]])
    _same(torch.special.airy_ai(_t(x)), airy_ref(x), rtol=1e-12)
    # below -2.09 PyTorch's asymptotic form (its AFD / AGD tables read without Cephes'
    # implicit leading 1) is ~3e-6 off; gpujit computes as PyTorch
    xn = np.linspace(-10, -2.1, 30)
    _same(torch.special.airy_ai(_t(xn)), airy_ref(xn), atol=5e-6)
    _same(torch.special.airy_ai(_t([INF, -INF, NAN, 103.0, 104.0, 1e10])),
          [NAN, NAN, NAN, 0.0, 0.0, 0.0], atol=1e-300)
    assert 0 < torch.special.airy_ai(_t([103.0])).item() < 1e-150


# ---------------------------------------------------------------- zeta

def test_zeta_values():
    x = np.array([[1.5], [2.0], [3.0], [4.5], [10.0], [40.0]])
    q = np.array([0.1, 0.5, 1.0, 2.5, 9.5, 30.0])
    _same(torch.special.zeta(_t(x), _t(q)), zeta_ref(x, q), rtol=1e-13)
    _same(torch.special.zeta(2.0, _t([1.0, 0.5])), [math.pi ** 2 / 6, math.pi ** 2 / 2],
          rtol=1e-15)
    _same(torch.special.zeta(_t([4.0]), 1), [math.pi ** 4 / 90], rtol=1e-15)
    # a negative q with an integer x: zeta(x, q) = zeta(x, q + 3) + sum_(k<3) (q + k)^-x
    q = -2.5
    _same(torch.special.zeta(_t([3.0]), q),
          zeta_ref(3.0, q + 3) + sum((q + k) ** -3.0 for k in range(3)), rtol=1e-13)


def test_zeta_special_values():
    z = torch.special.zeta
    _same(z(_t([1.0, 1.0, 1.0]), _t([2.0, -1.0, NAN])), [INF, INF, INF])
    _same(z(_t([0.5, -1.0, -INF]), _t([2.0, 2.0, 2.0])), [NAN, NAN, NAN])
    _same(z(_t([2.0, 2.0, 2.0, 2.0, NAN]), _t([0.0, -0.0, -3.0, -INF, -1.0])),
          [INF, INF, INF, INF, INF])
    _same(z(_t([2.5, NAN, 2.0]), _t([-1.5, 2.0, NAN])), [NAN, NAN, NAN])
    # (PyTorch: NaN for an infinite x with q > 1 and for q = inf, from 0 * inf in the
    # Euler-Maclaurin tail)
    _same(z(_t([INF, INF, 2.0]), _t([2.0, 1.0, INF])), [NAN, 1.0, NAN])


def test_zeta_dtypes_and_broadcasting():
    z = torch.special.zeta
    assert z(torch.tensor([2, 3]), torch.tensor([1, 2])).dtype is torch.float32
    assert z(2, torch.tensor([1, 2])).dtype is torch.float32
    assert z(_t([2.0], torch.float32), 1.5).dtype is torch.float32
    assert z(_t([2.0], torch.float32), _t([1.0])).dtype is torch.float64
    assert tuple(z(_t([[2.0], [3.0]]), _t([1.0, 2.0, 3.0])).shape) == (2, 3)
    with pytest.raises(NotImplementedError):
        z(_t([2.0], torch.float16), _t([1.0], torch.float16))
    assert not hasattr(torch, "zeta") and not hasattr(Tensor, "zeta")


def test_zeta_gradient():
    """d/dq zeta(x, q) = -x zeta(x + 1, q); PyTorch implements none in x."""
    x = _t([2.0, 3.5, 5.0])
    q = _t([0.5, 1.0, 4.0]).requires_grad_(True)
    (g,) = torch.autograd.grad(torch.special.zeta(x, q).sum(), [q])
    _same(g, -x.numpy() * zeta_ref(x.numpy() + 1, q.detach().numpy()), rtol=1e-12)
    (g2,) = torch.autograd.grad(torch.special.zeta(2.0, q).sum(), [q])
    _same(g2, -2.0 * zeta_ref(3.0, q.detach().numpy()), rtol=1e-12)
    xs = _t([2.0, 3.0]).requires_grad_(True)
    y = torch.special.zeta(xs, _t([1.0, 2.0]))
    assert y.requires_grad
    with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not "
                                                  "implemented"):
        y.sum().backward()


def zeta_airy_calls(x: Tensor, q: Tensor):
    return torch.special.zeta(x, q) + torch.special.zeta(2.0, q) + torch.special.zeta(x, 2) \
        + torch.special.airy_ai(q)


def test_zeta_airy_scripted():
    x = _t([2.0, 3.0, 4.5])
    q = _t([0.5, 1.0, 3.0])
    f = torch.jit.script(zeta_airy_calls)
    g = str(f.graph)
    assert "aten::special_zeta(" in g and "aten::special_airy_ai(" in g
    want = zeta_airy_calls(x, q)
    for _ in range(3):
        _same(f(x, q), want.numpy(), rtol=1e-14)


# ---------------------------------------------------------------- orthogonal polynomials

POLY_NAMES = sorted(POLYNOMIALS)


@pytest.mark.parametrize("name", POLY_NAMES)
def test_polynomial_values(name):
    kind, shifted = POLYNOMIALS[name]
    lo, hi = (-0.2, 1.2) if shifted else (-1.5, 1.5)
    x = np.linspace(lo, hi, 29)[:, None]
    n = np.arange(-2, 25)[None, :]      # the recurrences and (n > 4 .. 8) the closed forms
    f = getattr(torch.special, name)
    got = f(_t(x), torch.tensor(n))
    assert tuple(got.shape) == (29, 27)
    want = poly_ref(kind, shifted)(x, n)
    scale = np.maximum(1.0, np.abs(want))
    np.testing.assert_allclose(got.numpy() / scale, want / scale, rtol=0, atol=1e-11)


@pytest.mark.parametrize("name", POLY_NAMES)
def test_polynomial_degrees(name):
    """n is truncated toward zero; negative, NaN, infinite and huge n give 0; a Python
    number, a 0-dim tensor and a broadcast tensor are all accepted as n (or as x)."""
    kind, shifted = POLYNOMIALS[name]
    f = getattr(torch.special, name)
    ref = poly_ref(kind, shifted)
    x = _t([0.3, 0.6])
    _same(f(x, _t([2.7, 2.7])), ref(x.numpy(), 2), rtol=1e-14)
    _same(f(x, _t([-0.5, -3.0])), [ref(0.3, 0), 0.0])            # trunc(-0.5) = 0
    _same(f(x, _t([NAN, INF])), [0.0, 0.0])
    _same(f(x, _t([-INF, 1e30])), [0.0, 0.0])
    _same(f(x, 3), ref(x.numpy(), 3), rtol=1e-14)
    # (float32 with ATen's FMA steps: torch 2.13 gives W_2(0.3) = -0.03999994695186615)
    _same(f(0.3, torch.tensor([0, 1, 2, 3])), ref(0.3, np.arange(4)), rtol=2e-6)
    _same(f(x, torch.tensor(4)), ref(x.numpy(), 4), rtol=1e-14)
    r = f(_t([[0.1], [0.2], [0.4]]), torch.tensor([1, 2, 3, 5]))
    assert tuple(r.shape) == (3, 4)


def test_polynomial_special_values():
    sp = torch.special
    e = _t([1.0, -1.0, 1.0, -1.0])
    n = torch.tensor([9, 9, 10, 10])
    _same(sp.chebyshev_polynomial_t(e, n), [1, -1, 1, 1])
    _same(sp.chebyshev_polynomial_u(e, n), [10, -10, 11, 11])
    _same(sp.chebyshev_polynomial_v(e, n), [1, -19, 1, 21])
    _same(sp.chebyshev_polynomial_w(e, n), [19, -1, 21, 1])
    _same(sp.legendre_polynomial_p(e, n), [1, -1, 1, 1])
    s = _t([1.0, 0.0, 1.0, 0.0])                          # the shifted kinds' ends
    _same(sp.shifted_chebyshev_polynomial_t(s, n), [1, -1, 1, 1])
    _same(sp.shifted_chebyshev_polynomial_u(s, n), [10, -10, 11, 11])
    _same(sp.shifted_chebyshev_polynomial_v(s, n), [1, -19, 1, 21])
    _same(sp.shifted_chebyshev_polynomial_w(s, n), [19, -1, 21, 1])
    _same(sp.laguerre_polynomial_l(_t([0.0, -0.0]), torch.tensor([7, 300])), [1, 1])
    # n = 0 is 1 whatever x (NaN too); NaN x otherwise NaN
    _same(sp.chebyshev_polynomial_t(_t([NAN, NAN, INF]), torch.tensor([0, 3, 0])),
          [1, NAN, 1])
    # Hermite: NaN above degree 512 (float64) / 128 (float32), as PyTorch
    # (every x: the polynomials' values there overflow float32 / float64 anyway)
    _same(sp.hermite_polynomial_h(_t([0.0, 0.0]), torch.tensor([513, 1000])), [NAN, NAN])
    _same(sp.hermite_polynomial_he(_t([0.0, 0.1], torch.float32), torch.tensor([129, 200])),
          [NAN, NAN])
    _same(sp.hermite_polynomial_he(_t([0.0], torch.float32), torch.tensor([4])), [3.0])
    _same(sp.hermite_polynomial_h(_t([2.0]), torch.tensor([3])), [40.0])
    # the recurrence of a large |x| overflows to inf, then NaN (inf - inf), as PyTorch's
    assert math.isnan(sp.chebyshev_polynomial_t(_t([3.0], torch.float32), 100).item())


@pytest.mark.parametrize("name", POLY_NAMES)
def test_polynomial_dtypes(name):
    f = getattr(torch.special, name)
    i = torch.tensor([0, 1, 2])
    assert f(i, i).dtype is torch.float32
    assert f(i.bool(), i.bool()).dtype is torch.float32
    assert f(_t([0.5], torch.float32), 3).dtype is torch.float32
    assert f(_t([0.5], torch.float32), 3.5).dtype is torch.float32
    assert f(2.0, i).dtype is torch.float32
    assert f(_t([0.5]), _t([2.0], torch.float32)).dtype is torch.float64
    assert f(_t([0.5], torch.float32), _t([2.0])).dtype is torch.float64
    with pytest.raises(NotImplementedError):
        f(_t([0.5], torch.float16), i)
    x = _t([0.5, 0.25]).requires_grad_(True)
    assert not f(x, 3).requires_grad
    assert not hasattr(torch, name) and not hasattr(Tensor, name)


def polynomial_calls(x: Tensor, n: Tensor):
    a = torch.special.chebyshev_polynomial_t(x, n) + torch.special.chebyshev_polynomial_u(x, n)
    a = a + torch.special.chebyshev_polynomial_v(x, n) \
        + torch.special.chebyshev_polynomial_w(x, 3)
    b = torch.special.shifted_chebyshev_polynomial_t(x, n) \
        + torch.special.shifted_chebyshev_polynomial_u(x, 2) \
        + torch.special.shifted_chebyshev_polynomial_v(x, n) \
        + torch.special.shifted_chebyshev_polynomial_w(x, n)
    c = torch.special.hermite_polynomial_h(x, n) + torch.special.hermite_polynomial_he(x, 4) \
        + torch.special.laguerre_polynomial_l(x, n) \
        + torch.special.legendre_polynomial_p(0.5, n)
    return a + b + c


def test_polynomials_scripted():
    x = _t([0.1, 0.5, 0.9, 1.5])
    n = torch.tensor([2, 5, 9, 12])
    f = torch.jit.script(polynomial_calls)
    g = str(f.graph)
    for name in POLY_NAMES:
        assert f"aten::special_{name}(" in g, name
    want = polynomial_calls(x, n)
    for _ in range(3):
        _same(f(x, n), want.numpy(), rtol=1e-14)


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
         "spherical_bessel_j0": 1e-6, "airy_ai": 0.0,
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


@pytest.mark.parametrize("name", POLY_NAMES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_polynomials_match_torch(name, dtype):
    tt = pytest.importorskip("torch")
    xs = np.array([0.0, -0.0, 1, -1, 0.5, -0.5, 2, -2, 0.25, 0.75, 1.5, -1.5, 0.999, 1e-20,
                   -1e-20, 1.0000001, 3, -3, 10, -10, 1e10, INF, -INF, NAN, 0.1, 0.9, 0.33])
    ns = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 20, 50, 127, 128, 129, 300,
                   512, 513, 2.5, -0.5, 7.9, NAN, INF, -INF, 1e30])
    x, n = np.meshgrid(xs.astype(dtype), ns.astype(dtype), indexing="ij")
    want = getattr(tt.special, name)(tt.from_numpy(x), tt.from_numpy(n)).numpy()
    got = getattr(torch.special, name)(torch.from_numpy(x), torch.from_numpy(n)).numpy()
    assert got.dtype == want.dtype
    # PyTorch's U / V / W / L / P of a NaN x and n >= 2 return an uninitialized value
    keep = ~(np.isnan(x) & (n >= 2))
    got, want = got[keep], want[keep]
    if dtype == "float32":
        # float32 rounding of long recurrences and of cos(n acos x) for large n (libm's
        # float32 functions against NumPy's); both overflowed to a non-finite value counts
        # as the same
        both = ~np.isfinite(got) & ~np.isfinite(want)
        got, want = got[~both], want[~both]
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-4)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_zeta_matches_torch(dtype):
    tt = pytest.importorskip("torch")
    xs = np.array([1.0, 0.5, -1, 0, 1.5, 2, 2.5, 3, 4, 10, 20, 50, 100, 1e10, INF, -INF, NAN,
                   1.0000001, 0.99999])
    qs = np.array([1.0, 0.5, 2, 0, -0.0, -1, -2, -1.5, -2.5, -10.5, 1e-10, 1e3, 1e10, 1e300,
                   INF, -INF, NAN, 0.1, 5, 9.5, 30])
    with np.errstate(all="ignore"):
        x, q = np.meshgrid(xs.astype(dtype), qs.astype(dtype), indexing="ij")
    want = tt.special.zeta(tt.from_numpy(x), tt.from_numpy(q)).numpy()
    got = torch.special.zeta(torch.from_numpy(x), torch.from_numpy(q)).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-13 if dtype == "float64" else 3e-7,
                               atol=0, equal_nan=True)


# ---------------------------------------------------------------- fused kernels

def fused_unary(x: Tensor):
    y = x * 0.5 + 0.25
    a = torch.special.ndtri(y) * 2.0 + torch.special.erfcx(x - 1.0) \
        + torch.special.log_ndtr(x * 3.0)
    b = torch.special.bessel_j0(x * 10.0) + torch.special.bessel_j1(x * 7.0) \
        + torch.special.bessel_y0(x + 1.0) + torch.special.bessel_y1(x + 1.5) \
        + torch.special.spherical_bessel_j0(x * 3.0)
    c = torch.special.modified_bessel_i0(x * 9.0) + torch.special.modified_bessel_i1(x * 9.0) \
        + torch.special.modified_bessel_k0(x + 1.2) + torch.special.modified_bessel_k1(x * 4.0) \
        + torch.special.scaled_modified_bessel_k0(x * 5.0) \
        + torch.special.scaled_modified_bessel_k1(x + 1.0) + torch.special.airy_ai(x * 9.0)
    return a.abs(), b.abs(), c.abs()


def fused_polynomials(x: Tensor, n: Tensor):
    y = x * 1.1
    a = torch.special.chebyshev_polynomial_t(y, n) + torch.special.chebyshev_polynomial_u(y, n) \
        + torch.special.chebyshev_polynomial_v(y, n) + torch.special.chebyshev_polynomial_w(y, n)
    b = torch.special.shifted_chebyshev_polynomial_t(y, n) \
        + torch.special.shifted_chebyshev_polynomial_u(y, n) \
        + torch.special.shifted_chebyshev_polynomial_v(y, n) \
        + torch.special.shifted_chebyshev_polynomial_w(y, 7)
    c = torch.special.hermite_polynomial_h(y, n) + torch.special.hermite_polynomial_he(y, n) \
        + torch.special.laguerre_polynomial_l(y, n) + torch.special.legendre_polynomial_p(y, n)
    return a.abs(), b.abs(), c.abs()


def _fused_group_ops(f, *args):
    graph = str(f.graph_for(*args))
    assert "TensorExprGroup" in graph
    return graph.split("with prim::TensorExprGroup", 1)[1]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_unary_match_eager(dtype):
    vals = np.concatenate([np.linspace(-1.3, 1.3, 53),
                           [0.0, -0.0, 0.5, -0.5, INF, -INF, NAN, 2.1, -2.09, 1e-7]])
    x = torch.tensor(vals, dtype=dtype)
    f = torch.jit.script(fused_unary)
    outs = [f(x) for _ in range(3)]
    group = _fused_group_ops(f, x)
    for n in UNARY_NAMES:
        assert f"aten::special_{n}(" in group, n
    want = fused_unary(x)
    tol = 1e-14 if dtype is torch.float64 else 0.0     # float32: the same float64 rounded
    for call in outs:
        for g, w in zip(call, want):
            assert g.dtype is dtype
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=tol, atol=0, equal_nan=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_polynomials_match_eager(dtype):
    """The fused recurrences compute in the dtype as eager code (float32 overflows to inf
    and then NaN where float64 does not); closed forms in float32 may differ from NumPy's
    float32 cos / sin / acos by an ulp or so."""
    xs = np.array([-1.0, -0.5, 0.0, 0.3, 0.5, 0.9, 1.0, 1.5, -2.0, 3.0, NAN, INF])
    ns = np.array([-1, 0, 1, 2, 3, 6, 7, 9, 12, 40, 130, 600])
    x = torch.tensor(np.repeat(xs, len(ns)), dtype=dtype)
    n = torch.tensor(np.tile(ns, len(xs)))
    f = torch.jit.script(fused_polynomials)
    outs = [f(x, n) for _ in range(3)]
    group = _fused_group_ops(f, x, n)
    for name in POLY_NAMES:
        assert f"aten::special_{name}(" in group, name
    want = fused_polynomials(x, n)
    for call in outs:
        for g, w in zip(call, want):
            g, w = g.numpy(), w.numpy()
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(np.isfinite(g), np.isfinite(w))
            fin = np.isfinite(w)
            if dtype is torch.float64:
                np.testing.assert_allclose(g[fin], w[fin], rtol=1e-12, atol=1e-12)
            else:
                np.testing.assert_allclose(g[fin], w[fin], rtol=1e-4, atol=1e-4)


def test_fused_int_inputs():
    """Integer x and n: the computation dtype float32, as eager."""
    x = torch.tensor([0, 1, 2, 3])
    f = torch.jit.script(int_polynomial)
    outs = [f(x) for _ in range(3)]
    for o in outs:
        assert o.dtype is torch.float32
        _same(o, int_polynomial(x).numpy(), rtol=1e-6)


def int_polynomial(x: Tensor):
    return torch.special.hermite_polynomial_he(x + 1, x) * 2 + torch.special.erfcx(x * 2)


# ---------------------------------------------------------------- out=

def test_special_functions_take_out():
    """torch.special's aten::special_* functions accept out= (their .out overloads), the
    new ones and the earlier ndtr / entr / xlog1py / i1 / i0e / i1e alike."""
    x = _t([0.2, 0.7])
    o = torch.empty(2, dtype=torch.float64)
    assert torch.special.ndtri(x, out=o) is o
    _same(o, torch.special.ndtri(x).numpy())
    r = torch.special.zeta(2.0, x, out=o)
    assert r is o
    _same(o, torch.special.zeta(2.0, x).numpy())
    torch.special.chebyshev_polynomial_t(x, 3, out=o)
    _same(o, torch.special.chebyshev_polynomial_t(x, 3).numpy())
    torch.special.i0e(x, out=o)
    _same(o, torch.special.i0e(x).numpy())
    o32 = torch.empty(5)
    with pytest.warns(UserWarning, match="resized"):      # resized, as PyTorch warns
        torch.special.bessel_j0(torch.tensor([0, 1]), out=o32)
    assert tuple(o32.shape) == (2,) and o32.dtype is torch.float32
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        torch.special.erfcx(x, out=torch.empty(2, dtype=torch.int64))


def special_out(x: Tensor, o: Tensor):
    torch.special.ndtri(x, out=o)
    return o + torch.special.xlog1py(x, 2.0)


def test_special_out_scripted():
    x = _t([0.2, 0.7])
    f = torch.jit.script(special_out)
    assert "aten::special_ndtri(%x.1, %o.1)" in str(f.graph)
    o = torch.empty(2, dtype=torch.float64)
    r = f(x, o)
    _same(o, torch.special.ndtri(x).numpy())
    _same(r, special_out(x, torch.empty(2, dtype=torch.float64)).numpy())


def ndtr_grad_chain(x: Tensor):
    y = x * 0.5 + 0.25
    return (torch.special.ndtri(y) * 2.0
            + torch.special.erfcx(x) * torch.special.log_ndtr(x * 3.0)).sin()


def test_scripted_gradients_match_eager():
    """Gradients through a scripted (and, from the profiled runs on, fused) function with
    ndtri / erfcx / log_ndtr agree with eager autograd's."""
    f = torch.jit.script(ndtr_grad_chain)
    vals = np.linspace(-0.45, 0.9, 9)
    x2 = _t(vals).requires_grad_(True)
    (want,) = torch.autograd.grad(ndtr_grad_chain(x2).sum(), [x2])
    for _ in range(4):
        x = _t(vals).requires_grad_(True)
        (g,) = torch.autograd.grad(f(x).sum(), [x])
        _same(g, want.numpy(), rtol=1e-12, atol=1e-14)
