"""torch.ao.nn: the quantized modules (torch.ao.nn.quantized, .quantized.dynamic)."""
from . import quantized
from . import intrinsic

__all__ = ["quantized", "intrinsic"]
