"""torch.ao.nn.intrinsic.quantized: quantized fused modules: LinearReLU, ConvReLU1d / 2d /
3d (quantized::conv{1,2,3}d_relu: the output clamped below at its zero point), BNReLU2d /
3d (quantized::batch_norm{2,3}d_relu)."""
from __future__ import annotations

import gpujit as torch

from ...quantized import Linear as _QLinear
from ...quantized import conv as _qconv
from ... import intrinsic as _nni

__all__ = ["LinearReLU", "ConvReLU1d", "ConvReLU2d", "ConvReLU3d", "BNReLU2d", "BNReLU3d"]


class LinearReLU(_QLinear):
    """A quantized linear with its ReLU fused: quantized::linear_relu (the output clamped
    below at its zero point)."""

    def __init__(self, in_features, out_features, bias=True, dtype=torch.qint8):
        super().__init__(in_features, out_features, bias, dtype)

    def forward(self, x):
        return torch.ops.quantized.linear_relu(x, self._packed_params._packed_params,
                                               self.scale, self.zero_point)

    def _get_name(self):
        return "QuantizedLinearReLU"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        return super().from_float(mod, use_precomputed_fake_quant)


class ConvReLU1d(_qconv.Conv1d):
    """A quantized Conv1d with its ReLU fused (quantized::conv1d_relu)."""
    _FLOAT_MODULE = _nni.ConvReLU1d

    def forward(self, input):
        if len(input.shape) != 3:
            raise ValueError("Input shape must be `(N, C, L)`!")
        if self.padding_mode != "zeros":
            input = torch.nn.functional.pad(
                input, [self.padding[0], self.padding[0]], mode=self.padding_mode)
        return torch.ops.quantized.conv1d_relu(input, self._packed_params, self.scale,
                                               self.zero_point)

    def _get_name(self):
        return "QuantizedConvReLU1d"


class ConvReLU2d(_qconv.Conv2d):
    """A quantized Conv2d with its ReLU fused (quantized::conv2d_relu)."""
    _FLOAT_MODULE = _nni.ConvReLU2d

    def forward(self, input):
        if len(input.shape) != 4:
            raise ValueError("Input shape must be `(N, C, H, W)`!")
        if self.padding_mode != "zeros":
            pads = [self.padding[1], self.padding[1], self.padding[0], self.padding[0]]
            input = torch.nn.functional.pad(
                input, pads, mode=self.padding_mode)
        return torch.ops.quantized.conv2d_relu(input, self._packed_params, self.scale,
                                               self.zero_point)

    def _get_name(self):
        return "QuantizedConvReLU2d"


class ConvReLU3d(_qconv.Conv3d):
    """A quantized Conv3d with its ReLU fused (quantized::conv3d_relu)."""
    _FLOAT_MODULE = _nni.ConvReLU3d

    def forward(self, input):
        if len(input.shape) != 5:
            raise ValueError("Input shape must be `(N, C, D, H, W)`!")
        if self.padding_mode != "zeros":
            pads = [self.padding[2], self.padding[2], self.padding[1], self.padding[1],
                    self.padding[0], self.padding[0]]
            input = torch.nn.functional.pad(
                input, pads, mode=self.padding_mode)
        return torch.ops.quantized.conv3d_relu(input, self._packed_params, self.scale,
                                               self.zero_point)

    def _get_name(self):
        return "QuantizedConvReLU3d"


class BNReLU2d(_qconv.BatchNorm2d):
    """A quantized BatchNorm2d with its ReLU fused (quantized::batch_norm2d_relu)."""

    def forward(self, input):
        if len(input.shape) != 4:
            raise ValueError("Input shape must be `(N, C, H, W)`!")
        return torch.ops.quantized.batch_norm2d_relu(
            input, self.weight, self.bias, self.running_mean, self.running_var, self.eps,
            float(self.scale), int(self.zero_point))

    def _get_name(self):
        return "QuantizedBNReLU2d"


class BNReLU3d(_qconv.BatchNorm3d):
    """A quantized BatchNorm3d with its ReLU fused (quantized::batch_norm3d_relu)."""

    def forward(self, input):
        if len(input.shape) != 5:
            raise ValueError("Input shape must be `(N, C, D, H, W)`!")
        return torch.ops.quantized.batch_norm3d_relu(
            input, self.weight, self.bias, self.running_mean, self.running_var, self.eps,
            float(self.scale), int(self.zero_point))

    def _get_name(self):
        return "QuantizedBNReLU3d"
