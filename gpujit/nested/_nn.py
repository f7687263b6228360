"""Nested kernels of the nn ops (registered in _ops._KERNELS): softmax over a regular dim,
linear (one product over the buffer's rows), matmul / bmm, layer_norm, dropout, embedding,
scaled_dot_product_attention and the fast paths of MultiheadAttention and
TransformerEncoderLayer (each sequence attends to its own tokens, as PyTorch's).
"""
from __future__ import annotations

import numpy as np

from ._tensor import NestedTensor, make_nested, from_components, components, _like, \
    not_implemented, quiet_nested
from ._ops import _kernel, _call, _map, _wrap, _packed, _elementwise, to_padded_tensor

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
    if not input.is_contiguous():
        raise RuntimeError("for now linear only supports contiguous nested tensor")
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


@_kernel("aten::matmul")
def _matmul(op, self, other):
    if not (isinstance(self, NestedTensor) and isinstance(other, NestedTensor)):
        which = "a nested self and non-nested other" if isinstance(self, NestedTensor) \
            else "a non-nested self and nested other"
        raise RuntimeError(f"Expected both to be nested, but got {which}")
    n, m = self._nt_sizes.shape[0], other._nt_sizes.shape[0]
    if n != m:
        raise RuntimeError(f"matmul: Expected size for the 1st dimension of 2nd input tensor "
                           f"to be: {n} but got: {m}.")
    return from_components([op.public(a, b) for a, b in zip(components(self),
                                                             components(other))])


@_kernel("aten::bmm")
def _bmm(op, self, other):
    """A nested batch times a nested one, or times a dense (B, K, N) one (either side):
    each component by its own matrix, as PyTorch's nested bmm."""
    for i, t in enumerate((self, other), 1):
        if t.dim() != 3:
            raise RuntimeError(f"batch{i} must be a 3D tensor")
    a = components(self) if isinstance(self, NestedTensor) else None
    b = components(other) if isinstance(other, NestedTensor) else None
    n = len(a) if a is not None else self.size(0)
    m = len(b) if b is not None else other.size(0)
    if n != m:
        raise RuntimeError(f"Expected size for the 1st dimension of batch2 tensor to be: {n} "
                           f"but got: {m}.")
    a = a if a is not None else list(self.unbind(0))
    b = b if b is not None else list(other.unbind(0))
    for i, (x, y) in enumerate(zip(a, b)):
        if x.size(-1) != y.size(0):
            raise RuntimeError(f"{i}-th nested matrices in batch cannot be multiplied "
                               f"({x.size(0)}x{x.size(1)} and {y.size(0)}x{y.size(1)})")
    return from_components([x.matmul(y) for x, y in zip(a, b)])


@_kernel("aten::layer_norm")
def _layer_norm(op, input, normalized_shape, weight=None, bias=None, eps=1e-5,
                cudnn_enable=True):
    if weight is None or bias is None:
        raise ValueError("NestedTensor layer_norm requires weight and bias")
    if not input.is_contiguous():
        raise RuntimeError("Expected nested_tensor_impl_is_contiguous(nt_input) to be true, "
                           "but got false.  (Could this error message be improved?  If so, "
                           "please report an enhancement request to PyTorch.)")
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
    if any(getattr(t, "_nested_layout_name", None) == "jagged" for t in (query, key, value)):
        return _jagged_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)
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
    out = _per_component(query, key, value, dropout_p, scale)
    from ..autograd.graph import OpBackward, node_class
    if isinstance(out.grad_fn, OpBackward):     # (PyTorch's math path ends in a matmul)
        out.grad_fn.__class__ = node_class("MatmulBackward0")
    return out


def _per_component(query, key, value, dropout_p, scale):
    from ..nn import functional as F
    with quiet_nested():
        return from_components([F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p,
                                                                scale=scale)
                                for q, k, v in zip(components(query), components(key),
                                                   components(value))])


def _jagged_attention(query, key, value, attn_mask, dropout_p, is_causal, scale):
    """F.scaled_dot_product_attention of jagged query / key / value, as PyTorch's jagged
    SDPA on the CPU: its input checks (ValueError), a ragged dim 1 of 4-D inputs on values
    (the dense op), else its math path -- each component over its own keys -- which wants
    (B, heads, j, E) inputs whose transpose(1, 2) is contiguous and no is_causal."""
    from ..nn import functional as F
    from ._jagged import make_jagged
    qkv = (query, key, value)
    if not all(getattr(t, "_nested_layout_name", None) == "jagged" for t in qkv):
        raise ValueError(f"Expected query, key, and value to be nested tensors, but got "
                         f"query.is_nested: {query.is_nested}, key.is_nested: "
                         f"{key.is_nested}, and value.is_nested: {value.is_nested} instead.")
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise ValueError(f"Expected query, key, and value to have the same dtype, but got "
                         f"query.dtype: {query.dtype}, key.dtype: {key.dtype}, and "
                         f"value.dtype: {value.dtype} instead.")
    if query.dim() < 3 or key.dim() < 3 or value.dim() < 3:
        raise ValueError(f"Expected query, key, and value to all be at least 3 dimensional, "
                         f"but got query.dim: {query.dim()}, key.dim: {key.dim()} and "
                         f"value.dim: {value.dim()} instead.")
    r = [t._ragged_idx for t in qkv]
    if len(set(r)) != 1:
        raise ValueError(f"Expected query, key, and value to all be ragged on the same "
                         f"dimension, but got ragged dims {r[0]}, {r[1]}, and {r[2]}, "
                         f"respectively.")
    if attn_mask is not None:
        raise ValueError("Masks are not yet supported!")
    if query.dim() > 3 and r[0] == 1:
        out = F.scaled_dot_product_attention(query.values(), key.values(), value.values(),
                                             dropout_p=dropout_p, is_causal=is_causal,
                                             scale=scale)
        return make_jagged(out, query.offsets(), query.lengths(), 1, query._jg_j)
    if is_causal or not all(t.transpose(1, 2).is_contiguous() for t in qkv):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found.")
    return _jagged_attention_out(_per_component(query, key, value, dropout_p, scale), query)


def _jagged_attention_out(out, query):
    """The attention result of a jagged query (B, heads, j, E) as PyTorch's: a (B, j,
    heads, E) jagged tensor of query's offsets (its j) transposed, so that
    out.transpose(1, 2) is contiguous for the heads to be merged."""
    import gpujit
    from ._jagged import as_jagged, make_jagged
    if query.dim() != 4 or query._ragged_idx != 2 or query.lengths() is not None or \
            int(query.offsets()[0]) != 0:
        return as_jagged(out, query)
    values = gpujit.cat([c.transpose(0, 1) for c in components(out)])
    return make_jagged(values, query.offsets(), None, 1, query._jg_j).transpose(1, 2)


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
