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
2. torch._standard_gamma records StandardGammaBackward0 (edge to its input), whose
   gradient is grad * torch._standard_gamma_grad(alpha, sample) (a registry op now, ATen's
   standard_gamma_grad_one in double: gamma_grad([0.3, 2.5, 30], [0.1, 2.4, 20]) =
   [0.7894044031433252, 1.046918038539682, 0.8154193264259489]; its own backward raises
   NotImplementedError "the derivative for '_standard_gamma_grad' is not implemented.");
   torch._sample_dirichlet records the NotImplemented fallback node ("derivative for
   aten::_sample_dirichlet is not implemented"). gpujit recorded neither (no grad_fn) and
   had no torch._standard_gamma_grad. Gamma(c, rate).rsample() is
   _standard_gamma(c) / rate (DivBackward0 -> [StandardGammaBackward0, None]; the clamp to
   the smallest normal is not recorded); gpujit's was AddBackward0 -> DivBackward0.
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


def test_standard_gamma_records_its_backward():
    torch.manual_seed(0)
    a = torch.tensor([0.3, 1.0, 2.5, 10.0, 30.0], requires_grad=True)
    y = torch._standard_gamma(a)
    assert _names(y) == ("StandardGammaBackward0", ["AccumulateGrad"])
    y.sum().backward()
    want = torch._standard_gamma_grad(a.detach(), y.detach())
    np.testing.assert_array_equal(a.grad.numpy(), want.numpy())
    g = torch._standard_gamma_grad(a, y)
    assert type(g.grad_fn).__name__ == "StandardGammaGradBackward0"
    with pytest.raises(NotImplementedError, match="the derivative for "
                       "'_standard_gamma_grad' is not implemented."):
        g.sum().backward()
    got = torch._standard_gamma_grad(torch.tensor([0.3, 2.5, 30.0], dtype=torch.float64),
                                     torch.tensor([0.1, 2.4, 20.0], dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), [0.7894044031433252, 1.046918038539682,
                                             0.8154193264259489], rtol=1e-13)


def test_sample_dirichlet_records_not_implemented():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = torch._sample_dirichlet(a)
    assert _names(d) == ("NotImplemented", ["AccumulateGrad"])
    with pytest.raises(RuntimeError, match="derivative for aten::_sample_dirichlet is not "
                       "implemented"):
        d.sum().backward()


def test_gamma_rsample_graph():
    torch.manual_seed(0)
    c = torch.tensor([0.5, 2.0, 9.0], requires_grad=True)
    r = torch.distributions.Gamma(c, torch.tensor(2.0)).rsample()
    assert _names(r) == ("DivBackward0", ["StandardGammaBackward0", None])
    r.sum().backward()
    want = torch._standard_gamma_grad(c.detach(), (r * 2).detach()) / 2
    np.testing.assert_allclose(c.grad.numpy(), want.numpy(), rtol=1e-6)
