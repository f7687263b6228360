"""gpujit.kernels: fusion group -> code. Generated numba source from the registry's scalar
expressions, compiled for CUDA (PTX launched through CuPy), for the CPU (numba njit) and for
numba's CUDA simulator, plus the on-disk kernel cache (the fuser issue). It knows nothing
about the frontend or the graph passes."""
