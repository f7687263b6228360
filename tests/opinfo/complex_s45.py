"""OpInfos of the ops of session 45 (complex, part 2): torch.linalg.eig / eigvals
(gpujit/ops/linalg_eig.py; eig's gradient is checked in tests/test_complex_s46.py with
losses that do not depend on the eigenvectors' phases) and the complex-number ops of
scripted code (gpujit/ops/scalar_complex.py)."""
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
    OpInfo("aten::linalg_eigvals", samples=_SAMPLES, errors=_ERRORS,
           ref=lambda a: np.linalg.eigvals(a) if a.size else
           np.zeros(a.shape[:-1], np.complex64 if a.dtype == F32 else np.complex128),
           rtol=1e-4, atol=1e-5),
]


# ---- the complex numbers of scripted code (gpujit/ops/scalar_complex.py): Python values,
# Python's own arithmetic as the reference (c10's division and pow: NumPy's algorithms)
import operator  # noqa: E402

_C = [(1 + 2j, 3 - 1j), (-0.5j, 2 + 0j), (1e10 + 1j, -1e-10 - 1j)]
_MIXED = {"complex_int": [(1 + 2j, 3), (-1j, -2)], "int_complex": [(3, 1 + 2j), (0, 2j)],
          "complex_float": [(1 + 2j, 2.5), (1j, -0.5)],
          "float_complex": [(2.5, 1 + 2j), (-0.5, 1j)], "complex": _C}


def _scalar(name, ref, sig, pairs, **kw):
    return OpInfo(f"{name}.{sig}", ref=ref, samples=[Sample(a, b) for a, b in pairs],
                  noncontiguous=False, **kw)


for _n, _f in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul)):
    OPINFOS += [_scalar(f"aten::{_n}", _f, s, p) for s, p in _MIXED.items()]
_EQUAL = {"complex": (2 + 0j, 2 + 0j), "complex_float": (2 + 0j, 2.0),
          "float_complex": (2.0, 2 + 0j)}
for _n, _f in (("eq", operator.eq), ("ne", operator.ne)):
    OPINFOS += [_scalar(f"aten::{_n}", _f, s, _MIXED[s] + [_EQUAL[s]]) for s in _EQUAL]
OPINFOS.append(_scalar("aten::div", lambda a, b: complex(np.complex128(a) / np.complex128(b)),
                       "complex", _C))
for _s in ("complex", "complex_float", "float_complex"):
    OPINFOS.append(_scalar("aten::pow", lambda a, b: complex(np.exp(np.complex128(b) *
                                                                 np.log(np.complex128(a)))),
                           _s, _MIXED[_s]))
OPINFOS += [
    OpInfo("aten::neg.complex", ref=operator.neg, samples=[Sample(1 + 2j), Sample(-0.5j)],
           noncontiguous=False),
    OpInfo("prim::abs.complex", ref=abs, samples=[Sample(3 + 4j), Sample(-1j)],
           noncontiguous=False),
    OpInfo("aten::Complex.Scalar", ref=complex, samples=[Sample(2), Sample(2.5), Sample(1j)],
           noncontiguous=False),
]
_PARTS = {"int": 3, "float": -2.5, "bool": True, "Tensor": np.array(1.5)}
for _x, _vx in _PARTS.items():
    for _y, _vy in _PARTS.items():
        OPINFOS.append(OpInfo(f"aten::Complex.{_x}_{_y}", noncontiguous=False,
                              ref=lambda a, b: complex(float(a), float(b)),
                              samples=[Sample(_vx, _vy)]))
del _n, _f, _s, _x, _y, _vx, _vy
