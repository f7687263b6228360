"""Scripting / tracing / freezing / saving stock nn modules (session 31, helper e31).

Each test builds a stock module, runs it eagerly and through gpujit.jit (script, trace,
freeze, save/load) and checks the results against NumPy or values checked with torch 2.13.
"""
import io

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn


def _np(t):
    return t.detach().numpy()


def _saved(m):
    buf = io.BytesIO()
    gpujit.jit.save(m, buf)
    buf.seek(0)
    return gpujit.jit.load(buf)


# ---------------------------------------------------------------- Embedding(max_norm)

@pytest.mark.parametrize("bag", [False, True])
def test_embedding_max_norm_traces(bag):
    # the renorm writes through weight.detach() (torch's _no_grad_embedding_renorm_): the
    # trace replayed embedding_renorm_ on the leaf weight itself and raised "a leaf Variable
    # that requires grad is being used in an in-place operation" on the check run
    gpujit.manual_seed(0)
    m = nn.EmbeddingBag(6, 3, max_norm=1.0) if bag else nn.Embedding(6, 3, max_norm=1.0)
    w0 = _np(m.weight).copy()
    x = gpujit.tensor([[0, 2, 2], [5, 1, 0]])
    t = gpujit.jit.trace(m, (x,))
    kinds = [n.kind() for n in t.graph.nodes()]
    assert "aten::detach" in kinds and "aten::embedding_renorm_" in kinds
    out = t(x)
    norms = np.linalg.norm(w0, axis=1)
    scale = np.where(norms > 1.0, 1.0 / (norms + 1e-7), 1.0)
    w = w0.copy()
    for i in (0, 1, 2, 5):
        w[i] = w0[i] * scale[i]
    np.testing.assert_allclose(_np(m.weight), w, rtol=1e-5, atol=1e-6)
    ref = w[x.numpy()].mean(1) if bag else w[x.numpy()]
    np.testing.assert_allclose(_np(out), ref, rtol=1e-5, atol=1e-6)
    assert m.weight.grad is None
    out.sum().backward()
    g = np.zeros_like(w)
    for row in x.numpy():
        for i in row:
            g[i] += 1.0 / 3 if bag else 1.0
    np.testing.assert_allclose(m.weight.grad.numpy(), g, rtol=1e-6)


def test_embedding_max_norm_scripted_renormalizes():
    # (torch 2.13's scripted F.embedding drops _no_grad_embedding_renorm_ altogether: it
    # returns the rows unnormalized; gpujit's script keeps the eager semantics)
    gpujit.manual_seed(0)
    m = nn.Embedding(6, 3, max_norm=0.5, norm_type=1.0, padding_idx=0)
    s = gpujit.jit.script(m)
    out = _saved(s)(gpujit.tensor([0, 2, 3]))
    np.testing.assert_allclose(np.abs(_np(out)).sum(-1), [0.0, 0.5, 0.5], rtol=1e-5)  # (row 0: padding_idx, zeros)


# ---------------------------------------------------------------- adaptive pools with None

def _adaptive_avg_ref(x, out):
    # x (..., H, W) -> out sizes (bins of start floor(i*H/o), end ceil((i+1)*H/o))
    dims = x.ndim - len(out)
    res = x
    for k, o in enumerate(out):
        ax = dims + k
        n = x.shape[ax]
        parts = [res.take(range(i * n // o, -(-(i + 1) * n // o)), axis=ax).mean(axis=ax, keepdims=True)
                 for i in range(o)]
        res = np.concatenate(parts, axis=ax)
    return res


@pytest.mark.parametrize("cls,size,shape", [
    (nn.AdaptiveAvgPool2d, (None, 2), (1, 2, 5, 7)),
    (nn.AdaptiveAvgPool3d, (None, 2, None), (1, 2, 3, 5, 4)),
    (nn.AdaptiveMaxPool2d, (3, None), (1, 2, 5, 7)),
])
def test_adaptive_pool_none_size_traces(cls, size, shape):
    # a None entry of output_size is the input's size there (torch's _list_with_default):
    # the trace recorded a list holding None ("a list mixing ['NoneType', 'int'] has no IR
    # type"); now aten::size of the input, so the traced module follows a new input's size
    m = cls(size)
    x = gpujit.randn(*shape)
    t = gpujit.jit.trace(m, (x,))
    assert "aten::size" in [n.kind() for n in t.graph.nodes()]
    x2 = gpujit.randn(*shape[:-1], shape[-1] + 1)
    for inp in (x, x2):
        out = _np(t(inp))
        full = [inp.shape[inp.dim() - len(size) + i] if v is None else v
                for i, v in enumerate(size)]
        assert list(out.shape[-len(size):]) == full
        if cls is not nn.AdaptiveMaxPool2d:
            np.testing.assert_allclose(out, _adaptive_avg_ref(inp.numpy(), full), rtol=1e-5,
                                       atol=1e-6)
        np.testing.assert_allclose(out, _np(m(inp)), rtol=1e-6)


# ---------------------------------------------------------------- padding modules' errors

@pytest.mark.parametrize("path", ["eager", "script", "trace"])
def test_pad_module_unsupported_size_error(path):
    # torch 2.13: NotImplementedError "Padding size 2 is not supported for 4D input tensor."
    # (gpujit raised RuntimeError with its own wording)
    m = nn.ReplicationPad1d((2, 1))
    x = gpujit.randn(2, 6, 2, 4)
    with pytest.raises(NotImplementedError, match=r"Padding size 2 is not supported for 4D "
                       r"input tensor\.\nSupported combinations for non-constant padding:"):
        if path == "eager":
            m(x)
        elif path == "script":
            gpujit.jit.script(m)(x)
        else:
            gpujit.jit.trace(m, (x,))
    with pytest.raises(NotImplementedError, match="^Unrecognised padding mode mirror$"):
        gpujit.nn.functional.pad(x, [1, 1], mode="mirror")


# ---------------------------------------------------------------- SoftMarginLoss's target

@pytest.mark.parametrize("scripted", [False, True])
def test_soft_margin_loss_target_requires_grad(scripted):
    # torch 2.13's aten::soft_margin_loss has no derivative for target: a target that
    # requires grad raises (not under no_grad); gpujit differentiated it silently
    m = nn.SoftMarginLoss()
    f = gpujit.jit.script(m) if scripted else m
    x = gpujit.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    y = gpujit.tensor([[1.0, -1.0], [-1.0, 1.0]], requires_grad=True)
    # (scripted: in torch 2.13's interpreter report, after its frames)
    with pytest.raises(RuntimeError, match=r"(^|\nRuntimeError: )The function "
                       r"'soft_margin_loss' is not "
                       r"differentiable with respect to argument 'target'\. This input "
                       r"cannot have requires_grad True\."):
        f(x, y)
    ref = np.log1p(np.exp(-x.detach().numpy() * y.detach().numpy())).mean()
    with gpujit.no_grad():
        np.testing.assert_allclose(f(x, y).item(), ref, rtol=1e-6)
    out = f(x, y.detach())
    out.backward()
    xn, yn = x.detach().numpy(), y.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), -yn / (1 + np.exp(xn * yn)) / 4, rtol=1e-5)


# ---------------------------------------------------------------- in-place activations

_MODIFIED = (r"^one of the variables needed for gradient computation has been modified by "
             r"an inplace operation: \[gpujit\.FloatTensor \[2, 3\]\], which is output 0 of "
             r"{node}, is at version 3; expected version 1 instead\.")


@pytest.mark.parametrize("path", ["eager", "script"])
def test_inplace_leaky_relu_keeps_its_result(path):
    # torch 2.13: leaky_relu_'s node (LeakyReluBackward1) keeps the result, so the next
    # in-place activations make backward raise; gpujit kept a copy of the input and
    # differentiated silently
    gpujit.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 3), nn.LeakyReLU(0.1, inplace=True),
                      nn.SiLU(inplace=True), nn.ELU(inplace=True))
    f = gpujit.jit.script(m) if path == "script" else m
    out = f(gpujit.randn(2, 3))
    with pytest.raises(RuntimeError, match=_MODIFIED.format(node="LeakyRelu1")):
        out.sum().backward()


@pytest.mark.parametrize("name,node", [("leaky_relu_", "LeakyReluBackward1"),
                                       ("elu_", "EluBackward1"), ("selu_", "EluBackward1"),
                                       ("celu_", "CeluBackward1")])
def test_inplace_elu_family_gradient_of_result(name, node):
    F = gpujit.nn.functional
    X = np.array([0.5, -1.0, 2.0, -0.25], np.float32)
    w = gpujit.ones(4, requires_grad=True)
    a = w * gpujit.tensor(X)
    r = getattr(F, name)(a)
    assert type(r.grad_fn).__name__ == node
    r.backward(gpujit.tensor([1.0, 2.0, 3.0, 4.0]))
    # the same values as the out-of-place op's gradient (values checked with torch 2.13)
    w2 = gpujit.ones(4, requires_grad=True)
    getattr(F, name[:-1])(w2 * gpujit.tensor(X)).backward(gpujit.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-6)
    # a write on the result before backward is the version error
    a = gpujit.ones(4, requires_grad=True) * gpujit.tensor(X)
    r = getattr(F, name)(a)
    r.mul_(2)
    with pytest.raises(RuntimeError, match=r"which is output 0 of %s, is at version 2; "
                       r"expected version 1" % node.replace("Backward", "")):
        r.sum().backward()


@pytest.mark.parametrize("call,msg", [
    (lambda F, a: F.leaky_relu_(a, -0.1), "In-place leakyReLu backward calculation is "
     "triggered with a negative slope which is not supported"),
    (lambda F, a: F.elu_(a, -1.0), "In-place elu backward calculation is triggered with a "
     "negative slope which is not supported"),
    (lambda F, a: F.celu_(a, -1.0), "In-place elu backward"),
])
def test_inplace_negative_slope_backward_raises(call, msg):
    w = gpujit.ones(3, requires_grad=True)
    a = w * gpujit.tensor([0.5, -1.0, 2.0])
    call(gpujit.nn.functional, a)
    with pytest.raises(RuntimeError, match="^" + msg):
        a.sum().backward()


def test_version_error_names_node_and_sizes_as_torch():
    # torch 2.13 prints the sizes as a list ([] for a 0-dim tensor) and the node's name
    # without Backward0 (Exp) / with its overload number (Pow1)
    w = gpujit.ones(3, requires_grad=True)
    c = gpujit.pow(w * 2, w * 3)
    c.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[gpujit\.FloatTensor \[3\]\], which is output 0 "
                       r"of Pow1,"):
        c.sum().backward()
    c = (w * 2).sum().exp()
    c.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[gpujit\.FloatTensor \[\]\], which is output 0 "
                       r"of Exp,"):
        c.backward()


# ---------------------------------------------------------------- live zoo (torch present)

_ZOO = {
    "conv2d_reflect": (lambda nn: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
                       [(1, 2, 4, 4)]),
    "bn2d": (lambda nn: nn.BatchNorm2d(3), [(2, 3, 2, 2)]),
    "lstm_bi": (lambda nn: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True),
                [(2, 3, 3)]),
    "mha": (lambda nn: nn.MultiheadAttention(4, 2), [(3, 2, 4), (2, 2, 4), (2, 2, 4)]),
    "tel_norm_first": (lambda nn: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0,
                                                             norm_first=True), [(3, 2, 4)]),
    "adaptive_none": (lambda nn: nn.AdaptiveMaxPool2d((2, None)), [(1, 2, 5, 3)]),
    "embedding_bag_max_norm": (lambda nn: nn.EmbeddingBag(5, 3, max_norm=1.0), "ints"),
}


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [t for e in o for t in _flat(e)]
    return [] if o is None else [o]


@pytest.mark.parametrize("path", ["script", "trace", "saveload"])
@pytest.mark.parametrize("name", sorted(_ZOO))
def test_zoo_matches_torch(name, path):
    torch = pytest.importorskip("torch")
    ctor, shapes = _ZOO[name]
    if name == "adaptive_none" and path != "trace":
        # torch 2.13 refuses to script it: F.adaptive_max_pool2d's output_size is
        # BroadcastingList2[int], and (2, None) is a Tuple[int, NoneType]
        with pytest.raises(Exception, match="Expected a value of type 'List\\[int\\]' for "
                                            "argument 'output_size'"):
            gpujit.jit.script(ctor(gpujit.nn))
        return
    rng = np.random.RandomState(0)
    arrays = ([np.array([[0, 2, 4], [1, 1, 3]])] if shapes == "ints" else
              [rng.randn(*s).astype(np.float32) for s in shapes])

    def run(lib, path):
        lib.manual_seed(0)
        m = ctor(lib.nn)
        xs = [lib.tensor(a) for a in arrays]
        for x in xs:
            if x.is_floating_point():
                x.requires_grad_(True)
        f = m
        if path == "script":
            f = lib.jit.script(m)
        elif path == "trace":
            f = lib.jit.trace(m, tuple(x.detach() for x in xs), check_trace=False)
        elif path == "saveload":
            buf = io.BytesIO()
            lib.jit.save(lib.jit.script(m), buf)
            buf.seek(0)
            f = lib.jit.load(buf)
        outs = _flat(f(*xs))
        sum(((o * (o.detach() + 1)).sum() for o in outs if o.requires_grad)).backward()
        params = list(f.parameters())
        return ([o.detach().numpy() for o in outs],
                [t.grad.numpy() for t in xs + params if t.grad is not None])

    want = run(torch, "eager")
    got = run(gpujit, path)
    for g, w in zip(got[0] + got[1], want[0] + want[1]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    assert [a.shape for a in got[0] + got[1]] == [a.shape for a in want[0] + want[1]]
