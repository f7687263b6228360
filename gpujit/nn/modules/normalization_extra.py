"""RMSNorm, LocalResponseNorm, CrossMapLRN2d (torch.nn.modules.normalization),
Softmax2d (torch.nn.modules.activation) and SyncBatchNorm (torch.nn.modules.batchnorm,
single process); each calls its nn.functional twin."""
from __future__ import annotations

import numbers
from typing import Optional

import gpujit

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .normalization import _BatchNorm

__all__ = ["RMSNorm", "LocalResponseNorm", "Softmax2d", "CrossMapLRN2d", "SyncBatchNorm"]


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing `normalized_shape` dims."""
    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: Optional[float] = None,
                 elementwise_affine: bool = True, device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if self.elementwise_affine:
            self.weight = Parameter(gpujit.empty(self.normalized_shape, **factory_kwargs))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        """Runs the forward pass."""
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return ("{normalized_shape}, eps={eps}, "
                "elementwise_affine={elementwise_affine}".format(**self.__dict__))


class LocalResponseNorm(Module):
    """Normalization over a window of neighbouring channels."""
    __constants__ = ["size", "alpha", "beta", "k"]
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        """Runs the forward pass."""
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)


class Softmax2d(Module):
    """Softmax over the channels at each spatial location of a (N, C, H, W) or (C, H, W)
    input."""

    def forward(self, input):
        """Runs the forward pass."""
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             f"instead")
        return F.softmax(input, -3, _stacklevel=5)


@F._from_source
def _cross_map_lrn2d(input, size: int, alpha: float, beta: float, k: float):
    """torch.nn.CrossMapLRN2d's legacy Function (torch/nn/_functions.py), values and
    gradients as PyTorch's: its forward's running window sum never drops channel 0 once it
    is in (channel c sums the squares of channel 0 and of channels c - pre_pad + 1 ..
    c + pre_pad - 1), while its backward is that of the window c - size + 1 + ipp .. c + ipp
    around each scale; both are (C, C) 0/1 matrices here, the backward's applied to the
    forward's (detached) scale."""
    if input.dim() != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                         f"instead.")
    c = input.size(1)
    pre_pad = int((size - 1) / 2 + 1)
    ipp = int(size - (size - 1) / 2)
    ch = gpujit.arange(c, device=input.device).unsqueeze(1)     # the scale's channel
    i = gpujit.arange(c, device=input.device).unsqueeze(0)      # the summed channel
    fwd = ((i <= ch + pre_pad - 1) & ((i == 0) | (i >= ch - pre_pad + 1))).to(input.dtype)
    bwd = ((i >= ch - size + 1 + ipp) & (i <= ch + ipp)).to(input.dtype)
    sq = input * input
    scale = gpujit.einsum("ci,nihw->nchw", fwd, sq.detach()) * (alpha / size) + k
    win = gpujit.einsum("ci,nihw->nchw", bwd, sq) * (alpha / size)
    scale = scale + (win - win.detach())        # the value of fwd, the gradient of bwd
    return input * scale.pow(-beta)


class CrossMapLRN2d(Module):
    """Local response normalization across channels (the legacy Lua Torch layer)."""
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        """Runs the forward pass."""
        return _cross_map_lrn2d(input, self.size, float(self.alpha), float(self.beta),
                                float(self.k))

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)


class SyncBatchNorm(_BatchNorm):
    """Batch normalization whose statistics PyTorch reduces over a process group. gpujit's
    process groups have one rank (gpujit.distributed), so as PyTorch with one process it
    normalizes by the local batch, as BatchNorm does."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device=device, dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        """Runs the forward pass."""
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """The module tree with every BatchNorm*d replaced by a SyncBatchNorm holding the
        same parameters, buffers and training mode."""
        module_output = module
        if isinstance(module, _BatchNorm):
            module_output = SyncBatchNorm(module.num_features, module.eps, module.momentum,
                                          module.affine, module.track_running_stats,
                                          process_group)
            if module.affine:
                with gpujit.no_grad():
                    module_output.weight = module.weight
                    module_output.bias = module.bias
            module_output.running_mean = module.running_mean
            module_output.running_var = module.running_var
            module_output.num_batches_tracked = module.num_batches_tracked
            module_output.training = module.training
            if hasattr(module, "qconfig"):
                module_output.qconfig = module.qconfig
        for name, child in module.named_children():
            module_output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return module_output
