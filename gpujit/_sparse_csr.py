"""Sparse compressed matrices: CSR (layout torch.sparse_csr), CSC, BSR and BSC:
x.to_sparse_csr() / to_sparse_csc() / to_sparse_bsr(blocksize) / to_sparse_bsc(blocksize),
x.to_sparse(layout=..., blocksize=...), torch.sparse_csr_tensor & co. and
torch.sparse_compressed_tensor, a COO tensor's conversions and back; their parts
(crow_indices() / col_indices() of CSR and BSR, ccol_indices() / row_indices() of CSC and
BSC, values(), _nnz()), to_dense(), t() (CSR <-> CSC, BSR <-> BSC), .to() / clone() /
detach(), values-only ops (* by a number, neg, abs ...), sum(), repr, torch.save /
torch.load in PyTorch's format, and the products with a dense matrix (csr @ dense,
torch.mm / matmul / addmm / mv) and the sums with a dense tensor (dense + csr, csr + dense:
dense, as PyTorch's) through the COO kernels (gpujit/_sparse_coo.py), which sum each row's
entries in storage order as PyTorch's CPU kernels do; where PyTorch's kernels take a CSC /
BSR / BSC operand no further than CSR, its errors (_sparse_kernels._compressed_refusal).

A SparseCsrTensor is a Tensor subclass holding compressed indices (rows, or columns, of
entries or blocks, + 1), plain indices and values (nnz; nnz x bh x bw blocks) of a 2-D
matrix (no batch or dense dims: refused in words) and its layout. As a COO tensor it has
no dense array: its `_data` raises registry.SparseOperand, so a registry op without a
kernel for it raises PyTorch's NotImplementedError ('SparseCsrCPU' backend) and no dense
path carries a check. It does not record autograd."""
from __future__ import annotations

import sys

import numpy as np

from . import dtypes as _dt
from ._sparse_coo import (ZERO_PRESERVING, SparseCooTensor, _host, _device_tensor, _make,
                          _refusal, _is_scalar, _no_grad_operand, _warn_unchecked,
                          INVARIANT_CHECKS, not_implemented as _not_implemented)
from .ops import registry as _registry
from .tensor import Tensor, Size
from .overrides import _disabled_torch_function_impl

__all__ = ["SparseCsrTensor", "sparse_compressed_tensor", "sparse_csr_tensor",
           "sparse_csc_tensor", "sparse_bsr_tensor", "sparse_bsc_tensor", "to_sparse_csr"]

_BETA = ("Sparse {} tensor support is in beta state. If you miss a functionality in the "
         "sparse tensor support, please submit a feature request to "
         "https://github.com/pytorch/pytorch/issues.")
_warned = []


def _warn_beta(layout=_dt.sparse_csr):
    """PyTorch's once-per-process UserWarning when a compressed tensor is first made (one
    for all four layouts, naming the first one's)."""
    from .runtime_flags import is_warn_always_enabled
    if not _warned or is_warn_always_enabled():
        _warned.append(True)
        from ._frames import warn_at_user_frame
        warn_at_user_frame(_BETA.format(_short(layout).upper()))


_NAMES = {}      # layout -> PyTorch's name of it in errors (SparseCsr, SparseCsc ...)
_ROW_LAYOUTS = (_dt.sparse_csr, _dt.sparse_bsr)
_BLOCK_LAYOUTS = (_dt.sparse_bsr, _dt.sparse_bsc)


def _layout_name(layout):
    if not _NAMES:
        _NAMES.update({_dt.sparse_csr: "SparseCsr", _dt.sparse_csc: "SparseCsc",
                       _dt.sparse_bsr: "SparseBsr", _dt.sparse_bsc: "SparseBsc",
                       _dt.sparse_coo: "Sparse", _dt.strided: "Strided"})
    # (no layout given: c10's word for it; another value: its repr, not a KeyError)
    return "none" if layout is None else _NAMES.get(layout, repr(layout))


class SparseCsrTensor(Tensor):
    """A sparse compressed matrix: CSR (layout torch.sparse_csr), CSC (its transpose's
    storage: compressed columns), BSR / BSC (the same of blocks: values nnz x bh x bw).
    _csr_crow holds the compressed indices, _csr_col the plain ones."""
    __slots__ = ("_csr_crow", "_csr_col", "_csr_v", "_sp_size", "_csr_layout")
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

    def _short_upper(self):
        return _layout_name(self._csr_layout)[6:].upper()      # CSR, CSC, BSR, BSC

    def is_contiguous(self, memory_format=None):
        raise RuntimeError(f"Sparse {self._short_upper()} tensors do not have is_contiguous")

    contiguous = reshape = is_contiguous

    def _no_strides(self, *args, **kwargs):
        raise RuntimeError(f"Sparse {self._short_upper()} tensors do not have strides")

    narrow = sort = _no_strides

    def expand(self, *sizes, implicit=False):
        raise RuntimeError(f"expand is unsupported for {_layout_name(self._csr_layout)} "
                           f"tensors")

    def storage_offset(self):
        return 0

    @property
    def nbytes(self):
        return self.numel() * self._dtype.itemsize

    @property
    def layout(self):
        return self._csr_layout

    @property
    def is_sparse(self):
        return False

    @property
    def is_sparse_csr(self):
        return self._csr_layout is _dt.sparse_csr

    # ------------------------------------------------------------ the parts
    def _compressed(self, name, rows):
        if (self._csr_layout in _ROW_LAYOUTS) != rows:
            raise RuntimeError(f"{name} expected sparse {'row' if rows else 'column'} "
                               f"compressed tensor layout but got {_layout_name(self._csr_layout)}")

    def crow_indices(self):
        self._compressed("crow_indices", True)
        return self._csr_crow

    def col_indices(self):
        self._compressed("col_indices", True)
        return self._csr_col

    def ccol_indices(self):
        self._compressed("ccol_indices", False)
        return self._csr_crow

    def row_indices(self):
        self._compressed("row_indices", False)
        return self._csr_col

    def values(self):
        return self._csr_v

    def _nnz(self):
        return self._csr_col.shape[0]

    def sparse_dim(self):
        return 2

    def dense_dim(self):
        return 0

    def _blocksize(self):
        v = self._csr_v
        return tuple(v.shape[1:3]) if self._csr_layout in _BLOCK_LAYOUTS else (1, 1)

    def _layout_error(self, name):
        raise RuntimeError(f"{name} expected sparse coordinate tensor layout but got "
                           f"{_layout_name(self._csr_layout)}")

    def indices(self):
        self._layout_error("indices")

    def _indices(self):
        self._layout_error("_indices")

    def is_coalesced(self):
        self._layout_error("is_coalesced")

    def coalesce(self):
        self._layout_error("coalesce")

    def stride(self, dim=None):
        raise RuntimeError(f"Sparse {self._short_upper()} tensors do not have strides")

    def type(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None and not kwargs:
            cuda = "CUDA" if self._device.type == "cuda" else "CPU"
            raise RuntimeError(f"Unimplemented backend SparseCsr{cuda}")
        return Tensor.type(self, dtype, non_blocking, **kwargs)

    def numpy(self, *, force=False):
        raise TypeError(f"can't convert {_layout_name(self._csr_layout)} layout tensor to "
                        f"numpy. Use Tensor.to_dense() first.")

    def data_ptr(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    tolist = data_ptr

    # ------------------------------------------------------------ conversions
    def _rows(self):
        """Each entry's compressed index (the COO row indices of a CSR tensor)."""
        crow = _host(self._csr_crow).astype(np.int64)
        return np.repeat(np.arange(len(crow) - 1, dtype=np.int64), np.diff(crow))

    def to_sparse_coo(self):
        """The COO tensor of the same entries in storage order; of a block layout, every
        element of each block, row-major within the block (PyTorch's order). Marked
        coalesced as PyTorch marks it: from CSR always, from BSR of one-row blocks, from
        CSC / BSC only with one entry."""
        comp, plain = self._rows(), _host(self._csr_col).astype(np.int64)
        rows, cols = (comp, plain) if self._csr_layout in _ROW_LAYOUTS else (plain, comp)
        v = self._csr_v
        if self._csr_layout in _BLOCK_LAYOUTS:
            bh, bw = self._blocksize()
            ii, jj = np.divmod(np.arange(bh * bw), bw)
            rows = (rows[:, None] * bh + ii).reshape(-1)
            cols = (cols[:, None] * bw + jj).reshape(-1)
            v = v.reshape(-1)
        i = np.stack([rows, cols]) if rows.size else np.zeros((2, 0), np.int64)
        lay = self._csr_layout
        coalesced = lay is _dt.sparse_csr or rows.size == 1 or (
            lay is _dt.sparse_bsr and self._blocksize()[0] == 1)
        return _make(_device_tensor(i, self._device), v, self._sp_size, coalesced)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout in (None, _dt.sparse_coo):
            return self.to_sparse_coo()
        return _to_layout(self, layout, blocksize, dense_dim)

    # (to_sparse_csr / csc / bsr / bsc: the module's functions, bound below the class)

    def _like(self, crow, col, v, size=None, layout=None):
        return _make_csr(crow, col, v, self._sp_size if size is None else size,
                         layout or self._csr_layout)

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
        return self._like(crow, col, v)

    def clone(self, *, memory_format=None):
        return self._like(self._csr_crow.clone(), self._csr_col.clone(), self._csr_v.clone())

    def detach(self):
        return self._like(self._csr_crow, self._csr_col, self._csr_v)

    def t(self):
        """The transpose: the same compressed and plain indices read the other way (CSR <->
        CSC, BSR <-> BSC, each block transposed), as PyTorch's."""
        v = self._csr_v
        if self._csr_layout in _BLOCK_LAYOUTS:
            v = v.transpose(1, 2)
        return self._like(self._csr_crow, self._csr_col, v, self._sp_size[::-1],
                          _TRANSPOSED[self._csr_layout])

    @property
    def mT(self):
        return self.t()

    @property
    def H(self):
        return self.t() if not self._dtype.is_complex else self.t().conj()

    @property
    def T(self):
        raise _not_implemented("aten::as_strided", self._device, "SparseCsr")

    def select(self, dim, index):
        """A row or column: the COO tensor's select (PyTorch's result is COO too)."""
        return self.to_sparse_coo().select(dim, index)

    def __getitem__(self, index):
        if isinstance(index, int) and not isinstance(index, bool):
            return self.select(0, index)
        raise _not_implemented("aten::as_strided", self._device, "SparseCsr")

    # ------------------------------------------------------------ in place
    def _set_values(self, crow, col, v):
        self._csr_crow, self._csr_col, self._csr_v = crow, col, v
        self._dtype = v._dtype
        self._vc[0] += 1
        return self

    def neg_(self):
        self._csr_v.neg_()
        return self._set_values(self._csr_crow, self._csr_col, self._csr_v)

    def fill_(self, value):
        """The stored values set to value (the entries kept, as PyTorch's)."""
        self._csr_v.fill_(value)
        return self._set_values(self._csr_crow, self._csr_col, self._csr_v)

    def zero_(self):
        """No entries left (nnz 0), in place."""
        from . import zeros
        crow = zeros(self._csr_crow.shape[0], dtype=self._csr_crow._dtype,
                     device=self._device)
        return self._set_values(crow, self._csr_col[:0], self._csr_v[:0])

    def mul_(self, other):
        r = self.mul(other)
        return self._set_values(r._csr_crow, r._csr_col, r._csr_v.to(self._dtype))

    def add_(self, other, *, alpha=1):
        """self + other of two compressed tensors of one layout, in place."""
        if not isinstance(other, SparseCsrTensor):
            raise _not_implemented("aten::add_.Tensor", self._device, "SparseCsr")
        r = self.add(other, alpha=alpha)
        return self._set_values(r._csr_crow, r._csr_col, r._csr_v.to(self._dtype))

    def copy_(self, src, non_blocking=False):
        """src's parts copied (a compressed tensor of self's layout and size)."""
        if not isinstance(src, SparseCsrTensor) or src.layout is not self.layout or \
                tuple(src.shape) != tuple(self.shape):
            raise _not_implemented("aten::copy_", self._device, "SparseCsr")
        return self._set_values(src._csr_crow.to(self._device, copy=True),
                                src._csr_col.to(self._device, copy=True),
                                src._csr_v.to(dtype=self._dtype, device=self._device,
                                              copy=True))

    def transpose(self, dim0, dim1):
        """t() when the dims differ (PyTorch's transpose of a compressed matrix), else self."""
        from .tensor import _wrap_dim
        return self.t() if _wrap_dim(dim0, 2, "transpose") != _wrap_dim(dim1, 2, "transpose") \
            else self

    # ------------------------------------------------------------ products and sums
    def mm(self, mat2):
        return Tensor.mm(self, mat2)

    def matmul(self, other):
        return Tensor.matmul(self, other)

    __matmul__ = matmul

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """Every element's sum (dense 0-dim); over a dim, with keepdim=True, the CSR
        matrix of the row or column sums of the lines holding entries (PyTorch's), else
        its error."""
        if dim is None and not keepdim:
            return self._csr_v.sum(dtype=dtype)
        if self._csr_layout is _dt.sparse_csr and dim is not None:
            if not keepdim:
                raise RuntimeError("reduction operations on CSR tensors with keepdim=False "
                                   "is unsupported")
            from .tensor import _wrap_dim
            d = _wrap_dim(dim if isinstance(dim, int) else dim[0], 2, "sum")
            if isinstance(dim, int) or len(dim) == 1:
                r = self.to_sparse_coo().sum(d, dtype=dtype)
                return _to_layout(r.unsqueeze(d), _dt.sparse_csr)
        return Tensor.sum(self, dim, keepdim, dtype=dtype)

    def _scaled(self, name, other):
        if not _is_scalar(other):
            return getattr(Tensor, name)(self, other)
        return self._like(self._csr_crow, self._csr_col, getattr(self._csr_v, name)(other))

    def mul(self, other):
        return self._scaled("mul", other)

    def div(self, other, *, rounding_mode=None):
        raise RuntimeError(f"unsupported tensor layout: {_layout_name(self._csr_layout)}")

    __mul__ = __rmul__ = multiply = mul
    __truediv__ = true_divide = divide = div

    def add(self, other, *, alpha=1):
        """csr + dense: the dense sum; csr + csr: the CSR sum (PyTorch's)."""
        from ._sparse_coo import _k_add
        if isinstance(other, Tensor) and not isinstance(other, (SparseCsrTensor,
                                                                SparseCooTensor)):
            self._dense_add_check(other)
            return _k_add(other * alpha if alpha != 1 else other, self.to_sparse_coo())
        return Tensor.add(self, other, alpha=alpha)

    __add__ = add

    def __radd__(self, other):
        from ._sparse_coo import _k_add
        if isinstance(other, Tensor) and not isinstance(other, SparseCooTensor):
            self._dense_add_check(other)
            return _k_add(other, self.to_sparse_coo())
        return Tensor.add(self, other)

    def _dense_add_check(self, other):
        if self._csr_layout in _BLOCK_LAYOUTS:
            from ._sparse_kernels import _compressed_refusal
            raise _compressed_refusal("aten::add.Tensor", (self, other))

    def neg(self):
        return self._like(self._csr_crow, self._csr_col, self._csr_v.neg())

    __neg__ = negative = neg

    # ------------------------------------------------------------ printing, pickling
    def __repr__(self):
        from ._tensor_str import compressed_repr
        return compressed_repr(self)

    __str__ = __repr__

    def __reduce__(self):
        from ._sparse_coo import rebuild_sparse_tensor
        return (rebuild_sparse_tensor, (self._csr_layout, (self._csr_crow, self._csr_col,
                                                           self._csr_v, tuple(self._sp_size))))

    def __deepcopy__(self, memo):
        t = self.clone()
        memo[id(self)] = t
        return t


def _zero_preserving(name):
    def method(self):
        return self._like(self._csr_crow, self._csr_col, getattr(self._csr_v, name)())
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"x.{name}() of a compressed sparse tensor: of its values."
    return method


def _zero_preserving_(name):
    def method(self, *args, **kwargs):
        getattr(self._csr_v, name + "_")(*args, **kwargs)
        return self._set_values(self._csr_crow, self._csr_col, self._csr_v)
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"x.{name}_() of a compressed sparse tensor: of its values, in place."
    return method


def _square(self):
    raise RuntimeError(f"unsupported tensor layout: {_layout_name(self._csr_layout)}")


for _name in ZERO_PRESERVING:
    if _name == "square":       # (PyTorch's compressed kernels leave it out)
        continue
    setattr(SparseCsrTensor, _name, _zero_preserving(_name))
    if _name not in ("isnan", "isinf", "signbit"):
        setattr(SparseCsrTensor, _name + "_", _zero_preserving_(_name))
SparseCsrTensor.square = SparseCsrTensor.square_ = _square
SparseCsrTensor.__abs__ = SparseCsrTensor.abs


_TRANSPOSED = {_dt.sparse_csr: _dt.sparse_csc, _dt.sparse_csc: _dt.sparse_csr,
               _dt.sparse_bsr: _dt.sparse_bsc, _dt.sparse_bsc: _dt.sparse_bsr}


def _make_csr(crow, col, v, size, layout=_dt.sparse_csr):
    s = object.__new__(SparseCsrTensor)
    s._csr_crow, s._csr_col, s._csr_v, s._sp_size = crow, col, v, Size(size)
    s._csr_layout = layout
    s._dtype, s._device = v._dtype, v._device
    s._vc, s._ag, s._base = [0], None, None
    return s


def _short(layout):
    return _layout_name(layout)[6:].lower()        # csr, csc, bsr, bsc


def _from_coo(c, layout=_dt.sparse_csr, blocksize=None):
    """A coalesced 2-D COO tensor's entries in a compressed layout (int64 indices): CSR in
    their row-major order, CSC sorted by column; BSR / BSC the blocks holding entries
    (row-major / column-major block order), each block's elements (zeros where none)."""
    if c.dim() != 2 or c.dense_dim():
        raise RuntimeError(f"to_sparse_{_short(layout)}: gpujit's compressed sparse tensors "
                           f"are 2-D matrices without batch or dense dims (got a {c.dim()}-D "
                           f"tensor with {c.dense_dim()} dense dims)")
    i = _host(c._sp_i)
    n, m = c.shape
    row = layout in _ROW_LAYOUTS
    v = c._sp_v
    if layout in _BLOCK_LAYOUTS:
        bh, bw = (int(b) for b in blocksize)
        if n % bh or m % bw:
            raise RuntimeError(f"dense_to_sparse_{_short(layout)}: tensor sparse size ({n},{m}) "
                               f"must be divisible by given blocksize ({bh},{bw})")
        nbr, nbc = n // bh, m // bw
        br, bc = i[0] // bh, i[1] // bw
        uniq, inv = np.unique(br * nbc + bc if row else bc * nbr + br, return_inverse=True)
        blocks = np.zeros((uniq.size, bh, bw), v._dtype.np)
        blocks[inv.reshape(-1), i[0] % bh, i[1] % bw] = _host(v)
        comp, plain = np.divmod(uniq, nbc if row else nbr)
        ncomp = nbr if row else nbc
        v = _device_tensor(blocks, c._device)
    elif row:
        comp, plain, ncomp = i[0], i[1].copy(), n
    else:
        order = np.lexsort((i[0], i[1]))
        comp, plain, ncomp = i[1][order], i[0][order], m
        v = v.index_select(0, _device_tensor(order.astype(np.int64), c._device))
    crow = np.zeros(ncomp + 1, np.int64)
    np.cumsum(np.bincount(comp, minlength=ncomp), out=crow[1:])
    _warn_beta(layout)
    return _make_csr(_device_tensor(crow, c._device), _device_tensor(plain, c._device), v,
                     c.shape, layout)


def _to_layout(x, layout, blocksize=None, dense_dim=None):
    """x (dense, COO or compressed) in a compressed layout (its blocksize for BSR / BSC)."""
    from ._sparse_coo import to_sparse
    short = _short(layout)
    if dense_dim is not None:
        raise RuntimeError(f"to_sparse_{short}: dense_dim: gpujit's compressed sparse tensors "
                           f"have no dense dims")
    src = x.layout
    if (layout in _BLOCK_LAYOUTS) != (blocksize is not None):
        what = "dense_to_sparse" if src is _dt.strided else f"to_sparse_{short}"
        raise RuntimeError(f"{what}: conversion from {_layout_name(src)} to "
                           f"{_layout_name(layout)} {'with' if blocksize else 'without'} "
                           f"blocksize argument given is not supported")
    if blocksize is not None:
        blocksize = tuple(int(b) for b in blocksize)
    if isinstance(x, SparseCsrTensor):
        if src is layout and (blocksize is None or x._blocksize() == blocksize):
            return x
        if src is layout:
            raise RuntimeError(f"to_sparse_{short}: conversion from {_layout_name(src)} to "
                               f"{_layout_name(layout)} with blocksize changed from "
                               f"{list(x._blocksize())} to {list(blocksize)} is not "
                               f"supported")
        if src in _BLOCK_LAYOUTS and layout not in _BLOCK_LAYOUTS:
            raise RuntimeError(f"sparse_compressed_to_sparse_{short}: expected SparseCsr or "
                               f"SparseCsc layout but got {_layout_name(src)}")
        x = x.to_sparse_coo()
    if isinstance(x, SparseCooTensor):
        if x.dim() != 2 or x.dense_dim():
            return _from_coo(x, layout, blocksize)      # (its error)
        return _from_coo(x.coalesce(), layout, blocksize)
    if x.dim() != 2:
        raise RuntimeError(f"to_sparse_{short}: gpujit's compressed sparse tensors are 2-D "
                           f"matrices (got a {x.dim()}-D tensor)")
    return _from_coo(to_sparse(x), layout, blocksize)


def to_sparse_csr(self, dense_dim=None):
    """x.to_sparse_csr(): the CSR matrix of a 2-D tensor's nonzero entries (row-major)."""
    return _to_layout(self, _dt.sparse_csr, None, dense_dim)


def to_sparse_csc(self, dense_dim=None):
    """x.to_sparse_csc(): the CSC matrix of a 2-D tensor's nonzero entries (by column)."""
    return _to_layout(self, _dt.sparse_csc, None, dense_dim)


def to_sparse_bsr(self, blocksize, dense_dim=None):
    """x.to_sparse_bsr(blocksize): the blocks of a 2-D tensor holding nonzero entries."""
    return _to_layout(self, _dt.sparse_bsr, blocksize, dense_dim)


def to_sparse_bsc(self, blocksize, dense_dim=None):
    """x.to_sparse_bsc(blocksize): the blocks holding nonzero entries, by block column."""
    return _to_layout(self, _dt.sparse_bsc, blocksize, dense_dim)


for _f in (to_sparse_csr, to_sparse_csc, to_sparse_bsr, to_sparse_bsc):
    setattr(SparseCsrTensor, _f.__name__, _f)   # (a compressed tensor converts as a dense one)
del _f

_PARTS = {_dt.sparse_csr: ("crow_indices", "col_indices"),
          _dt.sparse_csc: ("ccol_indices", "row_indices"),
          _dt.sparse_bsr: ("crow_indices", "col_indices"),
          _dt.sparse_bsc: ("ccol_indices", "row_indices")}


def sparse_compressed_tensor(compressed_indices, plain_indices, values, size=None, *,
                             dtype=None, layout=None, device=None, pin_memory=False,
                             requires_grad=False, check_invariants=None):
    """torch.sparse_compressed_tensor: a 2-D CSR / CSC / BSR / BSC tensor of compressed
    indices (rows, or columns, of entries or blocks + 1), plain indices and values (nnz,
    or nnz blocks); size inferred when not given. The indices keep their integer dtype
    (int32 or int64)."""
    from . import as_tensor
    from .ops.creation import check_pin_memory
    check_pin_memory("sparse_compressed_tensor", pin_memory, none_ok=False)
    if layout not in _PARTS:
        raise RuntimeError(f"sparse_compressed_tensor expected sparse compressed tensor "
                           f"layout but got {_layout_name(layout)}")
    cname, pname = _PARTS[layout]
    short = _short(layout)
    if _registry.dispatch_state.tracing is not None:
        raise RuntimeError(f"sparse_{short}_tensor: gpujit's tracer does not record sparse "
                           f"tensors")
    v = as_tensor(values, dtype=dtype, device=device)
    crow = as_tensor(compressed_indices, device=v.device)
    col = as_tensor(plain_indices, device=v.device)
    if crow._dtype not in (_dt.int32, _dt.int64) or col._dtype is not crow._dtype:
        if crow._dtype.is_floating_point or col._dtype.is_floating_point or \
                crow._dtype is not col._dtype:
            raise RuntimeError(f"compressed_indices and plain_indices must have the same "
                               f"dtype, and be int32 or int64, but got "
                               f"{crow._dtype.short_name} and {col._dtype.short_name}")
        crow, col = crow.to(_dt.int64), col.to(_dt.int64)
    block = layout in _BLOCK_LAYOUTS
    if crow.dim() != 1 or col.dim() != 1 or v.dim() != (3 if block else 1):
        raise RuntimeError(f"sparse_{short}_tensor: gpujit's compressed sparse tensors are "
                           f"2-D matrices: {cname}, {pname} must be 1-D and values "
                           f"{'3-D (nnz blocks)' if block else '1-D'}")
    _no_grad_operand(f"sparse_{short}_tensor", v)
    if col.shape[0] != v.shape[0]:
        raise RuntimeError(f"{pname} and values must have the same number of elements, "
                           f"but got {pname}.numel(): {col.shape[0]}, values.numel(): "
                           f"{v.shape[0]}")
    bh, bw = tuple(v.shape[1:3]) if block else (1, 1)
    row = layout in _ROW_LAYOUTS
    if size is None:
        nplain = int(_host(col).max()) + 1 if col.shape[0] else 0
        ncomp = crow.shape[0] - 1
        size = (ncomp * bh, nplain * bw) if row else (nplain * bh, ncomp * bw)
    size = tuple(int(d) for d in size)
    if len(size) != 2:
        raise RuntimeError(f"sparse_{short}_tensor: gpujit's compressed sparse tensors are "
                           f"2-D matrices (got size {list(size)})")
    if check_invariants is None:
        check_invariants = INVARIANT_CHECKS[0]
        if check_invariants is None:
            _warn_unchecked()
    ncomp = size[0] // bh if row else size[1] // bw
    if crow.shape[0] != ncomp + 1:
        what = (f"size[{-2 if row else -1}]" + (f" / blocksize[{0 if row else 1}]"
                                                 if block else ""))
        raise RuntimeError(f"{cname}.size(-1) must be equal to {what} + 1 (that is "
                           f"{ncomp + 1}), but got: {crow.shape[0]}")
    if check_invariants:
        nplain = size[1] // bw if row else size[0] // bh
        limit = "ncols" if row else "nrows"
        ch, cl = _host(crow), _host(col)
        if ch[0] != 0:
            raise RuntimeError(f"`{cname}[..., 0] == 0` is not satisfied.")
        if ch[-1] != cl.shape[0]:
            raise RuntimeError(f"`{cname}[..., -1] == nnz` is not satisfied.")
        if np.any(np.diff(ch) < 0):
            raise RuntimeError(f"`0 <= {cname}[..., 1:] - {cname}[..., :-1] <= {limit}` is "
                               f"not satisfied.")
        if cl.size and (cl.min() < 0 or cl.max() >= nplain):
            raise RuntimeError(f"`0 <= {pname} < {limit}` is not satisfied.")
    _warn_beta(layout)
    return _make_csr(crow, col, v, size, layout).requires_grad_(requires_grad)


def _constructor(layout):
    def make(compressed_indices, plain_indices, values, size=None, *, dtype=None,
             device=None, pin_memory=False, requires_grad=False, check_invariants=None):
        from .ops.creation import check_pin_memory
        check_pin_memory(make.__name__, pin_memory, none_ok=False)
        return sparse_compressed_tensor(compressed_indices, plain_indices, values, size,
                                        dtype=dtype, layout=layout, device=device,
                                        pin_memory=pin_memory, requires_grad=requires_grad,
                                        check_invariants=check_invariants)
    short = _short(layout)
    make.__name__ = make.__qualname__ = f"sparse_{short}_tensor"
    make.__doc__ = f"torch.sparse_{short}_tensor: sparse_compressed_tensor of that layout."
    return make


sparse_csr_tensor = _constructor(_dt.sparse_csr)
sparse_csc_tensor = _constructor(_dt.sparse_csc)
sparse_bsr_tensor = _constructor(_dt.sparse_bsr)
sparse_bsc_tensor = _constructor(_dt.sparse_bsc)


def _csr_rebuild(data, layout=_dt.sparse_csr):
    crow, col, values, size = data[:4]
    return sparse_compressed_tensor(crow, col, values, size, layout=layout,
                                    check_invariants=False)


def as_coo(t):
    """t as a COO tensor when it is a CSR one (the COO kernels' operand), else t."""
    return t.to_sparse_coo() if isinstance(t, SparseCsrTensor) else t


for _cls in (Tensor, SparseCooTensor):
    _cls.to_sparse_csr, _cls.to_sparse_csc = to_sparse_csr, to_sparse_csc
    _cls.to_sparse_bsr, _cls.to_sparse_bsc = to_sparse_bsr, to_sparse_bsc
