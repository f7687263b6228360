"""torch.jit._freeze: freeze, optimize_for_inference, run_frozen_optimizations under PyTorch's module path."""
from . import freeze, optimize_for_inference, run_frozen_optimizations  # noqa: F401
