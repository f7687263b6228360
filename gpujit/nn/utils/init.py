"""torch.nn.utils.skip_init."""
from __future__ import annotations

import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """A module of module_cls made without running its parameter initialization, on
    kwargs' `device` (default cpu). As in PyTorch the module's constructor must take a
    `device` argument, and the parameters' values are unspecified: gpujit builds the module
    on that device and leaves whatever values the constructor gave them (there is no meta
    device to skip the work), with the random generators put back as they were: PyTorch
    draws nothing there, so the draws after it are PyTorch's."""
    from ..module import Module
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs.setdefault("device", "cpu")
    from ...random import fork_rng
    with fork_rng():
        return module_cls(*args, **kwargs)
