"""Session 42 (c42): eager CPU training speed (benchmarks/train_gpt.py). The fast paths
added there, both sides of each branch, against NumPy's values (and PyTorch's where
installed)."""
import numpy as np
import pytest

import gpujit

try:
    import torch
except ImportError:           # CI has no torch
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch")

# (B, T, K) x (K, N) shapes where NumPy's matrix-by-matrix product of a stack and one GEMM
# of the folded rows round differently (OpenBLAS, float64): the fold is visible in the bits
_FOLD_SHAPES = [((2, 3, 64), 7), ((12, 64, 128), 7), ((3, 65, 512), 65), ((2, 1, 5), 65)]


def _rng():
    return np.random.default_rng(42)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape,n", _FOLD_SHAPES)
def test_matmul_3d_by_matrix_is_one_gemm_of_the_rows(shape, n, dt):
    # ATen's matmul folds a contiguous >= 3-D self times a matrix into one mm
    rng = _rng()
    x = rng.standard_normal(shape).astype(dt)
    w = rng.standard_normal((shape[-1], n)).astype(dt)
    want = np.matmul(x.reshape(-1, shape[-1]), w).reshape(shape[:-1] + (n,))
    got = gpujit.matmul(gpujit.from_numpy(x), gpujit.from_numpy(w))
    assert tuple(got.shape) == want.shape
    assert got.dtype == (gpujit.float32 if dt == np.float32 else gpujit.float64)
    np.testing.assert_array_equal(got.numpy(), want)
    assert got.is_contiguous()


@pytest.mark.parametrize("shape,n", _FOLD_SHAPES)
def test_linear_3d_input_is_one_gemm_of_the_rows(shape, n):
    rng = _rng()
    x = rng.standard_normal(shape)
    w = rng.standard_normal((n, shape[-1]))
    b = rng.standard_normal(n)
    want = np.matmul(x.reshape(-1, shape[-1]), w.T).reshape(shape[:-1] + (n,))
    X, W, B = map(gpujit.from_numpy, (x, w, b))
    np.testing.assert_array_equal(gpujit.nn.functional.linear(X, W).numpy(), want)
    np.testing.assert_array_equal(gpujit.nn.functional.linear(X, W, B).numpy(), want + b)
    # recording: the input's gradient (grad @ weight) folds as well
    Xr = gpujit.from_numpy(x.copy()).requires_grad_()
    g = rng.standard_normal(shape[:-1] + (n,))
    gpujit.nn.functional.linear(Xr, W, B).backward(gpujit.from_numpy(g))
    np.testing.assert_array_equal(
        Xr.grad.numpy(), np.matmul(g.reshape(-1, n), w).reshape(shape))


def test_unfoldable_self_multiplies_matrix_by_matrix():
    # rows that do not merge without a copy (a transposed stack): NumPy's stacked product,
    # ATen's bmm of the expanded matrix; the values are the product's either way
    rng = _rng()
    x = rng.standard_normal((3, 64, 2)).transpose(2, 1, 0)     # (2, 64, 3), not foldable
    w = rng.standard_normal((3, 7))
    got = gpujit.matmul(gpujit.from_numpy(x), gpujit.from_numpy(w)).numpy()
    np.testing.assert_array_equal(got, np.matmul(x, w))
    lin = gpujit.nn.functional.linear(gpujit.from_numpy(x), gpujit.from_numpy(w.T.copy()))
    np.testing.assert_array_equal(lin.numpy(), np.matmul(x, w))
    # a size-1 leading dim with any stride still folds (no copy)
    y = rng.standard_normal((4, 1, 5, 6))[::2]                  # (2, 1, 5, 6)
    got = gpujit.matmul(gpujit.from_numpy(y), gpujit.from_numpy(rng.standard_normal((6, 3))))
    assert tuple(got.shape) == (2, 1, 5, 3)


def test_empty_and_mismatched_fold():
    e = gpujit.matmul(gpujit.zeros(2, 0, 4), gpujit.ones(4, 3))
    assert tuple(e.shape) == (2, 0, 3)
    z = gpujit.matmul(gpujit.ones(2, 3, 0), gpujit.ones(0, 5))
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3, 5), np.float32))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied"):
        gpujit.matmul(gpujit.ones(2, 3, 4), gpujit.ones(5, 6))


@needs_torch
@pytest.mark.parametrize("shape,n", _FOLD_SHAPES)
def test_fold_matches_torch(shape, n):
    rng = _rng()
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((n, shape[-1])).astype(np.float32)
    t = torch.nn.functional.linear(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    g = gpujit.nn.functional.linear(gpujit.from_numpy(x), gpujit.from_numpy(w)).numpy()
    # (float32 sums of shape[-1] products: BLAS libraries order them differently, so the
    # tolerance grows with the length; a wrong fold is off by O(1))
    np.testing.assert_allclose(g, t, rtol=1e-5, atol=1e-6 * shape[-1])
    with pytest.raises(RuntimeError) as te:
        torch.matmul(torch.ones(2, 3, 4), torch.ones(5, 6))
    with pytest.raises(RuntimeError) as ge:
        gpujit.matmul(gpujit.ones(2, 3, 4), gpujit.ones(5, 6))
    assert str(ge.value) == str(te.value)


def _muladd_via64(a, b, c):
    # float32 addcmul's value: the exact product and the float64 sum, rounded to float32
    with np.errstate(all="ignore"):
        return (c.astype(np.float64) + a.astype(np.float64) * b.astype(np.float64)).astype(
            np.float32)


def _ties(n, rng):
    # operands whose float64 sum sits on a float32 rounding tie now and then, plus
    # the special values
    a = rng.standard_normal(n).astype(np.float32)
    b = np.ldexp(np.ones(n, np.float32), rng.integers(-30, -20, n)).astype(np.float32)
    c = rng.standard_normal(n).astype(np.float32)
    sp = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 3e38, 1e-45], np.float32)
    a[:7], b[:7] = sp, np.array([1, 1, 1, -0.0, 0.0, 10, 0.5], np.float32)
    c[:7] = np.array([-np.inf, 1, 0, -0.0, -0.0, 3e38, 0], np.float32)
    return a, b, c


@pytest.mark.parametrize("one_pass", [False, True])
@pytest.mark.parametrize("n", [16, 1 << 17])
def test_addcmul_float32_value_both_paths(monkeypatch, one_pass, n):
    from gpujit.ops import fma
    if not one_pass:       # the NumPy side: no numba ufunc whatever was loaded before
        monkeypatch.setattr(fma, "_ufunc", lambda *a, **k: None)
    a, b, c = _ties(n, _rng())
    want = _muladd_via64(a, b, c)
    for value in (1, 0.3):
        p = a if value == 1 else a * np.float32(value)
        got = gpujit.addcmul(*map(gpujit.from_numpy, (c, a, b)), value=value).numpy()
        np.testing.assert_array_equal(got, _muladd_via64(p, b, c))
        assert np.array_equal(np.signbit(got), np.signbit(_muladd_via64(p, b, c)))
    got = fma.muladd32_via64(a, b, c)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    # 0-dim operands
    for v in (1, 0.3):
        got = gpujit.addcmul(*(gpujit.from_numpy(np.array(t[9])) for t in (c, a, b)), value=v)
        p9 = a[9:10] if v == 1 else a[9:10] * np.float32(v)
        assert got.dim() == 0 and got.dtype == gpujit.float32
        assert got.item() == float(_muladd_via64(p9, b[9:10], c[9:10])[0])
    # broadcast operands
    got = gpujit.addcmul(gpujit.from_numpy(c[:8].reshape(8, 1)), gpujit.from_numpy(a[:5]),
                         gpujit.from_numpy(b[:5])).numpy()
    np.testing.assert_array_equal(got, _muladd_via64(a[:5], b[:5], c[:8].reshape(8, 1)))


@needs_torch
def test_addcmul_float32_close_to_torch():
    a, b, c = _ties(1 << 15, _rng())
    t = torch.addcmul(*map(torch.from_numpy, (c, a, b)), value=0.3).numpy()
    g = gpujit.addcmul(*map(gpujit.from_numpy, (c, a, b)), value=0.3).numpy()
    np.testing.assert_allclose(g, t, rtol=1.2e-7, atol=0, equal_nan=True)


def _gelu_ref(x):
    # gpujit's GELU (erf-form): 0.5 * x * (1 + erf(x * M_SQRT1_2)) in x's dtype, erf as
    # gpujit.erf computes it (libm's, through NumPy's ufunc)
    e = gpujit.erf(gpujit.from_numpy(x * x.dtype.type(0.7071067811865476))).numpy()
    with np.errstate(all="ignore"):
        return x.dtype.type(0.5) * x * (1 + e)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gelu_raw_backward_equals_the_recorded_formula(dt):
    # the raw backward (no graph recorded) and the registry formula (create_graph=True)
    # give the same bits, forward as before
    rng = _rng()
    x = (rng.standard_normal((6, 50)) * 3).astype(dt)
    x[0, :6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30]
    g = rng.standard_normal((6, 50)).astype(dt)
    X = gpujit.from_numpy(x.copy()).requires_grad_()
    y = gpujit.nn.functional.gelu(X)
    np.testing.assert_array_equal(y.detach().numpy(), _gelu_ref(x))
    (raw,) = gpujit.autograd.grad(y, X, gpujit.from_numpy(g), retain_graph=True)
    (rec,) = gpujit.autograd.grad(y, X, gpujit.from_numpy(g), create_graph=True)
    assert rec.requires_grad and not raw.requires_grad
    np.testing.assert_array_equal(raw.numpy(), rec.detach().numpy())
    # hand-written: g * (cdf + x * pdf)
    with np.errstate(all="ignore"):
        cdf = (gpujit.erf(gpujit.from_numpy(x * dt(0.7071067811865476))).numpy() + 1) * dt(0.5)
        pdf = np.exp(x * x * dt(-0.5)) * dt(0.3989422804014327)
        want = g * (cdf + x * pdf)
    tol = (1e-5, 1e-7) if dt == np.float32 else (1e-12, 1e-15)     # (cdf + x * pdf cancels)
    np.testing.assert_allclose(raw.numpy(), want, rtol=tol[0], atol=tol[1])


def test_gelu_raw_backward_falls_back():
    # tanh form, a broadcast gradient, float16, a 0-dim input: the formula (same values
    # as create_graph's)
    rng = _rng()
    for x, g, kw in [(rng.standard_normal((4, 5)).astype(np.float32), None, {"approximate": "tanh"}),
                     (rng.standard_normal((4, 5)).astype(np.float16), None, {}),
                     (np.array(0.7, np.float32), None, {}),
                     (rng.standard_normal((4, 5)).astype(np.float32),
                      rng.standard_normal((4, 5)).astype(np.float32).T.copy().T, {})]:
        X = gpujit.from_numpy(x.copy()).requires_grad_()
        y = gpujit.nn.functional.gelu(X, **kw)
        G = gpujit.ones_like(y) if g is None else gpujit.from_numpy(g)
        (raw,) = gpujit.autograd.grad(y, X, G, retain_graph=True)
        (rec,) = gpujit.autograd.grad(y, X, G, create_graph=True)
        assert raw.dtype == X.dtype and tuple(raw.shape) == x.shape
        np.testing.assert_array_equal(raw.numpy(), rec.detach().numpy())


@needs_torch
def test_gelu_close_to_torch():
    x = (_rng().standard_normal(4096) * 2).astype(np.float32)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    gx = gpujit.from_numpy(x.copy()).requires_grad_()
    ty, gy = torch.nn.functional.gelu(tx), gpujit.nn.functional.gelu(gx)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=3e-7, atol=2e-6)
    ty.sum().backward()
    gy.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=3e-7, atol=2e-6)


@pytest.mark.parametrize("value", [float("-inf"), 0, 0.1, float("nan"), -7, 1 << 30, 2.5])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.float16])
def test_masked_fill_copy_path_and_where_path(value, dt):
    # a float self as large as the result and a Python number: copy + copyto(where=mask);
    # else (a mask with leading 1-dims, a larger mask, a big int, an int self) np.where;
    # the values are where()'s either way
    rng = _rng()
    x = rng.standard_normal((3, 2, 5, 5)).astype(dt)
    causal = ~np.tril(np.ones((5, 5), bool))
    for self_, mask in [(x, causal), (x, causal[None, None]), (x[0, 0], np.broadcast_to(causal, (3, 5, 5))),
                        (x.transpose(0, 1, 3, 2), causal), (x[:, :, :1, :], causal[:1])]:
        if dt == np.float16 and value == 1 << 30:      # (past float16's range: refused)
            with pytest.raises(RuntimeError, match="cannot be converted to type c10::Half"):
                gpujit.from_numpy(self_).masked_fill(gpujit.from_numpy(np.ascontiguousarray(mask)), value)
            continue
        with np.errstate(all="ignore"):
            want = np.where(mask, dt(value), self_)
        got = gpujit.from_numpy(np.ascontiguousarray(self_)).masked_fill(
            gpujit.from_numpy(np.ascontiguousarray(mask)), value)
        assert got.dtype == gpujit.from_numpy(x).dtype and got.is_contiguous()
        np.testing.assert_array_equal(got.numpy(), want)
        t = gpujit.from_numpy(np.ascontiguousarray(self_)).t() if self_.ndim == 2 else None
        if t is not None:           # a transposed (non-contiguous) self
            got = t.masked_fill(gpujit.from_numpy(causal), value)
            np.testing.assert_array_equal(got.numpy(), np.where(causal, dt(value), self_.T))
            assert got.is_contiguous()


def test_masked_fill_int_self_and_big_int():
    x = np.arange(12, dtype=np.int64).reshape(3, 4)
    m = np.array([True, False, True, False])
    got = gpujit.from_numpy(x).masked_fill(gpujit.from_numpy(m), (1 << 40) + 1)
    np.testing.assert_array_equal(got.numpy(), np.where(m, (1 << 40) + 1, x))
    y = np.ones((2, 4), np.float64)
    got = gpujit.from_numpy(y).masked_fill(gpujit.from_numpy(m), (1 << 53) + 1)
    np.testing.assert_array_equal(got.numpy(), np.where(m, float((1 << 53) + 1), y))
    with pytest.raises(RuntimeError, match="value cannot be converted to type float"):
        gpujit.ones(2, 4).masked_fill(gpujit.from_numpy(m), 1e40)
    # a Python int past float16's range: c10's checked conversion, as for a float
    for v in (1 << 30, 70000, -70000):
        with pytest.raises(RuntimeError, match="value cannot be converted to type c10::Half "
                                               "without overflow"):
            gpujit.zeros(4, dtype=gpujit.float16).masked_fill(gpujit.from_numpy(m), v)
    h = gpujit.zeros(4, dtype=gpujit.float16).masked_fill(gpujit.from_numpy(m), 65504)
    assert h.tolist() == [65504.0, 0.0, 65504.0, 0.0]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_softmax_in_place_steps(dt):
    # exp and the division into one array: the values of e = exp(x - max); e / sum(e)
    rng = _rng()
    x = (rng.standard_normal((4, 3, 17)) * 5).astype(dt)
    x[0, 0, :3] = [-np.inf, np.inf, 0]
    x[1, 1, :] = -np.inf
    for d in (0, 1, 2, -1):
        with np.errstate(all="ignore"):
            z = x - x.max(d, keepdims=True)
            e = np.exp(z)
            want = e / e.sum(d, keepdims=True)
        got = gpujit.softmax(gpujit.from_numpy(x), d).numpy()
        lg = gpujit.log_softmax(gpujit.from_numpy(x), d).numpy()
        with np.errstate(all="ignore"):
            lwant = z - np.log(np.exp(z).sum(d, keepdims=True))
        if dt == np.float32 and d in (2, -1):
            # (float32 over the last dim is ATen's kernel since s49, its bits: Sleef exp and
            # the lane-ordered sum; tests/test_user_programs_s49.py)
            np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-30)
            np.testing.assert_allclose(lg, lwant, rtol=2e-6, atol=2e-6)
            continue
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(lg, lwant)
    assert gpujit.softmax(gpujit.tensor(2.0), 0).item() == 1.0


@needs_torch
def test_masked_fill_softmax_match_torch():
    rng = _rng()
    x = rng.standard_normal((3, 2, 6, 6)).astype(np.float32)
    m = ~np.tril(np.ones((6, 6), bool))
    t = torch.from_numpy(x).masked_fill(torch.from_numpy(m), float("-inf")).softmax(-1)
    g = gpujit.from_numpy(x).masked_fill(gpujit.from_numpy(m), float("-inf")).softmax(-1)
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=2e-7, atol=1e-8)
    with pytest.raises(RuntimeError) as te:
        torch.ones(2, 4).masked_fill(torch.from_numpy(m[:4, :4][0]), 1e40)
    with pytest.raises(RuntimeError) as ge:
        gpujit.ones(2, 4).masked_fill(gpujit.from_numpy(m[:4, :4][0]), 1e40)
    assert str(ge.value) == str(te.value)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("shape,ns", [((6, 7, 16), (16,)), ((3, 4, 5), (4, 5)), ((9,), (9,))])
def test_layer_norm_raw_backward_equals_the_recorded_formula(dt, affine, shape, ns):
    rng = _rng()
    x = (rng.standard_normal(shape) * 3 + 1).astype(dt)
    g = rng.standard_normal(shape).astype(dt)
    w = rng.standard_normal(ns).astype(dt) if affine[0] else None
    b = rng.standard_normal(ns).astype(dt) if affine[1] else None
    ins = [gpujit.from_numpy(x.copy()).requires_grad_()]
    W = B = None
    if w is not None:
        W = gpujit.from_numpy(w.copy()).requires_grad_()
        ins.append(W)
    if b is not None:
        B = gpujit.from_numpy(b.copy()).requires_grad_()
        ins.append(B)
    y = gpujit.nn.functional.layer_norm(ins[0], list(ns), W, B, 1e-5)
    raw = gpujit.autograd.grad(y, ins, gpujit.from_numpy(g), retain_graph=True)
    rec = gpujit.autograd.grad(y, ins, gpujit.from_numpy(g), create_graph=True)
    for r, c in zip(raw, rec):
        assert not r.requires_grad and r.dtype == c.dtype and r.shape == c.shape
        np.testing.assert_array_equal(r.numpy(), c.detach().numpy())
    # hand-written: invstd * (g' - mean(g') - xhat * mean(g' * xhat)), g' = g * w
    ax = tuple(range(x.ndim - len(ns), x.ndim))
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    mu = x64.mean(ax, keepdims=True)
    inv = 1 / np.sqrt(((x64 - mu) ** 2).mean(ax, keepdims=True) + 1e-5)
    xh = (x64 - mu) * inv
    gp = g64 * w if w is not None else g64
    want = inv * (gp - gp.mean(ax, keepdims=True) - xh * (gp * xh).mean(ax, keepdims=True))
    tol = 2e-4 if dt == np.float32 else 1e-10
    np.testing.assert_allclose(raw[0].numpy(), want, rtol=tol, atol=tol)
    lead = tuple(range(x.ndim - len(ns)))
    if w is not None:
        np.testing.assert_allclose(raw[1].numpy(), (g64 * xh).sum(lead), rtol=tol, atol=tol)
    if b is not None:
        np.testing.assert_allclose(raw[-1].numpy(), g64.sum(lead), rtol=tol, atol=tol)


def test_layer_norm_raw_backward_falls_back():
    # float16, a broadcast (sum's) gradient, a non-contiguous input, an empty one: the formula
    rng = _rng()
    cases = [rng.standard_normal((4, 8)).astype(np.float16),
             rng.standard_normal((8, 4)).astype(np.float32).T,
             np.zeros((0, 8), np.float32)]
    for x in cases:
        X = gpujit.from_numpy(x).requires_grad_()
        W = gpujit.ones(8, dtype=X.dtype, requires_grad=True)
        y = gpujit.nn.functional.layer_norm(X, [8], W, None)
        for G in (gpujit.from_numpy(rng.standard_normal(x.shape).astype(x.dtype)), None):
            yy = y if G is not None else y.sum()
            raw = gpujit.autograd.grad(yy, [X, W], G, retain_graph=True)
            rec = gpujit.autograd.grad(yy, [X, W], G, create_graph=True)
            for r, c in zip(raw, rec):
                np.testing.assert_array_equal(r.numpy(), c.detach().numpy())


@needs_torch
def test_layer_norm_grads_close_to_torch():
    rng = _rng()
    x = rng.standard_normal((6, 7, 16)).astype(np.float32)
    g = rng.standard_normal((6, 7, 16)).astype(np.float32)
    grads = []
    for lib in (torch, gpujit):
        m = lib.nn.LayerNorm(16)
        with lib.no_grad():
            m.weight.copy_(lib.from_numpy(np.linspace(0.5, 1.5, 16, dtype=np.float32)))
        X = lib.from_numpy(x.copy()).requires_grad_()
        m(X).backward(lib.from_numpy(g))
        grads.append([X.grad.numpy(), m.weight.grad.numpy(), m.bias.grad.numpy()])
    for t, gg in zip(*grads):
        np.testing.assert_allclose(gg, t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape,ns", [((6, 7, 16), (16,)), ((3, 4, 5), (4, 5)), ((9,), (9,)),
                                      ((2, 3, 1), (1,))])
def test_layer_norm_forward_is_numpy_var_formula(dt, shape, ns):
    # (x - mean) / sqrt(var + eps) * w + b with NumPy's x.mean / x.var (float16 in float32);
    # float32 and float64 follow PyTorch's CPU kernel's Welford order instead (session 45:
    # bit for bit with torch, tests/test_cpu_perf_s45.py), within a few ulp of this formula
    rng = _rng()
    x = (rng.standard_normal(shape) * 4 + 2).astype(dt)
    w = rng.standard_normal(ns).astype(dt)
    b = rng.standard_normal(ns).astype(dt)
    c = x.astype(np.float32) if dt == np.float16 else x
    ax = tuple(range(x.ndim - len(ns), x.ndim))
    norm = (c - c.mean(ax, keepdims=True)) / np.sqrt(c.var(ax, keepdims=True) + 1e-5)
    for W, B in ((None, None), (w, None), (w, b)):
        want = norm
        if W is not None:
            want = want * W.astype(c.dtype)
        if B is not None:
            want = want + B.astype(c.dtype)
        got = gpujit.nn.functional.layer_norm(
            gpujit.from_numpy(x), list(ns), None if W is None else gpujit.from_numpy(W),
            None if B is None else gpujit.from_numpy(B))
        if dt == np.float32:
            np.testing.assert_allclose(got.numpy(), want.astype(dt), rtol=1e-5, atol=2e-6)
        elif dt == np.float64:
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-13, atol=1e-14)
        else:
            np.testing.assert_array_equal(got.numpy(), want.astype(dt))
    gn = gpujit.nn.functional.group_norm(gpujit.from_numpy(x.reshape(3, -1) if x.size % 3 == 0
                                                           else x.reshape(1, -1)), 1)
    assert gn.dtype == gpujit.from_numpy(x).dtype
