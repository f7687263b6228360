"""Window functions (torch.hann_window, hamming_window, blackman_window, bartlett_window,
kaiser_window) as PyTorch 2.13 computes them: factories declared in the registry (scripted
code calls aten::<name>_window), Python entry points with requires_grad= in `PUBLIC`.

Each window of length N is symmetric over N points (periodic=False) or the first N points
of the symmetric window over N + 1 (periodic=True, the default); N = 0 gives an empty
tensor and N = 1 a single 1. hann / hamming / blackman / bartlett are computed step by
step in the window's dtype as PyTorch's factories do (bit for bit; in float32 / float64
but for the last place of cos); kaiser as its kernel, in the opmath type.
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


def _symmetric(xp, name, n, periodic, body, dt):
    """The window of dtype `dt` as PyTorch's factory computes it: body(xp, k, m) over
    k = arange(m) in dt, m = n (+1 if periodic), the last point dropped when periodic."""
    _check_length(name, n)
    if n <= 1:
        return xp.ones(n, np.float32 if dt is _dt.bfloat16 else dt)
    m = n + 1 if periodic else n
    if dt is _dt.bfloat16:          # (the arange rounded to bfloat16, then bfloat16 steps)
        k = _round_to(np.arange(m, dtype=np.float32), np.empty(0).view(_BF16Array))
        w = np.asarray(body(np, k, m), np.float32).view(np.ndarray)
        return w[:n] if periodic else w
    w = body(xp, xp.arange(m, dtype=dt), m)
    return w[:n] if periodic else w


class _BF16Array(np.ndarray):
    """A bfloat16 window's values in their float32 carrier (ops/bfloat16_support.py),
    marked so that each step below rounds to bfloat16 as PyTorch's bfloat16 factory ops
    do (a plain float32 array would round to float32)."""


def _round_to(x, like):
    """x (an array or number) rounded to the window dtype of array `like`."""
    if isinstance(like, _BF16Array):
        from .bfloat16_support import round_bf16
        return round_bf16(np, np.asarray(x, np.float32)).view(_BF16Array)
    if isinstance(x, (int, float)):
        return like.dtype.type(x)
    return x.astype(like.dtype)


def _opmath(x):
    """x widened as PyTorch's CPU arithmetic on it (float16: float32; bfloat16's float32
    carrier: itself)."""
    if isinstance(x, _BF16Array):
        return x.view(np.ndarray)
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _scaled(x, s, c=None):
    """x * s (+ c) with Python numbers s (and c), each step rounded to x's dtype, as
    PyTorch's window factories compute x.mul_(s).add_(c): the scalars rounded to x's
    dtype (float16 and bfloat16 too), the arithmetic in the opmath type."""
    r = _round_to(_opmath(x) * _number(s, x), x)
    if c is not None:
        r = _round_to(_opmath(r) + _number(c, x), x)
    return r


def _number(s, like):
    """Python number s rounded to array like's window dtype, in the opmath type, as a
    NumPy scalar (CuPy takes one with its arrays; a NumPy array it refuses)."""
    r = _round_to(s, like)
    if isinstance(r, _BF16Array):
        return r.view(np.ndarray)[()]
    return _opmath(r)


def _cos(xp, x):
    """cos of x in x's dtype (computed in float64 and rounded once; PyTorch's vectorized
    float32 cos may differ in the last place)."""
    return _round_to(xp.cos(_opmath(x).astype(np.float64)), x)


def _hamming(alpha, beta):
    """hamming_window: arange(m).mul_(2π / (m - 1)).cos_().mul_(-beta).add_(alpha)."""
    def body(xp, k, m):
        return _scaled(_cos(xp, _scaled(k, math.pi * 2.0 / (m - 1))), -beta, alpha)
    return body


def _blackman(xp, k, m):
    """w = arange(m).mul_(π / (m - 1));
    w.mul(4).cos_().mul_(0.08) - w.mul(2).cos_().mul_(0.5) + 0.42."""
    w = _scaled(k, math.pi / (m - 1))
    a = _scaled(_cos(xp, _scaled(w, 4)), 0.08)
    b = _scaled(_cos(xp, _scaled(w, 2)), 0.5)
    return _scaled(_round_to(_opmath(a) - _opmath(b), k), 1, 0.42)


def _bartlett(xp, k, m):
    """w = arange(m).mul_(2 / (m - 1)); its second half (from (m - 1) // 2 + 1) 2 - w."""
    w = _scaled(k, 2.0 / (m - 1))
    h = (m - 1) // 2 + 1
    w[h:] = _scaled(w[h:], -1, 2)
    return w


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
        return _symmetric(xp, name, int(window_length), bool(periodic), body_of(*args),
                          d if d is _dt.bfloat16 else d.np)
    impl.__name__ = f"_{name}"

    extras = [(a.split()[1].split("=")[0], float(a.split("=")[1]))
              for a in extra_schema.split(", ")[1:]]     # [("alpha", 0.54), ...]

    def public(window_length, periodic=True, *args, dtype=None, layout=None, device=None,
               requires_grad=False, pin_memory=False, **named):
        from .creation import check_pin_memory
        check_pin_memory(name, pin_memory)
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


_declare("hann_window", "", lambda: _hamming(0.5, 0.5))
_declare("hamming_window", ", float alpha=0.54, float beta=0.46",
         lambda alpha=0.54, beta=0.46: _hamming(alpha, beta))
_declare("blackman_window", "", lambda: _blackman)
_declare("bartlett_window", "", lambda: _bartlett)


def _kaiser_body(beta=12.0):
    """PyTorch's kaiser_window kernel, in the opmath type (float32 for float16):
    i0(beta * sqrt(|1 - ((k - alpha) / alpha)^2|)) / i0(beta), alpha = (m - 1) / 2."""
    def body(xp, k, m):
        from .pointwise_extra import _bessel
        om = np.dtype(np.float32) if k.dtype == np.float16 else k.dtype
        alpha, b = om.type((m - 1) / 2.0), om.type(beta)
        t = (_opmath(k).astype(om) - alpha) / alpha
        r = b * xp.sqrt(xp.abs(om.type(1) - t * t))
        return _round_to(_bessel(xp, r, "i0") / _bessel(xp, xp.asarray([b]), "i0"), k)
    return body


_declare("kaiser_window", ", float beta=12.0", _kaiser_body)
