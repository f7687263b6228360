"""OpInfos of the transposing views and as_strided (gpujit/ops/views_strided.py), against
NumPy. as_strided reads strides relative to the storage: its samples are contiguous
arrays (storage offset 0), so the reference strides the flattened array."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

I64, B = np.int64, np.bool_


def _swap(x):
    return x if x.ndim == 0 else np.swapaxes(x, -1, -2)   # 0-dim: the identity (warns)


def _matrix_samples():
    return [Sample(rand(2, 3)), Sample(rand(4, 2, 3)), Sample(rand(1, 2, 2, 5, dtype=I64)),
            Sample(rand(3, 1, dtype=B)), Sample(rand())]


_MATRIX_ERRORS = [ErrorSample(rand(3), match="only supported on matrices or batches")]

NUMPY_T = OpInfo("aten::numpy_T", ref=lambda x: x.T,
                 samples=[Sample(rand(2, 3)), Sample(rand(3)), Sample(rand()),
                          Sample(rand(2, 3, 4, dtype=I64))])
MT = OpInfo("aten::mT", ref=_swap, samples=_matrix_samples, errors=_MATRIX_ERRORS)
MH = OpInfo("aten::mH", ref=_swap, samples=_matrix_samples, errors=_MATRIX_ERRORS)
ADJOINT = OpInfo("aten::adjoint", ref=_swap, samples=_matrix_samples, errors=_MATRIX_ERRORS)
MATRIX_H = OpInfo(
    "aten::matrix_H", ref=_swap, samples=[Sample(rand(2, 3)), Sample(rand(4, 1, dtype=I64))],
    errors=[ErrorSample(rand(2, 3, 4), match=r"only supported on matrices \(2-D tensors\). "
                                              r"Got 3-D tensor. For batches"),
            ErrorSample(rand(3), match="Got 1-D tensor")])


def _as_strided_ref(x, size, stride, storage_offset=None):
    flat = np.ascontiguousarray(x).reshape(-1)[storage_offset or 0:]
    return np.lib.stride_tricks.as_strided(
        flat, shape=tuple(size), strides=tuple(s * flat.itemsize for s in stride)).copy()


AS_STRIDED = OpInfo(
    "aten::as_strided", ref=_as_strided_ref, noncontiguous=False,
    samples=[Sample(rand(12), [3, 2], [2, 1]), Sample(rand(3, 4), [2, 2], [1, 4], 1),
             Sample(rand(3, 4), [4, 3], [1, 4]), Sample(rand(10), [3, 3], [1, 1], 2),
             Sample(rand(2, 5, dtype=I64), [2], [0], 9), Sample(rand(4), [0, 3], [1, 1], 4),
             Sample(rand(6), [], [], 5), Sample(rand(3, dtype=B), [3], [1])],
    errors=[ErrorSample(rand(12), [5], [3], match="requiring a storage size of 52 are out "
                                                  "of bounds for storage of size 48"),
            ErrorSample(rand(12), [3], [-1], match="Negative strides are not supported"),
            ErrorSample(rand(12), [2], [1], -1, match="invalid storage offset -1"),
            ErrorSample(rand(12), [2, 2], [1], match="mismatch in length of strides and "
                                                     "shape")])

OPINFOS = [NUMPY_T, MT, MH, ADJOINT, MATRIX_H, AS_STRIDED]
