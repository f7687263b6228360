"""gpujit.autograd.functional against PyTorch's (values, nesting, requires_grad, errors)."""
import numpy as np
import pytest

import gpujit as G

T = pytest.importorskip("torch")

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal(4)
V3 = rng.standard_normal(3)


def _t(m, x):
    return m.tensor(x, dtype=m.float64)


def _same(r1, r2):
    if isinstance(r1, (tuple, list)):
        assert type(r1) is type(r2) and len(r1) == len(r2)
        for x, y in zip(r1, r2):
            _same(x, y)
        return
    assert tuple(r1.shape) == tuple(r2.shape)
    assert r1.requires_grad == r2.requires_grad
    np.testing.assert_allclose(r1.detach().numpy(), r2.detach().numpy(), rtol=1e-10)


def _f1(x):
    return (x.exp() * x).sum(1)


def _f2(x, y):
    return x @ y, (x * x).sum() + y.sin().sum()


def _s(x, y):
    return (x.sin() * x).sum() * y.pow(2).sum()


CASES = {
    "jacobian": lambda m, F: F.jacobian(_f1, _t(m, A)),
    "jacobian_tuples": lambda m, F: F.jacobian(_f2, (_t(m, A), _t(m, B))),
    "jacobian_create_graph": lambda m, F: F.jacobian(_f2, (_t(m, A), _t(m, B)),
                                                     create_graph=True),
    "jacobian_vectorize": lambda m, F: F.jacobian(_f2, (_t(m, A), _t(m, B)), vectorize=True),
    "jacobian_forward": lambda m, F: F.jacobian(_f2, (_t(m, A), _t(m, B)), vectorize=True,
                                                strategy="forward-mode"),
    "jacobian_unused": lambda m, F: F.jacobian(lambda x, y: x * 2, (_t(m, B), _t(m, A))),
    "hessian": lambda m, F: F.hessian(_s, (_t(m, A), _t(m, B))),
    "hessian_single": lambda m, F: F.hessian(lambda x: (x ** 3).sum(), _t(m, B)),
    "vjp": lambda m, F: F.vjp(_f1, _t(m, A), _t(m, V3)),
    "vjp_create_graph": lambda m, F: F.vjp(_f1, _t(m, A), _t(m, V3), create_graph=True),
    "vjp_unused": lambda m, F: F.vjp(lambda x, y: (x * 2).sum(), (_t(m, B), _t(m, A))),
    "jvp": lambda m, F: F.jvp(_f1, _t(m, A), _t(m, A)),
    "jvp_tuples": lambda m, F: F.jvp(_f2, (_t(m, A), _t(m, B)), (_t(m, A), _t(m, B))),
    "hvp": lambda m, F: F.hvp(_s, (_t(m, A), _t(m, B)), (_t(m, A), _t(m, B))),
    "hvp_create_graph": lambda m, F: F.hvp(_s, (_t(m, A), _t(m, B)), (_t(m, A), _t(m, B)),
                                           create_graph=True),
    "vhp": lambda m, F: F.vhp(_s, (_t(m, A), _t(m, B)), (_t(m, A), _t(m, B))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    _same(CASES[name](G, G.autograd.functional), CASES[name](T, T.autograd.functional))


def test_hessian_forward_over_reverse():
    got = G.autograd.functional.hessian(_s, (_t(G, A), _t(G, B)), vectorize=True,
                                        outer_jacobian_strategy="forward-mode")
    want = T.autograd.functional.hessian(_s, (_t(T, A), _t(T, B)))
    fwd = T.autograd.functional.hessian(_s, (_t(T, A), _t(T, B)), vectorize=True,
                                        outer_jacobian_strategy="forward-mode")
    for gi, wi, fi in zip(got, want, fwd):
        for g, w, f in zip(gi, wi, fi):
            # (PyTorch's forward-mode Hessian keeps its inner jacobian's graph)
            assert g.requires_grad == f.requires_grad
            np.testing.assert_allclose(g.detach().numpy(), w.numpy(), rtol=1e-10)


def test_create_graph_links_to_the_callers_graph():
    x = _t(G, B).requires_grad_()
    h = G.autograd.functional.hessian(lambda z: (z ** 3).sum(), x, create_graph=True)
    g, = G.autograd.grad(h.sum(), x)
    np.testing.assert_allclose(g.numpy(), np.full(4, 6.0))


ERRORS = [
    lambda m, F: F.jacobian(lambda x: x * 2, (_t(m, B),), strict=True, vectorize=True),
    lambda m, F: F.jacobian(lambda x, y: x * 2, (_t(m, B), _t(m, A)), strict=True),
    lambda m, F: F.vjp(lambda x: x * 2, _t(m, B)),
    lambda m, F: F.vjp(lambda x: x * 2, [_t(m, B)]),
    lambda m, F: F.hessian(lambda x: x * 2, _t(m, B)),
    lambda m, F: F.hvp(lambda x: (x * 2).sum(), _t(m, B), _t(m, B), strict=True),
    lambda m, F: F.jacobian(_f1, _t(m, A), strategy="forward-mode"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    with pytest.raises(Exception) as want:
        ERRORS[i](T, T.autograd.functional)
    with pytest.raises(type(want.value), match=None) as got:
        ERRORS[i](G, G.autograd.functional)
    assert str(got.value) == str(want.value)


def test_v_size_error_names_the_sizes():
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be "
                                           r"gpujit.Size\(\[4\]\) but got "):
        G.autograd.functional.vjp(lambda x: x * 2, _t(G, B), _t(G, A))
