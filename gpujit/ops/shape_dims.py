"""Shape ops that keep a tensor's elements and broadcast or move its dims, or zero a
triangle of it: expand_as, broadcast_to, broadcast_tensors (and torch.broadcast_shapes),
tril / triu (and tril_ / triu_), movedim / moveaxis, swapaxes / swapdims and
atleast_1d/2d/3d (with their varargs Python entry points in `PUBLIC`), and their
derivatives. Part of the
shape family: shape.py imports this module after its own ops (before shape_index and
shape_order), so the registry lists the ops in the same order as before the split."""
from __future__ import annotations

import operator as _operator

import numpy as np

from .meta import TensorMeta, int_list, wrap_dim, broadcast_shapes
from . import registry as _registry
from .registry import op, OPS, derivative as _derivative, tensor_method
from .views import expand_checked, _transpose_meta
from .shape import _SHAPE, _VIEW, _at_least

PUBLIC = {}


# ------------------------------------------------------------------ broadcasting

@op("aten::expand_as(Tensor(a) self, Tensor other) -> Tensor(a)", tags=_VIEW, function=False,
    meta=lambda self, other: TensorMeta(self.dtype, expand_checked(
        self.shape, other.shape, self.dtype, self.device.type == "cuda"), self.device))
def expand_as(xp, self, other):
    return xp.broadcast_to(self, expand_checked(self.shape, other.shape, self.dtype,
                                                xp is not np))


@op("aten::broadcast_to(Tensor(a) self, SymInt[] size) -> Tensor(a)", tags=_VIEW,
    meta=lambda self, size: TensorMeta(self.dtype, expand_checked(
        self.shape, int_list(size), self.dtype, self.device.type == "cuda"), self.device))
def broadcast_to(xp, self, size):
    return xp.broadcast_to(self, expand_checked(self.shape, int_list(size), self.dtype,
                                                xp is not np))


@op("aten::broadcast_tensors(Tensor[] tensors) -> Tensor[]",
    tags=_VIEW | {"output_per_input"}, method=False,
    function=False,
    meta=lambda tensors: [TensorMeta(t.dtype, broadcast_shapes(*[u.shape for u in tensors]),
                                     t.device) for t in tensors])
def broadcast_tensors_(xp, tensors):
    shape = broadcast_shapes(*[a.shape for a in tensors])
    return [xp.broadcast_to(a, shape) for a in tensors]


def _broadcast_tensors_composite(tensors):
    """broadcast_tensors recording gradients: PyTorch's expand of each tensor that grows
    (its own ExpandBackward0 with one edge); one of the broadcast shape is itself."""
    if _registry.dispatch_state.tracing is not None:
        return NotImplemented           # (a trace records aten::broadcast_tensors, as torch's)
    shape = broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return [t if tuple(t.shape) == shape else t.expand(shape) for t in tensors]


broadcast_tensors_.op.composite = _broadcast_tensors_composite


def _untraced_tensor(t):
    """t is a Tensor and no trace is recording (a trace records the op even where PyTorch
    hands back its input itself, as for contiguous)."""
    return _registry.dispatch_state.tracing is None and isinstance(t, _registry._Tensor)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    outs = OPS["aten::broadcast_tensors"].public(list(tensors))
    # an input that has the broadcast shape already is its own output (PyTorch's
    # expand_outplace), with its own grad_fn
    return tuple(t if _untraced_tensor(t) and t._data.shape == o._data.shape else o
                 for t, o in zip(tensors, outs))


def _flattens_nothing(self, start_dim, end_dim):
    try:
        nd = self._data.ndim
    except AttributeError:      # (a nested tensor: no dense array, its flatten op decides)
        return False
    if start_dim.__class__ is bool or end_dim.__class__ is bool:
        return False                # (the op's TypeError: PyTorch's parser refuses a bool)
    try:
        return nd > 0 and wrap_dim(start_dim, nd) == wrap_dim(end_dim, nd)
    except (IndexError, RuntimeError, TypeError):
        return False                # (the op says what is wrong)


def flatten(input, start_dim=0, end_dim=-1):
    """torch.flatten / Tensor.flatten: self itself when there is nothing to flatten
    (start_dim and end_dim name one dim: a 1-D tensor, nn.Flatten on a matrix), as PyTorch;
    a 0-dim tensor becomes a new 1-element one. (`input`: torch.flatten(input=x), the
    name PyTorch's parser gives it.)"""
    if _untraced_tensor(input) and _flattens_nothing(input, start_dim, end_dim):
        return input
    return OPS["aten::flatten.using_ints"].public(input, start_dim, end_dim)


@tensor_method("flatten")
def flatten_method(self, start_dim=0, end_dim=-1):
    """Tensor.flatten: flatten's, with the method's entry point (its errors number the
    arguments without self: x.flatten(True) is "argument 'start_dim' (position 1)")."""
    if _untraced_tensor(self) and _flattens_nothing(self, start_dim, end_dim):
        return self
    return OPS["aten::flatten.using_ints"].method_public(self, start_dim, end_dim)


def broadcast_shapes_public(*shapes):
    """torch.broadcast_shapes: PyTorch's Python fold (torch._refs._broadcast_shapes) and its
    words, which name the argument's index and the shape so far."""
    from ..tensor import Size
    shapes = [(s,) if isinstance(s, (int, np.integer)) else s
              for s in shapes if s is not None]
    for s in shapes:
        if not isinstance(s, (list, tuple)):
            raise RuntimeError(f"Input shapes should be of type ints, a tuple of ints, or a "
                               f"list of ints, got {s}")
        for i, v in enumerate(s):       # (torch.Size(s) in PyTorch's fold: ints only)
            if not isinstance(v, (int, np.integer)) and not hasattr(v, "__index__"):
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is "
                                f"'{type(v).__name__}')")
    common = [1] * max((len(s) for s in shapes), default=0)
    for k, s in enumerate(shapes):
        for i in range(-1, -1 - len(s), -1):
            if s[i] == common[i]:
                continue
            if common[i] == 1:
                if s[i] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative "
                                     "length!")
                common[i] = s[i]
            if s[i] != 1 and common[i] != s[i]:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {s[i]} at "
                                   f"{i}! Mismatching argument at index {k} had {s}; but "
                                   f"expected shape should be broadcastable to {common}")
    return Size(int(d) for d in common)


PUBLIC["broadcast_tensors"] = broadcast_tensors
PUBLIC["flatten"] = flatten
PUBLIC["broadcast_shapes"] = broadcast_shapes_public


# ------------------------------------------------------------------ triangles

def _tri_check(name, shape):
    if len(shape) < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


def _tri(name, fn_name, inplace):
    schema = (f"aten::{name}(Tensor(a!) self, SymInt diagonal=0) -> Tensor(a!)" if inplace else
              f"aten::{name}(Tensor self, SymInt diagonal=0) -> Tensor")

    @op(schema, tags={"inplace"} if inplace else _SHAPE, function=not inplace,
        contiguous=not inplace,
        meta=lambda self, diagonal=0: (_tri_check(fn_name, self.shape), TensorMeta(
            self.dtype, tuple(self.shape), self.device))[1])
    def impl(xp, self, diagonal=0):
        if not isinstance(diagonal, int):
            # (a str / float diagonal: PyTorch's parser TypeError, before the rank check;
            # the entry point words it)
            _operator.index(diagonal)
        _tri_check(fn_name, self.shape)
        off = xp.arange(self.shape[-1])[None, :] - xp.arange(self.shape[-2])[:, None]
        keep = off >= diagonal if fn_name == "triu" else off <= diagonal
        r = xp.where(keep, self, xp.zeros((), self.dtype))
        if inplace:
            self[...] = r
            return self
        return r
    impl.__name__ = name
    return impl


tril = _tri("tril", "tril", False)
triu = _tri("triu", "triu", False)
tril_ = _tri("tril_", "tril", True)
triu_ = _tri("triu_", "triu", True)


# ------------------------------------------------------------------ dim moves

def _movedim_perm(ndim, source, destination):
    src, dst = int_list(source), int_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} "
                           f"dims) should contain the same number of dims as destination "
                           f"({dst} dims)")
    src = [wrap_dim(d, ndim) for d in src]
    dst = [wrap_dim(d, ndim) for d in dst]
    if ndim == 0:
        return ()
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({int_list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` "
                           f"({int_list(destination)})")
    perm = [None] * ndim
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(i for i in range(ndim) if i not in set(src))
    return tuple(p if p is not None else next(rest) for p in perm)


def _movedim(name, overload, kind):
    schema = (f"aten::{name}.{overload}(Tensor(a) self, {kind} source, {kind} destination) "
              f"-> Tensor(a)")

    @op(schema, tags=_VIEW,
        meta=lambda self, source, destination: TensorMeta(self.dtype, tuple(
            self.shape[p] for p in _movedim_perm(len(self.shape), source, destination)),
            self.device))
    def impl(xp, self, source, destination):
        return self.transpose(_movedim_perm(self.ndim, source, destination))
    impl.__name__ = f"{name}_{overload}"
    return impl


movedim_int = _movedim("movedim", "int", "int")
movedim_intlist = _movedim("movedim", "intlist", "int[]")
moveaxis_int = _movedim("moveaxis", "int", "int")
moveaxis_intlist = _movedim("moveaxis", "intlist", "int[]")


def _swap(name, a0, a1):
    @op(f"aten::{name}(Tensor(a) self, int {a0}, int {a1}) -> Tensor(a)", tags=_VIEW,
        meta=_transpose_meta)
    def impl(xp, self, d0, d1):
        if self.ndim == 0:
            wrap_dim(d0, 0), wrap_dim(d1, 0)
            return self.view()
        return xp.swapaxes(self, wrap_dim(d0, self.ndim), wrap_dim(d1, self.ndim))
    impl.__name__ = name
    return impl


swapaxes = _swap("swapaxes", "axis0", "axis1")
swapdims = _swap("swapdims", "dim0", "dim1")


def _atleast(n):
    f = _at_least(n)

    @op(f"aten::atleast_{n}d(Tensor self) -> Tensor", tags=_VIEW, method=False,
        function=False,
        meta=lambda self: TensorMeta(self.dtype, f(tuple(self.shape)), self.device))
    def impl(xp, self):
        return self.reshape(f(self.shape))
    impl.__name__ = f"atleast_{n}d"

    def one(t):     # a tensor of n dims or more is returned itself, as PyTorch's
        if _untraced_tensor(t):
            try:
                nd = t._data.ndim
            except NotImplementedError:     # (a sparse tensor: its own dim())
                nd = t.dim()
            if nd >= n:
                return t
        return impl.op.public(t)

    def public(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            tensors = tuple(tensors[0])
        elif len(tensors) == 1:
            return one(tensors[0])
        return tuple(one(t) for t in tensors)
    public.__name__ = f"atleast_{n}d"
    PUBLIC[public.__name__] = public
    return impl


atleast_1d = _atleast(1)
atleast_2d = _atleast(2)
atleast_3d = _atleast(3)


def _atleast_sequence(n):
    """aten::atleast_{n}d.Sequence: scripted `torch.atleast_2d([x, y])` or
    `torch.atleast_2d(x, y)` (the Tensors packed into the list, as TorchScript's schema
    matching does): the list of each one's atleast_{n}d view."""
    f = _at_least(n)

    @op(f"aten::atleast_{n}d.Sequence(Tensor[] tensors) -> Tensor[]",
        tags=_VIEW | {"output_per_input"}, method=False, function=False,
        meta=lambda tensors: [TensorMeta(t.dtype, f(tuple(t.shape)), t.device)
                              for t in tensors])
    def impl(xp, tensors):
        return [t.reshape(f(t.shape)) for t in tensors]
    impl.__name__ = f"atleast_{n}d_Sequence"
    return impl


atleast_1d_Sequence = _atleast_sequence(1)
atleast_2d_Sequence = _atleast_sequence(2)
atleast_3d_Sequence = _atleast_sequence(3)


def _atleast_composite(n):
    def composite(self):
        """torch's atleast_{n}d recording gradients (OpDef.composite): a reshape of a 0-dim
        tensor, unsqueezes of a 1-D (and, for 3-D, a 2-D) one, so the nodes are
        ViewBackward0 / UnsqueezeBackward0 as in torch."""
        d = self.dim()
        if d == 0:
            return self.reshape([1] * n)
        if n == 2 and d == 1:
            return self.unsqueeze(0)
        if n == 3 and d == 1:
            return self.unsqueeze(0).unsqueeze(-1)
        if n == 3 and d == 2:
            return self.unsqueeze(-1)
        return self
    return composite


for _n, _f in ((1, atleast_1d), (2, atleast_2d), (3, atleast_3d)):
    _f.op.composite = _atleast_composite(_n)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops

@_derivative(broadcast_to, expand_as, wrt=("self",))
def _broadcast_to_grad(grad):
    return grad                 # autograd sums a broadcast gradient back to the input shape


@_derivative(broadcast_tensors_)
def _broadcast_tensors_grad(grad):
    return list(grad)


@_derivative(tril, tril_)
def _tril_grad(grad, diagonal):
    return grad.tril(diagonal)


@_derivative(triu, triu_)
def _triu_grad(grad, diagonal):
    return grad.triu(diagonal)


@_derivative(movedim_int, movedim_intlist, moveaxis_int, moveaxis_intlist)
def _movedim_grad(grad, source, destination):
    perm = _movedim_perm(grad.dim(), source, destination)
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return grad.permute(inverse)


@_derivative(swapaxes)
def _swapaxes_grad(grad, axis0, axis1):
    return grad.transpose(axis0, axis1)


@_derivative(swapdims)
def _swapdims_grad(grad, dim0, dim1):
    return grad.transpose(dim0, dim1)


@_derivative(atleast_1d, atleast_2d, atleast_3d)
def _atleast_grad(grad, self_shape):
    return grad.reshape(self_shape)


@_derivative(atleast_1d_Sequence, atleast_2d_Sequence, atleast_3d_Sequence)
def _atleast_sequence_grad(grad, tensors_shape):
    return [None if g is None else g.reshape(s) for g, s in zip(grad, tensors_shape)]
