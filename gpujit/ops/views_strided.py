"""Transposing views (`x.T`, `x.mT`, `x.H`, `x.mH`, `adjoint`) and `as_strided`.

`as_strided` reads its strides and storage offset relative to the tensor's storage (the
array that owns the memory), as PyTorch does, and returns a view of that storage. gpujit
has no conjugate bit, so the conjugating transposes (`H`, `mH`, `adjoint`) of a complex
tensor are new tensors (of a real one, views).
"""
from __future__ import annotations

import sys

from .meta import TensorMeta
from .registry import op

_VIEW = {"view"}


def _reversed_meta(self):
    return TensorMeta(self.dtype, tuple(reversed(self.shape)), self.device)


@op("aten::numpy_T(Tensor(a) self) -> Tensor(a)", tags=_VIEW, method=False, function=False,
    meta=_reversed_meta)
def numpy_T(xp, self):
    """`x.T`: all dimensions reversed."""
    return self.transpose()


_ZERO_D = {"mT": "Tensor.mT is deprecated on 0-D tensors. This function is the identity in "
                  "these cases.",
           "mH": "Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().",
           "H": "Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
           "adjoint": "adjoint() is deprecated on 0-D tensors. Consider using x.conj()."}


def _matrix_check(nd, what, batched=True, warn=True):
    """True for a 0-dim tensor: PyTorch still takes it (the identity; mH / H / adjoint of
    a complex one conjugate), with its deprecation warning."""
    if nd == 0:
        if warn:
            import warnings
            warnings.warn(_ZERO_D[what], UserWarning, stacklevel=3)
        return True
    if batched and nd < 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices or batches of "
                           f"matrices. Got {nd}-D tensor.")
    if not batched and nd != 2:
        raise RuntimeError(f"tensor.{what} is only supported on matrices (2-D tensors). Got "
                           f"{nd}-D tensor." + (" For batches of matrices, consider using "
                                                "tensor.mH" if nd > 2 else ""))
    return False


def _swap_last(shape):
    return tuple(shape[:-2]) + (shape[-1], shape[-2])


def _mt_meta(what, batched=True):
    def meta(self):
        if _matrix_check(len(self.shape), what, batched, warn=False):
            return TensorMeta(self.dtype, (), self.device)
        return TensorMeta(self.dtype, _swap_last(self.shape), self.device)
    return meta


def _swap(xp, a):
    return xp.swapaxes(a, -1, -2)


def _swap_conj(xp, a):
    """The conjugate transpose: of a complex tensor a new tensor (gpujit has no conjugate
    bit: ops/complex_parts.py), of a real one the transposing view."""
    return xp.conj(_swap(xp, a)) if a.dtype.kind == "c" else _swap(xp, a)


@op("aten::mT(Tensor(a) self) -> Tensor(a)", tags=_VIEW | {"returns_input"}, method=False,
    function=False, meta=_mt_meta("mT"))
def mT(xp, self):
    if _matrix_check(self.ndim, "mT"):
        return self     # (0-dim: PyTorch hands back self itself, after its warning)
    return _swap(xp, self)


@op("aten::mH(Tensor(a) self) -> Tensor(a)", tags=_VIEW | {"returns_input"}, method=False,
    function=False, meta=_mt_meta("mH"))
def mH(xp, self):
    if _matrix_check(self.ndim, "mH"):
        # (0-dim: PyTorch hands back self itself, after its warning; a complex one's conj)
        return xp.conj(self) if self.dtype.kind == "c" else self
    return _swap_conj(xp, self)


@op("aten::matrix_H(Tensor(a) self) -> Tensor(a)", tags=_VIEW | {"returns_input"}, method=False,
    function=False, meta=_mt_meta("H", batched=False))
def matrix_H(xp, self):
    if _matrix_check(self.ndim, "H", batched=False):
        # (0-dim: PyTorch hands back self itself, after its warning; a complex one's conj)
        return xp.conj(self) if self.dtype.kind == "c" else self
    return _swap_conj(xp, self)


@op("aten::adjoint(Tensor(a) self) -> Tensor(a)", tags=_VIEW | {"returns_input"},
    meta=_mt_meta("adjoint"))
def adjoint(xp, self):
    if _matrix_check(self.ndim, "adjoint"):
        # (0-dim: PyTorch hands back self itself, after its warning; a complex one's conj)
        return xp.conj(self) if self.dtype.kind == "c" else self
    return _swap_conj(xp, self)


# ------------------------------------------------------------------ as_strided
def storage_of(a):
    """(a 1-D view of the storage array a lies in, as a's dtype; a's offset in it, in
    elements). The storage is the array that owns the memory (NumPy/CuPy `base`)."""
    import numpy as np
    root = a
    while True:
        b = getattr(root, "base", None)
        if type(b) is not type(a):
            # np.lib.stride_tricks.as_strided's result (gpujit.load rebuilds tensors so)
            # has a DummyArray base whose own base is the array it views
            b = getattr(b, "base", None) if b is not None else None
            if type(b) is not type(a):
                break
        root = b
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        spread = _memory_of(root)
        root = spread if spread is not None else \
            a if (a.flags.c_contiguous or a.flags.f_contiguous) else a.copy()
    flat = root.reshape(-1, order="A")
    if flat.dtype != a.dtype:                # a reinterpreting view (x.view(dtype))
        nbytes = flat.size * flat.dtype.itemsize
        flat = flat.view("u1")[:nbytes - nbytes % a.dtype.itemsize].view(a.dtype)
    if isinstance(a, np.ndarray):
        off = a.__array_interface__["data"][0] - flat.__array_interface__["data"][0]
    else:
        off = a.data.ptr - flat.data.ptr
    return flat, off // a.dtype.itemsize


def _memory_of(root):
    """A 1-D view of the memory an array that owns it spans, where it is neither C nor F
    contiguous (a channels_last allocation: strides (HWC, 1, WC, C)); None where it cannot
    be viewed so (negative strides). (A copy would be other memory: storage offsets and
    sharing lost, torch.save's file unreadable.)"""
    isz = root.dtype.itemsize
    if any(s < 0 or s % isz for s in root.strides):
        return None
    n = 0 if 0 in root.shape else \
        1 + sum((k - 1) * s for k, s in zip(root.shape, root.strides)) // isz
    xp = sys.modules.get(type(root).__module__.split(".")[0])
    if xp is None or xp.__name__ not in ("numpy", "cupy"):
        return None
    return xp.lib.stride_tricks.as_strided(root, shape=(n,), strides=(isz,))


def _as_strided_meta(self, size, stride, storage_offset=None):
    _check_geometry(size, stride, storage_offset)
    return TensorMeta(self.dtype, tuple(int(s) for s in size), self.device)


def _check_geometry(size, stride, storage_offset):
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                           f"got strides: {list(stride)}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"as_strided: negative size in {list(size)}")
    if storage_offset is not None and storage_offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")


@op("aten::as_strided(Tensor(a) self, SymInt[] size, SymInt[] stride, "
    "SymInt? storage_offset=None) -> Tensor(a)", tags=_VIEW, meta=_as_strided_meta)
def as_strided(xp, self, size, stride, storage_offset=None):
    """A view of self's storage with the given sizes and strides (in elements), starting
    storage_offset elements into the storage (default: where self starts)."""
    size, stride = [int(s) for s in size], [int(s) for s in stride]
    _check_geometry(size, stride, storage_offset)
    flat, own = storage_of(self)
    off = own if storage_offset is None else int(storage_offset)
    isz = self.dtype.itemsize
    if all(size):
        need = off + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if need > flat.size:
            raise RuntimeError(
                f"setStorage: sizes {size}, strides {stride}, storage offset {off}, and "
                f"itemsize {isz} requiring a storage size of {need * isz} are out of "
                f"bounds for storage of size {flat.size * isz}")
    start = flat[min(off, flat.size):]
    return xp.lib.stride_tricks.as_strided(start, shape=tuple(size),
                                           strides=tuple(s * isz for s in stride))


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative  # noqa: E402


@_derivative(numpy_T)
def _numpy_t_grad(grad):
    return grad.permute(list(range(grad.dim() - 1, -1, -1)))


@_derivative(mT, mH, adjoint, matrix_H)
def _mt_grad(grad):
    return grad if grad.dim() == 0 else grad.transpose(-2, -1)     # (0-dim: the identity)


# self's geometry, taken before the op (as_strided_ restrides self), not self: PyTorch
# keeps a TensorGeometry, so a write into the input after the op is no error
@_derivative(as_strided, computes={
    "geometry": lambda self: (list(self.shape), list(self.stride()), self.storage_offset())})
def _as_strided_grad(grad, geometry, size, stride, storage_offset):
    """Scatter grad to the storage positions the view read, then gather self's positions
    (as PyTorch's as_strided_backward for an input that does not overlap itself)."""
    import gpujit
    shape, strides, own_off = geometry
    off = own_off if storage_offset is None else storage_offset
    out_pos = _positions(size, stride, off, grad.device)
    in_pos = _positions(shape, strides, own_off, grad.device)
    n = 1 + max(int(out_pos.max().item()) if out_pos.numel() else 0,
                int(in_pos.max().item()) if in_pos.numel() else 0)
    store = gpujit.zeros(n, dtype=grad.dtype, device=grad.device)
    store = store.index_add(0, out_pos, grad.reshape(-1))
    return store.index_select(0, in_pos).reshape(shape)


def _positions(size, stride, offset, device):
    """The storage index of every element of a (size, stride, offset) view, flattened."""
    import gpujit
    pos = gpujit.full([1] * len(size) or [1], offset, dtype=gpujit.int64, device=device)
    for d, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        pos = pos + (gpujit.arange(n, device=device) * s).reshape(shape)
    return pos.reshape(-1) if size else pos.reshape(1)
