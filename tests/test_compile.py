"""gpujit.compile (torch.compile's spelling): script + fuse on the first call, eager
fallback with a warning where the script frontend cannot follow the code."""
import warnings

import numpy as np
import pytest

import gpujit as torch


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)
        self.drop = torch.nn.Dropout(0.5)

    def forward(self, x):
        return torch.tanh(self.drop(self.lin(x))) * 2 + 1


def _chain(x, y):
    return torch.sigmoid(x) * y + x


def _with_numpy(x):
    return torch.from_numpy(np.sin(x.numpy()))


def _untyped(x, n):
    return x * n


def test_module_compiles_shares_parameters_and_follows_train_eval():
    m = _Net()
    cm = torch.compile(m)
    assert cm._orig_mod is m and list(cm.state_dict()) == [
        "_orig_mod.lin.weight", "_orig_mod.lin.bias"]
    assert cm.lin is m.lin                                   # attributes reach the original
    x = torch.rand(3, 4)
    cm.eval()
    np.testing.assert_allclose(cm(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    assert isinstance(cm._compiled, torch.jit.ScriptModule)
    with torch.no_grad():
        m.lin.weight.zero_()                                 # shared with the scripted copy
    np.testing.assert_allclose(cm(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    m.drop.train()                                           # a submodule's flag reaches it
    out = cm(x).detach().numpy()
    assert (out == 1.0).any() and not (out == 1.0).all()
    cm.train()
    y = cm(x).sum()
    y.backward()
    assert m.lin.bias.grad is not None


def test_function_decorators_and_fusion():
    f = torch.compile(_chain)
    x, y = torch.rand(64), torch.rand(64)
    for _ in range(3):
        np.testing.assert_allclose(f(x, y).numpy(), _chain(x, y).numpy(), rtol=1e-6)
    assert f.__name__ == "_chain"
    assert "prim::TensorExprGroup" in str(f._compiled.graph_for(x, y))
    g = torch.compile(mode="max-autotune", fullgraph=True)(_chain)
    np.testing.assert_allclose(g(x, y).numpy(), _chain(x, y).numpy(), rtol=1e-6)
    assert torch.compile(_chain, disable=True) is _chain
    assert torch.compile(_chain, backend="eager") is _chain


def test_eager_fallbacks_warn_and_fullgraph_raises():
    x = torch.rand(3)
    k = torch.compile(_with_numpy)
    with pytest.warns(UserWarning, match="runs eagerly.*numpy"):
        np.testing.assert_allclose(k(x).numpy(), np.sin(x.numpy()), rtol=1e-6)
    with pytest.raises(RuntimeError, match="fullgraph=True.*numpy"):
        torch.compile(_with_numpy, fullgraph=True)(x)
    h = torch.compile(_untyped)
    with pytest.warns(UserWarning, match="arguments run eagerly"):
        np.testing.assert_allclose(h(x, 3).numpy(), (x * 3).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # warned once
        h(x, 4)
        np.testing.assert_allclose(h(x, x).numpy(), (x * x).numpy())


def test_bad_arguments():
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        torch.compile(_chain, mode="fastest")
    with pytest.raises(ValueError, match="unknown backend"):
        torch.compile(_chain, backend="tvm")
    with pytest.raises(TypeError, match="custom backends"):
        torch.compile(_chain, backend=lambda gm, inputs: gm)
    with pytest.raises(RuntimeError, match="expected a callable"):
        torch.compile(3)
