"""torch.jit._serialization: save, load under PyTorch's module path."""
from . import save, load  # noqa: F401
