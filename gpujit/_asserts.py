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
