"""Small ops PyTorch users reach for: tensor predicates (is_nonzero, is_same_size,
is_signed, is_complex, is_conj, is_neg, is_inference, get_device), scalar_tensor, fill,
constant_pad_nd, new_empty_strided, sum_to_size, combinations and index_reduce(_), as
registry ops; and in `PUBLIC` the Python-level functions torch has at the top level
(range with its deprecation warning, frombuffer, asarray, unravel_index).
"""
from __future__ import annotations

import itertools
import numpy as np

from .. import dtypes as _dt
from .._frames import warn_at_user_frame
from ..device import cpu as _cpu, device_of_array
from .meta import TensorMeta, int_list, wrap_dim
from . import registry as _registry
from .registry import op, OPS, tensor_method
from .registry import derivative as _derivative, nondifferentiable as _nondiff
from .creation import _FACTORY_TAIL, _default
from .stats_ops import replay_derivative
from .reduction import _acc_dtype, _sum

PUBLIC = {}

_SHAPE = {"shape"}
_LONG = np.dtype(np.int64)


def _dtn(d):
    return d if isinstance(d, _dt.dtype) else _dt.from_numpy_dtype(d)


# ------------------------------------------------------------------ predicates

def _fact(schema, method=True):
    ret = schema.rsplit("->", 1)[1].strip()
    t = {"bool": bool, "int": int}[ret]
    return op(schema, tags={"reduction"}, method=method, meta=lambda *a, **k: t)


@_fact("aten::is_nonzero(Tensor self) -> bool")
def is_nonzero(xp, self):
    """The truth of a one-element tensor (PyTorch's errors for none or several)."""
    if self.size == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if self.size > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.reshape(-1)[0] != 0)


@_fact("aten::is_same_size(Tensor self, Tensor other) -> bool")
def is_same_size(xp, self, other):
    return tuple(self.shape) == tuple(other.shape)


@op("aten::is_set_to(Tensor self, Tensor tensor) -> bool", tags={"reduction"},
    meta=lambda *a, **k: bool, function=False)      # (a Tensor method only, as torch)
def is_set_to(xp, self, tensor):
    """Whether both tensors view the same memory: same device and allocation, first
    element, sizes and strides (a registry op: scripted code calls it too; tensors on two
    devices are refused as by every op, where PyTorch answers False)."""
    from ..storage import _root
    from .overlap import _ptr
    return bool(device_of_array(self) == device_of_array(tensor)
                and _root(self)[0] == _root(tensor)[0] and _ptr(self) == _ptr(tensor)
                and self.shape == tensor.shape and self.strides == tensor.strides
                and self.dtype.itemsize == tensor.dtype.itemsize)


@_fact("aten::is_signed(Tensor self) -> bool")
def is_signed(xp, self):
    return _dtn(self.dtype).is_signed


@_fact("aten::is_complex(Tensor self) -> bool")
def is_complex(xp, self):
    return self.dtype.kind == "c"


# gpujit has no conjugate or negative bits: these are False for every tensor

@_fact("aten::is_conj(Tensor self) -> bool")
def is_conj(xp, self):
    return False


@_fact("aten::is_neg(Tensor self) -> bool")
def is_neg(xp, self):
    return False


@_fact("aten::is_inference(Tensor self) -> bool")
def is_inference(xp, self):
    """The op's body sees arrays, which say nothing of the tensor: False. Eager code's
    x.is_inference() and torch.is_inference(x) read the Tensor (below)."""
    return False


@tensor_method("is_inference")
def _is_inference_method(self):
    """Whether the tensor is an inference tensor: made inside torch.inference_mode by an
    op that is not a view of a normal tensor (its version counter says so;
    autograd/inference.py)."""
    return isinstance(self._vc, _registry.InferenceVersion)


def _is_inference_function(input):
    if not isinstance(input, _registry._Tensor):
        return is_inference.op.public(input)       # (PyTorch's TypeError)
    return isinstance(input._vc, _registry.InferenceVersion)


_is_inference_function.__name__ = _is_inference_function.__qualname__ = "is_inference"
PUBLIC["is_inference"] = _is_inference_function


@_fact("aten::get_device(Tensor self) -> int", method=True)
def get_device(xp, self):
    """-1 for a CPU tensor, else its CUDA device's index."""
    d = device_of_array(self)
    return -1 if d.type == "cpu" else int(d.index or 0)


@op("aten::_shape_as_tensor(Tensor self) -> Tensor", method=False, cross_device="keep",
    meta=lambda self: TensorMeta(_dt.int64, (len(self.shape),), _cpu))
def _shape_as_tensor(xp, self):
    """self's sizes as a 1-dim int64 tensor, on the CPU whatever self's device (torchvision's
    detection transforms under tracing, through torch.onnx.operators.shape_as_tensor): a
    trace records the op, so the sizes follow the input."""
    return np.asarray(self.shape, dtype=np.int64)


# ------------------------------------------------------------------ scalar_tensor, fill

@op(f"aten::scalar_tensor(Scalar s, *, {_FACTORY_TAIL}", tags={"factory"}, method=False,
    meta=lambda s, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(_default(dtype), (), device or _cpu))
def scalar_tensor(xp, s, dtype=None, layout=None, device=None, pin_memory=None):
    """A 0-dim tensor of s, of the default float dtype unless dtype is given (an int or
    bool s too, as PyTorch)."""
    from .shape_index import cast_scalar
    npdt = _default(dtype).np
    return xp.asarray(cast_scalar(s, npdt), dtype=npdt)


def _same_meta(self, *a, **k):
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::fill.Scalar(Tensor self, Scalar value) -> Tensor", tags=_SHAPE, method=False,
    meta=_same_meta)
def fill_scalar(xp, self, value):
    """A new tensor like self filled with value (torch.fill; Tensor.fill_ in place)."""
    from .shape_index import cast_scalar
    return xp.full(self.shape, cast_scalar(value, self.dtype), dtype=self.dtype)


def _fill_tensor_meta(self, value):
    if len(value.shape) != 0:
        raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor with "
                           f"{len(value.shape)} dimensions.")
    return TensorMeta(self.dtype, tuple(self.shape), self.device)


@op("aten::fill.Tensor(Tensor self, Tensor value) -> Tensor", tags=_SHAPE, method=False,
    meta=_fill_tensor_meta)
def fill_tensor(xp, self, value):
    _fill_tensor_meta(TensorMeta(None, self.shape, None), TensorMeta(None, value.shape, None))
    return xp.broadcast_to(value.astype(self.dtype), self.shape).copy()


@_derivative(fill_scalar, wrt=("self",))
def _fill_scalar_grad(grad, self_shape):
    return grad.new_zeros(self_shape)


@_derivative(fill_tensor)
def _fill_tensor_grad(grad, self_shape):
    return grad.new_zeros(self_shape), grad.sum()


# ------------------------------------------------------------------ constant_pad_nd

@op("aten::constant_pad_nd(Tensor self, SymInt[] pad, Scalar value=0) -> Tensor",
    tags=_SHAPE, method=False,
    meta=lambda self, pad, value=0: OPS["aten::pad"].meta(self, pad, "constant", value))
def constant_pad_nd(xp, self, pad, value=0):
    """pad (pairs from the last dimension back; negative amounts crop) filled with value."""
    return OPS["aten::pad"].impl(xp, self, pad, "constant", value)


@_derivative(constant_pad_nd, wrt=("self",))
def _constant_pad_nd_grad(grad, pad):
    return OPS["aten::constant_pad_nd"].public(grad, [-p for p in int_list(pad)], 0)


# ------------------------------------------------------------------ new_empty_strided

@op(f"aten::new_empty_strided(Tensor self, SymInt[] size, SymInt[] stride, *, "
    f"{_FACTORY_TAIL}", tags={"factory"}, function=False,
    meta=lambda self, size, stride, dtype=None, layout=None, device=None, pin_memory=None:
    TensorMeta(dtype or self.dtype, tuple(int_list(size)), device or self.device))
def new_empty_strided(xp, self, size, stride, dtype=None, layout=None, device=None,
                      pin_memory=None):
    """An uninitialized (here zeroed) tensor with self's dtype and device, and these
    strides."""
    return OPS["aten::empty_strided"].impl(xp, size, stride, dtype or _dtn(self.dtype))


# ------------------------------------------------------------------ sum_to_size

def _sum_to_dims(shape, size):
    """(the dims x.sum_to_size(size) sums over, the result shape), or PyTorch's error
    when `size` is not expandable to `shape`."""
    size = tuple(int_list(size))
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != d for s, d in zip(size, shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size "
                           f"{{{list(shape)}}}.")
    return tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shape[lead + i] != 1), size


def _sum_to_meta(self, size):
    dims, size = _sum_to_dims(tuple(self.shape), size)
    return TensorMeta(_acc_dtype(self, None) if dims else self.dtype, size, self.device)


@op("aten::sum_to_size(Tensor self, SymInt[] size) -> Tensor", tags=_SHAPE, function=False,
    meta=_sum_to_meta)
def sum_to_size(xp, self, size):
    """self summed to `size` (which must expand to self's shape): the reverse of expand.
    As PyTorch, a sum (int64 for integers and bools) when something is summed, else
    self's values (a copy here: PyTorch gives self itself)."""
    dims, size = _sum_to_dims(tuple(self.shape), size)
    if not dims:
        return self.copy()
    return _sum(self, dims, True, None).reshape(size)


def _sum_to_size_composite(self, size):
    """sum_to_size recording gradients: torch's sum_to, a sum over the dims size reduces
    (keepdim) viewed to size when it has fewer dims (SumBackward1, then ViewBackward0);
    self itself when nothing is summed."""
    dims, size = _sum_to_dims(tuple(self.shape), size)
    t = self.sum(list(dims), keepdim=True) if dims else self
    return t.view(list(size)) if t.dim() > len(size) else t


sum_to_size.op.composite = _sum_to_size_composite


@tensor_method("sum_to_size")
def sum_to_size_method(self, *size, **kwargs):
    """x.sum_to_size(*size) / x.sum_to_size(size=...): x itself when size is its shape
    (PyTorch's sum_to), else aten::sum_to_size (which a trace records either way)."""
    if kwargs:
        if size or set(kwargs) != {"size"}:
            raise TypeError(f"sum_to_size() got an unexpected keyword argument "
                            f"{next(k for k in kwargs if k != 'size' or size)!r}")
        size = (kwargs["size"],)
    if not size:
        raise TypeError('sum_to_size() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    if (_registry.dispatch_state.tracing is None and
            tuple(int_list(size)) == tuple(self._data.shape)):
        return self
    return OPS["aten::sum_to_size"].public(self, list(size))


@_derivative(sum_to_size)
def _sum_to_size_grad(grad, self_shape):
    return grad.expand(self_shape)


# ------------------------------------------------------------------ combinations

def _comb_count(n, r, rep):
    if r == 0:
        return 0
    if rep:
        return len(list(itertools.combinations_with_replacement(range(n), r)))
    return len(list(itertools.combinations(range(n), r)))


def _comb_meta(self, r=2, with_replacement=False):
    if len(self.shape) != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(self.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    n = self.shape[0]
    if r == 0:
        return TensorMeta(self.dtype, (0,), self.device)
    return TensorMeta(self.dtype, (None if n is None else
                                   _comb_count(n, r, with_replacement), r), self.device)


def _comb_index(n, r, rep):
    f = itertools.combinations_with_replacement if rep else itertools.combinations
    idx = np.array(list(f(range(n), r)), dtype=_LONG)
    return idx.reshape(-1, r)


@op("aten::combinations(Tensor self, int r=2, bool with_replacement=False) -> Tensor",
    tags=_SHAPE, method=False, meta=_comb_meta)
def combinations(xp, self, r=2, with_replacement=False):
    """The r-length combinations of self's elements (itertools.combinations order)."""
    _comb_meta(TensorMeta(None, self.shape, None), r, with_replacement)
    if r == 0:
        return self[:0].copy()
    idx = xp.asarray(_comb_index(self.shape[0], r, with_replacement))
    return self[idx]


def _combinations_composite(self, r=2, with_replacement=False):
    """combinations recording gradients: PyTorch's, r meshgrid grids of self each
    masked_select'ed by the mask of index tuples i < j < ... (<= with replacement),
    stacked (StackBackward0 -> MaskedSelectBackward0 -> ExpandBackward0 -> ViewBackward0);
    r == 0: fresh empty, no gradient (untracked_when)."""
    _comb_meta(self, r, with_replacement)
    if r == 0:
        return NotImplemented
    n = self.shape[0]
    from .registry import wrap_array
    grid = np.indices((n,) * r).reshape(r, -1)
    ok = np.ones(grid.shape[1], bool)
    for i in range(r - 1):
        ok &= (grid[i] <= grid[i + 1]) if with_replacement else (grid[i] < grid[i + 1])
    mask = wrap_array(ok.reshape((n,) * r), self.device)
    grids = OPS["aten::meshgrid.indexing"].public([self] * r, indexing="ij")
    return OPS["aten::stack"].public([g.masked_select(mask) for g in grids], 1)


combinations.op.composite = _combinations_composite
combinations.op.untracked_when = lambda self, r=2, with_replacement=False: r == 0


@_derivative(combinations, wrt=("self",))
def _combinations_grad(grad, self_shape, r, with_replacement):
    if r == 0:
        return grad.new_zeros(self_shape)
    from .registry import wrap_array
    idx = wrap_array(np.asarray(_comb_index(self_shape[0], r, with_replacement)),
                     grad.device).reshape(-1)
    return grad.new_zeros(self_shape).index_add(0, idx, grad.reshape(-1))


# ------------------------------------------------------------------ index_reduce

_IR = ("prod", "mean", "amax", "amin")


def _index_reduce_rule(name, self, dim, index, source, reduce, include_self=True):
    if reduce not in _IR:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    if index.dtype not in (_dt.int32, _dt.int64):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{index.dtype.short_name}")
    if len(index.shape) > 1:
        raise RuntimeError("index_reduce_(): Index is supposed to be a vector")
    if self.dtype is not source.dtype:
        raise RuntimeError(f"index_reduce_(): self ({self.dtype.short_name}) and source "
                           f"({source.dtype.short_name}) must have the same scalar type")
    nd = len(self.shape)
    d = wrap_dim(dim, max(nd, 1))
    n_idx = index.shape[0] if index.shape else 1
    n_src = source.shape[d] if len(source.shape) else 1
    if n_idx != n_src and None not in (n_idx, n_src):
        raise RuntimeError(f"index_reduce_(): Number of indices ({n_idx}) should be equal to "
                           f"source.size(dim): ({n_src}), for dim: {dim}")
    if self.dtype is _dt.bool:
        # (torch 2.13: index_reduce refuses bool; index_reduce_ takes prod / amax / amin
        # over self's values, but its init without them has no bool version, nor has
        # mean's floor division)
        if not include_self:
            raise NotImplementedError("\"index_reduce_func_exclude_input_init\" not "
                                      "implemented for 'Bool'")
        if name == "index_reduce":
            raise NotImplementedError("\"index_func_\" not implemented for 'Bool'")
        if reduce == "mean":
            raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
    return d


def _expanded_index(xp, index, source, d):
    """index (one entry per slice of source along d) as scatter_reduce's index: source's
    shape, the index along d."""
    idx = index.reshape(-1).astype(_LONG)
    shape = [1] * source.ndim
    shape[d] = idx.shape[0]
    return xp.broadcast_to(idx.reshape(shape), source.shape)


def _declare_index_reduce(inplace):
    name = "index_reduce_" if inplace else "index_reduce"
    sig, ret = ("Tensor(a!) self", "Tensor(a!)") if inplace else ("Tensor self", "Tensor")

    def meta(self, dim, index, source, reduce, include_self=True):
        _index_reduce_rule(name, self, dim, index, source, reduce, include_self)
        return TensorMeta(self.dtype, tuple(self.shape), self.device)

    @op(f"aten::{name}({sig}, int dim, Tensor index, Tensor source, str reduce, *, "
        f"bool include_self=True) -> {ret}", tags={"inplace"} if inplace else _SHAPE,
        function=not inplace, meta=meta)
    def impl(xp, self, dim, index, source, reduce, include_self=True):
        _warn_beta()
        mk = (lambda t: TensorMeta(_dtn(t.dtype), t.shape, None))
        d = _index_reduce_rule(name, mk(self), dim, mk(index), mk(source), reduce,
                               include_self)
        if self.ndim == 0:
            self_v, source_v = self.reshape(1), source.reshape(1)
        else:
            self_v, source_v = self, source
        idx = _expanded_index(xp, index, source_v, d)
        if idx.size and xp is np and ((idx < 0) | (idx >= self_v.shape[d])).any():
            raise IndexError("index out of range in self")
        r = OPS["aten::scatter_reduce.two"].impl(xp, self_v, d, xp.ascontiguousarray(idx),
                                                  source_v, reduce, include_self)
        r = r.reshape(self.shape)
        if inplace:
            self[...] = r
            return self
        return r
    impl.__name__ = name

    def compose(self, dim, index, source, reduce, include_self):
        d = wrap_dim(dim, max(self.dim(), 1))
        src = source.reshape(1) if source.dim() == 0 else source
        shape = [1] * src.dim()
        shape[d] = -1
        idx = index.reshape(shape).long().expand(src.shape).contiguous()
        s = self.reshape(1) if self.dim() == 0 else self
        return s.scatter_reduce(d, idx, src, reduce, include_self=include_self) \
            .reshape(self.shape)
    replay_derivative(impl.op, compose, ("self", "source"),
                      ("self", "dim", "index", "source", "reduce", "include_self"))
    return impl


_warned = [False]


def _warn_beta():
    if not _warned[0]:
        _warned[0] = True
        warn_at_user_frame("index_reduce() is in beta and the API may change at any time.")


index_reduce = _declare_index_reduce(False)
index_reduce_ = _declare_index_reduce(True)
index_reduce_.op.inplace_of = index_reduce.op

_nondiff(is_nonzero, is_same_size, is_signed, is_complex, is_conj, is_neg, is_inference,
         get_device, new_empty_strided, scalar_tensor, _shape_as_tensor,
         reason="tensor facts and factories: no gradient flows through them")
