"""torch.backends.mkl: gpujit does not call MKL (NumPy's BLAS is whatever it was built with)."""

__all__ = ["is_available"]


def is_available() -> bool:
    return False
