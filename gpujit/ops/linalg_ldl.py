"""`torch.linalg.ldl_factor` / `ldl_factor_ex` / `ldl_solve`: the LDL^T factorization of a
symmetric matrix with Bunch-Kaufman pivoting, LAPACK's sytrf / sytrs as PyTorch calls them
(lower triangle, uplo='L').

NumPy has no sytrf: the unblocked algorithm of LAPACK's dsytf2 is written here, one
matrix at a time on the host (alpha = (1 + sqrt(17)) / 8; 1-based pivots, a 2x2 block's
two pivots both -p). The BLAS steps keep reference BLAS's quirks where they change a
result: idamax picks the first NaN (as the BLAS PyTorch links), Fortran's MAX(NaN, y) is y,
dsyr does nothing for alpha == 0 and skips the columns where x is 0, dger the columns
where y is 0. LAPACK's blocked dsytrf takes the same pivots; its values differ by
rounding only. LD's strict upper triangle is zero, as PyTorch's. `hermitian` changes
nothing for real dtypes. Complex matrices: zsytf2 / zsytrs (symmetric, A = L D L^T) or,
with hermitian=True, zhetf2 / zhetrs (A = L D L^H: D's diagonal real, conjugates in the
swaps, the updates and the solves); izamax and the pivot tests measure |Re| + |Im|
(LAPACK's cabs1), zhetf2 the diagonal by |Re|.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes
from .registry import op
from .kernel_names import kernel_name
from .linalg_decomp import _check_square, _check_matrix, _dtn
from .derivatives import not_implemented as _not_implemented

_LA = {"linalg"}
_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


def _cabs1(v):
    """|v| of reals; |Re v| + |Im v| of complex numbers (LAPACK's CABS1)."""
    v = np.asarray(v)
    return np.abs(v.real) + np.abs(v.imag) if v.dtype.kind == "c" else np.abs(v)


def _iamax(v):
    """BLAS i?amax, 0-based: the first largest cabs1(v), a NaN before any number."""
    return int(np.argmax(_cabs1(v)))


def _fmax(x, y):
    """Fortran's MAX as LAPACK is compiled (x > y ? x : y): MAX(NaN, y) is y."""
    return x if x > y else y


def _sytf2(a, herm=False):
    """dsytf2 / zsytf2, zhetf2 with herm (uplo='L') in place on the square array a (its
    lower triangle read and written): (1-based pivots as int32, info: the 1-based index
    of the first exactly singular diagonal block, 0 if none)."""
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info = 0
    herm = herm and a.dtype.kind == "c"
    real = a.real.dtype.type
    alpha = real(_ALPHA)
    # (the diagonal's measure: zhetf2 |Re|, else cabs1)
    dabs = (lambda x: abs(x.real)) if herm else (lambda x: real(_cabs1(x)))
    k = 0
    with np.errstate(all="ignore"):
        while k < n:
            kstep = 1
            absakk = dabs(a[k, k])
            if k < n - 1:
                imax = k + 1 + _iamax(a[k + 1:, k])
                colmax = real(_cabs1(a[imax, k]))
            else:
                imax, colmax = k, real(0)
            if _fmax(absakk, colmax) == 0 or (herm and absakk != absakk):
                if info == 0:
                    info = k + 1
                kp = k
                if herm:
                    a[k, k] = a[k, k].real
            else:
                if absakk >= alpha * colmax:
                    kp = k
                else:
                    # the largest off-diagonal |a| in row / column imax
                    jmax = k + _iamax(a[imax, k:imax])
                    rowmax = real(_cabs1(a[imax, jmax]))
                    if imax < n - 1:
                        jmax = imax + 1 + _iamax(a[imax + 1:, imax])
                        rowmax = _fmax(rowmax, real(_cabs1(a[jmax, imax])))
                    if absakk >= alpha * colmax * (colmax / rowmax):
                        kp = k
                    elif dabs(a[imax, imax]) >= alpha * rowmax:
                        kp = imax
                    else:
                        kp, kstep = imax, 2
                kk = k + kstep - 1
                if kp != kk:      # rows and columns kk and kp of the trailing block swap
                    if kp < n - 1:
                        t = a[kp + 1:, kk].copy()
                        a[kp + 1:, kk] = a[kp + 1:, kp]
                        a[kp + 1:, kp] = t
                    t = a[kk + 1:kp, kk].copy()
                    if herm:      # (the segment crosses the diagonal: conjugated)
                        a[kk + 1:kp, kk] = np.conj(a[kp, kk + 1:kp])
                        a[kp, kk + 1:kp] = np.conj(t)
                        a[kp, kk] = np.conj(a[kp, kk])
                        a[kk, kk], a[kp, kp] = a[kp, kp].real, a[kk, kk].real
                    else:
                        a[kk + 1:kp, kk] = a[kp, kk + 1:kp]
                        a[kp, kk + 1:kp] = t
                        a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
                    if kstep == 2:
                        if herm:
                            a[k, k] = a[k, k].real
                        a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]
                elif herm:
                    a[k, k] = a[k, k].real
                    if kstep == 2:
                        a[k + 1, k + 1] = a[k + 1, k + 1].real
                if herm:
                    _hetf2_step(a, k, kstep)
                elif kstep == 1:
                    if k < n - 1:
                        d11 = 1 / a[k, k]
                        x = a[k + 1:, k].copy()
                        if d11 != 0:        # dsyr(-d11, x): A22 -= d11 x x^T
                            nz = x != 0
                            if nz.all():
                                a[k + 1:, k + 1:] += np.outer(x, (-d11) * x)
                            else:
                                sub = a[k + 1:, k + 1:]
                                sub[:, nz] += np.outer(x, (-d11) * x[nz])
                        a[k + 1:, k] = x * d11
                elif k < n - 2:
                    d21 = a[k + 1, k]
                    d11 = a[k + 1, k + 1] / d21
                    d22 = a[k, k] / d21
                    t = 1 / (d11 * d22 - 1)
                    d21 = t / d21
                    ak, ak1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                    wk = d21 * (d11 * ak - ak1)
                    wkp1 = d21 * (d22 * ak1 - ak)
                    a[k + 2:, k + 2:] = (a[k + 2:, k + 2:] - np.outer(ak, wk)
                                         - np.outer(ak1, wkp1))
                    a[k + 2:, k] = wk
                    a[k + 2:, k + 1] = wkp1
            if kstep == 1:
                ipiv[k] = kp + 1
            else:
                ipiv[k] = ipiv[k + 1] = -(kp + 1)
            k += kstep
    return ipiv, info


def _hetf2_step(a, k, kstep):
    """zhetf2's elimination of the pivot block at k (real diagonal, zher's conjugates)."""
    n = a.shape[0]
    if kstep == 1:
        if k < n - 1:
            d11 = 1 / a[k, k].real
            x = a[k + 1:, k].copy()
            # zher(-d11, x): A22 += x (-d11 conj(x))^T, its diagonal kept real; a column
            # where x is 0 is skipped (its diagonal made real)
            t = (-d11) * np.conj(x)
            nz = x != 0
            sub = a[k + 1:, k + 1:]
            sub[:, nz] += np.outer(x, t[nz])
            idx = np.arange(n - k - 1)
            sub[idx, idx] = sub[idx, idx].real
            a[k + 1:, k] = x * d11
    elif k < n - 2:
        d = np.hypot(a[k + 1, k].real, a[k + 1, k].imag)
        d11 = a[k + 1, k + 1].real / d
        d22 = a[k, k].real / d
        tt = 1 / (d11 * d22 - 1)
        d21 = a[k + 1, k] / d
        d = tt / d
        ak, ak1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
        wk = d * (d11 * ak - d21 * ak1)
        wkp1 = d * (d22 * ak1 - np.conj(d21) * ak)
        a[k + 2:, k + 2:] = (a[k + 2:, k + 2:] - np.outer(ak, np.conj(wk))
                             - np.outer(ak1, np.conj(wkp1)))
        a[k + 2:, k] = wk
        a[k + 2:, k + 1] = wkp1
        idx = np.arange(k + 2, n)
        a[idx, idx] = a[idx, idx].real


def _ger(b, x, y):
    """dger(-1, x, y) into b: b -= x y^T, skipping the columns where y is 0."""
    nz = y != 0
    if nz.all():
        b -= np.outer(x, y)
    elif nz.any():
        b[:, nz] -= np.outer(x, y[nz])


def _sytrs(a, ipiv, b, herm=False):
    """dsytrs / zsytrs, zhetrs with herm (uplo='L'): b (n, nrhs) overwritten by the
    solution of A X = B, A's factors as _sytf2 left them in a."""
    n = a.shape[0]
    herm = herm and a.dtype.kind == "c"
    cj = np.conj if herm else (lambda x: x)
    with np.errstate(all="ignore"):
        k = 0
        while k < n:                         # L D X = B
            if ipiv[k] > 0:
                kp = ipiv[k] - 1
                if kp != k:
                    b[[k, kp]] = b[[kp, k]]
                if k < n - 1:
                    _ger(b[k + 1:], a[k + 1:, k], b[k])
                b[k] *= 1 / (a[k, k].real if herm else a[k, k])
                k += 1
            else:
                kp = -ipiv[k] - 1
                if kp != k + 1:
                    b[[k + 1, kp]] = b[[kp, k + 1]]
                if k < n - 2:
                    _ger(b[k + 2:], a[k + 2:, k], b[k])
                    _ger(b[k + 2:], a[k + 2:, k + 1], b[k + 1])
                akm1k = a[k + 1, k]
                akm1 = a[k, k] / cj(akm1k)
                ak = a[k + 1, k + 1] / akm1k
                denom = akm1 * ak - 1
                bkm1 = b[k] / cj(akm1k)
                bk = b[k + 1] / akm1k
                b[k] = (ak * bkm1 - bk) / denom
                b[k + 1] = (akm1 * bk - bkm1) / denom
                k += 2
        k = n - 1
        while k >= 0:                        # L^T X = B (L^H X = B)
            if ipiv[k] > 0:
                if k < n - 1:
                    b[k] -= b[k + 1:].T @ cj(a[k + 1:, k])
                kp = ipiv[k] - 1
                if kp != k:
                    b[[k, kp]] = b[[kp, k]]
                k -= 1
            else:
                if k < n - 1:
                    b[k] -= b[k + 1:].T @ cj(a[k + 1:, k])
                    b[k - 1] -= b[k + 1:].T @ cj(a[k + 1:, k - 1])
                kp = -ipiv[k] - 1
                if kp != k:
                    b[[k, kp]] = b[[kp, k]]
                k -= 2
    return b


def _to_host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _factor_check(name, shape, d, where):
    _check_matrix(f"torch.linalg.{name}", shape)
    _check_square(f"torch.linalg.{name}", shape)
    if d.category != _dt.FLOATING and not d.cplx:
        raise RuntimeError(f"torch.linalg.{name}: Expected a floating point or complex tensor "
                           f"as input. Got {d.short_name}")
    if d not in (_dt.float32, _dt.float64) and not d.cplx:
        raise NotImplementedError(f"\"{kernel_name('ldl_factor_kernel_cpu', where)}\" not "
                                  f"implemented for '{d.short_name}'")


def _ldl(xp, A, name, check_errors, hermitian=False):
    # (ldl_factor is ldl_factor_ex in PyTorch: its checks name that)
    _factor_check("ldl_factor_ex", A.shape, _dtn(A.dtype), A)
    h = _to_host(A)
    n = h.shape[-1]
    batch = h.shape[:-2]
    flat = np.array(h, copy=True).reshape((math.prod(batch), n, n))
    piv = np.zeros((flat.shape[0], n), np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    for i in range(flat.shape[0]):
        piv[i], info[i] = _sytf2(flat[i], hermitian)
    LD = np.tril(flat).reshape(h.shape)
    if check_errors:
        bad = np.flatnonzero(info)
        if bad.size:
            # (PyTorch's _linalg_check_errors knows no sytrf info > 0: its internal assert)
            raise RuntimeError(
                "false INTERNAL ASSERT FAILED at \"/__w/pytorch/pytorch/aten/src/ATen/native/"
                "BatchLinearAlgebra.cpp\":1642, please report a bug to PyTorch. "
                f"torch.linalg.{name}: Unknown error code: {int(info[bad[0]])}.")
    if xp is not np:
        return xp.asarray(LD), xp.asarray(piv.reshape(batch + (n,))), \
            xp.asarray(info.reshape(batch))
    return LD, piv.reshape(batch + (n,)), info.reshape(batch)


def _factor_meta(ex):
    def meta(self, hermitian=False, check_errors=False):
        _factor_check("ldl_factor_ex", self.shape, self.dtype, self)
        s = tuple(self.shape)
        out = (TensorMeta(self.dtype, s, self.device),
               TensorMeta(_dt.int32, s[:-1], self.device))
        return out + (TensorMeta(_dt.int32, s[:-2], self.device),) if ex else out
    return meta


@op("aten::linalg_ldl_factor_ex(Tensor self, *, bool hermitian=False, bool check_errors=False) "
    "-> (Tensor LD, Tensor pivots, Tensor info)", tags=_LA, fortran=("LD",), method=False, function=False,
    meta=_factor_meta(True), namedtuple_name="linalg_ldl_factor_ex")
def linalg_ldl_factor_ex(xp, self, hermitian=False, check_errors=False):
    """LAPACK sytrf's compact LDL^T (L's unit diagonal implied, D's 2x2 blocks on the
    diagonal and subdiagonal), its pivots and its info (no error unless check_errors)."""
    return _ldl(xp, self, "ldl_factor_ex", check_errors, hermitian)


@op("aten::linalg_ldl_factor(Tensor self, *, bool hermitian=False) -> (Tensor LD, "
    "Tensor pivots)", tags=_LA, fortran=("LD",), method=False, function=False,
    meta=_factor_meta(False), namedtuple_name="linalg_ldl_factor")
def linalg_ldl_factor(xp, self, hermitian=False):
    """linalg.ldl_factor_ex without info: an exactly singular D is PyTorch's error."""
    LD, piv, _ = _ldl(xp, self, "ldl_factor", True, hermitian)
    return LD, piv


def _solve_check(sl, sp, sb, dl, dp, db, where):
    name = "torch.linalg.ldl_solve"
    _check_matrix(name, sl)
    _check_square(name, sl)
    if dl.category != _dt.FLOATING and not dl.cplx:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {dl.short_name}")
    if len(sb) < 2:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(len(sb), 1)}, {max(len(sb), 1) - 1}], but got -2)")
    if sb[-2] != sl[-1]:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is "
                           f"{sl[-1]} by {sl[-1]} but each b matrix is {sb[-2]} by {sb[-1]}")
    if tuple(sp) != tuple(sl[:-1]):
        raise RuntimeError(f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, "
                           f"but got pivots with shape [{', '.join(str(s) for s in sp)}] "
                           f"instead")
    if dp.category != _dt.INTEGRAL:
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got {dp.short_name}")
    if db is not dl:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{db.short_name} and A of type {dl.short_name} instead.")
    if dl not in (_dt.float32, _dt.float64) and not dl.cplx:
        raise NotImplementedError(f"\"{kernel_name('ldl_solve_kernel_cpu', where)}\" not "
                                  f"implemented for '{dl.short_name}'")
    return broadcast_shapes(tuple(sl[:-2]), tuple(sb[:-2])) + tuple(sb[-2:])


def _solve_meta(LD, pivots, B, hermitian=False):
    s = _solve_check(tuple(LD.shape), tuple(pivots.shape), tuple(B.shape), LD.dtype,
                     pivots.dtype, B.dtype, LD)
    return TensorMeta(B.dtype, s, B.device)


@op("aten::linalg_ldl_solve(Tensor LD, Tensor pivots, Tensor B, *, bool hermitian=False) "
    "-> Tensor", tags=_LA, fortran=(0,), method=False, function=False, meta=_solve_meta)
def linalg_ldl_solve(xp, LD, pivots, B, hermitian=False):
    """X with A X = B, A given by linalg.ldl_factor's LD and pivots (LAPACK's sytrs); the
    batch dims of LD and B broadcast."""
    out = _solve_check(LD.shape, pivots.shape, B.shape, _dtn(LD.dtype), _dtn(pivots.dtype),
                       _dtn(B.dtype), LD)
    n = LD.shape[-1]
    batch = out[:-2]
    nb = math.prod(batch)
    a = np.broadcast_to(_to_host(LD), batch + (n, n)).reshape((nb, n, n))
    p = np.broadcast_to(_to_host(pivots), batch + (n,)).reshape((nb, n))
    b = np.array(np.broadcast_to(_to_host(B), out), copy=True).reshape((nb,) + out[-2:])
    if b.size:
        for i in range(b.shape[0]):
            _sytrs(a[i], p[i].astype(np.int64), b[i], hermitian)
    r = b.reshape(out)
    return r if xp is np else xp.asarray(r)


# PyTorch records both (LD and the solution require grad) and refuses their backward
# (derivatives.yaml: not_implemented); ldl_factor is ldl_factor_ex there, so both name it
_not_implemented(linalg_ldl_factor_ex, linalg_ldl_factor,
                 message="derivative for aten::linalg_ldl_factor_ex is not implemented")
_not_implemented(linalg_ldl_solve,
                 message="derivative for aten::linalg_ldl_solve is not implemented")
