"""torch.ao.nn.intrinsic: fused float modules (what torch.ao.quantization.fuse_modules
makes, quantized as one op by convert): LinearReLU."""
from __future__ import annotations

from gpujit import nn

__all__ = ["_FusedModule", "LinearReLU"]


class _FusedModule(nn.Sequential):
    """A fusion of float modules (a Sequential of them) that convert quantizes as one."""


class LinearReLU(_FusedModule):
    """Linear then ReLU, quantized as quantized::linear_relu."""

    def __init__(self, linear, relu):
        if type(linear) is not nn.Linear or type(relu) is not nn.ReLU:
            raise AssertionError(f"Incorrect types for input modules{type(linear)}"
                                 f"{type(relu)}")
        super().__init__(linear, relu)


from . import quantized  # noqa: E402  (after the float fusions it converts)

__all__ += ["quantized"]
