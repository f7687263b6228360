"""OpInfos of session 50: the packed-weight quantized:: ops (linear_prepack / unpack, the
conv prepacks / unpacks, conv1d / 2d / 3d (+ _relu), linear_relu_dynamic) and the
quantized batch norms. Samples pass gpujit tensors and packed objects as they are; `check`
compares with a NumPy model: the float computation on the dequantized inputs, requantized
with the output's scale and zero point (within one step; the bits are
tests/test_quant_s50.py's business). meta / noncontiguous / gpu / grad are off: the
operands are quantized tensors (QuantizedCPU) and torch.classes objects."""
from __future__ import annotations

import numpy as np

import gpujit

from . import OpInfo, Sample

_Q = dict(noncontiguous=False, meta=False, gpu=False, grad=False)
_RNG = np.random.default_rng(50)
_XC = _RNG.normal(size=(1, 2, 5, 5)).astype(np.float32)
_WC = (_RNG.normal(size=(3, 2, 3, 3)) * 0.3).astype(np.float32)
_B = np.array([0.1, -0.2, 0.3], np.float32)
_RANGE = {gpujit.qint8: (-128, 127), gpujit.quint8: (0, 255)}


def _qt(a, scale, zp, dtype):
    return gpujit.quantize_per_tensor(gpujit.from_numpy(np.ascontiguousarray(a)), scale, zp,
                                      dtype)


def _deq(t):
    return t.dequantize().numpy().astype(np.float64)


def _assert_q(out, want, scale, zp, dtype=gpujit.quint8):
    lo, hi = _RANGE[dtype]
    assert out.is_quantized and out.dtype is dtype
    assert out.q_scale() == scale and out.q_zero_point() == zp
    model = (np.clip(np.rint(want / scale) + zp, lo, hi) - zp) * scale
    np.testing.assert_allclose(_deq(out), model, atol=scale * 1.01)


def _conv_ref(x, w, b, stride, padding, dilation, groups):
    """A direct float64 correlation (N, C, *spatial) of the dequantized values."""
    dim = x.ndim - 2
    x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    cout, cin_g = w.shape[:2]
    ks = w.shape[2:]
    out_sp = [(x.shape[2 + i] - dilation[i] * (ks[i] - 1) - 1) // stride[i] + 1
              for i in range(dim)]
    out = np.zeros((x.shape[0], cout) + tuple(out_sp))
    per = cout // groups
    for o in range(cout):
        g = o // per
        for idx in np.ndindex(*out_sp):
            sl = tuple(slice(idx[i] * stride[i], idx[i] * stride[i] + dilation[i] *
                             (ks[i] - 1) + 1, dilation[i]) for i in range(dim))
            patch = x[(slice(None), slice(g * cin_g, (g + 1) * cin_g)) + sl]
            out[(slice(None), o) + idx] = (patch * w[o]).reshape(x.shape[0], -1).sum(1)
    return out + (0 if b is None else b.reshape((1, -1) + (1,) * dim))


def _conv_inputs(dim, stride=1, padding=1, groups=1):
    x = _XC if dim == 2 else _XC[:, :, 0] if dim == 1 else np.stack([_XC] * 3, 2)
    w = _WC if dim == 2 else _WC[:, :, 0] if dim == 1 else np.stack([_WC] * 2, 2)
    if groups != 1:
        w = w[:, : w.shape[1] // groups]
    qx = _qt(x, 0.05, 100, gpujit.quint8)
    qw = _qt(w, 0.01, 0, gpujit.qint8)
    prepack = getattr(gpujit.ops.quantized, f"conv{dim}d_prepack")
    p = prepack(qw, gpujit.from_numpy(_B), [stride] * dim, [padding] * dim, [1] * dim, groups)
    return qx, p, (stride, padding, groups)


def _check_conv(dim, relu):
    def check(sample, out):
        qx, p, scale, zp = sample.args
        w, b = p.unpack()
        wv = _deq(w)
        if dim == 1:
            wv = wv[:, :, 0]
        st, pad = p.stride()[-dim:], p.padding()[-dim:]
        dil = p.dilation()[-dim:]
        r = _conv_ref(_deq(qx), wv, b.numpy().astype(np.float64), st, pad, dil, p.groups())
        _assert_q(out, np.maximum(r, 0) if relu else r, scale, zp)
    return check


def _conv_samples(dim, zp):
    qx, p, _ = _conv_inputs(dim)
    samples = [Sample(qx, p, 0.1, zp)]
    if dim == 2:
        qx, p, _ = _conv_inputs(2, stride=2, padding=0)
        samples.append(Sample(qx, p, 0.1, zp))
    return samples


def _check_prepack(dim):
    def check(sample, out):
        w, b, stride, padding, dilation, groups = sample.args
        qual = "Conv3dPackedParamsBase" if dim == 3 else "Conv2dPackedParamsBase"
        assert repr(out) == f"ScriptObject <__torch__.torch.classes.quantized.{qual}>"
        pre = [] if dim != 1 else [1]
        assert out.stride() == pre + list(stride) and out.groups() == groups
        assert out.padding() == ([0] if dim == 1 else []) + list(padding)
        assert out.dilation() == pre + list(dilation) and out.transpose() is False
        ww, bb = out.unpack()
        assert ww.int_repr().numpy().reshape(-1).tolist() == \
            w.int_repr().numpy().reshape(-1).tolist()
        assert bb is b
    return check


def _check_unpack(sample, out):
    p = sample.args[0]
    w, b = out
    ww, bb = p.unpack()
    assert w.dtype is gpujit.qint8 and bb is b
    assert w.int_repr().numpy().reshape(-1).tolist() == \
        ww.int_repr().numpy().reshape(-1).tolist()


def _linear_packed():
    w = _qt(_WC[:, 0, 0].copy(), 0.01, 0, gpujit.qint8)      # [3, 3]
    return gpujit.ops.quantized.linear_prepack(w, gpujit.from_numpy(_B))


def _check_linear_prepack(sample, out):
    w, b = sample.args
    assert repr(out) == "ScriptObject <__torch__.torch.classes.quantized.LinearPackedParamsBase>"
    assert out.unpack()[0] is w and out.unpack()[1] is b


def _check_linear_relu_dynamic(sample, out):
    x, p = sample.args[:2]
    w, b = p.unpack()
    xv = x.numpy().astype(np.float64)
    r = np.maximum(xv @ _deq(w).T + b.numpy(), 0)
    assert out.dtype is gpujit.float32
    step = (xv.max() - min(xv.min(), 0)) / 127
    np.testing.assert_allclose(out.numpy(), r, atol=step * np.abs(_deq(w)).sum(1).max() + 1e-3)


def _check_bn(relu):
    def check(sample, out):
        qx, w, b, m, v, eps, scale, zp = sample.args
        shape = (1, -1) + (1,) * (qx.dim() - 2)
        r = (_deq(qx) - m.numpy().reshape(shape)) / np.sqrt(v.numpy().reshape(shape) + eps)
        r = r * w.numpy().reshape(shape) + b.numpy().reshape(shape)
        _assert_q(out, np.maximum(r, 0) if relu else r, scale, zp, qx.dtype)
    return check


def _bn_sample(ndim):
    shape = {2: (4, 3), 3: (2, 3, 4), 4: (1, 3, 4, 5), 5: (1, 3, 2, 2, 3)}[ndim]
    x = _RNG.normal(size=shape).astype(np.float32)
    stats = [gpujit.from_numpy(a) for a in (
        np.array([1.5, 0.5, -1.0], np.float32), np.array([0.1, -0.2, 0.3], np.float32),
        np.array([0.2, -0.1, 0.0], np.float32), np.array([1.2, 0.5, 2.0], np.float32))]
    return Sample(_qt(x, 0.05, 128, gpujit.quint8), *stats, 1e-5, 0.04, 60)


OPINFOS = [
    OpInfo("quantized::linear_prepack", check=_check_linear_prepack, **_Q,
           samples=lambda: [Sample(_qt(_WC[:, 0, 0].copy(), 0.01, 0, gpujit.qint8),
                                   gpujit.from_numpy(_B))]),
    OpInfo("quantized::linear_unpack", check=_check_unpack, **_Q,
           samples=lambda: [Sample(_linear_packed())]),
    OpInfo("quantized::linear_relu_dynamic", check=_check_linear_relu_dynamic, **_Q,
           samples=lambda: [Sample(gpujit.from_numpy(_XC[0, 0, :, :3].copy()),
                                   _linear_packed())]),
]
for _d in (1, 2, 3):
    _w = _WC if _d == 2 else _WC[:, :, 0] if _d == 1 else np.stack([_WC] * 2, 2)
    OPINFOS.append(OpInfo(
        f"quantized::conv{_d}d_prepack", check=_check_prepack(_d), **_Q,
        samples=(lambda w: lambda: [Sample(_qt(w, 0.01, 0, gpujit.qint8),
                                           gpujit.from_numpy(_B), [1] * w[0, 0].ndim,
                                           [1] * w[0, 0].ndim, [1] * w[0, 0].ndim, 1)])(_w)))
    for _n in [f"quantized::conv{_d}d_unpack"] + (["quantized::conv_unpack"] if _d == 2
                                                   else []):
        OPINFOS.append(OpInfo(_n, check=_check_unpack, **_Q,
                              samples=(lambda d: lambda: [Sample(_conv_inputs(d)[1])])(_d)))
    _ov = "" if _d == 1 else ".new"
    for _relu, _sfx in ((False, ""), (True, "_relu")):
        OPINFOS.append(OpInfo(
            f"quantized::conv{_d}d{_sfx}{_ov}", check=_check_conv(_d, _relu), **_Q,
            samples=(lambda d, z: lambda: _conv_samples(d, z))(_d, 0 if _relu else 64)))
for _n, _nd in (("batch_norm", 4), ("batch_norm1d", 3), ("batch_norm2d", 4),
                ("batch_norm3d", 5)):
    for _relu, _sfx in ((False, ""), (True, "_relu")):
        OPINFOS.append(OpInfo(f"quantized::{_n}{_sfx}", check=_check_bn(_relu), **_Q,
                              samples=(lambda nd: lambda: [_bn_sample(nd)])(_nd)))


def _norm_check(kind):
    def check(sample, out):
        qx = sample.args[0]
        x = _deq(qx)
        if kind == "layer_norm":
            ns, w, b, eps, scale, zp = sample.args[1:]
            axes = tuple(range(x.ndim - len(ns), x.ndim))
            shape = (1,) * (x.ndim - len(ns)) + tuple(ns)
        else:
            if kind == "group_norm":
                g, w, b, eps, scale, zp = sample.args[1:]
            else:
                w, b, eps, scale, zp = sample.args[1:]
                g = x.shape[1]
            x = x.reshape(x.shape[0], g, -1)
            axes, shape = (2,), None
        m = x.mean(axes, keepdims=True)
        v = x.var(axes, keepdims=True)
        r = (x - m) / np.sqrt(v + eps)
        if shape is None:
            r = r.reshape(qx.shape)
            shape = (1, -1) + (1,) * (qx.dim() - 2)
        r = r * w.numpy().reshape(shape) + b.numpy().reshape(shape)
        _assert_q(out, r, scale, zp, qx.dtype)
    return check


def _check_qmatmul(sample, out):
    qa, qb, scale, zp = sample.args
    _assert_q(out, _deq(qa) @ _deq(qb), scale, zp, qa.dtype)


_XN = _RNG.normal(size=(2, 4, 3, 5)).astype(np.float32)
OPINFOS += [
    OpInfo("quantized::layer_norm", check=_norm_check("layer_norm"), **_Q,
           samples=lambda: [Sample(_qt(_XN, 0.05, 100, gpujit.quint8), [5],
                                   gpujit.from_numpy(_B[[0, 1, 2, 0, 1]].copy()),
                                   gpujit.from_numpy(_B[[2, 1, 0, 2, 1]].copy()), 1e-5, 0.03,
                                   60)]),
    OpInfo("quantized::group_norm", check=_norm_check("group_norm"), **_Q,
           samples=lambda: [Sample(_qt(_XN, 0.05, -3, gpujit.qint8), 2,
                                   gpujit.from_numpy(_B[[0, 1, 2, 0]].copy()),
                                   gpujit.from_numpy(_B[[2, 1, 0, 2]].copy()), 1e-5, 0.03,
                                   5)]),
    OpInfo("quantized::instance_norm", check=_norm_check("instance_norm"), **_Q,
           samples=lambda: [Sample(_qt(_XN, 0.05, 100, gpujit.quint8),
                                   gpujit.from_numpy(_B[[0, 1, 2, 0]].copy()),
                                   gpujit.from_numpy(_B[[2, 1, 0, 2]].copy()), 1e-5, 0.03,
                                   60)]),
    OpInfo("quantized::matmul", check=_check_qmatmul, **_Q,
           samples=lambda: [Sample(_qt(_XN, 0.05, 100, gpujit.quint8),
                                   _qt(_XN.transpose(0, 1, 3, 2).copy(), 0.05, 90,
                                       gpujit.quint8), 0.1, 50)]),
]


_WE = _RNG.normal(size=(5, 3)).astype(np.float32)


def _emb_weight():
    return gpujit.quantize_per_channel(
        gpujit.from_numpy(_WE), gpujit.tensor([0.02, 0.01, 0.015, 0.03, 0.01]),
        gpujit.tensor([100.0, 120.0, 90.0, 128.0, 110.0]), 0, gpujit.quint8)


def _check_emb_prepack(sample, out):
    assert repr(out) == ("ScriptObject <__torch__.torch.classes.quantized."
                         "EmbeddingPackedParamsBase>")
    assert out.unpack() is sample.args[0] and out.bit_rate() == 8


def _check_emb_unpack(sample, out):
    assert out is sample.args[0].unpack()


def _check_emb_byte(sample, out):
    p, idx = sample.args[:2]
    want = _deq(p.unpack())[idx.numpy()]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6, atol=1e-6)


def _check_emb_bag(sample, out):
    p, idx, off = sample.args[:3]
    psw = sample.args[6] if len(sample.args) > 6 else None
    w = _deq(p.unpack())
    i, o = idx.numpy(), list(off.numpy()) + [idx.shape[0]]
    rows = []
    for a, b in zip(o[:-1], o[1:]):
        ws = np.ones(b - a) if psw is None else psw.numpy()[a:b]
        rows.append((w[i[a:b]] * ws[:, None]).sum(0))
    np.testing.assert_allclose(out.numpy(), np.array(rows), rtol=1e-5, atol=1e-5)


def _emb_packed():
    return gpujit.ops.quantized.embedding_bag_prepack(_emb_weight())


OPINFOS += [
    OpInfo("quantized::embedding_bag_prepack", check=_check_emb_prepack, **_Q,
           samples=lambda: [Sample(_emb_weight())]),
    OpInfo("quantized::embedding_bag_unpack", check=_check_emb_unpack, **_Q,
           samples=lambda: [Sample(_emb_packed())]),
    OpInfo("quantized::embedding_byte", check=_check_emb_byte, **_Q,
           samples=lambda: [Sample(_emb_packed(), gpujit.tensor([[0, 4], [2, 2]]))]),
    OpInfo("quantized::embedding_bag_byte", check=_check_emb_bag, **_Q,
           samples=lambda: [Sample(_emb_packed(), gpujit.tensor([0, 1, 4, 2, 3]),
                                   gpujit.tensor([0, 2, 2]), False, 0, False,
                                   gpujit.tensor([0.5, 1.0, 2.0, -1.0, 0.25]))]),
]
