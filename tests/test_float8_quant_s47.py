"""Session 47 (b): fake quantization (ops/fake_quantize.py) and float8 dtypes, compared
with NumPy references written here and, where torch is installed, with torch 2.13."""
import numpy as np
import pytest

import gpujit

try:
    import torch
except ImportError:         # (CI has no torch: the NumPy references still run)
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


# ------------------------------------------------------------------ fake quantization

def _fq_ref(x, scale, zp, lo, hi):
    """NumPy reference of ATen's per-tensor kernel for float32 x."""
    inv = np.float32(1) / np.float32(scale)
    q = np.rint(x.astype(np.float32) * inv) + np.float32(zp)
    c = np.fmin(np.fmax(q.astype(np.float64), lo), hi)
    return (c - zp).astype(np.float32) * np.float32(scale), (q >= lo) & (q <= hi)


def test_fake_quantize_per_tensor_values_and_straight_through_grad():
    x = np.array([-3., -1.26, -0.25, 0., 0.24999, 0.25, 0.75, 1.26, 2.5, 10., np.nan, np.inf,
                  -np.inf, 1e30], np.float32)
    t = gpujit.tensor(x, requires_grad=True)
    y = gpujit.fake_quantize_per_tensor_affine(t, 0.5, 3, 0, 10)
    ref, mask = _fq_ref(x, 0.5, 3, 0, 10)
    # (ties to even: 0.25 / 0.5 = 0.5 -> 0; NaN -> quant_min, inf -> quant_max)
    assert y.detach().numpy().tolist() == ref.tolist() == [
        -1.5, -1.5, 0., 0., 0., 0., 1., 1.5, 2.5, 3.5, -1.5, 3.5, -1.5, 3.5]
    assert type(y.grad_fn).__name__ == "FakeQuantizePerTensorAffineCachemaskBackward0"
    y.backward(gpujit.arange(14.))
    assert t.grad.numpy().tolist() == np.where(mask, np.arange(14.), 0).tolist()


def test_fake_quantize_large_zero_point_rounds_in_float32():
    # zero_point + nearbyint(x * inv_scale) is a float32 sum in ATen's kernel
    x = gpujit.tensor([0.3, 1., 2., 3., 100.7])
    got = gpujit.fake_quantize_per_tensor_affine(x, 1.0, 2 ** 25 + 1, 0, 2 ** 26)
    assert got.tolist() == [-1., -1., -1., 3., 99.]
    got64 = gpujit.fake_quantize_per_tensor_affine(x.double(), 1.0, 2 ** 25 + 1, 0, 2 ** 26)
    assert got64.tolist() == [0., 1., 2., 3., 101.]


def test_fake_quantize_per_channel_int_and_float_zero_point():
    w = gpujit.tensor([[0.26, -1.3, 100.], [0.26, -1.3, np.nan]])
    s = gpujit.tensor([0.5, 0.1])
    y = gpujit.fake_quantize_per_channel_affine(w, s, gpujit.tensor([0, 1], dtype=gpujit.int32),
                                                0, -128, 127)
    row1 = ((np.clip(np.rint(np.float32([0.26, -1.3]) / np.float32(0.1)) + 1, -128, 127) - 1)
            * np.float64(np.float32(0.1))).astype(np.float32)
    assert y.numpy()[0].tolist() == [0.5, -1.5, 63.5]
    # (NaN: the int64 conversion's INT64_MIN, so quant_min)
    assert y.numpy()[1].tolist() == row1.tolist() + [np.float32((-128 - 1) * np.float32(0.1))]
    yf = gpujit.fake_quantize_per_channel_affine(w, s, gpujit.tensor([0.3, 1.6]), 0, -128, 127)
    zp = np.float32(1.6)
    q = np.rint(np.float32(-1.3) * (np.float32(1) / np.float32(0.1)) + zp)
    assert yf.numpy()[1, 1] == np.float32((q - np.float64(zp)) * np.float64(np.float32(0.1)))
    # (lrint's integer has no sign: -0.1 quantizes to +0, not -0)
    z0 = gpujit.fake_quantize_per_channel_affine(gpujit.tensor([[-0.1]]), gpujit.tensor([1.]),
                                                 gpujit.tensor([0.]), 0, -5, 5)
    assert np.signbit(z0.numpy()).tolist() == [[False]]


def test_fake_quantize_errors_in_torch_words():
    x = gpujit.tensor([1., 2.])
    with pytest.raises(RuntimeError, match="`quant_min` should be less than or         equal"):
        gpujit.fake_quantize_per_tensor_affine(x, 0.5, 3, 10, 0)
    with pytest.raises(RuntimeError, match="`zero_point` must be between"):
        gpujit.fake_quantize_per_tensor_affine(x, 0.5, 11, 0, 10)
    with pytest.raises(NotImplementedError, match="\"fake_quantize_tensor_cachemask_kernel_"
                                                  "type_handling\" not implemented for 'Int'"):
        gpujit.fake_quantize_per_tensor_affine(x.int(), 0.5, 1, 0, 10)
    w = x.reshape(1, 2)
    s, z = gpujit.tensor([0.5]), gpujit.tensor([0], dtype=gpujit.int32)
    with pytest.raises(RuntimeError, match="Scale must be Float or BFloat16, found Double"):
        gpujit.fake_quantize_per_channel_affine(w, s.double(), z.long(), 0, -5, 5)
    with pytest.raises(RuntimeError, match="Zero-point must be Int32, Float or Half, found Long"):
        gpujit.fake_quantize_per_channel_affine(w, s, z.long(), 0, -5, 5)
    with pytest.raises(RuntimeError, match="not consistent with input tensor"):
        gpujit.fake_quantize_per_channel_affine(w, s, z, 1, -5, 5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        gpujit.fake_quantize_per_channel_affine(w, s, z, 2, -5, 5)
    with pytest.raises(RuntimeError, match="`axis` must be between 0 and number"):
        gpujit.fake_quantize_per_channel_affine(w, gpujit.ones(2), gpujit.zeros(2, dtype=gpujit.int32),
                                                -1, -5, 5)


def test_fake_quantize_tensor_qparams_and_cachemask_ops():
    x = gpujit.tensor([0.3, 1.7, -2.2, 8.0], requires_grad=True)
    y = gpujit.fake_quantize_per_tensor_affine(x, gpujit.tensor([0.5]), gpujit.tensor([1.7]), -5, 5)
    assert y.tolist() == [0.5, 1.5, -2.0, 2.0]      # (a floating zero point truncates)
    assert type(y.grad_fn).__name__ == "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0"
    r = gpujit._fake_quantize_per_tensor_affine_cachemask_tensor_qparams(
        x, gpujit.tensor([0.5]), gpujit.tensor([1]), gpujit.tensor([0]), -5, 5)
    assert type(r).__name__ == "_fake_quantize_per_tensor_affine_cachemask_tensor_qparams"
    assert r.output.tolist() == x.tolist() and r.mask.all().item()      # (disabled)
    out, mask = gpujit.ops.aten.fake_quantize_per_tensor_affine_cachemask(x, 0.5, 1, -5, 5)
    assert mask.tolist() == [True, True, True, False] and not mask.requires_grad
    g = gpujit.ops.aten.fake_quantize_per_tensor_affine_cachemask_backward(gpujit.ones(4), mask)
    assert g.tolist() == [1., 1., 1., 0.]


def test_fake_quantize_scripted_and_traced():
    def f(x, s, z):
        return (gpujit.fake_quantize_per_tensor_affine(x, 0.5, 1, -5, 5)
                + gpujit.fake_quantize_per_channel_affine(x, s, z, 1, -128, 127))
    sf = gpujit.jit.script(f)
    assert "aten::fake_quantize_per_channel_affine(%x.1, %s.1, %z.1" in str(sf.graph)
    x = gpujit.tensor([[0.3, -1.7, 9.0]], requires_grad=True)
    s, z = gpujit.tensor([0.5, 0.1, 1.0]), gpujit.tensor([0, 1, 2], dtype=gpujit.int32)
    for _ in range(3):
        y = sf(x, s, z)
    assert y.tolist() == f(x, s, z).tolist() == [[1.0, -3.200000047683716, 11.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[2., 2., 1.]]
    tr = gpujit.jit.trace(f, (x, s, z))
    assert "aten::fake_quantize_per_tensor_affine" in str(tr.graph)


@needs_torch
@pytest.mark.parametrize("dt", ["float32", "float64", "float16"])
def test_fake_quantize_bits_match_torch(dt):
    rng = np.random.default_rng(1)
    special = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 0., -0., 0.25, 0.75, 2.5],
                       np.float32)
    with np.errstate(over="ignore"):
        x = np.concatenate([(rng.standard_normal(1000) * 5).astype(np.float32),
                            special]).astype(dt)
    for sc, zp, lo, hi in [(0.1, 5, -128, 127), (0.37, 0, 0, 255), (1e-3, 2 ** 25 + 1, 0, 2 ** 26),
                           (0.0, 0, -5, 5), (-0.5, 1, -5, 5), (0.013, 0, -2 ** 31, 2 ** 31 - 1)]:
        a = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), sc, zp, lo, hi).numpy()
        b = gpujit.fake_quantize_per_tensor_affine(gpujit.from_numpy(x), sc, zp, lo, hi).numpy()
        assert a.dtype == b.dtype and a.view(np.uint8).tolist() == b.view(np.uint8).tolist()
    w = x[:1000].reshape(4, 250)
    s = np.array([0.1, 0.007, 3.0, 0.5], np.float32)
    for z in (np.array([0, 1, -1, 3], np.int32), np.array([0.3, 1.6, -1.2, 0], np.float32),
              np.array([0.3, 1.6, -1.2, 0], np.float16)):
        for axis, ww in ((0, w), (1, w.T.copy())):
            a = torch.fake_quantize_per_channel_affine(torch.from_numpy(ww), torch.from_numpy(s),
                                                       torch.from_numpy(z), axis, -128, 127)
            b = gpujit.fake_quantize_per_channel_affine(gpujit.from_numpy(ww), gpujit.from_numpy(s),
                                                        gpujit.from_numpy(z), axis, -128, 127)
            assert a.numpy().view(np.uint8).tolist() == b.numpy().view(np.uint8).tolist()
            assert a.stride() == b.stride()


def test_fake_quantize_bfloat16_computes_in_float():
    x = gpujit.tensor([0.3, 1.7, -2.2, 8.0]).bfloat16()
    for y in (gpujit.fake_quantize_per_tensor_affine(x, 0.1, 0, -128, 127),
              gpujit.fake_quantize_per_tensor_affine(x, gpujit.tensor([0.1]), gpujit.tensor([0]),
                                                     -128, 127)):
        ref = _fq_ref(x.float().numpy(), 0.1, 0, -128, 127)[0]
        assert y.dtype is gpujit.bfloat16 and y.tolist() == gpujit.tensor(ref).bfloat16().tolist()


@needs_torch
def test_fake_quantize_bfloat16_matches_torch():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(2000) * 5).astype(np.float32)
    tb, gb = torch.from_numpy(x).bfloat16(), gpujit.from_numpy(x).bfloat16()
    a = torch.fake_quantize_per_tensor_affine(tb, 0.013, 3, 0, 255)
    b = gpujit.fake_quantize_per_tensor_affine(gb, 0.013, 3, 0, 255)
    assert a.view(torch.int16).tolist() == b.view(gpujit.int16).tolist()
    s, z = np.array([0.1, 0.007], np.float32), np.array([0.3, -1.2], np.float32)
    a = torch.fake_quantize_per_channel_affine(tb.reshape(2, 1000), torch.from_numpy(s),
                                               torch.from_numpy(z), 0, -128, 127)
    b = gpujit.fake_quantize_per_channel_affine(gb.reshape(2, 1000), gpujit.from_numpy(s),
                                                gpujit.from_numpy(z), 0, -128, 127)
    assert a.view(torch.int16).tolist() == b.view(gpujit.int16).tolist()


@needs_torch
def test_fake_quantize_layout_and_grad_match_torch():
    for lib in (torch, gpujit):
        t = lib.arange(12.).reshape(3, 4).t()
        assert lib.fake_quantize_per_tensor_affine(t, 0.5, 1, -5, 5).stride() == (1, 4)
        x = lib.tensor([[-3., 0.2, 0.7, 8., float("nan")]], requires_grad=True)
        y = lib.fake_quantize_per_channel_affine(x, lib.tensor([0.5]),
                                                 lib.tensor([1], dtype=lib.int32), 0, -5, 5)
        assert type(y.grad_fn).__name__ == "FakeQuantizePerChannelAffineCachemaskBackward0"
        y.sum().backward()
        assert x.grad.tolist() == [[1., 1., 1., 0., 0.]]


def test_fused_moving_avg_obs_fake_quant_observes_and_quantizes():
    x = gpujit.tensor([[0.5, -3.0, 9.0]], requires_grad=True)
    rmin, rmax = gpujit.tensor(-1.0), gpujit.tensor(1.0)
    s, z = gpujit.ones(1), gpujit.zeros(1, dtype=gpujit.int32)
    y = gpujit.fused_moving_avg_obs_fake_quant(x, gpujit.tensor([1]), gpujit.tensor([1]), rmin,
                                               rmax, s, z, 0.01, 0, 255, 0)
    lo = np.float32(-1) + np.float32(0.01) * (np.float32(-3) - np.float32(-1))
    hi = np.float32(1) + np.float32(0.01) * (np.float32(9) - np.float32(1))
    assert (rmin.item(), rmax.item()) == (float(lo), float(hi))
    scale = (float(hi) - float(lo)) / 255
    zp = int(np.rint(0 - float(lo) / scale))
    assert s.tolist() == [float(np.float32(scale))] and z.tolist() == [zp]
    ref, mask = _fq_ref(np.float32([0.5, -3.0, 9.0]), float(np.float32(scale)), zp, 0, 255)
    assert y.tolist() == [ref.tolist()]
    assert type(y.grad_fn).__name__ == "FusedMovingAvgObsFqHelperBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [mask.astype(float).tolist()] == [[1., 0., 0.]]
    # (observer off, fake quant off: self and a straight gradient)
    out = gpujit.fused_moving_avg_obs_fake_quant(x, gpujit.tensor([0]), gpujit.tensor([0]), rmin,
                                                 rmax, s, z, 0.01, 0, 255, 0)
    assert out.tolist() == x.tolist() and rmin.item() == float(lo)
    with pytest.raises(RuntimeError, match="ch_axis must be < self.dim()"):
        gpujit.fused_moving_avg_obs_fake_quant(x, gpujit.tensor([1]), gpujit.tensor([1]), rmin,
                                               rmax, s, z, 0.01, 0, 255, 2)


@needs_torch
@pytest.mark.parametrize("kw", [dict(), dict(sym=True, qmin=-128, qmax=127), dict(obs=0),
                                dict(fq=0), dict(start=(0.0, 0.0), obs=0),
                                dict(start=(1e-6, 2e-6), obs=0), dict(per_row=True),
                                dict(per_row=True, sym=True, qmin=-128, qmax=127)])
def test_fused_moving_avg_obs_fake_quant_matches_torch(kw):
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32) * 3
    got = []
    for lib in (torch, gpujit):
        per_row = kw.get("per_row", False)
        a, b = kw.get("start", (float("inf"), float("-inf")))
        shape = (4,) if per_row else ()
        rmin, rmax = lib.full(shape, a), lib.full(shape, b)
        s, z = lib.ones(shape or (1,)), lib.zeros(shape or (1,), dtype=lib.int32)
        for step in range(3):
            xs = lib.tensor(x * (1 + step))
            out = lib.fused_moving_avg_obs_fake_quant(
                xs, lib.tensor([kw.get("obs", 1)]), lib.tensor([kw.get("fq", 1)]), rmin, rmax, s,
                z, 0.01, kw.get("qmin", 0), kw.get("qmax", 255), 0, per_row, kw.get("sym", False))
        got.append([t.numpy().tolist() for t in (out, rmin, rmax, s, z)])
    assert got[0] == got[1]


# ------------------------------------------------------------------ float8 dtypes

F8_NAMES = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
            "float8_e8m0fnu"]
# (sign-magnitude formats: exponent bits, mantissa bits, bias, finite maximum, overflow)
_FORMATS = {"float8_e4m3fn": (4, 3, 7, 448.0, "saturate"),
            "float8_e5m2": (5, 2, 15, 57344.0, "inf"),
            "float8_e4m3fnuz": (4, 3, 8, 240.0, "nan"),
            "float8_e5m2fnuz": (5, 2, 16, 57344.0, "nan")}


def _ref_value(name, code):
    """The value of a float8 code, from the format's definition (plain Python floats)."""
    if name == "float8_e8m0fnu":
        return float("nan") if code == 255 else 2.0 ** (code - 127)
    e_bits, m_bits, bias, _, _ = _FORMATS[name]
    sign, e, m = code >> 7, (code >> m_bits) & ((1 << e_bits) - 1), code & ((1 << m_bits) - 1)
    if name.endswith("fnuz") and code == 0x80:
        return float("nan")
    if name == "float8_e4m3fn" and e == 15 and m == 7:
        return float("nan")
    if name == "float8_e5m2" and e == 31:
        return float("nan") if m else (-1) ** sign * float("inf")
    v = (m / 2 ** m_bits) * 2.0 ** (1 - bias) if e == 0 else (1 + m / 2 ** m_bits) * 2.0 ** (e - bias)
    return -v if sign else v


def _ref_code(name, x):
    """The code nearest to float x, ties to the even code, by brute force over the codes."""
    if name == "float8_e8m0fnu":
        return None
    _, _, _, hi, overflow = _FORMATS[name]
    if x != x:
        return 0x80 if name.endswith("fnuz") else 0x7F | (0x80 if np.signbit(x) else 0)
    codes = [c for c in range(128) if _ref_value(name, c) == _ref_value(name, c)
             and abs(_ref_value(name, c)) != float("inf")]
    a = abs(x)
    step = _ref_value(name, codes[-1]) - _ref_value(name, codes[-2])
    if a >= hi + step / 2 and not (a == hi + step / 2 and codes[-1] % 2 == 0):
        c = {"saturate": codes[-1], "inf": 0x7C, "nan": 0x80}[overflow]
    else:
        c = min(codes, key=lambda k: (abs(_ref_value(name, k) - a), k % 2))
    if overflow == "nan" and (c == 0x80 or c == 0):
        return c
    return c | 0x80 if np.signbit(x) else c


@pytest.mark.parametrize("name", F8_NAMES)
def test_float8_all_codes_decode(name):
    d = getattr(gpujit, name)
    got = gpujit.arange(256, dtype=gpujit.uint8).view(d).float().tolist()
    want = [_ref_value(name, c) for c in range(256)]
    assert [g if g == g else "nan" for g in got] == [w if w == w else "nan" for w in want]


@pytest.mark.parametrize("name", [n for n in F8_NAMES if n != "float8_e8m0fnu"])
def test_float8_encode_nearest_ties_even(name):
    d = getattr(gpujit, name)
    vals = [_ref_value(name, c) for c in range(128) if _ref_value(name, c) == _ref_value(name, c)]
    xs = [0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e-9, -1e-9, 1e30, 470.0,
          479.9, 480.0, 500.0, 60000.0, 61440.0, 1.3, -2.7, 3.3]
    finite = [v for v in vals if abs(v) != float("inf")]
    xs += [(a + b) / 2 for a, b in zip(finite, finite[1:])]     # (every tie)
    xs += [-x for x in xs]
    xs = [float(np.float32(x)) for x in xs]
    got = gpujit.tensor(xs).to(d).view(gpujit.uint8).tolist()
    assert got == [_ref_code(name, x) for x in xs]


def test_float8_e8m0_rounding_and_facts():
    d = gpujit.float8_e8m0fnu
    got = gpujit.tensor([0., 1., -1.5, 500., 1e6, float("inf"), float("nan"), 1e-9, 3.3]).to(d)
    assert got.view(gpujit.uint8).tolist() == [0, 127, 128, 136, 147, 255, 255, 97, 129]
    assert not d.is_signed and d.itemsize == 1 and d.is_floating_point
    fi = gpujit.finfo(d)
    assert (fi.max, fi.min, fi.eps, fi.tiny, fi.bits) == (2.0 ** 127, 2.0 ** -127, 1.0, 2.0 ** -127, 8)
    assert gpujit.finfo(gpujit.float8_e4m3fn).max == 448.0


def test_float8_ops_and_refusals():
    d = gpujit.float8_e4m3fn
    x = gpujit.tensor([1.5, -2.0, 300.], dtype=d)
    assert x.view(gpujit.uint8).tolist() == [60, 192, 121] and x.element_size() == 1
    assert (x * x).float().tolist() == [2.25, 4.0, 448.0]       # (saturated)
    assert (x == x).tolist() == [True] * 3 and x.abs().float().tolist() == [1.5, 2.0, 288.0]
    assert gpujit.cat([x, x[:1]]).dtype is d and x[1].item() == -2.0
    assert gpujit.ones(2, dtype=d).view(gpujit.uint8).tolist() == [56, 56]
    assert gpujit.full((2,), 2.5, dtype=d).float().tolist() == [2.5, 2.5]
    y = x.clone()
    y[0] = 3.3
    y.view(gpujit.uint8)[2] = 56        # (the bits are shared with the uint8 view)
    assert y.float().tolist() == [3.25, -2.0, 1.0]
    assert repr(x) == "tensor([  1.5000,  -2.0000, 288.0000], dtype=gpujit.float8_e4m3fn)"
    with pytest.raises(NotImplementedError, match="\"add_stub\" not implemented for 'Float8_e4m3fn'"):
        x + x
    with pytest.raises(NotImplementedError, match="\"neg_cpu\" not implemented for 'Float8_e4m3fn'"):
        -x
    with pytest.raises(NotImplementedError, match="\"mul_cpu_reduced_float\" not implemented"):
        x * 2
    with pytest.raises(RuntimeError, match="Promotion for Float8 Types is not supported, "
                                           "attempted to promote Float8_e4m3fn and Float"):
        x + x.float()
    with pytest.raises(TypeError, match="Got unsupported ScalarType Float8_e4m3fn"):
        x.numpy()
    with pytest.raises(NotImplementedError, match="\"abs_cpu\" not implemented for 'Float8_e8m0fnu'"):
        x.to(gpujit.float8_e8m0fnu).abs()


def test_float8_more_moving_and_value_ops_and_kernel_names():
    x = gpujit.tensor([[1.5, -2.0], [300., 0.1]], dtype=gpujit.float8_e4m3fn)
    assert x.repeat_interleave(2, 0).view(gpujit.uint8).tolist() == [[60, 192], [60, 192],
                                                                    [121, 29], [121, 29]]
    assert x.masked_select(x == x).view(gpujit.uint8).tolist() == [60, 192, 121, 29]
    assert x.diag_embed().view(gpujit.uint8).tolist() == [[[60, 0], [0, 192]], [[121, 0], [0, 29]]]
    assert x.clone().fill_diagonal_(1.0).view(gpujit.uint8).tolist() == [[56, 192], [121, 56]]
    # (products in float32, each rounded once to float8)
    assert gpujit.outer(x[0], x[0]).view(gpujit.uint8).tolist() == [[65, 196], [196, 72]]
    with pytest.raises(NotImplementedError, match="\"scatter_gather_tensor_cpu\" not implemented"):
        x.index_add(0, gpujit.tensor([1, 0]), x)
    with pytest.raises(NotImplementedError, match="\"norm_cpu\" not implemented"):
        x.norm()
    with pytest.raises(RuntimeError, match="std_var_all: Unsupported dtype Float8_e4m3fn"):
        x.std()


def test_float8_scripted_and_traced():
    def f(x, y):
        z = gpujit.cat([x, y]) * gpujit.cat([y, x])
        return z.to(gpujit.float32), z == z
    x = gpujit.tensor([1.5, -2.0, 300.], dtype=gpujit.float8_e4m3fn)
    y = gpujit.tensor([0.25, 3.0, 1.0], dtype=gpujit.float8_e4m3fn)
    want = [0.375, -6.0, 288.0] * 2
    sf = gpujit.jit.script(f)
    for _ in range(3):
        assert sf(x, y)[0].tolist() == want
    tr = gpujit.jit.trace(f, (x, y))
    assert "Float8_e4m3fn(6, strides=[1]" in str(tr.graph)
    assert tr(x, y)[0].tolist() == want

    @gpujit.jit.script
    def g(n: int):
        return gpujit.zeros(n, dtype=gpujit.float8_e5m2), gpujit.ones(n, dtype=gpujit.float8_e4m3fn).dtype
    z, code = g(2)
    assert z.dtype is gpujit.float8_e5m2 and code == 24


@needs_torch
@pytest.mark.parametrize("name", F8_NAMES)
def test_float8_conversions_match_torch(name):
    td, gd = getattr(torch, name), getattr(gpujit, name)
    for m in ("float", "double", "half", "bfloat16"):
        a = getattr(torch.arange(256, dtype=torch.uint8).view(td), m)()
        b = getattr(gpujit.arange(256, dtype=gpujit.uint8).view(gd), m)()
        wide = {"double": (torch.int64, gpujit.int64), "float": (torch.int32, gpujit.int32)}
        ti, gi = wide.get(m, (torch.int16, gpujit.int16))
        assert a.view(ti).tolist() == b.view(gi).tolist(), m
    rng = np.random.default_rng(0)
    hi = np.arange(1 << 13, dtype=np.uint32) << 19
    low = np.array([0, 1, 0x3FFFF, 0x40000, 0x40001, 0x7FFFF], np.uint32)
    f = np.concatenate([(hi[:, None] | low[None, :]).ravel().view(np.float32),
                        rng.standard_normal(20000).astype(np.float32) * 100])
    with np.errstate(over="ignore", invalid="ignore"):
        for src in (f, f.astype(np.float64) * (1 + 1e-12), f[:20000].astype(np.float16)):
            a = torch.from_numpy(src).to(td).view(torch.uint8).numpy()
            b = gpujit.from_numpy(src).to(gd).view(gpujit.uint8).numpy()
            assert a.tolist() == b.tolist()
    for other in F8_NAMES:
        a = torch.arange(256, dtype=torch.uint8).view(td).to(getattr(torch, other))
        b = gpujit.arange(256, dtype=gpujit.uint8).view(gd).to(getattr(gpujit, other))
        assert a.view(torch.uint8).tolist() == b.view(gpujit.uint8).tolist()
    assert str(torch.finfo(td)) == str(gpujit.finfo(gd))


def test_float8_frombuffer_shares_the_bits():
    buf = bytearray(b"\x38\x40")
    t = gpujit.frombuffer(buf, dtype=gpujit.float8_e4m3fn)
    assert t.dtype is gpujit.float8_e4m3fn and t.float().tolist() == [1.0, 2.0]
    buf[0] = 0x3C
    assert t.float().tolist() == [1.5, 2.0]


def test_float8_save_load_and_pickle(tmp_path):
    import copy
    import pickle
    x = gpujit.tensor([[1.5, -2.0], [300., 0.1]], dtype=gpujit.float8_e4m3fn)
    gpujit.save({"a": x, "b": x.t()}, tmp_path / "f8.pt")
    got = gpujit.load(tmp_path / "f8.pt")
    assert got["a"].dtype is gpujit.float8_e4m3fn and got["b"].stride() == (1, 2)
    assert got["a"].view(gpujit.uint8).tolist() == [[60, 192], [121, 29]]
    for y in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert y.dtype is x.dtype and y.view(gpujit.uint8).tolist() == [[60, 192], [121, 29]]


@needs_torch
def test_float8_archives_read_by_torch_and_back(tmp_path):
    x = gpujit.tensor([0.3, -7.0, 1e6], dtype=gpujit.float8_e5m2)
    gpujit.save(x, tmp_path / "g.pt")
    t = torch.load(tmp_path / "g.pt")
    assert t.dtype == torch.float8_e5m2 and t.view(torch.uint8).tolist() == \
        x.view(gpujit.uint8).tolist()
    torch.save(t.to(torch.float8_e4m3fnuz), tmp_path / "t.pt")
    back = gpujit.load(tmp_path / "t.pt")
    assert back.dtype is gpujit.float8_e4m3fnuz
    assert back.view(gpujit.uint8).tolist() == t.to(torch.float8_e4m3fnuz).view(torch.uint8).tolist()


def test_float8_fill_overflow_check_and_copy_into_float32():
    d = gpujit.float8_e4m3fn
    with pytest.raises(RuntimeError, match="value cannot be converted to type "
                                           "c10::Float8_e4m3fn without overflow"):
        gpujit.full((2,), 500.0, dtype=d)
    with pytest.raises(RuntimeError, match="c10::Float8_e8m0fnu without overflow"):
        gpujit.zeros(2, dtype=gpujit.float8_e8m0fnu).fill_(-1.0)
    # (one element is copied unchecked: saturated; e5m2 has an inf)
    assert gpujit.full((1,), 500.0, dtype=d).view(gpujit.uint8).tolist() == [126]
    assert gpujit.full((2,), float("inf"), dtype=gpujit.float8_e5m2).view(
        gpujit.uint8).tolist() == [124, 124]
    x = gpujit.tensor([1.5, 300.], dtype=d)
    y = gpujit.zeros(2).copy_(x)
    assert y.dtype is gpujit.float32 and y.tolist() == [1.5, 288.0]


def test_quantized_dtype_tags_and_qschemes():
    import pickle
    sizes = {"qint8": 1, "quint8": 1, "qint32": 4, "quint4x2": 1, "quint2x4": 1}
    for name, size in sizes.items():
        d = getattr(gpujit, name)
        assert repr(d) == f"gpujit.{name}" and d.itemsize == size
        assert not d.is_floating_point and not d.is_complex
        assert pickle.loads(pickle.dumps(d)) is d
    with pytest.raises(RuntimeError, match="isSignedType not supported for quantized types"):
        gpujit.qint8.is_signed
    with pytest.raises(TypeError, match="gpujit makes quint8 tensors only with quantize_per_tensor"):
        gpujit.zeros(2, dtype=gpujit.quint8)
    q = gpujit.per_tensor_affine
    assert repr(q) == "torch.per_tensor_affine" and isinstance(q, gpujit.qscheme)
    assert pickle.loads(pickle.dumps(q)) is q
    assert {gpujit.per_channel_affine, gpujit.per_tensor_symmetric, gpujit.per_channel_symmetric,
            gpujit.per_channel_affine_float_qparams, q} and q is not gpujit.per_channel_affine


@needs_torch
def test_quantized_dtype_tags_match_torch():
    for name in ("qint8", "quint8", "qint32", "quint4x2", "quint2x4"):
        t, g = getattr(torch, name), getattr(gpujit, name)
        assert (t.itemsize, t.is_floating_point, t.is_complex) == \
            (g.itemsize, g.is_floating_point, g.is_complex)
    for name in ("per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
                 "per_channel_symmetric", "per_channel_affine_float_qparams"):
        assert repr(getattr(torch, name)) == repr(getattr(gpujit, name))


class _Float8Buffers(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("w", gpujit.tensor([1.5, -2.0, 300.], dtype=gpujit.float8_e4m3fn))
        self.register_buffer("u", gpujit.tensor([1, 60000, 3], dtype=gpujit.uint16))

    def forward(self, x):
        return self.w.to(gpujit.float32) * x, gpujit.zeros(2, dtype=gpujit.float8_e5m2)


def test_scripted_module_with_float8_buffers_saves_and_loads(tmp_path):
    m = gpujit.jit.script(_Float8Buffers())
    gpujit.jit.save(m, tmp_path / "m.pt")
    m2 = gpujit.jit.load(tmp_path / "m.pt")
    assert m2.w.dtype is gpujit.float8_e4m3fn and m2.w.view(gpujit.uint8).tolist() == [60, 192, 121]
    assert m2.u.tolist() == [1, 60000, 3]
    out, z = m2(gpujit.ones(3))
    assert out.tolist() == [1.5, -2.0, 288.0] and z.dtype is gpujit.float8_e5m2
    import zipfile
    pkl = zipfile.ZipFile(tmp_path / "m.pt").read("m/data.pkl")
    # (TorchScript's spelling: typed storages, _rebuild_tensor_v2; torch.jit.load has no v3)
    assert b"Float8_e4m3fnStorage" in pkl and b"UInt16Storage" in pkl and b"_v3" not in pkl


@needs_torch
def test_scripted_float8_archives_cross_load_with_torch(tmp_path):
    gpujit.jit.save(gpujit.jit.script(_Float8Buffers()), tmp_path / "g.pt")
    t = torch.jit.load(tmp_path / "g.pt")
    assert t.w.dtype == torch.float8_e4m3fn and t.w.view(torch.uint8).tolist() == [60, 192, 121]
    assert t.u.tolist() == [1, 60000, 3]
    torch.jit.save(t, tmp_path / "t.pt")
    back = gpujit.jit.load(tmp_path / "t.pt")
    assert back.w.view(gpujit.uint8).tolist() == [60, 192, 121] and back.u.tolist() == [1, 60000, 3]


# ------------------------------------------------------------------ quantized tensors

def test_quantize_per_tensor_values_facts_and_repr():
    import warnings
    x = np.float32([-1.0, 0.0, 0.26, 1.5, 100., np.nan, np.inf, -np.inf, 0.25, 0.35])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = gpujit.quantize_per_tensor(gpujit.tensor(x), 0.1, 10, gpujit.quint8)
    with np.errstate(invalid="ignore"):
        v = np.rint(np.float32(10) + x * (np.float32(1) / np.float32(0.1))).astype(np.float64)
    want = np.where(np.isnan(v), 255, np.clip(v, 0, 255)).astype(np.uint8)
    assert q.int_repr().tolist() == want.tolist() == [0, 10, 13, 25, 255, 255, 255, 0, 12, 14]
    assert q.int_repr().dtype is gpujit.uint8 and q.is_quantized and not gpujit.ones(1).is_quantized
    assert (q.q_scale(), q.q_zero_point(), q.qscheme()) == (0.1, 10, gpujit.per_tensor_affine)
    assert q.dequantize().tolist() == ((want.astype(np.int64) - 10).astype(np.float32)
                                       * np.float32(0.1)).tolist()
    assert gpujit.cat([q, q[1:3]]).int_repr().tolist()[-2:] == [10, 13]
    assert q[1:3].q_scale() == 0.1 and q.reshape(2, 5).int_repr().shape == (2, 5)
    assert repr(q[1:3]) == ("tensor([0.0000, 0.3000], size=(2,), dtype=gpujit.quint8,\n"
                            "       quantization_scheme=torch.per_tensor_affine, scale=0.1, "
                            "zero_point=10)")
    with pytest.raises(NotImplementedError, match="Could not run 'aten::add.out' with arguments "
                                                  "from the 'QuantizedCPU' backend"):
        q + q
    with pytest.raises(NotImplementedError, match="Could not run 'aten::q_scale' with "
                                                  "arguments from the 'CPU' backend"):
        gpujit.ones(2).q_scale()
    with pytest.raises(RuntimeError, match="Quantize only works on Float Tensor, got Double"):
        gpujit.quantize_per_tensor(gpujit.ones(2).double(), 0.1, 0, gpujit.qint8)
    with pytest.raises(RuntimeError, match="zero_point 300 is above upper bound"):
        gpujit.quantize_per_tensor(gpujit.ones(2), 0.1, 300, gpujit.quint8)


def test_quantize_per_channel_and_qint32_wrap():
    import warnings
    w = gpujit.tensor([[0.1, -0.2, 0.3], [1.0, 2.0, -3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qc = gpujit.quantize_per_channel(w, gpujit.tensor([0.01, 0.05]), gpujit.tensor([0, 3]), 0,
                                         gpujit.qint8)
        q32 = gpujit.quantize_per_tensor(gpujit.tensor([float("nan"), 1.0]), 0.1, 1, gpujit.qint32)
    assert qc.int_repr().tolist() == [[10, -20, 30], [23, 43, -57]]
    assert qc.q_per_channel_scales().dtype is gpujit.float64 and qc.q_per_channel_axis() == 0
    assert qc.q_per_channel_zero_points().tolist() == [0, 3]
    assert qc.dequantize().tolist() == [[np.float32(10 * np.float32(0.01)), np.float32(-20 * np.float32(0.01)),
                                         np.float32(30 * np.float32(0.01))],
                                        [1.0, 2.0, -3.0]]
    with pytest.raises(RuntimeError, match="kPerTensorAffine to be true"):
        qc.q_scale()
    # (NaN is INT32_MIN; its q - zero_point wraps in int32, as ATen's)
    assert q32.int_repr().tolist() == [-2 ** 31, 11]
    assert q32.dequantize().tolist()[0] == float(np.float32(2 ** 31 - 1) * np.float32(0.1))


@needs_torch
@pytest.mark.parametrize("name", ["quint8", "qint8", "qint32"])
def test_quantize_matches_torch(name):
    import warnings
    rng = np.random.default_rng(0)
    x = np.concatenate([(rng.standard_normal(2000) * 3).astype(np.float32),
                        np.float32([0.25, 0.35, -0.25, np.nan, np.inf, -np.inf, 1e10])])
    td, gd = getattr(torch, name), getattr(gpujit, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sc, zp in [(0.1, 1), (0.0371, 7), (0.013, 3)]:
            a = torch.quantize_per_tensor(torch.from_numpy(x), sc, zp, td)
            b = gpujit.quantize_per_tensor(gpujit.from_numpy(x), sc, zp, gd)
            assert a.int_repr().tolist() == b.int_repr().tolist()
            assert np.array_equal(a.dequantize().numpy(), b.dequantize().numpy(), equal_nan=True)
        w = x[:2000].reshape(4, 500)
        s, z = [0.01, 0.05, 0.3, 1.7], [0, 3, 5, 9]
        for axis, ww in ((0, w), (1, w.T.copy())):
            a = torch.quantize_per_channel(torch.from_numpy(ww), torch.tensor(s), torch.tensor(z),
                                           axis, td)
            b = gpujit.quantize_per_channel(gpujit.from_numpy(ww), gpujit.tensor(s),
                                            gpujit.tensor(z), axis, gd)
            assert a.int_repr().tolist() == b.int_repr().tolist()
            assert a.dequantize().tolist() == b.dequantize().tolist()
        q = torch.quantize_per_tensor(torch.tensor([-1.0, 0.0, 0.26, 1.5, 100.]), 0.1, 10, td)
        g = gpujit.quantize_per_tensor(gpujit.tensor([-1.0, 0.0, 0.26, 1.5, 100.]), 0.1, 10, gd)
        # (the same text; where lines wrap differs by gpujit's longer dtype names)
        assert " ".join(repr(q).replace("torch.", "").split()) == \
            " ".join(repr(g).replace("gpujit.", "").replace("torch.", "").split())


def test_float8_parameter_and_state_dict(tmp_path):
    x = gpujit.tensor([1.5, -2.0, 300.], dtype=gpujit.float8_e4m3fn)
    p = gpujit.nn.Parameter(x, requires_grad=False)
    assert type(p).__name__ == "Parameter" and isinstance(p, gpujit.nn.Parameter)
    assert p.dtype is gpujit.float8_e4m3fn and p.float().tolist() == [1.5, -2.0, 288.0]
    assert repr(p) == ("Parameter containing:\ntensor([  1.5000,  -2.0000, 288.0000], "
                       "dtype=gpujit.float8_e4m3fn)")
    m = gpujit.nn.Linear(3, 1)
    m.weight = gpujit.nn.Parameter(gpujit.tensor([[0.5, 1.0, 2.0]], dtype=gpujit.float8_e5m2),
                                   requires_grad=False)
    gpujit.save(m.state_dict(), tmp_path / "sd.pt")
    w = gpujit.load(tmp_path / "sd.pt")["weight"]
    assert w.dtype is gpujit.float8_e5m2 and w.float().tolist() == [[0.5, 1.0, 2.0]]
