"""numba loop of ATen's vectorized CPU 2-norm (ReduceOpsKernel.cpp's reduce-lastdim path of
norm_kernel_tensor_iterator_impl, its AVX2 build), element by element in its order:
linalg_norms.aten_norm2_rows' NumPy form (small calls while numba is not loaded) makes
the same additions.

norm2_lanes(x, lanes, out): for each row of the C-contiguous float32 / float64 matrix x,
`lanes` accumulators each add x * x (rounded, no fused multiply-add: numba contracts
nothing without fastmath) over the whole vectors of the row, are added in order, then the
tail's first multiples of 4 are added as rounded squares; out[r] is that sum (the caller
adds the rest of the tail with fused multiply-adds and takes the square root).

A plain Python function: gpujit.ops.random.LazyKernel compiles it on first use
(numba_helpers.njit, disk-cached).
"""
import numpy as np


def norm2_lanes(x, lanes, out):
    rows, n = x.shape
    m = n - n % lanes
    k = m + (n - m) // 4 * 4
    acc = np.zeros(lanes, x.dtype)
    for r in range(rows):
        for j in range(lanes):
            acc[j] = 0
        for i in range(0, m, lanes):
            for j in range(lanes):
                v = x[r, i + j]
                acc[j] += v * v
        t = acc[0]
        for j in range(1, lanes):
            t += acc[j]
        for d in range(m, k):
            v = x[r, d]
            t += v * v
        out[r] = t
