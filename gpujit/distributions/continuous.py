"""Normal, Uniform, Laplace, Exponential, Gamma and Beta over gpujit ops.

Samples come from gpujit's generators (`gpujit.manual_seed` reproduces them). Normal,
Uniform, Laplace and Exponential are reparameterized (rsample differentiates into their
parameters). Gamma and Beta draw with torch._standard_gamma on the CPU (ATen's sampler,
recorded as StandardGammaBackward0), elsewhere from a NumPy `Generator` seeded by one draw
of gpujit's generator (reproducible under `gpujit.manual_seed`); their rsample is
reparameterized implicitly as torch's: the gradient of a Gamma(alpha, 1) draw x in alpha
is -(dF/dalpha) / f at x (F, f its CDF and density), through torch's approximation of it
(torch._standard_gamma_grad).
"""
from __future__ import annotations

import math
from numbers import Number

import numpy as np

import gpujit as _g

from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Normal", "Uniform", "Laplace", "Exponential", "Gamma", "Beta"]


def _batch(is_scalar, t):
    return _g.Size(()) if is_scalar else t.size()


def _expand_params(self, cls, names, batch_shape, _instance):
    new = self._get_checked_instance(cls, _instance)
    batch_shape = _g.Size(tuple(batch_shape))
    for n in names:
        setattr(new, n, getattr(self, n).expand(batch_shape))
    Distribution.__init__(new, batch_shape, validate_args=False)
    new._validate_args = self._validate_args
    return new


class Normal(ExponentialFamily):
    _mean_carrier_measure = 0
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        scalar = isinstance(loc, Number) and isinstance(scale, Number)
        super().__init__(_batch(scalar, self.loc), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Normal, ("loc", "scale"), batch_shape, _instance)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=()):
        with _g.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _g.randn(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        log_scale = (math.log(self.scale) if isinstance(self.scale, Number)
                     else self.scale.log())
        return (-((value - self.loc) ** 2) / (2 * var) - log_scale
                - math.log(math.sqrt(2 * math.pi)))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + _g.erf((value - self.loc) * self.scale.reciprocal()
                                 / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * _g.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + _g.log(self.scale)

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * _g.log(-math.pi / y)


class Uniform(Distribution):
    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        scalar = isinstance(low, Number) and isinstance(high, Number)
        super().__init__(_batch(scalar, self.low), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Uniform, ("low", "high"), batch_shape, _instance)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return self.high * float("nan")

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        rand = _g.rand(tuple(shape), dtype=self.low.dtype, device=self.low.device)
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return _g.log(lb.mul(ub)) - _g.log(self.high - self.low)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        result = (value - self.low) / (self.high - self.low)
        return result.clamp(min=0, max=1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return _g.log(self.high - self.low)


class Laplace(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        scalar = isinstance(loc, Number) and isinstance(scale, Number)
        super().__init__(_batch(scalar, self.loc), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Laplace, ("loc", "scale"), batch_shape, _instance)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        finfo = _g.finfo(self.loc.dtype)
        u = _g.rand(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        u = u * (2 - finfo.eps) + (finfo.eps - 1)       # uniform on [eps - 1, 1)
        return self.loc - self.scale * u.sign() * _g.log1p(-u.abs())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -_g.log(2 * self.scale) - _g.abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * _g.expm1(
            -(value - self.loc).abs() / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * _g.log1p(-2 * term.abs())

    def entropy(self):
        return 1 + _g.log(2 * self.scale)


class Exponential(ExponentialFamily):
    _mean_carrier_measure = 0
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(_batch(isinstance(rate, Number), self.rate),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Exponential, ("rate",), batch_shape, _instance)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return _g.zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate.pow(-2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        # PyTorch's: an Exp(1) fill (exponential_, drawing as ATen does) over the rate
        e = _g.empty(tuple(shape), dtype=self.rate.dtype, device=self.rate.device)
        return e.exponential_() / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - _g.exp(-self.rate * value)

    def icdf(self, value):
        return -_g.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - _g.log(self.rate)

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -_g.log(-x)


def _standard_gamma(concentration):
    """Gamma(concentration, 1) draws: on the CPU ATen's sampler (PyTorch's numbers after
    the same seed); elsewhere from a NumPy Generator seeded by gpujit's RNG."""
    if concentration.device.type == "cpu":
        return _g._standard_gamma(concentration.detach())
    seed = int(_g.randint(0, 2 ** 62, (), device=concentration.device))
    rng = np.random.default_rng(seed)
    alpha = concentration.detach().cpu().numpy().astype(np.float64)
    x = rng.standard_gamma(alpha)
    tiny = np.finfo(concentration.dtype.np).tiny
    x = np.maximum(x, tiny)        # as torch's sampler: never exactly 0
    return _g.tensor(x, dtype=concentration.dtype, device=concentration.device)


def _standard_gamma_rsample(concentration):
    """Gamma(concentration, 1) draws whose gradient in concentration is the implicit
    reparameterization one (d x / d alpha = _standard_gamma_grad(alpha, x)); first order
    only, as torch's."""
    if concentration.device.type == "cpu":
        return _g._standard_gamma(concentration)       # (StandardGammaBackward0)
    x = _standard_gamma(concentration)
    if not (concentration.requires_grad and _g.is_grad_enabled()):
        return x
    alpha = concentration.detach()
    with _g.no_grad():
        dx = _g._standard_gamma_grad(alpha, x)
    return x + (concentration - alpha) * dx


def _clamp_keep_grad(value, min=None, max=None):
    """value clamped, with the gradient of the unclamped value (torch's samplers clamp
    the detached sample in place)."""
    return value + (value.clamp(min=min, max=max) - value).detach()


class Gamma(ExponentialFamily):
    _mean_carrier_measure = 0
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, Number) and isinstance(rate, Number)
        super().__init__(_batch(scalar, self.concentration), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Gamma, ("concentration", "rate"), batch_shape, _instance)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = tuple(self._extended_shape(sample_shape))
        value = (_standard_gamma_rsample(self.concentration.expand(shape))
                 / self.rate.expand(shape))
        value.detach().clamp_(min=_g.finfo(value.dtype).tiny)     # (not recorded, as torch's)
        return value

    def log_prob(self, value):
        value = _g.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (_g.xlogy(self.concentration, self.rate)
                + _g.xlogy(self.concentration - 1, value)
                - self.rate * value - _g.lgamma(self.concentration))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _g.special.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - _g.log(self.rate) + _g.lgamma(c) + (1.0 - c) * _g.digamma(c)

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return _g.lgamma(x + 1) + (x + 1) * _g.log(-y.reciprocal())


class Beta(ExponentialFamily):
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1,
                                                                 concentration0)
        scalar = isinstance(concentration1, Number) and isinstance(concentration0, Number)
        super().__init__(_batch(scalar, self.concentration1), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Beta, ("concentration1", "concentration0"), batch_shape,
                              _instance)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return (self.concentration1 - 1) / (self.concentration1 + self.concentration0 - 2)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape=()):
        # X / (X + Y) of independent Gamma(c1, 1), Gamma(c0, 1) draws, each reparameterized
        shape = tuple(self._extended_shape(sample_shape))
        c1, c0 = self.concentration1, self.concentration0
        if c1.device.type == "cpu" and not ((c1.requires_grad or c0.requires_grad)
                                            and _g.is_grad_enabled()):
            # PyTorch's: the first coordinate of a Dirichlet([c1, c0]) draw
            c = _g.stack([c1, c0], -1).expand(shape + (2,))
            return _g._sample_dirichlet(c).select(-1, 0)
        a = _standard_gamma_rsample(self.concentration1.expand(shape))
        b = _standard_gamma_rsample(self.concentration0.expand(shape))
        x = a / (a + b)
        eps = _g.finfo(x.dtype).eps
        return _clamp_keep_grad(x, min=eps, max=1 - eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration1, self.concentration0
        return (_g.xlogy(a - 1, value) + _g.xlogy(b - 1, 1 - value)
                + _g.lgamma(a + b) - _g.lgamma(a) - _g.lgamma(b))

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        t = a + b
        return (_g.lgamma(a) + _g.lgamma(b) - _g.lgamma(t) - (a - 1) * _g.digamma(a)
                - (b - 1) * _g.digamma(b) + (t - 2) * _g.digamma(t))

    @property
    def _natural_params(self):
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x, y):
        return _g.lgamma(x) + _g.lgamma(y) - _g.lgamma(x + y)
