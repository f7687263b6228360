"""Wishart (torch.distributions.wishart): the distribution of L Z Z^T L^T over positive
definite matrices, parameterized by df and one of covariance_matrix / precision_matrix /
scale_tril; an ExponentialFamily with torch's natural parameters.

Samples use the Bartlett decomposition (reparameterized chi-squared diagonal: rsample
differentiates into df and the scale). Singular draws
are redrawn up to `max_try_correction` times with a warning (torch 2.13 tests the draws
the wrong way round and warns and redraws for every nonsingular one; not followed)."""
from __future__ import annotations

import math
import warnings
from numbers import Number

import gpujit as _g

from . import constraints
from .continuous_more import Chi2
from .exp_family import ExponentialFamily
from .multivariate import _precision_to_scale_tril
from .utils import lazy_property

__all__ = ["Wishart"]

_log_2 = math.log(2)


def _mvdigamma(x, p):
    if not bool(x.gt((p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    offsets = _g.arange(p, dtype=x.dtype, device=x.device).div(2)
    return _g.digamma(x.unsqueeze(-1) - offsets.expand(tuple(x.shape) + (-1,))).sum(-1)


def _clamp_above_eps(x):
    # (positive input assumed)
    return x.clamp(min=_g.finfo(x.dtype).eps)


class Wishart(ExponentialFamily):
    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if ((covariance_matrix is not None) + (scale_tril is not None)
                + (precision_matrix is not None)) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril)
                     if p is not None)
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, Number):
            batch_shape = _g.Size(tuple(param.shape[:-2]))
            self.df = _g.tensor(df, dtype=param.dtype, device=param.device)
        else:
            batch_shape = _g.Size(_g.broadcast_shapes(tuple(param.shape[:-2]),
                                                      tuple(df.shape)))
            self.df = df.expand(batch_shape)
        event_shape = _g.Size(tuple(param.shape[-2:]))
        if bool(self.df.le(event_shape[-1] - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = "
                             f"{event_shape[-1] - 1}.")
        cov_shape = tuple(batch_shape) + (-1, -1)
        if scale_tril is not None:
            self.scale_tril = param.expand(cov_shape)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(cov_shape)
        else:
            self.precision_matrix = param.expand(cov_shape)
        if bool(self.df.lt(event_shape[-1]).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to "
                          "occur for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _g.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._bartlett_chi2(batch_shape)

    def _bartlett_chi2(self, batch_shape):
        """The chi-squared laws of the Bartlett factor's squared diagonal: df - i."""
        tril = self._unbroadcasted_scale_tril
        offsets = _g.arange(self._event_shape[-1], dtype=tril.dtype, device=tril.device)
        return Chi2(df=self.df.unsqueeze(-1) - offsets.expand(tuple(batch_shape) + (-1,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = _g.Size(tuple(batch_shape))
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        new._event_shape = self._event_shape
        new._dist_chi2 = new._bartlett_chi2(batch_shape)
        super(Wishart, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape)
                                                     + tuple(self._event_shape))

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return (L @ L.transpose(-2, -1)).expand(tuple(self._batch_shape)
                                                + tuple(self._event_shape))

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        identity = _g.eye(self._event_shape[-1], device=L.device, dtype=L.dtype)
        return _g.cholesky_solve(identity, L).expand(tuple(self._batch_shape)
                                                     + tuple(self._event_shape))

    def _df_view(self, value):
        return value.view(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self):
        return self._df_view(self.df) * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = _g.where(factor <= 0, _g.full_like(factor, math.nan), factor)
        return self._df_view(factor) * self.covariance_matrix

    @property
    def variance(self):
        V = self.covariance_matrix
        diag_V = V.diagonal(dim1=-2, dim2=-1)
        return self._df_view(self.df) * (V.pow(2)
                                         + _g.einsum("...i,...j->...ij", diag_V, diag_V))

    def _bartlett_sampling(self, sample_shape=()):
        p = self._event_shape[-1]
        sample_shape = tuple(sample_shape)
        # L A with A lower triangular: sqrt(chi2(df - i)) on the diagonal, then p(p-1)/2
        # N(0, 1) draws put below it row by row (tril_indices' order), as torch draws them
        noise = _clamp_above_eps(self._dist_chi2.rsample(sample_shape).sqrt()).diag_embed(
            dim1=-2, dim2=-1)
        i, j = _g.tril_indices(p, p, offset=-1)
        noise[..., i, j] = _g.randn(sample_shape + tuple(self._batch_shape)
                                    + (p * (p - 1) // 2,), dtype=noise.dtype,
                                    device=noise.device)
        chol = self._unbroadcasted_scale_tril @ noise
        return chol @ chol.transpose(-2, -1)

    def _singular(self, sample):
        is_singular = ~self.support.check(sample)
        if self._batch_shape:
            is_singular = is_singular.amax(self._batch_dims)
        return is_singular

    def rsample(self, sample_shape=(), max_try_correction=None):
        """Bartlett samples; a singular one is redrawn (up to max_try_correction times,
        with torch's "Singular sample detected." warning). NOT as torch 2.13, whose first
        test is support.check itself (True where a sample is positive definite): it warns
        on every call and redraws the valid samples through an in-place masked write
        whose mask it then changes, so its rsample's gradients raise torch's "modified by
        an inplace operation" error; gpujit redraws only singular samples (rare), so its
        draws after the first Bartlett draw are not torch's."""
        if max_try_correction is None:
            max_try_correction = 3 if _g.jit.is_tracing() else 10
        sample_shape = tuple(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        is_singular = self._singular(sample)
        if bool(is_singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                sample_new = self._bartlett_sampling(sample_shape)
                mask = is_singular.view(tuple(is_singular.shape)
                                        + (1,) * (sample.dim() - is_singular.dim()))
                sample = _g.where(mask, sample_new, sample)
                is_singular = self._singular(sample)
                if not bool(is_singular.any()):
                    break
        return sample

    def sample(self, sample_shape=()):
        with _g.no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return (-nu * (p * _log_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                - _g.mvlgamma(nu / 2, p=p)
                + (nu - p - 1) / 2 * _g.linalg.slogdet(value).logabsdet
                - _g.cholesky_solve(value, L).diagonal(dim1=-2, dim2=-1).sum(dim=-1) / 2)

    def entropy(self):
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return ((p + 1) * (p * _log_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                + _g.mvlgamma(nu / 2, p=p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p=p)
                + nu * p / 2)

    @property
    def _natural_params(self):
        nu = self.df
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (nu - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-_g.linalg.slogdet(-2 * x).logabsdet + _log_2 * p)
                + _g.mvlgamma(y + (p + 1) / 2, p=p))
