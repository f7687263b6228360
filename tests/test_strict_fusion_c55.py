"""strict_fusion's errors point at the user's `with` line (the Python-level block too, and
a scripted region whose group runs unfused), fusion reports name a `with` region's
markers as such, jit.load takes map_location="cpu:0", and the torch._C fusion switches
TorchScript code bases call exist (session 55, helper c)."""
import io
import threading
import warnings

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit.jit import StrictFusionError

X = gpujit.tensor([[0.5, -1.0], [2.0, 0.25]])
Y = gpujit.tensor([[1.5, 0.5], [-0.5, 1.0]])


def mm_plus(x, y):
    return torch.matmul(x, y) + 1


def chain(x, y):
    return (x * y).sigmoid() + 1


def _line_of(text):
    with open(__file__) as f:
        return next(i for i, line in enumerate(f, 1) if text in line)


def test_python_block_error_names_the_with_line():
    f = torch.jit.script(mm_plus)
    with pytest.raises(StrictFusionError) as e:
        with gpujit.strict_fusion():   # (the line the error points at) c55-block-a
            for _ in range(3):
                f(X, Y)
    msg = str(e.value)
    assert msg.splitlines()[0] == "Found unfused operators inside strict_fusion:"
    assert "aten::matmul(Tensor self, Tensor other) -> Tensor" in msg
    assert "in a call of mm_plus, inside strict_fusion:" in msg
    line = _line_of("c55-block-a")
    assert f'File "{__file__}", line {line}\n' in msg
    assert "with gpujit.strict_fusion():" in msg
    # the caret under the call, `gpujit.strict_fusion()` (22 characters)
    assert "             " + "~" * 22 + " <--- HERE" in msg
    g = torch.jit.script(chain)
    with gpujit.strict_fusion():       # a fused call passes
        for _ in range(3):
            np.testing.assert_allclose(g(X, Y).numpy(),
                                       1 / (1 + np.exp(-(X * Y).numpy())) + 1, rtol=1e-6)


@gpujit.strict_fusion()     # c55-decorator
def decorated(f, x, y):
    return f(x, y)


def test_decorator_and_nested_blocks_point_at_their_own_lines():
    f = torch.jit.script(mm_plus)
    with pytest.raises(StrictFusionError) as e:
        for _ in range(3):
            decorated(f, X, Y)
    assert f'File "{__file__}", line {_line_of("c55-decorator")}\n' in str(e.value)
    assert "@gpujit.strict_fusion()" in str(e.value)
    with gpujit.strict_fusion():   # c55-outer
        with gpujit.strict_fusion():   # c55-inner
            with pytest.raises(StrictFusionError) as inner:
                f(X, Y), f(X, Y), f(X, Y)
        with pytest.raises(StrictFusionError) as outer:
            f(X, Y)
    assert f'line {_line_of("c55-inner")}\n' in str(inner.value)
    assert f'line {_line_of("c55-outer")}\n' in str(outer.value)
    # (an exception leaving a block closes it: no site is left behind)
    from gpujit.fusers.strict import python_block_site, strict_fusion_active
    assert python_block_site() is None and not strict_fusion_active()


def test_another_threads_block_is_not_named():
    f = torch.jit.script(mm_plus)
    f(X, Y), f(X, Y)
    entered, done, seen = threading.Event(), threading.Event(), {}

    def holder():
        with gpujit.strict_fusion():
            entered.set()
            done.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        entered.wait(10)
        from gpujit.fusers.strict import python_block_site
        seen["site"] = python_block_site()
        np.testing.assert_allclose(f(X, Y).numpy(), X.numpy() @ Y.numpy() + 1, rtol=1e-6)
    finally:
        done.set()
        t.join()
    assert seen["site"] is None


def region_with_spent_budget(x):
    with torch.jit.strict_fusion():    # c55-region
        y = x * 2.0 + 1.0
    return y


def test_scripted_region_group_past_its_budget_names_the_region():
    """(It said `in region_with_spent_budget group 0`: the region's line was missing.)"""
    old = gpujit.set_fusion_strategy([("STATIC", 1)])
    try:
        f = torch.jit.script(region_with_spent_budget)
        for _ in range(3):
            np.testing.assert_allclose(f(torch.ones(2)).numpy(), [3.0, 3.0])
        with pytest.raises(StrictFusionError) as e:
            f(torch.ones(3))
    finally:
        gpujit.set_fusion_strategy(old)
    msg = str(e.value)
    assert "budget is spent" in msg and "y = x * 2.0 + 1.0" in msg
    assert f'File "{__file__}", line {_line_of("c55-region")}\n' in msg
    assert "with torch.jit.strict_fusion():" in msg and "group 0" not in msg


def region_for_report(x, y):
    with torch.jit.strict_fusion():
        z = torch.tanh(x * 0.5 + y)
    with torch.no_grad():
        w = z * 2.0 - y
    return w


def test_fusion_report_names_with_markers():
    """(It listed them as `prim::Enter has side effects (runs in Python)`, as if work had
    been left unfused.)"""
    f = torch.jit.script(region_for_report)
    for _ in range(3):
        f(X, Y)
    report = str(f.fusion_report(X, Y))
    assert "has side effects" not in report
    rows = [r.split() for r in report.splitlines()]
    markers = [r[1:5] for r in rows if r[1] in ("prim::Enter", "prim::Exit")]
    assert markers == [["prim::Enter", "start", "of", "a"], ["prim::Exit", "end", "of", "a"],
                       ["prim::Enter", "start", "of", "a"], ["prim::Exit", "end", "of", "a"]]
    assert "`with strict_fusion():` region (no tensor work)" in report
    assert "`with no_grad():` region (no tensor work)" in report


@pytest.mark.parametrize("loc", ["cpu:0", "device"])
def test_jit_load_onto_cpu_with_an_index(loc):
    """torch.jit.load(f, map_location="cpu:0") loads onto the CPU (it raised "don't know
    how to restore data location ... (tagged with cpu:0)"; `python -m gpujit --device
    cpu:0` died there)."""
    m = torch.jit.script(torch.nn.Linear(2, 2))
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    where = "cpu:0" if loc == "cpu:0" else torch.device("cpu", 0)
    m2 = torch.jit.load(io.BytesIO(buf.getvalue()), map_location=where)
    assert m2.weight.device == torch.device("cpu")
    np.testing.assert_array_equal(m2(X).detach().numpy(), m(X).detach().numpy())


def test_nvfuser_and_nnc_switches_of_torch_C():
    """What TorchScript code bases and PyTorch's fuser tests call (torch 2.13): nvfuser's
    switches are deprecated no-ops that warn and return None; the NNC / autodiff / logging
    ones are recorded and read back."""
    C = torch._C
    for name, args in (("_jit_set_nvfuser_enabled", (False,)), ("_jit_nvfuser_enabled", ()),
                       ("_jit_nvfuser_can_be_enabled", ()),
                       ("_jit_set_nvfuser_single_node_mode", (True,)),
                       ("_jit_set_nvfuser_horizontal_mode", (False,)),
                       ("_jit_set_nvfuser_guard_mode", (True,)),
                       ("_jit_set_nvfuser_skip_node_kind", ("aten::add", True))):
        with pytest.warns(UserWarning, match=f"use {name} is deprecated and a no-op"):
            assert getattr(C, name)(*args) is None
    with pytest.raises(TypeError):
        C._jit_set_nvfuser_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert C._jit_can_fuse_on_cpu_legacy() is False
        C._jit_override_can_fuse_on_cpu_legacy(True)
        assert C._jit_can_fuse_on_cpu_legacy() is True
        C._jit_override_can_fuse_on_cpu_legacy(False)
        assert C._jit_get_te_cuda_pointwise_block_size() == -1
        assert C._jit_set_te_cuda_pointwise_block_size(128) == 128
        assert C._jit_get_te_cuda_pointwise_block_size() == 128
        C._jit_set_te_cuda_pointwise_block_size(-1)
        assert C._jit_set_te_generate_block_code(False) is False
        assert C._debug_set_autodiff_subgraph_inlining(False) is None
        C._debug_set_autodiff_subgraph_inlining(True)
        assert C._jit_cat_wo_conditionals(True) is None
        C._jit_set_logging_option(">>graph_fuser")
        assert C._jit_get_logging_option() == ">>graph_fuser"
        C._jit_set_logging_option("")
        assert C._jit_set_llga_enabled(True) is False      # (the previous setting)
        assert C._jit_set_llga_enabled(False) is True and C._jit_llga_enabled() is False
        with pytest.raises(TypeError):
            C._jit_set_te_cuda_pointwise_block_size("128")


def traced_with_conversions(x):
    return x * float(x.sum()) + len(x)


def test_tracer_state_warn_switch():
    """_jit_set_tracer_state_warn(False) quiets the C++ tracer's warnings (a tensor turned
    into a Python float), not the Python-side ones (len of a tensor), as torch 2.13."""
    C = torch._C
    assert C._jit_get_tracer_state_warn() is True
    seen = {}
    try:
        for flag in (True, False):
            C._jit_set_tracer_state_warn(flag)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                torch.jit.trace(traced_with_conversions, (torch.ones(3),), check_trace=False)
            seen[flag] = [str(m.message).split(" might")[0] for m in w
                          if issubclass(m.category, torch.jit.TracerWarning)]
    finally:
        C._jit_set_tracer_state_warn(True)
    assert seen[True] == ["Converting a tensor to a Python float",
                          "Using len to get tensor shape"]
    assert seen[False] == ["Using len to get tensor shape"]
    assert C._jit_get_tracer_state_warn() is True


def test_optimized_execution_and_onednn_take_a_bool():
    """(optimized_execution("no") read as True: torch's binding raises TypeError.)"""
    from gpujit.runtime.fusion import optimizing
    with pytest.raises(TypeError, match="expected a bool, got str"):
        with torch.jit.optimized_execution("no"):
            pass
    with pytest.raises(TypeError, match="expected a bool"):
        torch.jit.enable_onednn_fusion(1)
    assert optimizing() is True and torch.jit.onednn_fusion_enabled() is False
    with torch.jit.optimized_execution(np.bool_(False)):
        assert optimizing() is False
    assert optimizing() is True


def chain_when_fusion_is_off(x, y):
    return torch.tanh(x * 0.5 + y) * torch.matmul(x, y)


def test_fusion_report_says_fusion_was_off(monkeypatch):
    """(With GPUJIT_FUSION=0 each fusible op read "fusible, but the graph was not fused".)"""
    monkeypatch.setenv("GPUJIT_FUSION", "0")
    f = torch.jit.script(chain_when_fusion_is_off)
    f(X, Y), f(X, Y)
    rows = {r.split()[1]: r for r in str(f.fusion_report(X, Y)).splitlines()}
    assert "fusion is off (GPUJIT_FUSION=0)" in rows["aten::tanh"]
    assert "not pointwise" in rows["aten::matmul"]      # (its own reason stays)
    assert "graph was not fused" not in str(f.fusion_report(X, Y))


def test_demo_says_when_fusion_is_off(monkeypatch, capsys):
    import gpujit.__main__ as demo
    monkeypatch.setenv("GPUJIT_FUSION", "0")
    monkeypatch.setattr(demo, "_time_us", lambda *a, **k: 1.0)
    demo.compile_demo(torch.device("cpu"))
    out = capsys.readouterr().out
    assert "fusion is off (GPUJIT_FUSION=0): the scripted chain runs op by op" in out
    assert "script µs" in out and "fused µs" not in out
    assert "backward is fused" not in out and "scripted, unfused 1.0 µs" in out


class TwoRegions(torch.nn.Module):
    def forward(self, x):
        with torch.jit.strict_fusion():
            y = x * 2 + 1
        with torch.jit.strict_fusion():
            z = torch.matmul(y, y)
        return z


def test_loaded_archive_region_error_names_the_archive_file():
    """(A loaded module's ops were placed at `__torch__.py>:15`, the basename of the
    archive's pseudo file `<archive:code/__torch__.py>`.)"""
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(TwoRegions()), buf)
    m = torch.jit.load(io.BytesIO(buf.getvalue()))
    with pytest.raises(StrictFusionError) as e:
        for _ in range(3):
            m(X)
    row = next(r for r in str(e.value).splitlines() if "aten::matmul" in r)
    where = row.split()[-5]      # (before `z = torch.matmul(y, y)`)
    assert where.startswith("<archive:code/__torch__") and ".py>:" in where, row
    assert row.endswith("z = torch.matmul(y, y)")


def grad_of_sigmoid(x):
    y = (x * x).sigmoid() + 1
    return torch.autograd.grad([y.sum()], [x])[0]


def region_in_grad_caller(x):
    with torch.jit.strict_fusion():
        y = (x * x).sigmoid() + 1
    return torch.autograd.grad([y.sum()], [x])[0]


def test_function_calling_autograd_is_unfused_inside_strict_fusion():
    """A scripted function that calls autograd runs its graph op by op: inside strict_fusion
    (a Python block or a scripted region) that raises, as the autocast path does (it ran
    unchecked, and fusion_report claimed a fused group)."""
    f = torch.jit.script(grad_of_sigmoid)
    x = gpujit.tensor([0.5, -1.0, 2.0], requires_grad=True)
    s = 1 / (1 + np.exp(-x.detach().numpy() ** 2))
    want = 2 * x.detach().numpy() * s * (1 - s)
    for _ in range(3):
        np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-5)
    with pytest.raises(StrictFusionError, match="f calls autograd|grad_of_sigmoid calls "
                                                "autograd") as e:
        with gpujit.strict_fusion():
            f(x)
    assert "aten::sigmoid" in str(e.value) and "inside strict_fusion:" in str(e.value)
    report = str(f.fusion_report(x))
    assert "TensorExprGroup" not in report and "fused " not in report.replace("unfused", "")
    assert "calls autograd" in report
    grad_row = next(r for r in report.splitlines() if r.split()[1] == "aten::grad")
    assert "autograd call (runs in Python)" in grad_row       # (not "no registry op")
    g = torch.jit.script(region_in_grad_caller)
    with pytest.raises(StrictFusionError, match="calls autograd") as e:
        g(x)
    assert "with torch.jit.strict_fusion():" in str(e.value)
