"""Session 62's fuser hunt (helper a62): random pointwise chains scripted and fused,
compared with torch 2.13 eager and torch.jit.script directly (value, dtype, shape).
Expected values below were written from torch 2.13's results.

- where() with a uint8 condition: torch 2.13 still takes it (nonzero is true) with a
  deprecation UserWarning given once; gpujit raised "where expected condition to be a
  boolean tensor" eagerly, scripted and as a meta tensor, and the fuser's codegen refused
  the condition. Other integer conditions stay refused (torch's words).
- bfloat16 nextafter of 0-dim tensors returned shape (1,) (NumPy's ascontiguousarray
  makes a 0-dim array 1-dim).
- a pointwise op without bfloat16 support refused any bfloat16 operand, where torch's
  TensorIterator refuses only a bfloat16 computation dtype:
  special.chebyshev_polynomial_t(float32, bfloat16) is float32, (bfloat16, float64) is
  float64, (float16, bfloat16) float32; bitwise_and(float32, bfloat16) names 'Float'.
- special.legendre_polynomial_p / laguerre_polynomial_l of a large degree hung: the
  recurrence ran one NumPy step per degree over the array (n = 10^6: minutes; torch
  0.02 s). Past 256 steps it runs element by element (ops/_poly_kernels.py), bit for bit
  the same arithmetic.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gpujit

import test_kernels

kernel_cache_dir = test_kernels.kernel_cache_dir     # (its autouse cache fixture)

_UINT8_WORDS = "where received a uint8 condition tensor"


@pytest.fixture
def warn_always():
    saved = gpujit.is_warn_always_enabled()
    gpujit.set_warn_always(True)
    yield
    gpujit.set_warn_always(saved)


def test_where_uint8_condition_eager(warn_always):
    c = gpujit.tensor([0, 1, 2], dtype=gpujit.uint8)
    with pytest.warns(UserWarning, match=_UINT8_WORDS):
        r = gpujit.where(c, 1.0, 2.0)
    assert r.dtype == gpujit.float32 and r.tolist() == [2.0, 1.0, 1.0]
    with pytest.warns(UserWarning, match=_UINT8_WORDS):
        r = gpujit.where(c, gpujit.tensor([1, 2, 3], dtype=gpujit.int8), 2.5)
    assert r.dtype == gpujit.float32 and r.tolist() == [2.5, 2.0, 3.0]
    with pytest.warns(UserWarning, match=_UINT8_WORDS):
        r = c.where(c, 3)
    assert r.dtype == gpujit.uint8 and r.tolist() == [3, 1, 2]
    # (int8 and the rest: still torch's error)
    with pytest.raises(RuntimeError, match="boolean tensor, but got a tensor with dtype Char"):
        gpujit.where(c.to(gpujit.int8), 1.0, 2.0)


def test_where_uint8_condition_warns_once():
    from gpujit.ops import pointwise_ternary as pt
    saved = list(pt._UINT8_WARNED)
    pt._UINT8_WARNED.clear()
    try:
        c = gpujit.tensor([0, 3], dtype=gpujit.uint8)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            gpujit.where(c, 1, 0)
            gpujit.where(c, 1, 0)
        assert [str(x.message)[:len(_UINT8_WORDS)] for x in w] == [_UINT8_WORDS]
    finally:
        if saved:
            pt._UINT8_WARNED[:] = saved


def test_where_uint8_condition_grad_and_meta():
    c = gpujit.tensor([0, 1, 2], dtype=gpujit.uint8)
    x = gpujit.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gpujit.where(c, x, 0.0).sum().backward()
        assert x.grad.tolist() == [0.0, 1.0, 1.0]
        m = gpujit.empty(3, device="meta")
        assert gpujit.where(c.to("meta"), m, m).shape == (3,)


@pytest.mark.parametrize("strategy", ["STATIC", "DYNAMIC"])
def test_where_uint8_condition_fused(strategy):
    prev = gpujit.set_fusion_strategy([(strategy, 2)])
    try:
        @gpujit.jit.script
        def f(c, x):
            return gpujit.where(c, x, 2.0) * 2 + c

        c = gpujit.tensor([[0, 1, 2], [7, 0, 255]], dtype=gpujit.uint8)
        x = gpujit.tensor([1.0, -2.0, 3.5])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", gpujit.FusionWarning)
            for _ in range(3):
                r = f(c, x)
                assert r.dtype == gpujit.float32
                assert r.tolist() == [[4.0, -3.0, 9.0], [9.0, 4.0, 262.0]]
        assert "TensorExprGroup" in str(f.graph_for(c, x))
    finally:
        gpujit.set_fusion_strategy(prev)


def test_bfloat16_nextafter_keeps_zero_dim():
    bf = gpujit.bfloat16
    x = gpujit.tensor(1.5).to(bf)
    r = gpujit.nextafter(x, gpujit.tensor(3.0).to(bf))
    assert r.shape == () and r.dtype == bf and r.item() == 1.5078125
    r = gpujit.nextafter(x, gpujit.tensor([3.0, 0.0]).to(bf))
    assert r.shape == (2,) and r.tolist() == [1.5078125, 1.4921875]


def test_pointwise_bfloat16_operand_promoted_away():
    bf = gpujit.bfloat16
    x = gpujit.tensor([0.5, -0.25])
    n = gpujit.tensor([3.0, 4.0])
    T = gpujit.special.chebyshev_polynomial_t
    r = T(x, n.to(bf))
    assert r.dtype == gpujit.float32 and r.tolist() == [-1.0, 0.53125]
    r = T(x.to(bf), n.double())
    assert r.dtype == gpujit.float64 and r.tolist() == [-1.0, 0.53125]
    r = T(x.half(), n.to(bf))
    assert r.dtype == gpujit.float32 and r.tolist() == [-1.0, 0.53125]
    r = gpujit.special.hermite_polynomial_h(x, n.to(bf))
    assert r.dtype == gpujit.float32 and r.tolist() == [-5.0, 9.0625]
    # a bfloat16 computation dtype: still torch's kernel error
    for a, b in [(x.to(bf), n.to(bf)), (x.to(bf), 3), (gpujit.tensor([3, 4]), n.to(bf))]:
        with pytest.raises(NotImplementedError,
                           match="\"chebyshev_polynomial_t_cpu\" not implemented for 'BFloat16'"):
            T(a, b)
    with pytest.raises(RuntimeError, match="\"bitwise_and_cpu\" not implemented for 'Float'"):
        gpujit.bitwise_and(x, n.to(bf))

    @gpujit.jit.script
    def f(x, n):
        return gpujit.special.chebyshev_polynomial_t(x, n) * 2

    for _ in range(3):
        r = f(x, n.to(bf))
        assert r.dtype == gpujit.float32 and r.tolist() == [-2.0, 1.0625]


_SIM_WHERE = r"""
import warnings
import gpujit
warnings.simplefilter("ignore", UserWarning)
warnings.simplefilter("error", gpujit.FusionWarning)

@gpujit.jit.script
def f(c, x):
    return gpujit.where(c, x, 2.0) * 2 + c

c = gpujit.tensor([[0, 1, 2], [7, 0, 255]], dtype=gpujit.uint8)
x = gpujit.tensor([1.0, -2.0, 3.5])
print([f(c, x).tolist() for _ in range(3)][-1])
"""


@pytest.mark.sim
def test_where_uint8_condition_on_the_simulator(kernel_cache_dir, tmp_path):
    import os
    import subprocess
    import sys
    script = tmp_path / "sim_where.py"      # (scripting reads the function's source file)
    script.write_text(_SIM_WHERE)
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", GPUJIT_FUSION_TARGET="sim")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert r.stdout.strip().splitlines()[-1] == "[[4.0, -3.0, 9.0], [9.0, 4.0, 262.0]]"


def test_legendre_laguerre_large_degree_is_fast():
    import time
    t0 = time.time()
    n = gpujit.tensor([1e6, 1e6])
    r = gpujit.special.legendre_polynomial_p(gpujit.tensor([0.5, 0.3]), n)
    assert r.dtype == gpujit.float32
    assert r.tolist() == [-0.0006064266199246049, -0.0005528032779693604]   # (torch 2.13)
    r = gpujit.special.laguerre_polynomial_l(gpujit.tensor([0.5, 2.0]), n)
    assert r.tolist() == [0.027756383642554283, 0.04041588306427002]
    assert time.time() - t0 < 60        # (before: minutes)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_long_recurrence_same_bits_as_the_array_steps(dt, monkeypatch):
    from gpujit.ops import special_more as sm
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-1.2, 1.2, 300), rng.standard_normal(60) * 10,
                        [0, 1, -1, np.nan, np.inf, -np.inf, 0.5, 1e-3, -0.999]]).astype(dt)
    n = rng.integers(-2, 40, x.size).astype(dt)
    n[:5] = 39.7
    n[5] = np.nan
    for fn in (sm.laguerre, sm.legendre):
        monkeypatch.setattr(sm, "LONG_RECURRENCE", 10 ** 9)
        a = fn(np, x, n).astype(dt)
        monkeypatch.setattr(sm, "LONG_RECURRENCE", 2)
        b = fn(np, x, n).astype(dt)
        np.testing.assert_array_equal(a, b)
        assert (np.signbit(a) == np.signbit(b)).all()
