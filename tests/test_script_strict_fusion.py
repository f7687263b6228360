"""`with gpujit.strict_fusion():` inside scripted code (issues 5 and 6): the region is
marked in the graph, a region that fully fuses runs normally, one that leaves an op
unfused raises StrictFusionError naming the op, its kind and the user's line once the
graph is optimized (the first call)."""
from typing import List

import numpy as np
import pytest

import gpujit
import gpujit as torch
from gpujit.jit import FrontendError, StrictFusionError
from gpujit.fusers.strict import strict_regions

# `.code` has no spelling of the region yet (ops.prim.Enter), so archives cannot hold it:
# skip the suite's save/load round trip (gpujit/ir/python_printer.py, the lead's)


X = gpujit.tensor([[0.5, -1.0], [2.0, 0.25]])
Y = gpujit.tensor([[1.5, 0.5], [-0.5, 1.0]])


def fused_region(x, y):
    with torch.strict_fusion():
        z = torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)
    return z + 1


def unfused_region(x, w):
    with torch.jit.strict_fusion():
        y = torch.matmul(x, w)
        z = torch.relu(y) + 1
    return z


def nested_in_if(x, y, flag: bool):
    if flag:
        with gpujit.strict_fusion():
            x = x * y + 2.0
    return x


def other_with(x):
    with torch.inference_mode():
        y = x + 1
    return y


def reference(x, y):
    xa, ya = np.asarray(x.numpy()), np.asarray(y.numpy())
    return np.tanh(xa * 0.5 + ya) * (1 / (1 + np.exp(-(xa - ya)))) + 1


def test_region_markers_in_the_graph():
    f = gpujit.jit.script(fused_region)
    text = str(f.graph)
    line = fused_region.__code__.co_firstlineno
    # (the first lines after the constants, pooled at the graph's start as TorchScript's:
    # torch 2.13's strict_fusion object made, __init__-ed and entered; its Exit takes it)
    first = [t for t in text.splitlines()[2:] if "prim::Constant" not in t][:3]
    obj = first[0].split()[0]
    assert first == [
        f'  {obj} : __torch__.torch.jit.strict_fusion = prim::CreateObject() # '
        f'{__file__}:{line + 1}:9',
        f'  %{int(obj[1:]) + 1} : NoneType = prim::CallMethod[name="__init__"]({obj}) # '
        f'{__file__}:{line + 1}:9',
        f'  %{int(obj[1:]) + 2} : NoneType = prim::Enter({obj})'], text
    assert f' : Tensor = prim::Exit({obj})\n' in text
    (enter, nodes), = strict_regions(f.graph)
    assert enter.kind == "prim::Enter"
    assert [n.kind for n in nodes if n.kind != "prim::Constant"] == [
        "aten::mul", "aten::add", "aten::tanh", "aten::sub", "aten::sigmoid", "aten::mul"]


def test_fully_fused_region_runs():
    f = gpujit.jit.script(fused_region)
    for _ in range(3):
        np.testing.assert_allclose(np.asarray(f(X, Y).numpy()), reference(X, Y), rtol=1e-6)
    g = f.graph_for(X, Y)
    assert "prim::TensorExprGroup" in str(g)
    assert not [n for n in g.walk() if n.kind == "aten::tanh"]


def test_unfused_op_in_region_raises_with_the_op_and_the_line():
    f = gpujit.jit.script(unfused_region)
    with pytest.raises(StrictFusionError) as e:
        f(X, Y)
    msg = str(e.value)
    line = unfused_region.__code__.co_firstlineno
    assert msg.splitlines()[0] == "Found unfused operators inside strict_fusion:"
    assert "aten::matmul(Tensor self, Tensor other) -> Tensor" in msg
    assert f"test_script_strict_fusion.py:{line + 2}" in msg
    assert "y = torch.matmul(x, w)" in msg
    assert f'File "{__file__}", line {line + 1}' in msg
    assert "with torch.jit.strict_fusion():" in msg and "<--- HERE" in msg
    with pytest.raises(StrictFusionError):     # and again: nothing unfused is ever cached
        f(X, Y)


def test_region_inside_a_branch():
    f = gpujit.jit.script(nested_in_if)
    for _ in range(3):
        np.testing.assert_allclose(np.asarray(f(X, Y, True).numpy()),
                                   np.asarray((X * Y + 2.0).numpy()))


def return_in_region(x):
    with torch.jit.strict_fusion():        # torch.jit.strict_fusion's own docstring example
        return x + x + x


def return_in_region_unfused(x, w):
    with torch.jit.strict_fusion():
        return torch.matmul(x, w) + 1


def exits_in_regions(x, n: int):
    for i in range(n):
        if i == 0:
            continue
        with torch.no_grad():
            x = x * 2 + 1
            continue
    while True:
        with torch.no_grad():
            with torch.jit.strict_fusion():
                x = (x - 1) * 2
                break
    return x


def nested_exit_in_region(x, b: bool):
    with torch.no_grad():
        if b:
            return x * 2
    return x * 3


def test_return_break_continue_inside_with_regions():
    f = gpujit.jit.script(return_in_region)
    for _ in range(3):
        np.testing.assert_allclose(f(X).numpy(), (X * 3).numpy(), rtol=1e-6)
    assert "prim::TensorExprGroup" in str(f.graph_for(X))
    (enter, nodes), = strict_regions(f.graph)
    assert "aten::add" in [n.kind for n in nodes]
    g = gpujit.jit.script(return_in_region_unfused)
    with pytest.raises(StrictFusionError, match="aten::matmul"):
        g(X, Y)
    h = gpujit.jit.script(exits_in_regions)
    want = X.numpy()
    for _ in range(4):
        want = want * 2 + 1
    for _ in range(3):
        np.testing.assert_allclose(h(X, 5).numpy(), (want - 1) * 2, rtol=1e-6)
    # an exit nested in an `if` of the block: the exit becomes a flag, the region closes
    # at the block's end (so `.code` can print it), then the function returns
    n = gpujit.jit.script(nested_exit_in_region)
    x = gpujit.ones(2, requires_grad=True)
    for b, k in ((True, 2), (False, 3)):
        r = n(x, b)
        np.testing.assert_allclose(r.detach().numpy(), [k, k])
        assert r.requires_grad is (not b) and gpujit.is_grad_enabled()


def two_items(x):
    with torch.no_grad(), torch.jit.strict_fusion():
        y = (x * 2 + 1).relu()
    return y


def region_bound_by_as(x):
    with torch.jit.strict_fusion() as s:
        y = x * 2 + 1
    return y


def test_with_of_two_regions_and_with_as():
    f = gpujit.jit.script(two_items)
    kinds = [(n.kind, n.attrs.get("name")) for n in f.graph.nodes
             if n.kind in ("prim::Enter", "prim::Exit")]
    assert kinds == [("prim::Enter", "no_grad"), ("prim::Enter", "strict_fusion"),
                     ("prim::Exit", "strict_fusion"), ("prim::Exit", "no_grad")]
    xr = gpujit.tensor([0.5, -1.0], requires_grad=True)
    for _ in range(3):
        y = f(xr)
        assert not y.requires_grad
        np.testing.assert_allclose(y.numpy(), np.maximum(xr.detach().numpy() * 2 + 1, 0))
    assert "prim::TensorExprGroup" in str(f.graph_for(X))
    # (torch 2.13 binds `as s` to the region's __enter__ value, None)
    g = gpujit.jit.script(region_bound_by_as)
    for _ in range(3):
        np.testing.assert_allclose(g(X).numpy(), X.numpy() * 2 + 1)


def test_other_with_statements_are_clear_errors():
    with pytest.raises(FrontendError) as e:
        gpujit.jit.script(other_with)
    msg = str(e.value)
    assert "a `with` statement is not supported" in msg
    assert "`with torch.no_grad():`" in msg and "gpujit.strict_fusion()" in msg
    assert "inference_mode" in msg
    assert "<--- HERE" in msg


def region_when_off_a(x, y):
    with torch.strict_fusion():
        z = torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)
    return z + 1


def region_when_off_b(x, y):
    with torch.strict_fusion():
        z = torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)
    return z + 1


def chain_when_off_a(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def chain_when_off_b(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


@pytest.mark.parametrize("switch", ["empty strategy", "GPUJIT_FUSION=0"])
def test_strict_fusion_raises_when_fusion_is_off(switch, monkeypatch):
    """strict_fusion asserts that code runs fused: with fusion off nothing does, and the
    error says so (in a scripted region and around calls in Python)."""
    # (functions of their own: a scripted function's compiled code is cached)
    region, chain = ((region_when_off_a, chain_when_off_a) if switch == "empty strategy"
                     else (region_when_off_b, chain_when_off_b))
    if switch == "empty strategy":
        old = gpujit.set_fusion_strategy([])
        want = "the fusion strategy is empty"
    else:
        old = None
        monkeypatch.setenv("GPUJIT_FUSION", "0")
        want = "GPUJIT_FUSION=0"
    try:
        f = gpujit.jit.script(region)
        with pytest.raises(StrictFusionError, match=want) as e:
            f(X, Y)
        assert "aten::tanh(Tensor self) -> Tensor" in str(e.value)
        g = gpujit.jit.script(chain)
        np.testing.assert_allclose(g(X, Y).numpy(), g(X, Y).numpy())   # unchecked: fine
        with pytest.raises(StrictFusionError, match=want):
            with gpujit.strict_fusion():
                g(X, Y)
    finally:
        if old is not None:
            gpujit.set_fusion_strategy(old)


def chain_under_fuser_none(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def chain_under_fuser1(x, y):
    return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)


def test_torch_jit_fuser_and_onednn_switches():
    """torch.jit.fuser("none") turns fusion off for code built in the block (and a
    strict_fusion check says so); the TorchScript backends' names all mean gpujit's
    fuser; enable_onednn_fusion is recorded (gpujit has no oneDNN backend)."""
    with torch.jit.fuser("none"):
        f = torch.jit.script(chain_under_fuser_none)
        f(X, Y), f(X, Y)
        assert "TensorExprGroup" not in str(f.graph_for(X, Y))
        with pytest.raises(StrictFusionError, match=r"fuser\('none'\)"):
            with torch.strict_fusion():
                f(X, Y)
    with torch.jit.fuser("fuser2"):
        g = torch.jit.script(chain_under_fuser1)
        g(X, Y), g(X, Y)
        assert "TensorExprGroup" in str(g.graph_for(X, Y))
    np.testing.assert_allclose(f(X, Y).numpy(), g(X, Y).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="unrecognized fuser option"):
        with torch.jit.fuser("nnc"):
            pass
    assert torch.jit.onednn_fusion_enabled() is False
    torch.jit.enable_onednn_fusion(True)
    try:
        assert torch.jit.onednn_fusion_enabled() is True
    finally:
        torch.jit.enable_onednn_fusion(False)
    with torch.jit.optimized_execution(False):
        from gpujit.runtime.fusion import fusion_enabled
        assert not fusion_enabled()
    assert fusion_enabled()


def region_with_grad(x):
    with torch.jit.strict_fusion():
        return x * 2.0 + 1.0


def region_of_rand_with_grad(x):
    with torch.jit.strict_fusion():
        return torch.rand([2, 2]) + x + x


def region_past_max_specializations(x):
    with torch.jit.strict_fusion():
        return x * 2.0 + 1.0


def test_region_fuses_when_the_call_records_gradients():
    """A call that records gradients runs its fusion groups (each recording one backward
    node, gpujit.jit.autodiff): a fully fusible scripted strict_fusion region passes, with
    PyTorch's gradients, as TorchScript's DifferentiableGraph does; a region with an
    unfusible op (TorchScript's test_with_strict_fusion test_autodiff: torch.rand) raises
    naming it."""
    for _ in range(3):
        f = torch.jit.script(region_with_grad)
        for _ in range(3):
            xg = X.clone().requires_grad_(True)
            out = f(xg)
            assert out.grad_fn is not None
            np.testing.assert_allclose(out.detach().numpy(), X.numpy() * 2 + 1)
            out.sum().backward()
            np.testing.assert_allclose(xg.grad.numpy(), np.full(X.shape, 2.0))
    f = torch.jit.script(region_of_rand_with_grad)
    xg = X.clone().requires_grad_(True)
    with pytest.raises(StrictFusionError, match="aten::rand") as e:
        for _ in range(3):
            f(xg)
    assert "unfused operators" in str(e.value) and "strict_fusion()" in str(e.value)
    f = torch.jit.script(region_with_grad)
    with torch.no_grad():
        for _ in range(3):
            np.testing.assert_allclose(f(xg).numpy(), X.numpy() * 2 + 1)


def test_region_raises_past_max_specializations():
    """Past its 8 input signatures a function runs op by op: its scripted strict_fusion
    region raises instead of running unfused unchecked."""
    import warnings
    f = torch.jit.script(region_past_max_specializations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in range(1, 9):
            x = torch.ones([2] * r)
            f(x), f(x)
        with pytest.raises(StrictFusionError, match="most specializations") as e:
            f(torch.ones([2] * 9))
    assert "aten::mul" in str(e.value)


def region_with_spent_budget(x):
    with torch.jit.strict_fusion():
        y = x * 2.0 + 1.0
    return y


def test_region_raises_when_its_group_budget_is_spent():
    """A group of a scripted region whose specialization budget is spent runs unfused:
    the region raises (as a call inside the Python `with strict_fusion():` does) instead
    of running unfused unchecked."""
    old = gpujit.set_fusion_strategy([("STATIC", 1)])
    try:
        f = torch.jit.script(region_with_spent_budget)
        for _ in range(3):
            np.testing.assert_allclose(f(torch.ones(2)).numpy(), [3.0, 3.0])
        with pytest.raises(StrictFusionError, match="budget is spent") as e:
            f(torch.ones(3))
    finally:
        gpujit.set_fusion_strategy(old)
    assert "aten::mul" in str(e.value) and "y = x * 2.0 + 1.0" in str(e.value)


def two_groups_region(x, y, z):
    with torch.jit.strict_fusion():
        a = (x * y + 1).relu()
        b = (z * 2 - 1).sigmoid()
    return a, b


def one_group_per_branch(x, flag: bool):
    with torch.jit.strict_fusion():
        if flag:
            y = (x * 2 + 1).relu()
        else:
            y = (x - 1).sigmoid() * 3
    return y


def test_two_fusion_groups_in_one_region_raise():
    """PyTorch's "Found multiple fusions": a region must run as one kernel; groups in
    the two branches of an `if` (one kernel a call) are fine."""
    f = gpujit.jit.script(two_groups_region)
    z = gpujit.tensor([0.5, 1.0, -2.0])
    with pytest.raises(StrictFusionError) as e:
        for _ in range(3):
            f(X, Y, z)
    msg = str(e.value)
    line = two_groups_region.__code__.co_firstlineno
    assert msg.splitlines()[0] == \
        "Found multiple fusions inside strict_fusion (2 fusion groups, one expected):"
    assert f"group 0: aten::mul, aten::add, aten::relu    test_script_strict_fusion.py:" \
           f"{line + 2}    a = (x * y + 1).relu()" in msg
    assert f"group 1: aten::mul, aten::sub, aten::sigmoid    test_script_strict_fusion.py:" \
           f"{line + 3}    b = (z * 2 - 1).sigmoid()" in msg
    assert f'File "{__file__}", line {line + 1}' in msg
    g = gpujit.jit.script(one_group_per_branch)
    old = gpujit._C._jit_set_num_profiled_runs(2)      # profile both branches
    try:
        for flag in (True, False, True, False):
            want = (X * 2 + 1).relu() if flag else (X - 1).sigmoid() * 3
            np.testing.assert_allclose(g(X, flag).numpy(), want.numpy(), rtol=1e-6)
    finally:
        gpujit._C._jit_set_num_profiled_runs(old)
    assert str(g.graph_for(X, True)).count("= prim::TensorExprGroup_") == 2


def region_of_list_items(xs: List[torch.Tensor]):
    with torch.jit.strict_fusion():
        a = (xs[0] * xs[1] + xs[2]).relu()
    return a


def test_list_items_in_a_region_are_bookkeeping():
    """`xs[i]` of a List[Tensor] is container access, not unfused tensor work (it raised,
    'aten::__getitem__ ... not fused: no registry op takes these input types')."""
    f = gpujit.jit.script(region_of_list_items)
    xs = [X, Y, X]
    for _ in range(3):
        np.testing.assert_allclose(f(xs).numpy(), (X * Y + X).relu().numpy())
    report = str(f.fusion_report(xs))
    assert "no registry op" not in report and "container bookkeeping" in report
