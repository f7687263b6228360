"""aten::_scaled_dot_product_flash_attention_for_cpu: the kernel PyTorch's CPU
F.scaled_dot_product_attention picks for 4-D operands without dropout (sdp_utils_cpp's
use_flash_attention_cpp), recorded as one node, ScaledDotProductFlashAttentionForCpuBackward0,
whose edges go to query, key and value themselves (grouped-query key / value heads
included: the kernel repeats them inside). Its outputs are the attention and the
logsumexp of each query row's scores (ATen's accumulation dtype: float for float16 /
bfloat16), which carries no gradient.

The forward computes what gpujit's math composite computes (the same registry ops, run
unrecorded: the values do not change with the node); the derivative is ATen's flash
backward written with registry ops (so create_graph records it): with P the softmax of the
masked scores, dV = P^T dO, dS = P * (dO V^T - rowsum(dO * O)), dQ = dS K * scale,
dK = dS^T Q * scale, summed over each key head's group.
"""
from __future__ import annotations

import math

from .derivatives import derivative as _derivative
from .meta import TensorMeta
from .nn_fastpath import _impl
from .registry import op


def _kv_heads(query, key, value):
    """key and value with their heads repeated to query's (grouped-query attention)."""
    g = query.size(-3) // key.size(-3)
    if g == 1:
        return key, value, 1
    return key.repeat_interleave(g, -3), value.repeat_interleave(g, -3), g


def _probabilities(query, key, attn_mask, is_causal, scale):
    """softmax(query @ key^T * s + mask) as F.scaled_dot_product_attention's math path
    computes it (a row masked everywhere: zeros), and the masked scores."""
    from ..nn.functional_attention import _masked_scores
    s = scale if scale is not None else (1.0 / math.sqrt(query.size(-1)))
    attn = _masked_scores(query, key, attn_mask, is_causal, s, query.dtype)
    if attn_mask is not None:
        dead = (attn == float("-inf")).all(-1, keepdim=True)
        return attn, attn.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    return attn, attn.softmax(-1)


def _check(qs, ks, vs):
    """ATen's checks of the kernel's operands' shapes (PyTorch's words)."""
    if len(qs) != 4 or len(ks) != 4 or len(vs) != 4:
        raise RuntimeError("scaled_dot_product_attention_flash_attention: Accept only 4 dims "
                           "inputs shape of {B, H, T, K}")
    if qs[3] != ks[3] or qs[3] != vs[3]:
        raise RuntimeError("scaled_dot_product_attention_flash_attention: Q/K/V should have "
                           "the same head size")


def _flash_forward(query, key, value, dropout_p=0.0, is_causal=False, attn_mask=None,
                   scale=None):
    import gpujit
    _check(tuple(query.shape), tuple(key.shape), tuple(value.shape))
    from ..nn.functional_attention import _sdpa_bfloat16
    key, value, _ = _kv_heads(query, key, value)
    s = scale if scale is not None else (1.0 / math.sqrt(query.size(-1)))
    acc = query.dtype
    if acc == gpujit.float16 or acc == gpujit.bfloat16:
        acc = gpujit.float32
    if query.dtype == gpujit.bfloat16:
        out = _sdpa_bfloat16(query, key, value, attn_mask, 0.0, is_causal, s)
        scores = _probabilities(query.float(), key.float(), attn_mask, is_causal, s)[0]
    else:
        scores, p = _probabilities(query, key, attn_mask, is_causal, s)
        out = p.matmul(value)
    lse = scores.to(acc).logsumexp(-1)
    # (ATen's kernel writes logsumexp as (B, L, H) transposed to (B, H, L))
    return out, lse.transpose(1, 2).contiguous().transpose(1, 2)


def _flash_meta(query, key, value, dropout_p=0.0, is_causal=False, attn_mask=None,
                scale=None):
    from .. import dtypes as _dt
    _check(tuple(query.shape), tuple(key.shape), tuple(value.shape))
    B, H, L, _ = query.shape
    acc = _dt.float32 if query.dtype in (_dt.float16, _dt.bfloat16) else query.dtype
    return (TensorMeta(query.dtype, (B, H, L, value.shape[-1]), query.device),
            TensorMeta(acc, (B, H, L), query.device))


flash_attention_for_cpu = op(
    "aten::_scaled_dot_product_flash_attention_for_cpu(Tensor query, Tensor key, "
    "Tensor value, float dropout_p=0., bool is_causal=False, *, Tensor? attn_mask=None, "
    "float? scale=None) -> (Tensor output, Tensor logsumexp)", tags={"nn"},
    meta=_flash_meta, method=False, function=False,
    nondiff_outputs=("logsumexp",))(_impl(_flash_forward)).op


@_derivative(flash_attention_for_cpu, wrt=("query", "key", "value"))
def _flash_grad(grad, query, key, value, attn_mask, is_causal, scale, needs_grad):
    import gpujit
    dout = grad[0]
    if query.dtype == gpujit.bfloat16 or query.dtype == gpujit.float16:
        # (ATen's kernel accumulates in float and rounds each gradient once)
        dout, query, key, value = dout.float(), query.float(), key.float(), value.float()
    k, v, g = _kv_heads(query, key, value)
    s = scale if scale is not None else (1.0 / math.sqrt(query.size(-1)))
    p = _probabilities(query, k, attn_mask, is_causal, scale)[1]
    dv = p.transpose(-2, -1).matmul(dout) if needs_grad[2] else None
    dq = dk = None
    if needs_grad[0] or needs_grad[1]:
        dp = dout.matmul(v.transpose(-2, -1))
        ds = p * (dp - (dp * p).sum(-1, keepdim=True))
        if needs_grad[0]:
            dq = ds.matmul(k) * s
        if needs_grad[1]:
            dk = ds.transpose(-2, -1).matmul(query) * s
    if g != 1:
        def fold(t):
            if t is None:
                return None
            B, H, S, E = t.shape
            return t.view(B, H // g, g, S, E).sum(2)
        dk, dv = fold(dk), fold(dv)
    return dq, dk, dv


_FLASH_DTYPES = None


def use_flash(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Whether a call that records gradients is one PyTorch's CPU
    F.scaled_dot_product_attention runs as the flash kernel (sdp_utils_cpp.cpp's use_flash_attention_cpp): eager CPU operands of 4 dims,
    one batch size and head count (or grouped-query heads with enable_gqa), one head size,
    no dropout, no empty sequence, unit stride in the last dim, a mask that needs no
    gradient, and the flash backend enabled (torch.backends.cuda / sdpa_kernel)."""
    global _FLASH_DTYPES
    from .registry import dispatch_state, grad_state
    if not (query.requires_grad or key.requires_grad or value.requires_grad) or \
            not grad_state.enabled or grad_state.inference:
        # (no node to record: the math path's same values, without the kernel's logsumexp)
        return False
    if dropout_p != 0.0 or dispatch_state.tracing is not None:
        return False
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        return False
    if query.device.type != "cpu":
        return False
    if _FLASH_DTYPES is None:
        from .. import dtypes as _dt
        _FLASH_DTYPES = (_dt.float32, _dt.float64, _dt.float16, _dt.bfloat16)
    if query.dtype not in _FLASH_DTYPES:
        return False
    qs, ks, vs = query.shape, key.shape, value.shape
    if qs[0] != ks[0] or qs[0] != vs[0] or ks[1] != vs[1]:
        return False
    if qs[1] != ks[1] and not (enable_gqa and ks[1] > 0 and qs[1] % ks[1] == 0):
        return False
    if qs[3] != ks[3] or qs[3] != vs[3] or qs[2] == 0 or ks[2] == 0 or qs[3] == 0:
        return False
    if query.stride(-1) != 1 or key.stride(-1) != 1 or value.stride(-1) != 1:
        return False
    if attn_mask is not None and (attn_mask.requires_grad or attn_mask.dim() not in (2, 4)):
        return False
    from ..backends import cuda as _cuda
    return _cuda.flash_sdp_enabled()
