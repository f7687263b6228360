"""numba loops for the CPU generator's serial draws (ops/random._CpuStream uses them through
random.LazyKernel for large calls, and for every call once loaded; the Python versions in
ops/random.py and ops/_aten_samplers.py give the same numbers for small ones):

- randperm: ATen's Fisher-Yates over the raw words (swap i with i + word % (n - i));
- poisson / binomial / _standard_gamma: ATen's rejection samplers, element after element,
  on a block of raw 32-bit words (a double uniform = 53 low bits of two words, the first
  the high half; a normal = ATen's scalar Box-Muller, the sine half cached). A sampler
  stops where the block runs out and returns where the element it was drawing started
  (its first word and the normal cache then), so the caller tops the block up and calls
  again from there. The libm calls (log, log1p, exp, pow, lgamma, sin, cos; logf / log1pf
  for a float sampler) are the C library's, as ATen's.

Imported only when a kernel is compiled (numba is imported then)."""
import math

import numpy as np

from .numba_helpers import inner

_M53 = np.uint64((1 << 53) - 1)
_S32 = np.uint64(32)
_TWO_M53 = 2.0 ** -53


def randperm_fill(words, out):
    """out = ATen's randperm of out.size from its n - 1 words."""
    n = out.size
    for i in range(n):
        out[i] = i
    for i in range(n - 1):
        j = i + np.int64(words[i] % np.uint64(n - i))
        t = out[i]
        out[i] = out[j]
        out[j] = t


@inner
def _u53(w, p):
    return np.float64(((w[p] << _S32) | w[p + 1]) & _M53) * _TWO_M53


@inner
def _poisson1(lam, w, p):
    """(sample, next word) for one rate; next word -1 when w ran out."""
    nw = w.size
    if lam >= 10:
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            if p + 4 > nw:
                return 0.0, -1
            U = _u53(w, p) - 0.5
            V = _u53(w, p + 2)
            p += 4
            us = 0.5 - abs(U)
            k = np.floor((2 * a / us + b) * U + lam + 0.43)
            if us >= 0.07 and V <= vr:
                return k, p
            if k < 0 or (us < 0.013 and V > us):
                continue
            if (math.log(V) + math.log(invalpha) - math.log(a / (us * us) + b)
                    <= -lam + k * loglam - math.lgamma(k + 1.0)):
                return k, p
    if lam == 0:
        return 0.0, p
    x = 0.0
    prod = 1.0
    enlam = math.exp(-lam)
    while True:
        if p + 2 > nw:
            return 0.0, -1
        prod *= _u53(w, p)
        p += 2
        if prod > enlam:
            x += 1
        else:
            return x, p


def poisson_run(lam, out, w, i):
    """out[i:] = sample_poisson(lam[i:]) from words w; returns (next element, its word)."""
    p = 0
    for k in range(i, lam.size):
        v, q = _poisson1(lam[k], w, p)
        if q < 0:
            return k, p
        out[k] = v
        p = q
    return lam.size, p


@inner
def _r(x, single):
    return np.float64(np.float32(x)) if single else x


_TAIL = np.array([0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287])


@inner
def _stirling_tail(k):
    if k < 10:
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


@inner
def _inversion(count, prob, single, w, p):
    nw = w.size
    geom_sum = 0.0
    num_geom = 0.0
    if single:
        logprob = np.float64(np.log1p(np.float32(-prob)))
    else:
        logprob = math.log1p(-prob)
    while True:
        if p + 2 > nw:
            return 0.0, -1
        geom_sum += np.ceil(math.log(_u53(w, p)) / logprob)
        p += 2
        if geom_sum > count:
            return num_geom, p
        num_geom = num_geom + 1


@inner
def _btrs(count, prob, single, w, p):
    nw = w.size
    v = _r(_r(count * prob, single) * _r(1 - prob, single), single)
    stddev = np.float64(np.sqrt(np.float32(v))) if single else math.sqrt(v)
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = _r(count * prob, single) + 0.5
    v_r = 0.92 - 4.2 / b
    r = _r(prob / _r(1 - prob, single), single)
    alpha = (2.83 + 5.1 / b) * stddev
    m = np.floor(_r(_r(count + 1, single) * prob, single))
    while True:
        if p + 4 > nw:
            return 0.0, -1
        U = _u53(w, p) - 0.5
        V = _u53(w, p + 2)
        p += 4
        us = 0.5 - abs(U)
        k = _r(np.floor((2 * a / us + b) * U + c), single)
        if k < 0 or k > count:
            continue
        if us >= 0.07 and V <= v_r:
            return k, p
        V = math.log(V * alpha / (a / (us * us) + b))
        ck1 = _r(_r(count - k, single) + 1, single)
        upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + _r(count + 1, single) * math.log((count - m + 1) / ck1)
                 + (k + 0.5) * math.log(r * ck1 / _r(k + 1, single))
                 + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(count - k))
        if V <= upper:
            return k, p


@inner
def _binomial1(count, prob, single, w, p):
    if count <= 0.0 or prob <= 0.0:
        return 0.0, p
    if prob >= 1.0:
        return count, p
    if prob <= 0.5:
        if _r(count * prob, single) >= 10.0:
            return _btrs(count, prob, single, w, p)
        return _inversion(count, prob, single, w, p)
    if prob > 0.5:
        q = _r(1.0 - prob, single)
        if _r(count * q, single) >= 10.0:
            v, p = _btrs(count, q, single, w, p)
        else:
            v, p = _inversion(count, q, single, w, p)
        return _r(count - v, single), p
    return math.nan, p          # a NaN probability


def binomial_run(count, prob, out, single, w, i):
    """out[i:] = sample_binomial(count[i:], prob[i:]) (float64 values of the scalar type's,
    `single` for float); returns (next element, its word)."""
    p = 0
    for k in range(i, count.size):
        v, q = _binomial1(count[k], prob[k], single, w, p)
        if q < 0:
            return k, p
        out[k] = v
        p = q
    return count.size, p


_THIRD_F = float(np.float32(1.0) / np.float32(3.0))     # ATen's float constants
_C0331_F = float(np.float32(0.0331))


def gamma_run(alpha, out, single, w, i, cached, has):
    """out[i:] = sample_gamma(alpha[i:]) drawing uniforms and normals (cache: `cached`
    when `has`) from words w; returns (next element, its word, the normal cache then)."""
    nw = w.size
    p = 0
    for k in range(i, alpha.size):
        p0, cached0, has0 = p, cached, has
        a = alpha[k]
        scale = 1.0
        done = False
        res = 0.0
        if a < 1.0:
            if a == 0.0:
                out[k] = 0.0
                continue
            if p + 2 > nw:
                return k, p0, cached0, has0
            scale *= math.pow(1 - _u53(w, p), _r(1.0 / a, single))
            p += 2
            a = _r(a + 1.0, single)
        dd = _r(a - _THIRD_F, single)
        if dd > 0:
            c = 1.0 / math.sqrt(9.0 * dd)
        elif dd == 0:
            c = math.inf
        else:
            c = math.nan
        out_of_words = False
        while not done:
            while True:
                if has:
                    x = cached
                    has = False
                else:
                    if p + 4 > nw:
                        out_of_words = True
                        break
                    u1 = _u53(w, p)
                    u2 = _u53(w, p + 2)
                    p += 4
                    r = math.sqrt(-2.0 * math.log1p(-u2))
                    theta = 2.0 * math.pi * u1
                    cached = r * math.sin(theta)
                    has = True
                    x = r * math.cos(theta)
                y = 1.0 + c * x
                if not y <= 0:
                    break
            if out_of_words:
                return k, p0, cached0, has0
            v = y * y * y
            if p + 2 > nw:
                return k, p0, cached0, has0
            u = 1 - _u53(w, p)
            p += 2
            xx = x * x
            if u < 1.0 - _C0331_F * xx * xx:
                res = _r(scale * dd * v, single)
                done = True
            elif math.log(u) < 0.5 * xx + dd * (1.0 - v + math.log(v)):
                res = _r(scale * dd * v, single)
                done = True
        out[k] = res
    return alpha.size, p, cached, has
