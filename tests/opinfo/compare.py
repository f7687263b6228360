"""OpInfos for isclose / allclose / equal."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

_a = rand(3, 4)
_b = _a + np.float32(1e-6)
_c = _a.copy()
_c[1, 2] += 1
_nan = np.array([np.nan, 1.0, 2.0], np.float32)


def _isclose_ref(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    close = (a64 == b64) | (np.abs(a64 - b64) <= atol + rtol * np.abs(b64))
    both_nan = np.isnan(a64) & np.isnan(b64)
    return np.where(both_nan, equal_nan, close)


OPINFOS = [
    OpInfo("aten::isclose", ref=_isclose_ref, samples=[
        Sample(_a, _b), Sample(_a, _c), Sample(_a, _a[0]), Sample(_nan, _nan),
        Sample(_nan, _nan, equal_nan=True), Sample(_a, _c, rtol=0.0, atol=2.0),
        Sample(np.array([1, 2, 3]), np.array([1, 2, 4])),
    ], errors=[ErrorSample(_a, rand(5), match="size of tensor a"),
               # (PyTorch's isclose never promotes: two dtypes are its RuntimeError)
               ErrorSample(_a.astype(np.float64), _b, match="^Double did not match Float$"),
               ErrorSample(np.array([True]), np.array([1], np.uint8),
                           match="^Bool did not match Byte$")]),
    OpInfo("aten::allclose", ref=lambda a, b, **kw: bool(_isclose_ref(a, b, **kw).all()),
           samples=[Sample(_a, _b), Sample(_a, _c), Sample(_nan, _nan),
                    Sample(_nan, _nan, equal_nan=True), Sample(_a, _c, atol=2.0),
                    Sample(_a, _a[1])],
           errors=[ErrorSample(_a, _a.astype(np.float64), match="Float did not match Double"),
                   ErrorSample(_a, rand(5), match="must match")]),
    OpInfo("aten::equal", ref=lambda a, b: a.shape == b.shape and bool((a == b).all()),
           samples=[Sample(_a, _a.copy()), Sample(_a, _c), Sample(_a, _a[:2]),
                    Sample(np.array([1, 2]), np.array([1, 2]))]),
]
