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


# ---------------------------------------------------------------- training the zoo

def _zoo(lib):
    tnn, tF = lib.nn, lib.nn.functional

    class MLP(tnn.Module):              # dropout, trained in eval mode
        def __init__(self):
            super().__init__()
            self.net = tnn.Sequential(tnn.Linear(6, 8), tnn.ReLU(), tnn.Dropout(0.5),
                                      tnn.Linear(8, 3))

        def forward(self, x):
            return self.net(x)

    class CNN(tnn.Module):              # (no conv bias: BatchNorm makes its gradient ~0,
        def __init__(self):             # which Adam would blow up to +-lr of noise)
            super().__init__()
            self.conv = tnn.Conv2d(2, 4, 3, padding=1, bias=False)
            self.bn = tnn.BatchNorm2d(4)
            self.pool = tnn.MaxPool2d(2)
            self.fc = tnn.Linear(16, 3)

        def forward(self, x):
            x = self.pool(tF.relu(self.bn(self.conv(x))))
            return self.fc(x.flatten(1))

    class RNN(tnn.Module):
        def __init__(self):
            super().__init__()
            self.emb = tnn.Embedding(10, 4)
            self.lstm = tnn.LSTM(4, 5, batch_first=True)
            self.fc = tnn.Linear(5, 3)

        def forward(self, x):
            out, _ = self.lstm(self.emb(x))
            return self.fc(out[:, -1])

    class TEL(tnn.Module):              # (bias-free: softmax makes the key bias's
        def __init__(self):             # gradient ~0, the same Adam noise)
            super().__init__()
            self.enc = tnn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                                   bias=False)
            self.fc = tnn.Linear(8, 3)

        def forward(self, x):
            return self.fc(self.enc(x).mean(1))

    class GRULoop(tnn.Module):
        def __init__(self):
            super().__init__()
            self.cell = tnn.GRUCell(4, 5)
            self.fc = tnn.Linear(5, 3)

        def forward(self, x):
            h = lib.zeros(x.size(0), 5)
            for t in range(x.size(1)):
                h = self.cell(x[:, t], h)
            return self.fc(h)

    class LNMLP(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = tnn.Linear(6, 8)
            self.ln = tnn.LayerNorm(8)
            self.fc2 = tnn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(tF.gelu(self.ln(self.fc1(x))))

    return {"mlp": MLP, "cnn": CNN, "rnn": RNN, "tel": TEL, "gru": GRULoop, "lnmlp": LNMLP}


_ZRNG = np.random.RandomState(0)
_ZIN = {"mlp": _ZRNG.randn(4, 6).astype(np.float32),
        "cnn": _ZRNG.randn(2, 2, 4, 4).astype(np.float32),
        "rnn": _ZRNG.randint(0, 10, (3, 5)),
        "tel": _ZRNG.randn(2, 3, 8).astype(np.float32),
        "gru": _ZRNG.randn(2, 3, 4).astype(np.float32),
        "lnmlp": _ZRNG.randn(4, 6).astype(np.float32)}
_ZT = {k: _ZRNG.randint(0, 3, (v.shape[0],)) for k, v in _ZIN.items()}
# (optimizer, lr scheduler, clip_grad_norm_, zero_grad(set_to_none))
_CONFIGS = [("sgd", None, False, True), ("adam", "step", True, False),
            ("adamw", "cos", True, True)]


def _train(lib, name, path, opt, sched, clip, set_to_none, steps=3):
    lib.manual_seed(0)
    m = _zoo(lib)[name]()
    if name == "mlp":
        m.eval()
    x, y = lib.tensor(_ZIN[name]), lib.tensor(_ZT[name])
    f = m
    if path == "script":
        f = lib.jit.script(m)
    elif path == "trace":           # traced once, the trace trained
        f = lib.jit.trace(m, (x,), check_trace=False)
    params = list(f.parameters())
    o = (lib.optim.SGD(params, lr=0.1, momentum=0.9) if opt == "sgd" else
         lib.optim.Adam(params, lr=0.01) if opt == "adam" else
         lib.optim.AdamW(params, lr=0.01, weight_decay=0.1))
    s = (lib.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5) if sched == "step" else
         lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=3) if sched == "cos" else None)
    hist = []
    for _ in range(steps):
        o.zero_grad(set_to_none=set_to_none)
        loss = lib.nn.functional.cross_entropy(f(x), y)
        loss.backward()
        if clip:
            lib.nn.utils.clip_grad_norm_(params, 0.5)
        o.step()
        if s is not None:
            s.step()
        hist.append([loss.detach().numpy().copy()] +
                    [t.detach().numpy().copy() for t in list(params) + list(f.buffers())])
    return hist


@pytest.mark.parametrize("path", ["eager", "script", "trace"])
@pytest.mark.parametrize("name", sorted(_ZIN))
def test_zoo_trains_as_torch(name, path):
    # 3 steps of SGD(momentum) / Adam + StepLR + clipping / AdamW(weight decay) +
    # CosineAnnealingLR, zero_grad both ways: parameters and buffers after each step are
    # torch's (the same path in torch: tracing runs the forward, so BatchNorm's running
    # stats count one batch more; torch 2.13 cannot script a bias-free
    # TransformerEncoderLayer ("'NoneType' object has no attribute or method 'dtype'" in
    # MultiheadAttention's fast-path test), so its eager run is the reference there)
    torch = pytest.importorskip("torch")
    for c in _CONFIGS:
        want = _train(torch, name, "eager" if name == "tel" else path, *c)
        got = _train(gpujit, name, path, *c)
        for gs, ws in zip(got, want):
            assert [g.shape for g in gs] == [w.shape for w in ws]
            for g, w in zip(gs, ws):
                np.testing.assert_allclose(g, w, rtol=2e-3, atol=2e-4, err_msg=str(c))


class _BNDrop(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.bn = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.drop(gpujit.relu(self.bn(self.fc1(x)))))


def test_scripted_train_eval_switching_and_state_dict_round_trip():
    # train() / eval() on a scripted module reach its submodules (dropout off, BatchNorm
    # on its running stats in eval; NumPy reference), training steps between them update
    # the eager module's parameters and buffers, and state_dicts go eager <-> scripted
    # (and through gpujit.save / load) with the same keys and values
    gpujit.manual_seed(0)
    m = _BNDrop()
    s = gpujit.jit.script(m)
    x, y = gpujit.tensor(_X), gpujit.tensor(np.array([0, 1, 2, 1, 0]))
    opt = gpujit.optim.SGD(s.parameters(), lr=0.1, momentum=0.9)
    for mode in ("train", "eval", "train", "eval"):
        getattr(s, mode)()
        # (the scripted module has its own flags: m.training stays True, as in torch)
        assert s.training == s.bn.training == s.drop.training == (mode == "train")
        assert m.training
        if mode == "train":
            opt.zero_grad()
            F.cross_entropy(s(x), y).backward()
            opt.step()
            continue
        with gpujit.no_grad():
            a, b = _np(s(x)), _np(s(x))
        h = np.maximum(0, (_X @ _np(m.fc1.weight).T + _np(m.fc1.bias) - _np(m.bn.running_mean))
                       / np.sqrt(_np(m.bn.running_var) + 1e-5) * _np(m.bn.weight)
                       + _np(m.bn.bias))
        np.testing.assert_allclose(a, b)
        np.testing.assert_allclose(a, h @ _np(m.fc2.weight).T + _np(m.fc2.bias), rtol=1e-5,
                                   atol=1e-5)
    assert int(m.bn.num_batches_tracked) == 2
    sd = s.state_dict()
    assert list(sd) == list(m.state_dict()) == [
        "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean",
        "bn.running_var", "bn.num_batches_tracked", "fc2.weight", "fc2.bias"]
    buf = io.BytesIO()
    gpujit.save(sd, buf)
    buf.seek(0)
    e = _BNDrop()
    assert str(e.load_state_dict(gpujit.load(buf))) == "<All keys matched successfully>"
    s2 = gpujit.jit.script(_BNDrop())
    s2.load_state_dict(e.state_dict())
    for t in (e, s2, s):
        t.eval()
    with gpujit.no_grad():
        np.testing.assert_allclose(_np(e(x)), _np(s(x)), rtol=1e-6)
        np.testing.assert_allclose(_np(s2(x)), _np(s(x)), rtol=1e-6)


@pytest.mark.parametrize("path", ["eager", "script", "trace"])
def test_mlp_sgd_momentum_numpy_reference(path):
    # Linear-Tanh-Linear, MSE, SGD(momentum=0.9, nesterov=False), clip_grad_norm_(1.0),
    # zero_grad(set_to_none=False): 3 steps against NumPy
    gpujit.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4))
    ps = [_np(p).astype(np.float64) for p in m.parameters()]
    f = {"eager": lambda: m, "script": lambda: gpujit.jit.script(m),
         "trace": lambda: gpujit.jit.trace(m, (gpujit.tensor(_X),), check_trace=False)}[path]()
    opt = gpujit.optim.SGD(f.parameters(), lr=0.1, momentum=0.9)
    buf = [np.zeros_like(p) for p in ps]
    for step in range(3):
        opt.zero_grad(set_to_none=False)
        out = f(gpujit.tensor(_X))
        ((out - gpujit.tensor(_T)) ** 2).mean().backward()
        gpujit.nn.utils.clip_grad_norm_(f.parameters(), 1.0)
        opt.step()
        W1, b1, W2, b2 = ps
        h = np.tanh(_X @ W1.T + b1)
        o = h @ W2.T + b2
        go = 2 * (o - _T) / o.size
        gh = go @ W2 * (1 - h * h)
        grads = [gh.T @ _X, gh.sum(0), go.T @ h, go.sum(0)]
        norm = np.sqrt(sum((g * g).sum() for g in grads))
        grads = [g * min(1.0, 1.0 / (norm + 1e-6)) for g in grads]
        for i, g in enumerate(grads):
            buf[i] = g if step == 0 else 0.9 * buf[i] + g
            ps[i] = ps[i] - 0.1 * buf[i]
        for p, w in zip(f.parameters(), ps):
            np.testing.assert_allclose(_np(p), w, rtol=1e-4, atol=1e-5)
