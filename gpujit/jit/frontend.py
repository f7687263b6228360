"""torch.jit.frontend's exception classes, for code that catches them: a construct
TorchScript does not support raises NotSupportedError, a node kind it has no rule for
(`try`, a lambda, a nested `def`) UnsupportedNodeError; both are FrontendErrors."""
from ..frontend.script.errors import (FrontendError, NotSupportedError,  # noqa: F401
                                      UnsupportedNodeError)

__all__ = ["FrontendError", "NotSupportedError", "UnsupportedNodeError"]
