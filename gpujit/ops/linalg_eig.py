"""torch.linalg.eig / eigvals: the eigen-decomposition of general square matrices, complex
whatever the input (a real matrix's eigenvalues come in conjugate pairs): float32 gives
complex64, float64 complex128, as PyTorch's. LAPACK's geev through NumPy (CuPy's
cusolver geev where it has one, else on the host, as PyTorch's CUDA eig runs MAGMA's on
the CPU): the eigenvectors are geev's, each of unit norm with its largest component
real, as PyTorch's. Their gradients are not conjugate-aware yet: a result that requires
grad is refused (ops/complex_autograd.py)."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .linalg_decomp import _check_square, _dtn
from .meta import TensorMeta
from .registry import op

_LA = {"linalg"}


def _eig_check(name, shape, d):
    _check_square(name, tuple(shape))
    if d.category < _dt.FLOATING:
        raise RuntimeError(f"Unknown Complex ScalarType for {d.short_name}")
    if d is _dt.float16:
        raise NotImplementedError("\"linalg_eig_out_cpu\" not implemented for 'Half'")
    return d if d.cplx else d.to_complex()


def _eig_meta(self):
    c = _eig_check("linalg.eig", self.shape, self.dtype)
    return (TensorMeta(c, tuple(self.shape[:-1]), self.device),
            TensorMeta(c, tuple(self.shape), self.device))


def _eigvals_meta(self):
    c = _eig_check("linalg.eigvals", self.shape, self.dtype)
    return TensorMeta(c, tuple(self.shape[:-1]), self.device)


def _geev(xp, A, vectors):
    """(eigenvalues, eigenvectors or None) of the matrices of A, complex, in A's precision."""
    c = np.dtype(_eig_check("linalg.eig" if vectors else "linalg.eigvals", A.shape,
                            _dtn(A.dtype)).np)
    if A.size == 0:
        return (xp.zeros(A.shape[:-1], c),
                xp.zeros(A.shape, c) if vectors else None)
    if not bool(xp.isfinite(A).all()):
        raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
    name = "eig" if vectors else "eigvals"
    on_host = xp is not np and not hasattr(xp.linalg, name)
    a = A.get() if on_host else A           # (its dtype kept: a complex matrix stays one)
    r = getattr((np if on_host else xp).linalg, name)(a)
    w, v = r if vectors else (r, None)
    w = w.astype(c, copy=False)
    v = None if v is None else v.astype(c, copy=False)
    if on_host:
        w = xp.asarray(w)
        v = None if v is None else xp.asarray(v)
    return w, v


@op("aten::linalg_eig(Tensor self) -> (Tensor eigenvalues, Tensor eigenvectors)", tags=_LA,
    fortran=("eigenvectors",), method=False, function=False, meta=_eig_meta,
    namedtuple_name="linalg_eig")
def linalg_eig(xp, self):
    """The eigenvalues and (right) eigenvectors of square matrices, complex."""
    return _geev(xp, self, True)


@op("aten::linalg_eigvals(Tensor self) -> Tensor", tags=_LA, method=False, function=False,
    meta=_eigvals_meta)
def linalg_eigvals(xp, self):
    """The eigenvalues of square matrices, complex."""
    return _geev(xp, self, False)[0]
