"""Shape ops: joining and splitting (cat, stack, split, chunk, unbind), repetition
(repeat, tile, repeat_interleave).

The same family continues in `shape_dims.py` (broadcasting: expand_as, broadcast_to,
broadcast_tensors/shapes; triangles: tril, triu; dim moves: movedim, swapaxes, atleast_Nd),
`shape_order.py` (flip, roll, sort, argsort, topk), `shape_index.py` (gather/scatter,
index_select/fill/add) and `shape_select.py` (take, the masked ops, nonzero), imported below.
Python entry points with PyTorch's varargs or keyword-only conventions
(`split`, `nonzero(as_tuple=)`, `broadcast_tensors(*ts)`, ...) are in `PUBLIC`.
"""
from __future__ import annotations

from math import prod as _numel

import numpy as np

from .kernel_names import not_implemented
from .. import dtypes as _dt
from . import memory_format as _mf
from .meta import TensorMeta, int_list, wrap_dim
from . import registry as _reg
from .registry import op, OPS, tensor_method

PUBLIC = {}

_SHAPE = {"shape"}
_VIEW = {"view"}


def np_dtype_of(a):
    return _dt.from_numpy_dtype(a.dtype)


def _promote_all(dtypes):
    out = None
    for d in dtypes:
        out = d if out is None else _dt.promote_types(out, d)
    return out


def _sum_sizes(sizes):
    return None if any(s is None for s in sizes) else sum(sizes)


# ------------------------------------------------------------------ cat / stack

def cat_rule(shapes, dtypes, dim):
    """(out dtype, out shape, wrapped dim, positions of the inputs that take part).
    1-D empty tensors are skipped, as in PyTorch; the dtype promotes over all inputs."""
    if len(shapes) == 0:
        # (a ValueError, as torch 2.13's TORCH_CHECK_VALUE: torch.cat([]))
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, s in enumerate(shapes):
        if len(s) == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated")
    dt = _promote_all(dtypes)
    keep = [i for i, s in enumerate(shapes) if not (len(s) == 1 and s[0] == 0)]
    if not keep:
        return dt, (0,), 0, keep
    ref = shapes[keep[0]]
    d = wrap_dim(dim, len(ref))
    for i in keep:
        s = shapes[i]
        if len(s) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{len(ref)} and {len(s)}")
        for k in range(len(ref)):
            if k != d and s[k] is not None and ref[k] is not None and s[k] != ref[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref[k]} but got size {s[k]} for tensor "
                                   f"number {i} in the list.")
    out = list(ref)
    out[d] = _sum_sizes([shapes[i][d] for i in keep])
    return dt, tuple(out), d, keep


def _list_meta_device(tensors):
    return tensors[0].device if tensors else None


def _cat_layout(xp, out, tensors):
    """torch.cat's result is C-contiguous but when all inputs are channels-last (4-D/5-D)
    (compute_output_memory_format): NumPy/CuPy's concatenate lays it out as its inputs
    are, so that of transposed matrices came out transposed (x.view(-1) then raised)."""
    if out.ndim in (4, 5):
        return _mf.format_layout(xp, out, _mf.output_format(tensors, out.ndim))
    if out.flags.c_contiguous:
        return out
    return xp.ascontiguousarray(out)


@op("aten::cat(Tensor[] tensors, int dim=0) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda tensors, dim=0: TensorMeta(
        cat_rule([t.shape for t in tensors], [t.dtype for t in tensors], dim)[0],
        cat_rule([t.shape for t in tensors], [t.dtype for t in tensors], dim)[1],
        _list_meta_device(tensors)))
def cat(xp, tensors, dim=0):
    if tensors:
        a0 = tensors[0]
        dt0, nd0 = a0.dtype, a0.ndim
        same = nd0 != 0
        for a in tensors:       # (a loop, not all(genexpr): no frame per call)
            if a.ndim != nd0 or a.dtype != dt0:
                same = False
                break
        if same:
            # one dtype, one rank: NumPy/CuPy's concatenate is torch.cat; its errors are
            # re-raised in torch's words by cat_rule below
            try:
                out = xp.concatenate(tensors, axis=wrap_dim(dim, nd0))
                if out.ndim not in (4, 5) and out.flags.c_contiguous:
                    return out          # (_cat_layout's common case inline)
                return _cat_layout(xp, out, tensors)
            except (ValueError, IndexError):
                pass
    dt, shape, d, keep = cat_rule([a.shape for a in tensors],
                                  [np_dtype_of(a) for a in tensors], dim)
    if not keep:
        return xp.empty(shape, dt.np)
    return _cat_layout(xp, xp.concatenate(
        [tensors[i].astype(dt.np, copy=False) for i in keep], axis=d), tensors)


def stack_rule(shapes, dtypes, dim):
    if len(shapes) == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = tuple(shapes[0])
    for i, s in enumerate(shapes):
        if tuple(s) != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(s0)} at entry 0 and {list(s)} at entry {i}")
    d = wrap_dim(dim, len(s0) + 1)
    return _promote_all(dtypes), s0[:d] + (len(shapes),) + s0[d:], d


@op("aten::stack(Tensor[] tensors, int dim=0) -> Tensor", tags=_SHAPE, method=False,
    meta=lambda tensors, dim=0: TensorMeta(
        *stack_rule([t.shape for t in tensors], [t.dtype for t in tensors], dim)[:2],
        _list_meta_device(tensors)))
def stack(xp, tensors, dim=0):
    dt, shape, d = stack_rule([a.shape for a in tensors], [np_dtype_of(a) for a in tensors],
                              dim)
    r = xp.stack([a.astype(dt.np, copy=False) for a in tensors], axis=d)
    if tensors and tensors[0].ndim in (4, 5) and d < tensors[0].ndim and \
            _mf.output_format(tensors, tensors[0].ndim) != _mf.CONTIGUOUS:
        return r            # (channels-last inputs: PyTorch's stack keeps their layout)
    return _mf.c_layout(xp, r)      # (PyTorch's; NumPy's kept permuted inputs' order)


def _stack_family(name, prep):
    """hstack / vstack / dstack / column_stack: cat after making inputs at least N-d."""
    def rule(shapes, dtypes):
        if len(shapes) == 0:
            raise RuntimeError(f"{name} expects a non-empty TensorList")
        shapes = [prep(tuple(s)) for s in shapes]
        dim = {"hstack": 0 if len(shapes[0]) == 1 else 1, "vstack": 0, "dstack": 2,
               "column_stack": 1}[name]
        return cat_rule(shapes, dtypes, dim), shapes

    @op(f"aten::{name}(Tensor[] tensors) -> Tensor", tags=_SHAPE, method=False,
        meta=lambda tensors: TensorMeta(*rule([t.shape for t in tensors],
                                              [t.dtype for t in tensors])[0][:2],
                                        _list_meta_device(tensors)))
    def impl(xp, tensors):
        (dt, shape, d, keep), shapes = rule([a.shape for a in tensors],
                                            [np_dtype_of(a) for a in tensors])
        if not keep:
            return xp.empty(shape, dt.np)
        parts = [tensors[i].reshape(shapes[i]).astype(dt.np, copy=False) for i in keep]
        return _cat_layout(xp, xp.concatenate(parts, axis=d), parts)
    impl.__name__ = name
    impl.rule = rule            # for the derivative (end of file)
    return impl


def _at_least(n):
    def f(s):
        if n == 1:
            return s if len(s) >= 1 else (1,)
        if n == 2:
            return s if len(s) >= 2 else ((1,) * (2 - len(s)) + s)
        # atleast_3d, NumPy/PyTorch rules: (n,) -> (1, n, 1); (m, n) -> (m, n, 1)
        if len(s) == 0:
            return (1, 1, 1)
        if len(s) == 1:
            return (1, s[0], 1)
        if len(s) == 2:
            return s + (1,)
        return s
    return f


def _column(s):
    return (s[0] if s else 1, 1) if len(s) <= 1 else s


hstack = _stack_family("hstack", _at_least(1))
vstack = _stack_family("vstack", _at_least(2))
dstack = _stack_family("dstack", _at_least(3))
column_stack = _stack_family("column_stack", _column)


# ------------------------------------------------------------------ split / chunk / unbind

def split_sizes(size, split_size):
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got "
                           f"split_size={split_size}")
    if split_size == 0 and size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                           f"dimension size of {size}")
    if size is None:
        return None
    n = max((size + split_size - 1) // split_size, 1) if split_size else 1
    return [split_size] * (n - 1) + [size - split_size * (n - 1)]


def check_split_with_sizes(size, sizes, dim):
    for s in sizes:
        if s < 0:
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={list(sizes)}")
    if size is not None and sum(sizes) != size:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                           f"(input tensor's size at dimension {dim}), but got "
                           f"split_sizes={list(sizes)}")
    return list(sizes)


def _dim_of(shape, dim, what):
    if len(shape) == 0:
        raise RuntimeError(f"{what} expects at least a 1-dimensional tensor")
    return wrap_dim(dim, len(shape))


def _pieces(xp, a, d, sizes):
    out, start = [], 0
    lead = (slice(None),) * d
    for s in sizes:
        out.append(a[lead + (slice(start, start + s),)])
        start += s
    return out


def _pieces_meta(self, d, sizes):
    if sizes is None:
        return [TensorMeta(self.dtype, tuple(self.shape[:d]) + (None,) + tuple(
            self.shape[d + 1:]), self.device)]
    return [TensorMeta(self.dtype, tuple(self.shape[:d]) + (s,) + tuple(self.shape[d + 1:]),
                       self.device) for s in sizes]


def _split_rule(shape, split_size, dim):
    d = _dim_of(shape, dim, "split")
    return d, split_sizes(shape[d], split_size)


@op("aten::split.Tensor(Tensor(a) self, SymInt split_size, int dim=0) -> Tensor(a)[]",
    tags=_VIEW, method=False, function=False,
    meta=lambda self, split_size, dim=0: _pieces_meta(
        self, *_split_rule(self.shape, split_size, dim)))
def split_(xp, self, split_size, dim=0):
    d, sizes = _split_rule(self.shape, split_size, dim)
    return _pieces(xp, self, d, sizes)


def _split_ws_rule(shape, split_sizes_, dim):
    d = _dim_of(shape, dim, "split_with_sizes")
    return d, check_split_with_sizes(shape[d], int_list(split_sizes_), d)


@op("aten::split_with_sizes(Tensor(a) self, SymInt[] split_sizes, int dim=0) -> Tensor(a)[]",
    tags=_VIEW,
    meta=lambda self, split_sizes, dim=0: _pieces_meta(
        self, *_split_ws_rule(self.shape, split_sizes, dim)))
def split_with_sizes(xp, self, split_sizes, dim=0):
    d, sizes = _split_ws_rule(self.shape, split_sizes, dim)
    return _pieces(xp, self, d, sizes)


# (TorchScript's x.split([1, 1]): the node aten::split, its SymInt[] overload, that torch's
# .graph and .code show; eager and traced code call split_with_sizes)
@op("aten::split.sizes(Tensor(a) self, SymInt[] split_size, int dim=0) -> Tensor(a)[]",
    tags=_VIEW, method=False, function=False,
    meta=lambda self, split_size, dim=0: _pieces_meta(
        self, *_split_ws_rule(self.shape, split_size, dim)))
def split_sizes_(xp, self, split_size, dim=0):
    d, sizes = _split_ws_rule(self.shape, split_size, dim)
    return _pieces(xp, self, d, sizes)


def split(tensor, split_size_or_sections, dim=0):
    """torch.split: an int size (the last piece may be smaller) or a list of sizes. A
    one-element Tensor is its int (PyTorch's Tensor.split: int(split_size), a float
    truncated)."""
    if isinstance(split_size_or_sections, _reg._Tensor):
        if split_size_or_sections._data.size == 1:
            split_size_or_sections = int(split_size_or_sections._data.item())
        else:
            return OPS["aten::split_with_sizes"].public(tensor, split_size_or_sections, dim)
    if isinstance(split_size_or_sections, (list, tuple)):
        return OPS["aten::split_with_sizes"].public(tensor, list(split_size_or_sections), dim)
    if isinstance(split_size_or_sections, int) and \
            type(split_size_or_sections) not in (int, bool):
        # a traced size (x.split(x.size(0) // 2)): PyTorch's Tensor.split makes its 0-dim
        # tensor an int (a TracerWarning its library filter quiets), so the trace bakes the
        # size in, `torch.split(x, 2)`, and replays that for other shapes
        split_size_or_sections = int.__int__(split_size_or_sections)
    if not isinstance(split_size_or_sections, (int, np.integer)):
        # (PyTorch's Tensor.split hands anything but an int to split_with_sizes, whose
        # parser refuses it: x.split('a'))
        return OPS["aten::split_with_sizes"].public(tensor, split_size_or_sections, dim)
    try:
        if split_size_or_sections.__class__ is bool:
            raise TypeError("split(True)")
        return OPS["aten::split.Tensor"].public(tensor, split_size_or_sections, dim)
    except TypeError:
        # (an int size goes to torch._VF.split, two signatures: x.split(True), x.split(2, 'a'))
        from .parser_errors import signature_error
        e = signature_error("split", (tensor, split_size_or_sections, dim), {})
        if e is None:
            raise
        raise e from None


PUBLIC["split"] = split


@tensor_method("split")
def _split_method(self, split_size, dim=0):
    return split(self, split_size, dim)


# (Python's arity errors name it as PyTorch's Tensor.split: "Tensor.split() takes from 2 to 3
# positional arguments but 4 were given")
_split_method.__qualname__ = "Tensor.split"


def chunk_rule(shape, chunks, dim):
    """(dim wrapped, the sizes of the pieces) of x.chunk(chunks, dim) for x of `shape`
    (sizes None when shape[dim] is unknown); the fuser's chunks read it too."""
    d = _dim_of(shape, dim, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = shape[d]
    if size is None:
        return d, None
    step = (size + chunks - 1) // chunks
    if step == 0 and size == 0:
        return d, [0] * chunks
    return d, split_sizes(size, step)


@op("aten::chunk(Tensor(a) self, int chunks, int dim=0) -> Tensor(a)[]", tags=_VIEW,
    meta=lambda self, chunks, dim=0: _pieces_meta(self, *chunk_rule(self.shape, chunks, dim)))
def chunk(xp, self, chunks, dim=0):
    d, sizes = chunk_rule(self.shape, chunks, dim)
    return _pieces(xp, self, d, sizes)


def _unbind_rule(shape, dim):
    if len(shape) == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return wrap_dim(dim, len(shape))


@op("aten::unbind.int(Tensor(a) self, int dim=0) -> Tensor(a)[]", tags=_VIEW,
    meta=lambda self, dim=0: [TensorMeta(self.dtype, tuple(
        s for i, s in enumerate(self.shape) if i != _unbind_rule(self.shape, dim)),
        self.device)] * self.shape[_unbind_rule(self.shape, dim)])
def unbind(xp, self, dim=0):
    d = _unbind_rule(self.shape, dim)
    lead = (slice(None),) * d
    return [self[lead + (i, Ellipsis)] for i in range(self.shape[d])]


# ------------------------------------------------------------------ repetition

def _repeat_rule(shape, repeats):
    repeats = int_list(repeats)
    if len(repeats) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                           "number of dimensions of tensor")
    padded = (1,) * (len(repeats) - len(shape)) + tuple(shape)
    # (ATen multiplies int64s: a size past 2**63 wraps, ones(3).repeat(2**62) is -2**62)
    out = tuple(None if s is None else _wrap64(s * r) for s, r in zip(padded, repeats))
    for n in out:
        if n is not None and n < -(1 << 62):    # (c10's SymInt range)
            raise RuntimeError(f"IntArrayRef contains an int that cannot be represented as a "
                               f"SymInt: {n}")
    for n in out:
        if n is not None and n < 0:     # (PyTorch's words name the result's size)
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                               f"{list(out)}")
    return repeats, out


def _wrap64(v):
    return (v + (1 << 63)) % (1 << 64) - (1 << 63)


@op("aten::repeat(Tensor self, SymInt[] repeats) -> Tensor", tags=_SHAPE, function=False,
    meta=lambda self, repeats: TensorMeta(self.dtype, _repeat_rule(self.shape, repeats)[1],
                                          self.device))
def repeat(xp, self, repeats):
    repeats, shape = _repeat_rule(self.shape, repeats)
    _reg.contiguous_size_check(shape, self.dtype.itemsize)
    if _numel(shape) == 0:
        return xp.empty(shape, self.dtype)
    return xp.tile(self, tuple(repeats)).reshape(shape)


def _tile_reps(shape, dims):
    dims = int_list(dims)
    return [1] * (len(shape) - len(dims)) + dims


@op("aten::tile(Tensor self, SymInt[] dims) -> Tensor", tags=_SHAPE,
    meta=lambda self, dims: TensorMeta(self.dtype, _repeat_rule(
        self.shape, _tile_reps(self.shape, dims))[1], self.device))
def tile(xp, self, dims):
    return repeat(xp, self, _tile_reps(self.shape, dims))


def _ri_rule(shape, repeats, dim):
    """Output shape of repeat_interleave; repeats is an int, or None (a tensor: the
    size along dim depends on its values)."""
    if dim is None:
        n = _numel(shape)
        return (None if repeats is None or None in shape else n * repeats,)
    if not shape:
        _ri_zero_dim(repeats is None, dim)
    d = wrap_dim(dim, len(shape))
    return tuple((None if repeats is None or s is None else s * repeats) if i == d else s
                 for i, s in enumerate(shape))


def _ri_zero_dim(by_tensor, dim):
    """PyTorch's errors for a 0-dim self with a dim: repeats a tensor reads
    self.size(dim); an int unsqueezes self at dim + 1 (dim wrapped first: 1)."""
    if by_tensor:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    wrap_dim(dim, 0)
    raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")


def _repeat_interleave(xp, self, repeats, dim):
    if dim is not None and self.ndim == 0:
        _ri_zero_dim(not isinstance(repeats, int), dim)
    a = self.reshape(-1) if dim is None else self
    d = 0 if dim is None else wrap_dim(dim, self.ndim)
    if isinstance(repeats, int):
        if repeats < 0:     # (the int overload's own check; a tensor's says "can not be")
            raise RuntimeError("Repeats must be non-negative")
        return xp.repeat(a, repeats, axis=d)
    if repeats.ndim > 1:    # (repeat_interleave.Tensor of repeats itself: "only accept 1D")
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    _ri_counts_dtype(_dt.from_numpy_dtype(repeats.dtype), xp)     # int32 / int64 only
    if repeats.size not in (1, a.shape[d]):
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {repeats.size} and input.size({d}) = "
                           f"{a.shape[d]}")
    reps = repeats.reshape(-1)
    reps = reps.get() if xp is not np else reps    # cupy.repeat takes host repeat counts
    if reps.size and reps.min() < 0:
        raise RuntimeError("repeats can not be negative")
    reps = int(reps[0]) if reps.size == 1 else reps.tolist()
    return xp.repeat(a, reps, axis=d)


@op("aten::repeat_interleave.self_int(Tensor self, SymInt repeats, int? dim=None, *, "
    "SymInt? output_size=None) -> Tensor", tags=_SHAPE,
    meta=lambda self, repeats, dim=None, output_size=None: TensorMeta(
        self.dtype, _ri_rule(self.shape, repeats, dim), self.device))
def repeat_interleave_int(xp, self, repeats, dim=None, output_size=None):
    return _repeat_interleave(xp, self, int(repeats), dim)


@op("aten::repeat_interleave.self_Tensor(Tensor self, Tensor repeats, int? dim=None, *, "
    "SymInt? output_size=None) -> Tensor", tags=_SHAPE, name="repeat_interleave",
    meta=lambda self, repeats, dim=None, output_size=None: TensorMeta(
        self.dtype, _ri_rule(self.shape, None, dim), self.device))
def repeat_interleave_tensor(xp, self, repeats, dim=None, output_size=None):
    if not hasattr(repeats, "ndim"):
        # (a float reaches this overload as a number for `repeats`; PyTorch's int overload
        # takes no float: its parser's TypeError, not an AttributeError from below)
        raise TypeError(f"repeat_interleave() received an invalid combination of arguments "
                        f"- got ({type(repeats).__name__}), but expected one of:\n"
                        f" * (Tensor repeats, int dim = None, *, int output_size = None)\n"
                        f" * (int repeats, int dim = None, *, int output_size = None)")
    return _repeat_interleave(xp, self, repeats, dim)


def _ri_int_composite(self, repeats, dim=None, output_size=None):
    """repeat_interleave(int) recording gradients: PyTorch's composite, self (flattened
    without a dim) unsqueezed after dim, expanded to `repeats`, cloned and flattened back
    (ViewBackward0 -> CloneBackward0 -> ExpandBackward0 -> UnsqueezeBackward0)."""
    repeats = int(repeats)
    if repeats < 0 or (dim is not None and self.dim() == 0):
        return NotImplemented       # (the op's refusals)
    inp = self if dim is not None else self.flatten()
    d = wrap_dim(0 if dim is None else dim, inp.dim())
    inp = inp.unsqueeze(d + 1)
    shape = list(inp.shape)
    shape[d + 1] = repeats
    import gpujit
    return inp.expand(shape).clone(memory_format=gpujit.contiguous_format).flatten(d, d + 1)


def _ri_tensor_composite(self, repeats, dim=None, output_size=None):
    """repeat_interleave(Tensor) recording gradients: PyTorch's composite, index_select of
    self (flattened without a dim) at repeat_interleave(repeats) (IndexSelectBackward0)."""
    inp = self if dim is not None else self.flatten()
    if (dim is not None and self.dim() == 0) or repeats.dim() > 1:
        return NotImplemented       # (the op's refusals)
    d = wrap_dim(0 if dim is None else dim, inp.dim())
    n = inp.shape[d]
    if repeats.dim() == 0 or repeats.shape[0] == 1:
        repeats = repeats.reshape(1).expand(n)
    elif repeats.shape[0] != n:
        return NotImplemented
    idx = OPS["aten::repeat_interleave.Tensor"].public(repeats, output_size=output_size)
    return inp.index_select(d, idx)


@op("aten::repeat_interleave.Tensor(Tensor repeats, *, SymInt? output_size=None) -> Tensor",
    tags=_SHAPE, name="repeat_interleave", method=False,
    meta=lambda repeats, output_size=None: TensorMeta(_ri_counts_dtype(repeats.dtype, repeats), (None,),
                                                      repeats.device))
def repeat_interleave_counts(xp, repeats, output_size=None):
    """The indices 0..n-1, each repeated: of the repeats' dtype (int32 stays int32), as
    PyTorch."""
    if repeats.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    dt = _ri_counts_dtype(_dt.from_numpy_dtype(repeats.dtype), xp)
    return _repeat_interleave(xp, xp.arange(repeats.shape[0], dtype=dt.np), repeats, 0)


def _ri_counts_dtype(d, where=None):
    if d not in (_dt.int32, _dt.int64):
        raise not_implemented("repeat_interleave_cpu", where, d.short_name)
    return d


def _concat_alias(name):
    def fn(tensors, dim=0):
        return OPS["aten::cat"].public(tensors, dim)
    fn.__name__ = fn.__qualname__ = name
    PUBLIC[name] = fn


_concat_alias("concat")
_concat_alias("concatenate")

# the rest of the family (imported here: their ops are listed after these)
from . import shape_dims, shape_index, shape_select, shape_order  # noqa: E402

_FAMILY = (shape_dims, shape_index, shape_select, shape_order)

PUBLIC.update(shape_dims.PUBLIC)
PUBLIC.update(shape_index.PUBLIC)
PUBLIC.update(shape_select.PUBLIC)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops
from .registry import derivative as _derivative  # noqa: E402


def _cat_pieces(grad, tensors_shape, d, keep, shapes):
    """The gradient of each input of a cat along d: its slice of grad (an empty tensor for
    the 1-D empty inputs cat skips, as PyTorch's), reshaped back to the input's own shape.
    Only the inputs' shapes are kept, as PyTorch's CatBackward0: writing into an input
    later is no error."""
    out = [grad.new_zeros(tuple(s)) for s in tensors_shape]
    start = 0
    for i in keep:
        n = shapes[i][d]
        piece = grad.narrow(d, start, n)
        if tuple(piece.shape) != tuple(tensors_shape[i]):
            piece = piece.reshape(tensors_shape[i])
        out[i] = piece      # (torch's narrow alone: SliceBackward0 when recorded)
        start += n
    return out


@_derivative(cat)
def _cat_grad(grad, tensors_shape, dim):
    shapes = list(tensors_shape)
    _, _, d, keep = cat_rule(shapes, [grad.dtype] * len(shapes), dim)
    return _cat_pieces(grad, shapes, d, keep, shapes)


def _stack_family_derivative(impl):
    @_derivative(impl)
    def _grad(grad, tensors_shape):
        (_, _, d, keep), shapes = impl.rule(list(tensors_shape),
                                            [grad.dtype] * len(tensors_shape))
        return _cat_pieces(grad, tensors_shape, d, keep, shapes)


for _impl in (hstack, vstack, dstack, column_stack):
    _stack_family_derivative(_impl)


def _stack_family_composite(name):
    """hstack / vstack / dstack / column_stack recording gradients: PyTorch's, each input
    made at least N-d by atleast_Nd (column_stack: a tensor of < 2 dims reshaped to a
    column), then cat (CatBackward0 -> UnsqueezeBackward0 / ViewBackward0 edges)."""
    def composite(tensors):
        _stack_meta = OPS[f"aten::{name}"].meta
        _stack_meta(tensors)          # (the op's checks and words first)
        if name == "column_stack":
            tensors = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in tensors]
        n = {"hstack": 1, "column_stack": 1, "vstack": 2, "dstack": 3}[name]
        rep = [OPS[f"aten::atleast_{n}d"].public(t) for t in tensors]
        d = {"vstack": 0, "dstack": 2}.get(name, 0 if rep[0].dim() == 1 else 1)
        return OPS["aten::cat"].public(rep, d)
    return composite


for _impl in (hstack, vstack, dstack, column_stack):
    _impl.op.composite = _stack_family_composite(_impl.__name__)


@_derivative(stack)
def _stack_grad(grad, dim):
    d = wrap_dim(dim, grad.dim())
    if grad.requires_grad:
        # (recorded, create_graph: ATen's stack_tensors_backward, a select of each input's
        # slice, SelectBackward0 each; else one unbind, the same views)
        return [grad.select(d, i) for i in range(grad.shape[d])]
    return list(grad.unbind(d))


@_derivative(split_, split_with_sizes, split_sizes_, chunk)
def _split_grad(grad, dim):
    return OPS["aten::cat"].public(list(grad), dim)


@_derivative(unbind)
def _unbind_grad(grad, dim):
    return OPS["aten::stack"].public(list(grad), dim)


def _sum_repeats(grad, shape, repeats):
    """repeat: the output is (r0, s0, r1, s1, ...) reshaped; sum over the r axes. (Only
    self's shape is kept, as PyTorch's RepeatBackward0: an in-place write to self before
    backward is no error.)"""
    shape = tuple(shape)
    padded = (1,) * (len(repeats) - len(shape)) + shape
    inter = [v for r, s in zip(repeats, padded) for v in (r, s)]
    if not inter:
        return grad
    return grad.reshape(inter).sum(list(range(0, len(inter), 2))).reshape(shape)


@_derivative(repeat)
def _repeat_grad(grad, self_shape, repeats):
    return _sum_repeats(grad, self_shape, _repeat_rule(tuple(self_shape), repeats)[0])


@_derivative(tile)
def _tile_grad(grad, self_shape, dims):
    return _sum_repeats(grad, self_shape, _tile_reps(tuple(self_shape), dims))


def _ri_int_grad(grad, self_shape, repeats, dim):
    """Each element repeated `repeats` times in a row: split that axis in (n, repeats) and
    sum the repeats."""
    self_shape = tuple(self_shape)
    if dim is None:
        return grad.reshape(-1, repeats).sum(1).reshape(self_shape)
    d = wrap_dim(dim, len(self_shape))
    shape = self_shape or (1,)
    g = grad.reshape(shape[:d] + (shape[d], repeats) + shape[d + 1:])
    return g.sum(d + 1).reshape(self_shape)


@_derivative(repeat_interleave_int, wrt=("self",))
def _repeat_interleave_int_grad(grad, self_shape, repeats, dim):
    return _ri_int_grad(grad, self_shape, int(repeats), dim)


@_derivative(repeat_interleave_tensor, wrt=("self",))
def _repeat_interleave_tensor_grad(grad, self_shape, repeats, dim):
    """Output position k came from input position idx[k] = repeat_interleave(repeats)[k]:
    the gradients add up there (index_add into zeros)."""
    import gpujit
    self_shape = tuple(self_shape)
    if repeats.numel() == 1:
        return _ri_int_grad(grad, self_shape, int(repeats.item()), dim)
    shape = (_numel(self_shape),) if dim is None else (self_shape or (1,))
    d = 0 if dim is None else wrap_dim(dim, len(self_shape))
    idx = OPS["aten::repeat_interleave.Tensor"].public(repeats.reshape(-1))
    out = gpujit.zeros(shape, dtype=grad.dtype, device=grad.device)
    return out.index_add(d, idx, grad).reshape(self_shape)


repeat_interleave_int.op.composite = _ri_int_composite
repeat_interleave_tensor.op.composite = _ri_tensor_composite
