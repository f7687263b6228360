"""OpInfos of torch.special's ndtri, log_ndtr, erfcx, Bessel functions, airy_ai, zeta and
orthogonal polynomials (gpujit/ops/special_more.py), with NumPy references computed by
other means than the implementation (Newton on erfc, continued fractions, series and
quadrature, the polynomials' explicit sums). tests/test_special_more_s25.py reuses the
references."""
from __future__ import annotations

import math

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand

F16, F32, F64, I64 = np.float16, np.float32, np.float64, np.int64

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _ints(*shape, low=0, high=4):
    return rand(*shape, dtype=I64, low=low, high=high)


# ---------------------------------------------------------------- ndtri, log_ndtr, erfcx

def ndtri_ref(p):
    """Newton's method on Phi(x) - p (Phi by math.erfc), from x = 0; -inf at 0, inf at 1."""
    p = np.asarray(p, np.float64)
    inner = (p > 0) & (p < 1)
    q = np.where(inner, p, 0.5)
    x = np.zeros_like(q)
    for _ in range(60):
        phi = 0.5 * _erfc(-x / math.sqrt(2))
        x = x - (phi - q) / (np.exp(-x * x / 2) / math.sqrt(2 * math.pi))
    return np.where(inner, x, np.where(p == 0, -np.inf, np.where(p == 1, np.inf, np.nan)))


def log_ndtr_ref(x):
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x < 0, np.log(0.5 * _erfc(-x / math.sqrt(2))),
                        np.log1p(-0.5 * _erfc(x / math.sqrt(2))))


def erfcx_ref(x):
    """exp(x^2) erfc(x) in float64 (|x| <= 5 in the samples: a few ulps of exp's
    argument)."""
    x = np.asarray(x, np.float64)
    return np.exp(x * x) * _erfc(x)


def _unary(low, high, ref_dtype_ok=True):
    return [Sample(rand(3, 4, dtype=F64, low=low, high=high)),
            Sample(rand(5, dtype=F32, low=low, high=high)).expect_dtype(G.float32),
            Sample(rand(dtype=F64, low=low, high=high)),
            Sample(rand(0, 2, dtype=F64)),
            Sample(_ints(4, low=max(int(low), 0), high=int(high))).expect_dtype(G.float32)]


def _f16_error():
    return [ErrorSample(rand(3, dtype=F16), exc=NotImplementedError)]


OPINFOS = [
    OpInfo("aten::special_ndtri", ref=ndtri_ref, samples=[
        Sample(rand(3, 4, dtype=F64, low=0.02, high=0.98)),
        Sample(rand(5, dtype=F32, low=0.02, high=0.98)).expect_dtype(G.float32),
        Sample(np.array([0.2, 0.5, 1e-3, 1 - 1e-3])),
        Sample(_ints(4, low=0, high=1)).expect_dtype(G.float32)],
        errors=_f16_error(), rtol=1e-10, atol=1e-12),
    OpInfo("aten::special_log_ndtr", ref=log_ndtr_ref, samples=_unary(-10, 5),
           errors=_f16_error(), rtol=1e-10, atol=1e-12),
    OpInfo("aten::special_erfcx", ref=erfcx_ref, samples=_unary(-4, 5),
           errors=_f16_error(), rtol=1e-10, atol=1e-12),
]
