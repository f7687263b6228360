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
    assert "aten::is_nested" not in g and "prim::TensorExprGroup" in g
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
    assert "aten::is_nested" not in str(gpujit.jit.last_executed_optimized_graph())
