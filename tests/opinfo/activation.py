"""OpInfos of the activation functions (gpujit/ops/activation.py): float64 NumPy formulas
from the definitions in PyTorch's docs (torch.nn.<Module> pages)."""
from __future__ import annotations

import math

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample
from .pointwise import (B, U8, I8, I32, I64, F32, F64, FLOATS, NO_BOOL, NAN, arr,
                        special, unary_samples, gd, _erf, UNSUPPORTED,
                        kernel_dtype_error)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _same(d):
    return gd(d)


def float_samples(*args, low=-4.0, high=4.0, **kwargs):
    return unary_samples(FLOATS, _same, low, high, *args, **kwargs)


def _f(x):
    return np.asarray(x, np.float64)


def _elu_ref(x, alpha=1.0, scale=1.0, input_scale=1.0):
    x = _f(x)
    return np.where(x > 0, scale * x, alpha * scale * (np.exp(x * input_scale) - 1))


def _gelu_ref(x, approximate="none"):
    x = _f(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * 0.5 * (1 + _erf(x / math.sqrt(2)))


def _softplus_ref(x, beta=1.0, threshold=20.0):
    x = _f(x)
    with np.errstate(over="ignore"):
        soft = np.log(1 + np.exp(beta * x)) / beta
    return np.where(beta * x > threshold, x, soft)


def _hardtanh_ref(x, min_val=-1.0, max_val=1.0):
    if np.asarray(x).dtype.kind in "iu":
        min_val, max_val = int(min_val), int(max_val)
    return np.minimum(np.maximum(x, min_val), max_val)


def _threshold_ref(x, threshold, value):
    if np.asarray(x).dtype.kind in "iu":
        threshold, value = int(threshold), int(value)
    return np.where(x <= threshold, value, x)


def _shrink_ref(soft):
    def ref(x, lambd=0.5):
        x = _f(x)
        inside = (x >= -lambd) & (x <= lambd)
        if not soft:
            return np.where(inside, 0.0, x)
        return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, x * 0))
    return ref


def _log_sigmoid_ref(x):
    return -np.logaddexp(0.0, -_f(x))


def _prelu_ref(x, w):
    x, w = _f(x), _f(w)
    if x.ndim != w.ndim:             # the weight runs along dim 1 (PyTorch's prelu docs)
        shape = [1] * x.ndim
        if x.ndim > 1:
            shape[1] = w.size
        w = w.reshape(shape)
    return np.where(x > 0, x, w * x)


# a value at each end of [-lambd, lambd], just outside them, zeros of both signs, inf, nan
_EDGES = np.array([-0.5, 0.5, -0.25, 0.25, 0.0, -0.0, 0.5078125, -0.5078125, 3.0, -3.0,
                   np.inf, -np.inf, np.nan])


def _lambd_error(dt_name, lo_hi, found, *args, **kwargs):
    return ErrorSample(*args, match=(rf"^lambda must be in range \[0, {lo_hi}\] for input dtype "
                                     rf"{dt_name}, but found {found}$"), **kwargs)


# PyTorch's kernels whose words refuse an integer input (CPU | CUDA names)
_KERNELS = {"elu": "elu_(cpu|cuda)", "selu": "elu_(cpu|cuda)", "celu": "elu_(cpu|cuda)",
            "gelu": "Gelu(CUDA)?KernelImpl", "silu": "silu_(cpu|cuda)",
            "mish": "mish_(cpu|cuda)", "hardswish": "hardswish_(cpu|cuda)",
            "hardsigmoid": "hardsigmoid_(cpu|cuda)", "leaky_relu": "leaky_relu_(cpu|cuda)",
            "softplus": "softplus_(cpu|cuda)", "softshrink": "softshrink_(check|cuda)",
            "hardshrink": "hardshrink_(cpu|cuda)", "log_sigmoid": "log_sigmoid_(cpu|cuda)"}


def _not_int(name):
    return [ErrorSample(arr(3, dtype=I64), exc=UNSUPPORTED,
                        match=f"\"{_KERNELS[name]}\" not implemented for 'Long'")]


OPINFOS = [
    OpInfo("aten::relu", samples=unary_samples(NO_BOOL, _same), ref=lambda x: np.maximum(x, 0),
           errors=[ErrorSample(arr(3, dtype=B), match="Boolean inputs not supported for relu")]),
    OpInfo("aten::relu6", samples=unary_samples(NO_BOOL, _same, -9, 9),
           ref=lambda x: np.minimum(np.maximum(x, 0), 6),
           errors=[ErrorSample(arr(3, dtype=B), match="Bool inputs not supported for hardtanh")]),
    OpInfo("aten::leaky_relu", samples=float_samples() + [
        Sample(arr(3, 4), 0.2), Sample(arr(5, dtype=F64), negative_slope=-1.5)],
        ref=lambda x, negative_slope=0.01: np.where(_f(x) > 0, x, _f(x) * negative_slope),
        errors=_not_int("leaky_relu")),
    OpInfo("aten::elu", samples=float_samples() + [
        Sample(arr(3, 4), 0.5), Sample(arr(3, 4, dtype=F64), alpha=2.0, scale=1.5,
                                       input_scale=0.5),
        Sample(np.array([100.0, -100.0, 0.0], F32))], ref=_elu_ref, errors=_not_int("elu")),
    OpInfo("aten::selu", samples=float_samples(),
           ref=lambda x: _elu_ref(x, SELU_ALPHA, SELU_SCALE), errors=_not_int("selu")),
    OpInfo("aten::celu", samples=float_samples() + [Sample(arr(3, 4), 0.5),
                                                    Sample(arr(4, dtype=F64), alpha=3.0)],
           ref=lambda x, alpha=1.0: np.where(_f(x) > 0, x, alpha * (np.exp(_f(x) / alpha) - 1)),
           errors=_not_int("celu") + [ErrorSample(arr(3), 0.0, match="alpha cannot be 0")]),
    OpInfo("aten::gelu", samples=float_samples() + [
        Sample(arr(3, 4, dtype=d), approximate="tanh") for d in FLOATS] + [
        Sample(special(), approximate="tanh")], ref=_gelu_ref,
        errors=_not_int("gelu") + [ErrorSample(arr(3), approximate="fast",
                                               match="approximate argument must be either "
                                                     "none or tanh")]),
    OpInfo("aten::silu", samples=float_samples(), ref=lambda x: _f(x) / (1 + np.exp(-_f(x))),
           errors=_not_int("silu")),
    OpInfo("aten::mish", samples=float_samples(),
           ref=lambda x: _f(x) * np.tanh(np.log1p(np.exp(_f(x)))), errors=_not_int("mish")),
    OpInfo("aten::softplus", samples=float_samples(low=-5, high=25) + [
        Sample(arr(3, 4, low=-3, high=3), 2.0, 4.0),
        Sample(arr(3, 4, dtype=F64, low=-3, high=3), beta=0.5, threshold=1.0)],
        ref=_softplus_ref, errors=_not_int("softplus")),
    OpInfo("aten::hardtanh", samples=unary_samples(tuple(d for d in NO_BOOL if d != U8), _same,
                                                   -3, 3) + [
        Sample(arr(3, 4), -0.5, 0.25), Sample(arr(4, dtype=F64), min_val=0.0, max_val=2.0),
        Sample(arr(3, 4, dtype=I32, low=-5, high=5), -2.5, 3.7),
        Sample(arr(3, dtype=U8, high=9), 1, 5)], ref=_hardtanh_ref,
        errors=[ErrorSample(arr(3, dtype=B), match="Bool inputs not supported for hardtanh"),
                ErrorSample(arr(3, dtype=U8), match="unsigned type with negative limits")]),
    OpInfo("aten::hardsigmoid", samples=float_samples(low=-5, high=5),
           ref=lambda x: np.clip(_f(x) / 6 + 0.5, 0, 1), errors=_not_int("hardsigmoid")),
    OpInfo("aten::hardswish", samples=float_samples(low=-5, high=5),
           ref=lambda x: _f(x) * np.clip(_f(x) / 6 + 0.5, 0, 1),
           errors=_not_int("hardswish")),
    OpInfo("aten::threshold", samples=[
        Sample(arr(3, 4, dtype=d), 0.5, -1.0) for d in FLOATS] + [
        Sample(arr(3, 4, dtype=I32, low=-3, high=3), 1, 20).expect_dtype(G.int32),
        Sample(arr(3, 4, dtype=I8, low=-3, high=3), 0.9, 7.5).expect_dtype(G.int8),
        Sample(special(), 0.0, NAN), Sample(arr(), 0.0, 2.0), Sample(arr(0, 2), 0.0, 1.0)],
        ref=_threshold_ref, errors=[kernel_dtype_error("threshold", arr(3, dtype=B), 0, 1)]),
    OpInfo("aten::hardshrink", samples=float_samples() + [
        Sample(arr(3, 4, low=-1, high=1), 0.3), Sample(arr(5, dtype=F64), lambd=1.5),
        Sample(arr(3, 4, dtype=np.float16, low=-1, high=1), 0.25)] + [
        Sample(_EDGES.astype(d), 0.5) for d in FLOATS] + [
        Sample(_EDGES.astype(F32), 0), Sample(_EDGES.astype(F64), -1.0),
        Sample(arr(2, 3), lambd=2)], ref=_shrink_ref(False),
        errors=_not_int("hardshrink") + [kernel_dtype_error("hardshrink", arr(3, dtype=B))]),
    OpInfo("aten::softshrink", samples=float_samples() + [
        Sample(arr(3, 4, low=-1, high=1), 0.3), Sample(arr(5, dtype=F64), lambd=1.5),
        Sample(arr(3, 4, dtype=np.float16, low=-1, high=1), 0.25)] + [
        Sample(_EDGES.astype(d), 0.5) for d in FLOATS] + [
        Sample(_EDGES.astype(F32), 0), Sample(_EDGES.astype(F64), 1e300),
        Sample(arr(2, 3), lambd=2)], ref=_shrink_ref(True),
        errors=_not_int("softshrink") + [
            _lambd_error("Float", r"3\.40282e\+38", r"-0\.5", arr(3), -0.5),
            _lambd_error("Float", r"3\.40282e\+38", "-1", arr(3), -1),
            _lambd_error("Float", r"3\.40282e\+38", "nan", arr(3), NAN),
            _lambd_error("Float", r"3\.40282e\+38", r"1e\+39", arr(3), 1e39),
            _lambd_error("Half", "65504", "70000", arr(3, dtype=np.float16), 7e4),
            _lambd_error("Double", r"1\.79769e\+308", "inf", arr(3, dtype=F64),
                         math.inf)]),
    OpInfo("aten::log_sigmoid", samples=float_samples(low=-6, high=6) + [
        Sample(np.array([-800.0, -40.0, -1e-8, 1e-8, 40.0, 800.0], F64)),
        Sample(np.array([-100.0, -20.0, 20.0, 100.0], F32))],
        ref=_log_sigmoid_ref, errors=_not_int("log_sigmoid")),
    OpInfo("aten::prelu", samples=[
        Sample(arr(2, 3, 4), arr(3, low=0, high=1)),
        Sample(arr(2, 3, 2, 2, dtype=F64), arr(3, dtype=F64)),
        Sample(arr(2, 3, 4), arr(1)), Sample(arr(4, 3, dtype=F64), arr(dtype=F64)),
        Sample(arr(2, 3, dtype=np.float16), arr(3, dtype=np.float16)),
        Sample(arr(5), arr(1)), Sample(arr(5), arr()), Sample(arr(), arr(1)),
        Sample(arr(), arr()), Sample(arr(0, 3), arr(3)), Sample(special(), arr(1)),
        Sample(arr(3, 1, 2), arr(1))], ref=_prelu_ref,
        errors=[
            ErrorSample(arr(2, 3), arr(2), match=r"^Mismatch of parameter numbers and input "
                        r"channel size\. Found parameter numbers = 2 and channel size = 3\.$"),
            ErrorSample(arr(3), arr(3), match="Found parameter numbers = 3 and channel "
                                              "size = 1"),
            ErrorSample(arr(), arr(2), match=r"^Not allow zero-dim input tensor\.$"),
            ErrorSample(arr(2, 3), arr(1, 3), match=r"^prelu: Expected `weight` to be a "
                                                    r"scalar or 1D tensor, but got: ndim = 2$"),
            ErrorSample(arr(3), arr(1, dtype=F64), match="^prelu: Type promoting not "
                                                         "supported. Got Float and Double$"),
            ErrorSample(arr(3, dtype=I64), arr(1, dtype=I64),
                        match="\"prelu_cpu\" not implemented for 'Long'")]),
    # (ATen's kernel prelu calls with the weight viewed along dim 1; torch._prelu_kernel)
    OpInfo("aten::_prelu_kernel", samples=[
        Sample(arr(2, 3, 4), arr(1, 3, 1, low=0, high=1)),
        Sample(arr(2, 3, 2, 2, dtype=F64), arr(1, 3, 1, 1, dtype=F64)),
        Sample(arr(4, 3, dtype=F64), arr(1, 1, dtype=F64)), Sample(arr(5), arr(1)),
        Sample(arr(2, 3, dtype=np.float16), arr(1, 3, dtype=np.float16))],
        ref=lambda x, w: np.where(_f(x) > 0, _f(x), _f(w) * _f(x)),
        errors=[ErrorSample(arr(3, dtype=I64), arr(1, dtype=I64),
                            match="\"prelu_cpu\" not implemented for 'Long'")]),
]


# ---------------------------------------------------------------------- rrelu
# Random when training: checked, not compared (slopes in [lower, upper], the gradient the
# slope each element got); without training exactly leaky_relu with (lower + upper) / 2.

def _rrelu_args(sample):
    names = ("lower", "upper", "training")
    vals = dict(zip(names, (0.125, 1 / 3, False)))
    vals.update(zip(names, sample.args[1:]))
    vals.update(sample.kwargs)
    return sample.args[0], vals["lower"], vals["upper"], vals["training"]


def _rrelu_grad_check(x, lower, upper, training):
    leaf = G.from_numpy(x.astype(F64)).requires_grad_()
    out = G.rrelu(leaf, lower, upper, training)
    out.sum().backward()
    o, g = out.detach().numpy(), leaf.grad.numpy()
    neg = x <= 0
    np.testing.assert_array_equal(g[~neg], 1.0)
    if training:
        assert ((g[neg] >= lower) & (g[neg] <= upper)).all()
        nz = neg & (x != 0)
        np.testing.assert_allclose(o[nz], x[nz] * g[nz], rtol=1e-12)   # the slope used
    else:
        np.testing.assert_allclose(g[neg], (lower + upper) / 2, rtol=1e-12)


def _rrelu_check(sample, out):
    x, lower, upper, training = _rrelu_args(sample)
    o = out.numpy()
    assert out.dtype.np == x.dtype and o.shape == x.shape
    x64, o64 = _f(x), _f(o)
    tol = 1e-3 if x.dtype == np.float16 else 1e-6
    if not training:
        np.testing.assert_allclose(o64, np.where(x64 > 0, x64, x64 * ((lower + upper) / 2)),
                                   rtol=tol, atol=0)
    else:
        pos = ~(x64 <= 0)
        np.testing.assert_array_equal(o64[pos], x64[pos])
        neg = x64 < 0
        slope = o64[neg] / x64[neg]
        assert ((slope >= lower * (1 - tol)) & (slope <= upper * (1 + tol))).all()
        if neg.sum() > 200 and upper - lower > 0.1:        # spread over the whole range
            assert slope.min() < lower + 0.2 * (upper - lower)
            assert slope.max() > upper - 0.2 * (upper - lower)
        assert (o64[x64 == 0] == 0).all()
    if x.size and x.ndim <= 2:
        _rrelu_grad_check(x, lower, upper, training)


def _rrelu_samples():
    return [Sample(arr(30, 20), training=True), Sample(arr(40, 10, dtype=F64), 0.1, 0.9, True),
            Sample(arr(64, 8, dtype=np.float16), 0.2, 0.3, True),
            Sample(arr(3, 4)), Sample(arr(5, dtype=F64), 0.0, 1.0, False),
            Sample(arr(2, 3, 4), upper=0.5, training=False),
            Sample(np.array([-2.0, 0.0, -0.0, 3.0], F32), 0.25, 0.25, True),
            Sample(arr(0, 3), training=True), Sample(arr(), training=True)]


def _rrelu_inplace_check(sample, out):
    # entries are 1 or -1; the sample's array is the tensor's memory or a copy of it after
    # that run: -1 becomes -r after one run, -r * r' after two (slopes in [lower, upper])
    x, lower, upper, training = _rrelu_args(sample)
    o = _f(out.numpy())
    assert (o[o > 0] == 1).all()
    neg = -o[o < 0]
    if not training:
        m = (lower + upper) / 2
        assert np.isclose(neg[:, None], [m, m * m], rtol=1e-6).any(axis=1).all()
        return
    one = (neg >= lower * (1 - 1e-6)) & (neg <= upper * (1 + 1e-6))
    two = (neg >= lower * lower * (1 - 1e-6)) & (neg <= upper * upper * (1 + 1e-6))
    assert (one | two).all()


def _rrelu_inplace_samples():
    signs = np.where(np.arange(400).reshape(20, 20) % 3 == 0, 1.0, -1.0)
    return [Sample(signs.astype(F32), 0.125, 1 / 3, True),
            Sample(signs.astype(F64), 0.5, 0.75, True),
            Sample(signs[:5, :5].astype(F32), 0.1, 0.3, False)]


def _rrelu_errors():
    # (torch 2.13 names the kernel: leaky_relu's when not training)
    return [ErrorSample(arr(3, dtype=I64), exc=NotImplementedError,
                        match="^\"leaky_relu_cpu\" not implemented for 'Long'$"),
            ErrorSample(arr(3, dtype=I64), 0.1, 0.3, True, exc=NotImplementedError,
                        match="^\"rrelu_with_noise_out_cpu\" not implemented for 'Long'$"),
            ErrorSample(arr(3), 0.5, 0.2, True, exc=RuntimeError,
                        match="^Lower bound should be less than or equal to the upper bound$"),
            ErrorSample(arr(3), 0.5, 0.2, exc=RuntimeError, match="^Lower bound should be")]


# grad=False: gradcheck redraws the slopes at every call (and rrelu_ would write into its
# leaf); _rrelu_grad_check tests the derivative. gpu=False: random.
OPINFOS += [
    OpInfo("aten::rrelu", samples=_rrelu_samples, check=_rrelu_check, errors=_rrelu_errors(),
           gpu=False, grad=False),
    OpInfo("aten::rrelu_", samples=_rrelu_inplace_samples, check=_rrelu_inplace_check,
           errors=_rrelu_errors(), gpu=False, grad=False),
]


# ---------------------------------------------------------------------- glu

def _glu_ref(x, dim=-1):
    x = np.asarray(x, np.float64)
    a, b = np.split(x, 2, axis=dim)
    return a / (1 + np.exp(-b))


OPINFOS += [
    OpInfo("aten::glu", samples=[Sample(arr(3, 4, dtype=d)) for d in FLOATS] + [
        Sample(arr(4, 6, 2, dtype=F64), 1), Sample(arr(2, 3, 4), dim=2),
        Sample(arr(6, 2), -2), Sample(arr(2, 0))], ref=_glu_ref,
        errors=[ErrorSample(np.array(1.0, F32), exc=RuntimeError,
                            match="^glu does not support scalars because halving size must "
                                  "be even$"),
                ErrorSample(arr(2, 3), exc=RuntimeError,
                            match="^Halving dimension must be even, but dimension 1 is size 3$"),
                ErrorSample(arr(4, dtype=I64), exc=UNSUPPORTED,
                            match="^\"glu_cpu\" not implemented for 'Long'$")]),
]


# ------------------------------------------------- tanh_backward / sigmoid_backward

def _tanh_backward_ref(grad_output, output):
    return _f(grad_output) * (1 - _f(output) ** 2)


def _sigmoid_backward_ref(grad_output, output):
    return _f(grad_output) * (1 - _f(output)) * _f(output)


def _act_backward_samples():
    return ([Sample(arr(3, 4, dtype=d), arr(3, 4, dtype=d, low=-1.0, high=1.0))
             for d in FLOATS] +
            [Sample(arr(2, 1), arr(3)), Sample(arr(4, dtype=F32), arr(4, dtype=F64)),
             Sample(np.array(0.5, F64), arr(2, 3, dtype=F64)), Sample(arr(0), arr(0))])


OPINFOS += [
    OpInfo(f"aten::{name}", samples=_act_backward_samples, ref=ref, errors=[
        kernel_dtype_error(name, arr(3, dtype=I64), arr(3, dtype=I64), dt="Long"),
        kernel_dtype_error(name, arr(3, dtype=B), arr(3, dtype=B)),
        ErrorSample(arr(3), arr(2), exc=RuntimeError,
                    match=r"^The size of tensor a \(3\) must match the size of tensor b "
                          r"\(2\) at non-singleton dimension 0")])
    for name, ref in (("tanh_backward", _tanh_backward_ref),
                      ("sigmoid_backward", _sigmoid_backward_ref))]


# ------------------------------------------- gelu_backward / silu_backward / mish_backward

def _gelu_backward_ref(grad_output, x, approximate="none"):
    x = _f(x)
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x ** 3))
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
    else:
        d = 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    return _f(grad_output) * d


def _silu_backward_ref(grad_output, x):
    s = 1 / (1 + np.exp(-_f(x)))
    return _f(grad_output) * s * (1 + _f(x) * (1 - s))


def _mish_backward_ref(grad_output, x):
    x = _f(x)
    t = np.tanh(np.log1p(np.exp(x)))
    s = 1 / (1 + np.exp(-x))
    return _f(grad_output) * (t + x * s * (1 - t * t))


def _grad_input_samples(extra=None):
    def samples():
        out = [Sample(arr(3, 4, dtype=d), arr(3, 4, dtype=d, low=-4.0, high=4.0))
               for d in FLOATS]
        out += [Sample(arr(2, 1), arr(3)), Sample(arr(4, dtype=F32), arr(4, dtype=F64)),
                Sample(arr(0), arr(0))]
        if extra:
            out += [Sample(arr(3, 4, dtype=d), arr(3, 4, dtype=d, low=-4.0, high=4.0),
                           **extra) for d in FLOATS]
        return out
    return samples


OPINFOS += [
    OpInfo(f"aten::{name}", samples=_grad_input_samples(extra), ref=ref, grad=grad, errors=[
        kernel_dtype_error(kernel, arr(3, dtype=I64), arr(3, dtype=I64), dt="Long")]
        if kernel else [
        ErrorSample(arr(3, dtype=I64), arr(3, dtype=I64), exc=UNSUPPORTED,
                    match="^\"GeluBackward(CUDA)?KernelImpl\" not implemented for 'Long'$"),
        ErrorSample(arr(3), arr(3), approximate="foo", exc=RuntimeError,
                    match="^approximate argument must be either none or tanh.$")])
    # (grad=False: derivatives.yaml differentiates neither silu_backward nor mish_backward)
    for name, ref, extra, kernel, grad in (
        ("gelu_backward", _gelu_backward_ref, {"approximate": "tanh"}, None, True),
        ("silu_backward", _silu_backward_ref, None, "silu_backward", False),
        ("mish_backward", _mish_backward_ref, None, "mish_backward", False))]


# ----------------------------------- the ReLU family's backward ops (activation_backward_relu)

def _select_ref(mask):
    def ref(grad_output, self, *args):
        return np.where(mask(_f(self), *args), 0.0, _f(grad_output))
    return ref


def _dtype_of(*arrays):
    return np.result_type(*arrays)


def _opmath_t(self, v):
    # threshold_backward's threshold as its kernel compares it (float16's in float)
    d = np.asarray(self).dtype
    return float((np.float32 if d == np.float16 else d.type)(v))


def _leaky_relu_backward_ref(grad_output, self, negative_slope, self_is_result=False):
    return np.where(_f(self) > 0, _f(grad_output), _f(grad_output) * negative_slope)


def _elu_backward_ref(grad_output, alpha, scale, input_scale, is_result, b):
    g, b = _f(grad_output), _f(b)
    if is_result:
        neg = g * input_scale * (b + alpha * scale)
    else:
        neg = g * input_scale * alpha * scale * np.exp(np.minimum(b, 0) * input_scale)
    return np.where(b <= 0, neg, g * scale)


def _softplus_backward_ref(grad_output, self, beta, threshold):
    xb = _f(self) * beta
    z = np.exp(np.minimum(xb, 700))
    return np.where(xb > threshold, _f(grad_output), _f(grad_output) * z / (z + 1))


def _log_sigmoid_backward_ref(grad_output, self, buffer):
    b = _f(buffer)
    q = b / (1 + b)
    return np.where(_f(self) < 0, 1 - q, q) * _f(grad_output)


def _hardswish_backward_ref(grad_output, self):
    x, g = _f(self), _f(grad_output)
    return np.where(x <= -3, 0.0, np.where(x < 3, g * (x / 3 + 0.5), g))


def _hardsigmoid_backward_ref(grad_output, self):
    x = _f(self)
    return np.where((x > -3) & (x < 3), _f(grad_output) * float(np.float32(1) / np.float32(6)),
                    0.0)


def _pair(d, low=-4.0, high=4.0):
    return arr(3, 4, dtype=d), arr(3, 4, dtype=d, low=low, high=high)


def _pair_samples(*args, low=-4.0, high=4.0, dtypes=FLOATS, **kwargs):
    def samples():
        out = [Sample(*_pair(d, low, high), *args, **kwargs) for d in dtypes]
        out += [Sample(arr(2, 1), arr(3), *args, **kwargs),
                Sample(arr(4, dtype=F32), arr(4, dtype=F64), *args, **kwargs),
                Sample(arr(0), arr(0), *args, **kwargs)]
        return out
    return samples


def _elu_backward_samples():
    out = []
    for d in FLOATS:
        for alpha, scale, input_scale, is_result in ((1.0, 1.0, 1.0, False),
                                                      (1.3, 0.7, 0.5, False),
                                                      (0.6, 1.0, 2.0, True)):
            out.append(Sample(arr(3, 4, dtype=d), alpha, scale, input_scale, is_result,
                              arr(3, 4, dtype=d, low=-3.0, high=3.0)))
    out += [Sample(arr(2, 1), 1.0, 1.0, 1.0, False, arr(3)), Sample(arr(0), 1, 1, 1, False,
                                                                    arr(0))]
    return out


def _log_sigmoid_backward_samples():
    out = []
    for d in FLOATS:
        x = arr(3, 4, dtype=d, low=-5.0, high=5.0)
        out.append(Sample(arr(3, 4, dtype=d), x, np.exp(-np.abs(x))))
    return out


OPINFOS += [
    OpInfo("aten::threshold_backward", samples=lambda: _pair_samples(0.3)() + [
        Sample(arr(5, dtype=I64), arr(5, dtype=I64, low=-3, high=3), -1.5)],
        ref=lambda g, x, t: np.where(_f(x) <= (int(t) if np.asarray(x).dtype.kind == "i"
                                               else _opmath_t(x, t)), 0, _f(g)),
        errors=[kernel_dtype_error("threshold", arr(3, dtype=B), arr(3, dtype=B), 0)]),
    OpInfo("aten::hardtanh_backward", samples=_pair_samples(-0.5, 0.7),
           ref=_select_ref(lambda x, lo, hi: (x <= lo) | (x >= hi)),
           errors=[kernel_dtype_error("hardshrink_backward", arr(3, dtype=I64),
                                      arr(3, dtype=I64), -1, 1, dt="Long")]),
    OpInfo("aten::leaky_relu_backward", samples=lambda: _pair_samples(0.2, False)() + [
        Sample(*_pair(F64), -0.2, False), Sample(*_pair(F32), 0.3, True)],
        ref=_leaky_relu_backward_ref, errors=[
        kernel_dtype_error("leaky_relu_backward", arr(3, dtype=I64), arr(3, dtype=I64), 0.1,
                           False, dt="Long"),
        ErrorSample(arr(3), arr(3), -0.1, True, exc=RuntimeError,
                    match="^In-place leakyReLu backward calculation is triggered with a "
                          "negative slope which is not supported")]),
    OpInfo("aten::elu_backward", samples=_elu_backward_samples, ref=_elu_backward_ref, errors=[
        kernel_dtype_error("elu_backward", arr(3, dtype=I64), 1, 1, 1, False,
                           arr(3, dtype=I64), dt="Long"),
        ErrorSample(arr(3), -1.0, 1, 1, True, arr(3), exc=RuntimeError,
                    match="^In-place elu backward calculation is triggered with a negative "
                          "slope which is not supported")]),
    OpInfo("aten::softplus_backward", samples=_pair_samples(2.0, 3.0), ref=_softplus_backward_ref,
           errors=[kernel_dtype_error("softplus_backward", arr(3, dtype=I64),
                                      arr(3, dtype=I64), 1, 20, dt="Long")]),
    # (the buffer is not differentiable: gradcheck would perturb it)
    OpInfo("aten::log_sigmoid_backward", samples=_log_sigmoid_backward_samples,
           ref=_log_sigmoid_backward_ref, grad=False, errors=[
        kernel_dtype_error("log_sigmoid_backward", arr(3, dtype=I64), arr(3, dtype=I64),
                           arr(3, dtype=I64), dt="Long")]),
    OpInfo("aten::hardswish_backward", samples=_pair_samples(), ref=_hardswish_backward_ref,
           errors=[kernel_dtype_error("hardswish_backward", arr(3, dtype=I64),
                                      arr(3, dtype=I64), dt="Long")]),
    # (grad=False: derivatives.yaml does not differentiate hardsigmoid_backward)
    OpInfo("aten::hardsigmoid_backward", samples=_pair_samples(), ref=_hardsigmoid_backward_ref,
           grad=False, errors=[ErrorSample(
               arr(3, dtype=I64), arr(3, dtype=I64), exc=UNSUPPORTED,
               match="^\"hardsigmoid_backward\" not implemented for 'Long'$")]),
] + [
    OpInfo(f"aten::{name}", samples=_pair_samples(0.5),
           ref=_select_ref(lambda x, lam: (x >= -lam) & (x <= lam)),
           errors=[kernel_dtype_error("shrink_backward", arr(3, dtype=I64), arr(3, dtype=I64),
                                      0.5, dt="Long")])
    for name in ("hardshrink_backward", "softshrink_backward")]


def _rrelu_backward_ref(grad_output, self, noise, lower, upper, training, self_is_result):
    if training:
        return _f(noise) * _f(grad_output)
    return _leaky_relu_backward_ref(grad_output, self, (lower + upper) / 2)


def _rrelu_backward_samples():
    out = []
    for d in FLOATS:
        g, x = _pair(d)
        noise = np.where(x > 0, 1, arr(3, 4, dtype=d, low=0.1, high=0.3)).astype(d)
        out += [Sample(g, x, noise, 0.1, 0.3, True, False),
                Sample(g, x, noise, 0.1, 0.3, False, False),
                Sample(g, x, noise, 0.1, 0.3, False, True)]
    return out


OPINFOS += [
    # (the noise is not differentiable: gradcheck would perturb it)
    OpInfo("aten::rrelu_with_noise_backward", samples=_rrelu_backward_samples,
           ref=_rrelu_backward_ref, grad=False, errors=[
               kernel_dtype_error("leaky_relu_backward", arr(3, dtype=I64), arr(3, dtype=I64),
                                  arr(3, dtype=I64), 0.1, 0.3, False, False, dt="Long"),
               ErrorSample(arr(3), arr(3), arr(3), -0.3, -0.1, False, True, exc=RuntimeError,
                           match="^In-place leakyReLu backward calculation is triggered")])]


def _log_sigmoid_forward_ref(x):
    x = _f(x)
    z = np.exp(-np.abs(x))
    return np.minimum(x, 0) - np.log1p(z), z


OPINFOS += [
    OpInfo("aten::log_sigmoid_forward", samples=lambda: [
        Sample(arr(3, 4, dtype=d, low=-6.0, high=6.0)) for d in FLOATS] + [Sample(arr(0))],
        ref=_log_sigmoid_forward_ref, errors=[
            kernel_dtype_error("log_sigmoid", arr(3, dtype=I64), dt="Long")])]
