"""torch.utils.hooks: the handle every register_*_hook returns (modules, tensors, autograd
nodes, optimizers), and the unserializable_hook marker."""
from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]


class RemovableHandle:
    """A handle that removes one hook: the hook sits in `hooks_dict` (and in each of
    `extra_dict`, a dict or a list of dicts) under this handle's `id`; `remove()` deletes
    that key, so removing twice, or removing one of two registrations of the same
    function, takes out exactly that registration. A context manager that removes on exit.
    """
    id: int
    next_id: int = 0

    def __init__(self, hooks_dict, *, extra_dict=None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref: tuple = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, (list, tuple)):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state) -> None:
        # a pickled handle whose dict died points at a fresh (dead) one, as torch's
        self.hooks_dict_ref = weakref.ref(state[0] if state[0] is not None else OrderedDict())
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = (() if len(state) < 3 or state[2] is None
                               else tuple(weakref.ref(d) for d in state[2]))

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def unserializable_hook(f):
    """Mark f as a hook that is not saved with its tensor (no warning when saving)."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor) -> None:
    """Warn for each backward hook on `tensor` that saving it will drop."""
    ag = getattr(tensor, "_ag", None)
    for hook in (ag.hooks or {}).values() if ag is not None else ():
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this "
                          f"is expected, you can decorate the function with "
                          f"@torch.utils.hooks.unserializable_hook to suppress this warning",
                          stacklevel=2)


def __getattr__(name):
    if name in ("BackwardHook", "BackwardHookFunction"):   # (nn's module backward hooks:
        from ..nn import _backward_hooks     # imported when asked, nn imports this first)
        return getattr(_backward_hooks, name)
    raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
