"""`ExponentialFamily` (torch.distributions.exp_family): the base class of the families whose
density is exp(<t(x), theta> - F(theta) + k(x)), with natural parameters theta
(`_natural_params`), log normalizer F (`_log_normalizer`) and expected carrier measure
E[k(x)] (`_mean_carrier_measure`). Its `entropy` (and the KL fallback for two members of
one family, kl.py) is the Bregman divergence of F, differentiated with gpujit's autograd."""
from __future__ import annotations

import gpujit as _g

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    @property
    def _natural_params(self):
        """The natural parameters: a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """The log normalizer F(theta) of the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[k(x)], the expected carrier measure (needed by `entropy`)."""
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)] (Bregman divergence of F)."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = _g.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for nparam, g in zip(nparams, gradients):
            result = result - (nparam * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
