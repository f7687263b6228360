"""torch.hash_tensor (PyTorch 2.9+): a uint64 hash of a tensor's elements, whole or along
dims: each element widened to its 64-bit kind (a floating one to float64, a signed integer
to int64, uint8 and bool to their value), its bits read as uint64, and those xor-reduced
(mode 0, the only one PyTorch has). Its CPU kernel is "xor_sum_cpu", which refuses complex
tensors and the limited-support unsigned types (ops/unsigned_support.py)."""
from __future__ import annotations

import numpy as np

from .meta import TensorMeta, reduce_shape
from .out_dtypes import _RULES
from .reduction import _axes
from .registry import op

__all__ = ["hash_tensor"]

_U64 = np.dtype(np.uint64)


def _hash_meta(self, dim=(), keepdim=False, mode=0):
    from .. import dtypes as _dt
    return TensorMeta(_dt.uint64, reduce_shape(tuple(self.shape), dim, keepdim), self.device)


def _bits64(xp, a):
    """The elements of a as uint64: a float's float64 bits, a signed int sign-extended."""
    k = a.dtype.kind
    if k in "fi":       # (a view of the same item size: any layout, 0-dim included)
        return a.astype(np.float64 if k == "f" else np.int64, copy=False).view(_U64)
    return a.astype(_U64)


def _xor_axis(xp, m, axis):
    """m xor-reduced along axis (not empty), in log2(n) halving steps (CuPy has no
    bitwise_xor.reduce)."""
    m = xp.moveaxis(m, axis, -1)
    while m.shape[-1] > 1:
        n = m.shape[-1]
        h = n // 2
        r = m[..., :h] ^ m[..., h:2 * h]
        m = xp.concatenate([r, m[..., 2 * h:]], axis=-1) if n % 2 else r
    return m[..., 0]


@op("aten::hash_tensor(Tensor self, int[1] dim=[], *, bool keepdim=False, int mode=0) -> "
    "Tensor", tags={"reduction"}, meta=_hash_meta)
def hash_tensor(xp, self, dim=(), keepdim=False, mode=0):
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    axes = _axes(dim, self.ndim)
    _check_nonempty(self, axes)
    axes = tuple(range(self.ndim)) if axes is None else axes
    m = _bits64(xp, self)
    if m.ndim == 0:
        return m.copy()
    for ax in sorted(axes, reverse=True):
        m = _xor_axis(xp, m, ax)
    if keepdim:
        m = xp.reshape(m, tuple(1 if i in axes else n for i, n in enumerate(self.shape)))
    return m


def _check_nonempty(a, axes):
    """xor_sum has no identity: PyTorch's errors for an empty reduction."""
    if a.size:
        return
    if axes is None:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' "
                           "argument.")
    for d in axes:
        if a.shape[d] == 0:
            raise IndexError(f"hash_tensor: Expected reduction dim {d} to have non-zero size.")


def _out_rule(name, inputs, r, o):
    """hash_tensor(..., out=) takes a uint64 out only (its structured kernel's check)."""
    if o.dtype is not r.dtype:
        return RuntimeError, (f"Expected result to be of dtype {r.dtype.name}, but got "
                              f"{o.dtype.short_name}")


_RULES["hash_tensor"] = _out_rule
