"""torch.ao: PyTorch's architecture-optimization namespace; gpujit has its quantization
parts (torch.ao.quantization, torch.ao.nn.quantized, torch.ao.nn.quantized.dynamic)."""
from . import nn, quantization

__all__ = ["nn", "quantization"]
