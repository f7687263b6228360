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
from .. import _torch_rnn as _cells, init
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

    def _check_cell(self, input: Tensor, hx: Tensor, input_size: int, hidden_size: int,
                    label: int):
        """ATen's check_rnn_cell_forward_input / _hidden (input and hx 2-D by then)."""
        if not gpujit.jit.is_scripting():
            # (ATen's checks read the sizes in C++: a trace records none of them)
            _check_cell_sizes(input._data.shape, hx._data.shape, input_size, hidden_size,
                              label)
            return
        if input.size(1) != input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {input_size}")
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match "
                               f"hidden{label} batch size {hx.size(0)}")
        if hx.size(1) != hidden_size:
            raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got "
                               f"{hx.size(1)}, expected {hidden_size}")

    def _single_state(self, name: str, input: Tensor, hx: Optional[Tensor], input_size: int,
                      hidden_size: int) -> Tuple[Tensor, Tensor, bool]:
        """RNNCell / GRUCell's checks of PyTorch (1-D or 2-D input and hidden; sizes as ATen's
        cells check them): the 2-D input and hx, and whether the input was batched."""
        if input.dim() != 1 and input.dim() != 2:
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        if hx is not None:
            if hx.dim() != 1 and hx.dim() != 2:
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D "
                                 f"instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            h = gpujit.zeros(input.size(0), hidden_size, dtype=input.dtype, device=input.device)
        else:
            h = hx if is_batched else hx.unsqueeze(0)
        self._check_cell(input, h, input_size, hidden_size, 0)
        return input, h, is_batched

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias_ih is not None else s + ", bias=False"


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (nonlinearity="relu": relu)."""
    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        input, h, is_batched = self._single_state("RNNCell", input, hx, self.input_size,
                                             self.hidden_size)
        # (ATen's cells, as torch's module calls them: a trace records their ops)
        if self.nonlinearity == "tanh":
            out = _cells.rnn_tanh_cell(input, h, self.weight_ih, self.weight_hh,
                                       self.bias_ih, self.bias_hh)
        else:
            out = _cells.rnn_relu_cell(input, h, self.weight_ih, self.weight_hh,
                                       self.bias_ih, self.bias_hh)
        return out if is_batched else out.squeeze(0)


class GRUCell(RNNCellBase):
    """r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Optional[Tensor] = None) -> Tensor:
        input, h, is_batched = self._single_state("GRUCell", input, hx, self.input_size,
                                             self.hidden_size)
        out = _cells.gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih,
                              self.bias_hh)
        return out if is_batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh); c' = σ(f) * c + σ(i) * tanh(g);
    h' = σ(o) * tanh(c'). Returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor,
                hx: Optional[Tuple[Tensor, Tensor]] = None) -> Tuple[Tensor, Tensor]:
        if input.dim() != 1 and input.dim() != 2:
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        if hx is not None:
            if not gpujit.jit.is_scripting():
                # (torch's loop, each element: `'int' object is not iterable`; its
                # `value`, hx[1], names that value in a trace)
                for idx, value in enumerate(hx):
                    if value.dim() != 1 and value.dim() != 2:
                        raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, "
                                         f"got {value.dim()}D instead")
            else:
                for idx in range(2):
                    if hx[idx].dim() != 1 and hx[idx].dim() != 2:
                        raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, "
                                         f"got {hx[idx].dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        # (hx kept a tuple, as torch's forward keeps it: no local names its elements)
        if hx is None:
            zeros = gpujit.zeros(input.size(0), self.hidden_size, dtype=input.dtype,
                                 device=input.device)
            hx2 = (zeros, zeros)
        else:
            if not gpujit.jit.is_scripting():
                if is_batched:
                    _lstm_cell_hx_count(hx)
            hx2 = (hx[0], hx[1]) if is_batched else (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        self._check_cell(input, hx2[0], self.input_size, self.hidden_size, 0)
        self._check_cell(input, hx2[1], self.input_size, self.hidden_size, 1)
        h2, c2 = _cells.lstm_cell(input, [hx2[0], hx2[1]], self.weight_ih, self.weight_hh,
                                  self.bias_ih, self.bias_hh)
        if not is_batched:
            return h2.squeeze(0), c2.squeeze(0)
        return h2, c2


def _check_cell_sizes(isz, hsz, input_size, hidden_size, label):
    """RNNCellBase._check_cell's checks of plain sizes (eager and traced calls)."""
    if isz[1] != input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {isz[1]} expected "
                           f"{input_size}")
    if isz[0] != hsz[0]:
        raise RuntimeError(f"Input batch size {isz[0]} doesn't match hidden{label} batch "
                           f"size {hsz[0]}")
    if hsz[1] != hidden_size:
        raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {hsz[1]}, "
                           f"expected {hidden_size}")


def _lstm_cell_hx_count(hx):
    """lstm_cell's parser and check of a batched call's hx (PyTorch's words)."""
    if isinstance(hx, Tensor):
        raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, "
                        "not Tensor")
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
