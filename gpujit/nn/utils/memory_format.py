"""torch.nn.utils.memory_format: lay out every convolution weight of a module in a memory
format (channels_last for 2-d convolutions, channels_last_3d for 3-d ones), in place."""
from __future__ import annotations

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, memory_format, kinds):
    if isinstance(module, kinds):
        module.weight.data = module.weight.detach().clone(memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """The weights of module's Conv2d / ConvTranspose2d layers (itself and nested) in
    memory_format; returns module."""
    from ..modules import Conv2d, ConvTranspose2d
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """The weights of module's Conv3d / ConvTranspose3d layers in memory_format."""
    from ..modules import Conv3d, ConvTranspose3d
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
