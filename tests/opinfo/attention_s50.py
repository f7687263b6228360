"""OpInfo of session 50: aten::_scaled_dot_product_flash_attention_for_cpu, the kernel
PyTorch's CPU F.scaled_dot_product_attention runs for 4-D operands without dropout
(gpujit/ops/nn_sdpa.py): the attention and each query row's logsumexp, checked against
NumPy (grouped-query key / value heads repeated to the query's)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand


def ref_flash(q, k, v, dropout_p=0.0, is_causal=False, attn_mask=None, scale=None):
    g = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, g, 1), np.repeat(v, g, 1)
    L, S = q.shape[-2], k.shape[-2]
    s = q @ np.swapaxes(k, -1, -2) * (scale if scale is not None else 1 / np.sqrt(q.shape[-1]))
    if is_causal:
        s = np.where(np.triu(np.ones((L, S), bool), 1), -np.inf, s)
    if attn_mask is not None:
        s = np.where(attn_mask, s, -np.inf) if attn_mask.dtype == np.bool_ else s + attn_mask
    m = s.max(-1, keepdims=True)
    e = np.exp(s - m)
    return (e / e.sum(-1, keepdims=True)) @ v, (m + np.log(e.sum(-1, keepdims=True)))[..., 0]


def _samples():
    q, k, v = rand(2, 2, 3, 4), rand(2, 2, 5, 4), rand(2, 2, 5, 4)
    keep = np.array([[True, True, False, True, True]] * 3)
    return [Sample(q, k, v), Sample(q, k, v, attn_mask=keep), Sample(q, q, q, 0.0, True),
            Sample(q, k, v, attn_mask=rand(2, 1, 3, 5), scale=0.3),
            Sample(rand(1, 4, 3, 4), rand(1, 2, 5, 4), rand(1, 2, 5, 4), 0.0, True)]


OPINFOS = [
    OpInfo("aten::_scaled_dot_product_flash_attention_for_cpu", ref=ref_flash,
           samples=_samples, atol=1e-5, rtol=1e-5,
           errors=[ErrorSample(rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 4),
                               match="Accept only 4 dims"),
                   ErrorSample(rand(1, 2, 3, 4), rand(1, 2, 5, 4), rand(1, 2, 5, 6),
                               match="should have the same head size")]),
]
