"""torch.cdist as torch 2.13 has it: compute_mode by name (torch.functional's Python
function; the names were refused with a TypeError), ATen's matrix-product shortcut for
p == 2 where it takes it (its cancellation too), the direct differences x1's rows a block
at a time, and a p == 2 gradient of two matrix products."""
import numpy as np
import pytest

import gpujit as torch
from gpujit.ops import matrix_products

MM, NO_MM, AUTO = ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist",
                   "use_mm_for_euclid_dist_if_necessary")


def _ref(a, b, p):
    d = np.abs(a[..., :, None, :].astype(np.float64) - b[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(np.float64)
    if p == float("inf"):
        return d.max(-1)
    return (d ** p).sum(-1) ** (1.0 / p)


def test_compute_mode_names_pick_the_matrix_product_or_the_differences():
    # 1000.25 vs 1000 in float32: |a|^2 + |b|^2 - 2 a.b cancels to 0 (torch 2.13: 0.0),
    # the differences give 0.25
    a = torch.tensor([[1000.0, 1000.0]])
    b = torch.tensor([[1000.0, 1000.5], [1000.25, 1000.0]])
    assert torch.cdist(a, b, compute_mode=MM).tolist() == [[0.5, 0.0]]
    assert torch.cdist(a, b, compute_mode=NO_MM).tolist() == [[0.5, 0.25]]
    assert torch.cdist(a, b).tolist() == [[0.5, 0.25]]          # (25 rows or fewer)
    many = b.repeat(13, 1)                                      # 26 rows: the shortcut
    assert torch.cdist(a, many)[0, :2].tolist() == [0.5, 0.0]
    assert torch.cdist(a, many, compute_mode=NO_MM)[0, :2].tolist() == [0.5, 0.25]
    # p != 2 never takes it
    assert torch.cdist(a, b, 1.0, MM).tolist() == [[0.5, 0.25]]


@pytest.mark.parametrize("bad", ["use_mm", 1, None])
def test_an_unknown_compute_mode_is_torchs_value_error(bad):
    a = torch.ones(2, 3)
    with pytest.raises(ValueError, match=f"{bad} is not a valid value for compute_mode"):
        torch.cdist(a, a, compute_mode=bad)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.5, float("inf")])
def test_blocks_of_rows_give_the_same_distances(monkeypatch, p):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 1, 7, 3))
    b = rng.standard_normal((3, 5, 3))
    a[0, 0, 1] = b[0, 2]                                       # (a zero distance)
    whole = torch.cdist(torch.tensor(a), torch.tensor(b), p, NO_MM)
    monkeypatch.setattr(matrix_products, "_CDIST_BLOCK", 2 * 5 * 3 * 8)   # 2 rows a block
    blocks = torch.cdist(torch.tensor(a), torch.tensor(b), p, NO_MM)
    assert tuple(blocks.shape) == (2, 3, 7, 5)
    np.testing.assert_array_equal(blocks.numpy(), whole.numpy())
    np.testing.assert_allclose(blocks.numpy(), _ref(a, b, p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shapes", [((4, 0), (3, 0)), ((0, 3), (4, 3)), ((2, 0, 5, 2), (5, 2))])
def test_empty_operands(shapes):
    s1, s2 = shapes
    for mode in (MM, NO_MM):
        r = torch.cdist(torch.ones(s1), torch.ones(s2), compute_mode=mode)
        want = np.broadcast_shapes(s1[:-2], s2[:-2]) + (s1[-2], s2[-2])
        assert tuple(r.shape) == want and not r.numpy().any()


@pytest.mark.parametrize("mode", [MM, NO_MM])
def test_p2_gradient_with_broadcast_batches(mode):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 1, 30, 4))
    b = rng.standard_normal((3, 20, 4))
    b[1, 3] = a[1, 0, 5]                                       # (a zero distance: grad 0)
    w = rng.standard_normal((2, 3, 30, 20))
    x1 = torch.tensor(a, requires_grad=True)
    x2 = torch.tensor(b, requires_grad=True)
    (torch.cdist(x1, x2, compute_mode=mode) * torch.tensor(w)).sum().backward()
    d = a[:, :, :, None, :] - b[None, :, None, :, :]           # (2, 3, 30, 20, 4)
    dist = np.sqrt((d * d).sum(-1, keepdims=True))
    u = np.divide(d, dist, out=np.zeros_like(d), where=dist != 0) * w[..., None]
    tol = 1e-6 if mode == MM else 1e-9       # (the shortcut's distances: cancellation)
    np.testing.assert_allclose(x1.grad.numpy(), u.sum((1, 3), keepdims=True)[:, :, :, 0],
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(x2.grad.numpy(), -u.sum((0, 2)), rtol=tol, atol=tol)


def test_scripted_cdist_takes_the_mode_by_name():
    @torch.jit.script
    def f(a, b, mode: str):
        return torch.cdist(a, b, 2.0, mode)

    a = torch.tensor([[1000.0, 1000.0]])
    b = torch.tensor([[1000.0, 1000.5], [1000.25, 1000.0]])
    assert f(a, b, MM).tolist() == [[0.5, 0.0]]
    assert f(a, b, AUTO).tolist() == [[0.5, 0.25]]
    with pytest.raises(ValueError, match="nope is not a valid value for compute_mode"):
        f(a, b, "nope")


def _grad_ref(a, b, w, p):
    """ATen's cdist backward for p not 2: none through a zero distance, nor (p < 1)
    through a zero coordinate difference."""
    d = a[:, None, :] - b[None, :, :]
    dist = _ref(a, b, p)[..., None]
    ad = np.abs(d)
    if p == float("inf"):
        u = np.sign(d) * (ad == dist)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.sign(d) * ad ** (p - 1) / dist ** (p - 1)
        u[np.broadcast_to(dist == 0, u.shape) | ((ad == 0) & (p < 1))] = 0
    u = u * w[..., None]
    return u.sum(1), -u.sum(0)


@pytest.mark.parametrize("p", [0.5, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("block", [None, 3 * 5 * 8])
def test_general_p_gradient_blocks_and_zero_differences(monkeypatch, p, block):
    if block is not None:
        monkeypatch.setattr(matrix_products, "_CDIST_BLOCK", block)   # 1 row a block
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3))
    b = rng.standard_normal((5, 3))
    b[2] = a[1]                          # a zero distance
    b[4, 0] = a[3, 0]                    # a zero coordinate difference (p < 1: |d|^-0.5)
    w = rng.standard_normal((4, 5))
    x1 = torch.tensor(a, requires_grad=True)
    x2 = torch.tensor(b, requires_grad=True)
    (torch.cdist(x1, x2, p) * torch.tensor(w)).sum().backward()
    g1, g2 = _grad_ref(a, b, w, p)
    assert np.isfinite(x1.grad.numpy()).all()
    np.testing.assert_allclose(x1.grad.numpy(), g1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x2.grad.numpy(), g2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.5, 2.0, float("inf")])
def test_pdist_is_the_upper_triangle_of_cdist(p):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((6, 3))
    a[4] = a[0]                          # a zero distance
    a[5, 1] = a[2, 1]
    x = torch.tensor(a, requires_grad=True)
    r = torch.nn.functional.pdist(x, p)
    i, j = np.triu_indices(6, 1)
    full = _ref(a, a, p)
    np.testing.assert_allclose(r.detach().numpy(), full[i, j], rtol=1e-12, atol=1e-12)
    if p:
        w = rng.standard_normal(len(i))
        (r * torch.tensor(w)).sum().backward()
        wf = np.zeros((6, 6))
        wf[i, j] = w
        g1, g2 = _grad_ref(a, a, wf, p)
        np.testing.assert_allclose(x.grad.numpy(), g1 + g2, rtol=1e-10, atol=1e-12)


def test_triangle_indices():
    for n, m, k in [(5, 5, 1), (4, 9, 3), (7, 5, -2), (0, 3, 0), (3, 3, 5)]:
        i, j = np.triu_indices(n, k, m)
        got = torch.triu_indices(n, m, k)
        assert got.dtype == torch.int64
        np.testing.assert_array_equal(got.numpy(), np.stack([i, j]).reshape(2, -1))
        i, j = np.tril_indices(n, k, m)
        got = torch.tril_indices(n, m, k, dtype=torch.int32)
        assert got.dtype == torch.int32
        np.testing.assert_array_equal(got.numpy(), np.stack([i, j]).reshape(2, -1))
