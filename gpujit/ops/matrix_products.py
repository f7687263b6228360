"""Matrix products: kron, tensordot (PyTorch's `dims=` int-or-lists Python entry point in
`PUBLIC`), cdist, addmv, addr and the deprecated chain_matmul (its varargs entry point,
which warns, in `PUBLIC`), with their derivatives.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, wrap_dim, broadcast_shapes, int_list
from .registry import op, OPS
from .views import expand_shape
from . import linalg as _la
from .registry import derivative as _derivative
from .matrix_shape import _G, _dtn, _promote_all

PUBLIC = {}

_LA = {"linalg"}
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)


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
    return _kron_layout(xp, r, self, other, _kron_shape(self.shape, other.shape)).astype(
        ct, copy=False)


def _kron_layout(xp, r, a, b, shape):
    """r (a[:, None, ...] * b[None, :, ...], of shape (A0, B0, A1, B1, ...)) as PyTorch's
    kron gives it: the product of the two views laid out by TensorIterator (the first
    operand that orders the dims: a transposed self makes it a permuted layout), then
    _unsafe_view'd to `shape`, which fails where that layout cannot be viewed so
    (torch.kron(x.t(), y) of a contiguous y), keeps its strides where it can
    (torch.kron(x.t(), y.t()) is column-major). a, b: the operands as given (their
    strides: an expanded one's 0 orders nothing)."""
    from .memory_format import iterator_strides, empty_strided, _Strided, compute_stride

    ops, nd = [], len(shape)
    for x, odd in ((a, False), (b, True)):
        full = (1,) * (nd - x.ndim) + x.shape       # (the views' leading 1s: at::kron's pad)
        shp = tuple(v for n in full for v in ((1, n) if odd else (n, 1)))
        ops.append(_Strided(shp, compute_stride(x.shape, tuple(
            s // x.itemsize for s in x.strides), shp)))
    st = iterator_strides(ops, r.shape)
    if st is None:
        return r.reshape(shape)
    out = empty_strided(xp, r.shape, r.dtype, st)
    out[...] = r
    v = out.view()
    try:
        v.shape = shape
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride "
                           "(at least one dimension spans across two contiguous subspaces). "
                           "Use .reshape(...) instead.") from None
    return v


# ------------------------------------------------------------------ tensordot

def _tensordot_rule(sa, sb, da, db, ta, tb):
    if ta is not tb:
        raise RuntimeError("both inputs should have same dtype")
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    given = list(zip(da, db))       # (the error names the dims as given: tensordot(x, y, 2)'s -2)
    da = [wrap_dim(d, len(sa)) for d in da]
    db = [wrap_dim(d, len(sb)) for d in db]
    for (x, y), (gx, gy) in zip(zip(da, db), given):
        # (a size-1 dim contracted with a bigger one: PyTorch sums the other side's dim)
        if sa[x] != sb[y] and sa[x] is not None and sb[y] is not None and \
                1 not in (sa[x], sb[y]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{sa[x]} in dim {gx} and second has size {sb[y]} in dim {gy}")
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
    _la._not_bool("addmm_impl_cpu_", _dtn(self.dtype))      # (PyTorch's mm's kernel)
    a, b = self, other
    if a.dtype == _F16:
        a, b = a.astype(_F32), b.astype(_F32)
    for x, y in zip(da, db):        # a size-1 dim against a bigger one: the other summed
        if a.shape[x] != b.shape[y]:
            if b.shape[y] == 1:
                a = a.sum(axis=x, keepdims=True, dtype=a.dtype)
            else:
                b = b.sum(axis=y, keepdims=True, dtype=b.dtype)
    r = xp.tensordot(a, b, axes=(da, db))
    return xp.asarray(r).reshape(shape).astype(self.dtype, copy=False)


def _tensordot_composite(self, other, dims_self, dims_other):
    """tensordot recording gradients: PyTorch's composite (Linear.cpp): a size-1 dim
    contracted with a bigger one summed (keepdim) from the other side, each side permuted
    to (kept, contracted) / (contracted, kept) and flattened to a matrix for one mm
    (ViewBackward0 -> MmBackward0 -> (ViewBackward0 / ReshapeAliasBackward0 ->
    PermuteBackward0)s), or, when neither side keeps more than one element, to vectors
    for one dot when both permuted sides are contiguous (ViewBackward0 -> DotBackward0),
    else squeezed, multiplied and summed (ViewBackward0 -> SumBackward0 -> MulBackward0)."""
    da, db, shape = _tensordot_rule(tuple(self.shape), tuple(other.shape), int_list(dims_self),
                                    int_list(dims_other), self.dtype, other.dtype)
    t1, t2 = self, other
    csize = 1
    for x, y in zip(da, db):
        s1, s2 = self.shape[x], other.shape[y]
        if s2 == 1:
            t1 = t1.sum(x, True, dtype=t1.dtype)
        elif s1 == 1:
            t2 = t2.sum(y, True, dtype=t2.dtype)
        else:
            csize *= s1
    p1 = [i for i in range(self.dim()) if i not in da]
    p2 = [i for i in range(other.dim()) if i not in db]
    size1 = size2 = 1
    for i in p1:
        size1 *= t1.shape[i]
    for i in p2:
        size2 *= t2.shape[i]
    t1, t2 = t1.permute(p1 + da), t2.permute(db + p2)
    if size1 == 1 and size2 == 1:
        if t1.is_contiguous() and t2.is_contiguous():
            return t1.flatten().dot(t2.flatten()).reshape(shape)
        # (no copy: SumBackward0 -> MulBackward0 -> SqueezeBackward0s)
        return (t1.squeeze() * t2.squeeze()).sum().reshape(shape)
    return t1.reshape(size1, csize).mm(t2.reshape(csize, size2)).reshape(shape)


tensordot.op.composite = _tensordot_composite


def _kron_composite(self, other):
    """kron recording gradients: PyTorch's KronImpl, each side _unsafe_view'ed with a size-1
    dim interleaved (self (n0, 1, n1, 1...), other (1, m0, 1, m1...)), multiplied and
    _unsafe_view'ed to the result (UnsafeViewBackward0 -> MulBackward0 ->
    UnsafeViewBackward0s)."""
    nd = max(self.dim(), other.dim())
    pa, pb = nd - self.dim(), nd - other.dim()
    ra, rb, rr = [], [], []
    for i in range(nd):
        n = self.shape[i - pa] if i >= pa else 1
        m = other.shape[i - pb] if i >= pb else 1
        ra += [n, 1]
        rb += [1, m]
        rr.append(n * m)
    uv = OPS["aten::_unsafe_view"].public
    return uv(uv(self, ra) * uv(other, rb), rr)


kron.op.composite = _kron_composite


def _tensordot_dims(a, b, dims):
    """torch.tensordot's dims: an int n (a's last n dims with b's first n), a pair of dim
    lists (or of ints), or a tensor holding either."""
    from .registry import _Tensor
    if not isinstance(dims, (tuple, list, _Tensor, int)):
        # (torch.functional.tensordot's own test: 1.5 or None is no count of dims)
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    if isinstance(dims, _Tensor):
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
    # (torch/functional.py's dims_a = range(-dims, 0): negative, as its errors and traces
    # show them)
    return list(range(-dims, 0)), list(range(dims))


def tensordot_public(a, b, dims=2, out=None):
    da, db = _tensordot_dims(a, b, dims)
    r = OPS["aten::tensordot"].public(a, b, da, db)
    if out is not None:
        out.copy_(r)
        return out
    return r


tensordot_public.__name__ = tensordot_public.__qualname__ = "tensordot"
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
    """The p-norm distance of every row of x1 to every row of x2 (batched), as ATen's
    cdist_impl: for p == 2, compute_mode 1, or None (0) with more than 25 rows on a side,
    takes the matrix product shortcut (_euclidean_dist: |a|^2 + |b|^2 - 2 a.b, clamped at
    0, its rounding too); otherwise the differences themselves, x1's rows a block at a
    time (all of them at once held (P, R, M) values: 20000 x 20000 points of 64 dims
    asked for 100 GB)."""
    _cdist_rule(x1.shape, x2.shape, _dtn(x1.dtype), _dtn(x2.dtype), p)
    mode = 0 if compute_mode is None else int(compute_mode)
    if mode not in (0, 1, 2):
        raise RuntimeError(f"possible modes: 0, 1, 2, but was: {mode}")
    batch = broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    (r1, m), r2 = x1.shape[-2:], x2.shape[-2]
    a = xp.broadcast_to(x1, batch + (r1, m))
    b = xp.broadcast_to(x2, batch + (r2, m))
    dt = np.dtype(x1.dtype)
    if r1 == 0 or r2 == 0 or m == 0 or 0 in batch:
        return xp.zeros(batch + (r1, r2), dt)
    if p == 2 and (mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25))):
        na = (a * a).sum(-1, keepdims=True)
        nb = (b * b).sum(-1, keepdims=True)
        a_ = xp.concatenate([a * dt.type(-2), na, xp.ones_like(na)], -1)
        b_ = xp.concatenate([b, xp.ones_like(nb), nb], -1)
        r = xp.matmul(a_, xp.swapaxes(b_, -1, -2))
        xp.maximum(r, dt.type(0), out=r)            # (in place: r is the (P, R) result)
        return xp.sqrt(r, out=r)
    out = xp.empty(batch + (r1, r2), dt)
    step = max(1, (_CDIST_BLOCK // dt.itemsize) // max(1, r2 * m))
    for i in range(0, r1, step):
        d = xp.abs(a[..., i:i + step, None, :] - b[..., None, :, :])
        if p == 0:
            r = (d != 0).sum(-1)
        elif p == float("inf"):
            r = d.max(-1)
        elif p == 1:
            r = d.sum(-1)
        elif p == 2:
            r = xp.sqrt((d * d).sum(-1))
        else:
            r = (d ** p).sum(-1) ** (1.0 / p)
        out[..., i:i + step, :] = r
    return out


_CDIST_BLOCK = 1 << 25      # bytes of differences computed at once (x1's rows a block)


def cdist_public(x1, x2, p: float = 2.0,
                 compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """torch.cdist (torch.functional's Python function): compute_mode by name."""
    if compute_mode == "use_mm_for_euclid_dist_if_necessary":
        return _cdist_op(x1, x2, p, None)
    elif compute_mode == "use_mm_for_euclid_dist":
        return _cdist_op(x1, x2, p, 1)
    elif compute_mode == "donot_use_mm_for_euclid_dist":
        return _cdist_op(x1, x2, p, 2)
    else:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")


_cdist_op = OPS["aten::cdist"].public
cdist_public.__name__ = cdist_public.__qualname__ = "cdist"
cdist_public.__gpujit_script_source__ = True      # (scripted code compiles its source)
PUBLIC["cdist"] = cdist_public


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
    _la._integral_scalars(mat.dtype, beta, alpha)
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
    if dt is _dt.float16:
        # ATen's CPU kernel in Half arithmetic, each operation rounded to float16:
        # beta * self + (alpha * vec1) * vec2 (bit for bit, where one float32 rounding is
        # off by an ulp in most results)
        h = np.float16
        a16 = xp.asarray(vec1.astype(h) * h(alpha))[:, None]
        p = (a16 * vec2.astype(h)[None, :]).astype(h)
        if beta != 0:
            p = (xp.broadcast_to(self.astype(h), shape) * h(beta)).astype(h) + p
        return xp.asarray(p).astype(h, copy=False)
    ct = dt.np
    a, b, s = vec1.astype(ct), vec2.astype(ct), xp.broadcast_to(self.astype(ct), shape)
    if dt is _dt.bool:
        out = xp.logical_and(a[:, None], b[None, :]) if alpha else xp.zeros(shape, bool)
        return xp.logical_or(out, s) if beta else out
    p = a[:, None] * b[None, :]
    if dt.category == _dt.INTEGRAL:     # (uint8 with alpha=-1 wraps, as PyTorch's kernel)
        from .linalg import _np_int
        alpha, beta = _np_int(alpha, ct), _np_int(beta, ct)
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


chain_matmul_public.__name__ = chain_matmul_public.__qualname__ = "chain_matmul"
PUBLIC["chain_matmul"] = chain_matmul_public


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


@_derivative(kron, reads={"self": ("other",), "other": ("self",)})
def _kron_grad(grad, self, other, self_shape, other_shape, needs_grad):
    # (each operand's gradient reads only the other: PyTorch's kron is mul + reshape)
    na, nb = len(self_shape), len(other_shape)
    nd = max(na, nb)
    sa = (1,) * (nd - na) + tuple(self_shape)
    sb = (1,) * (nd - nb) + tuple(other_shape)
    g = grad.reshape([x for a, b in zip(sa, sb) for x in (a, b)])
    ga = gb = None
    if needs_grad[0]:
        b = other.reshape([x for n in sb for x in (1, n)])
        ga = (g * b).sum(list(range(1, 2 * nd, 2))).reshape(self_shape) if nd else g * other
    if needs_grad[1]:
        a = self.reshape([x for n in sa for x in (n, 1)])
        gb = (g * a).sum(list(range(0, 2 * nd, 2))).reshape(other_shape) if nd else g * self
    return ga, gb


def _tensordot_kept(self, other, dims_self, dims_other, needs_grad):
    """[self, other] as PyTorch's tensordot keeps them: each only when the other's
    gradient needs it, and a copy where PyTorch multiplies one (a contracted dim of size 1
    on the other side is summed out first; the permute + reshape to a matrix copies when
    it cannot be a view), so a later write into the operand is no error."""
    sa, sb = tuple(self.shape), tuple(other.shape)
    da = [wrap_dim(d, len(sa)) for d in int_list(dims_self)]
    db = [wrap_dim(d, len(sb)) for d in int_list(dims_other)]
    sum_a = any(sb[j] == 1 for j in db)
    sum_b = any(sa[i] == 1 and sb[j] != 1 for i, j in zip(da, db))
    csize = 1
    for i, j in zip(da, db):
        if sa[i] != 1 and sb[j] != 1:
            csize *= sa[i]
    fa = [i for i in range(len(sa)) if i not in da]
    fb = [j for j in range(len(sb)) if j not in db]
    if not fa and not fb:       # a full contraction: PyTorch multiplies views and sums
        return [self if needs_grad[1] else None, other if needs_grad[0] else None]
    sta, stb = tuple(self.stride()), tuple(other.stride())
    pa, pb = fa + da, db + fb
    size_a = _la._prod([sa[i] for i in fa])
    size_b = _la._prod([sb[j] for j in fb])
    # (a summed side keeps its contracted dims as size 1: csize counts only the others)
    copy_a = sum_a or not _la.view_possible([sa[i] for i in pa], [sta[i] for i in pa],
                                            [size_a, csize])
    copy_b = sum_b or not _la.view_possible([sb[j] for j in pb], [stb[j] for j in pb],
                                            [csize, size_b])
    a = (self.clone() if copy_a else self) if needs_grad[1] else None
    b = (other.clone() if copy_b else other) if needs_grad[0] else None
    return [a, b]


@_derivative(tensordot, computes={"kept": _tensordot_kept})
def _tensordot_grad(grad, kept, self_shape, other_shape, dims_self, dims_other,
                    needs_grad):
    self, other = kept
    na, nb = len(self_shape), len(other_shape)
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
        ga = _fit_contracted(r.permute([order.index(i) for i in range(na)]) if na else r,
                             self_shape)
    if needs_grad[1]:
        r = td(self, grad, fa, list(range(len(fa))))
        order = [db[j] for j in sorted(range(len(da)), key=lambda j: da[j])] + fb
        gb = _fit_contracted(r.permute([order.index(i) for i in range(nb)]) if nb else r,
                             other_shape)
    return ga, gb


def _fit_contracted(g, shape):
    """A gradient whose contracted dims carry the partner's size, fitted to the operand's:
    summed where the operand's dim is 1 (it met a bigger one), expanded where the partner's
    was 1 (PyTorch's tensordot sums a dim contracted with a size-1 one)."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    for d, (n, m) in enumerate(zip(g.shape, shape)):
        if n != m and m == 1:
            g = g.sum(d, keepdim=True)
    return g.expand(*shape) if tuple(g.shape) != shape else g


@_derivative(cdist)
def _cdist_grad(grad, x1, x2, result, p, needs_grad):
    p = float(p)
    if p == 2:
        # (x1_i - x2_j) / dist_ij weighted by grad, summed over j (over i for x2) as two
        # matrix products: no (P, R, M) differences held
        w = (grad / result).masked_fill(result == 0, 0)
        return (x1 * w.sum(-1, keepdim=True) - w @ x2 if needs_grad[0] else None,
                x2 * w.sum(-2).unsqueeze(-1) - w.mT @ x1 if needs_grad[1] else None)
    # (the differences of x1's rows a block at a time: all at once they are (P, R, M))
    r1, r2, m = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    step = max(1, (_CDIST_BLOCK // x1.element_size()) // max(1, r2 * m))
    g1, g2 = [], None
    for i in range(0, r1, step):
        d = x1[..., i:i + step, :].unsqueeze(-2) - x2.unsqueeze(-3)
        dist = result[..., i:i + step, :].unsqueeze(-1)
        a = d.abs()
        if p == 0:
            w = d * 0
        elif p == 1:
            w = d.sign()
        elif p == float("inf"):
            w = d.sign() * (a == dist)
        else:
            # (ATen's: no gradient through a zero distance, nor for p < 1 through a zero
            # coordinate difference, whose |d| ** (p - 1) is inf: it gave nan)
            none = (dist == 0) | (a == 0) if p < 1 else dist == 0
            w = (d.sign() * a.pow(p - 1) / dist.pow(p - 1)).masked_fill(none, 0)
        gd = grad[..., i:i + step, :].unsqueeze(-1) * w
        g1.append(gd.sum(-2))
        part = -gd.sum(-3)
        g2 = part if g2 is None else g2 + part
    if not g1:                          # (no rows: zero gradients)
        return (x1 * 0 if needs_grad[0] else None, x2 * 0 if needs_grad[1] else None)
    return (_G().cat(g1, -2) if needs_grad[0] else None,
            g2 if needs_grad[1] else None)


@_derivative(addmv, reads={"mat": ("vec",), "vec": ("mat",)})
def _addmv_grad(grad, mat, vec, beta, alpha, needs_grad):
    G = _G()
    return (_la_scaled(grad, beta),
            _la_scaled(G.outer(grad, vec), alpha) if needs_grad[1] else None,
            _la_scaled(mat.t().mv(grad), alpha) if needs_grad[2] else None)


def _la_scaled(t, k):
    return t if k == 1 else t * k


@_derivative(addr, reads={"vec1": ("vec2",), "vec2": ("vec1",)})
def _addr_grad(grad, vec1, vec2, beta, alpha, needs_grad):
    return (_la_scaled(grad, beta),
            _la_scaled((grad * vec2).sum(1), alpha) if needs_grad[1] else None,
            _la_scaled((grad * vec1.unsqueeze(1)).sum(0), alpha) if needs_grad[2] else None)


def _chain_kept(matrices, matrices_needs_grad):
    from .linalg_matfn import _chain_kept
    return _chain_kept(matrices, matrices_needs_grad)


# multi_dot's (a clone for one matrix): the operands and partial products its chain of
# products keeps
@_derivative(chain_matmul, computes={"kept": _chain_kept})
def _chain_matmul_grad(grad, matrices_shape, kept, matrices_needs_grad):
    from .linalg_matfn import _chain_backward
    return _chain_backward(grad, matrices_shape, kept, matrices_needs_grad)


# (PyTorch's cdist reaches _cdist_forward, which has a backward but no forward formula)
from .derivatives import no_forward_derivative as _no_forward  # noqa: E402

_no_forward("_cdist_forward", "aten::cdist")
