"""OpInfo of session 50: aten::_scaled_dot_product_flash_attention_for_cpu, the kernel
PyTorch's CPU F.scaled_dot_product_attention runs for 4-D operands without dropout
(gpujit/ops/nn_sdpa.py): the attention and each query row's logsumexp, checked against
NumPy (grouped-query key / value heads repeated to the query's)."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample


def rand(*shape, low=-2.0, high=2.0):
    """float32 samples from this module's own generator (the shared one's draws, which
    other modules' samples read, stay as they were)."""
    return _RNG.uniform(low, high, shape).astype(np.float32)


_RNG = np.random.default_rng(50)


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


def ref_embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0,
                      sparse=False, per_sample_weights=None, include_last_offset=False,
                      padding_idx=-1):
    """ATen's _embedding_bag outputs (output, offset2bag, bag_size, max_indices) for bags
    that end where the next begins (include_last_offset=False)."""
    n, nb, dim = len(indices), len(offsets), weight.shape[1]
    bounds = list(offsets) + [n]
    out = np.zeros((nb, dim))
    size = np.zeros(nb, np.int64)
    maxi = np.zeros((nb, dim), np.int64)
    bag_of = np.zeros(n, np.int64)
    for b in range(nb):
        kept = [i for i in range(bounds[b], bounds[b + 1]) if indices[i] != padding_idx]
        bag_of[bounds[b]:bounds[b + 1]] = b
        size[b] = len(kept)
        if not kept:
            continue
        rows = weight[indices[kept]]
        if per_sample_weights is not None:
            rows = rows * per_sample_weights[kept][:, None]
        if mode == 2:
            out[b] = rows.max(0)
            maxi[b] = indices[kept][rows.argmax(0)]
        else:
            out[b] = rows.sum(0) / (len(kept) if mode == 1 else 1)
    if mode == 0:
        zeros = np.zeros(nb, np.int64)
        return out, (bag_of if padding_idx >= 0 else np.zeros(0, np.int64)), zeros, zeros
    return out, bag_of, size, (maxi if mode == 2 else size)


def _bag_samples():
    w = rand(6, 3)
    idx = np.array([1, 4, 4, 0, 2, 5, 4])
    off = np.array([0, 3, 3, 5])
    return [Sample(w, idx, off), Sample(w, idx, off, False, 1), Sample(w, idx, off, False, 2),
            Sample(w, idx, off, per_sample_weights=rand(7)),
            Sample(w, idx, off, False, 1, padding_idx=4),
            Sample(w, idx, off, False, 0, padding_idx=4)]


OPINFOS.append(OpInfo("aten::_embedding_bag", ref=ref_embedding_bag, samples=_bag_samples,
                      atol=1e-5, rtol=1e-5))
