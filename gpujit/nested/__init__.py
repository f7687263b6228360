"""torch.nested, strided layout: ragged batches as one tensor.

    nt = gpujit.nested.nested_tensor([gpujit.randn(2, 8), gpujit.randn(5, 8)])
    nt.dim(), nt.size(0), nt.size(2)          # 3, 2, 8 (nt.size(1) is irregular)
    y = F.softmax(F.linear(nt, w, b).relu(), -1)
    y.to_padded_tensor(0.0)                    # dense (2, 5, out), zeros past each row

What is here: nested_tensor / as_nested_tensor / to_padded_tensor, torch's private
constructors (_nested_tensor_from_tensor_list, _nested_tensor_from_mask), the facts
(is_nested, dim, size(i), numel, _nested_tensor_size/strides/storage_offsets, values(),
unbind, repr), the ops PyTorch's NestedTensorCPU backend has that the Transformer fast
path and simple ragged code use (gpujit/nested/_ops.py, _views.py, _nn.py; the nested
fast paths of nn.MultiheadAttention / TransformerEncoderLayer are their modules' own
scriptable methods, which call the fused ops these kernels serve); an op PyTorch's
nested backend lacks raises its NotImplementedError ("Could not run 'aten::exp' with
arguments from the 'NestedTensorCPU' backend"), sizes and strides PyTorch's
"NestedTensorImpl doesn't support sizes". The jagged layout (layout=torch.jagged,
nested_tensor_from_jagged, masked_select, narrow(..., layout=torch.jagged)) is
gpujit/nested/_jagged.py's (its ops: _jagged_ops.py), computed by the same kernels.

The representation, decided by what PyTorch's strided NestedTensorImpl shows its users:
one contiguous 1-D buffer Tensor plus, per component, sizes, strides and a storage offset
(host int64 arrays, as PyTorch's CPU int64 metadata tensors). Not a list of dense tensors,
because (measured on torch 2.13) _nested_tensor_strides() / _nested_tensor_storage_offsets()
/ values() expose exactly that layout, unbind() returns views of the buffer (storage
offsets 0, 6, ... and writes through them are seen), transpose(1, 2) is a view whose
strides are swapped (is_contiguous() False), and pointwise ops run once over the whole
buffer (the result's grad_fn is the op's: MulBackward0, ReluBackward0). Autograd lives on
the buffer (gpujit/nested/_tensor.py).

A nested tensor never fuses: a scripted function that meets one runs op by op
(gpujit/runtime/executor.py), through the ops' nested kernels; a trace records the nested
ops themselves, their values typed `FloatTensor(...)` without sizes, as PyTorch's tracer.
torch.save / gpujit.load write and read them as PyTorch's _rebuild_nested_tensor.
"""
from __future__ import annotations

import sys

from .. import dtypes as _dt
from ..tensor import Tensor
from ._tensor import (NestedTensor, from_components, make_nested, _contiguous_strides,
                      constructor_frame)
from ._ops import _kernel
from ._jagged import make_jagged, jagged_from_list
from ..ops import registry as _registry

__all__ = ["to_padded_tensor", "as_nested_tensor", "nested_tensor", "narrow",
           "nested_tensor_from_jagged", "masked_select"]

def _check_layout(layout):
    if layout is None or layout is _dt.strided or layout is _dt.jagged:
        return
    raise RuntimeError(f"Specified layout is unsupported for nested tensors: {layout}")


def _from_list(items, dtype, device, copy):
    """A contiguous nested tensor of items (tensors, or data torch.tensor takes): each
    converted to dtype / device (the first item's when None: PyTorch's), all of one dim."""
    import gpujit
    ts = []
    for x in items:
        if isinstance(x, NestedTensor):
            raise RuntimeError("nested_tensor(): a nested tensor cannot be a component")
        if isinstance(x, Tensor):
            ts.append(x.detach() if copy else x)
        else:
            ts.append(gpujit.tensor(x, dtype=dtype))
    for i, t in enumerate(ts[1:], 1):
        if t.dim() != ts[0].dim():
            raise RuntimeError(f"All Tensors given to nested_tensor must have the same "
                               f"dimension. Found dimension {t.dim()} for Tensor at index "
                               f"{i} and dimension {ts[0].dim()} for Tensor at index 0.")
    if ts:
        dtype = dtype if dtype is not None else ts[0].dtype
        device = device if device is not None else ts[0].device
        ts = [t.to(device=device, dtype=dtype) for t in ts]
    return from_components(ts, dtype=dtype, device=device)


def nested_tensor(tensor_list, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A nested tensor (a leaf, no autograd history) of copies of tensor_list's tensors
    (or of the data torch.tensor takes), all of the same dim."""
    from ..ops.creation import check_pin_memory
    check_pin_memory("nested_tensor", pin_memory, none_ok=False)
    _check_layout(layout)
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError("Only lists (List[Tensor] and List[List...[Scalar]]) are accepted in "
                        "nested_tensor")
    if layout is _dt.jagged:
        import gpujit
        ts = [t if isinstance(t, Tensor) else gpujit.as_tensor(t) for t in tensor_list]
        with gpujit.no_grad():
            nt = jagged_from_list(ts, dtype, device)
        return nt.requires_grad_(requires_grad)
    with constructor_frame(sys._getframe()):
        nt = _from_list(tensor_list, dtype, device, copy=True)
    if requires_grad:
        if nt._dtype.category < _dt.FLOATING:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        nt.requires_grad_(True)
    return nt


def as_nested_tensor(ts, dtype=None, device=None, layout=None):
    """A nested tensor keeping autograd history: of a list / tuple of tensors (copied into
    one buffer; their gradients flow back), or of a dense tensor (its rows, its memory
    when no dtype / device change and contiguous), or a nested tensor itself."""
    is_list = isinstance(ts, (list, tuple)) and all(isinstance(t, Tensor) for t in ts)
    if not isinstance(ts, Tensor) and not is_list:
        raise TypeError("as_nested_tensor(): Expected first argument to be a tensor or a list "
                        "/ tuple of tensors ")
    if isinstance(ts, Tensor) and ts.dim() < 2:
        raise RuntimeError("as_nested_tensor(): Expected tensor argument to have dim() > 1")
    if isinstance(ts, NestedTensor):
        if layout is ts.layout:
            return ts.to(device=device, dtype=dtype)
        raise RuntimeError("as_nested_tensor(): Converting between nested tensor layouts is "
                           "not supported")
    _check_layout(layout)
    if layout is _dt.jagged:
        return _as_jagged(ts, dtype, device)
    with constructor_frame(sys._getframe()):
        return _as_nested(ts, dtype, device)


def _as_nested(ts, dtype, device):
    if isinstance(ts, Tensor):
        import numpy as np
        buf = ts.reshape(-1).to(device=device, dtype=dtype)
        sizes = np.array([tuple(ts.shape[1:])] * ts.shape[0], np.int64).reshape(
            ts.shape[0], ts.dim() - 1)
        counts = np.prod(sizes, axis=1)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        nt = make_nested(buf, sizes, _contiguous_strides(sizes), offsets)
    else:
        nt = _from_list(list(ts), dtype, device, copy=False)
        _name_list_node(nt)
    return nt


def _as_jagged(ts, dtype, device):
    """as_nested_tensor(ts, layout=torch.jagged): of a list of tensors (copied into one
    values tensor, their gradients flowing back), or of a dense (B, L, ...) tensor (B
    components of L rows: its memory when contiguous)."""
    import gpujit
    if isinstance(ts, Tensor):
        device = device if device is not None else ts.device
        values = ts.contiguous().flatten(0, 1).to(device=device, dtype=dtype)
        B, L = ts.shape[0], ts.shape[1]
        offsets = gpujit.arange(0, B * L + 1, L, device=device, dtype=_dt.int64)
        nt = make_jagged(values, offsets)
    else:
        nt = jagged_from_list(list(ts), dtype, device)
    _name_jagged_node(nt)
    return nt


def _name_jagged_node(nt):
    """PyTorch's node of a jagged nested tensor viewing values that require grad."""
    from ..autograd.graph import OpBackward, node_class
    gf = nt._nt_buf.grad_fn
    if isinstance(gf, OpBackward):
        gf.__class__ = node_class("NestedViewFromJaggedBackward0")


def nested_tensor_from_jagged(values, offsets=None, lengths=None, jagged_dim=None,
                              min_seqlen=None, max_seqlen=None):
    """A jagged nested tensor viewing values (component i: values' rows offsets[i] ... along
    dim jagged_dim - 1, lengths[i] of them when given, else up to offsets[i + 1]); its
    gradient flows to values."""
    if offsets is None:
        if lengths is None:
            raise RuntimeError("nested_tensor_from_jagged(): At least one of offsets or "
                               "lengths is required.")
        from ..nn import functional as F
        offsets, lengths = F.pad(lengths.cumsum(0), (1, 0)), None
    if jagged_dim is None:
        jagged_dim = 1
    elif jagged_dim < 1:
        raise ValueError(f"Expected jagged_dim >=1, but got {jagged_dim}.")
    nt = make_jagged(values, offsets, lengths, jagged_dim)
    if min_seqlen is not None or max_seqlen is not None:
        nt._jg_j.seqlens = (min_seqlen, max_seqlen)
    _name_jagged_node(nt)
    return nt


def masked_select(tensor, mask):
    """A jagged nested tensor of tensor's elements where mask is True, one component per
    row of its last dim (mask broadcast to tensor's shape)."""
    from ..nn import functional as F
    if tensor.layout is not _dt.strided:
        raise RuntimeError(f"torch.nested.masked_select requires a strided tensor, given "
                           f"{tensor.layout}")
    if mask.layout is not _dt.strided:
        raise RuntimeError(f"torch.nested.masked_select requires a strided mask, given: "
                           f"{mask.layout}")
    values = tensor.masked_select(mask)
    lengths = mask.expand(tensor.shape).sum(dim=tensor.dim() - 1).view(-1)
    nt = make_jagged(values, F.pad(lengths.cumsum(dim=0), (1, 0)))
    _name_jagged_node(nt)
    return nt


def _name_list_node(nt):
    """The node of a nested tensor made from a list of tensors that require grad, as
    PyTorch's (NestedTensorFromTensorListBackward0; its gradient flows to each tensor)."""
    from ..autograd.graph import OpBackward, node_class
    gf = nt._nt_buf.grad_fn
    if isinstance(gf, OpBackward):
        gf.__class__ = node_class("NestedTensorFromTensorListBackward0")


def to_padded_tensor(input, padding, output_size=None, out=None):
    """The padded dense tensor of nested tensor input (x.to_padded_tensor); in scripted
    code aten::nested_to_padded_tensor, as TorchScript's."""
    from ..ops.registry import OPS
    r = OPS["aten::nested_to_padded_tensor"].public(input, padding, output_size)
    if out is not None:
        out.resize_(r.shape).copy_(r)
        return out
    return r


# (a scripted torch.nested.to_padded_tensor(...) calls this op: the frontend's
# alias_target follows a function's __name__ and op)
to_padded_tensor.__name__ = "nested_to_padded_tensor"
to_padded_tensor.op = _registry.OPS["aten::nested_to_padded_tensor"]


@_kernel("aten::_nested_tensor_from_tensor_list")
def _from_tensor_list_op(op, list, dtype=None, layout=None, device=None, pin_memory=None):
    """torch._nested_tensor_from_tensor_list (a registry op, so scripts call it too): the
    nested tensor of the tensors (autograd history kept)."""
    _check_layout(layout)
    nt = _from_list(list, dtype, device, copy=False)
    _name_list_node(nt)
    return nt


def narrow(tensor, dim, start, length, layout=None):
    """torch.nested.narrow, strided layout: the nested tensor of tensor's rows, each
    narrowed along dim by (start, length) -- ints only (PyTorch's strided narrow)."""
    import operator
    for name, v in (("start", start), ("length", length)):
        if not isinstance(v, Tensor):
            try:
                operator.index(v)
            except TypeError:
                raise RuntimeError(f"{name} must be an integer or a tensor") from None
    if layout is _dt.jagged:
        return _narrow_jagged(tensor, dim, start, length)
    if layout is not None and layout is not _dt.strided:
        raise RuntimeError(f"Specified layout is unsupported for nested narrow: {layout}")
    if isinstance(start, Tensor) or isinstance(length, Tensor):
        raise RuntimeError("start and length must be integers for the strided layout NT impl")
    return as_nested_tensor(list(tensor.unbind(0))).narrow(dim, start, length)


def _narrow_jagged(tensor, dim, start, length):
    """torch.nested.narrow(..., layout=torch.jagged): a view of tensor (B, L, ...) whose
    component i is tensor[i, start[i] : start[i] + length[i]] (start, length: ints or
    tensors broadcasting to B)."""
    import gpujit
    if dim != 1:
        raise RuntimeError("jagged layout only supports dim=1")
    dev = tensor.device
    start = start if isinstance(start, Tensor) else gpujit.tensor([int(start)], device=dev)
    length = length if isinstance(length, Tensor) else gpujit.tensor([int(length)],
                                                                    device=dev)
    B = tensor.shape[0]
    try:
        start, length = start.expand(B), length.expand(B)
    except RuntimeError:
        raise RuntimeError("When constructing a jagged nested tensor using narrow(), your "
                           "start and length must be Tensors that broadcast to "
                           "input.shape[0]") from None
    if tensor.dim() < 2:
        raise AssertionError("tensor must at least be 2D for the nested narrow op to work")
    L = tensor.shape[1]
    s, n = start.tolist(), length.tolist()
    starts = [s[i] + i * L for i in range(B)]
    offsets = gpujit.tensor(starts + [starts[-1] + n[-1]], dtype=_dt.int64, device=dev)
    values = tensor.view(-1, *tensor.shape[2:]) if tensor.dim() > 2 else tensor.view(-1)
    packed = all(starts[i] + n[i] == starts[i + 1] for i in range(B - 1))
    nt = make_jagged(values[starts[0]:starts[-1] + n[-1]], offsets - starts[0]) if packed \
        else make_jagged(values, offsets, length)
    _name_jagged_node(nt)
    return nt
