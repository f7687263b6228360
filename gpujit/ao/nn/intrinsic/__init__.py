"""torch.ao.nn.intrinsic: fused float modules (what torch.ao.quantization.fuse_modules
makes, quantized as one op by convert): LinearReLU, ConvReLU1d / 2d / 3d, BNReLU2d / 3d."""
from __future__ import annotations

from gpujit import nn

__all__ = ["_FusedModule", "LinearReLU", "ConvReLU1d", "ConvReLU2d", "ConvReLU3d",
           "BNReLU2d", "BNReLU3d"]


class _FusedModule(nn.Sequential):
    """A fusion of float modules (a Sequential of them) that convert quantizes as one."""


class LinearReLU(_FusedModule):
    """Linear then ReLU, quantized as quantized::linear_relu."""

    def __init__(self, linear, relu):
        if type(linear) is not nn.Linear or type(relu) is not nn.ReLU:
            raise AssertionError(f"Incorrect types for input modules{type(linear)}"
                                 f"{type(relu)}")
        super().__init__(linear, relu)


def _fusion(name, first, doc):
    def __init__(self, a, relu):
        if type(a) is not first or type(relu) is not nn.ReLU:
            raise AssertionError(f"Incorrect types for input modules{type(a)}{type(relu)}")
        _FusedModule.__init__(self, a, relu)
    return type(name, (_FusedModule,), {"__init__": __init__, "__doc__": doc,
                                        "__module__": __name__})


ConvReLU1d = _fusion("ConvReLU1d", nn.Conv1d, "Conv1d then ReLU (quantized::conv1d_relu).")
ConvReLU2d = _fusion("ConvReLU2d", nn.Conv2d, "Conv2d then ReLU (quantized::conv2d_relu).")
ConvReLU3d = _fusion("ConvReLU3d", nn.Conv3d, "Conv3d then ReLU (quantized::conv3d_relu).")
BNReLU2d = _fusion("BNReLU2d", nn.BatchNorm2d,
                   "BatchNorm2d then ReLU (quantized::batch_norm2d_relu).")
BNReLU3d = _fusion("BNReLU3d", nn.BatchNorm3d,
                   "BatchNorm3d then ReLU (quantized::batch_norm3d_relu).")


from . import quantized  # noqa: E402  (after the float fusions it converts)

__all__ += ["quantized"]
