"""gpujit.linalg (torch.linalg) and the top-level linear-algebra names, against NumPy:
values, shapes, named-tuple fields, batches, PyTorch's errors, scripted calls, gradients
of the decompositions that read one triangle (on symmetrized inputs), and CUDA."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import gpujit as torch
from gpujit.autograd import gradcheck

rng = np.random.default_rng(7)


def npy(t):
    return t.detach().numpy()


def wc(*shape, dtype=np.float64):
    n = shape[-1]
    return (rng.uniform(-1, 1, shape) + n * np.eye(n)).astype(dtype)


def T(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def test_namespace():
    assert torch.linalg is __import__("gpujit").linalg
    for name in ("norm", "vector_norm", "matrix_norm", "inv", "det", "slogdet", "solve",
                 "cholesky", "qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv",
                 "matrix_rank", "matrix_power", "cross", "multi_dot", "vecdot", "matmul",
                 "solve_triangular", "lu_factor", "lu", "lu_solve", "matrix_exp", "lstsq",
                 "inv_ex", "cholesky_ex", "solve_ex"):
        assert callable(getattr(torch.linalg, name)), name
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)


def test_values_batched():
    a = wc(2, 3, 4, 4)
    b = rng.uniform(-1, 1, (2, 3, 4, 2))
    np.testing.assert_allclose(npy(torch.linalg.inv(T(a))), np.linalg.inv(a), rtol=1e-10)
    np.testing.assert_allclose(npy(torch.linalg.det(T(a))), np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(npy(torch.linalg.solve(T(a), T(b))), np.linalg.solve(a, b),
                               rtol=1e-10)
    sign, logabs = torch.linalg.slogdet(T(a))
    r = torch.linalg.slogdet(T(a))
    assert r.sign is r[0] and r.logabsdet is r[1]
    np.testing.assert_allclose(npy(sign) * np.exp(npy(logabs)), np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(npy(torch.linalg.matrix_power(T(a), 3)),
                               np.linalg.matrix_power(a, 3), rtol=1e-10)
    x = rng.uniform(-1, 1, (5, 4))
    np.testing.assert_allclose(npy(torch.linalg.pinv(T(x))), np.linalg.pinv(x), atol=1e-10)
    assert torch.linalg.matrix_rank(T(x[:, :2] @ x[:2, :])).item() == 2
    assert torch.linalg.inv(T(a.astype(np.float32))).dtype is torch.float32


def test_named_tuples_and_shapes():
    a = rng.uniform(-1, 1, (2, 5, 3))
    q, r = torch.linalg.qr(T(a))
    res = torch.linalg.qr(T(a), mode="complete")
    assert tuple(res.Q.shape) == (2, 5, 5) and tuple(res.R.shape) == (2, 5, 3)
    np.testing.assert_allclose(npy(q) @ npy(r), a, atol=1e-12)
    assert tuple(torch.linalg.qr(T(a), mode="r").Q.shape) == (0,)
    s = torch.linalg.svd(T(a), full_matrices=False)
    assert [tuple(t.shape) for t in s] == [(2, 5, 3), (2, 3), (2, 3, 3)]
    np.testing.assert_allclose((npy(s.U) * npy(s.S)[..., None, :]) @ npy(s.Vh), a, atol=1e-12)
    assert tuple(torch.linalg.svd(T(a)).U.shape) == (2, 5, 5)
    np.testing.assert_allclose(npy(torch.linalg.svdvals(T(a))), npy(s.S), atol=1e-12)
    old = torch.svd(T(a))
    np.testing.assert_allclose((npy(old.U) * npy(old.S)[..., None, :]) @
                               np.swapaxes(npy(old.V), -1, -2), a, atol=1e-12)
    sym = a[0].T @ a[0]
    e = torch.linalg.eigh(T(sym))
    np.testing.assert_allclose(npy(e.eigenvalues), np.linalg.eigvalsh(sym), atol=1e-12)
    np.testing.assert_allclose(sym @ npy(e.eigenvectors),
                               npy(e.eigenvectors) * npy(e.eigenvalues), atol=1e-12)
    np.testing.assert_allclose(npy(torch.linalg.eigvalsh(T(sym))), np.linalg.eigvalsh(sym))
    L = torch.linalg.cholesky(T(sym + np.eye(3)))
    np.testing.assert_allclose(npy(L) @ npy(L).T, sym + np.eye(3), atol=1e-12)
    U = torch.linalg.cholesky(T(sym + np.eye(3)), upper=True)
    np.testing.assert_allclose(npy(U), npy(L).T)


def test_norms():
    x = rng.uniform(-1, 1, (3, 4))
    t = T(x)
    for ord in (None, "fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf")):
        np.testing.assert_allclose(npy(torch.linalg.norm(t, ord)), np.linalg.norm(x, ord),
                                   rtol=1e-10)
    np.testing.assert_allclose(npy(torch.linalg.norm(t, 3, dim=1)),
                               (np.abs(x) ** 3).sum(1) ** (1 / 3), rtol=1e-10)
    np.testing.assert_allclose(npy(torch.linalg.matrix_norm(t, 2)), np.linalg.norm(x, 2))
    np.testing.assert_allclose(npy(torch.linalg.vector_norm(t)), np.linalg.norm(x))
    with pytest.raises(RuntimeError, match="If dim is not specified but ord is, the input "
                       "must be 1D or 2D. Got 3D."):
        torch.linalg.norm(torch.ones(2, 2, 2), 2)


def test_errors():
    s = T(np.array([[1., 2, 3], [2, 4, 6], [1, 1, 1]]))
    with pytest.raises(torch.linalg.LinAlgError, match="linalg.inv: The diagonal element 3 "
                       "is zero, the inversion could not be completed because the input "
                       "matrix is singular."):
        torch.linalg.inv(s)
    with pytest.raises(RuntimeError, match="linalg.inv: A must be batches of square "
                       "matrices, but they are 2 by 3 matrices"):
        torch.inverse(torch.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.det: Expected a floating point or complex "
                       "tensor as input. Got Long"):
        torch.det(torch.ones(3, 3, dtype=torch.int64))
    with pytest.raises(torch.linalg.LinAlgError, match="not positive-definite"):
        torch.linalg.cholesky(torch.tensor([[1., 2], [2, 1]]))
    with pytest.raises(RuntimeError, match="multi_dot"):
        torch.linalg.multi_dot([torch.ones(3)])


def test_top_level_names():
    a = wc(3, 3)
    t = T(a)
    np.testing.assert_allclose(npy(torch.inverse(t)), np.linalg.inv(a))
    np.testing.assert_allclose(npy(t.inverse()), np.linalg.inv(a))
    np.testing.assert_allclose(t.det().item(), np.linalg.det(a))
    spd = a @ a.T
    np.testing.assert_allclose(torch.logdet(T(spd)).item(), np.log(np.linalg.det(spd)))
    assert np.isnan(torch.logdet(torch.tensor([[-1., 0], [0, 1]])).item())
    np.testing.assert_allclose(npy(torch.pinverse(t)), np.linalg.inv(a), rtol=1e-8)
    np.testing.assert_allclose(npy(torch.matrix_power(t, 2)), a @ a)
    np.testing.assert_allclose(npy(t.matrix_power(-1)), np.linalg.inv(a))
    assert torch.trace(torch.arange(9).reshape(3, 3)).item() == 12
    assert t.trace().item() == pytest.approx(np.trace(a))
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim"):
        c = torch.cross(T(np.eye(3)), T(np.roll(np.eye(3), 1, 0)))
    np.testing.assert_allclose(npy(c), np.cross(np.eye(3), np.roll(np.eye(3), 1, 0), axis=0))
    v = rng.uniform(-1, 1, (4, 3))
    np.testing.assert_allclose(npy(torch.linalg.cross(T(v), T(v[::-1]))),
                               np.cross(v, v[::-1]))
    np.testing.assert_allclose(npy(torch.linalg.vecdot(T(v), T(v))), (v * v).sum(-1))
    # gpujit.trace with a function is still the tracer
    traced = torch.trace(lambda x: x * 2, (torch.ones(2),))
    assert traced(torch.ones(2)).tolist() == [2.0, 2.0]


def _scripted(x, b):
    q, r = torch.linalg.qr(x)
    n = torch.linalg.norm(x) + torch.linalg.norm(x, "fro") + torch.linalg.norm(x, 2)
    e = torch.linalg.eigh(x @ x.mT).eigenvalues
    return torch.linalg.inv(x) @ q, r, n, e, torch.linalg.solve(x, b), torch.inverse(x)


def test_scripted():
    f = torch.jit.script(_scripted)
    x, b = T(wc(3, 3)), T(rng.uniform(-1, 1, 3))
    got, want = f(x, b), _scripted(x, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(npy(g), npy(w), rtol=1e-10)
    s = str(f.graph)
    for k in ("aten::linalg_qr", "aten::linalg_norm", "aten::linalg_inv", "aten::linalg_eigh",
              "aten::linalg_solve"):
        assert k in s, k


def _sym(f):
    return lambda a: f(0.5 * (a + a.mT))


def test_gradients_of_symmetric_inputs():
    a = wc(3, 3)
    A = T(a @ a.T).requires_grad_()
    assert gradcheck(_sym(lambda x: torch.linalg.cholesky(x)), [A])
    assert gradcheck(_sym(lambda x: torch.linalg.cholesky(x, upper=True)), [A])
    assert gradcheck(_sym(lambda x: torch.linalg.eigvalsh(x)), [A])
    # eigenvectors up to sign: a sign-invariant function of them
    assert gradcheck(_sym(lambda x: torch.linalg.eigh(x).eigenvectors.pow(2)), [A])
    assert gradcheck(_sym(lambda x: torch.linalg.eigh(x).eigenvalues), [A])


def test_gradients():
    A = T(wc(2, 3, 3)).requires_grad_()
    B = T(rng.uniform(-1, 1, (2, 3))).requires_grad_()
    assert gradcheck(lambda a: torch.linalg.inv(a), [A])
    assert gradcheck(lambda a: torch.linalg.det(a), [A])
    assert gradcheck(lambda a, b: torch.linalg.solve(a, b), [A, B])
    assert gradcheck(lambda a: torch.linalg.norm(a, 2, dim=(-2, -1)), [A])
    assert gradcheck(lambda a: torch.linalg.svd(a, full_matrices=False).S, [A])


def test_orthogonal_init():
    w = torch.empty(4, 6)
    torch.nn.init.orthogonal_(w)
    a = npy(w)
    np.testing.assert_allclose(a @ a.T, np.eye(4), atol=1e-5)


def test_solve_triangular_and_lu():
    a = rng.uniform(-1, 1, (2, 4, 4))
    b = rng.uniform(-1, 1, (2, 4, 3))
    x = torch.linalg.solve_triangular(T(a), T(b), upper=True)
    np.testing.assert_allclose(np.triu(a) @ npy(x), b, atol=1e-10)
    x = torch.linalg.solve_triangular(T(a), T(b).mT, upper=False, left=False,
                                      unitriangular=True)
    low = np.tril(a, -1) + np.eye(4)
    np.testing.assert_allclose(npy(x) @ low, np.swapaxes(b, -1, -2), atol=1e-10)
    # float A, double B: the result is A's dtype (PyTorch casts B)
    assert torch.linalg.solve_triangular(T(a[0].astype(np.float32)), T(b[0]),
                                         upper=True).dtype is torch.float32
    # LAPACK's pivots (torch 2.13 gives these for this matrix)
    m = np.array([[1., 2, 3], [4, 5, 6], [7, 8, 10]])
    r = torch.linalg.lu_factor(T(m))
    assert r.pivots.dtype is torch.int32 and r.pivots.tolist() == [3, 3, 3]
    assert r.LU is r[0] and r.pivots is r[1]
    P, L, U = torch.linalg.lu(T(m))
    np.testing.assert_allclose(npy(P) @ npy(L) @ npy(U), m, atol=1e-12)
    np.testing.assert_allclose(npy(torch.linalg.lu(T(m)).U), np.triu(npy(r.LU)))
    up = torch.lu_unpack(r.LU, r.pivots)
    for f in ("P", "L", "U"):
        np.testing.assert_array_equal(npy(getattr(up, f)), npy(getattr(torch.linalg.lu(T(m)),
                                                                          f)))
    for s in ((5, 3), (3, 5)):
        w = rng.uniform(-1, 1, s)
        f = torch.linalg.lu(T(w))
        assert [tuple(t.shape) for t in f] == [(s[0], s[0]), (s[0], 3), (3, s[1])]
        np.testing.assert_allclose(npy(f.P) @ npy(f.L) @ npy(f.U), w, atol=1e-12)
    for left, adjoint in ((True, False), (True, True), (False, False), (False, True)):
        rhs = rng.uniform(-1, 1, (3, 2) if left else (2, 3))
        got = npy(torch.linalg.lu_solve(r.LU, r.pivots, T(rhs), left=left, adjoint=adjoint))
        mm = m.T if adjoint else m
        want = np.linalg.solve(mm, rhs) if left else np.linalg.solve(mm.T, rhs.T).T
        np.testing.assert_allclose(got, want, atol=1e-10)
    # a singular matrix: lu works, lu_factor raises
    P, L, U = torch.linalg.lu(torch.zeros(3, 3))
    assert npy(P).tolist() == np.eye(3).tolist() and not npy(U).any()
    # (a plain RuntimeError in PyTorch, not its LinAlgError)
    with pytest.raises(RuntimeError, match=r"torch.linalg.lu_factor: U\[1,1\] is "
                       r"zero and using it on lu_solve would result in a division by zero") as e:
        torch.linalg.lu_factor(torch.zeros(3, 3))
    assert type(e.value) is RuntimeError
    with pytest.raises(NotImplementedError, match="\"lu_cpu\" not implemented for 'Long'"):
        torch.linalg.lu(torch.ones(3, 3, dtype=torch.int64))


def _scripted_lu(A, B):
    r = torch.linalg.lu_factor(A)
    x = torch.linalg.lu_solve(r.LU, r.pivots, B)
    P, L, U = torch.linalg.lu(A)
    y = torch.linalg.solve_triangular(U, B, upper=True)
    return x, r.pivots, P @ L @ U, y, torch.lu_unpack(r.LU, r.pivots).U


def test_scripted_lu():
    f = torch.jit.script(_scripted_lu)
    a, b = wc(3, 3), rng.uniform(-1, 1, (3, 2))
    got, want = f(T(a), T(b)), _scripted_lu(T(a), T(b))
    for g, w in zip(got, want):
        np.testing.assert_allclose(npy(g), npy(w), rtol=1e-10)
    assert got[1].dtype is torch.int32
    np.testing.assert_allclose(npy(got[0]), np.linalg.solve(a, b), atol=1e-10)
    s = str(f.graph)
    for k in ("aten::linalg_lu_factor", "aten::linalg_lu_solve", "aten::linalg_lu",
              "aten::linalg_solve_triangular", "aten::lu_unpack"):
        assert k in s, k


def test_lu_gradients():
    for s in ((3, 3), (2, 4, 3), (3, 5)):
        A = T(rng.uniform(-1, 1, s)).requires_grad_()
        assert gradcheck(lambda a: torch.linalg.lu(a)[1:], [A])
        assert gradcheck(lambda a: torch.linalg.lu_factor(a).LU, [A])
    A = T(wc(2, 3, 3)).requires_grad_()
    B = T(rng.uniform(-1, 1, (3, 2))).requires_grad_()
    assert gradcheck(lambda a, b: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b), [A, B])
    assert gradcheck(lambda a, b: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b.mT,
                                                        left=False, adjoint=True), [A, B])
    assert gradcheck(lambda a, b: torch.linalg.solve_triangular(a, b, upper=False), [A, B])
    assert gradcheck(lambda a, b: torch.linalg.solve_triangular(a, b.mT, upper=True,
                                                                left=False,
                                                                unitriangular=True), [A, B])

def _scripted_expm(x):
    return torch.linalg.matrix_exp(x) + x.matrix_exp()


def test_matrix_exp():
    t = 0.7
    rot = torch.linalg.matrix_exp(torch.tensor([[0., t], [-t, 0.]], dtype=torch.float64))
    np.testing.assert_allclose(npy(rot), [[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]],
                               atol=1e-15)
    # a nilpotent matrix: the series ends, exp(N) = I + N + N^2 / 2
    n = np.triu(rng.uniform(-3, 3, (4, 4)), 1)
    np.testing.assert_allclose(npy(torch.matrix_exp(T(n))), np.eye(4) + n + n @ n / 2 +
                               n @ n @ n / 6, atol=1e-12)
    # a batch whose norms need different scalings (symmetric: exp through eigh)
    s = rng.uniform(-1, 1, (3, 3)) * 3
    s = s + s.T
    a = np.stack([np.eye(3) * 1e-3, s])
    e = npy(T(a).matrix_exp())
    w, v = np.linalg.eigh(s)
    np.testing.assert_allclose(e[1], (v * np.exp(w)) @ v.T, rtol=1e-12,
                               atol=1e-12 * np.exp(w).max())
    np.testing.assert_allclose(e[0], np.diag(np.full(3, np.exp(1e-3))), atol=1e-15)
    assert torch.matrix_exp(torch.ones(2, 2, dtype=torch.float16)).dtype is torch.float16
    with pytest.raises(RuntimeError, match="linalg.matrix_exp: Expected a floating point or "
                       "complex tensor as input. Got Long"):
        torch.matrix_exp(torch.ones(2, 2, dtype=torch.int64))
    f = torch.jit.script(_scripted_expm)
    x = T(rng.uniform(-1, 1, (3, 3)))
    np.testing.assert_allclose(npy(f(x)), 2 * npy(torch.matrix_exp(x)), rtol=1e-12)
    assert "aten::linalg_matrix_exp" in str(f.graph) and "aten::matrix_exp" in str(f.graph)
    A = T(rng.uniform(-2, 2, (2, 3, 3))).requires_grad_()
    assert gradcheck(lambda a: torch.linalg.matrix_exp(a), [A])

def _scripted_lstsq(a, b):
    r = torch.linalg.lstsq(a, b, driver="gelsd")
    return r.solution, r.residuals, r.rank, r.singular_values


def test_lstsq():
    a, b = rng.uniform(-1, 1, (2, 5, 3)), rng.uniform(-1, 1, (2, 5, 2))
    want = np.stack([np.linalg.lstsq(x, y, rcond=None)[0] for x, y in zip(a, b)])
    # which fields each driver fills (torch 2.13 CPU; 'gelsy' is the default)
    shapes = {None: [(2, 3, 2), (0,), (2,), (0,)], "gelsy": [(2, 3, 2), (0,), (2,), (0,)],
              "gels": [(2, 3, 2), (2, 2), (0,), (0,)],
              "gelsd": [(2, 3, 2), (2, 2), (2,), (2, 3)],
              "gelss": [(2, 3, 2), (2, 2), (2,), (2, 3)]}
    for driver, sh in shapes.items():
        r = torch.linalg.lstsq(T(a), T(b), driver=driver)
        assert [tuple(t.shape) for t in r] == sh, driver
        assert r.rank.dtype is torch.int64
        np.testing.assert_allclose(npy(r.solution), want, atol=1e-10)
        if sh[1] != (0,):
            np.testing.assert_allclose(npy(r.residuals),
                                       ((a @ want - b) ** 2).sum(-2), atol=1e-10)
    # a vector B; a wide A (no residuals); a rank-deficient A (rank 2, no residuals)
    r = torch.linalg.lstsq(T(a[0]), T(b[0, :, 0]), driver="gelss")
    assert tuple(r.solution.shape) == (3,) and tuple(r.residuals.shape) == (1,)
    assert tuple(torch.linalg.lstsq(T(a[0].T), T(b[0, :3])).solution.shape) == (5, 2)
    low = a[0, :, :2] @ rng.uniform(-1, 1, (2, 3))
    r = torch.linalg.lstsq(T(low), T(b[0]), driver="gelsd")
    assert r.rank.item() == 2 and tuple(r.residuals.shape) == (0,)
    np.testing.assert_allclose(npy(r.solution), np.linalg.pinv(low) @ b[0], atol=1e-10)
    with pytest.raises(RuntimeError, match=r"parameter `driver` should be one of \(gels, "
                       r"gelsy, gelsd, gelss\)"):
        torch.linalg.lstsq(T(a), T(b), driver="qr")
    f = torch.jit.script(_scripted_lstsq)
    for g, w in zip(f(T(a), T(b)), _scripted_lstsq(T(a), T(b))):
        np.testing.assert_allclose(npy(g), npy(w))
    assert "aten::linalg_lstsq" in str(f.graph)
    A, B = T(a).requires_grad_(), T(b).requires_grad_()
    assert gradcheck(lambda x, y: torch.linalg.lstsq(x, y).solution, [A, B])
    assert gradcheck(lambda x, y: torch.linalg.lstsq(x, y, driver="gels").residuals, [A, B])

def _scripted_ex(a, b):
    r = torch.linalg.inv_ex(a)
    c = torch.linalg.cholesky_ex(a @ a.mT)
    s = torch.linalg.solve_ex(a, b)
    return r.inverse, r.info, c.L, c.info, s.result, s.info, torch.cholesky_solve(b, c.L)


def test_ex_variants_and_cholesky_solve():
    sing = np.array([[1., 2, 3], [2, 4, 6], [1, 1, 1]])
    batch = T(np.stack([wc(3, 3), sing]))
    r = torch.linalg.inv_ex(batch)
    assert r.info.dtype is torch.int32 and r.info.tolist() == [0, 3]
    np.testing.assert_allclose(npy(r.inverse)[0], np.linalg.inv(npy(batch)[0]), atol=1e-12)
    with pytest.raises(torch.linalg.LinAlgError, match=r"linalg.inv_ex: \(Batch element 1\): "
                       r"The diagonal element 3 is zero"):
        torch.linalg.inv_ex(batch, check_errors=True)
    s = torch.linalg.solve_ex(batch, torch.ones(3, dtype=torch.float64))
    assert s.info.tolist() == [0, 3] and tuple(s.result.shape) == (2, 3)
    with pytest.raises(torch.linalg.LinAlgError, match="torch.linalg.solve_ex: \\(Batch element "
                       "1\\): The solver failed because the input matrix is singular."):
        torch.linalg.solve_ex(batch, torch.ones(3, dtype=torch.float64), check_errors=True)
    # LAPACK's partial factor and info (torch 2.13: L = [[1, 0], [2, -3]], info 2)
    c = torch.linalg.cholesky_ex(torch.tensor([[1., 2], [2, 1]]))
    assert c.info.item() == 2 and npy(c.L).tolist() == [[1., 0.], [2., -3.]]
    p = wc(3, 3)
    p = p @ p.T
    c = torch.linalg.cholesky_ex(T(p), upper=True)
    assert c.info.item() == 0
    np.testing.assert_allclose(npy(c.L).T @ npy(c.L), p, atol=1e-12)
    b = rng.uniform(-1, 1, (2, 3, 2))
    L = np.linalg.cholesky(p)
    noisy = L + np.triu(np.ones((3, 3)), 1)          # the other triangle is not read
    np.testing.assert_allclose(npy(torch.cholesky_solve(T(b), T(noisy))),
                               np.linalg.solve(p, b), atol=1e-10)
    np.testing.assert_allclose(npy(T(b).cholesky_solve(T(noisy.T), upper=True)),
                               np.linalg.solve(p, b), atol=1e-10)
    np.testing.assert_allclose(npy(torch.cholesky_inverse(T(noisy))), np.linalg.inv(p),
                               atol=1e-10)
    np.testing.assert_allclose(npy(T(noisy.T).cholesky_inverse(True)), np.linalg.inv(p),
                               atol=1e-10)
    f = torch.jit.script(_scripted_ex)
    a = T(wc(3, 3))
    bb = T(rng.uniform(-1, 1, (3, 2)))
    for g, w in zip(f(a, bb), _scripted_ex(a, bb)):
        np.testing.assert_allclose(npy(g), npy(w), rtol=1e-10)
    for k in ("aten::linalg_inv_ex", "aten::linalg_cholesky_ex", "aten::linalg_solve_ex",
              "aten::cholesky_solve"):
        assert k in str(f.graph), k
    A = T(wc(2, 3, 3)).requires_grad_()
    B = T(rng.uniform(-1, 1, (3, 2))).requires_grad_()
    assert gradcheck(lambda x: torch.linalg.inv_ex(x).inverse, [A])
    assert gradcheck(lambda x, y: torch.linalg.solve_ex(x, y).result, [A, B])
    P = T(p).requires_grad_()
    assert gradcheck(_sym(lambda x: torch.linalg.cholesky_ex(x).L), [P])
    Lt = T(L).requires_grad_()
    assert gradcheck(lambda l, y: torch.cholesky_solve(y, l.tril()), [Lt, B])
    assert gradcheck(lambda l, y: torch.cholesky_solve(y, l.tril().mT, upper=True), [Lt, B])
    assert gradcheck(lambda l: torch.cholesky_inverse(l.tril()), [Lt])
    assert gradcheck(lambda l: torch.cholesky_inverse(l.tril().mT, upper=True), [Lt])

@pytest.mark.cuda
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    a = wc(2, 4, 4, dtype=np.float32)
    c = T(a).to("cuda")
    for f in (torch.linalg.inv, torch.linalg.det, torch.linalg.svdvals, torch.linalg.eigvalsh,
              torch.linalg.pinv, lambda x: torch.linalg.norm(x, 2, dim=(-2, -1)),
              lambda x: torch.linalg.solve(x, x[..., 0])):
        r = f(c)
        assert r.device.type == "cuda"
        np.testing.assert_allclose(r.cpu().numpy(), npy(f(T(a))), rtol=1e-4, atol=1e-4)
    q, r = torch.linalg.qr(c)
    np.testing.assert_allclose((q @ r).cpu().numpy(), a, atol=1e-4)
    u, s, vh = torch.linalg.svd(c)
    np.testing.assert_allclose(((u * s.unsqueeze(-2)) @ vh).cpu().numpy(), a, atol=1e-4)
    with pytest.raises(torch.linalg.LinAlgError, match="linalg.inv"):
        torch.linalg.inv(torch.zeros(3, 3, device="cuda"))
