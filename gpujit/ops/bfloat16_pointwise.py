"""bfloat16 pointwise ops whose ATen CPU kernel computes in c10::BFloat16 arithmetic (each
step rounded to bfloat16: `x * std::log(y)` with scalar_t = BFloat16 rounds the log, then
the product), where bfloat16_support's rule (compute in float32, round once) would be one
ulp off. The generated pointwise entry point of such an op casts its operands for a
bfloat16 computation with `_bfops` and calls `_impl`: bindings() gives it versions of both
(through entry_codegen's per-op namespace), the operands tagged (_Tagged),
which the impl wrapper recognizes and computes step by step, on NumPy or CuPy arrays (an
untagged call, any other dtype, runs the op's own impl).

Each formula below is the ATen kernel's, and tests/test_bfloat16_s46.py compares it with
torch 2.13 over all 65536 bfloat16 values.
"""
from __future__ import annotations

import numpy as np

from .bfloat16_support import round_bf16, operands as _operands

__all__ = ["STEPPED", "bindings"]


class _Tagged:
    """An operand array of a bfloat16 computation (NumPy or CuPy), wrapped by _tagging for
    the impl wrapper to recognize."""
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a


def _logit(xp, x, eps=None):
    # logit_kernel: x = clamp(x, eps, 1 - eps) (in BFloat16), then log(x / (1 - x)), every
    # operation rounded (Vectorized<BFloat16> and the scalar path alike)
    r = lambda a: round_bf16(xp, a)     # noqa: E731
    f1 = np.float32(1)
    with np.errstate(all="ignore"):
        if eps is not None:
            lo = np.float32(float(round_bf16(np, np.float32(eps))))
            hi = np.float32(float(round_bf16(np, f1 - lo)))
            x = xp.where(x < lo, lo, xp.where(x > hi, hi, x)).astype(np.float32)
        return r(xp.log(r(x / r(f1 - x))))


def _entr(xp, x):
    # special_entr: x > 0: -x * log(x), x == 0: 0, x < 0: -inf, NaN: x (BFloat16 steps)
    with np.errstate(all="ignore"):
        v = round_bf16(xp, -x * round_bf16(xp, xp.log(xp.where(x > 0, x, np.float32(1)))))
    out = xp.where(x > 0, v, xp.where(x == 0, np.float32(0), np.float32(-np.inf)))
    return xp.where(x != x, x, out).astype(np.float32)


def _xlog(name):
    # xlogy / xlog1py: y NaN: NaN; x == 0: 0; else x * log(y) (log rounded, then the product)
    def f(xp, x, y):
        x, y = xp.asarray(x, np.float32), xp.asarray(y, np.float32)
        with np.errstate(all="ignore"):
            v = round_bf16(xp, x * round_bf16(xp, getattr(xp, name)(y)))
        out = xp.where(x == 0, np.float32(0), v)
        return xp.where(y != y, np.float32(np.nan), out).astype(np.float32)
    return f


def _nan_to_num(xp, x, nan=None, posinf=None, neginf=None):
    # replacements cast to BFloat16: posinf / neginf default to bfloat16's largest / lowest
    big = 3.3895313892515355e38
    vals = [np.float32(float(round_bf16(np, np.float32(v)))) for v in (
        0.0 if nan is None else nan, big if posinf is None else posinf,
        -big if neginf is None else neginf)]
    out = xp.where(x != x, vals[0], x)
    out = xp.where(out == np.inf, vals[1], out)
    return xp.where(out == -np.inf, vals[2], out).astype(np.float32)


def _torch_refuses(kernel):
    # (ATen has no bfloat16 kernel: its dispatch macro's error)
    def f(xp, *args):
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'BFloat16'")
    return f


def _nextafter(xp, x, y):
    # the next bfloat16 after x towards y: its bits one up or down (c10's nextafter of
    # BFloat16 steps the 16-bit pattern)
    x, y = xp.broadcast_arrays(xp.asarray(x, np.float32), xp.asarray(y, np.float32))
    # (reshape: ascontiguousarray makes a 0-dim array 1-dim)
    b = (xp.ascontiguousarray(x).view(np.uint32) >> 16).astype(np.int32).reshape(x.shape)
    up = (y > x) == (x >= 0)                  # (away from zero: the magnitude grows)
    nb = xp.where(up, b + 1, b - 1)
    out = ((nb.astype(np.uint32) & 0xFFFF) << 16).view(np.float32)
    tiny = np.float32(9.183549615799121e-41)
    out = xp.where(x == 0, xp.where(y > 0, tiny, -tiny), out)
    out = xp.where(x == y, y, out)
    return xp.where((x != x) | (y != y), np.float32(np.nan), out).astype(np.float32)


def _erf(xp, x):
    # erf_kernel's Vectorized<BFloat16>: ATen's vectorized float erf (Abramowitz and Stegun
    # with Sleef's expf), not libm's erff, on the value in float, rounded once
    from .special import aten_vec_erf
    return round_bf16(xp, aten_vec_erf(xp, x))


def _ndtr(xp, x):
    # calc_ndtr in BFloat16 steps: t = x * sqrt(1/2) (the float constant), erf(t) (the
    # vectorized erf above), (1 + erf) * 0.5, each rounded
    r = lambda a: round_bf16(xp, a)     # noqa: E731
    t = r(x * np.float32(0.7071067811865476))
    return r(r(np.float32(1) + _erf(xp, t)) * np.float32(0.5))


def _mvlgamma(xp, x, p):
    # mvlgamma's composite in BFloat16 tensors (ops/inplace_extra._mvlgamma's float16
    # steps): x + arange(-p/2 + 1/2, 1/2, 1/2) rounded, lgamma rounded, the p terms summed
    # in float and rounded, + p (p - 1) / 4 log(pi) (rounded to bfloat16) rounded
    import math
    from . import special
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    r = lambda a: round_bf16(xp, a)     # noqa: E731
    total = None
    with np.errstate(all="ignore"):
        for k in range(p):
            arg = r(x + np.float32(-p * 0.5 + 0.5 + k * 0.5))
            term = r(special.lgamma(xp, arg.astype(np.float32)))     # (float's lgamma)
            total = term if total is None else total + term
        c = np.float32(float(round_bf16(np, np.float32(p * (p - 1) / 4 * math.log(math.pi)))))
        return r(r(total) + c)


STEPPED = {
    "aten::mvlgamma": _mvlgamma,
    "aten::special_ndtr": _ndtr,
    "aten::erf": _erf, "aten::erf_": _erf,
    "aten::nextafter": _nextafter,
    "aten::special_erfcx": _torch_refuses("erfcx_cpu"),
    "aten::special_ndtri": _torch_refuses("ndtri_cpu"),
    "aten::special_log_ndtr": _torch_refuses("log_ndtr_cpu"),
    "aten::logit": _logit, "aten::special_logit": _logit, "aten::special_entr": _entr,
    "aten::xlogy.Tensor": _xlog("log"), "aten::xlogy.Scalar_Other": _xlog("log"),
    "aten::xlogy.Self_Scalar": _xlog("log"), "aten::special_xlogy": _xlog("log"),
    "aten::special_xlog1py": _xlog("log1p"), "aten::xlog1py": _xlog("log1p"),
    "aten::nan_to_num": _nan_to_num,
}


def _tagging(op, dev, originals, arrays):
    out = _operands(op, dev, originals, arrays)
    return tuple(a if a is None or isinstance(a, (bool, int, float)) else _Tagged(a)
                 for a in out)


def _wrapped(impl, stepped):
    def run(xp, *args):
        for a in args:
            if type(a) is _Tagged:
                return stepped(xp, *[x.a if type(x) is _Tagged else x for x in args])
        return impl(xp, *args)
    return run


def bindings(op):
    """Namespace overrides for op's generated entry point (entry_codegen): for a STEPPED
    op, the tagging operand cast and the impl that computes a tagged call stepwise."""
    stepped = STEPPED.get(op.name)
    if stepped is None or not op.is_pointwise:
        return {}
    return {"_bfops": _tagging, "_impl": _wrapped(op.impl, stepped)}
