"""torch.nn.attention.bias: causal masks that scaled_dot_product_attention takes as its
attn_mask without materializing them (CausalBias, a Tensor subclass whose
__torch_function__ answers F.scaled_dot_product_attention): causal_upper_left(L, S) is
is_causal=True's mask (the top-left square's lower triangle), causal_lower_right(L, S)
its diagonal moved to the bottom-right corner (query i sees keys up to i + S - L).

The class's __torch_function__ is switched on after the class is made, and each instance
keeps gpujit's __torch_function__ layer on while it lives (overrides._keep_layer_while):
importing this module costs op calls nothing; only while a CausalBias exists are calls
checked for one, as while any Tensor subclass with a __torch_function__ exists."""
from __future__ import annotations

from enum import IntEnum, auto
from warnings import warn

import gpujit as _torch
from ... import overrides as _overrides

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(IntEnum):
    """Which causal mask: UPPER_LEFT (is_causal's) or LOWER_RIGHT."""
    UPPER_LEFT = auto()
    LOWER_RIGHT = auto()


class CausalBias(_torch.Tensor):
    """A causal attn_mask of seq_len_q x seq_len_kv, made into a bool tensor only where
    an attention needs it (_materialize)."""

    # (off while the class is made: see the module's docstring)
    __torch_function__ = _overrides._disabled_torch_function_impl

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        if not isinstance(variant, CausalVariant):
            raise AssertionError(
                f"variant must be a CausalVariant, got {type(variant).__name__}")
        super().__init__()
        _overrides._keep_layer_while(self)
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warn("Lower right causal bias will produce NaNs in the output when seq_len_q > "
                 "seq_len_kv!", stacklevel=2)

    def _upper_left(self, device):
        return _torch.tril(_torch.ones(self.seq_len_q, self.seq_len_kv, device=device,
                                       dtype=_torch.bool))

    def _lower_right(self, device):
        return _torch.tril(_torch.ones(self.seq_len_q, self.seq_len_kv, device=device,
                                       dtype=_torch.bool),
                           diagonal=self.seq_len_kv - self.seq_len_q)

    def _materialize(self, device=None):
        if device is None:
            device = _torch.device("cpu")
        if self.variant == CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        elif self.variant == CausalVariant.LOWER_RIGHT:
            return self._lower_right(device)

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p=0.0, is_causal=False, scale=None,
                  enable_gqa=False):
        F = _torch.nn.functional
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if attn_mask.seq_len_q == attn_mask.seq_len_kv or \
                attn_mask.variant == CausalVariant.UPPER_LEFT:
            return F.scaled_dot_product_attention(query, key, value, attn_mask=None,
                                                  dropout_p=dropout_p, is_causal=True,
                                                  scale=scale, enable_gqa=enable_gqa)
        elif attn_mask.variant == CausalVariant.LOWER_RIGHT:
            return F.scaled_dot_product_attention(
                query, key, value, attn_mask=attn_mask._materialize(query.device),
                dropout_p=dropout_p, is_causal=False, scale=scale, enable_gqa=enable_gqa)
        raise ValueError(f"CausalBias.variant must be a CausalVariant type, but found: "
                         f"{attn_mask.variant}")

    def __repr__(self) -> str:
        return self._materialize().__repr__()


def _causal_torch_function(cls, func, types, args=(), kwargs=None):
    if kwargs is None:
        kwargs = {}
    if func is _torch.nn.functional.scaled_dot_product_attention:
        return cls._dispatch(*args, **kwargs)
    return _torch.Tensor.__torch_function__.__func__(cls, func, types, args, kwargs)


CausalBias.__torch_function__ = classmethod(_causal_torch_function)
_overrides._install_entries(CausalBias)


def causal_upper_left(*size) -> CausalBias:
    """The is_causal=True mask of a (seq_len_q, seq_len_kv) attention."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.UPPER_LEFT, seq_len_q, seq_len_kv)


def causal_lower_right(*size) -> CausalBias:
    """The causal mask aligned to the bottom-right corner (the last query sees every key)."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.LOWER_RIGHT, seq_len_q, seq_len_kv)
