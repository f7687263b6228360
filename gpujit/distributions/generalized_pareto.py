"""GeneralizedPareto (torch.distributions.generalized_pareto): loc, scale and a real
concentration (the exponential distribution at concentration 0, a bounded support below
0); reparameterized through icdf."""
from __future__ import annotations

import math
from numbers import Number, Real

import gpujit as _g

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if (isinstance(loc, Number) and isinstance(scale, Number)
                and isinstance(concentration, Number)):
            batch_shape = _g.Size(())
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = _g.Size(tuple(batch_shape))
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        u = _g.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _safe_concentration(self):
        eq_zero = _g.isclose(self.concentration, _g.zeros_like(self.concentration))
        return eq_zero, _g.where(eq_zero, _g.ones_like(self.concentration),
                                 self.concentration)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + _g.ones_like(z)
        where_nonzero = _g.where(y == 0, y, y * _g.log1p(safe_conc * z))
        log_scale = (math.log(self.scale) if isinstance(self.scale, Real)
                     else self.scale.log())
        return -log_scale - _g.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -_g.log1p(safe_conc * z) / safe_conc
        return _g.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        return _g.log1p(-_g.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return _g.exp(self.log_cdf(value))

    def icdf(self, value):
        eq_zero, safe_conc = self._safe_concentration()
        logu = _g.log1p(-value)
        where_nonzero = self.loc + self.scale / safe_conc * _g.expm1(-safe_conc * logu)
        where_zero = self.loc - self.scale * logu
        return _g.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = _g.where(valid, self.concentration, _g.full_like(self.concentration, 0.5))
        result = self.loc + self.scale / (1 - safe_conc)
        return _g.where(valid, result, _g.full_like(result, math.nan))

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = _g.where(valid, self.concentration,
                             _g.full_like(self.concentration, 0.25))
        result = self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return _g.where(valid, result, _g.full_like(result, math.nan))

    def entropy(self):
        ans = _g.log(self.scale) + self.concentration + 1
        return _g.broadcast_to(ans, tuple(self._batch_shape))

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = _g.where(self.concentration < 0, lower - self.scale / self.concentration,
                         _g.full_like(lower, math.inf))
        return constraints.interval(lower, upper)
