"""Session 41: gradients (and the ops they are made of) bit for bit as PyTorch 2.13 on the
CPU: each formula in PyTorch's order of operations, with its fused multiply-adds where
ATen's kernels are compiled with FMA contraction. Each test also checks a NumPy replay of
PyTorch's formula, so it runs without torch; with torch installed it compares with it."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit import Tensor
from gpujit.ops.fma import fma32, fma64

try:
    import torch as _torch
except ImportError:         # (CI: the NumPy replays alone)
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="needs torch")
FLOATS = (np.float32, np.float64)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _bits(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, what
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    assert same.all(), f"{what}: {(~same).sum()} of {a.size} differ, e.g. " \
        f"{a[~same][:3]!r} vs {b[~same][:3]!r}"


# ------------------------------------------------------------------------- addcmul

def _addcmul_numpy(s, t1, t2, value):
    p = (np.asarray(value, s.dtype) * t1) if value != 1 else t1
    if s.dtype == np.float32:
        return (s.astype(np.float64) + p.astype(np.float64) * t2).astype(np.float32)
    return fma64(p, t2, s)


def addcmul_fn(x: Tensor, y: Tensor, z: Tensor):
    return gpujit.addcmul(x * 1.0, y, z, value=0.7) * 1.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_addcmul_rounds_once_in_float64_too(dtype):
    """PyTorch's addcmul is fma(value * t1, t2, self) in float64 as in float32 (gpujit's
    float64 rounded twice: 258 of 1000 elements an ulp off)."""
    rng = _rng(1)
    s, t, u = ((rng.standard_normal(1000) * k).astype(dtype) for k in (300, 30, 3))
    for value in (1, 0.3, -1):
        got = gpujit.addcmul(gpujit.tensor(s), gpujit.tensor(t), gpujit.tensor(u),
                             value=value).numpy()
        _bits(got, _addcmul_numpy(s, t, u, value), f"value={value}")
        if _torch is not None:
            want = _torch.addcmul(_torch.tensor(s), _torch.tensor(t), _torch.tensor(u),
                                  value=value).numpy()
            _bits(got, want, f"torch value={value}")
    a = gpujit.tensor(s)
    a.addcmul_(gpujit.tensor(t), gpujit.tensor(u), value=0.3)
    _bits(a.numpy(), _addcmul_numpy(s, t, u, 0.3), "addcmul_")


@pytest.mark.parametrize("dtype", FLOATS)
def test_fused_addcmul_is_eagers_one_rounding(dtype):
    """The fused kernel rounded value * t1 * t2 + self twice in float32 (504 of 4096
    elements differed from eager); now both are eager's one rounding."""
    rng = _rng(2)
    a, b, c = (gpujit.tensor((rng.standard_normal(4096) * k).astype(dtype))
               for k in (300, 30, 3))
    f = gpujit.jit.script(addcmul_fn)
    outs = [f(a, b, c) for _ in range(3)]
    assert "TensorExprGroup" in str(f.graph_for(a, b, c))
    want = _addcmul_numpy(a.numpy(), b.numpy(), c.numpy(), 0.7)
    for i, o in enumerate(outs):
        _bits(o.numpy(), want, f"call {i + 1}")
