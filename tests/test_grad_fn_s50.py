"""Session 50 (e50): autograd graph fidelity as torch 2.13, part 3.

* F.scaled_dot_product_attention on the CPU records torch's flash kernel where torch's
  CPU dispatch picks it (4-D operands, one batch size, query / key / value of one head
  size, no dropout, a mask without gradient, grouped-query heads with enable_gqa): one
  ScaledDotProductFlashAttentionForCpuBackward0 node whose edges are query, key and value
  (aten::_scaled_dot_product_flash_attention_for_cpu); other calls keep the math
  composite (UnsafeViewBackward0 ...), as torch's.
Expected structures and values were printed by torch 2.13 (CPU); tests that need torch
itself skip without it."""
import numpy as np
import pytest

import gpujit

F = gpujit.nn.functional
ACC = "torch::autograd::AccumulateGrad"
FLASH = "ScaledDotProductFlashAttentionForCpuBackward0"


def _names(fn):
    return [None if n is None else n.name() for n, _ in fn.next_functions]


def _r(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _t(a):
    return gpujit.tensor(a, requires_grad=True)


# ---------------------------------------------------------------- scaled_dot_product_attention

def _np_attention(q, k, v, keep=None, scale=None):
    s = q @ np.swapaxes(k, -1, -2) * (scale or 1 / np.sqrt(q.shape[-1]))
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_attention_grads(q, k, v, w, keep=None, scale=None):
    """d(sum(out * w)) / d(q, k, v), the softmax's backward written out."""
    sc = scale or 1 / np.sqrt(q.shape[-1])
    p = _np_attention(q, k, v, keep, scale)
    dv = np.swapaxes(p, -1, -2) @ w
    dp = w @ np.swapaxes(v, -1, -2)
    ds = p * (dp - (dp * p).sum(-1, keepdims=True))
    return ds @ k * sc, np.swapaxes(ds, -1, -2) @ q * sc, dv


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": True}])
def test_sdpa_records_the_cpu_flash_node_and_its_gradients(kw):
    q, k, v, w = _r(2, 3, 4, 8), _r(2, 3, 5, 8, seed=1), _r(2, 3, 5, 8, seed=2), _r(2, 3, 4, 8, seed=3)
    keep = None
    if kw.get("is_causal"):
        keep = np.tril(np.ones((4, 5), bool))
    if kw.get("mask"):
        keep = np.ones((4, 5), bool)
        keep[1, 2:] = False
    T = [_t(a) for a in (q, k, v)]
    o = F.scaled_dot_product_attention(
        *T, attn_mask=None if not kw.get("mask") else gpujit.tensor(keep),
        is_causal=kw.get("is_causal", False), scale=kw.get("scale"))
    assert o.grad_fn.name() == FLASH
    assert type(o.grad_fn).__name__ == FLASH
    assert _names(o.grad_fn) == [ACC, ACC, ACC]
    assert [n.variable for n, _ in o.grad_fn.next_functions] == T
    p = _np_attention(q, k, v, keep, kw.get("scale"))
    np.testing.assert_allclose(o.detach().numpy(), p @ v, rtol=1e-5, atol=1e-5)
    (o * gpujit.tensor(w)).sum().backward()
    for t, want in zip(T, _np_attention_grads(q, k, v, w, keep, kw.get("scale"))):
        np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-4, atol=1e-5)


def test_sdpa_grouped_query_heads_reach_key_and_value_themselves():
    q, k, v = _t(_r(1, 4, 3, 8)), _t(_r(1, 2, 5, 8, seed=1)), _t(_r(1, 2, 5, 8, seed=2))
    o = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    assert o.grad_fn.name() == FLASH and _names(o.grad_fn) == [ACC, ACC, ACC]
    o.sum().backward()
    assert k.grad.shape == (1, 2, 5, 8) and v.grad.shape == (1, 2, 5, 8)
    kr, vr = np.repeat(k.detach().numpy(), 2, 1), np.repeat(v.detach().numpy(), 2, 1)
    dq, dk, dv = _np_attention_grads(q.detach().numpy(), kr, vr, np.ones((1, 4, 3, 8), np.float32))
    np.testing.assert_allclose(q.grad.numpy(), dq, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(k.grad.numpy(), dk.reshape(1, 2, 2, 5, 8).sum(2), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(v.grad.numpy(), dv.reshape(1, 2, 2, 5, 8).sum(2), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case,node", [
    ("3d", "UnsafeViewBackward0"),          # (3-D operands: torch's math path)
    ("dropout", "UnsafeViewBackward0"),
    ("value_head", "UnsafeViewBackward0"),  # (value's head size differs)
    ("broadcast_batch", "UnsafeViewBackward0"),
    ("mask_requires_grad", "UnsafeViewBackward0"),
    ("transposed_query", FLASH),            # (last-dim stride 1: flash)
    ("float64", FLASH),
    ("only_query", FLASH),
])
def test_sdpa_picks_torchs_cpu_kernel(case, node):
    gpujit.manual_seed(0)
    q, k, v = _t(_r(2, 3, 4, 8)), _t(_r(2, 3, 5, 8, seed=1)), _t(_r(2, 3, 5, 8, seed=2))
    kw = {}
    if case == "3d":
        q, k, v = q[0], k[0], v[0]
    elif case == "dropout":
        kw["dropout_p"] = 0.5
    elif case == "value_head":
        v = _t(_r(2, 3, 5, 6))
    elif case == "broadcast_batch":
        k, v = k[:1], v[:1]
    elif case == "mask_requires_grad":
        kw["attn_mask"] = _t(_r(4, 5))
    elif case == "transposed_query":
        q = _t(_r(2, 4, 3, 8)).transpose(1, 2)
    elif case == "float64":
        q, k, v = (_t(t.detach().numpy().astype(np.float64)) for t in (q, k, v))
    elif case == "only_query":
        k, v = k.detach(), v.detach()
    o = F.scaled_dot_product_attention(q, k, v, **kw)
    assert o.grad_fn.name() == node
    if case == "only_query":
        assert _names(o.grad_fn) == [ACC, None, None]
    o.sum().backward()


def test_sdpa_flash_values_equal_the_math_path_bit_for_bit():
    # (the node changes, the forward's values do not: the math path's registry ops)
    q, k, v = (gpujit.tensor(_r(2, 3, 4, 8, seed=s)) for s in range(3))
    want = F.scaled_dot_product_attention(q, k, v, is_causal=True)      # (no grad: no node)
    got = F.scaled_dot_product_attention(q.requires_grad_(), k, v, is_causal=True)
    assert got.grad_fn.name() == FLASH
    np.testing.assert_array_equal(got.detach().numpy(), want.numpy())


def test_sdpa_flash_op_outputs_and_errors():
    q, k, v = (gpujit.tensor(_r(1, 2, 3, 4, seed=s)) for s in range(3))
    out, lse = gpujit.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v)
    s = q.numpy() @ np.swapaxes(k.numpy(), -1, -2) / 2.0
    np.testing.assert_allclose(lse.numpy(), np.log(np.exp(s).sum(-1)), rtol=1e-5)
    assert lse.shape == (1, 2, 3) and lse.stride() == (6, 1, 2)     # (torch's layout)
    with pytest.raises(RuntimeError, match=r"Accept only 4 dims inputs shape of \{B, H, T, K\}"):
        gpujit.ops.aten._scaled_dot_product_flash_attention_for_cpu(q[0], k[0], v[0])


def test_sdpa_bfloat16_flash_node():
    q, k, v = (gpujit.tensor(_r(1, 2, 3, 4, seed=s)).to(gpujit.bfloat16).requires_grad_()
               for s in range(3))
    o = F.scaled_dot_product_attention(q, k, v)
    assert o.dtype == gpujit.bfloat16 and o.grad_fn.name() == FLASH
    o.float().sum().backward()
    assert q.grad.dtype == gpujit.bfloat16 and k.grad.dtype == gpujit.bfloat16
    # the value gradient of sum(out) is each key's total weight: query rows' p summed
    np.testing.assert_allclose(v.grad.float().numpy().sum(), 2 * 3 * 4, rtol=1e-2)
