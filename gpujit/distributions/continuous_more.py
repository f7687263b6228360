"""Cauchy, StudentT, Chi2 and Dirichlet over gpujit ops (torch's formulas).

Cauchy is reparameterized (inverse-CDF samples). Chi2 is a Gamma and, like gpujit's Gamma,
samples through NumPy without reparameterization; so Dirichlet (normalized gamma draws)
has no rsample either, and StudentT.rsample differentiates into loc and scale but raises
when df requires grad (its gradient would need the gamma sampler's)."""
from __future__ import annotations

import math
from numbers import Number

import gpujit as _g
import gpujit.nn.functional as F

from . import constraints
from .continuous import (Gamma, _batch, _clamp_keep_grad, _expand_params,
                         _standard_gamma_rsample)
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Cauchy", "StudentT", "Chi2", "Dirichlet"]


def _full(self, value, like):
    return _g.full(tuple(self._extended_shape()), value, dtype=like.dtype, device=like.device)


class Cauchy(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        scalar = isinstance(loc, Number) and isinstance(scale, Number)
        super().__init__(_batch(scalar, self.loc), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Cauchy, ("loc", "scale"), batch_shape, _instance)

    @property
    def mean(self):
        return _full(self, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return _full(self, math.inf, self.loc)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        # PyTorch's: a standard Cauchy fill (cauchy_, drawing as ATen does), scaled
        eps = _g.empty(shape, dtype=self.loc.dtype, device=self.loc.device).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (-math.log(math.pi) - self.scale.log()
                - (((value - self.loc) / self.scale) ** 2).log1p())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _g.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return _g.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class Chi2(Gamma):
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2


class StudentT(Distribution):
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, StudentT, ("df", "loc", "scale"), batch_shape, _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self):
        return _g.where(self.df <= 1, _g.full_like(self.loc, math.nan), self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        big = self.scale.pow(2) * df / _g.where(df > 2, df - 2, _g.ones_like(df))
        m = _g.where(df > 2, big, _g.full_like(df, math.inf))
        return _g.where(df <= 1, _g.full_like(df, math.nan), m)

    def rsample(self, sample_shape=()):
        # X / sqrt(Z / df) with X ~ N(0, 1), Z ~ Chi2(df) (reparameterized in df)
        shape = tuple(self._extended_shape(sample_shape))
        X = _g.randn(shape, dtype=self.df.dtype, device=self.df.device)
        Z = self._chi2.rsample(sample_shape)
        Y = X * _g.rsqrt(Z / self.df)
        return self.loc + self.scale * Y

    def sample(self, sample_shape=()):
        with _g.no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + _g.lgamma(0.5 * self.df) - _g.lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * _g.log1p(y ** 2.0 / self.df) - Z

    def entropy(self):
        lbeta = (_g.lgamma(0.5 * self.df) + math.lgamma(0.5)
                 - _g.lgamma(0.5 * (self.df + 1)))
        return (self.scale.log()
                + 0.5 * (self.df + 1) * (_g.digamma(0.5 * (self.df + 1))
                                         - _g.digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)


class Dirichlet(ExponentialFamily):
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = _g.Size(tuple(batch_shape))
        new.concentration = self.concentration.expand(tuple(batch_shape)
                                                      + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        # normalized Gamma(concentration_i, 1) draws, each reparameterized
        shape = tuple(self._extended_shape(sample_shape))
        c = self.concentration
        if c.device.type == "cpu" and not (c.requires_grad and _g.is_grad_enabled()):
            return _g._sample_dirichlet(c.expand(shape))   # PyTorch's draws and numbers
        g = _standard_gamma_rsample(self.concentration.expand(shape))
        x = g / g.sum(-1, True)
        return _clamp_keep_grad(x, min=_g.finfo(x.dtype).tiny, max=1 - _g.finfo(x.dtype).eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (_g.xlogy(self.concentration - 1.0, value).sum(-1)
                + _g.lgamma(self.concentration.sum(-1))
                - _g.lgamma(self.concentration).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1, keepdim=True)
        one_hot = F.one_hot(mode.argmax(dim=-1), cm1.shape[-1]).to(mode.dtype)
        return _g.where(mask, one_hot, mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        k = self.concentration.size(-1)
        a0 = self.concentration.sum(-1)
        return (_g.lgamma(self.concentration).sum(-1) - _g.lgamma(a0)
                - (k - a0) * _g.digamma(a0)
                - ((self.concentration - 1.0) * _g.digamma(self.concentration)).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - _g.lgamma(x.sum(-1))
