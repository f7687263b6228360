"""Random ops and generators.

Every device has one default `Generator`: the CPU's draws from NumPy's PCG64, a CUDA
device's from a cuRAND Philox generator (through `cupy.random.RandomState`), created lazily
on first use. `manual_seed(seed)` seeds them all, so one seed gives the same numbers on
the same device. (PyTorch's own streams are not reproduced: the same seed gives different
numbers than PyTorch, and different numbers on the CPU and on a GPU.)

A CUDA generator's state is (seed, offset), as in PyTorch: each draw starts at the
generator's offset, and the offset then moves past every value the draw could consume,
so `get_state`/`set_state` replay draws exactly. Floats are generated in the requested
precision (float32 directly, no float64 detour).
"""
from __future__ import annotations

import os

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu, device as _device_cls, resolve as _resolve
from .registry import wrap as _wrap

PUBLIC = {}

DEFAULT_SEED = 67280421310721          # PyTorch's default seed
_U64 = (1 << 64) - 1
_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def _norm_seed(seed):
    seed = int(seed)
    if not -(1 << 63) <= seed <= _U64:
        raise RuntimeError("Overflow when unpacking long")
    return seed & _U64


# ------------------------------------------------------------------ streams

class _CpuStream:
    """NumPy PCG64 behind the generator of the CPU."""

    def __init__(self, seed):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def uniform(self, shape, dt):
        """[0, 1) in dtype dt (float16 from an exact 11-bit grid, never rounding to 1)."""
        if dt == _F16:
            u = self.rng.random(shape, dtype=np.float32)
            return (np.floor(u * np.float32(2048)) * np.float32(1 / 2048)).astype(_F16)
        return self.rng.random(shape, dtype=dt)

    def normal(self, shape, dt):
        if dt == _F16:
            return self.rng.standard_normal(shape, dtype=np.float32).astype(_F16)
        return self.rng.standard_normal(shape, dtype=dt)

    def integers(self, low, high, shape):
        return self.rng.integers(low, high, size=shape, dtype=np.int64)

    def permutation(self, n):
        return self.rng.permutation(n).astype(np.int64, copy=False)

    def poisson(self, lam):
        return self.rng.poisson(lam)

    def binomial(self, n, p):
        return self.rng.binomial(n, p)

    def get_state(self):
        st = self.rng.bit_generator.state
        return (st["state"]["state"].to_bytes(16, "little")
                + st["state"]["inc"].to_bytes(16, "little")
                + int(st["has_uint32"]).to_bytes(4, "little")
                + int(st["uinteger"]).to_bytes(4, "little"))

    def set_state(self, b):
        self.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(b[0:16], "little"),
                      "inc": int.from_bytes(b[16:32], "little")},
            "has_uint32": int.from_bytes(b[32:36], "little"),
            "uinteger": int.from_bytes(b[36:40], "little")}

    STATE_BYTES = 40


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

    def uniform(self, shape, dt):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(self._n(shape))
            if dt == _F16:
                u = self.rs.random_sample(shape, dtype=np.float32)
                return (cp.floor(u * np.float32(2048)) * np.float32(1 / 2048)).astype(_F16)
            return self.rs.random_sample(shape, dtype=dt)

    def normal(self, shape, dt):
        cp = self.cp
        with cp.cuda.Device(self.dev.index):
            self._start(self._n(shape))
            if dt == _F16:
                return self.rs.standard_normal(shape, dtype=np.float32).astype(_F16)
            return self.rs.standard_normal(shape, dtype=dt)

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
        self._stream = None
        return self

    def seed(self):
        s = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 CPU tensor (seed first, then the stream's state)."""
        b = self._seed.to_bytes(8, "little") + self._get_stream().get_state()
        return _wrap(np.frombuffer(b, dtype=np.uint8).copy(), _dt.uint8, _cpu)

    def set_state(self, new_state):
        data = getattr(new_state, "_data", new_state)
        if hasattr(data, "get"):
            data = data.get()
        b = np.asarray(data, dtype=np.uint8).tobytes()
        want = 8 + (_CpuStream if self.device is _cpu else _CudaStream).STATE_BYTES
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


# the randomness mode of each vmap running now, innermost last (func/_vmap.py pushes and
# pops; "same" entries also hold the generators' states to rewind each element to)
vmap_randomness: list = []

RANDOM_IN_VMAP = ("vmap: called random operation while in randomness error mode. Please "
                  "either use the 'same' or 'different' randomness flags on vmap or perform "
                  "the randomness operation out of vmap")


def _vmap_draw(g):
    """A random op is about to draw from g inside a vmap: refuse it ('error' anywhere up
    the nest), or note g's state so that 'same' can rewind it for the next element."""
    for mode in vmap_randomness:
        if mode[0] == "error":
            raise RuntimeError(RANDOM_IN_VMAP)
    for mode in vmap_randomness:
        if mode[0] == "same" and mode[1] is not None and id(g) not in mode[1]:
            mode[1][id(g)] = (g, g.get_state())


def generator_for(dev, generator=None):
    """The stream to draw from for an op on dev (the device's default, or `generator`)."""
    if vmap_randomness:
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
