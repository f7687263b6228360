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


# ---------------------------------------------------------------- embedding_bag

_W = _r(6, 3, seed=5)
_IDX = np.array([1, 4, 4, 0, 2, 5, 4, 3])
_OFF = np.array([0, 3, 3, 5])


def _np_bags(mode, psw=None, pad=-1):
    """(output, d sum(output * G) / d weight, ... / d psw) of bags [0:3], [3:3], [3:5],
    [5:8] of _IDX (torch's include_last_offset=False semantics)."""
    G = _r(4, 3, seed=6)
    bounds = [0, 3, 3, 5, 8]
    out, gw = np.zeros((4, 3), np.float32), np.zeros_like(_W)
    gp = np.zeros(8, np.float32)
    for b in range(4):
        kept = [i for i in range(bounds[b], bounds[b + 1]) if _IDX[i] != pad]
        if not kept:
            continue
        rows = _W[_IDX[kept]] * (1 if psw is None else psw[kept][:, None])
        if mode == "max":
            out[b] = rows.max(0)
            for d in range(3):
                gw[_IDX[kept][rows[:, d].argmax()], d] += G[b, d]
            continue
        div = len(kept) if mode == "mean" else 1
        out[b] = rows.sum(0) / div
        for i in kept:
            gw[_IDX[i]] += G[b] / div * (1 if psw is None else psw[i])
            gp[i] = G[b] @ _W[_IDX[i]]
    return out, gw, gp, G


@pytest.mark.parametrize("mode,psw,pad", [("sum", False, None), ("mean", False, None),
                                          ("max", False, None), ("sum", True, None),
                                          ("mean", False, 4), ("max", False, 4),
                                          ("sum", True, 4)])
def test_embedding_bag_records_one_node_with_torchs_gradients(mode, psw, pad):
    p = _r(8, seed=7) if psw else None
    w = _t(_W)
    pt = None if p is None else _t(p)
    o = F.embedding_bag(gpujit.tensor(_IDX), w, gpujit.tensor(_OFF), mode=mode,
                        per_sample_weights=pt, padding_idx=pad)
    assert o.grad_fn.name() == "EmbeddingBagBackward0"
    assert type(o.grad_fn).__name__ == "EmbeddingBagBackward0"
    # (torch's two edges: weight, then per_sample_weights or None)
    assert _names(o.grad_fn) == [ACC, ACC if psw else None]
    want, gw, gp, G = _np_bags(mode, p, -1 if pad is None else pad)
    np.testing.assert_allclose(o.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    (o * gpujit.tensor(G)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-5, atol=1e-6)
    if psw:
        np.testing.assert_allclose(pt.grad.numpy(), gp, rtol=1e-5, atol=1e-6)


def test_embedding_bag_module_2d_input_and_sparse_gradient():
    gpujit.manual_seed(0)
    m = gpujit.nn.EmbeddingBag(10, 3, mode="sum", sparse=True)
    o = m(gpujit.tensor([[1, 2, 2], [7, 1, 0]]))
    assert o.grad_fn.name() == "EmbeddingBagBackward0"
    o.sum().backward()
    assert m.weight.grad.layout == gpujit.sparse_coo
    want = np.zeros((10, 3), np.float32)
    for i in (1, 2, 2, 7, 1, 0):
        want[i] += 1
    np.testing.assert_array_equal(m.weight.grad.to_dense().numpy(), want)


def test_embedding_bag_scale_grad_by_freq_reads_counts_as_atens_cpu_kernel():
    # torch 2.13 (CPU): the u-th distinct index divides by the count of the index at
    # position u of the sorted indices (weights of ones, sum of every bag)
    w = gpujit.ones(10, 1, requires_grad=True)
    idx = gpujit.tensor([1, 2, 4, 5, 4, 3, 2, 9, 9, 0])
    F.embedding_bag(idx, w, gpujit.tensor([0, 4, 4, 7]), mode="sum",
                    scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.view(-1).numpy(),
                               [1, 1, 1, 0.5, 2, 0.5, 0, 0, 0, 1], rtol=1e-6)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
        F.embedding_bag(idx, w, gpujit.tensor([0, 4]), mode="sum", scale_grad_by_freq=True,
                        sparse=True).sum().backward()


def test_embedding_bag_without_grad_keeps_the_composite_values():
    w = gpujit.tensor(_W)
    a = F.embedding_bag(gpujit.tensor(_IDX), w, gpujit.tensor(_OFF), mode="mean")
    b = F.embedding_bag(gpujit.tensor(_IDX), w.requires_grad_(), gpujit.tensor(_OFF),
                        mode="mean")
    assert a.grad_fn is None and b.grad_fn.name() == "EmbeddingBagBackward0"
    np.testing.assert_array_equal(a.numpy(), b.detach().numpy())
    out, o2b, size, maxi = gpujit.ops.aten._embedding_bag(w, gpujit.tensor(_IDX),
                                                         gpujit.tensor(_OFF), False, 1)
    assert out.grad_fn.name() == "EmbeddingBagBackward0" and o2b.grad_fn is None
    assert size.tolist() == [3, 0, 2, 3] and o2b.tolist() == [0, 0, 0, 2, 2, 3, 3, 3]


# ---------------------------------------------------------------- batched products and losses

def _chain(t, depth):
    def rec(fn, d):
        if fn is None:
            return None
        if d == 0 or not fn.next_functions:
            return "A" if fn.name() == ACC else fn.name()
        return (fn.name(), [rec(f, d - 1) for f, _ in fn.next_functions])
    return rec(t.grad_fn, depth)


def _p(*shape, seed=0):
    return _t(_r(*shape, seed=seed))


# (structures printed by torch 2.13, CPU)
_CHAINS = {
    "linear_3d": (lambda: F.linear(_p(2, 3, 4), _p(5, 4, seed=1), _p(5, seed=2)),
                  ("ViewBackward0", [("AddmmBackward0", ["A", ("ViewBackward0", ["A"]),
                                                        ("TBackward0", ["A"])])])),
    "linear_3d_no_bias": (lambda: F.linear(_p(2, 3, 4), _p(5, 4, seed=1)),
                          ("UnsafeViewBackward0", [("MmBackward0", [
                              ("ViewBackward0", ["A"]), ("TBackward0", ["A"])])])),
    "linear_4d": (lambda: F.linear(_p(2, 2, 3, 4), _p(5, 4, seed=1), _p(5, seed=2)),
                  ("ViewBackward0", [("AddmmBackward0", ["A", ("ViewBackward0", ["A"]),
                                                        ("TBackward0", ["A"])])])),
    "linear_transposed_input": (
        lambda: F.linear(_p(2, 4, 3).transpose(1, 2), _p(5, 4, seed=1), _p(5, seed=2)),
        ("AddBackward0", [("UnsafeViewBackward0", [("MmBackward0", [
            ("UnsafeViewBackward0", ["CloneBackward0"]), ("TBackward0", ["A"])])]), "A"])),
    "matmul_3d_2d": (lambda: _p(2, 3, 4) @ _p(4, 5, seed=1),
                     ("UnsafeViewBackward0", [("MmBackward0", [("ViewBackward0", ["A"]), "A"])])),
    "matmul_3d_1d": (lambda: _p(2, 3, 4) @ _p(4, seed=1),
                     ("UnsafeViewBackward0", [("MvBackward0", [("ViewBackward0", ["A"]), "A"])])),
    "matmul_2d_3d": (lambda: _p(3, 4) @ _p(2, 4, 5, seed=1),
                     ("CloneBackward0", [("TransposeBackward0", [("UnsafeViewBackward0", [
                         ("MmBackward0", ["UnsafeViewBackward0", "TBackward0"])])])])),
    "matmul_1d_3d": (lambda: _p(4) @ _p(2, 4, 5, seed=1),
                     ("UnsafeViewBackward0", [("MvBackward0", [("UnsafeViewBackward0", [
                         ("CloneBackward0", ["TransposeBackward0"])]), "A"])])),
    "matmul_4d_4d": (lambda: _p(2, 2, 3, 4) @ _p(2, 2, 4, 5, seed=1),
                     ("UnsafeViewBackward0", [("BmmBackward0", [
                         ("ViewBackward0", [("ExpandBackward0", ["A"])]),
                         ("ViewBackward0", [("ExpandBackward0", ["A"])])])])),
    "cross_entropy_3d": (
        lambda: F.cross_entropy(_p(2, 5, 3), gpujit.tensor([[0, 1, 2], [4, 4, 0]])),
        ("NllLoss2DBackward0", [("ViewBackward0", [("LogSoftmaxBackward0", ["A"])])])),
    "cross_entropy_5d_none": (
        lambda: F.cross_entropy(_p(2, 5, 3, 2, 2), gpujit.zeros(2, 3, 2, 2, dtype=gpujit.long),
                                reduction="none"),
        ("ViewBackward0", [("NllLoss2DBackward0", [("ViewBackward0", [
            ("LogSoftmaxBackward0", ["A"])])])])),
    "cross_entropy_4d": (
        lambda: F.cross_entropy(_p(2, 5, 3, 2), gpujit.zeros(2, 3, 2, dtype=gpujit.long)),
        ("NllLoss2DBackward0", [("LogSoftmaxBackward0", ["A"])])),
    "nll_loss_3d": (
        lambda: F.nll_loss(_p(2, 5, 3), gpujit.zeros(2, 3, dtype=gpujit.long)),
        ("NllLoss2DBackward0", [("ViewBackward0", ["A"])])),
    "cross_entropy_float16": (
        lambda: F.cross_entropy(_p(2, 5, 3).half(), gpujit.tensor([[0, 1, 2], [4, 4, 0]])),
        ("NllLoss2DBackward0", [("ViewBackward0", [("LogSoftmaxBackward0", [
            ("ToCopyBackward0", ["A"])])])])),
    "cross_entropy_bfloat16": (
        lambda: F.cross_entropy(_p(6, 5).bfloat16(), gpujit.tensor([0, 1, 2, 4, 4, 0])),
        ("NllLossBackward0", [("LogSoftmaxBackward0", [("ToCopyBackward0", ["A"])])])),
}


@pytest.mark.parametrize("name", sorted(_CHAINS))
def test_batched_node_chains_are_torchs(name):
    make, want = _CHAINS[name]
    y = make()
    assert _chain(y, 4) == want
    y.float().sum().backward()


def test_batched_linear_and_matmul_values_and_gradients():
    x, w, b = _r(2, 3, 4), _r(5, 4, seed=1), _r(5, seed=2)
    for _ in range(2):      # (the general path, then the recorders)
        xt, wt, bt = _t(x), _t(w), _t(b)
        y = F.linear(xt, wt, bt)
        np.testing.assert_allclose(y.detach().numpy(), x @ w.T + b, rtol=1e-6, atol=1e-6)
        g = _r(2, 3, 5, seed=3)
        (y * gpujit.tensor(g)).sum().backward()
        np.testing.assert_allclose(xt.grad.numpy(), g @ w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(wt.grad.numpy(), g.reshape(-1, 5).T @ x.reshape(-1, 4),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bt.grad.numpy(), g.sum((0, 1)), rtol=1e-5, atol=1e-6)
    a, c = _r(2, 2, 3, 4), _r(2, 2, 4, 5, seed=1)
    at, ct = _t(a), _t(c)
    y = at @ ct
    # (the batched product's values as the one-node path's: NumPy's matmul per matrix)
    np.testing.assert_array_equal(y.detach().numpy(), (gpujit.tensor(a) @ gpujit.tensor(c)).numpy())
    y.sum().backward()
    np.testing.assert_allclose(at.grad.numpy(), np.ones((2, 2, 3, 5)) @ np.swapaxes(c, -1, -2),
                               rtol=1e-5)
    np.testing.assert_allclose(ct.grad.numpy(), np.swapaxes(a, -1, -2) @ np.ones((2, 2, 3, 5)),
                               rtol=1e-5)


def test_cross_entropy_3d_gradient_and_none_reduction():
    x = _r(2, 5, 3)
    t = np.array([[0, 1, 2], [4, -100, 0]])
    xt = _t(x)
    loss = F.cross_entropy(xt, gpujit.tensor(t), reduction="none")
    assert loss.shape == (2, 3)
    e = np.exp(x - x.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    keep = t != -100
    tc = np.where(keep, t, 0)
    want = -np.log(np.take_along_axis(p, tc[:, None], 1)[:, 0]) * keep
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-5)
    loss.sum().backward()
    g = p.copy()
    np.put_along_axis(g, tc[:, None], np.take_along_axis(g, tc[:, None], 1) - 1, 1)
    np.testing.assert_allclose(xt.grad.numpy(), g * keep[:, None], rtol=1e-5, atol=1e-7)
