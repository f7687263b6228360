"""nn ops: N-d pooling beyond nn.py's 2-D ones: max_pool1d/3d (+ indices), avg_pool1d/3d,
adaptive_max_pool1d/2d/3d, max_unpool2d/3d (nn_conv.py: im2col / col2im, F.unfold / fold).

Every pooling op reduces a strided window view (N, C, *out, *kernel) of the padded input;
adaptive max pooling gathers each output's (clamped) window with one `take` per dim;
unpooling puts values along the flattened spatial dims. Derivatives are registry ops (scatter_add / gather / conv_transpose),
so they record for double backward.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta
from .nn import (_NN, FLOATS, NO_BOOL, as_strided, check_float, compute_dtype, dtype_of,
                 kernel_of, not_implemented, sizes)
from .nn_pool2d import _pool_out
from .registry import op, derivative as _derivative


def _tuple(v, n, name, what):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    v = tuple(int(x) for x in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        if n == 1:
            raise RuntimeError(f"{name}() {what} must be an int, list of ints or tuple of "
                               f"ints of size 1 but got size {len(v)}")
        raise RuntimeError(f"{name}: {what} must either be a single int, or a tuple of "
                           f"{['', 'one', 'two', 'three'][n]} ints")
    return v


def _half(n):
    return int(n / 2)       # (C++'s division, toward zero)


def _aten_pool_checks(nd, k, s, p, d):
    """ATen's checks of an avg / max pooling's numbers in its order (avg_pool1d as the 2-D
    pool of height 1 it runs): pooling_output_shape's per dim ("stride should not be zero",
    "pad must be non-negative, but got pad: -1", the effective-kernel bound), then
    pool2d / pool3d_shape_check's ("kernel size should be greater than zero, but got kH: 1
    kW: 0", stride, dilation)."""
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    for kk, ss, pp, dd in zip(k, s, p, d):
        if ss == 0:
            raise RuntimeError("stride should not be zero")
        if pp < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pp}")
        if pp > _half((kk - 1) * dd + 1):
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    dims = "THW"[-len(k):]
    for what, label, v in (("kernel size", "k", k), ("stride", "d", s),
                           ("dilation", "dilation", d)):
        if any(x <= 0 for x in v):
            got = " ".join(f"{label}{c}: {x}" for c, x in zip(dims, v))
            raise RuntimeError(f"{what} should be greater than zero, but got {got}")


def _check1d(name, v, what):
    """avg_pool1d's check1d: one int (a list of another length refused in its words)."""
    if not isinstance(v, (int, np.integer)) and len(v) != 1:
        raise RuntimeError(f"{name}() argument '{what}' should contain one int (got "
                           f"{len(v)})")


def pool_geometry(name, nd, in_shape, kernel_size, stride, padding, dilation, ceil_mode,
                  indices=False):
    """Validate an nd pooling call (ATen's checks); (batched, k, s, p, d, output shape).
    max_pool1d's own words are max_pool1d_impl's; with `indices` (max_pool1d_with_indices,
    the 2-D pool's) ATen's pooling checks."""
    own = name == "max_pool1d" and not indices
    if name == "avg_pool1d":
        _check1d(name, kernel_size, "kernel_size")
        if not isinstance(stride, (int, np.integer)) and len(stride):
            _check1d(name, stride, "stride")
        _check1d(name, padding, "padding")
    k = _tuple(kernel_size, nd, name, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _tuple(stride, nd, name, "stride")
    p = _tuple(padding, nd, name, "padding")
    d = _tuple(dilation, nd, name, "dilation")
    if name == "avg_pool1d" and len(in_shape) not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {len(in_shape)}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for "
                           f"avg_pool1d)")
    if len(in_shape) not in (nd + 1, nd + 2) or any(x == 0 for x in in_shape[-nd - 1:]):
        if name == "avg_pool1d":    # (the 2-D pool's words, of the unsqueezed input)
            raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim "
                               f"batch size for input, but got:"
                               f"{sizes(tuple(in_shape[:-1]) + (1,) + tuple(in_shape[-1:]))}")
        if nd == 3:
            raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                           f"optional 0 dim batch size for input, but got:{sizes(in_shape)}")
    if not own:
        _aten_pool_checks(nd, k, s, p, d)
    one = (lambda v: v[0]) if nd == 1 else list
    if any(x <= 0 for x in k):
        raise RuntimeError(f"{name}() kernel_size must be greater than zero, but got "
                           f"{one(k)}")
    if any(x <= 0 for x in s):
        raise RuntimeError(f"{name}() stride must be greater than zero, but got {one(s)}")
    if any(x < 0 for x in p):
        raise RuntimeError(f"{name}() padding must be non-negative, but got {one(p)}")
    if any(x <= 0 for x in d):
        raise RuntimeError(f"{name}() dilation must be greater than zero, but got {one(d)}")
    for pp, kk, dd in zip(p, k, d):
        if own and pp > kk // 2:
            raise RuntimeError(f"{name}() padding should be at most half of kernel size, but "
                               f"got padding={pp} and kernel_size={kk}")
        if pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    spatial = tuple(in_shape[-nd:])
    if name == "avg_pool3d" and all(n is not None for n in spatial) and \
            any(n < kk for n, kk in zip(spatial, k)):
        raise RuntimeError(f"input image (T: {spatial[0]} H: {spatial[1]} W: {spatial[2]}) "
                           f"smaller than kernel size (kT: {k[0]} kH: {k[1]} kW: {k[2]})")
    out = tuple(None if n is None else _pool_out(n, kk, pp, ss, dd, ceil_mode)
                for n, kk, pp, ss, dd in zip(spatial, k, p, s, d))
    if any(o is not None and o < 1 for o in out):
        if own:
            raise RuntimeError(f"{name}() Invalid computed output size: {out[0]}")
        c = in_shape[-nd - 1]
        if nd == 1:     # avg_pool1d runs as a 2-D pooling of height 1
            spatial, out = (1,) + spatial, (1,) + out
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + spatial))}). "
                           f"Calculated output size: ({'x'.join(map(str, (c,) + out))}). "
                           f"Output size is too small")
    return len(in_shape) == nd + 2, k, s, p, d, tuple(in_shape[:-nd]) + out


def windows(xp, x, k, s, p, d, out, fill):
    """(N, C, *out, *k) strided view of x (N, C, *spatial) padded with `fill` (enough on
    the far side for ceil_mode's partial last window)."""
    nd = len(k)
    spatial = x.shape[2:]
    far = [max((o - 1) * ss + dd * (kk - 1) + 1 - n - pp, 0)
           for o, ss, dd, kk, n, pp in zip(out, s, d, k, spatial, p)]
    if any(p) or any(far):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple(zip(p, far)), constant_values=fill)
    st = x.strides
    return as_strided(xp, x, x.shape[:2] + tuple(out) + tuple(k),
                      st[:2] + tuple(st[2 + i] * s[i] for i in range(nd))
                      + tuple(st[2 + i] * d[i] for i in range(nd)))


def _flat_index(xp, pos, spatial):
    """Per-dim positions (broadcastable arrays) -> flat index over the spatial dims."""
    idx = pos[0]
    for p, n in zip(pos[1:], spatial[1:]):
        idx = idx * n + p
    return idx


def _grid(xp, out, i, nd):
    """arange(out[i]) shaped to broadcast along output dim i of nd."""
    shape = [1] * nd
    shape[i] = out[i]
    return xp.arange(out[i]).reshape(shape)


# ---------------------------------------------------------------------- max pooling

def _max_pool(xp, name, nd, x, kernel_size, stride, padding, dilation, ceil_mode, with_idx):
    if dtype_of(x) is _dt.bool or _int_max_pool1d(nd, with_idx, x, xp):
        raise not_implemented(kernel_of(name + ("_with_indices" if with_idx else ""), xp)
                              if nd == 1 else name, dtype_of(x))
    batched, k, s, p, d, out_shape = pool_geometry(name, nd, x.shape, kernel_size, stride,
                                                   padding, dilation, ceil_mode, with_idx)
    if not batched:
        x = x[None]
    spatial, out = x.shape[2:], out_shape[-nd:]
    isfloat = x.dtype.kind == "f"
    fill = -np.inf if isfloat else np.iinfo(x.dtype).min
    win = windows(xp, x, k, s, p, d, out, fill)
    axes = tuple(range(-nd, 0))
    values = xp.ascontiguousarray(win.max(axis=axes))
    if not with_idx:
        return values if batched else values[0]
    flat = win.reshape(win.shape[:2 + nd] + (math.prod(k),))
    # the first maximum in scan order (the last NaN, as ATen's `val > max || isnan(val)`);
    # a window of only the lowest value points at its first in-bounds tap
    a = flat.argmax(axis=-1)
    if isfloat:
        nan = xp.isnan(flat)
        last_nan = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        a = xp.where(nan.any(axis=-1), last_nan, a)
    pos, first, inside = [], [], True
    rem = a
    for i in reversed(range(nd)):
        tap = rem % k[i]
        rem = rem // k[i]
        start = _grid(xp, out, i, nd) * s[i] - p[i]
        q = start + tap * d[i]
        pos.insert(0, q)
        first.insert(0, start + xp.maximum((-start + d[i] - 1) // d[i], 0) * d[i])
        inside = inside & (q >= 0) & (q < spatial[i])
    idx = xp.where(inside, _flat_index(xp, pos, spatial),
                   _flat_index(xp, first, spatial)).astype(np.int64)
    # (a copy: broadcast_to's zero strides on size-1 dims would stay, where PyTorch's new
    # tensor has its contiguous strides)
    idx = xp.broadcast_to(idx, values.shape).copy()
    return (values, idx) if batched else (values[0], idx[0])


def _int_max_pool1d(nd, with_idx, x, where):
    """PyTorch's CPU max_pool1d (no indices, no gradient) runs max_pool1d_impl, which has
    floating kernels only (its indices path, taken for gradients, takes integers)."""
    from .kernel_names import _on_cuda
    return nd == 1 and not with_idx and dtype_of(x).category != _dt.FLOATING and \
        not _on_cuda(where)


def _max_meta(name, nd, with_idx):
    def meta(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        if self.dtype is _dt.bool or _int_max_pool1d(nd, with_idx, self, self):
            raise not_implemented(kernel_of(name + ("_with_indices" if with_idx else ""), self)
                                  if nd == 1 else name, self.dtype)
        shape = pool_geometry(name, nd, self.shape, kernel_size, stride, padding, dilation,
                              ceil_mode, with_idx)[-1]
        out = TensorMeta(self.dtype, shape, self.device)
        return (out, TensorMeta(_dt.int64, shape, self.device)) if with_idx else out
    return meta


def _max_schema(nd, with_idx):
    i = "_with_indices" if with_idx else ""
    ret = "(Tensor, Tensor)" if with_idx else "Tensor"
    return (f"aten::max_pool{nd}d{i}(Tensor self, int[{nd}] kernel_size, int[{nd}] stride=[], "
            f"int[{nd}] padding=0, int[{nd}] dilation=1, bool ceil_mode=False) -> {ret}")


@op(_max_schema(1, False), tags=_NN, method=False, meta=_max_meta("max_pool1d", 1, False),
    dtypes=NO_BOOL)
def max_pool1d(xp, self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """1-D max pooling over (N, C, L) or (C, L); padding counts as -inf."""
    return _max_pool(xp, "max_pool1d", 1, self, kernel_size, stride, padding, dilation,
                     ceil_mode, False)


@op(_max_schema(1, True), tags=_NN, method=False, function=True,
    meta=_max_meta("max_pool1d", 1, True), dtypes=NO_BOOL)
def max_pool1d_with_indices(xp, self, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """max_pool1d and the input index of each maximum."""
    return _max_pool(xp, "max_pool1d", 1, self, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


@op(_max_schema(3, False), tags=_NN, method=False, meta=_max_meta("max_pool3d", 3, False),
    dtypes=NO_BOOL)
def max_pool3d(xp, self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W); padding counts as -inf."""
    return _max_pool(xp, "max_pool3d", 3, self, kernel_size, stride, padding, dilation,
                     ceil_mode, False)


@op(_max_schema(3, True), tags=_NN, method=False, function=False,
    meta=_max_meta("max_pool3d", 3, True), dtypes=NO_BOOL)
def max_pool3d_with_indices(xp, self, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """max_pool3d and the flat (d * H * W + h * W + w) input index of each maximum."""
    return _max_pool(xp, "max_pool3d", 3, self, kernel_size, stride, padding, dilation,
                     ceil_mode, True)


# ---------------------------------------------------------------------- average pooling

def _avg_divisor(xp, spatial, k, s, p, out, count_include_pad, divisor_override):
    """The divisor of each output position (an (*out) array), or divisor_override."""
    if divisor_override is not None:
        return divisor_override
    nd = len(k)
    div = 1
    for i in range(nd):
        start = _grid(xp, out, i, nd) * s[i] - p[i]
        end = xp.minimum(start + k[i], spatial[i] + p[i])
        div = div * (end - start if count_include_pad else
                     xp.minimum(end, spatial[i]) - xp.maximum(start, 0))
    return div


def _avg_check(name, dt, where):
    # (PyTorch's CPU avg_pool3d has no float16 kernel; its CUDA one has)
    if (dt.category != _dt.FLOATING and dt is not _dt.int64) or (
            name == "avg_pool3d" and dt is _dt.float16 and kernel_of(name, where) != name):
        raise not_implemented(kernel_of(name, where), dt)


def _avg_pool(xp, name, nd, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _avg_check(name, dtype_of(x), xp)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    batched, k, s, p, _, out_shape = pool_geometry(name, nd, x.shape, kernel_size, stride,
                                                   padding, 1, ceil_mode)
    if not batched:
        x = x[None]
    spatial, out = x.shape[2:], out_shape[-nd:]
    odt = x.dtype
    if odt.kind == "f":
        x = x.astype(compute_dtype(xp, x), copy=False)
    total = windows(xp, x, k, s, p, (1,) * nd, out, 0).sum(axis=tuple(range(-nd, 0)))
    div = _avg_divisor(xp, spatial, k, s, p, out, count_include_pad, divisor_override)
    if odt.kind == "f":
        r = (total / div).astype(odt, copy=False)
    else:   # C++ integer division truncates toward zero
        q = xp.abs(total) // div
        r = xp.where(total < 0, -q, q).astype(odt, copy=False)
    r = xp.ascontiguousarray(r)
    return r if batched else r[0]


def _avg_meta(name, nd):
    def meta(self, kernel_size, stride=(), padding=0, ceil_mode=False,
             count_include_pad=True, divisor_override=None):
        _avg_check(name, self.dtype, self)
        shape = pool_geometry(name, nd, self.shape, kernel_size, stride, padding, 1,
                              ceil_mode)[-1]
        return TensorMeta(self.dtype, shape, self.device)
    return meta


@op("aten::avg_pool1d(Tensor self, int[1] kernel_size, int[1] stride=[], int[1] padding=0, "
    "bool ceil_mode=False, bool count_include_pad=True) -> Tensor", tags=_NN, method=False,
    functional=True, meta=_avg_meta("avg_pool1d", 1), dtypes=FLOATS + (_dt.int64,))
def avg_pool1d(xp, self, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L)."""
    return _avg_pool(xp, "avg_pool1d", 1, self, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


@op("aten::avg_pool3d(Tensor self, int[3] kernel_size, int[3] stride=[], int[3] padding=0, "
    "bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None) "
    "-> Tensor", tags=_NN, method=False, function=False, functional=True,
    meta=_avg_meta("avg_pool3d", 3), dtypes=FLOATS + (_dt.int64,))
def avg_pool3d(xp, self, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool(xp, "avg_pool3d", 3, self, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ---------------------------------------------------------------------- adaptive max

def _adaptive_max_shape(nd, in_shape, output_size):
    name = f"adaptive_max_pool{nd}d"
    if isinstance(output_size, (int, np.integer)):
        output_size = (int(output_size),)
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {nd}")
    if len(in_shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{sizes(in_shape)}")
    for i in range(1, len(in_shape)):
        if in_shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes "
                               f"{sizes(in_shape)} with dimension {i} being empty")
    out = tuple(in_shape[-nd + i] if o is None else int(o) for i, o in enumerate(output_size))
    full = tuple(in_shape[:-nd]) + out
    if any(o < 0 for o in out):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(out)}: "
                           f"{sizes(full)}")
    return full


def _adaptive_max(xp, nd, x, output_size):
    name = f"adaptive_max_pool{nd}d"
    check_float(kernel_of(name, xp), x)
    out_shape = _adaptive_max_shape(nd, x.shape, output_size)
    batched = x.ndim == nd + 2
    if not batched:
        x = x[None]
    spatial, out = x.shape[2:], out_shape[-nd:]
    g, starts = x, []
    for i in range(nd):    # gather dim i as (out_i, K_i) clamped windows
        n, o = spatial[i], out[i]
        j = xp.arange(o)
        start = (j * n) // o
        end = ((j + 1) * n + o - 1) // o
        jh = np.arange(o)     # the widest window, from the geometry alone (host)
        kk = int((((jh + 1) * n + o - 1) // o - (jh * n) // o).max()) if o else 1
        tap = xp.minimum(start[:, None] + xp.arange(kk)[None, :], end[:, None] - 1)
        g = xp.take(g, tap, axis=2 + 2 * i)     # (..., out_i, K_i, next dims)
        starts.append((tap, kk))
    perm = (0, 1) + tuple(2 + 2 * i for i in range(nd)) + tuple(3 + 2 * i for i in range(nd))
    win = g.transpose(perm)
    flat = win.reshape(win.shape[:2 + nd] + (math.prod(win.shape[2 + nd:]),))  # 0-size: no -1
    a = flat.argmax(axis=-1)
    nan = xp.isnan(flat)
    a = xp.where(nan.any(axis=-1), flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1), a)
    values = xp.ascontiguousarray(xp.take_along_axis(flat, a[..., None], -1)[..., 0])
    pos, rem = [], a
    for i in reversed(range(nd)):
        tap, kk = starts[i]
        t = rem % kk
        rem = rem // kk
        shape = [1] * nd
        shape[i] = out[i]
        pos.insert(0, tap[xp.arange(out[i]).reshape(shape), t])
    idx = xp.ascontiguousarray(_flat_index(xp, pos, spatial).astype(np.int64))
    return (values, idx) if batched else (values[0], idx[0])


def _adaptive_max_meta(nd):
    def meta(self, output_size):
        check_float(kernel_of(f"adaptive_max_pool{nd}d", self), self)
        shape = _adaptive_max_shape(nd, self.shape, output_size)
        return (TensorMeta(self.dtype, shape, self.device),
                TensorMeta(_dt.int64, shape, self.device))
    return meta


def _adaptive_max_op(nd):
    @op(f"aten::adaptive_max_pool{nd}d(Tensor self, int[{nd}] output_size) -> "
        f"(Tensor, Tensor)", tags=_NN, method=False, function=nd == 1, dtypes=FLOATS,
        meta=_adaptive_max_meta(nd))
    def impl(xp, self, output_size):
        return _adaptive_max(xp, nd, self, output_size)
    impl.__name__ = impl.__qualname__ = f"adaptive_max_pool{nd}d"
    impl.__doc__ = (f"Adaptive {nd}-D max pooling and the flat input index of each "
                    f"maximum.")
    return impl


adaptive_max_pool1d = _adaptive_max_op(1)
adaptive_max_pool2d = _adaptive_max_op(2)
adaptive_max_pool3d = _adaptive_max_op(3)


# ---------------------------------------------------------------------- max unpooling

def _unpool(xp, nd, x, indices, output_size, stride=None):
    name = f"max_unpool{nd}d"
    out = tuple(int(o) for o in output_size)
    if len(out) != nd:
        raise RuntimeError(f"There should be exactly {nd} elements but got {len(out)}")
    if tuple(x.shape) != tuple(indices.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input "
                           f"tensor ({sizes(x.shape)}) but got indices tensor with shape: "
                           f"{sizes(indices.shape)}")
    if dtype_of(indices) is not _dt.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{dtype_of(indices).short_name}")
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to {name} should be a {nd + 1}d or {nd + 2}d Tensor, but "
                           f"got a tensor with {x.ndim} dimensions.")
    for d in range(1, x.ndim):      # (ATen's shape check: only the batch may be empty)
        if x.shape[d] == 0:
            raise RuntimeError(f"max_unpooling{nd}d_forward_out_cpu(): Expected input to have "
                               f"non-zero size for non-batch dimensions, but got "
                               f"{sizes(x.shape)} with dimension {d} being empty.")
    if stride is not None and not all(int(s) > 0 for s in stride):
        raise RuntimeError(f"strides should be greater than zero, but got stride: "
                           f"{sizes(stride)}")
    _unpool_dtype(nd, x)
    lead = x.shape[:-nd]
    n_out = math.prod(out)
    if n_out == 0 or x.size == 0:
        # (ATen runs the kernel, and so its index check, only for a non-empty output:
        # max_unpool2d(x, i, 0) is an empty tensor)
        return xp.zeros(lead + out, x.dtype)
    v = x.reshape(lead + (math.prod(x.shape[-nd:]),))      # no -1: a 0-size batch
    i = indices.reshape(lead + (math.prod(indices.shape[-nd:]),))
    invalid = ((i < 0) | (i >= n_out)).reshape(-1)
    if invalid.size and bool(invalid.any()):
        # the last, in order: ATen's kernel keeps the last bad index it meets (one thread)
        bad = int(i.reshape(-1)[invalid.size - 1 - int(invalid[::-1].argmax())])
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, out))})")
    rows = math.prod(lead)
    r = xp.zeros(rows * n_out, x.dtype)
    flat = (xp.arange(rows).reshape(-1, 1) * n_out + i.reshape(rows, i.size // rows if rows else 0)).reshape(-1)
    r[flat] = v.reshape(-1)
    return r.reshape(lead + out)


def _unpool_dtype(nd, x):
    """max_unpool's kernels take floating types only (1-D runs max_unpool2d's)."""
    dt = dtype_of(x)
    if dt.category != _dt.FLOATING:
        raise not_implemented(f"max_unpool{3 if nd == 3 else 2}d", dt)


def _unpool_meta(nd):
    def meta(self, indices, output_size, *rest):
        _unpool_dtype(nd, self)
        return TensorMeta(self.dtype, tuple(self.shape[:-nd]) + tuple(output_size),
                          self.device)
    return meta


@op("aten::max_unpool2d(Tensor self, Tensor indices, SymInt[2] output_size) -> Tensor",
    tags=_NN, method=False, function=False, dtypes=NO_BOOL, meta=_unpool_meta(2))
def max_unpool2d(xp, self, indices, output_size):
    """Inverse of max_pool2d: each value put at its flat index of an output of zeros."""
    return _unpool(xp, 2, self, indices, output_size)


@op("aten::max_unpool3d(Tensor self, Tensor indices, SymInt[3] output_size, int[3] stride, "
    "int[3] padding) -> Tensor", tags=_NN, method=False, function=False, dtypes=NO_BOOL,
    meta=_unpool_meta(3))
def max_unpool3d(xp, self, indices, output_size, stride, padding):
    """Inverse of max_pool3d: each value put at its flat index of an output of zeros."""
    return _unpool(xp, 3, self, indices, output_size, stride)


# ---------------------------------------------------------------------- derivatives

def _scatter(grad, indices, shape, nd):
    """Each output's gradient added at its input index (overlaps accumulate)."""
    import gpujit
    lead = tuple(shape[:-nd])
    z = gpujit.zeros(lead + (math.prod(shape[-nd:]),), dtype=grad.dtype, device=grad.device)
    # flatten, not reshape(lead + (-1,)): -1 is ambiguous for a 0-size batch
    return z.scatter_add(-1, indices.flatten(len(lead)),
                         grad.flatten(len(lead))).reshape(tuple(shape))


def _max_grad(op_with_idx, nd):
    def grad_fn(grad, self, kernel_size, stride, padding, dilation, ceil_mode):
        import gpujit
        with gpujit.no_grad():
            idx = op_with_idx.op(self, kernel_size, stride, padding, dilation, ceil_mode)[1]
        return _scatter(grad, idx, self.shape, nd)
    return grad_fn


_derivative(max_pool1d)(_max_grad(max_pool1d_with_indices, 1))
_derivative(max_pool3d)(_max_grad(max_pool3d_with_indices, 3))


def _idx_grad(nd):
    def grad_fn(grad, self, result):
        return _scatter(grad[0], result[1], self.shape, nd)
    return grad_fn


for _f, _nd in ((max_pool1d_with_indices, 1), (max_pool3d_with_indices, 3),
                (adaptive_max_pool1d, 1), (adaptive_max_pool2d, 2), (adaptive_max_pool3d, 3)):
    _derivative(_f, wrt=("self",))(_idx_grad(_nd))
del _f, _nd


def _avg_grad(nd, name):
    def grad_fn(grad, self, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override=None):
        import gpujit
        batched, k, s, p, _, out_shape = pool_geometry(name, nd, self.shape, kernel_size,
                                                       stride, padding, 1, ceil_mode)
        spatial, out = tuple(self.shape[-nd:]), out_shape[-nd:]
        div = _avg_divisor(np, spatial, k, s, p, out, count_include_pad, divisor_override)
        if not isinstance(div, int):
            div = gpujit.tensor(np.broadcast_to(div, out).copy(), dtype=grad.dtype,
                                device=grad.device)
        g = (grad / div).reshape((-1, 1) + out)
        ones = gpujit.ones((1, 1) + k, dtype=grad.dtype, device=grad.device)
        ct = getattr(gpujit.nn.functional, f"conv_transpose{nd}d")
        full = ct(g, ones, None, s)         # every window's taps, from -p on
        for i in range(nd):
            have = full.shape[2 + i]
            if have < p[i] + spatial[i]:
                pads = [0, 0] * nd
                pads[2 * (nd - 1 - i) + 1] = p[i] + spatial[i] - have
                full = gpujit.nn.functional.pad(full, pads)
            full = full.narrow(2 + i, p[i], spatial[i])
        return full.reshape(self.shape)
    return grad_fn


_avg1_grad = _avg_grad(1, "avg_pool1d")


@_derivative(avg_pool1d)
def _avg_pool1d_grad(grad, self, kernel_size, stride, padding, ceil_mode, count_include_pad):
    return _avg1_grad(grad, self, kernel_size, stride, padding, ceil_mode, count_include_pad)

_derivative(avg_pool3d)(_avg_grad(3, "avg_pool3d"))


@_derivative(max_unpool2d, wrt=("self",))
def _max_unpool2d_grad(grad, self_shape, indices):
    lead = tuple(self_shape[:-2])
    return grad.flatten(len(lead)).gather(-1, indices.flatten(len(lead))).reshape(self_shape)


@_derivative(max_unpool3d, wrt=("self",))
def _max_unpool3d_grad(grad, self_shape, indices):
    lead = tuple(self_shape[:-3])
    return grad.flatten(len(lead)).gather(-1, indices.flatten(len(lead))).reshape(self_shape)


# ---------------------------------------------------------------------- composites
# (recording gradients, as PyTorch's 1-D pools: the 2-D pool of self.unsqueeze(-2) with a
# unit first window dim, squeezed back: SqueezeBackward1 -> AvgPool2DBackward0 /
# MaxPool2DWithIndicesBackward0 / AdaptiveAvgPool2DBackward0 / AdaptiveMaxPool2DBackward0
# -> UnsqueezeBackward0. The op's meta checks the call first, with the 1-D op's words.)

def _one(v, default=None):
    if isinstance(v, int):
        return v
    return v[0] if len(v) else default


def _pool1d_composite(name):
    def composite(self, *args):
        from .registry import OPS
        OPS["aten::" + name].meta(self, *args)
        x = self.unsqueeze(-2)
        if name.startswith("adaptive"):
            r = OPS[f"aten::{name[:-2]}2d"].public(x, [1, _one(args[0])])
        else:
            k = _one(args[0])
            s = _one(args[1], k) if len(args) > 1 else k
            p = _one(args[2]) if len(args) > 2 else 0
            if name == "avg_pool1d":
                r = OPS["aten::avg_pool2d"].public(x, [1, k], [1, s], [0, p], *args[3:5])
            else:
                d = _one(args[3]) if len(args) > 3 else 1
                r = OPS["aten::max_pool2d_with_indices"].public(
                    x, [1, k], [1, s], [0, p], [1, d], *args[4:5])
                if name == "max_pool1d":
                    r = r[0]
        if isinstance(r, tuple):
            return tuple(t.squeeze(-2) for t in r)
        return r.squeeze(-2)
    return composite


for _n in ("avg_pool1d", "max_pool1d", "max_pool1d_with_indices", "adaptive_avg_pool1d",
           "adaptive_max_pool1d"):
    from .registry import OPS as _OPS
    _OPS["aten::" + _n].composite = _pool1d_composite(_n)
del _n
