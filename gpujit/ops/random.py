"""Random ops and generators.

Every device has one default `Generator`, created lazily on first use. `manual_seed(seed)`
seeds them all, so one seed gives the same numbers on the same device.

The CPU's is PyTorch's own CPU generator: ATen's 32-bit Mersenne Twister (NumPy's MT19937,
seeded as ATen seeds it), drawn from as ATen's CPU kernels draw, so `manual_seed(s)` then
rand / randn / randint / randperm / uniform_ / normal_ / bernoulli / dropout / exponential_
/ multinomial / the nn.init fills give PyTorch's numbers: bit for bit where ATen computes
in scalar code, and for randn of 16 or more floats too (its AVX2 fill's Cephes log /
sincos are reproduced op by op, as an x86-64 build with AVX2 or AVX-512 runs them; a
build running ATen's DEFAULT capability differs by an ulp there); float64 fills use the C
library's log / log1p / sin / cos as ATen's scalar code does (NumPy's float64 log and
log1p differ from glibc's in the last bit now and then). get_rng_state() is PyTorch's
5056-byte state, so states saved by torch load here and back; poisson / binomial /
_standard_gamma run ATen's rejection samplers (ops/_aten_samplers.py). Large draws (and
all, once loaded) run in numba loops over NumPy's own mt19937_state (ops/_mt_kernels).

A CUDA device's generator is cuRAND Philox (through `cupy.random.RandomState`): the same
seed gives different numbers than PyTorch's CUDA generator and than the CPU.

A CUDA generator's state is (seed, offset), as in PyTorch: each draw starts at the
generator's offset, and the offset then moves past every value the draw could consume,
so `get_state`/`set_state` replay draws exactly. Floats are generated in the requested
precision (float32 directly, no float64 detour).
"""
from __future__ import annotations

import ctypes
import math
import os
import struct
import sys
import threading

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, device as _device_cls, resolve as _resolve
from .registry import wrap as _wrap

PUBLIC = {}

DEFAULT_SEED = 67280421310721          # PyTorch's default seed
_U64 = (1 << 64) - 1
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


class _BFloat16:
    """The `dt` the samplers take for bfloat16 (ops/bfloat16_support.py: a float32
    carrier): drawn as float16 is (ATen's reduced-float paths), rounded to bfloat16."""
    def __repr__(self):
        return "bfloat16"


BF16 = _BFloat16()


def _as_dt(v, dt):
    """v (float32 / float64 draws) as dtype dt, bfloat16's rounding for BF16."""
    if dt is BF16:
        from .bfloat16_support import round_bf16
        return round_bf16(np, v)
    return v.astype(dt, copy=False)


def _norm_seed(seed):
    seed = int(seed)
    if not -(1 << 63) <= seed <= _U64:
        raise ValueError("Overflow when unpacking long long")    # (PyTorch's parser's)
    return seed & _U64


# ------------------------------------------------------------------ streams

class _CpuStream:
    """PyTorch's CPU generator (ATen's CPUGeneratorImpl): a 32-bit Mersenne Twister seeded
    with the low 32 bits of the seed (NumPy's MT19937 with its legacy seeding is the same
    engine, and gives the raw words vectorized), plus the cached second Box-Muller sample
    of ATen's scalar normal sampler. Each op below draws what ATen's CPU kernel draws, in
    the same order, so one seed gives PyTorch's numbers."""

    STATE_BYTES = 5056              # sizeof(CPUGeneratorImplState), torch's get_rng_state()

    def __init__(self, seed):
        self.seed = seed
        bg = np.random.MT19937()
        try:
            bg._legacy_seeding(seed & 0xffffffff)       # init_genrand, as ATen's mt19937
        except AttributeError:                         # (a NumPy without it: same words)
            st = np.random.RandomState(seed & 0xffffffff).get_state()
            bg.state = {"bit_generator": "MT19937", "state": {"key": st[1], "pos": st[2]}}
        self.bg = bg
        # NumPy's mt19937_state struct itself (624 words, then pos) as uint32: the numba
        # loops of ops/_mt_kernels draw from it in place, the state is read and written
        # through it (no dict round trip), and bg.random_raw sees the same state
        self._view()
        self.fresh = True           # no draw since seeding (ATen's `next_` is still 0)
        self.next_double = None     # ATen's next_double_normal_sample_
        self.next_float = None      # next_float_normal_sample_ (kept for the state only)

    def _view(self):
        self.key = np.ctypeslib.as_array(
            (ctypes.c_uint32 * 625).from_address(self.bg.ctypes.state_address))

    def __getstate__(self):         # (copy / deepcopy / pickle: a new bg, a new view)
        d = dict(self.__dict__)
        del d["key"]
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        self._view()

    def save(self):
        """The engine's position (words and pos, `fresh`) for restore()."""
        return self.key.copy(), self.fresh

    def restore(self, saved):
        self.key[:] = saved[0]
        self.fresh = saved[1]

    # -- the engine: random() is one 32-bit word, random64() two (the first the high half)
    def raw(self, n):
        self.fresh = False
        n = int(n)
        fill = MT_RAW.get(n)
        if fill is None:
            return self.bg.random_raw(n) if n else np.zeros(0, np.uint64)
        out = np.empty(n, np.uint64)
        fill(self.key, out)
        return out

    def raw64(self, n):
        r = self.raw(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]

    def u24(self, n):
        """uniform_real_distribution<float>: 24 low bits of random() times 2^-24."""
        fill = MT_U24.get(n)
        if fill is None:
            return (self.raw(n) & np.uint64(0xFFFFFF)).astype(_F32) * np.float32(2.0 ** -24)
        self.fresh = False
        out = np.empty(n, _F32)
        fill(self.key, out)
        return out

    def u53(self, n):
        """uniform_real_distribution<double>: 53 low bits of random64() times 2^-53."""
        fill = MT_U53.get(n)
        if fill is None:
            return (self.raw64(n) & np.uint64((1 << 53) - 1)).astype(_F64) * (2.0 ** -53)
        self.fresh = False
        out = np.empty(n, _F64)
        fill(self.key, out)
        return out

    def below(self, shape, p):
        """u53 < p for n double uniforms (bernoulli_(p), dropout's keep mask) without
        making the doubles: u = bits * 2^-53 exactly, so u < p <=> bits < ceil(p * 2^53)."""
        thr = min(max(math.ceil(float(p) * 2.0 ** 53), 0), 1 << 53)   # (p * 2^53 is exact)
        n = _numel(shape)
        fill = MT_BELOW.get(n)
        if fill is None:
            bits = self.raw64(n) & np.uint64((1 << 53) - 1)
            return (bits < np.uint64(thr)).reshape(shape)
        self.fresh = False
        out = np.empty(n, np.bool_)
        fill(self.key, thr, out)
        return out.reshape(shape)

    # -- distributions
    def uniform(self, shape, dt, low=0.0, high=1.0):
        """uniform_ in dtype dt, drawn serially in order: floats and doubles from their
        uniform_real_distribution (`x * (to - from) + from`, contracted to one fma as ATen's
        CPU kernel is compiled); float16 / bfloat16 through float, and a value rounding up
        to `to` becomes `from` (ATen's clamp)."""
        n = _numel(shape)
        if dt == _F64:
            u = self.u53(n)
            if (low, high) != (0.0, 1.0):
                from .fma import fma64                 # `x * (to - from) + from`, one fma
                u = fma64(u, float(high) - float(low), float(low))
            return u.reshape(shape)
        u = self.u24(n)
        if (low, high) != (0.0, 1.0):
            f, t = np.float32(low), np.float32(high)
            u = (u.astype(_F64) * np.float64(t - f) + np.float64(f)).astype(_F32)
        if dt != _F32:
            u = _as_dt(u, dt)
            hi = np.float32(_as_dt(np.float32([high]), dt)[0]) if dt is BF16 else dt.type(high)
            u[u == hi] = np.float32(low) if dt is BF16 else dt.type(low)
        return u.reshape(shape)

    def normal_serial(self, n):
        """n draws of ATen's scalar normal_distribution<double> (Box-Muller from two
        uniforms with the C library's log1p / cos / sin, the sine half cached for the
        next draw), as float64."""
        out = np.empty(n, _F64)
        i = 0
        if n and self.next_double is not None:
            out[0], self.next_double, i = self.next_double, None, 1
        m = n - i
        if m:
            k = (m + 1) // 2
            u = self.u53(2 * k)
            run = NORMAL_SERIAL_F64.get(m)
            if run is not None:
                last = run(u, out, i)
            else:
                r = np.sqrt(-2.0 * _libm(math.log1p, -u[1::2]))
                th = (2.0 * np.pi) * u[0::2]
                c, s = r * np.cos(th), r * np.sin(th)     # (NumPy's: glibc's bits)
                out[i::2] = c
                out[i + 1::2] = s[:m // 2]
                last = s[-1]
            if m % 2:
                self.next_double = float(last)
        return out

    def exponential(self, shape, lambd):
        """exponential_: ATen's exponential_distribution<double>, -1 / lambda *
        log1p(-u) per double uniform u (the C library's log1p), as float64."""
        n = _numel(shape)
        u = self.u53(n)
        scale = -1.0 / float(lambd)
        run = EXPONENTIAL_F64.get(n)
        if run is None:
            return (scale * _libm(math.log1p, -u)).reshape(shape)
        out = np.empty(n, _F64)
        run(u, out, scale)
        return out.reshape(shape)

    def _fill16(self, u, dt, mean, std, out=None):
        """ATen's NormalFill16 on blocks of 16 uniforms (rows of u): u1 = 1 - u[:8],
        u2 = u[8:]; float through the AVX2 kernel's float math (op by op in NumPy: the
        numba loop of ops/_normal_fill gives the same bits), double in double with the C
        library's log / cos / sin (normal_fill_16<double>'s std:: calls). Every value gets
        ATen's `v * std + mean`, one fma (with mean 0 too: a -0.0 comes out +0.0)."""
        if dt == _F64:
            plain = (mean, std) == (0.0, 1.0)
            out = np.empty(u.shape, _F64) if out is None else out
            run = NORMAL_F64.get(u.size)
            if run is not None:
                run(u, out, float(mean), float(std), plain)
                return out
            r = np.sqrt(-2.0 * _libm(math.log, 1.0 - u[:, :8]))
            th = (2.0 * np.pi) * u[:, 8:]
            np.multiply(r, np.cos(th), out=out[:, :8])
            np.multiply(r, np.sin(th), out=out[:, 8:])
            if plain:
                out += 0.0
            else:
                from .fma import fma64
                out[...] = fma64(out, float(std), float(mean))
            return out
        r = _log256_ps(np.float32(1.0) - u[:, :8])
        r *= np.float32(-2.0)
        np.sqrt(r, out=r)
        th = u[:, 8:] * np.float32(2.0 * np.pi)
        s, c = _sincos256_ps(th)
        v = np.concatenate([c, s], axis=1)
        v *= np.concatenate([r, r], axis=1)
        return _fma32(v, np.float32(std), np.float32(mean))

    def normal(self, shape, dt, mean=0.0, std=1.0, contiguous=True):
        """normal_ in dtype dt: 16 or more contiguous values through ATen's normal_fill
        (uniforms, then Box-Muller in blocks of 16, a ragged tail recomputed over the last
        16 from fresh uniforms); fewer (or a strided target) through the scalar sampler."""
        n = _numel(shape)
        if n < 16 or not contiguous:
            v = self.normal_serial(n)
            if (mean, std) == (0.0, 1.0):
                v += 0.0                                # (ATen's fma: -0.0 -> +0.0)
            else:
                from .fma import fma64                  # `v * std + mean`, contracted
                v = fma64(v, float(std), float(mean))
            return _as_dt(v, dt).reshape(shape)
        nb, tail = divmod(n, 16)
        if dt == _F64:
            u = self.u53(n)
            out = np.empty(n, dt)
            self._fill16(u[:nb * 16].reshape(nb, 16), dt, mean, std,
                         out[:nb * 16].reshape(nb, 16))
            if tail:
                u = self.u53(16)
                self._fill16(u.reshape(1, 16), dt, mean, std, out[n - 16:].reshape(1, 16))
            return out.reshape(shape)
        # float: n uniforms, then 16 more for a ragged tail; float16 / bfloat16: each
        # block's uniforms drawn in turn, in float (so the tail's follow the last block's)
        tail_at = n if dt == _F32 else nb * 16
        out = np.empty(n, _F32)
        fill = NORMAL_FILL.get(n)
        if fill is not None:
            both = NORMAL_FILL_MT.get(n)
            # (the loops' scratch: 256 blocks' lanes a pass, 4 x 8 KiB)
            scratch = np.empty((4, 256 * 8), _F32)
            if both is not None:                # (the words drawn in the same loop)
                self.fresh = False
                both(self.key, out, tail_at, np.float32(mean), np.float32(std),
                     np.empty(tail_at + 16 * (tail > 0), np.uint64), scratch)
            else:
                fill(self.raw(tail_at + 16 * (tail > 0)), out, tail_at, np.float32(mean),
                     np.float32(std), scratch)
        else:
            u = self.u24(tail_at + 16 * (tail > 0))
            rows = np.concatenate([u[:nb * 16], u[n:]]) if tail and tail_at == n else \
                u[:(nb + (tail > 0)) * 16]
            v = self._fill16(rows.reshape(-1, 16), _F32, mean, std).ravel()
            out[:nb * 16] = v[:nb * 16]
            if tail:
                out[n - 16:] = v[nb * 16:]
        return _as_dt(out, dt).reshape(shape)

    def integers(self, low, high, shape):
        """random_(from, to): random() % range + from; random64() when range >= 2^28, as
        torch 2.13's uniform_int_from_to_distribution draws (measured: randint(0, 2**28)
        takes 64-bit words, randint(0, 2**28 - 1) 32-bit ones; 2^32 before)."""
        n, rng = _numel(shape), int(high) - int(low)
        v = self.raw64(n) if rng >= 1 << 28 else self.raw(n)
        v = (v % np.uint64(rng)).astype(np.int64)
        return (v + np.int64(low) if low else v).reshape(shape)

    def permutation(self, n):
        """randperm: ATen's Fisher-Yates, swapping i with i + random() % (n - i)."""
        n = int(n)
        if n < 2:
            return np.arange(n, dtype=np.int64)
        fill = RANDPERM.get(n)
        if fill is not None:
            out = np.empty(n, np.int64)
            fill(self.raw(n - 1), out)
            return out
        z = (self.raw(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
        p = list(range(n))
        for i, k in enumerate(z):
            if k:
                j = i + k
                p[i], p[j] = p[j], p[i]
        return np.array(p, dtype=np.int64)

    # -- ATen's rejection samplers (Distributions.cpp / .h), element by element in memory
    # order, each drawing double uniforms (and scalar normals) as they go: in Python
    # (ops/_aten_samplers) for small calls, numba loops (ops/_sampler_kernels) from 1024
    # elements or once loaded
    def _drive(self, n, per, step):
        """Feed a numba sampler blocks of raw words: step(words, i) draws elements i, i+1,
        ... and returns (the element it stopped at, its first word); when it stopped short
        the block is topped up. The stream is then left just past the words used (the last
        block's are drawn again: a first block a little short of the `per` words an element
        expected, then small ones, keeps that cheap)."""
        left = None
        i, chunk = 0, int(0.9 * per * n) + 16
        while True:
            saved = self.save()
            new = self.raw(chunk)
            w = new if left is None else np.concatenate([left, new])
            i, p = step(w, i)
            if i >= n:
                used = p - (0 if left is None else left.size)   # (of `new`)
                self.restore(saved)
                if used:
                    self.raw(used)
                return
            left = w[p:]
            chunk = int(1.2 * per * (n - i)) + 256

    def poisson(self, lam):
        """torch.poisson: sample_poisson per rate (float64 array in, float64 out)."""
        lam = np.asarray(lam, _F64, order="C")
        run = POISSON.get(lam.size)
        if run is None:
            from ._aten_samplers import Draws, sample_poisson
            with Draws(self, 2 * lam.size + 16) as d:
                out = [sample_poisson(float(x), d) for x in lam.ravel().tolist()]
            return np.array(out, _F64).reshape(lam.shape)
        if not (lam >= 0).all():
            raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
        flat = lam.ravel()
        out = np.empty(flat.size, _F64)
        if flat.size:
            per = float(np.where(flat < 10, 2 * flat + 2, 4.5).mean())
            self._drive(flat.size, per, lambda w, i: run(flat, out, w, i))
        return out.reshape(lam.shape)

    def binomial_t(self, count, prob, dt):
        """torch.binomial: sample_binomial per (count, prob) in the scalar type dt."""
        run = BINOMIAL.get(count.size)
        if run is None:
            from ._aten_samplers import Draws, sample_binomial
            with Draws(self, 2 * count.size + 16) as d:
                out = [sample_binomial(c, p, d, dt) for c, p in
                       zip(count.ravel().tolist(), prob.ravel().tolist())]
            return np.array(out, dt).reshape(count.shape)
        c = np.ascontiguousarray(count, _F64).ravel()
        p = np.ascontiguousarray(prob, _F64).ravel()
        out = np.empty(c.size, _F64)
        if c.size:
            with np.errstate(invalid="ignore"):
                per = 2 * float(np.nan_to_num(np.clip(
                    c * np.minimum(p, 1 - p), 0, 10)).mean()) + 2
            single = dt == _F32
            self._drive(c.size, per, lambda w, i: run(c, p, out, single, w, i))
        return out.astype(dt).reshape(count.shape)

    def standard_gamma(self, alpha, dt):
        """torch._standard_gamma: sample_gamma per concentration in the scalar type dt,
        at least the type's smallest normal number."""
        run = GAMMA.get(alpha.size)
        if run is None:
            from ._aten_samplers import Draws, sample_gamma
            with Draws(self, 4 * alpha.size + 16) as d:
                out = [sample_gamma(a, d, dt) for a in alpha.ravel().tolist()]
            out = np.array(out, dt).reshape(alpha.shape)
        else:
            a = np.ascontiguousarray(alpha, _F64).ravel()
            res = np.empty(a.size, _F64)
            if a.size:
                single = dt == _F32
                cache = [0.0 if self.next_double is None else self.next_double,
                         self.next_double is not None]

                def step(w, i):
                    i, p, cache[0], cache[1] = run(a, res, single, w, i, cache[0], cache[1])
                    return i, p
                self._drive(a.size, 5, step)
                self.next_double = cache[0] if cache[1] else None
            out = res.astype(dt).reshape(alpha.shape)
        # std::max(min, sample): a nan sample (a negative concentration) gives min too
        return np.fmax(out, np.finfo(dt).tiny)

    # -- state: torch's CPUGeneratorImplState bytes, so torch-saved states load
    def get_state(self):
        pos = int(self.key[624])
        b = bytearray(self.STATE_BYTES)
        b[0:24] = struct.pack("<QiiQ", self.seed, 625 - pos, 1, 0 if self.fresh else pos)
        b[24:24 + 4992] = self.key[:624].astype("<u8").tobytes()
        if self.next_double is not None:       # normal_y, normal_is_valid
            struct.pack_into("<d", b, 5024, self.next_double)
            struct.pack_into("<i", b, 5040, 1)
        if self.next_float is not None:
            struct.pack_into("<fB", b, 5048, self.next_float, 1)
        return bytes(b)

    def set_state(self, b):
        seed, left, seeded, _next = struct.unpack_from("<QiiQ", b, 0)
        if not (seeded and 1 <= left <= 624 and _next <= 624):
            raise RuntimeError("Invalid mt19937 state")
        self.key[:624] = np.frombuffer(b, dtype="<u8", count=624, offset=24)
        self.key[624] = 625 - left
        self.seed = seed
        self.fresh = left == 1 and _next == 0
        self.next_double = (struct.unpack_from("<d", b, 5024)[0]
                            if struct.unpack_from("<i", b, 5040)[0] else None)
        self.next_float = (struct.unpack_from("<f", b, 5048)[0] if b[5052] else None)


# ATen's AVX2 normal fill computes in float32 with avx_mathfun.h's Cephes log256_ps and
# sincos256_ps, compiled with GCC contracting `a * b + c` into fma: reproduced here op by
# op, so randn(n >= 16) floats are PyTorch's bit for bit (an fma as one float64 sum of an
# exact product rounded to float32: a double rounding could differ in ~2^-29 of cases).

class LazyKernel:
    """A numba helper of gpujit.ops.<module> (numba_helpers.njit: compiled on first use,
    then loaded from gpujit's disk cache) for the calls it pays off on: get(n) gives it
    for a call of at least `min_n` elements, and for every call once it is loaded or
    once the smaller calls before it have done 4 * min_n elements of work together (a
    training loop's small draws); otherwise None, and the caller's NumPy / Python path
    (the same numbers) runs, so a process's first small draws never wait for numba.
    `cold_n`, for a helper that saves little per element: the min_n used while numba is
    not imported yet (importing it and loading a first function take ~0.5-1 s).
    `force` ("numpy" / "numba") pins one path (the tests compare them)."""

    def __init__(self, module, name, min_n, cold_n=None):
        self.module, self.name, self.min_n = module, name, min_n
        self.cold_n = cold_n
        self.fn = None
        self.work = 0
        self.force = None

    def get(self, n):
        fn = self.fn
        if fn is None or self.force is not None:
            if self.force == "numpy":
                return None
            if self.force is None:
                self.work += n
                m = self.min_n
                if self.cold_n is not None and "numba" not in sys.modules:
                    m = self.cold_n
                if n < m and self.work < 4 * m:
                    return None
            fn = self.load()
        return fn

    def load(self):
        if self.fn is None:
            import importlib
            from .numba_helpers import njit          # lazy: numba is imported now
            fn = getattr(importlib.import_module("." + self.module, __package__), self.name)
            self.fn = fn if hasattr(fn, "py_func") else njit(fn)
        return self.fn


# ATen's AVX2 float normal fill (randn / normal_ of 16 or more floats): NumPy op by op
# below (~100 ops: ~0.1 ms for 1000 floats), one vectorized numba loop (ops/_normal_fill:
# ~1.5 ns a float) from 64k floats or once loaded
NORMAL_FILL = LazyKernel("_normal_fill", "normal_fill_f32", 1 << 16)
# randperm's Fisher-Yates (Python: ~0.13 us an element) and the rejection samplers
# (Python: 1-7 us an element), in numba (ops/_sampler_kernels)
RANDPERM = LazyKernel("_sampler_kernels", "randperm_fill", 1 << 14)
POISSON = LazyKernel("_sampler_kernels", "poisson_run", 1024)
BINOMIAL = LazyKernel("_sampler_kernels", "binomial_run", 1024)
GAMMA = LazyKernel("_sampler_kernels", "gamma_run", 1024)
# the Mersenne Twister's words themselves (NumPy's random_raw: ~2.5 ns a word, and the
# uint64 arithmetic after it) and the float64 fills with the C library's log / log1p / exp
# / tan (Python's math below the threshold, ~0.15 us a value), in numba (ops/_mt_kernels).
# The twister saves ~3 ns a word: it imports numba only after ~2^25 words (about 0.1 s of
# NumPy's work); the libm loops after 2^17 values
MT_RAW = LazyKernel("_mt_kernels", "mt_raw", 1 << 16, 1 << 25)
MT_U24 = LazyKernel("_mt_kernels", "mt_u24", 1 << 16, 1 << 25)
MT_U53 = LazyKernel("_mt_kernels", "mt_u53", 1 << 15, 1 << 24)
MT_BELOW = LazyKernel("_mt_kernels", "mt_below", 1 << 15, 1 << 24)
NORMAL_F64 = LazyKernel("_mt_kernels", "normal_f64", 1 << 13, 1 << 17)
NORMAL_SERIAL_F64 = LazyKernel("_mt_kernels", "normal_serial_f64", 1 << 13, 1 << 17)
EXPONENTIAL_F64 = LazyKernel("_mt_kernels", "exponential_f64", 1 << 14, 1 << 17)
LIBM = LazyKernel("_mt_kernels", "libm_unary", 1 << 13, 1 << 17)
NORMAL_FILL_MT = LazyKernel("_mt_kernels", "normal_fill_mt", 1 << 16, 1 << 25)


def _fma32(a, b, c):
    """fma(a, b, c) in float32 for float32 a and b, c float32 arrays or scalars: the
    exact product summed in double, rounded to float once more."""
    t = np.multiply(a, b, dtype=_F64)
    t += c
    return t.astype(_F32)


def _log256_ps(x):
    f = np.float32
    x = np.maximum(np.asarray(x, _F32), f(1.1754943508222875e-38))   # (x > 0 here)
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7f).astype(_F32) + f(1)
    x = ((bits & ~0x7f800000) | 0x3f000000).view(_F32)                # mantissa in [.5, 1)
    small = x < f(0.707106781186547524)
    x = (x - f(1)) + np.where(small, x, f(0))
    e = e - small.astype(_F32)
    z = x * x
    y = np.full_like(x, f(7.0376836292E-2))
    for p in (-1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
              -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1):
        y = _fma32(y, x, f(p))
    y = _fma32(y * x, z, e * f(-2.12194440e-4))
    y = _fma32(z, f(-0.5), y)
    return _fma32(e, f(0.693359375), x + y)


def _sincos256_ps(x):
    f = np.float32
    x = np.asarray(x, _F32)
    neg = np.signbit(x)
    x = np.abs(x)
    j = (x * f(1.27323954473516)).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(_F32)
    for dp in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8):
        x = _fma32(y, f(dp), x)
    z = x * x
    yc = _fma32(np.full_like(z, f(2.443315711809948E-005)), z, f(-1.388731625493765E-003))
    yc = _fma32(yc, z, f(4.166664568298827E-002))
    yc = _fma32(yc * z, z, -(z * f(0.5))) + f(1)
    ys = _fma32(np.full_like(z, f(-1.9515295891E-4)), z, f(8.3321608736E-3))
    ys = _fma32(ys, z, f(-1.6666654611E-1))
    ys = _fma32(ys * z, x, x)
    poly = (j & 2) == 0
    s, c = np.where(poly, ys, yc), np.where(poly, yc, ys)
    s = np.where(neg ^ ((j & 4) != 0), -s, s)
    c = np.where((~(j - 2) & 4) != 0, -c, c)
    return s, c


def _libm(fn, x):
    """fn (math.log / math.log1p: the C library's) over a float64 array."""
    return np.fromiter(map(fn, x.ravel().tolist()), _F64, x.size).reshape(x.shape)


_LIBM = {"log": 0, "log1p": 1, "exp": 2, "tan": 3}


def libm(name, x):
    """The C library's log / log1p / exp / tan over a float64 array, as ATen's scalar
    kernels call them (NumPy's float64 versions differ in the last bit now and then):
    a numba loop from 8k values or once loaded, Python's math (glibc's) below."""
    x = np.ascontiguousarray(x, _F64)
    run = LIBM.get(x.size)
    if run is None:
        with np.errstate(all="ignore"):
            fn = getattr(math, name)
            try:
                return _libm(fn, x)
            except (ValueError, OverflowError):        # (C's inf / nan where Python raises)
                return np.array([_c_or_numpy(fn, name, v) for v in x.ravel().tolist()],
                                _F64).reshape(x.shape)
    out = np.empty(x.shape, _F64)
    run(x.reshape(-1), out.reshape(-1), _LIBM[name])
    return out


def _c_or_numpy(fn, name, v):
    try:
        return fn(v)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            return float(getattr(np, name)(np.float64(v)))


def _numel(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


class _CudaStream:
    """cuRAND Philox (cupy.random.RandomState) with an explicit offset per draw."""

    STATE_BYTES = 8

    def __init__(self, seed, dev):
        from ..device import require_cupy
        cp = self.cp = require_cupy()
        self.dev = dev
        with cp.cuda.Device(dev.index):
            self.rs = cp.random.RandomState(
                seed, method=cp.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
        self.offset = 0

    def _start(self, n):
        """Position the generator at this draw's offset; reserve room for n values."""
        self.cp.cuda.curand.setGeneratorOffset(self.rs._generator, self.offset)
        self.offset += max(8 * int(n), 16)

    def _n(self, shape):
        return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1

    def uniform(self, shape, dt, low=0.0, high=1.0):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(self._n(shape))
            if dt == _F16:
                u = self.rs.random_sample(shape, dtype=np.float32)
                u = (cp.floor(u * np.float32(2048)) * np.float32(1 / 2048)).astype(_F16)
            elif dt is BF16:        # (float draws rounded to bfloat16, 1.0 -> 0 as ATen's)
                from .bfloat16_support import round_bf16
                u = round_bf16(cp, self.rs.random_sample(shape, dtype=np.float32))
                u[u == np.float32(1.0)] = np.float32(0.0)
                if (low, high) != (0.0, 1.0):
                    u = round_bf16(cp, u * np.float32(float(high) - float(low))
                                   + np.float32(low))
                return u
            else:
                u = self.rs.random_sample(shape, dtype=dt)
            if (low, high) != (0.0, 1.0):
                t = u.dtype.type
                u = (u * t(float(high) - float(low)) + t(low)).astype(u.dtype, copy=False)
            return u

    def normal(self, shape, dt, mean=0.0, std=1.0, contiguous=True):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(self._n(shape))
            if dt == _F16:
                v = self.rs.standard_normal(shape, dtype=np.float32).astype(_F16)
            elif dt is BF16:        # (float draws, rounded to bfloat16)
                from .bfloat16_support import round_bf16
                v = self.rs.standard_normal(shape, dtype=np.float32)
                if (mean, std) != (0.0, 1.0):
                    v = v * np.float32(std) + np.float32(mean)
                return round_bf16(cp, v)
            else:
                v = self.rs.standard_normal(shape, dtype=dt)
            if (mean, std) != (0.0, 1.0):
                v = (v * dt.type(std) + dt.type(mean)).astype(dt, copy=False)
            return v

    def normal_serial(self, n):
        return self.normal((n,), _F64)

    def integers(self, low, high, shape):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(self._n(shape))
            return self.rs.randint(low, high, size=shape, dtype=np.int64)

    def permutation(self, n):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(n)
            return self.rs.permutation(n).astype(np.int64, copy=False)

    def poisson(self, lam):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(lam.size)
            return self.rs.poisson(lam)

    def binomial(self, n, p):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(n.size)
            return self.rs.binomial(n, p)

    def get_state(self):
        return self.offset.to_bytes(8, "little")

    def set_state(self, b):
        self.offset = int.from_bytes(b[0:8], "little")


class Generator:
    """gpujit.Generator(device='cpu'): a seeded source of random numbers for one device,
    accepted by every random op's `generator=` keyword."""

    def __init__(self, device="cpu"):
        self.device = _resolve(device)
        self._seed = DEFAULT_SEED
        self._stream = None

    def _get_stream(self):
        if self._stream is None:
            self._stream = (_CpuStream(self._seed) if self.device is _cpu
                            else _CudaStream(self._seed, self.device))
        return self._stream

    def manual_seed(self, seed):
        self._seed = _norm_seed(seed)
        self._stream = None             # (re)created, seeded, at the next draw
        return self

    def seed(self):
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 CPU tensor: on the CPU, PyTorch's own 5056 bytes (the
        Mersenne Twister's words, the seed and the cached normal samples), so states load
        across gpujit and torch; on a GPU, the seed then the stream's offset."""
        st = self._get_stream()
        b = st.get_state() if self.device is _cpu else (
            self._seed.to_bytes(8, "little") + st.get_state())
        return _wrap(np.frombuffer(b, dtype=np.uint8).copy(), _dt.uint8, _cpu)

    def set_state(self, new_state):
        data = getattr(new_state, "_data", new_state)
        if hasattr(data, "get"):
            data = data.get()
        data = np.asarray(data)
        if data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        b = data.tobytes()
        if self.device is _cpu:
            if len(b) != _CpuStream.STATE_BYTES:
                raise RuntimeError(f"Expected a CPUGeneratorImplState of size 5056 but "
                                   f"found the input RNG state size to be {len(b)}")
            st = _CpuStream(0)
            st.set_state(b)
            self._seed, self._stream = st.seed, st
            return self
        want = 8 + _CudaStream.STATE_BYTES
        if len(b) != want:
            raise RuntimeError(f"Expected a uint8 state tensor of {want} bytes for a "
                               f"{self.device.type} generator, got {len(b)}")
        self.manual_seed(int.from_bytes(b[:8], "little"))
        self._get_stream().set_state(b[8:])
        return self

    def __repr__(self):
        return f"<gpujit.Generator device={self.device}>"


default_generator = Generator("cpu")
_cuda_generators: dict = {}       # cuda index -> Generator
_cuda_seeds: dict = {}            # seeds given before a device's generator exists
_cuda_seed_all = [DEFAULT_SEED]


def cuda_generator(dev):
    g = _cuda_generators.get(dev.index)
    if g is None:
        g = Generator(dev)
        g.manual_seed(_cuda_seeds.get(dev.index, _cuda_seed_all[0]))
        _cuda_generators[dev.index] = g
    return g


class _VmapRandomness(threading.local):
    """The randomness mode of each vmap running now in this thread, innermost last
    (func/_vmap.py pushes and pops; "same" entries also hold the generators' states to
    rewind each element to). Per thread, as PyTorch's functorch levels."""

    def __init__(self):
        self.modes = []


_VMAP = _VmapRandomness()

RANDOM_IN_VMAP = ("vmap: called random operation while in randomness error mode. Please "
                  "either use the 'same' or 'different' randomness flags on vmap or perform "
                  "the randomness operation out of vmap")


def _vmap_draw(g):
    """A random op is about to draw from g inside a vmap: refuse it ('error' anywhere up
    the nest), or note g's state so that 'same' can rewind it for the next element."""
    for mode in _VMAP.modes:
        if mode[0] == "error":
            raise RuntimeError(RANDOM_IN_VMAP)
    for mode in _VMAP.modes:
        if mode[0] == "same" and mode[1] is not None and id(g) not in mode[1]:
            mode[1][id(g)] = (g, g.get_state())


def generator_for(dev, generator=None):
    """The stream to draw from for an op on dev (the device's default, or `generator`)."""
    if _VMAP.modes:
        _vmap_draw(generator if isinstance(generator, Generator) else
                   default_generator if dev is _cpu else cuda_generator(dev))
    if generator is None:
        g = default_generator if dev is _cpu else cuda_generator(dev)
    else:
        if not isinstance(generator, Generator):
            raise TypeError(f"generator must be a gpujit.Generator, got "
                            f"{type(generator).__name__}")
        if generator.device.type != dev.type:
            raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                               f"'{generator.device.type}'")
        g = generator
    return g._get_stream()


def _cuda_index(device):
    if device is None:
        from ..device import cupy_or_none, current_index
        cp = cupy_or_none()
        return current_index(cp) if cp is not None else 0
    if isinstance(device, int):
        return device
    d = _device_cls(device)
    return d.index if d.index is not None else _cuda_index(None)


def cuda_manual_seed(seed, device=None):
    """Seed one CUDA device's default generator (lazily: fine without a GPU)."""
    seed = _norm_seed(seed)
    idx = _cuda_index(device)
    _cuda_seeds[idx] = seed
    if idx in _cuda_generators:
        _cuda_generators[idx].manual_seed(seed)


def cuda_manual_seed_all(seed):
    seed = _norm_seed(seed)
    _cuda_seed_all[0] = seed
    _cuda_seeds.clear()
    for g in _cuda_generators.values():
        g.manual_seed(seed)


def cuda_seed(device=None):
    s = int.from_bytes(os.urandom(8), "little")
    cuda_manual_seed(s, device)
    return s


def cuda_seed_all():
    s = int.from_bytes(os.urandom(8), "little")
    cuda_manual_seed_all(s)
    return s


def _cuda_gen(device):
    from ..device import cuda_device
    return cuda_generator(cuda_device(_cuda_index(device)))


def cuda_initial_seed(device=None):
    return _cuda_gen(device).initial_seed()


def cuda_get_rng_state(device="cuda"):
    return _cuda_gen(None if device == "cuda" else device).get_state()


def cuda_set_rng_state(new_state, device="cuda"):
    _cuda_gen(None if device == "cuda" else device).set_state(new_state)


def manual_seed(seed):
    """Seed the CPU and every CUDA device; returns the CPU's default generator."""
    seed = _norm_seed(seed)
    default_generator.manual_seed(seed)
    cuda_manual_seed_all(seed)
    return default_generator


def seed():
    s = default_generator.seed()
    cuda_manual_seed_all(s)
    return s


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


PUBLIC.update(Generator=Generator, default_generator=default_generator,
              manual_seed=manual_seed, seed=seed, initial_seed=initial_seed,
              get_rng_state=get_rng_state, set_rng_state=set_rng_state)

from . import random_ops  # noqa: E402  (the random ops themselves: same family)

PUBLIC.update(random_ops.PUBLIC)
