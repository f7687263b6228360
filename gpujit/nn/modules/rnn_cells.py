"""Recurrent cells as torch.nn has them: RNNCellBase, RNNCell, GRUCell, LSTMCell — one time
step of PyTorch's equations, its parameter names (weight_ih, weight_hh, bias_ih, bias_hh)
and initialisation (U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))). Written with registry
ops (linear, sigmoid, tanh, chunk), so they run eagerly, record gradients, trace and
script. Split from `rnn.py` (the multi-layer RNN, LSTM, GRU), which re-exports them."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import gpujit
from ...tensor import Tensor
from .. import functional as F, init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RNNCellBase", "RNNCell", "GRUCell", "LSTMCell"]


class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(gpujit.empty((gates * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(gpujit.empty((gates * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(gpujit.empty(gates * hidden_size, **kw))
            self.bias_hh = Parameter(gpujit.empty(gates * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias_ih is not None else s + ", bias=False"


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (nonlinearity="relu": relu)."""
    __constants__ = ["input_size", "hidden_size", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        if hx is None:
            hx = gpujit.zeros(list(input.shape[:-1]) + [self.hidden_size], dtype=input.dtype,
                              device=input.device)
        pre = F.linear(input, self.weight_ih, self.bias_ih) + \
            F.linear(hx, self.weight_hh, self.bias_hh)
        if self.nonlinearity == "tanh":
            return gpujit.tanh(pre)
        return gpujit.relu(pre)


class GRUCell(RNNCellBase):
    """r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        if hx is None:
            hx = gpujit.zeros(list(input.shape[:-1]) + [self.hidden_size], dtype=input.dtype,
                              device=input.device)
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        gh = F.linear(hx, self.weight_hh, self.bias_hh)
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r = gpujit.sigmoid(i_r + h_r)
        z = gpujit.sigmoid(i_z + h_z)
        n = gpujit.tanh(i_n + r * h_n)
        return (1 - z) * n + z * hx


class LSTMCell(RNNCellBase):
    """i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh); c' = σ(f) * c + σ(i) * tanh(g);
    h' = σ(o) * tanh(c'). Returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor,
                hx: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, Tensor]:
        if hx is None:
            zeros = gpujit.zeros(list(input.shape[:-1]) + [self.hidden_size], dtype=input.dtype,
                                 device=input.device)
            h, c = zeros, zeros
        else:
            h, c = hx
        gates = F.linear(input, self.weight_ih, self.bias_ih) + \
            F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = gates.chunk(4, -1)
        c2 = gpujit.sigmoid(f) * c + gpujit.sigmoid(i) * gpujit.tanh(g)
        h2 = gpujit.sigmoid(o) * gpujit.tanh(c2)
        return h2, c2
