"""Session 44 (lead): scripted F.hardtanh's bounds check, torch.functional,
torch.torch_version / TorchVersion, torch.quasirandom.SobolEngine, storages."""
import pytest

import gpujit
import gpujit as torch
from gpujit.torch_version import TorchVersion, _Version, InvalidVersion

F = torch.nn.functional


# ------------------------------------------------------------------ F.hardtanh in scripts

def _hardtanh_vars(x, lo: float, hi: float):
    return F.hardtanh(x, lo, hi)


def _hardtanh_consts(x):
    return F.hardtanh(x, 2.0, 1.0)


def _hardtanh_kw(x, hi: float):
    return F.hardtanh(x, max_val=hi)


def test_scripted_hardtanh_checks_its_bounds_as_torch():
    x = torch.tensor([-3.0, 0.5, 3.0])
    s = torch.jit.script(_hardtanh_vars)
    assert s(x, -1.0, 1.0).tolist() == [-1.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        s(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        torch.jit.script(_hardtanh_consts)(x)
    k = torch.jit.script(_hardtanh_kw)
    assert k(x, 2.0).tolist() == [-1.0, 0.5, 2.0]
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        k(x, -2.0)        # (default min_val -1 > -2)
    assert "RaiseException" in str(s.graph)


def test_scripted_hardtanh_modules_keep_constant_bounds_without_a_check():
    m = torch.jit.script(torch.nn.Sequential(torch.nn.ReLU6(), torch.nn.Hardtanh(-2.0, 2.0)))
    x = torch.tensor([-3.0, 0.5, 7.0])
    assert m(x).tolist() == [0.0, 0.5, 2.0]
    assert "RaiseException" not in str(m.graph_for(x))


# ------------------------------------------------------------------ torch.functional

def test_torch_functional_module_holds_the_top_level_functions():
    import gpujit.functional as TF
    from gpujit.functional import einsum, split
    assert split is torch.split and einsum is torch.einsum
    for name in ("atleast_1d", "broadcast_tensors", "cdist", "norm", "meshgrid", "stft",
                 "tensordot", "unique", "unravel_index", "svd_lowrank"):
        assert getattr(TF, name) is getattr(torch, name)
    assert gpujit.functional is TF
    with pytest.raises(AttributeError):
        TF.not_a_function


# ------------------------------------------------------------------ TorchVersion

def test_version_is_a_torch_version_comparing_as_versions():
    v = torch.__version__
    assert isinstance(v, TorchVersion) and isinstance(v, str) and v == "0.1.0"
    assert v >= "0.1" and v < "0.10" and v > (0, 0, 9) and v <= (0, 1)
    t = TorchVersion("2.13.0+cpu")
    assert t < "2.14" and t > (2, 13) and t != "2.13.0" and t > "2.9"   # not string order
    assert not t == (2, 13, 0)
    assert TorchVersion("1.10") > "1.9"
    # not a version: string comparison, as torch
    assert TorchVersion("parrot") < "q" and not TorchVersion("1.0") > "xyz"
    assert hash(t) == hash("2.13.0+cpu")
    assert {t: 1}["2.13.0+cpu"] == 1


_VERSIONS = ["1.0", "1.0.0", "1!0.5", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0c2", "1.0.dev0",
             "1.0a1.dev3", "1.0.post1", "1.0-1", "1.0.post1.dev2", "1.0+local", "1.0+local.7",
             "1.0+local.abc", "1.0+5", "2.0.0a0+gitabc", "0.9.99", "1.10", "1.9", "1.0alpha3",
             "1.0preview2", "v1.0", "1.0.0.0.1"]


def test_version_order_is_pep440():
    expect_sorted = ["0.9.99", "1.0.dev0", "1.0a1.dev3", "1.0a1", "1.0a2", "1.0alpha3",
                     "1.0b1", "1.0rc1", "1.0c2", "1.0preview2"]
    keys = [_Version(s) for s in expect_sorted]
    assert keys == sorted(keys)
    assert _Version("1.0") == _Version("1.0.0") == _Version("v1.0")
    assert _Version("1.0") < _Version("1.0+local") < _Version("1.0.post1.dev2") \
        < _Version("1.0.post1") == _Version("1.0-1") < _Version("1.0.0.0.1") < _Version("1!0.5")
    assert _Version("1.0+local.7") > _Version("1.0+local.abc")    # numbers beat strings
    with pytest.raises(InvalidVersion):
        _Version("parrot")


def test_version_order_equals_torch_packaging():
    torch_ = pytest.importorskip("torch")
    from torch._vendor.packaging.version import Version as TV
    for a in _VERSIONS:
        for b in _VERSIONS:
            assert (_Version(a) < _Version(b)) == (TV(a) < TV(b)), (a, b)
            assert (_Version(a) == _Version(b)) == (TV(a) == TV(b)), (a, b)
            assert (TorchVersion(a) >= b) == (torch_.torch_version.TorchVersion(a) >= b)
