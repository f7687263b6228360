"""OpInfos of fake quantization (session 47, gpujit/ops/fake_quantize.py): x on the grid of
an affine quantizer, (clamp(round(x / scale) + zero_point, lo, hi) - zero_point) * scale.
Samples avoid rounding ties (the reference is float64); the bits are compared with torch in
tests/test_float8_quant_s47.py. No gradcheck: the gradient is the straight-through one
(grad where the value fell inside [lo, hi]), not the step function's derivative."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample

_X = np.array([[-3.1, -1.26, -0.1, 0.0, 0.3], [0.8, 1.26, 2.4, 10.2, -7.7]], np.float32)


def _q(x, scale, zp, lo, hi):
    return np.clip(np.rint(x / scale) + zp, lo, hi)


def _per_tensor(x, scale, zp, lo, hi):
    return (_q(x, scale, zp, lo, hi) - zp) * scale


def _per_tensor_mask(x, scale, zp, lo, hi):
    q = np.rint(x / scale) + zp
    return (_per_tensor(x, scale, zp, lo, hi), (q >= lo) & (q <= hi))


def _channels(x, scale, zp, axis):
    shape = [1] * x.ndim
    shape[axis] = -1
    return scale.reshape(shape), zp.reshape(shape).astype(np.float64)


def _per_channel_q(x, scale, zp, axis):
    """(quantized values, scale, zero point): a floating zero point is added before the
    rounding (lrint(zero_point + x / scale)), an integer one after it."""
    s, z = _channels(x, scale, zp, axis)
    return (np.rint(x / s + z) if zp.dtype.kind == "f" else np.rint(x / s) + z), s, z


def _per_channel(x, scale, zp, axis, lo, hi):
    q, s, z = _per_channel_q(x, scale, zp, axis)
    return (np.clip(q, lo, hi) - z) * s


def _per_channel_mask(x, scale, zp, axis, lo, hi):
    q, s, z = _per_channel_q(x, scale, zp, axis)
    return ((np.clip(q, lo, hi) - z) * s, (q >= lo) & (q <= hi))


def _tq(x, scale, zp, lo, hi):
    return _per_tensor(x, float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0]), lo, hi)


def _tq_mask(x, scale, zp, enabled, lo, hi):
    if enabled.reshape(-1)[0] < 1:
        return x, np.ones(x.shape, bool)
    return _per_tensor_mask(x, float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0]), lo, hi)


_SC = np.array([0.5, 0.25], np.float32)
_ZP = np.array([1, -2], np.int32)
_PT = [Sample(_X, 0.5, 1, -5, 5), Sample(_X.astype(np.float64), 0.2, 0, -128, 127),
       Sample(_X[0], 1.0, 3, 0, 255)]
_PC = [Sample(_X, _SC, _ZP, 0, -5, 5), Sample(_X.T.copy(), _SC, _ZP, 1, -128, 127),
       Sample(_X, _SC, np.array([0.25, 1.0], np.float32), 0, -5, 5)]
_TQ = [Sample(_X, np.array([0.5], np.float32), np.array([1]), -5, 5),
       Sample(_X, np.array([0.25], np.float32), np.array([2], np.int32), -128, 127)]
_RANGE = "`quant_min` should be less than or         equal to `quant_max`"

OPINFOS = [
    OpInfo("aten::fake_quantize_per_tensor_affine", ref=_per_tensor, grad=False, samples=_PT,
           errors=[ErrorSample(_X, 0.5, 1, 5, -5, match=_RANGE),
                   ErrorSample(_X, 0.5, 9, -5, 5, match="`zero_point` must be between"),
                   ErrorSample(np.array([1, 2]), 0.5, 1, -5, 5, exc=NotImplementedError,
                               match="not implemented for 'Long'")]),
    OpInfo("aten::fake_quantize_per_tensor_affine_cachemask", ref=_per_tensor_mask,
           grad=False, samples=_PT),
    OpInfo("aten::fake_quantize_per_tensor_affine.tensor_qparams", ref=_tq, grad=False,
           samples=_TQ),
    OpInfo("aten::_fake_quantize_per_tensor_affine_cachemask_tensor_qparams", ref=_tq_mask,
           grad=False,
           samples=[Sample(_X, np.array([0.5], np.float32), np.array([1]), np.array([1]), -5, 5),
                    Sample(_X, np.array([0.5], np.float32), np.array([1]), np.array([0]), -5, 5)]),
    OpInfo("aten::fake_quantize_per_channel_affine", ref=_per_channel, grad=False, samples=_PC,
           errors=[ErrorSample(_X, _SC.astype(np.float64), _ZP, 0, -5, 5,
                               match="Scale must be Float or BFloat16, found Double"),
                   ErrorSample(_X, _SC, _ZP.astype(np.int64), 0, -5, 5,
                               match="Zero-point must be Int32, Float or Half, found Long"),
                   ErrorSample(_X, _SC, _ZP, 1, -5, 5, match="not consistent with input"),
                   ErrorSample(_X, _SC, _ZP, 0, 5, -5, match=_RANGE)]),
    OpInfo("aten::fake_quantize_per_channel_affine_cachemask", ref=_per_channel_mask,
           grad=False, samples=_PC),
    OpInfo("aten::fake_quantize_per_tensor_affine_cachemask_backward",
           ref=lambda g, m: g * m, grad=False,
           samples=[Sample(_X, _X > 0), Sample(_X.astype(np.float64), _X < 1)]),
    OpInfo("aten::fake_quantize_per_channel_affine_cachemask_backward",
           ref=lambda g, m: g * m, grad=False, samples=[Sample(_X, _X > 0)]),
]


def _fused(x, observer_on, fake_quant_on, rmin, rmax, scale, zp, c, lo, hi, axis, per_row=False,
           symmetric=False):
    """The samples' observer is off: qparams from the given range [rmin, rmax] (holding 0,
    not symmetric): scale (rmax - rmin) / (hi - lo), zero point lo - rmin / scale."""
    if not fake_quant_on.reshape(-1)[0]:
        return x
    s = (float(rmax) - float(rmin)) / (hi - lo)
    z = int(np.rint(lo - float(rmin) / s))
    return _per_tensor(x, s, z, lo, hi)


def _fused_helper(*args):
    out = _fused(*args)
    x, lo, hi = args[0], args[8], args[9]
    if not args[2].reshape(-1)[0]:
        return out, np.ones(x.shape, bool)
    s = (float(args[4]) - float(args[3])) / (hi - lo)
    q = np.rint(x / s) + int(np.rint(lo - float(args[3]) / s))
    return out, (q >= lo) & (q <= hi)


_XF = _X + np.float32(0.013)        # (no value on a rounding tie of scale 3 / 255)
_FUSED = [Sample(_XF, np.array([0]), np.array([1]), np.array(-1.0, np.float32),
                 np.array(2.0, np.float32), np.ones(1, np.float32), np.zeros(1, np.int32), 0.01,
                 0, 255, 0),
          Sample(_XF, np.array([0]), np.array([0]), np.array(-1.0, np.float32),
                 np.array(2.0, np.float32), np.ones(1, np.float32), np.zeros(1, np.int32), 0.01,
                 0, 255, 0)]
OPINFOS += [
    OpInfo("aten::fused_moving_avg_obs_fake_quant", ref=_fused, grad=False, samples=_FUSED,
           errors=[ErrorSample(_X, np.array([1]), np.array([1]), np.array(-1.0, np.float32),
                               np.array(2.0, np.float32), np.ones(1, np.float32),
                               np.zeros(1, np.int32), 0.01, 0, 255, 2,
                               match="ch_axis must be < self.dim()")]),
    OpInfo("aten::_fused_moving_avg_obs_fq_helper", ref=_fused_helper, grad=False,
           samples=_FUSED),
]
