"""torch.signal.windows: window functions with PyTorch's signature (M, *, sym=True, dtype,
layout, device, requires_grad) and checks, each composed of registry ops as PyTorch's
Python code composes them (linspace, cos, i0 ...: its numbers, not those of the aten
window factories torch.hann_window & co., ops/windows.py, which compute otherwise).
"""
from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]


def _g():
    import gpujit
    return gpujit


def _checks(name, M, dtype, layout):
    g = _g()
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not g.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (g.float32, g.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")


def _start(name, M, dtype, layout):
    g = _g()
    dtype = g.get_default_dtype() if dtype is None else dtype
    _checks(name, M, dtype, layout)
    return dtype


def _small(M, dtype, device, requires_grad):
    """The window for M = 0 (empty) or M = 1 (a single 1), else None."""
    g = _g()
    if M == 0:
        return g.empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1:
        return g.ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    return None


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    _start("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    dtype = _start("bartlett", M, dtype, layout)
    small = _small(M, dtype, device, requires_grad)
    if small is not None:
        return small
    c = 2 / (M if not sym else M - 1)
    k = _linspace(-1, -1 + (M - 1) * c, M, dtype, device, requires_grad)
    return 1 - _g().abs(k)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None,
           requires_grad=False):
    g = _g()
    dtype = _start("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    small = _small(M, dtype, device, requires_grad)
    if small is not None:
        return small
    beta = g.tensor(beta, dtype=dtype, device=device)
    start = -beta
    c = 2.0 * beta / (M if not sym else M - 1)
    end = g.minimum(beta, start + (M - 1) * c)
    k = _linspace(start, end, M, dtype, device, requires_grad)
    return g.i0(g.sqrt(beta * beta - g.pow(k, 2))) / g.i0(beta)


def _linspace(start, end, M, dtype, device, requires_grad):
    return _g().linspace(start, end, M, dtype=dtype, device=device,
                         requires_grad=requires_grad)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False):
    dtype = _start("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _small(M, dtype, device, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    c = 1 / (std * math.sqrt(2))
    k = _linspace(start * c, (start + (M - 1)) * c, M, dtype, device, requires_grad)
    return _g().exp(-(k ** 2))


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    dtype = _start("cosine", M, dtype, layout)
    if M == 0:
        return _small(M, dtype, device, requires_grad)
    c = math.pi / (M + 1 if not sym and M > 1 else M)
    k = _linspace(0.5 * c, (0.5 + (M - 1)) * c, M, dtype, device, requires_grad)
    return _g().sin(k)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False):
    dtype = _start("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _small(M, dtype, device, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    c = 1 / tau
    k = _linspace(-center * c, (-center + (M - 1)) * c, M, dtype, device, requires_grad)
    return _g().exp(-_g().abs(k))


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None,
                   requires_grad=False):
    g = _g()
    dtype = _start("general_cosine", M, dtype, layout)
    small = _small(M, dtype, device, requires_grad)
    if small is not None:
        return small
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    c = 2 * math.pi / (M if not sym else M - 1)
    k = _linspace(0, (M - 1) * c, M, dtype, device, requires_grad)
    a_i = g.tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype, device=device,
                   requires_grad=requires_grad)
    i = g.arange(a_i.shape[0], dtype=dtype, device=device)
    return (a_i.unsqueeze(-1) * g.cos(i.unsqueeze(-1) * k)).sum(0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,
                    requires_grad=False):
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)
