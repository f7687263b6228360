"""Reductions (sum, mean, prod, max/min, amax/amin, argmax/argmin, logsumexp, all/any), and
the helpers the reduction families share: var/std are reduction_var.py's, the scans
(cumsum, cumprod) and softmax / log_softmax reduction_scans.py's.

PyTorch's rules, where they differ from NumPy's: `dim=None` or `dim=[]` reduces every
dim; bool and integer inputs sum/prod/cumsum to int64; float16 accumulates in float32 (but
a CPU prod rounds every product to its dtype, in PyTorch's order: _cpu_float_prod);
max/min/amax/argmax of an empty reduction raise (no identity); all/any return bool (uint8
for uint8 input); indices are int64; a 0-dim input accepts dim 0 or -1.
"""
from __future__ import annotations

import math
import operator

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, reduce_shape, wrap_dim
from .reduction_cascade import cascade_sum
from .registry import op

_RED = {"reduction"}
_LONG = np.dtype(np.int64)
_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_BOOL = np.dtype(np.bool_)
_U8 = np.dtype(np.uint8)
_CASCADE = (np.dtype(np.float32), np.dtype(np.float64),    # (PyTorch's cascade_sum order;
            np.dtype(np.complex64), np.dtype(np.complex128))   # complex: its own lanes)
# sum/prod/cumsum of bool and integer inputs are int64, as in PyTorch
_ACC_OUT = {np.dtype(t): _LONG for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32,
                                         np.int64)}
# (uint16 / uint32 / uint64 too: PyTorch's sum, prod and scans of them are int64, wrapping)
_ACC_OUT.update({np.dtype(t): _LONG for t in (np.uint16, np.uint32, np.uint64)})


def _name(npdt):
    return _dt._FROM_NP[npdt].short_name


def _axes(dim, ndim):
    """PyTorch dims (int, list/tuple, None; [] = all) -> NumPy axis (tuple, or None for all)."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:
        return None
    if len(dims) == 1:      # (the common case: wrap_dim inline, no generator nor set)
        d = dims[0]
        n = ndim or 1
        if d.__class__ is int and -n <= d < n:
            return (d % n,) if ndim else None
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        dup = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
    return out if ndim else None


def _count(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def _acc(a, dtype):
    """(accumulation dtype, output dtype) of sum/prod/cumsum."""
    out = dtype.np if dtype is not None else _ACC_OUT.get(a.dtype, a.dtype)
    return (_F32 if out == _F16 else out), out


def _as_dtype(a, dtype):
    """a converted to the reduction's explicit `dtype` first, as PyTorch's sum/prod/cumsum/
    nansum(dtype=) convert their input (int64 2**53 + 1 rounds to float64 before the
    sum; an int32 2**30 is inf as float16, and inf - inf is nan)."""
    if dtype is None:
        return a
    d = _dt.to_dtype(dtype).np
    if a.dtype.kind == "c" and d.kind != "c":
        from .conversion import discard_imaginary     # (PyTorch's copy_ warning)
        a = discard_imaginary(a)
    return a if a.dtype == d else a.astype(d)


def _reduce_sum(a, axes, acc, keepdim=False):
    """a.sum(axes, acc): a float32 / float64 NumPy array's in PyTorch's CPU order
    (reduction_cascade), else NumPy's through its ufunc, so that an inf - inf inside warns
    as gpujit's own line (which gpujit's warning filter silences, PyTorch being silent)
    rather than as NumPy's _methods.py."""
    if type(a) is np.ndarray:
        if acc in _CASCADE and a.dtype in _CASCADE:
            # (mean(dtype=float64) of float32 converts the input first, as sum(dtype=))
            r = cascade_sum(a if a.dtype == acc else a.astype(acc), axes, keepdim)
            if r is not None:
                return r
        return np.add.reduce(a, axis=axes, dtype=acc, keepdims=keepdim)
    return a.sum(axes, acc, keepdims=keepdim)


def _sum(a, axes, keepdim, dtype):
    if dtype is not None:
        a = _as_dtype(a, dtype)
        acc, out = _acc(a, dtype)
    else:           # (the common case inline: sum is called per training step)
        out = _ACC_OUT.get(a.dtype, a.dtype)
        acc = _F32 if out == _F16 else out
    r = _reduce_sum(a, axes, acc, keepdim)
    return r if acc == out else r.astype(out)


def _check_nonempty(a, axes, name):
    """max/min/amax/argmax have no identity: an empty reduction is an error, as in torch."""
    if a.size:
        return
    if axes is None:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                           f"input.numel() == 0. Specify the reduction dim with the 'dim' "
                           f"argument.")
    for d in axes:
        if a.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


# ------------------------------------------------------------------ meta rules

def _dtype_or(dtype, default):
    return default if dtype is None else _dt.to_dtype(dtype)


def _acc_dtype(self, dtype):
    if dtype is not None:
        return _dt.to_dtype(dtype)
    return self.dtype if self.dtype.category >= _dt.FLOATING else _dt.int64


def _mean_dtype(self_dtype, dtype, name="mean"):
    d = self_dtype if dtype is None else _dt.to_dtype(dtype)
    if d.category < _dt.FLOATING:
        which = "Input" if dtype is None else "Optional"
        raise RuntimeError(f"{name}(): could not infer output dtype. {which} dtype must be "
                           f"either a floating point or complex dtype. Got: {d.short_name}")
    return d


def _float_dtype(self):
    return self.dtype if self.dtype.category == _dt.FLOATING else _dt.get_default_dtype()


def _var_check(self_dtype, name=None):
    """var / std refuse integers in one message; var_mean / std_mean name themselves."""
    if self_dtype.category < _dt.FLOATING:
        what = name if name in ("var_mean", "std_mean") else "std and var"
        raise RuntimeError(f"{what} only support floating point and complex dtypes")


def _bool_out(self):
    return _dt.uint8 if self.dtype is _dt.uint8 else _dt.bool


def _meta(self, dtype, dim=None, keepdim=False):
    return TensorMeta(dtype, reduce_shape(tuple(self.shape), dim, keepdim), self.device)


def _like(self, dtype=None):
    return TensorMeta(dtype or self.dtype, tuple(self.shape), self.device)


# ------------------------------------------------------------------ sum / mean / prod

@op("aten::sum(Tensor self, *, ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dtype=None: _meta(self, _acc_dtype(self, dtype)))
def sum_all(xp, self, dtype=None):
    self = _as_dtype(self, dtype)
    acc, out = _acc(self, dtype)
    r = _reduce_sum(self, None, acc)
    return r if acc == out else r.astype(out)


@op("aten::sum.dim_IntList(Tensor self, int[1]? dim, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dim, keepdim=False, dtype=None:
    _meta(self, _acc_dtype(self, dtype), dim, keepdim))
def sum_dim(xp, self, dim, keepdim=False, dtype=None):
    return _sum(self, _axes(dim, self.ndim), keepdim, dtype)


def _mean(xp, a, dim, keepdim, dtype):
    out = _mean_dtype(_dt._FROM_NP[a.dtype], dtype).np
    axes = _axes(dim, a.ndim)
    if out == _F16 and type(a) is np.ndarray:
        # PyTorch's CPU mean of Half: the float32 sum of the input cast to float32 (its
        # cascade order), / n in float32, then Half
        a = a.astype(_F32)
    s = _reduce_sum(a, axes, _F32 if out == _F16 else out, keepdim)
    n = _count(a.shape, axes)
    if n == 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (s / 0).astype(out)
    r = s / n
    return r if r.dtype == out else r.astype(out)


@op("aten::mean(Tensor self, *, ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dtype=None: _meta(self, _mean_dtype(self.dtype, dtype)))
def mean(xp, self, dtype=None):
    return _mean(xp, self, None, False, dtype)


@op("aten::mean.dim(Tensor self, int[1]? dim, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dim, keepdim=False, dtype=None:
    _meta(self, _mean_dtype(self.dtype, dtype), dim, keepdim))
def mean_dim(xp, self, dim, keepdim=False, dtype=None):
    return _mean(xp, self, dim, keepdim, dtype)


def _prod(a, axes, keepdim, dtype):
    a = _as_dtype(a, dtype)
    if type(a) is np.ndarray and a.dtype.kind == "f" and a.size > 1:
        return _cpu_float_prod(a, axes, keepdim)
    acc, out = _acc(a, dtype)
    r = a.prod(axes, acc, keepdims=keepdim)
    return r if acc == out else r.astype(out)


def _sequential_prod(x, axis):
    """The products along `axis` one after the other, each rounded to x's dtype (NumPy's
    multiply.reduce is sequential, but keeps a float16 product in float32 throughout).
    float16 along more than _F16_LOOP elements: a numba loop (compiled on first use,
    disk-cached), not one NumPy call per element (a (100000, 4) prod(0): 0.5 s)."""
    if x.dtype != _F16:
        return np.multiply.reduce(x, axis=axis)
    x = np.moveaxis(x, axis, 0)
    n = x.shape[0]
    if n > _F16_LOOP:
        if not _F16_PROD:
            from .numba_helpers import njit   # lazy: numba is imported now
            _F16_PROD.append(njit(_f16_prod_rows))    # cached under gpujit's cache directory
        rows = np.ascontiguousarray(x.reshape(n, -1).T, dtype=np.float64)
        out = np.empty(rows.shape[0], np.float64)
        _F16_PROD[0](rows, out)
        return out.astype(_F16).reshape(x.shape[1:])
    r = x[0].copy()
    for k in range(1, n):
        np.multiply(r, x[k], out=r)
    return r


_F16_LOOP = 64
_F16_PROD: list = []


def _f16_prod_rows(rows, out):
    """out[i]: the product of rows[i] (float16 values as float64) one after the other,
    each product rounded to float16 (a product of two float16 values is exact in float64;
    round to 11 significant bits, half to even, 2**-24 the quantum of the subnormals,
    past 65504 inf), as float16's own multiply rounds it."""
    for i in range(rows.shape[0]):
        r = rows[i, 0]
        for k in range(1, rows.shape[1]):
            p = r * rows[i, k]
            if p != 0.0 and math.isfinite(p):
                e = math.frexp(p)[1]
                q = math.ldexp(1.0, max(e - 11, -24))
                t = p / q
                f = math.floor(t)
                d = t - f
                if d > 0.5 or (d == 0.5 and f % 2.0 == 1.0):
                    f += 1.0
                p = math.copysign(f * q, p)     # (an underflow keeps its sign: -0.0)
                if abs(p) > 65504.0:
                    p = math.copysign(math.inf, p)
            r = p
        out[i] = r


def _cpu_float_prod(a, axes, keepdim):
    """A floating-point prod in PyTorch's CPU order and precision (binary_kernel_reduce_vec:
    every product rounded to the dtype, float16 too, so 300 * 300 is inf in float16 as in
    PyTorch). PyTorch visits each output's elements in memory order; where the innermost
    dim is reduced and contiguous, it takes each run of it 4 vectors of 32 bytes (16
    float16, 8 float32, 4 float64 lanes) at a time: lane-wise products over the blocks,
    then (v0 * v1) * (v2 * v3), the lanes in order, and the tail element by element.
    Elsewhere the products are sequential (NumPy's multiply.reduce is: no pairwise)."""
    nd = a.ndim
    red = set(range(nd)) if axes is None else set(axes)
    # the dims in memory order (outermost first), as TensorIterator orders them
    # (dims of size 1 last: they order nothing)
    order = sorted(range(nd), key=lambda d: -abs(a.strides[d]) if a.shape[d] > 1 else 1)
    keep = [d for d in order if d not in red]
    rdims = [d for d in order if d in red and a.shape[d] > 1]
    mem = [d for d in order if a.shape[d] > 1]
    out_shape = tuple(a.shape[d] for d in keep)
    v = a.transpose(keep + [d for d in order if d in red])
    m = int(np.prod(out_shape, dtype=np.int64))
    it = a.dtype.itemsize
    # the innermost reduced run: the trailing reduced dims that coalesce with unit stride
    inner = 1
    if rdims and mem[-1] in red and a.strides[mem[-1]] == it:
        inner, stride = 1, it
        for d in reversed(rdims):
            if a.strides[d] != stride:
                break
            inner *= a.shape[d]
            stride *= a.shape[d]
    total = _count(a.shape, None if axes is None else tuple(red))
    flat = np.ascontiguousarray(v).reshape(m, total)
    lanes = 32 // it
    block = 4 * lanes
    if inner < block:
        r = _sequential_prod(flat, 1)
    else:
        rows = flat.reshape(m, total // inner, inner)
        count = inner // block
        r = np.ones(m, a.dtype)
        for k in range(rows.shape[1]):
            row = rows[:, k]
            acc = _sequential_prod(row[:, :count * block].reshape(m, count, 4, lanes), 1)
            v4 = (acc[:, 0] * acc[:, 1]) * (acc[:, 2] * acc[:, 3])
            r = r * _sequential_prod(v4, 1)
            if count * block < inner:
                r = _sequential_prod(np.concatenate([r[:, None], row[:, count * block:]],
                                                    axis=1), 1)
    r = r.reshape(out_shape)
    if len(keep) > 1:
        r = r.transpose(np.argsort(keep))        # (the kept dims back in their own order)
    if keepdim:
        r = r.reshape(tuple(1 if d in red else a.shape[d] for d in range(nd)))
    return r


@op("aten::prod(Tensor self, *, ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dtype=None: _meta(self, _acc_dtype(self, dtype)))
def prod(xp, self, dtype=None):
    return _prod(self, None, False, dtype)


@op("aten::prod.dim_int(Tensor self, int dim, bool keepdim=False, *, "
    "ScalarType? dtype=None) -> Tensor", tags=_RED,
    meta=lambda self, dim, keepdim=False, dtype=None:
    _meta(self, _acc_dtype(self, dtype), dim, keepdim))
def prod_dim(xp, self, dim, keepdim=False, dtype=None):
    return _prod(self, _axes(dim, self.ndim), keepdim, dtype)


# ------------------------------------------------------------------ max / min

def _dim_extreme(xp, a, dim, keepdim, name):
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return a.copy(), xp.zeros((), _LONG)
    _check_nonempty(a, (d,), name)
    # (a keepdim that is no integer: a TypeError, which the entry point words as PyTorch's
    # parser, "max(): argument 'keepdim' (position 2) must be bool, not str")
    keepdim = bool(operator.index(keepdim))
    idx = getattr(a, "arg" + name)(axis=d, keepdims=keepdim)
    if type(a) is np.ndarray and a.dtype.kind == "f":
        # the value at that index (PyTorch's: max of [-0., 0.] is -0. at 0, NumPy's 0.)
        v = np.take_along_axis(a, idx if keepdim else np.expand_dims(idx, d), axis=d)
        v = v if keepdim else v.squeeze(d)
    else:
        v = getattr(a, name)(axis=d, keepdims=keepdim)
    return v, idx.astype(_LONG, copy=False)


def _dim_meta(self, dim, keepdim=False):
    shape = reduce_shape(tuple(self.shape), dim, keepdim)
    return (TensorMeta(self.dtype, shape, self.device),
            TensorMeta(_dt.int64, shape, self.device))


def _declare_extreme(name, ufunc):
    @op(f"aten::{name}(Tensor self) -> Tensor", tags=_RED,
        meta=lambda self: _meta(self, self.dtype))
    def full(xp, self):
        _check_nonempty(self, None, name)
        return getattr(self, name)()

    @op(f"aten::{name}.dim(Tensor self, int dim, bool keepdim=False) -> "
        "(Tensor values, Tensor indices)", tags=_RED, meta=_dim_meta)
    def dim_(xp, self, dim, keepdim=False):
        return _dim_extreme(xp, self, dim, keepdim, name)

    @op(f"aten::{name}.other(Tensor self, Tensor other) -> Tensor", tags={"pointwise"},
        scalar=f"{ufunc}({{self}}, {{other}})")
    def other(xp, self, other):
        # NaN-propagating, and a tie of signed zeros keeps self (torch.max(-0., 0.) is
        # -0.), as torch.maximum and the fused kernels
        from .scalar import tie_first
        return tie_first(xp, ufunc, self, other)

    full.__name__, dim_.__name__, other.__name__ = name, f"{name}_dim", f"{name}_other"
    return full, dim_, other


max_, max_dim, max_other = _declare_extreme("max", "maximum")
min_, min_dim, min_other = _declare_extreme("min", "minimum")


def _amax_meta(self, dim=(), keepdim=False):
    return _meta(self, self.dtype, dim, keepdim)


def _aminmax_red(a, dim, keepdim, name, fn):
    axes = _axes(dim, a.ndim)
    _check_nonempty(a, axes, name)
    return fn(a, axis=axes, keepdims=keepdim)


@op("aten::amax(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor", tags=_RED,
    meta=_amax_meta)
def amax(xp, self, dim=(), keepdim=False):
    return _aminmax_red(self, dim, keepdim, "amax", type(self).max)


@op("aten::amin(Tensor self, int[1] dim=[], bool keepdim=False) -> Tensor", tags=_RED,
    meta=_amax_meta)
def amin(xp, self, dim=(), keepdim=False):
    return _aminmax_red(self, dim, keepdim, "amin", type(self).min)


def _aminmax_meta(self, dim=None, keepdim=False):
    m = _meta(self, self.dtype, dim, keepdim)
    return m, m


@op("aten::aminmax(Tensor self, *, int? dim=None, bool keepdim=False) -> "
    "(Tensor min, Tensor max)", tags=_RED, meta=_aminmax_meta)
def aminmax(xp, self, dim=None, keepdim=False):
    axes = _axes(dim, self.ndim)
    if self.size == 0 and (axes is None or any(self.shape[d] == 0 for d in axes)):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    return self.min(axis=axes, keepdims=keepdim), self.max(axis=axes, keepdims=keepdim)


def _arg_meta(self, dim=None, keepdim=False):
    if dim is None and keepdim:
        return TensorMeta(_dt.int64, (1,) * len(self.shape), self.device)
    return _meta(self, _dt.int64, dim, keepdim)


def _arg_extreme(xp, a, dim, keepdim, name, argfn):
    if a.dtype == _BOOL:
        raise RuntimeError(f"{name}(): does not support bool input")     # (torch 2.13)
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             f"input.numel() == 0.")
        r = argfn(a.reshape(-1))
        if keepdim:
            r = xp.reshape(r, (1,) * a.ndim)
    else:
        d = wrap_dim(dim, a.ndim)
        if a.ndim == 0:
            return xp.zeros((), _LONG)
        _check_nonempty(a, (d,), name)
        r = argfn(a, axis=d, keepdims=keepdim)
    return xp.asarray(r).astype(_LONG, copy=False)


@op("aten::argmax(Tensor self, int? dim=None, bool keepdim=False) -> Tensor", tags=_RED,
    meta=_arg_meta)
def argmax(xp, self, dim=None, keepdim=False):
    return _arg_extreme(xp, self, dim, keepdim, "argmax", type(self).argmax)


@op("aten::argmin(Tensor self, int? dim=None, bool keepdim=False) -> Tensor", tags=_RED,
    meta=_arg_meta)
def argmin(xp, self, dim=None, keepdim=False):
    return _arg_extreme(xp, self, dim, keepdim, "argmin", type(self).argmin)


# ------------------------------------------------------------------ logsumexp

def _as_float(a):
    """Integer/bool input -> the default float dtype (torch's promotion for logsumexp)."""
    if a.dtype.kind != "f":
        return a.astype(_dt.get_default_dtype().np)
    return a


@op("aten::logsumexp(Tensor self, int[1] dim, bool keepdim=False) -> Tensor", tags=_RED,
    meta=lambda self, dim, keepdim=False: _meta(self, _float_dtype(self), dim, keepdim))
def logsumexp(xp, self, dim, keepdim=False):
    a = _as_float(self)
    out = a.dtype
    x = a.astype(_F32) if out == _F16 else a
    axes = _axes(dim, x.ndim)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if x.size and not keepdim and x.ndim and isinstance(dim, (list, tuple)) and \
                not len(dim):
            # (PyTorch's dim=() reduces every dim, keeping them, into a 0-dim result)
            raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                               f"[{', '.join('1' * x.ndim)}]")
        if x.size == 0:
            return xp.log(xp.exp(x).sum(axes, keepdims=keepdim)).astype(out)
        m = x.max(axes, keepdims=True)
        m = xp.where(xp.isinf(m), xp.zeros_like(m), m)   # all -inf -> -inf, +inf -> inf
        if out == _F16:
            # PyTorch's composite (amax, sub, exp_, sum, log_, add_): each step a float16
            # result, rounded (the sum accumulating in float32)
            def h(v):
                return v.astype(_F16).astype(_F32)
            r = h(h(xp.log(h(h(xp.exp(h(x - m))).sum(axes, keepdims=True)))) + m)
        else:
            # (the sum of exp(x - m): sum's, in PyTorch's CPU order for float32 / float64)
            r = xp.log(_reduce_sum(xp.exp(x - m), axes, x.dtype, True)) + m
    if not keepdim:
        r = r.reshape(reduce_shape(x.shape, dim, False))
    return r.astype(out, copy=False)


# ------------------------------------------------------------------ all / any

def _declare_bool_reduction(name):
    def compute(a, dim, keepdim):
        r = getattr(a, name)(axis=_axes(dim, a.ndim), keepdims=keepdim)
        return r.astype(_U8) if a.dtype == _U8 else r

    def meta(self, dim=None, keepdim=False):
        return _meta(self, _bool_out(self), dim, keepdim)

    @op(f"aten::{name}(Tensor self) -> Tensor", tags=_RED, meta=meta)
    def plain(xp, self):
        return compute(self, None, False)

    @op(f"aten::{name}.dim(Tensor self, int dim, bool keepdim=False) -> Tensor", tags=_RED,
        meta=meta)
    def one(xp, self, dim, keepdim=False):
        return compute(self, dim, keepdim)

    def meta_dims(self, dim=None, keepdim=False):
        if dim is not None and not len(dim):
            return TensorMeta(_bool_out(self), tuple(self.shape), self.device)
        return meta(self, dim, keepdim)

    @op(f"aten::{name}.dims(Tensor self, int[]? dim=None, bool keepdim=False) -> Tensor",
        tags=_RED, meta=meta_dims)
    def several(xp, self, dim=None, keepdim=False):
        if dim is not None and not len(dim):
            # (PyTorch 2.13's all.dims / any.dims reduce no dim for an empty list, where
            # sum's dim=[] is every dim): each element's truth
            r = self != 0
            return r.astype(_U8) if self.dtype == _U8 else r
        return compute(self, dim, keepdim)

    plain.__name__, one.__name__, several.__name__ = name, f"{name}_dim", f"{name}_dims"

    def out_check(outs):
        # (PyTorch's all / any out= take a bool or a uint8 result tensor only)
        dt = outs[0].dtype
        if dt is not _dt.bool and dt is not _dt.uint8:
            raise RuntimeError(f"{name} only supports bool tensor for result, got: "
                               f"{dt.short_name}")
    for f in (plain, one, several):
        f.op.out_check = out_check
    return plain, one, several


all_, all_dim, all_dims = _declare_bool_reduction("all")
any_, any_dim, any_dims = _declare_bool_reduction("any")


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops so that a backward can itself be
# recorded (create_graph=True). Formulas and the choices at ties are PyTorch's
# (tools/autograd/derivatives.yaml, FunctionsManual.cpp).
from .registry import derivative as _derivative  # noqa: E402


def _reduced(ndim, dim):
    """The dims a reduction over `dim` removes, wrapped and sorted (all for None or [])."""
    if dim is None:
        return list(range(ndim))
    dims = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
    if not dims:
        return list(range(ndim))
    return sorted(d % ndim for d in dims) if ndim else []


def _keep(t, ndim, dim, keepdim):
    """A reduction's output (or its gradient) with the reduced dims put back at size 1, so
    that it broadcasts against the input."""
    if keepdim:
        return t
    for d in _reduced(ndim, dim):
        t = t.unsqueeze(d)
    return t


def _reduced_count(self, dim):
    return _count(tuple(self.shape), tuple(_reduced(self.dim(), dim)))


# sum and mean need only the input's shape (self_shape): they keep no tensor alive


def _sum_grad_raw(xp, grad, self_shape):
    # (Derivative.raw: grad.expand(self_shape) is expand's impl on the array, as its eager
    # entry point runs it: the same strided view)
    if xp is np and grad.ndim == 0 and type(grad) is np.ndarray:
        # (a 0-dim gradient, sum()'s: every stride of the expansion is 0, size-1 dims'
        # too; a read-only view of grad's element as np.broadcast_to's, made by the
        # ndarray constructor: ~0.7 us, broadcast_to's ~3 us)
        r = np.ndarray(self_shape, grad.dtype, grad, 0, (0,) * len(self_shape))
        r.flags.writeable = False
        return r
    from .views import expand
    return expand(xp, grad, list(self_shape))


@_derivative(sum_all, raw=_sum_grad_raw)
def _sum_grad(grad, self_shape):
    return grad.expand(self_shape)


@_derivative(sum_dim)
def _sum_dim_grad(grad, self_shape, dim, keepdim):
    return _keep(grad, len(self_shape), dim, keepdim).expand(self_shape)


from .node_names import aten_scalars as _aten_scalars  # noqa: E402


@_derivative(mean)
def _mean_grad(grad, self_shape):
    # (ATen's mean_backward divides by the count, a Scalar: DivBackward1 when recorded)
    with _aten_scalars():
        return grad.expand(self_shape) / max(_count(self_shape, tuple(range(len(self_shape)))),
                                             1)


@_derivative(mean_dim)
def _mean_dim_grad(grad, self_shape, dim, keepdim):
    n = _count(tuple(self_shape), tuple(_reduced(len(self_shape), dim)))
    with _aten_scalars():
        return _keep(grad, len(self_shape), dim, keepdim).expand(self_shape) / max(n, 1)


def _prod_backward(grad, self, d):
    """d prod(x along d) / dx_i is the product of the others: the exclusive cumulative
    products from both ends, which stay right where x has zeros (grad * result / x would
    divide by them). grad has size 1 along d."""
    n = self.shape[d]
    if n == 0:
        return grad.expand(self.shape)
    ones = self.new_ones([1 if i == d else s for i, s in enumerate(self.shape)])
    left = _cat([ones, self.narrow(d, 0, n - 1)], d).cumprod(d)
    right = _cat([ones, self.narrow(d, 1, n - 1).flip(d)], d).cumprod(d).flip(d)
    return grad * (left * right)


def _cat(tensors, d):
    import gpujit    # the package sits above the registry: imported when a backward runs
    return gpujit.cat(tensors, d)


# PyTorch's prod_backward: grad * (result / self) when self holds no zero (a data-dependent
# test, as ATen's .item()), else prod_safe_zeros_backward (_prod_backward); the safe form
# everywhere was an ulp off in ~15% of values
@_derivative(prod)
def _prod_grad(grad, self, result):
    if self.dim() == 0:
        return grad
    if not bool((self == 0).any()):
        return grad * (result / self)
    return _prod_backward(grad.reshape(1), self.reshape(-1), 0).reshape(self.shape)


@_derivative(prod_dim)
def _prod_dim_grad(grad, self, result, dim, keepdim):
    if self.dim() == 0:
        return grad
    d = dim % self.dim()
    grad = _keep(grad, self.dim(), d, keepdim)
    if not bool((self == 0).any()):
        return grad * (_keep(result, self.dim(), d, keepdim) / self)
    return _prod_backward(grad, self, d)


def _ties(self, value):
    """Where self equals the max/min `value` (NaN matching NaN): the elements that share
    its gradient."""
    return (self == value).logical_or(self.isnan().logical_and(value.isnan()))


@_derivative(max_, min_)
def _extreme_grad(grad, self, result):
    # ties share the gradient evenly (torch's evenly_distribute_backward)
    mask = _ties(self, result)
    return mask * (grad / mask.sum())


@_derivative(max_dim, min_dim)
def _extreme_dim_grad(grad, self_shape, dim, keepdim, result):
    # the gradient goes to the index returned (value_selecting_reduction_backward); only
    # the input's shape is kept, so writing into the input afterwards is no error
    g = grad[0]
    nd = len(self_shape)
    if nd == 0:
        return g
    d = dim % nd
    index = _keep(result[1], nd, d, keepdim)
    return g.new_zeros(self_shape).scatter(d, index, _keep(g, nd, d, keepdim))


@_derivative(max_other)
def _max_other_grad(grad, self, other):
    # ties split the gradient in half between the operands, as torch.maximum
    g = (grad / 2).where(self == other, grad)
    return g.masked_fill(self < other, 0), g.masked_fill(self > other, 0)


@_derivative(min_other)
def _min_other_grad(grad, self, other):
    g = (grad / 2).where(self == other, grad)
    return g.masked_fill(self > other, 0), g.masked_fill(self < other, 0)


def _amax_backward(grad, self, value, dim, keepdim):
    """amax/amin: the gradient shared evenly among the elements equal to the extreme of
    their slice (torch's scale_grad_by_count, its mask `result == self`: a slice whose
    extreme is NaN has no element equal to it, and its gradient is NaN all along, 0 / 0,
    where max()'s evenly_distribute_backward gives it to the NaNs)."""
    nd = self.dim()
    mask = self == _keep(value, nd, dim, keepdim)
    count = mask.sum(_reduced(nd, dim), keepdim=True)
    return mask * (_keep(grad, nd, dim, keepdim) / count)


@_derivative(amax, amin)
def _amax_grad(grad, self, result, dim, keepdim):
    return _amax_backward(grad, self, result, dim, keepdim)


@_derivative(aminmax)
def _aminmax_grad(grad, self, result, dim, keepdim):
    return (_amax_backward(grad[0], self, result[0], dim, keepdim) +
            _amax_backward(grad[1], self, result[1], dim, keepdim))




@_derivative(logsumexp)
def _logsumexp_grad(grad, self, result, dim, keepdim):
    nd = self.dim()
    return _keep(grad, nd, dim, keepdim) * (self - _keep(result, nd, dim, keepdim)).exp()
