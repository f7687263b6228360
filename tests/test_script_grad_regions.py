"""`with torch.no_grad():` / `with torch.enable_grad():` in scripted code: the region
records no gradients (or does), as the same code run eagerly; `.code` keeps the block."""
import io

import numpy as np

import gpujit as torch


def step(w, x, v):
    y = (w * x).sum()
    with torch.no_grad():
        z = w * 2
        v.sub_(0.1 * x)          # an in-place update of a leaf: allowed only here
    return y, z


def test_no_grad_region_matches_eager():
    s = torch.jit.script(step)
    assert "with torch.no_grad():" in s.code
    for fn in (step, s):
        w = torch.ones(3, requires_grad=True)
        v = torch.ones(3, requires_grad=True)
        x = torch.tensor([1.0, 2.0, 3.0])
        y, z = fn(w, x, v)
        assert y.requires_grad and not z.requires_grad
        y.backward()
        np.testing.assert_allclose(w.grad.numpy(), x.numpy())
        np.testing.assert_allclose(v.detach().numpy(), [0.9, 0.8, 0.7], rtol=1e-6)
    buf = io.BytesIO()
    torch.jit.save(s, buf)
    buf.seek(0)
    assert "with torch.no_grad():" in torch.jit.load(buf).code


def twice(x):
    with torch.enable_grad():
        y = x * 2
    return y


def test_enable_grad_inside_no_grad():
    s = torch.jit.script(twice)
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        assert s(x).requires_grad == twice(x).requires_grad
    assert torch.is_grad_enabled()
