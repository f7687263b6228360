"""lgamma as PyTorch's CPU kernel computes it: Sleef's lgammaf_u1 / lgamma_u1 (ATen's
Vectorized<float>::lgamma / Vectorized<double>::lgamma call Sleef_lgammaf16_u10 /
Sleef_lgammad8_u10 on AVX512 hosts, Sleef_lgammaf8_u10 / Sleef_lgammad4_u10 on AVX2 ones,
for every element: the vml kernel loads the tail as a partial vector), as numba
functions: Sleef's gammafk / gammak (double-float / double-double arithmetic), logk2f /
logk2 and sinpifk / sinpik, step by step, with the FMAs of Sleef's ENABLE_FMA_SP /
ENABLE_FMA_DP builds (`vmla` is one fused multiply-add there) and AVX512's getexp in
logk2f. glibc's lgamma differed from torch 2.13 on 29% of float32 and 24% of float64
values (an ulp, mostly); this gives torch's bits.

float16 and bfloat16 compute the float32 function and round (ATen's vml kernel converts
to float). Imported only when first wanted (numba is imported then)."""
import math

import numpy as np
from llvmlite import ir
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import types
from numba.extending import intrinsic

from ._fma_intrinsics import fma as _fma
from .numba_helpers import inner, lazy_vectorize, njit

__all__ = ["jit_f32", "jit_f64", "apply"]     # (and the ufuncs lgamma_f32, lgamma_f64)

_F = np.float32
_I32 = np.int32


def _jit(py_func):
    """numba.njit for the helpers, without gpujit's disk cache: a cached helper is linked
    into its callers as object code, called and not inlined (lgamma took ~230 ns an
    element so, ~25 inlined); the ufuncs and jit_f32 / jit_f64 are cached whole. (No
    Python / cfunc wrappers either, nor a JIT compile of their own: numba_helpers.inner,
    a cold compile's time.)"""
    return inner(py_func, error_model="numpy")


# ------------------------------------------------------------------ df.h / dd.h
# (one numba function a pair operation, compiled for float32 pairs and for float64 pairs;
# `_fma` is llvm.fma of the arguments' type)

@_jit
def _add2_ff(x, y):
    s = x + y
    v = s - x
    return s, (x - (s - v)) + (y - v)


@_jit
def _add2_ff2(x, yh, yl):
    s = x + yh
    v = s - x
    return s, ((x - (s - v)) + (yh - v)) + yl


@_jit
def _add2_f2f(xh, xl, y):
    s = xh + y
    v = s - xh
    t = (xh - (s - v)) + (y - v)
    return s, t + xl


@_jit
def _add2_f2f2(xh, xl, yh, yl):
    s = xh + yh
    v = s - xh
    t = (xh - (s - v)) + (yh - v)
    return s, t + (xl + yl)


@_jit
def _add_f2f2(xh, xl, yh, yl):
    s = xh + yh
    return s, (((xh - s) + yh) + xl) + yl


@_jit
def _normalize(h, l):
    s = h + l
    return s, (h - s) + l


@_jit
def _mul_ff(x, y):
    s = x * y
    return s, _fma(x, y, -s)


@_jit
def _mul_f2f(xh, xl, y):
    s = xh * y
    return s, _fma(xl, y, _fma(xh, y, -s))


@_jit
def _mul_f2f2(xh, xl, yh, yl):
    s = xh * yh
    return s, _fma(xh, yl, _fma(xl, yh, _fma(xh, yh, -s)))


@_jit
def _squ_f2(xh, xl):
    s = xh * xh
    return s, _fma(xh + xh, xl, _fma(xh, xh, -s))


@_jit
def _div_f2f2(nh, nl, dh, dl, one):
    t = one / dh
    s = nh * t
    u = _fma(t, nh, -s)
    v = _fma(-dl, t, _fma(-dh, t, one))
    return s, _fma(s, v, _fma(nl, t, u))


def _df(d):
    """vcast_vf2_d: a double as a float pair."""
    h = _F(d)
    return h, _F(d - float(h))


# 2^q as Sleef's vpow2i builds it, the bits (q + 127) << 23 of an int32: q in [-127, 150]
_POW2I = np.array([(((q + 127) << 23) & 0xFFFFFFFF) for q in range(-127, 151)],
                  np.uint32).view(np.float32)


@_jit
def _pow2i(q):
    if q < -127 or q > 150:
        return _F(1.0)          # (the int32 INT_MIN of an inf / NaN argument's exponent)
    return _POW2I[q + 127]


def _bitcast(llty, nbty, argty):
    def typer(typingctx, x):
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], llty)
        return nbty(argty), codegen
    return intrinsic(typer)


_i32_bits = _bitcast(ir.IntType(32), types.int32, types.float32)
_i64_bits = _bitcast(ir.IntType(64), types.int64, types.float64)


@_jit
def _getexp(x):
    """AVX512's vgetexpps: floor(log2 |x|) (subnormals included) as an int; +-inf and NaN
    give cvtps2dq's INT_MIN. (From the bits: numba's math.frexp took ~25 ns a call.)"""
    e = (_i32_bits(x) >> 23) & 0xFF
    if e == 0xFF or x == _F(0.0):
        return -2147483648
    if e == 0:          # subnormal: scaled by 2^64, exactly
        return ((_i32_bits(x * _F(18446744073709551616.0)) >> 23) & 0xFF) - 191
    return e - 127


@_jit
def _trunc_i32(x):
    """cvttps2dq: x truncated to an int32, INT_MIN when out of range or NaN."""
    if x != x or x >= _F(2147483648.0) or x < _F(-2147483648.0):
        return _I32(-2147483648)
    return _I32(int(x))


@_jit
def _logk2f(dh, dl):
    e = _getexp(dh * _F(1.0 / 0.75))
    p = _pow2i(-e)
    mh, ml = dh * p, dl * p
    nh, nl = _add2_f2f(mh, ml, _F(-1.0))
    qh, ql = _add2_f2f(mh, ml, _F(1.0))
    xh, xl = _div_f2f2(nh, nl, qh, ql, _F(1.0))
    x2h, x2l = _squ_f2(xh, xl)
    t = _F(0.2392828464508056640625)
    t = _fma(t, x2h, _F(0.28518211841583251953125))
    t = _fma(t, x2h, _F(0.400005877017974853515625))
    t = _fma(t, x2h, _F(0.666666686534881591796875))
    sh, sl = _mul_f2f(_F(0.69314718246459960938), _F(-1.904654323148236017e-09), _F(e))
    sh, sl = _add_f2f2(sh, sl, xh * _F(2.0), xl * _F(2.0))
    ch, cl = _mul_f2f2(x2h, x2l, xh, xl)
    ch, cl = _mul_f2f(ch, cl, t)
    return _add_f2f2(sh, sl, ch, cl)


@_jit
def _sinpifk(d):
    u = d * _F(4.0)
    q = _trunc_i32(u)
    q = (q + ((q >> 31) & 1 ^ 1)) & _I32(-2)       # (q >>> 31 of an int32: its sign bit)
    o = (q & 2) == 2
    s = u - _F(q)
    t = s
    s = s * s
    s2h, s2l = _mul_ff(t, t)
    if o:
        u = _F(-0.2430611801e-7)
        u = _fma(u, s, _F(0.3590577080e-5))
        u = _fma(u, s, _F(-0.3259917721e-3))
        xh, xl = _add2_ff2(u * s, _F(0.015854343771934509277), _F(4.4940051354032242811e-10))
        xh, xl = _mul_f2f2(s2h, s2l, xh, xl)
        xh, xl = _add2_f2f2(xh, xl, _F(-0.30842512845993041992), _F(-9.0728339030733922277e-09))
        xh, xl = _mul_f2f2(xh, xl, s2h, s2l)
        xh, xl = _add2_f2f(xh, xl, _F(1.0))
    else:
        u = _F(0.3093842054e-6)
        u = _fma(u, s, _F(-0.3657307388e-4))
        u = _fma(u, s, _F(0.2490393585e-2))
        xh, xl = _add2_ff2(u * s, _F(-0.080745510756969451904), _F(-1.3373665339076936258e-09))
        xh, xl = _mul_f2f2(s2h, s2l, xh, xl)
        xh, xl = _add2_f2f2(xh, xl, _F(0.78539818525314331055), _F(-2.1857338617566484855e-08))
        xh, xl = _mul_f2f2(xh, xl, t, _F(0.0))
    if (q & 4) == 4:
        return -xh, -xl
    return xh, xl


# gammafk's polynomial: (x >= 2.3, 0.5 <= x <= 1.2, otherwise)
_GU = np.array([
    [0.000839498720672087279971000786, +0.9435157776e+0, +0.1102489550e-3],
    [-5.17179090826059219329394422e-05, +0.8670063615e+0, +0.8160019934e-4],
    [-0.000592166437353693882857342347, +0.4826702476e+0, +0.1528468856e-3],
    [+6.97281375836585777403743539e-05, -0.8855129778e-1, -0.2355068718e-3],
    [+0.000784039221720066627493314301, +0.1013825238e+0, +0.4962242092e-3],
    [-0.000229472093621399176949318732, -0.1493408978e+0, -0.1193488017e-2],
    [-0.002681327160493827160473958490, +0.1697509140e+0, +0.2891599433e-2],
    [+0.003472222222222222222175164840, -0.2072454542e+0, -0.7385451812e-2],
    [+0.083333333333333333335592087900, +0.2705872357e+0, +0.2058077045e-1]], np.float32)
_LN2PI_2 = _df(0.91893853320467278056)        # 0.5 log(2 pi)
_LOG2_60 = _df(41.58883083359671856503)       # log(2^60)
_LOGPI = _df(1.1447298858494001639)


@_jit
def _gammafk(a):
    """Sleef's gammafk: (log part, ratio), lgamma = log part + log |ratio|."""
    otiny = abs(a) < _F(1e-30)
    oref = a < _F(0.5)
    if otiny:
        xh, xl = _F(0.0), _F(0.0)
    elif oref:
        xh, xl = _add2_ff(_F(1.0), -a)
    else:
        xh, xl = a, _F(0.0)
    o0 = _F(0.5) <= xh and xh <= _F(1.2)
    o2 = _F(2.3) <= xh
    yh, yl = _add2_f2f(xh, xl, _F(1.0))
    yh, yl = _normalize(*_mul_f2f2(yh, yl, xh, xl))
    zh, zl = _add2_f2f(xh, xl, _F(2.0))
    yh, yl = _normalize(*_mul_f2f2(zh, zl, yh, yl))
    o = o2 and xh <= _F(7.0)
    if o:
        llnh, llnl = yh, yl
        xh, xl = _add2_f2f(xh, xl, _F(3.0))
    else:
        llnh, llnl = _F(1.0), _F(0.0)
    if o2:
        t = _F(1.0) / xh
    else:
        t = _normalize(*_add2_f2f(xh, xl, _F(-1.0) if o0 else _F(-2.0)))[0]
    col = 0 if o2 else (1 if o0 else 2)
    u = _GU[0, col]
    for i in range(1, 9):
        u = _fma(u, t, _GU[i, col])
    ah, al = _add2_f2f(xh, xl, _F(-0.5))
    bh, bl = _logk2f(xh, xl)
    yh, yl = _mul_f2f2(ah, al, bh, bl)
    yh, yl = _add2_f2f2(yh, yl, -xh, -xl)
    yh, yl = _add2_f2f2(yh, yl, _F(_LN2PI_2[0]), _F(_LN2PI_2[1]))
    if o0:
        c1, c2, c3 = (_F(-0.400686534596170958447352690395), _F(0.822466960142643054450325495997),
                      _F(-0.577215665946766039837398973297))
    else:
        c1, c2, c3 = (_F(-0.0673523028297382446749257758235),
                      _F(0.322467033928981157743538726901),
                      _F(0.422784335087484338986941629852))
    zh, zl = _mul_ff(u, t)
    zh, zl = _add2_f2f(zh, zl, c1)
    zh, zl = _add2_f2f(*_mul_f2f(zh, zl, t), c2)
    zh, zl = _add2_f2f(*_mul_f2f(zh, zl, t), c3)
    zh, zl = _mul_f2f(zh, zl, t)
    if o2:
        clch, clcl = yh, yl
        ldh, ldl = _add2_f2f(*_mul_ff(u, t), _F(1.0))
    else:
        clch, clcl = zh, zl
        ldh, ldl = _F(1.0), _F(0.0)
    if otiny:
        return (_F(_LOG2_60[0]), _F(_LOG2_60[1]), _F(1.0), _F(0.0),
                a * _F(1152921504606846976.0), _F(0.0))      # (a * 2^60)
    if oref:
        clch, clcl = _add2_f2f2(_F(_LOGPI[0]), _F(_LOGPI[1]), -clch, -clcl)
        r = a - _F(4096.0) * _F(_trunc_i32(a * _F(1.0 / 4096.0)))
        sh, sl = _sinpifk(r)
        dh, dl = _mul_f2f2(ldh, ldl, sh, sl)
        return clch, clcl, llnh, llnl, dh, dl
    return clch, clcl, ldh, ldl, llnh, llnl


def _lgamma_f32_py(a):
    """Sleef's xlgammaf_u1: log part + log |numerator / denominator| in double-float."""
    ch, cl, nh, nl, dh, dl = _gammafk(a)
    qh, ql = _div_f2f2(nh, nl, dh, dl, _F(1.0))
    if qh < _F(0.0):            # (dfabs: both halves' signs flipped by the high one's)
        qh, ql = -qh, -ql
    lh, ll = _logk2f(qh, ql)
    yh, yl = _add2_f2f2(ch, cl, lh, ll)
    r = yh + yl
    if a == _F(math.inf) or a == _F(-math.inf) or (a <= _F(0.0) and np.trunc(a) == a) \
            or (a == a and r != r):
        return _F(math.inf)
    return r


jit_f32 = njit(_lgamma_f32_py, error_model="numpy")


# ------------------------------------------------------------------ double (sleefsimddp.c)

@_jit
def _pow2i64(q):
    """Sleef's vpow2i_vd_vi: the double of bits (q + 1023) << 52."""
    if q == -1023:
        return 0.0
    if q == 1024:
        return math.inf
    return math.ldexp(1.0, q)


@_jit
def _ldexp2(d, e):
    h = e >> 1
    return d * _pow2i64(h) * _pow2i64(e - h)


@_jit
def _getexp64(x):
    e = (_i64_bits(x) >> 52) & 0x7FF
    if e == 0x7FF or x == 0.0:
        return -2147483648
    if e == 0:
        return ((_i64_bits(x * 18446744073709551616.0) >> 52) & 0x7FF) - 1087
    return e - 1023


@_jit
def _logk2(dh, dl):
    e = _getexp64(dh * (1.0 / 0.75))
    mh, ml = _ldexp2(dh, -e), _ldexp2(dl, -e)
    nh, nl = _add2_f2f(mh, ml, -1.0)
    qh, ql = _add2_f2f(mh, ml, 1.0)
    xh, xl = _div_f2f2(nh, nl, qh, ql, 1.0)
    x2h, x2l = _squ_f2(xh, xl)
    x4 = x2h * x2h
    x8 = x4 * x4
    # (Sleef's POLY7 by Estrin's scheme: x2, x4, x8 in its x, x2, x4)
    p3 = _fma(x4, 0.13860436390467167910856, _fma(x2h, 0.131699838841615374240845,
                                                  0.153914168346271945653214))
    p4 = _fma(x4, _fma(x2h, 0.181816523941564611721589, 0.22222224632662035403996),
              _fma(x2h, 0.285714285511134091777308, 0.400000000000914013309483))
    t = _fma(x8, p3, p4)
    t = _fma(t, x2h, 0.666666666666664853302393)
    sh, sl = _mul_f2f(0.693147180559945286226764, 2.319046813846299558417771e-17, float(e))
    sh, sl = _add_f2f2(sh, sl, xh * 2.0, xl * 2.0)
    ch, cl = _mul_f2f2(x2h, x2l, xh, xl)
    ch, cl = _mul_f2f(ch, cl, t)
    return _add_f2f2(sh, sl, ch, cl)


_SINPI_U = np.array([[9.94480387626843774090208e-16, -2.02461120785182399295868e-14],
                     [-3.89796226062932799164047e-13, 6.948218305801794613277840e-12],
                     [1.150115825399960352669010e-10, -1.75724749952853179952664e-09],
                     [-2.46113695010446974953590e-08, 3.133616889668683928784220e-07],
                     [3.590860448590527540050620e-06, -3.65762041821615519203610e-05],
                     [-0.000325991886927389905997954, 0.0024903945701927185027435600]])


@_jit
def _sinpik(d):
    u = d * 4.0
    q = _trunc_i32(u)
    q = (q + ((q >> 31) & 1 ^ 1)) & _I32(-2)
    o = (q & 2) == 2
    s = u - float(q)
    t = s
    s = s * s
    s2h, s2l = _mul_ff(t, t)
    col = 0 if o else 1
    u = _SINPI_U[0, col]
    for i in range(1, 6):
        u = _fma(u, s, _SINPI_U[i, col])
    if o:
        xh, xl = _add2_ff2(u * s, 0.0158543442438155018914259, -1.04693272280631521908845e-18)
        xh, xl = _mul_f2f2(s2h, s2l, xh, xl)
        xh, xl = _add2_f2f2(xh, xl, -0.308425137534042437259529, -1.95698492133633550338345e-17)
        xh, xl = _mul_f2f2(xh, xl, s2h, s2l)
        xh, xl = _add2_f2f(xh, xl, 1.0)
    else:
        xh, xl = _add2_ff2(u * s, -0.0807455121882807852484731, 3.61852475067037104849987e-18)
        xh, xl = _mul_f2f2(s2h, s2l, xh, xl)
        xh, xl = _add2_f2f2(xh, xl, 0.785398163397448278999491, 3.06287113727155002607105e-17)
        xh, xl = _mul_f2f2(xh, xl, t, 0.0)
    if (q & 4) == 4:
        return -xh, -xl
    return xh, xl


# gammak's polynomial: (x >= 2.3, 0.5 <= x <= 1.1, otherwise)
_GU64 = np.array([
    [-156.801412704022726379848862, +0.2947916772827614196e+2, +0.7074816000864609279e-7],
    [+1.120804464289911606838558160000, +0.1281459691827820109e+3, +0.4009244333008730443e-6],
    [+13.39798545514258921833306020000, +0.2617544025784515043e+3, +0.1040114641628246946e-5],
    [-0.116546276599463200848033357000, +0.3287022855685790432e+3, +0.1508349150733329167e-5],
    [-1.391801093265337481495562410000, +0.2818145867730348186e+3, +0.1288143074933901020e-5],
    [+0.015056113040026424412918973400, +0.1728670414673559605e+3, +0.4744167749884993937e-6],
    [+0.179540117061234856098844714000, +0.7748735764030416817e+2, -0.6554816306542489902e-7],
    [-0.002481743600264997730942489280, +0.2512856643080930752e+2, -0.3189252471452599844e-6],
    [-0.029527880945699120504851034100, +0.5766792106140076868e+1, +0.1358883821470355377e-6],
    [+0.000540164767892604515196325186, +0.7270275473996180571e+0, -0.4343931277157336040e-6],
    [+0.006403362833808069794787256200, +0.8396709124579147809e-1, +0.9724785897406779555e-6],
    [-0.000162516262783915816896611252, -0.8211558669746804595e-1, -0.2036886057225966011e-5],
    [-0.001914438498565477526465972390, +0.6828831828341884458e-1, +0.4373363141819725815e-5],
    [+7.20489541602001055898311517e-05, -0.7712481339961671511e-1, -0.9439951268304008677e-5],
    [+0.000839498720672087279971000786, +0.8337492023017314957e-1, +0.2050727030376389804e-4],
    [-5.17179090826059219329394422e-05, -0.9094964931456242518e-1, -0.4492620183431184018e-4],
    [-0.000592166437353693882857342347, +0.1000996313575929358e+0, +0.9945751236071875931e-4],
    [+6.97281375836585777403743539e-05, -0.1113342861544207724e+0, -0.2231547599034983196e-3],
    [+0.000784039221720066627493314301, +0.1255096673213020875e+0, +0.5096695247101967622e-3],
    [-0.000229472093621399176949318732, -0.1440498967843054368e+0, -0.1192753911667886971e-2],
    [-0.002681327160493827160473958490, +0.1695571770041949811e+0, +0.2890510330742210310e-2],
    [+0.003472222222222222222175164840, -0.2073855510284092762e+0, -0.7385551028674461858e-2],
    [+0.083333333333333333335592087900, +0.2705808084277815939e+0, +0.2058080842778455335e-1]])


@_jit
def _gammak(a):
    """Sleef's gammak, as _gammafk in double-double."""
    otiny = abs(a) < 1e-306
    oref = a < 0.5
    if otiny:
        xh, xl = 0.0, 0.0
    elif oref:
        xh, xl = _add2_ff(1.0, -a)
    else:
        xh, xl = a, 0.0
    o0 = 0.5 <= xh and xh <= 1.1
    o2 = 2.3 <= xh
    yh, yl = _normalize(*_mul_f2f2(*_add2_f2f(xh, xl, 1.0), xh, xl))
    yh, yl = _normalize(*_mul_f2f2(*_add2_f2f(xh, xl, 2.0), yh, yl))
    yh, yl = _normalize(*_mul_f2f2(*_add2_f2f(xh, xl, 3.0), yh, yl))
    yh, yl = _normalize(*_mul_f2f2(*_add2_f2f(xh, xl, 4.0), yh, yl))
    o = o2 and xh <= 7.0
    if o:
        llnh, llnl = yh, yl
        xh, xl = _add2_f2f(xh, xl, 5.0)
    else:
        llnh, llnl = 1.0, 0.0
    if o2:
        t = 1.0 / xh
    else:
        t = _normalize(*_add2_f2f(xh, xl, -1.0 if o0 else -2.0))[0]
    col = 0 if o2 else (1 if o0 else 2)
    u = _GU64[0, col]
    for i in range(1, 23):
        u = _fma(u, t, _GU64[i, col])
    ah, al = _add2_f2f(xh, xl, -0.5)
    bh, bl = _logk2(xh, xl)
    yh, yl = _mul_f2f2(ah, al, bh, bl)
    yh, yl = _add2_f2f2(yh, yl, -xh, -xl)
    yh, yl = _add2_f2f2(yh, yl, 0.91893853320467278056, -3.8782941580672414498e-17)
    if o0:
        c1, c2, c3 = -0.4006856343865314862e+0, +0.8224670334241132030e+0, -0.5772156649015328655e+0
    else:
        c1, c2, c3 = -0.6735230105319810201e-1, +0.3224670334241132030e+0, +0.4227843350984671345e+0
    zh, zl = _add2_f2f(*_mul_ff(u, t), c1)
    zh, zl = _add2_f2f(*_mul_f2f(zh, zl, t), c2)
    zh, zl = _add2_f2f(*_mul_f2f(zh, zl, t), c3)
    zh, zl = _mul_f2f(zh, zl, t)
    if o2:
        clch, clcl = yh, yl
        ldh, ldl = _add2_f2f(*_mul_ff(u, t), 1.0)
    else:
        clch, clcl = zh, zl
        ldh, ldl = 1.0, 0.0
    if otiny:      # log(2^120); a * 2^120
        return (83.1776616671934334590333, 3.67103459631568507221878e-15, 1.0, 0.0,
                a * 1.329227995784916e+36, 0.0)
    if oref:
        clch, clcl = _add2_f2f2(1.1447298858494001639, 1.026595116270782638e-17, -clch, -clcl)
        r = a - 268435456.0 * float(_trunc_i32(a * (1.0 / 268435456.0)))
        sh, sl = _sinpik(r)
        dh, dl = _mul_f2f2(ldh, ldl, sh, sl)
        return clch, clcl, llnh, llnl, dh, dl
    return clch, clcl, ldh, ldl, llnh, llnl


def _lgamma_f64_py(a):
    """Sleef's xlgamma_u1."""
    ch, cl, nh, nl, dh, dl = _gammak(a)
    qh, ql = _div_f2f2(nh, nl, dh, dl, 1.0)
    if qh < 0.0:
        qh, ql = -qh, -ql
    lh, ll = _logk2(qh, ql)
    yh, yl = _add2_f2f2(ch, cl, lh, ll)
    r = yh + yl
    if a == math.inf or a == -math.inf or (a <= 0.0 and np.rint(a) == a) or (a == a and r != r):
        return math.inf
    return r


jit_f64 = njit(_lgamma_f64_py, error_model="numpy")


# the ufuncs, made at their first use (a float32 call does not build the float64 loop)
__getattr__ = lazy_vectorize(globals(), {"lgamma_f32": (["float32(float32)"], _lgamma_f32_py),
                                         "lgamma_f64": (["float64(float64)"], _lgamma_f64_py)})


def apply(a):
    """torch.lgamma's values of NumPy array a: float32 and float64 in their dtype, float16
    (and bfloat16, by its caller) the float32 value rounded, other dtypes in float64."""
    dt = a.dtype
    if dt == np.float32:
        return np.asarray(__getattr__("lgamma_f32")(a))
    if dt == np.float16:
        return np.asarray(__getattr__("lgamma_f32")(a.astype(np.float32))).astype(np.float16)
    if dt == np.float64:
        return np.asarray(__getattr__("lgamma_f64")(a))
    return np.asarray(__getattr__("lgamma_f64")(a.astype(np.float64)))
