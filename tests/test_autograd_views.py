"""In-place ops on views while gradients are recorded (gpujit/autograd/views.py, PyTorch's
CopySlices): the base's gradient, the view's, the other inputs', regenerated grad_fns of
views whose base was written, and PyTorch's errors. NumPy / literal references."""
from __future__ import annotations

import numpy as np
import pytest

import gpujit as torch

_R = np.random.default_rng(21)


def _leaf(a):
    return torch.from_numpy(np.array(a, dtype=np.float32)).requires_grad_(True)


def test_add_into_a_row_of_an_intermediate():
    X, W = _R.standard_normal((3, 3)), _R.standard_normal(3)
    x, w = _leaf(X), _leaf(W)
    y = x * 2
    y[0].add_(w)
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    (y * y).sum().backward()
    Y = 2 * X
    Y[0] += W
    np.testing.assert_allclose(x.grad.numpy(), 4 * Y, rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), 2 * Y[0], rtol=1e-5)


def test_mul_into_a_column_and_the_view_used_after():
    X, W = _R.standard_normal((3, 3)), _R.standard_normal(3)
    x, w = _leaf(X), _leaf(W)
    y = x * 2
    v = y[:, 1]
    v.mul_(w)
    assert v.grad_fn.name() == "AsStridedBackward0"
    (v.sin().sum() + (y * y).sum()).backward()
    Y = 2 * X
    Y[:, 1] *= W
    gy = 2 * Y
    gy[:, 1] += np.cos(Y[:, 1])
    gx = 2 * gy
    gx[:, 1] *= W
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), gy[:, 1] * 2 * X[:, 1], rtol=1e-5, atol=1e-6)


def test_a_view_taken_before_its_base_is_written_gets_a_fresh_grad_fn():
    X, W = _R.standard_normal((3, 3)), _R.standard_normal((3, 3))
    x, w = _leaf(X), _leaf(W)
    y = x * 2
    v = y.t()
    y.add_(w)                       # v now reads the new values of y
    np.testing.assert_allclose(v.detach().numpy(), (2 * X + W).T, rtol=1e-6)
    ((v * v).sum() + v[0].sum()).backward()
    gv = 2 * (2 * X + W).T
    gv[0] += 1
    np.testing.assert_allclose(w.grad.numpy(), gv.T, rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), 2 * gv.T, rtol=1e-5)


def test_nested_views_and_ops_that_do_not_read_self():
    X, W = _R.standard_normal((4, 3)), _R.standard_normal(3)
    x, w = _leaf(X), _leaf(W)
    y = x * 2
    v = y[1:]
    v[0].copy_(w)                   # y[1] = w
    v[1].zero_()                    # y[2] = 0
    y.diagonal().mul_(3)
    (y * y).sum().backward()
    Y = 2 * X
    Y[1], Y[2] = W, 0
    d = np.arange(3)
    Y[d, d] *= 3
    gy = 2 * Y
    gy[d, d] *= 3                   # through the diagonal's mul_
    gx = 2 * gy
    gx[1] = gx[2] = 0               # overwritten: x's old values there get no gradient
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5)
    gw = gy[1].copy()
    gw[1] *= 1                      # (y[1][1] is on the diagonal: its mul_ came after)
    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-5)


def test_non_contiguous_base_and_chunk_pieces():
    X = _R.standard_normal((4, 4))
    x = _leaf(X)
    y = (x * 2).t()                 # a view of x * 2
    with pytest.raises(RuntimeError, match="Output 0 of Split is a view"):
        y.chunk(2, 1)[0].mul_(3)    # (PyTorch refuses writes into chunk's pieces ...)
    a, b = y.tensor_split(2, 1)     # (... not into tensor_split's: slices)
    a.mul_(3)
    (y.exp().sum() + b.sum()).backward()
    Y = (2 * X).T.copy()
    Y[:, :2] *= 3
    gy = np.exp(Y)
    gy[:, 2:] += 1
    gy[:, :2] *= 3
    np.testing.assert_allclose(x.grad.numpy(), 2 * gy.T, rtol=1e-5)


def test_double_backward_and_retain_graph_through_copy_slices():
    x, w = _leaf([1.0, 2.0, 3.0]), torch.tensor(2.0, requires_grad=True)
    y = x * x
    y[1:].mul_(w)
    gx, = torch.autograd.grad(y.sum(), [x], create_graph=True)
    assert gx.tolist() == [2.0, 8.0, 12.0]
    (gx * gx).sum().backward()
    assert x.grad.tolist() == [8.0, 64.0, 96.0] and w.grad.item() == 208.0
    x = _leaf([1.0, 2.0, 3.0])
    y = x * 2
    y[0].mul_(5)
    s = (y * y).sum()
    s.backward(retain_graph=True)
    s.backward()
    assert x.grad.tolist() == [400.0, 32.0, 48.0]


def test_pytorch_errors():
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].add_(1)
    y = torch.ones(1, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="more than one element of the written-to"):
        y.expand(4, 3).add_(1)
    y = torch.ones(3, requires_grad=True) * 2
    z = y.sin()
    y[0].add_(1)                    # sin saved y: its backward must refuse
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*CopySlices"):
        z.sum().backward()


def _respects_aliasing(x, k, cond):
    y = x * 1.1
    y = y * k
    y = y * 2.2
    if bool(cond):
        z1 = y[0]
        z2 = y[1]
        z1.add_(3)
        out = z2 + k + 3.3
        out = out * out
        return out


def test_scripted_write_through_a_view_of_a_fused_result():
    # test_autodiff_subgraph_slicing's test_merge_respects_aliasing, with its gradients
    f = torch.jit.script(_respects_aliasing)
    X, K = _R.standard_normal((2, 2)), _R.standard_normal((2, 2))
    for _ in range(3):
        x, k, c = _leaf(X), _leaf(K), _leaf([1.0])
        out = f(x, k, c)
        out.sum().backward()
        z2 = (X * 1.1 * K * 2.2)[1]
        o = z2 + K + 3.3
        np.testing.assert_allclose(out.detach().numpy(), o * o, rtol=1e-5)
        gz2 = (2 * o).sum(0)            # out is [2, 2]: z2 broadcasts over k's rows
        gx = np.zeros((2, 2))
        gx[1] = gz2 * 1.1 * K[1] * 2.2
        np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5)
        gk = 2 * o
        gk[1] += gz2 * X[1] * 1.1 * 2.2
        np.testing.assert_allclose(k.grad.numpy(), gk, rtol=1e-5)
    assert f(_leaf(X), _leaf(K), _leaf([0.0])) is None


@pytest.mark.cuda
def test_writes_through_views_on_cuda_match_cpu():
    X = _R.standard_normal((3, 4)).astype(np.float32)

    def grads(dev):
        x = torch.tensor(X, device=dev, requires_grad=True)
        y = x * 2
        y[0].add_(torch.ones(4, device=dev))
        y.t()[1].mul_(3)
        (y * y).sum().backward()
        return y.detach().cpu().numpy(), x.grad.cpu().numpy()

    for a, b in zip(grads("cpu"), grads("cuda")):
        np.testing.assert_allclose(a, b, rtol=1e-5)
