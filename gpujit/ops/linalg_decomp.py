"""`torch.linalg`: inverses, determinants, solves and the decompositions (Cholesky, QR,
SVD, symmetric eigendecomposition, LU), triangular solves, pseudo-inverse, rank, matrix
powers and exponentials, cross/vecdot, multi_dot, and `linalg.norm` / the numeric-order
`linalg.matrix_norm`; with the top-level names PyTorch also has (torch.inverse, det,
logdet, pinverse, matrix_power, cross, trace, svd, lu_unpack, matrix_exp, cholesky_solve,
cholesky_inverse). The `_ex` variants (inv_ex, cholesky_ex, solve_ex) return LAPACK's
int32 `info` instead of raising, unless check_errors.

NumPy has no LU and no triangular solve: they are written here (substitution and
partial pivoting column by column, vectorized over the batch), LAPACK's conventions
(getrf's 1-based int32 pivots).

Eager bodies are written against `xp` (NumPy or CuPy: both have xp.linalg.{inv, det,
slogdet, solve, cholesky, qr, svd, eigh, eigvalsh}, batched over leading dims). Inputs of
(..., m, n) are batches of matrices. As in PyTorch these ops take float32/float64 only
(integers: "Expected a floating point or complex tensor as input. Got Long"; float16: "Low
precision dtypes not supported. Got Half"), and a singular / not positive-definite input
raises `gpujit.linalg.LinAlgError` (a RuntimeError) in PyTorch's words. On CuPy the solvers
check their results under `cupyx.errstate(linalg="raise")`; the error's details (which
pivot, which minor) are then worked out on the host.
"""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes, wrap_dim
from .registry import op, OPS
from . import linalg as _la

PUBLIC = {}

_LA = {"linalg"}


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a singular or not positive-definite input."""


LinAlgError.__module__ = "gpujit.linalg"


def _dtn(npdt):
    return _dt._FROM_NP[np.dtype(npdt)]


# ------------------------------------------------------------------ checks (meta + eager)

def _check_float(name, d):
    """d: gpujit dtype."""
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {d.short_name}")
    if d is _dt.float16:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")


def _check_matrix(name, shape, arg="A"):
    if len(shape) < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")


def _check_square(name, shape, arg="A"):
    _check_matrix(name, shape, arg)
    m, n = shape[-2], shape[-1]
    if m is not None and n is not None and m != n:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{m} by {n} matrices")


def _check(name, shape, d, square=True):
    _check_float(name, d)
    (_check_square if square else _check_matrix)(name, shape)


def _echeck(name, a, square=True):
    _check(name, a.shape, _dtn(a.dtype), square)


def _meta1(name, square=True, shape=None):
    """meta of an op of one matrix argument returning one tensor of the same dtype."""
    def meta(A, *args, **kwargs):
        _check(name, A.shape, A.dtype, square)
        s = tuple(A.shape) if shape is None else shape(tuple(A.shape))
        return TensorMeta(A.dtype, s, A.device)
    return meta


def _raising(xp):
    """CuPy's solvers report failures only when asked (cupyx.errstate)."""
    if xp is np:
        return contextlib.nullcontext()
    try:
        import cupyx
        return cupyx.errstate(linalg="raise")
    except (ImportError, AttributeError):
        return contextlib.nullcontext()


def _host(a):
    return np.asarray(a.get() if hasattr(a, "get") else a, np.float64)


def _batch_prefix(a, i):
    return f"(Batch element {i}): " if a.ndim > 2 else ""


def _lu_zero_pivot(m):
    """1-based index of the first zero pivot of LU with partial pivoting (LAPACK getrf's
    info), or 0."""
    m = m.copy()
    n = m.shape[0]
    for j in range(n):
        p = j + int(np.argmax(np.abs(m[j:, j])))
        if m[p, j] == 0:
            return j + 1
        m[[j, p]] = m[[p, j]]
        m[j + 1:, j:] -= np.outer(m[j + 1:, j] / m[j, j], m[j, j:])
    return 0


def _singular_error(name, a):
    h = _host(a)
    mats = h.reshape((-1,) + h.shape[-2:])
    for i, m in enumerate(mats):
        k = _lu_zero_pivot(m)
        if k:
            return LinAlgError(f"{name}: {_batch_prefix(h, i)}The diagonal element {k} is "
                               f"zero, the inversion could not be completed because the "
                               f"input matrix is singular.")
    return LinAlgError(f"{name}: The inversion could not be completed because the input "
                       f"matrix is singular.")


def _not_pd_error(name, a):
    h = _host(a)
    mats = h.reshape((-1,) + h.shape[-2:])
    for i, m in enumerate(mats):
        for k in range(1, m.shape[0] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(
                    f"{name}: {_batch_prefix(h, i)}The factorization could not be completed "
                    f"because the input is not positive-definite (the leading minor of "
                    f"order {k} is not positive-definite).")
    return LinAlgError(f"{name}: The factorization could not be completed because the input "
                       f"is not positive-definite.")


def _call(xp, fn, *args, error=None, **kw):
    try:
        with _raising(xp):
            r = fn(*args, **kw)
    except np.linalg.LinAlgError:
        raise error() from None
    return r


def _mT(a):
    return a.swapaxes(-1, -2)


# ------------------------------------------------------------------ inv, det, slogdet, logdet

@op("aten::linalg_inv(Tensor A) -> Tensor", tags=_LA, method="inverse", function="inverse",
    meta=_meta1("linalg.inv"))
def linalg_inv(xp, A):
    _echeck("linalg.inv", A)
    if A.size == 0:
        return A.copy()
    return _call(xp, xp.linalg.inv, A, error=lambda: _singular_error("linalg.inv", A))


def _batch(shape):
    return tuple(shape[:-2])


@op("aten::linalg_det(Tensor A) -> Tensor", tags=_LA, method="det", function="det",
    meta=_meta1("linalg.det", shape=_batch))
def linalg_det(xp, A):
    _echeck("linalg.det", A)
    if A.shape[-1] == 0:
        return xp.ones(A.shape[:-2], A.dtype)
    return xp.asarray(xp.linalg.det(A)).astype(A.dtype, copy=False)


def _slogdet(xp, A):
    if A.shape[-1] == 0:
        return xp.ones(A.shape[:-2], A.dtype), xp.zeros(A.shape[:-2], A.dtype)
    s, l = xp.linalg.slogdet(A)
    return xp.asarray(s).astype(A.dtype, copy=False), xp.asarray(l).astype(A.dtype, copy=False)


def _slogdet_meta(A):
    m = _meta1("linalg.slogdet", shape=_batch)(A)
    return m, m


@op("aten::linalg_slogdet(Tensor A) -> (Tensor sign, Tensor logabsdet)", tags=_LA,
    method=False, function=False, meta=_slogdet_meta, namedtuple_name="linalg_slogdet")
def linalg_slogdet(xp, A):
    _echeck("linalg.slogdet", A)
    return _slogdet(xp, A)


@op("aten::logdet(Tensor self) -> Tensor", tags=_LA, meta=_meta1("logdet", shape=_batch))
def logdet(xp, self):
    _echeck("logdet", self)
    s, l = _slogdet(xp, self)
    # log of a negative determinant is NaN; of a zero one -inf (slogdet's logabsdet)
    return xp.where(s < 0, xp.asarray(np.nan, self.dtype), l).astype(self.dtype, copy=False)


# ------------------------------------------------------------------ solve

def _solve_shapes(sa, sb, left):
    """(vector case?, result shape) as torch.linalg.solve: B is a (batch of) vector(s) when
    it is 1-D or its shape is A's without the last dim."""
    sa, sb = tuple(sa), tuple(sb)
    _check_square("linalg.solve", sa)
    vec = left and (len(sb) == 1 or (len(sb) == len(sa) - 1 and sb == sa[:-1]))
    n = sa[-1]
    if vec:
        if sb[-1] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the "
                               f"equation AX = B ({n}x{n} and {sb[-1]}x1)")
        return True, broadcast_shapes(sa[:-2], sb[:-1]) + (n,)
    if len(sb) < 2 or (sb[-2] if left else sb[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        b = f"{sb[-2]}x{sb[-1]}" if len(sb) >= 2 else f"{sb[-1]}x1"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{eq} ({n}x{n} and {b})")
    return False, broadcast_shapes(sa[:-2], sb[:-2]) + sb[-2:]


def _solve_dtypes(da, db):
    _check_float("linalg.solve", da)
    if da is not db:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {da.short_name} and B of type {db.short_name} instead")


def _solve_meta(A, B, left=True):
    _solve_dtypes(A.dtype, B.dtype)
    _, shape = _solve_shapes(A.shape, B.shape, left)
    return TensorMeta(A.dtype, shape, A.device)


@op("aten::linalg_solve(Tensor A, Tensor B, *, bool left=True) -> Tensor", tags=_LA,
    method=False, function=False, meta=_solve_meta)
def linalg_solve(xp, A, B, left=True):
    _solve_dtypes(_dtn(A.dtype), _dtn(B.dtype))
    vec, shape = _solve_shapes(A.shape, B.shape, left)
    if not left:         # X A = B  <=>  A^T X^T = B^T
        A, B = _mT(A), _mT(B)
    b = B[..., None] if vec else B
    bshape = shape[:-1] + (shape[-1], 1) if vec else shape
    if not left:
        bshape = bshape[:-2] + (bshape[-1], bshape[-2])
    a = xp.broadcast_to(A, bshape[:-2] + A.shape[-2:])
    b = xp.broadcast_to(b, bshape)
    if b.size == 0 or a.shape[-1] == 0:
        r = xp.zeros(bshape, A.dtype)
    else:
        def err():
            return LinAlgError("torch.linalg.solve: The solver failed because the input "
                               "matrix is singular.")
        r = _call(xp, xp.linalg.solve, a, b, error=err)
    if vec:
        r = r[..., 0]
    elif not left:
        r = _mT(r)
    return xp.ascontiguousarray(r)


# ------------------------------------------------------------------ cholesky

@op("aten::linalg_cholesky(Tensor self, *, bool upper=False) -> Tensor", tags=_LA,
    method=False, function=False, meta=_meta1("linalg.cholesky"))
def linalg_cholesky(xp, self, upper=False):
    _echeck("linalg.cholesky", self)
    if self.size == 0:
        return self.copy()
    L = _call(xp, xp.linalg.cholesky, self,
              error=lambda: _not_pd_error("linalg.cholesky", self))
    if not upper:
        return L
    return xp.ascontiguousarray(_mT(L))


# ------------------------------------------------------------------ qr

_QR_MODES = ("reduced", "complete", "r")


def _qr_mode(mode):
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")


def _qr_shapes(shape, mode):
    *b, m, n = shape
    b = tuple(b)
    k = None if m is None or n is None else min(m, n)
    if mode == "r":
        return (0,), b + (k, n)
    if mode == "complete":
        return b + (m, m), b + (m, n)
    return b + (m, k), b + (k, n)


def _qr_meta(A, mode="reduced"):
    _check("linalg.qr", A.shape, A.dtype, square=False)
    _qr_mode(mode)
    sq, sr = _qr_shapes(tuple(A.shape), mode)
    return TensorMeta(A.dtype, sq, A.device), TensorMeta(A.dtype, sr, A.device)


@op("aten::linalg_qr(Tensor A, str mode='reduced') -> (Tensor Q, Tensor R)", tags=_LA,
    method=False, function=False, meta=_qr_meta, namedtuple_name="linalg_qr")
def linalg_qr(xp, A, mode="reduced"):
    _echeck("linalg.qr", A, square=False)
    _qr_mode(mode)
    sq, sr = _qr_shapes(A.shape, mode)
    if A.size == 0:
        q = xp.zeros(sq, A.dtype)
        if mode == "complete" and q.size:
            q = q + xp.eye(sq[-1], dtype=A.dtype)
        return q, xp.zeros(sr, A.dtype)
    if mode == "r":
        return xp.zeros((0,), A.dtype), xp.linalg.qr(A, mode="r").astype(A.dtype, copy=False)
    q, r = xp.linalg.qr(A, mode=mode)
    return q.astype(A.dtype, copy=False), r.astype(A.dtype, copy=False)


# ------------------------------------------------------------------ svd

def _svd_shapes(shape, full):
    *b, m, n = shape
    b = tuple(b)
    k = None if m is None or n is None else min(m, n)
    if full:
        return b + (m, m), b + (k,), b + (n, n)
    return b + (m, k), b + (k,), b + (k, n)


def _svd(xp, A, full):
    su, ss, sv = _svd_shapes(A.shape, full)
    if A.size == 0:
        u, v = xp.zeros(su, A.dtype), xp.zeros(sv, A.dtype)
        if full:
            u = u + xp.eye(su[-1], dtype=A.dtype) if u.size else u
            v = v + xp.eye(sv[-1], dtype=A.dtype) if v.size else v
        return u, xp.zeros(ss, A.dtype), v
    u, s, vh = xp.linalg.svd(A, full_matrices=full)
    return (u.astype(A.dtype, copy=False), s.astype(A.dtype, copy=False),
            vh.astype(A.dtype, copy=False))


def _svd_meta(A, full_matrices=True, driver=None):
    _check("linalg.svd", A.shape, A.dtype, square=False)
    return tuple(TensorMeta(A.dtype, s, A.device)
                 for s in _svd_shapes(tuple(A.shape), full_matrices))


@op("aten::linalg_svd(Tensor A, bool full_matrices=True, *, str? driver=None) -> "
    "(Tensor U, Tensor S, Tensor Vh)", tags=_LA, method=False, function=False,
    meta=_svd_meta, namedtuple_name="linalg_svd")
def linalg_svd(xp, A, full_matrices=True, driver=None):
    _echeck("linalg.svd", A, square=False)
    return _svd(xp, A, full_matrices)


def _svdvals(xp, A):
    if A.size == 0:
        return xp.zeros(_svd_shapes(A.shape, False)[1], A.dtype)
    return xp.linalg.svd(A, compute_uv=False).astype(A.dtype, copy=False)


@op("aten::linalg_svdvals(Tensor A, *, str? driver=None) -> Tensor", tags=_LA, method=False,
    function=False,
    meta=_meta1("linalg.svdvals", square=False, shape=lambda s: _svd_shapes(s, False)[1]))
def linalg_svdvals(xp, A, driver=None):
    _echeck("linalg.svdvals", A, square=False)
    return _svdvals(xp, A)


def _old_svd_shapes(shape, some, compute_uv):
    su, ss, sv = _svd_shapes(shape, some is False or not compute_uv)
    return su, ss, sv[:-2] + (sv[-1], sv[-2])


def _old_svd_meta(self, some=True, compute_uv=True):
    _check("linalg.svd", self.shape, self.dtype, square=False)
    return tuple(TensorMeta(self.dtype, s, self.device)
                 for s in _old_svd_shapes(tuple(self.shape), some, compute_uv))


@op("aten::svd(Tensor self, bool some=True, bool compute_uv=True) -> (Tensor U, Tensor S, "
    "Tensor V)", tags=_LA, meta=_old_svd_meta, namedtuple_name="svd")
def svd(xp, self, some=True, compute_uv=True):
    """torch.svd (deprecated by PyTorch for linalg.svd): V rather than Vh; without
    compute_uv, U and V are zero (full-size) matrices."""
    _echeck("linalg.svd", self, square=False)
    if not compute_uv:
        su, ss, sv = _old_svd_shapes(self.shape, some, False)
        return xp.zeros(su, self.dtype), _svdvals(xp, self), xp.zeros(sv, self.dtype)
    u, s, vh = _svd(xp, self, not some)
    return u, s, xp.ascontiguousarray(_mT(vh))


# ------------------------------------------------------------------ eigh

def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _eigh_meta(self, UPLO="L"):
    _check("linalg.eigh", self.shape, self.dtype)
    _uplo(UPLO)
    return (TensorMeta(self.dtype, tuple(self.shape[:-1]), self.device),
            TensorMeta(self.dtype, tuple(self.shape), self.device))


@op("aten::linalg_eigh(Tensor self, str UPLO=\"L\") -> (Tensor eigenvalues, "
    "Tensor eigenvectors)", tags=_LA, method=False, function=False, meta=_eigh_meta,
    namedtuple_name="linalg_eigh")
def linalg_eigh(xp, self, UPLO="L"):
    _echeck("linalg.eigh", self)
    _uplo(UPLO)
    if self.size == 0:
        return xp.zeros(self.shape[:-1], self.dtype), self.copy()
    w, v = xp.linalg.eigh(self, UPLO=UPLO)
    return w.astype(self.dtype, copy=False), v.astype(self.dtype, copy=False)


def _eigvalsh_meta(self, UPLO="L"):
    return _eigh_meta(self, UPLO)[0]


@op("aten::linalg_eigvalsh(Tensor self, str UPLO=\"L\") -> Tensor", tags=_LA, method=False,
    function=False, meta=_eigvalsh_meta)
def linalg_eigvalsh(xp, self, UPLO="L"):
    _echeck("linalg.eigvalsh", self)
    _uplo(UPLO)
    if self.size == 0:
        return xp.zeros(self.shape[:-1], self.dtype)
    return xp.linalg.eigvalsh(self, UPLO=UPLO).astype(self.dtype, copy=False)


# ------------------------------------------------------------------ pinv, matrix_rank

def _tols(dtype, m, n, atol, rtol):
    """torch's defaults: rtol = eps * max(m, n) when neither is given; 0 when only atol is."""
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else float(np.finfo(dtype).eps) * max(m, n)
    return (0.0 if atol is None else float(atol)), float(rtol)


def _spectrum(xp, A, hermitian):
    """(values whose magnitudes are the singular values, left factor, right factor)."""
    if hermitian:
        w, v = xp.linalg.eigh(A)
        return w, v, _mT(v)
    u, s, vh = xp.linalg.svd(A, full_matrices=False)
    return s, u, vh


def _pinv(xp, A, atol, rtol, hermitian):
    m, n = A.shape[-2:]
    if A.size == 0:
        return xp.zeros(A.shape[:-2] + (n, m), A.dtype)
    atol, rtol = _tols(A.dtype, m, n, atol, rtol)
    s, u, vh = _spectrum(xp, A, hermitian)
    mag = xp.abs(s)
    tol = xp.maximum(atol, rtol * mag.max(-1, keepdims=True))
    with np.errstate(divide="ignore"):
        sinv = xp.where(mag > tol, 1 / xp.where(mag > tol, s, 1), 0)
    r = xp.matmul(_mT(vh) * sinv[..., None, :], _mT(u))
    return r.astype(A.dtype, copy=False)


def _pinv_shape(s):
    return s[:-2] + (s[-1], s[-2])


def _pinv_meta(self, atol=None, rtol=None, hermitian=False):
    _check_pinv(self.shape, self.dtype)
    return TensorMeta(self.dtype, _pinv_shape(tuple(self.shape)), self.device)


def _check_pinv(shape, d, name="linalg.pinv"):
    if len(shape) < 2 or d not in (_dt.float32, _dt.float64):
        dims = ", ".join(str(x) for x in shape)
        raise RuntimeError(f"{name}({d.short_name}{{[{dims}]}}): expected a tensor with 2 or "
                           f"more dimensions of float, double, cfloat or cdouble types")


@op("aten::linalg_pinv(Tensor self, *, float? atol=None, float? rtol=None, "
    "bool hermitian=False) -> Tensor", tags=_LA, method=False, function=False,
    meta=_pinv_meta)
def linalg_pinv(xp, self, atol=None, rtol=None, hermitian=False):
    _check_pinv(self.shape, _dtn(self.dtype))
    return _pinv(xp, self, atol, rtol, hermitian)


@op("aten::pinverse(Tensor self, float rcond=1e-15) -> Tensor", tags=_LA,
    meta=lambda self, rcond=1e-15: TensorMeta(
        self.dtype, (_check_pinv(self.shape, self.dtype, "pinverse"),
                     _pinv_shape(tuple(self.shape)))[1], self.device))
def pinverse(xp, self, rcond=1e-15):
    _check_pinv(self.shape, _dtn(self.dtype), "pinverse")
    return _pinv(xp, self, 0.0, rcond, False)


def _rank_meta(input, atol=None, rtol=None, hermitian=False):
    _check("linalg.matrix_rank", input.shape, input.dtype, square=False)
    return TensorMeta(_dt.int64, tuple(input.shape[:-2]), input.device)


@op("aten::linalg_matrix_rank(Tensor input, *, float? atol=None, float? rtol=None, "
    "bool hermitian=False) -> Tensor", tags=_LA, method=False, function=False,
    meta=_rank_meta)
def linalg_matrix_rank(xp, input, atol=None, rtol=None, hermitian=False):
    _echeck("linalg.matrix_rank", input, square=False)
    m, n = input.shape[-2:]
    if input.size == 0:
        return xp.zeros(input.shape[:-2], np.int64)
    atol, rtol = _tols(input.dtype, m, n, atol, rtol)
    if hermitian:
        mag = xp.abs(xp.linalg.eigvalsh(input))
    else:
        mag = xp.linalg.svd(input, compute_uv=False)
    tol = xp.maximum(atol, rtol * mag.max(-1, keepdims=True))
    return (mag > tol).sum(-1).astype(np.int64)


# ------------------------------------------------------------------ matrix_power

def _mpow_meta(self, n):
    _check_square("linalg.matrix_power", tuple(self.shape))
    if n < 0:
        _check_float("linalg.inv", self.dtype)
    _la._not_bool("matmul", self.dtype) if n > 1 else None
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::linalg_matrix_power(Tensor self, int n) -> Tensor", tags=_LA,
    function="matrix_power", method="matrix_power", meta=_mpow_meta)
def linalg_matrix_power(xp, self, n):
    _check_square("linalg.matrix_power", self.shape)
    if n < 0:
        self = linalg_inv(xp, self)
        n = -n
    if n == 0:
        return xp.broadcast_to(xp.eye(self.shape[-1], dtype=self.dtype), self.shape).copy()
    if n > 1:
        _la._not_bool("matmul", _dtn(self.dtype))
    result, base = None, self
    while n:
        if n & 1:
            result = base if result is None else _la._product(xp, result, base)
        n >>= 1
        if n:
            base = _la._product(xp, base, base)
    return xp.array(result, copy=True) if result is self else result


# ------------------------------------------------------------------ cross, vecdot, trace

def _cross_check(sa, sb, da, db, dim):
    if da is not db:
        raise RuntimeError(f"expected scalar type {da.short_name} but found {db.short_name}")
    if len(sa) != len(sb):
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions.")
    shape = broadcast_shapes(tuple(sa), tuple(sb))
    d = wrap_dim(dim, len(shape))
    if sa[d] != 3 or sb[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{sa[d]} and {sb[d]}")
    return shape, d


def _cross_default_dim(sa, sb):
    shape = broadcast_shapes(tuple(sa), tuple(sb))
    for i, s in enumerate(shape):
        if s == 3:
            return i
    raise RuntimeError("no dimension of size 3 in input")


def _cross(xp, a, b, d):
    shape = broadcast_shapes(a.shape, b.shape)
    a, b = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)

    def c(x, i):
        return xp.take(x, [i], axis=d)
    return xp.concatenate([c(a, 1) * c(b, 2) - c(a, 2) * c(b, 1),
                           c(a, 2) * c(b, 0) - c(a, 0) * c(b, 2),
                           c(a, 0) * c(b, 1) - c(a, 1) * c(b, 0)], axis=d)


def _lcross_meta(self, other, dim=-1):
    shape, _ = _cross_check(self.shape, other.shape, self.dtype, other.dtype, dim)
    return TensorMeta(self.dtype, shape, self.device)


@op("aten::linalg_cross(Tensor self, Tensor other, *, int dim=-1) -> Tensor", tags=_LA,
    method=False, function=False, meta=_lcross_meta)
def linalg_cross(xp, self, other, dim=-1):
    _, d = _cross_check(self.shape, other.shape, _dtn(self.dtype), _dtn(other.dtype), dim)
    return _cross(xp, self, other, d)


def _cross_meta(self, other, dim=None):
    if dim is None:
        dim = _cross_default_dim(self.shape, other.shape)
    return _lcross_meta(self, other, dim)


@op("aten::cross(Tensor self, Tensor other, int? dim=None) -> Tensor", tags=_LA,
    meta=_cross_meta)
def cross(xp, self, other, dim=None):
    """torch.cross: without dim, the first dimension of size 3 (deprecated by PyTorch, which
    warns; linalg.cross's default is the last dimension)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=3)
        dim = _cross_default_dim(self.shape, other.shape)
    return linalg_cross(xp, self, other, dim)


def _vecdot_check(sx, sy, dx, dy, dim):
    _check_float("linalg.vecdot", dx)
    if dx is not dy:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {dx.short_name} and y of type {dy.short_name} instead")
    shape = broadcast_shapes(tuple(sx), tuple(sy))
    d = wrap_dim(dim, len(shape))
    return shape[:d] + shape[d + 1:], d


@op("aten::linalg_vecdot(Tensor x, Tensor y, *, int dim=-1) -> Tensor", tags=_LA,
    method=False, function=False,
    meta=lambda x, y, dim=-1: TensorMeta(
        x.dtype, _vecdot_check(x.shape, y.shape, x.dtype, y.dtype, dim)[0], x.device))
def linalg_vecdot(xp, x, y, dim=-1):
    _, d = _vecdot_check(x.shape, y.shape, _dtn(x.dtype), _dtn(y.dtype), dim)
    return xp.asarray((x * y).sum(d)).astype(x.dtype, copy=False)


def _trace_check(shape, d):
    if len(shape) != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {len(shape)}")
    _la._not_bool("trace", d)
    return d if d.category == _dt.FLOATING else _dt.int64


@op("aten::trace(Tensor self) -> Tensor", tags=_LA | {"reduction"},
    meta=lambda self: TensorMeta(_trace_check(self.shape, self.dtype), (), self.device))
def trace(xp, self):
    out = _trace_check(self.shape, _dtn(self.dtype))
    k = min(self.shape)
    diag = self[xp.arange(k), xp.arange(k)]
    acc = np.float32 if out is _dt.float16 else out.np
    return xp.asarray(diag.astype(acc).sum()).astype(out.np)


# ------------------------------------------------------------------ multi_dot

def _multi_dot_check(shapes, dtypes):
    n = len(shapes)
    if n < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {n}")
    for i, d in enumerate(dtypes):
        if d is not dtypes[0]:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but "
                               f"tensor 0 is {_la._CNAME[dtypes[0].name]} and tensor {i} "
                               f"{_la._CNAME[d.name]}")
    for i, s in enumerate(shapes):
        if i == 0 and len(s) not in (1, 2):
            raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got "
                               f"{len(s)}D")
        if i == n - 1 and len(s) not in (1, 2):
            raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got "
                               f"{len(s)}D")
        if 0 < i < n - 1 and len(s) != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {len(s)}D")
    mats = [tuple(s) for s in shapes]
    if len(mats[0]) == 1:
        mats[0] = (1,) + mats[0]
    if len(mats[-1]) == 1:
        mats[-1] = mats[-1] + (1,)
    for i in range(n - 1):
        if mats[i][1] != mats[i + 1][0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(shapes[i])} and {list(shapes[i + 1])} cannot be "
                               f"multiplied")
    out = ()
    if len(shapes[0]) == 2:
        out += (shapes[0][0],)
    if len(shapes[-1]) == 2:
        out += (shapes[-1][1],)
    return out


@op("aten::linalg_multi_dot(Tensor[] tensors) -> Tensor", tags=_LA, method=False,
    function=False,
    meta=lambda tensors: TensorMeta(
        tensors[0].dtype if tensors else _dt.float32,
        _multi_dot_check([tuple(t.shape) for t in tensors], [t.dtype for t in tensors]),
        tensors[0].device if tensors else None))
def linalg_multi_dot(xp, tensors):
    shape = _multi_dot_check([t.shape for t in tensors], [_dtn(t.dtype) for t in tensors])
    _la._not_bool("multi_dot", _dtn(tensors[0].dtype))
    r = tensors[0]
    for t in tensors[1:]:
        r = _la._product(xp, r, t)
    return xp.asarray(r).reshape(shape)


# ------------------------------------------------------------------ norms

def _mnorm_num_check(ord):
    if ord not in (1, -1, 2, -2, math.inf, -math.inf):
        o = int(ord) if float(ord).is_integer() else ord
        raise RuntimeError(f"linalg.matrix_norm: Order {o} not supported.")


def _mnorm_num_meta(self, ord, dim=(-2, -1), keepdim=False, dtype=None):
    _mnorm_num_check(ord)
    return _la._mnorm_meta(self, "fro", dim, keepdim, dtype)


def _matrix_norm_num(xp, x, ord, d, keepdim):
    m = xp.moveaxis(x, d, (-2, -1))
    ord = float(ord)
    pick = (lambda a: a.max(-1)) if ord > 0 else (lambda a: a.min(-1))
    if abs(ord) == 1:
        r = pick(xp.abs(m).sum(-2))
    elif math.isinf(ord):
        r = pick(xp.abs(m).sum(-1))
    else:
        r = pick(xp.linalg.svd(m, compute_uv=False))
    if keepdim:
        for i in sorted(d):
            r = xp.expand_dims(r, i)
    return r


@op("aten::linalg_matrix_norm(Tensor self, Scalar ord, int[] dim=[-2,-1], "
    "bool keepdim=False, *, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"},
    function=False, method=False, meta=_mnorm_num_meta)
def linalg_matrix_norm(xp, self, ord, dim=(-2, -1), keepdim=False, dtype=None):
    out = _la._norm_dtype(_dtn(self.dtype), dtype, "linalg.matrix_norm").np
    _mnorm_num_check(ord)
    d = _la._mnorm_dims(dim, self.ndim)
    x = self.astype(np.float32 if out == np.float16 else out, copy=False)
    if x.size == 0:
        raise RuntimeError("linalg.matrix_norm: the input has no elements (torch: max(): "
                           "Expected reduction dim to be specified for input.numel() == 0)")
    return xp.asarray(_matrix_norm_num(xp, x, ord, d, keepdim)).astype(out, copy=False)


def _norm_plan(ndim, ord, dim):
    """torch.linalg.norm's choice: ('vector', ord, dims or None) or ('matrix', ord, dims)."""
    if dim is not None:
        dim = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
    if ord is None:
        if dim is None or len(dim) == 1:
            return "vector", 2, dim
        if len(dim) == 2:
            return "matrix", "fro", dim
    else:
        if dim is None:
            if ndim not in (1, 2):
                raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the "
                                   f"input must be 1D or 2D. Got {ndim}D.")
            dim = list(range(ndim))
        if isinstance(ord, str):
            return "matrix", ord, dim
        if len(dim) == 1:
            return "vector", ord, dim
        if len(dim) == 2:
            return "matrix", ord, dim
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                       f"{dim}")


def _norm_meta(self, ord=None, dim=None, keepdim=False, dtype=None):
    kind, o, d = _norm_plan(len(self.shape), ord, dim)
    if kind == "vector":
        return _la._vnorm_meta(self, o, d, keepdim, dtype)
    if isinstance(o, str):
        if len(self.shape) < 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        return _la._mnorm_meta(self, o, d, keepdim, dtype)
    return _mnorm_num_meta(self, o, d, keepdim, dtype)


def _norm(xp, self, ord, dim, keepdim, dtype):
    kind, o, d = _norm_plan(self.ndim, ord, dim)
    if kind == "vector":
        return _la.linalg_vector_norm(xp, self, o, d, keepdim, dtype)
    if isinstance(o, str):
        if self.ndim < 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        return _la.linalg_matrix_norm(xp, self, o, d, keepdim, dtype)
    return linalg_matrix_norm(xp, self, o, d, keepdim, dtype)


@op("aten::linalg_norm(Tensor self, Scalar? ord=None, int[1]? dim=None, bool keepdim=False, "
    "*, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"}, function=False,
    method=False, meta=_norm_meta)
def linalg_norm(xp, self, ord=None, dim=None, keepdim=False, dtype=None):
    return _norm(xp, self, ord, dim, keepdim, dtype)


@op("aten::linalg_norm.ord_str(Tensor self, str ord, int[1]? dim=None, bool keepdim=False, "
    "*, ScalarType? dtype=None) -> Tensor", tags=_LA | {"reduction"}, function=False,
    method=False, meta=_norm_meta)
def linalg_norm_ord_str(xp, self, ord, dim=None, keepdim=False, dtype=None):
    return _norm(xp, self, ord, dim, keepdim, dtype)


# ------------------------------------------------------------------ triangular solves, LU

def _not_impl(kernel, d):
    """PyTorch's error for a dtype its CPU kernel lacks (a NotImplementedError, which is a
    RuntimeError)."""
    if d not in (_dt.float32, _dt.float64):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{d.short_name}'")


def _flat(xp, a):
    """(..., m, n) -> (batch, m, n), a fresh contiguous copy."""
    return xp.array(a, copy=True).reshape((-1,) + a.shape[-2:])


def _trisolve(xp, a, b, upper, unit):
    """A X = B for a triangular A (only its triangle is read), by substitution row by row,
    vectorized over the batch and the columns of B. a: (..., n, n), b: (..., n, k) with the
    same batch dims. Division by a zero diagonal gives inf / nan, as LAPACK's trtrs."""
    n = a.shape[-1]
    x = xp.zeros(b.shape, a.dtype)
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in rows:
            r = b[..., i, :]
            if upper and i + 1 < n:
                r = r - xp.matmul(a[..., i:i + 1, i + 1:], x[..., i + 1:, :])[..., 0, :]
            elif not upper and i > 0:
                r = r - xp.matmul(a[..., i:i + 1, :i], x[..., :i, :])[..., 0, :]
            x[..., i, :] = r if unit else r / a[..., i, i, None]
    return x


def _st_shapes(sa, sb, left, name="linalg.solve_triangular"):
    sa, sb = tuple(sa), tuple(sb)
    _check_square(name, sa)
    _check_matrix(name, sb, "B")
    n = sa[-1]
    if (sb[-2] if left else sb[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {sb[-2]}x{sb[-1]})")
    return broadcast_shapes(sa[:-2], sb[:-2]) + sb[-2:]


def _st_meta(self, B, upper, left=True, unitriangular=False):
    _not_impl("triangular_solve_cpu", self.dtype)
    return TensorMeta(self.dtype, _st_shapes(self.shape, B.shape, left), self.device)


@op("aten::linalg_solve_triangular(Tensor self, Tensor B, *, bool upper, bool left=True, "
    "bool unitriangular=False) -> Tensor", tags=_LA, method=False, function=False,
    meta=_st_meta)
def linalg_solve_triangular(xp, self, B, upper, left=True, unitriangular=False):
    """A X = B (or X A = B) for a triangular A; B is cast to A's dtype (PyTorch)."""
    _not_impl("triangular_solve_cpu", _dtn(self.dtype))
    shape = _st_shapes(self.shape, B.shape, left)
    A, B = self, B.astype(self.dtype, copy=False)
    if not left:                 # X A = B  <=>  A^T X^T = B^T
        A, B, upper = _mT(A), _mT(B), not upper
    bshape = shape if left else shape[:-2] + (shape[-1], shape[-2])
    a = xp.broadcast_to(A, bshape[:-2] + A.shape[-2:])
    b = xp.broadcast_to(B, bshape)
    r = _trisolve(xp, a, b, upper, unitriangular) if b.size else xp.zeros(bshape, A.dtype)
    return xp.ascontiguousarray(r if left else _mT(r))


def _lu(xp, A):
    """LAPACK getrf: partial pivoting on a (..., m, n) batch, vectorized over the batch.
    Returns (LU, pivots int32 1-based (..., min(m, n)), info (batch,): the 1-based column of
    the first zero pivot, 0 if none)."""
    m, n = A.shape[-2:]
    k = min(m, n)
    a = _flat(xp, A)
    nb = a.shape[0]
    bi = xp.arange(nb)
    piv = xp.zeros((nb, k), np.int32)
    info = xp.zeros((nb,), np.int64)
    for j in range(k):
        p = j + xp.argmax(xp.abs(a[:, j:, j]), axis=1)
        piv[:, j] = (p + 1).astype(np.int32)
        rj = a[:, j, :].copy()
        a[:, j, :] = a[bi, p, :]
        a[bi, p, :] = rj
        d = a[:, j, j]
        zero = d == 0
        info = xp.where((info == 0) & zero, j + 1, info)
        if j + 1 < m:
            # a zero pivot leaves a zero column below it (it was the largest): not scaled
            l = a[:, j + 1:, j] / xp.where(zero, 1, d)[:, None]
            a[:, j + 1:, j] = l
            if j + 1 < n:
                a[:, j + 1:, j + 1:] -= l[:, :, None] * a[:, j, None, j + 1:]
    return (a.reshape(A.shape), piv.reshape(A.shape[:-2] + (k,)), info)


def _perm(xp, piv, m):
    """LAPACK's row interchanges -> perm (batch, m): row i of L U is row perm[i] of A."""
    p = piv.reshape((-1, piv.shape[-1])).astype(np.int64) - 1
    nb = p.shape[0]
    bi = xp.arange(nb)
    perm = xp.broadcast_to(xp.arange(m), (nb, m)).copy()
    for j in range(p.shape[1]):
        t = perm[:, j].copy()
        perm[:, j] = perm[bi, p[:, j]]
        perm[bi, p[:, j]] = t
    return perm


def _perm_matrix(xp, piv, m, dtype):
    """P with A = P L U, (..., m, m)."""
    perm = _perm(xp, piv, m)
    nb = perm.shape[0]
    P = xp.zeros((nb, m, m), dtype)
    P[xp.arange(nb)[:, None], perm, xp.arange(m)[None, :]] = 1
    return P.reshape(piv.shape[:-1] + (m, m))


def _unpack(xp, LU):
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = xp.tril(LU[..., :, :k], -1) + xp.eye(m, k, dtype=LU.dtype)
    U = xp.triu(LU[..., :k, :])
    return L, U


def _lu_check(name, shape, d, kernel="lu_cpu"):
    _not_impl(kernel, d)
    if len(shape) < 2:
        raise RuntimeError(f"torch.{name}: Expected tensor with 2 or more dimensions. Got "
                           f"size: [{', '.join(str(s) for s in shape)}] instead")


def _pivot_check(pivot):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")


def _lu_factor_meta(A, pivot=True):
    _lu_check("lu_factor", A.shape, A.dtype)
    _pivot_check(pivot)
    s = tuple(A.shape)
    k = None if s[-1] is None or s[-2] is None else min(s[-2:])
    return TensorMeta(A.dtype, s, A.device), TensorMeta(_dt.int32, s[:-2] + (k,), A.device)


@op("aten::linalg_lu_factor(Tensor A, *, bool pivot=True) -> (Tensor LU, Tensor pivots)",
    tags=_LA, method=False, function=False, meta=_lu_factor_meta,
    namedtuple_name="linalg_lu_factor")
def linalg_lu_factor(xp, A, pivot=True):
    """LAPACK's compact LU (L's unit diagonal implied) and its 1-based row interchanges."""
    _lu_check("lu_factor", A.shape, _dtn(A.dtype))
    _pivot_check(pivot)
    LU, piv, info = _lu(xp, A)
    bad = np.flatnonzero(_host(info))
    if bad.size:
        i = int(bad[0])
        j = int(_host(info)[i])
        pre = f"(Batch element {i}): " if A.ndim > 2 else ""
        raise LinAlgError(f"torch.linalg.lu_factor: {pre}U[{j},{j}] is zero and using it on "
                          f"lu_solve would result in a division by zero. If you still want "
                          f"to perform the factorization, consider calling linalg.lu(A, "
                          f"pivot) or linalg.lu_factor_ex(A, pivot)")
    return LU, piv


def _lu_shapes(s):
    *b, m, n = s
    b = tuple(b)
    k = None if m is None or n is None else min(m, n)
    return b + (m, m), b + (m, k), b + (k, n)


def _lu_meta(A, pivot=True):
    _lu_check("lu", A.shape, A.dtype)
    _pivot_check(pivot)
    return tuple(TensorMeta(A.dtype, s, A.device) for s in _lu_shapes(tuple(A.shape)))


@op("aten::linalg_lu(Tensor A, *, bool pivot=True) -> (Tensor P, Tensor L, Tensor U)",
    tags=_LA, method=False, function=False, meta=_lu_meta, namedtuple_name="linalg_lu")
def linalg_lu(xp, A, pivot=True):
    """A = P L U (P a permutation matrix of A's dtype); a singular A is not an error."""
    _lu_check("lu", A.shape, _dtn(A.dtype))
    _pivot_check(pivot)
    LU, piv, _ = _lu(xp, A)
    L, U = _unpack(xp, LU)
    return _perm_matrix(xp, piv, A.shape[-2], A.dtype), L, U


def _lu_unpack_check(shape, ps, pd):
    if len(shape) < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: [{', '.join(str(s) for s in shape)}] instead")
    if pd is not _dt.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor "
                           "of torch.int32 dtype.\nNote: this function is intended to be used "
                           "with the output produced by torch.linalg.lu_factor")


def _lu_unpack_shapes(s, unpack_data, unpack_pivots):
    sp, sl, su = _lu_shapes(s)
    return (sp if unpack_pivots else (0,)), (sl if unpack_data else (0,)), \
        (su if unpack_data else (0,))


def _lu_unpack_meta(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    _lu_unpack_check(LU_data.shape, LU_pivots.shape, LU_pivots.dtype)
    return tuple(TensorMeta(LU_data.dtype, s, LU_data.device) for s in
                 _lu_unpack_shapes(tuple(LU_data.shape), unpack_data, unpack_pivots))


@op("aten::lu_unpack(Tensor LU_data, Tensor LU_pivots, bool unpack_data=True, "
    "bool unpack_pivots=True) -> (Tensor P, Tensor L, Tensor U)", tags=_LA, method=False,
    meta=_lu_unpack_meta, namedtuple_name="lu_unpack")
def lu_unpack(xp, LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """linalg.lu_factor's output -> (P, L, U); the parts not asked for are empty."""
    _lu_unpack_check(LU_data.shape, LU_pivots.shape, _dtn(LU_pivots.dtype))
    m = LU_data.shape[-2]
    e = xp.zeros((0,), LU_data.dtype)
    P = _perm_matrix(xp, LU_pivots, m, LU_data.dtype) if unpack_pivots else e
    L, U = _unpack(xp, LU_data) if unpack_data else (e, e.copy())
    return P, L, U


def _lu_solve_check(sl, sp, sb, dl, dp, db, left):
    _not_impl("lu_solve_cpu", dl)
    if dl is not db:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but "
                           f"found LU of type {dl.short_name} and B of type {db.short_name} "
                           f"instead")
    if dp is not _dt.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type "
                           "torch.int32")
    _check_square("torch.linalg.lu_solve", tuple(sl))
    if len(sp) < 1 or sp[-1] != sl[-1]:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the "
                           "dimension of the matrix")
    return _st_shapes(sl, sb, left, "linalg.lu_solve")


def _lu_solve_meta(LU, pivots, B, left=True, adjoint=False):
    s = _lu_solve_check(LU.shape, pivots.shape, B.shape, LU.dtype, pivots.dtype, B.dtype, left)
    return TensorMeta(LU.dtype, s, LU.device)


def _swap_rows(xp, b, p, reverse):
    """Apply LAPACK's interchanges p (batch, n; 0-based) to the rows of b (batch, n, k):
    in order (P^T b), or reversed (P b)."""
    bi = xp.arange(b.shape[0])
    js = range(p.shape[1] - 1, -1, -1) if reverse else range(p.shape[1])
    for j in js:
        t = b[:, j, :].copy()
        b[:, j, :] = b[bi, p[:, j], :]
        b[bi, p[:, j], :] = t
    return b


@op("aten::linalg_lu_solve(Tensor LU, Tensor pivots, Tensor B, *, bool left=True, "
    "bool adjoint=False) -> Tensor", tags=_LA, method=False, function=False,
    meta=_lu_solve_meta)
def linalg_lu_solve(xp, LU, pivots, B, left=True, adjoint=False):
    """A X = B (A^H X = B with adjoint; X A = B with left=False) from linalg.lu_factor's
    A = P L U."""
    shape = _lu_solve_check(LU.shape, pivots.shape, B.shape, _dtn(LU.dtype),
                            _dtn(pivots.dtype), _dtn(B.dtype), left)
    if not left:     # X op(A) = B  <=>  op(A)^T X^T = B^T
        B, adjoint = _mT(B), not adjoint
    bshape = shape if left else shape[:-2] + (shape[-1], shape[-2])
    batch = bshape[:-2]
    n = LU.shape[-1]
    if B.size == 0 or n == 0:
        r = xp.zeros(bshape, LU.dtype)
        return xp.ascontiguousarray(r if left else _mT(r))
    lu = xp.broadcast_to(LU, batch + (n, n)).reshape((-1, n, n))
    p = xp.broadcast_to(pivots, batch + (n,)).reshape((-1, n)).astype(np.int64) - 1
    b = _flat(xp, xp.broadcast_to(B, bshape))
    if not adjoint:       # U X = L^{-1} P^T B
        y = _trisolve(xp, lu, _swap_rows(xp, b, p, False), False, True)
        x = _trisolve(xp, lu, y, True, False)
    else:                 # A^T = U^T L^T P^T: X = P L^{-T} U^{-T} B
        luT = _mT(lu)
        y = _trisolve(xp, luT, b, False, False)
        x = _swap_rows(xp, _trisolve(xp, luT, y, True, True), p, True)
    x = x.reshape(bshape)
    return xp.ascontiguousarray(x if left else _mT(x))


# ------------------------------------------------------------------ matrix_exp

_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.)}
# the largest 1-norm for which the degree-m Pade approximant is accurate to double precision
# (Higham 2005, as scipy.linalg.expm and PyTorch)
_THETA = ((3, 1.495585217958292e-2), (5, 2.539398330063230e-1), (7, 9.504178996162932e-1),
          (9, 2.097847961257068), (13, 5.371920351148152))


def _expm(xp, A):
    """Scaling and squaring with a Pade approximant, batched: one degree for the batch (the
    smallest that suits its largest norm), a scaling 2^-s per matrix."""
    n = A.shape[-1]
    norm = xp.abs(A).sum(-2).max(-1)                  # 1-norms, (batch...)
    big = float(_host(norm.max())) if norm.size else 0.0
    m = next((m for m, t in _THETA if big <= t), 13)
    s = xp.zeros(norm.shape, np.int64)
    if m == 13:
        with np.errstate(divide="ignore"):
            s = xp.maximum(0, xp.ceil(xp.log2(norm / _THETA[-1][1]))).astype(np.int64)
        A = A / (2.0 ** s).astype(A.dtype)[..., None, None]
    b = _PADE[m]
    eye = xp.broadcast_to(xp.eye(n, dtype=A.dtype), A.shape)
    A2 = xp.matmul(A, A)
    if m < 13:
        powers = [eye, A2]
        while len(powers) < (m + 1) // 2:
            powers.append(xp.matmul(powers[-1], A2))
        U = xp.matmul(A, sum(b[2 * i + 1] * p for i, p in enumerate(powers)))
        V = sum(b[2 * i] * p for i, p in enumerate(powers))
    else:
        A4 = xp.matmul(A2, A2)
        A6 = xp.matmul(A4, A2)
        U = xp.matmul(A, xp.matmul(A6, b[13] * A6 + b[11] * A4 + b[9] * A2) + b[7] * A6 +
                      b[5] * A4 + b[3] * A2 + b[1] * eye)
        V = (xp.matmul(A6, b[12] * A6 + b[10] * A4 + b[8] * A2) + b[6] * A6 + b[4] * A4 +
             b[2] * A2 + b[0] * eye)
    R = xp.linalg.solve(V - U, V + U)
    smax = int(_host(s.max())) if s.size else 0
    for i in range(smax):
        R = xp.where((s > i)[..., None, None], xp.matmul(R, R), R)
    return R


def _matrix_exp_check(name, shape, d):
    _check_matrix(name, shape)
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {d.short_name}")
    _check_square(name, shape)


def _matrix_exp_meta(self):
    _matrix_exp_check("linalg.matrix_exp", tuple(self.shape), self.dtype)
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


def _matrix_exp(xp, self):
    _matrix_exp_check("linalg.matrix_exp", self.shape, _dtn(self.dtype))
    if self.size == 0:
        return self.copy()
    # float16: computed in float32 (PyTorch's CPU kernel overflows in half precision)
    a = self.astype(np.float32) if self.dtype == np.float16 else self
    return xp.ascontiguousarray(_expm(xp, a).astype(self.dtype, copy=False))


@op("aten::linalg_matrix_exp(Tensor self) -> Tensor", tags=_LA, method=False,
    function=False, meta=_matrix_exp_meta)
def linalg_matrix_exp(xp, self):
    return _matrix_exp(xp, self)


@op("aten::matrix_exp(Tensor self) -> Tensor", tags=_LA, meta=_matrix_exp_meta)
def matrix_exp(xp, self):
    """torch.matrix_exp / Tensor.matrix_exp: linalg.matrix_exp."""
    return _matrix_exp(xp, self)


# ------------------------------------------------------------------ lstsq

_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_check(sa, sb, da, db, driver):
    if da not in (_dt.float32, _dt.float64) or db not in (_dt.float32, _dt.float64):
        raise RuntimeError("This function doesn't handle types other than float and double")
    if da is not db:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {da.short_name} and other's dtype "
                           f"{db.short_name}")
    if len(sa) < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if driver is not None and driver not in _LSTSQ_DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    vec = len(sb) == 1 or len(sb) == len(sa) - 1      # PyTorch's rule: by dims only
    sbm = tuple(sb) + (1,) if vec else tuple(sb)
    if len(sbm) < 2 or sbm[-2] != sa[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    return vec, broadcast_shapes(tuple(sa[:-2]), sbm[:-2]), sbm[-1]


def _lstsq_shapes(sa, sb, da, db, driver):
    """(vector case, solution, residuals (when computed), rank, singular_values shapes)."""
    vec, batch, k = _lstsq_check(sa, sb, da, db, driver)
    driver = driver or "gelsy"
    m, n = sa[-2], sa[-1]
    sol = batch + ((n,) if vec else (n, k))
    res = batch + (k,) if m > n and driver != "gelsy" else (0,)
    # rank and singular values are A's: its batch dims, not the broadcast ones (PyTorch)
    rank = (0,) if driver == "gels" else tuple(sa[:-2])
    sv = tuple(sa[:-2]) + (min(m, n),) if driver in ("gelsd", "gelss") else (0,)
    return vec, sol, res, rank, sv


def _lstsq_meta(self, b, rcond=None, driver=None):
    _, sol, res, rank, sv = _lstsq_shapes(tuple(self.shape), tuple(b.shape), self.dtype,
                                          b.dtype, driver)
    d = self.dtype
    # residuals stay empty at run time for a rank-deficient input: their size is unknown
    res = res if res == (0,) else tuple(None for _ in res)
    return (TensorMeta(d, sol, self.device), TensorMeta(d, res, self.device),
            TensorMeta(_dt.int64, rank, self.device), TensorMeta(d, sv, self.device))


@op("aten::linalg_lstsq(Tensor self, Tensor b, float? rcond=None, *, str? driver=None) -> "
    "(Tensor solution, Tensor residuals, Tensor rank, Tensor singular_values)", tags=_LA,
    method=False, function=False, meta=_lstsq_meta, namedtuple_name="linalg_lstsq")
def linalg_lstsq(xp, self, b, rcond=None, driver=None):
    """The minimum-norm least-squares solution through the SVD (singular values at most
    rcond * the largest count as zero; rcond defaults to eps * max(m, n)) for every driver;
    which other fields are filled follows PyTorch's drivers (CPU default 'gelsy': rank
    only; 'gels': residuals only; 'gelsd' / 'gelss': all). Residuals (m > n) are returned
    only when every matrix has full rank, as LAPACK's."""
    vec, sol, res, rank_s, sv_s = _lstsq_shapes(self.shape, b.shape, _dtn(self.dtype),
                                                _dtn(b.dtype), driver)
    driver = driver or "gelsy"
    m, n = self.shape[-2:]
    batch = sol[:-1] if vec else sol[:-2]
    B = b[..., None] if vec else b
    k = B.shape[-1]
    A = self
    B = xp.broadcast_to(B, batch + (m, k))
    if rcond is None or rcond < 0:
        rcond = float(np.finfo(self.dtype).eps) * max(m, n)
    if A.size == 0:
        s = xp.zeros(A.shape[:-2] + (min(m, n),), self.dtype)
        X = xp.zeros(batch + (n, k), self.dtype)
        r = xp.zeros(A.shape[:-2], np.int64)
    else:
        u, s, vh = xp.linalg.svd(A, full_matrices=False)
        keep = s > rcond * s.max(-1, keepdims=True)
        sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0)
        X = xp.matmul(_mT(vh) * sinv[..., None, :], xp.matmul(_mT(u), B))
        X = xp.broadcast_to(X, batch + (n, k))
        r = keep.sum(-1).astype(np.int64)
    X = X.astype(self.dtype, copy=False)
    e = xp.zeros((0,), self.dtype)
    residuals = e
    if res != (0,) and (driver == "gels" or bool(_host((r == n).all()))):
        d = xp.matmul(A, X) - B
        residuals = (d * d).sum(-2).astype(self.dtype, copy=False)
    rank = xp.zeros((0,), np.int64) if driver == "gels" else xp.asarray(r)
    sv = s.astype(self.dtype, copy=False) if sv_s != (0,) else e.copy()
    return (xp.ascontiguousarray(X[..., 0] if vec else X), residuals, rank,
            xp.ascontiguousarray(sv))


# ------------------------------------------------------------------ *_ex (info), cholesky_solve

def _info_of(xp, piv_info, batch):
    return xp.asarray(piv_info).astype(np.int32).reshape(batch)


def _lu_inverse(xp, LU, piv):
    """inv(A) from A = P L U (flattened batch): inf / nan for a singular A, as LAPACK."""
    n = LU.shape[-1]
    eye = xp.broadcast_to(xp.eye(n, dtype=LU.dtype), LU.shape).copy()
    p = piv.reshape((-1, n)).astype(np.int64) - 1
    y = _trisolve(xp, LU, _swap_rows(xp, eye, p, False), False, True)
    return _trisolve(xp, LU, y, True, False)


def _inv_ex_meta(A, check_errors=False):
    _check("linalg.inv", A.shape, A.dtype)
    return (TensorMeta(A.dtype, tuple(A.shape), A.device),
            TensorMeta(_dt.int32, tuple(A.shape[:-2]), A.device))


@op("aten::linalg_inv_ex(Tensor A, *, bool check_errors=False) -> (Tensor inverse, "
    "Tensor info)", tags=_LA, method=False, function=False, meta=_inv_ex_meta,
    namedtuple_name="linalg_inv_ex")
def linalg_inv_ex(xp, A, check_errors=False):
    """linalg.inv and LAPACK's info (the 1-based index of the first zero pivot, 0 if A is
    invertible) instead of an error, unless check_errors."""
    _echeck("linalg.inv", A)
    batch = A.shape[:-2]
    if A.size == 0:
        return A.copy(), xp.zeros(batch, np.int32)
    LU, piv, info = _lu(xp, A)
    if not bool(_host(info).any()):
        return xp.linalg.inv(A), _info_of(xp, info, batch)
    if check_errors:
        raise _singular_error("linalg.inv_ex", A)
    n = A.shape[-1]
    inv = _lu_inverse(xp, LU.reshape((-1, n, n)), piv)
    return inv.reshape(A.shape).astype(A.dtype, copy=False), _info_of(xp, info, batch)


def _chol_partial(xp, A):
    """Column-by-column Cholesky of a (batch, n, n) float array (its lower triangle), as
    LAPACK's potf2: (L, info); for a matrix that is not positive-definite, info is the order
    of the first bad leading minor and L holds the columns computed before it (the bad
    diagonal entry left as computed, the rest of A's lower triangle as it was)."""
    a = xp.tril(A).astype(A.dtype, copy=True)
    nb, n = a.shape[0], a.shape[-1]
    info = xp.zeros((nb,), np.int64)
    for j in range(n):
        live = info == 0
        d = a[:, j, j] - (a[:, j, :j] * a[:, j, :j]).sum(-1)
        bad = live & ~(d > 0)
        info = xp.where(bad, j + 1, info)
        ok = live & ~bad
        dj = xp.where(ok, xp.sqrt(xp.where(ok, d, 1)), xp.where(bad, d, a[:, j, j]))
        a[:, j, j] = dj
        if j + 1 < n:
            col = (a[:, j + 1:, j] - xp.matmul(a[:, j + 1:, :j], a[:, j, :j, None])[..., 0])
            a[:, j + 1:, j] = xp.where(ok[:, None], col / xp.where(ok, dj, 1)[:, None],
                                       a[:, j + 1:, j])
    return a, info


def _cholesky_ex_meta(self, upper=False, check_errors=False):
    _check("linalg.cholesky", self.shape, self.dtype)
    return (TensorMeta(self.dtype, tuple(self.shape), self.device),
            TensorMeta(_dt.int32, tuple(self.shape[:-2]), self.device))


@op("aten::linalg_cholesky_ex(Tensor self, *, bool upper=False, bool check_errors=False) "
    "-> (Tensor L, Tensor info)", tags=_LA, method=False, function=False,
    meta=_cholesky_ex_meta, namedtuple_name="linalg_cholesky_ex")
def linalg_cholesky_ex(xp, self, upper=False, check_errors=False):
    """linalg.cholesky and LAPACK's info (the order of the first leading minor that is not
    positive-definite, 0 if none) instead of an error, unless check_errors."""
    _echeck("linalg.cholesky", self)
    batch = self.shape[:-2]
    if self.size == 0:
        return self.copy(), xp.zeros(batch, np.int32)
    try:
        with _raising(xp):
            L = xp.linalg.cholesky(self)
        info = xp.zeros(batch, np.int32)
    except np.linalg.LinAlgError:
        if check_errors:
            raise _not_pd_error("linalg.cholesky_ex", self) from None
        n = self.shape[-1]
        L, info = _chol_partial(xp, self.reshape((-1, n, n)))
        L, info = L.reshape(self.shape), _info_of(xp, info, batch)
    L = L.astype(self.dtype, copy=False)
    return (xp.ascontiguousarray(_mT(L)) if upper else L), info


def _solve_ex_meta(A, B, left=True, check_errors=False):
    return (_solve_meta(A, B, left),
            TensorMeta(_dt.int32, tuple(A.shape[:-2]), A.device))


@op("aten::linalg_solve_ex(Tensor A, Tensor B, *, bool left=True, bool check_errors=False) "
    "-> (Tensor result, Tensor info)", tags=_LA, method=False, function=False,
    meta=_solve_ex_meta, namedtuple_name="linalg_solve_ex")
def linalg_solve_ex(xp, A, B, left=True, check_errors=False):
    """linalg.solve and LAPACK's info for A (the first zero pivot, 0 if none) instead of an
    error, unless check_errors."""
    _solve_dtypes(_dtn(A.dtype), _dtn(B.dtype))
    vec, shape = _solve_shapes(A.shape, B.shape, left)
    batch = A.shape[:-2]
    if A.size == 0:
        return linalg_solve(xp, A, B, left), xp.zeros(batch, np.int32)
    LU, piv, info = _lu(xp, A)
    h = _host(info)
    if not h.any():
        return linalg_solve(xp, A, B, left), _info_of(xp, info, batch)
    if check_errors:
        i = int(np.flatnonzero(h)[0])
        pre = f"(Batch element {i}): " if A.ndim > 2 else ""
        raise LinAlgError(f"torch.linalg.solve_ex: {pre}The solver failed because the input "
                          f"matrix is singular.")
    # as LAPACK: the substitutions run through the zero pivot (inf / nan)
    r = linalg_lu_solve(xp, LU, piv, B[..., None] if vec else B, left=left)
    return xp.ascontiguousarray(r[..., 0] if vec else r), _info_of(xp, info, batch)


def _chol_solve_check(sb, sa, db, da):
    if len(sb) < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {len(sb)} "
                           f"dimensions instead")
    if len(sa) < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {len(sa)} "
                           f"dimensions instead")
    if db is not da:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{db.short_name} and A of type {da.short_name} instead.")
    _not_impl("cholesky_solve_cpu", da)
    if sa[-1] != sa[-2] or sa[-1] != sb[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{sa[-2]} by {sa[-1]} but each b matrix is {sb[-2]} by {sb[-1]}")
    return broadcast_shapes(tuple(sb[:-2]), tuple(sa[:-2])) + tuple(sb[-2:])


def _chol_solve_meta(self, input2, upper=False):
    return TensorMeta(self.dtype, _chol_solve_check(tuple(self.shape), tuple(input2.shape),
                                                    self.dtype, input2.dtype), self.device)


def _chol_solve(xp, b, L, upper):
    """(L L^T)^{-1} b from the lower factor L (U^T U with upper: L = U^T); one triangle of
    the factor is read."""
    if upper:
        L = _mT(L)
    y = _trisolve(xp, L, b, False, False)
    return _trisolve(xp, _mT(L), y, True, False)


@op("aten::cholesky_solve(Tensor self, Tensor input2, bool upper=False) -> Tensor",
    tags=_LA, meta=_chol_solve_meta)
def cholesky_solve(xp, self, input2, upper=False):
    """torch.cholesky_solve(B, L): A X = B for A = L L^T (U^T U with upper)."""
    shape = _chol_solve_check(self.shape, input2.shape, _dtn(self.dtype), _dtn(input2.dtype))
    n = input2.shape[-1]
    b = xp.broadcast_to(self, shape)
    L = xp.broadcast_to(input2, shape[:-2] + (n, n))
    if b.size == 0:
        return xp.zeros(shape, self.dtype)
    return xp.ascontiguousarray(_chol_solve(xp, b, L, upper).astype(self.dtype, copy=False))


def _chol_inverse_check(shape, d):
    _check_matrix("cholesky_inverse", shape)
    _check_square("cholesky_inverse", shape)
    _not_impl("cholesky_inverse_out_cpu", d)


@op("aten::cholesky_inverse(Tensor self, bool upper=False) -> Tensor", tags=_LA,
    meta=lambda self, upper=False: TensorMeta(
        self.dtype, (_chol_inverse_check(tuple(self.shape), self.dtype),
                     tuple(self.shape))[1], self.device))
def cholesky_inverse(xp, self, upper=False):
    """torch.cholesky_inverse(L): (L L^T)^{-1} (U^T U with upper)."""
    _chol_inverse_check(self.shape, _dtn(self.dtype))
    if self.size == 0:
        return self.copy()
    n = self.shape[-1]
    eye = xp.broadcast_to(xp.eye(n, dtype=self.dtype), self.shape)
    return xp.ascontiguousarray(_chol_solve(xp, eye, self, upper).astype(self.dtype,
                                                                         copy=False))


# --------------------------------------------------------------------------------------
# derivatives (PyTorch's formulas, tools/autograd/derivatives.yaml / FunctionsManual.cpp),
# written with registry ops
from .reduction import _keep  # noqa: E402
from .registry import derivative as _derivative  # noqa: E402


def _G():
    import gpujit
    return gpujit


def _inv(A):
    return OPS["aten::linalg_inv"].public(A)


def _eye_like(A):
    n = A.shape[-1]
    return _G().eye(n, dtype=A.dtype, device=A.device)


def _diag(x):
    """(..., n) -> (..., n, n) with x on the diagonal."""
    return x.unsqueeze(-1) * _G().eye(x.shape[-1], dtype=x.dtype, device=x.device)


@_derivative(linalg_inv)
def _inv_grad(grad, result):
    r = result.mT
    return -(r.matmul(grad).matmul(r))


@_derivative(linalg_det)
def _det_grad(grad, A, result):
    # det(A) A^{-T}: at a singular A the inverse does not exist (PyTorch then goes through
    # an SVD; gpujit raises linalg.inv's LinAlgError)
    return (grad * result).unsqueeze(-1).unsqueeze(-1) * _inv(A).mT


@_derivative(linalg_slogdet)
def _slogdet_grad(grad, A):
    g = grad[1]       # the sign is piecewise constant
    return g.unsqueeze(-1).unsqueeze(-1) * _inv(A).mT


@_derivative(logdet)
def _logdet_grad(grad, self):
    return grad.unsqueeze(-1).unsqueeze(-1) * _inv(self).mT


@_derivative(linalg_solve)
def _solve_grad(grad, A, B, result, left, needs_grad):
    solve = OPS["aten::linalg_solve"].public
    vec, _ = _solve_shapes(tuple(A.shape), tuple(B.shape), left)
    gB = solve(A.mT, grad, left=left)
    gA = None
    if needs_grad[0]:
        gm = gB.unsqueeze(-1) if vec else gB
        x = result.unsqueeze(-1) if vec else result
        gA = -(gm.matmul(x.mT)) if left else -(x.mT.matmul(gm))
    return gA, gB


@_derivative(linalg_cholesky)
def _cholesky_grad(grad, result, upper):
    L, gL = (result.mT, grad.mT) if upper else (result, grad)
    phi = L.mT.matmul(gL).tril()
    phi = phi - 0.5 * phi * _eye_like(phi)
    Linv = _inv(L)
    gA = Linv.mT.matmul(phi).matmul(Linv)
    return 0.5 * (gA + gA.mT)


def _eigh_backward(gL, gV, L, V):
    """V (diag(gL) + skew(V^T gV) / (L_j - L_i)) V^T (gV None: eigenvalues only)."""
    inner = _diag(gL) if gL is not None else None
    if gV is not None:
        vg = V.mT.matmul(gV)
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        eye = _eye_like(V)
        F = (eye == 0) / (E + eye)
        t = 0.5 * (vg - vg.mT) * F
        inner = t if inner is None else inner + t
    return V.matmul(inner).matmul(V.mT)


@_derivative(linalg_eigh)
def _eigh_grad(grad, result):
    L, V = result
    return _eigh_backward(grad[0], grad[1], L, V)


@_derivative(linalg_eigvalsh)
def _eigvalsh_grad(grad, self, UPLO):
    L, V = OPS["aten::linalg_eigh"].public(self.detach(), UPLO)
    return _eigh_backward(grad, None, L, V)


@_derivative(linalg_svdvals)
def _svdvals_grad(grad, A):
    U, S, Vh = OPS["aten::linalg_svd"].public(A.detach(), False)
    return U.matmul(_diag(grad)).matmul(Vh)


def _svd_backward(gU, gS, gVh, U, S, Vh, full_matrices):
    """PyTorch's svd_backward (real case), for the reduced SVD."""
    m, n = U.shape[-2], Vh.shape[-1]
    if full_matrices and m != n:
        raise RuntimeError("linalg.svd: the derivative of the SVD with full_matrices=True "
                           "of a non-square matrix is not defined (PyTorch: use "
                           "full_matrices=False)")
    if gU is None and gVh is None:
        return U.matmul(_diag(gS)).matmul(Vh)
    V = Vh.mT
    gV = gVh.mT if gVh is not None else None
    k = S.shape[-1]
    UhgU = U.mT.matmul(gU) if gU is not None else None
    VhgV = Vh.matmul(gV) if gV is not None else None
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    eye = _G().eye(k, dtype=S.dtype, device=S.device)
    E = E + eye               # the diagonal is not used (skew parts vanish there)
    ret = None
    if gU is not None:
        skew_u = UhgU - UhgU.mT
        ret = (skew_u * S.unsqueeze(-2)) / E * (eye == 0)
    if gV is not None:
        skew_v = VhgV - VhgV.mT
        t = (S.unsqueeze(-1) * skew_v) / E * (eye == 0)
        ret = t if ret is None else ret + t
    if gS is not None:
        ret = ret + _diag(gS)
    gA = U.matmul(ret).matmul(Vh)
    Sinv = 1 / S
    if gU is not None and m > k:
        gA = gA + (gU - U.matmul(UhgU)).matmul(Sinv.unsqueeze(-1) * Vh)
    if gV is not None and n > k:
        gA = gA + (U * Sinv.unsqueeze(-2)).matmul((gV - V.matmul(VhgV)).mT)
    return gA


@_derivative(linalg_svd)
def _svd_grad(grad, result, full_matrices):
    U, S, Vh = result
    return _svd_backward(grad[0], grad[1], grad[2], U, S, Vh, full_matrices)


@_derivative(svd)
def _old_svd_grad(grad, self, result, some, compute_uv):
    if not compute_uv:
        raise RuntimeError("svd: Setting compute_uv to false in torch.svd doesn't compute "
                           "singular matrices, and hence we cannot compute backward. Please "
                           "use torch.svd(compute_uv=True)")
    U, S, V = result
    gV = grad[2]
    return _svd_backward(grad[0], grad[1], None if gV is None else gV.mT, U, S, V.mT,
                         not some)


@_derivative(linalg_qr)
def _qr_grad(grad, A, result, mode):
    """PyTorch's linalg_qr_backward for the reduced case with m >= n (the other cases
    raise, as in PyTorch for m < n with complete mode)."""
    Q, R = result
    gQ, gR = grad
    m, n = A.shape[-2], A.shape[-1]
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                           "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                           "are going to differentiate through linalg.qr.")
    if mode == "complete" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                           "and nrows > ncols.")
    if m < n:
        raise RuntimeError("linalg.qr: gpujit differentiates the QR decomposition only for "
                           "inputs with at least as many rows as columns")
    # gA = [gQ + Q copyltu(M)] R^{-H}, M = R gR^H - gQ^H Q
    M = R.matmul(gR.mT) - gQ.mT.matmul(Q)
    low = M.tril(-1)
    M = low + low.mT + M * _eye_like(M)
    b = gQ + Q.matmul(M)
    return b.matmul(_inv(R).mT)


def _pinv_backward(grad, pinvA, A):
    m, n = A.shape[-2], A.shape[-1]
    pinvAh = pinvA.mT
    gradh = grad.mT
    if m <= n:
        K = gradh.matmul(pinvA)
        KpinvAh = K.matmul(pinvAh)
        return (-(pinvA.matmul(K)).mT + KpinvAh - A.matmul(pinvA).matmul(KpinvAh)
                + pinvAh.matmul(pinvA).matmul(gradh - K.matmul(A)))
    K = pinvA.matmul(gradh)
    pinvAhK = pinvAh.matmul(K)
    return (-(K.matmul(pinvA)).mT + (gradh - A.matmul(K)).matmul(pinvA).matmul(pinvAh)
            + pinvAhK - pinvAhK.matmul(pinvA).matmul(A))


@_derivative(linalg_pinv)
def _lpinv_grad(grad, self, result):
    return _pinv_backward(grad, result, self)


@_derivative(pinverse)
def _pinverse_grad(grad, self, result):
    return _pinv_backward(grad, result, self)


def _mpow_backward(grad, A, n):
    """sum_k (A^T)^k grad (A^T)^(n-1-k)."""
    if n == 0:
        return grad * 0
    powers = [None] * n
    At = A.mT
    powers[0] = _eye_like(A)
    for k in range(1, n):
        powers[k] = powers[k - 1].matmul(At)
    out = None
    for k in range(n):
        t = powers[k].matmul(grad).matmul(powers[n - 1 - k])
        out = t if out is None else out + t
    return out


@_derivative(linalg_matrix_power)
def _mpow_grad(grad, self, n):
    if n >= 0:
        return _mpow_backward(grad, self, n)
    B = _inv(self)
    gB = _mpow_backward(grad, B, -n)
    return -(B.mT.matmul(gB).matmul(B.mT))


@_derivative(linalg_cross)
def _lcross_grad(grad, self, other, dim):
    c = OPS["aten::linalg_cross"].public
    return c(other, grad, dim=dim), c(grad, self, dim=dim)


@_derivative(cross)
def _cross_grad(grad, self, other, dim):
    if dim is None:
        dim = _cross_default_dim(tuple(self.shape), tuple(other.shape))
    c = OPS["aten::linalg_cross"].public
    return c(other, grad, dim=dim), c(grad, self, dim=dim)


@_derivative(linalg_vecdot)
def _vecdot_grad(grad, x, y, dim):
    nd = max(x.dim(), y.dim())
    g = grad.unsqueeze(wrap_dim(dim, nd))
    return g * y, g * x


@_derivative(trace)
def _trace_grad(grad, self):
    m, n = self.shape
    return grad * _G().eye(m, n, dtype=grad.dtype, device=grad.device)


@_derivative(linalg_multi_dot)
def _multi_dot_grad(grad, tensors, needs_grad):
    mats = list(tensors)
    first_vec, last_vec = mats[0].dim() == 1, mats[-1].dim() == 1
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    g = grad
    if first_vec:
        g = g.unsqueeze(0)
    if last_vec:
        g = g.unsqueeze(-1)
    out = []
    for i, t in enumerate(tensors):
        if not needs_grad[0]:
            out.append(None)
            continue
        gi = g
        if i > 0:
            left = mats[0]
            for x in mats[1:i]:
                left = left.matmul(x)
            gi = left.mT.matmul(gi)
        if i < len(mats) - 1:
            right = mats[i + 1]
            for x in mats[i + 2:]:
                right = right.matmul(x)
            gi = gi.matmul(right.mT)
        out.append(gi.reshape(tuple(t.shape)))
    return out


def _matrix_norm_num_backward(grad, self, result, ord, dim, keepdim):
    nd = self.dim()
    d = _la._mnorm_dims(dim, nd)
    gk = _keep(grad, nd, list(d), keepdim).movedim(d, (-2, -1))
    rk = _keep(result, nd, list(d), keepdim).movedim(d, (-2, -1))
    m = self.movedim(d, (-2, -1))
    ord = float(ord)
    if abs(ord) == 2:
        U, S, Vh = OPS["aten::linalg_svd"].public(m.detach(), False)
        k = 0 if ord > 0 else S.shape[-1] - 1
        gx = gk * U[..., :, k:k + 1].matmul(Vh[..., k:k + 1, :])
    else:
        ax = -2 if abs(ord) == 1 else -1       # 1: column sums; inf: row sums
        other = -1 if ax == -2 else -2
        sums = m.abs().sum(ax, keepdim=True)
        mask = sums == rk
        w = mask / mask.sum(other, keepdim=True)
        gx = m.sign() * gk * w
    return gx.movedim((-2, -1), d)


@_derivative(linalg_matrix_norm)
def _mnorm_num_grad(grad, self, result, ord, dim, keepdim):
    return _matrix_norm_num_backward(grad, self, result, ord, dim, keepdim)


@_derivative(linalg_norm, linalg_norm_ord_str)
def _norm_grad(grad, self, result, ord, dim, keepdim):
    kind, o, d = _norm_plan(self.dim(), ord, dim)
    if kind == "vector":
        return _la._vector_norm_backward(grad, self, result, o, d, keepdim)
    if o == "fro":
        return _la._vector_norm_backward(grad, self, result, 2, d, keepdim)
    if o == "nuc":
        return _la._matrix_norm_grad(grad, self, result, o, d, keepdim)
    return _matrix_norm_num_backward(grad, self, result, o, d, keepdim)


def _st(A, B, upper, left=True, unitriangular=False):
    return OPS["aten::linalg_solve_triangular"].public(A, B, upper=upper, left=left,
                                                       unitriangular=unitriangular)


@_derivative(linalg_solve_triangular)
def _solve_triangular_grad(grad, self, result, upper, left, unitriangular, needs_grad):
    """PyTorch's linalg_solve_triangular_backward: gB = A^{-H} gX, gA = -gB X^H restricted
    to A's triangle (its strict triangle when unitriangular)."""
    gB = _st(self.mT, grad, not upper, left, unitriangular)
    gA = None
    if needs_grad[0]:
        gA = -(gB.matmul(result.mT)) if left else -(result.mT.matmul(gB))
        gA = gA.triu(int(unitriangular)) if upper else gA.tril(-int(unitriangular))
    return gA, (gB if needs_grad[1] else None)


def _lu_backward(gL, gU, P, L, U):
    """PyTorch's linalg_lu_backward (pivot=True, real case)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    G = _G()
    gL, gU = gL.tril(-1), gU.triu()      # L's unit diagonal and U's zeros are constants
    if m == n:
        gA = L.mT.matmul(gL).tril(-1) + gU.matmul(U.mT).triu()
        gA = _st(U.mT, gA, upper=False, left=False)
        gA = _st(L.mT, gA, upper=True, unitriangular=True)
    elif m < n:        # wide: U = [U1 U2]
        U1 = U.narrow(-1, 0, k)
        gA = L.mT.matmul(gL) - gU.triu().matmul(U.mT)
        gA = _st(U1.mT, gA.tril(-1), upper=False, left=False)
        gA = G.cat([gA + gU.narrow(-1, 0, k).triu(), gU.narrow(-1, k, n - k)], -1)
        gA = _st(L.mT, gA, upper=True, unitriangular=True)
    else:              # tall: L = [L1; L2]
        L1 = L.narrow(-2, 0, k)
        gA = gU.matmul(U.mT) - L.mT.matmul(gL)
        gA = _st(L1.mT, gA.triu(), upper=True, unitriangular=True)
        gA = G.cat([gA + gL.narrow(-2, 0, k).tril(-1), gL.narrow(-2, k, m - k)], -2)
        gA = _st(U.mT, gA, upper=False, left=False)
    return P.matmul(gA)


@_derivative(linalg_lu)
def _lu_grad(grad, result):
    P, L, U = result
    return _lu_backward(grad[1], grad[2], P, L, U)


@_derivative(linalg_lu_factor)
def _lu_factor_grad(grad, result):
    """PyTorch's lu_factor_ex_backward: LU's gradient split into L's and U's."""
    LU, piv = result
    g = grad[0]
    P, L, U = OPS["aten::lu_unpack"].public(LU.detach(), piv)
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    return _lu_backward(g.narrow(-1, 0, k), g.narrow(-2, 0, k), P, L, U)


@_derivative(lu_unpack, wrt=("LU_data",))
def _lu_unpack_grad(grad, LU_data, unpack_data):
    if not unpack_data:
        return None
    _, gL, gU = grad
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    G = _G()
    gL, gU = gL.tril(-1), gU.triu()
    if m < n:
        gL = G.cat([gL, G.zeros(gL.shape[:-1] + (n - k,), dtype=gL.dtype,
                                  device=gL.device)], -1)
    elif m > n:
        gU = G.cat([gU, G.zeros(gU.shape[:-2] + (m - k, n), dtype=gU.dtype,
                                  device=gU.device)], -2)
    return gL + gU


@_derivative(linalg_lu_solve, wrt=("LU", "B"))
def _lu_solve_grad(grad, LU, pivots, result, left, adjoint, needs_grad):
    """PyTorch's linalg_lu_solve_LU (LU's gradient) and lu_solve(..., !adjoint) (B's)."""
    solve = OPS["aten::linalg_lu_solve"].public
    gB = solve(LU, pivots, grad, left=left, adjoint=not adjoint) if needs_grad[1] else None
    if not needs_grad[0]:
        return None, gB
    X, gX = result, grad
    P, L, U = OPS["aten::lu_unpack"].public(LU.detach(), pivots)
    if left != adjoint:
        gR = _st(U.mT, -((gX if left else gX.mT).matmul(X.mT if left else X)), upper=False)
        gL = _st(L.mT, gR.matmul(U.mT), upper=True, unitriangular=True).tril(-1)
        gLU = gL + gR.triu()
    else:
        gR = -(P.mT.matmul(X if left else X.mT).matmul(gX.mT if left else gX).matmul(P))
        gR = _st(L.mT, gR, upper=True, left=False, unitriangular=True)
        gU = _st(U.mT, L.mT.matmul(gR), upper=False, left=False).triu()
        gLU = gR.tril(-1) + gU
    return gLU, gB


@_derivative(linalg_matrix_exp, matrix_exp)
def _matrix_exp_grad(grad, self):
    """PyTorch's differential of exp at A^H in the direction grad: the upper-right block
    of exp([[A^H, G], [0, A^H]])."""
    G = _G()
    n = self.shape[-1]
    At = self.mT
    top = G.cat([At, grad], -1)
    bottom = G.cat([G.zeros_like(grad), At], -1)
    big = OPS["aten::linalg_matrix_exp"].public(G.cat([top, bottom], -2))
    return big[..., :n, n:]


@_derivative(linalg_lstsq, wrt=("self", "b"))
def _lstsq_grad(grad, self, b, result, needs_grad):
    """PyTorch's linalg_lstsq_backward through pinv(A), plus the residuals' gradient (at
    the least-squares solution d residual / dX = 0): 2 (AX - B) gL X^T and -2 (AX - B) gL,
    and the singular values' (as linalg.svdvals)."""
    gX, gL = grad[0], grad[1]
    vec, *_ = _lstsq_shapes(tuple(self.shape), tuple(b.shape), self.dtype, b.dtype, None)
    X, B = result[0], b
    if vec:
        gX, X, B = gX.unsqueeze(-1), X.unsqueeze(-1), B.unsqueeze(-1)
    pinvA = OPS["aten::linalg_pinv"].public(self)
    gA = _pinv_backward(gX.matmul(B.mT), pinvA, self) if needs_grad[0] else None
    gB = pinvA.mT.matmul(gX) if needs_grad[1] else None
    if gL is not None and gL.numel() and tuple(result[1].shape) != (0,):
        r = self.matmul(X) - B
        w = r * gL.unsqueeze(-2)
        if needs_grad[0]:
            gA = gA + 2 * w.matmul(X.mT)
        if needs_grad[1]:
            gB = gB - 2 * w
    gS = grad[3]
    if needs_grad[0] and gS is not None and gS.numel():
        # PyTorch leaves singular_values without a gradient; gpujit gives svdvals' (its
        # autograd has no per-output differentiability)
        U, _, Vh = OPS["aten::linalg_svd"].public(self.detach(), False)
        gA = gA + U.matmul(_diag(gS)).matmul(Vh)
    if vec and gB is not None:
        gB = gB.squeeze(-1)
    return gA, gB


@_derivative(linalg_inv_ex)
def _inv_ex_grad(grad, result):
    r = result[0].mT
    return -(r.matmul(grad[0]).matmul(r))


@_derivative(linalg_cholesky_ex)
def _cholesky_ex_grad(grad, result, upper):
    return _cholesky_grad(grad[0], result[0], upper)


@_derivative(linalg_solve_ex)
def _solve_ex_grad(grad, A, B, result, left, needs_grad):
    return _solve_grad(grad[0], A, B, result[0], left, needs_grad)


@_derivative(cholesky_solve)
def _cholesky_solve_grad(grad, input2, result, upper, needs_grad):
    """PyTorch's cholesky_solve_backward."""
    gB = OPS["aten::cholesky_solve"].public(grad, input2, upper)
    gL = None
    if needs_grad[1]:
        c = gB.matmul(result.mT)
        c = c + c.mT
        gL = -(input2.matmul(c)) if upper else -(c.matmul(input2))
    return gB, gL


@_derivative(cholesky_inverse)
def _cholesky_inverse_grad(grad, self, result, upper):
    """PyTorch's cholesky_inverse_backward."""
    c = grad + grad.mT
    c = result.matmul(c).matmul(result)
    return -(self.matmul(c)) if upper else -(c.matmul(self))
