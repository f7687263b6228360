"""numba loops over the CPU generator's Mersenne Twister itself (ops/random._CpuStream uses
them through random.LazyKernel for large calls, and for every call once loaded; NumPy's
MT19937.random_raw and the NumPy arithmetic in ops/random.py give the same numbers for
small ones).

`key` is a uint32 view of NumPy's own mt19937_state struct (624 state words, then `pos`,
the next word's index: MT19937.ctypes.state_address), so these loops and NumPy's bit
generator advance one and the same state: the engine is mt19937_gen / mt19937_next32 of
numpy/random/src/mt19937, which is ATen's mt19937 (init_genrand seeding, the same twist
and tempering). Each loop keeps `pos` in a local and writes it back once.

- mt_raw: n words as uint64 (random_raw's output);
- mt_u24 / mt_u53: uniform_real_distribution<float> / <double> (24 low bits of a word;
  53 low bits of two words, the first the high half) straight from the words;
- mt_below: u53 < p as an integer test (bits < ceil(p * 2^53)) for bernoulli_(p) / dropout;
- normal_f64 / log1p_neg: the float64 fill math as ATen runs it, with the C library's
  log / log1p / sin / cos (NumPy's float64 log and log1p differ from glibc's in the last
  bit for a few values in a thousand).

Imported only when a kernel is compiled (numba is imported then)."""
import math

import numpy as np
from llvmlite import ir
import numba  # noqa: F401  (whole first: threads, see ops/numba_helpers.py)
from numba.core import cgutils, types
from numba.extending import intrinsic

from . import _normal_fill
from .numba_helpers import inner

_N, _M = 624, 397


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma.f64: as GCC contracts ATen's `v * std + mean`)."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.DoubleType(), [ir.DoubleType()] * 3),
            "llvm.fma.f64")
        return builder.call(fn, args)
    return types.float64(types.float64, types.float64, types.float64), codegen


@inner
def _twist(key):
    """mt19937_gen: the next 624 state words, in place."""
    for i in range(_N - _M):
        y = (np.int64(key[i]) & 0x80000000) | (np.int64(key[i + 1]) & 0x7fffffff)
        key[i] = np.uint32(np.int64(key[i + _M]) ^ (y >> 1) ^ ((y & 1) * 0x9908b0df))
    for i in range(_N - _M, _N - 1):
        y = (np.int64(key[i]) & 0x80000000) | (np.int64(key[i + 1]) & 0x7fffffff)
        key[i] = np.uint32(np.int64(key[i + _M - _N]) ^ (y >> 1) ^ ((y & 1) * 0x9908b0df))
    y = (np.int64(key[_N - 1]) & 0x80000000) | (np.int64(key[0]) & 0x7fffffff)
    key[_N - 1] = np.uint32(np.int64(key[_M - 1]) ^ (y >> 1) ^ ((y & 1) * 0x9908b0df))


@inner
def _temper(w):
    y = np.int64(w)
    y ^= y >> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >> 18
    return y


@inner
def _next(key, pos):
    """(the next tempered word, the new pos)."""
    if pos >= _N:
        _twist(key)
        pos = 0
    return _temper(key[pos]), pos + 1


@inner
def _raw_words(key, out):
    """out (uint64) = the next out.size tempered words."""
    n = out.size
    pos = np.int64(key[_N])
    i = 0
    while i < n:
        if pos >= _N:
            _twist(key)
            pos = 0
        m = _N - pos                    # (not min(): one more numba compile)
        if n - i < m:
            m = n - i
        for k in range(m):
            out[i + k] = np.uint64(_temper(key[pos + k]))
        i += m
        pos += m
    key[_N] = np.uint32(pos)


def mt_raw(key, out):
    """out (uint64) = the next out.size words."""
    _raw_words(key, out)


def mt_u24(key, out):
    """out (float32) = the next out.size float uniforms: (word & 0xFFFFFF) * 2^-24."""
    n = out.size
    pos = np.int64(key[_N])
    scale = np.float32(2.0 ** -24)
    i = 0
    while i < n:
        if pos >= _N:
            _twist(key)
            pos = 0
        m = _N - pos                    # (not min(): one more numba compile)
        if n - i < m:
            m = n - i
        for k in range(m):
            out[i + k] = np.float32(_temper(key[pos + k]) & 0xFFFFFF) * scale
        i += m
        pos += m
    key[_N] = np.uint32(pos)


@inner
def _words(key, pos, buf, n):
    """buf[:n] = the next n tempered words from pos; returns the new pos."""
    i = 0
    while i < n:
        if pos >= _N:
            _twist(key)
            pos = 0
        m = _N - pos                    # (not min(): one more numba compile)
        if n - i < m:
            m = n - i
        for k in range(m):
            buf[i + k] = np.uint32(_temper(key[pos + k]))
        i += m
        pos += m
    return pos


_CHUNK = 2048


@inner
def _pairs(key, out, thr, kind):
    """out[i] from the 53 low bits of word pairs (hi, lo), drawn in chunks: kind 0 the
    double uniform, 1 the test bits < thr."""
    n = out.size
    pos = np.int64(key[_N])
    buf = np.empty(2 * _CHUNK, np.uint32)
    i = 0
    while i < n:
        m = min(_CHUNK, n - i)
        pos = _words(key, pos, buf, 2 * m)
        if kind == 0:
            for k in range(m):
                b = ((np.int64(buf[2 * k]) & 0x1FFFFF) << 32) | np.int64(buf[2 * k + 1])
                out[i + k] = np.float64(b) * (2.0 ** -53)
        else:
            for k in range(m):
                b = ((np.int64(buf[2 * k]) & 0x1FFFFF) << 32) | np.int64(buf[2 * k + 1])
                out[i + k] = b < thr
        i += m
    key[_N] = np.uint32(pos)


def mt_u53(key, out):
    """out (float64) = the next out.size double uniforms (53 low bits of two words)."""
    _pairs(key, out, np.int64(0), 0)


def mt_below(key, thr, out):
    """out (bool) = the next out.size double uniforms < p, thr = ceil(p * 2^53)."""
    _pairs(key, out, np.int64(thr), 1)


def normal_f64(u, out, mean, std, plain):
    """ATen's scalar normal_fill_16<double> over rows of 16 uniforms u (n x 16) into out
    (n x 16): radius = sqrt(-2 log(1 - u[:8])), theta = 2 pi u[8:], cos then sin halves,
    each value fma(v, std, mean) (plain: std 1, mean 0, so v + 0.0)."""
    two_pi = 2.0 * math.pi
    for b in range(u.shape[0]):
        for j in range(8):
            r = math.sqrt(-2.0 * math.log(1.0 - u[b, j]))
            th = two_pi * u[b, j + 8]
            c = r * math.cos(th)
            s = r * math.sin(th)
            if plain:
                out[b, j] = c + 0.0
                out[b, j + 8] = s + 0.0
            else:
                out[b, j] = _fma(c, std, mean)
                out[b, j + 8] = _fma(s, std, mean)


def normal_serial_f64(u, out, off):
    """ATen's scalar normal_distribution<double> from pairs of uniforms (u1, u2):
    r = sqrt(-2 log1p(-u2)), theta = 2 pi u1; out[off + 2k] = r cos, out[off + 2k + 1]
    = r sin (the last sine may fall past out: returned, for the generator's cache)."""
    two_pi = 2.0 * math.pi
    n = out.size
    last = 0.0
    for k in range(u.size // 2):
        r = math.sqrt(-2.0 * math.log1p(-u[2 * k + 1]))
        th = two_pi * u[2 * k]
        i = off + 2 * k
        out[i] = r * math.cos(th)
        s = r * math.sin(th)
        if i + 1 < n:
            out[i + 1] = s
        else:
            last = s
    return last


def exponential_f64(u, out, scale):
    """out = scale * log1p(-u) (ATen's exponential_distribution<double>, scale = -1 / lambda)."""
    for i in range(u.size):
        out[i] = scale * math.log1p(-u[i])


def libm_unary(x, out, which):
    """out = the C library's log / log1p / exp / tan (which = 0 / 1 / 2 / 3) of x."""
    for i in range(x.size):
        v = x[i]
        if which == 0:
            out[i] = math.log(v)
        elif which == 1:
            out[i] = math.log1p(v)
        elif which == 2:
            out[i] = math.exp(v)
        else:
            out[i] = math.tan(v)


_NF = inner(_normal_fill.normal_fill_f32)


def normal_fill_mt(key, out, tail_at, mean, std, words, scratch):
    """randn / normal_ of float: ops/_normal_fill's loop (its scratch) on the next words
    of the generator, drawn here into words (uint64: tail_at + 16 words when out.size %
    16, else tail_at; the caller's, as the scratch)."""
    _raw_words(key, words)
    _NF(words, out, tail_at, mean, std, scratch)
