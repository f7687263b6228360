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
