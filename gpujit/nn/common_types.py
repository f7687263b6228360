"""torch.nn.common_types: the type aliases of nn's size-like arguments.

`_size_2_t` is an int or a tuple of two ints (what Conv2d's kernel_size takes). In
scripted code, as in TorchScript, the `_size_N_t` aliases are broadcasting lists
(gpujit._jit_internal.BroadcastingListN[int]): a List[int] of N elements, a single int
standing for all of them. The other aliases are plain Unions."""
from __future__ import annotations

import typing
from typing import Optional, Tuple, TypeVar, Union

from .._jit_internal import Broadcast
from ..tensor import Tensor

T = TypeVar("T")
_scalar_or_tuple_any_t = Union[T, Tuple[T, ...]]
_scalar_or_tuple_1_t = Union[T, Tuple[T]]
_scalar_or_tuple_2_t = Union[T, Tuple[T, T]]
_scalar_or_tuple_3_t = Union[T, Tuple[T, T, T]]
_scalar_or_tuple_4_t = Union[T, Tuple[T, T, T, T]]
_scalar_or_tuple_5_t = Union[T, Tuple[T, T, T, T, T]]
_scalar_or_tuple_6_t = Union[T, Tuple[T, T, T, T, T, T]]


def _sizes(n, alias):
    return typing.Annotated[alias[int], Broadcast(n, int)]


_size_any_t = _scalar_or_tuple_any_t[int]
_size_1_t = _sizes(1, _scalar_or_tuple_1_t)
_size_2_t = _sizes(2, _scalar_or_tuple_2_t)
_size_3_t = _sizes(3, _scalar_or_tuple_3_t)
_size_4_t = _sizes(4, _scalar_or_tuple_4_t)
_size_5_t = _sizes(5, _scalar_or_tuple_5_t)
_size_6_t = _sizes(6, _scalar_or_tuple_6_t)

_size_any_opt_t = _scalar_or_tuple_any_t[Optional[int]]
_size_2_opt_t = _scalar_or_tuple_2_t[Optional[int]]
_size_3_opt_t = _scalar_or_tuple_3_t[Optional[int]]

_ratio_2_t = _scalar_or_tuple_2_t[float]
_ratio_3_t = _scalar_or_tuple_3_t[float]
_ratio_any_t = _scalar_or_tuple_any_t[float]

_tensor_list_t = _scalar_or_tuple_any_t[Tensor]
