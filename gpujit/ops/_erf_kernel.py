"""float32 erf as libm's erff (glibc 2.36's: fdlibm's algorithm, glibc's expf), bit for bit,
in compiled loops (the first vectorized by LLVM), and the erf-form GELU of float32 and its
backward in one pass over them (each the same bits as its NumPy steps).

eager's float32 erf was a numba ufunc of math.erf, which calls libm's erff per element
(~15-130 ns a value: its exp path is slow), and the fused kernels call the same erff: the
values here are those bits. fdlibm's erff: |x| < 2^-28: x + efx x (below 2^-119
0.0625 (16 x + (16 efx) x), glibc's form); |x| < 0.84375: x + x P(x^2) / Q(x^2);
0.84375 <= |x| < 1.25: +-(erx + P(s) / Q(s)), s = |x| - 1 (all in float32, no FMA:
glibc's generic x86-64 build) -- computed branch-free for every value; then, for the few
values with |x| >= 1.25 (and NaN), 1 - exp(-z^2 - 0.5625) exp((z - x)(z + x) + R/S) / x
(z: x with its low 12 bits cleared; R/S one of two rational functions of 1 / x^2; exp
glibc's expf, a 32-entry table and a cubic in double), +-1 from 4 on. Checked on this
machine (glibc 2.36) against math.erf (numba's, libm's erff) for every float32: all
equal. Another libm: agrees_with_libm() says so at the first use, and eager keeps the
per-value call.

Imported when first wanted (numba is imported then)."""
import numpy as np
from llvmlite import ir
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import types
from numba.extending import intrinsic

from .numba_helpers import inner, njit

_F = np.float32


def _h(bits):
    return np.array([bits], np.uint32).view(np.float32)[0]


# fdlibm's float coefficients (s_erff.c), by their bits
_PP0, _PP1, _PP2, _PP3, _PP4 = (_h(0x3e0375d4), _h(0xbea66beb), _h(0xbce9528f),
                                _h(0xbbbd1489), _h(0xb7c756b1))
_QQ1, _QQ2, _QQ3, _QQ4, _QQ5 = (_h(0x3ecbbbce), _h(0x3d852a63), _h(0x3ba68116),
                                _h(0x390aee49), _h(0xb684e21a))
_PA0, _PA1, _PA2, _PA3, _PA4, _PA5, _PA6 = (
    _h(0xbb1acdc6), _h(0x3ed46805), _h(0xbebe9208), _h(0x3ea2fe54), _h(0xbde31cc2),
    _h(0x3d1151b3), _h(0xbb0df9c0))
_QA1, _QA2, _QA3, _QA4, _QA5, _QA6 = (_h(0x3dd9f331), _h(0x3f0a5785), _h(0x3d931ae7),
                                      _h(0x3e013307), _h(0x3c5f6e13), _h(0x3c445aa3))
_ERX = _h(0x3f58560b)
_EFX = _h(0x3e0375d4)
_EFX16 = _F(_EFX * _F(16.0))
_TINY = _h(0x31800000)         # 2^-28
_SUBTINY = _h(0x04000000)      # 2^-119
_ONE = _F(1.0)


def _erff_near_py(x):
    """fdlibm's erff for |x| < 1.25 (any other x: a value the second pass replaces),
    without branches: both rational functions, one division of the chosen one."""
    ax = abs(x)
    # |x| < 0.84375: x + x r / s
    z = _F(x * x)
    r = _F(_PP0 + _F(z * _F(_PP1 + _F(z * _F(_PP2 + _F(z * _F(_PP3 + _F(z * _PP4))))))))
    s = _F(_ONE + _F(z * _F(_QQ1 + _F(z * _F(_QQ2 + _F(z * _F(
        _QQ3 + _F(z * _F(_QQ4 + _F(z * _QQ5))))))))))
    # 0.84375 <= |x| < 1.25: +-(erx + p / q), t = |x| - 1
    t = _F(ax - _ONE)
    p = _F(_PA0 + _F(t * _F(_PA1 + _F(t * _F(_PA2 + _F(t * _F(_PA3 + _F(t * _F(
        _PA4 + _F(t * _F(_PA5 + _F(t * _PA6))))))))))))
    q = _F(_ONE + _F(t * _F(_QA1 + _F(t * _F(_QA2 + _F(t * _F(_QA3 + _F(t * _F(
        _QA4 + _F(t * _F(_QA5 + _F(t * _QA6))))))))))))
    near = ax < _F(0.84375)
    d = _F((r if near else p) / (s if near else q))
    small = _F(x + _F(x * d))
    mid = _F(_ERX + d) if x >= _F(0.0) else _F(_F(-_ERX) - d)
    tiny = _F(x + _F(_EFX * x))
    subtiny = _F(_F(0.0625) * _F(_F(_F(16.0) * x) + _F(_EFX16 * x)))
    tiny = subtiny if ax < _SUBTINY else tiny
    small = tiny if ax < _TINY else small
    return small if near else mid


_erff_near = njit(_erff_near_py, inline="always", error_model="numpy")


# |x| in [1.25, 1 / 0.35): erfc(|x|) ~ exp(-z^2 - 0.5625) exp((z - x)(z + x) + R / S)/|x|
_RA0, _RA1, _RA2, _RA3, _RA4, _RA5, _RA6, _RA7 = (_h(b) for b in (
    0xbc21a093, 0xbf31a0b7, 0xc128f022, 0xc2798057, 0xc322658c, 0xc3389ae7, 0xc2a2932b,
    0xc11d077e))
_SA1, _SA2, _SA3, _SA4, _SA5, _SA6, _SA7, _SA8 = (_h(b) for b in (
    0x419d35ce, 0x4309a863, 0x43d9486f, 0x442158c9, 0x43d6810b, 0x42d9451f, 0x40d23f7c,
    0xbd777f97))
# |x| in [1 / 0.35, 4)
_RB0, _RB1, _RB2, _RB3, _RB4, _RB5, _RB6 = (_h(b) for b in (
    0xbc21a092, 0xbf4c9dd4, 0xc18e104b, 0xc320a2ea, 0xc41f6441, 0xc480230b, 0xc3f1c275))
_SB1, _SB2, _SB3, _SB4, _SB5, _SB6, _SB7 = (_h(b) for b in (
    0x41f2b459, 0x43a2e571, 0x44c01759, 0x4547fdbb, 0x451f90ce, 0x43ed43a7, 0xc1b38712))


def _pow2_table():
    """glibc's __exp2f_data.tab: the bits of 2^(i/32), correctly rounded, less i << 47."""
    from decimal import Decimal, getcontext
    getcontext().prec = 60
    bits = [np.array([float(Decimal(2) ** (Decimal(i) / 32))]).view(np.uint64)[0]
            - np.uint64(i << 47) for i in range(32)]
    return np.array(bits, np.uint64)


_EXP2_TAB = _pow2_table()
_EXP_C0 = float.fromhex("0x1.c6af84b912394p-5") / 32 ** 3
_EXP_C1 = float.fromhex("0x1.ebfce50fac4f3p-3") / 32 ** 2
_EXP_C2 = float.fromhex("0x1.62e42ff0c52d6p-1") / 32
_EXP_SHIFT = float.fromhex("0x1.8p+52")
_EXP_INVLN2N = float.fromhex("0x1.71547652b82fep+0") * 32


def _as_u64(typingctx, d):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.uint64(types.float64), codegen


def _as_f64(typingctx, u):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.uint64), codegen


def _as_i32(typingctx, f):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


def _as_f32(typingctx, i):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


_as_u64, _as_f64, _as_i32, _as_f32 = (intrinsic(f) for f in (_as_u64, _as_f64, _as_i32,
                                                               _as_f32))


def _expf_py(x):
    """glibc's expf (e_expf.c, 2.28 on) of a float32 x in [-20, 1]: in double, 2^(k/32)
    from the table times a cubic in r = x / ln2 * 32 - k, rounded to float32."""
    z = _EXP_INVLN2N * np.float64(x)
    kd = z + _EXP_SHIFT
    ki = _as_u64(kd)
    kd = kd - _EXP_SHIFT
    r = z - kd
    s = _as_f64(_EXP2_TAB[ki & np.uint64(31)] + (ki << np.uint64(47)))
    y = (_EXP_C0 * r + _EXP_C1) * (r * r) + (_EXP_C2 * r + 1.0)
    return _F(y * s)


_expf = njit(_expf_py, inline="always", error_model="numpy")


def _erff_far_py(x):
    """fdlibm's erff where 1.25 <= |x| < 4 (else a value the caller replaces), without
    branches: R/S's coefficients chosen per value (the shorter pair padded by a 0, which
    adds exactly nothing), 1 - r / |x| with its sign."""
    ax = abs(x)
    s = _F(_ONE / _F(ax * ax))
    a = ax < _F(2.857142925262451)        # (0x4036db8c, ~ 1 / 0.35)
    R = _RA7 if a else _F(0.0)
    R = _F((_RA6 if a else _RB6) + _F(s * R))
    R = _F((_RA5 if a else _RB5) + _F(s * R))
    R = _F((_RA4 if a else _RB4) + _F(s * R))
    R = _F((_RA3 if a else _RB3) + _F(s * R))
    R = _F((_RA2 if a else _RB2) + _F(s * R))
    R = _F((_RA1 if a else _RB1) + _F(s * R))
    R = _F((_RA0 if a else _RB0) + _F(s * R))
    S = _SA8 if a else _F(0.0)
    S = _F((_SA7 if a else _SB7) + _F(s * S))
    S = _F((_SA6 if a else _SB6) + _F(s * S))
    S = _F((_SA5 if a else _SB5) + _F(s * S))
    S = _F((_SA4 if a else _SB4) + _F(s * S))
    S = _F((_SA3 if a else _SB3) + _F(s * S))
    S = _F((_SA2 if a else _SB2) + _F(s * S))
    S = _F((_SA1 if a else _SB1) + _F(s * S))
    S = _F(_ONE + _F(s * S))
    z = _as_f32(np.int32(_as_i32(ax) & np.int32(-4096)))      # (the low 12 bits cleared)
    r = _F(_expf(_F(_F(-z * z) - _F(0.5625))) * _expf(_F(_F(_F(z - ax) * _F(z + ax))
                                                        + _F(R / S))))
    e = _F(_ONE - _F(r / ax))
    return e if x >= _F(0.0) else -e


_erff_far = njit(_erff_far_py, inline="always", error_model="numpy")


def _erff_rest_py(x):
    """libm's erff of float32 x where |x| >= 1.25 or x is NaN."""
    e = _erff_far(x)
    e = e if abs(x) < _F(4.0) else (_F(1.0) if x > _F(0.0) else _F(-1.0))
    return x if x != x else e


_erff_rest = njit(_erff_rest_py, inline="always", error_model="numpy")


_BLOCK = 1024
_C = _F(0.7071067811865476)      # M_SQRT1_2, as NumPy takes it for a float32 array


def _far_values_py(xb, far, idx, xf):
    """The indices (idx) and values (xf) of xb where far is set, packed; their count."""
    k = 0
    for i in range(xb.shape[0]):          # (branch-free compaction)
        idx[k] = i
        k += far[i]
    for j in range(k):
        xf[j] = xb[idx[j]]
    return k


_far_values = njit(_far_values_py, inline="always", error_model="numpy")


def _erf_block_py(ab, ob, far, idx, xf, yf):
    """ob = erff(ab) for one block (scratch far, idx, xf, yf of _BLOCK values): the
    vectorized loop for |x| < 1.25, then the block's other values, packed, in a second
    loop. One compiled function the kernels below call (compiled once, not per kernel)."""
    m = ab.shape[0]
    for i in range(m):
        v = ab[i]
        ob[i] = _erff_near(v)
        far[i] = not abs(v) < _F(1.25)
    k = _far_values(ab, far, idx, xf)
    for j in range(k):
        yf[j] = _erff_rest(xf[j])
    for j in range(k):
        ob[idx[j]] = yf[j]


_erf_block = inner(_erf_block_py, error_model="numpy")    # (the loops' callee only)


def _erf_into_py(x, out):
    """out = erff(x), a block of values at a time (in the cache)."""
    n = x.shape[0]
    far = np.empty(_BLOCK, np.bool_)
    idx = np.empty(_BLOCK, np.intp)
    xf = np.empty(_BLOCK, np.float32)
    yf = np.empty(_BLOCK, np.float32)
    for b in range(0, n, _BLOCK):
        _erf_block(x[b:b + _BLOCK], out[b:b + _BLOCK], far, idx, xf, yf)


def _gelu_into_py(x, out):
    """out = (0.5 x) (1 + erf(x * float32(M_SQRT1_2))), each step rounded to float32 (eager
    GELU's NumPy steps, ops/activation.gelu), erf libm's erff; by blocks."""
    n = x.shape[0]
    far = np.empty(_BLOCK, np.bool_)
    idx = np.empty(_BLOCK, np.intp)
    xf = np.empty(_BLOCK, np.float32)
    yf = np.empty(_BLOCK, np.float32)
    ab = np.empty(_BLOCK, np.float32)
    for b in range(0, n, _BLOCK):
        xb = x[b:b + _BLOCK]
        ob = out[b:b + _BLOCK]
        m = xb.shape[0]
        a = ab[:m]
        for i in range(m):
            a[i] = _F(xb[i] * _C)
        _erf_block(a, ob, far, idx, xf, yf)
        for i in range(m):
            ob[i] = _F(_F(_F(0.5) * xb[i]) * _F(ob[i] + _ONE))


_GELU_BETA = _F(0.3989422804014327)     # M_2_SQRTPI * M_SQRT1_2 * 0.5, as float32


def _gelu_backward_into_py(g, x, e, out):
    """out = g * (x * pdf + cdf), the multiply-add through float64 (the exact product, the
    sum rounded to float64 then float32: fma.muladd32_via64), cdf = (erf(x * M_SQRT1_2) +
    1) * 0.5, pdf = e * kBeta (e = exp(-x^2 / 2) from NumPy's exp, given): each step as
    ops/activation_backward's NumPy steps, erf libm's erff; by blocks."""
    n = x.shape[0]
    far = np.empty(_BLOCK, np.bool_)
    idx = np.empty(_BLOCK, np.intp)
    xf = np.empty(_BLOCK, np.float32)
    yf = np.empty(_BLOCK, np.float32)
    ab = np.empty(_BLOCK, np.float32)
    for b in range(0, n, _BLOCK):
        xb = x[b:b + _BLOCK]
        ob = out[b:b + _BLOCK]
        gb = g[b:b + _BLOCK]
        eb = e[b:b + _BLOCK]
        m = xb.shape[0]
        a = ab[:m]
        for i in range(m):
            a[i] = _F(xb[i] * _C)
        _erf_block(a, ob, far, idx, xf, yf)
        for i in range(m):
            cdf = _F(_F(ob[i] + _ONE) * _F(0.5))
            pdf = _F(eb[i] * _GELU_BETA)
            t = _F(np.float64(xb[i]) * np.float64(pdf) + np.float64(cdf))
            ob[i] = _F(gb[i] * t)


_erf_into = njit(_erf_into_py, error_model="numpy")
_gelu_into = njit(_gelu_into_py, error_model="numpy")
_gelu_backward_into = njit(_gelu_backward_into_py, error_model="numpy")


def _apply(kernel, a):
    flat = np.ascontiguousarray(a).reshape(-1)
    out = np.empty(flat.shape, np.float32)
    kernel(flat, out)
    return out.reshape(a.shape)


_AGREES: list = []


def agrees_with_libm():
    """Whether this process's libm erff is the one compiled here (glibc's fdlibm erff, up
    to glibc 2.40; another libm, or CORE-MATH's correctly rounded erff, differs): checked
    once on values from every branch against numba's math.erf (libm's erff, the ufunc
    eager used before and the fused kernels' erf). Callers fall back to that ufunc."""
    if not _AGREES:
        from .special import _ufunc
        e = np.array([2.0 ** -119, 2.0 ** -28, 0.84375, 1.25, 2.857142925262451, 4.0],
                     np.float32)
        probe = np.concatenate([np.linspace(-5, 5, 2001, dtype=np.float32), e, -e,
                                np.nextafter(e, np.float32(0)), [0.0, np.inf, 1e-40]])
        probe = probe.astype(np.float32)
        _AGREES.append(bool(np.array_equal(_apply(_erf_into, probe).view(np.uint32),
                                           _ufunc("erf")(probe).view(np.uint32))))
    return _AGREES[0]


def erf_f32(a):
    """erf of the float32 array a (any layout) as libm's erff: a new C-contiguous array
    (where agrees_with_libm())."""
    return _apply(_erf_into, a)


def gelu_f32(a):
    """The erf-form GELU of the float32 array a: a new C-contiguous array (where
    agrees_with_libm())."""
    return _apply(_gelu_into, a)


def gelu_backward_f32(grad, x):
    """The erf-form GELU's backward of float32 arrays grad and x of one shape, both
    C-contiguous: a new C-contiguous array (where agrees_with_libm())."""
    e = np.multiply(x, x)
    np.multiply(e, _F(-0.5), out=e)
    np.exp(e, out=e)
    out = np.empty(x.shape, np.float32)
    _gelu_backward_into(grad.reshape(-1), x.reshape(-1), e.reshape(-1), out.reshape(-1))
    return out
