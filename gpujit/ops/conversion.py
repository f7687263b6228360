"""dtype and device conversion, copies, and reading values out of tensors."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, device_of_array, require_cupy
from . import memory_format as _mf
from .meta import TensorMeta, same_as
from .overlap import assert_no_partial_overlap
from .registry import op, has_internal_overlap, internal_overlap_error, writable_target


def transfer(xp, a, dst):
    """Move array a to device dst (xp is dst's namespace). A dense array (no gaps, no
    overlaps) keeps its strides, as PyTorch's .to(device) (preserve_format): x.t().cuda()
    is still transposed; any other array arrives dense in the order of its strides."""
    if dst is _cpu:
        return _mf.keep_strides(np, _keep_layout(a, lambda c: c.get()), a) \
            if not isinstance(a, np.ndarray) else a
    cp = require_cupy()
    with cp.cuda.Device(dst.index):
        if isinstance(a, np.ndarray):
            return _mf.keep_strides(cp, _keep_layout(a, cp.asarray), a)
        b = cp.asarray(a)
        return b if b is a else _mf.keep_strides(cp, b, a)


def _keep_layout(a, move):
    """move(a), a copy of array a to another device, in a's memory order (PyTorch's
    preserve_format: a dense array keeps its strides, any other the order of its strides)."""
    if a.ndim < 2 or a.flags.c_contiguous:
        return move(a)
    order = _mf.dense_order(a.shape, a.strides)
    t = a.transpose(order)
    if isinstance(t, np.ndarray):
        t = np.ascontiguousarray(t)     # (a CuPy array's get() is C-ordered)
    back = [0] * a.ndim
    for i, d in enumerate(order):
        back[d] = i
    return move(t).transpose(back)


def _to_dtype_meta(self, dtype, non_blocking=False, copy=False, memory_format=None):
    return TensorMeta(dtype, tuple(self.shape), self.device)


@op("aten::to.dtype(Tensor(a) self, ScalarType dtype, bool non_blocking=False, "
    "bool copy=False, MemoryFormat? memory_format=None) -> Tensor(a)", tags={"pointwise"},
    operands=(), method=False, function=False, meta=_to_dtype_meta,
    scalar="cast_{dtype}({self})")
def to_dtype(xp, self, dtype, non_blocking=False, copy=False, memory_format=None):
    if memory_format is not None:      # (TorchScript's schema has it; x.to(dtype,
        # memory_format=...) in gpujit's own scripted code is to.dtype_layout)
        return to_dtype_layout(xp, self, dtype=dtype, copy=copy,
                               memory_format=memory_format)
    if self.dtype == dtype.np and not copy:
        return self
    if self.ndim > 1 and not self.flags.c_contiguous:
        # PyTorch's preserve_format: in the order of self's strides (NumPy's astype
        # order="K" puts a broadcast dim innermost)
        order = _mf.dense_order(self.shape, self.strides)
        if _plain_cast(self, dtype):        # converted while copied: one pass
            out = _mf.empty(xp, self.shape, dtype.np, order)
            out[...] = self
            return _mf.keep_strides(xp, out, self)
        t = self.transpose(order)
        return _mf.keep_strides(xp, _mf.alloc(
            xp, lambda _: xp.ascontiguousarray(_convert(t, dtype)), self.shape, order), self)
    # (PyTorch keeps the strides of size-1 dims and of a tensor with no elements)
    return _mf.keep_strides(xp, _convert(self, dtype), self)


def _plain_cast(a, dtype):
    """Whether a's values convert to dtype as an assignment converts them (not to bool,
    not float64 -> float16 (through float32), not CuPy's saturating float -> int)."""
    if dtype is _dt.bool or (dtype is _dt.float16 and a.dtype == np.float64) or (
            a.dtype.kind == "c" and not dtype.cplx):
        return False
    return isinstance(a, np.ndarray) or not (a.dtype.kind == "f" and
                                             dtype.category == _dt.INTEGRAL)


def _convert(a, dtype):
    return a != 0 if dtype is _dt.bool else _astype(a, dtype)


_warned_complex = []


def discard_imaginary(a):
    """The real part of complex array a, for a conversion to a real dtype, with PyTorch's
    warning (ATen's copy_, TORCH_WARN_ONCE: once per process unless set_warn_always(True),
    pointing at the user's line); NumPy's ComplexWarning is not PyTorch's."""
    from ..runtime_flags import is_warn_always_enabled
    if not _warned_complex or is_warn_always_enabled():
        _warned_complex.append(True)
        from .._frames import warn_at_user_frame
        warn_at_user_frame("Casting complex values to real discards the imaginary part")
    return a.real


def _astype(a, dtype):
    """a as dtype; float64 -> float16 through float32, as PyTorch (and the fused kernels)
    convert: one rounding less would differ where the float32 rounding decides a tie."""
    if a.dtype.kind == "c" and not dtype.cplx:
        a = discard_imaginary(a)
    if dtype is _dt.float16 and a.dtype == np.float64:
        a = a.astype(np.float32)
    if (a.dtype.kind == "f" and dtype.category == _dt.INTEGRAL and _dt.HOST_X86_CONVERSIONS
            and not isinstance(a, np.ndarray)):
        return _float_to_int_as_host(a, dtype)
    if a.dtype.kind == "f" and dtype is _dt.uint8 and _dt.HOST_X86_CONVERSIONS:
        # PyTorch converts floats to uint8 through int64 (c10's TypeCast.h); NumPy's C cast
        # through int32 gave 0 for float64 3000000007.0 (torch: 7)
        return a.astype(np.int64).astype(np.uint8)
    return a.astype(dtype.np)


def _float_to_int_as_host(a, dtype):
    """CuPy array a (floats) as integer dtype the way this host's NumPy converts
    (dtypes.HOST_X86_CONVERSIONS): CuPy's astype saturates (-1.5 -> uint8 is 0 on the GPU,
    255 on the CPU and in PyTorch on either device)."""
    import cupy
    if dtype is _dt.uint32 or dtype is _dt.uint64:
        return _float_to_wide_unsigned(cupy, a, dtype)
    wide, lo, hi, indefinite = _dt.x86_conversion_range(dtype.np)
    fits = (a > lo) & (a < hi)                  # False for nan
    return cupy.where(fits, a.astype(wide), wide(indefinite)).astype(dtype.np)


def _float_to_wide_unsigned(cupy, a, dtype):
    """CuPy array a (floats) as uint32 / uint64 the way x86 code converts (NumPy's and
    PyTorch's CPU): uint32 through int64 (3e9 is 3000000000, where int32's conversion gives
    its indefinite value), uint64 as compilers convert, cvtt of x - 2**63 with the top bit
    set for x >= 2**63 (1e19 is 10**19, 2e19 wraps to 0)."""
    i64 = _float_to_int_as_host(a, _dt.int64)
    if dtype is _dt.uint32:
        return i64.astype(np.uint32)
    big = a >= 2.0 ** 63
    hi = _float_to_int_as_host(cupy.where(big, a - 2.0 ** 63, a), _dt.int64)
    return cupy.where(big, hi.view(np.uint64) ^ np.uint64(1 << 63), i64.view(np.uint64))


def _to_device_meta(self, device, dtype=None, non_blocking=False, copy=False,
                    memory_format=None):
    return TensorMeta(dtype or self.dtype, tuple(self.shape), device)


@op("aten::to.device(Tensor(a) self, Device device, ScalarType? dtype=None, "
    "bool non_blocking=False, bool copy=False, MemoryFormat? memory_format=None) -> "
    "Tensor(a)", method=False, function=False, meta=_to_device_meta)
def to_device(xp, self, device, dtype=None, non_blocking=False, copy=False,
              memory_format=None):
    if memory_format is not None:
        return to_dtype_layout(xp, self, dtype=dtype, device=device, copy=copy,
                               memory_format=memory_format)
    a = transfer(xp, self, device)
    if dtype is not None and a.dtype != dtype.np:
        a = to_dtype(xp, a, dtype)
    elif copy and a is self:
        # a copy laid out as self (preserve_format), as the transfer would have made it
        a = to_dtype(xp, a, _dt.from_numpy_dtype(a.dtype), copy=True)
    return a


def _to_other_meta(self, other, non_blocking=False, copy=False, memory_format=None):
    return TensorMeta(other.dtype, tuple(self.shape), other.device)


@op("aten::to.other(Tensor(a) self, Tensor other, bool non_blocking=False, bool copy=False, "
    "MemoryFormat? memory_format=None) -> Tensor(a)", method=False, function=False,
    cross_device="keep", meta=_to_other_meta)
def to_other(xp, self, other, non_blocking=False, copy=False, memory_format=None):
    """x.to(other): to other's device and dtype (other stays where it is: only its device
    and dtype are read); self itself when both are self's and copy is False."""
    dev = device_of_array(other)
    if dev is not device_of_array(self):
        from ..device import xp_for
        xp = xp_for(dev)
    return to_device(xp, self, dev, _dt.from_numpy_dtype(other.dtype), non_blocking, copy,
                     memory_format)


# (PyTorch's schema names no alias; this one says what the call does, as to.dtype's:
# the result is self itself when it has other's dtype, scripted and eager)
@op("aten::type_as(Tensor(a) self, Tensor other) -> Tensor(a)", function=False, operands=(),
    cross_device="keep",
    meta=lambda self, other: TensorMeta(other.dtype, tuple(self.shape), self.device))
def type_as(xp, self, other):
    """x.type_as(other): x in other's dtype (other's device and values unused); x itself
    when it has that dtype. TorchScript records the op itself (scripted and traced); the
    optimizer casts with aten::to(x, prim::dtype(other)), which fuses (fusion.py)."""
    return to_dtype(xp, self, _dt.from_numpy_dtype(other.dtype))


def _current_cuda():
    """The device 'cuda' names now (cuda:<current>; 'cuda' itself without a GPU, where the
    move fails when it runs)."""
    from ..device import cupy_or_none, cuda_device, device as _device
    return cuda_device(None) if cupy_or_none() is not None else _device("cuda")


# TorchScript's x.cpu() / x.cuda() (eager: Tensor.cpu / Tensor.cuda, which also take a
# device and non_blocking): self itself when already there, else a copy on that device.
# cross_device="keep": the result's device is where the body put it, not self's.
@op("aten::cpu(Tensor(a) self) -> Tensor(a)", method=False, function=False,
    cross_device="keep",
    meta=lambda self: TensorMeta(self.dtype, tuple(self.shape), _cpu))
def cpu(xp, self):
    return transfer(np, self, _cpu)


@op("aten::cuda(Tensor(a) self) -> Tensor(a)", method=False, function=False,
    cross_device="keep",
    meta=lambda self: TensorMeta(self.dtype, tuple(self.shape), _current_cuda()))
def cuda(xp, self):
    dev = _current_cuda()
    if not isinstance(self, np.ndarray) and self.device.id == dev.index:
        return self
    from ..device import xp_for
    return transfer(xp_for(dev), self, dev)


def _to_layout_meta(self, dtype=None, layout=None, device=None, pin_memory=None,
                    non_blocking=False, copy=False, memory_format=None):
    return TensorMeta(dtype or self.dtype, tuple(self.shape), device or self.device)


@op("aten::to.dtype_layout(Tensor(a) self, *, ScalarType? dtype=None, Layout? layout=None, "
    "Device? device=None, bool? pin_memory=None, bool non_blocking=False, bool copy=False, "
    "MemoryFormat? memory_format=None) -> Tensor(a)", method=False, function=False,
    meta=_to_layout_meta)
def to_dtype_layout(xp, self, dtype=None, layout=None, device=None, pin_memory=None,
                    non_blocking=False, copy=False, memory_format=None):
    """x.to(dtype=..., device=..., memory_format=...): as PyTorch, self itself when nothing
    changes and the format is preserve_format or the one suggest_memory_format reads from
    self's strides (a transposed matrix .to(memory_format=contiguous_format) stays
    transposed); else a copy, laid out as self (preserve_format) or in the format."""
    fmt = _mf.canonical(memory_format)
    order = None if fmt == _mf.PRESERVE else _mf.format_order(fmt, self.ndim)
    same_dev = device is None or device == device_of_array(self)
    same_dtype = dtype is None or self.dtype == dtype.np
    if same_dev and same_dtype and not copy and (
            order is None or _mf.suggest(self.shape, self.strides) == fmt):
        return self
    a = self if same_dev else transfer(xp, self, device)
    if not same_dtype:
        a = to_dtype(xp, a, dtype)
    if order is not None:
        want = tuple(st * a.itemsize for st in _mf.strides_in(a.shape, order))
        if a is self or tuple(a.strides) != want:
            a = _mf.copy_in(xp, a, order)
    elif a is self:
        a = _mf.keep_strides(xp, _mf.copy_in(xp, a, _mf.order_for(a, _mf.PRESERVE)), self)
    return a


# TorchScript's own overloads (register_prim_ops), the ones a scripted x.to(d) with d
# Optional[Device] or None, or x.to(dt) with dt Optional[dtype], resolves to; dtype is an
# int? there, ScalarType codes (or dtypes) at run time. Tried after the aten ones, as torch.
def _prim_dtype_arg(dtype):
    return None if dtype is None else _dt.scalar_type_arg(dtype)


@op("aten::to.prim_Device(Tensor(a) self, Device? device, int? dtype=None, "
    "bool non_blocking=False, bool copy=False) -> Tensor(a)", method=False, function=False,
    meta=lambda self, device, dtype=None, non_blocking=False, copy=False: TensorMeta(
        _prim_dtype_arg(dtype) or self.dtype, tuple(self.shape), device or self.device))
def to_prim_device(xp, self, device, dtype=None, non_blocking=False, copy=False):
    dtype = _prim_dtype_arg(dtype)
    if device is None:
        return self if dtype is None and not copy else to_dtype(
            xp, self, dtype or _dt.from_numpy_dtype(self.dtype), non_blocking, copy)
    return to_device(xp, self, device, dtype, non_blocking, copy)


@op("aten::to.prim_dtype(Tensor(a) self, int? dtype=None, bool non_blocking=False, "
    "bool copy=False) -> Tensor(a)", method=False, function=False,
    meta=lambda self, dtype=None, non_blocking=False, copy=False: TensorMeta(
        _prim_dtype_arg(dtype) or self.dtype, tuple(self.shape), self.device))
def to_prim_dtype(xp, self, dtype=None, non_blocking=False, copy=False):
    return to_prim_device(xp, self, None, dtype, non_blocking, copy)


@op("aten::to.prim_other(Tensor(a) self, bool non_blocking=False, bool copy=False) -> "
    "Tensor(a)", method=False, function=False,
    meta=lambda self, non_blocking=False, copy=False: TensorMeta(
        self.dtype, tuple(self.shape), self.device))
def to_prim_other(xp, self, non_blocking=False, copy=False):
    return to_prim_device(xp, self, None, None, non_blocking, copy)


@op("aten::clone(Tensor self, *, MemoryFormat? memory_format=None) -> Tensor",
    meta=same_as(0))
def clone(xp, self, memory_format=None):
    # torch.preserve_format: a dense tensor keeps its strides (x.t().clone() is not
    # contiguous), any other the order of its strides (ops/memory_format.py)
    fmt = _mf.canonical(memory_format)
    out = _mf.copy_in(xp, self, _mf.order_for(self, fmt))
    return _mf.keep_strides(xp, out, self) if fmt == _mf.PRESERVE else out


@op("aten::contiguous(Tensor(a) self, *, MemoryFormat memory_format=contiguous_format) "
    "-> Tensor(a)", function=False, meta=same_as(0))
def contiguous(xp, self, memory_format="contiguous_format"):
    fmt = _mf.canonical(memory_format, _mf.CONTIGUOUS)
    if fmt in (_mf.CONTIGUOUS, _mf.PRESERVE) and self.flags.c_contiguous:
        return self
    _mf.check_rank(fmt, self.ndim)
    if _mf.is_contiguous_as(self.shape, self.strides, self.itemsize, fmt):
        return self
    if fmt == _mf.PRESERVE:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return _mf.copy_in(xp, self, _mf.format_order(fmt, self.ndim))


@op("aten::detach(Tensor(a) self) -> Tensor(a)", tags={"view"}, meta=same_as(0))
def detach(xp, self):
    return self.view()


@op("aten::item(Tensor self) -> Scalar", method=False, function=False,
    meta=lambda self: {_dt.BOOL: bool, _dt.INTEGRAL: int, _dt.FLOATING: float}[
        self.dtype.category])
def item(xp, self):
    if self.size != 1:      # (scripted x.item(): the same words as Tensor.item)
        raise RuntimeError(f"a Tensor with {self.size} elements cannot be converted to Scalar")
    return self.reshape(()).item()


@op("aten::copy_(Tensor(a!) self, Tensor src, bool non_blocking=False) -> Tensor(a!)",
    tags={"inplace"}, function=False, cross_device=True, meta=same_as(0))
def copy_(xp, self, src, non_blocking=False):
    if not hasattr(src, "dtype"):
        # a number: the tensor PyTorch's parser wraps it in (int64, float64, bool,
        # complex128), copied with C's casts (uint8 x.copy_(-3) is 253, int8 300 is 44;
        # NumPy's assignment of the Python int raised OverflowError)
        src = np.asarray(src, dtype=np.bool_ if isinstance(src, (bool, np.bool_)) else
                         np.complex128 if isinstance(src, complex) else
                         np.float64 if isinstance(src, float) else np.int64)
        if xp is not np:
            src = xp.asarray(src)
    if type(src) is type(self):
        if _same_data(self, src):
            # ATen's copy_ returns first (is_same / is_same_data): nothing is written, so
            # a self whose elements share memory (expand) is no error; CuPy and NumPy alike
            return self
        # PyTorch's copy_ is a TensorIterator: src sharing part of self's memory
        # (x[1:].copy_(x[:-1])) is refused, the same elements are a no-op
        assert_no_partial_overlap(self, (src,))
    if src.shape != self.shape:
        from .meta import broadcast_shapes
        shape = broadcast_shapes(self.shape, src.shape)
        if shape != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
        src = xp.broadcast_to(src, self.shape)
    if src.dtype != self.dtype and self.dtype == np.bool_:
        src = src != 0
    elif src.dtype.kind == "c" and self.dtype.kind != "c":
        src = discard_imaginary(src)
    if src.dtype.kind == "f" and self.dtype.kind in "iu" and (
            xp is not np or self.dtype == np.uint8):
        # floats into integers as .to() converts them (uint8 through int64; CuPy's
        # saturating cast corrected)
        src = _astype(src, _dt.from_numpy_dtype(self.dtype))
    if xp is np:
        try:
            np.copyto(self, src, casting="unsafe")
        except ValueError:          # a read-only view (expand): torch's rules decide
            np.copyto(writable_target(self, "copy_"), src, casting="unsafe")
    else:
        if has_internal_overlap(self):
            raise internal_overlap_error()
        self[...] = src
    return self


def _same_data(a, b):
    """Whether arrays a and b are the same elements of the same dtype (ATen's
    is_same_data: one storage, offset, sizes and strides)."""
    if a is b:
        return True
    if a.dtype != b.dtype or a.shape != b.shape or a.strides != b.strides:
        return False
    if type(a) is np.ndarray:
        return a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    return a.data.ptr == b.data.ptr and a.device == b.device


def _fill_tensor_meta(self, value):
    # (a number as value: a NumPy scalar given for the Tensor reaches here as the Python
    # number PyTorch's parser reads it as, registry.numpy_number)
    if len(getattr(value, "shape", ())) != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{len(value.shape)} dimensions.")
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::fill_.Tensor(Tensor(a!) self, Tensor value) -> Tensor(a!)", tags={"inplace"},
    function=False, meta=_fill_tensor_meta)
def fill_tensor_(xp, self, value):
    """self.fill_(v) with a 0-dim tensor v (`x[...] = v` of a 0-dim v): differentiable in
    v (each element of self is v). A self whose elements share memory is refused, as
    PyTorch's (fill_ of a number writes it)."""
    _fill_tensor_meta(self, value)
    self.fill(value.astype(self.dtype)[()] if hasattr(value, "astype") else value)
    return self


@op("aten::fill_.Scalar(Tensor(a!) self, Scalar value) -> Tensor(a!)", tags={"inplace"},
    function=False, meta=same_as(0))
def fill_(xp, self, value):
    from .shape_index import cast_scalar     # wraps like PyTorch (uint8 fill -1 -> 255)
    _fill_target(xp, self, "fill_").fill(cast_scalar(value, self.dtype))
    return self


def _fill_target(xp, a, what):
    """fill_ and zero_ write an expanded tensor's memory (PyTorch does: every element gets
    the same value)."""
    return a if xp is not np or a.flags.writeable else writable_target(a, what, True)


@op("aten::zero_(Tensor(a!) self) -> Tensor(a!)", tags={"inplace"}, function=False,
    meta=same_as(0))
def zero_(xp, self):
    _fill_target(xp, self, "zero_").fill(0)
    return self


# aten::_cast_Float(x) ...: x.to(float32) (self when it has that dtype already), as
# PyTorch's legacy casts; torch._cast_Float and torch.ops.aten._cast_Float call them
_CASTS = {"Byte": _dt.uint8, "Char": _dt.int8, "Double": _dt.float64, "Float": _dt.float32,
          "Half": _dt.float16, "Int": _dt.int32, "Long": _dt.int64, "Short": _dt.int16}


def _declare_cast(suffix, dtype):
    def meta(self, non_blocking=False):
        return TensorMeta(dtype, tuple(self.shape), self.device)

    def impl(xp, self, non_blocking=False):
        return to_dtype(xp, self, dtype)
    impl.__name__ = f"_cast_{suffix}"
    impl.__doc__ = f"x as {dtype} (x itself when it is {dtype} already)."
    return op(f"aten::_cast_{suffix}(Tensor self, bool non_blocking=False) -> Tensor",
              method=False, meta=meta)(impl)


CASTS = [_declare_cast(k, v) for k, v in _CASTS.items()]
for _c, _d in zip(CASTS, _CASTS.values()):
    # recording gradients: x.to(dtype), torch's composite (ToCopyBackward0; x itself, no
    # node, when it has that dtype)
    _c.op.composite = (lambda d: lambda self, non_blocking=False:
                       self.to(d, non_blocking=non_blocking))(_d)


# The casts the script compiler's autocast pass (gpujit/amp/jit_pass.py) puts in front of
# the ops of an autocast region, as TorchScript's: they decide by the tensor at run time
# (its dtype and device), so a 'cuda' region leaves CPU tensors alone.
def _autocast_target(self, cuda_enabled, cpu_enabled, to, src):
    dev_type = self.device.type
    on = cuda_enabled if dev_type == "cuda" else cpu_enabled if dev_type == "cpu" else False
    return to(dev_type) if on and self.dtype in src else None


def _reduced_meta(self, cuda_enabled, cpu_enabled, cuda_dtype, cpu_dtype):
    to = _autocast_target(self, cuda_enabled, cpu_enabled,
                          lambda d: cuda_dtype if d == "cuda" else cpu_dtype, (_dt.float32,))
    return TensorMeta(to or self.dtype, tuple(self.shape), self.device)


def _full_meta(self, cuda_enabled, cpu_enabled):
    to = _autocast_target(self, cuda_enabled, cpu_enabled, lambda d: _dt.float32,
                          (_dt.float16,))
    return TensorMeta(to or self.dtype, tuple(self.shape), self.device)


def _array_dtype_device(a):
    return _dt.from_numpy_dtype(a.dtype), ("cpu" if isinstance(a, np.ndarray) else "cuda")


@op("aten::_autocast_to_reduced_precision(Tensor(a) self, bool cuda_enabled, "
    "bool cpu_enabled, ScalarType cuda_dtype, ScalarType cpu_dtype) -> Tensor(a)",
    method=True, meta=_reduced_meta)
def _autocast_to_reduced_precision(xp, self, cuda_enabled, cpu_enabled, cuda_dtype,
                                   cpu_dtype):
    """self as its region's dtype when it is a float32 tensor on a device whose autocast
    the region enables; else self."""
    dtype, dev = _array_dtype_device(self)
    on = cuda_enabled if dev == "cuda" else cpu_enabled
    if not on or dtype is not _dt.float32:
        return self
    return to_dtype(xp, self, cuda_dtype if dev == "cuda" else cpu_dtype)


@op("aten::_autocast_to_full_precision(Tensor(a) self, bool cuda_enabled, "
    "bool cpu_enabled) -> Tensor(a)", method=True, meta=_full_meta)
def _autocast_to_full_precision(xp, self, cuda_enabled, cpu_enabled):
    """self as float32 when it is a float16 tensor on a device whose autocast the region
    enables; else self."""
    dtype, dev = _array_dtype_device(self)
    on = cuda_enabled if dev == "cuda" else cpu_enabled
    if not on or dtype is not _dt.float16:
        return self
    return to_dtype(xp, self, _dt.float32)

# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd)
from .registry import derivative as _derivative  # noqa: E402
from .registry import nondifferentiable as _nondifferentiable  # noqa: E402

_nondifferentiable(detach, reason="detach() returns a tensor cut from the graph")


@_derivative(to_dtype, clone, contiguous, _autocast_to_reduced_precision,
             _autocast_to_full_precision, *CASTS)
def _identity_grad(grad):
    return grad                 # autograd casts the gradient back to the input's dtype


@_derivative(type_as, wrt=("self",))
def _type_as_grad(grad):
    return grad                 # autograd casts the gradient back to the input's dtype


@_derivative(to_device, to_other, to_dtype_layout, to_prim_device, to_prim_dtype,
             to_prim_other, cpu, cuda, wrt=("self",))
def _to_device_grad(grad, self):
    return grad if grad.device == self.device else grad.to(self.device)


@_derivative(copy_)
def _copy_grad(grad, src_device):
    """self's old values are all overwritten: no gradient; src's is the gradient, summed
    back over broadcasting (by autograd) and moved back to src's device (all it reads of
    src, as PyTorch's CopyBackwards: src is not saved, so writing it later is no error)."""
    import gpujit
    if src_device is not None and grad.device != src_device:
        return gpujit.zeros_like(grad), grad.to(src_device)
    return gpujit.zeros_like(grad), grad


@_derivative(fill_, zero_)
def _overwrite_grad(grad):
    import gpujit
    return gpujit.zeros_like(grad)      # every value of self is replaced by a constant


@_derivative(fill_tensor_)
def _fill_tensor_grad(grad):
    import gpujit
    return gpujit.zeros_like(grad), grad.sum()
