"""ATen's low-level recurrent cells at torch.*, with their weights passed explicitly
(torch.rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell, as nn.RNNCell calls them in
PyTorch), composed of registry ops (`_from_source`: scripted code compiles them; autograd
follows their ops). The flat-weights layers (torch.lstm, gru, rnn_tanh, rnn_relu) are
registry ops: ops/nn_rnn.py.
"""
from typing import List, Optional, Tuple

import gpujit as _gpujit
from gpujit.tensor import Tensor
from . import functional as F

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


def _from_source(fn):
    fn.__gpujit_script_source__ = True
    return fn


# ---------------------------------------------------------------------- cells

@_from_source
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
                  b_hh: Optional[Tensor] = None):
    """h' = tanh(x w_ih^T + b_ih + h w_hh^T + b_hh)."""
    return _gpujit.tanh(F.linear(input, w_ih, b_ih) + F.linear(hx, w_hh, b_hh))


@_from_source
def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
                  b_hh: Optional[Tensor] = None):
    """h' = relu(x w_ih^T + b_ih + h w_hh^T + b_hh)."""
    return _gpujit.relu(F.linear(input, w_ih, b_ih) + F.linear(hx, w_hh, b_hh))


@_from_source
def lstm_cell(input, hx: List[Tensor], w_ih, w_hh, b_ih: Optional[Tensor] = None,
              b_hh: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """(h', c') from hx = [h, c]; gates i, f, g, o in that order."""
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    gates = F.linear(input, w_ih, b_ih) + F.linear(hx[0], w_hh, b_hh)
    chunks = gates.chunk(4, 1 if gates.dim() > 1 else 0)
    c2 = _gpujit.sigmoid(chunks[1]) * hx[1] + \
        _gpujit.sigmoid(chunks[0]) * _gpujit.tanh(chunks[2])
    h2 = _gpujit.sigmoid(chunks[3]) * _gpujit.tanh(c2)
    return h2, c2


@_from_source
def gru_cell(input, hx, w_ih, w_hh, b_ih: Optional[Tensor] = None,
             b_hh: Optional[Tensor] = None):
    """h' = (1 - z) * n + z * h; gates r, z, n in that order."""
    gi = F.linear(input, w_ih, b_ih)
    gh = F.linear(hx, w_hh, b_hh)
    d = 1 if gi.dim() > 1 else 0
    i = gi.chunk(3, d)
    h = gh.chunk(3, d)
    r = _gpujit.sigmoid(i[0] + h[0])
    z = _gpujit.sigmoid(i[1] + h[1])
    n = _gpujit.tanh(i[2] + r * h[2])
    return (1 - z) * n + z * hx
