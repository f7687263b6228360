"""torch.jit._fuser: fuser, set_fusion_strategy under PyTorch's module path."""
from . import fuser, set_fusion_strategy  # noqa: F401
