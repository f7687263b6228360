"""gpujit.fft: the real-valued parts of torch.fft (fftfreq, rfftfreq, fftshift, ifftshift)
against NumPy's numpy.fft; the complex-valued transforms raise (gpujit has no complex
dtype)."""
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


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2",
                                  "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn",
                                  "irfftn"])
def test_complex_transforms_raise_clearly(name):
    with pytest.raises(RuntimeError, match="no complex dtypes"):
        getattr(gfft, name)(gpujit.ones(4))


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
