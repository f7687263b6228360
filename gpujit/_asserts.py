"""torch._assert, in a module of its own: gpujit's namespace spells its dtypes `bool`,
`float`..., which the annotation and isinstance below mean as Python's types."""
from __future__ import annotations

from typing import Union

from .nn.functional import _from_source
from .tensor import Tensor


@_from_source
def _assert(condition: Union[bool, Tensor], message: str):
    """torch._assert: Python's `assert condition, message` as a function (torchvision's
    shape checks call it; scripted code compiles it from this source)."""
    if isinstance(condition, bool):
        assert condition, message
    else:
        assert bool(condition), message


def _check(cond, message=None):
    """torch._check: raise RuntimeError unless cond is True. message: a callable giving
    the error's text (PyTorch's eager signature; scripted code also takes a str, as
    TorchScript does)."""
    if not isinstance(cond, bool):
        raise TypeError(f"cond must be a bool, but got {type(cond)}")
    if message is not None and not callable(message):
        raise TypeError("message must be a callable")
    if not cond:
        raise RuntimeError(str(message()) if message is not None else CHECK_FAILED)


CHECK_FAILED = "Expected cond to be True, but got False."
