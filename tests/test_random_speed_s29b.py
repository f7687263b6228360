"""Session 29 (f29): the CPU generator's Mersenne Twister in numba over NumPy's own state
(ops/_mt_kernels), float64 fills with the C library's log / log1p, fma'd affine maps, and
rrelu's unfused slopes. Both paths (NumPy / numba, pinned with LazyKernel.force) must give
torch 2.13's bits: the digests below were taken from torch 2.13 (CPU) with the same calls."""
import ctypes
import hashlib

import numpy as np
import pytest

import gpujit
import gpujit.nn.functional as F
import gpujit.ops.random as R

KERNELS = [k for k in vars(R).values() if isinstance(k, R.LazyKernel)]


@pytest.fixture(params=["numpy", "numba"])
def path(request):
    old = [k.force for k in KERNELS]
    for k in KERNELS:
        k.force = request.param
    yield request.param
    for k, f in zip(KERNELS, old):
        k.force = f


def _cases(T, F):
    f64 = T.float64
    return {
        "randn64_1023": lambda: T.randn(1023, dtype=f64),
        "randn64_20000": lambda: T.randn(20000, dtype=f64),
        "randn64_9": lambda: T.randn(9, dtype=f64),
        "normal64_ms": lambda: T.empty(3000, dtype=f64).normal_(0.3, 2.5),
        "normal64_strided": lambda: T.empty(40, 30, dtype=f64).t().normal_(1.5, 3.0).t()
        .contiguous(),
        "normal32_strided": lambda: T.empty(40, 30).t().normal_(-1.0, 0.5).t().contiguous(),
        "normal_tensor": lambda: T.normal(T.zeros(70, dtype=f64),
                                          T.full((70,), 2.0, dtype=f64)),
        "exp64": lambda: T.empty(20000, dtype=f64).exponential_(),
        "exp32": lambda: T.empty(5000).exponential_(2.5),
        "unif64": lambda: T.empty(3000, dtype=f64).uniform_(-2.3, 3.1),
        "rand": lambda: T.rand(70001),
        "rand64": lambda: T.rand(1001, dtype=f64),
        "dropout": lambda: F.dropout(T.ones(70001), 0.3, True),
        "bern": lambda: T.empty(5000).bernoulli_(0.25),
        "randint": lambda: T.randint(-5, 1000, (3001,)),
        "rrelu64": lambda: F.rrelu(T.linspace(-3, 1, 4000, dtype=f64), 0.1, 0.4,
                                   training=True),
        "state": lambda: T.get_rng_state(),
    }


# sha256(tensor.numpy().tobytes())[:16] of torch 2.13's results, the cases run in order
# after torch.manual_seed(seed)
TORCH = {
    (0, 'randn64_1023'): '840747beb9037603',
    (0, 'randn64_20000'): '8b72455e1fd10af3',
    (0, 'randn64_9'): '8838a69498b6bfcc',
    (0, 'normal64_ms'): '6863b9c8a6d5c7bf',
    (0, 'normal64_strided'): '5237bef6b53d3c91',
    (0, 'normal32_strided'): 'd7056ff8897dc7f8',
    (0, 'normal_tensor'): '9c9ca351cc12b640',
    (0, 'exp64'): '252907db3c16c5bc',
    (0, 'exp32'): 'cfa2ff5f95057516',
    (0, 'unif64'): '966a2dd213574963',
    (0, 'rand'): '94724755d1a709e0',
    (0, 'rand64'): 'e132c728fa7b76a6',
    (0, 'dropout'): 'f009a3f0648c3a1a',
    (0, 'bern'): 'c12f3df3b16b19b3',
    (0, 'randint'): 'c94da2f197b136be',
    (0, 'rrelu64'): 'db30a84f771faa15',
    (0, 'state'): '3792d7d19106a4b9',
    (1023, 'randn64_1023'): 'db23e62a371f4ff2',
    (1023, 'randn64_20000'): 'a1346fb1e2df06ae',
    (1023, 'randn64_9'): '49c286f1053f04b9',
    (1023, 'normal64_ms'): '32d6266c784a227a',
    (1023, 'normal64_strided'): '80919c2f97966768',
    (1023, 'normal32_strided'): '733b0b9b568fcc28',
    (1023, 'normal_tensor'): 'fb35d4bbada4a0e7',
    (1023, 'exp64'): '7aaacec47b33d923',
    (1023, 'exp32'): '56e1e407dbff2671',
    (1023, 'unif64'): 'cee425a6fb7d4975',
    (1023, 'rand'): '1dc8d08d3a1a5cc0',
    (1023, 'rand64'): '001da5a5cb17368b',
    (1023, 'dropout'): 'cc143d6827642fc7',
    (1023, 'bern'): '9fee6aa78fb1321a',
    (1023, 'randint'): '00ad102bb0c147cb',
    (1023, 'rrelu64'): '6bca07711206d137',
    (1023, 'state'): '6f4dd7c2a0cbf98c',
}


def _digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


@pytest.mark.parametrize("seed", [0, 1023])
def test_torch_digests(path, seed):
    gpujit.manual_seed(seed)
    got = {name: _digest(f().numpy()) for name, f in _cases(gpujit, F).items()}
    want = {name: TORCH[(seed, name)] for name in got}
    assert got == want


def test_values_numpy_log_got_wrong(path):
    """Values where NumPy's float64 log / log1p differ from glibc's (torch's)."""
    gpujit.manual_seed(1023)
    v = gpujit.randn(1023, dtype=gpujit.float64).numpy()
    assert [v[i].hex() for i in (196, 204, 1007)] == [
        '-0x1.043c3dda96775p-5', '0x1.31f0c0fd934d0p-1', '0x1.f5af3d1997021p+0']
    gpujit.manual_seed(0)
    e = gpujit.empty(2000, dtype=gpujit.float64).exponential_().numpy()
    assert [e[i].hex() for i in (40, 57, 72)] == [
        '0x1.4554e1d74c9b0p-2', '0x1.5a08ea1399946p+0', '0x1.0b4de5b7a92d2p-1']
    gpujit.manual_seed(5)
    u = gpujit.empty(3000, dtype=gpujit.float64).uniform_(-2.3, 3.1).numpy()
    assert [u[i].hex() for i in (66, 210, 573)] == [
        '0x1.b3b7202d00549p-8', '-0x1.209192056fac9p-14', '-0x1.12f8972c04b1bp-5']


def _numpy_bg(seed):
    bg = np.random.MT19937()
    bg._legacy_seeding(seed)
    key = np.ctypeslib.as_array((ctypes.c_uint32 * 625).from_address(bg.ctypes.state_address))
    return bg, key


@pytest.mark.parametrize("sizes", [(1, 5, 623, 624, 625, 3), (1000, 1, 70000, 2),
                                   (624, 624, 1, 1247)])
def test_mt_kernels_are_numpys_engine(sizes):
    """mt_raw / mt_u24 / mt_u53 / mt_below advance NumPy's own state as random_raw does."""
    mt_raw, mt_u24 = R.MT_RAW.load(), R.MT_U24.load()
    mt_u53, mt_below = R.MT_U53.load(), R.MT_BELOW.load()
    bg, key = _numpy_bg(7)
    ref, _ = _numpy_bg(7)
    m53 = np.uint64((1 << 53) - 1)
    for n in sizes:
        o = np.empty(n, np.uint64)
        mt_raw(key, o)
        assert (o == ref.random_raw(n)).all()
        o = np.empty(n, np.float32)
        mt_u24(key, o)
        r = ref.random_raw(n)
        assert (o == (r & np.uint64(0xFFFFFF)).astype(np.float32) * np.float32(2 ** -24)).all()
        o = np.empty(n)
        mt_u53(key, o)
        r = ref.random_raw(2 * n)
        bits = ((r[0::2] << np.uint64(32)) | r[1::2]) & m53
        assert (o == bits.astype(np.float64) * 2.0 ** -53).all()
        o = np.empty(n, np.bool_)
        mt_below(key, 3 << 50, o)
        r = ref.random_raw(2 * n)
        bits = ((r[0::2] << np.uint64(32)) | r[1::2]) & m53
        assert (o == (bits < np.uint64(3 << 50))).all()
        assert bg.state["state"]["pos"] == ref.state["state"]["pos"]
        assert (bg.state["state"]["key"] == ref.state["state"]["key"]).all()


def test_state_across_paths():
    """A state saved after numba draws replays on the NumPy path, and back."""
    g = gpujit.Generator().manual_seed(11)
    old = [k.force for k in KERNELS]
    try:
        for k in KERNELS:
            k.force = "numba"
        gpujit.rand(1001, generator=g)
        gpujit.randn(17, dtype=gpujit.float64, generator=g)    # (a cached normal too)
        st = g.get_state()
        a = [gpujit.randn(5, dtype=gpujit.float64, generator=g).numpy(),
             gpujit.rand(700, generator=g).numpy()]
        for k in KERNELS:
            k.force = "numpy"
        g.set_state(st)
        b = [gpujit.randn(5, dtype=gpujit.float64, generator=g).numpy(),
             gpujit.rand(700, generator=g).numpy()]
    finally:
        for k, f in zip(KERNELS, old):
            k.force = f
    assert all((x == y).all() for x, y in zip(a, b))
    assert (g.get_state().numpy() == gpujit.Generator().set_state(
        g.get_state()).get_state().numpy()).all()


def test_fresh_flag_and_state_bytes():
    """get_rng_state right after seeding says `next_ = 0`, after a draw the position."""
    g = gpujit.Generator().manual_seed(3)
    b = g.get_state().numpy().tobytes()
    assert int.from_bytes(b[16:24], "little") == 0
    gpujit.rand(10, generator=g)
    b = g.get_state().numpy().tobytes()
    assert int.from_bytes(b[8:12], "little") == 625 - 10
    assert int.from_bytes(b[16:24], "little") == 10


def test_against_torch(path):
    torch = pytest.importorskip("torch")
    for seed in (1, 99):
        torch.manual_seed(seed)
        gpujit.manual_seed(seed)
        pairs = [
            (torch.randn(4099, dtype=torch.float64), gpujit.randn(4099, dtype=gpujit.float64)),
            (torch.empty(9000, dtype=torch.float64).exponential_(0.7),
             gpujit.empty(9000, dtype=gpujit.float64).exponential_(0.7)),
            (torch.empty(60, 50, dtype=torch.float64).t().normal_(2.0, 0.1),
             gpujit.empty(60, 50, dtype=gpujit.float64).t().normal_(2.0, 0.1)),
            (torch.empty(999, dtype=torch.float64).uniform_(1e-3, 7.0),
             gpujit.empty(999, dtype=gpujit.float64).uniform_(1e-3, 7.0)),
            (torch.nn.functional.rrelu(torch.linspace(-5, 0, 999, dtype=torch.float64),
                                       0.2, 0.3, training=True),
             F.rrelu(gpujit.linspace(-5, 0, 999, dtype=gpujit.float64), 0.2, 0.3,
                     training=True)),
            (torch.get_rng_state(), gpujit.get_rng_state()),
        ]
        for a, b in pairs:
            assert (a.numpy() == b.numpy()).all()


def test_copied_generator_keeps_its_own_state():
    """deepcopy / pickle of a CPU generator: the copy's view is of its own engine's state
    (a stale view would draw from one state and report another)."""
    import copy
    import pickle
    g = gpujit.Generator().manual_seed(4)
    gpujit.rand(3, generator=g)
    for h in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        st = h._get_stream()
        assert st.key.ctypes.data == st.bg.ctypes.state_address
        assert (h.get_state().numpy() == g.get_state().numpy()).all()
        small = gpujit.rand(5, generator=h).numpy()        # NumPy's random_raw path
        big = gpujit.rand(70001, generator=h).numpy()      # numba's from 64k
        assert (h.get_state().numpy() != g.get_state().numpy()).any()
        k = copy.deepcopy(g)
        assert (gpujit.rand(5, generator=k).numpy() == small).all()
        assert (gpujit.rand(70001, generator=k).numpy() == big).all()
        assert (k.get_state().numpy() == h.get_state().numpy()).all()
    # (torch 2.13: deepcopy / pickle of a torch.Generator carry its state the same way)
    assert gpujit.rand(3, generator=copy.deepcopy(g)).numpy().tolist() == \
        gpujit.rand(3, generator=g).numpy().tolist()


def _cases2(T):
    f64 = T.float64
    P = np.random.RandomState(0).rand(30, 40)
    return {
        "cauchy64": lambda: T.empty(3000, dtype=f64).cauchy_(0.5, 2.0),
        "lognormal64": lambda: T.empty(3000, dtype=f64).log_normal_(0.5, 0.3),
        "lognormal64_t": lambda: T.empty(40, 30, dtype=f64).t().log_normal_(-0.5, 0.7),
        "cauchy32_t": lambda: T.empty(40, 30).t().cauchy_(),
        "geometric64_t": lambda: T.empty(40, 30, dtype=f64).t().geometric_(0.3),
        "random_t": lambda: T.empty(4, 30, 10, dtype=f64).permute(2, 0, 1).random_(3, 77),
        "bern_p_t": lambda: T.empty(40, 30, dtype=f64).t().bernoulli_(T.tensor(P, dtype=f64)),
        "bern_p32_t": lambda: T.empty(40, 30).t().bernoulli_(T.tensor(P[:1], dtype=T.float32)),
        "state": lambda: T.get_rng_state(),
    }


# torch 2.13: C's tan / exp / log with the affine maps fused, and the fills of a strided
# tensor drawn in its memory order (bernoulli_ with a tensor p pairs each draw with p there)
TORCH2 = {
    (0, 'cauchy64'): '38acee127ee8f3f5',
    (0, 'lognormal64'): '8bff9f764086003a',
    (0, 'lognormal64_t'): '747913aab3875211',
    (0, 'cauchy32_t'): '7d144392f5fb322a',
    (0, 'geometric64_t'): '3f0e831275ff650d',
    (0, 'random_t'): '718ae637b5d84a2b',
    (0, 'bern_p_t'): '029577be2631ed02',
    (0, 'bern_p32_t'): 'aab7c7e6595304a1',
    (0, 'state'): '964604456ddd0d1a',
    (1023, 'cauchy64'): '7fc0d50fe0bc3d7b',
    (1023, 'lognormal64'): '02c70fefe095b8e4',
    (1023, 'lognormal64_t'): 'd3a295fdf9852ffe',
    (1023, 'cauchy32_t'): '4720c258111644b6',
    (1023, 'geometric64_t'): 'bad5ba73c5dee3c0',
    (1023, 'random_t'): 'ca37c70975f062d4',
    (1023, 'bern_p_t'): '588bcc209a4c487c',
    (1023, 'bern_p32_t'): 'b99847d4fd37bb6b',
    (1023, 'state'): '56a1604b75d0a14d',
}


@pytest.mark.parametrize("seed", [0, 1023])
def test_torch_digests_fills(path, seed):
    gpujit.manual_seed(seed)
    got = {name: _digest(f().contiguous().numpy()) for name, f in _cases2(gpujit).items()}
    assert got == {name: TORCH2[(seed, name)] for name in got}


def test_libm_paths_agree():
    """random.libm: numba's loop and Python's math give the same bits (both glibc's)."""
    x = np.random.RandomState(3).rand(20000) * 3 - 1
    old = R.LIBM.force
    try:
        for name, v in (("log", x + 1.5), ("log1p", x), ("exp", x * 200), ("tan", x * 1.6)):
            R.LIBM.force = "numpy"
            a = R.libm(name, v)
            R.LIBM.force = "numba"
            b = R.libm(name, v)
            assert a.tobytes() == b.tobytes(), name
        R.LIBM.force = "numpy"
        with np.errstate(all="ignore"):
            c = R.libm("log", np.array([0.0, -1.0, np.inf, 1.0]))
        assert c[0] == -np.inf and np.isnan(c[1]) and c[2] == np.inf and c[3] == 0.0
        assert R.libm("exp", np.array([1000.0]))[0] == np.inf
    finally:
        R.LIBM.force = old


def test_cold_threshold(monkeypatch):
    """A helper with cold_n waits for that much work while numba is not imported, then
    uses min_n; force pins either path."""
    import sys
    import types
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    k = R.LazyKernel("_mt_kernels", "mt_raw", 100, 10000)
    monkeypatch.setattr(k, "load", lambda: "fn")
    assert k.get(5000) is None and k.get(9999) is None
    assert k.get(10000) == "fn"                              # (a cold_n call)
    k = R.LazyKernel("_mt_kernels", "mt_raw", 100, 10000)
    monkeypatch.setattr(k, "load", lambda: "fn")
    assert [k.get(9999) for _ in range(5)] == [None] * 4 + ["fn"]   # (4 * cold_n of work)
    monkeypatch.setitem(sys.modules, "numba", types.ModuleType("numba"))   # (imported)
    k = R.LazyKernel("_mt_kernels", "mt_raw", 100, 10000)
    monkeypatch.setattr(k, "load", lambda: "fn")
    assert k.get(99) is None and k.get(100) == "fn"
    k.force = "numpy"
    assert k.get(10 ** 6) is None


@pytest.mark.parametrize("n", [16, 17, 1000, 1024, 70001])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_normal_fill_fused_with_the_twister(n, dtype):
    """normal_fill_mt (the words drawn in the fill's loop) = mt_raw then the fill."""
    dt = getattr(gpujit, dtype)
    old = [k.force for k in KERNELS]
    try:
        for k in KERNELS:
            k.force = "numba"
        gpujit.manual_seed(n)
        a = gpujit.randn(n, dtype=dt).numpy()
        sa = gpujit.get_rng_state().numpy()
        R.NORMAL_FILL_MT.force = "numpy"
        gpujit.manual_seed(n)
        b = gpujit.randn(n, dtype=dt).numpy()
        sb = gpujit.get_rng_state().numpy()
    finally:
        for k, f in zip(KERNELS, old):
            k.force = f
    assert a.tobytes() == b.tobytes() and (sa == sb).all()
