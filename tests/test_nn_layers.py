"""gpujit.nn layers and losses: forward values and shapes against NumPy references."""
import math

import numpy as np
import pytest

import gpujit as torch
from gpujit import nn

RNG = np.random.default_rng(1)


def T(a, dtype=None):
    return torch.tensor(np.asarray(a), dtype=dtype)


def npy(t):
    return t.detach().numpy()


def check(out, ref, rtol=1e-5, atol=1e-5, dtype=torch.float32):
    assert isinstance(out, torch.Tensor)
    assert tuple(out.shape) == np.shape(ref), (tuple(out.shape), np.shape(ref))
    assert out.dtype == dtype
    np.testing.assert_allclose(npy(out), ref, rtol=rtol, atol=atol)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


_erf = np.vectorize(math.erf)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_conv2d(x, w, b, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    ho = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, ho, wo), np.float64)
    og = o // groups
    for g in range(groups):
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dilation[0], j * dilation[1]
                patch = xs[:, :, r0:r0 + stride[0] * (ho - 1) + 1:stride[0],
                           c0:c0 + stride[1] * (wo - 1) + 1:stride[1]]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch,
                                                         w[g * og:(g + 1) * og, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


# ---------------------------------------------------------------------- linear, conv

def test_linear_and_identity():
    m = nn.Linear(5, 3)
    assert tuple(m.weight.shape) == (3, 5) and tuple(m.bias.shape) == (3,)
    x = randn(2, 4, 5)
    check(m(T(x)), x @ npy(m.weight).T + npy(m.bias))
    m = nn.Linear(5, 3, bias=False)
    assert m.bias is None
    check(m(T(x)), x @ npy(m.weight).T)
    t = T(x)
    assert nn.Identity(3, foo=1)(t) is t
    m = nn.Linear(5, 3, dtype=torch.float64)
    assert m.weight.dtype == torch.float64 and m(T(x, torch.float64)).dtype == torch.float64


def test_bilinear():
    m = nn.Bilinear(3, 4, 2)
    x1, x2 = randn(5, 3), randn(5, 4)
    ref = np.einsum("bi,oij,bj->bo", x1, npy(m.weight), x2) + npy(m.bias)
    check(m(T(x1), T(x2)), ref)
    check(m(T(x1[None]), T(x2[None])), ref[None])


@pytest.mark.parametrize("kw", [
    {}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": (1, 2)}, {"groups": 2},
    {"bias": False}, {"padding": "same"}, {"padding": 1, "padding_mode": "circular"},
    {"padding": (1, 2), "padding_mode": "reflect"}, {"padding": 2, "padding_mode": "replicate"},
])
def test_conv2d(kw):
    m = nn.Conv2d(4, 6, 3, **kw)
    x = randn(2, 4, 7, 8)
    w, b = npy(m.weight), (None if m.bias is None else npy(m.bias))
    mode = kw.get("padding_mode", "zeros")
    pad = kw.get("padding", 0)
    if pad == "same":
        pad = 1
    pad = (pad, pad) if isinstance(pad, int) else pad
    xp = x
    if mode != "zeros":
        np_mode = {"circular": "wrap", "reflect": "reflect", "replicate": "edge"}[mode]
        xp = np.pad(x, ((0, 0), (0, 0), (pad[0],) * 2, (pad[1],) * 2), mode=np_mode)
        pad = (0, 0)
    ref = np_conv2d(xp, w, b, (kw.get("stride", 1),) * 2, pad, (kw.get("dilation", 1),) * 2,
                    kw.get("groups", 1))
    check(m(T(x)), ref, rtol=1e-4, atol=1e-5)


def test_conv1d_and_conv_errors():
    m = nn.Conv1d(3, 4, 3, stride=2, padding=1)
    assert tuple(m.weight.shape) == (4, 3, 3)
    x = randn(2, 3, 9)
    ref = np_conv2d(x[:, :, None], npy(m.weight)[:, :, None], npy(m.bias), (1, 2), (0, 1))
    check(m(T(x)), ref[:, :, 0], rtol=1e-4)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(2, 2, 3, padding_mode="mirror")


# ---------------------------------------------------------------------- pooling

def test_pooling():
    x = randn(2, 3, 6, 7)
    out = nn.MaxPool2d(2)(T(x))
    check(out, x[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))
    out = nn.AvgPool2d(2)(T(x))
    check(out, x[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2).mean(axis=(3, 5)))
    # kernel 3, stride 2, padding 1: padded max with -inf, padded mean counts the zeros
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    ref = np.stack([np.stack([xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3].max(axis=(2, 3))
                              for j in range(4)], -1) for i in range(3)], -2)
    check(nn.MaxPool2d(3, 2, 1)(T(x)), ref)
    xz = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = np.stack([np.stack([xz[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3].mean(axis=(2, 3))
                              for j in range(4)], -1) for i in range(3)], -2)
    check(nn.AvgPool2d(3, 2, 1)(T(x)), ref)
    # adaptive: bins [floor(i*H/oh), ceil((i+1)*H/oh))
    oh, ow = 4, 3
    ref = np.stack([np.stack([
        x[:, :, (i * 6) // oh:-(-(i + 1) * 6 // oh), (j * 7) // ow:-(-(j + 1) * 7 // ow)]
        .mean(axis=(2, 3)) for j in range(ow)], -1) for i in range(oh)], -2)
    check(nn.AdaptiveAvgPool2d((oh, ow))(T(x)), ref)
    check(nn.AdaptiveAvgPool2d(1)(T(x)), x.mean(axis=(2, 3), keepdims=True))


# ---------------------------------------------------------------------- normalization

def test_batchnorm2d_train_and_eval():
    m = nn.BatchNorm2d(3)
    assert npy(m.weight).tolist() == [1, 1, 1] and npy(m.bias).tolist() == [0, 0, 0]
    x = randn(4, 3, 5, 5) * 2 + 1
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    ref = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    check(m(T(x)), ref, rtol=1e-4, atol=1e-4)
    n = x.size / 3
    np.testing.assert_allclose(npy(m.running_mean), 0.1 * mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(npy(m.running_var), 0.9 + 0.1 * var * n / (n - 1), rtol=1e-4)
    assert int(m.num_batches_tracked) == 1
    m.eval()
    rm, rv = npy(m.running_mean).copy(), npy(m.running_var).copy()
    ref = (x - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
    check(m(T(x)), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(npy(m.running_mean), rm)   # eval leaves stats alone
    assert int(m.num_batches_tracked) == 1
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        m(T(x[0]))


def test_batchnorm_training_backward_and_a_module_used_twice():
    # aten::batch_norm writes its running statistics in place (their version goes up),
    # and its backward saved them: every training backward raised "modified by an
    # inplace operation"
    x = randn(6, 3) * 2 + 1
    for train in (True, False):
        m = nn.BatchNorm1d(3)
        m.train(train)
        xt = T(x).requires_grad_()
        y = m(xt)
        z = m(y * 0.5 + 1.0)              # the same module (and statistics) twice
        (z * z).sum().backward()
        # the same computation from primitive ops, eagerly differentiated
        xr = T(x).requires_grad_()
        rm, rv = torch.zeros(3), torch.ones(3)

        def bn(v):
            if not train:
                return (v - rm) / (rv + 1e-5).sqrt()
            mu = v.mean(0, keepdim=True)
            return (v - mu) / (((v - mu) ** 2).mean(0, keepdim=True) + 1e-5).sqrt()
        zr = bn(bn(xr) * 0.5 + 1.0)
        (zr * zr).sum().backward()
        np.testing.assert_allclose(npy(xt.grad), npy(xr.grad), rtol=1e-4, atol=1e-5)
        assert m.weight.grad is not None and tuple(m.weight.grad.shape) == (3,)


def test_batchnorm1d_cumulative_and_no_stats():
    m = nn.BatchNorm1d(4, momentum=None)
    a, b = randn(6, 4), randn(6, 4)
    m(T(a))
    m(T(b))
    assert int(m.num_batches_tracked) == 2
    np.testing.assert_allclose(npy(m.running_mean), (a.mean(0) + b.mean(0)) / 2, rtol=1e-4,
                               atol=1e-6)
    m = nn.BatchNorm1d(4, affine=False, track_running_stats=False).eval()
    assert m.running_mean is None and list(m.state_dict()) == []
    x = randn(5, 4, 3)
    ref = (x - x.mean(axis=(0, 2), keepdims=True)) / np.sqrt(
        x.var(axis=(0, 2), keepdims=True) + 1e-5)
    check(m(T(x)), ref, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        m(T(randn(4)))


def test_layer_norm_and_group_norm():
    x = randn(2, 3, 4, 5)
    m = nn.LayerNorm((4, 5))
    assert tuple(m.weight.shape) == (4, 5)
    mu = x.mean(axis=(2, 3), keepdims=True)
    ref = (x - mu) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-5)
    check(m(T(x)), ref, rtol=1e-4, atol=1e-4)
    m = nn.LayerNorm(5, elementwise_affine=False)
    assert m.weight is None and list(m.parameters()) == []
    g = nn.GroupNorm(3, 3 * 2, eps=1e-3)
    x = randn(2, 6, 4)
    xg = x.reshape(2, 3, -1)
    ref = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-3))
    check(g(T(x)), ref.reshape(2, 6, 4), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)


# ---------------------------------------------------------------------- dropout, embedding, shape

def test_dropout():
    x = np.abs(randn(200, 50)) + 0.1
    m = nn.Dropout(0.25)
    y = npy(m(T(x)))
    zero = y == 0
    np.testing.assert_allclose(y[~zero], x[~zero] / 0.75, rtol=1e-6)
    assert 0.15 < zero.mean() < 0.35
    m.eval()
    np.testing.assert_array_equal(npy(m(T(x))), x)
    np.testing.assert_array_equal(npy(nn.Dropout(0.0)(T(x))), x)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_embedding():
    m = nn.Embedding(10, 3, padding_idx=-1)
    assert m.padding_idx == 9 and npy(m.weight)[9].tolist() == [0, 0, 0]
    idx = np.array([[1, 9], [4, 1]])
    out = m(T(idx))
    check(out, npy(m.weight)[idx])
    w = randn(4, 2)
    e = nn.Embedding.from_pretrained(T(w))
    assert not e.weight.requires_grad
    check(e(T([3, 0])), w[[3, 0]])


def test_flatten_unflatten():
    x = randn(2, 3, 4, 5)
    check(nn.Flatten()(T(x)), x.reshape(2, 60))
    check(nn.Flatten(0, 2)(T(x)), x.reshape(24, 5))
    check(nn.Unflatten(1, (3, 4))(T(x.reshape(2, 12, 5))), x)
    y = randn(2, 6)
    check(nn.Unflatten(-1, (2, -1))(T(y)), y.reshape(2, 2, 3))
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 1"):
        nn.Unflatten(1, (4, -1))(T(y))
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, (2, 2.0))



def test_unflatten_and_bilinear_script():
    # Unflatten's list(self.unflattened_size) (a Tuple) and Bilinear's getattr(F, ...)
    # did not compile: torch.jit.script of either module raised
    y = randn(2, 6)
    u = torch.jit.script(nn.Unflatten(-1, (2, -1)))
    for _ in range(2):
        check(u(T(y)), y.reshape(2, 2, 3))
    with pytest.raises(RuntimeError, match="don't multiply up to the size of dim 1"):
        torch.jit.script(nn.Unflatten(1, (4, -1)))(T(y))
    for bias in (True, False):
        m = nn.Bilinear(3, 4, 2, bias=bias)
        s = torch.jit.script(m)
        a, b = T(randn(5, 3)), T(randn(5, 4))
        for _ in range(2):
            np.testing.assert_allclose(npy(s(a, b)), npy(m(a, b)), rtol=1e-6)
        assert tuple(s(T(randn(3)), T(randn(4))).shape) == (2,)


# ---------------------------------------------------------------------- activations

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda x: np.maximum(x, 0)),
    (lambda: nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    (lambda: nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (lambda: nn.ELU(0.7), lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
    (lambda: nn.SELU(), lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    (lambda: nn.CELU(0.5), lambda x: np.maximum(x, 0) + np.minimum(0, 0.5 * (np.exp(x / 0.5) - 1))),
    (lambda: nn.GELU(), lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    (lambda: nn.GELU("tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (lambda: nn.SiLU(), lambda x: x * sigmoid(x)),
    (lambda: nn.Mish(), lambda x: x * np.tanh(softplus(x))),
    (lambda: nn.Softplus(), softplus),
    (lambda: nn.Softplus(2.0, 3.0), lambda x: softplus(x, 2.0, 3.0)),
    (lambda: nn.Hardtanh(-0.5, 2.0), lambda x: np.clip(x, -0.5, 2.0)),
    (lambda: nn.Hardsigmoid(), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    (lambda: nn.Hardswish(), lambda x: x * np.clip(x + 3, 0, 6) / 6),
    (lambda: nn.Threshold(0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0)),
    (lambda: nn.Sigmoid(), sigmoid),
    (lambda: nn.Tanh(), np.tanh),
    (lambda: nn.Softmax(dim=1), lambda x: np.exp(log_softmax(x, 1))),
    (lambda: nn.LogSoftmax(dim=-1), lambda x: log_softmax(x, -1)),
]


@pytest.mark.parametrize("make, ref", ACTIVATIONS,
                         ids=[repr(m()) for m, _ in ACTIVATIONS])
def test_activation(make, ref):
    x = np.concatenate([randn(3, 7) * 4, np.array([[-3.0, 0.0, 3.0, 25.0, -25.0, 0.5, 6.0]],
                                                  np.float32)])
    check(make()(T(x)), ref(x.astype(np.float64)).astype(np.float32), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inplace, plain", [
    (lambda: nn.ReLU(inplace=True), lambda: nn.ReLU()),
    (lambda: nn.LeakyReLU(0.1, inplace=True), lambda: nn.LeakyReLU(0.1)),
    (lambda: nn.Hardtanh(inplace=True), lambda: nn.Hardtanh()),
    (lambda: nn.SiLU(inplace=True), lambda: nn.SiLU()),
])
def test_activation_inplace(inplace, plain):
    x = T(randn(4, 5) * 3)
    expected = npy(plain()(x))
    y = inplace()(x)
    np.testing.assert_allclose(npy(x), expected, rtol=1e-6)
    np.testing.assert_allclose(npy(y), expected, rtol=1e-6)


# ---------------------------------------------------------------------- losses

def test_mse_l1():
    a, b = randn(3, 4), randn(3, 4)
    check(nn.MSELoss()(T(a), T(b)), np.float32(((a - b) ** 2).mean()))
    check(nn.MSELoss(reduction="sum")(T(a), T(b)), np.float32(((a - b) ** 2).sum()), rtol=1e-5)
    check(nn.L1Loss()(T(a), T(b)), np.float32(np.abs(a - b).mean()))
    check(nn.L1Loss(reduction="none")(T(a), T(b)), np.abs(a - b))


def np_nll(logp, t, w=None, ignore=-100, reduction="mean"):
    w = np.ones(logp.shape[1]) if w is None else w
    keep = t != ignore
    tt = np.where(keep, t, 0)
    picked = np.take_along_axis(logp, tt[:, None], 1)[:, 0]
    wt = w[tt] * keep
    loss = -picked * wt
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / wt.sum()


def test_nll_and_cross_entropy():
    x = randn(6, 5)
    t = np.array([0, 4, 2, 2, 1, 3])
    logp = log_softmax(x.astype(np.float64), 1)
    check(nn.NLLLoss()(T(logp.astype(np.float32)), T(t)), np.float32(np_nll(logp, t)))
    check(nn.CrossEntropyLoss()(T(x), T(t)), np.float32(np_nll(logp, t)))
    w = np.array([1.0, 2.0, 0.5, 1.5, 3.0], np.float32)
    ti = t.copy()
    ti[1] = -100
    check(nn.CrossEntropyLoss(weight=T(w))(T(x), T(ti)), np.float32(np_nll(logp, ti, w)))
    check(nn.CrossEntropyLoss(ignore_index=2, reduction="none")(T(x), T(t)),
          np_nll(logp, t, ignore=2, reduction="none").astype(np.float32))
    check(nn.NLLLoss(weight=T(w), reduction="sum")(T(logp.astype(np.float32)), T(t)),
          np.float32(np_nll(logp, t, w, reduction="sum")))


def test_cross_entropy_label_smoothing_and_probabilities():
    x = randn(5, 4)
    t = np.array([0, 3, 1, 1, 2])
    logp = log_softmax(x.astype(np.float64), 1)
    eps, c = 0.2, 4
    smooth = -logp.sum(1)
    ref = (1 - eps) * np_nll(logp, t) + eps / c * smooth.mean()
    check(nn.CrossEntropyLoss(label_smoothing=eps)(T(x), T(t)), np.float32(ref))
    w = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    smooth_w = -(logp * w).sum(1)
    ref = (1 - eps) * np_nll(logp, t, w) + eps / c * smooth_w.sum() / w[t].sum()
    check(nn.CrossEntropyLoss(weight=T(w), label_smoothing=eps)(T(x), T(t)), np.float32(ref))
    p = np.exp(log_softmax(randn(5, 4).astype(np.float64), 1)).astype(np.float32)
    check(nn.CrossEntropyLoss()(T(x), T(p)), np.float32(-(p * logp).sum(1).mean()))


def test_binary_cross_entropy():
    x = randn(4, 3)
    t = (RNG.random((4, 3)) > 0.5).astype(np.float32)
    pw = np.array([1.0, 2.0, 0.5], np.float32)
    w = np.array([0.5, 1.0, 2.0], np.float32)
    ls, l1s = np.log(sigmoid(x.astype(np.float64))), np.log(1 - sigmoid(x.astype(np.float64)))
    check(nn.BCEWithLogitsLoss()(T(x), T(t)), np.float32(-(t * ls + (1 - t) * l1s).mean()))
    ref = -w * (pw * t * ls + (1 - t) * l1s)
    check(nn.BCEWithLogitsLoss(weight=T(w), pos_weight=T(pw), reduction="none")(T(x), T(t)),
          ref.astype(np.float32))
    prob = sigmoid(x).astype(np.float32)
    check(nn.BCELoss()(T(prob), T(t)), np.float32(-(t * ls + (1 - t) * l1s).mean()), rtol=1e-4)
    check(nn.BCELoss(weight=T(w), reduction="sum")(T(prob), T(t)),
          np.float32((-w * (t * ls + (1 - t) * l1s)).sum()), rtol=1e-4)
    assert list(nn.BCEWithLogitsLoss(pos_weight=T(pw)).state_dict()) == ["pos_weight"]


def test_legacy_reduction_args_warn():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        m = nn.MSELoss(size_average=False)
    assert m.reduction == "sum"
