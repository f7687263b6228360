"""nn ops: conv3d, the transposed convolutions conv_transpose1d/2d/3d and im2col / col2im
(F.unfold / F.fold); nn.py holds conv1d/conv2d.

conv3d is im2col by a strided window view and one batched matmul over the groups, as
nn.py's conv2d. A transposed convolution is one batched matmul (each input pixel times
each group's weights gives a kernel-sized patch) followed by col2im: the patches summed
into the output with one strided slice add per kernel tap. Their gradients are
convolutions of either kind, so they record for double backward.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from .kernel_names import kernel_name
from .meta import TensorMeta
from .nn import (_NN, FLOATS, NO_BOOL, check_conv_types, _conv_geometry, _empty_conv_grad,
                 as_strided, conv_backend_checks, check_conv_dtype, compute_dtype, dtype_of, expand_param,
                 not_implemented, sizes)
from .nn_pool import _tuple, windows
from .registry import op, derivative as _derivative


def conv_nd_core(xp, x, w, b, pads, stride, dilation, groups, out):
    """x (N, C, *S), w (O, C/groups, *k) -> (N, O, *out) by im2col and a matmul."""
    nd = len(out)
    ct = compute_dtype(xp, x)
    odt = x.dtype
    x, w = x.astype(ct, copy=False), w.astype(ct, copy=False)
    if any(p for pr in pads for p in pr):
        x = xp.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    n, o, cg, k = x.shape[0], w.shape[0], w.shape[1], tuple(w.shape[2:])
    g, og = groups, o // groups
    st = x.strides
    win = as_strided(xp, x, (n, g, cg) + tuple(out) + k,
                     (st[0], cg * st[1], st[1]) + tuple(st[2 + i] * stride[i] for i in range(nd))
                     + tuple(st[2 + i] * dilation[i] for i in range(nd)))
    perm = (1, 0) + tuple(3 + i for i in range(nd)) + (2,) + tuple(3 + nd + i
                                                                  for i in range(nd))
    m = math.prod(out)
    cols = win.transpose(perm).reshape(g, n * m, cg * math.prod(k))
    r = xp.matmul(cols, w.reshape(g, og, -1).transpose(0, 2, 1))      # (G, N*M, O/G)
    r = r.reshape(g, n, m, og).transpose(1, 0, 3, 2).reshape((n, o) + tuple(out))
    if b is not None:
        r = r + b.astype(ct, copy=False).reshape((1, o) + (1,) * nd)
    return xp.ascontiguousarray(r.astype(odt, copy=False))


def _conv3d(xp, input, weight, bias, stride, padding, dilation, groups):
    check_conv_types(input, weight, bias, padding)
    if bias is not None and bias.dtype != input.dtype:
        bias = bias.astype(input.dtype)     # (the slow kernels' conversion)
    check_conv_dtype(3, input, dilation=dilation)
    batched, pads, stride, dilation, out_shape = _conv_geometry(
        3, input.shape, weight.shape, None if bias is None else bias.shape, stride, padding,
        dilation, groups)
    if weight.shape[1] == 0:        # no input channels: no output channels (PyTorch)
        return xp.zeros(out_shape, dtype=input.dtype)
    x = input if batched else input[None]
    r = conv_nd_core(xp, x, weight, bias, pads, stride, dilation, groups, out_shape[-3:])
    return r if batched else r[0]


def _conv3d_meta(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    check_conv_types(input, weight, bias, padding)
    check_conv_dtype(3, input, dilation=dilation)
    shape = _conv_geometry(3, input.shape, weight.shape, None if bias is None else bias.shape,
                           stride, padding, dilation, groups)[-1]
    return TensorMeta(input.dtype, tuple(shape), input.device)


@op("aten::conv3d(Tensor input, Tensor weight, Tensor? bias=None, SymInt[3] stride=1, "
    "SymInt[3] padding=0, SymInt[3] dilation=1, SymInt groups=1) -> Tensor", tags=_NN,
    meta=_conv3d_meta, method=False, functional=True, dtypes=FLOATS)
def conv3d(xp, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input (cross-correlation)."""
    return _conv3d(xp, input, weight, bias, stride, padding, dilation, groups)


@op("aten::conv3d.padding(Tensor input, Tensor weight, Tensor? bias=None, "
    "SymInt[3] stride=1, str padding=\"valid\", SymInt[3] dilation=1, SymInt groups=1) "
    "-> Tensor", tags=_NN, meta=_conv3d_meta, method=False, functional=True, dtypes=FLOATS)
def conv3d_padding(xp, input, weight, bias=None, stride=1, padding="valid", dilation=1,
                   groups=1):
    """conv3d with padding='same' or 'valid'."""
    return _conv3d(xp, input, weight, bias, stride, padding, dilation, groups)


# ---------------------------------------------------------------------- im2col / col2im

def _fold_params(kernel_size, dilation, padding, stride):
    k = _tuple(kernel_size, 2, "im2col", "kernel_size")
    d = _tuple(dilation, 2, "im2col", "dilation")
    p = _tuple(padding, 2, "im2col", "padding")
    s = _tuple(stride, 2, "im2col", "stride")
    if any(x <= 0 for x in k) or any(x <= 0 for x in d) or any(x <= 0 for x in s) or \
            any(x < 0 for x in p):
        raise RuntimeError(f"im2col: kernel_size, dilation and stride should be greater "
                           f"than zero and padding non-negative, but got kernel_size="
                           f"{k}, dilation={d}, padding={p}, stride={s}")
    return k, d, p, s


def _blocks(hw, k, d, p, s):
    return tuple((n + 2 * pp - (dd * (kk - 1) + 1)) // ss + 1
                 for n, kk, dd, pp, ss in zip(hw, k, d, p, s))


def _im2col_shape(in_shape, kernel_size, dilation, padding, stride):
    k, d, p, s = _fold_params(kernel_size, dilation, padding, stride)
    if len(in_shape) not in (3, 4) or any(x == 0 for x in in_shape[-3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch "
                           f"size and other non-zero dimensions for input, but got: "
                           f"{sizes(in_shape)}")
    b = _blocks(in_shape[-2:], k, d, p, s)
    if any(x < 1 for x in b):
        raise RuntimeError(f"Given input with spatial size ({in_shape[-2]}, {in_shape[-1]}), "
                           f"kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), "
                           f"padding=({p[0]}, {p[1]}), calculated shape of the array of "
                           f"sliding blocks as ({b[0]}, {b[1]}), but its components must "
                           f"be at least one.")
    return (k, d, p, s, b), tuple(in_shape[:-3]) + (in_shape[-3] * k[0] * k[1], b[0] * b[1])


def _fold_dtype(name, self):
    """im2col / col2im dispatch on floating types and bool (checked after the shapes)."""
    dt = dtype_of(self)
    if dt.category != _dt.FLOATING and dt is not _dt.bool:
        raise not_implemented(kernel_name(f"{name}_out_cpu", self), dt)


@op("aten::im2col(Tensor self, int[2] kernel_size, int[2] dilation, int[2] padding, "
    "int[2] stride) -> Tensor", tags=_NN, method=False, function=False, dtypes=NO_BOOL,
    meta=lambda self, kernel_size, dilation, padding, stride: (TensorMeta(
        self.dtype, _im2col_shape(self.shape, kernel_size, dilation, padding, stride)[1],
        self.device), _fold_dtype("im2col", self))[0])
def im2col(xp, self, kernel_size, dilation, padding, stride):
    """F.unfold: (N, C, H, W) -> (N, C * kH * kW, L) sliding blocks."""
    (k, d, p, s, b), shape = _im2col_shape(self.shape, kernel_size, dilation, padding,
                                           stride)
    _fold_dtype("im2col", self)
    x = self if self.ndim == 4 else self[None]
    win = windows(xp, x, k, s, p, d, b, 0)                # (N, C, bH, bW, kH, kW)
    cols = win.transpose(0, 1, 4, 5, 2, 3).reshape((x.shape[0],) + shape[-2:])
    cols = xp.ascontiguousarray(cols)
    return cols if self.ndim == 4 else cols[0]


def col2im_core(xp, cols, out_spatial, k, d, p, s, blocks):
    """Sum (N, C, *blocks, *k) window values into (N, C, *out_spatial) (padding cropped):
    one strided slice add per kernel tap."""
    nd = len(k)
    full = tuple(n + 2 * pp for n, pp in zip(out_spatial, p))
    full = tuple(max(f, (b - 1) * ss + dd * (kk - 1) + 1)
                 for f, b, ss, dd, kk in zip(full, blocks, s, d, k))
    r = xp.zeros(cols.shape[:2] + full, cols.dtype)
    for tap in np.ndindex(*k):
        sl = tuple(slice(t * dd, t * dd + (b - 1) * ss + 1, ss)
                   for t, dd, b, ss in zip(tap, d, blocks, s))
        r[(slice(None), slice(None)) + sl] += cols[(Ellipsis,) + tuple(tap)]
    crop = tuple(slice(pp, pp + n) for pp, n in zip(p, out_spatial))
    return xp.ascontiguousarray(r[(slice(None), slice(None)) + crop[:nd]])


def _col2im_shape(in_shape, output_size, kernel_size, dilation, padding, stride):
    k, d, p, s = _fold_params(kernel_size, dilation, padding, stride)
    out = _tuple(output_size, 2, "col2im", "output_size")
    if len(in_shape) not in (2, 3) or any(x == 0 for x in in_shape[-2:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly "
                           f"0 batch size and non-zero dimensions for input, but got: "
                           f"{sizes(in_shape)}")
    c_k = in_shape[-2]
    if c_k % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={c_k} and "
                           f"kernel_size=({k[0]}, {k[1]}).")
    b = _blocks(out, k, d, p, s)
    if in_shape[-1] != b[0] * b[1]:
        raise RuntimeError(f"Given output_size=({out[0]}, {out[1]}), kernel_size=({k[0]}, "
                           f"{k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), "
                           f"stride=({s[0]}, {s[1]}), expected size of input's dimension 2 "
                           f"to match the calculated number of sliding blocks {b[0]} * "
                           f"{b[1]} = {b[0] * b[1]}, but got input.size(2)={in_shape[-1]}.")
    return (k, d, p, s, b, out), tuple(in_shape[:-2]) + (c_k // (k[0] * k[1]),) + out


@op("aten::col2im(Tensor self, SymInt[2] output_size, int[2] kernel_size, int[2] dilation, "
    "int[2] padding, int[2] stride) -> Tensor", tags=_NN, method=False, function=False,
    dtypes=NO_BOOL,
    meta=lambda self, output_size, kernel_size, dilation, padding, stride: (TensorMeta(
        self.dtype, _col2im_shape(self.shape, output_size, kernel_size, dilation, padding,
                                  stride)[1], self.device), _fold_dtype("col2im", self))[0])
def col2im(xp, self, output_size, kernel_size, dilation, padding, stride):
    """F.fold: (N, C * kH * kW, L) sliding blocks summed into (N, C, H, W)."""
    (k, d, p, s, b, out), shape = _col2im_shape(self.shape, output_size, kernel_size,
                                                dilation, padding, stride)
    _fold_dtype("col2im", self)
    x = self if self.ndim == 3 else self[None]
    cols = x.reshape((x.shape[0], shape[-3]) + k + b).transpose(0, 1, 4, 5, 2, 3)
    r = col2im_core(xp, cols, out, k, d, p, s, b)
    return r if self.ndim == 3 else r[0]


# ---------------------------------------------------------------------- transposed

def _transpose_geometry(nd, in_shape, w_shape, b_shape, stride, padding, output_padding,
                        groups, dilation):
    """Validate conv_transpose{nd}d as ATen; (batched, stride, padding, output_padding,
    dilation, output shape)."""
    name = f"conv_transpose{nd}d"
    if len(in_shape) not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {sizes(in_shape)}")
    batched = len(in_shape) == nd + 2
    shape = tuple(in_shape) if batched else (1,) + tuple(in_shape)
    s = expand_param(stride, nd, "stride")
    p = expand_param(padding, nd, "padding")
    op_ = expand_param(output_padding, nd, "output_padding")
    d = expand_param(dilation, nd, "dilation")
    if len(w_shape) != nd + 2:
        raise RuntimeError(f"Expected {len(w_shape)}-dimensional input for {len(w_shape)}-"
                           f"dimensional weight {sizes(w_shape)}, but got {len(shape)}-"
                           f"dimensional input of size {sizes(shape)} instead")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(x < 0 for x in p):
        raise RuntimeError("negative padding is not supported")
    if any(x < 0 for x in op_):
        raise RuntimeError("negative output_padding is not supported")
    if any(x <= 0 for x in s):
        raise RuntimeError("non-positive stride is not supported")
    if any(x <= 0 for x in d):
        raise RuntimeError("dilation should be greater than zero")
    if any(o >= ss and o >= dd for o, ss, dd in zip(op_, s, d)):
        dims = ["depth", "height", "width"][3 - nd:] if nd > 1 else ["width"]
        parts = ([f"output_padding_{n}: {v}" for n, v in zip(dims, op_)]
                 + [f"stride_{n}: {v}" for n, v in zip(dims, s)]
                 + [f"dilation_{n}: {v}" for n, v in zip(dims, d)])
        raise RuntimeError("output padding must be smaller than either stride or dilation, "
                           "but got " + " ".join(parts))
    # (ATen's check_shape_forward: the weight's dim 0 against groups, then the channels)
    if w_shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} "
                           f"at dimension 0, but got weight of size {sizes(w_shape)} instead")
    if w_shape[0] % groups:
        # (PyTorch prints the transposed weight's sizes in two brackets)
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"[{sizes(w_shape)}] instead")
    if shape[1] is not None and shape[1] != w_shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {sizes(w_shape)}, expected "
                           f"input{sizes(shape)} to have {w_shape[0]} channels, but got "
                           f"{shape[1]} channels instead")
    o = w_shape[1] * groups
    if b_shape is not None and (len(b_shape) != 1 or b_shape[0] != o):
        raise RuntimeError(f"Given transposed=1, weight of size {sizes(w_shape)}, expected "
                           f"bias to be 1-dimensional with {o} elements, but got bias of "
                           f"size {sizes(b_shape)} instead")
    conv_backend_checks(nd, shape, w_shape, d, True)
    out = []
    for i in range(nd):
        n = shape[2 + i]
        out.append(None if n is None else (n - 1) * s[i] - 2 * p[i]
                   + d[i] * (w_shape[2 + i] - 1) + op_[i] + 1)
    if any(x is not None and x <= 0 for x in out):
        ins, outs = tuple(shape[2:]), tuple(out)
        if nd == 1:     # ATen runs it as a 2-D convolution of height 1
            ins, outs = (1,) + ins, (1,) + outs
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, ins))})"
                           f". Calculated output size per channel: "
                           f"({' x '.join(map(str, outs))}). Output size is too small")
    out_shape = (shape[0], o) + tuple(out)
    return batched, s, p, op_, d, out_shape if batched else out_shape[1:]


def _conv_transpose(xp, nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    check_conv_types(input, weight, bias, transposed_nd=nd)
    if bias is not None and bias.dtype != input.dtype:
        bias = bias.astype(input.dtype)     # (the slow kernels' conversion)
    check_conv_dtype(nd, input, transposed=True)
    batched, s, p, _, d, out_shape = _transpose_geometry(
        nd, input.shape, weight.shape, None if bias is None else bias.shape, stride,
        padding, output_padding, groups, dilation)
    x = input if batched else input[None]
    ct = compute_dtype(xp, x)
    odt = x.dtype
    x, w = x.astype(ct, copy=False), weight.astype(ct, copy=False)
    n, c, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    g, cg, og, k = groups, c // groups, w.shape[1], tuple(w.shape[2:])
    m = math.prod(spatial)
    xm = x.reshape(n, g, cg, m).transpose(1, 0, 3, 2).reshape(g, n * m, cg)
    wm = w.reshape(g, cg, og * math.prod(k))
    cols = xp.matmul(xm, wm)                                  # (G, N*M, O/G * prod(k))
    cols = cols.reshape((g, n) + spatial + (og,) + k)
    perm = (1, 0, 2 + nd) + tuple(2 + i for i in range(nd)) + tuple(3 + nd + i
                                                                   for i in range(nd))
    cols = cols.transpose(perm).reshape((n, g * og) + spatial + k)
    out = tuple(out_shape[-nd:])
    r = col2im_core(xp, cols, out, k, d, p, s, spatial)
    if bias is not None:
        r = r + bias.astype(ct, copy=False).reshape((1, g * og) + (1,) * nd)
    r = xp.ascontiguousarray(r.astype(odt, copy=False))
    return r if batched else r[0]


def _transpose_meta(nd):
    def meta(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
             dilation=1):
        check_conv_types(input, weight, bias, transposed_nd=nd)
        check_conv_dtype(nd, input, transposed=True)
        shape = _transpose_geometry(nd, input.shape, weight.shape,
                                    None if bias is None else bias.shape, stride, padding,
                                    output_padding, groups, dilation)[-1]
        return TensorMeta(input.dtype, tuple(shape), input.device)
    return meta


def _transpose_op(nd):
    @op(f"aten::conv_transpose{nd}d{'.input' if nd > 1 else ''}(Tensor input, Tensor weight, Tensor? bias=None, "
        f"SymInt[{nd}] stride=1, SymInt[{nd}] padding=0, SymInt[{nd}] output_padding=0, "
        f"SymInt groups=1, SymInt[{nd}] dilation=1) -> Tensor", tags=_NN,
        meta=_transpose_meta(nd), method=False, functional=True, dtypes=FLOATS)
    def impl(xp, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
             dilation=1):
        return _conv_transpose(xp, nd, input, weight, bias, stride, padding, output_padding,
                               groups, dilation)
    impl.__name__ = impl.__qualname__ = f"conv_transpose{nd}d"
    impl.__doc__ = (f"{nd}-D transposed convolution (the gradient of conv{nd}d with respect "
                    f"to its input), weight (C_in, C_out / groups, *kernel).")
    return impl


conv_transpose1d = _transpose_op(1)
conv_transpose2d = _transpose_op(2)
conv_transpose3d = _transpose_op(3)


# ---------------------------------------------------------------------- derivatives

def _conv_fn(nd):
    import gpujit
    return getattr(gpujit, f"conv{nd}d")


def _ct_fn(nd):
    import gpujit
    return getattr(gpujit.nn.functional, f"conv_transpose{nd}d")


def weight_grad(nd, gout, inp, w_shape, pads, stride, dilation, groups):
    """d/d weight of conv{nd}d: conv{nd}d of the (padded) input, batch and channels
    swapped, with the gradient as the kernel (stride and dilation exchange roles)."""
    import gpujit
    flat = []
    for pr in reversed(pads):
        flat += [pr[0], pr[1]]
    x = gpujit.nn.functional.pad(inp, flat) if any(flat) else inp
    n, c, sp = x.shape[0], x.shape[1], tuple(x.shape[2:])
    o, out = gout.shape[1], tuple(gout.shape[2:])
    cg = c // groups
    perm = (2, 1, 0) + tuple(3 + i for i in range(nd))
    xi = x.reshape((n, groups, cg) + sp).permute(perm).reshape((cg, groups * n) + sp)
    gw = gout.reshape((n, groups, o // groups) + out).permute(
        (1, 2, 0) + tuple(3 + i for i in range(nd))).reshape((o, n) + out)
    r = _conv_fn(nd)(xi, gw, None, dilation, 0, stride, groups)   # (C/groups, O, >=k)
    for i in range(nd):
        r = r.narrow(2 + i, 0, w_shape[2 + i])
    return r.transpose(0, 1)


def input_grad(nd, gout, weight, spatial, pads, stride, dilation, groups):
    """d/d input of conv{nd}d: the transposed convolution of the gradient (taps from the
    padded input's start), padded / cropped to the input."""
    import gpujit
    full = _ct_fn(nd)(gout, weight, None, stride, 0, 0, groups, dilation)
    for i in range(nd):
        have, want = full.shape[2 + i], pads[i][0] + spatial[i]
        if have < want:
            widths = [0, 0] * nd
            widths[2 * (nd - 1 - i) + 1] = want - have
            full = gpujit.nn.functional.pad(full, widths)
        full = full.narrow(2 + i, pads[i][0], spatial[i])
    return full


@_derivative(conv3d, conv3d_padding)
def _conv3d_grad(grad, input, weight, bias_shape, stride, padding, dilation, groups,
                 needs_grad):
    # (only the needed gradients, as conv2d's)
    if weight.shape[1] == 0:
        return _empty_conv_grad(input, weight, bias_shape)
    batched, pads, s, d, _ = _conv_geometry(3, input.shape, weight.shape, None, stride,
                                            padding, dilation, groups)
    x, g = (input, grad) if batched else (input.unsqueeze(0), grad.unsqueeze(0))
    gi = input_grad(3, g, weight, tuple(x.shape[2:]), pads, s, d,
                    groups) if needs_grad[0] else None
    gw = weight_grad(3, g, x, tuple(weight.shape), pads, s, d, groups) if needs_grad[1] else None
    gb = g.sum([0, 2, 3, 4]) if bias_shape is not None and needs_grad[2] else None
    return (gi if batched or gi is None else gi.squeeze([0])), gw, gb


def _transpose_grad(nd):
    def grad_fn(grad, input, weight, bias_shape, stride, padding, output_padding, groups,
                dilation, needs_grad):
        batched, s, p, _, d, _ = _transpose_geometry(nd, input.shape, weight.shape, None,
                                                     stride, padding, output_padding, groups,
                                                     dilation)
        x, g = (input, grad) if batched else (input.unsqueeze(0), grad.unsqueeze(0))
        # the input's gradient is the forward convolution of the output's
        gi = _conv_fn(nd)(g, weight, None, s, p, d, groups) if needs_grad[0] else None
        # the weight's: conv's weight gradient with input and output exchanged
        gw = weight_grad(nd, x, g, tuple(weight.shape), tuple((q, q) for q in p), s, d,
                         groups) if needs_grad[1] else None
        gb = g.sum([0] + list(range(2, 2 + nd))) if bias_shape is not None and \
            needs_grad[2] else None
        return (gi if batched or gi is None else gi.squeeze([0])), gw, gb
    return grad_fn


for _f, _nd in ((conv_transpose1d, 1), (conv_transpose2d, 2), (conv_transpose3d, 3)):
    _derivative(_f)(_transpose_grad(_nd))
del _f, _nd


@_derivative(im2col)
def _im2col_grad(grad, self_shape, kernel_size, dilation, padding, stride):
    return col2im.op.public(grad, tuple(self_shape[-2:]), kernel_size, dilation, padding,
                            stride)


@_derivative(col2im)
def _col2im_grad(grad, output_size, kernel_size, dilation, padding, stride):
    return im2col.op.public(grad, kernel_size, dilation, padding, stride)


# ---------------------------------------------------------------------- composites
# (recording gradients, as PyTorch's conv{n}d / conv_transpose{n}d: an unbatched input is
# unsqueezed, convolved and squeezed back (SqueezeBackward1 -> ConvolutionBackward0 ->
# UnsqueezeBackward0); padding='same' whose two sides differ (an even kernel length with
# an odd dilation) pads the input by the difference first (constant_pad_nd:
# ConstantPadNdBackward0) and convolves with the smaller, symmetric padding, as
# _convolution_mode. A batched call with symmetric padding is the op's one node.)

def _conv_composite(op_, nd, transposed):
    def composite(input, weight, *rest):
        dim = input.dim()
        if dim == nd + 1:
            return op_.public(input.unsqueeze(0), weight, *rest).squeeze(0)
        if transposed or dim != nd + 2 or len(rest) < 3 or rest[2] != "same":
            return NotImplemented
        bias, stride, padding, dilation, groups = (tuple(rest) + (1, 1))[:5]
        pads = _conv_geometry(nd, tuple(input.shape), tuple(weight.shape),
                              None if bias is None else tuple(bias.shape), stride, padding,
                              dilation, groups)[1]
        if all(lo == hi for lo, hi in pads):
            return NotImplemented
        from . import registry as _reg
        pad_nd = [0] * (2 * nd)
        for i, (lo, hi) in enumerate(pads):     # (F.pad's order: the last dim first)
            pad_nd[2 * (nd - 1 - i) + 1] = hi - lo
        padded = _reg.OPS["aten::constant_pad_nd"].public(input, pad_nd, 0)
        return _reg.OPS[op_.name.partition(".")[0]].public(
            padded, weight, bias, stride, [lo for lo, _ in pads], dilation, groups)
    return composite


def _set_conv_composites():
    from . import registry as _reg
    for nd in (1, 2, 3):
        for name in (f"conv{nd}d", f"conv{nd}d.padding"):
            o = _reg.OPS["aten::" + name]
            o.composite = _conv_composite(o, nd, False)
        o = _reg.OPS[f"aten::conv_transpose{nd}d" + (".input" if nd > 1 else "")]
        o.composite = _conv_composite(o, nd, True)


_set_conv_composites()
