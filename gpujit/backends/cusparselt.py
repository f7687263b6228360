"""torch.backends.cusparselt: gpujit has no sparse tensors."""

__all__ = ["is_available", "version"]


def is_available() -> bool:
    return False


def version():
    return None
