"""Session 32 (c32): leftovers versus torch 2.13, part 2. Expected values are hard-coded
from torch 2.13 (the tests run without torch).

1. LAPACK results' strides: torch hands its LAPACK results back column-major per matrix
   (batch dims C-ordered); gpujit's registry lays them out so (op(fortran=...)), in eager,
   scripted and traced calls alike, and an out= tensor it resizes takes those strides.
"""
import warnings

import numpy as np
import pytest

import gpujit


def _mats(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return gpujit.tensor(rng.standard_normal(shape))


def _spd(*shape):
    a = _mats(*shape, seed=1)
    return a @ a.mT + gpujit.eye(shape[-1], dtype=gpujit.float64)


def _strides(r):
    if isinstance(r, tuple):
        return [tuple(t.stride()) for t in r]
    return tuple(r.stride())


# ------------------------------------------------------------------ 1. LAPACK strides

A2, A3 = _mats(4, 4), _mats(2, 4, 4)
S2, S3 = _spd(4, 4), _spd(2, 4, 4)

# (name, function, expected strides for the (4, 4) input, for the (2, 4, 4) one): torch 2.13
_CASES = [
    ("inv", lambda a, s: gpujit.linalg.inv(a), (1, 4), (16, 1, 4)),
    ("inverse", lambda a, s: gpujit.inverse(a), (1, 4), (16, 1, 4)),
    ("inv_ex", lambda a, s: gpujit.linalg.inv_ex(a), [(1, 4), ()], [(16, 1, 4), (1,)]),
    ("solve", lambda a, s: gpujit.linalg.solve(a, a), (1, 4), (16, 1, 4)),
    ("solve_right", lambda a, s: gpujit.linalg.solve(a, a[..., :2, :].clone(), left=False),
     (4, 1), (8, 4, 1)),
    ("solve_ex", lambda a, s: gpujit.linalg.solve_ex(a, a), [(1, 4), ()],
     [(16, 1, 4), (1,)]),
    ("qr", lambda a, s: gpujit.linalg.qr(a), [(1, 4), (1, 4)], [(16, 1, 4), (16, 1, 4)]),
    ("qr_r", lambda a, s: gpujit.linalg.qr(a, mode="r"), [(1,), (1, 4)],
     [(1,), (16, 1, 4)]),
    ("svd", lambda a, s: gpujit.linalg.svd(a), [(1, 4), (1,), (1, 4)],
     [(16, 1, 4), (4, 1), (16, 1, 4)]),
    ("torch_svd", lambda a, s: gpujit.svd(a), [(1, 4), (1,), (4, 1)],
     [(16, 1, 4), (4, 1), (16, 4, 1)]),
    ("torch_svd_no_uv", lambda a, s: gpujit.svd(a, compute_uv=False), [(4, 1), (1,), (1, 4)],
     [(16, 4, 1), (4, 1), (16, 1, 4)]),
    ("eigh", lambda a, s: gpujit.linalg.eigh(s), [(1,), (1, 4)], [(4, 1), (16, 1, 4)]),
    ("cholesky", lambda a, s: gpujit.linalg.cholesky(s), (1, 4), (16, 1, 4)),
    ("cholesky_upper", lambda a, s: gpujit.linalg.cholesky(s, upper=True), (1, 4),
     (16, 1, 4)),
    ("cholesky_ex", lambda a, s: gpujit.linalg.cholesky_ex(s), [(1, 4), ()],
     [(16, 1, 4), (1,)]),
    ("cholesky_solve", lambda a, s: gpujit.cholesky_solve(a, gpujit.linalg.cholesky(s)),
     (1, 4), (16, 1, 4)),
    ("cholesky_inverse", lambda a, s: gpujit.cholesky_inverse(gpujit.linalg.cholesky(s)),
     (1, 4), (16, 1, 4)),
    ("lu_factor", lambda a, s: gpujit.linalg.lu_factor(a), [(1, 4), (1,)],
     [(16, 1, 4), (4, 1)]),
    ("lu_factor_ex", lambda a, s: gpujit.linalg.lu_factor_ex(a), [(1, 4), (1,), ()],
     [(16, 1, 4), (4, 1), (1,)]),
    ("lu", lambda a, s: gpujit.linalg.lu(a), [(4, 1)] * 3, [(16, 4, 1)] * 3),
    ("lu_solve", lambda a, s: gpujit.linalg.lu_solve(*gpujit.linalg.lu_factor(a), a),
     (1, 4), (16, 1, 4)),
    ("lu_solve_right", lambda a, s: gpujit.linalg.lu_solve(
        *gpujit.linalg.lu_factor(a), a, left=False), (4, 1), (16, 4, 1)),
    ("solve_triangular", lambda a, s: gpujit.linalg.solve_triangular(
        s.triu(), a, upper=True), (1, 4), (16, 1, 4)),
    ("solve_triangular_right", lambda a, s: gpujit.linalg.solve_triangular(
        s.triu(), a, upper=True, left=False), (1, 4), (16, 1, 4)),
    ("triangular_solve", lambda a, s: gpujit.triangular_solve(a, s.triu()),
     [(1, 4), (1, 4)], [(16, 1, 4), (16, 1, 4)]),
    ("torch_qr", lambda a, s: gpujit.qr(a), [(1, 4), (1, 4)], [(16, 1, 4), (16, 1, 4)]),
    ("torch_cholesky", lambda a, s: gpujit.cholesky(s), (1, 4), (16, 1, 4)),
    ("torch_lu", lambda a, s: gpujit.lu(a), [(1, 4), (1,)], [(16, 1, 4), (4, 1)]),
    ("geqrf", lambda a, s: gpujit.geqrf(a), [(1, 4), (1,)], [(16, 1, 4), (4, 1)]),
    ("householder_product", lambda a, s: gpujit.linalg.householder_product(
        *gpujit.geqrf(a)), (1, 4), (16, 1, 4)),
    ("orgqr", lambda a, s: gpujit.orgqr(*gpujit.geqrf(a)), (1, 4), (16, 1, 4)),
    ("ormqr", lambda a, s: gpujit.ormqr(*gpujit.geqrf(a), a), (1, 4), (16, 1, 4)),
    ("ldl_factor", lambda a, s: gpujit.linalg.ldl_factor(s), [(1, 4), (1,)],
     [(16, 1, 4), (4, 1)]),
    ("ldl_solve", lambda a, s: gpujit.linalg.ldl_solve(*gpujit.linalg.ldl_factor(s), a),
     (1, 4), (16, 1, 4)),
    ("lstsq", lambda a, s: gpujit.linalg.lstsq(a, a[..., :2]).solution, (1, 4), (8, 1, 4)),
    ("pinv", lambda a, s: gpujit.linalg.pinv(a), (4, 1), (16, 4, 1)),
    ("matrix_exp", lambda a, s: gpujit.linalg.matrix_exp(a), (4, 1), (16, 4, 1)),
    ("matrix_power_neg", lambda a, s: gpujit.linalg.matrix_power(a, -2), (4, 1),
     (16, 4, 1)),
]


@pytest.mark.parametrize("name,fn,e2,e3", _CASES, ids=[c[0] for c in _CASES])
def test_lapack_results_are_column_major_as_torch(name, fn, e2, e3):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # (torch.cholesky, qr ... are deprecated)
        assert _strides(fn(A2, S2)) == (e2 if not isinstance(e2, list) else e2)
        assert _strides(fn(A3, S3)) == e3


def test_lapack_layout_keeps_the_values():
    inv = gpujit.linalg.inv(A3)
    assert not inv.is_contiguous() and inv.mT.is_contiguous()
    eye = np.broadcast_to(np.eye(4), (2, 4, 4))
    np.testing.assert_allclose((A3 @ inv).numpy(), eye, atol=1e-12)
    q, r = gpujit.linalg.qr(A3)
    np.testing.assert_allclose((q @ r).numpy(), A3.numpy(), atol=1e-12)
    np.testing.assert_allclose(q.contiguous().numpy(), q.numpy())
    u, s, vh = gpujit.linalg.svd(A3)
    np.testing.assert_allclose((u * s.unsqueeze(-2) @ vh).numpy(), A3.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape,sol_shape,expected", [
    ((4, 4), (4, 2), (1, 4)), ((5, 3), (3, 2), (1, 5)), ((3, 5), (5, 2), (1, 5)),
    ((2, 5, 3), (2, 3, 2), (10, 1, 5)), ((2, 3, 5), (2, 5, 2), (10, 1, 5))])
def test_lstsq_solution_is_the_top_of_its_column_major_buffer(shape, sol_shape, expected):
    # torch: the solution is the first n rows of the (..., max(m, n), k) column-major
    # right-hand side LAPACK overwrites
    a = _mats(*shape)
    b = _mats(*shape[:-1], 2, seed=3)
    x = gpujit.linalg.lstsq(a, b).solution
    assert tuple(x.shape) == sol_shape and x.stride() == expected
    ref = np.linalg.lstsq(a.numpy().reshape(-1, *shape[-2:])[0],
                          b.numpy().reshape(-1, shape[-2], 2)[0], rcond=None)[0]
    np.testing.assert_allclose(x.numpy().reshape(-1, *sol_shape[-2:])[0], ref, atol=1e-10)


def test_lstsq_vector_and_batch_checks_as_torch():
    a = _mats(2, 4, 3)
    x = gpujit.linalg.lstsq(a, _mats(2, 4, seed=2)).solution
    assert tuple(x.shape) == (2, 3) and x.stride() == (4, 1)
    with pytest.raises(RuntimeError, match=r"^torch.linalg.lstsq: input.dim\(\) must be "
                       r"greater or equal to other.dim\(\) and \(input.dim\(\) - "
                       r"other.dim\(\)\) <= 1$"):
        gpujit.linalg.lstsq(_mats(4, 4), _mats(2, 4, 2))


def test_solve_batched_vector_result_strides():
    # torch: the (batch, n) solution gets the column-major strides of a (batch, n) matrix
    x = gpujit.linalg.solve(_mats(3, 4, 4), _mats(3, 4, seed=2))
    assert tuple(x.shape) == (3, 4) and x.stride() == (1, 3)
    assert gpujit.linalg.solve(A2, A2[:, 0].clone()).stride() == (1,)


def test_empty_and_thin_lapack_results():
    assert _strides(gpujit.linalg.qr(gpujit.zeros(0, 3, dtype=gpujit.float64))) == \
        [(1, 1), (1, 1)]
    assert _strides(gpujit.linalg.qr(gpujit.zeros(3, 0, dtype=gpujit.float64))) == \
        [(1, 3), (1, 1)]
    assert gpujit.linalg.inv(gpujit.zeros(0, 3, 3, dtype=gpujit.float64)).stride() == \
        (9, 1, 3)
    assert _strides(gpujit.linalg.qr(_mats(3, 1))) == [(1, 3), (1, 1)]
    assert gpujit.linalg.inv(_mats(2, 3, 4, 4)).stride() == (48, 16, 1, 4)


def test_view_of_a_column_major_result_fails_as_torch():
    with pytest.raises(RuntimeError, match=r"^view size is not compatible with input "
                       r"tensor's size and stride \(at least one dimension spans across two "
                       r"contiguous subspaces\). Use .reshape\(...\) instead.$"):
        gpujit.linalg.inv(A3).view(-1)
    assert gpujit.linalg.inv(A3).reshape(-1).shape == (32,)


def _lapack_program(x, b):
    q, r = gpujit.linalg.qr(x)
    return (gpujit.linalg.inv(x), q, r, gpujit.linalg.solve(x, b),
            gpujit.linalg.lstsq(x[..., :3], b).solution,
            gpujit.linalg.eigh(x @ x.mT).eigenvectors)


def test_scripted_and_traced_lapack_results_have_torchs_strides():
    b = _mats(2, 4, 2, seed=4)
    want = [(16, 1, 4), (16, 1, 4), (16, 1, 4), (8, 1, 4), (8, 1, 4), (16, 1, 4)]
    s = gpujit.jit.script(_lapack_program)
    t = gpujit.jit.trace(_lapack_program, (A3, b))
    eager = _lapack_program(A3, b)
    for fn in (s, t):
        for _ in range(2):          # (profiling run, then the compiled code)
            out = fn(A3, b)
            assert [tuple(o.stride()) for o in out] == want
            for o, e in zip(out, eager):
                np.testing.assert_allclose(o.numpy(), e.numpy(), atol=1e-10)


def test_lapack_result_with_gradient_keeps_its_layout():
    x = A3.clone().requires_grad_()
    y = gpujit.linalg.inv(x)
    assert y.stride() == (16, 1, 4)
    y.sum().backward()
    assert x.grad.shape == (2, 4, 4)


def _e(dtype=gpujit.float64):
    return gpujit.empty(0, dtype=dtype)


def test_out_tensors_resized_take_the_results_strides():
    # torch 2.13: an out= tensor its structured kernel resizes gets the result's strides
    assert gpujit.linalg.inv(A3, out=_e()).stride() == (16, 1, 4)
    q, r = gpujit.linalg.qr(A3, out=(_e(), _e()))
    assert (q.stride(), r.stride()) == ((16, 1, 4), (16, 1, 4))
    assert _strides(gpujit.linalg.svd(A3, out=(_e(), _e(), _e()))) == \
        [(16, 1, 4), (4, 1), (16, 1, 4)]
    assert _strides(gpujit.linalg.eigh(S3, out=(_e(), _e()))) == [(4, 1), (16, 1, 4)]
    assert gpujit.linalg.cholesky(S3, out=_e()).stride() == (16, 1, 4)
    # an elementwise op's out takes the layout of its operands, as TensorIterator's
    assert gpujit.add(A3.mT, 1, out=_e()).stride() == (16, 1, 4)
    assert gpujit.exp(A3.mT, out=_e()).stride() == (16, 1, 4)
    # ... but torch.cholesky_solve resizes and copies: C-contiguous
    c = gpujit.linalg.cholesky(S3)
    assert gpujit.cholesky_solve(A3, c, out=_e()).stride() == (16, 4, 1)
    # an out of the right shape keeps its own strides
    o = gpujit.empty(2, 4, 4, dtype=gpujit.float64)
    assert gpujit.linalg.inv(A3, out=o).stride() == (16, 4, 1)
    np.testing.assert_allclose(o.numpy(), gpujit.linalg.inv(A3).numpy())
