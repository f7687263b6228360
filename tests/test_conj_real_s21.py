"""conj / conj_physical / resolve_conj / resolve_neg / real on real tensors hand back the
tensor itself, as PyTorch's (gpujit has no complex dtypes; gpujit/ops/complex_parts.py);
imag raises PyTorch's error; in scripted code they are aliases the peephole pass removes,
so they fuse."""
import numpy as np
import pytest

import gpujit
from fusion_asserts import find_fusion_groups

NAMES = ["conj", "conj_physical", "resolve_conj", "resolve_neg"]


@pytest.mark.parametrize("name", NAMES)
def test_methods_and_functions_return_the_tensor(name):
    x = gpujit.randn(2, 3, requires_grad=True)
    y = x * 2
    for got in (getattr(y, name)(), getattr(gpujit, name)(y)):
        assert got is y and got.grad_fn is y.grad_fn


def test_real_and_imag_like_pytorch():
    x = gpujit.arange(3.0)
    assert x.real is x and gpujit.real(x) is x
    for f in (lambda: x.imag, lambda: gpujit.imag(x)):
        with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                               "non-complex dtypes"):
            f()
    torch = pytest.importorskip("torch")
    t = torch.arange(3.0)
    assert t.real is t and t.conj() is t and t.resolve_conj() is t
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        t.imag


def _mixed(x, y):
    return x.conj() * y + gpujit.real(x) + x.real.sigmoid() + y.resolve_neg()


def test_scripted_identities_fuse_and_differentiate():
    f = gpujit.jit.script(_mixed)
    x = gpujit.randn(5, requires_grad=True)
    y = gpujit.randn(5)
    for _ in range(3):
        out = f(x, y)
    a, b = x.detach().numpy(), y.numpy()
    s = 1 / (1 + np.exp(-a))
    np.testing.assert_allclose(out.detach().numpy(), a * b + a + s + b, rtol=1e-5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), b + 1 + s * (1 - s), rtol=1e-5)
    g = f.graph_for(x.detach(), y)
    assert not any(n.kind in ("aten::conj", "aten::real", "aten::resolve_neg")
                   for n in g.walk())
    assert len(find_fusion_groups(g)) == 1


def test_a_trace_follows_the_input():
    traced = gpujit.jit.trace(lambda x: gpujit.conj(x) * 2, (gpujit.ones(3),))
    np.testing.assert_allclose(traced(gpujit.arange(3.0)).numpy(), [0.0, 2.0, 4.0])


def test_named_results_print_and_pickle_as_return_types():
    import pickle
    r = gpujit.max(gpujit.tensor([[1.0, 2.0], [3.0, 0.0]]), 1)
    assert type(r) is gpujit.return_types.max and r.values.tolist() == [2.0, 3.0]
    assert repr(r) == ("gpujit.return_types.max(\nvalues=tensor([2., 3.]),\n"
                       "indices=tensor([1, 0]))")
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is type(r) and back.indices.tolist() == [1, 0]
    torch = pytest.importorskip("torch")
    t = torch.max(torch.tensor([[1.0, 2.0], [3.0, 0.0]]), 1)
    assert repr(t).replace("torch.", "gpujit.", 1) == repr(r)
