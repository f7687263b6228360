"""float16 exp, log, sin ... as PyTorch 2.13's CPU kernels give them: the float function of
the value held in float32, rounded once to half, with C's float functions (expf, logf,
sinf ...: libm's, what NumPy's half loops call on hosts without SVML and for strided
arrays everywhere).

NumPy's float16 ufuncs for these functions depend on the host and the layout: on AVX512
hosts with SVML a contiguous array goes through Intel SVML (float16 SVML on Sapphire
Rapids, float32 SVML before), a strided one through libm. That made an eager float16 exp
differ between x and x[::2] (4 of the 65536 halves), from PyTorch (exp 4, asinh 4, log10
3, cos / tan / atan / cosh 2, expm1 1) and from the fused kernels (exp 4, sin / cos 2,
log 1). libm's float functions give PyTorch's halves for every input on this survey's
host except sin and asin (2 each, where ATen's Sleef functions are not correctly
rounded); the fused kernels call the same functions for these ops in float16
(kernels/prims.py `_<fn>_h`, kernels/scalar_codegen.py), so fused == eager bit for bit.

OPS: the registry ops (qualified name -> the function their float16 expression calls) whose
fused float16 form calls the kernels' `_<fn>_h` (libm's float function; erf's is ATen's).
"""
from __future__ import annotations

import numpy as _np

__all__ = ["OPS", "SCALAR_KERNEL_OPS", "FUNCTIONS", "call", "call_float", "fused_libm"]

FUNCTIONS = ("exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
             "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh")
OPS = {**{f"aten::{f}": f for f in FUNCTIONS},
       "aten::logit": "log",        # (its float16 steps rounded to half, then the log)
       # (not libm's: ATen's vectorized float erf, ops/special.aten_vec_erf, prims._erf_h)
       "aten::erf": "erf", "aten::special_ndtr": "erf"}
# ops whose ATen CPU kernel is scalar code calling C's functions in every dtype (cpu_kernel
# with std::sin / std::log: sinc, special.entr, xlogy, special.xlog1py), so float32 and
# float64 take libm's too (NumPy's float32 sin / log differed from torch on 13% of float32
# sinc, 5.6% of entr, 6% of xlogy, 5% of xlog1py values; its float64 log / log1p, SVML's on
# AVX512 hosts, on 0.1% of float64 entr, 3% of xlog1py)
SCALAR_KERNEL_OPS = {"aten::sinc": "sin", "aten::special_entr": "log",
                     "aten::xlogy.Tensor": "log", "aten::special_xlog1py": "log1p"}
OPS.update(SCALAR_KERNEL_OPS)


def fused_libm(op):
    """(the libm function op's fused float16 form calls, whether its float32 / float64
    forms call it too) for registry op `op`; (None, False) for any other op. What the
    kernel generator asks of an OpDef (it names no op itself)."""
    return OPS.get(op.name), op.name in SCALAR_KERNEL_OPS


def call(xp, name, a):
    """libm's float `name` of float16 array a, rounded to float16 (a NumPy array or
    scalar, as the ufunc would return); other arrays and modules: xp's ufunc."""
    if xp is not _np or getattr(a, "dtype", None) != _np.float16:
        return getattr(xp, _NUMPY_NAMES.get(name, name))(a)
    a = _np.asarray(a)
    table = _TABLES.get(name)
    if table is None:
        if a.size < _TABLE_MIN:
            return _per_element(name, a)
        table = _TABLES[name] = _per_element(name, _ALL_HALVES).view(_np.uint16)
    from ._half_libm_kernels import lookup
    out = _np.empty(a.shape, _np.float16)
    # (flat C-contiguous bits: one compiled loop for every layout)
    idx = _np.ascontiguousarray(a.view(_np.uint16).reshape(-1))
    lookup()(table, idx, out.reshape(-1).view(_np.uint16))
    return out if out.ndim else out[()]


def _per_element(name, a):
    """The numba ufunc of C's <name>f over float16 array a, rounded to float16."""
    from ._half_libm_kernels import ufunc
    out = _np.empty(a.shape, _np.float16)
    ufunc(name)(a, out=out, casting="same_kind")
    return out if out.ndim else out[()]


# A float16 has 65536 values: once a call of `_TABLE_MIN` elements or more wants a
# function, its value for every half (the per-element ufunc over all of them, ~1 ms) is
# kept (as uint16 bits), and a call is one numba loop reading it at the input's bit
# patterns (~0.3 ns an element; libm's float function per element took ~7 ns, NumPy's
# fancy indexing of the table ~2.5): the same halves, NaN payloads and all
_TABLE_MIN = 1 << 14
_TABLES: dict = {}
_ALL_HALVES = _np.arange(1 << 16, dtype=_np.uint16).view(_np.float16)


def call_float(xp, name, a):
    """libm's `name` of float16, float32 or float64 array a (C's <name>f / <name>, a
    result of a's dtype: float16 rounds its float value); other arrays and modules: xp's
    ufunc."""
    dt = getattr(a, "dtype", None)
    if xp is _np and dt == _np.float16:
        return call(xp, name, a)
    if xp is not _np or dt not in (_np.float32, _np.float64):
        return getattr(xp, _NUMPY_NAMES.get(name, name))(a)
    from ._half_libm_kernels import ufunc
    return ufunc(name)(a)


_NUMPY_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh",
                "acosh": "arccosh", "atanh": "arctanh"}
