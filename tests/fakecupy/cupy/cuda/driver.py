"""Fake cupy.cuda.driver: launchKernel over a kernelParams block, emulated."""
from .._emulate import LaunchError


def launchKernel(f, grid_dim_x, grid_dim_y, grid_dim_z, block_dim_x, block_dim_y,
                 block_dim_z, shared_mem_bytes, stream, kernel_params, extra):
    from gpujit.kernels.launch import unpack_kernel_params
    from .function import _BY_PTR
    from . import get_current_stream
    args = (f, grid_dim_x, grid_dim_y, grid_dim_z, block_dim_x, block_dim_y, block_dim_z,
            shared_mem_bytes, stream, kernel_params, extra)
    if any(type(a) is not int for a in args):
        raise TypeError(f"fake cupy: launchKernel takes ints (C integers), got {args}")
    fn = _BY_PTR.get(f)
    if fn is None:
        raise LaunchError(f"CUDA_ERROR_INVALID_HANDLE: {f:#x} is not a loaded function")
    if (grid_dim_y, grid_dim_z, block_dim_y, block_dim_z, shared_mem_bytes, extra) != \
            (1, 1, 1, 1, 0, 0):
        raise LaunchError(f"unexpected launch configuration {args}")
    if stream != get_current_stream().ptr:
        raise LaunchError(f"launched on stream {stream:#x}, not CuPy's current stream")
    if not kernel_params:
        raise LaunchError("no kernelParams")
    fn._check_device()
    fn._run((grid_dim_x,), (block_dim_x,), unpack_kernel_params(kernel_params, fn._signature))
