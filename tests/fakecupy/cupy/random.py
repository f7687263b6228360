"""Fake cupy.random: RandomState with a curand-like generator handle and offsets."""
import itertools as _it

import numpy as _np

from . import ndarray as _nd, _wrap, _unwrap

_GENERATORS = {}
_handles = _it.count(0x5000)


def _check_and_get_dtype(dtype):
    dtype = _np.dtype(dtype)
    if dtype.char not in ("f", "d"):
        raise TypeError("cupy.random only supports float32 and float64")
    return dtype


class RandomState:
    def __init__(self, seed=None, method=None):
        self._generator = next(_handles)
        _GENERATORS[self._generator] = self
        self._seed = 0 if seed is None else int(seed) & (2**64 - 1)
        self._set_offset(0)

    def _set_offset(self, offset):
        self._rng = _np.random.Generator(_np.random.Philox(key=self._seed, counter=offset))

    def seed(self, seed=None):
        self._seed = 0 if seed is None else int(seed) & (2**64 - 1)
        self._set_offset(0)

    def random_sample(self, size=None, dtype=float):
        dtype = _check_and_get_dtype(dtype)
        return _wrap(_np.asarray(self._rng.random(size, dtype=dtype)))

    def standard_normal(self, size=None, dtype=float):
        dtype = _check_and_get_dtype(dtype)
        return _wrap(_np.asarray(self._rng.standard_normal(size, dtype=dtype)))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        dtype = _check_and_get_dtype(dtype)
        return _wrap(_np.asarray(self._rng.uniform(low, high, size).astype(dtype)))

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        dtype = _check_and_get_dtype(dtype)
        return _wrap(_np.asarray(self._rng.normal(loc, scale, size).astype(dtype)))

    def randint(self, low, high=None, size=None, dtype=int):
        for v in (low, high):
            if isinstance(v, _np.ndarray):
                raise TypeError("fake cupy: randint with numpy array bounds")
        low, high = _unwrap((low, high), "randint")
        return _wrap(_np.asarray(self._rng.integers(low, high, size, dtype=dtype)))

    def poisson(self, lam=1.0, size=None, dtype=int):
        lam = _unwrap((lam,), "poisson")[0]
        return _wrap(_np.asarray(self._rng.poisson(lam, size)).astype(dtype))

    def binomial(self, n, p, size=None, dtype=int):
        n, p = _unwrap((n, p), "binomial")
        return _wrap(_np.asarray(self._rng.binomial(n, p, size)).astype(dtype))

    def standard_gamma(self, shape, size=None, dtype=float):
        from . import asarray
        shape = asarray(shape)              # (CuPy: cupy.asarray, a host array copied)
        size = shape.shape if size is None else size
        return _wrap(_np.asarray(self._rng.standard_gamma(
            _np.broadcast_to(shape._a, size))).astype(dtype))

    def permutation(self, a):
        if isinstance(a, _np.ndarray):
            raise TypeError("fake cupy: permutation of a numpy array")
        if isinstance(a, _nd):
            return _wrap(self._rng.permutation(a._a))
        return _wrap(self._rng.permutation(a))

    def shuffle(self, a):
        if not isinstance(a, _nd):
            raise TypeError("The array must be cupy.ndarray")
        self._rng.shuffle(a._a)


_default = [None]


def get_random_state():
    if _default[0] is None:
        _default[0] = RandomState()
    return _default[0]


def seed(s=None):
    get_random_state().seed(s)


def __getattr__(name):
    rs = get_random_state()
    if hasattr(rs, name):
        return getattr(rs, name)
    f = getattr(_np.random, name)
    from . import _wrap_func
    return _wrap_func("random." + name, f)
