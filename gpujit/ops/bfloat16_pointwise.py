"""bfloat16 pointwise ops whose ATen CPU kernel computes in c10::BFloat16 arithmetic (each
step rounded to bfloat16: `x * std::log(y)` with scalar_t = BFloat16 rounds the log, then
the product), where bfloat16_support's rule (compute in float32, round once) would be one
ulp off. The generated pointwise entry point of such an op casts its operands for a
bfloat16 computation with `_bfops` and calls `_impl`: bindings() gives it versions of both
(through entry_codegen's per-op namespace), the operands tagged as a _BF16Operand view,
which the impl wrapper recognizes and computes step by step (an untagged call, any other
dtype, runs the op's own impl). CuPy operands are not tagged: on CUDA these ops round once.

Each formula below is the ATen kernel's, and tests/test_bfloat16_s46.py compares it with
torch 2.13 over all 65536 bfloat16 values.
"""
from __future__ import annotations

import numpy as np

from .bfloat16_support import round_bf16, operands as _operands

__all__ = ["STEPPED", "bindings"]


class _BF16Operand(np.ndarray):
    """A float32 operand array of a bfloat16 computation (a view, tagged)."""


def _r(a):
    return round_bf16(np, a)


def _plain(a):
    return a.view(np.ndarray) if isinstance(a, _BF16Operand) else a


def _logit(xp, self, eps=None):
    # logit_kernel: x = clamp(x, eps, 1 - eps) (in BFloat16), then log(x / (1 - x)), every
    # operation rounded (Vectorized<BFloat16> and the scalar path alike)
    x = _plain(self)
    with np.errstate(all="ignore"):
        if eps is not None:
            lo = float(_r(np.float32(eps)))
            hi = float(_r(np.float32(1) - np.float32(lo)))
            x = np.where(x < lo, np.float32(lo), np.where(x > hi, np.float32(hi), x))
            x = x.astype(np.float32)
        return _r(np.log(_r(x / _r(np.float32(1) - x))))


def _entr(xp, self):
    # special_entr: x > 0: -x * log(x), x == 0: 0, x < 0: -inf, NaN: x (BFloat16 steps)
    x = _plain(self)
    with np.errstate(all="ignore"):
        v = _r(-x * _r(np.log(np.where(x > 0, x, np.float32(1)))))
    out = np.where(x > 0, v, np.where(x == 0, np.float32(0), np.float32(-np.inf)))
    return np.where(x != x, x, out).astype(np.float32)


def _xlog(log):
    # xlogy / xlog1py: y NaN: NaN; x == 0: 0; else x * log(y) (log rounded, then the product)
    def f(xp, self, other):
        x, y = _plain(self), _plain(other)
        with np.errstate(all="ignore"):
            v = _r(np.asarray(x, np.float32) * _r(log(np.asarray(y, np.float32))))
        out = np.where(np.asarray(x) == 0, np.float32(0), v)
        return np.where(np.asarray(y) != np.asarray(y), np.float32(np.nan), out).astype(
            np.float32)
    return f


def _nan_to_num(xp, self, nan=None, posinf=None, neginf=None):
    # replacements cast to BFloat16: posinf / neginf default to bfloat16's largest / lowest
    x = _plain(self)
    big = 3.3895313892515355e38
    vals = [float(_r(np.float32(v))) for v in (0.0 if nan is None else nan,
                                                big if posinf is None else posinf,
                                                -big if neginf is None else neginf)]
    out = np.where(x != x, np.float32(vals[0]), x)
    out = np.where(out == np.inf, np.float32(vals[1]), out)
    return np.where(out == -np.inf, np.float32(vals[2]), out).astype(np.float32)


def _torch_refuses(kernel):
    # (ATen has no bfloat16 kernel: its dispatch macro's error)
    def f(xp, *args):
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'BFloat16'")
    return f


def _nextafter(xp, self, other):
    # the next bfloat16 after x towards y: its bits one up or down (c10's nextafter of
    # BFloat16 steps the 16-bit pattern)
    x, y = np.asarray(_plain(self), np.float32), np.asarray(_plain(other), np.float32)
    x, y = np.broadcast_arrays(x, y)
    b = (np.ascontiguousarray(x).view(np.uint32) >> 16).astype(np.int32)
    up = (y > x) == (x >= 0)                  # (away from zero: the magnitude grows)
    nb = np.where(up, b + 1, b - 1)
    out = ((nb.astype(np.uint32) & 0xFFFF) << 16).view(np.float32)
    tiny = np.where(y > 0, np.float32(9.183549615799121e-41), np.float32(-9.183549615799121e-41))
    out = np.where(x == 0, tiny, out)
    out = np.where(x == y, y, out)
    return np.where((x != x) | (y != y), np.float32(np.nan), out).astype(np.float32)


STEPPED = {
    "aten::nextafter": _nextafter,
    "aten::special_erfcx": _torch_refuses("erfcx_cpu"),
    "aten::special_ndtri": _torch_refuses("ndtri_cpu"),
    "aten::special_log_ndtr": _torch_refuses("log_ndtr_cpu"),
    "aten::logit": _logit, "aten::special_logit": _logit, "aten::special_entr": _entr,
    "aten::xlogy.Tensor": _xlog(np.log), "aten::xlogy.Scalar_Other": _xlog(np.log),
    "aten::xlogy.Self_Scalar": _xlog(np.log), "aten::special_xlogy": _xlog(np.log),
    "aten::special_xlog1py": _xlog(np.log1p), "aten::xlog1py": _xlog(np.log1p),
    "aten::nan_to_num": _nan_to_num,
}


def _tagging(op, dev, originals, arrays):
    out = _operands(op, dev, originals, arrays)
    return tuple(a.view(_BF16Operand) if type(a) is np.ndarray else a for a in out)


def _wrapped(impl, stepped):
    def run(xp, *args):
        for a in args:
            if type(a) is _BF16Operand:
                return stepped(xp, *args)
        return impl(xp, *args)
    return run


def bindings(op):
    """Namespace overrides for op's generated entry point (entry_codegen): for a STEPPED
    op, the tagging operand cast and the impl that computes a tagged call stepwise."""
    stepped = STEPPED.get(op.name)
    if stepped is None or not op.is_pointwise:
        return {}
    return {"_bfops": _tagging, "_impl": _wrapped(op.impl, stepped)}
