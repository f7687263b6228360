"""float32 / float64 layer_norm forward in PyTorch 2.13's CPU order of operations, compiled
by numba (ops/nn_norm.py uses it for float32 and float64 inputs and parameters on NumPy).

ATen's LayerNormKernelImplInternal (aten/src/ATen/native/cpu/layer_norm_kernel.cpp) is
registered without an AVX512 build, so x86 CPUs run its AVX2 build: Vectorized<float>
holds 8 lanes, Vectorized<double> 4. Per row, RowwiseMoments (moments_utils.h): Welford over chunks of 16
vectors (UpdateMomentsVec: m1 = fmadd(1/(j+1), d, m1), m2 = fmadd(d, x - m1, m2)), each
chunk merged into a cascade stack by AddMomentsVec (m1 + c * d and
fmadd(d * m0, c * d, m2 + m2_add)), the tail past the last whole vector sequentially (not
contracted), then the 8 lanes merged in order by the scalar AddMoments (compiled with FMA
contraction: m1 += c * d and m2_add + d * d * c * m0 each rounded once); var = m2 / N,
rstd = 1 / sqrt(var + eps), y = fma((x - mean) * rstd, gamma, beta) (vec::map3's lambda,
contracted). Checked against torch 2.13 on this machine: every value equal, for every
row length from 1 to 135 (5000 rows each) and 55 lengths up to 40000 (several chunks and
stack levels); gpujit's NumPy form before differed in 40-55% of the values.

group_norm (GroupNormKernelImplInternal, group_norm_kernel.cpp, a C-contiguous input):
the same RowwiseMoments over each (sample, group)'s D * HxW values, rstd = 1 / sqrt(max(var,
0) + eps) computed in double (eps is a double there) and rounded once; without weight and
bias y = (x - mean) * rstd, else per channel scale = rstd * gamma, bias = fma(-scale,
mean, beta), y = fma(scale, x, bias). Imported when first wanted (numba is imported then)."""
import numpy as np
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import types
from numba.extending import overload

from ._fma_intrinsics import fma_f32, fma_f64
from .numba_helpers import inner, njit

LANES = {np.dtype(np.float32): 8, np.dtype(np.float64): 4}   # Vectorized<T>::size(), AVX2


def _as(v, like):
    """v converted to like's float type (numba: float32 or float64)."""
    return float(v)


@overload(_as)
def _as_impl(v, like):
    if like == types.float32:
        return lambda v, like: types.float32(v)
    return lambda v, like: types.float64(v)


def _lanes(like):
    """LANES of like's float type, a constant to the compiler (the lanes' loops unroll and
    vectorize): 8 for float32, 4 for float64."""
    return 8


@overload(_lanes)
def _lanes_impl(like):
    if like == types.float32:
        return lambda like: 8
    return lambda like: 4


def _fma(a, b, c):
    return a * b + c


@overload(_fma)
def _fma_impl(a, b, c):
    if a == types.float32:
        return lambda a, b, c: fma_f32(a, b, c)
    return lambda a, b, c: fma_f64(a, b, c)


def _ceil_log2(m):
    # ATen's utils::CeilLog2: 1 up to 2
    if m <= 2:
        return 1
    d, v = 0, m - 1
    while v > 0:
        v >>= 1
        d += 1
    return d


def _add_vec(m0_add, m1_add, m2_add, m0s, m1s, m2s, k):
    # AddMomentsVec into stack level k: m1 + c * d, fmadd(d * m0, c * d, m2 + m2_add)
    one = m1_add[0]
    n = m0s[k] + m0_add
    c = _as(0, one) if n == 0 else _as(m0_add, one) / _as(n, one)
    f0 = _as(m0s[k], one)
    for lane in range(_lanes(one)):
        d = m1_add[lane] - m1s[k, lane]
        cd = c * d
        m2s[k, lane] = _fma(d * f0, cd, m2s[k, lane] + m2_add[lane])
        m1s[k, lane] = m1s[k, lane] + cd
    m0s[k] = n


def _moments(x, N, m0s, m1s, m2s, m1v, m2v, recip):
    one = recip[0]
    L = _lanes(one)
    n = N // L
    m = (n + 15) // 16
    depth = _ceil_log2(m)
    for k in range(depth):
        m0s[k] = 0
        for lane in range(L):
            m1s[k, lane] = 0
            m2s[k, lane] = 0
    for i in range(m):
        base = i * 16 * L
        cnt = min(16, n - i * 16)
        for lane in range(L):
            m1v[lane] = 0
            m2v[lane] = 0
        for j in range(cnt):       # UpdateMomentsVec
            cj = recip[j]
            for lane in range(L):
                xv = x[base + j * L + lane]
                d = xv - m1v[lane]
                m1v[lane] = _fma(cj, d, m1v[lane])
                m2v[lane] = _fma(d, xv - m1v[lane], m2v[lane])
        _add_vec(cnt, m1v, m2v, m0s, m1s, m2s, 0)
        mask = i + 1
        k = 1
        while k < depth and (mask & 1) == 0:
            _add_vec(m0s[k - 1], m1s[k - 1], m2s[k - 1], m0s, m1s, m2s, k)
            m0s[k - 1] = 0
            for lane in range(L):
                m1s[k - 1, lane] = 0
                m2s[k - 1, lane] = 0
            mask >>= 1
            k += 1
    for k in range(1, depth):
        _add_vec(m0s[k], m1s[k], m2s[k], m0s, m1s, m2s, 0)
    m0 = 0
    m1 = _as(0, one)
    m2 = _as(0, one)
    for i in range(n * L, N):
        xv = x[i]
        d = xv - m1
        m0 += 1
        m1 = m1 + d / _as(m0, one)
        m2 = m2 + d * (xv - m1)
    for lane in range(L):      # AddMoments(n, lane's m1, m2, m0, m1, m2), contracted
        t = m0 + n
        c = _as(0, one) if t == 0 else _as(n, one) / _as(t, one)
        d = m1s[0, lane] - m1
        m2 = m2 + _fma(d * d * c, _as(m0, one), m2s[0, lane])
        m1 = _fma(c, d, m1)
        m0 = t
    return m1, m2 / _as(N, one)


def _layer_norm(x, gamma, beta, eps, y, lanes):
    """x, y: (M, N) C-contiguous float32 or float64; gamma, beta: (N,) of that dtype (ones /
    zeros when not given); eps: of that dtype; lanes: LANES[dtype]."""
    M, N = x.shape
    recip = np.empty(16, x.dtype)
    for j in range(16):
        recip[j] = _as(1, eps) / _as(j + 1, eps)
    m0s = np.zeros(64, np.int64)
    m1s = np.zeros((64, lanes), x.dtype)
    m2s = np.zeros((64, lanes), x.dtype)
    m1v = np.zeros(lanes, x.dtype)
    m2v = np.zeros(lanes, x.dtype)
    for r in range(M):
        row = x[r]
        mean, var = _moments(row, N, m0s, m1s, m2s, m1v, m2v, recip)
        rstd = _as(1, eps) / np.sqrt(var + eps)
        out = y[r]
        for j in range(N):
            out[j] = _fma((row[j] - mean) * rstd, gamma[j], beta[j])


def _group_norm(x, gamma, beta, eps, y, lanes, D, affine):
    """x, y: (N * G, D * HxW) C-contiguous rows of one (sample, group) each; gamma, beta:
    (C,) (ones / zeros when one is not given); eps: float64; affine: either was given."""
    R, K = x.shape
    G = gamma.shape[0] // D
    HW = K // D
    one = x[0, 0] - x[0, 0]
    recip = np.empty(16, x.dtype)
    for j in range(16):
        recip[j] = _as(1, one) / _as(j + 1, one)
    m0s = np.zeros(64, np.int64)
    m1s = np.zeros((64, lanes), x.dtype)
    m2s = np.zeros((64, lanes), x.dtype)
    m1v = np.zeros(lanes, x.dtype)
    m2v = np.zeros(lanes, x.dtype)
    for r in range(R):
        row = x[r]
        mean, var = _moments(row, K, m0s, m1s, m2s, m1v, m2v, recip)
        rstd = _as(1.0 / np.sqrt(types.float64(max(var, _as(0, one))) + eps), one)
        out = y[r]
        if not affine:
            for j in range(K):
                out[j] = (row[j] - mean) * rstd
            continue
        g = r % G
        for d in range(D):
            c = g * D + d
            scale = rstd * gamma[c]
            bias = _fma(-scale, mean, beta[c])
            for k in range(d * HW, (d + 1) * HW):
                out[k] = _fma(scale, row[k], bias)


_ceil_log2 = inner(_ceil_log2)         # (callees of the two entry points only)
_add_vec = inner(_add_vec)
_moments = inner(_moments)
layer_norm = njit(_layer_norm)
group_norm = njit(_group_norm)
