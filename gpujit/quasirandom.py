"""torch.quasirandom: SobolEngine, PyTorch's generator of (scrambled) Sobol sequences.

The direction numbers are Joe & Kuo's (https://web.maths.unsw.edu.au/~fkuo/sobol/,
new-joe-kuo-6.21201: search criterion D(6), 21201 dimensions), the table ATen's
SobolEngineOpsUtils.cpp holds; gpujit keeps it in `_sobol_directions.npz` (`pack_table`
wrote it from SciPy's copy of the same table; tests compare the state with torch's). The
engine follows PyTorch's quasirandom.py and SobolEngineOps.cpp step for step (the
Gray-code draw, the first point drawn separately, Owen's scrambling with random lower
triangular matrices and a random shift drawn by torch.randint from the seeded generator), so
seeded scrambled sequences equal PyTorch's. The bit work is NumPy on int64 (the state lives
on the CPU as in PyTorch); results are gpujit tensors.
"""
from __future__ import annotations

import os

import numpy as np

import gpujit as torch

__all__ = ["SobolEngine"]

MAXBIT = 30
MAXDIM = 21201
MAXDEG = 18
_TABLE_FILE = os.path.join(os.path.dirname(__file__), "_sobol_directions.npz")
_TABLE = []


def pack_table(poly, vinit):
    """The arrays `_sobol_directions.npz` holds for Joe & Kuo's table: `poly` (primitive
    polynomials, uint32) and `bits`: for each k, the k low bits of (m_k - 1) / 2 (every
    initial direction number m_k is odd and below 2**(k+1)) of the dimensions whose
    polynomial's degree exceeds k, packed with np.packbits."""
    poly = np.asarray(poly, dtype=np.int64)
    vinit = np.asarray(vinit, dtype=np.int64)
    deg = _degrees(poly)
    chunks = []
    for k in range(1, MAXDEG):
        col = (vinit[deg > k, k] - 1) >> 1
        chunks.append(((col[:, None] >> np.arange(k)) & 1).astype(np.uint8).ravel())
    return {"poly": poly.astype(np.uint32), "bits": np.packbits(np.concatenate(chunks))}


def _degrees(poly):
    deg = np.zeros(poly.shape, dtype=np.int64)
    p = poly.copy()
    while p.any():
        p >>= 1
        deg += p > 0
    return deg


def _table():
    """(poly int64 [MAXDIM], initial direction numbers int64 [MAXDIM, MAXDEG])."""
    if not _TABLE:
        with np.load(_TABLE_FILE) as f:
            poly, bits = f["poly"].astype(np.int64), f["bits"]
        deg = _degrees(poly)
        vinit = np.zeros((MAXDIM, MAXDEG), dtype=np.int64)
        vinit[deg > 0, 0] = 1
        vinit[0, 0] = 1
        flat = np.unpackbits(bits).astype(np.int64)
        pos = 0
        for k in range(1, MAXDEG):
            rows = np.nonzero(deg > k)[0]
            n = rows.size * k
            b = flat[pos:pos + n].reshape(rows.size, k)
            pos += n
            vinit[rows, k] = ((b << np.arange(k)).sum(axis=1) << 1) | 1
        _TABLE.append((poly, vinit))
    return _TABLE[0]


def _initial_state(dimension):
    """ATen's _sobol_engine_initialize_state_: the direction numbers v[d, j] (int64,
    [dimension, MAXBIT]) of each dimension's first MAXBIT bits, shifted into place."""
    poly, vinit = _table()
    poly, vinit = poly[:dimension], vinit[:dimension]
    deg = _degrees(poly)
    v = np.zeros((dimension, MAXBIT), dtype=np.int64)
    v[:, :MAXDEG] = np.where(np.arange(MAXDEG) < deg[:, None], vinit, 0)
    v[0, :] = 1
    rows = np.arange(dimension)
    for j in range(1, MAXBIT):
        todo = (deg <= j) & (deg > 0)
        r, m = rows[todo], deg[todo]
        new = v[r, j - m]
        for k in range(MAXDEG):
            use = (k < m) & (((poly[r] >> np.maximum(m - 1 - k, 0)) & 1) == 1)
            new = np.where(use, new ^ (v[r, np.maximum(j - k - 1, 0)] << (k + 1)), new)
        v[r, j] = new
    return v << np.arange(MAXBIT - 1, -1, -1)


def _rightmost_zero(n):
    """Per element: the index of the lowest zero bit of n (int64 array)."""
    out = np.zeros(n.shape, dtype=np.int64)
    n = n.copy()
    while (odd := (n & 1) == 1).any():
        out += odd
        n = np.where(odd, n >> 1, n)
    return out


def _draw(quasi, n, sobolstate, num_generated):
    """ATen's _sobol_engine_draw: the next n points as int64 [n, dimension] and the new
    quasi: each point XORs in the direction numbers of its Gray-code bit."""
    ls = _rightmost_zero(np.arange(num_generated, num_generated + n, dtype=np.int64))
    steps = sobolstate[:, ls].T                          # [n, dimension]
    pts = np.bitwise_xor.accumulate(np.concatenate([quasi[None], steps]), axis=0)[1:]
    return pts, (pts[-1].copy() if n else quasi.copy())


def _scramble_state(sobolstate, ltm):
    """ATen's _sobol_engine_scramble_: each direction number multiplied (over GF(2)) by the
    dimension's random lower triangular bit matrix with a unit diagonal."""
    ltm = ltm.copy()
    idx = np.arange(MAXBIT)
    ltm[:, idx, idx] = 1
    dots = (ltm << np.arange(MAXBIT - 1, -1, -1)).sum(-1)       # [dim, MAXBIT] rows as ints
    parity = np.bitwise_count(dots[:, :, None] & sobolstate[:, None, :]) & 1   # [dim, p, j]
    return (parity.astype(np.int64) << np.arange(MAXBIT - 1, -1, -1)[None, :, None]).sum(1)


def _np(t):
    return np.asarray(t.numpy(), dtype=np.int64)


class SobolEngine:
    r"""An engine for (scrambled) Sobol sequences, as torch.quasirandom.SobolEngine: up to
    21201 dimensions; `draw(n)` gives the next n points [n, dimension] in [0, 1),
    `draw_base2(m)` 2**m of them, `fast_forward(n)` skips n, `reset()` starts over.

    Args:
        dimension (int): the dimensionality of the sequence.
        scramble (bool): scramble the sequence (Owen's scrambling); default False.
        seed (int, optional): the seed of the scrambling's generator; else a random one.
    """

    MAXBIT = MAXBIT
    MAXDIM = MAXDIM

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError("Supported range of dimensionality "
                             f"for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = torch.from_numpy(_initial_state(dimension))
        if not self.scramble:
            self.shift = torch.zeros(self.dimension, dtype=torch.long)
        else:
            self._scramble()
        self.quasi = self.shift.clone(memory_format=torch.contiguous_format)
        self._first_point = (self.quasi / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def _advance(self, n, start, dtype):
        pts, quasi = _draw(_np(self.quasi), n, _np(self.sobolstate), start)
        self.quasi = torch.from_numpy(quasi)
        if dtype is not None and not dtype.is_floating_point:
            raise RuntimeError(f'"_sobol_engine_draw" not implemented for '
                               f"'{dtype.short_name}'")
        result = torch.from_numpy(pts).to(dtype)
        return result.mul_(1.0 / (1 << MAXBIT))

    def draw(self, n=1, out=None, dtype=None):
        r"""The next n points of the sequence, [n, dimension], in `dtype` (default: the
        default dtype); written into `out` (resized) when given."""
        if dtype is None:
            dtype = torch.get_default_dtype()
        if self.num_generated == 0:
            if n == 1:
                result = self._first_point.to(dtype)
            else:
                result = self._advance(n - 1, self.num_generated, dtype)
                result = torch.cat((self._first_point.to(dtype), result), dim=-2)
        else:
            result = self._advance(n, self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        r"""The next 2**m points of the sequence (the total drawn must stay a power of 2)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError(
                "The balance properties of Sobol' points require "
                f"n to be a power of 2. {self.num_generated} points have been "
                f"previously generated, then: n={self.num_generated}+2**{m}={total_n}. "
                "If you still want to do this, please use "
                "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        r"""Back to the first point."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        r"""Skip the next n points (as drawing them)."""
        start = self.num_generated - 1 if self.num_generated else 0
        count = n if self.num_generated else n - 1
        _, quasi = _draw(_np(self.quasi), max(count, 0), _np(self.sobolstate), start)
        self.quasi = torch.from_numpy(quasi)
        self.num_generated += n
        return self

    def _scramble(self):
        g = None
        if self.seed is not None:
            g = torch.Generator()
            g.manual_seed(self.seed)
        shift_ints = torch.randint(2, (self.dimension, self.MAXBIT), generator=g)
        self.shift = torch.mv(shift_ints, torch.pow(2, torch.arange(0, self.MAXBIT)))
        ltm = torch.randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=g).tril()
        self.sobolstate = torch.from_numpy(_scramble_state(_np(self.sobolstate), _np(ltm)))

    def __repr__(self):
        fmt_string = [f"dimension={self.dimension}"]
        if self.scramble:
            fmt_string += ["scramble=True"]
        if self.seed is not None:
            fmt_string += [f"seed={self.seed}"]
        return self.__class__.__name__ + "(" + ", ".join(fmt_string) + ")"
