"""torch.nested, part 2 (s47): scripted modules with nested inputs, the jagged layout and
the facts code checks on a nested tensor. Expected values are NumPy / hand-written so the
tests run without torch; the ones marked importorskip compare with torch 2.13 too."""
import warnings

import numpy as np
import pytest

import gpujit

pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------- scripted nn modules
_SEQS = [np.random.default_rng(7).standard_normal((n, 8)).astype(np.float32) for n in (3, 1, 4)]


def _modules(m, seed=8):
    """An attention, an encoder layer and an encoder of m (gpujit or torch), eval mode, with
    the same weights (NumPy's)."""
    nn = m.nn
    mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                           batch_first=True), 2,
                                enable_nested_tensor=False).eval()
    rng = np.random.default_rng(seed)
    with m.no_grad():
        for mod in (mha, layer, enc):
            for p in mod.parameters():
                p.copy_(m.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
    return mha, layer, enc


def _nested(m, seqs=_SEQS):
    return m.nested.nested_tensor([m.tensor(s) for s in seqs])


def test_scripted_modules_take_the_nested_fast_path():
    """A scripted nn.MultiheadAttention / TransformerEncoderLayer / TransformerEncoder called
    with a nested batch without gradients gives eager's nested result (each sequence as the
    dense module on it alone); before, the scripted forward took the dense Python path and
    failed ('Nested tensor dimension 0 cannot be transposed')."""
    mods = _modules(gpujit)
    x = _nested(gpujit)
    with gpujit.no_grad():
        for m in mods:
            s = gpujit.jit.script(m)
            for _ in range(3):      # (profiling run, then the optimized one)
                got = s(x, x, x)[0] if m is mods[0] else s(x)
                want = m(x, x, x)[0] if m is mods[0] else m(x)
                assert got.is_nested
                assert got._nested_tensor_size().tolist() == [[3, 8], [1, 8], [4, 8]]
                for g, w in zip(got.unbind(), want.unbind()):
                    np.testing.assert_array_equal(g.numpy(), w.numpy())
        mha, layer = mods[0], mods[1]
        for i, seq in enumerate(_SEQS):
            t = gpujit.tensor(seq).unsqueeze(0)
            np.testing.assert_allclose(gpujit.jit.script(mha)(x, x, x)[0].unbind()[i].numpy(),
                                       mha(t, t, t)[0][0].numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(gpujit.jit.script(layer)(x).unbind()[i].numpy(),
                                       layer(t)[0].numpy(), rtol=1e-5, atol=1e-6)


def test_scripted_attention_refuses_nested_outside_its_fast_path():
    mha, layer, _ = _modules(gpujit)
    x = _nested(gpujit)
    s = gpujit.jit.script(mha)
    with pytest.raises(AssertionError, match="The fast path was not hit because grad is "
                                             "enabled and at least one of query"):
        s(x, x, x)
    mha.train()
    with gpujit.no_grad(), pytest.raises(AssertionError, match="training is enabled"):
        gpujit.jit.script(mha)(x, x, x)
    layer.train()      # (not the layer's fast path: its attention refuses the nested input)
    with gpujit.no_grad(), pytest.raises(AssertionError, match="training is enabled"):
        gpujit.jit.script(layer)(x)


def test_scripted_modules_with_nested_inputs_match_torch():
    torch = _torch()

    def run(m):
        out = []
        x = _nested(m)
        with m.no_grad():
            for mod in _modules(m):
                s = m.jit.script(mod)
                for _ in range(2):
                    y = s(x, x, x)[0] if isinstance(mod, m.nn.MultiheadAttention) else s(x)
                out.append([c.numpy() for c in y.unbind()])
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for g, t in zip(run(gpujit), run(torch)):
            for a, b in zip(g, t):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_dense_specialization_folds_is_nested():
    """`x.is_nested` of a dense tensor input is False in the specialization its key picks
    (the nested branch goes, and with it its If): the scripted attention's optimized graph
    for a dense batch holds no aten::is_nested; a nested call still takes the branch."""
    @gpujit.jit.script
    def f(x):
        if x.is_nested:
            return x.relu()
        return (x * 2 + 1).sigmoid()
    x = gpujit.randn(4, 4)
    for _ in range(3):
        f(x)
    g = str(gpujit.jit.last_executed_optimized_graph())
    assert "is_nested(" not in g and "prim::TensorExprGroup" in g
    np.testing.assert_allclose(f(x).numpy(), 1 / (1 + np.exp(-(x.numpy() * 2 + 1))),
                               rtol=1e-6)
    nt = gpujit.nested.nested_tensor([gpujit.tensor([[-1.0, 2.0]]), gpujit.tensor([[3.0, -4.0]])])
    assert [c.tolist() for c in f(nt).unbind()] == [[[0.0, 2.0]], [[3.0, 0.0]]]
    mha = _modules(gpujit)[0]
    s = gpujit.jit.script(mha)
    t = gpujit.randn(2, 3, 8)
    with gpujit.no_grad():
        for _ in range(3):
            s(t, t, t)
    assert "is_nested(" not in str(gpujit.jit.last_executed_optimized_graph())


# ---------------------------------------------------------------- the jagged layout
A = np.arange(6, dtype=np.float32).reshape(2, 3)
B = np.arange(12, dtype=np.float32).reshape(4, 3)


def _jagged(m=gpujit, arrays=(A, B), **kw):
    return m.nested.nested_tensor([m.tensor(a) for a in arrays], layout=m.jagged, **kw)


def _parts(nt):
    return [c.detach().numpy() for c in nt.unbind()]


def _j(nt, dim=1):
    return str(nt.size(dim))


def test_jagged_facts():
    nt = _jagged()
    assert type(nt).__name__ == "NestedTensor" and isinstance(nt, gpujit.Tensor)
    assert type(nt).__module__ == "gpujit.nested._internal.nested_tensor"
    assert nt.layout is gpujit.jagged and repr(gpujit.jagged) == "torch.jagged"
    assert nt.is_nested and nt.dim() == 3 and len(nt) == 2 and nt.numel() == 18
    j = nt.size(1)
    assert str(j).startswith("j") and nt.shape == gpujit.Size([2, j, 3])
    assert repr(nt.shape) == f"gpujit.Size([2, {j}, 3])"
    assert nt.size(0) == 2 and nt.size(-1) == 3 and nt.stride() == (3 * j, 3, 1)
    assert str(nt.stride(0)) == f"3*{j}"
    assert nt.offsets().tolist() == [0, 2, 6] and nt.lengths() is None
    assert nt._ragged_idx == 1 and nt.is_contiguous()
    np.testing.assert_array_equal(nt.values().numpy(), np.concatenate([A, B]))
    assert repr(nt) == f"NestedTensor(size=(2, {j}, 3), offsets=tensor([0, 2, 6]), " \
                       f"contiguous=True)"
    for got, want in zip(_parts(nt), (A, B)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(nt[1].numpy(), B)
    pad = nt.to_padded_tensor(-1.0).numpy()
    assert pad.shape == (2, 4, 3) and (pad[0, 2:] == -1).all()
    np.testing.assert_array_equal(pad[0, :2], A)
    np.testing.assert_array_equal(gpujit.nested.to_padded_tensor(nt, 0.0, (2, 5, 3)).numpy()[1, :4], B)
    # (a second nested tensor: a new j; one made from the first's offsets: the same j)
    other = _jagged()
    assert other.size(1) != j and (nt * 2).size(1) == j and nt.size(1) == j
    same = gpujit.nested.nested_tensor_from_jagged(nt.values(), nt.offsets())
    assert same.size(1) == j


def test_jagged_components_view_values():
    v = gpujit.arange(12.0).reshape(4, 3)
    nt = gpujit.nested.nested_tensor_from_jagged(v, gpujit.tensor([0, 1, 4]))
    assert nt.values().data_ptr() == v.data_ptr()
    nt.unbind()[1][0, 0] = 100.0            # (a view of values)
    assert v[1, 0].item() == 100.0
    holes = gpujit.nested.nested_tensor_from_jagged(v, gpujit.tensor([0, 2, 4]),
                                                    lengths=gpujit.tensor([1, 2]))
    assert not holes.is_contiguous() and holes.lengths().tolist() == [1, 2]
    assert [tuple(c.shape) for c in holes.unbind()] == [(1, 3), (2, 3)]
    assert "contiguous=False" in repr(holes)
    with pytest.raises(RuntimeError, match="not supported for nested tensors with holes"):
        holes.to_padded_tensor(0.0)
    lens = gpujit.nested.nested_tensor_from_jagged(gpujit.arange(6.0).reshape(3, 2),
                                                   lengths=gpujit.tensor([1, 2]))
    assert lens.offsets().tolist() == [0, 1, 3] and lens.lengths() is None
    with pytest.raises(RuntimeError, match="At least one of offsets or lengths is required"):
        gpujit.nested.nested_tensor_from_jagged(v)
    with pytest.raises(ValueError, match="Expected jagged_dim >=1, but got 0"):
        gpujit.nested.nested_tensor_from_jagged(v, gpujit.tensor([0, 4]), jagged_dim=0)
    v3 = gpujit.arange(24.0).reshape(2, 6, 2)
    j2 = gpujit.nested.nested_tensor_from_jagged(v3, gpujit.tensor([0, 2, 6]), jagged_dim=2)
    assert j2._ragged_idx == 2 and str(j2.shape).endswith(f"[2, 2, {j2.size(2)}, 2])")
    np.testing.assert_array_equal(j2.unbind()[1].numpy(), v3.numpy()[:, 2:6])


def test_jagged_constructors():
    nt = gpujit.nested.nested_tensor([[1, 2], [3]], layout=gpujit.jagged, dtype=gpujit.int32)
    assert nt.dtype is gpujit.int32 and nt.offsets().tolist() == [0, 2, 3] and nt.dim() == 2
    col = gpujit.nested.nested_tensor([gpujit.ones(2, 3), gpujit.ones(2, 4)],
                                      layout=gpujit.jagged)
    assert col._ragged_idx == 2 and col.offsets().tolist() == [0, 3, 7] and col.is_contiguous()
    with pytest.raises(RuntimeError, match="Cannot construct a nested tensor from an empty "
                                           "tensor list"):
        gpujit.nested.nested_tensor([], layout=gpujit.jagged)
    for items, words in [([gpujit.tensor(1.0), gpujit.tensor(2.0)], "a list of zero-dim tensors"),
                         ([gpujit.ones(2, 3, dtype=gpujit.int64), gpujit.ones(3, 3)],
                          "all tensors in list must have the same dtype"),
                         ([gpujit.ones(2, 3), gpujit.ones(3)],
                          "all tensors in list must have the same dim"),
                         ([gpujit.ones(2, 3), gpujit.ones(3, 4)],
                          "only allows for a single ragged dimension. For example: \\(B, \\*")]:
        with pytest.raises(RuntimeError, match=words):
            gpujit.nested.nested_tensor(items, layout=gpujit.jagged, dtype=gpujit.float32)
    dense = gpujit.arange(24.0).reshape(2, 3, 4)
    a = gpujit.nested.as_nested_tensor(dense, layout=gpujit.jagged)
    assert a.offsets().tolist() == [0, 3, 6] and a.values().data_ptr() == dense.data_ptr()
    with pytest.raises(RuntimeError, match="Converting between nested tensor layouts"):
        gpujit.nested.as_nested_tensor(a, layout=gpujit.strided)
    with pytest.raises(RuntimeError, match="Converting between nested tensor layouts"):
        gpujit.nested.as_nested_tensor(_jagged())
    x = gpujit.ones(2, 3, requires_grad=True)
    g = gpujit.nested.as_nested_tensor([x, x * 2], layout=gpujit.jagged)
    assert g.grad_fn.name() == "NestedViewFromJaggedBackward0"
    g.values().sum().backward()
    assert x.grad.tolist() == [[3.0] * 3] * 2
    leaf = _jagged(requires_grad=True)
    assert leaf.is_leaf and leaf.grad_fn is None and "requires_grad=True" in repr(leaf)
    ms = gpujit.nested.masked_select(gpujit.arange(9.0).reshape(3, 3), gpujit.tensor(
        [[False, False, True], [True, False, True], [False, False, True]]))
    assert ms.offsets().tolist() == [0, 1, 3, 4]
    assert [p.tolist() for p in ms.unbind()] == [[2.0], [3.0, 5.0], [8.0]]


def test_jagged_narrow():
    base = gpujit.arange(30.0).reshape(3, 5, 2)
    nt = gpujit.nested.narrow(base, 1, gpujit.tensor([0, 1, 2]), gpujit.tensor([2, 3, 1]),
                              layout=gpujit.jagged)
    assert not nt.is_contiguous() and nt.offsets().tolist() == [0, 6, 12, 13]
    assert nt.values().data_ptr() == base.data_ptr()
    b = base.numpy()
    for got, want in zip(_parts(nt), (b[0, 0:2], b[1, 1:4], b[2, 2:3])):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(_parts(nt * 2), (b[0, 0:2], b[1, 1:4], b[2, 2:3])):
        np.testing.assert_array_equal(got, want * 2)
    assert (nt * 2).size(1) == nt.size(1)
    c = nt.contiguous()         # (packed: new offsets, a new j, as torch's)
    assert c.is_contiguous() and c.offsets().tolist() == [0, 2, 5, 6] and c.size(1) != nt.size(1)
    with pytest.raises(ValueError, match=r"NestedTensor linear_default\(input: jt, weight: t, "
                                         r"bias: t\?\): expected input to be a contiguous"):
        gpujit.nn.functional.linear(nt, gpujit.ones(4, 2))
    with pytest.raises(RuntimeError, match="sum\\(\\): reducing across the ragged dimension "
                                           "is not supported for non-contiguous"):
        nt.sum(1)
    g = gpujit.nested.narrow(base.clone().requires_grad_(), 1, gpujit.tensor([0, 1, 2]),
                             gpujit.tensor([2, 3, 1]), layout=gpujit.jagged)
    assert g.grad_fn.name() == "NestedViewFromJaggedBackward0"
    full = gpujit.nested.narrow(base, 1, 0, 5, layout=gpujit.jagged)
    assert full.is_contiguous() and full.offsets().tolist() == [0, 5, 10, 15]
    with pytest.raises(RuntimeError, match="jagged layout only supports dim=1"):
        gpujit.nested.narrow(base, 2, 0, 1, layout=gpujit.jagged)


def test_jagged_ops():
    nt = _jagged()
    a, b = A, B
    j = nt.size(1)
    for y, f in [(nt * 2 + 1, lambda x: x * 2 + 1), (nt.sin(), np.sin), (nt.exp(), np.exp),
                 (gpujit.sigmoid(nt), lambda x: 1 / (1 + np.exp(-x))),
                 (nt + gpujit.tensor([1.0, 2.0, 3.0]), lambda x: x + [1, 2, 3]),
                 (nt + nt, lambda x: 2 * x), (nt.relu(), lambda x: np.maximum(x, 0))]:
        assert y.layout is gpujit.jagged and y.size(1) == j
        for got, want in zip(_parts(y), (a, b)):
            np.testing.assert_allclose(got, f(want), rtol=1e-6)
    sm = nt.softmax(-1)
    assert sm.size(1) == j
    for got, want in zip(_parts(sm), (a, b)):
        e = np.exp(want - want.max(-1, keepdims=True))
        np.testing.assert_allclose(got, e / e.sum(-1, keepdims=True), rtol=1e-6)
    over_ragged = nt.softmax(1)
    for got, want in zip(_parts(over_ragged), (a, b)):
        e = np.exp(want - want.max(0, keepdims=True))
        np.testing.assert_allclose(got, e / e.sum(0, keepdims=True), rtol=1e-6)
    w = gpujit.tensor(np.arange(15, dtype=np.float32).reshape(5, 3) / 10)
    lin = gpujit.nn.functional.linear(nt, w)
    assert str(lin.shape) == f"gpujit.Size([2, {j}, 5])"
    for got, want in zip(_parts(lin), (a, b)):
        np.testing.assert_allclose(got, want @ w.numpy().T, rtol=1e-6)
    s = nt.sum(-1)
    assert str(s.shape) == f"gpujit.Size([2, {j}])" and s.size(1) == j
    assert [p.tolist() for p in s.unbind()] == [a.sum(-1).tolist(), b.sum(-1).tolist()]
    np.testing.assert_array_equal(nt.sum(1).numpy(), np.stack([a.sum(0), b.sum(0)]))
    assert nt.sum().item() == a.sum() + b.sum()
    assert str(nt.mean(-1, keepdim=True).shape) == f"gpujit.Size([2, {j}, 1])"
    t = nt.transpose(1, 2)
    assert t._ragged_idx == 2 and not t.is_contiguous() and str(t.shape).endswith(f"[2, 3, {j}])")
    assert tuple(t.values().shape) == (3, 6)
    np.testing.assert_array_equal(t.unbind()[1].numpy(), b.T)
    assert str(nt.unsqueeze(-1).shape) == f"gpujit.Size([2, {j}, 3, 1])"


def test_jagged_refusals_in_torch_words():
    nt, other = _jagged(), _jagged()
    cases = [
        (lambda: nt + other, RuntimeError, r"cannot call binary pointwise function add.Tensor "
                                           r"with inputs of shapes \(2, j\d+, 3\) and "
                                           r"\(2, j\d+, 3\)"),
        (lambda: nt + gpujit.ones(2, 3), RuntimeError,
         r"shapes torch.Size\(\[2, j\d+, 3\]\) and torch.Size\(\[2, 3\]\)"),
        (lambda: nt.softmax(0), RuntimeError, "softmax\\(\\): not supported when reducing "
                                              "across the batch dimension for NestedTensor"),
        (lambda: nt.unbind(1), RuntimeError, "unbind\\(\\): only supported for NestedTensor "
                                             "on dim=0"),
        (lambda: gpujit.cat([nt, nt]), RuntimeError, "cat\\(\\): not supported for "
                                                     "NestedTensor on dim=0"),
        (lambda: nt[:, 0], RuntimeError, "slice\\(\\): not supported for NestedTensor on dim=0"),
        (lambda: nt.select(1, 0), RuntimeError, "select\\(\\): not supported for NestedTensor "
                                                "on ragged dim"),
        (lambda: nt._nested_tensor_size(), NotImplementedError, "aten._nested_tensor_size"),
    ]
    for call, exc, words in cases:
        with pytest.raises(exc, match=words):
            call()


def test_jagged_autograd_through_values():
    v = gpujit.tensor(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, requires_grad=True)
    nt = gpujit.nested.nested_tensor_from_jagged(v, gpujit.tensor([0, 1, 4]))
    assert nt.grad_fn.name() == "NestedViewFromJaggedBackward0"
    y = nt.sin() * nt
    assert y.grad_fn.name() == "MulBackward0"
    assert repr(y).startswith(f"NestedTensor(size=(2, {nt.size(1)}, 3), offsets=tensor([0, 1, "
                              f"4]), grad_fn=<MulBackward0 object at 0x")
    assert repr(y).endswith(">, contiguous=True)")
    assert y.values().grad_fn.name() == "NestedGetValuesBackward0"
    y.values().sum().backward()
    x = v.detach().numpy()
    np.testing.assert_allclose(v.grad.numpy(), np.sin(x) + x * np.cos(x), rtol=1e-6)
    leaf = _jagged(requires_grad=True)
    w = gpujit.tensor(np.ones((2, 3), np.float32))
    (gpujit.nn.functional.linear(leaf, w).relu() * 3).to_padded_tensor(0.0).sum().backward()
    assert leaf.grad.layout is gpujit.jagged and leaf.grad.size(1) == leaf.size(1)
    np.testing.assert_array_equal(leaf.grad.values().numpy(), np.full((6, 3), 6.0))


def test_jagged_attention_block():
    """An attention block over a jagged batch (projections, heads split off with view and
    transpose, SDPA, heads merged): each sequence's result is the dense block's on it alone,
    and the gradient reaches the input's values."""
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, 8)).astype(np.float32) for n in (3, 5)]
    W = [gpujit.tensor(rng.standard_normal((8, 8)).astype(np.float32) * 0.3) for _ in range(4)]
    F = gpujit.nn.functional

    def block(x, B):
        def split(t):
            return t.view(B, -1, 2, 4).transpose(1, 2)
        q, k, v = (split(F.linear(x, w)) for w in W[:3])
        o = F.scaled_dot_product_attention(q, k, v)
        return F.linear(o.transpose(1, 2).reshape(B, -1, 8), W[3]), q, o
    nt = gpujit.nested.nested_tensor([gpujit.tensor(s) for s in seqs], layout=gpujit.jagged,
                                     requires_grad=True)
    out, q, o = block(nt, 2)
    assert q._ragged_idx == 2 and o._ragged_idx == 2 and o.size(2) == nt.size(1)
    assert o.transpose(1, 2).is_contiguous() and out.size(1) == nt.size(1)
    for got, s in zip(out.unbind(), seqs):
        want = block(gpujit.tensor(s).unsqueeze(0), 1)[0][0]
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    out.to_padded_tensor(0.0).sum().backward()
    assert nt.grad is not None and tuple(nt.grad.values().shape) == (8, 8)
    assert np.isfinite(nt.grad.values().numpy()).all()


def test_jagged_matches_torch():
    torch = _torch()

    def run(m):
        F = m.nn.functional
        nt = _jagged(m, requires_grad=True)
        w = m.tensor(np.arange(15, dtype=np.float32).reshape(5, 3) / 10)
        out = {}
        out["shape"] = str(tuple(nt.shape))
        out["stride"] = str(nt.stride())
        y = F.linear(nt.sin() * 2, w).softmax(-1)
        out["y"] = [c.detach().numpy() for c in y.unbind()]
        out["names"] = [y.grad_fn.name(), (nt + 1).grad_fn.name(), nt.sum(-1).grad_fn.name(),
                        nt.transpose(1, 2).grad_fn.name()]
        out["sum1"] = nt.sum(1).detach().numpy()
        out["pad"] = y.to_padded_tensor(-1.0).detach().numpy()
        y.to_padded_tensor(0.0).pow(2).sum().backward()
        out["grad"] = nt.grad.values().numpy()
        base = m.arange(30.0).reshape(3, 5, 2)
        n = m.nested.narrow(base, 1, m.tensor([0, 1, 2]), m.tensor([2, 3, 1]),
                            layout=m.jagged)
        out["narrow"] = [c.numpy() for c in (n * 3).unbind()]
        out["narrow_facts"] = (n.offsets().tolist(), n.lengths().tolist(), n.is_contiguous())
        ms = m.nested.masked_select(m.arange(6.0).reshape(2, 3),
                                    m.tensor([[True, False, True], [False, False, True]]))
        out["ms"] = ([c.tolist() for c in ms.unbind()], ms.offsets().tolist())
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, t = run(gpujit), run(torch)
    import re
    assert re.sub(r"j\d+", "j", g["shape"]) == re.sub(r"j\d+", "j", t["shape"])
    assert re.sub(r"j\d+", "j", g["stride"]) == re.sub(r"j\d+", "j", t["stride"])
    assert g["names"] == t["names"]
    assert g["narrow_facts"] == t["narrow_facts"] and g["ms"] == t["ms"]
    for key in ("y", "narrow"):
        for a, b in zip(g[key], t[key]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in ("sum1", "pad", "grad"):
        np.testing.assert_allclose(g[key], t[key], rtol=1e-5, atol=1e-6)


def _same_jagged(a, b):
    assert a.layout is gpujit.jagged and a._ragged_idx == b._ragged_idx
    assert a.offsets().tolist() == b.offsets().tolist()
    assert (a.lengths() is None) == (b.lengths() is None)
    for x, y in zip(a.unbind(), b.unbind()):
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


def test_jagged_save_load(tmp_path):
    """gpujit.save writes a jagged nested tensor as torch.save does
    (torch._tensor._rebuild_from_type_v2 of torch.nested._internal.nested_tensor's
    _rebuild_njt and NestedTensor); gpujit.load reads it back (weights_only=False, as
    torch's: weights_only refuses it in torch's words)."""
    nt = _jagged(requires_grad=True)
    base = gpujit.arange(30.0).reshape(3, 5, 2)
    holes = gpujit.nested.narrow(base, 1, gpujit.tensor([0, 1, 2]), gpujit.tensor([2, 3, 1]),
                                 layout=gpujit.jagged)
    for x in (nt, holes, nt.transpose(1, 2).detach()):
        path = str(tmp_path / "njt.pt")
        gpujit.save(x, path)
        back = gpujit.load(path, weights_only=False)
        _same_jagged(back, x)
        assert back.requires_grad == x.requires_grad
    import zipfile
    data = [zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist()
            if n.endswith("data.pkl")][0]
    assert b"_rebuild_njt" in data and b"torch.nested._internal.nested_tensor" in data
    with pytest.raises(Exception, match="must be imported to load nested jagged tensors"):
        gpujit.load(path)


def test_jagged_save_load_with_torch(tmp_path):
    torch = _torch()
    mine, theirs = str(tmp_path / "g.pt"), str(tmp_path / "t.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gpujit.save(_jagged(), mine)
        t = torch.load(mine, weights_only=False)
        assert t.layout == torch.jagged and t.offsets().tolist() == [0, 2, 6]
        for x, want in zip(t.unbind(), (A, B)):
            np.testing.assert_array_equal(x.numpy(), want)
        base = torch.arange(30.0).reshape(3, 5, 2)
        torch.save(torch.nested.narrow(base, 1, torch.tensor([0, 1, 2]),
                                       torch.tensor([2, 3, 1]), layout=torch.jagged), theirs)
        g = gpujit.load(theirs, weights_only=False)
    assert g.lengths().tolist() == [2, 3, 1] and g.offsets().tolist() == [0, 6, 12, 13]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save(torch.nested.nested_tensor_from_jagged(
            torch.ones(6, 3), torch.tensor([0, 2, 6]), max_seqlen=10), theirs)
    ten = gpujit.load(theirs, weights_only=False)     # (its cached max_seqlen: (10, 0)'s)
    assert ten._max_seqlen == 10 and tuple(ten.to_padded_tensor(0.0).shape) == (2, 10, 3)
    b = np.arange(30.0, dtype=np.float32).reshape(3, 5, 2)
    for x, want in zip(g.unbind(), (b[0, 0:2], b[1, 1:4], b[2, 2:3])):
        np.testing.assert_array_equal(x.numpy(), want)


def test_jagged_more_ops():
    nt = _jagged()
    j = nt.size(1)
    a, b = A, B
    m, i = nt.max(-1)
    assert m.size(1) == j and [p.tolist() for p in i.unbind()] == [[2, 2], [2, 2, 2, 2]]
    np.testing.assert_array_equal(nt.argmax(1).numpy(), [[1, 1, 1], [3, 3, 3]])
    assert (nt > 4).any().item() and not (nt > 100).any().item()
    r = gpujit.randn_like(nt)
    assert r.size(1) == j and tuple(r.values().shape) == (6, 3)
    assert gpujit.full_like(nt, 2.0).values().tolist() == [[2.0] * 3] * 6
    p = nt.permute(0, 2, 1)
    assert p._ragged_idx == 2 and str(p.shape) == f"gpujit.Size([2, 3, {j}])"
    np.testing.assert_array_equal(p.unbind()[1].numpy(), b.T)
    w = gpujit.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    mm = gpujit.matmul(nt, w)
    assert mm.size(1) == j
    for got, want in zip(_parts(mm), (a, b)):
        np.testing.assert_array_equal(got, want @ w.numpy())
    per = gpujit.bmm(nt, gpujit.stack([w, w * 2]))
    np.testing.assert_array_equal(per.unbind()[1].numpy(), b @ (w.numpy() * 2))
    dense = gpujit.matmul(nt.transpose(1, 2), nt)       # (B, 3, j) x (B, j, 3): dense
    np.testing.assert_array_equal(dense.numpy(), np.stack([a.T @ a, b.T @ b]))
    with pytest.raises(RuntimeError, match=r"matmul\(\): not supported between inputs of "
                                           r"shapes \(2, j\d+, 3\) and torch.Size\(\[2, 3, "
                                           r"j\d+\]\)"):
        gpujit.matmul(nt, nt.transpose(1, 2))
    four = gpujit.nested.nested_tensor([gpujit.ones(2, 3, 2), gpujit.ones(1, 3, 2)],
                                       layout=gpujit.jagged)
    assert str(four.flatten(-2, -1).shape) == f"gpujit.Size([2, {four.size(1)}, 6])"
    with pytest.raises(RuntimeError, match="flatten\\(\\): not supported for NestedTensor on "
                                           "ragged dim"):
        four.flatten(1, 2)
    with pytest.raises(NotImplementedError, match="^aten.cumsum.default$"):
        nt.cumsum(-1)


def test_jagged_input_to_attention_modules_is_refused_as_torch():
    """torch's jagged NestedTensor is a __torch_function__ subclass: nn.MultiheadAttention
    and TransformerEncoderLayer never take their fast path with it, and the Python path
    refuses nested input."""
    mha, layer, _ = _modules(gpujit)
    x = gpujit.nested.nested_tensor([gpujit.tensor(s) for s in _SEQS], layout=gpujit.jagged)
    words = "The fast path was not hit because some Tensor argument has_torch_function"
    with gpujit.no_grad():
        with pytest.raises(AssertionError, match=words):
            mha(x, x, x)
        with pytest.raises(AssertionError, match=words):
            layer(x)


def test_jagged_more_ops_match_torch():
    torch = _torch()

    def run(m):
        nt = _jagged(m)
        w = m.tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
        return {"max": [c.numpy() for c in nt.max(-1)[0].unbind()],
                "argmax1": nt.argmax(1).numpy(),
                "perm": [c.numpy() for c in nt.permute(0, 2, 1).unbind()],
                "mm": [c.numpy() for c in m.matmul(nt, w).unbind()],
                "dense": m.matmul(nt.transpose(1, 2), nt).numpy(),
                "ragged_idx": (nt.permute(0, 2, 1)._ragged_idx,
                               m.matmul(nt, w)._ragged_idx)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, t = run(gpujit), run(torch)
    assert g["ragged_idx"] == t["ragged_idx"]
    for key in ("max", "perm", "mm"):
        for x, y in zip(g[key], t[key]):
            np.testing.assert_allclose(x, y, rtol=1e-6)
    for key in ("argmax1", "dense"):
        np.testing.assert_allclose(g[key], t[key], rtol=1e-6)


# ---------------------------------------------------------------- type(nt)
def test_strided_nested_tensor_presents_as_a_tensor():
    """torch's strided nested tensor is a torch.Tensor (its class is torch.Tensor): here
    nt.__class__ is gpujit.Tensor and type(nt) prints as gpujit.Tensor (only `type(nt) is
    gpujit.Tensor` tells it apart); the jagged layout's class is torch's NestedTensor."""
    import copy
    nt = gpujit.nested.nested_tensor([gpujit.ones(2, 3), gpujit.ones(1, 3)])
    assert nt.__class__ is gpujit.Tensor and isinstance(nt, gpujit.Tensor)
    assert repr(type(nt)) == "<class 'gpujit.Tensor'>" and type(nt).__name__ == "Tensor"
    assert gpujit.is_tensor(nt) and not isinstance(nt, gpujit.nn.Parameter)
    assert repr(type(copy.deepcopy(nt))) == "<class 'gpujit.Tensor'>"
    assert repr(type(nt + 1)) == "<class 'gpujit.Tensor'>"
    jag = _jagged()
    assert repr(type(jag)) == \
        "<class 'gpujit.nested._internal.nested_tensor.NestedTensor'>"
    assert jag.__class__ is type(jag) and isinstance(jag, gpujit.Tensor)


def test_type_of_nested_tensors_matches_torch():
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        facts = []
        for m in (gpujit, torch):
            nt = m.nested.nested_tensor([m.ones(2, 3), m.ones(1, 3)])
            jag = _jagged(m)
            facts.append((nt.__class__ is m.Tensor, type(nt).__name__, type(jag).__name__,
                          type(jag).__module__.replace("gpujit", "torch"),
                          isinstance(jag, m.Tensor)))
    assert facts[0] == facts[1]


def test_strided_nested_small_ops_as_torch():
    """randn_like of a strided nested tensor (its sizes; torch's nested backend has it),
    unflatten refused as torch's ('doesn't support sizes'), var / std named by the overload
    torch's nested dispatch reaches (var.correction)."""
    nt = gpujit.nested.nested_tensor([gpujit.ones(2, 4), gpujit.ones(3, 4)])
    r = gpujit.randn_like(nt)
    assert r.is_nested and r._nested_tensor_size().tolist() == [[2, 4], [3, 4]]
    assert not np.array_equal(r.values().numpy(), np.ones(20))
    with pytest.raises(RuntimeError, match="NestedTensorImpl doesn't support sizes"):
        nt.unflatten(-1, (2, 2))
    with pytest.raises(NotImplementedError, match="'aten::var.correction' with arguments "
                                                  "from the 'NestedTensorCPU' backend"):
        nt.var(-1)
    jag = gpujit.nested.nested_tensor([gpujit.ones(2, 4), gpujit.ones(3, 4)],
                                      layout=gpujit.jagged)
    u = jag.unflatten(-1, (2, -1))
    assert str(u.shape) == f"gpujit.Size([2, {jag.size(1)}, 2, 2])"
    with pytest.raises(NotImplementedError, match="^aten.std.correction$"):
        jag.std(-1)


def test_jagged_inplace_and_batch_ops():
    nt = _jagged()
    j = nt.size(1)
    assert nt.sin_() is nt and nt.size(1) == j
    for got, want in zip(_parts(nt), (np.sin(A), np.sin(B))):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    x = _jagged()
    x.add_(x * 2)
    np.testing.assert_array_equal(x.values().numpy(), 3 * np.concatenate([A, B]))
    with pytest.raises(RuntimeError, match=r"cannot call binary pointwise function "
                                           r"add_.Tensor with inputs of shapes"):
        x.add_(_jagged())
    parts = _jagged(arrays=(A, B, A)).chunk(2, 0)
    assert [p.offsets().tolist() for p in parts] == [[0, 2, 6], [0, 2]]
    assert parts[0].size(1) != parts[1].size(1)
    np.testing.assert_array_equal(parts[1].unbind()[0].numpy(), A)
    cases = [
        (lambda: nt.narrow(0, 0, 1), "narrow\\(\\): not supported for NestedTensor on dim=0"),
        (lambda: gpujit.stack([nt, nt]), "stack\\(\\): not supported for NestedTensor on dim=0"),
        (lambda: nt.to_dense(), "to_dense does not support layout Jagged"),
        (lambda: gpujit.nested.nested_tensor([nt, nt], layout=gpujit.jagged),
         "cat\\(\\): not supported for NestedTensor on dim=0"),
        (lambda: nt + gpujit.nested.nested_tensor([gpujit.tensor(A), gpujit.tensor(B)]),
         "NestedTensorImpl doesn't support sizes"),
    ]
    for call, words in cases:
        with pytest.raises(RuntimeError, match=words):
            call()
    leaf = _jagged(requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape "
                                           r"of torch.Size\(\[2, j\d+, 3\]\) and output\[0\]"):
        (leaf * 2).backward(_jagged())
    (leaf * 2).backward(gpujit.ones_like(leaf))
    assert leaf.grad.values().tolist() == [[2.0] * 3] * 6


def _attention_refusals(m):
    """The errors of nn.MultiheadAttention / TransformerEncoder given a nested batch with
    masks (eval, no grad)."""
    nt = m.nested.nested_tensor([m.ones(2, 8), m.ones(3, 8)])
    mha = m.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    enc = m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                               dropout=0.0), 2).eval()
    calls = [lambda: mha(nt, nt, nt, attn_mask=m.zeros(3, 3, dtype=m.bool)),
             lambda: mha(nt, nt, nt, attn_mask=m.zeros(3, 3)),     # (float: replaced)
             lambda: enc(nt, mask=m.zeros(3, 3)),
             lambda: enc(nt, src_key_padding_mask=m.zeros(2, 3, dtype=m.bool))]
    out = []
    with m.no_grad():
        for call in calls:
            try:
                call()
                out.append(None)
            except (AssertionError, NotImplementedError) as e:
                out.append((type(e).__name__, str(e).split(" This could be")[0]))
    return out


def test_nested_attention_mask_refusals():
    got = _attention_refusals(gpujit)
    both = ("MultiheadAttention does not support NestedTensor outside of its fast path. The "
            "fast path was not hit because supplying both src_key_padding_mask and src_mask "
            "at the same time " + " " * 33 + "is not supported with NestedTensor input")
    assert got[:3] == [("AssertionError", both)] * 3
    assert got[3] == ("NotImplementedError", "Could not run "
                      "'aten::_nested_tensor_from_mask_left_aligned' with arguments from the "
                      "'NestedTensorCPU' backend.")


def test_nested_attention_mask_refusals_match_torch():
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _attention_refusals(gpujit) == _attention_refusals(torch)


def test_jagged_attention_checks_as_torch():
    F = gpujit.nn.functional
    rng = np.random.default_rng(4)

    def heads(ns):
        return gpujit.nested.nested_tensor(
            [gpujit.tensor(rng.standard_normal((n, 2, 4)).astype(np.float32)) for n in ns],
            layout=gpujit.jagged).transpose(1, 2)
    q, k, v = heads((3, 5)), heads((3, 5)), heads((3, 5))
    out = F.scaled_dot_product_attention(q, k, v)       # (another j for k, v: the same lengths)
    assert out.size(2) == q.size(2)
    cross = F.scaled_dot_product_attention(q, heads((2, 6)), heads((2, 6)))
    assert cross.size(2) == q.size(2)
    three = gpujit.nested.nested_tensor([gpujit.ones(3, 4), gpujit.ones(5, 4)],
                                        layout=gpujit.jagged)
    cases = [
        (lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True), RuntimeError,
         "No viable backend for scaled_dot_product_attention was found."),
        (lambda: F.scaled_dot_product_attention(three, three, three), RuntimeError,
         "No viable backend"),
        (lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=gpujit.ones(
            2, 2, 5, 5, dtype=gpujit.bool)), ValueError, "Masks are not yet supported!"),
        (lambda: F.scaled_dot_product_attention(q, gpujit.ones(2, 2, 5, 4),
                                                gpujit.ones(2, 2, 5, 4)), ValueError,
         "Expected query, key, and value to be nested tensors, but got query.is_nested: "
         "True, key.is_nested: False, and value.is_nested: False instead."),
        (lambda: F.scaled_dot_product_attention(q, k.transpose(1, 2), v), ValueError,
         "all be ragged on the same dimension, but got ragged dims 2, 1, and 2"),
    ]
    for call, exc, words in cases:
        with pytest.raises(exc, match=words):
            call()
    # (ragged dim 1 of 4-D inputs: the dense op on values)
    flat = gpujit.nested.nested_tensor([gpujit.ones(3, 2, 4), gpujit.ones(5, 2, 4)],
                                       layout=gpujit.jagged)
    r = F.scaled_dot_product_attention(flat, flat, flat)
    assert r._ragged_idx == 1 and r.size(1) == flat.size(1)
    np.testing.assert_allclose(r.values().numpy(), np.ones((8, 2, 4)), rtol=1e-6)


def test_jagged_with_holes_as_torch():
    base = gpujit.arange(30.0).reshape(3, 5, 2)
    h = gpujit.nested.narrow(base, 1, gpujit.tensor([0, 1, 2]), gpujit.tensor([2, 3, 1]),
                             layout=gpujit.jagged)
    b = base.numpy()
    want = (b[0, 0:2], b[1, 1:4], b[2, 2:3])
    c = gpujit.cat([h, h * 10], -1)         # (on values: the holes and j kept)
    assert c.lengths().tolist() == [2, 3, 1] and c.size(1) == h.size(1)
    for got, w in zip(_parts(c), want):
        np.testing.assert_array_equal(got, np.concatenate([w, w * 10], -1))
    r = h.reshape(3, -1, 1, 2)              # (a copy without holes: a new j)
    assert r.is_contiguous() and r.offsets().tolist() == [0, 2, 5, 6] and r.size(1) != h.size(1)
    n2 = _jagged().narrow(2, 1, 2)          # (a regular dim: a view of values)
    for got, w in zip(_parts(n2), (A, B)):
        np.testing.assert_array_equal(got, w[:, 1:3])
    parts = _jagged().split(2, -1)
    assert [tuple(p.values().shape) for p in parts] == [(6, 2), (6, 1)]
    cases = [
        (lambda: h.softmax(1), RuntimeError, "softmax\\(\\): not supported where lengths is "
                                             "not None if reducing across the ragged"),
        (lambda: h.select(2, 1), ValueError, "select\\(\\): not yet supported on dim != 0"),
        (lambda: h.permute(0, 2, 1), ValueError, "permute\\(\\): not supported on jagged "
                                                 "layout nested tensor with holes"),
        (lambda: h.split(1, -1), ValueError, r"NestedTensor split_tensor\(self: jt, "
                                             r"split_size: any, dim: any\?\): expected self"),
        (lambda: gpujit.nn.functional.dropout(h, 0.0, True), ValueError,
         r"NestedTensor native_dropout_default\(self: jt"),
        (lambda: h.narrow(2, 0, 1), ValueError, r"NestedTensor narrow\(self: jt, dim: any, "
                                                r"start: any, length: any\): expected self"),
        (lambda: h[5], IndexError, "tuple index out of range"),
    ]
    for call, exc, words in cases:
        with pytest.raises(exc, match=words):
            call()
    assert gpujit.nn.functional.dropout(h, 0.5, False).lengths().tolist() == [2, 3, 1]


def test_jagged_pointwise_fallback_is_torchs():
    """torch's jagged layout runs an op on values only when torch tags it pointwise and it
    has at most two tensor operands: gpujit's fuser tags more ops pointwise (hardswish,
    floor_divide, log_sigmoid ...), which the jagged layout refuses as torch's."""
    nt = _jagged()
    F = gpujit.nn.functional
    for call, name in [(lambda: F.hardswish(nt), "aten.hardswish.default"),
                       (lambda: nt // 2, "aten.floor_divide.default"),
                       (lambda: F.logsigmoid(nt), "aten.log_sigmoid_forward.default"),
                       (lambda: gpujit.addcmul(nt, nt, nt), "aten.addcmul.default")]:
        with pytest.raises(NotImplementedError, match=f"^{name}$"):
            call()
    assert [p.tolist() for p in gpujit.lerp(nt, nt * 3, 0.5).unbind()] == \
        [(2 * A).tolist(), (2 * B).tolist()]
    w = gpujit.where(nt > 4, nt, nt * 10)
    np.testing.assert_array_equal(w.values().numpy(),
                                  np.where(np.concatenate([A, B]) > 4, np.concatenate([A, B]),
                                           np.concatenate([A, B]) * 10))
    strided = gpujit.nested.nested_tensor([gpujit.ones(2, 4), gpujit.ones(3, 4)])
    with pytest.raises(NotImplementedError, match="'aten::log_sigmoid_forward' with "
                                                  "arguments from the 'NestedTensorCPU'"):
        F.logsigmoid(strided)


def test_jagged_reductions_as_torch():
    nt = _jagged(arrays=(A, B - 5))
    flat = np.concatenate([A, B - 5])
    assert nt.prod().item() == np.prod(flat) and nt.amax().item() == flat.max()
    assert nt.argmax().item() == int(np.argmax(flat))
    np.testing.assert_array_equal(nt.sum((0, 1)).numpy(), flat.sum(0))
    p = nt.prod(-1)
    assert p.size(1) == nt.size(1)
    np.testing.assert_array_equal(p.values().numpy(), flat.prod(-1))
    cases = [
        (lambda: nt.sum(0), "sum\\(\\): reducing along the batch dimension but not the ragged "
                            "dimension is not supported for nested tensors"),
        (lambda: nt.sum((1, 2)), "sum\\(\\): reducing along a ragged and non-batch dimension "
                                 "is not supported for nested tensors"),
        (lambda: nt.log_softmax(1), "log_softmax\\(\\): not supported when reducing along the "
                                    "ragged dimension for NestedTensor"),
    ]
    for call, words in cases:
        with pytest.raises(RuntimeError, match=words):
            call()
    four = gpujit.nested.nested_tensor([gpujit.ones(2, 3, 4), gpujit.ones(1, 3, 4)],
                                       layout=gpujit.jagged)
    s = four.sum((2, 3))        # (regular dims only: on values)
    assert s._ragged_idx == 1 and s.values().tolist() == [12.0, 12.0, 12.0]


def test_jagged_indexing_and_factories_as_torch():
    nt = _jagged()
    j = nt.size(1)
    last = nt[..., 1]               # (a trailing regular dim: values indexed)
    assert str(last.shape) == f"gpujit.Size([2, {j}])"
    assert [p.tolist() for p in last.unbind()] == [A[:, 1].tolist(), B[:, 1].tolist()]
    assert nt[1, 2].tolist() == B[2].tolist()
    e = nt.unsqueeze(-1).expand(2, -1, 3, 2)
    assert e.size(1) == j and e.unbind()[0].tolist() == np.repeat(A[..., None], 2, -1).tolist()
    m, ex = gpujit.frexp(nt + 1)
    np.testing.assert_array_equal(m.values().numpy() * 2.0 ** ex.values().numpy(),
                                  np.concatenate([A, B]) + 1)
    assert gpujit.fill(nt, 2.0).values().tolist() == [[2.0] * 3] * 6
    r = gpujit.randint_like(nt, 5)
    assert r.size(1) == j and int(r.values().max()) < 5
    assert tuple(nt.new_zeros(()).shape) == ()
    cases = [
        (lambda: nt.new_zeros((2, 3)), "new_empty\\(\\) not supported for NJT with shape != "
                                       "\\(\\)"),
        (lambda: nt.squeeze(1), "squeeze\\(\\): not supported for NestedTensor on ragged dim"),
        (lambda: nt.view(-1, 3), r"view\(\): cannot view shape \(2, j\d+, 3\) as \[-1, 3\]"),
    ]
    for call, words in cases:
        with pytest.raises(RuntimeError, match=words):
            call()


def test_jagged_softmax_over_ragged_dim_gradient():
    """softmax across the ragged dim, per component, and its gradient (NumPy's; torch
    2.13's jagged backward of it is wrong: its rows' gradients do not sum to 0)."""
    rng = np.random.default_rng(5)
    a, b = (rng.standard_normal((n, 4)).astype(np.float32) for n in (2, 3))
    nt = gpujit.nested.nested_tensor([gpujit.tensor(a), gpujit.tensor(b)],
                                     layout=gpujit.jagged, requires_grad=True)
    nt.softmax(1).values().pow(2).sum().backward()
    want = []
    for c in (a, b):
        s = np.exp(c - c.max(0)) / np.exp(c - c.max(0)).sum(0)
        g = 2 * s
        want.append(s * (g - (g * s).sum(0)))
    np.testing.assert_allclose(nt.grad.values().numpy(), np.concatenate(want), rtol=1e-5,
                               atol=1e-6)


def test_strided_where_matches_torch():
    torch = _torch()

    def run(m):
        a = m.nested.nested_tensor([m.tensor(A), m.tensor(B)])
        z = m.nested.nested_tensor([m.tensor(A) * 0, m.tensor(B) * 0])
        out = [[c.numpy() for c in m.where(a > 2, m.tensor(7.0), a).unbind()]]
        for call in (lambda: m.where(a > 2, a, z), lambda: m.where(a > 2, a, 0.0),
                     lambda: m.where(m.ones(3, dtype=m.bool), a, a)):
            try:
                call()
                out.append(None)
            except RuntimeError as e:
                out.append(str(e))
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g, t = run(gpujit), run(torch)
    assert g[1:] == t[1:]
    for x, y in zip(g[0], t[0]):
        np.testing.assert_array_equal(x, y)


def test_flatten_function_and_method_as_torch():
    jag = gpujit.nested.nested_tensor([gpujit.ones(2, 3, 2), gpujit.ones(1, 3, 2)],
                                      layout=gpujit.jagged)
    for f in (gpujit.flatten, lambda x, a, b: x.flatten(a, b)):
        assert str(f(jag, -2, -1).shape) == f"gpujit.Size([2, {jag.size(1)}, 6])"
    s = gpujit.nested.nested_tensor([gpujit.ones(2, 3, 2), gpujit.ones(1, 3, 2)])
    assert s.flatten(1, 1) is s and gpujit.flatten(s, -1, -1) is s
    with pytest.raises(RuntimeError, match="NestedTensorImpl doesn't support sizes"):
        gpujit.flatten(s, -2, -1)


def test_jagged_seqlens():
    nt = _jagged()
    assert (nt._max_seqlen, nt._min_seqlen) == (4, 2)
    j = gpujit.nested.nested_tensor_from_jagged(gpujit.ones(6, 3), gpujit.tensor([0, 2, 6]),
                                                max_seqlen=10)
    assert (j._max_seqlen, j._min_seqlen) == (10, 2)
    # (a given max_seqlen pads the ragged dim to it, for the ops keeping its offsets too)
    for x in (j, j * 2, j.softmax(-1)):
        assert tuple(x.to_padded_tensor(0.0).shape) == (2, 10, 3)
    assert tuple(gpujit.nested.to_padded_tensor(j, 0.0, (2, 12, 3)).shape) == (2, 12, 3)
