"""`torch.distributions.one_hot_categorical`: OneHotCategorical (defined in
`gpujit.distributions.discrete`) and OneHotCategoricalStraightThrough."""
from .discrete import OneHotCategorical

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """A reparameterizable OneHotCategorical: rsample's one-hot draws carry the
    straight-through gradient of the probabilities (Bengio et al., 2013)."""
    has_rsample = True

    def rsample(self, sample_shape=()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs  # (cached: a lazy_property)
        return samples + (probs - probs.detach())
