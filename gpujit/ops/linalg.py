"""Linear algebra: matmul (every broadcasting case), mm, bmm, mv, dot, addmm, baddbmm,
outer/ger and linear, with their derivatives. einsum is linalg_einsum.py's, the
vector/matrix norms behind `gpujit.norm` linalg_norms.py's.

As in PyTorch, products need operands of one dtype (no promotion; outer is the exception,
being a broadcast multiply), bool products are not implemented, integer products are exact
(int64 stays int64), and float16 is computed in float32 and cast back. Shape errors speak
PyTorch's words and name both shapes.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .kernel_names import kernel_name
from .meta import TensorMeta, broadcast_shapes
from .meta import numel as _numel
from . import registry as _reg
from .registry import op, scalar_to
from .views import expand_shape

PUBLIC = {}

_LA = {"linalg"}
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)

_CNAME = _dt.CPP_NAMES      # (c10 names, which PyTorch's "same dtype" errors print)


def _dtn(npdt):
    return _dt._FROM_NP[np.dtype(npdt)]


def _same_dtype(d1, d2):
    """d1/d2: gpujit dtypes. torch.mm and friends do not promote."""
    if d1 is not d2:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_CNAME[d1.name]} != {_CNAME[d2.name]}")


def _not_bool(name, d):
    if d is _dt.bool:
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


def _x(a, b):
    return f"{a}x{b}"


def _mm_error(sa, sb):
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_x(*sa)} and "
                        f"{_x(*sb)})")


def _differ(a, b):
    return a is not None and b is not None and a != b


def matmul_shape(sa, sb, strides_a=None, strides_b=None):
    """Output shape of matmul(a, b) (shape errors as torch.matmul raises them, for the
    product it runs: strides None are contiguous operands')."""
    sa, sb = tuple(sa), tuple(sb)
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{na}D and {nb}D")
    if na == 1 and nb == 1:
        if _differ(sa[0], sb[0]):
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to "
                f"have the same number of elements, but got {sa[0]} and {sb[0]} elements "
                f"respectively")
        return ()
    if nb == 1:      # matrix (or batch) @ vector
        if _differ(sa[-1], sb[0]):
            if na == 2 or _folds(sa, sb, strides_a, strides_b):   # (a batch folded: mv)
                rows = _numel(sa[:-1])
                raise RuntimeError(f"size mismatch, got input ({rows}), mat "
                                   f"({_x(rows, sa[-1])}), vec ({sb[0]})")
            b = _numel(sa[:-2])       # (not folded: a bmm)
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to "
                               f"be: [{b}, {sa[-1]}] but got: [{b}, {sb[0]}].")
        return sa[:-1]
    if na == 1 and nb >= 3 and _differ(sa[0], sb[-2]) and \
            _folds(sa, sb, strides_a, strides_b):   # vector @ batch folded: b.mT's mv
        rows = _numel(sb[:-2]) * sb[-1]
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({_x(rows, sb[-2])}), "
                           f"vec ({sa[0]})")
    k1 = sa[-1]
    k2 = sb[-2]
    if _differ(k1, k2):
        if na <= 2 and nb == 2:
            raise _mm_error((1 if na == 1 else sa[0], k1), sb)
        if nb == 2 and _folds(sa, sb, strides_a, strides_b):
            raise _mm_error((_numel(sa[:-1]), k1), sb)   # batch @ matrix folded: mm
    batch = broadcast_shapes(sa[:-2], sb[:-2])
    if _differ(k1, k2):
        b = _numel(batch)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{b}, {k1}] but got: [{b}, {k2}].")
    return batch + (sa[-2:-1] if na > 1 else ()) + (sb[-1],)


def _product(xp, a, b, rounded=True):
    """a @ b; float16 is multiplied in float32 and rounded back (rounded=False: left in
    float32, for addmm / baddbmm, which round once after adding the bias as ATen's)."""
    if a.dtype == _F16:
        p = xp.matmul(a.astype(_F32), b.astype(_F32))
        return p.astype(_F16) if rounded else p
    return xp.matmul(a, b)


_BOOL = np.dtype(np.bool_)


def _empty(*sizes):
    return any(s == 0 for s in sizes)


def _check_mm(da, db, n, k, m, where):
    """mm's checks (PyTorch's CPU addmm): one dtype ("expected m1 and m2 ..."), then no
    bool kernel unless the product is empty."""
    _same_dtype(da, db)
    if da is _dt.bool and not _empty(n, k, m):
        raise NotImplementedError(f"\"{kernel_name('addmm_impl_cpu_', where)}\" not "
                                  f"implemented for 'Bool'")
    return da


def _check_mv(dmat, dvec, n, k, where):
    """mv's checks (addmv: its result, of the vector's dtype, is the first input named)."""
    if dmat is not dvec:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{dvec.short_name}, {dmat.short_name}, and {dvec.short_name}")
    if dmat is _dt.bool and not _empty(n, k):
        raise NotImplementedError(f"\"{kernel_name('addmv_impl_cpu', where)}\" not "
                                  f"implemented for 'Bool'")
    return dmat


def _check_bmm(da, db, b, n, k, m):
    """bmm's checks (its CPU kernel): nothing for an empty product, whose result has mat2's
    dtype; else no bool kernel (the first operand's dtype), then one dtype."""
    if _empty(b, n, k, m):
        return db
    if da is _dt.bool:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    if da is not db:
        raise RuntimeError(f"expected scalar type {da.short_name} but found {db.short_name}")
    return da


def _folds(sa, sb, strides_a, strides_b):
    """Whether torch.matmul folds a >= 3-D operand times a 1-D / 2-D one into one mm / mv
    (ATen's should_fold, for operands that do not require grad): the larger one's leading
    dims must merge into rows without a copy (b's as b.mT), or hold no elements."""
    na, nb = len(sa), len(sb)
    if not (max(na, nb) >= 3 and min(na, nb) <= 2) or na == 2:
        return False
    if na >= nb:
        shape, strides = list(sa), strides_a
    else:
        shape, strides = list(sb), strides_b
    if _empty(*shape):
        return True
    if None in shape:
        return True     # (unknown sizes: the contiguous common case)
    if strides is None:             # (meta: a contiguous operand's)
        strides, acc = [], 1
        for n in reversed(shape):
            strides.insert(0, acc)
            acc *= n
    strides = list(strides)
    if na < nb:                     # b.mT
        shape[-2:] = shape[-1:-3:-1]
        strides[-2:] = strides[-1:-3:-1]
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _check_matmul(da, db, sa, sb, where, strides_a=None, strides_b=None):
    """torch.matmul's dtype checks, those of the product it runs: dot, mv, mm, the folded
    mm / mv of a batch, or bmm; returns the result dtype."""
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        matmul_shape(sa, sb)
    if na == 1 and nb == 1:
        _dot_check(sa, sb, da, db)
        return da
    if na == 2 and nb == 1:
        return _check_mv(da, db, sa[0], sa[1], where)
    if na <= 2 and nb == 2:
        return _check_mm(da, db, 1 if na == 1 else sa[0], sa[-1], sb[1], where)
    if _folds(sa, sb, strides_a, strides_b):
        if na >= 3:
            rows = _numel(sa[:-1])
            if nb == 1:
                return _check_mv(da, db, rows, sa[-1], where)
            return _check_mm(da, db, rows, sa[-1], sb[1], where)
        return _check_mv(db, da, _numel(sb[:-2]) * sb[-1], sb[-2], where)   # 1-D @ N-D
    batch = _numel(broadcast_shapes(tuple(sa[:-2]), tuple(sb[:-2])))
    return _check_bmm(da, db, batch, sa[-2] if na > 1 else 1, sa[-1],
                      sb[-1] if nb > 1 else 1)


def _product_meta(name, shape_fn):
    def meta(self, other):
        sa, sb = tuple(self.shape), tuple(other.shape)
        shape = _shape_then_dtype(name, shape_fn, sa, sb)
        if name == "matmul":
            d = _check_matmul(self.dtype, other.dtype, sa, sb, self)
        elif name == "mm" and len(sa) == 2 and len(sb) == 2:
            d = _check_mm(self.dtype, other.dtype, sa[0], sa[1], sb[1], self)
        elif name == "bmm" and len(sa) == 3 and len(sb) == 3:
            d = _check_bmm(self.dtype, other.dtype, sa[0], sa[1], sa[2], sb[2])
        elif name == "mv" and len(sa) == 2 and len(sb) == 1:
            d = _check_mv(self.dtype, other.dtype, sa[0], sa[1], self)
        else:
            _same_dtype(self.dtype, other.dtype)   # checked before shapes, as torch
            _not_bool(name, self.dtype)
            d = self.dtype
        return TensorMeta(d, shape if shape is not None else shape_fn(sa, sb), self.device)
    return meta


def _shape_then_dtype(name, shape_fn, sa, sb):
    """PyTorch's order of checks: matmul, mm, bmm and mv check the shapes before the
    dtypes (their result shape, returned; None: shape_fn after the dtype checks, as
    matmul's dot does)."""
    if name == "matmul" and len(sa) == 1 and len(sb) == 1:
        return None          # (dot: its dtype check comes before its sizes')
    if name in ("matmul", "bmm", "mv", "mm"):
        return shape_fn(sa, sb)
    return None


def _checked(xp, name, a, b):
    """The eager body's dtype checks (as the meta's); a and b cast to the result dtype
    (they differ only for an empty bmm, which takes mat2's)."""
    da, db = _dtn(a.dtype), _dtn(b.dtype)
    sa, sb = a.shape, b.shape
    _shape_then_dtype(name, {"bmm": bmm_shape, "mv": mv_shape, "mm": mm_shape}.get(
        name, lambda x, y: matmul_shape(x, y, a.strides, b.strides)), sa, sb)
    if name == "matmul":
        d = _check_matmul(da, db, sa, sb, xp, a.strides, b.strides)
    elif name == "mm" and a.ndim == 2 and b.ndim == 2:
        d = _check_mm(da, db, sa[0], sa[1], sb[1], xp)
    elif name == "bmm" and a.ndim == 3 and b.ndim == 3:
        d = _check_bmm(da, db, sa[0], sa[1], sa[2], sb[2])
    elif name == "mv" and a.ndim == 2 and b.ndim == 1:
        d = _check_mv(da, db, sa[0], sa[1], xp)
    else:
        _same_dtype(da, db)
        _not_bool(name, da)
        d = da
    return a.astype(d.np, copy=False), b.astype(d.np, copy=False)


def _fold_rows(a):
    """a (>= 3-D) as the matrix of its rows, (prod(leading dims), last dim), where that is a
    view (ATen's matmul folds such an operand into one mm, as linear does; NumPy would
    multiply it matrix by matrix, slower and with other roundings); else None."""
    sh, st = a.shape, a.strides
    for i in range(len(sh) - 2):
        if st[i] != st[i + 1] * sh[i + 1] and sh[i] != 1:
            return None
    rows = 1
    for n in sh[:-1]:
        rows *= n
    return a.reshape(rows, sh[-1])


@op("aten::matmul(Tensor self, Tensor other) -> Tensor", tags=_LA, contiguous=True,
    meta=_product_meta("matmul", matmul_shape))
def matmul(xp, self, other):
    dt = self.dtype
    if dt != other.dtype or dt == _BOOL or dt == _F16 or self.ndim == 0 or other.ndim == 0:
        self, other = _checked(xp, "matmul", self, other)
        matmul_shape(self.shape, other.shape, self.strides, other.strides)
        return _product(xp, self, other)
    try:     # the common case: NumPy/CuPy check the shapes; torch's words only on error
        if other.ndim == 2 and self.ndim >= 3:
            folded = _fold_rows(self)
            if folded is not None and folded.shape[1] == other.shape[0]:
                return xp.matmul(folded, other).reshape(self.shape[:-1] + other.shape[1:])
        return xp.matmul(self, other)
    except ValueError:
        matmul_shape(self.shape, other.shape, self.strides, other.strides)
        raise


def mm_shape(sa, sb):
    if len(sa) != 2:
        raise RuntimeError("self must be a matrix")
    if len(sb) != 2:
        raise RuntimeError("mat2 must be a matrix")
    if _differ(sa[1], sb[0]):
        raise _mm_error(sa, sb)
    return (sa[0], sb[1])


@op("aten::mm(Tensor self, Tensor mat2) -> Tensor", tags=_LA, meta=_product_meta("mm", mm_shape))
def mm(xp, self, mat2):
    self, mat2 = _checked(xp, "mm", self, mat2)
    mm_shape(self.shape, mat2.shape)
    return _product(xp, self, mat2)


def bmm_shape(sa, sb):
    if len(sa) != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if len(sb) != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if _differ(sa[0], sb[0]) or _differ(sa[2], sb[1]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    return (sa[0], sa[1], sb[2])


@op("aten::bmm(Tensor self, Tensor mat2) -> Tensor", tags=_LA,
    meta=_product_meta("bmm", bmm_shape))
def bmm(xp, self, mat2):
    self, mat2 = _checked(xp, "bmm", self, mat2)
    bmm_shape(self.shape, mat2.shape)
    return _product(xp, self, mat2)


def mv_shape(sa, sb):
    if len(sa) != 2 or len(sb) != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {len(sa)}, {len(sb)}")
    if _differ(sa[1], sb[0]):
        raise RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({_x(*sa)}), "
                           f"vec ({sb[0]})")
    return (sa[0],)


@op("aten::mv(Tensor self, Tensor vec) -> Tensor", tags=_LA, meta=_product_meta("mv", mv_shape))
def mv(xp, self, vec):
    self, vec = _checked(xp, "mv", self, vec)
    mv_shape(self.shape, vec.shape)
    return _product(xp, self, vec)


def _dot_check(sa, sb, d1, d2):
    if len(sa) != 1 or len(sb) != 1:
        raise RuntimeError(f"1D tensors expected, but got {len(sa)}D and {len(sb)}D tensors")
    if d1 is not d2:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{d1.short_name} and {d2.short_name}")
    if _differ(sa[0], sb[0]):
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have "
            f"the same number of elements, but got {sa[0]} and {sb[0]} elements respectively")
    _not_bool("dot", d1)


def _dot_meta(self, tensor):
    _dot_check(self.shape, tensor.shape, self.dtype, tensor.dtype)
    return TensorMeta(self.dtype, (), self.device)


@op("aten::dot(Tensor self, Tensor tensor) -> Tensor", tags=_LA, meta=_dot_meta)
def dot(xp, self, tensor):
    _dot_check(self.shape, tensor.shape, _dtn(self.dtype), _dtn(tensor.dtype))
    return _product(xp, self, tensor)


# ------------------------------------------------------------------ addmm / baddbmm

def _check_scalars(d, beta, alpha):
    if d.category != _dt.FLOATING and (isinstance(beta, float) or isinstance(alpha, float)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a "
                           "floating point number." if isinstance(alpha, float) else
                           "For integral input tensors, argument beta must not be a "
                           "floating point number.")


def _integral_scalars(d, beta, alpha):
    """beta and alpha as the addmm family's integer kernels read them (Scalar::to<T>):
    a float is truncated toward zero, and one outside T's range (or nan, inf) is
    PyTorch's overflow error; numbers pass for other dtypes (addr refuses floats for
    integer tensors: _check_scalars)."""
    if d.category != _dt.INTEGRAL:
        return beta, alpha
    out = []
    for v in (beta, alpha):
        if isinstance(v, float):
            v = int(scalar_to(v, d.np))
        out.append(v)
    return tuple(out)


def _self_dtype(d, d2):
    if d is not d2:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {d.short_name} "
                           f"and {d2.short_name}")


def _add_product(xp, self, p, beta, alpha, out=None):
    """beta * self + alpha * p, self broadcast to p; beta == 0 ignores self (NaN too).
    out: the result's dtype where p is a float16 product left in float32 (rounded once,
    after the sum, as ATen's float16 gemm with its float accumulation)."""
    out = p.dtype if out is None else out
    _self_dtype(_dtn(self.dtype), _dtn(out))
    expand_shape(self.shape, p.shape)
    beta, alpha = _integral_scalars(_dtn(out), beta, alpha)
    if out == _F16:
        p = p.astype(_F32)
        self = self.astype(_F32)
    if out.kind in "iu":
        # integer scalars in the tensors' dtype, wrapping as PyTorch's kernel does (a uint8
        # product times alpha=-1 is 255 times it; NumPy refuses -1 as a uint8)
        alpha, beta = (_np_int(v, out) for v in (alpha, beta))
    if alpha != 1:
        p = p * alpha
    if beta == 1 and p.dtype == self.dtype and getattr(p.flags, "writeable", True):
        # (p is the product's own new array: the bias added into it, no second array)
        return xp.add(p, self, out=p).astype(out, copy=False)
    if beta != 0:
        p = p + (self if beta == 1 else self * beta)
    return p.astype(out, copy=False)


def _np_int(v, npdt):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        return v
    return np.array(int(v) & ((1 << (8 * np.dtype(npdt).itemsize)) - 1),
                    dtype=np.uint64).astype(npdt)[()]


def addmm_dtypes(name, ds, d1, d2, empty=False):
    """The dtype checks of addmm / addbmm (self against mat2, then mat1 against mat2) and
    of baddbmm (self against batch1 in its words, then the bmm's; no bool kernel)."""
    if name == "baddbmm":
        if ds is not d1:
            raise RuntimeError(f"Input dtypes must be the same, got: input {_CNAME[ds.name]}, "
                               f"batch1: {_CNAME[d1.name]}, batch2: {_CNAME[d2.name]}")
        if ds is _dt.bool and not empty:
            raise NotImplementedError("\"baddbmm\" not implemented for 'Bool'")
        if d1 is not d2:
            raise RuntimeError(f"expected scalar type {ds.short_name} but found "
                               f"{d2.short_name}")
        return
    _self_dtype(ds, d2)
    if d1 is not d2:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {d1.short_name} "
                           f"and {d2.short_name}")


def _addmm_meta(shape_fn):
    def meta(self, m1, m2, beta=1, alpha=1):
        addmm_dtypes("baddbmm" if shape_fn is bmm_shape else "addmm", self.dtype, m1.dtype,
                     m2.dtype, any(s == 0 for s in tuple(m1.shape) + tuple(m2.shape)))
        shape = shape_fn(m1.shape, m2.shape)
        expand_shape(self.shape, shape)
        return TensorMeta(m1.dtype, shape, m1.device)
    return meta


def addmm_shape(sa, sb):
    """addmm's shape checks (ADDMM_META's words, which name the dimension; mm's do not)."""
    for name, s in (("mat1", sa), ("mat2", sb)):
        if len(s) != 2:
            raise RuntimeError(f"{name} must be a matrix, got {len(s)}-D tensor")
    return mm_shape(sa, sb)


@op("aten::addmm(Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1) "
    "-> Tensor", tags=_LA, meta=_addmm_meta(addmm_shape))
def addmm(xp, self, mat1, mat2, beta=1, alpha=1):
    dt = mat1.dtype
    if beta == 1 and alpha == 1 and dt in _PLAIN_LINEAR and mat2.dtype == dt and \
            self.dtype == dt and mat1.ndim == 2 and mat2.ndim == 2 and \
            mat1.shape[1] == mat2.shape[0] and (self.shape == (mat2.shape[1],) or (
                self.ndim == 2 and self.shape == (mat1.shape[0], mat2.shape[1]))):
        # (the common case, F.linear's: nothing the checks below refuse, nothing to cast
        # or scale; the general path's product and bias add, without its checks)
        r = xp.matmul(mat1, mat2)
        return xp.add(r, self, out=r)
    addmm_dtypes("addmm", *(_dtn(t.dtype) for t in (self, mat1, mat2)))
    addmm_shape(mat1.shape, mat2.shape)
    a, b = _checked(xp, "mm", mat1, mat2)
    mm_shape(a.shape, b.shape)
    return _add_product(xp, self, _product(xp, a, b, False), beta, alpha, a.dtype)


@op("aten::baddbmm(Tensor self, Tensor batch1, Tensor batch2, *, Scalar beta=1, "
    "Scalar alpha=1) -> Tensor", tags=_LA, meta=_addmm_meta(bmm_shape))
def baddbmm(xp, self, batch1, batch2, beta=1, alpha=1):
    addmm_dtypes("baddbmm", *(_dtn(t.dtype) for t in (self, batch1, batch2)),
                 empty=0 in batch1.shape + batch2.shape)
    a, b = _checked(xp, "bmm", batch1, batch2)
    bmm_shape(a.shape, b.shape)
    return _add_product(xp, self, _product(xp, a, b, False), beta, alpha, a.dtype)


# ------------------------------------------------------------------ outer

def _outer_meta(self, vec2):
    _outer_check(self.shape, vec2.shape)
    return TensorMeta(_dt.promote_types(self.dtype, vec2.dtype), (self.shape[0], vec2.shape[0]),
                      self.device)


def _outer_check(sa, sb):
    for name, s in (("self", sa), ("vec2", sb)):
        if len(s) != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {len(s)}-D")


def _outer(xp, a, b):
    _outer_check(a.shape, b.shape)
    ct = _dt.promote_types(_dtn(a.dtype), _dtn(b.dtype)).np
    return xp.multiply(a.astype(ct)[:, None], b.astype(ct)[None, :])


@op("aten::outer(Tensor self, Tensor vec2) -> Tensor", tags=_LA, meta=_outer_meta)
def outer(xp, self, vec2):
    return _outer(xp, self, vec2)


@op("aten::ger(Tensor self, Tensor vec2) -> Tensor", tags=_LA, meta=_outer_meta)
def ger(xp, self, vec2):
    return _outer(xp, self, vec2)


def _outer_composite(self, vec2):
    """outer / ger recording gradients: torch's composite, self.reshape(n, 1) * vec2
    (MulBackward0 whose first edge is the reshape's ViewBackward0)."""
    _outer_check(tuple(self.shape), tuple(vec2.shape))
    return self.reshape(self.shape[0], 1) * vec2


outer.op.composite = ger.op.composite = _outer_composite


def _matmul_composite(self, other):
    """matmul of two matrices recording gradients: ATen's matmul calls mm (one MmBackward0,
    as the op's own node is), recorded on mm's planned path (~half the cost of matmul's
    general one: its derivative computes which operand to keep); a vector times a matrix
    is ATen's unsqueeze(0).mm().squeeze_(0); other ranks take the op's own node (PyTorch's
    batched products record expand / reshape / bmm / _unsafe_view: ~2.3x the cost of the
    one node on an attention-sized product, kept off that hot path)."""
    if type(self) is _reg._Tensor and type(other) is _reg._Tensor:
        nd = (self._data.ndim, other._data.ndim)
        if nd == (2, 2):
            return mm.op.public(self, other)
    if isinstance(self, _reg._Tensor) and isinstance(other, _reg._Tensor):
        a, b = self._data, other._data
        if a.ndim == 1 and b.ndim == 2:
            # (SqueezeBackward4 -> MmBackward0 -> UnsqueezeBackward0)
            return mm.op.public(self.unsqueeze(0), other).squeeze_(0)
        if a.ndim >= 3 and 1 <= b.ndim <= 2 and a.dtype == b.dtype and \
                a.shape[-1] == b.shape[0] and (other.requires_grad or _fold_rows(a) is not None):
            # ATen's folded product (should_fold): the rows of self as one matrix (its
            # reshape: ViewBackward0, or UnsafeViewBackward0 -> CloneBackward0 of a copy),
            # mm / mv, _unsafe_view to the result's shape (UnsafeViewBackward0)
            rows = self.reshape(-1, a.shape[-1])
            r = mm.op.public(rows, other) if b.ndim == 2 else mv.op.public(rows, other)
            shape = list(a.shape[:-1]) + ([b.shape[1]] if b.ndim == 2 else [])
            return _reg.OPS["aten::_unsafe_view"].public(r, shape)
        if b.ndim >= 3 and 1 <= a.ndim <= 2 and a.dtype == b.dtype and \
                a.shape[-1] == b.shape[-2] and (self.requires_grad or (
                    a.ndim == 1 and _fold_rows(b.swapaxes(-1, -2)) is not None)):
            # ATen's folded product with the operands swapped (should_fold, transpose):
            # other.mT()'s rows as one matrix times self.t() (a vector: mv), viewed back
            # (UnsafeViewBackward0), a matrix result transposed back and made contiguous
            # (CloneBackward0 -> TransposeBackward0)
            ot = other.mT
            rows = ot.reshape(-1, b.shape[-2])
            if a.ndim == 1:
                return _reg.OPS["aten::_unsafe_view"].public(mv.op.public(rows, self),
                                                             list(b.shape[:-2]) + [b.shape[-1]])
            r = _reg.OPS["aten::_unsafe_view"].public(mm.op.public(rows, self.t()),
                                                      list(b.shape[:-2]) + [b.shape[-1], a.shape[0]])
            return r.mT.contiguous()
        if a.ndim >= 3 and b.ndim >= 3 and a.ndim == b.ndim and a.dtype == b.dtype and \
                a.shape[:-2] == b.shape[:-2] and a.shape[-1] == b.shape[-2]:
            # ATen's batched product of operands of one batch shape: each expanded (to its
            # own shape: ExpandBackward0) and reshaped to 3-D, bmm, _unsafe_view back
            n = 1
            for k in a.shape[:-2]:
                n *= k
            x = self.expand(list(a.shape)).reshape(n, a.shape[-2], a.shape[-1])
            y = other.expand(list(b.shape)).reshape(n, b.shape[-2], b.shape[-1])
            return _reg.OPS["aten::_unsafe_view"].public(
                bmm.op.public(x, y), list(a.shape[:-1]) + [b.shape[-1]])
    return NotImplemented


matmul.op.composite = _matmul_composite


# ------------------------------------------------------------------ linear

def _addmm_expand(sb, target):
    """addmm's expand of its bias (self) to the product's shape: PyTorch's words."""
    ok = len(sb) <= 2 and all(b in (1, t) for b, t in zip(reversed(sb), reversed(target)))
    if not ok:
        for i in range(1, len(sb) + 1):
            b, t = sb[-i], target[-i] if i <= len(target) else None
            if b != 1 and b != t:
                d = len(target) - i
                raise RuntimeError(
                    f"The expanded size of the tensor ({t}) must match the existing size "
                    f"({b}) at non-singleton dimension {d}.  Target sizes: "
                    f"[{', '.join(map(str, target))}].  Tensor sizes: "
                    f"[{', '.join(map(str, sb))}]")


def _linear_check(si, sw, di, dw, bias):
    if not si or not sw:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are "
                           f"{len(si)}D and {len(sw)}D")
    if len(sw) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(sw)}D")
    if bias is None:
        _same_dtype(di, dw)         # (torch's matmul of input and weight.t())
    else:
        # (torch's addmm(bias, input, weight.t()): bias against the weight first, then the
        # input, in addmm's words: nn.Linear given a float64 batch)
        addmm_dtypes("addmm", bias, di, dw)
    if di is _dt.bool:
        # (the kernel of the product torch's decomposition reaches: dot / mv for a 1-D
        # weight, else addmm's, which passes an empty product)
        if len(sw) == 1:
            _not_bool("dot" if len(si) == 1 else "addmv_impl_cpu", di)
        elif not _empty(_numel(si[:-1]), si[-1], sw[0]):
            _not_bool("addmm_impl_cpu_", di)
    return matmul_shape(si, tuple(reversed(sw)))


def _linear_meta(input, weight, bias=None):
    shape = _linear_check(input.shape, weight.shape, input.dtype, weight.dtype,
                          None if bias is None else bias.dtype)
    if bias is not None:
        shape = broadcast_shapes(shape, bias.shape)
    return TensorMeta(input.dtype, shape, input.device)


_PLAIN_LINEAR = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


@op("aten::linear(Tensor input, Tensor weight, Tensor? bias=None) -> Tensor", tags=_LA | {"nn"},
    function=False, method=False, functional=True, meta=_linear_meta)
def linear(xp, input, weight, bias=None):
    dt = input.dtype
    if input.ndim == 2 and weight.ndim == 2 and dt == weight.dtype and dt in _PLAIN_LINEAR \
            and input.shape[1] == weight.shape[1] and (bias is None or (
                bias.dtype == dt and bias.shape == (weight.shape[0],))):
        # (the common case: nothing _linear_check would refuse, nothing to cast)
        r = xp.matmul(input, weight.T)
        return r if bias is None else xp.add(r, bias, out=r)
    _linear_check(input.shape, weight.shape, _dtn(input.dtype), _dtn(weight.dtype),
                  None if bias is None else _dtn(bias.dtype))
    if bias is not None and (input.ndim == 2 or (input.flags.c_contiguous and bias.ndim == 1)):
        # torch's addmm path (node_names._linear): a 1-D weight's t() is no matrix; the
        # bias expands to the product's shape
        if weight.ndim == 1:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        _addmm_expand(bias.shape, (int(np.prod(input.shape[:-1])), weight.shape[0]))
    out = input.dtype
    if out == _F16:
        input, weight = input.astype(_F32), weight.astype(_F32)
        bias = None if bias is None else bias.astype(_F32)
    if input.ndim >= 3 and weight.ndim == 2:
        folded = _fold_rows(input)
        if folded is not None:     # (ATen's addmm / folded mm of the rows)
            r = xp.matmul(folded, weight.T).reshape(input.shape[:-1] + weight.shape[:1])
            if bias is not None:
                xp.add(r, bias, out=r)
            return r.astype(out, copy=False)
    r = xp.matmul(input, weight.T)
    if bias is not None:
        r = r + bias
    return xp.asarray(r).astype(out, copy=False)


def _linear_composite(input, weight, bias=None):
    """F.linear recording gradients: PyTorch's linear. A matrix input: addmm(bias, input,
    weight.t()) (AddmmBackward0 -> (bias, input, TBackward0 -> weight)), without a bias
    mm(input, weight.t()); a 1-D input or weight: addmm of the input flattened to a matrix
    (ViewBackward0 -> AddmmBackward0) where a 1-D bias meets a contiguous input, else
    matmul(input, weight.t()) then add_(bias). An input of 3 or more dims with a matrix
    weight keeps the op's one node (named as torch's last op, node_names._linear)."""
    if isinstance(input, _reg._Tensor) and isinstance(weight, _reg._Tensor) and \
            weight._data.ndim == 2:
        nd = input._data.ndim
        if nd == 2 and input._data.dtype in _PLAIN_LINEAR and \
                weight._data.dtype == input._data.dtype:
            # (float32 / float64: float16, bfloat16, float8 and complex keep their paths)
            if bias is None:
                return mm.op.public(input, weight.t())
            if isinstance(bias, _reg._Tensor) and bias._data.ndim <= 2 and \
                    bias._data.dtype == input._data.dtype:
                return addmm.op.public(bias, input, weight.t())
        if nd >= 3 and input._data.dtype in _PLAIN_LINEAR and \
                weight._data.dtype == input._data.dtype and weight._data.shape[1] == \
                input._data.shape[-1]:
            # (torch's linear of a batch: a contiguous input with a 1-D bias is
            # _flatten_nd_linear, addmm of its rows viewed back; else matmul(input, w.t()),
            # its folded mm, then add_(bias))
            if bias is None:
                return matmul.op.public(input, weight.t())
            if isinstance(bias, _reg._Tensor) and bias._data.dtype == input._data.dtype:
                if bias._data.ndim == 1 and input._data.flags.c_contiguous:
                    k = input._data.shape[-1]
                    r = addmm.op.public(bias, input.view(-1, k), weight.t())
                    return r.view(list(input._data.shape[:-1]) + [r._data.shape[1]])
                return matmul.op.public(input, weight.t()).add_(bias)
        if nd >= 2:
            return NotImplemented       # (the op's one node)
    if not (isinstance(input, _reg._Tensor) and isinstance(weight, _reg._Tensor)):
        # (a list or ndarray input to nn.Linear whose weight records: the entry point's
        # TypeError; the recorder calls this composite before any entry point checks)
        e = _reg.not_tensor_error(_reg.OPS["aten::linear"], (input, weight, bias))
        if e is not None:
            raise e
    _linear_check(tuple(input.shape), tuple(weight.shape), input.dtype, weight.dtype,
                  None if bias is None else bias.dtype)
    if bias is not None and input.dim() == 2:
        return addmm.op.public(bias, input, weight.t())
    if bias is not None and input.is_contiguous() and bias.dim() == 1:
        if weight.dim() == 1:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        n = 1
        for k in input.shape[:-1]:
            n *= k
        r = addmm.op.public(bias, input.reshape(n, input.shape[-1]), weight.t())
        return r.view(list(input.shape[:-1]) + [r.shape[1]])
    r = matmul.op.public(input, weight.t())
    return r if bias is None else r.add_(bias)


linear.op.composite = _linear_composite


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops so that a backward can itself be
# recorded (create_graph=True). Formulas are PyTorch's (tools/autograd/derivatives.yaml).
from .registry import derivative as _derivative  # noqa: E402


def _gpujit():
    import gpujit    # the package sits above the registry: imported when a backward runs
    return gpujit


def _scaled(t, k):
    return t if k == 1 else t * k


def view_possible(shape, strides, new_shape):
    """Whether a tensor of (shape, strides) reshapes to new_shape as a view (PyTorch's
    computeStride): else reshape copies."""
    shape, strides, new_shape = list(shape), list(strides), list(new_shape)
    numel = 1
    for n in shape:
        numel *= n
    if not shape or numel == 0:
        return True
    view_d = len(new_shape) - 1
    base = strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if d > 0:
                base = strides[d - 1]
                tensor_numel = view_numel = 1
    return view_d == -1


def _expanded(shape, strides, size):
    """(size, strides) of a tensor of (shape, strides) expanded to size."""
    k = len(size) - len(shape)
    st = [0] * k + [0 if n == 1 and m != 1 else s for n, s, m in
                    zip(shape, strides, size[k:])]
    return list(size), st


def _prod(xs):
    r = 1
    for x in xs:
        r *= x
    return r


def _matmul_copies(s1, st1, r1, s2, st2, r2):
    """Whether PyTorch's matmul (_matmul_impl) multiplies a copy of self / of other (a
    reshape that cannot be a view): its mm / bmm then keeps the copy for backward, and a
    later write into the operand is no error. s: shape, st: strides, r: requires grad."""
    d1, d2 = len(s1), len(s2)
    if d1 <= 2 and d2 <= 2:
        return False, False
    if d1 == 3 and d2 == 3 and s1[0] != s2[0]:
        if s1[0] == 1 and r1:
            return _matmul_copies(s1[1:], st1[1:], r1, s2, st2, r2)
        if s2[0] == 1 and r2:
            return _matmul_copies(s1, st1, r1, s2[1:], st2[1:], r2)
    big_first = d1 >= d2
    if big_first:
        t1s, t1st, dt2, t2r = list(s1), list(st1), d2, r2
    else:
        t1s = list(s2[:-2]) + [s2[-1], s2[-2]]
        t1st = list(st2[:-2]) + [st2[-1], st2[-2]]
        dt2, t2r = d1, r1
    fold = False
    if len(t1s) >= 3 and dt2 <= 2:
        if t2r:
            fold = True
        elif d1 != 2:
            fold = _prod(t1s) == 0 or all(t1st[i] == t1st[i + 1] * t1s[i + 1]
                                          for i in range(len(t1s) - 2))
    if fold:
        copied = not view_possible(t1s, t1st, [_prod(t1s[:-1]), t1s[-1]])
        return (copied, False) if big_first else (False, copied)
    n = s1[-2] if d1 > 1 else 1
    m1, m2 = s1[-1], (s2[-2] if d2 > 1 else s2[0])
    p = s2[-1] if d2 > 1 else 1
    from .meta import broadcast_shapes
    batch = list(broadcast_shapes(tuple(s1[:max(d1 - 2, 0)]), tuple(s2[:max(d2 - 2, 0)])))
    bp = _prod(batch)
    e1 = _expanded(s1, st1, batch + [n, m1]) if d1 > 1 else \
        _expanded([1] + list(s1), [0] + list(st1), batch + [n, m1])
    c1 = not view_possible(*e1, [bp, n, m1])
    if d2 == 1:
        c2 = not view_possible(*_expanded(s2, st2, batch + [m2]), [bp, m2])
    else:
        c2 = not view_possible(*_expanded(s2, st2, batch + [m2, p]), [bp, m2, p])
    return c1, c2


def _matmul_kept(self, other, needs_grad):
    """[self, other] as PyTorch's matmul keeps them: each only when the other's gradient
    needs it, a copy where its reshape copies (so a later write into it is no error)."""
    c1, c2 = _matmul_copies(tuple(self.shape), tuple(self.stride()), needs_grad[0],
                            tuple(other.shape), tuple(other.stride()), needs_grad[1])
    a = (self.clone() if c1 else self) if needs_grad[1] else None
    b = (other.clone() if c2 else other) if needs_grad[0] else None
    return [a, b]


@_derivative(matmul, computes={"kept": _matmul_kept})
def _matmul_grad(grad, kept, self_shape, other_shape, needs_grad):
    # a vector operand is a one-row (self) or one-column (other) matrix; the engine sums
    # the gradients of broadcast batch dims back to each operand's shape. Only the operand
    # the needed gradient reads is kept (the other is None)
    self, other = kept
    sv, ov = len(self_shape) == 1, len(other_shape) == 1
    g = grad.unsqueeze(-1) if ov else grad
    g = g.unsqueeze(-2) if sv else g
    ga = gb = None
    if needs_grad[0]:
        b = other.unsqueeze(-1) if ov else other
        ga = g.matmul(b.mT)
        ga = ga.squeeze(-2) if sv else ga
    if needs_grad[1]:
        a = self.unsqueeze(0) if sv else self
        gb = a.mT.matmul(g)
        gb = gb.squeeze(-1) if ov else gb
    return ga, gb


# the raw forms (Derivative.raw: a backward that records nothing) run the formulas'
# registry calls on the arrays: the impls of mm / matmul (each computes in its operands'
# one dtype: the eager entry points pass the arrays as they are) and t / reshape's views
# (a.T, a.reshape, as their impls); where a formula scales by alpha or beta, or the
# dtypes differ (the entry points would cast), the Tensor formula runs
_RAW_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def _column_major(shape, strides):
    """ATen's test in mm_mat1_backward / mm_mat2_backward: a matrix laid out by columns
    (strides (1, rows), in elements), as w.t() of a contiguous w (F.linear's weight)."""
    return strides is not None and len(strides) == 2 and strides[0] == 1 and \
        strides[1] == shape[0]


def _mm_grad_raw(xp, grad, self, mat2, self_strides, mat2_strides, needs_grad):
    dt = grad.dtype
    if dt not in _RAW_DTYPES or (needs_grad[0] and mat2.dtype != dt) or (
            needs_grad[1] and self.dtype != dt):
        return NotImplemented
    # (ATen's mm_mat1_backward / mm_mat2_backward: the gradient of a column-major operand
    # is the transposed product transposed back, laid out as the operand: its GEMM, its
    # bits)
    g1 = g2 = None
    mul = xp.matmul     # (mm's product of two float32 / float64 matrices)
    if needs_grad[0]:
        g1 = mul(mat2, grad.T).T if _column_major(grad.shape[:1] + mat2.shape[:1],
                                                  self_strides) \
            else mul(grad, mat2.T)
    if needs_grad[1]:
        g2 = mul(grad.T, self).T if _column_major(self.shape[1:] + grad.shape[1:],
                                                  mat2_strides) \
            else mul(self.T, grad)
    return g1, g2


def _mm_grads(grad, self, mat2, self_strides, mat2_strides, needs_grad):
    g1 = g2 = None
    if needs_grad[0]:
        g1 = mat2.mm(grad.t()).t() if _column_major((grad.shape[0], mat2.shape[0]),
                                                     self_strides) \
            else grad.mm(mat2.t())
    if needs_grad[1]:
        g2 = grad.t().mm(self).t() if _column_major((self.shape[1], grad.shape[1]),
                                                    mat2_strides) \
            else self.t().mm(grad)
    return g1, g2


@_derivative(mm, reads={"self": ("mat2",), "mat2": ("self",)}, raw=_mm_grad_raw)
def _mm_grad(grad, self, mat2, self_strides, mat2_strides, needs_grad):
    return _mm_grads(grad, self, mat2, self_strides, mat2_strides, needs_grad)


@_derivative(bmm, reads={"self": ("mat2",), "mat2": ("self",)})
def _bmm_grad(grad, self, mat2, needs_grad):
    return (grad.bmm(mat2.transpose(1, 2)) if needs_grad[0] else None,
            self.transpose(1, 2).bmm(grad) if needs_grad[1] else None)


@_derivative(mv, reads={"self": ("vec",), "vec": ("self",)})
def _mv_grad(grad, self, vec, needs_grad):
    return (grad.unsqueeze(-1) * vec if needs_grad[0] else None,
            self.t().mv(grad) if needs_grad[1] else None)


@_derivative(dot, reads={"self": ("tensor",), "tensor": ("self",)})
def _dot_grad(grad, self, tensor, needs_grad):
    return (grad * tensor if needs_grad[0] else None,
            grad * self if needs_grad[1] else None)


def _addmm_grad_raw(xp, grad, mat1, mat2, beta, alpha, mat1_strides, mat2_strides,
                    needs_grad):
    if not (beta == 1 and alpha == 1):
        return NotImplemented
    mms = _mm_grad_raw(xp, grad, mat1, mat2, mat1_strides, mat2_strides, needs_grad[1:])
    return mms if mms is NotImplemented else (grad,) + mms


@_derivative(addmm, reads={"mat1": ("mat2",), "mat2": ("mat1",)}, raw=_addmm_grad_raw)
def _addmm_grad(grad, mat1, mat2, beta, alpha, mat1_strides, mat2_strides, needs_grad):
    g1, g2 = _mm_grads(grad, mat1, mat2, mat1_strides, mat2_strides, needs_grad[1:])
    return (_scaled(grad, beta), None if g1 is None else _scaled(g1, alpha),
            None if g2 is None else _scaled(g2, alpha))


@_derivative(baddbmm, reads={"batch1": ("batch2",), "batch2": ("batch1",)})
def _baddbmm_grad(grad, batch1, batch2, beta, alpha, needs_grad):
    return (_scaled(grad, beta),
            _scaled(grad.bmm(batch2.transpose(1, 2)), alpha) if needs_grad[1] else None,
            _scaled(batch1.transpose(1, 2).bmm(grad), alpha) if needs_grad[2] else None)


@_derivative(outer, ger, reads={"self": ("vec2",), "vec2": ("self",)})
def _outer_grad(grad, self, vec2, needs_grad):
    # multiply-and-sum rather than mv: outer promotes mixed dtypes, mv would refuse them
    return ((grad * vec2).sum(1) if needs_grad[0] else None,
            (grad * self.unsqueeze(1)).sum(0) if needs_grad[1] else None)


def _linear_grad_raw(xp, grad, input, weight, weight_shape, needs_grad):
    dt = grad.dtype
    if len(weight_shape) != 2 or dt not in _RAW_DTYPES or (
            needs_grad[0] and weight.dtype != dt) or (needs_grad[1] and input.dtype != dt):
        return NotImplemented
    out_f, in_f = weight_shape
    gi = matmul(xp, grad, weight) if needs_grad[0] else None
    gw = None
    if needs_grad[1]:
        lead = 1
        for s in grad.shape[:-1]:
            lead *= s
        gw = matmul(xp, grad.reshape(lead, out_f).T, input.reshape(lead, in_f))
    return gi, gw, grad


@_derivative(linear, reads={"input": ("weight",), "weight": ("input",)},
             raw=_linear_grad_raw)
def _linear_grad(grad, input, weight, weight_shape, needs_grad):
    # the engine sums the bias gradient over the leading dims; no GEMM for an input (or a
    # weight) that needs no gradient, and only the operand the needed gradient reads is
    # kept (a weight changed in place before backward is no error when the input needs no
    # gradient, as in PyTorch)
    if len(weight_shape) == 1:          # y = input @ w: one output feature, dim dropped
        g = grad.unsqueeze(-1)
        return (g * weight if needs_grad[0] else None,
                g * input if needs_grad[1] else None, grad)
    out_f, in_f = weight_shape
    gi = grad.matmul(weight) if needs_grad[0] else None
    gw = None
    if needs_grad[1]:
        lead = 1                        # (not -1: ambiguous where out_f or in_f is 0)
        for s in grad.shape[:-1]:
            lead *= s
        gw = grad.reshape(lead, out_f).t().matmul(input.reshape(lead, in_f))
    return gi, gw, grad
