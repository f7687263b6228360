"""gpujit.nn.utils: gradient clipping, flat parameter vectors and parametrizations
(torch.nn.utils)."""
from .clip_grad import (  # noqa: F401
    clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm, clip_grads_with_norm_,
)
from . import rnn
from . import parametrize
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_", "rnn", "parametrize", "parameters_to_vector", "vector_to_parameters"]
