"""Sparse COO kernels of the registry's ops (gpujit/_sparse_coo.py's tensors), by op name
in _sparse_coo._KERNELS: dense + sparse and sparse + sparse (PyTorch's merge), products by
elements, sums over dims, softmax / log_softmax, factories, views and shape ops (transpose,
unsqueeze, index_select, narrow_copy, permute, cat, stack), the function forms of the
values-only methods, and the ops a CSR operand takes through its COO form (_CSR_OPS)."""
from __future__ import annotations

import numpy as np

from . import dtypes as _dt
from .tensor import Tensor
from ._sparse_coo import (ZERO_PRESERVING, SparseCooTensor, _KERNELS, _alias,
                          _autograd_function, _dt_cpu, _device_tensor, _gather, _grad_input,
                          _host, _is_scalar, _is_sparse, _kernel, _linear, _make, _name_node,
                          _named, _no_grad_operand, _records, not_implemented)


@_kernel("aten::sum")
def _k_sum(self, dtype=None):
    return self.sum(dtype=dtype)


# ---------------------------------------------------------------- sums and differences
def _same_size(self, other):
    if tuple(self.shape) != tuple(other.shape):
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(self.shape)} while other has size {list(other.shape)} "
                           f"(FYI: dense-sparse addition does not currently support "
                           f"broadcasting)")


def _dense_plus_sparse(self, other, alpha):
    """dense + alpha * sparse: the dense tensor in the promoted dtype, as PyTorch's
    add_out_dense_sparse_cpu sums it: each entry's axpy (alpha * v + r, one fused
    multiply-add in float32 / float64) at its index in storage order, duplicates in turn;
    a coalesced tensor without dense dims r + alpha * v (its scalar loop, two roundings);
    values that are not contiguous coalesced first (then the dense add_'s fused
    multiply-add)."""
    from .dtypes import promote_types
    _same_size(self, other)
    dt = promote_types(self._dtype, other._dtype)
    c = other
    if not other._sp_v.is_contiguous():
        c = other.coalesce()
    v = _host(c._sp_v.to(dt))
    sd = c.sparse_dim()
    r = _host(self.to(dt)).copy()
    flat = r.reshape((-1,) + tuple(c.shape[sd:]))
    lin = _linear(_host(c._sp_i), c.shape)
    scalar_loop = (c._sp_coalesced or lin.size == 1) and not c.dense_dim()
    _axpy_entries(flat, lin, v, alpha, fused=not scalar_loop)
    return _device_tensor(r, self._device)


def _axpy_entries(flat, lin, v, alpha, fused):
    """flat[lin[k]] += alpha * v[k] for k in storage order (duplicates in turn): one fused
    multiply-add per element for float32 / float64 where `fused`, else two roundings."""
    from .ops.fma import fma
    if not lin.size:
        return
    fused = fused and v.dtype in (np.float32, np.float64)
    a = v.dtype.type(alpha) if v.dtype.kind in "fc" else alpha
    order = np.argsort(lin, kind="stable")
    first = np.r_[True, lin[order][1:] != lin[order][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(lin.size), 0))
    rank = np.empty(lin.size, np.int64)
    rank[order] = np.arange(lin.size) - start
    for w in range(int(rank.max()) + 1):
        k = np.nonzero(rank == w)[0] if w or rank.max() else slice(None)
        idx, vk = lin[k], v[k]
        if fused:
            flat[idx] = fma(vk, a, flat[idx], v.dtype)
        elif alpha == 1:
            flat[idx] += vk
        else:
            flat[idx] += (vk * a).astype(v.dtype, copy=False)


class _AddDense(_autograd_function()):
    """dense + alpha * sparse, the dense operand's gradient recorded (AddBackward0)."""

    @staticmethod
    def forward(ctx, self, values, boxed):
        other, alpha = boxed
        ctx.other, ctx.alpha = other, alpha
        ctx.dense = values is not other._sp_v
        return _dense_plus_sparse(self, other.detach(), alpha)

    @staticmethod
    def backward(ctx, grad):
        gv = None
        if ctx.needs_input_grad[1]:
            gv = grad if ctx.dense else _gather(grad, ctx.other)
            if ctx.alpha != 1:
                gv = gv * ctx.alpha
        return grad, gv, None


_name_node(_AddDense, "AddBackward0")


def _sparse_plus_sparse(self, other, alpha):
    """sparse + alpha * sparse as PyTorch's CPU kernel: one merge of the two entry lists
    in storage order by index (the smaller first, equal indices summed in one entry),
    whether or not they are coalesced; the result coalesced when both were. Where the
    values of either are not contiguous (an expanded gradient's), the two lists one
    after the other (add_out_sparse_non_contiguous), coalesced only when there are more
    entries than elements."""
    from .dtypes import promote_types
    if self.sparse_dim() != other.sparse_dim():
        raise RuntimeError(f"add: expected 'self' and 'other' to have same density, but "
                           f"'self' has {self.sparse_dim()} sparse dimensions while 'other' "
                           f"has {other.sparse_dim()} sparse dimensions")
    if tuple(self.shape) != tuple(other.shape):
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(self.shape)} != {list(other.shape)}")
    dt = promote_types(self._dtype, other._dtype)
    na, nb = self._nnz(), other._nnz()
    joined = na and nb and not (self._sp_v.is_contiguous() and other._sp_v.is_contiguous())
    if joined:
        pa, pb, n = np.arange(na), np.arange(na, na + nb), na + nb
    else:
        a = _linear(_host(self._sp_i), self.shape)
        pa, pb, n = _merge(a, _linear(_host(other._sp_i), other.shape))
    sd = self.sparse_dim()
    i = np.zeros((sd, n), np.int64)
    i[:, pa] = _host(self._sp_i)
    i[:, pb] = _host(other._sp_i)
    va = _host(self._sp_v.to(dt))
    vb_raw = vb = _host(other._sp_v.to(dt))
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
        if alpha != 1 and va.dtype in (np.float32, np.float64):
            # (the kernel's axpy into the entry: alpha * other + self rounded once)
            from .ops.fma import fma
            v[both] = fma(vb_raw[both[pb]], va.dtype.type(alpha), v[both], va.dtype)
        else:
            v[both] = v[both] + vb[both[pb]]
    vt = _device_tensor(v.astype(va.dtype), self._device)
    if _records(self._sp_v) or _records(other._sp_v):
        vt = _SparseAdd.apply(self._sp_v, other._sp_v, (vt, _device_tensor(pa, self._device),
                                                        _device_tensor(pb, self._device),
                                                        alpha))
    if joined:
        r = _make(_device_tensor(i, self._device), vt, self.shape, n < 2)
        return r.coalesce() if n > r.numel() else r
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
        return _AddDense.apply(self, _grad_input(other), (other, alpha))
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
    dims = range(n) if dim is None or (isinstance(dim, (list, tuple)) and not dim) else \
        [dim] if isinstance(dim, int) else dim
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


def _filled_like(self, fill_value, dtype=None, layout=None, device=None, pin_memory=None,
                 memory_format=None):
    """ones_like / full_like of a sparse tensor: dense with layout=torch.strided, else
    PyTorch's error (its empty sparse tensor's fill_)."""
    if layout is _dt.strided:
        import gpujit
        return gpujit.full(tuple(self.shape), fill_value, dtype=dtype or self._dtype,
                           device=device or self._device)
    raise not_implemented("aten::fill_.Scalar", self._device)


def _torch_refusal(words):
    """A kernel raising PyTorch's RuntimeError for an op its sparse dispatch reaches only
    through a reshape / expand / contiguous copy of the sparse tensor."""
    def kernel(*args):
        raise RuntimeError(words)
    return kernel


_KERNELS["aten::repeat"] = _torch_refusal("expand is unsupported for Sparse tensors")
_KERNELS["aten::outer"] = _KERNELS["aten::tensordot"] = _torch_refusal(
    "reshape is not implemented for sparse tensors")
_KERNELS["aten::masked_fill.Scalar"] = _KERNELS["aten::masked_fill.Tensor"] = \
    _torch_refusal("unsupported memory format option Contiguous")
_KERNELS["aten::ones_like"] = lambda self, *rest: _filled_like(self, 1, *rest)
_KERNELS["aten::full_like"] = _filled_like
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


_ADDS = ("aten::add.Tensor", "aten::add_.Tensor")


def _compressed_refusal(op, args):
    """PyTorch's error where its kernels take a CSC / BSR / BSC operand no further than
    CSR (None where they compute it): a product by elements with a dense tensor, a block
    layout in a sum with a dense tensor or in a sparse @ sparse product, BSC @ dense."""
    from ._sparse_csr import SparseCsrTensor, _BLOCK_LAYOUTS, _layout_name
    comp = [a for a in args if type(a) is SparseCsrTensor]
    layouts = {a.layout for a in comp}
    dense = any(isinstance(a, Tensor) and not isinstance(a, (SparseCsrTensor, SparseCooTensor))
                for a in args)
    block = layouts & set(_BLOCK_LAYOUTS)
    first = _layout_name(comp[0].layout)
    if op == "aten::mul.Tensor" and dense:
        if block:
            return RuntimeError(f"empty_sparse_compressed expected sparse compressed "
                                f"(non-block) tensor layout but got {first}")
        return RuntimeError("Expected result Tensor to be of format CSR")
    if op in _ADDS and dense and block:
        return RuntimeError("src.layout() == kSparseCsr || src.layout() == kSparseCsc "
                            "INTERNAL ASSERT FAILED: gpujit, as PyTorch, adds no block "
                            "sparse tensor to a dense one")
    if op in ("aten::mm", "aten::matmul", "aten::addmm", "aten::mv") and block:
        if len(comp) > 1:
            return RuntimeError(f"zeros_sparse_compressed expected sparse compressed "
                                f"(non-block) tensor layout but got {first}")
        if _dt.sparse_bsc in layouts:
            if op == "aten::mv":
                return RuntimeError("torch.addmv: operation not supported for mat with "
                                    "SparseBsc layout")
            return RuntimeError("addmm: computation on CPU is not implemented for Strided + "
                                "SparseBsc @ Strided")
    return None


def _csr_operands(fn, op, swap_add=False):
    """fn over the COO forms of its compressed operands, a sparse result made compressed
    again (csr * dense, csr + csr, csr @ csr are CSR, csc + csc CSC, bsr + bsr BSR of the
    same blocks, csc @ csc CSR, as PyTorch's); csr + dense (swap_add) is dense + csr, a
    dense result, as PyTorch's; where PyTorch refuses a CSC / BSR / BSC operand, its
    error (_compressed_refusal)."""
    def kernel(*args):
        from ._sparse_csr import as_coo, SparseCsrTensor, _to_layout
        comp = [a for a in args if type(a) is SparseCsrTensor]
        if any(a.layout is not _dt.sparse_csr for a in comp):
            e = _compressed_refusal(op, args)
            if e is not None:
                raise e
        if swap_add and type(args[0]) is SparseCsrTensor and isinstance(args[1], Tensor) \
                and not isinstance(args[1], (SparseCsrTensor, SparseCooTensor)):
            other = args[1] * args[2] if args[2] != 1 else args[1]
            return fn(other, as_coo(args[0]))
        r = fn(*(as_coo(a) for a in args))
        if not isinstance(r, SparseCooTensor):
            return r
        lay = comp[0].layout if op in _ADDS else _dt.sparse_csr
        return _to_layout(r, lay, comp[0]._blocksize() if lay in (_dt.sparse_bsr,
                                                                  _dt.sparse_bsc) else None)
    return kernel


# the ops a compressed operand takes (through its COO form): products and sums with dense
# tensors and compressed ones, products by elements
_CSR_OPS = {n: _csr_operands(_KERNELS[n], n) for n in (
    "aten::mm", "aten::matmul", "aten::mv", "aten::addmm", "aten::mul.Tensor")}
_CSR_OPS["aten::add.Tensor"] = _csr_operands(_k_add, "aten::add.Tensor", swap_add=True)


def _compressed_zeros_like(self, dtype=None, layout=None, device=None, pin_memory=None,
                           memory_format=None):
    """zeros_like of a compressed tensor: no entries, its layout, as PyTorch's (another
    layout is its error)."""
    from . import zeros
    from ._sparse_csr import _make_csr, _layout_name
    dtype, device = dtype or self._dtype, device or self._device
    if layout is not None and layout is not self.layout:
        raise RuntimeError(f"empty_like with different sparse layout is not supported (self "
                           f"is {_layout_name(self.layout)} but you requested "
                           f"{_layout_name(layout)})")
    return _make_csr(zeros(self._csr_crow.shape[0], dtype=self._csr_crow._dtype, device=device),
                     zeros(0, dtype=self._csr_col._dtype, device=device),
                     zeros((0,) + tuple(self._csr_v.shape[1:]), dtype=dtype, device=device),
                     self.shape, self.layout)


_CSR_OPS["aten::zeros_like"] = _compressed_zeros_like
_CSR_OPS["aten::masked_fill.Scalar"] = _CSR_OPS["aten::masked_fill.Tensor"] = \
    _KERNELS["aten::masked_fill.Scalar"]
_CSR_OPS["aten::add_.Tensor"] = _csr_operands(_KERNELS["aten::add_.Tensor"],
                                             "aten::add_.Tensor")


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
    if not ts:
        raise not_implemented("aten::cat", _dt_cpu())
    _sparse_operands(ts)
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


def _sparse_operands(ts):
    """PyTorch's errors for a dense tensor among sparse ones to join: first (its _values),
    or later; for compressed ones (their missing is_contiguous)."""
    if not _is_sparse(ts[0]):
        lay = ts[0].layout
        if lay is _dt.strided:
            raise not_implemented("aten::_values", ts[0]._device, "")
        raise RuntimeError(f"Sparse {str(lay)[-3:].upper()} tensors do not have is_contiguous")
    for k, t in enumerate(ts):
        if not _is_sparse(t):
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found "
                               f"at position {k}.")


@_kernel("aten::stack")
def _k_stack(tensors, dim=0):
    ts = list(tensors)
    if ts:
        _sparse_operands(ts)
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
        kind = "SparseCsr" if isinstance(input, Tensor) and input.layout is not _dt.strided \
            else ""
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the "
            f"'{kind}{'CUDA' if dev.type == 'cuda' else 'CPU'}' backend. This could be because the "
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


# (the sparse classes' zero-preserving methods, and neg; not round, whose function form
# takes decimals=)
_VALUE_METHODS = tuple(n for n in ZERO_PRESERVING if n != "round") + ("neg",)
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


def _mode(mode):
    return {"rounding_mode": mode[0]} if mode else {}


def _div_kernels(overload):
    name, name_ = f"aten::div.{overload}", f"aten::div_.{overload}"

    @_kernel(name)
    def _k_div(self, other, *mode):
        if not _is_sparse(self):
            raise not_implemented(name, other._device)
        _divisor(other)
        return _make(self._sp_i, self._sp_v.div(other, **_mode(mode)), self.shape,
                     self._sp_coalesced)

    @_kernel(name_)
    def _k_div_(self, other, *mode):
        if not _is_sparse(self):
            raise not_implemented(name_, other._device)
        _divisor(other)
        self._sp_v.div_(other, **_mode(mode))
        self._vc[0] += 1
        return self


_div_kernels("Tensor")          # (x / 2)
_div_kernels("Tensor_mode")     # (torch.div(x, 2, rounding_mode=...))


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
