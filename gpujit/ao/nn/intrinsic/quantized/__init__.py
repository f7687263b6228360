"""torch.ao.nn.intrinsic.quantized: quantized fused modules: LinearReLU."""
from __future__ import annotations

import gpujit as torch

from ...quantized import Linear as _QLinear

__all__ = ["LinearReLU"]


class LinearReLU(_QLinear):
    """A quantized linear with its ReLU fused: quantized::linear_relu (the output clamped
    below at its zero point)."""

    def __init__(self, in_features, out_features, bias=True, dtype=torch.qint8):
        super().__init__(in_features, out_features, bias, dtype)

    def forward(self, x):
        w, b = self._packed_params._weight_bias()
        return torch.ops.quantized.linear_relu(x, w, b, self.scale, self.zero_point)

    def _get_name(self):
        return "QuantizedLinearReLU"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return super().from_float(mod, use_precomputed_fake_quant)
