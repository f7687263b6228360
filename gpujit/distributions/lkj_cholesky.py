"""LKJCholesky (torch.distributions.lkj_cholesky): the LKJ distribution over Cholesky
factors of D x D correlation matrices, density proportional to det(L L^T)^(eta - 1)
(Lewandowski, Kurowicka & Joe 2009). Samples by torch's vectorized onion method (Beta
draws through gpujit's NumPy-backed Beta sampler); no rsample, as torch's."""
from __future__ import annotations

import math

import gpujit as _g

from . import constraints
from .continuous import Beta
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError("Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = _g.Size((dim, dim))
        # (the Beta draws of the onion method, Sec. 3.2 of the LKJ paper, vectorized)
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = _g.arange(self.dim - 1, dtype=self.concentration.dtype,
                           device=self.concentration.device)
        offset = _g.cat([offset.new_zeros((1,)), offset])
        beta_conc1 = offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = _g.Size(tuple(batch_shape))
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()):
        # The onion method, as torch's: vectorized over rows (heterogeneous eta too), and
        # only the Cholesky factor's rows w are drawn.
        with _g.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = _g.randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype,
                                device=y.device).tril(-1)
            norm = u_normal.norm(dim=-1, keepdim=True)
            # (the first row is all zeros: 0, not 0 / 0)
            first_row = _g.arange(self.dim, device=y.device).unsqueeze(-1) == 0
            u_hypersphere = _g.where(first_row, _g.zeros_like(u_normal),
                                     u_normal / _g.where(first_row, _g.ones_like(norm), norm))
            w = _g.sqrt(y) * u_hypersphere
            # the diagonal makes each row unit-norm (clamped for stability)
            eps = _g.finfo(w.dtype).tiny
            diag_elems = _g.clamp(1 - _g.sum(w ** 2, dim=-1), min=eps).sqrt()
            return w + _g.diag_embed(diag_elems)

    def log_prob(self, value):
        # (Stan's "Cholesky LKJ correlation distribution") The density of a correlation
        # matrix is proportional to det ** (eta - 1) = prod(L_ii ^ 2(eta - 1)), and the
        # Jacobian of L to L L^T is prod(L_ii ^ (D - i)): the density of L is
        # proportional to prod(L_ii ^ (2 eta - 2 + D - i)).
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = _g.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = _g.sum(order * diag_elems.log(), dim=-1)
        # the normalization constant (page 1999 of the LKJ paper)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = _g.lgamma(alpha) * dm1
        numerator = _g.mvlgamma(alpha - 0.5, dm1)
        # (the paper's pi constant is D (D - 1) / 4 log(pi); multigammaln's is
        # (D - 1) (D - 2) / 4 log(pi): add (D - 1) log(pi) / 2)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term
