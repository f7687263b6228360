"""lgamma / digamma / mvlgamma as torch 2.13's CPU kernels, bit for bit (session 53).

torch.lgamma is Sleef's lgammaf_u1 / lgamma_u1 on the CPU (ATen's vectorized kernel, for
every element; gpujit/ops/_sleef_lgamma.py), digamma ATen's calc_digamma with GCC's FMAs
in its polynomial (ops/_trigamma_kernel.py). Fused CPU kernels call the same functions.
Values written here were computed with torch 2.13.0 (CPU, AVX512); the inputs where
glibc's lgamma (gpujit's before) gave other bits were chosen on purpose.
"""
import numpy as np
import pytest

import gpujit

# float32 inputs / torch.lgamma's bits (torch 2.13): one or two per region of Sleef's
# algorithm (reflection, 0.5-1.2, 1.2-2.3, 2.3-7, the asymptotic form, overflow to inf)
X32 = [-10.718438148498535, -42.40648651123047, -2.4991281032562256, -2.7456960678100586,
       0.17469064891338348, 0.49236059188842773, 1.0988291501998901, 0.8839947581291199,
       1.2621876001358032, 1.4050304889678955, 2.7349066734313965, 2.310743570327759,
       7.492995262145996, 22.164995193481445, 4.0657554186963037e+36, 4.039491916648125e+36,
       13.696168899536133, -23.02132797241211, -45.90264892578125, 41.27555847167969,
       1e-35, -2.5e-31, 1e-45]
T32 = [0xc176aa86, 0xc2ec3808, 0xbd626b72, 0xbb76c487, 0x3fd56333, 0x3f166712, 0xbd4a3dc3,
       0x3da13165, 0xbdcec1b7, 0xbdf592b8, 0x3eed01d8, 0x3e2485f7, 0x40f0a9d4, 0x42378c4a,
       0x7f800000, 0x7f800000, 0x41ae1e3a, 0xc23f4d59, 0xc3023bdc, 0x42deaeda, 0x42a12e53,
       0x428ced7d, 0x42ce8ed0]
X64 = [-10.787389989156729, -14.3920678056203, -1.7577225296869088, -0.9991347106682708,
       8.497263468265045e-09, 8.839706435437106e-08, 1.0927788173172088, 0.667528022403423,
       1.6018063622885093, 1.6070329813210322, 3.632186766197611, 3.378724749899888,
       20.097463490013013, 7.147939957983084, 61148227.02659966, 393296529492.99207]
T64 = [0xc02eb8e9f521e13a, 0xc0390aa92f60218f, 0x3ff08dc47572977d, 0x401c3614b9fbaa7d,
       0x40329561ad04ee6b, 0x40303dce295adac3, 0xbfa7f2e29cc1ba0b, 0x3fd3543aaca28f6f,
       0xbfbcc3cced827ad5, 0xbfbc97540c1f8c03, 0x3ff59821f44f5f67, 0x3ff11d498c81f9ba,
       0x4043d0983484223b, 0x401b6e91ee1c2293, 0x41ced9b22627f0a5, 0x42a2626076656a38]
SPECIAL = [0.0, -0.0, -1.0, -7.0, -1e30, np.inf, -np.inf, np.nan, 1.0, 2.0]


def _bits(t, u):
    return [int(v) for v in t.numpy().view(u)]


def test_lgamma_float32_is_sleefs_bits():
    x = gpujit.tensor(np.array(X32, np.float32))
    assert _bits(gpujit.lgamma(x), np.uint32) == T32
    assert _bits(x.lgamma(), np.uint32) == T32


def test_lgamma_float64_is_sleefs_bits():
    x = gpujit.tensor(np.array(X64))
    assert _bits(gpujit.special.gammaln(x), np.uint64) == T64


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_lgamma_poles_infinities_and_nan(dt):
    r = gpujit.lgamma(gpujit.tensor(np.array(SPECIAL, dt))).numpy()
    # torch 2.13: +inf at +-0, the non-positive integers and +-inf; NaN stays NaN; 0 at 1, 2
    assert r[:7].tolist() == [np.inf] * 7 and np.isnan(r[7]) and r[8:].tolist() == [0.0, 0.0]
    assert r.dtype == dt


def test_lgamma_float16_and_bfloat16_round_the_float_value():
    h = gpujit.tensor(np.array([0.1, 1.5, 2.5, 7.0, -3.5, 30.0], np.float16))
    # torch 2.13's bits
    assert _bits(gpujit.lgamma(h), np.uint16) == [0x4082, 0xafbb, 0x348e, 0x4694, 0xbd3c,
                                                   0x5474]
    b = gpujit.tensor(np.array(X32[:8], np.float32)).to(gpujit.bfloat16)
    want = gpujit.lgamma(b.float()).to(gpujit.bfloat16)
    assert gpujit.equal(gpujit.lgamma(b), want)


def test_digamma_polynomial_with_fmas():
    # torch 2.13: these differed by an ulp with the polynomial's steps rounded separately
    x = gpujit.tensor(np.array([1.748632550239563, 0.5, 3.3, -2.7, 11.0], np.float32))
    assert _bits(gpujit.digamma(x), np.uint32) == [0x3e7c5759, 0xbffb5453, 0x3f847511,
                                                    0xbf8ec3b7, 0x4016831e]
    x = gpujit.tensor(np.array([1.4631262805618708, 0.5, 3.3, -2.7, 11.0]))
    assert gpujit.special.psi(x).tolist() == [0.0014448459634729288, -1.9635100260214229,
                                              1.0348224890596216, -1.115347129140689,
                                              2.3517525890667215]


def test_mvlgamma_takes_lgamma_in_the_dtype():
    x = gpujit.tensor(np.array([2.5, 3.7, 10.25, 41.27555847167969], np.float32))
    assert _bits(gpujit.mvlgamma(x, 3), np.uint32) == [0x3ff0c475, 0x408ee47f, 0x4219e205,
                                                        0x43a518f2]     # torch 2.13
    x = gpujit.tensor(np.array([2.5, 3.7, 10.25, 41.27555772777217]))
    assert gpujit.special.multigammaln(x, 3).tolist() == [
        1.8809954616117743, 4.465392536249502, 38.47072356025262, 330.1948871508652]


@gpujit.jit.script
def _lgamma_digamma(x):
    return gpujit.lgamma(x * 2.0) - gpujit.digamma(x)


def test_fused_cpu_kernel_gives_eagers_bits():
    # one fused group (lgamma and digamma of float32 in the kernel): the same numba
    # functions as eager, so the same bits
    x = gpujit.tensor(np.array(X32[:14] + [0.25, -0.75, 5.5], np.float32))
    for _ in range(3):
        got = _lgamma_digamma(x)
    g = gpujit.jit.last_executed_optimized_graph()
    assert "TensorExprGroup" in str(g)
    want = gpujit.lgamma(x * 2.0) - gpujit.digamma(x)
    assert _bits(got, np.uint32) == _bits(want, np.uint32)


# ------------------------------------------------------------------ against torch itself

def _domain(dt, n, seed):
    rng = np.random.default_rng(seed)
    parts = [rng.uniform(-60, 60, n), rng.uniform(-4, 4, n), rng.uniform(0.4, 2.5, n),
             np.exp(rng.uniform(-80, 80, n)), -np.exp(rng.uniform(-80, 4, n)),
             -np.repeat(np.arange(1, 20), n // 19 + 1)[:n] + rng.uniform(-1e-3, 1e-3, n),
             np.array(SPECIAL)]
    with np.errstate(over="ignore"):
        return np.concatenate(parts).astype(dt)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_range_against_torch(name, dt):
    torch = pytest.importorskip("torch")
    x = _domain(dt, 3000, 53)
    want = getattr(torch, name)(torch.from_numpy(x)).numpy()
    got = getattr(gpujit, name)(gpujit.tensor(x)).numpy()
    u = np.uint32 if dt == np.float32 else np.uint64
    same = (want.view(u) == got.view(u)) | (np.isnan(want) & np.isnan(got))
    assert same.all(), (x[~same][:5], want[~same][:5], got[~same][:5])


def test_every_half_against_torch():
    torch = pytest.importorskip("torch")
    h = np.arange(65536, dtype=np.uint16).view(np.float16)
    want = torch.lgamma(torch.from_numpy(h)).numpy()
    got = gpujit.lgamma(gpujit.tensor(h)).numpy()
    same = (want.view(np.uint16) == got.view(np.uint16)) | (np.isnan(want) & np.isnan(got))
    assert same.all()


def test_polygamma_float64_is_atens_calc_polygamma():
    # torch 2.13: exp(lgamma(n + 1)) (not n!) times Cephes' zeta with C's pow; the old
    # float64 formula differed by an ulp on up to 98% of values (n = 5)
    x = gpujit.tensor([13.69616873214543, -11.92294916891106, -49.382317121572186,
                       33.71963489035463, 7.152983072976092, 0.3], dtype=gpujit.float64)
    want = {2: [-0.005734326561188724, -4371.166693950125, 27.640529308599994,
                -0.0009059660946369863, -0.02246668378003011, -75.27253658872601],
            3: [0.0008678484172411874, 170246.01631421357, 325.0317762641742,
                5.45316664518262e-05, 0.006716482025828412, 743.1417646550497],
            5: [5.954870376258976e-05, 573478960.8429922, 40612.97229280866,
                5.925779459316057e-07, 0.0017911422896993462, 164634.846099223]}
    for n, w in want.items():
        assert gpujit.polygamma(n, x).tolist() == w, n
        assert gpujit.special.polygamma(n, x).tolist() == w, n
