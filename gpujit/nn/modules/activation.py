"""Activation layers (torch.nn.modules.activation): each calls its nn.functional twin."""
from __future__ import annotations

from typing import Optional, Tuple

import gpujit

from .. import functional as F, init as _init
from ..module import Module
from ..._frames import warn_at_user_frame
from ..parameter import Parameter
from .linear import Linear as _Linear

__all__ = ["Threshold", "ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU",
           "GELU", "SiLU", "Mish", "Softplus", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh",
           "Softmax", "Softmin", "LogSoftmax", "Hardshrink", "Softshrink", "Tanhshrink", "Softsign",
           "LogSigmoid", "GLU", "PReLU", "MultiheadAttention"]


def _inplace_repr(inplace, lead=""):
    return lead + "inplace=True" if inplace else ""


class Threshold(Module):
    """y = x if x > threshold else value."""
    __constants__ = ["threshold", "value", "inplace"]

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_repr(self.inplace, ', ')}"


class ReLU(Module):
    __constants__ = ["inplace"]

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Hardtanh(Module):
    """Clamp to [min_val, max_val]."""
    __constants__ = ["min_val", "max_val", "inplace"]

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        # (PyTorch's deprecated spellings, with its FutureWarning)
        if min_value is not None:
            warn_at_user_frame("keyword argument `min_value` is deprecated and renamed to "
                               "`min_val`", FutureWarning)
            min_val = min_value
        if max_value is not None:
            warn_at_user_frame("keyword argument `max_value` is deprecated and renamed to "
                               "`max_val`", FutureWarning)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f"max_val ({self.max_val}) must be greater than min_val "
                                 f"({self.min_val})")

    def forward(self, input):
        """Runs the forward pass."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                f"{_inplace_repr(self.inplace, ', ')}")


class ReLU6(Hardtanh):
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    __constants__ = ["inplace", "negative_slope"]

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_repr(self.inplace, ', ')}"


class RReLU(Module):
    __constants__ = ["lower", "upper", "inplace"]

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_repr(self.inplace, ', ')}"


class ELU(Module):
    __constants__ = ["alpha", "inplace"]

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_repr(self.inplace, ', ')}"


class CELU(Module):
    __constants__ = ["alpha", "inplace"]

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_repr(self.inplace, ', ')}"


class SELU(Module):
    __constants__ = ["inplace"]

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class GELU(Module):
    """approximate='none' (erf form) or 'tanh'."""
    __constants__ = ["approximate"]

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """Runs the forward pass."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    __constants__ = ["inplace"]

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Mish(Module):
    __constants__ = ["inplace"]

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.mish(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self.inplace)


class Softplus(Module):
    """1/beta * log(1 + exp(beta * x)), linear above `threshold`."""
    __constants__ = ["beta", "threshold"]

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        """Runs the forward pass."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardsigmoid(Module):
    __constants__ = ["inplace"]

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.hardsigmoid(input, self.inplace)


class Hardswish(Module):
    __constants__ = ["inplace"]

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """Runs the forward pass."""
        return F.hardswish(input, self.inplace)


class Sigmoid(Module):
    def forward(self, input):
        """Runs the forward pass."""
        return gpujit.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        """Runs the forward pass."""
        return gpujit.tanh(input)


# F.softmax's implicit-dim warning names the line that called the module
_MODULE_STACKLEVEL = 5


class Softmax(Module):
    __constants__ = ["dim"]

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input):
        """Runs the forward pass."""
        return F.softmax(input, self.dim, _stacklevel=_MODULE_STACKLEVEL)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Module):
    __constants__ = ["dim"]

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input):
        """Runs the forward pass."""
        return F.softmin(input, self.dim, _stacklevel=_MODULE_STACKLEVEL)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    __constants__ = ["dim"]

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input):
        """Runs the forward pass."""
        return F.log_softmax(input, self.dim, _stacklevel=_MODULE_STACKLEVEL)

    def extra_repr(self):
        return f"dim={self.dim}"


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""
    __constants__ = ["lambd"]

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        """Runs the forward pass."""
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""
    __constants__ = ["lambd"]

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        """Runs the forward pass."""
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, input):
        """Runs the forward pass."""
        return F.tanhshrink(input)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input):
        """Runs the forward pass."""
        return F.softsign(input)


class LogSigmoid(Module):
    """log(sigmoid(x))."""

    def forward(self, input):
        """Runs the forward pass."""
        return F.logsigmoid(input)


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along dim."""
    __constants__ = ["dim"]

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Runs the forward pass."""
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x >= 0, else weight * x: one learned slope (num_parameters=1) or one per
    channel (dim 1 of the input)."""
    __constants__ = ["num_parameters"]

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(gpujit.empty(num_parameters, **factory_kwargs))
        self.reset_parameters()

    def reset_parameters(self):
        _init.constant_(self.weight, self.init)

    def forward(self, input):
        """Runs the forward pass."""
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class NonDynamicallyQuantizableLinear(_Linear):
    """MultiheadAttention's out_proj (PyTorch's name for it; a Linear)."""


def _fastpath_enabled() -> bool:
    from ...backends.mha import get_fastpath_enabled
    return get_fastpath_enabled()


def _jagged(*tensors) -> bool:
    return any(t.layout is gpujit.jagged for t in tensors)


@F._from_source
def _requires_grad(t: Optional[gpujit.Tensor]) -> bool:
    return t is not None and t.requires_grad


class MultiheadAttention(Module):
    """Multi-head attention as torch.nn.MultiheadAttention: the same parameters
    (in_proj_weight/in_proj_bias or q/k/v_proj_weight when kdim/vdim differ, out_proj,
    bias_k/bias_v), initialisation and forward (F.multi_head_attention_forward)."""
    __constants__ = ["batch_first"]

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        kw = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(gpujit.empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(gpujit.empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(gpujit.empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(gpujit.empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(gpujit.empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(gpujit.empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(gpujit.empty((1, 1, embed_dim), **kw))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            _init.xavier_uniform_(self.in_proj_weight)
        else:
            _init.xavier_uniform_(self.q_proj_weight)
            _init.xavier_uniform_(self.k_proj_weight)
            _init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            _init.constant_(self.in_proj_bias, 0.0)
            _init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            _init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            _init.xavier_normal_(self.bias_v)

    def forward(self, query: gpujit.Tensor, key: gpujit.Tensor, value: gpujit.Tensor,
                key_padding_mask: Optional[gpujit.Tensor] = None, need_weights: bool = True,
                attn_mask: Optional[gpujit.Tensor] = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> Tuple[gpujit.Tensor, Optional[gpujit.Tensor]]:
        """Runs the forward pass."""
        if query.is_nested or key.is_nested or value.is_nested:
            return self._nested_forward(query, key, value, key_padding_mask, need_weights,
                                        attn_mask, average_attn_weights)
        is_batched = query.dim() == 3
        key_padding_mask = F._canonical_mask(key_padding_mask, "key_padding_mask",
                                             F._none_or_dtype(attn_mask), "attn_mask",
                                             query.dtype)
        attn_mask = F._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if self.batch_first and is_batched:
            if key is value:
                if query is key:
                    query = query.transpose(1, 0)
                    key = query
                    value = query
                else:
                    query = query.transpose(1, 0)
                    key = key.transpose(1, 0)
                    value = key
            else:
                query = query.transpose(1, 0)
                key = key.transpose(1, 0)
                value = value.transpose(1, 0)
        if not self._qkv_same_embed_dim:
            attn_output, attn_output_weights = F.multi_head_attention_forward(
                query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
                self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
                self.out_proj.weight, self.out_proj.bias, training=self.training,
                key_padding_mask=key_padding_mask, need_weights=need_weights,
                attn_mask=attn_mask, use_separate_proj_weight=True,
                q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
                v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
                is_causal=is_causal)
        else:
            attn_output, attn_output_weights = F.multi_head_attention_forward(
                query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
                self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
                self.out_proj.weight, self.out_proj.bias, training=self.training,
                key_padding_mask=key_padding_mask, need_weights=need_weights,
                attn_mask=attn_mask, average_attn_weights=average_attn_weights,
                is_causal=is_causal)
        if self.batch_first and is_batched:
            return attn_output.transpose(1, 0), attn_output_weights
        return attn_output, attn_output_weights

    def _nested_forward(self, query: gpujit.Tensor, key: gpujit.Tensor, value: gpujit.Tensor,
                        key_padding_mask: Optional[gpujit.Tensor], need_weights: bool,
                        attn_mask: Optional[gpujit.Tensor], average_attn_weights: bool
                        ) -> Tuple[gpujit.Tensor, Optional[gpujit.Tensor]]:
        """forward of a nested query, key or value, eager and scripted: PyTorch's fast path
        (aten::_native_multi_head_attention, whose nested kernel is gpujit/nested/_nn.py's)
        when its conditions hold, else its AssertionError naming the first that fails (its
        Python path takes no nested tensors). A scripted call takes the fast path with
        the switch off too, as PyTorch's (get_fastpath_enabled() is True when scripting)."""
        fast_path_enabled = True
        jagged = False
        if not gpujit.jit.is_scripting():
            fast_path_enabled = _fastpath_enabled()
            jagged = _jagged(query, key, value)
        in_proj_weight = self.in_proj_weight
        in_proj_bias = self.in_proj_bias
        why = ""
        if (attn_mask is not None and attn_mask.is_floating_point()) or \
                (key_padding_mask is not None and key_padding_mask.is_floating_point()):
            why = "floating-point masks are not supported for fast path."
        # (a reason below replaces that one, as in PyTorch's forward)
        if not fast_path_enabled:
            why = "torch.backends.mha.get_fastpath_enabled() was not True"
        elif query.dim() != 3:
            why = f"input not batched; expected query.dim() of 3 but got {query.dim()}"
        elif query is not key or key is not value:
            why = "non-self attention was used (query, key, and value are not the same Tensor)"
        elif in_proj_bias is not None and query.dtype != in_proj_bias.dtype:
            why = (f"dtypes of query ({query.dtype}) and self.in_proj_bias "
                   f"({in_proj_bias.dtype}) don't match")
        elif in_proj_weight is None:
            why = "in_proj_weight was None"
        elif query.dtype != in_proj_weight.dtype:
            why = (f"dtypes of query ({query.dtype}) and self.in_proj_weight "
                   f"({in_proj_weight.dtype}) don't match")
        elif self.training:
            why = "training is enabled"
        elif self.num_heads % 2 != 0:
            why = "self.num_heads is not even"
        elif not self.batch_first:
            why = "batch_first was not True"
        elif self.bias_k is not None:
            why = "self.bias_k was not None"
        elif self.bias_v is not None:
            why = "self.bias_v was not None"
        elif self.add_zero_attn:
            why = "add_zero_attn was enabled"
        elif not self._qkv_same_embed_dim:
            why = "_qkv_same_embed_dim was not True"
        elif query.is_nested and (key_padding_mask is not None or attn_mask is not None):
            why = ("supplying both src_key_padding_mask and src_mask at the same time "
                   "                                 is not supported with NestedTensor input")
        elif gpujit.is_autocast_enabled():
            why = "autocast is enabled"
        elif jagged:        # (torch's jagged layout is a __torch_function__ subclass)
            why = "some Tensor argument has_torch_function"
        elif gpujit.is_grad_enabled() and (
                query.requires_grad or key.requires_grad or value.requires_grad or
                _requires_grad(in_proj_weight) or _requires_grad(in_proj_bias) or
                self.out_proj.weight.requires_grad or _requires_grad(self.out_proj.bias)):
            why = ("grad is enabled and at least one of query or the input/output projection "
                   "weights or biases requires_grad")
        if why == "" and in_proj_bias is not None and in_proj_weight is not None:
            return gpujit._native_multi_head_attention(
                query, key, value, self.embed_dim, self.num_heads, in_proj_weight,
                in_proj_bias, self.out_proj.weight, self.out_proj.bias, None, need_weights,
                average_attn_weights, None)
        raise AssertionError("MultiheadAttention does not support NestedTensor outside of "
                             "its fast path. The fast path was not hit because " + why)
