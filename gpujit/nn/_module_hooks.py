"""Calling an nn.Module and its hooks, as torch.nn.Module._call_impl: forward pre-hooks,
forward hooks (with kwargs, always_call), full backward (pre-)hooks, and the global hooks
every module runs (torch.nn.modules.module.register_module_forward_hook ...), the global
ones first. `Module` inherits ModuleHooksMixin.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict

from ..utils.hooks import RemovableHandle

__all__ = ["ModuleHooksMixin", "call_hook", "register_module_forward_pre_hook",
           "register_module_forward_hook", "register_module_full_backward_hook",
           "register_module_full_backward_pre_hook", "register_module_backward_hook"]


class _CallHook:
    """`hook`, when set (by the tracer), wraps every module call:
    hook(module, call, args, kwargs) where call(*args, **kwargs) runs it."""
    __slots__ = ("hook",)

    def __init__(self):
        self.hook = None


call_hook = _CallHook()

# the global hooks (torch.nn.modules.module's), run by every module before its own
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_with_kwargs: OrderedDict = OrderedDict()
_global_forward_hooks_always_called: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_is_full_backward_hook = [None]


def register_module_forward_pre_hook(hook):
    """hook(module, args) -> None or new args, before every module's forward."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """hook(module, args, output) (or (module, args, kwargs, output)) -> None or a new
    output, after every module's forward (always_call: also when forward raised)."""
    handle = RemovableHandle(_global_forward_hooks,
                             extra_dict=_global_forward_hooks_always_called)
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def _set_global_kind(full):
    if _global_is_full_backward_hook[0] is (not full):
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as "
                           "a global Module hook. Please use only one of them.")
    _global_is_full_backward_hook[0] = full


def register_module_full_backward_hook(hook):
    """hook(module, grad_input, grad_output) for every module (see
    Module.register_full_backward_hook)."""
    _set_global_kind(True)
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_pre_hook(hook):
    """hook(module, grad_output) for every module, before its arguments' gradients."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


# registration hooks: hook(module, name, value) -> None or the value to register instead,
# run when any module registers a buffer, a submodule or a parameter
_global_buffer_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()
_global_parameter_registration_hooks: OrderedDict = OrderedDict()


def register_module_buffer_registration_hook(hook):
    """hook(module, name, buffer) -> None or a new buffer, at every buffer registration
    (register_buffer, assigning a buffer attribute)."""
    handle = RemovableHandle(_global_buffer_registration_hooks)
    _global_buffer_registration_hooks[handle.id] = hook
    return handle


def register_module_module_registration_hook(hook):
    """hook(module, name, submodule) -> None or a new submodule, at every submodule
    registration (add_module, assigning a module attribute)."""
    handle = RemovableHandle(_global_module_registration_hooks)
    _global_module_registration_hooks[handle.id] = hook
    return handle


def register_module_parameter_registration_hook(hook):
    """hook(module, name, param) -> None or a new parameter, at every registration of a
    parameter (not of None)."""
    handle = RemovableHandle(_global_parameter_registration_hooks)
    _global_parameter_registration_hooks[handle.id] = hook
    return handle


def _registered(hooks, module, name, value):
    """value after the registration hooks (each may return a replacement)."""
    for hook in list(hooks.values()):
        out = hook(module, name, value)
        if out is not None:
            value = out
    return value


def register_module_backward_hook(hook):
    """Deprecated in PyTorch for register_module_full_backward_hook; gpujit runs it as a
    full backward hook, as Module.register_backward_hook."""
    _set_global_kind(False)
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def _silenced(kind, e):
    warnings.warn(f"{kind} forward hook with ``always_call=True`` raised an exception that was "
                  f"silenced as another error was raised in forward: {e}", stacklevel=3)


class ModuleHooksMixin:
    """register_*_hook and __call__ (mixed into Module)."""

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs,
                                             self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> a new grad_input or None, run when the
        gradients of the module's Tensor arguments are computed (grad_input has one entry
        per positional argument: None where it has no gradient)."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward "
                               "hooks on a single Module. Please use only one of them.")
        self._is_full_backward_hook = True
        return self._add_backward_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """hook(module, grad_output) -> a new grad_output or None, run when the gradients
        of the module's results are computed, before those of its arguments."""
        return self._add_backward_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        """Deprecated in PyTorch for register_full_backward_hook; gpujit runs it as a full
        backward hook (grad_input: the gradients of the module's arguments, not of the
        inputs of the last autograd node of its forward as PyTorch's)."""
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward "
                               "hooks on a single Module. Please use only one of them.")
        self._is_full_backward_hook = False
        return self._add_backward_hook(self._backward_hooks, hook, False)

    def _add_backward_hook(self, hooks, hook, prepend):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    # what Module.compile() put in place of the call (torch's _compiled_call_impl)
    _compiled_call_impl = None

    def _call_impl(self, *args, **kwargs):
        compiled = self._compiled_call_impl
        if compiled is not None:
            return compiled(*args, **kwargs)
        return self._call_hooked(*args, **kwargs)

    def _forward_call(self, args, kwargs):
        """self.forward(*args, **kwargs); while tracing, through the tracer's module
        boundary (`call_hook`), which holds the forward alone, as torch's _slow_forward:
        the module's forward pre-hooks and hooks run outside it, so a trace records their
        ops in the caller's graph, not in the submodule's method."""
        if call_hook.hook is not None:
            return call_hook.hook(self, self.forward, args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_hooked(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or
                self._backward_pre_hooks or _global_forward_pre_hooks or
                _global_forward_hooks or _global_backward_hooks or
                _global_backward_pre_hooks):
            if call_hook.hook is not None:      # the tracer follows module boundaries
                return call_hook.hook(self, self.forward, args, kwargs)
            return self.forward(*args, **kwargs)
        for hook_id, hook in (*_global_forward_pre_hooks.items(),
                              *self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if isinstance(res, tuple) and len(res) == 2:
                        args, kwargs = res
                    else:
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw = None
        backward = [*_global_backward_hooks.values(), *self._backward_hooks.values()]
        backward_pre = [*_global_backward_pre_hooks.values(),
                        *self._backward_pre_hooks.values()]
        if backward or backward_pre:
            from ._backward_hooks import BackwardHook
            bw = BackwardHook(self, backward, backward_pre)
            args = bw.setup_input_hook(args)
        result, called = None, set()
        try:
            result = self._forward_call(args, kwargs)
            for hook_id, hook in (*_global_forward_hooks.items(),
                                  *self._forward_hooks.items()):
                if (hook_id in self._forward_hooks_always_called
                        or hook_id in _global_forward_hooks_always_called):
                    called.add(hook_id)
                if (hook_id in self._forward_hooks_with_kwargs
                        or hook_id in _global_forward_hooks_with_kwargs):
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res
        except Exception:
            # the always_call hooks not run yet still see the call (and any error they
            # raise is reported as a warning, as torch's)
            for hook_id, hook in _global_forward_hooks.items():
                if hook_id in _global_forward_hooks_always_called and hook_id not in called:
                    try:
                        res = hook(self, args, result)
                        result = result if res is None else res
                    except Exception as e:      # noqa: BLE001
                        _silenced("global module", e)
            for hook_id, hook in self._forward_hooks.items():
                if hook_id in self._forward_hooks_always_called and hook_id not in called:
                    try:
                        res = (hook(self, args, kwargs, result)
                               if hook_id in self._forward_hooks_with_kwargs
                               else hook(self, args, result))
                        result = result if res is None else res
                    except Exception as e:      # noqa: BLE001
                        _silenced("module", e)
            raise
        if bw is not None:
            result = bw.setup_output_hook(result)
        return result

    __call__ = _call_impl
