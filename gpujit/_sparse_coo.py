"""Sparse COO tensors: what programs that keep a sparse mask or adjacency matrix use
(Whisper's `alignment_heads` buffer, GCN's adjacency): x.to_sparse() / torch.sparse_coo_tensor
/ torch.sparse.FloatTensor(...), the parts (indices(), values(), _nnz(), sparse_dim() ...),
coalesce(), to_dense(), .to() / clone() / detach() / copy_(), t(), sum(), * and / by a
number, the zero-preserving pointwise methods (abs, sqrt, tanh ...), mm of a sparse matrix
by a dense one, repr, pickling and torch.save / torch.load in PyTorch's format; through the
registry's entry points (below), the function forms: torch.mm / matmul / addmm / mv / bmm /
spmm with a sparse operand, dense + sparse, dense * sparse, sum over dims, zeros_like,
transpose, select. The CPU
numerics are PyTorch's kernels' own (coalesce's and to_dense's summation order, mm's fused
multiply-adds), bit for bit.

A sparse tensor is a SparseCooTensor, a Tensor subclass holding its indices (a 2-D int64
Tensor, sparse_dim x nnz) and values (a Tensor, nnz x dense dims). It has no dense array:
its `_data` is a property that raises PyTorch's NotImplementedError for the sparse backend
("Could not run 'aten::exp' with arguments from the 'SparseCPU' backend"), so every op
without a sparse implementation refuses instead of computing a wrong answer, and the dense
Tensor's fast paths carry no check at all (the op's name is read from the calling frame, on
the error path only). That error is a registry.SparseOperand naming the op, which the
op's public entry point catches (a `try` around its body, free when nothing is raised) to
run the op's kernel (_KERNELS, by op name: _sparse_products.py, _sparse_kernels.py)
or re-raise PyTorch's NotImplementedError:
torch.mm(s, d) and d.add_(s) work with no check on any dense call.

Autograd lives on the values: a sparse tensor requires grad, has a grad_fn and is a leaf as
its values tensor; its .grad is the values' gradient as a sparse tensor of its indices (one
entry per index). The ops record through the values with PyTorch's node names (to_dense:
ToDenseBackward0, torch.sparse.mm: SparseAddmmBackward0, coalesce, values(), t(),
sparse_coo_tensor of values requiring grad, to_sparse of a dense tensor requiring grad ...);
values-only ops (* 2, neg, pow ...) record as the dense ops they run. Where PyTorch's
gradient for a sparse leaf is dense (torch.mm, addmm, mv, dense @ sparse, dense + sparse,
s.sum()), the op records through a dense zero leaf kept on s (_grad_input), whose gradient
s.grad then is. Kernels with no gradient (sparse *
sparse, sparse @ sparse, bmm, a dense operand of dense * sparse) refuse an input that
requires grad in words.
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
              "coalesce(), is_coalesced(), to_dense(), to(), clone(), detach(), t(), "
              "transpose, s[i], sum() and sum(dims), * and / by a number, * by a dense or "
              "sparse tensor, dense + sparse, neg, pow, abs and other zero-preserving "
              "pointwise methods, mm / matmul / @ / addmm / mv / bmm / torch.sparse.mm / "
              "torch.spmm with a dense matrix, zeros_like / new_zeros, unsqueeze, "
              "index_select, narrow_copy, permute, cat, stack, unbind, add_ / zero_, the "
              "in-place zero-preserving methods, sspaddmm / smm / hspmm")


_SUPPORTED_COMPRESSED = (
    "compressed sparse tensors (CSR, CSC, BSR, BSC) have their parts, to_dense(), "
    "to_sparse_coo() and the other layouts, t(), clone(), to(), * by a number, neg, abs and "
    "other zero-preserving methods (in place too), sum(), mm / matmul / addmm / mv with a "
    "dense matrix, + a dense tensor, zeros_like")


def _backend(dev, kind="Sparse"):
    return kind + ("CUDA" if dev.type == "cuda" else "CPU")


def _refusal(frame, dev, kind="Sparse"):
    """The error for reading a sparse tensor's dense array: PyTorch's NotImplementedError
    naming the registry op whose entry point reads it (its generated code binds `_op`);
    in the script / trace runtime, that it takes no sparse tensors."""
    first = frame.f_code.co_name
    for _ in range(8):
        if frame is None:
            break
        op = _registry.entry_op_of(frame)
        if op is not None:
            # (the op's public entry point catches it and runs its sparse kernel, if any)
            return _registry.SparseOperand(str(not_implemented(op.name, dev, kind)), op)
        if frame.f_globals.get("__name__", "").startswith(_COMPILER_MODULES):
            return RuntimeError("gpujit's scripted and traced functions do not take sparse "
                                "tensors: pass x.to_dense(), or call the function unscripted")
        frame = frame.f_back
    return not_implemented(f"aten::{first.strip('_')}", dev, kind)


_COMPILER_MODULES = ("gpujit.jit", "gpujit.runtime", "gpujit.frontend", "gpujit.ir")


# gpujit's op -> the op PyTorch's sparse COO dispatch reaches (and names in its error):
# merged overloads, composites and out= forms it runs through
_TORCH_DISPATCH = {
    "aten::mean": "aten::mean.dim", "aten::std": "aten::std.correction",
    "aten::std.dim": "aten::std.correction", "aten::var": "aten::var.correction",
    "aten::var.dim": "aten::var.correction", "aten::softmax.int": "aten::_softmax",
    "aten::log_softmax.int": "aten::_log_softmax", "aten::logsumexp": "aten::logsumexp.out",
    "aten::sort": "aten::sort.stable", "aten::argsort": "aten::sort.stable",
    "aten::linalg_norm": "aten::linalg_vector_norm", "aten::chunk": "aten::as_strided",
    "aten::split.Tensor": "aten::as_strided", "aten::squeeze": "aten::as_strided",
    "aten::split_with_sizes": "aten::as_strided",
    "aten::diff": "aten::as_strided", "aten::count_nonzero": "aten::count_nonzero.dim_IntList",
    "aten::allclose": "aten::eq.Tensor", "aten::isclose": "aten::eq.Tensor",
    "aten::diag": "aten::diagonal_copy", "aten::kthvalue": "aten::kthvalue.values",
    "aten::cummax": "aten::_cummax_helper", "aten::logcumsumexp": "aten::_logcumsumexp",
    "aten::logical_not": "aten::logical_not.out", "aten::nanmean": "aten::ne.Tensor"}


# the same for the compressed layouts (their reductions run through out= forms)
_TORCH_DISPATCH_CSR = {
    "aten::mean": "aten::mean.out", "aten::amax": "aten::amax.out",
    "aten::amin": "aten::amin.out", "aten::argmax": "aten::argmax.out",
    "aten::argmin": "aten::argmin.out", "aten::all": "aten::all.all_out",
    "aten::any": "aten::any.all_out", "aten::cumsum": "aten::cumsum.out",
    "aten::count_nonzero": "aten::count_nonzero.dim_IntList",
    "aten::std": "aten::std.correction", "aten::var": "aten::var.correction",
    "aten::linalg_vector_norm": "aten::norm.out"}


def not_implemented(name, dev, kind="Sparse"):
    if kind == "Sparse":
        name = _TORCH_DISPATCH.get(name, name)
    elif kind == "SparseCsr":
        name = _TORCH_DISPATCH_CSR.get(name, name)
    what = _SUPPORTED_COMPRESSED if kind == "SparseCsr" else "sparse COO tensors have " + \
        _SUPPORTED
    return NotImplementedError(
        f"Could not run '{name}' with arguments from the '{_backend(dev, kind)}' backend. This could "
        f"be because the operator doesn't exist for this backend, or was omitted during the "
        f"selective/custom build process (if using custom build). gpujit's {what}; call "
        f".to_dense() first")


class SparseCooTensor(Tensor):
    """A sparse COO tensor (layout torch.sparse_coo)."""
    __slots__ = ("_sp_i", "_sp_v", "_sp_size", "_sp_coalesced", "_sp_shadow")
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

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, other):
        """x.data = sparse (Module.to / .double() of a sparse parameter): other's parts,
        the values a leaf that requires grad as self's were (its .grad kept where it fits)."""
        if not isinstance(other, SparseCooTensor):
            raise RuntimeError("set_data: a sparse tensor's data can be set to a sparse COO "
                               "tensor only")
        self._set_parts(other._sp_i, other._sp_v.detach(), other._sp_size,
                        other._sp_coalesced)

    def _set_parts(self, i, v, size, coalesced):
        """self's parts replaced; a leaf whose values required grad keeps requiring it
        (its .grad kept where it fits the new values)."""
        old = self._sp_v
        if old.requires_grad and old.grad_fn is None:
            g = old.grad
            v._set_requires_grad(True)      # (gpujit's own: allowed under torch.func)
            if g is not None and g.shape == v.shape and g.dtype is v.dtype:
                v.grad = g
        self._sp_i, self._sp_v = i, v
        self._sp_size, self._sp_coalesced = Size(size), coalesced
        self._dtype, self._device = v._dtype, v._device

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

    # autograd lives on the values: a sparse tensor requires grad, has a grad_fn, is a leaf
    # and has a .grad (sparse, its indices) as its values tensor does; the ops record
    # through the values (to_dense, mm ... are Functions with the values as an input)
    @property
    def requires_grad(self):
        return self._sp_v.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag.__class__ is not bool:
            raise RuntimeError("requires_grad must be a bool")
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        v = self._sp_v
        if requires_grad == v.requires_grad:
            return self
        if requires_grad:
            self._sp_v = v.detach().requires_grad_()
        else:
            v.requires_grad_(False)     # (PyTorch's error for a non-leaf)
            self._sp_shadow = None
        return self

    @property
    def grad_fn(self):
        return self._sp_v.grad_fn

    @property
    def is_leaf(self):
        return self._sp_v.grad_fn is None

    @property
    def grad(self):
        """The gradient: a sparse tensor of self's indices (the values' gradient), or dense
        where an op whose PyTorch gradient for a sparse input is dense (torch.mm, addmm,
        mv, dense @ sparse, dense + sparse) reached it (_grad_input's shadow)."""
        sh = self._sp_shadow
        dense = sh.grad if sh is not None else None
        sparse = self._sparse_grad()
        if dense is None or sparse is None:
            return sparse if dense is None else dense
        return dense + sparse

    def _sparse_grad(self):
        v = self._sp_v
        g = v.grad if v.grad_fn is None else None
        if g is None:
            return None
        if not self._sp_coalesced:
            # (an index stored twice: one entry, the gradient at it, as PyTorch's, whose
            # gradient is the dense one masked by the coalesced tensor)
            i = _host(self._sp_i)
            uniq, first = np.unique(_linear(i, self._sp_size), return_index=True)
            if uniq.size < i.shape[1]:
                ft = _device_tensor(first.astype(np.int64), self._device)
                return _make(self._sp_i.index_select(1, ft), g.index_select(0, ft),
                             self._sp_size, True)
        return _make(self._sp_i, g, self._sp_size, self._sp_coalesced)

    @grad.setter
    def grad(self, g):
        if self._sp_shadow is not None:
            self._sp_shadow.grad = None
        if g is None or g.is_sparse:
            self._sp_v.grad = None if g is None else _gather(g.to_dense(), self).detach()
        else:
            self._sp_v.grad = None
            _grad_input(self, force=True).grad = g.detach()

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
        return _alias(self._sp_v, "ValuesBackward0")

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
        vt = _device_tensor(out, self._device)
        if _records(self._sp_v):
            where = np.empty(order.size, np.int64)
            where[order] = inverse.reshape(-1)
            vt = _Coalesce.apply(self._sp_v, (vt, _device_tensor(where, self._device)))
        return _make(_device_tensor(i, self._device), vt, self._sp_size, True)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The dense tensor: zeros, each entry added at its index in storage order (as
        PyTorch's CPU kernel: duplicates of an uncoalesced tensor sum in that order)."""
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_to_dense")
        if _records(self._sp_v):
            return _ToDense.apply(self._sp_v, (self,))
        return self._dense()

    def _dense(self):
        size, sd = self._sp_size, self.sparse_dim()
        i, v = _host(self._sp_i), _host(self._sp_v)
        a = np.zeros((int(np.prod(size[:sd], dtype=np.int64)),) + tuple(size[sd:]), v.dtype)
        np.add.at(a, _linear(i, size), v)
        return _device_tensor(a.reshape(size), self._device)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout not in (None, _dt.sparse_coo):
            from ._sparse_csr import _to_layout
            return _to_layout(self, layout, blocksize, dense_dim)
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
        self._set_parts(src._sp_i.to(self._device, copy=True),
                        src._sp_v.detach().to(dtype=self._dtype, device=self._device,
                                              copy=True),
                        src._sp_size, src._sp_coalesced)
        self._vc[0] += 1
        return self

    def clone(self, *, memory_format=None):
        return _make(self._sp_i.clone(), self._sp_v.clone(), self._sp_size,
                     self._sp_coalesced)

    def detach(self):
        return _make(self._sp_i, self._sp_v.detach(), self._sp_size, self._sp_coalesced)

    def t(self):
        """The transpose of a matrix with 2 sparse and 0 dense dims (indices swapped,
        uncoalesced as PyTorch's; of fewer sparse dims, self's parts)."""
        sd, dd = self.sparse_dim(), self.dense_dim()
        if sd > 2 or dd:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but got {sd} sparse and {dd} dense dimensions")
        if sd < 2:
            return _make(self._sp_i, _alias(self._sp_v, "TBackward0"), self._sp_size,
                         self._sp_coalesced)
        return _make(self._sp_i.flip(0), _alias(self._sp_v, "TBackward0"),
                     self._sp_size[::-1], False)

    @property
    def T(self):
        return self.t()

    def stride(self, dim=None):
        """Zeros (a sparse tensor has no strides; PyTorch 2.13 reports 0 for each dim)."""
        if dim is None:
            return (0,) * self.dim()
        from .tensor import _wrap_dim
        _wrap_dim(dim, self.dim(), "stride")
        return 0

    def __getitem__(self, index):
        """s[i], s[i, j], s[:, j]: integer indices and whole-dim slices (select)."""
        index = index if isinstance(index, tuple) else (index,)
        if len(index) > self.dim():
            raise IndexError(f"too many indices for tensor of dimension {self.dim()}")
        r, d = self, 0
        for od, x in enumerate(index):
            if isinstance(x, slice) and x == slice(None):
                d += 1
            elif isinstance(x, int) and not isinstance(x, bool):
                size = self._sp_size[od]
                if not -size <= x < size:
                    raise IndexError(f"index {x} is out of bounds for dimension {od} with "
                                     f"size {size}")
                r = _select(r, d, x)
            else:
                raise not_implemented("aten::index.Tensor" if isinstance(x, Tensor)
                                      else "aten::as_strided", self._device)
        return r

    def mm(self, mat2):
        return _k_mm(self, mat2)

    def matmul(self, other):
        return _k_matmul(self, other)

    __matmul__ = matmul

    def __rmatmul__(self, other):
        return _k_matmul(other, self)

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
            x = _grad_input(self)
            if x is not self._sp_v:     # (a leaf requiring grad: torch's gradient is dense)
                return _SumDense.apply(x, (self, dtype))
            return self._sp_v.sum(dtype=dtype)
        return Tensor.sum(self, dim, keepdim, dtype=dtype)

    def floor_divide(self, other):
        return _k_floor_divide(self, other)

    __floordiv__ = floor_divide

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

    __add__ = add
    __sub__ = subtract = sub

    def add_(self, other, *, alpha=1):
        """self += alpha * other in place (sparse + sparse; + dense is PyTorch's refusal):
        self's parts replaced by the sum's, the values in self's dtype."""
        r = self.add(other, alpha=alpha)
        if r._dtype is not self._dtype and not _dt.can_cast(r._dtype, self._dtype):
            raise RuntimeError(f"Can't convert result type {r._dtype.short_name} to output "
                               f"{self._dtype.short_name} in add operation")
        if self.requires_grad and self.is_leaf and _records(self._sp_v):
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        if r._nnz() == self._nnz() and bool((r._sp_i == self._sp_i).all()):
            # (the same entries: the values written in place, so a leaf's values tensor,
            # its .grad and an optimizer's reference to it stay, as PyTorch's in-place add)
            self._sp_v.copy_(r._sp_v)
        else:
            self._sp_i, self._sp_v = r._sp_i, r._sp_v.to(self._dtype)
        self._sp_size, self._sp_coalesced = r._sp_size, r._sp_coalesced
        self._vc[0] += 1
        return self

    def sub_(self, other, *, alpha=1):
        return self.add_(other, alpha=-alpha)

    __iadd__ = add_
    __isub__ = sub_

    def zero_(self):
        """No entries left (nnz 0), in place."""
        from . import zeros
        self._sp_i = zeros((self.sparse_dim(), 0), dtype=_dt.int64, device=self._device)
        self._sp_v = zeros((0,) + tuple(self._sp_size[self.sparse_dim():]), dtype=self._dtype,
                           device=self._device)
        self._sp_coalesced = True
        self._vc[0] += 1
        return self

    def item(self):
        return self.to_dense().item()

    def any(self, dim=None, keepdim=False):
        """Whether any stored value is nonzero (PyTorch's any of a sparse tensor: of its
        values); over a dim, PyTorch's error."""
        if dim is None and not keepdim:
            return self._sp_v.any()
        raise not_implemented("aten::any.dim", self._device)

    def unbind(self, dim=0):
        """The slices along dim (select: sparse, or dense 0-dim ones of a 1-D tensor)."""
        from .tensor import _wrap_dim
        dim = _wrap_dim(dim, self.dim(), "unbind")
        return tuple(_select(self, dim, k) for k in range(self._sp_size[dim]))

    def __bool__(self):
        return bool(self.to_dense())

    def reshape(self, *shape):
        raise RuntimeError("reshape is not implemented for sparse tensors")

    def contiguous(self, memory_format=None):
        raise RuntimeError("unsupported memory format option Contiguous")

    def expand(self, *sizes, implicit=False):
        raise RuntimeError("expand is unsupported for Sparse tensors")

    @property
    def nbytes(self):
        raise RuntimeError("nbytes is not defined for sparse tensors.  If you want the size "
                           "of the constituent tensors, add the nbytes of the indices and "
                           "values.  If you want the size of the equivalent dense tensor, "
                           "multiply numel() by element_size()")

    def untyped_storage(self):
        raise NotImplementedError("Cannot access storage of SparseTensorImpl")

    storage = untyped_storage

    @property
    def mT(self):
        return _k_transpose(self, -2, -1)

    @property
    def H(self):
        return self.t() if not self._dtype.is_complex else self.t().conj()

    def register_hook(self, hook):
        """hook(grad) -> None or a replacement, called with the sparse gradient (self's
        indices) when it is computed, as PyTorch's; a handle with .remove()."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        i, size, coalesced = self._sp_i, self._sp_size, self._sp_coalesced

        def on_values(g):
            r = hook(_make(i, g, size, coalesced))
            if r is None:
                return None
            if isinstance(r, SparseCooTensor):
                return r._sp_v if r._sp_i is i else _gather(r.to_dense(), self)
            return _gather(r, self)
        return self._sp_v.register_hook(on_values)

    def flatten(self, start_dim=0, end_dim=-1):
        raise RuntimeError("reshape is not implemented for sparse tensors")

    def __radd__(self, other):
        """dense + sparse (Python asks the subclass's reflected operator first): the dense
        sum; number + sparse: PyTorch's refusal."""
        if isinstance(other, Tensor):
            return _k_add(other, self)
        return self.add(other)

    def __rsub__(self, other):
        if not isinstance(other, Tensor):
            _same_size(_registry.wrap_array(np.asarray(0.0), self._device), self)
        return _k_add(other, self, -1)

    def pow(self, exponent):
        """The coalesced values to a number's power (PyTorch refuses 0: a dense result)."""
        if isinstance(exponent, Tensor):        # (PyTorch's: no tensor exponent)
            raise not_implemented("aten::pow.Tensor_Tensor", self._device)
        if not _is_scalar(exponent):
            return Tensor.pow(self, exponent)
        if exponent == 0:
            raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would "
                               "make the result tensor dense")
        c = self.coalesce()
        return _make(c._sp_i, c._sp_v.pow(exponent), c._sp_size, True)

    __pow__ = pow

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
        return (rebuild_sparse_tensor, (_dt.sparse_coo, (self._sp_i, self._sp_v.detach(),
                                                         tuple(self._sp_size),
                                                         self._sp_coalesced)))

    def __deepcopy__(self, memo):
        """A copy of the parts; a leaf requiring grad stays one (as PyTorch's)."""
        t = self.detach().clone()
        if self.requires_grad:
            t.requires_grad_()
        memo[id(self)] = t
        return t


def _is_scalar(v):
    return isinstance(v, (bool, int, float)) or (isinstance(v, Tensor) and not isinstance(
        v, SparseCooTensor) and v.dim() == 0)


def _zero_preserving(name):
    """A pointwise op with f(0) == 0, which PyTorch runs on a sparse tensor's coalesced
    values (the result coalesced)."""
    def method(self, *args, **kwargs):
        c = self.coalesce()
        return _make(c._sp_i, getattr(c._sp_v, name)(*args, **kwargs), c._sp_size, True)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"x.{name}() of a sparse tensor: of its coalesced values."
    return method


# the methods that map 0 to 0, applied to a sparse tensor's values (COO here, CSR too)
ZERO_PRESERVING = ("abs", "sqrt", "sin", "tan", "tanh", "sinh", "asin", "atan", "asinh",
                   "atanh", "ceil", "floor", "round", "trunc", "sign", "sgn", "expm1", "log1p",
                   "erf", "erfinv", "frac", "deg2rad", "rad2deg", "relu", "square", "isnan",
                   "isinf", "signbit", "nan_to_num")
for _name in ZERO_PRESERVING:
    setattr(SparseCooTensor, _name, _zero_preserving(_name))
SparseCooTensor.__abs__ = SparseCooTensor.abs


def _zero_preserving_(name):
    """x.<name>_() in place: PyTorch's runs on the values of a coalesced tensor only."""
    def method(self, *args, **kwargs):
        if not self._sp_coalesced:
            raise RuntimeError(f"{name}_ requires coalesced input")
        getattr(self._sp_v, name + "_")(*args, **kwargs)
        self._dtype = self._sp_v._dtype
        self._vc[0] += 1
        return self
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"x.{name}_() of a coalesced sparse tensor: of its values, in place."
    return method


for _name in ZERO_PRESERVING:
    if _name not in ("isnan", "isinf", "signbit", "square"):    # (no in-place form)
        setattr(SparseCooTensor, _name + "_", _zero_preserving_(_name))


def _neg_(self):
    """-x in place: the values negated (linear: an uncoalesced tensor too, as PyTorch's)."""
    self._sp_v.neg_()
    self._vc[0] += 1
    return self


def _square_(self):
    raise not_implemented("aten::pow_.Scalar", self._device)    # (PyTorch's square_ is pow_)


SparseCooTensor.neg_ = SparseCooTensor.negative_ = _neg_
SparseCooTensor.square_ = _square_


def _linear(i, size):
    """The row-major linear index of each entry over the sparse dims."""
    lin = np.zeros(i.shape[1], np.int64)
    for d in range(i.shape[0]):
        lin = lin * size[d] + i[d]
    return lin


def _autograd_function():
    from .autograd.function import OpFunction
    return OpFunction


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
    s._sp_shadow = None
    s._dtype, s._device = v._dtype, v._device
    s._vc, s._ag, s._base = [0], None, None
    return s


_NO_AUTOGRAD = "gpujit's sparse kernel for this op records no autograd"


def _no_grad_operand(what, t):
    """PyTorch records a gradient where gpujit's sparse kernel does not (a dense operand of
    dense * sparse, sparse * sparse, sparse @ sparse, bmm, CSR): refused in words."""
    from .autograd import is_grad_enabled
    if t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{what}: {_NO_AUTOGRAD} and an input requires grad; pass it "
                           f".detach()ed or call under torch.no_grad()")


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """x.to_sparse(sparse_dim=x.dim()): the COO tensor of x's nonzero entries (with
    sparse_dim < x.dim(), of its nonzero slices), indices in row-major order, coalesced."""
    if layout not in (None, _dt.sparse_coo):
        from ._sparse_csr import _to_layout
        return _to_layout(self, layout, blocksize, dense_dim)
    if blocksize is not None or dense_dim is not None:
        raise RuntimeError("to_sparse: blocksize and dense_dim are for the compressed layouts "
                           "(layout=torch.sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)")
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
    it, vt = _device_tensor(i, self._device), _device_tensor(v, self._device)
    if _records(self):
        vt = _ToSparse.apply(self, (vt, it))
    return _make(it, vt, self.shape, True)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """torch.sparse_coo_tensor: indices (sparse_dim x nnz, made int64) and values (nnz x
    dense dims); size inferred from the indices when not given. Coalesced when
    is_coalesced=True says so or nnz <= 1, as PyTorch's."""
    from .ops.creation import check_pin_memory
    check_pin_memory("sparse_coo_tensor", pin_memory, none_ok=False)
    from . import as_tensor
    if _registry.dispatch_state.tracing is not None:
        raise RuntimeError("sparse_coo_tensor: gpujit's tracer does not record sparse tensors")
    if dtype is not None:
        dtype = _dt.dtype_param(dtype, "sparse_coo_tensor(): argument 'dtype'")
    v = as_tensor(values, dtype=dtype, device=device)
    i = as_tensor(indices, device=v.device)
    if i._dtype is not _dt.int64:
        i = i.to(_dt.int64)
    if i.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(i.shape)}")
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
    v = _alias(v, "SparseCooTensorWithDimsAndTensorsBackward0")
    s = _make(i, v, size, is_coalesced if is_coalesced is not None else nnz <= 1)
    return s.requires_grad_() if requires_grad else s


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


_KERNELS = {}


def sparse_kernel(op, args=()):
    """The kernel of registry op `op` for sparse operands, or None (PyTorch's
    NotImplementedError then). While tracing: a RuntimeError, the tracer records no
    sparse tensors. With a CSR operand (gpujit/_sparse_csr.py), the op's COO kernel over
    its COO form, for the ops that take one (_CSR_OPS)."""
    from ._sparse_csr import SparseCsrTensor
    comp = [a for a in args if type(a) is SparseCsrTensor]
    if comp:
        fn = _CSR_OPS.get(op.name)
        if fn is None and "pointwise" in op.tags and op.name not in _NOT_STRUCTURED:
            fn = _unsupported_layout(comp[0])
    else:
        fn = _KERNELS.get(op.name)
    if fn is not None and _registry.dispatch_state.tracing is not None:
        raise RuntimeError(f"{op.public_name}: gpujit's tracer does not record sparse "
                           f"tensors; make the sparse tensor dense (.to_dense()) or call "
                           f"the function untraced")
    return fn


# pointwise ops whose PyTorch kernels are not TensorIterator ones: they reach the compressed
# layouts' NotImplementedError (or another op's error), not 'unsupported tensor layout'
_NOT_STRUCTURED = {"aten::where.self", "aten::floor_divide", "aten::floor_divide.Scalar",
                   "aten::logical_not", "aten::nan_to_num"}


def _unsupported_layout(c):
    """PyTorch's error for a pointwise op its compressed kernels do not compute (not
    zero-preserving: exp, comparisons, sub ...)."""
    from ._sparse_csr import _layout_name

    def kernel(*args):
        raise RuntimeError(f"unsupported tensor layout: {_layout_name(c.layout)}")
    return kernel


def _kernel(*names):
    def deco(fn):
        for n in names:
            _KERNELS[n] = fn
        return fn
    return deco


def rebuild_sparse_tensor(layout, data):
    """torch._utils._rebuild_sparse_tensor for a COO or CSR tensor (what torch.save
    writes)."""
    if layout in (_dt.sparse_csr, _dt.sparse_csc, _dt.sparse_bsr, _dt.sparse_bsc):
        from ._sparse_csr import _csr_rebuild
        return _csr_rebuild(data, layout)
    if layout is not _dt.sparse_coo:
        raise RuntimeError(f"gpujit.load: the file holds a {layout!r} tensor: gpujit has "
                           f"sparse COO tensors only")
    indices, values, size = data[:3]
    coalesced = data[3] if len(data) > 3 else None
    # (as torch.load: built unchecked without a warning; PyTorch validates them after)
    return sparse_coo_tensor(indices, values, size, check_invariants=False,
                             is_coalesced=coalesced)


def _is_sparse(t):
    return isinstance(t, SparseCooTensor)


def _dense_operand(t, what):
    """t, a dense tensor (PyTorch's NotImplementedError for a second sparse operand
    where gpujit has no sparse-sparse kernel)."""
    if _is_sparse(t):
        raise not_implemented(what, t._device)
    return t


def _name_node(cls, name):
    from .autograd.function import FunctionBackward
    type.__setattr__(cls, "_backward_cls", type(name, (FunctionBackward,),
                                                {"__module__": "gpujit.autograd.graph"}))


def _select(self, dim, index):
    """The entries whose index along sparse dim `dim` is `index`, that dim dropped
    (uncoalesced but of fewer than 2 entries, as PyTorch's); with no sparse dim left, the
    dense tensor."""
    from .tensor import _wrap_dim
    n, sd = self.dim(), self.sparse_dim()
    d = _wrap_dim(dim, n, "select")
    size = self.shape[d]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {size}")
    index %= size
    if d >= sd:
        return _make(self._sp_i, self._sp_v.select(d - sd + 1, index),
                     self.shape[:d] + self.shape[d + 1:], self._sp_coalesced)
    keep = np.nonzero(_host(self._sp_i[d]) == index)[0]
    kt = _device_tensor(keep.astype(np.int64), self._device)
    rows = [r for r in range(sd) if r != d]
    v = self._sp_v.index_select(0, kt)
    if not rows:
        return v.sum(0)
    return _make(self._sp_i[rows].index_select(1, kt), v,
                 self.shape[:d] + self.shape[d + 1:], keep.size < 2)


_KERNELS["aten::select.int"] = _select
_KERNELS["aten::unbind.int"] = lambda self, dim=0: self.unbind(dim)

# ---------------------------------------------------------------- autograd of the values
def _records(t):
    """Whether an op on t records autograd (t requires grad, grad mode on)."""
    from .autograd import is_grad_enabled
    return t.requires_grad and is_grad_enabled()


def _grad_input(s, force=False):
    """The input through which an op whose PyTorch gradient for the sparse s is dense
    (torch.mm, addmm, mv, dense @ sparse, dense + sparse) records it: for a leaf that
    requires grad, a dense zero leaf of s's size kept on s (its .grad is s's dense
    gradient); otherwise s's values (the gradient goes on to what made them)."""
    v = s._sp_v
    if force or (v.requires_grad and v.grad_fn is None and _records(v)):
        sh = s._sp_shadow
        if sh is None or tuple(sh.shape) != tuple(s.shape) or sh._dtype is not s._dtype \
                or sh._device != s._device:
            from . import zeros
            sh = s._sp_shadow = zeros(tuple(s.shape), dtype=s._dtype, device=s._device)
            sh._set_requires_grad(True)     # (gpujit's own: allowed under torch.func)
        return sh
    return v


def _gather(dense, s):
    """dense's elements (dense's slices, with dense dims) at s's indices, in s's order:
    the gradient of s's values from a dense one."""
    sd = s.sparse_dim()
    flat = dense.reshape((-1,) + tuple(dense.shape[sd:]))
    lin = _device_tensor(_linear(_host(s._sp_i), s._sp_size), dense._device)
    return flat.index_select(0, lin)


def _named(name, forward, backward):
    """A Function whose node is named `name` (PyTorch's node for the op)."""
    from .autograd.function import FunctionBackward
    cls = type(name[:name.index("Backward")], (_autograd_function(),), {
        "__module__": __name__, "forward": staticmethod(forward),
        "backward": staticmethod(backward)})
    type.__setattr__(cls, "_backward_cls", type(name, (FunctionBackward,),
                                                {"__module__": "gpujit.autograd.graph"}))
    return cls


def _alias_forward(ctx, v):
    return v.view_as(v)


def _alias_backward(ctx, grad):
    return grad


_ALIASES = {}


def _alias(v, name):
    """v, or where it records autograd an alias of it whose grad_fn is named `name`
    (a sparse tensor's grad_fn is its values', as PyTorch names it: TBackward0 ...)."""
    if not _records(v):
        return v
    fn = _ALIASES.get(name)
    if fn is None:
        fn = _ALIASES[name] = _named(name, _alias_forward, _alias_backward)
    return fn.apply(v)


def _to_dense_forward(ctx, values, boxed):
    ctx.s = boxed[0]
    return boxed[0]._dense()


def _to_dense_backward(ctx, grad):
    return _gather(grad, ctx.s), None


def _coalesce_forward(ctx, values, boxed):
    out, where = boxed
    ctx.where = where
    return out


def _coalesce_backward(ctx, grad):
    return grad.index_select(0, ctx.where), None


def _to_sparse_forward(ctx, x, boxed):
    v, i = boxed
    ctx.i, ctx.shape = i, x.shape
    return v


def _to_sparse_backward(ctx, grad):
    from . import zeros
    g = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
    sd = ctx.i.shape[0]
    if sd == 0:
        return (g + grad.sum(0) if grad.shape[0] else g), None
    return g.index_put(tuple(ctx.i[d] for d in range(sd)), grad), None


def _sum_dense_forward(ctx, shadow, boxed):
    s, dtype = boxed
    ctx.shape = tuple(s.shape)
    return s._sp_v.detach().sum(dtype=dtype)


def _sum_dense_backward(ctx, grad):
    from . import zeros
    return zeros(ctx.shape, dtype=grad.dtype, device=grad.device) + grad, None


_SumDense = _named("SumBackward0", _sum_dense_forward, _sum_dense_backward)
_ToDense = _named("ToDenseBackward0", _to_dense_forward, _to_dense_backward)
_Coalesce = _named("CoalesceBackward0", _coalesce_forward, _coalesce_backward)
_ToSparse = _named("ToSparseBackward1", _to_sparse_forward, _to_sparse_backward)

_SPARSE_PARAMETER = []


def embedding_sparse_grad(grad, indices, num_weights, padding_idx):
    """The gradient of embedding(weight, indices, sparse=True) for weight, as PyTorch's
    embedding_sparse_backward: uncoalesced COO, one entry per looked-up index in the
    indices' order (those equal to padding_idx left out), its row of grad as the values."""
    from . import int64
    idx = indices.reshape(-1)
    g = grad.reshape(idx.shape[0], grad.shape[-1])
    if padding_idx >= 0:
        keep = idx != padding_idx
        idx, g = idx[keep], g[keep]
    n = idx.shape[0]
    return _make(idx.reshape(1, n).to(int64), g, (num_weights, grad.shape[-1]), n < 2)


def sparse_grad_accumulate(acc, g, create_graph):
    """PyTorch's AccumulateGrad where the .grad `acc` or the new gradient `g` is sparse
    (embedding(sparse=True)): the first gradient kept as a new tensor of its parts (a
    clone where its values are a view or non-contiguous, as PyTorch's, which takes them
    only when it holds the last reference); then sparse .grad += sparse or dense .grad
    += sparse in place, a sparse .grad plus a dense gradient the dense sum (create_graph:
    out of place). Returns the new .grad."""
    if acc is None:         # (g is sparse)
        v = g._sp_v
        if v._base is not None or not v.is_contiguous():
            return g.clone()
        return _make(g._sp_i, v, g._sp_size, g._nnz() < 2)
    if acc.is_sparse and not g.is_sparse:
        return g + acc
    if create_graph:
        return acc + g
    return acc.add_(g)


def sparse_parameter(data, requires_grad=True):
    """nn.Parameter(sparse COO tensor): a Parameter that is a sparse tensor (its class
    derives from both), its parts shared, its values a leaf that requires grad."""
    if not isinstance(data, SparseCooTensor):
        raise RuntimeError(f"nn.Parameter: a {data.layout!r} tensor cannot be a parameter in "
                           f"gpujit (its sparse CSR tensors record no autograd); use a COO "
                           f"one (x.to_sparse_coo())")
    if not _SPARSE_PARAMETER:
        from .nn.parameter import Parameter

        class SparseParameter(SparseCooTensor, Parameter):
            """A sparse COO tensor that is an nn.Parameter."""
            __slots__ = ()
            __module__ = "gpujit.nn"
            __torch_function__ = _disabled_torch_function_impl

            def __repr__(self):
                from ._tensor_str import sparse_repr
                return "Parameter containing:\n" + sparse_repr(self)

            __str__ = __repr__

            def __reduce__(self):
                return (Parameter, (self.detach(), self.requires_grad))

            def __deepcopy__(self, memo):
                p = Parameter(self.detach().clone(), self.requires_grad)
                memo[id(self)] = p
                return p
        _SPARSE_PARAMETER.append(SparseParameter)
    p = object.__new__(_SPARSE_PARAMETER[0])
    p._sp_i, p._sp_v = data._sp_i, data._sp_v.detach()
    p._sp_size, p._sp_coalesced = data._sp_size, data._sp_coalesced
    p._sp_shadow = None
    p._dtype, p._device = data._dtype, data._device
    p._vc, p._ag, p._base = data._vc, None, None
    return p.requires_grad_() if requires_grad else p


# the kernels (their modules register themselves in _KERNELS) and the names the methods
# above and other modules take from here
from ._sparse_products import _k_matmul, _k_mm  # noqa: E402
from ._sparse_kernels import (_CSR_OPS, _k_add, _k_floor_divide, _k_transpose,  # noqa: E402
                              _same_size)
