"""OpInfos of the nn family, part 3 (gpujit/ops/nn_loss.py, nn_loss_nll.py): losses and
cosine_similarity. `reduction` is ATen's enum (0 none, 1 mean, 2 sum). References follow
the formulas of PyTorch's documentation, per element (loops for nll/cross entropy) in
float64."""
from __future__ import annotations

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample, rand, positive

F16, F32, F64 = np.float16, np.float32, np.float64
HALF_TOL = dict(rtol=1e-2, atol=1e-2)
NONE, MEAN, SUM = 0, 1, 2


_grad_rng = np.random.default_rng(79)


def grad_rand(*shape, low=-2.0, high=2.0):
    """float64 values for the samples put first for tests/test_autograd_registry.py (which
    gradchecks an op's first 3 samples: here the weights, ignore_index and label smoothing);
    their own generator leaves the shared one's sequence, and every other sample, unchanged."""
    return _grad_rng.uniform(low, high, shape)


def reduce(loss, reduction):
    r = {0: "none", 1: "mean", 2: "sum"}.get(reduction, reduction)
    if r == "none":
        return loss
    return loss.sum() if r == "sum" else (loss.mean() if loss.size else np.nan)


_sm_rng = np.random.default_rng(40)


def _sm_rand(*shape, dtype=F32):
    return np.asarray(_sm_rng.standard_normal(shape) * 2).astype(dtype)


def _sm_target(*shape, dtype=F32):
    return np.asarray(np.where(_sm_rng.standard_normal(shape) < 0, -1, 1)).astype(dtype)


def _soft_margin_samples():
    out = [Sample(_sm_rand(3, 4, dtype=F64), _sm_target(3, 4, dtype=F64), r)
           for r in (NONE, MEAN, SUM)]
    out += [Sample(_sm_rand(3, 4, dtype=d), _sm_target(3, 4, dtype=d), r).tol(
        **(HALF_TOL if d is F16 else {})) for d in (F32, F16) for r in (NONE, MEAN)]
    out += [Sample(_sm_rand(3, 4), _sm_target(4), NONE),
            Sample(_sm_rand(3, 4), _sm_rand(3, 4, dtype=F64), MEAN),
            Sample(_sm_rand(), _sm_target(), SUM), Sample(_sm_rand(0, 3), _sm_target(0, 3), SUM)]
    return out


def ref_soft_margin(a, b, reduction=MEAN):
    return reduce(np.log1p(np.exp(-a.astype(np.float64) * b)), reduction).astype(a.dtype)


def _multi_margin_samples():
    """(its own generator, drawn afresh: the same samples whatever ran before)"""
    rng = np.random.default_rng(41)

    def _sm_rand(*shape, dtype=F64):
        return np.asarray(rng.standard_normal(shape) * 2).astype(dtype)

    t = np.array([0, 3, 4, 1])
    w = np.abs(_sm_rand(5, dtype=F64)) + 0.5
    out = [Sample(_sm_rand(4, 5, dtype=F64), t, p, 0.7, None, r)
           for p, r in ((1, NONE), (2, MEAN), (1, SUM))]
    out += [Sample(_sm_rand(4, 5, dtype=F64), t, 2, 1.0, w, NONE),
            Sample(_sm_rand(4, 5, dtype=F32), t, 1, 1.0, w.astype(F32), MEAN),
            Sample(_sm_rand(5, dtype=F32), np.array(2), 1, 1.0, None, NONE),
            Sample(_sm_rand(5), np.array([2]), 2, 0.5, None, NONE),
            Sample(_sm_rand(1, 3), np.array([0]), 1, 1.0, None, SUM)]
    return out


def ref_multi_margin(x, t, p=1, margin=1.0, weight=None, reduction=MEAN):
    x2 = x.astype(np.float64).reshape(t.size, -1)
    y = t.reshape(-1)
    z = np.maximum(margin - x2[np.arange(y.size), y][:, None] + x2, 0) ** p
    if weight is not None:
        z = z * weight[y][:, None]
    z[np.arange(y.size), y] = 0
    loss = z.sum(1) / x2.shape[1]
    if x.ndim <= 1 and t.ndim == 0:
        loss = loss.reshape(())
    return np.asarray(reduce(loss, reduction)).astype(x.dtype)


_ML_T = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 2, 3, 0, 0], [4, 4, 1, -1, 3]])


def _multilabel_samples():
    """(its own generator, drawn afresh)"""
    rng = np.random.default_rng(42)

    def r(*shape, dtype=F64):
        return np.asarray(rng.standard_normal(shape) * 0.4).astype(dtype)

    return [Sample(r(4, 5), _ML_T, NONE), Sample(r(4, 5), _ML_T, MEAN),
            Sample(r(4, 5), _ML_T, SUM), Sample(r(4, 5, dtype=F32), _ML_T, MEAN),
            Sample(r(5, dtype=F32), _ML_T[0], NONE), Sample(r(1, 5), _ML_T[2:3], SUM)]


def ref_multilabel_margin(x, t, reduction=MEAN):
    c = x.shape[-1]
    x2, t2 = x.astype(np.float64).reshape(-1, c), t.reshape(-1, c)
    loss = np.zeros(len(x2))
    for k in range(len(x2)):
        tg = []
        for v in t2[k]:
            if v < 0:
                break
            tg.append(v)
        for j in tg:
            for i in range(c):
                if i not in tg:
                    loss[k] += max(0.0, 1 - (x2[k, j] - x2[k, i]))
    loss = loss / c
    if x.ndim <= 1:
        loss = loss.reshape(())
    return np.asarray(reduce(loss, reduction)).astype(x.dtype)


def _pair_samples(extra=()):
    """(input, target) samples over dtypes, broadcasting, reductions, 0-dim, empty."""
    out = []
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        out += [Sample(rand(3, 4, dtype=d), rand(3, 4, dtype=d), r, *extra).tol(**tol)
                for r in (NONE, MEAN, SUM)]
    out += [Sample(rand(3, 4, dtype=F32), rand(4, dtype=F32), NONE, *extra),
            Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F64), MEAN, *extra)
            .expect_dtype(G.float64),
            Sample(rand(dtype=F32), rand(dtype=F32), NONE, *extra),
            Sample(rand(2, 3, dtype=F32), rand(2, 3, dtype=F32), *((SUM,) + extra)),
            Sample(rand(5, dtype=F32), rand(5, dtype=F32)),
            Sample(rand(0, 3, dtype=F32), rand(0, 3, dtype=F32), SUM, *extra),
            Sample(rand(0, 3, dtype=F32), rand(0, 3, dtype=F32), MEAN, *extra)]
    return out


# the kernels PyTorch's words name for an integer input (kl_div refuses it itself)
_KERNEL_WORDS = {"mse_loss": "\"mse_(cpu|cuda)\" not implemented for 'Long'",
                 "smooth_l1_loss": "\"smooth_l1_(cpu|cuda)\" not implemented for 'Long'",
                 "huber_loss": "\"huber_(cpu|cuda)\" not implemented for 'Long'",
                 "kl_div": "kl_div: Integral inputs not supported.",
                 # (its composite computes for integers; 'mean' is mean()'s refusal)
                 "l1_loss": r"mean\(\): could not infer output dtype. Input dtype must be "
                            r"either a floating point or complex dtype. Got: Long"}


def _pair_errors(name):
    return [ErrorSample(rand(3, dtype=np.int64), rand(3, dtype=np.int64),
                        match=_KERNEL_WORDS.get(name, f"\"{name}\" not implemented for 'Long'")),
            ErrorSample(rand(3, dtype=F32), rand(3, dtype=F32), 5, exc=ValueError,
                        match="5 is not a valid value for reduction"),
            ErrorSample(rand(3, dtype=F32), rand(4, dtype=F32),
                        match=r"size of tensor a \(3\) must match the size of tensor b \(4\)"
                              r"|shape mismatch|could not be broadcast")]


def ref_mse(a, b, reduction=MEAN):
    return reduce((a - b) ** 2, reduction)


def ref_l1(a, b, reduction=MEAN):
    return reduce(np.abs(a - b), reduction)


def ref_smooth_l1(a, b, reduction=MEAN, beta=1.0):
    z = np.abs(a - b)
    loss = z if beta == 0 else np.where(z < beta, 0.5 * z ** 2 / beta, z - 0.5 * beta)
    return reduce(loss, reduction)


def ref_huber(a, b, reduction=MEAN, delta=1.0):
    z = np.abs(a - b)
    return reduce(np.where(z <= delta, 0.5 * z ** 2, delta * (z - 0.5 * delta)), reduction)


def ref_kl_div(a, b, reduction=MEAN, log_target=False):
    if log_target:
        loss = np.exp(b) * (b - a)
    else:
        loss = np.where(b > 0, b * np.log(np.where(b > 0, b, 1)), 0) - b * a
        loss = np.where(b < 0, np.nan, loss)
    return reduce(loss, reduction)


def _kl_samples():
    out = [Sample(grad_rand(2, 5), grad_rand(5), NONE, log_target=True)]
    for d in (F32, F64):
        lp = np.log(positive(3, 4, dtype=d))
        out += [Sample(lp, positive(3, 4, dtype=d, low=0.0, high=1.0), r) for r in (0, 1, 2)]
        out.append(Sample(lp, rand(3, 4, dtype=d), SUM, log_target=True))
    t = positive(2, 5, dtype=F32)
    t[0, :2] = 0
    out += [Sample(rand(2, 5, dtype=F32), t, NONE), Sample(rand(2, 5, dtype=F32), t, SUM),
            Sample(rand(2, 5, dtype=F32), -t, NONE),
            Sample(rand(2, 5, dtype=F16), positive(2, 5, dtype=F16), MEAN).tol(**HALF_TOL),
            Sample(rand(2, 5, dtype=F32), rand(5, dtype=F32), NONE, log_target=True)]
    return out


# ---------------------------------------------------------------------- binary cross entropy

def ref_bce(x, t, weight=None, reduction=MEAN):
    loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def _bce_samples():
    out = [Sample(grad_rand(3, 4, low=0.05, high=0.95), grad_rand(3, 4, low=0, high=1),
                  grad_rand(4, low=0.1, high=2), MEAN)]
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        x = positive(3, 4, dtype=d, low=0.01, high=0.99)
        t = positive(3, 4, dtype=d, low=0.0, high=1.0)
        out += [Sample(x, t, None, r).tol(**tol) for r in (NONE, MEAN, SUM)]
    x = positive(3, 4, dtype=F32, low=0.01, high=0.99)
    edge = x.copy()
    edge[0, 0], edge[1, 1] = 0.0, 1.0               # log clamped at -100
    t = (rand(3, 4, dtype=F32) > 0).astype(F32)
    out += [Sample(x, t, positive(3, 4), MEAN), Sample(x, t, positive(4), NONE),
            Sample(edge, t, None, NONE), Sample(edge, t, reduction=SUM),
            Sample(np.array(0.3, F32), np.array(1.0, F32)),
            Sample(np.zeros((0, 2), F32), np.zeros((0, 2), F32), None, SUM)]
    return out


def ref_bce_logits(x, t, weight=None, pos_weight=None, reduction=MEAN):
    sig = 1 / (1 + np.exp(-x))
    pw = 1 if pos_weight is None else pos_weight
    loss = -(pw * t * np.log(sig) + (1 - t) * np.log(1 - sig))
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def _bce_logits_samples():
    g = grad_rand
    out = [Sample(g(3, 4), g(3, 4, low=0, high=1), g(3, 1, low=0.1, high=2),
                  g(4, low=0.1, high=2), SUM)]
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        x = rand(3, 4, dtype=d, low=-5, high=5)
        t = positive(3, 4, dtype=d, low=0.0, high=1.0)
        out += [Sample(x, t, None, None, r).tol(**tol) for r in (NONE, MEAN, SUM)]
    x = rand(3, 4, dtype=F32, low=-5, high=5)
    t = positive(3, 4, dtype=F32, low=0.0, high=1.0)
    out += [Sample(x, t, positive(3, 4), None, MEAN), Sample(x, t, None, positive(4), NONE),
            Sample(x, t, positive(4), positive(4), SUM),
            Sample(x, t, pos_weight=positive(3, 4), reduction=MEAN),
            Sample(np.array(2.0, F32), np.array(1.0, F32))]
    return out


def _bce_errors():
    return [ErrorSample(np.array([0.5, 1.5], F32), np.array([0.0, 1.0], F32),
                        match="all elements of input should be between 0 and 1"),
            ErrorSample(np.array([1, 0]), np.array([1, 0]),
                        match="\"binary_cross_entropy\" not implemented for 'Long'")]


# ---------------------------------------------------------------------- nll / cross entropy

def _class_dim_last(x):
    """(N, C, d...) -> rows of C, and the number of rows; (C,) -> one row."""
    if x.ndim == 1:
        return x[None]
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def ref_nll(logp, target, weight=None, reduction=MEAN, ignore_index=-100):
    rows = _class_dim_last(logp)
    t = np.asarray(target).reshape(-1)
    c = rows.shape[1]
    w = np.ones(c) if weight is None else weight
    losses, wsum = np.zeros(len(t)), 0.0
    for i, y in enumerate(t):
        if y == ignore_index:
            continue
        losses[i] = -w[y] * rows[i, y]
        wsum += w[y]
    if reduction == NONE:
        return losses.reshape(np.shape(target))
    return losses.sum() if reduction == SUM else losses.sum() / wsum


def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _nll_grad_samples(nd):
    g = grad_rand
    t = np.array([0, 3, -100, 1, 2])
    first = [Sample(g(5, 4), t, g(4, low=0.1, high=2), MEAN),
             Sample(g(5, 4), np.array([0, 3, 2, 1, 2]), g(4, low=0.1, high=2), SUM, 2),
             Sample(g(4), np.array(1), g(4, low=0.1, high=2), NONE)]
    if nd:
        t3 = np.array([[[0, 3], [1, -100], [2, 2]], [[3, 3], [0, 1], [-100, 2]]])
        first[1] = Sample(g(2, 4, 3, 2), t3, g(4, low=0.1, high=2), MEAN)
    return first


def _nll_samples(nd=True):
    out = _nll_grad_samples(nd)
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        lp = _log_softmax(rand(5, 4, dtype=F64), 1).astype(d)
        t = np.array([0, 3, 1, 1, 2])
        out += [Sample(lp, t, None, r).tol(**tol) for r in (NONE, MEAN, SUM)]
    lp = _log_softmax(rand(5, 4, dtype=F64), 1).astype(F32)
    t = np.array([0, 3, -100, 1, 2])
    out += [Sample(lp, t, positive(4), MEAN), Sample(lp, t, positive(4), NONE),
            Sample(lp, np.array([0, 3, 2, 1, 2]), positive(4), SUM, 2),
            Sample(lp, np.array([0, 3, 2, 1, 3]), reduction=MEAN, ignore_index=3),
            Sample(lp[0], np.array(2)), Sample(lp[0], np.array(2), positive(4), NONE),
            Sample(lp, np.array([1, 1, 1, 1, 1]), None, MEAN, 1),      # all ignored: nan
            Sample(lp, t.astype(np.uint8) % 4, None, SUM),
            Sample(lp[:0], t[:0], None, NONE)]
    if nd:
        lp3 = rand(2, 4, 3, 5, dtype=F32)
        t3 = rand(2, 3, 5, dtype=np.int64, low=0, high=3)
        t3[0, 0, 0] = -100
        out += [Sample(lp3, t3, None, r) for r in (NONE, MEAN, SUM)]
        out += [Sample(lp3, t3, positive(4), MEAN),
                Sample(rand(2, 3, 6, dtype=F64), rand(2, 6, dtype=np.int64, low=0, high=2),
                       positive(3, dtype=F64), NONE)]
    return out


def _nll_errors(nd=True):
    lp = rand(3, 4, dtype=F32)
    out = [ErrorSample(lp, np.array([0, 4, 1]), exc=IndexError,
                       match="Target 4 is out of bounds."),
           ErrorSample(lp, np.array([0, -1, 1]), exc=IndexError,
                       match="Target -1 is out of bounds."),
           ErrorSample(lp, np.array([0, 1]), exc=ValueError, match=r"Expected input "
                       r"batch_size \(3\) to match target batch_size \(2\)."),
           ErrorSample(lp, np.array([0, 1, 2], np.int32),
                       match="expected target dtype to be Long or Byte, but got Int"),
           ErrorSample(lp, np.array([0, 1, 2]), positive(3), match="weight tensor should be "
                       r"defined either for all 4 classes or no classes but got weight tensor "
                       r"of shape: \[3\]")]
    if nd:
        out.append(ErrorSample(rand(2, 4, 3, dtype=F32), np.zeros((2, 4), np.int64),
                               match=r"Expected target size \[2, 3\], got \[2, 4\]"))
    else:
        out.append(ErrorSample(rand(2, 4, 3, dtype=F32), np.zeros((2, 3), np.int64),
                               match="input tensor should be 1D or 2D"))
    return out


def ref_cross_entropy(x, target, weight=None, reduction=MEAN, ignore_index=-100,
                      label_smoothing=0.0):
    """l_n = -sum_c w_c q_c log_softmax(x_n)_c with q the (smoothed) target distribution;
    mean divides by sum of w[y_n] (class indices) or by N (probabilities)."""
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    rows = _log_softmax(_class_dim_last(x), 1)
    w = np.ones(c) if weight is None else weight
    eps = label_smoothing
    probs = np.shape(target) == x.shape
    if probs:
        q = _class_dim_last(target)
        q = q * (1 - eps) + eps / c
        losses = -(rows * q * w).sum(axis=1)
        shape = np.shape(target)[:1] + np.shape(target)[2:] if x.ndim > 1 else ()
        denom = len(losses)
    else:
        t = np.asarray(target).reshape(-1)
        losses, denom = np.zeros(len(t)), 0.0
        for i, y in enumerate(t):
            if y == ignore_index:
                continue
            q = np.full(c, eps / c)
            q[y] += 1 - eps
            losses[i] = -(rows[i] * q * w).sum()
            denom += w[y]
        shape = np.shape(target)
    if reduction == NONE:
        return losses.reshape(shape)
    return losses.sum() if reduction == SUM else losses.sum() / denom


def _ce_grad_samples():
    g = grad_rand
    w = g(4, low=0.1, high=2)
    q = np.exp(g(5, 4))
    return [Sample(g(5, 4), np.array([0, 3, -100, 1, 2]), w, MEAN, -100, 0.2),
            Sample(g(5, 4), q / q.sum(1, keepdims=True), w, SUM, -100, 0.1),
            Sample(g(2, 3, 4), np.array([[0, 1, 2, 2], [1, 1, 0, 2]]), g(3, low=0.1, high=2),
                   NONE, 1, 0.3)]


def _ce_samples():
    out = _ce_grad_samples()
    for d in (F32, F64, F16):
        tol = HALF_TOL if d is F16 else {}
        x = rand(5, 4, dtype=d)
        out += [Sample(x, np.array([0, 3, 1, 1, 2]), None, r).tol(**tol)
                for r in (NONE, MEAN, SUM)]
    x = rand(5, 4, dtype=F32)
    t = np.array([0, 3, -100, 1, 2])
    p = np.exp(_log_softmax(rand(5, 4, dtype=F64), 1)).astype(F32)
    x3, t3 = rand(2, 3, 4, dtype=F32), rand(2, 4, dtype=np.int64, low=0, high=2)
    out += [Sample(x, t, positive(4), MEAN), Sample(x, t, positive(4), NONE),
            Sample(x, t, None, MEAN, -100, 0.1), Sample(x, t, positive(4), MEAN, -100, 0.2),
            Sample(x, t, positive(4), NONE, -100, 0.3),
            Sample(x, np.array([0, 3, 1, 1, 2]), None, SUM, 1, 0.25),
            Sample(x, np.array([0, 3, 2, 3, 1]), reduction=MEAN, ignore_index=3),
            Sample(x, p, None, MEAN), Sample(x, p, positive(4), NONE),
            Sample(x, p, positive(4), SUM, label_smoothing=0.15),
            Sample(x, p, None, MEAN, -100, 0.3),
            Sample(x[0], np.array(3)), Sample(x[0], p[0], None, NONE),
            Sample(x3, t3, None, NONE), Sample(x3, t3, positive(3), MEAN, 1, 0.1),
            Sample(x3, np.exp(_log_softmax(rand(2, 3, 4, dtype=F64), 1)).astype(F32), None,
                   NONE),
            Sample(x, np.array([1, 1, 1, 1, 1]), None, MEAN, 1),       # all ignored: nan
            Sample(rand(0, 4, dtype=F32), np.zeros(0, np.int64), None, SUM)]
    return out


def _ce_errors():
    x = rand(3, 5, dtype=F32)
    return [ErrorSample(x, np.array([0, 1]), exc=ValueError, match=r"Expected input "
                        r"batch_size \(3\) to match target batch_size \(2\)."),
            ErrorSample(x, np.zeros((3, 5), np.int64), match="Expected floating point type "
                        "for target with class probabilities, got Long"),
            ErrorSample(x, rand(3, 5, dtype=F32), None, MEAN, 1, match="ignore_index is not "
                        "supported for floating point target"),
            ErrorSample(x, np.array([0, 1, 2]), None, MEAN, -100, 1.5,
                        match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
            ErrorSample(x, np.array([0, 1, 7]), exc=IndexError,
                        match="Target 7 is out of bounds."),
            ErrorSample(rand(3, 4, 2, dtype=F32), np.zeros((3, 3), np.int64),
                        match=r"Expected target size \[3, 2\], got \[3, 3\]")]


# ---------------------------------------------------------------------- cosine similarity

def ref_cosine(x1, x2, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(x1.astype(F64), x2.astype(F64))
    na = np.maximum(np.sqrt((a * a).sum(axis=dim)), eps)
    nb = np.maximum(np.sqrt((b * b).sum(axis=dim)), eps)
    return (a * b).sum(axis=dim) / (na * nb)


def _cos_samples():
    out = [Sample(grad_rand(3, 4), grad_rand(4), -1)]
    out += [Sample(rand(3, 4, dtype=d), rand(3, 4, dtype=d)).tol(**(HALF_TOL if d is F16
                                                                    else {}))
            for d in (F32, F64, F16)]
    out += [Sample(rand(3, 4, dtype=F32), rand(4, dtype=F32), -1),
            Sample(rand(2, 3, 4, dtype=F32), rand(2, 3, 4, dtype=F32), 0, 1e-6),
            Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F64)).expect_dtype(G.float64),
            Sample(rand(3, 4, dtype=np.int64), rand(3, 4, dtype=F32)),
            Sample(np.zeros((2, 3), F32), rand(2, 3, dtype=F32), dim=1),
            Sample(rand(5, dtype=F32), rand(5, dtype=F32), 0)]
    return out


OPINFOS = [
    OpInfo("aten::mse_loss", samples=_pair_samples, ref=ref_mse,
           errors=_pair_errors("mse_loss")),
    OpInfo("aten::l1_loss", samples=_pair_samples, ref=ref_l1,
           errors=_pair_errors("l1_loss")),
    OpInfo("aten::smooth_l1_loss", samples=lambda: _pair_samples((0.5,)) + [
        Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F32), NONE, 0.0),
        Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F32), MEAN),
        Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F32), beta=2.0)], ref=ref_smooth_l1,
        errors=_pair_errors("smooth_l1_loss") + [
            ErrorSample(rand(3, dtype=F32), rand(3, dtype=F32), MEAN, -1.0,
                        match="smooth_l1_loss does not support negative values for beta.")]),
    OpInfo("aten::huber_loss", samples=lambda: _pair_samples((0.7,)) + [
        Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F32), MEAN),
        Sample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F32), delta=2.0)], ref=ref_huber,
        errors=_pair_errors("huber_loss") + [
            ErrorSample(rand(3, dtype=F32), rand(3, dtype=F32), MEAN, 0.0,
                        match="huber_loss does not support non-positive values for delta.")]),
    OpInfo("aten::kl_div", samples=_kl_samples, ref=ref_kl_div, errors=_pair_errors("kl_div")),
    OpInfo("aten::binary_cross_entropy", samples=_bce_samples, ref=ref_bce,
           errors=_bce_errors()),
    OpInfo("aten::binary_cross_entropy_with_logits", samples=_bce_logits_samples,
           ref=ref_bce_logits, rtol=1e-5, atol=1e-5),
    OpInfo("aten::nll_loss", samples=lambda: _nll_samples(False), ref=ref_nll,
           errors=_nll_errors(False)),
    OpInfo("aten::nll_loss_nd", samples=_nll_samples, ref=ref_nll, errors=_nll_errors()),
    OpInfo("aten::cross_entropy_loss", samples=_ce_samples, ref=ref_cross_entropy,
           errors=_ce_errors(), rtol=1e-5, atol=1e-5),
    OpInfo("aten::cosine_similarity", samples=_cos_samples, ref=ref_cosine,
           errors=[ErrorSample(rand(3, 4, dtype=np.int64), rand(3, 4, dtype=np.int64),
                               match="expected common dtype to be floating point, yet common "
                                     "dtype is Long"),
                   ErrorSample(rand(3, 4, dtype=F32), rand(3, 4, dtype=F32), 2,
                               exc=IndexError, match="Dimension out of range")]),
    # (e40) ATen's soft_margin_loss: the loss in self's dtype and shape (a float64 target
    # computes in double, rounded back), SoftMarginLossBackward0; its own generator
    OpInfo("aten::soft_margin_loss", samples=_soft_margin_samples, ref=ref_soft_margin,
           errors=[ErrorSample(_sm_rand(4), _sm_rand(3, 4), NONE,
                               match=r"output with shape \[4\] doesn't match the broadcast "
                                     r"shape \[3, 4\]"),
                   ErrorSample(np.ones((3, 4), np.int64), _sm_rand(3, 4), NONE,
                               match="result type Float can't be cast to the desired "
                                     "output type Long")]),
    OpInfo("aten::multi_margin_loss", samples=_multi_margin_samples, ref=ref_multi_margin),
    OpInfo("aten::multilabel_margin_loss", samples=_multilabel_samples,
           ref=ref_multilabel_margin),
]
