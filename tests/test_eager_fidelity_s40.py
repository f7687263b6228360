"""Session 40 (e40): eager autograd fidelity against PyTorch 2.13 (torch's answers written
out; no torch import).

1. The edges of autograd's not-implemented fallback node (NotImplemented: ops PyTorch's
   derivatives.yaml does not name: floor_divide, heaviside, bincount, histogram(dd),
   scatter with reduce=, linalg.ldl_solve, binomial...) are the tensors that require grad,
   Tensor[] elements included, in argument order: torch.floor_divide(x, y) of an x
   requiring grad has one edge (AccumulateGrad), bincount(ints, weights) one,
   histogramdd(x, [b0, b1]) with x and b1 requiring grad two, scatter(x, 0, index, src,
   reduce='add') with src requiring grad one. gpujit gave an edge per Tensor argument
   ((None, 0) for an index, a None weight or a tensor needing no grad) and none for a
   Tensor[]'s elements. The backward still raises "derivative for aten::<op> is not
   implemented".
"""
import warnings

import numpy as np
import pytest

import gpujit as torch


def _names(y):
    g = y.grad_fn
    return type(g).__name__, [type(n).__name__ if n is not None else None
                              for n, _ in g.next_functions]


def _leaf(*shape):
    return torch.rand(*shape, requires_grad=True)


@pytest.mark.parametrize("call, want", [
    (lambda a, b: torch.floor_divide(a, b), ["AccumulateGrad"]),
    (lambda a, b: torch.floor_divide(b, a), ["AccumulateGrad"]),
    (lambda a, b: torch.heaviside(b, a), ["AccumulateGrad"]),
    (lambda a, b: torch.bincount(torch.tensor([0, 1, 1]), a), ["AccumulateGrad"]),
    (lambda a, b: torch.histogram(a, torch.tensor([0., .5, 1.]))[0], ["AccumulateGrad"]),
    (lambda a, b: torch.histogram(b, torch.tensor([0., .5, 1.], requires_grad=True),
                                  weight=a)[0], ["AccumulateGrad", "AccumulateGrad"]),
    (lambda a, b: torch.histogramdd(a.view(3, 1), [torch.tensor([0., 1.])])[0],
     ["ViewBackward0"]),
    (lambda a, b: torch.histogramdd(
        b.view(3, 1).expand(3, 2).contiguous(),
        [torch.tensor([0., 1.]), torch.tensor([0., .5, 1.], requires_grad=True)])[0],
     ["AccumulateGrad"]),
    (lambda a, b: torch.scatter(b, 0, torch.tensor([0, 2]), a[:2], reduce="add"),
     ["SliceBackward0"]),
    (lambda a, b: torch.scatter(a, 0, torch.tensor([0, 2]), 1.5, reduce="multiply"),
     ["AccumulateGrad"]),
    (lambda a, b: torch.binomial(torch.full((3,), 5.), a), ["AccumulateGrad"]),
])
def test_not_implemented_fallback_edges(call, want):
    a, b = _leaf(3), torch.rand(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = call(a, b)
    assert _names(y) == ("NotImplemented", want)
    with pytest.raises(RuntimeError, match=r"derivative for aten::\w+ is not implemented"):
        y.sum().backward()


def test_not_implemented_edges_lead_to_the_inputs():
    a = _leaf(4, 2)
    bins = [torch.tensor([0., 1.]), torch.tensor([0., .5, 1.], requires_grad=True)]
    h = torch.histogramdd(a, bins)[0]
    nf = h.grad_fn.next_functions
    assert len(nf) == 2
    assert nf[0][0].variable is a and nf[1][0].variable is bins[1]
    ld = torch.tensor([[2., 0.], [0.5, 3.]])
    piv = torch.tensor([1, 2], dtype=torch.int32)
    B = _leaf(2, 1)
    y = torch.linalg.ldl_solve(ld, piv, B)
    assert _names(y) == ("NotImplemented", ["AccumulateGrad"])
    assert y.grad_fn.next_functions[0][0].variable is B
