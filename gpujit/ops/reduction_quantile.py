"""quantile / nanquantile (a Tensor q or a float q: the `.scalar` overloads; the
interpolation modes linear, lower, higher, midpoint, nearest) with their derivatives,
which reach q too for linear interpolation. Split from `reduction_extra.py`, which imports
it where these ops were (after mode, before nansum) and whose helpers it uses."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta, reduce_shape, wrap_dim
from .reduction_extra import _LONG, _RED, _dt_of, _last, _sort_last
from .registry import op
from .registry import derivative as _derivative


_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_checks(self_dt, q_shape, interpolation, name):
    if self_dt not in (_dt.float32, _dt.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if q_shape is not None and len(q_shape) > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")


def _quantile_meta(name, scalar_q):
    def meta(self, q, dim=None, keepdim=False, interpolation="linear"):
        q_shape = () if scalar_q else tuple(q.shape)
        _quantile_checks(self.dtype, q_shape, interpolation, name)
        if dim is None:
            shape = (1,) * len(self.shape) if keepdim else ()
        else:
            shape = reduce_shape(tuple(self.shape), dim, keepdim) if self.shape else ()
        return TensorMeta(self.dtype, tuple(q_shape) + tuple(shape), self.device)
    return meta


def _quantile(xp, a, q, dim, keepdim, interpolation, ignore_nan, name):
    _quantile_checks(_dt_of(a), None if isinstance(q, float) else q.shape, interpolation,
                     name)
    if a.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    scalar_q = isinstance(q, (float, int))
    qa = xp.asarray([float(q)] if scalar_q else q, dtype=a.dtype).reshape(-1)
    if scalar_q:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
    else:
        if q.dtype != a.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if xp is np and qa.size and (qa.min() < 0 or qa.max() > 1):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        m = a.reshape(1, -1)
        out_shape = (1,) * a.ndim if keepdim else ()
    elif a.ndim == 0:
        wrap_dim(dim, 0)
        m = a.reshape(1, 1)
        out_shape = ()
    else:
        d = wrap_dim(dim, a.ndim)
        m = _last(xp, a, d)
        out_shape = reduce_shape(a.shape, d, keepdim)
        m = m.reshape(-1, m.shape[-1])
    s, _ = _sort_last(xp, m)                   # (rows, n), NaN last
    n = s.shape[-1]
    nan_count = xp.isnan(s).sum(axis=-1, keepdims=True)    # (rows, 1)
    cnt = (n - nan_count) if ignore_nan else xp.full(nan_count.shape, n)
    rank = qa[None, :] * (cnt - 1).astype(a.dtype)         # (rows, nq)
    if not ignore_nan:
        rank = xp.where(nan_count > 0, float(n - 1), rank)
    lo = xp.floor(rank)
    hi = xp.ceil(rank)
    if interpolation == "lower":
        rank = lo
    elif interpolation == "higher":
        rank = hi
    elif interpolation == "nearest":
        rank = xp.round(rank)
    lo_i = xp.clip(lo, 0, n - 1).astype(_LONG)
    hi_i = xp.clip(hi, 0, n - 1).astype(_LONG)
    if interpolation in ("lower", "higher", "nearest"):
        r = xp.take_along_axis(s, xp.clip(rank, 0, n - 1).astype(_LONG), axis=-1)
    else:
        vlo = xp.take_along_axis(s, lo_i, axis=-1)
        vhi = xp.take_along_axis(s, hi_i, axis=-1)
        w = xp.asarray(0.5, dtype=a.dtype) if interpolation == "midpoint" else rank - lo
        r = xp.where(w < 0.5, vlo + w * (vhi - vlo), vhi - (vhi - vlo) * (1 - w))
    if ignore_nan:
        r = xp.where(cnt == 0, xp.nan, r)
    if not ignore_nan:
        r = xp.where(nan_count > 0, xp.nan, r)
    # PyTorch's layout: (*out_shape, nq) C-contiguous with the q dim moved first (its
    # unsqueeze_(0).transpose_(0, -1).squeeze_(-1)): quantile of a 3x4 by 2 q's along
    # dim 1 has strides (1, 2)
    r = xp.ascontiguousarray(r.astype(a.dtype, copy=False)).reshape(
        tuple(out_shape) + (qa.size,))
    return r[..., 0] if scalar_q or q.ndim == 0 else xp.moveaxis(r, -1, 0)


def _quantile_composite(name, ignore_nan, scalar_q):
    """quantile / nanquantile recording gradients: PyTorch's quantile_compute (Sorting.cpp),
    whose nodes a user sees: the input flattened / sorted along the dim moved last, viewed
    (ViewBackward0 -> SortBackward0), ranks from q gathered below (and above) and lerp_'ed
    (LerpBackward1 -> (GatherBackward0, GatherBackward0, None)), then squeeze_ (a scalar
    q: SqueezeBackward4) or the q dim moved first (SqueezeBackward4 -> TransposeBackward1
    -> UnsqueezeBackward1). Errors: the op's own path."""
    meta = _quantile_meta(name, scalar_q)

    def composite(self, q, dim=None, keepdim=False, interpolation="linear"):
        meta(self, q, dim, keepdim, interpolation)
        import gpujit
        from .node_names import aten_scalars
        nd = self.dim()
        if self.numel() == 0:
            return NotImplemented
        if scalar_q:
            if not 0 <= q <= 1:
                return NotImplemented
            q = gpujit.scalar_tensor(q, dtype=self.dtype, device=self.device)
        elif q.dtype is not self.dtype or not bool(((q >= 0) & (q <= 1)).all()):
            return NotImplemented
        wrapped = wrap_dim(0 if dim is None else dim, nd)
        if dim is not None and nd > 0:
            out_shape = list(self.shape)
            if keepdim:
                out_shape[wrapped] = 1
            else:
                del out_shape[wrapped]
        else:
            out_shape = [1] * nd if keepdim else []
        if q.dim() > 0:
            out_shape.insert(0, q.numel())
        if dim is None:
            srt = self.flatten().sort()[0]
        elif wrapped == nd - 1:
            srt = self.sort()[0]
        else:
            srt = self.unsqueeze(-1).transpose(wrapped, -1).sort()[0]
        if q.dim() == 0:
            out_shape.insert(0, q.numel())
        srt = srt.view(out_shape[1:] + [srt.shape[-1]])
        with aten_scalars():
            if ignore_nan:
                ranks = q * (srt.isnan().logical_not_().sum(-1, True) - 1)
                ranks.masked_fill_(ranks < 0, 0)
            else:
                last = srt.shape[-1] - 1
                t0, t1 = gpujit.broadcast_tensors(q.mul(last), srt.isnan().any(-1, True))
                ranks = t0.masked_fill(t1, last)
        if interpolation == "lower":
            ranks.floor_()
        elif interpolation == "higher":
            ranks.ceil_()
        elif interpolation == "nearest":
            ranks.round_()
        below = ranks.to(gpujit.int64)
        values = srt.gather(-1, below)
        if interpolation in ("linear", "midpoint"):
            weights = gpujit.full_like(ranks, 0.5) if interpolation == "midpoint" \
                else ranks - below
            values.lerp_(srt.gather(-1, ranks.ceil_().to(gpujit.int64)), weights)
        if q.dim() == 0:
            return values.squeeze_(-1)
        return values.unsqueeze_(0).transpose_(0, -1).squeeze_(-1)
    return composite


def _declare_quantile(name, ignore_nan):
    @op(f"aten::{name}(Tensor self, Tensor q, int? dim=None, bool keepdim=False, *, "
        "str interpolation='linear') -> Tensor", tags=_RED, meta=_quantile_meta(name, False),
        contiguous=False)
    def tensor_q(xp, self, q, dim=None, keepdim=False, interpolation="linear"):
        return _quantile(xp, self, q, dim, keepdim, interpolation, ignore_nan, name)

    @op(f"aten::{name}.scalar(Tensor self, float q, int? dim=None, bool keepdim=False, *, "
        "str interpolation='linear') -> Tensor", tags=_RED, meta=_quantile_meta(name, True))
    def float_q(xp, self, q, dim=None, keepdim=False, interpolation="linear"):
        return _quantile(xp, self, float(q), dim, keepdim, interpolation, ignore_nan, name)

    tensor_q.__name__, float_q.__name__ = name, f"{name}_scalar"
    tensor_q.op.composite = _quantile_composite(name, ignore_nan, False)
    float_q.op.composite = _quantile_composite(name, ignore_nan, True)
    return tensor_q, float_q


quantile, quantile_scalar = _declare_quantile("quantile", False)
nanquantile, nanquantile_scalar = _declare_quantile("nanquantile", True)



# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


def _rows(self, dim):
    """self as (rows, n): the reduced dim last (all of self when dim is None)."""
    nd = self.dim()
    if dim is None or nd == 0:
        return self.reshape(1, -1)
    x = self.movedim(dim % nd, -1)
    return x.reshape(-1, x.shape[-1])


def _sorted_rows(self, dim):
    """[the sorted values, their order] of each row of self (computed at forward time, as
    PyTorch's quantile sorts and keeps only what it gathers from the sorted values: a write
    into the input after the op is then no error)."""
    return list(_rows(self, dim).sort(-1))


def _q_values(q):
    """A tensor q's values, kept apart from q (PyTorch's backward reads only the ranks and
    weights made from it): a write into q after the op is no error."""
    import gpujit
    return q.detach().reshape(-1).clone() if isinstance(q, gpujit.Tensor) else float(q)


def _quantile_backward(grad, self_shape, srt, qv, q_shape, dim, interpolation, ignore_nan,
                       needs_q):
    """The gradient goes to the one or two order statistics each quantile interpolates
    between, weighted as the interpolation weighs them (the order from the forward's
    sort)."""
    import gpujit
    xs, order = srt
    nd = len(self_shape)
    rows, n = xs.shape
    dtype = xs.dtype
    if isinstance(qv, float):
        qv = gpujit.tensor([qv], dtype=dtype, device=xs.device)
    else:
        qv = qv.to(dtype)
    nan_count = xs.detach().isnan().sum(-1, keepdim=True)
    cnt = (n - nan_count) if ignore_nan else nan_count * 0 + n
    rank = qv.unsqueeze(0) * (cnt - 1).to(dtype)
    # PyTorch's masked_fill of the ranks: a row with a NaN (quantile: the last rank) or of
    # NaNs only (nanquantile: rank 0) gives q no gradient
    fixed = (nan_count > 0) if not ignore_nan else rank < 0
    rank = rank.masked_fill(fixed, 0 if ignore_nan else n - 1)
    lo = rank.floor()
    hi = rank.ceil()
    if interpolation in ("lower", "higher", "nearest"):
        pick = {"lower": lo, "higher": hi, "nearest": rank.round()}[interpolation]
        lo, hi, w = pick, pick, rank * 0
    else:
        w = rank * 0 + 0.5 if interpolation == "midpoint" else rank - lo
    lo_i = lo.clamp(0, n - 1).long()
    hi_i = hi.clamp(0, n - 1).long()
    g = grad.reshape(qv.numel(), rows).t()
    gs = grad.new_zeros((rows, n)).scatter_add(1, lo_i, g * (1 - w)).scatter_add(
        1, hi_i, g * w)
    gx = grad.new_zeros((rows, n)).scatter(1, order, gs)
    if dim is None or nd == 0:
        gx = gx.reshape(self_shape)
    else:
        d = dim % nd
        moved = tuple(s for i, s in enumerate(self_shape) if i != d) + (self_shape[d],)
        gx = gx.reshape(moved).movedim(-1, d)
    # linear interpolation moves with q: d/dq = (hi - lo) * (count - 1), summed over rows
    gq = None
    if needs_q and interpolation == "linear":
        span = ((xs.gather(1, hi_i) - xs.gather(1, lo_i)) * (cnt - 1).to(dtype)).masked_fill(
            fixed, 0)
        gq = (g * span).sum(0).reshape(q_shape)
    return gx, gq


_COMPUTES = {"srt": _sorted_rows, "qv": _q_values}


@_derivative(quantile_scalar, wrt=("self",), computes=_COMPUTES)
def _quantile_grad(grad, self_shape, srt, qv, dim, interpolation):
    return _quantile_backward(grad, self_shape, srt, qv, None, dim, interpolation, False,
                              False)[0]


@_derivative(nanquantile_scalar, wrt=("self",), computes=_COMPUTES)
def _nanquantile_grad(grad, self_shape, srt, qv, dim, interpolation):
    return _quantile_backward(grad, self_shape, srt, qv, None, dim, interpolation, True,
                              False)[0]


@_derivative(quantile, wrt=("self", "q"), computes=_COMPUTES)
def _quantile_t_grad(grad, self_shape, srt, qv, q_shape, dim, interpolation, needs_grad):
    return _quantile_backward(grad, self_shape, srt, qv, q_shape, dim, interpolation, False,
                              needs_grad[1])


@_derivative(nanquantile, wrt=("self", "q"), computes=_COMPUTES)
def _nanquantile_t_grad(grad, self_shape, srt, qv, q_shape, dim, interpolation, needs_grad):
    return _quantile_backward(grad, self_shape, srt, qv, q_shape, dim, interpolation, True,
                              needs_grad[1])
