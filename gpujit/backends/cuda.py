"""torch.backends.cuda: cuBLAS's matmul switches (`matmul.allow_tf32`, the reduced
precision reductions, `matmul.fp32_precision`) and the scaled-dot-product-attention
backend switches.

gpujit's float32 matmuls are IEEE float32 whatever is set: `matmul.allow_tf32` is
`torch.set_float32_matmul_precision` seen from the other side (True when the precision is
'high' or 'medium', as torch), and the SDP switches are the backend list that
`torch.nn.attention.sdpa_kernel` sets (gpujit runs one attention kernel for all of them).
"""
from __future__ import annotations

import contextlib
import enum
import warnings

from .. import runtime_flags as _flags

__all__ = ["matmul", "is_built", "flash_sdp_enabled", "enable_flash_sdp",
           "mem_efficient_sdp_enabled", "enable_mem_efficient_sdp", "math_sdp_enabled",
           "enable_math_sdp", "cudnn_sdp_enabled", "enable_cudnn_sdp", "sdp_kernel",
           "preferred_linalg_library", "preferred_blas_library"]


def is_built() -> bool:
    """Whether this gpujit can run CUDA (CuPy and a GPU present)."""
    from .. import cuda as _c
    return _c.is_available()


def _check_bool(value, c_name):
    if not isinstance(value, bool):
        raise RuntimeError(f"{c_name} expects a bool, but got {type(value).__name__}")
    return value


def _parse_reduction(value, attr):
    """torch's cuBLASModule._parse_reduction_setting: a bool, or (allow[, split_k])."""
    def ensure(obj, which):
        if isinstance(obj, bool):
            return obj
        raise TypeError(f"{attr} expects a bool for {which}, but got {type(obj)!r}")
    if isinstance(value, bool):
        return value, True
    if isinstance(value, (list, tuple)):
        if not value:
            raise TypeError(f"{attr} expects at least one boolean argument")
        if len(value) > 2:
            raise TypeError(f"{attr} expects at most two boolean arguments")
        allow = ensure(value[0], "allow_reduced_precision")
        return allow, (True if len(value) == 1 else ensure(value[1], "allow_splitk"))
    raise TypeError(f"{attr} expects a bool or a tuple/list of bools, but got {type(value)!r}")


class cuBLASModule:
    """`torch.backends.cuda.matmul`: only its known attributes read and write."""

    _reduction = {"allow_fp16_reduced_precision_reduction": (True, True),
                  "allow_bf16_reduced_precision_reduction": (True, True)}
    _fp16_accumulation = [False]

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _flags.get_float32_matmul_precision() != "highest"
        if name == "fp32_precision":
            return _flags._state["matmul_fp32_precision"]
        if name == "allow_fp16_accumulation":
            return self._fp16_accumulation[0]
        base = name[:-len("_split_k")] if name.endswith("_split_k") else name
        if base in self._reduction:
            return self._reduction[base][name != base]
        raise AttributeError("Unknown attribute " + name)

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _check_bool(value, "set_allow_tf32_cublas")
            _flags.set_float32_matmul_precision("high" if value else "highest")
        elif name == "fp32_precision":
            if value not in ("none", "ieee", "tf32"):
                raise RuntimeError(f"Unknown precision: {value}")
            _flags._state["matmul_fp32_precision"] = value
            if value != "none":
                _flags._state["matmul_precision"] = "high" if value == "tf32" else "highest"
        elif name == "allow_fp16_accumulation":
            self._fp16_accumulation[0] = _check_bool(value, "set_allow_fp16_accumulation")
        elif name in self._reduction:
            self._reduction[name] = _parse_reduction(value, name)
        else:
            raise AttributeError("Unknown attribute " + name)


matmul = cuBLASModule()


class _LinalgBackend(enum.Enum):
    """torch._C._LinalgBackend (its str / repr / int as torch's)."""
    Default = 0
    Cusolver = 1
    Magma = 2

    def __int__(self):
        return self.value

    __index__ = __int__


class _BlasBackend(enum.Enum):
    """torch._C._BlasBackend."""
    Default = 0
    Cublas = 1
    Cublaslt = 2
    Ck = 3

    def __int__(self):
        return self.value

    __index__ = __int__


_linalg_backend = [_LinalgBackend.Default]


def preferred_linalg_library(backend=None):
    """The linear algebra library preferred on CUDA (a _LinalgBackend): gpujit's CUDA linear
    algebra is CuPy's (cuSOLVER), so Default and cusolver may be set; MAGMA, which gpujit
    is not built with, is refused in torch's words."""
    if backend is None:
        return _linalg_backend[0]
    if isinstance(backend, str):
        names = {"default": _LinalgBackend.Default, "cusolver": _LinalgBackend.Cusolver,
                 "magma": _LinalgBackend.Magma}
        if backend not in names:
            raise RuntimeError("Unknown input value. Choose from: default, cusolver, magma.")
        backend = names[backend]
    elif not isinstance(backend, _LinalgBackend):
        raise RuntimeError("Unknown input value type.")
    if backend is _LinalgBackend.Magma:
        raise RuntimeError("Cannot set preferred backend to MAGMA if PyTorch has not been "
                           "compiled with MAGMA.")
    _linalg_backend[0] = backend
    return backend


def preferred_blas_library(backend=None):
    """The BLAS library preferred on CUDA (a _BlasBackend): cuBLAS, CuPy's."""
    if backend is None:
        return _BlasBackend.Cublas
    if isinstance(backend, str):
        names = {"cublas": _BlasBackend.Cublas, "hipblas": _BlasBackend.Cublas,
                 "cublaslt": _BlasBackend.Cublaslt, "hipblaslt": _BlasBackend.Cublaslt,
                 "ck": _BlasBackend.Ck}
        if backend not in names:
            raise RuntimeError("Unknown input value. Choose from: default, cublas, hipblas, "
                               "cublaslt, hipblaslt, ck.")
        backend = names[backend]
    elif not isinstance(backend, _BlasBackend):
        raise RuntimeError("Unknown input value type.")
    if backend is _BlasBackend.Cublaslt:
        raise RuntimeError("Cannot set preferred backend to cuBLASLt if PyTorch has not been "
                           "compiled with cuBLASLt.")
    if backend is _BlasBackend.Ck:
        raise RuntimeError("Cannot set preferred backend to Ck if PyTorch has not been "
                           "compiled with Ck.")
    return _BlasBackend.Cublas


# ------------------------------------------------- scaled dot product attention switches

def _backend(name):
    from ..nn.attention import SDPBackend
    return SDPBackend[name]


def _is_enabled(name):
    from ..nn.attention import _enabled
    return _backend(name) in _enabled[-1]


def _enable(name, enabled, c_name):
    from ..nn.attention import _enabled
    _check_bool(enabled, c_name)
    current, b = _enabled[-1], _backend(name)
    if enabled and b not in current:
        current.append(b)
    elif not enabled and b in current:
        current.remove(b)


def flash_sdp_enabled():
    return _is_enabled("FLASH_ATTENTION")


def enable_flash_sdp(enabled: bool):
    _enable("FLASH_ATTENTION", enabled, "set_sdp_use_flash")


def mem_efficient_sdp_enabled():
    return _is_enabled("EFFICIENT_ATTENTION")


def enable_mem_efficient_sdp(enabled: bool):
    _enable("EFFICIENT_ATTENTION", enabled, "set_sdp_use_mem_efficient")


def math_sdp_enabled():
    return _is_enabled("MATH")


def enable_math_sdp(enabled: bool):
    _enable("MATH", enabled, "set_sdp_use_math")


def cudnn_sdp_enabled():
    return _is_enabled("CUDNN_ATTENTION")


def enable_cudnn_sdp(enabled: bool):
    _enable("CUDNN_ATTENTION", enabled, "set_sdp_use_cudnn")


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True):
    """Deprecated form of `torch.nn.attention.sdpa_kernel` (torch's FutureWarning)."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this "
                  "context manager will be removed. Please see "
                  "`torch.nn.attention.sdpa_kernel()` for the new context manager, with "
                  "updated signature.", FutureWarning, stacklevel=3)
    from ..nn.attention import sdpa_kernel
    chosen = [_backend(n) for n, on in (("FLASH_ATTENTION", enable_flash),
                                        ("EFFICIENT_ATTENTION", enable_mem_efficient),
                                        ("MATH", enable_math),
                                        ("CUDNN_ATTENTION", enable_cudnn)) if on]
    with sdpa_kernel(chosen) as context:
        yield context
