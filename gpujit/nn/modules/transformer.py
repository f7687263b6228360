"""Transformer layers as torch.nn has them (torch.nn.modules.transformer):
TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer, TransformerDecoder,
Transformer — PyTorch's submodule names (self_attn, multihead_attn, linear1/2, norm1/2/3,
dropout/dropout1/2/3, layers.<i>, norm), initialisation and equations (post-norm, or
norm_first), so a PyTorch state_dict loads and gives PyTorch's outputs. Written with
registry ops through MultiheadAttention, so they run eagerly, record gradients, trace and
script."""
from __future__ import annotations

import copy
import warnings
from typing import Optional

import gpujit
from ...tensor import Tensor
from .. import functional as F, init
from ..module import Module
from .activation import MultiheadAttention, ReLU, GELU, _requires_grad
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder",
           "TransformerEncoderLayer", "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None):
    """A float (sz, sz) mask: -inf above the diagonal, 0 on and below it."""
    if dtype is None:
        dtype = gpujit.float32
    return gpujit.triu(gpujit.full((sz, sz), float("-inf"), dtype=dtype, device=device),
                       diagonal=1)


def _get_activation_fn(activation: str):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module, N):
    return ModuleList([copy.deepcopy(module) for _ in range(N)])


@F._from_source
def _detect_is_causal_mask(mask: Optional[Tensor], is_causal: Optional[bool] = None,
                           size: Optional[int] = None) -> bool:
    """is_causal when given; else whether mask is the square subsequent mask (of size)."""
    make_causal = is_causal is not None and is_causal
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.size(-2)
        causal = gpujit.full([sz, sz], float("-inf"), dtype=mask.dtype,
                             device=mask.device).triu(1)
        if list(mask.shape) == list(causal.shape):
            make_causal = bool((mask == causal).all())
        else:
            make_causal = False
    return make_causal


@F._from_source
def _get_seq_len(src: Tensor, batch_first: bool) -> Optional[int]:
    if src.is_nested:
        return None
    if src.dim() == 2:
        return src.size(0)
    return src.size(1) if batch_first else src.size(0)


def _relu_or_gelu(activation):
    if activation is F.relu or isinstance(activation, ReLU):
        return 1
    if activation is F.gelu or isinstance(activation, GELU):
        return 2
    return 0


def _fastpath_enabled() -> bool:
    from ...backends.mha import get_fastpath_enabled
    return get_fastpath_enabled()


def _has_hooks(layer) -> bool:
    return any(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in layer.modules())


class TransformerEncoderLayer(Module):
    """self-attention then feed-forward, each with a residual connection and LayerNorm
    (after the sum; before the block with norm_first)."""
    __constants__ = ["norm_first"]

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        kw = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        self.activation_relu_or_gelu = _relu_or_gelu(activation)
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Optional[Tensor] = None,
                src_key_padding_mask: Optional[Tensor] = None,
                is_causal: bool = False) -> Tensor:
        """Runs the forward pass."""
        src_key_padding_mask = F._canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                                 F._none_or_dtype(src_mask), "src_mask",
                                                 src.dtype)
        src_mask = F._canonical_mask(src_mask, "src_mask", None, "", src.dtype, False)
        if src.is_nested:
            fast = self._nested_fast_path(src, src_mask, src_key_padding_mask)
            if fast is not None:
                return fast
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _nested_fast_path(self, src: Tensor, src_mask: Optional[Tensor],
                          src_key_padding_mask: Optional[Tensor]) -> Optional[Tensor]:
        """forward's fast path of a nested src, eager and scripted, as PyTorch's layer takes
        it (aten::_transformer_encoder_layer_fwd, whose nested kernel is gpujit/nested/
        _nn.py's), or None when it does not (the Python path then runs, whose attention
        refuses the nested input in PyTorch's words). Scripted, the switch reads True and
        hooks are not looked at, as PyTorch's."""
        fast_path_enabled = True
        python_only = False
        if not gpujit.jit.is_scripting():
            fast_path_enabled = _fastpath_enabled()
            # (hooks, or torch's jagged layout, a __torch_function__ subclass)
            python_only = _has_hooks(self) or src.layout is gpujit.jagged
        sa = self.self_attn
        in_proj_weight = sa.in_proj_weight
        in_proj_bias = sa.in_proj_bias
        if not fast_path_enabled or src.dim() != 3 or self.training or not sa.batch_first or \
                in_proj_bias is None or in_proj_weight is None or \
                not sa._qkv_same_embed_dim or self.activation_relu_or_gelu == 0 or \
                self.norm1.eps != self.norm2.eps or src_key_padding_mask is not None or \
                src_mask is not None or sa.num_heads % 2 == 1 or \
                gpujit.is_autocast_enabled() or python_only:
            return None
        norm1_weight, norm1_bias = self.norm1.weight, self.norm1.bias
        norm2_weight, norm2_bias = self.norm2.weight, self.norm2.bias
        linear1_bias, linear2_bias = self.linear1.bias, self.linear2.bias
        if norm1_weight is None or norm1_bias is None or norm2_weight is None or \
                norm2_bias is None:
            return None
        if gpujit.is_grad_enabled() and (
                src.requires_grad or in_proj_weight.requires_grad or
                in_proj_bias.requires_grad or sa.out_proj.weight.requires_grad or
                _requires_grad(sa.out_proj.bias) or norm1_weight.requires_grad or
                norm1_bias.requires_grad or norm2_weight.requires_grad or
                norm2_bias.requires_grad or self.linear1.weight.requires_grad or
                _requires_grad(linear1_bias) or self.linear2.weight.requires_grad or
                _requires_grad(linear2_bias)):
            return None
        return gpujit._transformer_encoder_layer_fwd(
            src, sa.embed_dim, sa.num_heads, in_proj_weight, in_proj_bias,
            sa.out_proj.weight, sa.out_proj.bias, self.activation_relu_or_gelu == 2,
            self.norm_first, self.norm1.eps, norm1_weight, norm1_bias, norm2_weight,
            norm2_bias, self.linear1.weight, linear1_bias, self.linear2.weight,
            linear2_bias, None, None)

    def _sa_block(self, x: Tensor, attn_mask: Optional[Tensor],
                  key_padding_mask: Optional[Tensor], is_causal: bool = False) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """self-attention, attention over memory, feed-forward; each with a residual
    connection and LayerNorm (norm_first: before the block)."""
    __constants__ = ["norm_first"]

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        kw = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        self.activation = activation

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Optional[Tensor] = None,
                memory_mask: Optional[Tensor] = None,
                tgt_key_padding_mask: Optional[Tensor] = None,
                memory_key_padding_mask: Optional[Tensor] = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        """Runs the forward pass."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask,
                                              tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask,
                                               memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Optional[Tensor],
                  key_padding_mask: Optional[Tensor], is_causal: bool = False) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Optional[Tensor],
                   key_padding_mask: Optional[Tensor], is_causal: bool = False) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


def _why_not_sparsity_fast_path(layer):
    """PyTorch's reason (a string, "" when none) for TransformerEncoder not to use nested
    tensors with this layer."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True"
                "(use batch_first for better inference performance)")
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer, then norm (when given)."""
    __constants__ = ["use_nested_tensor", "mask_check"]

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_not_sparsity_fast_path(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src: Tensor, mask: Optional[Tensor] = None,
                src_key_padding_mask: Optional[Tensor] = None,
                is_causal: Optional[bool] = None) -> Tensor:
        """Runs the forward pass."""
        src_key_padding_mask = F._canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                                 F._none_or_dtype(mask), "mask", src.dtype)
        mask = F._canonical_mask(mask, "mask", None, "", src.dtype, False)
        output = src
        # PyTorch's inference fast path (eval, batch_first, a left-aligned padding mask, no
        # gradient recorded) runs on nested tensors: padded positions come out as zeros
        padded: Optional[Tensor] = None
        if src.is_nested and src_key_padding_mask is not None and self.use_nested_tensor \
                and self.mask_check and not self.layers[0].training and src.dim() == 3:
            # (PyTorch's mask check reads the nested src: its NotImplementedError for
            # aten::_nested_tensor_from_mask_left_aligned)
            gpujit._nested_tensor_from_mask_left_aligned(src,
                                                         src_key_padding_mask.logical_not())
        if self.use_nested_tensor and not self.training and src.dim() == 3 and \
                src_key_padding_mask is not None and mask is None:
            keep = src_key_padding_mask == 0
            if not self.mask_check or \
                    not bool((keep[:, 1:] & keep[:, :-1].logical_not()).any()):
                padded = keep.logical_not()
        seq_len = _get_seq_len(src, self.layers[0].self_attn.batch_first)
        causal = _detect_is_causal_mask(mask, is_causal, seq_len)
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=causal,
                         src_key_padding_mask=src_key_padding_mask)
        if padded is not None and not (gpujit.is_grad_enabled() and output.requires_grad):
            output = output.masked_fill(padded.unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """num_layers copies of decoder_layer, then norm (when given)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Optional[Tensor] = None,
                memory_mask: Optional[Tensor] = None,
                tgt_key_padding_mask: Optional[Tensor] = None,
                memory_key_padding_mask: Optional[Tensor] = None,
                tgt_is_causal: Optional[bool] = None,
                memory_is_causal: bool = False) -> Tensor:
        """Runs the forward pass."""
        output = tgt
        seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
        causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder (TransformerEncoder) and a decoder (TransformerDecoder) with final
    LayerNorms; weights with more than one dimension xavier-uniform initialised."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False,
                 norm_first=False, bias=True, device=None, dtype=None):
        kw = {"device": device, "dtype": dtype}
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                            activation, layer_norm_eps, batch_first,
                                            norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout,
                                            activation, layer_norm_eps, batch_first,
                                            norm_first, bias, **kw)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Optional[Tensor] = None,
                tgt_mask: Optional[Tensor] = None, memory_mask: Optional[Tensor] = None,
                src_key_padding_mask: Optional[Tensor] = None,
                tgt_key_padding_mask: Optional[Tensor] = None,
                memory_key_padding_mask: Optional[Tensor] = None,
                src_is_causal: Optional[bool] = None, tgt_is_causal: Optional[bool] = None,
                memory_is_causal: bool = False) -> Tensor:
        """Runs the forward pass."""
        is_batched = src.dim() == 3
        if not self.batch_first and src.size(1) != tgt.size(1) and is_batched:
            raise RuntimeError("the batch number of src and tgt must be equal")
        elif self.batch_first and src.size(0) != tgt.size(0) and is_batched:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.size(-1) != self.d_model or tgt.size(-1) != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) mask: -inf above the diagonal (future positions), 0 elsewhere."""
        return _generate_square_subsequent_mask(sz, dtype=dtype, device=device)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
