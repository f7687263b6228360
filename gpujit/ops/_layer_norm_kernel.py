"""float32 layer_norm forward in PyTorch 2.13's CPU order of operations, compiled by numba
(ops/nn_norm.py uses it for float32 inputs and parameters on NumPy).

ATen's LayerNormKernelImplInternal (aten/src/ATen/native/cpu/layer_norm_kernel.cpp) is
registered without an AVX512 build, so x86 CPUs run its AVX2 build: Vectorized<float>
holds 8 lanes. Per row, RowwiseMoments (moments_utils.h): Welford over chunks of 16
vectors (UpdateMomentsVec: m1 = fmadd(1/(j+1), d, m1), m2 = fmadd(d, x - m1, m2)), each
chunk merged into a cascade stack by AddMomentsVec (m1 + c * d and
fmadd(d * m0, c * d, m2 + m2_add)), the tail past the last whole vector sequentially (not
contracted), then the 8 lanes merged in order by the scalar AddMoments (compiled with FMA
contraction: m1 += c * d and m2_add + d * d * c * m0 each rounded once); var = m2 / N,
rstd = 1 / sqrt(var + eps), y = fma((x - mean) * rstd, gamma, beta) (vec::map3's lambda,
contracted). Checked against torch 2.13 on this machine: every value equal, for every
row length from 1 to 135 (5000 rows each) and 55 lengths up to 40000 (several chunks and
stack levels); gpujit's NumPy form before differed in 40-55% of the values. Imported when
first wanted (numba is imported then)."""
import numpy as np
from numba.core import types

from ._fma_intrinsics import fma_f32 as _fma_f32
from .numba_helpers import njit

_LANES = 8      # Vectorized<float>::size() of the AVX2 build
_CHUNK = 16     # moments_utils.h kChunkSize


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
    n = m0s[k] + m0_add
    c = types.float32(0) if n == 0 else types.float32(m0_add) / types.float32(n)
    f0 = types.float32(m0s[k])
    for lane in range(8):
        d = m1_add[lane] - m1s[k, lane]
        cd = c * d
        m2s[k, lane] = _fma_f32(d * f0, cd, m2s[k, lane] + m2_add[lane])
        m1s[k, lane] = m1s[k, lane] + cd
    m0s[k] = n


def _moments(x, N, m0s, m1s, m2s, m1v, m2v, recip):
    n = N // 8
    m = (n + 15) // 16
    depth = _ceil_log2(m)
    for k in range(depth):
        m0s[k] = 0
        for lane in range(8):
            m1s[k, lane] = 0
            m2s[k, lane] = 0
    for i in range(m):
        base = i * 128
        cnt = min(16, n - i * 16)
        for lane in range(8):
            m1v[lane] = 0
            m2v[lane] = 0
        for j in range(cnt):
            cj = recip[j]
            for lane in range(8):
                xv = x[base + j * 8 + lane]
                d = xv - m1v[lane]
                m1v[lane] = _fma_f32(d, cj, m1v[lane])
                m2v[lane] = _fma_f32(d, xv - m1v[lane], m2v[lane])
        _add_vec(cnt, m1v, m2v, m0s, m1s, m2s, 0)
        mask = i + 1
        k = 1
        while k < depth and (mask & 1) == 0:
            _add_vec(m0s[k - 1], m1s[k - 1], m2s[k - 1], m0s, m1s, m2s, k)
            m0s[k - 1] = 0
            for lane in range(8):
                m1s[k - 1, lane] = 0
                m2s[k - 1, lane] = 0
            mask >>= 1
            k += 1
    for k in range(1, depth):
        _add_vec(m0s[k], m1s[k], m2s[k], m0s, m1s, m2s, 0)
    m0 = 0
    m1 = types.float32(0)
    m2 = types.float32(0)
    for i in range(n * 8, N):
        xv = x[i]
        d = xv - m1
        m0 += 1
        m1 = m1 + d / types.float32(m0)
        m2 = m2 + d * (xv - m1)
    for lane in range(8):      # AddMoments(n, lane's m1, m2, m0, m1, m2), contracted
        t = m0 + n
        c = types.float32(0) if t == 0 else types.float32(n) / types.float32(t)
        d = m1s[0, lane] - m1
        m2 = m2 + _fma_f32(d * d * c, types.float32(m0), m2s[0, lane])
        m1 = _fma_f32(c, d, m1)
        m0 = t
    return m1, m2 / types.float32(N)


def _layer_norm32(x, gamma, beta, eps, y):
    """x, y: (M, N) C-contiguous float32; gamma, beta: (N,) float32 (ones / zeros when
    not given); eps: float32."""
    M, N = x.shape
    recip = np.empty(16, np.float32)
    for j in range(16):
        recip[j] = types.float32(1) / types.float32(j + 1)
    m0s = np.zeros(64, np.int64)
    m1s = np.zeros((64, 8), np.float32)
    m2s = np.zeros((64, 8), np.float32)
    m1v = np.zeros(8, np.float32)
    m2v = np.zeros(8, np.float32)
    for r in range(M):
        row = x[r]
        mean, var = _moments(row, N, m0s, m1s, m2s, m1v, m2v, recip)
        rstd = types.float32(1) / np.sqrt(var + eps)
        out = y[r]
        for j in range(N):
            out[j] = _fma_f32((row[j] - mean) * rstd, gamma[j], beta[j])


_ceil_log2 = njit(_ceil_log2)
_add_vec = njit(_add_vec)
_moments = njit(_moments)
layer_norm32 = njit(_layer_norm32)
