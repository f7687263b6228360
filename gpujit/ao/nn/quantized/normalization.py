"""torch.ao.nn.quantized.LayerNorm / GroupNorm / InstanceNorm1d / 2d / 3d: the float
module's normalization of a quantized tensor (quantized::layer_norm / group_norm /
instance_norm), the result quantized with the observed (scale, zero_point) buffers."""
from __future__ import annotations

import gpujit as torch
from gpujit import nn

__all__ = ["LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class LayerNorm(nn.LayerNorm):
    def __init__(self, normalized_shape, weight, bias, scale, zero_point, eps=1e-5,
                 elementwise_affine=True, device=None, dtype=None):
        super().__init__(normalized_shape, eps=eps, elementwise_affine=elementwise_affine)
        self.weight = weight
        self.bias = bias
        self.register_buffer("scale", torch.tensor(scale))
        self.register_buffer("zero_point", torch.tensor(zero_point))

    def forward(self, input):
        return torch.ops.quantized.layer_norm(
            input, self.normalized_shape, weight=self.weight, bias=self.bias, eps=self.eps,
            output_scale=float(self.scale), output_zero_point=int(self.zero_point))

    def _get_name(self):
        return "QuantizedLayerNorm"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(mod.normalized_shape, mod.weight, mod.bias, float(scale),
                   int(zero_point), mod.eps, mod.elementwise_affine)


class GroupNorm(nn.GroupNorm):
    __constants__ = ["num_groups", "num_channels", "eps", "affine"]

    def __init__(self, num_groups, num_channels, weight, bias, scale, zero_point, eps=1e-5,
                 affine=True, device=None, dtype=None):
        super().__init__(num_groups, num_channels, eps, affine)
        self.weight = weight
        self.bias = bias
        self.register_buffer("scale", torch.tensor(scale))
        self.register_buffer("zero_point", torch.tensor(zero_point))

    def forward(self, input):
        return torch.ops.quantized.group_norm(input, self.num_groups, self.weight, self.bias,
                                              self.eps, float(self.scale),
                                              int(self.zero_point))

    def _get_name(self):
        return "QuantizedGroupNorm"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(mod.num_groups, mod.num_channels, mod.weight, mod.bias, float(scale),
                   int(zero_point), mod.eps, mod.affine)


def _instance_norm(base, name):
    def __init__(self, num_features, weight, bias, scale, zero_point, eps=1e-5, momentum=0.1,
                 affine=False, track_running_stats=False, device=None, dtype=None):
        base.__init__(self, num_features, eps, momentum, affine, track_running_stats)
        self.weight = weight
        self.bias = bias
        self.register_buffer("scale", torch.tensor(scale))
        self.register_buffer("zero_point", torch.tensor(zero_point))

    def forward(self, input):
        return torch.ops.quantized.instance_norm(input, self.weight, self.bias, self.eps,
                                                 float(self.scale), int(self.zero_point))

    def _get_name(self):
        return "Quantized" + name

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(mod.num_features, mod.weight, mod.bias, float(scale), int(zero_point),
                   mod.eps, mod.affine)
    return type(name, (base,), {"__init__": __init__, "forward": forward,
                                "_get_name": _get_name, "from_float": from_float,
                                "__module__": __name__, "__qualname__": name})


InstanceNorm1d = _instance_norm(nn.InstanceNorm1d, "InstanceNorm1d")
InstanceNorm2d = _instance_norm(nn.InstanceNorm2d, "InstanceNorm2d")
InstanceNorm3d = _instance_norm(nn.InstanceNorm3d, "InstanceNorm3d")
