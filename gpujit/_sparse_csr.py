"""Sparse CSR matrices (layout torch.sparse_csr): x.to_sparse_csr(), torch.sparse_csr_tensor,
a COO tensor's to_sparse_csr() and back; their parts (crow_indices(), col_indices(),
values(), _nnz()), to_dense(), .to() / clone() / detach(), values-only ops (* and / by a
number, neg, abs ...), sum(), repr, torch.save / torch.load in PyTorch's format, and the
products with a dense matrix (csr @ dense, torch.mm / matmul / addmm / mv) and the sums
with a dense tensor (dense + csr, csr + dense: dense, as PyTorch's) through the COO
kernels (gpujit/_sparse_coo.py), which sum each row's entries in storage order as
PyTorch's CPU kernels do.

A SparseCsrTensor is a Tensor subclass holding crow_indices (rows + 1), col_indices and
values (nnz) of a 2-D matrix (no batch or dense dims: refused in words). As a COO tensor it
has no dense array: its `_data` raises registry.SparseOperand, so a registry op without a
kernel for it raises PyTorch's NotImplementedError ('SparseCsrCPU' backend) and no dense
path carries a check. It does not record autograd. CSC / BSR / BSC tensors are refused
(WHY_COMPRESSED)."""
from __future__ import annotations

import sys

import numpy as np

from . import dtypes as _dt
from ._sparse_coo import (ZERO_PRESERVING, SparseCooTensor, _host, _device_tensor, _make,
                          _refusal, _is_scalar, _no_grad_operand, _warn_unchecked,
                          INVARIANT_CHECKS)
from .ops import registry as _registry
from .tensor import Tensor, Size
from .overrides import _disabled_torch_function_impl

__all__ = ["SparseCsrTensor", "sparse_csr_tensor", "to_sparse_csr"]

_BETA = ("Sparse CSR tensor support is in beta state. If you miss a functionality in the "
         "sparse tensor support, please submit a feature request to "
         "https://github.com/pytorch/pytorch/issues.")
_warned = []


def _warn_beta():
    """PyTorch's once-per-process UserWarning when a CSR tensor is first made."""
    from .runtime_flags import is_warn_always_enabled
    if not _warned or is_warn_always_enabled():
        _warned.append(True)
        from ._frames import warn_at_user_frame
        warn_at_user_frame(_BETA)


class SparseCsrTensor(Tensor):
    """A sparse CSR matrix (layout torch.sparse_csr)."""
    __slots__ = ("_csr_crow", "_csr_col", "_csr_v", "_sp_size")
    __module__ = "gpujit"
    # (not a __torch_function__ subclass: no dispatch layer for it, gpujit/overrides.py)
    __torch_function__ = _disabled_torch_function_impl

    @property
    def _data(self):
        raise _refusal(sys._getframe(1), self._device, "SparseCsr")

    @_data.setter
    def _data(self, value):
        raise RuntimeError("set_data: a sparse tensor's data cannot be replaced")

    shape = SparseCooTensor.shape
    size = SparseCooTensor.size
    dim = ndimension = SparseCooTensor.dim
    ndim = SparseCooTensor.ndim
    numel = nelement = SparseCooTensor.numel
    __len__ = SparseCooTensor.__len__
    @property
    def requires_grad(self):
        return False

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        if requires_grad:
            raise RuntimeError("gpujit's sparse CSR tensors do not record autograd; a CSR "
                               "tensor cannot require grad (use a COO one: "
                               "x.to_sparse_coo().requires_grad_())")
        return self
    __format__ = SparseCooTensor.__format__

    def is_contiguous(self, memory_format=None):
        raise RuntimeError("Tensors of type SparseCsrTensorImpl do not have is_contiguous")

    @property
    def layout(self):
        return _dt.sparse_csr

    @property
    def is_sparse(self):
        return False

    @property
    def is_sparse_csr(self):
        return True

    # ------------------------------------------------------------ the parts
    def crow_indices(self):
        return self._csr_crow

    def col_indices(self):
        return self._csr_col

    def values(self):
        return self._csr_v

    def _nnz(self):
        return self._csr_col.shape[0]

    def sparse_dim(self):
        return 2

    def dense_dim(self):
        return 0

    def _layout_error(self, name):
        raise RuntimeError(f"{name} expected sparse coordinate tensor layout but got SparseCsr")

    def indices(self):
        self._layout_error("indices")

    def _indices(self):
        self._layout_error("_indices")

    def is_coalesced(self):
        self._layout_error("is_coalesced")

    def coalesce(self):
        self._layout_error("coalesce")

    def stride(self, dim=None):
        raise RuntimeError("Sparse CSR tensors do not have strides")

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None and not kwargs:
            cuda = "CUDA" if self._device.type == "cuda" else "CPU"
            raise RuntimeError(f"Unimplemented backend SparseCsr{cuda}")
        return Tensor.type(self, dtype, non_blocking, **kwargs)

    def numpy(self, *, force=False):
        raise TypeError("can't convert SparseCsr layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def data_ptr(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    tolist = data_ptr

    # ------------------------------------------------------------ conversions
    def _rows(self):
        """Each entry's row (the COO row indices)."""
        crow = _host(self._csr_crow).astype(np.int64)
        return np.repeat(np.arange(len(crow) - 1, dtype=np.int64), np.diff(crow))

    def to_sparse_coo(self):
        """The COO tensor of the same entries in storage order (coalesced when the columns
        of each row are increasing, as they are in a CSR tensor PyTorch made)."""
        rows = self._rows()
        cols = _host(self._csr_col).astype(np.int64)
        i = np.stack([rows, cols]) if rows.size else np.zeros((2, 0), np.int64)
        lin = rows * self._sp_size[1] + cols
        coalesced = bool(np.all(lin[1:] > lin[:-1]))
        return _make(_device_tensor(i, self._device), self._csr_v, self._sp_size, coalesced)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout is _dt.sparse_csr:
            return self
        if layout not in (None, _dt.sparse_coo):
            from .ops.sparse_refusals import WHY_COMPRESSED
            raise RuntimeError(f"to_sparse: layout={layout!r} is not available: "
                               f"{WHY_COMPRESSED}")
        return self.to_sparse_coo()

    def to_sparse_csr(self, dense_dim=None):
        return self

    def to_dense(self, dtype=None, *, masked_grad=None):
        return self.to_sparse_coo().to_dense(dtype)

    def to(self, *args, **kwargs):
        """Tensor.to on the values; the indices follow the device."""
        v = Tensor.to(self._csr_v, *args, **kwargs)
        if v is self._csr_v:
            return self
        crow, col = self._csr_crow, self._csr_col
        if v._device is not col._device:
            crow, col = crow.to(v._device), col.to(v._device)
        elif kwargs.get("copy"):
            crow, col = crow.clone(), col.clone()
        return _make_csr(crow, col, v, self._sp_size)

    def clone(self, *, memory_format=None):
        return _make_csr(self._csr_crow.clone(), self._csr_col.clone(), self._csr_v.clone(),
                         self._sp_size)

    def detach(self):
        return _make_csr(self._csr_crow, self._csr_col, self._csr_v, self._sp_size)

    def t(self):
        from .ops.sparse_refusals import WHY_COMPRESSED
        raise RuntimeError(f"t: the transpose of a CSR matrix is a CSC one: {WHY_COMPRESSED}; "
                           f"transpose x.to_sparse_coo()")

    # ------------------------------------------------------------ products and sums
    def mm(self, mat2):
        return Tensor.mm(self, mat2)

    def matmul(self, other):
        return Tensor.matmul(self, other)

    __matmul__ = matmul

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        if dim is None and not keepdim:
            return self._csr_v.sum(dtype=dtype)
        return Tensor.sum(self, dim, keepdim, dtype=dtype)

    def _scaled(self, name, other):
        if not _is_scalar(other):
            return getattr(Tensor, name)(self, other)
        return _make_csr(self._csr_crow, self._csr_col, getattr(self._csr_v, name)(other),
                         self._sp_size)

    def mul(self, other):
        return self._scaled("mul", other)

    def div(self, other, *, rounding_mode=None):
        raise RuntimeError("unsupported tensor layout: SparseCsr")

    __mul__ = __rmul__ = multiply = mul
    __truediv__ = true_divide = divide = div

    def add(self, other, *, alpha=1):
        """csr + dense: the dense sum; csr + csr: the CSR sum (PyTorch's)."""
        from ._sparse_coo import _k_add
        if isinstance(other, Tensor) and not isinstance(other, (SparseCsrTensor,
                                                                SparseCooTensor)):
            return _k_add(other * alpha if alpha != 1 else other, self.to_sparse_coo())
        return Tensor.add(self, other, alpha=alpha)

    __add__ = add

    def __radd__(self, other):
        from ._sparse_coo import _k_add
        if isinstance(other, Tensor) and not isinstance(other, SparseCooTensor):
            return _k_add(other, self.to_sparse_coo())
        return Tensor.add(self, other)

    def neg(self):
        return _make_csr(self._csr_crow, self._csr_col, self._csr_v.neg(), self._sp_size)

    __neg__ = negative = neg

    # ------------------------------------------------------------ printing, pickling
    def __repr__(self):
        from ._tensor_str import compressed_repr
        return compressed_repr(self)

    __str__ = __repr__

    def __reduce__(self):
        from ._sparse_coo import rebuild_sparse_tensor
        return (rebuild_sparse_tensor, (_dt.sparse_csr, (self._csr_crow, self._csr_col,
                                                         self._csr_v, tuple(self._sp_size))))

    def __deepcopy__(self, memo):
        t = self.clone()
        memo[id(self)] = t
        return t


def _zero_preserving(name):
    def method(self):
        return _make_csr(self._csr_crow, self._csr_col, getattr(self._csr_v, name)(),
                         self._sp_size)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"x.{name}() of a CSR tensor: of its values."
    return method


for _name in ZERO_PRESERVING:
    setattr(SparseCsrTensor, _name, _zero_preserving(_name))
SparseCsrTensor.__abs__ = SparseCsrTensor.abs


def _make_csr(crow, col, v, size):
    s = object.__new__(SparseCsrTensor)
    s._csr_crow, s._csr_col, s._csr_v, s._sp_size = crow, col, v, Size(size)
    s._dtype, s._device = v._dtype, v._device
    s._vc, s._ag, s._base = [0], None, None
    return s


def _from_coo(c):
    """A coalesced 2-D COO tensor's entries as a CSR tensor (int64 indices)."""
    if c.dim() != 2 or c.dense_dim():
        raise RuntimeError(f"to_sparse_csr: gpujit's CSR tensors are 2-D matrices without "
                           f"batch or dense dims (got a {c.dim()}-D tensor with "
                           f"{c.dense_dim()} dense dims)")
    i = _host(c._sp_i)
    n = c.shape[0]
    crow = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(i[0], minlength=n), out=crow[1:])
    _warn_beta()
    return _make_csr(_device_tensor(crow, c._device), _device_tensor(i[1].copy(), c._device),
                     c._sp_v, c.shape)


def to_sparse_csr(self, dense_dim=None):
    """x.to_sparse_csr(): the CSR matrix of a 2-D tensor's nonzero entries (row-major)."""
    if dense_dim is not None:
        raise RuntimeError("to_sparse_csr: dense_dim: gpujit's CSR tensors have no dense dims")
    if isinstance(self, SparseCooTensor):
        if self.dim() != 2 or self.dense_dim():
            return _from_coo(self)      # (its error)
        return _from_coo(self.coalesce())
    if self.dim() != 2:
        raise RuntimeError(f"to_sparse_csr: gpujit's CSR tensors are 2-D matrices (got a "
                           f"{self.dim()}-D tensor)")
    from ._sparse_coo import to_sparse
    return _from_coo(to_sparse(self))


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None,
                      device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None):
    """torch.sparse_csr_tensor: crow_indices (rows + 1), col_indices and values (nnz) of a
    2-D matrix; size inferred (rows from crow_indices, columns from the largest column
    index) when not given. The indices keep their integer dtype (int32 or int64)."""
    from . import as_tensor
    if _registry.dispatch_state.tracing is not None:
        raise RuntimeError("sparse_csr_tensor: gpujit's tracer does not record sparse tensors")
    v = as_tensor(values, dtype=dtype, device=device)
    crow = as_tensor(crow_indices, device=v.device)
    col = as_tensor(col_indices, device=v.device)
    if crow._dtype not in (_dt.int32, _dt.int64) or col._dtype is not crow._dtype:
        if crow._dtype.is_floating_point or col._dtype.is_floating_point or \
                crow._dtype is not col._dtype:
            raise RuntimeError(f"compressed_indices and plain_indices must have the same "
                               f"dtype, and be int32 or int64, but got "
                               f"{crow._dtype.short_name} and {col._dtype.short_name}")
        crow, col = crow.to(_dt.int64), col.to(_dt.int64)
    if crow.dim() != 1 or col.dim() != 1 or v.dim() != 1:
        raise RuntimeError("sparse_csr_tensor: gpujit's CSR tensors are 2-D matrices: "
                           "crow_indices, col_indices and values must be 1-D")
    _no_grad_operand("sparse_csr_tensor", v)
    if col.shape[0] != v.shape[0]:
        raise RuntimeError(f"col_indices and values must have the same number of elements, "
                           f"but got col_indices.numel(): {col.shape[0]}, values.numel(): "
                           f"{v.shape[0]}")
    if size is None:
        ncol = int(_host(col).max()) + 1 if col.shape[0] else 0
        size = (crow.shape[0] - 1, ncol)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise RuntimeError(f"sparse_csr_tensor: gpujit's CSR tensors are 2-D matrices (got "
                           f"size {list(size)})")
    if check_invariants is None:
        check_invariants = INVARIANT_CHECKS[0]
        if check_invariants is None:
            _warn_unchecked()
    if crow.shape[0] != size[0] + 1:
        raise RuntimeError(f"crow_indices.size(-1) must be equal to size[-2] + 1 (that is "
                           f"{size[0] + 1}), but got: {crow.shape[0]}")
    if check_invariants:
        ch, cl = _host(crow), _host(col)
        if ch[0] != 0:
            raise RuntimeError("`crow_indices[..., 0] == 0` is not satisfied.")
        if ch[-1] != cl.shape[0]:
            raise RuntimeError("`crow_indices[..., -1] == nnz` is not satisfied.")
        if np.any(np.diff(ch) < 0):
            raise RuntimeError("`0 <= crow_indices[..., 1:] - crow_indices[..., :-1] <= "
                               "ncols` is not satisfied.")
        if cl.size and (cl.min() < 0 or cl.max() >= size[1]):
            raise RuntimeError("`0 <= col_indices < ncols` is not satisfied.")
    _warn_beta()
    return _make_csr(crow, col, v, size).requires_grad_(requires_grad)


def _csr_rebuild(data):
    crow, col, values, size = data[:4]
    return sparse_csr_tensor(crow, col, values, size, check_invariants=False)


def as_coo(t):
    """t as a COO tensor when it is a CSR one (the COO kernels' operand), else t."""
    return t.to_sparse_coo() if isinstance(t, SparseCsrTensor) else t


Tensor.to_sparse_csr = to_sparse_csr
SparseCooTensor.to_sparse_csr = to_sparse_csr
