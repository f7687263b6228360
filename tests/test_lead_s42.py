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
    assert s.startswith(f"gpujit {gpujit.version.gpujit_version} built with:\n")
    assert "  - NumPy " in s and "  - numba " in s and "CPU capability usage: " in s
    p = gpujit.__config__.parallel_info()
    assert f"gpujit.get_num_threads() : {gpujit.get_num_threads()}" in p
    assert "OMP_NUM_THREADS : " in p


def test_cpu_capability_follows_the_environment(monkeypatch):
    cap = gpujit.backends.cpu.get_cpu_capability()
    assert cap in ("DEFAULT", "AVX2", "AVX512")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert gpujit.backends.cpu.get_cpu_capability() == "DEFAULT"
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
    assert cap == torch.backends.cpu.get_cpu_capability()


_FP_PROGRAM = r'''
import json, math, warnings
import gpujit as torch
warnings.simplefilter("error")          # (as `python -W error` / pytest -W error)
x = torch.tensor([0., 1., -1.])
out = {
    "div0": (x / 0).tolist(), "rdiv": (1 / x).tolist(), "div_": x.clone().div_(0).tolist(),
    "log": torch.log(x).tolist(), "log_method": x.log().tolist(), "sqrt": x.sqrt().tolist(),
    "exp": torch.tensor([1000.]).exp().tolist(), "pow": (x ** -1).tolist(),
    "atanh": torch.atanh(torch.tensor([1., 2.])).tolist(),
    "nan_to_long": torch.tensor([float("nan")]).long().tolist(),
    "log_softmax": torch.log_softmax(torch.tensor([-float("inf"), 0.]), 0).tolist(),
}
t = torch.tensor([0., 1.], requires_grad=True)
t.log().sum().backward()
out["grad_log"] = t.grad.tolist()
print(json.dumps({k: [str(v) for v in vs] for k, vs in out.items()}))
'''


def test_floating_point_warnings_made_errors_by_the_user_stay_silent(tmp_path):
    """NumPy's 'divide by zero' / 'invalid value' RuntimeWarnings inside gpujit's ops, which
    a user's simplefilter("error") (python -W error, pytest -W error) turned into
    exceptions where PyTorch computes inf / nan silently: the entry points compute again
    without them."""
    import json
    import subprocess
    import sys
    p = tmp_path / "fp.py"
    p.write_text(_FP_PROGRAM)
    r = subprocess.run([sys.executable, str(p)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["div0"] == ["nan", "inf", "-inf"] == got["div_"]
    assert got["rdiv"] == ["inf", "1.0", "-1.0"] == got["pow"]
    assert got["log"] == ["-inf", "0.0", "nan"] == got["log_method"]
    assert got["sqrt"] == ["0.0", "1.0", "nan"] and got["exp"] == ["inf"]
    assert got["atanh"] == ["inf", "nan"] and got["log_softmax"] == ["-inf", "0.0"]
    assert got["nan_to_long"] == ["-9223372036854775808"]
    assert got["grad_log"] == ["inf", "1.0"]
