"""Session 40 (lead): finds left by session 39's torchvision runs, checked against torch 2.13.

- torch._assert(tensor_condition, msg) in traced code: PyTorch's TracerWarning ("Converting a tensor to a Python
  boolean...") points at torch/__init__.py's `if not condition:` (the Python frame that converts the tensor), so
  it is shown once for every assert in a program (the default filter shows a location once) and is not quieted
  by torch.jit's library filter (module "torch" does not match "torch.(?!jit)"): vit_b_16's shape asserts warn
  once in torch. gpujit pointed at each user line (and, for torchvision's modules, the filter quieted them).
  Now it points at gpujit's counterpart (gpujit/_asserts.py). Conversions in the user's own code still point at
  the user's line.
- torchvision's mvit_v2_s calls `torch.tensor_split(x, indices=(1,), dim=2)`: gpujit's hand-written
  tensor_split(input, indices_or_sections, dim) refused the keyword ("unexpected keyword argument 'indices'").
  PyTorch binds three overloads (indices: int[], tensor_indices_or_sections: Tensor, sections: int), so
  `indices=`, `sections=`, `tensor_indices_or_sections=` are its keywords and `indices_or_sections=` is refused
  with the parser's "invalid combination" listing. Now the three overloads are registry ops (the tensor one
  new, with its derivative and torch 2.13's error words) and the dispatcher builds torch.tensor_split and
  Tensor.tensor_split. hsplit / vsplit / dsplit had the same hand-written entry (`x.hsplit(sections=2)`,
  `torch.vsplit(x, indices=[1])` refused): the dispatcher builds them too. torch.promote_types takes
  type1= / type2=; torch.result_type binds its four overloads (tensor= other= / scalar= tensor= /
  scalar1= scalar2=) and refuses one or three operands with the parser's listing (gpujit took any count).
- torchvision's RAFT does `from torch.nn.modules.batchnorm import BatchNorm2d` (and instancenorm's
  InstanceNorm2d); code that checks `isinstance(m, _BatchNorm)` imports `_BatchNorm` from there. gpujit had
  no such modules (its classes live in normalization.py): batchnorm, instancenorm, pixelshuffle and
  channelshuffle now exist under gpujit.nn.modules with torch's names and __all__.
- Scripting RAFT: `def make_coords_grid(batch_size: int, h: int, w: int, device: str = "cpu"): device =
  torch.device(device)` was refused ("gpujit.device() needs constant arguments in scripted code"): the
  parameter is a str known at run time. TorchScript compiles aten::device(str a) -> Device and
  aten::device.with_index(str type, int index) -> Device (and refuses torch.device(a_device), "Arguments for
  call are not valid", which gpujit accepted). Now registry ops; constants still fold to a Device constant.
"""
import os
import subprocess
import sys
import warnings
from pathlib import Path

import gpujit as torch

ROOT = Path(__file__).resolve().parents[1]


def _traced_warnings(fn, *inputs):
    with warnings.catch_warnings(record=True) as caught:
        # (appended: torch.jit's own "ignore" filter for torch-named modules stays first)
        warnings.filterwarnings("default", category=torch.jit.TracerWarning, append=True)
        torch.jit.trace(fn, inputs, check_trace=False)
    return [(w.category.__name__, w.filename.replace("\\", "/").rsplit("/", 1)[-1])
            for w in caught if issubclass(w.category, torch.jit.TracerWarning)]


def _two_asserts(x):
    torch._assert((x > 0).all(), "positive")
    torch._assert((x > -1).all(), "above -1")
    if (x < 5).all():           # the user's own conversion: the user's line
        x = x + 1
    return x * 2


def test_assert_conversion_warns_once_at_the_library_line():
    got = _traced_warnings(_two_asserts, torch.ones(2, 3))
    # torch 2.13: [("TracerWarning", "__init__.py"), ("TracerWarning", "<this file>")]
    assert got == [("TracerWarning", "_asserts.py"), ("TracerWarning", "test_lead_s40.py")]


_PROGRAM = """
import types, warnings
import gpujit as torch
mod = types.ModuleType("torchvision.models.vit")
mod.torch = torch
src = ("def f(x):\\n    torch._assert((x > 0).all(), 'positive')\\n"
       "    if (x < 5).all():\\n        x = x + 1\\n    return x * 2\\n")
exec(compile(src, "<torchvision.models.vit>", "exec"), mod.__dict__)
with warnings.catch_warnings(record=True) as w:
    torch.jit.trace(mod.f, torch.ones(2, 3))
print([x.filename.replace("\\\\", "/").rsplit("/", 1)[-1] for x in w
       if issubclass(x.category, torch.jit.TracerWarning)])
"""


def test_assert_warning_not_quieted_for_torch_named_modules(tmp_path):
    # (a fresh process: pytest resets warning filters around each test, torch.jit's filter is process-wide)
    prog = tmp_path / "assert_filter.py"
    prog.write_text(_PROGRAM)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    # torch 2.13: the assert's warning shows (module "torch"); the library's own `if` is quieted
    assert out.stdout.splitlines() == ["['_asserts.py']"]


def test_tensor_split_keywords_as_torch_overloads():
    x = torch.arange(12.).view(2, 6)
    shapes = lambda r: [tuple(t.shape) for t in r]
    assert shapes(torch.tensor_split(x, indices=(1,), dim=1)) == [(2, 1), (2, 5)]
    assert shapes(x.tensor_split(indices=[1, 3], dim=1)) == [(2, 1), (2, 2), (2, 3)]
    assert shapes(torch.tensor_split(x, sections=3, dim=1)) == [(2, 2)] * 3
    assert shapes(torch.tensor_split(x, tensor_indices_or_sections=torch.tensor([1, 4]), dim=1)) == [
        (2, 1), (2, 3), (2, 2)]
    r = torch.tensor_split(x, torch.tensor(3), 1)
    assert type(r) is tuple and shapes(r) == [(2, 2)] * 3
    import pytest
    with pytest.raises(TypeError) as e:
        torch.tensor_split(x, indices_or_sections=2)
    assert str(e.value).splitlines() == [
        "tensor_split() received an invalid combination of arguments - got (Tensor, indices_or_sections=int), "
        "but expected one of:",
        " * (Tensor input, tuple of ints indices, int dim = 0)",
        " * (Tensor input, Tensor tensor_indices_or_sections, int dim = 0)",
        " * (Tensor input, int sections, int dim = 0)", ""][:len(str(e.value).splitlines())]
    with pytest.raises(RuntimeError, match="to have dtype of long, but got Float"):
        torch.tensor_split(x, torch.tensor([1.0]), 1)


def test_tensor_split_by_a_tensor_backward_and_script():
    x = torch.arange(12.).view(2, 6).requires_grad_()
    pieces = torch.tensor_split(x, torch.tensor([2, 1, 4]), 1)   # overlapping pieces add up
    assert [p.grad_fn.name() for p in pieces] == ["SliceBackward0"] * 4
    sum(p.sum() * (i + 1) for i, p in enumerate(pieces)).backward()
    assert x.grad.tolist() == [[1.0, 4.0, 3.0, 3.0, 4.0, 4.0]] * 2     # (torch 2.13)

    def f(x, t):
        a, b = torch.tensor_split(x, indices=(1,), dim=1)
        return a.sum() * 100 + b.sum() + torch.tensor_split(x, t, 1)[0].sum()

    s = torch.jit.script(f)
    y = torch.arange(12.).view(2, 6)
    assert float(s(y, torch.tensor([2]))) == 6 * 100 + 60 + 14
    assert float(s(y, torch.tensor(3))) == 6 * 100 + 60 + 14


def test_hsplit_vsplit_dsplit_keywords_and_promote_types_names():
    x = torch.arange(24.).view(2, 3, 4)
    shapes = lambda r: [tuple(t.shape) for t in r]
    assert shapes(x.hsplit(sections=3)) == [(2, 1, 4)] * 3
    assert shapes(torch.vsplit(x, indices=[1])) == [(1, 3, 4)] * 2
    assert shapes(torch.dsplit(x, indices=(1, 3))) == [(2, 3, 1), (2, 3, 2), (2, 3, 1)]
    assert type(torch.hsplit(x, [1])) is tuple
    import pytest
    with pytest.raises(TypeError, match=r"hsplit\(\) received an invalid combination of arguments"):
        torch.hsplit(x, indices_or_sections=2)
    with pytest.raises(RuntimeError, match="not divisible by the split_size 2"):
        torch.hsplit(x, 2)
    assert torch.promote_types(type1=torch.float32, type2=torch.int64) is torch.float32


def test_result_type_binds_torch_overloads():
    import pytest
    x = torch.ones(2)
    assert torch.result_type(scalar=2, tensor=x) is torch.float32
    assert torch.result_type(tensor=torch.ones(2, dtype=torch.int64), other=2.5) is torch.float32
    assert torch.result_type(scalar1=2, scalar2=3.0) is torch.float32
    assert torch.result_type(torch.tensor(1., dtype=torch.float64), torch.ones(2, dtype=torch.int32)) is \
        torch.float64
    for bad in ((x,), (x, x, x)):
        with pytest.raises(TypeError) as e:
            torch.result_type(*bad)
        assert str(e.value).splitlines()[1:5] == [
            " * (Tensor tensor, Tensor other)", " * (Number scalar, Tensor tensor)",
            " * (Tensor tensor, Number other)", " * (Number scalar1, Number scalar2)"]


def test_torch_nn_modules_paths():
    import importlib
    expect = {"batchnorm": ["BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d", "BatchNorm3d",
                            "LazyBatchNorm3d", "SyncBatchNorm"],
              "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
                               "LazyInstanceNorm2d", "LazyInstanceNorm3d"],
              "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"], "channelshuffle": ["ChannelShuffle"]}
    for name, names in expect.items():      # (torch 2.13's __all__ of each)
        m = importlib.import_module("gpujit.nn.modules." + name)
        assert m.__all__ == names and getattr(torch.nn.modules, name) is m
        assert all(getattr(m, n) is getattr(torch.nn, n) for n in names)
    from gpujit.nn.modules.batchnorm import _BatchNorm, _NormBase
    from gpujit.nn.modules.instancenorm import _InstanceNorm
    assert isinstance(torch.nn.BatchNorm2d(3), _BatchNorm) and not isinstance(torch.nn.InstanceNorm2d(3), _BatchNorm)
    assert isinstance(torch.nn.InstanceNorm2d(3), (_InstanceNorm, _NormBase))


def _device_of(d: str, i: int):
    a = torch.device(d)
    b = torch.device(d, i)
    return a, b, torch.zeros(2, device=a)


def test_device_of_a_runtime_string_in_scripted_code():
    import pytest
    s = torch.jit.script(_device_of)
    assert "aten::device(%d.1)" in str(s.graph) and "aten::device(%d.1, %i.1)" in str(s.graph)
    assert "a = torch.device(d)" in s.code and "b = torch.device(d, i)" in s.code
    a, b, z = s("cpu", 0)
    assert a == torch.device("cpu") and b == torch.device("cpu", 0) and z.device == a
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type at start of device string: bogus"):
        s("bogus", 0)
    with pytest.raises(RuntimeError, match="must not include an index because index was passed explicitly"):
        s("cpu:0", 1)

    def g(x):
        return torch.device(x.device)
    with pytest.raises(torch.jit.FrontendError, match="Arguments for call are not valid"):
        torch.jit.script(g)


def test_nn_grad_convolution_gradients():
    import numpy as np
    F = torch.nn.functional
    assert F.grad is torch.nn.grad and torch.nn.common_types._size_2_t is not None
    rs = np.random.RandomState(0)
    want = {1: (-3.850622215392166, 296.5493194404751), 2: (1.3161545452610284, 2083.0576303398684),
            3: (-153.05260785642804, 21416.294005518394)}     # torch 2.13
    for nd, conv in ((1, F.conv1d), (2, F.conv2d), (3, F.conv3d)):
        x = torch.from_numpy(rs.randn(2, 4, *([7] * nd)))
        w = torch.from_numpy(rs.randn(6, 2, *([3] * nd)))
        g = torch.from_numpy(rs.randn(*conv(x, w, None, 2, 1, 1, 2).shape))
        gi = getattr(torch.nn.grad, f"conv{nd}d_input")(x.shape, w, g, 2, 1, 1, 2)
        gw = getattr(F.grad, f"conv{nd}d_weight")(x, w.shape, g, stride=2, padding=1, groups=2)
        assert tuple(gi.shape) == tuple(x.shape) and tuple(gw.shape) == tuple(w.shape)
        assert not gi.requires_grad and gi.grad_fn is None
        np.testing.assert_allclose([float(gi.sum()), float((gw * gw).sum())], want[nd], rtol=1e-12)


def test_stft_real_format_as_torch():
    import numpy as np
    import pytest
    rs = np.random.RandomState(0)
    x = torch.from_numpy(rs.randn(2, 50))
    w = torch.hann_window(12, dtype=torch.float64)
    cases = [(dict(n_fft=16), (2, 9, 13, 2), 118.5645875300671, 4277.0808899436015),
             (dict(n_fft=16, hop_length=5, win_length=12, window=w), (2, 9, 11, 2), -8.315946136610156,
              963.1700988782754),
             (dict(n_fft=16, center=False, normalized=True), (2, 9, 9, 2), 21.45684880876499, 168.3216829842543),
             (dict(n_fft=15, onesided=False, pad_mode="constant"), (2, 15, 17, 2), -29.562937181238553,
              7113.620549696702)]       # torch 2.13
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw, shape, s1, s2 in cases:
            r = torch.stft(x, return_complex=False, **kw)
            assert tuple(r.shape) == shape and r.dtype is torch.float64
            np.testing.assert_allclose([float(r.sum()), float((r * r).sum())], [s1, s2], rtol=1e-12)
        r = x[0].float().stft(16, return_complex=False)
        assert tuple(r.shape) == (9, 13, 2) and r.dtype is torch.float32
        xg = x.clone().requires_grad_()
        (torch.stft(xg, 16, window=torch.hann_window(16, dtype=torch.float64), return_complex=False) ** 2).sum(
            ).backward()
        np.testing.assert_allclose([float(xg.grad.sum()), float((xg.grad ** 2).sum())],
                                   [284.3646869341298, 100422.11513158941], rtol=1e-12)
    with pytest.raises(RuntimeError, match="stft requires the return_complex parameter be given for real inputs"):
        torch.stft(x, 16)
    # (return_complex=True gives the complex tensor since session 44: test_complex_s44.py)
    assert torch.stft(x, 16, return_complex=True).dtype is torch.complex128
    was = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.stft(x, 16, return_complex=False)
    finally:
        torch.set_warn_always(was)
    said = [str(m.message) for m in caught]
    assert any(m.startswith("A window was not provided.") for m in said)
    assert any(m.startswith("stft with return_complex=False is deprecated.") for m in said)
