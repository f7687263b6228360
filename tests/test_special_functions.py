"""lgamma, digamma, polygamma and the float-bits ops (hypot, copysign, nextafter, ldexp, sgn,
float_power): PyTorch's values at the edges (poles, signed zeros, infinities, NaN, large
arguments), dtypes, gradients, and fused code (CPU kernels, the CUDA code generator under
numba's simulator) agreeing with eager code. The general sweeps (tests/test_opinfo.py,
tests/test_kernels*.py) cover these ops too; this file pins the special values."""
from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor

INF, NAN = math.inf, math.nan
EULER = 0.5772156649015329
# the edge values: signed zeros, negative integers, negative non-integers, infinities, NaN,
# large and tiny arguments
EDGES = [0.0, -0.0, -1.0, -2.0, -2.5, -0.5, 0.5, 1.0, 2.0, 10.0, INF, -INF, NAN, 1e20,
         -1e20, 1e-30, -1e-30, 1e3]


def _t(vals, dtype=torch.float64):
    return torch.tensor(vals, dtype=dtype)


def _same(got, want, rtol=1e-13, atol=0.0):
    got = got.numpy().astype(np.float64)
    want = np.asarray(want, np.float64)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    zero = want == 0
    assert (np.signbit(got[zero]) == np.signbit(want[zero])).all(), "the sign of a zero"


# ---------------------------------------------------------------- lgamma

def test_lgamma_edges():
    want = [INF, INF, INF, INF, math.lgamma(-2.5), math.lgamma(-0.5), math.lgamma(0.5), 0.0,
            0.0, math.lgamma(10.0), INF, INF, NAN, math.lgamma(1e20), INF, math.lgamma(1e-30),
            math.lgamma(-1e-30), math.lgamma(1e3)]
    _same(torch.lgamma(_t(EDGES)), want)
    assert torch.lgamma(_t([1e308])).item() == INF        # overflows to inf, no error


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_lgamma_keeps_float_dtypes(dtype):
    x = _t([0.5, 3.0, -1.5, 20.0], dtype)
    y = x.lgamma()
    assert y.dtype is dtype
    want = [math.lgamma(float(v)) for v in x.numpy()]
    np.testing.assert_allclose(y.numpy().astype(np.float64), want,
                               rtol=1e-3 if dtype is torch.float16 else 1e-6)


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int32, torch.int64])
def test_integer_inputs_promote_to_the_default_float(dtype):
    x = torch.tensor([1, 0, 1], dtype=dtype) if dtype is torch.bool else \
        torch.tensor([1, 2, 5], dtype=dtype)
    vals = x.to(torch.float64)
    for fn in (torch.lgamma, torch.digamma, lambda t: torch.polygamma(1, t),
               lambda t: torch.polygamma(0, t)):
        y = fn(x)
        assert y.dtype is torch.float32
        np.testing.assert_allclose(y.numpy(), fn(vals).numpy().astype(np.float32),
                                   rtol=1e-6)


def test_in_place_forms():
    x = _t([0.5, 3.0, -1.5])
    ref = x.clone()
    assert x.lgamma_() is x and x._version == 1
    _same(x, torch.lgamma(ref))
    x = ref.clone()
    x.digamma_()
    _same(x, torch.digamma(ref))
    x = ref.clone()
    assert x.polygamma_(2) is x
    _same(x, torch.polygamma(2, ref))
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        torch.tensor([1, 2]).lgamma_()
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        torch.tensor([1, 2]).polygamma_(1)


# ---------------------------------------------------------------- digamma

def test_digamma_known_values():
    x = _t([1.0, 2.0, 0.5, 1.5, -0.5, 10.0])
    half = -EULER - 2 * math.log(2)
    want = [-EULER, 1 - EULER, half, half + 2,
            half + 2,                                   # psi(-1/2) = psi(1/2) + 2
            -EULER + sum(1 / k for k in range(1, 10))]
    _same(torch.digamma(x), want, rtol=1e-14)


def test_digamma_edges_as_pytorch():
    """+0 -> -inf, -0 -> +inf (copysign(inf, -x)), negative integers and -inf -> nan,
    +inf -> inf, reflection below 0, log(x) for huge x."""
    y = torch.digamma(_t(EDGES)).numpy()
    assert y[0] == -INF and y[1] == INF
    assert np.isnan(y[[2, 3, 11, 12, 14]]).all()          # -1, -2, -inf, nan, -1e20
    assert y[10] == INF
    np.testing.assert_allclose(y[4], 1.1031566406452432, rtol=1e-14)      # psi(-2.5)
    np.testing.assert_allclose(y[13], math.log(1e20), rtol=1e-15)
    np.testing.assert_allclose(y[15], -1e30, rtol=1e-12)                  # -1/x - gamma
    np.testing.assert_allclose(y[16], 1e30, rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32])
def test_digamma_low_precision_is_atens_float_algorithm(dtype):
    """float32 (and float16, rounding it) compute ATen's calc_digamma(float) in float32
    steps, as torch 2.13 (session 47; the float64 result rounded differed:
    digamma(0.25) -4.227453708648682, digamma(1.0) -0.5772156715393066 in float32)."""
    x = _t([0.25, 1.0, 3.5, -2.5, 100.0], dtype)
    want = {torch.float32: [-4.22745418548584, -0.5772159099578857, 1.1031566858291626,
                            1.1031566858291626, 4.600162029266357],
            torch.float16: [-4.2265625, -0.5771484375, 1.103515625, 1.103515625,
                            4.6015625]}[dtype]
    y = torch.digamma(x)
    assert y.dtype is dtype
    assert y.tolist() == want


# ---------------------------------------------------------------- polygamma

def test_polygamma_known_values():
    one = _t([1.0])
    # (n = 1: ATen's trigamma series, as torch 2.13: pi^2 / 6 within 5e-10, since s47)
    assert torch.polygamma(1, one).tolist() == [1.6449340676383375]
    _same(torch.polygamma(1, one), [math.pi ** 2 / 6], rtol=1e-9)
    _same(torch.polygamma(2, one), [-2 * 1.2020569031595942], rtol=1e-15)  # -2 zeta(3)
    _same(torch.polygamma(3, one), [math.pi ** 4 / 15], rtol=1e-15)        # 6 zeta(4)
    assert torch.polygamma(1, _t([0.5])).tolist() == [4.934802202073678]
    _same(torch.polygamma(0, one), [-EULER], rtol=1e-15)
    # psi^(n)(x) - psi^(n)(x + 1) = (-1)^(n+1) n! / x^(n+1), also below 0
    x = _t([-2.75, -0.3, 0.2, 4.5])
    _same(torch.polygamma(1, x) - torch.polygamma(1, x + 1), 1 / (x * x), rtol=1e-9)
    _same(torch.polygamma(4, x) - torch.polygamma(4, x + 1), -24 / x ** 5, rtol=1e-9)


def test_polygamma_edges():
    p1 = torch.polygamma(1, _t([0.0, -0.0, -1.0, INF, -INF, NAN])).numpy()
    # (torch's trigamma: sin(-pi) is not 0, so a large finite value at -1)
    assert p1.tolist()[:4] == [INF, INF, 6.580790147320947e+32, 0.0]
    assert np.isnan(p1[4:]).all()
    p2 = torch.polygamma(2, _t([0.0, -3.0, INF, -INF, NAN])).numpy()
    assert p2.tolist()[:2] == [-INF, -INF] and np.isnan(p2[2]) and p2[3] == -INF
    p3 = torch.polygamma(3, _t([0.0, -3.0, 1e20])).numpy()
    assert p3.tolist()[:2] == [INF, INF]
    np.testing.assert_allclose(p3[2], 2e-60, rtol=1e-12)          # (n-1)! / x**n
    with pytest.raises(RuntimeError, match=r"polygamma\(n, x\) does not support negative n"):
        torch.polygamma(-1, _t([1.0]))


def test_polygamma_bindings():
    x = _t([0.5, 2.0])
    _same(x.polygamma(1), torch.polygamma(1, x))
    _same(torch.polygamma(0, x), torch.digamma(x))
    assert torch.polygamma(1, _t([0.5], torch.float16)).dtype is torch.float16


# ---------------------------------------------------------------- gradients

def test_gradients_lgamma_digamma_polygamma():
    x = _t([0.7, 2.5, -1.5]).requires_grad_()
    (g,) = torch.autograd.grad(torch.lgamma(x).sum(), x)
    _same(g, torch.digamma(x.detach()))
    (g,) = torch.autograd.grad(torch.digamma(x).sum(), x)
    _same(g, torch.polygamma(1, x.detach()))
    (g,) = torch.autograd.grad(torch.polygamma(2, x).sum(), x)
    _same(g, torch.polygamma(3, x.detach()))
    (g,) = torch.autograd.grad(x.polygamma(1).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)            # twice: polygamma(3)
    _same(gg, torch.polygamma(3, x.detach()))


def test_gradients_float_bits_ops():
    x = _t([3.0, -4.0, 0.0]).requires_grad_()
    y = _t([4.0, 3.0, -2.0]).requires_grad_()
    gx, gy = torch.autograd.grad(torch.hypot(x, y).sum(), (x, y))
    h = np.hypot([3.0, -4.0, 0.0], [4.0, 3.0, -2.0])
    _same(gx, np.array([3.0, -4.0, 0.0]) / h)
    _same(gy, np.array([4.0, 3.0, -2.0]) / h)
    gx, gy = torch.autograd.grad(torch.copysign(x, y).sum(), (x, y))
    _same(gx, [1.0, -1.0, 0.0])                             # 0 where self is 0
    _same(gy, [0.0, 0.0, 0.0])
    gx, gy = torch.autograd.grad(torch.ldexp(x, y).sum(), (x, y))
    _same(gx, 2.0 ** np.array([4.0, 3.0, -2.0]))
    _same(gy, np.array([3.0, -4.0, 0.0]) * 2.0 ** np.array([4.0, 3.0, -2.0]) * math.log(2))
    (g,) = torch.autograd.grad(torch.sgn(x).sum(), x)
    _same(g, [0.0, 0.0, 0.0])
    f = _t([1.5, 2.0], torch.float32).requires_grad_()
    (g,) = torch.autograd.grad(torch.float_power(f, 3).sum(), f)
    assert g.dtype is torch.float32
    _same(g, [3 * 1.5 ** 2, 12.0])
    # (PyTorch 2.13 differentiates nextafter: self's gradient where self != other, zeros
    # for other)
    gx, gy = torch.autograd.grad(torch.nextafter(x, y).sum(), (x, y))
    _same(gx, [1.0, 1.0, 1.0])
    _same(gy, [0.0, 0.0, 0.0])


# ---------------------------------------------------------------- the float-bits ops

def test_hypot_copysign_nextafter_sgn():
    _same(torch.hypot(_t([3.0, INF, NAN, -INF]), _t([4.0, NAN, INF, 1.0])),
          [5.0, INF, INF, INF])
    with pytest.raises(RuntimeError, match="\"hypot_cpu\" not implemented for .Long."):  # torch 2.13
        torch.hypot(torch.tensor([1]), torch.tensor([2]))
    _same(torch.copysign(_t([1.0, 2.0, 0.0, INF]), _t([-0.0, -NAN, -1.0, 1.0])),
          [-1.0, -2.0, -0.0, INF])
    y = torch.copysign(torch.tensor([1, 2]), -1)
    assert y.dtype is torch.float32 and y.tolist() == [-1.0, -2.0]
    h = torch.nextafter(_t([1.0, 0.0], torch.float16), _t([2.0, -1.0], torch.float16))
    assert h.dtype is torch.float16
    assert h.numpy().tolist() == [np.nextafter(np.float16(1), np.float16(2)).item(),
                                  -np.float16(6e-08).item()]
    with pytest.raises(RuntimeError, match="\"nextafter_cpu\" not implemented for .Long."):
        torch.nextafter(torch.tensor([1]), torch.tensor([2]))
    s = torch.sgn(_t([-2.0, -0.0, 0.0, 3.0, NAN]))
    assert s.numpy().tolist()[:4] == [-1.0, 0.0, 0.0, 1.0] and s.numpy()[4] == 0.0
    assert torch.sgn(torch.tensor([True, False])).dtype is torch.bool
    assert torch.tensor([-3, 0, 4]).sgn().tolist() == [-1, 0, 1]


def test_ldexp_and_float_power():
    y = torch.ldexp(torch.tensor([1e-30]), torch.tensor([130]))     # no overflow of 2**130
    np.testing.assert_allclose(y.numpy(), [1e-30 * 2.0 ** 130], rtol=1e-6)
    assert torch.ldexp(torch.tensor([3], dtype=torch.int32),
                       torch.tensor([2], dtype=torch.int32)).tolist() == [12.0]
    h = torch.ldexp(_t([-0.1839, 3.0], torch.float16), torch.tensor([17, 3]))
    assert h.dtype is torch.float16 and np.isfinite(h.numpy()).all()
    for a, b in ((torch.tensor([1, 2, 3]), 2), (2, torch.tensor([1, 2])),
                 (_t([2.0], torch.float16), _t([0.5], torch.float16))):
        assert torch.float_power(a, b).dtype is torch.float64
    _same(torch.float_power(_t([4.0, -8.0], torch.float32), 0.5), [2.0, NAN])
    x = _t([1.0, 2.0], torch.float32)
    with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float "
                                           "but the operation's result requires dtype "
                                           "Double"):
        x.float_power_(2)
    d = _t([1.5, 2.0])
    assert d.float_power_(2) is d and d.tolist() == [2.25, 4.0]


# ---------------------------------------------------------------- scripted and fused

def special_chain(x: Tensor, y: Tensor):
    a = torch.lgamma(x) + x.digamma() * 0.5
    b = torch.hypot(x, y) + torch.copysign(x, y) + torch.ldexp(x, y) + torch.sgn(y)
    return a - b, torch.nextafter(x * 1.0, y), torch.digamma(y).lgamma()


def polygamma_calls(x: Tensor):
    return torch.polygamma(2, x) + x.polygamma(1) + torch.polygamma(0, x)


def _calls(fn, *args, n=3):
    f = torch.jit.script(fn)
    outs = [f(*args) for _ in range(n)]
    return f, [o if isinstance(o, tuple) else (o,) for o in outs]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_scripted_chain_fuses_and_matches_eager(dtype):
    vals = [0.0, -0.0, -1.0, -2.5, 0.5, 1.0, 3.0, INF, -INF, NAN, 40.0, -3.75]
    x = _t(vals, dtype)
    y = _t(list(reversed(vals)), dtype)
    f, outs = _calls(special_chain, x, y)
    graph = str(f.graph_for(x, y))
    assert "TensorExprGroup" in graph
    for name in ("lgamma", "digamma", "hypot", "copysign", "ldexp", "sgn", "nextafter"):
        assert f"aten::{name}" in graph.split("with prim::TensorExprGroup", 1)[1], name
    want = special_chain(x, y)
    tol = {torch.float16: (1e-2, 1e-3), torch.float32: (1e-5, 1e-6),
           torch.float64: (1e-12, 1e-14)}[dtype]
    for call in outs:
        for g, w in zip(call, want):
            assert g.dtype is w.dtype
            np.testing.assert_allclose(g.numpy().astype(np.float64),
                                       w.numpy().astype(np.float64), rtol=tol[0],
                                       atol=tol[1], equal_nan=True)
        np.testing.assert_array_equal(call[1].numpy(), want[1].numpy())   # nextafter: exact


def test_scripted_polygamma_and_int_inputs():
    x = _t([0.3, 1.0, 2.5, -1.5])
    f, outs = _calls(polygamma_calls, x)
    assert "aten::polygamma" in str(f.graph)
    for (g,) in outs:
        _same(g, polygamma_calls(x).numpy(), rtol=1e-14)
    i = torch.tensor([1, 2, 3])
    _, outs = _calls(lambda_free_lgamma, i)
    for (g,) in outs:
        assert g.dtype is torch.float32
        _same(g, [0.0, 0.0, math.log(2.0)], rtol=1e-6)


def lambda_free_lgamma(x: Tensor):
    return torch.lgamma(x)


@pytest.mark.sim
def test_fused_kernels_under_the_cuda_simulator():
    """The CUDA code generator's kernel of the special ops, run by numba's simulator (the
    `sim` primitives: Python's math.lgamma raises at the poles, so they are tested first)."""
    code = r"""
import sys
sys.path.insert(0, {tests!r})
import numpy as np
import test_kernels as t
import test_special_functions as s
vals = np.array([0.0, -0.0, -1.0, -2.5, 0.5, 1.0, 3.0, np.inf, -np.inf, np.nan, 40.0,
                 -3.75, 1e-30, 2.6e305], np.float64)
n = 0
for dt in (np.float64, np.float32, np.float16):
    with np.errstate(all="ignore"):
        x, y = vals.astype(dt), vals[::-1].astype(dt)
    g = t.traced(s.special_chain, x, y)
    for static in (True, False):
        t.run_and_compare(g, (x, y), target="sim", static=static)
        n += 1
print(f"simulator: {{n}} checks passed")
"""
    tests = os.path.dirname(__file__)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    from test_kernels import session_cache_dir
    env["GPUJIT_CACHE_DIR"] = session_cache_dir()
    r = subprocess.run([sys.executable, "-c", code.format(tests=tests)], capture_output=True,
                       text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    assert "checks passed" in r.stdout
