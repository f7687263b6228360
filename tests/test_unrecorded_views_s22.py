"""In-place writes with gradients into views of tensors that did not require grad when
the view was taken, as PyTorch (which tracks every view): `out = zeros(3, 4);
out[0] = w * 2` fills a buffer whose grad_fn becomes CopySlices (gpujit refused it:
"autograd did not record the view"), and other views of that buffer taken before the
write follow it (their gradients reached nothing: program fuzz seed 2130). A detach()
is no such view, nor is a view taken before its base became a leaf that requires grad."""
import numpy as np
import pytest

import gpujit as torch


def test_filling_a_buffer_with_values_that_require_grad():
    w = torch.ones(4, requires_grad=True)
    out = torch.zeros(3, 4)
    out[0] = w * 2
    out[1:3] = w * 3
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    assert w.grad.tolist() == [8., 8., 8., 8.]


def test_copy_into_a_view_then_read_the_base():
    w = torch.ones(4, requires_grad=True)
    out = torch.zeros(3, 4)
    out[0].copy_(w * 2)
    (out * 2).sum().backward()
    assert w.grad.tolist() == [4., 4., 4., 4.]
    w = torch.ones(4, requires_grad=True)
    out = torch.zeros(3, 4)
    out.t()[:, 0].add_(w)
    out.sum().backward()
    assert w.grad.tolist() == [1., 1., 1., 1.]


def test_a_sibling_view_follows_its_rebased_base():
    x0 = torch.ones(2, 3, requires_grad=True)
    v10 = (torch.ones(2, 3) * 2.0).t().contiguous().t()
    for _ in range(2):
        v10[:, 0].add_(x0[:, 0])
        v10 = v10.relu() * v10
    v10.sum().backward()
    np.testing.assert_array_equal(x0.grad.numpy(), [[140., 0., 0.], [140., 0., 0.]])


def test_views_that_stay_out():
    x = torch.ones(3, requires_grad=True)
    assert not x.detach().requires_grad and not x.detach()[0].requires_grad
    assert not x.data.requires_grad
    y = torch.ones(3)
    v = y[:2]
    y.requires_grad_()
    assert not v.requires_grad
    with pytest.raises(RuntimeError):
        (v * 2).sum().backward()


def test_matches_torch():
    real = pytest.importorskip("torch")

    def run(mod):
        w = mod.ones(4, requires_grad=True)
        buf = mod.zeros(2, 4)
        row = buf[1]              # (read after the write: PyTorch's in-place on such a
        buf[0] = w.sin()          # sibling refuses it as a leaf until its grad_fn is read)
        buf[1].add_(w * w)
        loss = (buf * buf).sum() + (row * row.exp()).sum()
        loss.backward()
        return w.grad.numpy(), buf.detach().numpy()
    for a, b in zip(run(torch), run(real)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_view_made_in_no_grad_mode_is_still_refused():
    """(PyTorch refuses an in-place write with gradients into a view made in no_grad
    mode, whatever its base.)"""
    y = torch.ones(3, 3)
    with torch.no_grad():
        z = y[0]
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        z.mul_(w)
