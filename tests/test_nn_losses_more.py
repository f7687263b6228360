"""The margin / ranking / embedding / Poisson / Gaussian / triplet losses, SmoothL1Loss,
HuberLoss and KLDivLoss modules: values against NumPy references (PyTorch's formulas),
shapes per reduction, gradients, shape checks, scripting; and against torch when it is
installed."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gpujit
import gpujit.nn as nn
import gpujit.nn.functional as F
from gpujit.testing import assert_close

rng = np.random.default_rng(11)


def T(a, grad=False):
    a = np.asarray(a)
    t = gpujit.from_numpy(np.ascontiguousarray(a) if a.ndim else a.copy())
    return t.requires_grad_() if grad else t


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def signs(*shape):
    return np.where(rng.standard_normal(shape) > 0, 1.0, -1.0).astype(np.float32)


def reduce_np(x, reduction):
    return {"none": x, "mean": np.mean(x), "sum": np.sum(x)}[reduction]


def check(fn, args, ref, reduction, **kw):
    out = fn(*[T(a) for a in args], reduction=reduction, **kw)
    expect = reduce_np(ref, reduction)
    assert tuple(out.shape) == np.shape(expect)
    assert_close(out, np.asarray(expect, np.float32), rtol=1e-5, atol=1e-6)


RED = ["none", "mean", "sum"]


@pytest.mark.parametrize("reduction", RED)
def test_margin_ranking_hinge_soft_margin(reduction):
    x1, x2, y = randn(4, 5), randn(4, 5), signs(4, 5)
    check(F.margin_ranking_loss, (x1, x2, y), np.maximum(0, -y * (x1 - x2) + 0.3),
          reduction, margin=0.3)
    hinge = np.where(y == 1, x1, np.maximum(0, 0.7 - x1))
    check(F.hinge_embedding_loss, (x1, y), hinge, reduction, margin=0.7)
    check(F.soft_margin_loss, (x1, y), np.log1p(np.exp(-y * x1)), reduction)


@pytest.mark.parametrize("reduction", RED)
def test_cosine_embedding_loss(reduction):
    x1, x2, y = randn(6, 3), randn(6, 3), signs(6)
    cos = (x1 * x2).sum(1) / np.sqrt(((x1 ** 2).sum(1) + 1e-12) * ((x2 ** 2).sum(1) + 1e-12))
    ref = np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.2))
    check(F.cosine_embedding_loss, (x1, x2, y), ref, reduction, margin=0.2)
    out = F.cosine_embedding_loss(T(x1[0]), T(x2[0]), T(np.float32(1)), reduction=reduction)
    assert out.shape == ()
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(T(x1[0]), T(x2[0]), T(y))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        F.cosine_embedding_loss(T(x1), T(x2), T(signs(6, 1)))


@pytest.mark.parametrize("reduction", RED)
def test_multilabel_soft_margin_loss(reduction):
    x, t, w = randn(4, 5), (randn(4, 5) > 0).astype(np.float32), np.abs(randn(5))
    ls = lambda v: -np.log1p(np.exp(-v))  # noqa: E731
    ref = (-(t * ls(x) + (1 - t) * ls(-x)) * w).sum(1) / 5
    check(F.multilabel_soft_margin_loss, (x, t), ref, reduction, weight=T(w))


def _multilabel_margin_ref(x, t):
    out = []
    for xs, ts in zip(x, t):
        tg = []
        for v in ts:
            if v < 0:
                break
            tg.append(int(v))
        s = sum(max(0.0, 1 - (xs[j] - xs[i])) for j in tg for i in range(len(xs))
                if i not in tg)
        out.append(s / len(xs))
    return np.array(out, np.float32)


@pytest.mark.parametrize("reduction", RED)
def test_multilabel_margin_loss(reduction):
    x = randn(4, 5)
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, -1, 0, 0]])
    check(F.multilabel_margin_loss, (x, t), _multilabel_margin_ref(x, t), reduction)
    out = F.multilabel_margin_loss(T(x[0]), T(t[0]), reduction=reduction)
    assert out.shape == ()
    assert_close(out, _multilabel_margin_ref(x[:1], t[:1])[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="inconsistent target size"):
        F.multilabel_margin_loss(T(x), T(t[:, :3]))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", RED)
def test_multi_margin_loss(p, reduction):
    x, y, w = randn(4, 5), np.array([1, 0, 4, 2]), np.abs(randn(5))
    m = np.maximum(0, 0.5 - x[np.arange(4), y][:, None] + x) ** p * w[y][:, None]
    m[np.arange(4), y] = 0
    check(F.multi_margin_loss, (x, y), m.sum(1) / 5, reduction, p=p, margin=0.5, weight=T(w))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(T(x), T(y), p=3)
    with pytest.raises(RuntimeError, match="inconsistent target size, expected 4"):
        F.multi_margin_loss(T(x), T(y[:3]))
    assert F.multi_margin_loss(T(x[0]), T(np.int64(2)), reduction="none").shape == ()


@pytest.mark.parametrize("reduction", RED)
def test_poisson_nll_loss(reduction):
    x, t = randn(3, 4), np.abs(randn(3, 4)) * 3
    st = np.where(t > 1, t * np.log(t) - t + 0.5 * np.log(2 * math.pi * t), 0)
    check(F.poisson_nll_loss, (x, t), np.exp(x) - t * x, reduction)
    check(F.poisson_nll_loss, (x, t), np.exp(x) - t * x + st, reduction, full=True)
    xp = np.abs(x)
    check(F.poisson_nll_loss, (xp, t), xp - t * np.log(xp + 1e-8), reduction, log_input=False)


@pytest.mark.parametrize("reduction", RED)
def test_gaussian_nll_loss(reduction):
    x, t, v = randn(3, 4), randn(3, 4), np.abs(randn(3, 4)) + 0.1
    ref = 0.5 * (np.log(v) + (x - t) ** 2 / v)
    check(F.gaussian_nll_loss, (x, t, v), ref, reduction)
    check(F.gaussian_nll_loss, (x, t, v), ref + 0.5 * math.log(2 * math.pi), reduction,
          full=True)
    v1 = v[:, :1]            # one dim fewer, and a size-1 dim: homoscedastic
    ref1 = 0.5 * (np.log(v1) + (x - t) ** 2 / v1)
    check(F.gaussian_nll_loss, (x, t, v1[:, 0]), ref1, reduction)
    check(F.gaussian_nll_loss, (x, t, v1), ref1, reduction)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(T(x), T(t), T(v[:2]))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(T(x), T(t), T(-v))


@pytest.mark.parametrize("reduction", RED)
def test_triplet_margin_losses(reduction):
    a, p, n = randn(5, 3), randn(5, 3), randn(5, 3)
    d = lambda u, v: np.linalg.norm(u - v + 1e-6, ord=2, axis=1)  # noqa: E731
    ref = np.maximum(0, 1.0 + d(a, p) - np.minimum(d(a, n), d(p, n)))
    check(F.triplet_margin_loss, (a, p, n), ref, reduction, swap=True)
    check(F.triplet_margin_with_distance_loss, (a, p, n), ref, reduction, swap=True)
    cos = lambda u, v: 1 - F.cosine_similarity(u, v)  # noqa: E731
    out = F.triplet_margin_with_distance_loss(T(a), T(p), T(n), distance_function=cos,
                                              margin=0.5, reduction=reduction)
    def c(u, v):
        return 1 - (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    assert_close(out, np.float32(reduce_np(np.maximum(0, 0.5 + c(a, p) - c(a, n)), reduction)),
                 rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(T(a), T(p[0]), T(n))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(T(a), T(p), T(n), margin=0.0)


def test_margin_ranking_dimension_check_and_bad_reduction():
    with pytest.raises(RuntimeError, match="All input tensors should have same dimension"):
        F.margin_ranking_loss(T(randn(3)), T(randn(3)), T(randn(3, 1)))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.soft_margin_loss(T(randn(3)), T(randn(3)), reduction="bad")


def test_legacy_size_average_reduce():
    x, y = randn(4), signs(4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = F.soft_margin_loss(T(x), T(y), reduce=False)
    assert any("size_average and reduce args will be deprecated" in str(m.message) for m in w)
    assert out.shape == (4,)


def _numeric_grad(f, x, eps=1e-3):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


@pytest.mark.parametrize("name,extra", [
    ("margin_ranking_loss", "pair"), ("hinge_embedding_loss", "sign"),
    ("soft_margin_loss", "sign"), ("cosine_embedding_loss", "cos"),
    ("multilabel_soft_margin_loss", "prob"), ("multilabel_margin_loss", "mlm"),
    ("multi_margin_loss", "cls"), ("poisson_nll_loss", "pos"),
    ("triplet_margin_loss", "triplet"),
])
def test_gradients_match_finite_differences(name, extra):
    x = rng.standard_normal((3, 4))
    others = {
        "pair": [rng.standard_normal((3, 4)), signs(3, 4).astype(np.float64)],
        "sign": [signs(3, 4).astype(np.float64)],
        "cos": [rng.standard_normal((3, 4)), np.array([1.0, -1.0, -1.0])],
        "prob": [(rng.random((3, 4)) > 0.5).astype(np.float64)],
        "mlm": [np.array([[1, 3, -1, 0], [0, -1, 2, 2], [3, 2, 1, 0]])],
        "cls": [np.array([0, 3, 1])],
        "pos": [np.abs(rng.standard_normal((3, 4))) * 2],
        "triplet": [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))],
    }[extra]
    fn = getattr(F, name)
    xt = T(x, grad=True)
    fn(xt, *[T(o) for o in others]).backward()
    num = _numeric_grad(lambda v: fn(T(v), *[T(o) for o in others]).item(), x)
    assert_close(xt.grad, num, rtol=1e-4, atol=1e-6)


def test_modules_call_functional_and_script():
    x, y, s, z = randn(4, 5), randn(4, 5), signs(4, 5), randn(4, 5)
    cases = [
        (nn.HuberLoss(delta=0.5), (x, y)), (nn.SmoothL1Loss(beta=0.5), (x, y)),
        (nn.KLDivLoss(reduction="batchmean", log_target=True), (x, y)),
        (nn.MarginRankingLoss(0.2), (x, y, s)), (nn.HingeEmbeddingLoss(0.5), (x, s)),
        (nn.CosineEmbeddingLoss(0.1), (x, y, s[:, 0])), (nn.SoftMarginLoss(), (x, s)),
        (nn.MultiLabelSoftMarginLoss(reduction="sum"), (x, (s > 0).astype(np.float32))),
        (nn.MultiLabelMarginLoss(), (x, np.array([[3, 0, -1, 1, 2]] * 4))),
        (nn.MultiMarginLoss(p=2, weight=T(np.abs(randn(5)))), (x, np.array([1, 0, 4, 2]))),
        (nn.PoissonNLLLoss(full=True), (x, np.abs(y))),
        (nn.TripletMarginLoss(swap=True, reduction="none"), (x, y, z)),
    ]
    for m, args in cases:
        sm = gpujit.jit.script(m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_close(sm(*[T(a) for a in args]), m(*[T(a) for a in args]),
                         rtol=1e-5, atol=1e-6)
    g = nn.GaussianNLLLoss(full=True)(T(x), T(y), T(np.abs(z)))
    assert g.shape == ()
    tm = nn.TripletMarginWithDistanceLoss(margin=0.5)
    assert isinstance(tm.distance_function, nn.PairwiseDistance)
    assert_close(tm(T(x), T(y), T(z)), F.triplet_margin_loss(T(x), T(y), T(z), margin=0.5))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0)


def test_kl_div_scripted_batchmean_and_log_target():
    lp = np.log(np.full((2, 3), 1 / 3, np.float32))
    q = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]], np.float32)

    def f(a, b):
        return F.kl_div(a, b, reduction="batchmean"), F.kl_div(a, b.log(), reduction="sum",
                                                               log_target=True)
    expect = (q * (np.log(q) - lp)).sum()
    for fn in (f, gpujit.jit.script(f)):
        a, b = fn(T(lp), T(q))
        assert_close(a, np.float32(expect / 2), rtol=1e-5, atol=1e-6)
        assert_close(b, np.float32(expect), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- against torch

@pytest.mark.parametrize("reduction", RED)
def test_against_torch(reduction):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x, y, z, s = randn(4, 5), randn(4, 5), randn(4, 5), signs(4, 5)
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, -1, 0, 0]])
    cases = [
        ("margin_ranking_loss", (x, y, s), {"margin": 0.3}),
        ("hinge_embedding_loss", (x, s), {}), ("soft_margin_loss", (x, s), {}),
        ("cosine_embedding_loss", (x, y, s[:, 0]), {"margin": -0.5}),
        ("multilabel_soft_margin_loss", (x, (s > 0).astype(np.float32)), {}),
        ("multilabel_margin_loss", (x, t), {}), ("multilabel_margin_loss", (x[0], t[0]), {}),
        ("multi_margin_loss", (x, np.array([1, 0, 4, 2])), {"p": 2, "margin": 0.7}),
        ("multi_margin_loss", (x[:1], np.array([3])), {}),
        ("poisson_nll_loss", (x, np.abs(y) * 3), {"full": True}),
        ("poisson_nll_loss", (np.abs(x), np.abs(y) * 3), {"log_input": False, "full": True}),
        ("gaussian_nll_loss", (x, y, np.abs(z) + 0.1), {"full": True}),
        ("gaussian_nll_loss", (x, y, np.abs(z[:, 0]) + 0.1), {}),
        ("triplet_margin_loss", (x, y, z), {"p": 1.5, "swap": True}),
        ("kl_div", (x, np.abs(y)), {"log_target": False}),
        ("kl_div", (x, y), {"log_target": True}),
    ]
    for name, args, kw in cases:     # torch differentiates some targets, not all
        ga = [T(a, grad=i == 0) for i, a in enumerate(args)]
        ta = [torch.tensor(a, requires_grad=i == 0) for i, a in enumerate(args)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = getattr(F, name)(*ga, reduction=reduction, **kw)
            e = getattr(TF, name)(*ta, reduction=reduction, **kw)
        assert tuple(r.shape) == tuple(e.shape), name
        assert_close(r, e.detach().numpy(), rtol=1e-5, atol=1e-6)
        r.sum().backward()
        e.sum().backward()
        for g, tt in zip(ga, ta):
            if tt.grad is not None:
                assert_close(g.grad, tt.grad.numpy(), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------- CTC

def _ctc_ref(lp, seq, n_frames, blank=0):
    """-log p(seq | lp[:n_frames]) by the log-space alpha recursion."""
    ext = [blank]
    for v in seq:
        ext += [v, blank]
    s = len(ext)
    if n_frames == 0:
        return 0.0 if not seq else math.inf
    alpha = np.full(s, -np.inf)
    alpha[0] = lp[0, ext[0]]
    if s > 1:
        alpha[1] = lp[0, ext[1]]
    for t in range(1, n_frames):
        new = np.full(s, -np.inf)
        for j in range(s):
            terms = [alpha[j]] + ([alpha[j - 1]] if j > 0 else [])
            if j > 1 and ext[j] != blank and ext[j] != ext[j - 2]:
                terms.append(alpha[j - 2])
            new[j] = np.logaddexp.reduce(terms) + lp[t, ext[j]]
        alpha = new
    tail = np.logaddexp(alpha[-1], alpha[-2]) if s > 1 else alpha[-1]
    return -tail


def _log_softmax(x, axis):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


@pytest.mark.parametrize("reduction", RED)
def test_ctc_loss_values_and_gradient(reduction):
    x = rng.standard_normal((10, 4, 5))
    lp = _log_softmax(x, 2)
    tg = np.array([[1, 2, 2, 3], [4, 4, 1, 0], [1, 1, 1, 1], [2, 3, 0, 0]])
    il, tl = [10, 8, 3, 6], [4, 3, 4, 0]
    ref = np.array([_ctc_ref(lp[:, b], list(tg[b, :tl[b]]), il[b]) for b in range(4)])
    assert np.isinf(ref[2])                # 4 repeated labels cannot fit in 3 frames
    ref0 = np.where(np.isinf(ref), 0.0, ref)
    expect = {"none": ref0, "sum": ref0.sum(),
              "mean": (ref0 / np.maximum(tl, 1)).mean()}[reduction]
    out = F.ctc_loss(T(lp), T(tg), il, tl, reduction=reduction, zero_infinity=True)
    assert_close(out, expect, rtol=1e-7, atol=1e-9)
    inf = F.ctc_loss(T(lp), T(tg), T(np.array(il)), T(np.array(tl)), reduction="none")
    assert np.isinf(inf.numpy()[2])
    # the gradient through log_softmax against finite differences of the reference
    xt = T(x, grad=True)
    F.ctc_loss(xt.log_softmax(2), T(tg), il, tl, reduction=reduction,
               zero_infinity=True).sum().backward()

    def f(v):
        lpv = _log_softmax(v, 2)
        r = np.array([_ctc_ref(lpv[:, b], list(tg[b, :tl[b]]), il[b]) for b in range(4)])
        r = np.where(np.isinf(r), 0.0, r)
        return {"none": r.sum(), "sum": r.sum(), "mean": (r / np.maximum(tl, 1)).mean()}[
            reduction]
    num = np.zeros_like(x)
    for i in [(0, 0, 1), (2, 1, 4), (5, 3, 0), (9, 0, 3), (7, 1, 2), (1, 2, 2)]:
        d = np.zeros_like(x)
        d[i] = 1e-6
        num[i] = (f(x + d) - f(x - d)) / 2e-6
        assert_close(xt.grad.numpy()[i], num[i], rtol=1e-5, atol=1e-8)


def test_ctc_loss_concatenated_targets_unbatched_and_module():
    lp = _log_softmax(rng.standard_normal((8, 3, 4)), 2).astype(np.float32)
    flat = np.array([1, 2, 3, 3, 2])
    out = nn.CTCLoss(blank=0, reduction="none")(T(lp), T(flat), [8, 7, 5], [2, 3, 0])
    ref = [_ctc_ref(lp[:, 0], [1, 2], 8), _ctc_ref(lp[:, 1], [3, 3, 2], 7),
           _ctc_ref(lp[:, 2], [], 5)]
    assert_close(out, np.array(ref, np.float32), rtol=1e-5, atol=1e-5)
    one = F.ctc_loss(T(lp[:, 0]), T(np.array([1, 2])), 8, 2)
    assert one.shape == ()
    assert_close(one, np.float32(ref[0] / 2), rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(T(lp), T(flat), [8, 7, 5], [2, 3, 0], blank=4)
    with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 8"):
        F.ctc_loss(T(lp), T(flat), [9, 7, 5], [2, 3, 0])


def test_ctc_loss_against_torch():
    torch = pytest.importorskip("torch")
    x = randn(12, 4, 5)
    tg = np.array([[1, 2, 2, 3], [4, 4, 1, 0], [1, 1, 1, 1], [2, 3, 0, 0]])
    il, tl = [12, 9, 3, 7], [4, 3, 4, 0]
    for reduction in RED:
        lp = torch.tensor(x).log_softmax(2).detach().numpy()
        g, t = T(lp, grad=True), torch.tensor(lp, requires_grad=True)
        r = F.ctc_loss(g, T(tg), il, tl, reduction=reduction, zero_infinity=True)
        e = torch.nn.functional.ctc_loss(t, torch.tensor(tg), il, tl, reduction=reduction,
                                         zero_infinity=True)
        assert_close(r, e.detach().numpy(), rtol=1e-5, atol=1e-5)
        r.sum().backward()
        e.sum().backward()
        assert_close(g.grad, t.grad.numpy(), rtol=1e-4, atol=1e-5)   # log_probs' own
