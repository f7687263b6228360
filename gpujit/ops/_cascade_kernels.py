"""numba loops of ATen's CPU sum kernel (SumKernel.cpp's cascade_sum) over its
TensorIterator's loops, element by element in ATen's order: reduction_cascade's NumPy
blocks (for small calls while numba is not loaded) make the same additions.

serial_sum(x, off, shape, sti, sto, begin, end, lanes, out, ooff, acc, values): ATen's serial_for_each
of a sum's TensorIterator loop (flat arrays, element strides) over a range of it, the
2-d loops' rows added into out as cascade_sum's kernels add them (vectorized_inner_sum,
vectorized_outer_sum, scalar_inner_sum, scalar_outer_sum, by the strides). Float
arithmetic in x's dtype, in order (numba keeps float32 float32 and reassociates nothing
without fastmath).

A plain Python function: gpujit.ops.random.LazyKernel compiles serial_sum on first use
(numba_helpers.njit, disk-cached); the helpers it calls are numba_helpers.inner's,
compiled into it.
"""
import numpy as np

from .numba_helpers import inner

_LEVELS = 4


def _level_power(size):
    """max(4, CeilLog2(size) / 4), CeilLog2 as ATen's (1 up to 2)."""
    c = 1
    if size > 2:
        c = 0
        t = size - 1
        while t > 0:
            c += 1
            t >>= 1
    c //= _LEVELS
    return c if c > 4 else 4        # (not max(): its numba implementation, one more compile)


def _mrs(x, base, rstride, cstride, width, size, acc):
    """multi_row_sum: `width` sums of `size` steps, value (i, c) = x[base + i * rstride +
    c * cstride] (base and strides uint64: an unsigned index needs no wraparound test,
    which kept LLVM from vectorizing); the sums in acc[0, :width] (acc: (4, >= width)
    scratch, a level a row). ATen's loop as it is written: a step-by-step form (one loop
    with a min) ran ~15x slower in numba on short rows."""
    power = _level_power(size)
    step = 1 << power
    mask = step - 1
    for c in range(width):
        acc[0, c] = 0
    levels = size >= step           # (else levels 1-3 stay 0: adding them changes nothing
    if levels:                      # but a -0. sum's sign, which the output's add drops)
        for lv in range(1, _LEVELS):
            for c in range(width):
                acc[lv, c] = 0
    i = 0
    while i + step <= size:
        if cstride == 1:            # (contiguous values: a loop LLVM vectorizes)
            for _ in range(step):
                row = base + np.uint64(i) * rstride
                for c in range(width):
                    acc[0, c] += x[row + np.uint64(c)]
                i += 1
        else:
            for _ in range(step):
                row = base + np.uint64(i) * rstride
                for c in range(width):
                    acc[0, c] += x[row + np.uint64(c) * cstride]
                i += 1
        for lv in range(1, _LEVELS):
            for c in range(width):
                acc[lv, c] += acc[lv - 1, c]
                acc[lv - 1, c] = 0
            if i & (mask << (lv * power)):
                break
    while i < size:
        row = base + np.uint64(i) * rstride
        for c in range(width):
            acc[0, c] += x[row + np.uint64(c) * cstride]
        i += 1
    if levels:
        for c in range(width):
            acc[0, c] += acc[1, c]
            acc[0, c] += acc[2, c]
            acc[0, c] += acc[3, c]


def _row_sum(x, base, stride, n, acc):
    """row_sum: 4 interleaved multi_row_sums of x[base + t * stride], t < n, the values
    past the last 4 into the first, then the four in order."""
    m = n // 4
    _mrs(x, base, np.uint64(4) * stride, stride, 4, m, acc)
    s = acc[0, 0]
    for t in range(m * 4, n):
        s += x[base + np.uint64(t) * stride]
    for k in range(1, 4):
        s += acc[0, k]
    return s


def _loop2d(x, ib, ob, size0, size1, i0, i1, o0, o1, lanes, acc, zero, out):
    """cascade_sum's 2-d loop: rows of size0 values (input strides i0 along, i1 across,
    output strides o0 / o1: 0 for a reduced dim), each row's sum added to its output."""
    if o0 != 0 and o1 == 0:             # (the reduction to dim 0)
        i0, i1 = i1, i0
        o0, o1 = o1, o0
        size0, size1 = size1, size0
    if o0 != 0 and o1 != 0:             # not a true reduction
        for j in range(size1):
            for i in range(size0):
                out[ob + i * o0 + j * o1] += x[np.uint64(ib + i * i0 + j * i1)]
        return
    u0, u1 = np.uint64(i0), np.uint64(i1)
    uib = np.uint64(ib)
    if i0 == 1 and size0 >= lanes:                          # vectorized_inner_sum
        nv = size0 // lanes
        m = nv // 4
        w = np.uint64(4 * lanes)
        for j in range(size1):
            row = uib + np.uint64(j) * u1
            _mrs(x, row, w, np.uint64(1), 4 * lanes, m, acc)
            for i in range(m * 4, nv):
                vec = row + np.uint64(i * lanes)
                for c in range(lanes):
                    acc[0, c] += x[vec + np.uint64(c)]
            for k in range(1, 4):
                for c in range(lanes):
                    acc[0, c] += acc[0, k * lanes + c]
            s = zero
            for t in range(nv * lanes, size0):
                s += x[row + np.uint64(t)]
            for c in range(lanes):
                s += acc[0, c]
            out[ob + j * o1] += s
        return
    if i1 == 1 and size1 >= lanes:                          # vectorized_outer_sum
        group = 4 * lanes
    elif i0 < i1:                                           # scalar_inner_sum
        group = 0
    else:                                                   # scalar_outer_sum
        group = 4
    j = 0
    if group:
        while j + group <= size1:
            _mrs(x, uib + np.uint64(j) * u1, u0, u1, group, size0, acc)
            for c in range(group):
                out[ob + (j + c) * o1] += acc[0, c]
            j += group
    while j < size1:
        out[ob + j * o1] += _row_sum(x, uib + np.uint64(j) * u1, u0, size0, acc)
        j += 1


def serial_sum(x, off, shape, sti, sto, begin, end, lanes, out, ooff, acc, values):
    """ATen's serial_for_each over [begin, end) of a reduction's loop (shape, input /
    output element strides: int64 arrays of >= 2 dims, the fastest first; x and out flat,
    offsets off / ooff): the 2-d loops its DimCounter steps through (a row's rest, rows to
    the end of dim 1, whole (dim 0, dim 1) blocks), each added into out by _loop2d.
    Scratch, zeros made by the caller: acc (4, 4 * lanes) of x's dtype, values (ndim,)
    int64; np.zeros in numba code compiled numba's zeros /
    empty implementations for each dtype and shape kind (~1 s of a cold first sum's ~5 s)."""
    ndim = shape.shape[0]
    zero = acc[0, 0]
    lin = begin
    for d in range(ndim):
        if shape[d] > 0:
            values[d] = lin % shape[d]
            lin //= shape[d]
    offset = begin
    while offset < end:
        # (conditionals, not min(): its numba implementation is one more compile)
        step0 = shape[0] - values[0]
        if end - offset < step0:
            step0 = end - offset
        step1 = 1
        if step0 == shape[0]:
            step1 = shape[1] - values[1]
            if (end - offset) // shape[0] < step1:
                step1 = (end - offset) // shape[0]
        ib = off
        ob = ooff
        for d in range(ndim):
            ib += values[d] * sti[d]
            ob += values[d] * sto[d]
        _loop2d(x, ib, ob, step0, step1, sti[0], sti[1], sto[0], sto[1], lanes, acc, zero,
                out)
        offset += step0 * step1
        overflow = step0
        d = 0
        if step1 != 1:
            d = 1
            overflow = step1
        while d < ndim and overflow > 0:
            v = values[d] + overflow
            if v >= shape[d]:
                overflow = 1
                v -= shape[d]
            else:
                overflow = 0
            values[d] = v
            d += 1


_level_power = inner(_level_power)
_mrs = inner(_mrs)
_row_sum = inner(_row_sum)
_loop2d = inner(_loop2d)
