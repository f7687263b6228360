"""torch.special.erfcx and log_ndtr as ATen's calc_erfcx / calc_log_ndtr compute them
(erfcx_y100's table of 100 Chebyshev polynomials, the continued fraction above 50,
2 exp(x^2) - erfcx(-x) below 0; float32 in ATen's float steps): torch 2.13's bits in
float32 and float64, eager and fused alike. torch.erfinv: the correctly rounded value but
for a few in 10^5 (torch's CPU erfinv is MKL's vsErfInv / vdErfInv, within an ulp of it):
torch's bits but for ~0.35% of float64 and float32 values, eager and fused alike."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as torch

_X = [-30.0, -26.5, -8.0, -6.0, -1.5, -0.3, -1e-30, 0.0, 1e-7, 0.4, 2.0, 7.5, 33.0, 49.5,
      80.0, 3e3, 6e7]
_XL = [-45.0, -20.0, -3.0, -1.2, -0.5, 0.0, 0.8, 3.5, 9.0]

# torch 2.13 (CPU), of float32 / float64 tensors of _X (erfcx) and _XL (log_ndtr): the
# results' bits as uint32 / uint64
_TORCH = {
    ("erfcx", "float32"): [
        2139095040, 2139095040, 1847667905, 1509232813, 1100299049, 1069159541, 1065353216,
        1065353216, 1065353216, 1059829950, 1048757048, 1033419287, 1015807448, 1010480118,
        1004999411, 960836308, 841059209],
    ("erfcx", "float64"): [
        9218868437227405312, 9174265965877081223, 5027184419571865549, 4845488462890143094,
        4625943819881673675, 4609225923675967735, 4607182418800017408, 4607182418800017408,
        4607182417783663893, 4604217138785072752, 4598272419408562039, 4590038021563798738,
        4580582737021620318, 4577722648549150218, 4574780215875847552, 4551070330869207837,
        4486765490522881083],
    ("log_ndtr", "float32"): [
        3296611960, 3276532427, 3235082877, 3221905861, 3214312519, 3207688728, 3195259286,
        3111384356, 2684698014],
    ("log_ndtr", "float64"): [
        13875530868023326720, 13864750750488889046, 13842497693619403779,
        13835423336632049490, 13831346691798756324, 13827790571168217583,
        13821117566216651509, 13776087557465915674, 13547012052330931790],
}
_UINT = {"float32": np.uint32, "float64": np.uint64}


def _bits(t):
    a = t.numpy()
    return [int(v) for v in a.view(_UINT[a.dtype.name])]


@pytest.mark.parametrize("name,dtype", sorted(_TORCH))
def test_erfcx_log_ndtr_bits(name, dtype):
    x = _X if name == "erfcx" else _XL
    got = getattr(torch.special, name)(torch.tensor(x, dtype=getattr(torch, dtype)))
    assert got.dtype == getattr(torch, dtype)
    assert _bits(got) == _TORCH[(name, dtype)]


def test_erfcx_special_values():
    for dt in (torch.float32, torch.float64):
        r = torch.special.erfcx(torch.tensor([float("nan"), float("inf"), -float("inf"),
                                              -26.8, 5e7 * 3, 0.0, -0.0], dtype=dt))
        v = r.numpy()
        assert np.isnan(v[0]) and v[1] == 0.0 and v[2] == np.inf and v[3] == np.inf
        assert 0 < v[4] < 4e-9 and v[5] == 1.0 and v[6] == 1.0
        ln = torch.special.log_ndtr(torch.tensor([-float("inf"), float("inf"), 40.0], dtype=dt))
        assert ln.numpy().tolist() == [-np.inf, 0.0, 0.0]
        assert np.signbit(ln.numpy()[1:]).tolist() == [True, True]   # (log1p(-0.0))


def _erfcx_pair(x):
    return torch.special.erfcx(x * 1.0) * 1.0, torch.special.log_ndtr(x * 1.0) * 1.0


def test_erfcx_log_ndtr_fused_as_eager():
    """The fused CPU kernel calls eager's functions (ops/_special_kernels): one value.
    (float64: test_float64_fused_as_eager)"""
    dtype = "float32"
    dt = getattr(torch, dtype)
    x = torch.tensor(_X + _XL + [-4.25, -0.01, 0.013, 12.5, 51.0], dtype=dt)
    tr = torch.jit.trace(_erfcx_pair, (x,))
    for _ in range(2):
        a, b = tr(x)
    assert _bits(a) == _bits(torch.special.erfcx(x))
    assert _bits(b) == _bits(torch.special.log_ndtr(x))
    assert _bits(a)[:len(_X)] == _TORCH[("erfcx", dtype)]


def _spread(dtype, lo, hi, n, seed=0):
    """n values of dtype: uniform in [lo, hi], and random bit patterns (finite)."""
    rng = np.random.default_rng(seed)
    it = _UINT[np.dtype(dtype).name]
    b = rng.integers(0, np.iinfo(it).max, n, dtype=it, endpoint=True).view(dtype)
    b = b[np.isfinite(b)]
    return np.concatenate([rng.uniform(lo, hi, n).astype(dtype), b,
                           np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype)])


def _mismatches(a, b):
    it = _UINT[a.dtype.name]
    return int(((a.view(it) != b.view(it)) & ~(np.isnan(a) & np.isnan(b))).sum())


@pytest.fixture
def _torch_threads():
    """torch's intra-op thread count as it was, after the test (set_num_threads(1) is
    process-wide: a later file's torch comparisons in this worker would run on one thread,
    which changes how torch splits its reductions)."""
    ref = pytest.importorskip("torch")
    was = ref.get_num_threads()
    yield
    ref.set_num_threads(was)


def _one_thread_torch():
    ref = pytest.importorskip("torch")
    ref.set_num_threads(1)
    return ref


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erfcx_log_ndtr_torch_ranges(dtype, _torch_threads):
    ref = _one_thread_torch()
    for name, lo, hi in (("erfcx", -27.0, 60.0), ("log_ndtr", -60.0, 10.0)):
        x = _spread(dtype, lo, hi, 20000)
        want = getattr(ref.special, name)(ref.from_numpy(x)).numpy()
        got = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
        if dtype == np.float32 and name == "erfcx":
            # (float32 x > 50: torch's continued fraction differs by an ulp at ~2% of them;
            # every other float32 value is torch's)
            k = ~(x > 50)
            assert _mismatches(got[k], want[k]) == 0
            np.testing.assert_allclose(got, want, rtol=3e-7, atol=0)
        else:
            assert _mismatches(got, want) == 0, name


_XI = [-0.999, -0.97, -0.75, -0.3, -1e-9, 0.0, 3e-12, 0.05, 0.2, 0.45, 0.5, 0.62, 0.8, 0.93,
       0.985, 0.99999]
# torch 2.13 (CPU) erfinv of float32 / float64 tensors of _XI, the bits (MKL's values; the
# float64 ones are also the correctly rounded values: 9 of 16 differed in gpujit 2.51)
_TORCH_ERFINV = {
    "float32": [3222595987, 3217320457, 3209706568, 3196813372, 2960366253, 0, 742069897,
                1026924100, 1043820898, 1054370187, 1056190718, 1058990732, 1063779410,
                1067712213, 1071392611, 1078452890],
    "float64": [13835793839350468020, 13832961564901866234, 13828873891045125025,
                13821951908694744786, 13695010328476677571, 0, 4433621008474662063,
                4586550944378801280, 4595622343454361925, 4601285950178986048,
                4602263340061081610, 4603766586411576623, 4606337487687236277,
                4608448895523664933, 4610424793128293878, 4614215720229241788]}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erfinv_bits(dtype):
    dt = getattr(torch, dtype)
    x = torch.tensor(_XI, dtype=dt)
    assert _bits(torch.erfinv(x)) == _TORCH_ERFINV[dtype]
    assert _bits(torch.special.erfinv(x)) == _TORCH_ERFINV[dtype]
    assert _bits(x.erfinv()) == _TORCH_ERFINV[dtype]
    v = torch.erfinv(torch.tensor([1.0, -1.0, 1.5, -2.0, float("nan"), -0.0, 5e-324 if
                                   dtype == "float64" else 1e-45], dtype=dt)).numpy()
    assert v[:2].tolist() == [np.inf, -np.inf] and np.isnan(v[2:5]).all()
    assert v[5] == 0 and np.signbit(v[5]) and v[6] > 0


def test_erfinv_half_and_ints():
    x16 = torch.tensor([-0.9, 0.3, 0.7], dtype=torch.float16)
    want = torch.erfinv(x16.float()).half()
    assert torch.erfinv(x16).dtype == torch.float16
    assert _bits(torch.erfinv(x16).float()) == _bits(want.float())
    assert torch.erfinv(torch.tensor([0, 1])).dtype == torch.float32


def _ulp_diff(a, b):
    it = np.int64 if a.dtype == np.float64 else np.int32
    ia, ib = a.view(it).astype(np.int64), b.view(it).astype(np.int64)
    d = np.abs(ia - ib)
    d[np.isnan(a) & np.isnan(b)] = 0
    return d


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erfinv_torch_ranges(dtype, _torch_threads):
    ref = _one_thread_torch()
    x = _spread(dtype, -1.0, 1.0, 20000)
    x = np.concatenate([x, np.linspace(0.9, 1.0, 3000, dtype=dtype)])
    want = ref.erfinv(ref.from_numpy(x)).numpy()
    got = torch.erfinv(torch.from_numpy(x)).numpy()
    d = _ulp_diff(got, want)
    assert d.max() <= 1
    assert (d > 0).mean() < 0.01        # (0.35% of 1M in each dtype; 20% of float64 in 2.51)


_XN = [1e-300, 1e-20, 0.003, 0.05, 0.14, 0.2556416680399394, 0.38213171162428033, 0.5, 0.7,
       0.86, 0.99, 0.999999]
# torch 2.13 (CPU) float64 ndtri of _XN, the bits (its polevl steps are FMAs and its
# sqrt(2 pi) is Cephes' s2pi, an ulp above math.sqrt(2 * math.pi): 5 of 12 differed in 2.51)
_TORCH_NDTRI64 = [13853782769448305262, 13844775888831658573, 13836741909266586043,
                  13833458618208840382, 13830916181808158095, 13827463551675078479,
                  13822445938985870177, 0, 4602898599452526074, 4607544144953382287,
                  4612420888509349646, 4617037898413868527]


def test_ndtri_float64_bits():
    x = torch.tensor(_XN, dtype=torch.float64)
    assert _bits(torch.special.ndtri(x)) == _TORCH_NDTRI64


def test_ndtri_grad_constant():
    # d/dp ndtri(p) = sqrt(2 pi) exp(ndtri(p)^2 / 2): at p = 1/2, std::sqrt(2 * M_PI)
    # (math.sqrt(2 * math.pi)), not ndtri's s2pi
    p = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    torch.special.ndtri(p).sum().backward()
    assert p.grad.item() == 2.5066282746310002


_XB = [-11.978683668773838, -3.8459949189987372, 0.3, 1.7, 2.5, 4.3160946106395635, 4.9, 5.3,
       9.75, 17.33881614981117, 31.0, 150.0]
# torch 2.13 (CPU) float64 bessel_j0 / j1 / y0 / y1 of _XB, the bits (ATen's double steps
# with the FMAs GCC contracts them to: 4-6 of 12 differed in 2.51's uncontracted steps)
_TORCH_BESSEL64 = {
    "bessel_j0": [4586345023264005598, 13824298385279201750, 4606980893944511390,
                  4600841077776708331, 13810505694936113216, 13823496470105290074,
                  13820096677087569432, 13813498664261961525, 13820730602445706755,
                  13817155995594950668, 4587540692527374276, 13783650983648755767],
    "bessel_j1": [4597267700921340481, 4573272544136217115, 4594511768816132098,
                  4603379266108119895, 4602626471176414149, 13818918328912695963,
                  13822712692063440282, 13823275935034631246, 4592218830796339412,
                  13817806854720570945, 13817332763249068251, 13812730661274323631],
    "bessel_y0": [9221120237041090560, 9221120237041090560, 13828818530368425187,
                  4601814614436223615, 4602644057861788117, 13817410274756855231,
                  13822304844796513013, 13823122385939697625, 4593045898476077593,
                  13817671731492914178, 13817361886905104951, 13812730449270167728],
    "bessel_y1": [9221120237041090560, 9221120237041090560, 13835718069378177191,
                  13822172828817374283, 4594425275264732138, 4599886006998502083,
                  4595698120824875431, 4586580732368794348, 4597583529963797218,
                  4593604395458465472, 13811224692885664778, 4558276238891854763]}


@pytest.mark.parametrize("name", sorted(_TORCH_BESSEL64))
def test_bessel_float64_bits(name):
    got = getattr(torch.special, name)(torch.tensor(_XB, dtype=torch.float64))
    want = np.array(_TORCH_BESSEL64[name], np.uint64).view(np.float64)
    g = got.numpy()
    assert np.array_equal(np.isnan(g), np.isnan(want))
    k = ~np.isnan(want)
    assert g[k].view(np.uint64).tolist() == want[k].view(np.uint64).tolist()


def _f64_family(t):
    t = t * 1.0
    return (torch.special.erfcx(t) * 1.0, torch.special.log_ndtr(t) * 1.0,
            torch.erfinv(t) * 1.0, torch.special.ndtri(t) * 1.0,
            torch.special.bessel_j0(t) + torch.special.bessel_y1(t),
            torch.special.modified_bessel_k0(t) + torch.special.airy_ai(t))


def test_float64_fused_as_eager():
    """One fused float64 CPU kernel: each function is eager's (ops/_special_kernels.jit64):
    torch 2.13's bits."""
    x = torch.tensor(_XI + _XN[:5] + _XB[2:] + [-4.25, 51.0], dtype=torch.float64)
    tr = torch.jit.trace(_f64_family, (x,))
    for _ in range(2):
        got = tr(x)
    want = (torch.special.erfcx(x), torch.special.log_ndtr(x), torch.erfinv(x),
            torch.special.ndtri(x), torch.special.bessel_j0(x) + torch.special.bessel_y1(x),
            torch.special.modified_bessel_k0(x) + torch.special.airy_ai(x))
    for g, w in zip(got, want):
        assert _bits(g) == _bits(w)
    assert _bits(got[2])[:len(_XI)] == _TORCH_ERFINV["float64"]
    n = len(_XI)
    assert _bits(got[3])[n:n + 5] == _TORCH_NDTRI64[:5]


@pytest.mark.parametrize("name", ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "ndtri",
                                  "modified_bessel_i0", "modified_bessel_i1",
                                  "modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai"])
def test_float64_torch_ranges(name, _torch_threads):
    ref = _one_thread_torch()
    x = _spread(np.float64, 0.0 if name == "ndtri" else -40.0, 1.0 if name == "ndtri" else 60.0,
                5000)
    with np.errstate(all="ignore"):
        want = getattr(ref.special, name)(ref.from_numpy(x)).numpy()
        got = getattr(torch.special, name)(torch.from_numpy(x)).numpy()
    assert _mismatches(got, want) == 0


_XM = [1.6566883677254774e-13, 1.1081137522339415e-10, 1.4239134073834692e-05,
       0.001383614999156922, -0.014264605656132846, 0.3, 1.7, 2.5, 4.9, 9.75, -3.0,
       -0.05948280050369304]
# torch 2.13 (CPU) float64 values of _XM (of |_XM| for the k functions), the bits: ATen's
# double Chebyshev / polynomial steps with GCC's FMAs (5-7 of 12 differed in 2.51)
_TORCH_MB64 = {
    "modified_bessel_i0": [
        4607182418800017407, 4607182418800017408, 4607182418800245687, 4607182420955429713,
        4607182647899889413, 4607284321205433816, 4611073371081274317, 4614590477971643911,
        4627706104542251470, 4657103802638432709, 4617181302345131504, 4607186403344095991],
    "modified_bessel_i1": [
        4411083254330027361, 4453626447102011773, 4530019327067111511, 4559520022744987318,
        13798245253468655258, 4594633366861052066, 4608066685119844340, 4612849559972257136,
        4626941778817961163, 4656846049922537212, 13839456653973769220, 13807605425155005036],
    "modified_bessel_k0": [
        4629009316232454756, 4627178154347740244, 4622537130969640234, 4619228411590828315,
        4616601898304333976, 4608859829789895095, 4595130653541196854, 4589146050391334636,
        4571398832315713583, 4537443313526921498, 4585167311244085086, 4613806051518479161],
    "scaled_modified_bessel_k1": [
        4798011009074905946, 4756028962289531309, 4679562581347656456, 4649577301154065884,
        4634701913916302396, 4616330533167610080, 4607840121094921447, 4606283269945436356,
        4603643911864487745, 4601172162218222754, 4605440097522393727, 4625684710902253945],
    "airy_ai": [
        4600067236762686132, 4600067236762170249, 4600067170373067708, 4600060785693945492,
        4600133742032506806, 4598694150990870076, 4587989848757681014, 4580189910219709942,
        4549149247574068283, 4463280631662258746, 13823867768323751975, 4600344344683613789]}


@pytest.mark.parametrize("name", sorted(_TORCH_MB64))
def test_modified_bessel_airy_float64_bits(name):
    x = np.abs(_XM) if "_k" in name else np.array(_XM)
    got = getattr(torch.special, name)(torch.tensor(x, dtype=torch.float64))
    assert _bits(got) == _TORCH_MB64[name]
