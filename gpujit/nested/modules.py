"""The nested-tensor fast paths of nn.MultiheadAttention and nn.TransformerEncoderLayer,
as torch 2.13's modules take them: with a nested input, in eval mode, without gradients and
with the module's settings the fused ops take, the module calls its fused op
(aten::_native_multi_head_attention / aten::_transformer_encoder_layer_fwd, whose nested
kernels are in gpujit/nested/_nn.py); otherwise MultiheadAttention raises PyTorch's
AssertionError naming the reason (its Python path takes no nested tensors). gpujit's
modules call these only for a nested input (eager), so dense inputs keep their path.
"""
from __future__ import annotations

import gpujit

__all__ = ["multi_head_attention", "encoder_layer"]


def _grad_blocks(tensors):
    return gpujit.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def _mha_why(m, query, key, value, key_padding_mask, attn_mask):
    """PyTorch's why_not_fast_path of MultiheadAttention.forward ("" when it is taken)."""
    if (attn_mask is not None and attn_mask.is_floating_point()) or \
            (key_padding_mask is not None and key_padding_mask.is_floating_point()):
        return "floating-point masks are not supported for fast path."
    from ..backends.mha import get_fastpath_enabled
    if not get_fastpath_enabled():
        return "torch.backends.mha.get_fastpath_enabled() was not True"
    if query.dim() != 3:
        return f"input not batched; expected query.dim() of 3 but got {query.dim()}"
    if query is not key or key is not value:
        return "non-self attention was used (query, key, and value are not the same Tensor)"
    if m.in_proj_bias is not None and query.dtype != m.in_proj_bias.dtype:
        return (f"dtypes of query ({query.dtype}) and self.in_proj_bias "
                f"({m.in_proj_bias.dtype}) don't match")
    if m.in_proj_weight is None:
        return "in_proj_weight was None"
    if query.dtype != m.in_proj_weight.dtype:
        return (f"dtypes of query ({query.dtype}) and self.in_proj_weight "
                f"({m.in_proj_weight.dtype}) don't match")
    if m.training:
        return "training is enabled"
    if m.num_heads % 2 != 0:
        return "self.num_heads is not even"
    if not m.batch_first:
        return "batch_first was not True"
    if m.bias_k is not None:
        return "self.bias_k was not None"
    if m.bias_v is not None:
        return "self.bias_v was not None"
    if m.add_zero_attn:
        return "add_zero_attn was enabled"
    if not m._qkv_same_embed_dim:
        return "_qkv_same_embed_dim was not True"
    if query.is_nested and (key_padding_mask is not None or attn_mask is not None):
        return ("supplying both src_key_padding_mask and src_mask at the same time \\\n"
                "                                 is not supported with NestedTensor input")
    if gpujit.is_autocast_enabled():
        return "autocast is enabled"
    if _grad_blocks((query, key, value, m.in_proj_weight, m.in_proj_bias,
                     m.out_proj.weight, m.out_proj.bias)):
        return ("grad is enabled and at least one of query or the input/output projection "
                "weights or biases requires_grad")
    return ""


def multi_head_attention(m, query, key, value, key_padding_mask, need_weights, attn_mask,
                         average_attn_weights):
    """MultiheadAttention.forward of a nested query, key or value."""
    why = _mha_why(m, query, key, value, key_padding_mask, attn_mask)
    if not why and m.in_proj_bias is not None and m.in_proj_weight is not None:
        return gpujit._native_multi_head_attention(
            query, key, value, m.embed_dim, m.num_heads, m.in_proj_weight, m.in_proj_bias,
            m.out_proj.weight, m.out_proj.bias, None, need_weights, average_attn_weights,
            None)
    raise AssertionError("MultiheadAttention does not support NestedTensor outside of its "
                         "fast path. " + f"The fast path was not hit because {why}")


def encoder_layer(layer, src, src_mask, src_key_padding_mask):
    """TransformerEncoderLayer.forward's fast path of a nested src: its result, or None
    when PyTorch's layer would not take it (the Python path then runs, whose attention
    refuses the nested input in PyTorch's words)."""
    from ..backends.mha import get_fastpath_enabled
    sa = layer.self_attn
    if not get_fastpath_enabled() or src.dim() != 3 or layer.training or \
            not sa.batch_first or sa.in_proj_bias is None or not sa._qkv_same_embed_dim or \
            not layer.activation_relu_or_gelu or layer.norm1.eps != layer.norm2.eps or \
            src_key_padding_mask is not None or src_mask is not None or \
            sa.num_heads % 2 == 1 or gpujit.is_autocast_enabled() or \
            layer._forward_hooks or layer._forward_pre_hooks:
        return None
    args = (src, sa.in_proj_weight, sa.in_proj_bias, sa.out_proj.weight, sa.out_proj.bias,
            layer.norm1.weight, layer.norm1.bias, layer.norm2.weight, layer.norm2.bias,
            layer.linear1.weight, layer.linear1.bias, layer.linear2.weight,
            layer.linear2.bias)
    if _grad_blocks(args):
        return None
    return gpujit._transformer_encoder_layer_fwd(
        src, sa.embed_dim, sa.num_heads, sa.in_proj_weight, sa.in_proj_bias,
        sa.out_proj.weight, sa.out_proj.bias, layer.activation_relu_or_gelu == 2,
        layer.norm_first, layer.norm1.eps, layer.norm1.weight, layer.norm1.bias,
        layer.norm2.weight, layer.norm2.bias, layer.linear1.weight, layer.linear1.bias,
        layer.linear2.weight, layer.linear2.bias, None, None)
