"""Sparse COO products (gpujit/_sparse_coo.py's tensors): a sparse matrix times a dense
matrix or vector (torch.mm / matmul / spmm / torch.sparse.mm / addmm / mv), as PyTorch's CPU
kernel sums it (one fused multiply-add per entry into its row, in storage order), a batch
of them (bmm), dense @ sparse and sparse @ sparse; each a Function whose node PyTorch names
(MmBackward0, SparseAddmmBackward0 ...), the dense operand's and the sparse operand's
values' gradients recorded. Registered in _sparse_coo._KERNELS by op name."""
from __future__ import annotations

import numpy as np

from .ops import registry as _registry
from .tensor import Tensor
from ._sparse_coo import (SparseCooTensor, _autograd_function, _dense_operand, _device_tensor,
                          _grad_input, _host, _is_sparse, _kernel, _make, _name_node, _no_grad_operand,
                          _select, not_implemented)


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
    node = node or "SparseAddmmBackward0"
    return _SPDENSE[node].apply(
        t, mat2, mat1._sp_v if node == "SparseAddmmBackward0" else _grad_input(mat1),
        (mat1, beta, alpha, vec))


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
        ctx.dense = values is not mat1._sp_v       # (a dense gradient: _grad_input)
        values = mat1._sp_v
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
        if ctx.needs_input_grad[2] and ctx.dense:     # (torch's dense gradient of mat1)
            gv = grad.unsqueeze(1) * ctx.mat2.unsqueeze(0) if vec else grad.mm(ctx.mat2.t())
            if alpha != 1:
                gv = gv * alpha
        elif ctx.needs_input_grad[2]:   # (the sparse operand's values: grad[row] . mat2[col])
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
# ---------------------------------------------------------------- products
@_kernel("aten::mm")
def _k_mm(self, mat2):
    if _is_sparse(self):
        if _is_sparse(mat2):
            return _sparse_sparse_mm(self, mat2)
        return sparse_mm(self, mat2, "MmBackward0")
    return _DenseSparseMm.apply(self, _grad_input(mat2), (mat2,))


@_kernel("aten::matmul")
def _k_matmul(self, other):
    if _is_sparse(self) and not _is_sparse(other) and other.dim() == 1:
        return sparse_mm(self, other, "MvBackward0", vec=True)
    if _is_sparse(self) and self.dim() == 3 or _is_sparse(other) and other.dim() == 3:
        return _k_bmm(self, other)
    if not _is_sparse(self) and isinstance(self, Tensor) and self.dim() == 1:
        # (vector @ sparse matrix: PyTorch's mm of the row, squeezed in place)
        return _k_mm(self.unsqueeze(0), other).squeeze_(0)
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
        ctx.dense = values is not mat2._sp_v
        return sparse_mm(mat2.t(), mat1.t(), "MmBackward0").t().contiguous()

    @staticmethod
    def backward(ctx, grad):
        gd = gv = None
        if ctx.needs_input_grad[0]:
            gd = sparse_mm(ctx.mat2.detach(), grad.t(), "MmBackward0").t()
        if ctx.needs_input_grad[1] and ctx.dense:
            gv = ctx.mat1.t().mm(grad)
        elif ctx.needs_input_grad[1]:   # (grad[:, col] . mat1[:, row])
            rows, cols = ctx.mat2._sp_i[0], ctx.mat2._sp_i[1]
            gv = (grad.index_select(1, cols) * ctx.mat1.index_select(1, rows)).sum(0)
        return gd, gv, None


type.__setattr__(_DenseSparseMm, "_backward_cls", _SPDENSE["MmBackward0"]._backward_cls)


_name_node(_SparseBmm, "BmmBackward0")


# ---------------------------------------------------------------- sparse results
def _sparse_times_dense(mat1, mat2, who):
    """PyTorch's checks of sspaddmm / hspmm's sparse mat1 and dense mat2; mat1 coalesced
    (their CPU kernels read it by rows) and the sizes (n, k, m)."""
    if mat1.sparse_dim() != 2:
        raise RuntimeError(f"{who}: Argument #2: matrices expected, got {mat1.sparse_dim()}D "
                           f"tensor")
    if mat1.dense_dim():
        raise RuntimeError(f"{who}: Argument #2: scalar values expected, got "
                           f"{mat1.dense_dim()}D values")
    if mat2.dim() != 2:
        raise RuntimeError(f"{who}: Argument #3: matrices expected, got {mat2.dim()}D tensor")
    n, k = mat1._sp_size
    if mat2.shape[0] != k:
        raise RuntimeError(f"{who}: Argument #3: Expected dim 0 size {k}, got {mat2.shape[0]}")
    if mat2._dtype is not mat1._dtype:
        raise RuntimeError(f"expected scalar type {mat1._dtype.short_name} but found "
                           f"{mat2._dtype.short_name}")
    for t in (mat1, mat2):
        _no_grad_operand(f"torch.{who}", t)
    return mat1.coalesce(), n, k, mat2.shape[1]


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1):
    """torch.sspaddmm: beta * input + alpha * (mat1 @ mat2), a sparse COO result as
    PyTorch's CPU kernel lays it out: input's entries (times beta) first, then for each row
    of mat1 holding entries one entry per column of mat2, its sum of alpha * v * mat2[col]
    over the row's entries in index order; uncoalesced."""
    if not _is_sparse(input):
        raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")
    if not _is_sparse(mat1):
        raise RuntimeError("sspaddmm: expected 'mat1' to have sparse layout, got 'mat1' "
                           "with layout Strided")
    s, n, _, m = _sparse_times_dense(mat1, mat2, "sspaddmm")
    if input.size(0) != n:
        raise RuntimeError(f"sspaddmm: Argument #1: Expected dim 0 size {n}, got "
                           f"{input.size(0)}")
    if input.size(1) != m:
        raise RuntimeError(f"sspaddmm: Argument #1: Expected dim 1 size {m}, got "
                           f"{input.size(1)}")
    _no_grad_operand("torch.sspaddmm", input)
    dt = mat2._dtype.np
    ti, tv = _host(input._sp_i), _host(input._sp_v).astype(dt)
    if tv.size and beta != 1:
        tv = tv * dt.type(beta)
    i, v, b = _host(s._sp_i), _host(s._sp_v), _host(mat2)
    rows = np.unique(i[0])
    prod = np.zeros((rows.size, m), dt)
    a = dt.type(alpha)
    where = np.searchsorted(rows, i[0])
    for e in range(i.shape[1]):                 # (each entry an axpy into its row)
        prod[where[e]] += (a * v[e]) * b[i[1, e]]
    pi = np.stack([np.repeat(rows, m), np.tile(np.arange(m), rows.size)]).astype(np.int64)
    out_i = np.concatenate([ti, pi], 1)
    out_v = np.concatenate([tv, prod.reshape(-1)])
    dev = mat2._device
    return _make(_device_tensor(out_i, dev), _device_tensor(out_v, dev), (n, m),
                 out_v.size < 2)


def smm(input, mat2):
    """torch.smm / s.smm: the sparse COO product input @ mat2 (sspaddmm of an empty
    input)."""
    if not _is_sparse(input):
        raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")
    n = input._sp_size[0]
    m = mat2.shape[1] if mat2.dim() == 2 else 0
    empty = _make(_device_tensor(np.zeros((2, 0), np.int64), input._device),
                  _device_tensor(np.zeros((0,), input._dtype.np), input._device), (n, m), True)
    return sspaddmm(empty, input, mat2, beta=0, alpha=1)


def hspmm(mat1, mat2):
    """torch.hspmm: mat1 @ mat2 as a hybrid COO tensor of one sparse dim: the rows of mat1
    that hold entries (sorted), each with its dense row of the product (PyTorch's s_addmm
    sum: one fused multiply-add per entry)."""
    if not _is_sparse(mat1):
        raise not_implemented("aten::hspmm", mat1._device, "")
    s, n, _, m = _sparse_times_dense(mat1, mat2, "hspmm")
    i = _host(s._sp_i)
    rows, where = np.unique(i[0], return_inverse=True)
    vals = _spmm_host(np.stack([where.reshape(-1), i[1]]), _host(s._sp_v), _host(mat2),
                      rows.size)
    dev = mat2._device
    return _make(_device_tensor(rows.reshape(1, -1).astype(np.int64), dev),
                 _device_tensor(vals, dev), (n, m), rows.size < 2)
