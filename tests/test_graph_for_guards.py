"""graph_for / last_executed_optimized_graph show each fusion group as TorchScript does:
behind its guard (prim::TypeCheck for a STATIC specialization, prim::TensorExprDynamicGuard
for a DYNAMIC one) feeding a prim::If whose block0 runs the group and block1 the fallback
(../shared/NOTES-nnc.md, "Guards"). The code that PyTorch's fuser tests use to read such
graphs (assertAllFused, findFusionGroups) works on them."""
import numpy as np
import pytest

import gpujit as torch
from gpujit.ir import parse_ir
from fusion_asserts import find_fusion_groups

GROUP = "prim::TensorExprGroup"
GUARDS = ("prim::TypeCheck", "prim::RequiresGradCheck", "prim::TensorExprDynamicGuard")


@pytest.fixture
def strategy():
    old = torch.jit.set_fusion_strategy([("STATIC", 2), ("DYNAMIC", 10)])
    yield torch.jit.set_fusion_strategy
    torch.jit.set_fusion_strategy(old)


def _chain():
    """A fresh function each call (torch.jit.script keeps one compiled function per
    Python function, its specializations with it)."""
    def chain(x, y):
        return torch.tanh(x * 0.5 + y) * torch.sigmoid(x - y)
    return chain


def scaled(x, y, a: float):
    return (x * a + y).relu()


def looped(x, n: int):
    for _ in range(n):
        x = torch.sigmoid(x * 2.0 + 1.0)
    return x


def assert_all_fused(graph, except_for=()):
    """PyTorch's TestTEFuser.assertAllFused, as its tests call it on torch._C graphs."""
    guard_found = False
    for node in graph.block().nodes():
        if node.kind() == "prim::Constant":
            continue
        if node.kind() in GUARDS:
            assert not guard_found
            guard_found = True
            continue
        if node.kind() in except_for:
            continue
        if node.kind() == "prim::If":
            assert node.prev().kind() in GUARDS
            continue
        raise AssertionError("Found unexpected node:" + node.kind())
    assert guard_found


def _run(f, *args, n=2):
    for _ in range(n):
        out = f(*args)
    return out


def test_static_group_sits_behind_a_type_check(strategy):
    f = torch.jit.script(_chain())
    x, y = torch.rand(4, 8), torch.rand(4, 8)
    _run(f, x, y)
    g = f.graph_for(x, y)
    assert_all_fused(g)
    assert len(find_fusion_groups(g)) == 1
    kinds = [n.kind() for n in g.nodes()]
    assert kinds == ["prim::TypeCheck", "prim::If"]
    check, branch = g.nodes()
    want = "Float(4, 8, strides=[8, 1], requires_grad=0, device=cpu)"
    assert [str(t) for t in check["types"]] == [want, want]
    # the checked values (typed as checked) feed the group; the last output is the verdict
    assert [str(v.type()) for v in check.outputs()] == [want, want, "bool"]
    assert [v.debugName() for v in check.inputs()] == ["x.1", "y.1"]
    fast, slow = branch.blocks()
    (group,) = fast.nodes()
    assert group.kind() == GROUP and list(group.inputs()) == list(check.outputs())[:2]
    # the fallback calls the unfused function on the unchecked inputs
    const, call, unpack = slow.nodes()
    assert const.kind() == "prim::Constant" and const["name"] == "fallback_function"
    assert str(const.output().type()) == "Function"
    assert call.kind() == "prim::CallFunction" and [v.debugName() for v in
                                                     list(call.inputs())[1:]] == ["x.1", "y.1"]
    assert unpack.kind() == "prim::TupleUnpack" and list(slow.outputs()) == [unpack.output()]
    # the If stands for the group's result downstream
    assert list(g.outputs()) == [branch.output()]
    assert branch.output().type() == group.output().type()
    text = str(g)
    assert 'prim::Constant[name="fallback_function", fallback=1]()' in text
    assert f"prim::TypeCheck[types=[{want}, {want}]](%x.1, %y.1)" in text
    assert text.count("with prim::TensorExprGroup_0 = graph(") == 1
    # the text reads back (torch._C.parse_ir on graph_for's output)
    assert str(parse_ir(text)) == text
    # and it still computes what eager does, the guard accepting
    xn, yn = x.numpy(), y.numpy()
    np.testing.assert_allclose(f(x, y).numpy(),
                               np.tanh(xn * 0.5 + yn) / (1 + np.exp(yn - xn)), rtol=1e-5)


def test_guard_shown_before_the_group_first_runs(strategy):
    """graph_for on a fresh function profiles and optimizes; the group has not run yet,
    and shows the guard its first call will make."""
    f = torch.jit.script(_chain())
    x, y = torch.rand(3, 5), torch.rand(5)
    before = f.graph_for(x, y)
    check = before.findNode("prim::TypeCheck")
    assert [str(t) for t in check["types"]] == [
        "Float(3, 5, strides=[5, 1], requires_grad=0, device=cpu)",
        "Float(5, strides=[1], requires_grad=0, device=cpu)"]
    f(x, y)
    after = f.graph_for(x, y)
    assert str(after).split("\nwith ")[0] == str(before).split("\nwith ")[0]


def test_dynamic_group_sits_behind_a_dynamic_guard(strategy):
    strategy([("DYNAMIC", 4)])
    f = torch.jit.script(_chain())
    x, y = torch.rand(4, 8), torch.rand(1, 8)
    _run(f, x, y)
    g = torch.jit.last_executed_optimized_graph()
    assert_all_fused(g)
    guard = g.findNode("prim::TensorExprDynamicGuard")
    assert g.findNode("prim::TypeCheck") is None
    # sizes read at run time print as *, a dim of size 1 (it broadcasts) stays 1
    assert [str(t) for t in guard["types"]] == [
        "Float(*, *, strides=[*, 1], requires_grad=0, device=cpu)",
        "Float(1, *, strides=[*, 1], requires_grad=0, device=cpu)"]
    assert [str(v.type()) for v in guard.outputs()] == ["bool"]
    # its group takes the unchecked inputs
    group = g.findNode(GROUP)
    assert [v.debugName() for v in group.inputs()] == ["x.1", "y.1"]
    # other sizes of the same class: the same kernel serves (no new guard shown)
    x2, y2 = torch.rand(6, 3), torch.rand(1, 3)
    f(x2, y2)
    assert str(f.graph_for(x2, y2)) == str(f.graph_for(x, y))


def test_first_specialization_is_the_one_shown(strategy):
    """As TorchScript's top-level TypeCheck: later specializations live in its fallback."""
    f = torch.jit.script(_chain())
    a = torch.rand(2, 3)
    b = torch.rand(5, 7)
    _run(f, a, a)
    _run(f, b, b)
    for args in ((a, a), (b, b)):
        check = f.graph_for(*args).findNode("prim::TypeCheck")
        assert str(check["types"][0]).startswith("Float(2, 3, ")


def test_scalar_inputs_are_not_checked(strategy):
    f = torch.jit.script(scaled)
    x, y = torch.rand(6), torch.rand(6)
    _run(f, x, y, 1.5)
    g = f.graph_for(x, y, 1.5)
    assert_all_fused(g)
    check = g.findNode("prim::TypeCheck")
    assert [v.debugName() for v in check.inputs()] == ["x.1", "y.1"]
    group = g.findNode(GROUP)
    assert group.inputsAt(2).debugName() == "a.1"
    # the fallback gets every input of the group
    call = g.findNode("prim::CallFunction")
    assert [v.debugName() for v in list(call.inputs())[1:]] == ["x.1", "y.1", "a.1"]


def test_group_in_a_loop_is_guarded_in_the_loop_body(strategy):
    f = torch.jit.script(looped)
    x = torch.rand(5)
    _run(f, x, 3)
    g = f.graph_for(x, 3)
    loop = g.findNode("prim::Loop")
    body = list(loop.blocks())[0]
    kinds = [n.kind() for n in body.nodes()]
    assert "prim::TypeCheck" in kinds and "prim::If" in kinds and GROUP not in kinds
    assert len(find_fusion_groups(g)) == 1
    want = x.numpy()
    for _ in range(3):
        want = 1 / (1 + np.exp(-(want * 2 + 1)))
    np.testing.assert_allclose(f(x, 3).numpy(), want, rtol=1e-5)


def test_unfused_nodes_stay_outside_the_guard(strategy):
    def mm_then_chain(x, w):
        return torch.sigmoid(torch.mm(x, w) * 2.0 + 1.0)

    f = torch.jit.script(mm_then_chain)
    x, w = torch.rand(3, 4), torch.rand(4, 5)
    _run(f, x, w)
    g = f.graph_for(x, w)
    assert [n.kind() for n in g.nodes() if n.kind() != "prim::Constant"] == [
        "aten::mm", "prim::TypeCheck", "prim::If"]
    with pytest.raises(AssertionError, match="unexpected node:aten::mm"):
        assert_all_fused(g)
    assert_all_fused(g, except_for={"aten::mm"})
    # fusion_report reads the graph as it runs, not the guards shown
    report = f.fusion_report(x, w)
    assert "TypeCheck" not in report and "CallFunction" not in report
    assert "aten::mm" in report


def test_spent_budget_shows_the_plain_ops(strategy):
    """A group that will not specialize (its function spent the budget on another input
    signature) runs unfused, op by op: graph_for shows those ops in its place, no guard
    and no group (TorchScript's graph at depth 0)."""
    strategy([("STATIC", 1)])
    f = torch.jit.script(_chain())
    _run(f, torch.rand(4), torch.rand(4))
    a, b = torch.rand(2, 2), torch.rand(2, 2)
    with pytest.warns(UserWarning, match="all the specializations"):
        _run(f, a, b)
    g = f.graph_for(a, b)
    assert g.findNode("prim::TypeCheck") is None and g.findNode("prim::If") is None
    assert len(find_fusion_groups(g)) == 0
    assert [n.kind() for n in g.nodes() if n.kind() != "prim::Constant"] == \
        [n.kind() for n in f.graph.nodes() if n.kind() != "prim::Constant"]
    np.testing.assert_allclose(f(a, b).numpy(), _chain()(a, b).numpy(), rtol=1e-6)


def test_traced_function_and_module_method(strategy):
    def fn(x, y):
        return (x + y) * y - x

    x, y = torch.rand(3, 3), torch.rand(3, 3)
    t = torch.jit.trace(fn, (x, y))
    _run(t, x, y)
    assert_all_fused(t.graph_for(x, y))

    class M(torch.nn.Module):
        def forward(self, x, y):
            return torch.tanh(x) * y + 1.0

    m = torch.jit.script(M())
    _run(m, x, y)
    g = m.graph_for(x, y)
    kinds = [n.kind() for n in g.nodes()]
    assert "prim::TypeCheck" in kinds and len(find_fusion_groups(g)) == 1


def test_requires_grad_is_part_of_the_checked_type(strategy):
    f = torch.jit.script(_chain())
    x, y = torch.rand(4, requires_grad=True), torch.rand(4)
    _run(f, x, y)
    g = f.graph_for(x, y)
    # torch 2.13: the group sits in a DifferentiableGraph, behind a RequiresGradCheck of
    # its inputs in merge order ([y, x]: [False, True]); the forward's TypeCheck inside
    # checks requires_grad=0 (the forward runs without recording)
    check = g.findNode("prim::RequiresGradCheck")
    assert [v.debugName() for v in check.inputs()] == ["y.1", "x.1"]
    assert [t.requires_grad for t in check["types"]] == [False, True]
    inner = g.findNode("prim::DifferentiableGraph").g("Subgraph").findNode("prim::TypeCheck")
    assert [t.requires_grad for t in inner["types"]] == [False, False]
