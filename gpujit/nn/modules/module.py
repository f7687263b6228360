"""torch.nn.modules.module: Module and the global module hooks (register_module_*_hook)."""
from ..module import Module, _addindent, _IncompatibleKeys  # noqa: F401
from .._module_hooks import (  # noqa: F401
    register_module_backward_hook, register_module_forward_hook,
    register_module_forward_pre_hook, register_module_full_backward_hook,
    register_module_full_backward_pre_hook, register_module_buffer_registration_hook,
    register_module_module_registration_hook, register_module_parameter_registration_hook,
    _global_forward_pre_hooks, _global_forward_hooks, _global_backward_hooks,
    _global_backward_pre_hooks, _global_forward_hooks_always_called,
    _global_forward_hooks_with_kwargs, _global_buffer_registration_hooks,
    _global_module_registration_hooks, _global_parameter_registration_hooks,
)
from ...utils.hooks import RemovableHandle  # noqa: F401

__all__ = ["Module", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_hook", "register_module_full_backward_pre_hook",
           "register_module_backward_hook", "register_module_buffer_registration_hook",
           "register_module_module_registration_hook",
           "register_module_parameter_registration_hook", "RemovableHandle"]

# (torch.nn.modules.module's private names code imports: the global hook tables)
_REEXPORTED = (_addindent, _IncompatibleKeys, _global_forward_pre_hooks, _global_forward_hooks,
               _global_backward_hooks, _global_backward_pre_hooks,
               _global_forward_hooks_always_called, _global_forward_hooks_with_kwargs,
               _global_buffer_registration_hooks, _global_module_registration_hooks,
               _global_parameter_registration_hooks)
