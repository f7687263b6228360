"""a * b + c rounded once, on NumPy or CuPy arrays: what C++ kernels compiled with FMA
contraction (GCC's -ffp-contract=fast on x86 builds with FMA, nvcc's default) compute for
`c + a * b`, which ATen's CPU and CUDA kernels write in many places (linspace, the AVX2
random fills, the antialiased resampling filters).

float32: the product is exact in float64; the sum is rounded to float64 *to odd* (an inexact
result gets its last bit set), which makes the final rounding to float32 a correct single
rounding (53 >= 24 + 2 bits). float64: Dekker's exact product and Knuth's exact sum, added
back in one rounding (correctly rounded except in cases far rarer than any test meets).
Large NumPy calls take a numba ufunc of llvm.fma instead (ops/_fma_kernels.py): one pass
instead of ~15, the same values; CuPy calls a CuPy ElementwiseKernel of CUDA's fmaf / fma."""
import numpy as np

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_SPLIT = 134217729.0          # 2^27 + 1: Veltkamp's splitter for doubles


def _xp(*arrays):
    for a in arrays:
        mod = type(a).__module__
        if mod.startswith("cupy"):
            import cupy
            return cupy
    return np


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(x):
    t = _SPLIT * x
    hi = t - (t - x)
    return hi, x - hi


# large NumPy calls: a numba ufunc (ops/_fma_kernels: llvm.fma, one pass, the same values)
# from this many elements, or for every call once the smaller calls before it have done
# 4x that work together (numba's import and a first load cost ~0.5-1 s)
_UFUNC_MIN = 1 << 14
_ufuncs = []            # [ops._fma_kernels] once loaded (each ufunc made at its first call)
_UFUNC_NAMES = ("fma_f32", "fma_f64", "muladd_f32_via_f64")
_work = [0]


def _ufunc(args, dt, which=None):
    """The numba ufunc for NumPy operands all of dtype dt (arrays or NumPy scalars) when a
    call of this size should take it, else None (which: 2, muladd_f32_via_f64)."""
    for v in args:
        if getattr(v, "dtype", None) != dt:
            return None
    if not _ufuncs:
        n = max(getattr(v, "size", 1) for v in args)
        _work[0] += n
        if n < _UFUNC_MIN and _work[0] < 4 * _UFUNC_MIN:
            return None
        from . import _fma_kernels
        _ufuncs[:] = [_fma_kernels]
    name = _UFUNC_NAMES[which if which is not None else 0 if dt == _F32 else 1]

    def f(a, b, c, out=None):
        u = getattr(_ufuncs[0], name)
        return np.asarray(u(a, b, c)) if out is None else u(a, b, c, out=out)
    return f


# CuPy: CUDA's own fmaf / fma (correctly rounded, one pass) as an ElementwiseKernel, made
# on first use per dtype; the emulation's ~15 kernels where the module has none (the test
# suite's fake CuPy) or no operand is an array (a kernel needs a size)
_CUPY_KERNELS: dict = {}


def _holds(dt, v):
    """Whether float dtype dt holds the Python number v exactly."""
    try:
        return float(dt.type(v)) == v
    except (OverflowError, TypeError, ValueError):
        return False


def _cupy_kernel(xp, args, dt):
    if not any(isinstance(v, xp.ndarray) for v in args):
        return None
    # CuPy's kernel takes arrays of exactly its parameters' dtype (else TypeError "Type is
    # mismatched") and rounds a scalar to it first: other operands take the emulation
    for v in args:
        vdt = getattr(v, "dtype", None)
        if vdt is not None and vdt != dt or vdt is None and not _holds(dt, v):
            return None
    k = _CUPY_KERNELS.get(dt)
    if k is None:
        make = getattr(xp, "ElementwiseKernel", None)
        if make is None:
            return None
        t = dt.name
        k = _CUPY_KERNELS[dt] = make(
            f"{t} a, {t} b, {t} c", f"{t} z",
            f"z = {'fmaf' if dt == _F32 else 'fma'}(a, b, c)", f"gpujit_fma_{t}")
    return k


def fma32(a, b, c, xp=None):
    """float32 a * b + c with one rounding (a, b, c float32 arrays or scalars)."""
    xp = xp or _xp(a, b, c)
    k = _one_pass(xp, (a, b, c), _F32)
    return _fma_numpy32(a, b, c, xp) if k is None else k(a, b, c)


def muladd32_via64(a, b, c, xp=None, out=None):
    """float32 (float64(a) * b + c) rounded to float32: the product exact in float64, the
    sum rounded to float64 and then to float32 (addcmul's float32 kernel value, which the
    fused kernels compute alike; not fma32's single rounding where the float64 sum is a tie).
    a, b, c float32 arrays; one pass (numba's ufunc) for large NumPy calls. out: a float32
    array of the result's shape to write it into (then returned)."""
    xp = xp or _xp(a, b, c)
    k = _ufunc((a, b, c), _F32, 2) if xp is np else None
    if k is not None:
        return k(a, b, c, out)
    r = xp.multiply(a, b, dtype=_F64)
    own = type(r) is xp.ndarray and r.shape == xp.shape(c)     # (0-dim: a NumPy scalar)
    r = xp.add(r, c, out=r if own else None).astype(_F32)
    if out is None:
        return r
    out[...] = r
    return out


def _flat_alike(out, *arrays):
    """Whether the arrays are C-contiguous NumPy arrays of out's shape (flat views of them
    are the elements in one order)."""
    for v in arrays:
        if type(v) is not np.ndarray or v.shape != out.shape or not v.flags.c_contiguous:
            return False
    return type(out) is np.ndarray and out.flags.c_contiguous


def _one_pass(xp, args, dt):
    """The one-pass FMA for these operands (NumPy's numba ufunc, CuPy's kernel), or None
    where the emulation answers."""
    return _ufunc(args, dt) if xp is np else _cupy_kernel(xp, args, dt)


def _fma_numpy32(a, b, c, xp):
    p = xp.asarray(a, _F64) * xp.asarray(b, _F64)          # exact: 24 + 24 bits
    r, err = _two_sum(p, xp.asarray(c, _F64))
    r, err = xp.asarray(r), xp.asarray(err)
    bits = xp.ascontiguousarray(r).view(np.int64).reshape(r.shape)    # (0-dim kept)
    inexact = (err != 0) & xp.isfinite(r)        # (inf and nan stay as they are)
    # round to odd: truncate toward zero (one step down in magnitude when r went past the
    # exact value), then set the last bit
    bits = bits - (inexact & ((err > 0) != (r > 0))).astype(np.int64)
    bits = bits | inexact.astype(np.int64)
    return bits.view(_F64).astype(_F32)


def _round_to_odd(v, err, xp):
    """v + err (v = RN(v + err), err its exact error) rounded to odd: toward zero, with
    the last bit set where inexact. (A non-finite v comes only with a non-finite sum,
    which _fma_numpy64 replaces.)"""
    v, err = xp.asarray(v), xp.asarray(err)
    inexact = err != 0
    if xp is np and not inexact.any():
        return v
    if not v.flags.c_contiguous:
        v = xp.ascontiguousarray(v)
    bits = v.view(np.int64) - (inexact & ((err > 0) != (v > 0))).astype(np.int64)
    return (bits | inexact.astype(np.int64)).view(_F64)


def fma64(a, b, c, xp=None):
    """float64 a * b + c with one rounding."""
    xp = xp or _xp(a, b, c)
    if xp is np:
        a, b, c = (v if type(v) is np.ndarray else np.float64(v) for v in (a, b, c))
    k = _one_pass(xp, (a, b, c), _F64)
    return _fma_numpy64(a, b, c, xp) if k is None else k(a, b, c)


def _fma_numpy64(a, b, c, xp):
    a, b, c = xp.asarray(a, _F64), xp.asarray(b, _F64), xp.asarray(c, _F64)
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s, se = _two_sum(p, c)
    # Boldo & Melquiond's emulation: the two error terms summed rounded to odd, then added
    # once (a plain se + pe loses a tiny c that breaks the product's tie: fma(0.3, 1.5,
    # 5e-324) is 0.45, not 0.44999999999999996)
    out = s + _round_to_odd(*_two_sum(se, pe), xp)
    # inf / nan: the error terms are nan; a * b + c is the answer there. A zero: the
    # exact sum is zero, its sign IEEE's for p + c (-0. * 1 + -0. is -0., not s + 0.'s +0.)
    out = xp.where(xp.isfinite(out) & (out != 0), out, p + c)
    if xp is np:
        # where Dekker's product is not exact (a product below 2^-968: its error term
        # underflows; a factor above 2^995: the split overflows), exact rationals, one
        # rounding (lerp(5e-324, 0., 0.5) is 0., the emulation gave 5e-324)
        ab, bb, pb = np.abs(a), np.abs(b), np.abs(p)
        odd = np.isfinite(out) & (((pb < 2.0 ** -968) & (a != 0) & (b != 0))
                                  | (ab > 2.0 ** 995) | (bb > 2.0 ** 995))
        # (a product that overflows where the exact sum does not: fma(1.5, -max, max) is
        # -max / 2, fma(1.5, -max, inf) inf)
        odd |= np.isinf(p) & np.isfinite(a) & np.isfinite(b) & ~np.isnan(c)
        if odd.any():
            out = np.array(out, _F64)
            from fractions import Fraction
            for i in zip(*np.nonzero(np.broadcast_to(odd, out.shape))):
                x, y, z = (float(np.broadcast_to(v, out.shape)[i]) for v in (a, b, c))
                if np.isinf(z):
                    out[i] = z
                    continue
                exact = Fraction(x) * Fraction(y) + Fraction(z)
                try:
                    # (a zero: IEEE's for a zero product plus a zero, +0. for other
                    # exact zeros, else the sign of the exact value that rounded to it)
                    if exact == 0:
                        out[i] = x * y + z if x == 0 or y == 0 else 0.0
                    else:
                        out[i] = float(exact) or (-0.0 if exact < 0 else 0.0)
                except OverflowError:
                    out[i] = x * y + z
    return out


def fma(a, b, c, dtype, xp=None):
    """a * b + c with one rounding in `dtype` (float32 or float64; float16 has none: C++'s
    Half arithmetic rounds each operation)."""
    dtype = np.dtype(dtype)
    if dtype == _F32:
        return fma32(a, b, c, xp)
    if dtype == _F64:
        return fma64(a, b, c, xp)
    raise TypeError(f"fma: no fused multiply-add for {dtype}")


def update32_(kind, out, x, y, scalar):
    """The optimizers' in-place float32 updates in one numba pass, where it is loaded (or
    the work makes it worth loading): kind "lerp" out.lerp_(x, scalar) (x the end; out the
    start), "addcmul" out.addcmul_(x, y, value=scalar): the eager ops' values. False
    (nothing done) where it does not apply: other dtypes or layouts, CuPy, small work."""
    arrays = (out, x) if y is None else (out, x, y)
    if not _flat_alike(out, *arrays) or out.dtype != _F32 or x.dtype != _F32 \
            or (y is not None and y.dtype != _F32):
        return False
    if _ufunc(arrays, _F32, 2) is None:
        return False
    from . import _fma_kernels as K       # (loaded with the ufuncs above)
    fresh = np.empty_like(out)            # (a distinct output: LLVM vectorizes the loop)
    flat = [v.reshape(-1) for v in arrays]
    w = np.float32(scalar)
    if kind == "lerp":
        (K.lerp32_small if -0.5 < w < 0.5 else K.lerp32_large)(flat[0], flat[1], w,
                                                                fresh.reshape(-1))
    else:
        K.addcmul32(flat[0], flat[1], flat[2], w, fresh.reshape(-1))
    np.copyto(out, fresh)
    return True

