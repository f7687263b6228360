"""OpInfos of the ops added in session 18 for torch.* names gpujit lacked
(gpujit/ops/view_copies.py, stats_ops.py, inplace_extra.py, tensor_facts.py,
linalg_legacy.py, host_functions.py). References are NumPy, written from PyTorch's
documented semantics; the random fills check shapes and rough statistics."""
from __future__ import annotations

import itertools
import math

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, positive

F32, F64, I64, I32 = np.float32, np.float64, np.int64, np.int32
_TOL = dict(rtol=1e-4, atol=1e-4)


def _f(x):
    return np.asarray(x, dtype=np.float64)


# ------------------------------------------------------------------ view copies

def _copy_info(name, view_ref, samples, **kw):
    return OpInfo(name, samples=samples, ref=view_ref, **kw)


def _split(x, size, dim=0):
    n = x.shape[dim]
    return [np.take(x, range(i, min(i + size, n)), axis=dim) for i in range(0, n, size)]


def _split_sizes(x, sizes, dim=0):
    cuts = np.cumsum(sizes)[:-1]
    return list(np.split(x, cuts, axis=dim))


def _chunk(x, chunks, dim=0):
    size = -(-x.shape[dim] // chunks)
    return _split(x, size, dim)


def _unfold(x, dimension, size, step):
    n = (x.shape[dimension] - size) // step + 1
    parts = [np.take(x, range(i * step, i * step + size), axis=dimension) for i in range(n)]
    return np.moveaxis(np.stack(parts, axis=dimension), dimension + 1, -1)


def _squeeze(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = tuple(d % max(x.ndim, 1) for d in ([dim] if isinstance(dim, int) else dim)
                 if x.shape[d] == 1)
    return np.squeeze(x, axis=dims)


def _slice(x, dim=0, start=None, end=None, step=1):
    idx = [slice(None)] * x.ndim
    idx[dim] = slice(start, end, step)
    return x[tuple(idx)]


def _as_strided(x, size, stride, offset=None):
    flat = np.ascontiguousarray(x).reshape(-1)
    off = offset or 0
    return np.array([[flat[off + i * stride[0] + j * stride[1]] for j in range(size[1])]
                     for i in range(size[0])]) if len(size) == 2 else \
        np.array([flat[off + i * stride[0]] for i in range(size[0])])


_VIEW_COPY_INFOS = [
    _copy_info("aten::view_copy", lambda x, s: x.reshape(s),
               [Sample(rand(3, 4), [4, 3]), Sample(rand(2, 3, dtype=I64), [-1])]),
    _copy_info("aten::permute_copy", lambda x, d: np.transpose(x, d),
               [Sample(rand(2, 3, 4), [2, 0, 1]), Sample(rand(3, 2, dtype=F64), [1, 0])]),
    _copy_info("aten::t_copy", lambda x: x.T, [Sample(rand(3, 4)), Sample(rand(3))]),
    _copy_info("aten::transpose_copy.int", lambda x, a, b: np.swapaxes(x, a, b),
               [Sample(rand(2, 3, 4), 0, 2), Sample(rand(3, 4, dtype=I32), -1, 0)]),
    _copy_info("aten::squeeze_copy", _squeeze, [Sample(rand(3, 1, 4, 1))]),
    _copy_info("aten::squeeze_copy.dim", _squeeze, [Sample(rand(3, 1, 4), 1)]),
    _copy_info("aten::squeeze_copy.dims", _squeeze, [Sample(rand(3, 1, 4), [1])]),
    _copy_info("aten::unsqueeze_copy", lambda x, d: np.expand_dims(x, d),
               [Sample(rand(3, 4), 1), Sample(rand(3), -1)]),
    _copy_info("aten::expand_copy", lambda x, s, implicit=False: np.broadcast_to(x, s).copy(),
               [Sample(rand(1, 4), [3, 4]), Sample(rand(3, 1, dtype=F64), [2, 3, 5])]),
    _copy_info("aten::select_copy.int", lambda x, d, i: np.take(x, i, axis=d),
               [Sample(rand(3, 4), 1, 2), Sample(rand(3, 4), 0, -1)]),
    _copy_info("aten::slice_copy.Tensor", _slice,
               [Sample(rand(5, 4), 0, 1, 4), Sample(rand(5, 4), 1, 0, 4, 2)]),
    _copy_info("aten::diagonal_copy",
               lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2),
               [Sample(rand(3, 4)), Sample(rand(3, 4), 1), Sample(rand(2, 3, 3), 0, 1, 2)]),
    _copy_info("aten::detach_copy", lambda x: x, [Sample(rand(3, 4))]),
    _copy_info("aten::alias_copy", lambda x: x, [Sample(rand(3, 4, dtype=F64))]),
    _copy_info("aten::unbind_copy.int", lambda x, dim=0: list(np.moveaxis(x, dim, 0)),
               [Sample(rand(3, 4)), Sample(rand(3, 4), 1)]),
    _copy_info("aten::split_copy.Tensor", _split,
               [Sample(rand(5, 4), 2), Sample(rand(5, 4), 3, 1)]),
    _copy_info("aten::split_with_sizes_copy", _split_sizes,
               [Sample(rand(5, 4), [2, 3]), Sample(rand(5, 4), [1, 3], 1)]),
    _copy_info("aten::unfold_copy", _unfold, [Sample(rand(7), 0, 3, 2),
                                              Sample(rand(3, 6), 1, 2, 2)]),
    _copy_info("aten::as_strided_copy", _as_strided,
               [Sample(rand(12), [2, 2], [1, 4], 1), Sample(rand(3, 4), [3], [4])],
               noncontiguous=False),    # (strides relative to the storage, as as_strided)
    _copy_info("aten::narrow_copy", lambda x, d, s, n: np.take(x, range(s, s + n), axis=d),
               [Sample(rand(5, 4), 0, 1, 3), Sample(rand(5, 4), 1, 2, 2)]),
    _copy_info("aten::unsafe_split.Tensor", _split,
               [Sample(rand(5, 4), 2), Sample(rand(5, 4), 3, 1)]),
    _copy_info("aten::unsafe_split_with_sizes", _split_sizes,
               [Sample(rand(5, 4), [2, 3])]),
    _copy_info("aten::unsafe_chunk", _chunk, [Sample(rand(5, 4), 2), Sample(rand(5, 4), 3, 1)]),
    OpInfo("aten::ravel", ref=lambda x: x.reshape(-1),
           samples=[Sample(rand(3, 4)), Sample(rand(2, 3, 2, dtype=I64)), Sample(rand())]),
    OpInfo("aten::fliplr", ref=lambda x: x[:, ::-1],
           samples=[Sample(rand(3, 4)), Sample(rand(2, 3, 2, dtype=F64))],
           errors=[ErrorSample(rand(3), match="Input must be >= 2-d.")]),
    OpInfo("aten::flipud", ref=lambda x: x[::-1],
           samples=[Sample(rand(3, 4)), Sample(rand(5, dtype=I32))],
           errors=[ErrorSample(rand(), match="Input must be >= 1-d.")]),
]


# ------------------------------------------------------------------ scatters

def _scatter_ref(view):
    def ref(x, src, *args):
        out = x.copy()
        view(out, *args)[...] = src
        return out
    return ref


def _select_view(x, dim, index):
    idx = [slice(None)] * x.ndim
    idx[dim] = index
    return x[tuple(idx)]


def _diag_view(x, offset=0, dim1=0, dim2=1):
    # a writable diagonal: index arrays, written through np.put-like assignment
    class _W:
        def __setitem__(self, key, v):
            n = np.diagonal(x, offset, dim1, dim2).shape[-1]
            i = np.arange(n) + max(-offset, 0)
            j = np.arange(n) + max(offset, 0)
            m = np.moveaxis(x, (dim1, dim2), (-2, -1))
            m[..., i, j] = v
    return _W()


_SCATTER_INFOS = [
    OpInfo("aten::select_scatter", ref=_scatter_ref(_select_view),
           samples=[Sample(rand(3, 4), rand(3), 1, 2), Sample(rand(3, 4, dtype=F64),
                                                               rand(4, dtype=F64), 0, -1)],
           errors=[ErrorSample(rand(3, 4), rand(4), 1, 0,
                               match="expected src to have a size equal to the slice")]),
    OpInfo("aten::slice_scatter", ref=_scatter_ref(lambda x, dim=0, start=None, end=None,
                                                   step=1: _slice(x, dim, start, end, step)),
           samples=[Sample(rand(5, 4), rand(2, 4), 0, 1, 3),
                    Sample(rand(3, 4), rand(3, 2), 1, 0, 4, 2)]),
    OpInfo("aten::diagonal_scatter", ref=_scatter_ref(_diag_view),
           samples=[Sample(rand(3, 3), rand(3)), Sample(rand(3, 4), rand(3), 1),
                    Sample(rand(2, 3, 3, dtype=F64), rand(2, 3, dtype=F64), 0, 1, 2)]),
    OpInfo("aten::as_strided_scatter",
           ref=lambda x, src, size, stride, offset=None: _as_strided_scatter(x, src, size,
                                                                            stride, offset),
           samples=[Sample(rand(8), rand(2, 2), [2, 2], [1, 4]),
                    Sample(rand(6, dtype=F64), rand(3, dtype=F64), [3], [2], 1)],
           noncontiguous=False),
]


def _as_strided_scatter(x, src, size, stride, offset):
    out = x.copy().reshape(-1)
    off = offset or 0
    for idx in itertools.product(*[range(s) for s in size]):
        out[off + sum(i * st for i, st in zip(idx, stride))] = src[idx]
    return out.reshape(x.shape)


# ------------------------------------------------------------------ statistics

def _dist_ref(a, b, p=2):
    d = np.abs(_f(a) - _f(b)).reshape(-1)
    if p == 0:
        return np.float64(np.count_nonzero(d))
    if p == math.inf:
        return d.max()
    return (d ** p).sum() ** (1 / p)


def _cov_ref(x, correction=1, fweights=None, aweights=None):
    r = np.cov(_f(x), ddof=correction, fweights=fweights, aweights=aweights)
    return r


def _trap_ref(y, x=None, dx=1, dim=-1):
    return np.trapezoid(_f(y), x=None if x is None else _f(x), dx=dx, axis=dim)


def _ctrap_ref(y, x=None, dx=1, dim=-1):
    y = np.moveaxis(_f(y), dim, -1)
    sp = np.diff(_f(x)) if x is not None else dx
    return np.moveaxis(np.cumsum((y[..., 1:] + y[..., :-1]) * sp / 2, -1), -1, dim)


def _renorm_ref(x, p, dim, maxnorm):
    axes = tuple(i for i in range(x.ndim) if i != dim % x.ndim)
    n = (np.abs(_f(x)) ** p).sum(axis=axes, keepdims=True) ** (1 / p)
    return np.where(n > maxnorm, x * (maxnorm / (n + 1e-7)), x)


def _hist_ref(x, bins=100, range=None, weight=None, density=False):
    return np.histogram(_f(x), bins if isinstance(bins, int) else _f(bins), range=range,
                        weights=weight, density=density)


def _hdd_ref(x, bins, range=None, weight=None, density=False):
    d = x.shape[-1]
    rg = None if range is None else [(range[2 * k], range[2 * k + 1]) for k in _brange(d)]
    bins = bins if isinstance(bins[0], (int, np.integer)) else [_f(b) for b in bins]
    return np.histogramdd(_f(x).reshape(-1, d), bins=bins, range=rg, density=density,
                          weights=None if weight is None else _f(weight).reshape(-1))


_brange = range
_HDD_SAMPLES = [Sample(rand(10, 2), [3, 4]), Sample(rand(2, 5, 3, dtype=F64), [2, 2, 3]),
                Sample(rand(6, 2), [2, 5], range=[-1.0, 1.0, 0.0, 2.0],
                       weight=positive(6), density=True)]

_ints = np.array([[1, 2, 3], [2, 5, 1]], dtype=I64)
_xs = np.array([0.0, 0.5, 1.5, 1.75, 3.0])

_STATS_INFOS = [
    OpInfo("aten::inner", ref=lambda a, b: np.inner(a, b) if a.ndim and b.ndim else a * b,
           samples=[Sample(rand(3, 5), rand(4, 5)), Sample(rand(5, dtype=F64), rand(5, dtype=F64)),
                    Sample(rand(2, 3, 4), rand(4)), Sample(rand(3), rand())], **_TOL,
           errors=[ErrorSample(rand(2, 3), rand(2, 4), match="the last dimension must match"),
                   ErrorSample(rand(3), rand(3, dtype=F64), match="same dtype")]),
    OpInfo("aten::vdot", ref=lambda a, b: np.vdot(a, b),
           samples=[Sample(rand(5), rand(5)), Sample(rand(4, dtype=I64), rand(4, dtype=I64))],
           errors=[ErrorSample(rand(2, 3), rand(3), match="1D tensors expected")], **_TOL),
    OpInfo("aten::dist", ref=_dist_ref,
           samples=[Sample(rand(3, 4), rand(3, 4)), Sample(rand(3, 4), rand(4), 1),
                    Sample(rand(5, dtype=F64), rand(5, dtype=F64), math.inf),
                    Sample(rand(5), rand(5), 0), Sample(rand(5), rand(5), 3.5)], **_TOL),
    OpInfo("aten::cov", ref=_cov_ref, **_TOL,
           samples=[Sample(rand(3, 6)), Sample(rand(3, 6, dtype=F64), correction=0),
                    Sample(rand(6)), Sample(_ints),
                    Sample(rand(2, 6, dtype=F64), fweights=np.array([1, 2, 1, 3, 1, 2])),
                    Sample(rand(2, 6, dtype=F64), aweights=positive(6, dtype=F64))],
           errors=[ErrorSample(rand(2, 2, 2), match="two or fewer dimensions")]),
    OpInfo("aten::corrcoef", ref=lambda x: np.corrcoef(_f(x)), **_TOL,
           samples=[Sample(rand(3, 6)), Sample(rand(6, dtype=F64)), Sample(_ints)]),
    OpInfo("aten::renorm", ref=_renorm_ref, **_TOL,
           samples=[Sample(rand(3, 4), 2, 0, 1.0), Sample(rand(3, 4, dtype=F64), 1, 1, 0.5),
                    Sample(rand(2, 3, 4), 3, -1, 1.0)],
           errors=[ErrorSample(rand(3), 2, 0, 1.0, match="at least 2 dimensions")]),
    OpInfo("aten::msort", ref=lambda x: np.sort(x, axis=0),
           samples=[Sample(rand(4, 3)), Sample(rand(5, dtype=I64))]),
    OpInfo("aten::trapezoid.x", ref=lambda y, x, dim=-1: _trap_ref(y, x, dim=dim), **_TOL,
           samples=[Sample(rand(3, 5), _xs), Sample(rand(5, 3, dtype=F64), _xs, dim=0)],
           errors=[ErrorSample(rand(3, 5), rand(4), match="one `x` value for each sample")]),
    OpInfo("aten::trapezoid.dx", ref=lambda y, dx=1, dim=-1: _trap_ref(y, dx=dx, dim=dim),
           samples=[Sample(rand(3, 5)), Sample(rand(3, 5, dtype=F64), dx=0.5, dim=0),
                    Sample(rand(4, dtype=I64))], **_TOL),
    OpInfo("aten::trapz.x", ref=lambda y, x, dim=-1: _trap_ref(y, x, dim=dim), **_TOL,
           samples=[Sample(rand(3, 5), _xs)]),
    OpInfo("aten::trapz.dx", ref=lambda y, dx=1.0, dim=-1: _trap_ref(y, dx=dx, dim=dim),
           samples=[Sample(rand(3, 5), dx=2.0)], **_TOL),
    OpInfo("aten::cumulative_trapezoid.x", ref=lambda y, x, dim=-1: _ctrap_ref(y, x, dim=dim),
           samples=[Sample(rand(3, 5), _xs)], **_TOL),
    OpInfo("aten::cumulative_trapezoid.dx",
           ref=lambda y, dx=1, dim=-1: _ctrap_ref(y, dx=dx, dim=dim),
           samples=[Sample(rand(3, 5)), Sample(rand(4, 3, dtype=F64), dx=3, dim=0)], **_TOL),
    OpInfo("aten::histogram.bin_ct", ref=_hist_ref, **_TOL,
           samples=[Sample(rand(20), 5), Sample(rand(20, dtype=F64), 4, range=[-1.0, 1.0],
                                                density=True),
                    Sample(rand(4, 5), 3, weight=positive(4, 5))],
           errors=[ErrorSample(rand(3, dtype=I64), 2, exc=NotImplementedError,
                               match="not implemented for 'Long'")]),
    OpInfo("aten::histogram.bins_tensor", ref=_hist_ref, **_TOL,
           samples=[Sample(rand(20), np.array([-2.0, -0.5, 0.0, 2.0], dtype=F32))]),
    # torch.histogramdd's parts (s27): edges and counts for bin counts, counts for edges
    OpInfo("aten::_histogramdd_bin_edges", ref=lambda *a, **k: list(_hdd_ref(*a, **k)[1]),
           **_TOL, samples=_HDD_SAMPLES),
    OpInfo("aten::_histogramdd_from_bin_cts", ref=lambda *a, **k: _hdd_ref(*a, **k)[0],
           **_TOL, samples=_HDD_SAMPLES),
    OpInfo("aten::_histogramdd_from_bin_tensors", ref=lambda *a, **k: _hdd_ref(*a, **k)[0],
           **_TOL, samples=[
               Sample(rand(10, 2), [np.array([-2.0, 0.0, 2.0], dtype=F32),
                                    np.array([-1.0, 0.5, 1.0, 3.0], dtype=F32)]),
               Sample(rand(3, 4, 1, dtype=F64), [np.array([-3.0, 0.0, 3.0])],
                      weight=positive(3, 4, dtype=F64), density=True)]),
]


# ------------------------------------------------------------------ in-place forms, gamma

def _addbmm_ref(x, b1, b2, beta=1, alpha=1):
    return beta * _f(x) + alpha * np.einsum("bij,bjk->ik", _f(b1), _f(b2))


def _igamma_np(a, x, upper):
    """P(a, x) (or Q) by a float64 series / continued fraction (an independent loop)."""
    out = np.empty(np.broadcast(a, x).shape)
    for idx, (ai, xi) in zip(np.ndindex(out.shape), np.broadcast(a, x)):
        ai, xi = float(ai), float(xi)
        if xi == 0:
            p = 0.0
        elif xi < ai + 1:
            term = total = 1 / ai
            n = ai
            while abs(term) > abs(total) * 1e-17:
                n += 1
                term *= xi / n
                total += term
            p = total * math.exp(ai * math.log(xi) - xi - math.lgamma(ai))
        else:
            q = math.exp(ai * math.log(xi) - xi - math.lgamma(ai)) / (
                xi + 1 - ai + _cf(ai, xi))
            p = 1 - q
        out[idx] = 1 - p if upper else p
    return out


def _cf(a, x):
    # the tail of Legendre's continued fraction for Q, evaluated bottom-up
    t = 0.0
    for n in range(300, 0, -1):
        t = n * (a - n) / (x + 1 - a + 2 * n + t)
    return t


def _mvlgamma_ref(x, p):
    lg = np.vectorize(math.lgamma)
    return sum(lg(_f(x) - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi)


_GAMMA_INFOS = [
    OpInfo("aten::addbmm", ref=_addbmm_ref, **_TOL,
           samples=[Sample(rand(3, 5), rand(2, 3, 4), rand(2, 4, 5)),
                    Sample(rand(5), rand(2, 3, 4), rand(2, 4, 5), beta=0.5, alpha=2),
                    Sample(rand(3, 5, dtype=F64), rand(0, 3, 4, dtype=F64),
                           rand(0, 4, 5, dtype=F64))],
           errors=[ErrorSample(rand(3, 5), rand(2, 3, 4), rand(3, 4, 5),
                               match="same number of batches")]),
    # grad=False: PyTorch has no derivative for igamma's `self` (it raises, as gpujit)
    OpInfo("aten::igamma", ref=lambda a, x: _igamma_np(a, x, False), rtol=1e-5, atol=1e-6,
           grad=False,
           samples=[Sample(positive(6), positive(6)),
                    Sample(positive(3, 1, dtype=F64, high=8), positive(4, dtype=F64, high=12))],
           errors=[ErrorSample(np.array([1, 2]), np.array([1, 2]), exc=NotImplementedError,
                               match="\"igamma_cpu\" not implemented for 'Long'")]),
    OpInfo("aten::igammac", ref=lambda a, x: _igamma_np(a, x, True), rtol=1e-5, atol=1e-6,
           grad=False,
           samples=[Sample(positive(6), positive(6)),
                    Sample(positive(5, dtype=F64, high=8), positive(5, dtype=F64, high=12))]),
    OpInfo("aten::mvlgamma", ref=_mvlgamma_ref, **_TOL,
           samples=[Sample(positive(3, 4, low=2.0, high=6.0), 2),
                    Sample(positive(5, dtype=F64, low=3.0, high=9.0), 4),
                    Sample(np.array([3, 4]), 3)],
           errors=[ErrorSample(rand(3), 0, match="p has to be greater than or equal to 1")]),
]


def _check_fill(dist):
    def check(sample, out):
        a = out.numpy()
        assert out.shape == sample.args[0].shape and a.dtype == sample.args[0].dtype
        if a.size >= 1000:
            dist(sample, a)
    return check


def _log_normal(sample, a):
    mean = sample.args[1] if len(sample.args) > 1 else 1.0
    std = sample.args[2] if len(sample.args) > 2 else 2.0
    lg = np.log(a.astype(np.float64))
    assert abs(lg.mean() - mean) < 0.1 * std and abs(lg.std() - std) < 0.1 * std


def _cauchy(sample, a):
    median = sample.args[1] if len(sample.args) > 1 else 0.0
    sigma = sample.args[2] if len(sample.args) > 2 else 1.0
    assert abs(np.median(a) - median) < 0.15 * sigma
    q1, q3 = np.percentile(a, [25, 75])
    assert abs((q3 - q1) / 2 - sigma) < 0.15 * sigma


def _geometric(sample, a):
    p = sample.args[1]
    assert (a >= 1).all() and abs(a.mean() - 1 / p) < 0.1 / p


_N = 4000
_RANDOM_INFOS = [
    OpInfo("aten::log_normal_", check=_check_fill(_log_normal), gpu=False,
           samples=[Sample(rand(_N)), Sample(rand(_N, dtype=F64), 0.5, 0.25)],
           errors=[ErrorSample(rand(3, dtype=I64), match="'Long'"),
                   ErrorSample(rand(3), 1.0, -1.0, match="std > 0.0")]),
    OpInfo("aten::cauchy_", check=_check_fill(_cauchy), gpu=False,
           samples=[Sample(rand(_N)), Sample(rand(_N, dtype=F64), 2.0, 0.5)],
           errors=[ErrorSample(rand(3, dtype=I64), match="continuous probability distribution"
                                                        ".* you specified long int")]),
    OpInfo("aten::geometric_", check=_check_fill(_geometric), gpu=False,
           samples=[Sample(rand(_N), 0.25), Sample(rand(_N, dtype=I64), 0.5)],
           errors=[ErrorSample(rand(3), 0.0, match="expects p to be in \\(0, 1\\)")]),
]


# ------------------------------------------------------------------ tensor facts

def _comb_ref(x, r=2, with_replacement=False):
    f = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(f(list(x), r)) if r else []
    return np.array(rows, dtype=x.dtype).reshape(-1, r) if r else x[:0]


def _index_reduce_ref(x, dim, index, source, reduce, include_self=True):
    out = _f(x).copy()
    src = np.moveaxis(_f(source), dim, 0)
    o = np.moveaxis(out, dim, 0)
    groups = {}
    for k, i in enumerate(index):
        groups.setdefault(int(i), []).append(src[k])
    for i, vals in groups.items():
        vals = ([o[i].copy()] if include_self else []) + vals
        st = np.stack(vals)
        o[i] = {"prod": st.prod(0), "mean": st.mean(0), "amax": st.max(0),
                "amin": st.min(0)}[reduce]
    return out


_FACT_INFOS = [
    OpInfo("aten::is_nonzero", ref=lambda x: bool(x.reshape(-1)[0] != 0), meta=False,
           samples=[Sample(np.array([1.5])), Sample(np.array([[0]]))],
           errors=[ErrorSample(rand(2), match="more than one value is ambiguous"),
                   ErrorSample(rand(0), match="no values is ambiguous")]),
    # (gpu=False: the sizes are a CPU tensor whatever the input's device, as ATen's
    # at::tensor(self.sizes(), kLong))
    OpInfo("aten::_shape_as_tensor", ref=lambda x: np.asarray(x.shape, dtype=np.int64),
           samples=[Sample(rand(2, 3)), Sample(rand(0, 4)), Sample(np.array(1.5)),
                    Sample(rand(2, 1, 3, dtype=I32))], gpu=False),
    OpInfo("aten::is_same_size", ref=lambda a, b: a.shape == b.shape, meta=False,
           samples=[Sample(rand(2, 3), rand(2, 3)), Sample(rand(2, 3), rand(3, 2))]),
    # (separate tensors never share memory: the True cases are in tests/test_lead_s33.py)
    OpInfo("aten::is_set_to", ref=lambda a, b: False, meta=False,
           samples=[Sample(rand(2, 3), rand(2, 3)), Sample(rand(2, 3), rand(3, 2))]),
    OpInfo("aten::is_signed", ref=lambda x: x.dtype.kind in "if", meta=False,
           samples=[Sample(rand(2)), Sample(rand(2, dtype=np.uint8)),
                    Sample(rand(2, dtype=np.bool_)), Sample(rand(2, dtype=I32))]),
    OpInfo("aten::is_complex", ref=lambda x: False, samples=[Sample(rand(2))], meta=False),
    OpInfo("aten::is_conj", ref=lambda x: False, samples=[Sample(rand(2))], meta=False),
    OpInfo("aten::is_neg", ref=lambda x: False, samples=[Sample(rand(2))], meta=False),
    OpInfo("aten::is_inference", ref=lambda x: False, samples=[Sample(rand(2))], meta=False),
    OpInfo("aten::get_device", ref=lambda x: -1, samples=[Sample(rand(2))], meta=False,
           gpu=False),
    OpInfo("aten::scalar_tensor", ref=lambda s, dtype=None: np.asarray(
        s, dtype=np.float32 if dtype is None else dtype.np),
        samples=[Sample(3), Sample(2.5, dtype=G.float64), Sample(True), Sample(7, dtype=G.int64)],
        gpu=False),
    OpInfo("aten::fill.Scalar", ref=lambda x, v: np.full(x.shape, v, dtype=x.dtype),
           samples=[Sample(rand(2, 3), 1.5), Sample(rand(4, dtype=I32), 7)]),
    OpInfo("aten::fill.Tensor", ref=lambda x, v: np.full(x.shape, v, dtype=x.dtype),
           samples=[Sample(rand(2, 3), np.array(2.5, dtype=F32))],
           errors=[ErrorSample(rand(2), rand(2), match="only supports 0-dimension value")]),
    OpInfo("aten::constant_pad_nd",
           ref=lambda x, pad, value=0: _pad_ref(x, pad, value),
           samples=[Sample(rand(2, 3), [1, 2]), Sample(rand(2, 3, dtype=F64), [1, 0, 0, 2], 5.0),
                    Sample(rand(3, 3), [-1, 1])]),
    OpInfo("aten::new_empty_strided",
           check=lambda s, o: _strided_check(s, o),
           samples=[Sample(rand(2), [2, 3], [1, 2]), Sample(rand(2, dtype=I64), [4], [1])],
           gpu=False),
    OpInfo("aten::sum_to_size", ref=lambda x, size: _sum_to_ref(x, size), **_TOL,
           samples=[Sample(rand(2, 3), [1, 3]), Sample(rand(2, 3, 4), [3, 1]),
                    Sample(rand(2, 3, dtype=I64), [2, 1])],
           errors=[ErrorSample(rand(6), [3], match="is not expandable to size")]),
    OpInfo("aten::combinations", ref=_comb_ref,
           samples=[Sample(rand(4)), Sample(rand(4, dtype=I64), 3),
                    Sample(rand(3), 2, True), Sample(rand(3), 0)],
           errors=[ErrorSample(rand(2, 2), match="Expect a 1D vector")]),
    OpInfo("aten::index_reduce", ref=_index_reduce_ref, **_TOL,
           samples=[Sample(rand(6, dtype=F64), 0, np.array([0, 0, 2]), rand(3, dtype=F64),
                           "prod"),
                    Sample(rand(5, 3), 0, np.array([4, 1, 4]), rand(3, 3), "mean",
                           include_self=False),
                    Sample(rand(3, 4), 1, np.array([0, 3]), rand(3, 2), "amax"),
                    Sample(rand(3, 4), 1, np.array([2, 2]), rand(3, 2), "amin",
                           include_self=False)],
           errors=[ErrorSample(rand(3), 0, np.array([0]), rand(1), "sum",
                               match="Expected reduce to be one of prod, mean, amax or amin")]),
    OpInfo("aten::range.step",
           ref=lambda start, end, step=1, dtype=None: np.arange(
               0, math.floor((end - start) / step) + 1) * step + start,
           samples=[Sample(1, 4), Sample(0.0, 1.0, 0.25), Sample(1, 4, dtype=G.int64),
                    Sample(4, 0, -2)], gpu=False,
           errors=[ErrorSample(0, 4, 0, match="step must be nonzero")]),
]


def _strided_check(sample, out):
    assert out.shape == tuple(sample.args[1]) and out.stride() == tuple(sample.args[2])
    assert out.dtype is G.from_numpy(sample.args[0]).dtype


def _pad_ref(x, pad, value):
    out = x
    for i in range(len(pad) // 2):
        ax = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo < 0:
            out = np.take(out, range(-lo, out.shape[ax]), axis=ax)
            lo = 0
        if hi < 0:
            out = np.take(out, range(0, out.shape[ax] + hi), axis=ax)
            hi = 0
        widths = [(0, 0)] * x.ndim
        widths[ax] = (lo, hi)
        out = np.pad(out, widths, constant_values=value)
    return out


def _sum_to_ref(x, size):
    lead = x.ndim - len(size)
    r = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, s in enumerate(size) if s == 1 and r.shape[i] != 1)
    return r.sum(axis=axes, keepdims=True) if axes else r


# ------------------------------------------------------------------ legacy linalg

def _spd(n=3, dtype=F64, seed=0):
    a = np.random.default_rng(seed).standard_normal((n, n))
    return (a @ a.T + n * np.eye(n)).astype(dtype)


def _qr_check(sample, out):
    q, r = (o.numpy().astype(np.float64) for o in out)
    a = sample.args[0].astype(np.float64)
    np.testing.assert_allclose(q @ r, a, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.triu(r), r, atol=1e-6)


def _tri_ref(b, A, upper=True, transpose=False, unitriangular=False):
    a = np.triu(A) if upper else np.tril(A)
    if unitriangular:
        np.fill_diagonal(a, 1)
    return np.linalg.solve(a.T if transpose else a, b), A


def _lu_check(sample, out):
    LU, piv, info = (o.numpy() for o in out)
    a = sample.args[0].astype(np.float64)
    n = a.shape[-1]
    L = np.tril(LU, -1) + np.eye(n)
    U = np.triu(LU)
    P = np.eye(n)
    for i, p in enumerate(piv - 1):
        P[[i, p]] = P[[p, i]]
    np.testing.assert_allclose(P.T @ L @ U, a, rtol=1e-4, atol=1e-4)
    assert info.shape == a.shape[:-2] and (info == 0).all()


def _lu_solve_ref(b, LU, piv):
    n = LU.shape[-1]
    L = np.tril(LU, -1) + np.eye(n)
    U = np.triu(LU)
    P = np.eye(n)
    for i, p in enumerate(piv - 1):
        P[[i, p]] = P[[p, i]]
    return np.linalg.solve(P.T @ L @ U, b)


def _lu_sample():
    a = _spd(3, seed=2)
    t = G.from_numpy(a.copy())
    LU, piv, _ = G.ops.registry.OPS["aten::_lu_with_info"].public(t)
    b = np.random.default_rng(5).standard_normal((3, 2))
    return [Sample(b, LU.numpy(), piv.numpy())]


_LEGACY_INFOS = [
    OpInfo("aten::qr", check=_qr_check, gpu=False,
           samples=[Sample(_spd()), Sample(rand(3, 3, dtype=F64), False),
                    Sample(rand(2, 3, 3))]),
    OpInfo("aten::slogdet", ref=lambda a: tuple(np.linalg.slogdet(a)), **_TOL,
           samples=[Sample(_spd()), Sample(rand(2, 3, 3, dtype=F64))]),
    # cholesky reads one triangle of A (finite differences of the other are zero while the
    # derivative is PyTorch's symmetric one): gradcheck runs on symmetrized inputs in
    # tests/test_torch_missing_s18.py, as linalg_cholesky's in tests/test_linalg.py
    OpInfo("aten::cholesky", grad=False, ref=lambda a, upper=False: np.linalg.cholesky(a).swapaxes(-1, -2)
           if upper else np.linalg.cholesky(a), **_TOL,
           samples=[Sample(_spd()), Sample(_spd(4, F32), True)]),
    OpInfo("aten::triangular_solve", ref=_tri_ref, **_TOL,
           samples=[Sample(rand(3, 2, dtype=F64), _spd()),
                    Sample(rand(3, 2, dtype=F64), _spd(), False, True),
                    Sample(rand(3, 1, dtype=F64), _spd(), True, False, True)]),
    OpInfo("aten::_lu_with_info", check=_lu_check, gpu=False,
           samples=[Sample(_spd()), Sample(_spd(4, F32))]),
    OpInfo("aten::lu_solve", ref=_lu_solve_ref, **_TOL, samples=_lu_sample),
]

OPINFOS = (_VIEW_COPY_INFOS + _SCATTER_INFOS + _STATS_INFOS + _GAMMA_INFOS + _RANDOM_INFOS +
           _FACT_INFOS + _LEGACY_INFOS)
