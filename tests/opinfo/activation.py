"""OpInfos of the activation functions (gpujit/ops/activation.py): float64 NumPy formulas
from the definitions in PyTorch's docs (torch.nn.<Module> pages)."""
from __future__ import annotations

import math

import numpy as np

import gpujit as G
from . import OpInfo, Sample, ErrorSample
from .pointwise import (B, U8, I8, I32, I64, F32, F64, FLOATS, NO_BOOL, NAN, arr,
                        special, unary_samples, dtype_error, gd, _erf)

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


def _not_int(name):
    return [dtype_error(name, arr(3, dtype=I64), dt="int64")]


OPINFOS = [
    OpInfo("aten::relu", samples=unary_samples(NO_BOOL, _same), ref=lambda x: np.maximum(x, 0),
           errors=[dtype_error("relu", arr(3, dtype=B))]),
    OpInfo("aten::relu6", samples=unary_samples(NO_BOOL, _same, -9, 9),
           ref=lambda x: np.minimum(np.maximum(x, 0), 6),
           errors=[dtype_error("relu6", arr(3, dtype=B))]),
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
        errors=[dtype_error("hardtanh", arr(3, dtype=B)),
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
        ref=_threshold_ref, errors=[dtype_error("threshold", arr(3, dtype=B), 0, 1)]),
    OpInfo("aten::hardshrink", samples=float_samples() + [
        Sample(arr(3, 4, low=-1, high=1), 0.3), Sample(arr(5, dtype=F64), lambd=1.5),
        Sample(arr(3, 4, dtype=np.float16, low=-1, high=1), 0.25)] + [
        Sample(_EDGES.astype(d), 0.5) for d in FLOATS] + [
        Sample(_EDGES.astype(F32), 0), Sample(_EDGES.astype(F64), -1.0),
        Sample(arr(2, 3), lambd=2)], ref=_shrink_ref(False),
        errors=_not_int("hardshrink") + [dtype_error("hardshrink", arr(3, dtype=B))]),
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
]
