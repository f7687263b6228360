"""OpInfos of the advanced-indexing ops (gpujit/ops/indexing.py): `index.Tensor` (what
x[idx] runs after the basic part of the index became views), `index_put_` (x[idx] = v),
`index_put` and `alias`. A None entry in `indices` means "all of this dim" (NumPy's `:`), so the
reference is NumPy's own advanced indexing; tests/test_indexing.py covers the full
x[...] syntax, where PyTorch and NumPy differ."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand, ALL_DTYPES

F32, F64, I64, I32, U8, B = np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_


def _np_index(indices):
    return tuple(slice(None) if i is None else i for i in indices)


INDEX = OpInfo(
    "aten::index.Tensor", ref=lambda x, indices: x[_np_index(indices)],
    samples=[
        Sample(rand(5, 3), [np.array([0, 4, 4, -1])]),
        Sample(rand(5, 3), [None, np.array([[2, 0], [1, 1]])]),
        Sample(rand(5, 3), [np.array([1, 2]), np.array([0, 2])]),
        Sample(rand(5, 3), [np.array([[1], [2]]), np.array([0, 2])]),          # broadcast pair
        Sample(rand(4, 3, 2), [np.array([0, 1]), None, np.array([1, 0])]),     # split: adv first
        Sample(rand(5, 3), [rand(5, dtype=B)]),
        Sample(rand(5, 3), [rand(5, 3, dtype=B)]),
        Sample(rand(5, 3), [None, np.array([True, False, True])]),
        Sample(rand(5, 3), [np.array([1, 3], dtype=I32)]),
        Sample(rand(5, 3), [np.zeros(0, dtype=I64)]),
        Sample(rand(5), [np.array(2)]),
        *[Sample(rand(4, 2, dtype=d), [np.array([3, 0])]) for d in ALL_DTYPES],
    ],
    errors=[ErrorSample(rand(5), [np.array([5])], exc=IndexError, match="out of"),
            ErrorSample(rand(5), [np.array([1.0])], exc=IndexError,
                        match="tensors used as indices must be long, int, byte or bool"),
            ErrorSample(rand(5), [rand(4, dtype=B)], exc=IndexError)])


def _index_put_ref(x, indices, values, accumulate=False):
    out = x.copy()
    idx = _np_index(indices)
    v = values.astype(out.dtype) if out.dtype != B else values != 0
    if accumulate:
        np.add.at(out, idx, v)
    else:
        out[idx] = v
    return out


_INDEX_PUT_SAMPLES = [
        Sample(rand(5, 3), [np.array([0, 4])], rand(2, 3)),
        Sample(rand(5, 3), [np.array([0, 4])], rand(3)),                       # broadcast values
        Sample(rand(5, 3), [np.array([0, 4]), np.array([2, 1])], rand()),
        Sample(rand(5, 3), [rand(5, 3, dtype=B)], np.array(0.0, dtype=F32)),
        Sample(rand(5, 3), [None, np.array([1])], rand(5, 1)),
        Sample(rand(5, 3), [np.array([0, 0, 1])], rand(3, 3), True),            # accumulate
        Sample(rand(4, dtype=I64), [np.array([1, 1, 1])], np.array([2, 3, 4]), accumulate=True),
        Sample(rand(4, dtype=I32), [np.array([2])], np.array([7], dtype=I32)),
        Sample(rand(4, dtype=U8), [np.array([0, 0])], np.array([200, 100], dtype=U8), True),
        Sample(rand(3, dtype=B), [np.array([0, 2])], np.array([True, False])),
        Sample(rand(4, 2, dtype=F64), [np.array([3])], rand(1, 2, dtype=F64)),
        Sample(rand(4, 3, 2), [np.array([0, 1]), None, np.array([1, 0])], rand(3)),
        Sample(rand(5, 3), [np.array([[1], [2]]), np.array([0, 2])], rand(2, 2)),
        Sample(rand(5, 3), [None, rand(3, dtype=B)], rand()),
        Sample(rand(5, 3), [np.array([1, 1, -1])], rand(3, 3), True),
        Sample(rand(5, 3), [np.zeros(0, dtype=I64)], rand(3)),
]

# PyTorch's messages for bad index_put arguments (x.index_put(...), x[idx] = v)
_INDEX_PUT_ERRORS = [
    ErrorSample(rand(5), [np.array([7])], rand(1), exc=IndexError,
                match="index 7 is out of bounds for dimension 0 with size 5"),
    ErrorSample(rand(4, 2, dtype=F64), [np.array([3])], rand(1, 2, dtype=F32),
                match="Index put requires the source and destination dtypes match, got "
                      "Double for the destination and Float for the source."),
    ErrorSample(rand(3, 4), [np.array([0, 2])], rand(3), match=r"shape mismatch: value "
                r"tensor of shape \[3\] cannot be broadcast to indexing result of shape "
                r"\[2, 4\]"),
    ErrorSample(rand(3, 4), [np.array([0, 2])] * 3, rand(), exc=IndexError,
                match=r"too many indices for tensor of dimension 2 \(got 3\)"),
    ErrorSample(rand(3, 4), [np.array([0, 1]), np.array([0, 1, 2])], rand(), exc=IndexError,
                match=r"shape mismatch: indexing tensors could not be broadcast together "
                      r"with shapes \[2\], \[3\]"),
    ErrorSample(rand(3, 4), [np.array([0.0])], rand(), exc=IndexError,
                match="tensors used as indices must be long, int, byte or bool tensors"),
]

INDEX_PUT_ = OpInfo("aten::index_put_", ref=_index_put_ref, samples=_INDEX_PUT_SAMPLES,
                    errors=_INDEX_PUT_ERRORS)
INDEX_PUT = OpInfo("aten::index_put", ref=_index_put_ref, samples=_INDEX_PUT_SAMPLES,
                   errors=_INDEX_PUT_ERRORS)

ALIAS = OpInfo("aten::alias", ref=lambda x: x,
               samples=[Sample(rand(3, 4)), Sample(rand()), Sample(rand(2, dtype=B))])
LIFT_FRESH = OpInfo("aten::lift_fresh", ref=lambda x: x,
                    samples=[Sample(rand(3, 4)), Sample(rand()), Sample(rand(2, dtype=B))])
FW_PRIMAL = OpInfo("aten::_fw_primal", ref=lambda x, level: x,
                   samples=[Sample(rand(3, 4), 0), Sample(rand(), 0)])

OPINFOS = [INDEX, INDEX_PUT_, INDEX_PUT, ALIAS, LIFT_FRESH, FW_PRIMAL]
