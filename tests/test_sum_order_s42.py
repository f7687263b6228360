"""Session 42 (a42): float32 / float64 sum, mean, nansum (and the losses' 'sum' / 'mean')
add in PyTorch 2.13's CPU order (SumKernel.cpp's cascade_sum over its TensorIterator), bit
for bit.

The expectations are a per-element re-implementation of ATen's order written here (CI has
no torch) and, where torch is importable, torch itself."""
import itertools

import numpy as np
import pytest

import gpujit
from gpujit.ops import reduction_cascade as rc

try:
    import torch as _torch
except ImportError:     # pragma: no cover - CI
    _torch = None

needs_torch = pytest.mark.skipif(_torch is None, reason="torch is not installed")
x86 = pytest.mark.skipif(not rc.lanes(np.float32), reason="ATen's lane count is known on x86 only")

LANES_BYTES = 32        # ATen's Vectorized<T> for the sum kernel on x86 (AVX2, AVX512 alike)


# ------------------------------------------------------------------ the reference

def _ceil_log2(n):
    return 1 if n <= 2 else (n - 1).bit_length()


def _ref_mrs(val, width, size, zero):
    """ATen's multi_row_sum, value by value: val(i, c) the c-th sum's i-th value."""
    power = max(4, _ceil_log2(size) // 4)
    step, mask = 1 << power, (1 << power) - 1
    acc = [[zero] * width for _ in range(4)]
    i = 0
    while i + step <= size:
        for _ in range(step):
            for c in range(width):
                acc[0][c] = acc[0][c] + val(i, c)
            i += 1
        for j in range(1, 4):
            for c in range(width):
                acc[j][c] = acc[j][c] + acc[j - 1][c]
                acc[j - 1][c] = zero
            if i & (mask << (j * power)):
                break
    while i < size:
        for c in range(width):
            acc[0][c] = acc[0][c] + val(i, c)
        i += 1
    for j in range(1, 4):
        for c in range(width):
            acc[0][c] = acc[0][c] + acc[j][c]
    return acc[0]


def _ref_row_sum(get, n, zero):
    """row_sum: get(t) the t-th value of the row (scalars or lists of lanes)."""
    m = n // 4
    p = _ref_mrs(lambda i, c: get(4 * i + c), 4, m, zero)
    s = p[0]
    for t in range(4 * m, n):
        s = s + get(t)
    for k in range(1, 4):
        s = s + p[k]
    return s


def _ref_loop2d(buf, base, size0, size1, st0, st1, lanes, zero):
    """One 2-d loop of cascade_sum (dim 0 reduced, element strides): each row's sum."""
    at = lambda i, j: buf[base + i * st0 + j * st1]        # noqa: E731
    if st0 == 1 and size0 >= lanes:                         # vectorized_inner_sum
        res = []
        for j in range(size1):
            nv = size0 // lanes
            m = nv // 4
            p = _ref_mrs(lambda i, c: at(4 * lanes * i + c, j), 4 * lanes, m, zero)
            for v in range(4 * m, nv):
                for c in range(lanes):
                    p[c] = p[c] + at(v * lanes + c, j)
            for k in range(1, 4):
                for c in range(lanes):
                    p[c] = p[c] + p[k * lanes + c]
            s = zero
            for t in range(nv * lanes, size0):
                s = s + at(t, j)
            for c in range(lanes):
                s = s + p[c]
            res.append(s)
        return res
    if st1 == 1 and size1 >= lanes:
        group = 4 * lanes                                   # vectorized_outer_sum
    elif st0 < st1:
        group = 0                                           # scalar_inner_sum
    else:
        group = 4                                           # scalar_outer_sum
    res = []
    j = 0
    while group and j + group <= size1:
        res += _ref_mrs(lambda i, c: at(i, j + c), group, size0, zero)
        j += group
    for jj in range(j, size1):
        res.append(_ref_row_sum(lambda t: at(t, jj), size0, zero))
    return res


def _ref_layout(shape, strides, dims):
    """TensorIterator's reduction loop: [(size, element stride, out stride)], fastest
    first, reordered (reduced dims first by the input's strides, kept ones by the
    contiguous output's) and coalesced."""
    nd = len(shape)
    ost, acc = [0] * nd, 1
    for d in reversed(range(nd)):
        if d not in dims:
            ost[d], acc = acc, acc * shape[d]

    def swap(a, b):
        for k, st in enumerate((ost, strides)):
            if k == 0 and (st[a] == 0) != (st[b] == 0):
                return 1 if st[b] == 0 else -1
            if st[a] == 0 or st[b] == 0:
                continue
            if st[a] != st[b]:
                return 1 if st[a] > st[b] else -1
            if shape[a] > shape[b]:
                return 1
        return 0

    perm = [d for d in reversed(range(nd)) if shape[d] != 1]
    for i in range(1, len(perm)):
        j = i
        for k in range(i - 1, -1, -1):
            c = swap(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j], j = perm[j], perm[k], k
            elif c < 0:
                break
    loop = []
    for d in perm:
        if loop and loop[-1][1] * loop[-1][0] == strides[d] and \
                loop[-1][2] * loop[-1][0] == ost[d]:
            loop[-1] = (loop[-1][0] * shape[d], loop[-1][1], loop[-1][2])
        else:
            loop.append((shape[d], strides[d], ost[d]))
    return loop


def ref_sum(x, dims=None, keepdim=False, nan=False):
    """PyTorch's CPU sum of the NumPy array x (non-negative strides) over dims, one
    thread, value by value."""
    zero = x.dtype.type(0)
    lanes = LANES_BYTES // x.itemsize
    dims = tuple(range(x.ndim)) if dims is None else tuple(d % x.ndim for d in dims)
    oshape = tuple(1 if d in dims else s for d, s in enumerate(x.shape))
    out = np.zeros(int(np.prod(oshape)), x.dtype)
    if x.size:
        span = 1 + sum((s - 1) * st // x.itemsize for s, st in zip(x.shape, x.strides))
        buf = np.lib.stride_tricks.as_strided(x, (span,), (x.itemsize,)).copy()
        if nan:
            buf[np.isnan(buf)] = 0
        loop = _ref_layout(x.shape, [st // x.itemsize for st in x.strides], dims)
        loop += [(1, 0, 0)] * (2 - len(loop))
        (s0, st0, o0), (s1, st1, o1) = loop[:2]
        outer = loop[2:]
        for idx in itertools.product(*[range(s) for s, _, _ in reversed(outer)]):
            idx = idx[::-1]
            base = sum(i * st for i, (_, st, _) in zip(idx, outer))
            obase = sum(i * o for i, (_, _, o) in zip(idx, outer))
            if o0:                                  # not a true reduction
                for i in range(s0):
                    out[obase + i * o0] = zero + buf[base + i * st0]
                continue
            for j, r in enumerate(_ref_loop2d(list(buf), base, s0, s1, st0, st1, lanes,
                                              zero)):
                out[obase + j * o1] = out[obase + j * o1] + r
    out = out.reshape(oshape)
    return out if keepdim else out.reshape([s for d, s in enumerate(x.shape) if d not in dims])


# ------------------------------------------------------------------ cases

def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)).astype(dtype)


VIEWS = {
    "plain": lambda t: t,
    "t": lambda t: t.t() if t.dim() == 2 else t,
    "sliced": lambda t: t[..., 1::2],
    "permuted": lambda t: t.permute(2, 0, 1) if t.dim() == 3 else t,
}

CASES = [  # (shape, view, dims, keepdim)
    ((64, 16), "plain", None, False), ((64, 16), "plain", (1,), False),
    ((64, 16), "plain", (0,), True), ((64, 16), "t", (0,), False),
    ((64, 16), "t", (1,), False), ((64, 16), "sliced", (1,), False),
    ((256, 10), "plain", None, False), ((256, 10), "plain", (0,), False),
    ((256, 10), "plain", (1,), False), ((10,), "plain", None, False),
    ((7,), "plain", (0,), True), ((33,), "sliced", None, False),
    ((3, 50, 7), "plain", (0, 2), False), ((3, 50, 7), "permuted", (1,), False),
    ((3, 50, 7), "permuted", (0, 2), True), ((5, 300), "plain", None, False),
    ((300, 5), "t", (1,), False), ((2, 3, 4, 5), "plain", (1, 3), False),
    ((4, 1, 6), "plain", (1,), False), ((0, 5), "plain", (0,), False),
    ((), "plain", None, False),
]


def _arr(t):
    return np.asarray(t.numpy())


def _bits(a):
    a = np.ascontiguousarray(np.asarray(a))
    return a.shape, a.dtype, a.tobytes()


@pytest.fixture(params=["numpy", "numba"])
def path(request):
    """The NumPy blocks and the numba loops (forced) must both give ATen's order."""
    rc._kernel(0)
    lazy = rc._KERNEL[0]
    old, lazy.force = lazy.force, request.param
    yield request.param
    lazy.force = old


@x86
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,view,dims,keepdim", CASES)
def test_sum_in_atens_order(path, shape, view, dims, keepdim, dtype):
    t = VIEWS[view](gpujit.tensor(_data(shape, dtype)))
    x = _arr(t)
    got = t.sum() if dims is None else t.sum(dims, keepdim=keepdim)
    assert _bits(got.numpy()) == _bits(ref_sum(x, dims, keepdim))


@x86
@pytest.mark.parametrize("shape,view,dims,keepdim", CASES[:12])
def test_mean_and_nansum_in_atens_order(shape, view, dims, keepdim):
    data = _data(shape, np.float32, 1)
    data.reshape(-1)[::5] = np.nan
    t = VIEWS[view](gpujit.tensor(data))
    x = _arr(t)
    got = t.nansum() if dims is None else t.nansum(dims, keepdim=keepdim)
    assert _bits(got.numpy()) == _bits(ref_sum(x, dims, keepdim, nan=True))
    clean = VIEWS[view](gpujit.tensor(np.nan_to_num(data)))
    n = np.float32(x.size if dims is None else np.prod([x.shape[d] for d in dims]))
    got = clean.mean() if dims is None else clean.mean(dims, keepdim=keepdim)
    assert _bits(got.numpy()) == _bits(ref_sum(_arr(clean), dims, keepdim) / n)


@x86
@pytest.mark.parametrize("dims", [None, (0,), (1,)])
def test_nanmean_is_nansum_over_the_count(dims):
    data = _data((256, 10), np.float32, 8)
    data.reshape(-1)[::3] = np.nan
    got = gpujit.tensor(data).nanmean() if dims is None else gpujit.tensor(data).nanmean(dims)
    count = (~np.isnan(data)).sum(dims).astype(np.float32)
    assert _bits(got.numpy()) == _bits(ref_sum(data, dims, nan=True) / count)


@x86
@pytest.mark.parametrize("shape,dims", [((100, 300), (0,)), ((300, 100), (1,)),
                                        ((50, 60), (0,))])
def test_half_mean_is_the_float32_sum_of_the_cast_input(shape, dims):
    # (seed 21: NumPy's float32 sum of the halves made one element differ in each)
    x = _data(shape, np.float32, 21).astype(np.float16)
    got = gpujit.tensor(x).mean() if dims is None else gpujit.tensor(x).mean(dims)
    n = np.float32(x.size if dims is None else x.shape[dims[0]])
    want = (ref_sum(x.astype(np.float32), dims) / n).astype(np.float16)
    assert _bits(got.numpy()) == _bits(want)


@x86
def test_dtype_argument_sums_the_converted_input():
    x = _data((64, 16), np.float32, 2)
    got = gpujit.tensor(x).sum(1, dtype=gpujit.float64)
    assert _bits(got.numpy()) == _bits(ref_sum(x.astype(np.float64), (1,)))
    got = gpujit.tensor(x).mean(dtype=gpujit.float64)
    assert _bits(got.numpy()) == _bits(ref_sum(x.astype(np.float64)) / 1024)


def test_zero_sum_is_positive_zero():
    # the output starts at 0 and each row's sum is added to it: -0. never survives
    # (NumPy's reduction keeps -0.)
    for dt in (gpujit.float32, gpujit.float64):
        r = gpujit.tensor([-0.0, -0.0], dtype=dt).sum()
        assert np.signbit(r.numpy()) == np.False_
        r = gpujit.tensor([[-0.0], [-0.0]], dtype=dt).sum(1)
        assert not np.signbit(r.numpy()).any()


@x86
def test_losses_add_in_atens_order():
    a, b = _data((64, 16), np.float32, 3), _data((64, 16), np.float32, 4)
    F = gpujit.nn.functional
    ta, tb = gpujit.tensor(a), gpujit.tensor(b)
    sq = (a - b) ** 2
    assert _bits(F.mse_loss(ta, tb).numpy()) == _bits(ref_sum(sq) / np.float32(1024))
    assert _bits(F.l1_loss(ta, tb, reduction="sum").numpy()) == _bits(ref_sum(np.abs(a - b)))


@x86
def test_two_threads_split_a_full_sum():
    # >= 32768 elements on 2 threads: each thread sums its half (two_pass_reduction),
    # then the two partial sums are added (row_sum of 2 values)
    x = _data(40000, np.float32, 5)
    old = gpujit.get_num_threads()
    gpujit.set_num_threads(2)
    try:
        got = gpujit.tensor(x).sum()
    finally:
        gpujit.set_num_threads(old)
    halves = [ref_sum(x[:20000]), ref_sum(x[20000:])]
    assert _bits(got.numpy()) == _bits(np.float32(0) + (halves[0] + halves[1]))


@x86
def test_numpy_blocks_and_numba_loops_agree():
    rng = np.random.default_rng(6)
    rc._kernel(0)
    lazy = rc._KERNEL[0]
    old = lazy.force
    try:
        for k in range(30):
            shape = tuple(int(s) for s in rng.integers(1, 40, rng.integers(1, 4)))
            x = _data(shape, [np.float32, np.float64][k % 2], k)
            x = np.transpose(x, rng.permutation(x.ndim))[..., ::int(rng.integers(1, 3))]
            dims = tuple(sorted(set(int(d) for d in rng.integers(0, x.ndim, 2))))
            res = []
            for force in ("numpy", "numba"):
                lazy.force = force
                res.append(_bits(rc.cascade_sum(x, dims, False)))
            assert res[0] == res[1], (shape, x.strides, dims)
        # >= 32768 elements on 3 threads: two_pass_reduction's ranges (rows cut in the
        # middle) and parallel_dim_reduction's column ranges, in both implementations
        threads = gpujit.get_num_threads()
        gpujit.set_num_threads(3)
        try:
            big = _data((300, 250), np.float32, 99)
            for x, dims in ((big[:, 1:], None), (big.T[::2], None), (big, (0,)),
                            (big.T, (1,)), (big[:, :200].reshape(300, 8, 25), (0, 2))):
                res = []
                for force in ("numpy", "numba"):
                    lazy.force = force
                    res.append(_bits(rc.cascade_sum(x, dims, False)))
                assert res[0] == res[1], (x.shape, x.strides, dims)
        finally:
            gpujit.set_num_threads(threads)
    finally:
        lazy.force = old


# ------------------------------------------------------------------ against torch

@needs_torch
@x86
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sums_match_torch(threads, dtype):
    rng = np.random.default_rng(7)
    old_t, old_g = _torch.get_num_threads(), gpujit.get_num_threads()
    _torch.set_num_threads(threads)
    gpujit.set_num_threads(threads)
    try:
        for shape, view, dims, keepdim in CASES + [((1024, 1024), v, d, False) for v in
                                                  ("plain", "t", "sliced")
                                                  for d in (None, (0,), (1,))] + [
                ((70000,), "plain", None, False), ((40, 900, 3), "permuted", (0, 2), False),
                ((600, 130), "sliced", None, False), ((3, 40000), "plain", (1,), False)]:
            data = _data(shape, dtype, int(rng.integers(1000)))
            for m in (_torch, gpujit):
                t = VIEWS[view](m.tensor(data))
                if m is _torch:
                    want = [(t.sum() if dims is None else t.sum(dims, keepdim=keepdim)),
                            (t.mean() if dims is None else t.mean(dims, keepdim=keepdim)),
                            t.nansum()]
                else:
                    got = [(t.sum() if dims is None else t.sum(dims, keepdim=keepdim)),
                           (t.mean() if dims is None else t.mean(dims, keepdim=keepdim)),
                           t.nansum()]
            for w, g in zip(want, got):
                assert _bits(g.numpy()) == _bits(w.numpy()), (shape, view, dims, threads)
    finally:
        _torch.set_num_threads(old_t)
        gpujit.set_num_threads(old_g)


@x86
@pytest.mark.parametrize("shape,dim", [((64, 16), 1), ((100, 30), 0), ((3, 50, 7), (0, 2))])
def test_logsumexp_sums_its_exponentials_in_atens_order(shape, dim):
    # ATen's logsumexp: amax, then sum((x - max).exp()) (cascade_sum), log, + max
    x = _data(shape, np.float64, 10) / 100
    dims = dim if isinstance(dim, tuple) else (dim,)
    m = x.max(dims, keepdims=True)
    want = (np.log(ref_sum(np.exp(x - m), dims, keepdim=True)) + m).squeeze(dims)
    got = gpujit.logsumexp(gpujit.tensor(x), dim)
    assert _bits(got.numpy()) == _bits(want)
    if _torch is not None:
        assert _bits(_torch.logsumexp(_torch.from_numpy(x), dim).numpy()) == _bits(want)


@x86
@pytest.mark.parametrize("eq,shape,perm,dims", [
    ("ij->i", (256, 10), None, (1,)), ("ij->", (30, 40), None, None),
    ("ijk->ki", (3, 50, 7), (2, 0, 1), (2,)), ("bij->bj", (4, 300, 9), (0, 2, 1), (2,))])
def test_einsum_of_one_operand_is_a_sum_of_its_permuted_view(eq, shape, perm, dims):
    # ATen's einsum permutes the operand to (output labels, summed labels), then .sum()s
    x = _data(shape, np.float32, 11)
    want = ref_sum(x if perm is None else x.transpose(perm), dims)
    assert _bits(gpujit.einsum(eq, gpujit.tensor(x)).numpy()) == _bits(want)
    if _torch is not None:
        assert _bits(_torch.einsum(eq, _torch.from_numpy(x)).numpy()) == _bits(want)


@x86
def test_einsum_sums_a_diagonal_view():
    x = _data((300, 300), np.float64, 12)
    want = ref_sum(np.einsum("ii->i", x))           # (a strided view: scalar row_sum)
    assert _bits(gpujit.einsum("ii->", gpujit.tensor(x)).numpy()) == _bits(want)


@pytest.mark.parametrize("dtype,acc", [(np.float32, np.float64), (np.float64, np.float64),
                                       (np.float16, np.float32)])
def test_trace_adds_the_diagonal_in_order_in_atens_cpu_accumulator(dtype, acc):
    # ATen's trace_cpu: sum += t[i * (stride0 + stride1)] from 0, in acc_type<T, false>
    # (double for float32, float for Half), rounded to T at the end
    x = _data((500, 500), np.float64, 13).astype(dtype)
    s = acc(0)
    for v in np.diagonal(x).astype(acc):
        s = acc(s + v)
    for t in (gpujit.tensor(x), gpujit.tensor(x).t()):
        assert _bits(gpujit.trace(t).numpy()) == _bits(np.asarray(s).astype(dtype))
    if _torch is not None:
        assert _bits(_torch.trace(_torch.from_numpy(x)).numpy()) == \
            _bits(np.asarray(s).astype(dtype))


@x86
@pytest.mark.parametrize("shape,dim", [((256, 100), -1), ((5, 40, 30), 1), ((64, 10), 0)])
def test_vecdot_sums_the_products_in_atens_order(shape, dim):
    # linalg.vecdot of >= 2-d operands: x.conj().mul(y).sum(dim)
    x, y = _data(shape, np.float32, 14), _data(shape, np.float32, 15)
    want = ref_sum(x * y, (dim % len(shape),))
    got = gpujit.linalg.vecdot(gpujit.tensor(x), gpujit.tensor(y), dim=dim)
    assert _bits(got.numpy()) == _bits(want)
    if _torch is not None:
        e = _torch.linalg.vecdot(_torch.from_numpy(x), _torch.from_numpy(y), dim=dim)
        assert _bits(e.numpy()) == _bits(want)
