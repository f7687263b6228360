"""libm's float functions as NumPy ufuncs compiled by numba, for float16 (ops/half_libm.py):
each a float32 -> float32 loop calling C's <fn>f per element (and a float64 loop calling
<fn>, for the ops of half_libm.SCALAR_KERNEL_OPS) (LLVM's llvm.<fn>.f32 or numba's
libm binding, scalar: no vector library), the same function the fused kernels' `_<fn>_h`
primitives call (kernels/prims.py).

Imported only when a float16 tensor first wants one (numba is imported then)."""
import math

from .numba_helpers import vectorize

_SIG = ["float32(float32)", "float64(float64)"]

def _exp(x):
    return math.exp(x)

def _exp2(x):
    return math.exp2(x)

def _expm1(x):
    return math.expm1(x)

def _log(x):
    return math.log(x)

def _log2(x):
    return math.log2(x)

def _log10(x):
    return math.log10(x)

def _log1p(x):
    return math.log1p(x)

def _sin(x):
    return math.sin(x)

def _cos(x):
    return math.cos(x)

def _tan(x):
    return math.tan(x)

def _asin(x):
    return math.asin(x)

def _acos(x):
    return math.acos(x)

def _atan(x):
    return math.atan(x)

def _sinh(x):
    return math.sinh(x)

def _cosh(x):
    return math.cosh(x)

def _tanh(x):
    return math.tanh(x)

def _asinh(x):
    return math.asinh(x)

def _acosh(x):
    return math.acosh(x)

def _atanh(x):
    return math.atanh(x)


def _lookup(table, idx, out):
    """out[i] = table[idx[i]]: a float16 function's table (half_libm._TABLES, as uint16
    bits) read at the bit patterns idx of its inputs (flat arrays)."""
    for i in range(idx.shape[0]):
        out[i] = table[idx[i]]


_LOOKUP: list = []


def lookup():
    """The compiled _lookup (compiled, or loaded from the cache, on first use)."""
    if not _LOOKUP:
        from .numba_helpers import njit
        _LOOKUP.append(njit(_lookup))
    return _LOOKUP[0]


_UFUNCS: dict = {}


def ufunc(name):
    """The ufunc of libm's float `name` (compiled, or loaded from the cache, on first use)."""
    u = _UFUNCS.get(name)
    if u is None:
        u = _UFUNCS[name] = vectorize(_SIG, globals()["_" + name])
    return u
