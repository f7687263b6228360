"""The registry ops' kernels for nested operands, by op name (what PyTorch's NestedTensorCPU
backend registers, in torch 2.13's words and errors): here the dispatch (nested_call), the
pointwise ops with a number, a 0-dim tensor or a nested tensor of the same sizes, the facts
scripted code reads, to_padded_tensor and _nested_tensor_from_mask; views, selections and
copies in _views.py; softmax, linear, matmul, layer_norm, dropout, attention and the
Transformer encoder layer's fast path in _nn.py.

A kernel is `fn(op, *args)`, args in schema order. A pointwise op on a contiguous nested
tensor runs once on its buffer (same elements, same layout: the result's grad_fn is the
op's own, as PyTorch's); other ops run on the components and pack the results into a new
contiguous nested tensor (nested/_tensor.from_components).
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._tensor import NestedTensor, from_components, components, _like, not_implemented

__all__ = ["nested_call", "to_padded_tensor", "from_mask", "dense_refusal"]

_KERNELS: dict = {}


def _kernel(*names):
    def deco(fn):
        for n in names:
            _KERNELS[n] = fn
        return fn
    return deco


def _is_number(x):
    return isinstance(x, (int, float, complex, bool)) and not isinstance(x, Tensor)


def nested_call(e, args):
    """op(*args) given a nested operand (registry.sparse_call's branch for NestedOperand):
    the op's nested kernel, else PyTorch's NotImplementedError for the nested backend."""
    op = e.op
    if args and isinstance(args[0], NestedTensor) and _writes_self(op):
        _check_inplace_leaf(args[0])
    if any(a._nested_layout_name == "jagged" for a in _nested_args(args)):
        from ._jagged_ops import jagged_call
        return jagged_call(op, args, lambda: _strided_call(e, op, args))
    return _strided_call(e, op, args)


def _nested_args(args):
    return [a for a in args if isinstance(a, NestedTensor)] + [
        x for a in args if isinstance(a, (list, tuple)) for x in a
        if isinstance(x, NestedTensor)]


def _strided_call(e, op, args):
    """op's strided nested kernel on args, else PyTorch's NotImplementedError."""
    fn = _KERNELS.get(op.name)
    if fn is None:
        name = _TORCH_DISPATCH.get(op.name, op.name)
        if "pointwise" in op.tags and op.inplace_of is None and len(args) > 1 and \
                _is_number(args[1]):        # (the Scalar overload torch reaches)
            if name.endswith(".Tensor"):
                name = name[:-len(".Tensor")] + ".Scalar"
            elif name.endswith(".Tensor_Tensor"):
                name = name[:-len("_Tensor")] + "_Scalar"
        raise not_implemented(name, _nested_args(args)[0]._device) from None
    try:
        r = fn(op, *args)
    except BaseException as err:
        if err.__context__ is e:
            err.__suppress_context__ = True
        raise
    if op.name in _VIEW_NODE_NAMES or (isinstance(r, NestedTensor) and
                                       r._nt_buf._ag is not None):
        _name_node(r, op, args)
    return r


def _writes_self(op):
    """A differentiable op writing its self in place (relu_, exp_, zero_, fill_, copy_ ...:
    PyTorch's autograd checks its operand first)."""
    from ..ops.derivatives import NonDifferentiable
    return op.schema.name.endswith("_") and not isinstance(op.derivative, NonDifferentiable)


def _check_inplace_leaf(nt):
    """PyTorch's autograd refusal of an in-place op on a nested leaf that requires grad (or
    a view of one), which comes before its nested dispatch (exp_ too)."""
    from ..autograd.grad_mode import is_grad_enabled
    b = nt._nt_buf
    if not (b.requires_grad and is_grad_enabled()):
        return
    base = getattr(b, "_base", None)
    if b.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if base is not None and base.requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


# PyTorch's node of a nested op where it is not the dense op's (gpujit/autograd/graph's
# backward_name names the others)
_NODE_NAMES = {
    "aten::linear": "LinearBackward0", "aten::layer_norm": "NativeLayerNormBackward0",
    "aten::view": "ViewBackwardAutogradNestedTensor0",
    "aten::reshape": "ViewBackwardAutogradNestedTensor0",
    "aten::dropout": "NativeDropoutBackward0", "aten::to.dtype": "ToCopyBackward0",
    "aten::to.device": "ToCopyBackward0", "aten::to.dtype_layout": "ToCopyBackward0",
    "aten::contiguous": "CloneBackward0",
    "aten::sum.dim_IntList": "SumBackwardAutogradNestedTensor1",
    "aten::matmul": "MatmulBackward0", "aten::bmm": "BmmBackward0"}


def _name_node(r, op, args):
    """The node of r (a nested op's result, or each of its results: a tuple) that gathers
    it -- the concatenation of the components' results, the view of the buffer, a
    component's view -- named as PyTorch's node of the op (SoftmaxBackward0,
    LinearBackward0, UnbindBackwardAutogradNestedTensor0 ...): what y.grad_fn and repr(y)
    show. Its gradient flows as gpujit computed it (per component)."""
    from ..autograd.graph import OpBackward, backward_name, node_class
    name = _NODE_NAMES.get(op.name)
    if name is None:
        if op.name in _VIEW_NODE_NAMES:
            name = _VIEW_NODE_NAMES[op.name]
        else:       # (the dense op's name, told the buffers for the nested operands)
            name = backward_name(op, {a.name: v._nt_buf if isinstance(v, NestedTensor) else v
                                      for a, v in zip(op.schema.arguments, args)})
    taken = {id(a._nt_buf.grad_fn) for a in args if isinstance(a, NestedTensor)}
    for t in (r if isinstance(r, tuple) else (r,)):
        gf = (t._nt_buf if isinstance(t, NestedTensor) else t).grad_fn
        if isinstance(gf, OpBackward) and id(gf) not in taken and type(gf).__name__ != name:
            gf.__class__ = node_class(name)


# the views whose nodes PyTorch's nested autograd names for itself
_VIEW_NODE_NAMES = {
    "aten::select.int": "SelectBackwardAutogradNestedTensor0",
    "aten::chunk": "ChunkBackwardAutogradNestedTensor0",
    "aten::split_with_sizes": "SplitWithSizesBackwardAutogradNestedTensor0",
    "aten::squeeze.dim": "SqueezeBackwardAutogradNestedTensor0",
    "aten::squeeze.dims": "SqueezeBackwardAutogradNestedTensor0",
    "aten::unbind.int": "UnbindBackwardAutogradNestedTensor0"}


# gpujit's op -> the op PyTorch's nested dispatch reaches (and names in its error)
_TORCH_DISPATCH = {"aten::log_softmax.int": "aten::_log_softmax",
                   "aten::numpy_T": "aten::permute",
                   "aten::var.dim": "aten::var.correction",
                   "aten::std.dim": "aten::std.correction",
                   "aten::log_sigmoid": "aten::log_sigmoid_forward"}


# ---------------------------------------------------------------- helpers
def _call(op, *args):
    """op's public entry point on args in schema order (its keyword-only ones by name)."""
    pos, kw = [], {}
    for a, v in zip(op.schema.arguments, args):
        if a.kwarg_only:
            kw[a.name] = v
        else:
            pos.append(v)
    return op.public(*pos, **kw)


def _packed(nt):
    """Whether nt's buffer holds exactly its components, packed and contiguous."""
    return _strided_contiguous(nt) and nt._nt_buf.numel() == nt.numel()


def _strided_contiguous(nt):
    """Components packed one after the other in the buffer, each contiguous (a jagged
    nested tensor's own is_contiguous() speaks of its values)."""
    return NestedTensor.is_contiguous(nt)


def _map(nt, fn):
    """fn on each component, the results packed."""
    return from_components([fn(c) for c in components(nt)])


def _elementwise(nt, fn):
    """fn (elementwise) on nt: once on the buffer when it is packed, else per component."""
    if _packed(nt):
        return _like(nt, fn(nt._nt_buf))
    return _map(nt, fn)


def buffer_of(nt):
    """nt's buffer, for the ops PyTorch computes on it whole (its get_buffer: contiguous
    nested tensors only, in its words otherwise)."""
    if not _strided_contiguous(nt):
        raise RuntimeError("NestedTensor must be contiguous to get buffer.")
    return nt._nt_buf


def _wrap(d, ndim, name="dim"):
    from ..tensor import _wrap_dim
    return _wrap_dim(d, ndim, name)


# ---------------------------------------------------------------- pointwise
_UNARY = ("aten::relu", "aten::gelu", "aten::silu", "aten::tanh", "aten::abs", "aten::neg",
          "aten::sgn", "aten::sqrt", "aten::sin", "aten::cos", "aten::logical_not",
          "aten::isnan", "aten::isinf", "aten::isposinf", "aten::isneginf")


@_kernel(*_UNARY)
def _unary(op, self, *rest):
    return _like(self, _call(op, buffer_of(self), *rest))


@_kernel("aten::ones_like", "aten::zeros_like", "aten::empty_like", "aten::randn_like")
def _like_op(op, self, *rest):
    return _elementwise(self, lambda b: _call(op, b, *rest))


@_kernel("aten::relu_", "aten::gelu_", "aten::silu_", "aten::tanh_", "aten::abs_",
         "aten::neg_", "aten::zero_", "aten::fill_.Scalar", "aten::fill_.Tensor",
         "aten::normal_", "aten::sgn_", "aten::logical_not_")
def _unary_inplace(op, self, *rest):
    buffer_of(self)         # (contiguous ones only, as PyTorch's)
    if _packed(self):
        _call(op, self._nt_buf, *rest)
    else:                   # (a narrowed one: its own elements only)
        for c in components(self):
            _call(op, c, *rest)
    return self


_BINARY_NAMES = {"aten::add.Tensor": "add", "aten::sub.Tensor": "sub",
                 "aten::mul.Tensor": "mul", "aten::div.Tensor": "div", "aten::eq.Tensor": "eq",
                 "aten::ge.Tensor": "ge", "aten::gt.Tensor": "gt"}
# (the comparisons PyTorch's nested backend has for a number only; eq for two nested too)
_SCALAR_ONLY = {"aten::ge.Tensor", "aten::gt.Tensor"}


def _binary_operands(op, self, other):
    """(nested self, other) of a binary op after PyTorch's checks: a number or a 0-dim
    dense tensor goes with a nested tensor; two nested tensors must have the same sizes."""
    a_n, b_n = isinstance(self, NestedTensor), isinstance(other, NestedTensor)
    if not a_n:
        if _is_number(self) and op.name == "aten::sub.Tensor":
            raise not_implemented("aten::rsub.Scalar", other._device)
        if _is_number(self) and op.name.startswith("aten::div"):
            raise not_implemented("aten::reciprocal", other._device)
        if not _is_number(self) and self.dim() != 0:
            raise RuntimeError("Expected both self and other to be nested, but got a "
                               "non-nested self and nested other")
        return other, self, True
    if b_n:
        if op.name in _SCALAR_ONLY:
            raise not_implemented(op.name, self._device)
        if op.name == "aten::eq.Tensor":
            raise RuntimeError("eq does not support nested tensor as other value.")
        if not np.array_equal(self._nt_sizes, other._nt_sizes):
            raise RuntimeError(f"{_BINARY_NAMES[op.name]} does not support broadcasting "
                               f"when given a NestedTensor")
    elif not _is_number(other) and other.dim() != 0:
        raise RuntimeError("Expected both self and other to be nested, but got a nested "
                           "self and non-nested other")
    return self, other, False


@_kernel(*_BINARY_NAMES)
def _binary(op, self, other, *rest):
    nt, o, swapped = _binary_operands(op, self, other)

    def call(a, b):
        return _call(op, b, a, *rest) if swapped else _call(op, a, b, *rest)
    if isinstance(o, NestedTensor):
        if _packed(nt) and _packed(o):
            return _like(nt, call(nt._nt_buf, o._nt_buf))
        return from_components([call(a, b) for a, b in zip(components(nt), components(o))])
    # (with a number: over the whole storage, the layout kept, as PyTorch's)
    return _like(nt, call(nt._nt_buf, o))


@_kernel("aten::add_.Tensor", "aten::mul_.Tensor")
def _binary_inplace(op, self, other, *rest):
    if not isinstance(self, NestedTensor):
        raise RuntimeError("Expected both self and other to be nested, but got a "
                           "non-nested self and nested other")
    _binary_operands(op.inplace_of or op, self, other)
    buffer_of(self)
    if isinstance(other, NestedTensor):
        buffer_of(other)
        for a, b in zip(components(self), components(other)):
            _call(op, a, b, *rest)
    elif _packed(self):
        _call(op, self._nt_buf, other, *rest)
    else:
        for a in components(self):
            _call(op, a, other, *rest)
    return self


# ---------------------------------------------------------------- facts (scripted code)
@_kernel("aten::dim")
def _dim(op, self):
    return self.dim()


@_kernel("aten::is_nested")
def _is_nested(op, self):
    return True


@_kernel("aten::numel")
def _numel(op, self):
    return self.numel()


@_kernel("aten::size", "aten::len.Tensor")
def _no_sizes(op, self):
    return self.size()              # (PyTorch's "NestedTensorImpl doesn't support sizes")


@_kernel("aten::unflatten.int")
def _unflatten(op, self, dim, sizes):
    return self.size()              # (PyTorch's unflatten reads the sizes: "doesn't support")


@_kernel("aten::flatten.using_ints")
def _flatten(op, self, start_dim=0, end_dim=-1):
    """self when start_dim and end_dim name one dim (PyTorch's flatten returns it before
    reading any size), else PyTorch's "doesn't support sizes"."""
    n = self.dim()
    if _wrap(start_dim, n) == _wrap(end_dim, n):
        return self
    return self.size()


@_kernel("aten::stride", "aten::stride.int")
def _no_strides(op, self, dim=None):
    return self.stride()            # (... "doesn't support strides")


@_kernel("aten::size.int")
def _size(op, self, dim):
    return self.size(dim)


@_kernel("aten::is_same_size")
def _is_same_size(op, self, other):
    a, b = isinstance(self, NestedTensor), isinstance(other, NestedTensor)
    if not (a and b):
        raise RuntimeError(f"Expected both self and other to be nested tensors. Self is "
                           f"{'' if a else 'not '}nested. While Other is "
                           f"{'' if b else 'not '}nested.")
    return np.array_equal(self._nt_sizes, other._nt_sizes)


@_kernel("aten::is_contiguous", "aten::is_contiguous.memory_format")
def _is_contiguous(op, self, memory_format=None):
    return self.is_contiguous()


# ---------------------------------------------------------------- padding
@_kernel("aten::to_padded_tensor", "aten::nested_to_padded_tensor")
def _to_padded_op(op, self, padding, output_size=None):
    return to_padded_tensor(self, padding, output_size)


def dense_refusal(dev):
    """PyTorch's error for to_padded_tensor of a dense tensor."""
    return NotImplementedError(
        f"Could not run 'aten::to_padded_tensor' with arguments from the "
        f"'{'CUDA' if dev.type == 'cuda' else 'CPU'}' backend. This could be because the "
        f"operator doesn't exist for this backend, or was omitted during the "
        f"selective/custom build process (if using custom build).")


def to_padded_tensor(nt, padding, output_size=None):
    """The padded dense tensor of nt: (components, max size of each dim ...), or
    output_size, filled with padding outside each component."""
    import gpujit
    from ..nn import functional as F
    if not isinstance(nt, NestedTensor):
        raise dense_refusal(nt._device)
    sizes = nt._nt_sizes
    n = sizes.shape[0]
    full = [n] + [int(x) for x in (sizes.max(axis=0) if n else np.zeros(sizes.shape[1],
                                                                        np.int64))]
    if output_size is not None:
        output_size = [int(x) for x in output_size]
        if len(output_size) != nt.dim():
            raise RuntimeError("Length of output_size does not match NestedTensor dims. "
                               "Broadcasting is not supported.")
        if any(o < f for o, f in zip(output_size, full)):
            raise RuntimeError("Value in output_size is less than NestedTensor padded size. "
                               "Truncation is not supported.")
        full = output_size
    parts = []
    for c in components(nt):
        pads = []
        for j in range(c.dim() - 1, -1, -1):
            pads += [0, full[j + 1] - c.size(j)]
        parts.append(F.pad(c, pads, value=padding) if any(pads) else c)
    extra = full[0] - n
    if extra:
        parts += [gpujit.full(full[1:], padding, dtype=nt._dtype, device=nt._device)] * extra
    if not parts:
        return gpujit.full(full, padding, dtype=nt._dtype, device=nt._device)
    out = gpujit.stack(parts)
    gf = out.grad_fn
    from ..autograd.graph import OpBackward, node_class
    if isinstance(gf, OpBackward):      # (named as PyTorch's node: _name_node's reason)
        gf.__class__ = node_class("ToPaddedTensorBackward0")
    return out


# ---------------------------------------------------------------- from a padded batch
@_kernel("aten::_nested_tensor_from_mask")
def _from_mask_op(op, t, mask, mask_check=True):
    return from_mask(t, mask, mask_check)


def from_mask(t, mask, mask_check=True):
    """torch._nested_tensor_from_mask: the nested tensor of t's rows (N x L x D), row i
    its first mask[i].sum() entries along L (mask: True at a real token, left-aligned)."""
    from ..ops.registry import OPS
    aligned = OPS["aten::_nested_tensor_from_mask_left_aligned"].public
    if mask.dtype.name != "bool":
        raise RuntimeError(f"Expected mask to be of ScalarType Bool, but got "
                           f"{mask.dtype.short_name} instead.")
    if mask.dim() != 2 or t.dim() != 3 or tuple(mask.shape) != tuple(t.shape[:2]):
        raise RuntimeError("Mask size should match input size")
    if mask_check and not aligned(t, mask):
        raise RuntimeError("Mask must be left-aligned without gaps")
    lengths = mask.sum(1).tolist()
    nt = from_components([t[i, :n] for i, n in enumerate(lengths)])
    return nt


from . import _views, _nn  # noqa: E402  (their kernels register in _KERNELS)
_REGISTERED = (_views, _nn)
