"""nn ops: losses and cosine_similarity. `reduction` is ATen's int enum (0 none, 1 mean,
2 sum) or its name; `gpujit.nn.functional` maps PyTorch's Python arguments (reduction
strings, legacy size_average/reduce) onto these ops."""
from __future__ import annotations

import contextlib

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, broadcast_shapes, wrap_dim
from .nn import FLOATS, _NN, check_float, compute_dtype, dtype_of, not_implemented, sizes
from .registry import op

_LOSS = dict(tags=_NN, method=False, function=False, dtypes=FLOATS)
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum", "none": "none", "mean": "mean", "sum": "sum"}


def reduction_name(r):
    try:
        return _REDUCTIONS[r]
    except (KeyError, TypeError):
        raise ValueError(f"{r} is not a valid value for reduction") from None


def quiet(xp):
    """NumPy's floating point warnings off (CuPy has none)."""
    return np.errstate(all="ignore") if xp is np else contextlib.nullcontext()


def _div(xp, a, b):
    with quiet(xp):
        return xp.true_divide(a, b)


def _reduce(xp, loss, reduction, out_dtype):
    r = reduction_name(reduction)
    if r == "sum":
        loss = loss.sum()
    elif r == "mean":
        loss = _div(xp, loss.sum(), loss.size)
    return xp.asarray(loss).astype(out_dtype, copy=False)


def _common_float(name, a, b):
    """PyTorch's promoted dtype of two loss operands; floating point only."""
    d = _dt.promote_types(dtype_of(a), dtype_of(b))
    if d.category != _dt.FLOATING:
        raise not_implemented(name, d)
    return d


def _pair_meta(name):
    def meta(self, target, reduction=1, *rest):
        d = _common_float(name, self, target)
        shape = broadcast_shapes(tuple(self.shape), tuple(target.shape))
        return TensorMeta(d, shape if reduction_name(reduction) == "none" else (),
                          self.device)
    return meta


def _pair(xp, name, a, b):
    """Both operands cast to the computation dtype, broadcast; and the output dtype."""
    d = _common_float(name, a, b)
    ct = compute_dtype(xp, np.empty(0, d.np))
    shape = broadcast_shapes(a.shape, b.shape)
    a = xp.broadcast_to(a.astype(ct, copy=False), shape)
    return a, xp.broadcast_to(b.astype(ct, copy=False), shape), d.np


@op("aten::mse_loss(Tensor self, Tensor target, int reduction=Mean) -> Tensor",
    meta=_pair_meta("mse_loss"), **_LOSS)
def mse_loss(xp, self, target, reduction=1):
    """Mean squared error (self - target)**2, reduced."""
    a, b, odt = _pair(xp, "mse_loss", self, target)
    return _reduce(xp, (a - b) ** 2, reduction, odt)


@op("aten::l1_loss(Tensor self, Tensor target, int reduction=Mean) -> Tensor",
    meta=_pair_meta("l1_loss"), **_LOSS)
def l1_loss(xp, self, target, reduction=1):
    """Mean absolute error |self - target|, reduced."""
    a, b, odt = _pair(xp, "l1_loss", self, target)
    return _reduce(xp, xp.abs(a - b), reduction, odt)


@op("aten::smooth_l1_loss(Tensor self, Tensor target, int reduction=Mean, float beta=1.0) "
    "-> Tensor", meta=_pair_meta("smooth_l1_loss"), **_LOSS)
def smooth_l1_loss(xp, self, target, reduction=1, beta=1.0):
    """0.5 * d**2 / beta where |d| < beta, else |d| - 0.5 * beta (beta=0: l1)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    a, b, odt = _pair(xp, "smooth_l1_loss", self, target)
    z = xp.abs(a - b)
    if beta == 0:
        loss = z
    else:
        loss = xp.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return _reduce(xp, loss, reduction, odt)


@op("aten::huber_loss(Tensor self, Tensor target, int reduction=Mean, float delta=1.0) "
    "-> Tensor", meta=_pair_meta("huber_loss"), **_LOSS)
def huber_loss(xp, self, target, reduction=1, delta=1.0):
    """0.5 * d**2 where |d| < delta, else delta * (|d| - 0.5 * delta)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    a, b, odt = _pair(xp, "huber_loss", self, target)
    z = xp.abs(a - b)
    loss = xp.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    return _reduce(xp, loss, reduction, odt)


@op("aten::kl_div(Tensor self, Tensor target, int reduction=Mean, *, bool log_target=False) "
    "-> Tensor", meta=_pair_meta("kl_div"), **dict(_LOSS, function=True))
def kl_div(xp, self, target, reduction=1, log_target=False):
    """Pointwise KL divergence target * (log(target) - self) (0 where target is 0), or
    exp(target) * (target - self) with log_target."""
    a, b, odt = _pair(xp, "kl_div", self, target)
    if log_target:
        loss = xp.exp(b) * (b - a)
    else:
        with quiet(xp):   # xlogy(t, t): 0 where t == 0, NaN for t < 0
            xlogy = xp.where(b == 0, 0, b * xp.log(xp.where(b == 0, 1, b)))
        loss = xlogy - b * a
    return _reduce(xp, loss, reduction, odt)


# ---------------------------------------------------------------------- binary cross entropy

def _bce_meta(self, target, weight=None, reduction=1):
    check_float("binary_cross_entropy", self, target, weight)
    shape = broadcast_shapes(tuple(self.shape), tuple(target.shape))
    return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                      self.device)


@op("aten::binary_cross_entropy(Tensor self, Tensor target, Tensor? weight=None, "
    "int reduction=Mean) -> Tensor", meta=_bce_meta, **_LOSS)
def binary_cross_entropy(xp, self, target, weight=None, reduction=1):
    """-w * (t * log(x) + (1 - t) * log(1 - x)), each log clamped at -100 as PyTorch."""
    check_float("binary_cross_entropy", self, target, weight)
    ct = compute_dtype(xp, self)
    x = self.astype(ct, copy=False)
    if x.size and bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    t = target.astype(ct, copy=False)
    with quiet(xp):
        lx, l1x = xp.log(x), xp.log(1 - x)
    loss = -(t * xp.maximum(lx, -100) + (1 - t) * xp.maximum(l1x, -100))
    if weight is not None:
        loss = loss * weight.astype(ct, copy=False)
    return _reduce(xp, loss, reduction, self.dtype)


def _bcel_meta(self, target, weight=None, pos_weight=None, reduction=1):
    check_float("binary_cross_entropy_with_logits", self)
    shape = broadcast_shapes(*[tuple(t.shape) for t in (self, target, weight, pos_weight)
                               if t is not None])
    return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                      self.device)


@op("aten::binary_cross_entropy_with_logits(Tensor self, Tensor target, Tensor? weight=None, "
    "Tensor? pos_weight=None, int reduction=Mean) -> Tensor", meta=_bcel_meta,
    **dict(_LOSS, function=True))
def binary_cross_entropy_with_logits(xp, self, target, weight=None, pos_weight=None,
                                     reduction=1):
    """binary_cross_entropy(sigmoid(x), t) computed stably from the logits:
    (1 - t) * x + (1 + (pos_weight - 1) * t) * (log(1 + exp(-|x|)) + max(-x, 0))."""
    check_float("binary_cross_entropy_with_logits", self)
    ct = compute_dtype(xp, self)
    x = self.astype(ct, copy=False)
    t = target.astype(ct, copy=False)
    softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)   # -log(sigmoid(x))
    if pos_weight is not None:
        lw = 1 + (pos_weight.astype(ct, copy=False) - 1) * t
        loss = (1 - t) * x + lw * softplus_neg
    else:
        loss = (1 - t) * x + softplus_neg
    if weight is not None:
        loss = loss * weight.astype(ct, copy=False)
    return _reduce(xp, loss, reduction, self.dtype)


# ---------------------------------------------------------------------- nll / cross entropy

def _nll_check(input, target, weight, nd_ok=True):
    """PyTorch's shape/dtype checks of nll_loss(_nd); returns the 'none' output shape."""
    check_float("nll_loss", input)
    s, ts = tuple(input.shape), tuple(target.shape)
    nd = len(s)
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    if not nd_ok and nd > 2:
        raise RuntimeError("input tensor should be 1D or 2D")
    if nd != 1 and ts and s[0] != ts[0]:
        raise ValueError(f"Expected input batch_size ({s[0]}) to match target batch_size "
                         f"({ts[0]}).")
    dt = dtype_of(target)
    if dt not in (_dt.int64, _dt.uint8):
        raise RuntimeError(f"expected scalar type Long but found {dt.short_name}")
    c = s[1] if nd >= 2 else s[0]
    if weight is not None and (len(weight.shape) != 1 or weight.shape[0] != c):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or "
                           f"no classes but got weight tensor of shape: "
                           f"{sizes(weight.shape)}")
    if nd <= 2:
        if len(ts) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and len(ts) == 0:
            return ()
        if nd == 1 or len(ts) == 0 or ts[0] != s[0]:
            raise RuntimeError(f"size mismatch (got input: {sizes(s)}, target: {sizes(ts)})")
        return (s[0],) if nd == 2 else ()
    expect = (s[0],) + s[2:]
    if ts != expect:
        raise RuntimeError(f"Expected target size {sizes(expect)}, got {sizes(ts)}")
    return expect


def _nll_meta(nd_ok):
    def meta(self, target, weight=None, reduction=1, ignore_index=-100):
        shape = _nll_check(self, target, weight, nd_ok)
        return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                          self.device)
    return meta


def _nll(xp, logp, target, weight, reduction, ignore_index, out_dtype):
    """-logp[target] weighted; logp (N, C, ...) or (C,), in the computation dtype."""
    if logp.ndim == 1:
        lp, t = logp[None], target.reshape(1)
    else:
        lp, t = xp.moveaxis(logp, 1, -1), target
    c = lp.shape[-1]
    t = t.astype(np.int64, copy=False)
    valid = t != ignore_index
    if t.size:
        bad = valid & ((t < 0) | (t >= c))
        if bool(bad.any()):
            raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    tc = xp.where(valid, t, 0).astype(np.int64)
    picked = xp.take_along_axis(lp, tc[..., None], axis=-1)[..., 0]
    w = xp.ones(tc.shape, lp.dtype) if weight is None else weight.astype(lp.dtype)[tc]
    w = xp.where(valid, w, 0)
    loss = xp.where(valid, -picked * w, 0)
    r = reduction_name(reduction)
    if r == "none":
        return loss.reshape(target.shape).astype(out_dtype, copy=False)
    if r == "sum":
        return xp.asarray(loss.sum()).astype(out_dtype)
    return xp.asarray(_div(xp, loss.sum(), w.sum())).astype(out_dtype)


@op("aten::nll_loss(Tensor self, Tensor target, Tensor? weight=None, int reduction=Mean, "
    "SymInt ignore_index=-100) -> Tensor", meta=_nll_meta(False), **_LOSS)
def nll_loss(xp, self, target, weight=None, reduction=1, ignore_index=-100):
    """Negative log likelihood of (N, C) or (C,) log-probabilities at class targets."""
    _nll_check(self, target, weight, False)
    ct = compute_dtype(xp, self)
    return _nll(xp, self.astype(ct, copy=False), target, weight, reduction, ignore_index,
                self.dtype)


@op("aten::nll_loss_nd(Tensor self, Tensor target, Tensor? weight=None, int reduction=Mean, "
    "SymInt ignore_index=-100) -> Tensor", meta=_nll_meta(True), **_LOSS)
def nll_loss_nd(xp, self, target, weight=None, reduction=1, ignore_index=-100):
    """nll_loss over (N, C, d1, ...) input with (N, d1, ...) targets (class dim 1)."""
    _nll_check(self, target, weight, True)
    ct = compute_dtype(xp, self)
    return _nll(xp, self.astype(ct, copy=False), target, weight, reduction, ignore_index,
                self.dtype)


def log_softmax(xp, x, axis):
    m = x.max(axis=axis, keepdims=True) if x.size else x
    if x.size:
        m = xp.where(xp.isfinite(m), m, 0)
    z = x - m
    return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


def _ce_kind(input, target, ignore_index, label_smoothing):
    check_float("cross_entropy", input)
    if tuple(input.shape) == tuple(target.shape):
        dt = dtype_of(target)
        if dt.category != _dt.FLOATING:
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {dt.short_name}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        kind = "prob"
    else:
        kind = "index"
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    return kind


def _ce_meta(self, target, weight=None, reduction=1, ignore_index=-100, label_smoothing=0.0):
    kind = _ce_kind(self, target, ignore_index, label_smoothing)
    if kind == "index":
        shape = _nll_check(self, target, weight, True)
    else:
        _prob_weight_check(self, weight)
        shape = tuple(target.shape[:1]) + tuple(target.shape[2:]) if len(target.shape) > 1 \
            else ()
    return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                      self.device)


def _prob_weight_check(input, weight):
    c = input.shape[1] if len(input.shape) > 1 else input.shape[0]
    if weight is not None and (len(weight.shape) != 1 or weight.shape[0] != c):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{c} classes or no classes but got weight tensor of shape: "
                           f"{sizes(weight.shape)}")


@op("aten::cross_entropy_loss(Tensor self, Tensor target, Tensor? weight=None, "
    "int reduction=Mean, SymInt ignore_index=-100, float label_smoothing=0.0) -> Tensor",
    meta=_ce_meta, **_LOSS)
def cross_entropy_loss(xp, self, target, weight=None, reduction=1, ignore_index=-100,
                       label_smoothing=0.0):
    """log_softmax over the class dim (1, or 0 for unbatched input) then nll_loss; targets
    are class indices, or class probabilities when shaped like the input."""
    kind = _ce_kind(self, target, ignore_index, label_smoothing)
    ct = compute_dtype(xp, self)
    cdim = 0 if self.ndim == 1 else 1
    c = self.shape[cdim]
    red = reduction_name(reduction)
    wshape = [1] * self.ndim
    wshape[cdim] = c
    if kind == "prob":
        _prob_weight_check(self, weight)
        logp = log_softmax(xp, self.astype(ct, copy=False), cdim)
        t = target.astype(ct, copy=False)
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / c
        prod = logp * t
        if weight is not None:
            prod = prod * weight.astype(ct, copy=False).reshape(wshape)
        if red == "none":
            return (-prod.sum(axis=cdim)).astype(self.dtype, copy=False)
        total = -prod.sum()
        if red == "sum":
            return xp.asarray(total).astype(self.dtype)
        return xp.asarray(_div(xp, total, self.size // c if self.size else 0)
                          ).astype(self.dtype)
    _nll_check(self, target, weight, True)
    logp = log_softmax(xp, self.astype(ct, copy=False), cdim)
    nll = _nll(xp, logp, target, weight, reduction, ignore_index, ct)
    if not label_smoothing > 0:
        return nll.astype(self.dtype, copy=False)
    ignore = target == ignore_index
    if weight is not None:
        smooth = -(logp * weight.astype(ct, copy=False).reshape(wshape)).sum(axis=cdim)
    else:
        smooth = -logp.sum(axis=cdim)
    smooth = xp.where(ignore, 0, smooth)
    if red == "mean":
        if weight is not None:
            tw = weight.astype(ct, copy=False)[xp.where(ignore, 0, target)]
            denom = xp.where(ignore, 0, tw).sum()
        else:
            denom = (~ignore).sum()
        ret = _div(xp, smooth.sum(), denom)
    elif red == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    out = (1 - label_smoothing) * nll + ret * (label_smoothing / c)
    return xp.asarray(out).astype(self.dtype, copy=False)


# ---------------------------------------------------------------------- cosine similarity

def _cos_meta(x1, x2, dim=1, eps=1e-08):
    d = _dt.promote_types(x1.dtype, x2.dtype)
    if d.category != _dt.FLOATING:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype "
                           f"is {d.short_name}")
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    k = wrap_dim(dim, len(shape))
    return TensorMeta(d, tuple(s for i, s in enumerate(shape) if i != k), x1.device)


@op("aten::cosine_similarity(Tensor x1, Tensor x2, int dim=1, float eps=1e-08) -> Tensor",
    tags=_NN, method=False, functional=True, dtypes=FLOATS, meta=_cos_meta)
def cosine_similarity(xp, x1, x2, dim=1, eps=1e-08):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along dim (broadcast x1, x2)."""
    m = _cos_meta(TensorMeta(dtype_of(x1), x1.shape, None),
                  TensorMeta(dtype_of(x2), x2.shape, None), dim, eps)
    ct = compute_dtype(xp, np.empty(0, m.dtype.np))
    shape = broadcast_shapes(x1.shape, x2.shape)
    a = xp.broadcast_to(x1.astype(ct, copy=False), shape)
    b = xp.broadcast_to(x2.astype(ct, copy=False), shape)
    k = wrap_dim(dim, a.ndim)
    na = xp.maximum(xp.sqrt((a * a).sum(axis=k, keepdims=True)), eps)
    nb = xp.maximum(xp.sqrt((b * b).sum(axis=k, keepdims=True)), eps)
    return ((a / na) * (b / nb)).sum(axis=k).astype(m.dtype.np, copy=False)
