"""The names of PyTorch's device kernels in its errors ('"igamma_cpu" not implemented for
'Bool''): an op's body or meta rule names the CPU kernel, and `kernel_name` gives the one
of the device the tensor is on (PyTorch's CUDA kernels are mostly "<name>_cuda"; the
exceptions, read in ATen's .cu sources, are listed in _CUDA)."""
from __future__ import annotations

import types

import numpy as np

__all__ = ["kernel_name", "not_implemented"]

# CPU kernel -> CUDA kernel, where "<x>_cpu" is not "<x>_cuda"
_CUDA = {
    "logcumsumexp_out_cpu": "logcumsumexp_cuda",    # ScanKernels / LogcumsumexpKernel.cu
    "cumsum_out_cpu": "cumsum_cuda",                # CumsumKernel.cu
    "cumprod_out_cpu": "cumprod_cuda",              # CumprodKernel.cu
    "searchsorted_out_cpu": "searchsorted_out_cuda",    # Bucketization.cu
    "addmm_impl_cpu_": "addmm_cuda",                # Blas.cpp (CUDA)
}


def _on_cuda(where) -> bool:
    """where: a device, a Tensor / TensorMeta (its .device), an array (NumPy's is on the
    CPU) or an array namespace (numpy is the CPU's)."""
    if where is None:
        return False
    if isinstance(where, types.ModuleType):
        return where is not np
    if isinstance(where, np.ndarray) or isinstance(where, np.generic):
        return False
    t = getattr(where, "type", None)
    if isinstance(t, str) and t in ("cpu", "cuda", "meta"):
        return t == "cuda"
    dev = getattr(where, "device", None)
    if dev is not None and isinstance(getattr(dev, "type", None), str):
        return dev.type == "cuda"
    return hasattr(where, "__cuda_array_interface__")   # a CuPy array


def kernel_name(cpu_name: str, where) -> str:
    """The name of PyTorch's kernel `cpu_name` ("igamma_cpu") on where's device."""
    if not _on_cuda(where):
        return cpu_name
    if cpu_name in _CUDA:
        return _CUDA[cpu_name]
    if cpu_name.endswith("_cpu"):
        return cpu_name[:-len("_cpu")] + "_cuda"
    return cpu_name.replace("_cpu_", "_cuda_")


def not_implemented(cpu_name: str, where, dtype_name: str) -> NotImplementedError:
    """PyTorch's error of a kernel without a version for a dtype ('"igamma_cuda" not
    implemented for 'Bool''): a NotImplementedError, a RuntimeError there."""
    return NotImplementedError(f"\"{kernel_name(cpu_name, where)}\" not implemented for "
                               f"'{dtype_name}'")
