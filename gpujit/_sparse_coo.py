"""Sparse COO tensors: what programs that keep a sparse mask or adjacency matrix use
(Whisper's `alignment_heads` buffer, GCN's adjacency): x.to_sparse() / torch.sparse_coo_tensor
/ torch.sparse.FloatTensor(...), the parts (indices(), values(), _nnz(), sparse_dim() ...),
coalesce(), to_dense(), .to() / clone() / detach() / copy_(), t(), sum(), * and / by a
number, the zero-preserving pointwise methods (abs, sqrt, tanh ...), mm of a sparse matrix
by a dense one, repr, pickling and torch.save / torch.load in PyTorch's format. The CPU
numerics are PyTorch's kernels' own (coalesce's and to_dense's summation order, mm's fused
multiply-adds), bit for bit.

A sparse tensor is a SparseCooTensor, a Tensor subclass holding its indices (a 2-D int64
Tensor, sparse_dim x nnz) and values (a Tensor, nnz x dense dims). It has no dense array:
its `_data` is a property that raises PyTorch's NotImplementedError for the sparse backend
("Could not run 'aten::exp' with arguments from the 'SparseCPU' backend"), so every op
without a sparse implementation refuses instead of computing a wrong answer, and the dense
Tensor's fast paths carry no check at all (the op's name is read from the calling frame, on
the error path only). Sparse tensors do not record autograd: one cannot require grad, and
one made from a tensor that requires grad is refused in words (the dense operand of mm
gets its gradient).
"""
from __future__ import annotations

import sys

import numpy as np

from . import dtypes as _dt
from .ops import registry as _registry
from .tensor import Tensor, Size
from .overrides import _disabled_torch_function_impl

__all__ = ["SparseCooTensor", "sparse_coo_tensor", "to_sparse", "rebuild_sparse_tensor"]

_SUPPORTED = ("indices(), values(), _indices(), _values(), _nnz(), sparse_dim(), dense_dim(), "
              "coalesce(), is_coalesced(), to_dense(), to(), clone(), detach(), t(), sum(), "
              "* and / by a number, neg, abs and other zero-preserving pointwise methods, "
              "x.mm() / x.matmul() / x @ / torch.sparse.mm / torch.spmm by a dense matrix")


def _backend(dev):
    return "SparseCUDA" if dev.type == "cuda" else "SparseCPU"


def _refusal(frame, dev):
    """The error for reading a sparse tensor's dense array: PyTorch's NotImplementedError
    naming the registry op whose entry point reads it (its generated code binds `_op`);
    in the script / trace runtime, that it takes no sparse tensors."""
    first = frame.f_code.co_name
    for _ in range(8):
        if frame is None:
            break
        op = frame.f_globals.get("_op")
        if isinstance(op, _registry.OpDef):
            return not_implemented(op.name, dev)
        if frame.f_globals.get("__name__", "").startswith(_COMPILER_MODULES):
            return RuntimeError("gpujit's scripted and traced functions do not take sparse "
                                "tensors: pass x.to_dense(), or call the function unscripted")
        frame = frame.f_back
    return not_implemented(f"aten::{first.strip('_')}", dev)


_COMPILER_MODULES = ("gpujit.jit", "gpujit.runtime", "gpujit.frontend", "gpujit.ir")


def not_implemented(name, dev):
    return NotImplementedError(
        f"Could not run '{name}' with arguments from the '{_backend(dev)}' backend. This could "
        f"be because the operator doesn't exist for this backend, or was omitted during the "
        f"selective/custom build process (if using custom build). gpujit's sparse COO tensors "
        f"have {_SUPPORTED}; call .to_dense() first")


class SparseCooTensor(Tensor):
    """A sparse COO tensor (layout torch.sparse_coo)."""
    __slots__ = ("_sp_i", "_sp_v", "_sp_size", "_sp_coalesced")
    __module__ = "gpujit"
    # (not a __torch_function__ subclass: no dispatch layer for it, gpujit/overrides.py)
    __torch_function__ = _disabled_torch_function_impl

    @property
    def _data(self):
        raise _refusal(sys._getframe(1), self._device)

    @_data.setter
    def _data(self, value):
        raise RuntimeError("set_data: a sparse tensor's data cannot be replaced "
                           "(gpujit's sparse tensors are made by to_sparse / sparse_coo_tensor)")

    # ------------------------------------------------------------ sizes and flags
    @property
    def shape(self):
        return self._sp_size

    def size(self, dim=None):
        if dim is None:
            return self._sp_size
        from .tensor import _wrap_dim
        return self._sp_size[_wrap_dim(dim, len(self._sp_size), "size")]

    def dim(self):
        return len(self._sp_size)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._sp_size)

    def numel(self):
        return int(np.prod(self._sp_size, dtype=np.int64))

    nelement = numel

    def __len__(self):
        if not self._sp_size:
            raise TypeError("len() of a 0-d tensor")
        return self._sp_size[0]

    def is_contiguous(self, memory_format=None):
        return False

    @property
    def layout(self):
        return _dt.sparse_coo

    @property
    def is_sparse(self):
        return True

    @property
    def requires_grad(self):
        return False

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if requires_grad:
            raise RuntimeError(_NO_AUTOGRAD + "; a sparse tensor cannot require grad (make "
                               "the dense tensor require it: x.to_dense().requires_grad_())")
        return self

    # ------------------------------------------------------------ the parts
    def sparse_dim(self):
        return self._sp_i.shape[0]

    def dense_dim(self):
        return self._sp_v.dim() - 1

    def _nnz(self):
        return self._sp_i.shape[1]

    def _indices(self):
        return self._sp_i

    def _values(self):
        return self._sp_v

    def is_coalesced(self):
        return self._sp_coalesced

    def indices(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._sp_i

    def values(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._sp_v

    def coalesce(self):
        """The same tensor with its indices sorted and duplicates summed (self when it is
        coalesced already, as PyTorch's). As PyTorch's CPU kernel: the row-major linear
        indices sorted by sort(stable=False) (std::sort's order among equal keys), each
        run of duplicates summed in that order in the values' dtype, its first value
        copied."""
        if self._sp_coalesced:
            return self
        from . import sort
        i, v = _host(self._sp_i), _host(self._sp_v)
        sd = i.shape[0]
        lin = _linear(i, self._sp_size)
        order = _host(sort(_registry.wrap_array(lin, _dt_cpu()))[1])
        uniq, start, inverse = np.unique(lin[order], return_index=True, return_inverse=True)
        v = v[order]
        out = v[start].copy()
        rest = np.ones(v.shape[0], bool)
        rest[start] = False
        np.add.at(out, inverse[rest], v[rest])
        i = (np.stack(np.unravel_index(uniq, self._sp_size[:sd])) if sd
             else np.zeros((0, uniq.size), np.int64)).astype(np.int64)
        return _make(_device_tensor(i, self._device), _device_tensor(out, self._device),
                     self._sp_size, True)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The dense tensor: zeros, each entry added at its index in storage order (as
        PyTorch's CPU kernel: duplicates of an uncoalesced tensor sum in that order)."""
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_to_dense")
        size, sd = self._sp_size, self.sparse_dim()
        i, v = _host(self._sp_i), _host(self._sp_v)
        a = np.zeros((int(np.prod(size[:sd], dtype=np.int64)),) + tuple(size[sd:]), v.dtype)
        np.add.at(a, _linear(i, size), v)
        return _device_tensor(a.reshape(size), self._device)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout not in (None, _dt.sparse_coo):
            raise RuntimeError(f"to_sparse: layout={layout!r} is not available: gpujit has "
                               f"sparse COO tensors only")
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return self

    def to_sparse_coo(self):
        return self

    # ------------------------------------------------------------ conversions
    def to(self, *args, **kwargs):
        """Tensor.to on the values (device, dtype, copy); the indices follow the device."""
        v = Tensor.to(self._sp_v, *args, **kwargs)
        if v is self._sp_v:
            return self
        i = self._sp_i
        if v._device is not i._device:
            i = i.to(v._device)
        elif kwargs.get("copy"):
            i = i.clone()
        return _make(i, v, self._sp_size, self._sp_coalesced)

    def copy_(self, src, non_blocking=False):
        """Sparse into sparse (Module.load_state_dict of a sparse buffer): src's indices
        and values copied, the values cast to self's dtype, src's size."""
        if not isinstance(src, SparseCooTensor):
            raise not_implemented("aten::copy_", self._device)
        self._sp_v = src._sp_v.to(dtype=self._dtype, device=self._device, copy=True)
        self._sp_i = src._sp_i.to(self._device, copy=True)
        self._sp_size, self._sp_coalesced = src._sp_size, src._sp_coalesced
        self._vc[0] += 1
        return self

    def clone(self, *, memory_format=None):
        return _make(self._sp_i.clone(), self._sp_v.clone(), self._sp_size,
                     self._sp_coalesced)

    def detach(self):
        return _make(self._sp_i, self._sp_v, self._sp_size, self._sp_coalesced)

    def t(self):
        """The transpose of a matrix with 2 sparse and 0 dense dims (indices swapped,
        uncoalesced as PyTorch's; of fewer sparse dims, self's parts)."""
        sd, dd = self.sparse_dim(), self.dense_dim()
        if sd > 2 or dd:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but got {sd} sparse and {dd} dense dimensions")
        if sd < 2:
            return self.detach()
        return _make(self._sp_i.flip(0), self._sp_v, self._sp_size[::-1], False)

    @property
    def T(self):
        return self.t()

    def mm(self, mat2):
        return sparse_mm(self, mat2)

    def matmul(self, other):
        if isinstance(other, Tensor) and not isinstance(other, SparseCooTensor) \
                and other.dim() == 1:
            return sparse_mm(self, other.unsqueeze(1)).squeeze(1)
        return sparse_mm(self, other)

    __matmul__ = matmul

    def numpy(self, *, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def data_ptr(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    tolist = data_ptr

    # ------------------------------------------------------------ values-only ops
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """The sum of every element (a dense 0-dim tensor, the values' sum); over dims,
        PyTorch's sparse result, which gpujit does not compute (torch's error)."""
        if dim is None and not keepdim:
            return self._sp_v.sum(dtype=dtype)
        return Tensor.sum(self, dim, keepdim, dtype=dtype)

    def _scaled(self, name, other, inplace=False):
        """self * number / self / number: the values scaled, the indices kept (an
        uncoalesced tensor stays so, as PyTorch's)."""
        if not _is_scalar(other):
            return getattr(Tensor, name)(self, other)
        op = getattr(self._sp_v, name)
        if inplace:
            op(other)
            self._dtype = self._sp_v._dtype
            return self
        return _make(self._sp_i, op(other), self._sp_size, self._sp_coalesced)

    def mul(self, other):
        return self._scaled("mul", other)

    def div(self, other):
        return self._scaled("div", other)

    def mul_(self, other):
        return self._scaled("mul_", other, inplace=True)

    def div_(self, other):
        return self._scaled("div_", other, inplace=True)

    __mul__ = __rmul__ = multiply = mul
    __truediv__ = true_divide = divide = div
    __imul__ = mul_
    __itruediv__ = div_

    def add(self, other, *, alpha=1):
        """sparse + dense (or a number): PyTorch's refusal; sparse + sparse: no kernel."""
        if isinstance(other, SparseCooTensor):
            return Tensor.add(self, other, alpha=alpha)
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")

    def sub(self, other, *, alpha=1):
        return self.add(other, alpha=-alpha)

    __add__ = __radd__ = add_ = __iadd__ = add
    __sub__ = sub_ = __isub__ = subtract = sub

    def neg(self):
        return _make(self._sp_i, self._sp_v.neg(), self._sp_size, self._sp_coalesced)

    __neg__ = negative = neg

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None and not kwargs:
            cuda = "cuda." if self._device.type == "cuda" else ""
            return f"torch.{cuda}sparse.{self._dtype.short_name}Tensor"
        return Tensor.type(self, dtype, non_blocking, **kwargs)

    # ------------------------------------------------------------ printing, pickling
    def __repr__(self):
        from ._tensor_str import sparse_repr
        return sparse_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        return object.__format__(self, spec)

    def __reduce__(self):
        return (rebuild_sparse_tensor, (_dt.sparse_coo, (self._sp_i, self._sp_v,
                                                         tuple(self._sp_size),
                                                         self._sp_coalesced)))

    def __deepcopy__(self, memo):
        t = self.clone()
        memo[id(self)] = t
        return t


def _is_scalar(v):
    return isinstance(v, (bool, int, float)) or (isinstance(v, Tensor) and not isinstance(
        v, SparseCooTensor) and v.dim() == 0)


def _zero_preserving(name):
    """A pointwise op with f(0) == 0, which PyTorch runs on a sparse tensor's coalesced
    values (the result coalesced)."""
    def method(self):
        c = self.coalesce()
        return _make(c._sp_i, getattr(c._sp_v, name)(), c._sp_size, True)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"x.{name}() of a sparse tensor: of its coalesced values."
    return method


for _name in ("abs", "sqrt", "sin", "tan", "tanh", "sinh", "asin", "atan", "asinh", "atanh",
              "ceil", "floor", "round", "trunc", "sign", "sgn", "expm1", "log1p", "erf",
              "erfinv", "frac", "deg2rad", "rad2deg", "relu", "square", "isnan", "isinf",
              "signbit", "nan_to_num"):
    setattr(SparseCooTensor, _name, _zero_preserving(_name))
SparseCooTensor.__abs__ = SparseCooTensor.abs


def _linear(i, size):
    """The row-major linear index of each entry over the sparse dims."""
    lin = np.zeros(i.shape[1], np.int64)
    for d in range(i.shape[0]):
        lin = lin * size[d] + i[d]
    return lin


def _autograd_function():
    from .autograd.function import Function
    return Function


def _host(t):
    a = t._data
    return a if isinstance(a, np.ndarray) else a.get()


def _device_tensor(a, dev):
    t = _registry.wrap_array(np.ascontiguousarray(a), _dt_cpu())
    return t if dev.type == "cpu" else t.to(dev)


def _dt_cpu():
    from .device import cpu
    return cpu


def _make(i, v, size, coalesced):
    s = object.__new__(SparseCooTensor)
    s._sp_i, s._sp_v, s._sp_size, s._sp_coalesced = i, v, Size(size), bool(coalesced)
    s._dtype, s._device = v._dtype, v._device
    s._vc, s._ag, s._base = [0], None, None
    return s


_NO_AUTOGRAD = "gpujit's sparse tensors do not record autograd"


def _no_grad_operand(what, t):
    from .autograd import is_grad_enabled
    if t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{what}: {_NO_AUTOGRAD} and the input requires grad; make it "
                           f"from a tensor that does not (.detach()) or under torch.no_grad()")


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """x.to_sparse(sparse_dim=x.dim()): the COO tensor of x's nonzero entries (with
    sparse_dim < x.dim(), of its nonzero slices), indices in row-major order, coalesced."""
    if layout not in (None, _dt.sparse_coo):
        from .ops.sparse_refusals import WHY_COMPRESSED
        raise RuntimeError(f"to_sparse: layout={layout!r} is not available: {WHY_COMPRESSED}")
    if blocksize is not None or dense_dim is not None:
        raise RuntimeError("to_sparse: blocksize and dense_dim are for compressed layouts; "
                           "gpujit has sparse COO tensors only")
    if _registry.dispatch_state.tracing is not None:
        raise RuntimeError("to_sparse: gpujit's tracer does not record sparse tensors; "
                           "make the sparse tensor outside the traced function")
    n = self.dim()
    sd = n if sparse_dim is None else sparse_dim
    if sd.__class__ is not int or not 0 <= sd <= n:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{n}] range, "
                           f"but {sd} is given")
    if sd == 0 and n > 0:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when "
                           "self.dim()>0")
    _no_grad_operand("to_sparse", self)
    a = _host(self)
    mask = a != 0
    if a.ndim > sd:
        mask = mask.any(axis=tuple(range(sd, a.ndim)))
    if sd:
        nz = np.nonzero(mask)
        i = np.stack(nz).astype(np.int64)
        v = a[nz]
    else:                       # a 0-dim tensor: one entry when it is not zero
        i = np.zeros((0, int(mask)), np.int64)
        v = a.reshape(1)[:int(mask)]
    return _make(_device_tensor(i, self._device), _device_tensor(v, self._device),
                 self.shape, True)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """torch.sparse_coo_tensor: indices (sparse_dim x nnz, made int64) and values (nnz x
    dense dims); size inferred from the indices when not given. Coalesced when
    is_coalesced=True says so or nnz <= 1, as PyTorch's."""
    from . import as_tensor
    if _registry.dispatch_state.tracing is not None:
        raise RuntimeError("sparse_coo_tensor: gpujit's tracer does not record sparse tensors")
    v = as_tensor(values, dtype=dtype, device=device)
    i = as_tensor(indices, device=v.device)
    if i._dtype is not _dt.int64:
        i = i.to(_dt.int64)
    if i.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(i.shape)}")
    _no_grad_operand("sparse_coo_tensor", v)
    sd, nnz = i.shape
    if v.dim() == 0 or v.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {v.shape[0] if v.dim() else 0}")
    dd = v.dim() - 1
    if size is None:
        ih = _host(i)
        size = tuple(int(m) + 1 for m in ih.max(axis=1)) if nnz else (0,) * sd
        size += tuple(v.shape[1:])
    else:
        size = tuple(int(s) for s in size)
        if len(size) != sd + dd:
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: "
                               f"len(size) = {len(size)}, sparse_dim = {sd}, dense_dim = {dd}")
    if check_invariants is None:
        check_invariants = INVARIANT_CHECKS[0]
        if check_invariants is None:    # (never set: implicitly off, with the warning)
            _warn_unchecked()
    if check_invariants:
        ih = _host(i)
        for d in range(sd):
            if nnz and ih[d].min() < 0:
                raise RuntimeError(f"found negative index {ih[d].min()} for dim {d}")
            if nnz and ih[d].max() >= size[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                                   f"{size[d]} but found index {ih[d].max()}")
    s = _make(i, v, size, is_coalesced if is_coalesced is not None else nnz <= 1)
    return s.requires_grad_(requires_grad)


# torch.sparse.check_sparse_tensor_invariants' global switch: None until it is set (off,
# and a constructor left to it warns, as PyTorch's), then True / False
INVARIANT_CHECKS = [None]
_UNCHECKED = ("Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) "
              "will occur when operating on a sparse tensor which violates the invariants, but "
              "checks incur performance overhead. To silence this warning, explicitly opt in or "
              "out. See `torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance. ")
_warned = []


def _warn_unchecked():
    """PyTorch's warning (TORCH_WARN_ONCE: once per process unless set_warn_always(True))
    for a sparse constructor whose check_invariants was left to the global switch, off."""
    from .runtime_flags import is_warn_always_enabled
    if not _warned or is_warn_always_enabled():
        _warned.append(True)
        from ._frames import warn_at_user_frame
        warn_at_user_frame(_UNCHECKED)


def sparse_mm(mat1, mat2):
    """A sparse matrix (2 sparse dims, 0 dense) times a dense matrix: the dense product,
    as PyTorch's CPU kernel sums it (_spmm_host); on a GPU through registry ops. mat2's
    gradient is recorded."""
    if not isinstance(mat2, Tensor) or isinstance(mat2, SparseCooTensor):
        raise not_implemented("aten::mm", mat1._device)
    if mat1.sparse_dim() != 2 or mat1.dense_dim():
        raise RuntimeError(f"addmm: matrices expected, got {mat1.sparse_dim()}D sparse and "
                           f"{mat1.dense_dim()}D dense tensor")
    if mat2.dim() != 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[-{max(mat2.dim(), 1)}, {max(mat2.dim(), 1) - 1}], but got 1)")
    if mat2._dtype is not mat1._dtype:
        raise RuntimeError(f"expected scalar type {mat1._dtype.short_name} but found "
                           f"{mat2._dtype.short_name}")
    n, k = mat1._sp_size
    if mat2.shape[0] != k:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {k}, got "
                           f"{mat2.shape[0]}")
    if mat2._device.type != "cpu":
        from . import zeros
        out = zeros((n, mat2.shape[1]), dtype=mat2._dtype, device=mat2._device)
        if not mat1._nnz():
            return out
        rows, cols = mat1._sp_i[0], mat1._sp_i[1]
        return out.index_add(0, rows, mat1._sp_v.unsqueeze(1) * mat2.index_select(0, cols))
    return SparseAddmm.apply(mat2, (mat1,))


def _spmm_host(i, v, b, n):
    """r[i0[k]] += v[k] * b[i1[k]] for k in index order, each step a fused multiply-add in
    b's dtype (PyTorch's CPU s_addmm kernel: an axpy per entry, uncoalesced as stored).
    Entries of one row run in order; the k-th entries of every row run as one vector step."""
    from .ops.fma import fma
    r = np.zeros((n, b.shape[1]), b.dtype)
    rows, cols = i[0], i[1]
    if not rows.size:
        return r
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=n)
    rank = np.empty_like(rows)
    rank[order] = np.arange(rows.size) - (np.cumsum(counts) - counts)[rows[order]]
    fused = b.dtype in (np.float32, np.float64)
    for w in range(int(counts.max())):
        k = np.nonzero(rank == w)[0]
        rr, vk, bk = rows[k], v[k][:, None], b[cols[k]]
        r[rr] = fma(np.broadcast_to(vk, bk.shape), bk, r[rr], b.dtype) if fused \
            else r[rr] + vk * bk
    return r


class SparseAddmm(_autograd_function()):
    """A sparse COO matrix times a dense CPU matrix (mat1 passed in a tuple: it is no
    input whose gradient is wanted); the dense operand's gradient is mat1.t() @ grad."""

    @staticmethod
    def forward(ctx, mat2, boxed):
        mat1, = boxed
        ctx.mat1 = mat1
        r = _spmm_host(_host(mat1._sp_i), _host(mat1._sp_v), _host(mat2), mat1._sp_size[0])
        return _registry.wrap_array(r, mat2._device)

    @staticmethod
    def backward(ctx, grad):
        return sparse_mm(ctx.mat1.t(), grad), None


def rebuild_sparse_tensor(layout, data):
    """torch._utils._rebuild_sparse_tensor for a COO tensor (what torch.save writes)."""
    if layout is not _dt.sparse_coo:
        raise RuntimeError(f"gpujit.load: the file holds a {layout!r} tensor: gpujit has "
                           f"sparse COO tensors only")
    indices, values, size = data[:3]
    coalesced = data[3] if len(data) > 3 else None
    # (as torch.load: built unchecked without a warning; PyTorch validates them after)
    return sparse_coo_tensor(indices, values, size, check_invariants=False,
                             is_coalesced=coalesced)
