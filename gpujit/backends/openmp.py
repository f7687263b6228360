"""torch.backends.openmp: gpujit's parallel CPU kernels are numba's (see
torch.get_num_threads), not OpenMP."""

__all__ = ["is_available"]


def is_available() -> bool:
    return False
