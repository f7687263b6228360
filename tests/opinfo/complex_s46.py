"""OpInfos of the ops of session 46 (complex, part 3): aten::_conj, what Tensor.conj /
torch.conj of a complex tensor run (gpujit/ops/complex_parts.py; traces record it)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, rand

F64 = np.float64


def _crand(*shape):
    return rand(*shape, dtype=F64) + 1j * rand(*shape, dtype=F64)


OPINFOS = [
    # (a real tensor: a view of itself, as ATen's _conj of a non-complex tensor)
    OpInfo("aten::_conj", samples=[Sample(_crand(3, 4)), Sample(_crand(0)),
                                   Sample(_crand(2, 3).astype(np.complex64)),
                                   Sample(rand(5, dtype=F64))],
           ref=np.conj),
]
