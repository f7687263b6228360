"""CPU fused kernels call NumPy's own inner loops for tanh (and NumPy's other vector
functions: float32 sin / cos, the SVML functions): the loop over elements runs in stages
over chunks of prims.STAGE_CHUNK elements, each call's argument stored into a stack buffer,
one call of the NumPy loop eager runs per chunk, its results read back by the next stage
(kernels/emit.py's _staged_loop, kernels/native.numpy_loop). The bits must be eager's
(NumPy's own by construction), at every chunk boundary, on every layout, with threads, from
the disk cache in a process that never imports numba, and in backward kernels."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K
from gpujit.kernels import cpu_math, native, prims

from test_kernels import kernel_cache_dir, reference, traced

_FIXTURES = (kernel_cache_dir,)     # (autouse: one kernel cache directory per session)

CH = prims.STAGE_CHUNK
needs_loops = pytest.mark.skipif(
    "_tanh_f32" not in prims.NUMPY_LOOPS,
    reason="this host's NumPy computes tanh with libm (no NumPy loop to call)")


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def assert_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    bad = _bits(got) != _bits(want)
    assert not bad.any(), (int(bad.sum()), got[bad][:4], want[bad][:4])


def _kernel(fn, args, static=True):
    g = traced(fn, *args)
    k = K.build(K.spec_for(g, args, static=static), "cpu")
    return k, g


def _check(fn, args, static=True, loop="_npl_tanh_f32"):
    k, g = _kernel(fn, args, static)
    if loop is not None:
        assert f"{loop}(" in k.source, k.source
    got, want = k(*args), reference(g, args)
    for a, b in zip(got, want):
        assert_bits(a, b)
    return k


def _bit_patterns():
    """float32 bit patterns every 97th in [0, 2^32) over the windows that matter (|x| up to
    20, where tanh is not yet 1, both signs), every 4093rd elsewhere, and the specials."""
    lo = np.arange(0, 0x41A00000, 97 * 64, dtype=np.uint64)
    near = np.arange(0x40F00000, 0x41200000, 97, dtype=np.uint64)        # 7.5 .. 10
    rest = np.arange(0, 1 << 32, 4093, dtype=np.uint64)
    bits = np.concatenate([lo, lo | (1 << 31), near, near | (1 << 31), rest])
    x = bits.astype(np.uint32).view(np.float32)
    edges = np.float32([9.0109, 9.010899, 9.0109005, -9.0109, 9.7, 20.0, np.inf, -np.inf,
                        np.nan, -np.nan, 0.0, -0.0, 1e-45, -1e-45, 3e38])
    return np.concatenate([x, edges])


def _tanh_scaled(x, y):
    return gpujit.tanh(x * y)


def _chain(x, y):
    return gpujit.tanh(x * 0.5 + y) * (x - y)


# ------------------------------------------------------------------ float32 / float64 bits

@needs_loops
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_tanh_float32_bit_patterns_are_eagers(static):
    x = _bit_patterns()
    k = _check(_tanh_scaled, (x, np.ones_like(x)), static)
    assert "_vtanh_f32" not in k.source         # (the per-element algorithm is not emitted)


@needs_loops
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_tanh_float64_random_and_specials_are_eagers(static):
    rng = np.random.default_rng(49)
    x = np.concatenate([rng.standard_normal(200_000) * 4, rng.uniform(-25, 25, 50_000),
                        np.float64([np.inf, -np.inf, np.nan, 0.0, -0.0, 5e-324, 19.06,
                                    -19.07, 1e300, 9.0109, -9.0109])])
    _check(_tanh_scaled, (x, np.ones_like(x)), static, loop="_npl_tanh_f64")


@needs_loops
@pytest.mark.parametrize("n", [1, CH - 1, CH, CH + 1, 3 * CH + 5, (1 << 16) + 3])
def test_chunk_boundaries(n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 6).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    _check(_chain, (x, y), static=False)


# ------------------------------------------------------------------ layouts and stages

def _nested(x, y):
    # tanh of a tanh: two rounds of NumPy calls per chunk; sigmoid (exp, not staged) and
    # a boolean used on both sides of a stage (spilled)
    m = x > y
    a = gpujit.tanh(gpujit.where(m, x, y) * 3.0)
    b = gpujit.tanh(a * y + gpujit.sigmoid(x))
    return b * gpujit.where(m, 1.0, -2.0) + a, (a - b).to(gpujit.float64)


@needs_loops
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_two_stages_and_spilled_values(static):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(5000) * 3).astype(np.float32)
    y = rng.standard_normal(5000).astype(np.float32)
    k = _check(_nested, (x, y), static)
    assert k.source.count("_npl_tanh_f32(") >= 3            # (its definition and 2 calls)


@needs_loops
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_strided_and_broadcast_inputs(static):
    """Rows of a transposed input, a broadcast row: the row-by-row loop, staged."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((300, 700)) * 4).astype(np.float32).T     # (700, 300) strided
    y = rng.standard_normal(300).astype(np.float32)

    def f(x, y):
        return gpujit.tanh(x + y) * x
    _check(f, (x, y), static)


@needs_loops
@pytest.mark.parametrize("shape", [(1000, 3), (171, 7, 5), (3, 1031)])
@pytest.mark.parametrize("static", [True, False], ids=["STATIC", "DYNAMIC"])
def test_short_rows_span_chunks(shape, static):
    """Chunks of the flat index cross rows (each stage walks the rows of its chunk)."""
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    y = rng.standard_normal(shape[-1]).astype(np.float32)

    def f(x, y):
        return gpujit.tanh(x - y) + gpujit.tanh(x * y) * y
    k = _check(f, (x, y), static)
    assert "while r < ce:" in k.source


@needs_loops
def test_one_dim_strided_input():
    rng = np.random.default_rng(6)
    x = (rng.standard_normal(6001) * 4)[::3]
    _check(_tanh_scaled, (x, np.full_like(x, 0.75)), loop="_npl_tanh_f64")


@pytest.mark.skipif(("pow", "f32") not in cpu_math.SVML or "_pow_f32" not in prims.NUMPY_LOOPS,
                    reason="NumPy does not compute pow / atan2 / expm1 with SVML here")
def test_svml_functions_of_one_and_two_operands():
    rng = np.random.default_rng(7)
    x = rng.uniform(0.1, 3, 4000).astype(np.float32)
    y = rng.uniform(-2, 2, 4000).astype(np.float32)

    def f(x, y):
        return gpujit.pow(x * 1.5, y) + gpujit.atan2(y, x - 1) * gpujit.expm1(y * 2)
    k = _check(f, (x, y), loop="_npl_power_f32")
    assert "_npl_arctan2_f32(" in k.source and "_npl_expm1_f32(" in k.source
    _check(f, (x.astype(np.float64), y.astype(np.float64)), loop="_npl_power_f64")


def test_no_numpy_loop_function_keeps_one_loop():
    x = np.linspace(-3, 3, 1000, dtype=np.float32)
    k, _ = _kernel(lambda x, y: gpujit.sigmoid(x * y) + x, (x, x))
    assert "_stackbuf" not in k.source and "while i < stop:" in k.source


# ------------------------------------------------------------------ the NumPy loop binding

def test_numpy_loop_symbols():
    for s, dt, sig in (("f32", np.float32, "f->f"), ("f64", np.float64, "d->d")):
        addr = native.numpy_loop(f"gpujit_np_tanh_{s}")
        if addr is None:
            continue
        import ctypes
        x = np.linspace(-12, 12, 1001).astype(dt)
        out = np.empty_like(x)
        fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                              ctypes.c_void_p)(addr)
        args = (ctypes.c_void_p * 2)(x.ctypes.data, out.ctypes.data)
        dims = (ctypes.c_int64 * 1)(x.size)
        steps = (ctypes.c_int64 * 2)(x.itemsize, x.itemsize)
        fn(args, dims, steps, None)
        assert_bits(out, np.tanh(x))
    for bad in ("gpujit_np_isnan_f32", "gpujit_np_no_such_ufunc_f32", "gpujit_np_tanh",
                "gpujit_np_add_i64"):
        assert native.numpy_loop(bad) is None
    assert native.resolve_symbols(["gpujit_np_no_such_ufunc_f32"]) == \
        ["gpujit_np_no_such_ufunc_f32"]


# ------------------------------------------------------------------ threads, scripting, cache

@needs_loops
@pytest.mark.parametrize("threads", [1, 2])
def test_scripted_chain_with_threads(threads):
    saved = gpujit.get_num_threads()
    gpujit.set_num_threads(threads)
    try:
        s = gpujit.jit.script(_chain)
        for n in ((1 << 15) + 7, 1 << 17):
            x = gpujit.randn(n) * 5
            y = gpujit.randn(n)
            for _ in range(3):
                got = s(x, y)
            assert_bits(got.numpy(), _chain(x, y).numpy())
            x64, y64 = x.double(), y.double()
            for _ in range(3):
                got = s(x64, y64)
            assert_bits(got.numpy(), _chain(x64, y64).numpy())
    finally:
        gpujit.set_num_threads(saved)


@needs_loops
def test_backward_kernels_give_eagers_gradients():
    def cell(x, h, w):
        g = gpujit.tanh(x * w + h)
        return gpujit.sigmoid(x) * gpujit.tanh(g * 0.5 + h)
    s = gpujit.jit.script(cell)
    rng = np.random.default_rng(11)
    xs = [gpujit.from_numpy(rng.standard_normal(3000).astype(np.float32) * 2)
          for _ in range(3)]
    for _ in range(3):
        args = [t.clone().requires_grad_() for t in xs]
        out = s(*args)
        out.sum().backward()
    eager = [t.clone().requires_grad_() for t in xs]
    ref = cell(*eager)
    ref.sum().backward()
    assert_bits(out.detach().numpy(), ref.detach().numpy())
    for a, b in zip(args, eager):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-6, atol=1e-7)


_WARM = """
import sys
import numpy as np
sys.path.insert(0, {tests!r})
from gpujit import kernels as K
from test_cpu_simd_loops_s49 import _kernel, _chain, assert_bits
from test_kernels import reference
x = np.linspace(-12, 12, {n}, dtype=np.float32); y = np.cos(x)
k, g = _kernel(_chain, (x, y))
assert_bits(k(x, y)[0], reference(g, (x, y))[0])
print(tuple(K.cache_info()), "numba" in sys.modules)
"""


@needs_loops
def test_a_warm_process_loads_the_staged_kernel_without_numba():
    n = 3 * CH + 5
    x = np.linspace(-12, 12, n, dtype=np.float32)
    k, _ = _kernel(_chain, (x, np.cos(x)))
    from gpujit.kernels import cache as kcache
    entry = kcache.read_verified_json(k.extra["cache_file"])
    assert "gpujit_np_tanh_f32" in entry["undefined"]          # (bound when loaded)
    env = dict(os.environ)          # (GPUJIT_CACHE_DIR: the session's, set by the fixture)
    r = subprocess.run([sys.executable, "-c", _WARM.format(tests=os.path.dirname(__file__), n=n)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    info, numba_imported = r.stdout.strip().rsplit(" ", 1)
    assert eval(info)[2:] == (0, 1) and numba_imported == "False", r.stdout


# ------------------------------------------------------------------ PyTorch

@needs_loops
def test_lstm_style_cell_matches_torch():
    torch = pytest.importorskip("torch")

    def cell(i, f, g, o, c):
        c2 = gpujit.sigmoid(f) * c + gpujit.sigmoid(i) * gpujit.tanh(g)
        return gpujit.sigmoid(o) * gpujit.tanh(c2), c2

    def tcell(i, f, g, o, c):
        c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c2), c2
    s = gpujit.jit.script(cell)
    rng = np.random.default_rng(12)
    arrs = [rng.standard_normal((64, 1024)).astype(np.float32) * 3 for _ in range(5)]
    for _ in range(3):
        got = s(*[gpujit.from_numpy(a) for a in arrs])
    want = tcell(*[torch.from_numpy(a) for a in arrs])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=2e-7)
    eager = cell(*[gpujit.from_numpy(a) for a in arrs])
    for a, b in zip(got, eager):
        assert_bits(a.numpy(), b.numpy())


def _lstm_cell(gates, cx):
    i, f, g, o = gates.chunk(4, 1)
    cy = gpujit.sigmoid(f) * cx + gpujit.sigmoid(i) * gpujit.tanh(g)
    return gpujit.sigmoid(o) * gpujit.tanh(cy), cy


@needs_loops
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lstm_cell_of_chunked_gates(dtype):
    """The gates are pieces of one input (ConstantChunk): loads of pieces, two tanh calls."""
    s = gpujit.jit.script(_lstm_cell)
    rng = np.random.default_rng(13)
    gates = gpujit.from_numpy(rng.standard_normal((33, 4 * 300)).astype(dtype) * 3)
    cx = gpujit.from_numpy(rng.standard_normal((33, 300)).astype(dtype))
    for _ in range(3):
        got = s(gates, cx)
    for a, b in zip(got, _lstm_cell(gates, cx)):
        assert_bits(a.numpy(), b.numpy())
