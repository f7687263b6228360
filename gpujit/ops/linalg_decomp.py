"""`torch.linalg`, the shared part and the first decompositions: LinAlgError, the dtype /
shape checks and error helpers every linalg family module uses, inverses, determinants
(linalg.inv, det, slogdet, logdet; torch.inverse, det), linalg.solve, linalg.cholesky and
linalg.qr, with their derivatives and the derivative helpers (_inv, _eye_like, _diag).
The other `torch.linalg` families: linalg_lu.py (triangular solves, LU), linalg_ex.py (the
`_ex` variants, cholesky_solve / cholesky_inverse), linalg_spectral.py (SVD, eigh, pinv, matrix_rank, lstsq)
and linalg_matfn.py (matrix_power, matrix_exp, cross / vecdot / trace, multi_dot, norms).

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

import numpy as np

from .. import dtypes as _dt
from .kernel_names import linalg_kernel_name
from .meta import TensorMeta, broadcast_shapes
from .registry import op, OPS
from .registry import derivative as _derivative

PUBLIC = {}

_LA = {"linalg"}


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a singular or not positive-definite input, or a
    decomposition that did not converge. PyTorch's class is torch._C._LinAlgError
    (`type(e).__name__` is '_LinAlgError', its module torch._C), bound to the name
    torch.linalg.LinAlgError; gpujit's is spelt the same (gpujit._C._LinAlgError)."""


LinAlgError.__module__ = "gpujit._C"
LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"


def _dtn(npdt):
    return _dt._FROM_NP[np.dtype(npdt)]


# ------------------------------------------------------------------ checks (meta + eager)

# The LAPACK kernel PyTorch dispatches to, where its dtype check (not the op's own) refuses
# float16 -- and, for the ops in _KERNEL_CHECKS_ALL, integers and bool too -- with a
# NotImplementedError ('"lu_cpu" not implemented for 'Half''; a RuntimeError subclass).
_KERNEL = {"linalg.solve": "lu_cpu", "linalg.det": "lu_cpu", "linalg.cholesky": "cholesky_cpu",
           "linalg.qr": "geqrf_cpu", "linalg.eigh": "linalg_eigh_cpu",
           "linalg.eigvalsh": "linalg_eigh_cpu", "linalg.svd": "linalg_svd_cpu",
           "linalg.svdvals": "linalg_svd_cpu", "torch.geqrf": "geqrf_cpu",
           "torch.linalg.householder_product": "orgqr_cpu"}
_KERNEL_CHECKS_ALL = {"linalg.eigh", "linalg.eigvalsh", "torch.geqrf",
                      "torch.linalg.householder_product"}


def _check_float(name, d, where=None, shape=(), **facts):
    """d: gpujit dtype; where: the input (its device names the kernel), shape its shape,
    facts what else picks the CUDA kernel (kernel_names.linalg_kernel_name)."""
    if d.category < _dt.FLOATING:
        if name in _KERNEL_CHECKS_ALL:
            raise NotImplementedError(
                f"\"{linalg_kernel_name(_KERNEL[name], where, shape, **facts)}\" not "
                f"implemented for '{d.short_name}'")
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {d.short_name}")
    if d is _dt.float16:
        if name in _KERNEL:
            raise NotImplementedError(
                f"\"{linalg_kernel_name(_KERNEL[name], where, shape, **facts)}\" not "
                f"implemented for 'Half'")
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


def _check(name, shape, d, square=True, where=None, **facts):
    _check_float(name, d, where, shape, **facts)
    (_check_square if square else _check_matrix)(name, shape)


def _echeck(name, a, square=True, **facts):
    _check(name, a.shape, _dtn(a.dtype), square, a, **facts)


def _meta1(name, square=True, shape=None, real=False):
    """meta of an op of one matrix argument returning one tensor of the same dtype (real:
    its real dtype, a complex matrix's singular values)."""
    def meta(A, *args, **kwargs):
        _check(name, A.shape, A.dtype, square, A,
               **({"driver": kwargs["driver"]} if kwargs.get("driver") else {}))
        s = tuple(A.shape) if shape is None else shape(tuple(A.shape))
        return TensorMeta(A.dtype.to_real() if real else A.dtype, s, A.device)
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


def cholesky_factor(xp, a):
    """xp.linalg.cholesky(a), raising NumPy's LinAlgError also where a NaN reached a pivot
    (LAPACK's potrf stops there, `ajj <= 0 || isnan(ajj)`: PyTorch reports the matrix not
    positive-definite; NumPy and CuPy hand back the NaNs)."""
    L = xp.linalg.cholesky(a)
    if xp.isnan(xp.diagonal(L, axis1=-2, axis2=-1)).any():
        raise np.linalg.LinAlgError("a NaN pivot")
    return L


def _not_pd_error(name, a):
    h = _host(a)
    mats = h.reshape((-1,) + h.shape[-2:])
    for i, m in enumerate(mats):
        for k in range(1, m.shape[0] + 1):
            try:
                cholesky_factor(np, m[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(
                    f"{name}: {_batch_prefix(h, i)}The factorization could not be completed "
                    f"because the input is not positive-definite (the leading minor of "
                    f"order {k} is not positive-definite).")
    return LinAlgError(f"{name}: The factorization could not be completed because the input "
                       f"is not positive-definite.")


def _failing_element(h, fn, **kw):
    """(index, matrix) of the first matrix of the host batch h on which NumPy's fn fails."""
    mats = h.reshape((-1,) + h.shape[-2:])
    for i, m in enumerate(mats):
        try:
            fn(m, **kw)
        except np.linalg.LinAlgError:
            return i
    return 0


# PyTorch's words (_linalg_check_errors) where LAPACK's SVD / symmetric eigensolver fails
# to converge (a NaN in the input): NumPy raises its own LinAlgError (a ValueError) there.
# LAPACK's error code of the eigensolver (the number of off-diagonal elements that did not
# converge) is not NumPy's to report, so the eigh words end before it.
_NOT_CONVERGED = {
    "svd": "linalg.svd: {pre}The algorithm failed to converge because the input matrix "
           "contained non-finite values.",
    "eigh": "linalg.eigh: {pre}The algorithm failed to converge because the input matrix is "
            "ill-conditioned or has too many repeated eigenvalues."}


def la_svd(xp, A, **kw):
    """xp.linalg.svd(A, **kw), failing as PyTorch's linalg.svd (every op that runs an SVD:
    svdvals, pinv, matrix_rank, matrix norms, cond, lstsq's SVD says linalg.svd)."""
    return _converging(xp, xp.linalg.svd, A, "svd", np.linalg.svd, kw)


def la_eigh(xp, A, values_only=False, **kw):
    """xp.linalg.eigh / eigvalsh(A, **kw), failing as PyTorch's linalg.eigh (eigvalsh and
    the hermitian pinv / matrix_rank too)."""
    if values_only:
        return _converging(xp, xp.linalg.eigvalsh, A, "eigh", np.linalg.eigvalsh, kw)
    return _converging(xp, xp.linalg.eigh, A, "eigh", np.linalg.eigh, kw)


def _converging(xp, fn, A, kind, host_fn, kw):
    # (CuPy's solvers are not asked to raise here: where cuSOLVER gives NaN, so does it.)
    try:
        return fn(A, **kw)
    except np.linalg.LinAlgError:
        h = _host(A)
        i = _failing_element(h, host_fn, **kw)
        raise LinAlgError(_NOT_CONVERGED[kind].format(pre=_batch_prefix(h, i))) from None


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

@op("aten::linalg_inv(Tensor A) -> Tensor", tags=_LA, fortran=(0,), method="inverse", function="inverse",
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
    # (a complex matrix's sign is complex, of modulus 1; logabsdet is real)
    real = np.empty(0, A.dtype).real.dtype
    if A.shape[-1] == 0:
        return xp.ones(A.shape[:-2], A.dtype), xp.zeros(A.shape[:-2], real)
    s, l = xp.linalg.slogdet(A)
    return xp.asarray(s).astype(A.dtype, copy=False), xp.asarray(l).astype(real, copy=False)


def _slogdet_meta(A):
    m = _meta1("linalg.slogdet", shape=_batch)(A)
    return m, TensorMeta(m.dtype.to_real(), m.shape, m.device)


@op("aten::linalg_slogdet(Tensor A) -> (Tensor sign, Tensor logabsdet)", tags=_LA,
    method=False, function=False, meta=_slogdet_meta, namedtuple_name="linalg_slogdet")
def linalg_slogdet(xp, A):
    _echeck("linalg.slogdet", A)
    return _slogdet(xp, A)


@op("aten::logdet(Tensor self) -> Tensor", tags=_LA, meta=_meta1("logdet", shape=_batch))
def logdet(xp, self):
    _echeck("logdet", self)
    s, l = _slogdet(xp, self)
    if self.dtype.kind == "c":          # (PyTorch: sign.log() + logabsdet, complex)
        with np.errstate(divide="ignore"):
            return (xp.log(s) + l).astype(self.dtype, copy=False)
    # log of a negative determinant is NaN; of a zero one -inf (slogdet's logabsdet)
    return xp.where(s < 0, xp.asarray(np.nan, self.dtype), l).astype(self.dtype, copy=False)


def _logdet_composite(self):
    """logdet recording gradients: PyTorch's composite, where(sign == -1, nan, logabsdet)
    of linalg.slogdet (WhereBackward0 -> (None, LinalgSlogdetBackward0))."""
    logdet.op.meta(self)
    from .registry import OPS
    sign, logabsdet = OPS["aten::linalg_slogdet"].public(self)
    if self._dtype.cplx:
        return sign.log() + logabsdet
    return OPS["aten::where.self"].public(sign == -1.0, float("nan"), logabsdet)


logdet.op.composite = _logdet_composite


# ------------------------------------------------------------------ solve

def _solve_shapes(sa, sb, left):
    """(vector case?, result shape) as torch.linalg.solve: B is a (batch of) vector(s) when
    it is 1-D or its shape is A's without the last dim."""
    sa, sb = tuple(sa), tuple(sb)
    _check_square("linalg.solve", sa)
    if not sb:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
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


def _solve_dtypes(da, db, where=None, shape=()):
    _check_float("linalg.solve", da, where, shape)
    if da is not db:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {da.short_name} and B of type {db.short_name} instead")


def _solve_meta(A, B, left=True):
    _solve_dtypes(A.dtype, B.dtype, A, A.shape)
    _, shape = _solve_shapes(A.shape, B.shape, left)
    return TensorMeta(A.dtype, shape, A.device)


def _solve_left(A, B, left=True):
    """The returns PyTorch lays out column-major per matrix (registry `fortran=`): the
    solution of A X = B; that of X A = B (left=False) is C-contiguous."""
    return (0,) if left else ()


@op("aten::linalg_solve(Tensor A, Tensor B, *, bool left=True) -> Tensor", tags=_LA, fortran=_solve_left,
    method=False, function=False, meta=_solve_meta)
def linalg_solve(xp, A, B, left=True):
    _solve_dtypes(_dtn(A.dtype), _dtn(B.dtype), A, A.shape)
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

@op("aten::linalg_cholesky(Tensor self, *, bool upper=False) -> Tensor", tags=_LA, fortran=(0,),
    method=False, function=False, meta=_meta1("linalg.cholesky"))
def linalg_cholesky(xp, self, upper=False):
    return _cholesky(xp, self, upper, "linalg.cholesky")


def _cholesky(xp, self, upper, name):
    """linalg.cholesky; name: the op its not-positive-definite error names."""
    _echeck("linalg.cholesky", self)
    if self.size == 0:
        return self.copy()
    # (upper=True reads the upper triangle, as LAPACK's potrf('U'): the lower factor of A^H,
    # conjugate-transposed)
    a = self if not upper else _mT(xp.conj(self) if self.dtype.kind == "c" else self)
    L = _call(xp, cholesky_factor, xp, a, error=lambda: _not_pd_error(name, a))
    if not upper:
        return L
    return xp.ascontiguousarray(_mT(xp.conj(L) if L.dtype.kind == "c" else L))


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
    _check("linalg.qr", A.shape, A.dtype, False, A)
    _qr_mode(mode)
    sq, sr = _qr_shapes(tuple(A.shape), mode)
    return TensorMeta(A.dtype, sq, A.device), TensorMeta(A.dtype, sr, A.device)


@op("aten::linalg_qr(Tensor A, str mode='reduced') -> (Tensor Q, Tensor R)", tags=_LA, fortran=("Q", "R"),
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


# --------------------------------------------------------------------------------------
# derivatives (PyTorch's formulas, tools/autograd/derivatives.yaml / FunctionsManual.cpp),
# written with registry ops


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


@_derivative(linalg_slogdet, computes={
    "sign": lambda A, result: result[0] if A.is_complex() else None})
def _slogdet_grad(grad, A, sign=None):
    g = grad[1]       # the sign of a real A is piecewise constant
    if sign is None:
        return g.unsqueeze(-1).unsqueeze(-1) * _inv(A).mT
    # a complex A's sign moves with its phase (PyTorch's slogdet_backward): (g_logabsdet +
    # i Im(g_sign conj(sign))) A^-H
    g = g + 1j * (grad[0] * sign.conj()).imag
    return g.unsqueeze(-1).unsqueeze(-1) * _inv(A).mH


# PyTorch's logdet is where(sign == -1, nan, logabsdet) of slogdet: a negative
# determinant's NaN gets no gradient (the where's), and the output is not kept
@_derivative(logdet)
def _logdet_grad(grad, self):
    negative = OPS["aten::linalg_slogdet"].public(self.detach())[0] < 0
    return (grad.masked_fill(negative, 0).unsqueeze(-1).unsqueeze(-1)) * _inv(self).mT


@_derivative(linalg_solve)
def _solve_grad(grad, A, B_shape, result, left, needs_grad):
    # (B's shape only: PyTorch keeps A, the factorization and the result, not B)
    solve = OPS["aten::linalg_solve"].public
    vec, _ = _solve_shapes(tuple(A.shape), tuple(B_shape), left)
    gB = solve(A.mT, grad, left=left)
    gA = None
    if needs_grad[0]:
        gm = gB.unsqueeze(-1) if vec else gB
        x = result.unsqueeze(-1) if vec else result
        gA = -(gm.matmul(x.mT)) if left else -(x.mT.matmul(gm))
    return gA, gB


@_derivative(linalg_cholesky)
def _cholesky_grad(grad, result, upper):
    if result._dtype.cplx:
        return _complex_cholesky_grad(grad, result, upper)
    L, gL = (result.mT, grad.mT) if upper else (result, grad)
    phi = L.mT.matmul(gL).tril()
    phi = phi - 0.5 * phi * _eye_like(phi)
    Linv = _inv(L)
    gA = Linv.mT.matmul(phi).matmul(Linv)
    return 0.5 * (gA + gA.mT)


def _complex_cholesky_grad(grad, result, upper):
    """PyTorch's cholesky_backward (Iain Murray, arXiv 1602.07527) for a complex L:
    tril(L^H gL), halved off the diagonal into its Hermitian part, then L^-H (.) L^-1."""
    L, gL = (result.mH, grad.mH) if upper else (result, grad)
    gA = L.mH.matmul(gL).tril()
    gA = 0.5 * (gA + gA.tril(-1).mH)
    st = OPS["aten::linalg_solve_triangular"].public
    gA = st(L.mH, gA, upper=True, left=True)
    return st(L, gA, upper=False, left=False)


@_derivative(linalg_qr)
def _qr_grad(grad, A_shape, result, mode):
    """PyTorch's linalg_qr_backward for the reduced case with m >= n (the other cases
    raise, as in PyTorch for m < n with complete mode)."""
    Q, R = result
    gQ, gR = grad
    m, n = A_shape[-2], A_shape[-1]
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
    # gA = [gQ + Q copyltu(M)] R^{-H}, M = R gR^H - gQ^H Q (of a complex Q, R: the
    # Hermitian copy, the real part of M's diagonal; mH is a real matrix's transpose)
    M = R.matmul(gR.mH) - gQ.mH.matmul(Q)
    low = M.tril(-1)
    diag = M * _eye_like(M)
    if diag._dtype.cplx:
        diag = diag.real.to(M.dtype)
    M = low + low.mH + diag
    b = gQ + Q.matmul(M)
    return b.matmul(_inv(R).mH)
