"""The ops on jagged nested tensors (gpujit/nested/_jagged.py: the layout), as PyTorch's
jagged layout computes them: every pointwise op on values (with numbers, jagged operands
of the same j, or dense ones that broadcast with the components), in place too; linear,
layer_norm, softmax, dropout and the *_like factories on values; reductions over one dim
(a regular one on values, the ragged one into a dense tensor); matmul / bmm in the cases
torch's has; permute / flatten / unflatten / chunk of the batch; the rest through the
strided kernels, their results made jagged (as_jagged). An op the layout lacks raises
torch's NotImplementedError ('aten.cumsum.default'); what it refuses, its words.
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._tensor import NestedTensor, components, from_components, quiet_nested
from ._jagged import (JaggedTensor, make_jagged, as_jagged, jagged_from_list_views,
                      _with_buffer)

__all__ = ["jagged_call", "flatten"]


def _jagged_args(args):
    out = []
    for a in args:
        if isinstance(a, JaggedTensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out += [x for x in a if isinstance(x, JaggedTensor)]
    return out


def _shape_words(t, sized=False):
    """A shape as PyTorch's jagged errors print it: (2, j1, 3), or torch.Size([2, j1, 3])
    beside a dense operand."""
    if isinstance(t, JaggedTensor) and not sized:
        return f"({', '.join(str(s) for s in t.shape)})"
    return f"torch.Size([{', '.join(str(s) for s in t.shape)}])"


def _pointwise_operands(op, args):
    """(the jagged operands, the dense tensor operands that are not 0-dim) of a pointwise
    op's args; PyTorch's error when two jagged ones differ in their j or rank."""
    jag = _jagged_args(args)
    first = jag[0]
    for other in jag[1:]:
        if other._jg_j != first._jg_j or other.dim() != first.dim():
            raise RuntimeError(f"cannot call binary pointwise function "
                               f"{op.name[len('aten::'):]} with inputs of shapes "
                               f"{_shape_words(first)} and {_shape_words(other)}")
    dense = [a for a in args if isinstance(a, Tensor) and not isinstance(a, NestedTensor)
             and a.dim() > 0]
    return jag, dense


def _pointwise(op, args):
    """A pointwise op on jagged operands (of one j), numbers and dense tensors that
    broadcast with each component (a batch-sized first dim: one row per component)."""
    from ._ops import _call
    jag, dense = _pointwise_operands(op, args)
    first = jag[0]
    name = op.name[len("aten::"):]
    same = all(np.array_equal(t._nt_sizes, first._nt_sizes) and
               np.array_equal(t._nt_strides, first._nt_strides) and
               np.array_equal(t._nt_offsets, first._nt_offsets) and
               t._nt_buf.numel() == first._nt_buf.numel() for t in jag)
    if same and not dense:      # (once over the memory, as PyTorch's op on values)
        r = _call(op, *[a._nt_buf if isinstance(a, JaggedTensor) else a for a in args])
        return _with_buffer(first, r)
    n, nd = first._nt_sizes.shape[0], first.dim()
    rdim = first._jg_ragged_idx
    for t in dense:         # (aligned at the right; the ragged dim only against a 1)
        k = t.dim()
        at = rdim - (nd - k)
        if k > nd or (k == nd and t.size(0) not in (1, n)) or (at >= 0 and t.size(at) != 1):
            raise RuntimeError(f"cannot call binary pointwise function {name} with inputs of "
                               f"shapes {_shape_words(first, True)} and {_shape_words(t)}")
    per = {id(t): list(components(t)) for t in jag}

    def arg(a, i):
        if isinstance(a, JaggedTensor):
            return per[id(a)][i]
        if isinstance(a, Tensor) and not isinstance(a, NestedTensor) and a.dim() == nd:
            return a[i if a.size(0) == n else 0]
        return a
    return as_jagged(from_components([_call(op, *[arg(a, i) for a in args])
                                      for i in range(n)]), first)


# the ops whose jagged operand PyTorch's jagged layout wants contiguous (no holes): its
# name of the op, its schema words, that operand's position
_CONTIGUOUS_ONLY = {
    "aten::linear": ("linear_default", "input: jt, weight: t, bias: t?", "input", 0),
    "aten::chunk": ("chunk_default", "self: jt, chunks: any, dim: any?", "self", 0),
    "aten::split_with_sizes": ("split_with_sizes_default",
                               "self: jt, split_sizes: any, dim: any?", "self", 0),
    "aten::squeeze.dim": ("squeeze_dim", "self: jt, dim: any", "self", 0),
    "aten::split.Tensor": ("split_tensor", "self: jt, split_size: any, dim: any?", "self", 0),
    "aten::narrow": ("narrow", "self: jt, dim: any, start: any, length: any", "self", 0),
    "aten::embedding": ("embedding_default", "weight: t, indices: jt, padding_idx: any?, "
                        "scale_grad_by_freq: any?, sparse: any?", "indices", 1)}


def _pointwise_inplace(op, args):
    """A pointwise op in place on a jagged self (sin_, add_ ...): on its memory when the
    operands share its layout, else component by component, as PyTorch's op on values."""
    from ._ops import _call
    self = args[0]
    jag, dense = _pointwise_operands(op, args)
    same = all(np.array_equal(t._nt_strides, self._nt_strides) and
               np.array_equal(t._nt_offsets, self._nt_offsets) and
               t._nt_buf.numel() == self._nt_buf.numel() for t in jag)
    if same and not dense:
        _call(op, *[a._nt_buf if isinstance(a, JaggedTensor) else a for a in args])
        return self
    per = {id(t): list(components(t)) for t in jag}
    for i in range(len(per[id(self)])):
        _call(op, *[per[id(a)][i] if isinstance(a, JaggedTensor) else a for a in args])
    return self


def _chunk_batch(self, chunks):
    """chunk along the batch dim: groups of components, each a jagged tensor of its own
    offsets (a new j each, as PyTorch's)."""
    n = self._nt_sizes.shape[0]
    size = -(-n // chunks)
    cs = components(self)
    return tuple(jagged_from_list_views(cs[s0:s0 + size], self._jg_ragged_idx)
                 for s0 in range(0, n, size))


def _refusals(op, args):
    """The ops PyTorch's jagged layout refuses in its own words."""
    name, self = op.name, args[0] if args else None
    if name in ("aten::narrow", "aten::stack") and \
            _wrap0(args[1], self if name == "aten::narrow" else args[0][0]) == 0:
        raise RuntimeError(f"{name[6:]}(): not supported for NestedTensor on dim=0")
    holes = isinstance(self, JaggedTensor) and self._jg_lengths is not None
    spec = _CONTIGUOUS_ONLY.get(name)
    if spec is not None and len(args) > spec[3] and isinstance(args[spec[3]], JaggedTensor) \
            and args[spec[3]]._jg_lengths is not None:
        raise ValueError(f"NestedTensor {spec[0]}({spec[1]}): expected {spec[2]} to be a "
                         f"contiguous jagged layout NestedTensor")
    if name in ("aten::to_padded_tensor", "aten::nested_to_padded_tensor") and holes:
        raise RuntimeError("to_padded_tensor(): not supported for nested tensors with holes")
    if name == "aten::select.int" and isinstance(self, JaggedTensor):
        d = _wrap0(args[1], self)
        if d == self._jg_ragged_idx:
            raise RuntimeError("select(): not supported for NestedTensor on ragged dim")
        if d != 0 and holes:
            raise ValueError("select(): not yet supported on dim != 0 for non-contiguous "
                             "nested tensor with holes")
    if name == "aten::dropout" and holes and len(args) > 2 and args[2]:
        raise ValueError("NestedTensor native_dropout_default(self: jt, float: any, train: "
                         "any?): expected self to be a contiguous jagged layout NestedTensor")
    if name in ("aten::squeeze.dim", "aten::squeeze.dims") and isinstance(self, JaggedTensor):
        dims = [args[1]] if isinstance(args[1], int) else list(args[1])
        if any(_wrap0(d, self) == self._jg_ragged_idx for d in dims):
            raise RuntimeError("squeeze(): not supported for NestedTensor on ragged dim")
    if name == "aten::view" and isinstance(self, JaggedTensor):
        shape = list(args[1])
        r = self._jg_ragged_idx
        if len(shape) <= r or shape[0] != self._nt_sizes.shape[0] or \
                shape[r] not in (-1, self._jg_j):
            raise RuntimeError(f"view(): cannot view shape {_shape_words(self)} as {shape}")
    if name == "aten::log_softmax.int" and _wrap0(args[1], self) == self._jg_ragged_idx:
        raise RuntimeError("log_softmax(): not supported when reducing along the ragged "
                           "dimension for NestedTensor")
    if name in ("aten::softmax.int", "aten::log_softmax.int") and holes and \
            _wrap0(args[1], self) == self._jg_ragged_idx:
        raise RuntimeError(f"{name[6:].split('.')[0]}(): not supported where lengths is not "
                           f"None if reducing across the ragged dimension for NestedTensor")
    if name in _REDUCTIONS and holes and len(args) > 1:
        dims = [args[1]] if isinstance(args[1], int) else list(args[1] or ())
        if any(_wrap0(d, self) == self._jg_ragged_idx for d in dims):
            raise RuntimeError(f"{name[6:].split('.')[0]}(): reducing across the ragged "
                               f"dimension is not supported for non-contiguous nested "
                               f"tensors with holes")
    if name == "aten::unbind.int" and len(args) > 1 and args[1] != 0:
        raise RuntimeError("unbind(): only supported for NestedTensor on dim=0")
    if name == "aten::cat" and len(args) > 1 and isinstance(args[0], (list, tuple)) and \
            args[0] and _wrap0(args[1], args[0][0]) == 0:
        raise RuntimeError("cat(): not supported for NestedTensor on dim=0")
    if name in ("aten::softmax.int", "aten::log_softmax.int") and \
            _wrap0(args[1], self) == 0:
        raise RuntimeError(f"{name[6:].split('.')[0]}(): not supported when reducing across "
                           f"the batch dimension for NestedTensor")


def _wrap0(dim, t):
    from ..tensor import _wrap_dim
    return _wrap_dim(dim, t.dim(), "dim")


# reductions over one dim: op name -> whether its dim argument is a list
_REDUCTIONS = {"aten::sum.dim_IntList": True, "aten::mean.dim": True, "aten::amax": True,
               "aten::amin": True, "aten::max.dim": False, "aten::min.dim": False,
               "aten::argmax": False, "aten::argmin": False, "aten::prod.dim_int": False}


def _reduce(op, self, dim, keepdim=False, *rest):
    """A reduction over one dim of a jagged tensor: a regular dim on values (the offsets
    kept, the ragged dim moving down when the reduced one was before it); the ragged dim
    per component, the dense (B, ...) results stacked, as PyTorch's."""
    import gpujit
    from ._ops import _call
    listed = _REDUCTIONS[op.name]
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    if not dims:        # (amax(x, []): every element)
        return _full_reduction(op, self, dim, keepdim, *rest)
    r = self._jg_ragged_idx
    word = op.name[6:].split(".")[0]
    ds = sorted({_wrap0(x, self) for x in dims})
    if 0 in ds and r not in ds:
        raise RuntimeError(f"{word}(): reducing along the batch dimension but not the ragged "
                           f"dimension is not supported for nested tensors")
    if 0 not in ds and r in ds and len(ds) > 1:
        raise RuntimeError(f"{word}(): reducing along a ragged and non-batch dimension is "
                           f"not supported for nested tensors")
    if 0 in ds:         # (the batch and ragged dims: every row of values, a dense result)
        rest_dims = [x - 1 for x in ds if x not in (0, r)]
        return _call(op, self.values(), [r - 1] + rest_dims if listed else r - 1, keepdim,
                     *rest)
    if len(ds) != 1:    # (regular dims only: on values)
        v = _call(op, self.values(), [x - 1 for x in ds], keepdim, *rest)
        ri = r if keepdim else r - sum(x < r for x in ds)
        return make_jagged(v, self._jg_offsets, self._jg_lengths, ri, self._jg_j)
    d = ds[0]

    def at(vd):
        return [vd] if listed else vd
    if d == r:
        parts = [_call(op, c, at(d - 1), keepdim, *rest) for c in components(self)]
        if isinstance(parts[0], tuple):
            return tuple(gpujit.stack(list(p)) for p in zip(*parts))
        return gpujit.stack(parts)
    v = _call(op, self.values(), at(d - 1), keepdim, *rest)
    ri = r if (keepdim or d > r) else r - 1
    if isinstance(v, tuple):
        return tuple(make_jagged(x, self._jg_offsets, self._jg_lengths, ri, self._jg_j)
                     for x in v)
    return make_jagged(v, self._jg_offsets, self._jg_lengths, ri, self._jg_j)


def _on_values(op, args):
    """The ops PyTorch's jagged layout computes on values, away from the ragged dim (its
    offsets and j kept): linear, layer_norm, softmax / log_softmax over a regular dim,
    dropout; None for the others."""
    from ._ops import _call
    self, name = args[0], op.name
    if not isinstance(self, JaggedTensor) or any(isinstance(a, NestedTensor)
                                                 for a in args[1:]):
        return None
    last, r = self.dim() - 1, self._jg_ragged_idx
    if name == "aten::linear" and r != last:
        v = _call(op, self.values(), *args[1:])
    elif name == "aten::layer_norm" and r <= last - len(args[1]):
        v = _call(op, self.values(), *args[1:])
    elif name in ("aten::softmax.int", "aten::log_softmax.int") and \
            _wrap0(args[1], self) != r:
        v = _call(op, self.values(), _wrap0(args[1], self) - 1, *args[2:])
    elif name == "aten::dropout":
        v = _call(op, self.values(), *args[1:])
    elif name in _LIKE_OPS or name.startswith("aten::randint_like"):
        v = _call(op, self.values(), *args[1:])
    elif name == "aten::expand" and len(args[1]) == self.dim() and \
            args[1][0] in (-1, self._nt_sizes.shape[0]) and args[1][r] in (-1, self._jg_j):
        size = [-1 if i == r else x for i, x in enumerate(args[1])][1:]
        v = self.values().expand(size)
    else:
        return None
    if isinstance(v, tuple):        # (frexp: mantissa and exponent)
        return tuple(make_jagged(x, self._jg_offsets, self._jg_lengths, r, self._jg_j)
                     for x in v)
    return make_jagged(v, self._jg_offsets, self._jg_lengths, r, self._jg_j)


# the factories of a tensor's shape: on values, the offsets kept
_LIKE_OPS = ("aten::ones_like", "aten::zeros_like", "aten::empty_like", "aten::full_like",
             "aten::randn_like", "aten::rand_like")
_LIKE_OPS += ("aten::frexp.Tensor", "aten::fill.Scalar")
_VALUE_OPS = ("aten::linear", "aten::layer_norm", "aten::softmax.int",
              "aten::log_softmax.int", "aten::dropout", "aten::expand") + _LIKE_OPS


def _matmul(op, a, b):
    """matmul / bmm with a jagged operand, the cases PyTorch's jagged layout has (each
    component by its own matrix, a dense matrix on values, two jagged of one j), else its
    refusal."""
    import gpujit
    from ._ops import _call
    mm = _ops_by_name("aten::matmul")
    ja, jb = isinstance(a, JaggedTensor), isinstance(b, JaggedTensor)
    if ja and not jb:
        if a.dim() >= 3 and a.dim() == b.dim() and a._jg_ragged_idx < a.dim() - 1:
            return as_jagged(from_components([mm(c, b[i]) for i, c in
                                              enumerate(components(a))]), a)
        if b.dim() == 2 and a.dim() > 2 and a._jg_ragged_idx < a.dim() - 1:
            return make_jagged(mm(a.values(), b), a._jg_offsets, a._jg_lengths,
                               a._jg_ragged_idx, a._jg_j)
    elif jb and not ja:
        if b.dim() >= 3 and b.dim() == a.dim() and b._jg_ragged_idx >= 2:
            return as_jagged(from_components([mm(a[i], c) for i, c in
                                              enumerate(components(b))]), b)
        if a.dim() == 2 and b.dim() > 2 and b._jg_ragged_idx >= 2:
            return make_jagged(mm(a, b.values()), b._jg_offsets, b._jg_lengths,
                               b._jg_ragged_idx, b._jg_j)
    elif ja and jb:
        if a.dim() > 3 and b.dim() > 3 and a._jg_j == b._jg_j and \
                a._jg_ragged_idx == b._jg_ragged_idx:
            return make_jagged(mm(a.values(), b.values()), a._jg_offsets, a._jg_lengths,
                               a._jg_ragged_idx, a._jg_j)
        if a.dim() == 3 and b.dim() == 3 and a._jg_ragged_idx == 2 and \
                b._jg_ragged_idx == 1 and a._jg_j == b._jg_j:
            return gpujit.stack([mm(x, y) for x, y in zip(components(a), components(b))])
    del _call
    raise RuntimeError(f"matmul(): not supported between inputs of shapes "
                       f"{_shape_words(a) if ja else _shape_words(a, True)} and "
                       f"{_shape_words(b, True)}")


def _cat_values(ts, dim):
    """cat of jagged tensors laid out alike (one j, one values layout) along a regular
    dim: values concatenated, offsets and lengths kept (holes too), as PyTorch's."""
    import gpujit
    first = ts[0]
    d = _wrap0(dim, first)
    if d in (0, first._jg_ragged_idx) or any(
            t._jg_j != first._jg_j or t.dim() != first.dim() or
            not np.array_equal(t._nt_offsets, first._nt_offsets) or
            t._jg_vstrides != first._jg_vstrides or t._jg_voffset != first._jg_voffset
            for t in ts[1:]):
        return None
    return make_jagged(gpujit.cat([t.values() for t in ts], d - 1), first._jg_offsets,
                       first._jg_lengths, first._jg_ragged_idx, first._jg_j)


def strided_call_with(op, args):
    """op's strided nested kernel on args."""
    from ._ops import _KERNELS
    return _KERNELS[op.name](op, *args)


def _call_op(op, *args):
    from ._ops import _call
    return _call(op, *args)


def _ops_by_name(name):
    from ..ops.registry import OPS
    return OPS[name].public


def _permute(op, self, dims):
    """A view with the component dims permuted (the batch dim stays first)."""
    from ._views import _views
    n = self.dim()
    dims = [_wrap0(d, self) for d in dims]
    if len(dims) != n or sorted(dims) != list(range(n)):
        raise RuntimeError("permute(): number of dimensions in the tensor input does not "
                           "match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    if self._jg_lengths is not None:
        raise ValueError("permute(): not supported on jagged layout nested tensor with "
                           "holes")
    if dims[0] != 0:
        raise RuntimeError("permute(): not supported on NestedTensor for batch dim")
    inner = [d - 1 for d in dims[1:]]
    return as_jagged(_views(self, [c.permute(inner) for c in components(self)]), self)


def flatten(op, self, start_dim=0, end_dim=-1):
    """flatten of regular dims: a reshape (PyTorch's jagged flatten)."""
    r = self._jg_ragged_idx
    a, b = _wrap0(start_dim, self), _wrap0(end_dim, self)
    for d in (a, b):
        if d == 0:
            raise RuntimeError("flatten(): not supported for NestedTensor on dim=0")
        if d == r:
            raise RuntimeError("flatten(): not supported for NestedTensor on ragged dim")
    if a == b:
        return self
    if a < r < b:
        raise RuntimeError("flatten(): not supported for NestedTensor on ragged dim")
    shape = list(self.shape)
    prod = 1
    for x in shape[a:b + 1]:
        prod *= x
    new = shape[:a] + [prod] + shape[b + 1:]
    new[r if r < a else r - (b - a)] = -1
    return self.reshape(new)


_FULL_REDUCTIONS = ("aten::sum", "aten::mean", "aten::amax", "aten::max", "aten::min",
                    "aten::any", "aten::all", "aten::prod")


def _unflatten(op, self, dim, sizes):
    """unflatten of a regular dim: a reshape."""
    d, r = _wrap0(dim, self), self._jg_ragged_idx
    if d == 0:
        raise RuntimeError("unflatten(): not supported for NestedTensor on dim=0")
    if d == r:
        raise RuntimeError("unflatten(): not supported for NestedTensor on ragged dim")
    shape = list(self.shape)
    sizes = [int(x) for x in sizes]
    if sizes.count(-1) == 1:
        known = 1
        for x in sizes:
            known *= x if x != -1 else 1
        sizes[sizes.index(-1)] = shape[d] // known if known else 0
    new = shape[:d] + sizes + shape[d + 1:]
    new[r if r < d else r + len(sizes) - 1] = -1
    return self.reshape(new)


def _full_reduction(op, self, *rest):
    """sum / mean / amax ... of every element (of the components: holes left out)."""
    import gpujit
    from ._ops import _call
    flat = gpujit.cat([c.reshape(-1) for c in components(self)])
    return _call(op, flat, *rest)


# the ops gpujit tags pointwise (its fuser takes them) that torch's jagged layout has no
# fallback for (no torch.Tag.pointwise, no jagged kernel of their own); torch's fallback also
# takes at most two tensor operands (addcmul: refused; where has a kernel of its own)
_NOT_TORCH_POINTWISE = frozenset((
    "aten::floor_divide", "aten::hardswish", "aten::hardswish_backward", "aten::isclose",
    "aten::leaky_relu_backward", "aten::log_sigmoid", "aten::log_sigmoid_backward",
    "aten::mish_backward", "aten::rrelu_with_noise_backward", "aten::special_ndtr"))


def _overload_name(op):
    """aten.cumsum.default: the name PyTorch's jagged layout gives an op it lacks."""
    from ._ops import _TORCH_DISPATCH
    name = _TORCH_DISPATCH.get(op.name, op.name)[len("aten::"):]
    return "aten." + (name if "." in name else name + ".default")


def jagged_call(op, args, strided_call):
    """op(*args) with a jagged operand: PyTorch's jagged refusals, pointwise ops on
    values, one-dim reductions, else the strided kernel (strided_call) with its nested
    results made jagged."""
    _refusals(op, args)
    jag = _jagged_args(args)
    if any(isinstance(a, NestedTensor) and not isinstance(a, JaggedTensor) for a in args):
        from ._tensor import _NO_SIZES      # (a strided operand's sizes, read first)
        raise RuntimeError(_NO_SIZES)
    pointwise = "pointwise" in op.tags and len(op.schema.returns) == 1
    if pointwise and (op.name in _NOT_TORCH_POINTWISE or (
            op.name != "aten::where.self" and sum(isinstance(a, Tensor) for a in args) > 2)):
        raise NotImplementedError(_overload_name(op))
    if pointwise and op.inplace_of is None and not op.schema.name.endswith("_"):
        with quiet_nested():
            return _pointwise(op, args)
    if pointwise and (op.inplace_of is not None or op.schema.name.endswith("_")) and \
            isinstance(args[0], JaggedTensor):
        return _pointwise_inplace(op, args)
    r = None
    if op.name in _REDUCTIONS and isinstance(args[0], JaggedTensor) and len(args) > 1:
        r = _reduce(op, *args) if args[1] is not None else _full_reduction(op, *args)
    elif op.name in _FULL_REDUCTIONS and isinstance(args[0], JaggedTensor):
        r = _full_reduction(op, *args)
    elif op.name in _VALUE_OPS or op.name.startswith("aten::randint_like"):
        r = _on_values(op, args)
    elif op.name in ("aten::new_empty", "aten::new_zeros", "aten::new_ones",
                     "aten::new_full") and isinstance(args[0], JaggedTensor):
        if tuple(args[1]) != ():
            raise RuntimeError("new_empty() not supported for NJT with shape != ()")
        return _call_op(op, args[0].values(), *args[1:])
    elif op.name in ("aten::matmul", "aten::bmm"):
        with quiet_nested():
            return _matmul(op, *args[:2])
    elif op.name == "aten::permute" and isinstance(args[0], JaggedTensor):
        with quiet_nested():
            r = _permute(op, *args)
    elif op.name in ("aten::to_padded_tensor", "aten::nested_to_padded_tensor") and \
            isinstance(args[0], JaggedTensor) and (len(args) < 3 or args[2] is None) and \
            args[0]._jg_j.seqlens[1] is not None:
        # (a given max_seqlen pads the ragged dim to it, as torch's)
        x = args[0]
        size = [x._nt_sizes.shape[0]] + [int(v) for v in x._nt_sizes.max(axis=0)]
        size[x._jg_ragged_idx] = max(size[x._jg_ragged_idx], x._jg_j.seqlens[1])
        with quiet_nested():
            return strided_call_with(op, [x, args[1], size])
    elif op.name == "aten::flatten.using_ints" and isinstance(args[0], JaggedTensor):
        return flatten(op, *args)
    elif op.name == "aten::unflatten.int" and isinstance(args[0], JaggedTensor):
        return _unflatten(op, *args)
    elif op.name == "aten::narrow" and isinstance(args[0], JaggedTensor) and \
            _wrap0(args[1], args[0]) not in (0, args[0]._jg_ragged_idx):
        x = args[0]
        return make_jagged(x.values().narrow(_wrap0(args[1], x) - 1, args[2], args[3]),
                           x._jg_offsets, x._jg_lengths, x._jg_ragged_idx, x._jg_j)
    elif op.name == "aten::split.Tensor" and isinstance(args[0], JaggedTensor):
        x, size = args[0], args[1]
        d = _wrap0(args[2] if len(args) > 2 else 0, x)
        n = x.size(d) if d not in (0, x._jg_ragged_idx) else None
        if n is not None:
            sizes = [min(size, n - i) for i in range(0, n, size)]
            return _ops_by_name("aten::split_with_sizes")(x, sizes, d)
    elif op.name == "aten::cat" and isinstance(args[0], (list, tuple)) and args[0] and \
            all(isinstance(t, JaggedTensor) for t in args[0]):
        r = _cat_values(args[0], args[1] if len(args) > 1 else 0)
    elif op.name == "aten::reshape" and isinstance(args[0], JaggedTensor) and \
            args[0]._jg_lengths is not None:
        return args[0].contiguous().reshape(args[1])
    elif op.name == "aten::chunk" and isinstance(args[0], JaggedTensor) and \
            _wrap0(args[2] if len(args) > 2 else 0, args[0]) == 0:
        return _chunk_batch(args[0], args[1])
    if r is not None:
        if isinstance(r, NestedTensor):
            from ._ops import _name_node
            _name_node(r, op, args)
        return r
    from ._ops import _KERNELS
    if op.name not in _KERNELS:         # (PyTorch's jagged dispatch names the op overload)
        raise NotImplementedError(_overload_name(op))
    with quiet_nested():
        r = strided_call()
        src = jag[0]
        if isinstance(r, NestedTensor) and not isinstance(r, JaggedTensor):
            return as_jagged(r, src)
        if isinstance(r, tuple):
            return tuple(as_jagged(x, src) if isinstance(x, NestedTensor) and
                         not isinstance(x, JaggedTensor) else x for x in r)
        return r
