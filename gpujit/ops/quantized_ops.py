"""The ops PyTorch's QuantizedCPU kernels run on quantized tensors (gpujit/quantized.py's
QuantizedTensor), and the quantized:: operators (torch.ops.quantized.add / mul / cat ...).

Dispatch. A quantized operand read in an op's entry point reaches quantized.quantized_call,
which runs KERNELS[op name] (this module) when the op has one; element moves run on the
integer representation there; anything else is PyTorch's NotImplementedError.

Arithmetic as ATen's CPU kernels (aten/src/ATen/native/quantized/cpu/
QuantizedOpKernels.cpp, x86 engine, AVX512 build; found by comparing with torch 2.13):
- the kernels' vectorized loops take whole vectors of Vectorized<q>::size() elements (64
  for qint8 / quint8, 16 for qint32), which dequantize as fma(scale, q, scale *
  -zero_point) and quantize as zero_point + nearbyint(x * (1.0f / scale))
  (Vectorized<q>::quantize); the rest, and qint32 results, as scale * (q - zero_point)
  and nearbyint(zero_point + x * (1.0f / scale)) (quantize_val), in float32, clamped to
  the type's range (an AVX2 build's vectors are half as long: ties may round apart);
- quantized::mul requantizes the integer product (q_a - z_a) * (q_b - z_b) with the float32
  multiplier scale_a * scale_b / scale (requantize_from_int);
- the comparisons (eq, lt ...) compare dequantized values; clamp / hardtanh clamp the
  integers at the quantized bounds; relu at the zero point; max / min / sort / topk run on
  the integers (a positive scale keeps their order);
- sigmoid (scale 1/256, zero point 0 or -128), tanh (2/256, 128 or 0), leaky_relu,
  hardsigmoid, gelu, threshold and the quantized:: activations with an output quantizer
  (hardswish, elu, celu, sigmoid, leaky_relu, softmax) compute in float on the dequantized
  values and quantize (qint32 sigmoid / tanh: the float op's last bits, NumPy's exp, may
  differ); mean and std as at::quantize_per_tensor of the float result.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from . import registry as _reg
from .registry import op
from .derivatives import not_implemented as _not_implemented
from .node_names import RULES
from . import packed_params     # (the packed weights' classes, their types registered)

KERNELS = {}        # 'aten::relu' (an OpDef's name): fn(*args in schema order)


def kernel(*names):
    def deco(fn):
        for n in names:
            KERNELS[n] = fn
        return fn
    return deco


def _q():
    from .. import quantized
    return quantized


def _range(dtype):
    info = np.iinfo(_q()._REPR[dtype])
    return int(info.min), int(info.max)


def quantize_values(x, scale, zero_point, dtype, vectorized=0):
    """nearbyint(zero_point + x * (1.0f / scale)) in float32, clamped (quantize_val), the
    integer array; its first `vectorized` elements (flat) zero_point + nearbyint(x *
    (1.0f / scale)) (Vectorized<q>::quantize)."""
    lo, hi = _range(dtype)
    with np.errstate(all="ignore"):
        x = np.asarray(x, np.float32)
        inv = np.float32(1) / np.float32(scale)
        v = np.rint(np.float32(zero_point) + x * inv).astype(np.float64)
        if vectorized and dtype is not _dt.qint32:  # (Vectorized<qint32> rounds as above)
            w = np.rint(x * inv).astype(np.float64) + zero_point
            v = np.where(np.arange(v.size).reshape(v.shape) < vectorized, w, v)
        v = np.where(v != v, lo, v)         # (NaN: cvtps's INT32_MIN, clamped)
        q = np.clip(v, lo, hi)
    return q.astype(_q()._REPR[dtype], order="C")


def vectorized_count(n, dtype):
    """How many of a kernel's n elements its vectorized loop takes: whole vectors of
    Vectorized<q>::size() (AVX512: 64 for qint8 / quint8, 16 for qint32)."""
    return n - n % (16 if dtype is _dt.qint32 else 64)


def dequantize_blocks(t, cut):
    """t's float32 values (flat order) as cpu_kernel_vec's kernels read them: the first
    `cut` fma(scale, q, scale * -zero_point) (Vectorized<q>::dequantize with the
    premultiplied zero point), the rest scale * (q - zero_point) (dequantize_val)."""
    q = np.asarray(t._qbits)
    s = np.float32(t._qscale)
    zp = int(t._qzp)
    plain = (s * (q.astype(np.int64) - zp).astype(np.float32)).astype(np.float32)
    if cut == 0:
        return plain
    premul = np.float64(s * np.float32(-zp))
    fused = (np.float64(s) * q.astype(np.float64) + premul).astype(np.float32)  # (fma)
    if cut >= q.size:
        return fused
    return np.where(np.arange(q.size).reshape(q.shape) < cut, fused, plain)


def _per_tensor_check(t):
    t._per_tensor()


def _wrap_q(bits, like, scale=None, zero_point=None, dtype=None):
    Q = _q()
    return Q._make(bits, dtype or like._dtype, like._device, _dt.per_tensor_affine,
                   float(like._qscale if scale is None else scale),
                   int(like._qzp if zero_point is None else zero_point))


def _dev_array(bits, like):
    if like._device.type != "cpu":
        from ..device import xp_for
        return xp_for(like._device).asarray(bits)
    return bits


def _host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _write(self, bits):
    """An in-place kernel's result written into self's integer representation."""
    self._qbits[...] = _dev_array(bits, self)
    self._vc[0] += 1
    return self


# ---------------------------------------------------------------------------------------
# activations on the integers

def _relu_bits(self):
    _per_tensor_check(self)
    q = _host(self._qbits)
    return np.maximum(q, np.array(int(self._qzp)).astype(q.dtype))


@kernel("aten::relu")
def relu(self):
    return _wrap_q(_dev_array(_relu_bits(self), self), self)


@kernel("aten::relu_")
def relu_(self):
    return _write(self, _relu_bits(self))


def _quantized_bound(self, v):
    return int(quantize_values(np.float32(v), self._qscale, self._qzp, self._dtype))


def _clamp_bits(self, lo, hi):
    _per_tensor_check(self)
    q = _host(self._qbits)
    if lo is not None:
        q = np.maximum(q, np.array(_quantized_bound(self, lo)).astype(q.dtype))
    if hi is not None:
        q = np.minimum(q, np.array(_quantized_bound(self, hi)).astype(q.dtype))
    return np.array(q, order="C")


@kernel("aten::clamp")
def clamp(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return _wrap_q(_dev_array(_clamp_bits(self, min, max), self), self)


@kernel("aten::hardtanh")
def hardtanh(self, min_val=-1.0, max_val=1.0):
    return _wrap_q(_dev_array(_clamp_bits(self, min_val, max_val), self), self)


@kernel("aten::hardtanh_")
def hardtanh_(self, min_val=-1.0, max_val=1.0):
    return _write(self, _clamp_bits(self, min_val, max_val))


@kernel("aten::relu6")
def relu6(self):
    return hardtanh(self, 0.0, 6.0)


def _float_values(self):
    """scale * (q - zero_point) in float32 (dequantize_val), the tensor's shape."""
    _per_tensor_check(self)
    q = _host(self._qbits)
    return (np.float32(self._qscale) * (q.astype(np.int64) - int(self._qzp)).astype(
        np.float32)).astype(np.float32)


def in_memory_order(fn):
    """fn (a kernel of elementwise quantized operands of one shape) run in memory order
    when the first operand is channels last (N, *spatial, C in memory, a convolution's
    result): ATen's elementwise kernels walk memory, so their vectorized blocks (and
    their rounding) follow it, and the result keeps that layout."""
    def k(*args):
        Q = _q()
        first = args[0]
        if not isinstance(first, Q.QuantizedTensor) or \
                first._qscheme is not _dt.per_tensor_affine:
            return fn(*args)
        bits = first._qbits
        if not (isinstance(bits, np.ndarray) and bits.ndim >= 4 and
                _is_channels_last(bits) and not bits.flags.c_contiguous):
            return fn(*args)
        qs = [a for a in args if isinstance(a, Q.QuantizedTensor)]
        if any(a._qbits.shape != bits.shape or a._qscheme is not _dt.per_tensor_affine
               for a in qs):
            return fn(*args)
        perm = (0,) + tuple(range(2, bits.ndim)) + (1,)
        inv = tuple(int(i) for i in np.argsort(perm))

        def moved(a):
            if not isinstance(a, Q.QuantizedTensor):
                return a
            return Q._make(np.ascontiguousarray(a._qbits.transpose(perm)), a._dtype,
                           a._device, a._qscheme, a._qscale, a._qzp)
        r = fn(*[moved(a) for a in args])
        return Q._make(r._qbits.transpose(inv), r._dtype, r._device, r._qscheme,
                       r._qscale, r._qzp)
    for attr in ("out_scale", "out_zp"):
        if hasattr(fn, attr):
            setattr(k, attr, getattr(fn, attr))
    return k


def _through_float(fn, out_scale=None, out_zp=None):
    def k(self, *args):
        _per_tensor_check(self)
        cut = vectorized_count(self._qbits.size, self._dtype)
        x = dequantize_blocks(self, cut)
        with np.errstate(all="ignore"):
            y = fn(x, *args)
        sc, zp = (self._qscale, self._qzp) if out_scale is None else \
            (out_scale(self._dtype, self), out_zp(self._dtype, self))
        bits = quantize_values(y, sc, zp, self._dtype, vectorized=cut)
        return _wrap_q(_dev_array(bits, self), self, sc, zp)
    k.out_scale, k.out_zp = out_scale, out_zp
    return in_memory_order(k)


def _f32_scale(d, t):
    return float(np.float32(t._qscale))


def _same_zp(d, t):
    return int(t._qzp)


def _sigmoid(x):
    return (np.float32(1) / (np.float32(1) + np.exp(-x))).astype(np.float32)


# qsigmoid: scale 1/256 (qint32: 1/2**32), zero point 0 (qint8: -128)
KERNELS["aten::sigmoid"] = _through_float(
    _sigmoid, lambda d, t: 2.3283064365386963e-10 if d is _dt.qint32 else 0.00390625,
    lambda d, t: -128 if d is _dt.qint8 else 0)
# qtanh: scale 2/256 (qint32: 2/2**32), zero point 128 (qint8, qint32: 0)
KERNELS["aten::tanh"] = _through_float(
    lambda x: np.tanh(x).astype(np.float32),
    lambda d, t: 4.656612873077393e-10 if d is _dt.qint32 else 0.0078125,
    lambda d, t: 128 if d is _dt.quint8 else 0)
# qhardsigmoid: sigmoid's output quantizer
KERNELS["aten::hardsigmoid"] = _through_float(
    lambda x: (np.clip(x + np.float32(3), 0, 6) / np.float32(6)).astype(np.float32),
    KERNELS["aten::sigmoid"].out_scale, KERNELS["aten::sigmoid"].out_zp)


def _dense_op_values(name):
    """The float op `name` on the dequantized values, quantized with self's quantizer
    (qgelu, qthreshold: the input's scale and zero point)."""
    def fn(x, *args):
        r = _reg.OPS[name].eager(_reg.wrap(x, _dt.float32, _cpu_device()), *args)
        return np.asarray(_host(r._data), np.float32)
    return fn


def _cpu_device():
    from ..device import cpu
    return cpu


# (qgelu: its output quantizer made of the float32 scale)
KERNELS["aten::gelu"] = _through_float(_dense_op_values("aten::gelu"), _f32_scale, _same_zp)
KERNELS["aten::threshold"] = _through_float(_dense_op_values("aten::threshold"))


def _leaky(x, negative_slope=0.01):
    return np.where(x > 0, x, x * np.float32(negative_slope)).astype(np.float32)


KERNELS["aten::leaky_relu"] = _through_float(_leaky)


@kernel("aten::leaky_relu_")
def leaky_relu_(self, negative_slope=0.01):
    r = KERNELS["aten::leaky_relu"](self, negative_slope)
    return _write(self, _host(r._qbits))


# ---------------------------------------------------------------------------------------
# comparisons: on the dequantized values

def _values_of(a):
    Q = _q()
    if isinstance(a, Q.QuantizedTensor):
        return _reg.wrap(_dev_array(Q._dequantized(a), a), _dt.float32, a._device)
    return a


def _compare(name):
    def k(self, other):
        return _reg.OPS[name].eager(_values_of(self), _values_of(other))
    return k


for _c in ("eq", "ne", "lt", "le", "gt", "ge"):
    KERNELS[f"aten::{_c}.Tensor"] = KERNELS[f"aten::{_c}.Scalar"] = _compare(f"aten::{_c}.Tensor")


@kernel("aten::equal")
def equal(self, other):
    """equal_quantized_cpu: the quantizers (scheme, parameters, dtype), the sizes and the
    integer representations equal; a dense operand: False."""
    Q = _q()
    if not (isinstance(self, Q.QuantizedTensor) and isinstance(other, Q.QuantizedTensor)):
        return False
    if self._qscheme is not other._qscheme or self._dtype is not other._dtype:
        return False
    if self._qscheme is _dt.per_tensor_affine:
        if (float(self._qscale), int(self._qzp)) != (float(other._qscale), int(other._qzp)):
            return False
    elif not (self._qaxis == other._qaxis and np.array_equal(self._qscale, other._qscale)
              and np.array_equal(self._qzp, other._qzp)):
        return False
    return self._qbits.shape == other._qbits.shape and \
        bool(np.array_equal(_host(self._qbits), _host(other._qbits)))


# ---------------------------------------------------------------------------------------
# reductions

_MAX_PER_CHANNEL = ("{} operator for quantized tensors only works for per tensor quantized "
                    "tensors. Please open an issue on https://github.com/pytorch/pytorch/"
                    "issues if you need per channel quantized tensor support.")


def _on_integers(name, check=None):
    """op name run on the integer representation, its results of that integer dtype
    quantized with self's quantizer again."""
    def k(self, *args):
        if check is not None and self._qscheme is not _dt.per_tensor_affine:
            raise RuntimeError(check)
        _per_tensor_check(self)
        Q = _q()
        r = _reg.OPS[name].eager(Q._carrier(self), *args)
        return Q._requantized(r, self)
    return k


KERNELS["aten::max"] = _on_integers("aten::max", _MAX_PER_CHANNEL.format("Max"))
KERNELS["aten::min"] = _on_integers("aten::min", _MAX_PER_CHANNEL.format("Min"))
for _n in ("aten::max.dim", "aten::min.dim", "aten::sort", "aten::sort.stable",
           "aten::topk", "aten::flip", "aten::unfold"):
    KERNELS[_n] = _on_integers(_n)


def _mean_like(name):
    """mean / std of a quantized tensor: of the dequantized values, quantized with self's
    quantizer (at::quantize_per_tensor)."""
    def k(self, *args):
        _per_tensor_check(self)
        Q = _q()
        r = _reg.OPS[name].eager(self.dequantize(), *args)
        return Q.quantize_per_tensor(r, float(self._qscale), int(self._qzp), self._dtype)
    return k


for _n in ("aten::mean", "aten::mean.dim", "aten::std", "aten::std.dim",
           "aten::std.correction"):
    KERNELS[_n] = _mean_like(_n)


# ---------------------------------------------------------------------------------------
# fills: the value quantized with self's quantizer

def _fill_value(self, value):
    if isinstance(value, _reg._Tensor):
        value = value.item()
    return _quantized_bound(self, float(value))


@kernel("aten::fill_.Scalar", "aten::fill_.Tensor")
def fill_(self, value):
    _per_tensor_check(self)
    q = _host(self._qbits)
    return _write(self, np.full(q.shape, _fill_value(self, value), q.dtype))


@kernel("aten::masked_fill_.Scalar", "aten::masked_fill_.Tensor")
def masked_fill_(self, mask, value):
    _per_tensor_check(self)
    Q = _q()
    c = Q._carrier(self)
    c.masked_fill_(mask, _fill_value(self, value))
    self._vc[0] += 1
    return self


@kernel("aten::masked_fill.Scalar", "aten::masked_fill.Tensor")
def masked_fill(self, mask, value):
    return masked_fill_(self.clone(), mask, value)


# ---------------------------------------------------------------------------------------
# cat / stack: inputs of other parameters requantized to the first's

_CAT_WARNING = ("All inputs of this cat operator must share the same quantization "
                "parameters. Otherwise large numerical inaccuracies may occur.")


def _cat_impl(tensors, dim, scale, zero_point, relu=False, stack=False):
    Q = _q()
    ts = list(tensors)
    first = ts[0]
    if not isinstance(first, Q.QuantizedTensor) or \
            first._qscheme is not _dt.per_tensor_affine:
        raise RuntimeError("Only per-tensor quantization is supported in 'cat'!")
    for t in ts:
        if not isinstance(t, Q.QuantizedTensor):
            raise Q.backend_error("aten::qscheme", "CPU")
        t._per_tensor()
    plain = [Q._carrier(t) for t in ts]
    same = all((float(t._qscale), int(t._qzp), t._dtype) ==
               (float(scale), int(zero_point), first._dtype) for t in ts)
    fn = _reg.OPS["aten::stack" if stack else "aten::cat"].eager
    if same:
        r = Q._requantized(fn(plain, dim), first)
    else:
        y = fn([t.dequantize() for t in ts], dim)
        r = Q.quantize_per_tensor(y, float(scale), int(zero_point), first._dtype)
    if relu:
        r = relu_(r)
    fb = first._qbits
    if not stack and isinstance(fb, np.ndarray) and fb.ndim >= 4 and \
            _is_channels_last(fb) and not fb.flags.c_contiguous:
        # (channels-last inputs: a channels-last result, as ATen's cat)
        perm = (0,) + tuple(range(2, fb.ndim)) + (1,)
        bits = np.ascontiguousarray(r._qbits.transpose(perm)).transpose(np.argsort(perm))
        r = Q._make(bits, r._dtype, r._device, r._qscheme, r._qscale, r._qzp)
    return r


@kernel("aten::cat")
def cat(tensors, dim=0):
    ts = list(tensors)
    Q = _q()
    first = ts[0]
    if not isinstance(first, Q.QuantizedTensor) or \
            first._qscheme is not _dt.per_tensor_affine:
        raise RuntimeError("Only per-tensor quantization is supported in 'cat'!")
    for t in ts:
        if isinstance(t, Q.QuantizedTensor):
            t._per_tensor()
    if any(not isinstance(t, Q.QuantizedTensor) or
           (float(t._qscale), int(t._qzp)) != (float(first._qscale), int(first._qzp))
           for t in ts):
        from .._frames import warn_at_user_frame
        warn_at_user_frame(_CAT_WARNING)
    return _cat_impl(ts, dim, first._qscale, first._qzp)


@kernel("aten::stack")
def stack(tensors, dim=0):
    ts = list(tensors)
    Q = _q()
    first = ts[0]
    if isinstance(first, Q.QuantizedTensor):
        first._per_tensor()
    return _cat_impl(ts, dim, first._qscale, first._qzp, stack=True)


# ---------------------------------------------------------------------------------------
# quantized:: operators (torch.ops.quantized): declared in the registry; their dense
# operands are refused in PyTorch's words (the QuantizedCPU kernel is the only one)

def _dense_refusal(name):
    def impl(xp, *args):
        from ..quantized import backend_error
        raise backend_error(name, "CPU")
    return impl


def _quantized_op(schema, fn):
    name = schema.split("(")[0]
    impl = _dense_refusal(name.split(".")[0])
    impl.__name__ = name.split("::")[1].replace(".", "_")
    op(schema, tags={"nn", "no_fuse"}, method=False, function=False)(impl)
    KERNELS[name] = fn


def _binary_checks(qa, qb, what):
    Q = _q()
    for t in (qa, qb):
        if not isinstance(t, Q.QuantizedTensor):
            raise Q.backend_error("aten::qscheme", "CPU")
    if qa._qscheme is not qb._qscheme:
        raise RuntimeError(f"Both inputs to {what} must have the same quantization scheme.")
    if qa._qscheme is not _dt.per_tensor_affine:
        raise RuntimeError(f"Only per tensor quantization is supported in {what}.")
    if qa._dtype is not qb._dtype:
        raise RuntimeError(f"{what} operands should have same data type.")


def _qadd(relu):
    """qadd_kernel: the vectorized blocks dequantize with fma and quantize as
    Vectorized<q>::quantize, the tail as dequantize_val / quantize_val."""
    def k(qa, qb, scale, zero_point):
        _binary_checks(qa, qb, "Add")
        Q = _q()
        shape = qa._qbits.shape
        n = int(np.prod(shape, dtype=np.int64))
        qb_full = np.array(np.broadcast_to(_host(qb._qbits), shape), order="C")
        cut = vectorized_count(n, qa._dtype)
        a = dequantize_blocks(qa, cut)
        b = dequantize_blocks(Q._make(qb_full, qb._dtype, qb._device, qb._qscheme, qb._qscale,
                                      qb._qzp), cut)
        c = (a + b).astype(np.float32)
        if relu:
            c = np.maximum(c, np.float32(0))
        bits = quantize_values(c, scale, zero_point, qa._dtype, vectorized=cut)
        return _wrap_q(_dev_array(bits, qa), qa, scale, zero_point)
    return k


def _qmul(relu):
    def k(qa, qb, scale, zero_point):
        _binary_checks(qa, qb, "Mul")
        shape = qa._qbits.shape
        a = np.broadcast_to(_host(qa._qbits).astype(np.int64) - int(qa._qzp), shape)
        b = np.broadcast_to(_host(qb._qbits).astype(np.int64) - int(qb._qzp), shape)
        c = (a * b).astype(np.int32)
        multiplier = np.float32(np.float64(float(qa._qscale)) * float(qb._qscale) *
                                np.float64(np.float32(1) / np.float32(scale)))
        bits = _requantize_from_int(c, multiplier, zero_point, qa._dtype)
        if relu:
            bits = np.maximum(bits, np.array(int(zero_point)).astype(bits.dtype))
        return _wrap_q(_dev_array(np.array(bits, order="C"), qa), qa, scale, zero_point)
    return k


def _requantize_from_int(c, multiplier, zero_point, dtype):
    """zero_point + lrintf(c * multiplier), clamped (requantize_from_int)."""
    lo, hi = _range(dtype)
    v = np.rint(c.astype(np.float32) * np.float32(multiplier)).astype(np.int64) + \
        int(zero_point)
    return np.clip(v, lo, hi).astype(_q()._REPR[dtype])


def _scalar_value(b):
    if isinstance(b, _reg._Tensor):
        b = b.item()
    return float(b)


def _qadd_scalar(relu):
    """add_scalar_out: the scalar folded into the zero point, the scale widened where the
    shifted zero point leaves the type's range."""
    def k(qa, b):
        _per_tensor_check(qa)
        lo, hi = _range(qa._dtype)
        s, z, c = float(qa._qscale), int(qa._qzp), _scalar_value(b)
        c_q = int(np.rint(c / s))
        q = _host(qa._qbits)
        if lo <= z - c_q <= hi:
            bits = q.copy()
            if relu:
                bits = np.maximum(bits, np.array(z - c_q).astype(bits.dtype))
            return _wrap_q(_dev_array(bits, qa), qa, s, z - c_q)
        if lo > z - c_q:
            s2, z2 = (hi - (z - c_q)) / (hi - lo) * s, lo
        else:
            s2, z2 = ((z - c_q) - lo) / (hi - lo) * s, hi
        multiplier = np.float32(np.float32(s) * (np.float32(1) / np.float32(s2)))
        cc = (q.astype(np.int64) - z + c_q).astype(np.int32)
        bits = _requantize_from_int(cc, multiplier, z2, qa._dtype)
        if relu:
            bits = np.maximum(bits, np.array(z2).astype(bits.dtype))
        return _wrap_q(_dev_array(np.array(bits, order="C"), qa), qa, s2, z2)
    return k


def _qmul_scalar(relu):
    """mul_scalar_out: the scalar folded into the scale (negative: the integers mirrored,
    q_max + q_min - q; zero: all zero point 0, scale 1)."""
    def k(qa, b):
        _per_tensor_check(qa)
        lo, hi = _range(qa._dtype)
        s, z, c = float(qa._qscale), int(qa._qzp), _scalar_value(b)
        q = _host(qa._qbits)
        if c == 0.0:
            return _wrap_q(_dev_array(np.zeros_like(q), qa), qa, 1.0, 0)
        if c > 0.0:
            s2, z2, bits = c * s, z, q.copy()
        else:
            s2, z2 = abs(c) * s, hi - (z - lo)
            bits = (hi + lo - q.astype(np.int64)).astype(q.dtype)
        if relu:
            bits = np.maximum(bits, np.array(z2).astype(bits.dtype))
        return _wrap_q(_dev_array(bits, qa), qa, s2, z2)
    return k


def _qcat(relu):
    def k(qx, dim, scale=None, zero_point=None):
        ts = list(qx)
        first = ts[0]
        Q = _q()
        if not isinstance(first, Q.QuantizedTensor):
            raise Q.backend_error("aten::qscheme", "CPU")
        first._per_tensor()
        return _cat_impl(ts, dim, first._qscale if scale is None else scale,
                         first._qzp if zero_point is None else zero_point, relu=relu)
    return k


def _qrelu6(qx, inplace=False):
    bits = _clamp_bits(qx, 0.0, 6.0)
    return _write(qx, bits) if inplace else _wrap_q(_dev_array(bits, qx), qx)


for _relu, _sfx in ((False, ""), (True, "_relu")):
    _quantized_op(f"quantized::add{_sfx}(Tensor qa, Tensor qb, float scale, int zero_point) "
                  f"-> Tensor qc", in_memory_order(_qadd(_relu)))
    _quantized_op(f"quantized::mul{_sfx}(Tensor qa, Tensor qb, float scale, int zero_point) "
                  f"-> Tensor qc", in_memory_order(_qmul(_relu)))
    _quantized_op(f"quantized::add{_sfx}.Scalar(Tensor qa, Scalar b) -> Tensor qc",
                  _qadd_scalar(_relu))
    _quantized_op(f"quantized::mul{_sfx}.Scalar(Tensor qa, Scalar b) -> Tensor qc",
                  _qmul_scalar(_relu))
    _quantized_op(f"quantized::cat{_sfx}(Tensor[] qx, int dim, float? scale, "
                  f"int? zero_point) -> Tensor", _qcat(_relu))
_quantized_op("quantized::relu6(Tensor qx, bool inplace=False) -> Tensor", _qrelu6)


# ---------------------------------------------------------------------------------------
# linear (FBGEMM, the x86 engine): int32 sums of (x_q - x_zp) * (w_q - w_zp), then

def _linear_sums(qx, qw):
    """The int32 accumulators of qx (quint8, [..., K]) by qw (qint8, [N, K]) and the
    weight's per-output-channel scales (float32)."""
    x = _host(qx._qbits).astype(np.int64) - int(qx._qzp)
    w = _host(qw._qbits).astype(np.int64)
    n = w.shape[0]
    if qw._qscheme is _dt.per_tensor_affine:
        w = w - int(qw._qzp)
        ws = np.full(n, np.float32(qw._qscale), np.float32)
    else:
        w = w - np.asarray(qw._qzp, np.int64).reshape(-1, 1)
        ws = np.asarray(qw._qscale).astype(np.float32)
    return (x @ w.T).astype(np.int64), ws


def _linear_checks(qx, qw, fn):
    Q = _q()
    if not isinstance(qx, Q.QuantizedTensor):
        raise Q.backend_error(f"quantized::{fn}", "CPU")
    if qx._dtype is not _dt.quint8:
        raise RuntimeError(f"quantized::{fn} (fbgemm): Expected input data type QUInt8 but "
                           f"got {qx._dtype.short_name}")
    if qx._qbits.shape[-1] != qw._qbits.shape[1]:
        raise RuntimeError("The number of rows in the packB should be equal to K: " +
                           str(qx._qbits.shape[-1]))


def quantized_linear(qx, qw, bias, scale, zero_point, relu=False):
    """quantized::linear(X, W_prepack, Y_scale, Y_zero_point): FBGEMM's ReQuantizeOutput
    with a float bias, zero_point + nearbyint((float(acc) + bias / act_times_w_scale) *
    (act_times_w_scale / Y_scale)) in float32, clamped to [0, 255] (relu: from the zero
    point)."""
    _linear_checks(qx, qw, "linear_relu" if relu else "linear")
    acc, ws = _linear_sums(qx, qw)
    f32 = np.float32
    atw = (f32(qx._qscale) * ws).astype(f32)
    mult = (atw / f32(scale)).astype(f32)
    raw = acc.astype(f32)
    if bias is not None:
        raw = (raw + (np.asarray(_host(bias._data), f32) / atw).astype(f32)).astype(f32)
    v = np.rint((raw * mult).astype(f32)).astype(np.int64) + int(zero_point)
    v = np.clip(v, int(zero_point) if relu else 0, 255).astype(np.uint8)
    return _q()._make(_dev_array(np.array(v, order="C"), qx), _dt.quint8, qx._device,
                      _dt.per_tensor_affine, float(scale), int(zero_point))


def quantized_linear_dynamic(x, qw, bias, reduce_range=True, relu=False):
    """quantized::linear_dynamic(X, W_prepack, reduce_range): X quantized to quint8 with
    ChooseQuantizationParams of its range ([0, 127] reduced), the int32 sums, then FBGEMM's
    ReQuantizeForFloat: fma(float(acc), x_scale * w_scale, bias) in float32."""
    from .fake_quantize import choose_qparams
    from .. import quantized as Q
    f32 = np.float32
    xa = np.asarray(_host(x._data), f32)
    if xa.size:
        lo, hi = float(xa.min()), float(xa.max())
    else:
        lo = hi = 0.0
    s, zp = choose_qparams(lo, hi, 0, 127 if reduce_range else 255, False)
    s = float(f32(s))
    inv = f32(1) / f32(s)
    qxa = np.clip(np.rint((xa.astype(np.float64) * np.float64(inv) + zp).astype(f32)),
                  0, 255).astype(np.uint8)
    qx = Q._make(qxa, _dt.quint8, _cpu_device(), _dt.per_tensor_affine, s, zp)
    if qx._qbits.shape[-1] != qw._qbits.shape[1]:
        raise RuntimeError("The number of rows in the packB should be equal to K: " +
                           str(qx._qbits.shape[-1]))
    acc, ws = _linear_sums(qx, qw)
    mult = (f32(s) * ws).astype(f32)
    out = acc.astype(f32).astype(np.float64) * mult.astype(np.float64)
    if bias is not None:
        out = out + np.asarray(_host(bias._data), f32).astype(np.float64)
    out = out.astype(f32)
    if relu:
        out = np.maximum(out, f32(0))
    return _reg.wrap(_dev_array(np.array(out, order="C"), x), _dt.float32, x._device)


# ---------------------------------------------------------------------------------------
# the quantizer's ops as registry ops (aten::quantize_per_tensor, dequantize, int_repr,
# q_scale ...), so traced and scripted code records and runs them: a quantized operand (or
# a quantized result) is quantized_call's, through KERNELS; their bodies here are the
# dense tensors' (PyTorch's CPU refusals, or dequantize's identity)

def _quantizing(name):
    def impl(xp, *args):
        from ..quantized import QuantizedOperand
        raise QuantizedOperand(f"quantized result of {name}", _reg.OPS[name])
    impl.__name__ = name.split("::")[1].replace(".", "_")
    return impl


def _dense_refused(name):
    def impl(xp, self, *args):
        from ..quantized import backend_error
        raise backend_error(name.split(".")[0], "CUDA" if hasattr(self, "device") and
                            getattr(self.device, "id", -1) >= 0 else "CPU")
    impl.__name__ = name.split("::")[1].replace(".", "_")
    return impl


def _qdtype_arg(d):
    if isinstance(d, int):
        d = {12: _dt.qint8, 13: _dt.quint8, 14: _dt.qint32}.get(d, d)
    return _dt.scalar_type_arg(d) if isinstance(d, int) else d


def _quantize_per_tensor_k(self, scale, zero_point, dtype):
    return _q().quantize_per_tensor(self, scale, zero_point, _qdtype_arg(dtype))


def _quantize_per_tensors_k(tensors, scales, zero_points, dtype):
    return tuple(_q().quantize_per_tensor(list(tensors), scales, zero_points,
                                          _qdtype_arg(dtype)))


def _quantize_per_channel_k(self, scales, zero_points, axis, dtype):
    return _q().quantize_per_channel(self, scales, zero_points, axis, _qdtype_arg(dtype))


for _schema, _k in (
        ("aten::quantize_per_tensor(Tensor self, float scale, int zero_point, "
         "ScalarType dtype) -> Tensor", _quantize_per_tensor_k),
        ("aten::quantize_per_tensor.tensor_qparams(Tensor self, Tensor scale, "
         "Tensor zero_point, ScalarType dtype) -> Tensor", _quantize_per_tensor_k),
        ("aten::quantize_per_tensor.tensors(Tensor[] tensors, Tensor scales, "
         "Tensor zero_points, ScalarType dtype) -> Tensor[]", _quantize_per_tensors_k),
        ("aten::quantize_per_channel(Tensor self, Tensor scales, Tensor zero_points, "
         "int axis, ScalarType dtype) -> Tensor", _quantize_per_channel_k)):
    _n = _schema.split("(")[0]
    op(_schema, tags={"no_fuse"}, method=False)(_quantizing(_n))
    KERNELS[_n] = _k


def _dequantize_dense(xp, self):
    """A dense tensor's dequantize: itself as float32 (dequantize_cpu_or_cuda)."""
    return self.astype(np.float32, copy=False) if self.dtype != np.float32 else self


op("aten::dequantize.self(Tensor self) -> Tensor", tags={"no_fuse", "returns_input"},
   meta=lambda self: _dense_meta(self))(_dequantize_dense)


# (derivatives.yaml's not_implemented("dequantize"): a NotImplemented node, its words)
_not_implemented(_dequantize_dense,
                 message="derivative for dequantize is not implemented")
RULES["aten::dequantize.self"] = "NotImplemented"


def _dense_meta(self):
    from .meta import TensorMeta
    return TensorMeta(_dt.float32, tuple(self.shape), self.device)


def _dequantize_tensors(xp, tensors):
    return [_dequantize_dense(xp, t) for t in tensors]


op("aten::dequantize.tensors(Tensor[] tensors) -> Tensor[]", tags={"no_fuse"},
   method=False)(_dequantize_tensors)
KERNELS["aten::dequantize.self"] = lambda self: _q().QuantizedTensor._dequantize(self)
KERNELS["aten::dequantize.tensors"] = lambda tensors: tuple(
    t.dequantize() for t in tensors)

for _schema, _k in (
        ("aten::int_repr(Tensor self) -> Tensor", "_int_repr"),
        ("aten::q_scale(Tensor self) -> float", "_q_scale"),
        ("aten::q_zero_point(Tensor self) -> int", "_q_zero_point"),
        ("aten::q_per_channel_scales(Tensor self) -> Tensor", "_q_per_channel_scales"),
        ("aten::q_per_channel_zero_points(Tensor self) -> Tensor",
         "_q_per_channel_zero_points"),
        ("aten::q_per_channel_axis(Tensor self) -> int", "_q_per_channel_axis")):
    _n = _schema.split("(")[0]
    op(_schema, tags={"no_fuse"})(_dense_refused(_n))
    KERNELS[_n] = (lambda attr: lambda self: getattr(_q().QuantizedTensor, attr)(self))(_k)


# quantized::linear / linear_dynamic / linear_prepack / linear_unpack as registry ops
# (traced and scripted code records them): as PyTorch's, the linears take the packed
# weight, a LinearPackedParamsBase object (ops/packed_params.py), which linear_prepack
# makes of the qint8 weight and the float bias and linear_unpack opens

_LINEAR_PACKED = "__torch__.torch.classes.quantized.LinearPackedParamsBase"


def _packed(p, cls, op_name):
    """p, a packed-params object of class cls (PyTorch's schema check in its words)."""
    if not isinstance(p, cls):
        if isinstance(p, packed_params.ScriptObject):
            raise RuntimeError(f"Tried to convert an IValue of type {p._qualified_name} (of "
                               f"Python compilation unit at: 0) to custom class type "
                               f"{cls._qualified_name} (of Python compilation unit at: 0)")
        got = "Tensor" if isinstance(p, _reg._Tensor) else type(p).__name__
        raise RuntimeError(f"{op_name}() Expected a value of type '{cls._qualified_name}' "
                           f"for argument 'W_prepack' but instead found type '{got}'.")
    return p


def _linear_packed(p, op_name):
    return _packed(p, packed_params.LinearPackedParamsBase, op_name).unpack()


def _linear_prepack_k(w, b=None):
    """quantized::linear_prepack (fbgemm): a qint8 weight [N, K] and an optional float
    bias of N elements, kept as they are."""
    Q = _q()
    if not isinstance(w, Q.QuantizedTensor):
        raise Q.backend_error("quantized::linear_prepack", "CPU")
    if w._dtype is not _dt.qint8:
        raise RuntimeError(f"expected scalar type QInt8 but found {w._dtype.short_name}")
    if w.dim() != 2:
        raise RuntimeError("The weight tensor for quantized::linear_prepack (fbgemm) should "
                           "be 2-dimensional.")
    if b is not None:
        if b.dim() != 1 or b.shape[0] != w.shape[0]:
            raise RuntimeError(f"bias should have N elements: {w.shape[0]}")
        if b.dtype is not _dt.float32:
            raise RuntimeError(f"expected scalar type Float but found {b.dtype.short_name}")
    return packed_params.LinearPackedParamsBase(w, b)


op("quantized::linear_prepack(Tensor W, Tensor? B=None) -> " + _LINEAR_PACKED + " W_prepack",
   tags={"nn", "no_fuse"}, method=False, function=False)(
    _quantizing("quantized::linear_prepack"))
KERNELS["quantized::linear_prepack"] = _linear_prepack_k
op("quantized::linear_unpack(" + _LINEAR_PACKED + " W_prepack) -> (Tensor W_origin, "
   "Tensor? B_origin)", tags={"nn", "no_fuse"}, method=False, function=False)(
    _quantizing("quantized::linear_unpack"))
KERNELS["quantized::linear_unpack"] = lambda p: tuple(_linear_packed(
    p, "quantized::linear_unpack"))

for _relu, _sfx in ((False, ""), (True, "_relu")):
    _n = f"quantized::linear{_sfx}"
    op(f"{_n}(Tensor X, {_LINEAR_PACKED} W_prepack, float Y_scale_i, int Y_zero_point_i) "
       "-> Tensor Y", tags={"nn", "no_fuse"}, method=False, function=False)(_quantizing(_n))
    KERNELS[_n] = (lambda n, relu: lambda x, p, s, z: quantized_linear(
        x, *_linear_packed(p, n), s, z, relu=relu))(_n, _relu)
    _n = f"quantized::linear{_sfx}_dynamic"
    op(f"{_n}(Tensor X, {_LINEAR_PACKED} W_prepack, bool reduce_range=False) -> Tensor Y",
       tags={"nn", "no_fuse"}, method=False, function=False)(_quantizing(_n))
    KERNELS[_n] = (lambda n, relu: lambda x, p, reduce_range=False: quantized_linear_dynamic(
        x, *_linear_packed(p, n), reduce_range, relu=relu))(_n, _relu)


# ---------------------------------------------------------------------------------------
# convolution (FBGEMM): quantized::conv{1,2,3}d_prepack make a Conv2dPackedParamsBase
# (conv1d's too) / Conv3dPackedParamsBase; quantized::conv{1,2,3}d(_relu) take it. The
# int32 sums of (x_q - x_zp) * (w_q - w_zp) over each window (the input padded with its
# zero point), then ReQuantizeOutput with the float bias, as quantized::linear

def _conv_prepack(dim):
    name = f"quantized::conv{dim}d_prepack"

    def k(weight, bias, stride, padding, dilation, groups):
        Q = _q()
        if not isinstance(weight, Q.QuantizedTensor):
            raise Q.backend_error(name, "CPU")
        if weight._dtype is not _dt.qint8:
            raise RuntimeError(f"expected scalar type QInt8 but found "
                               f"{weight._dtype.short_name}")
        if weight.dim() != dim + 2:
            raise RuntimeError(f"Weights are expected to have {dim + 2} dimensions")
        sd = 3 if dim == 3 else 2       # (conv1d: checked after its unsqueeze)
        lists = []
        for what, v in (("stride", stride), ("padding", padding), ("dilation", dilation)):
            v = [int(e) for e in (v if isinstance(v, (list, tuple)) else [v])]
            if len(v) != dim:
                if what == "padding":
                    raise RuntimeError("Specify front/top/left padding only. "
                                       "end/bottom/right padding assumed to be equal to "
                                       "front/top/left")
                raise RuntimeError(f"{what} should contain {sd} elements for {sd}D "
                                   f"convolution.")
            lists.append(v)
        out_ch = weight.shape[0]
        if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_ch):
            raise RuntimeError(f"bias should have K elements: {out_ch}")
        if out_ch % int(groups):
            raise RuntimeError(f"groups = {groups} does not divide number of output "
                               f"channels = {out_ch}")
        cls = packed_params.Conv3dPackedParamsBase if dim == 3 else \
            packed_params.Conv2dPackedParamsBase
        if dim == 1:    # (packed as a 2-d convolution of height 1, as PyTorch's)
            weight = weight.unsqueeze(2)
            lists = [[1] + lists[0], [0] + lists[1], [1] + lists[2]]
        return cls(weight, bias, lists[0], lists[1], [0] * len(lists[0]), lists[2],
                   int(groups))
    return k


def quantized_conv(qx, p, scale, zero_point, dim, relu=False):
    """quantized::conv{dim}d(qx, packed, output_scale, output_zero_point) (fbgemm)."""
    name = f"quantized::conv{dim}d{'_relu' if relu else ''}"
    Q = _q()
    cls = packed_params.Conv3dPackedParamsBase if dim == 3 else \
        packed_params.Conv2dPackedParamsBase
    _packed(p, cls, name)
    if not isinstance(qx, Q.QuantizedTensor):
        raise Q.backend_error(name + ("" if dim == 1 else ".new"), "CPU")
    if qx._dtype is not _dt.quint8:
        raise RuntimeError(f"quantized::conv(FBGEMM): Expected activation data type QUInt8 "
                           f"but got {qx._dtype.short_name}")
    qx._per_tensor()
    w, b = p.unpack()
    sd = 3 if dim == 3 else 2       # (conv1d: a 2-d convolution of height 1)
    nd = qx.dim() + (dim == 1)
    if nd != sd + 2:
        raise RuntimeError(f"quantized::conv{sd}d(): Expected activation tensor to have "
                           f"{sd + 2} dimensions, got {nd}")
    if dim == 1:
        qx = qx.unsqueeze(2)
    c_in = w.shape[1] * p.groups()
    if qx.shape[1] != c_in:
        size = ", ".join(str(n) for n in [w.shape[0]] + list(w.shape[2:]) + [w.shape[1]])
        raise RuntimeError(f"[QConv{sd}D] Given groups={p.groups()}, weight of size {size}, "
                           f"expected input ({'NCDHW' if sd == 3 else 'NCHW'}) "
                           f"{', '.join(str(n) for n in qx.shape)} to have {c_in} channels, "
                           f"but got {qx.shape[1]} channels instead")
    f64 = np.float64
    x = (_host(qx._qbits).astype(np.int64) - int(qx._qzp)).astype(f64)
    wq = _host(w._qbits).astype(np.int64)
    n_out = wq.shape[0]
    bshape = (-1,) + (1,) * (wq.ndim - 1)
    if w._qscheme is _dt.per_tensor_affine:
        wv = (wq - int(w._qzp)).astype(f64)
        ws = np.full(n_out, np.float32(w._qscale), np.float32)
    else:
        wv = (wq - np.asarray(w._qzp, np.int64).reshape(bshape)).astype(f64)
        ws = np.asarray(w._qscale).astype(np.float32)
    # (the sums exact in float64: |products| < 2**16, far fewer than 2**37 of them)
    cpu = _cpu_device()
    acc = _reg.OPS[f"aten::conv{sd}d"].eager(
        _reg.wrap(np.ascontiguousarray(x), _dt.float64, cpu),
        _reg.wrap(np.ascontiguousarray(wv), _dt.float64, cpu), None, p.stride(),
        p.padding(), p.dilation(), p.groups())
    acc = np.asarray(_host(acc._data))
    f32 = np.float32
    cshape = (1, -1) + (1,) * sd
    atw = (f32(qx._qscale) * ws).astype(f32)
    mult = (atw / f32(scale)).astype(f32).reshape(cshape)
    raw = acc.astype(f32)
    if b is not None:
        raw = (raw + (np.asarray(_host(b._data), f32) / atw).astype(f32).reshape(
            cshape)).astype(f32)
    v = np.rint((raw * mult).astype(f32)).astype(np.int64) + int(zero_point)
    v = np.clip(v, int(zero_point) if relu else 0, 255).astype(np.uint8)
    if dim == 1:
        v = v[:, :, 0]
    # (channels last, as FBGEMM's NHWC / NDHWC result; conv1d's (N, L, C))
    perm = (0,) + tuple(range(2, v.ndim)) + (1,)
    v = np.ascontiguousarray(v.transpose(perm)).transpose(np.argsort(perm))
    return Q._make(_dev_array(v, qx), _dt.quint8, qx._device,
                   _dt.per_tensor_affine, float(scale), int(zero_point))


def _conv_unpack_k(cls, name):
    def k(p):
        w, b = _packed(p, cls, name).unpack()
        if name == "quantized::conv1d_unpack":
            w = w.squeeze(2)        # (the 1-d weight it packed)
        return w, b
    return k


for _dim in (1, 2, 3):
    _pk = "Conv3dPackedParamsBase" if _dim == 3 else "Conv2dPackedParamsBase"
    _cls = getattr(packed_params, _pk)
    _pk = "__torch__.torch.classes.quantized." + _pk
    _n = f"quantized::conv{_dim}d_prepack"
    op(f"{_n}(Tensor weight, Tensor? bias, int[] stride, int[] padding, int[] dilation, "
       f"int groups) -> {_pk}", tags={"nn", "no_fuse"}, method=False, function=False)(
        _quantizing(_n))
    KERNELS[_n] = _conv_prepack(_dim)
    for _n in ([f"quantized::conv{_dim}d_unpack"] + (["quantized::conv_unpack"]
                                                     if _dim == 2 else [])):
        op(f"{_n}({_pk} packed_weights) -> (Tensor unpacked_weights, Tensor? B_origin)",
           tags={"nn", "no_fuse"}, method=False, function=False)(_quantizing(_n))
        KERNELS[_n] = _conv_unpack_k(_cls, _n)
    for _relu, _sfx in ((False, ""), (True, "_relu")):
        _n = f"quantized::conv{_dim}d{_sfx}"
        _ov = "" if _dim == 1 else ".new"     # (PyTorch's overload of the packed form)
        op(f"{_n}{_ov}(Tensor qx, {_pk} packed_weight, float output_scale, "
           f"int output_zero_point) -> Tensor", tags={"nn", "no_fuse"}, method=False,
           function=False)(_quantizing(_n + _ov))
        KERNELS[_n + _ov] = (lambda d, r: lambda qx, p, s, z: quantized_conv(
            qx, p, s, z, d, r))(_dim, _relu)


# ---------------------------------------------------------------------------------------
# batch norm (quantized::batch_norm2d / 3d / batch_norm, _relu): alpha = weight /
# sqrt(var + eps) * (in_scale / out_scale), beta = (bias - mean * weight / sqrt(var +
# eps)) / out_scale per channel (compute_fused_params), then out_zp + lrintf(alpha * (q -
# in_zp) + beta), clamped (q_batch_norm_kernel)

def quantized_batch_norm(qx, weight, bias, mean, var, eps, scale, zero_point, relu=False,
                         name="quantized::batch_norm2d", dims=(4,)):
    Q = _q()
    if not isinstance(qx, Q.QuantizedTensor):
        raise Q.backend_error(name, "CPU")
    qx._per_tensor()
    if qx.dim() not in dims:
        raise RuntimeError(f"Expecting the input tensor of rank {dims[0]}.")
    if weight is None:
        raise RuntimeError("Weight must be provided")
    if bias is None:
        raise RuntimeError("Bias must be provided")
    f32 = np.float32
    c = qx.shape[1]

    def vec(t):
        a = np.asarray(_host(t._data), f32).reshape(-1)
        if a.size != c:
            raise RuntimeError(f"Expected a vector of {c} elements, got {a.size}")
        return a
    w, b, m, v = vec(weight), vec(bias), vec(mean), vec(var)
    inv_sigma = (f32(1) / np.sqrt((v + f32(eps)).astype(f32))).astype(f32)
    in_over_out = f32(float(qx._qscale) / float(scale))
    alpha = (inv_sigma * w * in_over_out).astype(f32)
    beta = ((b - m * inv_sigma * w) / f32(scale)).astype(f32)
    shape = (1, -1) + (1,) * (qx.dim() - 2)
    q = _host(qx._qbits).astype(np.int64) - int(qx._qzp)
    y = (alpha.reshape(shape) * q.astype(f32) + beta.reshape(shape)).astype(f32)
    out = np.rint(y).astype(np.int64) + int(zero_point)
    lo, hi = _range(qx._dtype)
    out = np.clip(out, int(zero_point) if relu else lo, hi)
    return Q._make(_dev_array(np.array(out.astype(_host(qx._qbits).dtype), order="K"), qx),
                   qx._dtype, qx._device, _dt.per_tensor_affine, float(scale),
                   int(zero_point))


for _n, _dims in (("batch_norm", (2, 3, 4, 5)), ("batch_norm1d", (2, 3)),
                  ("batch_norm2d", (4,)), ("batch_norm3d", (5,))):
    for _relu, _sfx in ((False, ""), (True, "_relu")):
        _full = f"quantized::{_n}{_sfx}"
        op(f"{_full}(Tensor qx, Tensor? weight, Tensor? bias, Tensor mean, Tensor var, "
           "float eps, float output_scale, int output_zero_point) -> Tensor",
           tags={"nn", "no_fuse"}, method=False, function=False)(_quantizing(_full))
        KERNELS[_full] = (lambda r, n, d: lambda qx, w, b, m, v, eps, s, z:
                          quantized_batch_norm(qx, w, b, m, v, eps, s, z, r, n, d))(
            _relu, _full, _dims)


# quantized:: activations with an output quantizer: the float op on the dequantized values,
# quantized with (output_scale, output_zero_point)

def _requantizing(float_op, arg_order):
    """kernel(qx, *schema args): float_op(dequantized qx, *float args) quantized with the
    output_scale / output_zero_point among the args (arg_order names them: 's', 'z', or a
    float op argument)."""
    def k(qx, *args):
        _per_tensor_check(qx)
        fargs = [a for a, n in zip(args, arg_order) if n == "f"]
        sc = next(a for a, n in zip(args, arg_order) if n == "s")
        zp = next(a for a, n in zip(args, arg_order) if n == "z")
        cut = vectorized_count(qx._qbits.size, qx._dtype)
        x = _reg.wrap(dequantize_blocks(qx, cut), _dt.float32, _cpu_device())
        y = np.asarray(_host(_reg.OPS[float_op].eager(x, *fargs)._data), np.float32)
        bits = quantize_values(y, sc, zp, qx._dtype, vectorized=cut)
        return _wrap_q(_dev_array(bits, qx), qx, sc, zp)
    return k


def _elu_k(qx, output_scale, output_zero_point, alpha=1, scale=1, input_scale=1):
    return _requantizing("aten::elu", "szfff")(qx, output_scale, output_zero_point, alpha,
                                               scale, input_scale)


for _schema, _k in (
        ("quantized::hardswish(Tensor input, float output_scale, int output_zero_point) "
         "-> Tensor", _requantizing("aten::hardswish", "sz")),
        ("quantized::elu(Tensor self, float output_scale, int output_zero_point, "
         "Scalar alpha=1, Scalar scale=1, Scalar input_scale=1) -> Tensor", _elu_k),
        ("quantized::sigmoid(Tensor qx, float output_scale, int output_zero_point) -> Tensor",
         _requantizing("aten::sigmoid", "sz")),
        ("quantized::leaky_relu(Tensor qx, Scalar negative_slope, bool inplace, "
         "float output_scale, int output_zero_point) -> Tensor",
         lambda qx, slope, inplace, s, z: _requantizing("aten::leaky_relu", "fsz")(
             qx, slope, s, z)),
        ("quantized::celu(Tensor self, float output_scale, int output_zero_point, "
         "Scalar alpha=1) -> Tensor", _requantizing("aten::celu", "szf")),
        ("quantized::softmax(Tensor qx, int dim, float output_scale, int output_zero_point) "
         "-> Tensor", _requantizing("aten::softmax.int", "fsz"))):
    _n = _schema.split("(")[0]
    op(_schema, tags={"nn", "no_fuse"}, method=False, function=False)(_quantizing(_n))
    # (softmax's dim names a logical axis: it runs as it is)
    KERNELS[_n] = _k if _n == "quantized::softmax" else in_memory_order(_k)


# embeddings (8-bit rows, per_channel_affine_float_qparams): quantized::embedding_bag_prepack
# keeps the quint8 weight; embedding_byte / embedding_bag_byte compute FBGEMM's
# EmbeddingSpMDM: per bag, out = fma(scale * w, q, out + bias * w) over its indices (bias =
# -zero_point * scale per row, w the per-sample weight or 1), in float32. The byte kernels
# sum whatever `mode` says (torch 2.13's: its quantized EmbeddingBag passes 0).

_EMB_PACKED = "__torch__.torch.classes.quantized.EmbeddingPackedParamsBase"


def _embedding_prepack_k(weight):
    Q = _q()
    if not isinstance(weight, Q.QuantizedTensor):
        raise Q.backend_error("quantized::embedding_bag_prepack", "CPU")
    if weight._qscheme is not _dt.per_channel_affine_float_qparams:
        raise RuntimeError("Expected weight to be per-channel affine float qparams "
                           "quantized")
    if weight._dtype is not _dt.quint8:
        raise RuntimeError(f"gpujit's quantized embeddings are 8-bit (quint8): got "
                           f"{weight._dtype.short_name} (quantized::embedding_bag_4bit "
                           f"is not available)")
    if weight.dim() != 2:
        raise RuntimeError("quantized::embedding_bag_prepack weight tensor rank should be "
                           "2")
    return packed_params.EmbeddingPackedParamsBase(weight)


def _emb_rows(p, name):
    w = _packed(p, packed_params.EmbeddingPackedParamsBase, name).unpack()
    q = _host(w._qbits).astype(np.float64)
    f32 = np.float32
    scale = np.asarray(w._qscale, f32).reshape(-1)
    bias = (-(np.asarray(w._qzp, f32).reshape(-1) * scale)).astype(f32)
    return w, q, scale, bias


def _embedding_bag_byte(p, indices, offsets=None, scale_grad_by_freq=False, mode=0,
                        pruned_weights=False, per_sample_weights=None,
                        compressed_indices_mapping=None, include_last_offset=False,
                        name="quantized::embedding_bag_byte"):
    w, q, scale, bias = _emb_rows(p, name)
    idx = np.asarray(_host(indices._data)).astype(np.int64)
    n_rows = q.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
        raise RuntimeError("Expected i < index_size to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    if offsets is None:
        if idx.ndim != 2:
            raise RuntimeError("offsets has to be a 1D Tensor but got null")
        starts = np.arange(0, idx.size, max(idx.shape[1], 1))[: idx.shape[0]]
        idx = idx.reshape(-1)
        ends = np.append(starts[1:], idx.size)
    else:
        off = np.asarray(_host(offsets._data)).astype(np.int64).reshape(-1)
        idx = idx.reshape(-1)
        if include_last_offset:
            starts, ends = off[:-1], off[1:]
        else:
            starts, ends = off, np.append(off[1:], idx.size)
    psw = None if per_sample_weights is None else \
        np.asarray(_host(per_sample_weights._data), np.float32).reshape(-1)
    f32, f64 = np.float32, np.float64
    out = np.zeros((len(starts), q.shape[1]), f32)
    lengths = ends - starts
    for k in range(int(lengths.max()) if lengths.size else 0):
        live = np.nonzero(lengths > k)[0]
        pos = starts[live] + k
        rows = idx[pos]
        sc, bs = scale[rows], bias[rows]
        if psw is not None:
            sc, bs = (sc * psw[pos]).astype(f32), (bs * psw[pos]).astype(f32)
        acc = (out[live] + bs[:, None]).astype(f32)
        # (fma: the float64 product of a float32 and an 8-bit integer is exact)
        out[live] = (sc[:, None].astype(f64) * q[rows] + acc.astype(f64)).astype(f32)
    return _reg.wrap(_dev_array(out, w), _dt.float32, w._device)


def _embedding_byte(p, indices, pruned_weights=False):
    idx = indices.reshape(-1, 1)
    out = _embedding_bag_byte(p, idx, None, name="quantized::embedding_byte")
    return out.reshape(tuple(indices.shape) + (out.shape[-1],))


def _embedding_dense(name):
    def impl(xp, p, indices, *rest):
        from ..quantized import QuantizedOperand
        raise QuantizedOperand(f"quantized::{name}'s packed weight", _reg.OPS[
            f"quantized::{name}"])
    return impl


op(f"quantized::embedding_bag_prepack(Tensor weight) -> {_EMB_PACKED} W_prepack",
   tags={"nn", "no_fuse"}, method=False, function=False)(
    _quantizing("quantized::embedding_bag_prepack"))
KERNELS["quantized::embedding_bag_prepack"] = _embedding_prepack_k
op(f"quantized::embedding_bag_unpack({_EMB_PACKED} W_prepack) -> Tensor W_origin",
   tags={"nn", "no_fuse"}, method=False, function=False)(
    _quantizing("quantized::embedding_bag_unpack"))
KERNELS["quantized::embedding_bag_unpack"] = lambda p: _packed(
    p, packed_params.EmbeddingPackedParamsBase, "quantized::embedding_bag_unpack").unpack()
op(f"quantized::embedding_byte({_EMB_PACKED} weight, Tensor indices, "
   "bool pruned_weights=False) -> Tensor", tags={"nn", "no_fuse"}, method=False,
   function=False)(_embedding_dense("embedding_byte"))
KERNELS["quantized::embedding_byte"] = _embedding_byte
op(f"quantized::embedding_bag_byte({_EMB_PACKED} weight, Tensor indices, "
   "Tensor? offsets=None, bool scale_grad_by_freq=False, int mode=0, "
   "bool pruned_weights=False, Tensor? per_sample_weights=None, "
   "Tensor? compressed_indices_mapping=None, bool include_last_offset=False) -> Tensor",
   tags={"nn", "no_fuse"}, method=False, function=False)(
    _embedding_dense("embedding_bag_byte"))
KERNELS["quantized::embedding_bag_byte"] = _embedding_bag_byte


# quantized:: norms and matmul: the float op on the dequantized values, quantized with
# (output_scale, output_zero_point) (layer_norm / group_norm / instance_norm as ATen's
# quantized kernels compute them in float32; matmul as qmatmul's at::matmul of the
# dequantized operands)

def _float_then_quantize(float_op, build):
    def k(qx, *args):
        Q = _q()
        if not isinstance(qx, Q.QuantizedTensor):
            raise Q.backend_error(k.op_name, "CPU")
        _per_tensor_check(qx)
        fargs, sc, zp = build(*args)
        x = _reg.wrap(_float_values(qx), _dt.float32, _cpu_device())
        y = np.asarray(_host(_reg.OPS[float_op].eager(x, *fargs)._data), np.float32)
        bits = quantize_values(y, sc, zp, qx._dtype)
        return _wrap_q(_dev_array(np.ascontiguousarray(bits), qx), qx, sc, zp)
    return k


def _qmatmul(qa, qb, scale, zero_point):
    Q = _q()
    for t in (qa, qb):
        if not isinstance(t, Q.QuantizedTensor):
            raise Q.backend_error("quantized::matmul", "CPU")
    if qa._dtype is not qb._dtype:
        raise RuntimeError(f"MatMul operands should use the same dtype. Got {qa._dtype}, "
                           f"{qb._dtype}")
    if qa._qscheme is not _dt.per_tensor_affine or qb._qscheme is not _dt.per_tensor_affine:
        raise RuntimeError("Only per-tensor quantization is suported in Matmul, but got "
                           "per-channel quantization.")
    a = _reg.wrap(_float_values(qa), _dt.float32, _cpu_device())
    b = _reg.wrap(_float_values(qb), _dt.float32, _cpu_device())
    y = np.asarray(_host(_reg.OPS["aten::matmul"].eager(a, b)._data), np.float32)
    return Q.quantize_per_tensor(_reg.wrap(y, _dt.float32, qa._device), float(scale),
                                 int(zero_point), qa._dtype)


for _schema, _fop, _build in (
        ("quantized::layer_norm(Tensor input, int[] normalized_shape, Tensor? weight, "
         "Tensor? bias, float eps, float output_scale, int output_zero_point) -> Tensor",
         "aten::layer_norm", lambda ns, w, b, eps, s, z: ((ns, w, b, eps), s, z)),
        ("quantized::group_norm(Tensor input, int num_groups, Tensor? weight, Tensor? bias, "
         "float eps, float output_scale, int output_zero_point) -> Tensor",
         "aten::group_norm", lambda g, w, b, eps, s, z: ((g, w, b, eps), s, z)),
        ("quantized::instance_norm(Tensor input, Tensor? weight, Tensor? bias, float eps, "
         "float output_scale, int output_zero_point) -> Tensor", "aten::instance_norm",
         lambda w, b, eps, s, z: ((w, b, None, None, True, 0.1, eps, False), s, z))):
    _n = _schema.split("(")[0]
    op(_schema, tags={"nn", "no_fuse"}, method=False, function=False)(_quantizing(_n))
    KERNELS[_n] = _float_then_quantize(_fop, _build)
    KERNELS[_n].op_name = _n
op("quantized::matmul(Tensor qa, Tensor qb, float scale, int zero_point) -> Tensor qc",
   tags={"nn", "no_fuse"}, method=False, function=False)(_quantizing("quantized::matmul"))
KERNELS["quantized::matmul"] = _qmatmul


def _quantize_per_tensor_dynamic_k(self, dtype, reduce_range):
    """ATen's quantize_per_tensor_dynamic: ChooseQuantizationParams of the tensor's
    [min, max] (the range halved with reduce_range), then quantize_per_tensor."""
    from .fake_quantize import choose_qparams
    dtype = _qdtype_arg(dtype)
    if dtype not in (_dt.qint8, _dt.quint8):
        raise RuntimeError(f"dtype {dtype.short_name}not supported")
    a = np.asarray(_host(self._data))
    if self._dtype is not _dt.float32:
        raise RuntimeError(f"Quantize only works on Float Tensor, got {self._dtype.short_name}")
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    qmin, qmax = _range(dtype)
    if reduce_range:
        qmin, qmax = qmin // 2, qmax // 2
    scale, zp = choose_qparams(lo, hi, qmin, qmax, False)
    return _q().quantize_per_tensor(self, float(scale), int(zp), dtype)


op("aten::quantize_per_tensor_dynamic(Tensor self, ScalarType dtype, bool reduce_range) "
   "-> Tensor", tags={"no_fuse"}, method=False)(_quantizing("aten::quantize_per_tensor_dynamic"))
KERNELS["aten::quantize_per_tensor_dynamic"] = _quantize_per_tensor_dynamic_k


def _on_integers_as_float64(name):
    """op name on the integers held exactly as float64 (the dense kernels' max pools take
    no 8-bit integers), its result the integers again, self's quantizer kept."""
    def k(self, *args):
        _per_tensor_check(self)
        Q = _q()
        c = _reg.wrap(_host(self._qbits).astype(np.float64), _dt.float64, _cpu_device())
        r = _reg.OPS[name].eager(c, *args)
        bits = np.asarray(_host(r._data)).astype(_host(self._qbits).dtype)
        return Q._make(_dev_array(bits, self), self._dtype, self._device, self._qscheme,
                       self._qscale, self._qzp)
    return k


# pooling and nearest upsampling: on the integers (the max of the integers is the max of
# the values; nearest upsampling moves them), the quantizer kept
for _n in ("aten::max_pool1d", "aten::max_pool2d", "aten::max_pool3d"):
    KERNELS[_n] = _on_integers_as_float64(_n)
for _n in [n for o in ("upsample_nearest", "_upsample_nearest_exact") for d in "123"
           for n in (f"aten::{o}{d}d", f"aten::{o}{d}d.vec")]:
    if _n in _reg.OPS:
        KERNELS[_n] = _on_integers_as_float64(_n)


# average pooling (qavg_pool / qadaptive_avg_pool), the input's quantizer kept: the sum of
# the window's q inside the input plus zero_point for each divisor place it lacks (a pad
# counted by count_include_pad, divisor_override's), times float32 1 / divisor, rounded
# half to even (found bit-equal to torch 2.13 for quint8 / qint8, odd and even zero
# points, padding, ceil_mode, divisor_override, adaptive windows)

def _as_list(v, n, default=None):
    if v is None or (isinstance(v, (list, tuple)) and len(v) == 0):
        return list(default)
    v = [int(e) for e in (v if isinstance(v, (list, tuple)) else [v])]
    return v * n if len(v) == 1 else v


def _pool_windows(axes_spec, spatial):
    """Per spatial axis: (0/1 matrix out x in of the window's elements inside the input,
    the window sizes with padding counted to the padded edge, the sizes inside)."""
    out = []
    for n, (starts, ends_padded) in zip(spatial, axes_spec):
        st, en = np.maximum(starts, 0), np.minimum(ends_padded, n)
        idx = np.arange(n)
        a = ((idx[None, :] >= st[:, None]) & (idx[None, :] < en[:, None])).astype(np.int64)
        out.append((a, ends_padded - starts, en - st))
    return out


def _pooled(self, dim, windows, divisor):
    """The pooled quantized tensor: the sums over `windows` (per axis), requantized by
    divisor(pool sizes, inside sizes) (an array of the output's spatial shape)."""
    Q = _q()
    self._per_tensor()
    q = _host(self._qbits)
    batched = q.ndim == dim + 2
    acc = q.astype(np.int64) - int(self._qzp)
    first = acc.ndim - dim
    for i, (a, _, _) in enumerate(windows):
        acc = np.moveaxis(np.tensordot(acc, a.T, axes=([first + i], [0])), -1, first + i)

    def outer(sizes):
        r = np.ones((), np.int64)
        for v in sizes:
            r = np.multiply.outer(r, v)
        return r
    inside = outer([w[2] for w in windows])
    div = divisor(outer([w[1] for w in windows]), inside)
    f32 = np.float32
    mult = (f32(1) / np.asarray(div, f32)).astype(f32)
    total = acc + int(self._qzp) * np.asarray(div, np.int64)
    lo, hi = _range(self._dtype)
    bits = np.clip(np.rint((total.astype(f32) * mult).astype(f32)).astype(np.int64), lo,
                   hi).astype(q.dtype)
    if batched and self._qbits.ndim == dim + 2 and dim > 1 and \
            _is_channels_last(self._qbits):
        perm = (0,) + tuple(range(2, bits.ndim)) + (1,)
        bits = np.ascontiguousarray(bits.transpose(perm)).transpose(np.argsort(perm))
    else:
        bits = np.ascontiguousarray(bits)
    return Q._make(_dev_array(bits, self), self._dtype, self._device, self._qscheme,
                   self._qscale, self._qzp)


def _is_channels_last(a):
    st = a.strides
    return a.ndim >= 4 and a.shape[1] > 1 and st[1] == a.itemsize and st[1] < st[-1]


def _avg_pool_k(dim):
    name = f"aten::avg_pool{dim}d"

    def k(self, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
          divisor_override=None):
        if self.dim() not in (dim + 1, dim + 2):
            raise RuntimeError(f"{name.split('::')[1]}: input must be {dim + 1}D or "
                               f"{dim + 2}D")
        ks = _as_list(kernel_size, dim)
        st = _as_list(stride, dim, ks)
        pd = _as_list(padding, dim)
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        spatial = list(self.shape[-dim:])
        spec = []
        for n, kk, ss, pp in zip(spatial, ks, st, pd):
            if pp > kk // 2:
                raise RuntimeError("pad should be smaller than or equal to half of kernel "
                                   "size, but got padW = " + str(pp) + ", padH = " + str(pp)
                                   + ", kW = " + str(kk) + ", kH = " + str(kk))
            o = (n + 2 * pp - kk + (ss - 1 if ceil_mode else 0)) // ss + 1
            if ceil_mode and (o - 1) * ss >= n + pp:
                o -= 1
            starts = np.arange(o) * ss - pp
            spec.append((starts, np.minimum(starts + kk, n + pp)))

        def divisor(pool, inside):
            if divisor_override is not None:
                return np.full(pool.shape, int(divisor_override))
            return pool if count_include_pad else inside
        return _pooled(self, dim, _pool_windows(spec, spatial), divisor)
    return k


def _adaptive_avg_k(dim):
    def k(self, output_size):
        outs = _as_list(output_size, dim)
        spatial = list(self.shape[-dim:])
        spec = []
        for n, o in zip(spatial, outs):
            i = np.arange(o)
            spec.append(((i * n) // o, -((-(i + 1) * n) // o)))
        return _pooled(self, dim, _pool_windows(spec, spatial), lambda pool, inside: inside)
    return k


for _d in (1, 2, 3):
    KERNELS[f"aten::avg_pool{_d}d"] = _avg_pool_k(_d)
    KERNELS[f"aten::adaptive_avg_pool{_d}d"] = _adaptive_avg_k(_d)


@kernel("aten::pad")
def pad(self, pad, mode="constant", value=None):
    """F.pad of a quantized tensor: constant mode fills with the value quantized with its
    quantizer (0: the zero point), reflect mirrors the integers; replicate is PyTorch's
    QuantizedCPU refusal."""
    _per_tensor_check(self)
    if mode == "replicate":
        Q = _q()
        raise Q.backend_error(f"aten::replication_pad{len(pad) // 2}d.out")
    if mode == "constant":
        fill = _quantized_bound(self, 0.0 if value is None else float(value))
        return _on_integers_as_float64("aten::pad")(self, pad, mode, float(fill))
    return _on_integers_as_float64("aten::pad")(self, pad, mode, value)


@kernel("aten::constant_pad_nd")
def constant_pad_nd(self, pad, value=0):
    return globals()["pad"](self, pad, "constant", value)


# bilinear upsampling (quantized upsample_bilinear2d): the float32 bilinear blend of the
# integers (ATen's source indices and lambdas), rounded half to even, the quantizer kept

def _bilinear_axis(n_in, n_out, align_corners, scale):
    f32 = np.float32
    if align_corners:
        sc = f32((n_in - 1) / (n_out - 1)) if n_out > 1 else f32(0)
        src = (np.arange(n_out, dtype=f32) * sc).astype(f32)
    else:
        sc = f32(1.0 / scale) if scale is not None and scale > 0 else f32(n_in / n_out)
        src = np.maximum((sc * (np.arange(n_out, dtype=f32) + f32(0.5)) - f32(0.5))
                         .astype(f32), f32(0))
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = i0 + (i0 < n_in - 1)
    l1 = (src - i0.astype(f32)).astype(f32)
    return i0, i1, (f32(1) - l1).astype(f32), l1


def _upsample_bilinear_k(self, output_size, align_corners, scale_factors=None,
                         explicit=None):
    from .nn_upsample import _output_size
    _per_tensor_check(self)
    if self.dim() != 4:
        raise RuntimeError(f"Non-empty 4D data tensor expected but got a tensor with sizes "
                           f"{list(self.shape)}")
    if explicit is not None:        # (upsample_bilinear2d(input, size, ac, sh, sw))
        out, scales = [int(n) for n in output_size], list(explicit)
    else:
        out, scales = _output_size("upsample_bilinear2d", 2, tuple(self.shape), output_size,
                                   scale_factors)
        scales = list(scales) if scales is not None else [None, None]
    q = _host(self._qbits).astype(np.float32)
    h0, h1, hl0, hl1 = _bilinear_axis(q.shape[2], out[0], align_corners, scales[0])
    w0, w1, wl0, wl1 = _bilinear_axis(q.shape[3], out[1], align_corners, scales[1])
    a, b = h0[:, None], h1[:, None]
    c, d = w0[None, :], w1[None, :]
    top = (wl0[None, :] * q[:, :, a, c] + wl1[None, :] * q[:, :, a, d]).astype(np.float32)
    bot = (wl0[None, :] * q[:, :, b, c] + wl1[None, :] * q[:, :, b, d]).astype(np.float32)
    r = (hl0[:, None] * top + hl1[:, None] * bot).astype(np.float32)
    lo, hi = _range(self._dtype)
    bits = np.ascontiguousarray(np.clip(np.rint(r), lo, hi).astype(_host(self._qbits).dtype))
    if _is_channels_last(_host(self._qbits)) and not _host(self._qbits).flags.c_contiguous:
        perm = (0, 2, 3, 1)
        bits = np.ascontiguousarray(bits.transpose(perm)).transpose(np.argsort(perm))
    Q = _q()
    return Q._make(_dev_array(bits, self), self._dtype, self._device, self._qscheme,
                   self._qscale, self._qzp)


KERNELS["aten::upsample_bilinear2d.vec"] = _upsample_bilinear_k
KERNELS["aten::upsample_bilinear2d"] = lambda self, output_size, align_corners, \
    scales_h=None, scales_w=None: _upsample_bilinear_k(
        self, output_size, align_corners, explicit=[scales_h, scales_w])


@kernel("aten::empty_like")
def empty_like(self, *args, **kwargs):
    """A quantized tensor of self's shape and quantizer (its integers zero)."""
    bits = np.zeros(self._qbits.shape, _host(self._qbits).dtype)
    Q = _q()
    return Q._make(_dev_array(bits, self), self._dtype, self._device, self._qscheme,
                   self._qscale, self._qzp, self._qaxis)


def _to_dtype(self, dtype, *rest):
    """A quantized tensor converted: to its own dtype, itself; to another quantized dtype,
    ATen's copy_ check; to any other, PyTorch's refusal."""
    d = _qdtype_arg(dtype) if isinstance(dtype, int) else dtype
    if d is self._dtype:
        return self
    if isinstance(d, _dt._QuantizedDtype):
        raise RuntimeError("Expected self.scalar_type() == src.scalar_type() to be true, but "
                           "got false.  (Could this error message be improved?  If so, "
                           "please report an enhancement request to PyTorch.)")
    raise RuntimeError("Creation of quantized tensor requires quantized dtype like "
                       "torch.quint8")


KERNELS["aten::to.dtype"] = _to_dtype
KERNELS["aten::to.dtype_layout"] = lambda self, dtype=None, *rest: \
    self if dtype is None else _to_dtype(self, dtype)


def _mark_nondifferentiable():
    """The quantized:: ops, dequantize of a list and the per-channel scales carry no
    gradient: their inputs are quantized tensors, which never require grad in PyTorch
    ("Only Tensors of floating point dtype can require gradients")."""
    from .derivatives import nondifferentiable
    reason = ("quantized tensors never require grad in PyTorch (only floating point tensors "
              "can): the op's quantized inputs carry no gradient")
    for name, d in list(_reg.OPS.items()):
        if d.derivative is None and (name.startswith("quantized::") or name in (
                "aten::dequantize.tensors", "aten::q_per_channel_scales")):
            nondifferentiable(d, reason=reason)


_mark_nondifferentiable()


def _set_metas():
    """Meta rules (shape, dtype, device of the results) of the quantizer and quantized::
    ops, for the tracer and the IR's types: a quantized result has the quantized dtype it
    asks for (or its input's), dequantize gives float32, int_repr the integer dtype under
    the quantized one, the accessors their Python types."""
    from .meta import TensorMeta, same_as, run_meta
    from ..ir import types as _T

    def like(t, dtype):
        return TensorMeta(dtype, tuple(t.shape), t.device)

    def int_repr(self):
        from ..quantized import _INT_DTYPE
        return like(self, _INT_DTYPE.get(self.dtype, self.dtype))

    def cat(qx, dim, scale=None, zero_point=None):
        first = qx[0]
        d = dim % len(first.shape) if first.shape else 0
        shape = list(first.shape)
        shape[d] = sum(t.shape[d] for t in qx)
        return TensorMeta(first.dtype, tuple(shape), first.device)

    def packed_weight(p):
        if isinstance(p, packed_params.EmbeddingPackedParamsBase):
            return p.unpack()
        return p.unpack()[0] if isinstance(p, packed_params.ScriptObject) else None

    def linear(X, W, *rest):
        # (quantized::linear(X, W_prepack, scale, zp): quint8; linear_dynamic: float32)
        dtype = _dt.float32 if not rest or isinstance(rest[0], bool) else X.dtype
        w = packed_weight(W)
        return TensorMeta(dtype, tuple(X.shape[:-1]) + ((w.shape[0],) if w is not None
                                                         else (None,)), X.device)

    def conv(dim):
        def rule(qx, p, *rest):
            w = packed_weight(p)
            if w is None:
                return TensorMeta(qx.dtype, (None,) * len(qx.shape), qx.device)
            spatial = list(qx.shape[2:])
            st, pad, dil = p.stride(), p.padding(), p.dilation()
            ks = list(w.shape[2:])
            if dim == 1:
                st, pad, dil, ks = st[1:], pad[1:], dil[1:], ks[1:]
            out = [None if n is None else (n + 2 * pd - dl * (k - 1) - 1) // s + 1
                   for n, s, pd, dl, k in zip(spatial, st, pad, dil, ks)]
            return TensorMeta(qx.dtype, (qx.shape[0], w.shape[0]) + tuple(out), qx.device)
        return rule

    def unpack(p):
        w = packed_weight(p)
        if w is None:
            return [TensorMeta(_dt.qint8, (None, None), _cpu_device()),
                    TensorMeta(_dt.float32, (None,), _cpu_device())]
        b = p.unpack()[1]
        return [like(w, w.dtype), None if b is None else like(b, b.dtype)]

    def binary(qa, qb, *rest):
        if not hasattr(qb, "shape"):
            return like(qa, qa.dtype)
        return TensorMeta(qa.dtype, tuple(np.broadcast_shapes(tuple(qa.shape), tuple(qb.shape))),
                          qa.device)

    rules = {
        "aten::quantize_per_tensor": lambda self, s, z, dtype: like(self, dtype),
        "aten::quantize_per_tensor.tensor_qparams": lambda self, s, z, dtype: like(self, dtype),
        "aten::quantize_per_tensor.tensors": lambda ts, s, z, dtype: [like(t, dtype) for t in ts],
        "aten::quantize_per_tensor_dynamic": lambda self, dtype, r: like(self, dtype),
        "aten::quantize_per_channel": lambda self, s, z, axis, dtype: like(self, dtype),
        "aten::dequantize.self": lambda self: like(self, _dt.float32),
        "aten::dequantize.tensors": lambda ts: [like(t, _dt.float32) for t in ts],
        "aten::int_repr": int_repr,
        "aten::q_scale": lambda self: float,
        "aten::q_zero_point": lambda self: int,
        "aten::q_per_channel_axis": lambda self: int,
        "aten::q_per_channel_scales": lambda self: TensorMeta(_dt.float64, (None,), self.device),
        "aten::q_per_channel_zero_points":
            lambda self: TensorMeta(_dt.int64, (None,), self.device),
        "quantized::cat": cat, "quantized::cat_relu": cat,
        "quantized::linear": linear, "quantized::linear_relu": linear,
        "quantized::linear_dynamic": linear, "quantized::linear_relu_dynamic": linear,
        "quantized::linear_prepack": lambda W, B=None: _T.class_type(_LINEAR_PACKED),
        "quantized::linear_unpack": unpack,
    }
    for d in (1, 2, 3):
        rules[f"quantized::conv{d}d_prepack"] = (lambda d: lambda *a: _T.class_type(
            "__torch__.torch.classes.quantized.Conv3dPackedParamsBase" if d == 3 else
            "__torch__.torch.classes.quantized.Conv2dPackedParamsBase"))(d)
        rules[f"quantized::conv{d}d_unpack"] = unpack
        ov = "" if d == 1 else ".new"
        rules[f"quantized::conv{d}d{ov}"] = rules[f"quantized::conv{d}d_relu{ov}"] = conv(d)
    rules["quantized::conv_unpack"] = unpack
    for name in ("layer_norm", "group_norm", "instance_norm"):
        rules[f"quantized::{name}"] = same_as(0)

    def emb_width(p):
        w = packed_weight(p)
        return None if w is None else w.shape[1]

    rules["quantized::embedding_bag_prepack"] = lambda w: _T.class_type(_EMB_PACKED)
    rules["quantized::embedding_bag_unpack"] = lambda p: (
        like(packed_weight(p), _dt.quint8) if packed_weight(p) is not None else
        TensorMeta(_dt.quint8, (None, None), _cpu_device()))
    rules["quantized::embedding_byte"] = lambda p, ind, *r: TensorMeta(
        _dt.float32, tuple(ind.shape) + (emb_width(p),), ind.device)

    def bag(p, ind, offsets=None, *rest):
        include_last = bool(rest[-1]) if len(rest) >= 6 else False
        n = ind.shape[0] if offsets is None else (
            None if offsets.shape[0] is None else offsets.shape[0] - include_last)
        return TensorMeta(_dt.float32, (n, emb_width(p)), ind.device)
    rules["quantized::embedding_bag_byte"] = bag

    def matmul(qa, qb, *rest):
        out = run_meta(_reg.OPS["aten::matmul"], TensorMeta(_dt.float32, qa.shape, qa.device),
                       TensorMeta(_dt.float32, qb.shape, qb.device))
        return TensorMeta(qa.dtype, out.shape, qa.device)
    rules["quantized::matmul"] = matmul
    for name in ("batch_norm", "batch_norm1d", "batch_norm2d", "batch_norm3d"):
        rules[f"quantized::{name}"] = rules[f"quantized::{name}_relu"] = same_as(0)
    for name in ("add", "add_relu", "mul", "mul_relu"):
        rules[f"quantized::{name}"] = binary
        rules[f"quantized::{name}.Scalar"] = binary
    for name in ("celu", "elu", "hardswish", "leaky_relu", "relu6", "sigmoid", "softmax"):
        rules[f"quantized::{name}"] = same_as(0)
    for name, rule in rules.items():
        d = _reg.OPS.get(name)
        if d is not None and d.meta is None:
            d.meta = rule


_set_metas()
