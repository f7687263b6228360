"""gpujit.fft: the real-valued parts of torch.fft (irfft*/hfft* of real inputs, fftfreq,
rfftfreq, fftshift, ifftshift) against NumPy's numpy.fft; the complex-valued transforms
are compared with NumPy (their complex inputs and the complex-valued transforms:
tests/test_complex_s44.py)."""
import numpy as np
import pytest

import gpujit
import gpujit.fft as gfft


@pytest.mark.parametrize("n", [1, 2, 5, 8, 11])
@pytest.mark.parametrize("d", [1.0, 0.25, 3])
def test_fftfreq_rfftfreq_match_numpy(n, d):
    np.testing.assert_allclose(gfft.fftfreq(n, d).numpy(), np.fft.fftfreq(n, d), rtol=1e-6)
    np.testing.assert_allclose(gfft.rfftfreq(n, d).numpy(), np.fft.rfftfreq(n, d), rtol=1e-6)
    assert gfft.fftfreq(n, d).dtype == gpujit.float32


def test_fftfreq_dtype_requires_grad_and_errors():
    f = gfft.fftfreq(6, dtype=gpujit.float64, requires_grad=True)
    assert f.dtype == gpujit.float64 and f.requires_grad
    assert gfft.fftfreq(0).shape == (0,)
    assert np.isnan(gfft.rfftfreq(0).numpy()).all() and gfft.rfftfreq(0).shape == (1,)
    with pytest.raises(RuntimeError, match="fftfreq requires a floating point or complex"):
        gfft.fftfreq(4, dtype=gpujit.int64)
    with pytest.raises(RuntimeError, match="rfftfreq requires a floating point"):
        gfft.rfftfreq(4, dtype=gpujit.int32)


@pytest.mark.parametrize("shape", [(7,), (4, 5), (3, 4, 6)])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, -1)])
def test_fftshift_ifftshift_match_numpy(shape, dim):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    np.testing.assert_array_equal(gfft.fftshift(gpujit.tensor(x), dim).numpy(),
                                  np.fft.fftshift(x, dim))
    np.testing.assert_array_equal(gfft.ifftshift(gpujit.tensor(x), dim).numpy(),
                                  np.fft.ifftshift(x, dim))
    back = gfft.ifftshift(gfft.fftshift(gpujit.tensor(x), dim), dim)
    np.testing.assert_array_equal(back.numpy(), x)


def test_fftshift_gradient_and_bad_dim():
    x = gpujit.arange(6.0, requires_grad=True)
    w = gpujit.arange(6.0) * 10
    (gfft.fftshift(x) * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.fft.ifftshift(np.arange(6.0) * 10))
    with pytest.raises(IndexError, match="Dimension out of range"):
        gfft.fftshift(gpujit.zeros(3), dim=2)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft", "fft2", "ifft2", "rfft2",
                                  "ihfft2", "fftn", "ifftn", "rfftn", "ihfftn"])
def test_complex_transforms_of_ones(name):
    # (complex results since session 44: tests/test_complex_s44.py compares them all)
    n = 4 if name[-1] not in "2n" else 2
    x = gpujit.ones(*([n] * (1 if name[-1] not in "2n" else 2)))
    r = getattr(gfft, name)(x)
    assert r.dtype is gpujit.complex64
    f = getattr(np.fft, name, None) or (lambda a: np.conj(np.fft.rfftn(a)) / a.size)
    ref = f(np.ones(x.shape))
    np.testing.assert_allclose(r.numpy(), ref, rtol=1e-6, atol=1e-6)


def test_against_torch():
    torch = pytest.importorskip("torch")
    for n in (0, 1, 4, 9):
        np.testing.assert_allclose(gfft.fftfreq(n, 0.3).numpy(),
                                   torch.fft.fftfreq(n, 0.3).numpy(), rtol=1e-6)
        np.testing.assert_allclose(gfft.rfftfreq(n, 0.3).numpy(),
                                   torch.fft.rfftfreq(n, 0.3).numpy(), rtol=1e-6)
    x = np.random.RandomState(0).randn(3, 4, 5)
    for dim in (None, 1, (0, 2)):
        np.testing.assert_array_equal(gfft.fftshift(gpujit.tensor(x), dim).numpy(),
                                      torch.fft.fftshift(torch.tensor(x), dim).numpy())


def _scripted_shifts(x):
    return gpujit.fft.fftshift(x) * 100 + gpujit.fft.ifftshift(x, [1]) + gpujit.fft.fftshift(x, 0)


def test_fftshift_ifftshift_scripted():
    x = gpujit.arange(12.0).reshape(3, 4)
    s = gpujit.jit.script(_scripted_shifts)
    np.testing.assert_array_equal(s(x).numpy(), _scripted_shifts(x).numpy())
    xn = x.numpy()
    np.testing.assert_array_equal(s(x).numpy(), np.fft.fftshift(xn) * 100
                                  + np.fft.ifftshift(xn, 1) + np.fft.fftshift(xn, 0))


_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_irfft_hfft_real_inputs_match_numpy(norm):
    x = np.random.RandomState(1).randn(3, 5)
    for n in (None, 6, 9):
        expect = np.fft.irfft(x, n, axis=-1, norm=norm)
        close = dict(rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(gfft.irfft(gpujit.tensor(x), n, norm=norm).numpy(),
                                   expect, **close)
        np.testing.assert_allclose(gfft.hfft(gpujit.tensor(x), n, norm=norm).numpy(),
                                   np.fft.irfft(x, n, norm=_SWAP[norm]), **close)
        np.testing.assert_allclose(gfft.irfft(gpujit.tensor(x), n, dim=0, norm=norm).numpy(),
                                   np.fft.irfft(x, n, axis=0, norm=norm), **close)
    np.testing.assert_allclose(gfft.irfft2(gpujit.tensor(x), norm=norm).numpy(),
                               np.fft.irfft2(x, norm=norm), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gfft.irfftn(gpujit.tensor(x), s=(4, 7), norm=norm).numpy(),
                               np.fft.irfftn(x, s=(4, 7), axes=(0, 1), norm=norm), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gfft.hfftn(gpujit.tensor(x), norm=norm).numpy(),
                               np.fft.irfftn(x, norm=_SWAP[norm]), rtol=1e-12, atol=1e-12)
    assert gfft.irfft(gpujit.ones(5)).dtype == gpujit.float32
    assert gfft.irfft(gpujit.arange(5)).dtype == gpujit.float32


def _dense(f, shape):
    cols = []
    for i in range(int(np.prod(shape))):
        e = np.zeros(int(np.prod(shape)))
        e[i] = 1
        cols.append(f(e.reshape(shape)).ravel())
    return np.stack(cols, 1)


@pytest.mark.parametrize("name,kw,shape", [
    ("irfft", {}, (5,)), ("irfft", {"n": 3, "norm": "ortho"}, (5,)),
    ("hfft", {"n": 11}, (4,)), ("irfftn", {"s": (3, 6), "norm": "forward"}, (2, 4)),
    ("hfft2", {}, (3, 3))])
def test_irfft_gradients_are_the_transpose(name, kw, shape):
    """The result is linear in a real input: its gradient is the dense matrix's transpose
    times the incoming gradient; the second derivative of a quadratic is A^T A."""
    f = getattr(gfft, name)
    A = _dense(lambda e: f(gpujit.tensor(e), **kw).numpy(), shape)
    rs = np.random.RandomState(2)
    x = gpujit.tensor(rs.randn(*shape), requires_grad=True)
    w = rs.randn(A.shape[0])
    y = f(x, **kw)
    (g,) = gpujit.autograd.grad((y.reshape(-1) * gpujit.tensor(w)).sum() + (y ** 2).sum() / 2,
                                x, create_graph=True)
    xv = x.detach().numpy().ravel()
    np.testing.assert_allclose(g.detach().numpy().ravel(), A.T @ w + A.T @ (A @ xv),
                               rtol=1e-10, atol=1e-10)
    (gg,) = gpujit.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy().ravel(), (A.T @ A).sum(1), rtol=1e-10, atol=1e-10)


def test_irfft_errors():
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\)"):
        gfft.irfft(gpujit.ones(4), 0)
    with pytest.raises(RuntimeError, match='Invalid normalization mode: "bad"'):
        gfft.irfft(gpujit.ones(4), norm="bad")
    with pytest.raises(RuntimeError, match="Unsupported dtype Half"):
        gfft.hfft(gpujit.ones(4, dtype=gpujit.float16))
    with pytest.raises(RuntimeError, match="dim and shape arguments must have the same"):
        gfft.irfftn(gpujit.ones(4, 4), s=(4,), dim=(0, 1))


def _scripted_irfft(x):
    return gpujit.fft.irfft(x, 8, -1, "ortho") + gpujit.fft.hfft(x, n=8) + gpujit.fft.irfftn(
        x, [8])


def test_irfft_scripted_and_traced():
    x = gpujit.arange(5.0)
    s = gpujit.jit.script(_scripted_irfft)
    assert "aten::fft_irfft" in str(s.graph) and "aten::fft_hfft" in str(s.graph)
    np.testing.assert_allclose(s(x).numpy(), _scripted_irfft(x).numpy(), rtol=1e-6)
    t = gpujit.jit.trace(_scripted_irfft, (x,))
    np.testing.assert_allclose(t(x * 2).numpy(), _scripted_irfft(x * 2).numpy(), rtol=1e-6)


def test_irfft_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.RandomState(3).randn(3, 4, 5)
    for name, kw in [("irfft", {"n": 7}), ("hfft", {"dim": 1, "norm": "ortho"}),
                     ("irfft2", {"s": (5, 3)}), ("hfftn", {"s": (6, 6)}),
                     ("irfftn", {"dim": (0, 2), "norm": "forward"})]:
        tx = torch.tensor(x, requires_grad=True)
        gx = gpujit.tensor(x, requires_grad=True)
        ty, gy = getattr(torch.fft, name)(tx, **kw), getattr(gfft, name)(gx, **kw)
        np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        (ty ** 3).sum().backward()
        (gy ** 3).sum().backward()
        np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-10)
