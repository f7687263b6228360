"""torch.nn.modules.module: Module and the global module hooks (register_module_*_hook)."""
from ..module import Module, _addindent  # noqa: F401
from .._module_hooks import (  # noqa: F401
    register_module_backward_hook, register_module_forward_hook,
    register_module_forward_pre_hook, register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)
from ...utils.hooks import RemovableHandle  # noqa: F401

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_hook", "register_module_full_backward_pre_hook",
           "register_module_backward_hook", "RemovableHandle"]
