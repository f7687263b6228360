"""Issue 5 acceptance audit (session 22), written from the issue's "What to build" and
"How it is checked" lists, the torch.jit page (seeds 001) and NOTES-nnc.md, without reading
the project's own fusion tests: the profiling-runs setting, graph_for's text, guards,
set_fusion_strategy, strict_fusion, kernels' numerics, the kernel cache and `python -m
gpujit`. Values are compared with NumPy.

Where gpujit deliberately differs from PyTorch 2.13 (kept, documented in README/docstrings):
- `set_profiling_runs(0)` raises ValueError (TorchScript's `_jit_set_num_profiled_runs(0)`
  builds an unprofiled, unfused plan); the setting is >= 1.
- the optimized code is built at the end of the last profiling call, so a scripted
  strict_fusion region that cannot fuse raises from that call (TorchScript: the next one).
- every set_fusion_strategy argument error is a ValueError (PyTorch raises TypeError for
  wrong shapes and depths; gpujit's FusionStrategyError is both).
- the "meta" device does not exist in gpujit (mixed devices are checked in the GPU tier).
"""
from __future__ import annotations

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit import kernels


@pytest.fixture
def strategy():
    prev = gpujit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)])
    runs = torch.jit.set_profiling_runs(1)
    yield
    gpujit.set_fusion_strategy(prev)
    torch.jit.set_profiling_runs(runs)


# ----------------------------------------------------------------------- strict_fusion
def test_strict_fusion_region_with_dtype_conversion_of_an_input_fuses(strategy):
    # x.to(float64) of a graph input fused outside a region but inside strict_fusion
    # the region's prim::Enter/Exit counted as writers of the input's memory, so the
    # conversion (whose result may alias its input) stayed out and the region raised
    def conv(x, y):
        with torch.jit.strict_fusion():
            z = (x.to(torch.float64) * y + 1).float()
        return z

    s = torch.jit.script(conv)
    x, y = torch.rand(4, 4), torch.rand(4, 4)
    for _ in range(3):
        out = s(x, y)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), (x.numpy().astype(np.float64) * y.numpy() + 1)
                               .astype(np.float32), rtol=1e-6)
    report = s.fusion_report(x, y)
    assert "unfused aten::to" not in report


def test_dtype_conversion_of_a_written_input_still_stays_out(strategy):
    # the region markers are exempt, real writes are not: z = x.to(float32) is x itself
    def f(x, y):
        z = x.to(torch.float32)
        w = z * y + 1
        x.add_(1)
        return w, z

    s = torch.jit.script(f)
    for _ in range(3):
        x, y = torch.rand(4, 4), torch.rand(4, 4)
        xn = x.numpy().copy()
        w, z = s(x, y)
        np.testing.assert_allclose(w.numpy(), xn * y.numpy() + 1, rtol=1e-6)
        np.testing.assert_allclose(z.numpy(), xn + 1, rtol=1e-6)


def _branchy_region(x, y, flag: bool):
    if flag:
        with torch.jit.strict_fusion():
            x = x * y + 1
    else:
        with torch.jit.strict_fusion():
            x = (x - y).sigmoid() * 3
    return x


def _branchy(x, y, flag: bool):
    if flag:
        x = x * y + 1
    else:
        x = (x - y).sigmoid() * 3
    return x


def _branchy_ref(x, y, flag):
    x, y = x.numpy(), y.numpy()
    return x * y + 1 if flag else 3 / (1 + np.exp(-(x - y)))


def test_strict_fusion_region_in_a_branch_not_taken_yet(strategy):
    # the profiling runs took only the first branch: the other branch's region has no
    # types yet; it raised "unknown shape" on every call that took the first branch
    s = torch.jit.script(_branchy_region)
    x, y = torch.rand(4, 4), torch.rand(4, 4)
    for flag in (True, True, True, False, False, False, True):
        np.testing.assert_allclose(s(x, y, flag).numpy(), _branchy_ref(x, y, flag), rtol=1e-5)


def test_strict_fusion_region_in_a_branch_checked_once_taken(strategy):
    def f(x, y, flag: bool):
        if flag:
            with torch.jit.strict_fusion():
                x = x * y + 1
        else:
            with torch.jit.strict_fusion():
                x = torch.mm(x, y) * 2
        return x

    s = torch.jit.script(f)
    x, y = torch.rand(4, 4), torch.rand(4, 4)
    for _ in range(3):
        s(x, y, True)
    with pytest.raises(gpujit.jit.StrictFusionError, match=r"aten::mm.*test_issue5_audit_s22.py:\d+ +x = torch.mm\(x, y\) \* 2"):
        for _ in range(3):     # the call that takes it, then the one that profiles again
            s(x, y, False)


def test_strict_fusion_around_calls_ignores_a_branch_not_taken(strategy):
    s = torch.jit.script(_branchy)
    x, y = torch.rand(4, 4), torch.rand(4, 4)
    for flag in (True, True, True, False, False, False, True):
        with gpujit.strict_fusion():
            out = s(x, y, flag)
        np.testing.assert_allclose(out.numpy(), _branchy_ref(x, y, flag), rtol=1e-5)


# ----------------------------------------------------------------------- profiling runs
def _mm_chain(x, w):
    return torch.relu(torch.matmul(x, w) + 1.0) * 2.0


def _mm_chain3(x, w):       # (a function scripts once: its compiled form is cached)
    return torch.relu(torch.matmul(x, w) + 1.0) * 2.0


@pytest.mark.parametrize("make", ["script", "trace"])
@pytest.mark.parametrize("runs", [1, 3])
def test_profiling_runs_exempt_from_strict_fusion_around_calls(strategy, make, runs):
    # as PyTorch: tracing runs the traced function once (the check), which is its first
    # profiling run; gpujit's check ran it twice (the second standing in for PyTorch's
    # repeated trace), so with 3 profiling runs only one call after tracing profiled
    torch.jit.set_profiling_runs(runs)
    x, w = torch.rand(4, 5), torch.rand(5, 3)
    fn = _mm_chain if runs == 1 else _mm_chain3
    f = torch.jit.script(fn) if make == "script" else torch.jit.trace(fn, (x, w))
    profiling = runs if make == "script" else runs - 1
    for _ in range(profiling):
        with gpujit.strict_fusion():
            out = f(x, w)
        np.testing.assert_allclose(out.numpy(), np.maximum(x.numpy() @ w.numpy() + 1, 0) * 2,
                                   rtol=1e-5)
    for _ in range(2):
        with pytest.raises(gpujit.jit.StrictFusionError, match=r"aten::matmul\(Tensor self"):
            with gpujit.strict_fusion():
                f(x, w)


def test_profiling_runs_setting(strategy):
    assert torch.jit.profiling_runs() == 1 and torch._C._jit_get_num_profiled_runs() == 1
    assert torch.jit.set_profiling_runs(2) == 1
    assert torch._C._jit_set_num_profiled_runs(1) == 2
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError):
            torch.jit.set_profiling_runs(bad)
    assert torch.jit.profiling_runs() == 1


# ----------------------------------------------------------------------- error text
class _LinearReLU(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = gpujit.nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.lin(x)) * 2 + 1          # the user's line


class _LinearRegion(gpujit.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = gpujit.nn.Linear(4, 4)

    def forward(self, x):
        with torch.jit.strict_fusion():
            y = torch.relu(self.lin(x)) * 2 + 1          # the user's line
        return y


def _user_line(cls):
    import inspect
    lines, start = inspect.getsourcelines(cls.forward)
    return start + next(i for i, t in enumerate(lines) if "the user's line" in t)


@pytest.mark.parametrize("make", ["script", "trace"])
def test_strict_fusion_names_the_users_line_of_a_library_module_call(strategy, make):
    # an op of nn.Linear's forward inlined into a scripted module was shown at gpujit's
    # own linear.py line; the traced module showed the user's line
    x = torch.rand(3, 4)
    with torch.no_grad():
        m = _LinearReLU()
        m = torch.jit.script(m) if make == "script" else torch.jit.trace(m, (x,))
        for _ in range(2):
            m(x)
        with pytest.raises(gpujit.jit.StrictFusionError) as info:
            with gpujit.strict_fusion():
                m(x)
    msg = str(info.value)
    assert "aten::linear(Tensor input" in msg
    assert f"test_issue5_audit_s22.py:{_user_line(_LinearReLU)}" in msg
    assert "return torch.relu(self.lin(x)) * 2 + 1" in msg and "linear.py" not in msg
    report = m.forward.fusion_report(x) if make == "script" else m.fusion_report(x)
    assert "linear.py" not in str(report)


def test_strict_fusion_region_names_the_users_line_of_a_library_module_call(strategy):
    x = torch.rand(3, 4)
    with torch.no_grad():
        m = torch.jit.script(_LinearRegion())
        with pytest.raises(gpujit.jit.StrictFusionError) as info:
            for _ in range(2):
                m(x)
    msg = str(info.value)
    assert f"test_issue5_audit_s22.py:{_user_line(_LinearRegion)}" in msg
    assert "aten::linear(Tensor input" in msg and "linear.py" not in msg
    assert "with torch.jit.strict_fusion():" in msg and "<--- HERE" in msg
