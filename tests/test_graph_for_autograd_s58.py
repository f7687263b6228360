"""graph_for of a scripted function that calls autograd itself (torch.autograd.grad,
backward, requires_grad_) shows the graph that runs: such a function runs op by op, so
that autograd records each op, and no fusion group ever runs. graph_for showed groups
behind guards that no call used (cache_info: no kernel compiled)."""
import numpy as np

import gpujit as torch
import gpujit.kernels


@torch.jit.script
def _grad_of_chain(x):
    y = torch.tanh(x) * 2 + x.sigmoid()
    g = torch.autograd.grad([y.sum()], [x])
    gg = g[0]
    assert gg is not None
    return gg * 3 + 1


@torch.jit.script
def _plain_chain(x):
    return torch.tanh(x) * 2 + x.sigmoid()


def test_graph_for_shows_no_group_where_the_function_calls_autograd():
    x = torch.randn(8, requires_grad=True)
    for _ in range(3):
        r = _grad_of_chain(x)
    t = np.tanh(x.detach().numpy().astype(np.float64))
    s = 1 / (1 + np.exp(-x.detach().numpy().astype(np.float64)))
    np.testing.assert_allclose(r.numpy(), (2 * (1 - t * t) + s * (1 - s)) * 3 + 1,
                               rtol=1e-5)
    g = str(_grad_of_chain.graph_for(x))
    assert "TensorExprGroup" not in g and "prim::TypeCheck" not in g, g
    assert "aten::grad(" in g and "aten::tanh(" in g, g
    assert "TensorExprGroup" not in str(torch.jit.last_executed_optimized_graph())
    assert "calls autograd" in _grad_of_chain.fusion_report(x)


def test_a_function_without_autograd_calls_still_shows_its_group():
    x = torch.randn(8)
    for _ in range(3):
        _plain_chain(x)
    assert "prim::TensorExprGroup" in str(_plain_chain.graph_for(x))
    assert gpujit.kernels.cache_info().specializations.get("_plain_chain")
