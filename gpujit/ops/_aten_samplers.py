"""ATen's CPU rejection samplers, so that the CPU generator gives PyTorch's numbers for
torch.poisson (sample_poisson: Hoermann's transformed rejection for a rate >= 10, a
product of uniforms below), torch.binomial (sample_binomial: BTRS, or inversion when
count * min(p, 1 - p) < 10) and torch._standard_gamma (sample_gamma: Marsaglia-Tsang,
boosted below alpha 1). Scalar Python, one element after the other as ATen's serial
kernels go; the arithmetic follows ATen's types (the sampler's scalar type, float32 or
float64, where ATen computes in it; double elsewhere) and its libm calls (Python's math
is the same C library), so the draws and results match bit for bit except where a
float32 log lands within an ulp of a rejection bound.
"""
from __future__ import annotations

import math

import numpy as np

_F32 = np.dtype(np.float32)


class Draws:
    """Serial draws from a _CpuStream: double uniforms (ATen's uniform_real_distribution
    <double>: 53 bits of a 64-bit draw) and standard normals (its scalar Box-Muller, the
    sine half cached in the generator), served from a prefetched block of words. On exit
    the stream is left just past the words used, with the normal cache as ATen leaves it."""

    def __init__(self, stream, hint):
        self.st = stream
        self.hint = max(int(hint), 16)

    def __enter__(self):
        st = self.st
        self.saved = st.save()
        self.buf, self.i, self.used = [], 0, 0
        self.cached = st.next_double
        return self

    def uniform(self):
        if self.i == len(self.buf):
            self.buf, self.i = self.st.u53(self.hint).tolist(), 0
            self.hint *= 2
        self.i += 1
        self.used += 1
        return self.buf[self.i - 1]

    def normal(self):
        if self.cached is not None:
            v, self.cached = self.cached, None
            return v
        u1, u2 = self.uniform(), self.uniform()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.cached = r * math.sin(theta)
        return r * math.cos(theta)

    def __exit__(self, *exc):
        st = self.st
        st.restore(self.saved)
        if self.used:
            st.raw(2 * self.used)
        st.next_double = self.cached
        return False


def sample_poisson(lam, d):
    if not lam >= 0:
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            U = d.uniform() - 0.5
            V = d.uniform()
            us = 0.5 - abs(U)
            k = math.floor((2 * a / us + b) * U + lam + 0.43)
            if us >= 0.07 and V <= vr:
                return k
            if k < 0 or (us < 0.013 and V > us):
                continue
            if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - math.lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    x, prod, enlam = 0, 1.0, math.exp(-lam)
    while True:
        prod *= d.uniform()
        if prod > enlam:
            x += 1
        else:
            return x


def _ops(dt):
    """(round to the scalar type, its log, log1p, sqrt): ATen's compat_* on a scalar_t."""
    if dt == _F32:
        f = np.float32
        return (lambda x: float(f(x)), lambda x: float(np.log(f(x))),
                lambda x: float(np.log1p(f(x))), lambda x: float(np.sqrt(f(x))))
    return (float, math.log, math.log1p, math.sqrt)


_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    if k < len(_TAIL):
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(count, prob, d, ops):
    R, _log, log1p, _ = ops
    geom_sum, num_geom = 0.0, 0.0
    logprob = log1p(-prob)
    while True:
        geom_sum += math.ceil(math.log(d.uniform()) / logprob)
        if geom_sum > count:
            return num_geom
        num_geom = num_geom + 1


def _btrs(count, prob, d, ops):
    R, _, _, sqrts = ops
    stddev = sqrts(R(R(count * prob) * R(1 - prob)))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = R(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = R(prob / R(1 - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(R(R(count + 1) * prob))
    while True:
        U = d.uniform() - 0.5
        V = d.uniform()
        us = 0.5 - abs(U)
        k = R(math.floor((2 * a / us + b) * U + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and V <= v_r:
            return k
        V = math.log(V * alpha / (a / (us * us) + b))
        ck1 = R(R(count - k) + 1)
        upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + R(count + 1) * math.log((count - m + 1) / ck1)
                 + (k + 0.5) * math.log(r * ck1 / R(k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(count - k))
        if V <= upper:
            return k


def sample_binomial(count, prob, d, dt):
    ops = _ops(dt)
    R = ops[0]
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if R(count * prob) >= 10.0:
            return _btrs(count, prob, d, ops)
        return _binomial_inversion(count, prob, d, ops)
    if prob > 0.5:
        q = R(1.0 - prob)
        if R(count * q) >= 10.0:
            return R(count - _btrs(count, q, d, ops))
        return R(count - _binomial_inversion(count, q, d, ops))
    return math.nan          # a NaN probability


_THIRD_F = float(np.float32(1.0) / np.float32(3.0))     # ATen's float constants
_C0331_F = float(np.float32(0.0331))


def sample_gamma(alpha, d, dt):
    R = _ops(dt)[0]
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        scale *= math.pow(1 - d.uniform(), R(1.0 / alpha))
        alpha = R(alpha + 1.0)
    dd = R(alpha - _THIRD_F)
    # (compat_sqrt: nan below 0, an alpha below 0 samples nan, as ATen's)
    c = 1.0 / math.sqrt(9.0 * dd) if dd > 0 else (math.inf if dd == 0 else math.nan)
    while True:
        while True:
            x = d.normal()
            y = 1.0 + c * x
            if not y <= 0:
                break
        v = y * y * y
        u = 1 - d.uniform()
        xx = x * x
        if u < 1.0 - _C0331_F * xx * xx:
            return R(scale * dd * v)
        if math.log(u) < 0.5 * xx + dd * (1.0 - v + math.log(v)):
            return R(scale * dd * v)
