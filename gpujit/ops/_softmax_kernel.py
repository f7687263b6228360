"""float32 softmax / log_softmax over the last dim, and their backward, in PyTorch 2.13's CPU
order of operations (SoftMaxKernel.cpp's _vec_softmax_lastdim / _vec_log_softmax_lastdim
and _vec_host_softmax_backward_lastdim, registered with an AVX512 build too), compiled by
numba; ops/reduction_scans.py calls them for C-contiguous float32 arrays on NumPy.

Per row: max, then exp(x - max) by Vectorized<float>::exp (Sleef's expf_u10:
ops/_aten_erf_kernel._sleef_expf), summed by vec::reduce_all: `lanes` accumulators (16 on
an AVX512 CPU, 8 on AVX2) over the whole vectors, the tail added into the first lanes,
then the lanes folded by halves (the SIMD shuffle tree: lane i + lane i ^ h for h =
lanes/2 ... 1); a row shorter than `lanes` is summed in order. softmax multiplies by 1 /
sum; log_softmax subtracts max, then log(sum) (Sleef's logf_u10, _sleef_logf). Backward:
softmax (grad - sum(grad * out)) * out; log_softmax grad - exp(out) * sum(grad) (one FMA: GCC contracts the
intrinsics), the sums
by the same reduce_all. Checked against torch 2.13 on this machine (AVX512) for row
lengths 1 to 300 and a few thousand: every value equal; NumPy's exp and pairwise sums
differed in 15-50% of the values. Imported when first wanted (numba is imported then)."""
import math

import numpy as np
from llvmlite import ir
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._aten_erf_kernel import sleef_expf_core as _sleef_expf_core
from ._fma_intrinsics import fma_f32 as _fma
from .numba_helpers import njit

_F = np.float32          # (numba caches this file by its hash: an edit recompiles)


def _bits_f32(typingctx, i):
    """The float32 whose bits are the int32 i (an LLVM bitcast)."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


_bits_f32 = intrinsic(_bits_f32)


def _expf_py(d):
    """Sleef's expf_u10 (ops/_aten_erf_kernel._sleef_expf, bit for bit) without branches,
    so that LLVM vectorizes a loop of it: q = rint(d / log 2) by the 1.5 * 2^23 shift
    (round half to even, as cvtps2dq), 2^(q >> 1) and 2^(q - (q >> 1)) built from their
    bits, the limits (-104: 0, 100: inf, NaN) by selects."""
    v = _F(d * _F(1.442695040888963407359924681001892137426645954152985934))
    v = min(max(v, _F(-200.0)), _F(200.0))
    qf = _F(_F(v + _F(12582912.0)) - _F(12582912.0))
    q = np.int32(qf)
    u = _sleef_expf_core(d, qf)
    q1 = q >> 1
    q2 = q - q1
    q1 = min(max(q1, np.int32(-126)), np.int32(127))
    q2 = min(max(q2, np.int32(-126)), np.int32(127))
    u = _F(u * _bits_f32(np.int32((q1 + 127) << 23)))
    u = _F(u * _bits_f32(np.int32((q2 + 127) << 23)))
    u = _F(0.0) if d < _F(-104.0) else u
    u = _F(math.inf) if d > _F(100.0) else u
    return d if d != d else u




def _dfadd2_ff(x, y):
    """Sleef's dfadd2_vf2_vf_vf: x + y as a double-float (hi, lo)."""
    s = _F(x + y)
    v = _F(s - x)
    return s, _F(_F(x - _F(s - v)) + _F(y - v))


def _dfdiv(nx, ny, dx, dy):
    """Sleef's dfdiv_vf2_vf2_vf2 (its FMA form): (nx + ny) / (dx + dy)."""
    t = _F(_F(1.0) / dx)
    s = _F(nx * t)
    u = _fma(t, nx, -s)
    v = _fma(-dy, t, _fma(-dx, t, _F(1.0)))
    return s, _fma(s, v, _fma(ny, t, u))


def _dfadd_f2f2(xx, xy, yx, yy):
    """Sleef's dfadd_vf2_vf2_vf2."""
    s = _F(xx + yx)
    return s, _F(_F(_F(_F(xx - s) + yx) + xy) + yy)


def _dfadd_f2f(xx, xy, y):
    """Sleef's dfadd_vf2_vf2_vf."""
    s = _F(xx + y)
    return s, _F(_F(_F(xx - s) + y) + xy)


def _sleef_logf_py(d):
    """Sleef's xlogf_u1 of float32 d as its AVX512 build computes it (Vectorized<float>::log,
    Sleef_logf16_u10): e = getexp(d / 0.75), m = getmant(d) in [0.75, 1.5), x = (m - 1) /
    (m + 1) as a double-float, log = e * log 2 + 2x + x^3 * t(x^2) in double-float
    arithmetic (FMA forms), the special values fixed up (0: -inf, < 0 or NaN: NaN, inf)."""
    if d != d or d < _F(0.0):
        return _F(math.nan)
    if d == _F(0.0):
        return _F(-math.inf)
    if d == _F(math.inf):
        return _F(math.inf)
    ef = _F(math.frexp(_F(d * _F(1.0 / 0.75)))[1] - 1)
    f, k = math.frexp(d)
    m = _F(f) if f >= 0.75 else _F(f * 2.0)
    sx = _F(_F(0.69314718246459960938) * ef)
    sy = _fma(_F(-1.904654323148236017e-09), ef,
              _fma(_F(0.69314718246459960938), ef, -sx))
    ax, ay = _dfadd2_ff(_F(-1.0), m)
    bx, by = _dfadd2_ff(_F(1.0), m)
    xx, xy = _dfdiv(ax, ay, bx, by)
    x2 = _F(xx * xx)
    t = _fma(_F(0.3027294874), x2, _F(0.3996108174))
    t = _fma(t, x2, _F(0.6666694880))
    sx, sy = _dfadd_f2f2(sx, sy, _F(xx * _F(2.0)), _F(xy * _F(2.0)))
    sx, sy = _dfadd_f2f(sx, sy, _F(_F(x2 * xx) * t))
    return _F(sx + sy)


# (the helpers are inlined into their callers, numba's IR inlining: each njit function
# numba compiles on its own costs its own typing, lowering, O3 pipeline, machine code,
# Python wrapper and cache entry, ~0.1-0.4 s cold and ~20 ms to load warm; the rows
# kernels below are then one compiled function each)
_dfadd2_ff = njit(_dfadd2_ff, inline="always")
_dfdiv = njit(_dfdiv, inline="always")
_dfadd_f2f2 = njit(_dfadd_f2f2, inline="always")
_dfadd_f2f = njit(_dfadd_f2f, inline="always")
_sleef_logf = njit(_sleef_logf_py, inline="always")


def _fold_py(acc, n, lanes):
    """vec::reduce_all's last step: lanes folded by halves (lanes == n), or the first n
    lanes added in order (a row shorter than one vector)."""
    if n < lanes:
        s = acc[0]
        for i in range(1, n):
            s = _F(s + acc[i])
        return s
    h = lanes // 2
    while h >= 1:
        for i in range(h):
            acc[i] = _F(acc[i] + acc[i + h])
        h //= 2
    return acc[0]


_fold = njit(_fold_py, inline="always")


def _row_sum_py(v, acc, lanes):
    """vec::reduce_all(+) of the float32 row v (acc: scratch of `lanes`)."""
    n = v.shape[0]
    if n < lanes:
        for i in range(n):
            acc[i] = v[i]
        return _fold(acc, n, lanes)
    for i in range(lanes):
        acc[i] = v[i]
    d = lanes
    whole = n - n % lanes
    while d < whole:
        for i in range(lanes):
            acc[i] = _F(acc[i] + v[d + i])
        d += lanes
    for i in range(n - d):
        acc[i] = _F(acc[i] + v[d + i])
    return _fold(acc, lanes, lanes)


_row_sum = njit(_row_sum_py, inline="always")


def _row_sum_lanes_py(v, acc, lanes):
    """_row_sum of this CPU's lanes (LANES, a constant to the compiler: the lanes' loops
    unroll and vectorize); another count: _row_sum."""
    if lanes != LANES:
        return _row_sum(v, acc, lanes)
    n = v.shape[0]
    if n < LANES:
        return _row_sum(v, acc, lanes)
    for i in range(LANES):
        acc[i] = v[i]
    whole = n - n % LANES
    for d in range(LANES, whole, LANES):
        piece = v[d:d + LANES]        # (a view: indices from 0, no gather)
        for i in range(LANES):
            acc[i] = _F(acc[i] + piece[i])
    tail = v[whole:]
    for i in range(n - whole):
        acc[i] = _F(acc[i] + tail[i])
    return _fold(acc, LANES, LANES)


_row_sum_lanes = njit(_row_sum_lanes_py, inline="always")


def _expf(typingctx, d):
    """_expf_py's steps written as LLVM IR (an intrinsic: the instructions are emitted
    into the loop calling it, which LLVM vectorizes). As an njit function with
    inline="always", numba deep-copied its IR and Sleef's core's at every call site and
    typed it again (~40% of the softmax kernels' cold compile). The same operations in
    the same order, each rounded to float32 (fmul / fadd, llvm.fma.f32), so the same bits."""
    def codegen(context, builder, sig, args):
        d = args[0]
        f32, i32 = ir.FloatType(), ir.IntType(32)

        def c(v):
            return ir.Constant(f32, float(_F(v)))

        def ci(v):
            return ir.Constant(i32, v)
        fma_fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(f32, [f32] * 3), "llvm.fma.f32")

        def fma(a, b, z):
            return builder.call(fma_fn, [a, b, z])

        def smax(a, b):
            return builder.select(builder.icmp_signed(">", a, b), a, b)

        def smin(a, b):
            return builder.select(builder.icmp_signed("<", a, b), a, b)
        v = builder.fmul(d, c(1.442695040888963407359924681001892137426645954152985934))
        v = builder.select(builder.fcmp_ordered(">", v, c(-200.0)), v, c(-200.0))
        v = builder.select(builder.fcmp_ordered("<", v, c(200.0)), v, c(200.0))
        qf = builder.fsub(builder.fadd(v, c(12582912.0)), c(12582912.0))
        q = builder.fptosi(qf, i32)
        # Sleef's core (ops/_aten_erf_kernel._sleef_expf_core_py)
        t = fma(qf, c(-0.693145751953125), d)
        t = fma(qf, c(-1.428606765330187045e-06), t)
        u = c(0.000198527617612853646278381)
        for k in (0.00139304355252534151077271, 0.00833336077630519866943359,
                  0.0416664853692054748535156, 0.166666671633720397949219, 0.5):
            u = fma(u, t, c(k))
        u = builder.fadd(c(1.0), fma(builder.fmul(t, t), u, t))
        q1 = builder.ashr(q, ci(1))
        q2 = builder.sub(q, q1)
        for qk in (smin(smax(q1, ci(-126)), ci(127)), smin(smax(q2, ci(-126)), ci(127))):
            scale = builder.bitcast(builder.shl(builder.add(qk, ci(127)), ci(23)), f32)
            u = builder.fmul(u, scale)
        u = builder.select(builder.fcmp_ordered("<", d, c(-104.0)), c(0.0), u)
        u = builder.select(builder.fcmp_ordered(">", d, c(100.0)), c(math.inf), u)
        return builder.select(builder.fcmp_unordered("uno", d, d), d, u)
    return types.float32(types.float32), codegen


_expf = intrinsic(_expf)


def _row_max_py(xr, mx):
    """max of the float32 row xr, NaN where it has one (exact in any order): 16 running
    maxima (mx, scratch) over the whole 16-value pieces, independent lanes (LLVM
    vectorizes them), then the rest and the lanes in order."""
    n = xr.shape[0]
    whole = n - n % 16
    nan = False
    m = xr[0]
    if whole:
        for j in range(16):
            mx[j] = xr[j]
        for d in range(16, whole, 16):
            piece = xr[d:d + 16]      # (a view: indices from 0, no gather)
            for j in range(16):
                v = piece[j]
                a = mx[j]
                mx[j] = v if v > a else a
                nan |= v != v
        for j in range(16):
            v = mx[j]
            m = v if v > m else m
            nan |= v != v
    for i in range(whole, n):
        v = xr[i]
        m = v if v > m else m
        nan |= v != v
    return _F(math.nan) if nan else m


_row_max = njit(_row_max_py, inline="always", error_model="numpy")


def _softmax_rows_py(x, y, lanes, acc, mx):
    """softmax of each row of x into y, as _vec_softmax_lastdim: the row's max,
    exp(x - max) into y (a 1-D loop of the branch-free exp), the lanes' sum of y, then
    y * (1 / sum). One row at a time: it stays in the cache."""
    M, N = x.shape
    for r in range(M):
        xr = x[r]
        yr = y[r]
        m = _row_max(xr, mx)
        for i in range(N):
            yr[i] = _expf(_F(xr[i] - m))
        inv = _F(_F(1.0) / _row_sum_lanes(yr, acc, lanes))
        for i in range(N):
            yr[i] = _F(yr[i] * inv)


def _log_softmax_rows_py(x, y, lanes, acc, mx):
    """log_softmax of each row of x into y, as _vec_log_softmax_lastdim: exp(x - max)
    summed as softmax's, then (x - max) - log(sum)."""
    M, N = x.shape
    for r in range(M):
        xr = x[r]
        yr = y[r]
        m = _row_max(xr, mx)
        for i in range(N):
            yr[i] = _expf(_F(xr[i] - m))
        ls = _sleef_logf(_row_sum_lanes(yr, acc, lanes))
        for i in range(N):
            yr[i] = _F(_F(xr[i] - m) - ls)


def _softmax_backward_rows_py(g, out, gi, lanes, acc):
    """The rows of softmax_backward_lastdim (gi a fresh array, no view of g or out)."""
    M, N = g.shape
    for r in range(M):
        gr = g[r]
        orow = out[r]
        gir = gi[r]
        for i in range(N):
            gir[i] = _F(gr[i] * orow[i])
        s = _row_sum_lanes(gir, acc, lanes)
        for i in range(N):
            gir[i] = _F(_F(gr[i] - s) * orow[i])


def _log_softmax_backward_rows_py(g, out, gi, lanes, acc):
    """The rows of log_softmax's backward over the last dim: g - exp(out) * sum(g)."""
    M, N = g.shape
    for r in range(M):
        gr = g[r]
        orow = out[r]
        gir = gi[r]
        s = _row_sum_lanes(gr, acc, lanes)
        for i in range(N):
            gir[i] = _fma(-_expf(orow[i]), s, gr[i])


# (softmax and log_softmax, forward and backward, are four functions compiled at their
# first use each: one kernel of both, chosen by a runtime flag, compiled both bodies
# (the log's Sleef logf among them) for either)
_softmax_rows = njit(_softmax_rows_py, error_model="numpy")
_log_softmax_rows = njit(_log_softmax_rows_py, error_model="numpy")
_softmax_backward_rows = njit(_softmax_backward_rows_py, error_model="numpy")
_log_softmax_backward_rows = njit(_log_softmax_backward_rows_py, error_model="numpy")


def softmax_lastdim(x, y, lanes, log):
    """softmax (log: log_softmax) of the rows of x, (M, N) C-contiguous float32, N > 0,
    into y (a fresh (M, N) float32 array): max, Sleef's exp of x - max, the lanes' sums,
    then e * (1 / sum) or (x - max) - log(sum), row by row in one compiled loop."""
    # (the rows' scratch, NumPy's: np.empty in numba code compiled numba's empty, ~0.2 s
    # of a cold first softmax)
    (_log_softmax_rows if log else _softmax_rows)(x, y, lanes, np.empty(lanes, _F),
                                                  np.empty(16, _F))


def softmax_backward_lastdim(g, out, gi, lanes, log):
    """The gradient of softmax_lastdim's rows (g, out, gi: (M, N) C-contiguous float32,
    gi a fresh array): softmax (g - sum(g * out)) * out; log_softmax g - exp(out) *
    sum(g), one FMA."""
    (_log_softmax_backward_rows if log else _softmax_backward_rows)(g, out, gi, lanes,
                                                                    np.empty(lanes, _F))


def lanes():
    """Vectorized<float>::size() of the kernels ATen runs on this CPU (the AVX512 build
    where torch.backends.cpu.get_cpu_capability() says so, as ATen dispatches)."""
    from ..backends.cpu import get_cpu_capability
    return 16 if get_cpu_capability() == "AVX512" else 8


LANES = lanes()


def lastdim_2d(a):
    """a (float32, its softmax dim last) as the C-contiguous (rows, N) array the kernels
    take (ATen's softmax runs on input.contiguous() too)."""
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])
