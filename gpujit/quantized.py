"""Quantized tensors, eager (torch.quantize_per_tensor / quantize_per_channel): a
QuantizedTensor holds its integer representation (`int_repr()`, an int8 / uint8 / int32
array) and its quantizer (scheme, scale(s), zero point(s), axis), as PyTorch's
QTensorImpl; `dequantize()` gives the float32 values back.

Values as ATen's CPU kernels make them: per tensor (FBGEMM's Quantize) nearbyint(
fma(x, 1.0f / scale, zero_point)) in float32 (qint32: x * (1.0f / scale) rounded, then
+ zero_point), clamped to the type's range (NaN to its maximum; qint32: NaN is
INT32_MIN); per channel (quantize_val) zero_point +
nearbyint(x * (1.0f / scale)) converted to int64 (NaN, inf: INT64_MIN), clamped.

Ops. The creation functions, dequantize, int_repr and the quantizer's facts are here;
a QuantizedTensor's array read in another op's entry point raises QuantizedOperand (the
sparse / nested operands' handler, free otherwise): ops that move elements (views, clone,
cat, select ...) run on the integer representation and keep the quantizer (per tensor),
the ops PyTorch's QuantizedCPU kernels compute (relu, clamp, comparisons, max, sort,
mean, torch.ops.quantized.add ...) are ops/quantized_ops.py's KERNELS; any other is
PyTorch's NotImplementedError for the QuantizedCPU backend.
"""
from __future__ import annotations

import sys

import numpy as np

from . import dtypes as _dt
from .ops import registry as _reg
from .overrides import _disabled_torch_function_impl

__all__ = ["QuantizedTensor", "quantize_per_tensor", "quantize_per_channel", "dequantize"]

_REPR = {_dt.qint8: np.int8, _dt.quint8: np.uint8, _dt.qint32: np.int32}
_INT_DTYPE = {_dt.qint8: _dt.int8, _dt.quint8: _dt.uint8, _dt.qint32: _dt.int32}
_DEPRECATED = ("torch.quantize_per_tensor, torch.quantize_per_channel and other quantized "
               "tensor creation functions that produce tensors with dtype torch.quint8, "
               "torch.qint8, and torch.qint32 are deprecated and will be removed in a future "
               "PyTorch release. Please see https://github.com/pytorch/pytorch/issues/184982 "
               "for more information.")
_warned = []


def _warn_deprecated():
    """PyTorch's TORCH_WARN_ONCE of Quantizer.cpp (once a process)."""
    from .runtime_flags import is_warn_always_enabled
    if _warned and not is_warn_always_enabled():
        return
    _warned.append(True)
    from ._frames import warn_at_user_frame
    warn_at_user_frame(_DEPRECATED)


def backend_error(name, backend="QuantizedCPU"):
    return NotImplementedError(
        f"Could not run '{name}' with arguments from the '{backend}' backend. This could be "
        f"because the operator doesn't exist for this backend, or was omitted during the "
        f"selective/custom build process (if using custom build). If you are a Facebook "
        f"employee using PyTorch on mobile, please visit https://fburl.com/ptmfixes for "
        f"possible resolutions.")


class QuantizedOperand(_reg.NestedOperand):
    """A quantized tensor's array read in the entry point of `op`."""


class QuantizedTensor(_reg._Tensor):
    """A quantized tensor: its integer representation and its quantizer."""
    __slots__ = ("_qbits", "_qscheme", "_qscale", "_qzp", "_qaxis")
    __module__ = "gpujit"
    # (not a __torch_function__ subclass: no dispatch layer for it, gpujit/overrides.py)
    __torch_function__ = _disabled_torch_function_impl

    @property
    def _data(self):
        from .ops.float8 import _entry_op
        op = _entry_op(sys._getframe(1))
        if op is not None:
            raise QuantizedOperand(f"quantized operand of {op.name}", op)
        return self._qbits

    @_data.setter
    def _data(self, value):
        self._qbits = value

    @property
    def is_quantized(self):
        return True

    def _set_requires_grad(self, flag, refusal="only Tensors of floating point dtype can "
                                               "require gradients"):
        # (an integer representation: PyTorch's refusal, in the words of the way asked)
        if flag:
            raise RuntimeError(refusal)
        return _reg._Tensor._set_requires_grad(self, flag, refusal)

    def _int_repr(self):
        q = self._qbits         # (a channels-last tensor's strides kept, as ATen's)
        bits = np.array(q, order="K") if isinstance(q, np.ndarray) else q.copy()
        return _reg.wrap(bits, _INT_DTYPE[self._dtype], self._device)

    def _dequantize(self):
        return _reg.wrap(_dequantized(self), _dt.float32, self._device)

    def qscheme(self):
        return self._qscheme

    def _q_scale(self):
        self._per_tensor()
        return float(self._qscale)

    def _q_zero_point(self):
        self._per_tensor()
        return int(self._qzp)

    def _per_tensor(self):
        if self._qscheme is not _dt.per_tensor_affine:
            raise RuntimeError("Expected quantizer->qscheme() == kPerTensorAffine to be true, "
                               "but got false.  (Could this error message be improved?  If "
                               "so, please report an enhancement request to PyTorch.)")

    def _per_channel(self):
        if self._qscheme not in (_dt.per_channel_affine, _dt.per_channel_affine_float_qparams):
            raise RuntimeError("Expected quantizer->qscheme() == kPerChannelAffine || "
                               "quantizer->qscheme() == kPerChannelAffineFloatQParams to be "
                               "true, but got false.  (Could this error message be improved?  "
                               "If so, please report an enhancement request to PyTorch.)")

    def _q_per_channel_scales(self):
        self._per_channel()
        # (float64, int64; float32 both with floating zero points: float qparams)
        return _reg.wrap(_on(self._qscale.copy(), self._device),
                         _dt.from_numpy_dtype(self._qscale.dtype), self._device)

    def _q_per_channel_zero_points(self):
        self._per_channel()
        return _reg.wrap(_on(self._qzp.copy(), self._device),
                         _dt.from_numpy_dtype(self._qzp.dtype), self._device)

    def _q_per_channel_axis(self):
        self._per_channel()
        return self._qaxis

    def tolist(self):
        raise RuntimeError("load_scalar: invalid type")

    def numpy(self, force=False):
        raise TypeError(f"Got unsupported ScalarType {self._dtype.short_name}")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()

    def __repr__(self):
        from ._tensor_str import tensor_repr, _tensor_str, _add_suffixes
        values = _reg.wrap(_dequantized(self), _dt.float32, self._device)
        body = _tensor_str(values, len("tensor(")) if self._qbits.size else "[]"
        suffixes = [f"size={tuple(self._qbits.shape)}", f"dtype={self._dtype!r}",
                    f"quantization_scheme={self._qscheme!r}"]
        if self._qscheme is _dt.per_tensor_affine:
            suffixes += [f"scale={float(self._qscale)}", f"zero_point={int(self._qzp)}"]
        else:
            suffixes += [
                f"scale={tensor_repr(self._q_per_channel_scales())}",
                f"zero_point={tensor_repr(self._q_per_channel_zero_points())}",
                f"axis={self._qaxis}"]
        if self._device.type != "cpu":
            suffixes.insert(0, f"device='{self._device}'")
        return _add_suffixes("tensor(" + body, suffixes, len("tensor("))

    __str__ = __repr__

    def __reduce__(self):
        # (pickle, copy: the integer representation and the quantizer, copied)
        a = self._qbits if self._device.type == "cpu" else self._qbits.get()
        return (rebuild, (np.array(a), self._dtype.name, str(self._device),
                          self._qscheme.name, _host_copy(self._qscale), _host_copy(self._qzp),
                          self._qaxis))

    def __deepcopy__(self, memo):
        fn, args = self.__reduce__()
        t = memo[id(self)] = fn(*args)
        return t


def _host_copy(v):
    return v.copy() if isinstance(v, np.ndarray) else v


def _host(a):
    """A tensor's array on the host (CuPy's: copied; NumPy refuses it implicitly). The
    quantizers compute on the host, as ATen's CPU kernels, whatever the device."""
    return a if isinstance(a, np.ndarray) else a.get()


def _on(bits, dev):
    """The integer representation placed on dev (CuPy's array on a CUDA device)."""
    if dev.type == "cpu":
        return bits
    from .device import xp_for
    return xp_for(dev).asarray(bits)          # (xp_for makes dev CuPy's current device)


def rebuild(bits, dtype_name, dev, scheme_name, scale, zp, axis=None):
    """The quantized tensor of `bits` (an integer array) and its quantizer, by names:
    QuantizedTensor.__reduce__'s, and torch._utils._rebuild_qtensor's for gpujit.load."""
    from .device import resolve, xp_for
    d = resolve(dev)
    if d.type != "cpu":
        bits = xp_for(d).asarray(bits)
    return _make(bits, getattr(_dt, dtype_name), d, getattr(_dt, scheme_name), scale, zp, axis)


def _make(bits, d, dev, scheme, scale, zp, axis=None):
    t = object.__new__(QuantizedTensor)
    t._qbits, t._dtype, t._device = bits, d, dev
    t._vc, t._ag, t._base = [0], None, None
    t._qscheme, t._qscale, t._qzp, t._qaxis = scheme, scale, zp, axis
    return t


def _dequantized(t):
    """(q - zero_point) * scale in float32; q - zero_point in int32 for qint32 (it wraps,
    as ATen's int32 arithmetic)."""
    q = t._qbits
    if t._qscheme is _dt.per_tensor_affine:
        zp, sc = int(t._qzp), np.float32(t._qscale)
    else:
        n = q.shape[t._qaxis] if 0 <= t._qaxis < q.ndim else None
        if n is None:
            raise RuntimeError(f"Channel axis out of range in per channel affine "
                               f"dequantization. Got:{t._qaxis} Expected: [0, {q.ndim})")
        if n != t._qscale.size:
            raise RuntimeError(f"length of scales must equal to channel, expected {n} got, "
                               f"{t._qscale.size}")
        shape = [1] * q.ndim
        shape[t._qaxis] = -1
        zp, sc = t._qzp.reshape(shape), t._qscale.reshape(shape).astype(np.float32)
        if not isinstance(q, np.ndarray):          # (CuPy takes no host arrays)
            zp, sc = _on(zp, t._device), _on(sc, t._device)
    d = q.astype(np.int64) - zp
    if t._dtype is _dt.qint32:
        d = d.astype(np.int32)
    r = d.astype(np.float32) * sc
    return np.asarray(r) if isinstance(q, np.ndarray) else r


def _qdtype(dtype):
    if dtype not in _REPR:
        name = getattr(dtype, "short_name", dtype)
        raise RuntimeError(f"ScalarType {name} is not supported in new_qtensor.")
    info = np.iinfo(_REPR[dtype])
    return info.min, info.max


def _float_input(x):
    if x._dtype is not _dt.float32:
        raise RuntimeError(f"Quantize only works on Float Tensor, got {x._dtype.short_name}")


def quantize_per_tensor(input, scale, zero_point, dtype):
    """torch.quantize_per_tensor(input, scale, zero_point, dtype): a Tensor of scale /
    zero_point is read as a number (their tensor_qparams overload); a list of tensors
    quantizes each."""
    if isinstance(input, (list, tuple)):
        return tuple(quantize_per_tensor(x, float(s), int(z), dtype)
                     for x, s, z in zip(input, scale.tolist(), zero_point.tolist()))
    if isinstance(scale, _reg._Tensor):
        scale = float(scale.item())
    if isinstance(zero_point, _reg._Tensor):
        zero_point = int(zero_point.item())
    _float_input(input)
    lo, hi = _qdtype(dtype)
    if zero_point > hi:
        raise RuntimeError(f"quantize_tensor_per_tensor_affine zero_point {zero_point} is "
                           f"above upper bound.")
    if zero_point < lo:
        raise RuntimeError(f"quantize_tensor_per_tensor_affine zero_point {zero_point} is "
                           f"below lower bound.")
    _warn_deprecated()
    x = _host(input._data)
    with np.errstate(all="ignore"):
        inv = np.float32(1) / np.float32(scale)
        if dtype is _dt.qint32:
            v = np.rint(np.float32(zero_point) + x * inv).astype(np.float64)
        else:
            # (FBGEMM's QuantizeAvx2: fma(x, inv_scale, zero_point), rounded once; the
            # float64 product of two float32s is exact, so is adding the zero point)
            v = np.rint((x.astype(np.float64) * np.float64(inv) + zero_point).astype(
                np.float32)).astype(np.float64)
        q = np.clip(v, lo, hi)
        q = np.where(v != v, lo if dtype is _dt.qint32 else hi, q)
    bits = _on(q.astype(_REPR[dtype], order="C"), input._device)
    return _make(bits, dtype, input._device, _dt.per_tensor_affine, float(scale),
                 int(zero_point))


def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """torch.quantize_per_channel(input, scales, zero_points, axis, dtype)."""
    _float_input(input)
    lo, hi = _qdtype(dtype)
    x = _host(input._data)
    if not 0 <= axis < max(x.ndim, 1):
        raise RuntimeError(f"Channel axis out of range in per channel affine quantization. "
                           f"Got: {axis}Expected: < {x.ndim}")
    floating = zero_points._dtype.category >= _dt.FLOATING
    sc = _host(scales._data).astype(np.float32 if floating else np.float64).reshape(-1)
    zp = _host(zero_points._data).astype(np.float32 if floating else np.int64).reshape(-1)
    if sc.size != x.shape[axis] or zp.size != x.shape[axis]:
        raise RuntimeError("length of scales must equal to channel")
    _warn_deprecated()
    shape = [1] * x.ndim
    shape[axis] = -1
    if floating:
        # per_channel_affine_float_qparams (ATen's quantize_val_float_qparams):
        # lrintf(x * inv_scale + zero_point) in float32 (1 / 0 taken as 1), stored in an
        # int (past int64, NaN, inf: INT64_MIN, whose low 32 bits are 0; past int32 it
        # wraps), clamped
        with np.errstate(all="ignore"):
            inv = np.where(sc == 0, np.float32(1), np.float32(1) / sc).astype(np.float32)
            v = np.rint(x * inv.reshape(shape) + zp.reshape(shape)).astype(np.float64)
            v = np.where((v > -2.0 ** 63 - 1) & (v < 2.0 ** 63), v, -2.0 ** 63)
            q = np.clip(v.astype(np.int64).astype(np.int32), lo, hi)
        bits = _on(q.astype(_REPR[dtype], order="C"), input._device)
        return _make(bits, dtype, input._device, _dt.per_channel_affine_float_qparams,
                     sc.copy(), zp.copy(), axis)
    with np.errstate(all="ignore"):
        inv = (np.float32(1) / sc.astype(np.float32)).reshape(shape)
        v = np.rint(x * inv).astype(np.float64) + zp.reshape(shape)
        v = np.where((v > -2.0 ** 63 - 1) & (v < 2.0 ** 63), v, -2.0 ** 63)
        q = np.clip(v, lo, hi)
    bits = _on(q.astype(_REPR[dtype], order="C"), input._device)
    return _make(bits, dtype, input._device, _dt.per_channel_affine, sc.copy(), zp.copy(), axis)


_QDTYPE_OF_INT = {_dt.int8: _dt.qint8, _dt.uint8: _dt.quint8, _dt.int32: _dt.qint32}


def _int_bits(t):
    d = _QDTYPE_OF_INT.get(getattr(t, "dtype", None))
    if d is None or isinstance(t, QuantizedTensor):
        raise RuntimeError("Creation of quantized tensor requires quantized dtype like "
                           "torch.quint8")
    a = t._data
    return (np.array(a, order="K") if isinstance(a, np.ndarray) else a.copy()), d


def _make_per_tensor_quantized_tensor(self, scale, zero_point):
    """torch._make_per_tensor_quantized_tensor: an int8 / uint8 / int32 tensor's values as
    the integers of a qint8 / quint8 / qint32 tensor of (scale, zero_point)."""
    bits, d = _int_bits(self)
    return _make(bits, d, self._device, _dt.per_tensor_affine, float(scale), int(zero_point))


def _make_per_channel_quantized_tensor(self, scale, zero_point, axis):
    """torch._make_per_channel_quantized_tensor: the integers of self with per-channel
    scales (float64) and zero points (int64) along axis."""
    bits, d = _int_bits(self)
    sc = _host(scale._data).astype(np.float64).reshape(-1)
    zp = _host(zero_point._data).astype(np.int64).reshape(-1)
    return _make(bits, d, self._device, _dt.per_channel_affine, sc, zp, int(axis))


def dequantize(tensor):
    """torch.dequantize(x): a quantized tensor's float32 values (a list: each); a float
    tensor itself, as PyTorch's."""
    if isinstance(tensor, (list, tuple)):
        return tuple(dequantize(t) for t in tensor)
    if isinstance(tensor, QuantizedTensor):
        return tensor._dequantize()
    return tensor


# ops that move elements: on the integer representation, the quantizer kept (per tensor)
_MOVES = frozenset({
    "aten::alias", "aten::clone", "aten::contiguous", "aten::detach", "aten::view",
    "aten::reshape", "aten::flatten", "aten::select", "aten::slice", "aten::narrow",
    "aten::squeeze", "aten::unsqueeze", "aten::t", "aten::transpose", "aten::permute",
    "aten::expand", "aten::index_select", "aten::index", "aten::cat", "aten::stack",
    "aten::unbind", "aten::split", "aten::chunk", "aten::size", "aten::dim", "aten::numel",
    "aten::stride", "aten::is_contiguous", "aten::element_size", "aten::_unsafe_view",
})


# (the moves that keep every element where it is: a per-channel quantizer holds for them)
_SAME_LAYOUT = frozenset({"aten::alias", "aten::clone", "aten::contiguous", "aten::detach",
                          "aten::size", "aten::dim", "aten::numel", "aten::stride",
                          "aten::is_contiguous", "aten::element_size"})


# a per-channel tensor's moves (QTensorImpl: a new shape keeps the quantizer, its axis
# index as it was; one channel taken by select / slice / narrow along the axis is per
# tensor, of that channel's float scale and zero point; strides of another order refused)
_PER_CHANNEL_MOVES = frozenset({
    "aten::view", "aten::reshape", "aten::flatten", "aten::_unsafe_view", "aten::squeeze",
    "aten::unsqueeze", "aten::select", "aten::slice", "aten::narrow", "aten::t",
    "aten::transpose", "aten::permute", "aten::expand", "aten::flip", "aten::index_select"})
_STRIDED = frozenset({"aten::t", "aten::transpose", "aten::permute", "aten::expand",
                      "aten::flip"})


def _per_channel_move(op, t, args):
    base = op.schema.name
    if base in _STRIDED:
        raise RuntimeError("Setting strides is possible only on uniformly quantized tensor")
    if base == "aten::index_select":
        raise RuntimeError("Only per_tensor quantized quantized tensors are supported by "
                           "index_select.")
    r = op.eager(_carrier(t), *args[1:])
    axis = t._qaxis
    if base in ("aten::select", "aten::slice", "aten::narrow"):
        dim = args[1] if len(args) > 1 else 0
        dim = dim + t._qbits.ndim if dim < 0 else dim
        if dim == axis:
            i = args[2] if len(args) > 2 and args[2] is not None else 0
            n = t._qbits.shape[axis]
            i = min(max(i + n if i < 0 else i, 0), max(n - 1, 0))
            return _make(r._data, t._dtype, r._device, _dt.per_tensor_affine,
                         float(np.float32(t._qscale[i])), int(t._qzp[i]))
        if base == "aten::select":
            axis -= 1   # (ATen's subtensor quantizer: one less whichever side dim is on)
    elif base == "aten::unsqueeze":
        dim = args[1] + t._qbits.ndim + 1 if args[1] < 0 else args[1]
        if dim <= axis:
            axis += 1
    return _make(r._data, t._dtype, r._device, t._qscheme, t._qscale, t._qzp, axis)


def quantized_call(e, args):
    """op(*args) given a quantized operand (registry.sparse_call's branch)."""
    op = e.op
    from .ops.quantized_ops import KERNELS
    fn = KERNELS.get(op.name)
    if fn is not None:
        return fn(*args)
    qs = [a for a in _tensors(args) if isinstance(a, QuantizedTensor)]
    first = qs[0]
    base = op.schema.name
    if len(qs) == 1 and first._qscheme is not _dt.per_tensor_affine and \
            base in _PER_CHANNEL_MOVES:
        return _per_channel_move(op, first, args)
    if base in _SAME_LAYOUT and len(qs) == 1 and first._qscheme is not _dt.per_tensor_affine:
        pass        # (a per-channel tensor's clone / contiguous / detach: its quantizer kept)
    elif base not in _MOVES or any(q._qscheme is not _dt.per_tensor_affine or
                                   (q._qscale, q._qzp, q._dtype) !=
                                   (first._qscale, first._qzp, first._dtype) for q in qs):
        raise backend_error(op.name.replace(".Tensor", ".out")
                            if "pointwise" in op.tags else op.name) from None
    plain = []
    for a in args:
        if isinstance(a, QuantizedTensor):
            a = _carrier(a)
        elif isinstance(a, (list, tuple)) and any(isinstance(x, QuantizedTensor) for x in a):
            a = type(a)(_carrier(x) if isinstance(x, QuantizedTensor) else x for x in a)
        plain.append(a)
    r = op.eager(*plain)
    return _requantized(r, first)


def _tensors(args):
    for a in args:
        if isinstance(a, _reg._Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (x for x in a if isinstance(x, _reg._Tensor))


def _carrier(t):
    c = _reg.wrap(t._qbits, _INT_DTYPE[t._dtype], t._device)
    c._vc = t._vc
    return c


def _requantized(r, like):
    if isinstance(r, _reg._Tensor) and type(r) is _reg._Tensor and \
            r._dtype is _INT_DTYPE[like._dtype]:
        return _make(r._data, like._dtype, r._device, like._qscheme, like._qscale, like._qzp,
                     like._qaxis)
    if isinstance(r, (list, tuple)):
        items = [_requantized(x, like) for x in r]
        return type(r)(*items) if hasattr(r, "_fields") else type(r)(items)
    return r



def _dense_method(name):
    def method(self, *args, **kwargs):
        raise backend_error(f"aten::{name}", "CUDA" if self._device.type == "cuda" else "CPU")
    method.__name__ = name
    return method


# qscheme of a dense tensor: PyTorch's dispatcher error for its backend (int_repr, q_scale,
# dequantize ... are registry ops: ops/quantized_ops.py)
if not hasattr(_reg._Tensor, "qscheme"):
    _reg._Tensor.qscheme = _dense_method("qscheme")
