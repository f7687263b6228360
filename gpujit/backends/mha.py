"""torch.backends.mha: the switch of nn.MultiheadAttention's / TransformerEncoderLayer's
inference fast path. gpujit runs one attention path; the switch is kept and read back."""

__all__ = ["get_fastpath_enabled", "set_fastpath_enabled"]

_state = {"enabled": True}


def get_fastpath_enabled() -> bool:
    return _state["enabled"]


def set_fastpath_enabled(value: bool) -> None:
    _state["enabled"] = bool(value)
