"""The CPU kernels' loops are counted `while` loops (kernels/emit.py: no numba range
iterator to lower) compiled without LLVM's runtime unrolling (kernels/targets.py): every
element of every chunk is computed once, at the edges of the vector body (8 float32 /
4 float64 lanes), of the staged loops' 512-element chunks and of a strided kernel's rows."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
from gpujit import kernels as K

from test_kernels import kernel_cache_dir, traced    # noqa: F401  (fixture)


def _build(fn, *args):
    g = traced(fn, *args)
    return K.build(K.spec_for(g, args, static=True), "cpu")


@pytest.mark.parametrize("n", [1, 3, 7, 8, 9, 15, 17, 33])
def test_flat_loop_edges(n):
    x = np.linspace(-3, 3, n, dtype=np.float32)
    y = np.linspace(2, -1, n, dtype=np.float32)
    k = _build(lambda a, b: (a * b + 0.75) * a - b, x, y)
    assert "while i < stop:" in k.source and " in range(" not in k.source
    np.testing.assert_array_equal(k(x, y)[0], (x * y + np.float32(0.75)) * x - y)
    xi = np.arange(-n, n, 2, dtype=np.int64)
    k = _build(lambda a: a * 3 - (a // 2), xi)
    np.testing.assert_array_equal(k(xi)[0], xi * 3 - xi // 2)


@pytest.mark.parametrize("n", [511, 512, 513, 1025])
def test_staged_chunk_edges(n):
    # sin runs as NumPy's loop on 512-element chunks: the loops before and after it walk
    # [ck, ce) of each chunk
    x = np.linspace(-4, 4, n, dtype=np.float32)
    y = np.linspace(1, 2, n, dtype=np.float32)
    k = _build(lambda a, b: gpujit.sin(a) * b + 2.5, x, y)
    assert "_stackbuf" in k.source and "while ck < stop:" in k.source
    assert " in range(" not in k.source
    np.testing.assert_array_equal(k(x, y)[0], np.sin(x) * y + np.float32(2.5))


@pytest.mark.parametrize("rows,cols", [(3, 5), (9, 17), (2, 33)])
def test_strided_rows(rows, cols):
    m = np.arange(rows * cols, dtype=np.float64).reshape(cols, rows).T    # (a transposed view)
    k = _build(lambda a: a * 2.0 + 1.0, m)
    assert "while r < stop:" in k.source and " in range(" not in k.source
    np.testing.assert_array_equal(k(m)[0], m * 2.0 + 1.0)
