"""torch.ao.nn: the quantized modules (torch.ao.nn.quantized, .quantized.dynamic)."""
from . import quantized
from . import intrinsic
from . import qat

__all__ = ["quantized", "intrinsic", "qat"]
