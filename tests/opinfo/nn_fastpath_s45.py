"""OpInfos of the inference fast-path ops of nn.MultiheadAttention / TransformerEncoderLayer
(gpujit/ops/nn_fastpath.py), aten::scaled_dot_product_attention and the nested-tensor entry
points TorchScript archives call; aten::is_autocast_enabled."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

F32 = np.float32


def _softmax_masked(s, mask):
    s = np.where(mask, -np.inf, s)
    with np.errstate(invalid="ignore"):
        p = np.exp(s - s.max(-1, keepdims=True))
        return p / p.sum(-1, keepdims=True)


def _mask4(mask, mask_type, B, T, S):
    if mask is None:
        return np.zeros((1, 1, T, S), bool)
    m = mask if mask.dtype == np.bool_ else mask != 0
    if mask_type == 1:
        return m.reshape(B, 1, 1, S)
    if m.ndim == 3:
        return m.reshape(B, -1, T, S)
    return m


def ref_mha(q, k, v, embed_dim, num_head, w, b, pw, pb, mask=None, need_weights=True,
            average_attn_weights=True, mask_type=None):
    B, T, D = q.shape
    S = k.shape[1]
    dh = D // num_head
    wq, wk, wv = np.split(w, 3)
    bq, bk, bv = np.split(b, 3)

    def heads(t, n):
        return t.reshape(B, n, num_head, dh).transpose(0, 2, 1, 3)
    qh = heads((q @ wq.T + bq) / np.sqrt(dh), T)
    s = qh @ heads(k @ wk.T + bk, S).transpose(0, 1, 3, 2)
    p = _softmax_masked(s, _mask4(mask, mask_type, B, T, S))
    o = (p @ heads(v @ wv.T + bv, S)).transpose(0, 2, 1, 3).reshape(B, T, D) @ pw.T + pb
    if not need_weights:
        return o, None
    return o, (p.mean(1) if average_attn_weights else p)


def _layer_norm(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def ref_encoder(src, embed_dim, num_heads, qkv_w, qkv_b, pw, pb, use_gelu, norm_first, eps,
                n1w, n1b, n2w, n2b, f1w, f1b, f2w, f2b, mask=None, mask_type=None):
    from math import erf
    x = _layer_norm(src, n1w, n1b, eps) if norm_first else src
    x = ref_mha(x, x, x, embed_dim, num_heads, qkv_w, qkv_b, pw, pb, mask, False, True,
                mask_type)[0] + src
    if not norm_first:
        x = _layer_norm(x, n1w, n1b, eps)
    h = _layer_norm(x, n2w, n2b, eps) if norm_first else x
    h = h @ f1w.T + f1b
    if use_gelu:
        h = 0.5 * h * (1 + np.vectorize(erf)(h / np.sqrt(2)))
    else:
        h = np.maximum(h, 0)
    x = h @ f2w.T + f2b + x
    if not norm_first:
        x = _layer_norm(x, n2w, n2b, eps)
    return x


def ref_sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
             enable_gqa=False):
    L, S = q.shape[-2], k.shape[-2]
    s = q @ np.swapaxes(k, -1, -2) * (scale if scale is not None else 1 / np.sqrt(q.shape[-1]))
    if is_causal:
        s = np.where(np.triu(np.ones((L, S), bool), 1), -np.inf, s)
    if attn_mask is not None:
        s = np.where(attn_mask, s, -np.inf) if attn_mask.dtype == np.bool_ else s + attn_mask
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def _mha_samples():
    B, T, D, H = 2, 4, 8, 2
    x = rand(B, T, D, low=-1, high=1)
    w = [rand(3 * D, D, low=-0.5, high=0.5), rand(3 * D, low=-0.1, high=0.1),
         rand(D, D, low=-0.5, high=0.5), rand(D, low=-0.1, high=0.1)]
    kpm = np.array([[False, False, True, True], [False, True, False, False]])
    causal = np.triu(np.ones((T, T), bool), 1)
    y = rand(B, 3, D, low=-1, high=1)
    return [
        Sample(x, x, x, D, H, *w),
        # (need_weights=False returns (out, None): a trace cannot output None, in PyTorch
        # too; tests/test_torch_archive_s45.py checks it)
        Sample(x, x, x, D, H, *w, kpm, True, False, 1),
        Sample(x, x, x, D, H, *w, causal, True, True, 0),
        Sample(x, x, x, D, H, *w, np.broadcast_to(causal, (B, H, T, T)).copy(), True,
               True, 2),
        Sample(x, y, y, D, H, *w),                         # cross attention
    ]


def _encoder_samples():
    B, T, D, H, Fd = 2, 3, 4, 2, 6

    def r(*s):
        return rand(*s, low=-0.5, high=0.5)
    ws = [r(3 * D, D), r(3 * D), r(D, D), r(D)]
    norms = [1 + r(D), r(D), 1 + r(D), r(D)]
    ffn = [r(Fd, D), r(Fd), r(D, Fd), r(D)]
    x = rand(B, T, D, low=-1, high=1)
    pad = np.array([[False, False, True], [False, False, False]])
    return [Sample(x, D, H, *ws, False, False, 1e-5, *norms, *ffn),
            Sample(x, D, H, *ws, True, True, 1e-5, *norms, *ffn, pad, 1)]


def _sdpa_samples():
    q, k, v = rand(2, 2, 3, 4), rand(2, 2, 5, 4), rand(2, 2, 5, 4)
    keep = np.array([[True, True, False, True, True]] * 3)
    return [Sample(q, k, v), Sample(q, k, v, keep), Sample(q, q, q, None, 0.0, True),
            Sample(q, k, v, rand(3, 5), scale=0.3)]


OPINFOS = [
    OpInfo("aten::_native_multi_head_attention", ref=ref_mha, samples=_mha_samples,
           atol=1e-5, rtol=1e-5, noncontiguous=False),
    OpInfo("aten::_transformer_encoder_layer_fwd", ref=ref_encoder, samples=_encoder_samples,
           atol=1e-5, rtol=1e-5, noncontiguous=False),
    OpInfo("aten::scaled_dot_product_attention", ref=ref_sdpa, samples=_sdpa_samples,
           atol=1e-5, rtol=1e-5),
    OpInfo("aten::_nested_tensor_from_mask_left_aligned",
           ref=lambda t, m: not bool((m[:, 1:] & ~m[:, :-1]).any()),
           samples=[Sample(rand(2, 3, 4), np.array([[True, True, False], [True] * 3])),
                    Sample(rand(2, 3, 4), np.array([[True, False, True], [True] * 3]))],
           errors=[ErrorSample(rand(2, 3), np.ones((2, 3), bool), match="3D tensor"),
                   ErrorSample(rand(2, 3, 4), np.ones((2, 4), bool), match="Mask size"),
                   ErrorSample(rand(2, 3, 4), np.ones((2, 3), F32), match="ScalarType Bool")]),
    # (their results and operands are nested tensors: tests/test_nested_s46.py; here the
    # refusals of dense operands, in PyTorch's words)
    OpInfo("aten::_nested_tensor_from_mask", samples=[
        ErrorSample(rand(2, 3, 4), np.array([[True, False, True]] * 2),
                    match="Mask must be left-aligned without gaps"),
        ErrorSample(rand(2, 3, 4), np.ones((2, 3), F32), match="ScalarType Bool")]),
    OpInfo("aten::_nested_tensor_from_tensor_list", samples=[
        ErrorSample([rand(2), rand(2, 2)], match="All Tensors given to nested_tensor must "
                                                 "have the same dimension")]),
    OpInfo("aten::nested_to_padded_tensor", samples=[
        ErrorSample(rand(2, 3), 0.0, exc=NotImplementedError,
                    match="Could not run 'aten::to_padded_tensor' with arguments from the "
                          "'CPU' backend")]),
    OpInfo("aten::to_padded_tensor", samples=[
        ErrorSample(rand(2, 3), 0.0, exc=NotImplementedError,
                    match="Could not run 'aten::to_padded_tensor' with arguments from the "
                          "'CPU' backend")]),
    # (the tests run outside autocast regions; tests/test_torch_archive_s45.py checks one)
    OpInfo("aten::is_autocast_enabled", ref=lambda: False, samples=[Sample()]),
]
