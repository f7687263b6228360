"""torch.nn.functional's attention (re-exported by functional.py): scaled_dot_product_attention
and multi_head_attention_forward, with the helpers nn.MultiheadAttention and the
Transformer layers call as F._canonical_mask / F._none_or_dtype. Each is compiled from
its source when scripted (`_from_source`) and computes with registry ops, so tracing,
scripting and autograd see the ops.
"""
import math as _math
import warnings as _warnings
from typing import Optional, Tuple

import gpujit as _gpujit
from ..ops.parser_errors import scalar_args as _scalar_args, tensor_args as _tensor_args

from ..dtypes import dtype as _dtype
from .functional import _from_source  # (functional.py imports this module last)
from .attention import _no_viable_backend

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "_canonical_mask",
           "_none_or_dtype", "_mha_shape_check", "_in_projection_packed", "_in_projection"]


# ---------------------------------------------------------------------- attention

@_from_source
def _masked_scores(query, key, attn_mask: Optional[_gpujit.Tensor], is_causal: bool, s: float,
                   dtype: _dtype):
    """query @ key^T * s with is_causal's and attn_mask's -inf (or added) entries, for
    scaled_dot_product_attention (dtype: the query's, as its error names it)."""
    attn = query.matmul(key.transpose(-2, -1)) * s
    L = query.size(-2)
    S = key.size(-2)
    if is_causal:
        keep = _gpujit.ones([L, S], dtype=_gpujit.bool, device=query.device).tril()
        attn = attn.masked_fill(keep.logical_not(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == _gpujit.bool:
            attn = attn.masked_fill(attn_mask.logical_not(), float("-inf"))
        elif attn_mask.dtype == dtype or attn_mask.is_floating_point():
            attn = attn + attn_mask
        else:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match "
                               f"query dtype, but got attn_mask.dtype: {attn_mask.dtype} "
                               f"and  query.dtype: {dtype} instead.")
    return attn


def _sdpa_bfloat16(query, key, value, attn_mask, dropout_p, is_causal, s):
    """scaled_dot_product_attention of bfloat16 operands, after its checks (key / value
    with their heads repeated, s the scale), called eagerly only (the float path's
    scripted graph holds no bfloat16 branch: early returns there left the float ops after
    them untyped, the executor's boxed path). As ATen's CPU backends compute it, in float:
    its math backend rounds the result once; its flash kernel (4-D operands of one head
    size, no dropout) also rounds the unnormalized exp to bfloat16 for the product with
    value (its bfloat16 GEMM), divided by the float sum of exp at the end."""
    flash = (dropout_p == 0.0 and query.dim() == 4 and key.dim() == 4
             and value.dim() == 4 and query.size(-1) == key.size(-1)
             and key.size(-1) == value.size(-1) and query.size(-2) > 0 and key.size(-2) > 0)
    attn = _masked_scores(query.float(), key.float(), attn_mask, is_causal, s, query.dtype)
    value = value.float()
    if attn_mask is not None:
        # a row masked everywhere: zeros, not NaN (nor NaN gradients)
        dead = (attn == float("-inf")).all(-1, keepdim=True)
        if flash:
            attn = attn.masked_fill(dead, 0.0)
            e = (attn - attn.amax(-1, keepdim=True)).exp().masked_fill(dead, 0.0)
            den = e.sum(-1, keepdim=True).masked_fill(dead, 1.0)
            return (e.to(_gpujit.bfloat16).float().matmul(value) / den).to(_gpujit.bfloat16)
        attn = attn.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    elif flash:
        e = (attn - attn.amax(-1, keepdim=True)).exp()
        return (e.to(_gpujit.bfloat16).float().matmul(value)
                / e.sum(-1, keepdim=True)).to(_gpujit.bfloat16)
    else:
        attn = attn.softmax(-1)
    if dropout_p > 0.0:
        attn = _gpujit.dropout(attn, dropout_p, True)
    return attn.matmul(value).to(_gpujit.bfloat16)


def _use_flash(query, key, value, attn_mask, dropout_p, enable_gqa):
    from ..ops.nn_sdpa import use_flash
    return use_flash(query, key, value, attn_mask, dropout_p, enable_gqa)


def _flash_cpu(query, key, value, attn_mask, is_causal, scale):
    from ..ops.nn_sdpa import flash_attention_for_cpu
    return flash_attention_for_cpu.public(query, key, value, 0.0, is_causal,
                                          attn_mask=attn_mask, scale=scale)[0]


def _nested_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale):
    from ..nested._nn import scaled_dot_product_attention
    return scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal,
                                        scale)


@_from_source
def scaled_dot_product_attention(query, key, value, attn_mask: Optional[_gpujit.Tensor] = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: Optional[float] = None, enable_gqa: bool = False):
    """softmax(query @ key^T * scale + bias) @ value over the last two dims (batch dims
    broadcast), as PyTorch's CPU kernels compute it: scale defaults to 1/sqrt(E); a bool
    attn_mask keeps where True, a float one is added; is_causal masks above the diagonal
    (with attn_mask too: both apply); a row masked everywhere gives zeros (PyTorch's safe
    softmax); dropout_p > 0 drops attention weights whatever the mode (as PyTorch: modules
    pass 0.0 in eval); enable_gqa repeats key/value heads (dim -3) to query's."""
    if not _gpujit.jit.is_scripting():    # (a non-Tensor: PyTorch's TypeError)
        _tensor_args("scaled_dot_product_attention", "query key value", query, key, value)
        _scalar_args("scaled_dot_product_attention", "is_causal:bool:6 enable_gqa:bool:8",
                     is_causal, enable_gqa)
    if query.dtype != key.dtype or query.dtype != value.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                           f"value.dtype: {value.dtype} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 "
                           f"dimensional, but got query.dim: {query.dim()} key.dim: "
                           f"{key.dim()} and value.dim: {value.dim()} instead.")
    if not _gpujit.jit.is_scripting() and _no_viable_backend(query):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. "
                           "This is likely due to turning off both the math kernel and the "
                           "fused kernels.")
    if not _gpujit.jit.is_scripting() and (query.is_nested or key.is_nested or
                                           value.is_nested):
        # (eager nested tensors: each sequence attends to its own keys, gpujit/nested)
        return _nested_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale)
    if not _gpujit.jit.is_scripting() and _use_flash(query, key, value, attn_mask, dropout_p,
                                                     enable_gqa):
        # (eager CPU: PyTorch's flash kernel, one ScaledDotProductFlashAttentionForCpu node)
        return _flash_cpu(query, key, value, attn_mask, is_causal, scale)
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3:
        hq = query.size(-3)
        hk = key.size(-3)
        if hk != hq:
            if hk == 0 or hq % hk != 0 or value.size(-3) != hk:
                raise RuntimeError(f"Number of heads in key and value must divide the "
                                   f"number of heads in query (got {hq} query heads, {hk} "
                                   f"key heads and {value.size(-3)} value heads)")
            key = key.repeat_interleave(hq // hk, -3)
            value = value.repeat_interleave(hq // hk, -3)
    if scale is None:
        s = 1.0 / _math.sqrt(query.size(-1)) if query.size(-1) > 0 else 1.0
    else:
        s = scale
    if not _gpujit.jit.is_scripting() and query.dtype == _gpujit.bfloat16:
        # (eager bfloat16: ATen's rounding steps. Scripted code folds this test away, so
        # the float path's graph has no early return leaving its ops untyped; a compiled
        # graph runs its bfloat16 nodes eagerly, each op rounding once)
        return _sdpa_bfloat16(query, key, value, attn_mask, dropout_p, is_causal, s)
    attn = _masked_scores(query, key, attn_mask, is_causal, s, query.dtype)
    if attn_mask is not None:
        # a row masked everywhere: zeros, not NaN (nor NaN gradients)
        dead = (attn == float("-inf")).all(-1, keepdim=True)
        attn = attn.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    else:
        attn = attn.softmax(-1)
    if dropout_p > 0.0:
        attn = _gpujit.dropout(attn, dropout_p, True)
    return attn.matmul(value)


@_from_source
def _canonical_mask(mask: Optional[_gpujit.Tensor], mask_name: str, other_type: Optional[_dtype],
                    other_name: str, target_type: _dtype,
                    check_other: bool = True) -> Optional[_gpujit.Tensor]:
    """PyTorch's F._canonical_mask: a bool mask (True = masked) as a float one of
    target_type (-inf where masked, 0 elsewhere); a float mask as it is."""
    if mask is not None:
        is_float = mask.is_floating_point()
        if mask.dtype != _gpujit.bool and not is_float:
            raise AssertionError(f"only bool and floating types of {mask_name} are supported")
        if check_other and other_type is not None:
            if mask.dtype != other_type:
                # (at the caller's line, as PyTorch's stacklevel=2; scripted code warns
                # at this line, as TorchScript's)
                _warnings.warn(f"Support for mismatched {mask_name} and {other_name} is "
                               f"deprecated. Use same type for both instead.", stacklevel=2)
        if not is_float:
            mask = _gpujit.zeros_like(mask, dtype=target_type).masked_fill(mask, float("-inf"))
    return mask


@_from_source
def _none_or_dtype(input: Optional[_gpujit.Tensor]) -> Optional[_dtype]:
    if input is None:
        return None
    return input.dtype


@_from_source
def _in_projection_packed(q, k, v, w, b: Optional[_gpujit.Tensor] = None):
    """q, k, v projected by the packed (3E, E) weight w (and 3E bias b) in q, k, v order
    (PyTorch's helper of multi_head_attention_forward): one linear for self-attention
    (q is k is v), two when k is v; the outputs' (3, E) split is made contiguous first."""
    E = q.size(-1)
    if k is v:
        if q is k:
            proj = _gpujit.nn.functional.linear(q, w, b)
            proj = proj.unflatten(-1, [3, E]).unsqueeze(0).transpose(0, -2).squeeze(-2) \
                .contiguous()
            return proj[0], proj[1], proj[2]
        else:
            w_q, w_kv = w.split([E, E * 2])
            b_q: Optional[_gpujit.Tensor] = None
            b_kv: Optional[_gpujit.Tensor] = None
            if b is not None:
                b_q, b_kv = b.split([E, E * 2])
            q_proj = _gpujit.nn.functional.linear(q, w_q, b_q)
            kv_proj = _gpujit.nn.functional.linear(k, w_kv, b_kv)
            kv_proj = kv_proj.unflatten(-1, [2, E]).unsqueeze(0).transpose(0, -2) \
                .squeeze(-2).contiguous()
            return q_proj, kv_proj[0], kv_proj[1]
    else:
        w_q, w_k, w_v = w.chunk(3)
        b_q: Optional[_gpujit.Tensor] = None
        b_k: Optional[_gpujit.Tensor] = None
        b_v: Optional[_gpujit.Tensor] = None
        if b is not None:
            b_q, b_k, b_v = b.chunk(3)
        return (_gpujit.nn.functional.linear(q, w_q, b_q),
                _gpujit.nn.functional.linear(k, w_k, b_k),
                _gpujit.nn.functional.linear(v, w_v, b_v))


@_from_source
def _in_projection(q, k, v, w_q, w_k, w_v, b_q: Optional[_gpujit.Tensor] = None,
                   b_k: Optional[_gpujit.Tensor] = None, b_v: Optional[_gpujit.Tensor] = None):
    """Three linear projections (separate q / k / v weights), their shapes checked as
    PyTorch's: w_q (Eq, Eq), w_k (Eq, Ek), w_v (Eq, Ev), biases (Eq,)."""
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    if list(w_q.shape) != [Eq, Eq]:
        raise AssertionError(f"expecting query weights shape of {(Eq, Eq)}, but got "
                             f"{w_q.shape}")
    if list(w_k.shape) != [Eq, Ek]:
        raise AssertionError(f"expecting key weights shape of {(Eq, Ek)}, but got "
                             f"{w_k.shape}")
    if list(w_v.shape) != [Eq, Ev]:
        raise AssertionError(f"expecting value weights shape of {(Eq, Ev)}, but got "
                             f"{w_v.shape}")
    if b_q is not None and list(b_q.shape) != [Eq]:
        raise AssertionError(f"expecting query bias shape of {(Eq,)}, but got {b_q.shape}")
    if b_k is not None and list(b_k.shape) != [Eq]:
        raise AssertionError(f"expecting key bias shape of {(Eq,)}, but got {b_k.shape}")
    if b_v is not None and list(b_v.shape) != [Eq]:
        raise AssertionError(f"expecting value bias shape of {(Eq,)}, but got {b_v.shape}")
    return (_gpujit.nn.functional.linear(q, w_q, b_q),
            _gpujit.nn.functional.linear(k, w_k, b_k),
            _gpujit.nn.functional.linear(v, w_v, b_v))


@_from_source
def _mha_shape_check(query, key, value, key_padding_mask: Optional[_gpujit.Tensor],
                     attn_mask: Optional[_gpujit.Tensor], num_heads: int) -> bool:
    """Whether the call is batched (3-D query) or not (2-D), checking the other shapes."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be "
                                 f"3-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None:
            if key_padding_mask.dim() != 2:
                raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` "
                                     f"to be `None` or 2-D but found "
                                     f"{key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() != 2 and attn_mask.dim() != 3:
                raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D "
                                     f"tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to "
                                 f"be 2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None:
            if key_padding_mask.dim() != 1:
                raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` "
                                     f"to be `None` or 1-D but found "
                                     f"{key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() != 2 and attn_mask.dim() != 3:
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D "
                                     f"tensor instead")
            if attn_mask.dim() == 3:
                expected = [num_heads, query.size(0), key.size(0)]
                if list(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{list(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


@_from_source
def multi_head_attention_forward(
        query, key, value, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Optional[_gpujit.Tensor], in_proj_bias: Optional[_gpujit.Tensor],
        bias_k: Optional[_gpujit.Tensor], bias_v: Optional[_gpujit.Tensor],
        add_zero_attn: bool, dropout_p: float, out_proj_weight: _gpujit.Tensor,
        out_proj_bias: Optional[_gpujit.Tensor], training: bool = True,
        key_padding_mask: Optional[_gpujit.Tensor] = None, need_weights: bool = True,
        attn_mask: Optional[_gpujit.Tensor] = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Optional[_gpujit.Tensor] = None,
        k_proj_weight: Optional[_gpujit.Tensor] = None,
        v_proj_weight: Optional[_gpujit.Tensor] = None,
        static_k: Optional[_gpujit.Tensor] = None, static_v: Optional[_gpujit.Tensor] = None,
        average_attn_weights: bool = True,
        is_causal: bool = False) -> Tuple[_gpujit.Tensor, Optional[_gpujit.Tensor]]:
    """PyTorch's F.multi_head_attention_forward (sequence-first: query (L, N, E) or (L, E)),
    with its argument names, checks and results (attn_output, averaged or per-head weights
    or None)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query = query.unsqueeze(1)
        key = key.unsqueeze(1)
        value = value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len = query.size(0)
    bsz = query.size(1)
    embed_dim = query.size(2)
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None     # the hint: scaled_dot_product_attention's own causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    if not _gpujit.jit.is_scripting() and type(embed_dim) is not int:
        # (traced: a size is a 0-dim tensor in PyTorch's trace, which its
        # multi_head_attention_forward divides with rounding_mode="trunc")
        head_dim = embed_dim.div(num_heads, rounding_mode="trunc")
    else:
        head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if list(key.shape[:2]) != list(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {list(key.shape[:2])} do not "
                                 f"match value's {list(value.shape[:2])}")
        if q_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight is None")
        if k_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but k_proj_weight is None")
        if v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but v_proj_weight is None")
        b_q: Optional[_gpujit.Tensor] = None
        b_k: Optional[_gpujit.Tensor] = None
        b_v: Optional[_gpujit.Tensor] = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        q = _gpujit.nn.functional.linear(query, q_proj_weight, b_q)
        k = _gpujit.nn.functional.linear(key, k_proj_weight, b_k)
        v = _gpujit.nn.functional.linear(value, v_proj_weight, b_v)
    else:
        if list(key.shape) != list(value.shape):
            raise AssertionError(f"key shape {list(key.shape)} does not match value shape "
                                 f"{list(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        e = query.size(-1)
        if query is key and key is value:       # self-attention: one projection
            # (PyTorch's _in_projection_packed: the (3, E) split made contiguous, then
            # selected, so the heads' split below is a view)
            proj = _gpujit.nn.functional.linear(query, in_proj_weight, in_proj_bias)
            proj = proj.unflatten(-1, [3, e]).unsqueeze(0).transpose(0, -2).squeeze(-2) \
                .contiguous()
            q, k, v = proj[0], proj[1], proj[2]
        elif key is value:                      # encoder-decoder: q, then k and v at once
            w_q, w_kv = in_proj_weight.split([e, e * 2])
            b_q: Optional[_gpujit.Tensor] = None
            b_kv: Optional[_gpujit.Tensor] = None
            if in_proj_bias is not None:
                b_q, b_kv = in_proj_bias.split([e, e * 2])
            q = _gpujit.nn.functional.linear(query, w_q, b_q)
            kv = _gpujit.nn.functional.linear(key, w_kv, b_kv)
            kv = kv.unflatten(-1, [2, e]).unsqueeze(0).transpose(0, -2).squeeze(-2) \
                .contiguous()
            k, v = kv[0], kv[1]
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            b_q: Optional[_gpujit.Tensor] = None
            b_k: Optional[_gpujit.Tensor] = None
            b_v: Optional[_gpujit.Tensor] = None
            if in_proj_bias is not None:
                b_q, b_k, b_v = in_proj_bias.chunk(3)
            q = _gpujit.nn.functional.linear(query, w_q, b_q)
            k = _gpujit.nn.functional.linear(key, w_k, b_k)
            v = _gpujit.nn.functional.linear(value, w_v, b_v)
    src_len = key.size(0)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if attn_mask.size(0) != tgt_len or attn_mask.size(1) != src_len:
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, "
                                   f"but should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if list(attn_mask.shape) != [bsz * num_heads, tgt_len, src_len]:
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, "
                                   f"but should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _gpujit.cat([k, bias_k.repeat(1, bsz, 1)])
        v = _gpujit.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _gpujit.nn.functional.pad(attn_mask, [0, 1])
        if key_padding_mask is not None:
            key_padding_mask = _gpujit.nn.functional.pad(key_padding_mask, [0, 1])
    else:
        if bias_k is not None:
            raise AssertionError("bias_k is set but bias_v is None")
        if bias_v is not None:
            raise AssertionError("bias_v is set but bias_k is None")
    # (views, as PyTorch's: a trace records aten::view)
    q = q.view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.view(k.size(0), bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_k.size(0) != bsz * num_heads:
            raise AssertionError(f"expecting static_k.size(0) of {bsz * num_heads}, but got "
                                 f"{static_k.size(0)}")
        if static_k.size(2) != head_dim:
            raise AssertionError(f"expecting static_k.size(2) of {head_dim}, but got "
                                 f"{static_k.size(2)}")
        k = static_k
    if static_v is None:
        v = v.view(v.size(0), bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_v.size(0) != bsz * num_heads:
            raise AssertionError(f"expecting static_v.size(0) of {bsz * num_heads}, but got "
                                 f"{static_v.size(0)}")
        if static_v.size(2) != head_dim:
            raise AssertionError(f"expecting static_v.size(2) of {head_dim}, but got "
                                 f"{static_v.size(2)}")
        v = static_v
    if add_zero_attn:
        k = _gpujit.cat([k, _gpujit.zeros([bsz * num_heads, 1, head_dim], dtype=k.dtype,
                                          device=k.device)], 1)
        v = _gpujit.cat([v, _gpujit.zeros([bsz * num_heads, 1, head_dim], dtype=v.dtype,
                                          device=v.device)], 1)
        if attn_mask is not None:
            attn_mask = _gpujit.nn.functional.pad(attn_mask, [0, 1])
        if key_padding_mask is not None:
            key_padding_mask = _gpujit.nn.functional.pad(key_padding_mask, [0, 1])
    src_len = k.size(1)
    if key_padding_mask is not None:
        if key_padding_mask.size(0) != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.size(0)}")
        if key_padding_mask.size(1) != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.size(1)}")
        kpm = key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1) \
            .reshape(bsz * num_heads, 1, src_len)
        if attn_mask is None:
            attn_mask = kpm
        else:
            attn_mask = attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        q_scaled = q * _math.sqrt(1.0 / float(head_dim))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            weights = _gpujit.baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = _gpujit.bmm(q_scaled, k.transpose(-2, -1))
        weights = weights.softmax(-1)
        if dropout_p > 0.0:
            weights = _gpujit.dropout(weights, dropout_p, True)
        out = _gpujit.bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _gpujit.nn.functional.linear(out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.size(1))
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _gpujit.nn.functional.linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.size(1))
    if not is_batched:
        out = out.squeeze(1)
    return out, None
