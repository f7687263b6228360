"""OpInfos of session 49: the quantizer ops (aten::quantize_per_tensor ..., dequantize,
int_repr, the q_* accessors), PyTorch's quantized:: ops (gpujit/ops/quantized_ops.py) and
the double-backward ops aten::select_backward / slice_backward. Quantized tensors cannot
be NumPy arrays: samples pass gpujit tensors (the harness hands them over as they are) and
`check` compares each result with a NumPy model: the float computation on the
dequantized inputs, requantized with the output's scale and zero point (within one step:
FBGEMM's rounding of ties is tests/test_quant_s49.py's business). meta / noncontiguous /
gpu / grad are off for the quantized ones: they take quantized tensors, whose layout is
their own (QuantizedCPU)."""
from __future__ import annotations

import numpy as np

import gpujit

from . import OpInfo, Sample

_X = np.array([[-1.5, -0.25, 0.0, 0.5], [1.0, 2.25, -3.0, 0.75]], np.float32)
_Y = np.array([[0.5, 1.0, -0.5, 0.25], [-1.0, 0.5, 1.5, -0.75]], np.float32)
_RANGE = {gpujit.qint8: (-128, 127), gpujit.quint8: (0, 255), gpujit.qint32: (-2 ** 31, 2 ** 31 - 1)}


def _q(x, scale=0.05, zp=10, dtype=gpujit.quint8):
    return gpujit.quantize_per_tensor(gpujit.from_numpy(np.asarray(x, np.float32)), scale, zp,
                                      dtype)


def _model(f, scale, zp, dtype):
    lo, hi = _RANGE[dtype]
    return (np.clip(np.rint(np.asarray(f, np.float64) / scale) + zp, lo, hi) - zp) * scale


def _deq(t):
    return t.dequantize().numpy().astype(np.float64)


def _assert_q(out, want, scale, zp, dtype):
    assert out.is_quantized and out.dtype is dtype, (out.dtype, dtype)
    assert out.q_scale() == scale and out.q_zero_point() == zp, (out.q_scale(), out.q_zero_point())
    np.testing.assert_allclose(_deq(out), _model(want, scale, zp, dtype), atol=scale * 1.01)


def _check_quantize(sample, out):
    x, scale, zp, dtype = sample.args
    _assert_q(out, x.astype(np.float64), scale, zp, dtype)
    lo, hi = _RANGE[dtype]
    r = out.int_repr().numpy()
    assert r.min() >= lo and r.max() <= hi


def _check_quantize_tq(sample, out):
    x, scale, zp, dtype = sample.args
    _assert_q(out, x, float(scale.item()), int(zp.item()), dtype)


def _check_quantize_tensors(sample, out):
    xs, scales, zps, dtype = sample.args
    assert len(out) == len(xs)
    for o, x, s, z in zip(out, xs, scales.tolist(), zps.tolist()):
        _assert_q(o, x, s, z, dtype)


def _check_per_channel(sample, out):
    x, scales, zps, axis, dtype = sample.args
    assert out.q_per_channel_axis() == axis
    np.testing.assert_array_equal(out.q_per_channel_scales().numpy(), scales.astype(np.float64))
    lo, hi = _RANGE[dtype]
    shape = [1] * x.ndim
    shape[axis] = -1
    s, z = scales.reshape(shape).astype(np.float64), zps.reshape(shape)
    want = (np.clip(np.rint(x / s) + z, lo, hi) - z) * s
    np.testing.assert_allclose(_deq(out), want, atol=float(scales.max()) * 1.01)


def _check_dynamic(sample, out):
    x, dtype, _reduce = sample.args
    assert out.is_quantized and out.dtype is dtype
    np.testing.assert_allclose(_deq(out), x, atol=out.q_scale() * 1.01)


def _check_dequantize(sample, out):
    (q,) = sample.args
    want = (q.int_repr().numpy().astype(np.float64) - q.q_zero_point()) * q.q_scale()
    assert out.dtype is gpujit.float32
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)


def _check_dequantize_list(sample, out):
    (qs,) = sample.args
    assert len(out) == len(qs)
    for o, q in zip(out, qs):
        _check_dequantize(Sample(q), o)


def _check_int_repr(sample, out):
    (q,) = sample.args
    assert out.dtype is gpujit.uint8
    want = np.clip(np.rint(_X / 0.05) + 10, 0, 255)
    np.testing.assert_array_equal(out.numpy(), want.astype(np.uint8))


def _binary(f, relu=False):
    def check(sample, out):
        qa, qb, scale, zp = sample.args
        r = f(_deq(qa), _deq(qb))
        _assert_q(out, np.maximum(r, 0) if relu else r, scale, zp, qa.dtype)
    return check


def _binary_scalar(f, relu=False):
    def check(sample, out):
        qa, b = sample.args
        r = f(_deq(qa), b)
        r = np.maximum(r, 0) if relu else r
        # (the Scalar forms pick their output quantizer: compare values within it)
        assert out.is_quantized and out.dtype is qa.dtype
        np.testing.assert_allclose(_deq(out), r, atol=max(out.q_scale(), qa.q_scale()) * 1.01)
    return check


def _check_cat(relu):
    def check(sample, out):
        qs, dim, scale, zp = sample.args
        r = np.concatenate([_deq(q) for q in qs], dim)
        _assert_q(out, np.maximum(r, 0) if relu else r, scale, zp, qs[0].dtype)
    return check


def _unary(f):
    def check(sample, out):
        q, scale, zp = sample.args[:3]
        _assert_q(out, f(_deq(q), *sample.args[3:]), scale, zp, q.dtype)
    return check


def _check_leaky(sample, out):
    q, slope, _inplace, scale, zp = sample.args
    x = _deq(q)
    _assert_q(out, np.where(x > 0, x, x * slope), scale, zp, q.dtype)


def _check_relu6(sample, out):
    q = sample.args[0]
    x = _deq(q)
    six = (6.0 / q.q_scale()) + q.q_zero_point()
    assert out.is_quantized and six > 0
    np.testing.assert_allclose(_deq(out), np.clip(x, 0, 6.0), atol=q.q_scale() * 1.01)


def _check_softmax(sample, out):
    q, dim, scale, zp = sample.args
    x = _deq(q)
    e = np.exp(x - x.max(dim, keepdims=True))
    _assert_q(out, e / e.sum(dim, keepdims=True), scale, zp, q.dtype)


def _linear_inputs():
    x = _q(_X, 0.05, 10, gpujit.quint8)
    w = gpujit.quantize_per_tensor(gpujit.from_numpy(_Y[:, :4] * 0.5), 0.01, 0,
                                   gpujit.qint8)
    b = gpujit.from_numpy(np.array([0.1, -0.2], np.float32))
    return x, gpujit.ops.quantized.linear_prepack(w, b)


def _check_linear(relu):
    def check(sample, out):
        x, packed, scale, zp = sample.args
        w, b = packed.unpack()
        r = _deq(x) @ _deq(w).T + b.numpy().astype(np.float64)
        _assert_q(out, np.maximum(r, 0) if relu else r, scale, zp, x.dtype)
    return check


def _check_linear_dynamic(sample, out):
    x, packed = sample.args[:2]
    w, b = packed.unpack()
    xv = x.numpy().astype(np.float64)
    r = xv @ _deq(w).T + b.numpy()
    assert out.dtype is gpujit.float32
    # (the input is quantized to uint8 on the fly: within its step times the weights)
    step = (xv.max() - min(xv.min(), 0)) / 255
    np.testing.assert_allclose(out.numpy(), r, atol=step * np.abs(_deq(w)).sum(1).max() + 1e-3)


def _equals(value):
    def check(sample, out):
        got = out.tolist() if isinstance(out, gpujit.Tensor) else out
        assert got == value, (got, value)
    return check


def _qx():
    return _q(_X)


def _check_select_backward(sample, out):
    g, sizes, dim, index = sample.args
    want = np.zeros(sizes, np.float32)
    sl = [slice(None)] * len(sizes)
    sl[dim] = index
    want[tuple(sl)] = g
    np.testing.assert_array_equal(out.numpy(), want)


def _check_slice_backward(sample, out):
    g, sizes, dim, start, end, step = sample.args
    want = np.zeros(sizes, np.float32)
    sl = [slice(None)] * len(sizes)
    sl[dim] = slice(start, end, step)
    want[tuple(sl)] = g
    np.testing.assert_array_equal(out.numpy(), want)


_Q = dict(noncontiguous=False, meta=False, gpu=False, grad=False)
_Z = np.zeros(1, np.float32)

OPINFOS = [
    OpInfo("aten::quantize_per_tensor", check=_check_quantize, **_Q, samples=lambda: [
        Sample(_X, 0.05, 10, gpujit.quint8), Sample(_X * 100, 0.5, 0, gpujit.qint8),
        Sample(_X, 0.001, -3, gpujit.qint32)]),
    OpInfo("aten::quantize_per_tensor.tensor_qparams", check=_check_quantize_tq, **_Q,
           samples=lambda: [Sample(_X, np.array(0.05), np.array(10), gpujit.quint8)]),
    OpInfo("aten::quantize_per_tensor.tensors", check=_check_quantize_tensors, **_Q,
           samples=lambda: [Sample([_X, _Y], np.array([0.05, 0.1]), np.array([10, 3]),
                                   gpujit.quint8)]),
    OpInfo("aten::quantize_per_tensor_dynamic", check=_check_dynamic, **_Q,
           samples=lambda: [Sample(_X, gpujit.quint8, False), Sample(_X, gpujit.qint8, True)]),
    OpInfo("aten::quantize_per_channel", check=_check_per_channel, **_Q, samples=lambda: [
        Sample(_X, np.array([0.05, 0.1]), np.array([10, 0]), 0, gpujit.quint8),
        Sample(_X, np.array([0.05, 0.1, 0.02, 0.5]), np.array([0, 1, -2, 3]), 1,
               gpujit.qint8)]),
    OpInfo("aten::dequantize.self", check=_check_dequantize, **_Q,
           samples=lambda: [Sample(_qx()), Sample(_q(_Y, 0.01, -5, gpujit.qint8))]),
    OpInfo("aten::dequantize.tensors", check=_check_dequantize_list, **_Q,
           samples=lambda: [Sample([_qx(), _q(_Y, 0.01, -5, gpujit.qint8)])]),
    OpInfo("aten::int_repr", check=_check_int_repr, **_Q, samples=lambda: [Sample(_qx())]),
    OpInfo("aten::q_scale", check=_equals(0.05), **_Q,
           samples=lambda: [Sample(_qx())]),
    OpInfo("aten::q_zero_point", check=_equals(10), **_Q,
           samples=lambda: [Sample(_qx())]),
    OpInfo("aten::q_per_channel_axis", check=_equals(1), **_Q,
           samples=lambda: [Sample(gpujit.quantize_per_channel(
               gpujit.from_numpy(_X), gpujit.tensor([0.05, 0.1, 0.02, 0.5]),
               gpujit.tensor([0, 1, 2, 3]), 1, gpujit.quint8))]),
    OpInfo("aten::q_per_channel_scales",
           check=_equals([0.05, 0.1]), **_Q,
           samples=lambda: [Sample(gpujit.quantize_per_channel(
               gpujit.from_numpy(_X), gpujit.tensor([0.05, 0.1], dtype=gpujit.float64),
               gpujit.tensor([0, 1]), 0, gpujit.quint8))]),
    OpInfo("aten::q_per_channel_zero_points",
           check=_equals([0, 1]), **_Q,
           samples=lambda: [Sample(gpujit.quantize_per_channel(
               gpujit.from_numpy(_X), gpujit.tensor([0.05, 0.1]), gpujit.tensor([0, 1]), 0,
               gpujit.quint8))]),
    OpInfo("quantized::add", check=_binary(np.add), **_Q,
           samples=lambda: [Sample(_qx(), _q(_Y), 0.06, 20)]),
    OpInfo("quantized::add_relu", check=_binary(np.add, True), **_Q,
           samples=lambda: [Sample(_qx(), _q(_Y), 0.06, 20)]),
    OpInfo("quantized::mul", check=_binary(np.multiply), **_Q,
           samples=lambda: [Sample(_qx(), _q(_Y), 0.06, 20)]),
    OpInfo("quantized::mul_relu", check=_binary(np.multiply, True), **_Q,
           samples=lambda: [Sample(_qx(), _q(_Y), 0.06, 20)]),
    OpInfo("quantized::add.Scalar", check=_binary_scalar(np.add), **_Q,
           samples=lambda: [Sample(_qx(), 0.5)]),
    OpInfo("quantized::add_relu.Scalar", check=_binary_scalar(np.add, True), **_Q,
           samples=lambda: [Sample(_qx(), -0.5)]),
    OpInfo("quantized::mul.Scalar", check=_binary_scalar(np.multiply), **_Q,
           samples=lambda: [Sample(_qx(), 0.5)]),
    OpInfo("quantized::mul_relu.Scalar", check=_binary_scalar(np.multiply, True), **_Q,
           samples=lambda: [Sample(_qx(), 2.0)]),
    OpInfo("quantized::cat", check=_check_cat(False), **_Q,
           samples=lambda: [Sample([_qx(), _q(_Y)], 0, 0.05, 10),
                            Sample([_qx(), _q(_Y)], 1, 0.1, 5)]),
    OpInfo("quantized::cat_relu", check=_check_cat(True), **_Q,
           samples=lambda: [Sample([_qx(), _q(_Y)], 0, 0.05, 10)]),
    OpInfo("quantized::celu", check=_unary(lambda x, a=1.0: np.where(
        x > 0, x, a * (np.exp(x / a) - 1))), **_Q,
           samples=lambda: [Sample(_qx(), 0.05, 40, 1.0)]),
    OpInfo("quantized::elu", check=_unary(lambda x, a=1.0, *_: np.where(x > 0, x, a * (np.exp(x) - 1))),
           **_Q, samples=lambda: [Sample(_qx(), 0.05, 40)]),
    OpInfo("quantized::hardswish", check=_unary(lambda x: x * np.clip(x + 3, 0, 6) / 6), **_Q,
           samples=lambda: [Sample(_qx(), 0.05, 20)]),
    OpInfo("quantized::sigmoid", check=_unary(lambda x: 1 / (1 + np.exp(-x))), **_Q,
           samples=lambda: [Sample(_qx(), 1.0 / 256, 0)]),
    OpInfo("quantized::leaky_relu", check=_check_leaky, **_Q,
           samples=lambda: [Sample(_qx(), 0.1, False, 0.05, 10)]),
    OpInfo("quantized::relu6", check=_check_relu6, **_Q, samples=lambda: [Sample(_qx())]),
    OpInfo("quantized::softmax", check=_check_softmax, **_Q,
           samples=lambda: [Sample(_qx(), 1, 1.0 / 256, 0)]),
    OpInfo("quantized::linear", check=_check_linear(False), **_Q,
           samples=lambda: [Sample(*_linear_inputs(), 0.05, 64)]),
    OpInfo("quantized::linear_relu", check=_check_linear(True), **_Q,
           samples=lambda: [Sample(*_linear_inputs(), 0.05, 0)]),
    OpInfo("quantized::linear_dynamic", check=_check_linear_dynamic, **_Q,
           samples=lambda: [Sample(gpujit.from_numpy(_X), *_linear_inputs()[1:])]),
    OpInfo("aten::select_backward", check=_check_select_backward, noncontiguous=False,
           meta=False, samples=lambda: [Sample(_X[0], [3, 4], 0, 1),
                                        Sample(_X[:, 1], [2, 5], 1, -1)]),
    OpInfo("aten::slice_backward", check=_check_slice_backward, noncontiguous=False,
           meta=False, samples=lambda: [Sample(_X[:, :2], [2, 6], 1, 1, 5, 2),
                                        Sample(_X, [4, 4], 0, 1, 3, 1)]),
]
