"""Autograd saves what PyTorch saves (session 25, helper c25): ops that PyTorch writes as
composites of decompositions or products keep what those save (the eigenvectors, the
singular vectors, the inverse, the sorted values, partial products), not the input, so
writing the input in place after the op is no error at backward where PyTorch answers,
and the gradient is the one without the write. An operand a needed gradient does read
still fails the version check, and an op whose output PyTorch saves fails it when that
output is written."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit

_rng = np.random.default_rng(25)
MODIFIED = "modified by an inplace operation"
F = gpujit.nn.functional


def _rand(*shape, low=-1.0, high=1.0):
    return _rng.uniform(low, high, shape)


def _grads(fn, arrays, i, write, others=False):
    """Gradients of sum(out * w) w.r.t. the float64 inputs (`arrays`; None entries pass
    through), input i entering as a non-leaf `x * 1` that is written (add_(1)) after the
    op when `write`; the other inputs require grad when `others` (True: all; a set: those
    indices)."""
    def req(j):
        return j == i or others is True or (isinstance(others, set) and j in others)
    xs = [None if a is None else gpujit.tensor(np.asarray(a, dtype=np.float64),
                                               requires_grad=req(j))
          for j, a in enumerate(arrays)]
    ys = [x * 1 if j == i else x for j, x in enumerate(xs)]
    out = fn(*ys)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    loss = 0
    for k, o in enumerate(outs):
        if isinstance(o, gpujit.Tensor) and o.requires_grad:
            w = np.linspace(0.5, 1.5, max(o.numel(), 1)).reshape(tuple(o.shape)) + k
            loss = loss + (o * gpujit.tensor(w)).sum()
    if write:
        ys[i].add_(1)
    loss.backward()
    return [None if x is None or x.grad is None else x.grad.numpy().copy() for x in xs]


def _check_write_ok(fn, arrays, i, others=False):
    want = _grads(fn, arrays, i, False, others)
    got = _grads(fn, arrays, i, True, others)
    assert len(want) == len(got)
    for a, b in zip(want, got):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    return want


def _check_write_raises(fn, arrays, i, others=False):
    with pytest.raises(RuntimeError, match=MODIFIED):
        _grads(fn, arrays, i, True, others)


def _sym(n):
    a = _rand(n, n)
    return a + a.T


# ---------------------------------------------------------------- spectral: the vectors

LA = gpujit.linalg
SPECTRAL = [
    ("eigvalsh", lambda a: LA.eigvalsh(a), lambda: _sym(4)),
    ("eigvalsh_U_batched", lambda a: LA.eigvalsh(a, UPLO="U"),
     lambda: np.stack([_sym(3), _sym(3)])),
    ("svdvals_wide", lambda a: LA.svdvals(a), lambda: _rand(3, 5)),
    ("svdvals_tall_batched", lambda a: LA.svdvals(a), lambda: _rand(2, 5, 3)),
    ("matrix_norm_nuc", lambda a: LA.matrix_norm(a, "nuc"), lambda: _rand(3, 4)),
    ("matrix_norm_nuc_dims", lambda a: LA.matrix_norm(a, "nuc", dim=(0, 2), keepdim=True),
     lambda: _rand(3, 2, 4)),
    ("matrix_norm_2", lambda a: LA.matrix_norm(a, 2), lambda: _rand(2, 3, 4)),
    ("matrix_norm_-2", lambda a: LA.matrix_norm(a, -2, dim=(1, 0)), lambda: _rand(4, 3)),
    ("norm_2", lambda a: LA.norm(a, 2), lambda: _rand(3, 4)),
    ("norm_nuc", lambda a: LA.norm(a, "nuc", dim=(-1, -2)), lambda: _rand(2, 3, 3)),
    ("torch_norm_nuc", lambda a: gpujit.norm(a, "nuc"), lambda: _rand(4, 3)),
    ("tensor_norm_nuc", lambda a: a.norm(p="nuc", dim=(0, 1)), lambda: _rand(3, 3, 2)),
]


@pytest.mark.parametrize("name,fn,make", SPECTRAL, ids=[c[0] for c in SPECTRAL])
def test_spectral_ops_keep_the_decomposition(name, fn, make):
    _check_write_ok(fn, [make()], 0)


def _svd_grad_ref(a, gS):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * gS) @ vh


def test_spectral_gradients_match_the_decomposition():
    a = _rand(3, 5)
    (g,) = _grads(lambda x: LA.svdvals(x), [a], 0, True)
    np.testing.assert_allclose(g, _svd_grad_ref(a, np.linspace(0.5, 1.5, 3)), atol=1e-12)
    (g,) = _grads(lambda x: LA.matrix_norm(x, "nuc"), [a], 0, True)
    np.testing.assert_allclose(g, _svd_grad_ref(a, np.full(3, 0.5)), atol=1e-12)
    (g,) = _grads(lambda x: LA.matrix_norm(x, 2), [a], 0, True)
    np.testing.assert_allclose(g, _svd_grad_ref(a, [0.5, 0, 0]), atol=1e-12)
    (g,) = _grads(lambda x: LA.matrix_norm(x, -2), [a], 0, True)
    np.testing.assert_allclose(g, _svd_grad_ref(a, [0, 0, 0.5]), atol=1e-12)
    s = _sym(4)
    (g,) = _grads(lambda x: LA.eigvalsh(x), [s], 0, True)
    w, v = np.linalg.eigh(s)
    np.testing.assert_allclose(g, (v * np.linspace(0.5, 1.5, 4)) @ v.T, atol=1e-12)


def test_spectral_norm_shares_the_gradient_among_tied_singular_values():
    # PyTorch's amax / amin of svdvals: an even share for each tied extreme
    x = gpujit.tensor(np.diag([2.0, 2.0, 1.0]), requires_grad=True)
    LA.matrix_norm(x, 2).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.diag([0.5, 0.5, 0.0]), atol=1e-12)
    x = gpujit.tensor(np.diag([2.0, 1.0, 1.0]), requires_grad=True)
    LA.norm(x, -2).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.diag([0.0, 0.5, 0.5]), atol=1e-12)


def test_spectral_double_backward_goes_through_the_decomposition():
    a = gpujit.tensor(_sym(3), requires_grad=True)
    assert gpujit.autograd.gradgradcheck(lambda x: LA.eigvalsh(x + x.mT), [a])
    b = gpujit.tensor(_rand(3, 4), requires_grad=True)
    assert gpujit.autograd.gradgradcheck(lambda x: LA.svdvals(x), [b])
    assert gpujit.autograd.gradgradcheck(lambda x: LA.matrix_norm(x, "nuc"), [b])


def test_norms_that_read_the_input_still_check_it():
    a = _rand(3, 4)
    for fn in (lambda x: LA.matrix_norm(x), lambda x: LA.matrix_norm(x, 1),
               lambda x: LA.norm(x, float("inf")), lambda x: LA.norm(x),
               lambda x: gpujit.norm(x, "fro")):
        _check_write_raises(fn, [a], 0)


# ---------------------------------------------------------------- matrix_power

@pytest.mark.parametrize("n", [0, 1, -1, -2, -3])
def test_matrix_power_keeps_the_inverse_or_nothing(n):
    a = _rand(2, 3, 3) + 3 * np.eye(3)
    (g,) = _check_write_ok(lambda x: LA.matrix_power(x, n), [a], 0)
    if n == 0:
        np.testing.assert_array_equal(g, 0)
    if n == -1:
        inv = np.linalg.inv(a)
        w = np.linspace(0.5, 1.5, 18).reshape(2, 3, 3)
        np.testing.assert_allclose(g, -np.swapaxes(inv, -1, -2) @ w @ np.swapaxes(inv, -1, -2),
                                   atol=1e-12)


def test_matrix_power_of_a_product_still_checks_the_input():
    _check_write_raises(lambda x: LA.matrix_power(x, 2), [_rand(3, 3)], 0)
    _check_write_raises(lambda x: x.matrix_power(5), [_rand(3, 3)], 0)


# ---------------------------------------------------------------- quantile, msort: the order

QUANTILE = [
    ("quantile", lambda a: a.quantile(0.3, 1), [(3, 4)]),
    ("quantile_all_keepdim", lambda a: gpujit.quantile(a, 0.7, keepdim=True), [(3, 4)]),
    ("quantile_lower", lambda a: a.quantile(0.4, 0, interpolation="lower"), [(3, 4)]),
    ("quantile_midpoint", lambda a: a.quantile(0.4, -1, True, interpolation="midpoint"),
     [(2, 3, 4)]),
    ("nanquantile", lambda a: a.nanquantile(0.6, 0), [(4, 3)]),
    ("quantile_tensor_q", lambda a, q: a.quantile(q, 1), [(3, 5), (2,)]),
    ("nanquantile_tensor_q", lambda a, q: gpujit.nanquantile(a, q), [(3, 5), (3,)]),
    ("msort", lambda a: a.msort(), [(4, 3)]),
    ("msort_1d", lambda a: gpujit.msort(a), [(5,)]),
]


@pytest.mark.parametrize("others", [False, True])
@pytest.mark.parametrize("name,fn,shapes", QUANTILE, ids=[c[0] for c in QUANTILE])
def test_sorting_reductions_keep_the_order_not_the_input(name, fn, shapes, others):
    arrays = [_rand(*s) for s in shapes]
    if len(arrays) > 1:
        arrays[1] = np.sort(_rand(*shapes[1], low=0, high=1))
    for i in range(len(arrays)):
        _check_write_ok(fn, arrays, i, others)


def test_quantile_gradient_is_numpys_interpolation_weights():
    a = _rand(3, 5)
    (g,) = _grads(lambda x: x.quantile(0.3, 1), [a], 0, True)
    want = np.zeros_like(a)
    for r in range(3):
        order = np.argsort(a[r])
        rank = 0.3 * 4
        lo = int(np.floor(rank))
        want[r, order[lo]] += (1 - (rank - lo)) * [0.5, 1.0, 1.5][r]
        want[r, order[lo + 1]] += (rank - lo) * [0.5, 1.0, 1.5][r]
    np.testing.assert_allclose(g, want, atol=1e-12)
    (g,) = _grads(lambda x: x.msort(), [a], 0, True)
    w = np.linspace(0.5, 1.5, 15).reshape(3, 5)
    want = np.zeros_like(a)
    order = np.argsort(a, 0)
    np.put_along_axis(want, order, w, 0)
    np.testing.assert_allclose(g, want, atol=1e-12)


def test_quantile_q_gets_no_gradient_from_a_row_with_nan():
    # PyTorch masks the ranks of a row holding a NaN (quantile) or only NaNs (nanquantile)
    a = _rand(3, 5)
    a[1, 2] = np.nan
    a[2, :] = np.nan
    for name in ("quantile", "nanquantile"):
        x = gpujit.tensor(a, requires_grad=True)
        q = gpujit.tensor([0.2, 0.7], dtype=gpujit.float64, requires_grad=True)
        out = getattr(x, name)(q, 1)
        out.nan_to_num(0.0).sum().backward()
        rows = [0] if name == "quantile" else [0, 1]
        want = np.zeros(2)
        for r in rows:
            v = np.sort(a[r][~np.isnan(a[r])])
            k = len(v) - 1
            want += [(v[int(np.ceil(p * k))] - v[int(np.floor(p * k))]) * k
                            for p in (0.2, 0.7)]
        assert np.isfinite(q.grad.numpy()).all()
        np.testing.assert_allclose(q.grad.numpy(), want, atol=1e-12)


# ---------------------------------------------------------------- multi_dot: PyTorch's order

MULTI_DOT = [
    # (name, shapes, the order PyTorch's multi_dot picks)
    ("two", [(3, 4), (4, 2)], "(AB)"),
    ("three_left", [(2, 5), (5, 4), (4, 6)], "(AB)C"),
    ("three_right", [(6, 4), (4, 5), (5, 2)], "A(BC)"),
    ("vec_ends", [(4,), (4, 3), (3, 5), (5,)], None),
    ("five", [(3, 5), (5, 2), (2, 6), (6, 4), (4, 3)], None),
]


@pytest.mark.parametrize("name,shapes,order", MULTI_DOT, ids=[c[0] for c in MULTI_DOT])
def test_multi_dot_keeps_what_its_chain_of_products_keeps(name, shapes, order):
    """An operand is kept only for the gradient of the factor it multiplies in PyTorch's
    chain order: with only that operand needing a gradient, writing it is no error; the
    gradients equal the product rule's."""
    arrays = [_rand(*s) for s in shapes]
    for i in range(len(shapes)):
        _check_write_ok(lambda *xs: LA.multi_dot(list(xs)), arrays, i)
    # NumPy reference: grad_i = (prefix)^T G (suffix)^T
    xs = [gpujit.tensor(a, requires_grad=True) for a in arrays]
    out = LA.multi_dot(xs)
    w = np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape))
    (out * gpujit.tensor(w)).sum().backward()
    mats = [a for a in arrays]
    if mats[0].ndim == 1:
        mats[0] = mats[0][None]
    if mats[-1].ndim == 1:
        mats[-1] = mats[-1][:, None]
    W = w.reshape(mats[0].shape[0], mats[-1].shape[1])
    for i, x in enumerate(xs):
        left = np.linalg.multi_dot(mats[:i]) if i > 1 else (mats[0] if i == 1 else None)
        right = (np.linalg.multi_dot(mats[i + 1:]) if len(mats) - i > 2 else
                 (mats[-1] if i == len(mats) - 2 else None))
        gi = W if left is None else left.T @ W
        gi = gi if right is None else gi @ right.T
        np.testing.assert_allclose(x.grad.numpy(), gi.reshape(arrays[i].shape), atol=1e-12)


def test_multi_dot_partial_products_not_operands_are_kept():
    # (AB)C with only C needing a gradient keeps the product AB: A and B may be written
    # (they do not require grad here: C's gradient reads their product alone)
    A, B, C = _rand(2, 5), _rand(5, 4), _rand(4, 6)
    for i in (0, 1):
        _check_write_ok(lambda a, b, c: LA.multi_dot([a, b, c]), [A, B, C], i, {2})
    # A(BC) with only A: BC kept
    A, B, C = _rand(6, 4), _rand(4, 5), _rand(5, 2)
    for i in (1, 2):
        _check_write_ok(lambda a, b, c: LA.multi_dot([a, b, c]), [A, B, C], i, {0})
    _check_write_ok(lambda a, b, c: gpujit.chain_matmul(a, b, c), [A, B, C], 1, {0})


def test_multi_dot_still_checks_the_factor_a_needed_gradient_reads():
    A, B, C = _rand(2, 5), _rand(5, 4), _rand(4, 6)
    fn = lambda a, b, c: LA.multi_dot([a, b, c])            # noqa: E731  ((AB)C)
    _check_write_raises(fn, [A, B, C], 0, {1})      # B's gradient reads A
    _check_write_raises(fn, [A, B, C], 2, {0})      # AB's (so A's) reads C
    _check_write_raises(fn, [A, B, C], 2, True)
    _check_write_raises(lambda a, b: gpujit.chain_matmul(a, b), [A, B], 1, True)


# ---------------------------------------------------------------- gradient: coordinates

def _np_gradient_coords(f, x, axis, edge_order):
    return np.gradient(f, x, axis=axis, edge_order=edge_order)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_with_coordinates_keeps_what_its_formulas_keep(edge_order):
    """torch.gradient with coordinate tensors is PyTorch's composite: the coefficients it
    makes from the coordinates are kept, not the coordinates, and the input only where a
    coordinate needs a gradient (its coefficient's gradient reads the input)."""
    f, c0, c1 = _rand(4, 5), np.array([0.0, 1.0, 2.5, 4.0]), np.array([0.0, 0.5, 1, 3, 3.5])
    both = lambda a, x, y: gpujit.gradient(a, spacing=(x, y), edge_order=edge_order)  # noqa
    one = lambda a, x, y: gpujit.gradient(a, spacing=[y], dim=1, edge_order=edge_order)  # noqa
    for fn in (both, one):
        _check_write_ok(fn, [f, c0, c1], 0)                 # the input, only it needing grad
        _check_write_ok(fn, [f, c0, c1], 1, True)           # a coordinate tensor
        _check_write_ok(fn, [f, c0, c1], 2, True)
    # the values: NumPy's gradient with coordinates
    x = gpujit.tensor(f, requires_grad=True)
    outs = gpujit.gradient(x, spacing=(gpujit.tensor(c0), gpujit.tensor(c1)),
                           edge_order=edge_order)
    for ax, (o, c) in enumerate(zip(outs, (c0, c1))):
        np.testing.assert_allclose(o.detach().numpy(), _np_gradient_coords(f, c, ax, edge_order),
                                   atol=1e-12)
    # the input's gradient: the transposed stencil, checked by finite differences
    c = gpujit.tensor(c0, requires_grad=True)
    assert gpujit.autograd.gradcheck(
        lambda a, s: gpujit.gradient(a, spacing=(s,), dim=0, edge_order=edge_order)[0],
        [gpujit.tensor(f, requires_grad=True), c])


def test_gradient_still_checks_the_input_a_coordinate_gradient_reads():
    f, c0 = _rand(4, 3), np.array([0.0, 1.0, 2.5, 4.0])
    fn = lambda a, x: gpujit.gradient(a, spacing=(x,), dim=0)      # noqa: E731
    _check_write_raises(fn, [f, c0], 0, True)


# ---------------------------------------------------------------- einsum: the contraction tree

def _np_einsum_grads(eq, arrays, w):
    """Each operand's gradient of sum(einsum(eq) * w), by finite... exactly: einsum of w
    with the other operands (linear in each operand)."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            e = np.zeros_like(a)
            e[idx] = 1
            ops = [e if j == i else b for j, b in enumerate(arrays)]
            g[idx] = (np.einsum(eq, *ops) * w).sum()
        grads.append(g)
    return grads


EINSUM_WRITE_OK = [
    # (equation, shapes, written operand, the others requiring grad)
    # left to right: ((A B) C): C's gradient reads the product AB, not A or B
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], 0, {2}),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], 1, {2}),
    ("bij,bjk,bkl,blm->bim", [(2, 2, 3), (2, 3, 2), (2, 2, 3), (2, 3, 2)], 1, {3}),
    # a dim only one operand has is summed out first: the sum is kept, not the operand
    ("ijk,jl->il", [(2, 3, 4), (3, 5)], 0, {1}),
    ("ij,jk->", [(2, 3), (3, 4)], 0, {1}),
    ("ij,kj,k->i", [(3, 4), (1, 4), (2,)], 2, {0, 1}),
    # a reshape that must copy (C's dims in the wrong order for the product) keeps the copy
    ("ij,jk,ki->", [(2, 3), (3, 4), (4, 2)], 2, {0, 1}),
    ("ii,i->i", [(3, 3), (3,)], 1, set()),
    ("ij->", [(2, 3)], 0, set()),
]


@pytest.mark.parametrize("eq,shapes,i,others", EINSUM_WRITE_OK,
                         ids=[f"{c[0]}-{c[2]}-{sorted(c[3])}" for c in EINSUM_WRITE_OK])
def test_einsum_keeps_what_its_pairwise_contractions_keep(eq, shapes, i, others):
    arrays = [_rand(*s) for s in shapes]
    fn = lambda *xs: gpujit.einsum(eq, *xs)      # noqa: E731
    want = _check_write_ok(fn, arrays, i, others)
    out = np.einsum(eq, *arrays)
    w = np.linspace(0.5, 1.5, max(out.size, 1)).reshape(out.shape)
    ref = _np_einsum_grads(eq, arrays, w)
    for j, g in enumerate(want):
        if j == i or j in others:
            np.testing.assert_allclose(g, ref[j], atol=1e-12)
        else:
            assert g is None


EINSUM_WRITE_RAISES = [
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], 0, {1}),      # B's gradient reads A
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], 2, {0}),      # AB's reads C
    ("ij,jk->ik", [(2, 3), (3, 4)], 1, {0}),
    ("ij,ij->ij", [(2, 3), (2, 3)], 0, {1}),                  # mul keeps views
    ("ii,i->i", [(3, 3), (3,)], 0, {1}),                       # a diagonal is a view
]


@pytest.mark.parametrize("eq,shapes,i,others", EINSUM_WRITE_RAISES,
                         ids=[f"{c[0]}-{c[2]}-{sorted(c[3])}" for c in EINSUM_WRITE_RAISES])
def test_einsum_still_checks_the_operand_a_needed_gradient_reads(eq, shapes, i, others):
    _check_write_raises(lambda *xs: gpujit.einsum(eq, *xs), [_rand(*s) for s in shapes], i,
                        others)


def test_einsum_with_a_path_contracts_in_its_order():
    # path (0, 1), (0, 1) over A, B, C, D: AB, then CD (the product goes last), then both:
    # D's gradient reads C and the product AB, so writing A or B (not needing one) is fine
    A, B, C, D = _rand(2, 3), _rand(3, 4), _rand(4, 5), _rand(5, 2)
    fn = lambda a, b, c, d: gpujit.ops.aten.einsum("ij,jk,kl,lm->im", [a, b, c, d],  # noqa
                                                     path=[0, 1, 0, 1, 0, 1])
    _check_write_ok(fn, [A, B, C, D], 0, {3})
    _check_write_ok(fn, [A, B, C, D], 1, {3})
    _check_write_raises(fn, [A, B, C, D], 2, {3})
    # the left-to-right default: ((AB)C)D keeps ABC for D, not C
    fn2 = lambda a, b, c, d: gpujit.einsum("ij,jk,kl,lm->im", a, b, c, d)  # noqa: E731
    _check_write_ok(fn2, [A, B, C, D], 2, {3})


def test_einsum_double_backward():
    a, b, c = (gpujit.tensor(_rand(*s), requires_grad=True) for s in [(2, 3), (3, 3), (3, 2)])
    assert gpujit.autograd.gradgradcheck(lambda x, y, z: gpujit.einsum("ij,jj,kl->ik", x, y, z),
                                         [a, b, c])
    assert gpujit.autograd.gradgradcheck(lambda x, y, z: gpujit.einsum("ij,jk,kl->il", x, y, z),
                                         [a, b, c])


# ---------------------------------------------------------------- found by the OpInfo sweep

SWEEP_WRITE_OK = [
    # as_strided keeps its input's geometry (PyTorch's TensorGeometry), not the input
    ("as_strided", lambda a: gpujit.as_strided(a, (2, 2), (1, 4), 1), [(3, 4)], 0, False),
    ("as_strided_overlap", lambda a: a.as_strided((3, 3), (1, 1), 2), [(10,)], 0, False),
    ("as_strided_copy", lambda a: gpujit.as_strided_copy(a, (3,), (4,)), [(3, 4)], 0, False),
    # the deprecated nuclear_norm is matrix_norm 'nuc': it keeps the SVD
    ("nuclear_norm", lambda a: gpujit.nuclear_norm(a), [(3, 4)], 0, False),
    ("nuclear_norm_dim", lambda a: gpujit.nuclear_norm(a, [0, 1], True), [(3, 4, 2)], 0,
     False),
    # batch_norm's backward reads no bias
    ("batch_norm_bias_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
     [(3, 2, 4), (2,), (2,)], 2, True),
    ("batch_norm_bias_eval",
     lambda x, w, b: F.batch_norm(x, gpujit.zeros(2, dtype=gpujit.float64),
                                  gpujit.ones(2, dtype=gpujit.float64), w, b, False),
     [(3, 2, 4), (2,), (2,)], 2, True),
    # instance_norm is batch_norm with the weight and bias repeated: a copy of the
    # weight is kept, and no bias
    ("instance_norm_weight", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
     [(2, 3, 4), (3,), (3,)], 1, True),
    ("instance_norm_bias", lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
     [(2, 3, 4), (3,), (3,)], 2, True),
    ("instance_norm_running",
     lambda x, w, b: F.instance_norm(x, gpujit.zeros(3, dtype=gpujit.float64),
                                     gpujit.ones(3, dtype=gpujit.float64), w, b,
                                     use_input_stats=False),
     [(2, 3, 4), (3,), (3,)], 1, True),
]


@pytest.mark.parametrize("name,fn,shapes,i,others", SWEEP_WRITE_OK,
                         ids=[c[0] for c in SWEEP_WRITE_OK])
def test_sweep_ops_keep_what_pytorch_keeps(name, fn, shapes, i, others):
    _check_write_ok(fn, [_rand(*s) for s in shapes], i, others)
    if not others:
        _check_write_ok(fn, [_rand(*s) for s in shapes], i, True)


def test_as_strided_gradient_scatters_to_the_storage_it_read():
    a = _rand(3, 4)
    (g,) = _grads(lambda x: gpujit.as_strided(x, (2, 2), (1, 4), 1), [a], 0, True)
    want = np.zeros(12)
    w = np.linspace(0.5, 1.5, 4).reshape(2, 2)
    for r in range(2):
        for c in range(2):
            want[1 + r + 4 * c] += w[r, c]
    np.testing.assert_allclose(g, want.reshape(3, 4), atol=1e-12)


def test_norm_layers_still_check_what_their_gradients_read():
    arrays = [_rand(3, 2, 4), _rand(2), _rand(2)]
    bn = lambda x, w, b: F.batch_norm(x, None, None, w, b, True)      # noqa: E731
    _check_write_raises(bn, arrays, 1, True)        # the input's gradient reads the weight
    _check_write_raises(bn, arrays, 0, True)
    arrays = [_rand(2, 3, 4), _rand(3), _rand(3)]
    inn = lambda x, w, b: F.instance_norm(x, weight=w, bias=b)        # noqa: E731
    _check_write_raises(inn, arrays, 0, True)


# ---------------------------------------------------------------- writing an op's output

def _write_output_grads(fn, arrays, k, write):
    """Gradients of sum(outs * w) w.r.t. the inputs (all requiring grad), output k
    multiplied by 2 after the op: in place when `write`, else out of place."""
    xs = [gpujit.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    if write:
        outs[k].mul_(2)
    else:
        outs[k] = outs[k] * 2
    loss = 0
    for j, o in enumerate(outs):
        if isinstance(o, gpujit.Tensor) and o.requires_grad:
            w = np.linspace(0.5, 1.5, max(o.numel(), 1)).reshape(tuple(o.shape)) + j
            loss = loss + (o * gpujit.tensor(w)).sum()
    loss.backward()
    return [x.grad.numpy().copy() for x in xs]


def _pd(n):
    a = _rand(n, n)
    return a @ a.T + n * np.eye(n)


OUTPUT_READ = [
    # (name, fn, arrays, output written): the derivative reads that output, as PyTorch's
    ("eigh_values", lambda a: LA.eigh(a), lambda: [_sym(3)], 0),
    ("eigh_vectors", lambda a: LA.eigh(a), lambda: [_sym(3)], 1),
    ("svd_S", lambda a: LA.svd(a, full_matrices=False), lambda: [_rand(4, 3)], 1),
    ("svd_U", lambda a: gpujit.svd(a), lambda: [_rand(4, 3)], 0),
    ("qr_R", lambda a: LA.qr(a), lambda: [_rand(4, 3)], 1),
    ("lu_U", lambda a: LA.lu(a), lambda: [_rand(3, 3)], 2),
    ("lu_factor", lambda a: LA.lu_factor(a), lambda: [_rand(3, 3)], 0),
    ("inv_ex", lambda a: LA.inv_ex(a), lambda: [_pd(3)], 0),
    ("cholesky_ex", lambda a: LA.cholesky_ex(a), lambda: [_pd(3)], 0),
    ("solve_ex", lambda a, b: LA.solve_ex(a, b), lambda: [_pd(3), _rand(3)], 0),
    ("std_mean", lambda a: gpujit.std_mean(a, 1), lambda: [_rand(3, 4)], 0),
    ("aminmax_min", lambda a: gpujit.aminmax(a, dim=0), lambda: [_rand(3, 4)], 0),
    ("aminmax_max", lambda a: gpujit.aminmax(a), lambda: [_rand(3, 4)], 1),
    # the decomposition's values / the inverse, kept as PyTorch keeps them
    ("eigvalsh", lambda a: LA.eigvalsh(a), lambda: [_sym(3)], 0),
    ("svdvals", lambda a: LA.svdvals(a), lambda: [_rand(3, 4)], 0),
    ("matrix_power_-1", lambda a: LA.matrix_power(a, -1), lambda: [_pd(3)], 0),
]


@pytest.mark.parametrize("name,fn,make,k", OUTPUT_READ, ids=[c[0] for c in OUTPUT_READ])
def test_writing_an_output_the_backward_reads_raises(name, fn, make, k):
    """An op of several outputs whose backward reads output k: writing that output in
    place before backward raises PyTorch's error (it silently gave a gradient computed
    from the written value)."""
    with pytest.raises(RuntimeError, match=MODIFIED):
        _write_output_grads(fn, make(), k, True)


OUTPUT_NOT_READ = [
    # PyTorch keeps sort's / max's indices, not their values
    ("sort_values", lambda a: a.sort(1), lambda: [_rand(3, 4)], 0),
    ("max_dim_values", lambda a: a.max(0), lambda: [_rand(3, 4)], 0),
    ("topk_values", lambda a: a.topk(2), lambda: [_rand(3, 4)], 0),
    ("frexp_mantissa", lambda a: gpujit.frexp(a), lambda: [_rand(3, 4)], 0),
    ("matrix_power_-2", lambda a: LA.matrix_power(a, -2), lambda: [_pd(3)], 0),
    # lstsq reads only the residuals' shape; logdet's output is a where() of slogdet's
    ("lstsq_residuals", lambda a, b: LA.lstsq(a, b, driver="gelsd"),
     lambda: [_rand(6, 3), _rand(6, 2)], 1),
    ("logdet", lambda a: gpujit.logdet(a), lambda: [_pd(3)], 0),
    # outputs no formula reads: the nuclear norm is a sum, cosine_similarity's and
    # nll_loss's backward read their inputs
    ("matrix_norm_nuc", lambda a: LA.matrix_norm(a, "nuc"), lambda: [_rand(3, 4)], 0),
    ("norm_nuc", lambda a: LA.norm(a, "nuc"), lambda: [_rand(3, 4)], 0),
    ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b), lambda: [_rand(3, 4),
                                                                           _rand(3, 4)], 0),
    ("nll_loss_none",
     lambda a: F.nll_loss(a, gpujit.tensor([0, 2, 1]), reduction="none"),
     lambda: [_rand(3, 4)], 0),
    ("cross_entropy_probs_weight",
     lambda a, t, w: F.cross_entropy(a, t, w, reduction="sum", label_smoothing=0.1),
     lambda: [_rand(3, 4), _rand(3, 4, low=0, high=1), _rand(4, low=0.5, high=1.5)], 0),
]


@pytest.mark.parametrize("name,fn,make,k", OUTPUT_NOT_READ,
                         ids=[c[0] for c in OUTPUT_NOT_READ])
def test_writing_an_output_the_backward_does_not_read(name, fn, make, k):
    arrays = make()
    got = _write_output_grads(fn, arrays, k, True)
    want = _write_output_grads(fn, arrays, k, False)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_saved_outputs_are_freed_after_backward():
    # a node keeping its outputs counts as having saved tensors: a second backward raises
    x = gpujit.tensor(_sym(3), requires_grad=True)
    L, V = LA.eigh(x)
    loss = L.sum() + V.sum()
    loss.backward(retain_graph=True)
    loss.backward()
    loss = sum(o.sum() for o in LA.eigh(x))
    loss.backward()
    with pytest.raises(RuntimeError, match="a second time"):
        loss.backward()


def test_logdet_of_a_negative_determinant_gets_no_gradient():
    # PyTorch's where(sign == -1, nan, logabsdet): the NaN's gradient is 0, the others
    # are A^-T
    a = np.stack([np.diag([-1.0, 2.0]), _pd(2)])
    x = gpujit.tensor(a, requires_grad=True)
    out = gpujit.logdet(x)
    assert np.isnan(out.detach().numpy()[0])
    out.nan_to_num(0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], 0)
    np.testing.assert_allclose(x.grad.numpy()[1], np.linalg.inv(a[1]).T, atol=1e-12)


# ---------------------------------------------------------------- matmul, tensordot: copies

def _grads_t(fn, arrays, i, write, needs, transposed=()):
    """As _grads, with the inputs in `needs` requiring grad, and those in `transposed`
    given as the .mT of a C-ordered transposed array (so their strides are not C's)."""
    xs = []
    for j, a in enumerate(arrays):
        a = np.asarray(a, dtype=np.float64)
        base = np.ascontiguousarray(np.swapaxes(a, -1, -2)) if j in transposed else a
        xs.append(gpujit.tensor(base, requires_grad=j in needs))
    ys = [x * 1 for x in xs]
    ys = [y.mT if j in transposed else y for j, y in enumerate(ys)]
    out = fn(*ys)
    w = np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(tuple(out.shape))
    loss = (out * gpujit.tensor(w)).sum()
    if write:
        ys[i].add_(1)
    loss.backward()
    return [None if x.grad is None else x.grad.numpy().copy() for x in xs]


COPIED = [
    # (name, fn, shapes, written, requiring grad, transposed): PyTorch multiplies a copy
    # of the written operand (a reshape that cannot be a view), so writing it is no error
    ("matmul_vec_batched", gpujit.matmul, [(4,), (2, 4, 5)], 1, {0, 1}, ()),
    ("matmul_broadcast_batch", gpujit.matmul, [(2, 1, 3, 4), (5, 4, 2)], 0, {0, 1}, ()),
    ("matmul_broadcast_batch_other", gpujit.matmul, [(2, 1, 3, 4), (5, 4, 2)], 1, {0, 1}, ()),
    ("matmul_fold_transposed", gpujit.matmul, [(2, 3, 4), (4, 5)], 0, {0, 1}, {0}),
    ("tensordot_permuted", lambda a, b: gpujit.tensordot(a, b, ([1, 2], [1, 0])),
     [(2, 3, 4), (4, 3, 2)], 1, {0, 1}, ()),
    ("tensordot_transposed", lambda a, b: gpujit.tensordot(a, b, ([2], [0])),
     [(2, 3, 4), (4, 5)], 0, {0, 1}, {0}),
]


@pytest.mark.parametrize("name,fn,shapes,i,needs,tr", COPIED, ids=[c[0] for c in COPIED])
def test_products_keep_the_copy_pytorch_multiplies(name, fn, shapes, i, needs, tr):
    arrays = [_rand(*s) for s in shapes]
    want = _grads_t(fn, arrays, i, False, needs, tr)
    got = _grads_t(fn, arrays, i, True, needs, tr)
    for a, b in zip(want, got):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    # the values: NumPy's product rule (tr: the gradient is the stored base's)
    if name.startswith("matmul") and not tr:
        a, b = arrays
        w = np.linspace(0.5, 1.5, np.matmul(a, b).size).reshape(np.matmul(a, b).shape)
        if b.ndim > 1 and a.ndim > 1:
            ga = (w @ np.swapaxes(b, -1, -2)).reshape(-1, *a.shape).sum(0) if \
                w.ndim > a.ndim else w @ np.swapaxes(b, -1, -2)
            np.testing.assert_allclose(got[0], _sum_to(ga, a.shape), atol=1e-12)


def _sum_to(g, shape):
    while g.ndim > len(shape):
        g = g.sum(0)
    for k, n in enumerate(shape):
        if n == 1 and g.shape[k] != 1:
            g = g.sum(k, keepdims=True)
    return g


VIEWED = [
    # PyTorch's products keep views of these: writing the operand still raises
    ("matmul_2d", gpujit.matmul, [(3, 4), (4, 5)], 0, {0, 1}, ()),
    ("matmul_batched", gpujit.matmul, [(2, 3, 4), (2, 4, 5)], 1, {0, 1}, ()),
    ("matmul_fold", gpujit.matmul, [(2, 3, 4), (4, 5)], 0, {0, 1}, ()),
    ("tensordot_plain", lambda a, b: gpujit.tensordot(a, b, ([1], [0])), [(3, 4), (4, 5)],
     1, {0, 1}, ()),
    ("tensordot_transposed_2d", lambda a, b: gpujit.tensordot(a, b, ([1], [0])),
     [(3, 4), (4, 5)], 0, {0, 1}, {0}),
    ("tensordot_full", lambda a, b: gpujit.tensordot(a, b, ([0, 1], [0, 1])),
     [(2, 3), (2, 3)], 0, {0, 1}, {0}),
]


@pytest.mark.parametrize("name,fn,shapes,i,needs,tr", VIEWED, ids=[c[0] for c in VIEWED])
def test_products_still_check_the_operand_they_keep(name, fn, shapes, i, needs, tr):
    with pytest.raises(RuntimeError, match=MODIFIED):
        _grads_t(fn, [_rand(*s) for s in shapes], i, True, needs, tr)
