"""torch.ao.nn.quantized.Embedding / EmbeddingBag: 8-bit rows quantized with float qparams
(per_channel_affine_float_qparams, float_qparams_weight_only_qconfig), held packed
(`_packed_params._packed_weight`, quantized::embedding_bag_prepack's object); forward is
quantized::embedding_byte / embedding_bag_byte (float results)."""
from __future__ import annotations

import gpujit as torch
from gpujit import nn

__all__ = ["EmbeddingPackedParams", "Embedding", "EmbeddingBag"]


class EmbeddingPackedParams(nn.Module):
    _version = 1

    def __init__(self, num_embeddings, embedding_dim, dtype=torch.quint8):
        super().__init__()
        self.dtype = dtype
        if self.dtype is not torch.quint8:
            raise NotImplementedError(f"gpujit's quantized embeddings are 8-bit (quint8): "
                                      f"got {self.dtype} (quantized::embedding_4bit is not "
                                      f"available)")
        self.set_weight(_empty_float_qparams_weight(num_embeddings, embedding_dim))

    def set_weight(self, weight):
        self._packed_weight = torch.ops.quantized.embedding_bag_prepack(weight)

    def _weight(self):
        return torch.ops.quantized.embedding_bag_unpack(self._packed_weight)

    def forward(self, x):
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_weight"] = self._weight()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        self.dtype = state_dict.pop(prefix + "dtype")
        self.set_weight(state_dict.pop(prefix + "_packed_weight"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False,
                                      missing_keys, unexpected_keys, error_msgs)

    def __repr__(self):
        return self._weight().__repr__()


def _empty_float_qparams_weight(n, d):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.quantize_per_channel(torch.zeros(n, d), torch.ones(n), torch.zeros(n),
                                          0, torch.quint8)


class Embedding(nn.Module):
    """A quantized embedding: rows of 8-bit integers with per-row float qparams."""
    _version = 1

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 dtype=torch.quint8):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.dtype = dtype
        if _weight is None:
            qweight = _empty_float_qparams_weight(num_embeddings, embedding_dim)
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            qweight = _weight
        self._packed_params = EmbeddingPackedParams(num_embeddings, embedding_dim, dtype)
        self._packed_params.set_weight(qweight)

    def forward(self, indices):
        return torch.ops.quantized.embedding_byte(self._packed_params._packed_weight,
                                                  indices)

    def _get_name(self):
        return "QuantizedEmbedding"

    def __repr__(self):
        return self._get_name() + "(" + self.extra_repr() + ")"

    def extra_repr(self):
        return (f"num_embeddings={self.num_embeddings}, embedding_dim={self.embedding_dim}, "
                f"dtype={self._packed_params.dtype}, qscheme={self.weight().qscheme()}")

    def set_weight(self, w):
        self._packed_params.set_weight(w)

    def weight(self):
        return self._packed_params._weight()

    @classmethod
    def _observed_weight(cls, mod, float_cls):
        from gpujit.ao.nn.quantized import _quantize_weight
        from gpujit.ao.quantization.qconfig import float_qparams_weight_only_qconfig
        if type(mod) is not float_cls:
            raise AssertionError(f"nnq.{cls.__name__}.from_float only works for "
                                 f"{float_cls.__name__}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError(f"{float_cls.__name__} input float module must have qconfig "
                                 f"defined")
        if mod.qconfig is not None and mod.qconfig.weight is not None:
            weight_observer = mod.qconfig.weight()
        else:
            weight_observer = float_qparams_weight_only_qconfig.weight()
        dtype = weight_observer.dtype
        if weight_observer.qscheme is not torch.per_channel_affine_float_qparams:
            raise AssertionError(f"{float_cls.__name__} quantization is only supported with "
                                 f"float_qparams_weight_only_qconfig.")
        if dtype not in (torch.quint8, torch.quint4x2):
            raise AssertionError(f"The only supported dtype for nnq.{float_cls.__name__} is "
                                 f"torch.quint8 and torch.quint4x2, got {dtype}")
        weight_observer(mod.weight)
        return _quantize_weight(mod.weight.float(), weight_observer), dtype

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        qweight, dtype = cls._observed_weight(mod, nn.Embedding)
        q = Embedding(mod.num_embeddings, mod.embedding_dim, dtype=dtype)
        q.set_weight(qweight)
        return q


class EmbeddingBag(Embedding):
    """A quantized EmbeddingBag: quantized::embedding_bag_byte, the bags summed (as
    torch 2.13's, whatever `mode`)."""
    _version = 1

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="sum", sparse=False, _weight=None,
                 include_last_offset=False, dtype=torch.quint8):
        super().__init__(num_embeddings, embedding_dim, _weight=_weight, dtype=dtype)
        self.mode = mode
        self.pruned_weights = False
        self.include_last_offset = include_last_offset
        self.dtype = dtype

    def forward(self, indices, offsets=None, per_sample_weights=None,
                compressed_indices_mapping=None):
        return torch.ops.quantized.embedding_bag_byte(
            self._packed_params._packed_weight, indices, offsets, False, 0,
            self.pruned_weights, per_sample_weights, compressed_indices_mapping,
            self.include_last_offset)

    def _get_name(self):
        return "QuantizedEmbeddingBag"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        qweight, dtype = cls._observed_weight(mod, nn.EmbeddingBag)
        q = EmbeddingBag(mod.num_embeddings, mod.embedding_dim, max_norm=mod.max_norm,
                         norm_type=mod.norm_type, scale_grad_by_freq=mod.scale_grad_by_freq,
                         mode=mod.mode, sparse=mod.sparse,
                         include_last_offset=mod.include_last_offset, dtype=dtype)
        q.set_weight(qweight)
        return q
