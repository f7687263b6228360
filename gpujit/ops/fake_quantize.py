"""Fake quantization (quantization-aware training): x rounded to the grid of an affine
quantizer and back, `(clamp(round(x / scale) + zero_point, quant_min, quant_max) -
zero_point) * scale`, with the straight-through gradient (grad where the quantized value
fell inside [quant_min, quant_max], else 0). PyTorch's ATen CPU kernels
(quantized/cpu/kernels/QuantizedOpKernels.cpp), step for step, so the values are its bits:

- the inverse scale is 1.0f / scale in float32 and x * inv_scale is computed in float32
  (float16 input: in float, as c10::Half * float), float64 input in float64;
- per tensor and per channel with an int zero point: zero_point + nearbyint(x * inv_scale)
  in that type (a large zero point rounds in float32); per channel with a floating zero
  point: lrint(zero_point + x * inv_scale);
- the clamp in double (std::fmin / fmax of int64s) and `(q - zero_point) * scale` in
  double per channel, in float32 per tensor (float64 input too), the result converted to
  the input's dtype (float16 through float, as c10::Half(float)) and laid out as it;
- a quantized value that is no int64 (NaN, inf, past 2**63): per tensor it clamps as a
  float (NaN to quant_min: the compiled kernel clamps the double), per channel the int64
  conversion gives INT64_MIN (x86's cvtt / lrint), so quant_min.

The composite ops (`fake_quantize_per_tensor_affine`, `..._per_channel_affine`) record the
node of the `_cachemask` op they call, as PyTorch's (FakeQuantizePerTensorAffineCachemask
Backward0 ...); their gradient is `<op>_cachemask_backward(grad, mask)`, grad * mask.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import memory_format as _mf
from . import registry as _reg
from .derivatives import derivative
from .node_names import RULES
from .registry import op

def _bf16_through_float(name):
    """A bfloat16 self (ops/bfloat16_support.py): ATen's kernels compute it in float and
    round the result once; the scale and zero point keep their dtypes (so the result's
    dtype is self's, which bfloat16_support.finish's rule would not give)."""
    def impl(self, *rest):
        if getattr(self, "_dtype", None) is not _dt.bfloat16:
            return NotImplemented
        r = _reg.OPS[name].eager(self.float(), *rest)
        if isinstance(r, tuple):
            return type(r)(*((r[0].bfloat16(),) + tuple(r[1:])))
        return r.bfloat16()
    return impl


def _declare_bf16_impls():
    from .bfloat16_kernels import TENSOR_IMPLS
    for name in ("aten::fake_quantize_per_tensor_affine",
                 "aten::fake_quantize_per_tensor_affine.tensor_qparams",
                 "aten::fake_quantize_per_tensor_affine_cachemask",
                 "aten::_fake_quantize_per_tensor_affine_cachemask_tensor_qparams",
                 "aten::fake_quantize_per_channel_affine",
                 "aten::fake_quantize_per_channel_affine_cachemask"):
        TENSOR_IMPLS[name] = _bf16_through_float(name)


_declare_bf16_impls()
_INT64_MIN = -2.0 ** 63
_PER_TENSOR_KERNEL = "fake_quantize_tensor_cachemask_kernel_type_handling"
_PER_CHANNEL_KERNEL = "fake_quantize_channel_cachemask_cpu_type_handling"
_RANGE = "`quant_min` should be less than or         equal to `quant_max`."
_ZP_RANGE = "`zero_point` must be between `quant_min` and `quant_max`."


def _floating_input(a, kernel):
    if a.dtype.kind != "f":
        d = _dt.from_numpy_dtype(a.dtype)
        e = _reg.UnsupportedDtypeError(f"\"{kernel}\" not implemented for '{d.short_name}'")
        e.dtype = d
        raise e


def _scaled(xp, self, inv_scale):
    """x * inv_scale in the kernel's type: float32 (float16 input too) or float64."""
    if self.dtype == np.float64:
        return self * np.float64(inv_scale)
    return self.astype(np.float32, copy=False) * inv_scale


def _to_int64_x86(xp, q):
    """static_cast<int64_t> / lrint of a double on x86, kept as a double: NaN, inf and
    values past int64 become INT64_MIN, -0.0 the integer 0."""
    ok = (q > _INT64_MIN - 1.0) & (q < 2.0 ** 63)
    return xp.where(ok, q + 0.0, _INT64_MIN)


def _dequantized(xp, q, zero_point, scale, quant_min, quant_max, like, in_float=False):
    """(fmin(fmax(q, quant_min), quant_max) - zero_point) * scale in double (per tensor:
    the product in float32, float64 input too), converted to like's dtype (float16
    through float32, as c10::Half(float)), laid out as like (empty_like)."""
    c = xp.fmin(xp.fmax(q.astype(np.float64), float(quant_min)), float(quant_max))
    if in_float:
        out = (c - zero_point).astype(np.float32) * np.float32(scale)
    else:
        out = (c - zero_point) * scale
    if like.dtype == np.float16:
        out = out.astype(np.float32)
    return _mf.iterator_layout(xp, out.astype(like.dtype), (like,))


def _per_tensor(xp, self, scale, zero_point, quant_min, quant_max):
    inv = np.float32(1.0) / np.float32(scale)
    t = _scaled(xp, self, inv)
    q = xp.rint(t) + t.dtype.type(zero_point)       # (int64 + float: in that float type)
    mask = _mf.iterator_layout(xp, (q >= quant_min) & (q <= quant_max), (self,))
    return _dequantized(xp, q, np.float64(zero_point), scale, quant_min, quant_max, self,
                        in_float=True), mask


def _per_tensor_checks(self, zero_point, quant_min, quant_max, check_zero_point=True):
    _floating_input(self, _PER_TENSOR_KERNEL)
    if quant_min > quant_max:
        raise RuntimeError(_RANGE)
    if check_zero_point and not quant_min <= zero_point <= quant_max:
        raise RuntimeError(_ZP_RANGE)


def _item(a):
    if a.size != 1:
        raise RuntimeError(f"a Tensor with {a.size} elements cannot be converted to Scalar")
    return a.reshape(()).item()


def _fq_meta(self, *args):
    from .meta import TensorMeta
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


def _fq_mask_meta(self, *args):
    from .meta import TensorMeta
    return (TensorMeta(self.dtype, tuple(self.shape), self.device),
            TensorMeta(_dt.bool, tuple(self.shape), self.device))


@op("aten::fake_quantize_per_tensor_affine_cachemask(Tensor self, float scale, int zero_point, "
    "int quant_min, int quant_max) -> (Tensor output, Tensor mask)", tags={"nn"},
    method=False, function=False, meta=_fq_mask_meta, nondiff_outputs=("mask",))
def fake_quantize_per_tensor_affine_cachemask(xp, self, scale, zero_point, quant_min,
                                              quant_max):
    _per_tensor_checks(self, zero_point, quant_min, quant_max)
    return _per_tensor(xp, self, scale, zero_point, quant_min, quant_max)


@op("aten::_fake_quantize_per_tensor_affine_cachemask_tensor_qparams(Tensor self, "
    "Tensor scale, Tensor zero_point, Tensor fake_quant_enabled, int quant_min, "
    "int quant_max) -> (Tensor output, Tensor mask)", tags={"nn"}, method=False,
    meta=_fq_mask_meta, nondiff_outputs=("mask",),
    namedtuple_name="_fake_quantize_per_tensor_affine_cachemask_tensor_qparams")
def _fake_quantize_per_tensor_affine_cachemask_tensor_qparams(
        xp, self, scale, zero_point, fake_quant_enabled, quant_min, quant_max):
    """scale and zero_point as the kernel reads them: item() as float and as int (a
    floating zero point truncates); no zero-point range check. fake_quant_enabled[0] < 1:
    the input and an all-true mask."""
    _per_tensor_checks(self, 0, quant_min, quant_max, check_zero_point=False)
    if float(fake_quant_enabled.reshape(-1)[0]) < 1:
        return xp.array(self, copy=True), xp.ones(self.shape, dtype=bool)
    return _per_tensor(xp, self, float(_item(scale)), int(_item(zero_point)), quant_min,
                       quant_max)


@op("aten::fake_quantize_per_tensor_affine(Tensor self, float scale, int zero_point, "
    "int quant_min, int quant_max) -> Tensor", tags={"nn"}, method=False, meta=_fq_meta)
def fake_quantize_per_tensor_affine(xp, self, scale, zero_point, quant_min, quant_max):
    return fake_quantize_per_tensor_affine_cachemask(xp, self, scale, zero_point, quant_min,
                                                     quant_max)[0]


@op("aten::fake_quantize_per_tensor_affine.tensor_qparams(Tensor self, Tensor scale, "
    "Tensor zero_point, int quant_min, int quant_max) -> Tensor", tags={"nn"}, method=False,
    meta=_fq_meta)
def fake_quantize_per_tensor_affine_tensor_qparams(xp, self, scale, zero_point, quant_min,
                                                   quant_max):
    return _fake_quantize_per_tensor_affine_cachemask_tensor_qparams(
        xp, self, scale, zero_point, np.ones(1), quant_min, quant_max)[0]


def _per_channel_checks(self, scale, zero_point, axis, quant_min, quant_max):
    """at::fake_quantize_per_channel_affine_cachemask's checks, in its order."""
    names = {np.dtype(np.float32): "Float", np.dtype(np.float16): "Half",
             np.dtype(np.int32): "Int"}

    def name(a):
        return names.get(a.dtype) or _dt.from_numpy_dtype(a.dtype).short_name
    if scale.dtype != np.float32:
        raise RuntimeError(f"Scale must be Float or BFloat16, found {name(scale)}")
    if zero_point.dtype not in (np.int32, np.float32, np.float16):
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found {name(zero_point)}")
    if scale.ndim != 1:
        raise RuntimeError("scale should be a 1-D tensor")
    if zero_point.ndim != 1:
        raise RuntimeError("zero point should be a 1-D tensor")
    if scale.size != zero_point.size:
        raise RuntimeError("scale and zero-point need to have the same dimensions")
    if self.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    from .meta import wrap_dim
    if scale.size != self.shape[wrap_dim(axis, self.ndim)]:
        raise RuntimeError("dimensions of scale and zero-point are not consistent with "
                           "input tensor")
    if quant_min > quant_max:
        raise RuntimeError(_RANGE)
    if zero_point.dtype.kind == "i" and zero_point.size and not (
            int(zero_point.min()) >= quant_min and int(zero_point.max()) <= quant_max):
        raise RuntimeError(_ZP_RANGE)
    if not 0 <= axis <= self.ndim:
        raise RuntimeError("`axis` must be between 0 and number of dimensions of input")
    _floating_input(self, _PER_CHANNEL_KERNEL)


@op("aten::fake_quantize_per_channel_affine_cachemask(Tensor self, Tensor scale, "
    "Tensor zero_point, int axis, int quant_min, int quant_max) -> (Tensor output, "
    "Tensor mask)", tags={"nn"}, method=False, function=False, meta=_fq_mask_meta,
    nondiff_outputs=("mask",))
def fake_quantize_per_channel_affine_cachemask(xp, self, scale, zero_point, axis, quant_min,
                                               quant_max):
    _per_channel_checks(self, scale, zero_point, axis, quant_min, quant_max)
    shape = [1] * self.ndim
    shape[axis] = -1
    sc = scale.reshape(shape)
    inv = np.float32(1.0) / sc
    t = _scaled(xp, self, inv)
    if zero_point.dtype.kind == "f":
        # lrint(zero_point + x * inv_scale), the zero point in its own type (float16: float)
        zp = zero_point.reshape(shape).astype(np.float32)
        q = xp.rint(t + zp.astype(t.dtype, copy=False))
    else:
        zp = zero_point.reshape(shape)
        q = xp.rint(t) + zp.astype(t.dtype)
    q = _to_int64_x86(xp, q.astype(np.float64))
    mask = _mf.iterator_layout(xp, (q >= quant_min) & (q <= quant_max), (self,))
    out = _dequantized(xp, q, zp.astype(np.float64), sc.astype(np.float64), quant_min,
                       quant_max, self)
    return out, mask


@op("aten::fake_quantize_per_channel_affine(Tensor self, Tensor scale, Tensor zero_point, "
    "int axis, int quant_min, int quant_max) -> Tensor", tags={"nn"}, method=False,
    meta=_fq_meta)
def fake_quantize_per_channel_affine(xp, self, scale, zero_point, axis, quant_min, quant_max):
    return fake_quantize_per_channel_affine_cachemask(xp, self, scale, zero_point, axis,
                                                      quant_min, quant_max)[0]


@op("aten::fake_quantize_per_tensor_affine_cachemask_backward(Tensor grad, Tensor mask) "
    "-> Tensor", tags={"nn"}, method=False, function=False, meta=_fq_meta)
def fake_quantize_per_tensor_affine_cachemask_backward(xp, grad, mask):
    if grad.shape != mask.shape:
        raise RuntimeError("fake_quantize_per_tensor_affine_cachemask_backward: grad and "
                           "mask must have the same shape")
    return grad * mask


@op("aten::fake_quantize_per_channel_affine_cachemask_backward(Tensor grad, Tensor mask) "
    "-> Tensor", tags={"nn"}, method=False, function=False, meta=_fq_meta)
def fake_quantize_per_channel_affine_cachemask_backward(xp, grad, mask):
    return fake_quantize_per_tensor_affine_cachemask_backward(xp, grad, mask)


# ------------------------------------------------------------------ QAT's fused observer

def choose_qparams(lo, hi, qmin, qmax, preserve_sparsity):
    """(scale as a double, zero point) of ATen's quant_utils::ChooseQuantizationParams for
    the float32 range [lo, hi] (not checked: an empty one, inf and -inf, is [0, 0]): the
    range widened to hold 0 (symmetric: centred), scale
    (hi - lo) / (qmax - qmin) in double (0.1 where it is 0 or its float reciprocal inf;
    at least 6.1e-5, the range scaled along), the zero point from the end whose terms are
    smaller, nudged into [qmin, qmax] and rounded to nearest even."""
    f32 = np.float32
    lo, hi = f32(lo), f32(hi)
    if lo < 0 and hi > 0 and preserve_sparsity:
        sq_min, sq_max = -((qmax - qmin) // 2 + 1), (qmax - qmin) // 2
        max_scale = max(abs(float(lo / f32(sq_min))), abs(float(hi / f32(sq_max))))
        lo, hi = f32(max_scale * sq_min), f32(max_scale * sq_max)
    lo, hi = min(lo, f32(0)), max(hi, f32(0))
    if not qmin < qmax:
        raise RuntimeError("In ChooseQuantizationParams, qmin should be less than qmax")
    scale = (float(hi) - float(lo)) / (qmax - qmin)
    with np.errstate(divide="ignore", over="ignore"):
        if f32(scale) == 0 or np.isinf(f32(1) / f32(scale)):
            scale = 0.1
    small = f32(6.1e-5)
    if scale < small:
        org = f32(scale)
        scale = float(small)
        if lo == 0:
            hi = f32(small * f32(qmax - qmin))
        elif hi == 0:
            lo = f32(-small * f32(qmax - qmin))
        else:
            amp = f32(small / org)
            lo, hi = f32(lo * amp), f32(hi * amp)
    from_min, from_max = qmin - float(lo) / scale, qmax - float(hi) / scale
    err_min = abs(qmin) - abs(float(lo) / scale)
    err_max = abs(qmax) - abs(float(hi) / scale)
    zp = from_min if err_min < err_max else from_max
    if lo < 0 and hi > 0 and preserve_sparsity:
        zp = (qmin + qmax) / 2
    if zp != zp:
        return scale, -2 ** 31      # (NaN through nearbyint to int32: x86's INT32_MIN)
    zp = qmin if zp < qmin else qmax if zp > qmax else int(np.rint(zp))
    return scale, zp


def _moving_average(running, current, c):
    """running (float32, written in place) := current where it is inf, else
    running + c * (current - running) in float32 (ATen's calculate_moving_average)."""
    c = np.float32(c)
    running[...] = np.where(np.isinf(running), current, running + c * (current - running))


@op("aten::_fused_moving_avg_obs_fq_helper(Tensor self, Tensor observer_on, "
    "Tensor fake_quant_on, Tensor(a!) running_min, Tensor(b!) running_max, Tensor(c!) scale, "
    "Tensor(d!) zero_point, float averaging_const, int quant_min, int quant_max, int ch_axis, "
    "bool per_row_fake_quant=False, bool symmetric_quant=False) -> (Tensor output, "
    "Tensor mask)", tags={"nn"}, method=False, meta=_fq_mask_meta, nondiff_outputs=("mask",))
def _fused_moving_avg_obs_fq_helper(xp, self, observer_on, fake_quant_on, running_min,
                                    running_max, scale, zero_point, averaging_const, quant_min,
                                    quant_max, ch_axis, per_row_fake_quant=False,
                                    symmetric_quant=False):
    """A moving-average min/max observer and fake quantization in one op (QAT's
    FusedMovingAvgObsFakeQuantize), as ATen's CPU kernel: running_min / running_max (inf
    until the first observation) move toward self's min / max when observer_on, and the
    qparams written to scale / zero_point, then self fake-quantized with them when
    fake_quant_on (else self and an all-true mask)."""
    if not ch_axis < self.ndim:
        raise RuntimeError("Error in fused_moving_avg_obs_fake_quant_cpu: ch_axis must be < "
                           "self.dim()")
    observe = int(observer_on.reshape(-1)[0])
    fake_quant = int(fake_quant_on.reshape(-1)[0])
    if per_row_fake_quant:
        if ch_axis != 0:
            raise RuntimeError("Per-channel FakeQuant in fused_moving_avg_obs_fake_quant is "
                               "only supported on axis == 0")
        n = self.shape[ch_axis]
        if running_min.size != n:
            raise RuntimeError(f"fused_moving_avg_obs_fake_quant: gpujit needs running_min, "
                               f"running_max, scale and zero_point of {n} elements "
                               f"(self.size(ch_axis)) for per-row fake quant; PyTorch "
                               f"resizes empty ones")
        if observe:
            y = self.reshape(n, -1)
            _moving_average(running_min, y.min(axis=1), averaging_const)
            _moving_average(running_max, y.max(axis=1), averaging_const)
    elif observe:
        _moving_average(running_min, self.min(), averaging_const)
        _moving_average(running_max, self.max(), averaging_const)
    if not fake_quant:
        return xp.array(self, copy=True), xp.ones(self.shape, dtype=bool)
    lows, highs = running_min.reshape(-1), running_max.reshape(-1)
    flat_s, flat_z = scale.reshape(-1), zero_point.reshape(-1)
    for i in range(lows.size if per_row_fake_quant else 1):
        # (.item(): the running range's values on the host, a CuPy array's too)
        sc, zp = choose_qparams(lows[i].item(), highs[i].item(), quant_min, quant_max,
                                symmetric_quant)
        flat_s[i], flat_z[i] = sc, zp
    if per_row_fake_quant:
        return fake_quantize_per_channel_affine_cachemask(xp, self, scale, zero_point,
                                                          ch_axis, quant_min, quant_max)
    return _per_tensor(xp, self, float(np.float32(flat_s[0].item())), int(flat_z[0].item()),
                       quant_min, quant_max)


@op("aten::fused_moving_avg_obs_fake_quant(Tensor self, Tensor observer_on, "
    "Tensor fake_quant_on, Tensor(a!) running_min, Tensor(b!) running_max, Tensor(c!) scale, "
    "Tensor(d!) zero_point, float averaging_const, int quant_min, int quant_max, int ch_axis, "
    "bool per_row_fake_quant=False, bool symmetric_quant=False) -> Tensor", tags={"nn"},
    method=False, meta=_fq_meta)
def fused_moving_avg_obs_fake_quant(xp, self, *args):
    return _fused_moving_avg_obs_fq_helper(xp, self, *args)[0]


def _straight_through(backward_op):
    def grad_fn(grad, mask):
        return backward_op.op.public(grad, mask)
    return grad_fn


def _cachemask_grad(backward_op):
    def grad_fn(grad, result):
        return backward_op.op.public(grad[0], result[1])
    return grad_fn


_PT_BW = fake_quantize_per_tensor_affine_cachemask_backward
_PC_BW = fake_quantize_per_channel_affine_cachemask_backward


def _pt_mask(self, scale, zero_point, quant_min, quant_max):
    return fake_quantize_per_tensor_affine_cachemask.op.public(
        self, scale, zero_point, quant_min, quant_max)[1]


def _pt_tq_mask(self, scale, zero_point, quant_min, quant_max):
    return _fake_quantize_per_tensor_affine_cachemask_tensor_qparams.op.public(
        self, scale, zero_point, self.new_ones(1, dtype=_dt.int64), quant_min, quant_max)[1]


def _pc_mask(self, scale, zero_point, axis, quant_min, quant_max):
    return fake_quantize_per_channel_affine_cachemask.op.public(
        self, scale, zero_point, axis, quant_min, quant_max)[1]


for _op_, _mask, _bw in ((fake_quantize_per_tensor_affine, _pt_mask, _PT_BW),
                         (fake_quantize_per_tensor_affine_tensor_qparams, _pt_tq_mask, _PT_BW),
                         (fake_quantize_per_channel_affine, _pc_mask, _PC_BW)):
    derivative(_op_, wrt=("self",), computes={"mask": _mask})(_straight_through(_bw))

def _fused_mask(self, observer_on, fake_quant_on, running_min, running_max, scale, zero_point,
                averaging_const, quant_min, quant_max, ch_axis, per_row_fake_quant,
                symmetric_quant, result):
    """The mask of the call just made: the qparams it wrote, applied again (no second
    observation)."""
    if not int(fake_quant_on.reshape(-1)[0]):
        return None
    if per_row_fake_quant:
        return fake_quantize_per_channel_affine_cachemask.op.public(
            self.detach(), scale, zero_point, ch_axis, quant_min, quant_max)[1]
    return fake_quantize_per_tensor_affine_cachemask.op.public(
        self.detach(), float(scale.reshape(-1)[0]), int(zero_point.reshape(-1)[0]),
        quant_min, quant_max)[1]


def _fused_grad(grad, mask):
    return grad if mask is None else _PT_BW.op.public(grad, mask)


derivative(fused_moving_avg_obs_fake_quant, wrt=("self",), computes={"mask": _fused_mask})(
    _fused_grad)
derivative(_fused_moving_avg_obs_fq_helper, wrt=("self",))(
    lambda grad, result: _PT_BW.op.public(grad[0], result[1]))

for _op_, _bw in ((fake_quantize_per_tensor_affine_cachemask, _PT_BW),
                  (_fake_quantize_per_tensor_affine_cachemask_tensor_qparams, _PT_BW),
                  (fake_quantize_per_channel_affine_cachemask, _PC_BW)):
    derivative(_op_, wrt=("self",))(_cachemask_grad(_bw))

for _bw in (_PT_BW, _PC_BW):       # (ATen's grad * mask: its gradient is grad * mask again)
    derivative(_bw, wrt=("grad",))(_straight_through(_bw))

# the node of the _cachemask op the composites call, as PyTorch's
RULES.update({
    "aten::fake_quantize_per_tensor_affine": "FakeQuantizePerTensorAffineCachemaskBackward0",
    "aten::fake_quantize_per_tensor_affine.tensor_qparams":
        "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0",
    "aten::fake_quantize_per_channel_affine": "FakeQuantizePerChannelAffineCachemaskBackward0",
    "aten::fused_moving_avg_obs_fake_quant": "FusedMovingAvgObsFqHelperBackward0",
})
