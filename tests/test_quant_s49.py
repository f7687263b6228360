"""Session 49 (b): ops on quantized tensors (ops/quantized_ops.py, torch.ops.quantized),
torch.ao.quantization (observers, FakeQuantize, QConfig, prepare / convert,
quantize_dynamic) and quantized tensors in traced / scripted code. Expected values are
NumPy references written here or values computed with torch 2.13 (CPU, x86 engine) and
written in; where torch is installed, more cases are compared with it directly."""
import warnings

import numpy as np
import pytest

import gpujit

try:
    import torch
except ImportError:         # (CI has no torch: the written values still run)
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")


def _q(x, scale, zp, dtype="quint8", lib=gpujit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.quantize_per_tensor(lib.tensor(x), scale, zp, getattr(lib, dtype))


X = [[-1.0, 0.5, 0.3], [2.0, -0.25, 0.7]]


# ------------------------------------------------------------------ ops on quantized tensors

def test_relu_clamp_hardtanh_on_the_integers():
    a = _q(X, 0.1, 3)
    r = gpujit.relu(a)
    assert r.dtype is gpujit.quint8 and (r.q_scale(), r.q_zero_point()) == (0.1, 3)
    assert r.int_repr().tolist() == [[3, 8, 6], [23, 3, 10]]
    assert gpujit.nn.functional.relu(a).int_repr().tolist() == r.int_repr().tolist()
    b = a.clone()
    assert b.relu_() is b and b.int_repr().tolist() == r.int_repr().tolist()
    assert a.int_repr().tolist() == [[0, 8, 6], [23, 0, 10]]     # (untouched)
    # (bounds quantized with the tensor's quantizer: 0.34 -> 3 + 3)
    assert gpujit.clamp(a, max=0.34).int_repr().tolist() == [[0, 6, 6], [6, 0, 6]]
    assert gpujit.nn.functional.hardtanh(a, -0.5, 0.5).int_repr().tolist() == \
        [[0, 8, 6], [8, 0, 8]]
    assert gpujit.nn.functional.relu6(a).int_repr().tolist() == [[3, 8, 6], [23, 3, 10]]
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        gpujit.clamp(a)


def test_comparisons_equal_and_reductions():
    a, b = _q(X, 0.1, 3), _q(X, 0.05, 10)
    assert (a == b).tolist() == [[False, True, True], [True, False, True]]
    assert (a > 0.4).tolist() == [[False, True, False], [True, False, True]]
    assert (a == gpujit.tensor(X)).tolist() == [[False, True, True], [True, False, True]]
    assert gpujit.equal(a, a.clone()) and not gpujit.equal(a, b)
    assert not gpujit.equal(a, gpujit.tensor(X))
    m = gpujit.max(a)
    assert m.is_quantized and m.shape == () and m.int_repr().item() == 23
    v, i = a.max(0)
    assert v.is_quantized and v.int_repr().tolist() == [23, 8, 10] and i.tolist() == [1, 0, 1]
    s = a.sort(1, descending=True)
    assert type(s).__name__ == "sort" and s.values.is_quantized
    assert s.values.int_repr().tolist() == [[8, 6, 0], [23, 10, 0]]
    assert s.indices.tolist() == [[1, 2, 0], [0, 2, 1]]
    t = a.topk(2, 1, largest=False)
    assert t.values.int_repr().tolist() == [[0, 6], [0, 10]] and t.values.q_scale() == 0.1
    # (torch 2.13: mean of the dequantized values, quantized with the input's quantizer)
    assert a.mean(1).int_repr().tolist() == [5, 11]
    assert a.mean().shape == () and a.mean().int_repr().item() == 8
    with pytest.raises(NotImplementedError, match="'aten::sum' with arguments from the "
                                                  "'QuantizedCPU' backend"):
        a.sum()


def test_quantized_namespace_add_mul_cat_written_values():
    a, b = _q(X, 0.1, 3), _q(X, 0.05, 10)
    # (values from torch 2.13)
    r = gpujit.ops.quantized.add(a, b, 0.2, 5)
    assert (r.q_scale(), r.q_zero_point()) == (0.2, 5)
    assert r.int_repr().tolist() == [[1, 10, 8], [25, 2, 12]]
    assert gpujit.ops.quantized.add_relu(a, b, 0.2, 5).int_repr().tolist() == \
        [[5, 10, 8], [25, 5, 12]]
    # (a broadcast operand; 2.0 + -0.3 is a tie, 13.5, rounded to 14 as quantize_val does)
    assert gpujit.ops.quantized.add(a, a[0], 0.2, 5).int_repr().tolist() == \
        [[2, 10, 8], [14, 6, 10]]
    assert gpujit.ops.quantized.mul(a, b, 0.2, 5).int_repr().tolist() == \
        [[6, 6, 5], [25, 5, 7]]
    assert gpujit.ops.quantized.mul_relu(a, b, 0.2, 5).int_repr().tolist() == \
        [[6, 6, 5], [25, 5, 7]]
    s = gpujit.ops.quantized.add(a, 1.0)
    assert abs(s.q_scale() - 0.10274509803921568) < 1e-15 and s.q_zero_point() == 0
    m = gpujit.ops.quantized.mul(a, 2.0)
    assert (m.q_scale(), m.q_zero_point()) == (0.2, 3)
    assert m.int_repr().tolist() == a.int_repr().tolist()
    c = gpujit.ops.quantized.cat([a, b], 1, 0.2, 5)
    assert c.shape == (2, 6) and c.int_repr().tolist() == \
        [[4, 8, 6, 2, 8, 6], [15, 4, 8, 15, 4, 8]]
    c2 = gpujit.ops.quantized.cat([a, b], 1, None, None)
    assert (c2.q_scale(), c2.q_zero_point()) == (0.1, 3)
    with pytest.warns(UserWarning, match="must share the same quantization parameters"):
        c3 = gpujit.cat([a, b])
    assert c3.int_repr().tolist()[2:] == a.int_repr().tolist()
    assert gpujit.stack([a, a]).shape == (2, 2, 3)


def test_quantized_namespace_refusals():
    a = _q(X, 0.1, 3)
    x = gpujit.tensor(X)
    c = _qc()
    with pytest.raises(NotImplementedError, match="Could not run 'quantized::add' with "
                                                  "arguments from the 'CPU' backend"):
        gpujit.ops.quantized.add(x, x, 0.2, 5)
    with pytest.raises(NotImplementedError, match="'aten::qscheme'"):
        gpujit.ops.quantized.add(a, x, 0.2, 5)
    with pytest.raises(RuntimeError, match="Both inputs to Add must have the same "
                                           "quantization scheme."):
        gpujit.ops.quantized.add(a, c, 0.2, 5)
    with pytest.raises(RuntimeError, match="Only per-tensor quantization is supported in "
                                           "'cat'!"):
        gpujit.cat([c, c])
    with pytest.raises(RuntimeError, match="kPerTensorAffine"):
        gpujit.relu(c)
    with pytest.raises(RuntimeError, match="Max operator for quantized tensors only works"):
        gpujit.max(c)
    with pytest.raises(NotImplementedError, match="'aten::add.out'"):
        a + a


def _qc(lib=gpujit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.quantize_per_channel(lib.tensor(X), lib.tensor([0.1, 0.2]),
                                        lib.tensor([1, 2]), 0, lib.quint8)


def test_per_channel_moves():
    c = _qc()
    r = c[1]
    assert r.qscheme() is gpujit.per_tensor_affine
    assert r.q_scale() == float(np.float32(0.2)) and r.q_zero_point() == 2
    assert r.int_repr().tolist() == [12, 1, 6]
    u = c.unsqueeze(0)
    assert u.qscheme() is gpujit.per_channel_affine and u.q_per_channel_axis() == 1
    assert c.reshape(2, 3, 1).q_per_channel_axis() == 0
    assert c[:, 1:].int_repr().tolist() == [[6, 4], [1, 6]]
    with pytest.raises(RuntimeError, match="Setting strides is possible only on uniformly "
                                           "quantized tensor"):
        c.t()
    with pytest.raises(RuntimeError, match="length of scales must equal to channel, "
                                           "expected 6 got, 2"):
        c.flatten().dequantize()
    with pytest.raises(RuntimeError, match="supported by index_select"):
        c.index_select(0, gpujit.tensor([1]))


def test_activations_requantize():
    a = _q(X, 0.1, 3, "qint8")
    s = gpujit.sigmoid(a)
    assert (s.q_scale(), s.q_zero_point()) == (0.00390625, -128)
    assert s.int_repr().tolist() == [[-59, 31, 19], [97, -19, 43]]       # (torch 2.13)
    t = gpujit.tanh(_q(X, 0.1, 3))
    assert (t.q_scale(), t.q_zero_point()) == (0.0078125, 128)
    assert t.int_repr().tolist() == [[91, 187, 165], [251, 91, 205]]
    lr = gpujit.nn.functional.leaky_relu(_q(X, 0.1, 3), 0.1)
    assert lr.int_repr().tolist() == [[3, 8, 6], [23, 3, 10]]
    assert gpujit.dequantize([a, a])[0].tolist() == a.dequantize().tolist()
    assert isinstance(gpujit.dequantize([a, a]), tuple)


def test_fills_and_masked_fill_quantize_the_value():
    a = _q(X, 0.1, 3)
    m = a.masked_fill(a.int_repr() > 5, 0.3)
    assert m.int_repr().tolist() == [[0, 6, 6], [6, 0, 6]]
    assert a.int_repr().tolist() == [[0, 8, 6], [23, 0, 10]]
    assert a.fill_(0.27).int_repr().tolist() == [[6] * 3] * 2


def test_quantize_per_tensor_rounds_fma_ties():
    # (FBGEMM: nearbyint(fma(x, 1/scale, zero_point)); 0.02 / 0.04 is 0.5 exactly only
    # when the product is not rounded before the zero point is added: torch 2.13's values)
    x = np.float32([0.02, 0.06, -0.02, -0.06, 0.1, 0.14])
    q = gpujit.quantize_per_tensor(gpujit.tensor(x), 0.04, 128, gpujit.quint8)
    assert q.int_repr().tolist() == [128, 130, 128, 126, 130, 132]      # (torch 2.13)


@needs_torch
@pytest.mark.parametrize("name", ["quint8", "qint8", "qint32"])
@pytest.mark.parametrize("n", [7, 300, 1000])
def test_quantized_kernels_match_torch(name, n):
    rng = np.random.default_rng(n)
    xa = (rng.normal(size=n) * 3).astype(np.float32)
    xb = (rng.normal(size=n) * 2).astype(np.float32)
    zp = {"quint8": 128, "qint8": -3, "qint32": 0}[name]

    def run(lib):
        F = lib.nn.functional
        a = _q(xa, 0.037, zp, name, lib)
        b = _q(xb, 0.021, zp + 2, name, lib)
        cases = [
            lib.ops.quantized.add(a, b, 0.05, zp + 1),
            lib.ops.quantized.add_relu(a, b, 0.05, zp + 1),
            lib.ops.quantized.mul(a, b, 0.05, zp + 1),
            lib.ops.quantized.add(a, 1.3), lib.ops.quantized.add(a, -7.3),
            lib.ops.quantized.mul(a, 1.7), lib.ops.quantized.mul(a, -0.7),
            lib.tanh(a) if name != "qint32" else a, lib.sigmoid(a) if name != "qint32" else a,
            F.hardsigmoid(a), F.leaky_relu(a, 0.13), F.gelu(a), F.threshold(a, 0.3, 0.9),
            lib.clamp(a, -0.77, 1.31), a.reshape(-1, 1).mean(0),
            lib.ops.quantized.cat([a, b], 0, 0.04, zp),
            lib.quantize_per_tensor(lib.tensor(np.round(xa / 0.04 * 2) / 2 * 0.04), 0.04, zp,
                                    getattr(lib, name))]
        if name != "qint32":
            Q = lib.ops.quantized
            cases += [Q.hardswish(a, 0.05, zp + 1), Q.elu(a, 0.05, zp + 1, 0.7),
                      Q.leaky_relu(a, 0.1, False, 0.04, zp), Q.celu(a, 0.05, zp, 1.5),
                      Q.softmax(a.reshape(-1, 1) if n == 7 else a.reshape(-1, 10), 1,
                                1 / 256, 0 if name == "quint8" else -128)]
        return [(c.int_repr().tolist(), c.q_scale(), c.q_zero_point()) for c in cases]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = run(gpujit), run(torch)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g[0] == w[0], i
        assert g[1:] == pytest.approx(w[1:], rel=1e-12, abs=0), i


# ------------------------------------------------------------------ torch.ao.quantization

tq = gpujit.ao.quantization
f32 = np.float32


def _minmax_ref(lo, hi, qmin, qmax, symmetric=False, dtype="quint8"):
    """NumPy reference of UniformQuantizationObserverBase._calculate_qparams (float32)."""
    eps = f32(np.finfo(np.float32).eps)
    lo, hi = min(f32(lo), f32(0)), max(f32(hi), f32(0))
    if symmetric:
        m = max(-lo, hi)
        scale = max(f32(m / f32((qmax - qmin) / 2)), eps)
        zp = 128 if dtype == "quint8" else 0
    else:
        scale = max(f32((hi - lo) / f32(qmax - qmin)), eps)
        zp = int(np.clip(qmin - int(np.rint(lo / scale)), qmin, qmax))
    return float(scale), zp


def test_minmax_observer_qparams():
    x1 = np.float32([[-1.5, 0.25, 3.0], [0.5, 2.0, -0.75]])
    x2 = np.float32([4.5, -0.1])
    ob = tq.MinMaxObserver()
    assert repr(ob) == "MinMaxObserver(min_val=inf, max_val=-inf)"
    assert ob(gpujit.tensor(x1)) is not None
    ob(gpujit.tensor(x2))
    assert (ob.min_val.item(), ob.max_val.item()) == (-1.5, 4.5)
    s, z = ob.calculate_qparams()
    # (the affine zero point: quant_min - round(...).to(torch.int), int32 as torch's)
    assert s.dtype is gpujit.float32 and z.dtype is gpujit.int32 and s.shape == (1,)
    assert (s.item(), z.item()) == _minmax_ref(-1.5, 4.5, 0, 255)
    sym = tq.MinMaxObserver(dtype=gpujit.qint8, qscheme=gpujit.per_tensor_symmetric)
    sym(gpujit.tensor(x1))
    s, z = sym.calculate_qparams()
    assert z.dtype is gpujit.int64
    assert (s.item(), z.item()) == _minmax_ref(-1.5, 3.0, -128, 127, True, "qint8")
    rr = tq.MinMaxObserver(reduce_range=True)
    assert (rr.quant_min, rr.quant_max) == (0, 127)
    with pytest.warns(UserWarning, match="must run observer before calling calculate_qparams"):
        s, z = tq.MinMaxObserver().calculate_qparams()
    assert (s.tolist(), z.tolist()) == ([1.0], [0])
    with pytest.raises(NotImplementedError, match="MinMaxObserver's qscheme only support"):
        tq.MinMaxObserver(qscheme=gpujit.per_channel_affine)


def test_moving_average_and_per_channel_observers():
    x1 = np.float32([[-1.0, 2.0], [3.0, -4.0]])
    x2 = np.float32([[5.0, 1.0], [1.0, 1.0]])
    ma = tq.MovingAverageMinMaxObserver(averaging_constant=0.5)
    ma(gpujit.tensor(x1))
    ma(gpujit.tensor(x2))
    assert (ma.min_val.item(), ma.max_val.item()) == (-1.5, 4.0)    # (-4 + (1 + 4) / 2)
    pc = tq.PerChannelMinMaxObserver(ch_axis=1)
    assert repr(pc) == "PerChannelMinMaxObserver(min_val=tensor([]), max_val=tensor([]))"
    pc(gpujit.tensor(x1))
    pc(gpujit.tensor(x2))
    assert pc.min_val.tolist() == [-1.0, -4.0] and pc.max_val.tolist() == [5.0, 2.0]
    s, z = pc.calculate_qparams()
    assert s.tolist() == [_minmax_ref(-1, 5, 0, 255)[0], _minmax_ref(-4, 2, 0, 255)[0]]
    assert z.tolist() == [_minmax_ref(-1, 5, 0, 255)[1], _minmax_ref(-4, 2, 0, 255)[1]]
    fq = tq.PerChannelMinMaxObserver(qscheme=gpujit.per_channel_affine_float_qparams)
    fq(gpujit.tensor(x1))
    s, z = fq.calculate_qparams()
    assert z.dtype is gpujit.float32
    np.testing.assert_array_equal(
        z.numpy(), (-1 * np.float32([-1, -4]) / s.numpy()).astype(np.float32))


def test_fake_quantize_module():
    x = np.float32([[-1.0, 0.3, 2.0], [0.7, -0.2, 5.0]])
    fq = tq.FakeQuantize()
    assert fq.activation_post_process.__class__ is tq.MovingAverageMinMaxObserver
    t = gpujit.tensor(x, requires_grad=True)
    y = fq(t)
    s, z = _minmax_ref(-1.0, 5.0, 0, 255)
    assert fq.scale.tolist() == [s] and fq.zero_point.tolist() == [z]
    assert fq.zero_point.dtype is gpujit.int32
    ref = (np.clip(np.rint(x * (f32(1) / f32(s))) + z, 0, 255) - z).astype(f32) * f32(s)
    np.testing.assert_array_equal(y.detach().numpy(), ref)
    y.sum().backward()
    assert t.grad.tolist() == [[1.0] * 3] * 2
    fq.disable_observer()
    fq(gpujit.tensor(x * 3))
    assert fq.scale.tolist() == [s]
    fq.apply(tq.disable_fake_quant)
    assert fq(gpujit.tensor(x)).tolist() == gpujit.tensor(x).tolist()
    assert fq.fake_quant_enabled.tolist() == [0] and fq.observer_enabled.tolist() == [0]
    w = tq.default_per_channel_weight_fake_quant()
    w(gpujit.tensor(x))
    assert w.scale.shape == (2,) and w.zero_point.tolist() == [0, 0]


def test_qconfig_defaults():
    qc = tq.default_qconfig
    assert isinstance(qc, tq.QConfig)
    assert repr(qc) == (
        "QConfig(activation=functools.partial(<class 'gpujit.ao.quantization.observer."
        "MinMaxObserver'>, quant_min=0, quant_max=127){}, weight=functools.partial(<class "
        "'gpujit.ao.quantization.observer.MinMaxObserver'>, dtype=gpujit.qint8, "
        "qscheme=torch.per_tensor_symmetric){})")
    a = qc.activation()
    assert (a.quant_min, a.quant_max, a.dtype) == (0, 127, gpujit.quint8)
    x86 = tq.get_default_qconfig("x86")
    assert isinstance(x86.activation(), tq.HistogramObserver)
    assert x86.activation().reduce_range and \
        x86.weight().qscheme is gpujit.per_channel_symmetric
    with pytest.raises(AssertionError, match="not supported"):
        tq.get_default_qconfig("cuda")
    with pytest.raises(ValueError, match="QConfig received observer instance"):
        tq.QConfig(activation=tq.MinMaxObserver(), weight=tq.MinMaxObserver)
    assert gpujit.quantization.QuantStub is tq.QuantStub
    assert tq.qconfig_equals(tq.default_qconfig, tq.QConfig(*tq.default_qconfig))


class _Static(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.fc = gpujit.nn.Linear(4, 3)
        self.relu = gpujit.nn.ReLU()
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.relu(self.fc(self.quant(x))))


def _qlinear_ref(xq, xs, xzp, wq, ws, b, os_, ozp):
    """NumPy reference of FBGEMM's requantization with a float bias (per-tensor weight)."""
    acc = (xq.astype(np.int64) - xzp) @ wq.astype(np.int64).T
    atw = f32(f32(xs) * f32(ws))
    raw = (acc.astype(f32) + (b / atw).astype(f32)).astype(f32)
    return np.clip(np.rint((raw * f32(atw / f32(os_))).astype(f32)) + ozp, 0, 255)


def test_prepare_convert_static_linear():
    rng = np.random.default_rng(3)
    m = _Static().eval()
    m.qconfig = tq.default_qconfig
    p = tq.prepare(m)
    assert m.fc.__class__ is gpujit.nn.Linear and not hasattr(m.fc, "activation_post_process")
    assert isinstance(p.fc.activation_post_process, tq.MinMaxObserver)
    assert isinstance(p.quant.activation_post_process, tq.MinMaxObserver)
    assert not hasattr(p.relu, "activation_post_process")
    for _ in range(3):
        p(gpujit.tensor((rng.normal(size=(5, 4)) * 2).astype(f32)))
    c = tq.convert(p)
    nnq = gpujit.ao.nn.quantized
    assert type(c.quant) is nnq.Quantize and type(c.fc) is nnq.Linear
    assert type(c.dequant) is nnq.DeQuantize and type(c.relu) is gpujit.nn.ReLU
    assert not hasattr(c.fc, "qconfig") and not hasattr(c, "qconfig")
    assert repr(c.fc).startswith("QuantizedLinear(in_features=4, out_features=3, scale=")
    assert sorted(c.state_dict()) == [
        "fc._packed_params._packed_params", "fc._packed_params.dtype", "fc.scale",
        "fc.zero_point", "quant.scale", "quant.zero_point"]
    x = gpujit.tensor((rng.normal(size=(6, 4)) * 2).astype(f32))
    qx = c.quant(x)
    assert qx.dtype is gpujit.quint8
    qy = c.fc(qx)
    w = c.fc.weight()
    assert w.dtype is gpujit.qint8 and w.qscheme() is gpujit.per_tensor_affine
    ref = _qlinear_ref(qx.int_repr().numpy(), qx.q_scale(), qx.q_zero_point(),
                       w.int_repr().numpy(), w.q_scale(), c.fc.bias().detach().numpy(),
                       c.fc.scale, c.fc.zero_point)
    assert qy.int_repr().numpy().tolist() == ref.astype(int).tolist()
    out = c(x)
    assert out.dtype is gpujit.float32 and not out.is_quantized
    assert out.tolist() == gpujit.relu(qy).dequantize().tolist()


def test_quantize_dynamic_linear():
    rng = np.random.default_rng(4)
    m = gpujit.nn.Sequential(gpujit.nn.Linear(5, 4), gpujit.nn.ReLU())
    qm = tq.quantize_dynamic(m, {gpujit.nn.Linear}, dtype=gpujit.qint8)
    assert type(m[0]) is gpujit.nn.Linear          # (a copy)
    d = qm[0]
    assert type(d) is gpujit.ao.nn.quantized.dynamic.Linear
    assert repr(d) == ("DynamicQuantizedLinear(in_features=5, out_features=4, "
                       "dtype=gpujit.qint8, qscheme=torch.per_tensor_affine)")
    x = (rng.normal(size=(3, 5)) * 2).astype(f32)
    y = d(gpujit.tensor(x)).numpy()
    # reference: x to quint8 over [min, max] in [0, 127], int sums, fma with the bias
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    s = (hi - lo) / 127
    zp = int(np.rint(0 - lo / s)) if abs(lo / s) < abs(127 - hi / s) + 127 else 127
    s32 = f32(s)
    xq = np.clip(np.rint((x.astype(np.float64) * np.float64(f32(1) / s32) + zp).astype(f32)),
                 0, 255)
    w = d.weight()
    acc = (xq.astype(np.int64) - zp) @ w.int_repr().numpy().astype(np.int64).T
    ref = (acc.astype(f32).astype(np.float64) * np.float64(f32(s32 * f32(w.q_scale()))) +
           d.bias().detach().numpy().astype(np.float64)).astype(f32)
    np.testing.assert_allclose(y, ref, rtol=0, atol=float(s32 * f32(w.q_scale())) * 2)
    assert qm(gpujit.tensor(x)).tolist() == gpujit.relu(gpujit.tensor(y)).tolist()


def test_convert_refuses_modules_it_cannot_quantize():
    # (a PReLU: gpujit has no quantized one; Conv2d, LayerNorm convert since s50)
    m = gpujit.nn.Sequential(tq.QuantStub(), gpujit.nn.PReLU(), tq.DeQuantStub())
    m.qconfig = tq.default_qconfig
    p = tq.prepare(m)
    p(gpujit.ones(1, 1, 2, 2))
    with pytest.raises(NotImplementedError, match="no quantized PReLU"):
        tq.convert(p)


def _e2e(torch):
    """Observers, FakeQuantize, prepare / convert and quantize_dynamic run with `torch`
    (torch or gpujit): their results and reprs."""
    nn = torch.nn
    tq = torch.ao.quantization
    rng = np.random.default_rng(0)
    out = {}
    def T(a): return torch.tensor(np.asarray(a, np.float32))
    # observers
    x1 = (rng.normal(size=(4, 6)) * 2).astype(np.float32); x2 = (rng.normal(size=(4, 6)) * 3 + 1).astype(np.float32)
    for name, ob in [("minmax", tq.MinMaxObserver()), ("minmax_sym", tq.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)),
                     ("minmax_rr", tq.MinMaxObserver(reduce_range=True)), ("minmax_custom", tq.MinMaxObserver(quant_min=0, quant_max=127)),
                     ("mavg", tq.MovingAverageMinMaxObserver()), ("pc", tq.PerChannelMinMaxObserver(ch_axis=1)),
                     ("pc_sym", tq.PerChannelMinMaxObserver(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)),
                     ("pc_fq", tq.PerChannelMinMaxObserver(qscheme=torch.per_channel_affine_float_qparams)),
                     ("mapc", tq.MovingAveragePerChannelMinMaxObserver()), ("hist", tq.HistogramObserver()), ("hist_rr", tq.HistogramObserver(reduce_range=True))]:
        ob(T(x1)); ob(T(x2))
        s, z = ob.calculate_qparams()
        out["obs_" + name] = (s.tolist(), z.tolist(), str(z.dtype).split(".")[-1], repr(ob).replace("gpujit", "torch") if "hist" not in name else "")
    # fake quantize
    fq = tq.FakeQuantize()
    xx = T(x1); xx.requires_grad_(True)
    y = fq(xx); y.sum().backward()
    out["fq"] = (y.tolist(), xx.grad.tolist(), fq.scale.tolist(), fq.zero_point.tolist(), repr(fq).replace("gpujit", "torch"))
    fq.disable_observer(); y2 = fq(T(x2)); out["fq_noobs"] = (y2.tolist(), fq.scale.tolist())
    fq.disable_fake_quant(); out["fq_off"] = fq(T(x2)).tolist()
    fqw = tq.default_per_channel_weight_fake_quant(); out["fq_pc"] = (fqw(T(x1)).tolist(), fqw.scale.tolist(), fqw.zero_point.tolist())
    out["qconfig_repr"] = repr(tq.default_qconfig).replace("gpujit", "torch")
    out["qconfig_x86"] = repr(tq.get_default_qconfig("x86")).replace("gpujit", "torch")
    # static
    class M(nn.Module):
        def __init__(s):
            super().__init__(); s.quant = tq.QuantStub(); s.fc = nn.Linear(6, 5); s.relu = nn.ReLU(); s.fc2 = nn.Linear(5, 3); s.dequant = tq.DeQuantStub()
        def forward(s, x): return s.dequant(s.fc2(s.relu(s.fc(s.quant(x)))))
    for qcname in ("default", "x86", "perchan"):
        torch.manual_seed(0)
        m = M()
        w = rng.normal(size=(5, 6)).astype(np.float32) * 0.4; b = rng.normal(size=5).astype(np.float32)
        w2 = rng.normal(size=(3, 5)).astype(np.float32) * 0.4; b2 = rng.normal(size=3).astype(np.float32)
        with torch.no_grad():
            m.fc.weight.copy_(T(w)); m.fc.bias.copy_(T(b)); m.fc2.weight.copy_(T(w2)); m.fc2.bias.copy_(T(b2))
        m.eval()
        m.qconfig = {"default": tq.default_qconfig, "x86": tq.get_default_qconfig("x86"), "perchan": tq.default_per_channel_qconfig}[qcname]
        p = tq.prepare(m)
        out[f"prep_{qcname}"] = repr(p).replace("gpujit", "torch") if qcname == "default" else ""
        for k in range(3):
            p(T(rng.normal(size=(8, 6)) * (k + 1)))
        c = tq.convert(p)
        xt = T(rng.normal(size=(4, 6)) * 2)
        y = c(xt)
        out[f"conv_{qcname}"] = (y.tolist(), repr(c).replace("gpujit", "torch"), c.fc.scale, c.fc.zero_point, c.fc.weight().int_repr().tolist(), sorted(c.state_dict().keys()))
    # dynamic
    m = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    with torch.no_grad():
        for l in (m[0], m[2]):
            l.weight.copy_(T(rng.normal(size=tuple(l.weight.shape)) * 0.5)); l.bias.copy_(T(rng.normal(size=tuple(l.bias.shape))))
    qm = tq.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)
    xt = T(rng.normal(size=(7, 6)) * 2)
    out["dyn"] = (qm(xt).tolist(), repr(qm).replace("gpujit", "torch"))
    qm2 = torch.quantization.quantize_dynamic(m)
    out["dyn2"] = qm2(xt).tolist()
    return out


@needs_torch
def test_ao_quantization_matches_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = _e2e(torch), _e2e(gpujit)
    for k in a:
        if k == "conv_perchan":     # (its calibration's float linear differs by an ulp)
            continue
        assert a[k] == b[k], k


# ------------------------------------------------------------------ traced and scripted code

def _q_relu_dq(x):
    q = gpujit.quantize_per_tensor(x, 0.1, 3, gpujit.quint8)
    return gpujit.dequantize(gpujit.relu(q))


def _q_facts(x, s: float, z: int):
    q = gpujit.quantize_per_tensor(x, s, z, gpujit.qint8)
    return q.q_scale(), q.q_zero_point(), q.int_repr()


def _q_add(a, b):
    return gpujit.ops.quantized.add(a, b, 0.2, 5)


def _q_per_channel(x):
    return gpujit.quantize_per_channel(x, gpujit.tensor([0.1, 0.2]), gpujit.tensor([1, 2]), 0,
                                       gpujit.quint8).dequantize()


def _strip_ranges(g):
    return "\n".join(line.split(" # ")[0] for line in str(g).splitlines())


def test_traced_quantize_relu_dequantize_records_the_ops():
    x = gpujit.tensor([-1.0, 0.5, 2.0])
    t = gpujit.jit.trace(_q_relu_dq, x)
    # (torch 2.13's graph, source ranges left out)
    assert _strip_ranges(t.graph) == (
        "graph(%x : Float(3, strides=[1], requires_grad=0, device=cpu)):\n"
        "  %1 : float = prim::Constant[value=0.10000000000000001]()\n"
        "  %2 : int = prim::Constant[value=3]()\n"
        "  %3 : int = prim::Constant[value=13]()\n"
        "  %q : QUInt8(3, strides=[1], requires_grad=0, device=cpu) = "
        "aten::quantize_per_tensor(%x, %1, %2, %3)\n"
        "  %5 : QUInt8(3, strides=[1], requires_grad=0, device=cpu) = aten::relu(%q)\n"
        "  %6 : Float(3, strides=[1], requires_grad=0, device=cpu) = aten::dequantize(%5)\n"
        "  return (%6)")
    x2 = gpujit.tensor([3.0, -2.0, 0.25])
    for _ in range(3):      # (profiled, then compiled: the same values)
        assert t(x2).tolist() == _q_relu_dq(x2).tolist()
    assert [round(v, 4) for v in t(x2).tolist()] == [3.0, 0.0, 0.3]


def test_scripted_quantized_functions():
    s = gpujit.jit.script(_q_relu_dq)
    g = str(s.graph)
    assert "aten::quantize_per_tensor" in g and "prim::Constant[value=13]()" in g
    x2 = gpujit.tensor([3.0, -2.0, 0.25])
    for _ in range(3):
        assert s(x2).tolist() == _q_relu_dq(x2).tolist()
    f = gpujit.jit.script(_q_facts)
    for _ in range(3):
        sc, zp, r = f(gpujit.tensor([-1.0, 0.5, 2.0]), 0.1, 2)
        assert (sc, zp, r.tolist(), r.dtype) == (0.1, 2, [-8, 7, 22], gpujit.int8)
    a = _q([-1.0, 0.5, 2.0], 0.1, 3)
    qa = gpujit.jit.script(_q_add)
    assert "quantized::add(%" in str(qa.graph)
    for _ in range(3):
        r = qa(a, a)
        assert r.is_quantized and r.int_repr().tolist() == [2, 10, 25]
    pc = gpujit.jit.script(_q_per_channel)
    for _ in range(3):
        assert [round(v, 4) for v in pc(gpujit.tensor([[-1.0, 0.5], [2.0, 1.0]])).view(-1)
                .tolist()] == [-0.1, 0.5, 2.0, 1.0]


def test_traced_function_of_a_quantized_input():
    q = _q([-1.0, 0.5, 2.0], 0.1, 3)
    t = gpujit.jit.trace(_relu, q)
    assert "%q : QUInt8(3, strides=[1], requires_grad=0, device=cpu)" in str(t.graph)
    q2 = _q([0.7, -0.5, 1.0], 0.1, 3)
    for _ in range(3):
        r = t(q2)
        assert r.is_quantized and r.int_repr().tolist() == [10, 3, 13]


def _relu(q):
    return gpujit.relu(q)


def test_traced_and_scripted_converted_models():
    rng = np.random.default_rng(5)
    m = _Static().eval()
    m.qconfig = tq.default_qconfig
    p = tq.prepare(m)
    for _ in range(2):
        p(gpujit.tensor((rng.normal(size=(5, 4)) * 2).astype(f32)))
    c = tq.convert(p)
    x = gpujit.tensor((rng.normal(size=(3, 4)) * 2).astype(f32))
    x2 = gpujit.tensor((rng.normal(size=(3, 4)) * 2).astype(f32))
    t = gpujit.jit.trace(c, x)
    s = gpujit.jit.script(c)
    for _ in range(3):
        assert t(x2).tolist() == c(x2).tolist()
        assert s(x2).tolist() == c(x2).tolist()
    assert c(x2).tolist() != c(x).tolist()
    d = tq.quantize_dynamic(gpujit.nn.Sequential(gpujit.nn.Linear(4, 2)))
    td, sd = gpujit.jit.trace(d, x), gpujit.jit.script(d)
    # (the submodule's call, as torch's trace; its own graph computes)
    assert "quantized::linear_dynamic" in str(getattr(td, "0").graph)
    for _ in range(3):
        assert td(x2).tolist() == d(x2).tolist() and sd(x2).tolist() == d(x2).tolist()


@needs_torch
def test_traced_graph_text_matches_torch():
    def run(lib):
        def f(x):
            q = lib.quantize_per_tensor(x, 0.1, 3, lib.quint8)
            return lib.dequantize(lib.relu(q))
        return _strip_ranges(lib.jit.trace(f, lib.tensor([-1.0, 0.5, 2.0])).graph)
    assert run(gpujit) == run(torch)


def _fused_run(lib):
    tq_, nn = lib.ao.quantization, lib.nn
    rng = np.random.default_rng(1)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.fc, self.relu = tq_.QuantStub(), nn.Linear(6, 5), nn.ReLU()
            self.fc2, self.dequant = nn.Linear(5, 3), tq_.DeQuantStub()

        def forward(self, x):
            return self.dequant(self.fc2(self.relu(self.fc(self.quant(x)))))

    m = M().eval()
    with lib.no_grad():
        for lin in (m.fc, m.fc2):
            lin.weight.copy_(lib.tensor((rng.normal(size=tuple(lin.weight.shape)) * 0.4)
                                        .astype(f32)))
            lin.bias.copy_(lib.tensor(rng.normal(size=tuple(lin.bias.shape)).astype(f32)))
    f = tq_.fuse_modules(m, [["fc", "relu"]])
    f.qconfig = tq_.default_qconfig
    p = tq_.prepare(f)
    for k in range(3):
        p(lib.tensor((rng.normal(size=(8, 6)) * (k + 1)).astype(f32)))
    c = tq_.convert(p)
    x = lib.tensor((rng.normal(size=(4, 6)) * 2).astype(f32))
    return m, f, c, x


def test_fuse_modules_linear_relu():
    m, f, c, x = _fused_run(gpujit)
    assert type(m.fc) is gpujit.nn.Linear        # (fuse_modules copies)
    assert type(f.fc) is gpujit.ao.nn.intrinsic.LinearReLU
    assert type(f.relu) is gpujit.nn.Identity
    q = c.fc
    assert type(q) is gpujit.ao.nn.intrinsic.quantized.LinearReLU
    assert repr(q).startswith("QuantizedLinearReLU(in_features=6, out_features=5, scale=")
    qx = c.quant(x)
    r = q(qx)
    assert r.int_repr().min().item() >= q.zero_point
    # (torch's quantized::linear takes the packed weight, s50)
    plain = gpujit.ops.quantized.linear(qx, q._packed_params._packed_params, q.scale,
                                        q.zero_point)
    assert r.int_repr().tolist() == gpujit.relu(plain).int_repr().tolist()
    # (conv + relu fuses as torch's ConvReLU2d since s50)
    fc = tq.fuse_modules(gpujit.nn.Sequential(gpujit.nn.Conv2d(1, 1, 1), gpujit.nn.ReLU()),
                         ["0", "1"])
    assert type(fc[0]) is gpujit.ao.nn.intrinsic.ConvReLU2d


@needs_torch
def test_fuse_modules_matches_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (_, _, ca, xa), (_, _, cb, xb) = _fused_run(torch), _fused_run(gpujit)
    assert repr(ca).replace("torch.", "") == repr(cb).replace("gpujit.", "").replace(
        "torch.", "")
    assert ca(xa).tolist() == cb(xb).tolist()
    assert sorted(ca.state_dict()) == sorted(cb.state_dict())


def test_converted_state_dict_saves_and_loads(tmp_path):
    def make():
        m = gpujit.nn.Sequential(tq.QuantStub(), gpujit.nn.Linear(4, 3),
                                 tq.DeQuantStub()).eval()
        m.qconfig = tq.default_per_channel_qconfig
        return m
    x = gpujit.tensor([[0.3, -1, 2, 0.1], [1.0, 0.5, -0.25, 2.0]])
    p = tq.prepare(make())
    p(x * 3)
    c = tq.convert(p)
    sd = c.state_dict()
    assert sd["1._packed_params.dtype"] is gpujit.qint8
    w, b = sd["1._packed_params._packed_params"]
    assert w.qscheme() is gpujit.per_channel_affine and b.dtype is gpujit.float32
    gpujit.save(sd, tmp_path / "sd.pt")
    c2 = tq.convert(tq.prepare(make()))
    c2.load_state_dict(gpujit.load(tmp_path / "sd.pt", weights_only=False))
    assert (c2[1].scale, c2[1].zero_point) == (c[1].scale, c[1].zero_point)
    assert c2(x).tolist() == c(x).tolist()
    gpujit.save(c, tmp_path / "m.pt")
    assert gpujit.load(tmp_path / "m.pt", weights_only=False)(x).tolist() == c(x).tolist()


@needs_torch
def test_converted_state_dict_loads_into_torch(tmp_path):
    x = [[0.3, -1, 2, 0.1], [1.0, 0.5, -0.25, 2.0]]

    def make(lib, calibrate):
        m = lib.nn.Sequential(lib.ao.quantization.QuantStub(), lib.nn.Linear(4, 3),
                              lib.ao.quantization.DeQuantStub()).eval()
        m.qconfig = lib.ao.quantization.default_per_channel_qconfig
        p = lib.ao.quantization.prepare(m)
        if calibrate:
            p(lib.tensor(x) * 3)
        return lib.ao.quantization.convert(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = make(gpujit, True)
        gpujit.save(c.state_dict(), tmp_path / "sd.pt")
        t = make(torch, False)
        t.load_state_dict(torch.load(tmp_path / "sd.pt", weights_only=False))
        assert t(torch.tensor(x)).tolist() == c(gpujit.tensor(x)).tolist()
        torch.save(t.state_dict(), tmp_path / "sd2.pt")
        g = make(gpujit, False)
        g.load_state_dict(gpujit.load(tmp_path / "sd2.pt", weights_only=False))
        assert g(gpujit.tensor(x)).tolist() == c(gpujit.tensor(x)).tolist()


def _qat_run(lib, qconfig_name):
    tq_, nn = lib.ao.quantization, lib.nn
    rng = np.random.default_rng(2)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.fc, self.relu = tq_.QuantStub(), nn.Linear(6, 5), nn.ReLU()
            self.fc2, self.dequant = nn.Linear(5, 3), tq_.DeQuantStub()

        def forward(self, x):
            return self.dequant(self.fc2(self.relu(self.fc(self.quant(x)))))

    m = M()
    with lib.no_grad():
        for lin in (m.fc, m.fc2):
            lin.weight.copy_(lib.tensor((rng.normal(size=tuple(lin.weight.shape)) * 0.4)
                                        .astype(f32)))
            lin.bias.copy_(lib.tensor(rng.normal(size=tuple(lin.bias.shape)).astype(f32)))
    m.qconfig = tq_.default_qat_qconfig if qconfig_name == "default" else \
        tq_.get_default_qat_qconfig(qconfig_name)
    p = tq_.prepare_qat(m)
    x = lib.tensor(rng.normal(size=(8, 6)).astype(f32), requires_grad=True)
    y = p(x)
    y.sum().backward()
    for k in range(2):
        p(lib.tensor((rng.normal(size=(8, 6)) * (k + 1)).astype(f32)))
    p.eval()
    c = tq_.convert(p)
    xt = lib.tensor(rng.normal(size=(4, 6)).astype(f32))
    return p, y, x.grad, c, c(xt)


def test_prepare_qat_and_convert():
    p, y, g, c, out = _qat_run(gpujit, "default")
    assert type(p.fc) is gpujit.ao.nn.qat.Linear
    assert isinstance(p.fc.weight_fake_quant, tq.FakeQuantize)
    assert isinstance(p.fc.activation_post_process, tq.FakeQuantize)
    assert isinstance(p.fc.weight_fake_quant.activation_post_process,
                      tq.MovingAverageMinMaxObserver)
    # (the forward's weight is on its fake-quantization grid)
    w = p.fc.weight.detach()
    s = p.fc.weight_fake_quant.scale.item()
    wq = p.fc.weight_fake_quant(w).detach().numpy()
    np.testing.assert_allclose(wq / f32(s), np.rint(wq / f32(s)), atol=1e-4)
    assert g is not None and y.shape == (8, 3)
    assert type(c.fc) is gpujit.ao.nn.quantized.Linear
    assert out.dtype is gpujit.float32 and out.shape == (4, 3)
    f = tq.get_default_qat_qconfig("x86")
    assert isinstance(f.activation(), tq.FusedMovingAvgObsFakeQuantize)
    with pytest.raises(AssertionError, match="prepare_qat only works on models in training "
                                             "mode"):
        tq.prepare_qat(gpujit.nn.Sequential(gpujit.nn.Linear(2, 2)).eval())


@needs_torch
@pytest.mark.parametrize("name", ["default", "x86"])
def test_prepare_qat_matches_torch(name):
    if torch.backends.cpu.get_cpu_capability() != "AVX512":
        # (the observers' min / max are torch's AVX512 kernels' bits; its AVX2 code differs)
        pytest.skip("torch's bits here are its AVX512 kernels' (this CPU runs its AVX2 code)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = _qat_run(torch, name), _qat_run(gpujit, name)
    assert repr(a[0]).replace("torch.", "") == \
        repr(b[0]).replace("gpujit.", "").replace("torch.", "")
    assert a[1].tolist() == b[1].tolist() and a[2].tolist() == b[2].tolist()
    if name == "default":   # (x86: fc2's moving-average max differs by a float32 ulp, the
        #                     float linear's)
        assert a[4].tolist() == b[4].tolist()


def test_quantized_activations_with_an_output_quantizer():
    a = _q(X, 0.1, 3)
    Q = gpujit.ops.quantized
    # (values from torch 2.13)
    assert Q.hardswish(a, 0.05, 10).int_repr().tolist() == [[7, 16, 13], [43, 7, 19]]
    assert Q.elu(a, 0.05, 20, 0.5).int_repr().tolist() == [[17, 30, 26], [60, 17, 34]]
    r = Q.leaky_relu(a, 0.2, False, 0.05, 20)
    assert (r.q_scale(), r.q_zero_point()) == (0.05, 20)
    assert r.int_repr().tolist() == [[19, 30, 26], [60, 19, 34]]
    assert Q.softmax(a, 1, 1 / 256, 0).int_repr().tolist() == [[51, 113, 92], [186, 19, 51]]
    assert Q.celu(a, 0.05, 20, 1.5).int_repr().tolist() == [[15, 30, 26], [60, 15, 34]]
    assert Q.sigmoid(a, 1 / 256, 0).int_repr().tolist() == [[109, 159, 147], [225, 109, 171]]
    nnq = gpujit.ao.nn.quantized
    assert repr(nnq.Hardswish(0.1, 3)) == "QuantizedHardswish()"
    assert repr(nnq.ELU(0.1, 3)) == "QuantizedELU(alpha=1.0)"
    assert nnq.Hardswish(0.05, 10)(a).int_repr().tolist() == [[7, 16, 13], [43, 7, 19]]


def _acts_run(lib):
    tq_, nn = lib.ao.quantization, lib.nn
    rng = np.random.default_rng(3)
    m = nn.Sequential(tq_.QuantStub(), nn.Hardswish(), nn.ELU(0.7), nn.LeakyReLU(0.2),
                      nn.ReLU6(), tq_.DeQuantStub()).eval()
    m.qconfig = tq_.default_qconfig
    p = tq_.prepare(m)
    for k in range(3):
        p(lib.tensor((rng.normal(size=(64, 7)) * (k + 2)).astype(f32)))
    c = tq_.convert(p)
    return c, c(lib.tensor((rng.normal(size=(40, 7)) * 3).astype(f32)))


@needs_torch
def test_converted_activations_match_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (ca, ya), (cb, yb) = _acts_run(torch), _acts_run(gpujit)
    assert repr(ca).replace("torch.", "") == \
        repr(cb).replace("gpujit.", "").replace("torch.", "")
    assert ya.tolist() == yb.tolist()


def test_quantize_per_tensor_dynamic():
    x = gpujit.tensor([-1.0, 0.5, 2.0, 3.3])
    # (torch 2.13's scales, zero points and integers)
    for d, rr, s, z, ints in (
            (gpujit.quint8, False, 0.016862744911044253, 59, [0, 89, 178, 255]),
            (gpujit.quint8, True, 0.033858267341073105, 30, [0, 45, 89, 127]),
            (gpujit.qint8, False, 0.016862744911044253, -69, [-128, -39, 50, 127]),
            (gpujit.qint8, True, 0.033858267341073105, -34, [-64, -19, 25, 63])):
        q = gpujit.quantize_per_tensor_dynamic(x, d, rr)
        assert (q.q_scale(), q.q_zero_point(), q.int_repr().tolist()) == (s, z, ints)
    with pytest.raises(RuntimeError, match="dtype QInt32not supported"):
        gpujit.quantize_per_tensor_dynamic(x, gpujit.qint32, False)
    with pytest.raises(RuntimeError, match="Quantize only works on Float Tensor, got Double"):
        gpujit.quantize_per_tensor_dynamic(x.double(), gpujit.quint8, False)


def test_dense_dequantize_and_int_repr():
    x = gpujit.randn(3)
    assert x.dequantize() is x and gpujit.dequantize(x) is x       # (as torch's)
    d = gpujit.randn(3, dtype=gpujit.float64, requires_grad=True).dequantize()
    assert d.dtype is gpujit.float32 and type(d.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for dequantize is not implemented"):
        d.sum().backward()
    with pytest.raises(NotImplementedError, match="Could not run 'aten::int_repr' with "
                                                  "arguments from the 'CPU' backend"):
        x.int_repr()
    with pytest.raises(NotImplementedError, match="'aten::q_scale'"):
        x.q_scale()


def test_pooling_upsampling_empty_like_and_to():
    x = np.arange(-32, 32, dtype=np.float32).reshape(1, 2, 4, 8) / 7
    q = _q(x, 0.1, 3, "qint8")
    ints = q.int_repr().numpy()
    F = gpujit.nn.functional
    p = F.max_pool2d(q, 2)
    assert p.is_quantized and (p.q_scale(), p.q_zero_point()) == (0.1, 3)
    assert p.int_repr().numpy().tolist() == ints.reshape(1, 2, 2, 2, 4, 2).max(
        axis=(3, 5)).tolist()
    u = F.interpolate(q, scale_factor=2)
    assert u.int_repr().numpy().tolist() == ints.repeat(2, 2).repeat(2, 3).tolist()
    assert F.max_pool1d(_q(x.reshape(2, 4, 8), 0.1, 3), 2).shape == (2, 4, 4)
    e = gpujit.empty_like(q)
    assert e.is_quantized and e.shape == q.shape and e.q_scale() == 0.1
    assert q.to(gpujit.qint8) is q and q.to("cpu") is q
    with pytest.raises(RuntimeError, match="Creation of quantized tensor requires quantized "
                                           "dtype like torch.quint8"):
        q.float()
    with pytest.raises(RuntimeError, match="Expected self.scalar_type\\(\\) == "
                                           "src.scalar_type\\(\\)"):
        q.to(gpujit.quint8)


def test_per_channel_select_off_the_axis():
    # (torch 2.13: the subtensor's axis is one less, whichever side the selected dim is on;
    # an axis left out of range fails at dequantize, in its words)
    x = gpujit.arange(24.).reshape(2, 3, 4) / 5
    c = gpujit.quantize_per_channel(x, gpujit.tensor([0.1, 0.2, 0.3]), gpujit.arange(3), 1,
                                    gpujit.quint8)
    assert c.select(0, 1).q_per_channel_axis() == 0
    assert c.select(2, 1).q_per_channel_axis() == 0
    assert c.select(1, 1).qscheme() is gpujit.per_tensor_affine
    c0 = _qc()
    r = c0[:, 0]
    assert r.int_repr().tolist() == [0, 12]
    with pytest.raises(RuntimeError, match="Channel axis out of range in per channel affine "
                                           "dequantization. Got:-1 Expected: \\[0, 1\\)"):
        r.dequantize()
