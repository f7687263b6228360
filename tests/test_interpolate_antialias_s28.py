"""F.interpolate(..., antialias=True): aten::_upsample_{bilinear,bicubic,lanczos}2d_aa
(ATen's separable PIL-style kernel), its uint8 fixed-point path, backward, scripting and
tracing, and the errors, against NumPy formulas / values checked with torch 2.13 (and torch
itself where installed)."""
import math
import re

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F


# ---------------------------------------------------------------------- NumPy reference

def _filt(mode, x):
    x = abs(x)
    if mode == "bilinear":
        return 1.0 - x if x < 1.0 else 0.0
    if mode == "bicubic":
        a = -0.5
        if x < 1.0:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        if x < 2.0:
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return 0.0

    def sinc(v):
        return 1.0 if v == 0.0 else math.sin(v * math.pi) / (v * math.pi)
    return sinc(x) * sinc(x / 3.0) if x < 3.0 else 0.0


def _ref_matrix(mode, n_in, n_out, align_corners=False, scale_factor=None):
    """(n_out, n_in) weights of ATen's _compute_indices_min_size_weights_aa (float64)."""
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    elif scale_factor is not None:
        scale = 1.0 / scale_factor
    else:
        scale = n_in / n_out
    half = {"bilinear": 1.0, "bicubic": 2.0, "lanczos": 3.0}[mode]
    support = half * scale if scale >= 1.0 else half
    inv = 1.0 / scale if scale >= 1.0 else 1.0
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = scale * (i + 0.5)
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), n_in)
        w = [_filt(mode, (j - center + 0.5) * inv) for j in range(xmin, xmax)]
        tot = sum(w)
        for j, wj in zip(range(xmin, xmax), w):
            m[i, j] = wj / tot if tot != 0.0 else wj
    return m


def _ref(x, mode, out, align_corners=False, scales=(None, None)):
    y = x.astype(np.float64)
    if tuple(x.shape[2:]) == tuple(out):
        return y
    if x.shape[3] != out[1]:
        y = y @ _ref_matrix(mode, x.shape[3], out[1], align_corners, scales[1]).T
    if x.shape[2] != out[0]:
        y = np.einsum("oh,nchw->ncow", _ref_matrix(mode, x.shape[2], out[0], align_corners,
                                                    scales[0]), y)
    return y


def _t(a):
    return gpujit.from_numpy(np.ascontiguousarray(a))


# ---------------------------------------------------------------------- values

X16 = np.arange(16.0).reshape(1, 1, 4, 4)


@pytest.mark.parametrize("kw, expect", [
    (dict(size=(2, 2), mode="bilinear"),
     [3.5714285714285707, 5.142857142857142, 9.857142857142856, 11.428571428571427]),
    (dict(size=(2, 3), mode="bicubic"),
     [2.537038788130946, 3.8471074380165295, 5.157176087902113, 9.84282391209789,
      11.152892561983473, 12.462961211869056]),
    (dict(size=(1, 1), mode="bilinear", align_corners=True), [0.0]),
    (dict(size=(3, 2), mode="bilinear", align_corners=True),
     [2.7499999999999996, 4.166666666666667, 8.36111111111111, 9.777777777777777,
      12.583333333333334, 14.000000000000002]),
    (dict(size=(2, 2), mode="lanczos"),
     [2.6906362037570197, 4.614381722254212, 10.385618277745786, 12.309363796242978]),
])
def test_values_checked_with_torch(kw, expect):
    y = F.interpolate(_t(X16), antialias=True, **kw)
    assert y.dtype == gpujit.float64
    np.testing.assert_allclose(y.numpy().ravel(), expect, rtol=1e-12, atol=1e-12)


def test_upscale_is_plain_triangle_filter():
    # upscaling: support 1 (not scaled), weights renormalised at the edges
    y = F.interpolate(_t(X16), size=(6, 5), mode="bilinear", antialias=True).numpy()
    np.testing.assert_allclose(y[0, 0, 0], [0.0, 0.7, 1.5, 2.3, 3.0], atol=1e-12)
    np.testing.assert_allclose(y[0, 0, 2], [4.666666666666666, 5.366666666666666,
                                            6.166666666666666, 6.966666666666667,
                                            7.666666666666666], atol=1e-12)


SHAPES = [(1, 1, 8, 8), (2, 3, 10, 7), (1, 2, 13, 17), (1, 1, 1, 9), (1, 1, 30, 3)]
SIZES = [(3, 3), (4, 5), (1, 1), (20, 11), (5, 30), (2, 9), (13, 17)]


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
@pytest.mark.parametrize("shape", SHAPES)
def test_float64_matches_numpy_formula(mode, shape):
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    for ac in ([False, True] if mode != "lanczos" else [False]):
        acv = ac if mode != "lanczos" else None
        for size in SIZES:
            y = F.interpolate(_t(x), size=size, mode=mode, align_corners=acv, antialias=True)
            np.testing.assert_allclose(y.numpy(), _ref(x, mode, size, ac), rtol=1e-10,
                                       atol=1e-10)
        for sf in (0.5, 0.3, 1.7, (0.77, 2.3)):
            sfs = sf if isinstance(sf, tuple) else (sf, sf)
            out = tuple(int(math.floor(n * s)) for n, s in zip(shape[2:], sfs))
            if min(out) < 1:
                continue
            y = F.interpolate(_t(x), scale_factor=sf, mode=mode, align_corners=acv,
                              antialias=True)
            np.testing.assert_allclose(y.numpy(), _ref(x, mode, out, ac, sfs), rtol=1e-10,
                                       atol=1e-10)
            y = F.interpolate(_t(x), scale_factor=sf, mode=mode, align_corners=acv,
                              antialias=True, recompute_scale_factor=True)
            np.testing.assert_allclose(y.numpy(), _ref(x, mode, out, ac), rtol=1e-10,
                                       atol=1e-10)


def test_float32_close_to_formula_and_keeps_dtype():
    x = np.random.default_rng(3).standard_normal((2, 3, 19, 23)).astype(np.float32)
    for mode in ("bilinear", "bicubic", "lanczos"):
        y = F.interpolate(_t(x), size=(7, 31), mode=mode, antialias=True)
        assert y.dtype == gpujit.float32
        np.testing.assert_allclose(y.numpy(), _ref(x, mode, (7, 31)), rtol=1e-5, atol=1e-5)


def test_same_size_dims_are_skipped_forward_not_backward():
    # ATen's separable forward copies a dim whose size is unchanged (here with scale 1.2:
    # floor(2 * 1.2) = 2); its backward applies that dim's weights (scale 1 / 1.2)
    x = np.random.default_rng(0).standard_normal((1, 2, 2, 2))
    xt = _t(x).requires_grad_()
    y = F.interpolate(xt, scale_factor=1.2, mode="bilinear", antialias=True)
    np.testing.assert_array_equal(y.detach().numpy(), x)
    g = np.random.default_rng(1).standard_normal((1, 2, 2, 2))
    y.backward(_t(g))
    m = _ref_matrix("bilinear", 2, 2, False, 1.2)
    assert not np.allclose(m, np.eye(2))
    np.testing.assert_allclose(xt.grad.numpy(), np.einsum("oh,pw,ncop->nchw", m, m, g),
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- uint8

U8 = np.array([0, 255, 10, 200, 3, 77, 128, 250], np.uint8)


@pytest.mark.parametrize("kw, expect", [
    (dict(size=(2, 3), mode="bilinear"), [119, 86, 141]),
    (dict(size=(2, 3), mode="bicubic"), [115, 83, 147]),
    (dict(size=(2, 5), mode="bicubic", align_corners=True), [110, 119, 68, 114, 241]),
    (dict(size=(2, 13), mode="bicubic"),
     [0, 108, 254, 82, 40, 193, 109, 0, 52, 94, 125, 206, 255]),
])
def test_uint8_checked_with_torch(kw, expect):
    x = np.broadcast_to(U8, (1, 1, 2, 8))
    y = F.interpolate(_t(x), antialias=True, **kw)
    assert y.dtype == gpujit.uint8
    assert y.numpy()[0, 0, 0].tolist() == expect
    assert y.numpy()[0, 0, 1].tolist() == expect


def test_uint8_close_to_float_result():
    x = np.random.default_rng(5).integers(0, 256, (1, 3, 37, 29)).astype(np.uint8)
    for mode in ("bilinear", "bicubic"):
        y = F.interpolate(_t(x), size=(11, 9), mode=mode, antialias=True).numpy()
        r = np.clip(_ref(x, mode, (11, 9)), 0, 255)
        assert np.abs(y.astype(float) - r).max() <= 1.0


# ---------------------------------------------------------------------- backward

@pytest.mark.parametrize("mode, ac", [("bilinear", False), ("bilinear", True),
                                      ("bicubic", False), ("bicubic", True),
                                      ("lanczos", False)])
def test_backward_is_transposed_weights(mode, ac):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 9, 12))
    for size in ((4, 5), (17, 20), (9, 3)):
        xt = _t(x).requires_grad_()
        y = F.interpolate(xt, size=size, mode=mode, antialias=True,
                          align_corners=ac if mode != "lanczos" else None)
        g = rng.standard_normal(tuple(y.shape))
        y.backward(_t(g))
        mh = _ref_matrix(mode, 9, size[0], ac)
        mw = _ref_matrix(mode, 12, size[1], ac)
        np.testing.assert_allclose(xt.grad.numpy(), np.einsum("oh,pw,ncop->nchw", mh, mw, g),
                                   rtol=1e-10, atol=1e-10)
        assert xt.grad.dtype == gpujit.float64


def test_backward_float32():
    x = np.random.default_rng(8).standard_normal((1, 2, 10, 10)).astype(np.float32)
    xt = _t(x).requires_grad_()
    F.interpolate(xt, scale_factor=0.4, mode="bicubic", antialias=True).sum().backward()
    m = _ref_matrix("bicubic", 10, 4, False, 0.4)
    expect = np.broadcast_to(np.outer(m.sum(0), m.sum(0)), x.shape)
    assert xt.grad.dtype == gpujit.float32
    np.testing.assert_allclose(xt.grad.numpy(), expect, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- layout, ops

def test_channels_last_input():
    x = np.random.default_rng(9).standard_normal((2, 3, 11, 13)).astype(np.float32)
    xc = _t(x).contiguous(memory_format=gpujit.channels_last)
    for mode in ("bilinear", "bicubic"):
        y = F.interpolate(xc, size=(5, 4), mode=mode, antialias=True)
        assert y.is_contiguous(memory_format=gpujit.channels_last)
        np.testing.assert_allclose(y.numpy(), _ref(x, mode, (5, 4)), rtol=1e-5, atol=1e-5)
        # a non-contiguous view
        v = F.interpolate(_t(x).transpose(2, 3), size=(5, 4), mode=mode, antialias=True)
        np.testing.assert_allclose(v.numpy(), _ref(x.transpose(0, 1, 3, 2), mode, (5, 4)),
                                   rtol=1e-5, atol=1e-5)


def test_aten_overloads():
    x = np.random.default_rng(10).standard_normal((1, 2, 9, 8))
    aten = gpujit.ops.aten
    for mode in ("bilinear", "bicubic", "lanczos"):
        fn = getattr(aten, f"_upsample_{mode}2d_aa")
        a = fn(_t(x), [3, 4], False)
        b = fn.vec(_t(x), [3, 4], False, None)
        np.testing.assert_allclose(a.numpy(), _ref(x, mode, (3, 4)), rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        c = fn(_t(x), [3, 4], False, 0.25, 0.4)
        np.testing.assert_allclose(c.numpy(), _ref(x, mode, (3, 4), False, (0.25, 0.4)),
                                   rtol=1e-10, atol=1e-10)
        d = fn.vec(_t(x), None, False, [0.25, 0.4])
        out = (int(9 * 0.25), int(8 * 0.4))
        np.testing.assert_allclose(d.numpy(), _ref(x, mode, out, False, (0.25, 0.4)),
                                   rtol=1e-10, atol=1e-10)
    assert fn(_t(np.zeros((0, 2, 4, 4))), [2, 2], False).shape == (0, 2, 2, 2)


# ---------------------------------------------------------------------- errors

AA_MSG = ("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
          "requires a 4-D tensor as input")


@pytest.mark.parametrize("mode", ["nearest", "linear", "trilinear", "area", "nearest-exact",
                                  "bogus"])
def test_antialias_other_modes(mode):
    with pytest.raises(ValueError, match="^" + AA_MSG + "$"):
        F.interpolate(gpujit.zeros(1, 1, 4, 4), scale_factor=0.5, mode=mode, antialias=True)


@pytest.mark.parametrize("shape", [(1, 2, 4), (1, 1, 2, 4, 4)])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialias_not_4d(shape, mode):
    with pytest.raises(ValueError, match="^" + AA_MSG + "$"):
        F.interpolate(gpujit.zeros(*shape), scale_factor=0.5, mode=mode, antialias=True)


def test_lanczos_errors():
    x = gpujit.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="^Lanczos mode requires antialias=True$"):
        F.interpolate(x, scale_factor=0.5, mode="lanczos")
    with pytest.raises(ValueError, match="^Lanczos mode does not support align_corners=True$"):
        F.interpolate(x, scale_factor=0.5, mode="lanczos", align_corners=True, antialias=True)
    with pytest.raises(NotImplementedError, match=r"trilinear \| lanczos \| area"):
        F.interpolate(gpujit.zeros(2, 2), scale_factor=0.5, mode="lanczos")


@pytest.mark.parametrize("dtype, name", [("float16", "Half"), ("int32", "Int"),
                                         ("int64", "Long"), ("int8", "Char")])
def test_dtypes_refused(dtype, name):
    x = gpujit.zeros(1, 1, 4, 4, dtype=getattr(gpujit, dtype))
    for mode in ("bilinear", "bicubic", "lanczos"):
        with pytest.raises(NotImplementedError,
                           match=f"^\"compute_index_ranges_weights\" not implemented for "
                                 f"'{name}'$"):
            F.interpolate(x, size=(3, 3), mode=mode, antialias=True)


def test_shape_errors_in_atens_order():
    aten = gpujit.ops.aten
    x = gpujit.zeros(2, 3, 9, 11)
    cases = [
        (lambda f: f.vec(x[0], [3, 4], False, None),
         re.escape("Expected static_cast<int64_t>(output_size->size()) == "
                   "spatial_dimensions to be true, but got false.")),
        (lambda f: f.vec(x[0], [3], False, None),
         "It is expected output_size equals to 2, but got size 1"),
        (lambda f: f.vec(x[0], None, False, [1.0]),
         "ArrayRef: invalid index Index = 1; Length = 1"),
        (lambda f: f.vec(x, None, False, [1.0]),
         re.escape("Expected static_cast<int64_t>(scale_factors->size()) == "
                   "spatial_dimensions to be true, but got false.")),
        (lambda f: f.vec(x[None], [3, 4, 5], False, None),
         "It is expected output_size equals to 2, but got size 3"),
        (lambda f: f.vec(x, [3, 4], False, [1.0, 2.0]),
         "Must specify exactly one of output_size and scale_factors"),
        (lambda f: f.vec(x[:0, :0], [2, 4], False, None),
         r"Non-empty 4D data tensor expected but got a tensor with sizes \[0, 0, 9, 11\]"),
        (lambda f: f.vec(x[:, :0], [2, 4], False, None),
         r"Non-empty 4D data tensor expected but got a tensor with sizes \[2, 0, 9, 11\]"),
        (lambda f: f.vec(x, [0, 4], False, None),
         r"Input and output sizes should be greater than 0, but got input \(H: 9, W: 11\) "
         r"output \(H: 0, W: 4\)"),
        (lambda f: f(x[0], [3, 4], False), "It is expected input_size equals to 4, but got "
                                           "size 3"),
        (lambda f: f(x, [3], False), "It is expected output_size equals to 2, but got size 1"),
    ]
    # the same checks for the plain upsample ops (they share ATen's compute_output_size)
    for f in (aten._upsample_bilinear2d_aa, aten._upsample_bicubic2d_aa,
              aten.upsample_bilinear2d):
        for call, msg in cases:
            with pytest.raises(RuntimeError, match=msg):
                call(f)


# ---------------------------------------------------------------------- script / trace

def test_scripted_and_traced():
    from typing import List

    def f(x, s: List[int]):
        return F.interpolate(x, size=s, mode="bicubic", antialias=True, align_corners=True)

    def g(x):
        return F.interpolate(x, scale_factor=0.37, mode="bilinear", antialias=True)

    x = np.random.default_rng(11).standard_normal((1, 2, 11, 9))
    sf = gpujit.jit.script(f)
    np.testing.assert_allclose(sf(_t(x), [4, 3]).numpy(), _ref(x, "bicubic", (4, 3), True),
                               rtol=1e-10, atol=1e-10)
    sg = gpujit.jit.script(g)
    np.testing.assert_allclose(sg(_t(x)).numpy(), _ref(x, "bilinear", (4, 3), False,
                                                       (0.37, 0.37)), rtol=1e-10, atol=1e-10)
    tg = gpujit.jit.trace(g, _t(x))
    assert "aten::_upsample_bilinear2d_aa(" in str(tg.graph)
    np.testing.assert_allclose(tg(_t(2 * x)).numpy(), 2 * sg(_t(x)).numpy(), rtol=1e-10,
                               atol=1e-10)

    def e(x):
        return F.interpolate(x, scale_factor=0.5, mode="nearest", antialias=True)
    with pytest.raises(ValueError, match=AA_MSG):
        gpujit.jit.script(e)(_t(x))


# ---------------------------------------------------------------------- against torch

def _torch_bug(shape, out, dtype):
    # torch 2.13's CPU separable kernel gives every row of a (n, c) slab row 0's value
    # when the vertical pass writes a width-1 output whose innermost dim is H (uint8 with
    # C <= 4 goes through the AVX kernel, which is right); gpujit computes the real value
    return out[1] == 1 and out[0] != shape[2] and not (dtype == np.uint8 and shape[1] <= 4)


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    for shape in [(1, 1, 8, 8), (2, 3, 10, 7), (1, 5, 13, 17), (1, 3, 32, 24), (1, 1, 40, 3)]:
        xf = (rng.standard_normal(shape) * 10).astype(np.float32)
        xu = rng.integers(0, 256, shape).astype(np.uint8)
        for mode in ("bilinear", "bicubic", "lanczos"):
            for ac in ([False, True] if mode != "lanczos" else [None]):
                cfgs = [dict(size=s) for s in [(3, 3), (4, 5), (20, 11), (2, 1), (13, 17)]]
                cfgs += [dict(scale_factor=s) for s in (0.3, 1.7, (0.77, 2.3), 0.123)]
                cfgs += [dict(scale_factor=0.45, recompute_scale_factor=True)]
                for cfg in cfgs:
                    for x in (xf, xf.astype(np.float64), xu):
                        kw = dict(mode=mode, align_corners=ac, antialias=True, **cfg)
                        try:
                            r = torch.nn.functional.interpolate(torch.from_numpy(x),
                                                                **kw).numpy()
                        except RuntimeError as e:
                            with pytest.raises(RuntimeError, match=re.escape(str(e))):
                                F.interpolate(_t(x), **kw)
                            continue
                        if _torch_bug(shape, r.shape[2:], x.dtype):
                            continue
                        g = F.interpolate(_t(x), **kw).numpy()
                        assert g.dtype == r.dtype and g.shape == r.shape
                        if x.dtype == np.uint8:
                            np.testing.assert_array_equal(g, r, err_msg=str((shape, kw)))
                        else:
                            tol = 1e-5 if x.dtype == np.float32 else 1e-12
                            np.testing.assert_allclose(g, r, rtol=tol,
                                                       atol=tol * np.abs(r).max(),
                                                       err_msg=str((shape, kw)))


def test_against_torch_channels_last_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    for dt in (np.float32, np.float64, np.uint8):
        x = (rng.standard_normal((2, 5, 12, 9)) * 50 + 100).clip(0, 255).astype(dt)
        for mode in ("bilinear", "bicubic"):
            r = torch.nn.functional.interpolate(
                torch.from_numpy(x).contiguous(memory_format=torch.channels_last),
                size=(5, 4), mode=mode, antialias=True)
            g = F.interpolate(_t(x).contiguous(memory_format=gpujit.channels_last),
                              size=(5, 4), mode=mode, antialias=True)
            assert r.stride() == g.stride()
            np.testing.assert_allclose(g.numpy().astype(float), r.numpy().astype(float),
                                       rtol=1e-5, atol=1e-4 if dt != np.uint8 else 0)
    for dt in (np.float32, np.float64):
        for mode in ("bilinear", "bicubic", "lanczos"):
            for ac in ([False, True] if mode != "lanczos" else [None]):
                for cfg in (dict(size=(3, 4)), dict(size=(17, 20)), dict(scale_factor=1.2),
                            dict(scale_factor=(0.4, 2.5))):
                    x = rng.standard_normal((1, 2, 5, 13)).astype(dt)
                    tx = torch.from_numpy(x).requires_grad_()
                    ty = torch.nn.functional.interpolate(tx, mode=mode, align_corners=ac,
                                                         antialias=True, **cfg)
                    go = rng.standard_normal(tuple(ty.shape)).astype(dt)
                    ty.backward(torch.from_numpy(go))
                    gx = _t(x).requires_grad_()
                    F.interpolate(gx, mode=mode, align_corners=ac, antialias=True,
                                  **cfg).backward(_t(go))
                    r = tx.grad.numpy()
                    tol = 1e-5 if dt == np.float32 else 1e-10
                    np.testing.assert_allclose(gx.grad.numpy(), r, rtol=tol,
                                               atol=tol * np.abs(r).max())
