"""OpInfos of the ops e61 added for TorchScript's graphs (gpujit/ops/legacy_extra.py,
shape.py): aten::norm's four overloads (scripted x.norm(p, dim, keepdim): the vector
p-norm, NumPy's) and aten::split.sizes (scripted x.split([1, 2]): np.split's pieces)."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, rand

F32, F64 = np.float32, np.float64
_TOL = dict(rtol=1e-4, atol=1e-4)


def _norm(x, p=2, dim=None, keepdim=False, dtype=None):
    a = np.abs(np.asarray(x, dtype=np.float64))
    p = 2 if p is None else p
    axes = tuple(dim) if dim is not None else None
    if p == np.inf:
        return a.max(axis=axes, keepdims=keepdim)
    return (a ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)


OPINFOS = [
    OpInfo("aten::norm.Scalar", ref=_norm, **_TOL,
           samples=[Sample(rand(3, 4)), Sample(rand(3, 4, dtype=F64), 1),
                    Sample(rand(5), 3.0)]),
    OpInfo("aten::norm.ScalarOpt_dim", ref=_norm, **_TOL,
           samples=[Sample(rand(3, 4), 2, [1]), Sample(rand(3, 4, dtype=F64), None, [0], True),
                    Sample(rand(2, 3, 4), 1, [0, 2])]),
    OpInfo("aten::norm.ScalarOpt_dim_dtype",
           ref=lambda x, p, dim, keepdim, dtype: _norm(x, p, dim, keepdim), **_TOL,
           samples=[Sample(rand(3, 4), 2, [1], False, dtype=G.float64)]),
    OpInfo("aten::norm.ScalarOpt_dtype", ref=lambda x, p, dtype: _norm(x, p), **_TOL,
           samples=[Sample(rand(3, 4), 2, dtype=G.float64)]),
    OpInfo("aten::split.sizes",
           ref=lambda x, sizes, dim=0: np.split(x, np.cumsum(sizes)[:-1], axis=dim),
           samples=[Sample(rand(5, 3), [2, 3]), Sample(rand(5, 3), [1, 0, 2], 1)]),
]
