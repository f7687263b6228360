"""Matrix-shaped ops: diagonals (diag, diagonal, diag_embed, diagflat, fill_diagonal_,
diagonal_backward), triangle indices (tril_indices, triu_indices), rot90, vander, and the
in-place view ops (t_, transpose_, squeeze_, unsqueeze_) that restride a tensor without
touching its elements, and resize_ / resize_as_ (a new array when the element count or
layout changes); with their derivatives. Products of matrices (kron, tensordot,
cdist, addmv, addr, chain_matmul) are in matrix_products.py, grids (meshgrid,
cartesian_prod, block_diag) in matrix_grids.py.

`diagonal` is a view, as in PyTorch: writes through it reach the input (a strided view of
the input's memory, from `as_strided`). The in-place view ops are tagged `inplace_view`
(PyTorch's tag): their impl returns self's new view, which becomes self's data.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, wrap_dim, int_list
from .registry import op, OPS
from .views import _squeeze_shape, _unsqueeze_shape, _unsqueezed, _transpose_meta
from ..device import cpu as _cpu
from .registry import derivative as _derivative, nondifferentiable as _nondiff

PUBLIC = {}

_VIEW = {"view"}
_SHAPE = {"shape"}
_IPV = {"inplace", "inplace_view"}


def _dtn(npdt):
    return _dt._FROM_NP[np.dtype(npdt)]


def _promote_all(dtypes):
    out = None
    for d in dtypes:
        out = d if out is None else _dt.promote_types(out, d)
    return out


def _strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=tuple(shape), strides=tuple(strides))


# ------------------------------------------------------------------ diagonal

def _diagonal_dims(nd, offset, dim1, dim2):
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def _diag_len(n1, n2, offset):
    if offset >= 0:
        return max(min(n1, n2 - offset), 0)
    return max(min(n1 + offset, n2), 0)


def _diagonal_shape(shape, offset, dim1, dim2):
    d1, d2 = _diagonal_dims(len(shape), offset, dim1, dim2)
    rest = tuple(s for i, s in enumerate(shape) if i not in (d1, d2))
    return rest + (_diag_len(shape[d1], shape[d2], offset),)


@op("aten::diagonal(Tensor(a) self, int offset=0, int dim1=0, int dim2=1) -> Tensor(a)",
    tags=_VIEW, meta=lambda self, offset=0, dim1=0, dim2=1: TensorMeta(
        self.dtype, _diagonal_shape(tuple(self.shape), offset, dim1, dim2), self.device))
def diagonal(xp, self, offset=0, dim1=0, dim2=1):
    """A view: the elements self[..., i, ..., i + offset, ...] over dims dim1, dim2 (which
    go away), the diagonal index last."""
    d1, d2 = _diagonal_dims(self.ndim, offset, dim1, dim2)
    n = _diag_len(self.shape[d1], self.shape[d2], offset)
    idx = [slice(None)] * self.ndim
    if n:
        if offset >= 0:
            idx[d2] = slice(offset, None)
        else:
            idx[d1] = slice(-offset, None)
    else:
        idx[d1] = slice(0, 0)
    start = self[tuple(idx)]
    keep = [i for i in range(self.ndim) if i not in (d1, d2)]
    shape = [self.shape[i] for i in keep] + [n]
    strides = [start.strides[i] for i in keep] + [start.strides[d1] + start.strides[d2]]
    return _strided(xp, start, shape, strides)


def _diag_embed_shape(shape, offset, dim1, dim2):
    nd = len(shape) + 1
    d1, d2 = _diagonal_dims(nd, offset, dim1, dim2)
    n = (shape[-1] if shape else 1) + abs(offset)
    rest = iter(shape[:-1])
    return tuple(n if i in (d1, d2) else next(rest) for i in range(nd))


def _embed(xp, src, shape, offset, dim1, dim2):
    out = xp.zeros(shape, src.dtype)
    diagonal(xp, out, offset, dim1, dim2)[...] = src
    return out


@op("aten::diag_embed(Tensor self, int offset=0, int dim1=-2, int dim2=-1) -> Tensor",
    tags=_SHAPE, meta=lambda self, offset=0, dim1=-2, dim2=-1: TensorMeta(
        self.dtype, _diag_embed_shape(tuple(self.shape), offset, dim1, dim2), self.device))
def diag_embed(xp, self, offset=0, dim1=-2, dim2=-1):
    shape = _diag_embed_shape(self.shape, offset, dim1, dim2)
    return _embed(xp, self if self.ndim else self.reshape(1), shape, offset, dim1, dim2)


@op("aten::diagonal_backward(Tensor grad_output, SymInt[] input_sizes, int offset, int dim1, "
    "int dim2) -> Tensor", tags=_SHAPE, method=False, function=False,
    meta=lambda grad_output, input_sizes, offset, dim1, dim2: TensorMeta(
        grad_output.dtype, tuple(input_sizes), grad_output.device))
def diagonal_backward(xp, grad_output, input_sizes, offset, dim1, dim2):
    """Zeros of input_sizes with grad_output on the diagonal (diagonal's backward)."""
    return _embed(xp, grad_output, tuple(int(s) for s in input_sizes), offset, dim1, dim2)


def _diag_check(nd):
    if nd not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def _diag_shape(shape, diagonal):
    _diag_check(len(shape))
    if len(shape) == 1:
        n = shape[0] + abs(diagonal)
        return (n, n)
    return (_diag_len(shape[0], shape[1], diagonal),)


@op("aten::diag(Tensor self, int diagonal=0) -> Tensor", tags=_SHAPE,
    meta=lambda self, diagonal=0: TensorMeta(self.dtype, _diag_shape(tuple(self.shape),
                                                                      diagonal), self.device))
def diag(xp, self, diagonal=0):
    """A 1-D input as the diagonal `diagonal` of a square matrix; a 2-D input's diagonal
    `diagonal` (a copy)."""
    shape = _diag_shape(self.shape, diagonal)
    if self.ndim == 1:
        return _embed(xp, self, shape, diagonal, 0, 1)
    return globals()["diagonal"](xp, self, diagonal, 0, 1).copy()


@op("aten::diagflat(Tensor self, int offset=0) -> Tensor", tags=_SHAPE,
    meta=lambda self, offset=0: TensorMeta(self.dtype, (int(np.prod(self.shape, dtype=np.int64))
                                                        + abs(offset),) * 2, self.device))
def diagflat(xp, self, offset=0):
    flat = self.reshape(-1)
    n = flat.size + abs(offset)
    return _embed(xp, flat, (n, n), offset, 0, 1)


def _fill_diagonal_check(shape):
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and any(s != shape[0] for s in shape):
        raise RuntimeError("all dimensions of input must be of equal length")


def _fill_diagonal_index(xp, shape, wrap):
    if len(shape) == 2:
        h, w = shape
        if wrap and h > w + 1:
            p = xp.arange(0, h * w, w + 1)
            return (p // w, p % w)
        k = xp.arange(min(h, w))
        return (k, k)
    k = xp.arange(shape[0])
    return (k,) * len(shape)


@op("aten::fill_diagonal_(Tensor(a!) self, Scalar fill_value, bool wrap=False) -> Tensor(a!)",
    tags={"inplace"}, function=False,
    meta=lambda self, fill_value, wrap=False: (_fill_diagonal_check(tuple(self.shape)),
                                               TensorMeta(self.dtype, tuple(self.shape),
                                                          self.device))[1])
def fill_diagonal_(xp, self, fill_value, wrap=False):
    """The main diagonal (all dims equal for more than 2 dims) set to fill_value; wrap: a
    tall matrix's diagonal starts again every (columns + 1) rows (N-D: no wrapping)."""
    _fill_diagonal_check(self.shape)
    self[_fill_diagonal_index(xp, self.shape, wrap)] = fill_value
    return self


# ------------------------------------------------------------------ triangle indices

def _tri_count_check(name, row, col, dtype):
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dt = _dt.to_dtype(dtype) if dtype is not None else _dt.int64
    if dt not in (_dt.int64, _dt.int32):
        raise NotImplementedError(f"\"{name}\" not implemented for '{dt.short_name}'")
    return dt


def _tri_indices(name):
    lower = name == "tril_indices"

    def count(row, col, offset):
        # (row, col) pairs with col - row <= offset (lower) or >= offset (upper)
        n = 0
        for r in range(row):
            if lower:
                n += max(0, min(col, r + offset + 1))
            else:
                n += max(0, col - max(0, r + offset))
        return n

    def meta(row, col, offset=0, dtype="long", layout=None, device=None, pin_memory=None):
        dt = _tri_count_check(name, row, col, dtype)
        return TensorMeta(dt, (2, count(row, col, offset)), device or _cpu)

    @op(f"aten::{name}(int row, int col, int offset=0, *, ScalarType? dtype=long, "
        f"Layout? layout=None, Device? device=None, bool? pin_memory=None) -> Tensor",
        tags={"factory"}, method=False, meta=meta)
    def impl(xp, row, col, offset=0, dtype="long", layout=None, device=None,
             pin_memory=None):
        dt = _tri_count_check(name, row, col, dtype)
        fn = xp.tril_indices if lower else xp.triu_indices
        r, c = fn(row, offset, col)
        # (one (2, n) buffer filled: stack then astype copied the 2n indices twice more,
        # ~4 s of triu_indices(5000, 5000)'s 12.5M pairs)
        out = xp.empty((2, r.size), dt.np)
        out[0] = r
        out[1] = c
        return out
    impl.__name__ = name
    return impl


tril_indices = _tri_indices("tril_indices")
triu_indices = _tri_indices("triu_indices")


# ------------------------------------------------------------------ rot90

def _rot90_dims(nd, dims):
    dims = int_list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == nd:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = "
                           f"{dims[0]} and dim1 = {dims[1]}")
    return wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)


def _rot90_meta(self, k=1, dims=(0, 1)):
    d0, d1 = _rot90_dims(len(self.shape), dims)
    s = list(self.shape)
    if k % 2:
        s[d0], s[d1] = s[d1], s[d0]
    return TensorMeta(self.dtype, tuple(s), self.device)


@op("aten::rot90(Tensor self, int k=1, int[] dims=[0,1]) -> Tensor", tags=_SHAPE,
    meta=_rot90_meta)
def rot90(xp, self, k=1, dims=(0, 1)):
    """As PyTorch composes it, whose layout the result keeps: k = 1 is
    flip(self, [d1]).transpose(d0, d1), k = 2 flip(self, [d0, d1]), k = 3
    flip(self, [d0]).transpose(d0, d1) (flip laid out as self), k = 0 a contiguous clone;
    rot90 of a C-contiguous (3, 4) is a (4, 3) with strides (1, 4)."""
    from .shape_order import flip
    d0, d1 = _rot90_dims(self.ndim, dims)
    k %= 4
    if k == 1:
        return xp.swapaxes(flip(xp, self, [d1]), d0, d1)
    if k == 2:
        return flip(xp, self, [d0, d1])
    if k == 3:
        return xp.swapaxes(flip(xp, self, [d0]), d0, d1)
    return self.copy()          # (C order)


# ------------------------------------------------------------------ vander

def _vander_rule(shape, dtype, N):
    if len(shape) != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is None:
        N = shape[0]
    elif N < 0:
        raise RuntimeError("N must be non-negative.")
    dt = dtype if dtype.category == _dt.FLOATING or dtype.cplx else _dt.int64
    return dt, (shape[0], N)


@op("aten::vander(Tensor x, int? N=None, bool increasing=False) -> Tensor", tags=_SHAPE,
    method=False, meta=lambda x, N=None, increasing=False: TensorMeta(
        *_vander_rule(tuple(x.shape), x.dtype, N), x.device))
def vander(xp, x, N=None, increasing=False):
    """Columns x**0, x**1, ... x**(N-1) (decreasing unless increasing), as a cumulative
    product as PyTorch computes it; integer and bool inputs give int64."""
    dt, shape = _vander_rule(x.shape, _dtn(x.dtype), N)
    n, N = shape
    out = xp.ones(shape, dt.np)
    if N > 1:
        # (cumprod's kernel, as PyTorch's: float32 accumulated in float64, complex64 in
        # complex128)
        out[:, 1:] = OPS["aten::cumprod"].impl(xp, xp.broadcast_to(
            x.astype(dt.np)[:, None], (n, N - 1)), 1).astype(dt.np, copy=False)
    if not increasing:
        out = xp.flip(out, 1).copy()
    return out


def _vander_composite(x, N=None, increasing=False):
    """torch.vander recording gradients: PyTorch's, a new tensor of ones whose columns 1:
    are written with x, then with their cumprod (CopySlices -> (CopySlices,
    CumprodBackward0 -> SliceBackward0)), flipped unless increasing (FlipBackward0); N < 2
    or no x: no gradient (nothing of x is written)."""
    dt, shape = _vander_rule(tuple(x.shape), x.dtype, N)
    n = shape[1]
    result = x.new_empty(shape, dtype=dt)
    if n > 0:
        result.fill_(1)
    if n > 1:
        result.narrow(1, 1, n - 1).copy_(x.unsqueeze(1))
        result.narrow(1, 1, n - 1).copy_(result.narrow(1, 1, n - 1).cumprod(1))
    return result if increasing else result.flip([1])


vander.op.composite = _vander_composite


# ------------------------------------------------------------------ in-place views

def _t_check(nd):
    if nd > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {nd}D")


@op("aten::t_(Tensor(a!) self) -> Tensor(a!)", tags=_IPV, function=False,
    meta=lambda self: (_t_check(len(self.shape)), TensorMeta(
        self.dtype, tuple(reversed(self.shape)), self.device))[1])
def t_(xp, self):
    _t_check(self.ndim)
    return self.T


@op("aten::transpose_(Tensor(a!) self, int dim0, int dim1) -> Tensor(a!)", tags=_IPV,
    function=False, meta=_transpose_meta)
def transpose_(xp, self, dim0, dim1):
    if self.ndim == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return self.view()
    return xp.swapaxes(self, wrap_dim(dim0, self.ndim), wrap_dim(dim1, self.ndim))


def _squeeze_meta(self, dim=None):
    return TensorMeta(self.dtype, _squeeze_shape(self.shape, dim), self.device)


@op("aten::squeeze_(Tensor(a!) self) -> Tensor(a!)", tags=_IPV, function=False,
    meta=_squeeze_meta)
def squeeze_(xp, self, dim=None):
    return self.reshape(_squeeze_shape(self.shape, dim))


@op("aten::squeeze_.dim(Tensor(a!) self, int dim) -> Tensor(a!)", tags=_IPV, function=False,
    meta=_squeeze_meta)
def squeeze_dim_(xp, self, dim):
    return self.reshape(_squeeze_shape(self.shape, dim))


@op("aten::squeeze_.dims(Tensor(a!) self, int[] dim) -> Tensor(a!)", tags=_IPV,
    function=False, meta=_squeeze_meta)
def squeeze_dims_(xp, self, dim):
    return self.reshape(_squeeze_shape(self.shape, dim))


@op("aten::unsqueeze_(Tensor(a!) self, int dim) -> Tensor(a!)", tags=_IPV, function=False,
    meta=lambda self, dim: TensorMeta(self.dtype, _unsqueeze_shape(self.shape, dim),
                                      self.device))
def unsqueeze_(xp, self, dim):
    return _unsqueezed(xp, self, dim)


def _resize_meta(self, size, memory_format=None):
    return TensorMeta(self.dtype, _resize_sizes(size), self.device)


def _resize_sizes(size):
    size = tuple(int(n) for n in size)
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    return size


@op("aten::resize_(Tensor(a!) self, SymInt[] size, *, MemoryFormat? memory_format=None) "
    "-> Tensor(a!)", tags=_IPV, function=False, meta=_resize_meta)
def resize_(xp, self, size, memory_format=None):
    """self with the given sizes, contiguous, as torch's: its elements are the memory
    from self's first element on, in memory order (a view of it, written through by
    later writes, while it holds enough elements); past it, new elements are left
    uninitialized."""
    size = _resize_sizes(size)
    if tuple(self.shape) == size:
        return self
    n = 1
    for d in size:
        n *= d
    if self.flags.c_contiguous and n <= self.size:
        return self.reshape(-1)[:n].reshape(size)
    mem = _memory_from(self)
    if mem is not None and n <= mem.size:
        return mem[:n].reshape(size)
    new = xp.empty(size, self.dtype)
    src = mem if mem is not None else self.reshape(-1)
    k = min(n, src.size)
    if k:
        new.reshape(-1)[:k] = src[:k]
    return new


def _memory_from(a):
    """The flat memory from array a's first element to the end of the contiguous array it
    is a view of (what torch's resize_ reinterprets), or None when that is not plain
    (a dtype view, a non-contiguous root, an array type without pointers)."""
    root = a
    while isinstance(root.base, type(a)):
        root = root.base
    try:
        ptr, rptr = _pointer(a), _pointer(root)
    except AttributeError:
        return None
    if root.dtype != a.dtype or not root.flags.c_contiguous:
        return None
    off, rem = divmod(ptr - rptr, a.dtype.itemsize)
    if rem or not 0 <= off <= root.size:
        return None
    return root.reshape(-1)[off:]


def _pointer(a):
    return a.ctypes.data if isinstance(a, np.ndarray) else a.data.ptr


@op("aten::resize_as_(Tensor(a!) self, Tensor the_template, *, "
    "MemoryFormat? memory_format=None) -> Tensor(a!)", tags=_IPV, function=False,
    meta=lambda self, the_template, memory_format=None: TensorMeta(
        self.dtype, tuple(the_template.shape), self.device))
def resize_as_(xp, self, the_template, memory_format=None):
    return resize_(xp, self, the_template.shape)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


def _G():
    import gpujit
    return gpujit


def _diag_back(grad, shape, offset, dim1, dim2):
    return OPS["aten::diagonal_backward"].public(grad, list(shape), offset, dim1, dim2)


@_derivative(diagonal)
def _diagonal_grad(grad, self_shape, offset, dim1, dim2):
    return _diag_back(grad, self_shape, offset, dim1, dim2)


@_derivative(diagonal_backward)
def _diagonal_backward_grad(grad, offset, dim1, dim2):
    return grad.diagonal(offset, dim1, dim2)


@_derivative(diag_embed)
def _diag_embed_grad(grad, self_shape, offset, dim1, dim2):
    return grad.diagonal(offset, dim1, dim2).reshape(self_shape)


@_derivative(diag)
def _diag_grad(grad, self_shape, diagonal):
    if len(self_shape) == 1:
        return grad.diagonal(diagonal)
    return _diag_back(grad, self_shape, diagonal, 0, 1)


@_derivative(diagflat)
def _diagflat_grad(grad, self_shape, offset):
    return grad.diagonal(offset).reshape(self_shape)


@_derivative(fill_diagonal_)
def _fill_diagonal_grad(grad, wrap):
    return grad.clone().fill_diagonal_(0, wrap)


@_derivative(rot90)
def _rot90_grad(grad, k, dims):
    return grad.rot90(-k, dims)


@_derivative(vander)
def _vander_grad(grad, x, result, N, increasing):
    """d x**k / dx = k x**(k-1): column k of the increasing matrix times k, shifted."""
    G = _G()
    n = result.shape[1]
    if n <= 1:
        return G.zeros_like(x)
    res = result if increasing else result.flip([1])
    g = grad if increasing else grad.flip([1])
    k = G.arange(1, n, dtype=res.dtype, device=res.device)
    return (g[:, 1:] * k * res[:, :-1]).sum(1)


@_derivative(t_)
def _t__grad(grad):
    return grad.t()


@_derivative(transpose_)
def _transpose__grad(grad, dim0, dim1):
    return grad.transpose(dim0, dim1)


@_derivative(squeeze_, squeeze_dim_, squeeze_dims_, unsqueeze_)
def _squeeze__grad(grad, self_shape):
    return grad.reshape(self_shape)


_nondiff(tril_indices, triu_indices, reason="integer index tensors made from sizes (a "
         "factory)")
_nondiff(resize_, resize_as_, reason="sizes, not values",
         inplace_error="cannot resize variables that require grad")
from . import fft_ops  # noqa: E402,F401  (torch.fft's real-input c2r transforms)


# (recording gradients: PyTorch's composite, self.contiguous().view(-1).diag(offset):
# DiagEmbedBackward0 -> ViewBackward0)
diagflat.op.composite = lambda self, offset=0: self.contiguous().view(-1).diag(offset)
