"""Complex dtypes, part 3 (session 46): complex gradients of the linalg ops that refused them
(linalg.eig / eigvals, lstsq, cholesky_solve / cholesky_inverse, the LU family, ...),
complex forward-mode AD, and corners. Each gradient is checked against central differences
of gpujit's own forward (NumPy, runs without torch) and against PyTorch where it is
installed."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gpujit
from test_complex_s45 import _c, _cotangent, _gpujit_grads, _inputs, _numeric_grads


def _torch():
    return pytest.importorskip("torch")


def _eig_loss(m, a):
    # (a loss that does not depend on the eigenvectors' phases)
    w, v = m.linalg.eig(a)
    return (v.abs() ** 2) * w.unsqueeze(-2) + w.unsqueeze(-1) ** 2


def _chol(m, a):
    """A Cholesky factor: lower triangular, real positive diagonal."""
    n = a.shape[-1]
    return a.tril(-1) + m.eye(n, dtype=a.dtype) * (a.diagonal(0, -2, -1).abs() + 1
                                                    ).unsqueeze(-1)


# (name, f(module, *inputs), input kinds: 'c' complex128 / 'r' float64, and shapes)
GRAD_CASES = [
    ("eigvals", lambda m, a: m.linalg.eigvals(a), [("c", 3, 3)]),
    ("eigvals_batched", lambda m, a: m.linalg.eigvals(a), [("c", 2, 3, 3)]),
    ("eigvals_of_real", lambda m, a: m.linalg.eigvals(a), [("r", 3, 3)]),
    ("eig_values", lambda m, a: m.linalg.eig(a)[0], [("c", 3, 3)]),
    ("eig_vectors_abs", lambda m, a: m.linalg.eig(a)[1].abs(), [("c", 3, 3)]),
    ("eig_both", _eig_loss, [("c", 2, 3, 3)]),
    ("eig_both_of_real", _eig_loss, [("r", 4, 4)]),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, [("c", 4, 3), ("c", 4, 2)]),
    ("lstsq_vector", lambda m, a, b: m.linalg.lstsq(a, b).solution, [("c", 3, 3), ("c", 3)]),
    ("lstsq_residuals", lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd").residuals,
     [("c", 4, 2), ("c", 4, 2)]),
    ("lstsq_wide", lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd").solution,
     [("c", 2, 3), ("c", 2, 2)]),
    ("cholesky_solve", lambda m, b, a: m.cholesky_solve(b, _chol(m, a)),
     [("c", 3, 2), ("c", 3, 3)]),
    ("cholesky_solve_upper", lambda m, b, a: m.cholesky_solve(b, _chol(m, a).mH, upper=True),
     [("c", 2, 3, 2), ("c", 3, 3)]),
    ("cholesky_inverse", lambda m, a: m.cholesky_inverse(_chol(m, a)), [("c", 3, 3)]),
    ("cholesky_inverse_upper", lambda m, a: m.cholesky_inverse(_chol(m, a).mH, upper=True),
     [("c", 3, 3)]),
    ("lu_factor", lambda m, a: m.linalg.lu_factor(a).LU, [("c", 2, 3, 3)]),
    ("lu_factor_ex", lambda m, a: m.linalg.lu_factor_ex(a).LU, [("c", 3, 3)]),
    ("lu_square", lambda m, a: (lambda p, l, u: l * 2 + u)(*m.linalg.lu(a)), [("c", 3, 3)]),
    ("lu_wide_U", lambda m, a: m.linalg.lu(a).U, [("c", 2, 4)]),
    ("lu_wide_L", lambda m, a: m.linalg.lu(a).L, [("c", 3, 5)]),
    ("lu_tall", lambda m, a: (lambda p, l, u: l.sum(-1) + u.sum())(*m.linalg.lu(a)),
     [("c", 4, 2)]),
    ("lu_unpack", lambda m, a: (lambda p, l, u: l @ u)(*m.lu_unpack(*m.linalg.lu_factor(a))),
     [("c", 3, 3)]),
    ("lu_of_real", lambda m, a: m.linalg.lu(a).U * (1 + 2j), [("r", 3, 3)]),
    ("torch_lu", lambda m, a: m.lu(a)[0], [("c", 3, 3)]),
    ("linalg_vander", lambda m, a: m.linalg.vander(a), [("c", 2, 3)]),
    ("linalg_vander_N", lambda m, a: m.linalg.vander(a, N=5), [("c", 3)]),
    ("linalg_vander_of_real", lambda m, a: m.linalg.vander(a) * 1j, [("r", 3)]),
    ("slogdet_legacy", lambda m, a: (lambda s, l: s * l)(*m.slogdet(a)), [("c", 3, 3)]),
    ("copy_into_complex", lambda m, a, b: (a * 1).copy_(b), [("c", 3), ("c", 3)]),
    ("copy_real_into_complex", lambda m, a, b: (a * 1).copy_(b), [("c", 2, 3), ("r", 3)]),
    ("fill_", lambda m, a: (a * 2).fill_(1j) + a, [("c", 3)]),
    ("fill_tensor", lambda m, a, b: (a * 2).fill_(b.sum()) * a, [("c", 3), ("c", 2)]),
    ("zero_", lambda m, a: (a * 2).zero_() + a.exp(), [("c", 3)]),
    ("index_put_into_slice", lambda m, a, b: (lambda y: (y.__setitem__(slice(1, 3), b), y)[1])(
        a * 1j), [("c", 4), ("c", 2)]),
    ("scatter_src", lambda m, a, b: a.scatter(0, m.tensor([2, 0]), b), [("c", 3), ("c", 2)]),
    ("scatter_value", lambda m, a: a.scatter(0, m.tensor([2, 0]), 1.5), [("c", 3)]),
    ("scatter_add", lambda m, a, b: a.scatter_add(0, m.tensor([2, 2]), b),
     [("c", 3), ("c", 2)]),
    ("masked_scatter", lambda m, a, b: a.masked_scatter(m.tensor([True, False, True]), b),
     [("c", 3), ("c", 4)]),
    ("put", lambda m, a, b: a.put(m.tensor([4, 0]), b, accumulate=True),
     [("c", 2, 3), ("c", 2)]),
    ("as_strided", lambda m, a: a.as_strided((2, 2), (1, 2), 1), [("c", 6)]),
    ("householder_product", lambda m, a, t: m.linalg.householder_product(a, t),
     [("c", 4, 3), ("c", 3)]),
    ("householder_product_batched_k", lambda m, a, t: m.linalg.householder_product(a, t),
     [("c", 2, 4, 3), ("c", 2, 2)]),
    ("orgqr", lambda m, a, t: m.orgqr(a, t), [("c", 3, 3), ("c", 2)]),
    ("ormqr_transpose", lambda m, a, t, c: m.ormqr(a, t, c, transpose=True),
     [("c", 4, 3), ("c", 3), ("c", 4, 2)]),
] + [
    (f"lu_solve_{'left' if left else 'right'}{'_adjoint' if adjoint else ''}",
     lambda m, a, b, left=left, adjoint=adjoint: m.linalg.lu_solve(
         *m.linalg.lu_factor(a), b if left else b.mT, left=left, adjoint=adjoint),
     [("c", 3, 3), ("c", 2, 3, 2)])
    for left in (True, False) for adjoint in (False, True)
] + [
    ("torch_lu_solve", lambda m, a, b: m.lu_solve(b, *m.linalg.lu_factor(a)),
     [("c", 3, 3), ("c", 3, 2)]),
]


@pytest.mark.parametrize("name,f,kinds", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_complex_gradients_match_central_differences(name, f, kinds):
    warnings.filterwarnings("ignore", "torch.lu", UserWarning)   # (torch.lu's deprecation)
    arrays = _inputs(kinds, 7)
    with gpujit.no_grad():
        y = np.asarray(f(gpujit, *[gpujit.tensor(a) for a in arrays]).numpy())
    cot = _cotangent(y, 7)
    _, got = _gpujit_grads(f, arrays, cot)
    want = _numeric_grads(f, arrays, cot)
    for a, g, w in zip(arrays, got, want):
        assert g.dtype == a.dtype               # (a real input's gradient is real)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,f,kinds", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_complex_gradients_match_torch(name, f, kinds):
    torch = _torch()
    warnings.filterwarnings("ignore", "torch.lu", UserWarning)
    arrays = _inputs(kinds, 11)
    tin = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = f(torch, *tin)
    cot = _cotangent(tout.detach().resolve_conj().numpy(), 11)
    want = torch.autograd.grad(tout, tin, torch.tensor(cot))
    out, got = _gpujit_grads(f, arrays, cot)
    for w, g in zip(want, got):
        w = w.resolve_conj().numpy()
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
    # (gpujit's ormqr is a composite of registry ops, of real matrices too: its last node)
    assert type(out.grad_fn).__name__ == type(tout.grad_fn).__name__ or name.startswith("ormqr")


def test_eig_gradient_refuses_a_phase_dependent_loss():
    a = gpujit.tensor(_c(np.random.default_rng(3), 3, 3), requires_grad=True)
    w, v = gpujit.linalg.eig(a)
    with pytest.raises(RuntimeError, match="^linalg_eig_backward: The eigenvectors in the "
                                           "complex case are specified up to multiplication "
                                           "by e\\^\\{i phi\\}. The specified loss function "
                                           "depends on this quantity, so it is ill-defined.$"):
        gpujit.autograd.grad(v.sum().real, a)
    # (the eigenvalues alone, or |V|, are fine: no phase)
    assert gpujit.autograd.grad(v.abs().sum() + w.real.sum(), a)[0].dtype is gpujit.complex128


def test_eig_gradcheck_and_eigvals_node():
    rng = np.random.default_rng(5)
    a = gpujit.tensor(_c(rng, 3, 3), requires_grad=True)
    assert gpujit.autograd.gradcheck(lambda x: gpujit.linalg.eigvals(x), (a,))
    assert gpujit.autograd.gradcheck(lambda x: _eig_loss(gpujit, x), (a,))
    r = gpujit.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    assert gpujit.autograd.gradcheck(lambda x: gpujit.linalg.eigvals(x), (r,))
    assert type(gpujit.linalg.eigvals(a).grad_fn).__name__ == "LinalgEigBackward0"
    # (a write into A after eigvals is no error: the eigenvectors are kept, not A)
    b = a * 1
    w = gpujit.linalg.eigvals(b)
    b.mul_(2)
    w.abs().sum().backward()
    assert a.grad is not None


def test_lstsq_cholesky_gradcheck():
    rng = np.random.default_rng(6)
    a = gpujit.tensor(_c(rng, 4, 3), requires_grad=True)
    b = gpujit.tensor(_c(rng, 4, 2), requires_grad=True)
    gc = gpujit.autograd.gradcheck
    assert gc(lambda x, y: gpujit.linalg.lstsq(x, y).solution, (a, b))
    L = gpujit.tensor(_c(rng, 3, 3), requires_grad=True)
    assert gc(lambda x, y: gpujit.cholesky_solve(x, _chol(gpujit, y)), (b[:3].detach()
                                                                          .requires_grad_(), L))
    assert gc(lambda y: gpujit.cholesky_inverse(_chol(gpujit, y).mH, upper=True), (L,))


def test_complex_lu_pivots_as_lapack():
    # getrf's pivot is i?amax's: of complex numbers the largest |Re| + |Im| (cabs1), not |z|
    # (|3| > |2 + 1.5j| but 3 < 3.5)
    a = np.array([[3, 1], [2 + 1.5j, 1j]])
    LU, piv = gpujit.linalg.lu_factor(gpujit.tensor(a))
    assert piv.tolist() == [2, 2]
    l = 3 / (2 + 1.5j)
    np.testing.assert_allclose(LU.numpy(), [[2 + 1.5j, 1j], [l, 1 - l * 1j]], rtol=1e-15)
    rng = np.random.default_rng(1)
    for shape in ((2, 4, 4), (3, 5), (5, 3)):
        A = _c(rng, *shape)
        P, L, U = (x.numpy() for x in gpujit.linalg.lu(gpujit.tensor(A)))
        np.testing.assert_allclose(P @ L @ U, A, atol=1e-14)
        A32 = gpujit.tensor(A.astype(np.complex64))
        r = gpujit.linalg.lu_factor_ex(A32)
        assert r.LU.dtype is gpujit.complex64 and r.info.dtype is gpujit.int32
    A = _c(rng, 2, 4, 4)
    B = _c(rng, 2, 4, 3)
    LU, piv = gpujit.linalg.lu_factor(gpujit.tensor(A))
    for left in (True, False):
        for adjoint in (False, True):
            Bx = B if left else np.swapaxes(B, -1, -2)
            X = gpujit.linalg.lu_solve(LU, piv, gpujit.tensor(Bx), left=left,
                                       adjoint=adjoint).numpy()
            opA = np.conj(np.swapaxes(A, -1, -2)) if adjoint else A
            np.testing.assert_allclose(opA @ X if left else X @ opA, Bx, atol=1e-13)
    torch = pytest.importorskip("torch")
    for left in (True, False):
        for adjoint in (False, True):
            Bx = B if left else np.swapaxes(B, -1, -2)
            t = torch.linalg.lu_solve(*torch.linalg.lu_factor(torch.tensor(A)),
                                      torch.tensor(Bx), left=left, adjoint=adjoint)
            g = gpujit.linalg.lu_solve(LU, piv, gpujit.tensor(Bx), left=left, adjoint=adjoint)
            np.testing.assert_allclose(g.numpy(), t.resolve_conj().numpy(), atol=1e-13)
    for shape in ((2, 4, 4), (3, 5), (5, 3)):
        A = _c(rng, *shape)
        t = torch.linalg.lu_factor_ex(torch.tensor(A))
        g = gpujit.linalg.lu_factor_ex(gpujit.tensor(A))
        np.testing.assert_allclose(g.LU.numpy(), t.LU.numpy(), atol=1e-14)
        assert g.pivots.tolist() == t.pivots.tolist() and g.info.tolist() == t.info.tolist()


def test_vander_of_complex_as_torch():
    rng = np.random.default_rng(2)
    x = _c(rng, 6)
    cases = [(lambda m, t: m.linalg.vander(t), np.arange(6)),
             (lambda m, t: m.vander(t), np.arange(6)[::-1]),
             (lambda m, t: m.vander(t, 4, increasing=True), np.arange(4))]
    for f, powers in cases:
        for dt in (np.complex64, np.complex128):
            got = f(gpujit, gpujit.tensor(x.astype(dt))).numpy()
            assert got.dtype == dt
            np.testing.assert_allclose(got, x.astype(dt)[:, None] ** powers,
                                       rtol=1e-5 if dt == np.complex64 else 1e-12)
    # torch.vander's backward fails in torch itself (its cumprod saves a result it then
    # overwrites); gpujit raises the same
    z = gpujit.tensor(x[:3], requires_grad=True)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                           "computation has been modified by an inplace "
                                           "operation: \\[gpujit.ComplexDoubleTensor \\[3, 2\\]\\]"):
        gpujit.vander(z).abs().sum().backward()
    torch = pytest.importorskip("torch")
    for dt in (np.float32, np.complex64):
        a = (x.real * 1.7).astype(dt) if dt == np.float32 else (x * 1.7).astype(dt)
        for name in ("linalg.vander", "vander"):
            tf = eval("torch." + name)
            gf = eval("gpujit." + name)
            # (cumprod's kernel: float32 accumulated in float64, complex64 in complex128)
            np.testing.assert_array_equal(gf(gpujit.tensor(a)).numpy(), tf(torch.tensor(a)).numpy())


def test_complex_householder_as_lapack():
    rng = np.random.default_rng(4)
    A = _c(rng, 2, 5, 3)
    C = _c(rng, 2, 5, 2)
    a, tau = gpujit.geqrf(gpujit.tensor(A))
    Q = gpujit.linalg.householder_product(a, tau).numpy()
    R = np.triu(a.numpy()[..., :3, :])
    np.testing.assert_allclose(Q @ R, A, atol=1e-13)                 # A = Q R
    np.testing.assert_allclose(np.conj(np.swapaxes(Q, -1, -2)) @ Q, np.broadcast_to(
        np.eye(3), (2, 3, 3)), atol=1e-13)
    # ormqr: the full Q (5 x 5) or its conjugate transpose times C
    Qf = gpujit.ormqr(a, tau, gpujit.eye(5, dtype=gpujit.complex128).expand(2, 5, 5)).numpy()
    np.testing.assert_allclose(Qf[..., :3], Q, atol=1e-13)
    np.testing.assert_allclose(gpujit.ormqr(a, tau, gpujit.tensor(C), transpose=True).numpy(),
                               np.conj(np.swapaxes(Qf, -1, -2)) @ C, atol=1e-13)
    # (PyTorch's own refusal: geqrf has no complex gradient, in its words)
    with pytest.raises(RuntimeError, match="^geqrf does not support automatic differentiation "
                                           "for outputs with complex dtype.$"):
        gpujit.geqrf(gpujit.tensor(A, requires_grad=True))
    torch = pytest.importorskip("torch")
    ta, ttau = torch.geqrf(torch.tensor(A))
    np.testing.assert_allclose(a.numpy(), ta.numpy(), atol=1e-13)
    np.testing.assert_allclose(tau.numpy(), ttau.numpy(), atol=1e-13)
    np.testing.assert_allclose(Q, torch.linalg.householder_product(ta, ttau).numpy(), atol=1e-13)
    for kw in ({}, {"transpose": True}):
        np.testing.assert_allclose(gpujit.ormqr(a, tau, gpujit.tensor(C), **kw).numpy(),
                                   torch.ormqr(ta, ttau, torch.tensor(C), **kw).numpy(),
                                   atol=1e-13)


# ---------------------------------------------------------------- forward-mode AD

def _fwd_cases():
    import test_complex_s45 as s45
    return s45.GRAD_CASES + GRAD_CASES


# (where torch's forward AD differs: its pow jvp takes a real base's contribution real
# (handle_r_to_c of the backward formula it reuses), its cholesky_inverse jvp disagrees
# with central differences for real matrices too, its ormqr has none)
_TORCH_JVP_DIFFERS = {"pow_real_base", "cholesky_inverse", "cholesky_inverse_upper",
                      "ormqr_transpose"}


def _jvp_inputs(kinds, seed):
    arrays = _inputs(kinds, seed)
    return arrays, [_cotangent(a, seed + 5 + i) for i, a in enumerate(arrays)]


@pytest.mark.parametrize("name,f,kinds", _fwd_cases(), ids=[c[0] for c in _fwd_cases()])
def test_complex_jvp_matches_central_differences(name, f, kinds):
    warnings.filterwarnings("ignore", "torch.lu", UserWarning)
    arrays, tangents = _jvp_inputs(kinds, 3)
    _, got = gpujit.func.jvp(lambda *a: f(gpujit, *a), tuple(gpujit.tensor(a) for a in arrays),
                             tuple(gpujit.tensor(t) for t in tangents))
    eps = 1e-6

    def at(s):
        with gpujit.no_grad():
            return np.asarray(f(gpujit, *[gpujit.tensor(a + s * t) for a, t in
                                          zip(arrays, tangents)]).numpy())
    want = (at(eps) - at(-eps)) / (2 * eps)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,f,kinds", _fwd_cases(), ids=[c[0] for c in _fwd_cases()])
def test_complex_jvp_matches_torch(name, f, kinds):
    torch = _torch()
    if name in _TORCH_JVP_DIFFERS:
        pytest.skip("torch's forward AD differs here (see _TORCH_JVP_DIFFERS)")
    warnings.filterwarnings("ignore", "torch.lu", UserWarning)
    arrays, tangents = _jvp_inputs(kinds, 4)
    _, want = torch.func.jvp(lambda *a: f(torch, *a), tuple(torch.tensor(a) for a in arrays),
                             tuple(torch.tensor(t) for t in tangents))
    _, got = gpujit.func.jvp(lambda *a: f(gpujit, *a), tuple(gpujit.tensor(a) for a in arrays),
                             tuple(gpujit.tensor(t) for t in tangents))
    want = want.resolve_conj().numpy()
    assert got.numpy().dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-8, atol=1e-10)


def test_complex_dual_numbers():
    import gpujit.autograd.forward_ad as fwAD
    rng = np.random.default_rng(12)
    x, t = _c(rng, 3), _c(rng, 3)
    with fwAD.dual_level():
        d = fwAD.make_dual(gpujit.tensor(x), gpujit.tensor(t))
        y = (d * d.conj()).exp() + d.sin()
        p, tan = fwAD.unpack_dual(y)
        assert p.dtype is gpujit.complex128 and tan.dtype is gpujit.complex128
        np.testing.assert_allclose(p.numpy(), np.exp(x * x.conj()) + np.sin(x), rtol=1e-13)
        # d/ds of exp(|x + s t|^2) + sin(x + s t) at s = 0
        want = np.exp(abs(x) ** 2) * 2 * (x.conj() * t).real + np.cos(x) * t
        np.testing.assert_allclose(tan.numpy(), want, rtol=1e-12)
        assert fwAD.unpack_dual(p).tangent is None


def test_bool_and_integer_results_of_complex_tensors_requiring_grad():
    # (they refused as 'not conjugate-aware': there is no gradient to get wrong)
    z = gpujit.tensor([[1 + 1j, float("nan")], [0, 2j]], requires_grad=True)
    assert gpujit.isnan(z).tolist() == [[False, True], [False, False]]
    assert gpujit.isfinite(z).tolist() == [[True, False], [True, True]]
    assert not gpujit.isinf(z).any()
    assert gpujit.nonzero(z).tolist() == [[0, 0], [0, 1], [1, 1]]
    assert gpujit.argwhere(z).shape == (3, 2)
    r = gpujit.linalg.matrix_rank(gpujit.tensor([[1, 1j], [1j, -1]], requires_grad=True))
    assert r.item() == 1 and not r.requires_grad


def test_tanh_sigmoid_double_backward_of_complex():
    rng = np.random.default_rng(13)
    z = gpujit.tensor(_c(rng, 3) * 0.5, requires_grad=True)
    assert gpujit.autograd.gradgradcheck(lambda a: a.tanh(), (z,))
    assert gpujit.autograd.gradgradcheck(lambda a: a.sigmoid(), (z,))
    go = gpujit.tensor(_c(rng, 3), requires_grad=True)
    assert gpujit.autograd.gradcheck(lambda g, y: gpujit.ops.aten.tanh_backward(g, y), (go, z))
    assert gpujit.autograd.gradcheck(lambda g, y: gpujit.ops.aten.sigmoid_backward(g, y),
                                     (go, z))


# ---------------------------------------------------------------- corners

def _naive_product(a, b):
    """(ac - bd) + (ad + bc) i, each product rounded once (no FMA)."""
    out = np.empty(np.broadcast(a, b).shape, np.result_type(a, b))
    a, b = np.asarray(a, out.dtype), np.asarray(b, out.dtype)
    out.real = a.real * b.real - a.imag * b.imag
    out.imag = a.real * b.imag + a.imag * b.real
    return out


def test_complex_multiply_as_aten():
    rng = np.random.default_rng(21)
    for dt in (np.complex64, np.complex128):
        a = _c(rng, 1024).astype(dt)
        b = _c(rng, 1024).astype(dt)
        r = rng.standard_normal(1024).astype(np.float32)
        for x, y in ((a, b), (a, r), (r, a), (a.reshape(32, 32), b[:32]), (a, b[:1])):
            got = (gpujit.tensor(x) * gpujit.tensor(y)).numpy()
            np.testing.assert_array_equal(got, _naive_product(x, y))
        got = gpujit.tensor(a).mul(1 + 2j).numpy()
        np.testing.assert_array_equal(got, _naive_product(a, np.asarray(1 + 2j, dt)))
    # an infinite part meets the other factor's zero, as ATen's product
    z = np.array([complex(np.inf, 0), complex(0, np.inf), 1 + 1j])
    got = (gpujit.tensor(z) * (1 + 1j)).numpy()
    _same = np.testing.assert_array_equal
    _same(got.real, [np.inf, -np.inf, 0])
    _same(got.imag, [np.inf, np.inf, 2])
    got = (gpujit.tensor(z) * 2.5).numpy()          # (2.5 is 2.5 + 0j)
    assert np.isnan(got.real[1]) and got.imag[1] == np.inf and np.isnan(got.imag[0])
    torch = pytest.importorskip("torch")
    for dt in (np.complex64, np.complex128):
        n = 1024        # (a multiple of ATen's vector loop: its scalar tail may use FMAs)
        a = _c(rng, n).astype(dt)
        b = _c(rng, n).astype(dt)
        for x, y in ((a, b), (a, b.real.copy()), (a, b[:1])):
            np.testing.assert_array_equal((gpujit.tensor(x) * gpujit.tensor(y)).numpy(),
                                          (torch.tensor(x) * torch.tensor(y)).numpy())
        for s in (2.5, 1 + 2j, 3):
            np.testing.assert_array_equal((gpujit.tensor(a) * s).numpy(),
                                          (torch.tensor(a) * s).numpy())
    np.testing.assert_array_equal((gpujit.tensor(z) * (1 + 1j)).numpy(),
                                  (torch.tensor(z) * (1 + 1j)).numpy())


def _two_equal_complex_literals(z):
    return z.sin() + 1j - 1j


def test_scripted_complex_constants_pooled_and_hoisted():
    # (complex constants had no pooling key: each literal stayed a constant of its own,
    # where it was written; TorchScript's ConstantPooling keeps one, at the top)
    g = gpujit.jit.script(_two_equal_complex_literals).graph
    consts = [n for n in g.nodes() if n.kind() == "prim::Constant"]
    assert [str(n.output().type()) for n in consts].count("complex") == 1
    nodes = list(g.nodes())
    assert all(n.kind() == "prim::Constant" for n in nodes[:len(consts)])
    z = gpujit.tensor([1 + 1j, -2j])
    np.testing.assert_array_equal(gpujit.jit.script(_two_equal_complex_literals)(z).numpy(),
                                  _two_equal_complex_literals(z).numpy())


def _conjugates(z):
    return z.conj() * 2 + gpujit.conj(z)


def test_traced_conj_of_complex_records_aten_conj_underscore():
    # (Tensor.conj of a complex tensor is ATen's _conj, which torch.jit.trace records;
    # scripted code keeps aten::conj; a real tensor's conj is itself, recorded nothing)
    z = gpujit.tensor([1 + 2j, 3j])
    t = gpujit.jit.trace(_conjugates, z)
    kinds = [n.kind() for n in t.graph.nodes()]
    assert kinds.count("aten::_conj") == 2 and "aten::conj" not in kinds
    assert "torch._conj(z)" in t.code
    np.testing.assert_array_equal(t(z).numpy(), 3 * np.conj(z.numpy()))
    assert [n.kind() for n in gpujit.jit.script(_conjugates).graph.nodes()].count(
        "aten::conj") == 2
    r = gpujit.tensor([1.0, 2.0])
    assert "conj" not in str(gpujit.jit.trace(_conjugates, r).graph)
    w = gpujit.tensor([1 + 2j, 3j], requires_grad=True)
    assert type(w.conj().grad_fn).__name__ == "ConjBackward0"
    torch = pytest.importorskip("torch")
    tt = torch.jit.trace(lambda a: a.conj() * 2 + torch.conj(a), torch.tensor([1 + 2j, 3j]))
    assert [n.kind() for n in tt.graph.nodes()].count("aten::_conj") == 2


# ---------------------------------------------------------------- complex layers training

def _layers(m, seed):
    rng = np.random.default_rng(seed)

    class FFTConv(m.nn.Module):
        """A circular-free convolution by FFT with a complex kernel kept as real pairs."""
        def __init__(self, n):
            super().__init__()
            self.k = m.nn.Parameter(m.tensor(rng.standard_normal((n, 2)) * 0.1))

        def forward(self, x):
            X = m.fft.rfft(x, n=2 * x.shape[-1])
            K = m.fft.fft(m.view_as_complex(self.k), n=X.shape[-1])
            return m.fft.irfft(X * K, n=2 * x.shape[-1])[..., :x.shape[-1]]

    class ComplexRNN(m.nn.Module):
        def __init__(self, h):
            super().__init__()
            self.w = m.nn.Parameter(m.tensor(rng.standard_normal((h, h, 2)) * 0.3))
            self.u = m.nn.Parameter(m.tensor(rng.standard_normal((1, h, 2)) * 0.3))

        def forward(self, x):
            W, U = m.view_as_complex(self.w), m.view_as_complex(self.u)
            hdn = m.zeros(x.shape[0], W.shape[0], dtype=m.complex128)
            for t in range(x.shape[1]):
                hdn = m.tanh(hdn @ W + x[:, t:t + 1].to(m.complex128) @ U)
            return m.view_as_real(hdn).pow(2).sum(-1).mean(-1)

    x = m.tensor(rng.standard_normal((4, 16)))
    y = m.tensor(rng.standard_normal((4, 16)))
    xs = m.tensor(rng.standard_normal((5, 6)))
    return (FFTConv(16), lambda net: ((net(x) - y) ** 2).mean()), \
        (ComplexRNN(3), lambda net: (net(xs) - 0.5).pow(2).mean())


def _train(m, seed, steps=5):
    losses = []
    (conv, conv_loss), (rnn, rnn_loss) = _layers(m, seed)
    for net, loss_of, opt in ((conv, conv_loss, m.optim.Adam(conv.parameters(), lr=0.05)),
                              (rnn, rnn_loss, m.optim.SGD(rnn.parameters(), lr=0.1,
                                                          momentum=0.9))):
        for _ in range(steps):
            opt.zero_grad()
            loss = loss_of(net)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def test_complex_layers_gradients_match_central_differences():
    for net, loss_of in _layers(gpujit, 31):
        for p in net.parameters():
            net.zero_grad()
            loss_of(net).backward()
            g = p.grad.numpy().copy()
            num = np.zeros_like(g)
            with gpujit.no_grad():
                for idx in np.ndindex(g.shape):
                    old = float(p[idx])
                    p[idx] = old + 1e-6
                    hi = loss_of(net).item()
                    p[idx] = old - 1e-6
                    lo = loss_of(net).item()
                    p[idx] = old
                    num[idx] = (hi - lo) / 2e-6
            np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)


def test_complex_layers_train_as_torch():
    torch = _torch()
    got = _train(gpujit, 32)
    want = _train(torch, 32)
    assert got[0] > got[4] and got[5] > got[9]         # (both learn)
    np.testing.assert_allclose(got, want, rtol=1e-11)


# ---------------------------------------------------------------- complex LDL

def test_complex_ldl_factor_and_solve():
    rng = np.random.default_rng(41)
    cases = []
    for trial in range(12):
        A = _c(rng, 5, 5)
        if trial % 2:
            np.fill_diagonal(A, A.diagonal() * 0.05)      # (2 x 2 pivots)
        for herm in (False, True):
            cases.append((A + (A.conj().T if herm else A.T), herm))
    twos = 0
    for M, herm in cases:
        B = _c(rng, 5, 2)
        LD, piv, info = gpujit.linalg.ldl_factor_ex(gpujit.tensor(M), hermitian=herm)
        assert LD.dtype is gpujit.complex128 and info.item() == 0
        twos += int((piv.numpy() < 0).any())
        X = gpujit.linalg.ldl_solve(LD, piv, gpujit.tensor(B), hermitian=herm).numpy()
        np.testing.assert_allclose(M @ X, B, atol=1e-10)
        assert not np.triu(LD.numpy(), 1).any()
        if herm:        # (D's 1 x 1 blocks are real)
            d = LD.numpy().diagonal()[piv.numpy() > 0]
            assert not d.imag.any()
    assert twos >= 4
    LD32 = gpujit.linalg.ldl_factor(gpujit.tensor(cases[0][0].astype(np.complex64))).LD
    assert LD32.dtype is gpujit.complex64
    # (their backward is PyTorch's not-implemented error, as for real matrices)
    z = gpujit.tensor(cases[0][0], requires_grad=True)
    with pytest.raises(RuntimeError, match="^derivative for aten::linalg_ldl_factor_ex is not "
                                           "implemented$"):
        gpujit.linalg.ldl_factor(z).LD.abs().sum().backward()
    torch = pytest.importorskip("torch")
    for M, herm in cases:
        t = torch.linalg.ldl_factor_ex(torch.tensor(M), hermitian=herm)
        g = gpujit.linalg.ldl_factor_ex(gpujit.tensor(M), hermitian=herm)
        assert g.pivots.tolist() == t.pivots.tolist()
        np.testing.assert_allclose(g.LD.numpy(), t.LD.numpy(), atol=1e-12)
        B = _c(rng, 2, 5, 3)
        np.testing.assert_allclose(
            gpujit.linalg.ldl_solve(g.LD, g.pivots, gpujit.tensor(B), hermitian=herm).numpy(),
            torch.linalg.ldl_solve(t.LD, t.pivots, torch.tensor(B), hermitian=herm).numpy(),
            atol=1e-10)


def _exact_fma(x, y, z):
    """x * y + z rounded once (float64), by exact rational arithmetic."""
    from fractions import Fraction
    return float(Fraction(x) * Fraction(y) + Fraction(z))


def _c10_division(a, b):
    """c10::complex<double>'s division (Smith's) with GCC's FMA contractions, by hand."""
    ar, ai, c, d = a.real, a.imag, b.real, b.imag
    if abs(c) >= abs(d):
        rat = d / c
        scl = 1 / _exact_fma(d, rat, c)
        return complex(_exact_fma(ai, rat, ar) * scl, _exact_fma(-ar, rat, ai) * scl)
    rat = c / d
    scl = 1 / _exact_fma(c, rat, d)
    return complex(_exact_fma(ar, rat, ai) * scl, _exact_fma(ai, rat, -ar) * scl)


def test_complex_division_and_reciprocal_as_aten():
    rng = np.random.default_rng(22)
    a, b = _c(rng, 200), _c(rng, 200)
    got = (gpujit.tensor(a) / gpujit.tensor(b)).numpy()
    np.testing.assert_array_equal(got, [_c10_division(x, y) for x, y in zip(a, b)])
    got = gpujit.tensor(b).reciprocal().numpy()
    np.testing.assert_array_equal(got, [_c10_division(1 + 0j, y) for y in b])
    assert (1 / gpujit.tensor([4 + 0j], dtype=gpujit.complex128)).numpy()[0].imag == 0.0
    # 0 / 0 divides each part by zero
    q = (gpujit.tensor([1 + 0j, 0j]) / gpujit.tensor([0j, 0j])).numpy()
    assert q[0].real == np.inf and np.isnan(q[0].imag) and np.isnan(q[1]).all()
    torch = pytest.importorskip("torch")
    for dt in (np.complex64, np.complex128):
        n = 1024        # (a multiple of ATen's vector loop: its scalar tail differs)
        x, y = _c(rng, n).astype(dt), _c(rng, n).astype(dt)
        r = rng.standard_normal(n).astype(np.float32)
        for p, q in ((x, y), (x, r), (r, y), (x.reshape(32, 32), y[:32])):
            np.testing.assert_array_equal((gpujit.tensor(p) / gpujit.tensor(q)).numpy(),
                                          (torch.tensor(p) / torch.tensor(q)).numpy())
        for s in (2.5, 1 + 2j):
            np.testing.assert_array_equal((gpujit.tensor(x) / s).numpy(),
                                          (torch.tensor(x) / s).numpy())
            np.testing.assert_array_equal((s / gpujit.tensor(x)).numpy(),
                                          (s / torch.tensor(x)).numpy())
        np.testing.assert_array_equal(gpujit.tensor(x).reciprocal().numpy(),
                                      torch.tensor(x).reciprocal().numpy())
    z = np.array([np.inf + 0j, complex(0, np.inf), complex(np.nan, 1), 1 + 1j, 0j])
    w = np.array([0j, 1 + 1j, 2 + 0j, complex(np.inf, 1), 0j])
    np.testing.assert_array_equal((gpujit.tensor(z) / gpujit.tensor(w)).numpy(),
                                  (torch.tensor(z) / torch.tensor(w)).numpy())


def test_complex_abs_square_pow_rsqrt_sigmoid_as_aten():
    rng = np.random.default_rng(23)
    z = _c(rng, 512)
    t = gpujit.tensor(z)
    # |z| is hypot(re, im), as std::abs; sgn z / |z| part-wise; square and ** 2 are z * z
    np.testing.assert_array_equal(t.abs().numpy(), np.hypot(z.real, z.imag))
    a = np.hypot(z.real, z.imag)
    np.testing.assert_array_equal(t.sgn().numpy(), z.real / a + 1j * (z.imag / a))
    np.testing.assert_array_equal(t.square().numpy(), _naive_product(z, z))
    np.testing.assert_array_equal((t ** 2).numpy(), _naive_product(z, z))
    np.testing.assert_array_equal((t ** -1).numpy(), [_c10_division(1 + 0j, x) for x in z])
    np.testing.assert_array_equal(t.rsqrt().numpy(),
                                  [_c10_division(1 + 0j, x) for x in np.sqrt(z)])
    # (vector_norm's moduli are abs's: its inf norm's backward finds the maximum again)
    v = gpujit.tensor(z[:6], requires_grad=True)
    n = gpujit.linalg.vector_norm(v, float("inf"))
    (g,) = gpujit.autograd.grad(n, v, create_graph=True)
    assert np.isfinite(g.detach().numpy()).all() and n.item() == a[:6].max()
    torch = pytest.importorskip("torch")
    for dt in (np.complex64, np.complex128):
        x = _c(rng, 1024).astype(dt)
        moduli = (lambda m, u: u.abs(), lambda m, u: u.sgn(),
                  lambda m, u: m.linalg.vector_norm(u, float("inf")))
        for f in moduli + (
                lambda m, u: u.square(), lambda m, u: u ** 2, lambda m, u: u ** 3,
                lambda m, u: u ** -2, lambda m, u: u ** -0.5, lambda m, u: u.rsqrt(),
                lambda m, u: u.sigmoid()):
            got = f(gpujit, gpujit.tensor(x)).numpy()
            want = f(torch, torch.tensor(x)).numpy()
            if dt == np.complex128 and f in moduli:
                # (hypot: libm's here, SLEEF's 0.5-ulp one in ATen's vector loop)
                np.testing.assert_allclose(got, want, rtol=5e-16)
            else:
                np.testing.assert_array_equal(got, want)


def test_complex_log2_log10_as_aten():
    # (log(z) / log(base) part by part, as ATen's Vectorized<complex>::log2 / log10)
    rng = np.random.default_rng(24)
    z = _c(rng, 256)
    for name, base in (("log2", 2), ("log10", 10)):
        lz = np.log(z)
        want = lz.real / np.log(base) + 1j * (lz.imag / np.log(base))
        np.testing.assert_array_equal(getattr(gpujit, name)(gpujit.tensor(z)).numpy(), want)
    torch = pytest.importorskip("torch")
    for dt in (np.complex64, np.complex128):
        x = _c(rng, 1024).astype(dt)
        for name in ("log2", "log10"):
            np.testing.assert_array_equal(getattr(gpujit, name)(gpujit.tensor(x)).numpy(),
                                          getattr(torch, name)(torch.tensor(x)).numpy())


def test_stft_ends_as_aten_nodes_and_strides():
    # ATen's stft ends in place: transpose_ (TransposeBackward1), squeeze_ of a 1-D input
    # (SqueezeBackward4), view_as_real for return_complex=False (ViewAsRealBackward0)
    rng = np.random.default_rng(25)
    w = gpujit.hann_window(16, dtype=gpujit.float64)
    x = gpujit.tensor(rng.standard_normal(200), requires_grad=True)
    xb = gpujit.tensor(rng.standard_normal((2, 200)), requires_grad=True)
    s = gpujit.stft(x, 16, 4, window=w, return_complex=True)
    assert type(s.grad_fn).__name__ == "SqueezeBackward4"
    assert s.shape == (9, 51) and s.stride() == (1, 9)
    r = gpujit.stft(x, 16, 4, window=w, return_complex=False)
    assert type(r.grad_fn).__name__ == "ViewAsRealBackward0" and r.stride() == (2, 18, 1)
    np.testing.assert_array_equal(r.detach().numpy()[..., 1], s.detach().numpy().imag)
    sb = gpujit.stft(xb, 16, 4, window=w, return_complex=True)
    assert type(sb.grad_fn).__name__ == "TransposeBackward1"
    # the spectrum's values: NumPy's FFT of the (centered, reflect-padded) frames
    frames = np.pad(x.detach().numpy(), 8, mode="reflect")
    want = np.stack([np.fft.rfft(frames[i:i + 16] * w.numpy()) for i in range(0, 201, 4)], 1)
    np.testing.assert_allclose(s.detach().numpy(), want, atol=1e-12)
    (s.abs() ** 2).sum().backward()
    assert x.grad.shape == (200,)


def _complex_chain(z, w, x):
    y = (z * w).exp() / (z + 1.5) - z.conj() * 2j
    return y.abs() + x * 2.0, y.sgn(), y.square().real


def test_scripted_and_traced_complex_never_fuse_and_equal_eager():
    rng = np.random.default_rng(26)
    z = gpujit.tensor(_c(rng, 64).astype(np.complex64))
    w = gpujit.tensor(_c(rng, 64).astype(np.complex64))
    x = gpujit.tensor(rng.standard_normal(64).astype(np.float32))
    want = [t.numpy() for t in _complex_chain(z, w, x)]
    s = gpujit.jit.script(_complex_chain)
    t = gpujit.jit.trace(_complex_chain, (z, w, x))
    for f in (s, t):
        for _ in range(3):          # (profiling runs, then the optimized graph)
            got = f(z, w, x)
            for g, e in zip(got, want):
                np.testing.assert_array_equal(g.numpy(), e)
        g = str(f.graph_for(z, w, x))
        # a fusion group takes no complex value (its real part fuses: abs(y) + x * 2)
        head, sep, groups = g.partition("with prim::TensorExprGroup_")
        assert sep and "aten::mul" in groups and "Complex" not in groups
        assert "ComplexFloat" in head and "= aten::div(" in head
