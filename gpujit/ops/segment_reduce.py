"""torch.segment_reduce: reduce consecutive segments of `data` along `axis` (segment sizes
from `lengths`, or from `offsets` = their running starts), with "sum" / "mean" / "max" /
"min" / "prod" (also "amax" / "amin") and an optional `initial` value joined to every
segment, as ATen's _segment_reduce_cpu kernels: an empty segment gives the reduction's
identity (sum 0, prod 1, max -inf, min +inf, mean nan) or `initial`; "mean" divides the
sum (with initial) by the segment's length. lengths may have leading dims that match
data's (then axis = lengths.dim() - 1: one set of segments per leading index).

The derivative is aten::_segment_reduce_backward (SegmentReduceBackward0 in a graph):
sum / mean spread the gradient (mean divided by the length), max / min split it between
the elements equal to the result, prod gives each element the product of the others
(zero-aware: one zero gets the product of the rest, two or more give 0)."""
from __future__ import annotations

import numpy as np

from .derivatives import derivative as _derivative
from .derivatives import nondifferentiable as _nondifferentiable
from .meta import TensorMeta
from .registry import op

_REDUCE = {"sum": "sum", "mean": "mean", "max": "max", "amax": "max", "min": "min",
           "amin": "min", "prod": "prod"}


def _host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def _resolve(data_shape, reduce, lengths, offsets, axis, unsafe, indices=None):
    """(kind, lengths and starts as int64 host arrays shaped data.shape[:axis] + (S,),
    axis); starts are the offsets given, else the lengths' running sums from 0."""
    kind = _REDUCE.get(reduce)
    if kind is None:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    ref = lengths if lengths is not None else offsets
    if ref.dtype.kind not in "iu" or ref.dtype == np.uint8:
        what = "lengths" if lengths is not None else "offsets"
        raise NotImplementedError(f'"_segment_reduce_{what}_cpu_kernel1" not implemented for '
                                  f"'{_short(ref.dtype)}'")
    nd = len(data_shape)
    axis = axis + nd if axis < 0 else axis
    if axis != ref.ndim - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of "
                           f"{'lengths' if lengths is not None else 'offsets'} but got "
                           f"{axis}.")
    if lengths is not None:
        lens = _host(lengths).astype(np.int64)
        starts = np.cumsum(lens, axis=-1) - lens
    else:
        offs = _host(offsets).astype(np.int64)
        lens = np.diff(offs, axis=-1)
        starts = offs[..., :-1]
    if (lens < 0).any():
        raise RuntimeError("lengths contains negative value!")
    if not unsafe and lengths is not None and not (
            lens.sum(axis=-1) == data_shape[axis]).all():
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum "
                           "to data.size(lengths.dim()-1) when !unsafe.")
    return kind, lens, starts, axis


def _short(np_dtype):
    from .. import dtypes as _dt
    return _dt.from_numpy_dtype(np_dtype).short_name


_IDENTITY = {"sum": 0.0, "prod": 1.0, "max": -np.inf, "min": np.inf, "mean": np.nan}
_UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "max": np.maximum,
          "min": np.minimum}


def _segments_1d(xp, d, lens, starts, kind, initial):
    """Reduce d (segments along axis 0: starts, lens, both 1-D): (S,) + d.shape[1:]."""
    S = lens.shape[0]
    out = xp.full((S,) + d.shape[1:], _IDENTITY[kind], dtype=d.dtype)
    nonempty = np.nonzero(lens > 0)[0]
    if nonempty.size:
        st, ln = starts[nonempty], lens[nonempty]
        if xp is np and (st[1:] == st[:-1] + ln[:-1]).all():
            # (back to back: one reduceat over the span they cover)
            red = _UFUNC[kind].reduceat(d[st[0]:st[-1] + ln[-1]], st - st[0], axis=0)
        else:
            fn = getattr(xp, {"sum": "sum", "mean": "sum", "prod": "prod", "max": "max",
                              "min": "min"}[kind])
            red = xp.stack([fn(d[a:a + n], axis=0) for a, n in zip(st, ln)])
        out[xp.asarray(nonempty)] = red
    if initial is not None:
        if kind != "mean":
            out = _UFUNC[kind](out, initial)     # (an empty segment: initial itself)
        else:
            shape = (-1,) + (1,) * (d.ndim - 1)
            empty = xp.asarray(lens == 0).reshape(shape)
            n = xp.asarray(np.maximum(lens, 1), dtype=d.dtype).reshape(shape)
            out = xp.where(empty, initial, (xp.where(empty, 0, out) + initial) / n)
    elif kind == "mean":
        n = xp.asarray(lens, dtype=d.dtype).reshape((-1,) + (1,) * (d.ndim - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = out / n
    return out.astype(d.dtype, copy=False)


def _each_row(xp, data, lens, starts, axis, fn):
    """fn(d, lens_row, starts_row) over the leading indices of lens (data moved to axis 0
    per row)."""
    if lens.ndim == 1:
        return xp.moveaxis(fn(xp.moveaxis(data, axis, 0), lens, starts), 0, axis)
    lead = lens.shape[:-1]
    rows = []
    for idx in np.ndindex(*lead):
        rows.append(fn(data[idx], lens[idx], starts[idx]))
    out = xp.stack(rows).reshape(lead + rows[0].shape)
    return out


def _meta(data, reduce, lengths=None, indices=None, offsets=None, axis=0, unsafe=False,
          initial=None):
    nd = len(data.shape)
    ax = axis + nd if axis < 0 else axis
    ref = lengths if lengths is not None else offsets
    S = None
    if ref is not None and ref.shape[-1] is not None:
        S = ref.shape[-1] - (0 if lengths is not None else 1)
    shape = tuple(data.shape[:ax]) + (S,) + tuple(data.shape[ax + 1:])
    return TensorMeta(data.dtype, shape, data.device)


@op("aten::segment_reduce(Tensor data, str reduce, *, Tensor? lengths=None, "
    "Tensor? indices=None, Tensor? offsets=None, int axis=0, bool unsafe=False, "
    "Scalar? initial=None) -> Tensor", tags={"reduction"}, method=False, meta=_meta,
    operands=("data",))
def segment_reduce(xp, data, reduce, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """The reduction of each segment of data along axis (see the module)."""
    if data.dtype.kind != "f":
        raise NotImplementedError(f'"_segment_reduce_cpu" not implemented for '
                                  f"'{_short(data.dtype)}'")
    kind, lens, starts, axis = _resolve(data.shape, reduce, lengths, offsets, axis, unsafe,
                                        indices)
    return _each_row(xp, data, lens, starts, axis,
                     lambda d, ln, st: _segments_1d(xp, d, ln, st, kind, initial))


def _grad_1d(xp, g, out, data, lens, starts, kind, initial):
    """d(loss)/d(data) of one set of segments (axis 0) given the output's gradient g:
    computed over the covered rows, zero elsewhere (rows no segment takes)."""
    rows = np.concatenate([np.arange(a, a + n) for a, n in zip(starts, lens)] or
                          [np.zeros(0, np.int64)]).astype(np.int64)
    ri = xp.asarray(np.repeat(np.arange(lens.shape[0]), lens))
    d = data[xp.asarray(rows)]
    packed = np.cumsum(lens) - lens
    if kind == "sum":
        gd = g[ri]
    elif kind == "mean":
        n = xp.asarray(np.maximum(lens, 1), dtype=d.dtype).reshape((-1,) + (1,) * (d.ndim - 1))
        gd = (g / n)[ri]
    elif kind in ("max", "min"):
        hit = (d == out[ri]).astype(d.dtype)
        count = _segments_1d(xp, hit, lens, packed, "sum", None)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = xp.where(count > 0, g / xp.where(count > 0, count, 1), 0)
        gd = hit * share[ri]
    else:
        # prod: the product of the other elements of the segment
        zero = d == 0
        zeros = _segments_1d(xp, zero.astype(d.dtype), lens, packed, "sum", None)
        nz = _segments_1d(xp, xp.where(zero, 1, d).astype(d.dtype), lens, packed, "prod",
                          None)
        if initial is not None:
            nz = nz * initial
        with np.errstate(invalid="ignore", divide="ignore"):
            others = xp.where(zeros[ri] == 0, nz[ri] / xp.where(zero, 1, d),
                              xp.where((zeros[ri] == 1) & zero, nz[ri], 0))
        gd = g[ri] * others
    full = xp.zeros(data.shape, dtype=data.dtype)
    full[xp.asarray(rows)] = gd
    return full


@op("aten::_segment_reduce_backward(Tensor grad, Tensor output, Tensor data, str reduce, *, "
    "Tensor? lengths=None, Tensor? offsets=None, int axis=0, Scalar? initial=None) -> Tensor",
    tags={"reduction"}, method=False, function=False,
    meta=lambda grad, output, data, *a, **k: TensorMeta(data.dtype, tuple(data.shape),
                                                          data.device),
    operands=("grad", "output", "data"))
def _segment_reduce_backward(xp, grad, output, data, reduce, lengths=None, offsets=None,
                             axis=0, initial=None):
    kind, lens, starts, axis = _resolve(data.shape, reduce, lengths, offsets, axis, True)
    if lens.ndim == 1:
        mv = lambda a: xp.moveaxis(a, axis, 0)     # noqa: E731
        return xp.moveaxis(_grad_1d(xp, mv(grad), mv(output), mv(data), lens, starts, kind,
                                    initial), 0, axis)
    lead = lens.shape[:-1]
    rows = [_grad_1d(xp, grad[i], output[i], data[i], lens[i], starts[i], kind, initial)
            for i in np.ndindex(*lead)]
    return xp.stack(rows).reshape(data.shape)


@_derivative(segment_reduce, wrt=("data",))
def _segment_reduce_grad(grad, result, data, reduce, lengths, offsets, axis, initial):
    import gpujit
    return gpujit.ops.aten._segment_reduce_backward(
        grad, result, data, reduce, lengths=lengths, offsets=offsets, axis=axis,
        initial=initial)


_nondifferentiable(_segment_reduce_backward, reason=(
    "the second derivative of segment_reduce is not implemented (nor is it in PyTorch)"))
