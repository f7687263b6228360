"""PyTorch's test_tensorexpr.py (NNC's end-to-end tests), as behaviour for gpujit: traced and
scripted elementwise programs give eager's values and, where NNC fuses them, run as one
prim::TensorExprGroup. References are NumPy or literal values, so these run without torch."""

import numpy as np
import pytest

import gpujit as torch
from fusion_asserts import GUARDS, fast_path_kinds
import gpujit.nn.functional as F
from gpujit import nn


@pytest.fixture(autouse=True)
def _nnc_test_options():
    # TensorExprTestOptions: CPU fusion on, single-op groups kept (inlining off).
    old_inline = torch._C._debug_get_fusion_group_inlining()
    old_cpu = torch._C._jit_can_fuse_on_cpu()
    old_te = torch._C._jit_texpr_fuser_enabled()
    torch._C._debug_set_fusion_group_inlining(False)
    torch._C._jit_override_can_fuse_on_cpu(True)
    torch._C._jit_set_texpr_fuser_enabled(True)
    yield
    torch._C._debug_set_fusion_group_inlining(old_inline)
    torch._C._jit_override_can_fuse_on_cpu(old_cpu)
    torch._C._jit_set_texpr_fuser_enabled(old_te)


_ALLOWED = {"prim::Constant", "prim::TupleConstruct", "prim::If", "prim::BailoutTemplate",
            "prim::ListConstruct"} | GUARDS


def warm(f, *args):
    for _ in range(torch._C._jit_get_num_profiled_runs() + 1):
        out = f(*args)
    return out


def assert_all_fused(graph=None, except_for=()):
    """One prim::TensorExprGroup at the top level and nothing else that computes."""
    graph = graph if graph is not None else torch.jit.last_executed_optimized_graph()
    text = str(graph)
    kinds = fast_path_kinds(graph)
    groups = [k for k in kinds if k == "prim::TensorExprGroup"]
    assert len(groups) == 1, text
    others = [k for k in kinds if k != "prim::TensorExprGroup"
              and k not in _ALLOWED and k not in except_for]
    assert not others, f"unfused: {others}\n{text}"


def npy(t):
    return t.numpy()


# ---------------------------------------------------------------- simple adds, broadcasting

def test_easy_three_and_four_args():
    def easy(x, y):
        return torch.add(x, y)

    def three(x, y, z):
        return torch.add(torch.add(x, y), z)

    def addcmul(x, y, z, w):
        return torch.addcmul(torch.add(x, y), z, w)

    a, b, c, d = (torch.rand(1024) for _ in range(4))
    t = torch.jit.trace(easy, (torch.rand(1024), torch.rand(1024)))
    np.testing.assert_allclose(npy(warm(t, a, b)), npy(a) + npy(b))
    assert_all_fused()
    t = torch.jit.trace(three, (torch.rand(32, 32),) * 3)
    a2, b2, c2 = (torch.rand(32, 32) for _ in range(3))
    np.testing.assert_allclose(npy(warm(t, a2, b2, c2)), npy(a2) + npy(b2) + npy(c2))
    assert_all_fused()
    t = torch.jit.trace(addcmul, (torch.zeros(1024),) * 4)
    np.testing.assert_allclose(npy(warm(t, a, b, c, d)), npy(a) + npy(b) + npy(c) * npy(d),
                               rtol=1e-6, atol=1e-6)
    assert_all_fused()


@pytest.mark.parametrize("M,N,L,K", [(5, 2, 7, 3), (8, 8, 8, 8)])
def test_broadcast3(M, N, L, K):
    def f(x, y, z):
        return torch.add(torch.add(x, y), z)

    shapes = ([M, N], [L, M, 1], [K, L, 1, 1])
    t = torch.jit.trace(f, tuple(torch.rand(*s) for s in shapes))
    a, b, c = (torch.rand(*s) for s in shapes)
    np.testing.assert_allclose(npy(warm(t, a, b, c)), npy(a) + npy(b) + npy(c))
    assert_all_fused()


@pytest.mark.parametrize("shape", [(1024,), (32, 32)])
def test_all_combos(shape):
    def f(x, y, z):
        a = torch.add(x, y)
        b = torch.add(a, z)
        c = torch.add(x, b)
        return torch.add(c, a)

    t = torch.jit.trace(f, tuple(torch.rand(*shape) for _ in range(3)))
    a, b, c = (torch.rand(*shape) for _ in range(3))
    an, bn, cn = npy(a), npy(b), npy(c)
    np.testing.assert_allclose(npy(warm(t, a, b, c)), (an + (an + bn + cn)) + (an + bn),
                               rtol=1e-6)
    assert_all_fused()


def test_broadcast_with_rank_one_input():
    def f(x, y, z):
        return torch.add(torch.add(x, y), z)

    t = torch.jit.trace(f, (torch.rand(32, 32), torch.rand(32), torch.rand(32, 32)))
    a, b, c = torch.rand(32, 32), torch.rand(32), torch.rand(32, 32)
    np.testing.assert_allclose(npy(warm(t, a, b, c)), npy(a) + npy(b) + npy(c))
    assert_all_fused()


@pytest.mark.parametrize("n,m", [(3, 4), (32, 1024)])
def test_broadcast_with_captured_constant(n, m):
    zero = torch.tensor([0.0], dtype=torch.float)

    def f(x, y, z):
        return torch.add(torch.add(zero, torch.add(x, y)), z)

    x, y, z = torch.rand(n, m), torch.ones(n, 1), torch.rand(m)
    t = torch.jit.trace(f, (x, y, z))
    r = warm(t, x, y, z)
    assert_all_fused()
    np.testing.assert_allclose(npy(r), npy(x) + npy(y) + 0.0 + npy(z))


def test_alpha_constant_and_const_rhs():
    t = torch.jit.trace(lambda x: torch.add(x, x, alpha=2.0), (torch.tensor([1.0]),))
    np.testing.assert_allclose(npy(t(torch.tensor([1.0]))), [3.0])

    def constant(x):
        return torch.add(x, torch.tensor([1.0]))

    t = torch.jit.trace(constant, (torch.tensor([1.0]),))
    np.testing.assert_allclose(npy(warm(t, torch.tensor([1.0]))), [2.0])
    assert_all_fused()

    t = torch.jit.trace(lambda x: x + 3.0, (torch.rand(4),))
    x = torch.rand(4)
    np.testing.assert_allclose(npy(warm(t, x)), npy(x) + 3.0)
    assert_all_fused()


def test_add_sub_and_reps():
    def f(x, y, z):
        return torch.sub(torch.add(x, y), z)

    t = torch.jit.trace(f, (torch.rand(1024),) * 3)
    a, b, c = (torch.rand(1024) for _ in range(3))
    np.testing.assert_allclose(npy(warm(t, a, b, c)), npy(a) + npy(b) - npy(c), rtol=1e-6)
    assert_all_fused()
    t = torch.jit.trace(lambda x, y: torch.add(x, y), (torch.rand(1024), torch.rand(1024)))
    for _ in range(8):
        np.testing.assert_allclose(npy(warm(t, torch.ones(1024), torch.zeros(1024))),
                                   np.ones(1024))


# ---------------------------------------------------------------- dtypes and promotion

def test_promotion_int32_plus_float():
    t = torch.jit.trace(lambda x, y: torch.add(x, y),
                        (torch.zeros(1024, dtype=torch.int32), torch.rand(1024)))
    a, b = torch.zeros(1024, dtype=torch.int32), torch.rand(1024)
    x = warm(t, a, b)
    assert_all_fused()
    assert x.dtype is torch.float32
    np.testing.assert_allclose(npy(x), npy(a) + npy(b))


@pytest.mark.parametrize("dta,dtb", [
    ("float64", "float64"), ("int16", "int16"), ("int8", "int8"), ("int8", "int64")])
def test_add_mul_in_dtype(dta, dtb):
    def f(x, y):
        return torch.mul(torch.add(x, y), y)

    dta, dtb = getattr(torch, dta), getattr(torch, dtb)

    def make(dt):
        if dt.is_floating_point:
            return torch.rand(8, dtype=dt)
        return torch.randint(8, (8,), dtype=dt)

    t = torch.jit.trace(f, (make(dta), make(dtb)))
    a, b = make(dta), make(dtb)
    x = warm(t, a, b)
    assert_all_fused()
    assert x.dtype is torch.promote_types(dta, dtb)
    np.testing.assert_allclose(npy(x), (npy(a) + npy(b)) * npy(b))


def test_int_output():
    def f(x, y, z):
        return x * y * z

    xs = [(torch.rand(4) * 3 + 1).to(torch.int32) for _ in range(3)]
    t = torch.jit.trace(f, tuple(xs))
    r = warm(t, *xs)
    assert_all_fused()
    assert r.dtype is torch.int32
    np.testing.assert_array_equal(npy(r), npy(xs[0]) * npy(xs[1]) * npy(xs[2]))


@pytest.mark.parametrize("op,a,b,want", [
    ("eq", 0, 0, 1), ("ne", 0, 1, 1), ("ge", 5, 0, 1), ("gt", 1, 0, 1), ("le", 5, 0, 0),
    ("lt", 1, 0, 0)])
def test_comparisons_traced_on_float_run_on_int(op, a, b, want):
    fn = getattr(torch, op)
    t = torch.jit.trace(lambda x, y: fn(x, y), (torch.zeros(1024), torch.zeros(1024)))
    x = warm(t, torch.full((1024,), a, dtype=torch.int32),
             torch.full((1024,), b, dtype=torch.int32))
    assert_all_fused()
    assert x.dtype is torch.bool
    np.testing.assert_array_equal(npy(x), np.full(1024, bool(want)))


# ---------------------------------------------------------------- min/max, clamp, relu

def test_min_max_with_constant_tensor():
    def f(x, y):
        return torch.max(torch.min(x, y), torch.tensor([4.0]))

    t = torch.jit.trace(f, (torch.zeros(1024), torch.zeros(1024)))
    a, b = 8.0 * torch.rand(1024), 8.0 * torch.rand(1024)
    np.testing.assert_allclose(npy(warm(t, a, b)),
                               np.maximum(np.minimum(npy(a), npy(b)), [4.0]))
    assert_all_fused()


def test_min_max_reductions_give_eager_values():
    # gpujit does not fuse reductions: values only.
    a = 8.0 * torch.rand(1024)
    t = torch.jit.trace(lambda x: torch.min(x) + torch.max(x), (torch.zeros(1024),))
    np.testing.assert_allclose(npy(warm(t, a)), npy(a).min() + npy(a).max(), rtol=1e-6)
    t = torch.jit.trace(lambda x: x.min() + x.max(), (torch.zeros(1024),))
    np.testing.assert_allclose(npy(warm(t, a)), npy(a).min() + npy(a).max(), rtol=1e-6)
    m = 8.0 * torch.rand(16, 16)
    t = torch.jit.trace(lambda x: torch.min(x, 1)[0] + torch.max(x, 1)[0], (torch.zeros(16, 16),))
    np.testing.assert_allclose(npy(warm(t, m)), npy(m).min(1) + npy(m).max(1), rtol=1e-6)
    t = torch.jit.trace(lambda x: torch.min(x * x, 1), (torch.zeros(16, 16),))
    vals, idx = warm(t, m)
    mn = npy(m) * npy(m)
    np.testing.assert_allclose(npy(vals), mn.min(1), rtol=1e-6)
    np.testing.assert_array_equal(npy(idx), mn.argmin(1))


def test_clamp_and_relu():
    t = torch.jit.trace(lambda x: torch.clamp(x + 3.0, 0.0, 6.0), (torch.zeros(1024),))
    a = 20.0 * torch.rand(1024) - 10.0
    np.testing.assert_allclose(npy(warm(t, a)), np.clip(npy(a) + 3.0, 0.0, 6.0))
    assert_all_fused()
    t = torch.jit.trace(lambda x: torch.clamp(F.relu(x), 0, 0.5), (torch.zeros(1024),))
    np.testing.assert_allclose(npy(warm(t, a)), np.clip(np.maximum(0, npy(a)), 0, 0.5))
    assert_all_fused()


def test_min_max_propagate_nan():
    tmax = torch.jit.trace(lambda x, y: torch.max(2 * x, 2 * y), (torch.rand(1), torch.rand(1)))
    tmin = torch.jit.trace(lambda x, y: torch.min(2 * x, 2 * y), (torch.rand(1), torch.rand(1)))
    x, y = torch.tensor([np.nan]), torch.tensor([1.0])
    for t in (tmin, tmax):
        assert np.isnan(warm(t, x, y).item())
        assert np.isnan(warm(t, y, x).item())
        assert_all_fused()


# ---------------------------------------------------------------- binary and unary op tables

def _binary_fns():
    return {
        "atan2": lambda x, y: torch.atan2(torch.add(x, y), y),
        "gt": lambda x, y: torch.gt(torch.add(x, y), y),
        "ge": lambda x, y: torch.ge(torch.add(x, y), y),
        "lt": lambda x, y: torch.lt(torch.add(x, y), y),
        "le": lambda x, y: torch.le(torch.add(x, y), y),
        "ne": lambda x, y: torch.ne(torch.add(x, y), y),
        "eq": lambda x, y: torch.eq(torch.add(x, y), y),
        "lerp": lambda x, y: torch.lerp(torch.add(x, 1), x, 2.0),
        "mul": lambda x, y: torch.mul(torch.add(x, y), y),
        "div": lambda x, y: torch.div(torch.add(x, y), 2),
        "fmod": lambda x, y: torch.fmod(torch.add(x, y), 2),
        "sub": lambda x, y: torch.sub(torch.add(x, y), x),
        "remainder": lambda x, y: torch.remainder(torch.add(x, y), 3.0),
        "pow": lambda x, y: torch.pow(torch.add(x, y), 2.0),
        "type_as": lambda x, y: x.type_as(torch.add(x, y)),
    }


_NP_BINARY = {
    "atan2": lambda x, y: np.arctan2(x + y, y), "gt": lambda x, y: x + y > y,
    "ge": lambda x, y: x + y >= y, "lt": lambda x, y: x + y < y, "le": lambda x, y: x + y <= y,
    "ne": lambda x, y: x + y != y, "eq": lambda x, y: x + y == y,
    "lerp": lambda x, y: (x + 1) + 2.0 * (x - (x + 1)), "mul": lambda x, y: (x + y) * y,
    "div": lambda x, y: (x + y) / 2, "fmod": lambda x, y: np.fmod(x + y, 2),
    "sub": lambda x, y: (x + y) - x, "remainder": lambda x, y: np.remainder(x + y, 3.0),
    "pow": lambda x, y: (x + y) ** 2.0, "type_as": lambda x, y: x,
}


@pytest.mark.parametrize("name", sorted(_NP_BINARY))
def test_binary_ops(name):
    fn = _binary_fns()[name]
    t = torch.jit.trace(fn, (20 * torch.rand(1024), 20 * torch.rand(1024)))
    a, b = torch.rand(1024), torch.rand(1024)
    x = warm(t, a, b)
    if name != "type_as":       # (x.type_as(x + y) of one dtype: a no-op cast, returns x,
        assert_all_fused()      # left unfused; the add is dead: only its dtype was read)
    want = _NP_BINARY[name](npy(a), npy(b))
    assert x.dtype is (torch.bool if want.dtype == np.bool_ else torch.float32)
    np.testing.assert_allclose(npy(x), want, atol=2e-3, rtol=1e-5)


_UNARY = {
    "round": (torch.round, np.round), "sin": (torch.sin, np.sin), "asin": (torch.asin, np.arcsin),
    "sinh": (torch.sinh, np.sinh), "cos": (torch.cos, np.cos), "acos": (torch.acos, np.arccos),
    "cosh": (torch.cosh, np.cosh), "tan": (torch.tan, np.tan), "atan": (torch.atan, np.arctan),
    "tanh": (torch.tanh, np.tanh), "sqrt": (torch.sqrt, np.sqrt),
    "rsqrt": (torch.rsqrt, lambda v: 1 / np.sqrt(v)), "floor": (torch.floor, np.floor),
    "ceil": (torch.ceil, np.ceil), "trunc": (torch.trunc, np.trunc), "abs": (torch.abs, np.abs),
    "log": (torch.log, np.log), "log2": (torch.log2, np.log2), "log10": (torch.log10, np.log10),
    "log1p": (torch.log1p, np.log1p), "exp": (torch.exp, np.exp), "expm1": (torch.expm1, np.expm1),
    "frac": (torch.frac, lambda v: v - np.trunc(v)),
    "reciprocal": (torch.reciprocal, lambda v: 1 / v), "neg": (torch.neg, np.negative),
    "relu": (torch.relu, lambda v: np.maximum(v, 0)),
    "sigmoid": (torch.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    "hardtanh": (lambda v: F.hardtanh(v, -1.0, 1.0), lambda v: np.clip(v, -1.0, 1.0)),
    "threshold": (lambda v: F.threshold(v, 0.5, 10), lambda v: np.where(v > 0.5, v, 10)),
    "erf": (torch.erf, None), "erfc": (torch.erfc, None), "lgamma": (torch.lgamma, None),
}


def _special_ref(name, v):
    import math
    fn = {"erf": math.erf, "erfc": math.erfc, "lgamma": math.lgamma}[name]
    return np.array([fn(float(e)) for e in v.astype(np.float64)])


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_unary_ops(name):
    op, ref = _UNARY[name]

    def fn(x, y):
        return op(torch.add(x, y))

    ins = 20 * torch.rand(1024)
    t = torch.jit.trace(fn, (ins, ins))
    a, b = torch.rand(1024), torch.rand(1024)
    x = warm(t, a, b)
    assert_all_fused()
    s = (npy(a) + npy(b)).astype(np.float32)
    with np.errstate(all="ignore"):
        want = _special_ref(name, s) if ref is None else ref(s)
    np.testing.assert_allclose(npy(x), want, atol=2e-3, rtol=1e-5)
    np.testing.assert_allclose(npy(x), npy(fn(a, b)), atol=2e-3, rtol=1e-5, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_half_to_even(dtype):
    a = torch.tensor([0.2, 1.6, 2.5, 3.5, -2.5, -0.5]).to(getattr(torch, dtype))
    t = torch.jit.trace(lambda x: torch.round(x), (a,))
    x = warm(t, a)
    assert_all_fused()
    np.testing.assert_array_equal(npy(x), [0.0, 2.0, 2.0, 4.0, -2.0, -0.0])


def test_double_intrinsics_and_exp_pow():
    x = torch.rand(10, dtype=torch.double)
    t = torch.jit.trace(lambda v: torch.pow(v, 7), (x,))
    np.testing.assert_allclose(npy(warm(t, x)), npy(x) ** 7)
    assert_all_fused()

    @torch.jit.script
    def do_exp(x, y, z):
        return ((x * y) * 2) * torch.pow(z, 2)

    x, y, z = (torch.rand(10, dtype=torch.double) for _ in range(3))
    t = torch.jit.trace(do_exp, (x, y, z))
    np.testing.assert_allclose(npy(warm(t, x, y, z)), npy(x) * npy(y) * 2 * npy(z) ** 2)
    assert_all_fused()


@pytest.mark.parametrize("n", [3, 5, 10])
def test_sin_pow_zero(n):
    def f(x):
        return torch.sin(torch.pow(x, 0))

    s = torch.jit.script(f)
    x = torch.rand(n)
    out = warm(s, x)
    assert_all_fused()
    np.testing.assert_allclose(npy(out), np.full(n, np.sin(1.0), np.float32))


def test_remainder_values_zero_and_nan():
    def f(x, y):
        return torch.remainder(torch.add(x, y), x)

    a, b = torch.rand(1024), torch.rand(1024)
    zeros = torch.zeros(1024)
    nans = torch.full((1024,), float("nan"))
    for x, y in ((a, b), (zeros, a), (nans, a)):
        t = torch.jit.trace(f, (torch.zeros(1024), torch.zeros(1024)))
        got = warm(t, x, y)
        assert_all_fused()
        xn, yn = npy(x), npy(y)
        with np.errstate(all="ignore"):
            want = np.remainder(xn + yn, xn)
        np.testing.assert_allclose(npy(got), want, rtol=1e-6, equal_nan=True)


# ---------------------------------------------------------------- random numbers

def test_rand_like_fuses_and_is_uniform():
    N = 1 << 16

    def f(x, y):
        return torch.rand_like(torch.add(x, y))

    x = torch.rand(N)
    t = torch.jit.trace(f, (x, x), check_trace=False)
    v = warm(t, x, x)
    # NNC draws inside its kernel; gpujit's kernels have no random numbers yet, so the
    # draw runs eagerly after the fused add (from the same generator stream as eager)
    assert_all_fused(except_for=("aten::rand_like",))
    vn = npy(v).astype(np.float64)
    assert v.shape == (N,) and v.dtype is torch.float32
    np.testing.assert_allclose([vn.mean(), (vn ** 2).mean(), (vn ** 3).mean()],
                               [1 / 2, 1 / 3, 1 / 4], rtol=2e-2)


def test_multi_rand_same_draw_used_twice():
    def f(x):
        y = torch.rand_like(x)
        return (x + y) - (y - x)

    a = torch.rand(4)
    s = torch.jit.script(f)
    out = warm(s, a)
    assert_all_fused(except_for=("aten::rand_like",))     # (see test_rand_like_...)
    np.testing.assert_allclose(npy(out), 2 * npy(a), atol=2e-3, rtol=1e-5)


# ---------------------------------------------------------------- multiple outputs, chunk, cat

def test_multioutput():
    def f(x):
        b = x + 1
        return b, b + b

    t = torch.jit.trace(f, (torch.zeros(1024),))
    b, c = warm(t, torch.zeros(1024))
    assert_all_fused()
    np.testing.assert_allclose(npy(b), np.ones(1024))
    np.testing.assert_allclose(npy(c), np.full(1024, 2.0))


def test_chunk_traced_at_one_size_run_at_another():
    def f(x):
        aaa, bbb = torch.chunk(x + 1, 2)
        return aaa + bbb

    t = torch.jit.trace(f, (torch.zeros(1024, 1024),))
    a = torch.rand(32, 32)
    x = warm(t, a)
    assert_all_fused()
    p = npy(a) + 1
    np.testing.assert_allclose(npy(x), p[:16] + p[16:])


def _cat_fn(dim):
    def foo(*args):
        args_2 = [v + i for i, v in enumerate(args)]
        v = torch.cat(args_2, dim=dim)
        return v * v
    return foo


def _np_cat(dim, arrays, add_index=True):
    v = np.concatenate([a + i if add_index else a for i, a in enumerate(arrays)], axis=dim)
    return v * v


def test_cat_fuses_with_its_producers():
    values = [torch.rand(16, n) for n in (128, 16, 1)]
    t = torch.jit.trace(_cat_fn(1), values)
    x = warm(t, *values)
    assert_all_fused()
    np.testing.assert_allclose(npy(x), _np_cat(1, [npy(v) for v in values]), rtol=1e-6)


@pytest.mark.parametrize("dim", range(4))
def test_cat_channels_last_inputs(dim):
    values = [torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last) for _ in range(10)]
    t = torch.jit.trace(_cat_fn(dim), values)
    x = warm(t, *values)
    assert_all_fused()
    np.testing.assert_allclose(npy(x), _np_cat(dim, [npy(v) for v in values]), rtol=1e-6)


def test_cat_negative_dim():
    def foo(*args):
        v = torch.cat(args, dim=-1)
        return v * v

    values = [torch.randn(16, n) for n in (128, 16, 1)]
    t = torch.jit.trace(foo, values)
    x = warm(t, *values)
    assert_all_fused()
    np.testing.assert_allclose(npy(x), _np_cat(-1, [npy(v) for v in values], False))


def test_cat_promotes_inputs():
    def foo(*args):
        v = torch.cat(args, dim=1)
        return v * v

    values = [torch.randn(16, n, dtype=dt)
              for n, dt in zip((128, 16, 1), (torch.half, torch.float32, torch.double))]
    t = torch.jit.trace(foo, values)
    x = warm(t, *values)
    assert_all_fused()
    assert x.dtype is torch.double
    want = _np_cat(1, [npy(v).astype(np.float64) for v in values], False)
    np.testing.assert_allclose(npy(x), want)


def test_cat_skips_legacy_empty_tensors():
    def foo(*args):
        v = torch.cat(args, dim=1)
        return v * v

    empty = torch.tensor([], dtype=torch.double)
    values = [empty] + [torch.randn(16, n) for n in (128, 16, 1)]
    t = torch.jit.trace(foo, values)
    x = warm(t, *values)
    assert_all_fused()
    ref = foo(*values)
    assert x.dtype is ref.dtype is torch.double and x.shape == (16, 145)
    np.testing.assert_allclose(npy(x), _np_cat(1, [npy(v).astype(np.float64)
                                                   for v in values[1:]], False))
    values = [empty] * 3
    t = torch.jit.trace(foo, values)
    x = warm(t, *values)
    assert x.shape == (0,) and x.dtype is torch.double


def test_cat_with_constant_dim_and_single_input_cat():
    def foo(*args):
        v1 = torch.cat(args, dim=1)
        v2 = torch.cat([v1], dim=1)
        return v2 * v2

    inputs = [torch.tensor([], dtype=torch.float32), torch.randn(1, 64), torch.randn(1, 64)]
    t = torch.jit.trace(foo, inputs)
    x = warm(t, *inputs)
    assert_all_fused()
    np.testing.assert_allclose(npy(x), _np_cat(1, [npy(v) for v in inputs[1:]], False))


# ---------------------------------------------------------------- scripted: scalars, loops

def test_scalar_alpha_float_and_int():
    @torch.jit.script
    def test_float(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, a: float,
                   b: float) -> torch.Tensor:
        return torch.add(torch.add(x, y, alpha=a), z, alpha=b)

    @torch.jit.script
    def test_int(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, a: int,
                 b: int) -> torch.Tensor:
        return torch.add(torch.add(x, y, alpha=a), z, alpha=b)

    for f in (test_float, test_int):
        x, y, z = (torch.rand(4) for _ in range(3))
        for a, b in ((1, 2), (3, -1)):
            f(x, y, z, a, b)
            r = f(x, y, z, a, b)
            np.testing.assert_allclose(npy(r), npy(x) + npy(y) * a + npy(z) * b, rtol=1e-6)


def test_loop():
    @torch.jit.script
    def f(x: torch.Tensor, y: torch.Tensor, z: int) -> torch.Tensor:
        b = y
        for i in range(z):
            _ = x + y
            b = b + y
        return b

    x, y = torch.zeros(32, 32), torch.ones(32, 32)
    f(x, y, 4)
    np.testing.assert_allclose(npy(f(x, y, 4)), np.full((32, 32), 5.0))
    np.testing.assert_allclose(npy(f(x, y, 0)), np.ones((32, 32)))


# ---------------------------------------------------------------- views, strides, layouts

def test_slice_and_unsqueeze():
    def sl(x, y):
        return x[0:512:2] + y[0:512:2]

    t = torch.jit.trace(sl, (torch.ones(1024, 1024), torch.zeros(1024, 1024)))
    a = torch.rand(1024, 1024)
    for _ in range(2):
        x = t(a, a)
    np.testing.assert_allclose(npy(x), npy(a)[0:512:2] * 2)

    def us(x, y):
        return torch.unsqueeze(x, 0) + torch.unsqueeze(y, 0)

    t = torch.jit.trace(us, (torch.ones(256, 256), torch.zeros(256, 256)))
    a = torch.rand(256, 256)
    for _ in range(2):
        x = t(a, a)
    np.testing.assert_allclose(npy(x), np.expand_dims(npy(a), 0) * 2)


def test_transpose_and_sliced_stride_inputs():
    @torch.jit.script
    def tr(x, y, z):
        return x.transpose(0, 1) + y + z

    x, y, z = torch.rand(4, 5, 2, 3), torch.rand(5, 4, 2, 3), torch.rand(5, 4, 2, 3)
    for _ in range(3):
        r = tr(x, y, z)
    np.testing.assert_allclose(npy(r), npy(x).transpose(1, 0, 2, 3) + npy(y) + npy(z),
                               rtol=1e-6)

    @torch.jit.script
    def add3(x, y, z):
        return x + y + z

    x, y, z = torch.rand(16, 4, 2, 3)[::2], torch.rand(8, 4, 2, 3), torch.rand(8, 4, 2, 3)
    for _ in range(3):
        r = add3(x, y, z)
    np.testing.assert_allclose(npy(r), npy(x) + npy(y) + npy(z), rtol=1e-6)


def test_dynamic_shapes_broadcast_and_mismatch():
    @torch.jit.script
    def f(x, y, z):
        return x * y * z

    old = torch.jit.set_fusion_strategy([("DYNAMIC", 10)])
    try:
        x, y, z = (torch.rand(4, 8) for _ in range(3))
        ref = npy(x) * npy(y) * npy(z)
        f(x, y, z)
        f(*[torch.rand(6, 8) for _ in range(3)])
        np.testing.assert_allclose(npy(f(x, y, z)), ref, rtol=1e-6)
        x, y, z = torch.rand(4, 8), torch.rand(1, 8), torch.rand(4, 1)
        np.testing.assert_allclose(npy(f(x, y, z)), npy(x) * npy(y) * npy(z), rtol=1e-6)
        with pytest.raises(RuntimeError, match=r"The size of tensor a \(4\) must match"):
            f(torch.rand(4, 8), torch.rand(4, 8), torch.rand(5, 8))
        for n in (4, 4, 4, 7):
            a = [torch.rand(n) for _ in range(3)]
            np.testing.assert_allclose(npy(f(*a)), npy(a[0]) * npy(a[1]) * npy(a[2]),
                                       rtol=1e-6)
    finally:
        torch.jit.set_fusion_strategy(old)


def test_bitwise_ops():
    fns = {
        "and": (lambda x, y: x & (x & y), lambda x, y: x & (x & y)),
        "or": (lambda x, y: x & (x | y), lambda x, y: x & (x | y)),
        "xor": (lambda x, y: x ^ (x ^ y), lambda x, y: x ^ (x ^ y)),
        "lshift": (lambda x, y: x & (x << y), lambda x, y: x & (x << y)),
        "rshift": (lambda x, y: x & (x >> y), lambda x, y: x & (x >> y)),
    }
    for name, (fn, ref) in fns.items():
        inp = torch.ones(128, dtype=torch.int32)
        t = torch.jit.trace(fn, (inp, inp))
        a = torch.randint(0, 100, (128,), dtype=torch.int32)
        b = torch.randint(0, 5, (128,), dtype=torch.int32)
        x = warm(t, a, b)
        assert_all_fused()
        assert x.dtype is torch.int32, name
        np.testing.assert_array_equal(npy(x), ref(npy(a), npy(b)), err_msg=name)


def test_where():
    def f(x, y):
        return torch.where(torch.gt(x, y), x, y)

    a, b = torch.rand(1024), torch.rand(1024)
    t = torch.jit.trace(f, (torch.zeros(1024), torch.zeros(1024)))
    np.testing.assert_allclose(npy(warm(t, a, b)), np.maximum(npy(a), npy(b)))
    assert_all_fused()


def test_mask_unsqueeze_eq_zero_on_bool():
    def f(x):
        return x.unsqueeze(1) == 0

    x = torch.rand(4) > 0.5
    s = torch.jit.script(f)
    out = warm(s, x)
    assert_all_fused()              # the unsqueeze too, as NNC
    assert out.dtype is torch.bool and out.shape == (4, 1)
    np.testing.assert_array_equal(npy(out), (npy(x) == 0)[:, None])


def test_simple_add_256():
    t = torch.jit.trace(lambda a, b: torch.add(a, b), (torch.ones(256, 256),) * 2)
    np.testing.assert_allclose(npy(t(torch.ones(256, 256), torch.ones(256, 256))),
                               np.full((256, 256), 2.0))


def test_strided_output_preserved():
    def foo(a, b):
        return a + b - a

    x = torch.as_strided(torch.arange(6), (2, 3), (1, 2))
    total = 0
    for i in range(2):
        for j in range(3):
            x[i, j] = total
            total += 1
    s = torch.jit.script(foo)
    for _ in range(3):
        out = s(x, x)
    eager = foo(x, x)
    np.testing.assert_array_equal(npy(out), npy(eager))
    assert out.stride() == eager.stride() == (1, 2)
    assert_all_fused()

    x = torch.rand(2, 3, 4, 5).to(memory_format=torch.channels_last)
    s = torch.jit.script(foo)
    for _ in range(3):
        out = s(x, x)
    eager = foo(x, x)
    np.testing.assert_allclose(npy(out), npy(eager))
    assert out.stride() == eager.stride()
    assert_all_fused()


# ---------------------------------------------------------------- mutation and aliasing

class _AliasModule(nn.Module):
    def __init__(self, variant):
        super().__init__()
        torch.manual_seed(1337)
        self.a = torch.randn(128, 128)
        self.b = torch.randn(128, 128)
        self.c = torch.randn(128, 128)
        self.variant = variant

    def forward(self, x, y, z):
        if self.variant == 0:
            z = z + self.a
            self.b.add_(y)
            w = z + self.a
            return w + x
        x.add_(y)
        w = z + (self.a if self.variant == 1 else self.b)
        return w + x


def test_alias_analysis_module_attribute_aliased_after_scripting():
    x = torch.randn(128, 128)
    am, am_s = _AliasModule(0), torch.jit.script(_AliasModule(0))
    for _ in range(3):
        np.testing.assert_allclose(npy(am_s(x, x, x)), npy(am(x, x, x)), rtol=1e-5, atol=1e-6)
    am.a = am.b
    am_s.a = am_s.b
    for _ in range(3):
        np.testing.assert_allclose(npy(am_s(x, x, x)), npy(am(x, x, x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("variant,alias_b", [(1, False), (2, True)])
def test_alias_analysis_inputs_mutated_in_place(variant, alias_b):
    outs = []
    for script in (False, True):
        m = _AliasModule(variant)
        if script:
            m = torch.jit.script(m)
        torch.manual_seed(1337)
        x = torch.randn(128, 128)
        if alias_b:
            m.b = x
        outs.append(npy(m(x, x, x)))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)


def test_multiple_outputs_with_strided_and_int_inputs():
    def foo(a, b, c):
        t_next = c + 1
        t5 = t_next * b
        t6 = torch.unsqueeze(t_next, 1)
        t7 = a * t6
        return (t7, t5, t_next)

    a = torch.rand(20, 20)
    b = torch.rand(20 * 29).as_strided([20], [29])
    c = torch.ones(20, dtype=torch.int64)
    t = torch.jit.trace(foo, (a, b, c))
    ref = foo(a, b, c)
    for _ in range(3):
        got = t(a, b, c)
    for g, r in zip(got, ref):
        assert g.dtype is r.dtype and g.shape == r.shape
        np.testing.assert_allclose(npy(g), npy(r))


def _mem_layout_funcs():
    def foo(a, b, c):
        return a * ((c + 1) * b)

    def foo_multi(a, b, c):
        t_next = c + 1
        t5 = b * t_next
        return (a * t5, t5, t_next)

    def foo_nhwc_nchw(a, b, c):
        t_next = c + 1
        t5 = b * t_next
        t7 = a * t5
        return (t7.to(memory_format=torch.contiguous_format), t7, t5, t_next)

    return [foo, foo_multi, foo_nhwc_nchw]


@pytest.mark.parametrize("strategy", ["STATIC", "DYNAMIC"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 1, 1, 5), (1, 1, 1, 1)])
def test_propagated_mem_layout(strategy, shape):
    import itertools
    old = torch.jit.set_fusion_strategy([(strategy, 10)])
    try:
        fmts = [torch.contiguous_format, torch.channels_last]
        for func in _mem_layout_funcs():
            for layouts in itertools.product(fmts, repeat=3):
                for perm in (None, (0, 3, 2, 1), (0, 3, 1, 2)):
                    args = [torch.rand(shape).to(memory_format=f) for f in layouts]
                    if perm is not None:
                        args = [v.permute(dims=perm) for v in args]
                    t = torch.jit.trace(func, tuple(args))
                    ref = func(*args)
                    for _ in range(2):
                        got = t(*args)
                    ref = ref if isinstance(ref, tuple) else (ref,)
                    got = got if isinstance(got, tuple) else (got,)
                    for g, r in zip(got, ref):
                        np.testing.assert_allclose(npy(g), npy(r), rtol=1e-6)
                        assert g.shape == r.shape
    finally:
        torch.jit.set_fusion_strategy(old)


# ---------------------------------------------------------------- softmax (reductions: values)

@pytest.mark.parametrize("kind", ["softmax", "softmax_neg", "log_softmax"])
def test_softmax_values(kind):
    dims = (-2, -1) if kind == "softmax_neg" else (0, 1)
    op = F.log_softmax if kind == "log_softmax" else F.softmax

    def f(x, y):
        a = op(x, dim=dims[0], dtype=torch.float32)
        b = op(y, dim=dims[0], dtype=torch.float32)
        c = op(x, dim=dims[1], dtype=torch.float32)
        d = op(y, dim=dims[1], dtype=torch.float32)
        return a + b + c + d

    t = torch.jit.trace(f, (torch.randn(2, 3), torch.randn(2, 3)))
    inp = torch.randn(2, 3)
    res = warm(t, inp, inp)
    v = npy(inp).astype(np.float64)

    def np_op(v, d):
        e = np.exp(v - v.max(d, keepdims=True))
        s = e / e.sum(d, keepdims=True)
        return np.log(s) if kind == "log_softmax" else s

    want = 2 * np_op(v, dims[0]) + 2 * np_op(v, dims[1])
    np.testing.assert_allclose(npy(res), want, rtol=1e-5, atol=1e-6)


def test_half_gelu_and_bn_relu_values():
    @torch.jit.script
    def bias_gelu(bias, y):
        x = bias + y
        return x * 0.5 * (1.0 + torch.erf(x / 1.41421))

    a, b = torch.rand(1024, dtype=torch.half), torch.rand(1024, dtype=torch.half)
    out = warm(bias_gelu, a, b)
    assert out.dtype is torch.half
    np.testing.assert_allclose(npy(out).astype(np.float32), npy(bias_gelu(a, b)).astype(
        np.float32), atol=2e-3)

    def foo(a, b, c):
        return torch.nn.functional.batch_norm(a, b, c).relu()

    a = torch.rand(16, 16, dtype=torch.half)
    b = torch.rand(16, dtype=torch.half)
    c = torch.rand(16, dtype=torch.half)
    t = torch.jit.trace(foo, (a, b, c))
    out = warm(t, a, b, c)
    want = np.maximum((npy(a).astype(np.float32) - npy(b).astype(np.float32))
                      / np.sqrt(npy(c).astype(np.float32) + 1e-5), 0)
    assert out.dtype is torch.half
    np.testing.assert_allclose(npy(out).astype(np.float32), want, rtol=5e-3, atol=5e-3)


def test_cat_legacy_empty_computed_in_the_group_and_guarded():
    def foo(*args):
        v = torch.cat([a + i for i, a in enumerate(args)], dim=1)
        return v * v

    empty = torch.tensor([], dtype=torch.double)
    values = [torch.randn(4, 3), empty, torch.randn(4, 2)]
    t = torch.jit.trace(foo, values)
    x = warm(t, *values)
    assert_all_fused()
    assert x.dtype is torch.double
    want = _np_cat(1, [npy(values[0]).astype(np.float64), npy(values[2]) + 2.0], False)
    np.testing.assert_allclose(npy(x), want)
    # the same function given a non-empty tensor there: the guard sends it elsewhere
    values[1] = torch.randn(4, 5, dtype=torch.double)
    x = warm(t, *values)
    parts = [(npy(v) + np.asarray(i, npy(v).dtype)).astype(np.float64)
             for i, v in enumerate(values)]
    np.testing.assert_allclose(npy(x), np.concatenate(parts, 1) ** 2)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "fix"])
def test_rounding_ops_refuse_bool_and_copy_integers(name):
    fn = getattr(torch, name)
    with pytest.raises(NotImplementedError, match="bool|Bool"):
        fn(torch.tensor([True, False]))
    i = torch.tensor([3, -2], dtype=torch.int32)
    r = fn(i)
    assert r.dtype is torch.int32 and r.tolist() == [3, -2]
    t = torch.jit.trace(lambda x: fn(x + 1), (i,))
    assert warm(t, i).tolist() == [4, -1]
    assert_all_fused()


def test_broadcast_errors_start_with_pytorchs_words():
    want = ("The size of tensor a (4) must match the size of tensor b (5) at non-singleton "
            "dimension 0")
    with pytest.raises(RuntimeError) as e:
        torch.rand(4, 8) * torch.rand(5, 8)
    assert e.value.args[0].startswith(want)
    with pytest.raises(RuntimeError) as e:
        torch.where(torch.rand(4, 8) > 0.5, torch.rand(5, 8), 0.0)
    assert e.value.args[0].startswith(want)
