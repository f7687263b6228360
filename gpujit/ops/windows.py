"""Window functions (torch.hann_window, hamming_window, blackman_window, bartlett_window,
kaiser_window) as PyTorch 2.13 computes them: factories declared in the registry (scripted
code calls aten::<name>_window), Python entry points with requires_grad= in `PUBLIC`.

Each window of length N is symmetric over N points (periodic=False) or the first N points
of the symmetric window over N + 1 (periodic=True, the default); N = 0 gives an empty
tensor and N = 1 a single 1.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from ..device import cpu as _cpu
from .meta import TensorMeta
from .registry import op, OPS

PUBLIC = {}

_TAIL = "ScalarType? dtype=None, Layout? layout=None, Device? device=None, " \
        "bool? pin_memory=None) -> Tensor"


def _dtype(name, dtype):
    d = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {d}")
    return d


def _check_length(name, n):
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={n}")


def _symmetric(xp, name, n, periodic, body):
    """The window's values in float64: body(k, m) over k = 0..m-1, m = n (+1 if periodic),
    the last point dropped when periodic."""
    _check_length(name, n)
    if n <= 1:
        return xp.ones(n, np.float64)
    m = n + 1 if periodic else n
    w = body(xp, xp.arange(m, dtype=np.float64), m)
    return w[:n] if periodic else w


def _cosine_sum(*coefs):
    def body(xp, k, m):
        t = 2.0 * math.pi * k / (m - 1)
        w = xp.full(k.shape, coefs[0], np.float64)
        for j, c in enumerate(coefs[1:], 1):
            w = w + c * xp.cos(j * t)
        return w
    return body


def _bartlett(xp, k, m):
    return 1.0 - xp.abs(2.0 * k / (m - 1) - 1.0)


def _meta(name, nextra):
    def meta(window_length, periodic=True, *rest, **factory):
        tail = rest[nextra:]            # dtype, layout, device, pin_memory (or by keyword)
        dtype = tail[0] if tail else factory.get("dtype")
        device = tail[2] if len(tail) > 2 else factory.get("device")
        return TensorMeta(_dtype(name, dtype), (int(window_length),), device or _cpu)
    return meta


def _declare(name, extra_schema, body_of):
    """aten::<name>(int window_length, bool periodic=True, <extra>, *, dtype...)."""
    nextra = extra_schema.count("float")
    @op(f"aten::{name}(int window_length, bool periodic=True{extra_schema}, *, {_TAIL}",
        tags={"factory"}, function=False, method=False, meta=_meta(name, nextra))
    def impl(xp, window_length, periodic=True, *rest, **factory):
        # rest: the window's own floats, then (as the entry code passes them) dtype,
        # layout, device, pin_memory, positionally or in `factory`
        args, tail = rest[:nextra], rest[nextra:]
        d = _dtype(name, tail[0] if tail else factory.get("dtype"))
        w = _symmetric(xp, name, int(window_length), bool(periodic), body_of(*args))
        return w.astype(d.np)
    impl.__name__ = f"_{name}"

    extras = [(a.split()[1].split("=")[0], float(a.split("=")[1]))
              for a in extra_schema.split(", ")[1:]]     # [("alpha", 0.54), ...]

    def public(window_length, periodic=True, *args, dtype=None, layout=None, device=None,
               requires_grad=False, pin_memory=False, **named):
        if len(args) > len(extras):
            raise TypeError(f"{name}() takes at most {2 + len(extras)} positional arguments")
        vals = list(args) + [named.pop(k, d) for k, d in extras[len(args):]]
        if named:
            raise TypeError(f"{name}() got an unexpected keyword argument "
                            f"'{next(iter(named))}'")
        t = OPS[f"aten::{name}"].public(window_length, periodic, *vals, dtype=dtype,
                                        device=device)
        return t._factory_requires_grad() if requires_grad else t
    public.__name__ = public.__qualname__ = name
    public.__doc__ = f"torch.{name}: see gpujit.ops.windows."
    PUBLIC[name] = public
    return impl


_declare("hann_window", "", lambda: _cosine_sum(0.5, -0.5))
_declare("hamming_window", ", float alpha=0.54, float beta=0.46",
         lambda alpha=0.54, beta=0.46: _cosine_sum(alpha, -beta))
_declare("blackman_window", "", lambda: _cosine_sum(0.42, -0.5, 0.08))
_declare("bartlett_window", "", lambda: _bartlett)


def _kaiser_body(beta=12.0):
    def body(xp, k, m):
        a = (m - 1) / 2.0
        r = xp.sqrt(xp.clip(1.0 - ((k - a) / a) ** 2, 0.0, None))
        return xp.i0(beta * r) / xp.i0(xp.asarray(beta, np.float64))
    return body


_declare("kaiser_window", ", float beta=12.0", _kaiser_body)
