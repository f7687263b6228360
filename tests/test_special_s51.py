"""torch.special's Bessel functions, modified Bessel functions (and the scaled k0 / k1),
airy_ai and ndtri of float32 tensors compute ATen's float32 steps as PyTorch's CPU kernels
do (float coefficient tables, sinf / cosf / expf / logf, the FMAs GCC contracts), not the
float64 value rounded: torch 2.13's float32 bits, eager and fused alike."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import gpujit as torch

NAMES = ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai", "ndtri")

_X = [-7.5, -3.0, -0.6, 1e-6, 0.3, 1.7, 2.5, 4.9, 5.3, 9.75, 31.0, 150.0]
_XP = [1e-6, 0.3, 1.7, 2.0, 2.5, 4.9, 5.3, 9.75, 31.0, 95.0]
_XN = [1e-30, 1e-9, 0.01, 0.2, 0.5, 0.8, 0.97, 0.999999]

# torch 2.13 (CPU, float32 inputs _X / _XP / _XN): the results' bits as uint32
_TORCH32 = {
    "bessel_j0": [1049124268, 3196396935, 1063876902, 1065353216, 1064977846, 1053541548,
                  3175493138, 3193357731, 3181067962, 3194538510, 1028767638, 3125474831],
    "bessel_j1": [3188358801, 3199047969, 3197291129, 889599933, 1041752291, 1058269292,
                  1056867102, 3198230442, 3199279564, 1037481362, 3188209541, 3179637460],
    "bessel_y0": [3238913933, 3209603450, 1055354901, 1057138682, 1056899861, 3197470771,
                  3198993556, 1039021905, 3188263792, 3141076687],
    "bessel_y1": [3374017724, 3222454843, 3197224866, 3185259482, 1041591182, 1043962030,
                  1026979568, 1047473892, 3176832410, 3181876587],
    "modified_bessel_i0": [1132860583, 1083977588, 1066125350, 1065353216, 1065543024,
                           1072600679, 1079151803, 1103581562, 1108252587, 1158339039,
                           1408454080, 2139095040],
    "modified_bessel_i1": [3279525280, 3229418502, 3198197202, 889599933, 1041978787,
                           1067000292, 1075909088, 1102157895, 1107317203, 1157858938,
                           1408194756, 2139095040],
    "modified_bessel_k0": [1096738608, 1068477637, 1042905053, 1038696754, 1031757862,
                           998701091, 992887912, 935454010, 671812290, 506],
    "modified_bessel_k1": [1232348160, 1078170976, 1045848859, 1041185025, 1033327633,
                           999564879, 993922042, 936090433, 671958114, 509],
    "scaled_modified_bessel_k0": [1096738622, 1072505574, 1063774783, 1062695173, 1061319112,
                                  1057855998, 1057513509, 1053491897, 1046845272, 1040416844],
    "scaled_modified_bessel_k1": [1232348175, 1082392908, 1066578280, 1065634041, 1063678421,
                                  1058762233, 1058322784, 1054158240, 1047086060, 1040462084],
    "airy_ai": [1050984390, 3200381939, 1056791788, 1052100148, 1049542586, 1029604272,
                1015075752, 957258007, 946003767, 797315248, 0, 0],
    "ndtri": [3241634980, 3233803785, 3222594274, 3210179709, 0, 1062696061, 1072741851,
              1083704885]}


def _inputs(name):
    if name == "ndtri":
        return _XN
    return _XP if "_k" in name or "_y" in name else _X


def _bits_equal(a, b):
    it = np.uint32 if a.dtype == np.float32 else np.uint64
    return a.dtype == b.dtype and bool(((a.view(it) == b.view(it))
                                        | (np.isnan(a) & np.isnan(b))).all())


@pytest.mark.parametrize("name", NAMES)
def test_float32_bits_as_torch(name):
    x = torch.tensor(_inputs(name), dtype=torch.float32)
    got = getattr(torch.special, name)(x).numpy()
    want = np.array(_TORCH32[name], np.uint32).view(np.float32)
    assert got.dtype == np.float32
    assert got.tobytes() == want.tobytes(), (got, want)


# torch.i0 / special.i1 / i1e of float32 (ATen's calc_i0 ...: expf, and the Clenshaw sum's
# first step t * c0 + c1 one FMA, GCC folding its `- 0`): torch 2.13's bits as uint32
_I_X = [0.007717929780483246, 0.030095260590314865, 0.06260713934898376, 0.16694113612174988,
        -0.7865404486656189, -2.677919626235962, -4.963510513305664, 6.36241340637207]
_I_TORCH32 = {
    "i0": [1065353340, 1065355114, 1065361438, 1065411764, 1066701645, 1081189709,
           1104342735, 1119574222],
    "i1": [998041390, 1014403449, 1023428674, 1034652481, 3201914098, 3225237467,
           3250340749, 1118563090],
    "i1e": [997913963, 1013924381, 1022426760, 1032923970, 3192255511, 3192914352,
            3190318939, 1041750794]}


@pytest.mark.parametrize("name", sorted(_I_TORCH32))
def test_i0_family_float32_bits_as_torch(name):
    f = torch.i0 if name == "i0" else getattr(torch.special, name)
    got = f(torch.tensor(_I_X, dtype=torch.float32)).numpy()
    assert got.tobytes() == np.array(_I_TORCH32[name], np.uint32).tobytes(), got


def test_float32_edges():
    f = torch.special
    x = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), -1.0])
    j0 = f.bessel_j0(x).numpy()
    assert j0[0] == 1.0 and j0[1] == 1.0 and np.isnan(j0[4])
    y0 = f.bessel_y0(x).numpy()
    assert y0[0] == -np.inf and np.isnan(y0[5]) and np.isnan(y0[4])
    k1 = f.modified_bessel_k1(x).numpy()
    assert k1[0] == np.inf and np.isnan(k1[5]) and k1[2] == 0.0
    ai = f.airy_ai(x).numpy()
    assert np.isnan(ai[2]) and np.isnan(ai[3]) and np.isnan(ai[4])
    i0 = f.modified_bessel_i0(torch.tensor([88.0, 89.0, -100.0])).numpy()
    assert np.isfinite(i0[0]) and i0[1] == np.inf and i0[2] == np.inf   # (expf overflows)
    p = f.ndtri(torch.tensor([0.0, 1.0, -0.5, 1.5, 0.5])).numpy()
    assert p[0] == -np.inf and p[1] == np.inf and np.isnan(p[2:4]).all() and p[4] == 0.0


def test_out_and_layouts_float32():
    base = torch.tensor(np.linspace(0.1, 9.0, 24, dtype=np.float32).reshape(4, 6))
    ref = torch.special.bessel_y1(base).numpy()
    t = torch.special.bessel_y1(base.t())
    assert np.array_equal(t.numpy(), ref.T)
    out = torch.empty(4, 6)
    torch.special.bessel_y1(base, out=out)
    assert np.array_equal(out.numpy(), ref)


# (a few functions: each costs a numba compile on CI)
FUSED = ("bessel_y1", "modified_bessel_k0", "airy_ai", "ndtri")
FUSED_POLYS = ("chebyshev_polynomial_t", "shifted_chebyshev_polynomial_w",
               "hermite_polynomial_h", "laguerre_polynomial_l")


def test_fused_as_eager():
    """A fused CPU kernel calls eager's float32 functions and the polynomials' FMA steps
    (float32 and float64): the same bits."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_kernels import traced
    from gpujit import kernels as K
    rng = np.random.default_rng(51)
    x = np.concatenate([rng.standard_normal(200) * 6, rng.random(50),
                        [0.0, -0.0, np.inf, np.nan, 4.0, 10.0, 16.0]]).astype(np.float32)
    p = np.concatenate([rng.uniform(-1.1, 1.1, 250), [1.0, -1.0, 0.0, 0.5, 2.0, 3.0, 9.0]])
    n = rng.integers(0, 13, len(p)).astype(np.float64)

    def fn(a, b, c):
        h = a * 0.5
        return tuple(getattr(torch.special, nm)(h, c.float()) if nm in FUSED_POLYS
                     else getattr(torch.special, nm)(h) for nm in FUSED + FUSED_POLYS) \
            + (torch.special.legendre_polynomial_p(b * 1.0, c),)
    args = (x, p, n)
    k = K.build(K.spec_for(traced(fn, *args), args), "cpu")
    got = k(*args)
    want = fn(*(torch.from_numpy(v) for v in args))
    for nm, a, b in zip(FUSED + FUSED_POLYS + ("legendre_polynomial_p",), got, want):
        assert _bits_equal(a, b.numpy()), nm


def test_scripted_float32_as_eager():
    def f(a):
        return torch.special.bessel_y1(a.abs()) * torch.special.modified_bessel_k0(a.abs() + 0.1)
    s = torch.jit.script(f)
    x = torch.tensor(np.linspace(-12, 12, 97, dtype=np.float32))
    for _ in range(3):                    # (the profiled runs, then the optimized graph)
        got = s(x)
    assert _bits_equal(got.numpy(), f(x).numpy())


def test_dense_sweep_matches_torch():
    tt = pytest.importorskip("torch")
    bits = np.arange(0, 1 << 32, 65537 * 3, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([bits.view(np.float32), np.linspace(-12, 12, 6001, dtype=np.float32)])
    p = np.abs(np.nan_to_num(x)) % 1
    for name in NAMES:
        xx = p if name == "ndtri" else x
        got = getattr(torch.special, name)(torch.from_numpy(xx)).numpy()
        want = getattr(tt.special, name)(tt.from_numpy(xx)).numpy()
        assert _bits_equal(got, want), name
    for f, g in ((torch.i0, tt.i0), (torch.special.i1, tt.special.i1),
                 (torch.special.i0e, tt.special.i0e), (torch.special.i1e, tt.special.i1e)):
        with np.errstate(invalid="ignore"):         # (signalling NaNs)
            x64 = x.astype(np.float64)
        for xx in (x, x64):
            assert _bits_equal(f(torch.from_numpy(xx)).numpy(), g(tt.from_numpy(xx)).numpy())


# ------------------------------------------------------------------ orthogonal polynomials
# ATen's recurrences with GCC's FMA ((x + x) * q - p: one rounding) and C's acosf / cosf in
# the closed forms; torch 2.13's float32 bits as uint32 of these (x, n)
_PX = [0.3, -0.7, 0.95, 1.5, -2.25, 0.12]
_PN = [3.0, 5.0, 8.0, 6.0, 4.0, 11.0]
_POLY32 = {
    "chebyshev_polynomial_t": [3209347204, 1059831497, 3209895968, 1126236160, 1126533120,
                               3212325183],
    "chebyshev_polynomial_u": [3212568429, 1068689868, 1063607751, 1136427008, 1135552512,
                               3212822196],
    "shifted_chebyshev_polynomial_w": [1060789813, 3301911351, 3224807576, 1164357632,
                                       1179297792, 1050143734],
    "hermite_polynomial_h": [3227030389, 3255434803, 3304451030, 3276341248, 1127419904,
                             3348399814],
    "hermite_polynomial_he": [3210706158, 3236404805, 3270891645, 1101897728, 3219095552,
                              3298309197],
    "laguerre_polynomial_l": [1047267375, 1089623739, 1033459505, 1054454579, 1107780992,
                              1023403466],
    "legendre_polynomial_p": [3200505611, 1052441428, 3188947673, 1117682048, 1119553728,
                              3194848173]}
POLYS = ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p")


@pytest.mark.parametrize("name", sorted(_POLY32))
def test_polynomial_float32_bits_as_torch(name):
    got = getattr(torch.special, name)(torch.tensor(_PX), torch.tensor(_PN)).numpy()
    assert got.tobytes() == np.array(_POLY32[name], np.uint32).tobytes(), got


def test_polynomials_match_torch():
    tt = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    for dt in (np.float32, np.float64):
        x = np.concatenate([rng.uniform(-1.2, 1.2, 3000), rng.standard_normal(500) * 3])
        n = np.concatenate([rng.integers(-1, 14, 3300), rng.integers(0, 300, 200)])
        x, n = x.astype(dt), n.astype(dt)
        n[:4] = [np.nan, np.inf, 129, 7.5]
        for nm in POLYS:
            got = getattr(torch.special, nm)(torch.from_numpy(x), torch.from_numpy(n))
            want = getattr(tt.special, nm)(tt.from_numpy(x), tt.from_numpy(n))
            assert _bits_equal(got.numpy(), want.numpy()), (nm, dt)
