"""Session 37 (lead): autograd nodes of calls with Python number operands.

- A node PyTorch makes for a Scalar overload has no edge for the number: `(1 - x)` is
  rsub.Scalar, `RsubBackward1` with ONE next function; likewise x ** 2 (PowBackward0),
  2 ** x (PowBackward2), fmod / remainder / copysign / xlogy / xlog1py with a number
  (torch 2.13). gpujit gave these nodes an extra `None` edge for the number. Where PyTorch's
  Python bindings wrap the number in a tensor instead (x * 2.0 -> mul.Tensor, MulBackward0;
  x + 1, x / 2, where(c, x, 2.0), div with rounding_mode), the None edge stays, as torch's.
- Recording a call with a number operand took the general (slow) recording path; it now
  takes the planned one (the same node, saved values and gradients).
Expected values are torch 2.13's, written out."""
import numpy as np
import pytest

import gpujit as torch

BASE = [0.5, 1.5, -2.0, 3.0]


def _x():
    return torch.tensor(BASE, requires_grad=True)


def _edges(y):
    return [type(n).__name__ if n is not None else None for n, _ in y.grad_fn.next_functions]


# (expression of x, torch's node name, torch's next_functions, torch's x.grad for ones)
CASES = [
    ("1 - x", "RsubBackward1", ["AccumulateGrad"], [-1.0, -1.0, -1.0, -1.0]),
    ("torch.rsub(x, 2)", "RsubBackward1", ["AccumulateGrad"], [-1.0, -1.0, -1.0, -1.0]),
    ("x ** 2", "PowBackward0", ["AccumulateGrad"], [1.0, 3.0, -4.0, 6.0]),
    ("2 ** x", "PowBackward2", ["AccumulateGrad"], [0.98026, 1.96052, 0.17329, 5.54518]),
    ("x.fmod(2)", "FmodBackward0", ["AccumulateGrad"], [1.0, 1.0, 1.0, 1.0]),
    ("x.remainder(2)", "RemainderBackward0", ["AccumulateGrad"], [1.0, 1.0, 1.0, 1.0]),
    ("torch.xlogy(x.abs(), 2)", "XlogyBackward2", ["AbsBackward0"],
     [0.69315, 0.69315, -0.69315, 0.69315]),
    ("torch.xlogy(2, x.abs())", "XlogyBackward1", ["AbsBackward0"],
     [4.0, 1.33333, -1.0, 0.66667]),
    ("x.copysign(-2)", "CopysignBackward1", ["AccumulateGrad"], [-1.0, -1.0, 1.0, -1.0]),
    ("torch.special.xlog1py(x.abs(), 2)", "SpecialXlog1PyBackward2", ["AbsBackward0"],
     [1.09861, 1.09861, -1.09861, 1.09861]),
    ("torch.special.xlog1py(2, x.abs())", "SpecialXlog1PyBackward1", ["AbsBackward0"],
     [1.33333, 0.8, -0.66667, 0.5]),
    ("torch.special.zeta(x.abs() + 1.5, 2)", "SpecialZetaBackward2", ["AddBackward0"], None),
    # the number wrapped in a tensor by PyTorch's bindings: an edge to None
    ("x * 2.0", "MulBackward0", ["AccumulateGrad", None], [2.0, 2.0, 2.0, 2.0]),
    ("2 * x", "MulBackward0", ["AccumulateGrad", None], [2.0, 2.0, 2.0, 2.0]),
    ("x + 1", "AddBackward0", ["AccumulateGrad", None], [1.0, 1.0, 1.0, 1.0]),
    ("x.add(2, alpha=3)", "AddBackward0", ["AccumulateGrad", None], [1.0, 1.0, 1.0, 1.0]),
    ("x - 1", "SubBackward0", ["AccumulateGrad", None], [1.0, 1.0, 1.0, 1.0]),
    ("torch.sub(2, x)", "SubBackward0", [None, "AccumulateGrad"], [-1.0, -1.0, -1.0, -1.0]),
    ("x / 2", "DivBackward0", ["AccumulateGrad", None], [0.5, 0.5, 0.5, 0.5]),
    ("x.div(2, rounding_mode='trunc')", "DivBackward2", ["AccumulateGrad", None],
     [0.0, 0.0, 0.0, 0.0]),
    ("torch.where(x > 0, x, 2.0)", "WhereBackward0", ["AccumulateGrad", None],
     [1.0, 1.0, 0.0, 1.0]),
    ("torch.where(x > 0, 2.0, x)", "WhereBackward0", [None, "AccumulateGrad"],
     [0.0, 0.0, 1.0, 0.0]),
    ("x.masked_fill(x > 0, 1.0)", "MaskedFillBackward0", ["AccumulateGrad"],
     [0.0, 0.0, 1.0, 0.0]),
    ("torch.lerp(x, x * 3, 0.25)", "LerpBackward0", ["AccumulateGrad", "MulBackward0"],
     [1.5, 1.5, 1.5, 1.5]),
]


@pytest.mark.parametrize("expr,name,edges,grad", CASES, ids=[c[0] for c in CASES])
def test_number_operand_nodes_have_torchs_edges_and_gradients(expr, name, edges, grad):
    x = _x()
    y = eval(expr, {"torch": torch, "x": x})
    assert type(y.grad_fn).__name__ == name
    assert _edges(y) == edges
    if grad is not None:
        y.backward(torch.ones_like(y))
        np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-4, atol=1e-5)


def test_zeta_of_a_number_order_has_one_edge_and_torchs_refusal():
    # zeta(s, 2) differentiated in s: torch 2.13 raises NotImplementedError "the derivative
    # for 'zeta' is not implemented." from its one edge's node
    x = _x()
    y = torch.special.zeta(x.abs() + 1.5, 2)
    assert len(y.grad_fn.next_functions) == 1
    with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not"):
        y.sum().backward()


def test_in_place_scalar_overload_through_a_view_and_alone():
    x = _x()
    z = x * 1.0
    z[1:].pow_(2)
    assert type(z.grad_fn).__name__ == "CopySlices"
    assert len(z.grad_fn.next_functions) == 1
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 3.0, -4.0, 6.0])
    w = x * 1.0
    w.fmod_(2)
    assert type(w.grad_fn).__name__ == "FmodBackward0"
    assert len(w.grad_fn.next_functions) == 1


def test_double_backward_and_node_hooks_see_one_gradient_input():
    x = _x()
    (g,) = torch.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [3.0, 9.0, -12.0, 18.0], rtol=1e-6)
    x = _x()
    h = 2 - x
    seen = []
    h.grad_fn.register_hook(lambda gi, go: seen.append(len(gi)))
    h.sum().backward()
    assert seen == [1]          # torch: grad_inputs of RsubBackward1 hold one gradient


def test_a_number_operand_is_recorded_on_the_planned_path():
    # the planned recording (autograd/recording.py _record_planned) serves x * 2.0: the
    # general path (_record) is not called for it
    from gpujit.autograd import recording
    x = _x()
    x * 2.0                     # (plans the op)
    calls = []
    real = recording._record
    recording._record = lambda *a: calls.append(a) or real(*a)
    try:
        y = x * 2.0
    finally:
        recording._record = real
    assert calls == []
    assert type(y.grad_fn).__name__ == "MulBackward0"


# torch.float_power recording gradients is torch's composite: pow of float64 conversions
# (torch 2.13: PowBackward0/1/2 with ToCopyBackward0 edges for non-float64 operands;
# gpujit named a FloatPowerBackward0 of its own with an edge to None for a number)
FLOAT_POWER = [
    ("float32", "x.float_power(2)", "PowBackward0", ["ToCopyBackward0"], [1.0, 3.0, 4.0]),
    ("float32", "torch.float_power(2, x)", "PowBackward2", ["ToCopyBackward0"],
     [0.980258, 1.960516, 2.772589]),
    ("float32", "x.float_power(e)", "PowBackward1", ["ToCopyBackward0", "ToCopyBackward0"],
     [1.0, 0.408248, 12.0]),
    ("float32", "torch.float_power(x, 2.5)", "PowBackward0", ["ToCopyBackward0"],
     [0.883883, 4.592793, 7.071068]),
    ("float64", "x.float_power(2)", "PowBackward0", ["AccumulateGrad"], [1.0, 3.0, 4.0]),
    ("float64", "x.float_power(e)", "PowBackward1", ["AccumulateGrad", "ToCopyBackward0"],
     [1.0, 0.408248, 12.0]),
]


@pytest.mark.parametrize("dt,expr,name,edges,grad", FLOAT_POWER,
                         ids=[f"{c[0]}-{c[1]}" for c in FLOAT_POWER])
def test_float_power_records_torchs_composite(dt, expr, name, edges, grad):
    x = torch.tensor([0.5, 1.5, 2.0], dtype=getattr(torch, dt), requires_grad=True)
    e = torch.tensor([2.0, 0.5, 3.0], requires_grad=True)
    y = eval(expr, {"torch": torch, "x": x, "e": e})
    assert y.dtype == torch.float64
    assert type(y.grad_fn).__name__ == name
    assert _edges(y) == edges
    y.sum().backward()
    assert x.grad.dtype == getattr(torch, dt)
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-5)
    if "e)" in expr:
        np.testing.assert_allclose(e.grad.numpy(), [-0.17329, 0.49659, 5.54518], rtol=1e-4)
