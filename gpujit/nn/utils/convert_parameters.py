"""parameters_to_vector / vector_to_parameters (torch.nn.utils.convert_parameters)."""
from __future__ import annotations

from typing import Iterable

import gpujit

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(param, old_device):
    """The device of the parameters seen so far; they must all share it."""
    if old_device is None:
        return param.device
    if param.device != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return old_device


def parameters_to_vector(parameters: Iterable) -> "gpujit.Tensor":
    """One 1-D tensor of every parameter, flattened and concatenated (recorded by autograd:
    its gradient flows back to the parameters)."""
    device = None
    vec = []
    for param in parameters:
        device = _check_same_device(param, device)
        vec.append(param.view(-1))
    return gpujit.cat(vec)


def vector_to_parameters(vec, parameters: Iterable) -> None:
    """Copy consecutive slices of the 1-D tensor vec into the parameters' data (views of
    vec, as PyTorch's `param.data = ...`), in order."""
    if not isinstance(vec, gpujit.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_same_device(param, device)
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
