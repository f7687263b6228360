"""torch.special's Cephes functions (ndtri, erfcx, log_ndtr, Bessel j0 / j1 / y0 / y1,
modified Bessel i0 / i1 / k0 / k1 and scaled k0 / k1, spherical_bessel_j0, airy_ai) and
torch.i0 / special.i1 / i0e / i1e as compiled per-element NumPy ufuncs
(gpujit/ops/_special_kernels.py): the same algorithm as the array code CuPy runs
(float32 results bit for bit, float64 within the ulps of libm's exp / log / sin / cos against
NumPy's), values written from torch 2.13, the fused kernels' bits equal to eager's,
layouts, dtypes, and the disk cache (a warm process compiles nothing)."""
from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from cache_seed import warm

import gpujit as torch
from gpujit.ops import pointwise_extra as PE, special_more as SM

INF, NAN = math.inf, math.nan

_K = {"modified_bessel_k0": (0, False), "modified_bessel_k1": (1, False),
      "scaled_modified_bessel_k0": (0, True), "scaled_modified_bessel_k1": (1, True)}
SPECIAL = ("ndtri", "erfcx", "log_ndtr", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
           "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "spherical_bessel_j0", "airy_ai")
# (eager float32 computes ATen's float steps: gpujit/ops/_special_kernels._PER_DTYPE)
FLOAT32_STEPS = ("ndtri", "erfcx", "log_ndtr", "bessel_j0", "bessel_j1", "bessel_y0",
                 "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0",
                 "modified_bessel_k1", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
                 "spherical_bessel_j0", "airy_ai", "i0", "i1", "i0e", "i1e")
CEPHES_I = {"i0": torch.i0, "i1": torch.special.i1, "i0e": torch.special.i0e,
            "i1e": torch.special.i1e}


def _grid():
    rng = np.random.default_rng(50)
    return np.concatenate([
        rng.standard_normal(1500) * 4, rng.standard_normal(500) * 40, rng.random(500),
        np.linspace(-30, 30, 601), np.logspace(-300, 300, 61), -np.logspace(-300, 300, 61),
        [0.0, -0.0, INF, -INF, NAN, 1e-5, 5.0, -5.0, 8.0, -8.0, 2.0, 2.09, -2.09, 10.0,
         50.0, 5e7, -6.1, -26.7, 0.5, 1.0, 0.1353, 0.8647, 103.0, 104.0]])


def _array_code(name, x):
    """The array code (the CuPy path) over NumPy."""
    with np.errstate(all="ignore"):
        if name in CEPHES_I:
            return PE._cephes_bessel(np, x, name)
        fn = (lambda xp, a: SM._bessel_k(xp, a, *_K[name])) if name in _K \
            else getattr(SM, name)
        return SM._out(np, fn(np, x), x)


def _eager(name, x):
    f = CEPHES_I[name] if name in CEPHES_I else getattr(torch.special, name)
    return f(torch.from_numpy(x)).numpy()


def _ulps(a, b):
    """|a - b| in units of the last place (NaN == NaN), int64."""
    it = np.int64 if a.dtype == np.float64 else np.int32
    ia, ib = a.view(it).astype(np.int64), b.view(it).astype(np.int64)
    top = np.int64(1) << (8 * a.dtype.itemsize - 1)
    ia = np.where(ia < 0, -(ia + top), ia)
    ib = np.where(ib < 0, -(ib + top), ib)
    d = np.abs(ia - ib)
    d[np.isnan(a) & np.isnan(b)] = 0
    return d


@pytest.mark.parametrize("name", SPECIAL + tuple(CEPHES_I))
def test_compiled_as_array_code(name):
    """float32: bit for bit the array code's (both round a float64 value, or both compute
    ATen's float steps); float64: within a few ulps (C's exp / log / sin / cos where NumPy
    may call SVML's; at the zeros of y0 / y1 a relative ulp grows)."""
    x64 = _grid()
    with np.errstate(over="ignore"):
        x32 = x64.astype(np.float32)
    got32, want32 = _eager(name, x32), _array_code(name, x32)
    assert got32.dtype == want32.dtype == np.float32
    if name in FLOAT32_STEPS:
        # (ATen's float steps, as torch 2.13 (tests/test_special_s51.py): near the float64
        # value rounded where float32 keeps the digits: the large-x phases x - pi/4 lose them)
        k = (np.abs(x32) <= 20) & np.isfinite(want32)
        np.testing.assert_allclose(got32[k], want32[k], rtol=2e-5, atol=2e-6, equal_nan=True)
    else:
        assert _ulps(got32, want32).max() == 0
    got64, want64 = _eager(name, x64), _array_code(name, x64)
    assert got64.dtype == np.float64
    d = _ulps(got64, want64)
    # (y0 / y1 near their zeros: sin / cos of x - pi/4 one ulp apart cancels; eager's float64
    # j0 / j1 / y0 / y1 are ATen's steps with GCC's FMAs, torch 2.13's bits (tests/
    # test_special_s52.py), the array code's are not contracted: near a zero they differ by
    # up to ~1e-15 absolute, many ulps of the small value)
    fma64 = ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
             "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
             "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai")
    if name in fma64:       # (the modified Bessel functions and airy_ai too, s52)
        near = np.abs(got64 - want64) <= 1e-15 * np.maximum(1.0, np.abs(want64))
        d = np.where(near, 0, d)
    limit = 64 if name in ("bessel_y0", "bessel_y1") else 16
    assert d.max() <= limit, (name, int(d.max()), x64[d.argmax()])
    assert (d > 0).mean() < (0.35 if name in fma64 else 0.2)


# values of torch 2.13 (CPU, float64): i0 / i1 / i0e / i1e to the bit
_I_X = [-9.5, -3.25, -0.0, 0.0, 0.75, 2.5, 7.99, 8.0, 8.5, 20.0, 100.0, 700.0]
_I_TORCH = {
    "i0": ['0x1.b65ec88c7e227p+10', '0x1.7f5147eef9f7fp+2', '0x1.0000000000000p+0',
           '0x1.0000000000000p+0', '0x1.25491b74777d5p+0', '0x1.a51972f665e07p+1',
           '0x1.a7958e5f3ced2p+8', '0x1.ab9069e3504f9p+8', '0x1.5594ba060b716p+9',
           '0x1.4c52c5479f734p+25', '0x1.8a6f2011ec0d2p+139', '0x1.c8cdeeadb5defp+1003'],
    "i1": ['-0x1.9e9cff39f433fp+10', '-0x1.3cf68431a0794p+2', '0x0.0p+0', '0x0.0p+0',
           '0x1.9ba3e96eea157p-2', '0x1.4223c20769d70p+1', '0x1.8c1d7f76f86e3p+8',
           '0x1.8fdf85e466079p+8', '0x1.40cf58f76825ap+9', '0x1.43e7deb14bddfp+25',
           '0x1.8874f981a92abp+139', '0x1.c87a5f5ceb9dfp+1003'],
    "i0e": ['0x1.0ccd76060c625p-3', '0x1.db9c5307ab667p-3', '0x1.0000000000000p+0',
            '0x1.0000000000000p+0', '0x1.15139b8c6c61cp-1', '0x1.14870dec80993p-2',
            '0x1.25f04febc3352p-3', '0x1.25bf8fe241e6ap-3', '0x1.1cacff9008cbep-3',
            '0x1.6fbd7af5eb8d5p-4', '0x1.47396f57f4db2p-5', '0x1.ee2f13cd64a72p-7'],
    "i1e": ['-0x1.fc78631dc4780p-4', '-0x1.894793d16af17p-3', '0x0.0p+0', '0x0.0p+0',
            '0x1.84e3e4313b4f6p-3', '0x1.a715da4cbd424p-3', '0x1.12e08a605bd6cp-3',
            '0x1.12b94cad917c4p-3', '0x1.0b5d75d529544p-3', '0x1.666ceca7946abp-4',
            '0x1.459587ae67a92p-5', '0x1.edd4ae130b94dp-7']}
# float32 (torch 2.13): ATen's float series, i0(0) = 0.99999994
_I_TORCH32 = {
    "i0": [1753.48095703125, 5.989336013793945, 0.9999999403953552, 0.9999999403953552,
           1.1456468105316162, 3.289839506149292, 423.58416748046875, 427.564208984375,
           683.1619873046875, 43558276.0, INF, INF],
    "i1e": [-0.1241382583975792, -0.19203104078769684, 0.0, 0.0, 0.18988779187202454,
            0.206584632396698, 0.13421739637851715, 0.13414262235164642, 0.130549356341362,
            0.08750621974468231, 0.03974415361881256, 0.015070520341396332]}


@pytest.mark.parametrize("name", sorted(_I_TORCH))
def test_i0_family_torch_bits(name):
    got = CEPHES_I[name](torch.tensor(_I_X, dtype=torch.float64)).numpy()
    want = np.array([float.fromhex(h) for h in _I_TORCH[name]])
    assert got.tobytes() == want.tobytes(), (got, want)
    if name in _I_TORCH32:
        got32 = CEPHES_I[name](torch.tensor(_I_X, dtype=torch.float32)).numpy()
        assert got32.tobytes() == np.array(_I_TORCH32[name], np.float32).tobytes()


# torch 2.13's float64 values (its Cephes code with libm: a few ulps from gpujit at most)
_SPECIAL_X = [-30.0, -5.0, -1.5, 0.0, 0.5, 3.0, 12.0, 60.0]
_SPECIAL_XP = [0.0, 0.25, 1.0, 2.0, 2.5, 5.0, 7.5, 40.0]
_SPECIAL_TORCH = {
    "erfcx": [INF, 144009798674.66104, 18.653886256262734, 1.0, 0.6156903441929258,
              0.17900115118138998, 0.04685422101489376, 0.009401854275176388],
    "log_ndtr": [-454.32124395634327, -15.064998393988727, -2.7059444008238898,
                 -0.6931471805599453, -0.36894641528865635, -0.0013508099647481923,
                 -1.776482112077648e-33, -0.0],
    "bessel_j0": [-0.08636798358104034, -0.17759678121123898, 0.5118276717359184, 1.0,
                  0.938469807240813, -0.2600519549074645, 0.04768931078331563,
                  -0.09147180408906201],
    "bessel_j1": [0.11875106261662309, 0.3275791437359959, -0.5579365079100997, 0.0,
                  0.24226845767487387, 0.3390589585282922, -0.22344710448401678,
                  0.046598383758166224],
    "modified_bessel_i0": [781672297823.9775, 27.239871823604442, 1.6467231897728907, 1.0,
                           1.0634833707413236, 4.880792585865024, 18948.92534929631,
                           5.8940770556098e+24],
    "modified_bessel_i1": [-768532038938.9569, -24.335642142450524, -0.9816664285779074,
                           0.0, 0.25789430539089636, 3.9533702174026093, 18141.348781638833,
                           5.844751588390468e+24],
    "spherical_bessel_j0": [-0.03293438746976206, -0.1917848549326277, 0.6649966577360363,
                            1.0, 0.958851077208406, 0.0470400026866224,
                            -0.04471440983336958, -0.005080177018370278],
    "airy_ai": [-0.0879681884568426, 0.35076100902415286, 0.46425657774886947,
                0.3550280538878172, 0.23169360648083345, 0.00659113935746072,
                1.3931846888753582e-13, 2.7831487094969442e-136],
    "bessel_y0": [-INF, -0.9315730249300588, 0.08825696421567697, 0.5103756726497742,
                  0.49807035961592067, -0.3085176376345636, 0.11731328137254243,
                  0.12593641705826097],
    "bessel_y1": [-INF, -2.7041052293152825, -0.7812128213002888, -0.10703243154093531,
                  0.14591813796695813, 0.14786315225770025, -0.2591285055701094,
                  -0.005793505821549509],
    "modified_bessel_k0": [INF, 1.5415067512483027, 0.4210244382407082, 0.1138938727495334,
                           0.062347553200366196, 0.0036910983340425942,
                           0.00024917761635611437, 8.392861100099567e-19],
    "modified_bessel_k1": [INF, 3.747025974440712, 0.6019072301972346, 0.13986588181652246,
                           0.07389081634774705, 0.004044613445452163,
                           0.00026529739012528955, 8.497131954861038e-19],
    "scaled_modified_bessel_k0": [INF, 1.9793338485985683, 1.1444630798068944,
                                  0.8415682150707712, 0.7595486903280996, 0.547807564313519,
                                  0.45052369910491563, 0.19755558495729816],
    "scaled_modified_bessel_k1": [INF, 4.811276588171025, 1.636153486263258,
                                  1.0334768470686888, 0.9001744239078779, 0.6002738587883125,
                                  0.47966893379102066, 0.20000996725443346]}
_NDTRI_P = [1e-300, 1e-20, 0.01, 0.135, 0.2, 0.5, 0.9, 0.99999]
_NDTRI_TORCH = [-37.0470962993612, -9.262340089798409, -2.3263478740408408,
                -1.1030625561995973, -0.8416212335729142, 0.0, 1.2815515655446004,
                4.264890793923841]


@pytest.mark.parametrize("name", sorted(_SPECIAL_TORCH) + ["ndtri"])
def test_special_values_torch(name):
    if name == "ndtri":
        x, want = _NDTRI_P, _NDTRI_TORCH
    else:
        x = _SPECIAL_XP if name in _K or name.startswith("bessel_y") else _SPECIAL_X
        want = _SPECIAL_TORCH[name]
    got = getattr(torch.special, name)(torch.tensor(x, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    assert (np.signbit(got) == np.signbit(np.array(want))).all()
    if name in FLOAT32_STEPS:       # (float32 steps: tests/test_special_s51.py)
        return
    # float32: the float64 value of the float32 input, rounded once
    x32 = np.array(x, np.float32)
    got32 = getattr(torch.special, name)(torch.from_numpy(x32)).numpy()
    assert got32.dtype == np.float32
    via64 = getattr(torch.special, name)(torch.from_numpy(x32.astype(np.float64))).numpy()
    assert got32.tobytes() == via64.astype(np.float32).tobytes()


def test_spherical_bessel_j0_torch_bits():
    """ATen computes it in the dtype: float32 steps with FMAs below |x| = 0.5 and sinf
    above (torch 2.13's values, which the float64 value rounded misses by an ulp here)."""
    x = torch.tensor([-0.4998500347137451, -0.498875230550766, -0.49857527017593384, 0.25,
                      0.75, -3.0, 1e-3])
    want = np.array([0.9588754177093506, 0.9590336680412292, 0.9590823650360107,
                     0.9896158576011658, 0.908851683139801, 0.047040000557899475,
                     0.9999998211860657], np.float32)
    got = torch.special.spherical_bessel_j0(x).numpy()
    assert got.tobytes() == want.tobytes(), (got, want)
    assert got[0] != np.float32(math.sin(-0.4998500347137451) / -0.4998500347137451)


@pytest.mark.parametrize("name", ["ndtri", "modified_bessel_k1", "i1e"])
def test_layouts_and_dtypes(name):
    f = CEPHES_I[name] if name in CEPHES_I else getattr(torch.special, name)
    rng = np.random.default_rng(5)
    base = np.abs(rng.standard_normal((6, 8))) * 0.15 + 0.01
    x = torch.from_numpy(base)
    ref = f(x).numpy()
    t = f(x.t())                                # a transposed input: a transposed result
    assert t.shape == (8, 6) and np.array_equal(t.numpy(), ref.T)
    assert t.stride() == (1, 8)
    s = f(x[:, ::3])
    assert np.array_equal(s.numpy(), ref[:, ::3])
    z = f(torch.tensor(0.25, dtype=torch.float64))
    assert z.dim() == 0 and z.item() == f(torch.tensor([0.25], dtype=torch.float64)).item()
    assert f(torch.zeros(0, 3)).shape == (0, 3)
    # integers compute in float32 (the default dtype), as PyTorch
    i = f(torch.tensor([0, 1, 2]))
    assert i.dtype == torch.float32
    assert np.array_equal(i.numpy(), f(torch.tensor([0.0, 1.0, 2.0])).numpy(), equal_nan=True)
    out = torch.empty(6, 8, dtype=torch.float64)
    f(x, out=out)
    assert np.array_equal(out.numpy(), ref)


def test_i0_float16_through_float():
    """float16 i0 / i1 / i0e / i1e: ATen's float kernel rounded to half."""
    h = np.arange(0, 1 << 16, 7, dtype=np.uint16).view(np.float16)
    for name, f in CEPHES_I.items():
        got = f(torch.from_numpy(h)).numpy()
        assert got.dtype == np.float16
        with np.errstate(all="ignore"):
            want = PE._cephes_bessel(np, h.astype(np.float32), name).astype(np.float16)
        assert got.tobytes() == want.tobytes(), name


def test_gradients_still_flow():
    x = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64, requires_grad=True)
    y = torch.special.ndtri(x)
    y.sum().backward()
    # d ndtri / dp = sqrt(2 pi) exp(ndtri(p)^2 / 2)
    np.testing.assert_allclose(x.grad.numpy(),
                               math.sqrt(2 * math.pi) * np.exp(y.detach().numpy() ** 2 / 2),
                               rtol=1e-14)
    z = torch.tensor([-2.0, 0.3, 4.0], dtype=torch.float64, requires_grad=True)
    torch.i0(z).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), torch.special.i1(z.detach()).numpy())


def test_fused_kernel_bits_as_eager():
    """The fused kernels' primitives (kernels/prims_special.py) call libm's exp / log /
    sin / cos too: a fused group gives eager's bits in float64."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_kernels import traced
    from gpujit import kernels as K
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.standard_normal(400) * 6, rng.random(100), [0.0, -0.0, INF, NAN]])

    def fn(a):
        return torch.special.modified_bessel_k1(a * 0.5) + torch.special.log_ndtr(a)
    g = traced(fn, x)
    k = K.build(K.spec_for(g, (x,)), "cpu")
    got = k(x)[0]
    want = fn(torch.from_numpy(x)).numpy()
    assert got.tobytes() == want.tobytes() or np.array_equal(got, want, equal_nan=True)


def test_no_recompile_in_a_warm_process(tmp_path):
    """The ufuncs compile on first use and load from gpujit's cache directory after: a
    second process adds no cache file; importing gpujit does not import them (or numba)."""
    code = ("import sys, gpujit as torch\n"
            "assert 'gpujit.ops._special_kernels' not in sys.modules\n"
            "assert 'numba' not in sys.modules\n"
            "x = torch.tensor([0.3, 0.7], dtype=torch.float64)\n"
            "print(torch.special.ndtri(x).tolist(), torch.i0(x.float()).tolist())\n")
    env = dict(os.environ, GPUJIT_CACHE_DIR=warm(tmp_path, numba_helpers=False))

    def files():
        return sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")
                      if "_special_kernels" in p.name)
    outs = []
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append((r.stdout, files()))
    assert outs[0][1], "nothing cached"
    assert outs[0] == outs[1]


def test_matches_torch_grid():
    tt = pytest.importorskip("torch")
    x = _grid()
    for name, f in CEPHES_I.items():
        tf = {"i0": tt.i0, "i1": tt.special.i1, "i0e": tt.special.i0e,
              "i1e": tt.special.i1e}[name]
        got = f(torch.from_numpy(x)).numpy()
        want = tf(tt.from_numpy(x)).numpy()
        # (float64: ATen's steps with libm's exp, to the bit)
        assert got.tobytes() == want.tobytes() or np.array_equal(got, want, equal_nan=True)
    for dt in (np.float32, np.float64):       # (ATen's steps in the dtype: to the bit)
        with np.errstate(over="ignore"):
            xd = np.concatenate([x, np.linspace(-0.5, 0.5, 2001)]).astype(dt)
        got = torch.special.spherical_bessel_j0(torch.from_numpy(xd)).numpy()
        want = tt.special.spherical_bessel_j0(tt.from_numpy(xd)).numpy()
        assert np.array_equal(got, want, equal_nan=True)
    for name in SPECIAL:
        got = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
        want = getattr(tt.special, name)(tt.from_numpy(x)).numpy()
        keep = np.abs(x) < 40          # (torch's large-x phases, airy's tails)
        np.testing.assert_allclose(got[keep], want[keep], rtol=1e-12, atol=1e-15,
                                   equal_nan=True, err_msg=name)


# ------------------------------------------------------------------ float16 math in CPU kernels

_HALVES = np.arange(1 << 16, dtype=np.uint16).view(np.float16)


def test_half_staged_functions_round_as_libm():
    """prims.HALF_STAGED: NumPy's float32 function of every half, rounded to half, is the
    half eager computes (libm's float function: ops/half_libm.call)."""
    from gpujit.kernels import prims
    from gpujit.ops import half_libm
    for fn in prims.HALF_STAGED + ("exp",):
        want = half_libm.call(np, fn, _HALVES)
        with np.errstate(all="ignore"):
            got = getattr(np, prims._MATH[fn][1])(_HALVES.astype(np.float32)).astype(np.float16)
        same = (got.view(np.uint16) == want.view(np.uint16)) | (np.isnan(got) & np.isnan(want))
        assert same.all(), (fn, _HALVES[~same][:4])


def _half_bits_equal(got, want):
    return bool(((got.view(np.uint16) == want.view(np.uint16))
                 | (np.isnan(got) & np.isnan(want))).all())


def test_fused_float16_functions_staged_as_eager():
    """A float16 kernel computes tanh, sin, exp ... in float32 through NumPy's loops (staged)
    where NumPy exports them, and gives eager's halves for all 65536 inputs."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_kernels import traced
    from gpujit import kernels as K
    from gpujit.kernels import prims
    names = prims.HALF_STAGED + ("exp", "log", "tan")

    def fn(a):
        return tuple(getattr(torch, n)(a) for n in names)
    g = traced(fn, _HALVES)
    k = K.build(K.spec_for(g, (_HALVES,)), "cpu")
    got = k(_HALVES)
    for n, r in zip(names, got):
        want = getattr(torch, n)(torch.from_numpy(_HALVES)).numpy()
        assert r.dtype == np.float16 and _half_bits_equal(r, want), n
    if "_tanh_hs" in prims.NUMPY_LOOPS:
        assert "_npl_tanh_f32(" in k.source
        assert "_tanh_h(" not in k.source


def test_fused_float16_chain_as_eager():
    sys.path.insert(0, os.path.dirname(__file__))
    from test_kernels import traced
    from gpujit import kernels as K
    rng = np.random.default_rng(9)
    x = (rng.standard_normal(3000) * 3).astype(np.float16)
    y = (rng.standard_normal(3000)).astype(np.float16)

    def fn(a, b):
        return torch.tanh(a * 0.5 + b) * (a - b) + torch.sin(a) * torch.exp(b)
    g = traced(fn, x, y)
    k = K.build(K.spec_for(g, (x, y), static=False), "cpu")
    got = k(x, y)[0]
    want = fn(torch.from_numpy(x), torch.from_numpy(y)).numpy()
    assert _half_bits_equal(got, want)
    # a strided view (the kernel's strided path) as eager too
    xs, ys = x[::3], y[::3]
    k2 = K.build(K.spec_for(g, (xs, ys), static=False), "cpu")
    assert _half_bits_equal(k2(xs, ys)[0],
                            fn(torch.from_numpy(xs), torch.from_numpy(ys)).numpy())
