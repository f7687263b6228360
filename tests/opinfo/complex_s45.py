"""OpInfos of the ops of session 45 (complex, part 2): torch.linalg.eig / eigvals
(gpujit/ops/linalg_eig.py). No gradient checks: their derivatives are not conjugate-aware
yet (refused; tests/test_complex_s45.py)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

F32, F64 = np.float32, np.float64


def _crand(*shape):
    return rand(*shape, dtype=F64) + 1j * rand(*shape, dtype=F64)


def _check_eig(sample, out):
    """A V = V diag(w) with unit eigenvectors (each is geev's up to a phase)."""
    a = np.asarray(sample.args[0])
    w, v = (np.asarray(x.numpy()) for x in out)
    tol = 1e-4 if w.dtype == np.complex64 else 1e-9
    assert w.dtype == (np.complex64 if a.dtype in (F32, np.complex64) else np.complex128)
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=tol)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1, rtol=tol)


_SAMPLES = [Sample(rand(3, 3)), Sample(rand(2, 4, 4, dtype=F64)), Sample(_crand(3, 3)),
            Sample(rand(0, 0))]
_ERRORS = [ErrorSample(rand(2, 3), match="must be batches of square matrices"),
           ErrorSample(np.ones((2, 2), np.int64), match="Unknown Complex ScalarType for Long")]

OPINFOS = [
    OpInfo("aten::linalg_eig", check=_check_eig, grad=False, samples=_SAMPLES, errors=_ERRORS),
    OpInfo("aten::linalg_eigvals", grad=False, samples=_SAMPLES, errors=_ERRORS,
           ref=lambda a: np.linalg.eigvals(a) if a.size else
           np.zeros(a.shape[:-1], np.complex64 if a.dtype == F32 else np.complex128),
           rtol=1e-4, atol=1e-5),
]
