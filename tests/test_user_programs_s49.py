"""User programs of session 49 (f49): realistic scripts (char-RNN, VAE, GAN step, seq2seq
with attention, ResNet block, U-Net, Transformer decoder, custom autograd Functions,
hooks, bfloat16 autocast with GradScaler, lr schedulers ...) run with gpujit and, where
torch is importable, compared with torch 2.13. Expected values are also pinned in the
tests (computed with torch 2.13 on the CPU) so that they run without torch (CI has none)."""
import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F


def _torch():
    return pytest.importorskip("torch")


# ------------------------------------- custom autograd.Function: its node's repr

def _my_exp(lib):
    class MyExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            y = lib.exp(x * k)
            ctx.save_for_backward(y)
            ctx.k = k
            return y

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y * ctx.k, None
    return MyExp


def test_custom_function_node_repr_is_its_python_class():
    # a custom Function's node is a Python class in PyTorch
    # (torch.autograd.function.MyExpBackward): its repr is object's, module-qualified,
    # where the C++ nodes print their bare name (<MulBackward0 object at 0x...>)
    x = gpujit.tensor([0.5, -1.0], requires_grad=True)
    y = _my_exp(gpujit).apply(x, 2.0)
    r = repr(y.grad_fn)
    assert r.startswith("<gpujit.autograd.function.MyExpBackward object at 0x"), r
    assert type(y.grad_fn).__name__ == "MyExpBackward" == y.grad_fn.name()
    assert repr((x * 2).grad_fn).startswith("<MulBackward0 object at 0x")
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * np.array([0.5, -1.0])),
                               rtol=1e-6)


def test_custom_function_node_repr_matches_torch():
    torch = _torch()
    reprs = []
    for lib in (torch, gpujit):
        y = _my_exp(lib).apply(lib.ones(2, requires_grad=True), 2.0)
        reprs.append(repr(y.grad_fn).split(" object at ")[0].replace("gpujit.", "torch."))
    assert reprs[0] == reprs[1]


# --------------- bfloat16 LayerNorm backward (autocast training): ATen's kernel's steps

def _ln_inputs():
    x = np.sin(np.arange(40, dtype=np.float32) * 0.7).reshape(5, 8) * 2
    g = np.cos(np.arange(40, dtype=np.float32) * 1.3).reshape(5, 8)
    w = (np.arange(8, dtype=np.float32) - 3.5) / 3
    b = np.linspace(-1, 1, 8, dtype=np.float32)
    return x, g, w, b


def _ln_grads(lib, threads, wdt):
    x, g, w, b = _ln_inputs()
    was = lib.get_num_threads()
    lib.set_num_threads(threads)
    try:
        X = lib.tensor(x).bfloat16().requires_grad_()
        W = lib.tensor(w).to(wdt).requires_grad_()
        B = lib.tensor(b).to(wdt).requires_grad_()
        y = lib.nn.functional.layer_norm(X, (8,), W, B)
        y.backward(lib.tensor(g).bfloat16())
    finally:
        lib.set_num_threads(was)
    assert y.dtype == lib.bfloat16 and X.grad.dtype == lib.bfloat16
    assert W.grad.dtype == wdt and B.grad.dtype == wdt
    return W.grad.tolist(), B.grad.tolist(), X.grad[1].tolist()


# torch 2.13 (CPU): a bfloat16 input with float32 (mixed type) or bfloat16 parameters;
# dgamma / dbeta go through one bfloat16 buffer per thread (ATen's two-pass reduction),
# so they depend on torch.get_num_threads()
_LN_EXPECTED = {
    (1, "float32"): ([0.2490234375, -0.0123291015625, -0.92578125, -0.306640625,
                      0.003753662109375, -0.58203125, 0.2470703125, 0.93359375],
                     [0.3203125, 0.859375, 0.140625, -0.78515625, -0.5625, 0.48828125,
                      0.8203125, -0.046875]),
    (2, "float32"): ([0.24609375, -0.015625, -0.923828125, -0.306884765625, 0.00341796875,
                      -0.5859375, 0.25, 0.93359375],
                     [0.31640625, 0.859375, 0.1396484375, -0.78515625, -0.55859375,
                      0.48828125, 0.81640625, -0.046875]),
    (4, "float32"): ([0.248046875, -0.01171875, -0.921875, -0.305419921875, 0.0078125,
                      -0.58203125, 0.24786376953125, 0.9365234375],
                     [0.31640625, 0.859375, 0.140625, -0.786865234375, -0.5625, 0.48828125,
                      0.8203125, -0.046875]),
    (1, "bfloat16"): ([0.2490234375, -0.010986328125, -0.921875, -0.3046875, 0.0078125,
                       -0.58203125, 0.2451171875, 0.93359375],
                      [0.3203125, 0.859375, 0.140625, -0.78515625, -0.5625, 0.48828125,
                       0.8203125, -0.046875]),
    (2, "bfloat16"): ([0.24609375, -0.0078125, -0.921875, -0.3046875, 0.00830078125,
                       -0.5859375, 0.25, 0.9296875],
                      [0.31640625, 0.859375, 0.1396484375, -0.78515625, -0.55859375,
                       0.48828125, 0.81640625, -0.046875]),
}
_LN_DX = {"float32": [0.06591796875, -0.546875, -0.1884765625, 0.330078125, 0.12255859375,
                      -0.138671875, 0.1943359375, 0.1611328125],
          "bfloat16": [0.06689453125, -0.546875, -0.1884765625, 0.328125, 0.12060546875,
                       -0.138671875, 0.1943359375, 0.162109375]}


@pytest.mark.parametrize("threads,wname", sorted(_LN_EXPECTED))
def test_bfloat16_layer_norm_backward_is_atens_bit_for_bit(threads, wname):
    gw, gb, gx = _ln_grads(gpujit, threads, getattr(gpujit, wname))
    assert (gw, gb) == _LN_EXPECTED[(threads, wname)]
    assert gx == _LN_DX[wname]


@pytest.mark.parametrize("threads", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("wname", ["float32", "bfloat16"])
def test_bfloat16_layer_norm_backward_matches_torch(threads, wname):
    torch = _torch()
    assert _ln_grads(gpujit, threads, getattr(gpujit, wname)) == \
        _ln_grads(torch, threads, getattr(torch, wname))


def test_layer_norm_backward_under_autocast_with_grad_scaler_matches_torch():
    # a bfloat16 autocast training step: Linear -> GELU -> LayerNorm (float32 parameters,
    # bfloat16 activations: the mixed-type kernel) -> Linear, scaled loss, unscale_, clip
    torch = _torch()
    got = []
    for lib in (torch, gpujit):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.GELU(), lib.nn.LayerNorm(8),
                              lib.nn.Linear(8, 3))
        opt = lib.optim.SGD(m.parameters(), lr=0.05)
        scaler = lib.amp.GradScaler("cpu", init_scale=2. ** 8, growth_interval=2)
        X, Y = lib.randn(8, 6), lib.randint(0, 3, (8,))
        out = []
        for step in range(2):
            with lib.autocast("cpu", dtype=lib.bfloat16):
                loss = lib.nn.functional.cross_entropy(m(X), Y)
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            out.append(m[2].weight.grad.tolist() + m[2].bias.grad.tolist())
            out.append(lib.nn.utils.clip_grad_norm_(m.parameters(), 0.5).item())
            scaler.step(opt)
            scaler.update()
            opt.zero_grad()
        out.append(scaler.get_scale())
        got.append(out)
    assert got[0] == got[1]


# ------------------------ softmax / log_softmax / cross_entropy: ATen's last-dim kernels

def _sm_inputs(n):
    x = (np.sin(np.arange(3 * n, dtype=np.float32) * 1.7) * 5).reshape(3, n)
    g = np.cos(np.arange(3 * n, dtype=np.float32) * 0.9).reshape(3, n)
    return x, g


def _sm_run(lib, fn, n):
    x, g = _sm_inputs(n)
    xt = lib.tensor(x, requires_grad=True)
    y = getattr(lib, fn)(xt, -1)
    y.backward(lib.tensor(g))
    return y.detach().numpy(), xt.grad.numpy()


def test_softmax_over_the_last_dim_is_atens_bit_for_bit():
    # torch 2.13 (CPU): exp by Sleef's expf_u10, the row sum in the vector lanes' order,
    # times 1 / sum (a row of 7: below one vector, the same on AVX2 and AVX512)
    y, gx = _sm_run(gpujit, "softmax", 7)
    assert y[1].tolist() == [0.00019767350750043988, 0.3190523386001587, 0.03160283714532852,
                             3.552770795067772e-05, 0.002063809661194682, 0.644522488117218,
                             0.002525300718843937]
    assert gx[2].tolist() == [5.783926462754607e-05, 0.02855706214904785, -0.08022916316986084,
                              -0.00028894428396597505, -0.00013512225996237248,
                              -0.020961470901966095, 0.07299978286027908]
    # (the float64 reference rounds two of them the other way)
    x, _ = _sm_inputs(7)
    ref = np.exp(x[1].astype(np.float64) - x[1].max())
    np.testing.assert_allclose(y[1], ref / ref.sum(), rtol=1e-6)


def test_log_softmax_and_cross_entropy_are_atens_bit_for_bit():
    y, gx = _sm_run(gpujit, "log_softmax", 7)
    assert y[1].tolist() == [-8.52889347076416, -1.1424001455307007, -3.4545083045959473,
                             -10.245197296142578, -6.183201789855957, -0.4392455518245697,
                             -5.981395244598389]
    assert gx[2].tolist() == [0.999433696269989, 0.594204306602478, -0.2694720923900604,
                              -0.9179368615150452, -0.8813761472702026, -0.18349330127239227,
                              0.6586405038833618]
    x, _ = _sm_inputs(7)
    xt = gpujit.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, gpujit.tensor([3, 6, 0]))
    loss.backward()
    assert loss.item() == 8.606645584106445
    assert xt.grad[0].tolist() == [0.0015896514523774385, 0.2262948751449585,
                                   0.0004429974069353193, -0.3333178162574768,
                                   0.018804246559739113, 0.08613800257444382,
                                   4.8033238272182643e-05]


@pytest.mark.parametrize("n", [1, 2, 7, 15, 16, 17, 33, 100, 1000])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_last_dim_bits_match_torch(fn, n):
    torch = _torch()
    for a, b in zip(_sm_run(gpujit, fn, n), _sm_run(torch, fn, n)):
        assert np.array_equal(a, b)


def test_cross_entropy_training_step_matches_torch():
    # a classifier's step: Linear -> cross_entropy (class indices), SGD
    torch = _torch()
    if torch.backends.cpu.get_cpu_capability() != "AVX512":
        pytest.skip("torch's bits here are its AVX512 kernels' (this CPU runs its AVX2 code)")
    got = []
    for lib in (torch, gpujit):
        lib.manual_seed(3)
        m = lib.nn.Linear(5, 24)
        x, t = lib.randn(16, 5), lib.randint(0, 24, (16,))
        loss = lib.nn.functional.cross_entropy(m(x), t)
        loss.backward()
        got.append((loss.item(), m.weight.grad.tolist(), lib.softmax(m(x), -1).tolist()))
    assert got[0] == got[1]


# -------------- torch.distributions: lazy properties record gradients in any grad mode

def test_categorical_probs_read_under_no_grad_keep_their_grad_fn():
    # Categorical.sample reads self.probs under no_grad; torch's lazy_property computes
    # under enable_grad, so the cached probs still carry the graph of the logits
    from gpujit.distributions import Categorical
    from gpujit.distributions.utils import lazy_property
    logits = gpujit.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    d = Categorical(logits=logits)
    d.sample()
    assert d.probs.grad_fn is not None and d.probs.requires_grad
    d.probs[0, 2].backward()
    assert logits.grad is not None
    with gpujit.no_grad():      # (built under no_grad: its normalized logits have none)
        p = Categorical(logits=logits).probs
    assert not p.requires_grad
    desc = Categorical.__dict__["probs"]
    assert isinstance(desc, lazy_property)
    got = Categorical.probs      # (read from the class: a property too, as torch's)
    assert isinstance(got, property) and isinstance(got, lazy_property)


def test_categorical_lazy_probs_match_torch():
    torch = _torch()
    out = []
    for lib in (torch, gpujit):
        d = lib.distributions.Categorical(logits=lib.tensor([[0.5, -1.0, 2.0]],
                                                             requires_grad=True))
        d.sample()
        out.append((type(d.probs.grad_fn).__name__, d.probs.requires_grad,
                    isinstance(type(d).probs, property)))
    assert out[0] == out[1]


# ------------------ deprecated torch.nn.utils.weight_norm: the warning's location

def test_old_weight_norm_warns_inside_the_library_as_torch():
    # torch's @deprecated WeightNorm.apply names its caller, torch's weight_norm function
    import warnings
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        gpujit.nn.utils.weight_norm(nn.Linear(3, 2))
    (rec,) = [r for r in w if r.category is FutureWarning]
    assert "parametrizations.weight_norm" in str(rec.message)
    assert rec.filename.replace("\\", "/").endswith("nn/utils/weight_norm.py")


# ------------------------- F.embedding_bag: a 2-D input with offsets, torch's words

def test_embedding_bag_2d_input_with_offsets_names_the_offsets_type():
    w = gpujit.ones(5, 2)
    with pytest.raises(ValueError, match=r"found offsets of type <class '.*Tensor'>$"):
        F.embedding_bag(gpujit.tensor([[1, 2]]), w, gpujit.tensor([0]))

    @gpujit.jit.script
    def bags(inp, w, offs):
        return F.embedding_bag(inp, w, offs, mode="sum")
    assert bags(gpujit.tensor([1, 2, 3]), w, gpujit.tensor([0, 1])).tolist() == \
        [[1.0, 1.0], [2.0, 2.0]]
    # (scripted: torch's F.embedding_bag leaves type() to eager code)
    with pytest.raises(Exception, match="found offsets of type <unknown>"):
        bags(gpujit.tensor([[1, 2]]), w, gpujit.tensor([0]))


def test_embedding_bag_offsets_words_match_torch():
    torch = _torch()
    msgs = []
    for lib in (torch, gpujit):
        try:
            lib.nn.functional.embedding_bag(lib.tensor([[1, 2]]), lib.ones(5, 2),
                                            lib.tensor([0]))
        except ValueError as e:
            msgs.append(str(e).replace("gpujit", "torch"))
    assert len(msgs) == 2 and msgs[0] == msgs[1]


# ----------------------- einsum's grad_fn: the node of the composite's last op

# torch 2.13: one operand is a permute or a sum; pairs end in bmm + view, or a mul
_EINSUM_NODES = [("bij,bjk->bik", "ViewBackward0"), ("bij,bjk->bki", "ViewBackward0"),
                 ("ij,jk", "ViewBackward0"), ("i,j->ij", "MulBackward0"),
                 ("ij,ij->ij", "MulBackward0"), ("ij,ij->i", "ViewBackward0"),
                 ("ij->ji", "PermuteBackward0"), ("ij->ij", "PermuteBackward0"),
                 ("ij->j", "SumBackward1"), ("ii->i", "PermuteBackward0"),
                 ("ii", "SumBackward1"), ("ij,k->k", "ViewBackward0"),
                 ("b i j, b j k -> b i k", "ViewBackward0"),
                 ("...ij,...jk", "ViewBackward0")]


def _einsum_operands(lib, eq):
    shapes = {"bij,bjk->bik": [(2, 3, 4), (2, 4, 5)], "bij,bjk->bki": [(2, 3, 4), (2, 4, 5)],
              "ij,jk": [(3, 4), (4, 5)], "i,j->ij": [(3,), (4,)], "ij,ij->ij": [(3, 4)] * 2,
              "ij,ij->i": [(3, 4)] * 2, "ij->ji": [(3, 4)], "ij->ij": [(3, 4)],
              "ij->j": [(3, 4)], "ii->i": [(3, 3)], "ii": [(3, 3)],
              "ij,k->k": [(3, 4), (5,)], "b i j, b j k -> b i k": [(2, 3, 4), (2, 4, 5)],
              "...ij,...jk": [(2, 3, 4), (2, 4, 5)]}[eq]
    return [lib.ones(*s, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("eq,node", _EINSUM_NODES)
def test_einsum_grad_fn_is_the_composites_last_node(eq, node):
    r = gpujit.einsum(eq, *_einsum_operands(gpujit, eq))
    assert type(r.grad_fn).__name__ == node


def test_einsum_grad_fn_matches_torch():
    torch = _torch()
    for eq, _ in _EINSUM_NODES + [("bij,bjk,bkl->bil", None)]:
        names = []
        for lib in (torch, gpujit):
            ops = _einsum_operands(lib, eq) if eq != "bij,bjk,bkl->bil" else [
                lib.ones(2, 3, 4, requires_grad=True), lib.ones(2, 4, 5),
                lib.ones(2, 5, 6)]
            names.append(lib.einsum(eq, *ops).grad_fn.name())
        assert names[0] == names[1], eq
