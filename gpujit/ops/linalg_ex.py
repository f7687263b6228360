"""`torch.linalg`'s `_ex` variants, which return LAPACK's int32 `info` instead of raising
unless check_errors (linalg.inv_ex, cholesky_ex, solve_ex), and cholesky_solve /
cholesky_inverse, with their derivatives. Split from `linalg_lu.py`, whose LU and
triangular solves they are built on (an op family in ops.FAMILIES right after it).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes
from .registry import op, OPS
from .registry import derivative as _derivative
from .linalg_decomp import (LinAlgError, _check, _check_matrix, _check_square,
                            _batch_prefix, _cholesky_grad, _dtn, _echeck, _host, _mT,
                            _not_pd_error, cholesky_factor,
                            _raising, _singular_error, _solve_dtypes, _solve_grad,
                            _solve_meta, _solve_shapes, linalg_solve)
from .linalg_lu import _LA, _lu, _not_impl, _swap_rows, _trisolve, linalg_lu_solve


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
    _check("linalg.inv", A.shape, A.dtype, True, A)
    return (TensorMeta(A.dtype, tuple(A.shape), A.device),
            TensorMeta(_dt.int32, tuple(A.shape[:-2]), A.device))


@op("aten::linalg_inv_ex(Tensor A, *, bool check_errors=False) -> (Tensor inverse, "
    "Tensor info)", tags=_LA, fortran=("inverse",), method=False, function=False, meta=_inv_ex_meta,
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
    _check("linalg.cholesky", self.shape, self.dtype, True, self)
    return (TensorMeta(self.dtype, tuple(self.shape), self.device),
            TensorMeta(_dt.int32, tuple(self.shape[:-2]), self.device))


@op("aten::linalg_cholesky_ex(Tensor self, *, bool upper=False, bool check_errors=False) "
    "-> (Tensor L, Tensor info)", tags=_LA, fortran=("L",), method=False, function=False,
    meta=_cholesky_ex_meta, namedtuple_name="linalg_cholesky_ex")
def linalg_cholesky_ex(xp, self, upper=False, check_errors=False):
    """linalg.cholesky and LAPACK's info (the order of the first leading minor that is not
    positive-definite, 0 if none) instead of an error, unless check_errors."""
    _echeck("linalg.cholesky", self)
    batch = self.shape[:-2]
    if self.size == 0:
        return self.copy(), xp.zeros(batch, np.int32)
    # (upper=True reads the upper triangle, as LAPACK's potrf('U'): the lower factor of
    # A^H, conjugate-transposed)
    mh = (lambda m: xp.conj(_mT(m))) if self.dtype.kind == "c" else _mT
    a = mh(self) if upper else self
    try:
        with _raising(xp):
            L = cholesky_factor(xp, a)
        info = xp.zeros(batch, np.int32)
    except np.linalg.LinAlgError:
        if check_errors:
            raise _not_pd_error("linalg.cholesky_ex", a) from None
        n = self.shape[-1]
        L, info = _chol_partial(xp, xp.ascontiguousarray(a).reshape((-1, n, n)))
        L, info = L.reshape(self.shape), _info_of(xp, info, batch)
    L = L.astype(self.dtype, copy=False)
    return (xp.ascontiguousarray(mh(L)) if upper else L), info


def _solve_ex_meta(A, B, left=True, check_errors=False):
    return (_solve_meta(A, B, left),
            TensorMeta(_dt.int32, tuple(A.shape[:-2]), A.device))


def _solve_ex_left(A, B, left=True, check_errors=False):
    return (0,) if left else ()       # (as linalg.solve's: linalg_decomp._solve_left)


@op("aten::linalg_solve_ex(Tensor A, Tensor B, *, bool left=True, bool check_errors=False) "
    "-> (Tensor result, Tensor info)", tags=_LA, fortran=_solve_ex_left, method=False, function=False,
    meta=_solve_ex_meta, namedtuple_name="linalg_solve_ex")
def linalg_solve_ex(xp, A, B, left=True, check_errors=False):
    """linalg.solve and LAPACK's info for A (the first zero pivot, 0 if none) instead of an
    error, unless check_errors."""
    _solve_dtypes(_dtn(A.dtype), _dtn(B.dtype), A, A.shape)
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


def _chol_solve_check(sb, sa, db, da, where=None):
    if len(sb) < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {len(sb)} "
                           f"dimensions instead")
    if len(sa) < 2:
        raise RuntimeError(f"u should have at least 2 dimensions, but has {len(sa)} "
                           f"dimensions instead")
    if db is not da:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{db.short_name} and A of type {da.short_name} instead.")
    if sa[-1] != sa[-2] or sa[-1] != sb[-2]:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{sa[-2]} by {sa[-1]} but each b matrix is {sb[-2]} by {sb[-1]}")
    shape = broadcast_shapes(tuple(sb[:-2]), tuple(sa[:-2])) + tuple(sb[-2:])
    if not da.cplx:
        _not_impl("cholesky_solve_cpu", da, where, shape)    # on cuda: by B's batch count
    return shape


def _chol_solve_meta(self, input2, upper=False):
    return TensorMeta(self.dtype, _chol_solve_check(tuple(self.shape), tuple(input2.shape),
                                                    self.dtype, input2.dtype, self),
                      self.device)


def _chol_solve(xp, b, L, upper):
    """(L L^T)^{-1} b from the lower factor L (U^T U with upper: L = U^T); one triangle of
    the factor is read."""
    # (a complex factor: A = L L^H, U^H U with upper)
    mh = (lambda m: xp.conj(_mT(m))) if L.dtype.kind == "c" else _mT
    if upper:
        L = mh(L)
    y = _trisolve(xp, L, b, False, False)
    return _trisolve(xp, mh(L), y, True, False)


@op("aten::cholesky_solve(Tensor self, Tensor input2, bool upper=False) -> Tensor",
    tags=_LA, fortran=(0,), meta=_chol_solve_meta)
def cholesky_solve(xp, self, input2, upper=False):
    """torch.cholesky_solve(B, L): A X = B for A = L L^T (U^T U with upper)."""
    shape = _chol_solve_check(self.shape, input2.shape, _dtn(self.dtype), _dtn(input2.dtype),
                              self)
    n = input2.shape[-1]
    b = xp.broadcast_to(self, shape)
    L = xp.broadcast_to(input2, shape[:-2] + (n, n))
    if b.size == 0:
        return xp.zeros(shape, self.dtype)
    return xp.ascontiguousarray(_chol_solve(xp, b, L, upper).astype(self.dtype, copy=False))


def _chol_inverse_check(shape, d, where=None):
    _check_matrix("cholesky_inverse", shape)
    _check_square("cholesky_inverse", shape)
    if not d.cplx:
        _not_impl("cholesky_inverse_out_cpu", d, where, shape)


@op("aten::cholesky_inverse(Tensor self, bool upper=False) -> Tensor", tags=_LA, fortran=(0,),
    meta=lambda self, upper=False: TensorMeta(
        self.dtype, (_chol_inverse_check(tuple(self.shape), self.dtype, self),
                     tuple(self.shape))[1], self.device))
def cholesky_inverse(xp, self, upper=False):
    """torch.cholesky_inverse(L): (L L^T)^{-1} (U^T U with upper)."""
    _chol_inverse_check(self.shape, _dtn(self.dtype), self)
    if self.size == 0:
        return self.copy()
    d = xp.diagonal(self, axis1=-2, axis2=-1)
    if (d == 0).any():
        # PyTorch inverts the triangular factor first (LAPACK's potri: trtri's info, the
        # first zero on the diagonal, is its error)
        h = _host(d).reshape(-1, d.shape[-1])
        i = int(np.argmax((h == 0).any(-1)))
        k = int(np.argmax(h[i] == 0)) + 1
        raise LinAlgError(f"cholesky_inverse: {_batch_prefix(self, i)}The diagonal element "
                          f"{k} is zero, the inversion could not be completed because the "
                          f"input matrix is singular.")
    n = self.shape[-1]
    eye = xp.broadcast_to(xp.eye(n, dtype=self.dtype), self.shape)
    return xp.ascontiguousarray(_chol_solve(xp, eye, self, upper).astype(self.dtype,
                                                                         copy=False))


# --------------------------------------------------------------------------------------
# derivatives (PyTorch's formulas), written with registry ops


@_derivative(linalg_inv_ex)
def _inv_ex_grad(grad, result):
    r = result[0].mT
    return -(r.matmul(grad[0]).matmul(r))


@_derivative(linalg_cholesky_ex)
def _cholesky_ex_grad(grad, result, upper):
    return _cholesky_grad(grad[0], result[0], upper)


@_derivative(linalg_solve_ex)
def _solve_ex_grad(grad, A, B_shape, result, left, needs_grad):
    return _solve_grad(grad[0], A, B_shape, result[0], left, needs_grad)


@_derivative(cholesky_solve)
def _cholesky_solve_grad(grad, input2, result, upper, needs_grad):
    """PyTorch's cholesky_solve_backward (conjugate transposes: a real matrix's mH is its
    transpose)."""
    gB = OPS["aten::cholesky_solve"].public(grad, input2, upper)
    gL = None
    if needs_grad[1]:
        c = gB.matmul(result.mH)
        c = c + c.mH
        gL = -(input2.matmul(c)) if upper else -(c.matmul(input2))
    return gB, gL


@_derivative(cholesky_inverse)
def _cholesky_inverse_grad(grad, self, result, upper):
    """PyTorch's cholesky_inverse_backward (grad + grad^H)."""
    c = grad + grad.mH
    c = result.matmul(c).matmul(result)
    return -(self.matmul(c)) if upper else -(c.matmul(self))
