"""OpInfos of the ops added in session 21 (gpujit/ops/complex_parts.py, shape_select.py):
angle on real tensors (pi for negatives, NaN kept), the identities conj / conj_physical /
resolve_conj / resolve_neg / real, and nonzero_static (NumPy's argwhere,
cut or padded to `size` rows)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

F16, F32, F64, I64, B = np.float16, np.float32, np.float64, np.int64, np.bool_


def _angle_ref(x):
    r = np.where(x < 0, np.pi, 0.0)
    return np.where(np.isnan(x), x, r) if x.dtype.kind == "f" else r


def _angle_samples():
    special = np.array([1., -2., 0., -0., np.nan, -np.inf, np.inf], dtype=F32)
    # (the special values last: gradcheck's finite differences take the first samples)
    return [Sample(rand(3, 4)), Sample(rand(5, dtype=F64)), Sample(rand(2, 3, dtype=F16)),
            Sample(rand(4, dtype=I64, low=-3, high=3)), Sample(np.array([True, False])),
            Sample(special)]


def _identity(name):
    return OpInfo(f"aten::{name}", ref=lambda x: x,
                  samples=[Sample(rand(3, 4)), Sample(rand(5, dtype=I64)),
                           Sample(rand(2, 2, dtype=F64))])


def _nonzero_static_ref(x, size, fill_value=-1):
    idx = np.argwhere(x)[:size].astype(I64)
    out = np.full((size, x.ndim), fill_value, dtype=I64)
    out[:len(idx)] = idx
    return out


_NZ_SAMPLES = [Sample(np.array([[0, 1], [2, 0]], dtype=I64), size=4),
               Sample(np.array([0., 1., 1.], dtype=F32), size=1, fill_value=9),
               Sample(rand(3, 4, dtype=B), size=5),
               Sample(np.array([0, 3, 0, 4], dtype=I64), size=2),
               Sample(np.zeros((2, 0), dtype=F32), size=3)]

OPINFOS = [
    OpInfo("aten::angle", ref=_angle_ref, samples=_angle_samples),
    *[_identity(n) for n in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "real")],
    OpInfo("aten::nonzero_static", ref=_nonzero_static_ref, samples=_NZ_SAMPLES,
           errors=[ErrorSample(rand(3), size=-1, exc=RuntimeError,
                               match="'size' must be an non-negative integer")]),
]


# ------------------------------------------------------------------ Householder reflectors
# (gpujit/ops/linalg_householder.py; the reference: NumPy's qr(mode="raw") and the
# reflectors multiplied out as dense matrices)

def _geqrf_ref(a):
    if a.size == 0:
        m, n = a.shape[-2:]
        return a.copy(), np.zeros(a.shape[:-2] + (min(m, n),))
    h, tau = np.linalg.qr(a, mode="raw")
    return np.swapaxes(h, -1, -2), tau


def _hp_ref(a, tau):
    m, n = a.shape[-2:]
    out = np.empty(a.shape)
    for idx in np.ndindex(*a.shape[:-2]):
        q = np.eye(m)
        for i in range(tau.shape[-1]):
            v = np.zeros(m)
            v[i] = 1
            v[i + 1:] = a[idx + (slice(i + 1, None), i)]
            q = q @ (np.eye(m) - tau[idx + (i,)] * np.outer(v, v))
        out[idx] = q[:, :n]
    return out


def _hp_samples():
    rng = np.random.default_rng(21)
    out = []
    for shape, k in (((4, 3), 3), ((3, 3), 2), ((2, 5, 2), 2), ((4, 2), 0)):
        a = rng.standard_normal(shape).astype(F64)
        tau = rng.uniform(0.2, 1.5, shape[:-2] + (k,)).astype(F64)
        out.append(Sample(a, tau))
    out.append(Sample(rng.standard_normal((3, 2)).astype(F32),
                      rng.uniform(0.2, 1.5, (2,)).astype(F32)).tol(1e-5, 1e-5))
    return out


_HP_ERRORS = [ErrorSample(np.ones((2, 3)), np.ones(2), match="must be greater than or equal "
                          "to input.shape\\[-1\\]"),
              ErrorSample(np.ones((3, 2)), np.ones(3), match="input.shape\\[-1\\] must be "
                          "greater than or equal to tau"),
              ErrorSample(np.ones((3, 2), dtype=I64), np.ones(2, dtype=I64),
                          exc=NotImplementedError, match="\"orgqr_cpu\" not implemented for "
                          "'Long'")]

OPINFOS += [
    # (no derivative in PyTorch either: its backward raises NotImplementedError)
    OpInfo("aten::geqrf", ref=_geqrf_ref, grad=False,
           samples=[Sample(rand(4, 3, dtype=F64)), Sample(rand(3, 5, dtype=F64)),
                    Sample(rand(2, 3, 3, dtype=F64)), Sample(rand(3, 2).astype(F32)),
                    Sample(np.zeros((0, 3), dtype=F32))],
           errors=[ErrorSample(rand(3), match="must have at least 2 dimensions"),
                   ErrorSample(rand(3, 3, dtype=I64), exc=NotImplementedError,
                               match="\"geqrf_cpu\" not implemented for 'Long'")]),
    OpInfo("aten::linalg_householder_product", ref=_hp_ref, samples=_hp_samples,
           errors=_HP_ERRORS),
    OpInfo("aten::orgqr", ref=_hp_ref, samples=_hp_samples, errors=_HP_ERRORS),
]
