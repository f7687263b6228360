"""Process-wide switches of torch's top level that scripts set and read back:
matmul precision, deterministic algorithms, denormal flushing, inter-op threads, and
typename / is_storage.

gpujit's kernels are deterministic (no atomics in reductions; CuPy's reductions are
tree-ordered) and its float32 matmuls are IEEE float32 (NumPy / cuBLAS without TF32), so
these switches are kept and reported as set; they change no result, except one:
use_deterministic_algorithms(True) makes an assignment through an index that repeats a
position (index_put_, x[idx] = v, scatter_, index_copy_, put_) write the last value on
the GPU too (ops/bounds.assign; CuPy leaves it undefined, as PyTorch's CUDA kernels do).
"""
from __future__ import annotations

import numpy as _np

_state = {"matmul_precision": "highest", "deterministic": False, "warn_only": False,
          "interop_threads": 1}


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision: {precision!r}: expected 'highest', 'high' "
                           f"or 'medium'")
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms expects a bool, but got "
                        f"{type(mode).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def set_flush_denormal(mode: bool) -> bool:
    """False, as PyTorch on a CPU without SSE3 says: NumPy has no switch for the FTZ/DAZ
    bits, so denormals are kept."""
    return False


def set_num_interop_threads(n: int) -> None:
    if int(n) <= 0:
        raise RuntimeError("Expected positive number of threads")
    _state["interop_threads"] = int(n)


def get_num_interop_threads() -> int:
    return _state["interop_threads"]


def typename(obj) -> str:
    """torch.typename: 'torch.FloatTensor' for a float32 CPU tensor, the qualified class name
    of anything else."""
    from .tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(type(obj), "__module__", "") or ""
    name = type(obj).__qualname__
    if isinstance(obj, _np.ndarray):
        return "numpy.ndarray"
    return name if module in ("builtins", "") else f"{module}.{name}"


def is_storage(obj) -> bool:
    from .ops.tensor_flags import UntypedStorage
    return isinstance(obj, UntypedStorage)
