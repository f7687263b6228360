"""bfloat16 tensors (ops/bfloat16_support.py): the dtype, conversions bit for bit as
c10's round-to-nearest-even, factories, printing, views of the bits, save/load with
PyTorch, the refusal of ops that have not opted in, unfused scripted code. Expected values
are computed here by hand / NumPy (CI has no torch) and, where torch is importable,
compared with it."""
import io
import math

import numpy as np
import pytest

import gpujit
from gpujit.ops.bfloat16_support import round_bf16, bits_of, from_bits

bf = gpujit.bfloat16


def _bits(t):
    return t.view(gpujit.int16).tolist()


def _ref_bits(values, nan=0x7FC0):
    """c10's round_to_nearest_even of float32 values, written out per element."""
    out = []
    for v in np.asarray(values, np.float32):
        if v != v:
            b = nan
        else:
            u = int(np.float32(v).view(np.uint32))
            b = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF
        out.append(b - 0x10000 if b >= 0x8000 else b)
    return out


EDGE = [1.0, 2.5, 1.00390625, 1.01171875, -0.0, 1e-40, 3.4e38, 3.39e38, math.inf, -math.inf,
        math.nan, 0.1, -3.14159, 65504.0, 1.0 + 2.0 ** -8 + 2.0 ** -20]


def test_dtype_facts():
    assert bf.is_floating_point and not bf.is_complex and bf.is_signed and bf.itemsize == 2
    assert bf not in gpujit.dtypes.ALL          # opt-in: outside ALL
    assert gpujit.promote_types(bf, gpujit.float16) is gpujit.float32
    assert gpujit.promote_types(gpujit.float16, bf) is gpujit.float32
    assert gpujit.promote_types(bf, gpujit.int64) is bf
    assert gpujit.promote_types(bf, gpujit.float32) is gpujit.float32
    assert gpujit.promote_types(bf, gpujit.float64) is gpujit.float64
    assert gpujit.promote_types(gpujit.bool, bf) is bf
    assert gpujit.can_cast(gpujit.float64, bf) and not gpujit.can_cast(bf, gpujit.int32)
    fi = gpujit.finfo(bf)
    assert (fi.bits, fi.eps, fi.tiny, fi.smallest_normal, fi.resolution) == (
        16, 0.0078125, 2.0 ** -126, 2.0 ** -126, 0.01)
    assert fi.max == (2 - 2.0 ** -7) * 2.0 ** 127 == -fi.min
    assert gpujit.dtypes.to_dtype("torch.bfloat16") is bf
    assert gpujit.dtypes.scalar_type_arg(15) is bf


def test_round_helpers_by_hand():
    a = np.array(EDGE, np.float32)
    r = round_bf16(np, a)
    assert bits_of(np, r).view(np.int16).tolist() == _ref_bits(a)
    assert np.array_equal(from_bits(np, bits_of(np, r)).view(np.uint32), r.view(np.uint32))
    # ties to even, overflow to inf, subnormals kept
    assert round_bf16(np, np.float32([1.00390625, 1.01171875, 3.39e38]))[:2].tolist() == [
        1.0, 1.015625]
    assert math.isinf(float(round_bf16(np, np.float32([3.4e38]))[0]))


def test_conversions_bit_exact():
    x = gpujit.tensor(EDGE)
    b = x.bfloat16()
    assert b.dtype is bf and b.element_size() == 2 and b.nbytes == 2 * len(EDGE)
    # (x.to(bfloat16) of float32: ATen's vectorized copy, whose NaN is 0xFFFF)
    assert _bits(b) == _ref_bits(EDGE, nan=0xFFFF)
    assert _bits(x.double().to(bf)) == _ref_bits(EDGE)      # through float32: c10's NaN
    assert _bits(gpujit.tensor(EDGE, dtype=bf)) == _ref_bits(EDGE)
    assert b.float().tolist()[:3] == [1.0, 2.5, 1.0]
    f = b.float()
    assert f.dtype is gpujit.float32 and f._data is not b._data
    assert b.to(bf) is b
    assert gpujit.tensor([16777217, 257], dtype=gpujit.int64).to(bf).tolist() == [16777216.0, 256.0]
    assert gpujit.tensor(3.14159, dtype=bf).item() == 3.140625
    assert gpujit.tensor([3.14159, 2.0], dtype=bf).tolist() == [3.140625, 2.0]
    assert float(gpujit.tensor(2.5, dtype=bf)) == 2.5


def test_grad_through_conversion():
    x = gpujit.ones(3, requires_grad=True)
    y = x.bfloat16()
    assert type(y.grad_fn).__name__ == "ToCopyBackward0" and y.dtype is bf
    (y.float() * 3).sum().backward()
    assert x.grad.dtype is gpujit.float32 and x.grad.tolist() == [3.0, 3.0, 3.0]


def test_factories():
    assert _bits(gpujit.full((2,), 1 / 3, dtype=bf)) == _ref_bits([1 / 3] * 2)
    assert gpujit.zeros(2, 2, dtype=bf).dtype is bf and gpujit.ones(3, dtype=bf).tolist() == [1.0] * 3
    assert gpujit.empty(2, dtype=bf).dtype is bf
    assert _bits(gpujit.arange(250, 270, dtype=bf)) == _ref_bits(np.arange(250, 270))
    assert _bits(gpujit.arange(0, 5, 0.3, dtype=bf)) == _ref_bits(
        np.arange(17, dtype=np.float32) * np.float32(0.3))
    t = gpujit.ones(2, dtype=bf)
    assert t.new_zeros(3).dtype is bf and gpujit.zeros_like(t).dtype is bf


def test_repr_and_numpy():
    assert repr(gpujit.tensor([1.0, 2.5], dtype=bf)) == \
        "tensor([1.0000, 2.5000], dtype=gpujit.bfloat16)"
    assert repr(gpujit.tensor([1e10, 3.0], dtype=bf)) == \
        "tensor([9.9992e+09, 3.0000e+00], dtype=gpujit.bfloat16)"
    assert repr(gpujit.tensor(1 / 3, dtype=bf)) == "tensor(0.3340, dtype=gpujit.bfloat16)"
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        gpujit.ones(2, dtype=bf).numpy()
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        np.asarray(gpujit.ones(2, dtype=bf))


def test_view_bits():
    b = gpujit.tensor([1.0, -0.0, 2.5], dtype=bf)
    v = b.view(gpujit.int16)
    assert v.dtype is gpujit.int16 and v.tolist() == [16256, -32768, 16416]
    assert b.view(gpujit.uint8).tolist() == [128, 63, 0, 128, 32, 64]
    back = gpujit.tensor([1, -32768, 16256, 32704], dtype=gpujit.int16).view(bf)
    assert back.dtype is bf and back.float().tolist()[1:3] == [-0.0, 1.0]
    assert math.isnan(back.float().tolist()[3])
    assert gpujit.ones(4, dtype=bf).view(gpujit.float32).tolist() == [1.0019378662109375] * 2
    assert b.view(bf) is not b and b.view(bf).dtype is bf


def test_strides_are_elements():
    b = gpujit.ones(2, 3).t().bfloat16()
    assert b.stride() == (1, 3) and b.is_contiguous() is False


def test_refused_in_torch_words():
    x = gpujit.ones(2, dtype=bf)
    with pytest.raises(NotImplementedError, match="\"gcd_cpu\" not implemented for 'BFloat16'"):
        gpujit.gcd(x, x)
    with pytest.raises(NotImplementedError, match="not implemented for 'BFloat16'"):
        gpujit.special.zeta(x, x)
    with pytest.raises(NotImplementedError, match="not implemented for 'BFloat16'"):
        gpujit.linalg.inv(gpujit.ones(2, 2, dtype=bf))
    with pytest.raises(NotImplementedError, match="not implemented for 'BFloat16'"):
        gpujit.polygamma(2, x)               # (not opted in yet: refused, never float32)


def test_save_load_roundtrip_gpujit():
    sd = {"w": gpujit.tensor([[1.0, math.nan], [-0.0, 3.14159]]).bfloat16(),
          "v": gpujit.arange(24.0).reshape(4, 6)[:, 1:3].bfloat16()}
    buf = io.BytesIO()
    gpujit.save(sd, buf)
    buf.seek(0)
    back = gpujit.load(buf)
    for k in sd:
        assert back[k].dtype is bf and back[k].stride() == sd[k].stride()
        assert _bits(back[k]) == _bits(sd[k])


def test_scripted_unfused(tmp_path):
    src = tmp_path / "bf_script.py"
    src.write_text("import gpujit\n"
                   "@gpujit.jit.script\n"
                   "def f(x, y):\n"
                   "    return (x.float() * 2 + y).sigmoid() * y\n")
    import importlib.util
    spec = importlib.util.spec_from_file_location("bf_script", src)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    x = gpujit.tensor([1.5, 3.0, -1.0], dtype=bf)
    y = gpujit.tensor([1.0, 2.0, 3.0])
    for _ in range(3):
        r = m.f(x, y)
    want = 1 / (1 + np.exp(-(np.float32([1.5, 3.0, -1.0]) * 2 + np.float32([1, 2, 3]))))
    np.testing.assert_allclose(r.numpy(), want * np.float32([1, 2, 3]), rtol=1e-6)
    g = str(gpujit.jit.last_executed_optimized_graph())
    assert "BFloat16(3" in g
    # the bfloat16 value itself is never a fusion group's input
    fused = [ln for ln in g.splitlines() if "TensorExprGroup" in ln and "%x" in ln]
    assert not fused


# ---------------------------------------------------------------- against PyTorch

def test_against_torch_conversions():
    torch = pytest.importorskip("torch")
    x = torch.tensor(EDGE)
    g = gpujit.tensor(EDGE)
    assert _bits(g.bfloat16()) == x.bfloat16().view(torch.int16).tolist()
    assert _bits(g.double().bfloat16()) == x.double().bfloat16().view(torch.int16).tolist()
    assert _bits(g.half().bfloat16()) == x.half().bfloat16().view(torch.int16).tolist()
    assert _bits(gpujit.tensor(EDGE, dtype=bf)) == \
        torch.tensor(EDGE, dtype=torch.bfloat16).view(torch.int16).tolist()
    for n in (3, 20, 37):
        torch.manual_seed(5)
        gpujit.manual_seed(5)
        assert _bits(gpujit.rand(n, dtype=bf)) == \
            torch.rand(n, dtype=torch.bfloat16).view(torch.int16).tolist()
    assert repr(gpujit.tensor([[1, 2], [3, 4]], dtype=bf)).replace("gpujit.", "torch.") == \
        repr(torch.tensor([[1, 2], [3, 4]], dtype=torch.bfloat16))
    fi, ft = gpujit.finfo(bf), torch.finfo(torch.bfloat16)
    assert (fi.eps, fi.max, fi.min, fi.tiny, fi.resolution, fi.bits) == (
        ft.eps, ft.max, ft.min, ft.tiny, ft.resolution, ft.bits)


def test_against_torch_save_load_both_ways():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    sd = {"w": torch.randn(3, 4).bfloat16(),
          "b": torch.tensor([1.0, float("nan"), -0.0], dtype=torch.bfloat16),
          "t": torch.randn(4, 6).bfloat16()[:, 1:3]}
    buf = io.BytesIO()
    torch.save(sd, buf)
    buf.seek(0)
    g = gpujit.load(buf)
    for k in sd:
        assert g[k].dtype is bf and g[k].stride() == sd[k].stride()
        assert _bits(g[k]) == sd[k].view(torch.int16).tolist()
    buf2 = io.BytesIO()
    gpujit.save(g, buf2)
    buf2.seek(0)
    t = torch.load(buf2)
    for k in sd:
        assert t[k].dtype == torch.bfloat16 and t[k].stride() == sd[k].stride()
        assert torch.equal(t[k].view(torch.int16), sd[k].view(torch.int16))


def test_resave_of_a_loaded_view_keeps_its_offset():
    # (a view rebuilt by load is NumPy's as_strided, whose base is a DummyArray: the saved
    # storage must be the whole one, the offset the view's)
    x = gpujit.arange(24.0).reshape(4, 6)[:, 1:3]
    buf = io.BytesIO()
    gpujit.save({"x": x}, buf)
    buf.seek(0)
    y = gpujit.load(buf)["x"]
    buf2 = io.BytesIO()
    gpujit.save({"y": y}, buf2)
    buf2.seek(0)
    z = gpujit.load(buf2)["y"]
    assert z.tolist() == x.tolist() and z.storage_offset() == 1 and z.stride() == (6, 1)


# ---------------------------------------------------------------- part 2: views, shape ops, modules

def _x():
    return gpujit.tensor([[1.0, 2.5, 3.3], [4.1, -5.7, 6.0]]).bfloat16()


def test_views_and_shape_ops_keep_bfloat16():
    x = _x()
    xb = _bits(x)
    assert xb == [_ref_bits([1.0, 2.5, 3.3]), _ref_bits([4.1, -5.7, 6.0])]
    assert _bits(x.reshape(3, 2)) == np.array(xb).reshape(3, 2).tolist()
    assert x.t().stride() == (1, 3) and not x.t().is_contiguous()
    assert _bits(x[1]) == xb[1] and _bits(x[:, 1:]) == [r[1:] for r in xb]
    assert x[:, 1:].storage_offset() == 1
    assert _bits(x[[1, 0]]) == [xb[1], xb[0]]
    assert _bits(gpujit.cat([x, x])) == xb + xb and gpujit.stack([x, x]).dtype is bf
    assert gpujit.cat([x, x.float()]).dtype is gpujit.float32      # (cat promotes)
    assert [t.dtype for t in x.unbind(0)] == [bf, bf]
    assert _bits(x.flip(0)) == [xb[1], xb[0]] and x.permute(1, 0).flatten().dtype is bf
    assert _bits(x.gather(1, gpujit.tensor([[0], [2]]))) == [[xb[0][0]], [xb[1][2]]]
    v = x.view(6)
    assert v._vc is x._vc and v.dtype is bf            # (a view: relabelled, not copied)


def test_writes_round_to_bfloat16():
    x = _x()
    y = x.clone()
    y[0] = 0.1
    assert _bits(y)[0] == _ref_bits([0.1] * 3)
    assert _bits(x.masked_fill(gpujit.tensor([True, False, True]), 1 / 3))[0] == \
        _ref_bits([1 / 3, 2.5, 1 / 3])
    y = x.clone()
    y.copy_(gpujit.tensor([[0.1, 0.2, 0.3], [1e10, 1e10, -1e-40]]))
    assert _bits(y) == [_ref_bits([0.1, 0.2, 0.3]), _ref_bits([1e10, 1e10, -1e-40])]
    z = gpujit.zeros(2, 3)
    z.copy_(x)
    assert z.dtype is gpujit.float32 and z.tolist() == x.float().tolist()


def test_module_to_bfloat16_and_back():
    m = gpujit.nn.Linear(3, 2)
    w = m.weight.detach().clone()
    m.bfloat16()
    assert [p.dtype for p in m.parameters()] == [bf, bf]
    assert _bits(m.weight) == _bits(w.bfloat16())
    m.to(gpujit.float32)
    assert [p.dtype for p in m.parameters()] == [gpujit.float32] * 2
    m.to(bf)
    assert m.bias.dtype is bf and isinstance(m.weight, gpujit.nn.Parameter)
    sd = gpujit.nn.Linear(3, 2).state_dict()
    f = gpujit.nn.Linear(3, 2)
    f.load_state_dict({k: v.bfloat16() for k, v in sd.items()})    # copy_ converts
    assert f.weight.dtype is gpujit.float32
    assert f.weight.tolist() == sd["weight"].bfloat16().float().tolist()
    g = gpujit.nn.Linear(3, 2).bfloat16()
    g.load_state_dict(sd)
    assert g.weight.dtype is bf and _bits(g.weight) == _bits(sd["weight"].bfloat16())


def test_part2_against_torch():
    torch = pytest.importorskip("torch")
    data = [[1.0, 2.5, 3.3], [4.1, -5.7, 6.0]]
    t, g = torch.tensor(data).bfloat16(), gpujit.tensor(data).bfloat16()

    def same(a, b):
        assert _bits(b) == a.view(torch.int16).tolist()
    same(t.t().reshape(6), g.t().reshape(6))
    same(torch.cat([t, t[:1]]), gpujit.cat([g, g[:1]]))
    same(t.masked_fill(torch.tensor([True, False, True]), 1 / 3),
         g.masked_fill(gpujit.tensor([True, False, True]), 1 / 3))
    same(torch.where(torch.tensor([[True, False, True]]), t, torch.zeros(2, 3, dtype=torch.bfloat16)),
         gpujit.where(gpujit.tensor([[True, False, True]]), g, gpujit.zeros(2, 3, dtype=bf)))
    src = [[0.1, 0.2, 0.3], [1e10, 7.7, -1e-40]]
    same(t.clone().copy_(torch.tensor(src)), g.clone().copy_(gpujit.tensor(src)))


# ---------------------------------------------------------------- part 3: arithmetic, math, nn

def _rb(a):
    """float32 values of the bfloat16 rounding of a (NumPy reference)."""
    return round_bf16(np, np.asarray(a, np.float32))


VALS = [0.1 * i - 3.3 for i in range(70)] + [0.0, -0.0, 1e30, -1e30, math.inf, -math.inf]


def _pair():
    x = gpujit.tensor(VALS).bfloat16()
    y = gpujit.tensor(list(reversed(VALS))).bfloat16()
    return x, y


def _same_values(t, ref):
    """bfloat16 t equals the float32 reference ref bit for bit (any NaN equal to any NaN)."""
    assert t.dtype is bf
    a, b = t.float()._data, np.asarray(ref, np.float32)
    assert np.array_equal(a, b, equal_nan=True), np.flatnonzero(~((a == b) | (a != a) & (b != b)))


def test_pointwise_compute_in_float32_round_once():
    x, y = _pair()
    xf, yf = x.float()._data, y.float()._data
    with np.errstate(all="ignore"):
        _same_values(x + y, _rb(xf + yf))
        _same_values(x * y, _rb(xf * yf))
        _same_values(x / y, _rb(xf / yf))
        _same_values(-x, -xf)
        _same_values(gpujit.maximum(x, y), _rb(np.maximum(xf, yf)))
        _same_values(x.clamp(-1.1, 2.3), np.clip(xf, _rb(-1.1), _rb(2.3)))
    assert (x < y).dtype is gpujit.bool and (x < y).tolist() == (xf < yf).tolist()
    z = x.clone()
    z.mul_(y)
    assert z.dtype is bf and _bits(z) == _bits(x * y)
    w = x.clone()
    w.add_(y.float() * 0.1)          # (a float32 result written into bfloat16: rounded)
    with np.errstate(all="ignore"):
        _same_values(w, _rb(xf + (yf * np.float32(0.1))))


def test_operands_cast_to_bfloat16_first():
    x = gpujit.tensor([1.0, -2.59375, 3.0]).bfloat16()
    # x + 1.7: 1.7 cast to bfloat16 (1.703125) first, as ATen's add kernel
    _same_values(x + 1.7, _rb(np.float32([1.0, -2.59375, 3.0]) + np.float32(1.703125)))
    # x * 0.1 and x / 3: mul / div keep a one-element second operand at its value
    _same_values(x * 0.1, _rb(np.float32([1.0, -2.59375, 3.0]) * np.float32(0.1)))
    _same_values(x * gpujit.tensor(257), _rb(np.float32([257.0, -2.59375 * 257, 771.0])))
    # a tensor of another dtype is cast to bfloat16: 257 -> 256
    _same_values(x + gpujit.tensor([257, 257, 257]), _rb(np.float32([257.0, 253.0, 259.0])))
    # promotion
    assert (x + x.half()).dtype is gpujit.float32 and (x + x.float()).dtype is gpujit.float32
    assert (x * 2.5).dtype is bf and (x + gpujit.arange(3)).dtype is bf
    assert (x * gpujit.tensor(2.5)).dtype is bf


def test_reductions_and_nn_in_bfloat16():
    v = [math.sin(i * 1.3) * 3 for i in range(240)]
    x = gpujit.tensor(v).reshape(8, 30).bfloat16()
    xf = x.float()
    for r, ref in ((x.sum(), xf.sum()), (x.sum(1), xf.sum(1)), (x.mean(1), xf.mean(1)),
                   (x.softmax(1), xf.softmax(1)), (x.amax(1), xf.amax(1))):
        assert r.dtype is bf and _bits(r) == _bits(ref.bfloat16())
    assert x.sum(dtype=gpujit.float32).dtype is gpujit.float32
    assert x.argmax(1).tolist() == xf.argmax(1).tolist()
    w = gpujit.tensor([math.cos(i * 0.7) for i in range(480)]).reshape(16, 30).bfloat16()
    mm = x @ w.t()
    assert mm.dtype is bf and _bits(mm) == _bits((xf @ w.float().t()).bfloat16())
    ln = gpujit.nn.functional.layer_norm(x, (30,))
    assert _bits(ln) == _bits(gpujit.nn.functional.layer_norm(xf, (30,)).bfloat16())
    g = gpujit.nn.functional.gelu(x)
    assert _bits(g) == _bits(gpujit.nn.functional.gelu(xf).bfloat16())
    e = gpujit.nn.functional.embedding(gpujit.tensor([[1, 3], [15, 0]]), w)
    assert e.dtype is bf and _bits(e) == _bits(w[[1, 3, 15, 0]].reshape(2, 2, 30))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: "
                                           "c10::BFloat16 != float"):
        x @ w.t().float()
    with pytest.raises(RuntimeError, match="expected scalar type BFloat16 but found Float"):
        gpujit.bmm(x[None], w.t().float()[None])


def test_autograd_in_bfloat16():
    x = gpujit.tensor([[0.5, -1.25, 2.0]]).bfloat16()
    w = gpujit.tensor([[0.25, 0.5, -0.75], [1.0, -0.5, 0.125]]).bfloat16().requires_grad_()
    out = gpujit.nn.functional.gelu(x @ w.t())
    out.sum().backward()
    assert w.grad.dtype is bf and out.dtype is bf
    # d/dw of sum(gelu(x w^T)) = gelu'(x w^T)^T x (exact inputs here; float32 then rounded)
    xf, wf = x.float(), w.detach().float()
    h = (xf @ wf.t()).requires_grad_()
    gpujit.nn.functional.gelu(h).sum().backward()
    want = (h.grad.t() @ xf)
    np.testing.assert_allclose(w.grad.float()._data, want._data, rtol=2 ** -7, atol=1e-6)


def test_part3_against_torch():
    torch = pytest.importorskip("torch")
    F, G = torch.nn.functional, gpujit.nn.functional
    vals = VALS + [math.nan]

    def both(f, g=None):
        a = f(torch, torch.tensor(vals).bfloat16(), torch.tensor(vals[::-1]).bfloat16())
        b = (g or f)(gpujit, gpujit.tensor(vals).bfloat16(), gpujit.tensor(vals[::-1]).bfloat16())
        ta, tb = a.view(torch.int16).tolist(), _bits(b)
        bad = [i for i, (p, q) in enumerate(zip(ta, tb)) if p != q
               and not ((p & 0x7F80) == 0x7F80 and p & 0x7F and (q & 0x7F80) == 0x7F80 and q & 0x7F)]
        assert not bad, (bad, [ta[i] for i in bad], [tb[i] for i in bad])
    for name in ("exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "log1p",
                 "expm1", "floor", "round", "abs", "reciprocal"):
        both(lambda m, x, y: getattr(m, name)(x))
    for name in ("add", "sub", "mul", "div", "minimum", "maximum", "atan2", "pow"):
        both(lambda m, x, y: getattr(m, name)(x, y))
    both(lambda m, x, y: x + 1.7)
    both(lambda m, x, y: x * 0.1)
    both(lambda m, x, y: x / 3)
    both(lambda m, x, y: 2.5 - x)
    both(lambda m, x, y: x * m.tensor(257))
    both(lambda m, x, y: x + m.arange(len(vals)))
    both(lambda m, x, y: x.clamp(-1.1, 2.3))
    both(lambda m, x, y: m.lerp(x, y, 0.3))
    both(lambda m, x, y: m.addcmul(x, x, y, value=0.1))
    # (ATen's bfloat16 gelu gives NaN for +inf, its float32 one inf: finite values only)
    both(lambda m, x, y: F.gelu(x.clamp(-1e30, 1e30)),
         lambda m, x, y: G.gelu(x.clamp(-1e30, 1e30)))
    both(lambda m, x, y: F.silu(x), lambda m, x, y: G.silu(x))
    v = [math.sin(i * 1.3) * 3 for i in range(240)]
    w = [math.cos(i * 0.7) for i in range(480)]
    t = torch.tensor(v).reshape(8, 30).bfloat16()
    g = gpujit.tensor(v).reshape(8, 30).bfloat16()
    tw, gw = torch.tensor(w).reshape(16, 30).bfloat16(), gpujit.tensor(w).reshape(16, 30).bfloat16()
    for f in (lambda m, F, x, w: x.sum(), lambda m, F, x, w: x.sum(0),
              lambda m, F, x, w: x.mean(1), lambda m, F, x, w: x.softmax(1),
              lambda m, F, x, w: F.linear(x, w, w[0, :16]), lambda m, F, x, w: x @ w.t(),
              lambda m, F, x, w: F.layer_norm(x, (30,), w[0], w[1]),
              lambda m, F, x, w: x.cumsum(1), lambda m, F, x, w: F.embedding(
                  m.tensor([[1, 3], [15, 0]]), w)):
        assert _bits(f(gpujit, G, g, gw)) == f(torch, F, t, tw).view(torch.int16).tolist()


# ---------------------------------------------------------------- part 4: CPU autocast, attention

def _mlp_inputs():
    x = gpujit.tensor([math.sin(i * 0.37) for i in range(48)]).reshape(6, 8)
    w = gpujit.tensor([math.cos(i * 0.11) * 0.3 for i in range(128)]).reshape(16, 8)
    return x, w.requires_grad_()


def test_cpu_autocast_defaults_to_bfloat16():
    assert gpujit.get_autocast_dtype("cpu") is bf
    x, w = _mlp_inputs()
    with gpujit.autocast("cpu"):
        assert gpujit.is_autocast_enabled("cpu")
        h = gpujit.nn.functional.linear(x, w)            # lower: bfloat16
        s = h.softmax(-1)                                # (CPU list: the input's dtype)
        loss = gpujit.nn.functional.cross_entropy(h, gpujit.tensor([0, 1, 2, 3, 4, 5]))
        c = gpujit.cat([h, x], 1)                        # promote: float32
    assert (h.dtype, s.dtype, loss.dtype, c.dtype) == (bf, bf, gpujit.float32, gpujit.float32)
    assert _bits(h) == _bits((x.bfloat16().float() @ w.detach().bfloat16().float().t()).bfloat16())
    loss.backward()
    assert w.grad.dtype is gpujit.float32
    with gpujit.autocast("cpu", dtype=gpujit.float16):
        assert gpujit.mm(x, w.t()).dtype is gpujit.float16


def test_scripted_cpu_autocast_region_is_bfloat16(tmp_path):
    src = tmp_path / "bf_ac.py"
    src.write_text("import gpujit\n"
                   "@gpujit.jit.script\n"
                   "def f(a, b):\n"
                   "    with gpujit.autocast('cpu'):\n"
                   "        return gpujit.mm(a, b)\n")
    import importlib.util
    spec = importlib.util.spec_from_file_location("bf_ac", src)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    x, w = _mlp_inputs()
    w = w.detach()
    with gpujit.autocast("cpu"):
        want = gpujit.mm(x, w.t())
    for _ in range(3):
        r = m.f(x, w.t())
    assert r.dtype is bf and _bits(r) == _bits(want)


def _attn_inputs(ev=8):
    q = gpujit.tensor([math.sin(i * 0.3) for i in range(240)]).reshape(2, 3, 5, 8).bfloat16()
    k = gpujit.tensor([math.cos(i * 0.7) for i in range(336)]).reshape(2, 3, 7, 8).bfloat16()
    v = gpujit.tensor([math.sin(i * 1.1) for i in range(42 * ev)]).reshape(2, 3, 7, ev).bfloat16()
    return q, k, v


def test_sdpa_bfloat16_as_atens_cpu_kernels():
    F = gpujit.nn.functional
    q, k, v = _attn_inputs()
    qf, kf, vf = q.float()._data, k.float()._data, v.float()._data
    s = qf @ kf.swapaxes(-1, -2) * np.float32(1 / math.sqrt(8))
    e = np.exp(s - s.max(-1, keepdims=True))
    # flash kernel: the unnormalized exp rounded to bfloat16 before the product with v
    want = _rb((_rb(e) @ vf) / e.sum(-1, keepdims=True))
    r = F.scaled_dot_product_attention(q, k, v)
    assert r.dtype is bf
    np.testing.assert_array_equal(r.float()._data, want)
    # value of another head size: the math backend, in float32, rounded once
    q, k, v6 = _attn_inputs(6)
    r6 = F.scaled_dot_product_attention(q, k, v6)
    want6 = F.scaled_dot_product_attention(q.float(), k.float(), v6.float()).bfloat16()
    assert _bits(r6) == _bits(want6)
    qq = q.clone().requires_grad_()
    F.scaled_dot_product_attention(qq, k, v, is_causal=True).float().sum().backward()
    assert qq.grad.dtype is bf


def test_part4_against_torch():
    torch = pytest.importorskip("torch")
    F, G = torch.nn.functional, gpujit.nn.functional
    vals_x = [math.sin(i * 0.37) for i in range(48)]
    vals_w = [math.cos(i * 0.11) * 0.3 for i in range(128)]
    out = []
    for m, f in ((torch, F), (gpujit, G)):
        x = m.tensor(vals_x).reshape(6, 8)
        w = m.tensor(vals_w).reshape(16, 8).requires_grad_()
        with m.autocast("cpu"):
            h = f.linear(x, w)
            s = h.softmax(-1)
        (h.float().sum() + s.float().sum()).backward()
        out.append((h.view(m.int16).tolist(), s.view(m.int16).tolist(), w.grad.tolist()))
    assert out[0] == out[1]
    q, k, v = (torch.tensor(t.float().tolist()).bfloat16() for t in _attn_inputs())
    gq, gk, gv = _attn_inputs()
    m = [[True, False, True, True, False, True, True]] * 5
    for kw in ({}, {"is_causal": True}, {"scale": 0.3}):
        assert _bits(G.scaled_dot_product_attention(gq, gk, gv, **kw)) == \
            F.scaled_dot_product_attention(q, k, v, **kw).view(torch.int16).tolist()
    assert _bits(G.scaled_dot_product_attention(gq, gk, gv, attn_mask=gpujit.tensor(m))) == \
        F.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(m)).view(torch.int16).tolist()
    v6 = torch.tensor(_attn_inputs(6)[2].float().tolist()).bfloat16()
    assert _bits(G.scaled_dot_product_attention(gq, gk, _attn_inputs(6)[2])) == \
        F.scaled_dot_product_attention(q, k, v6).view(torch.int16).tolist()


def test_scripted_bfloat16_runs_op_by_op_and_right(tmp_path):
    # (the generated code passes raw arrays between nodes, which lose bfloat16: its
    # bfloat16 values stay Tensors and their nodes run eagerly (s46), with no warning)
    src = tmp_path / "bf_mm.py"
    src.write_text("import gpujit\n"
                   "@gpujit.jit.script\n"
                   "def f(a, b):\n"
                   "    return gpujit.mm(a, b) * 0.1 + a.float().sum().to(gpujit.bfloat16)\n")
    import importlib.util
    import warnings
    spec = importlib.util.spec_from_file_location("bf_mm", src)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    x, w = _mlp_inputs()
    a, b = x.bfloat16(), w.detach().t().bfloat16()
    want = gpujit.mm(a, b) * 0.1 + a.float().sum().bfloat16()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            r = m.f(a, b)
            assert r.dtype is bf and _bits(r) == _bits(want)


# ---------------------------------------------------------------- training a bfloat16 model

def test_index_add_rounds_each_add_in_turn():
    a = gpujit.ones(2, dtype=bf) * 256
    r = a.index_add(0, gpujit.tensor([0, 0, 0, 1]), gpujit.ones(4, dtype=bf))
    assert r.tolist() == [256.0, 256.0]        # (256 + 1 rounds back to 256, three times)
    b = gpujit.zeros(3, 2, dtype=bf)
    v = b._vc[0]
    b.index_add_(0, gpujit.tensor([2, 0, 2]), gpujit.full((3, 2), 0.1, dtype=bf))
    assert b._vc[0] == v + 1
    one = float(_rb(0.1))
    assert b.float().tolist() == [[one] * 2, [0.0] * 2, [float(_rb(one + one))] * 2]
    with pytest.raises(RuntimeError, match=r"index_add_\(\): self \(BFloat16\) and source "
                                           r"\(Float\) must have the same scalar type"):
        b.index_add_(0, gpujit.tensor([0]), gpujit.ones(1, 2))


def _train(m, opt_name, steps=3):
    nn, F = m.nn, m.nn.functional

    class Net(nn.Module):
        def __init__(s):
            super().__init__()
            s.emb, s.ln = nn.Embedding(11, 16), nn.LayerNorm(16)
            s.fc, s.out = nn.Linear(16, 32), nn.Linear(32, 11, bias=False)

        def forward(s, idx):
            return s.out(F.gelu(s.fc(s.ln(s.emb(idx)))))
    net = Net()
    with m.no_grad():
        for i, p in enumerate(net.parameters()):
            p.copy_(m.tensor([math.sin(j * 0.37 + i) * 0.2 for j in range(p.numel())])
                    .reshape(p.shape))
    net = net.to(m.bfloat16)
    opt = (m.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1) if opt_name == "adamw"
           else m.optim.SGD(net.parameters(), lr=0.1, momentum=0.9))
    idx, tgt = m.tensor([[1, 2, 3, 4], [5, 6, 7, 8]]), m.tensor([[2, 3, 4, 5], [6, 7, 8, 9]])
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(net(idx).view(-1, 11), tgt.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        m.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        losses.append(loss.float().item())
    return losses, net


def test_train_a_bfloat16_model():
    losses, net = _train(gpujit, "adamw")
    assert all(p.dtype is bf for p in net.parameters())
    assert losses[2] < losses[0]


def test_train_against_torch():
    torch = pytest.importorskip("torch")
    for opt in ("adamw", "sgd"):
        lt, nt = _train(torch, opt)
        lg, ng = _train(gpujit, opt)
        assert lg == lt                         # (the losses bit for bit)
        # weights within a few bfloat16 ulps: gradients are computed in float32 here,
        # through bfloat16 intermediates in torch
        for pg, pt in zip(ng.parameters(), nt.parameters()):
            np.testing.assert_allclose(pg.float().tolist(), pt.float().tolist(),
                                       rtol=2 ** -5, atol=2e-3)


def test_softmax_and_nll_loss_round_as_aten():
    v = [math.sin(i * 1.3) * 3 for i in range(240)]
    x = gpujit.tensor(v).reshape(8, 30).bfloat16()
    a = x.float()._data
    m = a.max(1, keepdims=True)
    e = np.exp(a - m)
    s = e.sum(1, keepdims=True, dtype=np.float32)
    # last dim: log_softmax keeps the sum and its log in bfloat16
    _same_values(x.log_softmax(1), _rb(a - m - _rb(np.log(_rb(s)))))
    _same_values(x.softmax(1), _rb(e / s))
    # another dim: softmax keeps exp(x - max) in bfloat16
    m0 = a.max(0, keepdims=True)
    e0 = np.exp(a - m0)
    _same_values(x.softmax(0), _rb(_rb(e0) / e0.sum(0, keepdims=True, dtype=np.float32)))
    # nll_loss adds in bfloat16 over ATen's cascade: row 0's 256 goes to the top level,
    # the seventeen 1s to the lower ones: 256 + 17 -> 272 (one at a time it stays 256)
    lp = gpujit.full((18, 2), -1.0, dtype=bf)
    lp[0, 0] = -256.0
    tgt = gpujit.zeros(18, dtype=gpujit.int64)
    F = gpujit.nn.functional
    assert F.nll_loss(lp, tgt, reduction="sum").item() == 272.0
    assert F.nll_loss(lp, tgt).item() == float(_rb(np.float32(272.0) / np.float32(18.0)))


def test_softmax_nll_against_torch():
    torch = pytest.importorskip("torch")
    v = [math.sin(i * 1.3) * 3 for i in range(240)]
    t, g = torch.tensor(v).reshape(8, 30).bfloat16(), gpujit.tensor(v).reshape(8, 30).bfloat16()
    for d in (0, 1):
        assert _bits(g.softmax(d)) == t.softmax(d).view(torch.int16).tolist()
        assert _bits(g.log_softmax(d)) == t.log_softmax(d).view(torch.int16).tolist()
    torch.manual_seed(0)
    for n in (5, 17, 40, 300):
        lt = torch.randn(n, 11).log_softmax(1).bfloat16()
        tt = torch.randint(0, 11, (n,))
        tt[3] = -100
        lg, tg = gpujit.tensor(lt.float().tolist()).bfloat16(), gpujit.tensor(tt.tolist())
        for red in ("mean", "sum"):
            assert gpujit.nn.functional.nll_loss(lg, tg, reduction=red).float().item() == \
                torch.nn.functional.nll_loss(lt, tt, reduction=red).float().item()


# torch 2.13's bits under manual_seed(3) (CI has no torch: written down)
_RANDN20 = [-16995, 16056, -16568, 15762, 16006, 16238, -16636, -16429, 16262, 16134, -16853,
            15705, 16144, 16400, 16367, -16487, 16255, 16107, 16412, -16874]
_RAND20 = [15244, 15832, 16018, 15581, 16113, 15734, 16198, 16190, 16152, 16227, 16103, 16205,
           15897, 16078, 15710, 16107, 15924, 16243, 16217, 16224]


def test_random_streams_are_atens_bfloat16_ones():
    # (randn of 16 or more: ATen's reduced-float normal_fill, each block's uniforms drawn
    # in turn, Box-Muller in float, rounded; rand: float uniforms rounded, 1.0 -> 0)
    gpujit.manual_seed(3)
    assert _bits(gpujit.randn(20, dtype=bf)) == _RANDN20
    gpujit.manual_seed(3)
    assert _bits(gpujit.rand(20, dtype=bf)) == _RAND20
    gpujit.manual_seed(3)
    assert _bits(gpujit.randn_like(gpujit.zeros(20, dtype=bf))) == _RANDN20
    gpujit.manual_seed(2)
    assert gpujit.rand(100000, dtype=bf).max().item() < 1.0


def test_random_streams_against_torch():
    torch = pytest.importorskip("torch")
    for n in (1, 5, 15, 16, 17, 33, 100):
        for f in ("randn", "rand"):
            torch.manual_seed(4)
            gpujit.manual_seed(4)
            assert _bits(getattr(gpujit, f)(n, dtype=bf)) == \
                getattr(torch, f)(n, dtype=torch.bfloat16).view(torch.int16).tolist()
    torch.manual_seed(1)
    gpujit.manual_seed(1)
    t, g = torch.ones(40, dtype=torch.bfloat16), gpujit.ones(40, dtype=bf)
    assert _bits(gpujit.randn_like(g)) == torch.randn_like(t).view(torch.int16).tolist()
    assert _bits(gpujit.rand_like(g)) == torch.rand_like(t).view(torch.int16).tolist()


def test_traced_bfloat16_module_runs_saves_and_loads():
    class M(gpujit.nn.Module):
        def __init__(s):
            super().__init__()
            s.lin = gpujit.nn.Linear(4, 3)

        def forward(s, x):
            return gpujit.nn.functional.gelu(s.lin(x)).softmax(-1)
    m = M().bfloat16()
    x = gpujit.full((2, 4), 0.3, dtype=bf)
    t = gpujit.jit.trace(m, x)
    assert "BFloat16(2, 3" in str(t.graph)
    for _ in range(3):
        r = t(x)
    assert r.dtype is bf and _bits(r) == _bits(m(x))
    buf = io.BytesIO()
    gpujit.jit.save(t, buf)
    buf.seek(0)
    t2 = gpujit.jit.load(buf)
    assert _bits(t2(x)) == _bits(r)
    p = dict(t2.named_parameters())["lin.weight"]
    assert p.dtype is bf and _bits(p) == _bits(m.lin.weight)


def test_more_ops_in_bfloat16():
    v = [math.sin(i * 1.3) * 3 for i in range(240)]
    x = gpujit.tensor(v).reshape(8, 30).bfloat16()
    y = gpujit.tensor(v[::-1]).reshape(8, 30).bfloat16()
    a, b = x.float()._data, y.float()._data
    F = gpujit.nn.functional
    # mse_loss(reduction='none'): the difference rounded, then its square
    _same_values(F.mse_loss(x, y, reduction="none"), _rb(_rb(a - b) ** 2))
    # prod: rounded after each factor
    want = a[:, 0]
    for j in range(1, 5):
        want = _rb(want * a[:, j])
    _same_values(x[:, :5].prod(1), want)
    _same_values(x.var(1), _rb(a.var(1, ddof=1)))
    assert x.triu().dtype is bf and _bits(x.triu()) == _bits(x.float().triu().bfloat16())
    assert gpujit.unique(x[0].round()).dtype is bf
    _same_values(gpujit.nn.functional.pad(x, (1, 2), value=1 / 3)[:, 0], _rb([1 / 3] * 8))


def test_more_ops_against_torch():
    torch = pytest.importorskip("torch")
    v = [math.sin(i * 1.3) * 3 for i in range(240)]
    fs = [lambda m, F, x, y: x.var(1), lambda m, F, x, y: x.std(0),
          lambda m, F, x, y: x.norm(dim=1), lambda m, F, x, y: m.linalg.vector_norm(x, 1, dim=1),
          lambda m, F, x, y: F.mse_loss(x, y), lambda m, F, x, y: F.mse_loss(x, y, reduction="none"),
          lambda m, F, x, y: F.l1_loss(x, y), lambda m, F, x, y: F.smooth_l1_loss(x, y),
          lambda m, F, x, y: x.logsumexp(1), lambda m, F, x, y: x[:, :5].prod(1),
          lambda m, F, x, y: x[:2, :6].prod(), lambda m, F, x, y: F.normalize(x, dim=1),
          lambda m, F, x, y: m.einsum("ij,kj->ik", x, y), lambda m, F, x, y: m.outer(x[0], y[0]),
          lambda m, F, x, y: x.cumsum(0), lambda m, F, x, y: x.triu(1)]
    t, tt = torch.tensor(v).reshape(8, 30).bfloat16(), torch.tensor(v[::-1]).reshape(8, 30).bfloat16()
    g, gg = gpujit.tensor(v).reshape(8, 30).bfloat16(), gpujit.tensor(v[::-1]).reshape(8, 30).bfloat16()
    for f in fs:
        assert _bits(f(gpujit, gpujit.nn.functional, g, gg)) == \
            f(torch, torch.nn.functional, t, tt).view(torch.int16).tolist()


def test_is_bf16_supported():
    assert gpujit.cuda.is_bf16_supported() is gpujit.cuda.is_available()


@pytest.mark.cuda
def test_bfloat16_on_cuda_matches_the_cpu():
    """The CuPy paths (rounding, bits, factories, ops, modules, save/load) against the CPU;
    the fake-GPU tier (ci/fake_gpu.sh) runs it without a GPU."""
    assert gpujit.cuda.is_bf16_supported()
    vals = [1.0, 2.5, 1.00390625, -0.0, 3.14159, 1e-40, 7.77]
    xc = gpujit.tensor(vals).bfloat16()
    xg = gpujit.tensor(vals, device="cuda").bfloat16()
    assert xg.device.type == "cuda" and xg.dtype is bf
    assert _bits(xg.cpu()) == _bits(xc)
    assert _bits((xg * 0.1 + xg.exp()).cpu()) == _bits(xc * 0.1 + xc.exp())
    assert _bits(xg.sum().cpu()) == _bits(xc.sum())
    m = gpujit.nn.Linear(7, 3).bfloat16()
    mg = gpujit.nn.Linear(7, 3).cuda().bfloat16()
    mg.load_state_dict(m.state_dict())
    h = mg(xg[None])
    assert h.dtype is bf and _bits(h.cpu()) == _bits(m(xc[None]))
    h.float().sum().backward()
    assert mg.weight.grad.dtype is bf and mg.weight.grad.device.type == "cuda"
    assert gpujit.randn(20, dtype=bf, device="cuda").dtype is bf
    u = gpujit.rand(1000, dtype=bf, device="cuda")
    assert u.dtype is bf and u.max().item() < 1.0
    buf = io.BytesIO()
    gpujit.save({"x": xg}, buf)
    buf.seek(0)
    back = gpujit.load(buf)["x"]
    assert back.device.type == "cuda" and _bits(back.cpu()) == _bits(xc)
    with gpujit.autocast("cuda", dtype=bf):
        assert mg(xg[None].float()).dtype is bf


def test_vision_and_selection_ops_in_bfloat16():
    v = [math.sin(i * 1.3) * 3 for i in range(384)]
    x = gpujit.tensor(v).reshape(2, 3, 8, 8).bfloat16()
    a = x.float()._data
    F = gpujit.nn.functional
    mp = F.max_pool2d(x, 2)
    assert mp.dtype is bf and mp.float().tolist() == F.max_pool2d(x.float(), 2).tolist()
    _same_values(F.avg_pool2d(x, 2), _rb(a.reshape(2, 3, 4, 2, 4, 2).mean((3, 5))))
    _same_values(F.interpolate(x, scale_factor=2, mode="nearest"),
                 a.repeat(2, axis=2).repeat(2, axis=3))
    y = x.reshape(6, 64)
    vals, idx = y.median(1)
    assert vals.dtype is bf and idx.dtype is gpujit.int64
    order = np.take_along_axis(y.float()._data, y.argsort(1)._data, 1)
    assert (np.diff(order, axis=1) >= 0).all()
    _same_values(y // 1.5, _rb(np.floor(y.float()._data / np.float32(1.5))))


def test_vision_and_selection_ops_against_torch():
    torch = pytest.importorskip("torch")
    v = [math.sin(i * 1.3) * 3 for i in range(384)]
    fs = [lambda m, F, x: F.batch_norm(x, m.zeros(3).bfloat16(), m.ones(3).bfloat16(),
                                       m.ones(3).bfloat16() * 0.5, m.ones(3).bfloat16() * 0.5),
          lambda m, F, x: F.group_norm(x, 3), lambda m, F, x: F.max_pool2d(x, 2),
          lambda m, F, x: F.avg_pool2d(x, 2), lambda m, F, x: F.adaptive_avg_pool2d(x, 1),
          lambda m, F, x: F.interpolate(x, scale_factor=2, mode="nearest"),
          lambda m, F, x: F.interpolate(x, scale_factor=2, mode="bilinear"),
          lambda m, F, x: F.unfold(x, 2), lambda m, F, x: (x / 4).erfinv(),
          lambda m, F, x: x.reshape(6, 64).median(1)[0],
          lambda m, F, x: x.reshape(6, 64).cummax(1)[0], lambda m, F, x: x // 1.5,
          lambda m, F, x: F.kl_div(F.log_softmax(x, 1), F.softmax(x.flip(1), 1),
                                   reduction="batchmean"),
          lambda m, F, x: m.addmv(x.reshape(6, 64)[:, 0], x.reshape(6, 64), x.reshape(6, 64)[0])]
    t, g = torch.tensor(v).reshape(2, 3, 8, 8).bfloat16(), gpujit.tensor(v).reshape(2, 3, 8, 8).bfloat16()
    for f in fs:
        assert _bits(f(gpujit, gpujit.nn.functional, g)) == \
            f(torch, torch.nn.functional, t).view(torch.int16).tolist()


def test_copy_nan_bits_and_index_put_dtype_error():
    y = gpujit.zeros(3, dtype=bf)
    y.copy_(gpujit.tensor([1.0, math.nan, 0.1]))
    assert _bits(y) == _ref_bits([1.0, math.nan, 0.1], nan=0xFFFF)   # (as x.to(bfloat16))
    x = gpujit.zeros(2, 3, dtype=bf)
    x[0] = gpujit.tensor([0.1, 0.2, 0.3])          # (select + copy_: converts)
    assert _bits(x)[0] == _ref_bits([0.1, 0.2, 0.3], nan=0xFFFF)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination "
                                           "dtypes match, got BFloat16 for the destination "
                                           "and Float for the source."):
        x[gpujit.tensor([1])] = gpujit.tensor([0.1, 0.2, 0.3])


def test_dlpack_export_refuses_bfloat16():
    x = gpujit.tensor([1.5], dtype=bf)
    with pytest.raises(BufferError, match="DLPack cannot export it as bfloat16"):
        x.__dlpack__()
    with pytest.raises(BufferError, match="DLPack cannot export it as bfloat16"):
        gpujit.utils.dlpack.to_dlpack(x)


def test_torch_bfloat16_tensors_come_in():
    torch = pytest.importorskip("torch")
    t = torch.tensor([1.5, 2.25, float("nan"), -0.0, 3.14159], dtype=torch.bfloat16)
    for f in (gpujit.tensor, gpujit.from_dlpack, gpujit.as_tensor):
        g = f(t)
        assert g.dtype is bf and _bits(g) == t.view(torch.int16).tolist()
    with pytest.raises(BufferError):
        torch.from_dlpack(gpujit.tensor([1.5], dtype=bf))   # (not a float32 in disguise)


def test_legacy_type_strings_and_storage_class():
    x = gpujit.ones(2, dtype=bf)
    assert x.type() == "torch.BFloat16Tensor"
    assert gpujit.ones(2).type("torch.BFloat16Tensor").dtype is bf
    assert x.storage_type() is gpujit.BFloat16Storage


def test_linspace_in_bfloat16_arithmetic():
    # (ATen's kernel: step = (end - start) / (steps - 1) in bfloat16, each value
    # start + step * i or end - step * (steps - i - 1), every operation rounded)
    r = gpujit.linspace(0, 1, 7, dtype=bf)
    step = float(_rb(_rb(1.0) / np.float32(6)))
    want = [float(_rb(step * i)) if i < 3 else float(_rb(1.0 - float(_rb(step * (6 - i)))))
            for i in range(7)]
    assert r.dtype is bf and r.float().tolist() == want
    assert _bits(r)[4] == 16170            # (0.6640625: the float32 formula gives 16171)


def test_linspace_against_torch():
    torch = pytest.importorskip("torch")
    for a, b, n in ((0, 1, 7), (0, 1, 100), (-3.3, 7.7, 65), (2, -5, 200), (0, 1000, 131),
                    (1, 1, 5), (0, 1, 1), (0, 1, 0), (-1, 1, 257)):
        assert _bits(gpujit.linspace(a, b, n, dtype=bf)) == \
            torch.linspace(a, b, n, dtype=torch.bfloat16).view(torch.int16).tolist()


def test_rms_norm_reduced_precision_as_atens():
    # (upcast to float; with a weight of the input's dtype ATen's fused kernel multiplies
    # in float and rounds once -- float16 as well)
    v = [math.sin(i * 1.3) * 3 for i in range(6 * 64)]
    w = [1 + 0.01 * i for i in range(64)]
    for dt in (bf, gpujit.float16):
        x, g = gpujit.tensor(v).reshape(6, 64).to(dt), gpujit.tensor(w).to(dt)
        a, b = x.float()._data, g.float()._data
        rr = 1 / np.sqrt((a * a).mean(-1, keepdims=True) + np.float32(1.1920928955078125e-07))
        want = (a * rr.astype(np.float32) * b)
        got = gpujit.nn.functional.rms_norm(x, (64,), g).float()._data
        np.testing.assert_allclose(got, want, rtol=2 ** -7 if dt is bf else 2 ** -10)
        assert gpujit.nn.functional.rms_norm(x, (64,), g).dtype is dt


def test_rms_norm_against_torch():
    torch = pytest.importorskip("torch")
    v = [math.sin(i * 1.3) * 3 for i in range(6 * 64)]
    w = [1 + 0.01 * i for i in range(64)]
    for name in ("bfloat16", "float16"):
        t, tw = torch.tensor(v).reshape(6, 64).to(getattr(torch, name)), \
            torch.tensor(w).to(getattr(torch, name))
        g, gw = gpujit.tensor(v).reshape(6, 64).to(getattr(gpujit, name)), \
            gpujit.tensor(w).to(getattr(gpujit, name))
        for args in ((), (None, 1e-6)):
            assert gpujit.nn.functional.rms_norm(g, (64,), *args).float().tolist() == \
                torch.nn.functional.rms_norm(t, (64,), *args).float().tolist()
        assert gpujit.nn.functional.rms_norm(g, (64,), gw).float().tolist() == \
            torch.nn.functional.rms_norm(t, (64,), tw).float().tolist()


def test_in_place_random_fills_of_bfloat16():
    gpujit.manual_seed(3)
    x = gpujit.empty(20, dtype=bf)
    v = x._vc[0]
    assert x.normal_() is x and x._vc[0] == v + 1
    assert _bits(x) == _RANDN20                      # (randn's stream: the same fill)
    w = gpujit.empty(16, 8, dtype=bf)
    gpujit.nn.init.normal_(w, std=0.02)
    assert w.dtype is bf and abs(w.float().std().item() - 0.02) < 0.01
    gpujit.nn.init.uniform_(w, -0.1, 0.1)
    assert w.dtype is bf and w.abs().max().item() <= 0.1


def test_in_place_random_fills_against_torch():
    torch = pytest.importorskip("torch")
    for n in (5, 20, 100):
        for kind, args in (("normal_", (0.0, 0.02)), ("normal_", (1.5, 0.3)),
                           ("uniform_", (-0.1, 0.1))):
            torch.manual_seed(7)
            gpujit.manual_seed(7)
            t = getattr(torch.empty(n, dtype=torch.bfloat16), kind)(*args)
            g = getattr(gpujit.empty(n, dtype=bf), kind)(*args)
            assert _bits(g) == t.view(torch.int16).tolist()
    torch.manual_seed(3)
    gpujit.manual_seed(3)
    t, g = torch.empty(16, 8, dtype=torch.bfloat16), gpujit.empty(16, 8, dtype=bf)
    torch.nn.init.xavier_uniform_(t)
    gpujit.nn.init.xavier_uniform_(g)
    assert _bits(g) == t.view(torch.int16).tolist()
