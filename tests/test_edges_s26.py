"""Session 26 edge hunt (a26): what PyTorch refuses or answers differently at the edges.
Expected values are written out or computed with NumPy; torch only behind importorskip."""
import numpy as np
import pytest

import gpujit
from gpujit.ops import registry as R


def _A():
    return gpujit.tensor([[1., 2, 3], [4, 5, 6.5], [7, 8.5, 9]], dtype=gpujit.float64,
                         requires_grad=True)


# ------------------------------------------------ 1. outputs that carry no gradient

def test_linalg_lu_P_is_not_differentiable():
    A = _A()
    P, L, U = gpujit.linalg.lu(A)
    assert not P.requires_grad and P.grad_fn is None
    assert L.requires_grad and U.requires_grad
    (L.sum() + U.sum()).backward()
    assert np.isfinite(A.grad.numpy()).all()


def test_lu_unpack_P_is_not_differentiable():
    A = _A()
    LU, piv = gpujit.linalg.lu_factor(A)
    P, L, U = gpujit.lu_unpack(LU, piv)
    assert not P.requires_grad and P.grad_fn is None
    assert L.requires_grad and U.requires_grad


def test_lstsq_singular_values_not_differentiable():
    A = _A()
    r = gpujit.linalg.lstsq(A, A.detach()[:, :2] * 1.0, driver="gelsd")
    assert r.solution.requires_grad
    assert not r.singular_values.requires_grad and r.singular_values.grad_fn is None


def test_nondiff_outputs_in_scripted_and_traced_code():
    @gpujit.jit.script
    def f(a):
        P, L, U = gpujit.linalg.lu(a)
        return P, L

    A = _A()
    for _ in range(3):          # (profiling runs, then the optimized graph)
        P, L = f(A)
        assert not P.requires_grad and L.requires_grad

    def g(a):
        P, L, U = gpujit.linalg.lu(a)
        return P * 2, L

    tg = gpujit.jit.trace(g, (A,))
    P, L = tg(A)
    assert not P.requires_grad and L.requires_grad


def test_native_norm_statistics_not_differentiable():
    x = gpujit.randn(2, 3, dtype=gpujit.float64, requires_grad=True)
    out, mean, rstd = gpujit.native_layer_norm(x, [3], None, None, 1e-5)
    assert out.requires_grad and not mean.requires_grad and not rstd.requires_grad
    out, m, s = gpujit.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)
    assert out.requires_grad and not m.requires_grad and not s.requires_grad


def test_nondiff_outputs_declaration():
    assert R.get("aten::linalg_lu").nondiff_outputs == frozenset({0})
    assert R.get("aten::linalg_lstsq").nondiff_outputs == frozenset({3})
    s = R.parse_schema("aten::_a26_probe(Tensor self) -> (Tensor a, Tensor b)")
    with pytest.raises(ValueError, match="no return named 'c'"):
        R._output_positions(s, ("c",))
    assert R._output_positions(s, ("b", 0)) == frozenset({0, 1})


def test_nondiff_outputs_match_torch():
    torch = pytest.importorskip("torch")
    a = [[1., 2, 3], [4, 5, 6.5], [7, 8.5, 9]]
    cases = [(lambda m, A: m.linalg.lu(A)),
             (lambda m, A: m.lu_unpack(*m.linalg.lu_factor(A))),
             (lambda m, A: m.linalg.lstsq(A, A.detach()[:, :2] * 1.0, driver="gelsd")),
             (lambda m, A: m.native_layer_norm(A, [3], None, None, 1e-5)),
             (lambda m, A: m.native_batch_norm(A, None, None, None, None, True, .1, 1e-5))]
    for f in cases:
        want = [t.requires_grad for t in f(torch, torch.tensor(a, dtype=torch.float64,
                                                                requires_grad=True))]
        got = [t.requires_grad for t in f(gpujit, gpujit.tensor(a, dtype=gpujit.float64,
                                                                 requires_grad=True))]
        assert got == want
