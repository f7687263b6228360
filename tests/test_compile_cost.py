"""What the compile pipeline caches to make the first calls of a compiled function
cheaper must never change a result: a cache keyed too loosely would hand one group or
graph what another computes. Each case here checks values and gradients against eager
code (NumPy-checked) where a cache hit and a miss must be told apart."""
from __future__ import annotations

import numpy as np

import gpujit as torch
from gpujit.jit import autodiff
from gpujit.runtime.interpreter import GROUP_RUNNER

_R = np.random.default_rng(11)


def _t(*shape):
    return torch.from_numpy(_R.uniform(-1.5, 1.5, shape).astype(np.float32)).requires_grad_()


def _runners(f, *args):
    exe = f._get_executable()
    spec = exe._active[exe.key(list(args))]
    return [g.node.meta[GROUP_RUNNER] for g in spec.groups if GROUP_RUNNER in g.node.meta]


def _grads(fn, inputs):
    for t in inputs:
        t.grad = None
    out = fn(*inputs)
    (out * 1.5).sum().backward()
    res = [out.detach().numpy().copy()] + [t.grad.numpy().copy() for t in inputs]
    for t in inputs:
        t.grad = None
    return res


def _compare(fn, inputs, calls=4):
    # (the groups' own backward nodes: with DifferentiableGraph regions on (a48), the mm
    # and both groups are one region, differentiated by the region's backward)
    from gpujit.runtime import executor
    old, executor._whole_graph[0] = executor._whole_graph[0], False
    try:
        return _compare_groups(fn, inputs, calls)
    finally:
        executor._whole_graph[0] = old


def _compare_groups(fn, inputs, calls):
    f = torch.jit.script(fn)
    want = _grads(fn, inputs)
    for _ in range(calls):
        for w, g in zip(want, _grads(f, inputs)):
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)
    return f, _runners(f, *inputs)


# (y first: the two groups read (y, x) and (y, b), in that order)
def same_cells(y, w, x):
    a = torch.sigmoid(x * y) + x
    b = torch.mm(a, w)                  # (not fusible: two groups)
    return torch.sigmoid(b * y) + b


def other_op(y, w, x):
    a = torch.sigmoid(x * y) + x
    b = torch.mm(a, w)
    return torch.tanh(b * y) + b


def other_constant(y, w, x):
    a = torch.sigmoid(x * 2.0) * y
    b = torch.mm(a, w)
    return torch.sigmoid(b * 3.0) * y


def other_shape(y, w, x):
    a = torch.sigmoid(x * y) + x
    b = torch.mm(a, w)                  # (4, 5): the second group's inputs differ
    return torch.sigmoid(b * y) + b


def test_groups_alike_share_one_traced_backward():
    x, w, y = _t(4, 4), _t(4, 4), _t(4, 4)
    _, runners = _compare(same_cells, [y, w, x])
    assert len(runners) == 2
    assert sorted(r.traced for r in runners) == [0, 1]
    (a,), (b,) = (list(r.backwards.values()) for r in runners)
    assert a is b
    # the numbers the shared graph gives are each group's own
    xs, ws, ys = (t.detach().numpy().astype(np.float64) for t in (x, w, y))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    a_ = sig(xs * ys) + xs
    b_ = a_ @ ws
    np.testing.assert_allclose(same_cells(y, w, x).detach().numpy(),
                               sig(b_ * ys) + b_, rtol=1e-5, atol=1e-6)


def test_groups_that_differ_trace_their_own_backward():
    for fn, shapes in ((other_op, [(4, 4)] * 3), (other_constant, [(4, 4)] * 3),
                       (other_shape, [(4, 1), (4, 5), (4, 4)])):
        inputs = [_t(*s) for s in shapes]
        if fn is other_shape:
            inputs[0] = _t(4, 1)
        _, runners = _compare(fn, inputs)
        assert len(runners) == 2, fn.__name__
        assert [r.traced for r in runners] == [1, 1], fn.__name__
        (a,), (b,) = (list(r.backwards.values()) for r in runners)
        assert a is not b, fn.__name__


def test_structure_key():
    f = torch.jit.script(same_cells)
    x, w, y = _t(4, 4), _t(4, 4), _t(4, 4)
    for _ in range(2):
        f(y, w, x)
    a, b = (r.sub for r in _runners(f, y, w, x))
    assert autodiff.structure_key(a) == autodiff.structure_key(b) is not None
    f = torch.jit.script(other_constant)
    for _ in range(2):
        f(y, w, x)
    a, b = (r.sub for r in _runners(f, y, w, x))
    assert autodiff.structure_key(a) != autodiff.structure_key(b)
    assert autodiff._attr_key(0.0) != autodiff._attr_key(-0.0)
    assert autodiff._attr_key(1) != autodiff._attr_key(True) != autodiff._attr_key(1.0)
    assert autodiff._attr_key(object()) is None


def test_optimize_lints_its_result_once_or_after_every_pass(monkeypatch):
    """Outside the tests optimize lints once, at the end (GPUJIT_LINT_PASSES=1: after each
    pass); either way a pass that breaks the graph is caught."""
    import pytest
    from gpujit import passes
    from gpujit.ir import parse_ir, LintError

    def breaks(graph):                  # a use record lost: lint's "lacks a use record"
        n = next(n for n in graph.nodes if n.kind == "aten::mul")
        n.inputs[0].uses.clear()

    monkeypatch.setattr(passes, "PIPELINE", list(passes.PIPELINE[:-1]) + [breaks])
    src = "graph(%x : Tensor):\n  %y : Tensor = aten::mul(%x, %x)\n  return (%y)\n"
    for each in (False, True):
        monkeypatch.setattr(passes, "LINT_EACH_PASS", each)
        with pytest.raises(LintError, match="lacks a use record"):
            passes.optimize(parse_ir(src))
