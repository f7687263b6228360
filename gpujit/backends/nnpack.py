"""torch.backends.nnpack: gpujit's convolutions are its own (not NNPACK's)."""

__all__ = ["is_available"]


def is_available() -> bool:
    return False
