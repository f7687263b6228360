"""Matrix-shaped ops: diagonals (diag, diagonal, diag_embed, diagflat, fill_diagonal_,
diagonal_backward), triangle indices (tril_indices, triu_indices), products (kron, tensordot,
cdist, addmv, addr, chain_matmul), grids (meshgrid, cartesian_prod, block_diag), rot90,
vander, and the in-place view ops (t_, transpose_, squeeze_, unsqueeze_) that restride a
tensor without touching its elements.

`diagonal` is a view, as in PyTorch: writes through it reach the input (a strided view of
the input's memory, from `as_strided`). The in-place view ops are tagged `inplace_view`
(PyTorch's tag): their impl returns self's new view, which becomes self's data.
Python entry points with PyTorch's varargs (`meshgrid(*tensors, indexing=)`,
`block_diag(*tensors)`, `tensordot(a, b, dims=2)`) are in `PUBLIC`.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, wrap_dim, broadcast_shapes, int_list
from .registry import op, OPS
from .views import expand_shape, _squeeze_shape, _unsqueeze_shape, _transpose_meta
from . import linalg as _la
from ..device import cpu as _cpu

PUBLIC = {}

_VIEW = {"view"}
_SHAPE = {"shape"}
_LA = {"linalg"}
_IPV = {"inplace", "inplace_view"}
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)


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
        return xp.stack([xp.asarray(r), xp.asarray(c)]).reshape(2, -1).astype(dt.np)
    impl.__name__ = name
    return impl


tril_indices = _tri_indices("tril_indices")
triu_indices = _tri_indices("triu_indices")


# ------------------------------------------------------------------ kron

def _kron_shape(sa, sb):
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + tuple(sa)
    sb = (1,) * (nd - len(sb)) + tuple(sb)
    return tuple(a * b for a, b in zip(sa, sb))


@op("aten::kron(Tensor self, Tensor other) -> Tensor", tags=_LA,
    meta=lambda self, other: TensorMeta(_dt.promote_types(self.dtype, other.dtype),
                                        _kron_shape(self.shape, other.shape), self.device))
def kron(xp, self, other):
    ct = _dt.promote_types(_dtn(self.dtype), _dtn(other.dtype)).np
    nd = max(self.ndim, other.ndim)
    a = self.astype(ct).reshape((1,) * (nd - self.ndim) + self.shape)
    b = other.astype(ct).reshape((1,) * (nd - other.ndim) + other.shape)
    # out[i0*B0 + j0, ...] = a[i0, ...] * b[j0, ...]: a on the even axes, b on the odd
    a_idx = tuple(x for d in range(nd) for x in (slice(None), None))
    b_idx = tuple(x for d in range(nd) for x in (None, slice(None)))
    r = a[a_idx] * b[b_idx]
    return r.reshape(_kron_shape(self.shape, other.shape)).astype(ct, copy=False)


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
    d0, d1 = _rot90_dims(self.ndim, dims)
    k %= 4
    if k == 1:
        r = xp.swapaxes(xp.flip(self, d1), d0, d1)
    elif k == 2:
        r = xp.flip(xp.flip(self, d0), d1)
    elif k == 3:
        r = xp.flip(xp.swapaxes(self, d0, d1), d1)
    else:
        r = self
    return r.copy()


# ------------------------------------------------------------------ block_diag

def _block_diag_rule(shapes, dtypes):
    for i, s in enumerate(shapes):
        if len(s) > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {len(s)} dimensions")
    mats = [(1, 1) if len(s) == 0 else (1, s[0]) if len(s) == 1 else tuple(s)
            for s in shapes]
    shape = (sum(m[0] for m in mats), sum(m[1] for m in mats)) if mats else (1, 0)
    return _promote_all(dtypes) or _dt.float32, shape, mats


@op("aten::block_diag(Tensor[] tensors) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda tensors: TensorMeta(*_block_diag_rule(
        [tuple(t.shape) for t in tensors], [t.dtype for t in tensors])[:2],
        tensors[0].device if tensors else _cpu))
def block_diag(xp, tensors):
    dt, shape, mats = _block_diag_rule([t.shape for t in tensors],
                                       [_dtn(t.dtype) for t in tensors])
    out = xp.zeros(shape, dt.np)
    r = c = 0
    for t, (m, n) in zip(tensors, mats):
        out[r:r + m, c:c + n] = t.reshape(m, n)
        r, c = r + m, c + n
    return out


def block_diag_public(*tensors):
    return OPS["aten::block_diag"].public(list(tensors))


PUBLIC["block_diag"] = block_diag_public


# ------------------------------------------------------------------ meshgrid

_MESHGRID_WARNING = ("torch.meshgrid: in an upcoming release, it will be required to pass "
                     "the indexing argument.")


def _meshgrid_rule(shapes, dtypes, indexing):
    if not shapes:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for d in dtypes[1:]:
        if d is not dtypes[0]:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for s in shapes:
        if len(s) > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got a {len(s)}D tensor of shape {list(s)}")
    sizes = [s[0] if s else 1 for s in shapes]
    swap = indexing == "xy" and len(sizes) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(sizes), swap


def _meshgrid_meta(tensors, indexing="ij"):
    shape, _ = _meshgrid_rule([tuple(t.shape) for t in tensors], [t.dtype for t in tensors],
                              indexing)
    return [TensorMeta(t.dtype, shape, t.device) for t in tensors]


def _meshgrid(xp, tensors, indexing):
    shape, swap = _meshgrid_rule([t.shape for t in tensors],
                                 [_dtn(t.dtype) for t in tensors], indexing)
    out = []
    for i, t in enumerate(tensors):
        pos = (1 - i if i < 2 else i) if swap else i
        view = [1] * len(shape)
        view[pos] = shape[pos]
        out.append(xp.broadcast_to(t.reshape(view), shape))
    return out


@op("aten::meshgrid(Tensor[] tensors) -> Tensor[]", tags=_VIEW, method=False,
    meta=lambda tensors: _meshgrid_meta(tensors))
def meshgrid_default(xp, tensors):
    warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=3)
    return _meshgrid(xp, tensors, "ij")


@op("aten::meshgrid.indexing(Tensor[] tensors, *, str indexing) -> Tensor[]", tags=_VIEW,
    method=False, meta=_meshgrid_meta)
def meshgrid_indexing(xp, tensors, indexing):
    return _meshgrid(xp, tensors, indexing)


def meshgrid(*tensors, indexing=None):
    """torch.meshgrid(*tensors, indexing=None): 'ij' (with PyTorch's warning) when indexing
    is not given; the outputs are expanded views of the inputs."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    if indexing is None:
        return OPS["aten::meshgrid"].public(list(tensors))
    return OPS["aten::meshgrid.indexing"].public(list(tensors), indexing=indexing)


PUBLIC["meshgrid"] = meshgrid


def _cartesian_rule(shapes, dtypes):
    for s in shapes:
        if len(s) != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(s)}")
    if len(shapes) == 1:
        return shapes[0]
    _meshgrid_rule(shapes, dtypes, "ij")
    n = 1
    for s in shapes:
        n *= s[0]
    return (n, len(shapes))


@op("aten::cartesian_prod(Tensor[] tensors) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda tensors: TensorMeta(
        tensors[0].dtype if tensors else _dt.float32,
        _cartesian_rule([tuple(t.shape) for t in tensors], [t.dtype for t in tensors]),
        tensors[0].device if tensors else None))
def cartesian_prod(xp, tensors):
    shape = _cartesian_rule([t.shape for t in tensors], [_dtn(t.dtype) for t in tensors])
    if len(tensors) == 1:
        return tensors[0].copy()
    grids = _meshgrid(xp, tensors, "ij")
    return xp.stack([g.reshape(-1) for g in grids], axis=1).reshape(shape)


def cartesian_prod_public(*tensors):
    return OPS["aten::cartesian_prod"].public(list(tensors))


PUBLIC["cartesian_prod"] = cartesian_prod_public


# ------------------------------------------------------------------ tensordot

def _tensordot_rule(sa, sb, da, db, ta, tb):
    if ta is not tb:
        raise RuntimeError("both inputs should have same dtype")
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [wrap_dim(d, len(sa)) for d in da]
    db = [wrap_dim(d, len(sb)) for d in db]
    for x, y in zip(da, db):
        if sa[x] != sb[y] and sa[x] is not None and sb[y] is not None:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{sa[x]} in dim {x} and second has size {sb[y]} in dim {y}")
    shape = tuple(s for i, s in enumerate(sa) if i not in da) + \
        tuple(s for i, s in enumerate(sb) if i not in db)
    return da, db, shape


@op("aten::tensordot(Tensor self, Tensor other, int[] dims_self, int[] dims_other) -> Tensor",
    tags=_LA, method=False,
    meta=lambda self, other, dims_self, dims_other: TensorMeta(self.dtype, _tensordot_rule(
        tuple(self.shape), tuple(other.shape), int_list(dims_self), int_list(dims_other),
        self.dtype, other.dtype)[2], self.device))
def tensordot(xp, self, other, dims_self, dims_other):
    da, db, shape = _tensordot_rule(self.shape, other.shape, int_list(dims_self),
                                    int_list(dims_other), _dtn(self.dtype), _dtn(other.dtype))
    _la._not_bool("tensordot", _dtn(self.dtype))
    a, b = self, other
    if a.dtype == _F16:
        a, b = a.astype(_F32), b.astype(_F32)
    r = xp.tensordot(a, b, axes=(da, db))
    return xp.asarray(r).reshape(shape).astype(self.dtype, copy=False)


def _tensordot_dims(a, b, dims):
    """torch.tensordot's dims: an int n (a's last n dims with b's first n), a pair of dim
    lists (or of ints), or a tensor holding either."""
    if hasattr(dims, "tolist") and not isinstance(dims, (int, list, tuple)):
        dims = dims.tolist()
    if isinstance(dims, (list, tuple)):
        if len(dims) != 2:
            raise RuntimeError(f"tensordot expects dims to be a pair of lists of dims, but "
                               f"got {dims}")
        da, db = dims
        return int_list(da), int_list(db)
    dims = int(dims)
    if dims < 0:
        raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
    if dims > min(a.dim(), b.dim()):
        raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
    return list(range(a.dim() - dims, a.dim())), list(range(dims))


def tensordot_public(a, b, dims=2, out=None):
    da, db = _tensordot_dims(a, b, dims)
    r = OPS["aten::tensordot"].public(a, b, da, db)
    if out is not None:
        out.copy_(r)
        return out
    return r


PUBLIC["tensordot"] = tensordot_public


# ------------------------------------------------------------------ cdist

def _cdist_rule(s1, s2, d1, d2, p):
    if len(s1) < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {len(s1)}D")
    if len(s2) < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {len(s2)}D")
    if s1[-1] != s2[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {s1[-1]} "
                           f"X2: {s2[-1]}")
    for name, d in (("X1", d1), ("X2", d2)):
        if d.category != _dt.FLOATING:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{d.short_name}")
    if d1 is not d2:
        raise RuntimeError(f"expected scalar type {d1.short_name} but found {d2.short_name}")
    if d1 is _dt.float16:
        raise NotImplementedError("\"cdist\" not implemented for 'Half'")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    batch = broadcast_shapes(tuple(s1[:-2]), tuple(s2[:-2]))
    return batch + (s1[-2], s2[-2])


@op("aten::cdist(Tensor x1, Tensor x2, float p=2., int? compute_mode=None) -> Tensor",
    tags=_LA, method=False, contiguous=True,
    meta=lambda x1, x2, p=2., compute_mode=None: TensorMeta(x1.dtype, _cdist_rule(
        tuple(x1.shape), tuple(x2.shape), x1.dtype, x2.dtype, p), x1.device))
def cdist(xp, x1, x2, p=2., compute_mode=None):
    """The p-norm distance of every row of x1 to every row of x2 (batched); compute_mode
    (PyTorch's matmul shortcut for p == 2) changes nothing here."""
    _cdist_rule(x1.shape, x2.shape, _dtn(x1.dtype), _dtn(x2.dtype), p)
    d = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        r = (d != 0).sum(-1)
    elif p == float("inf"):
        r = d.max(-1) if d.shape[-1] else d.sum(-1)
    elif p == 1:
        r = d.sum(-1)
    elif p == 2:
        r = xp.sqrt((d * d).sum(-1))
    else:
        r = (d ** p).sum(-1) ** (1.0 / p)
    return xp.asarray(r).astype(x1.dtype, copy=False)


# ------------------------------------------------------------------ addmv / addr

def _addmv_check(ds, shapes):
    if ds[0] is not ds[1] or ds[1] is not ds[2]:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{ds[0].short_name}, {ds[1].short_name}, and {ds[2].short_name}")
    s, m, v = shapes
    if len(m) != 2 or len(v) != 1 or len(s) > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {len(s)}, {len(m)}, "
                           f"{len(v)}")
    if m[1] != v[0] or (len(s) == 1 and s[0] not in (1, m[0])):
        raise RuntimeError(f"size mismatch, got input ({s[0] if s else 1}), mat "
                           f"({m[0]}x{m[1]}), vec ({v[0]})")
    return (m[0],)


def _addmv_meta(self, mat, vec, beta=1, alpha=1):
    shape = _addmv_check((self.dtype, mat.dtype, vec.dtype), (self.shape, mat.shape, vec.shape))
    _la._check_scalars(mat.dtype, beta, alpha)
    return TensorMeta(mat.dtype, shape, mat.device)


@op("aten::addmv(Tensor self, Tensor mat, Tensor vec, *, Scalar beta=1, Scalar alpha=1) "
    "-> Tensor", tags=_LA, meta=_addmv_meta)
def addmv(xp, self, mat, vec, beta=1, alpha=1):
    """beta * self + alpha * (mat @ vec); beta == 0 ignores self (NaN too)."""
    _addmv_check(tuple(_dtn(a.dtype) for a in (self, mat, vec)),
                 (self.shape, mat.shape, vec.shape))
    return _la._add_product(xp, self, _la.mv(xp, mat, vec), beta, alpha)


def _addr_rule(shapes, dtypes, beta, alpha):
    s, v1, v2 = shapes
    for name, sh in (("vec1", v1), ("vec2", v2)):
        if len(sh) != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {len(sh)}-D")
    shape = (v1[0], v2[0])
    expand_shape(s, shape)
    dt = _promote_all(dtypes)
    if dt is _dt.bool:
        for name, v in (("beta", beta), ("alpha", alpha)):
            if not isinstance(v, (bool, int)):
                raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
    else:
        _la._check_scalars(dt, beta, alpha)
    return dt, shape


@op("aten::addr(Tensor self, Tensor vec1, Tensor vec2, *, Scalar beta=1, Scalar alpha=1) "
    "-> Tensor", tags=_LA,
    meta=lambda self, vec1, vec2, beta=1, alpha=1: TensorMeta(*_addr_rule(
        (self.shape, vec1.shape, vec2.shape), (self.dtype, vec1.dtype, vec2.dtype), beta,
        alpha), self.device))
def addr(xp, self, vec1, vec2, beta=1, alpha=1):
    """beta * self + alpha * outer(vec1, vec2), with type promotion (bool: logical)."""
    dt, shape = _addr_rule((self.shape, vec1.shape, vec2.shape),
                           tuple(_dtn(a.dtype) for a in (self, vec1, vec2)), beta, alpha)
    ct = _F32 if dt is _dt.float16 else dt.np
    a, b, s = vec1.astype(ct), vec2.astype(ct), xp.broadcast_to(self.astype(ct), shape)
    if dt is _dt.bool:
        out = xp.logical_and(a[:, None], b[None, :]) if alpha else xp.zeros(shape, bool)
        return xp.logical_or(out, s) if beta else out
    p = a[:, None] * b[None, :]
    if alpha != 1:
        p = p * alpha
    if beta != 0:
        p = p + (s if beta == 1 else s * beta)
    return xp.asarray(p).astype(dt.np, copy=False)


# ------------------------------------------------------------------ chain_matmul

_CHAIN_WARNING = ("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two "
                  "or more tensors rather than multiple parameters.")


def _chain_check(shapes):
    if not shapes:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for s in shapes:
        if len(s) != 2:
            raise RuntimeError(f"Tensor dimension is {len(s)}, expected 2 instead.")


def _chain_meta(matrices):
    _chain_check([tuple(t.shape) for t in matrices])
    if len(matrices) == 1:
        t = matrices[0]
        return TensorMeta(t.dtype, tuple(t.shape), t.device)
    return OPS["aten::linalg_multi_dot"].meta(matrices)


@op("aten::chain_matmul(Tensor[] matrices) -> Tensor", tags=_LA, method=False,
    meta=_chain_meta)
def chain_matmul(xp, matrices):
    """The deprecated torch.chain_matmul: linalg.multi_dot of 2-D matrices (warns)."""
    warnings.warn(_CHAIN_WARNING, UserWarning, stacklevel=3)
    _chain_check([t.shape for t in matrices])
    if len(matrices) == 1:
        return matrices[0].copy()
    return OPS["aten::linalg_multi_dot"].impl(xp, matrices)


def chain_matmul_public(*matrices, out=None):
    r = OPS["aten::chain_matmul"].public(list(matrices))
    if out is not None:
        out.copy_(r)
        return out
    return r


PUBLIC["chain_matmul"] = chain_matmul_public


# ------------------------------------------------------------------ vander

def _vander_rule(shape, dtype, N):
    if len(shape) != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is None:
        N = shape[0]
    elif N < 0:
        raise RuntimeError("N must be non-negative.")
    dt = dtype if dtype.category == _dt.FLOATING else _dt.int64
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
        out[:, 1:] = x.astype(dt.np)[:, None]
        out = xp.cumprod(out, axis=1).astype(dt.np, copy=False)
    if not increasing:
        out = xp.flip(out, 1).copy()
    return out


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


@op("aten::squeeze_.dims(Tensor(a!) self, int[]? dim=None) -> Tensor(a!)", tags=_IPV,
    function=False, meta=lambda self, dim=None: TensorMeta(
        self.dtype, _squeeze_shape(self.shape, dim), self.device))
def squeeze_(xp, self, dim=None):
    return self.reshape(_squeeze_shape(self.shape, dim))


@op("aten::unsqueeze_(Tensor(a!) self, int dim) -> Tensor(a!)", tags=_IPV, function=False,
    meta=lambda self, dim: TensorMeta(self.dtype, _unsqueeze_shape(self.shape, dim),
                                      self.device))
def unsqueeze_(xp, self, dim):
    return self.reshape(_unsqueeze_shape(self.shape, dim))


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative, nondifferentiable as _nondiff  # noqa: E402


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


@_derivative(kron)
def _kron_grad(grad, self, other, needs_grad):
    nd = max(self.dim(), other.dim())
    sa = (1,) * (nd - self.dim()) + tuple(self.shape)
    sb = (1,) * (nd - other.dim()) + tuple(other.shape)
    g = grad.reshape([x for a, b in zip(sa, sb) for x in (a, b)])
    ga = gb = None
    if needs_grad[0]:
        b = other.reshape([x for n in sb for x in (1, n)])
        ga = (g * b).sum(list(range(1, 2 * nd, 2))).reshape(self.shape) if nd else g * other
    if needs_grad[1]:
        a = self.reshape([x for n in sa for x in (n, 1)])
        gb = (g * a).sum(list(range(0, 2 * nd, 2))).reshape(other.shape) if nd else g * self
    return ga, gb


@_derivative(rot90)
def _rot90_grad(grad, k, dims):
    return grad.rot90(-k, dims)


@_derivative(block_diag)
def _block_diag_grad(grad, tensors):
    _, _, mats = _block_diag_rule([tuple(t.shape) for t in tensors],
                                  [t.dtype for t in tensors])
    out, r, c = [], 0, 0
    for t, (m, n) in zip(tensors, mats):
        out.append(grad[r:r + m, c:c + n].reshape(t.shape))
        r, c = r + m, c + n
    return out


def _meshgrid_grad(grads, tensors, indexing):
    _, swap = _meshgrid_rule([tuple(t.shape) for t in tensors], [t.dtype for t in tensors],
                             indexing)
    out = []
    for i, (g, t) in enumerate(zip(grads, tensors)):
        pos = (1 - i if i < 2 else i) if swap else i
        others = [d for d in range(g.dim()) if d != pos]
        out.append((g.sum(others) if others else g).reshape(t.shape))
    return out


@_derivative(meshgrid_default)
def _meshgrid_default_grad(grad, tensors):
    return _meshgrid_grad(grad, tensors, "ij")


@_derivative(meshgrid_indexing)
def _meshgrid_indexing_grad(grad, tensors, indexing):
    return _meshgrid_grad(grad, tensors, indexing)


@_derivative(cartesian_prod)
def _cartesian_prod_grad(grad, tensors):
    if len(tensors) == 1:
        return [grad]
    sizes = [t.shape[0] for t in tensors]
    g = grad.reshape(sizes + [len(tensors)])
    out = []
    for i in range(len(tensors)):
        others = [d for d in range(len(sizes)) if d != i]
        out.append(g.select(-1, i).sum(others))
    return out


@_derivative(tensordot)
def _tensordot_grad(grad, self, other, dims_self, dims_other, needs_grad):
    na, nb = self.dim(), other.dim()
    da = [wrap_dim(d, na) for d in int_list(dims_self)]
    db = [wrap_dim(d, nb) for d in int_list(dims_other)]
    fa = [i for i in range(na) if i not in da]
    fb = [i for i in range(nb) if i not in db]
    td = OPS["aten::tensordot"].public
    ga = gb = None
    if needs_grad[0]:
        # axes: fa, then b's contracted dims in b's order, named by their partner in a
        r = td(grad, other, list(range(len(fa), len(fa) + len(fb))), fb)
        order = fa + [da[j] for j in sorted(range(len(db)), key=lambda j: db[j])]
        ga = r.permute([order.index(i) for i in range(na)]) if na else r
    if needs_grad[1]:
        r = td(self, grad, fa, list(range(len(fa))))
        order = [db[j] for j in sorted(range(len(da)), key=lambda j: da[j])] + fb
        gb = r.permute([order.index(i) for i in range(nb)]) if nb else r
    return ga, gb


@_derivative(cdist)
def _cdist_grad(grad, x1, x2, result, p, needs_grad):
    d = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    dist = result.unsqueeze(-1)
    p = float(p)
    if p == 0:
        w = d * 0
    elif p == 1:
        w = d.sign()
    elif p == 2:
        w = (d / dist).masked_fill(dist == 0, 0)
    elif p == float("inf"):
        a = d.abs()
        w = d.sign() * (a == dist)
    else:
        a = d.abs()
        w = (d.sign() * a.pow(p - 1) / dist.pow(p - 1)).masked_fill(dist == 0, 0)
    gd = grad.unsqueeze(-1) * w
    return (gd.sum(-2) if needs_grad[0] else None,
            -gd.sum(-3) if needs_grad[1] else None)


@_derivative(addmv)
def _addmv_grad(grad, mat, vec, beta, alpha, needs_grad):
    G = _G()
    return (_la_scaled(grad, beta),
            _la_scaled(G.outer(grad, vec), alpha) if needs_grad[1] else None,
            _la_scaled(mat.t().mv(grad), alpha) if needs_grad[2] else None)


def _la_scaled(t, k):
    return t if k == 1 else t * k


@_derivative(addr)
def _addr_grad(grad, vec1, vec2, beta, alpha, needs_grad):
    return (_la_scaled(grad, beta),
            _la_scaled((grad * vec2).sum(1), alpha) if needs_grad[1] else None,
            _la_scaled((grad * vec1.unsqueeze(1)).sum(0), alpha) if needs_grad[2] else None)


@_derivative(chain_matmul)
def _chain_matmul_grad(grad, matrices, needs_grad):
    if len(matrices) == 1:
        return [grad]
    from .linalg_matfn import _multi_dot_grad
    return _multi_dot_grad(grad, matrices, needs_grad)


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


@_derivative(squeeze_, unsqueeze_)
def _squeeze__grad(grad, self_shape):
    return grad.reshape(self_shape)


_nondiff(tril_indices, triu_indices, reason="integer index tensors made from sizes (a "
         "factory)")
from . import fft_ops  # noqa: E402,F401  (torch.fft's real-input c2r transforms)
