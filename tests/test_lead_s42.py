"""Session 42 lead: torch.version, torch.types and torch.__config__ as gpujit has them."""
import typing

import pytest

import gpujit


def test_version_module():
    v = gpujit.version
    assert v.__version__ == gpujit.__version__
    assert v.debug is False and v.hip is None and v.rocm is None and v.xpu is None
    assert v.git_version == "Unknown"
    cuda = v.cuda
    if gpujit.cuda.is_available():
        major, minor = cuda.split(".")
        assert int(major) >= 11 and minor.isdigit()
    else:
        assert cuda is None
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        v.nope


def test_types_module_against_torch_names():
    T = gpujit.types
    assert T.__all__ == ["Number", "Device", "FileLike", "Storage"]
    assert set(typing.get_args(T.Number)) == {int, float, bool}
    assert set(typing.get_args(T.Device)) == {gpujit.device, str, int, type(None)}
    assert T._int is int and T._dtype is gpujit.dtype and T._device is gpujit.device
    assert isinstance(3.5, T._Number) and not isinstance("x", T._Number)
    assert gpujit.UntypedStorage in typing.get_args(T.Storage)
    torch = pytest.importorskip("torch")
    import torch.types as TT
    assert T.__all__ == TT.__all__
    for name in ("_bool", "_int", "_float", "_complex", "_str", "_bytes", "_dtype", "_device",
                 "_layout", "_size", "Number", "Device", "FileLike", "Storage", "_Number",
                 "_TensorOrTensors", "IntLikeType", "FloatLikeType", "BoolLikeType"):
        assert hasattr(T, name), name


def test_config_reports():
    s = gpujit.__config__.show()
    assert s.startswith(f"gpujit {gpujit.__version__} built with:\n")
    assert "  - NumPy " in s and "  - numba " in s and "CPU capability usage: " in s
    p = gpujit.__config__.parallel_info()
    assert f"gpujit.get_num_threads() : {gpujit.get_num_threads()}" in p
    assert "OMP_NUM_THREADS : " in p


def test_cpu_capability_follows_the_environment(monkeypatch):
    cap = gpujit.__config__._cpu_capability()
    assert cap in ("DEFAULT", "AVX2", "AVX512")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert gpujit.__config__._cpu_capability() == "DEFAULT"
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
    assert cap == torch.backends.cpu.get_cpu_capability()
