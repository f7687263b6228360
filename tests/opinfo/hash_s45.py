"""OpInfo of torch.hash_tensor (session 45, gpujit/ops/hash_ops.py): the xor of the
elements' 64-bit patterns, uint64. Its result is an integer: no gradient."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand


def _ref(a, dim=(), keepdim=False, mode=0):
    k = a.dtype.kind
    b = (a.astype(np.float64).view(np.uint64) if k == "f" else
         a.astype(np.int64).view(np.uint64) if k == "i" else a.astype(np.uint64))
    axis = None if dim in ((), []) else (dim if isinstance(dim, int) else tuple(dim))
    return np.bitwise_xor.reduce(b, axis=axis, keepdims=keepdim)


OPINFOS = [
    OpInfo("aten::hash_tensor", ref=_ref, grad=False,
           samples=[Sample(rand(3, 4)), Sample(rand(3, 4), [1]),
                    Sample(rand(2, 3, 4, dtype=np.float64), [0, 2], keepdim=True),
                    Sample(np.array([[1, -2, 3], [4, 5, -6]])), Sample(rand(5), [0]),
                    Sample(np.array([True, False, True]))],
           errors=[ErrorSample(rand(3), mode=1, match="Unknown hash_tensor mode: 1"),
                   ErrorSample(np.zeros((2, 0), np.float32), [1], exc=IndexError,
                               match="Expected reduction dim 1 to have non-zero size")]),
]
