"""torch.backends: the switches training scripts set and read back
(`torch.backends.cudnn.benchmark = True`, `torch.backends.cuda.matmul.allow_tf32 = True`,
`torch.backends.mps.is_available()`), as importable submodules (`import
torch.backends.cudnn as cudnn`).

gpujit has no cuDNN convolutions, TF32 matmuls, oneDNN or MPS device: the flags are kept,
checked and read back as PyTorch's (so scripts run unchanged) and change nothing in
gpujit's results; `is_available()` says what gpujit can use.
"""
from __future__ import annotations

import types as _types
from contextlib import contextmanager

__all__ = ["cpu", "cuda", "cudnn", "cusparselt", "mha", "mkl", "mkldnn", "mps", "nnpack",
           "openmp", "opt_einsum", "quantized",
           "disable_global_flags", "flags_frozen"]

_frozen = [False]


def disable_global_flags():
    """After this, a flag may be set only inside its module's `flags()` context (as torch)."""
    _frozen[0] = True


def flags_frozen():
    return _frozen[0]


@contextmanager
def _allow_mutation():
    old, _frozen[0] = _frozen[0], False
    try:
        yield
    finally:
        _frozen[0] = old


def _bool_setter(state, key, c_name):
    """A setter that takes a bool only, with the message of torch._C's setter."""
    def setter(value):
        if not isinstance(value, bool):
            raise RuntimeError(f"{c_name} expects a bool, but got {type(value).__name__}")
        state[key] = value
    return setter


def context_prop(getter, setter):
    """A module attribute read through getter and written through setter (torch's
    ContextProp), refused while flags are frozen."""
    def fset(module, value):
        if _frozen[0]:
            raise RuntimeError(f"not allowed to set {module.__name__} flags after "
                               f"disable_global_flags; please use flags() context manager "
                               f"instead")
        setter(value)
    return property(lambda module: getter(), fset)


def flag_module(module, **props):
    """Give `module` (a submodule's sys.modules entry) the properties `props`: setting
    `module.name = v` then runs the checked setter as torch's PropModule does."""
    name = module.__name__.rsplit(".", 1)[-1]
    cls = type(f"{name.capitalize()}Module", (_types.ModuleType,), props)
    module.__class__ = cls
    return module


from . import (cpu, cuda, cudnn, cusparselt, mha, mkl, mkldnn, mps, nnpack,  # noqa: E402
               openmp, opt_einsum, quantized)
