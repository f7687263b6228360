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
run the op's kernel here (_KERNELS, by op name) or re-raise PyTorch's NotImplementedError:
torch.mm(s, d) and d.add_(s) work with no check on any dense call.

Autograd lives on the values: a sparse tensor requires grad, has a grad_fn and is a leaf as
its values tensor; its .grad is the values' gradient as a sparse tensor of its indices (one
entry per index). The ops record through the values with PyTorch's node names (to_dense:
ToDenseBackward0, torch.sparse.mm: SparseAddmmBackward0, coalesce, values(), t(),
sparse_coo_tensor of values requiring grad, to_sparse of a dense tensor requiring grad ...);
values-only ops (* 2, neg, pow ...) record as the dense ops they run. Where PyTorch's
gradient for a sparse input is dense (torch.mm, addmm, mv, dense + sparse), gpujit's is the
sparse one of the same values at the stored indices. Kernels with no gradient (sparse *
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
              "index_select, narrow_copy, permute, cat, stack, add_ / zero_")


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
        op = frame.f_globals.get("_op")
        if isinstance(op, _registry.OpDef):
            # (the op's public entry point catches it and runs its sparse kernel, if any)
            return _registry.SparseOperand(str(not_implemented(op.name, dev, kind)), op)
        if frame.f_globals.get("__name__", "").startswith(_COMPILER_MODULES):
            return RuntimeError("gpujit's scripted and traced functions do not take sparse "
                                "tensors: pass x.to_dense(), or call the function unscripted")
        frame = frame.f_back
    return not_implemented(f"aten::{first.strip('_')}", dev, kind)


_COMPILER_MODULES = ("gpujit.jit", "gpujit.runtime", "gpujit.frontend", "gpujit.ir")


def not_implemented(name, dev, kind="Sparse"):
    return NotImplementedError(
        f"Could not run '{name}' with arguments from the '{_backend(dev, kind)}' backend. This could "
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
            v = v.requires_grad_()
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
        return self

    @property
    def grad_fn(self):
        return self._sp_v.grad_fn

    @property
    def is_leaf(self):
        return self._sp_v.grad_fn is None

    @property
    def grad(self):
        """The gradient: a sparse tensor of self's indices (PyTorch's is sparse too)."""
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
        if g is None:
            self._sp_v.grad = None
        else:
            self._sp_v.grad = _gather(g.to_dense() if g.is_sparse else g, self).detach()

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
        if layout is _dt.sparse_csr and blocksize is None:
            from ._sparse_csr import to_sparse_csr
            return to_sparse_csr(self, dense_dim)
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
                raise not_implemented("aten::as_strided", self._device)
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
        if not _is_scalar(exponent) or isinstance(exponent, Tensor):
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
    if layout is _dt.sparse_csr and blocksize is None:
        from ._sparse_csr import to_sparse_csr
        return to_sparse_csr(self, dense_dim)
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
    from . import as_tensor
    if _registry.dispatch_state.tracing is not None:
        raise RuntimeError("sparse_coo_tensor: gpujit's tracer does not record sparse tensors")
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


def sparse_mm(mat1, mat2, node=None, t=None, beta=1, alpha=1, vec=False):
    """A sparse matrix (2 sparse dims, 0 dense) times a dense matrix (a vector: vec),
    beta * t + alpha * product when t is given (addmm): the dense result, as PyTorch's CPU
    kernel sums it (_spmm_host); on a GPU through registry ops. The gradients of mat2 and
    t are recorded, by a node named `node` (torch.sparse.mm's SparseAddmmBackward0;
    torch.mm's MmBackward0 ...)."""
    if not isinstance(mat2, Tensor) or isinstance(mat2, SparseCooTensor):
        raise not_implemented("aten::mm", mat1._device)
    if mat1.sparse_dim() != 2 or mat1.dense_dim():
        raise RuntimeError(f"addmm: matrices expected, got {mat1.sparse_dim()}D sparse and "
                           f"{mat1.dense_dim()}D dense tensor")
    n, k = mat1._sp_size
    if vec:
        if mat2.dim() != 1 or mat2.shape[0] != k:
            raise RuntimeError("mv: expected self.size(-1) == vec.size(-1)")
    elif mat2.dim() != 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[-{max(mat2.dim(), 1)}, {max(mat2.dim(), 1) - 1}], but got 1)")
    if mat2._dtype is not mat1._dtype:
        raise RuntimeError(f"expected scalar type {mat1._dtype.short_name} but found "
                           f"{mat2._dtype.short_name}")
    if not vec and mat2.shape[0] != k:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {k}, got "
                           f"{mat2.shape[0]}")
    shape = (n,) if vec else (n, mat2.shape[1])
    if t is not None:
        t.expand(shape)         # (PyTorch's error for a t of another size)
    return _SPDENSE[node or "SparseAddmmBackward0"].apply(
        t, mat2, mat1._sp_v, (mat1, beta, alpha, vec))


def _spmm_host(i, v, b, n, r=None):
    """r[i0[k]] += v[k] * b[i1[k]] for k in index order, each step a fused multiply-add in
    b's dtype (PyTorch's CPU s_addmm kernel: an axpy per entry, uncoalesced as stored).
    Entries of one row run in order; the k-th entries of every row run as one vector step."""
    from .ops.fma import fma
    if r is None:
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


class _SparseDense(_autograd_function()):
    """beta * t + alpha * (mat1 @ mat2), mat1 a sparse COO matrix, mat2 a dense CPU matrix
    or vector, t dense or None (mat1 and the numbers passed in a tuple: no inputs whose
    gradient is wanted); mat2's gradient is alpha * mat1.t() @ grad, t's beta * grad.
    Subclassed once per node name (_SPDENSE)."""

    @staticmethod
    def forward(ctx, t, mat2, values, boxed):
        mat1, beta, alpha, vec = boxed
        ctx.boxed = boxed
        ctx.mat2 = mat2 if ctx.needs_input_grad[2] else None
        if mat2._device.type != "cpu":      # (on a GPU: registry ops, in this node)
            from . import zeros
            m2 = mat2.unsqueeze(1) if vec else mat2
            out = zeros((mat1._sp_size[0], m2.shape[1]), dtype=mat2._dtype,
                        device=mat2._device)
            if mat1._nnz():
                rows, cols = mat1._sp_i[0], mat1._sp_i[1]
                out = out.index_add(0, rows, values.unsqueeze(1) * m2.index_select(0, cols))
            out = out.squeeze(1) if vec else out
            if alpha != 1:
                out = out * alpha
            return out if t is None else (t * beta if beta != 0 else t * 0) + out
        b = _host(mat2)
        if vec:
            b = b[:, None]
        n = mat1._sp_size[0]
        r = None
        if t is not None:
            r = np.zeros((n, b.shape[1]), b.dtype)
            if beta != 0:
                r[...] = _host(t)[:, None] if vec and t.dim() == 1 else _host(t)
                if beta != 1:
                    r *= b.dtype.type(beta)
        v = _host(mat1._sp_v)
        if alpha != 1:
            v = v * v.dtype.type(alpha)
        r = _spmm_host(_host(mat1._sp_i), v, b, n, r)
        return _registry.wrap_array(r[:, 0] if vec else r, mat2._device)

    @staticmethod
    def backward(ctx, grad):
        mat1, beta, alpha, vec = ctx.boxed
        gt = gm = None
        if ctx.needs_input_grad[0]:
            gt = grad * beta if beta != 1 else grad
        if ctx.needs_input_grad[1]:
            gm = sparse_mm(mat1.t(), grad.unsqueeze(1) if vec else grad, "MmBackward0")
            if vec:
                gm = gm.squeeze(1)
            if alpha != 1:
                gm = gm * alpha
        gv = None
        if ctx.needs_input_grad[2]:     # (the sparse operand's values: grad[row] . mat2[col])
            rows, cols = mat1._sp_i[0], mat1._sp_i[1]
            m2 = ctx.mat2.unsqueeze(1) if vec else ctx.mat2
            g = grad.unsqueeze(1) if vec else grad
            gv = (g.index_select(0, rows) * m2.index_select(0, cols)).sum(1)
            if alpha != 1:
                gv = gv * alpha
        return gt, gm, gv, None


def _named_node(name):
    from .autograd.function import FunctionBackward
    cls = type(name[:-len("Backward0")], (_SparseDense,), {"__module__": __name__})
    type.__setattr__(cls, "_backward_cls", type(name, (FunctionBackward,),
                                                {"__module__": "gpujit.autograd.graph"}))
    return cls


_SPDENSE = {n: _named_node(n) for n in ("SparseAddmmBackward0", "MmBackward0", "MvBackward0",
                                        "AddmmBackward0")}
SparseAddmm = _SPDENSE["SparseAddmmBackward0"]


# op name -> its sparse kernel, called with the op's arguments in schema order when an
# operand is sparse (registry.sparse_call)
_KERNELS = {}


def sparse_kernel(op, args=()):
    """The kernel of registry op `op` for sparse operands, or None (PyTorch's
    NotImplementedError then). While tracing: a RuntimeError, the tracer records no
    sparse tensors. With a CSR operand (gpujit/_sparse_csr.py), the op's COO kernel over
    its COO form, for the ops that take one (_CSR_OPS)."""
    from ._sparse_csr import SparseCsrTensor
    if any(type(a) is SparseCsrTensor for a in args):
        fn = _CSR_OPS.get(op.name)
    else:
        fn = _KERNELS.get(op.name)
    if fn is not None and _registry.dispatch_state.tracing is not None:
        raise RuntimeError(f"{op.public_name}: gpujit's tracer does not record sparse "
                           f"tensors; make the sparse tensor dense (.to_dense()) or call "
                           f"the function untraced")
    return fn


def _kernel(*names):
    def deco(fn):
        for n in names:
            _KERNELS[n] = fn
        return fn
    return deco


def rebuild_sparse_tensor(layout, data):
    """torch._utils._rebuild_sparse_tensor for a COO or CSR tensor (what torch.save
    writes)."""
    if layout is _dt.sparse_csr:
        from ._sparse_csr import _csr_rebuild
        return _csr_rebuild(data)
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


# ---------------------------------------------------------------- products
@_kernel("aten::mm")
def _k_mm(self, mat2):
    if _is_sparse(self):
        if _is_sparse(mat2):
            return _sparse_sparse_mm(self, mat2)
        return sparse_mm(self, mat2, "MmBackward0")
    return _DenseSparseMm.apply(self, mat2._sp_v, (mat2,))


@_kernel("aten::matmul")
def _k_matmul(self, other):
    if _is_sparse(self) and not _is_sparse(other) and other.dim() == 1:
        return sparse_mm(self, other, "MvBackward0", vec=True)
    if _is_sparse(self) and self.dim() == 3 or _is_sparse(other) and other.dim() == 3:
        return _k_bmm(self, other)
    return _k_mm(self, other)


@_kernel("aten::mv")
def _k_mv(self, vec):
    return sparse_mm(self, _dense_operand(vec, "aten::mv"), "MvBackward0", vec=True)


@_kernel("aten::addmm")
def _k_addmm(self, mat1, mat2, beta=1, alpha=1):
    if _is_sparse(self) or _is_sparse(mat1) == _is_sparse(mat2):
        raise not_implemented("aten::addmm", self._device)
    if _is_sparse(mat1):
        return sparse_mm(mat1, mat2, "AddmmBackward0", t=self, beta=beta, alpha=alpha)
    p = _k_mm(mat1, mat2)       # (dense @ sparse)
    self.expand(p.shape)        # (PyTorch's error for a self of another size)
    return (self * beta if beta != 0 else self * 0) + (p * alpha if alpha != 1 else p)


@_kernel("aten::sum")
def _k_sum(self, dtype=None):
    return self.sum(dtype=dtype)


@_kernel("aten::bmm")
def _k_bmm(self, mat2):
    """A batch of sparse matrices (3 sparse dims) times dense ones: each batch's product
    (sparse_mm), stacked; mat2's gradient through them."""
    from . import stack
    if not _is_sparse(self) or _is_sparse(mat2):
        raise not_implemented("aten::bmm", self._device)
    if self.sparse_dim() != 3:
        raise RuntimeError(f"bmm_sparse: Tensor 'self' must have 3 sparse dims, but has "
                           f"{self.sparse_dim()}")
    if mat2.dim() != 3:
        raise RuntimeError(f"bmm_sparse: Tensor 'mat2' must have 3 dims, but has {mat2.dim()}")
    if mat2.shape[0] != self.shape[0]:
        raise RuntimeError(f"bmm_sparse: 'self.size(0)' and 'mat2.size(0)' must match, but "
                           f"got {self.shape[0]} and {mat2.shape[0]}")
    if mat2._dtype is not self._dtype:
        raise RuntimeError(f"expected scalar type {self._dtype.short_name} but found "
                           f"{mat2._dtype.short_name}")
    if mat2.shape[1] != self.shape[2]:
        raise RuntimeError(f"bmm_sparse: Expected dim 1 of 'mat2' to match dim 2 of 'self', "
                           f"but got {mat2.shape[1]} and {self.shape[2]}")
    _no_grad_operand("bmm", self)
    mats = [_select(self, 0, b) for b in range(self.shape[0])]
    if mat2._device.type != "cpu":
        return stack([sparse_mm(m, mat2[b], "MmBackward0") for b, m in enumerate(mats)])
    return _SparseBmm.apply(mat2, tuple(mats))


class _SparseBmm(_autograd_function()):
    """A batch of sparse matrices (passed in a tuple) times a dense CPU batch: each
    product as _spmm_host sums it; mat2's gradient is each matrix's transpose @ grad."""

    @staticmethod
    def forward(ctx, mat2, mats):
        ctx.mats = mats
        b = _host(mat2)
        r = np.stack([_spmm_host(_host(m._sp_i), _host(m._sp_v), b[k], m._sp_size[0])
                      for k, m in enumerate(mats)]) if mats else \
            np.zeros((0, 0, b.shape[2]), b.dtype)
        return _registry.wrap_array(r.reshape(len(mats), -1, b.shape[2]), mat2._device)

    @staticmethod
    def backward(ctx, grad):
        from . import stack
        return stack([sparse_mm(m.t(), grad[k], "MmBackward0")
                      for k, m in enumerate(ctx.mats)]), None


def _sparse_sparse_mm(a, b):
    """sparse @ sparse (2-D, no dense dims): the coalesced sparse product; an entry for
    every (row, col) some pair of stored entries meets at, as PyTorch's."""
    if a.dense_dim() or b.dense_dim() or a.sparse_dim() != 2 or b.sparse_dim() != 2:
        raise RuntimeError("mm: sparse matrices expected")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x"
                           f"{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected scalar type {a._dtype.short_name} but found "
                           f"{b._dtype.short_name}")
    _no_grad_operand("mm", a)
    _no_grad_operand("mm", b)
    ai, bi = _host(a._sp_i), _host(b._sp_i)
    hit = np.zeros((a.shape[0], a.shape[1]), np.int64)
    np.add.at(hit, (ai[0], ai[1]), 1)
    hb = np.zeros((b.shape[0], b.shape[1]), np.int64)
    np.add.at(hb, (bi[0], bi[1]), 1)
    nz = np.nonzero(hit @ hb)
    prod = _host(a.to_dense()) @ _host(b.to_dense())
    return _make(_device_tensor(np.stack(nz).astype(np.int64).reshape(2, -1), a._device),
                 _device_tensor(prod[nz], a._device), (a.shape[0], b.shape[1]), True)


class _DenseSparseMm(_autograd_function()):
    """dense @ sparse: (sparse.t() @ dense.t()).t(); the dense operand's gradient is
    grad @ sparse.t()."""

    @staticmethod
    def forward(ctx, mat1, values, boxed):
        mat2, = boxed
        ctx.mat2 = mat2
        if mat2.sparse_dim() != 2 or mat2.dense_dim():
            raise RuntimeError(f"addmm: matrices expected, got {mat2.sparse_dim()}D sparse "
                               f"and {mat2.dense_dim()}D dense tensor")
        if mat1.dim() != 2 or mat1.shape[1] != mat2.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                               f"{mat1.shape[-1]} and {mat2.shape[0]}x{mat2.shape[1]})")
        ctx.mat1 = mat1 if ctx.needs_input_grad[1] else None
        return sparse_mm(mat2.t(), mat1.t(), "MmBackward0").t().contiguous()

    @staticmethod
    def backward(ctx, grad):
        gd = gv = None
        if ctx.needs_input_grad[0]:
            gd = sparse_mm(ctx.mat2.detach(), grad.t(), "MmBackward0").t()
        if ctx.needs_input_grad[1]:     # (grad[:, col] . mat1[:, row])
            rows, cols = ctx.mat2._sp_i[0], ctx.mat2._sp_i[1]
            gv = (grad.index_select(1, cols) * ctx.mat1.index_select(1, rows)).sum(0)
        return gd, gv, None


type.__setattr__(_DenseSparseMm, "_backward_cls", _SPDENSE["MmBackward0"]._backward_cls)


# ---------------------------------------------------------------- sums and differences
def _same_size(self, other):
    if tuple(self.shape) != tuple(other.shape):
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(self.shape)} while other has size {list(other.shape)} "
                           f"(FYI: dense-sparse addition does not currently support "
                           f"broadcasting)")


def _dense_plus_sparse(self, other, alpha):
    """dense + alpha * sparse: the dense tensor in the promoted dtype, each entry added at
    its index in storage order (PyTorch's add_out_dense_sparse: duplicates add in turn)."""
    from .dtypes import promote_types
    _same_size(self, other)
    dt = promote_types(self._dtype, other._dtype)
    v = other._sp_v.to(dt)
    if alpha != 1:
        v = v * alpha
    sd = other.sparse_dim()
    r = _host(self.to(dt)).copy()
    flat = r.reshape((-1,) + tuple(other.shape[sd:]))
    np.add.at(flat, _linear(_host(other._sp_i), other.shape), _host(v))
    return _device_tensor(r, self._device)


class _AddDense(_autograd_function()):
    """dense + alpha * sparse, the dense operand's gradient recorded (AddBackward0)."""

    @staticmethod
    def forward(ctx, self, values, boxed):
        other, alpha = boxed
        ctx.other, ctx.alpha = other, alpha
        return _dense_plus_sparse(self, other.detach(), alpha)

    @staticmethod
    def backward(ctx, grad):
        gv = None
        if ctx.needs_input_grad[1]:
            gv = _gather(grad, ctx.other)
            if ctx.alpha != 1:
                gv = gv * ctx.alpha
        return grad, gv, None


def _name_node(cls, name):
    from .autograd.function import FunctionBackward
    type.__setattr__(cls, "_backward_cls", type(name, (FunctionBackward,),
                                                {"__module__": "gpujit.autograd.graph"}))


_name_node(_AddDense, "AddBackward0")
_name_node(_SparseBmm, "BmmBackward0")


def _sparse_plus_sparse(self, other, alpha):
    """sparse + alpha * sparse as PyTorch's CPU kernel: one merge of the two entry lists
    in storage order by index (the smaller first, equal indices summed in one entry),
    whether or not they are coalesced; the result coalesced when both were."""
    from .dtypes import promote_types
    if self.sparse_dim() != other.sparse_dim():
        raise RuntimeError(f"add: expected 'self' and 'other' to have same density, but "
                           f"'self' has {self.sparse_dim()} sparse dimensions while 'other' "
                           f"has {other.sparse_dim()} sparse dimensions")
    if tuple(self.shape) != tuple(other.shape):
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(self.shape)} != {list(other.shape)}")
    dt = promote_types(self._dtype, other._dtype)
    a, b = _linear(_host(self._sp_i), self.shape), _linear(_host(other._sp_i), other.shape)
    pa, pb, n = _merge(a, b)
    sd = self.sparse_dim()
    i = np.zeros((sd, n), np.int64)
    i[:, pa] = _host(self._sp_i)
    i[:, pb] = _host(other._sp_i)
    va = _host(self._sp_v.to(dt))
    vb = _host(other._sp_v.to(dt))
    if alpha != 1:
        vb = vb * vb.dtype.type(alpha) if vb.dtype.kind in "fc" else vb * alpha
    v = np.zeros((n,) + va.shape[1:], va.dtype)
    onlyb = np.ones(n, bool)
    onlyb[pa] = False
    v[pa] = va
    both = np.zeros(n, bool)
    both[pb] = True
    both &= ~onlyb
    v[onlyb] = vb[onlyb[pb]]
    if both.any():
        v[both] = v[both] + vb[both[pb]]
    vt = _device_tensor(v.astype(va.dtype), self._device)
    if _records(self._sp_v) or _records(other._sp_v):
        vt = _SparseAdd.apply(self._sp_v, other._sp_v, (vt, _device_tensor(pa, self._device),
                                                        _device_tensor(pb, self._device),
                                                        alpha))
    return _make(_device_tensor(i, self._device), vt, self.shape,
                 self._sp_coalesced and other._sp_coalesced)


def _merge(a, b):
    """The positions in the merged list of a's and b's entries (linear indices in storage
    order), and its length: at each step the smaller head first, equal heads one entry."""
    if a.size > 1 and np.all(a[1:] > a[:-1]) and (b.size < 2 or np.all(b[1:] > b[:-1])):
        u = np.union1d(a, b)            # (both sorted and unique: the sorted union)
        return np.searchsorted(u, a), np.searchsorted(u, b), u.size
    pa, pb = np.empty(a.size, np.int64), np.empty(b.size, np.int64)
    x = y = n = 0
    al, bl = a.tolist(), b.tolist()
    while x < len(al) and y < len(bl):
        if al[x] < bl[y]:
            pa[x] = n
            x += 1
        elif bl[y] < al[x]:
            pb[y] = n
            y += 1
        else:
            pa[x] = pb[y] = n
            x += 1
            y += 1
        n += 1
    for x in range(x, len(al)):
        pa[x] = n
        n += 1
    for y in range(y, len(bl)):
        pb[y] = n
        n += 1
    return pa, pb, n


@_kernel("aten::add.Tensor")
def _k_add(self, other, alpha=1):
    if _is_sparse(self):
        if _is_sparse(other):
            return _sparse_plus_sparse(self, other, alpha)
        return self.add(other, alpha=alpha)     # (PyTorch's refusal)
    if not isinstance(self, Tensor):
        from . import as_tensor
        self = as_tensor(self, device=other._device)
    if _records(self) or _records(other._sp_v):
        _same_size(self, other)
        return _AddDense.apply(self, other._sp_v, (other, alpha))
    return _dense_plus_sparse(self, other, alpha)


@_kernel("aten::sub.Tensor")
def _k_sub(self, other, alpha=1):
    return _k_add(self, other, -alpha)


@_kernel("aten::rsub.Tensor")
def _k_rsub(self, other, alpha=1):
    return _k_add(other, self, -alpha)


def _inplace(fn):
    """self.<op>_(sparse), self dense: fn's result copied into self."""
    def kernel(self, other, *args):
        if _is_sparse(self):
            raise not_implemented("aten::add_.Tensor", self._device)
        r = fn(self, other, *args)
        return self.copy_(r.to_dense() if _is_sparse(r) else r)
    return kernel


_KERNELS["aten::add_.Tensor"] = _inplace(_k_add)
_KERNELS["aten::sub_.Tensor"] = _inplace(_k_sub)


# ---------------------------------------------------------------- products by elements
def _mul_sparse_dense(s, d):
    """sparse * dense: the sparse tensor's entries times the dense tensor (broadcast to
    its size) at their indices, indices kept (coalesced as s is)."""
    from . import broadcast_shapes
    from .dtypes import promote_types
    if d.requires_grad or s.requires_grad:
        _no_grad_operand("mul", d)
    if d.dim() == 0:
        return _make(s._sp_i, s._sp_v * d, s.shape, s._sp_coalesced)
    broadcast_shapes(d.shape, s.shape)
    if s.dense_dim():
        raise not_implemented("aten::mul.Tensor", s._device)
    dt = promote_types(s._dtype, d._dtype)
    full = np.broadcast_to(_host(d), tuple(s.shape))
    idx = tuple(_host(s._sp_i))
    v = (s._sp_v.to(dt) * _device_tensor(full[idx].astype(dt.np), s._device).to(s._device))
    return _make(s._sp_i, v, s.shape, s._sp_coalesced)


def _mul_sparse_sparse(a, b):
    """sparse * sparse: the entries at the indices both have (coalesced)."""
    from .dtypes import promote_types
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"mul(sparse, sparse): operands have incompatible sizes; self has "
                           f"size {list(a.shape)} but other has size {list(b.shape)}")
    _no_grad_operand("mul", a)
    _no_grad_operand("mul", b)
    a, b = a.coalesce(), b.coalesce()
    sd = a.sparse_dim()
    la, lb = _linear(_host(a._sp_i), a.shape), _linear(_host(b._sp_i), b.shape)
    common, ia, ib = np.intersect1d(la, lb, assume_unique=True, return_indices=True)
    dt = promote_types(a._dtype, b._dtype)
    va = _host(a._sp_v.to(dt))[ia]
    vb = _host(b._sp_v.to(dt))[ib]
    i = (np.stack(np.unravel_index(common, tuple(a.shape[:sd]))) if sd
         else np.zeros((0, common.size), np.int64)).astype(np.int64).reshape(sd, -1)
    return _make(_device_tensor(i, a._device), _device_tensor(va * vb, a._device), a.shape,
                 True)


@_kernel("aten::mul.Tensor")
def _k_mul(self, other):
    if _is_sparse(self) and _is_sparse(other):
        return _mul_sparse_sparse(self, other)
    s, d = (self, other) if _is_sparse(self) else (other, self)
    if not isinstance(d, Tensor):
        return s.mul(d)
    return _mul_sparse_dense(s, d)


def _k_mul_(self, other):
    if _is_sparse(self):
        if _is_scalar(other):
            return self.mul_(other)
        r = _k_mul(self, other)
        if self.requires_grad and self.is_leaf and _records(self._sp_v):
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")
        self._sp_i, self._sp_v = r._sp_i, r._sp_v.to(self._dtype)
        self._sp_coalesced = False          # (as PyTorch's in-place mul by a dense tensor)
        self._vc[0] += 1
        return self
    r = _k_mul(self, other)
    return self.copy_(r.to_dense())


_KERNELS["aten::mul_.Tensor"] = _k_mul_


@_kernel("aten::floor_divide", "aten::floor_divide.Scalar")
def _k_floor_divide(self, other):
    if not _is_sparse(self) or not _is_scalar(other):
        shape = list(other.shape) if isinstance(other, Tensor) else []
        raise RuntimeError(f"Sparse floor division requires a scalar or zero-dim dense "
                           f"tensor divisor (got shape {shape} for divisor)")
    return _make(self._sp_i, self._sp_v.floor_divide(other), self.shape, self._sp_coalesced)


# ---------------------------------------------------------------- reductions
@_kernel("aten::sum.dim_IntList")
def _k_sum_dim(self, dim, keepdim=False, dtype=None):
    """The sum over sparse dims: the kept dims' indices, coalesced (a dense tensor when no
    sparse dim is kept, as PyTorch's _sparse_sum); dense dims summed in the values."""
    from .tensor import _wrap_dim
    n, sd = self.dim(), self.sparse_dim()
    dims = range(n) if dim is None or (isinstance(dim, (list, tuple)) and not dim) else         [dim] if isinstance(dim, int) else dim
    dims = sorted({_wrap_dim(d, n, "sum") for d in dims})
    v = self._sp_v
    if dtype is not None:
        v = v.to(dtype)
    elif not (v._dtype.is_floating_point or v._dtype.is_complex):
        v = v.to(_dt.int64)
    vd = [d - sd + 1 for d in dims if d >= sd]
    if vd:
        v = v.sum(vd, keepdim=keepdim)
    keep = [d for d in range(sd) if d not in dims]
    if not keep:
        r = v.sum(0)
        if keepdim:
            r = r.reshape((1,) * sd + tuple(r.shape))
        return r
    i = self._sp_i[keep]
    size = [self.shape[d] for d in keep]
    if keepdim:
        from . import zeros
        rows = []
        for d in range(sd):
            rows.append(self._sp_i[d] if d in keep else zeros(self._nnz(), dtype=_dt.int64,
                                                               device=self._device))
        i = rows and __import__("gpujit").stack(rows)
        size = [1 if d in dims else self.shape[d] for d in range(sd)]
    return _make(i, v, tuple(size) + tuple(v.shape[1:]), False).coalesce()


# ---------------------------------------------------------------- factories
def _empty_sparse(size, sparse_dim, dtype, device):
    from . import zeros
    size = tuple(size)
    return _make(zeros((sparse_dim, 0), dtype=_dt.int64, device=device),
                 zeros((0,) + size[sparse_dim:], dtype=dtype, device=device), size, True)


def _factory_like(dense_name):
    def kernel(self, *, dtype=None, layout=None, device=None, pin_memory=None,
               memory_format=None):
        if layout is _dt.strided:
            import gpujit
            return getattr(gpujit, dense_name)(self.shape, dtype=dtype or self._dtype,
                                               device=device or self._device)
        return _empty_sparse(self.shape, self.sparse_dim(), dtype or self._dtype,
                             device or self._device)
    return lambda self, dtype=None, layout=None, device=None, pin_memory=None, \
        memory_format=None: kernel(self, dtype=dtype, layout=layout, device=device)


def _new_factory(dense_name):
    def kernel(self, size, dtype=None, layout=None, device=None, pin_memory=None):
        if layout is _dt.strided:
            import gpujit
            return getattr(gpujit, dense_name)(size, dtype=dtype or self._dtype,
                                               device=device or self._device)
        return _empty_sparse(size, len(size), dtype or self._dtype, device or self._device)
    return kernel


_KERNELS["aten::zeros_like"] = _factory_like("zeros")
_KERNELS["aten::empty_like"] = _factory_like("empty")
_KERNELS["aten::new_zeros"] = _new_factory("zeros")
_KERNELS["aten::new_empty"] = _new_factory("empty")


# ---------------------------------------------------------------- views
@_kernel("aten::transpose.int")
def _k_transpose(self, dim0, dim1):
    """Two sparse dims swapped: their index rows swapped, the result uncoalesced (as
    PyTorch's); two dense dims: the values' dims."""
    from .tensor import _wrap_dim
    n, sd = self.dim(), self.sparse_dim()
    d0, d1 = _wrap_dim(dim0, n, "transpose"), _wrap_dim(dim1, n, "transpose")
    if d0 == d1:
        return _make(self._sp_i, _alias(self._sp_v, "TransposeBackward0"), self._sp_size,
                     self._sp_coalesced)
    if (d0 < sd) != (d1 < sd):
        raise RuntimeError(f"transpose(): sparse_dim is {sd}, but we are transposing a "
                           f"sparse dim and a dense dim")
    size = list(self.shape)
    size[d0], size[d1] = size[d1], size[d0]
    if d0 >= sd:
        return _make(self._sp_i, self._sp_v.transpose(d0 - sd + 1, d1 - sd + 1), size,
                     self._sp_coalesced)
    order = list(range(sd))
    order[d0], order[d1] = d1, d0
    return _make(self._sp_i[order], _alias(self._sp_v, "TransposeBackward0"), size, False)


def _select(self, dim, index):
    """The entries whose index along sparse dim `dim` is `index`, that dim dropped
    (uncoalesced, as PyTorch's); with no sparse dim left, the dense tensor."""
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
                 self.shape[:d] + self.shape[d + 1:], False)


_KERNELS["aten::select.int"] = _select


def _csr_operands(fn, swap_add=False):
    """fn over the COO forms of its CSR operands; csr + dense (swap_add) is dense + csr,
    a dense result, as PyTorch's."""
    def kernel(*args):
        from ._sparse_csr import as_coo, SparseCsrTensor
        if swap_add and type(args[0]) is SparseCsrTensor and isinstance(args[1], Tensor) \
                and not isinstance(args[1], (SparseCsrTensor, SparseCooTensor)):
            other = args[1] * args[2] if args[2] != 1 else args[1]
            return fn(other, as_coo(args[0]))
        return fn(*(as_coo(a) for a in args))
    return kernel


# the ops a CSR operand takes (through its COO form): products and sums with dense tensors
_CSR_OPS = {n: _csr_operands(_KERNELS[n]) for n in (
    "aten::mm", "aten::matmul", "aten::mv", "aten::addmm")}
_CSR_OPS["aten::add.Tensor"] = _csr_operands(_k_add, swap_add=True)
_CSR_OPS["aten::add_.Tensor"] = _csr_operands(_KERNELS["aten::add_.Tensor"])


# ---------------------------------------------------------------- autograd of the values
def _records(t):
    """Whether an op on t records autograd (t requires grad, grad mode on)."""
    from .autograd import is_grad_enabled
    return t.requires_grad and is_grad_enabled()


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


_ToDense = _named("ToDenseBackward0", _to_dense_forward, _to_dense_backward)
_Coalesce = _named("CoalesceBackward0", _coalesce_forward, _coalesce_backward)
_ToSparse = _named("ToSparseBackward1", _to_sparse_forward, _to_sparse_backward)



# ---------------------------------------------------------------- shapes
@_kernel("aten::unsqueeze")
def _k_unsqueeze(self, dim):
    """A size-1 dim inserted: a zero index row where it is a sparse dim, else the values'."""
    from . import zeros, cat
    from .tensor import _wrap_dim
    n, sd = self.dim(), self.sparse_dim()
    d = _wrap_dim(dim, n + 1, "unsqueeze")
    size = self._sp_size[:d] + (1,) + self._sp_size[d:]
    if d > sd:
        return _make(self._sp_i, self._sp_v.unsqueeze(d - sd + 1), size, False)
    row = zeros((1, self._nnz()), dtype=_dt.int64, device=self._device)
    i = cat([self._sp_i[:d], row, self._sp_i[d:]])
    return _make(i, _alias(self._sp_v, "UnsqueezeBackward0"), size, False)


@_kernel("aten::index_select")
def _k_index_select(self, dim, index):
    """The entries whose index along `dim` is in `index`, for each element of `index` in
    turn (in storage order), renumbered by its position, as PyTorch's."""
    from .tensor import _wrap_dim
    if _is_sparse(index) or not _is_sparse(self):
        raise not_implemented("aten::index_select", self._device)
    n, sd = self.dim(), self.sparse_dim()
    d = _wrap_dim(dim, n, "index_select")
    if d >= sd:
        return _make(self._sp_i, self._sp_v.index_select(d - sd + 1, index),
                     self._sp_size[:d] + (index.numel(),) + self._sp_size[d + 1:],
                     self._sp_coalesced)
    ix = _host(index).reshape(-1).astype(np.int64)
    size = self._sp_size[d]
    if ix.size and (ix.min() < -size or ix.max() >= size):
        bad = ix[(ix < -size) | (ix >= size)][0]
        raise IndexError(f"index_select(): index contains {bad} that is out of range for "
                         f"tensor of size {list(self._sp_size)} at dimension {d}")
    ix = ix % size if size else ix
    col = _host(self._sp_i[d])
    order = np.argsort(col, kind="stable")
    lo = np.searchsorted(col[order], ix, "left")
    hi = np.searchsorted(col[order], ix, "right")
    take = np.concatenate([order[a:b] for a, b in zip(lo, hi)] or [np.zeros(0, np.int64)])
    pos = np.repeat(np.arange(ix.size, dtype=np.int64), hi - lo)
    i = _host(self._sp_i)[:, take].copy()
    i[d] = pos
    tt = _device_tensor(take.astype(np.int64), self._device)
    return _make(_device_tensor(i, self._device), self._sp_v.index_select(0, tt),
                 self._sp_size[:d] + (ix.size,) + self._sp_size[d + 1:], False)


@_kernel("aten::narrow_copy")
def _k_narrow_copy(self, dim, start, length):
    from .tensor import _wrap_dim
    n, sd = self.dim(), self.sparse_dim()
    d = _wrap_dim(dim, n, "narrow_copy")
    size = self._sp_size[d]
    if not (0 <= start and length >= 0 and start + length <= size):
        raise RuntimeError(f"Invalid range to narrow. range(start, start+length) must be a "
                           f"subset of range(0, {size}).")
    new = self._sp_size[:d] + (length,) + self._sp_size[d + 1:]
    if d >= sd:
        return _make(self._sp_i, self._sp_v.narrow(d - sd + 1, start, length).clone(), new,
                     self._sp_coalesced)
    col = _host(self._sp_i[d])
    keep = np.nonzero((col >= start) & (col < start + length))[0]
    i = _host(self._sp_i)[:, keep].copy()
    i[d] -= start
    kt = _device_tensor(keep.astype(np.int64), self._device)
    return _make(_device_tensor(i, self._device), self._sp_v.index_select(0, kt), new,
                 self._sp_coalesced)


@_kernel("aten::permute")
def _k_permute(self, dims):
    """Sparse dims permuted among themselves (the index rows), dense dims among
    themselves (the values'); PyTorch's error for a permutation mixing them."""
    from .tensor import _wrap_dim
    n, sd = self.dim(), self.sparse_dim()
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                           f"does not match the length of the desired ordering of "
                           f"dimensions i.e. input.dim() = {n} is not equal to len(dims) = "
                           f"{len(dims)}")
    p = [_wrap_dim(x, n, "permute") for x in dims]
    if len(set(p)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    if any(x >= sd for x in p[:sd]):
        raise RuntimeError("permute(sparse_coo): transpositions between sparse and dense "
                           "dimensions are not allowed.Only transpositions within sparse "
                           "and dense dimensions are supported.")
    v = self._sp_v
    if p[sd:] != list(range(sd, n)):
        v = v.permute([0] + [x - sd + 1 for x in p[sd:]])
    same = p[:sd] == list(range(sd))
    return _make(self._sp_i[p[:sd]] if not same else self._sp_i,
                 _alias(v, "PermuteBackward0"), tuple(self._sp_size[x] for x in p),
                 self._sp_coalesced and same)


@_kernel("aten::cat")
def _k_cat(tensors, dim=0):
    """Sparse tensors joined along a dim: a sparse dim's indices offset by the sizes
    before, a dense dim's values joined; the result uncoalesced, as PyTorch's."""
    from . import cat
    from .tensor import _wrap_dim
    ts = list(tensors)
    if not ts or not all(_is_sparse(t) for t in ts):
        raise not_implemented("aten::cat", ts[0]._device if ts else _dt_cpu())
    t0 = ts[0]
    n, sd = t0.dim(), t0.sparse_dim()
    d = _wrap_dim(dim, n, "cat")
    for k, t in enumerate(ts[1:], 1):
        if t.sparse_dim() != sd or t.dense_dim() != t0.dense_dim():
            raise RuntimeError(f"All tensors must have the same sparse_dim and dense_dim: {sd}, "
                               f"{t0.dense_dim()}, but tensor at position {k} has "
                               f"{t.sparse_dim()}, {t.dense_dim()}.")
        if any(a != b for k, (a, b) in enumerate(zip(t.shape, t0.shape)) if k != d):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}")
    total = sum(t.shape[d] for t in ts)
    size = t0._sp_size[:d] + (total,) + t0._sp_size[d + 1:]
    if d >= sd:
        raise not_implemented("aten::cat", t0._device)
    idx, off = [], 0
    for t in ts:
        i = t._sp_i
        if off:
            shift = np.zeros((sd, 1), np.int64)
            shift[d] = off
            i = i + _device_tensor(shift, t._device)
        idx.append(i)
        off += t.shape[d]
    return _make(cat(idx, 1), cat([t._sp_v for t in ts]), size, False)


@_kernel("aten::stack")
def _k_stack(tensors, dim=0):
    ts = list(tensors)
    return _k_cat([_k_unsqueeze(t, dim) for t in ts], dim)


def _reshape_refusal(self, *args):
    raise RuntimeError("reshape is not implemented for sparse tensors")


_KERNELS["aten::reshape"] = _reshape_refusal


def sparse_mask(self, mask):
    """dense.sparse_mask(sparse): self's elements at mask's indices, a sparse tensor of
    mask's indices, as PyTorch's."""
    if not isinstance(mask, SparseCooTensor):
        raise RuntimeError(f"sparse_mask expects mask to be sparse, got "
                           f"{'a strided' if isinstance(mask, Tensor) else type(mask)} mask")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError("sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(self.shape)} but mask has size {list(mask.shape)}")
    return _make(mask._sp_i, _gather(self, mask), mask._sp_size, mask._sp_coalesced)



def _sparse_add_forward(ctx, va, vb, boxed):
    out, pa, pb, alpha = boxed
    ctx.pa, ctx.pb, ctx.alpha = pa, pb, alpha
    return out


def _sparse_add_backward(ctx, grad):
    gb = grad.index_select(0, ctx.pb)
    return grad.index_select(0, ctx.pa), (gb * ctx.alpha if ctx.alpha != 1 else gb), None


_SparseAdd = _named("AddBackward0", _sparse_add_forward, _sparse_add_backward)


def sparse_softmax(input, dim, dtype=None, log=False):
    """torch.sparse.softmax / log_softmax of a sparse COO tensor: over each line along `dim`
    of the coalesced tensor, its stored entries only (the others count as -inf: they stay
    unstored); the result has the coalesced input's indices. As PyTorch's CPU kernel: the
    line's max subtracted, exp, the sum in storage order. Recorded through the values
    (SparseSoftmaxBackward0 / SparseLogSoftmaxBackward0)."""
    from .tensor import _wrap_dim
    name = "_sparse_log_softmax" if log else "_sparse_softmax"
    if not isinstance(input, SparseCooTensor):
        dev = input.device if isinstance(input, Tensor) else _dt_cpu()
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the "
            f"'{'CUDA' if dev.type == 'cuda' else 'CPU'}' backend. This could be because the "
            f"operator doesn't exist for this backend, or was omitted during the "
            f"selective/custom build process (if using custom build). It takes a sparse COO "
            f"tensor (x.to_sparse()).")
    c = input.coalesce()
    v = c._sp_v if dtype is None else c._sp_v.to(dtype)
    sd = c.sparse_dim()
    d = _wrap_dim(dim, c.dim(), name)
    if d >= sd:
        out = v.log_softmax(d - sd + 1) if log else v.softmax(d - sd + 1)
        out = _alias(out, "SparseLogSoftmaxBackward0" if log else "SparseSoftmaxBackward0")
        return _make(c._sp_i, out, c._sp_size, True)
    i = _host(c._sp_i)
    keep = [k for k in range(sd) if k != d]
    key = _linear(i[keep], tuple(c.shape[k] for k in keep)) if keep else \
        np.zeros(i.shape[1], np.int64)
    pool = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
    npool = int(pool.max()) + 1 if pool.size else 0
    hv = _host(v)
    # (PyTorch's CPU kernel computes in its accumulate type, double for float: the line's
    # max, exp of the difference, their sum in storage order; softmax stores exp in the
    # values' dtype and multiplies by 1 / sum, log_softmax is v - (max + log(sum)))
    x = hv.astype(np.float64)
    m = np.full((npool,) + hv.shape[1:], -np.inf)
    np.maximum.at(m, pool, x)
    m[np.isinf(m)] = 0
    e = np.exp(x - m[pool])
    total = np.zeros_like(m)
    np.add.at(total, pool, e)
    with np.errstate(divide="ignore"):
        if log:
            r = (x - (m + np.log(total))[pool]).astype(hv.dtype)
        else:
            r = (e.astype(hv.dtype).astype(np.float64) * (1.0 / total)[pool]).astype(hv.dtype)
    out = _device_tensor(r, c._device)
    if _records(v):
        out = (_SparseLogSoftmax if log else _SparseSoftmax).apply(
            v, (out, _device_tensor(pool, c._device), npool))
    return _make(c._sp_i, out, c._sp_size, True)


def _softmax_forward(ctx, values, boxed):
    out, pool, npool = boxed
    ctx.out, ctx.pool, ctx.npool = out, pool, npool
    return out


def _pool_sum(x, pool, npool):
    from . import zeros
    return zeros((npool,) + tuple(x.shape[1:]), dtype=x.dtype,
                 device=x.device).index_add(0, pool, x).index_select(0, pool)


def _softmax_backward(ctx, grad):
    out = ctx.out
    return out * (grad - _pool_sum(grad * out, ctx.pool, ctx.npool)), None


def _log_softmax_backward(ctx, grad):
    # (exp as the kernel's std::exp: correctly rounded from double, not the vectorized one)
    o = _host(ctx.out)
    ex = _device_tensor(np.exp(o.astype(np.float64)).astype(o.dtype), ctx.out.device)
    return grad - ex * _pool_sum(grad, ctx.pool, ctx.npool), None


_SparseSoftmax = _named("SparseSoftmaxBackward0", _softmax_forward, _softmax_backward)
_SparseLogSoftmax = _named("SparseLogSoftmaxBackward0", _softmax_forward, _log_softmax_backward)



# ---------------------------------------------------------------- function forms of the
# values-only methods: torch.abs(s), torch.relu(s), F.relu(s), torch.pow(s, 2) ...
def _method_kernel(name):
    def kernel(self, *args):
        if not isinstance(self, Tensor) or not (_is_sparse(self) or self.layout is
                                               _dt.sparse_csr):
            raise not_implemented(f"aten::{name}", _dt_cpu())
        return getattr(self, name)(*args)
    return kernel


_VALUE_METHODS = ("abs", "sqrt", "sin", "tan", "tanh", "sinh", "asin", "atan", "asinh",
                  "atanh", "ceil", "floor", "trunc", "sign", "sgn", "expm1", "log1p", "erf",
                  "erfinv", "frac", "deg2rad", "rad2deg", "relu", "square", "isnan", "isinf",
                  "signbit", "nan_to_num", "neg")
for _name in _VALUE_METHODS:
    _KERNELS[f"aten::{_name}"] = _CSR_OPS[f"aten::{_name}"] = _method_kernel(_name)


@_kernel("aten::pow.Tensor_Tensor")
def _k_pow(self, exponent):
    if not _is_sparse(self) or not _is_scalar(exponent):
        raise not_implemented("aten::pow.Tensor_Tensor",
                              self._device if isinstance(self, Tensor) else _dt_cpu())
    return self.pow(exponent)


def _divisor(other):
    if not _is_scalar(other):
        shape = list(other.shape) if isinstance(other, Tensor) else []
        raise RuntimeError(f"Sparse division requires a scalar or zero-dim dense tensor "
                           f"divisor (got shape {shape} for divisor)")


@_kernel("aten::div.Tensor_mode")
def _k_div(self, other, rounding_mode=None):
    if not _is_sparse(self):
        raise not_implemented("aten::div.Tensor_mode", other._device)
    _divisor(other)
    return _make(self._sp_i, self._sp_v.div(other, rounding_mode=rounding_mode), self.shape,
                 self._sp_coalesced)


@_kernel("aten::div_.Tensor_mode")
def _k_div_(self, other, rounding_mode=None):
    if not _is_sparse(self):
        raise not_implemented("aten::div_.Tensor_mode", other._device)
    _divisor(other)
    self._sp_v.div_(other, rounding_mode=rounding_mode)
    self._vc[0] += 1
    return self



_KERNELS["aten::t"] = lambda self: self.t()
_KERNELS["aten::clone"] = lambda self, memory_format=None: self.clone()
_KERNELS["aten::mT"] = lambda self: self.mT


@_kernel("aten::linalg_vector_norm")
def _k_norm(self, ord=2, dim=None, keepdim=False, dtype=None):
    """The norm of every element (dim None): its coalesced values' norm, as PyTorch's."""
    if dim is not None:
        raise not_implemented("aten::linalg_vector_norm", self._device)
    return self.coalesce()._sp_v.norm(ord, dtype=dtype) if dtype is not None else \
        self.coalesce()._sp_v.norm(ord)



_SPARSE_PARAMETER = []


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
    p._dtype, p._device = data._dtype, data._device
    p._vc, p._ag, p._base = data._vc, None, None
    return p.requires_grad_() if requires_grad else p
