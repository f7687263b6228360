"""torch.types: the type aliases PyTorch's annotations use (Number, Device, FileLike,
Storage, and the underscore names: _int, _float, _bool, _dtype, _device, _size, ...)."""
from __future__ import annotations

import os
from typing import IO, Sequence, Union

from .device import device as _device_cls
from .dtypes import dtype as _dtype_cls, layout as _layout_cls
from .tensor import Size, Tensor

__all__ = ["Number", "Device", "FileLike", "Storage"]

_bool = bool
_int = int
_float = float
_complex = complex
_str = str
_bytes = bytes
_dtype = _dtype_cls
_device = _device_cls
_layout = _layout_cls
_size = Union[Size, list[int], tuple[int, ...]]
_symsize = _size
IntLikeType = int
FloatLikeType = float
BoolLikeType = bool
_TensorOrTensors = Union[Tensor, Sequence[Tensor]]
_TensorOrOptionalTensors = Union[Tensor, Sequence[Union[Tensor, None]]]
_Number = (int, float, bool)            # (isinstance's tuple, as torch.types._Number)
Number = Union[int, float, bool]
Device = Union[_device_cls, str, int, None]
FileLike = Union[str, os.PathLike, IO[bytes]]
from .storage import UntypedStorage as _Untyped, TypedStorage as _Typed  # noqa: E402
Storage = Union[_Typed, _Untyped]
