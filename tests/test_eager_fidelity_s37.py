"""Session 37 (c37): eager tensor and autograd fidelity against PyTorch 2.13.

Finds, minimised, with torch 2.13's behaviour (expected values written out: no torch here):

1. F.linear recording gradients was one node (AddmmBackward0 / MmBackward0 / ViewBackward0
   ...) whose weight edge went to the weight's AccumulateGrad. torch's linear is a
   CompositeImplicitAutograd kernel: addmm(b, x, w.t()) for a 2-D x; addmm of x's
   (prod(lead), in) view, viewed back, for another contiguous x with a 1-D bias; else
   matmul(x, w.t()) then add_(b). So `F.linear(ones(3, 4), w, b).grad_fn` is
   AddmmBackward0 -> (AccumulateGrad(b), TBackward0 -> AccumulateGrad(w)); a 3-D x is
   ViewBackward0 -> AddmmBackward0 -> (b, ViewBackward0(x), TBackward0(w)); saved-tensor
   hooks see x (2, 3) and w.t() (3, 2); a weight written in place before backward is
   reported as "[torch.FloatTensor [4, 5]]" (the transpose addmm saved); the profiler sees
   aten::linear, aten::t, aten::addmm. gpujit now records the decomposition
   (OpDef.composite); tracing still records aten::linear. addmm of a non-matrix said mm's
   "mat2 must be a matrix" (torch: "mat2 must be a matrix, got 1-D tensor", mat1 too).
"""
import numpy as np
import pytest

import gpujit as torch

F = torch.nn.functional
ACC = "torch::autograd::AccumulateGrad"


def _tree(fn, depth=3):
    if fn is None:
        return None
    r = [fn.name()]
    if depth > 0 and fn.next_functions:
        r.append([_tree(n, depth - 1) for n, _ in fn.next_functions])
    return r


def _rg(*shape):
    return torch.ones(*shape, dtype=torch.float64).requires_grad_()


# ------------------------------------------------------------------ 1. linear's graph

@pytest.mark.parametrize("xs,bs,tree", [
    ((3, 4), (5,), ["AddmmBackward0", [[ACC], [ACC], ["TBackward0", [[ACC]]]]]),
    ((3, 4), None, ["MmBackward0", [[ACC], ["TBackward0", [[ACC]]]]]),
    ((2, 3, 4), (5,), ["ViewBackward0", [["AddmmBackward0", [
        [ACC], ["ViewBackward0", [[ACC]]], ["TBackward0", [[ACC]]]]]]]),
    ((4,), (5,), ["ViewBackward0", [["AddmmBackward0", [
        [ACC], ["ViewBackward0", [[ACC]]], ["TBackward0", [[ACC]]]]]]]),
    ((3, 4), (3, 5), ["AddmmBackward0", [[ACC], [ACC], ["TBackward0", [[ACC]]]]]),
])
def test_linear_records_torchs_decomposition(xs, bs, tree):
    x, w = _rg(*xs), _rg(5, 4)
    b = None if bs is None else _rg(*bs)
    y = F.linear(x, w, b)
    assert _tree(y.grad_fn) == tree
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((5, 4), float(np.prod(xs[:-1]))))
    assert w.grad.stride() == (4, 1)
    np.testing.assert_array_equal(x.grad.numpy(), np.full(xs, 5.0))


def test_linear_matmul_path_and_add_():
    # a 2-D bias with a 3-D input: matmul(x, w.t()) then add_(b): AddBackward0 over the
    # matmul's node, whose weight edge is TBackward0 (torch 2.13: the matmul is
    # UnsafeViewBackward0 -> MmBackward0 -> (ViewBackward0, TBackward0); gpujit's matmul
    # is one node)
    x, w, b = _rg(2, 3, 4), _rg(5, 4), _rg(3, 5)
    y = F.linear(x, w, b)
    assert y.grad_fn.name() == "AddBackward0"
    mm, acc = y.grad_fn.next_functions
    assert acc[0].name() == ACC and mm[0].name() == "UnsafeViewBackward0"
    assert [n.name() for n, _ in mm[0].next_functions][-1] == "TBackward0"
    assert y.stride() == (15, 5, 1)


def test_linear_weight_written_in_place_names_the_transpose():
    x = torch.ones(3, 4, requires_grad=True)
    w = torch.ones(5, 4)
    y = F.linear(x, w)
    w.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: "
                       r"\[\w+\.FloatTensor \[4, 5\]\] is at version 1; expected version 0"):
        y.sum().backward()


def test_linear_saved_tensor_hooks_see_addmms_operands():
    x = torch.ones(2, 3, requires_grad=True)
    w, b = torch.ones(2, 3, requires_grad=True), torch.zeros(2, requires_grad=True)
    packed = []
    with torch.autograd.graph.saved_tensors_hooks(
            lambda t: packed.append(tuple(t.shape)) or t, lambda t: t):
        F.linear(x, w, b)
    assert packed == [(2, 3), (3, 2)]


def test_linear_decomposition_keeps_checks_and_trace_records_linear():
    w = _rg(5, 4)
    with pytest.raises(RuntimeError, match="both arguments to linear need to be at least "
                                           "1D, but they are 0D and 2D"):
        F.linear(torch.tensor(1.0, dtype=torch.float64), w)
    with pytest.raises(RuntimeError, match="mat2 must be a matrix, got 1-D tensor"):
        F.linear(torch.ones(3, 4, dtype=torch.float64), _rg(4), _rg(3))
    # addmm's own words name the dimension (mm's do not)
    with pytest.raises(RuntimeError, match="mat1 must be a matrix, got 1-D tensor"):
        torch.addmm(torch.ones(3), torch.ones(4), torch.ones(4, 3))
    with pytest.raises(RuntimeError, match="mat2 must be a matrix, got 3-D tensor"):
        torch.addmm(torch.ones(3), torch.ones(3, 4), torch.ones(1, 4, 3))
    with pytest.raises(RuntimeError, match="^mat2 must be a matrix$"):
        torch.mm(torch.ones(3, 4), torch.ones(4))
    lin = torch.nn.Linear(4, 3)
    t = torch.jit.trace(lin, torch.ones(2, 4))
    kinds = [n.kind() for n in t.graph.nodes()]
    assert "aten::linear" in kinds and "aten::addmm" not in kinds and "aten::t" not in kinds
    y = t(torch.ones(2, 4))
    assert y.grad_fn.name() == "AddmmBackward0"
