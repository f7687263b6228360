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


_NO_GRAD = "_0 = __torch__.torch.autograd.grad_mode.no_grad.__new__(" \
    "__torch__.torch.autograd.grad_mode.no_grad)"


def test_no_grad_region_matches_eager():
    s = torch.jit.script(step)
    # (torch 2.13's code: the region's no_grad object made, __init__-ed, entered)
    assert f"  {_NO_GRAD}\n  _1 = (_0).__init__()\n  with _0:\n    z = torch.mul(w, 2)" \
        in s.code, s.code
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
    assert _NO_GRAD in torch.jit.load(buf).code


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


class _Scaled(torch.nn.Module):
    """Tensors that require grad held as plain attributes (not Parameters), one of them in
    a list of a submodule: eager code records gradients for them."""

    def __init__(self, alpha, ws):
        super().__init__()
        self.alpha = alpha
        self.inner = _Gates(ws)

    def forward(self, x):
        return torch.tanh(x * self.alpha) + self.inner(x)


class _Gates(torch.nn.Module):
    def __init__(self, ws):
        super().__init__()
        self.ws = ws

    def forward(self, x):
        for w in self.ws:
            x = torch.sigmoid(x * w)
        return x


def test_tensor_attributes_that_require_grad_record_gradients_on_every_call():
    # the first call (profiling) recorded gradients, the optimized (fused) calls after it
    # did not: only parameters and buffers were asked whether they require grad
    alpha = torch.full((3,), 0.5, requires_grad=True)
    ws = [torch.full((3,), 1.5, requires_grad=True)]
    m = torch.jit.script(_Scaled(alpha, ws))
    x = torch.tensor([[0.1, -0.2, 0.3], [1.0, 2.0, -3.0]])
    ref_a, ref_w = None, None
    for _ in range(4):
        out = m(x)
        assert out.requires_grad
        out.sum().backward()
        if ref_a is None:
            ref_a, ref_w = alpha.grad.numpy().copy(), ws[0].grad.numpy().copy()
        # (the profiling call's gradients are eager's, the later ones fused kernels')
        np.testing.assert_allclose(alpha.grad.numpy(), ref_a, rtol=1e-5)
        np.testing.assert_allclose(ws[0].grad.numpy(), ref_w, rtol=1e-5)
        alpha.grad = ws[0].grad = None
    with torch.no_grad():
        assert not m(x).requires_grad


@torch.jit.script
class _HC:
    def __init__(self, h: torch.Tensor, c: torch.Tensor):
        self.h = h
        self.c = c


def _cell(x: torch.Tensor, s: _HC) -> torch.Tensor:
    return torch.tanh(x + s.h) * torch.sigmoid(s.c)


def test_tensors_in_a_script_class_argument_record_gradients_on_every_call():
    f = torch.jit.script(_cell)
    x = torch.tensor([0.5, -1.0, 2.0])
    h = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    c = torch.tensor([-0.1, 0.0, 1.0], requires_grad=True)
    grads = []
    for _ in range(4):
        out = f(x, _HC(h, c))
        assert out.requires_grad
        out.sum().backward()
        grads.append((h.grad.numpy().copy(), c.grad.numpy().copy()))
        h.grad = c.grad = None
    for gh, gc in grads[1:]:
        np.testing.assert_allclose(gh, grads[0][0], rtol=1e-6)
        np.testing.assert_allclose(gc, grads[0][1], rtol=1e-6)


def _scaled_if_grad(x, y):
    z = torch.tanh(x) + y
    if z.requires_grad:
        z = z * 2.0
    return z, x.requires_grad, z.requires_grad


class _GradFlags(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2))
        self.register_buffer("b", torch.ones(2))

    def forward(self, x):
        return x * self.w + self.b, self.w.requires_grad, self.b.requires_grad


def test_requires_grad_attribute_as_eager_in_every_mode():
    # `x.requires_grad` did not compile ("a Tensor has no attribute 'requires_grad'")
    f = torch.jit.script(_scaled_if_grad)
    x = torch.tensor([0.5, -1.0], requires_grad=True)
    y = torch.tensor([1.0, 2.0])
    for _ in range(3):                      # recording: the interpreter
        z, xr, zr = f(x, y)
        assert (xr, zr) == (True, True) and z.requires_grad
        np.testing.assert_allclose(z.detach().numpy(), 2 * (np.tanh([0.5, -1.0]) + [1, 2]),
                                   rtol=1e-6)
    with torch.no_grad():
        for _ in range(3):                  # profiled, then generated (fused) code
            z, xr, zr = f(x, y)
            assert (xr, zr) == (True, False) and not z.requires_grad
            np.testing.assert_allclose(z.numpy(), np.tanh([0.5, -1.0]) + [1, 2], rtol=1e-6)
    for _ in range(3):
        assert f(x.detach(), y)[1:] == (False, False)
    m = torch.jit.script(_GradFlags())
    with torch.no_grad():
        for _ in range(3):
            assert m(x)[1:] == (True, False)
        m.w.requires_grad_(False)
        for _ in range(2):
            assert m(x)[1:] == (False, False)
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    buf.seek(0)
    assert torch.jit.load(buf)(x, y)[1:] == (True, True)


def _grad_mode_branches(x):
    if torch.is_grad_enabled():
        y = x * 2
    else:
        y = x * 3
    with torch.no_grad():
        inside = torch.is_grad_enabled()
    return y, inside


def test_scripted_is_grad_enabled_reads_the_mode_at_each_call():
    """torch.is_grad_enabled() in scripted code (TorchScript has it): the grad mode when
    the call runs, never folded into a constant by the first calls' mode; it survives
    save/load."""
    import io
    f = torch.jit.script(_grad_mode_branches)
    x = torch.ones(2)
    buf = io.BytesIO()
    torch.jit.save(f, buf)
    loaded = torch.jit.load(io.BytesIO(buf.getvalue()))
    for g in (f, loaded):
        for _ in range(3):
            y, inside = g(x)
            assert y.tolist() == [2.0, 2.0] and inside is False
            with torch.no_grad():
                y, inside = g(x)
            assert y.tolist() == [3.0, 3.0] and inside is False
    assert "torch.is_grad_enabled()" in f.code
