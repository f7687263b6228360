"""Meta rules: output dtype/shape/device from input types, without computing.

A meta rule takes the op's arguments in schema order, with every Tensor replaced by a
`TensorMeta` (dtype, shape, device; a size may be None when unknown), and returns a
TensorMeta (or a tuple/list of them, or a Python value for non-tensor returns). The tracer,
the script compiler and the fuser call `run_meta(op, *args)`; pointwise ops get theirs from
broadcasting plus the op's promotion mode, so they need not declare one.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import dtypes as _dt

__all__ = ["TensorMeta", "run_meta", "broadcast_shapes", "reduce_shape", "wrap_dim",
           "meta_of", "same_as", "empty_strides", "element_strides"]


@dataclass(frozen=True)
class TensorMeta:
    dtype: object
    shape: tuple
    device: object

    def __post_init__(self):
        # a device given as a string (zeros(2, device="cpu")'s meta) is a device, as a real
        # tensor's: devices never equal strings (torch.device("cpu") != "cpu")
        if isinstance(self.device, str):
            from ..device import device as _device, cpu as _cpu
            d = _device(self.device)
            object.__setattr__(self, "device", _cpu if d.type == "cpu" else d)

    @property
    def ndim(self):
        return len(self.shape)

    def dim(self):
        return len(self.shape)


def meta_of(t):
    """TensorMeta of a real Tensor (tests compare it with the meta rule's answer)."""
    return TensorMeta(t.dtype, tuple(t.shape), t.device)


def empty_strides(shape):
    """The strides PyTorch gives a new tensor with no elements (C order, each size taken
    as at least 1): NumPy makes them all 0."""
    st, k = [], 1
    for n in reversed(shape):
        st.append(k)
        k *= max(int(n), 1)
    return tuple(reversed(st))


def element_strides(a):
    """An array's strides in elements, with PyTorch's for a new empty one (NumPy's say 0)."""
    isz = a.itemsize
    st = tuple(int(s) // isz for s in a.strides)
    if not a.size and a.ndim and not any(st):
        st = empty_strides(a.shape)
    return st


def numel(shape):
    """The number of elements of a shape; None when a size is unknown (None)."""
    n = 1
    for s in shape:
        if s is None:
            return None
        n *= s
    return n


def int_list(v):
    """An int[] argument as a list (PyTorch accepts a bare int for int[])."""
    if v is None:
        return []
    if isinstance(v, int) or type(v).__module__ == "numpy":
        return [int(v)] if not hasattr(v, "__len__") else [int(x) for x in v]
    return [int(x) for x in v]


def wrap_dim(dim, ndim):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}],"
                         f" but got {dim})")
    return dim % n


def is_c_contiguous(shape, strides, itemsize) -> bool:
    """Are byte `strides` C-contiguous for `shape` (PyTorch's, NumPy's and CuPy's rule:
    the strides of dims of size 1 do not count)?"""
    expected = itemsize
    for size, st in zip(reversed(shape), reversed(strides)):
        if size != 1 and st != expected:
            return False
        expected *= size
    return True


def broadcast_shapes(*shapes):
    """PyTorch's infer_size folded over the shapes in their order (TensorIterator's
    compute_shape): a mismatch names the shape so far as tensor a and the next shape as
    tensor b, at the first dimension from the right where they differ. A None size
    (unknown) broadcasts as anything."""
    out = ()
    for s in shapes:
        out = _infer_size(out, tuple(s))
    return out


def _infer_size(a, b):
    na, nb = len(a), len(b)
    nd = max(na, nb)
    res = [1] * nd
    for i in range(nd - 1, -1, -1):
        k = nd - 1 - i
        x = a[na - 1 - k] if k < na else 1
        y = b[nb - 1 - k] if k < nb else 1
        if y is None:
            res[i] = None if x in (1, None) else x
        elif y == 1:
            res[i] = x
        else:
            if x not in (1, None) and x != y:
                raise RuntimeError(
                    f"The size of tensor a ({x}) must match the size of tensor b "
                    f"({y}) at non-singleton dimension {i}")
            res[i] = y
    return tuple(res)


def reduce_shape(shape, dim, keepdim):
    """Shape after reducing over dim (None/empty = all dims)."""
    nd = len(shape)
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        dims = set(range(nd))
    elif isinstance(dim, int):
        dims = {wrap_dim(dim, nd)}
    else:
        dims = set()
        for d in dim:       # (PyTorch's dim list check: each dim once)
            w = wrap_dim(d, nd)
            if w in dims:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            dims.add(w)
    if keepdim:
        return tuple(1 if i in dims else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def same_as(arg_index=0):
    """Meta rule: output like the arg at arg_index (e.g. clone, in-place ops)."""
    def rule(*args):
        t = args[arg_index]
        return TensorMeta(t.dtype, tuple(t.shape), t.device)
    return rule


def _pointwise_meta(op, args):
    names = [a.name for a in op.schema.arguments]
    vals = dict(zip(names, args))
    kinds, shapes, dev = [], [], None
    for n in op.operands:
        v = vals.get(n)
        if isinstance(v, TensorMeta):
            kinds.append((v.dtype, _dt.ZERO_DIM if len(v.shape) == 0 else _dt.DIM))
            shapes.append(v.shape)
            if dev is None or (dev.type == "cpu" and len(v.shape) == 0):
                dev = v.device
        elif v is not None:
            from .registry import scalar_kind
            kinds.append(scalar_kind(v))
    extras = [vals[n] for n in names if n not in op.operands]
    ct, ot = op.compute_types(tuple(kinds), *extras)
    shape = broadcast_shapes(*shapes)
    if op.inplace_of is not None:
        self_meta = args[0]
        return TensorMeta(self_meta.dtype, tuple(self_meta.shape), self_meta.device)
    return TensorMeta(ot, shape, dev)


def run_meta(op, *args):
    """The op's meta rule on metas/values in schema order (defaults filled in)."""
    params = op.schema.arguments
    if len(args) < len(params):
        args = tuple(args) + tuple(p.default for p in params[len(args):])
    if any(type(a) is int and p.type.base == "ScalarType" for p, a in zip(params, args)):
        # (TorchScript's int code of a dtype, as the op's entry takes it)
        args = tuple(_dt.scalar_type_arg(a) if type(a) is int and p.type.base == "ScalarType"
                     else a for p, a in zip(params, args)) + tuple(args[len(params):])
    if op.meta is not None:
        return op.meta(*args)
    if op.is_pointwise:
        return _pointwise_meta(op, args)
    raise LookupError(f"{op.name} has no meta rule")
