"""OpInfos of the transposing views (gpujit/ops/views_strided.py), against NumPy."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

I64, B = np.int64, np.bool_


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _matrix_samples():
    return [Sample(rand(2, 3)), Sample(rand(4, 2, 3)), Sample(rand(1, 2, 2, 5, dtype=I64)),
            Sample(rand(3, 1, dtype=B))]


_MATRIX_ERRORS = [ErrorSample(rand(3), match="only supported on matrices or batches"),
                  ErrorSample(rand(), match="Got 0-D tensor")]

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


OPINFOS = [NUMPY_T, MT, MH, ADJOINT, MATRIX_H]
