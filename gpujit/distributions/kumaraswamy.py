"""Kumaraswamy (torch.distributions.kumaraswamy): density a b x^(a-1) (1 - x^a)^(b-1) on
(0, 1), a TransformedDistribution of Uniform(0, 1) (reparameterized)."""
from __future__ import annotations

import math

import gpujit as _g

from . import constraints
from .continuous import Uniform
from .transformed import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy"]


def _moments(a, b, n):
    """The n-th moment b B(1 + n/a, b), through lgamma."""
    arg1 = 1 + n / a
    log_value = _g.lgamma(arg1) + _g.lgamma(b) - _g.lgamma(arg1 + b)
    return b * _g.exp(log_value)


class Kumaraswamy(TransformedDistribution):
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1,
                                                                 concentration0)
        base_dist = Uniform(_g.full_like(self.concentration0, 0),
                            _g.full_like(self.concentration0, 1),
                            validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(tuple(batch_shape))
        new.concentration0 = self.concentration0.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        # ((a - 1) / (a b - 1))^(1/a), in log space; nan where a < 1 or b < 1 (the
        # density is unbounded at an end) as torch's. (torch 2.13's expression,
        # log1p(-b) / b - log1p(-a b), is nan for every b > 1: not followed.)
        a, b = self.concentration1, self.concentration0
        log_mode = ((a - 1).log() - (a * b - 1).log()) / a
        undefined = (self.concentration0 < 1) | (self.concentration1 < 1)
        log_mode = _g.where(undefined, _g.full_like(log_mode, math.nan), log_mode)
        return log_mode.exp()

    @property
    def variance(self):
        return (_moments(self.concentration1, self.concentration0, 2)
                - _g.pow(self.mean, 2))

    def entropy(self):
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        H0 = _g.digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * H0 - _g.log(self.concentration1) - _g.log(self.concentration0)
