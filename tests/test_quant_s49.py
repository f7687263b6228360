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
        return [(c.int_repr().tolist(), c.q_scale(), c.q_zero_point()) for c in cases]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = run(gpujit), run(torch)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g[0] == w[0], i
        assert g[1:] == pytest.approx(w[1:], rel=1e-12, abs=0), i
