"""The names of PyTorch's device kernels in its errors ('"igamma_cpu" not implemented for
'Bool''): an op's body or meta rule names the CPU kernel, and `kernel_name` gives the one
of the device the tensor is on (PyTorch's CUDA kernels are mostly "<name>_cuda"; the
exceptions, read in ATen's .cu sources, are listed in _CUDA)."""
from __future__ import annotations

import math
import types

import numpy as np

__all__ = ["kernel_name", "linalg_kernel_name", "not_implemented"]

# CPU kernel -> CUDA kernel, where "<x>_cpu" is not "<x>_cuda"
_CUDA = {
    "logcumsumexp_out_cpu": "logcumsumexp_cuda",    # ScanKernels / LogcumsumexpKernel.cu
    "cumsum_out_cpu": "cumsum_cuda",                # CumsumKernel.cu
    "cumprod_out_cpu": "cumprod_cuda",              # CumprodKernel.cu
    "searchsorted_out_cpu": "searchsorted_out_cuda",    # Bucketization.cu
    "addmm_impl_cpu_": "addmm_cuda",                # Blas.cpp (CUDA)
    "GeluKernelImpl": "GeluCUDAKernelImpl",         # ActivationGeluKernel.cu
    "GeluBackwardKernelImpl": "GeluBackwardCUDAKernelImpl",
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


# PyTorch's CPU kernels of pointwise ops, by op (the in-place variant the same), that its
# errors name for a dtype they refuse ('"hypot_cpu" not implemented for 'Long''), where the
# op sets no `kernel` of its own (registry.dtype_refused reads both)
CPU_KERNELS = {}
for _names, _k in ((("ceil",), "ceil_vml_cpu"), (("floor",), "floor_vml_cpu"),
                   (("round", "fix"), "round_vml_cpu"), (("trunc",), "trunc_vml_cpu"),
                   (("round.decimals",), "round_cpu"), (("frac",), "frac_cpu"),
                   (("hypot",), "hypot_cpu"), (("nextafter",), "nextafter_cpu"),
                   (("fmod.Tensor", "fmod.Scalar"), "fmod_cpu"),
                   (("remainder.Tensor", "remainder.Scalar"), "remainder_cpu"),
                   (("floor_divide", "floor_divide.Scalar"), "div_floor_cpu"),
                   (("gcd",), "gcd_cpu"), (("lcm",), "lcm_cpu"),
                   (("logaddexp",), "logaddexp_cpu"), (("logaddexp2",), "logaddexp2_cpu"),
                   (("lerp.Scalar",), "lerp_kernel_scalar"),
                   (("lerp.Tensor",), "lerp_kernel_tensor"),
                   (("tanh_backward",), "tanh_backward_cpu"),
                   (("sigmoid_backward",), "sigmoid_backward_cpu"),
                   (("gelu_backward",), "GeluBackwardKernelImpl"),
                   (("silu_backward",), "silu_backward_cpu"),
                   (("mish_backward",), "mish_backward_cpu"),
                   # (comparisons take every real dtype: their kernels refuse complex)
                   (("lt.Tensor", "lt.Scalar"), "lt_cpu"), (("le.Tensor", "le.Scalar"), "le_cpu"),
                   (("gt.Tensor", "gt.Scalar"), "gt_cpu"), (("ge.Tensor", "ge.Scalar"), "ge_cpu")):
    for _n in _names:
        base, _, ov = _n.partition(".")
        CPU_KERNELS["aten::" + _n] = _k
        CPU_KERNELS["aten::" + base + "_" + ("." + ov if ov else "")] = _k
CPU_KERNELS["aten::fix"] = CPU_KERNELS["aten::fix_"] = "trunc_vml_cpu"
# torch.special's functions without a float16 kernel ('"ndtri_cpu" not implemented for
# 'Half''): their kernel is "<name>_cpu" (session 47)
for _n in ("ndtri", "log_ndtr", "erfcx", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1",
           "spherical_bessel_j0", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "airy_ai", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "zeta"):
    CPU_KERNELS.setdefault("aten::special_" + _n, _n + "_cpu")


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


# ------------------------------------------------------------------ linalg

# The CUDA kernels of the linear-algebra stubs, read in ATen's cuda/linalg/
# BatchLinearAlgebra.cpp (which backend each stub picks, by size), BatchLinearAlgebraLib.cpp
# (cuSOLVER) and BatchLinearAlgebraLibBlas.cpp (cuBLAS): the names their
# AT_DISPATCH_FLOATING_AND_COMPLEX_TYPES give. The dtypes refused (float16, integers, bool)
# all take the `default:` branches of the size heuristics.

def _batch(shape) -> int:
    return math.prod(shape[:-2])


def _lu_factor_cuda(shape) -> str:
    """lu_factor: get_lu_factor_solver_backend (cuSOLVER looped vs cuBLAS batched)."""
    batch, m, n = _batch(shape), shape[-2], shape[-1]
    if m != n or batch == 1:
        return "lu_factor_cusolver"
    threshold = 2200 * batch if batch == 2 else 5200 * batch * int(math.sqrt(batch))
    return "lu_factor_cusolver" if n * n > threshold else "lu_factor_cublas"


def _lu_solve_cuda(n, k, b, trans) -> str:
    """lu_solve_kernel's heuristic: batched cuBLAS getrs, looped cuSOLVER getrs, or two
    triangular solves. n: LU's size, k: columns of B (of B^H with left=False), b: batch
    count of B, trans: whether A^T / A^H is solved."""
    cublas, cusolver, tri = "lu_solve_cublas", "lu_solve_cusolver", "triangular_solve_cuda"
    if n == k:
        return cublas if n <= 16 else tri
    if n <= 8:
        return cublas
    if n <= 64:
        if b <= 2 and (k <= 64 or trans or n <= 32):
            return cusolver
        return cublas if k <= 8 else tri
    if n <= 128:
        if b <= 2 and k <= 2:
            return cusolver
        return cublas if k <= 2 else tri
    return tri


def linalg_kernel_name(cpu_name: str, where, shape=(), *, driver=None, k=None, b=None,
                       trans=False) -> str:
    """The kernel a linalg op of an input of `shape` runs on where's device, named as in
    PyTorch's '"lu_factor_cusolver" not implemented for 'Half''. Extra facts: driver
    (linalg.svd), and for lu_solve k, b, trans (see _lu_solve_cuda)."""
    if not _on_cuda(where):
        return cpu_name
    shape = tuple(shape)
    if len(shape) < 2 or None in shape:     # (its own check refuses it; no crash here)
        shape = (1, 1)
    if cpu_name == "lu_cpu":
        return _lu_factor_cuda(shape)
    if cpu_name == "geqrf_cpu":          # geqrf_kernel: batched cuBLAS for many small ones
        m = shape[-2]
        return ("geqrf_batched_cuda" if m <= 256 and _batch(shape) >= max(2, m // 16)
                else "geqrf_cuda")
    if cpu_name == "linalg_svd_cpu":     # svd_cusolver: gesvdj by default
        d = driver or "gesvdj"
        if d == "gesvdj":
            return ("svd_cuda_gesvdjBatched" if shape[-2] <= 32 and shape[-1] <= 32
                    else "svd_cuda_gesvdj")
        return {"gesvd": "svd_cuda_gesvd", "gesvda": "svd_cuda_gesvdaStridedBatched"}.get(
            d, "svd_cuda_gesvdj")
    if cpu_name in ("cholesky_solve_cpu", "cholesky_inverse_out_cpu"):
        # one matrix: cuSOLVER potrs; a batch: two linalg.solve_triangular
        return "cholesky_cuda_potrs" if _batch(shape) == 1 else "triangular_solve_cuda"
    if cpu_name == "linalg.lu_solve_cpu":
        return _lu_solve_cuda(shape[-1], k, b, trans)
    return {"cholesky_cpu": "cholesky_cusolver", "linalg_eigh_cpu": "linalg_eigh_cuda",
            "orgqr_cpu": "orgqr_cuda", "ormqr_cpu": "orgmr_cuda",   # sic, ATen's spelling
            "triangular_solve_cpu": "triangular_solve_cuda"}.get(cpu_name,
                                                                  kernel_name(cpu_name, where))
