"""The CPU generator's fast paths (session 29): randn's float fill, randperm and the rejection
samplers each have a NumPy / Python path for small calls and a numba loop for large ones
(or every call once loaded): both give the same bits, those of PyTorch 2.13 (torch compared
where installed), and leave the stream at the same place."""
import numpy as np
import pytest

import gpujit
from gpujit.ops import random as R

_KERNELS = ("NORMAL_FILL", "RANDPERM", "POISSON", "BINOMIAL", "GAMMA")


def _draw(monkeypatch, force, fn, seed=0):
    for k in _KERNELS:
        monkeypatch.setattr(getattr(R, k), "force", force)
    gpujit.manual_seed(seed)
    out = fn(gpujit).numpy()
    after = (gpujit.rand(3).tolist(), gpujit.randn(3).tolist())   # (serial: the cache too)
    return out, after


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    return np.array_equal(a.view(np.uint8), b.view(np.uint8))


_CASES = {
    # randn: around the 16-value block, the ragged tail and the 64k numba threshold
    **{f"randn{n}": (lambda n: lambda t: t.randn(n))(n)
       for n in (16, 17, 31, 1000, 65535, 65536, 65537)},
    "randn_half": lambda t: t.randn(1000, dtype=t.float16),
    "randn_half_big": lambda t: t.randn(70001, dtype=t.float16),
    "normal_mean_std": lambda t: t.empty(70001).normal_(0.3, 2.5),
    "normal_mean_std_small": lambda t: t.empty(999).normal_(-1.0, 0.5),
    **{f"randperm{n}": (lambda n: lambda t: t.randperm(n))(n)
       for n in (2, 3, 1000, 16383, 16384, 16385)},
    "poisson": lambda t: t.poisson(t.tensor(np.concatenate(
        [np.linspace(0, 30, 1500), [1e5, 9.999, 10.0, 0.0]]).astype(np.float32))),
    "binomial": lambda t: t.binomial(
        t.tensor(np.floor(np.linspace(0, 300, 1500)).astype(np.float32)),
        t.tensor(np.linspace(0, 1, 1500).astype(np.float32))),
    "binomial64_small_means": lambda t: t.binomial(
        t.tensor(np.floor(np.linspace(0, 40, 1200))),
        t.tensor(np.linspace(0, 0.3, 1200))),
    "gamma": lambda t: t._standard_gamma(t.tensor(np.linspace(0, 4, 1500).astype(np.float32))),
    "gamma64": lambda t: t._standard_gamma(t.tensor(np.linspace(0.01, 50, 1100))),
    "dirichlet": lambda t: t._sample_dirichlet(t.tensor(np.linspace(0.1, 5, 1200).reshape(300, 4))),
}


@pytest.mark.parametrize("name", sorted(_CASES))
def test_numpy_and_numba_paths_agree(monkeypatch, name):
    a, sa = _draw(monkeypatch, "numpy", _CASES[name])
    b, sb = _draw(monkeypatch, "numba", _CASES[name])
    assert _same_bits(a, b)
    assert sa == sb


@pytest.mark.parametrize("name", sorted(_CASES))
@pytest.mark.parametrize("force", [None, "numba"])
def test_against_torch(monkeypatch, name, force):
    torch = pytest.importorskip("torch")
    torch.manual_seed(5)
    a = _CASES[name](torch).numpy()
    after = (torch.rand(3).tolist(), torch.randn(3).tolist())
    b, sb = _draw(monkeypatch, force, _CASES[name], seed=5)
    assert _same_bits(a, b)
    assert after == sb


def test_randn_zero_radius_is_plus_zero():
    # u1 == 0 (24 zero bits) gives radius sqrt(-0.0) = -0.0: ATen's fma(v, std, mean)
    # makes the value +0.0 (it was -0.0 here: torch 2.13 gives +0.0)
    for force in ("numpy", "numba"):
        R.NORMAL_FILL.force = force
        try:
            gpujit.manual_seed(0)
            R.default_generator._get_stream().raw(47888638)
            v = gpujit.randn(16).numpy()
        finally:
            R.NORMAL_FILL.force = None
        assert v[8] == 0 and not np.signbit(v[8])
        assert v[0] == 0 and not np.signbit(v[0])


def test_sampler_blocks_topped_up():
    """A sampler that runs out of words mid-element starts it again on a longer block
    (with the normal cache it had then): the same numbers as one long block."""
    alpha = np.linspace(0.05, 6, 700)
    outs = []
    for per in (5, 0.01):
        gpujit.manual_seed(9)
        st = R.default_generator._get_stream()
        run = R.GAMMA.load()
        res = np.empty(alpha.size)
        cache = [0.0, False]

        def step(w, i):
            i, p, cache[0], cache[1] = run(alpha, res, False, w, i, cache[0], cache[1])
            return i, p
        st._drive(alpha.size, per, step)
        outs.append((res.copy(), cache[1] and cache[0], gpujit.rand(4).tolist()))
    assert _same_bits(outs[0][0], outs[1][0])
    assert outs[0][1:] == outs[1][1:]


def test_lazy_kernel_waits_for_work():
    k = R.LazyKernel("no_such_module", "f", 1000)
    for _ in range(4):
        assert k.get(999) is None          # small calls: no numba, no import
    with pytest.raises(ImportError):
        k.get(999)                          # 4 * 1000 elements of work: now it loads
    k2 = R.LazyKernel("no_such_module", "f", 1000)
    with pytest.raises(ImportError):
        k2.get(1000)                        # a large call loads at once
    k3 = R.LazyKernel("no_such_module", "f", 1000)
    k3.force = "numpy"
    assert k3.get(10 ** 9) is None


def test_hard_coded_values():
    """Checked against torch 2.13 (manual_seed(3))."""
    gpujit.manual_seed(3)
    assert gpujit.randperm(20000)[:5].tolist() == _PERM5
    gpujit.manual_seed(3)
    v = gpujit.randn(70001).numpy()
    np.testing.assert_array_equal(v[[0, 1, 69999, 70000]], np.array(_RANDN4, np.float32))


_PERM5 = [18986, 16237, 15915, 14882, 16296]
_RANDN4 = [-0.07664429396390915, 0.35988152027130127, -0.30561363697052, 1.03013277053833]
