"""Sparse COO tensors, part 2 (session 43): the function forms programs call with a sparse
operand (torch.mm / matmul / addmm / mv / bmm / spmm, dense + sparse, dense * sparse, sum over
dims, zeros_like, transpose, s[i] ...), reached through the registry's entry points (a
sparse operand's `_data` raises registry.SparseOperand, which the op's public entry point
catches to run its sparse kernel: no check on a dense call), the autograd of the dense
operands with PyTorch's node names, and a pygcn-like training loop. Each test checks
hand-computed / NumPy values; where torch is importable, torch 2.13's too."""
import numpy as np
import pytest

import gpujit as torch

try:
    import torch as real
except ImportError:         # (CI has no torch)
    real = None

needs_torch = pytest.mark.skipif(real is None, reason="compares with torch 2.13")

X = [[0., 1., 0.], [2., 0., 3.]]
W = [[0., 1.], [2., 3.], [4., 5.]]


def _s(mod=torch):
    return mod.tensor(X).to_sparse()


def _dense(t):
    return t.to_dense().tolist() if t.is_sparse else t.tolist()


def _grad_name(t):
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


PRODUCTS = [
    ("torch.mm(s, D)", "MmBackward0"), ("torch.matmul(s, D)", "MmBackward0"),
    ("torch.spmm(s, D)", "MmBackward0"), ("torch.sparse.mm(s, D)", "SparseAddmmBackward0"),
    ("s @ D", "MmBackward0"), ("s.mm(D)", "MmBackward0"), ("s.matmul(D)", "MmBackward0"),
    ("torch.addmm(torch.ones(2, 2), s, D)", "AddmmBackward0"),
    ("torch.addmm(torch.ones(2), s, D, beta=2, alpha=3)", "AddmmBackward0"),
    ("torch.addmm(torch.ones(2, 2), s, D, beta=0)", "AddmmBackward0"),
]


@pytest.mark.parametrize("expr, node", PRODUCTS)
def test_sparse_dense_products_values_grads_and_node_names(expr, node):
    def run(mod):
        s = _s(mod)
        D = mod.tensor(W, requires_grad=True)
        r = eval(expr, {"torch": mod, "s": s, "D": D})
        r.sum().backward()
        return r, D.grad
    r, g = run(torch)
    a, w = np.array(X), np.array(W)
    beta, alpha, t = (2, 3, 1.0) if "beta=2" in expr else (0, 1, 0.0) if "beta=0" in expr \
        else (1, 1, 1.0) if "addmm" in expr else (0, 1, 0.0)
    assert r.tolist() == (beta * t + alpha * (a @ w)).tolist()
    assert _grad_name(r) == node and not r.is_sparse
    assert g.tolist() == (alpha * a.T @ np.ones((2, 2))).tolist()
    if real is not None:
        rr, rg = run(real)
        assert rr.tolist() == r.tolist() and rg.tolist() == g.tolist()
        assert _grad_name(rr) == node


def test_mv_matmul_vector_bmm_and_dense_at_sparse():
    s = _s()
    v = torch.ones(3, requires_grad=True)
    for r in (torch.mv(s, v), torch.matmul(s, v), s @ v):
        assert r.tolist() == [1., 5.] and _grad_name(r) == "MvBackward0"
    torch.mv(s, v).sum().backward()
    assert v.grad.tolist() == [2., 1., 3.]
    # a batch of sparse matrices (3 sparse dims) @ a dense batch
    b = torch.stack([torch.tensor(X), 2 * torch.tensor(X)]).to_sparse()
    D = torch.tensor([W, W], requires_grad=True)
    r = torch.bmm(b, D)
    want = np.stack([np.array(X) @ np.array(W), 2 * np.array(X) @ np.array(W)])
    assert r.tolist() == want.tolist() and _grad_name(r) == "BmmBackward0"
    r.sum().backward()
    assert D.grad.tolist() == [(np.array(X).T @ np.ones((2, 2))).tolist(),
                               (2 * np.array(X).T @ np.ones((2, 2))).tolist()]
    # dense @ sparse: dense, the dense operand's gradient grad @ s.t()
    E = torch.ones(2, 2, requires_grad=True)
    r = torch.mm(E, s)
    assert r.tolist() == [[2., 1., 3.], [2., 1., 3.]] and _grad_name(r) == "MmBackward0"
    r.sum().backward()
    assert E.grad.tolist() == [[1., 5.], [1., 5.]]
    assert (torch.ones(2, 2) @ s).tolist() == [[2., 1., 3.], [2., 1., 3.]]
    # sparse @ sparse: sparse, coalesced
    q = torch.tensor([[1., 0.], [0., 2.]]).to_sparse()
    for p in (q @ q, torch.mm(q, q), torch.sparse.mm(q, q)):
        assert p.is_sparse and p.is_coalesced() and p._nnz() == 2
        assert p.to_dense().tolist() == [[1., 0.], [0., 4.]]


def test_product_errors_in_torch_words():
    s = _s()
    with pytest.raises(RuntimeError, match=r"^expected scalar type Float but found Int$"):
        torch.mm(s, torch.tensor(W).int())
    with pytest.raises(RuntimeError, match=r"^addmm: Argument #3 \(dense\): Expected dim 0 "
                                           r"size 3, got 2$"):
        torch.mm(s, torch.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"^mv: expected self.size\(-1\) == vec.size\(-1\)$"):
        torch.mv(s, torch.ones(2))
    with pytest.raises(RuntimeError, match="^bmm_sparse: Tensor 'self' must have 3 sparse "
                                           "dims, but has 2$"):
        torch.bmm(s, torch.ones(2, 3, 2))
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(2\) must match "
                                           r"the existing size \(3\)"):
        torch.addmm(torch.ones(3), s, torch.tensor(W))


@needs_torch
def test_product_errors_as_torch():
    for expr in ("torch.mm(s, torch.tensor(W).int())", "torch.mm(s, torch.ones(2, 2))",
                 "torch.mv(s, torch.ones(2))", "torch.bmm(s, torch.ones(2, 3, 2))"):
        msgs = []
        for mod in (torch, real):
            with pytest.raises(RuntimeError) as e:
                eval(expr, {"torch": mod, "s": _s(mod), "W": W})
            msgs.append(str(e.value).split("\n")[0])
        assert msgs[0] == msgs[1], expr


ADDS = ["torch.ones(2, 3) + s", "torch.ones(2, 3) - s", "torch.add(torch.ones(2, 3), s, alpha=2)",
        "torch.ones(2, 3).sub(s, alpha=2)", "torch.sub(torch.ones(2, 3), s)",
        "torch.ones(2, 3, dtype=torch.float64) + s", "torch.ones(2, 3, dtype=torch.int64) + s",
        "torch.ones(2, 3).add_(s)", "torch.ones(2, 3).sub_(s)"]


@pytest.mark.parametrize("expr", ADDS)
def test_dense_plus_sparse_is_dense(expr):
    r = eval(expr, {"torch": torch, "s": _s()})
    alpha = (2 if "alpha=2" in expr else 1) * (-1 if "sub" in expr or " - " in expr else 1)
    assert not r.is_sparse and r.tolist() == (1 + alpha * np.array(X)).tolist()
    assert r.dtype is (torch.float64 if "float64" in expr else torch.float32)
    if real is not None:
        rr = eval(expr, {"torch": real, "s": _s(real)})
        assert rr.tolist() == r.tolist()
        assert str(rr.dtype) == str(r.dtype).replace("gpujit", "torch")


def test_inplace_operators_and_autograd_of_dense_plus_sparse():
    s = _s()
    x = torch.ones(2, 3)
    x += s
    assert x.tolist() == (1 + np.array(X)).tolist()
    x -= s
    assert x.tolist() == np.ones((2, 3)).tolist()
    x *= s
    assert x.tolist() == X
    d = torch.ones(2, 3, requires_grad=True)
    r = d + s
    assert _grad_name(r) == "AddBackward0"
    (r * torch.tensor([[1., 2., 3.], [4., 5., 6.]])).sum().backward()
    assert d.grad.tolist() == [[1., 2., 3.], [4., 5., 6.]]


def test_sums_and_sparse_times_sparse():
    s = _s()
    assert (s + s).is_coalesced() and (s + s).to_dense().tolist() == (2 * np.array(X)).tolist()
    assert (s - s)._nnz() == 3 and (s - s).to_dense().tolist() == np.zeros((2, 3)).tolist()
    r = s.float() + s.double()
    assert r.dtype is torch.float64 and r.is_sparse
    p = s * s
    assert p.is_coalesced() and p.to_dense().tolist() == (np.array(X) ** 2).tolist()
    with pytest.raises(RuntimeError, match="^add: expected 'self' and 'other' to have same "
                                           "density, but 'self' has 2 sparse dimensions while "
                                           "'other' has 1 sparse dimensions$"):
        s + torch.ones(2, 3).to_sparse(1)


def test_add_errors():
    s = _s()
    msg = (r"^add: expected 'self' and 'other' to have same size, but self has size {} while "
           r"other has size \[2, 3\] \(FYI: dense-sparse addition does not currently support "
           r"broadcasting\)$")
    with pytest.raises(RuntimeError, match=msg.format(r"\[3\]")):
        torch.ones(3) + s
    with pytest.raises(RuntimeError, match=msg.format(r"\[2, 2\]")):
        torch.ones(2, 2).add_(s)
    with pytest.raises(RuntimeError, match=msg.format(r"\[\]")):
        2 - s
    for f in (lambda: s + 1, lambda: 2 + s, lambda: s - 1,
              lambda: s.to(torch.int64) + torch.ones(2, 3)):
        with pytest.raises(RuntimeError, match=r"^add\(sparse, dense\) is not supported"):
            f()


MULS = ["torch.ones(2, 3) * s", "s * torch.ones(2, 3)", "torch.ones(1, 3) * s",
        "s * torch.ones(3)", "torch.tensor(2.) * s", "torch.mul(torch.full((2, 3), 3.), s)",
        "torch.ones(2, 3, dtype=torch.int64) * s", "s.t() * torch.ones(3, 2)", "s // 2",
        "s.floor_divide(2)", "s // torch.tensor(2.)", "s.pow(2)", "s ** 0.5", "s.pow(-1)"]


@pytest.mark.parametrize("expr", MULS)
def test_products_by_elements_are_sparse(expr):
    r = eval(expr, {"torch": torch, "s": _s()})
    a = np.array(X)
    f = 2 if "tensor(2.)" in expr else 3 if "full" in expr else 1
    want = a.T if ".t()" in expr else np.floor_divide(a, 2) if "//" in expr or "floor" in expr \
        else a ** 2 if "pow(2)" in expr else np.sqrt(a) if "0.5" in expr else \
        np.where(a != 0, 1 / np.where(a != 0, a, 1), 0) if "-1" in expr else f * a
    assert r.is_sparse and np.allclose(r.to_dense().tolist(), want)
    if real is not None:
        rr = eval(expr, {"torch": real, "s": _s(real)})
        assert rr.is_sparse and rr.is_coalesced() == r.is_coalesced()
        assert rr._indices().tolist() == r._indices().tolist()
        assert rr._values().tolist() == r._values().tolist()


def test_product_by_elements_errors():
    s = _s()
    with pytest.raises(RuntimeError, match=r"^Sparse floor division requires a scalar or "
                                           r"zero-dim dense tensor divisor \(got shape \[2, 3\] "
                                           r"for divisor\)$"):
        s // torch.ones(2, 3)
    with pytest.raises(RuntimeError, match="^pow: cannot raise to zeroth power on sparse "
                                           "tensor; it would make the result tensor dense$"):
        s.pow(0)
    # (a dense operand that requires grad: torch's result is a sparse tensor requiring
    # grad, which gpujit's sparse tensors cannot be: refused in words)
    with pytest.raises(RuntimeError, match="sparse kernel for this op records no autograd"):
        torch.ones(2, 3, requires_grad=True) * s


SUMS = ["s.sum(0)", "s.sum(-1)", "s.sum((0, 1))", "s.sum(0, keepdim=True)",
        "s.sum(dim=0, dtype=torch.float64)", "torch.sparse.sum(s, 0)",
        "torch.sparse.sum(s, [0, 1])", "torch.sum(s)", "torch.sum(s, 0)", "s.int().sum(0)",
        "s.sum((0, 1), keepdim=True)", "torch.ones(2, 3).to_sparse(1).sum(0)",
        "torch.ones(2, 3).to_sparse(1).sum(1)"]


@pytest.mark.parametrize("expr", SUMS)
def test_sum_over_dims(expr):
    r = eval(expr, {"torch": torch, "s": _s()})
    a = np.ones((2, 3)) if "ones" in expr else np.array(X)
    dims = (1,) if "-1" in expr or "sum(1)" in expr else (0, 1) if "0, 1" in expr or \
        expr == "torch.sum(s)" else (0,)
    want = a.sum(axis=dims, keepdims="keepdim" in expr)
    assert np.array(_dense(r)).tolist() == want.tolist()
    assert r.is_sparse == ("ones" not in expr and dims == (0,) or dims == (1,))
    if "int()" in expr:
        assert r.dtype is torch.int64
    if real is not None:
        rr = eval(expr, {"torch": real, "s": _s(real)})
        assert rr.is_sparse == r.is_sparse and _dense(rr) == _dense(r)
        assert str(rr.dtype).split(".")[1] == str(r.dtype).split(".")[1]
        if r.is_sparse:
            assert rr._indices().tolist() == r._indices().tolist()


def test_factories_like_a_sparse_tensor():
    s = _s()
    for r, size, sd, dt in ((s.new_zeros(2, 2), [2, 2], 2, torch.float32),
                            (s.new_zeros((4, 1), dtype=torch.int32), [4, 1], 2, torch.int32),
                            (torch.zeros_like(s), [2, 3], 2, torch.float32),
                            (torch.zeros_like(torch.ones(2, 3).to_sparse(1)), [2, 3], 1,
                             torch.float32),
                            (torch.empty_like(s), [2, 3], 2, torch.float32),
                            (s.new_empty(2, 2), [2, 2], 2, torch.float32)):
        assert r.is_sparse and list(r.shape) == size and r._nnz() == 0
        assert r.sparse_dim() == sd and r.dtype is dt
    z = torch.zeros_like(s, layout=torch.strided)
    assert not z.is_sparse and z.tolist() == np.zeros((2, 3)).tolist()


def test_transpose_stride_and_indexing():
    s = _s()
    for t in (s.transpose(0, 1), torch.transpose(s, 0, 1), s.t(), s.T, s.transpose(-1, 0)):
        assert not t.is_coalesced() and t.to_dense().tolist() == np.array(X).T.tolist()
    assert s.transpose(0, 0).to_dense().tolist() == X
    assert s.stride() == (0, 0) and s.stride(-1) == 0
    assert s[0].is_sparse and s[0].to_dense().tolist() == [0., 1., 0.]
    assert s[-1].to_dense().tolist() == [2., 0., 3.] and not s[1].is_coalesced()
    assert s[:, 0].to_dense().tolist() == [0., 2.]
    assert torch.select(s, 1, 2).to_dense().tolist() == [0., 3.]
    assert s[0, 1].item() == 1. and not s[0, 1].is_sparse and s[0][1].item() == 1.
    assert s[1, 1].item() == 0.
    with pytest.raises(IndexError, match="^index 5 is out of bounds for dimension 0 with size 2$"):
        s[5]
    with pytest.raises(IndexError, match="^index 5 is out of bounds for dimension 1 with size 3$"):
        s[0, 5]
    if real is not None:
        rs = _s(real)
        assert rs.stride() == s.stride() and rs[1]._indices().tolist() == s[1]._indices().tolist()
        assert rs.t()._indices().tolist() == s.transpose(0, 1)._indices().tolist()


def test_ops_without_a_sparse_kernel_raise_torchs_not_implemented_error():
    s = _s()
    for f, op in ((lambda: torch.exp(s), "aten::exp"), (lambda: torch.sigmoid(s), "aten::sigmoid"),
                  (lambda: torch.cumsum(s, 0), "aten::cumsum")):
        with pytest.raises(NotImplementedError) as e:
            f()
        assert type(e.value) is NotImplementedError
        assert str(e.value).startswith(f"Could not run '{op}' with arguments from the "
                                       f"'SparseCPU' backend")


def test_tracing_and_scripting_refuse_sparse_operands():
    s = _s()

    def f(x):
        return torch.mm(s, x)
    with pytest.raises(RuntimeError, match="tracer does not record sparse tensors"):
        torch.jit.trace(f, torch.ones(3, 2))

    @torch.jit.script
    def g(a, x):
        return torch.mm(a, x)
    with pytest.raises(RuntimeError, match="do not take sparse tensors"):
        g(s, torch.ones(3, 2))


def _gcn_run(mod, adj_i, adj_v, feats, labels, w1, b1, w2, b2, epochs=6):
    """pygcn's model (GraphConvolution: support = mm(input, W); out = spmm(adj, support)
    + b), relu, log_softmax, nll_loss, Adam with weight decay: the losses."""
    n = feats.shape[0]
    adj = mod.sparse.FloatTensor(mod.tensor(adj_i), mod.tensor(adj_v), mod.Size([n, n]))
    x, y = mod.tensor(feats), mod.tensor(labels)
    params = [mod.nn.Parameter(mod.tensor(a)) for a in (w1, b1, w2, b2)]
    opt = mod.optim.Adam(params, lr=0.01, weight_decay=5e-4)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        h = mod.relu(mod.spmm(adj, mod.mm(x, params[0])) + params[1])
        out = mod.spmm(adj, mod.mm(h, params[2])) + params[3]
        loss = mod.nn.functional.nll_loss(mod.nn.functional.log_softmax(out, dim=1), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in params]


def test_pygcn_like_training():
    rng = np.random.default_rng(0)
    n, f, h, c = 20, 8, 16, 3
    a = (rng.random((n, n)) < 0.2).astype(np.float32)
    a = np.maximum(a, a.T) + np.eye(n, dtype=np.float32)
    a = a / a.sum(1, keepdims=True)                   # pygcn's row normalisation
    i = np.stack(np.nonzero(a)).astype(np.int64)
    v = a[np.nonzero(a)].astype(np.float32)
    feats = rng.random((n, f)).astype(np.float32)
    labels = rng.integers(0, c, n).astype(np.int64)
    w1 = rng.uniform(-.25, .25, (f, h)).astype(np.float32)
    w2 = rng.uniform(-.25, .25, (h, c)).astype(np.float32)
    b1, b2 = np.zeros(h, np.float32), np.zeros(c, np.float32)
    losses, params = _gcn_run(torch, i, v, feats, labels, w1, b1, w2, b2)
    assert losses[-1] < losses[0]
    # the first loss by NumPy
    hid = np.maximum(a @ (feats @ w1) + b1, 0)
    out = a @ (hid @ w2) + b2
    lsm = out - out.max(1, keepdims=True)
    lsm = lsm - np.log(np.exp(lsm).sum(1, keepdims=True))
    assert np.isclose(losses[0], -lsm[np.arange(n), labels].mean(), rtol=1e-5)
    # the same training with the dense adjacency: the same losses and weights
    dl, dp = _gcn_run_dense(a, feats, labels, w1, b1, w2, b2)
    assert np.allclose(losses, dl, rtol=1e-5) and all(np.allclose(p, q, atol=1e-6)
                                                      for p, q in zip(params, dp))
    if real is not None:
        rl, rp = _gcn_run(real, i, v, feats, labels, w1, b1, w2, b2)
        assert np.allclose(losses, rl, rtol=1e-6, atol=0)
        assert all(np.allclose(p, q, atol=1e-6) for p, q in zip(params, rp))


def _gcn_run_dense(a, feats, labels, w1, b1, w2, b2, epochs=6):
    adj, x, y = torch.tensor(a), torch.tensor(feats), torch.tensor(labels)
    params = [torch.nn.Parameter(torch.tensor(t)) for t in (w1, b1, w2, b2)]
    opt = torch.optim.Adam(params, lr=0.01, weight_decay=5e-4)
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        h = torch.relu(adj @ (x @ params[0]) + params[1])
        out = adj @ (h @ params[2]) + params[3]
        loss = torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(out, dim=1), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in params]


@pytest.mark.cuda
def test_function_forms_on_cuda_match_the_cpu():
    exprs = ["torch.mm(s, D)", "torch.addmm(torch.ones(2, 2, device=dev), s, D, beta=2, alpha=3)",
             "torch.mv(s, torch.ones(3, device=dev))", "torch.ones(2, 3, device=dev) + s",
             "torch.ones(2, 2, device=dev) @ s", "(torch.ones(2, 3, device=dev) * s).to_dense()",
             "s.sum(0).to_dense()", "s[1].to_dense()"]
    for expr in exprs:
        got = []
        for dev in ("cpu", "cuda"):
            s = torch.tensor(X, device=dev).to_sparse()
            D = torch.tensor(W, device=dev, requires_grad=True)
            r = eval(expr, {"torch": torch, "s": s, "D": D, "dev": dev})
            assert r.device.type == dev, expr
            got.append(r.cpu().tolist())
            got.append(type(r.grad_fn).__name__ if r.grad_fn is not None else None)
            if r.requires_grad:
                r.sum().backward()
                got.append(D.grad.cpu().tolist())
        assert got[:len(got) // 2] == got[len(got) // 2:], expr
    # a sparse operand requiring grad: the same sparse gradient on the GPU
    grads = []
    for dev in ("cpu", "cuda"):
        s = torch.tensor(X, device=dev).to_sparse().requires_grad_()
        torch.sparse.mm(s, torch.tensor(W, device=dev)).sum().backward()
        grads.append((s.grad.is_sparse, s.grad.to_dense().cpu().tolist()))
    assert grads[0] == grads[1]


# ---------------------------------------------------------------- CSR
REPR_CSR = ("tensor(crow_indices=tensor([0, 1, 3]),\n"
            "       col_indices=tensor([1, 0, 2]),\n"
            "       values=tensor([1., 2., 3.]), size=(2, 3), nnz=3,\n"
            "       layout=torch.sparse_csr)")


def _csr(mod=torch):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mod.tensor(X).to_sparse_csr()


def test_csr_made_every_way_has_torchs_parts_and_repr():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made = [torch.tensor(X).to_sparse_csr(), torch.tensor(X).to_sparse().to_sparse_csr(),
                torch.tensor(X).to_sparse(layout=torch.sparse_csr),
                torch.sparse_csr_tensor([0, 1, 3], [1, 0, 2], [1., 2., 3.]),
                torch.sparse_csr_tensor(torch.tensor([0, 1, 3]), torch.tensor([1, 0, 2]),
                                        torch.tensor([1., 2., 3.]), (2, 3))]
    for c in made:
        assert repr(c).replace("gpujit.", "torch.") == REPR_CSR
        assert c.layout is torch.sparse_csr and c.is_sparse_csr and not c.is_sparse
        assert c.crow_indices().tolist() == [0, 1, 3] and c.col_indices().tolist() == [1, 0, 2]
        assert c.values().tolist() == [1., 2., 3.] and c._nnz() == 3
        assert (c.sparse_dim(), c.dense_dim()) == (2, 0) and list(c.shape) == [2, 3]
        assert c.to_dense().tolist() == X and c.crow_indices().dtype is torch.int64
        coo = c.to_sparse_coo()
        assert coo.is_sparse and coo.is_coalesced() and coo.indices().tolist() == [[0, 1, 1],
                                                                                  [1, 0, 2]]
        assert c.to_sparse().to_dense().tolist() == X
    i32 = torch.sparse_csr_tensor(torch.tensor([0, 1, 3], dtype=torch.int32),
                                  torch.tensor([1, 0, 2], dtype=torch.int32),
                                  torch.tensor([1., 2., 3.]), (2, 3))
    assert i32.crow_indices().dtype is torch.int32 and i32.to_dense().tolist() == X
    d = _csr().double()
    assert d.dtype is torch.float64 and "dtype=gpujit.float64,\n       layout" in repr(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = torch.zeros(2, 3).to_sparse_csr()
    assert e._nnz() == 0 and "col_indices=tensor([], size=(0,))" in repr(e)
    if real is not None:
        assert repr(_csr(real)) == REPR_CSR
        assert repr(real.zeros(2, 3).to_sparse_csr()).replace("torch.", "") == \
            repr(e).replace("gpujit.", "").replace("torch.", "")


def test_csr_warns_beta_once_at_the_users_line():
    import warnings
    from gpujit import _sparse_csr
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            torch.tensor(X).to_sparse_csr()
    finally:
        torch.set_warn_always(False)
    beta = [x for x in w if "Sparse CSR tensor support is in beta state" in str(x.message)]
    assert len(beta) == 1 and beta[0].category is UserWarning
    assert beta[0].filename == __file__
    assert _sparse_csr._BETA.format("CSR").startswith(
        "Sparse CSR tensor support is in beta state. If you miss a functionality")


CSR_EXPRS = ["c @ torch.ones(3, 2)", "torch.mm(c, torch.ones(3, 2))",
             "torch.matmul(c, torch.ones(3, 2))",
             "torch.addmm(torch.ones(2, 2), c, torch.ones(3, 2))",
             "c @ torch.ones(3)", "torch.mv(c, torch.ones(3))", "torch.spmm(c, torch.ones(3, 2))",
             "torch.sparse.mm(c, torch.ones(3, 2))", "c + d", "d + c", "torch.add(d, c)",
             "torch.add(c, d)", "c.sum()", "(c * 2).to_dense()", "c.neg().to_dense()",
             "c.abs().to_dense()", "c.to(torch.float64).to_dense()"]


@pytest.mark.parametrize("expr", CSR_EXPRS)
def test_csr_products_and_sums(expr):
    r = eval(expr, {"torch": torch, "c": _csr(), "d": torch.tensor(X)})
    a = np.array(X)
    want = {"@ torch.ones(3, 2)": a @ np.ones((3, 2)), "torch.ones(3, 2))": a @ np.ones((3, 2)),
            "@ torch.ones(3)": a @ np.ones(3), "torch.ones(3))": a @ np.ones(3)}
    w = next((v for k, v in want.items() if expr.endswith(k)), None)
    if "addmm" in expr:
        w = 1 + w
    elif "+" in expr or "add(" in expr:
        w = 2 * a
    elif "sum" in expr:
        w = a.sum()
    elif "* 2" in expr:
        w = 2 * a
    elif "neg" in expr:
        w = -a
    elif w is None:
        w = a
    assert not r.is_sparse and r.tolist() == w.tolist()
    if real is not None:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rr = eval(expr, {"torch": real, "c": _csr(real), "d": real.tensor(X)})
        assert rr.tolist() == r.tolist()


def test_csr_errors_in_torch_words():
    c = _csr()
    for expr, exc, msg in (
            ("c.stride()", RuntimeError, "Sparse CSR tensors do not have strides"),
            ("c.indices()", RuntimeError,
             "indices expected sparse coordinate tensor layout but got SparseCsr"),
            ("c.is_coalesced()", RuntimeError,
             "is_coalesced expected sparse coordinate tensor layout but got SparseCsr"),
            ("c.type()", RuntimeError, "Unimplemented backend SparseCsrCPU"),
            ("c.numpy()", TypeError,
             "can't convert SparseCsr layout tensor to numpy. Use Tensor.to_dense() first."),
            ("c / 2", RuntimeError, "unsupported tensor layout: SparseCsr")):
        with pytest.raises(exc) as e:
            eval(expr, {"c": c, "torch": torch})
        assert msg in str(e.value), str(e.value)
        if real is not None and "gpujit" not in msg:
            with pytest.raises(exc) as e2:
                eval(expr, {"c": _csr(real), "torch": real})
            assert str(e2.value).startswith(msg)
    # (torch 2.13's TensorIterator ops refuse a CSR operand so since session 44)
    with pytest.raises(RuntimeError, match="^unsupported tensor layout: SparseCsr"):
        torch.exp(c)
    with pytest.raises(NotImplementedError, match="^Could not run 'aten::cumsum.out' with "
                                                  "arguments from the 'SparseCsrCPU' backend"):
        c.cumsum(0)
    with pytest.raises(RuntimeError, match="crow_indices.size.-1. must be equal to size.-2. "
                                           r"\+ 1 \(that is 3\), but got: 2"):
        torch.sparse_csr_tensor([0, 3], [1, 0, 2], [1., 2., 3.], (2, 3))


def test_csr_save_load_with_pytorch_and_pickle(tmp_path):
    import copy
    import pickle
    c = _csr()
    assert repr(pickle.loads(pickle.dumps(c))) == repr(c) == repr(copy.deepcopy(c))
    torch.save({"c": c.double()}, tmp_path / "g.pt")
    back = torch.load(tmp_path / "g.pt")["c"]
    assert back.layout is torch.sparse_csr and back.dtype is torch.float64
    assert back.to_dense().tolist() == X
    if real is not None:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = real.load(tmp_path / "g.pt")["c"]
            assert t.layout is real.sparse_csr and t.to_dense().tolist() == X
            real.save({"c": _csr(real)}, tmp_path / "t.pt")
        assert repr(torch.load(tmp_path / "t.pt")["c"]).replace("gpujit.", "torch.") == REPR_CSR


# ---------------------------------------------------------------- sparse autograd
def _leaf(mod=torch):
    return mod.sparse_coo_tensor([[0, 1, 1], [1, 0, 2]], [1., 2., 3.], (2, 3),
                                 requires_grad=True)


def test_sparse_leaf_requiring_grad_gets_a_sparse_grad():
    W2 = [[0., 1., 2.], [3., 4., 5.]]
    cases = [("torch.sparse.mm(s, D)", "SparseAddmmBackward0", [5., 1., 9.]),
             ("s.to_dense() * torch.tensor(W2)", "MulBackward0", [1., 3., 5.]),
             ("(s * 2).to_dense()", "ToDenseBackward0", [2., 2., 2.]),
             ("s.coalesce().values() * torch.tensor([1., 2., 3.])", "MulBackward0", [1., 2., 3.]),
             ("(s + s).to_dense()", "ToDenseBackward0", [2., 2., 2.]),
             ("s.t().to_dense()", "ToDenseBackward0", [1., 1., 1.]),
             ("s.pow(2).to_dense()", "ToDenseBackward0", [2., 4., 6.])]
    for expr, node, want in cases:
        got = []
        for mod in (torch, real) if real is not None else (torch,):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = _leaf(mod)
                r = eval(expr, {"torch": mod, "s": s, "D": mod.tensor(W), "W2": W2})
                assert type(r.grad_fn).__name__ == node, (expr, mod)
                r.sum().backward()
            g = s.grad
            assert g.is_sparse, expr
            c = g.coalesce()
            got.append((c.indices().tolist(), c.values().tolist()))
        assert got[0] == ([[0, 1, 1], [1, 0, 2]], want), expr
        if len(got) == 2:
            assert got[0] == got[1], expr


def test_grad_fn_names_leaves_and_repr_of_sparse_tensors_requiring_grad():
    s = _leaf()
    assert s.is_leaf and s.grad_fn is None and s.grad is None
    assert repr(s).endswith("layout=torch.sparse_coo, requires_grad=True)")
    vv = torch.tensor([1., 2., 3.], requires_grad=True)
    t = torch.sparse_coo_tensor([[0, 1, 1], [1, 0, 2]], vv, (2, 3))
    assert not t.is_leaf and type(t.grad_fn).__name__ == \
        "SparseCooTensorWithDimsAndTensorsBackward0"
    assert repr(t).endswith(
        "layout=torch.sparse_coo,\n       grad_fn=<SparseCooTensorWithDimsAndTensorsBackward0>)")
    torch.sparse.mm(t, torch.tensor(W)).sum().backward()
    assert vv.grad.tolist() == [5., 1., 9.]
    names = {"s.t()": "TBackward0", "s.transpose(0, 1)": "TransposeBackward0",
             "s.coalesce()": "CoalesceBackward0", "s.coalesce().values()": "ValuesBackward0",
             "s * 2": "MulBackward0", "s.to_dense()": "ToDenseBackward0",
             "torch.ones(2, 3) + s": "AddBackward0"}
    for expr, name in names.items():
        r = eval(expr, {"torch": torch, "s": s})
        assert type(r.grad_fn).__name__ == name, expr
        if real is not None:
            rr = eval(expr, {"torch": real, "s": _leaf(real)})
            assert type(rr.grad_fn).__name__ == name, expr
    assert not s.detach().requires_grad and s.detach().is_leaf
    with torch.no_grad():
        assert torch.sparse.mm(s, torch.tensor(W)).grad_fn is None
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require "
                                           "gradients"):
        torch.sparse_coo_tensor([[0]], [1], (2,)).requires_grad_()


def test_grad_of_an_uncoalesced_leaf_is_one_entry_per_index():
    s = torch.sparse_coo_tensor([[0, 0], [1, 1]], [1., 2.], (2, 2), requires_grad=True)
    (s.coalesce().to_dense() * 3).sum().backward()
    g = s.grad
    assert g.is_coalesced() and g.indices().tolist() == [[0], [1]] and g.values().tolist() == [3.]
    if real is not None:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rs = real.sparse_coo_tensor([[0, 0], [1, 1]], [1., 2.], (2, 2), requires_grad=True)
        (rs.coalesce().to_dense() * 3).sum().backward()
        assert rs.grad.indices().tolist() == g.indices().tolist()
        assert rs.grad.values().tolist() == g.values().tolist()


def test_dense_gradient_of_a_sparse_leaf_where_torchs_is_dense():
    # torch.mm / addmm / mv / dense @ sparse / dense + sparse / s.sum() give a sparse leaf
    # the dense gradient (every element), torch.sparse.mm and to_dense a sparse one
    a, w = np.array(X), np.array(W)
    cases = {"torch.mm(s, D)": np.ones((2, 2)) @ w.T,
             "torch.addmm(torch.ones(2, 2), s, D, alpha=2)": 2 * np.ones((2, 2)) @ w.T,
             "torch.mv(s, torch.ones(3))": np.ones((2, 3)),
             "torch.ones(2, 3) + s": np.ones((2, 3)),
             "torch.ones(2, 2) @ s": np.full((2, 3), 2.), "s.sum() * 3": np.full((2, 3), 3.),
             "torch.sparse.mm(s, D).sum() + torch.mm(s, D)":
                 np.ones((2, 2)) @ w.T + 4 * (a != 0) * (np.ones((2, 2)) @ w.T)}
    for expr, want in cases.items():
        got = []
        for mod in (torch, real) if real is not None else (torch,):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = _leaf(mod)
                eval(expr, {"torch": mod, "s": s, "D": mod.tensor(W)}).sum().backward()
            assert not s.grad.is_sparse, (expr, mod)
            got.append(s.grad.tolist())
        assert got[0] == want.tolist(), expr
        if len(got) == 2:
            assert got[0] == got[1], expr
    s = _leaf()
    torch.mm(s, torch.tensor(W)).sum().backward()
    s.grad = None
    assert s.grad is None
    s.grad = torch.ones(2, 3)
    assert not s.grad.is_sparse and s.grad.tolist() == np.ones((2, 3)).tolist()
    s.requires_grad_(False)
    assert s.grad is None or not s.requires_grad


# ---------------------------------------------------------------- in place, shapes
U_I, U_V = [[1, 0, 1], [2, 1, 0]], [1., 2., 3.]       # (uncoalesced: storage order kept)


def _u(mod=torch):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mod.sparse_coo_tensor(U_I, U_V, (2, 3))


def _parts(r):
    return r._indices().tolist(), r._values().tolist(), tuple(r.shape), r.is_coalesced()


def test_inplace_sparse_add_and_the_merge_order():
    s = _s()
    t = s
    s += _s()
    assert s is t and s.to_dense().tolist() == (2 * np.array(X)).tolist()
    r = _s()
    assert r.add_(_u()) is r
    # torch's merge: the smaller index first, equal indices summed, in storage order
    assert _parts(r) == ([[0, 1, 1, 0, 1], [1, 0, 2, 1, 0]], [1., 2., 4., 2., 3.], (2, 3),
                         False)
    q = _s()
    q.sub_(_s())
    assert q.to_dense().tolist() == np.zeros((2, 3)).tolist()
    assert _parts(_u() + _u()) == (U_I, [2., 4., 6.], (2, 3), False)
    with pytest.raises(RuntimeError, match="^Can't convert result type Float to output Int in "
                                           "add operation$"):
        _s().int().add_(_s())
    leaf = _leaf()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in "
                                           "an in-place operation"):
        leaf.add_(_s())
    z = _s()
    assert z.zero_() is z and z._nnz() == 0 and z.to_dense().tolist() == np.zeros((2, 3)).tolist()
    one = torch.tensor([[2.]]).to_sparse()
    assert one.item() == 2. and bool(one)
    if real is not None:
        rr = _s(real)
        rr.add_(_u(real))
        assert _parts(rr) == ([[0, 1, 1, 0, 1], [1, 0, 2, 1, 0]], [1., 2., 4., 2., 3.], (2, 3),
                              False)


SHAPES = ["s.unsqueeze(0)", "s.unsqueeze(2)", "u.unsqueeze(1)",
          "s.index_select(0, torch.tensor([1, 0, 1]))", "u.index_select(1, torch.tensor([0, 2]))",
          "torch.cat([s, u])", "torch.cat([u, s], 1)", "torch.stack([s, u], 1)",
          "s.narrow_copy(0, 1, 1)", "s.permute(1, 0)", "s.permute(0, 1)",
          "torch.ones(2, 3).sparse_mask(u)", "torch.arange(6.).reshape(2, 3).sparse_mask(s)",
          "torch.ones(2, 3, 2).to_sparse(2).unsqueeze(3)",
          "torch.ones(2, 3, 2).to_sparse(2).permute(1, 0, 2)"]


@pytest.mark.parametrize("expr", SHAPES)
def test_shape_ops_of_sparse_tensors(expr):
    r = eval(expr, {"torch": torch, "s": _s(), "u": _u()})
    dense = eval(expr.replace("s.", "s_.").replace("(s", "(s_").replace("[s", "[s_")
                 .replace(" s]", " s_]").replace("u.", "u_.").replace("[u", "[u_")
                 .replace(" u]", " u_]").replace("(u", "(u_").replace(".to_sparse(2)", "")
                 .replace(".sparse_mask(u_)", " * (u_ != 0)").replace(".sparse_mask(s_)",
                                                                       " * (s_ != 0)")
                 .replace(".narrow_copy(", ".narrow("),
                 {"torch": torch, "s_": torch.tensor(X), "u_": _u().to_dense()})
    assert r.is_sparse and r.to_dense().tolist() == dense.tolist()
    if real is not None:
        rr = eval(expr, {"torch": real, "s": _s(real), "u": _u(real)})
        assert _parts(rr) == _parts(r)


def test_shape_op_errors_in_torch_words():
    s, u = _s(), _u()
    for expr, exc, msg in (
            ("s.narrow_copy(1, 2, 2)", RuntimeError, "Invalid range to narrow. range(start, "
                                                     "start+length) must be a subset of "
                                                     "range(0, 3)."),
            ("torch.ones(2, 3, 2).to_sparse(2).permute(2, 0, 1)", RuntimeError,
             "permute(sparse_coo): transpositions between sparse and dense dimensions are not "
             "allowed.Only transpositions within sparse and dense dimensions are supported."),
            ("s.index_select(0, torch.tensor([5]))", IndexError,
             "index_select(): index contains 5 that is out of range for tensor of size [2, 3] "
             "at dimension 0"),
            ("torch.cat([s, torch.ones(2, 3).to_sparse(1)])", RuntimeError,
             "All tensors must have the same sparse_dim and dense_dim: 2, 0, but tensor at "
             "position 1 has 1, 1."),
            ("s.reshape(3, 2)", RuntimeError, "reshape is not implemented for sparse tensors"),
            ("s.flatten()", RuntimeError, "reshape is not implemented for sparse tensors")):
        for mod in (torch, real) if real is not None else (torch,):
            with pytest.raises(exc) as e:
                eval(expr, {"torch": mod, "s": _s(mod), "u": _u(mod)})
            assert str(e.value) == msg, (expr, mod)
    assert s.sum() == 6 and u.sum() == 6


# ---------------------------------------------------------------- torch.sparse.softmax
def _random_sparse(seed=0):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal((12, 17)) * 4).astype(np.float32)
    a[rng.random((12, 17)) < 0.6] = 0
    return a


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sparse_softmax_values_bit_for_bit(log, dim):
    a = _random_sparse()
    f = torch.sparse.log_softmax if log else torch.sparse.softmax
    r = f(torch.from_numpy(a).to_sparse(), dim)
    i = r.indices().numpy()
    assert r.is_sparse and r.is_coalesced() and i.tolist() == np.stack(np.nonzero(a)).tolist()
    # NumPy: each line's stored entries, in double as PyTorch's CPU kernel
    x = a[np.nonzero(a)].astype(np.float64)
    pool = i[1 - (dim % 2)]
    m = np.full(pool.max() + 1, -np.inf)
    np.maximum.at(m, pool, x)
    e = np.exp(x - m[pool])
    total = np.bincount(pool, e)
    want = (x - (m + np.log(total))[pool]) if log else \
        e.astype(np.float32).astype(np.float64) * (1 / total)[pool]
    assert r.values().numpy().tobytes() == want.astype(np.float32).tobytes()
    if real is not None:
        rr = (real.sparse.log_softmax if log else real.sparse.softmax)(
            real.from_numpy(a).to_sparse(), dim)
        assert rr._values().numpy().tobytes() == r.values().numpy().tobytes()


@pytest.mark.parametrize("log", [False, True])
def test_sparse_softmax_gradient_and_node(log):
    a = _random_sparse(1)
    g = np.random.default_rng(2).standard_normal(a.shape).astype(np.float32)
    got = []
    for mod in (torch, real) if real is not None else (torch,):
        x = mod.from_numpy(a).to_sparse().requires_grad_()
        y = (mod.sparse.log_softmax if log else mod.sparse.softmax)(x, 1)
        assert type(y.grad_fn).__name__ == ("SparseLogSoftmaxBackward0" if log
                                            else "SparseSoftmaxBackward0")
        (y.to_dense() * mod.from_numpy(g)).sum().backward()
        got.append(x.grad.coalesce().values().numpy())
    i = np.nonzero(a)
    out = (torch.sparse.log_softmax if log else torch.sparse.softmax)(
        torch.from_numpy(a).to_sparse(), 1).values().numpy().astype(np.float64)
    gv = g[i].astype(np.float64)
    if log:
        want = gv - np.exp(out) * np.bincount(i[0], gv)[i[0]]
    else:
        want = out * (gv - np.bincount(i[0], gv * out)[i[0]])
    assert np.allclose(got[0], want, rtol=1e-5, atol=1e-6)
    if len(got) == 2:
        assert got[0].tobytes() == got[1].tobytes()


def test_sparse_softmax_other_forms():
    u = _u()
    r = torch.sparse.softmax(u, 1)
    assert r.indices().tolist() == [[0, 1, 1], [1, 0, 2]]
    assert np.allclose(r.values().tolist(), [1.0, 1 / (1 + np.exp(-2)), 1 / (1 + np.exp(2))])
    assert torch.sparse.softmax(u, 1, dtype=torch.float64).dtype is torch.float64
    d = torch.ones(2, 3, 2).to_sparse(2)
    assert torch.sparse.softmax(d, 2).values().tolist() == [[0.5, 0.5]] * 6
    assert torch.sparse.softmax(d, 0).values().tolist() == [[0.5, 0.5]] * 6
    with pytest.raises(NotImplementedError, match="^Could not run 'aten::_sparse_softmax' with "
                                                  "arguments from the 'CPU' backend"):
        torch.sparse.softmax(torch.ones(2, 2), 0)


def test_factories_with_a_sparse_layout():
    import warnings
    cases = ["torch.zeros(2, 3, layout=torch.sparse_coo)",
             "torch.empty(2, 3, layout=torch.sparse_coo)",
             "torch.zeros(2, 3, layout=torch.sparse_csr)",
             "torch.zeros_like(torch.ones(2, 3), layout=torch.sparse_coo)",
             "torch.empty((2, 3), layout=torch.sparse_coo, dtype=torch.float64)"]
    for expr in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = eval(expr, {"torch": torch})
        assert r.layout is (torch.sparse_csr if "csr" in expr else torch.sparse_coo)
        assert r._nnz() == 0 and r.to_dense().abs().sum().item() == 0
        if real is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rr = eval(expr, {"torch": real})
            assert repr(rr) == repr(r).replace("gpujit.", "torch."), expr
    for expr in ("torch.ones(2, 3, layout=torch.sparse_coo)",
                 "torch.full((2, 3), 0., layout=torch.sparse_coo)"):
        with pytest.raises(RuntimeError, match=r"^full\(\.\.\.\) is not implemented for sparse "
                                               r"layout$"):
            eval(expr, {"torch": torch})


FUNCS = ["torch.abs(s)", "torch.sqrt(s.abs())", "torch.neg(s)", "torch.tanh(s)", "torch.relu(s)",
         "torch.nn.functional.relu(s)", "torch.pow(s, 2)", "torch.square(s)", "torch.isinf(s)",
         "torch.div(s, 2)", "torch.div(s, 2, rounding_mode='floor')", "torch.true_divide(s, 2)",
         "torch.nan_to_num(s, nan=0.)", "s.clone().div_(2)",
         "s.clone().mul_(torch.full((2, 3), 2.))", "s * torch.tensor([[1.], [2.]])"]


@pytest.mark.parametrize("expr", FUNCS)
def test_function_forms_of_values_only_ops(expr):
    a = np.array([[0., -1., 0.], [2., 0., -3.]])
    r = eval(expr, {"torch": torch, "s": torch.tensor(a.tolist()).to_sparse()})
    dense = eval(expr.replace(".to_sparse()", ""), {"torch": torch,
                                                     "s": torch.tensor(a.tolist())})
    assert r.is_sparse and r.to_dense().tolist() == dense.tolist()
    if real is not None:
        rr = eval(expr, {"torch": real, "s": real.tensor(a.tolist()).to_sparse()})
        assert _parts(rr) == _parts(r), expr
    with pytest.raises(RuntimeError, match=r"^Sparse division requires a scalar or zero-dim "
                                           r"dense tensor divisor \(got shape \[2, 1\] for "
                                           r"divisor\)$"):
        _s() / torch.ones(2, 1)


def test_function_forms_of_values_only_ops_on_csr():
    c = _csr()
    for f in (torch.abs, torch.relu, torch.neg, torch.tanh, torch.nn.functional.relu):
        r = f(c)
        assert r.layout is torch.sparse_csr and r.to_dense().tolist() == \
            f(torch.tensor(X)).tolist()


def _gat_losses(mod, x, adj, W, a, steps=3):
    """pyGAT's SpGraphAttentionLayer: a custom Function that builds a sparse tensor from the
    edge values, saves it for backward, multiplies with matmul and, in backward, reads its
    _indices() and multiplies its t(); Adam steps. The losses and the first output."""
    F = mod.nn.functional

    class SpecialSpmmFunction(mod.autograd.Function):
        @staticmethod
        def forward(ctx, indices, values, shape, b):
            assert indices.requires_grad is False
            s = mod.sparse_coo_tensor(indices, values, shape)
            ctx.save_for_backward(s, b)
            ctx.N = shape[0]
            return mod.matmul(s, b)

        @staticmethod
        def backward(ctx, grad_output):
            s, b = ctx.saved_tensors
            grad_values = grad_b = None
            if ctx.needs_input_grad[1]:
                grad_a_dense = grad_output.matmul(b.t())
                edge_idx = s._indices()[0, :] * ctx.N + s._indices()[1, :]
                grad_values = grad_a_dense.view(-1)[edge_idx]
            if ctx.needs_input_grad[3]:
                grad_b = s.t().matmul(grad_output)
            return None, grad_values, None, grad_b

    Wp, ap = mod.nn.Parameter(mod.tensor(W)), mod.nn.Parameter(mod.tensor(a))
    opt = mod.optim.Adam([Wp, ap], lr=0.01)
    losses, first = [], None
    for _ in range(steps):
        opt.zero_grad()
        inp, ad = mod.tensor(x), mod.tensor(adj)
        n = inp.size()[0]
        edge = ad.nonzero().t()
        h = mod.mm(inp, Wp)
        edge_h = mod.cat((h[edge[0, :], :], h[edge[1, :], :]), dim=1).t()
        edge_e = mod.exp(-F.leaky_relu(ap.mm(edge_h).squeeze(), 0.2))
        rowsum = SpecialSpmmFunction.apply(edge, edge_e, mod.Size([n, n]), mod.ones(size=(n, 1)))
        hp = SpecialSpmmFunction.apply(edge, edge_e, mod.Size([n, n]), h).div(rowsum)
        out = F.elu(hp)
        if first is None:
            first = out.detach().numpy()
        loss = out.pow(2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, first


def test_pygat_sparse_attention_layer():
    rng = np.random.default_rng(0)
    n, f, o = 12, 5, 4
    adj = (rng.random((n, n)) < 0.3).astype(np.float32) + np.eye(n, dtype=np.float32)
    x = rng.random((n, f)).astype(np.float32)
    W = (rng.standard_normal((f, o)) * 0.3).astype(np.float32)
    a = (rng.standard_normal((1, 2 * o)) * 0.3).astype(np.float32)
    losses, first = _gat_losses(torch, x, adj, W, a)
    assert losses[-1] < losses[0]
    # NumPy: attention over each row's edges, elu
    h = x.astype(np.float64) @ W
    r, c = np.nonzero(adj)
    z = np.concatenate([h[r], h[c]], 1) @ a[0]
    e = np.exp(-np.where(z > 0, z, 0.2 * z))
    num = np.zeros((n, o))
    np.add.at(num, r, e[:, None] * h[c])
    hp = num / np.bincount(r, e, n)[:, None]
    assert np.allclose(first, np.where(hp > 0, hp, np.expm1(hp)), rtol=1e-5, atol=1e-6)
    if real is not None:
        rl, rf = _gat_losses(real, x, adj, W, a)
        assert np.allclose(losses, rl, rtol=1e-6) and np.allclose(first, rf, rtol=1e-6)


def test_hooks_norm_views_and_torchs_errors():
    seen = []
    for mod in (torch, real) if real is not None else (torch,):
        s = _leaf(mod)
        h = s.register_hook(lambda g: (seen.append(g.is_sparse), g * 2)[1])
        mod.sparse.mm(s, mod.tensor(W)).sum().backward()
        assert s.grad.coalesce().values().tolist() == [10., 2., 18.]
        h.remove()
    assert all(seen)
    s = _s()
    assert abs(s.norm().item() - np.sqrt(14.)) < 1e-6 and abs(torch.norm(s).item() -
                                                              np.sqrt(14.)) < 1e-6
    for t in (torch.t(s), s.mT, s.H):
        assert t.is_sparse and t.to_dense().tolist() == np.array(X).T.tolist()
    assert torch.clone(s).is_sparse and torch.clone(s).to_dense().tolist() == X
    for expr, exc, msg in (
            ("s.contiguous()", RuntimeError, "unsupported memory format option Contiguous"),
            ("s.expand(2, 3)", RuntimeError, "expand is unsupported for Sparse tensors"),
            ("s.nbytes", RuntimeError, "nbytes is not defined for sparse tensors.  If you want "
                                       "the size of the constituent tensors, add the nbytes "
                                       "of the indices and values."),
            ("s.untyped_storage()", NotImplementedError,
             "Cannot access storage of SparseTensorImpl")):
        for mod in (torch, real) if real is not None else (torch,):
            with pytest.raises(exc) as e:
                eval(expr, {"s": _s(mod)})
            assert str(e.value).startswith(msg), (expr, mod)


class _SparseWeight(torch.nn.Module):
    def __init__(self, mod=torch):
        super().__init__()
        self.w = mod.nn.Parameter(mod.tensor(X).to_sparse())

    def forward(self, x):
        return torch.sparse.mm(self.w, x)


def test_sparse_parameter_in_a_module():
    m = _SparseWeight()
    assert [(n, p.is_sparse, p.requires_grad, p.is_leaf) for n, p in m.named_parameters()] == \
        [("w", True, True, True)]
    assert isinstance(m.w, torch.nn.Parameter) and isinstance(m.w, torch.Tensor)
    assert repr(m.w).startswith("Parameter containing:\ntensor(indices=tensor([[0, 1, 1],")
    assert repr(m.w).endswith("layout=torch.sparse_coo, requires_grad=True)")
    for _ in range(2):                      # (SGD by hand, as torch's sparse examples do)
        m.zero_grad()
        m(torch.ones(3, 2)).sum().backward()
        assert m.w.grad.is_sparse and m.w.grad.to_dense().tolist() == [[0., 2., 0.],
                                                                       [2., 0., 2.]]
        with torch.no_grad():
            for p in m.parameters():
                p.add_(p.grad, alpha=-0.1)
    assert m.w.is_leaf and m.w.requires_grad and np.allclose(m.w.coalesce().values().tolist(),
                                                            [.6, 1.6, 2.6])
    m2 = _SparseWeight()
    m2.load_state_dict(m.state_dict())
    assert np.allclose(m2.w.to_dense().tolist(), m.w.to_dense().tolist())
    assert m2.double().w.dtype is torch.float64 and m2.w.is_sparse and m2.w.requires_grad
    m.zero_grad()
    assert m.w.grad is None
    with pytest.raises(RuntimeError, match="gpujit's optimizers step dense parameters only"):
        torch.optim.SGD(m.parameters(), lr=0.1).step()
    s = _leaf()
    c = copy_of(s)
    assert c.requires_grad and c.is_leaf and c.grad_fn is None
    import io
    buf = io.BytesIO()
    torch.save(s, buf)
    buf.seek(0)
    back = torch.load(buf)
    assert back.is_sparse and not back.requires_grad   # (as torch.load's)


def copy_of(t):
    import copy
    return copy.deepcopy(t)


CSR_SPARSE = ["c * torch.full((2, 3), 2.)", "torch.full((2, 3), 2.) * c", "c * d", "c + d",
              "c @ d.to_dense().t().to_sparse_csr()", "c.mul(torch.tensor(3.))",
              "c * c.to_sparse()"]


@pytest.mark.parametrize("expr", CSR_SPARSE)
def test_csr_results_that_stay_csr(expr):
    import warnings

    def run(mod):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = mod.tensor([[0., 1., 0.], [2., 0., 3.]]).to_sparse_csr()
            d = mod.tensor([[1., 0., 2.], [0., 0., 5.]]).to_sparse_csr()
            return eval(expr, {"torch": mod, "c": c, "d": d})
    r = run(torch)
    a, b = np.array([[0., 1., 0.], [2., 0., 3.]]), np.array([[1., 0., 2.], [0., 0., 5.]])
    want = {"c * d": a * b, "c + d": a + b, "c @ d.to_dense().t().to_sparse_csr()": a @ b.T,
            "c.mul(torch.tensor(3.))": 3 * a, "c * c.to_sparse()": a * a}.get(expr, 2 * a)
    assert r.layout is torch.sparse_csr and r.to_dense().tolist() == want.tolist()
    if real is not None:
        rr = run(real)
        assert (rr.crow_indices().tolist(), rr.col_indices().tolist(), rr.values().tolist()) \
            == (r.crow_indices().tolist(), r.col_indices().tolist(), r.values().tolist())


@pytest.mark.cuda
def test_more_sparse_kernels_on_cuda_match_the_cpu():
    import warnings
    exprs = ["torch.sparse.softmax(s, 1)", "torch.sparse.log_softmax(s, 0)", "s + u", "u + u",
             "s.index_select(1, torch.tensor([2, 0], device=dev))", "torch.cat([s, u])",
             "s.unsqueeze(0)", "s.sum(0)", "s.t()", "s * torch.ones(2, 3, device=dev)",
             "torch.ones(2, 3, device=dev).sparse_mask(u)", "s.to_sparse_csr().to_sparse_coo()",
             "torch.sparse.mm(s.to_sparse_csr(), torch.ones(3, 2, device=dev))"]
    for expr in exprs:
        got = []
        for dev in ("cpu", "cuda"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = torch.tensor(X, device=dev).to_sparse()
                u = torch.sparse_coo_tensor(U_I, U_V, (2, 3), device=dev)
                r = eval(expr, {"torch": torch, "s": s, "u": u, "dev": dev})
            assert r.device.type == dev, expr
            got.append(_parts(r.cpu()) if r.is_sparse else r.cpu().tolist())
        assert got[0] == got[1], expr


def test_spdiags():
    d = [[1., 2., 3.], [4., 5., 6.]]
    r = torch.sparse.spdiags(torch.tensor(d), torch.tensor([0, -1]), (3, 3))
    assert _parts(r) == ([[0, 1, 2, 1, 2], [0, 1, 2, 0, 1]], [1., 2., 3., 4., 5.], (3, 3), False)
    assert r.to_dense().tolist() == [[1., 0., 0.], [4., 2., 0.], [0., 5., 3.]]
    r = torch.sparse.spdiags(torch.tensor(d), torch.tensor([1, -1]), (2, 4))
    assert _parts(r) == ([[0, 1, 1], [1, 2, 0]], [2., 3., 4.], (2, 4), False)
    c = torch.sparse.spdiags(torch.tensor(d), torch.tensor([0, 1]), (3, 3),
                             layout=torch.sparse_csr)
    assert c.layout is torch.sparse_csr and c.crow_indices().tolist() == [0, 2, 4, 5]
    assert c.col_indices().tolist() == [0, 1, 1, 2, 2]
    assert c.values().tolist() == [1., 5., 2., 6., 3.]
    with pytest.raises(RuntimeError, match="^Offset tensor contains duplicate values$"):
        torch.sparse.spdiags(torch.tensor(d), torch.tensor([0, 0]), (3, 3))
    with pytest.raises(RuntimeError, match=r"^Number of diagonals \(2\) does not match the "
                                           r"number of offsets \(1\)$"):
        torch.sparse.spdiags(torch.tensor(d), torch.tensor([0]), (3, 3))
    if real is not None:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for offs, shape in (([0, -1], (3, 3)), ([1, -1], (2, 4)), ([0, 2], (3, 3)),
                                ([0, -1], (4, 5))):
                rr = real.sparse.spdiags(real.tensor(d), real.tensor(offs), shape)
                assert _parts(rr) == _parts(torch.sparse.spdiags(torch.tensor(d),
                                                                 torch.tensor(offs), shape))


def test_new_factories_take_layout_and_pin_memory():
    x = torch.ones(2)
    assert x.new_zeros(3, layout=torch.strided).tolist() == [0., 0., 0.]
    assert x.new_ones(3, layout=torch.strided, pin_memory=False).tolist() == [1., 1., 1.]
    assert x.new_full((2,), 5., layout=torch.strided).tolist() == [5., 5.]
    assert tuple(x.new_empty((2, 1), layout=torch.strided).shape) == (2, 1)
    r = x.new_zeros((2, 3), layout=torch.sparse_coo)
    assert r.is_sparse and r._nnz() == 0 and tuple(r.shape) == (2, 3)
    if real is not None:
        rr = real.ones(2).new_zeros((2, 3), layout=real.sparse_coo)
        assert repr(rr) == repr(r).replace("gpujit.", "torch.")
