"""torch.ao.nn: the quantized modules (torch.ao.nn.quantized, .quantized.dynamic)."""
from . import quantized

__all__ = ["quantized"]
