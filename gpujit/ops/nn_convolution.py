"""aten::_convolution and aten::_convolution_mode: the convolution every conv{n}d and
conv_transpose{n}d call becomes in PyTorch, and what its tracer records for them.

PyTorch's tracer does not record conv1d/2d/3d, conv_transpose1d/2d/3d nor convolution
(tools/autograd/gen_trace_type.py, DONT_RECORD_TRACE) but the ATen ops they call: an
unbatched input's aten::unsqueeze, then aten::_convolution with its thirteen arguments
(the backend flags read at trace time: torch.backends.cudnn.benchmark, deterministic
algorithms, cudnn.enabled, cudnn.allow_tf32), or aten::_convolution_mode for a string
padding, then aten::squeeze. The conv ops' `traced` below records that; their eager calls
and scripted graphs keep the conv ops themselves.
"""
from __future__ import annotations

from .nn import _NN, FLOATS, sizes
from .registry import OPS, dispatch_state, op, derivative as _derivative


def _conv_op(nd, transposed):
    return OPS[f"aten::conv_transpose{nd}d" + (".input" if nd > 1 else "")] if transposed \
        else OPS[f"aten::conv{nd}d"]


def _nd_of(input, weight):
    """The spatial dims of a batched _convolution (input and weight of the same rank)."""
    wd, xd = len(weight.shape), len(input.shape)
    if wd < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if xd != wd:
        raise RuntimeError(f"Expected {wd}-dimensional input for {wd}-dimensional weight "
                           f"{sizes(weight.shape)}, but got {xd}-dimensional input of size "
                           f"{sizes(input.shape)} instead")
    if wd > 5:
        raise RuntimeError(f"Expected 3D, 4D or 5D weight for convolution, but got weight "
                           f"of size {sizes(weight.shape)}")
    return wd - 2


def _native_args(input, weight, bias, stride, padding, dilation, transposed,
                 output_padding, groups):
    nd = _nd_of(input, weight)
    if transposed:
        return _conv_op(nd, True), (input, weight, bias, stride, padding, output_padding,
                                    groups, dilation)
    return _conv_op(nd, False), (input, weight, bias, stride, padding, dilation, groups)


def _convolution_meta(input, weight, bias, stride, padding, dilation, transposed,
                      output_padding, groups, *flags):
    o, args = _native_args(input, weight, bias, stride, padding, dilation, transposed,
                           output_padding, groups)
    return o.meta(*args)


@op("aten::_convolution(Tensor input, Tensor weight, Tensor? bias, SymInt[] stride, "
    "SymInt[] padding, SymInt[] dilation, bool transposed, SymInt[] output_padding, "
    "SymInt groups, bool benchmark, bool deterministic, bool cudnn_enabled, "
    "bool allow_tf32) -> Tensor", tags=_NN, meta=_convolution_meta, method=False,
    dtypes=FLOATS)
def _convolution(xp, input, weight, bias, stride, padding, dilation, transposed,
                 output_padding, groups, benchmark, deterministic, cudnn_enabled,
                 allow_tf32):
    """The convolution of a batched input, forward or transposed (the backend flags only
    choose among kernels that compute the same result)."""
    o, args = _native_args(input, weight, bias, stride, padding, dilation, transposed,
                           output_padding, groups)
    return o.impl(xp, *args)


@op("aten::_convolution.deprecated(Tensor input, Tensor weight, Tensor? bias, "
    "SymInt[] stride, SymInt[] padding, SymInt[] dilation, bool transposed, "
    "int[] output_padding, SymInt groups, bool benchmark, bool deterministic, "
    "bool cudnn_enabled) -> Tensor", tags=_NN, meta=_convolution_meta, method=False,
    dtypes=FLOATS)
def _convolution_deprecated(xp, input, weight, bias, stride, padding, dilation, transposed,
                            output_padding, groups, benchmark, deterministic,
                            cudnn_enabled):
    """_convolution without allow_tf32."""
    o, args = _native_args(input, weight, bias, stride, padding, dilation, transposed,
                           output_padding, groups)
    return o.impl(xp, *args)


def _mode_op(input, weight):
    nd = len(weight.shape) - 2
    if not 1 <= nd <= 3:
        raise RuntimeError(f"Expected 3D, 4D or 5D weight for convolution, but got weight "
                           f"of size {sizes(weight.shape)}")
    return OPS[f"aten::conv{nd}d.padding"]


def _convolution_mode_meta(input, weight, bias, stride, padding, dilation, groups):
    return _mode_op(input, weight).meta(input, weight, bias, stride, padding, dilation,
                                        groups)


@op("aten::_convolution_mode(Tensor input, Tensor weight, Tensor? bias, SymInt[] stride, "
    "str padding, SymInt[] dilation, SymInt groups) -> Tensor", tags=_NN,
    meta=_convolution_mode_meta, method=False, dtypes=FLOATS)
def _convolution_mode(xp, input, weight, bias, stride, padding, dilation, groups):
    """A convolution with padding 'same' or 'valid' (conv{n}d.padding's)."""
    return _mode_op(input, weight).impl(xp, input, weight, bias, stride, padding, dilation,
                                        groups)


# ---------------------------------------------------------------------- derivatives

@_derivative(_convolution, _convolution_deprecated)
def _convolution_grad(grad, input, weight, bias_shape, stride, padding, dilation,
                      transposed, output_padding, groups, needs_grad):
    # (the conv op's own gradient; ConvolutionBackward1 names the node, node_names.py)
    kw = dict(input=input, weight=weight, bias_shape=bias_shape, stride=stride,
              padding=padding, dilation=dilation, groups=groups, needs_grad=needs_grad)
    if transposed:
        kw["output_padding"] = output_padding
    return _conv_op(_nd_of(input, weight), transposed).derivative.fn(grad, **kw)


@_derivative(_convolution_mode)
def _convolution_mode_grad(grad, input, weight, bias_shape, stride, padding, dilation,
                           groups, needs_grad):
    return _mode_op(input, weight).derivative.fn(
        grad, input=input, weight=weight, bias_shape=bias_shape, stride=stride,
        padding=padding, dilation=dilation, groups=groups, needs_grad=needs_grad)


def _mode_composite(input, weight, *rest):
    # (asymmetric 'same' padding pads first, as conv{n}d.padding's composite)
    o = _mode_op(input, weight)
    return o.composite(input, weight, *rest) if o.composite is not None else NotImplemented


_convolution_mode.op.composite = _mode_composite


# ---------------------------------------------------------------------- the trace

def backend_flags():
    """The four flags PyTorch's convolution passes on to _convolution, as set now."""
    from .. import backends, are_deterministic_algorithms_enabled
    c = backends.cudnn
    return (bool(c.benchmark), bool(c.deterministic or are_deterministic_algorithms_enabled()),
            bool(c.enabled), bool(c.allow_tf32))


def _each(v, nd):
    return list(v) if isinstance(v, (list, tuple)) else [v] * nd


def _traced_conv(nd, transposed):
    """How PyTorch's tracer records a conv{nd}d / conv_transpose{nd}d call."""
    def traced(input, weight, bias=None, stride=1, padding=0, *rest):
        if transposed:
            output_padding, groups, dilation = (tuple(rest) + (0, 1, 1)[len(rest):])[:3]
        else:
            dilation, groups = (tuple(rest) + (1, 1)[len(rest):])[:2]
            output_padding = 0
        if input.dim() not in (nd + 1, nd + 2):
            return NotImplemented       # (the conv op's own error)
        unbatched = input.dim() == nd + 1
        x = input.unsqueeze(0) if unbatched else input
        if isinstance(padding, str):
            r = OPS["aten::_convolution_mode"].public(x, weight, bias, _each(stride, nd),
                                                      padding, _each(dilation, nd), groups)
        else:
            # (recorded below autograd, through convolution's autograd kernel: its graph
            # type says requires_grad=0; _convolution_mode, a composite, is above it)
            dispatch_state.below_autograd = True
            try:
                r = OPS["aten::_convolution"].public(
                    x, weight, bias, _each(stride, nd), _each(padding, nd),
                    _each(dilation, nd), transposed, _each(output_padding, nd), groups,
                    *backend_flags())
            finally:
                dispatch_state.below_autograd = False
        return r.squeeze(0) if unbatched else r
    return traced


def _set_traced():
    for nd in (1, 2, 3):
        for t in (False, True):
            _conv_op(nd, t).traced = _traced_conv(nd, t)
        OPS[f"aten::conv{nd}d.padding"].traced = _traced_conv(nd, False)


_set_traced()
