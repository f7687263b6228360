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


# ------------------------------------------------------------------ 2. edge values

@pytest.mark.parametrize("dtype,values,expected", [
    # torch: integer samples are subtracted in their dtype (wrapping) before the division
    (gpujit.int8, [100, -100, 127, -128], [56.0, 13.5, -14.0, 1.0]),
    (gpujit.int16, [30000, -30000, 5], [5536.0, -14997.5, 30005.0]),
    (gpujit.int64, [2 ** 62, -2 ** 62, 2 ** 62], [-9.223372036854776e+18, 0.0,
                                                  -9.223372036854776e+18]),
    (gpujit.int32, [1, 4, 9, 16], [3.0, 4.0, 6.0, 7.0])])
def test_gradient_of_integers_wraps_as_torch(dtype, values, expected):
    (g,) = gpujit.gradient(gpujit.tensor(values, dtype=dtype))
    assert g.dtype == gpujit.float32 and g.tolist() == expected
    s = gpujit.jit.script(_gradient_program)
    for _ in range(2):
        (g,) = s(gpujit.tensor(values, dtype=dtype))
        assert g.dtype == gpujit.float32 and g.tolist() == expected


def _gradient_program(x):
    return gpujit.gradient(x)


def test_gradient_of_integers_with_coordinates_and_edge_order_2():
    x = gpujit.tensor([30000, -30000, 5], dtype=gpujit.int16)
    (g,) = gpujit.gradient(x, spacing=(gpujit.tensor([0., 1., 3.]),))
    assert g.tolist() == [5536.0, -34999.16796875, 15002.5]
    (g,) = gpujit.gradient(gpujit.tensor([1, 4, 9, 16]), edge_order=2)
    assert g.tolist() == [2.0, 4.0, 6.0, 8.0]


@pytest.mark.parametrize("kwargs", [{}, {"edge_order": 3}, {"dim": 5}, {"spacing": [1, 2]}])
def test_gradient_refuses_uint8_first(kwargs):
    x = gpujit.tensor([1, 2, 3], dtype=gpujit.uint8)
    with pytest.raises(RuntimeError, match=r"^torch.gradient does not support uint8 "
                                           r"input.$"):
        gpujit.gradient(x, **kwargs)
    with pytest.raises(RuntimeError, match="does not support uint8"):
        gpujit.jit.script(_gradient_program)(x)


def test_cov_of_large_integers_as_torch():
    c = gpujit.cov(gpujit.tensor([[2 ** 40, 2 ** 40 + 1, 3], [4, 6, 2 ** 41]]))
    assert c.dtype == gpujit.float32
    np.testing.assert_allclose(c.numpy(), [[4.029752852144754e+23, -8.059504983713568e+23],
                                           [-8.059504983713568e+23, 1.6119009967427135e+24]],
                               rtol=1e-6)
    assert float(gpujit.cov(gpujit.tensor([[2 ** 62, -2 ** 62, 2 ** 62 - 1]]))) == \
        pytest.approx(2.8356864755178605e+37, rel=1e-6)
    assert float(gpujit.cov(gpujit.tensor([[100, -100, 127]], dtype=gpujit.int8))) == \
        pytest.approx(15376.3330078125, rel=1e-7)


def _ldexp_program(x, e):
    return gpujit.ldexp(x, e) * 1.0


@pytest.mark.parametrize("dtype", [gpujit.float32, gpujit.float64, gpujit.float16])
def test_ldexp_of_zero_and_inf_with_huge_integer_exponents(dtype):
    inf, nan = float("inf"), float("nan")
    x = gpujit.tensor([0., -0., inf, -inf, nan, 1., 3.], dtype=dtype)
    e = gpujit.tensor([2000, 2000, -2000, -2000, 5, 2000, -2000])
    want = [0.0, -0.0, inf, -inf, nan, inf, 0.0]          # torch 2.13
    s = gpujit.jit.script(_ldexp_program)
    for r in (gpujit.ldexp(x, e), s(x, e), s(x, e)):
        assert r.dtype == dtype
        np.testing.assert_array_equal(r.numpy().astype(np.float64), want)
    assert np.signbit(gpujit.ldexp(x, e).numpy()[1])
    # an infinite exponent still scales: 0 * 2 ** inf is NaN (torch)
    r = gpujit.ldexp(gpujit.tensor([0., 1.]), gpujit.tensor([inf, -inf]))
    np.testing.assert_array_equal(r.numpy(), [nan, 0.0])
    # exact for integer exponents: 1e-30 * 2 ** 150 is finite, 1e30 * 2 ** -150 too
    r = gpujit.ldexp(gpujit.tensor([1e-30, 1e30]), gpujit.tensor([150, -150]))
    np.testing.assert_allclose(r.numpy(), [1427247697231872.0, 7.006492427054042e-16],
                               rtol=1e-6)


@pytest.mark.parametrize("dtype,value,words", [
    (gpujit.int8, 300, "int8_t"), (gpujit.int8, -200, "int8_t"),
    (gpujit.uint8, 300, "uint8_t"), (gpujit.int16, 70000, "int16_t"),
    (gpujit.int32, 2 ** 40, "int"), (gpujit.int64, 2 ** 63, "int64_t"),
    (gpujit.float16, 1e6, "c10::Half"), (gpujit.float32, 1e300, "float")])
def test_index_fill_value_overflowing_the_dtype_raises(dtype, value, words):
    x = gpujit.tensor([1, 2, 3], dtype=dtype)
    i = gpujit.tensor([0])
    msg = f"^value cannot be converted to type {words} without overflow$"
    with pytest.raises(RuntimeError, match=msg):
        x.index_fill(0, i, value)
    with pytest.raises(RuntimeError, match=msg):
        x.clone().index_fill_(0, i, value)
    # a 0-dim value tensor is read as a number: the same check (torch: value.item())
    if abs(value) < 2 ** 63:
        v = gpujit.tensor(value, dtype=gpujit.float64 if isinstance(value, float)
                          else gpujit.int64)
        with pytest.raises(RuntimeError, match=msg):
            x.index_fill(0, i, v)


def test_index_fill_int64_with_two_to_the_63_as_float_converts():
    # c10 compares in double, where int64's max is 2.0 ** 63: it passes, and converts
    # to -2 ** 63 (torch 2.13); 2.0 ** 64 overflows
    x = gpujit.tensor([1, 2, 3])
    i = gpujit.tensor([0])
    assert x.index_fill(0, i, 2.0 ** 63).tolist() == [-2 ** 63, 2, 3]
    assert x.index_fill(0, i, gpujit.tensor(2.0 ** 63, dtype=gpujit.float64)).tolist() == \
        [-2 ** 63, 2, 3]
    with pytest.raises(RuntimeError, match="^value cannot be converted to type int64_t "
                                           "without overflow$"):
        x.index_fill(0, i, gpujit.tensor(2.0 ** 64, dtype=gpujit.float64))


def test_index_fill_values_torch_converts():
    i = gpujit.tensor([0])
    assert gpujit.tensor([1, 2, 3], dtype=gpujit.uint8).index_fill(0, i, -1).tolist() == \
        [255, 2, 3]
    assert gpujit.tensor([1, 2, 3], dtype=gpujit.int8).index_fill(0, i, 2.7).tolist() == \
        [2, 2, 3]
    assert gpujit.tensor([1, 2, 3], dtype=gpujit.int8).index_fill(
        0, i, gpujit.tensor(2.7, dtype=gpujit.float64)).tolist() == [2, 2, 3]
    assert gpujit.tensor([True, False]).index_fill(0, gpujit.tensor([1]), 2).tolist() == \
        [True, True]
    assert gpujit.tensor([1., 2.], dtype=gpujit.float16).index_fill(
        0, i, gpujit.tensor(1 / 3, dtype=gpujit.float64)).tolist() == [0.333251953125, 2.0]


def _nll_words(fn):
    return (f"^The function '{fn}' is not differentiable with respect to argument 'weight'. "
            f"This input cannot have requires_grad True.$")


@pytest.mark.parametrize("shape,fn", [((4, 3), "nll_loss_forward"),
                                      ((3,), "nll_loss_forward"),
                                      ((2, 3, 5), "nll_loss2d_forward"),
                                      ((2, 3, 2, 2), "nll_loss2d_forward")])
def test_nll_loss_weight_requiring_grad_is_refused(shape, fn):
    F = gpujit.nn.functional
    w = gpujit.ones(3, requires_grad=True)
    x = gpujit.zeros(*shape, requires_grad=True)
    t = gpujit.zeros((shape[0],) + shape[2:] if len(shape) > 1 else (), dtype=gpujit.int64)
    for call in (lambda: F.nll_loss(x, t, weight=w),
                 lambda: F.cross_entropy(x, t, weight=w),
                 lambda: F.cross_entropy(x, t, weight=w, label_smoothing=0.1),
                 lambda: F.nll_loss(x.detach(), t, weight=w, reduction="none"),
                 lambda: gpujit.nn.NLLLoss(weight=w)(x, t),
                 lambda: gpujit.nn.CrossEntropyLoss(weight=w)(x, t)):
        with pytest.raises(RuntimeError, match=_nll_words(fn)):
            call()
    with gpujit.no_grad():
        F.nll_loss(x, t, weight=w)
    F.nll_loss(x, t, weight=w.detach()).backward()


def _ce_program(x, t, w):
    return gpujit.nn.functional.cross_entropy(x, t, weight=w)


def test_nll_loss_weight_refusal_scripted_and_its_order():
    F = gpujit.nn.functional
    w = gpujit.ones(3, requires_grad=True)
    x = gpujit.zeros(4, 3, requires_grad=True)
    t = gpujit.tensor([0, 1, 2, 1])
    s = gpujit.jit.script(_ce_program)
    for _ in range(2):
        with pytest.raises(RuntimeError, match=_nll_words("nll_loss_forward")[1:]):
            s(x, t, w)
    # the batch-size check comes first; a weight of the wrong size is refused first
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target "
                                         r"batch_size \(5\)"):
        F.nll_loss(x, gpujit.zeros(5, dtype=gpujit.int64), weight=w)
    with pytest.raises(RuntimeError, match=_nll_words("nll_loss_forward")):
        F.nll_loss(x, t, weight=gpujit.ones(4, requires_grad=True))
    # class-probability targets differentiate the weight (torch 2.13)
    p = gpujit.full((4, 3), 1 / 3)
    F.cross_entropy(x, p, weight=w).backward()
    assert w.grad is not None and w.grad.shape == (3,)


# ------------------------------------------------------------------ 3. result dtypes

def test_bincount_of_an_empty_input_is_int64_zeros_as_torch():
    e = gpujit.tensor([], dtype=gpujit.int64)
    r = gpujit.bincount(e, gpujit.tensor([], dtype=gpujit.float64))
    assert r.dtype == gpujit.int64 and r.tolist() == []
    # (the weights' size is not checked for an empty input: torch 2.13)
    r = gpujit.bincount(e, gpujit.tensor([1.], dtype=gpujit.float32), minlength=2)
    assert r.dtype == gpujit.int64 and r.tolist() == [0, 0]
    r = gpujit.bincount(gpujit.tensor([1, 1]), gpujit.tensor([0.5, 1.]))
    assert r.dtype == gpujit.float32 and r.tolist() == [0.0, 1.5]


def _bincount_program(x, w):
    return gpujit.bincount(x, w, 3)


def test_scripted_result_keeps_its_arrays_dtype_past_the_profiled_one():
    # the specialization profiled with an empty input (int64 result) runs for a non-empty
    # one (the guards check dtype, device and rank): its float32 result is float32, as
    # eager's and torch's, not labelled int64
    s = gpujit.jit.script(_bincount_program)
    e = gpujit.tensor([], dtype=gpujit.int64)
    w0 = gpujit.tensor([], dtype=gpujit.float32)
    for _ in range(3):
        r = s(e, w0)
        assert r.dtype == gpujit.int64 and r.tolist() == [0, 0, 0]
    for _ in range(2):
        r = s(gpujit.tensor([0, 2]), gpujit.tensor([1., 2.]))
        assert r.dtype == gpujit.float32 and r.numpy().dtype == np.float32
        assert r.tolist() == [1.0, 0.0, 2.0]


def _bce_program(x, y, w):
    return gpujit.nn.functional.binary_cross_entropy(x, y, weight=w)


@pytest.mark.parametrize("fn,arg,call", [
    ("binary_cross_entropy", "weight",
     lambda F, x, y, w: F.binary_cross_entropy(x, y, weight=w)),
    ("binary_cross_entropy", "weight",
     lambda F, x, y, w: F.binary_cross_entropy(x, y, weight=w, reduction="none")),
    ("binary_cross_entropy_with_logits", "weight",
     lambda F, x, y, w: F.binary_cross_entropy_with_logits(x, y, weight=w)),
    ("binary_cross_entropy_with_logits", "pos_weight",
     lambda F, x, y, w: F.binary_cross_entropy_with_logits(x, y, pos_weight=w)),
    ("multi_margin_loss", "weight",
     lambda F, x, y, w: F.multi_margin_loss(x, gpujit.tensor([0, 1, 2, 1]), weight=w))])
def test_loss_weights_requiring_grad_are_refused(fn, arg, call):
    F = gpujit.nn.functional
    x = gpujit.full((4, 3), 0.25, requires_grad=True)
    y = gpujit.full((4, 3), 0.5)
    w = gpujit.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"^The function '{fn}' is not differentiable "
                       f"with respect to argument '{arg}'. This input cannot have "
                       f"requires_grad True.$"):
        call(F, x, y, w)
    with gpujit.no_grad():
        call(F, x, y, w)
    call(F, x, y, w.detach()).sum().backward()
    assert x.grad is not None


def test_bce_weight_refusal_scripted():
    s = gpujit.jit.script(_bce_program)
    x = gpujit.full((4, 3), 0.25, requires_grad=True)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="'binary_cross_entropy' is not "
                                               "differentiable with respect to argument"):
            s(x, gpujit.full((4, 3), 0.5), gpujit.ones(3, requires_grad=True))
