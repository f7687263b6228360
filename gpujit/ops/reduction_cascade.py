"""PyTorch's CPU order of float32 / float64 sums (sum, mean, nansum), bit for bit.

ATen adds a CPU reduction in cascade_sum (aten/src/ATen/native/cpu/SumKernel.cpp) over
the loops of a TensorIterator: the dims put in its order (the reduced dims first, by the
input's strides; the kept ones by the output's), adjacent dims merged where their strides
allow, then 2-d loops (size0 x size1, the outer dims counted out) whose rows are added by
one of four kernels chosen from the strides, each a cascade of sequential sums:

- multi_row_sum (_mrs): runs of `step` = 2 ** max(4, ceil(log2(n)) // 4) values added in
  order from 0, the run sums in runs of `step` again (4 levels), the levels added last;
- row_sum (_rs): 4 interleaved multi_row_sums (value i to sum i % 4), the values past the
  last 4 to the first, then the four in order;
- a contiguous row of >= L values (L: lanes of the Vectorized<scalar_t> it runs on, 8
  float32 / 4 float64 on x86: torch 2.13's AVX512 build adds as its AVX2 and 'default'
  builds do, checked on a (64, 16) float32 .sum(1)): row_sum of its L-wide vectors, then
  the tail values from 0, then the L lanes in order;
- contiguous columns (the reduced dim strided): groups of 4 L columns by multi_row_sum,
  the others by row_sum; strided columns likewise in groups of 4.

Each output adds its loops' results in their order to 0 (so a sum is never -0.). Inputs
of >= GRAIN_SIZE (32768) elements run on kernels.threads.torch_threads() threads: a full reduction sums
contiguous ranges of the loop (one per thread) and then those partial sums
(two_pass_reduction); a partial one cuts the outermost kept dim among the threads
(parallel_dim_reduction), which regroups the columns when that dim is a loop's size1.

Two implementations make the same additions: numba loops written as ATen's
(ops/_cascade_kernels.serial_sum; about NumPy's speed on large inputs), and, for small
calls while numba is not loaded, NumPy over whole blocks (_block_numpy: the values of a
level's runs added slice by slice, no per-element Python). Off x86 the lane count is
unknown and NumPy's own order stays (cascade_sum gives None).
"""
from __future__ import annotations

import platform

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["cascade_sum", "lanes"]

GRAIN_SIZE = 32768          # at::internal::GRAIN_SIZE
_LEVELS = 4                 # multi_row_sum's num_levels
_ILP = 4                    # row_sum's ilp_factor, vectorized_outer_sum's nrows
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


def _vector_bytes():
    """Bytes of the Vectorized<T> that ATen's sum kernel runs on: 32 on x86 whatever the
    capability (torch 2.13's AVX512 build added (64, 16) float32 rows 8 lanes wide, as its
    AVX2 and 'default' builds do); 0 where unknown (not x86)."""
    return 32 if _X86 else 0


def lanes(dtype):
    """Lanes of ATen's Vectorized<dtype> (0: unknown)."""
    return _vector_bytes() // np.dtype(dtype).itemsize


# ------------------------------------------------------------------ the kernels
# Arrays below hold the values to add along axis 0; any further axes are independent sums.

def _seq(a):
    """a[0] + a[1] + ... in order (a sequential sum from 0: the sign of a zero sum aside,
    which the output's own add to 0 settles)."""
    n = a.shape[0]
    if n == 0:
        return np.zeros(a.shape[1:], a.dtype)
    if n <= 32:
        s = a[0].copy(order="K")
        for k in range(1, n):
            s += a[k]
        return s
    return np.add.accumulate(a, axis=0)[-1]


def _runs(a, step):
    """Sequential sums of a's whole runs of `step` values, and of the values left over."""
    g = a.shape[0] // step
    full = a[:g * step].reshape((g, step) + a.shape[1:])
    if g:
        s = full[:, 0].copy(order="K")
        for k in range(1, step):
            s += full[:, k]
    else:
        s = np.zeros((0,) + a.shape[1:], a.dtype)
    return s, _seq(a[g * step:])


def _mrs(a):
    """multi_row_sum over a's axis 0."""
    n = a.shape[0]
    power = max(4, ((n - 1).bit_length() if n > 2 else 1) // _LEVELS)
    step = 1 << power
    if n < step:                # (no whole run: the upper levels stay 0)
        return _seq(a)
    level, tail = _runs(a, step)
    r = tail
    for _ in range(_LEVELS - 2):
        level, rest = _runs(level, step)
        r = r + rest
    return r + _seq(level)


def _rs(a):
    """row_sum over a's axis 0."""
    m = a.shape[0] // _ILP
    p = _mrs(a[:m * _ILP].reshape((m, _ILP) + a.shape[1:]))
    s = p[0]
    for k in range(m * _ILP, a.shape[0]):
        s = s + a[k]
    for k in range(1, _ILP):
        s = s + p[k]
    return s


INNER_VEC, OUTER_VEC, INNER, OUTER = range(4)     # cascade_sum's four loop kernels


def _kind(s0, s1, size0, size1, item, lanes_):
    """The kernel cascade_sum runs for a 2-d loop of byte strides s0 (reduced) and s1."""
    if s0 == item and size0 >= lanes_:
        return INNER_VEC            # vectorized_inner_sum
    if s1 == item and size1 >= lanes_:
        return OUTER_VEC            # vectorized_outer_sum
    return INNER if s0 < s1 else OUTER      # scalar_inner_sum / scalar_outer_sum


def _block_numpy(v, kind, lanes_):
    """The sum of each (row, outer) of v (size0, size1, *outer) by the kernel `kind`."""
    size0, size1 = v.shape[:2]
    if kind == INNER_VEC:
        nv = size0 // lanes_
        vec = v[:nv * lanes_].reshape((nv, lanes_) + v.shape[1:])
        acc = _rs(vec)
        out = _seq(v[nv * lanes_:])
        for k in range(lanes_):
            out = out + acc[k]
        return out
    if kind == INNER:
        return _rs(v)
    group = _ILP * lanes_ if kind == OUTER_VEC else _ILP
    c = size1 // group * group
    if c == size1:
        return _mrs(v)
    if c == 0:
        return _rs(v)
    return np.concatenate([_mrs(v[:, :c]), _rs(v[:, c:])])


# ATen's loops in numba (ops/_cascade_kernels.serial_sum) for calls of 2^15 elements or
# more, and every call once numba is loaded; NumPy blocks (_block_numpy) otherwise
_KERNEL = []


def _kernel(n):
    if not _KERNEL:
        from .random import LazyKernel
        _KERNEL.append(LazyKernel("_cascade_kernels", "serial_sum", 1 << 15))
    return _KERNEL[0].get(n)


def _block(v, s0, s1, lanes_):
    """One 2-d loop of cascade_sum: v (size0, size1, *outer) with dim 0 reduced, s0 / s1
    the loop's byte strides of dims 0 / 1 (0 for a missing dim 1; v's own strides may
    differ: nansum's copy); the sum of each (row, outer)."""
    return _block_numpy(v, _kind(s0, s1, v.shape[0], v.shape[1], v.itemsize, lanes_), lanes_)


# ------------------------------------------------------------------ the TensorIterator

def _layout(shape, strides, axes):
    """The reduction's TensorIterator loop: [(size, input byte stride, output stride)]
    from the fastest dim (output stride 0: a reduced dim), in ATen's order
    (reorder_dimensions) and merged (coalesce_dimensions)."""
    nd = len(shape)
    ostride = [0] * nd                  # the output: contiguous over the kept dims
    acc = 1
    for d in reversed(range(nd)):
        if d not in axes:
            ostride[d] = acc
            acc *= shape[d]
    dims = [d for d in range(nd) if shape[d] != 1]      # (size-1 dims merge away)

    def swap(d0, d1):
        for arg, st in ((0, ostride), (1, strides)):
            a, b = st[d0], st[d1]
            if arg == 0 and (a == 0) != (b == 0):
                return 1 if b == 0 else -1
            if a == 0 or b == 0:
                continue
            if a != b:
                return 1 if a > b else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = dims[::-1]
    for i in range(1, len(perm)):
        j = i
        for k in range(i - 1, -1, -1):
            c = swap(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    loop = []
    for d in perm:
        if loop:
            size, st, ost = loop[-1]
            if st * size == strides[d] and ost * size == ostride[d]:
                loop[-1] = (size * shape[d], st, ost)
                continue
        loop.append((shape[d], strides[d], ostride[d]))
    loop = loop or [(1, 0, 0)]
    return loop + [(1, 0, 0)] if len(loop) == 1 else loop


def _block_of(v, loop, lanes_):
    return _block(v, loop[0][1], loop[1][1], lanes_)


def _serial(v, loop, lanes_, split=None):
    """serial_for_each over the whole loop: each (row, outer) sum, shape (size1, *outer);
    split: the column ranges of dim 1 that separate threads run (their own loops)."""
    if split is None:
        return _block_of(v, loop, lanes_)
    return np.concatenate([_block_of(v[:, b:e], loop, lanes_) for b, e in split])


def _threads():
    from ..kernels.threads import torch_threads
    return torch_threads()


def _chunks(n, grain, threads):
    """at::parallel_for's ranges (OpenMP): one range unless n > grain, else
    min(threads, ceil(n / grain)) ranges of ceil(n / that)."""
    if n <= grain or n <= 1:
        return [(0, n)]
    size = -(-n // min(threads, -(-n // grain)))
    return [(b, min(n, b + size)) for b in range(0, n, size)]


def _split_dim(loop, threads):
    """The dim parallel_dim_reduction cuts among the threads: the outermost kept dim of
    >= threads elements, else the largest."""
    best = d = len(loop) - 1
    while d >= 0 and not loop[d][2]:
        if loop[d][0] >= threads:
            return d
        if loop[d][0] > loop[best][0]:
            best = d
        d -= 1
    return best


def _split_columns(loop, threads, item):
    """parallel_dim_reduction's column ranges of dim 1 when it is the dim it splits, else
    None (its cut of an outer dim changes no output's order)."""
    if _split_dim(loop, threads) != 1:
        return None
    cols = loop[1][0]
    ranges = _chunks(cols, 1, threads)
    if loop[1][1] == item:              # whole 128-byte column groups per thread
        m = 128 // item
        ranges = [(b - b % m, e if e == cols else e - e % m) for b, e in ranges]
    return [(b, e) for b, e in ranges if b != e]


def _two_pass(v, loop, lanes_, threads, ignore_nan):
    """two_pass_reduction: each thread's range of the flat loop (serial_for_each's steps:
    a row's rest, rows to the end of dim 1, whole (dim 0, dim 1) blocks, a row's start)
    added in order into its own slot from 0, then the slots summed (by the same loop:
    nansum's drops a NaN slot, an inf - inf of one thread)."""
    size0, size1 = v.shape[:2]
    outer = v.shape[2:]
    rows = None                         # every row's sum, dim 1 fastest
    slots = np.zeros(threads, v.dtype)
    for t, (b, e) in enumerate(_chunks(v.size, GRAIN_SIZE, threads)):
        parts = []
        pos = b
        while pos < e:
            r0, row = pos % size0, pos // size0
            j = row % size1
            at = tuple(int(i) for i in np.unravel_index(row // size1, outer, order="F"))
            if r0 or e - pos < size0:
                k = min(size0 - r0, e - pos)
                parts.append(_block_of(v[(slice(r0, r0 + k), slice(j, j + 1)) + at],
                                       loop, lanes_))
                pos += k
                continue
            nrows = (e - pos) // size0
            if j == 0 and nrows >= size1:
                if rows is None:
                    rows = _serial(v, loop, lanes_).reshape(-1, order="F")
                k = nrows // size1 * size1
                parts.append(rows[row:row + k])
            else:
                k = min(size1 - j, nrows)
                parts.append(_block_of(v[(slice(None), slice(j, j + k)) + at], loop, lanes_))
            pos += k * size0
        slots[t] = _seq(np.concatenate(parts))
    return _cascade_sum(slots, None, False, ignore_nan, lanes_, None)


# small C- / F-contiguous sums seen once numba is loaded: (shape, strides, dtype, axes,
# keepdim) -> (loop shape, input strides, output strides, keepdim shape, result shape,
# lanes, C order): such a call is one dict lookup and the numba call (no Python frame
# but this one: a training step's loss.mean()); and partial sums of >= GRAIN_SIZE values
# (a Linear's bias gradient): the same and (thread count, _dim_parts' loops), one numba
# call per thread's loop
_FAST = {}


def cascade_sum(a, axes, keepdim, ignore_nan=False):
    """a (a float32 / float64 NumPy array) summed over axes (a tuple, or None: all) as
    PyTorch's CPU kernel adds it (ignore_nan: nansum's, a NaN loaded as 0); None where
    the lane count is unknown (not x86). Silent on overflow and inf - inf, as PyTorch."""
    if not ignore_nan:
        hit = _FAST.get((a.shape, a.strides, a.dtype, axes, keepdim))
        if hit is not None and _KERNEL[0].force is None and (
                len(hit) == 7 or hit[7] == _threads()):
            out = np.zeros(hit[3], a.dtype)
            x = a.reshape(-1) if hit[6] else a.T.reshape(-1)
            # (the kernel's scratch zeros, made here: see _cascade_kernels.serial_sum)
            if len(hit) == 7:
                _KERNEL[0].fn(x, 0, hit[0], hit[1], hit[2], 0, a.size, hit[5],
                              out.reshape(-1), 0, np.zeros((4, 4 * hit[5]), x.dtype),
                              np.zeros(len(hit[0]), np.int64))
            else:                           # (parallel_dim_reduction's loops)
                flat_out = out.reshape(-1)
                for xo, part, n_part, oo in hit[8]:
                    _KERNEL[0].fn(x, xo, part, hit[1], hit[2], 0, n_part, hit[5], flat_out,
                                  oo, np.zeros((4, 4 * hit[5]), x.dtype),
                                  np.zeros(len(part), np.int64))
            return out.reshape(hit[4])
    lanes_ = lanes(a.dtype)
    if not lanes_:
        return None
    kernel = _kernel(a.size)
    if kernel is not None:              # (numba's arithmetic warns of nothing)
        return _cascade_sum(a, axes, keepdim, ignore_nan, lanes_, kernel)
    with np.errstate(all="ignore"):
        if not ignore_nan and 0 < a.size < _SMALL_RUNS * _ILP * lanes_ and (
                axes is None or len(axes) == a.ndim) and \
                (a.flags.c_contiguous or a.flags.f_contiguous):
            return _small_total(a, keepdim, lanes_)
        return _cascade_sum(a, axes, keepdim, ignore_nan, lanes_, None)


# ------------------------------------------------------------------ small totals
# The sum of all values of a small contiguous array before numba loads: its loop is one
# row of n values (the dims merged in memory order), whose kernel's multi_row_sum has one
# level (fewer than 16 runs of 4 vectors: its runs shorter than the step), so each
# sequential sum of the kernel is one np.add.accumulate (its running sums are the order of
# the adds) instead of an add per value: ~6 NumPy calls where _cascade_sum's blocks made
# ~30 (the as_strided views among them), a (4, 4).sum() ~30 -> ~6 us, the same bits.
_SMALL_RUNS = 16


def _row_sum_small(rows):
    """row_sum (_rs) of rows (k, L) with k // 4 < 16: the sum of each column, but for the
    sign of a zero (the adds of 0 it leaves out: the caller's last add to 0 settles it)."""
    m = rows.shape[0] // _ILP
    if not m:           # (its 4 interleaved sums all 0: the rows in order)
        return np.add.accumulate(rows, axis=0)[-1]
    # the 4 interleaved multi_row_sums (one level: a sequential sum each), then p[0], the
    # rows past the last 4 added to it, p[1], p[2], p[3], in order
    p = np.add.accumulate(rows[:m * _ILP].reshape(m, _ILP, rows.shape[1]), axis=0)[-1]
    return np.add.accumulate(np.concatenate((p[:1], rows[m * _ILP:], p[1:])), axis=0)[-1]


def _small_total(a, keepdim, lanes_):
    x = a.reshape(-1) if a.flags.c_contiguous else a.T.reshape(-1)
    n = x.shape[0]
    if n >= lanes_:
        # vectorized_inner_sum: row_sum of the L-wide vectors, then the tail values from
        # 0 and the L lanes after them, in order
        nv = n // lanes_
        acc = _row_sum_small(x[:nv * lanes_].reshape(nv, lanes_))
        if nv * lanes_ < n:
            acc = np.concatenate((x[nv * lanes_:], acc))
    else:
        # fewer values than lanes (a row without a whole vector): row_sum of the values
        acc = _row_sum_small(x.reshape(n, 1))
    # (the output's own add to 0, which makes a sum -0. +0., as ATen's)
    out = np.add.accumulate(acc)[-1:] + a.dtype.type(0)
    return out.reshape((1,) * a.ndim if keepdim else ())


_LAYOUTS = {}       # (shape, strides, itemsize, axes) -> (loop, its arrays for serial_sum)


def _loop_of(a, axes):
    key = (a.shape, a.strides, a.itemsize, axes)
    hit = _LAYOUTS.get(key)
    if hit is None:
        if len(_LAYOUTS) >= 512:
            _LAYOUTS.clear()
        layout = _layout(a.shape, a.strides, axes)
        hit = _LAYOUTS[key] = (layout, np.array([s for s, _, _ in layout], np.int64),
                               np.array([st // a.itemsize for _, st, _ in layout], np.int64),
                               np.array([o for _, _, o in layout], np.int64))
    return hit


def _flat(a):
    """a's memory as a flat array (from a's first element: strides are >= 0)."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    if a.flags.f_contiguous:
        return a.T.reshape(-1)
    span = 1 + sum((n - 1) * st for n, st in zip(a.shape, a.strides)) // a.itemsize
    return as_strided(a, (span,), (a.itemsize,), writeable=False)


def _scratch(x, shape, lanes_):
    """serial_sum's scratch zeros (acc, values) for x's dtype and a loop of shape."""
    return np.zeros((4, 4 * lanes_), x.dtype), np.zeros(len(shape), np.int64)


def _numba_sum(kernel, a, layout, shape, sti, sto, kshape, ignore_nan, lanes_):
    """_cascade_sum by the numba loops: serial_for_each over the whole loop, or the
    threads' parts of it (two_pass_reduction, parallel_dim_reduction)."""
    x = _flat(a)
    if ignore_nan:
        x = np.where(np.isnan(x), a.dtype.type(0), x)
    out = np.zeros(kshape, a.dtype)
    flat_out = out.reshape(-1)
    n = a.size
    threads = _threads() if n >= GRAIN_SIZE else 1
    if threads == 1:
        kernel(x, 0, shape, sti, sto, 0, n, lanes_, flat_out, 0, *_scratch(x, shape, lanes_))
    elif flat_out.size == 1:            # two_pass_reduction
        slots = np.zeros(threads, a.dtype)
        for t, (b, e) in enumerate(_chunks(n, GRAIN_SIZE, threads)):
            kernel(x, 0, shape, sti, sto, b, e, lanes_, slots, t, *_scratch(x, shape, lanes_))
        if ignore_nan:
            slots = np.where(np.isnan(slots), a.dtype.type(0), slots)
        shape2 = np.array([threads, 1])
        kernel(slots, 0, shape2, np.array([1, 0]), np.array([0, 0]), 0,
               threads, lanes_, flat_out, 0, *_scratch(slots, shape2, lanes_))
    else:                               # parallel_dim_reduction
        for xo, part, n_part, oo in _dim_parts(layout, shape, sti, sto, threads, a.itemsize):
            kernel(x, xo, part, sti, sto, 0, n_part, lanes_, flat_out, oo,
                   *_scratch(x, part, lanes_))
    return out


def _dim_parts(layout, shape, sti, sto, threads, itemsize):
    """parallel_dim_reduction's threads' loops: (input offset, loop shape, its size,
    output offset) per thread with work."""
    loop = [(s, st, o == 0) for s, st, o in layout]
    dim = _split_dim(loop, threads)
    ranges = _chunks(int(shape[dim]), 1, threads)
    if sti[dim] == 1:               # whole 128-byte column groups per thread
        m = 128 // itemsize
        ranges = [(b - b % m, e if e == shape[dim] else e - e % m) for b, e in ranges]
    parts = []
    for b, e in ranges:
        if b != e:
            part = shape.copy()
            part[dim] = e - b
            parts.append((b * sti[dim], part, int(np.prod(part)), b * sto[dim]))
    return parts


def _cascade_sum(a, axes, keepdim, ignore_nan, lanes_, kernel):
    key_axes = axes
    if axes is None:
        axes = tuple(range(a.ndim))
    kshape = tuple(1 if d in axes else s for d, s in enumerate(a.shape))
    shape = kshape if keepdim else tuple(s for d, s in enumerate(a.shape) if d not in axes)
    if a.size == 0:
        return np.zeros(shape, a.dtype)
    if any(st < 0 for st in a.strides):
        a = np.ascontiguousarray(a)     # (torch has no negative strides: a copy's order)
    layout, lshape, lsti, lsto = _loop_of(a, axes)
    if kernel is not None:
        if not ignore_nan and _KERNEL[0].force is None and \
                (a.flags.c_contiguous or a.flags.f_contiguous):
            if len(_FAST) >= 512:
                _FAST.clear()
            if a.size < GRAIN_SIZE:
                _FAST[(a.shape, a.strides, a.dtype, key_axes, keepdim)] = (
                    lshape, lsti, lsto, kshape, shape, lanes_, a.flags.c_contiguous)
            elif int(np.prod(kshape)) > 1:
                # (a partial sum of >= GRAIN_SIZE values: its threads' loops, kept for the
                # thread count they were cut for)
                threads = _threads()
                if threads > 1:
                    _FAST[(a.shape, a.strides, a.dtype, key_axes, keepdim)] = (
                        lshape, lsti, lsto, kshape, shape, lanes_, a.flags.c_contiguous,
                        threads, _dim_parts(layout, lshape, lsti, lsto, threads, a.itemsize))
        return _numba_sum(kernel, a, layout, lshape, lsti, lsto, kshape, ignore_nan,
                          lanes_).reshape(shape)
    v = as_strided(a, [s for s, _, _ in layout], [st for _, st, _ in layout],
                   writeable=False)
    loop = [(s, st, ost == 0) for s, st, ost in layout]
    zero = a.dtype.type(0)
    if ignore_nan:                      # (v's own strides: only the loop's matter below)
        v = np.where(np.isnan(v), zero, v)
    if not loop[0][2]:                  # nothing to add up (reduced dims of size 1)
        return ((np.where(np.isnan(a), zero, a) if ignore_nan else a) + zero).reshape(shape)
    threads = _threads() if a.size >= GRAIN_SIZE else 1
    kept = [i for i in range(1, len(loop)) if not loop[i][2]]
    if threads > 1 and not kept and loop[0][2]:
        return np.full(shape, _two_pass(v, loop, lanes_, threads, ignore_nan), a.dtype)
    split = _split_columns(loop, threads, a.itemsize) if threads > 1 else None
    sums = _serial(v, loop, lanes_, split)
    # each output adds its rows' sums in loop order (dim 1 fastest) to 0
    summed = [i for i in range(1, len(loop)) if loop[i][2]]
    t = sums.transpose([i - 1 for i in reversed(summed)] + [i - 1 for i in kept])
    r = _seq(t.reshape((-1,) + t.shape[len(summed):])) + zero
    out = np.empty(kshape, a.dtype)
    as_strided(out, [loop[i][0] for i in kept], [layout[i][2] * a.itemsize for i in kept])[...] = r
    return out.reshape(shape)
