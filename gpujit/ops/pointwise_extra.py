"""Pointwise ops that run eagerly and are not fused: gcd, lcm, frexp, i0, special_i1 and
isreal. gcd / lcm / i0 / special_i1 declare no `scalar=` expression and carry the
`no_fuse` tag (gcd/lcm need a loop, i0/i1 a series the scalar language has no form for),
so the fuser leaves them out of fusion groups; their derivatives are here too.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .meta import TensorMeta
from .registry import op, OPS
from .registry import derivative as _derivative, nondifferentiable as _nondiff
from .reduction_extra import INTS, _SHAPE, _dt_of

# pointwise ops without a scalar expression: the fuser leaves them out of fusion groups
# (gcd/lcm need a loop, i0/i1 a series the scalar language has no form for)
_PW = {"pointwise", "no_fuse"}


# ---------------------------------------------------------- pointwise: gcd lcm frexp i0 isreal

@op("aten::gcd(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True, dtypes=INTS)
def gcd(xp, self, other):
    return xp.gcd(self, other)


@op("aten::lcm(Tensor self, Tensor other) -> Tensor", tags=_PW, inplace=True, dtypes=INTS)
def lcm(xp, self, other):
    return xp.lcm(self, other)


def _frexp_check(d):
    if d.category != _dt.FLOATING:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")


@op("aten::frexp.Tensor(Tensor self) -> (Tensor mantissa, Tensor exponent)", tags=_SHAPE,
    meta=lambda self: (_frexp_check(self.dtype),
                       (TensorMeta(self.dtype, tuple(self.shape), self.device),
                        TensorMeta(_dt.int32, tuple(self.shape), self.device)))[1])
def frexp(xp, self):
    _frexp_check(_dt_of(self))
    m, e = xp.frexp(self)
    return m.astype(self.dtype, copy=False), e.astype(np.int32)


def _i0(xp, x):
    """I0 by its power series (all terms positive: no cancellation); NumPy's i0 takes no
    float16 and CuPy's only floats."""
    return _bessel_series(xp, x, 0)


def _bessel_series(xp, x, order):
    """I0 or I1 of float64 x: sum_k (x/2)^(2k+order) / (k! (k+order)!)."""
    x = x.astype(np.float64)
    h = x / 2
    h2 = h * h
    term = xp.ones(x.shape) if order == 0 else h.copy()
    total = term.copy()
    big = float(abs(x).max()) if x.size else 0.0
    for k in range(1, int(min(big, 800)) + 40):
        term = term * h2 / (k * (k + order))
        total = total + term
    return total


@op("aten::i0(Tensor self) -> Tensor", tags=_PW, promote="float", inplace=True)
def i0(xp, self):
    return _i0(xp, self).astype(self.dtype)


@op("aten::special_i1(Tensor self) -> Tensor", tags=_PW, promote="float", method=False,
    function=False)
def special_i1(xp, self):
    """The modified Bessel function of the first kind of order 1 (i0's derivative)."""
    return _bessel_series(xp, self, 1).astype(self.dtype)


@op("aten::isreal(Tensor self) -> Tensor", tags=_SHAPE,
    meta=lambda self: TensorMeta(_dt.bool, tuple(self.shape), self.device))
def isreal(xp, self):
    return xp.ones(self.shape, dtype=bool)


# --------------------------------------------------------------------------------------
# derivatives (gpujit.autograd), written with registry ops


@_derivative(frexp)
def _frexp_grad(grad, result):
    return grad[0] / result[1].to(grad[0].dtype).exp2()


@_derivative(i0)
def _i0_grad(grad, self):
    return grad * OPS["aten::special_i1"].public(self)


@_derivative(special_i1)
def _i1_grad(grad, self, result):
    # I1'(x) = I0(x) - I1(x) / x (the limit 1/2 at x = 0)
    import gpujit
    safe = self.masked_fill(self == 0, 1)
    d = gpujit.i0(self) - result / safe
    return grad * d.masked_fill(self == 0, 0.5)


_nondiff(isreal, reason="integer or boolean results: counts, positions and membership tests")


_nondiff(gcd, lcm, reason="integer-only ops (PyTorch does not differentiate gcd/lcm)")
