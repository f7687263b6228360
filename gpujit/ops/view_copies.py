"""PyTorch's view-copy ops (`torch.permute_copy`, `torch.narrow_copy`, `unbind_copy`...):
each is its view op followed by a copy, declared from the view op's schema (same
arguments, no aliasing) with the view's shape rule and derivative, so the copies are
scripted, traced and differentiated as their views are. Also `ravel`, `fliplr` / `flipud`,
the scatter-into-a-view ops (`select_scatter`, `slice_scatter`, `diagonal_scatter`,
`as_strided_scatter`) and the `unsafe_*` splits.
"""
from __future__ import annotations

from .meta import TensorMeta
from .meta import numel as _numel
from .registry import op, OPS
from .registry import derivative as _derivative
from .derivatives import not_implemented as _not_implemented

PUBLIC = {}

_SHAPE = {"shape"}
_VIEW = {"view"}

# <name>_copy -> the view op it copies (qualified), and whether Tensor has it as a method
_COPIES = {
    "view_copy": "aten::view", "permute_copy": "aten::permute", "t_copy": "aten::t",
    "transpose_copy": "aten::transpose.int", "squeeze_copy": ("aten::squeeze", "aten::squeeze.dim", "aten::squeeze.dims"),
    "unsqueeze_copy": "aten::unsqueeze", "expand_copy": "aten::expand",
    "select_copy": "aten::select.int", "slice_copy": "aten::slice.Tensor",
    "diagonal_copy": "aten::diagonal", "detach_copy": "aten::detach",
    "alias_copy": "aten::alias", "unbind_copy": "aten::unbind.int",
    "split_copy": "aten::split.Tensor", "split_with_sizes_copy": "aten::split_with_sizes",
    "unfold_copy": "aten::unfold", "as_strided_copy": "aten::as_strided",
    "narrow_copy": "aten::narrow",
    # torch.unsafe_split / unsafe_chunk: the splits without the views' aliasing checks
    "unsafe_split": "aten::split.Tensor", "unsafe_split_with_sizes": "aten::split_with_sizes",
    "unsafe_chunk": "aten::chunk",
}
_METHODS = {"narrow_copy", "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk"}


def _copy_of(xp, r, order):
    if isinstance(r, (list, tuple)):
        return [xp.array(x, copy=True, order=order) for x in r]
    return xp.array(r, copy=True, order=order)


def _declare_copy(name, view_name):
    view = OPS[view_name]
    s = view.schema
    overload = f".{s.overload}" if s.overload else ""
    args = str(s)[len(s.name) + len(overload):].replace("Tensor(a)", "Tensor")
    schema = f"aten::{name}{overload}{args}"

    # view_copy is a copy: a layout view() refuses (a transposed input) is no error for it,
    # as PyTorch, whose view_copy reshapes
    body = OPS["aten::reshape"].impl if name == "view_copy" else view.impl
    # a <view>_copy is contiguous whatever the view's layout (PyTorch clones it so:
    # t_copy of a 3x4 has strides (3, 1)); the unsafe_* splits are the views themselves,
    # sharing the input's memory (a write to one shows in the input, as PyTorch's), which
    # autograd does not track as views (no view node, no base)
    copy = name.endswith("_copy")

    @op(schema, tags=_SHAPE if copy else _SHAPE | {"untracked_view"}, method=name in _METHODS,
        meta=view.meta)
    def impl(xp, *args, **kwargs):
        if name == "view_copy" and "size" in kwargs:
            args, kwargs = args + (kwargs.pop("size"),), kwargs
        r = body(xp, *args, **kwargs)
        return _copy_of(xp, r, "C") if copy else list(r)
    impl.__name__ = name
    d = impl.op
    if view.derivative is not None:
        d.derivative = view.derivative
    return impl


for _name, _view in _COPIES.items():
    for _v in (_view,) if isinstance(_view, str) else _view:     # (each overload's copy)
        globals()[_name] = _declare_copy(_name, _v)
# (PyTorch records detach_copy, whose result requires grad, and refuses the backward)
_not_implemented("aten::detach_copy", message="derivative for aten::detach_copy is not "
                                              "implemented")


# ------------------------------------------------------------------ ravel, fliplr, flipud

@op("aten::ravel(Tensor(a) self) -> Tensor(a)", tags=_VIEW,
    meta=lambda self: TensorMeta(self.dtype, (_numel(self.shape),), self.device))
def ravel(xp, self):
    """A view when self's memory allows (reshape(-1)), else a copy."""
    return self.reshape(-1)


# recording gradients: torch's composite, contiguous().view(-1) (ViewBackward0, after a
# CloneBackward0 for a tensor that is not contiguous)
ravel.op.composite = lambda self: self.contiguous().view(-1)


def _flip_meta(name, min_dim):
    def meta(self):
        if len(self.shape) < min_dim:
            raise RuntimeError(f"Input must be >= {min_dim}-d.")
        return TensorMeta(self.dtype, tuple(self.shape), self.device)
    return meta


@op("aten::fliplr(Tensor self) -> Tensor", tags=_SHAPE, meta=_flip_meta("fliplr", 2))
def fliplr(xp, self):
    _flip_meta("fliplr", 2)(TensorMeta(None, self.shape, None))
    return xp.array(self[:, ::-1], copy=True)


@op("aten::flipud(Tensor self) -> Tensor", tags=_SHAPE, meta=_flip_meta("flipud", 1))
def flipud(xp, self):
    _flip_meta("flipud", 1)(TensorMeta(None, self.shape, None))
    return xp.array(self[::-1], copy=True)


@_derivative(ravel)
def _ravel_grad(grad, self_shape):
    return grad.reshape(self_shape)


@_derivative(fliplr)
def _fliplr_grad(grad):
    return grad.fliplr()


@_derivative(flipud)
def _flipud_grad(grad):
    return grad.flipud()


# ------------------------------------------------------------------ *_scatter

def _scatter_check(name, view_shape, src_shape):
    if src_shape != view_shape and None not in view_shape and None not in src_shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src "
                           f"size = {list(src_shape)}, slice size = {list(view_shape)}")


def _declare_scatter(name, view_name, params):
    view = OPS[view_name]
    vs = view.schema
    vargs = str(vs)[str(vs).index("(") + 1:str(vs).rindex(") ->")]
    rest = vargs.split(",", 1)[1] if "," in vargs else ""
    schema = f"aten::{name}(Tensor self, Tensor src,{rest}) -> Tensor"
    schema = schema.replace("Tensor(a)", "Tensor").replace(",)", ")")

    def meta(self, src, *args, **kwargs):
        vm = view.meta(self, *args, **kwargs)
        _scatter_check(name, tuple(vm.shape), tuple(src.shape))
        return TensorMeta(self.dtype, tuple(self.shape), self.device)

    @op(schema, tags=_SHAPE, meta=meta)
    def impl(xp, self, src, *args, **kwargs):
        out = xp.array(self, copy=True)
        v = view.impl(xp, out, *args, **kwargs)
        _scatter_check(name, tuple(v.shape), tuple(src.shape))
        v[...] = src
        return out
    impl.__name__ = name
    impl.op.derivative = _scatter_derivative(view, params)
    return impl


def _scatter_derivative(view, params):
    """grad of self: grad with the view's part zeroed; of src: grad's view."""
    from .registry import Derivative

    def fn(grad, **kw):
        args = [kw[p] for p in params]
        grad = grad.contiguous()        # (as_strided reads strides relative to storage)
        zeros = grad.new_zeros(())
        g_self = OPS[_SCATTERS_BY_VIEW[view.name]].public(
            grad, zeros.expand(OPS[view.name].public(grad, *args).shape), *args)
        return g_self, OPS[view.name].public(grad, *args)
    return Derivative(fn, ("self", "src"), tuple(params))


_SCATTERS_BY_VIEW = {}
for _name, _view, _params in (
        ("select_scatter", "aten::select.int", ("dim", "index")),
        ("slice_scatter", "aten::slice.Tensor", ("dim", "start", "end", "step")),
        ("diagonal_scatter", "aten::diagonal", ("offset", "dim1", "dim2")),
        ("as_strided_scatter", "aten::as_strided", ("size", "stride", "storage_offset"))):
    _SCATTERS_BY_VIEW[_view] = f"aten::{_name}"
    globals()[_name] = _declare_scatter(_name, _view, _params)



# ------------------------------------------------------------------ select / slice backward
# ATen's select_backward / slice_backward: zeros of the input's sizes with the gradient
# written into the view (select / slice's backward: SelectBackward0's formula). Ops of
# their own, as in PyTorch, so that a double backward records their nodes
# (SelectBackwardBackward0 / SliceBackwardBackward0, one edge: the gradient's) and
# differentiates them as torch does (the view of the gradient of the gradient).

def _view_backward_meta(view_name):
    def meta(grad_output, input_sizes, *args):
        vm = OPS[view_name].meta(TensorMeta(grad_output.dtype, tuple(input_sizes),
                                            grad_output.device), *args)
        _scatter_check(view_name, tuple(vm.shape), tuple(grad_output.shape))
        return TensorMeta(grad_output.dtype, tuple(input_sizes), grad_output.device)
    return meta


def _into_zeros(xp, view_name, grad_output, input_sizes, *args):
    out = xp.zeros(tuple(input_sizes), grad_output.dtype)
    v = OPS[view_name].impl(xp, out, *args)
    _scatter_check(view_name, tuple(v.shape), tuple(grad_output.shape))
    v[...] = grad_output
    return out


@op("aten::select_backward(Tensor grad_output, SymInt[] input_sizes, int dim, SymInt index) "
    "-> Tensor", tags=_SHAPE, meta=_view_backward_meta("aten::select.int"),
    function=False, method=False)
def select_backward(xp, grad_output, input_sizes, dim, index):
    return _into_zeros(xp, "aten::select.int", grad_output, input_sizes, dim, index)


@op("aten::slice_backward(Tensor grad_output, SymInt[] input_sizes, int dim, SymInt start, "
    "SymInt end, SymInt step) -> Tensor", tags=_SHAPE,
    meta=_view_backward_meta("aten::slice.Tensor"), function=False, method=False)
def slice_backward(xp, grad_output, input_sizes, dim, start, end, step):
    return _into_zeros(xp, "aten::slice.Tensor", grad_output, input_sizes, dim, start, end,
                       step)


@_derivative(select_backward, wrt=("grad_output",))
def _select_backward_grad(grad, dim, index):
    return grad.select(dim, index)


@_derivative(slice_backward, wrt=("grad_output",))
def _slice_backward_grad(grad, dim, start, end, step):
    return OPS["aten::slice.Tensor"].public(grad, dim, start, end, step)
