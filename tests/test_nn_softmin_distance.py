"""F.softmin / nn.Softmin, F.pairwise_distance / torch.pairwise_distance /
nn.PairwiseDistance, nn.CosineSimilarity and nn.utils.parameters_to_vector /
vector_to_parameters: eager, scripted and traced, against NumPy (values checked against
torch 2.13 when written)."""
from typing import Optional

import numpy as np
import pytest

import gpujit as torch
from gpujit import Tensor

F = torch.nn.functional


def _rand(*shape, seed=0):
    return np.random.RandomState(seed + len(shape)).randn(*shape).astype(np.float32)


def _softmin_ref(x, dim):
    x = x.astype(np.float64)
    e = np.exp(-(x - x.min(axis=dim, keepdims=True)))
    return e / e.sum(axis=dim, keepdims=True)


def _pdist_ref(a, b, p=2.0, eps=1e-6, keepdim=False):
    d = (a.astype(np.float64) - b + eps)
    ax = max(a.ndim, b.ndim) - 1
    if p == np.inf:
        r = np.abs(d).max(axis=ax, keepdims=keepdim)
    elif p == 0:
        r = (d != 0).sum(axis=ax, keepdims=keepdim).astype(np.float64)
    else:
        r = (np.abs(d) ** p).sum(axis=ax, keepdims=keepdim) ** (1 / p)
    return r


def test_softmin_eager_matches_numpy():
    x = _rand(4, 5)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(F.softmin(t, 1).numpy(), _softmin_ref(x, 1), rtol=1e-5)
    r = F.softmin(t, dim=0, dtype=torch.float64)
    assert r.dtype == torch.float64
    np.testing.assert_allclose(r.numpy(), _softmin_ref(x, 0), rtol=1e-12)
    np.testing.assert_allclose(torch.nn.Softmin(1)(t).numpy(), _softmin_ref(x, 1), rtol=1e-5)
    # no dim: PyTorch's legacy choice (0 for 0-, 1- and 3-d inputs, else 1), with its warning
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        np.testing.assert_allclose(F.softmin(t).numpy(), _softmin_ref(x, 1), rtol=1e-5)
    y = _rand(2, 3, 4)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        np.testing.assert_allclose(F.softmin(torch.from_numpy(y)).numpy(), _softmin_ref(y, 0),
                                   rtol=1e-5)
    assert repr(torch.nn.Softmin(dim=1)) == "Softmin(dim=1)"


@pytest.mark.parametrize("args,kwargs,shapes", [
    ((), {}, ((4, 5), (4, 5))),
    ((1.0, 1e-3, True), {}, ((4, 5), (4, 5))),
    ((float("inf"),), {}, ((4, 5), (4, 5))),
    ((0.0,), {}, ((4, 5), (4, 5))),
    ((3.5,), {}, ((4, 5), (4, 5))),
    ((), {}, ((5,), (4, 5))),
    ((), {}, ((5,), (5,))),
    ((), {"keepdim": True}, ((2, 3, 5), (3, 5))),
    ((-1.0,), {}, ((2, 3), (2, 3))),
])
def test_pairwise_distance_eager_matches_numpy(args, kwargs, shapes):
    a, b = _rand(*shapes[0]), _rand(*shapes[1], seed=7)
    got = F.pairwise_distance(torch.from_numpy(a), torch.from_numpy(b), *args, **kwargs)
    names = ["p", "eps", "keepdim"]
    kw = dict(zip(names, args), **kwargs)
    want = _pdist_ref(a, b, **kw)
    assert got.dtype == torch.float32 and tuple(got.shape) == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)


def test_pairwise_distance_module_and_function():
    a, b = _rand(4, 5), _rand(4, 5, seed=3)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    np.testing.assert_allclose(torch.pairwise_distance(ta, tb).numpy(), _pdist_ref(a, b),
                               rtol=1e-5)
    m = torch.nn.PairwiseDistance(p=1.0, keepdim=True)
    np.testing.assert_allclose(m(ta, tb).numpy(), _pdist_ref(a, b, 1.0, keepdim=True),
                               rtol=1e-5)
    cos = torch.nn.CosineSimilarity(dim=1, eps=1e-6)(ta, tb).numpy()
    want = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1),
                                       1e-6)
    np.testing.assert_allclose(cos, want, rtol=1e-5)
    with pytest.raises(RuntimeError, match="size of tensor a \\(3\\) must match"):
        F.pairwise_distance(torch.zeros(3), torch.zeros(4))


def test_pairwise_distance_gradient():
    a = torch.from_numpy(_rand(3, 4).astype(np.float64)).requires_grad_()
    b = torch.from_numpy(_rand(3, 4, seed=5).astype(np.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, y: F.pairwise_distance(x, y), (a, b))
    assert torch.autograd.gradcheck(lambda x: F.softmin(x, 1), (a,))


def scripted_fns(x: Tensor, y: Tensor, dim: Optional[int]):
    return (F.softmin(x, 1), F.softmin(x * 2.0, dim=dim, dtype=torch.float64),
            F.pairwise_distance(x, y), torch.pairwise_distance(x, y, 1.0, 1e-3, True),
            F.pairwise_distance(x, y, float("inf")))


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dist = torch.nn.PairwiseDistance(p=3.0)
        self.soft = torch.nn.Softmin(dim=-1)
        self.cos = torch.nn.CosineSimilarity()

    def forward(self, x, y):
        return self.soft(self.dist(x, y)), self.cos(x, y)


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
def test_scripted_and_traced_as_eager():
    x, y = torch.from_numpy(_rand(4, 5)), torch.from_numpy(_rand(4, 5, seed=9))
    s = torch.jit.script(scripted_fns)
    for dim in (None, 0, None):
        want = scripted_fns(x, y, dim)
        for _ in range(3):                      # profiled, then generated code
            for g, w in zip(s(x, y, dim), want):
                assert g.dtype == w.dtype
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)
    np.testing.assert_allclose(s(x, y, None)[1].numpy(), _softmin_ref(x.numpy() * 2, 1),
                               rtol=1e-6)
    net = _Net()
    sm = torch.jit.script(net)
    tm = torch.jit.trace(net, (x, y))
    want = net(x, y)
    np.testing.assert_allclose(want[0].numpy(), _softmin_ref(
        _pdist_ref(x.numpy(), y.numpy(), 3.0), 0), rtol=1e-5)
    for _ in range(3):
        for m in (sm, tm):
            for g, w in zip(m(x, y), want):
                np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


def test_parameters_to_vector_and_back():
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 2)
    v = torch.nn.utils.parameters_to_vector(m.parameters())
    assert v.shape == (8,) and v.requires_grad
    np.testing.assert_array_equal(
        v.detach().numpy(), np.concatenate([m.weight.detach().numpy().ravel(),
                                            m.bias.detach().numpy()]))
    (v * torch.arange(8.0)).sum().backward()              # the gradient reaches each param
    np.testing.assert_array_equal(m.weight.grad.numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.bias.grad.numpy(), [6.0, 7.0])
    w = m.weight
    vec = torch.arange(8.0)
    torch.nn.utils.vector_to_parameters(vec, m.parameters())
    assert m.weight is w and isinstance(m.weight, torch.nn.Parameter) and w.requires_grad
    assert m.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and m.bias.tolist() == [6, 7]
    vec[0] = 42.0                                          # the parameters view vec
    assert m.weight[0, 0].item() == 42.0
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        torch.nn.utils.vector_to_parameters([1.0], m.parameters())
    with pytest.raises(RuntimeError, match="invalid for input of size 5"):
        torch.nn.utils.vector_to_parameters(torch.arange(5.0), m.parameters())
