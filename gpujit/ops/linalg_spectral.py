"""`torch.linalg` spectral decompositions and what is computed from them: linalg.svd /
svdvals and torch.svd, linalg.eigh / eigvalsh, linalg.pinv and torch.pinverse,
linalg.matrix_rank and linalg.lstsq, with their derivatives. Checks and errors are
linalg_decomp.py's.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .memory_format import c_layout, fortran_layout
from .meta import TensorMeta, broadcast_shapes
from .registry import op, OPS
from .registry import derivative as _derivative
from .linalg_decomp import (_G, _check, _diag, _dtn, _echeck, _eye_like, _host, _mT, _meta1,
                            la_eigh, la_svd)

_LA = {"linalg"}


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
        return u, xp.zeros(ss, _real_np(A.dtype)), v
    u, s, vh = la_svd(xp, A, full_matrices=full)
    return (u.astype(A.dtype, copy=False), s.astype(_real_np(A.dtype), copy=False),
            vh.astype(A.dtype, copy=False))


def _real_np(dt):
    """The real dtype of a NumPy dtype (a complex matrix's singular values are real)."""
    return np.empty(0, dt).real.dtype


def _svd_metas(A, shapes):
    return tuple(TensorMeta(A.dtype.to_real() if k == 1 else A.dtype, s, A.device)
                 for k, s in enumerate(shapes))


def _svd_meta(A, full_matrices=True, driver=None):
    _check("linalg.svd", A.shape, A.dtype, False, A, driver=driver)
    return _svd_metas(A, _svd_shapes(tuple(A.shape), full_matrices))


@op("aten::linalg_svd(Tensor A, bool full_matrices=True, *, str? driver=None) -> "
    "(Tensor U, Tensor S, Tensor Vh)", tags=_LA, fortran=("U", "Vh"), method=False, function=False,
    meta=_svd_meta, namedtuple_name="linalg_svd")
def linalg_svd(xp, A, full_matrices=True, driver=None):
    _echeck("linalg.svd", A, square=False, driver=driver)
    return _svd(xp, A, full_matrices)


def _svdvals(xp, A):
    if A.size == 0:
        return xp.zeros(_svd_shapes(A.shape, False)[1], _real_np(A.dtype))
    return la_svd(xp, A, compute_uv=False).astype(_real_np(A.dtype), copy=False)


@op("aten::linalg_svdvals(Tensor A, *, str? driver=None) -> Tensor", tags=_LA, method=False,
    function=False,
    meta=_meta1("linalg.svdvals", square=False, shape=lambda s: _svd_shapes(s, False)[1],
                real=True))
def linalg_svdvals(xp, A, driver=None):
    _echeck("linalg.svdvals", A, square=False, driver=driver)
    return _svdvals(xp, A)


def _old_svd_shapes(shape, some, compute_uv):
    su, ss, sv = _svd_shapes(shape, some is False or not compute_uv)
    return su, ss, sv[:-2] + (sv[-1], sv[-2])


def _old_svd_meta(self, some=True, compute_uv=True):
    _check("linalg.svd", self.shape, self.dtype, False, self)
    return _svd_metas(self, _old_svd_shapes(tuple(self.shape), some, compute_uv))


@op("aten::svd(Tensor self, bool some=True, bool compute_uv=True) -> (Tensor U, Tensor S, "
    "Tensor V)", tags=_LA, fortran=lambda self, some=True, compute_uv=True: (
        ("U",) if compute_uv else ("V",)), meta=_old_svd_meta, namedtuple_name="svd")
def svd(xp, self, some=True, compute_uv=True):
    """torch.svd (deprecated by PyTorch for linalg.svd): V rather than Vh; without
    compute_uv, U and V are zero (full-size) matrices."""
    _echeck("linalg.svd", self, square=False)
    if not compute_uv:
        su, ss, sv = _old_svd_shapes(self.shape, some, False)
        return xp.zeros(su, self.dtype), _svdvals(xp, self), xp.zeros(sv, self.dtype)
    u, s, vh = _svd(xp, self, not some)
    return u, s, xp.ascontiguousarray(_mT(xp.conj(vh) if vh.dtype.kind == "c" else vh))


def _svd_composite(self, some=True, compute_uv=True):
    """torch.svd recording gradients: torch's composite of linalg.svd, V = Vh.mH
    (LinalgSvdBackward0 for U and S, TransposeBackward0 for V); without compute_uv, S of
    linalg.svdvals and zero U and V that require no grad."""
    if compute_uv:
        u, s, vh = OPS["aten::linalg_svd"].public(self, not some)
        return svd.op.namedtuple(u, s, vh.mH)
    s = OPS["aten::linalg_svdvals"].public(self)
    with_grad = OPS["aten::svd"].eager(self.detach(), some, False)
    return svd.op.namedtuple(with_grad[0], s, with_grad[2])


svd.op.composite = _svd_composite


# ------------------------------------------------------------------ eigh

def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def _eigh_meta(self, UPLO="L"):
    _check("linalg.eigh", self.shape, self.dtype, True, self)
    _uplo(UPLO)
    # (a Hermitian matrix's eigenvalues are real)
    return (TensorMeta(self.dtype.to_real(), tuple(self.shape[:-1]), self.device),
            TensorMeta(self.dtype, tuple(self.shape), self.device))


@op("aten::linalg_eigh(Tensor self, str UPLO=\"L\") -> (Tensor eigenvalues, "
    "Tensor eigenvectors)", tags=_LA, fortran=("eigenvectors",), method=False, function=False, meta=_eigh_meta,
    namedtuple_name="linalg_eigh")
def linalg_eigh(xp, self, UPLO="L"):
    _echeck("linalg.eigh", self)
    _uplo(UPLO)
    if self.size == 0:
        return xp.zeros(self.shape[:-1], _real_np(self.dtype)), self.copy()
    w, v = la_eigh(xp, self, UPLO=UPLO)
    return w.astype(_real_np(self.dtype), copy=False), v.astype(self.dtype, copy=False)


def _eigvalsh_meta(self, UPLO="L"):
    return _eigh_meta(self, UPLO)[0]


@op("aten::linalg_eigvalsh(Tensor self, str UPLO=\"L\") -> Tensor", tags=_LA, method=False,
    function=False, meta=_eigvalsh_meta)
def linalg_eigvalsh(xp, self, UPLO="L"):
    _echeck("linalg.eigvalsh", self)
    _uplo(UPLO)
    if self.size == 0:
        return xp.zeros(self.shape[:-1], _real_np(self.dtype))
    return la_eigh(xp, self, True, UPLO=UPLO).astype(_real_np(self.dtype), copy=False)


# ------------------------------------------------------------------ pinv, matrix_rank

def _tols(dtype, m, n, atol, rtol):
    """torch's defaults: rtol = eps * max(m, n) when neither is given; 0 when only atol is."""
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else float(np.finfo(dtype).eps) * max(m, n)
    return (0.0 if atol is None else float(atol)), float(rtol)


def _spectrum(xp, A, hermitian):
    """(values whose magnitudes are the singular values, left factor, right factor)."""
    if hermitian:
        w, v = la_eigh(xp, A)
        return w, v, _mH(xp, v)
    u, s, vh = la_svd(xp, A, full_matrices=False)
    return s, u, vh


def _mH(xp, a):
    """The conjugate transpose (the transpose of a real matrix)."""
    return xp.conj(_mT(a)) if a.dtype.kind == "c" else _mT(a)


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
    r = xp.matmul(_mH(xp, vh) * sinv[..., None, :], _mH(xp, u))
    return r.astype(A.dtype, copy=False)


def _pinv_shape(s):
    return s[:-2] + (s[-1], s[-2])


def _pinv_meta(self, atol=None, rtol=None, hermitian=False):
    _check_pinv(self.shape, self.dtype)
    return TensorMeta(self.dtype, _pinv_shape(tuple(self.shape)), self.device)


def _check_pinv(shape, d, name="linalg.pinv"):
    if len(shape) < 2 or d not in (_dt.float32, _dt.float64, _dt.complex64, _dt.complex128):
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


def _rank_check(shape, d):
    """linalg.matrix_rank's checks, as PyTorch's (its rank, then its tolerance kernel's
    dtype check: float32 / float64 only, whatever the input)."""
    if len(shape) < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at "
                           "least 2 dimensions.")
    if d not in (_dt.float32, _dt.float64, _dt.complex64, _dt.complex128):
        raise RuntimeError("This function doesn't handle types other than float and double")


def _rank_meta(input, atol=None, rtol=None, hermitian=False):
    _rank_check(input.shape, input.dtype)
    return TensorMeta(_dt.int64, tuple(input.shape[:-2]), input.device)


@op("aten::linalg_matrix_rank(Tensor input, *, float? atol=None, float? rtol=None, "
    "bool hermitian=False) -> Tensor", tags=_LA, method=False, function=False,
    meta=_rank_meta)
def linalg_matrix_rank(xp, input, atol=None, rtol=None, hermitian=False):
    _rank_check(input.shape, _dtn(input.dtype))
    m, n = input.shape[-2:]
    if input.size == 0:
        return xp.zeros(input.shape[:-2], np.int64)
    atol, rtol = _tols(input.dtype, m, n, atol, rtol)
    if hermitian:
        mag = xp.abs(la_eigh(xp, input, True))
    else:
        mag = la_svd(xp, input, compute_uv=False)
    tol = xp.maximum(atol, rtol * mag.max(-1, keepdims=True))
    return (mag > tol).sum(-1).astype(np.int64)


# ------------------------------------------------------------------ lstsq

_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


_LSTSQ_DTYPES = (_dt.float32, _dt.float64, _dt.complex64, _dt.complex128)


def _lstsq_check(sa, sb, da, db, driver):
    if da not in _LSTSQ_DTYPES or db not in _LSTSQ_DTYPES:
        raise RuntimeError("This function doesn't handle types other than float and double")
    if da is not db:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {da.short_name} and other's dtype "
                           f"{db.short_name}")
    if len(sa) < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if not 0 <= len(sa) - len(sb) <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
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
    # (a complex system's residuals and singular values are real)
    return (TensorMeta(d, sol, self.device), TensorMeta(d.to_real(), res, self.device),
            TensorMeta(_dt.int64, rank, self.device), TensorMeta(d.to_real(), sv, self.device))


@op("aten::linalg_lstsq(Tensor self, Tensor b, float? rcond=None, *, str? driver=None) -> "
    "(Tensor solution, Tensor residuals, Tensor rank, Tensor singular_values)", tags=_LA,
    method=False, function=False, meta=_lstsq_meta, namedtuple_name="linalg_lstsq",
    nondiff_outputs=("singular_values",))
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
    real = _real_np(self.dtype)
    if A.size == 0:
        s = xp.zeros(A.shape[:-2] + (min(m, n),), real)
        X = xp.zeros(batch + (n, k), self.dtype)
        r = xp.zeros(A.shape[:-2], np.int64)
    else:
        u, s, vh = la_svd(xp, A, full_matrices=False)
        keep = s > rcond * s.max(-1, keepdims=True)
        sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0)
        X = xp.matmul(_mH(xp, vh) * sinv[..., None, :], xp.matmul(_mH(xp, u), B))
        X = xp.broadcast_to(X, batch + (n, k))
        r = keep.sum(-1).astype(np.int64)
    X = X.astype(self.dtype, copy=False)
    e = xp.zeros((0,), real)
    residuals = e
    if res != (0,) and (driver == "gels" or bool(_host((r == n).all()))):
        d = xp.matmul(A, X) - B
        d = xp.abs(d) if d.dtype.kind == "c" else d         # (|d|^2, real)
        residuals = (d * d).sum(-2).astype(real, copy=False)
    rank = xp.zeros((0,), np.int64) if driver == "gels" else xp.asarray(r)
    sv = s.astype(real, copy=False) if sv_s != (0,) else e.copy()
    # the solution as PyTorch's LAPACK leaves it: the top n rows of its column-major
    # (..., max(m, n), k) right-hand side buffer; the other results C-contiguous
    if vec:         # (the top n of the (..., max(m, n)) buffer)
        X = fortran_layout(xp, X, rows=max(m, n))[..., 0]
    else:
        X = fortran_layout(xp, X, rows=max(m, n))
    return (X, c_layout(xp, residuals), c_layout(xp, rank),
            c_layout(xp, xp.ascontiguousarray(sv)))


# --------------------------------------------------------------------------------------
# derivatives (PyTorch's formulas, tools/autograd/derivatives.yaml / FunctionsManual.cpp),
# written with registry ops


def _eigh_backward(gL, gV, L, V):
    """V (diag(gL) + skew(V^H gV) / (L_j - L_i)) V^H (gV None: eigenvalues only); of a
    complex V (Hermitian A) PyTorch's check that the loss does not depend on the
    eigenvectors' phases (the imaginary diagonal of V^H gV)."""
    inner = _diag(gL) if gL is not None else None
    if inner is not None and V._dtype.cplx:
        inner = inner.to(V.dtype)
    if gV is not None:
        vg = V.mH.matmul(gV)
        if V._dtype.cplx and not bool((vg.diagonal(0, -2, -1).imag.abs() <= 1e-2).all()):
            raise RuntimeError("linalg_eigh_backward: The eigenvectors in the complex case "
                               "are specified up to multiplication by e^{i phi}. The "
                               "specified loss function depends on this quantity, so it is "
                               "ill-defined.")
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        eye = _eye_like(L.unsqueeze(-1).expand(*L.shape, L.shape[-1]))
        F = (eye == 0) / (E + eye)
        t = 0.5 * (vg - vg.mH) * F
        inner = t if inner is None else inner + t
    return V.matmul(inner).matmul(V.mH)


@_derivative(linalg_eigh)
def _eigh_grad(grad, result):
    L, V = result
    return _eigh_backward(grad[0], grad[1], L, V)


# eigvalsh and svdvals keep the eigenvectors / singular vectors their forward computes
# (PyTorch's: linalg_eigh / _linalg_svd with the vectors when a gradient is needed), not
# the input: a write into it after the op is no error. Their output is kept too (unread),
# as PyTorch's decomposition keeps its values: writing it before backward raises
@_derivative(linalg_eigvalsh, computes={
    "V": lambda self, UPLO: OPS["aten::linalg_eigh"].public(self, UPLO)[1]})
def _eigvalsh_grad(grad, V, result):
    d = _diag(grad)
    return V.matmul(d.to(V.dtype) if V._dtype.cplx else d).matmul(V.mH)


@_derivative(linalg_svdvals, computes={
    "uv": lambda A: list(OPS["aten::linalg_svd"].public(A, False))[::2]})
def _svdvals_grad(grad, uv, result):
    U, Vh = uv
    return (U * grad.unsqueeze(-2)).matmul(Vh)


def _svd_backward(gU, gS, gVh, U, S, Vh, full_matrices):
    """PyTorch's svd_backward for the reduced SVD (a complex one: conjugate transposes,
    the phase check and the i Im(diag(U^H gU)) / S term of its diagonal)."""
    m, n = U.shape[-2], Vh.shape[-1]
    if full_matrices and m != n:
        raise RuntimeError("linalg.svd: the derivative of the SVD with full_matrices=True "
                           "of a non-square matrix is not defined (PyTorch: use "
                           "full_matrices=False)")
    cplx = U._dtype.cplx
    if gU is None and gVh is None:
        d = _diag(gS)
        return U.matmul(d.to(U.dtype) if cplx else d).matmul(Vh)
    V = Vh.mH
    gV = gVh.mH if gVh is not None else None
    k = S.shape[-1]
    UhgU = U.mH.matmul(gU) if gU is not None else None
    VhgV = Vh.matmul(gV) if gV is not None else None
    if cplx:
        # (PyTorch's check: the loss must not depend on the singular vectors' phases)
        im = 0
        if UhgU is not None:
            im = UhgU.diagonal(0, -2, -1).imag
        if VhgV is not None:
            im = im + VhgV.diagonal(0, -2, -1).imag
        if not bool((_G().as_tensor(im).abs() <= 1e-2).all()):
            raise RuntimeError("svd_backward: The singular vectors in the complex case are "
                               "specified up to multiplication by e^{i phi}. The specified "
                               "loss function depends on this phase term, making it "
                               "ill-defined.")
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    eye = _G().eye(k, dtype=S.dtype, device=S.device)
    E = E + eye               # the diagonal is not used (skew parts vanish there)
    ret = None
    if gU is not None:
        skew_u = UhgU - UhgU.mH
        ret = (skew_u * S.unsqueeze(-2)) / E * (eye == 0)
        if cplx:        # (the phase part of the diagonal: i Im(diag(U^H gU)) / S)
            ret = ret + _diag(UhgU.diagonal(0, -2, -1).imag / S) * 1j
    if gV is not None:
        skew_v = VhgV - VhgV.mH
        t = (S.unsqueeze(-1) * skew_v) / E * (eye == 0)
        ret = t if ret is None else ret + t
    if gS is not None:
        ret = ret + _diag(gS)
    gA = U.matmul(ret).matmul(Vh)
    Sinv = 1 / S
    if gU is not None and m > k:
        gA = gA + (gU - U.matmul(UhgU)).matmul(Sinv.unsqueeze(-1) * Vh)
    if gV is not None and n > k:
        gA = gA + (U * Sinv.unsqueeze(-2)).matmul((gV - V.matmul(VhgV)).mH)
    return gA


@_derivative(linalg_svd)
def _svd_grad(grad, result, full_matrices):
    U, S, Vh = result
    return _svd_backward(grad[0], grad[1], grad[2], U, S, Vh, full_matrices)


@_derivative(svd)
def _old_svd_grad(grad, result, some, compute_uv):
    if not compute_uv:
        raise RuntimeError("svd: Setting compute_uv to false in torch.svd doesn't compute "
                           "singular matrices, and hence we cannot compute backward. Please "
                           "use torch.svd(compute_uv=True)")
    U, S, V = result
    gV = grad[2]
    return _svd_backward(grad[0], grad[1], None if gV is None else gV.mH, U, S, V.mH,
                         not some)


def _pinv_backward(grad, pinvA, A):
    # (conjugate transposes, torch's pinv_backward: a real matrix's mH is its transpose)
    m, n = A.shape[-2], A.shape[-1]
    pinvAh = pinvA.mH
    gradh = grad.mH
    if m <= n:
        K = gradh.matmul(pinvA)
        KpinvAh = K.matmul(pinvAh)
        return (-(pinvA.matmul(K)).mH + KpinvAh - A.matmul(pinvA).matmul(KpinvAh)
                + pinvAh.matmul(pinvA).matmul(gradh - K.matmul(A)))
    K = pinvA.matmul(gradh)
    pinvAhK = pinvAh.matmul(K)
    return (-(K.matmul(pinvA)).mH + (gradh - A.matmul(K)).matmul(pinvA).matmul(pinvAh)
            + pinvAhK - pinvAhK.matmul(pinvA).matmul(A))


@_derivative(linalg_pinv)
def _lpinv_grad(grad, self, result):
    return _pinv_backward(grad, result, self)


@_derivative(pinverse)
def _pinverse_grad(grad, self, result):
    return _pinv_backward(grad, result, self)


@_derivative(linalg_lstsq, wrt=("self", "b"))
def _lstsq_grad(grad, self, b, result, needs_grad):
    """PyTorch's linalg_lstsq_backward through pinv(A), plus the residuals' gradient (at
    the least-squares solution d residual / dX = 0): 2 (AX - B) gL X^H and -2 (AX - B) gL;
    conjugate transposes (a real matrix's mH is its transpose)."""
    gX, gL = grad[0], grad[1]
    vec, *_ = _lstsq_shapes(tuple(self.shape), tuple(b.shape), self.dtype, b.dtype, None)
    X, B = result[0], b
    if vec:
        gX, X, B = gX.unsqueeze(-1), X.unsqueeze(-1), B.unsqueeze(-1)
    pinvA = OPS["aten::linalg_pinv"].public(self)
    gA = _pinv_backward(gX.matmul(B.mH), pinvA, self) if needs_grad[0] else None
    gB = pinvA.mH.matmul(gX) if needs_grad[1] else None
    if gL is not None and gL.numel() and tuple(gL.shape) != (0,):
        r = self.matmul(X) - B
        w = r * gL.unsqueeze(-2)
        if needs_grad[0]:
            gA = gA + 2 * w.matmul(X.mH)
        if needs_grad[1]:
            gB = gB - 2 * w
    # (singular_values is not differentiable, as PyTorch's: grad[3] is always zeros)
    if vec and gB is not None:
        gB = gB.squeeze(-1)
    return gA, gB
