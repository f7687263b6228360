"""OpInfos of the reduction family (gpujit/ops/reduction.py, reduction_var.py,
reduction_scans.py). References are plain NumPy in float64 (or explicit formulas), written
from PyTorch's documented semantics: dim=None or [] reduces all dims, bool/int sums are
int64, float16 accumulates in float32, indices are int64 and point at the first extreme (or
the first NaN)."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, positive, FLOAT_DTYPES, ALL_DTYPES

F16, F32, F64 = np.float16, np.float32, np.float64
_GD = {np.dtype(d): getattr(G, np.dtype(d).name) for d in ALL_DTYPES}


def gd(npdt):
    return _GD[np.dtype(npdt)]


def axes(dim, ndim):
    """Torch dim argument -> NumPy axis tuple (all dims for None / [])."""
    if dim is None:
        return tuple(range(ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    if not dims:
        return tuple(range(ndim))
    return tuple(sorted({d % max(ndim, 1) for d in dims})) if ndim else ()


def long_or_same(npdt):
    return G.int64 if np.dtype(npdt).kind in "biu" else gd(npdt)


_grad_rng = np.random.default_rng(77)


def grad_rand(*shape):
    """float64 values for the samples put first for tests/test_autograd_registry.py (which
    gradchecks an op's first 3 samples); their own generator leaves the shared one's
    sequence, and so every other sample, unchanged."""
    return _grad_rng.uniform(-2, 2, shape)


def with_nan(*shape, dtype=F32):
    a = rand(*shape, dtype=dtype)
    a.reshape(-1)[1::5] = np.nan
    return a


# ------------------------------------------------------------------ sum / prod / mean

def _sum_ref(x, dim=None, keepdim=False, dtype=None):
    x = np.asarray(x)
    r = np.sum(x.astype(np.float64 if x.dtype.kind == "f" else np.int64),
               axis=axes(dim, x.ndim), keepdims=keepdim)
    return r


def _sum_samples():
    out = []
    for d in ALL_DTYPES:
        out.append(Sample(rand(4, 5, dtype=d)).expect_dtype(long_or_same(d)))
    out += [Sample(rand(dtype=F32)), Sample(rand(0, 3, dtype=F32)),
            Sample(rand(0, dtype=np.int32)).expect_dtype(G.int64),
            Sample(rand(300, dtype=F32)),
            Sample(rand(3, 4, dtype=F32), dtype=G.float64).expect_dtype(G.float64),
            Sample(rand(3, 4, dtype=np.int32), dtype=G.float32).expect_dtype(G.float32),
            Sample(rand(3, 4, dtype=F32), dtype=G.float16).expect_dtype(G.float16)]
    return out


def _sum_dim_samples():
    out = []
    for d in ALL_DTYPES:
        out.append(Sample(rand(3, 4, 5, dtype=d), 1).expect_dtype(long_or_same(d)))
    x = rand(3, 4, 5, dtype=F32)
    out += [Sample(x, 0), Sample(x, -1), Sample(x, (0, 2)), Sample(x, [-1, 0], True),
            Sample(x, []), Sample(x, None), Sample(x, dim=1, keepdim=True),
            Sample(x, (1,), dtype=G.float64).expect_dtype(G.float64),
            Sample(rand(dtype=F32), 0), Sample(rand(dtype=F32), -1, True),
            Sample(rand(0, 3, dtype=F32), 0), Sample(rand(0, 3, dtype=F32), 1),
            Sample(rand(2, 0, dtype=np.int64), [0, 1], keepdim=True),
            Sample(rand(20, 30, dtype=F32), 0), Sample(rand(2, 3, dtype=np.bool_), 0)]
    return out


def _sum_errors():
    x = rand(3, 4, dtype=F32)
    return [ErrorSample(x, (0, 0), match="dim 0 appears multiple times"),
            ErrorSample(x, 2, exc=IndexError, match=r"Dimension out of range \(expected to "
                        r"be in range of \[-2, 1\], but got 2\)"),
            ErrorSample(rand(dtype=F32), 1, exc=IndexError, match="Dimension out of range")]


def _prod_ref(x, dim=None, keepdim=False, dtype=None):
    x = np.asarray(x)
    r = np.ones([1 if i in axes(dim, x.ndim) else s for i, s in enumerate(x.shape)],
                np.float64 if x.dtype.kind == "f" else np.int64)
    if x.ndim == 0:
        return x.astype(r.dtype)
    ax = axes(dim, x.ndim)
    # explicit product, one reduced position at a time
    for idx in np.ndindex(*[x.shape[i] for i in ax]):
        sl = [slice(None)] * x.ndim
        for i, j in zip(ax, idx):
            sl[i] = slice(j, j + 1)
        r = r * x[tuple(sl)]
    return r if keepdim else r.reshape([s for i, s in enumerate(x.shape) if i not in ax])


def _prod_samples():
    # first: a zero, where the gradient is the product of the others (no division by x)
    out = [Sample(np.array([[1.5, 0.0, 2.0], [-1.0, 3.0, 0.5]], F64))]
    out += [Sample(rand(2, 3, dtype=d, low=-3, high=3)).expect_dtype(long_or_same(d))
           for d in ALL_DTYPES]
    out += [Sample(rand(dtype=F64)), Sample(rand(0, 2, dtype=F32)),
            Sample(rand(4, dtype=np.int16), dtype=G.float64).expect_dtype(G.float64),
            Sample(positive(10, dtype=F16)).tol(2e-3, 1e-3)]
    return out


def _prod_dim_samples():
    # first: rows with one zero and with two (the gradient there is 0)
    out = [Sample(np.array([[1.5, 0.0, 2.0], [0.0, 3.0, 0.0], [1.0, 2.0, -1.0]], F64), 1)]
    out += [Sample(rand(2, 3, 4, dtype=d, low=-3, high=3), 1).expect_dtype(long_or_same(d))
           for d in ALL_DTYPES]
    x = rand(3, 4, dtype=F32)
    out += [Sample(x, -1, True), Sample(x, dim=0, keepdim=False),
            Sample(rand(dtype=F32), 0), Sample(rand(0, 3, dtype=F32), 0),
            Sample(rand(3, 0, dtype=F32), 1, True),
            Sample(x, 0, dtype=G.float64).expect_dtype(G.float64)]
    return out


def _mean_ref(x, dim=None, keepdim=False, dtype=None):
    x = np.asarray(x, np.float64)
    ax = axes(dim, x.ndim)
    n = int(np.prod([x.shape[i] for i in ax])) if ax else 1
    s = np.sum(x, axis=ax, keepdims=keepdim)
    return s / n if n else np.full(np.shape(s), np.nan)


def _mean_samples():
    out = [Sample(rand(4, 5, dtype=d)) for d in FLOAT_DTYPES]
    out += [Sample(rand(dtype=F32)), Sample(rand(0, 2, dtype=F32)),
            Sample(rand(4, dtype=np.int32), dtype=G.float32).expect_dtype(G.float32),
            Sample(rand(3, 4, dtype=F32), dtype=G.float64).expect_dtype(G.float64)]
    return out


def _mean_dim_samples():
    out = [Sample(rand(3, 4, 5, dtype=d), 1) for d in FLOAT_DTYPES]
    x = rand(3, 4, 5, dtype=F64)
    out += [Sample(x, (0, -1)), Sample(x, [], True), Sample(x, None),
            Sample(x, dim=2, keepdim=True), Sample(rand(dtype=F32), 0),
            Sample(rand(0, 3, dtype=F32), 0), Sample(rand(0, 3, dtype=F32), 1),
            Sample(rand(3, 4, dtype=np.int64), 1, dtype=G.float64).expect_dtype(G.float64)]
    return out


_MEAN_ERRORS = [
    ErrorSample(rand(3, dtype=np.int64), match=r"mean\(\): could not infer output dtype. "
                r"Input dtype must be either a floating point or complex dtype. Got: Long"),
    ErrorSample(rand(3, dtype=F32), dtype=G.int32, match="Optional dtype must be either a "
                "floating point or complex dtype. Got: Int"),
]


# ------------------------------------------------------------------ max / min family

def _ext(fn):
    def ref(x, dim=None, keepdim=False):
        return fn(np.asarray(x), axis=axes(dim, np.ndim(x)), keepdims=keepdim)
    return ref


def _dim_ext_ref(kind):
    def ref(x, dim, keepdim=False):
        x = np.asarray(x)
        if x.ndim == 0:
            return x.copy(), np.array(0)
        d = dim % x.ndim
        moved = np.moveaxis(x, d, -1)
        idx = np.zeros(moved.shape[:-1], np.int64)
        val = np.zeros(moved.shape[:-1], x.dtype)
        for pos in np.ndindex(*moved.shape[:-1]):    # first extreme, NaN wins
            row = moved[pos]
            best = 0
            for j in range(1, row.shape[0]):
                a, b = row[j], row[best]
                if row.dtype.kind == "f" and np.isnan(b):
                    break
                if (row.dtype.kind == "f" and np.isnan(a)) or (a > b if kind == "max" else a < b):
                    best = j
            idx[pos], val[pos] = best, row[best]
        if keepdim:
            idx, val = np.expand_dims(idx, d), np.expand_dims(val, d)
        return val, idx
    return ref


def _ext_samples():
    out = [Sample(rand(3, 4, dtype=d)) for d in ALL_DTYPES]
    out += [Sample(rand(dtype=F32)), Sample(with_nan(3, 4)), Sample(rand(1, 2, dtype=np.int8))]
    return out


def _dim_ext_samples():
    out = [Sample(rand(3, 4, 5, dtype=d), 1) for d in ALL_DTYPES]
    x = rand(3, 4, dtype=F32)
    out += [Sample(x, 0), Sample(x, -1, True), Sample(x, dim=1, keepdim=True),
            Sample(with_nan(4, 5), 1), Sample(with_nan(4, 5, dtype=F64), 0, True),
            Sample(rand(dtype=F32), 0), Sample(rand(dtype=F32), -1, True),
            Sample(rand(0, 3, dtype=F32), 1), Sample(rand(6, 2, dtype=np.int32), 0)]
    return out


def _ext_errors(name):
    return [ErrorSample(rand(0, 3, dtype=F32), match=rf"{name}\(\): Expected reduction dim "
                        r"to be specified for input.numel\(\) == 0")]


def _dim_ext_errors(name):
    return [ErrorSample(rand(0, 3, dtype=F32), 0, exc=IndexError,
                        match=rf"{name}\(\): Expected reduction dim 0 to have non-zero size"),
            ErrorSample(rand(3, dtype=F32), 1, exc=IndexError, match="Dimension out of range")]


def _other_samples():
    return [Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F32)),
            Sample(rand(3, 1, 2, dtype=F32), rand(4, 2, dtype=F64)),
            Sample(rand(2, 3, dtype=np.int32), rand(3, dtype=np.int64)),
            Sample(rand(2, 3, dtype=np.int8), rand(2, 3, dtype=F16)),
            Sample(with_nan(2, 5), rand(2, 5, dtype=F32)),
            Sample(rand(4, dtype=np.bool_), rand(4, dtype=np.bool_)),
            Sample(rand(dtype=F32), rand(3, dtype=F32)), Sample(rand(0, 3), rand(3))]


def _amax_samples():
    out = [Sample(grad_rand(3, 4, 5), (0, 2)), Sample(grad_rand(3, 4), [], True)]
    out += [Sample(rand(3, 4, 5, dtype=d), 1) for d in ALL_DTYPES]
    x = rand(3, 4, 5, dtype=F32)
    out += [Sample(x), Sample(x, (0, 2)), Sample(x, [-1], True), Sample(x, [], True),
            Sample(x, dim=(0, 1), keepdim=True), Sample(with_nan(4, 5), 1),
            Sample(rand(dtype=F32)), Sample(rand(dtype=F32), 0), Sample(rand(0, 3), 1)]
    return out


def _amax_errors(name):
    return [ErrorSample(rand(0, 3), match=rf"{name}\(\): Expected reduction dim to be "
                        r"specified for input.numel\(\) == 0"),
            ErrorSample(rand(0, 3), 0, exc=IndexError,
                        match=rf"{name}\(\): Expected reduction dim 0 to have non-zero size")]


def _aminmax_ref(x, dim=None, keepdim=False):
    return (_ext(np.min)(x, dim, keepdim), _ext(np.max)(x, dim, keepdim))


def _aminmax_samples():
    x = rand(3, 4, dtype=F32)
    return [Sample(x), Sample(x, dim=0), Sample(x, dim=-1, keepdim=True),
            Sample(rand(3, 4, dtype=np.int16), dim=1), Sample(with_nan(3, 4), dim=1),
            Sample(rand(dtype=F64)), Sample(rand(0, 3), dim=1)]


def _arg_ref(kind):
    dim_ref = _dim_ext_ref(kind)

    def ref(x, dim=None, keepdim=False):
        x = np.asarray(x)
        if dim is None:
            i = dim_ref(x.reshape(-1), 0)[1]
            return i.reshape((1,) * x.ndim) if keepdim else i
        return dim_ref(x, dim, keepdim)[1]
    return ref


def _arg_samples():
    out = [Sample(rand(3, 4, 5, dtype=d), 1) for d in ALL_DTYPES if d is not np.bool_]
    x = rand(3, 4, 5, dtype=F32)
    out += [Sample(x), Sample(x, keepdim=True), Sample(x, -1, True), Sample(x, dim=0),
            Sample(with_nan(4, 5)), Sample(with_nan(4, 5), 1), Sample(rand(dtype=F32)),
            Sample(rand(dtype=F32), 0, True), Sample(rand(0, 3), 1),
            Sample(np.array([1, 3, 3, 0, 3], np.int64))]
    return [s.expect_dtype(G.int64) for s in out]


def _arg_errors(name):
    return [ErrorSample(rand(3, dtype=np.bool_), match=rf"{name}\(\): does not support bool "
                        "input"),
            ErrorSample(rand(0, 3), exc=IndexError, match=rf"{name}\(\): Expected reduction "
                        r"dim to be specified for input.numel\(\) == 0"),
            ErrorSample(rand(0, 3), 0, exc=IndexError, match="Expected reduction dim 0 to "
                        "have non-zero size")]


# ------------------------------------------------------------------ var / std

def _var_formula(x, dim, correction, keepdim):
    x = np.asarray(x, np.float64)
    ax = axes(dim, x.ndim)
    n = int(np.prod([x.shape[i] for i in ax])) if ax else 1
    m = np.sum(x, axis=ax, keepdims=True) / n if n else np.full(
        [1 if i in ax else s for i, s in enumerate(x.shape)], np.nan)
    ss = np.sum((x - m) ** 2, axis=ax, keepdims=keepdim)
    v = ss / max(n - correction, 0)
    mean = m if keepdim else m.reshape(np.shape(v))
    return v, mean


def _var_refs(sqrt, with_mean):
    def fin(v, m):
        v = np.sqrt(v) if sqrt else v
        return (v, m) if with_mean else v

    def plain(x, unbiased=True):
        return fin(*_var_formula(x, None, int(unbiased), False))

    def dim(x, dim, unbiased=True, keepdim=False):
        return fin(*_var_formula(x, dim, int(unbiased), keepdim))

    def corr(x, dim=None, correction=None, keepdim=False):
        return fin(*_var_formula(x, dim, 1 if correction is None else correction, keepdim))
    return plain, dim, corr


def _var_samples():
    x = rand(4, 5, dtype=F32)
    plain = [Sample(rand(4, 5, dtype=d)) for d in FLOAT_DTYPES]
    plain += [Sample(x, False), Sample(x, unbiased=False), Sample(rand(2, 1, 3, dtype=F64)),
              Sample(rand(dtype=F32)), Sample(rand(0, 3, dtype=F32)),
              Sample(rand(300, dtype=F32, low=100, high=101))]
    dim = [Sample(rand(3, 4, 5, dtype=d), 1) for d in FLOAT_DTYPES]
    dim += [Sample(x, 0), Sample(x, (0, 1), False), Sample(x, -1, True, True),
            Sample(x, dim=1, keepdim=True), Sample(x, None), Sample(x, [], unbiased=False),
            Sample(rand(dtype=F64), 0), Sample(rand(0, 3, dtype=F32), 1)]
    corr = [Sample(x, dim=1, correction=0), Sample(x), Sample(x, 0, correction=2),
            Sample(x, correction=0.5), Sample(x, (0, 1), keepdim=True),
            Sample(rand(3, 4, dtype=F16), dim=-1, correction=1),
            Sample(rand(2, 3, dtype=F64), dim=1, correction=3),   # divisor 0 -> inf
            Sample(rand(0, 3, dtype=F32), dim=0)]
    return plain, dim, corr


# ------------------------------------------------------------------ logsumexp / all / any

def _logsumexp_ref(x, dim, keepdim=False):
    x = np.asarray(x, np.float64)
    ax = axes(dim, x.ndim)
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=ax, keepdims=keepdim))
    m = np.max(x, axis=ax, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    r = np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True)) + m
    return r if keepdim else r.reshape([s for i, s in enumerate(x.shape) if i not in ax])


def _logsumexp_samples():
    out = [Sample(rand(3, 4, dtype=d), 1) for d in FLOAT_DTYPES]
    x = rand(3, 4, 5, dtype=F32)
    big = rand(3, 4, dtype=F32, low=500, high=1000)
    inf = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.nan, 1.0]], F32)
    out += [Sample(x, (0, 2)), Sample(x, -1, True), Sample(x, [], True), Sample(big, 1),
            Sample(-big, 0, keepdim=True), Sample(inf, 1), Sample(rand(dtype=F32), 0),
            Sample(rand(0, 3, dtype=F32), 0), Sample(rand(3, 0, dtype=F32), 1),
            Sample(rand(3, 4, dtype=np.int64), 1).expect_dtype(G.float32),
            Sample(rand(3, 4, dtype=np.bool_), 0).expect_dtype(G.float32)]
    return out


def _bool_ref(fn):
    def ref(x, dim=None, keepdim=False):
        x = np.asarray(x)
        r = fn(x != 0, axis=axes(dim, x.ndim), keepdims=keepdim)
        return r.astype(np.uint8) if x.dtype == np.uint8 else r
    return ref


def _bool_samples(with_dim):
    def out_dt(d):
        return G.uint8 if np.dtype(d) == np.uint8 else G.bool
    d0 = (1,) if with_dim == "int" else ((0, 1),) if with_dim == "list" else ()
    out = []
    for d in ALL_DTYPES:
        a = rand(3, 4, dtype=d, low=0, high=1) if np.dtype(d).kind != "b" else rand(3, 4, dtype=d)
        out.append(Sample(a, *d0).expect_dtype(out_dt(d)))
        out.append(Sample(np.ones((3, 4), d), *d0).expect_dtype(out_dt(d)))
    nanx = np.array([[np.nan, 0.0], [1.0, 2.0]], F32)
    out.append(Sample(nanx, *d0))
    if with_dim == "int":
        out += [Sample(rand(2, 3, 4, dtype=np.bool_), -1, True), Sample(rand(0, 3), 0),
                Sample(rand(dtype=F32), 0), Sample(rand(2, 3, dtype=np.bool_), dim=0)]
    elif with_dim == "list":
        out += [Sample(rand(2, 3, 4, dtype=np.bool_), [0, 2], True),
                Sample(rand(2, 3, dtype=np.bool_), None), Sample(rand(2, 3), dim=None),
                Sample(rand(0, 3), [1]), Sample(rand(0, 3), keepdim=True)]
    else:
        out += [Sample(rand(0, 3)), Sample(rand(dtype=np.int32))]
    return out


# ------------------------------------------------------------------ scans / softmax

def _cum_ref(fn):
    def ref(x, dim, dtype=None):
        x = np.asarray(x)
        x = x.astype(np.float64 if x.dtype.kind == "f" or (dtype is not None and
                                                            dtype.is_floating_point)
                     else np.int64)
        if x.ndim == 0:
            return x
        return fn(x, axis=dim % x.ndim)
    return ref


def _cum_samples(low, high):
    # first: zeros (cumprod's gradient at and after the first zero of a row)
    out = [Sample(np.array([[1.5, 0.0, 2.0, 0.0], [0.5, -2.0, 0.0, 3.0], [1.0, 2.0, -1.0, 0.5]],
                           F64), 1)]
    out += [Sample(rand(3, 4, dtype=d, low=low, high=high), 1).expect_dtype(long_or_same(d))
           for d in ALL_DTYPES]
    x = rand(3, 4, 5, dtype=F32, low=low, high=high)
    out += [Sample(x, 0), Sample(x, -1), Sample(x, dim=2), Sample(rand(dtype=F32), 0),
            Sample(rand(0, 3), 1), Sample(rand(0, 3), 0),
            Sample(x, 1, dtype=G.float64).expect_dtype(G.float64),
            Sample(rand(2, 3, dtype=np.int32), 1, dtype=G.float32).expect_dtype(G.float32),
            Sample(with_nan(2, 6), 1)]
    return out


def _softmax_ref(log):
    def ref(x, dim, dtype=None):
        x = np.asarray(x, np.float64)
        if x.ndim == 0:
            return np.zeros(()) if log else np.ones(())
        if x.size == 0:
            return x
        z = x - np.max(x, axis=dim, keepdims=True)
        s = np.sum(np.exp(z), axis=dim, keepdims=True)
        return z - np.log(s) if log else np.exp(z) / s
    return ref


def _softmax_samples():
    out = [Sample(rand(3, 4, dtype=d), 1) for d in FLOAT_DTYPES]
    x = rand(2, 3, 4, dtype=F32, low=-5, high=5)
    big = rand(3, 4, dtype=F32, low=500, high=1000)
    out += [Sample(x, 0), Sample(x, -1), Sample(x, dim=1), Sample(big, 1), Sample(-big, 0),
            Sample(np.array([[-np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf]], F32), 1),
            Sample(rand(dtype=F32), 0), Sample(rand(0, 3), 1), Sample(rand(3, 0), 1),
            Sample(x, 1, G.float64).expect_dtype(G.float64),
            Sample(x, 2, dtype=G.float16).expect_dtype(G.float16),
            Sample(rand(3, 4, dtype=np.int64), 1, dtype=G.float32).expect_dtype(G.float32),
            Sample(rand(30, 40, dtype=F16), 1)]
    return out


def _softmax_errors(name):
    return [ErrorSample(rand(3, 4, dtype=np.int64), 1, match=f"\"{name}_lastdim_kernel_impl"
                        "\" not implemented for 'Long'"),
            ErrorSample(rand(3, 4), 2, exc=IndexError, match="Dimension out of range")]


def _half_tol(samples):
    """The OpInfo tolerances are float32's; float16 samples get float16's (a few ulps)."""
    def go():
        out = list(samples() if callable(samples) else samples)
        for s in out:
            half = any(isinstance(a, np.ndarray) and a.dtype == F16 for a in s.args) or \
                s.dtype is G.float16 or s.kwargs.get("dtype") is G.float16
            if half and s.rtol is None:
                s.tol(2e-3, 2e-3)
        return out
    return go


_TOL32 = dict(rtol=1e-5, atol=1e-5)
_var_p, _var_d, _var_c = (_half_tol(x) for x in _var_samples())

OPINFOS = [
    OpInfo("aten::sum", samples=_half_tol(_sum_samples), ref=_sum_ref, **_TOL32),
    OpInfo("aten::sum.dim_IntList", samples=_half_tol(_sum_dim_samples), ref=_sum_ref,
           errors=_sum_errors(), **_TOL32),
    OpInfo("aten::prod", samples=_half_tol(_prod_samples), ref=_prod_ref, **_TOL32),
    OpInfo("aten::prod.dim_int", samples=_half_tol(_prod_dim_samples), ref=_prod_ref, **_TOL32,
           errors=[ErrorSample(rand(3, 4), 2, exc=IndexError, match="Dimension out of range")]),
    OpInfo("aten::mean", samples=_half_tol(_mean_samples), ref=_mean_ref, errors=_MEAN_ERRORS,
           **_TOL32),
    OpInfo("aten::mean.dim", samples=_half_tol(_mean_dim_samples), ref=_mean_ref, **_TOL32,
           errors=[ErrorSample(rand(3, dtype=np.int32), 0, match="could not infer output "
                               "dtype")]),
    OpInfo("aten::max", samples=_ext_samples, ref=_ext(np.max), errors=_ext_errors("max")),
    OpInfo("aten::min", samples=_ext_samples, ref=_ext(np.min), errors=_ext_errors("min")),
    OpInfo("aten::max.dim", samples=_dim_ext_samples, ref=_dim_ext_ref("max"),
           errors=_dim_ext_errors("max")),
    OpInfo("aten::min.dim", samples=_dim_ext_samples, ref=_dim_ext_ref("min"),
           errors=_dim_ext_errors("min")),
    OpInfo("aten::max.other", samples=_other_samples, ref=np.maximum,
           errors=[ErrorSample(rand(2, 3), rand(4), match="must match the size")]),
    OpInfo("aten::min.other", samples=_other_samples, ref=np.minimum,
           errors=[ErrorSample(rand(2, 3), rand(4), match="must match the size")]),
    OpInfo("aten::amax", samples=_amax_samples, ref=_ext(np.max), errors=_amax_errors("amax")),
    OpInfo("aten::amin", samples=_amax_samples, ref=_ext(np.min), errors=_amax_errors("amin")),
    OpInfo("aten::aminmax", samples=_aminmax_samples, ref=_aminmax_ref,
           errors=[ErrorSample(rand(0, 3), match="cannot compute aminmax over an empty "
                               "dimension")]),
    OpInfo("aten::argmax", samples=_arg_samples, ref=_arg_ref("max"),
           errors=_arg_errors("argmax")),
    OpInfo("aten::argmin", samples=_arg_samples, ref=_arg_ref("min"),
           errors=_arg_errors("argmin")),
    OpInfo("aten::logsumexp", samples=_half_tol(_logsumexp_samples), ref=_logsumexp_ref,
           **_TOL32,
           errors=[ErrorSample(rand(3), 1, exc=IndexError, match="Dimension out of range")]),
    OpInfo("aten::all", samples=lambda: _bool_samples(None), ref=_bool_ref(np.all)),
    OpInfo("aten::all.dim", samples=lambda: _bool_samples("int"), ref=_bool_ref(np.all)),
    OpInfo("aten::all.dims", samples=lambda: _bool_samples("list"), ref=_bool_ref(np.all)),
    OpInfo("aten::any", samples=lambda: _bool_samples(None), ref=_bool_ref(np.any)),
    OpInfo("aten::any.dim", samples=lambda: _bool_samples("int"), ref=_bool_ref(np.any)),
    OpInfo("aten::any.dims", samples=lambda: _bool_samples("list"), ref=_bool_ref(np.any),
           errors=[ErrorSample(rand(2, 3), [0, -2], match="dim 0 appears multiple times")]),
    OpInfo("aten::cumsum", samples=_half_tol(lambda: _cum_samples(-2, 2)),
           ref=_cum_ref(np.cumsum), **_TOL32,
           errors=[ErrorSample(rand(3), 1, exc=IndexError, match="Dimension out of range")]),
    OpInfo("aten::cumprod", samples=_half_tol(lambda: _cum_samples(-2, 2)),
           ref=_cum_ref(np.cumprod), **_TOL32),
    OpInfo("aten::softmax.int", samples=_half_tol(_softmax_samples), ref=_softmax_ref(False),
           errors=_softmax_errors("softmax"), **_TOL32),
    OpInfo("aten::log_softmax.int", samples=_half_tol(_softmax_samples), ref=_softmax_ref(True),
           errors=_softmax_errors("log_softmax"), **_TOL32),
]

for _name in ("var", "std", "var_mean", "std_mean"):
    _p, _d, _c = _var_refs(_name.startswith("std"), _name.endswith("mean"))
    # (var_mean / std_mean name themselves in PyTorch 2.13's message: corrected in s27)
    _what = _name if _name.endswith("mean") else "std and var"
    _errs = [ErrorSample(rand(3, dtype=np.int64), match=f"{_what} only support floating "
                         "point and complex dtypes")]
    OPINFOS += [
        OpInfo(f"aten::{_name}", samples=_var_p, ref=_p, errors=_errs, **_TOL32),
        OpInfo(f"aten::{_name}.dim", samples=_var_d, ref=_d, **_TOL32,
               errors=[ErrorSample(rand(3, dtype=np.int32), 0, match=f"{_what} only")]),
        OpInfo(f"aten::{_name}.correction", samples=_var_c, ref=_c, errors=_errs, **_TOL32),
    ]
