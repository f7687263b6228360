"""OpInfos of torch.fft's real-input complex-to-real transforms (gpujit/ops/fft_ops.py).
References: numpy.fft.irfftn (hfft* is irfftn with the normalization swapped), and for
the adjoint op the transpose of the dense matrix of x -> irfftn(x) built column by column
from unit inputs."""
from __future__ import annotations

import numpy as np

from . import OpInfo, Sample, ErrorSample, rand

F16, F32, F64, I64 = np.float16, np.float32, np.float64, np.int64
_g = np.random.default_rng(77)
_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def g(*shape):
    return _g.uniform(-2, 2, shape)


def _resolve(shape, s, dim):
    nd = len(shape)
    if dim is not None:
        dims = [d % nd for d in ([dim] if isinstance(dim, int) else dim)]
    elif s is not None:
        dims = list(range(nd - len(s), nd))
    else:
        dims = list(range(nd))
    if s is None:
        s = [shape[d] for d in dims[:-1]] + [2 * (shape[dims[-1]] - 1)]
    return list(s), dims


def _irfftn_ref(x, s=None, dim=None, norm=None, swap=False):
    s, dims = _resolve(x.shape, s, dim)
    norm = _SWAP[norm] if swap else norm
    out = np.fft.irfftn(x.astype(np.float64), s=s, axes=dims, norm=norm)
    return out


def _one(ref, swap):
    def f(x, n=None, dim=-1, norm=None):
        return ref(x, None if n is None else [n], [dim], norm, swap)
    return f


def _n(swap):
    def f(x, s=None, dim=None, norm=None):
        return _irfftn_ref(x, s, dim, norm, swap)
    return f


def _n2(swap):
    def f(x, s=None, dim=(-2, -1), norm=None):
        return _irfftn_ref(x, s, dim, norm, swap)
    return f


_ERRORS = [ErrorSample(rand(4), 0, match=r"Invalid number of data points \(0\) specified"),
           ErrorSample(rand(4), None, -1, "bad", match='Invalid normalization mode: "bad"'),
           ErrorSample(rand(4), None, 3, exc=IndexError, match="Dimension out of range"),
           ErrorSample(rand(4, dtype=F16), match="Unsupported dtype Half")]
_ERRORS_N = [ErrorSample(rand(4, 4), [4], [0, 1], match="dim and shape arguments must have "
                         "the same length"),
             ErrorSample(rand(4, 4), None, [0, 0], match="FFT dims must be unique")]


def _one_samples():
    return [Sample(g(5)), Sample(g(3, 4), 7, 0, "ortho"), Sample(g(4), 4, -1, "forward"),
            Sample(rand(2, 6)), Sample(rand(6, dtype=F64), 11), Sample(rand(5, dtype=I64)),
            Sample(rand(3, 1), None, 0), Sample(rand(4), 2)]


def _nd_samples(two):
    dim = [-2, -1] if two else None
    return [Sample(g(3, 4)), Sample(g(2, 3, 4), [4, 5], [0, 2], "ortho"),
            Sample(g(3, 3), [2, 5], dim, "forward"), Sample(rand(2, 3, 4)),
            Sample(rand(3, 5, dtype=F64), [6, 8]), Sample(rand(2, 4, dtype=I64))]


def _adjoint_ref(gy, self_sizes, s, dim, norm):
    n_in = int(np.prod(self_sizes))
    cols = []
    for i in range(n_in):
        e = np.zeros(n_in)
        e[i] = 1
        cols.append(np.fft.irfftn(e.reshape(self_sizes), s=s, axes=dim, norm=norm).ravel())
    A = np.stack(cols, 1)
    return (A.T @ gy.astype(np.float64).ravel()).reshape(self_sizes)


def _adjoint_samples():
    return [Sample(g(8), [5], [8], [0], "backward"),
            Sample(g(3, 7), [3, 4], [3, 7], [0, 1], "ortho"),
            Sample(g(4, 6), [4, 2], [6], [1], "forward"),
            Sample(rand(2, 5, 6), [2, 3, 5], [5, 6], [1, 2], "backward"),
            Sample(rand(9, dtype=F64), [7], [9], [0], "ortho")]


OPINFOS = [
    OpInfo("aten::fft_irfft", ref=_one(_irfftn_ref, False), samples=_one_samples,
           errors=_ERRORS),
    OpInfo("aten::fft_hfft", ref=_one(_irfftn_ref, True), samples=_one_samples,
           errors=_ERRORS),
    OpInfo("aten::fft_irfftn", ref=_n(False), samples=lambda: _nd_samples(False),
           errors=_ERRORS_N),
    OpInfo("aten::fft_hfftn", ref=_n(True), samples=lambda: _nd_samples(False),
           errors=_ERRORS_N),
    OpInfo("aten::fft_irfft2", ref=_n2(False), samples=lambda: _nd_samples(True)),
    OpInfo("aten::fft_hfft2", ref=_n2(True), samples=lambda: _nd_samples(True)),
    OpInfo("aten::_gpujit_irfftn_backward", ref=_adjoint_ref, samples=_adjoint_samples),
]
