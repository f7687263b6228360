"""gpujit.nn.utils: gradient clipping, flat parameter vectors, parametrizations, weight and
spectral normalization, BatchNorm folding, pruning (torch.nn.utils)."""
from .clip_grad import (  # noqa: F401
    clip_grad_norm_, clip_grad_norm, clip_grad_value_, get_total_norm, clip_grads_with_norm_,
)
from . import rnn
from . import parametrize
from . import fusion, stateless
from . import prune
from . import memory_format
from .memory_format import (  # noqa: F401
    convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from .fusion import (  # noqa: F401
    fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights,
)
from .init import skip_init  # noqa: F401
from .spectral_norm import spectral_norm, remove_spectral_norm  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: F401
from . import parametrizations  # (after weight_norm / spectral_norm: it imports them)

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_", "rnn", "parametrize", "parametrizations", "fusion",
           "stateless", "prune", "memory_format", "convert_conv2d_weight_memory_format",
           "convert_conv3d_weight_memory_format", "parameters_to_vector", "vector_to_parameters", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights",
           "skip_init", "spectral_norm", "remove_spectral_norm", "weight_norm",
           "remove_weight_norm"]
