"""a * b + c rounded once as a NumPy ufunc compiled by numba (ops/fma.py uses it for large
CPU arrays; its NumPy arithmetic, ~15 passes, for small ones: the same values): LLVM's
llvm.fma intrinsics, correctly rounded whether or not the CPU has an FMA unit.

Imported only when the ufunc is first wanted (numba is imported then)."""
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import types

from ._fma_intrinsics import fma_f32 as _fma_f32, fma_f64 as _fma_f64
from .numba_helpers import lazy_vectorize, njit


def _fma32(a, b, c):
    return _fma_f32(a, b, c)


def _fma64(a, b, c):
    return _fma_f64(a, b, c)


def _muladd32_via64(a, b, c):
    return types.float32(types.float64(a) * types.float64(b) + types.float64(c))


# (each made at its first use; muladd_f32_via_f64: float32 a * b + c as float64 arithmetic
# rounded to float32 (the product is exact in float64; the sum is rounded twice:
# addcmul's float32 value, fma.muladd32_via64)
__getattr__ = lazy_vectorize(globals(), {
    "fma_f32": (["float32(float32, float32, float32)"], _fma32),
    "fma_f64": (["float64(float64, float64, float64)"], _fma64),
    "muladd_f32_via_f64": (["float32(float32, float32, float32)"], _muladd32_via64)})


# the optimizers' float32 updates in one pass each (optim/optimizer.lerp_ / addcmul_): the
# eager ops' values (ops/pointwise_ternary: lerp's two-sided formula and addcmul, their
# multiply-adds rounded once through the exact float64 product). Explicit loops into a
# distinct out: LLVM vectorizes them only for memory it can tell apart (ops/fma.update32_)
def _lerp32_small(a, b, w, out):
    wd = types.float64(w)
    for i in range(out.size):
        d = b[i] - a[i]
        out[i] = types.float32(wd * types.float64(d) + types.float64(a[i]))


def _lerp32_large(a, b, w, out):
    wd = types.float64(w - types.float32(1))
    for i in range(out.size):
        d = b[i] - a[i]
        out[i] = types.float32(wd * types.float64(d) + types.float64(b[i]))


def _addcmul32(s, t1, t2, value, out):
    for i in range(out.size):
        p = value * t1[i]
        out[i] = types.float32(types.float64(p) * types.float64(t2[i]) + types.float64(s[i]))


lerp32_small = njit(_lerp32_small)
lerp32_large = njit(_lerp32_large)
addcmul32 = njit(_addcmul32)
