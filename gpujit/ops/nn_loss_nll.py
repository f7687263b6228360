"""nn ops: nll_loss, nll_loss_nd and cross_entropy_loss (class-index and class-probability
targets, label smoothing, weights, ignore_index), with their derivatives. Split from
`nn_loss.py`, which imports it where these ops were (after binary_cross_entropy_with_logits)
and whose reduction helpers they use."""
from __future__ import annotations

import threading

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta
from .nn import check_float, compute_dtype, dtype_of, sizes
from .nn_loss import _LOSS, _div, not_differentiable_words, reduction_name
from .registry import op, derivative as _derivative

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
    if nd <= 2:
        if len(ts) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and len(ts) == 1 and ts[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target "
                             f"size: {ts[0]}")
        if nd == 1 and (len(ts) == 0 or ts == (1,)):
            out = ()        # (one sample; torch 2.13 takes its target as [1] too)
        elif nd == 1 or len(ts) == 0 or ts[0] != s[0]:
            raise RuntimeError(f"size mismatch (got input: {sizes(s)}, target: {sizes(ts)})")
        else:
            out = (s[0],) if nd == 2 else ()
    else:
        out = (s[0],) + s[2:]
        if ts != out:
            raise RuntimeError(f"Expected target size {sizes(out)}, got {sizes(ts)}")
    dt = dtype_of(target)        # (PyTorch 2.13: after the shape checks, before the weight's)
    if dt not in (_dt.int64, _dt.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {dt.short_name}")
    c = s[1] if nd >= 2 else s[0]
    if weight is not None and (len(weight.shape) != 1 or weight.shape[0] != c):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or "
                           f"no classes but got weight tensor of shape: "
                           f"{sizes(weight.shape)}")
    if weight is not None and dtype_of(weight) != dtype_of(input):
        # (ATen's kernel reads the weights as the input's scalar type; gpujit cast them)
        raise RuntimeError(f"expected scalar type {dtype_of(input).short_name} but found "
                           f"{dtype_of(weight).short_name}")
    return out


def _nll_meta(nd_ok):
    def meta(self, target, weight=None, reduction=1, ignore_index=-100):
        shape = _nll_check(self, target, weight, nd_ok)
        return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                          self.device)
    return meta


def _nll(xp, logp, target, weight, reduction, ignore_index, out_dtype):
    """-logp[target] weighted; logp (N, C, ...) or (C,), in the computation dtype. On the
    CPU, 'sum' and 'mean' add as PyTorch's CPU kernels (_cascade_sum) in out_dtype."""
    if logp.ndim == 1:
        lp, t = logp[None], target.reshape(1)
    elif logp.ndim == 2:
        lp, t = logp, target        # (the class dim is the last already)
    else:
        lp, t = xp.moveaxis(logp, 1, -1), target
    c = lp.shape[-1]
    t = t.astype(np.int64, copy=False)
    if xp is np and weight is None and t.size and ignore_index < 0 and \
            reduction_name(reduction) != "none":
        tf = t.reshape(-1)
        n = tf.size
        # (every target a class: as unsigned, a negative target is beyond any class count;
        # one reduction where min() and max() were two)
        if int(tf.view(np.uint64).max()) < c:
            # (the common case: every target a class, none ignored, no weights; the same
            # cascade sum as _nll_cascade's, without its masks and index lists)
            dt = np.dtype(out_dtype)
            with np.errstate(over="ignore", invalid="ignore"):
                vals = -lp.reshape(-1, c)[np.arange(n), tf].astype(dt, copy=False)
                loss = _cascade_total(vals, dt)
                if reduction_name(reduction) == "mean":
                    loss = loss / dt.type(n)
            return np.asarray(loss, dt)
    valid = t != ignore_index
    if t.size:
        bad = valid & ((t < 0) | (t >= c))
        if bool(bad.any()):
            raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    r = reduction_name(reduction)
    if r != "none" and xp is np:
        return _nll_cascade(lp, t, valid, weight, r, out_dtype)
    tc = xp.where(valid, t, 0).astype(np.int64)
    picked = xp.take_along_axis(lp, tc[..., None], axis=-1)[..., 0]
    w = xp.ones(tc.shape, lp.dtype) if weight is None else weight.astype(lp.dtype)[tc]
    w = xp.where(valid, w, 0)
    loss = xp.where(valid, -picked * w, 0)
    if r == "none":
        shape = () if logp.ndim == 1 else target.shape
        return loss.reshape(shape).astype(out_dtype, copy=False)
    if r == "sum":
        return xp.asarray(loss.sum()).astype(out_dtype)
    return xp.asarray(_div(xp, loss.sum(), w.sum())).astype(out_dtype)


def _nll_cascade(lp, t, valid, weight, reduction, dt):
    """nll_loss's 'sum' / 'mean' as PyTorch 2.13's CPU kernels (nll_loss_out_frame,
    nll_loss2d_forward_out_frame) compute them, in the input's dtype dt (float16 rounds
    every step to half: its Half arithmetic): over the targets in C order, skipping
    ignore_index, loss -= logp[target] (* weight[target], rounded) and the weights added
    in a cascade sum (_cascade_sum), the mean their quotient (the count of targets not
    ignored, as dt, without weights). cross_entropy(half) is nll_loss of half log_softmax:
    of 5 float16 (5, 3) losses one differed from the float32 sum, of (37, 4) two."""
    dt = np.dtype(dt)
    lp = lp.reshape(-1, lp.shape[-1])
    t, valid = t.reshape(-1), valid.reshape(-1)
    idx = np.flatnonzero(valid)
    tv = t[idx]
    vals = -lp[idx, tv].astype(dt, copy=False)
    if weight is not None:
        w = weight.astype(dt, copy=False)[tv]
        with np.errstate(over="ignore"):
            vals = np.stack([vals * w, w], axis=1)      # (-x * w: exact negation of x * w)
        loss, total = _cascade_sum(idx, vals, t.size, dt)
    else:
        loss = _cascade_sum(idx, vals[:, None], t.size, dt)[0]
        with np.errstate(over="ignore"):
            total = dt.type(idx.size)
    if reduction == "mean":
        with np.errstate(all="ignore"):
            loss = loss / total
    return np.asarray(loss, dt)


_CASCADE_LEVELS = 8


def _cascade_sum(idx, vals, numiter, dt):
    """PyTorch's CPU cascade sum (LossNLL.cpp) of the rows of vals (one column per sum), in
    dtype dt; idx: each row's linear index among the numiter elements (ascending; skipped
    ones absent). Level 0 adds each value; after a value whose index is a multiple of
    step = 2 ** max(4, ceil(log2(numiter)) // 8), level 0 is added to level 1 and zeroed,
    after one that is a multiple of step ** 2 level 1 to level 2 too, ... (8 levels); the
    result is the levels added in order, from 0. Each level's run between such indices
    is a sequential sum from 0 (np.add.accumulate: float16 rounded to half per add, as
    c10::Half's), vectorized across runs; zeros padding a run's end change no sum."""
    power = max(4, (int(numiter) - 1).bit_length() // _CASCADE_LEVELS if numiter > 1 else 0)
    step = 1 << power
    if idx.size == numiter:
        return _cascade_sum_all(vals, step, dt)
    k = vals.shape[1]
    residual = []
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(_CASCADE_LEVELS):
            if idx.size <= 1:
                # (one value left: it passes up as it is, -0. made 0. by the add from 0)
                residual.append(vals[0] + dt.type(0) if idx.size else np.zeros(k, dt))
                break
            if j + 1 < _CASCADE_LEVELS:
                ends = idx % step ** (j + 1) == 0
            else:
                ends = np.zeros(idx.size, bool)
            nends = np.cumsum(ends)
            run = nends - ends                  # the run of each value (ends before it)
            nrun = int(nends[-1]) + 1
            first = np.searchsorted(run, np.arange(nrun))
            pos = np.arange(idx.size) - first[run]
            m = np.zeros((nrun, int(pos.max()) + 2, k), dt)   # (column 0: the 0 it starts at)
            m[run, pos + 1] = vals
            sums = np.add.accumulate(m, axis=1)[:, -1]
            residual.append(sums[-1])
            idx, vals = idx[ends], sums[:-1]
        total = np.zeros(k, dt)
        for r in residual:
            total = total + r
    return total


def _cascade_total(vals, dt):
    """_cascade_sum_all of the 1-D vals (every index holds a value), the sum alone. Up to
    step ** 2 values (all but huge batches) written out: level 0's runs of step values
    after index 0 (whose value ends a run of its own and passes up to the last level),
    each summed from 0 in order, and its residual run; level 1 adds those run sums from 0
    in order (no index below step ** 2 but 0 ends one of its runs); the total is the
    levels' residuals added from 0: ((0 + level 0's) + level 1's) + vals[0]."""
    n = vals.shape[0]
    z = dt.type(0)
    power = max(4, (n - 1).bit_length() // _CASCADE_LEVELS if n > 1 else 0)
    step = 1 << power
    if n <= step:
        # (one run: the values after the first added in order from 0, then the first)
        loss = z + (np.add.accumulate(vals[1:])[-1] + z) if n > 1 else z
        return loss + (vals[0] + z)
    if n > step * step:
        return _cascade_sum_all(vals[:, None], step, dt)[0]
    ends = (n - 1) // step
    acc = np.add.accumulate(vals[1:1 + ends * step].reshape(ends, step), axis=1)
    level1 = acc[:, -1] + z
    tail = vals[1 + ends * step:]
    loss = z + (np.add.accumulate(tail)[-1] + z) if tail.shape[0] else z + z
    loss = loss + (np.add.accumulate(level1)[-1] + z)
    return loss + (vals[0] + z)


def _run_sums(v, run):
    """The sequential sums from 0 of v's rows (v: (runs * run, k)) in runs of `run` rows:
    np.add.accumulate is sequential; + 0 makes a -0. sum the +0. that adding from 0 gives
    (other values are the same either way)."""
    b = v.reshape(-1, run, v.shape[-1])
    return np.add.accumulate(b, axis=1)[:, -1] + v.dtype.type(0)


def _cascade_sum_all(vals, step, dt):
    """_cascade_sum when every index holds a value (no target ignored: the common case), by
    whole levels: level 0's runs end at indices 0, step, 2 * step, ... (its run sums are
    reshaped blocks of step rows, one accumulate), the values after the last end its
    residual; the run sums reach level 1 at those indices, whose runs end likewise at
    every step-th of them (multiples of step ** 2), and so on; the last level adds all that
    reaches it. The same additions in the same order as the element-by-element cascade
    (F.cross_entropy (256, 10) float32: ~20 us instead of ~90 us for the sum)."""
    k = vals.shape[1]
    zero = dt.type(0)
    total = np.zeros(k, dt)
    v = vals
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(_CASCADE_LEVELS - 1):
            n = v.shape[0]
            if n <= 1:
                break       # (one value left: it passes up to the last level as it is)
            ends = (n - 1) // step            # runs ending at step, 2 * step, ... <= n - 1
            tail = v[1 + ends * step:]
            total = total + (_run_sums(tail, tail.shape[0])[0] if tail.shape[0] else zero)
            up = np.empty((ends + 1, k), dt)
            up[0] = v[0] + zero               # (index 0 ends a run of its own)
            if ends:
                up[1:] = _run_sums(v[1:1 + ends * step], step)
            v = up
        if v.shape[0]:
            total = total + _run_sums(v, v.shape[0])[0]
    return total


@op("aten::nll_loss(Tensor self, Tensor target, Tensor? weight=None, int reduction=Mean, "
    "SymInt ignore_index=-100) -> Tensor", meta=_nll_meta(False), **_LOSS)
def nll_loss(xp, self, target, weight=None, reduction=1, ignore_index=-100):
    """Negative log likelihood of (N, C) or (C,) log-probabilities at class targets."""
    _nll_check(self, target, weight, False)
    ct = compute_dtype(xp, self)
    return _nll(xp, self.astype(ct, copy=False), target, weight, reduction, ignore_index,
                self.dtype)


@op("aten::nll_loss_nd(Tensor self, Tensor target, Tensor? weight=None, int reduction=Mean, "
    "SymInt ignore_index=-100) -> Tensor", meta=_nll_meta(True), contiguous=True, **_LOSS)
def nll_loss_nd(xp, self, target, weight=None, reduction=1, ignore_index=-100):
    """nll_loss over (N, C, d1, ...) input with (N, d1, ...) targets (class dim 1)."""
    _nll_check(self, target, weight, True)
    ct = compute_dtype(xp, self)
    return _nll(xp, self.astype(ct, copy=False), target, weight, reduction, ignore_index,
                self.dtype)


def log_softmax(xp, x, axis):
    """aten::log_softmax's formula (reduction_scans._softmax): a row whose max is not
    finite is nan, as torch's cross_entropy of [[inf, 1.]] is nan for either class."""
    if not x.size:
        return x
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        z = x - x.max(axis=axis, keepdims=True)
        return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


# cross_entropy recording gradients: its derivative's "logp" compute (log_softmax through
# the registry, a recorded intermediate) runs just before the op; the op's kernel takes
# those log-probabilities instead of computing them again (the same formula, so the same
# values). One entry per thread: (input array, its version counter, the version, logp
# array), taken by the next kernel call whatever it is; used only for the very array,
# unwritten since.
_logp_cache = threading.local()


def _ce_logp(self):
    r = self.log_softmax(0 if self.dim() == 1 else 1)
    _logp_cache.entry = (self._data, self._vc, self._vc[0], r._data)
    return r


def _taken_logp(xp, self, ct, cdim):
    e = getattr(_logp_cache, "entry", None)
    if e is not None:
        _logp_cache.entry = None
        if e[0] is self and e[1][0] == e[2] and e[3].dtype == ct:
            return e[3]
    if xp is np and ct == np.float32 and self.dtype == ct and cdim == self.ndim - 1 and \
            self.size:
        # (the eager log_softmax's kernel, ATen's bit for bit, as the recorded-gradient path
        # above gets it: one output array, not the formula's three temporaries, ~3x faster)
        from .reduction_scans import _softmax_kernels
        k = _softmax_kernels()
        x2 = k.lastdim_2d(self)
        y = np.empty(x2.shape, np.float32)
        k.softmax_lastdim(x2, y, k.LANES, True)
        return y.reshape(self.shape)
    return log_softmax(xp, self.astype(ct, copy=False), cdim)


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
        return TensorMeta(_prob_dtype(self, target, weight),
                          shape if reduction_name(reduction) == "none" else (), self.device)
    return TensorMeta(self.dtype, shape if reduction_name(reduction) == "none" else (),
                      self.device)


def _prob_dtype(input, target, weight):
    """Class-probability targets: torch's composite -(log_softmax(x) * t (* w)).sum(...)
    promotes, so a float64 target (or weight) makes a float64 loss, a float32 one of
    half logits a float32 loss."""
    d = _dt.promote_types(dtype_of(input), dtype_of(target))
    return d if weight is None else _dt.promote_types(d, dtype_of(weight))


def _prob_weight_check(input, weight):
    c = input.shape[1] if len(input.shape) > 1 else input.shape[0]
    if weight is not None and (len(weight.shape) != 1 or weight.shape[0] != c):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                           f"{c} classes or no classes but got weight tensor of shape: "
                           f"{sizes(weight.shape)}")


@op("aten::cross_entropy_loss(Tensor self, Tensor target, Tensor? weight=None, "
    "int reduction=Mean, SymInt ignore_index=-100, float label_smoothing=0.0) -> Tensor",
    meta=_ce_meta, contiguous=True, **_LOSS)
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
        odt = _prob_dtype(self, target, weight).np
        logp = _taken_logp(xp, self, ct, cdim)
        if odt != self.dtype:
            # (the log-probabilities in the input's dtype, the rest in the promoted one)
            ct = compute_dtype(xp, np.empty(0, odt))
            logp = logp.astype(self.dtype, copy=False).astype(ct, copy=False)
        t = target.astype(ct, copy=False)
        if label_smoothing > 0:
            # (no classes: t is empty, nothing to smooth; no ZeroDivisionError)
            t = t * (1 - label_smoothing) + label_smoothing / max(c, 1)
        prod = logp * t
        if weight is not None:
            prod = prod * weight.astype(ct, copy=False).reshape(wshape)
        if red == "none":
            return (-prod.sum(axis=cdim)).astype(odt, copy=False)
        total = -prod.sum()
        if red == "sum":
            return xp.asarray(total).astype(odt)
        return xp.asarray(_div(xp, total, self.size // c if self.size else 0)
                          ).astype(odt)
    _nll_check(self, target, weight, True)
    if xp is np and self.dtype != ct:
        return _cross_entropy_half(self, target, weight, red, ignore_index, label_smoothing,
                                   cdim)
    logp = _taken_logp(xp, self, ct, cdim)
    nll = _nll(xp, logp, target, weight, reduction, ignore_index, ct)
    if not label_smoothing > 0:
        return nll.astype(self.dtype, copy=False)
    ignore = target == ignore_index
    prod = logp if weight is None else logp * weight.astype(ct, copy=False).reshape(wshape)
    smooth = -_aten_sum(xp, prod, (cdim,))
    smooth = xp.where(ignore, 0, smooth)
    if red == "mean":
        if weight is not None:
            tw = weight.astype(ct, copy=False)[xp.where(ignore, 0, target)]
            denom = xp.where(ignore, 0, tw).sum()
        else:
            denom = (~ignore).sum()
        ret = _div(xp, _aten_sum(xp, smooth, None), denom)
    elif red == "sum":
        ret = _aten_sum(xp, smooth, None)
    else:
        ret = smooth
    out = (1 - label_smoothing) * nll + ret * (label_smoothing / max(c, 1))
    return xp.asarray(out).astype(self.dtype, copy=False)



def _aten_sum(xp, a, axes):
    """a.sum(axes) in ATen's CPU order where known (reduction_cascade: label smoothing's
    row sums were an ulp off torch's with NumPy's pairwise order), else NumPy's."""
    if xp is np and a.dtype in _RAW_CE and a.size:
        from .reduction_cascade import cascade_sum
        r = cascade_sum(a, axes, False)
        if r is not None:
            return r
    return a.sum(axis=axes)


def _cross_entropy_half(self, target, weight, red, ignore_index, label_smoothing, cdim):
    """float16 cross_entropy of class indices on the CPU as PyTorch 2.13 computes it: its
    ops on Half tensors. nll_loss of the half log_softmax (_nll_cascade for 'mean' / 'sum';
    'none': -logp[target] * weight[target], rounded to half); with label_smoothing
    (cross_entropy_loss_label_smoothing) the smoothing term -(logp * weight).sum(class
    dim) (the products rounded to half, each sum accumulated in float and rounded), 0 where
    ignored, its sum (/ the weights' or the targets' count for 'mean'), and (1 - ls) *
    nll + term * (ls / C), each op rounded to half. gpujit computed all of it in float32
    and rounded once: 59 of 66 'none' results and 39 of 67 smoothed means differed."""
    from .reduction_scans import _softmax
    h, f = np.float16, np.float32
    lp = _softmax(np, self, cdim, None, True)
    nll = _nll(np, lp, target, weight, red, ignore_index, self.dtype)
    if not label_smoothing > 0:
        return nll
    c = lp.shape[cdim]
    target = np.asarray(target)
    ignore = target == ignore_index
    with np.errstate(all="ignore"):
        if weight is not None:
            wshape = [1] * lp.ndim
            wshape[cdim] = c
            terms = lp * weight.astype(h, copy=False).reshape(wshape)
        else:
            terms = lp
        smooth = -(terms.astype(f).sum(axis=cdim).astype(h))
        smooth = np.where(ignore, h(0), smooth)
        if red == "none":
            ret = smooth
        else:
            ret = smooth.astype(f).sum().astype(h)
            if red == "mean":
                if weight is not None:
                    denom = weight.astype(f)[target[~ignore]].sum().astype(h)
                else:
                    denom = np.count_nonzero(~ignore)
                ret = (f(ret) / f(denom)).astype(h)
        a = (f(1 - label_smoothing) * np.asarray(nll).astype(f)).astype(h)
        b = (np.asarray(ret).astype(f) * f(label_smoothing / c)).astype(h)
        return np.asarray((a.astype(f) + b.astype(f)).astype(h))


# --------------------------------------------------------------------------------------
# a class weight that requires grad: PyTorch's nll_loss_forward / nll_loss2d_forward take
# none (check_no_requires_grad, at the call), where cross_entropy's class-probability
# targets differentiate it


def _weight_refused(self, target, weight, index_targets=True):
    if weight is None or not weight.requires_grad or not index_targets:
        return None
    if self.dim() >= 2 and target.dim() >= 1 and self.shape[0] != target.shape[0]:
        return None         # (the batch-size check runs first: the op raises it)
    fn = "nll_loss_forward" if self.dim() <= 2 else "nll_loss2d_forward"
    return not_differentiable_words(fn, "weight")


def _nll_refused(self, target, weight=None, *rest):
    return _weight_refused(self, target, weight)


def _ce_refused(self, target, weight=None, *rest):
    return _weight_refused(self, target, weight, tuple(self.shape) != tuple(target.shape))


_nll_refused.args = _ce_refused.args = ("weight",)      # (the arguments it may refuse)
nll_loss.op.refuse_grad = nll_loss_nd.op.refuse_grad = _nll_refused
cross_entropy_loss.op.refuse_grad = _ce_refused


# --------------------------------------------------------------------------------------
# derivatives, written with registry ops (PyTorch's formulas; the class weights get
# their gradients too)


def _batched(self, target, like_input=False):
    """(N, C, d...) input: as is; an unbatched (C,) input becomes a batch of one."""
    if self.dim() == 1:
        return self.unsqueeze(0), (target.unsqueeze(0) if like_input else target.reshape(1))
    return self, target


def _class_targets(self, target, weight, ignore_index):
    """Each row's class (ignored rows read class 0) and its weight: weight[t] (1 without
    weights), 0 for ignored rows."""
    t = target.long()
    ignored = t == ignore_index
    tc = t.masked_fill(ignored, 0)
    w = self.new_ones(tuple(t.shape)) if weight is None else weight.take(tc)
    return tc, w.masked_fill(ignored, 0)


def _row_scale(grad, reduction, w, rows_shape, t=None, ignore_index=None):
    """Each row's share of the output gradient: 'mean' divides by the total weight (with
    class weights t and ignore_index given: _total_weight)."""
    r = reduction_name(reduction)
    if r == "none":
        return grad.reshape(rows_shape)
    return grad / _total_weight(w, t, ignore_index) if r == "mean" else grad


def _total_weight(w, t, ignore_index):
    """'mean''s divisor as PyTorch's backward reads it, its forward's total_weight: on the
    CPU the cascade sum of the class weights of the targets not ignored, in their dtype
    (_cascade_sum: float16 rounds every add; its sum of 4..64 random half weights was off
    in 45 of 100 nll_loss gradients). Without class weights (t None) the count, and on
    another device or for a weight recorded for gradients w.sum()."""
    if t is None or w.device.type != "cpu" or w.requires_grad:
        return w.sum()
    from ..jit.trace import is_tracing
    if is_tracing():
        return w.sum()
    tn = t.reshape(-1).numpy()
    wn = w.detach().reshape(-1).numpy()
    idx = np.flatnonzero(tn != ignore_index)
    return w.new_full((), float(_cascade_sum(idx, wn[idx][:, None], tn.size, wn.dtype)[0]))


def _per_class(t):
    """(N, C, d...) -> (C,): summed over everything but the class dim."""
    return t.movedim(1, -1).flatten(0, -2).sum(0)     # (no -1: C may be 0)


def _class_weight_grad(weight, tc, valid, at_target, per_class=None):
    """Gradient of the class weights: the per-row terms `at_target` added at each row's
    class (ignored rows left out), plus terms laid out per class (N, C, d...)."""
    at_target = at_target.masked_fill(valid.logical_not(), 0)
    g = weight.new_zeros(tuple(weight.shape)).scatter_add(0, tc.reshape(-1),
                                                          at_target.reshape(-1))
    return g if per_class is None else g + _per_class(per_class)


def _mean_weight_share(grad, reduction, result, w):
    """'mean' divides by the total weight of the rows: d(L / W)/dw adds -L / W per row."""
    if reduction_name(reduction) == "mean":
        return -grad * result / w.sum()
    return 0


# the output only for the weight's gradient (of a 'mean'): saved only where the weight's
# gradient is needed (PyTorch keeps the total weight, not the output: a write into the
# output after the op is no error)
@_derivative(nll_loss, nll_loss_nd, reads={
    "self": ("self", "target", "weight"), "target": (),
    "weight": ("self", "target", "weight", "result")})
def _nll_grad(grad, self, target, weight, reduction, ignore_index, result, needs_grad):
    x, t = _batched(self, target)
    tc, w = _class_targets(x, t, weight, ignore_index)
    s = _row_scale(grad, reduction, w, tuple(t.shape), None if weight is None else t,
                   ignore_index)
    # (ignored rows get nothing: 0, not 0 * inf, when every row is ignored; _ce_index_grad)
    gx = x.new_zeros(tuple(x.shape)).scatter(
        1, tc.unsqueeze(1), (-(s * w)).masked_fill(t.long().eq(ignore_index), 0).unsqueeze(1))
    gw = None
    if weight is not None and needs_grad[2]:    # (result is kept only then)
        picked = x.gather(1, tc.unsqueeze(1)).squeeze(1)
        share = -picked * s + _mean_weight_share(grad, reduction, result, w)
        gw = _class_weight_grad(weight, tc, t.long().ne(ignore_index), share)
    return gx.reshape(self.shape), None, gw


def _class_shape(x, weight):
    """weight (C,) shaped to broadcast along the class dim 1 of x."""
    return weight.reshape([-1 if i == 1 else 1 for i in range(x.dim())])


def _ce_probs_grad(grad, q, weight, reduction, eps, logp, needs_grad):
    """Class-probability targets: loss = -sum_c w_c q_c logp_c per row, q = t (1 - eps) +
    eps / C (_smoothed); 'mean' divides by the number of rows. Returns (d/dlogp, d/dt,
    d/dweight), None for those needs_grad (input, target, weight) does not ask for (q is
    None when only the target's is asked for, weight when only the weight's)."""
    c = logp.shape[1]
    r = reduction_name(reduction)
    if r == "none":
        s = grad.reshape(tuple(logp.shape[:1]) + tuple(logp.shape[2:])).unsqueeze(1)
    else:
        s = grad / max(logp.numel() // max(c, 1), 1) if r == "mean" else grad
    wc = 1 if weight is None else _class_shape(logp, weight)
    return (-(s * q) * wc if needs_grad[0] else None,
            -(s * logp) * ((1 - eps) * wc) if needs_grad[1] else None,
            _per_class(-(s * q * logp)) if needs_grad[2] else None)


def _ce_index_grad(grad, x, t, weight, reduction, ignore_index, eps, logp, result,
                   weight_grad):
    """Class-index targets: loss = -(1 - eps) w_t logp_t - eps / C sum_c w_c logp_c per
    row that is not ignored; 'mean' divides by the total w_t. Returns (d/dlogp, d/dweight)."""
    c = x.shape[1]
    tc, w = _class_targets(x, t, weight, ignore_index)
    s = _row_scale(grad, reduction, w, tuple(t.shape), None if weight is None else t,
                   ignore_index)
    valid = t.long().ne(ignore_index)
    # (ignored rows get nothing, as PyTorch's backward writes only the others: 0, not
    # 0 * inf, when every row is ignored and 'mean' divides by a total weight of 0)
    ignored = valid.logical_not()
    glogp = x.new_zeros(tuple(x.shape)).scatter(
        1, tc.unsqueeze(1), (-(1 - eps) * s * w).masked_fill(ignored, 0).unsqueeze(1))
    smooth = None
    if eps > 0:
        smooth = (-(eps / max(c, 1)) * s * valid).masked_fill(ignored, 0).unsqueeze(1)
        glogp = glogp + (smooth if weight is None else smooth * _class_shape(x, weight))
    gw = None
    if weight_grad:
        picked = logp.gather(1, tc.unsqueeze(1)).squeeze(1)
        share = -(1 - eps) * picked * s + _mean_weight_share(grad, reduction, result, w)
        gw = _class_weight_grad(weight, tc, valid, share,
                                None if smooth is None else smooth * logp)
    return glogp, gw


def _smoothed(target, eps, self):
    """The class probabilities with label smoothing eps: t (1 - eps) + eps / C."""
    c = self.shape[0 if self.dim() == 1 else 1]
    return target * (1 - eps) + eps / max(c, 1) if eps > 0 else target


def _ce_probs(self, target):
    """Whether cross_entropy's target holds class probabilities (the input's shape)."""
    return tuple(self.shape) == tuple(target.shape)


def _ce_grad_raw(xp, grad, self_shape, target_shape, reduction, ignore_index,
                 label_smoothing, res, logp, tgt, wts, needs_grad):
    """_cross_entropy_grad on the arrays for its common case: (N, C) input, class-index
    targets, no weights, no label smoothing, a 'mean' or 'sum' (the classifier's loss):
    the registry calls of _ce_index_grad and log_softmax's backward as their ufuncs (the
    scatter of -s * w into zeros, its row sums, glogp - exp(logp) * rowsum), so the
    gradient is the formula's bit for bit; NotImplemented for any other case."""
    red = reduction_name(reduction)
    if wts is not None or label_smoothing != 0 or len(self_shape) != 2 or \
            len(target_shape) != 1 or red == "none" or not needs_grad[0] or \
            needs_grad[2] or logp.ndim != 2 or grad.ndim != 0 or \
            grad.dtype != logp.dtype or logp.dtype not in _RAW_CE or \
            not logp.flags.c_contiguous or tgt is None or tgt.dtype.kind not in "iu":
        return NotImplemented
    t = tgt.astype(np.int64, copy=False)
    ignored = t == ignore_index
    tc = xp.where(ignored, 0, t)
    w = xp.ones(t.shape, logp.dtype)
    w[ignored] = 0
    s = xp.true_divide(grad, w.sum()) if red == "mean" else grad
    # (an ignored row gets nothing, as PyTorch's backward writes only the others: 0, not
    # 0 * inf, when every row is ignored and 'mean' divides by a total weight of 0)
    val = xp.where(ignored, 0, xp.multiply(xp.negative(s), w)).astype(logp.dtype, copy=False)
    glogp = xp.zeros(logp.shape, logp.dtype)
    glogp[xp.arange(t.shape[0]), tc] = val
    if xp is np and logp.dtype == np.float32:
        # (log_softmax's backward over the last dim: ATen's kernel, ops/_softmax_kernel)
        from . import _softmax_kernel as _K
        gx = np.empty(logp.shape, np.float32)
        _K.softmax_backward_lastdim(glogp, logp, gx, _K.LANES, True)
        return gx, None, None
    rows = glogp.sum(axis=1, keepdims=True)
    return xp.subtract(glogp, xp.multiply(xp.exp(logp), rows)), None, None


_RAW_CE = (np.dtype(np.float32), np.dtype(np.float64))


# PyTorch's cross_entropy is log_softmax then nll_loss (or the probabilities' product):
# it saves the log-probabilities, never the input; the target and the weight only where
# a needed gradient reads them (the probabilities' target gradient reads neither the
# target nor, for the weight's, the weight)
@_derivative(cross_entropy_loss, computes={
    "logp": _ce_logp,
    "tgt": lambda self, target, label_smoothing, needs_grad: (
        target if not _ce_probs(self, target) else
        _smoothed(target, label_smoothing, self) if needs_grad[0] or needs_grad[2]
        else None),
    "wts": lambda self, target, weight, needs_grad: (
        weight if needs_grad[0] or needs_grad[1 if _ce_probs(self, target) else 2]
        else None),
    # the output, only for the weight's gradient of a 'mean' over class indices
    "res": lambda self, target, reduction, result, needs_grad: (
        result if needs_grad[2] and not _ce_probs(self, target) and
        reduction_name(reduction) == "mean" else None)},
    reads={"self": ("logp", "tgt", "wts"), "target": ("logp", "wts"),
           "weight": ("logp", "tgt", "wts", "res")}, raw=_ce_grad_raw)
def _cross_entropy_grad(grad, self_shape, target_shape, reduction, ignore_index,
                        label_smoothing, res, logp, tgt, wts, needs_grad):
    """The gradient g of the log-probabilities, then log_softmax's backward
    g - softmax * sum(g) along the class dim."""
    probs = tuple(self_shape) == tuple(target_shape)
    unbatched = len(self_shape) == 1
    lp = logp.unsqueeze(0) if unbatched else logp
    t = tgt
    if t is not None and unbatched:
        t = t.unsqueeze(0) if probs else t.reshape(1)
    gt = None
    if probs:
        glogp, gt, gw = _ce_probs_grad(grad, t, wts, reduction, label_smoothing, lp,
                                       needs_grad)
        if gt is not None:
            gt = gt.reshape(target_shape)
    else:
        glogp, gw = _ce_index_grad(grad, lp, t, wts, reduction, ignore_index,
                                   label_smoothing, lp, res, needs_grad[2])
    gx = None
    if needs_grad[0]:
        # (log_softmax's backward: a float16 gradient computed in float32 and rounded
        # once, as PyTorch's _log_softmax_backward_data)
        g, r = (glogp.float(), lp.float()) if glogp.dtype == _dt.float16 else (glogp, lp)
        from .reduction_scans import _lastdim_kernel_grad
        gx = _lastdim_kernel_grad(g, r, 1, True) if lp.dim() == 2 else None
        if gx is None:
            gx = g - r.exp() * g.sum(1, keepdim=True)
        gx = gx.to(glogp.dtype).reshape(self_shape)
    return gx, gt, gw


# (PyTorch's NllLossBackward0 has one edge, self's: target and weight are not differentiated
# in derivatives.yaml; gpujit's weight gradient for a weight that requires grad stays)
nll_loss.op.derivative.edgeless = nll_loss_nd.op.derivative.edgeless = ("target", "weight")
# (cross_entropy is log_softmax then nll_loss in PyTorch: its node's one edge is the
# input's; a target of probabilities that requires grad keeps its edge)
cross_entropy_loss.op.derivative.edgeless = ("target", "weight")


# --------------------------------------------------------------------------------------
# cross_entropy recording gradients: PyTorch's composite (LossNLL.cpp's cross_entropy_loss),
# each op its node: log_softmax then nll_loss_nd (NllLossBackward0 -> LogSoftmaxBackward0),
# with label smoothing the mix of both losses (AddBackward0 -> (MulBackward1 -> NllLoss...,
# MulBackward1 -> DivBackward0 -> SumBackward0 -> MaskedFillBackward0 ...)), class
# probabilities -(logp * q).sum() / rows (DivBackward1 -> NegBackward0 -> SumBackward0 ->
# MulBackward0 -> LogSoftmaxBackward0)

_CE_DTYPES = frozenset({"float32", "float64", "float16", "bfloat16"})


def _ce_composite(self, target, weight=None, reduction=1, ignore_index=-100,
                  label_smoothing=0.0):
    from .registry import OPS, _Tensor
    from .node_names import aten_scalars
    if not (isinstance(self, _Tensor) and isinstance(target, _Tensor)) or \
            self._dtype.name not in _CE_DTYPES or self._data.ndim < 1 or \
            (weight is not None and (not isinstance(weight, _Tensor) or
                                     weight._dtype is not self._dtype)):
        return NotImplemented       # (float16 / bfloat16, odd arguments: the op's one node)
    cross_entropy_loss.op.meta(self, target, weight, reduction, ignore_index,
                               label_smoothing)           # (its checks, its words)
    red = reduction_name(reduction)
    cdim = 0 if self.dim() == 1 else 1
    c = self.shape[cdim]
    logp = OPS["aten::log_softmax.int"].public(self, cdim)
    wshape = [1] * self.dim()
    wshape[cdim] = c
    with aten_scalars():
        if tuple(self.shape) == tuple(target.shape):     # (class probabilities)
            q = target
            if label_smoothing > 0:
                q = target * (1 - label_smoothing) + label_smoothing / max(c, 1)
            prod = logp * q
            if weight is not None:
                prod = prod * weight.view(wshape)
            if red == "none":
                return -prod.sum(cdim)
            if red == "sum":
                return -prod.sum()
            total = -prod.sum()
            if self.numel() == 0:
                return total.fill_(float("nan"))
            return total / (self.numel() // c)
        nll = OPS["aten::nll_loss_nd"].public(logp, target, weight, reduction, ignore_index)
        if not label_smoothing > 0:
            return nll
        ignore = target == ignore_index
        smooth = -(logp * weight.view(wshape)).sum(cdim) if weight is not None \
            else -logp.sum(cdim)
        smooth = smooth.masked_fill(ignore, 0.0)
        if red == "mean":
            if weight is not None:
                ret = smooth.sum() / weight.gather(0, target.masked_select(
                    ignore.logical_not()).flatten()).sum()
            else:
                ret = smooth.sum() / ignore.logical_not().sum()
        elif red == "sum":
            ret = smooth.sum()
        else:
            ret = smooth
        # (no classes: as the op, no ZeroDivisionError)
        return (1 - label_smoothing) * nll + ret * (label_smoothing / max(c, 1))


cross_entropy_loss.op.composite = _ce_composite


def _nll_grad_raw(xp, grad, self, target, weight, reduction, ignore_index, result,
                  needs_grad):
    """_nll_grad on the arrays for the classifier's case (an (N, C) float32 / float64
    input, int64 class indices, no weights, 'mean' or 'sum'): -s written at each row's
    target into zeros (s: grad, / the rows not ignored for 'mean'), an ignored row 0, as
    the registry ops of the formula write it (one value per row: no sum to order)."""
    if weight is not None or self is None or self.ndim != 2 or target is None or \
            target.ndim != 1 or target.dtype.kind not in "iu" or needs_grad[2] or \
            grad.ndim != 0 or grad.dtype != self.dtype or self.dtype not in _RAW_CE:
        return NotImplemented
    red = reduction_name(reduction)
    if red == "none":
        return NotImplemented
    t = target.astype(np.int64, copy=False)
    n, c = self.shape
    if xp is np and not 0 <= ignore_index < c and n and n < 1 << 24 and \
            int(t.view(np.uint64).max()) < c:
        # (no target ignored, every one a class: the weights are ones, their sum n; the
        # same values without the masks)
        s = xp.true_divide(grad, self.dtype.type(n)) if red == "mean" else grad
        g = xp.zeros(self.shape, self.dtype)
        g[xp.arange(n), t] = xp.negative(s)
        return g, None, None
    ignored = t == ignore_index
    tc = xp.where(ignored, 0, t)
    w = xp.ones(t.shape, self.dtype)
    w[ignored] = 0
    s = xp.true_divide(grad, w.sum()) if red == "mean" else grad
    val = xp.where(ignored, 0, xp.multiply(xp.negative(s), w)).astype(self.dtype, copy=False)
    g = xp.zeros(self.shape, self.dtype)
    g[xp.arange(t.shape[0]), tc] = val
    return g, None, None


nll_loss.op.derivative.raw = nll_loss_nd.op.derivative.raw = _nll_grad_raw


def _nll_nd_composite(self, target, weight=None, reduction=1, ignore_index=-100):
    """nll_loss_nd recording gradients: ATen's (LossNLL.cpp) for a 3-D or 5+-D input, its
    contiguous form viewed as (N, C, 1, -1) for nll_loss2d (ViewBackward0; the target
    likewise), a 'none' result viewed back to (N, d1, ...) (ViewBackward0); other ranks,
    an empty input or odd arguments: the op's one node."""
    from .registry import _Tensor
    if not (isinstance(self, _Tensor) and isinstance(target, _Tensor)):
        return NotImplemented
    nd = self._data.ndim
    if (nd != 3 and nd < 5) or not self._data.size or target._data.ndim != nd - 1:
        return NotImplemented
    n, c = self._data.shape[0], self._data.shape[1]
    if tuple(target._data.shape) != (n,) + tuple(self._data.shape[2:]):
        return NotImplemented       # (the op's own check and words)
    out = nll_loss_nd.op.public(self.contiguous().view(n, c, 1, -1),
                                target.contiguous().view(n, 1, -1), weight, reduction,
                                ignore_index)
    if reduction_name(reduction) == "none":
        return out.view([n] + list(self._data.shape[2:]))
    return out


nll_loss_nd.op.composite = _nll_nd_composite
