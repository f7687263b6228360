"""Sparse tensors, part 3 (session 44): sparse gradients (nn.Embedding / F.embedding /
nn.EmbeddingBag with sparse=True give weight a sparse COO gradient, as PyTorch's), their
accumulation, zero_grad and clipping, and the optimizers that step them (SGD, Adagrad,
SparseAdam) or refuse them in PyTorch's words. Each test checks hand-computed / NumPy
values; where torch is importable, torch 2.13's too."""
import warnings

import numpy as np
import pytest

import gpujit as torch

try:
    import torch as real
except ImportError:         # (CI has no torch)
    real = None

needs_torch = pytest.mark.skipif(real is None, reason="compares with torch 2.13")


def _parts(g):
    return (g._indices().tolist(), g._values().tolist(), list(g.shape), g.is_coalesced())


def _emb_grad(mod, idx, padding_idx=None, twice=None):
    w = mod.nn.Parameter(mod.arange(12.).reshape(6, 2))
    out = mod.nn.functional.embedding(mod.tensor(idx), w, padding_idx=padding_idx,
                                      sparse=True)
    (out * 2).sum().backward()
    if twice is not None:
        mod.nn.functional.embedding(mod.tensor(twice), w, sparse=True).sum().backward()
    return w.grad


EMB = [([[1, 2], [1, 5]], None, None), ([3], None, None), ([1, 2, 1, 4], 1, None),
       ([1, 1], 1, None), ([[1, 2, 1, 5]], None, [3, 0]), ([4, 0], None, [4])]


@pytest.mark.parametrize("idx, pad, twice", EMB)
def test_embedding_sparse_grad_parts(idx, pad, twice):
    g = _emb_grad(torch, idx, pad, twice)
    assert g.is_sparse and g.layout is torch.sparse_coo and isinstance(g, torch.Tensor)
    flat = [i for i in np.array(idx).reshape(-1).tolist() if i != pad]
    dense = np.zeros((6, 2))
    for i in flat:
        dense[i] += 2
    for i in twice or ():
        dense[i] += 1
    assert g.to_dense().tolist() == dense.tolist()
    if twice is None:
        assert _parts(g) == ([flat], [[2., 2.]] * len(flat), [6, 2], len(flat) < 2)
    if real is not None:
        assert _parts(g) == _parts(_emb_grad(real, idx, pad, twice))


def _accumulated(mod, scale):
    w = mod.nn.Parameter(mod.arange(12.).reshape(6, 2))
    F = mod.nn.functional
    (F.embedding(mod.tensor([1, 2, 1, 5]), w, sparse=True) * 2).sum().backward()
    out = F.embedding(mod.tensor([3, 0]), w, sparse=True)
    (out if scale == 1 else out * scale).sum().backward()
    return w.grad


@pytest.mark.parametrize("scale, order", [(3, [1, 2, 1, 3, 0, 5]), (1, [1, 2, 1, 5, 3, 0])])
def test_embedding_sparse_accumulation_as_torch(scale, order):
    # .grad += new: both values contiguous, PyTorch's merge of the two entry lists by
    # index; the new one's values a view of the expanded gradient of sum() (no * scale),
    # the lists one after the other
    g = _accumulated(torch, scale)
    vals = {1: 2., 2: 2., 5: 2., 3: scale, 0: scale}
    assert _parts(g) == ([order], [[vals[i]] * 2 for i in order], [6, 2], False)
    if real is not None:
        assert _parts(g) == _parts(_accumulated(real, scale))


def _two_lookups(mod):
    w = mod.nn.Parameter(mod.arange(12.).reshape(6, 2))
    F = mod.nn.functional
    out = F.embedding(mod.tensor([1, 4]), w, sparse=True) + \
        F.embedding(mod.tensor([0, 4]), w, sparse=True)
    out.sum().backward()
    return w.grad


def test_two_sparse_gradients_of_one_weight_join_as_torch():
    # (the expanded gradient of sum(): values not contiguous, so PyTorch's sparse add puts
    # the two entry lists one after the other, newest first)
    g = _two_lookups(torch)
    assert _parts(g) == ([[1, 4, 0, 4]], [[1., 1.]] * 4, [6, 2], False)
    if real is not None:
        assert _parts(g) == _parts(_two_lookups(real))


def test_sparse_plus_sparse_of_noncontiguous_values_concatenates():
    i = torch.tensor([[1, 4]])
    v = torch.ones(2, 1).expand(2, 3)
    a = torch.sparse_coo_tensor(i, v, (6, 3))
    b = torch.sparse_coo_tensor(torch.tensor([[0, 4]]), torch.ones(2, 3), (6, 3))
    r = a + b
    assert r._indices().tolist() == [[1, 4, 0, 4]] and not r.is_coalesced()
    r2 = b + torch.sparse_coo_tensor(i, torch.ones(2, 3), (6, 3))   # contiguous: merged
    assert r2._indices().tolist() == [[0, 1, 4]]


@pytest.mark.parametrize("order", ["dense_first", "sparse_first"])
def test_dense_and_sparse_gradients_accumulate_dense(order):
    def run(mod):
        w = mod.nn.Parameter(mod.arange(12.).reshape(6, 2))
        F = mod.nn.functional
        steps = [lambda: (w * 1).sum().backward(),
                 lambda: F.embedding(mod.tensor([1, 4]), w, sparse=True).sum().backward()]
        if order == "sparse_first":
            steps.reverse()
        steps[0]()
        g0 = w.grad
        steps[1]()
        return w.grad, w.grad is g0
    g, same = run(torch)
    want = np.ones((6, 2))
    want[[1, 4]] += 1
    assert not g.is_sparse and g.tolist() == want.tolist()
    assert same == (order == "dense_first")      # (dense .grad += sparse in place)
    if real is not None:
        rg, rsame = run(real)
        assert rg.tolist() == g.tolist() and rsame == same


def test_embedding_sparse_grad_through_autograd_grad_and_hooks():
    w = torch.nn.Parameter(torch.arange(12.).reshape(6, 2))
    out = torch.nn.functional.embedding(torch.tensor([1, 4]), w, sparse=True)
    g, = torch.autograd.grad(out.sum(), w)
    assert _parts(g) == ([[1, 4]], [[1., 1.], [1., 1.]], [6, 2], False)
    seen = []
    w.register_hook(lambda g: seen.append(g.layout))
    torch.nn.functional.embedding(torch.tensor([2]), w, sparse=True).sum().backward()
    assert seen == [torch.sparse_coo] and w.grad._indices().tolist() == [[2]]
    w.grad = None
    w.grad = torch.sparse_coo_tensor(torch.tensor([[0]]), torch.ones(1, 2), (6, 2))
    assert w.grad.is_sparse


def test_embedding_sparse_scale_grad_by_freq_is_torch_error():
    e = torch.nn.Embedding(4, 2, sparse=True, scale_grad_by_freq=True)
    out = e(torch.tensor([0, 2, 0]))
    with pytest.raises(RuntimeError, match="embedding_backward: scale_grad_by_freq not "
                                           "supported with sparse gradients"):
        out.sum().backward()


def test_embedding_sparse_max_norm_and_double():
    e = torch.nn.Embedding(4, 3, sparse=True, max_norm=1.0)
    with torch.no_grad():
        e.weight.copy_(torch.arange(12.).reshape(4, 3))
    e(torch.tensor([0, 2])).sum().backward()
    assert _parts(e.weight.grad) == ([[0, 2]], [[1.] * 3] * 2, [4, 3], False)
    assert abs(float(e.weight[2].norm()) - 1) < 1e-6 and e.weight[1].tolist() == [3, 4, 5]
    d = torch.nn.Embedding(4, 2, sparse=True).double()
    d(torch.tensor([1])).sum().backward()
    assert d.weight.grad.dtype is torch.float64 and d.weight.grad._indices().tolist() == [[1]]


def _bag_grad(mod, mode, pad=None, two_d=False, psw=False):
    e = mod.nn.EmbeddingBag(5, 2, mode=mode, sparse=True, padding_idx=pad)
    with mod.no_grad():
        e.weight.copy_(mod.arange(10.).reshape(5, 2))
    if two_d:
        out = e(mod.tensor([[0, 2], [2, 4]]))
    else:
        w = mod.tensor([1., 2., 3., 4., 5.]) if psw else None
        out = e(mod.tensor([0, 2, 2, 4, 1]), mod.tensor([0, 2]), per_sample_weights=w)
    (out * mod.tensor([[1., 2.], [3., 4.]])).sum().backward()
    return e.weight.grad


@pytest.mark.parametrize("mode, pad, two_d, psw", [
    ("sum", None, False, False), ("mean", None, False, False), ("sum", 2, True, False),
    ("mean", 2, False, False), ("sum", None, False, True)])
def test_embedding_bag_sparse_grad(mode, pad, two_d, psw):
    g = _bag_grad(torch, mode, pad, two_d, psw)
    idx = [0, 2, 2, 4] if two_d else [0, 2, 2, 4, 1]
    bags = [0, 0, 1, 1] if two_d else [0, 0, 1, 1, 1]
    up = np.array([[1., 2.], [3., 4.]])
    keep = [k for k, i in enumerate(idx) if i != pad]
    count = [sum(1 for k in keep if bags[k] == b) for b in range(2)]
    want = []
    for k in keep:
        v = up[bags[k]] / (count[bags[k]] if mode == "mean" else 1)
        want.append((v * (k + 1 if psw else 1)).tolist())
    assert g._indices().tolist() == [[idx[k] for k in keep]]
    np.testing.assert_allclose(g._values().numpy(), np.array(want), rtol=1e-6)
    if real is not None:
        r = _bag_grad(real, mode, pad, two_d, psw)
        assert g._indices().tolist() == r._indices().tolist()
        assert g._values().tolist() == r._values().tolist()


def test_zero_grad_of_sparse_grads():
    m = torch.nn.Embedding(6, 2, sparse=True)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    for zero in (lambda: m.zero_grad(set_to_none=False),
                 lambda: opt.zero_grad(set_to_none=False)):
        m(torch.tensor([1, 3])).sum().backward()
        g = m.weight.grad
        zero()
        assert m.weight.grad is g and _parts(g) == ([[]], [], [6, 2], True)
        assert g._indices().shape == (1, 0) and g._values().shape == (0, 2)
    m.zero_grad()
    assert m.weight.grad is None


def test_clip_grad_norm_of_sparse_grad_is_torch_error():
    m = torch.nn.Embedding(6, 2, sparse=True)
    m(torch.tensor([1, 3])).sum().backward()
    with pytest.raises(NotImplementedError, match="Could not run 'aten::linalg_vector_norm' "
                                                  "with arguments from the 'SparseCPU'"):
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)


# ---------------------------------------------------------------- optimizers

def _train(mod, make_opts, steps=20, bag=False):
    """A small embedding model (Embedding or EmbeddingBag(sparse=True) -> Linear) trained
    on fixed data; its losses and final embedding weight."""
    w0 = np.random.RandomState(0).randn(10, 4).astype(np.float32)
    emb = mod.nn.EmbeddingBag(10, 4, sparse=True) if bag else \
        mod.nn.Embedding(10, 4, sparse=True)
    lin = mod.nn.Linear(4, 1)
    with mod.no_grad():
        emb.weight.copy_(mod.tensor(w0))
        lin.weight.copy_(mod.tensor([[0.5, -1.0, 0.25, 2.0]]))
        lin.bias.zero_()
    opts = make_opts(mod, emb, lin)
    rs = np.random.RandomState(2)
    losses = []
    for _ in range(steps):
        idx = mod.tensor(rs.randint(0, 10, size=(6, 3)))
        y = mod.tensor(rs.randn(6, 1).astype(np.float32))
        for o in opts:
            o.zero_grad()
        h = emb(idx) if bag else emb(idx).mean(1)
        loss = ((lin(h) - y) ** 2).mean()
        loss.backward()
        for o in opts:
            o.step()
        losses.append(loss.item())
    return np.array(losses), emb.weight.detach().numpy()


def _all(mod, e, lin):
    return list(e.parameters()) + list(lin.parameters())


OPTS = {
    "sgd": lambda m, e, lin: [m.optim.SGD(_all(m, e, lin), lr=0.1)],
    "sgd_momentum": lambda m, e, lin: [m.optim.SGD(_all(m, e, lin), lr=0.1, momentum=0.9,
                                                   dampening=0.1)],
    "sgd_nesterov": lambda m, e, lin: [m.optim.SGD(_all(m, e, lin), lr=0.1, momentum=0.9,
                                                   nesterov=True, maximize=False)],
    "adagrad": lambda m, e, lin: [m.optim.Adagrad(_all(m, e, lin), lr=0.1, lr_decay=0.01)],
    "sparse_adam": lambda m, e, lin: [m.optim.SparseAdam(list(e.parameters()), lr=0.05),
                                      m.optim.Adam(lin.parameters(), lr=0.05)],
}


@pytest.mark.parametrize("name", sorted(OPTS))
@pytest.mark.parametrize("bag", [False, True])
def test_optimizers_step_sparse_gradients(name, bag):
    losses, w = _train(torch, OPTS[name], bag=bag)
    assert np.all(np.isfinite(losses)) and losses[-5:].mean() < losses[:5].mean()
    if real is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rl, rw = _train(real, OPTS[name], bag=bag)
        np.testing.assert_allclose(losses, rl, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w, rw, rtol=1e-5, atol=1e-6)


def test_sgd_sparse_step_touches_only_named_rows():
    e = torch.nn.Embedding(5, 2, sparse=True)
    with torch.no_grad():
        e.weight.copy_(torch.arange(10.).reshape(5, 2))
    opt = torch.optim.SGD(e.parameters(), lr=0.5)
    (e(torch.tensor([1, 3, 1])) * torch.tensor([[1.], [2.], [4.]])).sum().backward()
    opt.step()
    want = np.arange(10.).reshape(5, 2)
    want[1] -= 0.5 * 5
    want[3] -= 0.5 * 2
    assert e.weight.tolist() == want.tolist()


def test_sparse_adam_formula_by_hand():
    e = torch.nn.Embedding(4, 1, sparse=True)
    with torch.no_grad():
        e.weight.copy_(torch.tensor([[1.], [2.], [3.], [4.]], dtype=torch.float64))
    e = e.double()
    opt = torch.optim.SparseAdam(e.parameters(), lr=0.1, betas=(0.5, 0.75), eps=1e-8)
    m, v, p = np.zeros(4), np.zeros(4), np.array([1., 2., 3., 4.])
    for t, (rows, g) in enumerate([([2, 0, 2], [1., 2., 3.]), ([0], [-1.])], 1):
        opt.zero_grad()
        (e(torch.tensor(rows)).reshape(-1) * torch.tensor(g, dtype=torch.float64)).sum() \
            .backward()
        opt.step()
        gd = np.zeros(4)
        np.add.at(gd, rows, g)
        r = sorted(set(rows))
        m[r] += (1 - 0.5) * (gd[r] - m[r])
        v[r] += (1 - 0.75) * (gd[r] ** 2 - v[r])
        p[r] -= 0.1 * np.sqrt(1 - 0.75 ** t) / (1 - 0.5 ** t) * m[r] / (np.sqrt(v[r]) + 1e-8)
        np.testing.assert_allclose(e.weight.detach().numpy().reshape(-1), p, rtol=1e-12)
    st = opt.state[e.weight]
    assert st["step"] == 2 and st["exp_avg"].tolist() == [[x] for x in m]


@pytest.mark.parametrize("make, words", [
    (lambda p: torch.optim.Adam([p]), "Adam does not support sparse gradients, please "
                                      "consider SparseAdam instead"),
    (lambda p: torch.optim.AdamW([p]), "Adam does not support sparse gradients, please "
                                       "consider SparseAdam instead"),
    (lambda p: torch.optim.RMSprop([p]), "RMSprop does not support sparse gradients"),
    (lambda p: torch.optim.NAdam([p]), "NAdam does not support sparse gradients"),
    (lambda p: torch.optim.Adadelta([p]), "Adadelta does not support sparse gradients"),
    (lambda p: torch.optim.SGD([p], lr=0.1, weight_decay=0.1),
     r"add\(sparse, dense\) is not supported. Use add\(dense, sparse\) instead."),
    (lambda p: torch.optim.Adagrad([p], weight_decay=0.1),
     "weight_decay option is not compatible with sparse gradients")])
def test_optimizers_refuse_sparse_gradients_in_torch_words(make, words):
    p = torch.nn.Parameter(torch.ones(4, 2))
    opt = make(p)
    torch.nn.functional.embedding(torch.tensor([1]), p, sparse=True).sum().backward()
    with pytest.raises(RuntimeError, match=words):
        opt.step()
    assert p.tolist() == [[1., 1.]] * 4


def test_sparse_adam_refusals():
    with pytest.raises(ValueError, match=r"Sparse params at indices \[\[0, 0\]\]: SparseAdam "
                                         "requires dense parameter tensors"):
        torch.optim.SparseAdam([torch.zeros(2, 2).to_sparse().requires_grad_()])
    with pytest.raises(ValueError, match="Invalid learning rate: 0"):
        torch.optim.SparseAdam([torch.nn.Parameter(torch.ones(2))], lr=0)
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SparseAdam([p])
    (p * 2).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, "
                                           "please consider Adam instead"):
        opt.step()


# ---------------------------------------------------------------- sparse results of products

S = [[0., 1., 0.], [2., 0., 3.]]
D = [[0., 1.], [2., 3.], [4., 5.]]


def _sp(mod, a=S):
    return mod.tensor(a).to_sparse()


@pytest.mark.parametrize("expr", [
    "torch.sspaddmm(torch.zeros(2, 2).to_sparse(), s, d)",
    "torch.sspaddmm(torch.tensor([[1., 0.], [0., 0.]]).to_sparse(), s, d, beta=2, alpha=3)",
    "torch.tensor([[1., 0.], [0., 0.]]).to_sparse().sspaddmm(s, d)",
    "torch.smm(s, d)", "s.smm(d)", "torch.hspmm(s, d)",
    "torch.sspaddmm(torch.sparse_coo_tensor([[1, 0, 1], [1, 1, 1]], [3., 1., 2.], (2, 2)), "
    "torch.sparse_coo_tensor([[1, 0, 1], [2, 1, 0]], [3., 1., 2.], (2, 3)), d, beta=2)",
    "torch.hspmm(torch.sparse_coo_tensor([[1, 0, 1], [2, 1, 0]], [3., 1., 2.], (2, 3)), d)",
    "torch.smm(torch.sparse_coo_tensor(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), "
    "(2, 3)), d)"])
def test_sspaddmm_smm_hspmm_sparse_results(expr):
    def run(mod):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return eval(expr, {"torch": mod, "s": _sp(mod), "d": mod.tensor(D)})
    r = run(torch)
    assert r.is_sparse
    # the dense value, by NumPy
    env = {"s": np.array(S), "d": np.array(D)}
    ref = {"sspaddmm(torch.zeros": env["s"] @ env["d"],
           "beta=2, alpha=3": 2 * np.array([[1., 0.], [0., 0.]]) + 3 * (env["s"] @ env["d"]),
           ".sspaddmm(s, d)": np.array([[1., 0.], [0., 0.]]) + env["s"] @ env["d"],
           "smm(s": env["s"] @ env["d"], "hspmm(s": env["s"] @ env["d"]}
    for key, want in ref.items():
        if key in expr:
            assert r.to_dense().tolist() == want.tolist()
    if real is not None:
        t = run(real)
        assert _parts(r) == _parts(t) and r.sparse_dim() == t.sparse_dim()


def test_sspaddmm_smm_hspmm_errors_as_torch():
    s, d = _sp(torch), torch.tensor(D)
    with pytest.raises(RuntimeError, match="sspaddmm: expected 'mat1' to have sparse layout, "
                                           "got 'mat1' with layout Strided"):
        torch.sspaddmm(torch.zeros(2, 2).to_sparse(), s.to_dense(), d)
    with pytest.raises(RuntimeError, match="sspaddmm: Argument #1: Expected dim 0 size 2, "
                                           "got 3"):
        torch.sspaddmm(torch.zeros(3, 2).to_sparse(), s, d)
    with pytest.raises(RuntimeError, match="sspaddmm: Argument #3: Expected dim 0 size 3, "
                                           "got 2"):
        torch.sspaddmm(torch.zeros(2, 2).to_sparse(), s, d[:2])
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch.sspaddmm(torch.zeros(2).to_sparse(), s, d)
    with pytest.raises(RuntimeError, match="hspmm: Argument #3: Expected dim 0 size 3, got 2"):
        torch.hspmm(s, d[:2])
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        torch.smm(s, d.double())
    assert torch.smm(s.long(), d.long())._values().tolist() == [2, 3, 12, 17]
    assert not hasattr(s, "hspmm")


# ---------------------------------------------------------------- small COO leftovers

@pytest.mark.parametrize("name", ["abs", "sqrt", "sin", "ceil", "sign", "expm1", "relu",
                                  "frac", "nan_to_num", "trunc", "deg2rad"])
def test_inplace_zero_preserving_methods(name):
    def run(mod, coalesced):
        i = [[1, 0, 2]] if coalesced else [[1, 0, 1]]
        s = mod.sparse_coo_tensor(i, [0.5, -0.25, 0.125], (3,))
        if coalesced:
            s = s.coalesce()
        r = getattr(s, name + "_")()
        return r is s, _parts(s)
    with pytest.raises(RuntimeError, match=f"{name}_ requires coalesced input"):
        run(torch, False)
    same, parts = run(torch, True)
    want = getattr(np, {"sign": "sign", "relu": "abs"}.get(name, "abs"))
    assert same and parts[0] == [[0, 1, 2]] and parts[3]
    v = np.array([-0.25, 0.5, 0.125], np.float32)
    if name in ("abs", "sign"):
        assert parts[1] == want(v).tolist()
    if real is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rs, rparts = run(real, True)
        assert rs and rparts[0] == parts[0] and rparts[3] == parts[3]
        np.testing.assert_allclose(parts[1], rparts[1], rtol=1e-6)


def test_neg_square_any_unbind():
    s = torch.sparse_coo_tensor([[1, 0, 1]], [0.5, -0.25, 0.125], (3,))
    assert s.neg_() is s and _parts(s) == ([[1, 0, 1]], [-0.5, 0.25, -0.125], [3], False)
    with pytest.raises(NotImplementedError, match="Could not run 'aten::pow_.Scalar' with "
                                                  "arguments from the 'SparseCPU' backend"):
        s.square_()
    assert s.any().item() is True and (s * 0).any().item() is False
    assert [t.item() for t in s.unbind()] == [0.25, -0.625, 0.0]
    assert [t.item() for t in torch.unbind(s)] == [0.25, -0.625, 0.0]
    cols = torch.tensor([[0., 1.], [2., 0.]]).to_sparse().unbind(1)
    assert [_parts(c) for c in cols] == [([[1]], [2.], [2], True), ([[0]], [1.], [2], True)]


@pytest.mark.parametrize("make, exc, words", [
    (lambda x: torch.ones(2, 2, layout=torch.sparse_coo), RuntimeError,
     r"full\(...\) is not implemented for sparse layout"),
    (lambda x: torch.full((2, 2), 3., layout=torch.sparse_coo), RuntimeError,
     r"full\(...\) is not implemented for sparse layout"),
    (lambda x: torch.ones_like(x, layout=torch.sparse_coo), NotImplementedError,
     "Could not run 'aten::empty_strided' with arguments from the 'SparseCPU' backend"),
    (lambda x: torch.full_like(x, 2., layout=torch.sparse_coo), NotImplementedError,
     "Could not run 'aten::empty_strided' with arguments from the 'SparseCPU' backend"),
    (lambda x: x.new_ones((2, 2), layout=torch.sparse_coo), NotImplementedError,
     "Could not run 'aten::fill_.Scalar' with arguments from the 'SparseCPU' backend"),
    (lambda x: x.new_full((2, 2), 3., layout=torch.sparse_coo), NotImplementedError,
     "Could not run 'aten::fill_.Scalar' with arguments from the 'SparseCPU' backend"),
    (lambda x: torch.ones_like(x.to_sparse()), NotImplementedError,
     "Could not run 'aten::fill_.Scalar' with arguments from the 'SparseCPU' backend"),
    (lambda x: torch.full_like(x.to_sparse(), 2.), NotImplementedError,
     "Could not run 'aten::fill_.Scalar' with arguments from the 'SparseCPU' backend")])
def test_filled_factories_with_sparse_layout_errors_as_torch(make, exc, words):
    with pytest.raises(exc, match=words):
        make(torch.ones(2))
    s = torch.ones(2).to_sparse()
    assert torch.ones_like(s, layout=torch.strided).tolist() == [1., 1.]
    assert torch.full_like(s, 2., layout=torch.strided).tolist() == [2., 2.]


# ---------------------------------------------------------------- CSC, BSR, BSC

M = [[0., 1., 0., 0.], [2., 0., 3., 0.], [0., 0., 0., 4.], [5., 6., 0., 0.]]
CONVERSIONS = ["to_sparse_csc()", "to_sparse_bsr((2, 2))", "to_sparse_bsc((2, 2))",
               "to_sparse_bsc((2, 1))", "to_sparse(layout=torch.sparse_csc)",
               "to_sparse(layout=torch.sparse_bsr, blocksize=(1, 2))",
               "to_sparse().to_sparse_csc()", "to_sparse_csr().to_sparse_csc()",
               "to_sparse_csc().to_sparse_csr()", "to_sparse_csr().to_sparse_bsr((2, 2))",
               "to_sparse_csc().to_sparse_bsc((2, 2))"]


def _compressed_parts(c):
    lay = str(c.layout)
    comp, plain = (c.crow_indices(), c.col_indices()) if lay.endswith(("csr", "bsr")) \
        else (c.ccol_indices(), c.row_indices())
    return lay, comp.tolist(), plain.tolist(), c.values().tolist(), list(c.shape), c._nnz()


@pytest.mark.parametrize("conv", CONVERSIONS)
def test_compressed_layouts_parts_dense_coo_repr(conv):
    def run(mod):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = eval("x." + conv, {"x": mod.tensor(M), "torch": mod})
            coo = c.to_sparse_coo()
            return (_compressed_parts(c), c.to_dense().tolist(), _parts(coo),
                    repr(c.double()).replace("gpujit.", "torch."), str(c.t().layout),
                    c.t().to_dense().tolist())
    got = run(torch)
    assert got[1] == M and got[5] == np.array(M).T.tolist()
    if conv.endswith(("csc()", "sparse_csc)")):
        assert got[0] == ("torch.sparse_csc", [0, 2, 4, 5, 6], [1, 3, 0, 3, 1, 2],
                          [2., 5., 1., 6., 3., 4.], [4, 4], 6)
    if real is not None:
        assert got == run(real)


def test_compressed_constructors_and_errors():
    c = torch.sparse_csc_tensor(torch.tensor([0, 2, 3, 4, 5]), torch.tensor([1, 3, 0, 1, 2]),
                                torch.tensor([2., 5., 1., 3., 4.]))
    assert c.shape == (4, 4) and c.layout is torch.sparse_csc
    assert c.to_dense().tolist() == [[0., 1., 0., 0.], [2., 0., 3., 0.], [0., 0., 0., 4.],
                                     [5., 0., 0., 0.]]
    b = torch.sparse_bsr_tensor(torch.tensor([0, 1, 2]), torch.tensor([0, 1]),
                                torch.ones(2, 2, 2))
    assert b.shape == (4, 4) and b.to_dense().tolist() == [[1., 1., 0., 0.], [1., 1., 0., 0.],
                                                           [0., 0., 1., 1.], [0., 0., 1., 1.]]
    d = torch.sparse_compressed_tensor(torch.tensor([0, 1, 2]), torch.tensor([0, 1]),
                                       torch.ones(2), (2, 2), layout=torch.sparse_csc)
    assert d.to_dense().tolist() == [[1., 0.], [0., 1.]]
    x = torch.tensor(M)
    for expr, exc, msg in (
            ("x.to_sparse_bsr((3, 2))", RuntimeError, "dense_to_sparse_bsr: tensor sparse size "
             "(4,4) must be divisible by given blocksize (3,2)"),
            ("x.to_sparse(layout=torch.sparse_bsr)", RuntimeError, "dense_to_sparse: conversion "
             "from Strided to SparseBsr without blocksize argument given is not supported"),
            ("x.to_sparse(layout=torch.sparse_csc, blocksize=(1, 1))", RuntimeError,
             "dense_to_sparse: conversion from Strided to SparseCsc with blocksize argument "
             "given is not supported"),
            ("x.to_sparse_bsr((1, 1)).to_sparse_bsr((2, 2))", RuntimeError, "to_sparse_bsr: "
             "conversion from SparseBsr to SparseBsr with blocksize changed from [1, 1] to "
             "[2, 2] is not supported"),
            ("x.to_sparse_bsr((2, 2)).to_sparse_csr()", RuntimeError,
             "sparse_compressed_to_sparse_csr: expected SparseCsr or SparseCsc layout but got "
             "SparseBsr"),
            ("x.to_sparse_csc().crow_indices()", RuntimeError, "crow_indices expected sparse "
             "row compressed tensor layout but got SparseCsc"),
            ("x.to_sparse_csr().ccol_indices()", RuntimeError, "ccol_indices expected sparse "
             "column compressed tensor layout but got SparseCsr"),
            ("x.to_sparse_bsc((1, 1)).col_indices()", RuntimeError, "col_indices expected "
             "sparse row compressed tensor layout but got SparseBsc"),
            ("x.to_sparse_csc().indices()", RuntimeError, "indices expected sparse coordinate "
             "tensor layout but got SparseCsc"),
            ("x.to_sparse_bsr((1, 1)).stride()", RuntimeError, "Sparse BSR tensors do not "
             "have strides"),
            ("x.to_sparse_csc().numpy()", TypeError, "can't convert SparseCsc layout tensor to "
             "numpy. Use Tensor.to_dense() first."),
            ("x.to_sparse_csc() / 2", RuntimeError, "unsupported tensor layout: SparseCsc"),
            ("torch.sparse_compressed_tensor(torch.tensor([0, 1]), torch.tensor([0]), "
             "torch.ones(1), (1, 1), layout=torch.sparse_coo)", RuntimeError,
             "sparse_compressed_tensor expected sparse compressed tensor layout but got "
             "Sparse")):
        with pytest.raises(exc) as e:
            eval(expr, {"x": x, "torch": torch})
        assert msg in str(e.value), str(e.value)
        if real is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(exc) as e2:
                    eval(expr, {"x": real.tensor(M), "torch": real})
            assert str(e2.value).startswith(msg), str(e2.value)
    assert not x.to_sparse_csc().is_sparse_csr and x.to_sparse_csr().is_sparse_csr


OPS = ["s * 2", "-s", "s.abs()", "s.sum()", "s + s", "torch.ones(4, 4) + s",
       "s + torch.ones(4, 4)", "s @ torch.ones(4, 2)", "torch.mv(s, torch.ones(4))",
       "torch.addmm(torch.ones(4, 2), s, torch.ones(4, 2))", "s @ s", "s * torch.ones(4, 4)",
       "s.double()"]


@pytest.mark.parametrize("layout", ["csc", "bsr", "bsc"])
@pytest.mark.parametrize("expr", OPS)
def test_compressed_ops_as_torch(layout, expr):
    make = {"csc": "x.to_sparse_csc()", "bsr": "x.to_sparse_bsr((2, 2))",
            "bsc": "x.to_sparse_bsc((2, 2))"}[layout]

    def run(mod):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = eval(make, {"x": mod.tensor(M)})
            try:
                r = eval(expr, {"s": s, "torch": mod})
            except RuntimeError as e:
                return "error", str(e)[:40]
        if r.layout is not mod.strided:
            return str(r.layout), r.to_dense().tolist(), str(r.dtype)[-7:]
        return "dense", r.tolist()
    got = run(torch)
    if got[0] != "error":
        want = eval(expr.replace("torch.mv(s, torch.ones(4))", "s @ np.ones(4)")
                    .replace("torch.addmm(torch.ones(4, 2), s, torch.ones(4, 2))",
                             "np.ones((4, 2)) + s @ np.ones((4, 2))")
                    .replace("torch.ones(4, 4)", "np.ones((4, 4))")
                    .replace("torch.ones(4, 2)", "np.ones((4, 2))").replace("s.abs()", "abs(s)")
                    .replace("s.double()", "s"),
                    {"s": np.array(M), "np": np})
        assert np.array(got[1]).tolist() == np.array(want).tolist()
    if real is not None:
        assert got == run(real)


@pytest.mark.parametrize("conv", ["to_sparse_csc()", "to_sparse_bsr((2, 2))",
                                  "to_sparse_bsc((2, 1))"])
def test_compressed_save_load_pickle(conv, tmp_path):
    import copy
    import pickle
    c = eval("x." + conv, {"x": torch.tensor(M)})
    for back in (pickle.loads(pickle.dumps(c)), copy.deepcopy(c)):
        assert back.layout is c.layout and _compressed_parts(back) == _compressed_parts(c)
    torch.save({"a": c}, tmp_path / "g.pt")
    back = torch.load(tmp_path / "g.pt")["a"]
    assert back.layout is c.layout and _compressed_parts(back) == _compressed_parts(c)
    if real is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = real.load(tmp_path / "g.pt")["a"]
            assert repr(t) == repr(c) and t.to_dense().tolist() == M
            real.save({"a": eval("x." + conv, {"x": real.tensor(M)})}, tmp_path / "t.pt")
        back = torch.load(tmp_path / "t.pt")["a"]
        assert repr(back) == repr(c)


# ---------------------------------------------------------------- errors in torch's words

@pytest.mark.parametrize("expr, exc, words", [
    ("s.mean()", NotImplementedError, "aten::mean.dim"),
    ("s.std()", NotImplementedError, "aten::std.correction"),
    ("s.var(0)", NotImplementedError, "aten::var.correction"),
    ("torch.softmax(s, 0)", NotImplementedError, "aten::_softmax"),
    ("torch.log_softmax(s, 0)", NotImplementedError, "aten::_log_softmax"),
    ("torch.logsumexp(s, 0)", NotImplementedError, "aten::logsumexp.out"),
    ("torch.sort(s)", NotImplementedError, "aten::sort.stable"),
    ("torch.argsort(s)", NotImplementedError, "aten::sort.stable"),
    ("torch.linalg.norm(s)", NotImplementedError, "aten::linalg_vector_norm"),
    ("torch.chunk(s, 2)", NotImplementedError, "aten::as_strided"),
    ("s.split(1)", NotImplementedError, "aten::as_strided"),
    ("torch.count_nonzero(s)", NotImplementedError, "aten::count_nonzero.dim_IntList"),
    ("torch.allclose(s, s)", NotImplementedError, "aten::eq.Tensor"),
    ("s.diag()", NotImplementedError, "aten::diagonal_copy"),
    ("s[torch.tensor([0])]", NotImplementedError, "aten::index.Tensor"),
    ("s.repeat(2, 1)", RuntimeError, "expand is unsupported for Sparse tensors"),
    ("torch.outer(s[0], s[0])", RuntimeError, "reshape is not implemented for sparse tensors"),
    ("torch.tensordot(s, torch.ones(3, 2), 1)", RuntimeError,
     "reshape is not implemented for sparse tensors"),
    ("s.masked_fill(torch.ones(2, 3, dtype=torch.bool), 0)", RuntimeError,
     "unsupported memory format option Contiguous"),
    ("torch.cat([torch.ones(2, 3), s])", NotImplementedError,
     "Could not run 'aten::_values' with arguments from the 'CPU' backend"),
    ("torch.stack([s, torch.ones(2, 3)])", RuntimeError,
     "Concatenating sparse tensors, but a dense tensor was found at position 1."),
    ("torch.stack([s.to_dense().to_sparse_csr()] * 2)", RuntimeError,
     "Sparse CSR tensors do not have is_contiguous")])
def test_sparse_errors_name_the_op_torch_reaches(expr, exc, words):
    def run(mod):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = mod.tensor([[0., 1., 0.], [2., 0., 3.]]).to_sparse()
            with pytest.raises(exc) as e:
                eval(expr, {"s": s, "torch": mod})
        return str(e.value)
    msg = run(torch)
    if exc is NotImplementedError and "'CPU'" not in words:
        assert msg.startswith(f"Could not run '{words}' with arguments from the 'SparseCPU'")
    else:
        assert msg.startswith(words)
    if real is not None:
        assert run(real).startswith(msg[:len(words) + 60].split(" gpujit")[0][:60])


def test_compressed_transpose():
    c = torch.tensor(M).to_sparse_csr()
    assert c.transpose(0, 1).layout is torch.sparse_csc and c.transpose(1, 1) is c
    assert c.transpose(0, -1).to_dense().tolist() == np.array(M).T.tolist()
    assert c.to_sparse_csc().transpose(1, 0).layout is torch.sparse_csr


def test_pow_tensor_exponent_vector_at_sparse_and_compressed_zeros_like():
    s = torch.tensor([[0., 1., 0.], [2., 0., 3.]]).to_sparse()
    for call in (lambda: s.pow(torch.tensor(2.)), lambda: s ** torch.tensor(2.),
                 lambda: torch.pow(s, torch.tensor(2.))):       # (was a RecursionError)
        with pytest.raises(NotImplementedError, match="Could not run 'aten::pow.Tensor_Tensor' "
                                                      "with arguments from the 'SparseCPU'"):
            call()
    v = torch.tensor([1., 2.], requires_grad=True)
    r = v @ s
    (r * torch.tensor([1., 2., 3.])).sum().backward()
    assert r.tolist() == [4., 1., 6.] and v.grad.tolist() == [2., 11.]
    assert r.grad_fn.name() == "SqueezeBackward4"
    for make in ("to_sparse_csr()", "to_sparse_csc()", "to_sparse_bsr((2, 2))"):
        c = eval("x." + make, {"x": torch.ones(4, 4)})
        z = torch.zeros_like(c)
        assert z.layout is c.layout and z._nnz() == 0 and z.to_dense().tolist() == [[0.] * 4] * 4
        assert tuple(z.values().shape[1:]) == tuple(c.values().shape[1:])
    with pytest.raises(RuntimeError, match=r"empty_like with different sparse layout is not "
                                           r"supported \(self is SparseCsr but you requested "
                                           r"Strided\)"):
        torch.zeros_like(torch.ones(4, 4).to_sparse_csr(), layout=torch.strided)


def test_clip_grad_value_of_sparse_grad_is_torch_error():
    m = torch.nn.Embedding(6, 2, sparse=True)
    m(torch.tensor([1, 3])).sum().backward()
    with pytest.raises(NotImplementedError, match="Could not run 'aten::clamp_min_' with "
                                                  "arguments from the 'SparseCPU'"):
        torch.nn.utils.clip_grad_value_(m.parameters(), 0.5)
    assert m.weight.grad._values().tolist() == [[1., 1.], [1., 1.]]


def test_sparse_adam_state_dict_round_trip():
    e = torch.nn.Embedding.from_pretrained(torch.arange(8.).reshape(4, 2), freeze=False,
                                           sparse=True)
    e(torch.tensor([1, 3, 1])).sum().backward()
    opt = torch.optim.SparseAdam(e.parameters(), lr=0.1)
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert sd["state"][0]["step"] == 1
    assert sd["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-08,
                                   "maximize": False, "params": [0]}]
    opt2 = torch.optim.SparseAdam(e.parameters(), lr=0.1)
    opt2.load_state_dict(sd)
    opt2.step()
    np.testing.assert_allclose(e.weight.detach().numpy(),
                               [[0., 1.], [1.8, 2.8], [4., 5.], [5.8, 6.8]], rtol=1e-6)


@pytest.mark.parametrize("offsets, total", [([0, 10], -4), ([0, -10], -4)])
def test_spdiags_offsets_far_outside_are_torch_error(offsets, total):
    with pytest.raises(RuntimeError, match=f"Trying to create tensor with negative dimension "
                                           f"{total}: \\[2, {total}\\]"):
        torch.sparse.spdiags(torch.ones(2, 3), torch.tensor(offsets), (3, 3))
    # (offsets just outside: no entries for that diagonal, as the defined cases of torch)
    r = torch.sparse.spdiags(torch.ones(2, 3), torch.tensor([0, 3]), (3, 3))
    assert r._indices().tolist() == [[0, 1, 2], [0, 1, 2]]


@pytest.mark.cuda
def test_sparse_gradients_and_optimizers_on_cuda_match_the_cpu():
    def train(dev, make):
        e = torch.nn.Embedding.from_pretrained(torch.arange(12.).reshape(6, 2), freeze=False,
                                               sparse=True).to(dev)
        opt = make(e.parameters())
        for idx in ([1, 3, 1], [0, 5], [3]):
            opt.zero_grad()
            (e(torch.tensor(idx, device=dev)) ** 2).sum().backward()
            g = e.weight.grad
            assert g.is_sparse and g.device.type == dev
            opt.step()
        return e.weight.detach().cpu().numpy()
    for make in (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                 lambda p: torch.optim.Adagrad(p, lr=0.1),
                 lambda p: torch.optim.SparseAdam(p, lr=0.1)):
        np.testing.assert_allclose(train("cuda", make), train("cpu", make), rtol=1e-6)
    c = torch.tensor(M, device="cuda").to_sparse_csc()
    assert c.device.type == "cuda" and c.to_dense().cpu().tolist() == M
    b = torch.tensor(M, device="cuda").to_sparse_bsr((2, 2))
    assert (b @ torch.ones(4, 2, device="cuda")).cpu().tolist() == \
        (np.array(M) @ np.ones((4, 2))).tolist()


CSR_EXPRS = ["c.abs_()", "c.relu_()", "c.neg_()", "c.sqrt_()", "c.sign_()", "c.mul_(2)",
             "c.add_(c)", "c.zero_()", "c.fill_(1)", "c.copy_(c * 3)", "c.mT", "c.H",
             "c.select(0, 1)", "c.select(1, 0)", "c[1]", "c.nbytes", "c.storage_offset()",
             "c.sum(1, keepdim=True)", "c.to_sparse_csc().abs_()",
             "c.to_sparse_bsr((1, 1)).neg_()"]


@pytest.mark.parametrize("expr", CSR_EXPRS)
def test_compressed_in_place_views_and_facts_as_torch(expr):
    def run(mod):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = mod.tensor([[0., -1., 0.], [2., 0., 3.]]).to_sparse_csr()
            r = eval(expr, {"c": c, "torch": mod})
        if isinstance(r, int):
            return r
        return (str(r.layout), r.to_dense().tolist(), r is c, c.to_dense().tolist(), c._nnz())
    got = run(torch)
    a = np.array([[0., -1., 0.], [2., 0., 3.]])
    want = {"c.abs_()": abs(a), "c.neg_()": -a, "c.mul_(2)": 2 * a, "c.add_(c)": 2 * a,
            "c.zero_()": 0 * a, "c.copy_(c * 3)": 3 * a}.get(expr)
    if want is not None:
        assert got[1] == want.tolist() and got[2] and got[3] == want.tolist()
    if expr in ("c.mT", "c.H"):
        assert got[:2] == ("torch.sparse_csc", a.T.tolist())
    if real is not None:
        t = run(real)
        assert got == t or (np.allclose(np.array(got[1]), np.array(t[1]), equal_nan=True)
                            and got[0] == t[0] and got[2:3] == t[2:3] and got[4] == t[4])


@pytest.mark.parametrize("expr, exc, words", [
    ("c.exp()", RuntimeError, "unsupported tensor layout: SparseCsr"),
    ("c > 0", RuntimeError, "unsupported tensor layout: SparseCsr"),
    ("c - 1", RuntimeError, "unsupported tensor layout: SparseCsr"),
    ("c.square()", RuntimeError, "unsupported tensor layout: SparseCsr"),
    ("c.to_sparse_csc().exp()", RuntimeError, "unsupported tensor layout: SparseCsc"),
    ("c.sum(0)", RuntimeError, "reduction operations on CSR tensors with keepdim=False is "
                               "unsupported"),
    ("c.expand(2, 2, 3)", RuntimeError, "expand is unsupported for SparseCsr tensors"),
    ("c.narrow(0, 0, 1)", RuntimeError, "Sparse CSR tensors do not have strides"),
    ("c.sort()", RuntimeError, "Sparse CSR tensors do not have strides"),
    ("c.reshape(6)", RuntimeError, "Sparse CSR tensors do not have is_contiguous"),
    ("c.to_sparse_csc().is_contiguous()", RuntimeError,
     "Sparse CSC tensors do not have is_contiguous"),
    ("c.masked_fill(torch.ones(2, 3) > 0, 0)", RuntimeError,
     "unsupported memory format option Contiguous"),
    ("c.T", NotImplementedError, "Could not run 'aten::as_strided' with arguments from the "
                                 "'SparseCsrCPU'"),
    ("c.mean()", NotImplementedError, "Could not run 'aten::mean.out'"),
    ("c.cumsum(0)", NotImplementedError, "Could not run 'aten::cumsum.out'"),
    ("c.any()", NotImplementedError, "Could not run 'aten::any.all_out'"),
    ("torch.where(torch.ones(2, 3) > 0, c, c)", NotImplementedError,
     "Could not run 'aten::where.self' with arguments from the 'SparseCsrCPU'")])
def test_compressed_errors_as_torch(expr, exc, words):
    def run(mod):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = mod.tensor([[0., -1., 0.], [2., 0., 3.]]).to_sparse_csr()
            with pytest.raises(exc) as e:
                eval(expr, {"c": c, "torch": mod})
        return e.value
    err = run(torch)
    assert str(err).startswith(words)
    # (gpujit's SparseOperand, the entry point's signal, is not shown as the context)
    assert err.__context__ is None or err.__suppress_context__
    if real is not None:
        assert str(run(real)).startswith(words)


def test_grad_scaler_unscales_sparse_gradients():
    def run(mod, poison):
        e = mod.nn.Embedding.from_pretrained(mod.arange(8.).reshape(4, 2), freeze=False,
                                             sparse=True)
        opt = mod.optim.SGD(e.parameters(), lr=0.1)
        sc = mod.amp.GradScaler("cpu", init_scale=4.0)
        sc.scale(e(mod.tensor([1, 3, 1])).sum()).backward()
        if poison:
            with mod.no_grad():
                e.weight.grad._values()[0, 0] = float("inf")
        sc.unscale_(opt)
        vals = e.weight.grad._values().tolist()
        sc.step(opt)
        sc.update()
        return vals, e.weight.tolist(), sc.get_scale()
    vals, w, scale = run(torch, False)
    assert vals == [[1., 1.]] * 3 and scale == 4.0
    np.testing.assert_allclose(w, [[0., 1.], [1.8, 2.8], [4., 5.], [5.9, 6.9]], rtol=1e-6)
    vals, w, scale = run(torch, True)       # (an inf: the step skipped, the scale halved)
    assert w == np.arange(8.).reshape(4, 2).tolist() and scale == 2.0
    if real is not None:
        for poison in (False, True):
            assert run(torch, poison) == run(real, poison)


@pytest.mark.parametrize("name, make, words", [
    ("sgd fused", lambda p: torch.optim.SGD(p, lr=0.1, fused=True),
     "`_fused_sgd` does not support sparse gradients"),
    ("adagrad fused", lambda p: torch.optim.Adagrad(p, lr=0.1, fused=True),
     "`fused` does not support sparse grad or complex param"),
    ("adafactor", lambda p: torch.optim.Adafactor(p, lr=0.1),
     "Adafactor does not support sparse gradients"),
    ("lbfgs", lambda p: torch.optim.LBFGS(p, lr=0.1), None),
    ("sgd foreach momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, foreach=True),
     None),
    ("adagrad maximize", lambda p: torch.optim.Adagrad(p, lr=0.1, maximize=True), None),
    ("sparse adam maximize", lambda p: torch.optim.SparseAdam(p, lr=0.1, maximize=True), None)])
def test_more_optimizers_with_sparse_gradients(name, make, words):
    def run(mod, make):
        e = mod.nn.Embedding.from_pretrained(mod.arange(8.).reshape(4, 2), freeze=False,
                                             sparse=True)
        opt = make(e.parameters())

        def closure():
            opt.zero_grad()
            loss = (e(mod.tensor([1, 3, 1])) ** 2).sum()
            loss.backward()
            return loss
        for _ in range(2):
            opt.step(closure)
        return e.weight.detach().numpy()
    if words is not None:
        with pytest.raises(RuntimeError, match=words):
            run(torch, make)
        return
    w = run(torch, make)
    assert w[[0, 2]].tolist() == [[0., 1.], [4., 5.]]      # (rows never looked up: kept)
    if name == "sgd foreach momentum":
        np.testing.assert_allclose(w.reshape(-1), [0, 1, .32, .48, 4, 5, 3.24, 3.78],
                                   rtol=1e-6)
    if real is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rw = run(real, lambda p: eval(
                {"lbfgs": "real.optim.LBFGS(p, lr=0.1)",
                 "sgd foreach momentum": "real.optim.SGD(p, lr=0.1, momentum=0.5, foreach=True)",
                 "adagrad maximize": "real.optim.Adagrad(p, lr=0.1, maximize=True)",
                 "sparse adam maximize": "real.optim.SparseAdam(p, lr=0.1, maximize=True)"}[name],
                {"real": real, "p": p}))
        np.testing.assert_allclose(w, rw, rtol=1e-5, atol=1e-6)


def test_sparse_gradient_hooks_anomaly_create_graph_checkpoint():
    F = torch.nn.functional

    def weight():
        return torch.nn.Parameter(torch.arange(6.).reshape(3, 2))
    w = weight()
    w.register_hook(lambda g: g * 3)
    F.embedding(torch.tensor([1, 2]), w, sparse=True).sum().backward()
    assert w.grad.is_sparse and w.grad._values().tolist() == [[3., 3.], [3., 3.]]
    w = weight()
    w.register_hook(lambda g: g.to_dense())
    with pytest.raises(RuntimeError, match=r"hook '<lambda>' has changed the type of value "
                                           r"\(was torch.sparse.FloatTensor got "
                                           r"torch.FloatTensor\)"):
        F.embedding(torch.tensor([1, 2]), w, sparse=True).sum().backward()
    w = weight()
    w2 = w * 1
    w2.retain_grad()
    with pytest.raises(RuntimeError, match="Cannot access data pointer of Tensor that doesn't "
                                           "have storage"):     # (torch's own failure)
        F.embedding(torch.tensor([1, 2]), w2, sparse=True).sum().backward()
    w = weight()
    with torch.autograd.detect_anomaly():
        (F.embedding(torch.tensor([1, 2]), w, sparse=True) * 2).sum().backward()
    assert w.grad._indices().tolist() == [[1, 2]]
    w = weight()
    g, = torch.autograd.grad((F.embedding(torch.tensor([1, 2]), w, sparse=True) ** 2).sum(), w,
                             create_graph=True)
    assert g.is_sparse and g.requires_grad and g._values().tolist() == [[4., 6.], [8., 10.]]
    import gpujit.utils.checkpoint as cp
    w = weight()
    cp.checkpoint(lambda i: F.embedding(i, w, sparse=True), torch.tensor([1, 2]),
                  use_reentrant=False).sum().backward()
    assert w.grad.is_sparse and w.grad._indices().tolist() == [[1, 2]]
    seen = []
    w = weight()
    w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.layout))
    F.embedding(torch.tensor([1, 2]), w, sparse=True).sum().backward(inputs=[w])
    assert seen == [torch.sparse_coo]


def test_assert_close_of_sparse_tensors_as_torch():
    s = torch.tensor([[0., 1., 0.], [2., 0., 3.]]).to_sparse()
    t = torch.tensor([[0., 1., 0.], [2., 0., 3.5]]).to_sparse()
    u = torch.tensor([[0., 1., 0.], [2., 0., 0.]]).to_sparse()
    shuffled = torch.sparse_coo_tensor([[1, 0, 1], [2, 1, 0]], [3., 1., 2.], (2, 3))
    torch.testing.assert_close(s, s.clone())
    torch.testing.assert_close([s.to_sparse_csc()], [s.to_sparse_csc()])
    for a, b, words in (
            (s, t, "Sparse COO values are not close!\n\nMismatched elements: 1 / 3 (33.3%)"),
            (s, u, "The number of specified values in sparse COO tensors does not match: "
                   "3 != 2"),
            (s, s.to_dense(), "The values for attribute 'layout' do not match: "
                              "torch.sparse_coo != torch.strided."),
            (s, shuffled, "Sparse COO indices are not equal!"),     # (compared as stored)
            (s.to_sparse_csr(), t.to_sparse_csr(), "Sparse CSR values are not close!"),
            (s.to_sparse_csc(), t.to_sparse_csc(), "Sparse CSC values are not close!")):
        with pytest.raises(AssertionError) as e:
            torch.testing.assert_close(a, b)
        assert str(e.value).startswith(words), str(e.value)
    assert torch.atleast_2d(s) is s and torch.atleast_1d(s) is s
    with pytest.raises(NotImplementedError, match="Could not run 'aten::as_strided'"):
        torch.split(s, [1, 1])


def test_sparse_namespace_with_compressed_inputs():
    x = torch.tensor([[0., 1., 0.], [2., 0., 3.]])
    with pytest.raises(RuntimeError, match="coalesce expected sparse coordinate tensor layout "
                                           "but got SparseCsr"):
        torch.sparse.sum(x.to_sparse_csr())
    with pytest.raises(NotImplementedError, match="Could not run 'aten::_sparse_softmax' with "
                                                  "arguments from the 'SparseCsrCPU' backend"):
        torch.sparse.softmax(x.to_sparse_csr(), 1)
    want = (x.numpy() @ np.ones((3, 2))).tolist()
    assert torch.sparse.mm(x.to_sparse_csc(), torch.ones(3, 2)).tolist() == want
    assert torch.sparse.mm(x.to_sparse_bsr((1, 1)), torch.ones(3, 2)).tolist() == want
    assert torch.spmm(x.to_sparse_csc(), torch.ones(3, 2)).tolist() == want


def _dense_sparse_case(mod, case, dtype):
    rs = np.random.RandomState(3)
    d = mod.tensor(rs.randn(6, 4).astype(dtype))
    i = [[1, 4, 1, 0, 4, 1]]
    if case.startswith("scalar"):
        s = mod.sparse_coo_tensor([[1, 4, 1, 0], [2, 3, 2, 0]],
                                  rs.randn(4).astype(dtype), (6, 4))
    else:
        s = mod.sparse_coo_tensor(i, rs.randn(6, 4).astype(dtype), (6, 4))
    if case.endswith("coalesced"):
        s = s.coalesce()
    if case == "hybrid_noncontiguous":
        s = mod.sparse_coo_tensor(i, mod.tensor(rs.randn(4, 6).astype(dtype)).t(), (6, 4))
    return d, s


@pytest.mark.parametrize("case", ["scalar", "scalar_coalesced", "hybrid", "hybrid_coalesced",
                                  "hybrid_noncontiguous"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_add_sparse_rounds_as_torch(case, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d, s = _dense_sparse_case(torch, case, dtype)
        r = torch.add(d, s, alpha=-0.1)
        d.add_(s, alpha=0.3)
    want = _dense_sparse_case(torch, case, dtype)[0].numpy().astype(np.float64) - \
        0.1 * s.to_dense().numpy().astype(np.float64)
    np.testing.assert_allclose(r.numpy(), want, rtol=1e-5 if dtype == np.float32 else 1e-12)
    if real is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            td, ts = _dense_sparse_case(real, case, dtype)
            tr = real.add(td, ts, alpha=-0.1)
            td.add_(ts, alpha=0.3)
        assert r.numpy().tobytes() == tr.numpy().tobytes()
        assert d.numpy().tobytes() == td.numpy().tobytes()


def test_sgd_sparse_steps_bit_for_bit_with_torch():
    def run(mod):
        w0 = np.random.RandomState(0).randn(50, 8).astype(np.float32)
        e = mod.nn.Embedding.from_pretrained(mod.tensor(w0), freeze=False, sparse=True)
        opt = mod.optim.SGD(e.parameters(), lr=0.1)
        rs = np.random.RandomState(1)
        for _ in range(30):
            idx = mod.tensor(rs.randint(0, 50, size=(16,)))
            tgt = mod.tensor(rs.randn(16, 8).astype(np.float32))
            opt.zero_grad()
            ((e(idx) - tgt) ** 2).sum().backward()
            opt.step()
        return e.weight.detach().numpy()
    w = run(torch)
    assert np.isfinite(w).all()
    if real is not None:
        assert w.tobytes() == run(real).tobytes()


def _sgd_momentum_run(mod, nesterov=False, steps=30):
    w0 = np.random.RandomState(0).randn(50, 8).astype(np.float32)
    e = mod.nn.Embedding.from_pretrained(mod.tensor(w0), freeze=False, sparse=True)
    opt = mod.optim.SGD(e.parameters(), lr=0.1, momentum=0.9,
                        dampening=0 if nesterov else 0.1, nesterov=nesterov)
    rs = np.random.RandomState(1)
    for _ in range(steps):
        idx = mod.tensor(rs.randint(0, 50, size=(16,)))
        tgt = mod.tensor(rs.randn(16, 8).astype(np.float32))
        opt.zero_grad()
        ((e(idx) - tgt) ** 2).sum().backward()
        opt.step()
    return e, opt


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_buffer_of_sparse_gradients_is_sparse_as_torch(nesterov):
    e, opt = _sgd_momentum_run(torch, nesterov)
    buf = opt.state[e.weight]["momentum_buffer"]
    assert buf.is_sparse and buf.shape == (50, 8) and not buf.is_coalesced()
    sd = opt.state_dict()
    assert sd["state"][0]["momentum_buffer"].is_sparse
    if real is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            te, topt = _sgd_momentum_run(real, nesterov)
        assert e.weight.detach().numpy().tobytes() == te.weight.detach().numpy().tobytes()
        tb = topt.state[te.weight]["momentum_buffer"]
        assert _parts(buf) == _parts(tb)
    # a dense gradient meets the sparse buffer in torch's error
    opt.zero_grad()
    (e.weight * 2).sum().backward()
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        opt.step()


def test_sgd_sparse_momentum_state_dict_round_trip_and_mixed_group():
    e, opt = _sgd_momentum_run(torch, steps=3)
    e2, opt2 = _sgd_momentum_run(torch, steps=0)
    with torch.no_grad():
        e2.weight.copy_(e.weight)
    # (a copy: torch's load_state_dict shares the state tensors, so stepping both
    # optimizers would move one momentum buffer twice; d61)
    import copy
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    for o, m in ((opt, e), (opt2, e2)):
        o.zero_grad()
        (m(torch.tensor([1, 2, 1])) ** 2).sum().backward()
        o.step()
    assert e.weight.tolist() == e2.weight.tolist()
    assert opt2.state[e2.weight]["momentum_buffer"].is_sparse
    # a dense Linear beside the embedding in one group: its buffer dense, flat as before
    lin = torch.nn.Linear(8, 1)
    opt3 = torch.optim.SGD(list(e.parameters()) + list(lin.parameters()), lr=0.1,
                           momentum=0.9)
    for _ in range(2):
        opt3.zero_grad()
        lin(e(torch.tensor([3, 4]))).sum().backward()
        opt3.step()
    assert opt3.state[e.weight]["momentum_buffer"].is_sparse
    assert not opt3.state[lin.weight]["momentum_buffer"].is_sparse
