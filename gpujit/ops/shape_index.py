"""Index-driven shape ops: gather, scatter (src/value, reduce=), scatter_add, index_select,
index_fill, index_add (take, take_along_dim, the masked ops and nonzero are
shape_select.py's, on the helpers here).

Scatters work on linear indices into a C-contiguous result: `add_at` / `mul_at` below do
the duplicate-index accumulation with NumPy's `ufunc.at` on the CPU and with CuPy's atomic
`add.at` (or a segmented product) on the GPU. Index bounds are checked on the CPU, as in
PyTorch (on CUDA PyTorch raises a device-side assert; CuPy wraps indices instead).
"""
from __future__ import annotations

from math import prod as _numel

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, wrap_dim
from .registry import op
from .overlap import no_overlap
from . import bounds as _bounds
from . import memory_format as _mf

PUBLIC = {}

_SHAPE = {"shape"}
_INPLACE = {"inplace"}


def _dt_of(a):
    return _dt.from_numpy_dtype(a.dtype)


def _nd1(shape):
    """PyTorch treats a 0-dim tensor as 1-dim in gather/scatter shape checks."""
    return tuple(shape) if len(shape) else (1,)


def _scalar(v):
    return v.item() if hasattr(v, "item") and not isinstance(v, (bool, int, float)) else v


def cast_scalar(value, npdtype):
    """A Python scalar converted like PyTorch's fill: wrapping into small int types only
    where c10's checked conversion does (uint8 fill -1 is 255), else its overflow error."""
    value = _scalar(value)
    if npdtype == np.bool_:
        return bool(value)
    npdtype = np.dtype(npdtype)
    if isinstance(value, (complex, np.complexfloating)):
        if npdtype.kind == "c":
            return complex(value)
        if value.imag:      # (c10's checked conversion of a complex to a real type)
            raise RuntimeError(f"value cannot be converted to type "
                               f"{_C10_NAMES[npdtype.name]} without overflow")
        value = value.real
    if _overflows(value, npdtype):
        raise RuntimeError(f"value cannot be converted to type {_C10_NAMES[npdtype.name]} "
                           f"without overflow")
    with np.errstate(all="ignore"):
        return np.asarray(value).astype(npdtype).item()


_C10_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double",
              "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
              "int64": "int64_t"}
_C10_NAMES.update(uint16="uint16_t", uint32="uint32_t", uint64="uint64_t")


def _overflows(value, npdtype) -> bool:
    """c10::overflows: a finite value outside the dtype's range (inf and NaN convert to
    floating types; a negative int converts to an unsigned type when its magnitude fits,
    as -1 to 255)."""
    if isinstance(value, (bool, np.bool_)) or npdtype.name not in _C10_NAMES:
        return False
    if npdtype.kind == "f":
        if value != value or value in (float("inf"), float("-inf")):
            return False
        info = np.finfo(npdtype)
        return not float(info.min) <= float(value) <= float(info.max)
    info = np.iinfo(npdtype)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return True
        # (c10 compares in double, where int64's max rounds up to 2 ** 63: 2.0 ** 63
        # passes and converts to -2 ** 63, as torch's index_fill(0, i, 2.0 ** 63); a
        # negative float never fits an unsigned type: only an int wraps there)
        return not float(info.min) <= value <= float(info.max)
    if info.min == 0 and value < 0:             # unsigned: -1 is all ones
        return -value > info.max
    return not info.min <= value <= info.max


# ------------------------------------------------------------------ accumulation helpers

_CUPY_ADD_AT = {np.dtype(t) for t in (np.int32, np.uint32, np.uint64, np.float16, np.float32,
                                      np.float64)}


def add_at(xp, a, idx, v):
    """a[idx] += v with repeated indices accumulating (in place on a)."""
    if xp is np:
        np.add.at(a, idx, v)
        return
    dt = a.dtype
    if dt in _CUPY_ADD_AT:
        xp.add.at(a, idx, xp.asarray(v, dtype=dt))
    elif dt == np.int64:          # two's complement: the uint64 atomic add is the same
        xp.add.at(a.view(np.uint64), idx, xp.asarray(v, dtype=np.int64).view(np.uint64))
    else:                         # int8/int16/uint8/bool: accumulate in int32
        tmp = a.astype(np.int32)
        xp.add.at(tmp, idx, xp.asarray(v).astype(np.int32))
        a[...] = (tmp != 0) if dt == np.bool_ else tmp.astype(dt)


def mul_at(xp, flat, lin, v):
    """flat[lin] *= v with repeated (1-D, linear) indices multiplying: a segmented product
    over the sorted indices by doubling (log2(n) vector steps; no ufunc.at on CuPy)."""
    n = lin.shape[0]
    if n == 0:
        return
    order = xp.argsort(lin, **({"kind": "stable"} if xp is np else {}))
    sl = lin[order]
    p = xp.asarray(v)[order].astype(flat.dtype, copy=True)
    start = xp.ones(n, dtype=bool)
    start[1:] = sl[1:] != sl[:-1]
    gid = xp.cumsum(start) - 1
    k = 1
    while k < n:
        same = gid[k:] == gid[:-k]
        p[k:] = xp.where(same, p[k:] * p[:-k], p[k:])
        k *= 2
    last = xp.ones(n, dtype=bool)
    last[:-1] = sl[1:] != sl[:-1]
    tgt = sl[last]
    flat[tgt] = flat[tgt] * p[last]


def check_bounds(xp, idx, size, dim, exc=RuntimeError, msg=None, negative=False):
    """PyTorch's bounds check for an index tensor, on both devices (bounds.check: CuPy
    wraps out-of-bounds indices around instead of raising; one sync on the GPU)."""
    _bounds.check(xp, idx, size, dim, exc, msg or _bounds.DEFAULT_MSG, negative)


TAKE_MSG = "out of range: tried to access index {index} on a tensor of {size} elements."


def _check_index_dtype(name, idx_dt, allow_int32=False, want=None, exc=RuntimeError,
                       end=""):
    if idx_dt is not _dt.int64 and not (allow_int32 and idx_dt is _dt.int32):
        want = want or ("int32 or int64" if allow_int32 else "int64")
        raise exc(f"{name}(): Expected dtype {want} for index{end}")


# ------------------------------------------------------------------ gather

def gather_rule(self_shape, dim, idx_shape, idx_dt):
    _check_index_dtype("gather", idx_dt, allow_int32=True, want="int32/int64")
    s, i = _nd1(self_shape), _nd1(idx_shape)
    d = wrap_dim(dim, len(self_shape))
    if len(s) != len(i):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    for k in range(len(s)):
        if k != d and i[k] is not None and s[k] is not None and i[k] > s[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(idx_shape)} to be smaller than self "
                               f"{list(self_shape)} apart from dimension {d}")
    return d


@op("aten::gather(Tensor self, int dim, Tensor index, *, bool sparse_grad=False) -> Tensor",
    tags=_SHAPE,
    meta=lambda self, dim, index, sparse_grad=False: (
        gather_rule(self.shape, dim, index.shape, index.dtype),
        TensorMeta(self.dtype, tuple(index.shape), self.device))[1])
def gather(xp, self, dim, index, sparse_grad=False):
    d = gather_rule(self.shape, dim, index.shape, _dt_of(index))
    a, idx = self.reshape(_nd1(self.shape)), index.reshape(_nd1(index.shape))
    if idx.size == 0:
        return xp.empty(index.shape, self.dtype)
    check_bounds(xp, idx, a.shape[d], d)
    sub = a[tuple(slice(None) if k == d else slice(0, idx.shape[k]) for k in range(a.ndim))]
    return xp.take_along_axis(sub, idx, axis=d).reshape(index.shape)


# ------------------------------------------------------------------ scatter

def scatter_rule(name, self_shape, self_dt, dim, idx_shape, idx_dt, src_shape=None,
                 src_dt=None, reduce=None):
    # (scatter_add / scatter_reduce share scatter's index check, and its name)
    _check_index_dtype("scatter", idx_dt, allow_int32=True, want="int32/int64")
    if src_dt is not None and src_dt is not self_dt:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    d = wrap_dim(dim, len(self_shape))
    if _numel(idx_shape) == 0:
        return d
    s, i = _nd1(self_shape), _nd1(idx_shape)
    if len(i) != len(s):
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    if src_shape is not None and len(_nd1(src_shape)) != len(i):
        raise RuntimeError("Index tensor must have the same number of dimensions as src "
                           "tensor")
    src = _nd1(src_shape) if src_shape is not None else None
    for k in range(len(i)):
        if (k != d and i[k] > s[k]) or (src is not None and i[k] > src[k]):
            extra = (f" and to be smaller size than src {list(src_shape)}"
                     if src is not None else "")
            raise RuntimeError(f"Expected index {list(idx_shape)} to be smaller than self "
                               f"{list(self_shape)} apart from dimension {d}{extra}")
    return d


def _linear_index(xp, idx, d, out_shape):
    """Linear positions in a C-contiguous array of out_shape of (…, idx[…], …) along d."""
    strides = [1] * len(out_shape)
    for k in range(len(out_shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * out_shape[k + 1]
    lin = idx.astype(np.int64) * strides[d]
    for k, n in enumerate(idx.shape):
        if k != d and n != 1:
            shape = [1] * idx.ndim
            shape[k] = n
            lin = lin + (xp.arange(n, dtype=np.int64) * strides[k]).reshape(shape)
    return xp.broadcast_to(lin, idx.shape).reshape(-1)


def scatter_into(xp, out, d, index, src, reduce):
    """Scatter into out (C-contiguous, modified in place). src: array or Python scalar."""
    if index.size == 0:
        return out
    o = out.reshape(-1)
    oshape = _nd1(out.shape)
    idx = index.reshape(_nd1(index.shape))
    check_bounds(xp, idx, oshape[d], d)
    lin = _linear_index(xp, idx, d, oshape)
    if hasattr(src, "shape"):
        s = src.reshape(_nd1(src.shape))
        vals = s[tuple(slice(0, n) for n in idx.shape)].reshape(-1)
    else:
        vals = xp.full(lin.shape, cast_scalar(src, out.dtype), dtype=out.dtype)
    if reduce is None:
        _bounds.assign(xp, o, lin, vals)
    elif reduce == "add":
        add_at(xp, o, lin, vals)
    else:
        mul_at(xp, o, lin, vals)
    return out


def _scatter_out(xp, self, inplace):
    """The C-contiguous array a scatter writes: a copy, or self when it can be."""
    if not inplace:
        return xp.array(self, copy=True, order="C")
    return self if self.flags.c_contiguous else xp.ascontiguousarray(self)


def _finish(self, out, inplace):
    if inplace:
        if out is not self:
            self[...] = out
        return self
    return out


_REDUCE_WARNED: list = []


def _declare_scatter(name, overload, value_kind, reduce_kw, inplace):
    qual = f"aten::{name}{'_' if inplace else ''}.{overload}" if overload else \
        f"aten::{name}{'_' if inplace else ''}"
    self_t = "Tensor(a!) self" if inplace else "Tensor self"
    ret = "Tensor(a!)" if inplace else "Tensor"
    val = "Tensor src" if value_kind == "src" else "Scalar value"
    red = ", *, str reduce" if reduce_kw else ""
    schema = f"{qual}({self_t}, int dim, Tensor index, {val}{red}) -> {ret}"
    opname = name + ("_" if inplace else "")
    fixed_reduce = "add" if name == "scatter_add" else None

    def meta(self, dim, index, value, reduce=None):
        src = value if value_kind == "src" else None
        scatter_rule(opname, self.shape, self.dtype, dim, index.shape, index.dtype,
                     src.shape if src is not None else None,
                     src.dtype if src is not None else None, reduce)
        return TensorMeta(self.dtype, tuple(self.shape), self.device)

    @op(schema, tags=_INPLACE if inplace else _SHAPE, function=not inplace, meta=meta,
        name=opname)
    def impl(xp, self, dim, index, value, reduce=None):
        src = value if value_kind == "src" else None
        if src is None:
            value = _scalar(value)
        elif reduce_kw and not _REDUCE_WARNED:
            _REDUCE_WARNED.append(True)     # (PyTorch's TORCH_WARN_ONCE)
            import warnings
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=3)
        d = scatter_rule(opname, self.shape, _dt_of(self), dim, index.shape, _dt_of(index),
                         src.shape if src is not None else None,
                         _dt_of(src) if src is not None else None, reduce)
        if inplace and src is not None:
            value = no_overlap(xp, self, value)
        out = _scatter_out(xp, self, inplace)
        scatter_into(xp, out, d, index, value, reduce or fixed_reduce)
        return _finish(self, out, inplace)
    impl.__name__ = qual.split("::")[1].replace(".", "_")
    return impl


for _inpl in (False, True):
    _declare_scatter("scatter", "src", "src", False, _inpl)
    _declare_scatter("scatter", "value", "value", False, _inpl)
    _declare_scatter("scatter", "reduce", "src", True, _inpl)
    _declare_scatter("scatter", "value_reduce", "value", True, _inpl)
    _declare_scatter("scatter_add", "", "src", False, _inpl)


# ------------------------------------------------------------------ index_select / fill / add

def _index_vector(name, idx_shape):
    if len(idx_shape) > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")


def index_select_rule(self_shape, dim, idx_shape, idx_dt):
    _check_index_dtype("index_select", idx_dt, allow_int32=True)
    _index_vector("index_select", idx_shape)
    d = wrap_dim(dim, len(self_shape))
    n = _numel(idx_shape) if None not in idx_shape else None
    if len(self_shape) == 0:
        if n is not None and n != 1:
            raise IndexError(f"index_select(): Index to scalar can have only 1 value, got "
                             f"{n} value(s)")
        return d, ()
    return d, tuple(n if k == d else s for k, s in enumerate(self_shape))


@op("aten::index_select(Tensor self, int dim, Tensor index) -> Tensor", tags=_SHAPE,
    meta=lambda self, dim, index: TensorMeta(
        self.dtype, index_select_rule(self.shape, dim, index.shape, index.dtype)[1],
        self.device))
def index_select(xp, self, dim, index):
    d, shape = index_select_rule(self.shape, dim, index.shape, _dt_of(index))
    a = self.reshape(_nd1(self.shape))
    idx = index.reshape(-1)
    if xp is np and a.ndim > 1 and d != 0 and idx.size:
        # (PyTorch's CPU kernel along another dim than 0 checks each index in turn, in
        # its own words)
        bad = (idx < 0) | (idx >= a.shape[d])
        if bad.any():
            raise RuntimeError(f"INDICES element is out of DATA bounds, id="
                               f"{int(idx[bad.argmax()])} axis_dim={a.shape[d]}")
    check_bounds(xp, idx, a.shape[d], d, IndexError, "index out of range in self")
    return xp.take(a, idx, axis=d).reshape(shape)


def _index_fill_rule(name, self_shape, dim, idx_shape, idx_dt):
    _check_index_dtype(name.rstrip("_") + "_", idx_dt, exc=IndexError,   # (PyTorch's words)
                       end=".")
    if len(idx_shape) > 1:
        # (torch 2.13: a RuntimeError in these words, no op name; x.index_fill(1, i2d, v))
        raise RuntimeError("Index has to be a vector/scalar")
    return wrap_dim(dim, len(self_shape))


def _declare_index_fill(overload, inplace):
    name = "index_fill_" if inplace else "index_fill"
    self_t, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")
    val = "Scalar value" if overload == "int_Scalar" else "Tensor value"

    @op(f"aten::{name}.{overload}({self_t}, int dim, Tensor index, {val}) -> {ret}",
        tags=_INPLACE if inplace else _SHAPE, function=not inplace, name=name,
        meta=lambda self, dim, index, value: (
            _index_fill_rule(name, self.shape, dim, index.shape, index.dtype),
            TensorMeta(self.dtype, tuple(self.shape), self.device))[1])
    def impl(xp, self, dim, index, value):
        d = _index_fill_rule(name, self.shape, dim, index.shape, _dt_of(index))
        if overload == "int_Tensor" and value.ndim != 0:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        # (PyTorch's index_fill is self.clone(preserve_format).index_fill_: a transposed
        # self gives a transposed result)
        out = self if inplace else _mf.keep_strides(
            xp, _mf.copy_in(xp, self, _mf.order_for(self, _mf.PRESERVE)), self)
        a = out.reshape(_nd1(out.shape)) if out.ndim == 0 else out
        idx = index.reshape(-1)
        check_bounds(xp, idx, a.shape[d], d, IndexError, negative=True)
        # (a value tensor is read as a number, as PyTorch's value.item(): checked against
        # self's dtype as the Scalar overload's, int8 300 raising rather than wrapping)
        v = cast_scalar(value.item() if overload == "int_Tensor" else value, out.dtype)
        a[(slice(None),) * d + (idx,)] = v
        return out
    impl.__name__ = f"{name}_{overload}"
    return impl


for _inpl in (False, True):
    _declare_index_fill("int_Scalar", _inpl)
    _declare_index_fill("int_Tensor", _inpl)


def index_add_rule(name, self_shape, self_dt, dim, idx_shape, idx_dt, src_shape, src_dt):
    """index_add's checks, in the order and words of PyTorch's index_func_meta_impl (every
    message names the in-place form, index_add_())."""
    func = name.rstrip("_") + "_"
    d = wrap_dim(dim, len(self_shape))
    if len(idx_shape) > 1:
        raise IndexError(f"{func}(): Index is supposed to be a vector, but got dim: "
                         f"{len(idx_shape)} with type: {idx_dt.short_name} and size: "
                         f"{list(idx_shape)}")
    if idx_dt is not _dt.int64 and idx_dt is not _dt.int32:
        raise RuntimeError(f"{func}(): Expected dtype int32/int64 for index but got: "
                           f"{idx_dt.short_name}")
    if src_dt is not self_dt:
        raise RuntimeError(f"{func}(): self ({self_dt.short_name}) and source "
                           f"({src_dt.short_name}) must have the same scalar type")
    if not (d == 0 or d < len(src_shape)):
        raise RuntimeError(f"{func}(): Indexing dim {d} is out of bounds of the source tensor "
                           f"with dim {len(src_shape)}")
    n = _numel(idx_shape)
    k = src_shape[d] if src_shape else 1
    if n != k:
        raise RuntimeError(f"{func}(): Number of indices ({n}) should be equal to "
                           f"source.size(dim): ({k}), for dim: {d}")
    s, src = list(self_shape), list(src_shape)
    if s and src:
        del s[d], src[d]
    if s != src:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(self_shape)} "
                           f"source.shape = {list(src_shape)}")
    return d


def _declare_index_add(inplace):
    name = "index_add_" if inplace else "index_add"
    self_t, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")

    @op(f"aten::{name}({self_t}, int dim, Tensor index, Tensor source, *, Scalar alpha=1) "
        f"-> {ret}", tags=_INPLACE if inplace else _SHAPE, function=not inplace,
        meta=lambda self, dim, index, source, alpha=1: (
            index_add_rule(name, self.shape, self.dtype, dim, index.shape, index.dtype,
                           source.shape, source.dtype),
            TensorMeta(self.dtype, tuple(self.shape), self.device))[1])
    def impl(xp, self, dim, index, source, alpha=1):
        d = index_add_rule(name, self.shape, _dt_of(self), dim, index.shape, _dt_of(index),
                           source.shape, _dt_of(source))
        out = self if inplace else self.copy()
        if inplace:
            source = no_overlap(xp, self, source)
        a = out.reshape(_nd1(out.shape)) if out.ndim == 0 else out
        idx = index.reshape(-1)
        # (ATen's CPU kernel of a self of one dim or none checks each index in its own
        # words: index_add_(0, [5], ...) of 3 elements is an IndexError)
        check_bounds(xp, idx, a.shape[d], d, *((IndexError, "index out of range in self")
                                                if a.ndim <= 1 else ()))
        src = source.reshape(_nd1(source.shape))
        alpha = _scalar(alpha)
        if alpha != 1:
            src = (src * alpha).astype(out.dtype)
        add_at(xp, a, (slice(None),) * d + (idx,), src)
        return out
    impl.__name__ = name
    return impl


index_add = _declare_index_add(False)
index_add_ = _declare_index_add(True)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops: a gradient that goes back to
# picked positions is added into zeros (scatter_add / index_add / index_put_ on a fresh
# tensor); a gradient of overwritten positions is masked out (scatter / index_fill of 0)
from .registry import derivative as _derivative
from .derivatives import not_implemented as _not_implemented  # noqa: E402


def _zeros(shape, like):
    import gpujit
    return gpujit.zeros(tuple(shape), dtype=like.dtype, device=like.device)


def _pad_to(g, shape):
    """g (the gradient of the leading index.shape block of src) padded with zeros to src's
    shape: src entries beyond the index's extent were not used."""
    import gpujit
    for k, (have, want) in enumerate(zip(tuple(g.shape), tuple(shape))):
        if have < want:
            zshape = list(g.shape)
            zshape[k] = want - have
            g = gpujit.cat([g, _zeros(zshape, g)], k)
    return g


def _head(t, shape):
    """The leading block of t of the given shape (the src entries a scatter reads)."""
    for k, n in enumerate(tuple(shape)):
        if t.shape[k] != n:
            t = t.narrow(k, 0, n)
    return t


@_derivative(gather, wrt=("self",))
def _gather_grad(grad, self, dim, index):
    return _zeros(self.shape, grad).scatter_add(dim, index, grad)


def _src_grad(grad, dim, index, src_shape):
    return _pad_to(grad.gather(dim, index), src_shape)


@_derivative("aten::scatter.src", "aten::scatter_.src", wrt=("self", "src"))
def _scatter_src_grad(grad, dim, index, src_shape):
    return grad.scatter(dim, index, 0), _src_grad(grad, dim, index, src_shape)


@_derivative("aten::scatter.value", "aten::scatter_.value", wrt=("self",))
def _scatter_value_grad(grad, dim, index):
    return grad.scatter(dim, index, 0)


@_derivative("aten::scatter_add", "aten::scatter_add_", wrt=("self", "src"))
def _scatter_add_grad(grad, dim, index, src_shape):
    return grad, _src_grad(grad, dim, index, src_shape)


# PyTorch 2.13 records scatter with reduce= (a Tensor src or a value) without a derivative:
# its NotImplemented node, whose backward raises these words
_not_implemented("aten::scatter.reduce", "aten::scatter.value_reduce",
                 message="derivative for aten::scatter is not implemented")
_not_implemented("aten::scatter_.reduce", "aten::scatter_.value_reduce",
                 message="derivative for aten::scatter_ is not implemented")


@_derivative(index_select, wrt=("self",))
def _index_select_grad(grad, self_shape, dim, index):
    return _zeros(self_shape, grad).index_add(dim, index, grad)


@_derivative("aten::index_fill.int_Scalar", "aten::index_fill_.int_Scalar", wrt=("self",))
def _index_fill_scalar_grad(grad, dim, index):
    return grad.index_fill(dim, index, 0)


@_derivative("aten::index_fill.int_Tensor", "aten::index_fill_.int_Tensor",
             wrt=("self", "value"))
def _index_fill_tensor_grad(grad, dim, index):
    """value lands in every filled position once (repeated indices fill it once)."""
    filled = _zeros(grad.shape, grad).index_fill(dim, index, 1)
    return grad.index_fill(dim, index, 0), (grad * filled).sum()


@_derivative(index_add, index_add_, wrt=("self", "source"))
def _index_add_grad(grad, dim, index, alpha):
    g = grad.index_select(dim, index)
    return grad, (g if alpha == 1 else g * alpha)
