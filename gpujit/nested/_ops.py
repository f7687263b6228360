"""The registry ops' kernels for nested operands, by op name (what PyTorch's NestedTensorCPU
backend registers, in torch 2.13's words and errors): pointwise ops with a number, a 0-dim
tensor or a nested tensor of the same sizes; softmax over a regular dimension; linear,
matmul and bmm; layer_norm; dropout; transpose and unsqueeze (views); unbind; clone / to /
contiguous; to_padded_tensor; _nested_tensor_from_mask; and the Transformer encoder
layer's fast path (aten::_transformer_encoder_layer_fwd of a nested batch).

A kernel is `fn(op, *args)`, args in schema order. A pointwise op on a contiguous nested
tensor runs once on its buffer (same elements, same layout: the result's grad_fn is the
op's own, as PyTorch's); other ops run on the components and pack the results into a new
contiguous nested tensor (nested/_tensor.from_components).
"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ._tensor import (NestedTensor, make_nested, from_components, components, _like,
                      not_implemented)

__all__ = ["nested_call", "to_padded_tensor", "from_mask"]

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
    from ..ops import registry as _registry
    op = e.op
    fn = _KERNELS.get(op.name)
    if fn is not None and _registry.dispatch_state.tracing is not None:
        raise RuntimeError(f"{op.public_name}: gpujit's tracer does not record nested "
                           f"tensors; call the function untraced (torch.jit.script runs "
                           f"them op by op)")
    if fn is None:
        name = _TORCH_DISPATCH.get(op.name, op.name)
        if "pointwise" in op.tags and op.inplace_of is None and len(args) > 1 and \
                _is_number(args[1]):        # (the Scalar overload torch reaches)
            if name.endswith(".Tensor"):
                name = name[:-len(".Tensor")] + ".Scalar"
            elif name.endswith(".Tensor_Tensor"):
                name = name[:-len("_Tensor")] + "_Scalar"
        nested = [a for a in args if isinstance(a, NestedTensor)] + [
            x for a in args if isinstance(a, (list, tuple)) for x in a
            if isinstance(x, NestedTensor)]
        raise not_implemented(name, nested[0]._device) from None
    try:
        r = fn(op, *args)
    except BaseException as err:
        if err.__context__ is e:
            err.__suppress_context__ = True
        raise
    if isinstance(r, NestedTensor) and r._nt_buf._ag is not None:
        _name_node(r, op, args)
    return r


# PyTorch's node of a nested op where it is not the dense op's (gpujit/autograd/graph's
# backward_name names the others)
_NODE_NAMES = {"aten::linear": "LinearBackward0", "aten::layer_norm": "NativeLayerNormBackward0",
               "aten::view": "ViewBackwardAutogradNestedTensor0",
               "aten::reshape": "ViewBackwardAutogradNestedTensor0",
               "aten::dropout": "NativeDropoutBackward0", "aten::to.dtype": "ToCopyBackward0",
               "aten::to.device": "ToCopyBackward0", "aten::to.dtype_layout": "ToCopyBackward0",
               "aten::contiguous": "CloneBackward0", "aten::sum.dim_IntList": "SumBackwardAutogradNestedTensor1",
               "aten::matmul": "MatmulBackward0", "aten::bmm": "BmmBackward0"}


def _name_node(r, op, args):
    """r's grad_fn, the node that gathers a nested op's result (the concatenation of its
    components' results, or the view of the buffer), named as PyTorch's node of the op
    (SoftmaxBackward0, LinearBackward0 ...): what y.grad_fn and repr(y) show. Its
    gradient flows as gpujit computed it (per component)."""
    from ..autograd.graph import OpBackward, backward_name, node_class
    gf = r._nt_buf.grad_fn
    if not isinstance(gf, OpBackward) or any(
            isinstance(a, NestedTensor) and a._nt_buf.grad_fn is gf for a in args):
        return
    name = _NODE_NAMES.get(op.name) or backward_name(op, {a.name: v for a, v in zip(
        op.schema.arguments, args)})
    if type(gf).__name__ != name:
        gf.__class__ = node_class(name)


# gpujit's op -> the op PyTorch's nested dispatch reaches (and names in its error)
_TORCH_DISPATCH = {"aten::log_softmax.int": "aten::_log_softmax",
                   "aten::numpy_T": "aten::permute"}


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
    return nt.is_contiguous() and nt._nt_buf.numel() == nt.numel()


def _map(nt, fn):
    """fn on each component, the results packed."""
    return from_components([fn(c) for c in components(nt)])


def _elementwise(nt, fn):
    """fn (elementwise) on nt: once on the buffer when it is packed, else per component."""
    if _packed(nt):
        return _like(nt, fn(nt._nt_buf))
    return _map(nt, fn)


def _wrap(d, ndim, name="dim"):
    from ..tensor import _wrap_dim
    return _wrap_dim(d, ndim, name)


# ---------------------------------------------------------------- pointwise
_UNARY = ("aten::relu", "aten::gelu", "aten::silu", "aten::tanh", "aten::abs", "aten::neg",
          "aten::sgn", "aten::sqrt", "aten::sin", "aten::cos", "aten::logical_not",
          "aten::isnan", "aten::isinf", "aten::isposinf", "aten::isneginf",
          "aten::ones_like", "aten::zeros_like", "aten::empty_like")


@_kernel(*_UNARY)
def _unary(op, self, *rest):
    return _elementwise(self, lambda b: _call(op, b, *rest))


@_kernel("aten::relu_", "aten::gelu_", "aten::silu_", "aten::tanh_", "aten::abs_",
         "aten::neg_", "aten::zero_", "aten::fill_.Scalar", "aten::fill_.Tensor")
def _unary_inplace(op, self, *rest):
    if _packed(self):
        _call(op, self._nt_buf, *rest)
    else:
        for c in components(self):
            _call(op, c, *rest)
    return self


_BINARY_NAMES = {"aten::add.Tensor": "add", "aten::sub.Tensor": "sub",
                 "aten::mul.Tensor": "mul", "aten::div.Tensor": "div",
                 "aten::div.Tensor_mode": "div", "aten::eq.Tensor": "eq",
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
    return _elementwise(nt, lambda b: call(b, o))


@_kernel("aten::add_.Tensor", "aten::mul_.Tensor")
def _binary_inplace(op, self, other, *rest):
    if not isinstance(self, NestedTensor):
        raise RuntimeError("Expected both self and other to be nested, but got a "
                           "non-nested self and nested other")
    _binary_operands(op.inplace_of or op, self, other)
    if isinstance(other, NestedTensor):
        for a, b in zip(components(self), components(other)):
            _call(op, a, b, *rest)
    elif _packed(self):
        _call(op, self._nt_buf, other, *rest)
    else:
        for a in components(self):
            _call(op, a, other, *rest)
    return self


# ---------------------------------------------------------------- nn
@_kernel("aten::softmax.int")
def _softmax(op, self, dim, dtype=None):
    d = _wrap(dim, self.dim())
    if d == 0:
        raise RuntimeError("Cannot apply softmax across nested dimension 0")
    return _map(self, lambda c: _call(op, c, d - 1, dtype))


@_kernel("aten::linear")
def _linear(op, input, weight, bias=None):
    if isinstance(weight, NestedTensor):
        raise not_implemented("aten::linear", weight._device)
    if input.dim() != 3 or weight.dim() != 2:
        raise RuntimeError(f"Linear requires nested_tensor.dim == 3 and dense_matrix.dim == "
                           f"2. Nested tensor dim: {input.dim()}. Dense tensor dim: "
                           f"{weight.dim()}")
    last = input.size(2)
    if last != weight.size(1):
        raise RuntimeError(f"Shape mismatch for NestedTensor Linear: Expected input's (a "
                           f"nested tensor) 'last_dim' to equal 'weight.size(1), but got: "
                           f"last_dim = {last}, and weight.size(1) = {weight.size(1)}")
    if not _packed(input):
        return _map(input, lambda c: op.public(c, weight, bias))
    # (the buffer's rows at once, as PyTorch's nested linear: one matrix product)
    out = op.public(input._nt_buf.view(-1, last), weight, bias).reshape(-1)
    sizes = input._nt_sizes.copy()
    sizes[:, -1] = weight.size(0)
    from ._tensor import _contiguous_strides
    counts = np.prod(sizes, axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return make_nested(out, sizes, _contiguous_strides(sizes), offsets)


@_kernel("aten::matmul", "aten::bmm")
def _matmul(op, self, other):
    if not (isinstance(self, NestedTensor) and isinstance(other, NestedTensor)):
        if op.name == "aten::bmm":
            dense = other if isinstance(self, NestedTensor) else self
            if dense.dim() != 3:
                raise RuntimeError(f"batch{2 if dense is other else 1} must be a 3D tensor")
        which = "a nested self and non-nested other" if isinstance(self, NestedTensor) \
            else "a non-nested self and nested other"
        raise RuntimeError(f"Expected both to be nested, but got {which}")
    if self._nt_sizes.shape[0] != other._nt_sizes.shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{self._nt_sizes.shape[0]}, {int(self._nt_sizes[0, -1])}] but "
                           f"got: [{other._nt_sizes.shape[0]}, "
                           f"{int(other._nt_sizes[0, 0])}].")
    f = op.public if op.name == "aten::matmul" else (lambda a, b: a.matmul(b))
    return from_components([f(a, b) for a, b in zip(components(self), components(other))])


@_kernel("aten::layer_norm")
def _layer_norm(op, input, normalized_shape, weight=None, bias=None, eps=1e-5,
                cudnn_enable=True):
    if weight is None or bias is None:
        raise ValueError("NestedTensor layer_norm requires weight and bias")
    n = len(normalized_shape)
    sizes = input._nt_sizes
    if n > sizes.shape[1] or any((sizes[:, -n + j] != s).any()
                                 for j, s in enumerate(normalized_shape)):
        raise RuntimeError("normalized_shape extends into irregular dimensions for the "
                           "nested tensor")
    return _map(input, lambda c: _call(op, c, normalized_shape, weight, bias, eps))


@_kernel("aten::dropout")
def _dropout(op, input, p, train):
    if not train or p == 0:
        return _like(input, input._nt_buf.view(-1)) if _packed(input) else input.clone()
    return _elementwise(input, lambda b: _call(op, b, p, train))


# ---------------------------------------------------------------- views and copies
@_kernel("aten::transpose.int")
def _transpose(op, self, dim0, dim1):
    n = self.dim()
    a, b = _wrap(dim0, n), _wrap(dim1, n)
    if a == 0 or b == 0:
        raise RuntimeError("Nested tensor dimension 0 cannot be transposed")
    sizes, strides = self._nt_sizes.copy(), self._nt_strides.copy()
    sizes[:, [a - 1, b - 1]] = sizes[:, [b - 1, a - 1]]
    strides[:, [a - 1, b - 1]] = strides[:, [b - 1, a - 1]]
    return make_nested(_alias(self._nt_buf), sizes, strides, self._nt_offsets)


@_kernel("aten::mT")
def _mT(op, self):
    if self.dim() < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.dim()}-D tensor.")
    return _transpose(op, self, -2, -1)


def _alias(buf):
    return buf.view(-1)


@_kernel("aten::unsqueeze")
def _unsqueeze(op, self, dim):
    d = _wrap(dim, self.dim() + 1)
    if d == 0:
        raise RuntimeError("unsqueeze(): For nested tensors, unsqueezing dimension 0 is not "
                           "supported at the moment if you need this feature, please open an "
                           "issue on github describing your use case.")
    sizes, strides = self._nt_sizes, self._nt_strides
    j = d - 1
    st = strides[:, j] * sizes[:, j] if j < sizes.shape[1] else np.ones(sizes.shape[0],
                                                                        np.int64)
    return make_nested(_alias(self._nt_buf), np.insert(sizes, j, 1, axis=1),
                       np.insert(strides, j, st, axis=1), self._nt_offsets)


def _new_sizes(op_word, nt, shape):
    """Each component's sizes for nt.reshape(shape) / view(shape), PyTorch's rules: the
    batch dimension stays, a -1 keeps the component's size at that dimension."""
    shape = [int(x) for x in shape]
    n = nt._nt_sizes.shape[0]
    if not shape or shape[0] != n:
        raise RuntimeError(f"{op_word}: For now nested {op_word} cannot change or infer the "
                           f"implicit batch dimension")
    out = []
    for old in nt._nt_sizes:
        new = []
        for j, s in enumerate(shape[1:]):
            if s == -1:
                if j >= len(old):
                    raise RuntimeError("nested tensor does not infer shape")
                s = int(old[j])
            new.append(s)
        numel = int(np.prod(old))
        if int(np.prod(new)) != numel:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        out.append(new)
    return out


def _views(nt, parts):
    """A nested tensor over nt's buffer whose components are parts (views of it)."""
    base = nt._nt_buf.storage_offset()
    sizes = np.array([tuple(p.shape) for p in parts], np.int64).reshape(len(parts), -1) \
        if parts else np.zeros((0, 0), np.int64)
    strides = np.array([p.stride() for p in parts], np.int64).reshape(sizes.shape)
    offsets = np.array([p.storage_offset() - base for p in parts], np.int64)
    return make_nested(_alias(nt._nt_buf), sizes, strides, offsets)


@_kernel("aten::view")
def _view(op, self, size):
    new = _new_sizes("view", self, size)
    return _views(self, [c.view(s) for c, s in zip(components(self), new)])


@_kernel("aten::reshape")
def _reshape(op, self, shape):
    new = _new_sizes("reshape", self, shape)
    cs = components(self)
    try:
        return _views(self, [c.view(s) for c, s in zip(cs, new)])
    except RuntimeError:        # (a component that no view gives: copies, as PyTorch's)
        return from_components([c.reshape(s) for c, s in zip(cs, new)])


@_kernel("aten::sum.dim_IntList")
def _sum(op, self, dim, keepdim=False, dtype=None):
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    if len(dims) != 1:
        raise RuntimeError("NestedTensor only allows reduction of a single dimension for now.")
    d = _wrap(dims[0], self.dim())
    if d != self.dim() - 1:
        raise RuntimeError(f"NestedTensor can only be reduced across the last dimension for "
                           f"now got dimension {d} instead.")
    if not keepdim:
        raise RuntimeError("NestedTensor always requires keepdim=True for now.")
    if dtype is not None:
        raise RuntimeError("NestedTensor does not support dtype argument for now.")
    return _map(self, lambda c: c.sum(d - 1, keepdim=True))


@_kernel("aten::masked_fill.Scalar")
def _masked_fill(op, self, mask, value):
    if not isinstance(mask, NestedTensor):
        raise RuntimeError("Expected both self and other to be nested, but got a nested self "
                           "and non-nested other")
    if not np.array_equal(self._nt_sizes, mask._nt_sizes):
        raise RuntimeError("masked_fill does not support broadcasting when given a "
                           "NestedTensor")
    return from_components([c.masked_fill(m, value) for c, m in
                            zip(components(self), components(mask))])


@_kernel("aten::select.int")
def _select(op, self, dim, index):
    d = _wrap(dim, self.dim())
    if d == 0:
        return self[index]
    return _views(self, [c.select(d - 1, index) for c in components(self)])


@_kernel("aten::narrow")
def _narrow(op, self, dim, start, length):
    if dim != 0:
        raise RuntimeError(f"narrow(): only dim=0 supported for nested tensors, but got: "
                           f"{dim}")
    n = self._nt_sizes.shape[0]
    start = start + n if start < 0 else start
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    k = slice(start, start + length)
    return make_nested(_alias(self._nt_buf), self._nt_sizes[k], self._nt_strides[k],
                       self._nt_offsets[k])


def _last_dim_only(self, dim, words):
    d = _wrap(dim, self.dim())
    if d != self.dim() - 1:
        raise RuntimeError(f"{words} for nested tensors is currently only supported for the "
                           f"last dimension.")
    return d


@_kernel("aten::chunk")
def _chunk(op, self, chunks, dim=0):
    d = _last_dim_only(self, dim, "Chunk")
    size = self.size(d)
    if size % chunks:
        raise RuntimeError(f"Chunk for nested tensors is only supported for nested tensors "
                           f"with trailing dimension divisible by chunks, got: {size} % "
                           f"{chunks} != 0")
    parts = [c.chunk(chunks, d - 1) for c in components(self)]
    return tuple(_views(self, list(p)) for p in zip(*parts))


@_kernel("aten::split_with_sizes")
def _split_with_sizes(op, self, split_sizes, dim=0):
    d = _last_dim_only(self, dim, "split_with_sizes")
    parts = [c.split_with_sizes(list(split_sizes), d - 1) for c in components(self)]
    return tuple(_views(self, list(p)) for p in zip(*parts))


_SQUEEZE_0 = ("squeeze(): For nested tensors, squeezing dimension 0 is not supported at the "
              "moment if you need this feature, please open an issue on github describing "
              "your use case.")


@_kernel("aten::squeeze")
def _squeeze_all(op, self):
    raise RuntimeError("squeeze(): For nested tensors, squeeze without the dim argument is not "
                       "supported at the moment, however you can use squeeze(Tensor self, int "
                       "dim) instead if you need this feature, please open an issue on github "
                       "describing your use case.")


@_kernel("aten::squeeze.dim", "aten::squeeze.dims")
def _squeeze(op, self, dim):
    n = self.dim()
    dims = sorted({_wrap(d, n) for d in ([dim] if isinstance(dim, int) else dim)},
                  reverse=True)
    if 0 in dims:
        raise RuntimeError(_SQUEEZE_0)
    sizes, strides = self._nt_sizes, self._nt_strides
    for d in dims:
        if (sizes[:, d - 1] == 1).all():
            sizes, strides = np.delete(sizes, d - 1, 1), np.delete(strides, d - 1, 1)
    return make_nested(_alias(self._nt_buf), sizes, strides, self._nt_offsets)


@_kernel("aten::cat")
def _cat(op, tensors, dim=0):
    ts = list(tensors)
    if not all(isinstance(t, NestedTensor) for t in ts):
        raise RuntimeError("Expected each tensor in given list to be nested.")
    d = _wrap(dim, ts[0].dim())
    if d == 0:          # (the components of each, one after the other)
        return from_components([c for t in ts for c in components(t)])
    if len({t._nt_sizes.shape[0] for t in ts}) != 1:
        raise RuntimeError("Expected all nested tensors to have the same number of components")
    return from_components([op.public(list(cs), d - 1) for cs in
                            zip(*[components(t) for t in ts])])


@_kernel("aten::where.self")
def _where(op, condition, self, other):
    for name, t in (("condition", condition), ("self", self), ("other", other)):
        if not isinstance(t, NestedTensor):
            raise RuntimeError(f"{name} must be nested")
    return from_components([op.public(c, a, b) for c, a, b in zip(
        components(condition), components(self), components(other))])


@_kernel("aten::all.dim")
def _all(op, self, dim, keepdim=False):
    if self.dtype.name != "bool":
        raise RuntimeError(f"all only supports bool tensor for result, got: "
                           f"{self.dtype.short_name}")
    d = _wrap(dim, self.dim())
    if d != self.dim() - 1:
        raise RuntimeError(f"NestedTensor can only be reduced across the last dimension for "
                           f"now got dimension {d} instead.")
    return _map(self, lambda c: c.all(d - 1, keepdim))


@_kernel("aten::copy_")
def _copy(op, self, src, non_blocking=False):
    if not (isinstance(self, NestedTensor) and isinstance(src, NestedTensor)):
        raise RuntimeError("get_nested_tensor_impl requires a NestedTensor.")
    if not np.array_equal(self._nt_sizes, src._nt_sizes):
        raise RuntimeError("copy_ only supports tensors that are the same size for Nested "
                           "implementations")
    for a, b in zip(components(self), components(src)):
        a.copy_(b)
    return self


@_kernel("aten::unbind.int")
def _unbind(op, self, dim=0):
    return self.unbind(dim)


@_kernel("aten::clone", "aten::contiguous")
def _clone(op, self, memory_format=None):
    return _map(self, lambda c: c.clone())


@_kernel("aten::to.dtype", "aten::to.device", "aten::to.dtype_layout")
def _to(op, self, *rest):
    b = _call(op, self._nt_buf, *rest)
    return self if b is self._nt_buf else _like(self, b)


@_kernel("aten::detach")
def _detach(op, self):
    return self.detach()


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


@_kernel("aten::size.int")
def _size(op, self, dim):
    return self.size(dim)


@_kernel("aten::is_contiguous", "aten::is_contiguous.memory_format")
def _is_contiguous(op, self, memory_format=None):
    return self.is_contiguous()


# ---------------------------------------------------------------- padding
@_kernel("aten::to_padded_tensor")
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
    from . import _warn_prototype
    _warn_prototype()
    return nt


@_kernel("aten::_transformer_encoder_layer_fwd")
def _encoder_layer(op, src, *rest):
    """The encoder layer's fast path on a nested batch: each sequence attends to its own
    tokens only, as PyTorch's (computed on the zero-padded batch with a key padding mask
    of the padded positions, which are then dropped)."""
    import gpujit
    from ..ops.nn_fastpath import _encoder_layer as layer
    lengths = [int(x) for x in src._nt_sizes[:, 0]]
    padded = to_padded_tensor(src, 0.0)
    T = padded.size(1)
    pad = gpujit.arange(T, device=src._device).unsqueeze(0) >= \
        gpujit.tensor(lengths, device=src._device).unsqueeze(1)
    rest = list(rest)
    if rest[-2] is not None:
        raise RuntimeError("neither src_key_padding_mask nor src_mask are not supported "
                           "with NestedTensor input")
    rest[-2], rest[-1] = pad, 1
    out = layer(padded, *rest)
    return from_components([out[i, :n] for i, n in enumerate(lengths)])


# ---------------------------------------------------------------- attention
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None):
    """F.scaled_dot_product_attention of nested query / key / value (B, heads, *, E): each
    component's attention over its own keys, as PyTorch's math path for nested tensors."""
    from ..nn import functional as F
    if is_causal:
        raise RuntimeError("_scaled_dot_product_attention: Nested tensors for query / key "
                           "are not supported when is_causal=True")
    if attn_mask is not None:
        raise RuntimeError("Scaled_dot_product_attention: Nested tensors for query / key are "
                           "not supported when an explicit attn_mask is set")
    for t in (query, key, value):
        if not isinstance(t, NestedTensor):
            raise RuntimeError("Expected both to be nested, but got a nested self and "
                               "non-nested other")
    if not all(t.is_contiguous() for t in (query, key, value)):
        raise RuntimeError("scaled_dot_product_attention: If inputs are nested tensors they "
                           "must be contiguous")
    return from_components([F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p,
                                                           scale=scale)
                            for q, k, v in zip(components(query), components(key),
                                               components(value))])


@_kernel("aten::_native_multi_head_attention")
def _mha(op, query, key, value, embed_dim, num_head, *rest):
    """The attention fast path on a nested batch: each sequence attends to its own tokens;
    the weights (need_weights) dense, zero-padded, as PyTorch's."""
    import gpujit
    from ..ops.nn_fastpath import _mha as dense
    for t in (query, key, value):
        if not isinstance(t, NestedTensor):
            raise RuntimeError("Expected both to be nested, but got a nested self and "
                               "non-nested other")
    *weights, mask, need_weights, average, mask_type = rest
    outs, attn = [], []
    for q, k, v in zip(components(query), components(key), components(value)):
        o, w = dense(q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0), embed_dim, num_head,
                     *weights, mask, need_weights, average, mask_type)
        outs.append(o[0])
        attn.append(w)
    out = from_components(outs)
    if not need_weights:
        return out, None
    T = max([w.size(-2) for w in attn] or [0])
    S = max([w.size(-1) for w in attn] or [0])
    from ..nn import functional as F
    padded = [F.pad(w[0], [0, S - w.size(-1), 0, T - w.size(-2)]) for w in attn]
    return out, gpujit.stack(padded)


@_kernel("aten::embedding")
def _embedding(op, weight, indices, *rest):
    if isinstance(weight, NestedTensor):
        raise not_implemented("aten::embedding", weight._device)
    return _map(indices, lambda c: _call(op, weight, c, *rest))
