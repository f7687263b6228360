"""Session 52 (b): the CPU compute of a transformer block's ops, same values faster.

- float32 erf (torch.erf, F.gelu, gelu's backward) is libm's erff bit for bit
  (ops/_erf_kernel.py: fdlibm's rational functions and glibc's expf compiled, blocks of
  values vectorized), no longer a libm call per value: its reference here is the numba
  ufunc of math.erf (libm's erff) that eager used before and the fused kernels call;
- F.gelu (erf form) of float32 in one compiled pass, the same bits as its NumPy steps;
- softmax / log_softmax float32 rows with the row max inside the compiled loop.
"""
import math

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F

_F = np.float32


def _bits(a):
    return np.asarray(a, np.float32).view(np.uint32)


def _libm_erf(x):
    from gpujit.ops.special import _ufunc
    with np.errstate(all="ignore"):
        return _ufunc("erf")(np.asarray(x, np.float32))


def _around(value, k=300):
    """k float32 values on either side of value (and of -value), value included."""
    b = np.array([value], np.float32).view(np.int32)[0]
    r = np.arange(b - k, b + k + 1, dtype=np.int64)
    r = r[(r >= 0) & (r < 0x7f800000)].astype(np.int32).view(np.float32)
    return np.concatenate([r, -r])


def _erf_inputs():
    # every branch of fdlibm's erff and its edges: 2^-119, 2^-28, 0.84375, 1.25, 1/0.35,
    # 4, 6, the subnormals, zeros, infinities, NaN; a spread of ordinary values
    edges = [2.0 ** -119, 2.0 ** -28, 0.84375, 1.25, 2.857142925262451, 4.0, 6.0,
             1e-40, 1.0, 2.0, 3.0, 0.5]
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 3.4e38],
                       np.float32)
    rng = np.random.default_rng(52)
    spread = np.concatenate([rng.standard_normal(4000) * 2, rng.uniform(-6, 6, 4000),
                             np.exp(rng.uniform(-90, 2, 2000)) * rng.choice([-1, 1], 2000)])
    return np.concatenate([special] + [_around(e) for e in edges]
                          + [spread.astype(np.float32)])


def test_erf_kernel_agrees_with_this_libm():
    # (glibc's fdlibm erff, as the compiled kernel: true on the project's Linux machines;
    # elsewhere eager keeps libm's per-value erff and the other tests still hold)
    from gpujit.ops import _erf_kernel
    import platform
    lib, ver = platform.libc_ver()
    if lib == "glibc" and tuple(map(int, ver.split(".")[:2])) <= (2, 36):
        assert _erf_kernel.agrees_with_libm()
    x = _erf_inputs()
    np.testing.assert_array_equal(np.isnan(_erf_kernel.erf_f32(x)), np.isnan(x))


def test_erf_float32_is_libm_erff_bit_for_bit():
    x = _erf_inputs()
    got = gpujit.erf(gpujit.from_numpy(x)).numpy()
    want = _libm_erf(x)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(_bits(got)[~nan], _bits(want)[~nan])
    assert got.dtype == np.float32


def test_erf_float32_layouts_and_shapes():
    rng = np.random.default_rng(1)
    base = (rng.standard_normal((6, 5, 7)) * 2).astype(np.float32)
    t = gpujit.from_numpy(base)
    for v in (t, t.transpose(0, 2), t[:, ::2], t[..., 1:4].permute(2, 0, 1), t[0, 0, 3]):
        got = gpujit.erf(v)
        assert tuple(got.shape) == tuple(v.shape)
        want = _libm_erf(v.numpy())
        np.testing.assert_array_equal(_bits(got.numpy()), _bits(want))
    e = gpujit.erf(gpujit.zeros(0, 3))
    assert tuple(e.shape) == (0, 3) and e.dtype == gpujit.float32
    out = gpujit.empty(6, 5, 7)
    gpujit.erf(t, out=out)
    np.testing.assert_array_equal(_bits(out.numpy()), _bits(_libm_erf(base)))


def _gelu_steps(x):
    # gelu's NumPy steps (eager before this session, the fused kernels' formula):
    # (0.5 * x) * (1 + erf(x * float32(M_SQRT1_2))), each step in float32
    with np.errstate(all="ignore"):
        e = _libm_erf(x * _F(0.7071067811865476))
        return (_F(0.5) * x) * (e + _F(1))


def test_gelu_float32_same_bits_as_its_steps():
    with np.errstate(over="ignore"):
        x = np.concatenate([_erf_inputs() * _F(1.4142135), _erf_inputs()])
    got = F.gelu(gpujit.from_numpy(x)).numpy()
    want = _gelu_steps(x)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(_bits(got)[~nan], _bits(want)[~nan])


def test_gelu_float32_module_layouts_and_float16():
    rng = np.random.default_rng(2)
    a = (rng.standard_normal((4, 9, 6)) * 3).astype(np.float32)
    t = gpujit.from_numpy(a)
    v = t.transpose(1, 2)
    got = gpujit.nn.GELU()(v)
    assert got.stride() == (54, 1, 6)        # (a unary op keeps the input's layout)
    np.testing.assert_array_equal(_bits(got.numpy()), _bits(_gelu_steps(v.numpy())))
    w = t.view(-1)[::3]
    np.testing.assert_array_equal(_bits(F.gelu(w).numpy()), _bits(_gelu_steps(w.numpy())))
    h = gpujit.from_numpy(a.astype(np.float16))
    g16 = F.gelu(h)
    assert g16.dtype == gpujit.float16
    np.testing.assert_array_equal(g16.numpy(), _gelu_steps(a.astype(np.float16)
                                                           .astype(np.float32))
                                  .astype(np.float16))
    s = F.gelu(gpujit.tensor(1.5))
    assert s.dim() == 0 and s.item() == float(_gelu_steps(np.array([1.5], np.float32))[0])


def test_gelu_backward_float32_uses_the_same_erf():
    rng = np.random.default_rng(3)
    a = (rng.standard_normal(3000) * 2).astype(np.float32)
    g = rng.standard_normal(3000).astype(np.float32)
    x = gpujit.from_numpy(a).requires_grad_()
    F.gelu(x).backward(gpujit.from_numpy(g))
    with np.errstate(all="ignore"):
        cdf = (_libm_erf(a * _F(math.sqrt(0.5))) + _F(1)) * _F(0.5)
        pdf = np.exp(a * a * _F(-0.5)) * _F(0.3989422804014327)
    np.testing.assert_allclose(x.grad.numpy(), g * (cdf + a * pdf), rtol=1e-5, atol=1e-7)
    # bit for bit as gelu_backward's NumPy steps (x * pdf + cdf through float64, one
    # compiled pass now), infinities and NaN included
    a[:3] = [np.inf, -np.inf, np.nan]
    with np.errstate(all="ignore"):
        pdf = np.exp(a * a * _F(-0.5)) * _F(0.3989422804014327)
        cdf = (_libm_erf(a * _F(math.sqrt(0.5))) + _F(1)) * _F(0.5)
        want = g * (a.astype(np.float64) * pdf.astype(np.float64)
                    + cdf.astype(np.float64)).astype(np.float32)
    x = gpujit.from_numpy(a).requires_grad_()
    F.gelu(x).backward(gpujit.from_numpy(g))
    got = x.grad.numpy()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(_bits(got)[ok], _bits(want)[ok])


@pytest.mark.parametrize("n", [1, 15, 16, 17, 33, 128, 130])
def test_softmax_rows_special_values(n):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((7, n)).astype(np.float32) * 4
    a[1, n // 2] = np.nan
    a[2, :] = -np.inf
    a[3, n - 1] = np.inf
    a[4, 0] = -np.inf
    a[5] = 1e30
    t = gpujit.from_numpy(a)
    for log in (False, True):
        got = (F.log_softmax if log else F.softmax)(t, -1).numpy()
        with np.errstate(all="ignore"):
            m = a.max(1, keepdims=True)
            e = np.exp((a - m).astype(np.float64))
            want = np.log(e / e.sum(1, keepdims=True)) if log else e / e.sum(1, keepdims=True)
        assert np.array_equal(np.isnan(got), np.isnan(want)), (log, n)
        ok = ~np.isnan(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=2e-6, atol=1e-6)
        assert np.isnan(got[1]).all() and np.isnan(got[2]).all() and np.isnan(got[3]).all()


def test_block_ops_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((2, 16, 40)) * 2).astype(np.float32)
    for approximate in ("none", "tanh"):
        a = F.gelu(gpujit.from_numpy(x), approximate=approximate).numpy()
        b = torch.nn.functional.gelu(torch.from_numpy(x), approximate=approximate).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gpujit.erf(gpujit.from_numpy(x)).numpy(),
                               torch.erf(torch.from_numpy(x)).numpy(), rtol=2e-7, atol=2e-7)
    s = (rng.standard_normal((3, 5, 37)) * 3).astype(np.float32)
    s[0, 1, 4] = -np.inf
    for fn in ("softmax", "log_softmax"):
        a = getattr(F, fn)(gpujit.from_numpy(s), -1).numpy()
        b = getattr(torch.nn.functional, fn)(torch.from_numpy(s), -1).numpy()
        np.testing.assert_array_equal(a, b)      # (ATen's kernel, bit for bit)
    q, k, v = (gpujit.from_numpy(rng.standard_normal((2, 2, 9, 8)).astype(np.float32))
               for _ in range(3))
    got = F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    tq, tk, tv = (torch.from_numpy(t.numpy()) for t in (q, k, v))
    want = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.float16])
def test_gelu_tanh_same_bits_as_its_expression(dt):
    # (computed in place now: the expression's steps in the same order)
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((3, 50)) * 4).astype(dt)
    xx = x.astype(np.float32) if dt == np.float16 else x
    with np.errstate(all="ignore"):
        want = 0.5 * xx * (1 + np.tanh(0.7978845608028654 * (xx + 0.044715 * xx * xx * xx)))
    got = F.gelu(gpujit.from_numpy(x), approximate="tanh")
    assert got.dtype == gpujit.from_numpy(x).dtype
    np.testing.assert_array_equal(got.numpy(), want.astype(dt))
    got_t = F.gelu(gpujit.from_numpy(x).t(), approximate="tanh")
    np.testing.assert_array_equal(got_t.numpy(), want.astype(dt).T)
