"""OpInfos of session 48 (b): torch._scaled_mm (gpujit/ops/scaled_mm.py), the float8 matrix
product with per-tensor or per-row scales. Its matrices are float8 tensors, which NumPy
cannot hold: the samples pass gpujit tensors (the harness hands them over as they are) and
the reference decodes them. The bits are compared with torch in
tests/test_float8_quant_s48.py. No gradcheck: PyTorch has no derivative for it."""
from __future__ import annotations

import numpy as np

import gpujit

from . import OpInfo, Sample, ErrorSample

_A = np.array([[1.0, 2.0, 3.0], [-4.0, 0.5, 6.0]], np.float32)
_B = np.array([[1.0, 0.25], [2.0, -1.0], [0.5, 3.0]], np.float32)


def _f8(x, d=gpujit.float8_e4m3fn):
    return gpujit.from_numpy(x).to(d)


def _values(t):
    return t.float().numpy().astype(np.float64) if isinstance(t, gpujit.Tensor) else t


def _ref(a, b, scale_a, scale_b, bias=None, scale_result=None, out_dtype=None,
         use_fast_accum=False):
    out = (_values(a) * _values(scale_a)) @ (_values(b) * _values(scale_b))
    return out + _values(bias) if bias is not None else out


def _samples():
    s1, s2 = np.array(2.0, np.float32), np.array(0.5, np.float32)
    return [
        Sample(_f8(_A), _f8(_B), s1, s2, out_dtype=gpujit.float32),
        Sample(_f8(_A), _f8(_B, gpujit.float8_e5m2), s1, s2, bias=np.array([1., 2.], np.float32),
               out_dtype=gpujit.float32),
        Sample(_f8(_A), _f8(_B), np.array([[1.0], [2.0]], np.float32),
               np.array([[1.0, 4.0]], np.float32), out_dtype=gpujit.float32),
    ]


OPINFOS = [
    OpInfo("aten::_scaled_mm", ref=_ref, grad=False, noncontiguous=False, gpu=False,
           samples=_samples,
           errors=[ErrorSample(_A, _B, np.array(2.0, np.float32), np.array(0.5, np.float32),
                               exc=ValueError, match="Invalid scaling configuration")]),
]
