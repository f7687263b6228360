"""dtype and device conversion, copies, and reading values out of tensors."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, require_cupy
from .meta import TensorMeta, same_as
from .registry import op, has_internal_overlap, internal_overlap_error, writable_target


def transfer(xp, a, dst):
    """Move array a to device dst (xp is dst's namespace). A dense array (no gaps, no
    overlaps) keeps its strides, as PyTorch's .to(device) (preserve_format): x.t().cuda()
    is still transposed; any other array arrives C-contiguous."""
    if dst is _cpu:
        return _keep_layout(a, lambda c: c.get()) if not isinstance(a, np.ndarray) else a
    cp = require_cupy()
    with cp.cuda.Device(dst.index):
        if isinstance(a, np.ndarray):
            return _keep_layout(a, cp.asarray)
        return cp.asarray(a)


def _keep_layout(a, move):
    """move(a), a copy of array a to another device, in a's memory order when a is dense."""
    if a.ndim < 2 or a.flags.c_contiguous:
        return move(a)
    order = sorted(range(a.ndim), key=lambda d: -a.strides[d])   # outermost dim first
    t = a.transpose(order)
    if not t.flags.c_contiguous:        # gaps, overlaps or negative strides
        return move(a)
    back = [0] * a.ndim
    for i, d in enumerate(order):
        back[d] = i
    return move(t).transpose(back)


def _to_dtype_meta(self, dtype, non_blocking=False, copy=False):
    return TensorMeta(dtype, tuple(self.shape), self.device)


@op("aten::to.dtype(Tensor(a) self, ScalarType dtype, bool non_blocking=False, "
    "bool copy=False) -> Tensor(a)", tags={"pointwise"}, operands=(), method=False,
    function=False, meta=_to_dtype_meta, scalar="cast_{dtype}({self})")
def to_dtype(xp, self, dtype, non_blocking=False, copy=False):
    if self.dtype == dtype.np and not copy:
        return self
    if dtype is _dt.bool:
        return self != 0
    return _astype(self, dtype)


def _astype(a, dtype):
    """a as dtype; float64 -> float16 through float32, as PyTorch (and the fused kernels)
    convert: one rounding less would differ where the float32 rounding decides a tie."""
    if dtype is _dt.float16 and a.dtype == np.float64:
        a = a.astype(np.float32)
    if (a.dtype.kind == "f" and dtype.category == _dt.INTEGRAL and _dt.HOST_X86_CONVERSIONS
            and not isinstance(a, np.ndarray)):
        return _float_to_int_as_host(a, dtype)
    return a.astype(dtype.np, order=_copy_order(a))


def _copy_order(a):
    """The layout of a copy of `a` as PyTorch makes it: a's own ('K') when a is dense, C
    order when a repeats elements through a stride-0 dim (NumPy's 'K' then gives odd
    layouts: an expand of a row came out transposed)."""
    st = a.strides
    if 0 not in st or not any(s == 0 and n > 1 for n, s in zip(a.shape, st)):
        return "K"
    return "C"


def _float_to_int_as_host(a, dtype):
    """CuPy array a (floats) as integer dtype the way this host's NumPy converts
    (dtypes.HOST_X86_CONVERSIONS): CuPy's astype saturates (-1.5 -> uint8 is 0 on the GPU,
    255 on the CPU and in PyTorch on either device)."""
    import cupy
    wide, lo, hi, indefinite = _dt.x86_conversion_range(dtype.np)
    fits = (a > lo) & (a < hi)                  # False for nan
    return cupy.where(fits, a.astype(wide), wide(indefinite)).astype(dtype.np)


def _to_device_meta(self, device, dtype=None, non_blocking=False, copy=False):
    return TensorMeta(dtype or self.dtype, tuple(self.shape), device)


@op("aten::to.device(Tensor(a) self, Device device, ScalarType? dtype=None, "
    "bool non_blocking=False, bool copy=False) -> Tensor(a)", method=False, function=False,
    meta=_to_device_meta)
def to_device(xp, self, device, dtype=None, non_blocking=False, copy=False):
    a = transfer(xp, self, device)
    if dtype is not None and a.dtype != dtype.np:
        a = _astype(a, dtype)
    elif copy and a is self:
        a = a.copy()
    return a


@op("aten::clone(Tensor self, *, MemoryFormat? memory_format=None) -> Tensor",
    meta=same_as(0))
def clone(xp, self, memory_format=None):
    # torch.preserve_format: a dense tensor keeps its strides (x.t().clone() is not contiguous)
    if memory_format == "contiguous_format":
        return xp.array(self, copy=True, order="C")
    return self.copy(order=_copy_order(self))


@op("aten::contiguous(Tensor(a) self, *, MemoryFormat memory_format=contiguous_format) "
    "-> Tensor(a)", function=False, meta=same_as(0))
def contiguous(xp, self, memory_format="contiguous_format"):
    return self if self.flags.c_contiguous else xp.ascontiguousarray(self)


@op("aten::detach(Tensor(a) self) -> Tensor(a)", tags={"view"}, meta=same_as(0))
def detach(xp, self):
    return self.view()


@op("aten::item(Tensor self) -> Scalar", method=False, function=False,
    meta=lambda self: {_dt.BOOL: bool, _dt.INTEGRAL: int, _dt.FLOATING: float}[
        self.dtype.category])
def item(xp, self):
    return self.reshape(()).item()


@op("aten::copy_(Tensor(a!) self, Tensor src, bool non_blocking=False) -> Tensor(a!)",
    tags={"inplace"}, function=False, cross_device=True, meta=same_as(0))
def copy_(xp, self, src, non_blocking=False):
    if not hasattr(src, "dtype"):
        self[...] = src
        return self
    if src.shape != self.shape:
        from .meta import broadcast_shapes
        shape = broadcast_shapes(self.shape, src.shape)
        if shape != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
        src = xp.broadcast_to(src, self.shape)
    if src.dtype != self.dtype and self.dtype == np.bool_:
        src = src != 0
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


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd)
from .registry import derivative as _derivative  # noqa: E402
from .registry import nondifferentiable as _nondifferentiable  # noqa: E402

_nondifferentiable(detach, reason="detach() returns a tensor cut from the graph")


@_derivative(to_dtype, clone, contiguous)
def _identity_grad(grad):
    return grad                 # autograd casts the gradient back to the input's dtype


@_derivative(to_device, wrt=("self",))
def _to_device_grad(grad, self):
    return grad if grad.device == self.device else grad.to(self.device)


@_derivative(copy_)
def _copy_grad(grad, src):
    """self's old values are all overwritten: no gradient; src's is the gradient, summed
    back over broadcasting (by autograd) and moved back to src's device."""
    import gpujit
    from ..tensor import Tensor
    if isinstance(src, Tensor) and grad.device != src.device:
        return gpujit.zeros_like(grad), grad.to(src.device)
    return gpujit.zeros_like(grad), grad


@_derivative(fill_, zero_)
def _overwrite_grad(grad):
    import gpujit
    return gpujit.zeros_like(grad)      # every value of self is replaced by a constant
