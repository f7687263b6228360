"""gpujit: TorchScript rebuilt in Python for NVIDIA GPUs.

`import gpujit as torch` runs PyTorch-style eager code on NumPy (cpu) or CuPy (cuda:N);
later layers script/trace it into graphs and fuse them into numba kernels.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import dtypes as _dtypes
from .dtypes import (  # noqa: F401
    dtype, bool, uint8, int8, int16, int32, int64, float16, float32, float64, half, float,
    double, short, int, long, promote_types, result_type, can_cast, get_default_dtype,
    set_default_dtype, iinfo, finfo,
)
from .device import device  # noqa: F401
from .tensor import Tensor, Size  # noqa: F401
from . import ops as _ops_pkg
from .ops import registry as _registry
from .ops import (  # noqa: F401  (each family registers its ops on import)
    pointwise as _pw, conversion as _conv, views as _views, indexing as _indexing,
    creation as _creation, random as _random, reduction as _reduction, linalg as _linalg,
    shape as _shape, nn as _nn_ops,
)
from . import cuda  # noqa: F401
from .nn import functional as _functional
from .ops.bind import bind as _bind

_bind(globals(), Tensor, vars(_functional))
globals().update(_creation.PUBLIC)
globals().update(getattr(_random, "PUBLIC", {}))
globals().update(getattr(_shape, "PUBLIC", {}))
globals().update(getattr(_reduction, "PUBLIC", {}))
globals().update(getattr(_linalg, "PUBLIC", {}))

from . import nn, testing  # noqa: E402,F401
from .nn import Parameter  # noqa: E402,F401

FloatTensor = DoubleTensor = LongTensor = IntTensor = BoolTensor = Tensor


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(t):
    return t.is_floating_point()


def numel(t):
    return t.numel()


def get_ops():
    """{qualified name: OpDef} of the registry (read-only use)."""
    return dict(_registry.OPS)
