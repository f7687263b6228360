"""ATen's inference fast paths of nn.MultiheadAttention and nn.TransformerEncoderLayer:
aten::_native_multi_head_attention and aten::_transformer_encoder_layer_fwd.

PyTorch's Python modules call them in eval mode without gradients (self-attention,
batch_first, boolean masks...), so code that torch.jit.script compiled from those modules,
and that torch.jit.save wrote, calls them; gpujit.jit.load of such an archive runs them
here. gpujit's own modules take their one attention path and never call these.

Both are composites of registry ops, computed as ATen's CPU kernels compute them: the
query rescaled by 1/sqrt(head_dim) after its bias, scores masked where the mask is true
(a floating mask: where it is non-zero) before the softmax (a row with every key masked
is NaN, as PyTorch's), the heads' weights averaged when asked. Like nn_rnn's ops they are
CompositeImplicitAutograd: with gradients their ops record, while tracing the op records
once.
"""
from __future__ import annotations

import math

from .derivatives import nondifferentiable as _nondifferentiable
from .meta import TensorMeta
from .nn_rnn import _traced
from .registry import op


def _mha(query, key, value, embed_dim, num_head, qkv_weight, qkv_bias, proj_weight,
         proj_bias, mask=None, need_weights=True, average_attn_weights=True, mask_type=None):
    import gpujit
    from ..nn import functional as F
    if query.dim() != 3:
        raise RuntimeError(f"expected 3-D `query`, got {query.dim()}-D tensor")
    B, T, D = query.shape
    if D != embed_dim:
        raise RuntimeError(f"query's embedding dimension {D} does not match embed_dim "
                           f"{embed_dim}")
    if D % num_head != 0:
        raise RuntimeError(f"embed_dim ({D}) must be divisible by num_head ({num_head})")
    dh = D // num_head
    S = key.size(1)
    wq, wk, wv = qkv_weight.chunk(3, 0)
    bq, bk, bv = qkv_bias.chunk(3, 0)
    q = (F.linear(query, wq, bq) / math.sqrt(dh)).view(B, T, num_head, dh).transpose(1, 2)
    k = F.linear(key, wk, bk).view(B, S, num_head, dh).transpose(1, 2)
    v = F.linear(value, wv, bv).view(B, S, num_head, dh).transpose(1, 2)
    scores = gpujit.matmul(q, k.transpose(-2, -1))
    if mask is not None:
        m = mask if mask.dtype == gpujit.bool else mask != 0
        if mask_type == 1 or (mask_type is None and m.dim() == 2 and
                              tuple(m.shape) == (B, S) and (B, S) != (T, S)):
            m = m.view(B, 1, 1, S)          # a key padding mask
        elif m.dim() == 3:
            m = m.view(B, -1, T, S)
        scores = scores.masked_fill(m, float("-inf"))
    attn = F.softmax(scores, -1)
    out = gpujit.matmul(attn, v).transpose(1, 2).reshape(B, T, D)
    out = F.linear(out, proj_weight, proj_bias)
    if not need_weights:
        return out, None
    return out, (attn.sum(1) / num_head if average_attn_weights else attn)


def _encoder_layer(src, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias,
                   use_gelu, norm_first, eps, norm_weight_1, norm_bias_1, norm_weight_2,
                   norm_bias_2, ffn_weight_1, ffn_bias_1, ffn_weight_2, ffn_bias_2, mask=None,
                   mask_type=None):
    from ..nn import functional as F
    D = src.size(-1)
    x = F.layer_norm(src, [D], norm_weight_1, norm_bias_1, eps) if norm_first else src
    x = _mha(x, x, x, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight, proj_bias,
             mask, False, True, mask_type)[0] + src
    if not norm_first:
        x = F.layer_norm(x, [D], norm_weight_1, norm_bias_1, eps)
    h = F.layer_norm(x, [D], norm_weight_2, norm_bias_2, eps) if norm_first else x
    h = F.linear(h, ffn_weight_1, ffn_bias_1)
    h = F.gelu(h) if use_gelu else F.relu(h)
    x = F.linear(h, ffn_weight_2, ffn_bias_2) + x
    if not norm_first:
        x = F.layer_norm(x, [D], norm_weight_2, norm_bias_2, eps)
    return x


def _impl(composite):
    """The eager body: arrays as Tensors again, the composite run unrecorded, its Tensors'
    arrays handed back."""
    def impl(xp, *args):
        from ..library import _unrecorded
        from ..device import device_of_array
        from ..tensor import Tensor
        from .registry import wrap_array

        def t(a):
            if a is None or isinstance(a, (Tensor, bool, int, float, str)):
                return a
            return wrap_array(a, device_of_array(a))
        with _unrecorded():
            r = composite(*[t(a) for a in args])
        if isinstance(r, tuple):
            return tuple(None if e is None else e._data for e in r)
        return r._data
    return impl


def _mha_meta(query, key, value, embed_dim, num_head, qkv_weight, qkv_bias, proj_weight,
              proj_bias, mask=None, need_weights=True, average_attn_weights=True,
              mask_type=None):
    B, T, D = query.shape
    S = key.shape[1]
    out = TensorMeta(query.dtype, (B, T, D), query.device)
    if not need_weights:
        return out, None
    shape = (B, T, S) if average_attn_weights else (B, num_head, T, S)
    return out, TensorMeta(query.dtype, shape, query.device)


def _declare(schema, composite, meta, tags=()):
    d = op(schema, tags={"nn", *tags}, meta=meta, method=False)(_impl(composite)).op
    d.composite = composite
    d.traced = _traced(d, composite)
    return d


native_multi_head_attention = _declare(
    "aten::_native_multi_head_attention(Tensor query, Tensor key, Tensor value, "
    "int embed_dim, int num_head, Tensor qkv_weight, Tensor qkv_bias, Tensor proj_weight, "
    "Tensor proj_bias, Tensor? mask=None, bool need_weights=True, "
    "bool average_attn_weights=True, int? mask_type=None) -> (Tensor, Tensor)",
    _mha, _mha_meta, tags=("undefined_results",))

transformer_encoder_layer_fwd = _declare(
    "aten::_transformer_encoder_layer_fwd(Tensor src, int embed_dim, int num_heads, "
    "Tensor qkv_weight, Tensor qkv_bias, Tensor proj_weight, Tensor proj_bias, "
    "bool use_gelu, bool norm_first, float eps, Tensor norm_weight_1, Tensor norm_bias_1, "
    "Tensor norm_weight_2, Tensor norm_bias_2, Tensor ffn_weight_1, Tensor ffn_bias_1, "
    "Tensor ffn_weight_2, Tensor ffn_bias_2, Tensor? mask=None, int? mask_type=None) "
    "-> Tensor",
    _encoder_layer, lambda src, *rest: TensorMeta(src.dtype, tuple(src.shape), src.device))



def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
          enable_gqa=False):
    from ..nn.functional_attention import scaled_dot_product_attention
    return scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal,
                                        scale=scale, enable_gqa=enable_gqa)


def _sdpa_meta(query, key, value, *rest, **kw):
    return TensorMeta(query.dtype, tuple(query.shape[:-1]) + (value.shape[-1],), query.device)


# aten::scaled_dot_product_attention: what archives torch.jit.save wrote call
# (`torch.scaled_dot_product_attention(q, k, v, mask, 0., False)`); no public entry point:
# gpujit's F.scaled_dot_product_attention (the same composite) stays Python, so traces and
# scripts of it keep its pointwise ops fusible, and PyTorch has no torch.<name> either
sdpa = op("aten::scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, "
          "Tensor? attn_mask=None, float dropout_p=0., bool is_causal=False, *, "
          "float? scale=None, bool enable_gqa=False) -> Tensor", tags={"nn"},
          meta=_sdpa_meta, method=False, function=False)(_impl(_sdpa)).op
sdpa.composite = _sdpa
sdpa.traced = _traced(sdpa, _sdpa)

_nondifferentiable(native_multi_head_attention, transformer_encoder_layer_fwd, sdpa, reason=(
    "CompositeImplicitAutograd, as PyTorch's: with an input that requires grad the op runs "
    "as its composite (its registry ops record the gradients), also while tracing"))


# ---------------------------------------------------------------- nested-tensor entry points
# TransformerEncoder's inference fast path turns a padded batch with a left-aligned padding
# mask into a nested tensor (eval, no gradients, enable_nested_tensor) and back. gpujit's own
# TransformerEncoder computes that path's result on the padded batch (nn/modules/
# transformer.py); code scripted by PyTorch calls these ops. The ops that make or take a
# nested tensor hand the call to their nested kernel (gpujit/nested/_ops.py): a nested
# operand's array read raises registry.NestedOperand, and so does the impl of an op whose
# result is nested (no array can hold it).

@op("aten::_nested_tensor_from_mask_left_aligned(Tensor t, Tensor mask) -> bool",
    meta=lambda t, mask: bool, method=False)
def nested_tensor_from_mask_left_aligned(xp, t, mask):
    """Whether every row of mask (True: a real token) is a run of Trues then Falses."""
    if t.ndim != 3:
        raise RuntimeError("Input should be a 3D tensor, N * L * D")
    if mask.ndim != 2 or tuple(mask.shape) != tuple(t.shape[:2]):
        raise RuntimeError("Mask size should match input size")
    if mask.dtype != bool:
        from .. import dtypes as _dt
        raise RuntimeError(f"Expected mask to be of ScalarType Bool, but got "
                           f"{_dt.from_numpy_dtype(mask.dtype).short_name} instead.")
    return not bool((mask[:, 1:] & ~mask[:, :-1]).any())


def _nested_result(op_name):
    from .registry import NestedOperand, OPS
    from ..nested._tensor import not_implemented
    from ..device import cpu
    return NestedOperand(str(not_implemented(op_name, cpu)), OPS[op_name])


@op("aten::_nested_tensor_from_mask(Tensor t, Tensor mask, bool mask_check=True) -> Tensor",
    meta=lambda t, mask, mask_check=True: TensorMeta(t.dtype, tuple(t.shape), t.device),
    method=False)
def nested_tensor_from_mask(xp, t, mask, mask_check=True):
    """torch._nested_tensor_from_mask: a nested tensor (nested/_ops.from_mask)."""
    raise _nested_result("aten::_nested_tensor_from_mask")


def _from_list_meta(list, dtype=None, layout=None, device=None, pin_memory=None):
    first = list[0] if list else None
    return TensorMeta(dtype or (first.dtype if first is not None else None),
                      (len(list),) + (tuple(first.shape) if first is not None else ()),
                      device or (first.device if first is not None else None))


@op("aten::_nested_tensor_from_tensor_list(Tensor[] list, ScalarType? dtype=None, "
    "Layout? layout=None, Device? device=None, bool? pin_memory=None) -> Tensor",
    meta=_from_list_meta, method=False)
def nested_tensor_from_tensor_list(xp, list, dtype=None, layout=None, device=None,
                                   pin_memory=None):
    """torch._nested_tensor_from_tensor_list: a nested tensor (gpujit/nested)."""
    raise _nested_result("aten::_nested_tensor_from_tensor_list")


@op("aten::to_padded_tensor(Tensor self, float padding, int[]? output_size=None) -> Tensor",
    meta=lambda self, padding, output_size=None: TensorMeta(self.dtype, tuple(self.shape),
                                                             self.device),
    function=False)
def to_padded_tensor(xp, self, padding, output_size=None):
    """x.to_padded_tensor(...): of nested tensors only (nested/_ops.to_padded_tensor); a
    dense tensor reaches this body, PyTorch's NotImplementedError for its backend."""
    from ..nested._ops import dense_refusal
    from ..device import device_of_array
    raise dense_refusal(device_of_array(self))


@op("aten::nested_to_padded_tensor(Tensor self, float padding, int[]? output_size=None) -> "
    "Tensor", meta=lambda self, padding, output_size=None: TensorMeta(
        self.dtype, tuple(self.shape), self.device), method=False, function=False)
def nested_to_padded_tensor(xp, self, padding, output_size=None):
    """torch.nested.to_padded_tensor (its scripted form): to_padded_tensor's, by name."""
    from ..nested._ops import dense_refusal
    from ..device import device_of_array
    raise dense_refusal(device_of_array(self))
