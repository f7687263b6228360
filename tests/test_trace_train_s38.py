"""Tracing, scripted / traced modules and training against torch 2.13 (session 38, d38).

Finds, minimised, with torch 2.13's behaviour:

1. A submodule called twice in a row on the same input (`self.a(x) + self.a(x)`: nothing
   recorded between the two calls) kept its second call inline: torch 2.13 prints
   `_0 = torch.add((a).forward(x, ), (a).forward1(x, ))` and gives the submodule a
   `forward1`; gpujit printed the second call's ops (`torch.relu(torch.linear(x, weight,
   bias))`). Folding the first call into its prim::CallMethod destroyed the node the
   second call had marked as its start, so the second call's region was skipped as if
   folded into an outer call.
"""
import numpy as np

import gpujit as torch

nn = torch.nn


def N(t):
    return np.asarray(t.detach().cpu().numpy())


class _Sub(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, x):
        return self.lin(x).relu()


class _Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = _Sub()

    def forward(self, x):
        return self.a(x) + self.a(x)


class _Chain(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)

    def forward(self, x):
        return self.b(self.a(x)) + self.a(x)


def _np_linear(lin, x):
    return x @ N(lin.weight).T + N(lin.bias)


def test_submodule_called_twice_back_to_back_gets_forward1():
    torch.manual_seed(0)
    m = _Twice()
    x = torch.randn(3, 2)
    t = torch.jit.trace(m, (x,))
    assert t.code == (
        "def forward(self,\n"
        "    x: Tensor) -> Tensor:\n"
        "  a = self.a\n"
        "  _0 = torch.add((a).forward(x, ), (a).forward1(x, ))\n"
        "  return _0\n")
    assert t.a.forward1.code == (
        "def forward1(self,\n"
        "    x: Tensor) -> Tensor:\n"
        "  lin = self.lin\n"
        "  return torch.relu((lin).forward1(x, ))\n")
    y = torch.randn(4, 2, requires_grad=True)
    out = t(y)
    ref = 2 * np.maximum(_np_linear(m.a.lin, N(y)), 0)
    np.testing.assert_allclose(N(out), ref, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    assert y.grad is not None and m.a.lin.weight.grad is not None


def test_second_call_after_another_submodule_is_a_method_call():
    torch.manual_seed(0)
    m = _Chain()
    x = torch.randn(3, 2)
    t = torch.jit.trace(m, (x,))
    # torch 2.13: `_0 = torch.add((b).forward((a).forward(x, ), ), (a).forward1(x, ))`
    assert "(a).forward1(x, )" in t.code and "torch.linear" not in t.code
    assert [n.kind() for n in t.graph.nodes()].count("prim::CallMethod") == 3
    y = torch.randn(5, 2)
    ref = _np_linear(m.b, _np_linear(m.a, N(y))) + _np_linear(m.a, N(y))
    np.testing.assert_allclose(N(t(y)), ref, rtol=1e-5, atol=1e-6)
