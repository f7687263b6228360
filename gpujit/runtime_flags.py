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

_state = {"matmul_precision": "highest", "matmul_fp32_precision": "none",
          "deterministic": False, "warn_only": False, "interop_threads": 1,
          # torch.utils.deterministic.fill_uninitialized_memory: with deterministic
          # algorithms on, empty / empty_like / new_empty / empty_strided fill their memory
          # (NaN, the largest integer, True) as torch's
          "fill_uninitialized_memory": True}


def set_float32_matmul_precision(precision: str) -> None:
    """Kept and read back (also as torch.backends.cuda.matmul.allow_tf32 / fp32_precision);
    an unknown name warns and changes nothing, as torch."""
    if precision not in ("highest", "high", "medium"):
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _state["matmul_precision"] = precision
    _state["matmul_fp32_precision"] = "ieee" if precision == "highest" else "tf32"


def get_float32_matmul_precision() -> str:
    return _state["matmul_precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must "
                        f"be bool, not {type(mode).__name__}")
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
    from .storage import UntypedStorage, TypedStorage
    return isinstance(obj, (UntypedStorage, TypedStorage))


# ------------------------------------------------------------------ deterministic debug mode

_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    """0/'default': deterministic algorithms off; 1/'warn': on, warn only; 2/'error': on
    (torch.use_deterministic_algorithms underneath, as PyTorch)."""
    if isinstance(debug_mode, bool) or not isinstance(debug_mode, (str, int)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode == 0:
        use_deterministic_algorithms(False)
    elif debug_mode == 1:
        use_deterministic_algorithms(True, warn_only=True)
    elif debug_mode == 2:
        use_deterministic_algorithms(True)
    else:
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")


def get_deterministic_debug_mode() -> int:
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


# ------------------------------------------------------------------ warn always

_state["warn_always"] = False


def set_warn_always(b: bool) -> None:
    """When True, warnings PyTorch gives once per process (deprecations of nuclear_norm,
    torch.qr, ...) are given every time."""
    _state["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _state["warn_always"]


# ------------------------------------------------------------------ set_default_tensor_type

_state["tensor_type_device"] = False


def set_default_tensor_type(t) -> None:
    """Deprecated (PyTorch 2.1): the default dtype from a floating legacy type
    (torch.DoubleTensor or 'torch.DoubleTensor'); a torch.cuda.* type also makes CUDA the
    default device."""
    from ._frames import warn_at_user_frame
    from . import _tensor_types as _tt
    import gpujit
    warn_at_user_frame("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, "
                       "please use torch.set_default_dtype() and torch.set_default_device() "
                       "as alternatives.")
    if isinstance(t, str):
        name = t
        for prefix, table in (("torch.cuda.", _tt.CUDA_TYPES), ("torch.", _tt.TYPES),
                              ("gpujit.cuda.", _tt.CUDA_TYPES), ("gpujit.", _tt.TYPES)):
            if name.startswith(prefix) and name.endswith("Tensor") \
                    and name[len(prefix):-len("Tensor")] in table:
                t = table[name[len(prefix):-len("Tensor")]]
                break
        else:
            raise TypeError(f"invalid type: '{name}'")
    if not isinstance(t, _tt.tensortype):
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if t.is_cuda and not gpujit.cuda.is_available():
        raise TypeError(f"type torch.cuda.{t.__name__} not available. Torch not compiled "
                        f"with CUDA enabled.")
    gpujit.set_default_dtype(t.dtype)
    if t.is_cuda:
        gpujit.set_default_device("cuda")
        _state["tensor_type_device"] = True
    elif _state["tensor_type_device"]:
        gpujit.set_default_device(None)
        _state["tensor_type_device"] = False
