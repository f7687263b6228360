"""Training the module zoo compiled (session 32, helper d32).

In-place activation chains under fusion, rrelu_'s derivative of its result, and small
models trained a few optimizer steps eagerly, scripted and traced (values checked with
torch 2.13 or NumPy; the live comparisons with torch skip without it).
"""
import io

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn

F = gpujit.nn.functional


def _np(t):
    return t.detach().numpy()


# ---------------------------------------------------------------- in-place chains, fused

_CHAINS = {
    # (node named in torch 2.13's error, its version, the expected one)
    "lrelu_relu": (lambda: [nn.LeakyReLU(0.1, inplace=True), nn.ReLU(inplace=True)],
                   "LeakyRelu1", 2, 1),
    "lrelu_silu_elu": (lambda: [nn.LeakyReLU(0.1, inplace=True), nn.SiLU(inplace=True),
                                nn.ELU(inplace=True)], "LeakyRelu1", 3, 1),
    "elu_relu": (lambda: [nn.ELU(inplace=True), nn.ReLU(inplace=True)], "Elu1", 2, 1),
    "celu_hardtanh": (lambda: [nn.CELU(2.0, inplace=True), nn.Hardtanh(inplace=True)],
                      "Celu1", 2, 1),
}


@pytest.mark.parametrize("path", ["trace", "script"])
@pytest.mark.parametrize("name", sorted(_CHAINS))
def test_fused_inplace_chain_keeps_version_error(name, path):
    # leaky_relu_ / elu_ / celu_ keep their result: the next in-place activation makes
    # backward raise in torch 2.13 on every call. The fuser's functionalization (in-place
    # -> out-of-place inside a group) read the OUT-OF-PLACE op's derivative (of its input)
    # to decide whether autograd saved the value, so from the second call (fused) the
    # chain ran as one group and backward passed silently.
    acts, node, ver, want = _CHAINS[name]
    gpujit.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 3), *acts())
    x = gpujit.randn(2, 3)
    f = gpujit.jit.trace(m, (x,), check_trace=False) if path == "trace" else \
        gpujit.jit.script(m)
    for _ in range(3):
        out = f(x)
        with pytest.raises(RuntimeError, match=r"^one of the variables needed for gradient "
                           r"computation has been modified by an inplace operation: "
                           r"\[gpujit\.FloatTensor \[2, 3\]\], which is output 0 of "
                           r"%s, is at version %d; expected version %d instead\."
                           % (node, ver, want)):
            out.sum().backward()


@pytest.mark.parametrize("path", ["eager", "trace", "script"])
def test_fused_inplace_activation_then_pointwise_gradient(path):
    # an in-place activation followed by out-of-place ops is no error and fuses; the
    # gradient is eager's (NumPy reference)
    gpujit.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 3), nn.ELU(inplace=True), nn.Tanh())
    x = gpujit.randn(4, 3) * 3
    f = {"eager": lambda: m, "trace": lambda: gpujit.jit.trace(m, (x,), check_trace=False),
         "script": lambda: gpujit.jit.script(m)}[path]()
    W, b, X = _np(m[0].weight), _np(m[0].bias), x.numpy()
    h = X @ W.T + b
    e = np.where(h > 0, h, np.expm1(h))
    t = np.tanh(e)
    g = (1 - t * t) * np.where(h > 0, 1.0, e + 1.0)
    for _ in range(3):
        m.zero_grad()
        out = f(x)
        out.sum().backward()
        np.testing.assert_allclose(_np(out), t, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m[0].weight.grad.numpy(), g.T @ X, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- rrelu_

_X4 = [0.5, -1.0, 2.0, -4.0]


@pytest.mark.parametrize("training,lower,upper", [(False, 0.1, 0.3), (True, 0.1, 0.3),
                                                  (True, 0.2, 0.2), (True, -0.3, -0.1)])
def test_rrelu_inplace_keeps_result(training, lower, upper):
    # torch 2.13: rrelu_'s node is RreluWithNoiseBackward1, of its result (gpujit had the
    # out-of-place op's node and kept only the slopes): a later write is the version error
    gpujit.manual_seed(0)
    w = gpujit.ones(4, requires_grad=True)
    r = gpujit.rrelu_(w * gpujit.tensor(_X4), lower, upper, training)
    assert type(r.grad_fn).__name__ == "RreluWithNoiseBackward1"
    slope = _np(r) / np.array(_X4, np.float32)
    r.backward(gpujit.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_allclose(w.grad.numpy(), slope * np.array(_X4) * [1, 2, 3, 4],
                               rtol=1e-6)
    if not training:
        np.testing.assert_allclose(slope, [1, (lower + upper) / 2, 1, (lower + upper) / 2],
                                   rtol=1e-6)
    r = gpujit.rrelu_(gpujit.ones(4, requires_grad=True) * gpujit.tensor(_X4), lower,
                      upper, training)
    r.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[gpujit\.FloatTensor \[4\]\], which is output "
                       r"0 of RreluWithNoise1, is at version 2; expected version 1"):
        r.sum().backward()


def test_rrelu_inplace_eval_negative_slope_backward_raises():
    # eval (or a range under 1e-6) differentiates leaky_relu_'s way: a negative slope
    # cannot be inverted through the result (torch 2.13's words); training with a wider
    # range multiplies by the slopes drawn and is no error
    w = gpujit.ones(4, requires_grad=True)
    r = F.rrelu_(w * gpujit.tensor(_X4), -0.3, -0.1, training=False)
    with pytest.raises(RuntimeError, match=r"^In-place leakyReLu backward calculation is "
                       r"triggered with a negative slope which is not supported"):
        r.sum().backward()
    F.rrelu_(w * gpujit.tensor(_X4), -0.3, -0.1, training=True).sum().backward()


@pytest.mark.parametrize("path", ["eager", "trace", "script"])
def test_rrelu_module_inplace_eval(path):
    gpujit.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 3), nn.RReLU(0.1, 0.3, inplace=True)).eval()
    x = gpujit.randn(4, 3)
    f = {"eager": lambda: m, "trace": lambda: gpujit.jit.trace(m, (x,)),
         "script": lambda: gpujit.jit.script(m)}[path]()
    h = x.numpy() @ _np(m[0].weight).T + _np(m[0].bias)
    for _ in range(2):
        m.zero_grad()
        out = f(x)
        assert type(out.grad_fn).__name__ == "RreluWithNoiseBackward1"
        out.sum().backward()
        np.testing.assert_allclose(_np(out), np.where(h > 0, h, 0.2 * h), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(m[0].bias.grad.numpy(), np.where(h > 0, 1, 0.2).sum(0),
                                   rtol=1e-5)


# ---------------------------------------------------------------- strict_fusion regions, training

class _Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)
        self.scale = nn.Parameter(gpujit.ones(4))
        self.shift = nn.Parameter(gpujit.zeros(4))

    def forward(self, x):
        h = self.fc(x)
        with gpujit.jit.strict_fusion():
            y = gpujit.tanh(h) * self.scale + self.shift
            y = y * gpujit.sigmoid(y)
        return y


_RNG = np.random.RandomState(0)
_X = _RNG.randn(5, 6).astype(np.float32)
_T = _RNG.randn(5, 4).astype(np.float32)


@pytest.mark.parametrize("path", ["script", "trace"])
def test_strict_fusion_region_trains_fused(path):
    # a `with strict_fusion():` in scripted code made alias analysis see its (opaque)
    # prim::Enter / prim::Exit as writes of every input, so the group inside looked
    # "written after it" and a call recording gradients ran it op by op (MulBackward0),
    # silently, inside the strict region. Now one fused backward node (CppFunction),
    # and the parameters after 4 SGD steps are eager's.
    def train(f, params):
        opt = gpujit.optim.SGD(params, lr=0.1, momentum=0.9)
        kinds = []
        for _ in range(4):
            opt.zero_grad()
            out = f(gpujit.tensor(_X))
            kinds.append(type(out.grad_fn).__name__)
            ((out - gpujit.tensor(_T)) ** 2).mean().backward()
            opt.step()
        return kinds, [_np(p).copy() for p in params]

    gpujit.manual_seed(0)
    ref = _Head()
    _, want = train(ref, list(ref.parameters()))
    gpujit.manual_seed(0)
    m = _Head()
    f = gpujit.jit.script(m) if path == "script" else \
        gpujit.jit.trace(m, (gpujit.tensor(_X),), check_trace=False)
    kinds, got = train(f, list(f.parameters()))
    assert kinds[1:] == ["CppFunction"] * 3
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@gpujit.jit.script
def _written_after(x, w):
    with gpujit.jit.strict_fusion():
        y = (x + w).sigmoid() * 2
    x.add_(1)
    return y


@gpujit.jit.script
def _written_after_plain(x, w):
    y = (x + w).sigmoid() * 2
    x.add_(1)
    return y


def test_strict_region_group_run_op_by_op_raises():
    # a group whose input is written after it runs op by op when recording gradients
    # (its fused backward would save that input): inside strict_fusion that passed
    # silently; now StrictFusionError saying why. Outside, the gradient is eager's.
    w = gpujit.ones(4, requires_grad=True)
    _written_after(gpujit.randn(4), w)          # (profiling call: exempt)
    with pytest.raises(gpujit.jit.StrictFusionError, match=r"(?s)^Found unfused operators "
                       r"inside strict_fusion:.*an input of its fusion group is written in "
                       r"place after it"):
        _written_after(gpujit.randn(4), w)
    with gpujit.no_grad():
        _written_after(gpujit.randn(4), w)      # (fused: no error)
    for i in range(3):
        X = np.random.RandomState(i).randn(4).astype(np.float32)
        w = gpujit.ones(4, requires_grad=True)
        x = gpujit.tensor(X)
        _written_after_plain(x, w).sum().backward()
        s = 1 / (1 + np.exp(-(X + 1)))
        np.testing.assert_allclose(w.grad.numpy(), 2 * s * (1 - s), rtol=1e-5)
        np.testing.assert_allclose(x.numpy(), X + 1)
