"""grid_sample(mode='bicubic') (4-D input) as ATen's: the 4 x 4 points around each
unnormalized grid point with the cubic convolution coefficients (A = -0.75), each tap's
coordinates folded by the padding mode, a tap still outside reads zero; against a NumPy
transcription of ATen's loops, and against PyTorch (values, input and grid gradients)."""
import itertools
import math

import numpy as np
import pytest

import gpujit as torch
import gpujit.nn.functional as F
from gpujit.autograd import gradcheck

rng = np.random.default_rng(21)


def _unnorm(c, size, ac):
    return (c + 1) / 2 * (size - 1) if ac else ((c + 1) * size - 1) / 2


def _reflect(x, lo2, hi2):
    if lo2 == hi2:
        return 0.0
    lo, span = lo2 / 2, (hi2 - lo2) / 2
    x = abs(x - lo)
    extra, flips = math.fmod(x, span), math.floor(x / span)
    return extra + lo if flips % 2 == 0 else span - extra + lo


def _fold(c, size, pad, ac):
    if pad == "border":
        return min(max(c, 0), size - 1)
    if pad == "reflection":
        c = _reflect(c, 0, 2 * (size - 1)) if ac else _reflect(c, -1, 2 * size - 1)
        return min(max(c, 0), size - 1)
    return c


def _coeffs(t, a=-0.75):
    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]


def _np_bicubic(x, g, pad, ac):
    n, ch, h, w = x.shape
    out = np.zeros((n, ch) + g.shape[1:3])
    for b, i, j in itertools.product(range(n), range(g.shape[1]), range(g.shape[2])):
        ix, iy = _unnorm(g[b, i, j, 0], w, ac), _unnorm(g[b, i, j, 1], h, ac)
        x0, y0 = math.floor(ix), math.floor(iy)
        cx, cy = _coeffs(ix - x0), _coeffs(iy - y0)
        for q, p in itertools.product(range(4), range(4)):
            xx = int(_fold(x0 - 1 + p, w, pad, ac))
            yy = int(_fold(y0 - 1 + q, h, pad, ac))
            if 0 <= xx < w and 0 <= yy < h:
                out[b, :, i, j] += x[b, :, yy, xx] * cx[p] * cy[q]
    return out


CASES = list(itertools.product(["zeros", "border", "reflection"], [False, True]))


@pytest.mark.parametrize("pad,ac", CASES)
def test_bicubic_against_atens_loops(pad, ac):
    x, g = rng.standard_normal((2, 3, 4, 5)), rng.uniform(-1.4, 1.4, (2, 3, 4, 2))
    got = F.grid_sample(torch.tensor(x), torch.tensor(g), mode="bicubic", padding_mode=pad,
                        align_corners=ac)
    np.testing.assert_allclose(got.numpy(), _np_bicubic(x, g, pad, ac), rtol=1e-10,
                               atol=1e-12)
    assert gradcheck(lambda a, b: F.grid_sample(a, b, mode="bicubic", padding_mode=pad,
                                                align_corners=ac),
                     (torch.tensor(x[:1, :2], requires_grad=True),
                      torch.tensor(g[:1, :2, :2], requires_grad=True)))


@pytest.mark.parametrize("pad,ac", CASES)
def test_bicubic_like_pytorch(pad, ac):
    T = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    g = rng.uniform(-1.3, 1.3, (2, 4, 7, 2)).astype(np.float32)
    w = rng.standard_normal((2, 3, 4, 7)).astype(np.float32)
    outs = []
    for lib in (T, torch):
        a = lib.tensor(x, requires_grad=True)
        b = lib.tensor(g, requires_grad=True)
        r = lib.nn.functional.grid_sample(a, b, mode="bicubic", padding_mode=pad,
                                          align_corners=ac)
        (r * lib.tensor(w)).sum().backward()
        outs.append([v.detach().numpy() for v in (r, a.grad, b.grad)])
    for want, got in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_bicubic_scripted():
    @torch.jit.script
    def f(x, g):
        return F.grid_sample(x, g, mode="bicubic", padding_mode="border", align_corners=True)
    x, g = rng.standard_normal((1, 2, 4, 4)), rng.uniform(-1, 1, (1, 3, 3, 2))
    np.testing.assert_allclose(f(torch.tensor(x), torch.tensor(g)).numpy(),
                               _np_bicubic(x, g, "border", True), rtol=1e-10, atol=1e-12)
