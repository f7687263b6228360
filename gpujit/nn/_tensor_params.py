"""PyTorch's parser TypeError for a Python-level torch.nn.functional function given a
non-Tensor (None, a str, a number) where it takes a Tensor: F.pdist(None) leaked the body's
AttributeError ('NoneType' object has no attribute 'dim'). The functions call it first,
under `if not torch.jit.is_scripting()` (scripted code types its arguments itself)."""
from __future__ import annotations

__all__ = ["tensor_args"]


def _type_name(v):
    t = type(v)
    return t.__name__ if t.__module__ == "builtins" or t.__flags__ & (1 << 9) \
        else f"{t.__module__}.{t.__qualname__}"


def tensor_args(fname, names, *values):
    """Raise "fname(): argument 'x' (position N) must be Tensor, not NoneType" for the
    first of values (the parameters `names`, space-separated, at positions 1, 2, ...) that
    is no Tensor; None where a name ends in '?' (an Optional[Tensor])."""
    from ..tensor import Tensor
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            n = names.split()[i]
            if n.endswith("?"):
                if v is None:
                    continue
                n = n[:-1]
            raise TypeError(f"{fname}(): argument '{n}' (position {i + 1}) must be Tensor, "
                            f"not {_type_name(v)}")
